/*
 * tests/unit/test_policy_helo.c - core/policy_helo.c: the HELO/EHLO
 * classifier (odd, long, hostile and UTF-8 arguments) and the four HELO
 * checks with every reject_at, their exact replies and reasons, and how
 * a deferred refusal reaches MAIL and RCPT (postmaster, second EHLO,
 * MAIL without HELO). Expected values are typed by hand.
 */
#include "tests/unit/policy_fixture.h"

static const struct {
	const char		*in;
	size_t			 len;
	enum policy_helo_class	 cls;
	int			 family;
	unsigned char		 addr[16];
} class_cases[] = {
#define IN(s) s, sizeof(s) - 1
	{ IN(""), POLICY_HELO_EMPTY, 0, { 0 } },
	{ IN("   "), POLICY_HELO_EMPTY, 0, { 0 } },
	{ IN(" \t "), POLICY_HELO_EMPTY, 0, { 0 } },
	/* names */
	{ IN("mx.example.com"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("MX.Example.COM"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("mx.example.com."), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("  mx.example.com  "), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("123.example.com"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("under_score.example.com"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("-odd-.example.com"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("xn--bcher-kva.example"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("b\xc3\xbc" "cher.example"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("\xe2\x82\xac.example"), POLICY_HELO_FQDN, 0, { 0 } },
	{ IN("localhost"), POLICY_HELO_NO_DOT, 0, { 0 } },
	{ IN("localhost."), POLICY_HELO_NO_DOT, 0, { 0 } },
	{ IN("mike"), POLICY_HELO_NO_DOT, 0, { 0 } },
	{ IN("PC_1"), POLICY_HELO_NO_DOT, 0, { 0 } },
	{ IN("b\xc3\xbc" "cher"), POLICY_HELO_NO_DOT, 0, { 0 } },
	/* bare addresses */
	{ IN("1.2.3.4"), POLICY_HELO_BARE_IPV4, AF_INET, { 1, 2, 3, 4 } },
	{ IN("1.2.3.4."), POLICY_HELO_BARE_IPV4, AF_INET, { 1, 2, 3, 4 } },
	{ IN(" 192.0.2.1 "), POLICY_HELO_BARE_IPV4, AF_INET,
	    { 192, 0, 2, 1 } },
	{ IN("2001:db8::1"), POLICY_HELO_BARE_IPV6, AF_INET6,
	    { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	{ IN("::1"), POLICY_HELO_BARE_IPV6, AF_INET6, { [15] = 1 } },
	{ IN("::ffff:192.0.2.1"), POLICY_HELO_BARE_IPV6, AF_INET6,
	    { [10] = 0xff, [11] = 0xff, [12] = 192, 0, 2, 1 } },
	/* literals */
	{ IN("[1.2.3.4]"), POLICY_HELO_LITERAL_V4, AF_INET, { 1, 2, 3, 4 } },
	{ IN("[IPv6:2001:db8::1]"), POLICY_HELO_LITERAL_V6, AF_INET6,
	    { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	{ IN("[ipv6:2001:DB8::1]"), POLICY_HELO_LITERAL_V6, AF_INET6,
	    { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	{ IN("[IPv6:::1]"), POLICY_HELO_LITERAL_V6, AF_INET6, { [15] = 1 } },
	{ IN("[IPv6:::ffff:192.0.2.7]"), POLICY_HELO_LITERAL_V6, AF_INET6,
	    { [10] = 0xff, [11] = 0xff, [12] = 192, 0, 2, 7 } },
	{ IN("[2001:db8::1]"), POLICY_HELO_LITERAL_V6, AF_INET6,
	    { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	/* broken literals */
	{ IN("["), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[1.2.3.4"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[1.2.3.4]."), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[ 1.2.3.4]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[01.2.3.4]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[1.2.3.4.5]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[[1.2.3.4]]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[IPv6:1.2.3.4]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[IPv6:]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[IPv6:fe80::1%eth0]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[x400:foo]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	{ IN("[mx.example.com]"), POLICY_HELO_BAD_LITERAL, 0, { 0 } },
	/* neither */
	{ IN("1.2.3"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("1.2.3.4.5"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("01.2.3.4"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("999.1.1.1"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("12345"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("host.123"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("1.2.3.4:25"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("2001:db8::zz"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("1.2.3.4.."), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("foo bar"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("foo bar.example.com"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("a..b"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN(".example.com"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("."), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN(".."), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("foo/bar.com"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("user@bar.com"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("mx.example.com]"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("mx.example.com\r"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("foo\0bar.com"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("\xff.example"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("caf\xc3"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("\xc0\xae.example"), POLICY_HELO_INVALID, 0, { 0 } },
	{ IN("\xed\xa0\x80.example"), POLICY_HELO_INVALID, 0, { 0 } },
#undef IN
};

static void
test_helo_class(void **state)
{
	struct net_addr		a;
	enum policy_helo_class	c;
	unsigned char		zero[16] = { 0 };

	(void)state;
	for (size_t i = 0; i < N(class_cases); i++) {
		memset(&a, 0xa5, sizeof(a));
		c = policy_helo_class(span_make(class_cases[i].in,
		    class_cases[i].len), &a);
		if (c != class_cases[i].cls)
			print_error("class_cases[%zu] \"%s\": got %s\n", i,
			    class_cases[i].in, policy_helo_class_name(c));
		assert_int_equal(c, class_cases[i].cls);
		assert_int_equal(a.family, class_cases[i].family);
		if (class_cases[i].family == 0)
			assert_memory_equal(a.addr, zero, 16);
		else
			assert_memory_equal(a.addr, class_cases[i].addr,
			    class_cases[i].family == AF_INET ? 4 : 16);
	}
	/* NULL span and NULL addr are fine */
	assert_int_equal(policy_helo_class(span_make(NULL, 0), NULL),
	    POLICY_HELO_EMPTY);
	assert_int_equal(policy_helo_class(span_make("[1.2.3.4]", 9), NULL),
	    POLICY_HELO_LITERAL_V4);
}

/* Label and name lengths: 63 and 255 octets are the limits. */
static void
test_helo_class_lengths(void **state)
{
	char	buf[400];

	(void)state;
	/* one 63-octet label + ".example" */
	memset(buf, 'a', 63);
	memcpy(buf + 63, ".example", 8);
	assert_int_equal(policy_helo_class(span_make(buf, 71), NULL),
	    POLICY_HELO_FQDN);
	/* a 64-octet label */
	memset(buf, 'a', 64);
	memcpy(buf + 64, ".example", 8);
	assert_int_equal(policy_helo_class(span_make(buf, 72), NULL),
	    POLICY_HELO_INVALID);
	/* 64 times "abc.": 256 octets, 255 without the trailing dot */
	for (int i = 0; i < 64; i++)
		memcpy(buf + i * 4, "abc.", 4);
	assert_int_equal(policy_helo_class(span_make(buf, 256), NULL),
	    POLICY_HELO_FQDN);
	assert_int_equal(policy_helo_class(span_make(buf, 255), NULL),
	    POLICY_HELO_FQDN);
	/* 63 times "abc." and "abcd": 256 octets of name */
	memcpy(buf + 252, "abcd", 4);
	assert_int_equal(policy_helo_class(span_make(buf, 256), NULL),
	    POLICY_HELO_INVALID);
	/* 300 octets, one label */
	memset(buf, 'c', 300);
	assert_int_equal(policy_helo_class(span_make(buf, 300), NULL),
	    POLICY_HELO_INVALID);
}

/* ------------------------------------------------------------------ */

static const struct {
	unsigned		 flags;
	enum policy_stage	 reject_at;
	const char		*ip;
	bool			 submission;
	bool			 ehlo;
	const char		*helo;
	enum policy_action	 action;
	enum policy_stage	 at;
	int			 code;
	const char		*enh;
	const char		*text;
	const char		*reason;
} helo_cases[] = {
	/* all on, a good name */
	{ H_ALL, AT_H, "192.0.2.7", false, true, "mail.client.example.net",
	  P, AT_H, 0, "", "", "" },
	/* everything off: transparent */
	{ 0, AT_H, "192.0.2.7", false, true, "192.0.2.7",
	  P, AT_H, 0, "", "", "" },
	{ 0, AT_H, "192.0.2.7", false, true, "",
	  P, AT_H, 0, "", "", "" },

	/* reject_bare_ip */
	{ H_BARE, AT_H, "192.0.2.7", false, false, "192.0.2.7",
	  R, AT_H, 501, "5.5.2",
	  "501 5.5.2 HELO 192.0.2.7 is not valid: an IP address must be in "
	  "brackets",
	  "HELO 192.0.2.7 is a bare IP address, not in brackets" },
	{ H_BARE, AT_H, "192.0.2.7", false, true, "208.247.131.9",
	  R, AT_H, 501, "5.5.2",
	  "501 5.5.2 EHLO 208.247.131.9 is not valid: an IP address must be "
	  "in brackets",
	  "EHLO 208.247.131.9 is a bare IP address, not in brackets" },
	{ H_BARE, AT_H, "192.0.2.7", false, true, "1.2.3.4.",
	  R, AT_H, 501, "5.5.2",
	  "501 5.5.2 EHLO 1.2.3.4. is not valid: an IP address must be in "
	  "brackets", NULL },
	{ H_BARE, AT_H, "2001:db8::7", false, true, "2001:db8::7",
	  R, AT_H, 501, "5.5.2",
	  "501 5.5.2 EHLO 2001:db8::7 is not valid: an IP address must be in "
	  "brackets",
	  "EHLO 2001:db8::7 is a bare IP address, not in brackets" },
	{ H_BARE, AT_M, "192.0.2.7", false, true, "192.0.2.7",
	  D, AT_M, 550, "5.7.1",
	  "550 5.7.1 EHLO 192.0.2.7 is not valid: an IP address must be in "
	  "brackets",
	  "EHLO 192.0.2.7 is a bare IP address, not in brackets" },
	{ H_BARE, AT_R, "192.0.2.7", false, true, "192.0.2.7",
	  D, AT_R, 550, "5.7.1",
	  "550 5.7.1 EHLO 192.0.2.7 is not valid: an IP address must be in "
	  "brackets", NULL },
	{ H_BARE, AT_H, "192.0.2.7", false, true, "[192.0.2.7]",
	  P, AT_H, 0, "", "", "" },
	{ H_BARE, AT_H, "192.0.2.7", false, true, "1.2.3",
	  P, AT_H, 0, "", "", "" },

	/* literal_must_match */
	{ H_LIT, AT_H, "192.0.2.7", false, true, "[192.0.2.7]",
	  P, AT_H, 0, "", "", "" },
	{ H_LIT, AT_H, "192.0.2.7", false, true, "[192.0.2.8]",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [192.0.2.8] does not match your address 192.0.2.7",
	  "EHLO [192.0.2.8] does not match client 192.0.2.7" },
	{ H_LIT, AT_R, "192.0.2.7", false, false, "[10.0.0.1]",
	  D, AT_R, 550, "5.7.1",
	  "550 5.7.1 HELO [10.0.0.1] does not match your address 192.0.2.7",
	  "HELO [10.0.0.1] does not match client 192.0.2.7" },
	{ H_LIT, AT_H, "::ffff:192.0.2.7", false, true, "[192.0.2.7]",
	  P, AT_H, 0, "", "", "" },
	{ H_LIT, AT_H, "192.0.2.7", false, true, "[IPv6:::ffff:192.0.2.7]",
	  P, AT_H, 0, "", "", "" },
	{ H_LIT, AT_H, "::ffff:192.0.2.7", false, true, "[192.0.2.8]",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [192.0.2.8] does not match your address "
	  "::ffff:192.0.2.7", NULL },
	{ H_LIT, AT_H, "2001:db8::7", false, true, "[IPv6:2001:db8::7]",
	  P, AT_H, 0, "", "", "" },
	{ H_LIT, AT_H, "2001:db8::7", false, true,
	  "[IPv6:2001:DB8:0:0:0:0:0:7]", P, AT_H, 0, "", "", "" },
	{ H_LIT, AT_H, "2001:db8::7", false, true, "[2001:db8::7]",
	  P, AT_H, 0, "", "", "" },
	{ H_LIT, AT_H, "2001:db8::7", false, true, "[IPv6:2001:db8::8]",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [IPv6:2001:db8::8] does not match your address "
	  "2001:db8::7",
	  "EHLO [IPv6:2001:db8::8] does not match client 2001:db8::7" },
	{ H_LIT, AT_H, "2001:db8::7", false, true, "[192.0.2.7]",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [192.0.2.7] does not match your address "
	  "2001:db8::7", NULL },
	{ H_LIT, AT_H, "192.0.2.7", false, true, "[192.0.2.7",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [192.0.2.7 is not a valid address literal",
	  "EHLO [192.0.2.7 is not a valid address literal" },
	{ H_LIT, AT_M, "192.0.2.7", false, true, "[IPv6:zzz]",
	  D, AT_M, 550, "5.7.1",
	  "550 5.7.1 EHLO [IPv6:zzz] is not a valid address literal", NULL },
	{ H_LIT, AT_H, "192.0.2.7", false, true, "mail.example.net",
	  P, AT_H, 0, "", "", "" },

	/* reject_own_identity */
	{ H_OWN, AT_H, "192.0.2.7", false, true, "mx.example.com",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO mx.example.com is our own identity",
	  "EHLO mx.example.com is our hostname" },
	{ H_OWN, AT_H, "192.0.2.7", false, true, "MX.EXAMPLE.COM.",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO MX.EXAMPLE.COM. is our own identity",
	  "EHLO MX.EXAMPLE.COM. is our hostname" },
	{ H_OWN, AT_R, "192.0.2.7", false, true, "Example.Org",
	  D, AT_R, 550, "5.7.1",
	  "550 5.7.1 EHLO Example.Org is our own identity",
	  "EHLO Example.Org is our local domain" },
	{ H_OWN, AT_H, "192.0.2.7", false, true, "mail.example.com",
	  P, AT_H, 0, "", "", "" },
	{ H_OWN, AT_H, "192.0.2.7", false, true, "example.net",
	  P, AT_H, 0, "", "", "" },
	{ H_OWN, AT_H, "192.0.2.7", false, true, "[203.0.113.25]",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [203.0.113.25] is our own identity",
	  "EHLO [203.0.113.25] is our own address" },
	{ H_OWN, AT_H, "192.0.2.7", false, true, "203.0.113.25",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO 203.0.113.25 is our own identity",
	  "EHLO 203.0.113.25 is our own address" },
	{ H_OWN, AT_H, "2001:db8::7", false, true, "[IPv6:2001:db8:25::25]",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [IPv6:2001:db8:25::25] is our own identity",
	  "EHLO [IPv6:2001:db8:25::25] is our own address" },
	{ H_OWN, AT_H, "192.0.2.7", false, true, "[203.0.113.26]",
	  P, AT_H, 0, "", "", "" },
	/* the literal check comes first */
	{ H_OWN | H_LIT, AT_H, "192.0.2.7", false, true, "[203.0.113.25]",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [203.0.113.25] does not match your address "
	  "192.0.2.7", NULL },
	/* and the bare IP check before both */
	{ H_ALL, AT_H, "192.0.2.7", false, true, "203.0.113.25",
	  R, AT_H, 501, "5.5.2",
	  "501 5.5.2 EHLO 203.0.113.25 is not valid: an IP address must be "
	  "in brackets", NULL },

	/* require_fqdn */
	{ H_FQDN, AT_H, "192.0.2.7", false, false, "localhost",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 HELO localhost is not a fully qualified domain name",
	  "HELO localhost is not a fully qualified domain name" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "localhost.",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO localhost. is not a fully qualified domain name",
	  NULL },
	{ H_FQDN, AT_R, "192.0.2.7", false, true, "mike",
	  D, AT_R, 550, "5.7.1",
	  "550 5.7.1 EHLO mike is not a fully qualified domain name", NULL },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "",
	  R, AT_H, 550, "5.7.1", "550 5.7.1 EHLO without a domain name",
	  "EHLO is empty" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "   ",
	  R, AT_H, 550, "5.7.1", "550 5.7.1 EHLO without a domain name",
	  "EHLO is empty" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "foo bar",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO foo?bar is not a valid domain name",
	  "EHLO foo?bar is not a valid domain name" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "[1.2.3.4",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO [1.2.3.4 is not a valid domain name", NULL },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "evil\x1b[31m.example",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO evil?[31m.example is not a valid domain name",
	  "EHLO evil?[31m.example is not a valid domain name" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "b\xc3\xbc" "cher",
	  R, AT_H, 550, "5.7.1",
	  "550 5.7.1 EHLO b??cher is not a fully qualified domain name",
	  "EHLO b??cher is not a fully qualified domain name" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "b\xc3\xbc" "cher.example",
	  P, AT_H, 0, "", "", "" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "mail.example.net",
	  P, AT_H, 0, "", "", "" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "[192.0.2.8]",
	  P, AT_H, 0, "", "", "" },
	{ H_FQDN, AT_H, "192.0.2.7", false, true, "192.0.2.8",
	  P, AT_H, 0, "", "", "" },

	/* exemptions: trusted networks, submission listeners */
	{ H_ALL, AT_H, "198.51.100.7", false, true, "localhost",
	  P, AT_H, 0, "", "", "client in trusted_networks" },
	{ H_ALL, AT_H, "2001:db8:aaaa::7", false, true, "[192.0.2.1]",
	  P, AT_H, 0, "", "", "client in trusted_networks" },
	{ H_ALL, AT_H, "::ffff:198.51.100.7", false, true, "mx.example.com",
	  P, AT_H, 0, "", "", "client in trusted_networks" },
	{ H_ALL, AT_H, "192.0.2.7", true, true, "[192.168.1.10]",
	  P, AT_H, 0, "", "", "submission listener: HELO not checked" },
};

static void
test_helo(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;

	(void)state;
	for (size_t i = 0; i < N(helo_cases); i++) {
		fixture_init(&f);
		set_helo_flags(&f.cfg, helo_cases[i].flags,
		    helo_cases[i].reject_at);
		cl = client(&f.cfg, helo_cases[i].ip, NULL);
		cl.helo_seen = false;
		cl.submission = helo_cases[i].submission;
		assert_int_equal(policy_helo(&f.cfg, &cl,
		    span_make(helo_cases[i].helo, strlen(helo_cases[i].helo)),
		    helo_cases[i].ehlo, &v), helo_cases[i].action);
		expect("helo_cases", i, &v, helo_cases[i].action, helo_cases[i].code,
		    helo_cases[i].enh, helo_cases[i].text,
		    helo_cases[i].reason);
		if (v.action != P)
			assert_int_equal(v.at, helo_cases[i].at);
		assert_int_equal(v.check, v.action == P ? POLICY_CK_NONE :
		    POLICY_CK_HELO);
		assert_int_equal(v.score, 0);
	}
}

/* Over-long and hostile HELOs are cut in the text and the reason. */
static void
test_helo_bounds(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	char			helo[300], text[200], reason[300];

	(void)state;
	fixture_init(&f);
	set_helo_flags(&f.cfg, H_FQDN, AT_H);
	cl = client(&f.cfg, "192.0.2.7", NULL);
	memset(helo, 'a', sizeof(helo));
	assert_int_equal(policy_helo(&f.cfg, &cl, span_make(helo,
	    sizeof(helo)), true, &v), R);
	/* 64 octets in the reply, 128 in the reason, then "..." */
	snprintf(text, sizeof(text), "550 5.7.1 EHLO %.64s... is not a valid "
	    "domain name", helo);
	snprintf(reason, sizeof(reason), "EHLO %.128s... is not a valid "
	    "domain name", helo);
	assert_string_equal(v.text, text);
	assert_string_equal(v.reason, reason);
	assert_true(strlen(v.text) < POLICY_TEXT_MAX);

	/* a NUL and CR LF inside never reach the texts */
	assert_int_equal(policy_helo(&f.cfg, &cl, span_make("a\0b\r\nc", 6),
	    false, &v), R);
	assert_string_equal(v.text,
	    "550 5.7.1 HELO a?b??c is not a valid domain name");
}

/* ------------------------------------------------------------------ */

/*
 * A session: HELO (NULL: none), then MAIL, then RCPT, with the verdict
 * of each; the HELO is stored as the proxy does unless refused.
 */
static const struct {
	unsigned		 flags;
	enum policy_stage	 reject_at;
	const char		*helo1, *helo2;	/* helo2: a second EHLO */
	const char		*auth;
	const char		*rcpt;
	enum policy_action	 helo_action;	/* of the last HELO */
	enum policy_action	 mail_action;
	const char		*mail_text;
	enum policy_action	 rcpt_action;
	const char		*rcpt_text;
} flow_cases[] = {
#define BARE_550 "550 5.7.1 EHLO 192.0.2.7 is not valid: an IP address " \
	"must be in brackets"
	/* reject_at = rcpt: relayed, each RCPT refused but postmaster */
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL, "RCPT TO:<bob@example.com>",
	  D, P, "", R, BARE_550 },
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL, "RCPT TO:<Postmaster>",
	  D, P, "", P, "" },
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL,
	  "RCPT TO:<PostMaster@example.com>", D, P, "", P, "" },
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL,
	  "RCPT TO:<postmaster@example.net>", D, P, "", P, "" },
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL,
	  "RCPT TO:<\"postmaster\"@example.com>", D, P, "", P, "" },
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL,
	  "RCPT TO:<@relay.example:postmaster@example.com>", D, P, "",
	  R, BARE_550 },
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL,
	  "RCPT TO:<postmaster+x@example.com>", D, P, "", R, BARE_550 },
	{ H_BARE, AT_R, "192.0.2.7", NULL, NULL,
	  "RCPT TO:<postmaster%evil.example@example.com>", D, P, "",
	  R, BARE_550 },
	/* authenticated sessions are exempt from deferred HELO refusals */
	{ H_BARE, AT_R, "192.0.2.7", NULL, "alice@example.com",
	  "RCPT TO:<bob@example.net>", D, P, "", P, "" },
	{ H_BARE, AT_M, "192.0.2.7", NULL, "alice@example.com",
	  "RCPT TO:<bob@example.net>", D, P, "", P, "" },
	/* reject_at = mail */
	{ H_BARE, AT_M, "192.0.2.7", NULL, NULL, "RCPT TO:<postmaster>",
	  D, R, BARE_550, P, "" },
	/* reject_at = helo: refused and not relayed, so MAIL gets 503 */
	{ H_BARE, AT_H, "192.0.2.7", NULL, NULL, "RCPT TO:<bob@example.com>",
	  R, R, "503 5.5.1 Send HELO/EHLO first", P, "" },
	/* ... and a second EHLO is checked again */
	{ H_BARE, AT_H, "192.0.2.7", "mail.client.example.net", NULL,
	  "RCPT TO:<bob@example.com>", P, P, "", P, "" },
	/* a refused second EHLO leaves the first in force (RFC 5321 4.1.4) */
	{ H_BARE, AT_H, "mail.client.example.net", "192.0.2.7", NULL,
	  "RCPT TO:<bob@example.com>", R, P, "", P, "" },
	/* a good second EHLO replaces a deferred refusal */
	{ H_BARE, AT_R, "192.0.2.7", "mail.client.example.net", NULL,
	  "RCPT TO:<bob@example.com>", P, P, "", P, "" },
	/* no HELO at all: 503 when a check is on, transparent when not */
	{ H_FQDN, AT_R, NULL, NULL, NULL, "RCPT TO:<bob@example.com>",
	  P, R, "503 5.5.1 Send HELO/EHLO first", P, "" },
	{ 0, AT_R, NULL, NULL, NULL, "RCPT TO:<bob@example.com>",
	  P, P, "", P, "" },
	/* a good HELO */
	{ H_ALL, AT_R, "mail.client.example.net", NULL, NULL,
	  "RCPT TO:<bob@example.com>", P, P, "", P, "" },
#undef BARE_550
};

static void
test_flow(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<x@example.net>"), r;
	const char		*helos[2];

	(void)state;
	for (size_t i = 0; i < N(flow_cases); i++) {
		fixture_init(&f);
		set_helo_flags(&f.cfg, flow_cases[i].flags,
		    flow_cases[i].reject_at);
		cl = client(&f.cfg, "192.0.2.7", NULL);
		cl.helo_seen = false;
		memset(&cl.helo, 0, sizeof(cl.helo));
		v.action = P;
		helos[0] = flow_cases[i].helo1;
		helos[1] = flow_cases[i].helo2;
		for (size_t k = 0; k < 2 && helos[k] != NULL; k++) {
			policy_helo(&f.cfg, &cl, span_make(helos[k],
			    strlen(helos[k])), true, &v);
			if (v.action != R) {
				cl.helo = v;
				cl.helo_seen = true;
			}
		}
		if (v.action != flow_cases[i].helo_action)
			print_error("flow_cases[%zu]: helo %s\n", i,
			    policy_action_name(v.action));
		assert_int_equal(v.action, flow_cases[i].helo_action);
		/* AUTH comes after EHLO */
		cl.auth_id = flow_cases[i].auth;

		assert_int_equal(policy_mail(&f.cfg, &cl, &m, &txn, &v),
		    flow_cases[i].mail_action);
		if (v.action == R) {
			assert_string_equal(v.text, flow_cases[i].mail_text);
			assert_int_equal(v.check, POLICY_CK_HELO);
			assert_int_equal(v.at, AT_M);
			assert_int_equal(v.code, v.text[0] == '5' &&
			    v.text[1] == '0' ? 503 : 550);
			continue;
		}
		assert_string_equal(v.text, "");
		r = cmd(flow_cases[i].rcpt);
		assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &r, &v),
		    flow_cases[i].rcpt_action);
		if (v.action != flow_cases[i].rcpt_action ||
		    strcmp(v.text, flow_cases[i].rcpt_text) != 0)
			print_error("flow_cases[%zu]: rcpt \"%s\"\n", i, v.text);
		assert_string_equal(v.text, flow_cases[i].rcpt_text);
		if (v.action == R) {
			expect("flow_cases/rcpt", i, &v, R, 550, "5.7.1",
			    flow_cases[i].rcpt_text,
			    "EHLO 192.0.2.7 is a bare IP address, not in "
			    "brackets");
			assert_int_equal(v.check, POLICY_CK_HELO);
			/* given at RCPT: the proxy must not defer it again */
			assert_int_equal(v.action, R);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helo_class),
		cmocka_unit_test(test_helo_class_lengths),
		cmocka_unit_test(test_helo),
		cmocka_unit_test(test_helo_bounds),
		cmocka_unit_test(test_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
