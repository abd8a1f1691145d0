/*
 * check_relay.c - core/relay.c: SPEC "Relay check: safe, not clever", the
 * trust lookups (CIDR, IPv4-mapped, fingerprints) and the lists' adders and
 * file reader.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <strings.h>
#include <sys/socket.h>

#include "check_common.h"
#include "nettable.h"
#include "relay.h"

static struct pg_relay relay;

static void set_from(struct pg_strset *set, const char *const *items, size_t n)
{
	char **v = calloc(n + 1, sizeof *v);
	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n; i++)
		v[i] = strdup(items[i]);
	strset_build(set, v, n);
}

static void relay_setup(void)
{
	static const char *const domains[] = {
	    "example.org", "local.example.org", "[192.0.2.1]", "[ipv6:2001:db8::1]", "mail.test",
	};
	static const char *const parents[] = {"sub.test", "example.org"};
	static const char *const nets[] = {"127.0.0.0/8", "::1", "192.0.2.0/24", "2001:db8:1::/48"};
	static const char *const certs[] = {
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"};

	memset(&relay, 0, sizeof relay);
	set_from(&relay.domains, domains, PG_ARRAY_LEN(domains));
	set_from(&relay.parents, parents, PG_ARRAY_LEN(parents));
	set_from(&relay.certs, certs, PG_ARRAY_LEN(certs));
	relay.nets = calloc(PG_ARRAY_LEN(nets), sizeof *relay.nets);
	for (size_t i = 0; i < PG_ARRAY_LEN(nets); i++)
		ck_assert(relay_net_parse(nets[i], &relay.nets[i]));
	relay.nnets = PG_ARRAY_LEN(nets);
	ck_assert(relay_nets_build(&relay));
	relay.authenticated_may_relay = true;
}

static void relay_teardown(void)
{
	strset_free(&relay.domains);
	strset_free(&relay.parents);
	strset_free(&relay.certs);
	free(relay.nets);
	nettable_free(relay.nettab);
}

/* One address, judged in both of SPEC's forms: Postfix's dequoted internal
 * form (policy delegation) and the quoted form the client wrote (milter).
 * 'L' local, 'R' remote; the origin domain is unknown here. */
START_TEST(test_tricky_addresses)
{
	static const struct {
		const char *rcpt;
		char internal, quoted;
	} cases[] = {
	    {"user@example.org", 'L', 'L'},
	    {"<user@example.org>", 'L', 'L'},
	    {"user@LOCAL.Example.ORG", 'L', 'L'},
	    {"USER@EXAMPLE.ORG", 'L', 'L'},
	    {"user@example.org.", 'L', 'L'},
	    {"user@example.org..", 'R', 'R'},
	    {"user@.example.org", 'R', 'R'},
	    {"user@remote.net", 'R', 'R'},
	    {"user@remote.net.", 'R', 'R'},
	    {"postmaster", 'L', 'L'},
	    {"<postmaster>", 'L', 'L'},
	    {"", 'R', 'R'},
	    {"<>", 'R', 'R'},
	    {"user@", 'R', 'R'},
	    {"@example.org", 'R', 'R'},
	    /* source routes */
	    {"<@example.org:user@remote.net>", 'R', 'R'},
	    {"@example.org,@x.test:user@example.org", 'R', 'R'},
	    {"@remote.net:user@example.org", 'R', 'R'},
	    /* a colon is a plain character of a dequoted local part */
	    {"user:x@example.org", 'L', 'R'},
	    /* several @, quoted or not; "u@remote"@local dequoted */
	    {"user@remote.net@example.org", 'R', 'R'},
	    {"\"user@remote.net\"@example.org", 'R', 'R'},
	    {"<\"user@remote.net\"@example.org>", 'R', 'R'},
	    {"user@example.org@remote.net", 'R', 'R'},
	    /* percent hack and bang paths */
	    {"user%remote.net@example.org", 'R', 'R'},
	    {"\"user%remote.net\"@example.org", 'R', 'R'},
	    {"remote.net!user@example.org", 'R', 'R'},
	    {"\"remote.net!user\"@example.org", 'R', 'R'},
	    {"user@remote.net%example.org", 'R', 'R'},
	    {"user@example.org!remote", 'R', 'R'},
	    /* quoted local parts without routing characters are fine; their
	     * dequoted spellings (issue 10's three) too, in the internal form */
	    {"\"a b\"@example.org", 'L', 'L'},
	    {"\"a\\\"b\"@example.org", 'L', 'L'},
	    /* an escaped byte is the byte itself: no routing through it */
	    {"\"user\\@remote.net\"@example.org", 'R', 'R'},
	    {"\"user\\%remote.net\"@example.org", 'R', 'R'},
	    {"\"remote.net\\!user\"@example.org", 'R', 'R'},
	    {"\"a\\\001b\"@example.org", 'R', 'R'},
	    {"\"a\\<b\"@example.org", 'L', 'R'},
	    {"\"a\\\\b\"@example.org", 'L', 'L'},
	    {"\"first last\"@example.org", 'L', 'L'},
	    {"first last@example.org", 'L', 'R'},
	    {"\"user\\\"x\"@example.org", 'L', 'L'},
	    {"user\"x@example.org", 'L', 'R'},
	    {"\"a(b)c,d:e;f\"@example.org", 'L', 'L'},
	    {"a(b)c,d:e;f@example.org", 'L', 'R'},
	    {"\"unterminated@example.org", 'L', 'R'},
	    {"a b@example.org", 'L', 'R'},
	    {"<user@example.org", 'L', 'R'},
	    /* comments */
	    {"user(comment)@example.org", 'L', 'L'},
	    {"user@example.org(comment)", 'R', 'R'},
	    {"user@(comment)example.org", 'R', 'R'},
	    {"user@remote.net(@example.org)", 'R', 'R'},
	    {"user(@remote.net)@example.org", 'R', 'R'},
	    /* IP literals */
	    {"user@[192.0.2.1]", 'L', 'L'},
	    {"user@[192.0.2.2]", 'R', 'R'},
	    {"user@[IPv6:2001:db8::1]", 'L', 'L'},
	    {"user@[IPv6:2001:db8::2]", 'R', 'R'},
	    {"user@[127.0.0.1]", 'R', 'R'},
	    {"user@192.0.2.1", 'R', 'R'},
	    {"user@[192.0.2.1", 'R', 'R'},
	    /* parents: strict subdomains only */
	    {"user@a.sub.test", 'L', 'L'},
	    {"user@a.b.sub.test", 'L', 'L'},
	    {"user@A.SUB.TEST.", 'L', 'L'},
	    {"user@sub.test", 'R', 'R'},
	    {"user@xsub.test", 'R', 'R'},
	    {"user@www.example.org", 'L', 'L'}, /* example.org is a parent too */
	    {"user@mail.test", 'L', 'L'},
	    {"user@x.mail.test", 'R', 'R'},
	    /* 8-bit bytes: fine in a local part, never in a domain */
	    {"us\xc3\xa9r@example.org", 'L', 'L'},
	    {"user@ex\xc3\xa4mple.org", 'R', 'R'},
	    {"user@example.org\xff", 'R', 'R'},
	    /* odd domains and control characters */
	    {"user@exa%mple.org", 'R', 'R'},
	    {"user@example.org\r\n", 'R', 'R'},
	    {"user\t@example.org", 'R', 'R'},
	    {"user@example.org ", 'R', 'R'},
	    {"user@\"example.org\"", 'R', 'R'},
	    {"user@example.org>", 'R', 'R'},
	};
	static const enum relay_form forms[] = {RELAY_FORM_INTERNAL, RELAY_FORM_QUOTED};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		for (size_t f = 0; f < PG_ARRAY_LEN(forms); f++) {
			char want = f == 0 ? cases[i].internal : cases[i].quoted;
			bool got = relay_rcpt_is_local(&relay, cases[i].rcpt, forms[f]);
			ck_assert_msg(got == (want == 'L'), "rcpt '%s' (%s form): want %s, got %s",
			              cases[i].rcpt, f == 0 ? "internal" : "quoted",
			              want == 'L' ? "local" : "remote", got ? "local" : "remote");
		}
	}
}
END_TEST

/* Unqualified recipients: the MTA appends its origin domain, so they are as
 * local as that domain; postmaster always; '%' and '!' never. Columns: the
 * origin unknown, local, local as spelled by hand, a subdomain of a parent,
 * not local; 'L' local, 'R' remote, for the internal then the quoted form. */
START_TEST(test_unqualified)
{
	static const char *const origins[] = {NULL, "example.org", "EXAMPLE.org.", "mx.sub.test",
	                                      "remote.net"};
	static const struct {
		const char *rcpt;
		const char *internal, *quoted;
	} cases[] = {
	    {"relaytest", "RLLLR", "RLLLR"},
	    {"<relaytest>", "RLLLR", "RLLLR"},
	    {"relaytest.", "RLLLR", "RLLLR"},
	    {"relaytest(comment)", "RLLLR", "RLLLR"},
	    {"\"relay test\"", "RLLLR", "RLLLR"},
	    {"relay test", "RLLLR", "RRRRR"}, /* dequoted "relay test" */
	    {"user", "RLLLR", "RLLLR"},
	    {"postmaster", "LLLLL", "LLLLL"},
	    {"PostMaster", "LLLLL", "LLLLL"},
	    {"<POSTMASTER>", "LLLLL", "LLLLL"},
	    {"postmaster.", "RLLLR", "RLLLR"},
	    {"user%remote.net", "RRRRR", "RRRRR"},
	    {"\"user%remote.net\"", "RRRRR", "RRRRR"},
	    {"remote!user", "RRRRR", "RRRRR"},
	    {"postmaster%remote.net", "RRRRR", "RRRRR"},
	    {"relay\ttest", "RRRRR", "RRRRR"},
	};

	for (size_t o = 0; o < PG_ARRAY_LEN(origins); o++) {
		relay.origin_domain = origins[o];
		for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
			bool in = relay_rcpt_is_local(&relay, cases[i].rcpt, RELAY_FORM_INTERNAL);
			bool qu = relay_rcpt_is_local(&relay, cases[i].rcpt, RELAY_FORM_QUOTED);
			ck_assert_msg(in == (cases[i].internal[o] == 'L'),
			              "'%s' internal form, origin %s: got %s", cases[i].rcpt,
			              origins[o] ? origins[o] : "unknown", in ? "local" : "remote");
			ck_assert_msg(qu == (cases[i].quoted[o] == 'L'),
			              "'%s' quoted form, origin %s: got %s", cases[i].rcpt,
			              origins[o] ? origins[o] : "unknown", qu ? "local" : "remote");
		}
	}
	/* A qualified recipient does not care about the origin. */
	relay.origin_domain = "example.org";
	ck_assert(!relay_rcpt_is_local(&relay, "user@remote.net", RELAY_FORM_INTERNAL));
	ck_assert(!relay_rcpt_is_local(&relay, "postmaster@remote.net", RELAY_FORM_QUOTED));
	relay.origin_domain = NULL;
}
END_TEST

START_TEST(test_rcpt_length_limit)
{
	char buf[PG_MAX_ADDRESS + 8];
	const char *dom = "@example.org";
	size_t dl = strlen(dom);

	for (int f = RELAY_FORM_INTERNAL; f <= RELAY_FORM_QUOTED; f++) {
		/* Just fits: PG_MAX_ADDRESS bytes. */
		memset(buf, 'a', PG_MAX_ADDRESS - dl);
		memcpy(buf + PG_MAX_ADDRESS - dl, dom, dl + 1);
		ck_assert_uint_eq(strlen(buf), PG_MAX_ADDRESS);
		ck_assert(relay_rcpt_is_local(&relay, buf, (enum relay_form)f));
		/* One over: remote. */
		memset(buf, 'a', PG_MAX_ADDRESS - dl + 1);
		memcpy(buf + PG_MAX_ADDRESS - dl + 1, dom, dl + 1);
		ck_assert_uint_eq(strlen(buf), PG_MAX_ADDRESS + 1);
		ck_assert(!relay_rcpt_is_local(&relay, buf, (enum relay_form)f));
		/* A long unqualified one, the origin local: still bounded. */
		relay.origin_domain = "example.org";
		memset(buf, 'a', PG_MAX_ADDRESS + 1);
		buf[PG_MAX_ADDRESS + 1] = '\0';
		ck_assert(!relay_rcpt_is_local(&relay, buf, (enum relay_form)f));
		buf[PG_MAX_ADDRESS] = '\0';
		ck_assert(relay_rcpt_is_local(&relay, buf, (enum relay_form)f));
		relay.origin_domain = NULL;
		ck_assert(!relay_rcpt_is_local(&relay, NULL, (enum relay_form)f));
		ck_assert(!relay_rcpt_is_local(NULL, "user@example.org", (enum relay_form)f));
	}
}
END_TEST

START_TEST(test_net_parse)
{
	static const struct {
		const char *in;
		bool want_ok;
		int want_family;
		unsigned want_prefix;
	} cases[] = {
	    {"192.0.2.0/24", true, AF_INET, 24},
	    {"192.0.2.7", true, AF_INET, 32},
	    {"0.0.0.0/0", true, AF_INET, 0},
	    {"10.0.0.1/32", true, AF_INET, 32},
	    {"10.0.0.0/33", false, 0, 0},
	    {"2001:db8::/32", true, AF_INET6, 32},
	    {"::/0", true, AF_INET6, 0},
	    {"::1", true, AF_INET6, 128},
	    {"::1/128", true, AF_INET6, 128},
	    {"::1/129", false, 0, 0},
	    {"::ffff:10.0.0.0/104", true, AF_INET, 8},
	    {"::ffff:10.0.0.0/95", false, 0, 0},
	    {"IPv6:2001:db8::/32", true, AF_INET6, 32},
	    {"10.0.0.0/", false, 0, 0},
	    {"10.0.0.0/-1", false, 0, 0},
	    {"10.0.0.0/+8", false, 0, 0},
	    {"10.0.0.0/8x", false, 0, 0},
	    {"10.0.0.0/0008", false, 0, 0},
	    {"10.0.0.0/8/8", false, 0, 0},
	    {"/8", false, 0, 0},
	    {"", false, 0, 0},
	    {"10.0.0/8", false, 0, 0},
	    {"host.example/8", false, 0, 0},
	    {"256.0.0.0/8", false, 0, 0},
	};
	struct pg_net n;

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		bool ok = relay_net_parse(cases[i].in, &n);
		ck_assert_msg(ok == cases[i].want_ok, "net '%s'", cases[i].in);
		if (ok) {
			ck_assert_int_eq(n.family, cases[i].want_family);
			ck_assert_uint_eq(n.prefix, cases[i].want_prefix);
		}
	}
	ck_assert(!relay_net_parse(NULL, &n));
}
END_TEST

START_TEST(test_client_trusted)
{
	static const struct {
		const char *addr;
		bool want;
	} cases[] = {
	    {"127.0.0.1", true},
	    {"127.255.255.255", true},
	    {"128.0.0.1", false},
	    {"192.0.2.200", true},
	    {"192.0.3.1", false},
	    {"::1", true},
	    {"::2", false},
	    {"IPv6:::1", true},
	    {"ipv6:::1", true},
	    {"::ffff:127.0.0.1", true},
	    {"IPv6:::ffff:192.0.2.9", true},
	    {"::ffff:198.51.100.1", false},
	    {"2001:db8:1:ffff::1", true},
	    {"2001:db8:2::1", false},
	    {"", false},
	    {"localhost", false},
	    {"127.0.0.1 ", false},
	    {"[127.0.0.1]", false},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++)
		ck_assert_msg(relay_client_trusted(&relay, cases[i].addr) == cases[i].want,
		              "addr '%s'", cases[i].addr);
	ck_assert(!relay_client_trusted(&relay, NULL));
}
END_TEST

START_TEST(test_net_edges)
{
	struct pg_net all4, host4, all6, host6, masked;
	struct pg_relay r;

	memset(&r, 0, sizeof r);
	ck_assert(relay_net_parse("0.0.0.0/0", &all4));
	r.nets = &all4;
	r.nnets = 1;
	ck_assert(relay_nets_build(&r));
	ck_assert(relay_client_trusted(&r, "203.0.113.9"));
	ck_assert(relay_client_trusted(&r, "::ffff:203.0.113.9"));
	ck_assert(!relay_client_trusted(&r, "2001:db8::9"));
	ck_assert(relay_net_parse("::/0", &all6));
	r.nets = &all6;
	ck_assert(relay_nets_build(&r));
	ck_assert(relay_client_trusted(&r, "2001:db8::9"));
	ck_assert(!relay_client_trusted(&r, "203.0.113.9"));
	ck_assert(relay_net_parse("203.0.113.9/32", &host4));
	r.nets = &host4;
	ck_assert(relay_nets_build(&r));
	ck_assert(relay_client_trusted(&r, "203.0.113.9"));
	ck_assert(!relay_client_trusted(&r, "203.0.113.8"));
	ck_assert(relay_net_parse("2001:db8::9/128", &host6));
	r.nets = &host6;
	ck_assert(relay_nets_build(&r));
	ck_assert(relay_client_trusted(&r, "2001:db8::9"));
	ck_assert(!relay_client_trusted(&r, "2001:db8::8"));
	/* Host bits are cleared: 10.1.2.3/8 means 10.0.0.0/8. */
	ck_assert(relay_net_parse("10.1.2.3/8", &masked));
	r.nets = &masked;
	ck_assert(relay_nets_build(&r));
	ck_assert(relay_client_trusted(&r, "10.200.0.1"));
	ck_assert(!relay_client_trusted(&r, "11.0.0.1"));
	/* A /12 boundary inside a byte. */
	ck_assert(relay_net_parse("172.16.0.0/12", &masked));
	ck_assert(relay_nets_build(&r));
	ck_assert(relay_client_trusted(&r, "172.31.255.255"));
	ck_assert(!relay_client_trusted(&r, "172.32.0.0"));
	nettable_free(r.nettab);
}
END_TEST

START_TEST(test_fingerprints)
{
	static const char *const hex64 =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	char out[PG_MAX_FINGERPRINT + 1];

	ck_assert(relay_fingerprint_normalise(
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:aA:bB:"
	    "cC:dD:eE:fF",
	    out, sizeof out));
	ck_assert_str_eq(out, hex64);
	ck_assert(relay_fingerprint_normalise(
	    "00112233-44556677 8899AABB:CCDDEEFF00112233445566778899aabbccddeeff", out,
	    sizeof out));
	ck_assert_str_eq(out, hex64);
	/* 32 hex digits just fits the lower bound; 30 does not; odd lengths fail. */
	ck_assert(relay_fingerprint_normalise("00112233445566778899aabbccddeeff", out, sizeof out));
	ck_assert(!relay_fingerprint_normalise("00112233445566778899aabbccddee", out, sizeof out));
	ck_assert(!relay_fingerprint_normalise("00112233445566778899aabbccddeef", out, sizeof out));
	ck_assert(
	    !relay_fingerprint_normalise("zz112233445566778899aabbccddeeff", out, sizeof out));
	ck_assert(!relay_fingerprint_normalise("", out, sizeof out));
	ck_assert(!relay_fingerprint_normalise(NULL, out, sizeof out));
	/* PG_MAX_FINGERPRINT digits fit; two more do not. */
	char big[PG_MAX_FINGERPRINT + 3];
	memset(big, 'a', PG_MAX_FINGERPRINT);
	big[PG_MAX_FINGERPRINT] = '\0';
	ck_assert(relay_fingerprint_normalise(big, out, sizeof out));
	memset(big, 'a', PG_MAX_FINGERPRINT + 2);
	big[PG_MAX_FINGERPRINT + 2] = '\0';
	ck_assert(!relay_fingerprint_normalise(big, out, sizeof out));
	/* Too small an output buffer is a failure, not a cut. */
	char small[16];
	ck_assert(!relay_fingerprint_normalise(hex64, small, sizeof small));

	ck_assert(relay_cert_trusted(
	    &relay,
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:"
	    "CC:DD:EE:FF"));
	ck_assert(!relay_cert_trusted(
	    &relay,
	    "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:"
	    "CC:DD:EE:FE"));
	ck_assert(!relay_cert_trusted(&relay, ""));
	ck_assert(!relay_cert_trusted(&relay, "not a fingerprint"));
}
END_TEST

/* A local domain as the config lists it, normalised as the check compares
 * it; every refusal with its reason. Lengths: PG_MAX_DOMAIN fits, one over not. */
START_TEST(test_domain_normalise)
{
	static const struct {
		const char *in;
		bool want_ok, want_parent;
		const char *want; /* the normalised domain, or words of the reason */
	} cases[] = {
	    {"Example.ORG", true, false, "example.org"},
	    {"example.org.", true, false, "example.org"},
	    {".Sub.Test", true, true, "sub.test"},
	    {".sub.test.", true, true, "sub.test"},
	    {"[192.0.2.1]", true, false, "[192.0.2.1]"},
	    {"[IPv6:2001:DB8::1]", true, false, "[ipv6:2001:db8::1]"},
	    {"under_score.test", true, false, "under_score.test"},
	    {"", false, false, "empty domain"},
	    {".", false, false, "empty domain"},
	    {"..", false, false, "empty domain"},
	    {"a..b", false, false, "empty label in domain \"a..b\""},
	    {".a..b", false, false, "empty label in domain \".a..b\""},
	    {"exa mple.org", false, false,
	     "bad character in domain \"exa mple.org\": use letters, digits, '-' and '.' (a "
	     "leading dot means \"subdomains of\")"},
	    {"caf\xc3\xa9.test", false, false, "bad character in domain"},
	    {"[999.1.1.1]", false, false,
	     "bad address literal \"[999.1.1.1]\": write [192.0.2.1] or [IPv6:2001:db8::1]"},
	    {"[IPv6:zz::1]", false, false, "bad address literal"},
	    {"[192.0.2.1", false, false, "bad address literal"},
	};
	char got[RELAY_DOMAIN_BUF], why[512];
	bool parent;

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		bool ok;
		why[0] = '\0';
		ok = relay_domain_normalise(cases[i].in, got, &parent, why, sizeof why);
		ck_assert_msg(ok == cases[i].want_ok, "%s: got %d (%s)", cases[i].in, ok, why);
		if (ok) {
			ck_assert_str_eq(got, cases[i].want);
			ck_assert_int_eq(parent, cases[i].want_parent);
		} else {
			ck_assert_msg(strstr(why, cases[i].want) != NULL, "%s: why \"%s\"",
			              cases[i].in, why);
		}
	}
}
END_TEST

/* Lengths: a domain of PG_MAX_DOMAIN fits (also with a leading and a
 * trailing dot), one more does not; a label of 63 fits, 64 does not. */
START_TEST(test_domain_normalise_limits)
{
	char in[PG_MAX_DOMAIN + 8], got[RELAY_DOMAIN_BUF], why[512];
	bool parent;

	/* labels of 63 'a' and dots: 63 + 1 + 63 + 1 + 63 + 1 + 61 = 255 */
	memset(in, 'a', PG_MAX_DOMAIN);
	in[63] = in[127] = in[191] = '.';
	in[PG_MAX_DOMAIN] = '\0';
	ck_assert_msg(relay_domain_normalise(in, got, &parent, why, sizeof why), "%s", why);
	ck_assert_uint_eq(strlen(got), PG_MAX_DOMAIN);
	memmove(in + 1, in, PG_MAX_DOMAIN);
	in[0] = in[PG_MAX_DOMAIN + 1] = '.';
	in[PG_MAX_DOMAIN + 2] = '\0';
	ck_assert_msg(relay_domain_normalise(in, got, &parent, why, sizeof why), "%s", why);
	ck_assert(parent);
	ck_assert_uint_eq(strlen(got), PG_MAX_DOMAIN);
	/* one over: 256 without dots around it */
	memmove(in, in + 1, strlen(in));
	in[strlen(in) - 1] = 'a';
	ck_assert_uint_eq(strlen(in), PG_MAX_DOMAIN + 1);
	ck_assert(!relay_domain_normalise(in, got, &parent, why, sizeof why));
	ck_assert_str_eq(why, "the domain is longer than 255 characters");
	/* 258 bytes: refused before it is copied */
	strcat(in, "aa");
	ck_assert(!relay_domain_normalise(in, got, &parent, why, sizeof why));
	ck_assert_str_eq(why, "the domain is longer than 255 characters");
	/* labels */
	memset(in, 'b', 63);
	memcpy(in + 63, ".test", 6);
	ck_assert(relay_domain_normalise(in, got, &parent, why, sizeof why));
	memset(in, 'b', 64);
	memcpy(in + 64, ".test", 6);
	ck_assert(!relay_domain_normalise(in, got, &parent, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "is longer than 63 characters"));
}
END_TEST

/* The adders the config, its list files and the MTA's facts all fill the
 * lists through: each entry in the spelling the checks compare. */
START_TEST(test_list_adders)
{
	static const struct {
		bool domain; /* relay_domain_add, else relay_net_add */
		const char *in;
		bool want_ok;
		const char *want_why; /* words of the reason */
	} cases[] = {
	    {true, "Example.ORG.", true, NULL},
	    {true, ".Sub.Test", true, NULL},
	    {true, "[IPv6:2001:DB8::1]", true, NULL},
	    {true, "a..b", false, "empty label in domain \"a..b\""},
	    {false, "192.0.2.0/24", true, NULL},
	    {false, "::ffff:10.0.0.0/104", true, NULL},
	    {false, "192.0.2.0/33", false,
	     "\"192.0.2.0/33\" is not an address or network: write 192.0.2.0/24, "
	     "2001:db8::/32 or a single address"},
	};
	struct pg_relay r = {0};
	char why[512];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		bool got;
		why[0] = '\0';
		got = (cases[i].domain ? relay_domain_add : relay_net_add)(&r, cases[i].in, why,
		                                                           sizeof why);
		ck_assert_msg(got == cases[i].want_ok, "%s: got %d (%s)", cases[i].in, got, why);
		if (!got)
			ck_assert_str_eq(why, cases[i].want_why);
	}
	ck_assert_uint_eq(r.domains.count, 2);
	ck_assert_uint_eq(r.parents.count, 1);
	ck_assert_uint_eq(r.nnets, 2);
	ck_assert(relay_lists_build(&r));
	ck_assert(relay_rcpt_is_local(&r, "user@example.org", RELAY_FORM_INTERNAL));
	ck_assert(relay_rcpt_is_local(&r, "user@a.sub.test", RELAY_FORM_INTERNAL));
	ck_assert(!relay_rcpt_is_local(&r, "user@sub.test", RELAY_FORM_INTERNAL));
	ck_assert(relay_rcpt_is_local(&r, "user@[IPv6:2001:db8::1]", RELAY_FORM_QUOTED));
	ck_assert(relay_client_trusted(&r, "192.0.2.77"));
	ck_assert(relay_client_trusted(&r, "10.1.2.3"));
	ck_assert(!relay_client_trusted(&r, "198.51.100.1"));
	relay_lists_free(&r);
}
END_TEST

/* A list file: comments, blanks and CRLF skipped; the first bad line is
 * "path:line: message"; a file that cannot be opened keeps errno. */
START_TEST(test_list_file)
{
	static const struct {
		const char *text, *what;
		bool domain;
		enum relay_list_read want;
		const char *want_why; /* after "path:" */
	} cases[] = {
	    {"# local\n\nexample.org  # ours\r\n.sub.test\n", "domain", true, RELAY_LIST_OK, ""},
	    {"192.0.2.0/24\n\n2001:db8::/32\n", "network", false, RELAY_LIST_OK, ""},
	    {"example.org\na.test b.test\n", "domain", true, RELAY_LIST_BAD,
	     "2: \"a.test b.test\": one domain per line"},
	    {"# nets\nnot-a-net\n", "network", false, RELAY_LIST_BAD,
	     "2: \"not-a-net\" is not an address or network: write 192.0.2.0/24, 2001:db8::/32 "
	     "or a single address"},
	};
	char why[2048], want[2048];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct pg_relay r = {0};
		char *path = pg_write_temp(cases[i].text);
		enum relay_list_read got;
		why[0] = '\0';
		got = relay_list_file_read(&r, path, cases[i].what,
		                           cases[i].domain ? relay_domain_add : relay_net_add, why,
		                           sizeof why);
		ck_assert_msg(got == cases[i].want, "case %zu: got %d (%s)", i, got, why);
		if (got == RELAY_LIST_BAD) {
			snprintf(want, sizeof want, "%s:%s", path, cases[i].want_why);
			ck_assert_str_eq(why, want);
		}
		if (i == 0)
			ck_assert(r.domains.count == 1 && r.parents.count == 1);
		if (i == 1)
			ck_assert_uint_eq(r.nnets, 2);
		relay_lists_free(&r);
		unlink(path);
		free(path);
	}
	errno = 0;
	ck_assert_int_eq(relay_list_file_read(&(struct pg_relay){0}, "/nonexistent/pg-list",
	                                      "domain", relay_domain_add, why, sizeof why),
	                 RELAY_LIST_UNREADABLE);
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

/* ---- property tests: the fast paths against plain references ---- */

/* The relay check as it was written first, kept as the reference: a pass
 * to split, a ctype copy to fold, strstr() for "..", a strlen() per lookup. */
static bool ref_domain_is_local(const struct pg_relay *r, const char *d, size_t len)
{
	if (len == 0 || len > PG_MAX_DOMAIN + 2)
		return false;
	if (d[0] == '[') {
		if (len < 3 || d[len - 1] != ']')
			return false;
		for (size_t i = 1; i + 1 < len; i++) {
			unsigned char c = (unsigned char)d[i];
			if (!isalnum(c) && c != '.' && c != ':')
				return false;
		}
		return strset_contains(&r->domains, d);
	}
	if (d[0] == '.' || d[len - 1] == '.' || strstr(d, "..") != NULL)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	if (strset_contains(&r->domains, d))
		return true;
	for (size_t i = 0; i < len; i++)
		if (d[i] == '.' && strset_contains(&r->parents, d + i + 1))
			return true;
	return false;
}

static bool ref_domain_lookup(const struct pg_relay *r, const char *d, size_t len)
{
	char dom[PG_MAX_ADDRESS + 1];

	if (len > PG_MAX_ADDRESS)
		return false;
	for (size_t i = 0; i < len; i++)
		dom[i] = (char)tolower((unsigned char)d[i]);
	dom[len] = '\0';
	if (len > 0 && dom[len - 1] == '.')
		dom[--len] = '\0';
	return ref_domain_is_local(r, dom, len);
}

static bool ref_split_quoted(const char *rcpt, size_t len, size_t *at)
{
	size_t nat = 0;
	bool quoted = false;

	*at = len;
	if (rcpt[0] == '@')
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rcpt[i];
		if (c == '<' || c == '>' || c < 0x20 || c == 0x7f)
			return false;
		if (quoted) {
			if (c == '\\') {
				if (++i >= len)
					return false;
				c = (unsigned char)rcpt[i];
				if (c == '<' || c == '>' || c < 0x20 || c == 0x7f || c == '@' ||
				    c == '%' || c == '!')
					return false; /* escaped, still in the local part */
			} else if (c == '"') {
				quoted = false;
			} else if (c == '@' || c == '%' || c == '!') {
				return false;
			}
			continue;
		}
		switch (c) {
		case '"':
			if (nat > 0)
				return false;
			quoted = true;
			break;
		case '@':
			nat++;
			*at = i;
			break;
		case '%':
		case '!':
		case ':':
		case ',':
			if (nat == 0)
				return false;
			break;
		case ' ':
			return false;
		default:
			break;
		}
	}
	return !quoted && nat <= 1;
}

static bool ref_split_internal(const char *rcpt, size_t len, size_t *at)
{
	size_t nat = 0;

	*at = len;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)rcpt[i];
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c == '@') {
			nat++;
			*at = i;
		} else if ((c == '%' || c == '!') && nat == 0) {
			return false;
		}
	}
	return nat <= 1 && *at != 0;
}

static bool ref_rcpt_is_local(const struct pg_relay *r, const char *rcpt, enum relay_form form)
{
	size_t len = strlen(rcpt), at;

	if (len >= 2 && rcpt[0] == '<' && rcpt[len - 1] == '>') {
		rcpt++;
		len -= 2;
	}
	if (len == 0 || len > PG_MAX_ADDRESS)
		return false;
	if (!(form == RELAY_FORM_QUOTED ? ref_split_quoted(rcpt, len, &at)
	                                : ref_split_internal(rcpt, len, &at)))
		return false;
	if (at == len) {
		if (len == 10 && strncasecmp(rcpt, "postmaster", 10) == 0)
			return true;
		return r->origin_domain != NULL &&
		       ref_domain_lookup(r, r->origin_domain, strlen(r->origin_domain));
	}
	return ref_domain_lookup(r, rcpt + at + 1, len - at - 1);
}

/* Append piece to buf (cap bytes with the NUL), as much as fits. */
static void prop_cat(char *buf, size_t cap, const char *piece)
{
	size_t n = strlen(buf), k = strlen(piece);

	if (k > cap - 1 - n)
		k = cap - 1 - n;
	memcpy(buf + n, piece, k);
	buf[n + k] = '\0';
}

/* A label of n bytes 'a'..'z' (upper case now and then). */
static void prop_label(char *buf, size_t cap, size_t n)
{
	char piece[2] = "";

	for (size_t i = 0; i < n; i++) {
		piece[0] = (char)((pg_prop_next(8) == 0 ? 'A' : 'a') + pg_prop_next(26));
		prop_cat(buf, cap, piece);
	}
}

/* Random and adversarial recipients: pieces of real addresses, routing and
 * quoting characters, control and 8-bit bytes, and names whose length is
 * near PG_MAX_DOMAIN, PG_MAX_ADDRESS and the 27-byte cells of strset. */
static void prop_rcpt(char *buf, size_t cap, const char *long_parent)
{
	static const char *const pieces[] = {
	    "user",
	    "@",
	    "example.org",
	    ".",
	    "..",
	    "sub.test",
	    "EXAMPLE.ORG",
	    "postmaster",
	    "PostMaster",
	    "%",
	    "!",
	    "\"",
	    "\\",
	    "<",
	    ">",
	    "[",
	    "]",
	    "[192.0.2.1]",
	    "[IPv6:2001:db8::1]",
	    ":",
	    ",",
	    " ",
	    "\t",
	    "\x01",
	    "\x7f",
	    "\xc3\xa9",
	    "\xff",
	    "mail.test",
	    "a.sub.test",
	    "-",
	    "_",
	    "local.example.org",
	    "x",
	    "(c)",
	    "IPv6:",
	    "192.0.2.1",
	    "@.",
	    ".@",
	    "user@.example.org",
	    "user@example.org.",
	    "@sub.test.",
	};
	unsigned shape = pg_prop_next(6);

	buf[0] = '\0';
	if (shape == 0) { /* a local part, '@', a domain near PG_MAX_DOMAIN */
		unsigned k = pg_prop_next(3);
		if (pg_prop_next(2))
			prop_cat(buf, cap, "<");
		prop_label(buf, cap, 1 + pg_prop_next(4));
		prop_cat(buf, cap, "@");
		if (k == 0) { /* 257 bytes fit a subdomain of the longest parent */
			prop_label(buf, cap, 1 + pg_prop_next(3));
			prop_cat(buf, cap, pg_prop_next(20) ? "." : "..");
			prop_cat(buf, cap, long_parent);
		} else if (k == 1) {
			prop_cat(buf, cap, long_parent);
		} else { /* labels, PG_MAX_DOMAIN give or take */
			size_t total = PG_MAX_DOMAIN - 4 + pg_prop_next(10), used = 0;
			while (used < total) {
				size_t left = total - used;
				size_t n = 1 + pg_prop_next(left < 63 ? (unsigned)left : 63);
				prop_label(buf, cap, n);
				used += n;
				if (used + 1 < total) {
					prop_cat(buf, cap, ".");
					used++;
				}
			}
		}
		for (unsigned up = pg_prop_next(3); up > 0; up--) { /* some upper case */
			char *p = buf + pg_prop_next((unsigned)strlen(buf));
			*p = (char)toupper((unsigned char)*p);
		}
		if (pg_prop_next(4) == 0)
			prop_cat(buf, cap, pg_prop_next(5) ? "." : "..");
		if (pg_prop_next(2))
			prop_cat(buf, cap, ">");
		return;
	}
	if (shape == 1) { /* a long local part: PG_MAX_ADDRESS give or take */
		size_t n = PG_MAX_ADDRESS - 14 + pg_prop_next(8);
		if (pg_prop_next(2))
			prop_cat(buf, cap, "<");
		prop_label(buf, cap, n);
		prop_cat(buf, cap, pg_prop_next(2) ? "@example.org" : "@a.sub.test.");
		if (pg_prop_next(2))
			prop_cat(buf, cap, ">");
		return;
	}
	if (shape == 2) { /* random bytes */
		size_t n = pg_prop_next(40);
		char piece[2] = "";
		for (size_t i = 0; i < n; i++) {
			piece[0] = (char)(1 + pg_prop_next(255));
			prop_cat(buf, cap, piece);
		}
		return;
	}
	for (unsigned n = 1 + pg_prop_next(12); n > 0; n--) /* pieces */
		prop_cat(buf, cap, pieces[pg_prop_next(PG_ARRAY_LEN(pieces))]);
}

/* relay_rcpt_is_local() answers as the reference on every recipient, in both
 * forms, with the origin domain unknown, local, a subdomain or remote. */
START_TEST(test_rcpt_property)
{
	static const char *const origins[] = {NULL,         "example.org", "EXAMPLE.org.",
	                                      "a.sub.test", "remote.net",  "bad..name"};
	char long_parent[PG_MAX_DOMAIN + 1] = "", why[256], buf[PG_MAX_ADDRESS + 64];
	struct pg_relay r = {0};
	unsigned local = 0, remote = 0;

	/* a parent of PG_MAX_DOMAIN bytes, labels of 63: just fits */
	pg_prop_state = 0x9e3779b97f4a7c15u;
	for (int k = 0; k < 4; k++) {
		if (k > 0)
			prop_cat(long_parent, sizeof long_parent, ".");
		prop_label(long_parent, sizeof long_parent, 63);
	}
	ck_assert_uint_eq(strlen(long_parent), PG_MAX_DOMAIN);
	for (char *p = long_parent; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	ck_assert(relay_domain_add(&r, "example.org", why, sizeof why));
	ck_assert(relay_domain_add(&r, "local.example.org", why, sizeof why));
	ck_assert(relay_domain_add(&r, "mail.test", why, sizeof why));
	ck_assert(relay_domain_add(&r, "[192.0.2.1]", why, sizeof why));
	ck_assert(relay_domain_add(&r, "[IPv6:2001:db8::1]", why, sizeof why));
	ck_assert(relay_domain_add(&r, ".sub.test", why, sizeof why));
	ck_assert(relay_domain_add(&r, ".example.org", why, sizeof why));
	ck_assert_msg(relay_domain_add(&r, long_parent, why, sizeof why), "%s", why);
	buf[0] = '.';
	strcpy(buf + 1, long_parent);
	ck_assert_msg(relay_domain_add(&r, buf, why, sizeof why), "%s", why);
	ck_assert(relay_lists_build(&r));

	for (unsigned n = 0; n < 40000; n++) {
		prop_rcpt(buf, sizeof buf, long_parent);
		r.origin_domain = origins[pg_prop_next(PG_ARRAY_LEN(origins))];
		for (int f = RELAY_FORM_INTERNAL; f <= RELAY_FORM_QUOTED; f++) {
			bool want = ref_rcpt_is_local(&r, buf, (enum relay_form)f);
			bool got = relay_rcpt_is_local(&r, buf, (enum relay_form)f);
			ck_assert_msg(got == want, "'%s' (%zu bytes, %s form, origin %s): want %d",
			              buf, strlen(buf),
			              f == RELAY_FORM_QUOTED ? "quoted" : "internal",
			              r.origin_domain ? r.origin_domain : "unknown", want);
			want ? local++ : remote++;
		}
	}
	/* both answers are common, so the comparison means something */
	ck_assert_uint_gt(local, 5000);
	ck_assert_uint_gt(remote, 5000);
	r.origin_domain = NULL;
	relay_lists_free(&r);
}
END_TEST

/* Client addresses as they were read first: copied into a buffer, then
 * inet_pton() for IPv4 and for IPv6. */
static bool ref_client_trusted(const struct pg_relay *r, const char *addr)
{
	char buf[64];
	uint8_t bytes[16];
	struct in6_addr a6;
	const char *s = buf;
	size_t len = strlen(addr);

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, addr, len + 1);
	if (strncasecmp(s, "IPv6:", 5) == 0)
		s += 5;
	if (inet_pton(AF_INET, s, bytes) == 1)
		return nettable_contains(r->nettab, AF_INET, bytes);
	if (inet_pton(AF_INET6, s, &a6) != 1)
		return false;
	if (IN6_IS_ADDR_V4MAPPED(&a6))
		return nettable_contains(r->nettab, AF_INET, a6.s6_addr + 12);
	return nettable_contains(r->nettab, AF_INET6, a6.s6_addr);
}

/* Random and adversarial address text: dotted quads with parts near 255
 * and leading zeros, IPv6 groups of one to five digits, "::" anywhere, an
 * embedded quad, stray bytes, an "IPv6:" prefix, lengths near 64. */
static void prop_addr(char *buf, size_t cap)
{
	static const char *const quad[] = {"0",    "00",  "01",  "1",   "9",   "10",  "99",
	                                   "100",  "127", "192", "255", "256", "300", "999",
	                                   "1000", "",    "0x1", "+1",  "1 ",  "a"};
	static const char *const group[] = {"",     "0",     "1",    "db8",     "2001",
	                                    "ffff", "FFFF",  "fFfF", "12345",   "g",
	                                    "0000", "00000", "abc",  "1.2.3.4", "192.0.2.1"};
	static const char *const stray[] = {"", ".", ":", "::", ":::", " ", "\t", "/", "x", "%"};
	static const char *const known[] = {"127.0.0.1",
	                                    "192.0.2.200",
	                                    "10.0.0.1",
	                                    "::1",
	                                    "::ffff:127.0.0.1",
	                                    "2001:db8:1::5",
	                                    "2001:db8:1:ffff::1",
	                                    "::FFFF:192.0.2.9",
	                                    "2001:db8:2::1",
	                                    "::",
	                                    "1::",
	                                    "1:2:3:4:5:6:7:8",
	                                    "1:2:3:4:5:6:7::",
	                                    "::2:3:4:5:6:7:8",
	                                    "1:2:3:4:5:6:1.2.3.4",
	                                    "::1.2.3.4",
	                                    "64:ff9b::192.0.2.1",
	                                    "1:2:3:4:5:6:7:8:9",
	                                    "1::2::3"};
	unsigned shape = pg_prop_next(6);

	buf[0] = '\0';
	if (pg_prop_next(6) == 0)
		prop_cat(buf, cap, pg_prop_next(2) ? "IPv6:" : "ipV6:");
	if (shape <= 1) { /* a dotted quad, three to five parts */
		unsigned parts = 3 + pg_prop_next(3);
		char num[8];
		for (unsigned k = 0; k < parts; k++) {
			if (k > 0)
				prop_cat(buf, cap, pg_prop_next(30) ? "." : "..");
			if (pg_prop_next(3) == 0) {
				snprintf(num, sizeof num, "%u", pg_prop_next(300));
				prop_cat(buf, cap, num);
			} else {
				prop_cat(buf, cap, quad[pg_prop_next(PG_ARRAY_LEN(quad))]);
			}
		}
	} else if (shape <= 3) { /* IPv6: groups, "::", an embedded quad */
		unsigned groups = pg_prop_next(10);
		if (pg_prop_next(4) == 0)
			prop_cat(buf, cap, "::");
		for (unsigned k = 0; k < groups; k++) {
			if (k > 0)
				prop_cat(buf, cap, pg_prop_next(8) ? ":" : "::");
			prop_cat(buf, cap, group[pg_prop_next(PG_ARRAY_LEN(group))]);
		}
		if (pg_prop_next(4) == 0)
			prop_cat(buf, cap, "::");
	} else if (shape == 4) { /* a known address, now and then with a stray byte */
		prop_cat(buf, cap, known[pg_prop_next(PG_ARRAY_LEN(known))]);
	} else { /* random bytes of the alphabet, up to 70 */
		static const char alphabet[] = "0123456789abcdefABCDEFgG:.:.x /";
		char piece[2] = "";
		for (unsigned n = pg_prop_next(71); n > 0; n--) {
			piece[0] = alphabet[pg_prop_next(sizeof alphabet - 1)];
			prop_cat(buf, cap, piece);
		}
	}
	if (pg_prop_next(10) == 0)
		prop_cat(buf, cap, stray[pg_prop_next(PG_ARRAY_LEN(stray))]);
}

/* relay_client_trusted() answers as the inet_pton() reference, and
 * relay_net_parse() reads a bare address as inet_pton() does: the same
 * ones, into the same bytes. */
START_TEST(test_addr_property)
{
	char buf[128];
	unsigned v4 = 0, v6 = 0, bad = 0, trusted = 0;
	struct pg_net n;

	pg_prop_state = 0x2545f4914f6cdd1du;
	for (unsigned k = 0; k < 60000; k++) {
		uint8_t want4[4];
		struct in6_addr want6;
		const uint8_t *want = NULL;
		const char *s;
		int family = 0;
		bool want_trusted;
		prop_addr(buf, sizeof buf);
		want_trusted = ref_client_trusted(&relay, buf);
		ck_assert_msg(relay_client_trusted(&relay, buf) == want_trusted, "'%s': want %d",
		              buf, want_trusted);
		trusted += want_trusted;
		if (strchr(buf, '/') != NULL || strlen(buf) >= 64)
			continue;
		s = strncasecmp(buf, "IPv6:", 5) == 0 ? buf + 5 : buf;
		if (inet_pton(AF_INET, s, want4) == 1) {
			family = AF_INET;
			want = want4;
			v4++;
		} else if (inet_pton(AF_INET6, s, &want6) == 1) {
			bool mapped = IN6_IS_ADDR_V4MAPPED(&want6);
			family = mapped ? AF_INET : AF_INET6;
			want = want6.s6_addr + (mapped ? 12 : 0);
			v6++;
		} else {
			bad++;
		}
		ck_assert_msg(relay_net_parse(buf, &n) == (family != 0), "'%s': want %s", buf,
		              family ? "an address" : "none");
		if (family != 0) {
			ck_assert_msg(n.family == family, "'%s'", buf);
			ck_assert_msg(memcmp(n.addr, want, family == AF_INET ? 4 : 16) == 0, "'%s'",
			              buf);
		}
	}
	/* every kind is common, so the comparison means something */
	ck_assert_uint_gt(v4, 1500);
	ck_assert_uint_gt(v6, 1500);
	ck_assert_uint_gt(bad, 1500);
	ck_assert_uint_gt(trusted, 150);
}
END_TEST

static Suite *relay_suite(void)
{
	Suite *s = suite_create("relay");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, relay_setup, relay_teardown);
	tcase_add_test(tc, test_tricky_addresses);
	tcase_add_test(tc, test_rcpt_length_limit);
	tcase_add_test(tc, test_unqualified);
	tcase_add_test(tc, test_net_parse);
	tcase_add_test(tc, test_client_trusted);
	tcase_add_test(tc, test_net_edges);
	tcase_add_test(tc, test_fingerprints);
	tcase_add_test(tc, test_domain_normalise);
	tcase_add_test(tc, test_domain_normalise_limits);
	tcase_add_test(tc, test_list_adders);
	tcase_add_test(tc, test_list_file);
	tcase_add_test(tc, test_rcpt_property);
	tcase_add_test(tc, test_addr_property);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(relay_suite)
