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
 */
#include <stdio.h>
#include <string.h>

#include "policyd.h"

static const char *const attr_names[PD_A_COUNT] = {
    [PD_A_REQUEST] = "request",
    [PD_A_PROTOCOL_STATE] = "protocol_state",
    [PD_A_CLIENT_ADDRESS] = "client_address",
    [PD_A_CLIENT_NAME] = "client_name",
    [PD_A_CLIENT_PORT] = "client_port",
    [PD_A_SERVER_PORT] = "server_port",
    [PD_A_QUEUE_ID] = "queue_id",
    [PD_A_INSTANCE] = "instance",
    [PD_A_RECIPIENT] = "recipient",
    [PD_A_SASL_METHOD] = "sasl_method",
    [PD_A_SASL_USERNAME] = "sasl_username",
    [PD_A_CCERT_FINGERPRINT] = "ccert_fingerprint",
    [PD_A_ENCRYPTION_PROTOCOL] = "encryption_protocol",
    [PD_A_ENCRYPTION_CIPHER] = "encryption_cipher",
    [PD_A_ENCRYPTION_KEYSIZE] = "encryption_keysize",
    [PD_A_POLICY_CONTEXT] = "policy_context",
};

const char *proto_attr_name(enum pd_attr a)
{
	return (unsigned)a < PD_A_COUNT ? attr_names[a] : "?";
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
	while (st->pos < len) {
		size_t at = st->pos++;
		unsigned char ch = (unsigned char)buf[at];

		if (ch == '\0') {
			snprintf(why, whylen, "malformed request: NUL byte");
			return PROTO_ERROR;
		}
		if (ch != '\n') {
			if (at - st->line_start + 1 > PG_POLICY_MAX_LINE) {
				snprintf(why, whylen,
				         "line longer than PG_POLICY_MAX_LINE=%d bytes",
				         PG_POLICY_MAX_LINE);
				return PROTO_ERROR;
			}
			continue;
		}
		if (at == st->line_start) {
			*reqlen = at + 1;
			return PROTO_REQUEST;
		}
		if (check_line(st, buf, st->line_start, at, why, whylen) == PROTO_ERROR)
			return PROTO_ERROR;
		st->line_start = at + 1;
	}
	if (len >= PG_POLICY_MAX_REQUEST) {
		snprintf(why, whylen, "request longer than PG_POLICY_MAX_REQUEST=%d bytes",
		         PG_POLICY_MAX_REQUEST);
		return PROTO_ERROR;
	}
	return PROTO_MORE;
}

static int attr_lookup(const char *name, size_t len)
{
	for (int a = 0; a < PD_A_COUNT; a++)
		if (strlen(attr_names[a]) == len && memcmp(attr_names[a], name, len) == 0)
			return a;
	return -1;
}

void proto_parse(char *buf, size_t reqlen, struct pd_request *req)
{
	size_t start = 0;

	memset(req, 0, sizeof *req);
	/* reqlen - 1 is the '\n' of the empty line that ends the request. */
	while (start < reqlen - 1) {
		char *nl = memchr(buf + start, '\n', reqlen - 1 - start);
		char *eq;
		int a;

		if (nl == NULL) /* cannot happen after proto_scan */
			break;
		*nl = '\0';
		eq = memchr(buf + start, '=', (size_t)(nl - (buf + start)));
		if (eq != NULL) {
			a = attr_lookup(buf + start, (size_t)(eq - (buf + start)));
			if (a >= 0)
				req->v[a] = eq + 1; /* a repeated attribute keeps its last value */
		}
		start = (size_t)(nl - buf) + 1;
	}
}
