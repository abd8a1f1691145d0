#!/bin/sh
# tests/mtafacts/run.sh - facts from the MTA, end to end (issue "The MTA is
# the source of truth"): portguard takes its local domains, trusted networks
# and origin domain from a private Postfix (postconf/postmap: inline values,
# a hash: table, a list file) and a private Sendmail (class w from
# local-host-names, $j), refuses an unlistable table and an enforcing relay
# port without any local domain, warns when its own lists differ from the
# MTA's, and picks up a domain added to the MTA on reload (a session to it
# refused before, accepted after, the reload summary naming it). -n and the
# reload run as the unprivileged user.
#
# Uses tests/e2e/lib.sh, tests/sendmail/lib.sh and the shared cases of
# tests/lib/ (t_begin .. t_end count into T_PASSED and T_FAILED); ports
# 13200-13299 only (13225 Postfix, 13250-13257 Sendmail). Run as root under
# the shared lock (tests/run.sh does it for "make check").
set -u
B=${1:-build/san}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
. tests/e2e/lib.sh

t_needs mtafacts "Postfix's master process runs as root" postfix postconf postmap swaks openssl ss runuser

P_MX=13225
E2E_PORTS=$P_MX
UNTRUSTED="--local-interface 127.0.0.2"

e2e_init "$top" "$B"
# The daemons run as root and drop to nobody, and -n runs as nobody too:
# give nobody a copy of the binaries it can reach.
cp "$E2E_B/portguard-policyd" "$E2E_D/portguard-policyd" || e2e_setup_fail "copy binary"
PG_BIN=$E2E_D/portguard-policyd

# ---------------------------------------------------------------- Postfix

# The MTA's facts: inline values (mydestination, with $myhostname expanded),
# a hash: table (relay_domains) and a list file (virtual_alias_domains).
mkdir -p "$PF" "$PF_Q" "$E2E_D/data" || e2e_setup_fail "mkdir $PF"
chown postfix "$E2E_D/data"
printf 'relayed.test OK\n' >"$PF/relay_domains"
printf '# alias domains\nalias.test\n' >"$PF/alias_domains"
mt_main_cf() { # mt_main_cf [EXTRA-LINES]
	_rr=$(pf_relay_restrictions) || return 1
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/mtafacts/run.sh)
$(pf_main_cf_base)
mydestination = \$myhostname, inline.test
relay_domains = hash:$PF/relay_domains
virtual_alias_domains = $PF/alias_domains
virtual_alias_maps = inline:{ u@alias.test=u@inline.test }
mynetworks = 127.0.0.1/32
smtpd_relay_restrictions = $_rr
${1:-}
EOF
}
mt_main_cf || e2e_setup_fail "main.cf"
postmap -c "$PF" "hash:$PF/relay_domains" || e2e_setup_fail "postmap"
cat >"$PF/master.cf" <<EOF
127.0.0.1:$P_MX inet n - n - - smtpd
  -o syslog_name=postfix/mtafacts
EOF
pf_internal_services >>"$PF/master.cf"
chmod -R go+rX "$PF"

# mt_conf FILE MODE [RELAY-KEYS]: a portguard.conf taking facts from $PF
# (RELAY-KEYS replace the empty trusted_networks).
mt_conf() {
	cat >"$1" <<EOF
state_directory = "";
mode = "$2";
user = "nobody";
group = "postfix";
log = { level = "info"; stats_interval = 0; };
relay = {
  from_mta = "postfix";
  postfix_config_directory = "$PF";
  ${3:-trusted_networks = [ ];}
};
ports = ( { port = $P_MX; role = "relay"; } );
policyd = { listen = [ "unix:$PG_SOCK" ]; socket_mode = "0660"; };
EOF
	chmod 0644 "$1"
}

# check NAME CONF WANT-RC ERE [AS]: portguard-policyd -n on CONF (as user AS
# when given) exits WANT-RC (0 or "fail") and prints a line matching ERE.
check() {
	t_begin "$1"
	_out=$E2E_D/$1.out
	if [ -n "${5:-}" ]; then
		runuser -u "$5" -- "$PG_BIN" -n -c "$2" >"$_out" 2>&1
	else
		"$PG_BIN" -n -c "$2" >"$_out" 2>&1
	fi
	_rc=$?
	case $3 in
	0) [ "$_rc" = 0 ] || t_fail "-n exited $_rc, want 0" ;;
	*) [ "$_rc" != 0 ] || t_fail "-n exited 0, want an error" ;;
	esac
	grep -q -E -- "$4" "$_out" || t_fail "-n printed no line matching /$4/: $(cat "$_out")"
}

# refused_start NAME CONF ERE: a start with CONF exits non-zero, logging ERE.
refused_start() {
	t_begin "$1"
	_out=$E2E_D/$1.start
	timeout 20 "$PG_BIN" -f -e -c "$2" >"$_out" 2>&1
	_rc=$?
	[ "$_rc" != 0 ] && [ "$_rc" != 124 ] || t_fail "start exited $_rc, want a config error"
	grep -q -E -- "$3" "$_out" || t_fail "start logged no line matching /$3/: $(cat "$_out")"
	[ -S "$PG_SOCK" ] && t_fail "a socket was created"
	t_end
}

C=$E2E_D/conf
mkdir -p "$C" && chmod 0755 "$C"

# -- -n: the facts read, as root and as the unprivileged user
mt_conf "$C/good.conf" enforce
check pf_check_ok "$C/good.conf" 0 "configuration OK"
grep -q warning "$E2E_D/pf_check_ok.out" && t_fail "warnings: $(cat "$E2E_D/pf_check_ok.out")"
t_end
check pf_check_ok_as_nobody "$C/good.conf" 0 "configuration OK" nobody
t_end

# -- an unlistable table: -n and start refuse it and say what to do
mt_main_cf "virtual_mailbox_domains = mysql:$PF/mysql-domains.cf"
check pf_unlistable_check "$C/good.conf" fail \
	"relay.from_mta: Postfix virtual_mailbox_domains: \"mysql:$PF/mysql-domains.cf\" is a mysql: table; portguard cannot list the entries of such a table; list those domains in relay.local_domains_file"
t_end
refused_start pf_unlistable_start "$C/good.conf" "Postfix virtual_mailbox_domains: \"mysql:.*local_domains_file"
mt_main_cf "virtual_mailbox_domains = proxy:ldap:$PF/ldap.cf"
check pf_unlistable_proxy_check "$C/good.conf" fail "\"proxy:ldap:$PF/ldap.cf\" is a proxy: table"
t_end
mt_main_cf || e2e_setup_fail "main.cf"

# -- portguard's own lists differ from Postfix's: warned about, by name
mt_conf "$C/drift.conf" enforce 'local_domains = [ "inline.test", "handonly.test" ];
  trusted_networks = [ "127.0.0.0/8" ];'
check pf_drift_warned "$C/drift.conf" 0 \
	"warning: relay: local domains listed in portguard's configuration but not by Postfix: handonly.test"
grep -q -E "warning: relay: local domains listed by Postfix but not in portguard's configuration \(portguard uses them too\): alias.test, mx.example.test, relayed.test" "$E2E_D/pf_drift_warned.out" ||
	t_fail "no warning naming Postfix's own domains: $(cat "$E2E_D/pf_drift_warned.out")"
grep -q -E "warning: relay: trusted networks listed in portguard's configuration but not by Postfix \(mynetworks\): 127.0.0.0/8" "$E2E_D/pf_drift_warned.out" ||
	t_fail "no warning about trusted networks: $(cat "$E2E_D/pf_drift_warned.out")"
t_end

# -- no local domain at all on an enforcing relay port: refused, with what to set
cat >"$C/empty.conf" <<EOF
state_directory = "";
user = "nobody";
relay = { from_mta = "none"; local_domains = [ ]; };
ports = ( { port = $P_MX; role = "relay"; } );
policyd = { listen = [ "unix:$PG_SOCK" ]; };
EOF
chmod 0644 "$C/empty.conf"
check empty_domains_enforce_check "$C/empty.conf" fail \
	"empty.conf:4: no local domain is known, yet port $P_MX \(role relay, mode enforce\) would refuse every inbound message as relaying: set relay.from_mta = \"postfix\""
t_end
refused_start empty_domains_enforce_start "$C/empty.conf" "no local domain is known"
sed -e 's/role = "relay";/role = "relay"; mode = "monitor";/' "$C/empty.conf" >"$C/empty-monitor.conf"
chmod 0644 "$C/empty-monitor.conf"
check empty_domains_monitor_ok "$C/empty-monitor.conf" 0 "configuration OK"
t_end

# -- sessions through Postfix with the facts, then a reload that adds a domain
pf_start || e2e_setup_fail "private Postfix did not start"
cp "$C/good.conf" "$PG_CONF"
pg_start || e2e_setup_fail "portguard-policyd did not start"

# session NAME RCPT accepted|refused
session() {
	t_begin "$1"
	t_swaks --port "$P_MX" $UNTRUSTED --to "$2"
	if [ "$3" = accepted ]; then
		t_reply "^250 "
		t_nolog "reject:"
	else
		t_reply "^554 5\.7\.1 .*Relay access denied"
		t_log "reject: port=$P_MX role=relay mode=enforce .*rule=relay"
	fi
}
session pf_inline_value_local "user@inline.test" accepted
t_end
session pf_expanded_value_local "user@mx.$E2E_DOMAIN" accepted
t_end
session pf_hash_table_local "user@relayed.test" accepted
t_end
session pf_list_file_local "u@alias.test" accepted
t_end
session pf_remote_refused "user@remote.example" refused
t_end
session pf_before_reload_refused "user@added.test" refused
t_end

printf 'added.test OK\n' >>"$PF/relay_domains"
postmap -c "$PF" "hash:$PF/relay_domains" && chmod go+r "$PF/relay_domains.db"
postfix -c "$PF" reload >/dev/null 2>&1
t_begin pf_reload_summary_names_domain
pg_signal HUP "reloaded: " || t_fail "no reload line"
t_log "reload: local domains 4 -> 5; added 1: added.test; removed 0"
t_nolog "reload failed"
pg_check_dropped
t_end
session pf_after_reload_accepted "user@added.test" accepted
t_end

# a reload whose MTA cannot be read keeps the running lists and says why
mt_main_cf "virtual_mailbox_domains = ldap:$PF/ldap.cf"
t_begin pf_reload_unreadable_keeps_lists
pg_signal HUP "reload failed" || t_fail "no reload-failed line"
t_log "reload failed: .*Postfix virtual_mailbox_domains: \"ldap:$PF/ldap.cf\" is a ldap: table.*keeping the running configuration"
t_end
session pf_after_failed_reload_still_accepted "user@added.test" accepted
t_end
mt_main_cf
pg_stop
pf_stop

# ---------------------------------------------------------------- Sendmail

SM_TOP=$top
# sendmail/lib.sh sources tests/lib/case.sh again, which zeroes the counts.
_passed=$T_PASSED _failed=$T_FAILED
. tests/sendmail/lib.sh
T_PASSED=$_passed T_FAILED=$_failed
SM_PORT_MTA=13250
SM_PORT_MSA=13251
SM_PORT_SMTPS=13252
SM_PORT_ALT=13253
SM_PORT_MX2=13254
SM_PORT_MON=13255
SM_PORT_UNK=13256
SM_PORT_BAD=13257
t_needs mtafacts "Sendmail binds and runs as root" m4 dpkg apt-get unshare saslpasswd2
sm_all_cleanup() {
	sm_cleanup
	e2e_cleanup
}
trap sm_all_cleanup EXIT
if command -v flock >/dev/null 2>&1; then
	exec 9>"${TMPDIR:-/tmp}/portguard-sendmail-tests.lock"
	flock -w 300 9 || {
		echo "FAIL: mtafacts sendmail setup (another Sendmail test run holds the lock for 300 s)"
		exit 1
	}
fi
if ! sm_init "$B" || ! sm_write_mc milter || ! sm_build_cf; then
	echo "FAIL: mtafacts sendmail setup (see messages above)"
	exit 1
fi
# The shared case helpers, now on the milter's log and Sendmail's sandbox.
PG_LOG=$SM_DIR/milter.log
: >"$PG_LOG"
T_DIR=$SM_DIR/t
T_FROM="alice@$SM_DOMAIN"
T_HELO=client.example
# class w from the file: the domain only; the host name is local through $j
# (Dj in the .cf) alone.
printf '%s\n' "$SM_DOMAIN" >"$SM_DIR/local-host-names"
t_begin sm_cf_has_dj_and_fw
grep -q "^Dj$SM_HOST\$" "$SM_DIR/test.cf" || t_fail "no Dj$SM_HOST line"
grep -q -E "^Fw(-o )?$SM_DIR/local-host-names" "$SM_DIR/test.cf" || t_fail "no Fw line"
t_end
cp "$E2E_B/portguard-milter" "$SM_DIR/portguard-milter" || exit 1
SMBIN=$SM_DIR/portguard-milter
cat >"$SM_DIR/mtafacts.conf" <<EOF
state_directory = "";
mode = "enforce";
user = "nobody";
log = { level = "info"; stats_interval = 0; };
relay = {
  from_mta = "sendmail";
  sendmail_cf = "$SM_DIR/test.cf";
  trusted_networks = [ "127.0.0.1/32" ];
};
ports = ( { port = $SM_PORT_MTA; name = "MTA"; role = "relay"; } );
milter = { listen = "unix:$SM_DIR/milter"; socket_mode = "0660"; };
EOF
chmod 0644 "$SM_DIR/mtafacts.conf"

t_begin sm_check_ok_as_nobody
_out=$SM_DIR/t/sm_check
runuser -u nobody -- "$SMBIN" -n -c "$SM_DIR/mtafacts.conf" >"$_out" 2>&1 ||
	t_fail "-n as nobody failed: $(cat "$_out")"
grep -q "configuration OK" "$_out" || t_fail "no OK line: $(cat "$_out")"
t_end

if ! sm_start || ! pg_milter_start "$SMBIN" "$SM_DIR/mtafacts.conf"; then
	echo "FAIL: mtafacts sendmail start (see messages above)"
	exit 1
fi
# sm_session NAME RCPT accepted|refused
sm_session() {
	t_begin "$1"
	t_swaks --port "$SM_PORT_MTA" $UNTRUSTED --to "$2"
	if [ "$3" = accepted ]; then
		t_reply "^250 .*(queued|Message accepted)"
	else
		t_reply "^554 5\.7\.1 .*Relay access denied"
	fi
	t_end
}
sm_session sm_class_w_file_local "root@$SM_DOMAIN" accepted
sm_session sm_dj_local "root@$SM_HOST" accepted
sm_session sm_remote_refused "user@remote.example" refused
sm_session sm_before_reload_refused "user@new.pg-added.test" refused

echo "new.pg-added.test" >>"$SM_DIR/local-host-names"
t_begin sm_reload_summary_names_domain
_n=$(grep -c "reloaded: " "$SM_DIR/milter.log")
kill -USR1 "$SM_MILTER_PID"
t_wait 100 sh -c '[ "$(grep -c "reloaded: " "$1")" -gt "$2" ]' sh "$SM_DIR/milter.log" "$_n" ||
	t_fail "no reload line"
grep -q -E "reload: local domains [0-9]+ -> [0-9]+; added 1: new.pg-added.test; removed 0" "$SM_DIR/milter.log" ||
	t_fail "no reload summary naming new.pg-added.test: $(tail -n 5 "$SM_DIR/milter.log")"
t_end
sm_session sm_after_reload_accepted "user@new.pg-added.test" accepted
echo "mtafacts: $T_PASSED passed, $T_FAILED failed"
[ "$T_FAILED" = 0 ]
