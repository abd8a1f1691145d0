#!/bin/sh
# packaging/check.sh [OUT] - "make package-check": build the .deb and .rpm
# packages into OUT (default build/pkg) and prove they are sound:
#   1. package builds (each runs the unit tests) succeed;
#   2. lintian on the .changes: no errors, every warning justified in
#      packaging/debian/README.source; .deb contents, conffiles, maintainer
#      script order, hardening of the binaries;
#   3. rpmlint with packaging/rpm/rpmlint.toml: no errors; rpm -qlp / -qpc /
#      --scripts / --triggers / -qpR: files, modes, config files, non-empty
#      scriptlets, no dependency on Postfix;
#   4. systemd-analyze security --offline=yes: exposure <= 3.0 per unit;
#   5. install test in a Debian chroot made by debootstrap (cached under
#      OUT/cache): a Sendmail-like host without Postfix (common + milter,
#      then Postfix arriving later), a Postfix host (all three packages):
#      user, directories and modes, "-n" on the shipped config,
#      systemd-analyze verify, portguard-policyd answering a request over its
#      socket as user postfix, reload, stop, then purge and compare the file
#      list with the one before the install. If no chroot can be made, the
#      same checks run with dpkg -i / dpkg --purge on this machine, and the
#      output says so.
# Prints "PASS: name" / "FAIL: name" per check and "N passed, N failed" at the
# end; exits non-zero if anything failed. PG_PKG_NOBUILD=1 reuses the packages
# already in OUT. Run as root (installs tools, builds chroots).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/packaging/lib.sh"
out=${1:-build/pkg}
case $out in /*) ;; *) out=$top/$out ;; esac
mkdir -p "$out/check"
logs=$out/check
start=$(date +%s)

passed=0
failed=0
ok() { echo "PASS: $1"; passed=$((passed + 1)); }
ko() {
	echo "FAIL: $1${2:+ - $2}"
	failed=$((failed + 1))
}
# check NAME CMD...: PASS if CMD exits 0; its output goes to logs/NAME.log and
# is shown (last lines) on failure.
check() {
	name=$1
	shift
	t0=$(date +%s)
	if "$@" >"$logs/$name.log" 2>&1; then
		ok "$name"
		t=$(($(date +%s) - t0))
		[ "$t" -ge 5 ] && echo "    ($name took ${t}s)"
	else
		ko "$name" "see $logs/$name.log"
		tail -n 15 "$logs/$name.log" | sed 's/^/    /'
	fi
}
finish() {
	echo "package-check took $(($(date +%s) - start))s"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit $?
}

if [ "$(id -u)" != 0 ]; then
	echo "packaging/check.sh must run as root (it installs tools and builds a chroot)" >&2
	ko package-check-runs-as-root
	finish
fi
check tools-installed sh "$top/packaging/deps.sh" check

ver=$(pg_version)
if [ "${PG_PKG_NOBUILD:-0}" != 1 ]; then
	check build-deb pg_timeout 900 sh "$top/packaging/build-deb.sh" "$out"
	check build-rpm pg_timeout 900 sh "$top/packaging/build-rpm.sh" "$out"
fi
D=$out/deb
R=$out/rpm
arch=$(dpkg --print-architecture)
deb_common=$D/portguard-common_${ver}_all.deb
deb_policyd=$D/portguard-policyd_${ver}_$arch.deb
deb_milter=$D/portguard-milter_${ver}_$arch.deb
deb_audit=$D/portguard-audit_${ver}_$arch.deb
changes=$D/portguard_${ver}_$arch.changes
rpm_common=$(ls "$R"/RPMS/noarch/portguard-common-"$ver"-*.rpm 2>/dev/null | head -n 1)
rpm_policyd=$(ls "$R"/RPMS/*/portguard-policyd-"$ver"-*.rpm 2>/dev/null | head -n 1)
rpm_milter=$(ls "$R"/RPMS/*/portguard-milter-"$ver"-*.rpm 2>/dev/null | head -n 1)
rpm_audit=$(ls "$R"/RPMS/*/portguard-audit-"$ver"-*.rpm 2>/dev/null | head -n 1)

# ---- 1. the test suite ran inside both package builds --------------------
unit_ran() { # build.log: the runner's summary with >0 passed and 0 failed
	grep -E '^portguard: [1-9][0-9]* passed, 0 failed$' "$1"
}
check deb-build-ran-unit-tests unit_ran "$D/build.log"
check rpm-build-ran-unit-tests unit_ran "$R/build.log"

# ---- 2. Debian: lintian and package contents -----------------------------
for f in "$deb_common" "$deb_policyd" "$deb_milter" "$changes"; do
	[ -f "$f" ] || ko "deb-exists-$(basename "$f")" "not built"
done
lintian_run() {
	# lintian advises against running as root; use nobody when it can read OUT.
	if command -v runuser >/dev/null && runuser -u nobody -- test -r "$changes" 2>/dev/null; then
		runuser -u nobody -- env HOME=/tmp lintian -I -E --pedantic --tag-display-limit 0 "$changes"
	else
		lintian -I -E --pedantic --tag-display-limit 0 "$changes"
	fi
}
if [ -f "$changes" ]; then
	lintian_run >"$logs/lintian.out" 2>&1
	echo "lintian: $(grep -c '^E: ' "$logs/lintian.out") errors," \
		"$(grep -c '^W: ' "$logs/lintian.out") warnings," \
		"$(grep -c -E '^[IP]: ' "$logs/lintian.out") info/pedantic"
	sed 's/^/    /' "$logs/lintian.out"
	if grep -q '^E: ' "$logs/lintian.out"; then ko lintian-no-errors; else ok lintian-no-errors; fi
	unjustified=""
	for tag in $(sed -n -E 's/^[WEIP]: [^ ]+: ([a-z0-9-]+).*/\1/p' "$logs/lintian.out" | sort -u); do
		grep -q -- "$tag" "$top/packaging/debian/README.source" || unjustified="$unjustified $tag"
	done
	if [ -z "$unjustified" ]; then
		ok lintian-tags-justified-in-README.source
	else
		ko lintian-tags-justified-in-README.source "not explained:$unjustified"
	fi
fi

deb_has() { # deb mode path: the .deb holds path with that mode string
	dpkg-deb -c "$1" | awk -v m="$2" -v p="./$3" '$1 == m && $6 == p { f = 1 } END { exit !f }'
}
deb_contents() {
	deb_has "$deb_common" -rw-r--r-- etc/portguard/portguard.conf &&
		deb_has "$deb_common" -rw-r--r-- usr/lib/sysusers.d/portguard.conf &&
		deb_has "$deb_common" -rw-r--r-- usr/lib/tmpfiles.d/portguard.conf &&
		deb_has "$deb_common" -rw-r--r-- usr/share/man/man5/portguard.conf.5.gz &&
		deb_has "$deb_audit" -rwxr-xr-x usr/sbin/portguard-audit &&
		deb_has "$deb_audit" -rw-r--r-- usr/share/man/man8/portguard-audit.8.gz &&
		deb_has "$deb_audit" -rw-r--r-- lib/systemd/system/portguard-audit.timer &&
		{ deb_has "$deb_common" -rw-r--r-- usr/share/doc/portguard-common/README.Debian ||
			deb_has "$deb_common" -rw-r--r-- usr/share/doc/portguard-common/README.Debian.gz; } &&
		deb_has "$deb_common" -rw-r--r-- usr/share/doc/portguard-common/examples/postfix/main.cf.snippet &&
		deb_has "$deb_common" -rw-r--r-- usr/share/doc/portguard-common/examples/sendmail/portguard.mc &&
		deb_has "$deb_common" -rw-r--r-- usr/share/doc/portguard-common/examples/fail2ban/filter.d/portguard.conf &&
		deb_has "$deb_common" -rw-r--r-- usr/share/doc/portguard-common/examples/fail2ban/jail.d/portguard.conf &&
		deb_has "$deb_common" -rw-r--r-- usr/share/doc/portguard-common/examples/logcheck/ignore.d.server/portguard &&
		dpkg-deb -c "$deb_common" | grep -q -E ' \./usr/share/doc/portguard-common/examples/grafana/portguard-dashboard\.json(\.gz)?$' &&
		deb_has "$deb_policyd" -rwxr-xr-x usr/sbin/portguard-policyd &&
		deb_has "$deb_policyd" -rw-r--r-- lib/systemd/system/portguard-policyd.service &&
		deb_has "$deb_policyd" -rw-r--r-- usr/share/man/man8/portguard-policyd.8.gz &&
		deb_has "$deb_milter" -rwxr-xr-x usr/sbin/portguard-milter &&
		deb_has "$deb_milter" -rw-r--r-- lib/systemd/system/portguard-milter.service &&
		deb_has "$deb_milter" -rw-r--r-- usr/share/man/man8/portguard-milter.8.gz &&
		! dpkg-deb -c "$deb_policyd" | grep -q ' ./etc/' &&
		! dpkg-deb -c "$deb_milter" | grep -q ' ./etc/'
}
check deb-contents-and-modes deb_contents

deb_report=$D/portguard-report_${ver}_$arch.deb
deb_report_contents() { # the program and its manual page, nothing under /etc
	deb_has "$deb_report" -rwxr-xr-x usr/sbin/portguard-report &&
		deb_has "$deb_report" -rw-r--r-- usr/share/man/man8/portguard-report.8.gz &&
		! dpkg-deb -c "$deb_report" | grep -q ' ./etc/'
}
check deb-report-contents deb_report_contents

deb_meta() {
	x=$logs/deb-ctrl
	rm -rf "$x" && mkdir -p "$x" && dpkg-deb -e "$deb_common" "$x" || return 1
	echo "conffiles:" && cat "$x/conffiles" &&
		[ "$(cat "$x/conffiles")" = /etc/portguard/portguard.conf ] || return 1
	# the user exists before systemd-tmpfiles chowns /run/portguard to it
	u=$(grep -n -E '^[[:space:]]*systemd-sysusers ' "$x/postinst" | head -n 1 | cut -d: -f1)
	t=$(grep -n -E '^[[:space:]]*systemd-tmpfiles ' "$x/postinst" | head -n 1 | cut -d: -f1)
	echo "postinst: sysusers line $u, tmpfiles line $t"
	[ -n "$u" ] && [ -n "$t" ] && [ "$u" -lt "$t" ] || return 1
	grep -q 'rm -rf /var/spool/postfix/portguard /run/portguard /etc/portguard' "$x/postrm" || return 1
	grep -q 'interest-noawait /var/spool/postfix' "$x/triggers" || return 1
	# no package depends on an MTA; only the milter needs libmilter
	for d in "$deb_common" "$deb_policyd" "$deb_milter"; do
		deps=$(dpkg-deb -f "$d" Depends)
		echo "$(basename "$d"): Depends: $deps"
		echo "$deps" | grep -q -E '(^|[ ,])(postfix|sendmail)' && return 1
	done
	dpkg-deb -f "$deb_milter" Depends | grep -q libmilter &&
		! dpkg-deb -f "$deb_policyd" Depends | grep -q libmilter
}
check deb-conffiles-scripts-depends deb_meta

hardening() {
	x=$logs/deb-x
	rm -rf "$x" && mkdir -p "$x" || return 1
	dpkg-deb -x "$deb_policyd" "$x" && dpkg-deb -x "$deb_milter" "$x" || return 1
	# PIE, stack protector, fortify, RELRO and BIND_NOW must all be there.
	# Control-flow protection is not part of bookworm's hardening=+all.
	hardening-check --nocfprotection "$x/usr/sbin/portguard-policyd" "$x/usr/sbin/portguard-milter"
}
check deb-binaries-hardened hardening

# ---- 3. RPM: rpmlint and queries -----------------------------------------
for f in "$rpm_common" "$rpm_policyd" "$rpm_milter"; do
	[ -n "$f" ] && [ -f "$f" ] || ko rpm-exists "an RPM was not built"
done
if [ -n "$rpm_common" ] && [ -n "$rpm_policyd" ] && [ -n "$rpm_milter" ]; then
	rpmlint -c "$top/packaging/rpm/rpmlint.toml" "$R/SPECS/portguard.spec" \
		"$rpm_common" "$rpm_policyd" "$rpm_milter" "$rpm_audit" "$R"/SRPMS/*.rpm >"$logs/rpmlint.out" 2>&1
	sed -n '/^portguard/p; /packages and .* specfiles checked/p' "$logs/rpmlint.out" | sed 's/^/    /'
	if grep -q -E ' 0 errors, ' "$logs/rpmlint.out"; then ok rpmlint-no-errors; else ko rpmlint-no-errors; fi

	rpm_has() { # rpm mode user group path
		rpm -qlpv "$1" | awk -v m="$2" -v u="$3" -v g="$4" -v p="$5" \
			'$1 == m && substr(u, 1, 8) == $3 && substr(g, 1, 8) == $4 && $NF == p { f = 1 } END { exit !f }'
	}
	rpm_files() {
		for r in "$rpm_common" "$rpm_policyd" "$rpm_milter"; do rpm -qlpv "$r"; done
		rpm_has "$rpm_common" -rw-r--r-- root root /etc/portguard/portguard.conf &&
			rpm_has "$rpm_common" drwxr-x--- portguard portguard /run/portguard &&
			rpm_has "$rpm_common" -rw-r--r-- root root /usr/lib/sysusers.d/portguard.conf &&
			rpm_has "$rpm_common" -rw-r--r-- root root /usr/lib/tmpfiles.d/portguard.conf &&
			rpm_has "$rpm_common" -rw-r--r-- root root /usr/share/man/man5/portguard.conf.5.gz &&
			rpm_has "$rpm_audit" -rwxr-xr-x root root /usr/sbin/portguard-audit &&
			rpm_has "$rpm_audit" -rw-r--r-- root root /usr/lib/systemd/system/portguard-audit.timer &&
			rpm_has "$rpm_policyd" -rwxr-xr-x root root /usr/sbin/portguard-policyd &&
			rpm_has "$rpm_policyd" -rw-r--r-- root root /usr/lib/systemd/system/portguard-policyd.service &&
			rpm_has "$rpm_policyd" -rw-r--r-- root root /usr/share/man/man8/portguard-policyd.8.gz &&
			rpm_has "$rpm_milter" -rwxr-xr-x root root /usr/sbin/portguard-milter &&
			rpm_has "$rpm_milter" -rw-r--r-- root root /usr/lib/systemd/system/portguard-milter.service &&
			rpm_has "$rpm_milter" -rw-r--r-- root root /usr/share/man/man8/portguard-milter.8.gz &&
			rpm -qlp "$rpm_common" | grep -q -E '/examples/fail2ban/filter\.d/portguard\.conf$' &&
			rpm -qlp "$rpm_common" | grep -q -E '/examples/logcheck/ignore\.d\.server/portguard$' &&
			rpm -qlp "$rpm_common" | grep -q -E '/examples/grafana/portguard-dashboard\.json$'
	}
	check rpm-files-and-modes rpm_files

	rpm_report=$(ls "$R"/RPMS/*/portguard-report-"$ver"-*.rpm 2>/dev/null | head -n 1)
	rpm_report_files() {
		[ -n "$rpm_report" ] && rpm -qlpv "$rpm_report" &&
			rpm_has "$rpm_report" -rwxr-xr-x root root /usr/sbin/portguard-report &&
			rpm_has "$rpm_report" -rw-r--r-- root root /usr/share/man/man8/portguard-report.8.gz
	}
	check rpm-report-files rpm_report_files

	rpm_config() {
		rpm -qpc "$rpm_common" "$rpm_policyd" "$rpm_milter"
		[ "$(rpm -qpc "$rpm_common")" = /etc/portguard/portguard.conf ] &&
			[ -z "$(rpm -qpc "$rpm_policyd" "$rpm_milter")" ] &&
			rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpm_common" |
			grep -q -x 'cn /etc/portguard/portguard.conf' # %config(noreplace)
	}
	check rpm-config-noreplace rpm_config

	# Every scriptlet the spec declares has a body in this build (the bare
	# rpm on Debian has no systemd macros: the fallbacks must be there).
	scriptlet() { # rpm tag pattern
		body=$(rpm -qp --qf "%{$2}" "$1")
		echo "== $(basename "$1") $2:"
		echo "$body"
		[ "$body" != "(none)" ] && echo "$body" | grep -q -E -- "$3"
	}
	rpm_scripts() {
		scriptlet "$rpm_common" PREIN 'useradd|sysusers|systemd-sysusers' &&
			scriptlet "$rpm_common" POSTIN 'tmpfiles' &&
			scriptlet "$rpm_common" POSTUN 'rm -rf /var/spool/postfix/portguard' &&
			rpm -qp --triggers "$rpm_common" | grep -q 'chmod 2750 /var/spool/postfix/portguard' &&
			for p in "$rpm_policyd" "$rpm_milter"; do
				scriptlet "$p" POSTIN 'systemctl|systemd-update-helper' &&
					scriptlet "$p" PREUN 'systemctl|systemd-update-helper' &&
					scriptlet "$p" POSTUN 'systemctl|systemd-update-helper' || return 1
			done
	}
	check rpm-scriptlets-non-empty rpm_scripts

	rpm_requires() {
		for r in "$rpm_common" "$rpm_policyd" "$rpm_milter"; do
			echo "== $(basename "$r")" && rpm -qpR "$r" || return 1
			rpm -qpR "$r" | grep -q -E '^(postfix|sendmail|group\(postfix\)|user\(postfix\))' && return 1
		done
		rpm -qpR "$rpm_milter" | grep -q libmilter && ! rpm -qpR "$rpm_policyd" | grep -q libmilter
	}
	check rpm-requires-no-mta rpm_requires

	rpm_hardening() {
		x=$logs/rpm-x
		rm -rf "$x" && mkdir -p "$x" || return 1
		for r in "$rpm_policyd" "$rpm_milter"; do
			rpm2cpio "$r" | (cd "$x" && cpio -idm --quiet) || return 1
		done
		hardening-check --nocfprotection "$x/usr/sbin/portguard-policyd" "$x/usr/sbin/portguard-milter"
	}
	check rpm-binaries-hardened rpm_hardening
fi

# ---- 4. systemd units: exposure ------------------------------------------
for u in portguard-policyd portguard-milter portguard-audit; do
	f=$top/packaging/systemd/$u.service
	systemd-analyze security --offline=yes --threshold=30 "$f" >"$logs/security-$u.log" 2>&1
	rc=$?
	line=$(grep 'Overall exposure level' "$logs/security-$u.log")
	echo "    $line"
	if [ "$rc" = 0 ] && [ -n "$line" ]; then
		ok "systemd-security-$u-exposure-at-most-3.0"
	else
		ko "systemd-security-$u-exposure-at-most-3.0"
	fi
done

# ---- 5. install, run, purge ----------------------------------------------
. "$top/packaging/install-test.sh"
install_tests

finish
