/*
 * policyd.h - the pieces of portguard-policyd and how they meet.
 *
 * main.c walks core/daemon.c's start-up (command line, config, privileges,
 * pid file); listen.c binds the sockets; loop.c runs the one event loop
 * (connections, signals, timers, reloads), peers.c counts its connections
 * per client address; proto.c splits the byte stream into bounded
 * requests; session.c turns one request into one reply.
 */
#ifndef PG_POLICYD_H
#define PG_POLICYD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "engine.h"
#include "pg_limits.h"

#define PD_NAME "portguard-policyd"

/* Longest reply we ever write: "action=DEFER_IF_PERMIT " + code, esc, text, "\n\n". */
#define PD_REPLY_MAX (PG_MAX_REPLY + 64)
/* Per-connection output buffer: room for a few pipelined replies. */
#define PD_OUT_SIZE (4 * PD_REPLY_MAX)
/* A peer's name for log lines: "[addr]:port" or "unix". */
#define PD_PEER_MAX 64

/* ---- sockets (listen.c; privileges are core/daemon.c's) ---- */
struct daemon_creds;

struct pd_listener {
	int fd;
	char *unix_path; /* malloc'd, unlinked at exit; NULL for inet */
	char *spec;      /* as given, for log lines */
	dev_t dev;       /* the socket file bound, removed at exit only if */
	ino_t ino;       /* still there (daemon_socket_remove) */
	bool warned;     /* at start: it will be left behind */
};

/* Returns a sysexits code (EX_OK on success) and has logged why not. */
int listen_open(const char *spec, const struct pg_config *cfg, const struct daemon_creds *creds,
                struct pd_listener *out);
void listen_close(struct pd_listener *l, bool unlink_path);

/* ---- connections per inet client address (peers.c) ---- */
struct peer;
struct sockaddr_storage;

bool peers_init(void);
void peers_free(void);
/* The key of an inet peer's address; false for a unix peer. */
bool peer_key(const struct sockaddr_storage *ss, unsigned char key[16]);
/* Connections held by key's address now. */
unsigned peer_count(const unsigned char key[16]);
/* One more for key's address: its entry (NULL if out of memory); give it
 * back with peer_release() (NULL is ignored). */
struct peer *peer_hold(const unsigned char key[16]);
void peer_release(struct peer *p);

/* ---- protocol (proto.c) ---- */
enum pd_attr {
	PD_A_REQUEST = 0,
	PD_A_PROTOCOL_STATE,
	PD_A_CLIENT_ADDRESS,
	PD_A_CLIENT_NAME,
	PD_A_CLIENT_PORT,
	PD_A_SERVER_PORT,
	PD_A_QUEUE_ID,
	PD_A_INSTANCE,
	PD_A_RECIPIENT,
	PD_A_SASL_METHOD,
	PD_A_SASL_USERNAME,
	PD_A_CCERT_FINGERPRINT,
	PD_A_ENCRYPTION_PROTOCOL,
	PD_A_ENCRYPTION_CIPHER,
	PD_A_ENCRYPTION_KEYSIZE,
	PD_A_POLICY_CONTEXT,
	PD_A_COUNT
};

/* One parsed request: values point into the connection's input buffer
 * (NUL-terminated in place); NULL means the attribute was not sent. */
struct pd_request {
	const char *v[PD_A_COUNT];
};

/* Incremental scanner state, reset after each complete request. */
struct proto_scan {
	size_t pos;        /* bytes of the buffer already checked */
	size_t line_start; /* offset of the current, unfinished line */
	size_t cur_eq;     /* offset of the current line's first '=', or SIZE_MAX */
	unsigned nattrs;   /* name=value lines seen in this request */
	size_t done;       /* once a request is complete: its length (0: not yet) */
	/* Where the value of each known attribute starts and its line's '\n'
	 * (0: not sent; a repeated attribute keeps its last value), so that
	 * proto_parse() need not look at the request again. */
	uint16_t val_off[PD_A_COUNT];
	uint16_t val_end[PD_A_COUNT];
};

enum proto_status {
	PROTO_MORE = 0, /* no complete request yet, limits respected so far */
	PROTO_REQUEST,  /* buf[0 .. *reqlen) is one complete request */
	PROTO_ERROR     /* *why names the broken rule or limit */
};

void proto_reset(struct proto_scan *st);
/* buf holds len bytes of a buffer of PG_POLICY_MAX_REQUEST bytes. */
enum proto_status proto_scan(struct proto_scan *st, const char *buf, size_t len, size_t *reqlen,
                             char *why, size_t whylen);
/* Split a complete request (as found by proto_scan, whose state st still
 * describes it) into req, in place. Once proto_scan has found a request it
 * answers the same (PROTO_REQUEST, the same length) until proto_reset, so
 * the loop may scan as it reads and again when it answers. */
void proto_parse(char *buf, const struct proto_scan *st, struct pd_request *req);
const char *proto_attr_name(enum pd_attr a);

/* ---- one request, one reply (session.c, reply.c) ---- */
struct pd_session {
	char instance[PG_POLICY_MAX_INSTANCE + 1];
	bool have_instance;
	struct engine_session engine;
};

enum session_status { SESSION_REPLY = 0, SESSION_BAD_REQUEST };

/* A connection's state before its first request. */
void session_init(struct pd_session *s);

/* Decide and write exactly one "action=...\n\n" into out (at least
 * PD_REPLY_MAX bytes); *outlen is its length. SESSION_BAD_REQUEST: the peer
 * broke the protocol, why says how, nothing is to be sent. */
enum session_status session_handle(const struct pg_config *cfg, struct pd_session *s,
                                   const struct pd_request *req, char *out, size_t *outlen,
                                   char *why, size_t whylen);

/* A hint, once proto_scan (state st) has found a complete request in buf:
 * start loading what the relay check will look up for its recipient when
 * the local domains are many (relay_prefetch()). */
void session_prefetch(const struct pg_config *cfg, const char *buf, const struct proto_scan *st);

/* NULL when v fits one "action=" line, else why not (engine_untellable_fn). */
const char *reply_untellable(const struct pg_verdict *v);
/* Write v, which passed reply_untellable() (or is the fail mode's), into out
 * (PD_REPLY_MAX bytes); returns its length. */
size_t reply_write(const struct pg_verdict *v, char *out);

/* ---- log batching (logbatch.c): the loop's lines, one write or sendmmsg per pass ---- */
void logbatch_start(void); /* installs the sink in core/log.c */
void logbatch_flush(void); /* before the loop blocks; errors are sent at once */
void logbatch_stop(void);  /* flushes, and back to one write per line */
/* Test hook: the socket batched syslog lines go to (default /dev/log). */
void logbatch_set_syslog_path(const char *path);

/* ---- reload off the loop (reload.c) ---- */
struct daemon_info;
struct daemon_options;
/* The eventfd that becomes readable when a reload thread is done; -1 on
 * failure (logged). */
int reload_init(void);
/* Build a new config from o's file on a thread; running must stay alive
 * and unchanged until reload_collect() returned it. false: a thread is
 * still at work, ask again after the eventfd fired. */
bool reload_start(const struct daemon_info *d, const struct daemon_options *o,
                  const struct pg_config *running);
/* After the eventfd fired: the new config to swap in (its lines logged as
 * daemon_reload() logs them), or NULL (nothing ready, the load failed, or
 * a retired config was freed). */
struct pg_config *reload_collect(void);
/* Free the config a swap replaced, off the loop. */
void reload_retire(struct pg_config *old);
/* At exit: wait for a thread at work and drop what it built. */
void reload_shutdown(void);

/* ---- event loop (loop.c) ---- */
/* Runs until SIGTERM/SIGINT; owns cfg from here on (frees it). info and
 * opt are the start-up's (core/daemon.h), for the shared reload. Returns
 * an exit code. */
struct daemon_info;
struct daemon_options;
int loop_run(struct pg_config *cfg, const struct daemon_info *info,
             const struct daemon_options *opt, struct pd_listener *listeners, size_t nlisteners);

#endif
