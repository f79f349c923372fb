/*
 * proxy/dnstool.h - mxshield --dns-lookup NAME [TYPE]: what mxshield's
 * own resolver (proxy/dns.c, with the configuration's dns settings)
 * sees for one question, printed for an administrator.
 */
#ifndef MXS_DNSTOOL_H
#define MXS_DNSTOOL_H

#include <stdio.h>

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

#endif
