/*
 * core/dnsname.h - names for the DNS checks: whether a name a PTR
 * record gave may be used as a host name (RFC 1034 3.5, RFC 1123 2.1)
 * before it enters a log line, a header or XCLIENT NAME=, and the
 * reversed forms of an address for PTR (RFC 1035 3.5, RFC 3596 2.5)
 * and DNSBL queries (RFC 5782 2.1, 2.4). Pure; allocates nothing.
 */
#ifndef MXS_DNSNAME_H
#define MXS_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

#include "core/net.h"

#define DNSNAME_MAX	253	/* a host name as text, no final dot */
#define DNSNAME_LABEL	63

/*
 * dnsname_is_host - is p[0..len) a host name: labels of 1..63 letters,
 * digits and hyphens, neither starting nor ending with a hyphen,
 * joined by single dots, 253 octets at most, one final dot allowed?
 * Everything else (an underscore, a "\DDD" escape, a space, any octet
 * outside ASCII, an empty label) is not. A name of digits and dots
 * only (an address in disguise, "192.0.2.1") is not either.
 */
bool	dnsname_is_host(const char *p, size_t len);

/*
 * dnsname_reverse - the name to ask for a's PTR, or for a's listing in
 * a DNSBL zone: IPv4 as its four octets reversed
 * ("2.0.0.127.zone"), IPv6 as its 32 nibbles reversed, lower case
 * ("1.0.0.0...0.0.zone"); an IPv4-mapped IPv6 address counts as IPv4.
 * zone NULL gives in-addr.arpa / ip6.arpa. Into buf (cap octets, NUL-
 * terminated). Returns the length, 0 when it does not fit or a is
 * neither family.
 */
size_t	dnsname_reverse(const struct net_addr *a, const char *zone, char *buf,
	    size_t cap);

/*
 * dnsname_dnsbl_code - may the A record addr (4 octets) of a DNSBL
 * answer count as a listing? Only inside 127.0.0.0/8 (RFC 5782 2.1:
 * anything else is an error of the list, or a list that now answers
 * everything), and, when codes is not empty, equal to one of them
 * (IPv4 addresses, as written in the configuration). Returns 1: it
 * counts; 0: a code the zone's codes do not name; -1: outside
 * 127.0.0.0/8.
 */
int	dnsname_dnsbl_code(const unsigned char addr[4], char *const *codes,
	    size_t ncodes);

#endif
