/*
 * main.c - portguard-audit(8): per port, does the MTA keep the promise
 * portguard.conf makes? Reads portguard.conf and the MTA's configuration
 * (core/audit.c), optionally probes the ports (--probe, probe.c), and
 * prints a monitoring-plugin summary line, then a per-port table (or, with
 * --json, the same findings as JSON). Exit 0 OK, 1 WARNING, 2 CRITICAL,
 * 3 UNKNOWN (also for a usage error or a configuration it cannot read).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "audit.h"
#include "log.h"
#include "mtafacts.h"
#include "version.h"

#define EXIT_UNKNOWN 3

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: portguard-audit [-c portguard.conf] [--postfix DIR | --sendmail FILE]\n"
	        "                       [--probe[=ADDR]] [--probe-from ADDR] [--timeout SECONDS]\n"
	        "                       [--cert-days N] [--mynetworks-prefix4 N] [--syslog]\n"
	        "                       [--mynetworks-prefix6 N] [--relay-rcpt ADDRESS] [--json]\n"
	        "                       [-h] [-V]\n");
}

static bool number(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

static void json_str(FILE *o, const char *s)
{
	fputc('"', o);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(o, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(o, "\\u%04x", ch);
		else
			fputc(ch, o);
	}
	fputc('"', o);
}

/* "PORTGUARD-AUDIT CRITICAL - ...": the counts and the first findings. */
static void summary(const struct audit_report *r, int code, char *buf, size_t len)
{
	static const char *const word[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
	size_t cnt[5] = {0}, u;

	for (size_t i = 0; i < r->n; i++)
		cnt[r->v[i].status]++;
	u = (size_t)snprintf(buf, len, "PORTGUARD-AUDIT %s - %zu critical, %zu warning, %zu unknown, "
	                               "%zu ok, %zu skipped",
	                     word[code], cnt[AUDIT_CRITICAL], cnt[AUDIT_WARNING], cnt[AUDIT_UNKNOWN],
	                     cnt[AUDIT_OK], cnt[AUDIT_SKIPPED]);
	int shown = 0;
	for (int st = AUDIT_CRITICAL; st >= AUDIT_WARNING; st = st == AUDIT_CRITICAL ? AUDIT_UNKNOWN
	                                                       : st == AUDIT_UNKNOWN ? AUDIT_WARNING
	                                                                             : -1) {
		for (size_t i = 0; i < r->n && u + 1 < len; i++) {
			const struct audit_finding *f = &r->v[i];
			if ((int)f->status != st || shown >= 5)
				continue;
			u += (size_t)snprintf(buf + u, len - u, "%s%s/%u %s", shown ? ", " : ": ",
			                      audit_status_name(f->status), f->port, f->check);
			shown++;
		}
		if (st == AUDIT_WARNING)
			break;
	}
	if (u + 1 < len)
		snprintf(buf + u, len - u, " | critical=%zu warning=%zu unknown=%zu ok=%zu",
		         cnt[AUDIT_CRITICAL], cnt[AUDIT_WARNING], cnt[AUDIT_UNKNOWN], cnt[AUDIT_OK]);
}

static void print_text(const struct audit_report *r, const char *line)
{
	printf("%s\n", line);
	printf("%-5s  %-16s  %-10s  %-16s  %-8s  %s\n", "PORT", "SERVICE", "ROLE", "CHECK", "STATUS",
	       "DETAIL; fix: WHAT TO CHANGE");
	for (size_t i = 0; i < r->n; i++) {
		const struct audit_finding *f = &r->v[i];
		char port[12] = "-";
		if (f->port > 0)
			snprintf(port, sizeof port, "%u", f->port);
		printf("%-5s  %-16s  %-10s  %-16s  %-8s  %s%s%s\n", port, f->service, f->role,
		       f->check, audit_status_name(f->status), f->detail, f->fix[0] ? "; fix: " : "",
		       f->fix);
	}
}

static void print_json(const struct audit_report *r, const char *line, int code)
{
	printf("{\"status\":");
	json_str(stdout, code == 0 ? "OK" : code == 1 ? "WARNING" : code == 2 ? "CRITICAL" : "UNKNOWN");
	printf(",\"exit\":%d,\"summary\":", code);
	json_str(stdout, line);
	printf(",\"findings\":[");
	for (size_t i = 0; i < r->n; i++) {
		const struct audit_finding *f = &r->v[i];
		printf("%s{\"port\":%u,\"service\":", i ? "," : "", f->port);
		json_str(stdout, f->service);
		printf(",\"role\":");
		json_str(stdout, f->role);
		printf(",\"check\":");
		json_str(stdout, f->check);
		printf(",\"status\":");
		json_str(stdout, audit_status_name(f->status));
		printf(",\"detail\":");
		json_str(stdout, f->detail);
		printf(",\"fix\":");
		json_str(stdout, f->fix);
		printf("}");
	}
	printf("]}\n");
}

int main(int argc, char **argv)
{
	enum { O_POSTFIX = 256, O_SENDMAIL, O_PROBE, O_FROM, O_TIMEOUT, O_DAYS, O_NET4, O_NET6,
	       O_RCPT, O_JSON, O_SYSLOG };
	static const struct option longs[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"postfix", required_argument, NULL, O_POSTFIX},
	    {"sendmail", required_argument, NULL, O_SENDMAIL},
	    {"probe", optional_argument, NULL, O_PROBE},
	    {"probe-from", required_argument, NULL, O_FROM},
	    {"timeout", required_argument, NULL, O_TIMEOUT},
	    {"cert-days", required_argument, NULL, O_DAYS},
	    {"mynetworks-prefix4", required_argument, NULL, O_NET4},
	    {"mynetworks-prefix6", required_argument, NULL, O_NET6},
	    {"relay-rcpt", required_argument, NULL, O_RCPT},
	    {"json", no_argument, NULL, O_JSON},
	    {"syslog", no_argument, NULL, O_SYSLOG},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0}};
	const char *conf = PG_SYSCONFDIR "/portguard/portguard.conf";
	struct audit_options ao;
	struct probe_options po = {"127.0.0.1", NULL, 10000, 14, "portguard-audit@relay-probe.invalid"};
	bool probe = false, json = false, to_syslog = false;
	unsigned secs = 10;
	int ch;

	audit_options_default(&ao);
	while ((ch = getopt_long(argc, argv, "c:hV", longs, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case O_POSTFIX:
			ao.postfix_dir = optarg;
			ao.mta = PG_MTA_POSTFIX;
			break;
		case O_SENDMAIL:
			ao.sendmail_cf = optarg;
			ao.mta = PG_MTA_SENDMAIL;
			break;
		case O_PROBE:
			probe = true;
			if (optarg != NULL)
				po.addr = optarg;
			else if (optind < argc && argv[optind][0] != '-')
				po.addr = argv[optind++];
			break;
		case O_FROM:
			po.from = optarg;
			break;
		case O_JSON:
			json = true;
			break;
		case O_SYSLOG:
			to_syslog = true;
			break;
		case O_RCPT:
			po.rcpt = optarg;
			break;
		case O_TIMEOUT:
		case O_DAYS:
		case O_NET4:
		case O_NET6: {
			unsigned v, hi = ch == O_TIMEOUT ? 600 : ch == O_DAYS ? 3650 : ch == O_NET4 ? 32 : 128;
			if (!number(optarg, ch == O_TIMEOUT ? 1 : 0, hi, &v)) {
				fprintf(stderr, "portguard-audit: %s: a number from %u to %u\n",
				        argv[optind - 1], ch == O_TIMEOUT ? 1 : 0, hi);
				return EXIT_UNKNOWN;
			}
			if (ch == O_TIMEOUT)
				secs = v;
			else if (ch == O_DAYS)
				po.cert_days = v;
			else if (ch == O_NET4)
				ao.net4_prefix = v;
			else
				ao.net6_prefix = v;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("portguard-audit %s\n", PG_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_UNKNOWN;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return EXIT_UNKNOWN;
	}
	/* --timeout bounds the wire only: a slow postconf on a busy host is
	 * not a finding, so its runs keep their own bound (AUDIT_TIMEOUT_MS). */
	po.timeout_ms = secs * 1000;
	/* portguard.conf's own warnings (lists that differ from the MTA's) are
	 * the daemons' to give; only errors here. */
	log_init("portguard-audit", true, LOG_MAIL);
	log_set_level(LOG_ERR);

	char err[1024], line[2048];
	struct pg_config *cfg = config_load(conf, err, sizeof err);
	static struct audit_report r;
	if (cfg == NULL) {
		memset(&r, 0, sizeof r);
		audit_add(&r, 0, "portguard.conf", NULL, "config", AUDIT_UNKNOWN, AUDIT_FRONT_BOTH,
		          NULL, "%s", err);
	} else {
		audit_config(cfg, &ao, &r);
		if (probe && r.nsvc > 0)
			audit_probe(cfg, &po, &r);
	}
	int code = audit_exit_code(&r);
	summary(&r, code, line, sizeof line);
	if (json)
		print_json(&r, line, code);
	else
		print_text(&r, line);
	if (to_syslog) { /* the summary line, at the severity of the result */
		static const int prio[] = {LOG_INFO, LOG_WARNING, LOG_CRIT, LOG_ERR};
		log_init("portguard-audit", false, LOG_MAIL);
		log_set_level(LOG_DEBUG);
		log_line(prio[code], line);
	}
	audit_report_free(&r);
	if (cfg != NULL)
		config_free(cfg);
	return code;
}
