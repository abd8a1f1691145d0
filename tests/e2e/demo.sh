#!/bin/sh
# tests/e2e/demo.sh BUILD_DIR - `make demo`: a private Postfix on loopback with
# portguard-policyd in front, a few good and bad SMTP sessions sent with swaks,
# the client's final reply for each, then portguard's decision lines and its
# stats. Builds nothing (the Makefile builds first); starts everything under
# BUILD_DIR and stops and removes it all at the end. Needs root (Postfix).
# The test MTA is the one of tests/e2e/lib.sh, which lets the bad cases
# through on purpose so that portguard has something to catch.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/e2e/lib.sh

if [ "$(id -u)" != 0 ]; then
	echo "demo: must run as root (it starts a private Postfix on 127.0.0.1)" >&2
	exit 1
fi
B=${1:-build}
if [ ! -x "$B/portguard-policyd" ]; then
	echo "demo: $B/portguard-policyd is not built (run: make demo)" >&2
	exit 1
fi

e2e_init "$top" "$B"
echo "portguard demo: private Postfix on 127.0.0.1, portguard-policyd in enforce mode"
echo "  ports: $P_SUB submission (STARTTLS), $P_SMTPS submission (implicit TLS), $P_RELAY relay (MX)"
echo "  (the demo Postfix allows plaintext AUTH and mail without TLS, so portguard has to catch them)"
pf_create || e2e_setup_fail "could not create the Postfix test instance"
pf_start || e2e_setup_fail "private Postfix did not start"
pg_write_conf enforce
pg_start || e2e_setup_fail "portguard-policyd did not start"
echo

AUTH="-a PLAIN -au $E2E_USER -ap $E2E_PASS"
n=0
session() { # session LABEL SWAKS-ARG...
	n=$((n + 1))
	t_begin "demo-$n"
	_label=$1
	shift
	t_swaks "$@"
	printf '%-58s -> %s\n' "$_label" "${T_REPLY:-(no reply)}"
}

echo "SMTP sessions (client's final reply):"
session "good: STARTTLS + AUTH on submission, to a remote domain" \
	--port "$P_SUB" --local-interface 127.0.0.2 -tls $AUTH --to "friend@remote.example"
session "good: implicit TLS + AUTH on submissions" \
	--port "$P_SMTPS" --local-interface 127.0.0.2 --tlsc $AUTH --to "friend@remote.example"
session "bad:  AUTH without TLS on submission" \
	--port "$P_SUB" --local-interface 127.0.0.2 $AUTH --to "friend@remote.example"
session "bad:  no TLS, no AUTH on submission" \
	--port "$P_SUB" --local-interface 127.0.0.2 --to "someone@$E2E_DOMAIN"
session "bad:  open-relay attempt on the relay port" \
	--port "$P_RELAY" --local-interface 127.0.0.2 --to "victim@remote.example"
session "good: relay port, mail for a local domain" \
	--port "$P_RELAY" --local-interface 127.0.0.2 --to "postmaster@$E2E_DOMAIN"
echo

echo "portguard-policyd decision lines:"
grep -E ': (reject|would-reject|pass): |warning: credentials|error: port=' "$PG_LOG" | sed -e 's/^portguard-policyd\[[0-9]*\]: //' -e 's/^/  /'
echo

echo "portguard-policyd stats (SIGUSR2):"
_off=$(wc -c <"$PG_LOG")
kill -USR2 "$PG_PID"
_stats_ready() {
	tail -c "+$((_off + 1))" "$PG_LOG" | grep -q "stats: port=$P_RELAY " &&
		tail -c "+$((_off + 1))" "$PG_LOG" | grep -q "stats: port=$P_SUB "
}
t_wait 50 _stats_ready
tail -c "+$((_off + 1))" "$PG_LOG" | grep 'stats: ' | sed -e 's/^portguard-policyd\[[0-9]*\]: //' -e 's/^/  /'
echo

pg_stop
pf_stop
echo "demo finished; everything stopped and removed"
