/*
 * fuzz_proto.c - libFuzzer target for the policy protocol's input side.
 *
 * Feeds arbitrary bytes to proto_scan() in chunks (as reads would deliver
 * them) within the per-connection buffer bound, then proto_parse() on every
 * complete request, exactly as policyd's loop does. Any crash, overread or
 * undefined behaviour is a finding; the scanner must either ask for more,
 * report a request, or report an error.
 *
 * Every answer is also checked against ref_scan() below, a plain byte-by-byte
 * reading of the same rules with no state and no speed tricks: the same
 * status, the same request length, every known attribute's value at the same
 * place, the same error message. A difference aborts (a finding). Built a
 * second time with -DPG_NO_SIMD, so the portable path is checked too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policyd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The rules, read the slow and obvious way, on everything buffered. */
static enum proto_status ref_scan(const char *b, size_t len, size_t *reqlen,
                                  const char *val[PD_A_COUNT], size_t vlen[PD_A_COUNT], char *why,
                                  size_t whylen)
{
	size_t start = 0;
	unsigned nattrs = 0;

	for (int a = 0; a < PD_A_COUNT; a++)
		val[a] = NULL;
	for (size_t i = 0; i < len; i++) {
		if (b[i] == '\0') {
			snprintf(why, whylen, "malformed request: NUL byte");
			return PROTO_ERROR;
		}
	}
	for (size_t i = 0; i < len; i++) {
		size_t eq;

		if (b[i] != '\n')
			continue;
		if (i - start > PG_POLICY_MAX_LINE) {
			snprintf(why, whylen, "line longer than PG_POLICY_MAX_LINE=%d bytes",
			         PG_POLICY_MAX_LINE);
			return PROTO_ERROR;
		}
		if (i == start) {
			*reqlen = i + 1;
			return PROTO_REQUEST;
		}
		if (++nattrs > PG_POLICY_MAX_ATTRS) {
			snprintf(why, whylen,
			         "more than PG_POLICY_MAX_ATTRS=%d attributes in one request",
			         PG_POLICY_MAX_ATTRS);
			return PROTO_ERROR;
		}
		for (eq = start; eq < i && b[eq] != '='; eq++)
			;
		if (eq == i) {
			snprintf(why, whylen, "malformed request: attribute line without '='");
			return PROTO_ERROR;
		}
		if (eq == start) {
			snprintf(why, whylen, "malformed request: empty attribute name");
			return PROTO_ERROR;
		}
		if (eq - start > PG_POLICY_MAX_NAME) {
			snprintf(why, whylen,
			         "attribute name longer than PG_POLICY_MAX_NAME=%d bytes",
			         PG_POLICY_MAX_NAME);
			return PROTO_ERROR;
		}
		for (int a = 0; a < PD_A_COUNT; a++) {
			const char *name = proto_attr_name((enum pd_attr)a);
			if (strlen(name) == eq - start &&
			    memcmp(name, b + start, eq - start) == 0) {
				val[a] = b + eq + 1;
				vlen[a] = i - (eq + 1);
			}
		}
		start = i + 1;
	}
	if (len - start > PG_POLICY_MAX_LINE) {
		snprintf(why, whylen, "line longer than PG_POLICY_MAX_LINE=%d bytes",
		         PG_POLICY_MAX_LINE);
		return PROTO_ERROR;
	}
	if (len >= PG_POLICY_MAX_REQUEST) {
		snprintf(why, whylen, "request longer than PG_POLICY_MAX_REQUEST=%d bytes",
		         PG_POLICY_MAX_REQUEST);
		return PROTO_ERROR;
	}
	return PROTO_MORE;
}

static void differ(const char *what)
{
	fprintf(stderr, "fuzz_proto: proto_scan and the reference disagree: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[PG_POLICY_MAX_REQUEST];
	struct proto_scan st;
	struct pd_request req;
	char why[256];
	size_t have = 0, off = 0;
	/* the first byte picks the read size, so split requests are covered */
	size_t chunk = size > 0 ? (size_t)(data[0] % 64) + 1 : 1;

	proto_reset(&st);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t reqlen = 0;
		enum proto_status s;

		if (n > sizeof buf - have)
			n = sizeof buf - have;
		if (n == 0)
			break;
		memcpy(buf + have, data + off, n);
		have += n;
		off += n;
		for (;;) {
			const char *rval[PD_A_COUNT];
			size_t rvlen[PD_A_COUNT], rreqlen = 0, again = 0;
			char rwhy[256];
			enum proto_status rs =
			    ref_scan(buf, have, &rreqlen, rval, rvlen, rwhy, sizeof rwhy);

			s = proto_scan(&st, buf, have, &reqlen, why, sizeof why);
			if (s != rs)
				differ("status");
			if (s == PROTO_ERROR && strcmp(why, rwhy) != 0)
				differ("error message");
			if (s != PROTO_REQUEST)
				break;
			if (reqlen != rreqlen)
				differ("request length");
			/* the loop scans as it reads and again as it answers: a request
			 * found stays found, whatever follows it in the buffer */
			if (proto_scan(&st, buf, have, &again, why, sizeof why) != PROTO_REQUEST ||
			    again != reqlen)
				differ("a second scan of a complete request");
			proto_parse(buf, &st, &req);
			for (int a = 0; a < PD_A_COUNT; a++) {
				if ((req.v[a] == NULL) != (rval[a] == NULL))
					differ("an attribute present in one only");
				if (req.v[a] != NULL &&
				    (req.v[a] != rval[a] || strlen(req.v[a]) != rvlen[a]))
					differ("an attribute's value");
			}
			memmove(buf, buf + reqlen, have - reqlen);
			have -= reqlen;
			proto_reset(&st);
		}
		if (s == PROTO_ERROR)
			return 0; /* policyd closes the connection */
	}
	return 0;
}
