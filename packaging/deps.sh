#!/bin/sh
# Install the Debian packages the packaging targets need, when missing.
#   deps.sh deb | rpm | check
# As root on Debian: apt-get install them (non-interactive). As another user:
# say what is missing and fail.
set -eu

BUILD="build-essential pkgconf libconfig-dev libssl-dev libmilter-dev check"
case ${1:-check} in
deb) PKGS="$BUILD debhelper dpkg-dev fakeroot" ;;
rpm) PKGS="$BUILD rpm" ;;
check) PKGS="$BUILD debhelper dpkg-dev fakeroot rpm lintian rpmlint debootstrap \
systemd devscripts cpio" ;;
*) echo "usage: deps.sh deb|rpm|check" >&2; exit 2 ;;
esac

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "portguard: missing Debian packages:$missing" >&2
	echo "portguard: install them as root (apt-get install$missing) and run again" >&2
	exit 1
fi
echo "portguard: installing missing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
