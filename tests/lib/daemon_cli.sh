# tests/lib/daemon_cli.sh - the start-up both daemons share, asserted with
# the same expected text for each (only the program name differs).
#
# Source it (after tests/lib/common.sh) and call
#   daemon_cli_checks NAME BIN CONF RELOAD_SIGNAL
# NAME is the program name, BIN the binary, CONF a valid config of the
# calling layer (top-level user/allow_root/group lines are rewritten for
# the privilege cases), RELOAD_SIGNAL the daemon's reload signal (HUP, USR1).
# It prints "PASS: NAME/cli_..." or "FAIL: NAME/cli_..." per case: --help
# and -h, --version and -V, -n (OK, file:line error, unknown user), unknown
# options, -P (written, holds the pid, removed at exit, stale replaced, live
# refused, written before a detaching start returns), the reload-failure
# line, the "listening on" line and, as root, the dropped uid, gid and
# groups read from /proc. Every daemon is stopped by PID, every wait bounded.

dc_pass() { echo "PASS: $dc_name/$1"; }
dc_fail() {
	echo "FAIL: $dc_name/$1${2:+ ($2)}"
	[ -n "${3:-}" ] && [ -f "$3" ] && sed -n '1,15s/^/    /p' "$3"
	return 0
}

# The usage, word for word, as both daemons print it.
dc_usage() {
	cat <<EOF
usage: $1 [-fenVh] [-c FILE] [-p SPEC]... [-P FILE]
  -c FILE        configuration file (default /etc/portguard/portguard.conf)
  -f             stay in the foreground
  -e             log to stderr instead of syslog
  -n             check the configuration and exit
  -p SPEC        listen on SPEC instead of the configured socket: unix:/path,
                 inet:port@host, inet6:port@host, inet:host:port or
                 inet:[address]:port (portguard-policyd takes up to 16,
                 portguard-milter one)
  -P FILE        write the process id to FILE, remove it at exit
  -V, --version  print the version and exit
  -h, --help     print this help and exit
EOF
}

# dc_write_conf SRC DST USER [ALLOW_ROOT] [GROUP]: SRC with its account lines replaced.
dc_write_conf() {
	grep -Ev '^(user|allow_root|group)[[:space:]]*=' "$1" >"$2"
	{
		echo "user = \"$3\";"
		echo "allow_root = ${4:-false};"
		[ -n "${5:-}" ] && echo "group = \"$5\";"
	} >>"$2"
	chmod 644 "$2"
}

# dc_start TAG CONF [ARGS...]: foreground daemon on unix:$dc_dir/TAG.sock,
# stderr in $dc_dir/TAG.log; sets dc_pid; waits for "listening on".
dc_start() {
	dc_tag=$1 dc_cf=$2
	shift 2
	dc_log=$dc_dir/$dc_tag.log
	"$dc_bin" -f -e -c "$dc_cf" -p "unix:$dc_dir/$dc_tag.sock" "$@" 2>"$dc_log" &
	dc_pid=$!
	dc_pids="$dc_pids $dc_pid"
	t_wait 100 dc_listening "$dc_pid" "$dc_log"
}

dc_listening() {
	t_alive "$1" && grep -q "listening on" "$2"
}

# dc_stop PID: SIGTERM, bounded wait; returns its exit status (99: killed).
dc_stop() {
	kill -TERM "$1" 2>/dev/null
	if ! t_wait 100 t_gone "$1"; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 99
	fi
	wait "$1"
}

dc_same() { cmp -s "$1" "$2"; }

daemon_cli_checks() {
	dc_name=$1 dc_bin=$2 dc_src=$3 dc_sig=$4
	dc_pids=""
	dc_dir=$(mktemp -d /tmp/pg-cli.XXXXXX)
	chmod 755 "$dc_dir" # a dropped daemon reads its config and removes its pid file here
	dc_usage "$dc_name" >"$dc_dir/usage"

	# ---- help and version
	for dc_opt in --help -h; do
		if "$dc_bin" "$dc_opt" >"$dc_dir/out" 2>"$dc_dir/err" && dc_same "$dc_dir/out" "$dc_dir/usage" &&
			[ ! -s "$dc_dir/err" ]; then
			dc_pass "cli_help$dc_opt"
		else
			dc_fail "cli_help$dc_opt" "" "$dc_dir/out"
		fi
	done
	for dc_opt in --version -V; do
		if "$dc_bin" "$dc_opt" >"$dc_dir/out" 2>&1 && [ "$(wc -l <"$dc_dir/out")" = 1 ] &&
			grep -qE "^$dc_name [0-9]+\.[0-9]+\.[0-9]+\$" "$dc_dir/out"; then
			dc_pass "cli_version$dc_opt"
		else
			dc_fail "cli_version$dc_opt" "" "$dc_dir/out"
		fi
	done

	# ---- unknown options: one line that names it, then the usage, exit 64
	for dc_opt in -Z --frobnicate; do
		"$dc_bin" "$dc_opt" >"$dc_dir/out" 2>"$dc_dir/err"
		dc_rc=$?
		{ echo "$dc_name: unknown option $dc_opt"; cat "$dc_dir/usage"; } >"$dc_dir/want"
		if [ "$dc_rc" = 64 ] && dc_same "$dc_dir/err" "$dc_dir/want" && [ ! -s "$dc_dir/out" ]; then
			dc_pass "cli_unknown_option$dc_opt"
		else
			dc_fail "cli_unknown_option$dc_opt" "exit $dc_rc" "$dc_dir/err"
		fi
	done
	"$dc_bin" -c >/dev/null 2>"$dc_dir/err"
	dc_rc=$?
	if [ "$dc_rc" = 64 ] && [ "$(head -n 1 "$dc_dir/err")" = "$dc_name: option -c needs a value" ]; then
		dc_pass cli_missing_value
	else
		dc_fail cli_missing_value "exit $dc_rc" "$dc_dir/err"
	fi
	"$dc_bin" -n -c "$dc_src" -p "tcp:10040" >/dev/null 2>"$dc_dir/err"
	dc_rc=$?
	if [ "$dc_rc" = 64 ] && head -n 1 "$dc_dir/err" |
		grep -qxF "$dc_name: -p tcp:10040: unknown socket type: use unix:/path, inet:port@host, inet6:port@host, inet:host:port or inet:[address]:port"; then
		dc_pass cli_bad_socket_spec
	else
		dc_fail cli_bad_socket_spec "exit $dc_rc" "$dc_dir/err"
	fi

	# ---- -n
	dc_conf=$dc_dir/good.conf
	cp "$dc_src" "$dc_conf"
	chmod 644 "$dc_conf"
	"$dc_bin" -n -c "$dc_conf" >"$dc_dir/out" 2>"$dc_dir/err"
	dc_rc=$?
	if [ "$dc_rc" = 0 ] && [ "$(cat "$dc_dir/out")" = "$dc_name: configuration OK: $dc_conf" ] &&
		[ ! -s "$dc_dir/err" ]; then
		dc_pass cli_check_ok
	else
		dc_fail cli_check_ok "exit $dc_rc" "$dc_dir/out"
	fi
	cp "$dc_conf" "$dc_dir/bad.conf"
	echo 'no_such_key = 1;' >>"$dc_dir/bad.conf"
	dc_line=$(wc -l <"$dc_dir/bad.conf")
	"$dc_bin" -n -c "$dc_dir/bad.conf" >"$dc_dir/out" 2>"$dc_dir/err"
	dc_rc=$?
	if [ "$dc_rc" = 78 ] && [ ! -s "$dc_dir/out" ] && [ "$(wc -l <"$dc_dir/err")" = 1 ] &&
		grep -q "^$dc_dir/bad.conf:$dc_line: .*no_such_key" "$dc_dir/err"; then
		dc_pass cli_check_error_file_line
	else
		dc_fail cli_check_error_file_line "exit $dc_rc" "$dc_dir/err"
	fi
	dc_write_conf "$dc_conf" "$dc_dir/nouser.conf" pg-no-such-user
	"$dc_bin" -n -c "$dc_dir/nouser.conf" >"$dc_dir/out" 2>"$dc_dir/err"
	dc_rc=$?
	if [ "$(id -u)" = 0 ]; then
		if [ "$dc_rc" = 67 ] && [ ! -s "$dc_dir/out" ] && [ "$(cat "$dc_dir/err")" = \
			"user \"pg-no-such-user\" does not exist: create it or set user in $dc_dir/nouser.conf" ]; then
			dc_pass cli_check_unknown_user_as_root
		else
			dc_fail cli_check_unknown_user_as_root "exit $dc_rc" "$dc_dir/err"
		fi
	elif [ "$dc_rc" = 0 ]; then
		dc_pass cli_check_unknown_user_not_needed_when_not_root
	else
		dc_fail cli_check_unknown_user_not_needed_when_not_root "exit $dc_rc" "$dc_dir/err"
	fi

	# ---- -P: written after start-up with the pid, removed at exit
	dc_pidf=$dc_dir/run/$dc_name.pid
	mkdir "$dc_dir/run"
	if [ "$(id -u)" = 0 ]; then
		# as an init script does: the run directory belongs to the daemon's user
		chown "$(awk -F'"' '/^user[[:space:]]*=/ { print $2 }' "$dc_conf")" "$dc_dir/run" 2>/dev/null
	fi
	if dc_start pid "$dc_conf" -P "$dc_pidf"; then
		if grep -q "^$dc_name\[$dc_pid\]: listening on unix:$dc_dir/pid.sock\$" "$dc_log"; then
			dc_pass cli_listening_line
		else
			dc_fail cli_listening_line "" "$dc_log"
		fi
		if [ "$(cat "$dc_pidf" 2>/dev/null)" = "$dc_pid" ]; then
			dc_pass cli_pidfile_written
		else
			dc_fail cli_pidfile_written "pid $dc_pid, file '$(cat "$dc_pidf" 2>/dev/null)'"
		fi
		# a second daemon with the same pid file: refused, file untouched
		"$dc_bin" -f -e -c "$dc_conf" -p "unix:$dc_dir/second.sock" -P "$dc_pidf" 2>"$dc_dir/err"
		dc_rc=$?
		if [ "$dc_rc" = 73 ] && grep -qF "error: pid file $dc_pidf: process $dc_pid is running" "$dc_dir/err" &&
			[ "$(cat "$dc_pidf")" = "$dc_pid" ] && [ ! -e "$dc_dir/second.sock" ]; then
			dc_pass cli_pidfile_live_refused
		else
			dc_fail cli_pidfile_live_refused "exit $dc_rc" "$dc_dir/err"
		fi
		# the reload sequence: a broken file keeps the running config
		cp "$dc_dir/bad.conf" "$dc_conf.new"
		mv "$dc_conf.new" "$dc_conf"
		kill -"$dc_sig" "$dc_pid"
		if t_wait 100 grep -q "error: reload failed: $dc_conf:$dc_line: .*no_such_key.*; keeping the running configuration\$" "$dc_log" &&
			t_alive "$dc_pid"; then
			dc_pass cli_reload_failure_line
		else
			dc_fail cli_reload_failure_line "" "$dc_log"
		fi
		cp "$dc_src" "$dc_conf"
		dc_stop "$dc_pid"
		dc_rc=$?
		if [ "$dc_rc" = 0 ] && [ ! -e "$dc_pidf" ]; then
			dc_pass cli_pidfile_removed_at_exit
		else
			dc_fail cli_pidfile_removed_at_exit "exit $dc_rc" "$dc_log"
		fi
	else
		dc_fail cli_pidfile "did not start" "$dc_log"
	fi
	# a stale pid file (no such process) is replaced
	dc_stale=999999
	while kill -0 "$dc_stale" 2>/dev/null; do dc_stale=$((dc_stale - 1)); done
	echo "$dc_stale" >"$dc_pidf"
	if dc_start stale "$dc_conf" -P "$dc_pidf" && [ "$(cat "$dc_pidf")" = "$dc_pid" ]; then
		dc_pass cli_pidfile_stale_replaced
	else
		dc_fail cli_pidfile_stale_replaced "file '$(cat "$dc_pidf" 2>/dev/null)'" "$dc_log"
	fi
	dc_stop "$dc_pid" >/dev/null
	# detaching: the pid file is there, naming the daemon, when the start returns
	"$dc_bin" -e -c "$dc_conf" -p "unix:$dc_dir/bg.sock" -P "$dc_pidf" 2>"$dc_dir/bg.log"
	dc_rc=$?
	dc_bg=$(cat "$dc_pidf" 2>/dev/null)
	if [ "$dc_rc" = 0 ] && [ -n "$dc_bg" ] && t_alive "$dc_bg" && [ -S "$dc_dir/bg.sock" ] &&
		[ "$(awk '{ print $6 }' "/proc/$dc_bg/stat")" = "$dc_bg" ] &&
		grep -q "^$dc_name\[$dc_bg\]: listening on unix:$dc_dir/bg.sock\$" "$dc_dir/bg.log"; then
		dc_pass cli_detach_pidfile_ready
	else
		dc_fail cli_detach_pidfile_ready "exit $dc_rc, pid '$dc_bg'" "$dc_dir/bg.log"
	fi
	if [ -n "$dc_bg" ] && t_alive "$dc_bg"; then
		t_stop_pid "$dc_bg"
		if t_wait 50 test ! -e "$dc_pidf"; then
			dc_pass cli_detach_pidfile_removed
		else
			dc_fail cli_detach_pidfile_removed "" "$dc_dir/bg.log"
		fi
	fi
	# a start that fails after detaching: the waiting parent exits with its code
	mkdir "$dc_dir/notasock"
	"$dc_bin" -e -c "$dc_conf" -p "unix:$dc_dir/notasock" >/dev/null 2>"$dc_dir/err"
	dc_rc=$?
	if [ "$dc_rc" = 73 ] && [ -d "$dc_dir/notasock" ]; then
		dc_pass cli_socket_in_the_way_ex_cantcreat
	else
		dc_fail cli_socket_in_the_way_ex_cantcreat "exit $dc_rc" "$dc_dir/err"
	fi

	# ---- as root: the configured user, ITS primary group, its groups
	if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null && getent group mail >/dev/null; then
		dc_write_conf "$dc_conf" "$dc_dir/drop.conf" nobody false mail
		dc_uid=$(id -u nobody)
		dc_gid=$(id -g nobody)
		dc_groups=$(id -G nobody | tr ' ' '\n' | sort -n | tr '\n' ' ')
		dc_rootpid=$dc_dir/rootonly/$dc_name.pid
		mkdir -m 755 "$dc_dir/rootonly"
		if dc_start drop "$dc_dir/drop.conf" -P "$dc_rootpid"; then
			dc_st=/proc/$dc_pid/status
			dc_got_uid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "$dc_st")
			dc_got_gid=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "$dc_st")
			dc_got_groups=$(awk '/^Groups:/ { for (i = 2; i <= NF; i++) print $i }' "$dc_st" | sort -n | tr '\n' ' ')
			dc_sock=$(stat -c '%U:%G' "$dc_dir/drop.sock")
			if [ "$dc_got_uid" = "$dc_uid $dc_uid $dc_uid $dc_uid" ] && [ "$dc_got_gid" = "$dc_gid $dc_gid $dc_gid $dc_gid" ] &&
				[ "$dc_got_groups" = "$dc_groups" ] && [ "$dc_sock" = "nobody:mail" ]; then
				dc_pass cli_drop_user_primary_group_and_groups
			else
				dc_fail cli_drop_user_primary_group_and_groups \
					"uid '$dc_got_uid' gid '$dc_got_gid' groups '$dc_got_groups' (want '$dc_groups') socket $dc_sock"
			fi
			if grep -qF "running as user nobody (uid $dc_uid, gid $dc_gid)" "$dc_log"; then
				dc_pass cli_drop_logged
			else
				dc_fail cli_drop_logged "" "$dc_log"
			fi
			# the pid file lies where only root may remove it: emptied at exit
			dc_stop "$dc_pid"
			dc_rc=$?
			if [ "$dc_rc" = 0 ] && [ -e "$dc_rootpid" ] && [ ! -s "$dc_rootpid" ]; then
				dc_pass cli_pidfile_emptied_when_not_removable
			else
				dc_fail cli_pidfile_emptied_when_not_removable "exit $dc_rc" "$dc_log"
			fi
		else
			dc_fail cli_drop_user_primary_group_and_groups "did not start" "$dc_log"
		fi
		dc_write_conf "$dc_conf" "$dc_dir/nouser.conf" pg-no-such-user
		"$dc_bin" -f -e -c "$dc_dir/nouser.conf" -p "unix:$dc_dir/nouser.sock" 2>"$dc_dir/err"
		dc_rc=$?
		if [ "$dc_rc" = 67 ] && [ ! -e "$dc_dir/nouser.sock" ] &&
			grep -qE "^$dc_name\[[0-9]+\]: error: user \"pg-no-such-user\" does not exist: create it or set user in $dc_dir/nouser.conf\$" "$dc_dir/err"; then
			dc_pass cli_unknown_user_ex_nouser
		else
			dc_fail cli_unknown_user_ex_nouser "exit $dc_rc" "$dc_dir/err"
		fi
	else
		echo "SKIP: $dc_name/cli_drop (needs root, user nobody and group mail)"
	fi

	for dc_p in $dc_pids; do
		t_stop_pid "$dc_p"
	done
	rm -rf "$dc_dir"
}
