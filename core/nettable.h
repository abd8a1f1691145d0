/*
 * nettable.h - trusted networks as sorted, merged address ranges.
 *
 * nettable_build() turns a list of CIDR networks (struct pg_net, as
 * relay_net_parse() gives them: IPv4-mapped IPv6 already stored as IPv4,
 * host bits clear) into one sorted array of disjoint ranges per family;
 * overlapping, nested and adjacent networks merge. nettable_contains() is a
 * binary search, so a lookup costs O(log n) whatever the table's size
 * (PG_MAX_TRUSTED_NETS). The table is immutable once built: both daemons'
 * threads read it without a lock.
 */
#ifndef PG_NETTABLE_H
#define PG_NETTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One CIDR network: the address with its host bits clear, IPv4-mapped IPv6
 * stored as IPv4 (relay_net_parse() gives them so). */
struct pg_net {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	unsigned prefix;
};

struct pg_nettable;

/* A table of n networks (n may be 0); NULL when out of memory. */
struct pg_nettable *nettable_build(const struct pg_net *nets, size_t n);

/* Whether addr (4 bytes for AF_INET, 16 for AF_INET6) is in a network of t
 * (false for a NULL table). */
bool nettable_contains(const struct pg_nettable *t, int family, const uint8_t *addr);

/* Disjoint ranges the table keeps for family (merging shows here). */
size_t nettable_ranges(const struct pg_nettable *t, int family);

void nettable_free(struct pg_nettable *t);

#endif
