/*
 * parse.c - portguard-report's line parsers (see parse.h).
 *
 * Input: one line without its newline, any bytes. Output: the header fields
 * and one event, as pointers into the line. A line that does not have the
 * expected shape yields no event, never an error: logs hold every kind of
 * line. Nothing allocates; the only state is the caller's clock.
 *
 * The lines read (as the programs write them):
 *   Postfix smtpd (tag NAME/smtpd, NAME = its syslog_name):
 *     connect from NAME[ADDR]
 *     Anonymous TLS connection established from NAME[ADDR]: TLSv1.3 with cipher ...
 *     QID: client=NAME[ADDR], sasl_method=PLAIN, sasl_username=USER
 *     warning: NAME[ADDR]: SASL PLAIN authentication failed: ...
 *     disconnect from NAME[ADDR] ehlo=1 starttls=1 auth=0/1 mail=1 rcpt=1 ... commands=N
 *   Sendmail (tag sm-mta or sendmail):
 *     STARTTLS=server, relay=NAME [ADDR], version=TLSv1.3, verify=NO, cipher=...
 *     AUTH=server, relay=NAME [ADDR], authid=USER, mech=PLAIN, bits=0
 *     AUTH failure (PLAIN): ..., relay=NAME [ADDR]
 *     QID: from=<...>, size=N, class=0, nrcpts=N, ..., daemon=NAME, relay=NAME [ADDR]
 *     QID: NAME [ADDR] did not issue MAIL/EXPN/VRFY/ETRN during connection to DAEMON
 *     QID: lost input channel from NAME [ADDR] to DAEMON after CMD
 *   portguard (core/report.c, core/stats.c):
 *     QID: reject: port=P role=R mode=M client=NAME[ADDR]:CPORT ... [rcpt=<R>] rule=W ...
 *     QID: would-reject: (the same)
 *     QID: warning: credentials sent without TLS: sasl_username=U ... client=C port=P ...
 *     stats: port=P ... [recovered=1 period_start=T period_end=T]
 *     starting: daemon=NAME ... / stopping: daemon=NAME ...
 */
#include <string.h>
#include <time.h>

#include "parse.h"

#define RP_TAG_MAX 64 /* a syslog tag ends within this many bytes */

static const char *const rule_names[RP_RULES] = {"alarm",    "plaintext_auth", "auth_forbidden",
                                                 "tls_required", "tls_version", "cipher",
                                                 "auth_required", "relay"};

const char *rp_rule_name(int rule)
{
	return rule >= 0 && rule < RP_RULES ? rule_names[rule] : "-";
}

static const char *const tls_names[RP_TLS_N] = {"none",    "TLSv1.3", "TLSv1.2",
                                                "TLSv1.1", "TLSv1.0", "other"};

const char *rp_tls_name(enum rp_tls v)
{
	return tls_names[v];
}

bool rp_str_eq(struct rp_str a, const char *b)
{
	size_t n = strlen(b);

	return a.n == n && memcmp(a.p, b, n) == 0;
}

static bool has_prefix(const char *s, size_t n, const char *pre, size_t pn)
{
	return n >= pn && memcmp(s, pre, pn) == 0;
}
#define PREFIX(s, n, lit) has_prefix((s), (n), lit, sizeof lit - 1)

static const char *find(const char *s, size_t n, const char *needle, size_t nn)
{
	return nn <= n ? memmem(s, n, needle, nn) : NULL;
}
#define FIND(s, n, lit) find((s), (n), lit, sizeof lit - 1)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits at s[0..k): their value, or -1. */
static int num(const char *s, int k)
{
	int v = 0;

	for (int i = 0; i < k; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* ------------------------------------------------------------ timestamps */

static int month_of(const char *m)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (memcmp(names + 3 * i, m, 3) == 0)
			return i + 1;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's method). */
static long long days_civil(int y, int m, int d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (unsigned)(m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

/* Local time to seconds, mktime once per (date, hour). */
static long long local_secs(struct rp_clock *c, int y, int mo, int d, int h, int mi, int s)
{
	long long key = ((long long)y * 100 + mo) * 10000 + d * 100 + h;

	if (c == NULL || key != c->hour_key) {
		struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
		                .tm_isdst = -1};
		long long t = (long long)mktime(&tm);
		if (c == NULL)
			return t + mi * 60 + s;
		c->hour_key = key;
		c->hour_t = t;
	}
	return c->hour_t + mi * 60 + s;
}

static int year_of(long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 1970;
	return tm.tm_year + 1900;
}

/* "Mmm dd hh:mm:ss" fields; false if s is not one. */
static bool trad_fields(const char *s, size_t n, int *mo, int *d, int *h, int *mi, int *sec)
{
	if (n < 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':')
		return false;
	*mo = month_of(s);
	*d = s[4] == ' ' ? num(s + 5, 1) : num(s + 4, 2);
	*h = num(s + 7, 2);
	*mi = num(s + 10, 2);
	*sec = num(s + 13, 2);
	return *mo != 0 && *d > 0 && *h >= 0 && *mi >= 0 && *sec >= 0;
}

/* Optional ".digits" at s; its length. */
static size_t fraction(const char *s, size_t n)
{
	size_t i = 0;

	if (n > 0 && s[0] == '.')
		for (i = 1; i < n && is_digit(s[i]); i++)
			;
	return i;
}

static size_t trad_parse(struct rp_clock *c, const char *s, size_t n, long long *t)
{
	int mo, d, h, mi, sec;

	if (n >= 15 && c->year != 0 && memcmp(s, c->last, 15) == 0) {
		*t = c->last_t;
		return 15 + fraction(s + 15, n - 15);
	}
	if (!trad_fields(s, n, &mo, &d, &h, &mi, &sec))
		return 0;
	if (c->year == 0) {
		c->year = year_of(c->ref);
		if (local_secs(NULL, c->year, mo, d, h, mi, sec) > c->ref + 86400)
			c->year--;
	} else if (mo < c->last_mon) {
		c->year++;
	}
	c->last_mon = mo;
	*t = local_secs(c, c->year, mo, d, h, mi, sec);
	memcpy(c->last, s, 15);
	c->last_t = *t;
	return 15 + fraction(s + 15, n - 15);
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm). */
static size_t rfc3339_parse(const char *s, size_t n, long long *t)
{
	size_t i;
	int y, mo, d, h, mi, sec, off = 0;

	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') ||
	    s[13] != ':' || s[16] != ':')
		return 0;
	y = num(s, 4);
	mo = num(s + 5, 2);
	d = num(s + 8, 2);
	h = num(s + 11, 2);
	mi = num(s + 14, 2);
	sec = num(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || mi < 0 || sec < 0)
		return 0;
	i = 19 + fraction(s + 19, n - 19);
	if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 <= n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		int oh = num(s + i + 1, 2), om = num(s + i + 4, 2);
		if (oh < 0 || om < 0)
			return 0;
		off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
		i += 6;
	} else {
		return 0;
	}
	*t = days_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
	return i;
}

size_t rp_time_parse(struct rp_clock *c, const char *s, size_t n, long long *t)
{
	if (n > 0 && is_digit(s[0]))
		return rfc3339_parse(s, n, t);
	return trad_parse(c, s, n, t);
}

bool rp_time_arg(const char *s, long long now, long long *t)
{
	size_t n = strlen(s);
	int y, mo, d, h = 0, mi = 0, sec = 0;

	if (strcmp(s, "today") == 0 || strcmp(s, "yesterday") == 0) {
		time_t tt = (time_t)now;
		struct tm tm;
		if (localtime_r(&tt, &tm) == NULL)
			return false;
		*t = local_secs(NULL, tm.tm_year + 1900, tm.tm_mon + 1,
		                tm.tm_mday - (s[0] == 'y' ? 1 : 0), 0, 0, 0);
		return true;
	}
	if (rfc3339_parse(s, n, t) == n)
		return true;
	if (n >= 10 && s[4] == '-' && s[7] == '-' && (y = num(s, 4)) > 0 &&
	    (mo = num(s + 5, 2)) >= 1 && mo <= 12 && (d = num(s + 8, 2)) >= 1 && d <= 31) {
		if (n == 10 ||
		    ((n == 16 || n == 19) && (s[10] == ' ' || s[10] == 'T') && s[13] == ':' &&
		     (h = num(s + 11, 2)) >= 0 && (mi = num(s + 14, 2)) >= 0 &&
		     (n == 16 || (s[16] == ':' && (sec = num(s + 17, 2)) >= 0)))) {
			*t = local_secs(NULL, y, mo, d, h, mi, sec);
			return true;
		}
		return false;
	}
	struct rp_clock c = {.ref = now};
	return n == 15 && trad_parse(&c, s, n, t) == 15;
}

/* ------------------------------------------------------------ header */

static enum rp_prog prog_of(struct rp_str tag, struct rp_str *service)
{
	const char *p = tag.p;
	size_t n = tag.n;

	service->p = NULL;
	service->n = 0;
	/* Fixed-size compares only: this runs for every line of the log. */
	if (n >= 13 && memcmp(p, "postfix", 7) == 0) {
		if (memcmp(p + n - 6, "/smtpd", 6) != 0)
			return RP_PROG_OTHER;
		service->p = p;
		service->n = n - 6;
		return RP_PROG_POSTFIX;
	}
	if ((n == 6 && memcmp(p, "sm-mta", 6) == 0) || (n == 8 && memcmp(p, "sendmail", 8) == 0))
		return RP_PROG_SENDMAIL;
	if (n == 17 && memcmp(p, "portguard-policyd", 17) == 0)
		return RP_PROG_POLICYD;
	if (n == 16 && memcmp(p, "portguard-milter", 16) == 0)
		return RP_PROG_MILTER;
	return RP_PROG_OTHER;
}

/* Where the stamp seems to end (its shape only; rp_time_parse() decides). */
static size_t stamp_len(const char *s, size_t n)
{
	if (n > 20 && is_digit(s[0])) {
		const char *sp = memchr(s, ' ', n < 40 ? n : 40);
		return sp == NULL ? 0 : (size_t)(sp - s);
	}
	if (n > 15 && s[3] == ' ' && s[6] == ' ' && s[9] == ':' && s[12] == ':')
		return 15 + fraction(s + 15, n - 15);
	return 0;
}

bool rp_line_parse(struct rp_clock *c, const char *s, size_t n, struct rp_line *l)
{
	size_t stamp = stamp_len(s, n), i = stamp, j;

	if (i == 0 || i >= n || s[i] != ' ')
		return false;
	i++;
	for (j = i; j < n && s[j] != ' '; j++) /* host names are short */
		;
	if (j >= n)
		return false;
	l->host.p = s + i;
	l->host.n = j - i;
	i = j + 1;
	l->pid = 0;
	if (i >= n || (s[i] != 'p' && s[i] != 's')) { /* no tag the report reads */
		l->tag.p = s + i;
		l->tag.n = 0;
		l->prog = RP_PROG_OTHER;
		l->service.p = NULL;
		l->service.n = 0;
		l->t = 0;
		l->msg.p = s + n;
		l->msg.n = 0;
		return true;
	}
	/* The tag ends at '[' (the pid) or ':'; a vector scan beats a byte loop. */
	size_t lim = n - i < RP_TAG_MAX ? n - i : RP_TAG_MAX;
	const char *br = memchr(s + i, '[', lim);
	const char *co = br != NULL && memchr(s + i, ':', (size_t)(br - s) - i) == NULL
	                     ? NULL
	                     : memchr(s + i, ':', lim);
	if (co == NULL && br == NULL)
		return false;
	j = (size_t)((co != NULL && (br == NULL || co < br) ? co : br) - s);
	l->tag.p = s + i;
	l->tag.n = j - i;
	l->prog = prog_of(l->tag, &l->service);
	if (l->prog == RP_PROG_OTHER) { /* the report reads no more of it */
		l->t = 0;
		l->msg.p = s + n;
		l->msg.n = 0;
		return true;
	}
	if (rp_time_parse(c, s, stamp, &l->t) != stamp)
		return false;
	if (j < n && s[j] == '[') {
		for (j++; j < n && is_digit(s[j]); j++)
			l->pid = l->pid * 10 + (s[j] - '0');
		if (j >= n || s[j] != ']')
			return false;
		j++;
	}
	if (j >= n || s[j] != ':')
		return false;
	j++;
	if (j < n && s[j] == ' ')
		j++;
	l->msg.p = s + j;
	l->msg.n = n - j;
	return true;
}

/* ------------------------------------------------------------ fields */

/* How many bytes from p on are none of STOP's (one or two bytes). */
static size_t span(const char *p, const char *end, const char *stop)
{
	const char *q = p;
	char a = stop[0], b = stop[1] != '\0' ? stop[1] : stop[0];

	while (q < end && *q != a && *q != b)
		q++;
	return (size_t)(q - p);
}

/* The value after KEY (which includes its '=') up to a byte of STOP. */
static struct rp_str field(const char *s, size_t n, const char *key, const char *stop)
{
	struct rp_str v = {NULL, 0};
	const char *k = find(s, n, key, strlen(key));

	if (k == NULL)
		return v;
	v.p = k + strlen(key);
	v.n = span(v.p, s + n, stop);
	return v;
}

/* The address inside the first [...] at or after p. */
static struct rp_str bracketed(const char *p, const char *end)
{
	struct rp_str v = {NULL, 0};
	const char *o = p == NULL ? NULL : memchr(p, '[', (size_t)(end - p));
	const char *c = o == NULL ? NULL : memchr(o, ']', (size_t)(end - o));

	if (c != NULL) {
		v.p = o + 1;
		v.n = (size_t)(c - o - 1);
	}
	return v;
}

/* "ok" or "ok/tried" at p. */
static struct rp_count count_at(const char *p, const char *end)
{
	struct rp_count c = {0, 0};

	while (p < end && is_digit(*p))
		c.ok = c.ok * 10 + (unsigned)(*p++ - '0');
	c.tried = c.ok;
	if (p < end && *p == '/') {
		c.tried = 0;
		for (p++; p < end && is_digit(*p); p++)
			c.tried = c.tried * 10 + (unsigned)(*p - '0');
	}
	return c;
}

enum rp_tls rp_tls_parse(struct rp_str v)
{
	if (rp_str_eq(v, "TLSv1.3"))
		return RP_TLS13;
	if (rp_str_eq(v, "TLSv1.2"))
		return RP_TLS12;
	if (rp_str_eq(v, "TLSv1.1"))
		return RP_TLS11;
	if (rp_str_eq(v, "TLSv1") || rp_str_eq(v, "TLSv1.0"))
		return RP_TLS10;
	return RP_TLS_OTHER;
}

static unsigned uint_of(struct rp_str v)
{
	unsigned u = 0;

	for (size_t i = 0; i < v.n && is_digit(v.p[i]); i++)
		u = u * 10 + (unsigned)(v.p[i] - '0');
	return u;
}

/* After "QID: " (a queue id or NOQUEUE: letters and digits only). */
static bool after_qid(const char *s, size_t n, const char **rest, size_t *rn)
{
	size_t i = 0;

	while (i < n && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z') ||
	                 (s[i] >= 'a' && s[i] <= 'z')))
		i++;
	if (i == 0 || i + 2 > n || s[i] != ':' || s[i + 1] != ' ')
		return false;
	*rest = s + i + 2;
	*rn = n - i - 2;
	return true;
}

/* ------------------------------------------------------------ programs */

/* "Anonymous TLS connection established from ..." (or Untrusted, Trusted,
 * Verified): where "TLS" starts, else NULL. Checked at its place, not
 * searched for: most smtpd lines are something else. */
static const char *tls_established(const char *s, size_t n)
{
	const char *sp = memchr(s, ' ', n < 12 ? n : 12);

	if (sp == NULL)
		return NULL;
	sp++;
	return PREFIX(sp, (size_t)(s + n - sp), "TLS connection established from ") ? sp : NULL;
}

static void postfix_event(const char *s, size_t n, struct rp_event *e)
{
	const char *end = s + n, *r, *k;
	size_t rn;

	if (PREFIX(s, n, "connect from ")) {
		e->kind = RP_EV_PF_CONNECT;
		e->client = bracketed(s + 13, end);
	} else if (PREFIX(s, n, "disconnect from ")) {
		e->kind = RP_EV_PF_DISCONNECT;
		e->client = bracketed(s + 16, end);
		/* One pass over " name=ok[/tried]" after the client. */
		for (r = e->client.p == NULL ? s : e->client.p; r < end; r++) {
			if (*r != ' ')
				continue;
			const char *eq = memchr(r, '=', (size_t)(end - r));
			if (eq == NULL)
				break;
			size_t kn = (size_t)(eq - r - 1);
			struct rp_count *c = kn == 8 && memcmp(r + 1, "starttls", 8) == 0 ? &e->starttls
			                     : kn == 4 && memcmp(r + 1, "auth", 4) == 0   ? &e->auth
			                     : kn == 4 && memcmp(r + 1, "mail", 4) == 0   ? &e->mail
			                     : kn == 4 && memcmp(r + 1, "rcpt", 4) == 0   ? &e->rcpt_n
			                                                                   : NULL;
			if (c != NULL)
				*c = count_at(eq + 1, end);
			r = eq;
		}
	} else if ((k = tls_established(s, n)) != NULL) {
		e->kind = RP_EV_PF_TLS;
		e->client = bracketed(k, end);
		const char *v = e->client.p == NULL ? NULL : FIND(e->client.p, (size_t)(end - e->client.p), "]: ");
		if (v == NULL) {
			e->kind = RP_EV_NONE;
			return;
		}
		struct rp_str ver = {v + 3, 0};
		while (ver.p + ver.n < end && ver.p[ver.n] != ' ')
			ver.n++;
		e->tls = rp_tls_parse(ver);
	} else if (PREFIX(s, n, "warning: ")) {
		if (FIND(s, n, " authentication failed") != NULL && FIND(s, n, ": SASL ") != NULL) {
			e->kind = RP_EV_PF_AUTH_FAIL;
			e->client = bracketed(s + 9, end);
		}
	} else if (after_qid(s, n, &r, &rn) && PREFIX(r, rn, "client=")) {
		e->client = bracketed(r, r + rn);
		if (e->client.p == NULL)
			return;
		r = e->client.p + e->client.n + 1;
		if (!PREFIX(r, (size_t)(end - r), ", sasl_method="))
			return; /* no AUTH in this session (the common case) */
		rn = (size_t)(end - r);
		e->user = field(r, rn, ", sasl_username=", ",");
		if (e->user.p != NULL)
			e->kind = RP_EV_PF_SASL_USER;
	}
}

/* Sendmail's "relay=NAME [ADDR]". */
static struct rp_str sm_relay(const char *s, size_t n)
{
	const char *k = FIND(s, n, "relay=");
	const char *c = k == NULL ? NULL : memchr(k, ',', (size_t)(s + n - k));

	return bracketed(k, c != NULL ? c : s + n);
}

static void sendmail_event(const char *s, size_t n, struct rp_event *e)
{
	const char *r, *k;
	size_t rn;

	if (!after_qid(s, n, &r, &rn)) {
		r = s;
		rn = n;
	}
	if (PREFIX(r, rn, "STARTTLS=server,")) {
		e->kind = RP_EV_SM_TLS;
		e->client = sm_relay(r, rn);
		e->tls = rp_tls_parse(field(r, rn, " version=", ", "));
	} else if (PREFIX(r, rn, "AUTH=server,")) {
		e->kind = RP_EV_SM_AUTH;
		e->client = sm_relay(r, rn);
		e->user = field(r, rn, " authid=", ", ");
	} else if (PREFIX(r, rn, "AUTH failure")) {
		e->kind = RP_EV_SM_AUTH_FAIL;
		e->client = sm_relay(r, rn);
	} else {
		if (PREFIX(r, rn, "from=") && (k = FIND(r, rn, ", daemon=")) != NULL) {
			e->kind = RP_EV_SM_FROM;
			e->daemon = field(r, rn, ", daemon=", ", ");
			e->nrcpts = uint_of(field(r, rn, ", nrcpts=", ", "));
			e->client = sm_relay(k, (size_t)(r + rn - k));
		} else if ((k = FIND(r, rn, " did not issue MAIL/EXPN/VRFY/ETRN during connection to ")) !=
		           NULL) {
			e->kind = RP_EV_SM_END;
			e->client = bracketed(r, k);
			e->daemon = field(k, (size_t)(r + rn - k), "connection to ", " ");
		} else if (PREFIX(r, rn, "lost input channel from ")) {
			e->kind = RP_EV_SM_END;
			e->client = bracketed(r, r + rn);
			e->daemon = field(r, rn, "] to ", " ");
		}
	}
}

static long long stamp_field(const char *s, size_t n, const char *key)
{
	struct rp_str v = field(s, n, key, " ");
	long long t = 0;

	if (v.p != NULL && rfc3339_parse(v.p, v.n, &t) != v.n)
		t = 0;
	return t;
}

static void portguard_event(const char *s, size_t n, struct rp_event *e)
{
	const char *r, *end;
	size_t rn;

	if (PREFIX(s, n, "stats: ")) {
		e->kind = RP_EV_PG_STATS;
		e->port = field(s, n, " port=", " ");
		e->recovered = FIND(s, n, " recovered=1") != NULL;
		if (e->recovered) {
			e->period_start = stamp_field(s, n, " period_start=");
			e->period_end = stamp_field(s, n, " period_end=");
		}
		return;
	}
	if (PREFIX(s, n, "starting: ") || PREFIX(s, n, "stopping: ")) {
		e->kind = s[2] == 'a' ? RP_EV_PG_START : RP_EV_PG_STOP;
		e->daemon = field(s, n, "daemon=", " ");
		return;
	}
	if (!after_qid(s, n, &r, &rn))
		return;
	end = r + rn;
	if (PREFIX(r, rn, "reject: ") || PREFIX(r, rn, "would-reject: ")) {
		e->kind = RP_EV_PG_DECISION;
		e->would = r[0] == 'w';
		e->port = field(r, rn, " port=", " ");
		struct rp_str w = field(r, rn, " rule=", " ");
		for (int i = 1; i < RP_RULES; i++)
			if (rp_str_eq(w, rule_names[i]))
				e->rule = i;
		if (e->rule == 0) {
			e->kind = RP_EV_NONE;
			return;
		}
		e->rcpt = field(r, rn, " rcpt=<", ">");
	} else if (PREFIX(r, rn, "warning: credentials sent without TLS: ")) {
		e->kind = RP_EV_PG_ALARM;
		e->user = field(r, rn, " sasl_username=", " ");
		e->port = field(r, rn, " port=", " ");
	} else {
		return;
	}
	const char *c = FIND(r, rn, " client=");
	e->client = bracketed(c, end);
	if (e->client.p != NULL && e->client.p + e->client.n + 2 < end &&
	    e->client.p[e->client.n + 1] == ':') {
		struct rp_str cp = {e->client.p + e->client.n + 2, 0};
		while (cp.p + cp.n < end && is_digit(cp.p[cp.n]))
			cp.n++;
		e->client_port = uint_of(cp);
	}
}

void rp_event_parse(const struct rp_line *l, struct rp_event *e)
{
	memset(e, 0, sizeof *e);
	switch (l->prog) {
	case RP_PROG_POSTFIX:
		postfix_event(l->msg.p, l->msg.n, e);
		break;
	case RP_PROG_SENDMAIL:
		sendmail_event(l->msg.p, l->msg.n, e);
		break;
	case RP_PROG_POLICYD:
	case RP_PROG_MILTER:
		portguard_event(l->msg.p, l->msg.n, e);
		break;
	case RP_PROG_OTHER:
		break;
	}
}
