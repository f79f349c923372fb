/*
 * tests/unit/test_proxyproto.c - core/proxyproto: the PROXY header
 * parser (v1 and v2, fed whole, one byte at a time and in random
 * splits, each call on an exactly sized heap copy), its early decisions
 * on foreign or broken input, and the v1/v2 builders. Expected values
 * (lengths, the byte where a verdict falls, addresses, header bytes)
 * are typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/proxyproto.h"

/* A string literal as pointer and length, NULs included. */
#define S(s)	(s), (sizeof(s) - 1)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The v2 signature (spec 2.2), and address blocks used below. */
#define SIG	"\r\n\r\n\0\r\nQUIT\n"
#define A4	"\xc0\x00\x02\x01" "\xc6\x33\x64\x02" "\xdc\x04" "\x00\x19"
#define A6	"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01" \
		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02" \
		"\x01\xbb" "\x00\x19"

#define LOCAL	PP_CMD_LOCAL
#define PROXY	PP_CMD_PROXY
#define V4	AF_INET
#define V6	AF_INET6
#define UNSPEC	AF_UNSPEC

/* Rows without addresses: errors and "need more", and unknown ones. */
#define ERR(in, rc, at)	{ S(in), rc, at, 0, 0, 0, 0, NULL, 0, NULL, 0, 0 }
#define NEED(in)	ERR(in, 0, 0)
#define BAD(in, at)	ERR(in, PP_E_MALFORMED, at)
#define UNK(in, n, ver, cmd, fam, tlvlen) \
	{ S(in), n, n, ver, cmd, fam, 1, NULL, 0, NULL, 0, tlvlen }

static const struct pp_case {
	const char	*in;
	size_t		 len;
	int		 rc;	/* header length, 0 or PP_E_* */
	size_t		 at;	/* first prefix length with a verdict */
	int		 version, cmd, family, unknown;
	const char	*src;
	int		 sport;
	const char	*dst;
	int		 dport;
	size_t		 tlvlen;
} cases[] = {
	/* ---- v1, valid; the bytes after the header are SMTP */
	{ S("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\nEHLO x\r\n"),
	  44, 44, 1, PROXY, V4, 0, "192.0.2.1", 56324, "198.51.100.2", 25, 0 },
	{ S("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n"),
	  44, 44, 1, PROXY, V4, 0, "192.0.2.1", 56324, "198.51.100.2", 25, 0 },
	{ S("PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n"),
	  44, 44, 1, PROXY, V4, 0, "0.0.0.0", 0, "255.255.255.255", 65535, 0 },
	{ S("PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n"),
	  44, 44, 1, PROXY, V6, 0, "2001:db8::1", 65535, "2001:db8::2", 0, 0 },
	{ S("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::2 0 25\r\n"),
	  42, 42, 1, PROXY, V6, 0, "2001:db8::1", 0, "::2", 25, 0 },
	{ S("PROXY TCP6 ::ffff:192.0.2.1 ::1 1 587\r\n"),
	  39, 39, 1, PROXY, V6, 0, "::ffff:192.0.2.1", 1, "::1", 587, 0 },
	{ S("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
	  104, 104, 1, PROXY, V6, 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	  65535, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 0 },
	UNK("PROXY UNKNOWN\r\n", 15, 1, PROXY, UNSPEC, 0),
	UNK("PROXY UNKNOWN\r\nEHLO", 15, 1, PROXY, UNSPEC, 0),
	/* UNKNOWN: the rest of the line is ignored (spec 2.1) */
	UNK("PROXY UNKNOWN junk here\r\n", 25, 1, PROXY, UNSPEC, 0),
	{ S("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n"),
	  107, 107, 1, PROXY, UNSPEC, 1, NULL, 0, NULL, 0, 0 },

	/* ---- need more */
	NEED(""),
	NEED("P"),
	NEED("PROXY"),
	NEED("PROXY "),
	NEED("PROXY TCP"),
	NEED("PROXY UNKN"),
	NEED("PROXY UNKNOWN"),
	NEED("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25"),
	NEED("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r"),
	NEED("PROXY TCP6 ::1 ::1 65535 6553"),
	NEED("\r\n\r\n\0\r\nQUI"),
	NEED(SIG),
	NEED(SIG "\x21"),
	NEED(SIG "\x21\x11\x00"),
	NEED(SIG "\x21\x11\x00\x0c" "\xc0\x00\x02\x01\xc6"),
	/* a length that is legal but larger than what came: wait */
	NEED(SIG "\x21\x11\x05\xe8" A4),

	/* ---- not PROXY at all: decided at the first differing byte */
	ERR("EHLO example.com\r\n", PP_E_NOTPROXY, 1),
	ERR("GET / HTTP/1.0\r\n", PP_E_NOTPROXY, 1),
	ERR("proxy TCP4 192.0.2.1 198.51.100.2 1 2\r\n", PP_E_NOTPROXY, 1),
	ERR("PROXZ TCP4", PP_E_NOTPROXY, 5),
	ERR("PROXY\r\n", PP_E_NOTPROXY, 6),
	ERR("PROXY\tTCP4", PP_E_NOTPROXY, 6),
	NEED("PRO"),
	ERR("\r\nEHLO x\r\n", PP_E_NOTPROXY, 3),
	ERR("\r\n\r\n\0\r\nQUIT\r\n", PP_E_NOTPROXY, 12),
	ERR("\0PROXY", PP_E_NOTPROXY, 1),
	ERR(" PROXY TCP4", PP_E_NOTPROXY, 1),

	/* ---- v1, malformed: decided at the byte that proves it */
	/* LF only, CR CR LF, CR then junk */
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\n", 43),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\r\n", 44),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\rX", 44),
	BAD("PROXY UNKNOWN\n", 14),
	BAD("PROXY UNKNOWN\r\r", 15),
	/* doubled, leading and trailing spaces */
	BAD("PROXY  TCP4 192.0.2.1 198.51.100.2 1 2\r\n", 7),
	BAD("PROXY TCP4 192.0.2.1  198.51.100.2 1 2\r\n", 22),
	BAD("PROXY TCP4  192.0.2.1 198.51.100.2 1 2\r\n", 12),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25 \r\n", 43),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 56324 25 junk\r\n", 43),
	BAD("PROXY \r\n", 7),
	/* missing fields */
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n", 40),
	BAD("PROXY TCP4\r\n", 11),
	BAD("PROXY TCP4 \r\n", 12),
	/* transport names: upper case, exactly */
	BAD("PROXY TCP5 192.0.2.1 198.51.100.2 1 2\r\n", 10),
	BAD("PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n", 7),
	BAD("PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", 8),
	BAD("PROXY TCP44 192.0.2.1 198.51.100.2 1 2\r\n", 11),
	BAD("PROXY UNKNOWNX\r\n", 14),
	BAD("PROXY UNKNOWN junk\0\r\n", 19),
	BAD("PROXY UNKNOWN junk\x80\r\n", 19),
	/* addresses of the wrong family, or not addresses */
	BAD("PROXY TCP4 2001:db8::1 2001:db8::2 1 2\r\n", 16),
	BAD("PROXY TCP4 ::ffff:192.0.2.1 ::1 1 2\r\n", 12),
	BAD("PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n", 21),
	BAD("PROXY TCP6 ::1 198.51.100.2 1 2\r\n", 28),
	BAD("PROXY TCP4 192.000.2.1 198.51.100.2 1 2\r\n", 23),
	BAD("PROXY TCP4 1.2.3.4.5 198.51.100.2 1 2\r\n", 21),
	BAD("PROXY TCP4 256.0.0.1 198.51.100.2 1 2\r\n", 21),
	BAD("PROXY TCP4 1.2.3 198.51.100.2 1 2\r\n", 17),
	BAD("PROXY TCP4 1111111111111111", 27),
	BAD("PROXY TCP4 192.0.2.1\t198.51.100.2 1 2\r\n", 21),
	BAD("PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n", 19),
	BAD("PROXY TCP6 [::1] ::1 1 2\r\n", 12),
	BAD("PROXY TCP6 1::2::3 ::1 1 2\r\n", 19),
	/* ports */
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 65536 25\r\n", 39),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 99999 25\r\n", 39),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 100000 25\r\n", 40),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 025 25\r\n", 36),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 00 25\r\n", 36),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 -1 25\r\n", 35),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 +1 25\r\n", 35),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 0x19 25\r\n", 36),
	BAD("PROXY TCP4 192.0.2.1 198.51.100.2 56324 2\x80\r\n", 42),
	/* too long: the byte at offset 105 must be the CR */
	BAD("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 "
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 65535 65535\r\n",
	    106),
	BAD("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 655355\r\n", 106),
	BAD("PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\r\n", 107),

	/* ---- v2, valid */
	{ S(SIG "\x21\x11\x00\x0c" A4 "EHLO x\r\n"),
	  28, 28, 2, PROXY, V4, 0, "192.0.2.1", 56324, "198.51.100.2", 25, 0 },
	{ S(SIG "\x21\x21\x00\x24" A6),
	  52, 52, 2, PROXY, V6, 0, "2001:db8::1", 443, "2001:db8::2", 25, 0 },
	/* TLVs: NOOP "abc", ALPN "h2"; one of length zero */
	{ S(SIG "\x21\x11\x00\x17" A4 "\x04\x00\x03" "abc" "\x01\x00\x02" "h2"),
	  39, 39, 2, PROXY, V4, 0, "192.0.2.1", 56324, "198.51.100.2", 25, 11 },
	{ S(SIG "\x21\x11\x00\x0f" A4 "\x04\x00\x00" "EHLO"),
	  31, 31, 2, PROXY, V4, 0, "192.0.2.1", 56324, "198.51.100.2", 25, 3 },
	/* LOCAL: the block is ignored, whatever the family */
	UNK(SIG "\x20\x00\x00\x00", 16, 2, LOCAL, UNSPEC, 0),
	UNK(SIG "\x20\x00\x00\x00" "EHLO", 16, 2, LOCAL, UNSPEC, 0),
	UNK(SIG "\x20\x11\x00\x03" "abc", 19, 2, LOCAL, V4, 0),
	UNK(SIG "\x20\x11\x00\x0c" A4, 28, 2, LOCAL, V4, 0),
	/* PROXY with UNSPEC, or over UDP: the socket's own addresses */
	UNK(SIG "\x21\x00\x00\x00", 16, 2, PROXY, UNSPEC, 0),
	UNK(SIG "\x21\x00\x00\x03" "\x04\x00\x00", 19, 2, PROXY, UNSPEC, 3),
	UNK(SIG "\x21\x12\x00\x0c" A4, 28, 2, PROXY, V4, 0),
	UNK(SIG "\x21\x22\x00\x24" A6, 52, 2, PROXY, V6, 0),

	/* ---- v2, malformed */
	BAD(SIG "\x11\x11\x00\x0c" A4, 13),
	BAD(SIG "\x31\x11\x00\x0c" A4, 13),
	BAD(SIG "\x01\x11\x00\x0c" A4, 13),
	BAD(SIG "\x22\x11\x00\x0c" A4, 13),
	BAD(SIG "\x2f\x11\x00\x0c" A4, 13),
	BAD(SIG "\x21\x41\x00\x0c" A4, 14),
	BAD(SIG "\x21\x13\x00\x0c" A4, 14),
	BAD(SIG "\x21\x10\x00\x0c" A4, 14),
	BAD(SIG "\x21\x01\x00\x00", 14),
	BAD(SIG "\x20\x02\x00\x00", 14),
	/* the length field lies: shorter than the address block */
	BAD(SIG "\x21\x11\x00\x0b" A4, 16),
	BAD(SIG "\x21\x11\x00\x00" A4, 16),
	BAD(SIG "\x21\x21\x00\x0c" A4, 16),
	BAD(SIG "\x21\x21\x00\x23" A6, 16),
	BAD(SIG "\x21\x31\x00\xd7", 16),
	/* longer than PP_V2_MAX_TLV bytes of TLVs: refused at once */
	ERR(SIG "\x21\x11\x05\xe9" A4, PP_E_TOOBIG, 16),
	ERR(SIG "\x21\x11\xff\xff" A4, PP_E_TOOBIG, 16),
	ERR(SIG "\x21\x00\x05\xdd", PP_E_TOOBIG, 16),
	ERR(SIG "\x20\x00\x05\xdd", PP_E_TOOBIG, 16),
	ERR(SIG "\x21\x21\x06\x01" A6, PP_E_TOOBIG, 16),
	/* TLVs that do not fill the rest exactly */
	BAD(SIG "\x21\x11\x00\x0e" A4 "\x04\x00", 30),
	BAD(SIG "\x21\x11\x00\x0f" A4 "\x04\x00\x05" "abcde", 31),
	BAD(SIG "\x21\x11\x00\x10" A4 "\x04\x00\x00" "x", 32),
	BAD(SIG "\x21\x11\x00\x11" A4 "\x04\x00\x00" "\x04\x00", 33),
	BAD(SIG "\x21\x11\x00\x12" A4 "\x04\xff\xff" "abc", 34),
};

static char *
heap_copy(const char *p, size_t n)
{
	char *c = malloc(n > 0 ? n : 1);

	assert_non_null(c);
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

/* pp_parse on an exactly sized heap copy of in[0..n). */
static int
parse_prefix(const char *in, size_t n, struct pp_result *r)
{
	char	*c = heap_copy(in, n);
	int	 rc = pp_parse(c, n, r);

	/* spans must not outlive the copy: check them here */
	if (rc > 0 && r->tlv.len > 0) {
		assert_true(r->tlv.p >= c);
		assert_true(r->tlv.p + r->tlv.len <= c + rc);
	}
	r->tlv.p = NULL;
	free(c);
	return rc;
}

static void
check_addr(const struct net_addr *a, const char *want)
{
	char buf[64];

	assert_true(net_addr_format(a, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, want);
}

static void
check_result(const struct pp_case *c, int rc, const struct pp_result *r)
{
	assert_int_equal(rc, c->rc);
	if (rc <= 0) {
		if (rc < 0)
			assert_non_null(r->why);
		assert_int_equal(r->version, 0);
		return;
	}
	assert_int_equal(r->version, c->version);
	assert_int_equal(r->command, c->cmd);
	assert_int_equal(r->family, c->family);
	assert_int_equal(r->unknown, c->unknown);
	assert_int_equal(r->tlv.len, c->tlvlen);
	if (c->unknown)
		return;
	assert_int_equal(r->proto, PP_PROTO_STREAM);
	check_addr(&r->src, c->src);
	check_addr(&r->dst, c->dst);
	assert_int_equal(r->sport, c->sport);
	assert_int_equal(r->dport, c->dport);
}

static void
test_whole(void **state)
{
	struct pp_result r;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		check_result(&cases[i], parse_prefix(cases[i].in, cases[i].len,
		    &r), &r);
	}
}

/*
 * One byte at a time: every prefix shorter than at needs more, every
 * longer one gives the verdict (a header is complete at its length,
 * whatever follows).
 */
static void
test_bytewise(void **state)
{
	struct pp_result r;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct pp_case *c = &cases[i];

		for (size_t n = 0; n <= c->len; n++) {
			int rc = parse_prefix(c->in, n, &r);

			if (c->rc == 0 || n < c->at)
				assert_int_equal(rc, 0);
			else
				check_result(c, rc, &r);
		}
	}
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* As a caller does: append random chunks until a verdict. */
static void
test_random_splits(void **state)
{
	struct pp_result r;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		const struct pp_case *c = &cases[i];

		for (uint32_t seed = 1; seed <= 100; seed++) {
			uint32_t s = seed * 2654435761u;
			size_t	 have = 0;
			int	 rc = 0;

			while (have < c->len) {
				have += 1 + xorshift(&s) % (c->len - have);
				rc = parse_prefix(c->in, have, &r);
				if (rc != 0)
					break;
			}
			if (c->rc == 0) {
				assert_int_equal(rc, 0);
				continue;
			}
			assert_true(have >= c->at);
			check_result(c, rc, &r);
		}
	}
}

/* Headers too big for a literal: AF_UNIX blocks, the TLV limit. */
static void
test_v2_large(void **state)
{
	struct pp_result r;
	char	*b;
	size_t	 n;

	(void)state;
	b = calloc(1, PP_V2_MAX + 16);
	assert_non_null(b);
	memcpy(b, SIG, 12);

	/* PROXY over AF_UNIX: 216 bytes of block, unknown */
	b[12] = 0x21;
	b[13] = 0x31;
	b[14] = 0x00;
	b[15] = (char)0xd8;
	assert_int_equal(parse_prefix(b, 231, &r), 0);
	assert_int_equal(parse_prefix(b, 232, &r), 232);
	assert_int_equal(r.family, AF_UNIX);
	assert_int_equal(r.unknown, 1);

	/* INET + exactly 1500 bytes of TLVs (one NOOP of 1497) */
	b[13] = 0x11;
	b[14] = 0x05;
	b[15] = (char)0xe8;		/* 12 + 1500 */
	memcpy(b + 16, A4, 12);
	b[28] = 0x04;
	b[29] = 0x05;
	b[30] = (char)0xd9;		/* 1497 */
	n = 16 + 12 + 1500;
	assert_int_equal(parse_prefix(b, n - 1, &r), 0);
	assert_int_equal(parse_prefix(b, n, &r), (int)n);
	assert_int_equal(r.tlv.len, 1500);
	check_addr(&r.src, "192.0.2.1");

	/* one byte more is refused from the fixed part alone */
	b[15] = (char)0xe9;
	assert_int_equal(parse_prefix(b, 16, &r), PP_E_TOOBIG);

	/* AF_UNIX + 1500 bytes of TLVs: the largest header */
	b[13] = 0x31;
	b[14] = (char)((216 + 1500) >> 8);
	b[15] = (char)((216 + 1500) & 0xff);
	memset(b + 16, 0, 216);
	b[16 + 216] = 0x04;
	b[16 + 217] = 0x05;
	b[16 + 218] = (char)0xd9;
	assert_int_equal(parse_prefix(b, PP_V2_MAX, &r), PP_V2_MAX);
	assert_int_equal(r.unknown, 1);
	free(b);
}

/* ---------------------------------------------------------------- */
/* Builders */

static const struct build_case {
	const char	*src;	/* NULL: family AF_UNSPEC */
	int		 sport;
	const char	*dst;
	int		 dport;
	const char	*v1;	/* NULL: refused */
	const char	*v2;
	size_t		 v2len;
} builds[] = {
	{ "192.0.2.1", 56324, "198.51.100.2", 25,
	  "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n",
	  S(SIG "\x21\x11\x00\x0c" A4) },
	{ "2001:db8::1", 443, "2001:db8::2", 25,
	  "PROXY TCP6 2001:db8::1 2001:db8::2 443 25\r\n",
	  S(SIG "\x21\x21\x00\x24" A6) },
	/* a mapped source with an IPv4 destination: all IPv4 */
	{ "::ffff:192.0.2.1", 56324, "198.51.100.2", 25,
	  "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n",
	  S(SIG "\x21\x11\x00\x0c" A4) },
	{ "::ffff:192.0.2.1", 56324, "::ffff:198.51.100.2", 25,
	  "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n",
	  S(SIG "\x21\x11\x00\x0c" A4) },
	/* mixed: both IPv6, IPv4 as mapped, in hex groups for v1 */
	{ "2001:db8::1", 1, "198.51.100.2", 25,
	  "PROXY TCP6 2001:db8::1 ::ffff:c633:6402 1 25\r\n",
	  S(SIG "\x21\x21\x00\x24"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc6\x33\x64\x02"
	    "\x00\x01" "\x00\x19") },
	{ "192.0.2.1", 65535, "::1", 0,
	  "PROXY TCP6 ::ffff:c000:201 ::1 65535 0\r\n",
	  S(SIG "\x21\x21\x00\x24"
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff\xc0\x00\x02\x01"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "\xff\xff" "\x00\x00") },
	{ "::ffff:0.0.0.1", 2, "::1", 3,
	  "PROXY TCP6 ::ffff:0:1 ::1 2 3\r\n",
	  S(SIG "\x21\x21\x00\x24"
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff\0\0\0\x01"
	    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01" "\x00\x02" "\x00\x03") },
	/* unknown family: UNKNOWN / LOCAL */
	{ NULL, 25, "192.0.2.1", 25, "PROXY UNKNOWN\r\n",
	  S(SIG "\x20\x00\x00\x00") },
	{ "192.0.2.1", 25, NULL, 25, "PROXY UNKNOWN\r\n",
	  S(SIG "\x20\x00\x00\x00") },
	/* ports out of range */
	{ "192.0.2.1", -1, "198.51.100.2", 25, NULL, NULL, 0 },
	{ "192.0.2.1", 25, "198.51.100.2", 65536, NULL, NULL, 0 },
};

static void
make_addr(const char *txt, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (txt == NULL)
		a->family = AF_UNSPEC;
	else
		assert_int_equal(net_addr_parse(txt, strlen(txt), a), 0);
}

static void
test_build(void **state)
{
	struct net_addr		 s, d;
	struct pp_result	 r;
	char			 out[PP_BUILD_MAX];
	size_t			 n;

	(void)state;
	for (size_t i = 0; i < NELEM(builds); i++) {
		const struct build_case *c = &builds[i];

		make_addr(c->src, &s);
		make_addr(c->dst, &d);
		n = pp_build_v1(out, sizeof(out), &s, c->sport, &d, c->dport);
		if (c->v1 == NULL) {
			assert_int_equal(n, 0);
		} else {
			assert_int_equal(n, strlen(c->v1));
			assert_string_equal(out, c->v1);
			/* and it parses back */
			assert_int_equal(parse_prefix(out, n, &r), (int)n);
			assert_int_equal(r.unknown,
			    c->src == NULL || c->dst == NULL);
		}
		n = pp_build_v2(out, sizeof(out), &s, c->sport, &d, c->dport);
		if (c->v2 == NULL) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(n, c->v2len);
		assert_memory_equal(out, c->v2, n);
		assert_int_equal(parse_prefix(out, n, &r), (int)n);
		if (!r.unknown) {
			assert_int_equal(r.sport, c->sport);
			assert_int_equal(r.dport, c->dport);
		}
	}
}

static void
test_build_cap(void **state)
{
	struct net_addr	s, d;
	char		out[PP_BUILD_MAX];
	static const char want[] =
	    "PROXY TCP4 192.0.2.1 198.51.100.2 56324 25\r\n";

	(void)state;
	make_addr("192.0.2.1", &s);
	make_addr("198.51.100.2", &d);
	/* v1 needs room for its NUL */
	assert_int_equal(pp_build_v1(out, 44, &s, 56324, &d, 25), 0);
	assert_int_equal(pp_build_v1(out, 0, &s, 56324, &d, 25), 0);
	assert_int_equal(pp_build_v1(out, 45, &s, 56324, &d, 25), 44);
	assert_string_equal(out, want);
	assert_int_equal(pp_build_v2(out, 27, &s, 56324, &d, 25), 0);
	assert_int_equal(pp_build_v2(out, 28, &s, 56324, &d, 25), 28);
	assert_int_equal(pp_build_v2(out, 15, &s, 1, &d, 1), 0);

	/* the longest v1 line fits PP_BUILD_MAX */
	make_addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &s);
	d = s;
	assert_int_equal(pp_build_v1(out, sizeof(out), &s, 65535, &d, 65535),
	    104);
	assert_int_equal(pp_build_v2(out, sizeof(out), &s, 65535, &d, 65535),
	    52);
}

static void
test_rc_name(void **state)
{
	(void)state;
	assert_string_equal(pp_rc_name(28), "OK");
	assert_string_equal(pp_rc_name(0), "NEED_MORE");
	assert_string_equal(pp_rc_name(PP_E_NOTPROXY), "NOTPROXY");
	assert_string_equal(pp_rc_name(PP_E_MALFORMED), "MALFORMED");
	assert_string_equal(pp_rc_name(PP_E_TOOBIG), "TOOBIG");
	assert_string_equal(pp_rc_name(-99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole),
		cmocka_unit_test(test_bytewise),
		cmocka_unit_test(test_random_splits),
		cmocka_unit_test(test_v2_large),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_cap),
		cmocka_unit_test(test_rc_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
