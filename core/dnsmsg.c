/*
 * core/dnsmsg.c - read a DNS response (RFC 1035 4.1) into struct
 * dns_answer: header, the one question, the answer section (the asked
 * name's CNAME chain followed, then its records of the asked type) and,
 * for a negative answer, the authority section's SOA (RFC 2308 5).
 * Input: untrusted bytes from the network. Every read is checked
 * against the message length; compression pointers must point before
 * the labels they stand for (no loop can form) and a name stays within
 * 255 octets (RFC 1035 3.1); the output is fixed-size and what does
 * not fit is reported as truncated. Allocates nothing.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/dnsmsg.h"

#define HDR_LEN		12
#define CLASS_IN	1
#define RC_NOERROR	0
#define RC_NXDOMAIN	3

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* RFC 2181 8: a TTL with the top bit set is taken as zero. */
static uint32_t
ttl_of(uint32_t v)
{
	return v & 0x80000000u ? 0 : v;
}

static int
plain(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* See dnsmsg.h. */
int
dnsmsg_name(const uint8_t *p, size_t len, size_t *off, char buf[DNS_NAME_BUF])
{
	size_t	pos = *off, limit = *off, end = 0, n = 0, wire = 0;
	int	jumped = 0;

	for (;;) {
		uint8_t c;

		if (pos >= len)
			return -1;
		c = p[pos];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr;

			if (pos + 1 >= len)
				return -1;
			ptr = (size_t)(c & 0x3f) << 8 | p[pos + 1];
			/* strictly backwards: every jump lowers limit */
			if (ptr >= limit)
				return -1;
			if (!jumped)
				end = pos + 2;
			jumped = 1;
			limit = pos = ptr;
			continue;
		}
		if (c & 0xc0)		/* 0x40, 0x80: no such label type */
			return -1;
		if (c == 0) {
			pos++;
			break;
		}
		wire += (size_t)c + 1;
		if (wire + 1 > 255 || pos + 1 + c > len)
			return -1;
		if (n > 0)
			buf[n++] = '.';
		for (size_t i = 1; i <= c; i++) {
			uint8_t b = p[pos + i];

			if (plain(b))
				buf[n++] = (char)b;
			else
				n += (size_t)snprintf(buf + n, DNS_NAME_BUF - n,
				    "\\%03u", b);
		}
		pos += 1 + (size_t)c;
	}
	buf[n] = '\0';
	*off = jumped ? end : pos;
	return (int)n;
}

/* One resource record's fixed part, its RDATA at rd (rdlen bytes). */
struct rrhdr {
	char		 owner[DNS_NAME_BUF];
	uint16_t	 type, class;
	uint32_t	 ttl;
	size_t		 rd, rdlen;
};

/* Read the RR at *off; *off moves past it. 0, or -1 when it does not
 * fit in the message. */
static int
read_rr(const uint8_t *p, size_t len, size_t *off, struct rrhdr *h)
{
	if (dnsmsg_name(p, len, off, h->owner) < 0 || len - *off < 10)
		return -1;
	h->type = get16(p + *off);
	h->class = get16(p + *off + 2);
	h->ttl = ttl_of(get32(p + *off + 4));
	h->rdlen = get16(p + *off + 8);
	h->rd = *off + 10;
	if (h->rdlen > len - h->rd)
		return -1;
	*off = h->rd + h->rdlen;
	return 0;
}

/* A name filling the RDATA from rd + skip exactly. -1 otherwise. */
static int
rd_name(const uint8_t *p, size_t len, const struct rrhdr *h, size_t skip,
    char buf[DNS_NAME_BUF])
{
	size_t	off = h->rd + skip;
	int	n;

	if (skip > h->rdlen)
		return -1;
	/* the name may point back into the message, but its own bytes
	 * must lie inside the RDATA */
	n = dnsmsg_name(p, h->rd + h->rdlen, &off, buf);
	if (n < 0 || off != h->rd + h->rdlen)
		return -1;
	(void)len;
	return n;
}

static int
put_data(struct dns_answer *out, const void *s, size_t n, int nul,
    struct dns_rr *rr)
{
	if (n + (size_t)nul > DNS_DATA_MAX - out->ndata) {
		out->truncated = 1;
		return -1;
	}
	rr->off = (uint16_t)out->ndata;
	rr->len = (uint16_t)n;
	memcpy(out->data + out->ndata, s, n);
	out->ndata += n;
	if (nul)
		out->data[out->ndata++] = '\0';
	return 0;
}

/* Add the record h (of the asked type) to out. -1: malformed. */
static int
add_rr(const uint8_t *p, size_t len, const struct rrhdr *h,
    struct dns_answer *out)
{
	struct dns_rr	 rr;
	char		 name[DNS_NAME_BUF];
	int		 n;

	memset(&rr, 0, sizeof(rr));
	rr.type = h->type;
	rr.ttl = h->ttl;
	switch (h->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (h->rdlen != (h->type == DNS_T_A ? 4u : 16u))
			return -1;
		memcpy(rr.addr, p + h->rd, h->rdlen);
		break;
	case DNS_T_MX:
		if (h->rdlen < 3 || (n = rd_name(p, len, h, 2, name)) < 0)
			return -1;
		rr.pref = get16(p + h->rd);
		if (put_data(out, name, (size_t)n, 1, &rr) < 0)
			return 0;
		break;
	case DNS_T_PTR:
	case DNS_T_CNAME:
		if ((n = rd_name(p, len, h, 0, name)) < 0)
			return -1;
		if (put_data(out, name, (size_t)n, 1, &rr) < 0)
			return 0;
		break;
	case DNS_T_TXT:
		for (size_t i = 0; i < h->rdlen; i += 1 + p[h->rd + i]) {
			if (1 + (size_t)p[h->rd + i] > h->rdlen - i)
				return -1;
			rr.nstr++;
		}
		if (put_data(out, p + h->rd, h->rdlen, 0, &rr) < 0)
			return 0;
		break;
	default:
		return 0;	/* a type we do not read: left out */
	}
	if (out->nrr >= DNS_RR_MAX) {
		out->truncated = 1;
		return 0;
	}
	if (rr.ttl < out->ttl)
		out->ttl = rr.ttl;
	out->rr[out->nrr++] = rr;
	return 0;
}

/*
 * The target of a CNAME owned by name in the answer section (from off,
 * count records), into target; its TTL in *ttl. 1 found, 0 none, -1
 * malformed.
 */
static int
find_cname(const uint8_t *p, size_t len, size_t off, unsigned count,
    const char *name, char target[DNS_NAME_BUF], uint32_t *ttl)
{
	struct rrhdr h;

	for (unsigned i = 0; i < count; i++) {
		if (read_rr(p, len, &off, &h) < 0)
			return -1;
		if (h.type != DNS_T_CNAME || h.class != CLASS_IN ||
		    strcasecmp(h.owner, name) != 0)
			continue;
		if (rd_name(p, len, &h, 0, target) < 0)
			return -1;
		*ttl = h.ttl;
		return 1;
	}
	return 0;
}

/* RFC 2308 5: the negative TTL is min(SOA TTL, SOA MINIMUM); 0 when
 * the authority section has no SOA. -1: malformed. */
static int
negative_ttl(const uint8_t *p, size_t len, size_t off, unsigned count,
    uint32_t *ttl)
{
	struct rrhdr	 h;
	char		 name[DNS_NAME_BUF];

	*ttl = 0;
	for (unsigned i = 0; i < count; i++) {
		size_t o;

		if (read_rr(p, len, &off, &h) < 0)
			return -1;
		if (h.type != DNS_T_SOA || h.class != CLASS_IN)
			continue;
		o = h.rd;
		if (dnsmsg_name(p, h.rd + h.rdlen, &o, name) < 0 ||
		    dnsmsg_name(p, h.rd + h.rdlen, &o, name) < 0 ||
		    h.rd + h.rdlen - o != 20)
			return -1;
		uint32_t min = ttl_of(get32(p + o + 16));
		*ttl = h.ttl < min ? h.ttl : min;
		return 0;
	}
	return 0;
}

static enum dnsmsg_rc
fail(struct dns_answer *out, enum dnsmsg_rc rc)
{
	out->status = DNS_TEMPFAIL;
	out->nrr = 0;
	out->ndata = 0;
	out->ttl = 0;
	return rc;
}

/* See dnsmsg.h. */
enum dnsmsg_rc
dnsmsg_parse(const uint8_t *p, size_t len, const char *qname, uint16_t qtype,
    struct dns_answer *out)
{
	char		 cur[DNS_NAME_BUF], next[DNS_NAME_BUF];
	struct rrhdr	 h;
	size_t		 off, an_off;
	unsigned	 qd, an, ns, flags;
	uint32_t	 ttl;

	memset(out, 0, offsetof(struct dns_answer, rr));
	out->ndata = 0;
	out->qtype = qtype;
	out->ttl = UINT32_MAX;
	if (len < HDR_LEN)
		return fail(out, DNSMSG_E_SHORT);
	flags = get16(p + 2);
	qd = get16(p + 4);
	an = get16(p + 6);
	ns = get16(p + 8);
	out->rcode = flags & 0xf;
	out->tc = (flags & 0x0200) != 0;
	if (!(flags & 0x8000) || ((flags >> 11) & 0xf) != 0)
		return fail(out, DNSMSG_E_NOTRESP);
	if (qd != 1)
		return fail(out, DNSMSG_E_QUESTION);
	off = HDR_LEN;
	if (dnsmsg_name(p, len, &off, cur) < 0)
		return fail(out, DNSMSG_E_FORMAT);
	if (len - off < 4)
		return fail(out, DNSMSG_E_FORMAT);
	if ((qname != NULL && strcasecmp(cur, qname) != 0) ||
	    get16(p + off) != qtype || get16(p + off + 2) != CLASS_IN)
		return fail(out, DNSMSG_E_QUESTION);
	off += 4;

	/* the whole answer and authority sections must be well formed */
	an_off = off;
	for (unsigned i = 0; i < an + ns; i++)
		if (read_rr(p, len, &off, &h) < 0)
			return fail(out, DNSMSG_E_FORMAT);

	/* follow the CNAME chain from the question's name */
	for (int hop = 0; qtype != DNS_T_CNAME && hop < DNS_CHAIN_MAX; hop++) {
		int r = find_cname(p, len, an_off, an, cur, next, &ttl);

		if (r < 0)
			return fail(out, DNSMSG_E_FORMAT);
		if (r == 0)
			break;
		memcpy(cur, next, sizeof(cur));
		if (ttl < out->ttl)
			out->ttl = ttl;
	}
	off = an_off;
	for (unsigned i = 0; i < an; i++) {
		if (read_rr(p, len, &off, &h) < 0)
			return fail(out, DNSMSG_E_FORMAT);
		if (h.type != qtype || h.class != CLASS_IN ||
		    strcasecmp(h.owner, cur) != 0)
			continue;
		if (add_rr(p, len, &h, out) < 0)
			return fail(out, DNSMSG_E_FORMAT);
	}

	if (out->rcode == RC_NOERROR && out->nrr > 0) {
		out->status = DNS_OK;
		return DNSMSG_OK;
	}
	if (out->rcode == RC_NOERROR && out->truncated) {
		/* records that did not fit are not "no data" */
		return fail(out, DNSMSG_OK);
	}
	if (out->rcode != RC_NOERROR && out->rcode != RC_NXDOMAIN)
		return fail(out, DNSMSG_OK);	/* SERVFAIL, REFUSED, ... */
	out->status = out->rcode == RC_NXDOMAIN ? DNS_NXDOMAIN : DNS_NODATA;
	out->nrr = 0;
	out->ndata = 0;
	if (negative_ttl(p, len, off, ns, &ttl) < 0)
		return fail(out, DNSMSG_E_FORMAT);
	/* the CNAMEs on the way count too */
	out->ttl = ttl < out->ttl ? ttl : out->ttl;
	return DNSMSG_OK;
}

/* See dnsmsg.h. */
int
dnsmsg_txt_next(const struct dns_answer *a, const struct dns_rr *rr,
    size_t *pos, const char **s, size_t *n)
{
	const uint8_t *d = (const uint8_t *)a->data + rr->off;

	if (rr->type != DNS_T_TXT || *pos >= rr->len)
		return 0;
	*n = d[*pos];
	if (*n + 1 > rr->len - *pos)
		return 0;
	*s = (const char *)d + *pos + 1;
	*pos += 1 + *n;
	return 1;
}

const char *
dnsmsg_rc_name(enum dnsmsg_rc rc)
{
	switch (rc) {
	case DNSMSG_OK:		return "ok";
	case DNSMSG_E_SHORT:	return "short";
	case DNSMSG_E_NOTRESP:	return "not a response";
	case DNSMSG_E_QUESTION:	return "not the question asked";
	case DNSMSG_E_FORMAT:	return "malformed";
	}
	return "?";
}

const char *
dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK:		return "OK";
	case DNS_NXDOMAIN:	return "NXDOMAIN";
	case DNS_NODATA:	return "NODATA";
	case DNS_TEMPFAIL:	return "TEMPFAIL";
	}
	return "?";
}

static const struct {
	uint16_t	 type;
	const char	*name;
} types[] = {
	{ DNS_T_A, "A" }, { DNS_T_CNAME, "CNAME" }, { DNS_T_SOA, "SOA" },
	{ DNS_T_PTR, "PTR" }, { DNS_T_MX, "MX" }, { DNS_T_TXT, "TXT" },
	{ DNS_T_AAAA, "AAAA" },
};

const char *
dns_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i].type == type)
			return types[i].name;
	return "?";
}

uint16_t
dns_type_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(types[i].name, s) == 0)
			return types[i].type;
	return 0;
}
