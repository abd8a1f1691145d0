#!/bin/sh
# shellcheck disable=SC2086 # $AUTH, $UNTRUSTED: option lists, split on purpose
# shellcheck disable=SC2034 # DRV_*, T_* are read by tests/lib/case.sh
# tests/sendmail/run.sh BUILD_DIR - end-to-end tests against a real Sendmail.
#
# A private Sendmail 8.17 (Debian's package files, never installed) listens on
# 127.0.0.1 only; swaks is the client, "untrusted" when it binds 127.0.0.2.
# Prints "PASS: name" / "FAIL: name" per test case.
#   1. harness: the shipped conf/sendmail/portguard.mc lines, no milter:
#      STARTTLS, implicit TLS, AUTH against sasldb, Sendmail's own relay
#      denial, AuthOptions=p hiding AUTH before STARTTLS, M=a.
#   2. portguard: the same lines with the milter attached (F=T), Sendmail's
#      own guards loosened (no p, no M=a, promiscuous_relay) so that only
#      portguard stands between the client and the queue; every row of SPEC's
#      decision table (the cases of tests/lib/cases.tsv marked "s") on the
#      STARTTLS, implicit-TLS and relay ports, asserting on the reply the
#      client saw and on portguard's log line; then the per-port stats
#      (SIGUSR2) against what the test sent.
# Needs root (Sendmail binds and runs as root), swaks, saslpasswd2, openssl,
# m4, libwrap0, and apt-get download access once (the .debs are cached in
# BUILD_DIR/sendmail-pkg).
set -u
B=${1:-build/san}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
SM_TOP=$top
. "$top/tests/sendmail/lib.sh"

MILTER=$B/portguard-milter
pass() { echo "PASS: sendmail_$1"; T_PASSED=$((T_PASSED + 1)); }
fail() {
	echo "FAIL: sendmail_$1${2:+ ($2)}"
	T_FAILED=$((T_FAILED + 1))
	[ -n "${SM_DIR:-}" ] && [ -f "$SM_DIR/t/$1" ] && sed 's/^/    | /' "$SM_DIR/t/$1" | tail -n 25
	return 0
}

trap 'sm_cleanup' EXIT
trap 'exit 130' INT TERM

t_needs sendmail "Sendmail binds and runs as root" swaks saslpasswd2 openssl m4 ss dpkg apt-get unshare
# One run at a time on this machine: the ports and the system Sendmail.conf
# are shared by every build tree.
if command -v flock >/dev/null 2>&1; then
	exec 9>"${TMPDIR:-/tmp}/portguard-sendmail-tests.lock"
	if ! flock -w 300 9; then
		echo "FAIL: sendmail_setup (another Sendmail test run holds the lock for 300 s)"
		exit 1
	fi
fi
if ! sm_init "$B"; then
	echo "FAIL: sendmail_setup (see messages above)"
	exit 1
fi
[ "${SM_SYSLOG:-0}" = 1 ] && sm_syslog_start

AUTH="-a PLAIN -au $SM_USER -ap $SM_PASS"
UNTRUSTED="--local-interface 127.0.0.2"
LOCAL_RCPT="root@$SM_DOMAIN"
REMOTE_RCPT="someone@remote.example"

# ---- driver ----------------------------------------------------------------
# SPEC's decision cases are rows of tests/lib/cases.tsv (run by
# tests/lib/case.sh); this layer's driver: Sendmail passes the milter's reply
# through at MAIL for the session rules (a 550 there prefixed with
# "<sender>... ", Sendmail's own wording) and at RCPT for the relay rule;
# promiscuous_relay makes portguard the only relay guard. The MON port's entry
# is in monitor mode ($SM_MON_MODE until a reload changes it); the MX2 entry
# is matched by its Name= label only, and its stats are keyed by the label.
PG_LOG=$SM_DIR/milter.log
: >"$PG_LOG"
T_TOP=$top
T_DIR=$SM_DIR/t
T_FROM="alice@$SM_DOMAIN"
T_HELO=client.example
TALLY=$SM_DIR/tally
: >"$TALLY"
DRV_LAYER=s
DRV_MILTER=1
DRV_MTA_RELAY=0
DRV_USER=$SM_USER
DRV_PASS=$SM_PASS
DRV_USER_RE=$SM_USER
DRV_CLIENT_NAME='[^ ]*'
DRV_ALARM_HINT='AuthOptions=p'
DRV_QUEUED='^250 2\.0\.0 .*accepted for delivery'
SM_MON_MODE=monitor

drv_at() {
	T_MODE=enforce
	T_ROLE=submission
	case $1 in
	sub) T_CPORT=$SM_PORT_MSA ;;
	tls13) T_CPORT=$SM_PORT_ALT ;;
	smtps) T_CPORT=$SM_PORT_SMTPS ;;
	bare) T_CPORT=$SM_PORT_BAD ;;
	relay) T_CPORT=$SM_PORT_MTA T_ROLE=relay ;;
	label) T_CPORT=$SM_PORT_MX2 T_ROLE=relay ;;
	mon) T_CPORT=$SM_PORT_MON T_MODE=$SM_MON_MODE ;;
	*) return 1 ;;
	esac
	T_PORT=$T_CPORT
	T_KEY=$T_CPORT
	# The stats line names an entry by its port, or by its label when it has none.
	[ "$1" = label ] && T_KEY=MX2
	return 0
}

drv_rcpt() {
	case $1 in
	remote) echo "$REMOTE_RCPT" ;;
	local) echo "$LOCAL_RCPT" ;;
	sub) echo "root@sub.$SM_DOMAIN" ;;
	percent) echo "someone%remote.example@$SM_DOMAIN" ;;
	# unqualified: Sendmail appends $j ($SM_HOST, local); its local mailer's
	# {rcpt_addr} is the bare user, local as the origin is
	unq) echo root ;;
	postmaster) echo postmaster ;;
	# listed as local in portguard.conf (.pg.test) and forwarded by Sendmail
	# ({rcpt_mailer}=esmtp, {rcpt_addr} unchanged): the MTA's routing
	# confirms "remote" only when the address it resolved to is itself remote
	gateway) echo "root@other.$SM_DOMAIN" ;;
	esac
}

drv_name() {
	echo "sendmail_$1"
}

drv_wrap() {
	case $1 in
	550*) echo "^$1 (<[^>]*>\.\.\. )?$2" ;;
	*) echo "^$1 $2" ;;
	esac
}

# log_has OFFSET ERE: a line of the milter's log after byte OFFSET matches.
log_has() {
	tail -c "+$(($1 + 1))" "$PG_LOG" | grep -Eq -- "$2"
}

# ---- 1. harness: shipped lines, no milter ----------------------------------

# The shipped lines, verbatim but for ports and socket path, make a .cf with
# what conf/sendmail/portguard.mc promises.
shipped_cf() {
	sm_write_mc shipped && sm_build_cf || { fail shipped_cf_builds; return 1; }
	pass shipped_cf_builds
	cf=$SM_DIR/test.cf
	bad=""
	grep -q "^O AuthOptions=p,y\$" "$cf" || bad="$bad AuthOptions"
	grep -q "^O InputMailFilters=portguard\$" "$cf" || bad="$bad InputMailFilters"
	grep -q "^Xportguard, S=unix:$SM_DIR/milter, F=T, T=C:10s;S:10s;R:10s;E:30s\$" "$cf" || bad="$bad X-line"
	grep -q "^O DaemonPortOptions=Port=$SM_PORT_MSA, Addr=127.0.0.1, Name=MSA, M=Ea\$" "$cf" || bad="$bad MSA"
	grep -q "^O DaemonPortOptions=Port=$SM_PORT_SMTPS, Addr=127.0.0.1, Name=SMTPS, M=Eas\$" "$cf" || bad="$bad SMTPS"
	grep -q "^O DaemonPortOptions=Port=$SM_PORT_ALT, Addr=127.0.0.1, Name=ALT, M=Ea\$" "$cf" || bad="$bad ALT"
	grep -q "^O DaemonPortOptions=Port=$SM_PORT_MTA, Addr=127.0.0.1, Name=MTA\$" "$cf" || bad="$bad MTA"
	[ "$(grep -c '^O DaemonPortOptions=' "$cf")" = 4 ] || bad="$bad extra-daemons"
	grep -q '^O Milter.macros.connect=.*{daemon_name}.*{daemon_port}' "$cf" || bad="$bad macros.connect"
	grep -q '^O Milter.macros.helo=.*{tls_version}, {cipher}, {cipher_bits}' "$cf" || bad="$bad macros.helo"
	grep -q '^O Milter.macros.envfrom=.*{auth_type}, {auth_authen}.*{tls_version}' "$cf" || bad="$bad macros.envfrom"
	grep -q '^O Milter.macros.envrcpt=.*{rcpt_mailer}, {rcpt_host}' "$cf" || bad="$bad macros.envrcpt"
	if [ -z "$bad" ]; then pass shipped_cf_content; else fail shipped_cf_content "missing:$bad"; fi
}

harness() {
	sm_write_mc harness && sm_build_cf && sm_start || {
		fail harness_start "Sendmail with the shipped lines did not start"
		return 1
	}
	# STARTTLS on the MSA port, AUTH PLAIN against sasldb, mail queued.
	t_begin sendmail_harness_msa_starttls_auth
	t_swaks --port "$SM_PORT_MSA" $UNTRUSTED -tls $AUTH --to "$REMOTE_RCPT"
	t_seen '235 2\.0\.0'
	t_seen '250 2\.0\.0 .*accepted for delivery'
	t_end
	# Implicit TLS on the SMTPS port (M=s): the greeting already comes over TLS.
	t_begin sendmail_harness_smtps_implicit_tls
	t_swaks --port "$SM_PORT_SMTPS" $UNTRUSTED --tlsc $AUTH --to "$REMOTE_RCPT"
	grep -q '^<~  220 ' "$T_OUT" || t_fail "the greeting did not come over TLS"
	t_seen '250 2\.0\.0 .*accepted for delivery'
	t_end
	# AuthOptions=p (shipped): no AUTH offered before STARTTLS.
	t_begin sendmail_harness_no_auth_before_tls
	t_swaks --port "$SM_PORT_MSA" $UNTRUSTED $AUTH --to "$REMOTE_RCPT"
	grep -q 'Host did not advertise authentication' "$T_OUT" || t_fail "swaks did not miss AUTH"
	grep -q '^<-  250-AUTH' "$T_OUT" && t_fail "AUTH offered before STARTTLS"
	t_end
	# M=a (shipped): Sendmail itself refuses MAIL without AUTH on the MSA.
	t_begin sendmail_harness_msa_requires_auth
	t_swaks --port "$SM_PORT_MSA" $UNTRUSTED -tls --to "$REMOTE_RCPT"
	t_seen '530 5\.7\.0'
	t_end
	# Sendmail's own relay denial on the MTA port, for an untrusted client.
	t_begin sendmail_harness_mta_relay_denied
	t_swaks --port "$SM_PORT_MTA" $UNTRUSTED --to "$REMOTE_RCPT"
	t_seen '550 5\.7\.1 .*Relaying denied'
	t_end
	# ... and local mail is accepted there.
	t_begin sendmail_harness_mta_local
	t_swaks --port "$SM_PORT_MTA" $UNTRUSTED --to "$LOCAL_RCPT"
	t_seen '250 2\.0\.0 .*accepted for delivery'
	t_end
	sm_stop
}

# ---- 2. portguard ----------------------------------------------------------

write_pg_conf() {
	cat >"$SM_DIR/portguard.conf" <<EOF
# generated by tests/sendmail/run.sh
state_directory = "";
mode = "enforce";
on_error = "tempfail";
default_role = "relay";
user = "nobody";
log = { level = "info"; stats_interval = 0; };
relay = {
  local_domains = [ "$SM_DOMAIN", ".$SM_DOMAIN" ];
  trusted_networks = [ "127.0.0.1/32" ];
  authenticated_may_relay = true;
  # Sendmail's \$j: it qualifies <user> with it (and its local mailer's
  # {rcpt_addr} is the bare user)
  origin_domain = "$SM_HOST";
};
ports = (
  { port = $SM_PORT_MTA;   name = "MTA";   role = "relay"; auth = "optional"; },
  # matched by its Sendmail Name= label only
  { name = "MX2"; role = "relay"; auth = "forbidden"; },
  { port = $SM_PORT_MSA;   name = "MSA";   role = "submission"; tls = "starttls";
    min_tls_version = "TLSv1.2"; min_cipher_bits = 256; },
  { port = $SM_PORT_SMTPS; name = "SMTPS"; role = "submission"; tls = "implicit"; },
  { port = $SM_PORT_BAD;   role = "submission"; tls = "implicit"; },
  { port = $SM_PORT_ALT;   name = "ALT";   role = "submission"; tls = "starttls";
    min_tls_version = "TLSv1.3"; },
  { port = $SM_PORT_MON;   name = "MON";   role = "submission"; tls = "starttls"; mode = "${PG_MON_MODE:-monitor}"; }
);
milter = { listen = "unix:$SM_DIR/milter"; socket_mode = "0660"; };
EOF
}

# unknown_port: a port portguard.conf does not list gets default_role relay
# and one warning, not one per message.
unknown_port() {
	for _n in unk_relay_denied unk_relay_denied_again; do
		t_begin "sendmail_$_n"
		t_swaks --port "$SM_PORT_UNK" $UNTRUSTED --to "$REMOTE_RCPT"
		t_reply "^554 5\.7\.1 Relay access denied$"
		t_stage rcpt
		t_log "$T_QID: reject: port=$SM_PORT_UNK role=relay mode=enforce client=[^ ]*\[127\.0\.0\.2\]:[0-9]+ .*rule=relay reply="
		t_tally "$SM_PORT_UNK" relay rcpt enforce
		[ "$_n" = unk_relay_denied ] && t_log "warning: port=$SM_PORT_UNK label=UNK matches no entry in ports; applying default_role=relay"
		t_end
	done
	if t_newlog | grep -q "port=$SM_PORT_UNK label=UNK matches no entry"; then
		fail unk_port_warning_once "the unknown-port warning came twice"
	else
		pass unk_port_warning_once
	fi
}

# reload NAME ERE: SIGUSR1 to the milter; the check NAME passes when a line
# matching ERE follows.
reload() {
	_off=$(wc -c <"$PG_LOG")
	kill -USR1 "$SM_MILTER_PID"
	if t_wait 30 log_has "$_off" "$2"; then
		pass "$1"
	else
		fail "$1" "no '$2' line"
		tail -c "+$((_off + 1))" "$PG_LOG" | sed 's/^/    log| /'
	fi
}

# reload_checks: SIGUSR1 with a broken file keeps the running config; with a
# good one it takes effect for the next session (the MON port: monitor ->
# enforce).
reload_checks() {
	echo 'ports = ( { port = 1; role = "nonsense"; } );' >>"$SM_DIR/portguard.conf"
	reload reload_broken_config_logged "reload failed: "
	t_row mon_would_reject sendmail_reload_broken_keeps_monitor
	PG_MON_MODE=enforce write_pg_conf
	reload reload_good_config reloaded
	SM_MON_MODE=enforce
	t_row mon_would_reject sendmail_reload_mon_now_enforces
}

# sessions_settle: every SMTP session is over on both sides. Sendmail's
# per-connection children are gone (each closes its milter connection before
# it exits), and the milter's thread count (libmilter: one per session) has
# stopped falling. Bounded; the stats sums below are exact either way unless a
# session is still open when the milter stops.
sm_no_children() {
	[ "$(grep -l "^PPid:[[:space:]]*$SM_PID\$" /proc/[0-9]*/status 2>/dev/null | wc -l)" = 0 ]
}
# milter_threads_steady: the thread count is the same as at the last call.
milter_threads_steady() {
	_mt_n=$(find "/proc/$SM_MILTER_PID/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	[ "$_mt_n" = "$_mt_prev" ] && return 0
	_mt_prev=$_mt_n
	return 1
}
sessions_settle() {
	t_wait 100 sm_no_children
	_mt_prev=-1
	t_wait 50 milter_threads_steady
}

# stats_ports: the stats keys the cases counted something for.
stats_ports() {
	awk '{ print $1 }' "$TALLY" | sort -u
}

# stats_usr2: SIGUSR2 makes one stats line per port that saw traffic.
stats_usr2() {
	sessions_settle
	_off=$(wc -c <"$PG_LOG")
	kill -USR2 "$SM_MILTER_PID"
	missing=""
	for port in $(stats_ports); do
		t_wait 30 log_has "$_off" "stats: port=$port " || missing="$missing $port"
	done
	if [ -z "$missing" ]; then
		pass stats_sigusr2
	else
		fail stats_sigusr2 "no stats line after SIGUSR2 for:$missing"
	fi
}

# stats_sums: per port, the stats lines of the whole run (SIGUSR2 and
# shutdown; each covers the time since the previous one) add up to exactly
# what the test sent.
stats_sums() {
	for port in $(stats_ports); do
		bad=""
		for key in sessions transactions recipients tls plaintext auth auth_plaintext rejected \
			would_reject reject_plaintext_auth reject_auth_forbidden reject_tls_required \
			reject_tls_version reject_cipher reject_auth_required reject_relay; do
			want=$(grep -c -x -F "$port $key" "$TALLY")
			got=$(grep -E "stats: port=$port " "$PG_LOG" |
				sed -n "s/.* $key=\\([0-9]*\\).*/\\1/p" | awk '{ s += $1 } END { print s + 0 }')
			[ "$got" = "$want" ] || bad="$bad $key=$got(want $want)"
		done
		if [ -z "$bad" ]; then
			pass "stats_port_$port"
		else
			fail "stats_port_$port" "$bad"
			grep -E "stats: port=$port " "$PG_LOG" | sed 's/^/    log| /'
		fi
	done
}

portguard() {
	if [ ! -x "$MILTER" ]; then
		fail portguard_milter "no $MILTER: build it first (make B=$B all)"
		return 1
	fi
	write_pg_conf
	if ! "$MILTER" -n -c "$SM_DIR/portguard.conf" >"$SM_DIR/t/config_check" 2>&1; then
		fail config_check "portguard-milter -n rejects the test config"
		return 1
	fi
	pass config_check
	sm_write_mc milter && sm_build_cf && sm_start || {
		fail portguard_start "Sendmail with the milter lines did not start"
		return 1
	}
	# F=T: with no milter answering, Sendmail tempfails at MAIL instead of
	# accepting, with the reply README.md names.
	t_begin sendmail_dead_milter_tempfails
	t_swaks --port "$SM_PORT_MTA" $UNTRUSTED --to "$LOCAL_RCPT"
	grep -A1 -E '^[ ]*-> MAIL FROM' "$T_OUT" | grep -Eq '^<[-~*]+ +451 4\.3\.2 Please try again later' ||
		t_fail "no 451 4.3.2 Please try again later right after MAIL FROM"
	grep -Eq '^<[-~*]+ +250 2\.0\.0 .*accepted' "$T_OUT" && t_fail "the message was accepted"
	t_end
	: >"$PG_LOG"
	if ! pg_milter_start "$MILTER" "$SM_DIR/portguard.conf"; then
		fail milter_start
		return 1
	fi
	pass milter_start
	t_rows
	unknown_port
	reload_checks
	stats_usr2
	# One more session after SIGUSR2: its counts must come out at shutdown.
	_off=$(wc -c <"$PG_LOG")
	t_row mta_untrusted_local sendmail_stats_at_shutdown
	sessions_settle
	pg_milter_stop
	if [ "$SM_MILTER_RC" = 0 ]; then
		pass milter_clean_exit
	else
		fail milter_clean_exit "portguard-milter exited $SM_MILTER_RC after SIGTERM"
		tail -c "+$((_off + 1))" "$PG_LOG" | tail -n 30 | sed 's/^/    log| /'
	fi
	if log_has "$_off" "stats: port=$SM_PORT_MTA role=relay .* transactions=1 recipients=1 "; then
		pass stats_written_at_shutdown
	else
		fail stats_written_at_shutdown "no final stats line with the last session"
		tail -c "+$((_off + 1))" "$PG_LOG" | sed 's/^/    log| /'
	fi
	stats_sums
	sm_stop
}

t0=$(date +%s)
shipped_cf
harness
portguard
echo "sendmail layer: $T_PASSED passed, $T_FAILED failed in $(($(date +%s) - t0)) s"
[ "$T_FAILED" = 0 ]
