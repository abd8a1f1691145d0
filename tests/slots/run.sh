#!/bin/sh
# tests/slots/run.sh BUILD_DIR - no policy slot held hostage, through Postfix.
#
# A private Postfix (one smtpd on 127.0.0.1:13025) asks
# BUILD_DIR/portguard-policyd, whose connection cap is 32. tests/slots/hold.py
# fills the cap with 16 connections trickling a byte every 0.5 s and 16 idle
# ones. Four SMTP sessions from an untrusted address (127.0.0.2) must each
# still get portguard's answer (554 5.7.1 relay denied, with portguard's
# reject line), never Postfix's 450 4.7.1 for a policy server it could not
# reach; the daemon says it closed idle connections to make room. Then the
# tricklers, 2 s after their first byte (request_timeout = 2), are closed with
# a warning each, long before idle_timeout.
#
# Reuses the Postfix harness of tests/e2e/lib.sh (read-only); ports
# 13000-13099 only. Needs root, postfix, swaks, ss. Prints PASS:/FAIL: lines.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/e2e/lib.sh

P_SLOTS=13025
E2E_PORTS=$P_SLOTS
CAP=32

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: slots setup: must run as root (Postfix's master process runs as root)"
	exit 1
fi
for _c in postfix postconf swaks ss python3; do
	command -v "$_c" >/dev/null 2>&1 || {
		echo "FAIL: slots setup: $_c not found (run tests/deps.sh as root)"
		exit 1
	}
done

e2e_init "$top" "${1:-build/san}"

# slots_pf_create: one smtpd, the shipped relay restrictions (the policy
# check first, default_action=DEFER as in the e2e layer).
slots_pf_create() {
	mkdir -p "$PF" "$PF_Q" "$E2E_D/data" || return 1
	chown postfix "$E2E_D/data"
	_rr=$(pf_relay_restrictions) || return 1
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/slots/run.sh).
$(pf_main_cf_base)
mydestination = $E2E_DOMAIN, localhost
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP portguard-slots
smtpd_relay_restrictions = $_rr
EOF
	cat >"$PF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$P_SLOTS inet n - n - - smtpd
  -o syslog_name=postfix/slots
EOF
	pf_internal_services >>"$PF/master.cf"
}

slots_pg_conf() {
	{
		echo "# tests/slots portguard.conf"
		pg_conf_head enforce info
		cat <<EOF
ports = ( { port = $P_SLOTS; role = "relay"; } );
policyd = {
  listen = [ "unix:$PG_SOCK" ];
  socket_mode = "0660";
  max_connections = $CAP;
  request_timeout = 2;
};
EOF
	} >"$PG_CONF"
	chmod 0644 "$PG_CONF"
}

slots_pf_create || e2e_setup_fail "could not create the Postfix test instance"
slots_pg_conf
pg_start || e2e_setup_fail "portguard-policyd did not start"
pf_start || e2e_setup_fail "private Postfix did not start"

# The cap is full: 16 trickling, 16 idle.
python3 "$top/tests/slots/hold.py" "$PG_SOCK" $((CAP / 2)) $((CAP / 2)) "$E2E_D/hold.done" \
	>"$E2E_D/hold.out" 2>&1 &
HOLD_PID=$!
hold_ready() { grep -q '^ready' "$E2E_D/hold.out"; }
t_wait 100 hold_ready || e2e_setup_fail "hold.py did not fill the cap: $(cat "$E2E_D/hold.out")"
hold_start=$(date +%s.%N)

i=1
while [ $i -le 4 ]; do
	t_begin "slots: session $i with max_connections=$CAP held by 16 trickling and 16 idle connections is answered by portguard, not deferred"
	t_swaks --port "$P_SLOTS" --local-interface 127.0.0.2 --to "rcpt$i@example.net"
	t_reply '^554 5\.7\.1 '
	t_log "reject: port=$P_SLOTS role=relay .*rcpt=<rcpt$i@example\.net> rule=relay"
	t_end
	i=$((i + 1))
done

t_begin "slots: the idle connections closed to make room are counted in a warning, none refused"
evicted() { grep -q "warning: connection limit reached: max_connections=$CAP; closed [0-9][0-9]* idle connection(s)" "$PG_LOG"; }
t_wait 30 evicted || t_fail "no eviction warning"
t_nolog "refused [0-9]+ connection"
t_end

# The tricklers are closed at request_timeout (2 s after their first byte),
# not at idle_timeout (600 s).
t_begin "slots: each trickling connection is closed 2 s after its first byte, with a warning naming it"
tricklers_closed() {
	[ "$(grep -c 'warning: policy connection peer=unix fd=[0-9]*: request not complete 2s after its first byte' "$PG_LOG")" -ge $((CAP / 2)) ]
}
t_wait 100 tricklers_closed || t_fail "only $(grep -c 'request not complete' "$PG_LOG") trickling connections closed"
took=$(echo "$(date +%s.%N) $hold_start" | awk '{ printf "%.1f", $1 - $2 }')
awk -v t="$took" 'BEGIN { exit !(t < 30) }' || t_fail "took ${took}s"
touch "$E2E_D/hold.done"
wait "$HOLD_PID"
grep -q "^closed: trickling=$((CAP / 2)) " "$E2E_D/hold.out" || t_fail "hold.py: $(cat "$E2E_D/hold.out")"
t_end

pf_stop
pg_stop
t_begin "slots: portguard-policyd stops cleanly (exit 0, sanitizer-clean)"
[ "$PG_RC" = 0 ] || t_fail "exit $PG_RC"
grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$PG_LOG" && t_fail "sanitizer report in $PG_LOG"
t_end
exit 0
