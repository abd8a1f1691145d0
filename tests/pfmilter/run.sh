#!/bin/sh
# tests/pfmilter/run.sh BUILD_DIR - portguard-milter under a real Postfix:
# swaks -> private Postfix on loopback -> smtpd_milters -> portguard-milter
# (BUILD_DIR/portguard-milter). The policy service is NOT attached: the milter
# is the only portguard in the mail path.
#
# Every row of SPEC's decision table is sent on a STARTTLS submission port, an
# implicit-TLS port and a relay port (plus ports that exist only to reach one
# rule: min TLSv1.3, CHACHA20 only, a label with AUTH forbidden, an
# implicit-TLS port Postfix does not wrap), first with mode = "enforce", then,
# after a SIGUSR1 reload, with mode = "monitor". Each case asserts the reply
# the client saw (the milter's session rules reject at MAIL FROM, the relay
# rule at RCPT TO) and the line portguard logged. The stats lines printed on
# SIGUSR2 are compared with what the cases sent (the milter counts sessions,
# TLS, versions and AUTH per session, at close). Last, with the milter
# stopped, the shipped milter_default_action makes Postfix defer.
# Prints "PASS: name" / "FAIL: name".
#
# The Postfix harness (config dir, queue, TLS key, sasldb, start/stop,
# swaks and log helpers) is tests/e2e/lib.sh, used read-only; this file
# replaces its main.cf and master.cf. How the test Postfix differs from
# conf/postfix/main.cf.milter.snippet, on purpose:
#   - the snippet's lines are used verbatim except smtpd_milters, whose socket
#     is the absolute unix:$DIR/milter (the test smtpd is not chrooted), and
#     smtpd_tls_auth_only, which the test sets to "no" so that plaintext AUTH
#     gets through and the test can prove that portguard catches it;
#   - mynetworks = 127.0.0.0/8: the milter is the only relay guard (TESTING.md),
#     so Postfix's own permit_mynetworks lets the "untrusted" client 127.0.0.2
#     relay and only portguard's relay rule (trusted_networks = 127.0.0.1/32)
#     can refuse it. In monitor mode that relay attempt is therefore accepted.
#     (smtpd_relay_restrictions = permit is fatal to smtpd, so the list keeps
#     reject_unauth_destination; it never fires here.)
#   - smtpd_tls_security_level = may on the submission ports, so that mail
#     without TLS reaches portguard.
#
# Needs root (Postfix's master runs as root), postfix, swaks, sasl2-bin,
# openssl and ss. E2E_VERBOSE=1 prints transcripts and log lines of failed
# cases; E2E_KEEP=1 keeps the test directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/e2e/lib.sh

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: pfmilter setup: must run as root (Postfix's master process runs as root)"
	exit 1
fi
for _c in postfix postconf swaks saslpasswd2 openssl ss; do
	command -v "$_c" >/dev/null 2>&1 || {
		echo "FAIL: pfmilter setup: $_c not found (run tests/deps.sh as root)"
		exit 1
	}
done

# Ports of this layer (127.0.0.1 only), clear of the e2e and sendmail layers.
P_RELAY=11025  # relay (MX role), TLS optional
P_SUB=11587    # STARTTLS submission, min TLSv1.2
P_SMTPS=11465  # implicit TLS submission, Postfix wraps it
P_BARE=11466   # implicit-TLS role in portguard, but Postfix does NOT wrap it
P_TLS13=11588  # STARTTLS submission with min_tls_version = TLSv1.3
P_CIPHER=11589 # STARTTLS submission that accepts only CHACHA20 (TLS <= 1.2)
P_LABEL=11526  # milter_macro_daemon_name=noauth (relay role, AUTH forbidden)
P_FAR=11027    # relay whose rewriting appends myorigin = $FAR_ORIGIN (not local)
E2E_PORTS="$P_RELAY $P_SUB $P_SMTPS $P_BARE $P_TLS13 $P_CIPHER $P_LABEL $P_FAR"

e2e_init "$top" "${1:-build/san}"
# The harness's portguard variables now name the milter: e2e_cleanup stops
# PG_PID (pg_stop) and removes PG_SOCK; t_begin/t_log read PG_LOG.
PG_BIN=$E2E_B/portguard-milter
PG_SOCK=$E2E_D/milter
SNIPPET=$top/conf/postfix/main.cf.milter.snippet

# snippet_lines: the snippet's settings, one "name = value" per line, with
# the socket made absolute and smtpd_tls_auth_only left out (set below).
snippet_lines() {
	awk '/^[a-z_]+[ \t]*=/' "$SNIPPET" |
		sed -e "s#unix:portguard/milter#unix:$PG_SOCK#" |
		grep -v '^smtpd_tls_auth_only[ \t]*='
}

# pf_write_milter_conf: main.cf and master.cf for this layer (pf_create made
# the directories, key, certificate and sasldb).
pf_write_milter_conf() {
	_sn=$(snippet_lines)
	if ! printf '%s\n' "$_sn" | grep -q -x "smtpd_milters = unix:$PG_SOCK" ||
		! printf '%s\n' "$_sn" | grep -q -x 'milter_default_action = tempfail'; then
		echo "conf/postfix/main.cf.milter.snippet: no usable smtpd_milters/milter_default_action" >&2
		return 1
	fi
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/pfmilter/run.sh); see there for how it differs
# from conf/postfix/main.cf.milter.snippet.
$(pf_main_cf_base)
mydestination = $E2E_DOMAIN, mx.$E2E_DOMAIN, mail.$E2E_DOMAIN, localhost
# The milter is the only relay guard: Postfix trusts all of 127.0.0.0/8.
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_banner = \$myhostname ESMTP portguard-pfmilter
smtpd_tls_cert_file = $E2E_D/cert.pem
smtpd_tls_key_file = $E2E_D/key.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
# The snippet says yes; the test lets plaintext AUTH through to prove that
# portguard rejects it and raises the alarm.
smtpd_tls_auth_only = no
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = $PF/sasl
smtpd_sasl_local_domain = $E2E_DOMAIN
# conf/postfix/main.cf.milter.snippet (socket path made absolute):
$_sn
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
  -o milter_macro_daemon_name=noauth
$(pf_far_services)
EOF
	pf_internal_services >>"$PF/master.cf"
}

# mg_write_conf MODE: the milter's portguard.conf. It runs as "nobody" (it
# starts as root, binds, then drops privileges, as in production) and makes
# its socket group postfix, mode 0660, so that smtpd (user postfix) can
# connect. Log level debug: "session closed:" lines tell the test when the
# milter has counted a session. The file stays readable by nobody for the
# SIGUSR1 reload.
mg_write_conf() {
	{
		echo "# tests/pfmilter portguard.conf (written by tests/pfmilter/run.sh)"
		pg_conf_head "$1" debug
		cat <<EOF
ports = (
  { port = $P_RELAY;  role = "relay"; },
  { port = $P_FAR;    role = "relay"; },
  { port = $P_SUB;    role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = $P_SMTPS;  role = "submission"; tls = "implicit"; },
  { port = $P_BARE;   role = "submission"; tls = "implicit"; },
  { port = $P_TLS13;  role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.3"; },
  { port = $P_CIPHER; role = "submission"; tls = "starttls"; ciphers = "CHACHA20"; },
  # The number says submission, the {daemon_name} label says relay without
  # AUTH: the label must win.
  { port = $P_LABEL;  role = "submission"; },
  { name = "noauth";  role = "relay"; auth = "forbidden"; }
);
milter = { listen = "unix:$PG_SOCK"; socket_mode = "0660"; timeout = 30; };
EOF
	} >"$PG_CONF.tmp"
	chmod 0644 "$PG_CONF.tmp"
	mv -f "$PG_CONF.tmp" "$PG_CONF"
}

mg_ready() {
	[ -S "$PG_SOCK" ] && grep -q 'listening on' "$PG_LOG"
}

# mg_start: the milter in the foreground (-f), logging to stderr (-e, into
# $PG_LOG), on the test's socket (-p); ready when the socket exists and it
# logged "listening on".
mg_start() {
	rm -f "$PG_SOCK"
	"$PG_BIN" -f -e -c "$PG_CONF" -p "unix:$PG_SOCK" >>"$PG_LOG" 2>&1 &
	PG_PID=$!
	if ! t_wait 100 mg_ready || ! t_alive "$PG_PID"; then
		echo "portguard-milter did not create $PG_SOCK" >&2
		tail -n 20 "$PG_LOG" >&2
		return 1
	fi
}

pf_create || e2e_setup_fail "could not create the Postfix test instance"
pf_write_milter_conf || e2e_setup_fail "could not write the Postfix milter config"
pf_start || e2e_setup_fail "private Postfix did not start"

UNTRUSTED="--local-interface 127.0.0.2"
AUTH="-a PLAIN -au $E2E_USER -ap $E2E_PASS"
CLIENT2='client=[^ ]*\[127\.0\.0\.2\]:[0-9]+'
SESSIONS=0

# ------------------------------------------------------------------ counting
# Each case appends "statskey field" lines to $TALLY for what it sent; the
# stats test compares the sums with portguard's stats lines.
TALLY=$E2E_D/tally
: >"$TALLY"
# Relay refusals seen by the client (enforce mode): the fail2ban test counts
# them in the maillog.
RELAY_N=0

# t_tally STATSKEY RULE|none STAGE: one session with one transaction and one
# recipient. STAGE is where RULE decides (mail|rcpt): an enforced MAIL reject
# means the milter never sees the RCPT.
t_tally() {
	SESSIONS=$((SESSIONS + 1))
	_v=$(sed -n -E 's/^=== TLS started with cipher (TLSv1(\.[0-9])?):.*/\1/p' "$T_OUT" | tail -n 1)
	_auth=0
	grep -q -E '^<[-~] +235 ' "$T_OUT" && _auth=1
	{
		echo "$1 sessions"
		echo "$1 transactions"
		[ "$2" != none ] && [ "$3" = mail ] && [ "$MODE" = enforce ] || echo "$1 recipients"
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

# t_stage STAGE: the transcript shows the reply came at MAIL FROM (no RCPT TO
# sent) or at RCPT TO (no DATA sent).
t_stage() {
	case $1 in
	mail) grep -q '^ *-> RCPT TO:' "$T_OUT" && t_fail "swaks got as far as RCPT TO (reject not at MAIL FROM)" ;;
	rcpt)
		grep -q '^ *-> RCPT TO:' "$T_OUT" || t_fail "no RCPT TO sent"
		grep -q '^ *-> DATA' "$T_OUT" && t_fail "swaks got as far as DATA (reject not at RCPT TO)"
		;;
	esac
}

# ------------------------------------------------------------------ verdicts
# Set before each case: MODE, T_PORT (port in the log), T_ROLE, T_KEY (stats
# key).

# rej RULE STAGE "CODE ESC" TEXT_ERE: in enforce mode the client gets the
# milter's reply verbatim at STAGE; in monitor mode portguard only logs
# would-reject and the mail is accepted (Postfix trusts the client).
rej() {
	[ "$1" = relay ] && [ "$MODE" = enforce ] && RELAY_N=$((RELAY_N + 1))
	if [ "$MODE" = enforce ]; then
		t_reply "^$3 $4"
		t_stage "$2"
		t_log ": reject: port=$T_PORT role=$T_ROLE mode=enforce .*rule=$1 reply=\"$3 $4"
	else
		t_reply '^250 '
		t_log ": would-reject: port=$T_PORT role=$T_ROLE mode=monitor .*rule=$1 reply=\"$3 $4"
		[ "$(t_newlog | grep -c ': would-reject: ')" = 1 ] ||
			t_fail "want exactly one would-reject line per session"
	fi
	# A relay (RCPT) decision follows the MAIL stage's own pass line.
	if [ "$2" = mail ]; then t_nolog ": pass: "; else t_nolog ": pass: .* rcpt="; fi
	t_tally "$T_KEY" "$1" "$2"
}

# ok: the client's mail is queued and portguard logged pass (log level info).
ok() {
	t_reply '^250 '
	t_log ": pass: port=$T_PORT role=$T_ROLE mode=$MODE .*rule=none"
	t_nolog "reject: "
	t_tally "$T_KEY" none -
}

at() { # at PORT ROLE [STATSKEY]
	T_PORT=$1
	T_ROLE=$2
	T_KEY=${3:-$1}
}

# relay_went RCPT_ERE: after a relay refusal, where the recipient went: in
# enforce mode nowhere (Postfix logged the milter-reject); in monitor mode
# off the host, through the transport named outbound (Postfix trusts the
# client: only portguard stood in the way).
relay_went() {
	if [ "$MODE" = enforce ]; then
		t_refused "$1" "554 5\.7\.1"
	else
		t_routed "$1" out
	fi
}

# far_cases WHY: port $P_FAR, where Postfix appends $FAR_ORIGIN (not local)
# to <user> and routes it off the host through the transport "outbound";
# each unqualified recipient, and postmaster, must be refused.
far_cases() {
	at "$P_FAR" relay
	# Each: what the client writes | an ERE for how Postfix logs it.
	for _p in "$r-fu1|$r-fu1" "$r-fu2.|\"$r-fu2\\.\"" "$r-fu3(comment)|$r-fu3(\\(comment\\))?" \
		"\"$r far test\"|\"$r far test\"" "postmaster|postmaster"; do
		t_begin "$m relay, $1: unqualified <${_p%%|*}> -> 554 Relay access denied at RCPT"
		t_swaks --port "$P_FAR" $UNTRUSTED --to "${_p%%|*}"
		rej relay rcpt "554 5.7.1" "Relay access denied"
		relay_went "${_p#*|}(@$FAR_ORIGIN)?"
		t_end
	done
	t_begin "$m relay, $1: trusted client, unqualified <$r-ft> -> pass, routed off the host (outbound)"
	t_swaks --port "$P_FAR" --to "$r-ft"
	ok
	t_routed "$r-ft@$FAR_ORIGIN" out
	t_end
}

# ------------------------------------------------------------------ cases
# $UNTRUSTED and $AUTH are meant to split into several swaks arguments.
# shellcheck disable=SC2086
cases() {
	m=$MODE
	r=u-$m

	# STARTTLS submission (587 role)
	at "$P_SUB" submission
	t_begin "$m submission: row 1 plaintext AUTH -> 538 at MAIL + credentials warning"
	t_swaks --port "$P_SUB" $UNTRUSTED $AUTH --to "$r-1@remote.example"
	rej plaintext_auth mail "538 5.7.11" "Encryption required for requested authentication mechanism"
	t_log "warning: credentials sent without TLS: sasl_username=$E2E_USER@$E2E_DOMAIN sasl_method=PLAIN $CLIENT2 port=$P_SUB role=submission; the MTA accepted AUTH on a plaintext connection: set .*smtpd_tls_auth_only"
	t_log "tls=none cipher=none bits=0 sasl_method=PLAIN sasl_username=$E2E_USER@$E2E_DOMAIN .*rule=plaintext_auth"
	t_end

	t_begin "$m submission: row 3 no TLS -> 530 Must issue a STARTTLS command first at MAIL"
	t_swaks --port "$P_SUB" $UNTRUSTED --to "$r-3@$E2E_DOMAIN"
	rej tls_required mail "530 5.7.0" "Must issue a STARTTLS command first"
	t_nolog "not wrapping"
	t_end

	t_begin "$m submission: row 6 TLS without AUTH -> 530 Authentication required at MAIL"
	t_swaks --port "$P_SUB" $UNTRUSTED -tls --to "$r-6@$E2E_DOMAIN"
	rej auth_required mail "530 5.7.0" "Authentication required"
	t_log "tls=TLSv1\.3 cipher=[A-Z0-9_-]+ bits=[0-9]+ sasl_method=- sasl_username=- .*rule=auth_required"
	t_end

	t_begin "$m submission: row 7 does not apply (role submission): TLSv1.3 + AUTH, remote rcpt -> pass"
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
	rej tls_version mail "530 5.7.0" "TLSv1\.3 or later required"
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
	rej cipher mail "530 5.7.0" "Cipher not accepted"
	t_log "cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 .*rule=cipher"
	t_end

	t_begin "$m submission CHACHA20 only: CHACHA20 cipher -> pass"
	t_swaks --port "$P_CIPHER" $UNTRUSTED -tls --tls-protocol tlsv1_2 \
		--tls-cipher ECDHE-RSA-CHACHA20-POLY1305 $AUTH --to "$r-5p@remote.example"
	ok
	t_log "cipher=ECDHE-RSA-CHACHA20-POLY1305 .*rule=none"
	t_end

	# Implicit TLS, wrapped by Postfix (465 role)
	at "$P_SMTPS" submission
	t_begin "$m implicit TLS: row 6 no AUTH -> 530 Authentication required at MAIL"
	t_swaks --port "$P_SMTPS" $UNTRUSTED --tlsc --to "$r-i6@$E2E_DOMAIN"
	rej auth_required mail "530 5.7.0" "Authentication required"
	t_log "tls=TLSv1\.[23] .*rule=auth_required"
	t_nolog "not wrapping"
	t_end

	t_begin "$m implicit TLS: row 4 does not fire for TLSv1.2 (minimum TLSv1.2): TLS + AUTH -> pass"
	t_swaks --port "$P_SMTPS" $UNTRUSTED --tlsc --tls-protocol tlsv1_2 $AUTH --to "$r-ip@remote.example"
	ok
	t_log ": pass: .*tls=TLSv1\.2 "
	t_end

	# Implicit-TLS role, but Postfix does not wrap the port: rows 1 and 3
	at "$P_BARE" submission
	t_begin "$m implicit TLS not wrapped: row 1 plaintext AUTH -> 538 + credentials warning"
	t_swaks --port "$P_BARE" $UNTRUSTED $AUTH --to "$r-b1@remote.example"
	rej plaintext_auth mail "538 5.7.11" "Encryption required for requested authentication mechanism"
	t_log "warning: credentials sent without TLS: sasl_username=$E2E_USER@$E2E_DOMAIN sasl_method=PLAIN $CLIENT2 port=$P_BARE role=submission;"
	t_end

	t_begin "$m implicit TLS not wrapped: row 3 no TLS -> 530 + 'not wrapping' error"
	t_swaks --port "$P_BARE" $UNTRUSTED --to "$r-b3@$E2E_DOMAIN"
	rej tls_required mail "530 5.7.0" "Must issue a STARTTLS command first"
	t_log "error: port=$P_BARE is configured tls=implicit but the session has no TLS: the MTA is not wrapping this port in TLS \(Postfix: -o smtpd_tls_wrappermode=yes; Sendmail: M=s\) $CLIENT2"
	t_end

	# Relay (25 role)
	at "$P_RELAY" relay
	t_begin "$m relay: row 1 plaintext AUTH -> 538 at MAIL + credentials warning"
	t_swaks --port "$P_RELAY" $UNTRUSTED $AUTH --to "$r-r1@remote.example"
	rej plaintext_auth mail "538 5.7.11" "Encryption required for requested authentication mechanism"
	t_log "warning: credentials sent without TLS: sasl_username=$E2E_USER@$E2E_DOMAIN sasl_method=PLAIN $CLIENT2 port=$P_RELAY role=relay;"
	t_end

	# Postfix trusts 127.0.0.2 (mynetworks 127.0.0.0/8): only the milter's
	# relay rule stands between this client and a remote recipient, so in
	# monitor mode the message is accepted.
	t_begin "$m relay: row 7 untrusted, unauthenticated, remote -> 554 Relay access denied at RCPT"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "$r-r7@remote.example"
	rej relay rcpt "554 5.7.1" "Relay access denied"
	[ "$MODE" = enforce ] && t_reply '^554 5\.7\.1 Relay access denied$'
	t_log "rcpt=<?$r-r7@remote\.example.* rule=relay"
	relay_went "$r-r7@remote\.example"
	t_end

	t_begin "$m relay: row 7 \"u@remote\"@local (source-route trick) -> 554 Relay access denied"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "\"$r-r7q@remote.example\"@$E2E_DOMAIN"
	rej relay rcpt "554 5.7.1" "Relay access denied"
	t_end

	# Unqualified recipients: Postfix appends myorigin (mx.$E2E_DOMAIN), which
	# is local, and so is portguard's origin_domain: local mail, delivered
	# through the local transport. Each: what the client writes | an ERE for
	# the address Postfix delivers to.
	for _p in "$r-u1|$r-u1" "$r-u2.|\"$r-u2\\.\"" "$r-u3(comment)|$r-u3" \
		"\"$r relay test\"|\"$r relay test\""; do
		t_begin "$m relay: unqualified <${_p%%|*}>, origin local -> pass, delivered here"
		t_swaks --port "$P_RELAY" $UNTRUSTED --to "${_p%%|*}"
		ok
		t_routed "${_p#*|}@mx\.$E2E_DOMAIN" here
		t_end
	done

	t_begin "$m relay: <postmaster> -> pass, delivered here"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "postmaster"
	ok
	t_routed "postmaster@mx\.$E2E_DOMAIN" here
	t_end

	# The milter sees the quoted form as the client wrote it.
	quoted_local_cases ""

	far_cases "origin local to portguard, not to Postfix ({rcpt_addr} decides)"
	at "$P_RELAY" relay

	t_begin "$m relay: untrusted + TLS + AUTH may relay -> pass"
	t_swaks --port "$P_RELAY" $UNTRUSTED -tls $AUTH --to "$r-ra@remote.example"
	ok
	t_end

	t_begin "$m relay: trusted network 127.0.0.1 may relay -> pass"
	t_swaks --port "$P_RELAY" --to "$r-rt@remote.example"
	ok
	t_log ": pass: .*client=[^ ]*\[127\.0\.0\.1\]:"
	t_end

	t_begin "$m relay: rows 3/6 do not apply: untrusted, plaintext, local recipient -> pass"
	t_swaks --port "$P_RELAY" $UNTRUSTED --to "$r-rl@$E2E_DOMAIN"
	ok
	t_log "tls=none .*rule=none"
	t_end

	t_begin "$m relay: untrusted, STARTTLS, local subdomain recipient -> pass"
	t_swaks --port "$P_RELAY" $UNTRUSTED -tls --to "$r-rs@mail.$E2E_DOMAIN"
	ok
	t_end

	# Label "noauth" ({daemon_name} from milter_macro_daemon_name) beats the
	# port number's entry; stats are keyed by the label.
	at "$P_LABEL" relay noauth
	t_begin "$m label noauth: row 2 AUTH on an auth=forbidden port -> 550 at MAIL"
	t_swaks --port "$P_LABEL" $UNTRUSTED -tls $AUTH --to "$r-l2@$E2E_DOMAIN"
	rej auth_forbidden mail "550 5.7.1" "Authentication is not accepted on this port"
	t_end

	t_begin "$m label noauth: plaintext, no AUTH, local -> pass (label wins over number)"
	t_swaks --port "$P_LABEL" $UNTRUSTED --to "$r-lp@$E2E_DOMAIN"
	ok
	t_end
}

# ------------------------------------------------------------------ stats
STATS_FIELDS="sessions transactions recipients tls plaintext TLSv1.3 TLSv1.2 TLSv1.1 TLSv1.0 \
auth auth_plaintext rejected would_reject reject_plaintext_auth reject_auth_forbidden \
reject_tls_required reject_tls_version reject_cipher reject_auth_required reject_relay"

closed_at_least() { # the milter logged at least $1 "session closed:" lines
	[ "$(pg_count 'session closed: ')" -ge "$1" ]
}


# stats_check NAME: once the milter has closed every session the test made
# (it counts a session at close), SIGUSR2; every port in $TALLY must then have
# a stats line whose counters equal the tally (absent in the tally = 0), and
# no other port may have one.
stats_check() {
	t_begin "$1"
	t_wait 100 closed_at_least "$SESSIONS" ||
		t_fail "the milter logged $(pg_count 'session closed: ') 'session closed:' lines, the test made $SESSIONS sessions"
	_off=$(wc -c <"$PG_LOG")
	kill -USR2 "$PG_PID" 2>/dev/null || t_fail "cannot signal portguard-milter"
	if ! t_wait 100 stats_have_all "$_off"; then
		t_fail "no stats line after SIGUSR2 for every port of: $(awk '{ print $1 }' "$TALLY" | sort -u | tr '\n' ' ')"
	fi
	_bad=$(stats_mismatches "$_off" sessions 1)
	[ -z "$_bad" ] || t_fail "$_bad"
	t_end
	: >"$TALLY"
}

# ------------------------------------------------------------------ run

# The shipped milter snippet, pasted into Debian's stock main.cf, parses
# without a postconf warning and sets what it promises.
t_begin "conf/postfix/main.cf.milter.snippet: postconf parses it cleanly"
SN=$E2E_D/snippet
mkdir -p "$SN"
{ echo "compatibility_level = 3.6"; cat "$SNIPPET"; } >"$SN/main.cf"
cp /usr/share/postfix/master.cf.dist "$SN/master.cf"
_w=$(postconf -c "$SN" -n 2>&1 >"$SN/n.out")
[ -z "$_w" ] || t_fail "postconf: $_w"
for _x in 'smtpd_milters = unix:portguard/milter' 'milter_default_action = tempfail' \
	'smtpd_tls_auth_only = yes'; do
	grep -q -x -F "$_x" "$SN/n.out" || t_fail "main.cf.milter.snippet: no $_x"
done
grep -q '^non_smtpd_milters' "$SN/n.out" && t_fail "main.cf.milter.snippet sets non_smtpd_milters"
grep -q '^milter_[a-z]*_macros' "$SN/n.out" && t_fail "main.cf.milter.snippet edits the macro lists"
t_end

if [ ! -x "$PG_BIN" ]; then
	echo "FAIL: pfmilter: $PG_BIN is not built"
	E2E_FAILED=$((E2E_FAILED + 1))
	exit 1
fi

MODE=enforce
mg_write_conf enforce
t_begin "portguard-milter starts, binds, drops to nobody"
mg_start || t_fail "did not start"
pg_check_dropped
t_end
[ -n "$PG_PID" ] || exit 1
PF_LOG_OFF=$(wc -c <"$PF_LOG")

cases

# Postfix's default milter_connect_macros lacks {daemon_port}: the numbers in
# the log lines above came through portguard's smfi_setsymlist request.
t_begin "macros: Postfix delivered {daemon_port} on request (no unknown-port or missing-macro warning)"
_m=$(grep -E 'matches no entry in ports|sent neither \{daemon_port\}' "$PG_LOG")
[ -z "$_m" ] || t_fail "$_m"
t_end

stats_check "enforce: stats on SIGUSR2 equal what the test sent through Postfix"

t_begin "SIGUSR1 reload switches to mode=monitor"
mg_write_conf monitor
_n=$(pg_count 'reloaded: .*mode=monitor')
kill -USR1 "$PG_PID"
t_wait 100 pg_count_above 'reloaded: .*mode=monitor' "$_n" || t_fail "no 'reloaded: ... mode=monitor' line after SIGUSR1"
t_alive "$PG_PID" || t_fail "portguard-milter died on SIGUSR1"
t_end

MODE=monitor
cases
stats_check "monitor: stats on SIGUSR2 equal what the test sent through Postfix"

# portguard told the truth: origin_domain = $FAR_ORIGIN (not local), as read
# from the MTA; the raw recipient alone is now remote.
t_begin "SIGUSR1 reload: mode=enforce, origin_domain = $FAR_ORIGIN"
PG_ORIGIN=$FAR_ORIGIN mg_write_conf enforce
_n=$(pg_count 'reloaded: .*mode=enforce')
kill -USR1 "$PG_PID"
t_wait 100 pg_count_above 'reloaded: .*mode=enforce' "$_n" || t_fail "no 'reloaded: ... mode=enforce' line after SIGUSR1"
t_end
MODE=enforce
m=$MODE
r=o-$m
far_cases "origin not local"
stats_check "origin not local: stats on SIGUSR2 equal what the test sent through Postfix"

t_begin "SIGTERM: clean exit (status 0, no sanitizer report)"
T_OFF=$(wc -c <"$PG_LOG")
PF_LOG_END=$(wc -c <"$PF_LOG")
pg_stop
[ "$PG_RC" = 0 ] || t_fail "exit status $PG_RC"
t_log "stopping"
t_nolog "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:"
t_end

# The shipped milter_default_action = tempfail with portguard down: mail is
# deferred, never accepted unchecked, even from a trusted client. (Postfix
# tempfails the session from CONNECT on: MAIL gets 451 4.7.1, and STARTTLS
# 454 4.3.0.)
t_begin "milter down: milter_default_action = tempfail -> 451 4.7.1 at MAIL, not accepted"
t_swaks --port "$P_RELAY" --to "down@$E2E_DOMAIN"
t_reply '^451 4\.7\.1 Service unavailable'
grep -q '^ *-> RCPT TO:' "$T_OUT" && t_fail "swaks got as far as RCPT TO"
t_end

# Postfix's side of the milter protocol: no failed exchange while the milter
# was up.
t_begin "postfix maillog: no milter trouble while portguard-milter ran"
_bad=$(tail -c "+$((PF_LOG_OFF + 1))" "$PF_LOG" | head -c "$((PF_LOG_END - PF_LOG_OFF))" |
	grep -i -E 'milter.*(unexpected|error|timeout|can.t|fatal)|warning: .*milter')
[ -z "$_bad" ] || t_fail "$_bad"
t_end

t_fail2ban "$RELAY_N"

echo "pfmilter: $E2E_PASSED passed, $E2E_FAILED failed"
[ "$E2E_FAILED" = 0 ]
