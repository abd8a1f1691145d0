#!/bin/sh
# tests/e2e/run.sh BUILD_DIR - end-to-end tests: swaks -> private Postfix on
# loopback -> portguard-policyd (BUILD_DIR/portguard-policyd).
#
# Every row of SPEC's decision table is sent through a real Postfix on the
# STARTTLS submission port, the implicit-TLS port and the relay port (plus
# ports that exist only to reach one rule), first with mode = "enforce", then,
# after a SIGHUP reload, with mode = "monitor". Each case asserts the SMTP
# reply the client saw and the line portguard logged. The stats lines printed
# on SIGUSR2 are compared with what the cases sent. A real rsyslogd proves the
# syslog path when /dev/log is free. Prints "PASS: name" / "FAIL: name".
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

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: e2e setup: must run as root (Postfix's master process runs as root)"
	exit 1
fi
for _c in postfix postconf swaks saslpasswd2 openssl ss; do
	command -v "$_c" >/dev/null 2>&1 || {
		echo "FAIL: e2e setup: $_c not found (run tests/deps.sh as root)"
		exit 1
	}
done

e2e_init "$top" "${1:-build/san}"
pf_create || e2e_setup_fail "could not create the Postfix test instance"
pf_start || e2e_setup_fail "private Postfix did not start"

UNTRUSTED="--local-interface 127.0.0.2"
AUTH="-a PLAIN -au $E2E_USER -ap $E2E_PASS"
CLIENT2='client=unknown\[127\.0\.0\.2\]:[0-9]+'

# ------------------------------------------------------------------ counting
# Each case appends "statskey field" lines to $TALLY for what it sent; the
# stats test compares the sums with portguard's stats lines.
TALLY=$E2E_D/tally
: >"$TALLY"
# Relay refusals the run causes (portguard's in enforce mode, Postfix's own in
# monitor mode): the fail2ban test counts them in the maillog.
RELAY_N=0

t_tally() { # t_tally STATSKEY RULE|none
	_v=$(sed -n -E 's/^=== TLS started with cipher (TLSv1(\.[0-9])?):.*/\1/p' "$T_OUT" | tail -n 1)
	_auth=0
	grep -q -E '^<[-~] +235 ' "$T_OUT" && _auth=1
	{
		echo "$1 transactions"
		echo "$1 recipients"
		if [ -n "$_v" ]; then
			echo "$1 tls"
			echo "$1 $_v"
		else
			echo "$1 plaintext"
		fi
		[ "$_auth" = 1 ] && echo "$1 auth"
		[ "$_auth" = 1 ] && [ -z "$_v" ] && echo "$1 auth_plaintext"
		if [ "$2" != none ]; then
			echo "$1 reject_$2"
			if [ "$MODE" = enforce ]; then echo "$1 rejected"; else echo "$1 would_reject"; fi
		fi
	} >>"$TALLY"
}

# ------------------------------------------------------------------ verdicts
# Set before each case: MODE, T_PORT (server port), T_ROLE, T_KEY (stats key).

# rej RULE "CODE ESC" TEXT_ERE: in enforce mode the client gets portguard's
# reply (wrapped by Postfix as "<rcpt>: Recipient address rejected: ..."); in
# monitor mode portguard only logs would-reject and Postfix's own rules decide
# (expect_monitor, default: 250 queued).
rej() {
	[ "$1" = relay ] && RELAY_N=$((RELAY_N + 1))
	if [ "$MODE" = enforce ]; then
		t_reply "^$2 .*Recipient address rejected: $3"
		t_log ": reject: port=$T_PORT role=$T_ROLE mode=enforce .*rule=$1 reply=\"$2 $3"
	else
		t_reply "${expect_monitor:-^250 }"
		t_log ": would-reject: port=$T_PORT role=$T_ROLE mode=monitor .*rule=$1 reply=\"$2 $3"
	fi
	t_nolog ": pass: "
	t_tally "$T_KEY" "$1"
	expect_monitor=
}

# relay_refused RCPT_ERE: a relay refusal as the client and the maillog show
# it: portguard's, wrapped by Postfix, in enforce mode; Postfix's own in
# monitor mode; the line names the recipient once; nothing was queued.
relay_refused() {
	expect_monitor="^554 5\.7\.1 <$1>: Relay access denied$"
	rej relay "554 5.7.1" "Relay access denied"
	[ "$MODE" = enforce ] &&
		t_reply "^554 5\.7\.1 <$1>: Recipient address rejected: Relay access denied$"
	t_refused "$1" "554 5\.7\.1"
}

# ok: the client's mail is queued and portguard logged pass (log level info).
ok() {
	t_reply '^250 '
	t_log ": pass: port=$T_PORT role=$T_ROLE mode=$MODE .*rule=none"
	t_nolog "reject: "
	t_tally "$T_KEY" none
}

at() { # at PORT ROLE [STATSKEY]
	T_PORT=$1
	T_ROLE=$2
	T_KEY=${3:-$1}
}

# ------------------------------------------------------------------ cases
cases() {
	m=$MODE
	r=u-$m

	# STARTTLS submission (587 role)
	at "$P_SUB" submission
	t_begin "$m submission: row 1 plaintext AUTH -> 538 + credentials warning"
	t_swaks --port "$P_SUB" $UNTRUSTED $AUTH --to "$r-1@remote.example"
	rej plaintext_auth "538 5.7.11" "Encryption required for requested authentication mechanism"
	t_log "warning: credentials sent without TLS: sasl_username=$E2E_USER@$E2E_DOMAIN sasl_method=PLAIN $CLIENT2 port=$P_SUB role=submission; the MTA accepted AUTH on a plaintext connection: set "
	t_log "tls=none cipher=none bits=0 sasl_method=PLAIN sasl_username=$E2E_USER@$E2E_DOMAIN .*rule=plaintext_auth"
	t_end

	t_begin "$m submission: row 3 no TLS -> 530 Must issue a STARTTLS command first"
	t_swaks --port "$P_SUB" $UNTRUSTED --to "$r-3@$E2E_DOMAIN"
	rej tls_required "530 5.7.0" "Must issue a STARTTLS command first"
	t_nolog "not wrapping"
	t_end

	t_begin "$m submission: row 6 TLS without AUTH -> 530 Authentication required"
	t_swaks --port "$P_SUB" $UNTRUSTED -tls --to "$r-6@$E2E_DOMAIN"
	rej auth_required "530 5.7.0" "Authentication required"
	t_end

	t_begin "$m submission: TLSv1.3 + AUTH -> pass"
	t_swaks --port "$P_SUB" $UNTRUSTED -tls --tls-protocol tlsv1_3 $AUTH --to "$r-p13@remote.example"
	ok
	t_log ": pass: .*tls=TLSv1\.3 .*sasl_method=PLAIN sasl_username=$E2E_USER@$E2E_DOMAIN .*rule=none"
	t_end

	t_begin "$m submission: TLSv1.2 + AUTH -> pass (minimum TLSv1.2)"
	t_swaks --port "$P_SUB" $UNTRUSTED -tls --tls-protocol tlsv1_2 $AUTH --to "$r-p12@remote.example"
	ok
	t_log ": pass: .*tls=TLSv1\.2 .*rule=none"
	t_end

	# Row 4: OpenSSL 3 here refuses TLS < 1.2, so this port asks for TLSv1.3
	# and the client offers only TLSv1.2.
	at "$P_TLS13" submission
	t_begin "$m submission min TLSv1.3: row 4 TLSv1.2 -> 530 TLSv1.3 or later required"
	t_swaks --port "$P_TLS13" $UNTRUSTED -tls --tls-protocol tlsv1_2 $AUTH --to "$r-4@remote.example"
	rej tls_version "530 5.7.0" "TLSv1\.3 or later required"
	t_log "tls=TLSv1\.2 .*rule=tls_version"
	t_end

	t_begin "$m submission min TLSv1.3: TLSv1.3 -> pass"
	t_swaks --port "$P_TLS13" $UNTRUSTED -tls --tls-protocol tlsv1_3 $AUTH --to "$r-4p@remote.example"
	ok
	t_end

	# Row 5: the port accepts only CHACHA20 suites (TLS <= 1.2); the client is
	# pinned to TLSv1.2 and an AES suite.
	at "$P_CIPHER" submission
	t_begin "$m submission CHACHA20 only: row 5 AES cipher -> 530 Cipher not accepted"
	t_swaks --port "$P_CIPHER" $UNTRUSTED -tls --tls-protocol tlsv1_2 \
		--tls-cipher ECDHE-RSA-AES256-GCM-SHA384 $AUTH --to "$r-5@remote.example"
	rej cipher "530 5.7.0" "Cipher not accepted"
	t_log "cipher=ECDHE-RSA-AES256-GCM-SHA384 .*rule=cipher"
	t_end

	t_begin "$m submission CHACHA20 only: CHACHA20 cipher -> pass"
	t_swaks --port "$P_CIPHER" $UNTRUSTED -tls --tls-protocol tlsv1_2 \
		--tls-cipher ECDHE-RSA-CHACHA20-POLY1305 $AUTH --to "$r-5p@remote.example"
	ok
	t_log "cipher=ECDHE-RSA-CHACHA20-POLY1305 .*rule=none"
	t_end

	# Implicit TLS, wrapped by Postfix (465 role)
	at "$P_SMTPS" submission
	t_begin "$m implicit TLS: row 6 no AUTH -> 530 Authentication required"
	t_swaks --port "$P_SMTPS" $UNTRUSTED --tlsc --to "$r-i6@$E2E_DOMAIN"
	rej auth_required "530 5.7.0" "Authentication required"
	t_nolog "not wrapping"
	t_end

	t_begin "$m implicit TLS: TLS + AUTH -> pass"
	t_swaks --port "$P_SMTPS" $UNTRUSTED --tlsc $AUTH --to "$r-ip@remote.example"
	ok
	t_end

	# Implicit-TLS role, but Postfix does not wrap the port
	at "$P_BARE" submission
	t_begin "$m implicit TLS not wrapped: row 1 plaintext AUTH -> 538 + credentials warning"
	t_swaks --port "$P_BARE" $UNTRUSTED $AUTH --to "$r-b1@remote.example"
	rej plaintext_auth "538 5.7.11" "Encryption required for requested authentication mechanism"
	t_log "warning: credentials sent without TLS: sasl_username=$E2E_USER@$E2E_DOMAIN sasl_method=PLAIN $CLIENT2 port=$P_BARE role=submission;"
	t_log "error: port=$P_BARE is configured tls=implicit but the session has no TLS: the MTA is not wrapping this port in TLS"
	t_end

	t_begin "$m implicit TLS not wrapped: row 3 no TLS -> 530 + MTA error"
	t_swaks --port "$P_BARE" $UNTRUSTED --to "$r-b3@$E2E_DOMAIN"
	rej tls_required "530 5.7.0" "Must issue a STARTTLS command first"
	t_log "error: port=$P_BARE is configured tls=implicit but the session has no TLS: the MTA is not wrapping this port in TLS \(Postfix: -o smtpd_tls_wrappermode=yes; Sendmail: M=s\) $CLIENT2"
	t_end

	# Relay (25 role)
	at "$P_RELAY" relay
	t_begin "$m relay: row 1 plaintext AUTH -> 538 + credentials warning"
	t_swaks --port "$P_RELAY" $UNTRUSTED $AUTH --to "$r-r1@remote.example"
	rej plaintext_auth "538 5.7.11" "Encryption required for requested authentication mechanism"
	t_log "warning: credentials sent without TLS: sasl_username=$E2E_USER@$E2E_DOMAIN sasl_method=PLAIN $CLIENT2 port=$P_RELAY role=relay;"
	t_end

	# In monitor mode Postfix's own reject_unauth_destination still refuses
	# the relay attempt (without "Recipient address rejected:"). portguard's
	# reply names no recipient: Postfix's line reads like its own refusal.
	t_begin "$m relay: row 7 untrusted, unauthenticated, remote -> 554 Relay access denied"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "$r-r7@remote.example"
	relay_refused "$r-r7@remote\.example"
	t_log "rcpt=<?$r-r7@remote\.example.* rule=relay"
	t_end

	t_begin "$m relay: row 7 \"u@remote\"@local (source-route trick) -> 554 Relay access denied"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "\"$r-r7q@remote.example\"@$E2E_DOMAIN"
	expect_monitor="^554 5\.7\.1 .*Relay access denied"
	rej relay "554 5.7.1" "Relay access denied"
	t_end

	# Unqualified recipients: Postfix appends myorigin (mx.$E2E_DOMAIN), which
	# is local, and so is portguard's origin_domain: local mail, delivered
	# through the local transport. Each: what the client writes, and an ERE
	# for the address Postfix delivers to.
	for _p in "u1 $r-u1" "u2. \"$r-u2\\.\"" "u3(comment) $r-u3"; do
		_u=${_p%% *}
		t_begin "$m relay: unqualified <$r-$_u>, origin local -> pass, delivered here"
		t_swaks --port "$P_RELAY" $UNTRUSTED --to "$r-$_u"
		ok
		t_log "rcpt=<?$r-${_u%%[.(]*}"
		t_routed "${_p#* }@mx\.$E2E_DOMAIN" here
		t_end
	done

	# Postfix accepts an unqualified postmaster before any restriction
	# (RFC 5321 4.5.1): portguard is not even asked.
	t_begin "$m relay: <postmaster> -> 250 without asking portguard, delivered here"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "postmaster"
	t_reply '^250 '
	t_nolog "rcpt=<?postmaster"
	t_routed "postmaster@mx\.$E2E_DOMAIN" here
	t_end

	# Postfix hands policy servers the dequoted form ("first last"@local as
	# first last@local): legitimate local mail that must pass.
	quoted_local_cases " (dequoted for policyd)"

	t_begin "$m relay: trusted client, remote -> pass, routed off the host (transport outbound)"
	t_swaks --port "$P_RELAY" --to "$r-ro@remote.example"
	ok
	t_routed "$r-ro@remote\.example" out
	t_end

	t_begin "$m relay: untrusted + TLS + AUTH may relay -> pass"
	t_swaks --port "$P_RELAY" $UNTRUSTED -tls $AUTH --to "$r-ra@remote.example"
	ok
	t_end

	t_begin "$m relay: trusted network 127.0.0.1 may relay -> pass"
	t_swaks --port "$P_RELAY" --to "$r-rt@remote.example"
	ok
	t_end

	t_begin "$m relay: untrusted, plaintext, local recipient -> pass (TLS optional)"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "$r-rl@$E2E_DOMAIN"
	ok
	t_log "tls=none .*rule=none"
	t_end

	t_begin "$m relay: untrusted, STARTTLS, local subdomain recipient -> pass"
	t_swaks --port "$P_RELAY" $UNTRUSTED -tls --to "$r-rs@mail.$E2E_DOMAIN"
	ok
	t_end

	# The port hooked up with the snippet's own line (DEFER_IF_PERMIT).
	at "$P_SHIPPED" relay
	t_begin "$m shipped hookup: row 7 open-relay attempt -> 554 Relay access denied"
	t_swaks --port "$P_SHIPPED" $UNTRUSTED --to "$r-sh7@remote.example"
	expect_monitor="^554 5\.7\.1 <$r-sh7@remote\.example>: Relay access denied"
	rej relay "554 5.7.1" "Relay access denied"
	t_end

	t_begin "$m shipped hookup: trusted network -> pass"
	t_swaks --port "$P_SHIPPED" --to "$r-shp@remote.example"
	ok
	t_end

	# Label "noauth" (policy_context) beats the port number's entry.
	at "$P_LABEL" relay noauth
	t_begin "$m label noauth: row 2 AUTH on an auth=forbidden port -> 550"
	t_swaks --port "$P_LABEL" $UNTRUSTED -tls $AUTH --to "$r-l2@$E2E_DOMAIN"
	T_PORT='[^ ]+'
	rej auth_forbidden "550 5.7.1" "Authentication is not accepted on this port"
	t_end

	t_begin "$m label noauth: plaintext, no AUTH, local -> pass (label wins over number)"
	t_swaks --port "$P_LABEL" $UNTRUSTED --to "$r-lp@$E2E_DOMAIN"
	T_PORT='[^ ]+'
	ok
	t_end
}

# Port $P_FAR: its smtpd and cleanup append myorigin = $FAR_ORIGIN, which is
# not a local domain; portguard is reloaded with that origin_domain (as read
# from the MTA), then restored.
pg_reload() { # pg_reload NAME: SIGHUP, wait for the "reloaded:" line
	t_begin "$1"
	_n=$(pg_count 'reloaded: ')
	kill -HUP "$PG_PID"
	t_wait 100 pg_count_above 'reloaded: ' "$_n" || t_fail "no 'reloaded:' line after SIGHUP"
	t_end
}

far_cases() {
	m=$MODE
	r=f-$m
	PG_ORIGIN=$FAR_ORIGIN pg_write_conf "$MODE"
	pg_reload "$m: SIGHUP reload with origin_domain = $FAR_ORIGIN (not local)"
	at "$P_FAR" relay
	# Monitor mode: Postfix's own reject_unauth_destination agrees (it
	# resolves <u> to u@$FAR_ORIGIN), in its own words.
	# Each: what the client writes, and an ERE for how Postfix echoes it.
	for _p in 'u1 u1' 'u2. u2\.?' 'u3(comment) u3(\(comment\))?'; do
		_u=${_p%% *}
		_e="$r-${_p#* }"
		t_begin "$m relay, origin not local: unqualified <$r-$_u> -> 554 Relay access denied, not queued"
		t_swaks --port "$P_FAR" $UNTRUSTED --to "$r-$_u"
		relay_refused "$_e"
		t_end
	done
	# Where Postfix sends an unqualified recipient here: off the host.
	t_begin "$m relay, origin not local: trusted client, unqualified <$r-t> -> pass, routed off the host (outbound)"
	t_swaks --port "$P_FAR" --to "$r-t"
	ok
	t_routed "$r-t@$FAR_ORIGIN" out
	t_end
	# Postfix accepts an unqualified postmaster before any restriction and
	# appends its origin: off the host it goes, portguard not asked.
	t_begin "$m relay, origin not local: <postmaster> -> 250 without asking portguard, routed to postmaster@$FAR_ORIGIN"
	t_swaks --port "$P_FAR" $UNTRUSTED --to "postmaster"
	t_reply '^250 '
	t_nolog "rcpt=<?postmaster"
	t_routed "postmaster@$FAR_ORIGIN" out
	t_end
	pg_write_conf "$MODE"
	pg_reload "$m: SIGHUP reload back to origin_domain = mx.$E2E_DOMAIN"
}

# ------------------------------------------------------------------ stats
# stats_check NAME: SIGUSR2, then every port in $TALLY must have a stats line
# whose counters equal the tally (absent fields in the tally are 0).
STATS_FIELDS="transactions recipients tls plaintext TLSv1.3 TLSv1.2 TLSv1.1 TLSv1.0 auth \
auth_plaintext rejected would_reject reject_plaintext_auth reject_auth_forbidden \
reject_tls_required reject_tls_version reject_cipher reject_auth_required reject_relay"


stats_check() {
	t_begin "$1"
	_off=$(wc -c <"$PG_LOG")
	kill -USR2 "$PG_PID" 2>/dev/null || t_fail "cannot signal portguard-policyd"
	if ! t_wait 100 stats_have_all "$_off"; then
		t_fail "no stats line after SIGUSR2 for every port of: $(awk '{ print $1 }' "$TALLY" | sort -u | tr '\n' ' ')"
	fi
	_bad=$(stats_mismatches "$_off" transactions 0)
	[ -z "$_bad" ] || t_fail "$_bad"
	t_end
	: >"$TALLY"
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
RELAY_N=$((RELAY_N + 1))
t_end

if [ ! -x "$PG_BIN" ]; then
	echo "FAIL: e2e: $PG_BIN is not built"
	E2E_FAILED=$((E2E_FAILED + 1))
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

cases
far_cases
stats_check "enforce: stats on SIGUSR2 equal what the test sent"

t_begin "SIGHUP reload switches to mode=monitor"
pg_write_conf monitor
_n=$(pg_count 'reloaded: .*mode=monitor')
kill -HUP "$PG_PID"
t_wait 100 pg_count_above 'reloaded: .*mode=monitor' "$_n" || t_fail "no 'reloaded: ... mode=monitor' line after SIGHUP"
t_alive "$PG_PID" || t_fail "portguard-policyd died on SIGHUP"
t_end

MODE=monitor
cases
far_cases
stats_check "monitor: stats on SIGUSR2 equal what the test sent"

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
	E2E_FAILED=$((E2E_FAILED + 1))
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

t_fail2ban "$RELAY_N"

echo "e2e: $E2E_PASSED passed, $E2E_FAILED failed"
[ "$E2E_FAILED" = 0 ]
