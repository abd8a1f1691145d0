# tests/e2e/lib.sh - a private Postfix on loopback plus portguard-policyd,
# driven by swaks. Sourced by tests/e2e/run.sh and tests/e2e/demo.sh.
#
# Everything lives in one directory under the build tree ($B/e2e-XXXXXX):
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
# them, also when a test fails half way.
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
E2E_FAILED=0
E2E_PASSED=0
PG_PID=
SYSLOG_PID=
PF_STARTED=0
PF_REGISTERED=0

# e2e_init TOP B: absolute paths, the test directory, the EXIT trap.
e2e_init() {
	E2E_TOP=$1
	mkdir -p "$2" || exit 2
	E2E_B=$(cd "$2" && pwd)
	. "$E2E_TOP/tests/lib/common.sh"
	# smtpd runs as user postfix and portguard as nobody: both must be able to
	# traverse into the directory that holds the policy socket and Postfix's
	# data directory. A build tree they cannot reach (a clone inside a 0700
	# mktemp directory, say) gets its sandbox under a root-owned /run
	# directory instead.
	_base=$E2E_B
	if ! runuser -u nobody -- sh -c 'cd "$1"' sh "$E2E_B" 2>/dev/null; then
		mkdir -p -m 0755 /run/portguard-tests || exit 2
		_base=/run/portguard-tests
		echo "e2e: $E2E_B is not reachable by unprivileged users; sandbox under $_base"
	fi
	E2E_D=$(mktemp -d "$_base/e2e-XXXXXX") || exit 2
	chmod 0755 "$E2E_D"
	PF=$E2E_D/postfix
	PF_Q=$E2E_D/queue
	PF_LOG=$E2E_D/maillog
	PG_BIN=$E2E_B/portguard-policyd
	PG_CONF=$E2E_D/portguard.conf
	PG_LOG=$E2E_D/portguard.log
	PG_SOCK=$E2E_D/policy
	mkdir -p "$E2E_D/swaks"
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
		if [ "$E2E_FAILED" = 0 ] && [ "${E2E_KEEP:-0}" = 0 ]; then
			rm -rf "$E2E_D"
			rmdir /run/portguard-tests 2>/dev/null
		else
			echo "e2e: logs kept in $E2E_D"
		fi
	fi
	exit "$_rc"
}

# e2e_setup_fail MSG: the harness itself could not be set up.
e2e_setup_fail() {
	echo "FAIL: e2e setup: $*"
	E2E_FAILED=$((E2E_FAILED + 1))
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
smtpd_delay_reject = yes
smtpd_relay_restrictions = $_rr
# For port $P_SHIPPED: the snippet's line with only the socket path changed.
portguard_shipped_relay_restrictions = $_rs
EOF
	cat >"$PF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$P_RELAY inet n - n - - smtpd
  -o syslog_name=postfix/relay
127.0.0.1:$P_SUB inet n - n - - smtpd
  -o syslog_name=postfix/submission
127.0.0.1:$P_SMTPS inet n - n - - smtpd
  -o syslog_name=postfix/submissions
  -o smtpd_tls_wrappermode=yes
127.0.0.1:$P_BARE inet n - n - - smtpd
  -o syslog_name=postfix/unwrapped
127.0.0.1:$P_TLS13 inet n - n - - smtpd
  -o syslog_name=postfix/tls13
127.0.0.1:$P_CIPHER inet n - n - - smtpd
  -o syslog_name=postfix/cipher
127.0.0.1:$P_LABEL inet n - n - - smtpd
  -o syslog_name=postfix/label
  -o smtpd_policy_service_policy_context=noauth
127.0.0.1:$P_UNKNOWN inet n - n - - smtpd
  -o syslog_name=postfix/unknown
127.0.0.1:$P_SHIPPED inet n - n - - smtpd
  -o syslog_name=postfix/shipped
  -o smtpd_relay_restrictions=\$portguard_shipped_relay_restrictions
$(pf_far_services)
EOF
	pf_internal_services >>"$PF/master.cf"
}

# pf_far_services: master.cf lines for port $P_FAR, an smtpd whose address
# rewriting (its own and its cleanup's) appends myorigin = $FAR_ORIGIN, a
# domain that is not local: there Postfix sends <user> off the host.
pf_far_services() {
	cat <<EOF
127.0.0.1:$P_FAR inet n - n - - smtpd
  -o syslog_name=postfix/far
  -o rewrite_service_name=rewrite_far
  -o cleanup_service_name=cleanup_far
rewrite_far unix - - n - - trivial-rewrite
  -o myorigin=$FAR_ORIGIN
cleanup_far unix n - n - 0 cleanup
  -o rewrite_service_name=rewrite_far
EOF
}

pf_all_listening() {
	for _p in $E2E_PORTS; do
		t_listening "$_p" || return 1
	done
}

pf_start() {
	for _p in $E2E_PORTS; do
		if t_listening "$_p"; then
			echo "port 127.0.0.1:$_p is already in use" >&2
			return 1
		fi
	done
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

# pg_conf_head MODE LEVEL: the settings every portguard.conf of the Postfix
# layers (e2e, pfmilter, demo) shares. portguard runs as "nobody" (it starts
# as root, binds the socket, then drops privileges, as in production) and
# makes the socket group postfix, mode 0660, so that smtpd (user postfix) can
# connect. The origin domain is Postfix's myorigin ($myhostname), unless
# PG_ORIGIN names another. The caller adds ports and the daemon's listen block.
pg_conf_head() {
	cat <<EOF
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
		cat <<EOF
ports = (
  { port = $P_RELAY;  role = "relay"; },
  { port = $P_SHIPPED; role = "relay"; },
  { port = $P_FAR;    role = "relay"; },
  { port = $P_SUB;    role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = $P_SMTPS;  role = "submission"; tls = "implicit"; },
  { port = $P_BARE;   role = "submission"; tls = "implicit"; },
  { port = $P_TLS13;  role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.3"; },
  { port = $P_CIPHER; role = "submission"; tls = "starttls"; ciphers = "CHACHA20"; },
  # The number says submission, the label says relay without AUTH: the
  # label must win.
  { port = $P_LABEL;  role = "submission"; },
  { name = "noauth";  role = "relay"; auth = "forbidden"; }
);
policyd = { listen = [ "unix:$PG_SOCK" ]; socket_mode = "0660"; };
EOF
	} >"$PG_CONF.tmp"
	chmod 0644 "$PG_CONF.tmp"
	mv -f "$PG_CONF.tmp" "$PG_CONF"
}

pg_sock_ready() {
	[ -S "$PG_SOCK" ]
}

# pg_start: start portguard-policyd in the foreground (-f), logging to stderr
# (-e, into $PG_LOG) unless PG_STDERR=0 (then to syslog); wait for its socket.
pg_start() {
	rm -f "$PG_SOCK"
	if [ "${PG_STDERR:-1}" = 1 ]; then
		set -- -e
	else
		set --
	fi
	"$PG_BIN" -f "$@" -c "$PG_CONF" >>"$PG_LOG" 2>&1 &
	PG_PID=$!
	if ! t_wait 100 pg_sock_ready || ! t_alive "$PG_PID"; then
		echo "portguard-policyd did not create $PG_SOCK" >&2
		tail -n 20 "$PG_LOG" >&2
		return 1
	fi
}

# pg_stop: SIGTERM, bounded wait; sets PG_RC to the exit status (or "kill").
pg_stop() {
	PG_RC=
	[ -n "$PG_PID" ] || return 0
	kill -TERM "$PG_PID" 2>/dev/null
	if t_wait 100 t_gone "$PG_PID"; then
		wait "$PG_PID"
		PG_RC=$?
	else
		kill -KILL "$PG_PID" 2>/dev/null
		wait "$PG_PID"
		PG_RC=kill
	fi
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
	wait "$SYSLOG_PID" 2>/dev/null
	SYSLOG_PID=
	if [ "${SYSLOG_MADE_DEVLOG:-0}" = 1 ]; then
		rm -f /dev/log
		SYSLOG_MADE_DEVLOG=0
	fi
}

# ---------------------------------------------------------------- test cases
#
#   t_begin NAME        remember where portguard's log ends
#   t_swaks ARG...      one SMTP session; T_REPLY = the client's final reply
#   t_reply ERE         the final reply matches ERE
#   t_log ERE           a portguard log line written since t_begin matches ERE
#   t_nolog ERE         no such line matches ERE
#   t_end               print PASS: NAME or FAIL: NAME (with the reasons)

t_begin() {
	T_NAME=$1
	T_WHY=
	T_OFF=$(wc -c <"$PG_LOG")
	T_PF_OFF=$(wc -c <"$PF_LOG" 2>/dev/null || echo 0)
	T_OUT=$E2E_D/swaks/$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_').txt
	T_REPLY=
}

t_fail() {
	T_WHY="$T_WHY
$(printf '%s\n' "$*" | sed 's/^/    /')"
}

# Common swaks arguments: loopback server, bounded time (10 s per SMTP step,
# 30 s for the whole session), a fixed HELO and sender. The caller adds port,
# client address, TLS, AUTH and recipient.
t_swaks() {
	timeout 30 swaks --server 127.0.0.1 --timeout 10 --helo client.example.net \
		--from "sender@example.net" --header "Subject: portguard e2e $T_NAME" \
		--body "portguard e2e" "$@" >"$T_OUT" 2>&1
	# Server replies are the transcript lines starting "<-", "<~" (over TLS)
	# or "<**" / "<~*" (error replies). The final reply is the last one that is
	# not the answer to QUIT.
	T_REPLY=$(sed -n -E 's/^<(-|~|\*\*|~\*) +//p' "$T_OUT" | grep -v '^221 ' |
		grep -E '^[0-9]{3} ' | tail -n 1)
}

t_reply() {
	printf '%s\n' "$T_REPLY" | grep -q -E -- "$1" ||
		t_fail "reply '$T_REPLY' does not match /$1/ (transcript: $T_OUT)"
}

t_newlog() {
	tail -c "+$((T_OFF + 1))" "$PG_LOG"
}

t_log() {
	t_newlog | grep -q -E -- "$1" || t_fail "no portguard log line matches /$1/"
}

t_nolog() {
	t_newlog | grep -q -E -- "$1" && t_fail "unexpected portguard log line matches /$1/"
}

# Postfix's maillog since t_begin: where the MTA put the message.
t_pflog() {
	tail -c "+$((T_PF_OFF + 1))" "$PF_LOG" 2>/dev/null
}

_t_pflog_has() {
	t_pflog | grep -q -E -- "$1"
}

# t_routed RCPT_ERE WHERE: Postfix delivered the recipient here (WHERE
# "here": the local transport, logged as postfix/discard) or off the host
# ("out": the transport named outbound, logged as postfix/outbound/discard).
t_routed() {
	case $2 in
	here) _tr=postfix/discard ;;
	*) _tr=postfix/outbound/discard ;;
	esac
	t_wait 100 _t_pflog_has "$_tr\[[0-9]+\]: [0-9A-F]+: to=<$1>, .*status=sent" ||
		t_fail "no maillog line: $_tr delivered to=<$1> ($(t_pflog | grep -E ' to=<' | grep -v NOQUEUE | tail -n 2 | tr '\n' ' '))"
}

# t_refused RCPT_ERE REPLY_ERE: Postfix refused the recipient at RCPT with
# that reply (to=<...> as Postfix quotes it); nothing was queued for it.
t_refused() {
	t_wait 100 _t_pflog_has "NOQUEUE: (milter-)?reject: RCPT from [^ ]+: $2.* to=<\"?$1\"?>" ||
		t_fail "no maillog line: NOQUEUE reject of to=<$1> with /$2/"
	t_pflog | grep -E ": to=<\"?$1\"?>, .*status=sent" | grep -q . && t_fail "to=<$1> was delivered"
}

# t_pysmtp PORT SOURCE RCPT: one plaintext session through python's smtplib,
# for a recipient swaks cannot send (it splits --to at commas). RCPT goes
# out exactly as given; the transcript reads like swaks's, T_REPLY likewise.
t_pysmtp() {
	timeout 30 python3 - "$@" >"$T_OUT" 2>&1 <<'EOF'
import smtplib, sys
port, src, rcpt = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.example.net", timeout=10,
                 source_address=(src, 0))
def show(sent, reply):
    if sent:
        print(" -> " + sent)
    lines = reply[1].decode(errors="replace").split("\n")
    for i, line in enumerate(lines):
        print("<-  %d%s%s" % (reply[0], "-" if i < len(lines) - 1 else " ", line))
    return reply[0]
show("EHLO client.example.net", s.ehlo())
show("MAIL FROM:<sender@example.net>", s.docmd("MAIL FROM:<sender@example.net>"))
if show("RCPT TO:<%s>" % rcpt, s.docmd("RCPT TO:<%s>" % rcpt)) == 250:
    show("DATA", s.data(b"Subject: portguard e2e\r\n\r\nportguard e2e\r\n"))
show("QUIT", s.docmd("QUIT"))
EOF
	T_REPLY=$(sed -n -E 's/^<(-|~|\*\*|~\*) +//p' "$T_OUT" | grep -v '^221 ' |
		grep -E '^[0-9]{3} ' | tail -n 1)
}

# quoted_local_cases NOTE: issue 10's three quoted local parts on the relay
# port, from the untrusted client: each passes (the layer's ok) and Postfix
# delivers it here. Uses the layer's $m, $r and ok.
quoted_local_cases() {
	t_begin "$m relay: \"first last\"@local$1 -> pass, delivered here"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "\"$r first\"@$E2E_DOMAIN"
	ok
	t_routed "\"$r first\"@$E2E_DOMAIN" here
	t_end

	t_begin "$m relay: \"user\\\"x\"@local$1 -> pass, delivered here"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "\"$r-q\\\"x\"@$E2E_DOMAIN"
	ok
	t_routed "\"$r-q..x\"@$E2E_DOMAIN" here
	t_end

	# swaks splits --to at commas
	t_begin "$m relay: \"a(b)c,d:e;f\"@local$1 -> pass, delivered here"
	t_pysmtp "$P_RELAY" 127.0.0.2 "\"$r-a(b)c,d:e;f\"@$E2E_DOMAIN"
	ok
	t_routed "\"$r-a\\(b\\)c,d:e;f\"@$E2E_DOMAIN" here
	t_end
}

# t_fail2ban N: Debian's stock fail2ban "postfix" filter, on this run's
# maillog, matches each of the N relay refusals the cases caused (the
# MTA's own and portguard's alike, reject or milter-reject) and none of
# portguard's TLS/AUTH refusals (a client without TLS is no attacker).
_f2b() { # _f2b FILE: how many lines the filter matched
	fail2ban-regex "$1" /etc/fail2ban/filter.d/postfix.conf 2>&1 |
		sed -n -E 's/^Lines: [0-9]+ lines, [0-9]+ ignored, ([0-9]+) matched.*/\1/p'
}

t_fail2ban() {
	t_begin "fail2ban-regex, stock postfix filter: matches every relay refusal of the run ($1)"
	grep -E 'reject: RCPT from [^ ]+: 554 5\.7\.1 .*Relay access denied' "$PF_LOG" >"$E2E_D/relay-refusals.log"
	grep -E 'reject: (MAIL|RCPT) from [^ ]+: 5[0-9][0-9] [0-9.]+ .*(Encryption required|Authentication (required|is not accepted)|Must issue a STARTTLS|or later required|Cipher not accepted)' \
		"$PF_LOG" >"$E2E_D/other-refusals.log"
	_lines=$(wc -l <"$E2E_D/relay-refusals.log")
	_pg=$(grep -c -E ': 554 5\.7\.1 (<[^>]*>: Recipient address rejected: )?Relay access denied;' "$E2E_D/relay-refusals.log")
	[ "$_lines" = "$1" ] || t_fail "$_lines relay refusals in the maillog, the cases caused $1"
	[ "$_pg" -gt 0 ] || t_fail "no relay refusal in portguard's words in the maillog"
	grep -q 'Recipient address rejected: <' "$E2E_D/relay-refusals.log" &&
		t_fail "a relay refusal repeats the recipient: $(grep -m1 'Recipient address rejected: <' "$E2E_D/relay-refusals.log")"
	_m=$(_f2b "$E2E_D/relay-refusals.log")
	[ "$_m" = "$_lines" ] || t_fail "the filter matched ${_m:-no} of $_lines relay refusals"
	_all=$(_f2b "$PF_LOG")
	[ "${_all:-0}" -ge "$_lines" ] ||
		t_fail "on the whole maillog the filter matched ${_all:-no} lines, fewer than $_lines"
	[ -s "$E2E_D/other-refusals.log" ] || t_fail "no refusal by portguard's TLS/AUTH rules in the maillog"
	_o=$(_f2b "$E2E_D/other-refusals.log")
	[ "$_o" = 0 ] || t_fail "the filter matched $_o refusals of the TLS/AUTH rules"
	t_end
}

t_end() {
	if [ -z "$T_WHY" ]; then
		echo "PASS: $T_NAME"
		E2E_PASSED=$((E2E_PASSED + 1))
	else
		echo "FAIL: $T_NAME$T_WHY"
		if [ -n "${E2E_VERBOSE:-}" ]; then
			sed 's/^/    | /' "$T_OUT" 2>/dev/null
			t_newlog | sed 's/^/    pg| /'
		fi
		E2E_FAILED=$((E2E_FAILED + 1))
	fi
}
