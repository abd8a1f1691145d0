/*
 * check_report_parse.c - portguard-report's line parsers and tables
 * (report/parse.c, report/agg.c): traditional and RFC 3339 timestamps, the
 * year inferred across New Year, the command-line times, the syslog header,
 * each program's lines as they write them, and what the tables make of
 * them: a session counted once from the MTA's lines, a refusal counted once
 * when both portguard daemons report it, and a restart without a final
 * stats line listed as a lost window. TZ is UTC throughout.
 */
#include <time.h>

#include "check_common.h"

#include "../../report/agg.c"
#include "../../report/parse.c"
#include "../../report/ports.c"

static struct agg A;

static long long utc(int y, int mo, int d, int h, int mi, int s)
{
	return days_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

static void setup(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

START_TEST(traditional_stamp_takes_the_reference_year)
{
	struct rp_clock c = {.ref = utc(2026, 12, 2, 5, 0, 0)};
	long long t;

	ck_assert_uint_eq(rp_time_parse(&c, "Dec  2 04:00:07 mx x: y", 23, &t), 15);
	ck_assert_int_eq(t, utc(2026, 12, 2, 4, 0, 7));
	ck_assert_uint_eq(rp_time_parse(&c, "Dec 12 04:00:07.123456 mx", 25, &t), 22);
	ck_assert_int_eq(t, utc(2026, 12, 12, 4, 0, 7));
}
END_TEST

START_TEST(year_inferred_across_new_year)
{
	/* A file written until 2 Jan 2027 that starts on 31 Dec: the first line
	 * would lie in the future with the reference's year, so it is 2026; the
	 * month going back to Jan is the new year. */
	struct rp_clock c = {.ref = utc(2027, 1, 2, 0, 0, 0)};
	long long t;

	ck_assert_uint_eq(rp_time_parse(&c, "Dec 31 23:59:59 mx", 18, &t), 15);
	ck_assert_int_eq(t, utc(2026, 12, 31, 23, 59, 59));
	ck_assert_uint_eq(rp_time_parse(&c, "Jan  1 00:00:01 mx", 18, &t), 15);
	ck_assert_int_eq(t, utc(2027, 1, 1, 0, 0, 1));
	ck_assert_uint_eq(rp_time_parse(&c, "Jan  1 00:00:01 mx", 18, &t), 15); /* cached */
	ck_assert_int_eq(t, utc(2027, 1, 1, 0, 0, 1));

	struct rp_clock d = {.ref = utc(2027, 1, 2, 0, 0, 0)};
	ck_assert_uint_eq(rp_time_parse(&d, "Jan  1 10:00:00 mx", 18, &t), 15);
	ck_assert_int_eq(t, utc(2027, 1, 1, 10, 0, 0));
	/* A day of slack for clocks: "tomorrow" is still this year. */
	ck_assert_uint_eq(rp_time_parse(&d, "Jan  2 20:00:00 mx", 18, &t), 15);
	ck_assert_int_eq(t, utc(2027, 1, 2, 20, 0, 0));
}
END_TEST

START_TEST(rfc3339_stamps)
{
	struct rp_clock c = {0};
	long long t;

	ck_assert_uint_eq(rp_time_parse(&c, "2026-12-02T04:00:07Z mx", 23, &t), 20);
	ck_assert_int_eq(t, utc(2026, 12, 2, 4, 0, 7));
	ck_assert_uint_eq(rp_time_parse(&c, "2026-12-02T05:00:07.123456+01:00 mx", 35, &t), 32);
	ck_assert_int_eq(t, utc(2026, 12, 2, 4, 0, 7));
	ck_assert_uint_eq(rp_time_parse(&c, "2027-01-01T00:30:00-01:00 mx", 28, &t), 25);
	ck_assert_int_eq(t, utc(2027, 1, 1, 1, 30, 0));
	ck_assert_uint_eq(rp_time_parse(&c, "2026-12-02T04:00:07 mx", 22, &t), 0); /* no zone */
	ck_assert_uint_eq(rp_time_parse(&c, "Foo  2 04:00:07 mx", 18, &t), 0);
}
END_TEST

START_TEST(command_line_times)
{
	long long now = utc(2026, 12, 2, 15, 30, 0), t;

	ck_assert(rp_time_arg("2026-12-01", now, &t));
	ck_assert_int_eq(t, utc(2026, 12, 1, 0, 0, 0));
	ck_assert(rp_time_arg("2026-12-01 13:05", now, &t));
	ck_assert_int_eq(t, utc(2026, 12, 1, 13, 5, 0));
	ck_assert(rp_time_arg("2026-12-01T13:05:09", now, &t));
	ck_assert_int_eq(t, utc(2026, 12, 1, 13, 5, 9));
	ck_assert(rp_time_arg("2026-12-01T13:05:09+02:00", now, &t));
	ck_assert_int_eq(t, utc(2026, 12, 1, 11, 5, 9));
	ck_assert(rp_time_arg("Dec  1 13:05:09", now, &t));
	ck_assert_int_eq(t, utc(2026, 12, 1, 13, 5, 9));
	ck_assert(rp_time_arg("today", now, &t));
	ck_assert_int_eq(t, utc(2026, 12, 2, 0, 0, 0));
	ck_assert(rp_time_arg("yesterday", now, &t));
	ck_assert_int_eq(t, utc(2026, 12, 1, 0, 0, 0));
	ck_assert(!rp_time_arg("2026-13-01", now, &t));
	ck_assert(!rp_time_arg("soon", now, &t));
	ck_assert(!rp_time_arg("2026-12-01 13", now, &t));
}
END_TEST

static struct rp_line L;
static struct rp_event E;

static bool parse(const char *s)
{
	struct rp_clock c = {.ref = utc(2026, 12, 2, 5, 0, 0)};

	memset(&L, 0, sizeof L);
	if (!rp_line_parse(&c, s, strlen(s), &L))
		return false;
	rp_event_parse(&L, &E);
	return true;
}

static bool str_is(struct rp_str v, const char *want)
{
	return v.p != NULL && rp_str_eq(v, want);
}

START_TEST(syslog_header)
{
	ck_assert(parse("Dec  2 04:00:00 mx postfix/submission/smtpd[4711]: connect from a[1.2.3.4]"));
	ck_assert(str_is(L.host, "mx"));
	ck_assert(str_is(L.tag, "postfix/submission/smtpd"));
	ck_assert(str_is(L.service, "postfix/submission"));
	ck_assert_int_eq(L.pid, 4711);
	ck_assert_int_eq(L.prog, RP_PROG_POSTFIX);
	ck_assert(str_is(L.msg, "connect from a[1.2.3.4]"));
	ck_assert(parse("2026-12-02T04:00:00.5+00:00 h2 postfix/smtpd[1]: connect from a[1.2.3.4]"));
	ck_assert(str_is(L.service, "postfix"));
	ck_assert(parse("Dec  2 04:00:00 mx portguard-milter: stats: port=25"));
	ck_assert_int_eq(L.prog, RP_PROG_MILTER);
	ck_assert_int_eq(L.pid, 0);
	ck_assert(parse("Dec  2 04:00:00 mx postfix/qmgr[9]: 4A: removed"));
	ck_assert_int_eq(L.prog, RP_PROG_OTHER);
	ck_assert(!parse("Dec  2 04:00:00 mx"));
	ck_assert(!parse("Dec  2 04:00:00 mx postfix/smtpd[12 x"));
	/* A program the report does not read: its pid and message are not parsed. */
	ck_assert(parse("Dec  2 04:00:00 mx tag[12 x"));
	ck_assert_int_eq(L.prog, RP_PROG_OTHER);
	ck_assert_uint_eq(L.msg.n, 0);
	ck_assert(!parse("garbage"));
}
END_TEST

START_TEST(postfix_lines)
{
	ck_assert(parse("Dec  2 04:00:00 mx postfix/smtpd[1]: disconnect from unknown[127.0.0.2] "
	                "ehlo=1 starttls=1 auth=0/1 mail=2 rcpt=1/3 data=1 quit=1 commands=6/9"));
	ck_assert_int_eq(E.kind, RP_EV_PF_DISCONNECT);
	ck_assert(str_is(E.client, "127.0.0.2"));
	ck_assert_uint_eq(E.starttls.ok, 1);
	ck_assert_uint_eq(E.auth.ok, 0);
	ck_assert_uint_eq(E.auth.tried, 1);
	ck_assert_uint_eq(E.mail.ok, 2);
	ck_assert_uint_eq(E.rcpt_n.ok, 1);
	ck_assert_uint_eq(E.rcpt_n.tried, 3);

	ck_assert(parse("Dec  2 04:00:00 mx postfix/s/smtpd[1]: Anonymous TLS connection established "
	                "from unknown[127.0.0.1]: TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 "
	                "(256/256 bits)"));
	ck_assert_int_eq(E.kind, RP_EV_PF_TLS);
	ck_assert_int_eq(E.tls, RP_TLS12);
	ck_assert(parse("Dec  2 04:00:00 mx postfix/smtpd[1]: 4B2C1: client=unknown[127.0.0.1], "
	                "sasl_method=PLAIN, sasl_username=alice@example.test"));
	ck_assert_int_eq(E.kind, RP_EV_PF_SASL_USER);
	ck_assert(str_is(E.user, "alice@example.test"));
	ck_assert(parse("Dec  2 04:00:00 mx postfix/smtpd[1]: 4B2C1: client=unknown[127.0.0.1]"));
	ck_assert_int_eq(E.kind, RP_EV_NONE);
	ck_assert(parse("Dec  2 04:00:00 mx postfix/smtpd[1]: warning: unknown[127.0.0.1]: SASL "
	                "PLAIN authentication failed: authentication failure"));
	ck_assert_int_eq(E.kind, RP_EV_PF_AUTH_FAIL);
	ck_assert(parse("Dec  2 04:00:00 mx postfix/smtpd[1]: NOQUEUE: reject: RCPT from "
	                "unknown[127.0.0.2]: 554 5.7.1 Relay access denied"));
	ck_assert_int_eq(E.kind, RP_EV_NONE);
}
END_TEST

START_TEST(sendmail_lines)
{
	ck_assert(parse("Dec  2 04:00:00 mail sm-mta[77]: 0B24: STARTTLS=server, relay=localhost "
	                "[127.0.0.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384"));
	ck_assert_int_eq(E.kind, RP_EV_SM_TLS); /* with a queue id or without */
	ck_assert(parse("Dec  2 04:00:00 mail sm-mta[77]: STARTTLS=server, relay=localhost "
	                "[127.0.0.1], version=TLSv1.3, verify=NO, cipher=TLS_AES_256_GCM_SHA384"));
	ck_assert_int_eq(E.kind, RP_EV_SM_TLS);
	ck_assert_int_eq(E.tls, RP_TLS13);
	ck_assert(str_is(E.client, "127.0.0.1"));
	ck_assert(parse("Dec  2 04:00:00 mail sm-mta[77]: AUTH=server, relay=localhost [127.0.0.1], "
	                "authid=bob, mech=PLAIN, bits=0"));
	ck_assert_int_eq(E.kind, RP_EV_SM_AUTH);
	ck_assert(str_is(E.user, "bob"));
	ck_assert(parse("Dec  2 04:00:00 mail sm-mta[77]: 0B24A: from=<bob@pg.test>, size=120, "
	                "class=0, nrcpts=2, msgid=<x@y>, proto=ESMTPSA, daemon=MSA, "
	                "relay=localhost [127.0.0.1]"));
	ck_assert_int_eq(E.kind, RP_EV_SM_FROM);
	ck_assert(str_is(E.daemon, "MSA"));
	ck_assert_uint_eq(E.nrcpts, 2);
	ck_assert(str_is(E.client, "127.0.0.1"));
	ck_assert(parse("Dec  2 04:00:00 mail sendmail[77]: 0B24A: localhost [127.0.0.1] did not "
	                "issue MAIL/EXPN/VRFY/ETRN during connection to MTA"));
	ck_assert_int_eq(E.kind, RP_EV_SM_END);
	ck_assert(str_is(E.daemon, "MTA"));
	ck_assert(str_is(E.client, "127.0.0.1"));
}
END_TEST

START_TEST(portguard_lines)
{
	ck_assert(parse("Dec  2 04:00:00 mx portguard-policyd[5]: NOQUEUE: would-reject: port=25 "
	                "role=relay mode=monitor client=unknown[127.0.0.3]:41234 tls=none "
	                "cipher=none bits=0 sasl_method=- sasl_username=- rcpt=<a@far.example> "
	                "rule=relay reply=\"554 5.7.1 Relay access denied rule=cipher\""));
	ck_assert_int_eq(E.kind, RP_EV_PG_DECISION);
	ck_assert(E.would);
	ck_assert_int_eq(E.rule, 7);
	ck_assert(str_is(E.port, "25"));
	ck_assert(str_is(E.client, "127.0.0.3"));
	ck_assert_uint_eq(E.client_port, 41234);
	ck_assert(str_is(E.rcpt, "a@far.example"));
	ck_assert(parse("Dec  2 04:00:00 mx portguard-milter[5]: 4B2C: reject: port=587 "
	                "role=submission mode=enforce client=unknown[127.0.0.1]:1 tls=none "
	                "cipher=none bits=0 sasl_method=- sasl_username=- rule=tls_required "
	                "reply=\"530 5.7.0 Must issue a STARTTLS command first\""));
	ck_assert(!E.would);
	ck_assert_int_eq(E.rule, 3);
	ck_assert(parse("Dec  2 04:00:00 mx portguard-milter[5]: 4B2C: pass: port=587 "
	                "role=submission mode=enforce client=unknown[127.0.0.1]:1 rule=none"));
	ck_assert_int_eq(E.kind, RP_EV_NONE);
	ck_assert(parse("Dec  2 04:00:00 mx portguard-policyd[5]: NOQUEUE: warning: credentials "
	                "sent without TLS: sasl_username=alice sasl_method=PLAIN "
	                "client=unknown[127.0.0.1]:3333 port=587 role=submission; the MTA ..."));
	ck_assert_int_eq(E.kind, RP_EV_PG_ALARM);
	ck_assert(str_is(E.user, "alice"));
	ck_assert(str_is(E.port, "587"));
	ck_assert_uint_eq(E.client_port, 3333);
	ck_assert(parse("Dec  2 04:00:00 mx portguard-policyd[5]: stats: port=25 role=relay "
	                "period=12 transactions=3 recovered=1 period_start=2026-12-02T03:00:00Z "
	                "period_end=2026-12-02T03:59:00Z"));
	ck_assert_int_eq(E.kind, RP_EV_PG_STATS);
	ck_assert(E.recovered);
	ck_assert_int_eq(E.period_start, utc(2026, 12, 2, 3, 0, 0));
	ck_assert_int_eq(E.period_end, utc(2026, 12, 2, 3, 59, 0));
	ck_assert(parse("Dec  2 04:00:00 mx portguard-milter[5]: starting: daemon=portguard-milter "
	                "version=1"));
	ck_assert_int_eq(E.kind, RP_EV_PG_START);
	ck_assert(parse("Dec  2 04:00:00 mx portguard-milter[5]: stopping: daemon=portguard-milter"));
	ck_assert_int_eq(E.kind, RP_EV_PG_STOP);
}
END_TEST

static void feed(const char *const *lines, size_t n)
{
	struct rp_clock c = {.ref = utc(2026, 12, 2, 5, 0, 0)};
	struct agg_opts o = {0};

	agg_init(&A, &o);
	for (size_t i = 0; i < n; i++) {
		struct rp_line l;
		ck_assert(rp_line_parse(&c, lines[i], strlen(lines[i]), &l));
		agg_line(&A, &l);
	}
	agg_finish(&A);
}

static const struct agg_row *row_of(const char *port)
{
	for (unsigned i = 0; i < AGG_ROWS; i++)
		if (A.rows[i].used && strcmp(A.rows[i].port, port) == 0)
			return &A.rows[i];
	ck_abort_msg("no row for port %s", port);
	return NULL;
}

START_TEST(sessions_from_the_mta_refusals_once)
{
	static const char *const lines[] = {
	    "Dec  2 04:00:00 mx postfix/sub/smtpd[1]: connect from a[127.0.0.1]",
	    "Dec  2 04:00:00 mx postfix/sub/smtpd[1]: Anonymous TLS connection established from "
	    "a[127.0.0.1]: TLSv1.3 with cipher X (256/256 bits)",
	    "Dec  2 04:00:01 mx postfix/sub/smtpd[1]: disconnect from a[127.0.0.1] ehlo=2 "
	    "starttls=1 quit=1 commands=4",
	    "Dec  2 04:00:02 mx postfix/sub/smtpd[1]: connect from a[127.0.0.1]",
	    "Dec  2 04:00:03 mx postfix/sub/smtpd[1]: 4B: client=a[127.0.0.1], sasl_method=PLAIN, "
	    "sasl_username=alice",
	    "Dec  2 04:00:03 mx portguard-milter[8]: 4B: would-reject: port=587 role=submission "
	    "mode=monitor client=a[127.0.0.1]:999 tls=none cipher=none bits=0 sasl_method=PLAIN "
	    "sasl_username=alice rule=plaintext_auth reply=\"x\"",
	    "Dec  2 04:00:03 mx portguard-policyd[7]: 4B: would-reject: port=587 role=submission "
	    "mode=monitor client=a[127.0.0.1]:999 tls=none cipher=none bits=0 sasl_method=PLAIN "
	    "sasl_username=alice rcpt=<b@example.test> rule=plaintext_auth reply=\"x\"",
	    "Dec  2 04:00:04 mx postfix/sub/smtpd[1]: disconnect from a[127.0.0.1] ehlo=1 auth=1 "
	    "mail=1 rcpt=1 data=1 quit=1 commands=5",
	    "Dec  2 04:00:05 mx postfix/sub/smtpd[2]: connect from a[127.0.0.1]",
	    "Dec  2 04:00:05 mx postfix/sub/smtpd[2]: disconnect from a[127.0.0.1] ehlo=1 auth=0/1 "
	    "quit=1 commands=2/3",
	};

	agg_portmap_add("postfix/sub", 11, "587");
	feed(lines, PG_ARRAY_LEN(lines));
	const struct agg_row *r = row_of("587");
	ck_assert_uint_eq(r->c[C_SESSIONS], 3);
	ck_assert_uint_eq(r->c[C_TLS], 1);
	ck_assert_uint_eq(r->c[C_TLS13], 1);
	ck_assert_uint_eq(r->c[C_AUTH], 1);
	ck_assert_uint_eq(r->c[C_AUTH_NOTLS], 1);
	ck_assert_uint_eq(r->c[C_AUTH_FAILED], 1);
	ck_assert_uint_eq(r->c[C_TRANSACTIONS], 1);
	ck_assert_uint_eq(r->c[C_RECIPIENTS], 1);
	ck_assert_uint_eq(r->c[C_WOULD], 1); /* the milter's line; the policy daemon's not again */
	ck_assert_uint_eq(r->c[C_WOULD_RULE + 1], 1);
	ck_assert_uint_eq(A.nusers, 1);
	ck_assert_str_eq(A.users[0].user, "alice");
	ck_assert_uint_eq(A.users[0].count, 1);
}
END_TEST

START_TEST(a_full_session_table_counts_what_it_evicts)
{
	/* More sessions open at once than the table holds: each evicted one is
	 * counted as it stands, none is lost or counted twice. */
	struct rp_clock c = {.ref = utc(2026, 12, 2, 5, 0, 0)};
	struct agg_opts o = {0};
	char line[160];
	const unsigned n = AGG_SESSIONS + 4000;

	agg_init(&A, &o);
	for (unsigned i = 0; i < n; i++) {
		struct rp_line l;
		int len = snprintf(line, sizeof line,
		                   "Dec  2 04:%02u:%02u mx postfix/smtpd[%u]: connect from a[10.0.%u.%u]",
		                   i / 600 % 60, i / 10 % 60, 100000 + i, i / 250, i % 250);
		ck_assert(rp_line_parse(&c, line, (size_t)len, &l));
		agg_line(&A, &l);
	}
	agg_finish(&A);
	ck_assert_uint_gt(A.over_sessions, 0);
	ck_assert_uint_eq(row_of("25")->c[C_SESSIONS], n);
	ck_assert_uint_eq(nfree, AGG_SESSIONS); /* every slot back on the stack */
}
END_TEST

START_TEST(restart_without_final_stats_is_a_lost_window)
{
	static const char *const lines[] = {
	    "Dec  2 04:00:00 mx portguard-policyd[7]: starting: daemon=portguard-policyd",
	    "Dec  2 04:10:00 mx portguard-policyd[7]: stats: port=25 role=relay period=600",
	    "Dec  2 04:20:00 mx portguard-policyd[7]: stopping: daemon=portguard-policyd",
	    "Dec  2 04:21:00 mx portguard-policyd[8]: starting: daemon=portguard-policyd",
	    "Dec  2 04:30:00 mx portguard-policyd[8]: stats: port=25 role=relay period=540",
	    "Dec  2 04:35:00 mx portguard-policyd[9]: stats: port=25 role=relay period=300 "
	    "recovered=1 period_start=2026-12-02T04:30:00Z period_end=2026-12-02T04:34:10Z",
	    "Dec  2 04:35:00 mx portguard-policyd[9]: stats: port=587 role=relay period=300 "
	    "recovered=1 period_start=2026-12-02T04:30:00Z period_end=2026-12-02T04:34:10Z",
	    "Dec  2 04:35:00 mx portguard-policyd[9]: starting: daemon=portguard-policyd",
	};

	feed(lines, PG_ARRAY_LEN(lines));
	ck_assert_uint_eq(A.nlost, 2);
	ck_assert_int_eq(A.lost[0].kind, LOST_RECOVERED);
	ck_assert_int_eq(A.lost[0].from, utc(2026, 12, 2, 4, 30, 0));
	ck_assert_int_eq(A.lost[0].to, utc(2026, 12, 2, 4, 34, 10));
	ck_assert_int_eq(A.lost[1].kind, LOST_RESTART);
	ck_assert_int_eq(A.lost[1].from, utc(2026, 12, 2, 4, 30, 0));
	ck_assert_int_eq(A.lost[1].to, utc(2026, 12, 2, 4, 35, 0));
	ck_assert_uint_eq(A.stats_lines, 4);
	ck_assert_uint_eq(A.recovered_lines, 2);
}
END_TEST

START_TEST(master_cf_maps_syslog_names)
{
	char *path = pg_write_temp(
	    "# comment\n"
	    "smtp      inet  n       -       y       -       -       smtpd\n"
	    "submission inet n       -       y       -       -       smtpd\n"
	    "  -o syslog_name=postfix/$service_name\n"
	    "127.0.0.1:15025 inet n - n - - smtpd\n"
	    "  -o syslog_name=postfix/relay\n"
	    "pickup    unix  n       -       y       60      1       pickup\n");
	char err[128], port[AGG_KEY_MAX];
	struct rp_str pf = {"postfix", 7}, sub = {"postfix/submission", 18},
	              relay = {"postfix/relay", 13}, odd = {"postfix/2526", 12};

	nportmap = 0;
	ck_assert(agg_portmap_master_cf(path, err, sizeof err));
	ports_of(port, pf, true);
	ck_assert_str_eq(port, "25");
	ports_of(port, sub, true);
	ck_assert_str_eq(port, "587");
	ports_of(port, relay, true);
	ck_assert_str_eq(port, "15025");
	ports_of(port, odd, true);
	ck_assert_str_eq(port, "2526");
	unlink(path);
	free(path);
}
END_TEST

static Suite *report_parse_suite(void)
{
	Suite *s = suite_create("report_parse");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, traditional_stamp_takes_the_reference_year);
	tcase_add_test(tc, year_inferred_across_new_year);
	tcase_add_test(tc, rfc3339_stamps);
	tcase_add_test(tc, command_line_times);
	tcase_add_test(tc, syslog_header);
	tcase_add_test(tc, postfix_lines);
	tcase_add_test(tc, sendmail_lines);
	tcase_add_test(tc, portguard_lines);
	tcase_add_test(tc, sessions_from_the_mta_refusals_once);
	tcase_add_test(tc, a_full_session_table_counts_what_it_evicts);
	tcase_add_test(tc, restart_without_final_stats_is_a_lost_window);
	tcase_add_test(tc, master_cf_maps_syslog_names);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(report_parse_suite)
