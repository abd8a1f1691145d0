#!/bin/sh
# Run every test layer against the build tree $1 and print one summary line.
#   unit   - Check binaries in $B/tests (each prints "Checks: N, Failures: F, Errors: E")
#   fuzz   - libFuzzer smoke over the protocol parser and relay check (tests/fuzz/run.sh)
#   policy - protocol tests against the running daemon (tests/policy/run.sh)
#   milter - the real portguard-milter driven by miltertest (tests/milter/run.sh)
#   e2e    - real Postfix on loopback, driven by swaks (tests/e2e/run.sh)
#   slots  - real Postfix still answered while policy slots are held (tests/slots/run.sh)
#   pfmilter - real Postfix with smtpd_milters and portguard-milter (tests/pfmilter/run.sh)
#   sendmail - real Sendmail 8.17 from Debian package files, with the milter (tests/sendmail/run.sh)
#   crash  - kill -9 portguard-policyd behind a real Postfix: no count lost (tests/crash/run.sh)
#   ipv6   - both daemons behind a real Postfix on [::1], in a private netns (tests/ipv6/run.sh)
#   mtafacts - facts from a private Postfix and Sendmail (tests/mtafacts/run.sh)
#   metrics - both daemons' Prometheus textfile, promtool, node_exporter, Grafana, fail2ban, logcheck (tests/metrics/run.sh)
#   audit  - portguard-audit against a private Postfix and Sendmail, from the configuration and the wire (tests/audit/run.sh)
#   report - portguard-report's numbers equal what a private Postfix was sent (tests/report/run.sh)
#   scale  - 1,000,000 local domains through a real Postfix, reloaded under load (tests/scale/run.sh)
# Layer scripts print "PASS: name" or "FAIL: name" per test case. The MTA
# layers (e2e, pfmilter, sendmail) share tests/lib/: common.sh (start, wait,
# stop by PID, sandbox), case.sh and cases.tsv (SPEC's decision cases).
# Select layers with LAYERS="unit policy e2e" (default: all).
set -u
B=${1:-build/san}
LAYERS=${LAYERS:-"unit fuzz policy milter e2e slots pfmilter sendmail crash ipv6 mtafacts metrics audit report scale"}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
passed=0
failed=0
out=$(mktemp)
fails=$(mktemp)
trap 'rm -f "$out" "$fails"' EXIT INT TERM

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

for layer in $LAYERS; do
	echo "== layer: $layer"
	case $layer in
	unit)
		for t in "$B"/tests/check_*; do
			[ -x "$t" ] || continue
			"$t" >"$out" 2>&1
			rc=$?
			cat "$out"
			line=$(grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$out" | tail -n 1)
			if [ -z "$line" ]; then
				echo "FAIL: $(basename "$t") printed no Check summary (exit $rc)" | tee -a "$fails"
				failed=$((failed + 1))
				continue
			fi
			n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
			f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
			e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
			grep -E ':[0-9]+:[EF]:' "$out" >>"$fails"
			passed=$((passed + n - f - e))
			failed=$((failed + f + e))
			if [ "$rc" != 0 ] && [ $((f + e)) = 0 ]; then
				echo "FAIL: $(basename "$t") exited $rc" | tee -a "$fails"
				failed=$((failed + 1))
			fi
		done
		;;
	*)
		script=tests/$layer/run.sh
		if [ ! -f "$script" ]; then
			echo "FAIL: layer $layer has no $script" | tee -a "$fails"
			failed=$((failed + 1))
			continue
		fi
		sh "$script" "$B" 2>&1 | tee "$out"
		grep '^FAIL: ' "$out" >>"$fails"
		p=$(grep -c '^PASS: ' "$out")
		f=$(grep -c '^FAIL: ' "$out")
		if [ "$p" = 0 ] && [ "$f" = 0 ]; then
			echo "FAIL: layer $layer ran no test" | tee -a "$fails"
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
		;;
	esac
done

if [ -s "$fails" ]; then
	echo "== failed tests:"
	cat "$fails"
fi
echo "portguard: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
