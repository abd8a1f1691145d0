#!/bin/sh
# tests/audit/run.sh - portguard-audit(8) end to end (issue "portguard-audit:
# prove that each port keeps its promise"): a private Postfix set up with the
# shipped snippets (conf/postfix) audits clean from its configuration and
# from the wire; then a table of misconfigurations, one row each, gives
# exactly its finding, severity and exit code, and the fix line the audit
# prints, applied, turns the check back to OK; bad input (unreadable or
# garbage configuration, an MTA that is not running, a port that does not
# answer, a server sending endless or oversized lines) gives UNKNOWN in
# bounded time. A private Sendmail with the shipped .mc lines likewise
# (its rows at the end). --syslog: the summary line reaches a private
# rsyslogd on /dev/log (only when /dev/log is free; removed again).
#
# Uses tests/e2e/lib.sh (the private Postfix) and tests/sendmail/lib.sh;
# TCP ports 14000-14099 on loopback only. The probe's untrusted address is
# 127.0.0.2 (Postfix mynetworks and portguard trust 127.0.0.1 alone). Run
# as root under the shared lock (tests/run.sh does it for "make check").
set -u
B=${1:-build/san}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/e2e/lib.sh

t_needs audit "Postfix's master process runs as root" postfix postconf openssl ss runuser python3

P_MX=14025
P_SUB=14587
P_SMTPS=14465
P_ALT=14526
P_EXTRA=14599  # a service the rows add, in no portguard entry
P_GHOST=14598  # a portguard entry no service listens on
P_SILENT=14090 # the tiny servers of the bad-input rows
P_ENDLESS=14091
P_FLOOD=14092
P_CLOSED=14093 # nothing listens
E2E_PORTS="$P_MX $P_SUB $P_SMTPS $P_ALT"

e2e_init "$top" "$B"
TINY_PID=
audit_cleanup() {
	_ac_rc=$?
	[ -z "$TINY_PID" ] || t_stop_pid "$TINY_PID" 10
	[ "${SM_LOADED:-0}" = 0 ] || sm_cleanup
	(exit "$_ac_rc")
	e2e_cleanup
}
trap audit_cleanup EXIT
AUDIT=$E2E_D/portguard-audit
cp "$E2E_B/portguard-audit" "$AUDIT" || e2e_setup_fail "copy portguard-audit"
chmod 0755 "$AUDIT"
pf_create || e2e_setup_fail "pf_create"
# A certificate good for a year (pf_create's lasts two days: a finding).
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=mx.$E2E_DOMAIN" \
	-keyout "$E2E_D/key.pem" -out "$E2E_D/cert.pem" >"$E2E_D/openssl.out" 2>&1 ||
	e2e_setup_fail "openssl"
cp "$E2E_D/cert.pem" "$E2E_D/cert-good.pem"
cp "$E2E_D/key.pem" "$E2E_D/key-good.pem"

# main.cf: the test basics, TLS and SASL, then the shipped main.cf.snippet's
# settings (its smtpd_relay_restrictions with the socket made absolute,
# DEFER_IF_PERMIT kept; smtpd_tls_auth_only = yes).
_rs=$(pf_relay_restrictions shipped) || e2e_setup_fail "main.cf.snippet"
{
	echo "# Private test instance (tests/audit/run.sh): the shipped snippets"
	pf_main_cf_base
	echo "mydestination = $E2E_DOMAIN, mx.$E2E_DOMAIN"
	echo "mynetworks = 127.0.0.1/32"
	pf_main_cf_clients | grep -v '^smtpd_tls_auth_only'
	echo "smtpd_relay_restrictions = $_rs"
	grep -E '^smtpd_tls_auth_only *=' conf/postfix/main.cf.snippet
} >"$PF/main.cf"
# master.cf: port 25's line, then the shipped master.cf.snippet's services
# on the test ports, chroot off.
{
	printf '127.0.0.1:%s inet n - n - - smtpd\n  -o syslog_name=postfix/mx\n' "$P_MX"
	sed -n -E '/^[a-z0-9]+ +inet/,$p' conf/postfix/master.cf.snippet | grep -v '^#' |
		sed -E -e "s/^submission +inet +n +- +y/127.0.0.1:$P_SUB inet n - n/" \
			-e "s/^submissions +inet +n +- +y/127.0.0.1:$P_SMTPS inet n - n/" \
			-e "s/^2525 +inet +n +- +y/127.0.0.1:$P_ALT inet n - n/"
	pf_internal_services
} >"$PF/master.cf"
grep -q "^127.0.0.1:$P_ALT inet" "$PF/master.cf" && grep -q "^127.0.0.1:$P_SMTPS inet" "$PF/master.cf" ||
	e2e_setup_fail "master.cf.snippet: the submission services were not found"
chmod -R go+rX "$PF"
cp "$PF/main.cf" "$E2E_D/main.cf.good"
cp "$PF/master.cf" "$E2E_D/master.cf.good"

# portguard.conf: the shipped ports on the test ports, one entry a line.
write_conf() { # write_conf [EXTRA-TOP-LEVEL-LINES]
	cat >"$PG_CONF" <<EOF
state_directory = "";
user = "nobody";
group = "postfix";
log = { level = "info"; stats_interval = 0; };
relay = {
  from_mta = "postfix";
  postfix_config_directory = "$PF";
  trusted_networks = [ "127.0.0.1/32" ];
};
ports = (
  { port = $P_MX;   role = "relay";      auth = "optional"; },
  { port = $P_SUB;  role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = $P_SMTPS; role = "submission"; tls = "implicit"; min_tls_version = "TLSv1.2"; },
  { port = $P_ALT;  role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; }
);
policyd = { listen = [ "unix:$PG_SOCK" ]; socket_mode = "0660"; };
milter = { listen = "unix:$E2E_D/milter"; };
${1:-}
EOF
	chmod 0644 "$PG_CONF"
}
write_conf
cp "$PG_CONF" "$E2E_D/portguard.conf.good"

# ---------------------------------------------------------------- helpers

# audit NAME [ARG...]: run portguard-audit on $PG_CONF (bounded: 120 s),
# text to $T_DIR/NAME.txt, JSON to NAME.json; A_RC is its exit code and
# A_SECS how long it took.
audit() {
	_an=$1
	shift
	_t0=$(date +%s)
	timeout 120 "$AUDIT" -c "$PG_CONF" "$@" >"$T_DIR/$_an.txt" 2>"$T_DIR/$_an.err"
	A_RC=$?
	A_SECS=$(($(date +%s) - _t0))
	timeout 120 "$AUDIT" -c "$PG_CONF" --json "$@" >"$T_DIR/$_an.json" 2>>"$T_DIR/$_an.err"
	A_OUT=$T_DIR/$_an.txt
	A_JSON=$T_DIR/$_an.json
}

# findings [STATUS-ERE]: "STATUS PORT CHECK" of each finding in $A_JSON
# whose status matches (default: not OK, not SKIPPED), sorted, unique.
findings() {
	python3 - "$A_JSON" "${1:-^(WARNING|CRITICAL|UNKNOWN)$}" <<'PY'
import json, re, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("JSON-BROKEN %s" % e)
    sys.exit(0)
out = set()
for f in d["findings"]:
    if re.search(sys.argv[2], f["status"]):
        out.add("%s %s %s" % (f["status"], f["port"], f["check"]))
for l in sorted(out):
    print(l)
PY
}

# fix_of PORT CHECK: the fix line of that finding.
fix_of() {
	python3 - "$A_JSON" "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d["findings"]:
    if str(f["port"]) == sys.argv[2] and f["check"] == sys.argv[3] and f["fix"]:
        print(f["fix"])
        break
PY
}

# apply_fix FIX: a postconf command runs as printed; "FILE: add to ports:
# ENTRY" adds the entry to portguard.conf; "FILE:LINE: remove ..." deletes
# that line; "FILE: LINE" (sendmail.cf) replaces the line of the same option
# or filter, or adds it.
apply_fix() {
	case $1 in
	postconf\ *) sh -c "$1" ;;
	*": add to ports: "*)
		_e=${1#*: add to ports: }
		sed -i "s|^ports = (|ports = (\n  $_e|" "${1%%: add to ports: *}" ;;
	"renew the server certificate")
		cp "$E2E_D/cert-good.pem" "$E2E_D/cert.pem" && cp "$E2E_D/key-good.pem" "$E2E_D/key.pem" ;;
	*": remove this port entry"*)
		_l=${1%%: remove this port entry*}
		sed -i "${_l##*:}d" "${_l%:*}" ;;
	*) sm_apply_fix "$1" ;;
	esac
}

# row NAME WANT-RC WANT-FINDINGS [ARG...]: the audit (with ARGs) exits
# WANT-RC and its non-OK findings are exactly WANT-FINDINGS ("STATUS PORT
# CHECK" lines, sorted); then the fix of the first one, applied (and Postfix
# reloaded when ARGs probe), gives exit 0 and the check OK.
row() {
	_name=$1 _want_rc=$2 _want=$3
	shift 3
	t_begin "$_name"
	audit "$_name" "$@"
	[ "$A_RC" = "$_want_rc" ] || t_fail "exit $A_RC, want $_want_rc: $(head -n 1 "$A_OUT")"
	_first=$(printf '%s\n' "$_want" | head -n 1)
	_got=$(findings | LC_ALL=C sort)
	_want=$(printf '%s\n' "$_want" | LC_ALL=C sort)
	[ "$_got" = "$_want" ] || t_fail "findings:
$_got
want:
$_want
($(head -n 1 "$A_OUT"))"
	# the fix of each finding (the first one's first), each line once
	_fixes=$T_DIR/$_name.fixes
	: >"$_fixes"
	printf '%s\n%s\n' "$_first" "$_want" | while read -r _st _port _check; do
		_fix=$(fix_of "$_port" "$_check")
		if [ -z "$_fix" ]; then
			echo "NOFIX $_check on port $_port"
		elif ! grep -q -x -F -- "$_fix" "$_fixes"; then
			printf '%s\n' "$_fix"
		fi >>"$_fixes"
	done
	grep -q '^NOFIX ' "$_fixes" &&
		t_fail "no fix printed: $(grep '^NOFIX ' "$_fixes" | tr '\n' ';')"
	while read -r _fix; do
		case $_fix in NOFIX\ *) continue ;; esac
		grep -q -F -- "fix: $_fix" "$A_OUT" || t_fail "the text table does not print the fix: $_fix"
		apply_fix "$_fix" >"$T_DIR/$_name.fix.out" 2>&1 || t_fail "the fix failed: $_fix: $(cat "$T_DIR/$_name.fix.out")"
	done <"$_fixes"
	ROW_AFTER_FIX
	audit "$_name.fixed" "$@"
	[ "$A_RC" = 0 ] || t_fail "after the fix ($(tr '\n' ';' <"$_fixes")): exit $A_RC: $(findings | tr '\n' ';')"
	# (a removed portguard entry leaves no finding for its port at all)
	printf '%s\n' "$_want" | while read -r _st _port _check; do
		findings | grep -q " $_port $_check\$" && echo "after the fix: $_check on port $_port is still not OK"
	done >"$T_DIR/$_name.still"
	[ -s "$T_DIR/$_name.still" ] && t_fail "$(cat "$T_DIR/$_name.still")"
	t_end
}
ROW_AFTER_FIX() { :; }

# restore: the good main.cf, master.cf, portguard.conf and certificate.
restore() {
	cp "$E2E_D/main.cf.good" "$PF/main.cf"
	cp "$E2E_D/master.cf.good" "$PF/master.cf"
	cp "$E2E_D/portguard.conf.good" "$PG_CONF"
	cp "$E2E_D/cert-good.pem" "$E2E_D/cert.pem"
	cp "$E2E_D/key-good.pem" "$E2E_D/key.pem"
	chmod 0644 "$PF/main.cf" "$PF/master.cf" "$PG_CONF"
}

pcP() { postconf -c "$PF" -P "$@"; }
pcE() { postconf -c "$PF" -e "$@"; }

# ---------------------------------------------------------------- Postfix: configuration

t_begin pf_config_clean_exit_0
audit pf_config_clean
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
head -n 1 "$A_OUT" | grep -q -E '^PORTGUARD-AUDIT OK - 0 critical, 0 warning, 0 unknown, [0-9]+ ok' ||
	t_fail "summary line: $(head -n 1 "$A_OUT")"
grep -q -E "^$P_SUB +127\.0\.0\.1:$P_SUB +submission +auth_plaintext +OK " "$A_OUT" ||
	t_fail "no table row for port $P_SUB auth_plaintext"
for _c in auth_plaintext tls_encrypt portguard_hooked fail_open port_listed; do
	findings '^OK$' | grep -q "^OK $P_SUB $_c\$" || t_fail "no OK $_c for port $P_SUB"
done
findings '^OK$' | grep -q "^OK $P_SMTPS tls_wrapper\$" || t_fail "no OK tls_wrapper for port $P_SMTPS"
findings '^OK$' | grep -q "^OK 0 mynetworks\$" || t_fail "no OK mynetworks"
t_end

# The table: each row breaks one thing (restored before the next).
restore
pcP "127.0.0.1:$P_MX/inet/smtpd_sasl_auth_enable=yes" "127.0.0.1:$P_MX/inet/smtpd_tls_auth_only=no"
row pf_auth_without_tls 2 "CRITICAL $P_MX auth_plaintext"

restore
pcE "smtpd_tls_auth_only = no" && pcP "127.0.0.1:$P_MX/inet/smtpd_sasl_auth_enable=yes"
row pf_auth_without_tls_main_cf 2 "CRITICAL $P_MX auth_plaintext"

restore
pcP "127.0.0.1:$P_ALT/inet/smtpd_tls_security_level=may"
row pf_submission_without_encrypt 1 "WARNING $P_ALT tls_encrypt"

restore
pcP "127.0.0.1:$P_SMTPS/inet/smtpd_tls_wrappermode=no"
row pf_465_without_wrappermode 2 "CRITICAL $P_SMTPS tls_wrapper"

# A relay port that portguard.conf marks STARTTLS: Postfix need only offer it
# (RFC 3207: a public MX must not require TLS), so the fix is "may", not
# "encrypt", and "may" is OK.
relay_starttls() {
	sed -i "s|{ port = $P_MX;   role = \"relay\";      auth = \"optional\"; }|{ port = $P_MX; role = \"relay\"; auth = \"optional\"; tls = \"starttls\"; }|" "$PG_CONF"
	grep -q -F "{ port = $P_MX; role = \"relay\"; auth = \"optional\"; tls = \"starttls\"; }" "$PG_CONF" ||
		e2e_setup_fail "tls = starttls on the relay port of $PG_CONF"
}
restore
relay_starttls
pcP "127.0.0.1:$P_MX/inet/smtpd_tls_security_level=none"
row pf_relay_starttls_not_offered 1 "WARNING $P_MX tls_encrypt"

t_begin pf_relay_starttls_offered_is_ok
grep -q -F "127.0.0.1:$P_MX/inet/smtpd_tls_security_level=may'" "$T_DIR/pf_relay_starttls_not_offered.fixes" ||
	t_fail "the fix is not level may: $(cat "$T_DIR/pf_relay_starttls_not_offered.fixes")"
restore
relay_starttls
audit pf_relay_starttls_offered
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
findings '^OK$' | grep -q "^OK $P_MX tls_encrypt\$" || t_fail "no OK tls_encrypt for the relay port $P_MX"
t_end

# Debian's stock submission block overrides the restrictions without portguard.
restore
pcP "127.0.0.1:$P_SUB/inet/smtpd_relay_restrictions=permit_sasl_authenticated,reject" \
	"127.0.0.1:$P_SUB/inet/smtpd_recipient_restrictions=permit_sasl_authenticated,reject"
row pf_portguard_missing_stock_submission 2 "CRITICAL $P_SUB portguard_hooked"

restore
pcE "smtpd_relay_restrictions = permit_mynetworks, $_rs"
row pf_portguard_not_first 1 "WARNING $P_ALT portguard_hooked
WARNING $P_MX portguard_hooked
WARNING $P_SMTPS portguard_hooked
WARNING $P_SUB portguard_hooked"

restore
pcE "smtpd_relay_restrictions = $(echo "$_rs" | sed 's/DEFER_IF_PERMIT/DUNNO/')"
row pf_policy_fails_open 1 "WARNING $P_ALT fail_open
WARNING $P_MX fail_open
WARNING $P_SMTPS fail_open
WARNING $P_SUB fail_open"

restore
pcE "smtpd_milters = unix:$E2E_D/milter" "milter_default_action = accept"
row pf_milter_fails_open 1 "WARNING $P_ALT fail_open
WARNING $P_MX fail_open
WARNING $P_SMTPS fail_open
WARNING $P_SUB fail_open"

restore
sed -i "s|{ port = $P_MX;   role = \"relay\";      auth = \"optional\"; }|{ port = $P_MX; role = \"relay\"; auth = \"forbidden\"; }|" "$PG_CONF"
pcP "127.0.0.1:$P_MX/inet/smtpd_sasl_auth_enable=yes"
row pf_auth_offered_where_forbidden 1 "WARNING $P_MX auth_offered"

restore
printf '127.0.0.1:%s inet n - n - - smtpd\n' "$P_EXTRA" >>"$PF/master.cf"
row pf_service_not_in_portguard_conf 1 "WARNING $P_EXTRA port_listed"

restore
sed -i "s|^ports = (|ports = (\n  { port = $P_GHOST; role = \"relay\"; },|" "$PG_CONF"
row pf_portguard_port_without_service 1 "WARNING $P_GHOST port_listed"

restore
pcE "mynetworks = 127.0.0.1/32 10.0.0.0/8"
row pf_mynetworks_too_wide 1 "WARNING 0 mynetworks"
restore

# ---------------------------------------------------------------- Postfix: the wire

# A restart, not a reload: no smtpd with the old settings may answer.
pf_restart() {
	pf_stop
	pf_start || t_fail "Postfix did not start again"
}
ROW_AFTER_FIX() { [ "${ROW_WIRE:-0}" = 1 ] && pf_restart; }
FROM2="--probe 127.0.0.1 --probe-from 127.0.0.2"

restore
pf_start || e2e_setup_fail "private Postfix did not start"
pg_start || e2e_setup_fail "portguard-policyd did not start"
ROW_WIRE=1

t_begin pf_wire_clean_exit_0
audit pf_wire_clean --probe
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
_ok=$(findings '^OK$')
for _want in "$P_SUB auth_before_tls" "$P_SUB starttls" "$P_SUB cert_expiry" "$P_SUB tls_version" \
	"$P_SMTPS implicit_tls" "$P_SMTPS tls_version" "$P_ALT starttls" "$P_MX auth_before_tls"; do
	printf '%s\n' "$_ok" | grep -q "^OK $_want\$" || t_fail "no OK $_want"
done
# from 127.0.0.1 (trusted): the relay attempt is skipped, never a pass
findings '^SKIPPED$' | grep -q "^SKIPPED $P_MX open_relay\$" || t_fail "open_relay not SKIPPED from 127.0.0.1"
printf '%s\n' "$_ok" | grep -q "open_relay" && t_fail "open_relay OK from a trusted address"
grep -q -E "^$P_MX .*open_relay +SKIPPED +not tried: the probe's address 127\.0\.0\.1 is trusted" "$A_OUT" ||
	t_fail "no SKIPPED row naming 127.0.0.1"
t_end

t_begin pf_wire_clean_untrusted_exit_0
audit pf_wire_clean_untrusted $FROM2
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
findings '^OK$' | grep -q "^OK $P_MX open_relay\$" || t_fail "no OK open_relay from 127.0.0.2"
grep -q -E "^$P_MX .*open_relay +OK +relaying from 127\.0\.0\.2 refused: 554 " "$A_OUT" ||
	t_fail "no refusal quoted: $(grep open_relay "$A_OUT")"
# the probe sent no message: no DATA, Postfix queued nothing
grep -q -E "postfix/cleanup" "$PF_LOG" && t_fail "Postfix queued a message: $(grep -E 'cleanup' "$PF_LOG" | head -n 2)"
grep -q -E "disconnect from .* data=" "$PF_LOG" && t_fail "a session sent DATA: $(grep -E 'disconnect from .* data=' "$PF_LOG" | head -n 1)"
t_end

# --syslog (what the shipped timer's service runs): the summary line, as
# printed first on stdout, reaches syslog with the tag portguard-audit[PID],
# facility mail, and the priority of the result (info, warning, crit, err:
# portguard-audit(8)). A private rsyslogd owns /dev/log, only when it is
# free (as in tests/e2e); the machine's syslog is never touched.
# syslog_row NAME WANT-RC PRIORITY [ARG...]
syslog_row() {
	_sn=$1 _src=$2 _sp=$3
	shift 3
	t_begin "$_sn"
	: >"$T_DIR/$_sn.pid"
	# sh execs the audit, so its $$ is the PID in the tag
	timeout 120 sh -c 'echo $$ >"$0"; exec "$@"' "$T_DIR/$_sn.pid" "$AUDIT" --syslog "$@" \
		>"$T_DIR/$_sn.txt" 2>"$T_DIR/$_sn.err"
	_rc=$?
	[ "$_rc" = "$_src" ] || t_fail "exit $_rc, want $_src: $(head -n 1 "$T_DIR/$_sn.txt")"
	_sum=$(head -n 1 "$T_DIR/$_sn.txt")
	case $_sum in "PORTGUARD-AUDIT "*" | critical="*) ;; *) t_fail "stdout's first line: $_sum" ;; esac
	_want="mail.$_sp portguard-audit[$(cat "$T_DIR/$_sn.pid")]: $_sum"
	_sl() { grep -q -x -F -- "$_want" "$AUDIT_SYSLOG"; }
	t_wait 50 _sl || t_fail "not in syslog: $_want
got: $(grep -F 'portguard-audit' "$AUDIT_SYSLOG" | tail -n 3)"
	_n=$(grep -c -F "portguard-audit[$(cat "$T_DIR/$_sn.pid")]" "$AUDIT_SYSLOG")
	[ "$_n" = 1 ] || t_fail "$_n syslog lines from this run, want 1"
	t_end
}
if [ -e /dev/log ]; then
	echo "SKIP: audit syslog: /dev/log exists and belongs to another daemon; not touched"
elif ! command -v rsyslogd >/dev/null 2>&1; then
	echo "FAIL: audit syslog: rsyslogd not installed"
	T_FAILED=$((T_FAILED + 1))
else
	AUDIT_SYSLOG=$E2E_D/syslog
	if syslog_start "$AUDIT_SYSLOG"; then
		syslog_row audit_syslog_ok_info 0 info -c "$PG_CONF" --probe
		pcE "mynetworks = 127.0.0.1/32 10.0.0.0/8"
		syslog_row audit_syslog_warning 1 warning -c "$PG_CONF"
		restore
		pcP "127.0.0.1:$P_MX/inet/smtpd_sasl_auth_enable=yes" "127.0.0.1:$P_MX/inet/smtpd_tls_auth_only=no"
		syslog_row audit_syslog_critical_crit 2 crit -c "$PG_CONF"
		restore
		syslog_row audit_syslog_unknown_err 3 err -c "$E2E_D/no-such-portguard.conf"
	else
		echo "FAIL: audit syslog: rsyslogd did not create /dev/log"
		T_FAILED=$((T_FAILED + 1))
	fi
	syslog_stop
fi

restore
pcP "127.0.0.1:$P_SUB/inet/smtpd_tls_security_level=may" "127.0.0.1:$P_SUB/inet/smtpd_tls_auth_only=no"
pf_restart
row pf_wire_auth_before_starttls_587 2 "CRITICAL $P_SUB auth_before_tls
CRITICAL $P_SUB auth_plaintext
WARNING $P_SUB tls_encrypt" --probe
restore

# TLSv1 (OpenSSL's security level lowered so that it can be offered at all)
# on a port whose minimum is TLSv1.2: the MTA accepts the handshake,
# portguard refuses the mail.
pcE "tls_medium_cipherlist = ALL:@SECLEVEL=0"
cp "$PF/main.cf" "$E2E_D/main.cf.good"
pcP "127.0.0.1:$P_SUB/inet/smtpd_tls_mandatory_protocols=>=TLSv1" \
	"127.0.0.1:$P_SUB/inet/smtpd_tls_protocols=>=TLSv1"
pf_restart
row pf_wire_tls10_on_tls12_port 1 "WARNING $P_SUB tls_version" --probe
t_begin pf_wire_tls10_detail
grep -q -E "^$P_SUB .*tls_version +WARNING +the MTA accepts a TLSv1 handshake \(minimum TLSv1\.2\); the mail is then refused \(RCPT: 5[0-9][0-9] .*TLSv1\.2 or later required" \
	"$T_DIR/pf_wire_tls10_on_tls12_port.txt" || t_fail "detail: $(grep tls_version "$T_DIR/pf_wire_tls10_on_tls12_port.txt")"
t_end
restore

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=mx.$E2E_DOMAIN" \
	-keyout "$E2E_D/key.pem" -out "$E2E_D/cert.pem" >"$E2E_D/openssl.out" 2>&1 ||
	e2e_setup_fail "openssl (tomorrow)"
pf_restart
row pf_wire_cert_expires_tomorrow 1 "WARNING $P_SUB cert_expiry
WARNING $P_MX cert_expiry
WARNING $P_SMTPS cert_expiry
WARNING $P_ALT cert_expiry" --probe
restore

# An open relay for the untrusted probe address: portguard only monitors
# port $P_MX, and an access table says OK for 127.0.0.2 before
# reject_unauth_destination (Postfix refuses a list without the latter).
sed -i "s|{ port = $P_MX;   role = \"relay\";      auth = \"optional\"; }|{ port = $P_MX; role = \"relay\"; mode = \"monitor\"; }|" "$PG_CONF"
pg_signal HUP "reloaded: " || e2e_setup_fail "portguard did not reload"
pcP "127.0.0.1:$P_MX/inet/smtpd_relay_restrictions=check_policy_service,{unix:$PG_SOCK,default_action=DEFER_IF_PERMIT},permit_mynetworks,check_client_access,inline:{127.0.0.2=OK},reject_unauth_destination"
pf_restart
t_begin pf_wire_open_relay_trusted_probe_skipped
audit pf_wire_open_relay_trusted --probe
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
findings '^SKIPPED$' | grep -q "^SKIPPED $P_MX open_relay\$" || t_fail "open_relay not SKIPPED from 127.0.0.1"
t_end
row pf_wire_open_relay_untrusted 2 "CRITICAL $P_MX open_relay" $FROM2
restore
pg_signal HUP "reloaded: " || e2e_setup_fail "portguard did not reload"

pcP "127.0.0.1:$P_SMTPS/inet/smtpd_tls_wrappermode=no"
pf_restart
row pf_wire_465_not_wrapped 2 "CRITICAL $P_SMTPS implicit_tls
CRITICAL $P_SMTPS tls_wrapper" --probe
restore

# STARTTLS not offered where portguard says starttls: the submission port
# with TLS switched off (its configuration also lacks encrypt, a WARNING
# that the same fix line mends).
pcP "127.0.0.1:$P_SUB/inet/smtpd_tls_security_level=none"
pf_restart
row pf_wire_starttls_not_offered 2 "CRITICAL $P_SUB starttls
WARNING $P_SUB tls_encrypt" --probe
t_begin pf_wire_starttls_not_offered_detail
grep -q -E "^$P_SUB .*starttls +CRITICAL +STARTTLS is not offered; fix: postconf -c '$PF' -P '127\.0\.0\.1:$P_SUB/inet/smtpd_tls_security_level=encrypt'\$" \
	"$T_DIR/pf_wire_starttls_not_offered.txt" || t_fail "detail: $(grep starttls "$T_DIR/pf_wire_starttls_not_offered.txt")"
t_end
restore
ROW_WIRE=0

# ---------------------------------------------------------------- the daemons' hooks
# At start and reload each daemon logs one warning per CRITICAL finding of
# the configuration audit that concerns its own front end: AUTH without TLS
# on port $P_MX, which portguard sees through the policy service, is
# portguard-policyd's to report; portguard-milter (not in smtpd_milters
# there) stays silent.
t_begin hook_policyd_reload_warns
pcP "127.0.0.1:$P_MX/inet/smtpd_sasl_auth_enable=yes" "127.0.0.1:$P_MX/inet/smtpd_tls_auth_only=no"
pg_signal HUP "reloaded: " || t_fail "no reload line"
t_log "warning: audit: port=$P_MX service=127\.0\.0\.1:$P_MX check=auth_plaintext: AUTH is offered and accepted without TLS .*; fix: postconf -c '$PF' -P '127\.0\.0\.1:$P_MX/inet/smtpd_tls_auth_only=yes'"
[ "$(t_newlog | grep -c 'warning: audit: ')" = 1 ] || t_fail "not exactly one audit warning: $(t_newlog | grep 'audit: ')"
t_end

t_begin hook_policyd_start_warns_once
pg_stop
_t0=$(date +%s)
pg_start || t_fail "portguard-policyd did not start"
[ $(($(date +%s) - _t0)) -le 5 ] || t_fail "start took $(($(date +%s) - _t0)) s"
t_log "warning: audit: port=$P_MX .*check=auth_plaintext"
[ "$(t_newlog | grep -c 'warning: audit: ')" = 1 ] || t_fail "not exactly one audit warning: $(t_newlog | grep 'audit: ')"
t_end

t_begin hook_milter_silent_for_policyd_finding
MG_LOG=$E2E_D/milter.log
: >"$MG_LOG"
mg_up() { [ -S "$E2E_D/milter" ] && grep -q 'listening on' "$MG_LOG"; }
t_daemon "$MG_LOG" 100 mg_up "$E2E_B/portguard-milter" -f -e -c "$PG_CONF" -p "unix:$E2E_D/milter" ||
	t_fail "portguard-milter did not start"
MG_PID=$T_PID
grep -q 'audit: ' "$MG_LOG" && t_fail "the milter warned about the policy service's port: $(grep 'audit: ' "$MG_LOG")"
t_stop_pid "$MG_PID"
t_end

t_begin hook_policyd_reload_fixed_is_quiet
restore
pg_signal HUP "reloaded: " || t_fail "no reload line"
t_nolog "warning: audit: "
t_end


# ---------------------------------------------------------------- bad input

bad_row() { # bad_row NAME WANT-RC STATUS-CHECK-ERE DETAIL-ERE MAX-SECONDS [ARG...]
	_bn=$1 _brc=$2 _bf=$3 _bd=$4 _bs=$5
	shift 5
	t_begin "$_bn"
	audit "$_bn" "$@"
	[ "$A_RC" = "$_brc" ] || t_fail "exit $A_RC, want $_brc: $(head -n 1 "$A_OUT")"
	findings | grep -q -E -- "$_bf" || t_fail "no finding /$_bf/: $(findings | tr '\n' ';')"
	grep -q -E -- "$_bd" "$A_OUT" || t_fail "no line /$_bd/: $(sed -n 3,9p "$A_OUT")"
	[ "$A_SECS" -le "$_bs" ] || t_fail "took $A_SECS s, the bound is $_bs s"
	grep -q -i -E "sanitizer|runtime error" "$T_DIR/$_bn.err" && t_fail "$(head -n 5 "$T_DIR/$_bn.err")"
	t_end
}

BAD=$E2E_D/bad-postfix
mkdir -p "$BAD" && cp "$PF/master.cf" "$BAD/" && chmod 0755 "$BAD"
printf 'this is = not\n=== a main.cf\n\001\002\n' >"$BAD/main.cf"
bad_row bad_main_cf_garbage 3 "^UNKNOWN 0 config$" "cannot read Postfix's configuration: postconf .*missing '=' after attribute name" 30 --postfix "$BAD"
cp "$PF/main.cf" "$BAD/main.cf" && chmod 0 "$BAD/main.cf"
t_begin bad_main_cf_unreadable
runuser -u nobody -- "$AUDIT" -c "$PG_CONF" --postfix "$BAD" >"$T_DIR/bad_main_cf_unreadable.txt" 2>&1
_rc=$?
[ "$_rc" = 3 ] || t_fail "exit $_rc, want 3"
grep -q -E "^PORTGUARD-AUDIT UNKNOWN - " "$T_DIR/bad_main_cf_unreadable.txt" || t_fail "$(head -n 1 "$T_DIR/bad_main_cf_unreadable.txt")"
grep -q -E "config +UNKNOWN +cannot read Postfix's configuration: .*Permission denied" "$T_DIR/bad_main_cf_unreadable.txt" ||
	t_fail "$(sed -n 3p "$T_DIR/bad_main_cf_unreadable.txt")"
t_end
printf 'O DaemonPortOptions=Port=25\nnot a sendmail.cf at all\n' >"$E2E_D/garbage.cf"
bad_row bad_sendmail_cf_garbage 3 "^UNKNOWN 0 config$" "is not a sendmail.cf \(no V line\)" 30 --sendmail "$E2E_D/garbage.cf"
printf 'V10/Berkeley\n' >"$E2E_D/unreadable.cf" && chmod 0 "$E2E_D/unreadable.cf"
t_begin bad_sendmail_cf_unreadable
runuser -u nobody -- "$AUDIT" -c "$PG_CONF" --sendmail "$E2E_D/unreadable.cf" >"$T_DIR/bad_sm_unreadable.txt" 2>&1
_rc=$?
[ "$_rc" = 3 ] || t_fail "exit $_rc, want 3"
grep -q -E "config +UNKNOWN +cannot read Sendmail's configuration: cannot read .*Permission denied" "$T_DIR/bad_sm_unreadable.txt" ||
	t_fail "$(sed -n 1,3p "$T_DIR/bad_sm_unreadable.txt")"
t_end
printf 'V10/Berkeley\nO DaemonPortOptions=Port=%s, Name=MTA\n' "$(head -c 5000 /dev/zero | tr '\0' 9)" >"$E2E_D/long.cf"
bad_row bad_sendmail_cf_long_line 3 "^UNKNOWN 0 config$" "line longer than 4096 bytes" 30 --sendmail "$E2E_D/long.cf"

# The MTA not running: every port UNKNOWN, quickly.
pf_stop
bad_row bad_mta_not_running 3 "^UNKNOWN $P_SUB connect$" "^$P_SUB .*connect +UNKNOWN +connect to 127\.0\.0\.1 port $P_SUB: Connection refused" 30 --probe --timeout 2

# Tiny servers: one accepts and never speaks, one sends an endless line, one
# an endless reply of short lines; nothing listens on the fourth port.
FAKE=$E2E_D/fake-postfix
mkdir -p "$FAKE"
cp "$PF/main.cf" "$FAKE/main.cf"
for _p in $P_SILENT $P_ENDLESS $P_FLOOD $P_CLOSED; do
	printf '127.0.0.1:%s inet n - n - - smtpd\n' "$_p"
done >"$FAKE/master.cf"
chmod -R go+rX "$FAKE"
printf '%s\n' 'state_directory = "";' \
	"relay = { from_mta = \"none\"; local_domains = [ \"$E2E_DOMAIN\" ]; trusted_networks = [ \"127.0.0.1/32\" ]; };" \
	"ports = ( { port = $P_SILENT; role = \"relay\"; }, { port = $P_ENDLESS; role = \"relay\"; }," \
	"  { port = $P_FLOOD; role = \"relay\"; }, { port = $P_CLOSED; role = \"relay\"; } );" \
	"policyd = { listen = [ \"unix:$PG_SOCK\" ]; };" >"$E2E_D/fake.conf"
python3 - "$P_SILENT" "$P_ENDLESS" "$P_FLOOD" >"$E2E_D/tiny.log" 2>&1 <<'PY' &
import socket, sys, threading, time
def serve(port, kind):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=talk, args=(c, kind), daemon=True).start()
def talk(c, kind):
    try:
        if kind == "endless":
            c.sendall(b"220-")
            while True:
                c.sendall(b"a" * 4096)
        elif kind == "flood":
            while True:
                c.sendall(b"220-xx\r\n" * 512)
        else:
            time.sleep(600)
    except OSError:
        pass
    c.close()
for port, kind in zip(map(int, sys.argv[1:4]), ("silent", "endless", "flood")):
    threading.Thread(target=serve, args=(port, kind), daemon=True).start()
time.sleep(900)
PY
TINY_PID=$!
t_wait 100 t_all_listening $P_SILENT $P_ENDLESS $P_FLOOD || e2e_setup_fail "the tiny servers did not listen"
PG_CONF_SAVED=$PG_CONF
PG_CONF=$E2E_D/fake.conf
bad_row bad_port_silent 3 "^UNKNOWN $P_SILENT connect$" "^$P_SILENT .*connect +UNKNOWN +greeting: no complete reply within 2000 ms" 30 --postfix "$FAKE" --probe --timeout 2
bad_row bad_port_endless_line 3 "^UNKNOWN $P_ENDLESS connect$" "^$P_ENDLESS .*connect +UNKNOWN +greeting: a reply line longer than 1000 bytes" 30 --postfix "$FAKE" --probe --timeout 2
bad_row bad_port_endless_reply 3 "^UNKNOWN $P_FLOOD connect$" "^$P_FLOOD .*connect +UNKNOWN +greeting: a reply longer than 8192 bytes" 30 --postfix "$FAKE" --probe --timeout 2
bad_row bad_port_closed 3 "^UNKNOWN $P_CLOSED connect$" "^$P_CLOSED .*connect +UNKNOWN +connect to 127\.0\.0\.1 port $P_CLOSED: Connection refused" 30 --postfix "$FAKE" --probe --timeout 2
PG_CONF=$PG_CONF_SAVED
t_stop_pid "$TINY_PID"
TINY_PID=

# ---------------------------------------------------------------- Sendmail
# A private Sendmail (tests/sendmail/lib.sh) built from the shipped
# conf/sendmail/portguard.mc lines, with portguard-milter behind it.

SM_TOP=$top
# sendmail/lib.sh sources tests/lib/case.sh again, which zeroes the counts.
_passed=$T_PASSED _failed=$T_FAILED
. tests/sendmail/lib.sh
T_PASSED=$_passed T_FAILED=$_failed
SM_PORT_MTA=14050
SM_PORT_MSA=14051
SM_PORT_SMTPS=14052
SM_PORT_ALT=14053
SM_PORT_MX2=14054
SM_PORT_MON=14055
SM_PORT_UNK=14056
SM_PORT_BAD=14057
SM_LOADED=1
t_needs audit "Sendmail binds and runs as root" m4 dpkg apt-get unshare saslpasswd2
if command -v flock >/dev/null 2>&1; then
	exec 9>"${TMPDIR:-/tmp}/portguard-sendmail-tests.lock"
	flock -w 300 9 || e2e_setup_fail "another Sendmail test run holds the lock for 300 s"
fi
sm_init "$B" && sm_write_mc shipped && sm_build_cf || e2e_setup_fail "the private Sendmail"
# a certificate good for a year (sm_init's lasts two days: a finding)
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$SM_HOST" \
	-keyout "$SM_DIR/certs/key.pem" -out "$SM_DIR/certs/cert.pem" >/dev/null 2>&1 ||
	e2e_setup_fail "openssl (Sendmail)"
chmod 0600 "$SM_DIR/certs/key.pem"
PG_LOG=$SM_DIR/milter.log
: >"$PG_LOG"
T_DIR=$SM_DIR/t
mkdir -p "$T_DIR"
SMC=$SM_DIR/audit.conf
cat >"$SMC" <<EOF
state_directory = "";
user = "nobody";
log = { level = "info"; stats_interval = 0; };
relay = {
  from_mta = "sendmail";
  sendmail_cf = "$SM_DIR/test.cf";
  trusted_networks = [ "127.0.0.1/32" ];
};
ports = (
  { port = $SM_PORT_MTA; name = "MTA"; role = "relay"; },
  { port = $SM_PORT_MSA; name = "MSA"; role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; },
  { port = $SM_PORT_SMTPS; name = "SMTPS"; role = "submission"; tls = "implicit"; min_tls_version = "TLSv1.2"; },
  { port = $SM_PORT_ALT; name = "ALT"; role = "submission"; tls = "starttls"; min_tls_version = "TLSv1.2"; }
);
milter = { listen = "unix:$SM_DIR/milter"; socket_mode = "0660"; };
EOF
chmod 0644 "$SMC"
cp "$SM_DIR/test.cf" "$SM_DIR/test.cf.good"
PG_CONF=$SMC
restore() { cp "$SM_DIR/test.cf.good" "$SM_DIR/test.cf"; }

# sm_apply_fix "FILE: LINE": LINE replaces the sendmail.cf line of the same
# option (a DaemonPortOptions line: the one with the same Name=), or of the
# same X filter; added when there is none.
sm_apply_fix() {
	_f=${1%%: *}
	_l=${1#*: }
	case $_l in
	"O DaemonPortOptions="*)
		_n=$(printf '%s' "$_l" | sed -n -E 's/.*Name=([^, ]+).*/\1/p')
		_k="^O DaemonPortOptions=.*Name=$_n(,|\$)" ;;
	O\ *=*) _k="^$(printf '%s' "${_l%%=*}" | sed 's/[.[\*^$]/\\&/g')=" ;;
	X*) _k="^${_l%%,*}," ;;
	*) return 1 ;;
	esac
	python3 - "$_f" "$_k" "$_l" <<'PY'
import re, sys
path, key, line = sys.argv[1:4]
lines = open(path).read().split("\n")
for i, l in enumerate(lines):
    if re.search(key, l):
        lines[i] = line
        break
else:
    lines.insert(len(lines) - 1, line)
open(path, "w").write("\n".join(lines))
PY
}

t_begin sm_config_clean_exit_0
audit sm_config_clean
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
for _c in "$SM_PORT_MSA auth_plaintext" "$SM_PORT_MSA tls_encrypt" "$SM_PORT_SMTPS tls_wrapper" \
	"0 portguard_hooked" "0 fail_open" "$SM_PORT_MTA port_listed"; do
	findings '^OK$' | grep -q "^OK $_c\$" || t_fail "no OK $_c"
done
t_end

restore
sed -i 's/^O AuthOptions=.*/O AuthOptions=y/' "$SM_DIR/test.cf"
row sm_authoptions_without_p 2 "CRITICAL $SM_PORT_MSA auth_plaintext
CRITICAL $SM_PORT_MTA auth_plaintext
CRITICAL $SM_PORT_ALT auth_plaintext"

restore
sed -i 's/^\(Xportguard, .*\)F=T, /\1/' "$SM_DIR/test.cf"
row sm_filter_without_f_t 1 "WARNING 0 fail_open"

restore
sed -i '/^O InputMailFilters=/d' "$SM_DIR/test.cf"
row sm_filter_not_in_inputmailfilters 2 "CRITICAL 0 portguard_hooked"

restore
sed -i '/^Xportguard, /d' "$SM_DIR/test.cf"
row sm_no_portguard_filter 2 "CRITICAL 0 portguard_hooked"

restore
sed -i 's/Name=SMTPS, M=Eas/Name=SMTPS, M=Ea/' "$SM_DIR/test.cf"
row sm_465_without_m_s 2 "CRITICAL $SM_PORT_SMTPS tls_wrapper"

restore
sed -i 's/Name=MSA, M=Ea/Name=MSA, M=E/' "$SM_DIR/test.cf"
row sm_submission_without_m_a 1 "WARNING $SM_PORT_MSA tls_encrypt"

restore
sed -i 's|^\(  { port = '"$SM_PORT_MTA"'; name = "MTA"; role = "relay";\) },|\1 auth = "forbidden"; },|' "$SMC"
row sm_auth_offered_where_forbidden 1 "WARNING $SM_PORT_MTA auth_offered"
sed -i 's/ auth = "forbidden"; },/ },/' "$SMC"

# A relay port that portguard.conf marks STARTTLS: no M=a advice (M=a would
# refuse mail from other servers); portguard refuses mail without TLS itself.
t_begin sm_relay_starttls_is_ok
restore
sed -i 's|^\(  { port = '"$SM_PORT_MTA"'; name = "MTA"; role = "relay";\) },|\1 tls = "starttls"; },|' "$SMC"
grep -q 'name = "MTA"; role = "relay"; tls = "starttls"; }' "$SMC" || t_fail "tls = starttls not set on the MTA entry"
audit sm_relay_starttls
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
findings '^OK$' | grep -q "^OK $SM_PORT_MTA tls_encrypt\$" || t_fail "no OK tls_encrypt for the relay port $SM_PORT_MTA"
sed -i 's/ tls = "starttls"; },/ },/' "$SMC"
t_end

restore
cp "$SMC" "$SMC.good"
# (the entry for ALT removed: Sendmail listens on a port portguard lacks)
sed -i "/port = $SM_PORT_ALT;/d; /port = $SM_PORT_SMTPS;/s/},\$/}/" "$SMC"
row sm_port_not_in_portguard_conf 1 "WARNING $SM_PORT_ALT port_listed"
cp "$SMC.good" "$SMC"

# The wire: Sendmail and portguard-milter running.
restore
cp "$E2E_B/portguard-milter" "$SM_DIR/portguard-milter" || e2e_setup_fail "copy portguard-milter"
sm_start || e2e_setup_fail "the private Sendmail did not start"
pg_milter_start "$SM_DIR/portguard-milter" "$SMC" || e2e_setup_fail "portguard-milter did not start"
t_begin sm_wire_clean_exit_0
audit sm_wire_clean $FROM2
[ "$A_RC" = 0 ] || t_fail "exit $A_RC, want 0: $(findings | tr '\n' ';')"
for _c in "$SM_PORT_MSA auth_before_tls" "$SM_PORT_MSA starttls" "$SM_PORT_SMTPS implicit_tls" \
	"$SM_PORT_MTA open_relay" "$SM_PORT_MSA cert_expiry"; do
	findings '^OK$' | grep -q "^OK $_c\$" || t_fail "no OK $_c"
done
t_end

sm_restart() {
	sm_stop
	sm_start || t_fail "Sendmail did not start again"
}
ROW_AFTER_FIX() { sm_restart; }
sed -i 's/^O AuthOptions=.*/O AuthOptions=y/' "$SM_DIR/test.cf"
sm_restart
row sm_wire_auth_before_tls 2 "CRITICAL $SM_PORT_MSA auth_before_tls
CRITICAL $SM_PORT_MSA auth_plaintext
CRITICAL $SM_PORT_MTA auth_before_tls
CRITICAL $SM_PORT_MTA auth_plaintext
CRITICAL $SM_PORT_ALT auth_before_tls
CRITICAL $SM_PORT_ALT auth_plaintext" --probe
ROW_AFTER_FIX() { :; }
restore

echo "audit: $T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" = 0 ]
