/*
 * macros.c - turn milter macro values into facts, strictly.
 *
 * Input: strings the MTA sent (Sendmail and Postfix spell them alike, except
 * where noted). Output: bounded copies and numbers. A value that does not
 * fit or does not parse is treated as absent, never cut short. Pure: no
 * libmilter calls, no allocation, so the unit tests drive it directly.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "milter.h"

bool macro_copy(char *dst, size_t dstlen, const char *src)
{
	size_t len;

	if (dstlen == 0)
		return false;
	dst[0] = '\0';
	if (src == NULL)
		return true;
	len = strlen(src);
	if (len >= dstlen)
		return false;
	memcpy(dst, src, len + 1);
	return true;
}

bool macro_client_addr(char *dst, size_t dstlen, const char *value)
{
	static const char v6tag[] = "IPv6:";
	struct in6_addr a6;
	struct in_addr a4;
	const char *s = value;

	if (dstlen > 0)
		dst[0] = '\0';
	if (s == NULL || *s == '\0')
		return false;
	if (strncasecmp(s, v6tag, sizeof v6tag - 1) == 0) {
		s += sizeof v6tag - 1;
		if (inet_pton(AF_INET6, s, &a6) != 1)
			return false;
	} else if (inet_pton(AF_INET, s, &a4) != 1 && inet_pton(AF_INET6, s, &a6) != 1) {
		return false;
	}
	return macro_copy(dst, dstlen, s);
}

/* Plain decimal, at most max; no sign, no spaces, no leading junk. */
static bool parse_decimal(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;

	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	*out = (unsigned)v;
	return true;
}

bool macro_port(const char *value, unsigned *out)
{
	unsigned v;

	*out = 0;
	if (!parse_decimal(value, 65535, &v) || v == 0)
		return false;
	*out = v;
	return true;
}

bool macro_bits(const char *value, unsigned *out)
{
	*out = 0;
	return parse_decimal(value, 65535, out);
}

enum milter_mta macro_mta_kind(const char *v)
{
	if (v == NULL || *v == '\0')
		return MILTER_MTA_UNKNOWN;
	if (strncasecmp(v, "Postfix", 7) == 0)
		return MILTER_MTA_POSTFIX;
	if (isdigit((unsigned char)v[0]))
		return MILTER_MTA_SENDMAIL;
	return MILTER_MTA_UNKNOWN;
}

const char *macro_auth_fix(enum milter_mta mta)
{
	switch (mta) {
	case MILTER_MTA_POSTFIX:
		return "smtpd_tls_auth_only=yes (Postfix)";
	case MILTER_MTA_SENDMAIL:
		return "AuthOptions=p via define(`confAUTH_OPTIONS', `p') (Sendmail)";
	case MILTER_MTA_UNKNOWN:
		break;
	}
	return "smtpd_tls_auth_only=yes (Postfix) or AuthOptions=p via "
	       "define(`confAUTH_OPTIONS', `p') (Sendmail)";
}

const char *macro_port_fix(enum milter_mta mta)
{
	static const char postfix[] = "milter_connect_macros = j {daemon_name} {daemon_addr} "
	                              "{daemon_port} v _ (Postfix main.cf)";
	static const char sendmail[] =
	    "define(`confMILTER_MACROS_CONNECT', confMILTER_MACROS_CONNECT`, {daemon_port}') "
	    "(Sendmail .mc)";

	switch (mta) {
	case MILTER_MTA_POSTFIX:
		return postfix;
	case MILTER_MTA_SENDMAIL:
		return sendmail;
	case MILTER_MTA_UNKNOWN:
		break;
	}
	return "milter_connect_macros = j {daemon_name} {daemon_addr} {daemon_port} v _ "
	       "(Postfix main.cf) or define(`confMILTER_MACROS_CONNECT', "
	       "confMILTER_MACROS_CONNECT`, {daemon_port}') (Sendmail .mc)";
}
