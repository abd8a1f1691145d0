/*
 * nettable.c - trusted networks as sorted, merged ranges, searched in
 * O(log n) (see nettable.h).
 *
 * Every address is a 128-bit number (hi, lo): an IPv4 address is its 32 bits
 * in lo, an IPv6 address its 16 bytes. A network of prefix p covers the
 * numbers from its address to its address with the host bits set. Ranges
 * sorted by start merge when they overlap or touch, which leaves each family
 * a list of disjoint ranges in ascending order; a lookup finds the last range
 * starting at or below the address and checks its end. The starts are kept
 * apart from the ends, IPv4's as 32-bit numbers, so that the search walks a
 * compact array (400 KB for 100,000 IPv4 networks) and reads one end.
 */
#include <endian.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "hugemem.h"
#include "nettable.h"

struct u128 {
	uint64_t hi, lo;
};

struct range {
	struct u128 first, last;
};

/* Ranges per block of the two-level search: one 64-byte line of starts. */
#define B4 16
#define B6 4

struct pg_nettable {
	void *block; /* every array below, in one allocation (hugemem_alloc) */
	size_t block_size;
	uint32_t *first4, *last4;
	struct u128 *first6, *last6;
	/* top4[j] = first4[j * B4] (top6 likewise): a short array, searched
	 * first, that stays in the cache, so that a lookup then reads one line
	 * of starts and one end instead of missing at every step of the search. */
	uint32_t *top4;
	struct u128 *top6;
	size_t n4, n6;
};

static int u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return a.lo < b.lo ? -1 : a.lo > b.lo;
}

static struct u128 u128_from(int family, const uint8_t *addr)
{
	struct u128 x = {0, 0};

	if (family == AF_INET) {
		x.lo = (uint64_t)addr[0] << 24 | (uint64_t)addr[1] << 16 | (uint64_t)addr[2] << 8 |
		       addr[3];
		return x;
	}
	memcpy(&x.hi, addr, 8); /* big-endian halves */
	memcpy(&x.lo, addr + 8, 8);
	x.hi = be64toh(x.hi);
	x.lo = be64toh(x.lo);
	return x;
}

/* The first and last number of a network. */
static struct range range_of(const struct pg_net *n)
{
	unsigned bits = n->family == AF_INET ? 32 : 128, host = bits - n->prefix;
	struct range r;

	r.first = r.last = u128_from(n->family, n->addr);
	/* host bits: the low `host` bits of the 128-bit number */
	if (host >= 128) {
		r.last.hi = r.last.lo = UINT64_MAX;
	} else if (host >= 64) {
		r.last.lo = UINT64_MAX;
		r.last.hi |= host == 64 ? 0 : (UINT64_MAX >> (128 - host));
	} else if (host > 0) {
		r.last.lo |= UINT64_MAX >> (64 - host);
	}
	/* Host bits of the address are clear (relay_net_parse); clear them again
	 * so that a hand-made entry cannot widen the range downwards. */
	if (host >= 128)
		r.first.hi = r.first.lo = 0;
	else if (host >= 64)
		r.first.lo = 0,
		r.first.hi &= host == 64 ? UINT64_MAX : ~(UINT64_MAX >> (128 - host));
	else if (host > 0)
		r.first.lo &= ~(UINT64_MAX >> (64 - host));
	return r;
}

static int range_cmp(const void *a, const void *b)
{
	return u128_cmp(((const struct range *)a)->first, ((const struct range *)b)->first);
}

/* Sort v[0..n) and merge overlapping or touching ranges; returns the count. */
static size_t merge(struct range *v, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof *v, range_cmp);
	for (size_t i = 1; i < n; i++) {
		struct range *cur = &v[out];
		struct u128 next = cur->last;
		/* next = cur->last + 1, unless cur ends at the top already */
		bool top = next.hi == UINT64_MAX && next.lo == UINT64_MAX;
		if (!top && ++next.lo == 0)
			next.hi++;
		if (top || u128_cmp(v[i].first, next) <= 0) {
			if (u128_cmp(v[i].last, cur->last) > 0)
				cur->last = v[i].last;
		} else {
			v[++out] = v[i];
		}
	}
	return out + 1;
}

struct pg_nettable *nettable_build(const struct pg_net *nets, size_t n)
{
	struct pg_nettable *t = calloc(1, sizeof *t);
	struct range *v4 = NULL, *v6 = NULL;
	size_t n4 = 0, n6 = 0;

	if (t == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		nets[i].family == AF_INET ? n4++ : n6++;
	v4 = malloc((n4 > 0 ? n4 : 1) * sizeof *v4);
	v6 = malloc((n6 > 0 ? n6 : 1) * sizeof *v6);
	if (v4 == NULL || v6 == NULL)
		goto fail;
	n4 = n6 = 0;
	for (size_t i = 0; i < n; i++) {
		if (nets[i].family == AF_INET)
			v4[n4++] = range_of(&nets[i]);
		else if (nets[i].family == AF_INET6)
			v6[n6++] = range_of(&nets[i]);
	}
	t->n4 = merge(v4, n4);
	t->n6 = merge(v6, n6);
	/* The arrays in one block, each on its own cache lines (a block of
	 * starts is one line): a lookup's few lines then lie on one or two huge
	 * pages (hugemem.c) rather than on as many 4 KiB ones. */
	size_t size[6] = {(t->n4 + 1) * sizeof *t->first4,    (t->n4 + 1) * sizeof *t->last4,
	                  (t->n6 + 1) * sizeof *t->first6,    (t->n6 + 1) * sizeof *t->last6,
	                  (t->n4 / B4 + 1) * sizeof *t->top4, (t->n6 / B6 + 1) * sizeof *t->top6};
	size_t off[6], total = 0;
	for (int i = 0; i < 6; i++) {
		off[i] = total;
		total += (size[i] + 63) / 64 * 64;
	}
	if ((t->block = hugemem_alloc(total)) == NULL)
		goto fail;
	t->block_size = total;
	t->first4 = (uint32_t *)(void *)((char *)t->block + off[0]);
	t->last4 = (uint32_t *)(void *)((char *)t->block + off[1]);
	t->first6 = (struct u128 *)(void *)((char *)t->block + off[2]);
	t->last6 = (struct u128 *)(void *)((char *)t->block + off[3]);
	t->top4 = (uint32_t *)(void *)((char *)t->block + off[4]);
	t->top6 = (struct u128 *)(void *)((char *)t->block + off[5]);
	for (size_t i = 0; i < t->n4; i++) {
		t->first4[i] = (uint32_t)v4[i].first.lo;
		t->last4[i] = (uint32_t)v4[i].last.lo;
		if (i % B4 == 0)
			t->top4[i / B4] = t->first4[i];
	}
	for (size_t i = 0; i < t->n6; i++) {
		t->first6[i] = v6[i].first;
		t->last6[i] = v6[i].last;
		if (i % B6 == 0)
			t->top6[i / B6] = t->first6[i];
	}
	free(v4);
	free(v6);
	return t;
fail:
	free(v4);
	free(v6);
	nettable_free(t);
	return NULL;
}

/* The number of ranges starting at or below a (a binary search over the
 * block tops, then over the one block that can hold the answer). */
static size_t count4(const struct pg_nettable *t, uint32_t a)
{
	size_t lo = 0, hi = (t->n4 + B4 - 1) / B4;

	while (lo < hi) { /* blocks whose first start is <= a: [0, lo) */
		size_t mid = lo + (hi - lo) / 2;
		if (t->top4[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	hi = lo * B4 < t->n4 ? lo * B4 : t->n4;
	for (lo = (lo - 1) * B4; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->first4[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t count6(const struct pg_nettable *t, struct u128 a)
{
	size_t lo = 0, hi = (t->n6 + B6 - 1) / B6;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u128_cmp(t->top6[mid], a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	hi = lo * B6 < t->n6 ? lo * B6 : t->n6;
	for (lo = (lo - 1) * B6; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		if (u128_cmp(t->first6[mid], a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool nettable_contains(const struct pg_nettable *t, int family, const uint8_t *addr)
{
	struct u128 a;
	size_t n;

	if (t == NULL || (family != AF_INET && family != AF_INET6))
		return false;
	a = u128_from(family, addr);
	/* the last range starting at or below a is [n - 1] */
	if (family == AF_INET) {
		n = count4(t, (uint32_t)a.lo);
		return n > 0 && (uint32_t)a.lo <= t->last4[n - 1];
	}
	n = count6(t, a);
	return n > 0 && u128_cmp(a, t->last6[n - 1]) <= 0;
}

size_t nettable_ranges(const struct pg_nettable *t, int family)
{
	if (t == NULL)
		return 0;
	return family == AF_INET ? t->n4 : family == AF_INET6 ? t->n6 : 0;
}

void nettable_free(struct pg_nettable *t)
{
	if (t == NULL)
		return;
	hugemem_free(t->block, t->block_size);
	free(t);
}
