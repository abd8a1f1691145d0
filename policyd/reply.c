/*
 * reply.c - the one place a verdict becomes an "action=" line.
 *
 * DUNNO for no objection (also monitor mode's "would reject"), "<code> <esc>
 * <text>" for a reject, DEFER_IF_PERMIT <esc> <text> for an internal error
 * under on_error=tempfail. portguard never answers OK. reply_untellable()
 * is the check the engine runs before the decision line: a verdict whose
 * text or enhanced code would break the line, or whose reject code is not a
 * 4xx or 5xx, cannot be sent, and on_error decides instead (the fail mode's
 * own reply always passes). Every verdict fits PD_REPLY_MAX (checked at
 * compile time), so reply_write() cannot fail; it builds the line by hand,
 * not with snprintf: a reject is on the hot path.
 */
#include <string.h>

#include "policyd.h"

/* The longest line: "action=DEFER_IF_PERMIT <esc> <text>\n\n" and its NUL. */
_Static_assert(sizeof "action=DEFER_IF_PERMIT " + sizeof((struct pg_verdict *)0)->esc +
                       sizeof((struct pg_verdict *)0)->text + 1 <=
                   PD_REPLY_MAX,
               "every verdict fits PD_REPLY_MAX");

static const char *reply_verb(const struct pg_verdict *v, char code[3], size_t *len)
{
	switch (v->action) {
	case PG_ACT_REJECT:
		code[0] = (char)('0' + v->code / 100 % 10);
		code[1] = (char)('0' + v->code / 10 % 10);
		code[2] = (char)('0' + v->code % 10);
		*len = 3;
		return code;
	case PG_ACT_TEMPFAIL:
		*len = sizeof "DEFER_IF_PERMIT" - 1;
		return "DEFER_IF_PERMIT";
	case PG_ACT_DUNNO:
		break;
	}
	*len = sizeof "DUNNO" - 1;
	return "DUNNO";
}

const char *reply_untellable(const struct pg_verdict *v)
{
	static const char why[] = "reply does not fit the policy protocol";

	if (strpbrk(v->text, "\r\n") != NULL || strpbrk(v->esc, "\r\n ") != NULL)
		return why;
	if (v->action == PG_ACT_REJECT && (v->code < 400 || v->code > 599))
		return why;
	return NULL;
}

size_t reply_write(const struct pg_verdict *v, char *out)
{
	char code[3];
	size_t vl, n = sizeof "action=" - 1;
	const char *verb = reply_verb(v, code, &vl);

	memcpy(out, "action=", n);
	memcpy(out + n, verb, vl);
	n += vl;
	if (v->action != PG_ACT_DUNNO) {
		size_t el = strlen(v->esc), tl = strlen(v->text);

		out[n++] = ' ';
		memcpy(out + n, v->esc, el);
		n += el;
		out[n++] = ' ';
		memcpy(out + n, v->text, tl);
		n += tl;
	}
	memcpy(out + n, "\n\n", 3);
	return n + 2;
}
