/*
 * milter.h - portguard-milter's own interfaces (libmilter glue only).
 *
 * The milter turns libmilter callbacks into struct pg_facts, asks the core
 * (engine_decide) and turns the verdict back into SMFIS_* + smfi_setreply in
 * one place (reply.c). Files:
 *   macros.c    pure parsing of macro values (IPv6: prefix, ports, bits, MTA kind)
 *   session.c   per-connection / per-message state and the decisions; no libmilter
 *               calls, macros come through a getter so unit tests can drive it
 *   reply.c     verdict -> SMFIS_* and reply text (the only mapping; pure)
 *   callbacks.c the xxfi_* functions; thin
 *   snapshot.c  the current config: immutable, reference-counted, swapped on reload
 *   service.c   signal thread (SIGUSR1 reload, SIGUSR2 stats) and stats timer
 *   main.c      start-up (core/daemon.c's shared path), smfi_main, shutdown
 */
#ifndef PG_MILTER_H
#define PG_MILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include <libmilter/mfapi.h>

#include "config.h"
#include "engine.h"
#include "pg_limits.h"
#include "policy.h"

#define MILTER_NAME "portguard-milter"

/* Bounds of values the milter copies out of macros (the rest are in pg_limits.h). */
#define MILTER_MAX_QUEUE_ID 63
#define MILTER_MAX_HOSTNAME 255
#define MILTER_MAX_ADDR     63  /* textual IPv4/IPv6 address incl. scope */
#define MILTER_MAX_SASL     255 /* SASL method or user name */
#define MILTER_MAX_MAILER   63

/* ---- macros.c -------------------------------------------------------------- */

/* Which MTA is talking, from the "v" macro: Postfix says "Postfix 3.7.11",
 * Sendmail says "8.17.1.9". */
enum milter_mta { MILTER_MTA_UNKNOWN = 0, MILTER_MTA_POSTFIX, MILTER_MTA_SENDMAIL };

/* Copy src into dst (dstlen bytes incl. NUL). NULL src copies "". Returns
 * false (and leaves dst "") when src does not fit: truncation is an error. */
bool macro_copy(char *dst, size_t dstlen, const char *src);

/* "{client_addr}" value -> textual address: strips a case-insensitive "IPv6:"
 * prefix and checks that the rest is an IPv4 or IPv6 address. Returns false
 * (dst "") for anything else. */
bool macro_client_addr(char *dst, size_t dstlen, const char *value);

/* Decimal 1..65535 without sign, spaces or trailing junk. */
bool macro_port(const char *value, unsigned *out);

/* {cipher_bits}: decimal 0..65535. Sendmail may not send it; anything that is
 * not a plain number yields false and *out = 0. */
bool macro_bits(const char *value, unsigned *out);

enum milter_mta macro_mta_kind(const char *v);

/* The MTA setting that would have refused plaintext AUTH, for the alarm. */
const char *macro_auth_fix(enum milter_mta mta);

/* The lines to add when neither {daemon_port} nor {daemon_name} arrived. */
const char *macro_port_fix(enum milter_mta mta);

/* ---- session.c ------------------------------------------------------------- */

/* Macro source: returns the value or NULL. In the milter it is smfi_getsymval. */
typedef const char *(*milter_getter)(void *arg, const char *name);

struct milter_tls {
	char version[PG_MAX_TLS_VERSION + 1];
	char cipher[PG_MAX_CIPHER + 1];
	unsigned bits;
	char fingerprint[PG_MAX_FINGERPRINT * 3 + 1]; /* as the MTA sends it */
};

/* Allocated zeroed at CONNECT: all zero is a session before its first macro. */
struct milter_conn {
	struct pg_config *cfg;        /* retained at connect, released at close */
	struct engine_session engine; /* the port entry (inside cfg), counts, alarm */
	unsigned server_port;         /* 0 when {daemon_port} did not arrive */
	char label[PG_MAX_LABEL + 1]; /* {daemon_name}, "" when absent or too long */
	enum milter_mta mta;          /* from the "v" macro, read when a line first needs it */
	bool mta_known;
	char client_name[MILTER_MAX_HOSTNAME + 1];
	char client_addr[MILTER_MAX_ADDR + 1];
	unsigned client_port;
	struct milter_tls tls; /* latest TLS facts; sticky: stats count TLS at any point */
	char sasl_method[MILTER_MAX_SASL + 1];
	char sasl_username[MILTER_MAX_SASL + 1];
	/* per message: reset at MAIL, abort and end of message */
	char queue_id[MILTER_MAX_QUEUE_ID + 1];
	bool in_transaction;
	bool mail_objected;             /* MAIL already rejected or would-reject */
	struct pg_verdict mail_verdict; /* valid while mail_objected: repeated at RCPT */
};

/* Start a session: fill conn from the CONNECT macros and hostaddr, pick the
 * port entry (warnings for missing macros and unknown ports). conn->cfg must
 * already hold a retained config. hostaddr may be NULL. */
void session_connect(struct milter_conn *c, milter_getter get, void *arg, const char *hostname,
                     const struct sockaddr *hostaddr);

/* HELO/EHLO: capture TLS facts (sent again after STARTTLS). */
void session_helo(struct milter_conn *c, milter_getter get, void *arg);

/* MAIL FROM: new transaction, TLS and AUTH facts, rules 1-6 at PG_STAGE_MAIL,
 * the alarms, stats and the decision log line. */
void session_mail(struct milter_conn *c, milter_getter get, void *arg, struct pg_verdict *v);

/* RCPT TO: rule 7 and the rest at PG_STAGE_RCPT. rcpt is argv[0] as sent. */
void session_rcpt(struct milter_conn *c, milter_getter get, void *arg, const char *rcpt,
                  struct pg_verdict *v);

/* End of a transaction (abort, end of message): per-message state cleared. */
void session_end_message(struct milter_conn *c);

/* Close: session stats. Does not release the config. */
void session_close(struct milter_conn *c);

/* Strip one pair of angle brackets from an envelope address into dst;
 * false when it does not fit. */
bool session_rcpt_address(char *dst, size_t dstlen, const char *arg);

/* ---- reply.c --------------------------------------------------------------- */

struct milter_reply {
	sfsistat status; /* SMFIS_CONTINUE, SMFIS_REJECT or SMFIS_TEMPFAIL */
	bool set;        /* call smfi_setreply with the fields below */
	char rcode[4];
	char xcode[16];
	char text[PG_MAX_REPLY * 2 + 1]; /* '%' doubled */
};

/* The one mapping from a verdict to what libmilter is told. Never ACCEPT. */
void reply_plan(const struct pg_verdict *v, struct milter_reply *out);

/* Double every '%' (smfi_setreply drops text with a single '%') and drop CR,
 * LF and other control bytes. false if it does not fit. */
bool reply_escape(char *dst, size_t dstlen, const char *src);

/* ---- snapshot.c ------------------------------------------------------------ */

struct daemon_info;
struct daemon_options;

/* Install the first config (takes over the caller's reference). d and o
 * (kept, not copied) name the file to reload and whether -p names the
 * socket. */
void snapshot_init(struct pg_config *cfg, const struct daemon_info *d,
                   const struct daemon_options *o);
/* The current config with a new reference: release it with config_release(). */
struct pg_config *snapshot_get(void);
/* Reload through daemon_reload(); on success swap the new config in. On
 * failure (logged) keep serving the old one. Returns success. */
bool snapshot_reload(void);
/* Drop the global reference (shutdown). */
void snapshot_shutdown(void);

/* ---- service.c ------------------------------------------------------------- */

/* Block SIGUSR1, SIGUSR2, SIGTERM, SIGINT, SIGHUP in the calling thread (all
 * threads created later inherit it; libmilter sigwaits SIGTERM/SIGINT/SIGHUP). */
void service_block_signals(void);
/* Start the signal thread and the stats timer. */
bool service_start(void);
/* Stop both threads (after smfi_main returned). */
void service_stop(void);

/* ---- callbacks.c ----------------------------------------------------------- */

extern struct smfiDesc milter_desc;

#endif
