/*
 * hugemem.c - memory for the large read-only lookup tables.
 *
 * A lookup in a table of a million domains or networks reads a line at a
 * random place, and with 4 KiB pages nearly every such read also misses the
 * TLB: the page walk costs about as much as the miss itself, and a prefetch
 * waits for it. With 2 MiB pages a 40 MB table needs twenty TLB entries.
 * Linux gives them to memory that asks (MADV_HUGEPAGE) when
 * /sys/kernel/mm/transparent_hugepage/enabled is "madvise", Debian's default,
 * or "always"; with "never" the hint does nothing and the tables work as
 * before. The pages must be fresh: memory the heap has used before already
 * has its small pages, and asking afterwards changes nothing. So a table
 * from 1 MiB up gets a mapping of its own, aligned on 2 MiB, asked for huge
 * pages before it is first touched.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "hugemem.h"

#define HUGE_PAGE ((size_t)2 << 20)

void hugemem_advise(void *p, size_t n)
{
	uintptr_t from = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t to = ((uintptr_t)p + n) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (p != NULL && n >= 2 * HUGE_PAGE && to > from)
		(void)madvise((void *)from, to - from, MADV_HUGEPAGE);
}

/* The bytes mapped for n: whole huge pages. */
static size_t hugemem_size(size_t n)
{
	return (n + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

void *hugemem_alloc(size_t n)
{
	size_t size = hugemem_size(n);
	char *map, *p;

	if (n < HUGE_PAGE / 2) {
		p = aligned_alloc(64, n > 0 ? (n + 63) / 64 * 64 : 64);
		if (p != NULL)
			memset(p, 0, n);
		return p;
	}
	if (size < n || size + HUGE_PAGE < size)
		return NULL;
	/* one huge page more than needed, then the unaligned ends given back */
	map = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
	           0);
	if (map == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
	if (p > map)
		(void)munmap(map, (size_t)(p - map));
	if (p + size < map + size + HUGE_PAGE)
		(void)munmap(p + size, (size_t)(map + size + HUGE_PAGE - (p + size)));
	(void)madvise(p, size, MADV_HUGEPAGE);
	return p; /* zero, as every new anonymous page */
}

void hugemem_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	if (n < HUGE_PAGE / 2)
		free(p);
	else
		(void)munmap(p, hugemem_size(n));
}
