/*
 * proxy/dnstool.h - mxshield --dns-lookup NAME [TYPE]: what mxshield's
 * own resolver (proxy/dns.c, with the configuration's dns settings)
 * sees for one question, printed for an administrator; and the one
 * question itself, on a private loop, which the start also asks
 * (proxy/check.c: backend.address by name).
 */
#ifndef MXS_DNSTOOL_H
#define MXS_DNSTOOL_H

#include <stdio.h>

#include "core/dnsmsg.h"
#include "proxy/config.h"

/*
 * dns_tool - ask name's records of type ("A" when NULL; A, AAAA, MX,
 * PTR, TXT, CNAME; an IP address with PTR or no type is turned into its
 * reverse name) and print the status, TTL and records to out. Exit
 * status: 0 records, 1 NXDOMAIN or NODATA, 2 TEMPFAIL or bad usage
 * (reported on err).
 */
int	dns_tool(const struct config *cfg, const char *name, const char *type,
	    FILE *out, FILE *err);

/*
 * dns_resolve_sync - for the start and the command line: run a private
 * resolver on its own loop until name's type records (or a failure)
 * are known, into *out (out->status, out->ttl, the records); for
 * TEMPFAIL the reason into why (cap bytes). 0, or -1 with why when the
 * resolver cannot start.
 */
int		 dns_resolve_sync(const struct config *cfg, const char *name,
		    uint16_t type, struct dns_answer *out, char *why,
		    size_t cap);

#endif
