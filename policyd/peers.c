/*
 * peers.c - open connections per inet client address, for
 * policyd.max_connections_per_peer.
 *
 * A chained hash keyed by the 16-byte address (IPv4 as IPv4-mapped IPv6),
 * with as many buckets as policyd.max_connections may have connections, so
 * chains stay short; the bucket array is allocated once and its pages stay
 * untouched until used. loop.c holds an entry per connection accepted on an
 * inet listener and releases it when the connection closes: one lookup per
 * accept and per close, none per request. Failure: peers_init() and
 * peer_hold() return false / NULL when out of memory.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "policyd.h"

#define PEERS_BUCKETS 65536 /* policyd.max_connections' bound */

struct peer {
	struct peer *next; /* in its bucket */
	unsigned char addr[16];
	unsigned count;
};

static struct peer **buckets;

bool peers_init(void)
{
	buckets = calloc(PEERS_BUCKETS, sizeof *buckets);
	return buckets != NULL;
}

/* Every entry is released by then: each belonged to a closed connection. */
void peers_free(void)
{
	free(buckets);
	buckets = NULL;
}

/* The key of an inet peer (false for anything else). */
bool peer_key(const struct sockaddr_storage *ss, unsigned char key[16])
{
	if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return true;
	}
	if (ss->ss_family != AF_INET)
		return false;
	memset(key, 0, 10);
	key[10] = key[11] = 0xff;
	memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	return true;
}

/* The link that points at key's entry, or at the end of its chain. */
static struct peer **peer_link(const unsigned char key[16])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	struct peer **pp;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	pp = &buckets[h & (PEERS_BUCKETS - 1)];
	while (*pp != NULL && memcmp((*pp)->addr, key, 16) != 0)
		pp = &(*pp)->next;
	return pp;
}

unsigned peer_count(const unsigned char key[16])
{
	struct peer *p = *peer_link(key);

	return p != NULL ? p->count : 0;
}

/* One more connection from key: its entry, NULL if out of memory. */
struct peer *peer_hold(const unsigned char key[16])
{
	struct peer **pp = peer_link(key);

	if (*pp == NULL) {
		*pp = calloc(1, sizeof **pp);
		if (*pp == NULL)
			return NULL;
		memcpy((*pp)->addr, key, 16);
	}
	(*pp)->count++;
	return *pp;
}

void peer_release(struct peer *p)
{
	struct peer **pp;

	if (p == NULL || --p->count > 0)
		return;
	pp = peer_link(p->addr);
	*pp = p->next;
	free(p);
}
