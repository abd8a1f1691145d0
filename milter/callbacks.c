/*
 * callbacks.c - the libmilter callbacks: thin glue around session.c.
 *
 * xxfi_negotiate asks for every macro SPEC's "Port identity" lists, per
 * stage (smfi_setsymlist replaces the MTA's list for that stage), and turns
 * off the stages portguard does not need (DATA, headers, body, unknown
 * commands). SMFIP_RCPT_REJ stays off. Macros the MTA will not send on
 * request still arrive from its own lists, so the default MTA settings work.
 *
 * CONNECT and HELO are answered (SMFIS_CONTINUE, never an objection: under
 * Postfix a reject there would stick to the whole session and refuse
 * STARTTLS too), although portguard has nothing to say there: the reply
 * makes the MTA wait until the milter has read the event. Without it
 * (SMFIP_NR_CONN/SMFIP_NR_HELO) Postfix writes CONNECT, HELO and QUIT of a
 * session that ends before MAIL without waiting and closes the socket, and
 * libmilter, which treats a hung-up socket as an error before reading what
 * is still buffered, drops the whole session unseen: xxfi_close only, no
 * xxfi_connect, so the session was never counted.
 *
 * State: a struct milter_conn from xxfi_connect to xxfi_close (which may be
 * the only callback called), per-message parts reset at MAIL, abort and the
 * end of EOM. Every callback starts with the same smfi_getpriv NULL check;
 * a missing state is an internal error and follows on_error, applied by
 * policy_internal_error() at the stages where the milter may reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "milter.h"

/* Asked for per stage; {cert_fp}/{cert_md5}/{auth_ssf} exist only in Sendmail. */
static const char connect_macros[] =
    "j _ v {daemon_name} {daemon_addr} {daemon_port} {client_addr} {client_port} "
    "{client_name} {tls_version} {cipher} {cipher_bits}";
static const char helo_macros[] =
    "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} {cert_fp} {cert_md5}";
static const char mail_macros[] =
    "i {auth_type} {auth_authen} {auth_author} {auth_ssf} {mail_addr} {mail_host} "
    "{mail_mailer} {tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer} "
    "{cert_fp} {cert_md5}";
static const char rcpt_macros[] = "i {rcpt_addr} {rcpt_host} {rcpt_mailer}";

static const char *ctx_getter(void *arg, const char *name)
{
	return smfi_getsymval((SMFICTX *)arg, (char *)name);
}

static struct milter_conn *conn_of(SMFICTX *ctx)
{
	return (struct milter_conn *)smfi_getpriv(ctx);
}

/* The verdict, as reply_plan() maps it, told to libmilter. If smfi_setreply()
 * fails the status stands and the MTA sends its generic reply. Its own frame
 * (the reply text is 1 KiB): see reply_apply. */
__attribute__((noinline)) static sfsistat reply_send(SMFICTX *ctx, const struct pg_verdict *v)
{
	struct milter_reply r;

	reply_plan(v, &r);
	if (r.set && smfi_setreply(ctx, r.rcode, r.xcode[0] != '\0' ? r.xcode : NULL,
	                           r.text[0] != '\0' ? r.text : NULL) != MI_SUCCESS)
		log_warnx("smfi_setreply refused reply code=%s; the MTA sends its generic reply",
		          r.rcode);
	return r.status;
}

/* No objection is SMFIS_CONTINUE without a reply (reply_plan's first case);
 * only an objection pays for the reply buffer's stack pages. */
static sfsistat reply_apply(SMFICTX *ctx, const struct pg_verdict *v)
{
	return v->action == PG_ACT_DUNNO ? SMFIS_CONTINUE : reply_send(ctx, v);
}

/* The fail mode for a callback without state, where a reply is allowed. */
static sfsistat no_state(SMFICTX *ctx, const char *where)
{
	struct pg_verdict v;
	struct pg_config *cfg = snapshot_get(); /* NULL: policy_internal_error tempfails */
	char reason[96];

	snprintf(reason, sizeof reason, "no session state at %s", where);
	policy_internal_error(cfg, reason, &v);
	if (cfg != NULL)
		config_release(cfg);
	return reply_apply(ctx, &v);
}

static sfsistat pg_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2,
                             unsigned long f3, unsigned long *pf0, unsigned long *pf1,
                             unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long wanted_steps =
	    SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH | SMFIP_NOUNKNOWN | SMFIP_NODATA;

	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_SETSYMLIST;
	*pf1 = f1 & wanted_steps;
	*pf2 = 0;
	*pf3 = 0;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		if (smfi_setsymlist(ctx, SMFIM_CONNECT, (char *)connect_macros) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_HELO, (char *)helo_macros) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)mail_macros) != MI_SUCCESS ||
		    smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)rcpt_macros) != MI_SUCCESS)
			log_warnx("smfi_setsymlist failed; relying on the MTA's macro lists");
	} else {
		log_debug("the MTA does not offer SMFIF_SETSYMLIST; relying on its macro lists");
	}
	return SMFIS_CONTINUE;
}

static sfsistat pg_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct milter_conn *c = conn_of(ctx);

	if (c != NULL) /* a second CONNECT on one milter connection: start afresh */
		return SMFIS_CONTINUE;
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		log_err("out of memory at CONNECT; on_error applies at MAIL");
		return SMFIS_CONTINUE;
	}
	c->cfg = snapshot_get();
	if (c->cfg == NULL) {
		free(c);
		log_err("no configuration at CONNECT; on_error applies at MAIL");
		return SMFIS_CONTINUE;
	}
	session_connect(c, ctx_getter, ctx, hostname, hostaddr);
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		config_release(c->cfg);
		free(c);
		log_err("smfi_setpriv failed at CONNECT; on_error applies at MAIL");
	}
	return SMFIS_CONTINUE;
}

static sfsistat pg_helo(SMFICTX *ctx, char *helohost)
{
	struct milter_conn *c = conn_of(ctx);

	(void)helohost;
	if (c == NULL)
		return SMFIS_CONTINUE; /* never object at HELO; MAIL applies on_error */
	session_helo(c, ctx_getter, ctx);
	return SMFIS_CONTINUE;
}

static sfsistat pg_envfrom(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = conn_of(ctx);
	struct pg_verdict v;

	(void)argv;
	if (c == NULL)
		return no_state(ctx, "MAIL");
	session_mail(c, ctx_getter, ctx, &v);
	return reply_apply(ctx, &v);
}

static sfsistat pg_envrcpt(SMFICTX *ctx, char **argv)
{
	struct milter_conn *c = conn_of(ctx);
	struct pg_verdict v;

	if (c == NULL)
		return no_state(ctx, "RCPT");
	session_rcpt(c, ctx_getter, ctx, argv != NULL ? argv[0] : NULL, &v);
	return reply_apply(ctx, &v);
}

static sfsistat pg_eom(SMFICTX *ctx)
{
	struct milter_conn *c = conn_of(ctx);

	if (c == NULL)
		return no_state(ctx, "end of message");
	session_end_message(c);
	return SMFIS_CONTINUE;
}

static sfsistat pg_abort(SMFICTX *ctx)
{
	struct milter_conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	session_end_message(c);
	return SMFIS_CONTINUE;
}

static sfsistat pg_close(SMFICTX *ctx)
{
	struct milter_conn *c = conn_of(ctx);

	if (c == NULL)
		return SMFIS_CONTINUE;
	session_close(c);
	smfi_setpriv(ctx, NULL);
	config_release(c->cfg);
	free(c);
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
    .xxfi_name = (char *)MILTER_NAME,
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_SETSYMLIST,
    .xxfi_connect = pg_connect,
    .xxfi_helo = pg_helo,
    .xxfi_envfrom = pg_envfrom,
    .xxfi_envrcpt = pg_envrcpt,
    .xxfi_header = NULL,
    .xxfi_eoh = NULL,
    .xxfi_body = NULL,
    .xxfi_eom = pg_eom,
    .xxfi_abort = pg_abort,
    .xxfi_close = pg_close,
    .xxfi_unknown = NULL,
    .xxfi_data = NULL,
    .xxfi_negotiate = pg_negotiate,
};
