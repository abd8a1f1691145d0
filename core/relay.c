/*
 * relay.c - SPEC's relay check ("safe, not clever") and the trust lookups.
 *
 * relay_rcpt_is_local() proves a recipient local from its string alone or
 * calls it remote, in either of SPEC's two forms: Postfix's internal,
 * dequoted form (policy delegation: the domain follows the last '@', the
 * local part may hold spaces, quotes, commas and colons but never '@', '%'
 * or '!') and the quoted form the client wrote (the milter: exactly one '@'
 * outside quotes, no '@', '%' or '!' in the local part, quoted or not, no
 * source route). One pair of <> is stripped. The domain, case-folded with
 * one trailing dot removed, must be listed exactly, or be a strict subdomain
 * of a listed parent; an IP literal counts only when listed. An unqualified
 * recipient (no '@') is local when it is postmaster or when the origin
 * domain the MTA appends is local. Anything longer than PG_MAX_ADDRESS,
 * malformed, or unterminated is remote. relay_client_trusted() matches
 * textual IPv4/IPv6 addresses (an "IPv6:" prefix tolerated, IPv4-mapped
 * addresses as IPv4) against CIDR nets, through core/nettable.c's merged
 * ranges (relay_nets_build() makes them once the list is read).
 * The config lists local domains, networks and fingerprints in the spellings
 * read here (relay_domain_normalise, relay_net_parse,
 * relay_fingerprint_normalise), so what is listed and what is compared are
 * normalised by the same code. The lists are filled here as well: the adders
 * (relay_domain_add, relay_net_add) hold the limits, for the config's entries,
 * its list files (relay_list_file_read: bounded lines, "path:line: message")
 * and the MTA's facts alike; relay_lists_build() indexes them, and
 * relay_lists_free() frees them. Only those allocate or read files; the
 * checks work in stack buffers. The per-request path reads each byte about
 * once: one table (relay_class) classes every byte, a recipient's domain is
 * folded, checked and split at its dots in one pass, each lookup is given
 * its length, and an IPv4 client address is read by a parser that follows
 * inet_pton() exactly (tests/unit/check_relay.c compares it, and the
 * recipient check, with the plain versions they replaced).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "nettable.h"
#include "relay.h"
#include "why.h"

/* What a byte is to the relay check: bits of relay_class[], so that each
 * pass over an address tests one table entry per byte. */
enum {
	RC_LABEL = 1,    /* in a domain label: letter, digit, '-', '_' */
	RC_LITERAL = 2,  /* inside an address literal's brackets: letter, digit, '.', ':' */
	RC_INTERNAL = 4, /* ends the local part of the internal form: '@', or refuses it */
	RC_QUOTED = 8,   /* ends or refuses the quoted form's local part, outside quotes */
	RC_INQUOTE = 16, /* ends or refuses it inside quotes */
	RC_UPPER = 32,   /* 'A'-'Z': byte | RC_UPPER is its lower case */
};

_Static_assert(RC_UPPER == 'a' - 'A', "the fold is an or");

#define RC_ALNUM       (RC_LABEL | RC_LITERAL)
#define RC_UPPER_ALNUM (RC_ALNUM | RC_UPPER)
/* control bytes and DEL: no address holds them */
#define RC_NEVER    (RC_INTERNAL | RC_QUOTED | RC_INQUOTE)
#define RC_4(c, v)  [(c)] = (v), [(c) + 1] = (v), [(c) + 2] = (v), [(c) + 3] = (v)
#define RC_16(c, v) RC_4(c, v), RC_4((c) + 4, v), RC_4((c) + 8, v), RC_4((c) + 12, v)

/* ASCII only, as the C locale's isalnum() and tolower() (portguard never
 * sets a locale); every byte from 0x80 up is 0: no domain has one, a local
 * part may. */
static const unsigned char relay_class[256] = {
    RC_16(0x00, RC_NEVER),
    RC_16(0x10, RC_NEVER),
    [0x7f] = RC_NEVER,
    RC_4('0', RC_ALNUM),
    RC_4('4', RC_ALNUM),
    ['8'] = RC_ALNUM,
    ['9'] = RC_ALNUM,
    RC_16('A', RC_UPPER_ALNUM),
    RC_4('Q', RC_UPPER_ALNUM),
    RC_4('U', RC_UPPER_ALNUM),
    ['Y'] = RC_UPPER_ALNUM,
    ['Z'] = RC_UPPER_ALNUM,
    RC_16('a', RC_ALNUM),
    RC_4('q', RC_ALNUM),
    RC_4('u', RC_ALNUM),
    ['y'] = RC_ALNUM,
    ['z'] = RC_ALNUM,
    ['-'] = RC_LABEL,
    ['_'] = RC_LABEL,
    ['.'] = RC_LITERAL,
    [':'] = RC_LITERAL | RC_QUOTED,
    ['@'] = RC_NEVER,
    ['%'] = RC_NEVER,
    ['!'] = RC_NEVER,
    ['"'] = RC_QUOTED | RC_INQUOTE,
    ['\\'] = RC_INQUOTE,
    ['<'] = RC_QUOTED | RC_INQUOTE,
    ['>'] = RC_QUOTED | RC_INQUOTE,
    [','] = RC_QUOTED,
    [' '] = RC_QUOTED,
};

/* A domain name character; ctype on unsigned char only. */
static bool relay_domain_char(unsigned char c)
{
	return (relay_class[c] & RC_LABEL) != 0 || c == '.';
}

/* d (len bytes, as written) case-folded and without one trailing dot, then
 * looked up, in one pass that folds it into a buffer, checks each byte and
 * notes the dots: an address literal ("[...]") is local only when listed
 * exactly; a name of labels of letters, digits, '-' and '_' between single
 * dots is local when listed or a strict subdomain of a parent
 * ("a.b.example.org" tries "b.example.org", "example.org", "org"; the
 * parent itself never matches here). */
static bool relay_domain_lookup(const struct pg_relay *relay, const char *d, size_t len)
{
	char dom[PG_MAX_DOMAIN + 3];
	uint16_t dots[PG_MAX_DOMAIN / 2 + 2];
	size_t ndots = 0, i = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > PG_MAX_DOMAIN + 2)
		return false;
	if (d[0] == '[') {
		if (len < 3 || d[len - 1] != ']')
			return false;
		for (i = 1; i + 1 < len; i++)
			if ((relay_class[(unsigned char)d[i]] & RC_LITERAL) == 0)
				return false;
		for (i = 0; i < len; i++)
			dom[i] = (char)(d[i] | (relay_class[(unsigned char)d[i]] & RC_UPPER));
		return strset_contains_len(&relay->domains, dom, len);
	}
	for (;;) {
		/* a label: at least one byte, up to a dot or the end */
		size_t start = i;
		unsigned char c, cls;
		while (i < len && ((cls = relay_class[c = (unsigned char)d[i]]) & RC_LABEL) != 0)
			dom[i++] = (char)(c | (cls & RC_UPPER));
		if (i == start)
			return false; /* empty: a leading, a trailing or a double dot */
		if (i == len)
			break;
		if (d[i] != '.')
			return false;
		dots[ndots++] = (uint16_t)i;
		dom[i++] = '.';
	}
	if (strset_contains_len(&relay->domains, dom, len))
		return true;
	for (size_t k = 0; k < ndots; k++)
		if (strset_contains_len(&relay->parents, dom + dots[k] + 1, len - dots[k] - 1))
			return true;
	return false;
}

/* "[192.0.2.1]" or "[ipv6:...]" (case-folded), n bytes. */
static bool relay_ip_literal_ok(const char *s, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned char addr[16];

	if (n < 3 || s[n - 1] != ']' || n - 2 >= sizeof buf)
		return false;
	memcpy(buf, s + 1, n - 2);
	buf[n - 2] = '\0';
	if (strncmp(buf, "ipv6:", 5) == 0)
		return inet_pton(AF_INET6, buf + 5, addr) == 1;
	return inet_pton(AF_INET, buf, addr) == 1;
}

bool relay_domain_normalise(const char *in, char out[RELAY_DOMAIN_BUF], bool *parent, char *why,
                            size_t whylen)
{
	size_t n = strlen(in), label = 0;
	char *p = out;

	*parent = false;
	if (n > PG_MAX_DOMAIN + 2)
		return why_set(why, whylen, "the domain is longer than %d characters",
		               PG_MAX_DOMAIN);
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	if (out[0] == '[') {
		if (relay_ip_literal_ok(out, n))
			return true;
		return why_set(
		    why, whylen,
		    "bad address literal \"%s\": write [192.0.2.1] or [IPv6:2001:db8::1]", in);
	}
	if (*p == '.') {
		*parent = true;
		p++;
	}
	n = strlen(p);
	if (n > 0 && p[n - 1] == '.')
		p[--n] = '\0';
	if (n == 0)
		return why_set(why, whylen, "empty domain");
	if (n > PG_MAX_DOMAIN)
		return why_set(why, whylen, "the domain is longer than %d characters",
		               PG_MAX_DOMAIN);
	for (size_t i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '.' || c == '\0') {
			if (label == 0)
				return why_set(why, whylen, "empty label in domain \"%s\"", in);
			label = 0;
			continue;
		}
		if (!relay_domain_char(c))
			return why_set(
			    why, whylen,
			    "bad character in domain \"%s\": use letters, digits, '-' and "
			    "'.' (a leading dot means \"subdomains of\")",
			    in);
		if (++label > 63)
			return why_set(why, whylen,
			               "a label of domain \"%s\" is longer than 63 characters", in);
	}
	memmove(out, p, n + 1);
	return true;
}

/* No '@' at all: the MTA appends its origin domain, so the recipient is as
 * local as that domain; postmaster is always here (RFC 5321 4.5.1). The
 * caller has refused '%' and '!' already. */
static bool relay_unqualified_is_local(const struct pg_relay *relay, const char *rcpt, size_t len)
{
	const char *origin = relay->origin_domain;

	if (len == 10 && strncasecmp(rcpt, "postmaster", 10) == 0)
		return true;
	return origin != NULL && relay_domain_lookup(relay, origin, strlen(origin));
}

/* The two splits scan the local part only, up to its '@': the domain after
 * it is relay_domain_lookup()'s, whose check refuses every byte they would
 * there (a second '@', quotes, spaces, control bytes, '<' and '>'). */

/* The quoted form: '@' position into *at, or len when unqualified; false
 * when it is no single address without routing characters. */
static bool relay_split_quoted(const char *rcpt, size_t len, size_t *at)
{
	bool quoted = false;

	if (rcpt[0] == '@')
		return false; /* source route */
	for (size_t i = 0;; i++) {
		/* past the bytes that mean nothing here */
		unsigned stop = quoted ? RC_INQUOTE : RC_QUOTED;
		while (i < len && (relay_class[(unsigned char)rcpt[i]] & stop) == 0)
			i++;
		if (i == len) {
			*at = len;
			return !quoted;
		}
		if (rcpt[i] == '"') {
			quoted = !quoted;
		} else if (quoted && rcpt[i] == '\\') {
			unsigned char e;

			if (++i >= len)
				return false;
			/* an escaped byte is still in the local part: refused as
			 * the same byte unescaped ("a\\@b" is "a@b"), but a quote
			 * or a backslash is only itself */
			e = (unsigned char)rcpt[i];
			if ((relay_class[e] & RC_INQUOTE) != 0 && e != '"' && e != '\\')
				return false;
		} else if (!quoted && rcpt[i] == '@') {
			*at = i;
			return true;
		} else {
			/* quoted or not: '@', '%', '!', '<', '>', control bytes;
			 * unquoted: ':' and ',' (a source route or a list), space */
			return false;
		}
	}
}

/* Postfix's internal form: the domain follows the '@'; the local part is
 * plain characters, but never '@', '%' or '!' (so one '@' at most). */
static bool relay_split_internal(const char *rcpt, size_t len, size_t *at)
{
	size_t i = 0;

	while (i < len && (relay_class[(unsigned char)rcpt[i]] & RC_INTERNAL) == 0)
		i++;
	*at = i;
	return i == len || (rcpt[i] == '@' && i > 0);
}

bool relay_rcpt_is_local(const struct pg_relay *relay, const char *rcpt, enum relay_form form)
{
	size_t len, at;

	if (relay == NULL || rcpt == NULL)
		return false;
	len = strnlen(rcpt, PG_MAX_ADDRESS + 3);
	if (len > PG_MAX_ADDRESS + 2)
		return false; /* too long even without its <> */
	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>') {
		rcpt++;
		len -= 2;
	}
	if (len == 0 || len > PG_MAX_ADDRESS)
		return false;
	if (!(form == RELAY_FORM_QUOTED ? relay_split_quoted(rcpt, len, &at)
	                                : relay_split_internal(rcpt, len, &at)))
		return false;
	if (at == len)
		return relay_unqualified_is_local(relay, rcpt, len);
	return relay_domain_lookup(relay, rcpt + at + 1, len - at - 1);
}

/* Bytes of a client address or a network's address part, and its NUL: the
 * longest ("IPv6:" and INET6_ADDRSTRLEN) fits with room. */
enum { RELAY_ADDR_MAX = 64 };

/* A byte's value as a decimal digit: above 9 for any other byte. */
static inline unsigned relay_digit(unsigned char c)
{
	return (unsigned)c - '0';
}

/* A dotted quad as inet_pton(AF_INET) reads one (s, len bytes, a NUL at
 * s[len] and none before: each byte is read only after a digit or a dot,
 * so never past the NUL): exactly four decimal parts of 0-255, each without
 * a leading zero ("0" is fine, "01" is not), and nothing else. */
static bool relay_ipv4_parse(const char *s, size_t len, uint8_t addr[4])
{
	const unsigned char *p = (const unsigned char *)s;

	for (int part = 0; part < 4; part++) {
		unsigned v = relay_digit(*p), d;
		if (v > 9)
			return false;
		if ((d = relay_digit(*++p)) <= 9) {
			if (v == 0)
				return false; /* a leading zero */
			v = v * 10 + d;
			if ((d = relay_digit(*++p)) <= 9) {
				v = v * 10 + d;
				if (v > 255 || relay_digit(*++p) <= 9)
					return false; /* over 255: three digits, or four */
			}
		}
		addr[part] = (uint8_t)v;
		if (part < 3 && *p++ != '.')
			return false;
	}
	return p == (const unsigned char *)s + len;
}

/* Parse an address (s, len bytes, a NUL at s[len] and none before; an
 * "IPv6:" prefix tolerated) as inet_pton() would, into family/bytes: IPv4
 * by relay_ipv4_parse() (tests/unit/check_relay.c compares the two), IPv6
 * by inet_pton() itself; IPv4-mapped IPv6 becomes IPv4. Returns the full
 * prefix length for the family, 0 on failure. */
static unsigned relay_addr_parse(const char *s, size_t len, int *family, uint8_t addr[16])
{
	struct in6_addr a6;

	/* strncasecmp(s, "IPv6:", 5), inline: c | 0x20 is 'i' for 'I' and 'i' only */
	if (len >= 5 && (s[0] | 0x20) == 'i' && (s[1] | 0x20) == 'p' && (s[2] | 0x20) == 'v' &&
	    s[3] == '6' && s[4] == ':') {
		s += 5;
		len -= 5;
	}
	if (relay_ipv4_parse(s, len, addr)) {
		*family = AF_INET;
		return 32;
	}
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return 0;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		*family = AF_INET;
		memcpy(addr, a6.s6_addr + 12, 4);
		return 32;
	}
	*family = AF_INET6;
	memcpy(addr, a6.s6_addr, 16);
	return 128;
}

bool relay_net_parse(const char *s, struct pg_net *out)
{
	char buf[RELAY_ADDR_MAX];
	const char *slash;
	size_t alen;
	unsigned full, prefix;
	bool mapped;
	struct in6_addr a6;

	if (s == NULL || out == NULL)
		return false;
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof buf)
		return false;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(out, 0, sizeof *out);
	/* A mapped net ("::ffff:10.0.0.0/104") is stored as IPv4. */
	mapped = inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6);
	full = relay_addr_parse(buf, alen, &out->family, out->addr);
	if (full == 0)
		return false;
	if (slash == NULL) {
		prefix = full;
	} else {
		const char *p = slash + 1;
		size_t n = strlen(p);
		if (n == 0 || n > 3)
			return false;
		prefix = 0;
		for (size_t i = 0; i < n; i++) {
			if (!isdigit((unsigned char)p[i]))
				return false;
			prefix = prefix * 10 + (unsigned)(p[i] - '0');
		}
		if (mapped) {
			if (prefix > 128 || prefix < 96)
				return false;
			prefix -= 96;
		}
		if (prefix > full)
			return false;
	}
	/* Clear host bits so that matching compares only the network part. */
	for (unsigned bit = prefix; bit < full; bit++)
		out->addr[bit / 8] &= (uint8_t) ~(0x80u >> (bit % 8));
	out->prefix = prefix;
	return true;
}

void relay_prefetch(const struct pg_relay *relay, const char *rcpt, size_t len)
{
	const char *at = memrchr(rcpt, '@', len);

	if (!relay->large || at == NULL)
		return;
	len -= (size_t)(++at - rcpt);
	if (len > 0 && at[len - 1] == '>')
		len--;
	if (len > 0 && at[len - 1] == '.')
		len--;
	strset_prefetch(&relay->domains, at, len);
}

bool relay_client_trusted(const struct pg_relay *relay, const char *addr)
{
	uint8_t bytes[16];
	int family;
	size_t len;

	if (relay == NULL || addr == NULL)
		return false;
	len = strnlen(addr, RELAY_ADDR_MAX);
	if (len == 0 || len >= RELAY_ADDR_MAX)
		return false;
	if (relay_addr_parse(addr, len, &family, bytes) == 0)
		return false;
	return nettable_contains(relay->nettab, family, bytes);
}

bool relay_nets_build(struct pg_relay *relay)
{
	nettable_free(relay->nettab);
	relay->nettab = nettable_build(relay->nets, relay->nnets);
	return relay->nettab != NULL;
}

bool relay_fingerprint_normalise(const char *in, char *out, size_t outlen)
{
	size_t n = 0;

	if (out == NULL || outlen == 0)
		return false;
	out[0] = '\0';
	if (in == NULL)
		return false;
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p == ':' || *p == '-' || *p == ' ')
			continue;
		if (!isxdigit(*p) || n >= PG_MAX_FINGERPRINT || n + 1 >= outlen) {
			out[0] = '\0';
			return false;
		}
		out[n++] = (char)tolower(*p);
	}
	out[n] = '\0';
	if (n < 32 || n % 2 != 0) {
		out[0] = '\0';
		return false;
	}
	return true;
}

bool relay_cert_trusted(const struct pg_relay *relay, const char *fingerprint)
{
	char fp[PG_MAX_FINGERPRINT + 1];

	if (relay == NULL || !relay_fingerprint_normalise(fingerprint, fp, sizeof fp))
		return false;
	return strset_contains(&relay->certs, fp);
}

/* ---- the lists, as the config file, the list files and the MTA fill them ---- */

/* A line of a list file: a domain plus room for a comment. */
enum { RELAY_LIST_LINE_MAX = 4 * (PG_MAX_DOMAIN + 1) };

#define NET_BAD                                                                                    \
	"\"%.200s\" is not an address or network: write 192.0.2.0/24, 2001:db8::/32 or a "         \
	"single address"

/* Room for entry n of *v (entries of size bytes), growing by doubling. */
static bool relay_grow(void *v, size_t n, size_t size)
{
	void **p = v;
	void *grown;

	if (n < 16 ? n > 0 : (n & (n - 1)) != 0)
		return true; /* room left: n is not 0, 16, 32, 64 ... */
	if ((grown = realloc(*p, (n < 16 ? 16 : 2 * n) * size)) == NULL)
		return false;
	*p = grown;
	return true;
}

bool relay_domain_add(struct pg_relay *relay, const char *s, char *why, size_t whylen)
{
	char d[RELAY_DOMAIN_BUF];
	bool parent;

	if (relay->domains.count + relay->parents.count >= PG_MAX_LOCAL_DOMAINS)
		return why_set(why, whylen, "more than %d local domains", PG_MAX_LOCAL_DOMAINS);
	if (!relay_domain_normalise(s, d, &parent, why, whylen))
		return false;
	if (!strset_add(parent ? &relay->parents : &relay->domains, d))
		return why_set(why, whylen, "out of memory");
	return true;
}

bool relay_net_add(struct pg_relay *relay, const char *s, char *why, size_t whylen)
{
	if (relay->nnets >= PG_MAX_TRUSTED_NETS)
		return why_set(why, whylen, "more than %d trusted networks", PG_MAX_TRUSTED_NETS);
	if (!relay_grow(&relay->nets, relay->nnets, sizeof *relay->nets))
		return why_set(why, whylen, "out of memory");
	if (!relay_net_parse(s, &relay->nets[relay->nnets]))
		return why_set(why, whylen, NET_BAD, s);
	relay->nnets++;
	return true;
}

/* Read one line into buf (bounded). Returns 1 on a line, 0 at EOF, -1 too long,
 * -2 on a NUL byte. */
static int relay_read_line(FILE *fp, char *buf, size_t len)
{
	size_t n = 0;
	int c;

	while ((c = getc(fp)) != EOF && c != '\n') {
		if (c == '\0')
			return -2;
		if (n + 1 >= len)
			return -1;
		buf[n++] = (char)c;
	}
	if (c == EOF && n == 0)
		return 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return 1;
}

enum relay_list_read relay_list_file_read(struct pg_relay *relay, const char *path,
                                          const char *what, relay_add_fn *add, char *why,
                                          size_t whylen)
{
	char line[RELAY_LIST_LINE_MAX], bad[RELAY_LIST_LINE_MAX + 64] = "";
	unsigned lineno = 0;
	enum relay_list_read res;
	FILE *fp;
	int rc, err;

	if ((fp = fopen(path, "r")) == NULL)
		return RELAY_LIST_UNREADABLE;
	while (bad[0] == '\0' && (rc = relay_read_line(fp, line, sizeof line)) != 0) {
		char *p = line + strspn(line, " \t\r\f\v"), *end;
		lineno++;
		*strchrnul(p, '#') = '\0';
		for (end = p + strlen(p); end > p && isspace((unsigned char)end[-1]);)
			*--end = '\0';
		if (rc < 0)
			why_set(bad, sizeof bad, "%s%s%s",
			        rc == -1 ? "line too long (one " : "NUL byte in line",
			        rc == -1 ? what : "", rc == -1 ? " per line)" : "");
		else if (strpbrk(p, " \t") != NULL)
			why_set(bad, sizeof bad, "\"%s\": one %s per line", p, what);
		else if (*p != '\0')
			add(relay, p, bad, sizeof bad);
	}
	err = errno;
	res = bad[0] != '\0' ? RELAY_LIST_BAD : ferror(fp) ? RELAY_LIST_UNREADABLE : RELAY_LIST_OK;
	if (res == RELAY_LIST_BAD)
		snprintf(why, whylen, "%s:%u: %s", path, lineno, bad);
	fclose(fp);
	errno = err;
	return res;
}

bool relay_lists_build(struct pg_relay *relay)
{
	relay->large =
	    relay->domains.count + relay->parents.count > RELAY_LARGE || relay->nnets > RELAY_LARGE;
	return strset_build(&relay->domains, relay->domains.items, relay->domains.count) &&
	       strset_build(&relay->parents, relay->parents.items, relay->parents.count) &&
	       strset_build(&relay->certs, relay->certs.items, relay->certs.count) &&
	       relay_nets_build(relay);
}

void relay_lists_free(struct pg_relay *relay)
{
	strset_free(&relay->domains);
	strset_free(&relay->parents);
	strset_free(&relay->certs);
	free(relay->nets);
	nettable_free(relay->nettab);
}
