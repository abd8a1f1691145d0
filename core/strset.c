/*
 * strset.c - de-duplicated string sets with a hash index.
 *
 * Built once at config load (cipher names, local domains and their parents,
 * fingerprints) and only read afterwards, so lookups need no lock and
 * allocate nothing. strset_build() copies the strings back to back into one
 * arena (items then point into it) and indexes them with open addressing and
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

#include "config.h"

static uint64_t strset_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return h ^ (h >> 29);
}

/* A block of n bytes (zeroed), on huge pages where the kernel allows. */
static void *strset_alloc(size_t n)
{
	void *p = calloc(1, n);
	const size_t huge = (size_t)2 << 20;

	if (p != NULL && n >= 2 * huge) {
		uintptr_t from = ((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1);
		uintptr_t to = ((uintptr_t)p + n) & ~(uintptr_t)(huge - 1);
		if (to > from)
			(void)madvise((void *)from, to - from, MADV_HUGEPAGE);
	}
	return p;
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

bool strset_build(struct pg_strset *set, char **items, size_t count)
{
	size_t size = 16, bytes = 0, used = 0, out = 0;

	while (size < 2 * count)
		size *= 2;
	for (size_t i = 0; i < count; i++)
		bytes += strlen(items[i]) + 1;
	set->items = items;
	set->count = count; /* without an index strset_contains() scans them */
	set->mask = size - 1;
	set->slots = NULL;
	set->arena = NULL;
	if (bytes >= UINT32_MAX || (set->slots = strset_alloc(size * sizeof *set->slots)) == NULL ||
	    (set->arena = strset_alloc(bytes > 0 ? bytes : 1)) == NULL) {
		free(set->slots);
		set->slots = NULL;
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		char *s = items[i];
		uint64_t h = strset_hash(s);
		size_t at = strset_slot(set, s, h), len = strlen(s) + 1;
		if (set->slots[at] == 0) {
			memcpy(set->arena + used, s, len);
			set->slots[at] = (h >> 32 << 32) | (uint64_t)(used + 1);
			items[out++] = set->arena + used;
			used += len;
		}
		free(s); /* copied, or a duplicate */
	}
	set->count = out;
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
	if (set->arena == NULL)
		for (size_t i = 0; i < set->count; i++)
			free(set->items[i]);
	free(set->arena);
	free(set->items);
	free(set->slots);
	memset(set, 0, sizeof *set);
}
