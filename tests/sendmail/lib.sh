# tests/sendmail/lib.sh - a private Sendmail on loopback, for end-to-end tests.
#
# Sourced by tests/sendmail/run.sh (POSIX sh), after SM_TOP names the source
# tree; it sources the shared library tests/lib/ (waiting, stopping by PID,
# the sandbox, the test cases). Debian's sendmail package
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

sm_log() { echo "sendmail-harness: $*" >&2; }

# shellcheck source=/dev/null
. "$SM_TOP/tests/lib/common.sh"
# shellcheck source=/dev/null
. "$SM_TOP/tests/lib/case.sh"

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

# sm_init BUILD_DIR: package, sandbox directory, certificate, sasldb.
sm_init() {
	mkdir -p "$1" || return 1
	b=$(cd "$1" && pwd) || return 1
	SM_SHIPPED_MC=$SM_TOP/conf/sendmail/portguard.mc
	# SM_PKGDIR lets several build trees share one download.
	sm_fetch "${SM_PKGDIR:-$b/sendmail-pkg}" || return 1
	SM_DIR=$b/sendmail-e2e
	SM_DIR_OUTSIDE=0
	# Sendmail refuses its files and the milter socket when their path
	# crosses a world-writable directory (a clone under /tmp, say), and the
	# milter (nobody) rereads its config on reload. An unfit build tree gets
	# the sandbox under t_sandbox_base's directory in /run instead, named
	# after the build dir, and removed at cleanup.
	_base=$(t_sandbox_base "$b") || return 1
	if [ "$_base" != "$b" ]; then
		SM_DIR=$_base/sendmail-e2e-$(printf '%s' "$b" | cksum | cut -d' ' -f1)
		SM_DIR_OUTSIDE=1
	fi
	# A daemon left over from an interrupted run would hold our ports (the
	# program is checked: a stale pid file may name a reused PID).
	if [ -f "$SM_DIR/sendmail.pid" ]; then
		t_stop_pid "$(head -n 1 "$SM_DIR/sendmail.pid")" 100 "$SM_BIN"
	fi
	if [ -f "$SM_DIR/milter.pid" ]; then
		t_stop_pid "$(cat "$SM_DIR/milter.pid")" 100 "$(readlink -f "${MILTER:-/nonexistent}")"
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

# sm_ready: every port of the variant listens and the pid file is written.
sm_ready() {
	# shellcheck disable=SC2086 # a list of port numbers
	t_all_listening $SM_PORTS && [ -s "$SM_DIR/sendmail.pid" ]
}

# sm_start: start the daemon, wait (bounded) until every port listens.
sm_start() {
	# shellcheck disable=SC2086 # a list of port numbers
	t_ports_free $SM_PORTS || return 1
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
	if t_wait 200 sm_ready; then
		SM_PID=$(head -n 1 "$SM_DIR/sendmail.pid")
		return 0
	fi
	sm_log "sendmail did not listen on all of: $SM_PORTS (see syslog; SM_SYSLOG=1 captures it)"
	cat "$SM_DIR/sendmail.out" >&2
	[ -s "$SM_DIR/sendmail.pid" ] && SM_PID=$(head -n 1 "$SM_DIR/sendmail.pid")
	return 1
}

sm_stop() {
	[ -n "$SM_PID" ] && t_stop_pid "$SM_PID" 100 "$SM_BIN"
	if [ -n "$SM_PID" ] && t_alive "$SM_PID" "$SM_BIN"; then
		sm_log "sendmail pid $SM_PID still runs"
	fi
	SM_PID=""
	# Wait until the ports are free again, so the next variant can bind.
	# shellcheck disable=SC2086 # a list of port numbers
	t_wait 100 t_none_listening $SM_PORTS
}

sm_milter_ready() {
	[ -S "$SM_DIR/milter" ] && grep -q 'listening on' "$SM_DIR/milter.log"
}

# pg_milter_start BIN CONF: portguard-milter in the foreground, logging to
# stderr ($SM_DIR/milter.log); ready when its socket exists and it logged
# "listening on".
pg_milter_start() {
	rm -f "$SM_DIR/milter"
	t_daemon "$SM_DIR/milter.log" 100 sm_milter_ready "$1" -f -e -c "$2" -p "unix:$SM_DIR/milter"
	_rc=$?
	SM_MILTER_PID=$T_PID
	echo "$SM_MILTER_PID" >"$SM_DIR/milter.pid"
	return "$_rc"
}

# pg_milter_stop: stop it by PID (t_stop_pid); SM_MILTER_RC is its exit
# status ("kill" when SIGKILL was needed).
pg_milter_stop() {
	SM_MILTER_RC=""
	[ -n "$SM_MILTER_PID" ] || return 0
	t_stop_pid "$SM_MILTER_PID"
	SM_MILTER_RC=$T_RC
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
	t_wait 50 test -S /dev/log
}

sm_cleanup() {
	pg_milter_stop
	sm_stop
	if [ -n "$SM_SYSLOG_PID" ]; then
		t_stop_pid "$SM_SYSLOG_PID"
		rm -f /dev/log
		SM_SYSLOG_PID=""
	fi
	if [ "$SM_MADE_SASL_CONF" = 1 ]; then
		rm -f "$SM_SASL_CONF"
		SM_MADE_SASL_CONF=0
	fi
	if [ "${SM_DIR_OUTSIDE:-0}" = 1 ] && [ -n "$SM_DIR" ]; then
		t_sandbox_remove "$SM_DIR"
		SM_DIR_OUTSIDE=0
	fi
}
