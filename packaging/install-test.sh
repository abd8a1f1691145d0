# packaging/install-test.sh - install/run/purge tests of the .debs, sourced
# by packaging/check.sh (uses its ok/ko/check, $out, $logs, $deb_*).
#
# Preferred: a Debian chroot (debootstrap --variant=minbase, plus systemd and
# the packages' libraries), cached as OUT/cache/<codename>-base.tar together
# with Postfix's .debs, so a rerun unpacks it in seconds and needs no network.
# Fallback when no chroot can be made: dpkg -i / dpkg --purge on this machine.
# No service is ever started by a package here: there is no systemd running
# in the chroot, and a policy-rc.d that exits 101 stops sysv-style starts.

ROOT=""  # the tree under test: a chroot directory, or "" for this machine
MODE=""  # chroot | live
MOUNTED=""

# Run a command inside the tree under test (as root, or --userspec=U:G).
in_root() {
	if [ "$MODE" = chroot ]; then
		chroot "$ROOT" "$@"
	else
		"$@"
	fi
}
as_user() { # user cmd...: exec the command as that user (the PID is the command's)
	u=$1
	shift
	chroot --userspec="$u:$u" "${ROOT:-/}" "$@"
}

# Runtime dependencies of the built .debs (first alternative, no portguard-*).
deb_runtime_deps() {
	for d in "$deb_common" "$deb_policyd" "$deb_milter"; do
		dpkg-deb -f "$d" Depends
	done | tr ',' '\n' | sed -E 's/\|.*//; s/\(.*//; s/[[:space:]]//g' |
		grep -v -E '^(portguard-|$)' | sort -u | tr '\n' ',' | sed 's/,$//'
}

make_chroot_cache() {
	cn=$1
	cache=$out/cache
	base=$cache/$cn-base.tar
	incl="systemd,$(deb_runtime_deps)"
	key="cache-v2 $incl" # change the v2 when the way the cache is made changes
	if [ -s "$base" ] && [ -d "$cache/postfix-debs" ] && [ "$(cat "$cache/key" 2>/dev/null)" = "$key" ]; then
		echo "using cached $base (packages: $incl)"
		return 0
	fi
	mirror=$(debian_mirror "$cn" | head -n 1)
	[ -n "$mirror" ] || { echo "no Debian mirror for $cn in the apt sources"; return 1; }
	mkdir -p "$cache"
	mk=$cache/mk
	rm -rf "$mk" "$base" "$cache/postfix-debs"
	echo "debootstrap --variant=minbase --include=$incl $cn (about 1-2 minutes, once)"
	pg_timeout 600 debootstrap --variant=minbase --include="$incl" "$cn" "$mk" "$mirror" ||
		{ rm -rf "$mk"; return 1; }
	cp /etc/resolv.conf "$mk/etc/resolv.conf" 2>/dev/null || true
	# Postfix's packages (and only those: debootstrap leaves the base
	# system's .debs in the archive cache), fetched once so the tests run offline.
	chroot "$mk" apt-get clean
	pg_timeout 300 chroot "$mk" apt-get -q -y --no-install-recommends --download-only install postfix ||
		{ rm -rf "$mk"; return 1; }
	mkdir -p "$cache/postfix-debs"
	cp "$mk"/var/cache/apt/archives/*.deb "$cache/postfix-debs/"
	chroot "$mk" apt-get clean
	tar -C "$mk" -cf "$base.tmp" . && mv "$base.tmp" "$base" || return 1
	echo "$key" >"$cache/key"
	rm -rf "$mk"
}

# Unpack a fresh tree from the cache into $ROOT.
fresh_chroot() {
	umount_root
	# a run killed before its trap leaves /proc mounted there: never recurse into it
	if mountpoint -q "$ROOT/proc" 2>/dev/null; then
		umount "$ROOT/proc" 2>/dev/null || umount -l "$ROOT/proc"
	fi
	rm -rf --one-file-system "$ROOT"
	mkdir -p "$ROOT"
	tar -C "$ROOT" -xf "$out/cache/$CODENAME-base.tar" || return 1
	printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
	chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
	mkdir -p "$ROOT/tmp/debs"
	cp "$deb_common" "$deb_policyd" "$deb_milter" "$ROOT/tmp/debs/"
	mount -t proc proc "$ROOT/proc" && MOUNTED=1
}
umount_root() {
	if [ -n "$MOUNTED" ]; then
		umount "$ROOT/proc" 2>/dev/null || umount -l "$ROOT/proc"
		MOUNTED=""
	fi
}
# Postfix as Debian installs it for an MX ("Internet Site"): a main.cf whose
# mydestination holds the host's own domains, which the shipped portguard.conf
# must take (relay.from_mta = "auto") so that mail to them is not refused.
PF_MAILNAME=mx.pkgtest.example
install_postfix() {
	in_root sh -c "printf '%s\n' 'postfix postfix/main_mailer_type select Internet Site' \
		'postfix postfix/mailname string $PF_MAILNAME' | debconf-set-selections" &&
		cp -r "$out/cache/postfix-debs" "$ROOT/tmp/postfix-debs" &&
		in_root env DEBIAN_FRONTEND=noninteractive sh -c 'dpkg -i /tmp/postfix-debs/*.deb'
}

# A listing of the tree (path, mode, numeric owner, type), without the places
# that change by themselves or hold dpkg's own records.
snapshot() {
	(cd "${ROOT:-/}" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \
		-o -path ./var/log -o -path ./var/cache -o -path ./var/lib/dpkg -o -path ./var/lib/apt \
		-o -path ./var/tmp -o -path ./run/systemd -o -path ./work -o -path ./root \) -prune -o -printf '%p %m %U %G %y\n') |
		grep -v -E '^\./etc/(passwd|group|shadow|gshadow|subuid|subgid)- ' | sort
}

stat_is() { # path "mode user group": as stat -c '%a %U %G' inside the tree
	got=$(in_root stat -c '%a %U %G' "$1" 2>&1)
	echo "$1: $got (want $2)"
	[ "$got" = "$2" ]
}
sock_is() { # path "mode user group" for a socket: %A %U %G
	got=$(in_root stat -c '%A %U %G' "$1" 2>&1)
	echo "$1: $got (want $2)"
	[ "$got" = "$2" ]
}
wait_for() { # seconds test-args...: poll a test(1) condition every 0.1 s
	n=$(($1 * 10))
	shift
	while [ "$n" -gt 0 ]; do
		test "$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

CONF=/etc/portguard/portguard.conf
# A Postfix request on port 587 without TLS: the shipped config's 587 is a
# STARTTLS submission port, so the answer is the tls_required reject.
POLICY_REQ='request=smtpd_access_policy
protocol_state=RCPT
protocol_name=ESMTP
client_address=192.0.2.10
client_name=client.example
client_port=40000
server_address=127.0.0.1
server_port=587
helo_name=client.example
sender=alice@example.org
recipient=bob@example.net
queue_id=
instance=pkgtest1
sasl_method=
sasl_username=
encryption_protocol=
encryption_cipher=
encryption_keysize=0
'
POLICY_WANT='action=530 5.7.0 Must issue a STARTTLS command first'

# As user postfix: connect to the socket, send the request, print one reply.
policy_ask() {
	printf '%s\n' "$POLICY_REQ" >"$ROOT/tmp/pg-request"
	as_user postfix perl -MIO::Socket::UNIX -e '
		$SIG{ALRM} = sub { die "no answer in 10 s\n" }; alarm 10;
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $ARGV[0])
			or die "connect $ARGV[0]: $!\n";
		open(my $in, "<", "/tmp/pg-request") or die "$!\n";
		local $/; my $req = <$in>; print $s $req; $s->flush;
		$/ = "\n\n"; my $r = <$s>; defined $r or die "connection closed\n";
		print $r;' /var/spool/postfix/portguard/policy
}

POLICYD_PID=""
MILTER_PID=""
stop_daemons() {
	for p in $POLICYD_PID $MILTER_PID; do
		kill "$p" 2>/dev/null
	done
	POLICYD_PID=""
	MILTER_PID=""
}

policyd_runs() {
	# not through as_user: a backgrounded function would be a subshell and $!
	# its PID; chroot execs the daemon, so $! is the daemon itself.
	chroot --userspec=portguard:portguard "${ROOT:-/}" \
		/usr/sbin/portguard-policyd -f -e -c "$CONF" >"$logs/policyd-run.log" 2>&1 &
	POLICYD_PID=$!
	sock=$ROOT/var/spool/postfix/portguard/policy
	wait_for 10 -S "$sock" || { echo "no socket after 10 s"; cat "$logs/policyd-run.log"; return 1; }
	sock_is /var/spool/postfix/portguard/policy "srw-rw---- portguard postfix" || return 1
	reply=$(policy_ask) || return 1
	echo "reply: $reply"
	[ "$reply" = "$POLICY_WANT" ] || return 1
	# reload (SIGHUP, as ExecReload does): still there, same answer
	kill -HUP "$POLICYD_PID" || return 1
	sleep 0.2
	reply=$(policy_ask) || return 1
	echo "after SIGHUP: $reply"
	[ "$reply" = "$POLICY_WANT" ] || return 1
	# SIGTERM: exits 0 and removes its socket
	kill -TERM "$POLICYD_PID"
	wait "$POLICYD_PID"
	rc=$?
	POLICYD_PID=""
	echo "exit status after SIGTERM: $rc"
	[ "$rc" = 0 ] && wait_for 5 ! -e "$sock"
}

milter_runs() {
	chroot --userspec=portguard:portguard "${ROOT:-/}" \
		/usr/sbin/portguard-milter -f -e -c "$CONF" >"$logs/milter-run.log" 2>&1 &
	MILTER_PID=$!
	sock=$ROOT/var/spool/postfix/portguard/milter
	wait_for 10 -S "$sock" || { echo "no socket after 10 s"; cat "$logs/milter-run.log"; return 1; }
	sock_is /var/spool/postfix/portguard/milter "srw-rw---- portguard postfix" || return 1
	kill -TERM "$MILTER_PID"
	wait "$MILTER_PID"
	rc=$?
	MILTER_PID=""
	echo "exit status after SIGTERM: $rc"
	[ "$rc" = 0 ] && wait_for 5 ! -e "$sock"
}

n_refuses_without_mta() {
	if as_user portguard /usr/sbin/portguard-milter -n -c "$CONF" >"$logs/A-n-no-mta.log" 2>&1; then
		echo "-n accepted the shipped config on a host without an MTA"
		return 1
	fi
	cat "$logs/A-n-no-mta.log"
	grep -q 'relay.from_mta: "auto" found neither Postfix' "$logs/A-n-no-mta.log"
}

# On port 25 (relay role), a recipient in Postfix's mydestination is accepted
# (DUNNO) and a remote one refused, by the shipped config run as portguard.
policyd_takes_postfix_domains() {
	chroot --userspec=portguard:portguard "${ROOT:-/}" \
		/usr/sbin/portguard-policyd -f -e -c "$CONF" >"$logs/policyd-domains.log" 2>&1 &
	POLICYD_PID=$!
	sock=$ROOT/var/spool/postfix/portguard/policy
	wait_for 10 -S "$sock" || { echo "no socket after 10 s"; cat "$logs/policyd-domains.log"; return 1; }
	saved=$POLICY_REQ
	ok=0
	nl='
'
	POLICY_REQ=$(printf '%s\n' "$saved" | sed -e 's/^server_port=.*/server_port=25/' \
		-e "s/^recipient=.*/recipient=root@$PF_MAILNAME/" -e 's/^instance=.*/instance=pkgtest2/')$nl
	local_reply=$(policy_ask) && echo "root@$PF_MAILNAME: $local_reply" &&
		POLICY_REQ=$(printf '%s\n' "$POLICY_REQ" | sed -e 's/^recipient=.*/recipient=victim@example.net/' \
			-e 's/^instance=.*/instance=pkgtest3/')$nl &&
		remote_reply=$(policy_ask) && echo "victim@example.net: $remote_reply" &&
		[ "$local_reply" = "action=DUNNO" ] &&
		case $remote_reply in "action=554 5.7.1 "*) true ;; *) false ;; esac && ok=1
	POLICY_REQ=$saved
	kill -TERM "$POLICYD_PID"
	wait "$POLICYD_PID"
	POLICYD_PID=""
	wait_for 5 ! -e "$sock"
	[ "$ok" = 1 ]
}

units_verify() {
	for u in portguard-policyd portguard-milter; do
		echo "== $u"
		in_root systemd-analyze verify --man=no "/lib/systemd/system/$u.service" || return 1
	done
}

purged_clean() { # before-listing: nothing of portguard left, user kept
	for p in /etc/portguard /run/portguard /var/spool/postfix/portguard \
		/usr/sbin/portguard-policyd /usr/sbin/portguard-milter; do
		if in_root test -e "$p"; then echo "left behind: $p"; return 1; fi
	done
	if in_root dpkg-query -W 'portguard-*' 2>/dev/null | grep -q .; then
		in_root dpkg-query -W 'portguard-*'
		echo "still known to dpkg"
		return 1
	fi
	snapshot >"$logs/after-purge.list"
	if ! diff -u "$1" "$logs/after-purge.list"; then
		echo "the file list differs from the one before the install"
		return 1
	fi
	echo "file list identical to the one before the install"
	echo "kept on purge (Debian practice): $(in_root getent passwd portguard)"
}

user_ok() {
	in_root getent passwd portguard && in_root getent group portguard &&
		in_root getent passwd portguard | grep -q -E ':/nonexistent:/(usr/)?s?bin/(nologin|false)$'
}
no_postfix() { ! in_root getent passwd postfix && ! test -e "$ROOT/var/spool/postfix"; }
conffile_ok() {
	in_root dpkg-query -W -f='${Conffiles}\n' portguard-common
	in_root dpkg-query -W -f='${Conffiles}\n' portguard-common | grep -q ' /etc/portguard/portguard.conf '
}

# ---- the two scenarios ---------------------------------------------------
scenario_sendmail_host() { # no Postfix: common + milter
	check A-install-common-and-milter-without-postfix \
		in_root dpkg -i /tmp/debs/"$(basename "$deb_common")" /tmp/debs/"$(basename "$deb_milter")"
	check A-user-portguard-created user_ok
	check A-run-dir-0750-portguard stat_is /run/portguard "750 portguard portguard"
	check A-no-postfix-user-or-spool-created no_postfix
	check A-conffile-registered conffile_ok
	check A-unit-enabled test -L "$ROOT/etc/systemd/system/multi-user.target.wants/portguard-milter.service"
	# No MTA at all: the shipped config (relay.from_mta = "auto") says so
	# rather than refusing every inbound message later.
	check A-milter-n-refuses-shipped-config-without-an-mta n_refuses_without_mta
	# A Sendmail host: class w and $j from its sendmail.cf.
	check A-sendmail-cf-installed in_root sh -c \
		'mkdir -p /etc/mail && printf "Cwlocalhost\nDjmx.pkgtest.example\n" >/etc/mail/sendmail.cf'
	check A-milter-n-accepts-shipped-config as_user portguard /usr/sbin/portguard-milter -n -c "$CONF"
	check A-sendmail-cf-removed in_root rm -r /etc/mail
	check A-purge in_root dpkg --purge portguard-milter portguard-common
	check A-purge-leaves-nothing purged_clean "$logs/A-before.list"
	# Postfix arrives after portguard: the file trigger makes the socket dir.
	check A-reinstall-common in_root dpkg -i /tmp/debs/"$(basename "$deb_common")"
	check A-postfix-installed-later install_postfix
	check A-trigger-made-spool-dir-2750-portguard-postfix \
		stat_is /var/spool/postfix/portguard "2750 portguard postfix"
}

scenario_postfix_host() { # Postfix first, then all three packages
	check B-install-all-three in_root dpkg -i /tmp/debs/"$(basename "$deb_common")" \
		/tmp/debs/"$(basename "$deb_policyd")" /tmp/debs/"$(basename "$deb_milter")"
	check B-spool-dir-2750-portguard-postfix stat_is /var/spool/postfix/portguard "2750 portguard postfix"
	check B-run-dir-0750-portguard stat_is /run/portguard "750 portguard portguard"
	check B-config-0644-root stat_is "$CONF" "644 root root"
	check B-policyd-n-accepts-shipped-config as_user portguard /usr/sbin/portguard-policyd -n -c "$CONF"
	check B-shipped-config-takes-postfix-domains policyd_takes_postfix_domains
	check B-milter-n-accepts-shipped-config as_user portguard /usr/sbin/portguard-milter -n -c "$CONF"
	check B-systemd-analyze-verify-units units_verify
	check B-units-enabled test -L "$ROOT/etc/systemd/system/multi-user.target.wants/portguard-policyd.service" \
		-a -L "$ROOT/etc/systemd/system/multi-user.target.wants/portguard-milter.service"
	check B-policyd-as-portguard-answers-postfix-then-reloads-and-stops policyd_runs
	check B-milter-as-portguard-socket-reachable-by-postfix milter_runs
	stop_daemons
	check B-purge in_root dpkg --purge portguard-milter portguard-policyd portguard-common
	check B-purge-leaves-nothing purged_clean "$logs/B-before.list"
}

install_tests() {
	CODENAME=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	# PG_PKG_LIVE=1 forces the fallback (to test it).
	if [ "${PG_PKG_LIVE:-0}" != 1 ] && [ -n "$CODENAME" ] && make_chroot_cache "$CODENAME" >"$logs/chroot-cache.log" 2>&1; then
		MODE=chroot
		ROOT=$out/chroot
		trap 'stop_daemons; umount_root' EXIT
		trap 'exit 1' INT TERM
		echo "install tests: in a $CODENAME chroot ($ROOT)"
		if fresh_chroot; then
			snapshot >"$logs/A-before.list"
			scenario_sendmail_host
		else
			ko A-chroot-unpacked
		fi
		if fresh_chroot && install_postfix >"$logs/B-postfix.log" 2>&1; then
			snapshot >"$logs/B-before.list"
			scenario_postfix_host
		else
			ko B-chroot-with-postfix "see $logs/B-postfix.log"
		fi
		stop_daemons
		umount_root
		rm -rf --one-file-system "$ROOT"
	else
		if [ "${PG_PKG_LIVE:-0}" = 1 ]; then
			echo "install tests: NO CHROOT (PG_PKG_LIVE=1);" \
				"running dpkg -i / dpkg --purge on this machine instead"
		else
			echo "install tests: NO CHROOT (debootstrap could not build one, see" \
				"$logs/chroot-cache.log); running dpkg -i / dpkg --purge on this machine instead"
			tail -n 5 "$logs/chroot-cache.log" | sed 's/^/    /'
		fi
		MODE=live
		ROOT=""
		mkdir -p /tmp/debs
		cp "$deb_common" "$deb_policyd" "$deb_milter" /tmp/debs/
		if getent passwd postfix >/dev/null; then
			snapshot >"$logs/B-before.list"
			scenario_postfix_host
		else
			snapshot >"$logs/A-before.list"
			check A-install-common-and-milter-without-postfix \
				dpkg -i /tmp/debs/"$(basename "$deb_common")" /tmp/debs/"$(basename "$deb_milter")"
			check A-milter-n-accepts-shipped-config as_user portguard /usr/sbin/portguard-milter -n -c "$CONF"
			check A-purge dpkg --purge portguard-milter portguard-common
			check A-purge-leaves-nothing purged_clean "$logs/A-before.list"
		fi
		rm -rf /tmp/debs
	fi
}
