/*
 * pg_limits.h - every input bound portguard enforces, named in one place.
 *
 * Each limit is tested at "just fits" and "one over" (tests/unit, tests/policy).
 * A value past a limit is an error for the peer that sent it, never a silent cut,
 * except in log output, where PG_LOG_VALUE_MAX truncates visibly ("...").
 */
#ifndef PG_LIMITS_H
#define PG_LIMITS_H

/* Policy protocol (portguard-policyd). */
#define PG_POLICY_MAX_LINE     2048 /* bytes of one name=value line, without '\n' */
#define PG_POLICY_MAX_REQUEST  8192 /* bytes of one request, all lines and '\n's */
#define PG_POLICY_MAX_ATTRS    100  /* name=value lines in one request */
#define PG_POLICY_MAX_NAME     64   /* bytes of one attribute name */
#define PG_POLICY_MAX_INSTANCE 127  /* bytes of the instance attribute we remember */

/* Values the core keeps or compares. */
#define PG_MAX_ADDRESS     512 /* recipient / sender address, bytes */
#define PG_MAX_LABEL       63  /* service label (policy_context, {daemon_name}) */
#define PG_MAX_TLS_VERSION 31  /* "TLSv1.3" */
#define PG_MAX_CIPHER      127 /* OpenSSL cipher name */
#define PG_MAX_FINGERPRINT 128 /* hex digits after separators are removed */
#define PG_MAX_REPLY       512 /* one SMTP reply line we send, incl. code */
#define PG_MAX_DOMAIN      255 /* one local domain */

/* Configuration. */
#define PG_MAX_PORTS  64 /* entries in ports = ( ... ) */
#define PG_MAX_LISTEN 16 /* policyd listen sockets */
/* The relay lists are hashed (core/strset.c) or merged into ranges
 * (core/nettable.c): a lookup costs the same at these sizes as at one. */
#define PG_MAX_LOCAL_DOMAINS 1000000 /* from the list, the file and the MTA together */
#define PG_MAX_TRUSTED_NETS  1000000 /* IPv4 and IPv6 together */
#define PG_MAX_TRUSTED_CERTS 100000
/* Entries of one list written in the config file itself; the files
 * (local_domains_file, trusted_networks_file) and the MTA fill the rest. */
#define PG_MAX_CONFIG_LIST 100000

/* Logging. */
#define PG_LOG_VALUE_MAX 200 /* client-supplied value in a log line, bytes after escaping */
#define PG_LOG_LINE_MAX  2048

/* Statistics. */
#define PG_STATS_SLOTS 128 /* distinct ports counted; further ones share "other" */

#endif
