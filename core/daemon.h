/*
 * daemon.h - the start-up both daemons share: command line, -n, socket
 * specs, privileges, detaching, the pid file and the reload sequence.
 *
 * A front end describes itself in a struct daemon_info and calls these in
 * order: daemon_begin (daemon_options_parse, daemon_config_load),
 * daemon_prepare (daemon_pidfile_check, daemon_creds_resolve), binds its
 * sockets (daemon_sockspec_parse, daemon_socket_perms), daemon_settle
 * (daemon_detach, daemon_pidfile_write, daemon_drop), daemon_ready; on SIGHUP/SIGUSR1
 * daemon_reload; at exit daemon_end. No sockets are opened here and nothing here knows libmilter or
 * the event loop. Every function that can fail has logged why and returns a sysexits(3) code (EX_OK
 * on success); the same failure gets the same words and the same code in both daemons.
 */
#ifndef PG_DAEMON_H
#define PG_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "config.h"
#include "log.h"
#include "pg_limits.h"

struct daemon_info {
	const char *name;    /* program name: usage, messages, syslog ident */
	const char *section; /* its config section: "policyd" or "milter" */
	size_t max_listen;   /* how many -p options it takes */
};

struct daemon_options {
	char *config_path;                 /* absolute when it can be resolved; malloc'd */
	bool foreground;                   /* -f */
	bool to_stderr;                    /* -e */
	bool check_only;                   /* -n */
	const char *listen[PG_MAX_LISTEN]; /* -p, replaces the config's */
	size_t nlisten;
	const char *pid_file; /* -P, NULL: none */
};

/* Parse argv (getopt state is reset first). Help and version go to out,
 * errors to err. Returns EX_OK with *done false: start; EX_OK with *done
 * true: --help/--version printed; EX_USAGE: a message and the usage went to
 * err. On EX_OK, free the options with daemon_options_free(). */
int daemon_options_parse(const struct daemon_info *d, int argc, char **argv,
                         struct daemon_options *o, FILE *out, FILE *err, bool *done);
void daemon_options_free(struct daemon_options *o);
void daemon_usage(const struct daemon_info *d, FILE *to);

/* Load o->config_path. With -n: "NAME: configuration OK: FILE" on stdout
 * and *rc EX_OK (NULL returned), or "FILE:LINE: message" on stderr and
 * EX_CONFIG, or the unknown user or group (as a start would need them) and
 * EX_NOUSER. Without -n: the config (log level and facility applied), or
 * NULL with the error logged and *rc EX_CONFIG. */
struct pg_config *daemon_config_load(const struct daemon_info *d, const struct daemon_options *o,
                                     int *rc);

/* Both steps above: NULL means exit now with *rc (after --help, --version,
 * -n or a reported error; o is freed); else the config to start with. */
struct pg_config *daemon_begin(const struct daemon_info *d, int argc, char **argv,
                               struct daemon_options *o, int *rc);
/* At exit: remove the pid file (if written), free o; returns rc. */
int daemon_end(struct daemon_options *o, int rc);

/* ---- socket specs ---- */
enum daemon_sock_kind { DAEMON_SOCK_UNIX = 0, DAEMON_SOCK_INET, DAEMON_SOCK_INET6 };

#define DAEMON_SOCK_PATH_MAX 108 /* sizeof sockaddr_un.sun_path */
#define DAEMON_SOCK_HOST_MAX 255

struct daemon_sockspec {
	enum daemon_sock_kind kind;
	char path[DAEMON_SOCK_PATH_MAX];     /* unix: absolute */
	char host[DAEMON_SOCK_HOST_MAX + 1]; /* inet, inet6: "" = every address */
	unsigned port;                       /* inet, inet6: 1..65535 */
};

/* unix:/path or local:/path; inet:port@host, inet6:port@host (host
 * optional: every address); and inet:host:port, inet:[v6address]:port.
 * false with why set to the reason alone ("unknown socket type") otherwise:
 * the caller adds what to write instead (the config: its key's spellings). */
bool daemon_sockspec_check(const char *s, struct daemon_sockspec *out, char *why, size_t whylen);
/* daemon_sockspec_check() with -p's usage after the reason ("unknown socket
 * type: use unix:/path, ..."). */
bool daemon_sockspec_parse(const char *s, struct daemon_sockspec *out, char *why, size_t whylen);
/* libmilter's spelling: unix:/path, inet:port[@host], inet6:port[@host].
 * false if it does not fit. */
bool daemon_sockspec_format(const struct daemon_sockspec *sp, char *buf, size_t buflen);

/* ---- privileges ---- */
struct daemon_creds {
	bool drop;      /* started as root without allow_root: become user */
	uid_t uid;      /* the user's (drop only) */
	gid_t gid;      /* its primary group, from passwd (drop only) */
	uid_t sock_uid; /* owner of unix sockets, (uid_t)-1: leave */
	gid_t sock_gid; /* the configured group, else the user's; (gid_t)-1: leave */
	char user[64];
};

/* Look up the configured user (only when started as root without
 * allow_root) and group: EX_NOUSER if missing, EX_CONFIG for a user with
 * uid 0; why says which and where to fix it (not logged here). */
int daemon_creds_resolve(const struct pg_config *cfg, struct daemon_creds *out, char *why,
                         size_t whylen);
/* chmod a freshly bound unix socket to mode, chown it per creds:
 * EX_CANTCREAT on failure (the caller removes it). */
int daemon_socket_perms(const char *path, unsigned mode, const struct daemon_creds *c);
/* After the privilege drop: can this process remove the socket file at
 * path at stop? If not, why says so (its directory, and the reason). */
bool daemon_socket_removable(const char *path, char *why, size_t whylen);
/* daemon_socket_removable(), and a warning naming the socket when not
 * (then false: the caller need not say so again at stop). */
bool daemon_socket_check_removable(const char *path);
/* At stop: unlink the socket at path if it is still the file (dev, ino)
 * the daemon made, never one another process has put there since. A
 * failure is logged unless warned (the start-up warning said so). */
bool daemon_socket_remove(const char *path, dev_t dev, ino_t ino, bool warned);
/* Become the user: initgroups, setresgid, setresuid, then check that all
 * ids changed and root cannot be regained. EX_OSERR on any failure. Staying
 * root (allow_root) is logged as a warning. */
int daemon_drop(const struct pg_config *cfg, const struct daemon_creds *c);

/* ---- detaching and the pid file ---- */
/* An existing pid file naming a running process: EX_CANTCREAT. */
int daemon_pidfile_check(const char *path);
/* Unless -f, fork: the parent waits until the child calls daemon_ready()
 * (then exits 0) or exits (then exits with its status). The child starts a
 * new session. EX_OSERR if fork fails. */
int daemon_detach(const struct daemon_options *o);
/* Write getpid() to path (replacing a stale file); kept open so that it can
 * be emptied at exit when its directory does not let us remove it. */
int daemon_pidfile_write(const char *path);
/* Start-up done: detach stdio (unless -e), log to syslog from here on
 * (unless -e), log "listening on SPEC" for each socket (the line tests wait
 * for), then release the waiting parent. */
void daemon_ready(const struct daemon_info *d, const struct daemon_options *o,
                  const struct pg_config *cfg, const char *const *specs, size_t nspecs);
/* Remove the pid file written by daemon_pidfile_write (or empty it). */
void daemon_pidfile_remove(void);

/* ---- the steps around binding ---- */
/* Before binding: at least one listen socket (nspecs), no running daemon
 * in the pid file, the user and group looked up. Logs why not. */
int daemon_prepare(const struct daemon_info *d, const struct daemon_options *o,
                   const struct pg_config *cfg, size_t nspecs, struct daemon_creds *creds);
/* After binding: daemon_detach, daemon_pidfile_write, daemon_drop. */
int daemon_settle(const struct daemon_options *o, const struct pg_config *cfg,
                  const struct daemon_creds *creds);

/* ---- reload ---- */
/* Load the config again for a running daemon: on failure log "reload
 * failed: FILE:LINE: message; keeping the running configuration" and return
 * NULL; else warn about start-only keys that changed (of this daemon), apply
 * the log level and facility, log the "reloaded" lines and return the new
 * config for the caller to swap in. */
struct pg_config *daemon_reload(const struct daemon_info *d, const struct daemon_options *o,
                                const struct pg_config *running);

/* daemon_reload() in two halves, for a daemon that loads off the thread
 * that logs (policyd's event loop). daemon_reload_build() is the slow part
 * and safe on any thread while running stays alive and unchanged: it loads
 * the file, checks it and works out what changed, keeping its log lines in
 * r. daemon_reload_finish(), on the logging thread, logs all of it in
 * daemon_reload()'s order, applies the log level and facility and returns
 * what daemon_reload() returns. */
struct daemon_reload {
	struct pg_config *fresh; /* NULL: the load failed, err says why */
	char err[512];
	char keys[256]; /* start-only keys that changed, "" none */
	struct log_capture load_log, change_log, audit_log;
};
void daemon_reload_build(const struct daemon_info *d, const struct daemon_options *o,
                         const struct pg_config *running, struct daemon_reload *r);
struct pg_config *daemon_reload_finish(const struct daemon_info *d, struct daemon_reload *r);

#endif
