/*
 * reply.c - the one place where a verdict becomes what libmilter is told.
 *
 * No objection (and monitor mode's "would reject") -> SMFIS_CONTINUE, never
 * SMFIS_ACCEPT: the MTA's own checks still run on every later command.
 * A reply with a 5xx code -> SMFIS_REJECT, a 4xx code -> SMFIS_TEMPFAIL
 * (libmilter silently drops a reply whose first digit disagrees with the
 * status). The text goes through reply_escape(): smfi_setreply() discards a
 * text with a single '%', and CR/LF make it fail. Pure, so the unit tests
 * check it; callbacks.c hands the plan to smfi_setreply().
 */
#include <stdio.h>
#include <string.h>

#include "milter.h"

bool reply_escape(char *dst, size_t dstlen, const char *src)
{
	size_t o = 0;

	if (dstlen == 0)
		return false;
	for (const unsigned char *s = (const unsigned char *)src; *s != '\0'; s++) {
		if (*s < 0x20 || *s == 0x7f)
			continue;
		if (*s == '%') {
			if (o + 2 >= dstlen)
				goto toolong;
			dst[o++] = '%';
			dst[o++] = '%';
			continue;
		}
		if (o + 1 >= dstlen)
			goto toolong;
		dst[o++] = (char)*s;
	}
	dst[o] = '\0';
	return true;
toolong:
	dst[0] = '\0';
	return false;
}

void reply_plan(const struct pg_verdict *v, struct milter_reply *out)
{
	/* fields one by one: the text buffer is 1 KiB and a pass (the common
	 * case) leaves it empty */
	out->status = SMFIS_CONTINUE;
	out->set = false;
	out->rcode[0] = '\0';
	out->xcode[0] = '\0';
	out->text[0] = '\0';
	if (v->action == PG_ACT_DUNNO)
		return;
	if (v->code >= 500 && v->code <= 599)
		out->status = SMFIS_REJECT;
	else if (v->code >= 400 && v->code <= 499)
		out->status = SMFIS_TEMPFAIL;
	else
		/* no usable code: still refuse, with the MTA's generic reply */
		out->status = v->action == PG_ACT_TEMPFAIL ? SMFIS_TEMPFAIL : SMFIS_REJECT;
	if (out->status == SMFIS_REJECT && v->code / 100 != 5)
		return;
	if (out->status == SMFIS_TEMPFAIL && v->code / 100 != 4)
		return;
	snprintf(out->rcode, sizeof out->rcode, "%u", v->code);
	/* the enhanced code must start with the reply's class digit */
	if (v->esc[0] == out->rcode[0] && v->esc[1] == '.' && strlen(v->esc) < sizeof out->xcode)
		memcpy(out->xcode, v->esc, strlen(v->esc) + 1);
	if (!reply_escape(out->text, sizeof out->text, v->text))
		out->text[0] = '\0';
	out->set = true;
}
