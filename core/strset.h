/*
 * strset.h - a set of strings with a hash index (core/strset.c): cipher
 * names, local domains and their parents, fingerprints. Built once at config
 * load and only read afterwards, so lookups need no lock.
 */
#ifndef PG_STRSET_H
#define PG_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pg_strset {
	char **items;
	size_t count;
	uint64_t *slots;  /* the index: hash tag << 32 | (offset in arena + 1); 0 empty */
	size_t mask;      /* slots - 1, a power of two less one */
	char *arena;      /* the strings back to back; items point into it */
	size_t used, cap; /* bytes of the arena in use, allocated */
	/* Once built, the arena holds the strings in the order of their slots;
	 * anchors[g] is the offset of the first one at or after slot
	 * g * STRSET_GROUP, per_slot the arena's bytes per slot (x 256): where
	 * a slot's string should be, to load it with the slot (strset.c). */
	uint32_t *anchors;
	size_t per_slot;
};

/* strset_add copies s to the end of set (false: out of memory).
 * strset_build indexes set's strings and drops duplicates; given other items
 * than set->items (a malloc'd array of malloc'd strings) it adds and frees
 * them first (false: out of memory, then lookups scan). Comparison is
 * byte-wise: callers case-fold first. */
bool strset_add(struct pg_strset *set, const char *s);
bool strset_build(struct pg_strset *set, char **items, size_t count);
bool strset_contains(const struct pg_strset *set, const char *s);
void strset_free(struct pg_strset *set);
/* A hint: start loading the lines a lookup of s (len bytes, case-folded on
 * the way) will read. A wrong guess costs only the loads. */
void strset_prefetch(const struct pg_strset *set, const char *s, size_t len);

#endif
