/*
 * minimilter.c - the baseline for the milter benchmark: a libmilter filter
 * that does no work and always continues.
 *
 *   minimilter -p SPEC        (libmilter socket syntax, e.g. unix:/path)
 *
 * It holds the same protocol conversation with the MTA as portguard-milter
 * (milter/callbacks.c), so that the difference between the two is
 * portguard's own work: the same stages negotiated away (headers, body, EOH,
 * DATA, unknown commands), a reply (continue) at CONNECT and HELO, as
 * portguard gives so that Postfix waits for it (docs/ARCHITECTURE.md), the same macro
 * lists requested with smfi_setsymlist (the MTA then sends the same bytes),
 * the same callbacks registered, each returning at once. No per-connection
 * state, no logging. Prints "listening on SPEC" on stderr when the socket is
 * open; stops on SIGTERM/SIGINT (libmilter's handling). Exit 0 on a clean
 * stop, 64 on usage errors, 70 when libmilter refuses the setup.
 */
#include <libmilter/mfapi.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

enum { EXIT_USAGE = 64, EXIT_SOFTWARE = 70 };

/* Kept equal to portguard-milter's lists in milter/callbacks.c. */
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

static sfsistat mini_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
                               unsigned long f2, unsigned long f3, unsigned long *pf0,
                               unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	const unsigned long wanted_steps = SMFIP_NOHDRS | SMFIP_NOBODY | SMFIP_NOEOH |
	                                   SMFIP_NOUNKNOWN | SMFIP_NODATA;

	(void)f2;
	(void)f3;
	*pf0 = f0 & SMFIF_SETSYMLIST;
	*pf1 = f1 & wanted_steps;
	*pf2 = 0;
	*pf3 = 0;
	if ((f0 & SMFIF_SETSYMLIST) != 0) {
		(void)smfi_setsymlist(ctx, SMFIM_CONNECT, (char *)connect_macros);
		(void)smfi_setsymlist(ctx, SMFIM_HELO, (char *)helo_macros);
		(void)smfi_setsymlist(ctx, SMFIM_ENVFROM, (char *)mail_macros);
		(void)smfi_setsymlist(ctx, SMFIM_ENVRCPT, (char *)rcpt_macros);
	}
	return SMFIS_CONTINUE;
}

static sfsistat mini_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	(void)ctx;
	(void)hostname;
	(void)hostaddr;
	return SMFIS_CONTINUE; /* a reply, as portguard gives: no SMFIP_NR_CONN */
}

static sfsistat mini_helo(SMFICTX *ctx, char *helohost)
{
	(void)ctx;
	(void)helohost;
	return SMFIS_CONTINUE; /* likewise: no SMFIP_NR_HELO */
}

static sfsistat mini_args(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return SMFIS_CONTINUE;
}

static sfsistat mini_ctx(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static struct smfiDesc mini_desc = {
    .xxfi_name = (char *)"minimilter",
    .xxfi_version = SMFI_VERSION,
    .xxfi_flags = SMFIF_SETSYMLIST,
    .xxfi_connect = mini_connect,
    .xxfi_helo = mini_helo,
    .xxfi_envfrom = mini_args,
    .xxfi_envrcpt = mini_args,
    .xxfi_header = NULL,
    .xxfi_eoh = NULL,
    .xxfi_body = NULL,
    .xxfi_eom = mini_ctx,
    .xxfi_abort = mini_ctx,
    .xxfi_close = mini_ctx,
    .xxfi_unknown = NULL,
    .xxfi_data = NULL,
    .xxfi_negotiate = mini_negotiate,
};

int main(int argc, char **argv)
{
	const char *spec = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "p:")) != -1) {
		if (ch != 'p') {
			fprintf(stderr, "usage: minimilter -p SOCKET\n");
			return EXIT_USAGE;
		}
		spec = optarg;
	}
	if (spec == NULL || optind != argc) {
		fprintf(stderr, "usage: minimilter -p SOCKET\n");
		return EXIT_USAGE;
	}
	if (smfi_setconn((char *)spec) != MI_SUCCESS || smfi_register(mini_desc) != MI_SUCCESS ||
	    smfi_opensocket(true) != MI_SUCCESS) {
		fprintf(stderr, "minimilter: libmilter refused the socket %s\n", spec);
		return EXIT_SOFTWARE;
	}
	fprintf(stderr, "minimilter: listening on %s\n", spec);
	return smfi_main() == MI_SUCCESS ? 0 : EXIT_SOFTWARE;
}
