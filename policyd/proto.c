/*
 * proto.c - the Postfix policy protocol's input side, bounded.
 *
 * Input: the bytes a connection has buffered (at most PG_POLICY_MAX_REQUEST,
 * always starting at the beginning of a request). proto_scan() checks new
 * bytes incrementally against every limit of pg_limits.h and the syntax
 * (name=value lines, a non-empty name, no NUL byte) and reports a complete
 * request as soon as its empty line arrives; as each line ends it looks its
 * name up in a fixed table of known attributes and notes where the value is.
 * proto_parse() then NUL-terminates those values in place and points the
 * request at them: nothing is allocated, unknown attributes are ignored, and
 * a repeated attribute keeps its last value. A request found stays found:
 * proto_scan() answers the same until proto_reset(), so the loop scans as
 * it reads (to prefetch for the recipient) and again as it answers, for
 * free. Failure: PROTO_ERROR with a
 * message naming the rule or limit; the caller sends nothing and closes the
 * connection, as the protocol asks.
 * Cost: one memchr per call looks for NUL over the bytes not checked yet (so
 * a NUL in a later pipelined request closes the connection before the
 * earlier one is answered); then one pass finds the '\n' and '=' of the new
 * bytes 64 at a time (four SSE2 compares, which every x86-64 has; elsewhere
 * a plain loop), and per line only its end and first '=' are handled; names
 * are found through a small hash.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#if defined(__SSE2__) && !defined(PG_NO_SIMD)
#define PROTO_SSE2 1
#include <emmintrin.h>
#endif

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
	st->cur_eq = SIZE_MAX;
	st->nattrs = 0;
	st->done = 0;
	memset(st->val_end, 0, sizeof st->val_end);
}

/*
 * Name lookup in O(1): a small hash of length, first, middle and last byte,
 * built once. The known names do not collide (check_policyd_session proves
 * every name finds itself). Unknown names cost one hash and at most one
 * comparison, done with a few word loads (the names are short), not a call
 * to memcmp.
 */
#define ATTR_HASH_SIZE 64
static signed char attr_slot[ATTR_HASH_SIZE];

static unsigned attr_hash(const char *n, size_t len)
{
	return ((unsigned)len * 2u + (unsigned char)n[0] * 3u + (unsigned char)n[len - 1] +
	        (unsigned char)n[len / 2]) %
	       ATTR_HASH_SIZE;
}

/* Built before main() runs, so the lookup need not ask whether it was. */
__attribute__((constructor)) static void attr_hash_build(void)
{
	memset(attr_slot, -1, sizeof attr_slot);
	for (int a = 0; a < PD_A_COUNT; a++)
		attr_slot[attr_hash(attr_names[a].name, attr_names[a].len)] = (signed char)a;
}

static uint64_t load64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static uint32_t load32(const char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* a and b hold len bytes (1 <= len <= PG_POLICY_MAX_NAME) each; only those
 * bytes are read: overlapping loads from both ends. */
static bool name_eq(const char *a, const char *b, size_t len)
{
	if (len >= 8) {
		for (size_t i = 0; i + 8 < len; i += 8)
			if (load64(a + i) != load64(b + i))
				return false;
		return load64(a + len - 8) == load64(b + len - 8);
	}
	if (len >= 4)
		return load32(a) == load32(b) && load32(a + len - 4) == load32(b + len - 4);
	return memcmp(a, b, len) == 0;
}

static int attr_lookup(const char *name, size_t len)
{
	int a = attr_slot[attr_hash(name, len)];

	return a >= 0 && attr_names[a].len == len && name_eq(attr_names[a].name, name, len) ? a
	                                                                                    : -1;
}

/* Why line buf[start .. end) (eq: its first '=', or SIZE_MAX) is refused,
 * in the order the rules are listed; only called when one of them fails. */
static enum proto_status line_refused(unsigned nattrs, size_t start, size_t eq, char *why,
                                      size_t whylen)
{
	if (nattrs > PG_POLICY_MAX_ATTRS)
		snprintf(why, whylen, "more than PG_POLICY_MAX_ATTRS=%d attributes in one request",
		         PG_POLICY_MAX_ATTRS);
	else if (eq == SIZE_MAX)
		snprintf(why, whylen, "malformed request: attribute line without '='");
	else if (eq == start)
		snprintf(why, whylen, "malformed request: empty attribute name");
	else
		snprintf(why, whylen, "attribute name longer than PG_POLICY_MAX_NAME=%d bytes",
		         PG_POLICY_MAX_NAME);
	return PROTO_ERROR;
}

/* Bits i of *nl and *eq: p[i] is '\n', '='; for the n <= 64 bytes at p. */
static void special_masks(const char *p, size_t n, uint64_t *nl, uint64_t *eq)
{
#ifdef PROTO_SSE2
	if (n == 64) {
		const __m128i cnl = _mm_set1_epi8('\n'), ceq = _mm_set1_epi8('=');
		uint64_t mnl = 0, meq = 0;

		for (unsigned i = 0; i < 4; i++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));

			mnl |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cnl))
			       << (16 * i);
			meq |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, ceq))
			       << (16 * i);
		}
		*nl = mnl;
		*eq = meq;
		return;
	}
#endif
	*nl = *eq = 0;
	for (size_t i = 0; i < n; i++) {
		*nl |= (uint64_t)(p[i] == '\n') << i;
		*eq |= (uint64_t)(p[i] == '=') << i;
	}
}

_Static_assert(PG_POLICY_MAX_REQUEST <= UINT16_MAX, "offsets in struct proto_scan are 16-bit");

enum proto_status proto_scan(struct proto_scan *st, const char *buf, size_t len, size_t *reqlen,
                             char *why, size_t whylen)
{
	/* The state in locals while scanning (buf is char: the compiler would
	 * otherwise reload st after every store), written back on return. */
	size_t pos = st->pos, line_start = st->line_start, cur_eq = st->cur_eq;
	unsigned nattrs = st->nattrs;
	enum proto_status ret = PROTO_MORE;

	if (st->done != 0) { /* found before: the same answer */
		*reqlen = st->done;
		return PROTO_REQUEST;
	}
	/* A NUL anywhere in the bytes not checked yet ends the connection; one
	 * memchr per call, not one per line. */
	if (pos < len && memchr(buf + pos, '\0', len - pos) != NULL) {
		snprintf(why, whylen, "malformed request: NUL byte");
		return PROTO_ERROR;
	}
	while (pos < len) {
		size_t base = pos, n = len - base < 64 ? len - base : 64;
		uint64_t nl, eq;

		/* A short tail: the 64 bytes that end at len, the ones already
		 * seen shifted out (all of them inside the buffer). */
		if (n < 64 && len >= 64) {
			special_masks(buf + len - 64, 64, &nl, &eq);
			nl >>= 64 - n;
			eq >>= 64 - n;
		} else {
			special_masks(buf + base, n, &nl, &eq);
		}
		pos = base + n;
		for (; nl != 0; nl &= nl - 1) {
			unsigned bit = (unsigned)__builtin_ctzll(nl);
			size_t p = base + bit, namelen;
			uint64_t before = eq & ((UINT64_C(1) << bit) - 1); /* '=' of this line */
			int a;

			if (cur_eq == SIZE_MAX && before != 0)
				cur_eq = base + (size_t)__builtin_ctzll(before);
			eq &= ~before;
			if (p - line_start > PG_POLICY_MAX_LINE)
				goto too_long;
			if (p == line_start) {
				pos = p + 1;
				*reqlen = st->done = p + 1;
				ret = PROTO_REQUEST;
				goto out;
			}
			/* one test for: no '=' (namelen huge), empty name, name too long */
			namelen = cur_eq - line_start;
			if (++nattrs > PG_POLICY_MAX_ATTRS || namelen - 1 >= PG_POLICY_MAX_NAME)
				return line_refused(nattrs, line_start, cur_eq, why, whylen);
			a = attr_lookup(buf + line_start, namelen);
			if (a >= 0) {
				st->val_off[a] = (uint16_t)(cur_eq + 1);
				st->val_end[a] = (uint16_t)p;
			}
			line_start = p + 1;
			cur_eq = SIZE_MAX;
		}
		/* a '=' after the block's last '\n' starts the name of the next line */
		if (cur_eq == SIZE_MAX && eq != 0)
			cur_eq = base + (size_t)__builtin_ctzll(eq);
	}
	if (len - line_start > PG_POLICY_MAX_LINE)
		goto too_long;
	if (len >= PG_POLICY_MAX_REQUEST) {
		snprintf(why, whylen, "request longer than PG_POLICY_MAX_REQUEST=%d bytes",
		         PG_POLICY_MAX_REQUEST);
		return PROTO_ERROR;
	}
out:
	st->pos = pos;
	st->line_start = line_start;
	st->cur_eq = cur_eq;
	st->nattrs = nattrs;
	return ret;
too_long:
	snprintf(why, whylen, "line longer than PG_POLICY_MAX_LINE=%d bytes", PG_POLICY_MAX_LINE);
	return PROTO_ERROR;
}

void proto_parse(char *buf, const struct proto_scan *st, struct pd_request *req)
{
	for (int a = 0; a < PD_A_COUNT; a++) {
		if (st->val_end[a] == 0) {
			req->v[a] = NULL;
			continue;
		}
		buf[st->val_end[a]] = '\0';
		req->v[a] = buf + st->val_off[a];
	}
}
