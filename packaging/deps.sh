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

# The one installer (missing-package check, non-interactive apt-get, no
# service started during the install) is tests/deps.sh.
# shellcheck disable=SC2086
exec sh "$(dirname "$0")/../tests/deps.sh" $PKGS
