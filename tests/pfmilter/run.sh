#!/bin/sh
# shellcheck disable=SC2034 # DRV_*, T_* and STATS_FIELDS are read by tests/lib/
# tests/pfmilter/run.sh BUILD_DIR - portguard-milter under a real Postfix:
# swaks -> private Postfix on loopback -> smtpd_milters -> portguard-milter
# (BUILD_DIR/portguard-milter). The policy service is NOT attached: the milter
# is the only portguard in the mail path.
#
# Every row of SPEC's decision table (the cases of tests/lib/cases.tsv marked
# "m") is sent on a STARTTLS submission port, an implicit-TLS port and a relay
# port (plus ports that exist only to reach one
# rule: min TLSv1.3, CHACHA20 only, a label with AUTH forbidden, an
# implicit-TLS port Postfix does not wrap), first with mode = "enforce", then,
# after a SIGUSR1 reload, with mode = "monitor". Each case asserts the reply
# the client saw (the milter's session rules reject at MAIL FROM, the relay
# rule at RCPT TO), the line portguard logged and, where the row says, where
# Postfix routed the message. On the far port Postfix appends an origin that
# is not local while portguard's origin_domain is local: {rcpt_addr} decides.
# Then, reloaded with mode = "enforce" and origin_domain = that origin, the
# rows marked "M". The stats lines printed on
# SIGUSR2 are compared with what the cases sent (the milter counts sessions,
# TLS, versions and AUTH per session, at close). Then sessions that end
# before MAIL (EHLO then QUIT, STARTTLS then QUIT): sessions= must equal
# Postfix's "connect from" lines. Then, with the milter
# stopped, the shipped milter_default_action makes Postfix defer. Last,
# Debian's stock fail2ban postfix filter must match every relay refusal, and
# portguard's own filter and logcheck rules (conf/) work on its log.
# Prints "PASS: name" / "FAIL: name".
#
# The Postfix harness (config dir, queue, TLS key, sasldb, start/stop, the
# Postfix part of the case driver) is tests/e2e/lib.sh, over the shared
# library tests/lib/; this file replaces its main.cf and master.cf. How the test Postfix differs from
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
. tests/lib/logfilters.sh

t_needs pfmilter "Postfix's master process runs as root" postfix postconf swaks saslpasswd2 openssl ss \
	python3 fail2ban-regex

# Ports of this layer (127.0.0.1 only), clear of the e2e and sendmail layers.
P_RELAY=11025  # relay (MX role), TLS optional
P_SUB=11587    # STARTTLS submission, min TLSv1.2
P_SMTPS=11465  # implicit TLS submission, Postfix wraps it
P_BARE=11466   # implicit-TLS role in portguard, but Postfix does NOT wrap it
P_TLS13=11588  # STARTTLS submission with min_tls_version = TLSv1.3
P_CIPHER=11589 # STARTTLS submission that accepts only CHACHA20 (TLS <= 1.2)
P_LABEL=11526  # milter_macro_daemon_name=noauth (relay role, AUTH forbidden)
P_SHIPPED=     # no policy service, so no shipped policy hookup
P_FAR=11027    # relay whose rewriting appends myorigin = $FAR_ORIGIN (not local)
E2E_PORTS="$P_RELAY $P_SUB $P_SMTPS $P_BARE $P_TLS13 $P_CIPHER $P_LABEL $P_FAR"

e2e_init "$top" "${1:-build/san}"
# The harness's portguard variables now name the milter: pg_start starts it
# (ready when mg_ready says so), e2e_cleanup stops PG_PID (pg_stop) and
# removes PG_SOCK; t_begin/t_log read PG_LOG.
PG_BIN=$E2E_B/portguard-milter
PG_SOCK=$E2E_D/milter
PG_READY=mg_ready
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
# TLS optional, SASL; smtpd_tls_auth_only = no (the snippet says yes): the
# test lets plaintext AUTH through to prove that portguard rejects it.
$(pf_main_cf_clients)
# conf/postfix/main.cf.milter.snippet (socket path made absolute):
$_sn
EOF
	{
		pf_case_smtpds milter_macro_daemon_name=noauth
		pf_internal_services
	} >"$PF/master.cf"
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
		pg_case_ports
		echo "milter = { listen = \"unix:$PG_SOCK\"; socket_mode = \"0660\"; timeout = 30; };"
	} >"$PG_CONF.tmp"
	chmod 0644 "$PG_CONF.tmp"
	mv -f "$PG_CONF.tmp" "$PG_CONF"
}

pf_create || e2e_setup_fail "could not create the Postfix test instance"
pf_write_milter_conf || e2e_setup_fail "could not write the Postfix milter config"
pf_start || e2e_setup_fail "private Postfix did not start"

# ------------------------------------------------------------------ driver
# SPEC's decision cases are rows of tests/lib/cases.tsv (run by
# tests/lib/case.sh); this layer's driver: Postfix passes the milter's reply
# through verbatim, at MAIL for the session rules and at RCPT for the relay
# rule; it trusts all of 127.0.0.0/8, so in monitor mode every message is
# accepted. Stats are keyed by port, or by the label for the label port.
DRV_LAYER=m
DRV_MILTER=1
DRV_MTA_RELAY=0
DRV_USER=$E2E_USER
DRV_PASS=$E2E_PASS
DRV_USER_RE="$E2E_USER@$(t_ere "$E2E_DOMAIN")"
DRV_CLIENT_NAME='[^ ]*'
DRV_ALARM_HINT='.*smtpd_tls_auth_only'
DRV_QUEUED='^250 2\.0\.0 Ok: queued as '
DRV_MTA_LOG=$PF_LOG
TALLY=$E2E_D/tally
: >"$TALLY"

drv_wrap() {
	echo "^$1 $2"
}

# ------------------------------------------------------------------ stats
STATS_FIELDS="sessions transactions recipients tls plaintext TLSv1.3 TLSv1.2 TLSv1.1 TLSv1.0 \
auth auth_plaintext rejected would_reject reject_plaintext_auth reject_auth_forbidden \
reject_tls_required reject_tls_version reject_cipher reject_auth_required reject_relay"

# stats_sessions_closed (STATS_BEFORE of stats_check, tests/lib/case.sh):
# the milter counts a session at close, so wait until it has closed every
# session the test made. stats_check then also refuses a stats line for a
# port the test did not use.
STATS_BEFORE=stats_sessions_closed
closed_at_least() { # the milter logged at least $1 "session closed:" lines
	[ "$(pg_count 'session closed: ')" -ge "$1" ]
}
stats_sessions_closed() {
	t_wait 100 closed_at_least "$T_SESSIONS" ||
		t_fail "the milter logged $(pg_count 'session closed: ') 'session closed:' lines, the test made $T_SESSIONS sessions"
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
	T_FAILED=$((T_FAILED + 1))
	exit 1
fi

MODE=enforce
mg_write_conf enforce
t_begin "portguard-milter starts, binds, drops to nobody"
pg_start -p "unix:$PG_SOCK" || t_fail "did not start"
pg_check_dropped
t_end
[ -n "$PG_PID" ] || exit 1
PF_LOG_OFF=$(wc -c <"$PF_LOG")

t_rows

# Postfix's default milter_connect_macros lacks {daemon_port}: the numbers in
# the log lines above came through portguard's smfi_setsymlist request.
t_begin "macros: Postfix delivered {daemon_port} on request (no unknown-port or missing-macro warning)"
_m=$(grep -E 'matches no entry in ports|sent neither \{daemon_port\}' "$PG_LOG")
[ -z "$_m" ] || t_fail "$_m"
t_end

stats_check "enforce: stats on SIGUSR2 equal what the test sent through Postfix" sessions 1

t_begin "SIGUSR1 reload switches to mode=monitor"
mg_write_conf monitor
pg_signal USR1 'reloaded: .*mode=monitor' || t_fail "no 'reloaded: ... mode=monitor' line after SIGUSR1"
t_alive "$PG_PID" || t_fail "portguard-milter died on SIGUSR1"
t_end

MODE=monitor
t_rows
stats_check "monitor: stats on SIGUSR2 equal what the test sent through Postfix" sessions 1

# portguard told the truth: origin_domain = $FAR_ORIGIN (not local), as read
# from the MTA; the raw recipient alone is now remote. Recipients and names
# carry "far".
t_begin "SIGUSR1 reload: mode=enforce, origin_domain = $FAR_ORIGIN"
PG_ORIGIN=$FAR_ORIGIN mg_write_conf enforce
pg_signal USR1 'reloaded: .*mode=enforce' || t_fail "no 'reloaded: ... mode=enforce' line after SIGUSR1"
t_end
MODE=enforce
RCPT_TAG=far
DRV_LAYER=M t_rows
stats_check "origin not local: stats on SIGUSR2 equal what the test sent through Postfix" sessions 1

# Sessions that end before MAIL. Postfix's smtpd reports CONNECT to every
# milter before it sends its greeting (smtpd_proto -> milter_conn_event) and
# QUIT when the client leaves (milter8_disc_event), for every session. The
# milter answers CONNECT and HELO, so Postfix waits until it has read them
# (with no reply asked for, libmilter dropped such sessions unread when
# Postfix had hung up first: milter/callbacks.c), and counts each one:
# sessions= equals Postfix's "connect from" lines. The one limit: a session
# that ends right after STARTTLS, before its second EHLO, is counted as
# plaintext, because Postfix sends the milter no event (and so no TLS macro)
# between STARTTLS and the next command.
# pre_mail N PORT TALLY... ARG...: N sessions, each tallied as the TALLY words.
pre_mail() {
	_pm_n=$1 _pm_port=$2
	shift 2
	_pm_words=
	while [ "$1" != -- ]; do
		_pm_words="$_pm_words $1"
		shift
	done
	shift
	_pm_i=0
	while [ "$_pm_i" -lt "$_pm_n" ]; do
		t_swaks --port "$_pm_port" "$@"
		case $T_REPLY in 2*) ;; *) t_fail "port $_pm_port $*: last reply '$T_REPLY'" ;; esac
		for _pm_w in $_pm_words; do echo "$_pm_port $_pm_w"; done >>"$TALLY"
		T_SESSIONS=$((T_SESSIONS + 1))
		_pm_i=$((_pm_i + 1))
	done
}
t_begin "sessions before MAIL: EHLO-QUIT, STARTTLS-EHLO-QUIT, STARTTLS-QUIT, one message"
_pm_off=$(wc -c <"$PF_LOG")
_pm_s0=$T_SESSIONS
pre_mail 5 "$P_SUB" sessions plaintext -- --quit-after first-helo --to "pm@$E2E_DOMAIN"
pre_mail 2 "$P_SUB" sessions tls TLSv1.3 -- -tls --quit-after helo --to "pm@$E2E_DOMAIN"
pre_mail 1 "$P_SUB" sessions plaintext -- -tls --quit-after tls --to "pm@$E2E_DOMAIN"
pre_mail 3 "$P_RELAY" sessions plaintext -- --quit-after first-helo --local-interface 127.0.0.2 --to "pm@$E2E_DOMAIN"
pre_mail 1 "$P_RELAY" sessions transactions recipients plaintext -- --to "pm-one@$E2E_DOMAIN"
_pm_connects=$(tail -c "+$((_pm_off + 1))" "$PF_LOG" | grep -c -E 'postfix/[a-z]+/smtpd\[[0-9]+\]: connect from ')
[ "$_pm_connects" = $((T_SESSIONS - _pm_s0)) ] ||
	t_fail "Postfix logged $_pm_connects 'connect from' lines, the test made $((T_SESSIONS - _pm_s0)) sessions"
t_end
stats_check "sessions before MAIL: sessions= equals Postfix's connect from lines" sessions 1

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
t_stage mail
t_end

# Postfix's side of the milter protocol: no failed exchange while the milter
# was up.
t_begin "postfix maillog: no milter trouble while portguard-milter ran"
_bad=$(tail -c "+$((PF_LOG_OFF + 1))" "$PF_LOG" | head -c "$((PF_LOG_END - PF_LOG_OFF))" |
	grep -i -E 'milter.*(unexpected|error|timeout|can.t|fatal)|warning: .*milter')
[ -z "$_bad" ] || t_fail "$_bad"
t_end

pf_fail2ban "$T_RELAY_N"

# The shipped fail2ban filter (conf/fail2ban) and logcheck rules
# (conf/logcheck) on portguard's own log of this run, as rsyslog would have
# written it (both timestamp styles): tests/lib/logfilters.sh.
t_begin "conf/fail2ban and conf/logcheck: exactly the relay refusals and alarms banned, routine lines ignored"
for _st in traditional rfc3339; do
	logfilters_syslog "$PG_LOG" "$E2E_D/pg-$_st.log" "$_st"
	_lf=$(logfilters_check "$E2E_D/pg-$_st.log" "$E2E_D/lf-$_st")
	[ -z "$_lf" ] || t_fail "$_st timestamps: $_lf"
done
t_end

echo "pfmilter: $T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" = 0 ]
