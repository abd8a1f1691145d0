#!/bin/sh
# Build the Debian packages (source + binary, unsigned) into $1/deb
# (default build/pkg/deb): portguard-common, portguard-policyd, portguard-milter,
# portguard-report.
# DEB_BUILD_OPTIONS (e.g. nocheck) passes through to dpkg-buildpackage.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/packaging/lib.sh"
out=${1:-build/pkg}
case $out in /*) ;; *) out=$top/$out ;; esac

sh "$top/packaging/deps.sh" deb
ver=$(pg_version)
work=$out/deb
rm -rf "$work"
mkdir -p "$work"
src=$work/portguard-$ver
pg_export_tree "$src"
rm -rf "$src/debian"
cp -RL "$top/packaging/debian" "$src/debian"

clver=$(cd "$src" && dpkg-parsechangelog -S Version)
if [ "$clver" != "$ver" ]; then
	echo "portguard: packaging/debian/changelog is at $clver but core/version.h says $ver;" \
		"add a changelog entry (dch -v $ver)" >&2
	exit 1
fi

echo "portguard: building .deb packages in $work (log: $work/build.log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -j"$(nproc)") >"$work/build.log" 2>&1; then
	tail -n 60 "$work/build.log"
	echo "portguard: dpkg-buildpackage failed; full log: $work/build.log" >&2
	exit 1
fi
grep -E '^portguard: [0-9]+ passed, [0-9]+ failed' "$work/build.log" || true
ls -1 "$work"/*.deb "$work"/*.changes
