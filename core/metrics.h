/*
 * metrics.h - the Prometheus textfile of both daemons (opt-in).
 *
 * With metrics_file set, the daemon writes the counters since its start
 * (stats_totals()) in Prometheus's text exposition format every
 * metrics_interval seconds and once more at stop, into a temporary file
 * that is then renamed over metrics_file, so node_exporter's textfile
 * collector never reads half a file. Counting stays as it is (atomic adds
 * in memory); only the writer touches the disk, never a request. Both
 * daemons write the same families, told apart by the daemon label.
 *
 * Who writes when: policyd's event loop calls metrics_tick() on each pass
 * and sleeps no longer than it says; the milter lets metrics_start() run a
 * thread that does the same.
 */
#ifndef PG_METRICS_H
#define PG_METRICS_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* After the privilege drop and any fork: remember the start time and the
 * daemon ("policyd", "milter") and take cfg's metrics keys. milter: the
 * milter, which counts sessions and has a thread (every signal blocked)
 * call metrics_tick(). false: no thread (logged); metrics_tick() still
 * works. */
bool metrics_start(const struct pg_config *cfg, const char *daemon, bool milter);
/* Write the file if it is due. Returns the milliseconds until the next
 * write is due, or -1 when no metrics_file is set. */
long metrics_tick(void);
/* A reload: the file and interval of the new config (its first write one
 * interval later); counted as a successful reload. */
void metrics_reloaded(const struct pg_config *fresh);
/* A reload that failed: counted. */
void metrics_reload_failed(void);
/* Stop the thread, if any, and write the file a last time (call after the
 * final stats lines). */
void metrics_stop(void);
/* The exposition text, into f; false on a write error. */
bool metrics_print(FILE *f);
/* Write metrics_file now (temporary file, then rename); false: not set, or
 * failed (logged once until it works again). */
bool metrics_write(void);

#endif
