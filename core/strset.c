/*
 * strset.c - de-duplicated string sets with a hash index.
 *
 * Built once at config load (cipher names, local domains and their parents,
 * fingerprints) and only read afterwards, so lookups need no lock and
 * allocate nothing. strset_add() copies each string as it is read to the end
 * of one arena (items point into it; no block per string, so loading a
 * million domains costs their bytes and a pointer each). strset_build()
 * then drops the duplicates and moves the strings into a table of 32-byte
 * cells, two to a cache line, filled at most three quarters by Robin Hood
 * linear probing. A cell holds the upper half of the string's 64-bit hash,
 * its distance from its home cell, and the string itself when it has at
 * most 26 bytes (a domain name almost always has), else its offset in an
 * arena of the long ones. A lookup starts at the home cell the hash gives
 * and stops at the string, at an empty cell or at a cell nearer its own
 * home than the string would be: about two cells, found or not, so one
 * cache line or two whatever the size of the set (PG_MAX_LOCAL_DOMAINS).
 * strset_prefetch() starts loading those lines early, for a caller with
 * other work to do meanwhile; no address it loads depends on another load.
 * A bit per string length (lens) answers a lookup of a length no string
 * has before any hashing: the usual miss while the set is small.
 * Large tables ask the kernel for transparent huge pages, so that a random
 * lookup misses the TLB less.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hugemem.h"
#include "strset.h"

/* Robin Hood keeps the longest probe short (about log n); past this the
 * build doubles the table. The cells after the last home one absorb the
 * probes that would wrap. */
#define STRSET_MAX_DIST 255

_Static_assert(sizeof(struct strset_cell) == 32, "two cells to a cache line");
_Static_assert(STRSET_MAX_DIST <= UINT8_MAX, "a cell's distance is one byte");

/* Bytes 'A'-'Z' of w in lower case, the others as they are (eight at once). */
static inline uint64_t strset_fold8(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, high = ones * 0x80;
	uint64_t low7 = w & ~high;
	uint64_t from_a = low7 + ones * (0x80 - 'A'); /* high bit: at least 'A' */
	uint64_t past_z = low7 + ones * (0x80 - 'Z' - 1);

	return w | ((from_a & ~past_z & ~w & high) >> 2);
}

/* The hash of s (len bytes), case-folded: eight bytes a step, then mixed
 * (a Murmur3 finaliser), so that the home cell (the lower half) and the tag
 * (the upper half) depend on every byte. Folding lets strset_prefetch()
 * hash a recipient as written; the sets compare bytes, so a set of
 * upper-case names (ciphers) loses nothing but a few collisions. */
static uint64_t strset_hash(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15u ^ len, w;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ strset_fold8(w)) * 0xff51afd7ed558ccdu;
		h ^= h >> 29;
	}
	if (i < len) {
		w = 0;
		memcpy(&w, s + i, len - i);
		h = (h ^ strset_fold8(w)) * 0xff51afd7ed558ccdu;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53u;
	return h ^ (h >> 33);
}

/* The home cell of hash h: its lower half scaled to the table. */
static inline size_t strset_home(const struct pg_strset *set, uint64_t h)
{
	return (size_t)(((uint64_t)(uint32_t)h * set->ncells) >> 32);
}

static inline uint32_t strset_tag(uint64_t h)
{
	return ((uint32_t)(h >> 32) | 2u) & ~1u;
}

/* Start loading the cells where s (len bytes, case-folded on the way)
 * would be: a hint only, so a wrong guess costs nothing but the loads. */
void strset_prefetch(const struct pg_strset *set, const char *s, size_t len)
{
	size_t home;

	if (set->cells == NULL || set->count == 0)
		return;
	home = strset_home(set, strset_hash(s, len));
	__builtin_prefetch(&set->cells[home]);
	if (home + 2 < set->ncells) /* the next line, when home is its second cell */
		__builtin_prefetch(&set->cells[home + 2]);
}

/* The bit of lens[] for strings of len bytes. */
static inline size_t strset_len_bit(size_t len)
{
	return len < 255 ? len : 255;
}

/* Whether the string str is s (len bytes, no NUL among them): strncmp
 * stops at str's NUL, so nothing past it is read. */
static inline bool strset_equal(const char *str, const char *s, size_t len)
{
	return strncmp(str, s, len) == 0 && str[len] == '\0';
}

static const char *strset_cell_str(const struct pg_strset *set, const struct strset_cell *c)
{
	uint32_t off;

	if ((c->tag & 1u) == 0)
		return c->s;
	memcpy(&off, c->s, sizeof off);
	return set->arena + off;
}

/* The cell holding s (len bytes, no NUL among them), or NULL. */
static const struct strset_cell *strset_find(const struct pg_strset *set, const char *s, size_t len,
                                             uint64_t h)
{
	uint32_t tag = strset_tag(h);
	const struct strset_cell *c = &set->cells[strset_home(set, h)];

	for (unsigned d = 0;; d++, c++) {
		if (c->tag == 0 || c->dist < d)
			return NULL;
		if ((c->tag & ~1u) == tag && strset_equal(strset_cell_str(set, c), s, len))
			return c;
	}
}

bool strset_add(struct pg_strset *set, const char *s)
{
	size_t len = strlen(s) + 1, n = set->count;

	if (n >= 16 ? (n & (n - 1)) == 0 : n == 0) { /* 0, 16, 32, 64 ...: full */
		char **grown = realloc(set->items, (n < 16 ? 16 : 2 * n) * sizeof *grown);
		if (grown == NULL)
			return false;
		set->items = grown;
	}
	if (set->used + len > set->cap) {
		size_t cap = set->cap < 4096 ? 4096 : 2 * set->cap;
		char *grown;
		while (cap < set->used + len)
			cap *= 2;
		if (cap >= UINT32_MAX)
			return false;
		/* the items point into the arena: kept as offsets while it moves */
		for (size_t i = 0; i < n; i++)
			set->items[i] = (char *)(uintptr_t)(set->items[i] - set->arena);
		grown = realloc(set->arena, cap);
		if (grown != NULL) {
			set->arena = grown;
			set->cap = cap;
			hugemem_advise(grown, cap);
		}
		for (size_t i = 0; i < n; i++)
			set->items[i] = set->arena + (uintptr_t)set->items[i];
		if (grown == NULL)
			return false;
	}
	memcpy(set->arena + set->used, s, len);
	set->items[set->count++] = set->arena + set->used;
	set->lens[strset_len_bit(len - 1) / 64] |= 1ull << (strset_len_bit(len - 1) % 64);
	set->used += len;
	return true;
}

/* Put item k (string s, hash h) into the cells, or find its equal there.
 * A cell holds the item's number while the table is built (in s); Robin
 * Hood: a cell nearer its home than the carried item gives its place up
 * and the walk carries it on. false: a probe past STRSET_MAX_DIST. */
static bool strset_place(struct pg_strset *set, const struct pg_strset *old, uint32_t k, uint64_t h,
                         bool *dup)
{
	struct strset_cell carry = {.tag = strset_tag(h)};
	struct strset_cell *c = &set->cells[strset_home(set, h)];
	bool mine = true; /* carrying item k: an equal string is a duplicate */

	memcpy(carry.s, &k, sizeof k);
	*dup = false;
	for (;; c++) {
		if (c->tag == 0) {
			*c = carry;
			return true;
		}
		if (mine && c->dist == carry.dist && c->tag == carry.tag) {
			uint32_t other;
			memcpy(&other, c->s, sizeof other);
			if (strcmp(old->items[other], old->items[k]) == 0) {
				*dup = true;
				return true;
			}
		}
		if (c->dist < carry.dist) {
			struct strset_cell t = *c;
			*c = carry;
			carry = t;
			mine = false;
		}
		if (carry.dist == STRSET_MAX_DIST)
			return false;
		carry.dist++;
	}
}

/* Index set's strings in ncells home cells: drop the duplicates, keep the
 * items' order, move the short strings into their cells and the long ones
 * into a new arena. false: out of memory, or a probe too long (*too_long:
 * the caller tries twice the cells). */
static bool strset_index(struct pg_strset *set, size_t ncells, bool *too_long)
{
	struct pg_strset old = *set;
	size_t tail = old.count < STRSET_MAX_DIST + 1 ? old.count : STRSET_MAX_DIST + 1;
	size_t total = ncells + tail, out = 0, pos = 0, longbytes = 0;
	struct strset_cell *cells = hugemem_alloc(total * sizeof *cells);
	uint32_t *keep = calloc(old.count, sizeof *keep);
	char **items = NULL, *arena = NULL;

	*too_long = false;
	if (cells == NULL || keep == NULL)
		goto fail;
	set->cells = cells;
	set->ncells = ncells;
	set->ncap = total;
	/* the index, over item numbers; the first of equal strings wins */
	for (size_t k = 0; k < old.count; k++) {
		bool dup;
		if (!strset_place(set, &old, (uint32_t)k,
		                  strset_hash(old.items[k], strlen(old.items[k])), &dup)) {
			*too_long = true;
			goto fail;
		}
		if (!dup) {
			size_t len = strlen(old.items[k]) + 1;
			keep[k] = (uint32_t)++out; /* its new position, plus one */
			if (len > sizeof cells->s)
				longbytes += len;
		}
	}
	items = malloc(out * sizeof *items);
	arena = malloc(longbytes > 0 ? longbytes : 1);
	if (items == NULL || arena == NULL)
		goto fail;
	/* each string into its cell (short) or the new arena (long) */
	for (size_t i = 0; i < total; i++) {
		struct strset_cell *c = &cells[i];
		uint32_t k;
		size_t len;
		if (c->tag == 0)
			continue;
		memcpy(&k, c->s, sizeof k);
		len = strlen(old.items[k]) + 1;
		if (len <= sizeof c->s) {
			memcpy(c->s, old.items[k], len);
			items[keep[k] - 1] = c->s;
		} else {
			uint32_t off = (uint32_t)pos;
			memcpy(arena + pos, old.items[k], len);
			items[keep[k] - 1] = arena + pos;
			pos += len;
			c->tag |= 1u;
			memcpy(c->s, &off, sizeof off);
		}
	}
	free(keep);
	free(old.arena);
	free(old.items);
	set->items = items;
	set->arena = arena;
	set->count = out;
	set->used = set->cap = pos;
	return true;
fail:
	hugemem_free(cells, total * sizeof *cells);
	free(keep);
	free(items);
	free(arena);
	set->cells = NULL;
	set->ncells = set->ncap = 0;
	return false;
}

bool strset_build(struct pg_strset *set, char **items, size_t count)
{
	size_t ncells;
	bool too_long = false;

	if (items != set->items) { /* malloc'd strings: into the arena first */
		bool ok = true;
		for (size_t i = 0; i < count; i++) {
			ok = ok && strset_add(set, items[i]);
			free(items[i]);
		}
		free(items);
		if (!ok)
			return false;
	}
	if (set->count == 0)
		return true; /* nothing to find: no cells */
	/* at most three quarters full; four cells at least */
	ncells = set->count + set->count / 3 + 4;
	while (!strset_index(set, ncells, &too_long)) {
		if (!too_long || ncells > (size_t)UINT32_MAX / 4)
			return false; /* without an index strset_contains() scans the items */
		ncells *= 2;
	}
	return true;
}

bool strset_contains(const struct pg_strset *set, const char *s)
{
	return s != NULL && strset_contains_len(set, s, strlen(s));
}

bool strset_contains_len(const struct pg_strset *set, const char *s, size_t len)
{
	size_t bit = strset_len_bit(len);

	if ((set->lens[bit / 64] >> (bit % 64) & 1) == 0)
		return false; /* no string that long: also an empty set */
	if (set->cells == NULL) {
		for (size_t i = 0; i < set->count; i++)
			if (strset_equal(set->items[i], s, len))
				return true;
		return false;
	}
	return strset_find(set, s, len, strset_hash(s, len)) != NULL;
}

void strset_free(struct pg_strset *set)
{
	free(set->arena);
	free(set->items);
	hugemem_free(set->cells, set->ncap * sizeof *set->cells);
	memset(set, 0, sizeof *set);
}
