/*
 * main.c - portguard-milter: command line, start-up, smfi_main, shutdown.
 *
 * Order: parse options; load and validate the config (-n stops here); open
 * the libmilter socket (unix sockets via smfi_opensocket(true), which removes
 * a stale file); set its mode/owner and drop privileges; daemonise unless -f;
 * block the signals every thread must not take; start the signal and timer
 * threads; smfi_main(). When libmilter stops (SIGTERM, SIGINT, SIGHUP),
 * write the last stats lines and the "stopping" line. Exit codes follow
 * sysexits(3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "milter.h"
#include "report.h"
#include "version.h"

#define DEFAULT_CONFIG PG_SYSCONFDIR "/portguard/portguard.conf"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: %s [-fenVh] [-c config] [-p socket]\n"
	        "  -c FILE  configuration file (default %s)\n"
	        "  -f       stay in the foreground\n"
	        "  -e       log to stderr instead of syslog\n"
	        "  -n       check the configuration and exit\n"
	        "  -p SPEC  listen socket: unix:/path, local:/path, inet:port@host, "
	        "inet6:port@host\n"
	        "  -V       print the version and exit\n"
	        "  -h       this help\n"
	        "signals: SIGUSR1 reload, SIGUSR2 stats now, SIGTERM/SIGINT stop\n",
	        MILTER_NAME, DEFAULT_CONFIG);
}

struct options {
	const char *config_arg;
	const char *listen;
	bool foreground;
	bool to_stderr;
	bool check_only;
};

/* Everything after the command line; config_path is absolute when possible. */
static int run(const struct options *o, const char *config_path)
{
	struct pg_config *cfg;
	const char *spec;
	char err[512];
	int rc;

	cfg = config_load(config_path, err, sizeof err);
	if (cfg == NULL) {
		if (!o->to_stderr && !o->check_only)
			fprintf(stderr, "%s: %s\n", MILTER_NAME, err);
		log_err("%s", err);
		return EX_CONFIG;
	}
	if (o->check_only) {
		printf("%s: configuration OK\n", config_path);
		config_release(cfg);
		return EX_OK;
	}
	log_set_facility(cfg->log_facility);
	log_set_level(cfg->log_level);

	spec = o->listen != NULL ? o->listen : cfg->milter_listen;
	if (spec == NULL || *spec == '\0') {
		log_err("no socket: set milter.listen in %s or use -p", config_path);
		config_release(cfg);
		return EX_CONFIG;
	}
	if (smfi_setconn((char *)spec) != MI_SUCCESS || smfi_register(milter_desc) != MI_SUCCESS ||
	    smfi_settimeout((int)cfg->milter_timeout) != MI_SUCCESS) {
		log_err("libmilter refused the socket %s or the filter description", spec);
		config_release(cfg);
		return EX_SOFTWARE;
	}
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_err("cannot open the milter socket %s", spec);
		config_release(cfg);
		return EX_CANTCREAT;
	}
	rc = privs_socket_and_drop(cfg, privs_unix_path(spec));
	if (rc != 0) {
		config_release(cfg);
		return rc;
	}
	if (!o->foreground && daemon(0, o->to_stderr ? 1 : 0) != 0) {
		log_err("daemon() failed");
		config_release(cfg);
		return EX_OSERR;
	}

	service_block_signals();
	stats_init(time(NULL));
	snapshot_init(cfg, o->listen != NULL);
	report_config(cfg, MILTER_NAME, "starting");
	log_notice("listening on %s", spec);
	if (!service_start(config_path)) {
		snapshot_shutdown();
		return EX_OSERR;
	}
	rc = smfi_main();
	service_stop(); /* writes the last stats lines */
	cfg = snapshot_get();
	if (cfg != NULL) {
		report_config(cfg, MILTER_NAME, "stopping");
		config_release(cfg);
	}
	snapshot_shutdown();
	return rc == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

int main(int argc, char **argv)
{
	struct options o = {.config_arg = DEFAULT_CONFIG};
	unsigned int major, minor, patch;
	char *config_path;
	int ch, rc;

	while ((ch = getopt(argc, argv, "c:fenp:Vh")) != -1) {
		switch (ch) {
		case 'c':
			o.config_arg = optarg;
			break;
		case 'f':
			o.foreground = true;
			break;
		case 'e':
			o.to_stderr = true;
			break;
		case 'n':
			o.check_only = true;
			break;
		case 'p':
			o.listen = optarg;
			break;
		case 'V':
			(void)smfi_version(&major, &minor, &patch);
			printf("%s %s (libmilter %u.%u.%u)\n", MILTER_NAME, PG_VERSION, major,
			       minor, patch);
			return EX_OK;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EX_USAGE;
	}

	log_init(MILTER_NAME, o.to_stderr || o.check_only, LOG_MAIL);
	/* the reload reads the same file after daemon() changed to "/" */
	config_path = realpath(o.config_arg, NULL);
	if (config_path == NULL)
		config_path = strdup(o.config_arg);
	if (config_path == NULL) {
		fprintf(stderr, "%s: out of memory\n", MILTER_NAME);
		return EX_OSERR;
	}
	rc = run(&o, config_path);
	free(config_path);
	return rc;
}
