/*
 * fuzz_relay.c - libFuzzer target for the relay check and the trust lookups.
 *
 * The recipient (in both of SPEC's forms, the origin domain unknown and
 * local), the resolved address and the client address come straight from
 * SMTP clients; the check must answer local/remote (or trusted/not)
 * for any bytes, without reading past the string or allocating.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pg_relay relay;

static void relay_setup(void)
{
	static char *domains[] = {NULL, NULL, NULL};
	static char *parents[] = {NULL};
	static struct pg_net nets[2];

	domains[0] = strdup("example.org");
	domains[1] = strdup("[192.0.2.1]");
	domains[2] = strdup("mail.example.net");
	parents[0] = strdup("example.org");
	char **d = malloc(sizeof domains);
	char **p = malloc(sizeof parents);
	memcpy(d, domains, sizeof domains);
	memcpy(p, parents, sizeof parents);
	strset_build(&relay.domains, d, 3);
	strset_build(&relay.parents, p, 1);
	(void)relay_net_parse("127.0.0.0/8", &nets[0]);
	(void)relay_net_parse("2001:db8::/32", &nets[1]);
	relay.nets = nets;
	relay.nnets = 2;
	if (!relay_nets_build(&relay))
		abort();
	relay.authenticated_may_relay = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char s[PG_MAX_ADDRESS * 2 + 1];
	char fp[PG_MAX_FINGERPRINT + 1];
	struct pg_net net;

	if (!ready) {
		relay_setup();
		ready = 1;
	}
	if (size > sizeof s - 1)
		size = sizeof s - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	relay.origin_domain = NULL;
	(void)relay_rcpt_is_local(&relay, s, RELAY_FORM_INTERNAL);
	(void)relay_rcpt_is_local(&relay, s, RELAY_FORM_QUOTED);
	relay.origin_domain = "example.org";
	(void)relay_rcpt_is_local(&relay, s, RELAY_FORM_INTERNAL);
	(void)relay_rcpt_is_local(&relay, s, RELAY_FORM_QUOTED);
	(void)relay_client_trusted(&relay, s);
	(void)relay_net_parse(s, &net);
	(void)relay_fingerprint_normalise(s, fp, sizeof fp);
	(void)relay_cert_trusted(&relay, s);
	return 0;
}
