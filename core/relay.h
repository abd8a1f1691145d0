/*
 * relay.h - the relay check of SPEC, "safe, not clever", and trust lookups.
 *
 * relay_rcpt_is_local() answers from the recipient string alone: anything it
 * cannot prove local is remote. relay_client_trusted() matches an address
 * against trusted_networks (IPv4 and IPv6 CIDR; IPv4-mapped IPv6 addresses
 * are matched as IPv4) in O(log n), once relay_nets_build() indexed them. relay_cert_trusted()
 * compares fingerprints case- and separator-insensitively. None of them allocates.
 * The lists are filled here too: the config's entries, its list files and the
 * MTA's facts go through relay_domain_add() and relay_net_add(), in the
 * spellings the checks compare, and relay_lists_build() indexes them.
 */
#ifndef PG_RELAY_H
#define PG_RELAY_H

#include <stdbool.h>
#include <stddef.h>

#include "nettable.h"
#include "pg_limits.h"
#include "strset.h"

/* The relay check's lists and settings: the config's relay group, with the
 * MTA's facts merged in. */
struct pg_relay {
	struct pg_strset domains; /* exact, case-folded, no trailing dot */
	struct pg_strset parents; /* from ".example.org": stored as "example.org" */
	struct pg_net *nets;
	size_t nnets;
	struct pg_nettable *nettab; /* nets, merged for lookup (core/nettable.h) */
	struct pg_strset certs;     /* normalised fingerprints: lower-case hex, no separators */
	/* The domain the MTA appends to an unqualified recipient (Postfix
	 * myorigin, Sendmail $j); NULL when unknown (then only postmaster is a
	 * local unqualified recipient). Heap, owned by the relay.origin_domain
	 * row: config_free() frees it. */
	const char *origin_domain;
	bool authenticated_may_relay;
	/* More than RELAY_LARGE local domains: too many to stay cached, so
	 * relay_prefetch() pays (set by relay_lists_build()). */
	bool large;
	/* Facts from the MTA (core/mtafacts.c), merged into the lists above
	 * (origin_domain too: the MTA's value replaces a hand-set one). */
	int from_mta;          /* enum pg_from_mta */
	char postfix_dir[256]; /* postconf -c */
	char sendmail_cf[256];
};

#define RELAY_LARGE 4096

/* The two spellings of a recipient (SPEC, "Relay check: safe, not clever"). */
enum relay_form {
	/* Postfix's internal, dequoted form, as policy delegation sends it
	 * ("first last@local"): the domain follows the last '@'; the local part
	 * holds anything printable but '@', '%' and '!'. */
	RELAY_FORM_INTERNAL = 0,
	/* As the client wrote it (the milter): exactly one '@' outside quotes,
	 * no '@', '%' or '!' in the local part, quoted or not; no source route. */
	RELAY_FORM_QUOTED
};

/* True only when rcpt is proven local: its domain (case-folded, one
 * trailing dot removed) is listed, or a strict subdomain of a parent; an
 * unqualified recipient (no '@') is local when it is "postmaster" (any case)
 * or when relay->origin_domain, which the MTA appends, is itself local. */
bool relay_rcpt_is_local(const struct pg_relay *relay, const char *rcpt, enum relay_form form);

/* A hint: start loading the lines that relay_rcpt_is_local() will read for
 * the recipient rcpt (len bytes, not NUL-terminated), so that they arrive
 * while the caller does other work. Nothing when relay->large is false; a
 * wrong guess costs only the loads. (The trusted networks get none: beside a
 * million domains their two lines miss the cache too, but a prefetch of them
 * from the read pass only moved the wait into the prefetch, measured.) */
void relay_prefetch(const struct pg_relay *relay, const char *rcpt, size_t len);
bool relay_client_trusted(const struct pg_relay *relay, const char *addr);
/* Index relay->nets for relay_client_trusted() (replacing an older index);
 * relay_lists_build() calls it once every list is in. false: out of memory. */
bool relay_nets_build(struct pg_relay *relay);
bool relay_cert_trusted(const struct pg_relay *relay, const char *fingerprint);

/* Parse "192.0.2.0/24", "2001:db8::/32", or a bare address (full prefix).
 * Returns false on a malformed value or a prefix too long for the family. */
bool relay_net_parse(const char *s, struct pg_net *out);

/* Room for a normalised local domain: PG_MAX_DOMAIN, or an address literal
 * with its brackets, and the NUL. */
#define RELAY_DOMAIN_BUF (PG_MAX_DOMAIN + 3)

/* A local domain as the config lists it, into out as relay_rcpt_is_local()
 * compares it: case-folded, one trailing dot removed; ".example.org" (its
 * subdomains) sets *parent and gives "example.org"; "[192.0.2.1]" and
 * "[IPv6:2001:db8::1]" stay literals. false with the reason in why. */
bool relay_domain_normalise(const char *in, char out[RELAY_DOMAIN_BUF], bool *parent, char *why,
                            size_t whylen);

/* One entry into relay's lists, within PG_MAX_LOCAL_DOMAINS domains or
 * PG_MAX_TRUSTED_NETS networks in all: relay_domain_add() a local domain as
 * relay_domain_normalise() spells it (a leading dot: into parents),
 * relay_net_add() a network as relay_net_parse() reads it. false with the
 * reason in why (over the limit, malformed, out of memory). */
typedef bool relay_add_fn(struct pg_relay *relay, const char *s, char *why, size_t whylen);
relay_add_fn relay_domain_add, relay_net_add;

enum relay_list_read { RELAY_LIST_OK = 0, RELAY_LIST_UNREADABLE, RELAY_LIST_BAD };

/* A list file (local_domains_file, trusted_networks_file): one entry per
 * line (what names it: "domain", "network"), '#' comments and blank lines
 * skipped, lines bounded; each entry through add(). RELAY_LIST_UNREADABLE:
 * path cannot be opened or read, errno says why; RELAY_LIST_BAD: the first
 * bad line as "path:line: message" in why. */
enum relay_list_read relay_list_file_read(struct pg_relay *relay, const char *path,
                                          const char *what, relay_add_fn *add, char *why,
                                          size_t whylen);

/* Index every list for the lookups once all are in (config_load(): the
 * config's lists and files, the MTA's); false: out of memory. */
bool relay_lists_build(struct pg_relay *relay);
/* Free the lists (not origin_domain: the config's row owns it). */
void relay_lists_free(struct pg_relay *relay);

/* Normalise a fingerprint into out (lower-case hex, separators ':' '-' ' '
 * removed). Returns false unless the result is 32..PG_MAX_FINGERPRINT hex
 * digits, of even length. */
bool relay_fingerprint_normalise(const char *in, char *out, size_t outlen);

#endif
