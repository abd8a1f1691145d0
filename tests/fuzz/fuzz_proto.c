/*
 * fuzz_proto.c - libFuzzer target for the policy protocol's input side.
 *
 * Feeds arbitrary bytes to proto_scan() in chunks (as reads would deliver
 * them) within the per-connection buffer bound, then proto_parse() on every
 * complete request, exactly as policyd's loop does. Any crash, overread or
 * undefined behaviour is a finding; the scanner must either ask for more,
 * report a request, or report an error.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policyd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[PG_POLICY_MAX_REQUEST];
	struct proto_scan st;
	struct pd_request req;
	char why[256];
	size_t have = 0, off = 0;
	/* the first byte picks the read size, so split requests are covered */
	size_t chunk = size > 0 ? (size_t)(data[0] % 64) + 1 : 1;

	proto_reset(&st);
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t reqlen = 0;
		enum proto_status s;

		if (n > sizeof buf - have)
			n = sizeof buf - have;
		if (n == 0)
			break;
		memcpy(buf + have, data + off, n);
		have += n;
		off += n;
		for (;;) {
			s = proto_scan(&st, buf, have, &reqlen, why, sizeof why);
			if (s != PROTO_REQUEST)
				break;
			proto_parse(buf, reqlen, &st, &req);
			for (int a = 0; a < PD_A_COUNT; a++)
				if (req.v[a] != NULL)
					(void)strlen(req.v[a]);
			memmove(buf, buf + reqlen, have - reqlen);
			have -= reqlen;
			proto_reset(&st);
		}
		if (s == PROTO_ERROR)
			return 0; /* policyd closes the connection */
	}
	return 0;
}
