# tests/lib/logfilters.sh - the shipped fail2ban filter and logcheck rules
# (conf/fail2ban, conf/logcheck) on a log portguard really wrote.
#
# Source after tests/lib/common.sh. Functions only:
#   logfilters_syslog IN OUT STYLE   portguard's -e output ("portguard-X[pid]:
#                                    message") as rsyslog writes it: STYLE
#                                    "traditional" (Dec  2 04:06:20 mx ...) or
#                                    "rfc3339" (2026-12-02T04:06:20.000000+00:00 mx ...)
#   logfilters_check SYSLOG DIR      print one line per problem, nothing when
#                                    - fail2ban-regex with the filter matches
#                                      every relay refusal ("reject: ...
#                                      rule=relay") and every plaintext-AUTH
#                                      alarm of SYSLOG and nothing else: the
#                                      count is exact, and the rest matches 0;
#                                    - the logcheck rules (egrep -v) drop every
#                                      stats:, pass:, start/reload/stop, port:
#                                      and "listening on" line and keep every
#                                      reject, would-reject, warning and error
#                                      line.
# DIR is scratch space. T_TOP is the source tree.

LF_BAN_ERE=': reject: port=[^ ]+ role=[^ ]+ mode=[^ ]+ client=.* rule=relay reply="|: warning: credentials sent without TLS: '
LF_QUIET_ERE='\]: (stats: port=|[^ ]+: pass: port=|(starting|reloaded|stopping): daemon=|port: port=|listening on )'
LF_LOUD_ERE='\]: ([^ ]+: )?(reject|would-reject|warning|error): '

logfilters_syslog() {
	case $3 in
	rfc3339) _lf_ts=$(date -u '+%Y-%m-%dT%H:%M:%S.000000+00:00') ;;
	*) _lf_ts=$(LC_ALL=C date '+%b %e %H:%M:%S') ;;
	esac
	grep -E '^portguard-(policyd|milter)\[[0-9]+\]: ' "$1" | sed "s/^/$_lf_ts mx /" >"$2"
}

# lf_f2b FILE: how many lines of FILE the filter matched.
lf_f2b() {
	fail2ban-regex "$1" "$_lf_d/filter.d/portguard.conf" 2>&1 |
		sed -n -E 's/^Lines: [0-9]+ lines, [0-9]+ ignored, ([0-9]+) matched.*/\1/p'
}

logfilters_check() {
	_lf_log=$1 _lf_d=$2
	mkdir -p "$_lf_d/filter.d"
	cp /etc/fail2ban/filter.d/common.conf "$T_TOP/conf/fail2ban/filter.d/portguard.conf" \
		"$_lf_d/filter.d/"
	grep -E -- "$LF_BAN_ERE" "$_lf_log" >"$_lf_d/ban.log"
	grep -v -E -- "$LF_BAN_ERE" "$_lf_log" >"$_lf_d/noban.log"
	_lf_want=$(wc -l <"$_lf_d/ban.log")
	[ "$_lf_want" -gt 0 ] || echo "the log has no relay refusal or plaintext-AUTH alarm to test with"
	grep -q 'rule=relay' "$_lf_d/ban.log" || echo "the log has no relay refusal"
	grep -q 'credentials sent without TLS' "$_lf_d/ban.log" || echo "the log has no plaintext-AUTH alarm"
	_lf_got=$(lf_f2b "$_lf_log")
	[ "$_lf_got" = "$_lf_want" ] ||
		echo "fail2ban filter: matched ${_lf_got:-no} lines of the log, it has $_lf_want relay refusals and alarms"
	_lf_got=$(lf_f2b "$_lf_d/ban.log")
	[ "$_lf_got" = "$_lf_want" ] ||
		echo "fail2ban filter: matched ${_lf_got:-no} of the $_lf_want relay refusals and alarms"
	_lf_got=$(lf_f2b "$_lf_d/noban.log")
	[ "$_lf_got" = 0 ] ||
		echo "fail2ban filter: matched ${_lf_got:-?} other lines: $(fail2ban-regex --print-all-matched "$_lf_d/noban.log" "$_lf_d/filter.d/portguard.conf" 2>&1 | grep -m 2 'portguard-')"

	# as logcheck does: comment and empty lines out (its cleanrules), then egrep -v
	grep -E -v '^[[:space:]]*$|^#' "$T_TOP/conf/logcheck/ignore.d.server/portguard" \
		>"$_lf_d/logcheck.rules"
	grep -v -E -f "$_lf_d/logcheck.rules" "$_lf_log" >"$_lf_d/kept.log"
	_lf_n=$(grep -c -E -- "$LF_QUIET_ERE" "$_lf_log")
	[ "$_lf_n" -gt 0 ] || echo "the log has no stats, start or port line to test with"
	_lf_n=$(grep -c -E -- "$LF_QUIET_ERE" "$_lf_d/kept.log")
	[ "$_lf_n" = 0 ] ||
		echo "logcheck rules: $_lf_n routine lines still reported, e.g. $(grep -m 1 -E -- "$LF_QUIET_ERE" "$_lf_d/kept.log")"
	_lf_want=$(grep -c -E -- "$LF_LOUD_ERE" "$_lf_log")
	_lf_got=$(grep -c -E -- "$LF_LOUD_ERE" "$_lf_d/kept.log")
	[ "$_lf_want" -gt 0 ] || echo "the log has no reject or warning line to test with"
	[ "$_lf_got" = "$_lf_want" ] ||
		echo "logcheck rules: $_lf_got of $_lf_want reject/warning/error lines still reported"
}
