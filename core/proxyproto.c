/*
 * core/proxyproto.c - the PROXY protocol header, versions 1 (text) and
 * 2 (binary), as HAProxy's proxy-protocol.txt defines them: parsing the
 * header a load balancer sends first (sections 2.1, 2.2), and building
 * one for the backend. Input: untrusted bytes of a connection's start
 * (the caller admits only trusted_proxies), not NUL-terminated, exact
 * length. Stateless: every call reads from the first byte, which costs
 * little as a header is at most PP_V2_MAX bytes. Allocates nothing;
 * spans point into the input.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/proxyproto.h"

static const unsigned char v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* v1 transport names, in the order of enum v1proto. */
enum v1proto { V1_NONE = 0, V1_TCP4, V1_TCP6, V1_UNKNOWN };
static const char *const v1names[] = { "", "TCP4", "TCP6", "UNKNOWN" };

/* The longest address text: dotted quad, IPv6 with embedded IPv4. */
#define V1_ADDR4_MAX	15
#define V1_ADDR6_MAX	45

/* How many of p[0..n) lie in set, from the start (no NUL in either). */
static size_t
count_in(const char *p, size_t n, const char *set)
{
	size_t i = 0;

	while (i < n && p[i] != '\0' && strchr(set, p[i]) != NULL)
		i++;
	return i;
}

static int
fail(struct pp_result *out, int rc, const char *why)
{
	out->why = why;
	return rc;
}

/*
 * One v1 field p[0..n), the idx-th after "PROXY " (0 transport, 1 src,
 * 2 dst, 3 sport, 4 dport). complete says a delimiter followed it; if
 * not, it only has to be a possible start of a valid field. 0 or error.
 */
static int
v1_field(const char *p, size_t n, int idx, int complete, enum v1proto *proto,
    struct pp_result *out)
{
	struct net_addr	 a;
	const char	*chars;
	size_t		 max;
	long		 v = 0;

	if (complete && n == 0)
		return fail(out, PP_E_MALFORMED, "empty field");
	if (idx == 0) {
		for (int i = V1_TCP4; i <= V1_UNKNOWN; i++) {
			size_t l = strlen(v1names[i]);

			if (complete ? n == l && memcmp(p, v1names[i], l) == 0
			    : n <= l && memcmp(p, v1names[i], n) == 0) {
				if (complete)
					*proto = (enum v1proto)i;
				return 0;
			}
		}
		return fail(out, PP_E_MALFORMED, "bad transport");
	}
	if (idx == 1 || idx == 2) {
		chars = *proto == V1_TCP4 ? "0123456789." :
		    "0123456789abcdefABCDEF:.";
		max = *proto == V1_TCP4 ? V1_ADDR4_MAX : V1_ADDR6_MAX;
		if (n > max || count_in(p, n, chars) < n)
			return fail(out, PP_E_MALFORMED, "bad address");
		if (!complete)
			return 0;
		if (net_addr_parse(p, n, &a) != 0 ||
		    a.family != (*proto == V1_TCP4 ? AF_INET : AF_INET6))
			return fail(out, PP_E_MALFORMED, "bad address");
		if (idx == 1)
			out->src = a;
		else
			out->dst = a;
		return 0;
	}
	/* a port: digits, no leading zero, at most 65535 */
	if (n > 5 || count_in(p, n, "0123456789") < n)
		return fail(out, PP_E_MALFORMED, "bad port");
	if (n > 1 && p[0] == '0')
		return fail(out, PP_E_MALFORMED, "bad port");
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	if (v > 65535)
		return fail(out, PP_E_MALFORMED, "bad port");
	if (complete) {
		if (idx == 3)
			out->sport = (int)v;
		else
			out->dport = (int)v;
	}
	return 0;
}

/*
 * The v1 line: p[0..6) is "PROXY " already. Walks the bytes once,
 * checking each field when its delimiter arrives and the last, partial
 * one as a prefix, so an error is found at the first byte that proves
 * it.
 */
static int
parse_v1(const char *p, size_t len, struct pp_result *out)
{
	enum v1proto	 proto = V1_NONE;
	size_t		 i, start = 6;
	int		 idx = 0, r;

	for (i = 6; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			break;
		if (c < 0x20 || c > 0x7e)
			return fail(out, PP_E_MALFORMED, "control byte");
		if (i >= PP_V1_MAX - 2)
			return fail(out, PP_E_MALFORMED, "line too long");
		if (proto == V1_UNKNOWN)
			continue;	/* the ignored rest of UNKNOWN */
		if (c != ' ')
			continue;
		r = v1_field(p + start, i - start, idx, 1, &proto, out);
		if (r < 0)
			return r;
		if (idx == 4)
			return fail(out, PP_E_MALFORMED, "trailing space");
		idx++;
		start = i + 1;
	}
	if (proto != V1_UNKNOWN) {
		/* the field the CR or the end of the bytes cut */
		r = v1_field(p + start, i - start, idx, i < len, &proto, out);
		if (r < 0)
			return r;
	}
	if (i == len)
		return 0;
	if (proto != V1_UNKNOWN && idx != 4)
		return fail(out, PP_E_MALFORMED, "missing field");
	if (i + 1 == len)
		return 0;
	if (p[i + 1] != '\n')
		return fail(out, PP_E_MALFORMED, "CR without LF");

	out->version = 1;
	out->command = PP_CMD_PROXY;
	if (proto == V1_UNKNOWN) {
		memset(&out->src, 0, sizeof(out->src));
		memset(&out->dst, 0, sizeof(out->dst));
		out->family = AF_UNSPEC;
		out->proto = PP_PROTO_UNSPEC;
		out->unknown = 1;
	} else {
		out->family = proto == V1_TCP4 ? AF_INET : AF_INET6;
		out->proto = PP_PROTO_STREAM;
	}
	return (int)(i + 2);
}

static unsigned
be16(const char *p)
{
	return (unsigned)(unsigned char)p[0] << 8 | (unsigned char)p[1];
}

/* TLVs in p[0..n) must be whole and fill it exactly (spec 2.2.7). */
static int
v2_tlvs(const char *p, size_t n, struct pp_result *out)
{
	size_t off = 0;

	while (off < n) {
		if (n - off < 3)
			return fail(out, PP_E_MALFORMED, "truncated TLV");
		size_t vlen = be16(p + off + 1);
		if (n - off - 3 < vlen)
			return fail(out, PP_E_MALFORMED, "TLV overruns header");
		off += 3 + vlen;
	}
	out->tlv = span_make(p, n);
	return 0;
}

static int
parse_v2(const char *p, size_t len, struct pp_result *out)
{
	static const size_t blocksize[4] = { 0, 12, 36, 216 };
	static const int families[4] = {
		AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX
	};
	unsigned	 vc, fp, fam, tp;
	size_t		 hlen, block;
	const char	*b;

	if (len < 13)
		return 0;
	vc = (unsigned char)p[12];
	if (vc >> 4 != 2)
		return fail(out, PP_E_MALFORMED, "version not 2");
	if ((vc & 0x0f) > PP_CMD_PROXY)
		return fail(out, PP_E_MALFORMED, "bad command");
	if (len < 14)
		return 0;
	fp = (unsigned char)p[13];
	fam = fp >> 4;
	tp = fp & 0x0f;
	if (fam > 3 || tp > 2 || (fam == 0) != (tp == 0))
		return fail(out, PP_E_MALFORMED, "bad family or protocol");
	if (len < PP_V2_HDR)
		return 0;
	hlen = be16(p + 14);
	block = blocksize[fam];
	if (hlen > block + PP_V2_MAX_TLV)
		return fail(out, PP_E_TOOBIG, "header too long");
	if ((vc & 0x0f) == PP_CMD_PROXY && hlen < block)
		return fail(out, PP_E_MALFORMED, "length below address block");
	if (len - PP_V2_HDR < hlen)
		return 0;

	out->version = 2;
	out->family = families[fam];
	out->proto = (enum pp_proto)tp;
	if ((vc & 0x0f) == PP_CMD_LOCAL) {
		out->command = PP_CMD_LOCAL;
		out->unknown = 1;
		return (int)(PP_V2_HDR + hlen);
	}
	out->command = PP_CMD_PROXY;
	b = p + PP_V2_HDR;
	if (v2_tlvs(b + block, hlen - block, out) < 0)
		return PP_E_MALFORMED;
	if (tp != PP_PROTO_STREAM || (fam != 1 && fam != 2)) {
		out->unknown = 1;
		return (int)(PP_V2_HDR + hlen);
	}
	if (fam == 1) {
		out->src.family = out->dst.family = AF_INET;
		memcpy(out->src.addr, b, 4);
		memcpy(out->dst.addr, b + 4, 4);
		out->sport = (int)be16(b + 8);
		out->dport = (int)be16(b + 10);
	} else {
		out->src.family = out->dst.family = AF_INET6;
		memcpy(out->src.addr, b, 16);
		memcpy(out->dst.addr, b + 16, 16);
		out->sport = (int)be16(b + 32);
		out->dport = (int)be16(b + 34);
	}
	return (int)(PP_V2_HDR + hlen);
}

static int
parse_any(const char *p, size_t len, struct pp_result *out)
{
	static const char v1sig[] = "PROXY ";
	size_t n;

	if (len == 0)
		return 0;
	if (p[0] == 'P') {
		n = len < 6 ? len : 6;
		if (memcmp(p, v1sig, n) != 0)
			return fail(out, PP_E_NOTPROXY, "not a PROXY header");
		if (len < 6)
			return 0;
		return parse_v1(p, len, out);
	}
	n = len < sizeof(v2sig) ? len : sizeof(v2sig);
	if (memcmp(p, v2sig, n) != 0)
		return fail(out, PP_E_NOTPROXY, "not a PROXY header");
	return parse_v2(p, len, out);
}

int
pp_parse(const char *p, size_t len, struct pp_result *out)
{
	const char	*why;
	int		 rc;

	memset(out, 0, sizeof(*out));
	rc = parse_any(p, len, out);
	if (rc <= 0) {
		/* fields filled before the error are not a result */
		why = out->why;
		memset(out, 0, sizeof(*out));
		out->why = why;
	}
	return rc;
}

const char *
pp_rc_name(int rc)
{
	if (rc > 0)
		return "OK";
	switch (rc) {
	case 0:
		return "NEED_MORE";
	case PP_E_NOTPROXY:
		return "NOTPROXY";
	case PP_E_MALFORMED:
		return "MALFORMED";
	case PP_E_TOOBIG:
		return "TOOBIG";
	}
	return "?";
}

/* ---------------------------------------------------------------- */
/* Building */

/* The IPv4 bytes of a, if it is IPv4 or IPv4-mapped IPv6. 1 or 0. */
static int
as_v4(const struct net_addr *a, unsigned char v4[4])
{
	if (a->family == AF_INET) {
		memcpy(v4, a->addr, 4);
		return 1;
	}
	if (a->family == AF_INET6 &&
	    memcmp(a->addr, v4mapped, sizeof(v4mapped)) == 0) {
		memcpy(v4, a->addr + 12, 4);
		return 1;
	}
	return 0;
}

/* a as 16 IPv6 bytes, IPv4 as mapped. 1, or 0 for other families. */
static int
as_v6(const struct net_addr *a, unsigned char v6[16])
{
	if (a->family == AF_INET6) {
		memcpy(v6, a->addr, 16);
		return 1;
	}
	if (a->family == AF_INET) {
		memcpy(v6, v4mapped, sizeof(v4mapped));
		memcpy(v6 + 12, a->addr, 4);
		return 1;
	}
	return 0;
}

/*
 * The family both addresses are written in: AF_INET, AF_INET6, or
 * AF_UNSPEC when one is neither. Fills s and d (4 or 16 bytes).
 */
static int
pick_family(const struct net_addr *src, const struct net_addr *dst,
    unsigned char s[16], unsigned char d[16])
{
	if (as_v4(src, s) && as_v4(dst, d))
		return AF_INET;
	if (as_v6(src, s) && as_v6(dst, d))
		return AF_INET6;
	return AF_UNSPEC;
}

/* IPv6 bytes as text; a mapped address in hex groups, not dotted. */
static size_t
v1_addr6(const unsigned char b[16], char *out, size_t cap)
{
	struct net_addr	a;
	int		n;

	if (memcmp(b, v4mapped, sizeof(v4mapped)) == 0) {
		n = snprintf(out, cap, "::ffff:%x:%x",
		    (unsigned)b[12] << 8 | b[13], (unsigned)b[14] << 8 | b[15]);
		return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
	}
	a.family = AF_INET6;
	memcpy(a.addr, b, 16);
	return net_addr_format(&a, out, cap);
}

static int
port_ok(int port)
{
	return port >= 0 && port <= 65535;
}

size_t
pp_build_v1(char *out, size_t cap, const struct net_addr *src, int sport,
    const struct net_addr *dst, int dport)
{
	unsigned char	 s[16], d[16];
	char		 stxt[48], dtxt[48];
	int		 fam, n;

	if (!port_ok(sport) || !port_ok(dport))
		return 0;
	fam = pick_family(src, dst, s, d);
	if (fam == AF_UNSPEC)
		n = snprintf(out, cap, "PROXY UNKNOWN\r\n");
	else if (fam == AF_INET)
		n = snprintf(out, cap,
		    "PROXY TCP4 %u.%u.%u.%u %u.%u.%u.%u %d %d\r\n",
		    s[0], s[1], s[2], s[3], d[0], d[1], d[2], d[3],
		    sport, dport);
	else {
		if (v1_addr6(s, stxt, sizeof(stxt)) == 0 ||
		    v1_addr6(d, dtxt, sizeof(dtxt)) == 0)
			return 0;
		n = snprintf(out, cap, "PROXY TCP6 %s %s %d %d\r\n",
		    stxt, dtxt, sport, dport);
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

static void
put16(char *p, unsigned v)
{
	p[0] = (char)(v >> 8 & 0xff);
	p[1] = (char)(v & 0xff);
}

size_t
pp_build_v2(char *out, size_t cap, const struct net_addr *src, int sport,
    const struct net_addr *dst, int dport)
{
	unsigned char	 s[16], d[16];
	size_t		 alen, total;
	int		 fam;

	if (!port_ok(sport) || !port_ok(dport))
		return 0;
	fam = pick_family(src, dst, s, d);
	alen = fam == AF_INET ? 4 : 16;
	total = fam == AF_UNSPEC ? PP_V2_HDR : PP_V2_HDR + 2 * alen + 4;
	if (cap < total)
		return 0;
	memcpy(out, v2sig, sizeof(v2sig));
	if (fam == AF_UNSPEC) {
		out[12] = 0x20;		/* version 2, LOCAL */
		out[13] = 0x00;		/* UNSPEC */
		put16(out + 14, 0);
		return total;
	}
	out[12] = 0x21;			/* version 2, PROXY */
	out[13] = fam == AF_INET ? 0x11 : 0x21;	/* STREAM over INET/INET6 */
	put16(out + 14, (unsigned)(2 * alen + 4));
	memcpy(out + PP_V2_HDR, s, alen);
	memcpy(out + PP_V2_HDR + alen, d, alen);
	put16(out + PP_V2_HDR + 2 * alen, (unsigned)sport);
	put16(out + PP_V2_HDR + 2 * alen + 2, (unsigned)dport);
	return total;
}
