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
 * the arena plus one (0 is an empty slot). A lookup costs one hash, one slot
 * and, almost always, one string compare: two cache misses at most, whatever
 * the size of the set (PG_MAX_LOCAL_DOMAINS). Large blocks ask the kernel for
 * transparent huge pages, so that a random lookup misses the TLB less.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "strset.h"

static uint64_t strset_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return h ^ (h >> 29);
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

bool strset_build(struct pg_strset *set, char **items, size_t count)
{
	size_t size = 16, used = 0, out = 0;

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
	if ((set->slots = calloc(size, sizeof *set->slots)) == NULL)
		return false; /* without an index strset_contains() scans the items */
	strset_huge(set->slots, size * sizeof *set->slots);
	/* Index the strings in order, sliding each kept one down over the
	 * duplicates before it (the arena only ever shrinks here). */
	for (size_t i = 0; i < count; i++) {
		char *s = set->items[i];
		uint64_t h = strset_hash(s);
		size_t at = strset_slot(set, s, h), len = strlen(s) + 1;
		if (set->slots[at] == 0) {
			memmove(set->arena + used, s, len);
			set->slots[at] = (h >> 32 << 32) | (uint64_t)(used + 1);
			set->items[out++] = set->arena + used;
			used += len;
		}
	}
	set->count = out;
	set->used = used;
	return true;
}

bool strset_contains(const struct pg_strset *set, const char *s)
{
	if (set->count == 0 || s == NULL)
		return false;
	if (set->slots == NULL) {
		for (size_t i = 0; i < set->count; i++)
			if (strcmp(set->items[i], s) == 0)
				return true;
		return false;
	}
	return set->slots[strset_slot(set, s, strset_hash(s))] != 0;
}

void strset_free(struct pg_strset *set)
{
	free(set->arena);
	free(set->items);
	free(set->slots);
	memset(set, 0, sizeof *set);
}
