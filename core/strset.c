/*
 * strset.c - sorted, de-duplicated string sets searched with bsearch.
 *
 * Built once at config load (cipher names, local domains, fingerprints) and
 * only read afterwards, so lookups need no lock and allocate nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "config.h"

static int strset_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void strset_build(struct pg_strset *set, char **items, size_t count)
{
	size_t out = 0;

	if (count > 0)
		qsort(items, count, sizeof items[0], strset_cmp);
	for (size_t i = 0; i < count; i++) {
		if (out > 0 && strcmp(items[out - 1], items[i]) == 0) {
			free(items[i]);
			continue;
		}
		items[out++] = items[i];
	}
	set->items = items;
	set->count = out;
}

bool strset_contains(const struct pg_strset *set, const char *s)
{
	if (set->count == 0 || s == NULL)
		return false;
	return bsearch(&s, set->items, set->count, sizeof set->items[0], strset_cmp) != NULL;
}

void strset_free(struct pg_strset *set)
{
	for (size_t i = 0; i < set->count; i++)
		free(set->items[i]);
	free(set->items);
	set->items = NULL;
	set->count = 0;
}
