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

/* A cell of the index (strset.c): 32 bytes, two to a cache line. */
struct strset_cell {
	uint32_t tag; /* 0: empty; else the hash's upper half, bit 1 set; bit 0: long */
	uint8_t dist; /* cells from its home cell */
	char s[27];   /* the string and its NUL; a long one: its arena offset */
};

struct pg_strset {
	char **items;
	size_t count;
	char *arena;      /* the strings back to back; items point into it */
	size_t used, cap; /* bytes of the arena in use, allocated */
	/* Once built (strset.c): the index, ncap cells of which the first
	 * ncells are home cells (the rest take the probes past the end); the
	 * short strings live in their cells, the arena keeps only the long
	 * ones, and items point to each string where it lives. */
	struct strset_cell *cells;
	size_t ncells, ncap;
	/* Bit n: a string of n bytes was added (the last bit: 255 or more).
	 * A lookup of a length no string has answers at once, which is most
	 * misses while the set is small (a handful of local domains). */
	uint64_t lens[4];
};

/* strset_add copies s to the end of set (false: out of memory).
 * strset_build indexes set's strings and drops duplicates, once: no
 * strset_add after it. Given other items than set->items (a malloc'd array
 * of malloc'd strings) it adds and frees them first (false: out of memory,
 * then lookups scan). Comparison is byte-wise: callers case-fold first. */
bool strset_add(struct pg_strset *set, const char *s);
bool strset_build(struct pg_strset *set, char **items, size_t count);
bool strset_contains(const struct pg_strset *set, const char *s);
/* The same for s of len bytes (no NUL among them; s[len] is not read). */
bool strset_contains_len(const struct pg_strset *set, const char *s, size_t len);
void strset_free(struct pg_strset *set);
/* A hint: start loading the lines a lookup of s (len bytes, case-folded on
 * the way) will read. A wrong guess costs only the loads. */
void strset_prefetch(const struct pg_strset *set, const char *s, size_t len);

#endif
