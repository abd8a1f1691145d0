#!/bin/sh
# tests/metrics/run.sh BUILD_DIR - the Prometheus textfile of both daemons.
#
# portguard-policyd (over its policy protocol, tests/policy/pclient.py) and
# portguard-milter (under miltertest, tests/milter/stats.lua) each get a known
# mix of traffic and write metrics_file every second. Every counter of both
# files must equal what the test sent, also after a stats line (counters are
# cumulative), a reload that worked and one that failed (counted by result),
# and at stop (the last write). `promtool check metrics` must find nothing to
# say about either file. A real prometheus-node-exporter on 127.0.0.1:15190
# (textfile collector only) must serve both files' series unchanged to one
# HTTP GET. The Grafana dashboard (conf/grafana) must be valid JSON that
# uses only metrics the files have. Last, the shipped fail2ban filter and
# logcheck rules on policyd's log (tests/lib/logfilters.sh).
#
# Ports: 127.0.0.1:15190 (node_exporter) only; the daemons use unix sockets.
# Prints "PASS: metrics/NAME" or "FAIL: metrics/NAME" per case.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
B=${1:-build/san}
T_TOP=$top
. tests/lib/common.sh
. tests/lib/logfilters.sh

t_needs metrics "the daemons bind and may drop privileges" promtool prometheus-node-exporter \
	curl miltertest python3 fail2ban-regex ss

NODE_PORT=15190
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

tmp=$(mktemp -d)
chmod 755 "$tmp"
mkdir "$tmp/textfile"
PFILE=$tmp/textfile/portguard-policyd.prom
MFILE=$tmp/textfile/portguard-milter.prom
pids=""
# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	for p in $pids; do
		t_stop_pid "$p" 50
	done
	if [ "${KEEP:-0}" = 1 ]; then echo "metrics: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# check NAME PROBLEMS: PASS when PROBLEMS is empty, else FAIL with them.
check() {
	if [ -z "$2" ]; then
		echo "PASS: metrics/$1"
	else
		echo "FAIL: metrics/$1"
		printf '%s\n' "$2" | sed -n '1,25s/^/    /p'
	fi
}

# mismatches FILE WANT: one line per series of WANT ("series value" lines)
# whose value in FILE differs.
mismatches() {
	awk 'NR == FNR { want[$1] = $2; order[++n] = $1; next }
		/^#/ { next }
		{ got[$1] = $2 }
		END { for (i = 1; i <= n; i++) { s = order[i]
			if (!(s in got)) printf "%s: missing, want %s\n", s, want[s]
			else if (got[s] != want[s]) printf "%s = %s, want %s\n", s, got[s], want[s] } }' "$2" "$1"
}

# has_value FILE SERIES VALUE
has_value() {
	[ "$(awk -v s="$2" '$1 == s { print $2 }' "$1" 2>/dev/null)" = "$3" ]
}

started() { kill -0 "$1" 2>/dev/null && grep -q 'listening on' "$2"; }

# ------------------------------------------------------------ policyd

pconf() {
	cat >"$1" <<EOF
# tests/metrics portguard.conf (policyd)
mode = "enforce";
default_role = "relay";
log = { level = "info"; stats_interval = 0; };
relay = { local_domains = [ "example.org" ]; trusted_networks = [ "192.0.2.200/32" ]; };
ports = (
  { port = 25;   role = "relay"; },
  { port = 587;  role = "submission"; tls = "starttls"; },
  { port = 2525; role = "submission"; tls = "starttls"; mode = "monitor"; }
);
user = "root";
allow_root = true;
state_directory = "";
metrics_file = "$PFILE";
metrics_interval = 1;
policyd = { listen = [ "unix:$tmp/policy.sock" ]; };
${2:-}
EOF
}

# req PORT INSTANCE TLS SASL RCPT: one RCPT request.
req() {
	cat <<EOF
request=smtpd_access_policy
protocol_state=RCPT
protocol_name=ESMTP
client_address=192.0.2.10
client_name=client.example
client_port=40000
server_port=$1
instance=$2
queue_id=
sender=alice@example.org
recipient=$5
sasl_method=${4:+PLAIN}
sasl_username=$4
encryption_protocol=$3
encryption_cipher=${3:+TLS_AES_256_GCM_SHA384}
encryption_keysize=${3:+256}

EOF
}

# The mix, and what it must count (transactions are Postfix instances):
#   587: i1 TLSv1.3+AUTH pass; i2 plaintext -> tls_required; i3 TLSv1.2+AUTH,
#        two recipients, pass
#   25:  i4 plaintext remote -> relay; i5 plaintext AUTH -> plaintext_auth
#   2525 (monitor): i6 plaintext -> would-refuse tls_required
{
	req 587 i1 TLSv1.3 alice bob@example.net
	req 587 i2 "" "" bob@example.net
	req 587 i3 TLSv1.2 alice bob@example.net
	req 587 i3 TLSv1.2 alice carol@example.net
	req 25 i4 "" "" x@remote.example
	req 25 i5 "" alice x@example.org
	req 2525 i6 "" "" y@example.net
} >"$tmp/mix.req"

L='daemon="policyd",port="587",role="submission"'
R='daemon="policyd",port="25",role="relay"'
M='daemon="policyd",port="2525",role="submission"'
cat >"$tmp/policyd.want" <<EOF
portguard_build_info{daemon="policyd",version="$(sed -n 's/.*PG_VERSION "\(.*\)"/\1/p' core/version.h)"} 1
portguard_transactions_total{$L} 3
portguard_recipients_total{$L} 4
portguard_tls_total{$L,version="TLSv1.3"} 1
portguard_tls_total{$L,version="TLSv1.2"} 1
portguard_tls_total{$L,version="TLSv1.1"} 0
portguard_tls_total{$L,version="other"} 0
portguard_plaintext_total{$L} 1
portguard_auth_total{$L} 2
portguard_auth_plaintext_total{$L} 0
portguard_refusals_total{$L,rule="tls_required"} 1
portguard_refusals_total{$L,rule="relay"} 0
portguard_would_refusals_total{$L,rule="tls_required"} 0
portguard_transactions_total{$R} 2
portguard_recipients_total{$R} 2
portguard_plaintext_total{$R} 2
portguard_tls_total{$R,version="TLSv1.3"} 0
portguard_auth_total{$R} 1
portguard_auth_plaintext_total{$R} 1
portguard_refusals_total{$R,rule="relay"} 1
portguard_refusals_total{$R,rule="plaintext_auth"} 1
portguard_refusals_total{$R,rule="tls_required"} 0
portguard_transactions_total{$M} 1
portguard_plaintext_total{$M} 1
portguard_refusals_total{$M,rule="tls_required"} 0
portguard_would_refusals_total{$M,rule="tls_required"} 1
EOF

PLOG=$tmp/policyd.log
pconf "$tmp/policyd.conf"
"$B/portguard-policyd" -f -e -c "$tmp/policyd.conf" 2>"$PLOG" &
PPID_=$!
pids="$pids $PPID_"
if ! t_wait 100 started "$PPID_" "$PLOG"; then
	check policyd_start "did not start: $(tail -n 5 "$PLOG")"
	exit 1
fi

_p=
t_wait 50 test -f "$PFILE" || _p="no $PFILE within 5 s of the start"
[ -z "$_p" ] && ! has_value "$PFILE" 'portguard_config_reloads_total{daemon="policyd",result="success"}' 0 &&
	_p="at start: $(grep reloads_total "$PFILE")"
check policyd_file_at_start "$_p"

python3 tests/policy/pclient.py "$tmp/policy.sock" send "$tmp/mix.req" >"$tmp/mix.out" 2>&1
_p=
[ "$(grep -c '^action=' "$tmp/mix.out")" = 7 ] || _p="replies: $(cat "$tmp/mix.out")"
# the next write (within a second or two) shows the mix
counted() { [ -z "$(mismatches "$PFILE" "$tmp/policyd.want")" ]; }
t_wait 50 counted || _p="$_p$(mismatches "$PFILE" "$tmp/policyd.want")"
check policyd_counts_equal_what_was_sent "$_p"

# A stats line resets the stats counters; the metrics stay cumulative. Then
# a reload that works and one that fails, each counted by result.
_p=
kill -USR2 "$PPID_"
t_wait 50 grep -q 'stats: port=587 ' "$PLOG" || _p="no stats line after SIGUSR2"
kill -HUP "$PPID_"
t_wait 50 grep -q 'reloaded: daemon=portguard-policyd' "$PLOG" || _p="$_p no reloaded line"
pconf "$tmp/policyd.conf" 'no_such_key = 1;'
kill -HUP "$PPID_"
t_wait 50 grep -q 'reload failed' "$PLOG" || _p="$_p no 'reload failed' line"
pconf "$tmp/policyd.conf"
{
	cat "$tmp/policyd.want"
	echo 'portguard_config_reloads_total{daemon="policyd",result="success"} 1'
	echo 'portguard_config_reloads_total{daemon="policyd",result="failure"} 1'
} >"$tmp/policyd.want2"
counted2() { [ -z "$(mismatches "$PFILE" "$tmp/policyd.want2")" ]; }
t_wait 50 counted2 || _p="$_p$(mismatches "$PFILE" "$tmp/policyd.want2")"
check policyd_cumulative_across_stats_and_reloads "$_p"

# ------------------------------------------------------------ milter

MLOG=$tmp/milter.log
cat >"$tmp/milter.conf" <<EOF
# tests/metrics portguard.conf (milter)
mode = "enforce";
default_role = "relay";
log = { level = "debug"; stats_interval = 0; };
relay = { local_domains = [ "example.org" ]; trusted_networks = [ "10.0.0.0/8" ]; };
ports = (
  { port = 25;  role = "relay"; },
  { port = 587; role = "submission"; tls = "starttls"; }
);
user = "root";
allow_root = true;
state_directory = "";
metrics_file = "$MFILE";
metrics_interval = 1;
milter = { listen = "unix:$tmp/milter.sock"; };
EOF
"$B/portguard-milter" -f -e -c "$tmp/milter.conf" 2>"$MLOG" &
MPID=$!
pids="$pids $MPID"
if ! t_wait 100 started "$MPID" "$MLOG"; then
	check milter_start "did not start: $(tail -n 5 "$MLOG")"
	exit 1
fi
# tests/milter/stats.lua's mix (its header says what it must count)
L='daemon="milter",port="587",role="submission"'
R='daemon="milter",port="25",role="relay"'
cat >"$tmp/milter.want" <<EOF
portguard_sessions_total{$L} 3
portguard_transactions_total{$L} 3
portguard_recipients_total{$L} 2
portguard_tls_total{$L,version="TLSv1.3"} 1
portguard_plaintext_total{$L} 2
portguard_auth_total{$L} 1
portguard_auth_plaintext_total{$L} 0
portguard_refusals_total{$L,rule="tls_required"} 1
portguard_sessions_total{$R} 2
portguard_transactions_total{$R} 2
portguard_recipients_total{$R} 2
portguard_tls_total{$R,version="TLSv1.3"} 0
portguard_plaintext_total{$R} 2
portguard_auth_total{$R} 1
portguard_auth_plaintext_total{$R} 1
portguard_refusals_total{$R,rule="plaintext_auth"} 1
portguard_refusals_total{$R,rule="relay"} 1
portguard_would_refusals_total{$R,rule="relay"} 0
portguard_config_reloads_total{daemon="milter",result="success"} 1
EOF
_p=
miltertest -D "sock=unix:$tmp/milter.sock" -D "lib=$top/tests/milter" \
	-s tests/milter/stats.lua >"$tmp/mt.out" 2>&1 || _p="miltertest: $(tail -n 3 "$tmp/mt.out")"
closed() { [ "$(grep -c 'session closed:' "$MLOG")" -ge 5 ]; }
t_wait 100 closed || _p="$_p only $(grep -c 'session closed:' "$MLOG") of 5 sessions closed"
kill -USR1 "$MPID"
t_wait 50 grep -q 'reloaded: daemon=portguard-milter' "$MLOG" || _p="$_p no reloaded line"
mcounted() { [ -z "$(mismatches "$MFILE" "$tmp/milter.want")" ]; }
t_wait 50 mcounted || _p="$_p$(mismatches "$MFILE" "$tmp/milter.want")"
check milter_counts_equal_what_was_sent "$_p"

# ------------------------------------------------------------ the files

for f in "$PFILE" "$MFILE"; do
	_p=$(promtool check metrics <"$f" 2>&1) || _p="promtool exit $?: $_p"
	check "promtool_check_metrics_$(basename "$f" .prom)" "$_p"
done

_p=
for f in "$PFILE" "$MFILE"; do
	grep -v '^#' "$f" | grep -v -E '^portguard_[a-z_]+(_total|_seconds|_info)\{' | sed 's/^/not a portguard_ counter, gauge or info: /'
	grep -E '^portguard_[a-z_]+\{' "$f" | grep -v -E '\{daemon="(policyd|milter)"' | sed 's/^/no daemon label first: /'
	[ ! -e "$f.tmp" ] || echo "temporary file left: $f.tmp"
done >"$tmp/names.out"
_p=$(cat "$tmp/names.out")
check names_and_labels "$_p"

# ------------------------------------------------------------ node_exporter

_p=
if t_listening "$NODE_PORT"; then
	_p="127.0.0.1:$NODE_PORT is already in use"
else
	prometheus-node-exporter --web.listen-address="127.0.0.1:$NODE_PORT" \
		--collector.disable-defaults --collector.textfile \
		--collector.textfile.directory="$tmp/textfile" >"$tmp/node.log" 2>&1 &
	NPID=$!
	pids="$pids $NPID"
	if t_wait 100 t_listening "$NODE_PORT"; then
		curl -sf "http://127.0.0.1:$NODE_PORT/metrics" >"$tmp/scrape.out" || _p="curl failed"
		grep -q '^node_textfile_scrape_error 0$' "$tmp/scrape.out" ||
			_p="$_p $(grep node_textfile_scrape_error "$tmp/scrape.out") $(tail -n 3 "$tmp/node.log")"
		# every counter of both files, served unchanged
		for f in "$PFILE" "$MFILE"; do
			grep -E '^portguard_[a-z_]+_total\{' "$f" >"$tmp/series"
			_n=$(wc -l <"$tmp/series")
			_m=$(grep -c -F -x -f "$tmp/series" "$tmp/scrape.out")
			[ "$_n" -gt 0 ] && [ "$_m" = "$_n" ] || _p="$_p $(basename "$f"): node_exporter served $_m of its $_n counter series"
		done
		grep -q '^portguard_build_info{daemon="milter",version=' "$tmp/scrape.out" || _p="$_p no milter build_info"
	else
		_p="node_exporter does not listen on 127.0.0.1:$NODE_PORT: $(tail -n 3 "$tmp/node.log")"
	fi
	t_stop_pid "$NPID" 50
fi
check node_exporter_serves_both_files "$_p"

# ------------------------------------------------------------ dashboard

_p=$(python3 - conf/grafana/portguard-dashboard.json "$PFILE" "$MFILE" <<'PY' 2>&1
import json, re, sys
dash = json.load(open(sys.argv[1]))
families = set()
for path in sys.argv[2:]:
    for line in open(path):
        if line.startswith("# TYPE "):
            families.add(line.split()[2])
exprs, titles = [], {}
def walk(p):
    for t in p.get("targets", []):
        exprs.append(t["expr"])
        titles.setdefault(p["title"], []).append(t["expr"])
    for q in p.get("panels", []):
        walk(q)
for p in dash["panels"]:
    walk(p)
for v in dash.get("templating", {}).get("list", []):
    exprs.append(v.get("query", ""))
used = set(m for e in exprs for m in re.findall(r"\bportguard_[a-z_]+", e))
for m in sorted(used - families):
    print("dashboard uses %s, which no metrics file has" % m)
need = {"TLS share per port": ("portguard_tls_total", "portguard_plaintext_total"),
        "Refusals by rule": ("portguard_refusals_total",)}
for want, metrics in need.items():
    hits = [t for t in titles if t.startswith(want)]
    if not hits:
        print("no panel titled %s" % want)
    for m in metrics:
        if hits and not any(m in e for t in hits for e in titles[t]):
            print("panel %s does not use %s" % (want, m))
if len(used) < 8:
    print("dashboard uses only %d metrics" % len(used))
PY
)
check grafana_dashboard_valid_and_uses_existing_metrics "$_p"

# ------------------------------------------------------------ stop

_p=
t_stop_pid "$PPID_" 100
[ "$T_RC" = 0 ] || _p="policyd exit $T_RC"
t_stop_pid "$MPID" 100
[ "$T_RC" = 0 ] || _p="$_p milter exit $T_RC"
pids=
[ -z "$(mismatches "$PFILE" "$tmp/policyd.want2")" ] || _p="$_p policyd at stop: $(mismatches "$PFILE" "$tmp/policyd.want2")"
[ -z "$(mismatches "$MFILE" "$tmp/milter.want")" ] || _p="$_p milter at stop: $(mismatches "$MFILE" "$tmp/milter.want")"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$PLOG" "$MLOG" >/dev/null && _p="$_p sanitizer report"
check stop_writes_the_last_file_clean "$_p"

# ------------------------------------------------------------ fail2ban, logcheck

_p=
for st in traditional rfc3339; do
	logfilters_syslog "$PLOG" "$tmp/policyd-$st.log" "$st"
	_lf=$(logfilters_check "$tmp/policyd-$st.log" "$tmp/lf-$st")
	[ -z "$_lf" ] || _p="$_p$st: $_lf
"
done
check policyd_log_fail2ban_and_logcheck "$_p"
