/*
 * relay.h - the relay check of SPEC, "safe, not clever", and trust lookups.
 *
 * relay_rcpt_is_local() answers from the recipient string alone: anything it
 * cannot prove local is remote. relay_client_trusted() matches an address
 * against trusted_networks (IPv4 and IPv6 CIDR; IPv4-mapped IPv6 addresses
 * are matched as IPv4). relay_cert_trusted() compares fingerprints case- and
 * separator-insensitively. None of them allocates.
 */
#ifndef PG_RELAY_H
#define PG_RELAY_H

#include <stdbool.h>

#include "config.h"

bool relay_rcpt_is_local(const struct pg_relay *relay, const char *rcpt);

/* The milter's resolved facts may only confirm "remote": true when the MTA
 * sends the recipient off this host (rcpt_mailer smtp, esmtp, relay, ...) AND
 * the address it resolved to (rcpt_addr) is itself not local by
 * relay_rcpt_is_local(). A listed domain that the MTA forwards (a gateway or
 * backup MX: mailertable, relay_domains) therefore stays local, while an
 * address the MTA rewrote to a remote one is remote. NULL or "" facts: false. */
bool relay_resolved_is_remote(const struct pg_relay *relay, const char *rcpt_mailer,
                              const char *rcpt_addr);

bool relay_client_trusted(const struct pg_relay *relay, const char *addr);
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

/* Normalise a fingerprint into out (lower-case hex, separators ':' '-' ' '
 * removed). Returns false unless the result is 32..PG_MAX_FINGERPRINT hex
 * digits, of even length. */
bool relay_fingerprint_normalise(const char *in, char *out, size_t outlen);

#endif
