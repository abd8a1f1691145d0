#!/bin/sh
# tests/e2e/demo.sh BUILD_DIR - `make demo`: a private Postfix on loopback with
# both daemons attached: portguard-policyd on the e2e harness's ports, and
# portguard-milter (smtpd_milters, no policy service) on one more submission
# port. A few good and bad SMTP sessions sent with swaks, each with the reply
# it must get (250 and queued for a good one, the exact code for a bad one):
# the client's final reply is compared and marked "ok" or "NOT OK". Then each
# daemon's decision lines and its stats. Ends with "demo: N of N sessions as
# expected" and exits 1 when a session got another reply. Builds
# nothing (the Makefile builds first); starts everything under BUILD_DIR and
# stops and removes it all at the end. Needs root (Postfix). The test MTA is
# the one of tests/e2e/lib.sh, which lets the bad cases through on purpose so
# that portguard has something to catch.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/e2e/lib.sh

if [ "$(id -u)" != 0 ]; then
	echo "demo: must run as root (it starts a private Postfix on 127.0.0.1)" >&2
	exit 1
fi
B=${1:-build}
for _d in portguard-policyd portguard-milter; do
	if [ ! -x "$B/$_d" ]; then
		echo "demo: $B/$_d is not built (run: make demo)" >&2
		exit 1
	fi
done

# One more submission port, checked by portguard-milter instead of the
# policy service, with conf/postfix/main.cf.milter.snippet's settings set on
# that service only.
P_MILTER=10590
E2E_PORTS="$E2E_PORTS $P_MILTER"
e2e_init "$top" "$B"
MG_BIN=$E2E_B/portguard-milter
MG_SOCK=$E2E_D/milter
MG_CONF=$E2E_D/milter.conf
MG_LOG=$E2E_D/milter.log
MG_PID=
: >"$MG_LOG"

# mg_write_conf: the milter's config (the harness's shared settings: it
# drops to nobody, socket group postfix). Debug level: "session closed:"
# lines say when a session is counted.
mg_write_conf() {
	{
		echo "# demo portguard.conf for portguard-milter (written by tests/e2e/demo.sh)"
		pg_conf_head enforce debug
		cat <<EOF
ports = (
  { port = $P_MILTER; role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; }
);
milter = { listen = "unix:$MG_SOCK"; socket_mode = "0660"; };
EOF
	} >"$MG_CONF"
	chmod 0644 "$MG_CONF"
}
demo_mg_ready() {
	[ -S "$MG_SOCK" ] && grep -q 'listening on' "$MG_LOG"
}
mg_stop() {
	t_stop_pid "$MG_PID"
	MG_PID=
}
# The harness's EXIT trap stops Postfix and the policy daemon; the milter first.
# shellcheck disable=SC2154 # _demo_rc is set inside the trap
trap '_demo_rc=$?; mg_stop; (exit "$_demo_rc"); e2e_cleanup' EXIT

echo "portguard demo: private Postfix on 127.0.0.1, both daemons in enforce mode"
echo "  portguard-policyd: $P_SUB submission (STARTTLS), $P_SMTPS submission (implicit TLS), $P_RELAY relay (MX)"
echo "  portguard-milter:  $P_MILTER submission (STARTTLS), through smtpd_milters"
echo "  (the demo Postfix allows plaintext AUTH and mail without TLS, so portguard has to catch them)"
pf_create || e2e_setup_fail "could not create the Postfix test instance"
_da=$(awk '/^milter_default_action[ \t]*=/ { sub(/^[^=]*=[ \t]*/, ""); print }' conf/postfix/main.cf.milter.snippet)
[ -n "$_da" ] || e2e_setup_fail "conf/postfix/main.cf.milter.snippet has no milter_default_action"
cat >>"$PF/master.cf" <<EOF
127.0.0.1:$P_MILTER inet n - n - - smtpd
  -o syslog_name=postfix/milter-submission
  -o { smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination }
  -o smtpd_milters=unix:$MG_SOCK
  -o milter_default_action=$_da
EOF
pf_start || e2e_setup_fail "private Postfix did not start"
pg_write_conf enforce
pg_start || e2e_setup_fail "portguard-policyd did not start"
mg_write_conf
t_daemon "$MG_LOG" 100 demo_mg_ready "$MG_BIN" -f -e -c "$MG_CONF"
_rc=$?
MG_PID=$T_PID
[ "$_rc" = 0 ] || e2e_setup_fail "portguard-milter did not start"
echo

AUTH="-a PLAIN -au $E2E_USER -ap $E2E_PASS"
QUEUED='^250 2\.0\.0 Ok: queued as '
n=0        # sessions sent
n_ok=0     # sessions whose final reply was the expected one
n_milter=0 # sessions sent to the milter's port
bad_list=
# session LABEL WANT-ERE WANT-TEXT SWAKS-ARG...: send one session, compare
# the client's final reply with WANT-ERE, print it marked "ok" or "NOT OK".
session() {
	n=$((n + 1))
	t_begin "demo-$n"
	_label=$1
	_want=$2
	_wtext=$3
	shift 3
	case " $* " in *" $P_MILTER "*) n_milter=$((n_milter + 1)) ;; esac
	t_swaks "$@"
	if printf '%s\n' "$T_REPLY" | grep -q -E -- "$_want"; then
		n_ok=$((n_ok + 1))
		printf '  ok      %-52s -> %s\n' "$_label" "$T_REPLY"
	else
		bad_list="$bad_list $n"
		printf '  NOT OK  %-52s -> %s\n' "$_label" "${T_REPLY:-(no reply)}"
		printf '          expected: %s; the client saw:\n' "$_wtext"
		sed -n -E 's/^(<|->|~>|<~|<\*\*|<~\*|\*\*\*|===) ?/            &/p' "$T_OUT" | tail -n 12
	fi
}

echo "SMTP sessions: each with the reply it must get, and the client's final reply"
session "good: STARTTLS + AUTH on submission, remote rcpt" "$QUEUED" "250, queued" \
	--port "$P_SUB" --local-interface 127.0.0.2 -tls $AUTH --to "friend@remote.example"
session "good: implicit TLS + AUTH on submissions" "$QUEUED" "250, queued" \
	--port "$P_SMTPS" --local-interface 127.0.0.2 --tlsc $AUTH --to "friend@remote.example"
session "bad:  AUTH without TLS on submission" '^538 5\.7\.11 ' "538 5.7.11 (rule 1)" \
	--port "$P_SUB" --local-interface 127.0.0.2 $AUTH --to "friend@remote.example"
session "bad:  no TLS, no AUTH on submission" '^530 5\.7\.0 .*Must issue a STARTTLS command first' \
	"530 5.7.0 Must issue a STARTTLS command first (rule 3)" \
	--port "$P_SUB" --local-interface 127.0.0.2 --to "someone@$E2E_DOMAIN"
session "bad:  open-relay attempt on the relay port" '^554 5\.7\.1 .*Relay access denied' \
	"554 5.7.1 Relay access denied (rule 7)" \
	--port "$P_RELAY" --local-interface 127.0.0.2 --to "victim@remote.example"
session "good: relay port, mail for a local domain" "$QUEUED" "250, queued" \
	--port "$P_RELAY" --local-interface 127.0.0.2 --to "postmaster@$E2E_DOMAIN"
session "good: milter port, STARTTLS + AUTH" "$QUEUED" "250, queued" \
	--port "$P_MILTER" --local-interface 127.0.0.2 -tls $AUTH --to "friend@remote.example"
session "bad:  milter port, AUTH without TLS" '^538 5\.7\.11 ' "538 5.7.11 (rule 1)" \
	--port "$P_MILTER" --local-interface 127.0.0.2 $AUTH --to "friend@remote.example"
session "bad:  milter port, no TLS, no AUTH" '^530 5\.7\.0 .*Must issue a STARTTLS command first' \
	"530 5.7.0 Must issue a STARTTLS command first (rule 3)" \
	--port "$P_MILTER" --local-interface 127.0.0.2 --to "someone@$E2E_DOMAIN"
echo

# decision_lines LOG DAEMON: the reject/pass/alarm lines, without the prefix.
decision_lines() {
	grep -E ': (reject|would-reject|pass): |warning: credentials|error: port=' "$1" |
		sed -e "s/^$2\[[0-9]*\]: //" -e 's/^/  /'
}
# stats_after LOG OFFSET: the stats lines written after OFFSET bytes.
stats_after() {
	tail -c "+$(($2 + 1))" "$1" | grep 'stats: '
}

echo "portguard-policyd decision lines:"
decision_lines "$PG_LOG" portguard-policyd
echo

echo "portguard-policyd stats (SIGUSR2):"
_off=$(wc -c <"$PG_LOG")
kill -USR2 "$PG_PID"
_stats_ready() {
	stats_after "$PG_LOG" "$_off" | grep -q "stats: port=$P_RELAY " &&
		stats_after "$PG_LOG" "$_off" | grep -q "stats: port=$P_SUB "
}
t_wait 50 _stats_ready
stats_after "$PG_LOG" "$_off" | sed -e 's/^portguard-policyd\[[0-9]*\]: //' -e 's/^/  /'
echo

echo "portguard-milter decision lines:"
decision_lines "$MG_LOG" portguard-milter
echo

echo "portguard-milter stats (SIGUSR2, after the $n_milter sessions sent to port $P_MILTER):"
_closed_all() { [ "$(grep -c 'session closed: ' "$MG_LOG")" -ge "$n_milter" ]; }
t_wait 100 _closed_all
_closed=$(grep -c 'session closed: ' "$MG_LOG")
[ "$_closed" = "$n_milter" ] ||
	echo "  (the milter logged $_closed session-closed lines for the $n_milter sessions sent)"
_off=$(wc -c <"$MG_LOG")
kill -USR2 "$MG_PID"
_mstats_ready() { stats_after "$MG_LOG" "$_off" | grep -q "stats: port=$P_MILTER "; }
t_wait 50 _mstats_ready
stats_after "$MG_LOG" "$_off" | sed -e 's/^portguard-milter\[[0-9]*\]: //' -e 's/^/  /'
echo

mg_stop
pg_stop
pf_stop
echo "demo finished; everything stopped and removed"
echo "demo: $n_ok of $n sessions as expected"
if [ "$n_ok" != "$n" ]; then
	echo "demo: NOT as expected: session(s)$bad_list (marked NOT OK above)" >&2
	exit 1
fi
