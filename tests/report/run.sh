#!/bin/sh
# shellcheck disable=SC2034 # E2E_PORTS, SYSLOG_* and T_* are read by tests/e2e/lib.sh and tests/lib/
# tests/report/run.sh BUILD_DIR - portguard-report's numbers equal what was
# sent, exactly (issue 12, item 1).
#
# A private Postfix on 127.0.0.1 (ports 15000-15099, this layer's range)
# with BOTH portguard daemons in the mail path (portguard-policyd in
# smtpd_relay_restrictions, portguard-milter in smtpd_milters), everything
# logging through a private rsyslogd on /dev/log into two files: one with
# traditional stamps, one with RFC 3339 stamps. swaks sends a known mix:
# EHLO only; STARTTLS then QUIT; AUTH without TLS then QUIT; failed AUTH;
# full transactions over TLS 1.3 and TLS 1.2 (STARTTLS) and over implicit
# TLS; one over TLS 1.1 and one over TLS 1.0 (STARTTLS on port $P_LEGACY,
# whose minimum in portguard.conf is TLSv1, and where Postfix and swaks
# lower OpenSSL's security level to 0 so that either side offers them at
# all); mail refused by portguard; relay probes from 127.0.0.2 and 127.0.0.3;
# would-refusals on ports in monitor mode. Then a private Sendmail with
# portguard-milter (tests/sendmail/lib.sh) gets the same kinds of session on
# its daemons, logging to the same files. Each session adds its expected
# counts to a tally ("PORT FIELD" lines), which must equal the report's
# per-port CSV, field by field. Then the policy daemon is killed with -9
# between two stats lines and started again (its state file recovers the
# counts): the report lists both the restart without a final stats line
# (from the stats line to the restart) and the recovered period. The same
# log gzip-compressed, on standard input and with RFC 3339 stamps gives the
# same numbers; the JSON output is valid against tests/report/report.schema.json.
# The RFC 3339 log, turned into the journal export format
# (tests/report/syslog2export.py) and written into a real journal file by
# systemd-journal-remote, read with --journal-directory and --journal-file,
# gives the same per-port numbers as the syslog file.
#
# Outside the test directory only /dev/log is touched (rsyslogd creates it;
# the layer needs it absent, like tests/e2e's syslog_start; removed at the
# end), and what tests/sendmail/lib.sh touches (its Sendmail.conf).
# Prints "PASS: name" / "FAIL: name".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
SM_TOP=$top
# shellcheck source=tests/sendmail/lib.sh
. tests/sendmail/lib.sh

t_needs report "Postfix's master process and rsyslogd on /dev/log run as root" postfix swaks \
	rsyslogd saslpasswd2 openssl ss python3 gzip /lib/systemd/systemd-journal-remote

P_RELAY=15025  # relay, enforce
P_MON=15026    # relay, monitor
P_SUB=15087    # STARTTLS submission, enforce, min TLSv1.2
P_MONSUB=15088 # STARTTLS submission, monitor
P_SMTPS=15065  # implicit TLS submission, enforce
P_LEGACY=15089 # STARTTLS submission, enforce, min TLSv1: TLS 1.0 and 1.1 allowed
E2E_PORTS="$P_RELAY $P_MON $P_SUB $P_MONSUB $P_SMTPS $P_LEGACY"
# The private Sendmail's daemons (tests/sendmail/lib.sh's "milter" variant).
SM_PORT_MTA=15035   # relay (Name=MTA)
SM_PORT_MX2=15036   # relay, matched by its label
SM_PORT_MON=15037   # submission, monitor
SM_PORT_UNK=15038   # in no port entry
SM_PORT_MSA=15097   # submission, STARTTLS
SM_PORT_SMTPS=15067 # submission, implicit TLS
SM_PORT_BAD=15068   # implicit TLS in portguard.conf, not wrapped
SM_PORT_ALT=15095   # submission, STARTTLS

e2e_init "$top" "${1:-build/san}"
REPORT=$E2E_B/portguard-report
MG_BIN=$E2E_B/portguard-milter
MG_SOCK=$E2E_D/milter
MG_PID=
STATE=$E2E_D/state
TRAD=$E2E_D/trad.log
RFC=$E2E_D/rfc.log
TALLY=$E2E_D/tally
: >"$TALLY"
mkdir -p "$STATE"
chown nobody "$STATE"

if [ -e /dev/log ]; then
	echo "FAIL: report setup: /dev/log exists; this layer needs its own syslog there"
	exit 1
fi

# The EXIT trap: the milter first, then e2e_cleanup (Postfix, policyd,
# rsyslogd, the test directory) with the script's exit status.
report_cleanup() {
	_rrc=$?
	t_stop_pid "$MG_PID"
	rm -f "$MG_SOCK"
	sm_cleanup >/dev/null 2>&1
	(exit "$_rrc")
	e2e_cleanup
}
trap report_cleanup EXIT

# ------------------------------------------------------------------ setup

report_syslog_start() {
	mkdir -p "$E2E_D/rsyslog"
	cat >"$E2E_D/rsyslog.conf" <<EOF
global(workDirectory="$E2E_D/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
*.* action(type="omfile" file="$TRAD" template="RSYSLOG_TraditionalFileFormat")
*.* action(type="omfile" file="$RFC" template="RSYSLOG_FileFormat")
EOF
	rsyslogd -n -f "$E2E_D/rsyslog.conf" -i "$E2E_D/rsyslog.pid" >"$E2E_D/rsyslog.out" 2>&1 &
	SYSLOG_PID=$!
	SYSLOG_MADE_DEVLOG=1
	t_wait 100 test -S /dev/log
}

report_pf_create() {
	pf_create || return 1
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/report/run.sh): both portguard daemons, syslog.
$(pf_main_cf_base)
maillog_file =
mydestination = $E2E_DOMAIN, mx.$E2E_DOMAIN, localhost
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP portguard-report
$(pf_main_cf_clients)
smtpd_relay_restrictions = check_policy_service { unix:$PG_SOCK, default_action=DEFER },
  permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination
smtpd_milters = unix:$MG_SOCK
milter_default_action = tempfail
EOF
	{
		echo "# service type  private unpriv  chroot  wakeup  maxproc command + args"
		pf_smtpd "$P_RELAY" relay
		pf_smtpd "$P_MON" monitor
		pf_smtpd "$P_SUB" submission
		pf_smtpd "$P_MONSUB" monsub
		pf_smtpd "$P_SMTPS" smtps smtpd_tls_wrappermode=yes
		pf_smtpd "$P_LEGACY" legacy "smtpd_tls_protocols=>=TLSv1" \
			"smtpd_tls_mandatory_protocols=>=TLSv1" smtpd_tls_ciphers=medium \
			tls_medium_cipherlist=DEFAULT:@SECLEVEL=0
		pf_internal_services
	} >"$PF/master.cf"
}

report_pg_conf() {
	{
		echo "# tests/report portguard.conf (both daemons)"
		pg_conf_head enforce info "$STATE"
		cat <<EOF
ports = (
  { port = $P_RELAY;  role = "relay"; },
  { port = $P_MON;    role = "relay"; mode = "monitor"; },
  { port = $P_SUB;    role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = $P_MONSUB; role = "submission"; tls = "starttls"; mode = "monitor"; },
  { port = $P_SMTPS;  role = "submission"; tls = "implicit"; },
  { port = $P_LEGACY; role = "submission"; tls = "starttls"; min_tls_version = "TLSv1"; }
);
policyd = { listen = [ "unix:$PG_SOCK" ]; socket_mode = "0660"; };
milter = { listen = "unix:$MG_SOCK"; socket_mode = "0660"; timeout = 30; };
EOF
	} >"$PG_CONF"
	chmod 0644 "$PG_CONF"
}

# logged ERE: the traditional log has a line matching ERE.
logged() {
	grep -q -E -- "$1" "$TRAD" 2>/dev/null
}
logged_n() { # logged_n N ERE: at least N lines match
	[ "$(grep -c -E -- "$2" "$TRAD" 2>/dev/null)" -ge "$1" ]
}

policyd_start() {
	rm -f "$PG_SOCK"
	t_daemon "$PG_LOG" 100 pg_sock_ready "$PG_BIN" -f -c "$PG_CONF"
	_rc=$?
	PG_PID=$T_PID
	return "$_rc"
}

milter_ready() {
	[ -S "$MG_SOCK" ] && logged 'portguard-milter\[[0-9]+\]: listening on'
}

report_syslog_start || e2e_setup_fail "rsyslogd did not create /dev/log"
report_pf_create || e2e_setup_fail "could not create the Postfix test instance"
report_pg_conf
[ -x "$REPORT" ] && [ -x "$MG_BIN" ] && [ -x "$PG_BIN" ] ||
	e2e_setup_fail "$REPORT, $PG_BIN or $MG_BIN is not built"
policyd_start || e2e_setup_fail "portguard-policyd did not start"
t_daemon "$E2E_D/milter.out" 100 milter_ready "$MG_BIN" -f -c "$PG_CONF" ||
	{ MG_PID=$T_PID; e2e_setup_fail "portguard-milter did not start"; }
MG_PID=$T_PID
pf_start || e2e_setup_fail "private Postfix did not start"

# ------------------------------------------------------------------ the mix

# send NAME PORT "FIELD..." SWAKS-ARGS...: one session from $SEND_FROM;
# its expected counts go to the tally; then $SEND_WAIT runs.
SENT=0
send() {
	_name=$1
	_port=$2
	_fields=$3
	shift 3
	SENT=$((SENT + 1))
	timeout 30 swaks --server 127.0.0.1 --port "$_port" --timeout 10 --helo client.example.net \
		--from "$SEND_FROM" "$@" >"$T_DIR/$SENT-$_name.txt" 2>&1
	for _f in sessions $_fields; do
		echo "$_port $_f" >>"$TALLY"
	done
	$SEND_WAIT
}
# Postfix: wait until it logged the session's disconnect (so that the order
# of the log is the order of the test).
pf_sent() {
	t_wait 100 logged_n "$SENT" 'postfix/[a-z]+/smtpd\[[0-9]+\]: disconnect from' ||
		echo "report: no disconnect line for session $SENT" >&2
}
SEND_FROM="sender@$E2E_DOMAIN"
SEND_WAIT=pf_sent
AUTH="-a PLAIN -au $E2E_USER -ap $E2E_PASS"
LOCAL="--to u@$E2E_DOMAIN"
OLD_TLS="--tls --tls-cipher DEFAULT:@SECLEVEL=0"
FAR="--to x@far.example"

t_begin "the mix: 20 sessions through Postfix with both daemons"
# shellcheck disable=SC2086 # AUTH, LOCAL and FAR are lists of words
{
	send ehlo-only "$P_SUB" "" --quit-after EHLO
	send starttls-quit "$P_SUB" "tls TLSv1.3" --tls --quit-after TLS
	send auth-plain-quit "$P_SUB" "auth auth_without_tls" $AUTH --quit-after AUTH
	send auth-failed "$P_SUB" "tls TLSv1.3 auth_failed" --tls -a PLAIN -au "$E2E_USER" -ap wrong --quit-after AUTH
	send tls13-mail "$P_SUB" "tls TLSv1.3 auth transactions recipients" --tls --tls-protocol tlsv1_3 $AUTH $LOCAL
	send tls12-mail "$P_SUB" "tls TLSv1.2 auth transactions recipients" --tls --tls-protocol tlsv1_2 $AUTH $LOCAL
	send tls12-mail-2 "$P_SUB" "tls TLSv1.2 auth transactions recipients" --tls --tls-protocol tlsv1_2 $AUTH $LOCAL
	send plain-refused "$P_SUB" "refused refused_tls_required" $LOCAL
	send tls11-mail "$P_LEGACY" "tls TLSv1.1 auth transactions recipients" $OLD_TLS --tls-protocol tlsv1_1 $AUTH $LOCAL
	send tls10-mail "$P_LEGACY" "tls TLSv1.0 auth transactions recipients" $OLD_TLS --tls-protocol tlsv1 $AUTH $LOCAL
	send smtps-mail "$P_SMTPS" "tls TLSv1.3 auth transactions recipients" --tlsc $AUTH $LOCAL
	send smtps-ehlo "$P_SMTPS" "tls TLSv1.3" --tlsc --quit-after EHLO
	send relay-local "$P_RELAY" "transactions recipients" $LOCAL
	send relay-probe-2a "$P_RELAY" "transactions refused refused_relay" --local-interface 127.0.0.2 $FAR
	send relay-probe-2b "$P_RELAY" "transactions refused refused_relay" --local-interface 127.0.0.2 $FAR
	send relay-probe-3 "$P_RELAY" "transactions refused refused_relay" --local-interface 127.0.0.3 $FAR
	send monitor-probe-3 "$P_MON" "transactions would_refuse would_relay" --local-interface 127.0.0.3 $FAR
	send monsub-plain "$P_MONSUB" "transactions recipients would_refuse would_tls_required" $LOCAL
	send monsub-auth-plain "$P_MONSUB" "auth auth_without_tls transactions recipients would_refuse would_plaintext_auth alarms" $AUTH $LOCAL
	send monsub-tls-noauth "$P_MONSUB" "tls TLSv1.3 transactions recipients would_refuse would_auth_required" --tls $LOCAL
}
t_end

# ------------------------------------------------------------------ kill -9

t_begin "kill -9 of the policy daemon between two stats lines, then a restart"
kill -USR2 "$PG_PID"
t_wait 100 logged 'portguard-policyd\[[0-9]+\]: stats: port=' || t_fail "no stats line after SIGUSR2"
STATS_AT=$(grep -E 'portguard-policyd\[[0-9]+\]: stats: port=' "$RFC" | tail -n 1 | cut -d' ' -f1)
# shellcheck disable=SC2086
send relay-probe-2c "$P_RELAY" "transactions refused refused_relay" --local-interface 127.0.0.2 $FAR
t_wait 100 logged_n 4 'portguard-policyd\[[0-9]+\]: NOQUEUE: reject: .*rule=relay' ||
	t_fail "the policy daemon did not refuse the last probe"
kill -KILL "$PG_PID"
t_wait 100 t_gone "$PG_PID"
wait "$PG_PID" 2>/dev/null
sleep 1.1 # the restart is in a later second than the last count
policyd_start || t_fail "portguard-policyd did not start again"
t_wait 100 logged_n 2 'portguard-policyd\[[0-9]+\]: starting: ' || t_fail "no second starting: line"
START2_AT=$(grep -E 'portguard-policyd\[[0-9]+\]: starting: ' "$RFC" | tail -n 1 | cut -d' ' -f1)
RECOVERED=$(grep -E 'portguard-policyd\[[0-9]+\]: stats: .*recovered=1' "$RFC" | head -n 1)
[ -n "$RECOVERED" ] || t_fail "no recovered=1 line after the restart"
# shellcheck disable=SC2086
send after-restart "$P_RELAY" "transactions recipients" $LOCAL
t_end

t_begin "clean stop: both daemons log stopping:, the logs are complete"
pg_stop
t_stop_pid "$MG_PID"
MG_PID=
# the killed run wrote none: one for the restarted policy daemon, one for the milter
t_wait 100 logged_n 2 'portguard-(policyd|milter)\[[0-9]+\]: stopping: ' || t_fail "no stopping: lines"
pf_stop
t_end

# ------------------------------------------------------------------ Sendmail
# The same log, a private Sendmail with portguard-milter (the "milter"
# variant of tests/sendmail/lib.sh: plaintext AUTH let through,
# FEATURE(promiscuous_relay)), logging to the same rsyslogd. Sendmail's
# sessions are keyed by its daemon names, mapped to ports with --port-map.
SM_MAP="MTA=$SM_PORT_MTA,MSA=$SM_PORT_MSA,SMTPS=$SM_PORT_SMTPS,MON=$SM_PORT_MON"

sm_pg_conf() {
	{
		echo "# tests/report portguard.conf for the Sendmail milter"
		# shellcheck disable=SC2030 # the subshell's own domain and origin
		(E2E_DOMAIN=$SM_DOMAIN PG_ORIGIN=$SM_HOST && pg_conf_head enforce info "")
		cat <<EOF
ports = (
  { port = $SM_PORT_MTA;   name = "MTA";   role = "relay"; },
  { name = "MX2"; role = "relay"; auth = "forbidden"; },
  { port = $SM_PORT_MSA;   name = "MSA";   role = "submission"; tls = "starttls"; },
  { port = $SM_PORT_SMTPS; name = "SMTPS"; role = "submission"; tls = "implicit"; },
  { port = $SM_PORT_BAD;   role = "submission"; tls = "implicit"; },
  { port = $SM_PORT_ALT;   name = "ALT";   role = "submission"; tls = "starttls"; },
  { port = $SM_PORT_MON;   name = "MON";   role = "submission"; tls = "starttls"; mode = "monitor"; }
);
milter = { listen = "unix:$SM_DIR/milter"; socket_mode = "0660"; };
EOF
	} >"$SM_DIR/portguard.conf"
	chmod 0644 "$SM_DIR/portguard.conf"
}
sm_milter_up() {
	[ -S "$SM_DIR/milter" ] && logged_n 2 'portguard-milter\[[0-9]+\]: listening on'
}

SM_AUTH="-a PLAIN -au $SM_USER -ap $SM_PASS"
SM_LOCAL="--to root@$SM_DOMAIN"
SM_FAR="--to x@far.example"

t_begin "Sendmail with portguard-milter: the mix"
PF_SENT=$SENT
SEND_FROM="alice@$SM_DOMAIN"
SEND_WAIT=:
if ! sm_init "$E2E_B" || ! sm_write_mc milter || ! sm_build_cf; then
	t_fail "the Sendmail harness could not be set up"
else
	sm_pg_conf
	t_daemon "$E2E_D/sm-milter.out" 100 sm_milter_up "$MG_BIN" -f -c "$SM_DIR/portguard.conf" ||
		t_fail "portguard-milter for Sendmail did not start"
	SM_MILTER_PID=$T_PID
	sm_start || t_fail "Sendmail did not start"
	# shellcheck disable=SC2086 # SM_AUTH, SM_LOCAL and SM_FAR are lists of words
	{
		send ehlo-only "$SM_PORT_MSA" "" --quit-after EHLO
		send starttls-quit "$SM_PORT_MSA" "tls TLSv1.3" --tls --quit-after TLS
		send auth-plain-quit "$SM_PORT_MSA" "auth auth_without_tls" $SM_AUTH --quit-after AUTH
		send tls13-mail "$SM_PORT_MSA" "tls TLSv1.3 auth transactions recipients" --tls --tls-protocol tlsv1_3 $SM_AUTH $SM_LOCAL
		send tls12-mail "$SM_PORT_MSA" "tls TLSv1.2 auth transactions recipients" --tls --tls-protocol tlsv1_2 $SM_AUTH $SM_LOCAL
		send smtps-mail "$SM_PORT_SMTPS" "tls TLSv1.3 auth transactions recipients" --tlsc $SM_AUTH $SM_LOCAL
		send relay-local "$SM_PORT_MTA" "transactions recipients" $SM_LOCAL
		send relay-probe-2 "$SM_PORT_MTA" "transactions refused refused_relay" --local-interface 127.0.0.2 $SM_FAR
		send relay-probe-3 "$SM_PORT_MTA" "transactions refused refused_relay" --local-interface 127.0.0.3 $SM_FAR
		send mon-plain "$SM_PORT_MON" "transactions recipients would_refuse would_tls_required" $SM_LOCAL
	}
	sleep 1 # Sendmail's last lines
	sm_stop
	pg_milter_stop
fi
syslog_stop
[ -s "$TRAD" ] && [ -s "$RFC" ] || t_fail "no log written"
t_end

# ------------------------------------------------------------------ the report

# want_csv: the tally as the report's CSV ports rows would say it.
FIELDS="sessions tls TLSv1.3 TLSv1.2 TLSv1.1 TLSv1.0 tls_other auth auth_failed auth_without_tls \
transactions recipients refused would_refuse alarms refused_plaintext_auth refused_auth_forbidden \
refused_tls_required refused_tls_version refused_cipher refused_auth_required refused_relay \
would_plaintext_auth would_auth_forbidden would_tls_required would_tls_version would_cipher \
would_auth_required would_relay"

# mismatches CSV: one line per (port, field) where the report's number is
# not the tally's; nothing when all agree.
mismatches() {
	awk -F, -v fields="$FIELDS" '
		NR == FNR { split($0, t, " "); want[t[1] " " t[2]]++; ports[t[1]] = 1; next }
		$1 == "table" && $2 == "host" && $3 == "port" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$1 == "ports" {
			p = $(col["port"]); seen[p] = 1
			if (!(p in ports)) { printf "port %s: a row the test did not send to\n", p; next }
			n = split(fields, f, " ")
			for (i = 1; i <= n; i++) {
				got = $(col[f[i]]) + 0; sent = want[p " " f[i]] + 0
				if (got != sent) printf "port %s %s=%d, the test sent %d\n", p, f[i], got, sent
			}
		}
		END { for (p in ports) if (!(p in seen)) printf "port %s: no row\n", p }' "$TALLY" "$1"
}

MAP="--master-cf $PF/master.cf --port-map $SM_MAP"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv "$TRAD" >"$E2E_D/trad.csv" 2>"$E2E_D/report.err"
REPORT_RC=$?

t_begin "per-port numbers equal what the test sent (traditional stamps)"
[ "$REPORT_RC" = 0 ] || t_fail "exit status $REPORT_RC: $(cat "$E2E_D/report.err")"
_m=$(mismatches "$E2E_D/trad.csv")
[ -z "$_m" ] || t_fail "$_m"
t_end

t_begin "RFC 3339 stamps, gzip and standard input: the same numbers"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv "$RFC" >"$E2E_D/rfc.csv" || t_fail "RFC 3339 log: exit status $?"
gzip -c "$TRAD" >"$E2E_D/trad.log.1.gz"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv "$E2E_D/trad.log.1.gz" >"$E2E_D/gz.csv" || t_fail "gzip: exit status $?"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv <"$TRAD" >"$E2E_D/stdin.csv" || t_fail "stdin: exit status $?"
for _f in rfc gz stdin; do
	cmp -s "$E2E_D/trad.csv" "$E2E_D/$_f.csv" ||
		t_fail "$_f: $(diff "$E2E_D/trad.csv" "$E2E_D/$_f.csv" | head -n 6 | tr '\n' ' ')"
done
t_end

t_begin "--port-map instead of master.cf: the same numbers"
"$REPORT" --master-cf '' --csv \
	--port-map "postfix/relay=$P_RELAY,postfix/monitor=$P_MON,postfix/submission=$P_SUB" \
	--port-map "postfix/monsub=$P_MONSUB,postfix/smtps=$P_SMTPS,postfix/legacy=$P_LEGACY" \
	--port-map "$SM_MAP" \
	"$TRAD" >"$E2E_D/map.csv"
cmp -s "$E2E_D/trad.csv" "$E2E_D/map.csv" ||
	t_fail "$(diff "$E2E_D/trad.csv" "$E2E_D/map.csv" | head -n 6 | tr '\n' ' ')"
t_end

# shellcheck disable=SC2086
"$REPORT" $MAP --json "$TRAD" >"$E2E_D/report.json"

t_begin "JSON output is valid against tests/report/report.schema.json"
python3 tests/report/check_json.py tests/report/report.schema.json "$E2E_D/report.json" ||
	t_fail "schema check failed"
# shellcheck disable=SC2086
"$REPORT" $MAP --json --by hour "$RFC" >"$E2E_D/hour.json"
python3 tests/report/check_json.py tests/report/report.schema.json "$E2E_D/hour.json" ||
	t_fail "schema check failed (--by hour)"
t_end

t_begin "lists: users without TLS, relay clients per port"
python3 - "$E2E_D/report.json" "$E2E_USER@$E2E_DOMAIN" "$P_RELAY" "$P_MON" "$SM_USER" "$SM_PORT_MTA" \
	>"$E2E_D/lists.out" 2>&1 <<'PY' || t_fail "$(cat "$E2E_D/lists.out")"
import json, sys
r = json.load(open(sys.argv[1]))
user, relay, mon, sm_user, sm_relay = sys.argv[2:7]
users = {u["user"]: u for u in r["users_without_tls"]}
# AUTH then QUIT: Postfix names no user ("-"); AUTH then mail: it does;
# Sendmail always does (AUTH=server, authid=).
assert set(users) == {"-", user, sm_user}, users
assert all(u["count"] == 1 and u["clients"] == ["127.0.0.1"] for u in users.values()), users
rc = sorted((c["port"], c["client"], c["count"]) for c in r["relay_clients"])
want = sorted([(relay, "127.0.0.2", 3), (relay, "127.0.0.3", 1), (mon, "127.0.0.3", 1),
               (sm_relay, "127.0.0.2", 1), (sm_relay, "127.0.0.3", 1)])
assert rc == want, (rc, want)
PY
t_end

t_begin "kill -9: the restart without a final stats line and the recovered period are lost windows"
_from=$(date -u -d "$STATS_AT" +%Y-%m-%dT%H:%M:%SZ)
_to=$(date -u -d "$START2_AT" +%Y-%m-%dT%H:%M:%SZ)
_ps=$(echo "$RECOVERED" | sed -n 's/.* period_start=\([^ ]*\).*/\1/p')
_pe=$(echo "$RECOVERED" | sed -n 's/.* period_end=\([^ ]*\).*/\1/p')
python3 - "$E2E_D/report.json" "$_from" "$_to" "$_ps" "$_pe" >"$E2E_D/lost.out" 2>&1 <<'PY' || t_fail "$(cat "$E2E_D/lost.out")"
import json, sys
r = json.load(open(sys.argv[1]))
want = sorted([("portguard-policyd", "restart_without_final_stats", sys.argv[2], sys.argv[3]),
               ("portguard-policyd", "recovered", sys.argv[4], sys.argv[5])])
got = sorted((w["daemon"], w["kind"], w["from"], w["to"]) for w in r["lost_windows"])
assert got == want, (got, want)
PY
"$REPORT" $MAP "$TRAD" >"$E2E_D/report.txt"
grep -q 'started again without a final stats line' "$E2E_D/report.txt" ||
	t_fail "the text report does not list the lost window"
t_end

t_begin "selection: --daemon, --since/--until, --host, --by hour sums to the total"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv --daemon postfix "$TRAD" >"$E2E_D/pf.csv"
_r=$(awk -F, '$1 == "ports" { s += $17 + $18 } END { print s + 0 }' "$E2E_D/pf.csv")
[ "$_r" = 0 ] || t_fail "--daemon postfix still counts $_r refusals"
_s=$(awk -F, '$1 == "ports" { s += $5 } END { print s + 0 }' "$E2E_D/pf.csv")
[ "$_s" = "$PF_SENT" ] || t_fail "--daemon postfix: $_s sessions, the test made $PF_SENT"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv --until "$(head -n 1 "$RFC" | cut -d' ' -f1)" "$RFC" >"$E2E_D/none.csv"
grep -q '^ports,' "$E2E_D/none.csv" && t_fail "--until the first line still has rows"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv --since "$START2_AT" "$RFC" >"$E2E_D/since.csv"
_s=$(awk -F, '$1 == "ports" { s += $5 } END { print s + 0 }' "$E2E_D/since.csv")
[ "$_s" = $((1 + SENT - PF_SENT)) ] || t_fail "--since the restart: $_s sessions, want $((1 + SENT - PF_SENT))"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv --host no-such-host "$TRAD" | grep -q '^ports,' && t_fail "--host no-such-host has rows"
python3 - "$E2E_D/hour.json" "$SENT" >"$E2E_D/hour.out" 2>&1 <<'PY' || t_fail "$(cat "$E2E_D/hour.out")"
import json, sys
r = json.load(open(sys.argv[1]))
assert all(p["period"] for p in r["ports"]), r["ports"]
assert sum(p["sessions"] for p in r["ports"]) == int(sys.argv[2])
PY
t_end

t_begin "--journal: reads the journal (or none) and writes a valid report"
"$REPORT" --journal --json --since today >"$E2E_D/journal.json" 2>"$E2E_D/journal.err"
_rc=$?
if [ "$_rc" = 0 ]; then
	python3 tests/report/check_json.py tests/report/report.schema.json "$E2E_D/journal.json" ||
		t_fail "schema check failed (--journal)"
elif [ "$_rc" != 66 ] || ! grep -q 'journal' "$E2E_D/journal.err"; then
	t_fail "exit status $_rc: $(cat "$E2E_D/journal.err")"
fi
t_end

t_begin "a journal written by systemd-journal-remote: the same per-port numbers as the syslog file"
mkdir -p "$E2E_D/journal"
python3 tests/report/syslog2export.py <"$RFC" >"$E2E_D/rfc.export" 2>"$E2E_D/export.err" ||
	t_fail "syslog2export.py: $(cat "$E2E_D/export.err")"
/lib/systemd/systemd-journal-remote --output="$E2E_D/journal/remote.journal" - \
	<"$E2E_D/rfc.export" >"$E2E_D/jremote.out" 2>&1 ||
	t_fail "systemd-journal-remote: $(cat "$E2E_D/jremote.out")"
_n=$(grep -c '^MESSAGE=' "$E2E_D/rfc.export")
grep -q "writing $_n entries" "$E2E_D/jremote.out" ||
	t_fail "the journal does not hold the $_n entries: $(cat "$E2E_D/jremote.out")"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv --journal-directory "$E2E_D/journal" >"$E2E_D/jdir.csv" 2>"$E2E_D/jdir.err" ||
	t_fail "--journal-directory: exit status $?: $(cat "$E2E_D/jdir.err")"
# shellcheck disable=SC2086
"$REPORT" $MAP --csv --journal-file "$E2E_D/journal/remote.journal" >"$E2E_D/jfile.csv" ||
	t_fail "--journal-file: exit status $?"
_m=$(mismatches "$E2E_D/jdir.csv")
[ -z "$_m" ] || t_fail "--journal-directory: $_m"
for _f in jdir jfile; do
	grep '^ports,' "$E2E_D/$_f.csv" >"$E2E_D/$_f.ports"
	grep '^ports,' "$E2E_D/rfc.csv" | cmp -s - "$E2E_D/$_f.ports" ||
		t_fail "$_f: $(grep '^ports,' "$E2E_D/rfc.csv" | diff - "$E2E_D/$_f.ports" | head -n 6 | tr '\n' ' ')"
done
[ "$(grep -c '^ports,' "$E2E_D/jdir.csv")" -gt 0 ] || t_fail "--journal-directory: no port rows"
"$REPORT" --journal-directory "$E2E_D/no-such-dir" >/dev/null 2>&1
[ $? = 66 ] || t_fail "a missing journal directory is not exit 66"
"$REPORT" --journal-directory "$E2E_D/journal" --journal-file "$E2E_D/journal/remote.journal" \
	>/dev/null 2>&1
[ $? = 64 ] || t_fail "--journal-directory with --journal-file is not exit 64"
t_end

t_begin "bad usage: exit 64 with a message"
"$REPORT" --by week "$TRAD" >/dev/null 2>"$E2E_D/usage.err"
[ $? = 64 ] && grep -q 'hour or day' "$E2E_D/usage.err" || t_fail "--by week: $(cat "$E2E_D/usage.err")"
"$REPORT" --since tomorrowish "$TRAD" >/dev/null 2>&1
[ $? = 64 ] || t_fail "--since tomorrowish was accepted"
"$REPORT" "$E2E_D/no-such-file" >/dev/null 2>&1
[ $? = 66 ] || t_fail "a missing file is not exit 66"
t_end

[ "${E2E_VERBOSE:-0}" = 1 ] && cat "$E2E_D/report.txt"
echo "report: $T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" = 0 ]
