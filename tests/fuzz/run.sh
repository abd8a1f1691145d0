#!/bin/sh
# Fuzz smoke layer for make check: each libFuzzer target replays its seed
# corpus and then runs a fixed number of mutated inputs (bounded by count,
# not time). A crash, leak, overread or UB report fails the case. Longer
# campaigns: make fuzz FUZZ_SECONDS=600. The input that failed is saved as
# B/fuzz/TARGET-crash-* (not in the source tree).
set -u
B=${1:-build/san}
RUNS=${FUZZ_RUNS:-20000}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
# proto_portable: the protocol scanner built without SIMD, same corpus.
for t in proto proto_portable relay; do
	bin=$B/fuzz/fuzz_$t
	if [ ! -x "$bin" ]; then
		echo "FAIL: fuzz/$t: $bin was not built"
		continue
	fi
	work=$(mktemp -d "$B/fuzz/corpus-$t.XXXXXX")
	cp tests/fuzz/corpus/"${t%_portable}"/* "$work"/
	if "$bin" -runs="$RUNS" -seed=1 -artifact_prefix="$B/fuzz/$t-" "$work" >"$work.log" 2>&1; then
		echo "PASS: fuzz/$t: seed corpus and $RUNS mutated inputs, no sanitizer report"
	else
		echo "FAIL: fuzz/$t: see below"
		tail -n 30 "$work.log"
	fi
	rm -rf "$work" "$work.log"
done
