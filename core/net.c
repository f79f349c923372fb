/*
 * core/net.c - IP addresses and networks as administrators write them:
 * dotted-quad IPv4, IPv6 text (RFC 4291 2.2, embedded IPv4 included),
 * CIDR suffixes, and the "192.168.0.*" wildcard form; matching a client
 * address against a network (IPv4-mapped IPv6, RFC 4291 2.5.5.2, counts
 * as the IPv4 address); printing addresses (RFC 5952 4).
 * Input: untrusted, not NUL-terminated, exact length. Strict: no
 * leading zeros in IPv4 octets (ambiguous with octal), no white space,
 * no zone ids, no brackets. Allocates nothing.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/hex.h"
#include "core/net.h"

/*
 * One decimal number of 1..maxdig digits, no leading zero unless it is
 * "0", at most max. Advances *pp. Returns the value or -1.
 */
static long
dec(const char **pp, const char *end, int maxdig, long max)
{
	const char	*p = *pp;
	long		 v = 0;
	int		 n = 0;

	while (p < end && *p >= '0' && *p <= '9') {
		if (n == maxdig)
			return -1;
		v = v * 10 + (*p - '0');
		p++;
		n++;
	}
	if (n == 0)
		return -1;
	if (n > 1 && **pp == '0')
		return -1;
	if (v > max)
		return -1;
	*pp = p;
	return v;
}

/*
 * Dotted quad in s[0..len) into out[0..4). With wild != NULL, trailing
 * "*" octets are allowed and *wild gets their count. 0 or -1.
 */
static int
parse4(const char *s, size_t len, unsigned char out[4], int *wild)
{
	const char	*p = s, *end = s + len;
	int		 nwild = 0;

	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (p == end || *p != '.')
				return -1;
			p++;
		}
		if (p < end && *p == '*' && wild != NULL) {
			nwild++;
			out[i] = 0;
			p++;
			continue;
		}
		if (nwild > 0)
			return -1;	/* a literal octet after a "*" */
		long v = dec(&p, end, 3, 255);
		if (v < 0)
			return -1;
		out[i] = (unsigned char)v;
	}
	if (p != end)
		return -1;
	if (wild != NULL)
		*wild = nwild;
	return 0;
}

/*
 * IPv6 text in s[0..len) into out[0..16): 8 groups of 1..4 hex digits,
 * at most one "::" standing for one or more zero groups, optionally a
 * dotted quad in place of the last two groups. 0 or -1.
 */
static int
parse6(const char *s, size_t len, unsigned char out[16])
{
	const char	*p = s, *end = s + len;
	uint16_t	 g[8];
	int		 ng = 0, gap = -1;

	if (len >= 2 && p[0] == ':' && p[1] == ':') {
		gap = 0;
		p += 2;
	} else if (len >= 1 && p[0] == ':')
		return -1;

	while (p < end) {
		const char	*q = p;
		unsigned	 v = 0;

		while (q < end && hex_value((unsigned char)*q) >= 0)
			q++;
		if (q < end && *q == '.') {
			/* the embedded IPv4 part: must end the text */
			unsigned char v4[4];

			if (ng > 6 || parse4(p, (size_t)(end - p), v4, NULL) != 0)
				return -1;
			g[ng++] = (uint16_t)(v4[0] << 8 | v4[1]);
			g[ng++] = (uint16_t)(v4[2] << 8 | v4[3]);
			p = end;
			break;
		}
		if (q == p || q - p > 4 || ng == 8)
			return -1;
		for (; p < q; p++)
			v = v << 4 | (unsigned)hex_value((unsigned char)*p);
		g[ng++] = (uint16_t)v;
		if (p == end)
			break;
		if (*p != ':')
			return -1;
		p++;
		if (p < end && *p == ':') {
			if (gap >= 0)
				return -1;
			gap = ng;
			p++;
		} else if (p == end)
			return -1;	/* a single trailing ":" */
	}

	if (gap < 0 && ng != 8)
		return -1;
	if (gap >= 0 && ng > 7)
		return -1;

	memset(out, 0, 16);
	int tail = gap < 0 ? 0 : ng - gap;
	for (int i = 0; i < ng - tail; i++) {
		out[2 * i] = (unsigned char)(g[i] >> 8);
		out[2 * i + 1] = (unsigned char)g[i];
	}
	for (int i = 0; i < tail; i++) {
		int dst = 8 - tail + i;

		out[2 * dst] = (unsigned char)(g[gap + i] >> 8);
		out[2 * dst + 1] = (unsigned char)g[gap + i];
	}
	return 0;
}

static int
has_colon(const char *s, size_t len)
{
	return memchr(s, ':', len) != NULL;
}

/* A bare IPv4 or IPv6 address; *out is written only on success. 0 or -1. */
int
net_addr_parse(const char *s, size_t len, struct net_addr *out)
{
	struct net_addr	a;

	memset(&a, 0, sizeof(a));
	if (s == NULL || len == 0)
		return -1;
	if (has_colon(s, len)) {
		if (parse6(s, len, a.addr) != 0)
			return -1;
		a.family = AF_INET6;
	} else {
		if (parse4(s, len, a.addr, NULL) != 0)
			return -1;
		a.family = AF_INET;
	}
	*out = a;
	return 0;
}

/* Do bytes a and b agree on their first bits bits? */
static int
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int	full = bits / 8, rest = bits % 8;

	if (full > 0 && memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* Clear the bits after the prefix; returns 1 if any was set. */
static int
clear_host_bits(unsigned char *addr, int alen, int prefix)
{
	int	set = 0;

	for (int i = 0; i < alen; i++) {
		int keep = prefix - i * 8;
		unsigned char mask;

		if (keep >= 8)
			continue;
		mask = keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
		if (addr[i] & (unsigned char)~mask)
			set = 1;
		addr[i] &= mask;
	}
	return set;
}

/*
 * A network in any of the forms of net.h; host bits under the prefix are
 * cleared and reported (1). -1 on bad syntax, *out then untouched.
 */
int
net_parse_relaxed(const char *s, size_t len, struct net *out)
{
	struct net	 n;
	const char	*slash;
	size_t		 alen;
	int		 alen_bytes, maxbits;

	memset(&n, 0, sizeof(n));
	if (s == NULL || len == 0)
		return -1;
	slash = memchr(s, '/', len);
	alen = slash != NULL ? (size_t)(slash - s) : len;

	if (has_colon(s, alen)) {
		if (parse6(s, alen, n.addr) != 0)
			return -1;
		n.family = AF_INET6;
		alen_bytes = 16;
		maxbits = 128;
		n.prefix = 128;
	} else {
		int wild = 0;

		if (parse4(s, alen, n.addr, &wild) != 0)
			return -1;
		n.family = AF_INET;
		alen_bytes = 4;
		maxbits = 32;
		n.prefix = 32 - 8 * wild;
		if (wild > 0 && slash != NULL)
			return -1;	/* wildcard or prefix, not both */
	}

	if (slash != NULL) {
		const char	*p = slash + 1, *end = s + len;
		long		 bits = dec(&p, end, 3, maxbits);

		if (bits < 0 || p != end)
			return -1;
		n.prefix = (int)bits;
	}

	int dirty = clear_host_bits(n.addr, alen_bytes, n.prefix);
	*out = n;
	return dirty;
}

/* As net_parse_relaxed(), but host bits set are an error. 0 or -1. */
int
net_parse(const char *s, size_t len, struct net *out)
{
	struct net	n;

	if (net_parse_relaxed(s, len, &n) != 0)
		return -1;
	*out = n;
	return 0;
}

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/*
 * The same family compares directly. Across families the IPv4 side is
 * seen as its IPv4-mapped IPv6 form, so a client gets the same answer
 * whether the listener's socket is IPv4 or dual-stack IPv6: 10.1.2.3 and
 * ::ffff:10.1.2.3 both fall in 10.0.0.0/8 and in ::ffff:10.0.0.0/104.
 */
int
net_match(const struct net *n, const struct net_addr *a)
{
	unsigned char	mapped[16];

	if (n->family == a->family)
		return prefix_eq(n->addr, a->addr, n->prefix);
	if (n->family == AF_INET && a->family == AF_INET6) {
		if (memcmp(a->addr, v4mapped, sizeof(v4mapped)) != 0)
			return 0;
		return prefix_eq(n->addr, a->addr + 12, n->prefix);
	}
	if (n->family == AF_INET6 && a->family == AF_INET) {
		memcpy(mapped, v4mapped, sizeof(v4mapped));
		memcpy(mapped + 12, a->addr, 4);
		return prefix_eq(n->addr, mapped, n->prefix);
	}
	return 0;
}

/* RFC 5952 4: lower case, no leading zeros, the longest run (>= 2) of
 * zero groups as "::" (the first on a tie), mapped IPv4 as dotted quad. */
static size_t
format6(const unsigned char *b, char *out, size_t cap)
{
	char		 tmp[48];
	size_t		 n = 0;
	unsigned	 g[8];
	int		 best = -1, bestlen = 0, ngroups = 8;

	for (int i = 0; i < 8; i++)
		g[i] = (unsigned)b[2 * i] << 8 | b[2 * i + 1];
	if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0)
		ngroups = 6;
	for (int i = 0; i < ngroups; ) {
		int j = i;

		while (j < ngroups && g[j] == 0)
			j++;
		if (j - i > bestlen && j - i >= 2) {
			best = i;
			bestlen = j - i;
		}
		i = j > i ? j : i + 1;
	}
	for (int i = 0; i < ngroups; i++) {
		if (i == best) {
			n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "::");
			i += bestlen - 1;
			continue;
		}
		if (i > 0 && i != best + bestlen)
			tmp[n++] = ':';
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%x", g[i]);
	}
	if (ngroups == 6) {
		if (n > 0 && tmp[n - 1] != ':')
			tmp[n++] = ':';
		n += (size_t)snprintf(tmp + n, sizeof(tmp) - n, "%u.%u.%u.%u",
		    b[12], b[13], b[14], b[15]);
	}
	tmp[n] = '\0';
	if (n + 1 > cap) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	memcpy(out, tmp, n + 1);
	return n;
}

/* Printable address into out (NUL-terminated); its length, 0 if no room. */
size_t
net_addr_format(const struct net_addr *a, char *out, size_t cap)
{
	int	n;

	if (a->family == AF_INET6)
		return format6(a->addr, out, cap);
	if (a->family != AF_INET) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	n = snprintf(out, cap, "%u.%u.%u.%u",
	    a->addr[0], a->addr[1], a->addr[2], a->addr[3]);
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

/* "addr/prefix" into out (NUL-terminated); its length, 0 if no room. */
size_t
net_format(const struct net *n, char *out, size_t cap)
{
	struct net_addr	a;
	char		buf[64];
	size_t		len;
	int		r;

	a.family = n->family;
	memcpy(a.addr, n->addr, sizeof(a.addr));
	len = net_addr_format(&a, buf, sizeof(buf));
	if (len == 0) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	r = snprintf(out, cap, "%s/%d", buf, n->prefix);
	if (r < 0 || (size_t)r >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)r;
}
