# tests/e2e/lib.sh - a private Postfix on loopback plus portguard-policyd,
# driven by swaks. Sourced by tests/e2e/run.sh, tests/e2e/demo.sh,
# tests/pfmilter/run.sh and tests/bench/milter/run.sh.
#
# Everything lives in one directory under the build tree ($B/e2e-XXXXXX; in
# /run when the build tree is unfit, see t_sandbox_base in tests/lib/):
# Postfix config, queue, data directory, maillog, TLS key, sasldb, portguard's
# config, socket and log, swaks transcripts. The only system file touched is
# /etc/postfix/main.cf: `postfix -c DIR` works only for a DIR listed in its
# alternate_config_directories, so the test adds its own directory there (the
# file is created from Debian's template if missing) and removes the entry
# again at cleanup. The system Postfix is never started or stopped.
#
# Processes: Postfix is started and stopped with `postfix -c DIR start|stop`
# (its master PID is then awaited); portguard-policyd and rsyslogd are started
# in the background and stopped by PID. e2e_cleanup (EXIT trap) stops all of
# them, also when a test fails half way. Waiting, stopping, the sandbox and the
# test cases come from the shared library, tests/lib/.
#
# How the test MTA differs from the shipped conf/postfix snippets, on purpose:
#   - smtpd_tls_auth_only = no and smtpd_tls_security_level = may on the
#     submission ports: Postfix must let the bad cases (plaintext AUTH, mail
#     without TLS) through so that the test can prove portguard catches them.
#     The snippets turn Postfix's own protections on.
#   - the policy endpoint is unix:$DIR/policy (absolute; the test smtpd is not
#     chrooted) instead of unix:portguard/policy, and default_action=DEFER
#     instead of DEFER_IF_PERMIT, so that a dead portguard always shows up as a
#     4xx in the test, never as an accepted or a Postfix-rejected message.
#   Otherwise smtpd_relay_restrictions is taken verbatim from
#   conf/postfix/main.cf.snippet (see pf_relay_restrictions); port $P_SHIPPED
#   keeps the snippet's DEFER_IF_PERMIT to test what its comments promise.
#   - smtpd_peername_lookup = no: no DNS on the test machine.

# shellcheck disable=SC2034 # T_*, PG_RC and the like are read by the callers and tests/lib/

# The shared library; every user of this file sources it from the top of the
# source tree.
# shellcheck source=/dev/null
. tests/lib/common.sh
# shellcheck source=/dev/null
. tests/lib/case.sh

# Ports (127.0.0.1 only) and the role each plays in the test config.
P_RELAY=10025  # relay (MX role), TLS optional
P_SUB=10587    # STARTTLS submission (Postfix allows plaintext for the test)
P_SMTPS=10465  # implicit TLS submission, Postfix wraps it
P_BARE=10466   # implicit-TLS role in portguard, but Postfix does NOT wrap it
P_TLS13=10588  # STARTTLS submission with min_tls_version = TLSv1.3
P_CIPHER=10589 # STARTTLS submission that accepts only CHACHA20 (TLS <= 1.2)
P_LABEL=12525  # matched by policy_context "noauth" (relay role, AUTH forbidden)
P_UNKNOWN=12526 # in no portguard port entry: default_role applies
P_SHIPPED=10026 # relay, hooked up exactly as main.cf.snippet (DEFER_IF_PERMIT)
P_FAR=10027     # relay whose smtpd and cleanup append myorigin = $FAR_ORIGIN (not local)
E2E_PORTS="$P_RELAY $P_SUB $P_SMTPS $P_BARE $P_TLS13 $P_CIPHER $P_LABEL $P_UNKNOWN $P_SHIPPED $P_FAR"
FAR_ORIGIN=far-origin.example

E2E_USER=alice
E2E_PASS=wonderland-e2e
E2E_DOMAIN=example.test

E2E_D=
PG_PID=
SYSLOG_PID=
PF_STARTED=0
PF_REGISTERED=0

# e2e_init TOP B: absolute paths, the test directory, the EXIT trap.
e2e_init() {
	E2E_TOP=$1
	mkdir -p "$2" || exit 2
	E2E_B=$(cd "$2" && pwd)
	# smtpd runs as user postfix and portguard as nobody: both must be able to
	# traverse into the directory that holds the policy socket and Postfix's
	# data directory (t_sandbox_base).
	_base=$(t_sandbox_base "$E2E_B") || exit 2
	E2E_D=$(mktemp -d "$_base/e2e-XXXXXX") || exit 2
	chmod 0755 "$E2E_D"
	PF=$E2E_D/postfix
	PF_Q=$E2E_D/queue
	PF_LOG=$E2E_D/maillog
	PG_BIN=$E2E_B/portguard-policyd
	PG_CONF=$E2E_D/portguard.conf
	PG_LOG=$E2E_D/portguard.log
	PG_SOCK=$E2E_D/policy
	T_TOP=$E2E_TOP
	T_DIR=$E2E_D/swaks
	mkdir -p "$T_DIR"
	: >"$PG_LOG"
	chmod 0644 "$PG_LOG"
	trap e2e_cleanup EXIT
	# Signals (also SIGPIPE, e.g. "run.sh | head") exit through the EXIT trap
	# so that Postfix and portguard are stopped.
	trap 'exit 130' INT TERM HUP PIPE
}

e2e_cleanup() {
	_rc=$?
	trap - EXIT
	trap '' PIPE
	pg_stop >/dev/null 2>&1
	syslog_stop >/dev/null 2>&1
	pf_stop >/dev/null 2>&1
	pf_unregister >/dev/null 2>&1
	if [ -n "$E2E_D" ] && [ -d "$E2E_D" ]; then
		if [ "$T_FAILED" = 0 ] && [ "${E2E_FAILED:-0}" = 0 ] && [ "${E2E_KEEP:-0}" = 0 ]; then
			t_sandbox_remove "$E2E_D"
		else
			echo "e2e: logs kept in $E2E_D"
		fi
	fi
	exit "$_rc"
}

# e2e_setup_fail MSG: the harness itself could not be set up.
e2e_setup_fail() {
	echo "FAIL: e2e setup: $*"
	T_FAILED=$((T_FAILED + 1))
	exit 1
}

# ---------------------------------------------------------------- Postfix

# alternate_config_directories: add our config dir; drop entries left behind
# by earlier runs of this harness whose directory no longer exists.
pf_register() {
	_main=/etc/postfix/main.cf
	if [ ! -f "$_main" ]; then
		cp /usr/share/postfix/main.cf.debian "$_main" || return 1
	fi
	_list=
	for _d in $(postconf -c /etc/postfix -h alternate_config_directories | tr ',' ' '); do
		case $_d in
		*/e2e-??????/postfix) [ -d "$_d" ] || continue ;;
		esac
		[ "$_d" = "$PF" ] && continue
		_list="$_list${_list:+, }$_d"
	done
	postconf -c /etc/postfix -e "alternate_config_directories = $_list${_list:+, }$PF" || return 1
	PF_REGISTERED=1
}

pf_unregister() {
	[ "$PF_REGISTERED" = 1 ] || return 0
	_list=
	for _d in $(postconf -c /etc/postfix -h alternate_config_directories | tr ',' ' '); do
		[ "$_d" = "$PF" ] && continue
		_list="$_list${_list:+, }$_d"
	done
	postconf -c /etc/postfix -e "alternate_config_directories = $_list"
	PF_REGISTERED=0
}

# The shipped smtpd_relay_restrictions value, joined into one line, with the
# socket path made absolute, and with default_action=DEFER unless $1 is
# "shipped". Fails unless the result starts with the policy check.
pf_relay_restrictions() {
	_v=$(awk '
		/^smtpd_relay_restrictions[ \t]*=/ { on = 1; sub(/^[^=]*=[ \t]*/, ""); print; next }
		on && /^[ \t]*#/ { next }
		on && /^[ \t]+[^ \t]/ { print; next }
		on && /^[ \t]*$/ { next }
		{ on = 0 }' "$E2E_TOP/conf/postfix/main.cf.snippet" | tr '\n\t' '  ' |
		sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//')
	_v2=$(printf '%s' "$_v" | sed -e "s#unix:portguard/policy#unix:$PG_SOCK#")
	_da=DEFER_IF_PERMIT
	if [ "${1:-}" != shipped ]; then
		_v2=$(printf '%s' "$_v2" | sed -e 's#default_action=DEFER_IF_PERMIT#default_action=DEFER#')
		_da=DEFER
	fi
	case $_v2 in
	"check_policy_service { unix:$PG_SOCK, default_action=$_da }"*) printf '%s\n' "$_v2" ;;
	*) return 1 ;;
	esac
}

# pf_create: config dir, queue, TLS key and cert, sasldb with one user.
# pf_main_cf_base: the main.cf lines every private Postfix of the tests
# shares (paths under the test directory, names, loopback only, discard
# delivery, no alias or local-recipient lookups). Callers add the rest.
# Mail that leaves the host goes through a transport with a name of its own,
# "outbound" (a discard service logging as postfix/outbound), local mail
# through "discard" (postfix/discard): the delivery line tells where Postfix
# routed a message, and no check may depend on the transport's name.
pf_main_cf_base() {
	cat <<EOF
compatibility_level = 3.6
queue_directory = $PF_Q
data_directory = $E2E_D/data
maillog_file = $PF_LOG
maillog_file_prefixes = $E2E_D
myhostname = mx.$E2E_DOMAIN
mydomain = $E2E_DOMAIN
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_peername_lookup = no
biff = no
default_transport = outbound
relay_transport = outbound
local_transport = discard
alias_maps =
alias_database =
local_recipient_maps =
EOF
}

# pf_main_cf_clients: TLS (the test's key and certificate, TLS optional) and
# SASL (Cyrus, sasldb) for the Postfix layers' clients. smtpd_tls_auth_only =
# no: the test MTA lets plaintext AUTH through so that the test can prove
# that portguard rejects it and raises the alarm (the snippets say yes).
pf_main_cf_clients() {
	cat <<EOF
smtpd_tls_cert_file = $E2E_D/cert.pem
smtpd_tls_key_file = $E2E_D/key.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_auth_only = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $PF/sasl
smtpd_sasl_local_domain = $E2E_DOMAIN
EOF
}

pf_create() {
	mkdir -p "$PF/sasl" "$PF_Q" "$E2E_D/data" || return 1
	chown postfix "$E2E_D/data"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mx.$E2E_DOMAIN" \
		-keyout "$E2E_D/key.pem" -out "$E2E_D/cert.pem" >"$E2E_D/openssl.out" 2>&1 || return 1
	chmod 0600 "$E2E_D/key.pem"
	printf '%s' "$E2E_PASS" |
		saslpasswd2 -p -c -f "$E2E_D/sasldb2" -u "$E2E_DOMAIN" "$E2E_USER" || return 1
	chown root:postfix "$E2E_D/sasldb2"
	chmod 0640 "$E2E_D/sasldb2"
	# Debian's Postfix reads SASL's smtpd.conf from $config_directory/sasl
	# (it does not honour another cyrus_sasl_config_path), so keep it there.
	cat >"$PF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $E2E_D/sasldb2
EOF
	_rr=$(pf_relay_restrictions) && _rs=$(pf_relay_restrictions shipped) || {
		echo "conf/postfix/main.cf.snippet: no usable smtpd_relay_restrictions" >&2
		return 1
	}
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/e2e/lib.sh); see there for how it differs
# from conf/postfix/*.snippet.
$(pf_main_cf_base)
mydestination = $E2E_DOMAIN, mx.$E2E_DOMAIN, mail.$E2E_DOMAIN, localhost
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP portguard-e2e
$(pf_main_cf_clients)
smtpd_delay_reject = yes
smtpd_relay_restrictions = $_rr
# For port $P_SHIPPED: the snippet's line with only the socket path changed.
portguard_shipped_relay_restrictions = $_rs
EOF
	{
		pf_case_smtpds smtpd_policy_service_policy_context=noauth
		pf_smtpd "$P_UNKNOWN" unknown
		# shellcheck disable=SC2016 # a Postfix $parameter, not a shell one
		pf_smtpd "$P_SHIPPED" shipped 'smtpd_relay_restrictions=$portguard_shipped_relay_restrictions'
		pf_internal_services
	} >"$PF/master.cf"
}

# pf_smtpd PORT NAME [PARAM=VALUE...]: a master.cf smtpd service on
# 127.0.0.1:PORT, chroot off, logging as postfix/NAME, with the -o overrides.
pf_smtpd() {
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/%s\n' "$1" "$2"
	shift 2
	for _o in "$@"; do
		printf '  -o %s\n' "$_o"
	done
}

# pf_case_smtpds LABEL_PARAM=VALUE: the smtpd services for the case table's
# port kinds (the Postfix layers share them); LABEL_PARAM=VALUE gives the
# label port its service label. Port $P_FAR (the "far" kind): an smtpd whose
# address rewriting (its own and its cleanup's) appends myorigin =
# $FAR_ORIGIN, a domain that is not local: there Postfix sends <user> off the
# host.
pf_case_smtpds() {
	echo "# service type  private unpriv  chroot  wakeup  maxproc command + args"
	pf_smtpd "$P_RELAY" relay
	pf_smtpd "$P_SUB" submission
	pf_smtpd "$P_SMTPS" submissions smtpd_tls_wrappermode=yes
	pf_smtpd "$P_BARE" unwrapped
	pf_smtpd "$P_TLS13" tls13
	pf_smtpd "$P_CIPHER" cipher
	pf_smtpd "$P_LABEL" label "$1"
	pf_smtpd "$P_FAR" far rewrite_service_name=rewrite_far cleanup_service_name=cleanup_far
	cat <<EOF
rewrite_far unix - - n - - trivial-rewrite
  -o myorigin=$FAR_ORIGIN
cleanup_far unix n - n - 0 cleanup
  -o rewrite_service_name=rewrite_far
EOF
}

pf_all_listening() {
	# shellcheck disable=SC2086 # a list of port numbers
	t_all_listening $E2E_PORTS
}

pf_start() {
	# shellcheck disable=SC2086 # a list of port numbers
	t_ports_free $E2E_PORTS || return 1
	pf_register || return 1
	if ! postfix -c "$PF" start >"$E2E_D/postfix-start.out" 2>&1; then
		postfix -c "$PF" check >>"$E2E_D/postfix-start.out" 2>&1
		cat "$E2E_D/postfix-start.out" >&2
		[ -f "$PF_LOG" ] && tail -n 20 "$PF_LOG" >&2
		return 1
	fi
	PF_STARTED=1
	if ! t_wait 150 pf_all_listening; then
		echo "postfix did not listen on all of: $E2E_PORTS" >&2
		[ -f "$PF_LOG" ] && tail -n 20 "$PF_LOG" >&2
		return 1
	fi
}

pf_stop() {
	[ "$PF_STARTED" = 1 ] || return 0
	_mpid=$(awk '{ print $1; exit }' "$PF_Q/pid/master.pid" 2>/dev/null)
	postfix -c "$PF" stop >/dev/null 2>&1
	if [ -n "$_mpid" ]; then
		t_wait 100 t_gone "$_mpid" || t_stop_pid "$_mpid" 20
	fi
	# An smtpd child that still ends a session holds the listening sockets a
	# moment after the master is gone (CI: "port ... is already in use" at
	# the next start); wait, bounded, until they are closed.
	# shellcheck disable=SC2086 # a list of port numbers
	t_wait 100 t_none_listening $E2E_PORTS
	PF_STARTED=0
}

# ---------------------------------------------------------------- portguard

# pf_internal_services: Postfix's internal master.cf services, chroot off
# (column 5 "n"), appended after a layer's own smtpd lines; one copy for the
# e2e, pfmilter and milter-bench Postfix instances.
pf_internal_services() {
	cat <<EOF
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
outbound  unix  -       -       n       -       -       discard
  -o syslog_name=postfix/outbound
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pg_conf_head MODE LEVEL [STATE_DIR]: the settings every portguard.conf of
# the Postfix layers (e2e, pfmilter, demo, crash) shares. portguard runs as
# "nobody" (it starts as root, binds the socket, then drops privileges, as in
# production) and makes the socket group postfix, mode 0660, so that smtpd
# (user postfix) can connect. The counters' state file goes to STATE_DIR;
# without one, none is kept (never the host's /run/portguard). The caller
# adds ports and the daemon's listen block.
pg_conf_head() {
	cat <<EOF
state_directory = "${3:-}";
mode = "$1";
on_error = "tempfail";
default_role = "relay";
user = "nobody";
group = "postfix";
log = { facility = "mail"; level = "$2"; stats_interval = 0; };
relay = {
  local_domains = [ "$E2E_DOMAIN", ".$E2E_DOMAIN" ];
  trusted_networks = [ "127.0.0.1/32" ];
  authenticated_may_relay = true;
  origin_domain = "${PG_ORIGIN:-mx.$E2E_DOMAIN}";
};
EOF
}

# pg_write_conf MODE: the test's portguard.conf for portguard-policyd. The
# file stays readable by nobody so that a SIGHUP reload after the drop can
# read it.
pg_write_conf() {
	{
		echo "# tests/e2e portguard.conf (written by tests/e2e/lib.sh)"
		pg_conf_head "$1" info
		pg_case_ports
		echo "policyd = { listen = [ \"unix:$PG_SOCK\" ]; socket_mode = \"0660\"; };"
	} >"$PG_CONF.tmp"
	chmod 0644 "$PG_CONF.tmp"
	mv -f "$PG_CONF.tmp" "$PG_CONF"
}

# pg_case_ports: the ports list for the case table's port kinds, as the
# Postfix layers share it ($P_SHIPPED only when the layer has that port).
pg_case_ports() {
	echo "ports = ("
	echo "  { port = $P_RELAY;  role = \"relay\"; },"
	[ -z "${P_SHIPPED:-}" ] || echo "  { port = $P_SHIPPED; role = \"relay\"; },"
	echo "  { port = $P_FAR;    role = \"relay\"; },"
	cat <<EOF
  { port = $P_SUB;    role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = $P_SMTPS;  role = "submission"; tls = "implicit"; },
  { port = $P_BARE;   role = "submission"; tls = "implicit"; },
  { port = $P_TLS13;  role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.3"; },
  { port = $P_CIPHER; role = "submission"; tls = "starttls"; ciphers = "CHACHA20"; },
  # The number says submission, the service label says relay without AUTH:
  # the label must win.
  { port = $P_LABEL;  role = "submission"; },
  { name = "noauth";  role = "relay"; auth = "forbidden"; }
);
EOF
}

# ---------------------------------------------------------------- case driver
# The Postfix layers' part of the case table's driver (tests/lib/case.sh):
# port kinds map to the P_* ports above (a layer without $P_SHIPPED leaves
# those rows out); $MODE is the mode every port is in; the label port's log
# lines carry the port ERE $DRV_LABEL_PORT (default: its number) and its stats
# are keyed by the label, noauth. Recipients are unique per mode and case
# (and $RCPT_TAG, which a layer sets to run rows again in the same mode).
drv_at() {
	T_MODE=$MODE
	T_ROLE=submission
	case $1 in
	sub) T_CPORT=$P_SUB ;;
	tls13) T_CPORT=$P_TLS13 ;;
	cipher) T_CPORT=$P_CIPHER ;;
	smtps) T_CPORT=$P_SMTPS ;;
	bare) T_CPORT=$P_BARE ;;
	relay) T_CPORT=$P_RELAY T_ROLE=relay ;;
	shipped) T_CPORT=${P_SHIPPED:-} T_ROLE=relay ;;
	label) T_CPORT=$P_LABEL T_ROLE=relay ;;
	far) T_CPORT=$P_FAR T_ROLE=relay ;;
	*) T_CPORT= ;;
	esac
	# the domain Postfix appends to an unqualified recipient on this port
	T_ORIGIN=mx.$E2E_DOMAIN
	[ "$1" = far ] && T_ORIGIN=$FAR_ORIGIN
	[ -n "$T_CPORT" ] || return 1
	T_PORT=$T_CPORT
	T_KEY=$T_CPORT
	if [ "$1" = label ]; then
		T_PORT=${DRV_LABEL_PORT:-$T_CPORT}
		T_KEY=noauth
	fi
	return 0
}

drv_rcpt() {
	case $1 in
	remote) echo "u-$MODE${RCPT_TAG:-}-$2@remote.example" ;;
	local) echo "u-$MODE${RCPT_TAG:-}-$2@$E2E_DOMAIN" ;;
	sub) echo "u-$MODE${RCPT_TAG:-}-$2@mail.$E2E_DOMAIN" ;;
	srcroute) echo "\"u-$MODE${RCPT_TAG:-}-$2@remote.example\"@$E2E_DOMAIN" ;;
	percent) echo "u-$MODE${RCPT_TAG:-}-$2%remote.example@$E2E_DOMAIN" ;;
	unq) echo "u-$MODE${RCPT_TAG:-}-$2" ;;
	unqdot) echo "u-$MODE${RCPT_TAG:-}-$2." ;;
	unqcmt) echo "u-$MODE${RCPT_TAG:-}-$2(comment)" ;;
	unqq) echo "\"u-$MODE${RCPT_TAG:-}-$2 test\"" ;;
	postmaster) echo postmaster ;;
	qspace) echo "\"u-$MODE${RCPT_TAG:-}-$2 first\"@$E2E_DOMAIN" ;;
	qbs) echo "\"u-$MODE${RCPT_TAG:-}-$2-q\\\"x\"@$E2E_DOMAIN" ;;
	qpunct) echo "\"u-$MODE${RCPT_TAG:-}-$2-a(b)c,d:e;f\"@$E2E_DOMAIN" ;;
	esac
}

# drv_logged KIND ID: an ERE for the recipient as Postfix's maillog names it
# (an unqualified one with the port's origin $T_ORIGIN appended, which a
# NOQUEUE reject line may lack; quotes Postfix adds or keeps optional).
drv_logged() {
	_dl_u="u-$MODE${RCPT_TAG:-}-$2"
	_dl_o="(@$(t_ere "$T_ORIGIN"))?"
	case $1 in
	unq) echo "$_dl_u$_dl_o" ;;
	unqdot) echo "\"?$_dl_u\\.?\"?$_dl_o" ;;
	unqcmt) echo "$_dl_u(\\(comment\\))?$_dl_o" ;;
	unqq) echo "\"$_dl_u test\"$_dl_o" ;;
	postmaster) echo "postmaster$_dl_o" ;;
	qbs) echo "\"$_dl_u-q..x\"@$(t_ere "$E2E_DOMAIN")" ;;
	*) t_ere "$(drv_rcpt "$1" "$2")" ;;
	esac
}

# drv_route WHERE KIND ID: where Postfix put the row's recipient (the
# table's route column): "here" (the local transport, logged as
# postfix/discard), "out" (the transport named outbound, logged as
# postfix/outbound/discard) or "refused" (a NOQUEUE reject at RCPT,
# nothing delivered).
drv_route() {
	_dr_ere=$(drv_logged "$2" "$3")
	case $1 in
	here) pf_routed "$_dr_ere" postfix/discard ;;
	out) pf_routed "$_dr_ere" postfix/outbound/discard ;;
	refused) pf_refused "$_dr_ere" '554 5\.7\.1' ;;
	*) t_fail "cases.tsv: unknown route '$1'" ;;
	esac
}

# The maillog since t_begin (T_MTA_OFF, taken from $DRV_MTA_LOG).
pf_log_since() {
	tail -c "+$((T_MTA_OFF + 1))" "$PF_LOG" 2>/dev/null
}

pf_log_has() {
	pf_log_since | grep -q -E -- "$1"
}

# pf_routed RCPT_ERE SERVICE: SERVICE delivered the recipient (status=sent).
pf_routed() {
	t_wait 100 pf_log_has "$2\[[0-9]+\]: [0-9A-F]+: to=<$1>, .*status=sent" ||
		t_fail "no maillog line: $2 delivered to=<$1> ($(pf_log_since | grep -E ' to=<' | grep -v NOQUEUE | tail -n 2 | tr '\n' ' '))"
}

# pf_refused RCPT_ERE REPLY_ERE: Postfix refused the recipient at RCPT with
# that reply (to=<...> as Postfix quotes it); nothing was delivered to it.
pf_refused() {
	t_wait 100 pf_log_has "NOQUEUE: (milter-)?reject: RCPT from [^ ]+: $2.* to=<\"?$1\"?>" ||
		t_fail "no maillog line: NOQUEUE reject of to=<$1> with /$2/"
	pf_log_since | grep -E ": to=<\"?$1\"?>, .*status=sent" | grep -q . && t_fail "to=<$1> was delivered"
}

# pf_fail2ban N: Debian's stock fail2ban "postfix" filter, on this run's
# maillog, matches each of the N relay refusals the run caused (the MTA's
# own and portguard's alike, reject or milter-reject; T_RELAY_N counts the
# table's) and none of portguard's TLS/AUTH refusals (a client without TLS
# is no attacker).
pf_f2b() { # pf_f2b FILE: how many lines the filter matched
	fail2ban-regex "$1" /etc/fail2ban/filter.d/postfix.conf 2>&1 |
		sed -n -E 's/^Lines: [0-9]+ lines, [0-9]+ ignored, ([0-9]+) matched.*/\1/p'
}

pf_fail2ban() {
	t_begin "fail2ban-regex, stock postfix filter: matches every relay refusal of the run ($1)"
	grep -E 'reject: RCPT from [^ ]+: 554 5\.7\.1 .*Relay access denied' "$PF_LOG" >"$E2E_D/relay-refusals.log"
	grep -E 'reject: (MAIL|RCPT) from [^ ]+: 5[0-9][0-9] [0-9.]+ .*(Encryption required|Authentication (required|is not accepted)|Must issue a STARTTLS|or later required|Cipher not accepted)' \
		"$PF_LOG" >"$E2E_D/other-refusals.log"
	_f_lines=$(wc -l <"$E2E_D/relay-refusals.log")
	_f_pg=$(grep -c -E ': 554 5\.7\.1 (<[^>]*>: Recipient address rejected: )?Relay access denied;' "$E2E_D/relay-refusals.log")
	[ "$_f_lines" = "$1" ] || t_fail "$_f_lines relay refusals in the maillog, the cases caused $1"
	[ "$_f_pg" -gt 0 ] || t_fail "no relay refusal in portguard's words in the maillog"
	grep -q 'Recipient address rejected: <' "$E2E_D/relay-refusals.log" &&
		t_fail "a relay refusal repeats the recipient: $(grep -m1 'Recipient address rejected: <' "$E2E_D/relay-refusals.log")"
	_f_m=$(pf_f2b "$E2E_D/relay-refusals.log")
	[ "$_f_m" = "$_f_lines" ] || t_fail "the filter matched ${_f_m:-no} of $_f_lines relay refusals"
	_f_all=$(pf_f2b "$PF_LOG")
	[ "${_f_all:-0}" -ge "$_f_lines" ] ||
		t_fail "on the whole maillog the filter matched ${_f_all:-no} lines, fewer than $_f_lines"
	[ -s "$E2E_D/other-refusals.log" ] || t_fail "no refusal by portguard's TLS/AUTH rules in the maillog"
	_f_o=$(pf_f2b "$E2E_D/other-refusals.log")
	[ "$_f_o" = 0 ] || t_fail "the filter matched $_f_o refusals of the TLS/AUTH rules"
	echo "fail2ban: the stock postfix filter matched ${_f_m:-no} of $_f_lines relay refusals"
	t_end
}

drv_name() {
	echo "$MODE${RCPT_TAG:+ ($RCPT_TAG)} $2"
}

pg_sock_ready() {
	[ -S "$PG_SOCK" ]
}

# mg_ready: portguard-milter's socket exists and it logged "listening on".
mg_ready() {
	[ -S "$PG_SOCK" ] && grep -q 'listening on' "$PG_LOG"
}

# pg_start [ARG...]: start $PG_BIN (portguard-policyd unless the layer says
# otherwise) in the foreground (-f), logging to stderr (-e, into $PG_LOG)
# unless PG_STDERR=0 (then to syslog), with the extra ARGs; ready when
# $PG_READY (default: its socket exists) says so.
pg_start() {
	rm -f "$PG_SOCK"
	[ "${PG_STDERR:-1}" = 1 ] && set -- -e "$@"
	t_daemon "$PG_LOG" 100 "${PG_READY:-pg_sock_ready}" "$PG_BIN" -f -c "$PG_CONF" "$@"
	_rc=$?
	PG_PID=$T_PID
	return "$_rc"
}

# pg_stop: stop it by PID (t_stop_pid); PG_RC is its exit status (or "kill").
pg_stop() {
	PG_RC=
	[ -n "$PG_PID" ] || return 0
	t_stop_pid "$PG_PID"
	PG_RC=$T_RC
	PG_PID=
	rm -f "$PG_SOCK"
}

# pg_check_dropped: inside a case, fail unless portguard ($PG_PID) runs as
# nobody and its socket $PG_SOCK is group postfix, mode 660.
pg_check_dropped() {
	if [ -n "$PG_PID" ]; then
		_uid=$(awk '/^Uid:/ { print $2 }' "/proc/$PG_PID/status" 2>/dev/null)
		[ "$_uid" = 65534 ] || t_fail "runs as uid '$_uid', not nobody (65534)"
	fi
	[ "$(stat -c '%G %a' "$PG_SOCK" 2>/dev/null)" = "postfix 660" ] ||
		t_fail "socket is '$(stat -c '%U:%G %a' "$PG_SOCK" 2>/dev/null)', want group postfix, mode 660"
}

pg_count() {
	grep -c -E -- "$1" "$PG_LOG"
}

pg_count_above() {
	[ "$(pg_count "$1")" -gt "$2" ]
}

# pg_signal SIG ERE: send SIG and wait until one more log line matches ERE.
pg_signal() {
	_n=$(pg_count "$2")
	kill "-$1" "$PG_PID" || return 1
	t_wait 100 pg_count_above "$2" "$_n"
}

# ---------------------------------------------------------------- rsyslogd

# syslog_start FILE: rsyslogd on /dev/log with a private config writing every
# message to FILE as "facility.severity tag: message". Only when /dev/log does
# not exist (the caller checks); syslog_stop removes the socket again.
syslog_start() {
	mkdir -p "$E2E_D/rsyslog"
	cat >"$E2E_D/rsyslog.conf" <<EOF
global(workDirectory="$E2E_D/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
template(name="pg" type="string" string="%syslogfacility-text%.%syslogseverity-text% %syslogtag%%msg%\n")
*.* action(type="omfile" file="$1" template="pg")
EOF
	rsyslogd -n -f "$E2E_D/rsyslog.conf" -i "$E2E_D/rsyslog.pid" >"$E2E_D/rsyslog.out" 2>&1 &
	SYSLOG_PID=$!
	SYSLOG_MADE_DEVLOG=1
	t_wait 100 test -S /dev/log
}

syslog_stop() {
	[ -n "$SYSLOG_PID" ] || return 0
	t_stop_pid "$SYSLOG_PID"
	SYSLOG_PID=
	if [ "${SYSLOG_MADE_DEVLOG:-0}" = 1 ]; then
		rm -f /dev/log
		SYSLOG_MADE_DEVLOG=0
	fi
}
