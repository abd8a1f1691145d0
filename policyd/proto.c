/*
 * proto.c - the Postfix policy protocol's input side, bounded.
 *
 * Input: the bytes a connection has buffered (at most PG_POLICY_MAX_REQUEST,
 * always starting at the beginning of a request). proto_scan() checks new
 * bytes incrementally against every limit of limits.h and the syntax
 * (name=value lines, a non-empty name, no NUL byte) and reports a complete
 * request as soon as its empty line arrives. proto_parse() then points a
 * fixed table of known attributes into the buffer: nothing is allocated,
 * unknown attributes are ignored, and a repeated attribute keeps its last
 * value. Failure: PROTO_ERROR with a message naming the rule or limit; the
 * caller sends nothing and closes the connection, as the protocol asks.
 * Cost: each byte is looked at a constant number of times by memchr (for
 * '\n' and '=' per line, NUL once per call over the bytes not yet checked,
 * so a NUL in a later pipelined request closes the connection before the
 * earlier one is answered), never one by one in C; attribute names are
 * found through a small hash.
 */
#include <stdio.h>
#include <string.h>

#include "policyd.h"

/* The attributes portguard reads, with their lengths known at compile time. */
#define ATTR(id, name) [id] = {name, sizeof name - 1}
static const struct {
	const char *name;
	size_t len;
} attr_names[PD_A_COUNT] = {
    ATTR(PD_A_REQUEST, "request"),
    ATTR(PD_A_PROTOCOL_STATE, "protocol_state"),
    ATTR(PD_A_CLIENT_ADDRESS, "client_address"),
    ATTR(PD_A_CLIENT_NAME, "client_name"),
    ATTR(PD_A_CLIENT_PORT, "client_port"),
    ATTR(PD_A_SERVER_PORT, "server_port"),
    ATTR(PD_A_QUEUE_ID, "queue_id"),
    ATTR(PD_A_INSTANCE, "instance"),
    ATTR(PD_A_RECIPIENT, "recipient"),
    ATTR(PD_A_SASL_METHOD, "sasl_method"),
    ATTR(PD_A_SASL_USERNAME, "sasl_username"),
    ATTR(PD_A_CCERT_FINGERPRINT, "ccert_fingerprint"),
    ATTR(PD_A_ENCRYPTION_PROTOCOL, "encryption_protocol"),
    ATTR(PD_A_ENCRYPTION_CIPHER, "encryption_cipher"),
    ATTR(PD_A_ENCRYPTION_KEYSIZE, "encryption_keysize"),
    ATTR(PD_A_POLICY_CONTEXT, "policy_context"),
};
#undef ATTR

const char *proto_attr_name(enum pd_attr a)
{
	return (unsigned)a < PD_A_COUNT ? attr_names[a].name : "?";
}

void proto_reset(struct proto_scan *st)
{
	st->pos = 0;
	st->line_start = 0;
	st->nattrs = 0;
}

/* A finished, non-empty line buf[start .. end) (end is the '\n'). */
static enum proto_status check_line(struct proto_scan *st, const char *buf, size_t start,
                                    size_t end, char *why, size_t whylen)
{
	const char *eq;
	size_t namelen;

	if (++st->nattrs > PG_POLICY_MAX_ATTRS) {
		snprintf(why, whylen, "more than PG_POLICY_MAX_ATTRS=%d attributes in one request",
		         PG_POLICY_MAX_ATTRS);
		return PROTO_ERROR;
	}
	eq = memchr(buf + start, '=', end - start);
	if (eq == NULL) {
		snprintf(why, whylen, "malformed request: attribute line without '='");
		return PROTO_ERROR;
	}
	namelen = (size_t)(eq - (buf + start));
	st->line_off[st->nattrs - 1] = (uint16_t)start;
	st->eq_off[st->nattrs - 1] = (uint16_t)(eq - buf);
	if (namelen == 0) {
		snprintf(why, whylen, "malformed request: empty attribute name");
		return PROTO_ERROR;
	}
	if (namelen > PG_POLICY_MAX_NAME) {
		snprintf(why, whylen, "attribute name longer than PG_POLICY_MAX_NAME=%d bytes",
		         PG_POLICY_MAX_NAME);
		return PROTO_ERROR;
	}
	return PROTO_MORE;
}

enum proto_status proto_scan(struct proto_scan *st, const char *buf, size_t len, size_t *reqlen,
                             char *why, size_t whylen)
{
	/* A NUL anywhere in the bytes not checked yet ends the connection; one
	 * memchr per call, not one per line. */
	if (st->pos < len && memchr(buf + st->pos, '\0', len - st->pos) != NULL) {
		snprintf(why, whylen, "malformed request: NUL byte");
		return PROTO_ERROR;
	}
	while (st->pos < len) {
		const char *nl = memchr(buf + st->pos, '\n', len - st->pos);
		size_t end = nl != NULL ? (size_t)(nl - buf) : len; /* this line's bytes end here */

		if (end - st->line_start > PG_POLICY_MAX_LINE) {
			snprintf(why, whylen, "line longer than PG_POLICY_MAX_LINE=%d bytes",
			         PG_POLICY_MAX_LINE);
			return PROTO_ERROR;
		}
		if (nl == NULL) {
			st->pos = len;
			break;
		}
		st->pos = end + 1;
		if (end == st->line_start) {
			*reqlen = end + 1;
			return PROTO_REQUEST;
		}
		if (check_line(st, buf, st->line_start, end, why, whylen) == PROTO_ERROR)
			return PROTO_ERROR;
		st->line_start = end + 1;
	}
	if (len >= PG_POLICY_MAX_REQUEST) {
		snprintf(why, whylen, "request longer than PG_POLICY_MAX_REQUEST=%d bytes",
		         PG_POLICY_MAX_REQUEST);
		return PROTO_ERROR;
	}
	return PROTO_MORE;
}

/*
 * Name lookup in O(1): a small hash of length, first, middle and last byte,
 * built once. The known names do not collide (checked when the table is
 * built; if a future name did, lookups fall back to a linear search).
 * Unknown names cost one hash and at most one memcmp.
 */
#define ATTR_HASH_SIZE 64
static signed char attr_slot[ATTR_HASH_SIZE];
static int attr_hash_state; /* 0: not built, 1: built, -1: collision, linear */

static unsigned attr_hash(const char *n, size_t len)
{
	return ((unsigned)len * 2u + (unsigned char)n[0] * 3u + (unsigned char)n[len - 1] +
	        (unsigned char)n[len / 2]) %
	       ATTR_HASH_SIZE;
}

static void attr_hash_build(void)
{
	memset(attr_slot, -1, sizeof attr_slot);
	attr_hash_state = 1;
	for (int a = 0; a < PD_A_COUNT; a++) {
		unsigned h = attr_hash(attr_names[a].name, attr_names[a].len);

		if (attr_slot[h] >= 0)
			attr_hash_state = -1;
		attr_slot[h] = (signed char)a;
	}
}

static int attr_lookup(const char *name, size_t len)
{
	if (attr_hash_state == 0)
		attr_hash_build();
	if (attr_hash_state > 0) {
		int a = attr_slot[attr_hash(name, len)];

		return a >= 0 && attr_names[a].len == len &&
		               memcmp(attr_names[a].name, name, len) == 0
		           ? a
		           : -1;
	}
	for (int a = 0; a < PD_A_COUNT; a++)
		if (attr_names[a].len == len && memcmp(attr_names[a].name, name, len) == 0)
			return a;
	return -1;
}

void proto_parse(char *buf, size_t reqlen, const struct proto_scan *st, struct pd_request *req)
{
	memset(req, 0, sizeof *req);
	for (unsigned i = 0; i < st->nattrs; i++) {
		size_t start = st->line_off[i], eq = st->eq_off[i];
		/* a line ends where the next begins; the last one before the
		 * empty line that ends the request (reqlen - 1 is its '\n') */
		size_t nl = i + 1 < st->nattrs ? (size_t)st->line_off[i + 1] - 1 : reqlen - 2;
		int a;

		buf[nl] = '\0';
		a = attr_lookup(buf + start, eq - start);
		if (a >= 0)
			req->v[a] = buf + eq + 1; /* a repeated attribute keeps its last value */
	}
}
