#!/bin/sh
# tests/scale/run.sh BUILD_DIR - a hosting provider's table through a real
# Postfix: 1,000,000 local domains in local_domains_file (issue 13).
#
# A private Postfix on 127.0.0.1:17025 asks portguard-policyd at RCPT; its
# own relay check lets every *.example pass: portguard alone decides. Sessions from 127.0.0.2
# (untrusted): a listed domain is accepted, an unlisted one refused (the
# reply and the log line). Then a SIGHUP reload, while sessions keep running,
# swaps a file in which added-domain.example took the last domain's place
# (the file stays at 1,000,000, the limit): no session fails or is deferred
# during the reload, the reload logs what changed, and afterwards the added
# domain is accepted and the removed one refused.
#
# The Postfix and portguard harness is tests/e2e/lib.sh, used read-only; only
# the port (17000-17099, this layer's range) and the Postfix instance's
# main.cf/master.cf are this file's. Prints "PASS: name" / "FAIL: name".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh

t_needs scale "Postfix's master process runs as root" postfix postconf swaks ss

P_RELAY=17025
E2E_PORTS="$P_RELAY"
NDOMAINS=1000000

e2e_init "$top" "${1:-build/san}"
DOMAINS=$E2E_D/domains

# The Postfix instance: portguard first, DEFER when it does not answer;
# Postfix's own relay check passes every *.example (relay_domains), so
# portguard alone decides for the test's domains.
scale_pf_create() {
	mkdir -p "$PF" "$PF_Q" "$E2E_D/data" || return 1
	chown postfix "$E2E_D/data"
	cat >"$PF/main.cf" <<EOF
# Private test instance (tests/scale/run.sh).
$(pf_main_cf_base)
mydestination = $E2E_DOMAIN, localhost
mynetworks = 127.0.0.1/32
# every *.example is Postfix's to relay: portguard alone tells listed from not
relay_domains = example, .example
smtpd_banner = \$myhostname ESMTP portguard-scale
smtpd_relay_restrictions = check_policy_service { unix:$PG_SOCK, default_action=DEFER },
  permit_mynetworks, reject_unauth_destination
EOF
	cat >"$PF/master.cf" <<EOF
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$P_RELAY inet n - n - - smtpd
  -o syslog_name=postfix/scale-relay
EOF
	pf_internal_services >>"$PF/master.cf"
}

scale_conf() {
	{
		echo "# tests/scale portguard.conf"
		pg_conf_head enforce info "" |
			sed "s|^  local_domains = .*|  local_domains_file = \"$DOMAINS\";|"
		cat <<EOF
ports = ( { port = $P_RELAY; role = "relay"; } );
policyd = { listen = [ "unix:$PG_SOCK" ]; socket_mode = "0660"; };
EOF
	} >"$PG_CONF"
	chmod 0644 "$PG_CONF"
}

# scale_rcpt RCPT: one session from 127.0.0.2 (untrusted) up to RCPT.
scale_rcpt() {
	t_swaks --port "$P_RELAY" --local-interface 127.0.0.2 --to "$1" --quit-after RCPT
}

awk -v n="$NDOMAINS" 'BEGIN { for (i = 0; i < n; i++) printf "customer%d.example\n", i }' \
	>"$DOMAINS" || e2e_setup_fail "could not write $DOMAINS"
chmod 0644 "$DOMAINS"
scale_pf_create || e2e_setup_fail "could not create the Postfix test instance"
scale_conf
pg_start || e2e_setup_fail "portguard-policyd did not start"
pf_start || e2e_setup_fail "Postfix did not start"

t_begin "scale: a domain listed among 1,000,000 is accepted through Postfix"
scale_rcpt "user@Customer777777.example"
t_reply '^250 '
t_log "pass: port=$P_RELAY .*rcpt=<user@Customer777777.example>"
t_end

t_begin "scale: an unlisted domain is refused through Postfix"
scale_rcpt "user@customer$NDOMAINS.example"
t_reply '^554 5\.7\.1 .*Recipient address rejected: Relay access denied'
t_log "reject: port=$P_RELAY .*rcpt=<user@customer$NDOMAINS.example> rule=relay"
t_end

t_begin "scale: added-domain.example is refused before the reload"
scale_rcpt "user@added-domain.example"
t_reply '^554 5\.7\.1 '
t_end

# Sessions in a loop until the reload is done (and at least 6), each one
# recorded as ok (250 at RCPT) or failed.
scale_sessions() {
	_i=0
	while [ "$_i" -lt 6 ] || [ ! -e "$E2E_D/reloaded" ]; do
		_i=$((_i + 1))
		_out=$T_DIR/during-$1-$_i.txt
		timeout 30 swaks --server 127.0.0.1 --port "$P_RELAY" --timeout 10 \
			--local-interface 127.0.0.2 --helo client.example.net --from s@example.net \
			--to "u$_i@customer$((_i * 1000 + $1)).example" --quit-after RCPT >"$_out" 2>&1
		if grep -q -E '^<- +250 2\.1\.5 ' "$_out"; then
			echo ok >>"$E2E_D/sessions"
		else
			echo "failed $_out" >>"$E2E_D/sessions"
		fi
		[ "$_i" -lt 2000 ] || break
	done
}

t_begin "scale: a SIGHUP reload of 1,000,000 domains while sessions run: none fails, the added domain counts"
: >"$E2E_D/sessions"
scale_sessions 1 &
s1=$!
scale_sessions 2 &
s2=$!
t_wait 100 test -s "$E2E_D/sessions" || t_fail "no session completed before the reload"
before=$(wc -l <"$E2E_D/sessions")
sed "\$ s/.*/added-domain.example/" "$DOMAINS" >"$DOMAINS.new" && chmod 0644 "$DOMAINS.new" &&
	mv -f "$DOMAINS.new" "$DOMAINS"
pg_signal HUP 'reloaded: ' || t_fail "no 'reloaded:' line after SIGHUP"
touch "$E2E_D/reloaded"
wait "$s1" "$s2"
total=$(wc -l <"$E2E_D/sessions")
ok=$(grep -c '^ok$' "$E2E_D/sessions")
[ "$ok" = "$total" ] || t_fail "$((total - ok)) of $total sessions failed: $(grep '^failed' "$E2E_D/sessions" | head -n 3)"
[ "$total" -gt "$before" ] || t_fail "no session ran during the reload ($before before, $total in all)"
t_log "reload: local domains $NDOMAINS -> $NDOMAINS; added 1: added-domain.example; removed 1: customer$((NDOMAINS - 1)).example"
t_nolog "reload failed"
echo "    ($total sessions, $((total - before)) of them during or after the reload)"
t_end

t_begin "scale: after the reload the added domain is accepted"
scale_rcpt "user@added-domain.example"
t_reply '^250 '
t_end

t_begin "scale: after the reload the removed domain is refused"
scale_rcpt "user@customer$((NDOMAINS - 1)).example"
t_reply '^554 5\.7\.1 '
t_end

pg_stop
[ "$PG_RC" = 0 ] || echo "FAIL: scale: portguard-policyd exited $PG_RC after SIGTERM"
[ "$PG_RC" = 0 ] || T_FAILED=$((T_FAILED + 1))
[ "$T_FAILED" = 0 ] || exit 1
exit 0
