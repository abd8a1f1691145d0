/*
 * strset.c - de-duplicated string sets with a hash index.
 *
 * Built once at config load (cipher names, local domains and their parents,
 * fingerprints) and only read afterwards, so lookups need no lock and
 * allocate nothing. The index is open addressing with linear probing over a
 * power-of-two table at most half full: each slot holds the upper half of
 * the string's 64-bit FNV-1a hash and its position in items plus one (0 is
 * an empty slot), so a lookup costs one hash and, almost always, one strcmp,
 * whatever the size of the set (PG_MAX_LOCAL_DOMAINS and more).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static uint64_t strset_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		h = (h ^ *p) * 0x100000001b3u;
	return h ^ (h >> 29);
}

/* The slot of s, or the empty slot where it would go. */
static size_t strset_slot(const struct pg_strset *set, const char *s, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);

	for (size_t i = (size_t)h & set->mask;; i = (i + 1) & set->mask) {
		uint64_t v = set->slots[i];
		if (v == 0 ||
		    ((uint32_t)(v >> 32) == tag && strcmp(set->items[(uint32_t)v - 1], s) == 0))
			return i;
	}
}

bool strset_build(struct pg_strset *set, char **items, size_t count)
{
	size_t size = 16, out = 0;

	while (size < 2 * count)
		size *= 2;
	set->items = items;
	set->count = 0;
	set->mask = size - 1;
	set->slots = calloc(size, sizeof *set->slots);
	if (set->slots == NULL) {
		/* Without memory for the index strset_contains() scans the items. */
		set->count = count;
		return false;
	}
	for (size_t i = 0; i < count; i++) {
		uint64_t h = strset_hash(items[i]);
		size_t at = strset_slot(set, items[i], h);
		if (set->slots[at] != 0) {
			free(items[i]); /* a duplicate */
			continue;
		}
		items[out] = items[i];
		set->slots[at] = (h >> 32 << 32) | (uint64_t)(uint32_t)(out + 1);
		set->count = ++out;
	}
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
	for (size_t i = 0; i < set->count; i++)
		free(set->items[i]);
	free(set->items);
	free(set->slots);
	set->items = NULL;
	set->slots = NULL;
	set->count = 0;
	set->mask = 0;
}
