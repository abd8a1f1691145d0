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
