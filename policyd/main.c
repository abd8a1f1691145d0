/*
 * main.c - portguard-policyd's command line and start-up.
 *
 * Reads the options (-c FILE -f -e -n -p SPEC -V -h), loads and validates
 * the config, resolves the user, binds every listen socket (the -p list
 * replaces the config's), drops privileges, detaches unless -f, and hands
 * over to the event loop. Start-up problems go to stderr (and syslog without
 * -e) and end the process with a sysexits(3) code: EX_USAGE bad arguments,
 * EX_CONFIG bad config, EX_NOUSER unknown user, EX_CANTCREAT/EX_OSERR
 * socket or system errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "log.h"
#include "policyd.h"
#include "stats.h"
#include "version.h"

#ifndef PG_SYSCONFDIR
#define PG_SYSCONFDIR "/etc"
#endif
#define PD_DEFAULT_CONFIG PG_SYSCONFDIR "/portguard/portguard.conf"

static void usage(FILE *to)
{
	fprintf(to, "usage: " PD_NAME " [-fenVh] [-c FILE] [-p SPEC]...\n"
	            "  -c FILE  configuration file (default " PD_DEFAULT_CONFIG ")\n"
	            "  -f       stay in the foreground\n"
	            "  -e       log to stderr instead of syslog\n"
	            "  -n       check the configuration and exit\n"
	            "  -p SPEC  listen on SPEC (unix:/path, inet:host:port, inet:[addr]:port);\n"
	            "           may be repeated; replaces policyd.listen of the configuration\n"
	            "  -V       print the version and exit\n"
	            "  -h       print this help and exit\n");
}

/* Returns EX_OK, or an exit code (with *done set for -V/-h). */
static int options_parse(int argc, char **argv, struct pd_options *opt, bool *done)
{
	int ch;

	memset(opt, 0, sizeof *opt);
	opt->config_path = PD_DEFAULT_CONFIG;
	*done = false;
	opterr = 0;
	while ((ch = getopt(argc, argv, ":c:fenp:Vh")) != -1) {
		switch (ch) {
		case 'c':
			opt->config_path = optarg;
			break;
		case 'f':
			opt->foreground = true;
			break;
		case 'e':
			opt->to_stderr = true;
			break;
		case 'n':
			opt->check_only = true;
			break;
		case 'p':
			if (opt->nlisten >= PG_MAX_LISTEN) {
				fprintf(stderr, PD_NAME ": at most %d -p options\n", PG_MAX_LISTEN);
				return EX_USAGE;
			}
			opt->listen[opt->nlisten++] = optarg;
			break;
		case 'V':
			printf(PD_NAME " " PG_VERSION "\n");
			*done = true;
			return EX_OK;
		case 'h':
			usage(stdout);
			*done = true;
			return EX_OK;
		case ':':
			fprintf(stderr, PD_NAME ": option -%c needs a value\n", optopt);
			usage(stderr);
			return EX_USAGE;
		default:
			fprintf(stderr, PD_NAME ": unknown option -%c\n", optopt);
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PD_NAME ": unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	return EX_OK;
}

int main(int argc, char **argv)
{
	struct pd_options opt;
	struct pd_listener listeners[PG_MAX_LISTEN];
	struct pd_creds creds;
	struct pg_config *cfg;
	const char *const *specs;
	size_t nspecs, nopen = 0;
	char err[512];
	bool done;
	int rc;

	rc = options_parse(argc, argv, &opt, &done);
	if (rc != EX_OK || done)
		return rc;

	err[0] = '\0';
	cfg = config_load(opt.config_path, err, sizeof err);
	if (cfg == NULL) {
		fprintf(stderr, "%s\n", err);
		if (!opt.check_only && !opt.to_stderr) {
			log_init(PD_NAME, false, LOG_MAIL);
			log_err("%s", err);
		}
		return EX_CONFIG;
	}
	if (opt.check_only) {
		printf("%s: OK\n", opt.config_path);
		config_free(cfg);
		return EX_OK;
	}

	/* Until detached, start-up errors go to the terminal as well. */
	log_init(PD_NAME, true, cfg->log_facility);
	log_set_level(cfg->log_level);
	specs = opt.nlisten > 0 ? opt.listen : (const char *const *)cfg->policyd_listen;
	nspecs = opt.nlisten > 0 ? opt.nlisten : cfg->policyd_nlisten;
	if (nspecs == 0) {
		log_err("no listen socket: set policyd.listen in %s or use -p", opt.config_path);
		config_free(cfg);
		return EX_CONFIG;
	}
	rc = listen_resolve_creds(cfg, &creds);
	for (size_t i = 0; rc == EX_OK && i < nspecs; i++) {
		rc = listen_open(specs[i], cfg, &creds, &listeners[i]);
		if (rc == EX_OK)
			nopen++;
	}
	if (rc == EX_OK)
		rc = listen_drop_privileges(cfg, &creds);
	if (rc == EX_OK && !opt.foreground && daemon(0, opt.to_stderr ? 1 : 0) != 0) {
		log_err("cannot detach: daemon() failed");
		rc = EX_OSERR;
	}
	if (rc != EX_OK) {
		for (size_t i = 0; i < nopen; i++)
			listen_close(&listeners[i], true);
		config_free(cfg);
		return rc;
	}
	log_init(PD_NAME, opt.to_stderr, cfg->log_facility);
	stats_init(time(NULL));
	rc = loop_run(cfg, &opt, listeners, nopen);
	stats_reset_all();
	return rc;
}
