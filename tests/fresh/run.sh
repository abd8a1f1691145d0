#!/bin/sh
# tests/fresh/run.sh [OUT] - `make fresh-check`: the README's quick start, run
# as root inside a fresh Debian 12 root, so that no package installed on this
# machine by hand can hide a missing install step.
#
#   1. A Debian 12 (bookworm) root made with `debootstrap --variant=minbase`,
#      kept as a tarball in the cache and unpacked anew for every run: only
#      the minimal base system is in it, nothing portguard needs.
#   2. This machine's apt sources and apt settings are copied in (the root
#      fetches packages the way this machine does); the apt archive of
#      downloaded .debs is kept in the cache between runs (downloads only,
#      nothing installed).
#   3. A clean `git clone` of this checkout's HEAD goes to /root/portguard
#      (uncommitted changes are not in it, and a warning says so).
#   4. In a private mount and PID namespace: /proc, /dev (a tmpfs with the
#      usual nodes, so this machine's /dev/log is not shared), /dev/pts and
#      /sys are mounted, then, in the root, exactly what README.md tells a new
#      user: `apt-get install make`, `make demo`, `make check`. The mounts are
#      unmounted on every exit path (success, failure, SIGINT and SIGTERM);
#      should the inner shell die before its trap runs, the kernel drops them
#      with the namespace, and this script checks that none is left.
#
# Ends with the `portguard: N passed, N failed` line of the inner make check
# (a make demo that did not see every session as expected counts as one more
# failure); exits non-zero when make demo or make check failed, or when a
# package could not be fetched. Needs root and access to the Debian mirror of
# this machine's apt sources. Environment: PG_FRESH_CACHE (default OUT/cache),
# PG_FRESH_KEEP=1 keeps the root after a successful run.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. packaging/lib.sh

OUT=${1:-build/fresh}
case $OUT in /*) ;; *) OUT=$top/$OUT ;; esac
CACHE=${PG_FRESH_CACHE:-$OUT/cache}
CODENAME=bookworm
ROOT=$OUT/root
LOG=$OUT/fresh.log
SRC=/root/portguard

say() { echo "fresh-check: $*"; }
give_up() {
	say "$*" >&2
	echo "portguard: 0 passed, 1 failed"
	exit 1
}
[ "$(id -u)" = 0 ] || give_up "must run as root (debootstrap, chroot, mounts)"
sh tests/deps.sh debootstrap git util-linux ||
	give_up "could not install debootstrap and git on this machine"

# mounts_under DIR: mount points at or below DIR, deepest first.
mounts_under() {
	findmnt -rn -o TARGET | awk -v d="$1" 'index($0, d "/") == 1 || $0 == d' | sort -r
}
umount_under() {
	for m in $(mounts_under "$1"); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

# 1. The minbase tarball, made once per cache.
base=$CACHE/$CODENAME-minbase.tar
mkdir -p "$CACHE/archives/partial" "$OUT"
if [ ! -s "$base" ]; then
	mirror=$(debian_mirror "$CODENAME" | head -n 1)
	[ -n "$mirror" ] || give_up "no Debian mirror for $CODENAME in this machine's apt sources"
	mk=$CACHE/mk
	umount_under "$mk"
	rm -rf --one-file-system "$mk"
	say "debootstrap --variant=minbase $CODENAME (once per cache, about a minute)"
	pg_timeout 900 debootstrap --variant=minbase "$CODENAME" "$mk" "$mirror" >"$OUT/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$OUT/debootstrap.log" >&2; rm -rf --one-file-system "$mk"; give_up "debootstrap failed (log: $OUT/debootstrap.log)"; }
	chroot "$mk" apt-get clean
	tar -C "$mk" -cf "$base.tmp" . && mv "$base.tmp" "$base" || give_up "could not write $base"
	rm -rf --one-file-system "$mk"
fi

# 2. A fresh root from it, with this machine's apt sources and settings.
umount_under "$ROOT"
[ -z "$(mounts_under "$ROOT")" ] || give_up "something is still mounted under $ROOT"
rm -rf --one-file-system "$ROOT"
mkdir -p "$ROOT"
tar -C "$ROOT" -xf "$base" || give_up "could not unpack $base"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1 || ls /etc/apt/sources.list.d/*.list >/dev/null 2>&1; then
	rm -f "$ROOT/etc/apt/sources.list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && cp "$f" "$ROOT$f"
	done
fi
for f in /etc/apt/apt.conf.d/*; do
	# docker-clean deletes downloaded .debs after each install: the cache
	# below is the point.
	case ${f##*/} in docker-clean) continue ;; esac
	[ -f "$f" ] && cp "$f" "$ROOT/etc/apt/apt.conf.d/"
done
pkgs_before=$(chroot "$ROOT" dpkg-query -W -f '${binary:Package}\n' | wc -l)

# 3. A clean clone of HEAD.
head=$(git rev-parse --short HEAD) || give_up "not a git checkout: fresh-check tests a clone of HEAD"
[ -z "$(git status --porcelain --untracked-files=no)" ] ||
	say "warning: uncommitted changes are not tested; the root gets a clone of HEAD ($head)"
git clone -q --no-hardlinks "$top" "$ROOT$SRC" || give_up "git clone into the root failed"
rm -rf "$ROOT$SRC/build"

# 4. The README's commands in the root, in a private mount and PID namespace.
# The inner shell is PID 1 there: on SIGTERM it ends everything else in the
# namespace, unmounts, and exits.
# shellcheck disable=SC2016 # expanded by the inner shell
inner='
R=$1 CACHE=$2 SRC=$3
child=
cleanup() {
	[ "$$" = 1 ] && kill -KILL -1 2>/dev/null
	done_m=
	for m in "$R/var/cache/apt/archives" "$R/dev/shm" "$R/dev/pts" "$R/dev" "$R/sys" "$R/proc"; do
		mountpoint -q "$m" || continue
		umount "$m" 2>/dev/null || umount -l "$m"
		done_m="$done_m ${m#"$R"}"
	done
	echo "fresh-check: unmounted$done_m"
}
trap cleanup EXIT
trap "echo \"fresh-check: interrupted\"; exit 143" TERM INT
set -e
mount -t proc proc "$R/proc"
mount -t sysfs -o ro sysfs "$R/sys"
mount -t tmpfs -o mode=0755,nosuid,size=64m fresh-dev "$R/dev"
mknod -m 0666 "$R/dev/null" c 1 3
mknod -m 0666 "$R/dev/zero" c 1 5
mknod -m 0666 "$R/dev/full" c 1 7
mknod -m 0666 "$R/dev/random" c 1 8
mknod -m 0666 "$R/dev/urandom" c 1 9
mknod -m 0666 "$R/dev/tty" c 5 0
ln -s /proc/self/fd "$R/dev/fd"
ln -s /proc/self/fd/0 "$R/dev/stdin"
ln -s /proc/self/fd/1 "$R/dev/stdout"
ln -s /proc/self/fd/2 "$R/dev/stderr"
mkdir "$R/dev/pts" "$R/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$R/dev/pts"
ln -s pts/ptmx "$R/dev/ptmx"
mount -t tmpfs -o mode=1777,nosuid,nodev fresh-shm "$R/dev/shm"
mount --bind "$CACHE/archives" "$R/var/cache/apt/archives"
set +e
chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	/bin/sh -c "
		cd $SRC || exit 2
		echo \"== fresh root: \$(. /etc/os-release && echo \$PRETTY_NAME)\"
		echo \"== README, before make: apt-get install make\"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends make >/dev/null ||
			{ echo \"fresh-check: apt-get install make failed\"; exit 1; }
		echo \"== make demo\"
		make demo
		demo_rc=\$?
		echo \"== make check\"
		make check
		check_rc=\$?
		echo \"fresh-check: make demo exited \$demo_rc, make check exited \$check_rc\"
		[ \$demo_rc = 0 ] && [ \$check_rc = 0 ]
	" </dev/null &
child=$!
wait "$child"
rc=$?
exit "$rc"
'
say "root $ROOT: Debian $CODENAME minbase, $pkgs_before packages; clone of $head in $SRC"
start=$(date +%s)
: >"$LOG"
unshare --mount --pid --fork --kill-child=TERM --propagation private \
	sh -c "$inner" fresh "$ROOT" "$CACHE" "$SRC" >"$LOG" 2>&1 </dev/null &
upid=$!
tail -n +1 -f --pid="$upid" "$LOG" &
tpid=$!
# On SIGTERM or SIGINT: hand it to the namespace's PID 1, whose trap ends
# the rest and unmounts.
stop_inner() {
	for c in $(pgrep -P "$upid" 2>/dev/null); do
		kill -TERM "$c" 2>/dev/null
	done
}
trap 'say "stopping (signal)"; stop_inner; wait "$upid"; wait "$tpid"; umount_under "$ROOT"; echo "portguard: 0 passed, 1 failed"; exit 143' TERM INT
wait "$upid"
rc=$?
wait "$tpid"
trap - TERM INT

left=$(mounts_under "$ROOT")
if [ -n "$left" ]; then
	say "still mounted after the run (unmounting now): $left" >&2
	umount_under "$ROOT"
	rc=1
fi
say "took $(($(date +%s) - start)) s; log: $LOG"

demo_line=$(grep -E '^demo: [0-9]+ of [0-9]+ sessions as expected$' "$LOG" | tail -n 1)
check_line=$(grep -E '^portguard: [0-9]+ passed, [0-9]+ failed$' "$LOG" | tail -n 1)
say "make demo in the fresh root: ${demo_line:-no demo summary (it did not finish)}"
say "make check in the fresh root: ${check_line:-no check summary (it did not finish)}"
passed=$(printf '%s\n' "$check_line" | sed -n -E 's/^portguard: ([0-9]+) passed.*/\1/p')
failed=$(printf '%s\n' "$check_line" | sed -n -E 's/.* ([0-9]+) failed$/\1/p')
passed=${passed:-0}
failed=${failed:-0}
[ -z "$check_line" ] && failed=$((failed + 1))
case $demo_line in
"demo: "*" of "*)
	d_ok=$(echo "$demo_line" | awk '{ print $2 }')
	d_n=$(echo "$demo_line" | awk '{ print $4 }')
	[ "$d_ok" = "$d_n" ] || failed=$((failed + 1))
	;;
*) failed=$((failed + 1)) ;;
esac
[ "$rc" != 0 ] && [ "$failed" = 0 ] && failed=1
if [ "$failed" = 0 ] && [ "${PG_FRESH_KEEP:-0}" != 1 ]; then
	rm -rf --one-file-system "$ROOT"
fi
echo "portguard: $passed passed, $failed failed"
[ "$failed" = 0 ]
