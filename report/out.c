/*
 * out.c - portguard-report's output: the tables of agg.h as text (for a
 * terminal and for mail, like pflogsumm), JSON (one object, the schema in
 * tests/report/report.schema.json) or CSV (one header per table, the table
 * name in the first column).
 *
 * Values that came from a log (hosts, users, addresses) are escaped for
 * JSON and quoted for CSV; text output prints them as they are (the
 * daemons sanitised them when they logged them). Runs once, after the
 * input: the sort arrays are static.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out.h"

static const struct agg *A;

static void local_time(char *buf, size_t len, long long t, const char *fmt)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || localtime_r(&tt, &tm) == NULL || strftime(buf, len, fmt, &tm) == 0)
		snprintf(buf, len, "-");
}

static void utc_time(char *buf, size_t len, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
}

static const char *prog_name(enum rp_prog p)
{
	switch (p) {
	case RP_PROG_POLICYD:
		return "portguard-policyd";
	case RP_PROG_MILTER:
		return "portguard-milter";
	case RP_PROG_POSTFIX:
		return "postfix";
	case RP_PROG_SENDMAIL:
		return "sendmail";
	default:
		return "-";
	}
}

static const char *kind_name(enum agg_lost_kind k)
{
	return k == LOST_RESTART ? "restart_without_final_stats" : "recovered";
}

/* ------------------------------------------------------------ sorting */

static const struct agg_row *rows[AGG_ROWS];
static unsigned nrows;
static const struct agg_relay *relays[AGG_RELAY];

static int port_cmp(const char *a, const char *b)
{
	long x = strtol(a, NULL, 10), y = strtol(b, NULL, 10);

	if (x != y)
		return x < y ? -1 : 1;
	return strcmp(a, b);
}

static int row_cmp(const void *pa, const void *pb)
{
	const struct agg_row *a = *(const struct agg_row *const *)pa;
	const struct agg_row *b = *(const struct agg_row *const *)pb;
	int c = strcmp(A->hosts[a->host], A->hosts[b->host]);

	if (c == 0)
		c = port_cmp(a->port, b->port);
	if (c == 0 && a->bucket != b->bucket)
		c = a->bucket < b->bucket ? -1 : 1;
	return c;
}

static int relay_cmp(const void *pa, const void *pb)
{
	const struct agg_relay *a = *(const struct agg_relay *const *)pa;
	const struct agg_relay *b = *(const struct agg_relay *const *)pb;
	int c = strcmp(A->hosts[a->host], A->hosts[b->host]);

	if (c == 0)
		c = port_cmp(a->port, b->port);
	if (c == 0 && a->count != b->count)
		c = a->count > b->count ? -1 : 1;
	if (c == 0)
		c = strcmp(a->client, b->client);
	return c;
}

static void sort_all(const struct agg *a)
{
	A = a;
	nrows = 0;
	for (unsigned i = 0; i < AGG_ROWS; i++)
		if (a->rows[i].used)
			rows[nrows++] = &a->rows[i];
	qsort(rows, nrows, sizeof rows[0], row_cmp);
	for (unsigned i = 0; i < a->nrelay; i++)
		relays[i] = &a->relay[i];
	qsort(relays, a->nrelay, sizeof relays[0], relay_cmp);
}

static double pct(unsigned long part, unsigned long all)
{
	return all == 0 ? 0.0 : 100.0 * (double)part / (double)all;
}

static void overflow_note(FILE *f, const struct agg *a, const char *pre)
{
	if (a->over_hosts | a->over_rows | a->over_sessions | a->over_users | a->over_relay |
	    a->over_lost)
		fprintf(f,
		        "%stables full (counted as far as they held): hosts=%lu rows=%lu "
		        "sessions=%lu users=%lu relay=%lu lost=%lu\n",
		        pre, a->over_hosts, a->over_rows, a->over_sessions, a->over_users,
		        a->over_relay, a->over_lost);
}

/* ------------------------------------------------------------ text */

static void text_period(char *buf, size_t len, const struct agg *a, long long b)
{
	if (a->o.by == AGG_BY_HOUR)
		local_time(buf, len, b, "%Y-%m-%d %H:00");
	else if (a->o.by == AGG_BY_DAY)
		local_time(buf, len, b, "%Y-%m-%d");
	else
		buf[0] = '\0';
}

static void text_key(FILE *f, const struct agg *a, const struct agg_row *r)
{
	char per[32];

	text_period(per, sizeof per, a, r->bucket);
	if (a->nhosts > 1)
		fprintf(f, "%-20s ", a->hosts[r->host]);
	fprintf(f, "%-8s", r->port);
	if (a->o.by != AGG_BY_NONE)
		fprintf(f, " %-16s", per);
}

static void text_key_head(FILE *f, const struct agg *a)
{
	if (a->nhosts > 1)
		fprintf(f, "%-20s ", "host");
	fprintf(f, "%-8s", "port");
	if (a->o.by != AGG_BY_NONE)
		fprintf(f, " %-16s", "period");
}

static void text(FILE *f, const struct agg *a)
{
	char t1[32], t2[32];

	local_time(t1, sizeof t1, a->first_t, "%Y-%m-%d %H:%M:%S");
	local_time(t2, sizeof t2, a->last_t, "%Y-%m-%d %H:%M:%S");
	fprintf(f, "portguard-report: %s .. %s, %lu lines read, %lu used\n", t1, t2, a->lines,
	        a->used);
	overflow_note(f, a, "warning: ");

	fprintf(f, "\nSessions per port (from the MTA's own lines)\n");
	text_key_head(f, a);
	fprintf(f, " %8s %8s %6s %8s %8s %8s %8s %6s %6s %7s %7s %8s %8s\n", "sessions", "tls",
	        "tls%", "TLSv1.3", "TLSv1.2", "TLSv1.1", "TLSv1.0", "other", "auth", "noTLS",
	        "failed", "trans", "rcpts");
	for (unsigned i = 0; i < nrows; i++) {
		const unsigned long *c = rows[i]->c;
		text_key(f, a, rows[i]);
		fprintf(f, " %8lu %8lu %6.1f %8lu %8lu %8lu %8lu %6lu %6lu %7lu %7lu %8lu %8lu\n",
		        c[C_SESSIONS], c[C_TLS], pct(c[C_TLS], c[C_SESSIONS]), c[C_TLS13], c[C_TLS12],
		        c[C_TLS11], c[C_TLS10], c[C_TLS_OTHER], c[C_AUTH], c[C_AUTH_NOTLS],
		        c[C_AUTH_FAILED], c[C_TRANSACTIONS], c[C_RECIPIENTS]);
	}
	if (nrows == 0)
		fprintf(f, "none\n");

	fprintf(f, "\nRefusals by rule (portguard's lines; would = monitor mode)\n");
	text_key_head(f, a);
	fprintf(f, " %-16s %8s %8s\n", "rule", "refused", "would");
	bool any = false;
	for (unsigned i = 0; i < nrows; i++) {
		const unsigned long *c = rows[i]->c;
		for (int r = 1; r < RP_RULES; r++) {
			if (c[C_REFUSED_RULE + r] == 0 && c[C_WOULD_RULE + r] == 0)
				continue;
			text_key(f, a, rows[i]);
			fprintf(f, " %-16s %8lu %8lu\n", rp_rule_name(r), c[C_REFUSED_RULE + r],
			        c[C_WOULD_RULE + r]);
			any = true;
		}
		if (c[C_ALARMS] != 0) {
			text_key(f, a, rows[i]);
			fprintf(f, " %-16s %8lu %8s\n", "plaintext alarm", c[C_ALARMS], "-");
			any = true;
		}
	}
	if (!any)
		fprintf(f, "none\n");

	fprintf(f, "\nUsers authenticating without TLS (\"-\": the log names no user)\n");
	if (a->nusers == 0)
		fprintf(f, "none\n");
	else
		fprintf(f, "%-32s %7s %-19s %-19s %s\n", "user", "count", "first", "last", "clients");
	for (unsigned i = 0; i < a->nusers; i++) {
		const struct agg_user *u = &a->users[i];
		local_time(t1, sizeof t1, u->first, "%Y-%m-%d %H:%M:%S");
		local_time(t2, sizeof t2, u->last, "%Y-%m-%d %H:%M:%S");
		fprintf(f, "%-32s %7lu %-19s %-19s", u->user, u->count, t1, t2);
		for (unsigned k = 0; k < u->nclients; k++)
			fprintf(f, "%s%s", k == 0 ? " " : ", ", u->clients[k]);
		fprintf(f, "%s\n", u->more_clients ? ", ..." : "");
	}

	fprintf(f, "\nTop clients refused for relay, per port\n");
	if (a->nrelay == 0)
		fprintf(f, "none\n");
	for (unsigned i = 0, shown = 0; i < a->nrelay; i++) {
		const struct agg_relay *r = relays[i];
		if (i == 0 || r->host != relays[i - 1]->host || strcmp(r->port, relays[i - 1]->port) != 0)
			shown = 0;
		if (shown++ >= 10)
			continue;
		if (a->nhosts > 1)
			fprintf(f, "%-20s ", a->hosts[r->host]);
		fprintf(f, "%-8s %-40s %8lu\n", r->port, r->client, r->count);
	}

	fprintf(f, "\nLost windows (counts portguard could not log)\n");
	if (a->nlost == 0)
		fprintf(f, "none\n");
	for (unsigned i = 0; i < a->nlost; i++) {
		const struct agg_lost *l = &a->lost[i];
		local_time(t1, sizeof t1, l->from, "%Y-%m-%d %H:%M:%S");
		local_time(t2, sizeof t2, l->to, "%Y-%m-%d %H:%M:%S");
		if (a->nhosts > 1)
			fprintf(f, "%-20s ", a->hosts[l->host]);
		fprintf(f, "%-18s %s .. %s  %s\n", prog_name(l->prog), t1, t2,
		        l->kind == LOST_RESTART ? "started again without a final stats line"
		                                : "counts recovered from the state file (recovered=1)");
	}
	fprintf(f, "\nportguard stats lines: %lu (recovered: %lu); they are not summed here\n",
	        a->stats_lines, a->recovered_lines);
}

/* ------------------------------------------------------------ JSON */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_time(FILE *f, long long t)
{
	char buf[32];

	if (t == 0) {
		fputs("null", f);
		return;
	}
	utc_time(buf, sizeof buf, t);
	json_str(f, buf);
}

static void json(FILE *f, const struct agg *a)
{
	fprintf(f, "{\"report\":{\"lines\":%lu,\"used\":%lu,\"first\":", a->lines, a->used);
	json_time(f, a->first_t);
	fprintf(f, ",\"last\":");
	json_time(f, a->last_t);
	fprintf(f, ",\"by\":\"%s\",\"stats_lines\":%lu,\"recovered_lines\":%lu,",
	        a->o.by == AGG_BY_HOUR ? "hour" : a->o.by == AGG_BY_DAY ? "day" : "none",
	        a->stats_lines, a->recovered_lines);
	fprintf(f,
	        "\"overflow\":{\"hosts\":%lu,\"rows\":%lu,\"sessions\":%lu,\"users\":%lu,"
	        "\"relay\":%lu,\"lost\":%lu}},\n\"ports\":[",
	        a->over_hosts, a->over_rows, a->over_sessions, a->over_users, a->over_relay,
	        a->over_lost);
	for (unsigned i = 0; i < nrows; i++) {
		const struct agg_row *r = rows[i];
		const unsigned long *c = r->c;
		fprintf(f, "%s\n{\"host\":", i == 0 ? "" : ",");
		json_str(f, a->hosts[r->host]);
		fprintf(f, ",\"port\":");
		json_str(f, r->port);
		fprintf(f, ",\"period\":");
		if (a->o.by == AGG_BY_NONE)
			fputs("null", f);
		else
			json_time(f, r->bucket);
		fprintf(f,
		        ",\"sessions\":%lu,\"tls\":%lu,\"tls_pct\":%.1f,\"tls_versions\":{\"TLSv1.3\":%lu,"
		        "\"TLSv1.2\":%lu,\"TLSv1.1\":%lu,\"TLSv1.0\":%lu,\"other\":%lu},\"auth\":%lu,"
		        "\"auth_without_tls\":%lu,\"auth_failed\":%lu,\"transactions\":%lu,"
		        "\"recipients\":%lu,\"refused\":%lu,\"would_refuse\":%lu,\"alarms\":%lu,",
		        c[C_SESSIONS], c[C_TLS], pct(c[C_TLS], c[C_SESSIONS]), c[C_TLS13], c[C_TLS12],
		        c[C_TLS11], c[C_TLS10], c[C_TLS_OTHER], c[C_AUTH], c[C_AUTH_NOTLS],
		        c[C_AUTH_FAILED], c[C_TRANSACTIONS], c[C_RECIPIENTS], c[C_REFUSED], c[C_WOULD],
		        c[C_ALARMS]);
		for (int w = 0; w < 2; w++) {
			fprintf(f, "\"%s\":{", w == 0 ? "refused_by_rule" : "would_refuse_by_rule");
			for (int k = 1; k < RP_RULES; k++)
				fprintf(f, "%s\"%s\":%lu", k == 1 ? "" : ",", rp_rule_name(k),
				        c[(w == 0 ? C_REFUSED_RULE : C_WOULD_RULE) + k]);
			fprintf(f, "}%s", w == 0 ? "," : "}");
		}
	}
	fprintf(f, "],\n\"users_without_tls\":[");
	for (unsigned i = 0; i < a->nusers; i++) {
		const struct agg_user *u = &a->users[i];
		fprintf(f, "%s\n{\"user\":", i == 0 ? "" : ",");
		json_str(f, u->user);
		fprintf(f, ",\"count\":%lu,\"first\":", u->count);
		json_time(f, u->first);
		fprintf(f, ",\"last\":");
		json_time(f, u->last);
		fprintf(f, ",\"clients\":[");
		for (unsigned k = 0; k < u->nclients; k++) {
			fprintf(f, "%s", k == 0 ? "" : ",");
			json_str(f, u->clients[k]);
		}
		fprintf(f, "],\"more_clients\":%s}", u->more_clients ? "true" : "false");
	}
	fprintf(f, "],\n\"relay_clients\":[");
	for (unsigned i = 0; i < a->nrelay; i++) {
		const struct agg_relay *r = relays[i];
		fprintf(f, "%s\n{\"host\":", i == 0 ? "" : ",");
		json_str(f, a->hosts[r->host]);
		fprintf(f, ",\"port\":");
		json_str(f, r->port);
		fprintf(f, ",\"client\":");
		json_str(f, r->client);
		fprintf(f, ",\"count\":%lu}", r->count);
	}
	fprintf(f, "],\n\"lost_windows\":[");
	for (unsigned i = 0; i < a->nlost; i++) {
		const struct agg_lost *l = &a->lost[i];
		fprintf(f, "%s\n{\"host\":", i == 0 ? "" : ",");
		json_str(f, a->hosts[l->host]);
		fprintf(f, ",\"daemon\":\"%s\",\"kind\":\"%s\",\"from\":", prog_name(l->prog),
		        kind_name(l->kind));
		json_time(f, l->from);
		fprintf(f, ",\"to\":");
		json_time(f, l->to);
		fputc('}', f);
	}
	fprintf(f, "]}\n");
}

/* ------------------------------------------------------------ CSV */

static void csv_str(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\n") == NULL) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv(FILE *f, const struct agg *a)
{
	char t1[32], t2[32];

	fprintf(f, "table,host,port,period");
	for (int k = 0; k < C_N; k++)
		if (k != C_REFUSED_RULE && k != C_WOULD_RULE)
			fprintf(f, ",%s", agg_counter_names[k]);
	fprintf(f, "\n");
	for (unsigned i = 0; i < nrows; i++) {
		const struct agg_row *r = rows[i];
		fprintf(f, "ports,");
		csv_str(f, a->hosts[r->host]);
		fputc(',', f);
		csv_str(f, r->port);
		text_period(t1, sizeof t1, a, r->bucket);
		fprintf(f, ",%s", t1);
		for (int k = 0; k < C_N; k++)
			if (k != C_REFUSED_RULE && k != C_WOULD_RULE)
				fprintf(f, ",%lu", r->c[k]);
		fputc('\n', f);
	}
	fprintf(f, "table,user,count,first,last,clients\n");
	for (unsigned i = 0; i < a->nusers; i++) {
		const struct agg_user *u = &a->users[i];
		char cl[AGG_USER_CLIENTS * (AGG_KEY_MAX + 1) + 8] = "";
		for (unsigned k = 0; k < u->nclients; k++) {
			size_t n = strlen(cl);
			snprintf(cl + n, sizeof cl - n, "%s%s", k == 0 ? "" : " ", u->clients[k]);
		}
		local_time(t1, sizeof t1, u->first, "%Y-%m-%d %H:%M:%S");
		local_time(t2, sizeof t2, u->last, "%Y-%m-%d %H:%M:%S");
		fprintf(f, "users_without_tls,");
		csv_str(f, u->user);
		fprintf(f, ",%lu,%s,%s,", u->count, t1, t2);
		csv_str(f, cl);
		fputc('\n', f);
	}
	fprintf(f, "table,host,port,client,count\n");
	for (unsigned i = 0; i < a->nrelay; i++) {
		fprintf(f, "relay_clients,");
		csv_str(f, a->hosts[relays[i]->host]);
		fputc(',', f);
		csv_str(f, relays[i]->port);
		fputc(',', f);
		csv_str(f, relays[i]->client);
		fprintf(f, ",%lu\n", relays[i]->count);
	}
	fprintf(f, "table,host,daemon,kind,from,to\n");
	for (unsigned i = 0; i < a->nlost; i++) {
		const struct agg_lost *l = &a->lost[i];
		local_time(t1, sizeof t1, l->from, "%Y-%m-%d %H:%M:%S");
		local_time(t2, sizeof t2, l->to, "%Y-%m-%d %H:%M:%S");
		fprintf(f, "lost_windows,");
		csv_str(f, a->hosts[l->host]);
		fprintf(f, ",%s,%s,%s,%s\n", prog_name(l->prog), kind_name(l->kind), t1, t2);
	}
}

void out_write(FILE *f, const struct agg *a, enum out_format fmt)
{
	sort_all(a);
	switch (fmt) {
	case OUT_TEXT:
		text(f, a);
		break;
	case OUT_JSON:
		json(f, a);
		break;
	case OUT_CSV:
		csv(f, a);
		break;
	}
}
