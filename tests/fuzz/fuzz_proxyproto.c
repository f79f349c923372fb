/*
 * tests/fuzz/fuzz_proxyproto.c - libFuzzer target for core/proxyproto.
 * The input is the start of a connection. pp_parse() sees it whole and
 * as growing prefixes (random chunks, each an exactly sized heap copy):
 * the first prefix with a verdict must give the same verdict and result
 * as the whole input, and no prefix before it may. A header found must
 * be consistent (length, version, ports, spans inside it) and survive
 * pp_build_v1()/pp_build_v2() and a second parse with the same
 * addresses. Independently, the input's first bytes are taken as two
 * addresses and ports to build headers from, which must parse back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/proxyproto.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const unsigned char mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* pp_parse on an exactly sized heap copy; checks what holds always. */
static int
parse_copy(const char *in, size_t n, struct pp_result *r)
{
	char	*c = malloc(n > 0 ? n : 1);
	int	 rc;

	CHECK(c != NULL);
	if (n > 0)
		memcpy(c, in, n);
	rc = pp_parse(c, n, r);
	CHECK(rc >= PP_E_TOOBIG);
	CHECK(rc <= 0 || (size_t)rc <= n);
	CHECK(pp_rc_name(rc) != NULL);
	if (rc < 0)
		CHECK(r->why != NULL);
	if (rc > 0) {
		CHECK(r->version == 1 || r->version == 2);
		if (r->version == 1)
			CHECK(rc <= PP_V1_MAX && rc >= 15);
		else
			CHECK(rc >= PP_V2_HDR && rc <= PP_V2_MAX);
		if (r->tlv.len > 0)
			CHECK(r->tlv.p >= c && r->tlv.p + r->tlv.len <= c + rc);
		if (!r->unknown) {
			CHECK(r->command == PP_CMD_PROXY);
			CHECK(r->proto == PP_PROTO_STREAM);
			CHECK(r->family == AF_INET || r->family == AF_INET6);
			CHECK(r->src.family == r->family);
			CHECK(r->dst.family == r->family);
			CHECK(r->sport >= 0 && r->sport <= 65535);
			CHECK(r->dport >= 0 && r->dport <= 65535);
		}
	} else
		CHECK(r->version == 0);
	r->tlv.p = NULL;	/* the copy is gone */
	free(c);
	return rc;
}

static int
same_result(const struct pp_result *a, const struct pp_result *b)
{
	return a->version == b->version && a->command == b->command &&
	    a->family == b->family && a->proto == b->proto &&
	    a->unknown == b->unknown && a->sport == b->sport &&
	    a->dport == b->dport && a->tlv.len == b->tlv.len &&
	    memcmp(&a->src, &b->src, sizeof(a->src)) == 0 &&
	    memcmp(&a->dst, &b->dst, sizeof(a->dst)) == 0;
}

/* a as 16 bytes, IPv4 mapped, for comparing across families. */
static void
as16(const struct net_addr *a, unsigned char out[16])
{
	if (a->family == AF_INET) {
		memcpy(out, mapped_prefix, 12);
		memcpy(out + 12, a->addr, 4);
	} else
		memcpy(out, a->addr, 16);
}

static int
same_addr(const struct net_addr *a, const struct net_addr *b)
{
	unsigned char x[16], y[16];

	as16(a, x);
	as16(b, y);
	return memcmp(x, y, 16) == 0;
}

/* Headers built for src/dst parse back to the same endpoints. */
static void
round_trip(const struct net_addr *src, int sport, const struct net_addr *dst,
    int dport)
{
	struct pp_result	 r;
	char			 out[PP_BUILD_MAX];
	size_t			 n;
	int			 known, ports_ok;

	known = (src->family == AF_INET || src->family == AF_INET6) &&
	    (dst->family == AF_INET || dst->family == AF_INET6);
	ports_ok = sport >= 0 && sport <= 65535 && dport >= 0 && dport <= 65535;
	for (int v = 1; v <= 2; v++) {
		if (v == 1)
			n = pp_build_v1(out, sizeof(out), src, sport, dst,
			    dport);
		else
			n = pp_build_v2(out, sizeof(out), src, sport, dst,
			    dport);
		if (!ports_ok) {
			CHECK(n == 0);
			continue;
		}
		CHECK(n > 0);
		/* one byte less room never fits (v1 also needs its NUL) */
		{
			char small[PP_BUILD_MAX];
			size_t need = v == 1 ? n + 1 : n;

			CHECK((v == 1 ? pp_build_v1(small, need - 1, src, sport,
			    dst, dport) : pp_build_v2(small, need - 1, src,
			    sport, dst, dport)) == 0);
		}
		CHECK(parse_copy(out, n, &r) == (int)n);
		CHECK(r.version == v);
		CHECK(r.unknown == !known);
		if (!known)
			continue;
		CHECK(same_addr(&r.src, src));
		CHECK(same_addr(&r.dst, dst));
		CHECK(r.sport == sport && r.dport == dport);
		/* a mapped pair goes as IPv4, anything else as IPv6 */
		CHECK(r.family == (src->family == AF_INET ||
		    memcmp(src->addr, mapped_prefix, 12) == 0 ? (dst->family ==
		    AF_INET || memcmp(dst->addr, mapped_prefix, 12) == 0 ?
		    AF_INET : AF_INET6) : AF_INET6));
	}
}

/* Addresses and ports from raw bytes: 1 family byte + 16 + 2 each. */
static void
build_from_bytes(const uint8_t *d, size_t size)
{
	static const int fams[4] = { AF_INET, AF_INET6, AF_UNSPEC, AF_INET6 };
	struct net_addr	 a[2];
	int		 port[2];

	if (size < 2 * 19)
		return;
	for (int i = 0; i < 2; i++, d += 19) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].family = fams[d[0] & 3];
		if (a[i].family == AF_INET)
			memcpy(a[i].addr, d + 1, 4);
		else if (a[i].family == AF_INET6)
			memcpy(a[i].addr, d + 1, 16);
		if ((d[0] & 3) == 3)	/* often mapped */
			memcpy(a[i].addr, mapped_prefix, 12);
		port[i] = (int)(d[17] << 8 | d[18]);
		if (d[0] & 0x80)
			port[i] = d[0] & 0x40 ? -1 : 65536 + port[i];
	}
	round_trip(&a[0], port[0], &a[1], port[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*in = (const char *)data;
	struct pp_result	 whole, part;
	uint32_t		 seed = 2166136261u;
	size_t			 have = 0;
	int			 rc, prc = 0;

	rc = parse_copy(in, size, &whole);

	/* grow a prefix in random steps until the first verdict */
	for (size_t i = 0; i < size && i < 64; i++)
		seed = (seed ^ data[i]) * 16777619u;
	seed |= 1;
	while (have < size) {
		size_t step = 1 + xorshift(&seed) % 8;

		if ((seed & 0x30) == 0)
			step = 1 + xorshift(&seed) % (size - have);
		if (step > size - have)
			step = size - have;
		have += step;
		prc = parse_copy(in, have, &part);
		if (prc != 0)
			break;
	}
	CHECK(prc == rc);
	if (rc != 0)
		CHECK(same_result(&part, &whole));
	/* one byte before a header is complete, it needs more */
	if (rc > 0)
		CHECK(parse_copy(in, (size_t)rc - 1, &part) == 0);
	if (rc > 0 && !whole.unknown)
		round_trip(&whole.src, whole.sport, &whole.dst, whole.dport);

	build_from_bytes(data, size);
	return 0;
}
