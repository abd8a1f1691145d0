/*
 * service.c - the milter's two helper threads.
 *
 * The signal thread sigwait()s SIGUSR1 (reload: libmilter owns SIGHUP and
 * treats it as stop) and SIGUSR2 (stats lines now). The timer thread writes
 * the stats lines every log.stats_interval seconds of the current config
 * (0 = never by timer), re-reading the interval after each reload. SIGTERM,
 * SIGINT and SIGHUP stay blocked here and are sigwait()ed by libmilter's own
 * signal thread, which stops smfi_main(); main then calls service_stop()
 * and writes the final stats lines. Stats emission is serialised by one
 * mutex that no callback takes.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "milter.h"

static pthread_t sig_thread, timer_thread;
static bool threads_started;

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static bool stopping;
static bool timer_rearm;

static pthread_mutex_t emit_lock = PTHREAD_MUTEX_INITIALIZER;

static void emit_stats(void)
{
	pthread_mutex_lock(&emit_lock);
	stats_emit(time(NULL), true);
	pthread_mutex_unlock(&emit_lock);
}

void service_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static void *signal_main(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		pthread_mutex_lock(&timer_lock);
		bool stop = stopping;
		pthread_mutex_unlock(&timer_lock);
		if (stop)
			break;
		if (sig == SIGUSR1) {
			if (snapshot_reload()) {
				pthread_mutex_lock(&timer_lock);
				timer_rearm = true;
				pthread_cond_signal(&timer_cond);
				pthread_mutex_unlock(&timer_lock);
			}
		} else if (sig == SIGUSR2) {
			emit_stats();
		}
	}
	return NULL;
}

static unsigned current_interval(void)
{
	struct pg_config *cfg = snapshot_get();
	unsigned interval = 0;

	if (cfg != NULL) {
		interval = cfg->stats_interval;
		config_release(cfg);
	}
	return interval;
}

static void *timer_main(void *arg)
{
	struct timespec last, deadline;

	(void)arg;
	clock_gettime(CLOCK_MONOTONIC, &last);
	pthread_mutex_lock(&timer_lock);
	while (!stopping) {
		unsigned interval;

		pthread_mutex_unlock(&timer_lock);
		interval = current_interval();
		pthread_mutex_lock(&timer_lock);
		if (stopping)
			break;
		deadline = last;
		/* 0 = never by timer: sleep until a reload or the stop wakes us */
		deadline.tv_sec += interval != 0 ? (time_t)interval : 86400;
		timer_rearm = false;
		while (!stopping && !timer_rearm) {
			int rc = pthread_cond_timedwait(&timer_cond, &timer_lock, &deadline);
			if (rc == ETIMEDOUT)
				break;
		}
		if (stopping || timer_rearm)
			continue;
		if (interval != 0) {
			pthread_mutex_unlock(&timer_lock);
			emit_stats();
			pthread_mutex_lock(&timer_lock);
		}
		clock_gettime(CLOCK_MONOTONIC, &last);
	}
	pthread_mutex_unlock(&timer_lock);
	return NULL;
}

bool service_start(void)
{
	pthread_condattr_t attr;
	int rc;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&timer_cond, &attr);
	pthread_condattr_destroy(&attr);
	rc = pthread_create(&sig_thread, NULL, signal_main, NULL);
	if (rc != 0) {
		log_err("cannot start the signal thread: %s", strerror(rc));
		return false;
	}
	rc = pthread_create(&timer_thread, NULL, timer_main, NULL);
	if (rc != 0) {
		log_err("cannot start the stats timer thread: %s", strerror(rc));
		return false;
	}
	threads_started = true;
	return true;
}

void service_stop(void)
{
	if (!threads_started)
		return;
	pthread_mutex_lock(&timer_lock);
	stopping = true;
	pthread_cond_signal(&timer_cond);
	pthread_mutex_unlock(&timer_lock);
	pthread_join(timer_thread, NULL);
	pthread_kill(sig_thread, SIGUSR1);
	pthread_join(sig_thread, NULL);
	threads_started = false;
	emit_stats();
}
