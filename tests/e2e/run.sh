#!/bin/sh
# shellcheck disable=SC2034 # DRV_*, T_* and STATS_FIELDS are read by tests/lib/
# tests/e2e/run.sh BUILD_DIR - end-to-end tests: swaks -> private Postfix on
# loopback -> portguard-policyd (BUILD_DIR/portguard-policyd).
#
# Every row of SPEC's decision table (the cases of tests/lib/cases.tsv marked
# "p") is sent through a real Postfix on the STARTTLS submission port, the
# implicit-TLS port and the relay port (plus ports that exist only to reach
# one rule), first with mode = "enforce", then, after a SIGHUP reload, with
# mode = "monitor". Each case asserts the SMTP
# reply the client saw, the line portguard logged and, where the row says,
# where Postfix routed the message (its maillog's delivery or reject line).
# In each mode the rows marked "P" run after a reload with origin_domain = the
# far port's origin (not local). The stats lines printed
# on SIGUSR2 are compared with what the cases sent. A real rsyslogd proves the
# syslog path when /dev/log is free. Last, Debian's stock fail2ban postfix
# filter must match every relay refusal of the run in the maillog.
# Prints "PASS: name" / "FAIL: name".
#
# Needs root (Postfix's master runs as root), postfix, swaks, sasl2-bin,
# openssl, ss and rsyslogd. The harness is tests/e2e/lib.sh; it describes
# how the test Postfix deliberately differs from conf/postfix/*.snippet.
# E2E_VERBOSE=1 prints transcripts and log lines of failed cases; E2E_KEEP=1
# keeps the test directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/e2e/lib.sh

t_needs e2e "Postfix's master process runs as root" postfix postconf swaks saslpasswd2 openssl ss \
	python3 fail2ban-regex

e2e_init "$top" "${1:-build/san}"
pf_create || e2e_setup_fail "could not create the Postfix test instance"
pf_start || e2e_setup_fail "private Postfix did not start"

UNTRUSTED="--local-interface 127.0.0.2"
AUTH="-a PLAIN -au $E2E_USER -ap $E2E_PASS"

# ------------------------------------------------------------------ driver
# SPEC's decision cases are rows of tests/lib/cases.tsv (run by
# tests/lib/case.sh); this layer's driver: Postfix asks the policy service at
# RCPT, wraps portguard's reply as "<rcpt>: Recipient address rejected: ...",
# and keeps its own relay refusal (reject_unauth_destination), which answers
# relay attempts in monitor mode.
DRV_LAYER=p
DRV_MILTER=0
DRV_MTA_RELAY=1
DRV_USER=$E2E_USER
DRV_PASS=$E2E_PASS
DRV_USER_RE="$E2E_USER@$(t_ere "$E2E_DOMAIN")"
DRV_CLIENT_NAME=unknown
DRV_ALARM_HINT=
DRV_QUEUED='^250 2\.0\.0 Ok: queued as '
DRV_LABEL_PORT='[^ ]+'
DRV_MTA_LOG=$PF_LOG
TALLY=$E2E_D/tally
: >"$TALLY"

drv_wrap() {
	echo "^$1 .*Recipient address rejected: $2"
}

# ------------------------------------------------------------------ stats
# stats_check (tests/lib/case.sh) compares these counters with the tally.
STATS_FIELDS="transactions recipients tls plaintext TLSv1.3 TLSv1.2 TLSv1.1 TLSv1.0 auth \
auth_plaintext rejected would_reject reject_plaintext_auth reject_auth_forbidden \
reject_tls_required reject_tls_version reject_cipher reject_auth_required reject_relay"

# far_rows: the rows marked "P" (port $P_FAR, where Postfix appends
# $FAR_ORIGIN, not local, to <user>), with portguard reloaded with that
# origin_domain (as read from the MTA), then restored.
far_rows() {
	t_begin "$MODE: SIGHUP reload with origin_domain = $FAR_ORIGIN (not local)"
	PG_ORIGIN=$FAR_ORIGIN pg_write_conf "$MODE"
	pg_signal HUP 'reloaded: ' || t_fail "no 'reloaded:' line after SIGHUP"
	t_end
	DRV_LAYER=P t_rows
	t_begin "$MODE: SIGHUP reload back to origin_domain = mx.$E2E_DOMAIN"
	pg_write_conf "$MODE"
	pg_signal HUP 'reloaded: ' || t_fail "no 'reloaded:' line after SIGHUP"
	t_end
}

# ------------------------------------------------------------------ run

# The shipped snippets, pasted into Debian's stock main.cf/master.cf, parse
# without a postconf warning and set what they promise.
t_begin "conf/postfix snippets: postconf parses them cleanly; submission settings present"
SN=$E2E_D/snippets
mkdir -p "$SN"
{ echo "compatibility_level = 3.6"; cat conf/postfix/main.cf.snippet; } >"$SN/main.cf"
{ cat /usr/share/postfix/master.cf.dist; cat conf/postfix/master.cf.snippet; } >"$SN/master.cf"
_w=$( { postconf -c "$SN" -n >"$SN/n.out"; postconf -c "$SN" -M >/dev/null; postconf -c "$SN" -P >"$SN/p.out"; } 2>&1)
[ -z "$_w" ] || t_fail "postconf: $_w"
grep -q -x 'smtpd_tls_auth_only = yes' "$SN/n.out" || t_fail "main.cf.snippet: no smtpd_tls_auth_only = yes"
grep -q -E '^smtpd_relay_restrictions = check_policy_service \{ unix:portguard/policy, default_action=DEFER_IF_PERMIT \}, .*permit_mynetworks, .*reject_unauth_destination$' "$SN/n.out" ||
	t_fail "main.cf.snippet: portguard is not first in smtpd_relay_restrictions"
for _x in submission/inet/smtpd_tls_security_level=encrypt submission/inet/smtpd_tls_auth_only=yes \
	submission/inet/smtpd_sasl_auth_enable=yes submission/inet/smtpd_policy_service_policy_context=submission \
	submissions/inet/smtpd_tls_wrappermode=yes submissions/inet/smtpd_sasl_auth_enable=yes \
	2525/inet/smtpd_tls_security_level=encrypt 2525/inet/smtpd_tls_auth_only=yes; do
	grep -q -x -F "$(echo "$_x" | sed 's/=/ = /')" "$SN/p.out" || t_fail "master.cf.snippet: no $_x"
done
t_end

# Before portguard runs: the hookup fails closed (default_action=DEFER).
t_begin "postfix hookup: portguard not running -> 450 4.7.1, not accepted"
t_swaks --port "$P_RELAY" --to "down@$E2E_DOMAIN"
t_reply '^450 4\.7\.1 '
t_end

# The shipped default_action=DEFER_IF_PERMIT with portguard down: what the
# rest of the list would accept is deferred, what it rejects stays rejected.
t_begin "shipped hookup, portguard down: trusted client -> 450 4.7.1 deferred"
t_swaks --port "$P_SHIPPED" --to "down@remote.example"
t_reply '^450 4\.7\.1 '
t_end

t_begin "shipped hookup, portguard down: open-relay attempt -> 554 Relay access denied"
t_swaks --port "$P_SHIPPED" --local-interface 127.0.0.2 --to "down@remote.example"
t_reply '^554 5\.7\.1 <down@remote\.example>: Relay access denied'
t_end
RELAY_DOWN=1 # a relay refusal in the maillog besides the rows'

if [ ! -x "$PG_BIN" ]; then
	echo "FAIL: e2e: $PG_BIN is not built"
	T_FAILED=$((T_FAILED + 1))
	exit 1
fi

MODE=enforce
pg_write_conf enforce
t_begin "portguard-policyd starts, binds, drops to nobody"
pg_start || t_fail "did not start"
pg_check_dropped
t_end
[ -n "$PG_PID" ] || exit 1
PF_LOG_OFF=$(wc -c <"$PF_LOG")

t_rows
far_rows
stats_check "enforce: stats on SIGUSR2 equal what the test sent" transactions 0

t_begin "SIGHUP reload switches to mode=monitor"
pg_write_conf monitor
pg_signal HUP 'reloaded: .*mode=monitor' || t_fail "no 'reloaded: ... mode=monitor' line after SIGHUP"
t_alive "$PG_PID" || t_fail "portguard-policyd died on SIGHUP"
t_end

MODE=monitor
t_rows
far_rows
stats_check "monitor: stats on SIGUSR2 equal what the test sent" transactions 0

# A port in no entry: default_role (relay) and one warning per port, not per
# message.
t_begin "unknown port: default_role relay, one warning for two messages"
t_swaks --port "$P_UNKNOWN" --to "unk1@$E2E_DOMAIN"
t_reply '^250 '
t_swaks --port "$P_UNKNOWN" --to "unk2@$E2E_DOMAIN"
t_reply '^250 '
_w=$(t_newlog | grep -c "warning: port=$P_UNKNOWN label=- matches no entry in ports; applying default_role=relay")
[ "$_w" = 1 ] || t_fail "$_w unknown-port warnings, want 1"
t_log "role=relay .*rule=none"
t_end

# Reload with a broken config keeps the running one.
t_begin "SIGHUP with a broken config keeps running in monitor mode"
printf 'mode = "enforce";\nno_such_key = 1;\n' >"$PG_CONF"
_off=$(wc -c <"$PG_LOG")
kill -HUP "$PG_PID"
_broken() { tail -c "+$((_off + 1))" "$PG_LOG" | grep -q "portguard.conf:2"; }
t_wait 100 _broken || t_fail "no 'portguard.conf:2: ...' error after a broken reload"
t_swaks --port "$P_SUB" $UNTRUSTED --to "broken@$E2E_DOMAIN"
t_reply '^250 '
t_log ": would-reject: .*rule=tls_required"
t_end
pg_write_conf enforce

t_begin "SIGTERM: clean exit (status 0, no sanitizer report) with a final stats line"
T_OFF=$(wc -c <"$PG_LOG")
pg_stop
[ "$PG_RC" = 0 ] || t_fail "exit status $PG_RC"
t_log "stats: port=$P_SUB "
t_nolog "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:"
t_end

# Syslog: portguard-policyd without -e logs through syslog(3), i.e. /dev/log.
# Only when /dev/log is free (no syslog daemon, as in CI) can the test own it.
if [ -e /dev/log ]; then
	echo "SKIP: syslog path: /dev/log exists and belongs to another daemon; not touched"
elif ! command -v rsyslogd >/dev/null 2>&1; then
	echo "FAIL: syslog path: rsyslogd not installed"
	T_FAILED=$((T_FAILED + 1))
else
	SYSLOG_FILE=$E2E_D/syslog
	MODE=enforce
	t_begin "syslog path: rsyslogd gets startup, reject and warning lines, facility mail"
	if syslog_start "$SYSLOG_FILE"; then
		PG_STDERR=0 pg_start || t_fail "portguard-policyd did not start without -e"
		t_swaks --port "$P_SUB" $UNTRUSTED --to "syslog@$E2E_DOMAIN"
		t_reply '^530 5\.7\.0 .*Must issue a STARTTLS command first'
		t_swaks --port "$P_SUB" $UNTRUSTED $AUTH --to "syslog2@$E2E_DOMAIN"
		t_reply '^538 5\.7\.11 '
		_sl() { grep -q -E "^mail\.warning portguard-policyd\[[0-9]+\]: NOQUEUE: warning: credentials sent without TLS: sasl_username=$E2E_USER@" "$SYSLOG_FILE"; }
		t_wait 50 _sl || t_fail "no 'mail.warning ... credentials sent without TLS' line in the syslog file"
		grep -q -E "^mail\.[a-z]+ portguard-policyd\[[0-9]+\]: starting: daemon=portguard-policyd " "$SYSLOG_FILE" ||
			t_fail "no 'mail.* ... starting:' line in the syslog file"
		grep -q -E "^mail\.[a-z]+ portguard-policyd\[[0-9]+\]: NOQUEUE: reject: port=$P_SUB .*rule=tls_required" "$SYSLOG_FILE" ||
			t_fail "no 'mail.* ... reject: ... rule=tls_required' line in the syslog file"
		t_newlog | grep -q 'reject:' && t_fail "the reject line also went to stderr"
		pg_stop
	else
		t_fail "rsyslogd did not create /dev/log"
	fi
	syslog_stop
	t_end
fi

# Postfix's side of the policy protocol: no failed or malformed exchange
# (Postfix logs those, then uses default_action) while portguard was up.
t_begin "postfix maillog: no policy-service trouble while portguard ran"
_bad=$(tail -c "+$((PF_LOG_OFF + 1))" "$PF_LOG" |
	grep -E 'problem talking to server|unknown smtpd restriction|Server configuration (error|problem)|premature end-of-input')
[ -z "$_bad" ] || t_fail "$_bad"
t_end

pf_fail2ban "$((T_RELAY_N + RELAY_DOWN))"

echo "e2e: $T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" = 0 ]
