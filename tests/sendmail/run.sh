#!/bin/sh
# shellcheck disable=SC2086 # $AUTH, $UNTRUSTED: option lists, split on purpose
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
#      decision table on the STARTTLS, implicit-TLS and relay ports, asserting
#      on the reply the client saw and on portguard's log line; then the
#      per-port stats (SIGUSR2) against what the test sent.
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
npass=0
nfail=0
pass() { echo "PASS: sendmail_$1"; npass=$((npass + 1)); }
fail() {
	echo "FAIL: sendmail_$1${2:+ ($2)}"
	nfail=$((nfail + 1))
	[ -n "${SM_DIR:-}" ] && [ -f "$SM_DIR/t/$1" ] && sed 's/^/    | /' "$SM_DIR/t/$1" | tail -n 25
	return 0
}

trap 'sm_cleanup' EXIT
trap 'exit 130' INT TERM

if [ "$(id -u)" != 0 ]; then
	echo "FAIL: sendmail_setup (must run as root: Sendmail binds and runs as root)"
	exit 1
fi
for tool in swaks saslpasswd2 openssl m4 ss dpkg apt-get unshare; do
	command -v "$tool" >/dev/null 2>&1 || { echo "FAIL: sendmail_setup (missing $tool)"; exit 1; }
done
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

# ---- helpers ---------------------------------------------------------------

# The milter's log grows during the run; each case looks only at its own lines.
log_mark() { MARK=$(wc -l <"$SM_DIR/milter.log" 2>/dev/null || echo 0); }
new_log() { tail -n +"$((MARK + 1))" "$SM_DIR/milter.log"; }

# log_wait REGEX: a line matching REGEX appeared since log_mark (bounded poll;
# the milter logs before it answers, so this normally succeeds at once).
log_wait() {
	i=0
	while [ $i -lt 30 ]; do
		new_log | grep -Eq -- "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Expected per-port counters for the stats test (sessions, transactions,
# tls, plaintext, auth, auth_plaintext, rejected, would_reject, reject_<rule>).
count() { # count PORT KEY [N]
	v=$(eval "echo \${cnt_$1_$2:-0}")
	eval "cnt_$1_$2=$((v + ${3:-1}))"
	case " $counted_ports " in *" $1 "*) ;; *) counted_ports="$counted_ports $1" ;; esac
}
counted_ports=""
# The stats line names an entry by its port, or by its label when it has none.
statkey() { [ "$1" = "$SM_PORT_MX2" ] && echo MX2 || echo "$1"; }

# case_smtp NAME PORT TLS AUTHED OUTCOME REPLY LOGRE -- SWAKS-ARGS
#   TLS: tls|plain (for the stats), AUTHED: yes|no (for the stats),
#   OUTCOME: "reject RULE" | "would-reject RULE" | "pass" | "reject-mail RULE";
#   REPLY: ERE the client must see; LOGRE: ERE portguard must log ("" none).
# Each session sends one MAIL; a rejected one never reaches DATA.
case_smtp() {
	name=$1 port=$2 tls=$3 authed=$4 outcome=$5 reply=$6 logre=$7
	shift 8
	log_mark
	sm_swaks "$name" -p "$port" "$@"
	if ! sm_reply_seen "$name" "$reply"; then
		fail "$name" "client did not see /$reply/"
	elif [ -n "$logre" ] && ! log_wait "$logre"; then
		fail "$name" "no portguard log line /$logre/"
		new_log | sed 's/^/    log| /'
	else
		pass "$name"
	fi
	k=$(statkey "$port")
	count "$k" sessions
	count "$k" transactions
	count "$k" "$tls"
	[ "$authed" = yes ] && count "$k" auth
	[ "$authed" = yes ] && [ "$tls" = plaintext ] && count "$k" auth_plaintext
	# Every rule but relay rejects at MAIL, and then no RCPT follows.
	case $outcome in
	"reject relay" | pass | would-reject\ *) count "$k" recipients ;;
	esac
	case $outcome in
	reject\ *)
		count "$k" rejected
		count "$k" "reject_${outcome#reject }"
		;;
	would-reject\ *)
		count "$k" would_reject
		count "$k" "reject_${outcome#would-reject }"
		;;
	esac
	return 0
}

# A decision line: "<qid|NOQUEUE>: reject: port=P role=R mode=M client=... rule=RULE reply=..."
dline() { # dline KIND PORT RULE
	echo "(NOQUEUE|[A-Za-z0-9]+): $1: port=$2 role=[a-z]+ mode=[a-z]+ client=[^ ]*\\[127\\.0\\.0\\.[12]\\]:[0-9]+ .* rule=$3( |\$)"
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
	sm_swaks harness_msa_starttls_auth -p "$SM_PORT_MSA" $UNTRUSTED -tls $AUTH -t "$REMOTE_RCPT"
	if sm_reply_seen harness_msa_starttls_auth '235 2\.0\.0' &&
		sm_reply_seen harness_msa_starttls_auth '250 2\.0\.0 .*accepted for delivery'; then
		pass harness_msa_starttls_auth
	else
		fail harness_msa_starttls_auth
	fi
	# Implicit TLS on the SMTPS port (M=s): the greeting already comes over TLS.
	sm_swaks harness_smtps_implicit_tls -p "$SM_PORT_SMTPS" $UNTRUSTED --tlsc $AUTH -t "$REMOTE_RCPT"
	if grep -q '^<~  220 ' "$SM_DIR/t/harness_smtps_implicit_tls" &&
		sm_reply_seen harness_smtps_implicit_tls '250 2\.0\.0 .*accepted for delivery'; then
		pass harness_smtps_implicit_tls
	else
		fail harness_smtps_implicit_tls
	fi
	# AuthOptions=p (shipped): no AUTH offered before STARTTLS.
	sm_swaks harness_no_auth_before_tls -p "$SM_PORT_MSA" $UNTRUSTED $AUTH -t "$REMOTE_RCPT"
	if grep -q 'Host did not advertise authentication' "$SM_DIR/t/harness_no_auth_before_tls" &&
		! grep -q '^<-  250-AUTH' "$SM_DIR/t/harness_no_auth_before_tls"; then
		pass harness_no_auth_before_tls
	else
		fail harness_no_auth_before_tls
	fi
	# M=a (shipped): Sendmail itself refuses MAIL without AUTH on the MSA.
	sm_swaks harness_msa_requires_auth -p "$SM_PORT_MSA" $UNTRUSTED -tls -t "$REMOTE_RCPT"
	if sm_reply_seen harness_msa_requires_auth '530 5\.7\.0'; then
		pass harness_msa_requires_auth
	else
		fail harness_msa_requires_auth
	fi
	# Sendmail's own relay denial on the MTA port, for an untrusted client.
	sm_swaks harness_mta_relay_denied -p "$SM_PORT_MTA" $UNTRUSTED -t "$REMOTE_RCPT"
	if sm_reply_seen harness_mta_relay_denied '550 5\.7\.1 .*Relaying denied'; then
		pass harness_mta_relay_denied
	else
		fail harness_mta_relay_denied
	fi
	# ... and local mail is accepted there.
	sm_swaks harness_mta_local -p "$SM_PORT_MTA" $UNTRUSTED -t "$LOCAL_RCPT"
	if sm_reply_seen harness_mta_local '250 2\.0\.0 .*accepted for delivery'; then
		pass harness_mta_local
	else
		fail harness_mta_local
	fi
	sm_stop
}

# ---- 2. portguard ----------------------------------------------------------

write_pg_conf() {
	cat >"$SM_DIR/portguard.conf" <<EOF
# generated by tests/sendmail/run.sh
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

scenarios() {
	M=$SM_PORT_MSA S=$SM_PORT_SMTPS R=$SM_PORT_MTA
	# -- STARTTLS submission port --------------------------------------------
	# 1 plaintext AUTH (Sendmail offered it: no p) -> 538 + alarm
	case_smtp msa_plaintext_auth "$M" plaintext yes "reject plaintext_auth" \
		'538 5\.7\.11 Encryption required for requested authentication mechanism' \
		"$(dline reject "$M" plaintext_auth)" -- $UNTRUSTED $AUTH -t "$REMOTE_RCPT"
	if new_log | grep -Eq "warning: credentials sent without TLS: sasl_username=$SM_USER sasl_method=PLAIN client=.* port=$M role=submission"; then
		pass msa_plaintext_auth_alarm
	else
		fail msa_plaintext_auth_alarm "no 'credentials sent without TLS' warning"
	fi
	# 3 no TLS
	case_smtp msa_no_tls "$M" plaintext no "reject tls_required" \
		'530 5\.7\.0 Must issue a STARTTLS command first' \
		"$(dline reject "$M" tls_required)" -- $UNTRUSTED -t "$REMOTE_RCPT"
	# 5 cipher below min_cipher_bits (TLS 1.2, AES-128)
	case_smtp msa_weak_cipher "$M" tls yes "reject cipher" \
		'530 5\.7\.0 Cipher not accepted' \
		"$(dline reject "$M" cipher)" -- $UNTRUSTED -tls --tls-protocol tlsv1_2 \
		--tls-cipher ECDHE-RSA-AES128-GCM-SHA256 $AUTH -t "$REMOTE_RCPT"
	# 6 TLS but no AUTH
	case_smtp msa_no_auth "$M" tls no "reject auth_required" \
		'530 5\.7\.0 Authentication required' \
		"$(dline reject "$M" auth_required)" -- $UNTRUSTED -tls -t "$REMOTE_RCPT"
	# - TLS 1.3 + AUTH: passes, relays
	case_smtp msa_tls_auth_pass "$M" tls yes pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$M" none)" -- $UNTRUSTED -tls $AUTH -t "$REMOTE_RCPT"
	# - TLS 1.2 with a 256-bit cipher + AUTH: passes
	case_smtp msa_tls12_auth_pass "$M" tls yes pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$M" none)" -- $UNTRUSTED -tls --tls-protocol tlsv1_2 \
		--tls-cipher ECDHE-RSA-AES256-GCM-SHA384 $AUTH -t "$REMOTE_RCPT"
	# -- alternate submission port, min TLSv1.3 -----------------------------
	# 4 TLS older than the port's minimum
	case_smtp alt_tls_version "$SM_PORT_ALT" tls yes "reject tls_version" \
		'530 5\.7\.0 TLSv1\.3 or later required' \
		"$(dline reject "$SM_PORT_ALT" tls_version)" -- $UNTRUSTED -tls --tls-protocol tlsv1_2 \
		$AUTH -t "$REMOTE_RCPT"
	case_smtp alt_tls13_pass "$SM_PORT_ALT" tls yes pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$SM_PORT_ALT" none)" -- $UNTRUSTED -tls $AUTH -t "$REMOTE_RCPT"
	# -- implicit-TLS port ----------------------------------------------------
	case_smtp smtps_no_auth "$S" tls no "reject auth_required" \
		'530 5\.7\.0 Authentication required' \
		"$(dline reject "$S" auth_required)" -- $UNTRUSTED --tlsc -t "$REMOTE_RCPT"
	case_smtp smtps_auth_pass "$S" tls yes pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$S" none)" -- $UNTRUSTED --tlsc $AUTH -t "$REMOTE_RCPT"
	case_smtp smtps_tls12_auth_pass "$S" tls yes pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$S" none)" -- $UNTRUSTED --tlsc --tls-protocol tlsv1_2 $AUTH -t "$REMOTE_RCPT"
	# 3 on a port portguard.conf calls implicit but Sendmail does not wrap
	case_smtp smtps_unwrapped "$SM_PORT_BAD" plaintext no "reject tls_required" \
		'530 5\.7\.0 Must issue a STARTTLS command first' \
		"$(dline reject "$SM_PORT_BAD" tls_required)" -- $UNTRUSTED -t "$REMOTE_RCPT"
	if new_log | grep -Eq "error: port=$SM_PORT_BAD is configured tls=implicit but the session has no TLS: the MTA is not wrapping this port in TLS .*Sendmail: M=s"; then
		pass smtps_unwrapped_error_line
	else
		fail smtps_unwrapped_error_line "no 'not wrapping this port in TLS' error line"
	fi
	# 1 on the unwrapped port: plaintext AUTH is decided first
	case_smtp smtps_unwrapped_plaintext_auth "$SM_PORT_BAD" plaintext yes "reject plaintext_auth" \
		'538 5\.7\.11' "$(dline reject "$SM_PORT_BAD" plaintext_auth)" -- $UNTRUSTED $AUTH -t "$REMOTE_RCPT"
	# -- relay port (Sendmail relays for anyone here: promiscuous_relay) ------
	# 7 untrusted, unauthenticated, remote recipient
	case_smtp mta_relay_denied "$R" plaintext no "reject relay" \
		"554 5\\.7\\.1 Relay access denied$" \
		"$(dline reject "$R" relay)" -- $UNTRUSTED -t "$REMOTE_RCPT"
	# ... with TLS it is still no relay
	case_smtp mta_tls_relay_denied "$R" tls no "reject relay" \
		"554 5\\.7\\.1 Relay access denied$" \
		"$(dline reject "$R" relay)" -- $UNTRUSTED -tls -t "$REMOTE_RCPT"
	# ... nor when the remote part hides in the local part
	case_smtp mta_relay_percent_hack "$R" plaintext no "reject relay" \
		"554 5\\.7\\.1 Relay access denied$" \
		"$(dline reject "$R" relay)" -- $UNTRUSTED -t "someone%remote.example@$SM_DOMAIN"
	# local recipient from an untrusted client: MX duty, passes
	# unqualified recipients: Sendmail appends \$j ($SM_HOST, local); its
	# local mailer's {rcpt_addr} is the bare user, local as the origin is
	case_smtp mta_unqualified_origin_local "$R" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$R" none)" -- $UNTRUSTED -t root
	case_smtp mta_postmaster "$R" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$R" none)" -- $UNTRUSTED -t postmaster
	case_smtp mta_untrusted_local "$R" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$R" none)" -- $UNTRUSTED -t "$LOCAL_RCPT"
	# a subdomain of an entry listed with a leading dot is local too (Sendmail
	# agrees: sub.pg.test is in its local-host-names)
	case_smtp mta_untrusted_subdomain "$R" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$R" none)" -- $UNTRUSTED -t "root@sub.$SM_DOMAIN"
	# listed as local in portguard.conf (.pg.test) and forwarded by Sendmail
	# ({rcpt_mailer}=esmtp, {rcpt_addr} unchanged): a gateway for a listed
	# domain; the MTA's routing confirms "remote" only when the address it
	# resolved to is itself remote, so this passes
	case_smtp mta_gateway_listed_domain "$R" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$R" none)" -- $UNTRUSTED -t "root@other.$SM_DOMAIN"
	# trusted network relays
	case_smtp mta_trusted_relay "$R" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$R" none)" -- -t "$REMOTE_RCPT"
	# authenticated (over TLS) relays
	case_smtp mta_auth_relay "$R" tls yes pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$R" none)" -- $UNTRUSTED -tls $AUTH -t "$REMOTE_RCPT"
	# 1 plaintext AUTH on the relay port
	case_smtp mta_plaintext_auth "$R" plaintext yes "reject plaintext_auth" \
		'538 5\.7\.11' "$(dline reject "$R" plaintext_auth)" -- $UNTRUSTED $AUTH -t "$REMOTE_RCPT"
	# 2 AUTH on a relay port that forbids it (entry matched by label MX2)
	case_smtp mx2_auth_forbidden "$SM_PORT_MX2" tls yes "reject auth_forbidden" \
		'550 5\.7\.1 (<[^>]*>\.\.\. )?Authentication is not accepted on this port' \
		"$(dline reject "$SM_PORT_MX2" auth_forbidden)" -- $UNTRUSTED -tls $AUTH -t "$LOCAL_RCPT"
	case_smtp mx2_local_pass "$SM_PORT_MX2" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline pass "$SM_PORT_MX2" none)" -- $UNTRUSTED -t "$LOCAL_RCPT"
	# -- monitor mode: logged and counted, mail goes through ------------------
	case_smtp mon_would_reject "$SM_PORT_MON" plaintext no "would-reject tls_required" \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline would-reject "$SM_PORT_MON" tls_required)" -- $UNTRUSTED -t "$REMOTE_RCPT"
	# -- a port portguard.conf does not list: default_role relay, one warning -
	case_smtp unk_relay_denied "$SM_PORT_UNK" plaintext no "reject relay" \
		"554 5\\.7\\.1 Relay access denied$" \
		"warning: port=$SM_PORT_UNK label=UNK matches no entry in ports; applying default_role=relay" \
		-- $UNTRUSTED -t "$REMOTE_RCPT"
	log_mark
	case_smtp unk_relay_denied_again "$SM_PORT_UNK" plaintext no "reject relay" \
		"554 5\\.7\\.1 Relay access denied$" \
		"$(dline reject "$SM_PORT_UNK" relay)" -- $UNTRUSTED -t "$REMOTE_RCPT"
	if new_log | grep -q "port=$SM_PORT_UNK label=UNK matches no entry"; then
		fail unk_port_warning_once "the unknown-port warning came twice"
	else
		pass unk_port_warning_once
	fi
}

# reload_checks: SIGUSR1 with a broken file keeps the running config; with a
# good one it takes effect for the next session (the MON port: monitor ->
# enforce).
reload_checks() {
	echo 'ports = ( { port = 1; role = "nonsense"; } );' >>"$SM_DIR/portguard.conf"
	log_mark
	kill -USR1 "$SM_MILTER_PID"
	if log_wait "reload failed: "; then
		pass reload_broken_config_logged
	else
		fail reload_broken_config_logged "no 'reload failed' line"
		new_log | sed 's/^/    log| /'
	fi
	case_smtp reload_broken_keeps_monitor "$SM_PORT_MON" plaintext no "would-reject tls_required" \
		'250 2\.0\.0 .*accepted for delivery' \
		"$(dline would-reject "$SM_PORT_MON" tls_required)" -- $UNTRUSTED -t "$REMOTE_RCPT"
	PG_MON_MODE=enforce write_pg_conf
	log_mark
	kill -USR1 "$SM_MILTER_PID"
	if log_wait "reloaded"; then
		pass reload_good_config
	else
		fail reload_good_config "no 'reloaded' line"
		new_log | sed 's/^/    log| /'
	fi
	case_smtp reload_mon_now_enforces "$SM_PORT_MON" plaintext no "reject tls_required" \
		'530 5\.7\.0 Must issue a STARTTLS command first' \
		"$(dline reject "$SM_PORT_MON" tls_required)" -- $UNTRUSTED -t "$REMOTE_RCPT"
}

# sessions_settle: every SMTP session is over on both sides. Sendmail's
# per-connection children are gone (each closes its milter connection before
# it exits), and the milter's thread count (libmilter: one per session) has
# stopped falling. Bounded; the stats sums below are exact either way unless a
# session is still open when the milter stops.
sessions_settle() {
	i=0
	while [ $i -lt 100 ]; do
		kids=$(grep -l "^PPid:[[:space:]]*$SM_PID\$" /proc/[0-9]*/status 2>/dev/null | wc -l)
		[ "$kids" = 0 ] && break
		sleep 0.1
		i=$((i + 1))
	done
	prev=-1
	i=0
	while [ $i -lt 50 ]; do
		n=$(ls "/proc/$SM_MILTER_PID/task" 2>/dev/null | wc -l)
		[ "$n" = "$prev" ] && break
		prev=$n
		sleep 0.1
		i=$((i + 1))
	done
}

# stats_usr2: SIGUSR2 makes one stats line per port that saw traffic.
stats_usr2() {
	sessions_settle
	log_mark
	kill -USR2 "$SM_MILTER_PID"
	missing=""
	for port in $counted_ports; do
		log_wait "stats: port=$port " || missing="$missing $port"
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
	for port in $counted_ports; do
		bad=""
		for key in sessions transactions recipients tls plaintext auth auth_plaintext rejected \
			would_reject reject_plaintext_auth reject_auth_forbidden reject_tls_required \
			reject_tls_version reject_cipher reject_auth_required reject_relay; do
			want=$(eval "echo \${cnt_${port}_${key}:-0}")
			got=$(grep -E "stats: port=$port " "$SM_DIR/milter.log" |
				sed -n "s/.* $key=\\([0-9]*\\).*/\\1/p" | awk '{ s += $1 } END { print s + 0 }')
			[ "$got" = "$want" ] || bad="$bad $key=$got(want $want)"
		done
		if [ -z "$bad" ]; then
			pass "stats_port_$port"
		else
			fail "stats_port_$port" "$bad"
			grep -E "stats: port=$port " "$SM_DIR/milter.log" | sed 's/^/    log| /'
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
	sm_swaks dead_milter_tempfails -p "$SM_PORT_MTA" $UNTRUSTED -t "$LOCAL_RCPT"
	if grep -A1 -E '^[ ]*-> MAIL FROM' "$SM_DIR/t/dead_milter_tempfails" |
		grep -Eq '^<[-~*]+ +451 4\.3\.2 Please try again later' &&
		! sm_reply_seen dead_milter_tempfails '250 2\.0\.0 .*accepted'; then
		pass dead_milter_tempfails
	else
		fail dead_milter_tempfails
	fi
	: >"$SM_DIR/milter.log"
	if ! pg_milter_start "$MILTER" "$SM_DIR/portguard.conf"; then
		fail milter_start
		return 1
	fi
	pass milter_start
	scenarios
	reload_checks
	stats_usr2
	# One more session after SIGUSR2: its counts must come out at shutdown.
	log_mark
	case_smtp stats_at_shutdown "$SM_PORT_MTA" plaintext no pass \
		'250 2\.0\.0 .*accepted for delivery' "$(dline pass "$SM_PORT_MTA" none)" \
		-- $UNTRUSTED -t "$LOCAL_RCPT"
	sessions_settle
	pg_milter_stop
	if [ "$SM_MILTER_RC" = 0 ]; then
		pass milter_clean_exit
	else
		fail milter_clean_exit "portguard-milter exited $SM_MILTER_RC after SIGTERM"
		new_log | tail -n 30 | sed 's/^/    log| /'
	fi
	if new_log | grep -Eq "stats: port=$SM_PORT_MTA role=relay .* transactions=1 recipients=1 "; then
		pass stats_written_at_shutdown
	else
		fail stats_written_at_shutdown "no final stats line with the last session"
		new_log | sed 's/^/    log| /'
	fi
	stats_sums
	sm_stop
}

t0=$(date +%s)
shipped_cf
harness
portguard
echo "sendmail layer: $npass passed, $nfail failed in $(($(date +%s) - t0)) s"
[ "$nfail" = 0 ]
