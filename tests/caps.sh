#!/bin/sh
# tests/caps.sh - check, before any test layer or the demo runs, that the
# tools the layers drive can do what the layers ask of them. A package can be
# installed and still lack a feature (swaks speaks TLS only with Net::SSLeay,
# a Recommends that --no-install-recommends leaves out): without this check
# such a gap shows up as dozens of failed cases with no reply at all.
#
#   sh tests/caps.sh [demo|check]     (default: check)
#
# One line per missing package, naming the first capability found missing
# and the Debian package that brings it, then exit 1. Silent and exit 0 when
# everything is there.
# tests/deps.sh installs the packages; this proves they do their job.
set -u

what=${1:-check}
missing=0
reported=" "

# need CAPABILITY PACKAGE COMMAND...: the command succeeds when the
# capability is there.
need() {
	_cap=$1
	_pkg=$2
	shift 2
	case $reported in *" $_pkg "*) return 0 ;; esac
	if ! "$@" >/dev/null 2>&1; then
		echo "portguard: missing capability: $_cap; the Debian package $_pkg brings it" >&2
		missing=$((missing + 1))
		reported="$reported$_pkg "
	fi
}

# swaks_can FEATURE: swaks --support says "=== FEATURE supported".
swaks_can() {
	command -v swaks >/dev/null && swaks --support 2>&1 | grep -qx "=== $1 supported"
}
# sasl_server_mech MECH: Cyrus SASL can offer MECH on the server side.
sasl_server_mech() {
	saslpluginviewer -s 2>/dev/null | sed -n '2p' | tr ' ' '\n' | grep -qx "$1"
}
# sasl_auxprop NAME: Cyrus SASL has the auxprop plugin NAME (the password store).
sasl_auxprop() {
	saslpluginviewer -a 2>/dev/null | grep -q "Plugin \"$1\""
}
# cc_builds CC FLAGS...: a one-line program compiles and links.
cc_builds() {
	_cc=$1
	shift
	_d=$(mktemp -d) || return 1
	printf '%s\n' "$CAPS_SRC" >"$_d/t.c"
	"$_cc" "$@" -o "$_d/t" "$_d/t.c"
	_rc=$?
	rm -rf "$_d"
	return "$_rc"
}
has_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }

# What the build needs (make all).
CAPS_SRC='int main(void) { return 0; }'
need "a C compiler that links a program (cc)" build-essential cc_builds cc
need "pkg-config" pkgconf command -v pkg-config
need "libconfig headers (pkg-config libconfig)" libconfig-dev pkg-config --exists libconfig
need "OpenSSL headers (pkg-config libssl)" libssl-dev pkg-config --exists libssl libcrypto
need "libmilter headers (libmilter/mfapi.h)" libmilter-dev test -f /usr/include/libmilter/mfapi.h

# What the demo needs: a private Postfix with TLS and SASL, swaks with TLS.
need "Postfix (postconf)" postfix command -v postconf
need "Postfix built with Cyrus SASL (postconf -a lists cyrus)" postfix sh -c 'postconf -a | grep -qx cyrus'
need "swaks" swaks command -v swaks
need "swaks speaking TLS (swaks --support: TLS)" libnet-ssleay-perl swaks_can TLS
need "swaks basic AUTH (swaks --support: Basic AUTH)" swaks swaks_can "Basic AUTH"
need "SASL server mechanism PLAIN (saslpluginviewer -s)" libsasl2-modules sasl_server_mech PLAIN
need "SASL server mechanism LOGIN (saslpluginviewer -s)" libsasl2-modules sasl_server_mech LOGIN
need "SASL password store sasldb (saslpluginviewer -a)" libsasl2-modules-db sasl_auxprop sasldb
need "saslpasswd2" sasl2-bin command -v saslpasswd2
need "openssl (a throwaway certificate)" openssl command -v openssl
need "ss (listening sockets)" iproute2 command -v ss
need "pgrep and ps" procps command -v pgrep

if [ "$what" = check ]; then
	# What the other layers need.
	need "swaks over IPv6 (swaks --support: IPv6)" libio-socket-inet6-perl swaks_can IPv6
	need "swaks AUTH DIGEST-MD5 (swaks --support: AUTH DIGEST-MD5)" libauthen-sasl-perl swaks_can "AUTH DIGEST-MD5"
	need "Check unit-test framework (pkg-config check)" check pkg-config --exists check
	need "miltertest" miltertest command -v miltertest
	need "python3 (the policy protocol client)" python3 command -v python3
	need "rsyslogd (the syslog path test)" rsyslog command -v rsyslogd
	need "fail2ban-regex and Debian's stock postfix filter (the relay reply test)" fail2ban \
		sh -c 'command -v fail2ban-regex && test -f /etc/fail2ban/filter.d/postfix.conf'
	need "promtool check metrics (the metrics layer)" prometheus \
		sh -c 'printf "# HELP a_total A.\\n# TYPE a_total counter\\na_total 1\\n" | promtool check metrics'
	need "prometheus-node-exporter with the textfile collector (the metrics layer)" \
		prometheus-node-exporter sh -c 'prometheus-node-exporter --help 2>&1 | grep -q collector.textfile.directory'
	need "curl (one HTTP GET of node_exporter)" curl command -v curl
	need "systemd-journal-remote writing a journal file from export format (the report layer)" \
		systemd-journal-remote test -x /lib/systemd/systemd-journal-remote
	need "m4 (building sendmail.cf)" m4 command -v m4
	need "libwrap.so.0 (Sendmail's daemon links it)" libwrap0 has_lib libwrap.so.0
	need "unshare (Sendmail under its own host name)" util-linux command -v unshare
	need "apt-get download (Sendmail's package files)" apt command -v apt-get
	CAPS_SRC='#include <stdint.h>
#include <stddef.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }'
	need "clang" clang command -v clang
	need "clang's libFuzzer and sanitizer runtime (clang -fsanitize=fuzzer,address,undefined)" \
		libclang-rt-14-dev cc_builds clang -fsanitize=fuzzer,address,undefined
fi

[ "$missing" = 0 ]
