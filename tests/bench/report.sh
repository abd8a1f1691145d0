#!/bin/sh
# Benchmark portguard-report against grep and pflogsumm on the same log.
#
#   sh tests/bench/report.sh BUILD_DIR
#
# BUILD_DIR/bench/loggen writes a realistic mail log of SIZE bytes (default
# 1.1 GiB: Postfix sessions on ports 25, 587 and 465 with TLS, SASL, queue,
# delivery and disconnect lines, portguard's refusals, alarms and hourly
# stats lines, and unrelated noise; see tests/bench/loggen.c) into a
# temporary directory under BUILD_DIR. With the file in the page cache, each
# of `grep -c portguard`, `portguard-report` and `pflogsumm` reads it: grep
# and the report RUNS times each, alternating (the best run counts: the
# machine is shared), pflogsumm once (it is slow). Prints MB/s side by side,
# the report's peak RSS, and the targets, each marked met or NOT met: at
# least 50% of grep's throughput, at least 20 times pflogsumm's, and a peak
# RSS under 64 MiB (bounded: the report's tables are fixed).
#
# Informational: exits 0 even when a target is missed; 2 when something is
# broken (a tool is missing, a run fails). Environment: SIZE (bytes), RUNS
# (default 5), KEEP=1 keeps the directory and the log.
set -u

B=${1:-build}
SIZE=${SIZE:-1181116006}
RUNS=${RUNS:-5}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2

for t in "$B/bench/loggen" "$B/portguard-report"; do
	[ -x "$t" ] || { echo "report bench: $t is not built (make B=$B all bench-tools)" >&2; exit 2; }
done
for t in pflogsumm grep /usr/bin/time; do
	command -v "$t" >/dev/null 2>&1 || { echo "report bench: $t not found (tests/deps.sh)" >&2; exit 2; }
done

D=$(mktemp -d "$B/bench-report-XXXXXX") || exit 2
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then echo "report bench: kept $D"; else rm -rf "$D"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

LOG=$D/mail.log
"$B/bench/loggen" "$SIZE" >"$LOG" 2>"$D/loggen.err" || { cat "$D/loggen.err" >&2; exit 2; }
BYTES=$(stat -c %s "$LOG")
cat "$LOG" >/dev/null # into the page cache, for every reader alike

# timed NAME CMD...: run CMD (stdout to $D/NAME.out, never /dev/null: grep
# stops at the first match when its output is /dev/null); appends
# "seconds max-rss-KiB" to $D/NAME.times.
timed() {
	_n=$1
	shift
	/usr/bin/time -f '%e %M' -o "$D/$_n.t" "$@" >"$D/$_n.out" 2>"$D/$_n.err" || {
		echo "report bench: $* failed: $(tail -n 3 "$D/$_n.err")" >&2
		exit 2
	}
	cat "$D/$_n.t" >>"$D/$_n.times"
}

i=0
while [ "$i" -lt "$RUNS" ]; do
	timed grep grep -c portguard "$LOG"
	timed report "$B/portguard-report" --master-cf '' "$LOG"
	i=$((i + 1))
done
timed pflogsumm pflogsumm "$LOG"

best() { sort -n "$D/$1.times" | head -n 1 | cut -d' ' -f1; }
rss_max() { sort -n -k2 "$D/$1.times" | tail -n 1 | cut -d' ' -f2; }
G=$(best grep)
R=$(best report)
P=$(best pflogsumm)
awk -v bytes="$BYTES" -v g="$G" -v r="$R" -v p="$P" -v rss="$(rss_max report)" \
	-v prss="$(rss_max pflogsumm)" -v runs="$RUNS" -v lines="$(cat "$D/grep.out")" '
	function mbs(t) { return t > 0 ? bytes / 1e6 / t : 0 }
	function mark(ok) { return ok ? "met" : "NOT met" }
	BEGIN {
		printf "report bench: %.0f MB log (%s portguard lines), best of %d runs, page cache warm\n", bytes / 1e6, lines, runs
		printf "  %-22s %8.2f s %9.1f MB/s\n", "grep -c portguard", g, mbs(g)
		printf "  %-22s %8.2f s %9.1f MB/s   peak RSS %.1f MiB\n", "portguard-report", r, mbs(r), rss / 1024
		printf "  %-22s %8.2f s %9.1f MB/s   peak RSS %.1f MiB (one run)\n", "pflogsumm", p, mbs(p), prss / 1024
		gr = g > 0 && r > 0 ? g / r : 0
		pr = r > 0 ? p / r : 0
		printf "  target: report >= 50%% of grep:      %5.1f%%  %s\n", 100 * gr, mark(gr >= 0.5)
		printf "  target: report >= 20x pflogsumm:     %5.1fx  %s\n", pr, mark(pr >= 20)
		printf "  target: report peak RSS < 64 MiB:    %5.1f MiB  %s\n", rss / 1024, mark(rss < 65536)
	}'
