#!/bin/sh
# The soak (issue 14): portguard-policyd under a steady load for SOAK_SECS
# while it is reloaded, killed and flooded, and what that cost.
#
#   sh tests/bench/soak.sh BUILD_DIR
#
# BUILD_DIR/portguard-policyd (-f -e, its counters in a state file, a
# connection cap of SOAK_CAP) listens on a unix socket in a temporary
# directory. For SOAK_SECS seconds (default 600):
#   - BUILD_DIR/bench/loadgen -K sends SOAK_RATE requests a second over
#     SOAK_CONNS connections, each request's right answer known: relay
#     attempts and submission without TLS must be refused, the rest allowed;
#     every reply is checked, and connections the daemon closes are reopened;
#   - every SOAK_SECS/200 seconds a SIGHUP reload, alternately of a good
#     config and of a broken one (which the daemon must refuse and keep
#     serving);
#   - every SOAK_SECS/10 seconds a kill -9 and a restart (the loadgen is told
#     the window with SIGUSR1/SIGUSR2, so what fails in it is counted apart);
#   - from SOAK_SECS/20 on, loadgen -F holds SOAK_CAP connections, half
#     trickling a request that never ends (slowloris), half idle, reopening
#     each one the daemon closes.
# At the end the daemon is stopped cleanly, and the figures are printed, each
# marked met or NOT met: requests served; requests failed (outside the kill
# windows: must be 0; in them, counted apart and explained); wrongly
# accepted (must be 0); counts lost: every decision the clients received
# (the soak's and the readiness probes') minus the recipients summed over all
# stats lines, the recovered ones included (must be 0; the daemon may have
# counted a request whose reply the kill -9 cut off, at most one per request
# lost in a window); peak RSS (VmHWM, the largest of all the daemon's runs).
#
# Informational like run.sh: exits 0 even when a target is missed, 2 when
# something is broken (a binary missing, the daemon does not start or dies
# outside a kill). Environment: SOAK_SECS (600), SOAK_RATE (500),
# SOAK_CONNS (16), SOAK_CAP (64), KEEP=1 keeps the temporary directory.
set -u

B=${1:-build}
SECS=${SOAK_SECS:-600}
RATE=${SOAK_RATE:-500}
CONNS=${SOAK_CONNS:-16}
CAP=${SOAK_CAP:-64}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/bench/conf.sh
# shellcheck source=tests/lib/common.sh
. tests/lib/common.sh

PG=$B/portguard-policyd
LOADGEN=$B/bench/loadgen
for f in "$PG" "$LOADGEN"; do
	if [ ! -x "$f" ]; then
		echo "soak: $f is missing (make B=$B all bench-tools)" >&2
		exit 2
	fi
done
case $SECS in
'' | *[!0-9]*) echo "soak: SOAK_SECS must be whole seconds" >&2 && exit 2 ;;
esac
[ "$SECS" -ge 20 ] || { echo "soak: SOAK_SECS must be at least 20" >&2 && exit 2; }

# Every phase from SOAK_SECS: reloads 200 times, kills 10 times a run.
RELOAD_EVERY=$(awk -v s="$SECS" 'BEGIN { printf "%.2f", s / 200 }')
KILL_EVERY=$((SECS / 10))
FLOOD_AT=$((SECS / 20))

mkdir -p "$B" || exit 2
absb=$(cd "$B" && pwd)
tmp=$(mktemp -d "$absb/soak-run.XXXXXX") || exit 2
if [ ${#tmp} -gt 90 ]; then # sun_path is 108 bytes
	rmdir "$tmp"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pg-soak.XXXXXX") || exit 2
fi
SOCK=$tmp/pg.sock

pg_pid="" load_pid="" flood_pid=""
cleanup() {
	for p in $load_pid $flood_pid $pg_pid; do
		t_stop_pid "$p" 50
	done
	if [ "${KEEP:-0}" = 1 ] || [ "${failed:-0}" = 1 ]; then
		echo "soak: logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP
fail() {
	failed=1
	echo "soak: ERROR: $*" >&2
	exit 2
}

# The good config: the bench's, with the cap, a short request deadline (a
# trickle is closed at it), stats only at stop, and the state file. The
# broken one: the same with a syntax error. The daemon reads $tmp/pg.conf.
bench_write_conf "$tmp/good.conf" "$CAP"
sed -i 's/^policyd = {.*/policyd = { max_connections = '"$CAP"'; idle_timeout = 600; request_timeout = 3; };/' "$tmp/good.conf"
mkdir "$tmp/state"
echo "state_directory = \"$tmp/state\";" >>"$tmp/good.conf"
{
	cat "$tmp/good.conf"
	echo "ports = ( { port = 25; role = "
} >"$tmp/bad.conf"
cp "$tmp/good.conf" "$tmp/pg.conf"
"$PG" -c "$tmp/pg.conf" -n >"$tmp/check.out" 2>&1 ||
	fail "portguard-policyd rejects the soak config: $(cat "$tmp/check.out")"
"$PG" -c "$tmp/bad.conf" -n >/dev/null 2>&1 && fail "the broken config is accepted"

runs=0
probes=0
hwm=0
# start: a new run of the daemon, its log $tmp/pg.N.log; ready when it
# answers one request (a decision it counts: probes are added to the
# clients' count).
start() {
	runs=$((runs + 1))
	"$PG" -c "$tmp/pg.conf" -f -e -p "unix:$SOCK" 2>"$tmp/pg.$runs.log" &
	pg_pid=$!
	if ! "$LOADGEN" -s "$SOCK" -1 -T 10 2>>"$tmp/probe.err"; then
		tail -n 20 "$tmp/pg.$runs.log" >&2
		fail "portguard-policyd (run $runs) did not answer"
	fi
	probes=$((probes + 1))
}
# note_hwm: the running daemon's VmHWM (KiB) into the maximum.
note_hwm() {
	h=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pg_pid/status" 2>/dev/null)
	[ -n "$h" ] && [ "$h" -gt "$hwm" ] && hwm=$h
	return 0
}

start
# The clients' limit on descriptors is theirs; the daemon's cap is small.
"$LOADGEN" -s "$SOCK" -K -c "$CONNS" -r "$RATE" -d "$SECS" -S 14 >"$tmp/load.out" 2>"$tmp/load.err" &
load_pid=$!

echo "portguard soak: ${SECS}s at $RATE requests/s over $CONNS connections, max_connections=$CAP;"
echo "  a reload every ${RELOAD_EVERY}s (good and broken alternately), kill -9 and restart every ${KILL_EVERY}s,"
echo "  from ${FLOOD_AT}s $CAP connections held (half trickling a request, half idle)"

t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
next_reload=$RELOAD_EVERY
next_kill=$KILL_EVERY
reloads_good=0 reloads_bad=0 kills=0
while kill -0 "$load_pid" 2>/dev/null; do
	now=$(elapsed)
	if [ -z "$flood_pid" ] && awk -v n="$now" -v f="$FLOOD_AT" 'BEGIN { exit !(n >= f) }'; then
		"$LOADGEN" -s "$SOCK" -F -c "$CAP" -d $((SECS + 60)) >"$tmp/flood.out" 2>"$tmp/flood.err" &
		flood_pid=$!
	fi
	# The last kill comes a kill period before the end, so that every
	# window closes while the load runs.
	if [ "$kills" -lt $((SECS / KILL_EVERY - 1)) ] &&
		awk -v n="$now" -v k="$next_kill" 'BEGIN { exit !(n >= k) }'; then
		note_hwm
		kill -USR1 "$load_pid"
		sleep 0.05
		kill -KILL "$pg_pid"
		wait "$pg_pid" 2>/dev/null
		kills=$((kills + 1))
		cp "$tmp/good.conf" "$tmp/pg.conf"
		start
		kill -USR2 "$load_pid" 2>/dev/null
		next_kill=$((next_kill + KILL_EVERY))
	elif awk -v n="$now" -v r="$next_reload" 'BEGIN { exit !(n >= r) }'; then
		if [ $(((reloads_good + reloads_bad) % 2)) = 0 ]; then
			cp "$tmp/good.conf" "$tmp/pg.conf.new" && reloads_good=$((reloads_good + 1))
		else
			cp "$tmp/bad.conf" "$tmp/pg.conf.new" && reloads_bad=$((reloads_bad + 1))
		fi
		mv "$tmp/pg.conf.new" "$tmp/pg.conf"
		kill -HUP "$pg_pid"
		next_reload=$(awk -v r="$next_reload" -v e="$RELOAD_EVERY" 'BEGIN { printf "%.2f", r + e }')
	fi
	kill -0 "$pg_pid" 2>/dev/null || fail "portguard-policyd (run $runs) died outside a kill: $(tail -n 5 "$tmp/pg.$runs.log")"
	sleep 0.1
done
wait "$load_pid"
lrc=$?
load_pid=""
[ "$lrc" = 0 ] && [ -s "$tmp/load.out" ] || fail "the load generator failed: $(cat "$tmp/load.err")"
if [ -n "$flood_pid" ]; then
	kill "$flood_pid"
	wait "$flood_pid"
	flood_pid=""
fi
note_hwm
kill "$pg_pid"
wait "$pg_pid"
prc=$?
pg_pid=""
[ "$prc" = 0 ] || fail "portguard-policyd exited $prc at the clean stop"

# key=value from a loadgen output file
kvf() { tr ' ' '\n' <"$1" | sed -n "s/^$2=//p"; }
L=$tmp/load.out
answered=$(kvf "$L" answered)
clients=$((answered + probes))
stats=$(cat "$tmp"/pg.*.log | awk '/stats: port=/ {
	for (i = 1; i <= NF; i++) if ($i ~ /^recipients=[0-9]+$/) n += substr($i, 12) }
	END { print n + 0 }')
recovered=$(cat "$tmp"/pg.*.log | grep -c 'stats: port=.*recovered=1')
reloaded=$(cat "$tmp"/pg.*.log | grep -c 'reloaded')
lost_w=$(kvf "$L" lost_in_window)
failed_other=$(($(kvf "$L" connect_failed_other) + $(kvf "$L" bad_reply) + $(kvf "$L" unanswered_at_end) + $(kvf "$L" tempfail)))
wrong=$(kvf "$L" wrongly_accepted)
lost=$((clients - stats))
extra=$((stats - clients))
mark() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
ok() { awk "BEGIN { exit !($1) }" && echo 1 || echo 0; }

echo
echo "load:   $(cat "$L")"
[ -s "$tmp/flood.out" ] && echo "flood:  $(cat "$tmp/flood.out")"
echo "daemon: $runs runs ($kills kill -9), $reloads_good good and $reloads_bad broken reloads, $recovered recovered stats line(s), \"reloaded\" logged $reloaded time(s)"
[ "$reloaded" = "$reloads_good" ] || echo "  NOTE: $reloads_good good reloads sent but $reloaded \"reloaded\" lines (a reload lost to a kill, or a broken one taken)"
echo
echo "figures:"
printf '  requests served:        %s (%s/s), of %s sent  %s\n' "$answered" "$(kvf "$L" rps)" \
	"$(kvf "$L" sent)" "$(mark "$(ok "$answered > 0")")"
printf '  requests failed:        %s outside the kill windows (bad or temporary replies, refused connects, no reply at the end)  %s\n' \
	"$failed_other" "$(mark "$(ok "$failed_other == 0")")"
printf '    in the %s kill windows: %s connects refused while the daemon was down, %s requests cut off in flight, %s idle connections closed (by the kill, or to make room as the flood came back)\n' \
	"$(kvf "$L" windows)" "$(kvf "$L" refused_in_window)" "$lost_w" "$(kvf "$L" closed_idle_in_window)"
printf '    (expected: a kill -9 ends every connection; until the restart answers, a connect is refused)\n'
printf '    at the cap: %s idle connections closed to make room, %s requests sent again on a new connection (informational)\n' \
	"$(kvf "$L" evicted_idle)" "$(kvf "$L" retried)"
printf '  wrongly accepted:       %s (wrongly refused: %s)  %s\n' "$wrong" "$(kvf "$L" wrongly_refused)" \
	"$(mark "$(ok "$wrong == 0 && $(kvf "$L" wrongly_refused) == 0")")"
printf '  counts lost:            %s (decisions received %s = %s soak + %s probes; recipients in stats lines %s)  %s\n' \
	"$((lost > 0 ? lost : 0))" "$clients" "$answered" "$probes" "$stats" "$(mark "$(ok "$lost <= 0")")"
printf '    counted but unanswered: %s, at most the %s requests cut off in kill windows  %s\n' \
	"$((extra > 0 ? extra : 0))" "$lost_w" "$(mark "$(ok "$extra <= $lost_w")")"
printf '  peak RSS (VmHWM):       %s KiB (%.1f MiB), the largest of %s runs  %s\n' "$hwm" \
	"$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')" "$runs" "$(mark "$(ok "$hwm > 0 && $hwm < 16384")")"
exit 0
