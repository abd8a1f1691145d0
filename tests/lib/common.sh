# tests/lib/common.sh - the POSIX sh helpers every MTA test layer shares:
# bounded waits, starting a daemon and waiting until it is ready, stopping a
# process by PID, the sandbox directory, and the statistics comparison.
#
# Source it; it defines functions only. Nothing here sleeps for a fixed time
# to wait for something: t_wait polls a condition with a bounded timeout.
# The test cases and SPEC's case table are in case.sh, which builds on this.
# Only processes the test started itself are ever signalled, always by PID.

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

# t_needs LAYER WHY TOOL...: print "FAIL: LAYER setup: ..." and exit 1 unless
# the test runs as root (WHY says what needs root) and every TOOL is on PATH.
t_needs() {
	_tn_layer=$1
	if [ "$(id -u)" != 0 ]; then
		echo "FAIL: $_tn_layer setup: must run as root ($2)"
		exit 1
	fi
	shift 2
	for _tn_c in "$@"; do
		command -v "$_tn_c" >/dev/null 2>&1 || {
			echo "FAIL: $_tn_layer setup: $_tn_c not found (run tests/deps.sh as root)"
			exit 1
		}
	done
}

# t_listening PORT: true when something listens on 127.0.0.1:PORT (TCP).
t_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q "127\.0\.0\.1:$1 "
}

# t_all_listening PORT...: every PORT listens.
t_all_listening() {
	for _tl_p in "$@"; do
		t_listening "$_tl_p" || return 1
	done
}

# t_none_listening PORT...: no PORT listens.
t_none_listening() {
	for _tl_p in "$@"; do
		t_listening "$_tl_p" && return 1
	done
	return 0
}

# t_ports_free PORT...: fail, naming the port, when one is already in use.
t_ports_free() {
	for _tl_p in "$@"; do
		if t_listening "$_tl_p"; then
			echo "port 127.0.0.1:$_tl_p is already in use" >&2
			return 1
		fi
	done
}

# t_alive PID [EXE]: true while process PID exists and is not a zombie (and,
# with EXE, runs that program: a PID read from a stale pid file may have been
# reused by another process).
t_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	if [ -n "${2:-}" ] && [ "$(readlink "/proc/$1/exe" 2>/dev/null)" != "$2" ]; then
		return 1
	fi
	[ -r "/proc/$1/stat" ] || return 0
	! awk '{ exit ($3 == "Z") ? 0 : 1 }' "/proc/$1/stat" 2>/dev/null
}

# t_gone PID [EXE]: the opposite of t_alive (for t_wait).
t_gone() {
	! t_alive "$@"
}

# t_stop_pid PID [TENTHS [EXE]]: SIGTERM PID, wait for it to end (bounded,
# default 10 s), then SIGKILL if it is still there. A child of this shell is
# reaped. T_RC is then its exit status, or "kill" when SIGKILL was needed;
# empty for a process that is not our child (a daemon that forked away).
# EXE: see t_alive.
t_stop_pid() {
	T_RC=
	[ -n "$1" ] || return 0
	if t_alive "$1" "${3:-}"; then
		kill -TERM "$1" 2>/dev/null
		if ! t_wait "${2:-100}" t_gone "$1" "${3:-}"; then
			echo "tests: pid $1 ignored SIGTERM, sending SIGKILL" >&2
			kill -KILL "$1" 2>/dev/null
			t_wait 50 t_gone "$1"
			T_RC="kill"
		fi
	fi
	wait "$1" 2>/dev/null
	_ts_rc=$?
	[ -n "$T_RC" ] || [ "$_ts_rc" = 127 ] || T_RC=$_ts_rc
	return 0
}

# t_daemon LOG TENTHS READY CMD [ARG...]: start CMD in the background, its
# stdout and stderr appended to LOG; T_PID is its PID. Ready when the command
# READY (one word: a function or program, no arguments) succeeds within
# TENTHS tenths of a second while CMD still runs; otherwise print the end of
# LOG to stderr and return 1 (T_PID stays set so that the caller stops it).
t_daemon() {
	_td_log=$1
	_td_n=$2
	_td_ready=$3
	shift 3
	"$@" >>"$_td_log" 2>&1 &
	T_PID=$!
	if ! t_wait "$_td_n" "$_td_ready" || ! t_alive "$T_PID"; then
		echo "tests: $1 did not become ready ($_td_ready)" >&2
		tail -n 20 "$_td_log" >&2
		return 1
	fi
}

# ------------------------------------------------------------------ sandbox
# A test's files must be reachable by the unprivileged users its daemons run
# as (postfix, nobody), and Sendmail refuses files whose path crosses a
# world-writable directory. A build tree that fails either test (a clone
# inside a 0700 mktemp directory, or under /tmp) gets its sandbox under the
# root-owned T_RUN_DIR instead.
T_RUN_DIR=/run/portguard-tests

# t_path_world_writable DIR: DIR or one of its ancestors is world-writable.
t_path_world_writable() {
	_tp_d=$1
	while [ -n "$_tp_d" ] && [ "$_tp_d" != / ]; do
		case $(stat -c %A "$_tp_d" 2>/dev/null) in
		????????w?) return 0 ;;
		esac
		_tp_d=$(dirname "$_tp_d")
	done
	return 1
}

# t_sandbox_base DIR: print where sandboxes for the build tree DIR (absolute)
# go: DIR itself, or T_RUN_DIR (created) when DIR is unfit.
t_sandbox_base() {
	# shellcheck disable=SC2016 # $1 is expanded by the inner sh
	if runuser -u nobody -- sh -c 'cd "$1"' sh "$1" 2>/dev/null &&
		! t_path_world_writable "$1"; then
		printf '%s\n' "$1"
		return 0
	fi
	mkdir -p "$T_RUN_DIR" && chmod 0755 "$T_RUN_DIR" || return 1
	echo "tests: $1 is not reachable by unprivileged users or crosses a world-writable directory; sandbox under $T_RUN_DIR" >&2
	printf '%s\n' "$T_RUN_DIR"
}

# t_sandbox_remove DIR: remove a sandbox, and T_RUN_DIR when it is empty.
t_sandbox_remove() {
	[ -n "$1" ] && [ -d "$1" ] && rm -rf "$1"
	rmdir "$T_RUN_DIR" 2>/dev/null
	return 0
}

# ------------------------------------------------------------------ stats
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
