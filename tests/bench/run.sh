#!/bin/sh
# Benchmark portguard-policyd against the null policy server (the ceiling).
#
#   sh tests/bench/run.sh BUILD_DIR
#
# Starts BUILD_DIR/portguard-policyd (-f -e, logging to a file: reject lines are
# part of the real cost) and BUILD_DIR/bench/nullpolicy on unix sockets in a
# temporary directory under BUILD_DIR, waits until each answers a request, then
# for N = 1, 16, 256 connections runs BUILD_DIR/bench/loadgen against both,
# alternating null, portguard, null, portguard... (RUNS runs of SECS seconds
# each) and prints the medians side by side: decisions/s, p50/p99 latency and
# server CPU per decision. The throughput ratio is the median of the per-run
# ratios (each portguard run over the null run just before it), printed with
# all of them, so drift on a noisy machine cancels instead of deciding. Then the servers' RSS holding 1,000 idle
# connections, and the targets, each marked met or NOT met.
#
# BASELINE=OTHER_BUILD_DIR also starts OTHER_BUILD_DIR/portguard-policyd (say,
# the commit before a change) with the same config and interleaves it: each
# run is null, baseline, portguard, back to back. Its throughput ratio to
# null is printed under each row ("before"), and one more target compares
# them: portguard's ratio at N=16 and N=256 no more than 3 points below the
# baseline's.
#
# Informational: exits 0 even when a target is missed. Exits 2 when something
# is broken (a binary is missing, a server does not start, a run fails).
# Environment: SECS (default 1.2), RUNS (default 7), CONNS (default "1 16 256"),
# IDLE (default 1000), BASELINE (unset), KEEP=1 keeps the temporary directory
# and its logs.
set -u

B=${1:-build}
SECS=${SECS:-1.2}
RUNS=${RUNS:-7}
CONNS=${CONNS:-"1 16 256"}
IDLE=${IDLE:-1000}
BASELINE=${BASELINE:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/bench/conf.sh

PG=$B/portguard-policyd
NULLSRV=$B/bench/nullpolicy
LOADGEN=$B/bench/loadgen
BASE_PG=${BASELINE:+$BASELINE/portguard-policyd}
WHO="null pg"
[ -n "$BASELINE" ] && WHO="null base pg"
for f in "$PG" "$NULLSRV" "$LOADGEN" $BASE_PG; do
	if [ ! -x "$f" ]; then
		echo "bench: $f is missing (make B=$B all bench-tools)" >&2
		exit 2
	fi
done

# 1,000 idle connections plus the listeners need more descriptors than the
# usual soft limit of 1024; the tools raise theirs, portguard inherits ours.
need=$((IDLE + 64))
# ulimit -n/-H are not POSIX, but dash, bash and busybox sh all have them.
# shellcheck disable=SC3045
soft=$(ulimit -n)
if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
	# shellcheck disable=SC3045
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n "$need" 2>/dev/null
	# shellcheck disable=SC3045
	soft=$(ulimit -n)
	if [ "$soft" != unlimited ] && [ "$soft" -lt "$need" ]; then
		echo "bench: open-file limit $soft is below $need; raise it (ulimit -n)" >&2
		exit 2
	fi
fi

mkdir -p "$B" || exit 2
absb=$(cd "$B" && pwd)
tmp=$(mktemp -d "$absb/bench-run.XXXXXX") || exit 2
# A unix socket path must fit in sun_path (108 bytes).
if [ ${#tmp} -gt 90 ]; then
	rmdir "$tmp"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pg-bench.XXXXXX") || exit 2
fi

null_pid=""
pg_pid=""
base_pid=""
cleanup() {
	for p in $null_pid $pg_pid $base_pid; do
		stop_pid "$p"
	done
	if [ "${KEEP:-0}" = 1 ] || [ "${failed:-0}" = 1 ]; then
		echo "bench: logs kept in $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

fail() {
	failed=1
	echo "bench: ERROR: $*" >&2
	exit 2
}

bench_write_conf "$tmp/bench.conf" $((IDLE + 100))

# The counters in a state file, as in production (a build that predates
# state_directory, as a BASELINE may, keeps bench.conf as it is).
mkdir "$tmp/state"
cp "$tmp/bench.conf" "$tmp/pg.conf"
echo "state_directory = \"$tmp/state\";" >>"$tmp/pg.conf"
"$PG" -c "$tmp/pg.conf" -n >/dev/null 2>&1 || cp "$tmp/bench.conf" "$tmp/pg.conf"

"$PG" -c "$tmp/pg.conf" -n >"$tmp/check.out" 2>&1 ||
	fail "portguard-policyd rejects the bench config: $(cat "$tmp/check.out")"

"$NULLSRV" -m $((IDLE + 100)) "unix:$tmp/null.sock" 2>"$tmp/null.log" &
null_pid=$!
"$PG" -c "$tmp/pg.conf" -f -e -p "unix:$tmp/pg.sock" 2>"$tmp/portguard.log" &
pg_pid=$!

if [ -n "$BASELINE" ]; then
	"$BASE_PG" -c "$tmp/bench.conf" -f -e -p "unix:$tmp/base.sock" 2>"$tmp/base.log" &
	base_pid=$!
fi

# Ready = answers one request (loadgen retries the connect for up to 10 s).
"$LOADGEN" -s "$tmp/null.sock" -1 -T 10 || fail "nullpolicy did not answer"
if ! "$LOADGEN" -s "$tmp/pg.sock" -1 -T 10; then
	tail -n 20 "$tmp/portguard.log" >&2
	fail "portguard-policyd did not answer"
fi
if [ -n "$BASELINE" ] && ! "$LOADGEN" -s "$tmp/base.sock" -1 -T 10; then
	tail -n 20 "$tmp/base.log" >&2
	fail "the baseline portguard-policyd did not answer"
fi

cpus=$(nproc 2>/dev/null || echo 1)
load_start=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
echo "portguard bench: $cpus CPUs (load average $load_start), $RUNS runs x ${SECS}s per point, servers alternated, medians shown"
[ -n "$BASELINE" ] && echo "baseline: $BASE_PG, run between null and portguard (\"before\" rows)"
echo "(latency in microseconds; cpu = server CPU time per decision in microseconds)"
printf '%5s | %9s %9s %6s | %8s %8s %6s | %8s %8s %6s | %6s %6s\n' \
	N null_dps pg_dps ratio null_p50 null_p99 n_cpu pg_p50 pg_p99 pg_cpu p99_x rej%
results=$tmp/results
: >"$results"
: >"$tmp/pairs"
: >"$tmp/base_results"
for n in $CONNS; do
	for who in $WHO; do : >"$tmp/$who.$n"; done
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		i=$((i + 1))
		for who in $WHO; do
			case $who in
			null) sock=$tmp/null.sock pid=$null_pid ;;
			base) sock=$tmp/base.sock pid=$base_pid ;;
			*) sock=$tmp/pg.sock pid=$pg_pid ;;
			esac
			line=$("$LOADGEN" -s "$sock" -c "$n" -d "$SECS" -w 0.3 -P "$pid" -S "$i") ||
				fail "loadgen against $who with $n connections failed"
			kill -0 "$pid" 2>/dev/null || fail "$who server died during the run"
			echo "$line" >>"$tmp/$who.$n"
		done
	done
	for who in $WHO; do
		for k in rps p50_us p99_us server_ns_per_req; do
			while read -r l; do kv "$l" "$k"; done <"$tmp/$who.$n" | median >"$tmp/$who.$n.$k"
		done
	done
	nd=$(cat "$tmp/null.$n.rps") pd=$(cat "$tmp/pg.$n.rps")
	n50=$(cat "$tmp/null.$n.p50_us") n99=$(cat "$tmp/null.$n.p99_us")
	p50=$(cat "$tmp/pg.$n.p50_us") p99=$(cat "$tmp/pg.$n.p99_us")
	ncpu=$(cat "$tmp/null.$n.server_ns_per_req") pcpu=$(cat "$tmp/pg.$n.server_ns_per_req")
	rej=$(while read -r l; do
		echo "$(kv "$l" reject) $(kv "$l" dunno)"
	done <"$tmp/pg.$n" | awk '{ r += $1; t += $1 + $2 } END { printf "%.1f", t ? 100 * r / t : 0 }')
	# The throughput ratio: each portguard run against the null run just
	# before it (side by side in time, so drift cancels), median of those.
	pairs=$(while read -r ln && read -r lp <&3; do
		awk -v a="$(kv "$ln" rps)" -v b="$(kv "$lp" rps)" 'BEGIN { printf "%.1f\n", (a > 0 ? 100 * b / a : 0) }'
	done <"$tmp/null.$n" 3<"$tmp/pg.$n")
	pratio=$(echo "$pairs" | median)
	echo "$n $(echo "$pairs" | sort -g | tr '\n' ' ')" >>"$tmp/pairs"
	bratio=""
	if [ -n "$BASELINE" ]; then
		bpairs=$(while read -r ln && read -r lb <&3; do
			awk -v a="$(kv "$ln" rps)" -v b="$(kv "$lb" rps)" 'BEGIN { printf "%.1f\n", (a > 0 ? 100 * b / a : 0) }'
		done <"$tmp/null.$n" 3<"$tmp/base.$n")
		bratio=$(echo "$bpairs" | median)
		echo "$n $bratio" >>"$tmp/base_results"
	fi
	awk -v n="$n" -v nd="$nd" -v pd="$pd" -v n50="$n50" -v n99="$n99" -v p50="$p50" \
		-v p99="$p99" -v ncpu="$ncpu" -v pcpu="$pcpu" -v rej="$rej" -v out="$results" \
		-v ratio="$pratio" 'BEGIN {
		x = n99 > 0 ? p99 / n99 : 0
		printf "%5d | %9.0f %9.0f %5.1f%% | %8.1f %8.1f %6.1f | %8.1f %8.1f %6.1f | %5.2fx %5s%%\n",
			n, nd, pd, ratio, n50, n99, ncpu / 1000, p50, p99, pcpu / 1000, x, rej
		printf "%d %f %f %f\n", n, ratio, x, (ncpu > 0 ? pcpu / ncpu : 0) >> out
	}'
	if [ -n "$BASELINE" ]; then
		awk -v bd="$(cat "$tmp/base.$n.rps")" -v ratio="$bratio" -v b50="$(cat "$tmp/base.$n.p50_us")" \
			-v b99="$(cat "$tmp/base.$n.p99_us")" -v bcpu="$(cat "$tmp/base.$n.server_ns_per_req")" 'BEGIN {
			printf "%5s | %9s %9.0f %5.1f%% | %8s %8s %6s | %8.1f %8.1f %6.1f |\n",
				"before", "", bd, ratio, "", "", "", b50, b99, bcpu / 1000
		}'
	fi
done

echo "ratio: median of the $RUNS per-run ratios portguard/null (each pair run back to back); sorted:"
while read -r n rest; do
	printf '  N=%-3s %s\n' "$n" "$rest"
done <"$tmp/pairs"

echo
echo "memory: $IDLE connections, first idle (nothing sent), then after one request each, idle again"
mem_null=$("$LOADGEN" -s "$tmp/null.sock" -M -c "$IDLE" -P "$null_pid") || fail "memory probe of nullpolicy failed"
mem_pg=$("$LOADGEN" -s "$tmp/pg.sock" -M -c "$IDLE" -P "$pg_pid") || fail "memory probe of portguard-policyd failed"
for who in null pg; do
	if [ "$who" = null ]; then l=$mem_null name=nullpolicy; else l=$mem_pg name=portguard-policyd; fi
	printf '  %-18s held=%s/%s  VmRSS base %6s KiB, idle %6s KiB, after one request each %6s KiB (peak %s KiB)\n' \
		"$name" "$(kv "$l" held_after)" "$IDLE" "$(kv "$l" rss_base_kib)" "$(kv "$l" rss_idle_kib)" \
		"$(kv "$l" rss_after_request_kib)" "$(kv "$l" hwm_kib)"
done
held=$(kv "$mem_pg" held_after)
rss=$(kv "$mem_pg" rss_after_request_kib)
rss_idle=$(kv "$mem_pg" rss_idle_kib)
[ "$rss_idle" -gt "$rss" ] && rss=$rss_idle
kill -0 "$pg_pid" 2>/dev/null || fail "portguard-policyd died during the memory probe"

load_end=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
echo
echo "targets (load average at the end: $load_end):"
mark() { if [ "$1" = 1 ]; then echo "met"; else echo "NOT met"; fi; }
for n in 16 256; do
	r=$(awk -v n="$n" '$1 == n { print $2 }' "$results")
	[ -n "$r" ] || continue
	ok=$(awk -v r="$r" 'BEGIN { print (r >= 85) ? 1 : 0 }')
	printf '  throughput at N=%-3s >= 85%% of null: %5.1f%%  %s\n' "$n" "$r" "$(mark "$ok")"
done
while read -r n r x _; do
	ok=$(awk -v x="$x" 'BEGIN { print (x <= 1.5) ? 1 : 0 }')
	printf '  p99 at N=%-3s <= 1.5x null:          %5.2fx  %s\n' "$n" "$x" "$(mark "$ok")"
done <"$results"
if [ -n "$BASELINE" ]; then
	for n in 16 256; do
		r=$(awk -v n="$n" '$1 == n { print $2 }' "$results")
		b=$(awk -v n="$n" '$1 == n { print $2 }' "$tmp/base_results")
		if [ -z "$r" ] || [ -z "$b" ]; then continue; fi
		ok=$(awk -v r="$r" -v b="$b" 'BEGIN { print (r >= b - 3) ? 1 : 0 }')
		printf '  ratio at N=%-3s at most 3 points below the baseline: %5.1f%% vs %5.1f%%  %s\n' \
			"$n" "$r" "$b" "$(mark "$ok")"
	done
fi
ok=0
[ "$held" = "$IDLE" ] && [ "$rss" -lt 16384 ] && ok=1
printf '  RSS with %s connections < 16 MiB:  %5.1f MiB (held %s)  %s\n' "$IDLE" \
	"$(awk -v k="$rss" 'BEGIN { print k / 1024 }')" "$held" "$(mark "$ok")"
echo "  (informational) server CPU per decision, portguard / null:" \
	"$(awk '{ printf "N=%s %.2fx  ", $1, $4 }' "$results")"
if awk -v a="$load_start" -v b="$load_end" -v n="$cpus" 'BEGIN { exit !(a > n || b > n) }'; then
	echo "  NOTE: the machine was busy (load average above $cpus): throughput and latency are"
	echo "  noisy; the CPU-per-decision ratio above is the steadier comparison. Rerun when idle."
fi
exit 0
