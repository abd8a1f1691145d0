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
 * free. Failure: PROTO_ERROR with a message naming the rule or limit; the
 * caller sends nothing and closes the connection, as the protocol asks.
 * Cost: one pass reads the new bytes 64 at a time (SSE2, which every x86-64
 * has; elsewhere a plain loop) into masks of their '\n' and '=' and a test
 * for NUL, which comes before every other rule (a NUL in a later pipelined
 * request closes the connection before the earlier one is answered; after a
 * request is found, one memchr looks at what follows). Where no rule can
 * break in a block, every line's first '=' comes from one subtraction over
 * the masks (block_fast); otherwise the lines are checked one by one
 * (block_checked), as is always a line begun in an earlier block. Names are found by
 * a hash of a few word loads, with no loop.
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
 * Name lookup in O(1), without a loop: a name is read as three overlapping
 * words that together hold every one of its bytes (its key); a multiply of
 * the key picks one of 256 slots, and the slot's attribute is the name when
 * its length and key are equal. A name of a length no attribute has (most
 * unknown ones) is not looked up at all. The known names do not collide
 * (check_policyd_session proves that every name finds itself).
 */
#define ATTR_HASH_BITS 8
#define ATTR_NAME_MAX  24 /* the key's three words hold at most this many bytes */
struct attr_key {
	uint64_t w[3];
};
static signed char attr_slot[1u << ATTR_HASH_BITS];
static struct attr_key attr_keys[PD_A_COUNT];
static uint32_t attr_lens; /* bit n: an attribute's name has n bytes */
_Static_assert(ATTR_NAME_MAX < 32, "attr_lens has a bit for every length");

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

/* n holds len bytes, 1 <= len <= ATTR_NAME_MAX; only those are read. */
__attribute__((always_inline)) static inline struct attr_key attr_key(const char *n, size_t len)
{
	struct attr_key k;

	if (len >= 8) {
		k.w[0] = load64(n);
		k.w[2] = load64(n + len - 8);
		k.w[1] = len > 16 ? load64(n + 8) : k.w[2];
	} else if (len >= 4) {
		k.w[0] = load32(n) | (uint64_t)load32(n + len - 4) << 32;
		k.w[1] = k.w[2] = 0;
	} else {
		k.w[0] = (unsigned char)n[0] | (unsigned)(unsigned char)n[len / 2] << 8 |
		         (unsigned)(unsigned char)n[len - 1] << 16;
		k.w[1] = k.w[2] = 0;
	}
	return k;
}

static unsigned attr_hash(const struct attr_key *k, size_t len)
{
	return (unsigned)(((k->w[0] + (k->w[2] >> 3) + len) * UINT64_C(0x9E3779B97F4A7C15)) >>
	                  (64 - ATTR_HASH_BITS));
}

/* Built before main() runs, so the lookup need not ask whether it was. */
__attribute__((constructor)) static void attr_hash_build(void)
{
	memset(attr_slot, -1, sizeof attr_slot);
	for (int a = 0; a < PD_A_COUNT; a++) {
		attr_keys[a] = attr_key(attr_names[a].name, attr_names[a].len);
		attr_slot[attr_hash(&attr_keys[a], attr_names[a].len)] = (signed char)a;
		attr_lens |= UINT32_C(1) << attr_names[a].len;
	}
}

__attribute__((always_inline)) static inline int attr_lookup(const char *name, size_t len)
{
	struct attr_key k;
	const struct attr_key *want;
	int a;

	if (len > ATTR_NAME_MAX || (attr_lens >> len & 1) == 0)
		return -1;
	k = attr_key(name, len);
	a = attr_slot[attr_hash(&k, len)];
	if (a < 0)
		return -1;
	want = &attr_keys[a];
	return attr_names[a].len == len &&
	               ((want->w[0] ^ k.w[0]) | (want->w[1] ^ k.w[1]) | (want->w[2] ^ k.w[2])) == 0
	           ? a
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

/* For the n <= 64 bytes at p: bits i of nl and eq, p[i] is '\n', '='; nul
 * is not 0 when one of them is NUL. */
struct proto_masks {
	uint64_t nl, eq, nul;
};

#ifdef PROTO_SSE2
__attribute__((always_inline)) static inline uint64_t mask16(__m128i v, __m128i c, unsigned shift)
{
	return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) << shift;
}
#endif

__attribute__((always_inline)) static inline void special_masks(const char *p, size_t n,
                                                                struct proto_masks *m)
{
#ifdef PROTO_SSE2
	if (n == 64) {
		const __m128i cnl = _mm_set1_epi8('\n'), ceq = _mm_set1_epi8('=');
		const __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
		const __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
		const __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
		const __m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
		/* the smallest byte of each column is 0 where any of the four is */
		const __m128i low = _mm_min_epu8(_mm_min_epu8(v0, v1), _mm_min_epu8(v2, v3));

		m->nl = mask16(v0, cnl, 0) | mask16(v1, cnl, 16) | mask16(v2, cnl, 32) |
		        mask16(v3, cnl, 48);
		m->eq = mask16(v0, ceq, 0) | mask16(v1, ceq, 16) | mask16(v2, ceq, 32) |
		        mask16(v3, ceq, 48);
		m->nul = mask16(low, _mm_setzero_si128(), 0);
		return;
	}
#endif
	m->nl = m->eq = m->nul = 0;
	for (size_t i = 0; i < n; i++) {
		m->nl |= (uint64_t)(p[i] == '\n') << i;
		m->eq |= (uint64_t)(p[i] == '=') << i;
		m->nul |= (uint64_t)(p[i] == '\0') << i;
	}
}

_Static_assert(PG_POLICY_MAX_REQUEST <= UINT16_MAX, "offsets in struct proto_scan are 16-bit");
_Static_assert(PG_POLICY_MAX_ATTRS >= 64, "a block of 64 bytes must not reach the attribute limit");

static enum proto_status nul_byte(char *why, size_t whylen)
{
	snprintf(why, whylen, "malformed request: NUL byte");
	return PROTO_ERROR;
}

/* Where the scan is, in locals while it runs (buf is char: through st the
 * compiler would reload it after every store). */
struct proto_cursor {
	size_t line_start; /* the current, unfinished line's first byte */
	size_t cur_eq;     /* its first '=', or SIZE_MAX */
	unsigned nattrs;
};

/* The current line ends at p ('\n'), its first '=' in c->cur_eq: every rule,
 * then its value noted. PROTO_MORE: go on. */
__attribute__((always_inline)) static inline enum proto_status
line_end(struct proto_scan *st, struct proto_cursor *c, const char *buf, size_t p, size_t *reqlen,
         char *why, size_t whylen)
{
	size_t namelen;
	int a;

	if (p - c->line_start > PG_POLICY_MAX_LINE) {
		snprintf(why, whylen, "line longer than PG_POLICY_MAX_LINE=%d bytes",
		         PG_POLICY_MAX_LINE);
		return PROTO_ERROR;
	}
	if (p == c->line_start) {
		*reqlen = st->done = p + 1;
		return PROTO_REQUEST;
	}
	/* one test for: no '=' (namelen huge), empty name, name too long */
	namelen = c->cur_eq - c->line_start;
	if (++c->nattrs > PG_POLICY_MAX_ATTRS || namelen - 1 >= PG_POLICY_MAX_NAME)
		return line_refused(c->nattrs, c->line_start, c->cur_eq, why, whylen);
	a = attr_lookup(buf + c->line_start, namelen);
	if (a >= 0) {
		st->val_off[a] = (uint16_t)(c->cur_eq + 1);
		st->val_end[a] = (uint16_t)p;
	}
	c->line_start = p + 1;
	c->cur_eq = SIZE_MAX;
	return PROTO_MORE;
}

/* Every line that ends in the block at base (masks m), one by one with
 * every rule: for a block where one may break. */
static enum proto_status block_checked(struct proto_scan *st, struct proto_cursor *c,
                                       const char *buf, size_t base, const struct proto_masks *m,
                                       size_t *reqlen, char *why, size_t whylen)
{
	uint64_t eq = m->eq;

	for (uint64_t nl = m->nl; nl != 0; nl &= nl - 1) {
		unsigned bit = (unsigned)__builtin_ctzll(nl);
		uint64_t before = eq & ((UINT64_C(1) << bit) - 1); /* '=' of this line */
		enum proto_status r;

		if (c->cur_eq == SIZE_MAX && before != 0)
			c->cur_eq = base + (size_t)__builtin_ctzll(before);
		eq &= ~before;
		if ((r = line_end(st, c, buf, base + bit, reqlen, why, whylen)) != PROTO_MORE)
			return r;
	}
	/* a '=' after the block's last '\n' ends the name of the next line */
	if (c->cur_eq == SIZE_MAX && eq != 0)
		c->cur_eq = base + (size_t)__builtin_ctzll(eq);
	return PROTO_MORE;
}

/*
 * The same for a block where no rule can break but the first line's, found
 * for all lines at once. With x = its '=' and '\n' bits and seg = a bit where
 * each line begins, x - seg borrows from each line's start up to its first
 * set bit, so x & ~(x - seg) holds each line's first '=' (or its '\n', when it
 * has none): the lines that begin in the block need no test of their own.
 */
static enum proto_status block_fast(struct proto_scan *st, struct proto_cursor *c, const char *buf,
                                    size_t base, const struct proto_masks *m, uint64_t first,
                                    size_t *reqlen, char *why, size_t whylen)
{
	uint64_t nl = m->nl;
	enum proto_status r;

	if (c->line_start < base) { /* the line begun before: every rule */
		if (c->cur_eq == SIZE_MAX) {
			c->cur_eq = base + (size_t)__builtin_ctzll(first); /* an '=': not refused */
			first &= first - 1;
		}
		if ((r = line_end(st, c, buf, base + (size_t)__builtin_ctzll(nl), reqlen, why,
		                  whylen)) != PROTO_MORE)
			return r;
		nl &= nl - 1;
	}
	for (; nl != 0; nl &= nl - 1) {
		size_t p = base + (size_t)__builtin_ctzll(nl);
		size_t eq = base + (size_t)__builtin_ctzll(first);
		int a;

		first &= first - 1;
		if (p == c->line_start) {
			*reqlen = st->done = p + 1;
			return PROTO_REQUEST;
		}
		c->nattrs++;
		a = attr_lookup(buf + c->line_start, eq - c->line_start);
		if (a >= 0) {
			st->val_off[a] = (uint16_t)(eq + 1);
			st->val_end[a] = (uint16_t)p;
		}
		c->line_start = p + 1;
	}
	/* the line after the block's last '\n': its '=', if it has one here */
	c->cur_eq = first != 0 ? base + (size_t)__builtin_ctzll(first) : SIZE_MAX;
	return PROTO_MORE;
}

enum proto_status proto_scan(struct proto_scan *st, const char *buf, size_t len, size_t *reqlen,
                             char *why, size_t whylen)
{
	struct proto_cursor c = {st->line_start, st->cur_eq, st->nattrs};
	size_t pos = st->pos;
	enum proto_status r;

	if (st->done != 0) { /* found before: the same answer */
		*reqlen = st->done;
		return PROTO_REQUEST;
	}
	while (pos < len) {
		size_t base = pos, n = len - base < 64 ? len - base : 64;
		struct proto_masks m;
		uint64_t starts, x, first, nl;

		/* A short tail: the 64 bytes that end at len, the ones already
		 * seen shifted out (all of them inside the buffer, and free of
		 * NUL: a NUL among the 64 is a new one). */
		if (n < 64 && len >= 64) {
			special_masks(buf + len - 64, 64, &m);
			m.nl >>= 64 - n;
			m.eq >>= 64 - n;
		} else {
			special_masks(buf + base, n, &m);
		}
		/* A NUL anywhere in the bytes not checked yet ends the connection,
		 * before any other rule (so a NUL in a later pipelined request
		 * closes the connection before the earlier one is answered). */
		if (m.nul != 0)
			return nul_byte(why, whylen);
		pos = base + n;
		if (m.nl == 0) { /* inside one line: its first '=', if it is here */
			if (c.cur_eq == SIZE_MAX && m.eq != 0)
				c.cur_eq = base + (size_t)__builtin_ctzll(m.eq);
			continue;
		}
		starts = m.nl << 1 | (uint64_t)(c.line_start == base);
		x = m.eq | m.nl;
		first = x & ~(x - (starts | (uint64_t)(c.cur_eq == SIZE_MAX)));
		/* an empty line ends the request: what follows it is not read */
		nl = m.nl;
		if ((m.nl & starts) != 0) {
			uint64_t end = m.nl & starts, keep = ((end & -end) << 1) - 1;

			nl &= keep;
			first &= keep;
		}
		/* Only a line that began before the block can be too long or have
		 * too long a name, and only a request near its limit can have too
		 * many lines: block_fast tests the first line for the first two.
		 * An empty name is an '=' where a line begins; a line without '='
		 * has its '\n' as its first. */
		if ((first & starts & m.eq) != 0 || (first & nl & ~starts) != 0 ||
		    c.nattrs > PG_POLICY_MAX_ATTRS - 64)
			r = block_checked(st, &c, buf, base, &m, reqlen, why, whylen);
		else
			r = block_fast(st, &c, buf, base, &(struct proto_masks){nl, m.eq, 0}, first,
			               reqlen, why, whylen);
		if (r != PROTO_MORE) {
			/* The blocks up to pos had no NUL; the bytes after them must
			 * not either, whatever was found. */
			if (pos < len && memchr(buf + pos, '\0', len - pos) != NULL)
				return nul_byte(why, whylen);
			return r;
		}
	}
	if (len - c.line_start > PG_POLICY_MAX_LINE) {
		snprintf(why, whylen, "line longer than PG_POLICY_MAX_LINE=%d bytes",
		         PG_POLICY_MAX_LINE);
		return PROTO_ERROR;
	}
	if (len >= PG_POLICY_MAX_REQUEST) {
		snprintf(why, whylen, "request longer than PG_POLICY_MAX_REQUEST=%d bytes",
		         PG_POLICY_MAX_REQUEST);
		return PROTO_ERROR;
	}
	st->pos = pos;
	st->line_start = c.line_start;
	st->cur_eq = c.cur_eq;
	st->nattrs = c.nattrs;
	return PROTO_MORE;
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
