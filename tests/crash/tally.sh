# tests/crash/tally.sh - sourced by tests/crash/run.sh and the crash block of
# tests/policy/run.sh: policyd's decision lines and its stats lines, each
# reduced to "port field n" rows (sorted), so that a test can compare them.
# Every decision those tests cause is at RCPT: one recipient each.

# crash_decisions LOG: recipients, rejected, would_reject and reject_<rule>
# per port, counted from the decision lines.
crash_decisions() {
	awk '/: (reject|would-reject|pass): port=/ {
		kind = ""; port = ""; rule = ""
		for (i = 1; i <= NF; i++) {
			if ($i == "reject:" || $i == "would-reject:" || $i == "pass:") kind = $i
			if ($i ~ /^port=/) port = substr($i, 6)
			if ($i ~ /^rule=/) rule = substr($i, 6)
		}
		n[port " recipients"]++
		if (kind == "reject:") n[port " rejected"]++
		if (kind == "would-reject:") n[port " would_reject"]++
		if (rule != "" && rule != "none") n[port " reject_" rule]++
	}
	END { for (k in n) print k, n[k] }' "$1" | sort
}

# crash_stats LOG...: the same fields and transactions, summed over every
# stats line (recovered ones included); nonzero rows only.
crash_stats() {
	cat "$@" | awk '/stats: port=/ {
		port = ""
		for (i = 1; i <= NF; i++) if ($i ~ /^port=/) port = substr($i, 6)
		for (i = 1; i <= NF; i++) {
			if (split($i, kv, "=") != 2 || kv[2] !~ /^[0-9]+$/) continue
			if (kv[1] ~ /^(recipients|rejected|would_reject|reject_.*|transactions)$/) n[port " " kv[1]] += kv[2]
		}
	}
	END { for (k in n) if (n[k] > 0) print k, n[k] }' | sort
}

# crash_ndecisions LOG: how many decision lines.
crash_ndecisions() {
	grep -c -E ': (reject|would-reject|pass): port=' "$1"
}
