# tests/lib/common.sh - small POSIX sh helpers shared by the test layers.
#
# Source it; it defines functions only. Nothing here sleeps for a fixed time
# to wait for something: t_wait polls a condition with a bounded timeout.

# t_wait TENTHS CMD [ARG...]: run CMD every 0.1 s until it succeeds or TENTHS
# tenths of a second have passed. Returns 0 when CMD succeeded, 1 on timeout.
t_wait() {
	_tw_n=$1
	shift
	while [ "$_tw_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_tw_n=$((_tw_n - 1))
	done
	"$@"
}

# t_listening PORT: true when something listens on 127.0.0.1:PORT (TCP).
t_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q "127\.0\.0\.1:$1 "
}

# t_alive PID: true while process PID exists and is not a zombie.
t_alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ -r "/proc/$1/stat" ] || return 0
	! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$1/stat" 2>/dev/null
}

# t_gone PID: the opposite of t_alive (for t_wait).
t_gone() {
	! t_alive "$1"
}

# t_stop_pid PID [TENTHS]: SIGTERM PID, wait for it to end (bounded), then
# SIGKILL if it is still there. Only for processes the test started itself.
t_stop_pid() {
	[ -n "$1" ] || return 0
	t_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	if ! t_wait "${2:-100}" t_gone "$1"; then
		kill -KILL "$1" 2>/dev/null
		t_wait 50 t_gone "$1"
	fi
}

# Statistics checks shared by the end-to-end layers. $PG_LOG is portguard's
# log, $TALLY has one "PORT FIELD" line per counted event the test caused, and
# $STATS_FIELDS names the counters to compare (absent in the tally = 0).

# stats_have_all OFFSET: every port of $TALLY has a stats line in $PG_LOG
# after byte OFFSET.
stats_have_all() {
	tail -c "+$(($1 + 1))" "$PG_LOG" | awk '
		NR == FNR { keys[$1] = 1; next }
		/stats: port=/ { for (i = 1; i <= NF; i++) if ($i ~ /^port=/) seen[substr($i, 6)] = 1 }
		END { for (k in keys) if (!(k in seen)) exit 1 }' "$TALLY" -
}

# stats_mismatches OFFSET BASIS STRICT: compare the stats lines written after
# byte OFFSET with the tally, in one awk pass (process starts are slow here);
# print one line per mismatch, nothing when all agree. tls_pct is checked
# against tls / BASIS (transactions for the policy daemon, sessions for the
# milter). STRICT=1: a stats line for a port the test did not use is a
# mismatch too.
stats_mismatches() {
	tail -c "+$(($1 + 1))" "$PG_LOG" | grep 'stats: port=' |
		awk -v fields="$STATS_FIELDS" -v basis="$2" -v strict="$3" '
		NR == FNR { want[$1 " " $2]++; keys[$1] = 1; next }
		{
			k = ""; delete got
			for (i = 1; i <= NF; i++) {
				if (split($i, kv, "=") != 2) continue
				if (kv[1] == "port") k = kv[2]; else got[kv[1]] = kv[2]
			}
			if (!(k in keys)) {
				if (strict) printf "port=%s: a stats line for a port the test did not use\n", k
				next
			}
			seen[k] = 1
			n = split(fields, f, " ")
			for (i = 1; i <= n; i++) {
				w = want[k " " f[i]] + 0
				if (got[f[i]] != w "") printf "port=%s %s=%s, the test sent %d\n", k, f[i], got[f[i]], w
			}
			b = want[k " " basis] + 0
			pct = sprintf("%.1f", b ? 100 * want[k " tls"] / b : 0)
			if (got["tls_pct"] != pct) printf "port=%s tls_pct=%s, want %s\n", k, got["tls_pct"], pct
		}
		END { for (k in keys) if (!(k in seen)) printf "port=%s: no stats line\n", k }
		' "$TALLY" -
}
