/*
 * main.c - portguard-report: syslog files (plain or gzip, rotated ones
 * too), standard input or the systemd journal (the local one, a journal
 * directory or journal files) in; per-port answers out.
 *
 * Reading streams: one fixed buffer per input, lines handed to agg_line()
 * in place (a line longer than the buffer is cut at its end and the rest
 * skipped). Memory is the fixed tables of agg.h whatever the input's size;
 * nothing is allocated per line. Each file has its own clock (year
 * inference from the file's mtime), so rotated files may be given in any
 * order. Exit codes: 0 report written, 64 usage, 66 an input could not be
 * read (the report of the others is still written), 70 internal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <systemd/sd-journal.h>

#include "agg.h"
#include "out.h"
#include "version.h"

#define READ_BUF (1u << 20)
#define LINE_MAX_BYTES 8192

static struct agg the_agg;
static char buf[READ_BUF + 1];

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: portguard-report [options] [FILE...]   (no FILE or \"-\": standard input)\n"
	        "  --journal             read the systemd journal instead of files\n"
	        "  --journal-directory DIR  read the journal files in DIR (journalctl -D)\n"
	        "  --journal-file FILE   read this journal file (repeatable; journalctl --file)\n"
	        "  --since T, --until T  only lines in [T, T): RFC 3339, \"YYYY-MM-DD[ HH:MM[:SS]]\",\n"
	        "                        \"Mmm dd hh:mm:ss\", today, yesterday\n"
	        "  --host NAME           only lines of this syslog host\n"
	        "  --daemon LIST         only these programs: postfix,sendmail,policyd,milter\n"
	        "  --by hour|day         one row per port and hour or day\n"
	        "  --master-cf FILE      Postfix's master.cf, to map syslog names to ports\n"
	        "                        (default /etc/postfix/master.cf when readable; \"\": none)\n"
	        "  --port-map NAME=PORT[,NAME=PORT...]  a syslog name (postfix/submission) or a\n"
	        "                        Sendmail daemon name (MTA) as a port\n"
	        "  --json, --csv         machine-readable output (default: text)\n"
	        "  -V, --version         print the version;  -h, --help  this text\n");
}

/* ------------------------------------------------------------ reading */

struct source {
	int fd;
	gzFile gz;
};

static long source_read(struct source *s, char *dst, size_t n)
{
	if (s->gz != NULL) {
		int r = gzread(s->gz, dst, (unsigned)n);
		return r;
	}
	ssize_t r;
	do
		r = read(s->fd, dst, n);
	while (r < 0 && errno == EINTR);
	return (long)r;
}

static void one_line(struct rp_clock *c, const char *s, size_t n)
{
	struct rp_line l;

	if (n > LINE_MAX_BYTES)
		n = LINE_MAX_BYTES;
	if (rp_line_parse(c, s, n, &l) && l.prog != RP_PROG_OTHER)
		agg_line(&the_agg, &l);
	else
		the_agg.lines++;
}

/* Every line of s, the last one without its newline too. */
static bool read_stream(struct source *s, struct rp_clock *c, const char *name)
{
	size_t have = 0;
	bool skipping = false;

	for (;;) {
		long r = source_read(s, buf + have, READ_BUF - have);
		if (r < 0) {
			fprintf(stderr, "portguard-report: %s: read error\n", name);
			return false;
		}
		if (r == 0)
			break;
		size_t end = have + (size_t)r, start = 0;
		for (;;) {
			char *nl = memchr(buf + start, '\n', end - start);
			if (nl == NULL)
				break;
			if (!skipping)
				one_line(c, buf + start, (size_t)(nl - buf - (long)start));
			skipping = false;
			start = (size_t)(nl - buf) + 1;
		}
		have = end - start;
		if (have == READ_BUF) { /* one line fills the buffer: keep its start only */
			if (!skipping)
				one_line(c, buf, have);
			skipping = true;
			have = 0;
		} else if (start > 0 && have > 0) {
			memmove(buf, buf + start, have);
		}
	}
	if (have > 0 && !skipping)
		one_line(c, buf, have);
	return true;
}

static bool read_file(const char *path)
{
	struct source s = {.fd = -1, .gz = NULL};
	struct rp_clock c = {0};
	unsigned char magic[2];
	struct stat st;
	bool ok;

	if (strcmp(path, "-") == 0) {
		c.ref = (long long)time(NULL);
		s.gz = gzdopen(dup(STDIN_FILENO), "rb"); /* gzip or not */
		if (s.gz == NULL)
			return false;
		gzbuffer(s.gz, 1u << 17);
		ok = read_stream(&s, &c, "standard input");
		gzclose(s.gz);
		return ok;
	}
	s.fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0 || fstat(s.fd, &st) != 0) {
		fprintf(stderr, "portguard-report: %s: %s\n", path, strerror(errno));
		if (s.fd >= 0)
			close(s.fd);
		return false;
	}
	c.ref = (long long)st.st_mtime;
	(void)posix_fadvise(s.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	if (pread(s.fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
		s.gz = gzdopen(s.fd, "rb");
		if (s.gz == NULL) {
			close(s.fd);
			return false;
		}
		gzbuffer(s.gz, 1u << 17);
		ok = read_stream(&s, &c, path);
		gzclose(s.gz);
		return ok;
	}
	ok = read_stream(&s, &c, path);
	close(s.fd);
	return ok;
}

/* A journal field's value (after "NAME="), or "". */
static const char *jfield(sd_journal *j, const char *name, char *dst, size_t len)
{
	const void *d;
	size_t n, k = strlen(name);

	dst[0] = '\0';
	if (sd_journal_get_data(j, name, &d, &n) >= 0 && n > k + 1) {
		n -= k + 1;
		if (n >= len)
			n = len - 1;
		memcpy(dst, (const char *)d + k + 1, n);
		dst[n] = '\0';
	}
	return dst;
}

/* The journal as syslog lines with RFC 3339 stamps, through the same parser:
 * the local journal, or the one in dir, or the files (NULL-terminated). */
static bool read_journal(const char *dir, const char **files, long long since)
{
	sd_journal *j;
	struct rp_clock c = {.ref = (long long)time(NULL)};
	char tag[128], pid[32], host[128], msg[LINE_MAX_BYTES], line[LINE_MAX_BYTES + 512];
	int r = dir != NULL        ? sd_journal_open_directory(&j, dir, 0)
	        : files[0] != NULL ? sd_journal_open_files(&j, files, 0)
	                           : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);

	if (r < 0) {
		fprintf(stderr, "portguard-report: journal %s: %s\n",
		        dir != NULL ? dir : files[0] != NULL ? files[0] : "(local)", strerror(-r));
		return false;
	}
	if (since != 0)
		sd_journal_seek_realtime_usec(j, (uint64_t)since * 1000000u);
	while (sd_journal_next(j) > 0) {
		uint64_t usec;
		if (sd_journal_get_realtime_usec(j, &usec) < 0)
			continue;
		jfield(j, "SYSLOG_IDENTIFIER", tag, sizeof tag);
		if (tag[0] == '\0')
			continue;
		if (jfield(j, "SYSLOG_PID", pid, sizeof pid)[0] == '\0')
			jfield(j, "_PID", pid, sizeof pid);
		jfield(j, "_HOSTNAME", host, sizeof host);
		jfield(j, "MESSAGE", msg, sizeof msg);
		time_t tt = (time_t)(usec / 1000000u);
		struct tm tm;
		char stamp[32];
		gmtime_r(&tt, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
		int n = snprintf(line, sizeof line, "%s %s %s[%s]: %s", stamp,
		                 host[0] != '\0' ? host : "-", tag, pid[0] != '\0' ? pid : "0", msg);
		if (n > 0)
			one_line(&c, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	}
	sd_journal_close(j);
	return true;
}

/* ------------------------------------------------------------ options */

static bool daemons_arg(const char *s, unsigned *progs)
{
	static const struct {
		const char *name;
		enum rp_prog prog;
	} names[] = {{"postfix", RP_PROG_POSTFIX},
	             {"sendmail", RP_PROG_SENDMAIL},
	             {"policyd", RP_PROG_POLICYD},
	             {"portguard-policyd", RP_PROG_POLICYD},
	             {"milter", RP_PROG_MILTER},
	             {"portguard-milter", RP_PROG_MILTER}};

	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		bool found = false;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			if (strlen(names[i].name) == n && strncmp(s, names[i].name, n) == 0) {
				*progs |= 1u << names[i].prog;
				found = true;
			}
		if (!found)
			return false;
		s += n;
		if (*s == ',')
			s++;
	}
	return true;
}

static bool portmap_arg(const char *s)
{
	while (*s != '\0') {
		size_t n = strcspn(s, ",");
		const char *eq = memchr(s, '=', n);
		char port[AGG_KEY_MAX];
		if (eq == NULL || eq == s || (size_t)(s + n - eq - 1) >= sizeof port ||
		    eq + 1 == s + n)
			return false;
		snprintf(port, sizeof port, "%.*s", (int)(s + n - eq - 1), eq + 1);
		if (!agg_portmap_add(s, (size_t)(eq - s), port))
			return false;
		s += n;
		if (*s == ',')
			s++;
	}
	return true;
}

int main(int argc, char **argv)
{
	enum { O_JOURNAL = 256, O_JDIR, O_JFILE, O_SINCE, O_UNTIL, O_HOST, O_DAEMON, O_BY, O_MASTER, O_MAP, O_JSON, O_CSV };
	static const struct option opts[] = {
	    {"journal", no_argument, NULL, O_JOURNAL},
	    {"journal-directory", required_argument, NULL, O_JDIR},
	    {"journal-file", required_argument, NULL, O_JFILE},
	    {"since", required_argument, NULL, O_SINCE},
	    {"until", required_argument, NULL, O_UNTIL},
	    {"host", required_argument, NULL, O_HOST},
	    {"daemon", required_argument, NULL, O_DAEMON},
	    {"by", required_argument, NULL, O_BY},
	    {"master-cf", required_argument, NULL, O_MASTER},
	    {"port-map", required_argument, NULL, O_MAP},
	    {"json", no_argument, NULL, O_JSON},
	    {"csv", no_argument, NULL, O_CSV},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	struct agg_opts o = {0};
	enum out_format fmt = OUT_TEXT;
	const char *master = "/etc/postfix/master.cf";
	bool master_given = false, journal = false, ok = true;
	char err[256];
	int ch;
	long long now = (long long)time(NULL);
	const char *maps[32], *jdir = NULL, *jfiles[33] = {NULL};
	int nmaps = 0, njfiles = 0;

	while ((ch = getopt_long(argc, argv, "Vh", opts, NULL)) != -1) {
		switch (ch) {
		case O_JOURNAL:
			journal = true;
			break;
		case O_JDIR:
			jdir = optarg;
			journal = true;
			break;
		case O_JFILE:
			if (njfiles == (int)(sizeof jfiles / sizeof jfiles[0]) - 1) {
				fprintf(stderr, "portguard-report: too many --journal-file options\n");
				return EX_USAGE;
			}
			jfiles[njfiles++] = optarg;
			journal = true;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (!rp_time_arg(optarg, now, ch == O_SINCE ? &o.since : &o.until)) {
				fprintf(stderr, "portguard-report: --%s %s: not a time\n",
				        ch == O_SINCE ? "since" : "until", optarg);
				return EX_USAGE;
			}
			break;
		case O_HOST:
			o.host = optarg;
			break;
		case O_DAEMON:
			if (!daemons_arg(optarg, &o.progs)) {
				fprintf(stderr, "portguard-report: --daemon %s: want postfix, sendmail, "
				                "policyd or milter\n", optarg);
				return EX_USAGE;
			}
			break;
		case O_BY:
			if (strcmp(optarg, "hour") == 0)
				o.by = AGG_BY_HOUR;
			else if (strcmp(optarg, "day") == 0)
				o.by = AGG_BY_DAY;
			else {
				fprintf(stderr, "portguard-report: --by %s: want hour or day\n", optarg);
				return EX_USAGE;
			}
			break;
		case O_MASTER:
			master = optarg;
			master_given = true;
			break;
		case O_MAP:
			if (nmaps == (int)(sizeof maps / sizeof maps[0])) {
				fprintf(stderr, "portguard-report: too many --port-map options\n");
				return EX_USAGE;
			}
			maps[nmaps++] = optarg;
			break;
		case O_JSON:
			fmt = OUT_JSON;
			break;
		case O_CSV:
			fmt = OUT_CSV;
			break;
		case 'V':
			printf("portguard-report %s\n", PG_VERSION);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (journal && optind < argc) {
		fprintf(stderr, "portguard-report: --journal takes no FILE\n");
		return EX_USAGE;
	}
	if (jdir != NULL && njfiles > 0) {
		fprintf(stderr, "portguard-report: --journal-directory or --journal-file, not both\n");
		return EX_USAGE;
	}
	if (master[0] != '\0' && (master_given || access(master, R_OK) == 0) &&
	    !agg_portmap_master_cf(master, err, sizeof err)) {
		fprintf(stderr, "portguard-report: --master-cf %s\n", err);
		return EX_NOINPUT;
	}
	/* Given maps come last: they win over master.cf. */
	for (int i = 0; i < nmaps; i++)
		if (!portmap_arg(maps[i])) {
			fprintf(stderr, "portguard-report: --port-map %s: want NAME=PORT[,...]\n",
			        maps[i]);
			return EX_USAGE;
		}
	agg_init(&the_agg, &o);
	if (journal)
		ok = read_journal(jdir, jfiles, o.since);
	else if (optind == argc)
		ok = read_file("-");
	for (int i = optind; i < argc; i++)
		ok &= read_file(argv[i]);
	agg_finish(&the_agg);
	out_write(stdout, &the_agg, fmt);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "portguard-report: writing the report: %s\n", strerror(errno));
		return EX_IOERR;
	}
	return ok ? EX_OK : EX_NOINPUT;
}
