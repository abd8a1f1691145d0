/*
 * hugemem.h - memory for the large read-only lookup tables (core/hugemem.c):
 * the domain sets' cells and the trusted networks' ranges.
 */
#ifndef PG_HUGEMEM_H
#define PG_HUGEMEM_H

#include <stddef.h>

/* n zeroed bytes aligned on a cache line; from 1 MiB up, fresh whole 2 MiB
 * pages with transparent huge pages asked for. NULL: out of memory.
 * hugemem_free() takes the same n back. */
void *hugemem_alloc(size_t n);
void hugemem_free(void *p, size_t n);

/* Ask for transparent huge pages over the whole 2 MiB pages inside
 * [p, p + n), when there are at least two (a hint: failure is harmless). */
void hugemem_advise(void *p, size_t n);

#endif
