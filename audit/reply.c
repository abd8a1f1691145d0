/*
 * reply.c - the probe's SMTP reply parser: "DDD-text" lines up to a
 * "DDD text" (or bare "DDD") line, every line and the whole reply bounded
 * (PROBE_LINE_MAX, PROBE_REPLY_MAX). Pure: bytes in, a parsed reply out;
 * the reading and its time limit are in probe.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "audit.h"

static void keyword(struct smtp_reply *r, const char *t, size_t n)
{
	if (n == 8 && strncasecmp(t, "STARTTLS", 8) == 0)
		r->starttls = true;
	if (n >= 4 && strncasecmp(t, "AUTH", 4) == 0 && (n == 4 || t[4] == ' ' || t[4] == '=')) {
		r->auth = true;
		if (n > 5)
			snprintf(r->auth_mechs, sizeof r->auth_mechs, "%.*s", (int)(n - 5), t + 5);
	}
}

long smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, char *why, size_t whylen)
{
	size_t at = 0;

	memset(r, 0, sizeof *r);
	while (at < len) {
		const char *line = buf + at, *nl = memchr(line, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - line) + 1 : len - at;
		if (n > PROBE_LINE_MAX || (nl == NULL && n >= PROBE_LINE_MAX)) {
			snprintf(why, whylen, "a reply line longer than %d bytes", PROBE_LINE_MAX);
			return -1;
		}
		if (at + n > PROBE_REPLY_MAX) {
			snprintf(why, whylen, "a reply longer than %d bytes", PROBE_REPLY_MAX);
			return -1;
		}
		if (nl == NULL)
			return 0;
		size_t tl = n - 1;
		if (tl > 0 && line[tl - 1] == '\r')
			tl--;
		if (tl < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
		    !isdigit((unsigned char)line[2]) || (tl > 3 && line[3] != '-' && line[3] != ' ')) {
			snprintf(why, whylen, "not an SMTP reply: \"%.*s\"", (int)(tl > 60 ? 60 : tl),
			         line);
			for (char *p = why; *p != '\0'; p++)
				if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
					*p = '?';
			return -1;
		}
		unsigned code = (unsigned)((line[0] - '0') * 100 + (line[1] - '0') * 10 + line[2] - '0');
		if (r->lines > 0 && code != r->code) {
			snprintf(why, whylen, "a reply whose lines carry different codes");
			return -1;
		}
		r->code = code;
		r->lines++;
		if (r->lines > 1)
			keyword(r, line + 4, tl > 4 ? tl - 4 : 0);
		snprintf(r->text, sizeof r->text, "%.*s", (int)(tl > 4 ? tl - 4 : 0), line + 4);
		for (char *p = r->text; *p != '\0'; p++)
			if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
				*p = '?';
		at += n;
		if (tl == 3 || line[3] == ' ') {
			r->done = true;
			return (long)at;
		}
	}
	return 0;
}
