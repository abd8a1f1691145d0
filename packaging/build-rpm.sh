#!/bin/sh
# Build the RPM packages (binary and source) with rpmbuild into $1/rpm
# (default build/pkg/rpm). On Debian this uses Debian's rpm package: build
# dependencies are not checked against its empty rpm database (--nodeps), and
# the systemd macros the spec uses have fallbacks there. The result is
# structurally a valid RPM, not a build made in a Fedora/EL buildroot.
# PG_RPM_NOCHECK=1 skips %check (like rpmbuild --without check).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/packaging/lib.sh"
out=${1:-build/pkg}
case $out in /*) ;; *) out=$top/$out ;; esac

sh "$top/packaging/deps.sh" rpm
ver=$(pg_version)
work=$out/rpm
rm -rf "$work"
mkdir -p "$work/SOURCES" "$work/SPECS" "$work/tree"
pg_export_tree "$work/tree/portguard-$ver"
tar -C "$work/tree" -czf "$work/SOURCES/portguard-$ver.tar.gz" "portguard-$ver"
rm -rf "$work/tree"
cp "$top/packaging/sysusers/portguard.conf" "$work/SOURCES/portguard.sysusers"
cp "$top/packaging/rpm/portguard.spec" "$work/SPECS/"

specver=$(rpmspec -q --srpm --qf '%{VERSION}' "$work/SPECS/portguard.spec" 2>/dev/null)
if [ "$specver" != "$ver" ]; then
	echo "portguard: packaging/rpm/portguard.spec is at $specver but core/version.h says $ver" >&2
	exit 1
fi

set -- --nodeps --define "_topdir $work" \
	--define "__brp_compress bash /usr/lib/rpm/brp-compress %{?_prefix}"
[ "${PG_RPM_NOCHECK:-0}" = 1 ] && set -- "$@" --without check
echo "portguard: building .rpm packages in $work (log: $work/build.log)"
if ! rpmbuild -ba "$@" "$work/SPECS/portguard.spec" >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log"
	echo "portguard: rpmbuild failed; full log: $work/build.log" >&2
	exit 1
fi
grep -E '^portguard: [0-9]+ passed, [0-9]+ failed' "$work/build.log" || true
find "$work/RPMS" "$work/SRPMS" -name '*.rpm' | sort
