/*
 * core/net.h - IP networks as administrators write them: CIDR for IPv4
 * and IPv6, single addresses, and the wildcard form "192.168.0.*" /
 * "10.*.*.*" (each trailing "*" stands for one whole octet). Matching a
 * client address against a network. Pure; allocates nothing.
 */
#ifndef MXS_NET_H
#define MXS_NET_H

#include <stddef.h>

struct net {
	int		family;		/* AF_INET or AF_INET6 */
	unsigned char	addr[16];	/* network bytes, host bits zero */
	int		prefix;		/* 0..32 or 0..128 */
};

/* An address to match: family and bytes (4 or 16 used). */
struct net_addr {
	int		family;
	unsigned char	addr[16];
};

/*
 * net_parse - parse s[0..len) into *out. Accepts "a.b.c.d", "a.b.c.d/n",
 * "a.b.*.*" (wildcards only trailing, at least one literal octet or all
 * four "*"), IPv6 text (RFC 4291 2.2, incl. embedded IPv4) with optional
 * "/n". Host bits set under the prefix are an error (-1), as a typo
 * there usually means the administrator meant something else.
 * Returns 0 or -1.
 */
int	net_parse(const char *s, size_t len, struct net *out);

/*
 * net_parse_relaxed - as net_parse, but host bits set under the prefix
 * are cleared instead of refused: returns 1 when it cleared some, 0 when
 * there were none, -1 on a syntax error. Lets a configuration error say
 * "did you mean 10.0.0.0/8?".
 */
int	net_parse_relaxed(const char *s, size_t len, struct net *out);

/* net_addr_parse - a bare address (no prefix, no wildcard). 0 or -1. */
int	net_addr_parse(const char *s, size_t len, struct net_addr *out);

/*
 * net_match - does a fall in n? An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) matches IPv4 networks as the IPv4 address, and an
 * IPv4 address matches IPv6 networks as its mapped form, so the answer
 * does not depend on whether the listening socket was IPv4 or IPv6.
 */
int	net_match(const struct net *n, const struct net_addr *a);

/*
 * net_addr_format - printable form of an address ("192.0.2.1",
 * "2001:db8::1", "::ffff:192.0.2.1"; RFC 5952 4). Writes a NUL-terminated
 * string; returns its length, or 0 (and "") if cap is too small: 46 bytes
 * always suffice.
 */
size_t	net_addr_format(const struct net_addr *a, char *out, size_t cap);

/* net_format - a network as "10.0.0.0/8", "2001:db8::/32"; as above. */
size_t	net_format(const struct net *n, char *out, size_t cap);

#endif
