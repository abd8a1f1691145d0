/*
 * loggen.c - a realistic mail log for portguard-report's benchmark
 * (tests/bench/report.sh).
 *
 *   loggen BYTES > FILE
 *
 * Writes at least BYTES of syslog lines (traditional stamps) as a busy
 * Postfix host with both portguard daemons would: per session connect, TLS
 * (most sessions, TLS 1.3 or 1.2), queue-id lines with SASL users on the
 * submission ports, cleanup, qmgr, delivery, removed and disconnect with
 * its counters; portguard's refusals (relay probes, plaintext submission)
 * and would-refusals, the plaintext-AUTH alarm, hourly stats lines; and
 * unrelated noise (anvil, postscreen, dovecot, cron, kernel). Time starts
 * on 30 Dec and advances about 0.1 s a session, so a large file crosses New
 * Year. Deterministic (a fixed xorshift seed): the same size gives the same
 * file. Prints the number of sessions written on stderr.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int mon = 11, day = 30, hh, mm, ss, sub; /* tenths of a second */
static char stamp[32];

static void tick(void)
{
	if (++sub < 10)
		return;
	sub = 0;
	if (++ss < 60)
		goto fmt;
	ss = 0;
	if (++mm < 60)
		goto fmt;
	mm = 0;
	if (++hh < 24)
		goto fmt;
	hh = 0;
	if (++day > mdays[mon]) {
		day = 1;
		mon = (mon + 1) % 12;
	}
fmt:
	snprintf(stamp, sizeof stamp, "%s %2d %02d:%02d:%02d", months[mon], day, hh, mm, ss);
}

static void qid(char *dst)
{
	static const char hex[] = "0123456789ABCDEF";

	for (int i = 0; i < 10; i++)
		dst[i] = hex[rnd(16)];
	dst[10] = '\0';
}

#define HOST "mx1"

int main(int argc, char **argv)
{
	unsigned long long want = argc > 1 ? strtoull(argv[1], NULL, 10) : (1ull << 30);
	unsigned long long written = 0;
	unsigned long sessions = 0;
	int last_hour = -1;
	static char out[1 << 20];
	FILE *f = stdout;

	setvbuf(f, out, _IOFBF, sizeof out);
	sub = 9;
	tick();
	while (written < want) {
		unsigned pid = 1000 + rnd(30000), kind = rnd(100), cport = 1024 + rnd(60000);
		unsigned port = kind < 60 ? 25 : kind < 90 ? 587 : 465;
		const char *svc = port == 25 ? "postfix" : port == 587 ? "postfix/submission"
		                                                        : "postfix/smtps";
		char ip[32], q[16];
		bool tls = port == 465 || rnd(100) < 85, tls13 = rnd(100) < 70;
		bool auth = port != 25 && rnd(100) < 90, probe = port == 25 && rnd(100) < 5;
		bool ehlo_only = rnd(100) < 8;
		int n = 0;

		snprintf(ip, sizeof ip, "%u.%u.%u.%u", 1 + rnd(223), rnd(256), rnd(256), 1 + rnd(254));
		qid(q);
		tick();
		if (hh != last_hour) {
			last_hour = hh;
			for (unsigned p = 0; p < 3; p++)
				n += fprintf(f,
				             "%s " HOST " portguard-policyd[812]: stats: port=%u role=%s "
				             "period=3600 transactions=%u recipients=%u tls=%u plaintext=%u "
				             "tls_pct=87.1 TLSv1.3=%u TLSv1.2=%u TLSv1.1=0 TLSv1.0=0 auth=%u "
				             "auth_plaintext=0 rejected=%u would_reject=0 "
				             "reject_plaintext_auth=0 reject_auth_forbidden=0 "
				             "reject_tls_required=0 reject_tls_version=0 reject_cipher=0 "
				             "reject_auth_required=0 reject_relay=%u\n",
				             stamp, p == 0 ? 25 : p == 1 ? 587 : 465,
				             p == 0 ? "relay" : "submission", 20000 + rnd(1000),
				             21000 + rnd(1000), 17000 + rnd(900), 3000 + rnd(100),
				             12000 + rnd(500), 5000 + rnd(400), 7000 + rnd(100), 300 + rnd(50),
				             p == 0 ? 300 + rnd(50) : 0);
		}
		if (rnd(100) < 30)
			n += fprintf(f, "%s " HOST " postfix/anvil[611]: statistics: max connection "
			                "rate 3/60s for (smtp:%s) at %s\n",
			             stamp, ip, stamp);
		if (rnd(100) < 20)
			n += fprintf(f, "%s " HOST " dovecot: imap-login: Login: user=<u%u@example.org>, "
			                "method=PLAIN, rip=%s, lip=192.0.2.1, mpid=%u, TLS\n",
			             stamp, rnd(5000), ip, pid);
		if (rnd(100) < 3)
			n += fprintf(f, "%s " HOST " CRON[%u]: (root) CMD (command -v debian-sa1 > "
			                "/dev/null && debian-sa1 1 1)\n",
			             stamp, pid);
		n += fprintf(f, "%s " HOST " %s/smtpd[%u]: connect from host-%u.example.net[%s]\n",
		             stamp, svc, pid, rnd(100000), ip);
		if (tls)
			n += fprintf(f,
			             "%s " HOST " %s/smtpd[%u]: Anonymous TLS connection established "
			             "from host.example.net[%s]: %s with cipher %s (256/256 bits) "
			             "key-exchange X25519 server-signature RSA-PSS (2048 bits) "
			             "server-digest SHA256\n",
			             stamp, svc, pid, ip, tls13 ? "TLSv1.3" : "TLSv1.2",
			             tls13 ? "TLS_AES_256_GCM_SHA384" : "ECDHE-RSA-AES256-GCM-SHA384");
		if (ehlo_only) {
			n += fprintf(f, "%s " HOST " %s/smtpd[%u]: disconnect from host.example.net[%s] "
			                "ehlo=1%s quit=1 commands=%d\n",
			             stamp, svc, pid, ip, tls ? " starttls=1" : "", tls ? 3 : 2);
		} else if (probe) {
			n += fprintf(f,
			             "%s " HOST " portguard-policyd[812]: NOQUEUE: reject: port=25 "
			             "role=relay mode=enforce client=host.example.net[%s]:%u tls=none "
			             "cipher=none bits=0 sasl_method=- sasl_username=- "
			             "rcpt=<victim%u@gmail.example> rule=relay reply=\"554 5.7.1 Relay "
			             "access denied\"\n",
			             stamp, ip, cport, rnd(1000));
			n += fprintf(f,
			             "%s " HOST " postfix/smtpd[%u]: NOQUEUE: reject: RCPT from "
			             "host.example.net[%s]: 554 5.7.1 <victim@gmail.example>: Recipient "
			             "address rejected: Relay access denied; from=<spam@example.biz> "
			             "to=<victim@gmail.example> proto=ESMTP helo=<x>\n",
			             stamp, pid, ip);
			n += fprintf(f, "%s " HOST " postfix/smtpd[%u]: disconnect from host.example.net[%s] "
			                "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4\n",
			             stamp, pid, ip);
		} else {
			if (auth)
				n += fprintf(f, "%s " HOST " %s/smtpd[%u]: %s: client=host.example.net[%s], "
				                "sasl_method=PLAIN, sasl_username=user%u@example.org\n",
				             stamp, svc, pid, q, ip, rnd(20000));
			else
				n += fprintf(f, "%s " HOST " %s/smtpd[%u]: %s: client=host.example.net[%s]\n",
				             stamp, svc, pid, q, ip);
			if (!tls && port != 25)
				n += fprintf(f,
				             "%s " HOST " portguard-milter[813]: %s: reject: port=%u "
				             "role=submission mode=enforce client=host.example.net[%s]:%u "
				             "tls=none cipher=none bits=0 sasl_method=%s sasl_username=%s "
				             "rule=%s reply=\"530 5.7.0 Must issue a STARTTLS command first\"\n",
				             stamp, q, port, ip, cport, auth ? "PLAIN" : "-",
				             auth ? "user1@example.org" : "-",
				             auth ? "plaintext_auth" : "tls_required");
			n += fprintf(f, "%s " HOST " postfix/cleanup[%u]: %s: message-id=<%u.%u@example.org>\n",
			             stamp, pid + 7, q, rnd(1u << 30), rnd(1u << 30));
			n += fprintf(f, "%s " HOST " postfix/qmgr[700]: %s: from=<sender%u@example.org>, "
			                "size=%u, nrcpt=1 (queue active)\n",
			             stamp, q, rnd(5000), 1000 + rnd(90000));
			n += fprintf(f, "%s " HOST " postfix/smtp[%u]: %s: to=<rcpt%u@example.com>, "
			                "relay=mx.example.com[198.51.100.7]:25, delay=0.4, "
			                "delays=0.1/0/0.1/0.2, dsn=2.0.0, status=sent (250 2.0.0 Ok: "
			                "queued as 4XYZ)\n",
			             stamp, pid + 11, q, rnd(5000));
			n += fprintf(f, "%s " HOST " postfix/qmgr[700]: %s: removed\n", stamp, q);
			n += fprintf(f, "%s " HOST " %s/smtpd[%u]: disconnect from host.example.net[%s] "
			                "ehlo=1%s%s mail=1 rcpt=1 data=1 quit=1 commands=%d\n",
			             stamp, svc, pid, ip, tls && port != 465 ? " starttls=1" : "",
			             auth ? " auth=1" : "", 5 + (tls && port != 465) + auth);
		}
		written += (unsigned long long)n;
		sessions++;
	}
	fprintf(stderr, "loggen: %llu bytes, %lu sessions\n", written, sessions);
	return fflush(f) == 0 ? 0 : 1;
}
