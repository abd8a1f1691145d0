/*
 * check_nettable.c - core/nettable.c: trusted networks as merged ranges.
 *
 * Edges (/0, /32, /128, nesting, overlap, touching ranges, IPv4-mapped IPv6
 * through relay_client_trusted), the largest table, and a property test that
 * compares every answer with a linear reference on random tables. Also the
 * domain set of core/strset.c at its largest, through relay_rcpt_is_local(),
 * and core/hugemem.c, where both keep their large tables.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <sys/socket.h>

#include "check_common.h"
#include "hugemem.h"
#include "nettable.h"
#include "relay.h"

/* A table of the networks in specs, each parsed by relay_net_parse(). */
static struct pg_nettable *table_of(const char *const *specs, size_t n)
{
	struct pg_net *nets = calloc(n + 1, sizeof *nets);
	struct pg_nettable *t;

	ck_assert_ptr_nonnull(nets);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(relay_net_parse(specs[i], &nets[i]), "%s", specs[i]);
	t = nettable_build(nets, n);
	ck_assert_ptr_nonnull(t);
	free(nets);
	return t;
}

/* The address s (IPv4 or IPv6 text) in t. */
static bool has(const struct pg_nettable *t, const char *s)
{
	uint8_t a[16];

	if (inet_pton(AF_INET, s, a) == 1)
		return nettable_contains(t, AF_INET, a);
	ck_assert_msg(inet_pton(AF_INET6, s, a) == 1, "%s", s);
	return nettable_contains(t, AF_INET6, a);
}

START_TEST(test_empty)
{
	struct pg_nettable *t = nettable_build(NULL, 0);

	ck_assert_ptr_nonnull(t);
	ck_assert(!has(t, "0.0.0.0"));
	ck_assert(!has(t, "::"));
	ck_assert(!nettable_contains(NULL, AF_INET, (const uint8_t *)"\0\0\0\0"));
	nettable_free(t);
	nettable_free(NULL);
}
END_TEST

START_TEST(test_whole_spaces)
{
	static const char *const all4[] = {"0.0.0.0/0"}, *const all6[] = {"::/0"};
	struct pg_nettable *t = table_of(all4, 1);

	ck_assert(has(t, "0.0.0.0"));
	ck_assert(has(t, "255.255.255.255"));
	ck_assert(has(t, "203.0.113.9"));
	ck_assert(!has(t, "::"));
	ck_assert(!has(t, "2001:db8::1"));
	nettable_free(t);
	t = table_of(all6, 1);
	ck_assert(has(t, "::"));
	ck_assert(has(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(has(t, "2001:db8::1"));
	ck_assert(!has(t, "0.0.0.0"));
	ck_assert(!has(t, "255.255.255.255"));
	nettable_free(t);
}
END_TEST

START_TEST(test_hosts)
{
	static const char *const specs[] = {
	    "203.0.113.9/32",  "2001:db8::9/128", "0.0.0.0/32",
	    "255.255.255.255", "::/128",          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
	struct pg_nettable *t = table_of(specs, PG_ARRAY_LEN(specs));

	ck_assert(has(t, "203.0.113.9"));
	ck_assert(!has(t, "203.0.113.8"));
	ck_assert(!has(t, "203.0.113.10"));
	ck_assert(has(t, "2001:db8::9"));
	ck_assert(!has(t, "2001:db8::8"));
	ck_assert(!has(t, "2001:db8::a"));
	ck_assert(has(t, "0.0.0.0"));
	ck_assert(!has(t, "0.0.0.1"));
	ck_assert(has(t, "255.255.255.255"));
	ck_assert(!has(t, "255.255.255.254"));
	ck_assert(has(t, "::"));
	ck_assert(!has(t, "::1"));
	ck_assert(has(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"));
	ck_assert_uint_eq(nettable_ranges(t, AF_INET), 3);
	ck_assert_uint_eq(nettable_ranges(t, AF_INET6), 3);
	nettable_free(t);
}
END_TEST

/* Nested, overlapping, touching and duplicate networks merge; what they
 * cover stays exactly covered, the gaps between stay out. */
START_TEST(test_nested_overlapping)
{
	static const char *const specs[] = {
	    "10.0.0.0/8",      "10.1.0.0/16",        "10.1.2.3",    /* nested in 10/8 */
	    "192.0.2.0/25",    "192.0.2.128/25",                    /* touching: one /24 */
	    "198.51.100.0/24", "198.51.100.0/24",                   /* duplicate */
	    "172.16.0.0/12",   "172.20.0.0/14",                     /* nested, not at the start */
	    "2001:db8::/32",   "2001:db8:1::/48",    "2001:db8::1", /* nested */
	    "2001:db9::/33",   "2001:db9:8000::/33",                /* touching: one /32 */
	    "fe80::/10",       "fe80::/64",
	};
	struct pg_nettable *t = table_of(specs, PG_ARRAY_LEN(specs));

	ck_assert(has(t, "10.0.0.0"));
	ck_assert(has(t, "10.255.255.255"));
	ck_assert(has(t, "10.1.2.3"));
	ck_assert(!has(t, "9.255.255.255"));
	ck_assert(!has(t, "11.0.0.0"));
	ck_assert(has(t, "192.0.2.0"));
	ck_assert(has(t, "192.0.2.127"));
	ck_assert(has(t, "192.0.2.128"));
	ck_assert(has(t, "192.0.2.255"));
	ck_assert(!has(t, "192.0.3.0"));
	ck_assert(!has(t, "192.0.1.255"));
	ck_assert(has(t, "198.51.100.77"));
	ck_assert(has(t, "172.31.255.255"));
	ck_assert(has(t, "172.16.0.0"));
	ck_assert(!has(t, "172.32.0.0"));
	ck_assert(!has(t, "172.15.255.255"));
	ck_assert(has(t, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(has(t, "2001:db8:1::5"));
	ck_assert(!has(t, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(has(t, "2001:db9::"));
	ck_assert(has(t, "2001:db9:7fff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(has(t, "2001:db9:8000::"));
	ck_assert(has(t, "2001:db9:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(t, "2001:dba::"));
	ck_assert(has(t, "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"));
	ck_assert(!has(t, "fec0::"));
	/* 10/8, 172.16/12, 192.0.2/24, 198.51.100/24; 2001:db8::/31 (db8 and
	 * db9 touch), fe80::/10 */
	ck_assert_uint_eq(nettable_ranges(t, AF_INET), 4);
	ck_assert_uint_eq(nettable_ranges(t, AF_INET6), 2);
	nettable_free(t);
}
END_TEST

/* IPv4-mapped IPv6, as a client address and as a listed network, is IPv4. */
START_TEST(test_mapped)
{
	static const char *const specs[] = {"::ffff:192.0.2.0/120", "198.51.100.0/24",
	                                    "64:ff9b::/96"};
	struct pg_relay r;

	memset(&r, 0, sizeof r);
	r.nets = calloc(PG_ARRAY_LEN(specs), sizeof *r.nets);
	ck_assert_ptr_nonnull(r.nets);
	for (size_t i = 0; i < PG_ARRAY_LEN(specs); i++)
		ck_assert(relay_net_parse(specs[i], &r.nets[r.nnets++]));
	ck_assert_int_eq(r.nets[0].family, AF_INET);
	ck_assert_uint_eq(r.nets[0].prefix, 24);
	ck_assert(relay_nets_build(&r));
	ck_assert(relay_client_trusted(&r, "192.0.2.1"));
	ck_assert(relay_client_trusted(&r, "::ffff:192.0.2.1"));
	ck_assert(relay_client_trusted(&r, "IPv6:::ffff:198.51.100.200"));
	ck_assert(relay_client_trusted(&r, "198.51.100.200"));
	ck_assert(!relay_client_trusted(&r, "::ffff:192.0.3.1"));
	ck_assert(!relay_client_trusted(&r, "::192.0.2.1"));      /* compatible, not mapped */
	ck_assert(relay_client_trusted(&r, "64:ff9b::c000:201")); /* NAT64: IPv6 as listed */
	ck_assert(!relay_client_trusted(&r, "::ffff:100.100.100.100"));
	/* rebuilding replaces the index */
	r.nnets = 1;
	ck_assert(relay_nets_build(&r));
	ck_assert(!relay_client_trusted(&r, "198.51.100.200"));
	free(r.nets);
	nettable_free(r.nettab);
}
END_TEST

/* The largest table: PG_MAX_TRUSTED_NETS networks, IPv4 and IPv6 mixed,
 * none merging; every one found, the addresses between them not. */
START_TEST(test_largest)
{
	const size_t n = PG_MAX_TRUSTED_NETS;
	struct pg_net *nets = calloc(n, sizeof *nets);
	struct pg_nettable *t;

	ck_assert_ptr_nonnull(nets);
	for (size_t i = 0; i < n; i++) {
		/* even i: 11.x.y.z/31 at 4*i, odd i: 2001:db8:i::/64 */
		uint32_t v = (uint32_t)(11u << 24) + (uint32_t)(4 * i);
		if (i % 2 == 0) {
			nets[i].family = AF_INET;
			nets[i].addr[0] = (uint8_t)(v >> 24), nets[i].addr[1] = (uint8_t)(v >> 16);
			nets[i].addr[2] = (uint8_t)(v >> 8), nets[i].addr[3] = (uint8_t)v;
			nets[i].prefix = 31;
		} else {
			nets[i].family = AF_INET6;
			nets[i].addr[0] = 0x20, nets[i].addr[1] = 0x01;
			nets[i].addr[2] = 0x0d, nets[i].addr[3] = 0xb8;
			nets[i].addr[4] = (uint8_t)(i >> 24), nets[i].addr[5] = (uint8_t)(i >> 16);
			nets[i].addr[6] = (uint8_t)(i >> 8), nets[i].addr[7] = (uint8_t)i;
			nets[i].prefix = 64;
		}
	}
	t = nettable_build(nets, n);
	ck_assert_ptr_nonnull(t);
	ck_assert_uint_eq(nettable_ranges(t, AF_INET), n / 2);
	ck_assert_uint_eq(nettable_ranges(t, AF_INET6), n / 2);
	for (size_t i = 0; i < n; i++) {
		uint8_t a[16];
		memcpy(a, nets[i].addr, 16);
		if (i % 2 == 0) {
			a[3] |= 1; /* the /31's second address */
			ck_assert(nettable_contains(t, AF_INET, a));
			a[3] += 1; /* the gap after it */
			ck_assert(!nettable_contains(t, AF_INET, a));
		} else {
			a[15] = 0xff; /* inside the /64 */
			ck_assert(nettable_contains(t, AF_INET6, a));
			a[7] = 0, a[6] = 0, a[5] = 0, a[4] = 0xff; /* outside every /64 */
			ck_assert(!nettable_contains(t, AF_INET6, a));
		}
	}
	nettable_free(t);
	free(nets);
}
END_TEST

/* ---- property: the table answers as a linear scan of the networks ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static bool linear_match(const struct pg_net *nets, size_t n, int family, const uint8_t *a)
{
	for (size_t i = 0; i < n; i++) {
		unsigned p = nets[i].prefix, whole = p / 8, rest = p % 8;
		if (nets[i].family != family || memcmp(nets[i].addr, a, whole) != 0)
			continue;
		if (rest == 0 || ((nets[i].addr[whole] ^ a[whole]) & (0xff << (8 - rest))) == 0)
			return true;
	}
	return false;
}

/* A random address, often near one of the networks (so hits and the edges
 * of ranges are tried, not only misses). */
static void random_addr(const struct pg_net *nets, size_t n, int family, uint8_t *a)
{
	size_t len = family == AF_INET ? 4 : 16;

	for (size_t b = 0; b < len; b++)
		a[b] = (uint8_t)rnd();
	if (n > 0 && rnd() % 4 != 0) {
		const struct pg_net *near = &nets[rnd() % n];
		if (near->family == family) {
			unsigned keep = (unsigned)(rnd() % (len * 8 + 1)); /* leading bits kept */
			for (unsigned bit = 0; bit < keep; bit++) {
				uint8_t m = (uint8_t)(0x80u >> (bit % 8));
				a[bit / 8] =
				    (uint8_t)((a[bit / 8] & ~m) | (near->addr[bit / 8] & m));
			}
			if (rnd() % 4 == 0) /* the last or first address of near's range */
				for (unsigned bit = near->prefix; bit < len * 8; bit++) {
					uint8_t m = (uint8_t)(0x80u >> (bit % 8));
					a[bit / 8] =
					    (uint8_t)(rnd() % 2 ? a[bit / 8] | m : a[bit / 8] & ~m);
				}
		}
	}
}

START_TEST(test_property_linear)
{
	for (int round = 0; round < 300; round++) {
		size_t n = (size_t)(rnd() % (round < 100 ? 8 : 200));
		struct pg_net *nets = calloc(n + 1, sizeof *nets);
		struct pg_nettable *t;

		ck_assert_ptr_nonnull(nets);
		for (size_t i = 0; i < n; i++) {
			int family = rnd() % 2 ? AF_INET : AF_INET6;
			unsigned full = family == AF_INET ? 32 : 128;
			/* short prefixes now and then, mostly long ones; few
			 * distinct leading bytes, so that networks nest and overlap */
			unsigned prefix = rnd() % 8 == 0
			                      ? (unsigned)(rnd() % (full + 1))
			                      : full - (unsigned)(rnd() % (full / 2 + 1));
			nets[i].family = family;
			for (unsigned b = 0; b < full / 8; b++)
				nets[i].addr[b] = (uint8_t)(b < 2 ? rnd() % 3 : rnd());
			for (unsigned bit = prefix; bit < full; bit++)
				nets[i].addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
			nets[i].prefix = prefix;
		}
		t = nettable_build(nets, n);
		ck_assert_ptr_nonnull(t);
		for (int q = 0; q < 400; q++) {
			int family = rnd() % 2 ? AF_INET : AF_INET6;
			uint8_t a[16] = {0};
			random_addr(nets, n, family, a);
			ck_assert_msg(nettable_contains(t, family, a) ==
			                  linear_match(nets, n, family, a),
			              "round %d, query %d: table and linear scan differ", round, q);
		}
		nettable_free(t);
		free(nets);
	}
}
END_TEST

/* Disjoint tables of every size from 0 to 70 ranges, so that the two-level
 * search (blocks of 16 IPv4 and 4 IPv6 starts) ends in every position of a
 * block, the last partial block included: every other address is a network,
 * and each address below, in and above them is asked. */
START_TEST(test_block_edges)
{
	for (size_t n = 0; n <= 70; n++) {
		struct pg_net *nets = calloc(2 * n + 1, sizeof *nets);
		struct pg_nettable *t;

		ck_assert_ptr_nonnull(nets);
		for (size_t i = 0; i < n; i++) {
			nets[i].family = AF_INET;
			nets[i].prefix = 32;
			nets[i].addr[0] = 10;
			nets[i].addr[3] = (uint8_t)(2 * i + 1);
			nets[n + i].family = AF_INET6;
			nets[n + i].prefix = 128;
			nets[n + i].addr[0] = 0x20;
			nets[n + i].addr[15] = (uint8_t)(2 * i + 1);
		}
		t = nettable_build(nets, 2 * n);
		ck_assert_ptr_nonnull(t);
		ck_assert_uint_eq(nettable_ranges(t, AF_INET), n);
		ck_assert_uint_eq(nettable_ranges(t, AF_INET6), n);
		for (unsigned a = 0; a <= 2 * n + 2; a++) {
			uint8_t a4[4] = {10, 0, 0, (uint8_t)a};
			uint8_t a6[16] = {0x20};
			bool in = a % 2 == 1 && a < 2 * n + 1;
			a6[15] = (uint8_t)a;
			ck_assert_msg(nettable_contains(t, AF_INET, a4) == in, "n %zu, IPv4 %u", n,
			              a);
			ck_assert_msg(nettable_contains(t, AF_INET6, a6) == in, "n %zu, IPv6 %u", n,
			              a);
		}
		nettable_free(t);
		free(nets);
	}
}
END_TEST

/* ---- the domain set at its largest ---- */

START_TEST(test_domains_largest)
{
	const size_t n = PG_MAX_LOCAL_DOMAINS;
	char **d = calloc(n + 1, sizeof *d), **p = calloc(2, sizeof *p);
	struct pg_relay r;
	char buf[64];

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(p);
	memset(&r, 0, sizeof r);
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "customer%zu.example", i);
		ck_assert_ptr_nonnull(d[i] = strdup(buf));
	}
	d[n] = strdup("customer7.example"); /* a duplicate: dropped */
	p[0] = strdup("hosted.test");
	ck_assert(strset_build(&r.domains, d, n + 1));
	ck_assert(strset_build(&r.parents, p, 1));
	ck_assert_uint_eq(r.domains.count, n);
	r.large = true; /* relay_prefetch() works; its hints change no answer */
	for (size_t i = 0; i < n; i += 7) {
		snprintf(buf, sizeof buf, "u@Customer%zu.EXAMPLE.", i);
		relay_prefetch(&r, buf, strlen(buf));
		ck_assert_msg(relay_rcpt_is_local(&r, buf, RELAY_FORM_INTERNAL), "%s", buf);
		snprintf(buf, sizeof buf, "u@customer%zu.example", i + n);
		ck_assert_msg(!relay_rcpt_is_local(&r, buf, RELAY_FORM_INTERNAL), "%s", buf);
		snprintf(buf, sizeof buf, "u@www.customer%zu.example", i);
		ck_assert_msg(!relay_rcpt_is_local(&r, buf, RELAY_FORM_QUOTED), "%s", buf);
	}
	{
		/* hostile or odd spellings, each exactly as long as said */
		static const char *const odd[] = {
		    "",
		    "@",
		    "u@",
		    "u@.",
		    "<u@x>",
		    ">",
		    "IPv6:::1",
		    "::ffff:10.0.0.1",
		    "not an address",
		    "123456789012345678901234567890123456789012345678901234567890123"};
		for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
			char *copy = strdup(odd[i]);
			ck_assert_ptr_nonnull(copy);
			relay_prefetch(&r, copy, strlen(copy));
			free(copy);
		}
	}
	ck_assert(relay_rcpt_is_local(&r, "u@a.b.Hosted.test.", RELAY_FORM_QUOTED));
	ck_assert(!relay_rcpt_is_local(&r, "u@hosted.test", RELAY_FORM_QUOTED));
	strset_free(&r.domains);
	strset_free(&r.parents);
}
END_TEST

/* The index's invariants: a cell d from its home has every cell between
 * them full, and Robin Hood order (along a run the distance grows by one at
 * most); *occupied counts the full cells. */
static void strset_layout_check(const struct pg_strset *set, size_t *occupied)
{
	size_t run = 0;

	*occupied = 0;
	ck_assert_uint_le(set->ncap, set->ncells + 256);
	for (size_t i = 0; i < set->ncap; i++) {
		const struct strset_cell *c = &set->cells[i];
		if (c->tag == 0) {
			run = 0;
			continue;
		}
		ck_assert_uint_eq(c->tag & 2u, 2u);
		ck_assert_uint_le(c->dist, run);
		if (i > 0 && set->cells[i - 1].tag != 0)
			ck_assert_uint_le(c->dist, set->cells[i - 1].dist + 1u);
		ck_assert_uint_lt(i - c->dist, set->ncells); /* its home is a home cell */
		run++;
		(*occupied)++;
	}
}

/* strset against a linear scan: random short (in the cell) and long (in
 * the arena) strings, duplicates among them, asked for members, near
 * misses (one byte changed, a prefix, one byte longer) and strangers. */
START_TEST(test_strset_property)
{
	for (unsigned round = 0; round < 40; round++) {
		size_t n = round < 10 ? round : 1 + (size_t)(rand() % 3000);
		char **v = malloc((n + 1) * sizeof *v);
		struct pg_strset set;
		size_t occupied, distinct = 0;

		ck_assert_ptr_nonnull(v);
		memset(&set, 0, sizeof set);
		for (size_t i = 0; i < n; i++) {
			if (i > 0 && rand() % 8 == 0) {
				v[i] = strdup(v[(size_t)rand() % i]);
			} else {
				size_t len = 1 + (size_t)(rand() % 60);
				v[i] = malloc(len + 1);
				ck_assert_ptr_nonnull(v[i]);
				for (size_t j = 0; j < len; j++)
					v[i][j] = "abcdefgh.-0123"[rand() % 14];
				v[i][len] = '\0';
			}
			ck_assert_ptr_nonnull(v[i]);
			ck_assert(strset_add(&set, v[i]));
		}
		ck_assert(strset_build(&set, set.items, set.count));
		for (size_t i = 0; i < n; i++) {
			bool first = true;
			for (size_t j = 0; j < i && first; j++)
				first = strcmp(v[j], v[i]) != 0;
			distinct += first;
		}
		ck_assert_uint_eq(set.count, distinct);
		if (n > 0) {
			strset_layout_check(&set, &occupied);
			ck_assert_uint_eq(occupied, distinct);
		}
		for (size_t i = 0; i < n; i++) {
			char probe[80];
			size_t len = strlen(v[i]);
			bool want;
			ck_assert(strset_contains(&set, v[i]));
			for (unsigned form = 0; form < 3; form++) {
				snprintf(probe, sizeof probe, "%s", v[i]);
				if (form == 0)
					probe[(size_t)rand() % len] ^= 0x20;
				else if (form == 1)
					probe[len - 1] = '\0';
				else
					snprintf(probe, sizeof probe, "%sz", v[i]);
				want = false;
				for (size_t j = 0; j < n && !want; j++)
					want = strcmp(v[j], probe) == 0;
				ck_assert_msg(strset_contains(&set, probe) == want, "%s", probe);
			}
		}
		ck_assert(!strset_contains(&set, "no such string, longer than a cell holds"));
		ck_assert(!strset_contains(&set, "Z"));
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		strset_free(&set);
	}
}
END_TEST

/* strset_add() as the config loader uses it: strings copied one by one to
 * the end of a growing arena (it moves many times here, and the items must
 * move with it), duplicates dropped by strset_build() without a copy. */
START_TEST(test_domains_added)
{
	const size_t n = 20000;
	struct pg_strset set;
	char buf[64];

	memset(&set, 0, sizeof set);
	for (size_t i = 0; i < n; i++) {
		/* every third string repeats the one before */
		snprintf(buf, sizeof buf, "d%zu.example", i % 3 == 2 ? i - 1 : i);
		ck_assert(strset_add(&set, buf));
	}
	ck_assert_uint_eq(set.count, n);
	for (size_t i = 0; i < n; i += 3) { /* before the build: still readable */
		snprintf(buf, sizeof buf, "d%zu.example", i);
		ck_assert_str_eq(set.items[i], buf);
		ck_assert(strset_contains(&set, buf));
	}
	ck_assert(strset_build(&set, set.items, set.count));
	for (size_t i = 0; i < n; i++) {
		snprintf(buf, sizeof buf, "d%zu.example", i);
		ck_assert_msg(strset_contains(&set, buf) == (i % 3 != 2), "%s", buf);
	}
	{
		/* the items keep their order (first of equal strings); each short
		 * string lives in exactly one cell and the items point there */
		size_t kept = 0, occupied = 0;
		for (size_t i = 0; i < n; i++)
			kept += i % 3 != 2;
		ck_assert_uint_eq(set.count, kept);
		for (size_t i = 0, k = 0; i < n; i++) {
			if (i % 3 == 2)
				continue;
			snprintf(buf, sizeof buf, "d%zu.example", i);
			ck_assert_str_eq(set.items[k], buf);
			ck_assert(set.items[k] >= set.cells[0].s &&
			          set.items[k] < (char *)&set.cells[set.ncap]);
			k++;
		}
		ck_assert_uint_eq(set.used, 0); /* no long string: no arena */
		strset_layout_check(&set, &occupied);
		ck_assert_uint_eq(occupied, kept);
	}
	ck_assert(!strset_contains(&set, "d20000.example"));
	ck_assert(!strset_contains(&set, "d2.example"));
	strset_free(&set);
}
END_TEST

/* The tables' memory: zeroed, aligned, wholly writable, from the heap
 * below 1 MiB and in fresh 2 MiB-aligned mappings from there up. */
START_TEST(test_hugemem)
{
	static const size_t sizes[] = {0, 1, 64, 1000, (1u << 20) - 1, 1u << 20, (3u << 20) + 5};

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		size_t n = sizes[i];
		unsigned char *p = hugemem_alloc(n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 64, 0);
		if (n >= 1u << 20)
			ck_assert_uint_eq((uintptr_t)p % (2u << 20), 0);
		for (size_t k = 0; k < n; k++)
			ck_assert_msg(p[k] == 0, "size %zu, byte %zu", n, k);
		memset(p, 0xa5, n);
		hugemem_free(p, n);
	}
	hugemem_free(NULL, 0);
	hugemem_free(NULL, 5u << 20);
}
END_TEST

static Suite *nettable_suite(void)
{
	Suite *s = suite_create("nettable");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_whole_spaces);
	tcase_add_test(tc, test_hosts);
	tcase_add_test(tc, test_nested_overlapping);
	tcase_add_test(tc, test_mapped);
	tcase_add_test(tc, test_largest);
	tcase_add_test(tc, test_block_edges);
	tcase_add_test(tc, test_domains_added);
	tcase_add_test(tc, test_strset_property);
	tcase_add_test(tc, test_property_linear);
	tcase_add_test(tc, test_domains_largest);
	tcase_add_test(tc, test_hugemem);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(nettable_suite)
