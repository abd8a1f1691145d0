#!/bin/sh
# Where portguard-policyd spends its instructions, measured without noise.
#
#   sh tests/bench/profile.sh BUILD_DIR
#
# Runs BUILD_DIR/portguard-policyd and BUILD_DIR/bench/nullpolicy under
# valgrind --tool=callgrind, twice each: once answering a single request (the
# start-up cost) and once under loadgen load (16 connections, DURATION
# seconds). (total - start-up) / replies = user-space instructions per
# decision, a number that does not move with the machine's load, unlike
# decisions/s. Prints both and portguard's top functions (inclusive and
# self). Uses the same bench config as run.sh. Exits 2 when something is
# missing or a server does not start. KEEP=1 keeps the callgrind files.
set -u

B=${1:-build}
DURATION=${DURATION:-3}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/bench/conf.sh
PG=$B/portguard-policyd
NULLSRV=$B/bench/nullpolicy
LOADGEN=$B/bench/loadgen
for f in "$PG" "$NULLSRV" "$LOADGEN"; do
	[ -x "$f" ] || { echo "profile: $f is missing (make B=$B all bench-tools)" >&2; exit 2; }
done
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
	echo "profile: valgrind is not installed" >&2
	exit 2
fi

absb=$(cd "$B" && pwd)
tmp=$(mktemp -d "$absb/bench-prof.XXXXXX") || exit 2
if [ ${#tmp} -gt 90 ]; then
	rmdir "$tmp"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/pg-prof.XXXXXX") || exit 2
fi
pid=""
stop() {
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	t=0
	while kill -0 "$pid" 2>/dev/null && [ "$t" -lt 100 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=""
}
cleanup() {
	stop
	if [ "${KEEP:-0}" = 1 ]; then echo "profile: files kept in $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

bench_write_conf "$tmp/bench.conf" 100

# run NAME PHASE: start server NAME under callgrind, one probe or a load run.
run() {
	sock=$tmp/s.sock
	rm -f "$sock"
	if [ "$1" = pg ]; then
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1.$2" \
			"$PG" -c "$tmp/bench.conf" -f -e -p "unix:$sock" 2>>"$tmp/$1.log" &
	else
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1.$2" \
			"$NULLSRV" "unix:$sock" 2>>"$tmp/$1.log" &
	fi
	pid=$!
	"$LOADGEN" -s "$sock" -1 -T 30 || { echo "profile: $1 did not answer under valgrind" >&2; exit 2; }
	if [ "$2" = load ]; then
		"$LOADGEN" -s "$sock" -c 16 -d "$DURATION" -w 0 >"$tmp/lg.$1" ||
			{ echo "profile: load run against $1 failed" >&2; exit 2; }
	fi
	stop
}
total_ir() {
	callgrind_annotate "$1" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}

per_pg=0 per_null=1
echo "profile: user-space instructions per decision (callgrind; 16 connections, ${DURATION}s)"
for who in null pg; do
	run "$who" start
	run "$who" load
	s=$(total_ir "$tmp/cg.$who.start")
	l=$(total_ir "$tmp/cg.$who.load")
	# replies = the probe + every reply of the load run
	n=$(sed 's/.*dunno=\([0-9]*\) reject=\([0-9]*\).*/\1 \2/' "$tmp/lg.$who" | awk '{ print $1 + $2 + 1 }')
	per=$(awk -v s="$s" -v l="$l" -v n="$n" 'BEGIN { printf "%.0f", (l - s) / n }')
	if [ "$who" = pg ]; then per_pg=$per; else per_null=$per; fi
	printf '  %-18s %8s instructions per decision  (%s replies)\n' \
		"$([ "$who" = pg ] && echo portguard-policyd || echo nullpolicy)" "$per" "$n"
done
awk -v a="$per_pg" -v b="$per_null" 'BEGIN { printf "  portguard / null: %.1fx\n", a / b }'
echo
echo "portguard-policyd, inclusive (function and what it calls), share of all instructions:"
callgrind_annotate --inclusive=yes "$tmp/cg.pg.load" 2>/dev/null | sed 's/ \[.*//' |
	grep -E '^ *[0-9,]+ \( *[0-9.]+%\)  (policyd|core)/' | head -n 14
echo
echo "portguard-policyd, self (instructions in the function itself):"
callgrind_annotate "$tmp/cg.pg.load" 2>/dev/null | grep -E '^ *[0-9,]+ \( *[0-9.]+%\) ' |
	sed 's/ \[.*//' | head -n 14
exit 0
