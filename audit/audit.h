/*
 * audit/audit.h - portguard-audit's wire half: the probe and its bounded
 * SMTP reply reader. The configuration half is core/audit.h.
 */
#ifndef PG_AUDIT_WIRE_H
#define PG_AUDIT_WIRE_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/audit.h"

/* Bounds of what the probe reads from a server. */
#define PROBE_LINE_MAX  1000 /* one reply line, CRLF included (RFC 5321: 512) */
#define PROBE_REPLY_MAX 8192 /* one reply, every line */

struct probe_options {
	const char *addr;     /* where the ports are probed */
	const char *from;     /* the local address to probe from; NULL: any */
	unsigned timeout_ms;  /* connect, one reply, one handshake */
	unsigned cert_days;   /* WARNING when the certificate expires sooner */
	const char *rcpt;     /* the relay attempt's recipient */
};

/* One reply being read: complete when done. */
struct smtp_reply {
	unsigned code;
	size_t lines;
	bool starttls, auth; /* EHLO keywords seen */
	char auth_mechs[128];
	char text[256]; /* the last line's text, for messages */
	bool done;
};

/* Feed the bytes of a reply read so far (buf[0..len)): the complete lines
 * are parsed into r. Returns the bytes consumed when the reply is complete
 * (r->done), 0 when more is needed, -1 with why on a line longer than
 * PROBE_LINE_MAX, a reply longer than PROBE_REPLY_MAX, or a line that is
 * not a reply. */
long smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r, char *why, size_t whylen);

/* Probe every service of r at o->addr, adding the wire findings. */
void audit_probe(const struct pg_config *cfg, const struct probe_options *o,
                 struct audit_report *r);

#endif
