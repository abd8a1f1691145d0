#!/bin/sh
# Install the Debian packages portguard's build and tests need (or the ones
# given as arguments), when they are missing. Runs as root on a fresh Debian
# 12 machine; as another user it only reports what is missing. Never starts a system MTA: policy-rc.d refuses
# service starts during the install, and is removed again afterwards if we
# created it.
set -eu

PKGS="build-essential pkgconf libconfig-dev libssl-dev check libmilter-dev \
postfix swaks libnet-ssleay-perl libio-socket-inet6-perl libauthen-sasl-perl \
sasl2-bin libsasl2-modules openssl miltertest m4 libwrap0 rsyslog \
procps iproute2 python3 clang libclang-rt-14-dev fail2ban \
prometheus prometheus-node-exporter curl \
zlib1g-dev libsystemd-dev python3-jsonschema pflogsumm systemd-journal-remote"

# Arguments replace the list (packaging/deps.sh passes the packaging tools).
if [ $# -gt 0 ]; then
	PKGS="$*"
fi

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
echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections
made_rc=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 0755 /usr/sbin/policy-rc.d
	made_rc=1
fi
rc=0
apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null || rc=$?
[ "$made_rc" = 1 ] && rm -f /usr/sbin/policy-rc.d
if [ "$rc" != 0 ]; then
	echo "portguard: apt-get install failed ($rc) for:$missing" >&2
	exit 1
fi
