# tests/lib/case.sh - test cases over a real MTA, and SPEC's case table.
#
# Source after tests/lib/common.sh. Functions only; the caller sets
#   PG_LOG   portguard's log (stderr of the daemon under test)
#   T_DIR    where swaks transcripts go
#   T_TOP    the source tree (for tests/lib/cases.tsv)
#
# One case:
#   t_begin NAME        remember where portguard's log ends
#   t_swaks ARG...      one SMTP session; T_REPLY = the client's final reply
#   t_pysmtp PORT SRC RCPT  one plaintext session through python's smtplib,
#                       for a recipient swaks cannot send; T_REPLY likewise
#   t_reply ERE         the final reply matches ERE
#   t_seen ERE          some server line matches ERE
#   t_log ERE           a portguard log line written since t_begin matches ERE
#                       (polled briefly: a daemon may log just after replying)
#   t_nolog ERE         no such line matches ERE
#   t_fail MSG          record a failure reason
#   t_end               print "PASS: NAME" or "FAIL: NAME" with the reasons;
#                       T_PASSED and T_FAILED count them
#
# The case table (tests/lib/cases.tsv describes its columns):
#   t_rows              every row for this layer, in table order
#   t_row ID [NAME]     one row, under NAME (default: the driver's name for it)
# A layer that uses the table defines its driver:
#   DRV_LAYER           its letter in the table's layers column (p, m or s)
#   DRV_MILTER          1: a milter (rejects at MAIL for session rules, counts
#                       sessions); 0: the policy service (decides at RCPT)
#   DRV_MTA_RELAY       1: the MTA keeps its own relay refusal (monitor rows
#                       marked mta-relay then get it)
#   DRV_USER DRV_PASS   the SASL user; DRV_USER_RE how portguard logs its name
#   DRV_CLIENT_NAME     ERE for the client name in portguard's lines
#   DRV_ALARM_HINT      ERE for the MTA setting the credentials warning names
#   DRV_QUEUED          ERE of the MTA's reply to an accepted message
#   drv_at KIND         set T_CPORT (port to connect to), T_PORT (ERE of the
#                       port in log lines), T_ROLE, T_KEY (stats key), T_MODE;
#                       return 1 when the layer has no such port
#   drv_rcpt KIND ID    print the recipient address for a recipient kind
#   drv_name ID TITLE   print the case's name
#   drv_wrap CODE TEXT  print the ERE of the client's reply when portguard
#                       rejects with CODE (an ERE) and TEXT
#   drv_route WHERE KIND ID  (optional) check where the MTA put the row's
#                       recipient (the table's route column); a layer without
#                       it leaves that column unchecked
#   DRV_MTA_LOG         (optional) the MTA's log; t_begin notes its size in
#                       T_MTA_OFF for drv_route
# T_RELAY_N counts the relay refusals the rows caused (portguard's in enforce
# mode, the MTA's own in monitor mode where the layer keeps one).
# Each row appends "KEY FIELD" lines to $TALLY for what the session should
# count; stats_check compares them with the stats lines.
#
#   stats_check NAME BASIS STRICT
#                       a case: SIGUSR2 to $PG_PID, then every key in $TALLY
#                       must have a stats line whose counters ($STATS_FIELDS)
#                       equal the tally (stats_mismatches in common.sh);
#                       $STATS_BEFORE, when set, is a function run first

T_PASSED=0
T_FAILED=0
T_SESSIONS=0 # SMTP sessions t_row has made
T_RELAY_N=0  # relay refusals the rows caused
T_FROM=sender@example.net
T_HELO=client.example.net
T_QID='(NOQUEUE|[A-Za-z0-9]+)' # what precedes ": reject:" and the like

t_begin() {
	T_NAME=$1
	T_WHY=
	T_OFF=$(wc -c <"$PG_LOG")
	T_MTA_OFF=0
	[ -z "${DRV_MTA_LOG:-}" ] || T_MTA_OFF=$(wc -c <"$DRV_MTA_LOG" 2>/dev/null || echo 0)
	T_OUT=$T_DIR/$(printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_').txt
	T_REPLY=
}

t_fail() {
	T_WHY="$T_WHY
$(printf '%s\n' "$*" | sed 's/^/    /')"
}

# Common swaks arguments: loopback server, bounded time (10 s per SMTP step,
# 30 s for the whole session), a fixed HELO and sender. The caller adds port,
# client address, TLS, AUTH and recipient.
t_swaks() {
	timeout 30 swaks --server 127.0.0.1 --timeout 10 --helo "$T_HELO" \
		--from "$T_FROM" --header "Subject: portguard e2e $T_NAME" \
		--body "portguard e2e" "$@" >"$T_OUT" 2>&1
	# Server replies are the transcript lines starting "<-", "<~" (over TLS)
	# or "<**" / "<~*" (error replies). The final reply is the last one that is
	# not the answer to QUIT.
	T_REPLY=$(sed -n -E 's/^<(-|~|\*\*|~\*) +//p' "$T_OUT" | grep -v '^221 ' |
		grep -E '^[0-9]{3} ' | tail -n 1)
}

# t_pysmtp PORT SOURCE RCPT: one plaintext session through python's smtplib,
# for a recipient swaks cannot send (it splits --to at commas). RCPT goes out
# exactly as given; the transcript reads like swaks's, T_REPLY likewise.
t_pysmtp() {
	timeout 30 python3 - "$@" "$T_HELO" "$T_FROM" >"$T_OUT" 2>&1 <<'PY'
import smtplib, sys
port, src, rcpt, helo, sender = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
s = smtplib.SMTP("127.0.0.1", port, local_hostname=helo, timeout=10, source_address=(src, 0))
def show(sent, reply):
    if sent:
        print(" -> " + sent)
    lines = reply[1].decode(errors="replace").split("\n")
    for i, line in enumerate(lines):
        print("<-  %d%s%s" % (reply[0], "-" if i < len(lines) - 1 else " ", line))
    return reply[0]
show("EHLO " + helo, s.ehlo())
if show("MAIL FROM:<%s>" % sender, s.docmd("MAIL FROM:<%s>" % sender)) == 250:
    if show("RCPT TO:<%s>" % rcpt, s.docmd("RCPT TO:<%s>" % rcpt)) == 250:
        show("DATA", s.data(b"Subject: portguard e2e\r\n\r\nportguard e2e\r\n"))
show("QUIT", s.docmd("QUIT"))
PY
	T_REPLY=$(sed -n -E 's/^<(-|~|\*\*|~\*) +//p' "$T_OUT" | grep -v '^221 ' |
		grep -E '^[0-9]{3} ' | tail -n 1)
}

t_reply() {
	printf '%s\n' "$T_REPLY" | grep -q -E -- "$1" ||
		t_fail "reply '$T_REPLY' does not match /$1/ (transcript: $T_OUT)"
}

# t_seen ERE: some server line of the transcript (not only the final reply)
# matches ERE; records a failure otherwise, and returns whether it matched.
t_seen() {
	grep -Eq -- "^<[-~*]+ +$1" "$T_OUT" && return 0
	t_fail "no server line matches /$1/ (transcript: $T_OUT)"
	return 1
}

t_newlog() {
	tail -c "+$((T_OFF + 1))" "$PG_LOG"
}

t_haslog() {
	t_newlog | grep -q -E -- "$1"
}

t_log() {
	t_wait 30 t_haslog "$1" || t_fail "no portguard log line matches /$1/"
}

t_nolog() {
	t_haslog "$1" && t_fail "unexpected portguard log line matches /$1/"
}

t_end() {
	if [ -z "$T_WHY" ]; then
		echo "PASS: $T_NAME"
		T_PASSED=$((T_PASSED + 1))
	else
		echo "FAIL: $T_NAME$T_WHY"
		if [ -n "${E2E_VERBOSE:-}" ]; then
			sed 's/^/    | /' "$T_OUT" 2>/dev/null
			t_newlog | sed 's/^/    pg| /'
		else
			tail -n 25 "$T_OUT" 2>/dev/null | sed 's/^/    | /'
		fi
		T_FAILED=$((T_FAILED + 1))
	fi
}

# t_stage STAGE: the transcript shows the reply came at MAIL FROM (no RCPT TO
# sent) or at RCPT TO (no DATA sent). swaks marks client lines "->", or "~>"
# over TLS.
t_stage() {
	case $1 in
	mail) grep -q -E '^ *[-~]> RCPT TO:' "$T_OUT" && t_fail "swaks got as far as RCPT TO (reject not at MAIL FROM)" ;;
	rcpt)
		grep -q -E '^ *[-~]> RCPT TO:' "$T_OUT" || t_fail "no RCPT TO sent"
		grep -q -E '^ *[-~]> DATA' "$T_OUT" && t_fail "swaks got as far as DATA (reject not at RCPT TO)"
		;;
	esac
}

# t_tally KEY RULE|none STAGE MODE: what one session of one transaction and
# one recipient counts, read from its transcript. The policy service counts
# transactions and recipients; a milter also counts sessions, and never sees
# the RCPT of a transaction it rejected at MAIL.
t_tally() {
	_tt_v=$(sed -n -E 's/^=== TLS started with cipher (TLSv1(\.[0-9])?):.*/\1/p' "$T_OUT" | tail -n 1)
	_tt_auth=0
	grep -q -E '^<[-~] +235 ' "$T_OUT" && _tt_auth=1
	{
		[ "$DRV_MILTER" = 1 ] && echo "$1 sessions"
		echo "$1 transactions"
		[ "$DRV_MILTER" = 1 ] && [ "$2" != none ] && [ "$3" = mail ] && [ "$4" = enforce ] ||
			echo "$1 recipients"
		if [ -n "$_tt_v" ]; then
			echo "$1 tls"
			echo "$1 $_tt_v"
		else
			echo "$1 plaintext"
		fi
		[ "$_tt_auth" = 1 ] && echo "$1 auth"
		[ "$_tt_auth" = 1 ] && [ -z "$_tt_v" ] && echo "$1 auth_plaintext"
		if [ "$2" != none ]; then
			echo "$1 reject_$2"
			if [ "$4" = enforce ]; then echo "$1 rejected"; else echo "$1 would_reject"; fi
		fi
	} >>"$TALLY"
}

# t_ere STRING: STRING with the ERE metacharacters escaped.
t_ere() {
	printf '%s' "$1" | sed 's/[].[^$*+?(){}|\\]/\\&/g'
}

# t_subst STRING TOKEN VALUE: every TOKEN in STRING replaced by VALUE, taken
# literally.
t_subst() {
	awk -v s="$1" -v t="$2" -v v="$3" 'BEGIN {
		while ((i = index(s, t)) > 0) { o = o substr(s, 1, i - 1) v; s = substr(s, i + length(t)) }
		printf "%s", o s }'
}

# t_table: the table's rows, comments dropped, fields trimmed, "|"-separated.
t_table() {
	sed -e '/^[ \t]*#/d' -e '/^[ \t]*$/d' -e 's/[ \t]*|[ \t]*/|/g' -e 's/[ \t]*$//' \
		"$T_TOP/tests/lib/cases.tsv"
}

t_rows() {
	t_table >"$T_DIR/cases.rows"
	while IFS='|' read -r _tr_id _tr_title _tr_layers _tr_rest <&3; do
		case $_tr_layers in *"$DRV_LAYER"*) ;; *) continue ;; esac
		t_row "$_tr_id"
	done 3<"$T_DIR/cases.rows"
}

# t_row ID [NAME]: run one row of the table (see tests/lib/cases.tsv).
t_row() {
	_r_line=$(t_table | awk -F'|' -v id="$1" '$1 == id')
	if [ -z "$_r_line" ]; then
		echo "FAIL: ${2:-$1}: no row $1 in tests/lib/cases.tsv"
		T_FAILED=$((T_FAILED + 1))
		return 0
	fi
	IFS='|' read -r _r_id _r_title _r_layers _r_kind _r_client _r_rk _r_rule _r_reply _r_mon _r_log _r_route <<EOF
$_r_line
EOF
	drv_at "$_r_kind" || return 0
	T_SESSIONS=$((T_SESSIONS + 1))
	t_begin "${2:-$(drv_name "$_r_id" "$_r_title")}"
	_r_rcpt=$(drv_rcpt "$_r_rk" "$_r_id")
	_r_rcpt_ere=$(t_ere "$_r_rcpt")
	set -- --port "$T_CPORT"
	_r_ip=1
	for _r_w in $_r_client; do
		case $_r_w in
		untrusted) set -- "$@" --local-interface 127.0.0.2 && _r_ip=2 ;;
		starttls) set -- "$@" -tls ;;
		implicit) set -- "$@" --tlsc ;;
		tls12) set -- "$@" --tls-protocol tlsv1_2 ;;
		tls13) set -- "$@" --tls-protocol tlsv1_3 ;;
		cipher=*) set -- "$@" --tls-cipher "${_r_w#cipher=}" ;;
		auth) set -- "$@" -a PLAIN -au "$DRV_USER" -ap "$DRV_PASS" ;;
		-) ;;
		*) t_fail "cases.tsv: row $_r_id: unknown client word '$_r_w'" ;;
		esac
	done
	case $_r_rk in
	qpunct) t_pysmtp "$T_CPORT" "127.0.0.$_r_ip" "$_r_rcpt" ;;
	*) t_swaks "$@" --to "$_r_rcpt" ;;
	esac
	_r_client_ere="client=$DRV_CLIENT_NAME\\[127\\.0\\.0\\.$_r_ip\\]:[0-9]+"
	_r_stage=mail
	[ "$_r_rule" = relay ] && _r_stage=rcpt
	if [ "$_r_rule" = - ]; then
		# the MTA accepts without asking portguard
		t_reply "$DRV_QUEUED"
		t_nolog "rcpt=<?$_r_rcpt_ere"
	elif [ "$_r_rule" = none ]; then
		t_reply "$DRV_QUEUED"
		t_log "$T_QID: pass: port=$T_PORT role=$T_ROLE mode=$T_MODE $_r_client_ere .*rule=none( |\$)"
		t_nolog "reject: "
	else
		_r_code=$(t_ere "${_r_reply%% *}")
		_r_text=${_r_reply#* }
		_r_code="$_r_code $(t_ere "${_r_text%% *}")"
		_r_text=$(t_subst "${_r_text#* }" %RCPT% "$_r_rcpt_ere")
		if [ "$T_MODE" = enforce ]; then
			t_reply "$(drv_wrap "$_r_code" "$_r_text")"
			[ "$DRV_MILTER" = 1 ] && t_stage "$_r_stage"
			[ "$_r_rule" = relay ] && T_RELAY_N=$((T_RELAY_N + 1))
			_r_kw=reject
		else
			if [ "$_r_mon" = mta-relay ] && [ "$DRV_MTA_RELAY" = 1 ]; then
				# the MTA's own refusal names the recipient
				t_reply "^$_r_code <[^>]*>: $_r_text"
				T_RELAY_N=$((T_RELAY_N + 1))
			else
				t_reply "$DRV_QUEUED"
			fi
			_r_kw=would-reject
			[ "$(t_newlog | grep -c ': would-reject: ')" = 1 ] ||
				t_fail "want exactly one would-reject line per session"
		fi
		t_log "$T_QID: $_r_kw: port=$T_PORT role=$T_ROLE mode=$T_MODE $_r_client_ere .*rule=$_r_rule reply=\"$_r_code $_r_text"
		# A milter's relay (RCPT) decision follows the MAIL stage's own pass line.
		if [ "$_r_stage" = mail ] || [ "$DRV_MILTER" = 0 ]; then
			t_nolog ": pass: "
		else
			t_nolog ": pass: .* rcpt="
		fi
	fi
	if [ "$_r_rule" = plaintext_auth ]; then
		t_log "warning: credentials sent without TLS: sasl_username=$DRV_USER_RE sasl_method=PLAIN $_r_client_ere port=$T_PORT role=$T_ROLE; the MTA accepted AUTH on a plaintext connection: set $DRV_ALARM_HINT"
		t_log "tls=none cipher=none bits=0 sasl_method=PLAIN sasl_username=$DRV_USER_RE .*rule=plaintext_auth"
	fi
	if [ "$_r_kind" = bare ]; then
		t_log "error: port=$T_PORT is configured tls=implicit but the session has no TLS: the MTA is not wrapping this port in TLS \\(Postfix: -o smtpd_tls_wrappermode=yes; Sendmail: M=s\\) $_r_client_ere"
	else
		t_nolog "not wrapping"
	fi
	if [ "$_r_log" != - ]; then
		_r_log=$(t_subst "$_r_log" %USER% "$DRV_USER_RE")
		_r_log=$(t_subst "$_r_log" %RCPT% "$_r_rcpt_ere")
		while [ -n "$_r_log" ]; do
			t_log "${_r_log%%;;*}"
			case $_r_log in *";;"*) _r_log=${_r_log#*;;} ;; *) _r_log= ;; esac
		done
	fi
	if [ -n "$_r_route" ] && [ "$_r_route" != - ] && command -v drv_route >/dev/null 2>&1; then
		# where the MTA alone guards relaying, a monitored refusal goes out
		[ "$_r_route" = refused ] && [ "$T_MODE" = monitor ] && [ "$DRV_MTA_RELAY" = 0 ] && _r_route=out
		drv_route "$_r_route" "$_r_rk" "$_r_id"
	fi
	[ "$_r_rule" = - ] || t_tally "$T_KEY" "$_r_rule" "$_r_stage" "$T_MODE"
	t_end
}

stats_check() {
	t_begin "$1"
	[ -z "${STATS_BEFORE:-}" ] || "$STATS_BEFORE"
	_sc_off=$(wc -c <"$PG_LOG")
	kill -USR2 "$PG_PID" 2>/dev/null || t_fail "cannot signal $(basename "$PG_BIN")"
	if ! t_wait 100 stats_have_all "$_sc_off"; then
		t_fail "no stats line after SIGUSR2 for every port of: $(awk '{ print $1 }' "$TALLY" | sort -u | tr '\n' ' ')"
	fi
	_sc_bad=$(stats_mismatches "$_sc_off" "$2" "$3")
	[ -z "$_sc_bad" ] || t_fail "$_sc_bad"
	t_end
	: >"$TALLY"
}
