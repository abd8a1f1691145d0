# tests/sendmail/lib.sh - a private Sendmail on loopback, for end-to-end tests.
#
# Sourced by tests/sendmail/run.sh (POSIX sh). Debian's sendmail package
# conflicts with postfix, so it is never installed: the .debs are fetched with
# `apt-get download` into a cache under the build tree and unpacked there with
# `dpkg -x`. Everything a run creates lives under $SM_DIR, inside the build
# tree, because Sendmail refuses certificate paths that cross a world-writable
# directory such as /tmp. The only file written outside the build tree is
# $SM_SASL_CONF (Sendmail reads SASL settings from the system SASL directory
# only); it is removed again at cleanup when this harness created it.
# Sendmail runs in a private UTS namespace (unshare --uts) under the host name
# mail.pg.test: with an unqualified system host name it would otherwise sleep
# 60 s at start trying to qualify it.
#
# Interface (all paths absolute once sm_init has run):
#   sm_init BUILD_DIR        fetch/unpack Sendmail, make $SM_DIR, certs, sasldb
#   sm_write_mc VARIANT      write $SM_DIR/test.mc from conf/sendmail/portguard.mc
#   sm_build_cf              m4 test.mc -> test.cf
#   sm_start / sm_stop       run the daemon; readiness = every port listens
#   pg_milter_start BIN CONF / pg_milter_stop
#   sm_swaks NAME ARGS...    one bounded SMTP session; transcript in $SM_DIR/t/NAME
#   sm_cleanup               stop everything this harness started (trap it)

SM_PORT_MTA=11025   # relay (MX)
SM_PORT_MX2=11026   # second relay port, matched in portguard.conf by label only
SM_PORT_MON=11027   # submission port in monitor mode
SM_PORT_UNK=11028   # a port portguard.conf does not list
SM_PORT_MSA=11587   # submission, STARTTLS
SM_PORT_SMTPS=11465 # submission, implicit TLS
SM_PORT_BAD=11466   # "implicit TLS" in portguard.conf, but Sendmail does not wrap it
SM_PORT_ALT=11525   # alternate submission, STARTTLS
SM_DOMAIN=pg.test
SM_HOST=mail.pg.test
SM_USER=bob
SM_PASS=s3cret-pw
SM_SASL_CONF=/usr/lib/sasl2/Sendmail.conf
SM_SWAKS_TIMEOUT=10

sm_log() { echo "sendmail-harness: $*" >&2; }

# The ports the current variant listens on (set by sm_write_mc).
SM_PORTS=""
SM_PID=""
SM_MILTER_PID=""
SM_MADE_SASL_CONF=0
SM_SYSLOG_PID=""

# sm_fetch PKGDIR: the three .debs in PKGDIR/debs (downloaded once), unpacked
# into PKGDIR/root (once).
sm_fetch() {
	mkdir -p "$1/debs" || return 1
	pkgdir=$(cd "$1" && pwd) || return 1 # absolute: SM_BIN is compared with /proc/PID/exe
	for p in sendmail-bin sendmail-base sendmail-cf; do
		if ! ls "$pkgdir/debs/${p}"_*.deb >/dev/null 2>&1; then
			sm_log "downloading $p into $pkgdir/debs"
			(cd "$pkgdir/debs" && timeout 300 apt-get download "$p" >/dev/null 2>&1) ||
				{ sm_log "apt-get download $p failed"; return 1; }
		fi
	done
	if [ ! -f "$pkgdir/root/.unpacked" ]; then
		rm -rf "$pkgdir/root"
		mkdir -p "$pkgdir/root" || return 1
		for d in "$pkgdir"/debs/*.deb; do
			dpkg -x "$d" "$pkgdir/root" || { sm_log "dpkg -x $d failed"; return 1; }
		done
		touch "$pkgdir/root/.unpacked"
	fi
	SM_BIN=$pkgdir/root/usr/libexec/sendmail/sendmail
	SM_CFDIR=$pkgdir/root/usr/share/sendmail/cf
	[ -x "$SM_BIN" ] || { sm_log "no sendmail binary at $SM_BIN"; return 1; }
	[ -f "$SM_CFDIR/m4/cf.m4" ] || { sm_log "no cf.m4 under $SM_CFDIR"; return 1; }
}

# sm_pid_alive PID EXE: PID runs the program EXE (guards against reused PIDs).
sm_pid_alive() {
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	[ -z "$2" ] && return 0
	[ "$(readlink "/proc/$1/exe" 2>/dev/null)" = "$2" ]
}

# sm_kill_wait PID EXE: SIGTERM, wait up to 10 s, then SIGKILL.
sm_kill_wait() {
	sm_pid_alive "$1" "$2" || return 0
	kill -TERM "$1" 2>/dev/null
	i=0
	while sm_pid_alive "$1" "$2" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if sm_pid_alive "$1" "$2"; then
		sm_log "pid $1 ignored SIGTERM, sending SIGKILL"
		kill -KILL "$1" 2>/dev/null
	fi
	return 0
}

# sm_path_world_writable DIR: true when DIR or one of its ancestors is
# world-writable (what Sendmail's safefile checks refuse).
sm_path_world_writable() {
	d=$1
	while [ -n "$d" ] && [ "$d" != / ]; do
		case $(stat -c %A "$d" 2>/dev/null) in
		????????w?) return 0 ;;
		esac
		d=$(dirname "$d")
	done
	return 1
}

# sm_init BUILD_DIR: package, sandbox directory, certificate, sasldb.
sm_init() {
	mkdir -p "$1" || return 1
	b=$(cd "$1" && pwd) || return 1
	SM_TOP=${SM_TOP:-$(pwd)}
	SM_SHIPPED_MC=$SM_TOP/conf/sendmail/portguard.mc
	# SM_PKGDIR lets several build trees share one download.
	sm_fetch "${SM_PKGDIR:-$b/sendmail-pkg}" || return 1
	SM_DIR=$b/sendmail-e2e
	SM_DIR_OUTSIDE=0
	# Sendmail refuses its files and the milter socket when their path
	# crosses a world-writable directory (a clone under /tmp, say), and the
	# milter, once it has dropped to nobody, cannot reread its configuration
	# on SIGUSR1 from a tree nobody cannot enter (a clone under /root, say).
	# Then the sandbox goes to a root-owned directory under /run instead,
	# named after the build dir, and is removed at cleanup.
	_why=
	if sm_path_world_writable "$b"; then
		_why="crosses a world-writable directory"
	elif ! runuser -u nobody -- sh -c 'cd "$1"' sh "$b" 2>/dev/null; then
		_why="is not reachable by unprivileged users"
	fi
	if [ -n "$_why" ]; then
		mkdir -p -m 0755 /run/portguard-tests || return 1
		SM_DIR=/run/portguard-tests/sendmail-e2e-$(printf '%s' "$b" | cksum | cut -d' ' -f1)
		SM_DIR_OUTSIDE=1
		sm_log "$b $_why; sandbox in $SM_DIR"
	fi
	# A daemon left over from an interrupted run would hold our ports.
	if [ -f "$SM_DIR/sendmail.pid" ]; then
		sm_kill_wait "$(head -n 1 "$SM_DIR/sendmail.pid")" "$SM_BIN"
	fi
	if [ -f "$SM_DIR/milter.pid" ]; then
		sm_kill_wait "$(cat "$SM_DIR/milter.pid")" ""
	fi
	rm -rf "$SM_DIR"
	mkdir -p "$SM_DIR/certs" "$SM_DIR/queue" "$SM_DIR/t" || return 1
	chmod 0755 "$SM_DIR" "$SM_DIR/certs"
	chmod 0700 "$SM_DIR/queue"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$SM_HOST" \
		-keyout "$SM_DIR/certs/key.pem" -out "$SM_DIR/certs/cert.pem" >/dev/null 2>&1 ||
		{ sm_log "openssl req failed"; return 1; }
	chmod 0600 "$SM_DIR/certs/key.pem"
	chmod 0644 "$SM_DIR/certs/cert.pem"
	printf '%s\n' "$SM_DOMAIN" "$SM_HOST" "sub.$SM_DOMAIN" >"$SM_DIR/local-host-names"
	printf 'postmaster: root\nMAILER-DAEMON: root\n' >"$SM_DIR/aliases"
	echo "$SM_PASS" | saslpasswd2 -p -c -f "$SM_DIR/sasldb2" -u "$SM_DOMAIN" "$SM_USER" ||
		{ sm_log "saslpasswd2 failed"; return 1; }
	chmod 0600 "$SM_DIR/sasldb2"
	sm_write_sasl_conf
}

# Sendmail reads Sendmail.conf only from the system SASL directory. Write it
# there, marked as ours; a file that is not ours is left alone (and the AUTH
# tests will then say so by failing).
sm_write_sasl_conf() {
	marker="# written by portguard tests/sendmail; removed at cleanup"
	if [ -e "$SM_SASL_CONF" ] && ! head -n 1 "$SM_SASL_CONF" | grep -qF "$marker"; then
		sm_log "$SM_SASL_CONF exists and is not ours: leaving it alone"
		return 0
	fi
	mkdir -p "$(dirname "$SM_SASL_CONF")" || return 1
	{
		echo "$marker"
		echo "pwcheck_method: auxprop"
		echo "auxprop_plugin: sasldb"
		echo "mech_list: PLAIN LOGIN"
		echo "sasldb_path: $SM_DIR/sasldb2"
	} >"$SM_SASL_CONF" || return 1
	SM_MADE_SASL_CONF=1
}

# sm_write_mc VARIANT: the test's sendmail.mc. The portguard lines come from the
# shipped conf/sendmail/portguard.mc, changed only where a test must differ:
#   - ports 25/587/465/2525 become 11025/11587/11465/11525, on 127.0.0.1 only
#     (not the 10xxx/12xxx ports of the Postfix layer nor the 20000-39999 range
#     the milter layer picks from, so all layers can run at once);
#   - the milter socket lives in $SM_DIR.
# VARIANT "shipped": nothing else changed (for static checks of the .cf).
# VARIANT "harness": also without the milter line: proves the harness and that
#   the shipped lines work (AUTH hidden before STARTTLS, M=a).
# VARIANT "milter": AuthOptions without p and daemons without M=a, so that
#   Sendmail lets through exactly what portguard must catch (plaintext AUTH,
#   MAIL without AUTH); without the optional macro lists, to prove that
#   portguard-milter's own smfi_setsymlist request is enough;
#   FEATURE(promiscuous_relay) so portguard is the only relay guard; extra
#   daemons for the label-only, monitor, unknown-port and
#   unwrapped-implicit-TLS cases.
sm_write_mc() {
	variant=$1
	mc=$SM_DIR/test.mc
	{
		echo "divert(-1)dnl"
		echo "dnl generated by tests/sendmail/lib.sh, variant $variant"
		echo "divert(0)dnl"
		echo "VERSIONID(\`portguard test $variant')dnl"
		echo "OSTYPE(\`linux')dnl"
		echo "define(\`confDOMAIN_NAME', \`$SM_HOST')dnl"
		echo "define(\`QUEUE_DIR', \`$SM_DIR/queue')dnl"
		echo "define(\`confPID_FILE', \`$SM_DIR/sendmail.pid')dnl"
		echo "define(\`confCW_FILE', \`$SM_DIR/local-host-names')dnl"
		echo "define(\`ALIAS_FILE', \`$SM_DIR/aliases')dnl"
		echo "define(\`STATUS_FILE', \`$SM_DIR/statistics')dnl"
		echo "define(\`confHOST_STATUS_DIRECTORY', \`')dnl"
		echo "define(\`confHELP_FILE', \`$SM_DIR/helpfile')dnl"
		echo "FEATURE(\`use_cw_file')dnl"
		echo "FEATURE(\`accept_unresolvable_domains')dnl"
		echo "FEATURE(\`nocanonify')dnl"
		echo "dnl Queue only: never deliver. Not d: deferred mode turns off the anti-relay rules."
		echo "define(\`confDELIVERY_MODE', \`q')dnl"
		echo "define(\`confDONT_PROBE_INTERFACES', \`True')dnl"
		echo "define(\`confTO_IDENT', \`0')dnl"
		echo "define(\`confREFUSE_LA', \`999')dnl"
		echo "define(\`confQUEUE_LA', \`999')dnl"
		echo "define(\`confDELAY_LA', \`0')dnl"
		echo "define(\`confMIN_FREE_BLOCKS', \`10')dnl"
		echo "define(\`confCACERT_PATH', \`$SM_DIR/certs')dnl"
		echo "define(\`confCACERT', \`$SM_DIR/certs/cert.pem')dnl"
		echo "define(\`confSERVER_CERT', \`$SM_DIR/certs/cert.pem')dnl"
		echo "define(\`confSERVER_KEY', \`$SM_DIR/certs/key.pem')dnl"
		echo "define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN')dnl"
		echo "define(\`confAUTH_REALM', \`$SM_DOMAIN')dnl"
		echo "TRUST_AUTH_MECH(\`PLAIN LOGIN')dnl"
		echo "dnl ---- from conf/sendmail/portguard.mc ----"
		sed -e 's/Port=25, /Port='$SM_PORT_MTA', Addr=127.0.0.1, /' \
			-e 's/Port=587, /Port='$SM_PORT_MSA', Addr=127.0.0.1, /' \
			-e 's/Port=465, /Port='$SM_PORT_SMTPS', Addr=127.0.0.1, /' \
			-e 's/Port=2525, /Port='$SM_PORT_ALT', Addr=127.0.0.1, /' \
			-e "s|S=unix:/run/portguard/milter|S=unix:$SM_DIR/milter|" \
			"$SM_SHIPPED_MC" | case $variant in
		shipped)
			cat
			;;
		harness)
			grep -v '^INPUT_MAIL_FILTER('
			;;
		milter)
			sed -e "s/\`confAUTH_OPTIONS', \`p,y'/\`confAUTH_OPTIONS', \`y'/" \
				-e 's/M=Eas/M=Es/; s/M=Ea/M=E/' | grep -v '^define(`confMILTER_MACROS_'
			;;
		esac
		echo "dnl ---- end of conf/sendmail/portguard.mc ----"
		if [ "$variant" = milter ]; then
			echo "dnl Test only: portguard is the only relay guard."
			echo "FEATURE(\`promiscuous_relay')dnl"
			echo "DAEMON_OPTIONS(\`Port=$SM_PORT_MX2, Addr=127.0.0.1, Name=MX2')dnl"
			echo "DAEMON_OPTIONS(\`Port=$SM_PORT_MON, Addr=127.0.0.1, Name=MON, M=E')dnl"
			echo "DAEMON_OPTIONS(\`Port=$SM_PORT_UNK, Addr=127.0.0.1, Name=UNK, M=E')dnl"
			echo "dnl Misconfigured on purpose: implicit TLS in portguard.conf, no M=s here."
			echo "DAEMON_OPTIONS(\`Port=$SM_PORT_BAD, Addr=127.0.0.1, Name=SMTPSBAD, M=E')dnl"
		fi
		echo "MAILER(\`local')dnl"
		echo "MAILER(\`smtp')dnl"
	} >"$mc"
	SM_PORTS="$SM_PORT_MTA $SM_PORT_MSA $SM_PORT_SMTPS $SM_PORT_ALT"
	[ "$variant" = milter ] &&
		SM_PORTS="$SM_PORTS $SM_PORT_MX2 $SM_PORT_MON $SM_PORT_UNK $SM_PORT_BAD"
	return 0
}

sm_build_cf() {
	m4 -D_CF_DIR_="$SM_CFDIR/" "$SM_CFDIR/m4/cf.m4" "$SM_DIR/test.mc" >"$SM_DIR/test.cf" 2>"$SM_DIR/m4.err" ||
		{ sm_log "m4 failed:"; cat "$SM_DIR/m4.err" >&2; return 1; }
	# The only warning we expect is the one FEATURE(promiscuous_relay) prints.
	if grep -v -e "FEATURE(\`promiscuous_relay') configures your system as open" \
		-e "relay.  Do NOT use it on a server that is connected to the Internet" \
		"$SM_DIR/m4.err" | grep -q .; then
		sm_log "m4 warnings:"
		cat "$SM_DIR/m4.err" >&2
		return 1
	fi
}

# sm_port_listening PORT: something listens on 127.0.0.1:PORT.
sm_port_listening() {
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q "127.0.0.1:$1"
}

# sm_start: start the daemon, wait (bounded) until every port listens.
sm_start() {
	for p in $SM_PORTS; do
		if sm_port_listening "$p"; then
			sm_log "port $p is already in use"
			return 1
		fi
	done
	rm -f "$SM_DIR/sendmail.pid"
	# Sendmail sleeps 60 s at start when the host name is unqualified and has
	# no dotted alias ("My unqualified host name ... sleeping for retry").
	# A private UTS namespace gives it a qualified name without touching the
	# system; the daemon keeps it after it forks into the background.
	if unshare --uts true 2>/dev/null; then
		set -- unshare --uts sh -c 'hostname "$1" && exec "$2" -C "$3" -bd -q30m' \
			sh "$SM_HOST" "$SM_BIN" "$SM_DIR/test.cf"
	else
		sm_log "unshare --uts failed; an unqualified host name costs a 60 s sleep"
		set -- "$SM_BIN" -C "$SM_DIR/test.cf" -bd -q30m
	fi
	"$@" >"$SM_DIR/sendmail.out" 2>&1 ||
		{ sm_log "sendmail -bd failed:"; cat "$SM_DIR/sendmail.out" >&2; return 1; }
	i=0
	while [ $i -lt 200 ]; do
		ready=1
		for p in $SM_PORTS; do
			sm_port_listening "$p" || { ready=0; break; }
		done
		if [ $ready = 1 ] && [ -s "$SM_DIR/sendmail.pid" ]; then
			SM_PID=$(head -n 1 "$SM_DIR/sendmail.pid")
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	sm_log "sendmail did not listen on all of: $SM_PORTS (see syslog; SM_SYSLOG=1 captures it)"
	cat "$SM_DIR/sendmail.out" >&2
	[ -s "$SM_DIR/sendmail.pid" ] && SM_PID=$(head -n 1 "$SM_DIR/sendmail.pid")
	return 1
}

sm_stop() {
	[ -n "$SM_PID" ] && sm_kill_wait "$SM_PID" "$SM_BIN"
	if [ -n "$SM_PID" ] && sm_pid_alive "$SM_PID" "$SM_BIN"; then
		sm_log "sendmail pid $SM_PID still runs"
	fi
	SM_PID=""
	# Wait until the ports are free again, so the next variant can bind.
	i=0
	for p in $SM_PORTS; do
		while sm_port_listening "$p" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	done
}

# pg_milter_start BIN CONF: portguard-milter in the foreground, logging to
# stderr ($SM_DIR/milter.log); ready when its socket exists.
pg_milter_start() {
	rm -f "$SM_DIR/milter"
	"$1" -f -e -c "$2" -p "unix:$SM_DIR/milter" >>"$SM_DIR/milter.log" 2>&1 &
	SM_MILTER_PID=$!
	echo "$SM_MILTER_PID" >"$SM_DIR/milter.pid"
	i=0
	while [ $i -lt 100 ]; do
		[ -S "$SM_DIR/milter" ] && return 0
		kill -0 "$SM_MILTER_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	sm_log "portguard-milter did not create $SM_DIR/milter:"
	cat "$SM_DIR/milter.log" >&2
	return 1
}

# pg_milter_stop: SIGTERM, wait (bounded) until it has exited, reap it and
# keep its exit status in SM_MILTER_RC (SIGKILL after 10 s: rc 137).
pg_milter_stop() {
	SM_MILTER_RC=""
	[ -n "$SM_MILTER_PID" ] || return 0
	kill -TERM "$SM_MILTER_PID" 2>/dev/null
	i=0
	while [ $i -lt 100 ]; do
		st=$(sed -n 's/^[0-9]* ([^)]*) \([A-Z]\).*/\1/p' "/proc/$SM_MILTER_PID/stat" 2>/dev/null)
		[ -z "$st" ] || [ "$st" = Z ] && break
		sleep 0.1
		i=$((i + 1))
	done
	if [ $i -ge 100 ]; then
		sm_log "portguard-milter ignored SIGTERM, sending SIGKILL"
		kill -KILL "$SM_MILTER_PID" 2>/dev/null
	fi
	wait "$SM_MILTER_PID" 2>/dev/null
	SM_MILTER_RC=$?
	SM_MILTER_PID=""
	rm -f "$SM_DIR/milter.pid"
}

# Optional debugging aid (SM_SYSLOG=1): Sendmail logs only to /dev/log; when
# nothing listens there, capture its lines in $SM_DIR/syslog.
sm_syslog_start() {
	[ -e /dev/log ] && { sm_log "/dev/log exists; not capturing syslog"; return 0; }
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "a", buffering=1)
while True:
    out.write(s.recv(8192).decode("utf-8", "replace").rstrip("\n") + "\n")
' "$SM_DIR/syslog" &
	SM_SYSLOG_PID=$!
	i=0
	while [ ! -S /dev/log ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
}

sm_cleanup() {
	pg_milter_stop
	sm_stop
	if [ -n "$SM_SYSLOG_PID" ]; then
		kill "$SM_SYSLOG_PID" 2>/dev/null
		wait "$SM_SYSLOG_PID" 2>/dev/null
		rm -f /dev/log
		SM_SYSLOG_PID=""
	fi
	if [ "$SM_MADE_SASL_CONF" = 1 ]; then
		rm -f "$SM_SASL_CONF"
		SM_MADE_SASL_CONF=0
	fi
	if [ "${SM_DIR_OUTSIDE:-0}" = 1 ] && [ -n "$SM_DIR" ]; then
		rm -rf "$SM_DIR"
		rmdir /run/portguard-tests 2>/dev/null
		SM_DIR_OUTSIDE=0
	fi
}

# sm_swaks NAME ARGS...: one SMTP session to 127.0.0.1, bounded; the
# transcript goes to $SM_DIR/t/NAME. Returns swaks' exit status.
sm_swaks() {
	name=$1
	shift
	timeout $((SM_SWAKS_TIMEOUT * 3)) swaks --server 127.0.0.1 --timeout "$SM_SWAKS_TIMEOUT" \
		--helo client.example --from "alice@$SM_DOMAIN" "$@" >"$SM_DIR/t/$name" 2>&1
}

# sm_reply_seen NAME REGEX: the client saw a server line matching REGEX
# (swaks marks server lines "<-", "<~", or "<**"/"<~*" for errors).
sm_reply_seen() {
	grep -Eq "^<[-~*]+ +$2" "$SM_DIR/t/$1"
}

# sm_swaks_auth: the AUTH arguments for the test user.
sm_swaks_auth() {
	echo "-a PLAIN -au $SM_USER -ap $SM_PASS"
}
