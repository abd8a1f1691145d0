#!/bin/sh
# tests/milter/run.sh BUILD_DIR - portguard-milter driven by miltertest.
#
# Starts the real milter (-f -e, stderr to a log file) on a private socket,
# drives it with the Lua scripts in this directory (Sendmail-style macros),
# and checks both the milter replies (in the scripts) and portguard's log
# lines (here). One "PASS: milter/<name>" or "FAIL: milter/<name>" per test.
# Readiness is polled (socket file or log line, bounded); every daemon is
# stopped by its PID, also on failure. Needs miltertest (Debian package).
set -u
B=${1:-build/san}
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/milter
case $B in
/*) bin=$B/portguard-milter ;;
*) bin=$top/$B/portguard-milter ;;
esac
tmp=$(mktemp -d /tmp/pg-milter.XXXXXX)
pids=""

# shellcheck disable=SC2317 # called from the EXIT trap
cleanup() {
	for p in $pids; do
		t_stop_pid "$p" 50
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pass() { echo "PASS: milter/$1"; }
fail() {
	echo "FAIL: milter/$1${2:+ ($2)}"
	if [ -n "${log:-}" ] && [ -f "$log" ]; then
		echo "--- last lines of $log:"
		tail -n 15 "$log"
	fi
	if [ -s "$tmp/mt.out" ]; then
		echo "--- miltertest output:"
		tail -n 15 "$tmp/mt.out"
	fi
}

if ! command -v miltertest >/dev/null 2>&1; then
	fail setup "miltertest not installed (Debian package miltertest)"
	exit 0
fi
if [ ! -x "$bin" ]; then
	fail setup "no $bin; build it first"
	exit 0
fi

# ---- helpers ---------------------------------------------------------------

# shellcheck source=tests/lib/common.sh
. "$top/tests/lib/common.sh"
# shellcheck source=tests/lib/daemon_cli.sh
. "$top/tests/lib/daemon_cli.sh"

has() { grep -qF -- "$2" "$1"; }
count() { grep -cF -- "$2" "$1"; }

# wait_for FILE STRING [TENTHS]: poll until STRING appears in FILE.
wait_for() { t_wait "${3:-100}" grep -qF -- "$2" "$1"; }

# write_config FILE MODE [EXTRA_TOP_LEVEL_LINES]
write_config() {
	cat >"$1" <<EOF
mode = "$2";
default_role = "relay";
allow_root = true;
user = "root";
log = { level = "info"; stats_interval = 0; };
relay = {
  local_domains = [ "example.org" ];
  trusted_networks = [ "10.0.0.0/8", "2001:db8:1::/48" ];
  trusted_client_certs = [ "AABBCCDDEEFF00112233445566778899AABBCCDDEEFF00112233445566778899" ];
};
ports = (
  { port = 25;    role = "relay"; },
  { port = 587;   role = "submission"; tls = "starttls"; },
  { port = 465;   role = "submission"; tls = "implicit"; },
  { port = 10026; role = "relay"; auth = "forbidden"; },
  { port = 10588; role = "submission"; min_cipher_bits = 256; },
  { name = "MSA"; role = "submission"; }
);
${3:-}
EOF
}

# start NAME CONFIG SOCKET [ARGS...]: start the milter in the foreground,
# stderr to $tmp/NAME.log; sets $pid and $log; waits for readiness.
start() {
	name=$1 conf=$2 spec=$3
	shift 3
	log=$tmp/$name.log
	"$bin" -f -e -c "$conf" -p "$spec" "$@" 2>"$log" &
	pid=$!
	pids="$pids $pid"
	n=0
	while [ "$n" -lt 100 ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		case $spec in
		unix:*) [ -S "${spec#unix:}" ] && has "$log" "listening on" && return 0 ;;
		*) has "$log" "listening on" && return 0 ;;
		esac
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# stop PID: SIGTERM, wait (bounded, then SIGKILL: t_stop_pid) and return
# the exit status (99 when SIGKILL was needed).
stop() {
	t_stop_pid "$1" 200
	[ "$T_RC" = kill ] && return 99
	return "${T_RC:-0}"
}

# mt SCRIPT [-D name=value ...]: run one Lua script against $sock.
mt() {
	script=$1
	shift
	miltertest -D "sock=$sock" -D "lib=$here" "$@" -s "$here/$script.lua" >"$tmp/mt.out" 2>&1
}

# ---- command line ------------------------------------------------------------

conf=$tmp/main.conf
write_config "$conf" enforce

out=$("$bin" -V 2>&1)
case $out in
"portguard-milter "[0-9]*) pass cli_version ;;
*) fail cli_version "$out" ;;
esac
"$bin" -h >"$tmp/h.out" 2>&1 && has "$tmp/h.out" "-p SPEC" && pass cli_help || fail cli_help
"$bin" -Z >/dev/null 2>&1
rc=$?
[ "$rc" = 64 ] && pass cli_bad_option_ex_usage || fail cli_bad_option_ex_usage "exit $rc"
"$bin" -n -c "$conf" >"$tmp/n.out" 2>&1 && pass cli_check_good || fail cli_check_good
bad=$tmp/bad.conf
write_config "$bad" enforce 'no_such_key = 1;'
"$bin" -n -c "$bad" >"$tmp/n.out" 2>&1
rc=$?
line=$(grep -n no_such_key "$bad" | cut -d: -f1)
if [ "$rc" = 78 ] && has "$tmp/n.out" "$bad:$line:"; then
	pass cli_check_bad_names_file_line
else
	fail cli_check_bad_names_file_line "exit $rc: $(cat "$tmp/n.out")"
fi

# The start-up both daemons share, with the same expected text as the policy
# layer's (tests/lib/daemon_cli.sh).
daemon_cli_checks portguard-milter "$bin" "$conf" USR1

# ---- one enforcing milter: SPEC's decision table and the lifecycle -----------

sock=unix:$tmp/main.sock
if ! start main "$conf" "$sock"; then
	fail main_start
	exit 0
fi
mainpid=$pid
mainlog=$log

mode=$(stat -c %a "$tmp/main.sock")
[ "$mode" = 660 ] && pass socket_mode_0660 || fail socket_mode_0660 "mode $mode"

t=negotiate_symlist_and_steps
mt negotiate && has "$log" 'QNOSYMLIST: reject: port=587' && pass $t || fail $t

t=row1_plaintext_auth
if mt $t && has "$log" 'QROW1A: reject: port=25 role=relay mode=enforce' &&
	has "$log" 'sasl_method=PLAIN sasl_username=bob rule=plaintext_auth reply="538 5.7.11 Encryption required for requested authentication mechanism"' &&
	has "$log" 'QROW1B: reject: port=25' &&
	has "$log" 'QROW1A: warning: credentials sent without TLS: sasl_username=bob sasl_method=PLAIN client=client.example.net[192.0.2.10]:40001 port=25 role=relay' &&
	has "$log" 'AuthOptions=p' &&
	! has "$log" 'QROW1B: warning: credentials'; then
	pass $t
else
	fail $t
fi

t=row2_auth_forbidden
mt $t && has "$log" 'QROW2: reject: port=10026 role=relay' &&
	has "$log" 'rule=auth_forbidden reply="550 5.7.1 Authentication is not accepted on this port"' &&
	pass $t || fail $t

t=row3_tls_required
mt $t && has "$log" 'QROW3: reject: port=587 role=submission mode=enforce client=client.example.net[192.0.2.10]:40001 tls=none cipher=none bits=0 sasl_method=- sasl_username=- rule=tls_required reply="530 5.7.0 Must issue a STARTTLS command first"' &&
	has "$log" 'QROW3I: error: port=465 is configured tls=implicit but the session has no TLS' &&
	has "$log" 'QROW3I: reject: port=465' &&
	pass $t || fail $t

t=row4_tls_version
mt $t && has "$log" 'QROW4: reject: port=587' &&
	has "$log" 'tls=TLSv1.1 cipher=ECDHE-RSA-AES128-SHA bits=128' &&
	has "$log" 'rule=tls_version reply="530 5.7.0 TLSv1.2 or later required"' &&
	pass $t || fail $t

t=row5_cipher
mt $t && has "$log" 'QROW5: reject: port=10588' &&
	has "$log" 'rule=cipher reply="530 5.7.0 Cipher not accepted"' &&
	pass $t || fail $t

t=row6_auth_required
mt $t && has "$log" 'QROW6: reject: port=587' &&
	has "$log" 'tls=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 sasl_method=- sasl_username=- rule=auth_required reply="530 5.7.0 Authentication required"' &&
	pass $t || fail $t

t=row7_relay
if mt $t && has "$log" 'QROW7: reject: port=25 role=relay mode=enforce' &&
	has "$log" 'rcpt=<user@remote.example> rule=relay reply="554 5.7.1 Relay access denied"' &&
	has "$log" 'rcpt=<user%remote.example@example.org> rule=relay reply="554 5.7.1 Relay access denied"' &&
	has "$log" 'rcpt=<other@example.org> rule=relay reply="554 5.7.1 Relay access denied"' &&
	! grep -F 'QROW7T: reject' "$log" >/dev/null &&
	! grep -F 'QROW7A: reject' "$log" >/dev/null &&
	[ "$(grep -cF 'QROW7: reject' "$log")" = 3 ]; then
	pass $t
else
	fail $t
fi

t=pass_continues_everywhere
mt pass && has "$log" 'QPASS: pass: port=587 role=submission' &&
	! grep -F 'QPASS: reject' "$log" >/dev/null && pass $t || fail $t

t=missing_macros_warn_and_default_role
if mt missing_macros &&
	has "$log" "client=client.example.net[192.0.2.44]:40001: the MTA sent neither {daemon_port} nor {daemon_name}; applying default_role=relay; add define(\`confMILTER_MACROS_CONNECT', confMILTER_MACROS_CONNECT\`, {daemon_port}') (Sendmail .mc)" &&
	has "$log" 'client=client.example.net[192.0.2.45]:40001: the MTA sent neither {daemon_port} nor {daemon_name}; applying default_role=relay; add milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port} v _ (Postfix main.cf)' &&
	has "$log" 'QMISSING: reject: port=- role=relay' &&
	has "$log" 'rule=relay'; then
	pass $t
else
	fail $t
fi

t=label_and_unknown_port
if mt label && has "$log" 'QLABEL: reject: port=MSA role=submission' &&
	[ "$(count "$log" 'port=2526 label=- matches no entry in ports; applying default_role=relay')" = 1 ] &&
	has "$log" 'QUNKNOWN2: pass: port=2526 role=relay'; then
	pass $t
else
	fail $t
fi

t=ipv6_client_addr
mt ipv6 && has "$log" 'QV6TRUST: pass: port=25 role=relay mode=enforce client=client.example.net[2001:db8:1::5]:40001' &&
	has "$log" 'QV6OTHER: reject: port=25 role=relay mode=enforce client=client.example.net[2001:db8:2::5]:40001' &&
	! grep -F 'QV6TRUST: reject' "$log" >/dev/null && pass $t || fail $t

t=trusted_client_cert_relays
mt client_cert && has "$log" 'QCERTOK: pass: port=25' && has "$log" 'QCERTNO: reject: port=25' &&
	! grep -F 'QCERTOK: reject' "$log" >/dev/null && pass $t || fail $t

t=lifecycle_close_abort_many
if mt lifecycle && has "$log" 'QABORT2: pass: port=587' &&
	has "$log" 'QRETRY1: reject: port=25' && has "$log" 'QRETRY2: pass: port=25' &&
	! grep -F 'QRETRY2: reject' "$log" >/dev/null &&
	[ "$(grep -c 'QMANY[0-9]*: pass: port=587' "$log")" = 40 ]; then
	pass $t
else
	fail $t
fi

# ---- reload on SIGUSR1: a good config is applied, a broken one refused ------

t=reload_good_keeps_sessions_on_their_snapshot
write_config "$conf.new" monitor
mv "$conf.new" "$conf"
if mt reload_snapshot -D "pid=$mainpid" -D "log=$log" &&
	has "$log" 'QSNAPOLD: reject: port=587 role=submission mode=enforce' &&
	has "$log" 'QSNAPNEW: would-reject: port=587 role=submission mode=monitor' &&
	mt row3_tls_required -D want=continue &&
	has "$log" 'QROW3: would-reject: port=587 role=submission mode=monitor'; then
	pass $t
else
	fail $t
fi

t=reload_bad_keeps_running_config
write_config "$conf.new" enforce 'mode = "strict";'
mv "$conf.new" "$conf"
line=$(grep -n 'mode = "strict"' "$conf" | cut -d: -f1)
kill -USR1 "$mainpid"
if wait_for "$log" "error: reload failed: $conf:$line:" &&
	mt row3_tls_required -D want=continue &&
	[ "$(count "$log" 'QROW3: would-reject: port=587')" = 2 ] && kill -0 "$mainpid"; then
	pass $t
else
	fail $t
fi

t=reload_names_every_start_only_key_it_uses
# milter.timeout and milter.listen (overridden by -p) and a policy daemon key
# change: only milter.timeout and user are this milter's to name.
write_config "$conf.new" monitor 'milter = { timeout = 60; listen = "unix:/nonexistent/other.sock"; };
policyd = { socket_mode = "0666"; };'
sed -i 's/^user = "root";/user = "nobody";/' "$conf.new"
mv "$conf.new" "$conf"
kill -USR1 "$mainpid"
if wait_for "$log" "warning: reload: changed, but applied only at the next restart: user, milter.timeout; keeping the running values" &&
	! has "$log" "restart: user, milter.timeout, " && kill -0 "$mainpid"; then
	pass $t
else
	fail $t
fi

t=stop_on_sigterm
stop "$mainpid"
rc=$?
if [ "$rc" = 0 ] && has "$log" "stopping: daemon=portguard-milter"; then
	pass $t
else
	fail $t "exit $rc"
fi

t=socket_removed_at_stop
if [ ! -e "$tmp/main.sock" ] && ! has "$mainlog" "left behind"; then
	pass $t
else
	fail $t "$(ls -l "$tmp/main.sock" 2>&1)"
fi

# A socket file another process put in the milter's place while it ran is
# not the milter's to remove: still there after a clean stop, no warning.
t=replaced_socket_kept_at_stop
if start replaced "$conf" "unix:$tmp/replaced.sock"; then
	mv "$tmp/replaced.sock" "$tmp/replaced.old"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tmp/replaced.sock"
	stop "$pid"
	rc=$?
	if [ "$rc" = 0 ] && [ -S "$tmp/replaced.sock" ] && [ -S "$tmp/replaced.old" ] &&
		! has "$log" "cannot remove"; then
		pass $t
	else
		fail $t "exit $rc; $(ls -l "$tmp"/replaced.* 2>&1)"
	fi
else
	fail $t "did not start"
fi

# ---- monitor mode from the start, and the stats timer ------------------------

mconf=$tmp/monitor.conf
write_config "$mconf" monitor
sed -i 's/stats_interval = 0;/stats_interval = 1;/' "$mconf"
sock=unix:$tmp/monitor.sock
if start monitor "$mconf" "$sock"; then
	t=monitor_mode_continues
	if mt row3_tls_required -D want=continue &&
		[ "$(count "$log" 'QROW3: would-reject: port=587 role=submission mode=monitor')" = 1 ] &&
		has "$log" 'reply="530 5.7.0 Must issue a STARTTLS command first"' &&
		has "$log" 'QROW3I: would-reject: port=465' &&
		! grep -F ': reject:' "$log" >/dev/null; then
		pass $t
	else
		fail $t
	fi
	t=stats_timer
	if wait_for "$log" "stats: port=587 role=submission period=" 50 &&
		wait_for "$log" "stats: port=465 role=submission period=" 50; then
		pass $t
	else
		fail $t
	fi
	stop "$pid" || fail monitor_stop
else
	fail monitor_start
fi

# ---- stats on SIGUSR2 and at shutdown, over an inet socket --------------------

sconf=$tmp/stats.conf
write_config "$sconf" enforce
sed -i 's/level = "info";/level = "debug";/' "$sconf"
port=$((18000 + $$ % 50)) # this layer's range: 18000-18099, below the ephemeral ports
sock=inet:$port@127.0.0.1
if start stats "$sconf" "$sock"; then
	t=stats_sigusr2_match_traffic
	if mt stats; then
		# miltertest may hang up before the milter ran xxfi_close for the
		# last session: wait (bounded) for all five "session closed" lines
		n=0
		while [ "$(count "$log" 'session closed:')" -lt 5 ] && [ "$n" -lt 100 ]; do
			sleep 0.1
			n=$((n + 1))
		done
		kill -USR2 "$pid"
		if wait_for "$log" "stats: port=25 " &&
			has "$log" "stats: port=587 role=submission period=" &&
			has "$log" "sessions=3 transactions=3 recipients=2 tls=1 plaintext=2 tls_pct=33.3 TLSv1.3=1 TLSv1.2=0 TLSv1.1=0 TLSv1.0=0 auth=1 auth_plaintext=0 rejected=1 would_reject=0 reject_plaintext_auth=0 reject_auth_forbidden=0 reject_tls_required=1 reject_tls_version=0 reject_cipher=0 reject_auth_required=0 reject_relay=0" &&
			has "$log" "stats: port=25 role=relay period=" &&
			has "$log" "sessions=2 transactions=2 recipients=2 tls=0 plaintext=2 tls_pct=0.0 TLSv1.3=0 TLSv1.2=0 TLSv1.1=0 TLSv1.0=0 auth=1 auth_plaintext=1 rejected=2 would_reject=0 reject_plaintext_auth=1 reject_auth_forbidden=0 reject_tls_required=0 reject_tls_version=0 reject_cipher=0 reject_auth_required=0 reject_relay=1"; then
			pass $t
		else
			fail $t
		fi
	else
		fail $t "script"
	fi
	t=stats_at_shutdown
	if mt pass && stop "$pid" && [ "$(count "$log" 'stats: port=587 ')" = 2 ] &&
		has "$log" "sessions=1 transactions=1 recipients=1 tls=1 plaintext=0 tls_pct=100.0 TLSv1.3=1" &&
		[ "$(grep -n 'stats: port=587' "$log" | tail -n 1 | cut -d: -f1)" -lt "$(grep -n 'stopping:' "$log" | cut -d: -f1)" ]; then
		pass $t
	else
		fail $t
	fi
else
	fail stats_start "inet socket $sock"
fi

# ---- without -f: the milter daemonises ------------------------------------------

t=daemonises_without_f
dsock=$tmp/daemon.sock
"$bin" -e -c "$sconf" -p "unix:$dsock" 2>"$tmp/daemon.log"
rc=$?
n=0
while [ ! -S "$dsock" ] && [ "$n" -lt 100 ]; do
	sleep 0.1
	n=$((n + 1))
done
dpid=""
for d in /proc/[0-9]*; do
	if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -qF -- "-p unix:$dsock"; then
		dpid=${d#/proc/}
	fi
done
if [ "$rc" = 0 ] && [ -S "$dsock" ] && [ -n "$dpid" ]; then
	pids="$pids $dpid"
	sid=$(awk '{print $6}' "/proc/$dpid/stat")
	# Not our child: gone means reaped by its new parent, not only a zombie,
	# so poll kill -0 rather than t_stop_pid's t_gone.
	kill -TERM "$dpid"
	t_wait 200 sh -c '! kill -0 "$1" 2>/dev/null' sh "$dpid"
	if [ "$sid" = "$dpid" ] && ! kill -0 "$dpid" 2>/dev/null &&
		has "$tmp/daemon.log" "stopping: daemon=portguard-milter"; then
		pass $t
	else
		fail $t "session $sid, pid $dpid"
	fi
else
	fail $t "exit $rc, pid '$dpid'"
fi

# ---- an inet6 socket, when the loopback has ::1 ----------------------------------
# (miltertest cannot connect to inet6 sockets: check the listening socket)

if grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null; then
	port=$((18050 + $$ % 50))
	hexport=$(printf '%04X' "$port")
	t=inet6_socket_listens
	if start inet6 "$sconf" "inet6:$port@::1" &&
		grep -q "^ *[0-9]*: 00000000000000000000000001000000:$hexport 0*:0000 0A" /proc/net/tcp6; then
		pass $t
	else
		fail $t
	fi
	stop "$pid" >/dev/null
else
	echo "SKIP: milter/inet6_socket_listens (no ::1)"
fi

# ---- sockets and privileges (as root only) ------------------------------------

if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
	pconf=$tmp/privs.conf
	write_config "$pconf" enforce 'milter = { socket_mode = "0640"; };'
	sed -i -e 's/^allow_root = true;/allow_root = false;/' -e 's/^user = "root";/user = "nobody";/' "$pconf"
	sock=unix:$tmp/privs.sock
	t=privilege_drop_and_socket_owner
	if start privs "$pconf" "$sock"; then
		uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
		gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
		nuid=$(id -u nobody)
		ngid=$(id -g nobody)
		owner=$(stat -c '%u:%g %a' "$tmp/privs.sock")
		if [ "$uids" = "$nuid $nuid $nuid $nuid" ] && [ "$gids" = "$ngid $ngid $ngid $ngid" ] &&
			[ "$owner" = "$nuid:$ngid 640" ] && mt pass; then
			pass $t
		else
			fail $t "uid '$uids' gid '$gids' socket '$owner'"
		fi
		stop "$pid" >/dev/null
	else
		fail $t "did not start"
	fi

	# The socket's directory ($tmp, root's) is not writable by nobody: one
	# warning at start says the socket will be left behind, and why.
	t=socket_not_removable_warned_once
	if [ "$(count "$log" "warning: unix:$tmp/privs.sock will be left behind at stop: its directory $tmp is not writable by uid $(id -u nobody): Permission denied")" = 1 ]; then
		pass $t
	else
		fail $t
	fi

	# Under umask 000, the socket is never connectable by another user nor
	# wider than its mode (0640 here) while the milter starts: 20 starts
	# (each ended by SIGKILL, the next one replaces the stale socket) while
	# user daemon tries to connect in a loop and the mode is polled.
	t=socket_mode_from_the_first_instant
	if getent passwd daemon >/dev/null; then
		chmod 711 "$tmp"
		mkdir -m 755 "$tmp/probe"
		python3 "$here/sockprobe.py" "$tmp/probe/m.sock" daemon "$tmp/probe.done" 0640 >"$tmp/probe.out" 2>&1 &
		probe=$!
		i=0
		while [ $i -lt 20 ]; do
			(umask 000 && exec "$bin" -f -e -c "$pconf" -p "unix:$tmp/probe/m.sock") 2>"$tmp/probe.log" &
			pid=$!
			pids="$pids $pid"
			wait_for "$tmp/probe.log" "listening on" 50 || break
			kill -KILL "$pid"
			wait "$pid" 2>/dev/null
			i=$((i + 1))
		done
		touch "$tmp/probe.done"
		wait "$probe"
		if [ $i = 20 ] && grep -q '^connects=0 wider=0 modes=' "$tmp/probe.out"; then
			pass "$t ($(cat "$tmp/probe.out"))"
		else
			fail $t "$i starts; $(cat "$tmp/probe.out")"
		fi
		chmod 700 "$tmp"
	else
		echo "SKIP: milter/$t (no user daemon)"
	fi

	t=unknown_user_ex_nouser
	sed -i 's/^user = "nobody";/user = "pg-no-such-user";/' "$pconf"
	"$bin" -f -e -c "$pconf" -p "unix:$tmp/nouser.sock" 2>"$tmp/nouser.log"
	rc=$?
	if [ "$rc" = 67 ] && has "$tmp/nouser.log" 'user "pg-no-such-user" does not exist'; then
		pass $t
	else
		fail $t "exit $rc"
	fi
else
	echo "SKIP: milter/privilege_drop (needs root and user nobody)"
fi
# ============================================================================
# Issue 14, part 1: counters that survive a crash (state_directory).
# The crash.lua mix twice, a SIGUSR2 line after the first, kill -9 after the
# second (once all its sessions closed): the next start logs the second mix
# as recovered lines, exactly what was sent. Then a corrupt state file: set aside with a warning, never fatal.
# ============================================================================
mkdir "$tmp/state"
cconf=$tmp/crash.conf
write_config "$cconf" enforce "state_directory = \"$tmp/state\";"
sed -i 's/level = "info";/level = "debug";/' "$cconf"
sock=unix:$tmp/crash.sock
crash_587="sessions=2 transactions=3 recipients=2 tls=1 plaintext=1 tls_pct=50.0 TLSv1.3=1 TLSv1.2=0 TLSv1.1=0 TLSv1.0=0 auth=1 auth_plaintext=0 rejected=1 would_reject=0 reject_plaintext_auth=0 reject_auth_forbidden=0 reject_tls_required=1 reject_tls_version=0 reject_cipher=0 reject_auth_required=0 reject_relay=0"
crash_25="sessions=2 transactions=2 recipients=2 tls=0 plaintext=2 tls_pct=0.0 TLSv1.3=0 TLSv1.2=0 TLSv1.1=0 TLSv1.0=0 auth=1 auth_plaintext=1 rejected=2 would_reject=0 reject_plaintext_auth=1 reject_auth_forbidden=0 reject_tls_required=0 reject_tls_version=0 reject_cipher=0 reject_auth_required=0 reject_relay=1"
# crash_closed N: wait (bounded) until N sessions were closed (and counted).
crash_closed() {
	n=0
	while [ "$(count "$log" 'session closed:')" -lt "$1" ] && [ "$n" -lt 100 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ "$(count "$log" 'session closed:')" -ge "$1" ]
}
t=crash_kill9_recovered_equals_sent
if start crash1 "$cconf" "$sock"; then
	clog=$log
	if mt crash && crash_closed 4 && kill -USR2 "$pid" && wait_for "$log" "stats: port=25 " &&
		mt crash && crash_closed 8; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		if start crash2 "$cconf" "$sock"; then
			if [ "$(count "$clog" 'stats: port=')" = 2 ] &&
				has "$clog" "$crash_587" && has "$clog" "$crash_25" &&
				grep -q "stats: port=587 role=submission period=[0-9]* $crash_587 recovered=1 period_start=[0-9T:-]*Z period_end=[0-9T:-]*Z$" "$log" &&
				grep -q "stats: port=25 role=relay period=[0-9]* $crash_25 recovered=1 period_start=[0-9T:-]*Z period_end=[0-9T:-]*Z$" "$log" &&
				[ "$(count "$log" 'stats: port=')" = 2 ] &&
				has "$log" "warning: state file $tmp/state/milter.stats: the previous run ended without its final stats line"; then
				pass $t
			else
				fail $t "recovered lines differ from what was sent"
			fi
			t=crash_clean_stop_recovers_nothing
			if stop "$pid" && start crash3 "$cconf" "$sock" && ! has "$log" "recovered=1" &&
				! has "$log" "state file"; then
				pass $t
			else
				fail $t
			fi
			stop "$pid" >/dev/null
		else
			fail $t "no restart"
		fi
	else
		fail $t "script or stats line"
		stop "$pid" >/dev/null
	fi
else
	fail $t "did not start"
fi
t=crash_corrupt_state_file_set_aside
printf 'not a portguard state file, just garbage of some length\n' >"$tmp/state/milter.stats"
if start crash4 "$cconf" "$sock" &&
	has "$log" "warning: state file $tmp/state/milter.stats: corrupt header; set aside as $tmp/state/milter.stats.bad." &&
	ls "$tmp/state"/milter.stats.bad.* >/dev/null 2>&1 && mt pass && stop "$pid"; then
	pass $t
else
	fail $t
fi
exit 0
