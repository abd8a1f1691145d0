/*
 * mtafacts.c - the MTA as the source of truth: local domains, trusted
 * networks and the origin domain from Postfix (postconf -xh, lookup tables
 * listed with postmap -s or read as files) or Sendmail (sendmail.cf's class
 * w and R, $j and $m), merged into a config at load time.
 *
 * Inputs are the MTA's configuration and the output of its tools, read at
 * start, reload and -n only: every command has a time limit and an output
 * limit, every line a length limit, every nesting a depth limit, and any of
 * them exceeded is an error with the command and what it said. Entries are
 * normalised by relay.c's parsers and merged by its adders, so the MTA's
 * spelling of a domain or a network is understood, and counted against the
 * limits, as the config file's is.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mtafacts.h"
#include "relay.h"
#include "why.h"

#define MAX_SHOWN 5 /* entries named in one warning or change line */

static const char *const postconf_names[] = {
    "mydestination", "relay_domains", "virtual_alias_domains", "virtual_mailbox_domains",
    "mynetworks",    "myorigin",      "append_at_myorigin",
};
enum { PC_NDOMAIN_LISTS = 4, PC_NETWORKS = 4, PC_ORIGIN = 5, PC_APPEND = 6, PC_N = 7 };

/* ---- small helpers ---- */

static bool push(char ***v, size_t *n, const char *s, size_t len)
{
	char **grown, *copy;

	if ((copy = strndup(s, len)) == NULL)
		return false;
	/* room for 16, 32, 64 ...: a million entries must not cost a million
	 * reallocations (a reload diffs the whole local domain list) */
	if (*n == 0 || (*n >= 16 && (*n & (*n - 1)) == 0)) {
		if ((grown = realloc(*v, (*n == 0 ? 16 : 2 * *n) * sizeof **v)) == NULL) {
			free(copy);
			return false;
		}
		*v = grown;
	}
	(*v)[(*n)++] = copy;
	return true;
}

static void free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void mtafacts_clear(struct mtafacts *f)
{
	free_list(f->domains, f->ndomains);
	free_list(f->nets, f->nnets);
	free(f->origin);
	memset(f, 0, sizeof *f);
}

/* Read one line of at most MTAFACTS_LINE_MAX bytes: 1 a line, 0 EOF, -1 too long. */
static int get_line(FILE *fp, char *buf, size_t len)
{
	if (fgets(buf, (int)len, fp) == NULL)
		return 0;
	size_t n = strlen(buf);
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	else if (!feof(fp))
		return -1;
	if (n > 0 && buf[n - 1] == '\r')
		buf[--n] = '\0';
	return 1;
}

/* ---- running a command ---- */

static void child_exec(char *const argv[], int out, int err)
{
	int null = open("/dev/null", O_RDONLY);

	if (null >= 0)
		dup2(null, 0);
	dup2(out, 1);
	dup2(err, 2);
	if (getenv("PATH") == NULL)
		setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	execvp(argv[0], argv);
	dprintf(2, "cannot run it: %s", strerror(errno));
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void command_text(char *const argv[], char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; argv[i] != NULL && used + 1 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i > 0 ? " " : "", argv[i]);
}

bool mtafacts_run(char *const argv[], unsigned timeout_ms, size_t max, char **out, char *why,
                  size_t whylen)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, status = 0;
	char cmd[512], errtext[MTAFACTS_STDERR_MAX + 1] = "", *buf;
	size_t n = 0, nerr = 0;
	long long deadline = now_ms() + timeout_ms;
	const char *fault = NULL;
	pid_t pid;

	command_text(argv, cmd, sizeof cmd);
	*out = NULL;
	if ((buf = malloc(max + 1)) == NULL)
		return why_set(why, whylen, "%s: out of memory", cmd);
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		why_set(why, whylen, "%s: cannot start it: %s", cmd, strerror(errno));
		for (int i = 0; i < 2; i++) {
			if (po[i] >= 0)
				close(po[i]);
			if (pe[i] >= 0)
				close(pe[i]);
		}
		free(buf);
		return false;
	}
	if (pid == 0)
		child_exec(argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
	while (fault == NULL && (pf[0].fd >= 0 || pf[1].fd >= 0)) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			fault = "timed out";
			break;
		}
		int r = poll(pf, 2, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fault = "poll failed";
			break;
		}
		for (int i = 0; i < 2; i++) {
			char scratch[512];
			ssize_t got;
			if (pf[i].fd < 0 || pf[i].revents == 0)
				continue;
			if (i == 0)
				got = read(pf[0].fd, buf + n, max + 1 - n);
			else
				got = read(pf[1].fd, scratch, sizeof scratch);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				close(pf[i].fd);
				pf[i].fd = -1;
				continue;
			}
			if (i == 0 && (n += (size_t)got) > max)
				fault = "wrote more output than the limit";
			if (i == 1 && nerr < MTAFACTS_STDERR_MAX) {
				size_t take = (size_t)got < MTAFACTS_STDERR_MAX - nerr
				                  ? (size_t)got
				                  : MTAFACTS_STDERR_MAX - nerr;
				memcpy(errtext + nerr, scratch, take);
				nerr += take;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	if (fault != NULL)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	errtext[nerr] = '\0';
	for (char *p = errtext; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r' || (unsigned char)*p < ' ')
			*p = ' ';
	while (nerr > 0 && errtext[nerr - 1] == ' ')
		errtext[--nerr] = '\0';
	if (fault == NULL && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		fault = WIFEXITED(status) ? "failed" : "was killed by a signal";
	if (fault != NULL) {
		if (strcmp(fault, "timed out") == 0)
			why_set(why, whylen, "%s: timed out after %u ms%s%s%s", cmd, timeout_ms,
			        nerr ? " (" : "", errtext, nerr ? ")" : "");
		else if (strcmp(fault, "failed") == 0)
			why_set(why, whylen, "%s: exited with status %d%s%s%s", cmd,
			        WEXITSTATUS(status), nerr ? ": " : "", errtext, "");
		else if (fault[0] == 'w' && fault[1] == 'r')
			why_set(why, whylen, "%s: wrote more than %zu bytes (the limit)", cmd, max);
		else
			why_set(why, whylen, "%s: %s%s%s%s", cmd, fault, nerr ? " (" : "", errtext,
			        nerr ? ")" : "");
		free(buf);
		return false;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		free(buf);
		return why_set(why, whylen, "%s: its output holds a NUL byte", cmd);
	}
	*out = buf;
	return true;
}

/* ---- Postfix: parsing ---- */

enum mtafacts_entry mtafacts_entry_kind(const char *entry, char *type, size_t typelen)
{
	static const char *const postmap_types[] = {"hash", "btree", "lmdb", "cdb",
	                                            "dbm",  "sdbm",  NULL};
	size_t n = strspn(entry, "abcdefghijklmnopqrstuvwxyz0123456789_");

	snprintf(type, typelen, "%.*s", (int)n, entry);
	if (entry[0] == '!') {
		snprintf(type, typelen, "!");
		return MTA_ENTRY_UNLISTABLE;
	}
	if (entry[0] == '/')
		return MTA_ENTRY_FILE;
	if (n == 0 || entry[n] != ':' || entry[n + 1] == '\0' || entry[n + 1] == ':')
		return MTA_ENTRY_VALUE; /* "1.2.3.4", "[::1]/128", "example.org" */
	for (size_t i = 0; postmap_types[i] != NULL; i++)
		if (strcmp(type, postmap_types[i]) == 0)
			return entry[n + 1] == '/' ? MTA_ENTRY_POSTMAP : MTA_ENTRY_UNLISTABLE;
	if (strcmp(type, "texthash") == 0 || strcmp(type, "cidr") == 0)
		return entry[n + 1] == '/' ? MTA_ENTRY_TEXTFILE : MTA_ENTRY_UNLISTABLE;
	if (strcmp(type, "inline") == 0)
		return entry[n + 1] == '{' ? MTA_ENTRY_INLINE : MTA_ENTRY_UNLISTABLE;
	/* An IPv6 address without brackets: "2001:db8::1" has hex before ':'. */
	if (strspn(entry, "0123456789abcdefABCDEF:./") == strlen(entry))
		return MTA_ENTRY_VALUE;
	return MTA_ENTRY_UNLISTABLE;
}

int mtafacts_split(char *s, char **v, int max)
{
	int n = 0;

	for (;;) {
		s += strspn(s, " \t\r\n,");
		if (*s == '\0')
			return n;
		if (n >= max)
			return -1;
		v[n++] = s;
		int depth = 0;
		for (; *s != '\0'; s++) {
			if (*s == '{')
				depth++;
			else if (*s == '}' && depth > 0)
				depth--;
			else if (depth == 0 && strchr(" \t\r\n,", *s) != NULL)
				break;
		}
		if (depth > 0)
			return -1;
		if (*s != '\0')
			*s++ = '\0';
	}
}

bool mtafacts_postconf_lines(char *out, char **values, size_t n)
{
	size_t i = 0;
	char *p = out;

	while (*p != '\0') {
		char *nl = strchr(p, '\n');
		if (i >= n)
			return false;
		values[i++] = p;
		if (nl == NULL)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return i == n;
}

/* ---- Postfix: reading lists ---- */

struct pf_ctx {
	const struct pg_config *cfg;
	struct mtafacts *f;
	bool nets;        /* the list is mynetworks */
	const char *name; /* the parameter */
	char *why;
	size_t whylen;
};

static bool pf_list(struct pf_ctx *x, char *value, unsigned depth);

static bool pf_value(struct pf_ctx *x, const char *s, size_t len)
{
	char **v = x->nets ? x->f->nets : x->f->domains;
	size_t *n = x->nets ? &x->f->nnets : &x->f->ndomains;
	bool ok;

	if (len == 0)
		return true;
	if (x->nets && s[0] == '[') { /* "[::1]/128" -> "::1/128" */
		const char *close = memchr(s, ']', len);
		char buf[128];
		if (close == NULL || len >= sizeof buf)
			return why_set(x->why, x->whylen, "Postfix %s: \"%.*s\" is not a network",
			               x->name, (int)(len > 80 ? 80 : len), s);
		snprintf(buf, sizeof buf, "%.*s%.*s", (int)(close - s - 1), s + 1,
		         (int)(len - (size_t)(close - s) - 1), close + 1);
		ok = push(&v, n, buf, strlen(buf));
	} else {
		ok = push(&v, n, s, len);
	}
	if (x->nets)
		x->f->nets = v;
	else
		x->f->domains = v;
	return ok ? true : why_set(x->why, x->whylen, "out of memory");
}

/* Lines of a file: a list file (every word an entry) or a "key value" table
 * (the first word of each line). */
static bool pf_file(struct pf_ctx *x, const char *path, bool keys_only, unsigned depth)
{
	char line[MTAFACTS_LINE_MAX + 2];
	unsigned lineno = 0;
	bool ok = true;
	FILE *fp;
	int rc;

	if ((fp = fopen(path, "r")) == NULL)
		return why_set(x->why, x->whylen, "Postfix %s: cannot read \"%s\": %s", x->name,
		               path, strerror(errno));
	while (ok && (rc = get_line(fp, line, sizeof line)) != 0) {
		lineno++;
		if (rc < 0) {
			ok = why_set(x->why, x->whylen, "%s:%u: line longer than %d bytes", path,
			             lineno, MTAFACTS_LINE_MAX);
			break;
		}
		char *p = line + strspn(line, " \t");
		if (*p == '#' || *p == '\0')
			continue;
		if (keys_only) {
			if (line[0] == ' ' || line[0] == '\t')
				continue; /* a continued value */
			ok = pf_value(x, p, strcspn(p, " \t"));
		} else {
			*strchrnul(p, '#') = '\0';
			ok = pf_list(x, p, depth + 1);
		}
	}
	if (ok && ferror(fp))
		ok = why_set(x->why, x->whylen, "Postfix %s: cannot read \"%s\"", x->name, path);
	fclose(fp);
	return ok;
}

/* `postmap -s type:path` (as the user we run as): "key value" lines. */
static bool pf_postmap(struct pf_ctx *x, const char *table)
{
	char *argv[] = {"postmap", "-c",          (char *)x->cfg->relay.postfix_dir,
	                "-s",      (char *)table, NULL};
	char *out, *line, *save = NULL;
	bool ok = true;

	if (!mtafacts_run(argv, MTAFACTS_TIMEOUT_MS, MTAFACTS_OUTPUT_MAX, &out, x->why, x->whylen))
		return false;
	for (line = strtok_r(out, "\n", &save); ok && line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		ok = pf_value(x, line, strcspn(line, " \t"));
	free(out);
	return ok;
}

/* inline:{ key=value, { key = value with spaces }, key2 }: the keys. */
static bool pf_inline(struct pf_ctx *x, char *spec)
{
	char *body = strchr(spec, '{') + 1, *end = strrchr(body, '}');
	char *v[256];
	int n;

	if (end == NULL)
		return why_set(x->why, x->whylen, "Postfix %s: \"%s\": no closing brace", x->name,
		               spec);
	*end = '\0';
	if ((n = mtafacts_split(body, v, 256)) < 0)
		return why_set(x->why, x->whylen,
		               "Postfix %s: inline table with more than 256 entries or "
		               "unbalanced braces",
		               x->name);
	for (int i = 0; i < n; i++) {
		char *k = v[i];
		if (*k == '{')
			k += 1 + strspn(k + 1, " \t");
		size_t len = strcspn(k, " \t=}");
		if (!pf_value(x, k, len))
			return false;
	}
	return true;
}

#define UNLISTABLE_HINT                                                                            \
	"portguard cannot list the entries of such a table; list those %s in "                     \
	"relay.%s (or set relay.from_mta = \"none\" and list them all by hand)"

static bool pf_list(struct pf_ctx *x, char *value, unsigned depth)
{
	char *v[1024], type[32];
	int n;

	if (depth > MTAFACTS_NESTING_MAX)
		return why_set(x->why, x->whylen,
		               "Postfix %s: files or tables nested deeper than %d levels", x->name,
		               MTAFACTS_NESTING_MAX);
	if ((n = mtafacts_split(value, v, 1024)) < 0)
		return why_set(
		    x->why, x->whylen,
		    "Postfix %s: more than 1024 entries on one line or unbalanced braces", x->name);
	for (int i = 0; i < n; i++) {
		const char *what = x->nets ? "networks" : "domains";
		const char *key = x->nets ? "trusted_networks" : "local_domains_file";
		bool ok;
		switch (mtafacts_entry_kind(v[i], type, sizeof type)) {
		case MTA_ENTRY_VALUE:
			ok = pf_value(x, v[i], strlen(v[i]));
			break;
		case MTA_ENTRY_FILE:
			ok = pf_file(x, v[i], false, depth);
			break;
		case MTA_ENTRY_POSTMAP:
			ok = pf_postmap(x, v[i]);
			break;
		case MTA_ENTRY_TEXTFILE:
			ok = pf_file(x, strchr(v[i], ':') + 1, true, depth);
			break;
		case MTA_ENTRY_INLINE:
			ok = pf_inline(x, v[i]);
			break;
		default:
			if (strcmp(type, "!") == 0)
				return why_set(x->why, x->whylen,
				               "Postfix %s: the negated entry \"%.100s\" cannot be "
				               "represented in portguard's lists; " UNLISTABLE_HINT,
				               x->name, v[i], what, key);
			return why_set(x->why, x->whylen,
			               "Postfix %s: \"%.100s\" is a %s: table; " UNLISTABLE_HINT,
			               x->name, v[i], type, what, key);
		}
		if (!ok)
			return false;
	}
	return true;
}

/* myorigin may name a file (Debian: /etc/mailname): its first word. */
static bool pf_origin(struct pf_ctx *x, const char *value, const char *append)
{
	char line[MTAFACTS_LINE_MAX + 2] = "";
	const char *p = value;
	FILE *fp;

	if (strcmp(append, "yes") != 0)
		return true; /* Postfix appends nothing */
	if (value[0] == '/') {
		if ((fp = fopen(value, "r")) == NULL)
			return why_set(x->why, x->whylen,
			               "Postfix myorigin: cannot read \"%s\": %s", value,
			               strerror(errno));
		if (get_line(fp, line, sizeof line) < 0)
			line[0] = '\0';
		fclose(fp);
		p = line + strspn(line, " \t");
	}
	if (p[0] == '\0')
		return true;
	if ((x->f->origin = strndup(p, strcspn(p, " \t#"))) == NULL)
		return why_set(x->why, x->whylen, "out of memory");
	return true;
}

static bool read_postfix(const struct pg_config *cfg, struct mtafacts *f, char *why, size_t whylen)
{
	char *argv[4 + PC_N + 1] = {"postconf", "-c", (char *)cfg->relay.postfix_dir, "-xh"};
	char *out, *values[PC_N];
	struct pf_ctx x = {cfg, f, false, NULL, why, whylen};
	bool ok = true;

	for (size_t i = 0; i < PC_N; i++)
		argv[4 + i] = (char *)postconf_names[i];
	argv[4 + PC_N] = NULL;
	if (!mtafacts_run(argv, MTAFACTS_TIMEOUT_MS, MTAFACTS_OUTPUT_MAX, &out, why, whylen))
		return false;
	if (!mtafacts_postconf_lines(out, values, PC_N)) {
		free(out);
		return why_set(why, whylen, "postconf -c %s -xh: expected %d lines of output",
		               cfg->relay.postfix_dir, PC_N);
	}
	for (size_t i = 0; ok && i < PC_NDOMAIN_LISTS + 1; i++) {
		x.name = postconf_names[i];
		x.nets = i == PC_NETWORKS;
		ok = pf_list(&x, values[i], 0);
	}
	if (ok)
		ok = pf_origin(&x, values[PC_ORIGIN], values[PC_APPEND]);
	free(out);
	return ok;
}

/* ---- Sendmail ---- */

/* Words of s into f->domains. */
static bool add_words(struct mtafacts *f, const char *s)
{
	while (*(s += strspn(s, " \t")) != '\0') {
		size_t len = strcspn(s, " \t");
		if (!push(&f->domains, &f->ndomains, s, len))
			return false;
		s += len;
	}
	return true;
}

/* "Cw", "C{w}", "CR", "C{R}" / "Fw", ...: the class letter after the command, and
 * where the rest starts; 0 for another class. */
static const char *sm_class(const char *line)
{
	const char *p = line + 1;

	if (p[0] == '{' && (p[1] == 'w' || p[1] == 'R') && p[2] == '}')
		return p + 3;
	if (p[0] == 'w' || p[0] == 'R')
		return p + 1;
	return NULL;
}

bool mtafacts_sendmail_line(const char *line, struct mtafacts *f, char **j, char **m, char **files,
                            bool *optional, size_t *nfiles, size_t maxfiles, char *why,
                            size_t whylen)
{
	const char *rest;

	if ((line[0] == 'D') && (line[1] == 'j' || line[1] == 'm')) {
		char **slot = line[1] == 'j' ? j : m;
		const char *v = line + 2;
		if (strchr(v, '$') != NULL || *v == '\0')
			return true; /* computed by sendmail at run time: unknown here */
		free(*slot);
		if ((*slot = strndup(v, strcspn(v, " \t"))) == NULL)
			return why_set(why, whylen, "out of memory");
		return true;
	}
	if (line[0] == 'C' && (rest = sm_class(line)) != NULL)
		return add_words(f, rest) ? true : why_set(why, whylen, "out of memory");
	if (line[0] != 'F' || (rest = sm_class(line)) == NULL)
		return true;
	rest += strspn(rest, " \t");
	bool opt = strncmp(rest, "-o", 2) == 0;
	if (opt)
		rest += 2 + strspn(rest + 2, " \t");
	if (rest[0] != '/')
		return why_set(why, whylen,
		               "\"%.100s\": a class read from a program or a non-absolute path "
		               "cannot be listed; list those domains in relay.local_domains_file",
		               line);
	if (*nfiles >= maxfiles)
		return why_set(why, whylen, "more than %zu class files", maxfiles);
	if ((files[*nfiles] = strndup(rest, strcspn(rest, " \t"))) == NULL)
		return why_set(why, whylen, "out of memory");
	optional[(*nfiles)++] = opt;
	return true;
}

static bool read_sendmail(const struct pg_config *cfg, struct mtafacts *f, char *why, size_t whylen)
{
	enum { MAXFILES = 16 };
	char line[MTAFACTS_LINE_MAX + 2], *j = NULL, *m = NULL, *files[MAXFILES];
	const char *cf = cfg->relay.sendmail_cf;
	bool optional[MAXFILES], ok = true;
	size_t nfiles = 0;
	unsigned lineno = 0;
	FILE *fp;
	int rc;

	if ((fp = fopen(cf, "r")) == NULL)
		return why_set(why, whylen, "Sendmail: cannot read \"%s\": %s", cf,
		               strerror(errno));
	while (ok && (rc = get_line(fp, line, sizeof line)) != 0) {
		char reason[256];
		lineno++;
		if (rc < 0)
			ok = why_set(why, whylen, "%s:%u: line longer than %d bytes", cf, lineno,
			             MTAFACTS_LINE_MAX);
		else if (!mtafacts_sendmail_line(line, f, &j, &m, files, optional, &nfiles,
		                                 MAXFILES, reason, sizeof reason))
			ok = why_set(why, whylen, "%s:%u: %s", cf, lineno, reason);
	}
	fclose(fp);
	for (size_t i = 0; i < nfiles; i++) {
		FILE *cl;
		if (ok && (cl = fopen(files[i], "r")) == NULL) {
			if (!optional[i] || errno != ENOENT)
				ok = why_set(why, whylen, "Sendmail (%s): cannot read \"%s\": %s",
				             cf, files[i], strerror(errno));
			cl = NULL;
		} else if (!ok) {
			cl = NULL;
		}
		for (lineno = 0; cl != NULL && ok && (rc = get_line(cl, line, sizeof line)) != 0;) {
			lineno++;
			*strchrnul(line, '#') = '\0';
			if (rc < 0)
				ok = why_set(why, whylen, "%s:%u: line longer than %d bytes",
				             files[i], lineno, MTAFACTS_LINE_MAX);
			else if (!add_words(f, line))
				ok = why_set(why, whylen, "out of memory");
		}
		if (cl != NULL)
			fclose(cl);
		free(files[i]);
	}
	/* sendmail puts $j into class w itself; unqualified addresses get $j. */
	if (ok && j != NULL && !push(&f->domains, &f->ndomains, j, strlen(j)))
		ok = why_set(why, whylen, "out of memory");
	if (ok && j != NULL)
		f->origin = j, j = NULL;
	free(j);
	free(m);
	return ok;
}

int mtafacts_kind(const struct pg_config *cfg, char *why, size_t whylen)
{
	char main_cf[sizeof cfg->relay.postfix_dir + 16];

	if (cfg->relay.from_mta != PG_MTA_AUTO)
		return cfg->relay.from_mta;
	snprintf(main_cf, sizeof main_cf, "%s/main.cf", cfg->relay.postfix_dir);
	if (access(main_cf, F_OK) == 0)
		return PG_MTA_POSTFIX;
	if (access(cfg->relay.sendmail_cf, F_OK) == 0)
		return PG_MTA_SENDMAIL;
	why_set(why, whylen,
	        "\"auto\" found neither Postfix (%s) nor Sendmail (%s): set "
	        "relay.postfix_config_directory or relay.sendmail_cf to where the MTA's "
	        "configuration is, or set relay.from_mta = \"none\" and list the local domains "
	        "in relay.local_domains or relay.local_domains_file",
	        main_cf, cfg->relay.sendmail_cf);
	return -1;
}

bool mtafacts_read(const struct pg_config *cfg, struct mtafacts *f, char *why, size_t whylen)
{
	memset(f, 0, sizeof *f);
	switch (mtafacts_kind(cfg, why, whylen)) {
	case PG_MTA_POSTFIX:
		return read_postfix(cfg, f, why, whylen);
	case PG_MTA_SENDMAIL:
		return read_sendmail(cfg, f, why, whylen);
	case PG_MTA_NONE:
		return true;
	default:
		return false;
	}
}

/* ---- merging ---- */

/* "a", "b", "c" (+N more) of v[0..n) into buf. */
static void name_some(char **v, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < MAX_SHOWN && used + 1 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "", v[i]);
	if (n > MAX_SHOWN && used + 1 < len)
		snprintf(buf + used, len - used, " (+%zu more)", n - MAX_SHOWN);
}

/* Items of a not in b (both sorted), into out (pointers into a). */
static size_t minus(char **a, size_t na, char **b, size_t nb, char **out)
{
	size_t n = 0;

	for (size_t i = 0, k = 0; i < na; i++) {
		while (k < nb && strcmp(b[k], a[i]) < 0)
			k++;
		if (k >= nb || strcmp(b[k], a[i]) != 0)
			out[n++] = a[i];
	}
	return n;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A sorted, de-duplicated copy (pointers into v). */
static size_t sorted(char **v, size_t n, char **out)
{
	size_t m = 0;

	if (n == 0)
		return 0;
	memcpy(out, v, n * sizeof *v);
	qsort(out, n, sizeof *out, cmp_str);
	for (size_t i = 0; i < n; i++)
		if (m == 0 || strcmp(out[m - 1], out[i]) != 0)
			out[m++] = out[i];
	return m;
}

/* The domains of relay as the config spells them (".x" for parents), malloc'd;
 * with borrow, the first r->domains.count are relay's own strings, not copies
 * (a reload diffs two lists of a million: copies would cost 64 MB more). */
static bool relay_domains(const struct pg_relay *r, bool borrow, char ***v, size_t *n)
{
	*v = NULL;
	*n = 0;
	if (borrow && r->domains.count > 0) {
		/* push() assumes room up to the next power of two: there is */
		if ((*v = malloc((r->domains.count + r->parents.count) * sizeof **v)) == NULL)
			return false;
		memcpy(*v, r->domains.items, r->domains.count * sizeof **v);
		*n = r->domains.count;
	}
	for (size_t i = 0; !borrow && i < r->domains.count; i++)
		if (!push(v, n, r->domains.items[i], strlen(r->domains.items[i])))
			return false;
	for (size_t i = 0; i < r->parents.count; i++) {
		char buf[RELAY_DOMAIN_BUF + 1];
		snprintf(buf, sizeof buf, ".%s", r->parents.items[i]);
		if (!push(v, n, buf, strlen(buf)))
			return false;
	}
	return true;
}

static void net_text(const struct pg_net *net, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(net->family, net->addr, a, sizeof a);
	snprintf(buf, len, "%s/%u", a, net->prefix);
}

static bool relay_nets(const struct pg_relay *r, char ***v, size_t *n)
{
	*v = NULL;
	*n = 0;
	for (size_t i = 0; i < r->nnets; i++) {
		char buf[64];
		net_text(&r->nets[i], buf, sizeof buf);
		if (!push(v, n, buf, strlen(buf)))
			return false;
	}
	return true;
}

/* How two lists differ: their sizes without duplicates, how many entries of
 * each the other lacks, and a few of them named. */
struct diff {
	size_t na, nb, only_a, only_b;
	char named_a[512], named_b[512];
};

static bool diff_lists(char **a, size_t na, char **b, size_t nb, struct diff *d)
{
	char **sa = malloc((na + 1) * sizeof *sa), **sb = malloc((nb + 1) * sizeof *sb);
	char **oa = malloc((na + 1) * sizeof *oa), **ob = malloc((nb + 1) * sizeof *ob);
	bool ok = sa != NULL && sb != NULL && oa != NULL && ob != NULL;

	if (ok) {
		d->na = sorted(a, na, sa);
		d->nb = sorted(b, nb, sb);
		d->only_a = minus(sa, d->na, sb, d->nb, oa);
		d->only_b = minus(sb, d->nb, sa, d->na, ob);
		name_some(oa, d->only_a, d->named_a, sizeof d->named_a);
		name_some(ob, d->only_b, d->named_b, sizeof d->named_b);
	}
	free(sa);
	free(sb);
	free(oa);
	free(ob);
	return ok;
}

/* Warn about what one side lists and the other does not (nothing when
 * portguard lists nothing by hand: then it uses the MTA's lists alone). */
static void warn_drift(const char *what, const char *mta, char **mine, size_t nmine, char **theirs,
                       size_t ntheirs)
{
	struct diff d;

	if (nmine == 0 || !diff_lists(mine, nmine, theirs, ntheirs, &d))
		return;
	if (d.only_a > 0)
		log_warnx("relay: %s listed in portguard's configuration but not by %s: %s", what,
		          mta, d.named_a);
	if (d.only_b > 0)
		log_warnx("relay: %s listed by %s but not in portguard's configuration "
		          "(portguard uses them too): %s",
		          what, mta, d.named_b);
}

bool mtafacts_apply(struct pg_config *cfg, const config_setting_t *root, char *err, size_t errlen)
{
	static const char *const mta_names[] = {"none", "Postfix", "Sendmail"};
	struct pg_relay *r = &cfg->relay;
	const config_setting_t *at =
	    root != NULL ? config_setting_lookup((config_setting_t *)root, "relay.from_mta") : NULL;
	unsigned line = at != NULL ? config_setting_source_line(at) : 0;
	const char *mta;
	struct mtafacts f = {0};
	char why[1024];
	bool ok = true;
	int kind;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		if (line > 0)                                                                      \
			snprintf(err, errlen, "%s:%u: relay.from_mta: %s", cfg->path, line, why);  \
		else                                                                               \
			snprintf(err, errlen, "%s: relay.from_mta: %s", cfg->path, why);           \
	} while (0)

	kind = mtafacts_kind(cfg, why, sizeof why);
	mta = mta_names[kind >= 0 ? kind : 0];
	if (kind < 0 || !mtafacts_read(cfg, &f, why, sizeof why)) {
		FAIL();
		mtafacts_clear(&f);
		return false;
	}
	if (kind > PG_MTA_NONE) {
		char **mine = NULL, **nets = NULL;
		size_t nmine = 0, nnets = 0;
		/* Normalise the MTA's spelling; the hand lists are already normal. */
		for (size_t i = 0; ok && i < f.ndomains; i++) {
			char d[RELAY_DOMAIN_BUF], dot[RELAY_DOMAIN_BUF + 1];
			bool parent;
			if (!relay_domain_normalise(f.domains[i], d, &parent, why, sizeof why)) {
				char tmp[sizeof why + 160];
				snprintf(tmp, sizeof tmp, "%s local domain \"%.100s\": %s", mta,
				         f.domains[i], why);
				snprintf(why, sizeof why, "%.1000s", tmp);
				ok = false;
				break;
			}
			snprintf(dot, sizeof dot, "%s%s", parent ? "." : "", d);
			free(f.domains[i]);
			if ((f.domains[i] = strdup(dot)) == NULL)
				ok = why_set(why, sizeof why, "out of memory");
		}
		for (size_t i = 0; ok && i < f.nnets; i++) {
			struct pg_net net;
			char buf[64];
			if (!relay_net_parse(f.nets[i], &net)) {
				ok = why_set(why, sizeof why,
				             "%s network \"%.100s\" is not understood", mta,
				             f.nets[i]);
				break;
			}
			net_text(&net, buf, sizeof buf);
			free(f.nets[i]);
			if ((f.nets[i] = strdup(buf)) == NULL)
				ok = why_set(why, sizeof why, "out of memory");
		}
		if (ok &&
		    (!relay_domains(r, false, &mine, &nmine) || !relay_nets(r, &nets, &nnets)))
			ok = why_set(why, sizeof why, "out of memory");
		if (ok) {
			warn_drift("local domains", mta, mine, nmine, f.domains, f.ndomains);
			if (kind == PG_MTA_POSTFIX)
				warn_drift("trusted networks", "Postfix (mynetworks)", nets, nnets,
				           f.nets, f.nnets);
		}
		free_list(mine, nmine);
		free_list(nets, nnets);
		/* merge, as the config's lists are added */
		for (size_t i = 0; ok && i < f.ndomains; i++)
			ok = relay_domain_add(r, f.domains[i], why, sizeof why);
		for (size_t i = 0; ok && i < f.nnets; i++)
			ok = relay_net_add(r, f.nets[i], why, sizeof why);
		if (ok && f.origin != NULL) {
			char d[RELAY_DOMAIN_BUF];
			bool parent;
			if (!relay_domain_normalise(f.origin, d, &parent, why, sizeof why) ||
			    parent) {
				char tmp[sizeof why + 160];
				snprintf(tmp, sizeof tmp, "%s origin domain \"%.100s\": %s", mta,
				         f.origin, parent ? "starts with a dot" : why);
				snprintf(why, sizeof why, "%.1000s", tmp);
				ok = false;
			} else {
				if (r->origin_domain != NULL && r->origin_domain[0] != '\0' &&
				    strcmp(r->origin_domain, d) != 0)
					log_warnx(
					    "relay: origin domain \"%s\" in portguard's "
					    "configuration differs from %s's \"%s\"; using %s's",
					    r->origin_domain, mta, d, mta);
				free((char *)r->origin_domain);
				if ((r->origin_domain = strdup(d)) == NULL)
					ok = why_set(why, sizeof why, "out of memory");
			}
		}
	}
	mtafacts_clear(&f);
	if (!ok) {
		FAIL();
		return false;
	}
	return true;
#undef FAIL
}

bool mtafacts_check_domains(const struct pg_config *cfg, char *err, size_t errlen)
{
	if (cfg->relay.domains.count + cfg->relay.parents.count > 0)
		return true;
	for (size_t i = 0; i < cfg->nports; i++) {
		const struct pg_port *p = &cfg->ports[i];
		char port[96];
		if (p->role != PG_ROLE_RELAY || p->mode != PG_MODE_ENFORCE)
			continue;
		if (p->port != 0)
			snprintf(port, sizeof port, "port %u", p->port);
		else
			snprintf(port, sizeof port, "port \"%s\"", p->name);
		char where[32] = "";
		if (p->line > 0)
			snprintf(where, sizeof where, ":%u", p->line);
		snprintf(err, errlen,
		         "%s%s: no local domain is known, yet %s (role relay, mode enforce) "
		         "would refuse every inbound message as relaying: set relay.from_mta = "
		         "\"postfix\" or \"sendmail\" to take them from the MTA, list them in "
		         "relay.local_domains or relay.local_domains_file, or set mode = "
		         "\"monitor\" while you check",
		         cfg->path, where, port);
		return false;
	}
	return true;
}

bool mtafacts_set_path(struct config_loader *ld, const struct config_key *k,
                       const config_setting_t *v, const char *s, void *obj)
{
	size_t n = strlen(s);

	if (s[0] != '/')
		return config_fail(ld, k, v, "\"%s\": must be an absolute path", s);
	if (n >= k->size)
		return config_fail(ld, k, v, "\"%.60s...\": is %zu bytes long; the limit is %zu", s,
		                   n, k->size - 1);
	memcpy((char *)obj + k->off, s, n + 1);
	return true;
}

/* ---- reload ---- */

static void log_change(const char *what, char **a, size_t na, char **b, size_t nb)
{
	struct diff d;

	if (diff_lists(a, na, b, nb, &d) && d.only_a + d.only_b > 0)
		log_notice("reload: %s %zu -> %zu; added %zu%s%s; removed %zu%s%s", what, d.na,
		           d.nb, d.only_b, d.only_b ? ": " : "", d.named_b, d.only_a,
		           d.only_a ? ": " : "", d.named_a);
}

void mtafacts_log_changes(const struct pg_config *old, const struct pg_config *fresh)
{
	char **a = NULL, **b = NULL;
	size_t na = 0, nb = 0;

	if (relay_domains(&old->relay, true, &a, &na) &&
	    relay_domains(&fresh->relay, true, &b, &nb))
		log_change("local domains", a, na, b, nb);
	for (size_t i = old->relay.domains.count; i < na; i++)
		free(a[i]); /* the parents: the domains are borrowed */
	for (size_t i = fresh->relay.domains.count; i < nb; i++)
		free(b[i]);
	free(a);
	free(b);
	a = b = NULL;
	na = nb = 0;
	if (relay_nets(&old->relay, &a, &na) && relay_nets(&fresh->relay, &b, &nb))
		log_change("trusted networks", a, na, b, nb);
	free_list(a, na);
	free_list(b, nb);
}
