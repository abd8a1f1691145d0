#!/bin/sh
# tests/crash/run.sh BUILD_DIR - kill -9 portguard-policyd behind a real
# Postfix, and prove that no count is lost (issue 14, part 1).
#
# A private Postfix on 127.0.0.1:13125 (relay role) and :13187 (submission
# role) asks portguard-policyd at RCPT; portguard keeps its counters in a
# state file under the test directory. swaks sessions, a SIGUSR2 stats line,
# more sessions, then kill -9 while Postfix stays up. At the restart the
# recovered stats lines plus the lines before them must equal the decision
# lines portguard logged, exactly (per port: transactions, recipients,
# rejected, reject_<rule>), and the next session is answered by portguard,
# not deferred. Then a corrupt state file is set aside with a warning and
# the daemon serves as usual.
#
# The Postfix and portguard harness is tests/e2e/lib.sh, used read-only; only
# the ports (13100-13199, this layer's range) and the Postfix instance's
# main.cf/master.cf (two smtpd services, no TLS or SASL) are this file's.
# Prints "PASS: name" / "FAIL: name".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh

P_RELAY=13125
P_SUB=13187
E2E_PORTS="$P_RELAY $P_SUB"

e2e_init "$top" "${1:-build/san}"
STATE=$E2E_D/state

# crash_pf_create: the Postfix instance: portguard first in
# smtpd_relay_restrictions (default_action=DEFER: a dead portguard is a 4xx,
# never an accepted message), two smtpd services.
crash_pf_create() {
	mkdir -p "$PF" "$PF_Q" "$E2E_D/data" || return 1
	chown postfix "$E2E_D/data"
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/crash/run.sh).
$(pf_main_cf_base)
mydestination = $E2E_DOMAIN, localhost
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP portguard-crash
smtpd_relay_restrictions = check_policy_service { unix:$PG_SOCK, default_action=DEFER },
  permit_mynetworks, reject_unauth_destination
EOF
	cat >"$PF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$P_RELAY inet n - n - - smtpd
  -o syslog_name=postfix/crash-relay
127.0.0.1:$P_SUB inet n - n - - smtpd
  -o syslog_name=postfix/crash-submission
EOF
	pf_internal_services >>"$PF/master.cf"
}

# crash_conf: portguard's config, with the state file in $STATE.
crash_conf() {
	{
		echo "# tests/crash portguard.conf"
		pg_conf_head enforce info "$STATE"
		cat <<EOF
ports = (
  { port = $P_RELAY; role = "relay"; },
  { port = $P_SUB;   role = "submission"; }
);
policyd = { listen = [ "unix:$PG_SOCK" ]; socket_mode = "0660"; };
EOF
	} >"$PG_CONF"
	chmod 0644 "$PG_CONF"
}

# crash_session PORT RCPT...: one SMTP session from 127.0.0.2 (untrusted)
# with one MAIL and these recipients, ending after the last RCPT.
crash_session() {
	_port=$1
	shift
	_to=$(printf '%s,' "$@")
	timeout 30 swaks --server 127.0.0.1 --port "$_port" --timeout 10 \
		--local-interface 127.0.0.2 --helo client.example.net \
		--from sender@example.net --to "${_to%,}" --quit-after RCPT \
		>"$E2E_D/swaks/crash-$_port-$1.txt" 2>&1
	CRASH_SENT=$((CRASH_SENT + 1))
}

# crash_batch FROM TO: sessions FROM..TO, a mix over both ports: relay to a
# remote (reject) and a local recipient (pass), submission without TLS or
# AUTH (reject), two recipients in some sessions.
crash_batch() {
	_i=$1
	while [ "$_i" -le "$2" ]; do
		case $((_i % 3)) in
		0) crash_session "$P_RELAY" "r$_i@remote.example" "l$_i@$E2E_DOMAIN" ;;
		1) crash_session "$P_RELAY" "l$_i@$E2E_DOMAIN" ;;
		2) crash_session "$P_SUB" "s$_i@remote.example" ;;
		esac
		_i=$((_i + 1))
	done
}
CRASH_SENT=0

# shellcheck source=tests/crash/tally.sh
. tests/crash/tally.sh
crash_decided() {
	[ "$(crash_ndecisions "$PG_LOG")" -ge "$1" ]
}

crash_pf_create || e2e_setup_fail "could not create the Postfix test instance"
mkdir -p "$STATE" || e2e_setup_fail "no $STATE"
crash_conf
pg_start || e2e_setup_fail "portguard-policyd did not start"
pf_start || e2e_setup_fail "Postfix did not start"

# ---- kill -9 after known traffic, through Postfix ---------------------------
T_NAME="crash: kill -9 through Postfix; recovered lines plus the earlier line equal the decisions logged"
T_WHY=
T_OUT=$PG_LOG
crash_batch 1 9 # 9 sessions, 12 recipients
t_wait 100 crash_decided 12 || t_fail "only $(crash_ndecisions "$PG_LOG") of 12 decisions logged"
pg_signal USR2 "stats: port=$P_SUB " || t_fail "no stats line after SIGUSR2"
crash_batch 10 23 # 14 sessions, 18 recipients
t_wait 100 crash_decided 30 || t_fail "only $(crash_ndecisions "$PG_LOG") of 30 decisions logged"
kill -KILL "$PG_PID"
wait "$PG_PID" 2>/dev/null
PG_PID=
before=$(grep -c 'stats: port=' "$PG_LOG")
pg_start || t_fail "portguard-policyd did not start again"
t_wait 100 pg_count_above "recovered=1" 0 || t_fail "no recovered stats line"
[ "$(crash_ndecisions "$PG_LOG")" = 30 ] || t_fail "$(crash_ndecisions "$PG_LOG") decision lines, want 30"
[ "$(pg_count 'stats: port=.* recovered=1 period_start=[0-9T:-]+Z period_end=[0-9T:-]+Z$')" = 2 ] ||
	t_fail "want 2 recovered lines (one per port): $(grep 'recovered=1' "$PG_LOG")"
[ "$before" = 2 ] || t_fail "$before stats lines before the kill, want 2 (the SIGUSR2 lines)"
crash_decisions "$PG_LOG" >"$E2E_D/crash.want"
# every session is one transaction
n_relay=$(grep -l "Connected to 127.0.0.1" "$E2E_D"/swaks/crash-$P_RELAY-*.txt | wc -l)
n_sub=$(grep -l "Connected to 127.0.0.1" "$E2E_D"/swaks/crash-$P_SUB-*.txt | wc -l)
{
	cat "$E2E_D/crash.want"
	echo "$P_RELAY transactions $n_relay"
	echo "$P_SUB transactions $n_sub"
} | sort >"$E2E_D/crash.want2"
crash_stats "$PG_LOG" >"$E2E_D/crash.got"
if ! cmp -s "$E2E_D/crash.want2" "$E2E_D/crash.got"; then
	t_fail "stats lines differ from the decisions logged:
want: $(tr '\n' ';' <"$E2E_D/crash.want2")
got:  $(tr '\n' ';' <"$E2E_D/crash.got")"
fi
[ "$((n_relay + n_sub))" = "$CRASH_SENT" ] || t_fail "$((n_relay + n_sub)) of $CRASH_SENT swaks sessions connected"
[ "$(grep -l '^<\*\* *554 5.7.1 .*Relay access denied' "$E2E_D"/swaks/crash-$P_RELAY-*.txt | wc -l)" = 7 ] ||
	t_fail "want 7 relay refusals (554) seen by swaks"
T_OFF=0
t_end

# ---- after the restart Postfix is served, not deferred ----------------------
t_begin "crash: after the restart the next Postfix session is answered by portguard, not deferred"
t_swaks --port "$P_RELAY" --local-interface 127.0.0.2 --to "x@remote.example" --quit-after RCPT
t_reply '^554 5\.7\.1 '
t_log "reject: port=$P_RELAY .*rcpt=<x@remote.example> rule=relay"
t_end

# ---- a clean stop leaves nothing to recover ---------------------------------
t_begin "crash: a clean stop writes its final line; the next start recovers nothing"
pg_stop
[ "$PG_RC" = 0 ] || t_fail "exit $PG_RC after SIGTERM"
t_log "stats: port=$P_RELAY role=relay period=[0-9]+ transactions=1 recipients=1 .*reject_relay=1$"
off=$(wc -c <"$PG_LOG")
pg_start || t_fail "no start"
tail -c "+$((off + 1))" "$PG_LOG" | grep -q 'recovered=1\|state file' &&
	t_fail "recovered or warned after a clean stop"
t_end

# ---- a corrupt state file ---------------------------------------------------
t_begin "crash: a corrupt state file is set aside with a warning; Postfix is served as usual"
pg_stop
printf 'not a portguard state file, just garbage of some length\n' >"$STATE/policyd.stats"
pg_start || t_fail "no start with a corrupt state file"
t_log "warning: state file $STATE/policyd.stats: corrupt header; set aside as $STATE/policyd.stats.bad.[0-9]+, counting starts afresh"
ls "$STATE"/policyd.stats.bad.* >/dev/null 2>&1 || t_fail "no policyd.stats.bad.* file"
t_nolog "recovered=1"
t_swaks --port "$P_RELAY" --local-interface 127.0.0.2 --to "y@remote.example" --quit-after RCPT
t_reply '^554 5\.7\.1 '
t_end

pg_stop
[ "$T_FAILED" = 0 ] || exit 1
exit 0
