/*
 * check_mtafacts.c - core/mtafacts.c: the parsers of what the MTA says
 * (postconf output, Postfix list entries and table specs, sendmail.cf
 * lines), the bounded command runner, Postfix and Sendmail read end to end
 * from private configuration files (postconf -c on a temporary directory),
 * the merge with the hand lists and its warnings, the empty-domains refusal
 * and the reload summary. Every bound is tested at "just fits" and "one
 * over".
 */
#include <sys/stat.h>

#include "check_common.h"
#include "config.h"
#include "mtafacts.h"

/* ---- parsers ---- */

START_TEST(test_entry_kinds)
{
	static const struct {
		const char *entry;
		enum mtafacts_entry want;
		const char *type;
	} cases[] = {
	    {"example.org", MTA_ENTRY_VALUE, "example"},
	    {".example.org", MTA_ENTRY_VALUE, ""},
	    {"127.0.0.1/32", MTA_ENTRY_VALUE, "127"},
	    {"[::1]/128", MTA_ENTRY_VALUE, ""},
	    {"2001:db8::/32", MTA_ENTRY_VALUE, "2001"},
	    {"fe80::1", MTA_ENTRY_VALUE, "fe80"},
	    {"/etc/postfix/domains", MTA_ENTRY_FILE, ""},
	    {"hash:/etc/postfix/relay", MTA_ENTRY_POSTMAP, "hash"},
	    {"lmdb:/etc/postfix/relay", MTA_ENTRY_POSTMAP, "lmdb"},
	    {"cdb:/etc/postfix/relay", MTA_ENTRY_POSTMAP, "cdb"},
	    {"btree:/etc/postfix/relay", MTA_ENTRY_POSTMAP, "btree"},
	    {"texthash:/etc/postfix/relay", MTA_ENTRY_TEXTFILE, "texthash"},
	    {"cidr:/etc/postfix/nets", MTA_ENTRY_TEXTFILE, "cidr"},
	    {"inline:{ a.test=ok, b.test=ok }", MTA_ENTRY_INLINE, "inline"},
	    {"mysql:/etc/postfix/mysql.cf", MTA_ENTRY_UNLISTABLE, "mysql"},
	    {"pgsql:/etc/postfix/pg.cf", MTA_ENTRY_UNLISTABLE, "pgsql"},
	    {"ldap:/etc/postfix/ldap.cf", MTA_ENTRY_UNLISTABLE, "ldap"},
	    {"tcp:127.0.0.1:2000", MTA_ENTRY_UNLISTABLE, "tcp"},
	    {"socketmap:inet:127.0.0.1:9999:domains", MTA_ENTRY_UNLISTABLE, "socketmap"},
	    {"proxy:mysql:/etc/postfix/mysql.cf", MTA_ENTRY_UNLISTABLE, "proxy"},
	    {"proxy:hash:/etc/postfix/relay", MTA_ENTRY_UNLISTABLE, "proxy"},
	    {"static:OK", MTA_ENTRY_UNLISTABLE, "static"},
	    {"hash:relative", MTA_ENTRY_UNLISTABLE, "hash"},
	    {"inline:a", MTA_ENTRY_UNLISTABLE, "inline"},
	    {"!example.org", MTA_ENTRY_UNLISTABLE, "!"},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		char type[32];
		enum mtafacts_entry got = mtafacts_entry_kind(cases[i].entry, type, sizeof type);
		ck_assert_msg(got == cases[i].want, "%s: kind %d, want %d", cases[i].entry, got,
		              cases[i].want);
		if (got != MTA_ENTRY_VALUE)
			ck_assert_str_eq(type, cases[i].type);
	}
}
END_TEST

START_TEST(test_split)
{
	char s1[] = "a.test, b.test\tc.test ,, inline:{ x=1, { y = 2 } } /f";
	char s2[] = "inline:{ a=b";
	char *v[8];

	ck_assert_int_eq(mtafacts_split(s1, v, 8), 5);
	ck_assert_str_eq(v[0], "a.test");
	ck_assert_str_eq(v[2], "c.test");
	ck_assert_str_eq(v[3], "inline:{ x=1, { y = 2 } }");
	ck_assert_str_eq(v[4], "/f");
	ck_assert_int_eq(mtafacts_split(s2, v, 8), -1);
	/* the count: just fits, one over */
	char s3[] = "a b c", s4[] = "a b c";
	ck_assert_int_eq(mtafacts_split(s3, v, 3), 3);
	ck_assert_int_eq(mtafacts_split(s4, v, 2), -1);
	char empty[] = " , ";
	ck_assert_int_eq(mtafacts_split(empty, v, 1), 0);
}
END_TEST

START_TEST(test_postconf_lines)
{
	char ok[] = "a b\n\n127.0.0.1/32\nexample.org\nyes\n";
	char few[] = "a\nb\n";
	char many[] = "a\nb\nc\nd\n";
	char *v[5];

	ck_assert(mtafacts_postconf_lines(ok, v, 5));
	ck_assert_str_eq(v[0], "a b");
	ck_assert_str_eq(v[1], "");
	ck_assert_str_eq(v[4], "yes");
	ck_assert(!mtafacts_postconf_lines(few, v, 3));
	ck_assert(!mtafacts_postconf_lines(many, v, 3));
}
END_TEST

START_TEST(test_sendmail_lines)
{
	static const struct {
		const char *line;
		bool ok;
		size_t domains, files;
		const char *j;
	} cases[] = {
	    {"Cwlocalhost mail.example.org", true, 2, 0, NULL},
	    {"C{w}a.test", true, 1, 0, NULL},
	    {"CRrelay.test", true, 1, 0, NULL},
	    {"C{R} r1.test r2.test", true, 2, 0, NULL},
	    {"CPREDIRECT", true, 0, 0, NULL},
	    {"Fw/etc/mail/local-host-names", true, 0, 1, NULL},
	    {"Fw-o /etc/mail/local-host-names", true, 0, 1, NULL},
	    {"FR-o /etc/mail/relay-domains %[^\\#]", true, 0, 1, NULL},
	    {"Fw|/usr/bin/hosts", false, 0, 0, NULL},
	    {"FR relative", false, 0, 0, NULL},
	    {"Fe/etc/mail/error-header", true, 0, 0, NULL},
	    {"Djmail.example.org", true, 0, 0, "mail.example.org"},
	    {"Dj$w.example.org", true, 0, 0, NULL},
	    {"Dmexample.org", true, 0, 0, NULL},
	    {"# Cw comment", true, 0, 0, NULL},
	    {"", true, 0, 0, NULL},
	};

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		struct mtafacts f = {0};
		char *j = NULL, *m = NULL, *files[2], why[256] = "";
		bool opt[2];
		size_t nfiles = 0;
		bool ok = mtafacts_sendmail_line(cases[i].line, &f, &j, &m, files, opt, &nfiles, 2,
		                                 why, sizeof why);
		ck_assert_msg(ok == cases[i].ok, "%s: %s", cases[i].line, why);
		ck_assert_msg(f.ndomains == cases[i].domains, "%s", cases[i].line);
		ck_assert_msg(nfiles == cases[i].files, "%s", cases[i].line);
		if (cases[i].j != NULL)
			ck_assert_str_eq(j, cases[i].j);
		else
			ck_assert_ptr_null(j);
		if (!ok)
			ck_assert_ptr_nonnull(strstr(why, "local_domains_file"));
		if (nfiles > 0) {
			const char *at = strstr(cases[i].line, "/etc");
			ck_assert_uint_eq(strlen(files[0]), strcspn(at, " "));
			ck_assert(strncmp(files[0], at, strlen(files[0])) == 0);
			ck_assert(opt[0] == (strstr(cases[i].line, "-o") != NULL));
			free(files[0]);
		}
		free(j);
		free(m);
		mtafacts_clear(&f);
	}
	/* the number of class files: just fits, one over */
	struct mtafacts f = {0};
	char *j = NULL, *m = NULL, *files[1], why[256];
	bool opt[1];
	size_t nfiles = 0;
	ck_assert(
	    mtafacts_sendmail_line("Fw/a", &f, &j, &m, files, opt, &nfiles, 1, why, sizeof why));
	ck_assert(
	    !mtafacts_sendmail_line("Fw/b", &f, &j, &m, files, opt, &nfiles, 1, why, sizeof why));
	free(files[0]);
}
END_TEST

/* ---- the command runner ---- */

START_TEST(test_run_bounds)
{
	char *out = NULL, why[1024];
	char *fits[] = {"sh", "-c", "printf 1234567890", NULL};
	char *errs[] = {"sh", "-c", "echo bad thing >&2; exit 3", NULL};
	char *slow[] = {"sleep", "5", NULL};
	char *missing[] = {"/nonexistent/postconf", NULL};
	char *loud[] = {"sh", "-c", "head -c 2000 /dev/zero | tr '\\0' x >&2; exit 1", NULL};

	ck_assert_msg(mtafacts_run(fits, 5000, 10, &out, why, sizeof why), "%s", why);
	ck_assert_str_eq(out, "1234567890");
	free(out);
	ck_assert(!mtafacts_run(fits, 5000, 9, &out, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "sh -c printf 1234567890: wrote more than 9 bytes"));
	ck_assert(!mtafacts_run(errs, 5000, 100, &out, why, sizeof why));
	ck_assert_str_eq(why, "sh -c echo bad thing >&2; exit 3: exited with status 3: bad thing");
	ck_assert(!mtafacts_run(slow, 200, 100, &out, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "sleep 5: timed out after 200 ms"));
	ck_assert(!mtafacts_run(missing, 5000, 100, &out, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "cannot run it"));
	/* stderr is quoted up to its limit */
	ck_assert(!mtafacts_run(loud, 5000, 100, &out, why, sizeof why));
	ck_assert_uint_eq(strspn(strstr(why, ": x") + 2, "x"), MTAFACTS_STDERR_MAX);
}
END_TEST

/* ---- Postfix and Sendmail, end to end on private files ---- */

static char dir[64];

static char *put(const char *name, const char *text)
{
	static char path[8][128];
	static int next;
	char *p = path[next++ % 8];
	FILE *fp;

	snprintf(p, 128, "%s/%s", dir, name);
	fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
	return p;
}

static void mta_setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/pg-mtafacts-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void mta_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A portguard.conf reading the Postfix of dir (or its sendmail.cf). */
static struct pg_config *load_mta(const char *mta, const char *extra, char *err, size_t errlen)
{
	char text[2048];
	struct pg_config *cfg;

	snprintf(text, sizeof text,
	         "relay = { from_mta = \"%s\"; postfix_config_directory = \"%s\"; "
	         "sendmail_cf = \"%s/sendmail.cf\"; %s };\n",
	         mta, dir, dir, extra);
	char *path = put("portguard.conf", text);
	err[0] = '\0';
	cfg = config_load(path, err, errlen);
	return cfg;
}

static void main_cf(const char *lines)
{
	char text[16384];

	snprintf(text, sizeof text,
	         "compatibility_level = 3.6\nmyhostname = mx.pf.test\nmydomain = pf.test\n"
	         "myorigin = $mydomain\nmydestination =\nrelay_domains =\n"
	         "mynetworks = 127.0.0.1/32\n%s",
	         lines);
	put("main.cf", text);
}

static bool local(const struct pg_config *cfg, const char *d)
{
	if (d[0] == '.')
		return strset_contains(&cfg->relay.parents, d + 1);
	return strset_contains(&cfg->relay.domains, d);
}

START_TEST(test_postfix_lists)
{
	char err[2048], text[512];
	struct pg_config *cfg;

	put("alias-domains", "# comment\nfile1.test file2.test\n\n.sub.test\n");
	put("mailbox", "box1.test OK\n  box-continued.test\nbox2.test OK\n");
	snprintf(text, sizeof text,
	         "mydestination = $myhostname, localhost.$mydomain, inline:{ in.test=x, "
	         "{ in2.test = y } }\nvirtual_alias_domains = %s/alias-domains\n"
	         "virtual_mailbox_domains = texthash:%s/mailbox\n"
	         "mynetworks = 127.0.0.1/32 [::1]/128 192.0.2.0/24\n",
	         dir, dir);
	main_cf(text);
	pg_capture_start();
	put("sendmail.cf", "Cwsendmail-only.test\n");
	cfg = load_mta("auto", "", err, sizeof err); /* main.cf wins over sendmail.cf */
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(!local(cfg, "sendmail-only.test"));
	config_free(cfg);
	pg_capture_start();
	cfg = load_mta("postfix", "", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	static const char *const want[] = {"mx.pf.test", "localhost.pf.test", "in.test",
	                                   "in2.test",   "file1.test",        "file2.test",
	                                   ".sub.test",  "box1.test",         "box2.test"};
	for (size_t i = 0; i < PG_ARRAY_LEN(want); i++)
		ck_assert_msg(local(cfg, want[i]), "%s not local", want[i]);
	ck_assert(!local(cfg, "box-continued.test"));
	ck_assert(!local(cfg, "x.test"));
	ck_assert_uint_eq(cfg->relay.domains.count + cfg->relay.parents.count, PG_ARRAY_LEN(want));
	ck_assert_uint_eq(cfg->relay.nnets, 2 + 3); /* the default two and Postfix's three */
	ck_assert_str_eq(cfg->relay.origin_domain, "pf.test");
	/* the hand list (the default networks) differs from mynetworks */
	ck_assert_ptr_nonnull(strstr(pg_captured_log(),
	                             "trusted networks listed in portguard's configuration but "
	                             "not by Postfix (mynetworks): 127.0.0.0/8"));
	config_free(cfg);
}
END_TEST

START_TEST(test_postfix_hash_table)
{
	char err[2048], text[512], cmd[512];
	struct pg_config *cfg;

	put("relay", "relay1.test OK\nrelay2.test OK\n");
	snprintf(cmd, sizeof cmd, "postmap -c '%s' 'hash:%s/relay'", dir, dir);
	main_cf("");
	ck_assert_int_eq(system(cmd), 0);
	snprintf(text, sizeof text, "relay_domains = hash:%s/relay\nappend_at_myorigin = no\n",
	         dir);
	main_cf(text);
	cfg = load_mta("postfix", "trusted_networks = [ ];", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(local(cfg, "relay1.test"));
	ck_assert(local(cfg, "relay2.test"));
	ck_assert_uint_eq(cfg->relay.domains.count, 2);
	ck_assert_uint_eq(cfg->relay.nnets, 1);
	ck_assert_ptr_null(cfg->relay.origin_domain); /* Postfix appends nothing */
	config_free(cfg);
}
END_TEST

START_TEST(test_postfix_unlistable)
{
	static const char *const tables[] = {
	    "mysql:/etc/postfix/m.cf", "ldap:/etc/postfix/l.cf",        "pgsql:/etc/postfix/p.cf",
	    "tcp:127.0.0.1:9",         "proxy:mysql:/etc/postfix/m.cf", "static:OK"};
	char err[2048], text[512];

	for (size_t i = 0; i < PG_ARRAY_LEN(tables); i++) {
		snprintf(text, sizeof text,
		         "mydestination = ok.test\nvirtual_mailbox_domains = %s\n", tables[i]);
		main_cf(text);
		ck_assert_ptr_null(load_mta("postfix", "", err, sizeof err));
		ck_assert_msg(strstr(err, "relay.from_mta: Postfix virtual_mailbox_domains: \"") !=
		                  NULL,
		              "%s", err);
		ck_assert_msg(strstr(err, tables[i]) != NULL, "%s", err);
		ck_assert_msg(strstr(err, "list those domains in relay.local_domains_file") != NULL,
		              "%s", err);
	}
	/* the line of from_mta is named */
	ck_assert_ptr_nonnull(strstr(err, "/portguard.conf:1: relay.from_mta:"));
	main_cf("mynetworks = !192.0.2.1 192.0.2.0/24\nmydestination = ok.test\n");
	ck_assert_ptr_null(load_mta("postfix", "", err, sizeof err));
	ck_assert_msg(strstr(err, "Postfix mynetworks: the negated entry \"!192.0.2.1\"") != NULL,
	              "%s", err);
	ck_assert_ptr_nonnull(strstr(err, "relay.trusted_networks"));
}
END_TEST

START_TEST(test_postfix_errors)
{
	char err[2048], text[512];

	/* no main.cf: postconf's own message */
	ck_assert_ptr_null(load_mta("postfix", "", err, sizeof err));
	ck_assert_msg(strstr(err, "relay.from_mta: postconf -c ") != NULL &&
	                  strstr(err, "exited with status") != NULL,
	              "%s", err);
	/* a missing list file */
	snprintf(text, sizeof text, "mydestination = %s/missing\n", dir);
	main_cf(text);
	ck_assert_ptr_null(load_mta("postfix", "", err, sizeof err));
	ck_assert_msg(strstr(err, "Postfix mydestination: cannot read") != NULL, "%s", err);
	/* a domain relay.c does not accept */
	main_cf("mydestination = bad..test\n");
	ck_assert_ptr_null(load_mta("postfix", "", err, sizeof err));
	ck_assert_msg(strstr(err, "Postfix local domain \"bad..test\"") != NULL, "%s", err);
}
END_TEST

/* Files naming files: MTAFACTS_NESTING_MAX levels fit, one more does not;
 * a line of MTAFACTS_LINE_MAX bytes fits, one more does not. */
START_TEST(test_postfix_file_bounds)
{
	char err[2048], text[512], name[32], body[256];
	struct pg_config *cfg;

	for (int depth = MTAFACTS_NESTING_MAX + 1; depth >= 1; depth--) {
		snprintf(name, sizeof name, "f%d", depth);
		if (depth == MTAFACTS_NESTING_MAX + 1)
			snprintf(body, sizeof body, "deep.test\n");
		else
			snprintf(body, sizeof body, "level%d.test %s/f%d\n", depth, dir, depth + 1);
		put(name, body);
	}
	/* mydestination -> f2 -> ... -> f(MAX+1): MAX levels of files */
	snprintf(text, sizeof text, "mydestination = %s/f2\n", dir);
	main_cf(text);
	cfg = load_mta("postfix", "", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(local(cfg, "deep.test"));
	config_free(cfg);
	snprintf(text, sizeof text, "mydestination = %s/f1\n", dir);
	main_cf(text);
	ck_assert_ptr_null(load_mta("postfix", "", err, sizeof err));
	ck_assert_msg(strstr(err, "nested deeper than 4 levels") != NULL, "%s", err);

	for (int over = 0; over < 2; over++) {
		size_t n = MTAFACTS_LINE_MAX + (size_t)over;
		char *line = malloc(n + 2);
		memset(line, ' ', n);
		memcpy(line, "long.test", 9);
		line[n] = '\n';
		line[n + 1] = '\0';
		put("long", line);
		free(line);
		snprintf(text, sizeof text, "mydestination = %s/long\n", dir);
		main_cf(text);
		cfg = load_mta("postfix", "", err, sizeof err);
		if (over == 0) {
			ck_assert_msg(cfg != NULL, "%s", err);
			ck_assert(local(cfg, "long.test"));
			config_free(cfg);
		} else {
			ck_assert_ptr_null(cfg);
			ck_assert_msg(strstr(err, "/long:1: line longer than 4096 bytes") != NULL,
			              "%s", err);
		}
	}
}
END_TEST

START_TEST(test_drift_and_origin)
{
	char err[2048];
	struct pg_config *cfg;

	main_cf("mydestination = a.test, b.test\nmynetworks = 127.0.0.0/8\n");
	pg_capture_start();
	cfg = load_mta("postfix",
	               "local_domains = [ \"a.test\", \"hand.test\" ]; trusted_networks = [ "
	               "\"127.0.0.0/8\" ];",
	               err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(),
	                             "warning: relay: local domains listed in portguard's "
	                             "configuration but not by Postfix: hand.test\n"));
	ck_assert_ptr_nonnull(strstr(
	    pg_captured_log(), "warning: relay: local domains listed by Postfix but not in "
	                       "portguard's configuration (portguard uses them too): b.test\n"));
	ck_assert_ptr_null(strstr(pg_captured_log(), "trusted networks"));
	ck_assert(local(cfg, "hand.test") && local(cfg, "b.test"));
	config_free(cfg);
	/* nothing listed by hand: nothing to drift */
	pg_capture_start();
	cfg = load_mta("postfix", "trusted_networks = [ ];", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(pg_captured_log(), "");
	config_free(cfg);
	/* more than MAX_SHOWN differences: five named, the rest counted */
	main_cf("mydestination = a.test\n");
	pg_capture_start();
	cfg = load_mta("postfix",
	               "local_domains = [ \"h1.test\", \"h2.test\", \"h3.test\", \"h4.test\", "
	               "\"h5.test\", \"h6.test\", \"h7.test\" ];",
	               err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_nonnull(
	    strstr(pg_captured_log(), "h1.test, h2.test, h3.test, h4.test, h5.test (+2 more)"));
	config_free(cfg);
}
END_TEST

START_TEST(test_sendmail)
{
	char err[2048], text[1024];
	struct pg_config *cfg;

	put("local-host-names", "# names\nlhn1.test\nlhn2.test # trailing\n");
	put("relay-domains", "rd.test\n");
	snprintf(text, sizeof text,
	         "# sendmail.cf\nDjmail.sm.test\nCwlocalhost cw.test\nFw%s/local-host-names\n"
	         "FR-o %s/relay-domains\nFR-o %s/absent\nCPREDIRECT\nDmsm.test\n",
	         dir, dir, dir);
	put("sendmail.cf", text);
	cfg = load_mta("sendmail", "", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	static const char *const want[] = {"localhost", "cw.test", "lhn1.test",
	                                   "lhn2.test", "rd.test", "mail.sm.test"};
	for (size_t i = 0; i < PG_ARRAY_LEN(want); i++)
		ck_assert_msg(local(cfg, want[i]), "%s not local", want[i]);
	ck_assert_uint_eq(cfg->relay.domains.count, PG_ARRAY_LEN(want));
	ck_assert_str_eq(cfg->relay.origin_domain, "mail.sm.test");
	ck_assert_uint_eq(cfg->relay.nnets, 2); /* Sendmail's are not read */
	config_free(cfg);
	/* a missing Fw file without -o is an error; a program class too */
	snprintf(text, sizeof text, "Fw%s/absent\n", dir);
	put("sendmail.cf", text);
	ck_assert_ptr_null(load_mta("sendmail", "", err, sizeof err));
	ck_assert_msg(strstr(err, "cannot read") != NULL && strstr(err, "/absent") != NULL, "%s",
	              err);
	put("sendmail.cf", "Cwok.test\nFw|/bin/hostname\n");
	ck_assert_ptr_null(load_mta("sendmail", "", err, sizeof err));
	ck_assert_msg(strstr(err, "/sendmail.cf:2: \"Fw|/bin/hostname\"") != NULL, "%s", err);
	/* "auto": Sendmail when there is no main.cf */
	put("sendmail.cf", "Cwok.test\n");
	cfg = load_mta("auto", "", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert(local(cfg, "ok.test"));
	config_free(cfg);
	/* no sendmail.cf */
	unlink(strcat(strcpy(text, dir), "/sendmail.cf"));
	ck_assert_ptr_null(load_mta("sendmail", "", err, sizeof err));
	ck_assert_msg(strstr(err, "Sendmail: cannot read") != NULL, "%s", err);
	/* "auto" with neither MTA */
	ck_assert_ptr_null(load_mta("auto", "", err, sizeof err));
	ck_assert_msg(strstr(err, "relay.from_mta: \"auto\" found neither Postfix (") != NULL, "%s",
	              err);
	/* a line of MTAFACTS_LINE_MAX bytes fits, one more does not */
	for (int over = 0; over < 2; over++) {
		size_t n = MTAFACTS_LINE_MAX + (size_t)over;
		char *line = malloc(n + 2);
		memset(line, ' ', n);
		memcpy(line, "Cwlong.test", 11);
		line[n] = '\n';
		line[n + 1] = '\0';
		put("sendmail.cf", line);
		free(line);
		cfg = load_mta("sendmail", "", err, sizeof err);
		ck_assert_msg((cfg != NULL) == (over == 0), "%s", err);
		config_free(cfg);
	}
}
END_TEST

START_TEST(test_origin_conflict)
{
	char err[2048];
	struct pg_config *cfg;

	put("mailname", "name.pf.test\n");
	char text[256];
	snprintf(text, sizeof text, "mydestination = a.test\nmyorigin = %s/mailname\n", dir);
	main_cf(text);
	cfg = load_mta("postfix", "trusted_networks = [ ];", err, sizeof err);
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(cfg->relay.origin_domain, "name.pf.test");
	config_free(cfg);
}
END_TEST

/* ---- the empty-domains refusal and the reload summary ---- */

START_TEST(test_no_local_domain)
{
	static const struct {
		const char *text;
		bool ok;
	} cases[] = {
	    {"", false},
	    {"ports = ( { port = 25; role = \"relay\"; mode = \"monitor\"; } );", true},
	    {"mode = \"monitor\";", true},
	    {"ports = ( { port = 587; role = \"submission\"; } );", true},
	    {"relay = { local_domains = [ \".example.org\" ]; };", true},
	    {"ports = ( { name = \"mx\"; role = \"relay\"; } );", false},
	};
	char err[1024];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		char *path = pg_write_temp(cases[i].text);
		struct pg_config *cfg = config_load(path, err, sizeof err);
		ck_assert_msg(cfg != NULL, "%s", err);
		err[0] = '\0';
		ck_assert_msg(mtafacts_check_domains(cfg, err, sizeof err) == cases[i].ok, "%s: %s",
		              cases[i].text, err);
		if (!cases[i].ok) {
			ck_assert_ptr_nonnull(strstr(err, "no local domain is known"));
			ck_assert_ptr_nonnull(strstr(err, "relay.from_mta"));
			ck_assert_ptr_nonnull(strstr(err, "relay.local_domains_file"));
			ck_assert_ptr_nonnull(strstr(err, "\"monitor\""));
		}
		if (i == 5)
			ck_assert_ptr_nonnull(strstr(err, ":1: no local domain is known, yet port "
			                                  "\"mx\" (role relay, mode enforce)"));
		config_free(cfg);
		unlink(path);
		free(path);
	}
}
END_TEST

START_TEST(test_reload_summary)
{
	char *a =
	    pg_write_temp("relay = { local_domains = [ \"a.test\", \"b.test\", \".c.test\" ]; "
	                  "trusted_networks = [ \"10.0.0.0/8\" ]; };");
	char *b =
	    pg_write_temp("relay = { local_domains = [ \"a.test\", \"new.test\", \".c.test\", "
	                  "\"n2.test\" ]; trusted_networks = [ \"10.0.0.0/8\" ]; };");
	char err[512];
	struct pg_config *old = config_load(a, err, sizeof err),
	                 *fresh = config_load(b, err, sizeof err);

	ck_assert_ptr_nonnull(old);
	ck_assert_ptr_nonnull(fresh);
	pg_capture_start();
	mtafacts_log_changes(old, fresh);
	ck_assert_str_eq(pg_captured_log(), "reload: local domains 3 -> 4; added 2: n2.test, "
	                                    "new.test; removed 1: b.test\n");
	pg_capture_start();
	mtafacts_log_changes(old, old);
	ck_assert_str_eq(pg_captured_log(), "");
	config_free(old);
	config_free(fresh);
	unlink(a);
	unlink(b);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_paths)
{
	char err[1024];
	char long_path[300];
	char text[512];

	memset(long_path, 'a', sizeof long_path);
	long_path[0] = '/';
	for (int over = 0; over < 2; over++) {
		long_path[255 + over] = '\0';
		snprintf(text, sizeof text, "relay = { sendmail_cf = \"%s\"; };", long_path);
		char *path = pg_write_temp(text);
		struct pg_config *cfg = config_load(path, err, sizeof err);
		ck_assert_msg((cfg != NULL) == (over == 0), "%s", err);
		if (over)
			ck_assert_ptr_nonnull(strstr(err, "the limit is 255"));
		config_free(cfg);
		unlink(path);
		free(path);
		long_path[255 + over] = 'a';
	}
	char *path = pg_write_temp("relay = { postfix_config_directory = \"etc/postfix\"; };");
	ck_assert_ptr_null(config_load(path, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err,
	                             "relay.postfix_config_directory: \"etc/postfix\": must be "
	                             "an absolute path"));
	unlink(path);
	free(path);
}
END_TEST

static Suite *mtafacts_suite(void)
{
	Suite *s = suite_create("mtafacts");
	TCase *tc = tcase_create("parse");
	TCase *mta = tcase_create("mta");

	tcase_add_test(tc, test_entry_kinds);
	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_postconf_lines);
	tcase_add_test(tc, test_sendmail_lines);
	tcase_add_test(tc, test_run_bounds);
	tcase_add_test(tc, test_no_local_domain);
	tcase_add_test(tc, test_reload_summary);
	tcase_add_test(tc, test_paths);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(mta, mta_setup, mta_teardown);
	tcase_set_timeout(mta, 60);
	tcase_add_test(mta, test_postfix_lists);
	tcase_add_test(mta, test_postfix_hash_table);
	tcase_add_test(mta, test_postfix_unlistable);
	tcase_add_test(mta, test_postfix_errors);
	tcase_add_test(mta, test_postfix_file_bounds);
	tcase_add_test(mta, test_drift_and_origin);
	tcase_add_test(mta, test_sendmail);
	tcase_add_test(mta, test_origin_conflict);
	suite_add_tcase(s, mta);
	return s;
}

PG_CHECK_MAIN(mtafacts_suite)
