/*
 * check_daemon.c - core/daemon.c: the socket-spec parser both daemons use,
 * the shared option parser (same flags, same messages for either program
 * name) and the pid file.
 */
#include <sysexits.h>

#include "check_common.h"
#include "daemon.h"
#include "version.h"

/* ---- socket specs ---- */

struct spec_case {
	const char *spec;
	bool want_ok;
	enum daemon_sock_kind want_kind;
	const char *want_path_or_host;
	unsigned want_port;
	const char *want_format; /* libmilter spelling; or the error's words */
};

static const struct spec_case spec_cases[] = {
    {"unix:/run/portguard/policy", true, DAEMON_SOCK_UNIX, "/run/portguard/policy", 0,
     "unix:/run/portguard/policy"},
    {"local:/run/m.sock", true, DAEMON_SOCK_UNIX, "/run/m.sock", 0, "unix:/run/m.sock"},
    {"inet:10040@127.0.0.1", true, DAEMON_SOCK_INET, "127.0.0.1", 10040, "inet:10040@127.0.0.1"},
    {"inet:10040", true, DAEMON_SOCK_INET, "", 10040, "inet:10040"},
    {"inet:10040@localhost", true, DAEMON_SOCK_INET, "localhost", 10040, "inet:10040@localhost"},
    {"inet6:10040@::1", true, DAEMON_SOCK_INET6, "::1", 10040, "inet6:10040@::1"},
    {"inet6:10040@[::1]", true, DAEMON_SOCK_INET6, "::1", 10040, "inet6:10040@::1"},
    {"inet6:10040", true, DAEMON_SOCK_INET6, "", 10040, "inet6:10040"},
    {"inet:127.0.0.1:10040", true, DAEMON_SOCK_INET, "127.0.0.1", 10040, "inet:10040@127.0.0.1"},
    {"inet:[::1]:10040", true, DAEMON_SOCK_INET6, "::1", 10040, "inet6:10040@::1"},
    {"inet:*:10040", true, DAEMON_SOCK_INET, "", 10040, "inet:10040"},
    {"inet::10040", true, DAEMON_SOCK_INET, "", 10040, "inet:10040"},
    {"inet:65535", true, DAEMON_SOCK_INET, "", 65535, "inet:65535"},
    /* refused */
    {"tcp:10040", false, 0, NULL, 0, "unknown socket type: use unix:/path"},
    {"/run/m.sock", false, 0, NULL, 0, "unknown socket type"},
    {"unix:run/m.sock", false, 0, NULL, 0, "must be absolute"},
    {"unix:", false, 0, NULL, 0, "must be absolute"},
    {"inet:0", false, 0, NULL, 0, "the port must be 1..65535"},
    {"inet:65536", false, 0, NULL, 0, "the port must be 1..65535"},
    {"inet:127.0.0.1:99999", false, 0, NULL, 0, "the port must be 1..65535"},
    {"inet:127.0.0.1:", false, 0, NULL, 0, "the port must be 1..65535"},
    {"inet:12a@host", false, 0, NULL, 0, "the port must be 1..65535"},
    {"inet:10040@", false, 0, NULL, 0, "bad host after '@'"},
    {"inet:10040@bad host", false, 0, NULL, 0, "bad host after '@'"},
    {"inet6:10040@::g", false, 0, NULL, 0, "bad host after '@'"},
    {"inet:[::g]:10040", false, 0, NULL, 0, "bad IPv6 address in brackets"},
    {"inet:[::1]10040", false, 0, NULL, 0, "bad IPv6 address in brackets"},
    {"inet:[]:10040", false, 0, NULL, 0, "bad IPv6 address in brackets"},
    {"inet:a:b:10040", false, 0, NULL, 0, "bad or missing host"},
    {"inet6:::1:10040", false, 0, NULL, 0, "inet6 takes port@host"},
};

START_TEST(test_sockspec_table)
{
	const struct spec_case *c = &spec_cases[_i];
	struct daemon_sockspec got;
	char why[200] = "", buf[DAEMON_SOCK_PATH_MAX + 16];
	bool got_ok = daemon_sockspec_parse(c->spec, &got, why, sizeof why);

	ck_assert_msg(got_ok == c->want_ok, "%s: got %d (%s)", c->spec, got_ok, why);
	if (!c->want_ok) {
		ck_assert_msg(strstr(why, c->want_format) != NULL, "%s: why \"%s\"", c->spec, why);
		return;
	}
	ck_assert_int_eq(got.kind, c->want_kind);
	ck_assert_str_eq(got.kind == DAEMON_SOCK_UNIX ? got.path : got.host, c->want_path_or_host);
	ck_assert_uint_eq(got.port, c->want_port);
	ck_assert(daemon_sockspec_format(&got, buf, sizeof buf));
	ck_assert_str_eq(buf, c->want_format);
}
END_TEST

/* daemon_sockspec_check: the reason alone, for the config to follow with
 * its own words; daemon_sockspec_parse: the same reason and -p's usage. */
START_TEST(test_sockspec_check_reason)
{
	static const struct {
		const char *spec, *want;
	} cases[] = {
	    {"tcp:10040", "unknown socket type"},
	    {"unix:run/m", "the socket path must be absolute (start with /)"},
	    {"inet:0", "the port must be 1..65535"},
	    {"inet:localhost", "bad or missing host"},
	    {"inet:10040@bad host", "bad host after '@'"},
	    {"inet:[::g]:10040", "bad IPv6 address in brackets"},
	    {"inet6:::1:10040", "inet6 takes port@host"},
	};
	struct daemon_sockspec got;
	char why[200], want[300];

	for (size_t i = 0; i < PG_ARRAY_LEN(cases); i++) {
		ck_assert(!daemon_sockspec_check(cases[i].spec, &got, why, sizeof why));
		ck_assert_str_eq(why, cases[i].want);
		ck_assert(!daemon_sockspec_parse(cases[i].spec, &got, why, sizeof why));
		snprintf(want, sizeof want,
		         "%s: use unix:/path, inet:port@host, inet6:port@host, inet:host:port or "
		         "inet:[address]:port",
		         cases[i].want);
		ck_assert_str_eq(why, want);
	}
	ck_assert(daemon_sockspec_check("inet:10040@127.0.0.1", &got, why, sizeof why));
	ck_assert_uint_eq(got.port, 10040);
}
END_TEST

/* The longest unix path that fits sun_path, and one byte more. */
START_TEST(test_sockspec_unix_path_limit)
{
	char spec[DAEMON_SOCK_PATH_MAX + 16], why[200];
	struct daemon_sockspec got;

	memcpy(spec, "unix:/", 6);
	memset(spec + 6, 'a', DAEMON_SOCK_PATH_MAX - 2);
	spec[6 + DAEMON_SOCK_PATH_MAX - 2] = '\0'; /* path of 107 bytes: fits */
	ck_assert(daemon_sockspec_parse(spec, &got, why, sizeof why));
	ck_assert_uint_eq(strlen(got.path), DAEMON_SOCK_PATH_MAX - 1);
	strcat(spec, "a"); /* 108: one over */
	ck_assert(!daemon_sockspec_parse(spec, &got, why, sizeof why));
	ck_assert_ptr_nonnull(strstr(why, "longer than 107 bytes"));
}
END_TEST

START_TEST(test_sockspec_format_too_small)
{
	struct daemon_sockspec sp;
	char why[100], buf[8];

	ck_assert(daemon_sockspec_parse("unix:/run/portguard/milter", &sp, why, sizeof why));
	ck_assert(!daemon_sockspec_format(&sp, buf, sizeof buf));
}
END_TEST

/* ---- options ---- */

static const struct daemon_info policyd = {"portguard-policyd", "policyd", PG_MAX_LISTEN};
static const struct daemon_info milter = {"portguard-milter", "milter", 1};

struct run {
	int rc;
	bool done;
	struct daemon_options o;
	char *out, *err;
	size_t outlen, errlen;
};

/* Parse a NULL-terminated argument list as d would. */
static void parse(const struct daemon_info *d, struct run *r, char **args)
{
	char *argv[64];
	int argc = 0;
	FILE *out, *err;

	argv[argc++] = (char *)d->name;
	while (args[argc - 1] != NULL && argc < 63) {
		argv[argc] = args[argc - 1];
		argc++;
	}
	argv[argc] = NULL;
	out = open_memstream(&r->out, &r->outlen);
	err = open_memstream(&r->err, &r->errlen);
	ck_assert(out != NULL && err != NULL);
	r->rc = daemon_options_parse(d, argc, argv, &r->o, out, err, &r->done);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	daemon_options_free(&r->o);
	free(r->out);
	free(r->err);
}

/* The usage as d prints it, into *buf (free it). */
static void usage_of(const struct daemon_info *d, char **buf)
{
	size_t len;
	FILE *f = open_memstream(buf, &len);

	ck_assert_ptr_nonnull(f);
	daemon_usage(d, f);
	fclose(f);
}

/* The usage is word for word the same but for the name on its first line. */
START_TEST(test_usage_same_for_both)
{
	char *p, *m;
	const char *pn, *mn;

	usage_of(&policyd, &p);
	usage_of(&milter, &m);
	pn = strchr(p, '\n');
	mn = strchr(m, '\n');
	ck_assert_ptr_nonnull(pn);
	ck_assert_ptr_nonnull(mn);
	ck_assert_str_eq(pn, mn);
	ck_assert(strncmp(p, "usage: portguard-policyd [-fenVh] [-c FILE] [-p SPEC]... [-P FILE]\n",
	                  (size_t)(pn - p) + 1) == 0);
	ck_assert(strncmp(m, "usage: portguard-milter [-fenVh] [-c FILE] [-p SPEC]... [-P FILE]\n",
	                  (size_t)(mn - m) + 1) == 0);
	ck_assert_ptr_nonnull(strstr(pn, "\n  -V, --version  print the version and exit\n"));
	ck_assert_ptr_nonnull(strstr(pn, "\n  -h, --help     print this help and exit\n"));
	free(p);
	free(m);
}
END_TEST

START_TEST(test_options_all_flags)
{
	struct run r;
	char *args[] = {"-f",          "-e",          "-n",
	                "-c",          "/etc/hosts",  "-p",
	                "unix:/run/a", "-p",          "inet:10040@127.0.0.1",
	                "-P",          "/run/pg.pid", NULL};

	parse(&policyd, &r, args);
	ck_assert_int_eq(r.rc, EX_OK);
	ck_assert(!r.done);
	ck_assert(r.o.foreground && r.o.to_stderr && r.o.check_only);
	ck_assert_str_eq(r.o.config_path, "/etc/hosts");
	ck_assert_uint_eq(r.o.nlisten, 2);
	ck_assert_str_eq(r.o.listen[0], "unix:/run/a");
	ck_assert_str_eq(r.o.listen[1], "inet:10040@127.0.0.1");
	ck_assert_str_eq(r.o.pid_file, "/run/pg.pid");
	ck_assert_uint_eq(r.outlen + r.errlen, 0);
	run_free(&r);
}
END_TEST

START_TEST(test_options_defaults)
{
	struct run r;
	char *args[] = {NULL};

	parse(&milter, &r, args);
	ck_assert_int_eq(r.rc, EX_OK);
	ck_assert(!r.done && !r.o.foreground && !r.o.to_stderr && !r.o.check_only);
	ck_assert_uint_eq(r.o.nlisten, 0);
	ck_assert_ptr_null(r.o.pid_file);
	ck_assert_ptr_nonnull(strstr(r.o.config_path, "portguard/portguard.conf"));
	run_free(&r);
}
END_TEST

/* A relative -c becomes absolute: a reload after detaching (cwd "/") still finds it. */
START_TEST(test_options_config_made_absolute)
{
	struct run r;
	char *path = pg_write_temp("x"), *slash = strrchr(path, '/');
	char *args[] = {"-c", slash + 1, NULL};

	ck_assert_int_eq(chdir("/tmp"), 0);
	parse(&policyd, &r, args);
	ck_assert_int_eq(r.rc, EX_OK);
	ck_assert_str_eq(r.o.config_path, path);
	run_free(&r);
	unlink(path);
	free(path);
}
END_TEST

struct opt_case {
	const char *name;
	char *args[6];
	int want_rc;
	bool want_done;
	const char *want_out_first; /* first line of out, or NULL: empty */
	const char *want_err_first; /* first line of err (%s = program name), or NULL: empty */
	bool want_usage;            /* the usage follows on err (or is out) */
};

static const struct opt_case opt_cases[] = {
    {"help", {"--help", NULL}, EX_OK, true, "usage: %s [-fenVh]", NULL, true},
    {"h", {"-h", NULL}, EX_OK, true, "usage: %s [-fenVh]", NULL, true},
    {"version", {"--version", NULL}, EX_OK, true, "%s " PG_VERSION, NULL, false},
    {"V", {"-V", NULL}, EX_OK, true, "%s " PG_VERSION, NULL, false},
    {"unknown short", {"-Z", NULL}, EX_USAGE, false, NULL, "%s: unknown option -Z", true},
    {"unknown long", {"--frob", NULL}, EX_USAGE, false, NULL, "%s: unknown option --frob", true},
    {"no value", {"-c", NULL}, EX_USAGE, false, NULL, "%s: option -c needs a value", true},
    {"no -P value", {"-P", NULL}, EX_USAGE, false, NULL, "%s: option -P needs a value", true},
    {"argument", {"extra", NULL}, EX_USAGE, false, NULL, "%s: unexpected argument \"extra\"", true},
    {"bad spec",
     {"-p", "tcp:1", NULL},
     EX_USAGE,
     false,
     NULL,
     "%s: -p tcp:1: unknown socket type: use unix:/path, inet:port@host, inet6:port@host, "
     "inet:host:port or inet:[address]:port",
     true},
    {"relative pid file",
     {"-P", "run/pg.pid", NULL},
     EX_USAGE,
     false,
     NULL,
     "%s: -P run/pg.pid: the pid file must be an absolute path",
     true},
};

static char *first_line(const char *s)
{
	size_t n = strcspn(s, "\n");
	char *l = malloc(n + 1);

	memcpy(l, s, n);
	l[n] = '\0';
	return l;
}

static void check_opt_case(const struct daemon_info *d, const struct opt_case *c, struct run *r)
{
	char want[512];
	char *usage;

	usage_of(d, &usage);
	parse(d, r, (char **)c->args);
	ck_assert_msg(r->rc == c->want_rc, "%s %s: rc %d", d->name, c->name, r->rc);
	ck_assert(r->done == c->want_done);
	if (c->want_out_first != NULL) {
		char *l = first_line(r->out);
		snprintf(want, sizeof want, c->want_out_first, d->name);
		ck_assert_msg(strncmp(l, want, strlen(want)) == 0, "%s: out \"%s\"", c->name, l);
		if (c->want_usage)
			ck_assert_str_eq(r->out, usage);
		else
			ck_assert_str_eq(l, want); /* the version line is the whole line */
		free(l);
	} else {
		ck_assert_uint_eq(r->outlen, 0);
	}
	if (c->want_err_first != NULL) {
		char *l = first_line(r->err);
		snprintf(want, sizeof want, c->want_err_first, d->name);
		ck_assert_str_eq(l, want);
		if (c->want_usage)
			ck_assert_str_eq(r->err + strlen(l) + 1, usage);
		free(l);
	} else {
		ck_assert_uint_eq(r->errlen, 0);
	}
	free(usage);
}

START_TEST(test_options_table_same_for_both)
{
	const struct opt_case *c = &opt_cases[_i];
	struct run p, m;

	check_opt_case(&policyd, c, &p);
	check_opt_case(&milter, c, &m);
	run_free(&p);
	run_free(&m);
}
END_TEST

/* policyd takes PG_MAX_LISTEN sockets, the milter one: the same words. */
START_TEST(test_options_listen_limit)
{
	char *args[2 * PG_MAX_LISTEN + 4];
	struct run r;
	size_t n = 0;

	for (size_t i = 0; i < PG_MAX_LISTEN; i++) {
		args[n++] = "-p";
		args[n++] = "inet:10040";
	}
	args[n] = NULL;
	parse(&policyd, &r, args);
	ck_assert_int_eq(r.rc, EX_OK);
	ck_assert_uint_eq(r.o.nlisten, PG_MAX_LISTEN);
	run_free(&r);

	args[n++] = "-p";
	args[n++] = "inet:10041";
	args[n] = NULL;
	parse(&policyd, &r, args);
	ck_assert_int_eq(r.rc, EX_USAGE);
	ck_assert_ptr_nonnull(strstr(r.err, "portguard-policyd: at most 16 -p options\n"));
	run_free(&r);

	args[4] = NULL; /* two -p */
	parse(&milter, &r, args);
	ck_assert_int_eq(r.rc, EX_USAGE);
	ck_assert_ptr_nonnull(strstr(r.err, "portguard-milter: at most 1 -p option\n"));
	run_free(&r);
}
END_TEST

/* ---- pid file ---- */

static char *read_all(const char *path)
{
	static char buf[64];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

START_TEST(test_pidfile_stale_live_removed)
{
	char *path = pg_write_temp("999999999\n"); /* no such process: stale */
	char want[32], live[32];

	ck_assert_int_eq(daemon_pidfile_check(path), EX_OK);
	ck_assert_int_eq(daemon_pidfile_write(path), EX_OK);
	snprintf(want, sizeof want, "%ld\n", (long)getpid());
	ck_assert_str_eq(read_all(path), want);
	daemon_pidfile_remove();
	ck_assert_ptr_null(read_all(path));

	/* a running process (our parent): refused, file untouched */
	snprintf(live, sizeof live, "%ld\n", (long)getppid());
	free(path);
	path = pg_write_temp(live);
	pg_capture_start();
	ck_assert_int_eq(daemon_pidfile_check(path), EX_CANTCREAT);
	ck_assert_int_eq(daemon_pidfile_write(path), EX_CANTCREAT);
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "is running; not starting a second one"));
	ck_assert_str_eq(read_all(path), live);
	unlink(path);

	/* garbage and empty files are stale too */
	free(path);
	path = pg_write_temp("");
	ck_assert_int_eq(daemon_pidfile_check(path), EX_OK);
	unlink(path);
	free(path);
	path = pg_write_temp("12abc\n");
	ck_assert_int_eq(daemon_pidfile_check(path), EX_OK);
	unlink(path);
	free(path);
}
END_TEST

/* ---- reload ---- */

static const char reload_base[] =
    "mode = \"enforce\";\n"
    "ports = ( { port = 25; role = \"relay\"; } );\n"
    "relay = { local_domains = [ \"example.org\" ]; };\n"
    "policyd = { listen = [ \"unix:/run/p\" ]; socket_mode = \"%s\"; };\n"
    "milter = { listen = \"%s\"; socket_mode = \"%s\"; };\n";

static char *reload_conf(const char *pmode, const char *mlisten, const char *mmode)
{
	char text[512];

	snprintf(text, sizeof text, reload_base, pmode, mlisten, mmode);
	return pg_write_temp(text);
}

/* Reload path (now holding new) over a daemon started from old; returns the
 * log and whether a config came back. */
static bool reload_as(const struct daemon_info *d, size_t nlisten, const char *old_path,
                      const char *path)
{
	struct daemon_options o = {.config_path = (char *)path, .nlisten = nlisten};
	char err[256];
	struct pg_config *old = config_load(old_path, err, sizeof err), *fresh;

	ck_assert_msg(old != NULL, "%s", err);
	pg_capture_start();
	fresh = daemon_reload(d, &o, old);
	config_free(old);
	if (fresh != NULL)
		config_free(fresh);
	return fresh != NULL;
}

/* Each daemon names only its own start-only keys, and not its listen key
 * when -p names the sockets. */
START_TEST(test_reload_start_only_keys)
{
	char *old = reload_conf("0660", "unix:/run/m", "0660");
	char *changed = reload_conf("0640", "unix:/run/m2", "0600");

	ck_assert(reload_as(&policyd, 0, old, changed));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(),
	                             "warning: reload: changed, but applied only at the next "
	                             "restart: policyd.socket_mode; keeping the running values"));
	ck_assert_ptr_null(strstr(pg_captured_log(), "milter."));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "reloaded: daemon=portguard-policyd"));

	ck_assert(reload_as(&milter, 0, old, changed));
	ck_assert_ptr_nonnull(
	    strstr(pg_captured_log(), "restart: milter.listen, milter.socket_mode;"));
	ck_assert_ptr_null(strstr(pg_captured_log(), "policyd."));

	ck_assert(reload_as(&milter, 1, old, changed)); /* -p: milter.listen is not used */
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "restart: milter.socket_mode;"));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "reloaded: daemon=portguard-milter"));

	ck_assert(reload_as(&milter, 0, old, old)); /* nothing changed: no warning */
	ck_assert_ptr_null(strstr(pg_captured_log(), "warning"));
	unlink(old);
	unlink(changed);
	free(old);
	free(changed);
}
END_TEST

/* A broken file: the same line for both, nothing returned. */
START_TEST(test_reload_failure_line)
{
	char *old = reload_conf("0660", "unix:/run/m", "0660");
	char *bad = pg_write_temp("mode = \"enforce\";\nno_such_key = 1;\n");
	char want[256];

	snprintf(want, sizeof want, "error: reload failed: %s:2: ", bad);
	ck_assert(!reload_as(&policyd, 0, old, bad));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), want));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), "; keeping the running configuration\n"));
	ck_assert(!reload_as(&milter, 0, old, bad));
	ck_assert_ptr_nonnull(strstr(pg_captured_log(), want));
	unlink(old);
	unlink(bad);
	free(old);
	free(bad);
}
END_TEST

static Suite *daemon_suite(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc = tcase_create("sockspec");

	tcase_add_loop_test(tc, test_sockspec_table, 0, (int)PG_ARRAY_LEN(spec_cases));
	tcase_add_test(tc, test_sockspec_check_reason);
	tcase_add_test(tc, test_sockspec_unix_path_limit);
	tcase_add_test(tc, test_sockspec_format_too_small);
	suite_add_tcase(s, tc);
	tc = tcase_create("options");
	tcase_add_test(tc, test_usage_same_for_both);
	tcase_add_test(tc, test_options_all_flags);
	tcase_add_test(tc, test_options_defaults);
	tcase_add_test(tc, test_options_config_made_absolute);
	tcase_add_loop_test(tc, test_options_table_same_for_both, 0, (int)PG_ARRAY_LEN(opt_cases));
	tcase_add_test(tc, test_options_listen_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("reload");
	tcase_add_test(tc, test_reload_start_only_keys);
	tcase_add_test(tc, test_reload_failure_line);
	suite_add_tcase(s, tc);
	tc = tcase_create("pidfile");
	tcase_add_test(tc, test_pidfile_stale_live_removed);
	suite_add_tcase(s, tc);
	return s;
}

PG_CHECK_MAIN(daemon_suite)
