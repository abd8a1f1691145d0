#!/bin/sh
# shellcheck disable=SC2034 # DRV_*, T_*, PG_* and STATS_FIELDS are read by tests/lib/ and tests/e2e/lib.sh
# tests/ipv6/run.sh BUILD_DIR - IPv6 end to end, both daemons: swaks -6 ->
# private Postfix on [::1] (inet_protocols = all) -> portguard-policyd
# (check_policy_service) on two services and portguard-milter (smtpd_milters)
# on two others, both in enforce mode.
#
# The layer runs in a network namespace of its own: the script re-executes
# itself under `unshare --net`, brings up that namespace's loopback and adds
# the second address $ADDR6 to it, so the host's network configuration is
# never touched. Everything started here (Postfix, both daemons) lives and
# dies in that namespace, stopped by PID (tests/lib/common.sh).
#
# Clients: ::1 is trusted (portguard's trusted_networks and Postfix's
# mynetworks hold ::1/128 only); $ADDR6 is not. For each daemon, the relay
# rule (untrusted remote -> 554 Relay access denied; trusted remote and
# untrusted local -> queued) and the submission rules (STARTTLS + AUTH ->
# queued; no TLS -> 530; plaintext AUTH -> 538 and the credentials warning)
# are asserted by the SMTP reply and the decision line, whose client must be
# written NAME[IPv6 address]:PORT. The stats lines printed on SIGUSR2 are
# compared with what the layer sent.
#
# How the test Postfix differs from the e2e one: services on [::1] only
# (ports $P_PRELAY..$P_MSUB, 13300-13399); the milter's services trust
# $ADDR6 in Postfix (-o mynetworks), as tests/pfmilter does for 127.0.0.2,
# so that only portguard's relay rule can refuse it (Postfix asks a milter
# about RCPT only after its own restrictions passed).
#
# Needs root (unshare, Postfix's master), postfix, swaks with
# libio-socket-inet6-perl, sasl2-bin, openssl, ss and ip. E2E_VERBOSE=1 and
# E2E_KEEP=1 as in tests/e2e.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

ADDR6=fd00:5047::2

if [ "${PG_IPV6_NETNS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "FAIL: ipv6 setup: must run as root (unshare --net for a private network namespace)"
		exit 1
	fi
	PG_IPV6_NETNS=1 exec unshare --net -- sh "$0" "$@"
	echo "FAIL: ipv6 setup: cannot run unshare --net"
	exit 1
fi

# shellcheck source=/dev/null
. tests/e2e/lib.sh
t_needs ipv6 "Postfix's master process runs as root" postfix postconf swaks saslpasswd2 openssl ss ip

if ! ip link set lo up || ! ip -6 addr add "$ADDR6/128" dev lo nodad ||
	! ip -6 addr show dev lo | grep -q 'inet6 ::1/128'; then
	echo "FAIL: ipv6 setup: no ::1 and $ADDR6 on the namespace's loopback (IPv6 disabled?)"
	exit 1
fi

# Ports of this layer ([::1] only, 13300-13399).
P_PRELAY=13325 # policyd: relay role
P_PSUB=13387   # policyd: STARTTLS submission
P_MRELAY=13326 # milter: relay role
P_MSUB=13388   # milter: STARTTLS submission
E2E_PORTS="$P_PRELAY $P_PSUB $P_MRELAY $P_MSUB"
P_SHIPPED=

e2e_init "$top" "${1:-build/san}"
POL_BIN=$E2E_B/portguard-policyd
POL_SOCK=$E2E_D/policy
POL_CONF=$E2E_D/portguard.conf
POL_LOG=$E2E_D/portguard.log
POL_PID=
MIL_BIN=$E2E_B/portguard-milter
MIL_SOCK=$E2E_D/milter
MIL_CONF=$E2E_D/portguard-milter.conf
MIL_LOG=$E2E_D/portguard-milter.log
MIL_PID=
: >"$MIL_LOG"
chmod 0644 "$MIL_LOG"

# The harness's PG_* variables name one daemon at a time; these switch them,
# keeping each daemon's PID in POL_PID / MIL_PID.
use_policyd() {
	[ "${PG_BIN:-}" != "$MIL_BIN" ] || MIL_PID=$PG_PID
	PG_BIN=$POL_BIN PG_SOCK=$POL_SOCK PG_CONF=$POL_CONF PG_LOG=$POL_LOG PG_PID=$POL_PID
	PG_READY=pg_sock_ready
}
use_milter() {
	[ "${PG_BIN:-}" != "$POL_BIN" ] || POL_PID=$PG_PID
	PG_BIN=$MIL_BIN PG_SOCK=$MIL_SOCK PG_CONF=$MIL_CONF PG_LOG=$MIL_LOG PG_PID=$MIL_PID
	PG_READY=mg_ready
}

# ipv6_cleanup (EXIT): stop both daemons by PID, then the harness's cleanup
# (Postfix, the alternate_config_directories entry, the sandbox).
ipv6_cleanup() {
	_i6_rc=$?
	use_policyd
	pg_stop >/dev/null 2>&1
	use_milter
	pg_stop >/dev/null 2>&1
	(exit "$_i6_rc")
	e2e_cleanup
}
trap ipv6_cleanup EXIT

# The harness waits for 127.0.0.1 listeners; this Postfix listens on [::1].
t_listening6() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q "\[::1\]:$1 "
}
pf_all_listening() {
	for _p in $E2E_PORTS; do
		t_listening6 "$_p" || return 1
	done
}

# pf_smtpd6 PORT NAME [PARAM=VALUE...]: like pf_smtpd, on [::1]:PORT.
pf_smtpd6() {
	pf_smtpd "$@" | sed '1s/^127\.0\.0\.1:/[::1]:/'
}

pf_write_ipv6_conf() {
	_rr=$(pf_relay_restrictions) || {
		echo "conf/postfix/main.cf.snippet: no usable smtpd_relay_restrictions" >&2
		return 1
	}
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/ipv6/run.sh); see there for how it differs
# from the e2e one.
$(pf_main_cf_base | sed -e 's/^inet_interfaces = .*/inet_interfaces = [::1]/' \
		-e 's/^inet_protocols = .*/inet_protocols = all/')
mydestination = $E2E_DOMAIN, mx.$E2E_DOMAIN, mail.$E2E_DOMAIN, localhost
mynetworks = [::1]/128
smtpd_banner = \$myhostname ESMTP portguard-ipv6
$(pf_main_cf_clients)
smtpd_delay_reject = yes
smtpd_relay_restrictions = $_rr
# The milter's services: the milter is the only relay guard.
portguard_milter_mynetworks = [::1]/128 [$ADDR6]/128
portguard_milter_relay = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
EOF
	# shellcheck disable=SC2016 # Postfix $parameters, not shell ones
	{
		echo "# service type  private unpriv  chroot  wakeup  maxproc command + args"
		pf_smtpd6 "$P_PRELAY" relay
		pf_smtpd6 "$P_PSUB" submission
		pf_smtpd6 "$P_MRELAY" mrelay "smtpd_milters=unix:$MIL_SOCK" milter_default_action=tempfail \
			'mynetworks=$portguard_milter_mynetworks' 'smtpd_relay_restrictions=$portguard_milter_relay'
		pf_smtpd6 "$P_MSUB" msubmission "smtpd_milters=unix:$MIL_SOCK" milter_default_action=tempfail \
			'mynetworks=$portguard_milter_mynetworks' 'smtpd_relay_restrictions=$portguard_milter_relay'
		pf_internal_services
	} >"$PF/master.cf"
}

# pg6_write_conf FILE LEVEL LISTEN_LINE: a portguard.conf trusting ::1/128 only.
pg6_write_conf() {
	{
		echo "# tests/ipv6 portguard.conf (written by tests/ipv6/run.sh)"
		pg_conf_head enforce "$2" | sed 's#"127\.0\.0\.1/32"#"::1/128"#'
		cat <<EOF
ports = (
  { port = $P_PRELAY; role = "relay"; },
  { port = $P_MRELAY; role = "relay"; },
  { port = $P_PSUB; role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = $P_MSUB; role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; }
);
EOF
		echo "$3"
	} >"$1.tmp"
	chmod 0644 "$1.tmp"
	mv -f "$1.tmp" "$1"
}

pf_create || e2e_setup_fail "could not create the Postfix test instance"
pf_write_ipv6_conf || e2e_setup_fail "could not write the IPv6 Postfix config"
pf_start || e2e_setup_fail "private Postfix did not start on [::1]"

for _b in "$POL_BIN" "$MIL_BIN"; do
	[ -x "$_b" ] || e2e_setup_fail "$_b is not built"
done
pg6_write_conf "$POL_CONF" info "policyd = { listen = [ \"unix:$POL_SOCK\" ]; socket_mode = \"0660\"; };"
pg6_write_conf "$MIL_CONF" debug "milter = { listen = \"unix:$MIL_SOCK\"; socket_mode = \"0660\"; timeout = 30; };"

# ------------------------------------------------------------------ cases
DRV_USER_RE="$E2E_USER@$(t_ere "$E2E_DOMAIN")"
DRV_QUEUED='^250 2\.0\.0 Ok: queued as '
TALLY=$E2E_D/tally
: >"$TALLY"

# t6_swaks ARG...: t_swaks over IPv6 to [::1] (swaks takes the last
# --server given, so this one overrides t_swaks's 127.0.0.1).
t6_swaks() {
	t_swaks -6 --server ::1 "$@"
}

# t6_case NAME PORT ROLE CLIENT_ADDR RCPT RULE REPLY_ERE [SWAKS_ARG...]: one
# session from CLIENT_ADDR; the reply must match REPLY_ERE and portguard's
# decision line (pass for RULE none, else reject with RULE) must name the
# client as NAME[CLIENT_ADDR]:PORT.
t6_case() {
	_c_port=$2 _c_role=$3 _c_addr=$4 _c_rcpt=$5 _c_rule=$6 _c_reply=$7
	t_begin "$D_NAME $1"
	shift 7
	T_SESSIONS=$((T_SESSIONS + 1))
	t6_swaks --port "$_c_port" --local-interface "$_c_addr" --to "$_c_rcpt" "$@"
	t_reply "$_c_reply"
	T_CLIENT="client=$D_CLIENT_NAME\\[$(t_ere "$_c_addr")\\]:[0-9]+"
	_c_head="$T_QID: %s: port=$_c_port role=$_c_role mode=enforce $T_CLIENT "
	_c_stage=mail
	if [ "$_c_rule" = none ]; then
		# shellcheck disable=SC2059 # the format is ours
		# The RCPT decision (a milter also logs a pass line at MAIL).
		t_log "$(printf "$_c_head" pass).* rcpt=<$(t_ere "$_c_rcpt")> rule=none( |\$)"
		t_nolog "reject: "
	else
		[ "$_c_rule" = relay ] && _c_stage=rcpt
		# shellcheck disable=SC2059
		t_log "$(printf "$_c_head" reject).*rule=$_c_rule reply="
		[ "$D_MILTER" = 1 ] && t_stage "$_c_stage"
		# A milter's relay (RCPT) decision follows the MAIL stage's pass line.
		if [ "$D_MILTER" = 1 ] && [ "$_c_stage" = rcpt ]; then
			t_nolog ": pass: .* rcpt="
		else
			t_nolog ": pass: "
		fi
	fi
	# The client address never appears unbracketed after "client=".
	t_nolog "client=[^[ ]*$(t_ere "$_c_addr")"
	DRV_MILTER=$D_MILTER
	t_tally "$_c_port" "$_c_rule" "$_c_stage" enforce
}

# run_cases RELAY_PORT SUB_PORT WRAP: the relay and submission cases through
# one daemon; WRAP is the ERE before portguard's own text in a reject reply.
run_cases() {
	_rp=$1 _sp=$2 _w=$3
	_r=u-$D_TAG-relay@remote.example
	t6_case "relay: untrusted $ADDR6, unauthenticated, remote -> 554 Relay access denied" \
		"$_rp" relay "$ADDR6" "$_r" relay "^554 5\\.7\\.1 ${_w}Relay access denied$"
	t_end
	t6_case "relay: trusted ::1, remote -> queued" \
		"$_rp" relay ::1 "u-$D_TAG-trusted@remote.example" none "$DRV_QUEUED"
	t_end
	t6_case "relay: untrusted $ADDR6, local recipient -> queued" \
		"$_rp" relay "$ADDR6" "u-$D_TAG-local@$E2E_DOMAIN" none "$DRV_QUEUED"
	t_end
	t6_case "submission: untrusted $ADDR6, STARTTLS + AUTH -> queued" \
		"$_sp" submission "$ADDR6" "u-$D_TAG-auth@remote.example" none "$DRV_QUEUED" \
		-tls -a PLAIN -au "$E2E_USER" -ap "$E2E_PASS"
	t_log "tls=TLSv1\\.[23] .*sasl_method=PLAIN sasl_username=$DRV_USER_RE .*rule=none"
	t_end
	t6_case "submission: untrusted $ADDR6, no TLS -> 530 Must issue a STARTTLS command first" \
		"$_sp" submission "$ADDR6" "u-$D_TAG-notls@$E2E_DOMAIN" tls_required \
		"^530 5\\.7\\.0 ${_w}Must issue a STARTTLS command first"
	t_end
	t6_case "submission: untrusted $ADDR6, plaintext AUTH -> 538 + credentials warning" \
		"$_sp" submission "$ADDR6" "u-$D_TAG-plain@remote.example" plaintext_auth \
		"^538 5\\.7\\.11 ${_w}Encryption required for requested authentication mechanism" \
		-a PLAIN -au "$E2E_USER" -ap "$E2E_PASS"
	t_log "warning: credentials sent without TLS: sasl_username=$DRV_USER_RE sasl_method=PLAIN $T_CLIENT port=$_sp role=submission; "
	t_end
}

STATS_FIELDS="transactions recipients tls plaintext TLSv1.3 TLSv1.2 TLSv1.1 TLSv1.0 \
auth auth_plaintext rejected would_reject reject_plaintext_auth reject_auth_forbidden \
reject_tls_required reject_tls_version reject_cipher reject_auth_required reject_relay"

# The milter counts a session at close (as in tests/pfmilter).
closed_at_least() {
	[ "$(pg_count 'session closed: ')" -ge "$1" ]
}
stats_sessions_closed() {
	t_wait 100 closed_at_least "$T_SESSIONS" ||
		t_fail "the milter logged $(pg_count 'session closed: ') 'session closed:' lines, the test made $T_SESSIONS sessions"
}

# ------------------------------------------------------------------ run
use_policyd
t_begin "portguard-policyd starts (trusted_networks ::1/128)"
pg_start || t_fail "did not start"
pg_check_dropped
t_end
use_milter
t_begin "portguard-milter starts (trusted_networks ::1/128)"
pg_start -p "unix:$MIL_SOCK" || t_fail "did not start"
pg_check_dropped
t_end
[ -n "$POL_PID" ] && [ -n "$PG_PID" ] || exit 1

use_policyd
D_NAME=policyd: D_TAG=p D_MILTER=0 D_CLIENT_NAME=unknown T_SESSIONS=0
run_cases "$P_PRELAY" "$P_PSUB" '.*Recipient address rejected: '
STATS_BEFORE=
stats_check "policyd: stats on SIGUSR2 equal what the layer sent over IPv6" transactions 1

use_milter
D_NAME=milter: D_TAG=m D_MILTER=1 D_CLIENT_NAME='[^ []*' T_SESSIONS=0
run_cases "$P_MRELAY" "$P_MSUB" ''
STATS_FIELDS="sessions $STATS_FIELDS"
STATS_BEFORE=stats_sessions_closed
stats_check "milter: stats on SIGUSR2 equal what the layer sent over IPv6" sessions 1

for _d in policyd milter; do
	"use_$_d"
	t_begin "$_d: SIGTERM: clean exit (status 0, no sanitizer report)"
	pg_stop
	[ "$PG_RC" = 0 ] || t_fail "exit status $PG_RC"
	t_log "stopping"
	t_nolog "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:"
	t_end
done

echo "ipv6: $T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" = 0 ]
