/*
 * tests/unit/test_dnsmsg.c - core/dnsmsg: DNS responses typed byte by
 * byte (header, question, records, compression pointers) and what the
 * parser must make of them: records of each type, CNAME chains, the
 * negative TTL of RFC 2308, rcodes, and hostile messages (compression
 * loops, pointers past the end or forwards, names over 255 octets,
 * counts larger than the message, zero length, every prefix of a good
 * message). Each message is parsed from an exactly sized heap copy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/dnsmsg.h"

#define S(s)	(const uint8_t *)(s), (sizeof(s) - 1)

/* Headers: id 0x1234, QR+RD+RA, rcode; counts qd an ns ar. */
#define HDR(rc, an, ns)	"\x12\x34\x81" rc "\x00\x01\x00" an "\x00" ns "\x00\x00"
#define NOERR		"\x80"
#define NXDOM		"\x83"
#define SRVFAIL		"\x82"
#define REFUSED		"\x85"
/* "mx.example.com" at offset 12, then type and class */
#define QNAME		"\x02mx\x07" "example\x03" "com\x00"
#define Q(t)		QNAME "\x00" t "\x00\x01"
#define PTR_Q		"\xc0\x0c"		/* -> offset 12 */
#define IN_TTL(t)	"\x00\x01" t		/* class IN, TTL */
#define TTL300		"\x00\x00\x01\x2c"
#define TTL60		"\x00\x00\x00\x3c"
#define SOA_RR(ttl, min) "\xc0\x0f\x00\x06" IN_TTL(ttl) "\x00\x20" \
	"\x02ns\xc0\x0f" "\x04host\xc0\x0f" \
	"\x00\x00\x00\x01" "\x00\x00\x0e\x10" "\x00\x00\x03\x84" \
	"\x00\x09\x3a\x80" min

static enum dnsmsg_rc
parse(const uint8_t *p, size_t n, const char *qname, uint16_t qtype,
    struct dns_answer *a)
{
	uint8_t		*c = malloc(n > 0 ? n : 1);
	enum dnsmsg_rc	 rc;

	assert_non_null(c);
	if (n > 0)
		memcpy(c, p, n);
	rc = dnsmsg_parse(c, n, qname, qtype, a);
	free(c);
	return rc;
}

static void
test_a_records(void **state)
{
	static const char m[] = HDR(NOERR, "\x02", "\x00") Q("\x01")
	    PTR_Q "\x00\x01" IN_TTL(TTL300) "\x00\x04" "\xc0\x00\x02\x01"
	    PTR_Q "\x00\x01" IN_TTL(TTL60) "\x00\x04" "\xc0\x00\x02\x02";
	struct dns_answer a;

	(void)state;
	assert_int_equal(parse(S(m), "MX.Example.COM", DNS_T_A, &a),
	    DNSMSG_OK);
	assert_int_equal(a.status, DNS_OK);
	assert_int_equal(a.nrr, 2);
	assert_int_equal(a.ttl, 60);
	assert_memory_equal(a.rr[0].addr, "\xc0\x00\x02\x01", 4);
	assert_memory_equal(a.rr[1].addr, "\xc0\x00\x02\x02", 4);
	assert_int_equal(a.rr[0].ttl, 300);
	assert_int_equal(a.truncated, 0);
}

static void
test_aaaa(void **state)
{
	static const char m[] = HDR(NOERR, "\x01", "\x00") Q("\x1c")
	    PTR_Q "\x00\x1c" IN_TTL(TTL300) "\x00\x10"
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01";
	struct dns_answer a;

	(void)state;
	assert_int_equal(parse(S(m), "mx.example.com", DNS_T_AAAA, &a),
	    DNSMSG_OK);
	assert_int_equal(a.status, DNS_OK);
	assert_int_equal(a.nrr, 1);
	assert_memory_equal(a.rr[0].addr,
	    "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	/* an A record's 4 bytes under type AAAA: malformed */
	static const char bad[] = HDR(NOERR, "\x01", "\x00") Q("\x1c")
	    PTR_Q "\x00\x1c" IN_TTL(TTL300) "\x00\x04" "\x7f\0\0\x01";
	assert_int_equal(parse(S(bad), NULL, DNS_T_AAAA, &a),
	    DNSMSG_E_FORMAT);
	assert_int_equal(a.status, DNS_TEMPFAIL);
}

static void
test_mx_ptr(void **state)
{
	/* MX 10 mail.example.com (compressed), MX 20 backup.example.net */
	static const char m[] = HDR(NOERR, "\x02", "\x00") Q("\x0f")
	    PTR_Q "\x00\x0f" IN_TTL(TTL300) "\x00\x09" "\x00\x0a"
	    "\x04mail\xc0\x0f"
	    PTR_Q "\x00\x0f" IN_TTL(TTL300) "\x00\x16" "\x00\x14"
	    "\x06" "backup\x07" "example\x03" "net\x00";
	static const char p[] = HDR(NOERR, "\x01", "\x00") Q("\x0c")
	    PTR_Q "\x00\x0c" IN_TTL(TTL60) "\x00\x06"
	    "\x03" "a\x01\x2e" "\xc0\x0f";
	struct dns_answer a;

	(void)state;
	assert_int_equal(parse(S(m), NULL, DNS_T_MX, &a), DNSMSG_OK);
	assert_int_equal(a.nrr, 2);
	assert_int_equal(a.rr[0].pref, 10);
	assert_string_equal(a.data + a.rr[0].off, "mail.example.com");
	assert_int_equal(a.rr[0].len, 16);
	assert_int_equal(a.rr[1].pref, 20);
	assert_string_equal(a.data + a.rr[1].off, "backup.example.net");
	/* a label holding a control byte and a dot: escaped */
	assert_int_equal(parse(S(p), NULL, DNS_T_PTR, &a), DNSMSG_OK);
	assert_int_equal(a.nrr, 1);
	assert_string_equal(a.data + a.rr[0].off,
	    "a\\001\\046.example.com");
}

static void
test_txt(void **state)
{
	/* two character-strings kept apart, then an empty one */
	static const char m[] = HDR(NOERR, "\x01", "\x00") Q("\x10")
	    PTR_Q "\x00\x10" IN_TTL(TTL300) "\x00\x0d"
	    "\x06v=spf1" "\x04 -al" "\x00";
	static const char bad[] = HDR(NOERR, "\x01", "\x00") Q("\x10")
	    PTR_Q "\x00\x10" IN_TTL(TTL300) "\x00\x04" "\x06v=s";
	struct dns_answer a;
	const char *s;
	size_t n, pos = 0;

	(void)state;
	assert_int_equal(parse(S(m), NULL, DNS_T_TXT, &a), DNSMSG_OK);
	assert_int_equal(a.nrr, 1);
	assert_int_equal(a.rr[0].nstr, 3);
	assert_int_equal(dnsmsg_txt_next(&a, &a.rr[0], &pos, &s, &n), 1);
	assert_int_equal(n, 6);
	assert_memory_equal(s, "v=spf1", 6);
	assert_int_equal(dnsmsg_txt_next(&a, &a.rr[0], &pos, &s, &n), 1);
	assert_int_equal(n, 4);
	assert_memory_equal(s, " -al", 4);
	assert_int_equal(dnsmsg_txt_next(&a, &a.rr[0], &pos, &s, &n), 1);
	assert_int_equal(n, 0);
	assert_int_equal(dnsmsg_txt_next(&a, &a.rr[0], &pos, &s, &n), 0);
	/* a string longer than its RDATA */
	assert_int_equal(parse(S(bad), NULL, DNS_T_TXT, &a), DNSMSG_E_FORMAT);
}

static void
test_cname_chain(void **state)
{
	/* mx.example.com CNAME a.example.com (TTL 60), then the A of
	 * a.example.com (TTL 300); an A of an unrelated name is left out */
	static const char m[] = HDR(NOERR, "\x03", "\x00") Q("\x01")
	    PTR_Q "\x00\x05" IN_TTL(TTL60) "\x00\x04" "\x01" "a\xc0\x0f"
	    "\x01" "b\xc0\x0f" "\x00\x01" IN_TTL(TTL300) "\x00\x04"
	    "\x0a\0\0\x02"
	    "\x01" "A\xc0\x0f" "\x00\x01" IN_TTL(TTL300) "\x00\x04"
	    "\x0a\0\0\x01";
	struct dns_answer a;

	(void)state;
	assert_int_equal(parse(S(m), NULL, DNS_T_A, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_OK);
	assert_int_equal(a.nrr, 1);
	assert_memory_equal(a.rr[0].addr, "\x0a\0\0\x01", 4);
	assert_int_equal(a.ttl, 60);
}

static void
test_cname_loop(void **state)
{
	/* mx CNAME mx (and b CNAME mx): the chain stops after
	 * DNS_CHAIN_MAX hops, with no record of the asked type */
	static const char m[] = HDR(NOERR, "\x02", "\x00") Q("\x01")
	    PTR_Q "\x00\x05" IN_TTL(TTL60) "\x00\x02" "\xc0\x0c"
	    "\x01" "b\xc0\x0f" "\x00\x05" IN_TTL(TTL60) "\x00\x02" "\xc0\x0c";
	struct dns_answer a;

	(void)state;
	assert_int_equal(parse(S(m), NULL, DNS_T_A, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_NODATA);
	assert_int_equal(a.nrr, 0);
}

static void
test_negative(void **state)
{
	/* NXDOMAIN with a SOA: TTL 300, MINIMUM 60 -> 60 */
	static const char nx[] = HDR(NXDOM, "\x00", "\x01") Q("\x01")
	    SOA_RR(TTL300, "\x00\x00\x00\x3c");
	/* NODATA: SOA TTL 60, MINIMUM 3600 -> 60 */
	static const char nd[] = HDR(NOERR, "\x00", "\x01") Q("\x1c")
	    SOA_RR(TTL60, "\x00\x00\x0e\x10");
	/* NXDOMAIN without a SOA: not to be cached */
	static const char bare[] = HDR(NXDOM, "\x00", "\x00") Q("\x01");
	/* a SOA whose RDATA is a byte short */
	static const char shortsoa[] = HDR(NXDOM, "\x00", "\x01") Q("\x01")
	    "\xc0\x0f\x00\x06" IN_TTL(TTL300) "\x00\x1f"
	    "\x02ns\xc0\x0f" "\x04host\xc0\x0f"
	    "\x00\x00\x00\x01" "\x00\x00\x0e\x10" "\x00\x00\x03\x84"
	    "\x00\x09\x3a\x80" "\x00\x00\x3c";
	struct dns_answer a;

	(void)state;
	assert_int_equal(parse(S(nx), NULL, DNS_T_A, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_NXDOMAIN);
	assert_int_equal(a.ttl, 60);
	assert_int_equal(parse(S(nd), NULL, DNS_T_AAAA, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_NODATA);
	assert_int_equal(a.ttl, 60);
	assert_int_equal(parse(S(bare), NULL, DNS_T_A, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_NXDOMAIN);
	assert_int_equal(a.ttl, 0);
	assert_int_equal(parse(S(shortsoa), NULL, DNS_T_A, &a),
	    DNSMSG_E_FORMAT);
}

static void
test_rcodes(void **state)
{
	static const char sf[] = HDR(SRVFAIL, "\x00", "\x00") Q("\x01");
	static const char rf[] = HDR(REFUSED, "\x00", "\x00") Q("\x01");
	/* a query (QR clear) is no answer */
	static const char q[] = "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00"
	    "\x00\x00" Q("\x01");
	/* the answer to another question */
	static const char other[] = HDR(NOERR, "\x00", "\x00") Q("\x0f");
	struct dns_answer a;

	(void)state;
	assert_int_equal(parse(S(sf), NULL, DNS_T_A, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_TEMPFAIL);
	assert_int_equal(a.rcode, 2);
	assert_int_equal(parse(S(rf), NULL, DNS_T_A, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_TEMPFAIL);
	assert_int_equal(a.rcode, 5);
	assert_int_equal(parse(S(q), NULL, DNS_T_A, &a), DNSMSG_E_NOTRESP);
	assert_int_equal(parse(S(other), NULL, DNS_T_A, &a),
	    DNSMSG_E_QUESTION);
	assert_int_equal(parse(S(other), "other.example", DNS_T_MX, &a),
	    DNSMSG_E_QUESTION);
}

static void
test_hostile(void **state)
{
	static const struct {
		const char	*what;
		const char	*m;
		size_t		 len;
		enum dnsmsg_rc	 rc;
		uint16_t	 qtype;
	} cases[] = {
#define C(w, m, rc)	{ w, m, sizeof(m) - 1, rc, DNS_T_A }
#define CT(w, m, rc, t)	{ w, m, sizeof(m) - 1, rc, t }
		C("empty", "", DNSMSG_E_SHORT),
		C("header only, 11 bytes", "\x12\x34\x81\x80\0\x01\0\0\0\0\0",
		    DNSMSG_E_SHORT),
		C("no question", "\x12\x34\x81\x80\0\0\0\0\0\0\0\0",
		    DNSMSG_E_QUESTION),
		C("two questions", "\x12\x34\x81\x80\0\x02\0\0\0\0\0\0"
		    Q("\x01") Q("\x01"), DNSMSG_E_QUESTION),
		C("question cut", HDR(NOERR, "\x00", "\x00") "\x02mx\x07"
		    "exam", DNSMSG_E_FORMAT),
		C("question without type", HDR(NOERR, "\x00", "\x00") QNAME
		    "\x00", DNSMSG_E_FORMAT),
		C("pointer to itself", HDR(NOERR, "\x00", "\x00")
		    "\xc0\x0c\x00\x01\x00\x01", DNSMSG_E_FORMAT),
		C("pointer forwards", HDR(NOERR, "\x00", "\x00")
		    "\xc0\x0e\x00\x01\x00\x01", DNSMSG_E_FORMAT),
		C("pointer past the end", HDR(NOERR, "\x00", "\x00")
		    "\x01" "a\xff\xff\x00\x01\x00\x01", DNSMSG_E_FORMAT),
		C("pointer cut", HDR(NOERR, "\x00", "\x00") "\x01" "a\xc0",
		    DNSMSG_E_FORMAT),
		/* a record whose owner points back into itself: 24 -> 24 */
		C("loop in the answer", HDR(NOERR, "\x01", "\x00") Q("\x01")
		    "\x01" "x\xc0\x20" "\x00\x01" IN_TTL(TTL60) "\x00\x04"
		    "\x01\x02\x03\x04", DNSMSG_E_FORMAT),
		C("label type 0x40", HDR(NOERR, "\x00", "\x00")
		    "\x41" "a\x00\x00\x01\x00\x01", DNSMSG_E_FORMAT),
		C("label past the end", HDR(NOERR, "\x00", "\x00")
		    "\x3f" "abc", DNSMSG_E_FORMAT),
		C("huge answer count", HDR(NOERR, "\xff", "\x00") Q("\x01")
		    PTR_Q "\x00\x01" IN_TTL(TTL60) "\x00\x04" "\x01\x02\x03\x04",
		    DNSMSG_E_FORMAT),
		C("huge authority count", "\x12\x34\x81\x83\x00\x01\x00\x00"
		    "\xff\xff\x00\x00" Q("\x01"), DNSMSG_E_FORMAT),
		C("rdlength past the end", HDR(NOERR, "\x01", "\x00") Q("\x01")
		    PTR_Q "\x00\x01" IN_TTL(TTL60) "\x00\x40" "\x01\x02\x03\x04",
		    DNSMSG_E_FORMAT),
		CT("MX name past its RDATA", HDR(NOERR, "\x01", "\x00")
		    Q("\x0f") PTR_Q "\x00\x0f" IN_TTL(TTL60) "\x00\x04"
		    "\x00\x0a" "\x04mail\xc0\x0f", DNSMSG_E_FORMAT, DNS_T_MX),
		C("opcode STATUS", "\x12\x34\x91\x80\0\x01\0\0\0\0\0\0"
		    Q("\x01"), DNSMSG_E_NOTRESP),
#undef C
#undef CT
	};
	struct dns_answer a;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum dnsmsg_rc rc = parse((const uint8_t *)cases[i].m,
		    cases[i].len, NULL, cases[i].qtype, &a);

		if (rc != cases[i].rc)
			fail_msg("%s: %s, expected %s", cases[i].what,
			    dnsmsg_rc_name(rc), dnsmsg_rc_name(cases[i].rc));
		if (rc != DNSMSG_OK) {
			assert_int_equal(a.status, DNS_TEMPFAIL);
			assert_int_equal(a.nrr, 0);
		}
	}
}

/* A name of 127 one-byte labels is 255 octets: the limit; one more
 * label is refused. */
static void
test_name_length(void **state)
{
	uint8_t		m[600];
	char		buf[DNS_NAME_BUF];
	size_t		off = 0, n = 0;

	(void)state;
	for (int i = 0; i < 127; i++) {
		m[n++] = 1;
		m[n++] = 0xff;		/* shown as \255: 4 characters each */
	}
	m[n++] = 0;
	assert_int_equal(n, 255);
	assert_int_equal(dnsmsg_name(m, n, &off, buf), 127 * 4 + 126);
	assert_int_equal(off, 255);
	memmove(m + 2, m, n);
	m[0] = 1;
	m[1] = 'a';
	off = 0;
	assert_int_equal(dnsmsg_name(m, n + 2, &off, buf), -1);

	/* two names pointing into each other: 4 -> 0 is backwards, then
	 * 0 -> 4 is not */
	off = 4;
	assert_int_equal(dnsmsg_name((const uint8_t *)"\x01" "a\xc0\x04"
	    "\x01" "b\xc0\x00", 8, &off, buf), -1);
	off = 4;
	assert_int_equal(dnsmsg_name((const uint8_t *)"\x01" "a\x00\x00"
	    "\x01" "b\xc0\x00", 8, &off, buf), 3);
	assert_string_equal(buf, "b.a");
	assert_int_equal(off, 8);
}

/* Every proper prefix of a good message is refused, never read past. */
static void
test_prefixes(void **state)
{
	static const char m[] = HDR(NOERR, "\x02", "\x00") Q("\x0f")
	    PTR_Q "\x00\x0f" IN_TTL(TTL300) "\x00\x09" "\x00\x0a"
	    "\x04mail\xc0\x0f"
	    PTR_Q "\x00\x0f" IN_TTL(TTL300) "\x00\x16" "\x00\x14"
	    "\x06" "backup\x07" "example\x03" "net\x00";
	struct dns_answer a;

	(void)state;
	for (size_t n = 0; n < sizeof(m) - 1; n++)
		assert_int_not_equal(parse((const uint8_t *)m, n, NULL,
		    DNS_T_MX, &a), DNSMSG_OK);
	assert_int_equal(parse(S(m), NULL, DNS_T_MX, &a), DNSMSG_OK);
}

/* More records than DNS_RR_MAX, or more text than DNS_DATA_MAX:
 * truncated, the first ones kept. */
static void
test_truncation(void **state)
{
	static uint8_t	m[65535];
	size_t		n;
	struct dns_answer a;

	(void)state;
	memcpy(m, HDR(NOERR, "\x28", "\x00") Q("\x01"),
	    sizeof(HDR(NOERR, "\x28", "\x00") Q("\x01")) - 1);
	n = sizeof(HDR(NOERR, "\x28", "\x00") Q("\x01")) - 1;
	for (int i = 0; i < 40; i++) {
		memcpy(m + n, PTR_Q "\x00\x01" IN_TTL(TTL60) "\x00\x04" "\x0a\0\0",
		    15);
		n += 15;
		m[n++] = (uint8_t)i;
	}
	assert_int_equal(parse(m, n, NULL, DNS_T_A, &a), DNSMSG_OK);
	assert_int_equal(a.status, DNS_OK);
	assert_int_equal(a.nrr, DNS_RR_MAX);
	assert_int_equal(a.truncated, 1);
	assert_int_equal(a.rr[DNS_RR_MAX - 1].addr[3], DNS_RR_MAX - 1);

	/* 20 TXT records of 255 + 1 bytes: 16 fit in 4096 */
	memcpy(m, HDR(NOERR, "\x14", "\x00") Q("\x10"),
	    sizeof(HDR(NOERR, "\x14", "\x00") Q("\x10")) - 1);
	n = sizeof(HDR(NOERR, "\x14", "\x00") Q("\x10")) - 1;
	for (int i = 0; i < 20; i++) {
		memcpy(m + n, PTR_Q "\x00\x10" IN_TTL(TTL60) "\x01\x00", 12);
		n += 12;
		m[n++] = 255;
		memset(m + n, 'a' + i, 255);
		n += 255;
	}
	assert_int_equal(parse(m, n, NULL, DNS_T_TXT, &a), DNSMSG_OK);
	assert_int_equal(a.nrr, 16);
	assert_int_equal(a.truncated, 1);
	assert_int_equal(a.ndata, 4096);
	assert_int_equal(a.data[a.rr[15].off + 1], 'a' + 15);
}

static void
test_names(void **state)
{
	(void)state;
	assert_int_equal(dns_type_parse("aaaa"), DNS_T_AAAA);
	assert_int_equal(dns_type_parse("MX"), DNS_T_MX);
	assert_int_equal(dns_type_parse("ANY"), 0);
	assert_string_equal(dns_type_name(DNS_T_PTR), "PTR");
	assert_string_equal(dns_status_name(DNS_NODATA), "NODATA");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_records),
		cmocka_unit_test(test_aaaa),
		cmocka_unit_test(test_mx_ptr),
		cmocka_unit_test(test_txt),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_cname_loop),
		cmocka_unit_test(test_negative),
		cmocka_unit_test(test_rcodes),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
