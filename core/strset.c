/*
 * strset.c - de-duplicated string sets with a hash index.
 *
 * Built once at config load (cipher names, local domains and their parents,
 * fingerprints) and only read afterwards, so lookups need no lock and
 * allocate nothing. strset_add() copies each string as it is read to the end
 * of one arena (items point into it; no block per string, so loading a
 * million domains costs their bytes and a pointer each); strset_build() drops
 * the duplicates and indexes the strings with open addressing and
 * linear probing over a power-of-two table at most half full: each slot
 * holds the upper half of the string's 64-bit FNV-1a hash and its offset in
 * the arena plus one (0 is an empty slot). Then the strings are copied into
 * a new arena in the order of their slots, with an anchor (the offset of the
 * first string at or after it) every STRSET_GROUP slots: a slot's string
 * lies near its anchor plus the group's average bytes per slot, so a lookup
 * starts loading those lines together with the slot's (strset_warm) instead
 * of after it. A lookup costs one hash, one slot and, almost always, one
 * string compare: two cache misses at most, whatever the size of the set
 * (PG_MAX_LOCAL_DOMAINS), and usually overlapping; strset_prefetch() starts
 * the same loads early, for a caller with other work to do meanwhile. Large
 * blocks ask the kernel for transparent huge pages, so that a random lookup
 * misses the TLB less.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "strset.h"

/* Slots per anchor: 4 bytes of anchors for 32 slots of 8 bytes. */
#define STRSET_GROUP 32

/* always_inline: GCC takes a function of prefetches alone for one without
 * effects and drops the calls to it. */
static inline __attribute__((always_inline)) void strset_warm(const struct pg_strset *set,
                                                              size_t i);

static uint64_t strset_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return h ^ (h >> 29);
}

/* Start loading the slot where s (len bytes, case-folded on the way)
 * would be: a hint only, so a wrong guess costs nothing but the load. */
void strset_prefetch(const struct pg_strset *set, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325u;

	if (set->slots == NULL || set->count == 0)
		return;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		h = (h ^ (c >= 'A' && c <= 'Z' ? c + 32 : c)) * 0x100000001b3u;
	}
	h ^= h >> 29;
	strset_warm(set, (size_t)h & set->mask);
}

/* Ask for huge pages over the whole 2 MiB pages inside [p, p + n). */
static void strset_huge(void *p, size_t n)
{
	const size_t huge = (size_t)2 << 20;
	uintptr_t from = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
	uintptr_t to = ((uintptr_t)p + n) & ~(uintptr_t)(huge - 1);

	if (p != NULL && n >= 2 * huge && to > from)
		(void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}

/* The slot of s, or the empty slot where it would go. */
static size_t strset_slot(const struct pg_strset *set, const char *s, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);

	for (size_t i = (size_t)h & set->mask;; i = (i + 1) & set->mask) {
		uint64_t v = set->slots[i];
		if (v == 0 ||
		    ((uint32_t)(v >> 32) == tag && strcmp(set->arena + (uint32_t)v - 1, s) == 0))
			return i;
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
			strset_huge(grown, cap);
		}
		for (size_t i = 0; i < n; i++)
			set->items[i] = set->arena + (uintptr_t)set->items[i];
		if (grown == NULL)
			return false;
	}
	memcpy(set->arena + set->used, s, len);
	set->items[set->count++] = set->arena + set->used;
	set->used += len;
	return true;
}

/* Index the strings (dropping duplicates), then copy them into a new arena
 * in the order of their slots, with an anchor every STRSET_GROUP slots. */
bool strset_build(struct pg_strset *set, char **items, size_t count)
{
	size_t size = 16, out = 0, pos = 0;
	uint32_t *slot_of;
	char *arena;

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
	count = set->count;
	while (size < 2 * count)
		size *= 2;
	set->mask = size - 1;
	set->slots = calloc(size, sizeof *set->slots);
	set->anchors = malloc((size / STRSET_GROUP + 1) * sizeof *set->anchors);
	slot_of = malloc((count > 0 ? count : 1) * sizeof *slot_of);
	arena = malloc(set->used > 0 ? set->used : 1);
	if (set->slots == NULL || set->anchors == NULL || slot_of == NULL || arena == NULL) {
		free(slot_of);
		free(arena);
		free(set->slots);
		free(set->anchors);
		set->slots = NULL; /* without an index strset_contains() scans the items */
		set->anchors = NULL;
		return false;
	}
	strset_huge(set->slots, size * sizeof *set->slots);
	strset_huge(arena, set->used);
	/* the index, over the old arena's offsets; the first of equal strings wins */
	for (size_t i = 0; i < count; i++) {
		char *s = set->items[i];
		uint64_t h = strset_hash(s);
		size_t at = strset_slot(set, s, h);
		if (set->slots[at] == 0) {
			set->slots[at] = (h >> 32 << 32) | (uint64_t)(s - set->arena + 1);
			set->items[out] = s;
			slot_of[out++] = (uint32_t)at;
		}
	}
	/* the strings in slot order, the slots pointing at their new places */
	for (size_t i = 0; i < size; i++) {
		uint64_t v = set->slots[i];
		if (i % STRSET_GROUP == 0)
			set->anchors[i / STRSET_GROUP] = (uint32_t)pos;
		if (v != 0) {
			size_t len = strlen(set->arena + (uint32_t)v - 1) + 1;
			memcpy(arena + pos, set->arena + (uint32_t)v - 1, len);
			set->slots[i] = (v >> 32 << 32) | (uint64_t)(pos + 1);
			pos += len;
		}
	}
	set->anchors[size / STRSET_GROUP] = (uint32_t)pos;
	for (size_t k = 0; k < out; k++)
		set->items[k] = arena + (uint32_t)set->slots[slot_of[k]] - 1;
	free(slot_of);
	free(set->arena);
	set->arena = arena;
	set->count = out;
	set->used = set->cap = pos;
	set->per_slot = (pos << 8) / size;
	return true;
}

/* Start loading slot i's line and the lines where its string should be:
 * near its group's anchor plus the bytes of the slots before it, on
 * average. The two loads overlap instead of one waiting for the other. */
static inline void strset_warm(const struct pg_strset *set, size_t i)
{
	size_t at = set->anchors[i / STRSET_GROUP] + ((i % STRSET_GROUP) * set->per_slot >> 8);

	__builtin_prefetch(&set->slots[i]);
	__builtin_prefetch(set->arena + (at < set->used ? at : set->used - 1));
	if (at >= 64)
		__builtin_prefetch(set->arena + at - 64);
	if (at + 64 < set->used)
		__builtin_prefetch(set->arena + at + 64);
}

bool strset_contains(const struct pg_strset *set, const char *s)
{
	uint64_t h;

	if (set->count == 0 || s == NULL)
		return false;
	if (set->slots == NULL) {
		for (size_t i = 0; i < set->count; i++)
			if (strcmp(set->items[i], s) == 0)
				return true;
		return false;
	}
	h = strset_hash(s);
	strset_warm(set, (size_t)h & set->mask);
	return set->slots[strset_slot(set, s, h)] != 0;
}

void strset_free(struct pg_strset *set)
{
	free(set->arena);
	free(set->items);
	free(set->slots);
	free(set->anchors);
	memset(set, 0, sizeof *set);
}
