/*
 * metrics.c - the Prometheus textfile of both daemons (opt-in).
 *
 * Input: stats_totals() (the counters since the start, taken under the
 * stats lock so that no total ever goes down), the reload counts kept here,
 * the start time and the version. Output: metrics_file, in Prometheus's
 * text exposition format, written to metrics_file.tmp and renamed over it
 * (node_exporter's textfile collector reads only *.prom, so it never sees
 * the temporary file, and never half a file). Names follow Prometheus's
 * naming guidance: portguard_ prefix, _total on counters, seconds; every
 * per-port series carries daemon, port and role labels. The help texts are
 * the same in both daemons, so node_exporter can merge their two files.
 *
 * When: due at start, then every metrics_interval seconds of the config in
 * force, and at stop. metrics_tick() writes when due and says how long the
 * caller may sleep (policyd's loop); the milter's thread calls it. The
 * keys and the schedule are under one mutex; a failed write is logged once
 * until a write succeeds again. Nothing here runs on a request's path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "version.h"

#define METRICS_IDLE_MS 3600000L /* the thread's nap when no file is set */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	bool thread_running, stopping, milter;
	char path[sizeof((struct pg_config *)0)->metrics_file];
	unsigned interval;    /* seconds */
	struct timespec next; /* CLOCK_MONOTONIC: the next write is due */
	const char *daemon;
	time_t started;
	int failed; /* errno of the failed write already logged; 0: none */
	_Atomic unsigned long reloads_ok, reloads_failed;
} M = {.lock = PTHREAD_MUTEX_INITIALIZER, .daemon = "-"};

/* ---- the exposition text ---- */

/* Per-port counters that are one field of struct stats_total. */
static const struct {
	const char *name, *help;
	size_t off;
	bool milter_only;
} metrics_simple[] = {
    {"portguard_sessions_total", "SMTP sessions the milter saw, counted when they end.",
     offsetof(struct stats_total, sessions), true},
    {"portguard_transactions_total", "Mail transactions (MAIL FROM) portguard decided on.",
     offsetof(struct stats_total, transactions), false},
    {"portguard_recipients_total", "Recipients (RCPT TO) portguard decided on.",
     offsetof(struct stats_total, recipients), false},
    {"portguard_plaintext_total", "Sessions (milter) or transactions (policyd) without TLS.",
     offsetof(struct stats_total, plaintext), false},
    {"portguard_auth_total",
     "Sessions (milter) or transactions (policyd) that authenticated with SASL.",
     offsetof(struct stats_total, auth), false},
    {"portguard_auth_plaintext_total",
     "Sessions (milter) or transactions (policyd) that authenticated without TLS.",
     offsetof(struct stats_total, auth_plaintext), false},
};

static const char *const metrics_tls_names[STATS_TLS_BUCKETS] = {"TLSv1.3", "TLSv1.2", "TLSv1.1",
                                                                 "TLSv1.0", "other"};

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the format wants (backslash, quote, newline). */
static void label_value(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* name{daemon,port,role[,key=value]} v */
static void series(FILE *f, const char *name, const struct stats_total *t, const char *key,
                   const char *value, unsigned long v)
{
	fprintf(f, "%s{daemon=\"%s\",port=\"", name, M.daemon);
	label_value(f, t->port);
	fprintf(f, "\",role=\"%s\"", t->role);
	if (key != NULL)
		fprintf(f, ",%s=\"%s\"", key, value);
	fprintf(f, "} %lu\n", v);
}

static void by_rule(FILE *f, const char *name, const char *help, const struct stats_total *t,
                    size_t n, bool would)
{
	family(f, name, "counter", help);
	for (size_t i = 0; i < n; i++)
		for (int r = PG_RULE_NONE + 1; r < PG_RULE_COUNT; r++)
			series(f, name, &t[i], "rule", config_rule_name((enum pg_rule)r),
			       would ? t[i].would[r] : t[i].refused[r]);
}

bool metrics_print(FILE *f)
{
	struct stats_total *t = calloc(PG_STATS_SLOTS + 1, sizeof *t);
	size_t n;

	if (t == NULL)
		return false;
	n = stats_totals(t, PG_STATS_SLOTS + 1);
	family(f, "portguard_build_info", "gauge", "portguard's version; the value is always 1.");
	fprintf(f, "portguard_build_info{daemon=\"%s\",version=\"%s\"} 1\n", M.daemon, PG_VERSION);
	family(f, "portguard_start_time_seconds", "gauge",
	       "When the daemon started, in seconds since the Unix epoch.");
	fprintf(f, "portguard_start_time_seconds{daemon=\"%s\"} %lld\n", M.daemon,
	        (long long)M.started);
	family(f, "portguard_config_reloads_total", "counter", "Configuration reloads, by result.");
	fprintf(f, "portguard_config_reloads_total{daemon=\"%s\",result=\"success\"} %lu\n",
	        M.daemon, atomic_load(&M.reloads_ok));
	fprintf(f, "portguard_config_reloads_total{daemon=\"%s\",result=\"failure\"} %lu\n",
	        M.daemon, atomic_load(&M.reloads_failed));
	for (size_t k = 0; k < sizeof metrics_simple / sizeof metrics_simple[0]; k++) {
		if (metrics_simple[k].milter_only && !M.milter)
			continue;
		family(f, metrics_simple[k].name, "counter", metrics_simple[k].help);
		for (size_t i = 0; i < n; i++)
			series(f, metrics_simple[k].name, &t[i], NULL, NULL,
			       *(const unsigned long *)(const void *)((const char *)&t[i] +
			                                              metrics_simple[k].off));
	}
	family(f, "portguard_tls_total", "counter",
	       "Sessions (milter) or transactions (policyd) with TLS, by TLS version.");
	for (size_t i = 0; i < n; i++)
		for (int v = 0; v < STATS_TLS_BUCKETS; v++)
			series(f, "portguard_tls_total", &t[i], "version", metrics_tls_names[v],
			       t[i].tls[v]);
	by_rule(f, "portguard_refusals_total", "Refusals portguard made, by rule.", t, n, false);
	by_rule(f, "portguard_would_refusals_total",
	        "Refusals portguard would have made in monitor mode, by rule.", t, n, true);
	free(t);
	return fflush(f) == 0 && !ferror(f);
}

/* ---- the file ---- */

/* A failed step: logged once until a write succeeds again. */
static bool write_failed(const char *path, const char *step, int err)
{
	pthread_mutex_lock(&M.lock);
	bool first = M.failed != err;
	M.failed = err;
	pthread_mutex_unlock(&M.lock);
	if (first)
		log_warnx("metrics file %s: %s: %s; trying again at the next interval", path, step,
		          strerror(err));
	return false;
}

bool metrics_write(void)
{
	char path[sizeof M.path], tmp[sizeof M.path + 8];
	int fd, err;
	FILE *f;
	bool ok;

	pthread_mutex_lock(&M.lock);
	memcpy(path, M.path, sizeof path);
	pthread_mutex_unlock(&M.lock);
	if (path[0] == '\0')
		return false;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return write_failed(path, "open", errno);
	/* readable by node_exporter whatever the umask */
	(void)fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (f == NULL) {
		err = errno;
		(void)close(fd);
		(void)unlink(tmp);
		return write_failed(path, "fdopen", err);
	}
	ok = metrics_print(f);
	err = errno;
	if (fclose(f) != 0 && ok) {
		ok = false;
		err = errno;
	}
	if (!ok) {
		(void)unlink(tmp);
		return write_failed(path, "write", err != 0 ? err : EIO);
	}
	if (rename(tmp, path) != 0) {
		err = errno;
		(void)unlink(tmp);
		return write_failed(path, "rename", err);
	}
	pthread_mutex_lock(&M.lock);
	if (M.failed != 0)
		log_notice("metrics file %s: written again", path);
	M.failed = 0;
	pthread_mutex_unlock(&M.lock);
	return true;
}

/* ---- the schedule ---- */

static struct timespec mono_after(long ms)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Take the keys of cfg; the next write is due after delay_ms. Caller holds M.lock. */
static void take_config(const struct pg_config *cfg, long delay_ms)
{
	memcpy(M.path, cfg->metrics_file, sizeof M.path);
	M.interval = cfg->metrics_interval > 0 ? cfg->metrics_interval : 1;
	M.next = mono_after(delay_ms);
}

long metrics_tick(void)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&M.lock);
	if (M.path[0] == '\0') {
		pthread_mutex_unlock(&M.lock);
		return -1;
	}
	ms = (long)(M.next.tv_sec - now.tv_sec) * 1000 + (M.next.tv_nsec - now.tv_nsec) / 1000000L;
	if (ms > 0) {
		pthread_mutex_unlock(&M.lock);
		return ms;
	}
	ms = (long)M.interval * 1000;
	M.next = mono_after(ms);
	pthread_mutex_unlock(&M.lock);
	(void)metrics_write();
	return ms;
}

static void *metrics_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&M.lock);
	while (!M.stopping) {
		pthread_mutex_unlock(&M.lock);
		long ms = metrics_tick();
		pthread_mutex_lock(&M.lock);
		if (M.stopping)
			break;
		struct timespec until = mono_after(ms < 0 ? METRICS_IDLE_MS : ms);
		/* woken early by a reload or the stop */
		(void)pthread_cond_timedwait(&M.cond, &M.lock, &until);
	}
	pthread_mutex_unlock(&M.lock);
	return NULL;
}

bool metrics_start(const struct pg_config *cfg, const char *daemon, bool milter)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	int rc;

	pthread_mutex_lock(&M.lock);
	M.daemon = daemon;
	M.milter = milter;
	M.started = time(NULL);
	M.stopping = false;
	take_config(cfg, 0);
	pthread_mutex_unlock(&M.lock);
	if (!milter)
		return true;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&M.cond, &attr);
	pthread_condattr_destroy(&attr);
	/* the daemon's signals stay with the threads that wait for them */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&M.thread, NULL, metrics_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		log_err("cannot start the metrics thread: %s", strerror(rc));
		return false;
	}
	M.thread_running = true;
	return true;
}

void metrics_reloaded(const struct pg_config *fresh)
{
	atomic_fetch_add(&M.reloads_ok, 1);
	pthread_mutex_lock(&M.lock);
	take_config(fresh,
	            (long)(fresh->metrics_interval > 0 ? fresh->metrics_interval : 1) * 1000);
	if (M.thread_running)
		pthread_cond_signal(&M.cond);
	pthread_mutex_unlock(&M.lock);
}

void metrics_reload_failed(void)
{
	atomic_fetch_add(&M.reloads_failed, 1);
}

void metrics_stop(void)
{
	if (M.thread_running) {
		pthread_mutex_lock(&M.lock);
		M.stopping = true;
		pthread_cond_signal(&M.cond);
		pthread_mutex_unlock(&M.lock);
		pthread_join(M.thread, NULL);
		M.thread_running = false;
	}
	(void)metrics_write();
}
