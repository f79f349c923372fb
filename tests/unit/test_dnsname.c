/*
 * tests/unit/test_dnsname.c - core/dnsname.c: which PTR names are host
 * names (hostile ones included: escapes, control octets, spaces,
 * lengths at and past the limits), the reversed forms of IPv4, IPv6
 * and IPv4-mapped addresses for PTR and DNSBL queries, and which DNSBL
 * answers count. Expected values are typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/dnsname.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*in;
	size_t		 len;
	bool		 ok;
} host_cases[] = {
#define IN(s) s, sizeof(s) - 1
	{ IN("mx.example.com"), true },
	{ IN("MX1.Example.COM"), true },
	{ IN("mx.example.com."), true },
	{ IN("localhost"), true },
	{ IN("123.example.com"), true },
	{ IN("a-b.example"), true },
	{ IN("xn--bcher-kva.example"), true },
	{ IN("3com.com"), true },
	{ IN(""), false },
	{ IN("."), false },
	{ IN("mx..example.com"), false },
	{ IN(".mx.example.com"), false },
	{ IN("mx.example.com.."), false },
	{ IN("-mx.example.com"), false },
	{ IN("mx-.example.com"), false },
	{ IN("mx.-example.com"), false },
	{ IN("bad_host.example"), false },
	{ IN("mx example.com"), false },
	{ IN("mx.example.com\r\nX-Evil: 1"), false },
	{ IN("mx\\010.example.com"), false },
	{ IN("mx\\.example.com"), false },
	{ IN("mx.example.com\0"), false },
	{ IN("b\xc3\xbc" "cher.example"), false },
	{ IN("mx.exa(mple).com"), false },
	{ IN("192.0.2.1"), false },
	{ IN("192.0.2.1."), false },
	{ IN("[192.0.2.1]"), false },
	/* 63 octets in a label: fine; 64: not */
	{ IN("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example"), true },
	{ IN("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    ".example"), false },
};

static void
test_is_host(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(host_cases); i++) {
		if (dnsname_is_host(host_cases[i].in, host_cases[i].len) !=
		    host_cases[i].ok)
			fail_msg("host_cases[%zu] \"%s\": want %d", i,
			    host_cases[i].in, host_cases[i].ok);
	}
	assert_false(dnsname_is_host(NULL, 0));
}

/* 253 octets: a host name; 254: not. */
static void
test_is_host_length(void **state)
{
	char	buf[300];
	size_t	n = 0;

	(void)state;
	/* 4 labels of 62 and one of 1 + dots: 62*4 + 4 + 1 = 253 */
	for (int l = 0; l < 4; l++) {
		memset(buf + n, 'a', 62);
		n += 62;
		buf[n++] = '.';
	}
	buf[n++] = 'b';
	assert_int_equal(n, 253);
	assert_true(dnsname_is_host(buf, n));
	buf[n++] = 'c';
	assert_false(dnsname_is_host(buf, n));
}

static const struct {
	int		 family;
	unsigned char	 addr[16];
	const char	*zone;
	const char	*want;
} rev_cases[] = {
	{ AF_INET, { 192, 0, 2, 1 }, NULL, "1.2.0.192.in-addr.arpa" },
	{ AF_INET, { 127, 0, 0, 2 }, "zen.example", "2.0.0.127.zen.example" },
	{ AF_INET6, { [15] = 1 }, NULL,
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	    ".ip6.arpa" },
	{ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0xcd },
	    "bl.example",
	    "d.c.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	    ".bl.example" },
	/* an IPv4-mapped address is the IPv4 client it stands for */
	{ AF_INET6, { [10] = 0xff, [11] = 0xff, [12] = 192, 0, 2, 7 },
	    "bl.example", "7.2.0.192.bl.example" },
	{ AF_INET6, { [10] = 0xff, [11] = 0xff, [12] = 192, 0, 2, 7 },
	    NULL, "7.2.0.192.in-addr.arpa" },
};

static void
test_reverse(void **state)
{
	char		buf[256];
	struct net_addr	a;

	(void)state;
	for (size_t i = 0; i < N(rev_cases); i++) {
		memset(&a, 0, sizeof(a));
		a.family = rev_cases[i].family;
		memcpy(a.addr, rev_cases[i].addr, 16);
		assert_int_equal(dnsname_reverse(&a, rev_cases[i].zone, buf,
		    sizeof(buf)), strlen(rev_cases[i].want));
		assert_string_equal(buf, rev_cases[i].want);
	}
	/* too small a buffer: 0 and an empty string, never a cut name */
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.addr[0] = 192;
	assert_int_equal(dnsname_reverse(&a, NULL, buf, 10), 0);
	assert_string_equal(buf, "");
	a.family = AF_INET6;
	assert_int_equal(dnsname_reverse(&a, "zone.example", buf, 70), 0);
	assert_string_equal(buf, "");
	a.family = 0;
	assert_int_equal(dnsname_reverse(&a, NULL, buf, sizeof(buf)), 0);
}

static void
test_dnsbl_code(void **state)
{
	static const unsigned char	 two[4] = { 127, 0, 0, 2 };
	static const unsigned char	 ten[4] = { 127, 0, 0, 10 };
	static const unsigned char	 out[4] = { 192, 0, 2, 1 };
	static char			*codes[] = { "127.0.0.2", "127.0.0.4" };

	(void)state;
	assert_int_equal(dnsname_dnsbl_code(two, NULL, 0), 1);
	assert_int_equal(dnsname_dnsbl_code(ten, NULL, 0), 1);
	assert_int_equal(dnsname_dnsbl_code(out, NULL, 0), -1);
	assert_int_equal(dnsname_dnsbl_code(two, codes, 2), 1);
	assert_int_equal(dnsname_dnsbl_code(ten, codes, 2), 0);
	assert_int_equal(dnsname_dnsbl_code(out, codes, 2), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_host),
		cmocka_unit_test(test_is_host_length),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_dnsbl_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
