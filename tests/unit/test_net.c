/*
 * tests/unit/test_net.c - core/net.c: address and network parsing,
 * matching (IPv4-mapped IPv6 included) and printing. Expected values
 * are typed by hand; the JSON Schema format suites (ipv4.json,
 * ipv6.json, see tests/data/README.md) check that net_addr_parse
 * agrees with them on validity.
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

#include "core/net.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define V4 AF_INET
#define V6 AF_INET6

static const struct {
	const char	*in;
	int		 rc;
	int		 family;
	int		 prefix;
	unsigned char	 addr[16];
} parse_cases[] = {
	/* single addresses: a /32 or /128 */
	{ "192.0.2.1", 0, V4, 32, { 192, 0, 2, 1 } },
	{ "0.0.0.0", 0, V4, 32, { 0 } },
	{ "255.255.255.255", 0, V4, 32, { 255, 255, 255, 255 } },
	{ "::1", 0, V6, 128, { [15] = 1 } },
	{ "::", 0, V6, 128, { 0 } },
	{ "2001:DB8::1", 0, V6, 128, { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	/* CIDR */
	{ "10.0.0.0/8", 0, V4, 8, { 10 } },
	{ "192.168.1.0/24", 0, V4, 24, { 192, 168, 1, 0 } },
	{ "192.168.1.128/25", 0, V4, 25, { 192, 168, 1, 128 } },
	{ "0.0.0.0/0", 0, V4, 0, { 0 } },
	{ "203.0.113.25/32", 0, V4, 32, { 203, 0, 113, 25 } },
	{ "2001:db8::/32", 0, V6, 32, { 0x20, 0x01, 0x0d, 0xb8 } },
	{ "::/0", 0, V6, 0, { 0 } },
	{ "fe80::/10", 0, V6, 10, { 0xfe, 0x80 } },
	{ "::ffff:10.0.0.0/104", 0, V6, 104,
	    { [10] = 0xff, [11] = 0xff, [12] = 10 } },
	{ "2001:db8:0:0:0:0:0:1/128", 0, V6, 128,
	    { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 } },
	/* wildcards: each trailing "*" is one octet */
	{ "192.168.0.*", 0, V4, 24, { 192, 168, 0, 0 } },
	{ "10.*.*.*", 0, V4, 8, { 10 } },
	{ "172.16.*.*", 0, V4, 16, { 172, 16 } },
	{ "*.*.*.*", 0, V4, 0, { 0 } },
	/* host bits under the prefix */
	{ "10.0.0.1/8", -1, 0, 0, { 0 } },
	{ "192.168.1.1/24", -1, 0, 0, { 0 } },
	{ "192.168.1.128/24", -1, 0, 0, { 0 } },
	{ "2001:db8::1/64", -1, 0, 0, { 0 } },
	{ "fec0::/9", -1, 0, 0, { 0 } },
	/* syntax */
	{ "", -1, 0, 0, { 0 } },
	{ "10.0.0.0/", -1, 0, 0, { 0 } },
	{ "10.0.0.0/33", -1, 0, 0, { 0 } },
	{ "10.0.0.0/08", -1, 0, 0, { 0 } },
	{ "10.0.0.0/-1", -1, 0, 0, { 0 } },
	{ "10.0.0.0/8/8", -1, 0, 0, { 0 } },
	{ "10.0.0.0 /8", -1, 0, 0, { 0 } },
	{ "::/129", -1, 0, 0, { 0 } },
	{ "10/8", -1, 0, 0, { 0 } },
	{ "10.0/16", -1, 0, 0, { 0 } },
	{ "*.168.0.1", -1, 0, 0, { 0 } },
	{ "192.*.0.*", -1, 0, 0, { 0 } },
	{ "192.168.*", -1, 0, 0, { 0 } },
	{ "10.*.*.*/8", -1, 0, 0, { 0 } },
	{ "192.168.0.**", -1, 0, 0, { 0 } },
	{ "192.168.0.1*", -1, 0, 0, { 0 } },
	{ "010.0.0.0/8", -1, 0, 0, { 0 } },
	{ "2001:db8::*", -1, 0, 0, { 0 } },
	{ "example.com", -1, 0, 0, { 0 } },
	{ "[::1]", -1, 0, 0, { 0 } },
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(parse_cases); i++) {
		struct net n;
		const char *in = parse_cases[i].in;
		int rc;

		memset(&n, 0xa5, sizeof(n));
		rc = net_parse(in, strlen(in), &n);
		if (rc != parse_cases[i].rc)
			fail_msg("net_parse(\"%s\") = %d, want %d", in, rc,
			    parse_cases[i].rc);
		if (rc != 0)
			continue;
		assert_int_equal(n.family, parse_cases[i].family);
		assert_int_equal(n.prefix, parse_cases[i].prefix);
		assert_memory_equal(n.addr, parse_cases[i].addr,
		    n.family == V4 ? 4 : 16);
	}
}

/* The input is a length, not a string: bytes past len are not read. */
static void
test_parse_len(void **state)
{
	struct net	n;
	struct net_addr	a;

	(void)state;
	assert_int_equal(net_parse("10.0.0.0/8xyz", 10, &n), 0);
	assert_int_equal(n.prefix, 8);
	assert_int_equal(net_parse("192.168.0.1", 9, &n), -1);	/* "192.168.0" */
	assert_int_equal(net_parse("192.168.0.1/24", 11, &n), 0);
	assert_int_equal(n.prefix, 32);
	assert_int_equal(net_parse("10.0.0.0/8", 0, &n), -1);
	assert_int_equal(net_addr_parse("10.1.2.3\0evil", 13, &a), -1);
	assert_int_equal(net_addr_parse("10.1.2.3\0evil", 8, &a), 0);
	assert_int_equal(net_addr_parse(NULL, 0, &a), -1);
}

static const struct {
	const char	*in;
	int		 rc;
	const char	*cleared;	/* net_format of the result */
} relaxed_cases[] = {
	{ "10.0.0.0/8", 0, "10.0.0.0/8" },
	{ "10.1.2.3/8", 1, "10.0.0.0/8" },
	{ "192.168.1.77/24", 1, "192.168.1.0/24" },
	{ "2001:db8::1/32", 1, "2001:db8::/32" },
	{ "192.168.0.*", 0, "192.168.0.0/24" },
	{ "::1", 0, "::1/128" },
	{ "10.1.2.3/33", -1, NULL },
	{ "bogus", -1, NULL },
};

static void
test_relaxed(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(relaxed_cases); i++) {
		struct net n;
		char buf[64];
		const char *in = relaxed_cases[i].in;

		assert_int_equal(net_parse_relaxed(in, strlen(in), &n),
		    relaxed_cases[i].rc);
		if (relaxed_cases[i].cleared == NULL)
			continue;
		assert_int_equal(net_format(&n, buf, sizeof(buf)),
		    strlen(relaxed_cases[i].cleared));
		assert_string_equal(buf, relaxed_cases[i].cleared);
	}
}

static const struct {
	const char	*in;
	int		 rc;
	int		 family;
	unsigned char	 addr[16];
} addr_cases[] = {
	{ "192.0.2.1", 0, V4, { 192, 0, 2, 1 } },
	{ "::ffff:192.0.2.1", 0, V6,
	    { [10] = 0xff, [11] = 0xff, [12] = 192, 0, 2, 1 } },
	{ "::FFFF:c000:0201", 0, V6,
	    { [10] = 0xff, [11] = 0xff, [12] = 192, 0, 2, 1 } },
	{ "1:2:3:4:5:6:7:8", 0, V6,
	    { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 } },
	{ "1::8", 0, V6, { 0, 1, [15] = 8 } },
	{ "1:2:3:4:5:6:7::", 0, V6,
	    { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0 } },
	{ "::2:3:4:5:6:7:8", 0, V6,
	    { 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 } },
	{ "fe80::0001", 0, V6, { 0xfe, 0x80, [15] = 1 } },
	{ "10.0.0.0/8", -1, 0, { 0 } },
	{ "10.0.0.*", -1, 0, { 0 } },
	{ "::1/128", -1, 0, { 0 } },
	{ "1::2::3", -1, 0, { 0 } },
	{ "1:2:3:4:5:6:7:8:9", -1, 0, { 0 } },
	{ "1:2:3:4:5:6:7:8::", -1, 0, { 0 } },
	{ "::1:2:3:4:5:6:7:8", -1, 0, { 0 } },
	{ "1:2:3:4:5:6:1.2.3.4:5", -1, 0, { 0 } },
	{ "::1.2.3.04", -1, 0, { 0 } },
	{ "12345::", -1, 0, { 0 } },
	{ "g::1", -1, 0, { 0 } },
	{ "1.2.3.4.", -1, 0, { 0 } },
	{ "01.2.3.4", -1, 0, { 0 } },
	{ "1.2.3.256", -1, 0, { 0 } },
	{ "1.2.3.1000", -1, 0, { 0 } },
};

static void
test_addr_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(addr_cases); i++) {
		struct net_addr a;
		const char *in = addr_cases[i].in;
		int rc = net_addr_parse(in, strlen(in), &a);

		if (rc != addr_cases[i].rc)
			fail_msg("net_addr_parse(\"%s\") = %d, want %d", in, rc,
			    addr_cases[i].rc);
		if (rc != 0)
			continue;
		assert_int_equal(a.family, addr_cases[i].family);
		assert_memory_equal(a.addr, addr_cases[i].addr,
		    a.family == V4 ? 4 : 16);
	}
}

static const struct {
	const char	*net;
	const char	*addr;
	int		 match;
} match_cases[] = {
	{ "10.0.0.0/8", "10.1.2.3", 1 },
	{ "10.0.0.0/8", "11.0.0.0", 0 },
	{ "10.0.0.0/8", "9.255.255.255", 0 },
	{ "192.168.1.128/25", "192.168.1.128", 1 },
	{ "192.168.1.128/25", "192.168.1.255", 1 },
	{ "192.168.1.128/25", "192.168.1.127", 0 },
	{ "192.168.0.*", "192.168.0.77", 1 },
	{ "192.168.0.*", "192.168.1.77", 0 },
	{ "*.*.*.*", "203.0.113.9", 1 },
	{ "0.0.0.0/0", "255.255.255.255", 1 },
	{ "203.0.113.25", "203.0.113.25", 1 },
	{ "203.0.113.25", "203.0.113.26", 0 },
	{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "fe80::/10", "febf::1", 1 },
	{ "fe80::/10", "fec0::1", 0 },
	{ "::1", "::1", 1 },
	{ "::1", "::2", 0 },
	/* IPv4-mapped IPv6 clients match IPv4 networks ... */
	{ "10.0.0.0/8", "::ffff:10.9.8.7", 1 },
	{ "10.0.0.0/8", "::ffff:11.9.8.7", 0 },
	{ "192.168.0.*", "::ffff:192.168.0.1", 1 },
	/* ... but only the mapped form, not IPv4-compatible or others */
	{ "10.0.0.0/8", "::10.9.8.7", 0 },
	{ "10.0.0.0/8", "::fffe:10.9.8.7", 0 },
	{ "10.0.0.0/8", "1::ffff:10.9.8.7", 0 },
	/* IPv4 clients match IPv6 networks through their mapped form */
	{ "::ffff:10.0.0.0/104", "10.1.2.3", 1 },
	{ "::ffff:10.0.0.0/104", "11.1.2.3", 0 },
	{ "::ffff:10.0.0.0/104", "::ffff:10.1.2.3", 1 },
	{ "::/0", "10.1.2.3", 1 },
	{ "2001:db8::/32", "10.1.2.3", 0 },
	/* an IPv6 client is not in an IPv4 network */
	{ "0.0.0.0/0", "2001:db8::1", 0 },
	{ "*.*.*.*", "::1", 0 },
};

static void
test_match(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(match_cases); i++) {
		struct net n;
		struct net_addr a;
		const char *ns = match_cases[i].net, *as = match_cases[i].addr;

		assert_int_equal(net_parse(ns, strlen(ns), &n), 0);
		assert_int_equal(net_addr_parse(as, strlen(as), &a), 0);
		if (net_match(&n, &a) != match_cases[i].match)
			fail_msg("net_match(%s, %s) != %d", ns, as,
			    match_cases[i].match);
	}
}

static const struct {
	const char	*in;
	const char	*out;	/* RFC 5952 4 */
} format_cases[] = {
	{ "192.0.2.1", "192.0.2.1" },
	{ "0.0.0.0", "0.0.0.0" },
	{ "::", "::" },
	{ "::1", "::1" },
	{ "1::", "1::" },
	{ "2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
	{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },
	{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
	{ "2001:0:0:1:0:0:0:1", "2001:0:0:1::1" },
	{ "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
	{ "fe80:0:0:0:0:0:0:0", "fe80::" },
	{ "::ffff:192.0.2.1", "::ffff:192.0.2.1" },
	{ "::ffff:c000:201", "::ffff:192.0.2.1" },
	{ "0:0:0:0:0:ffff:0:0", "::ffff:0.0.0.0" },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
};

static void
test_format(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(format_cases); i++) {
		struct net_addr a;
		char buf[64];
		const char *in = format_cases[i].in;

		assert_int_equal(net_addr_parse(in, strlen(in), &a), 0);
		assert_int_equal(net_addr_format(&a, buf, sizeof(buf)),
		    strlen(format_cases[i].out));
		assert_string_equal(buf, format_cases[i].out);
	}
}

static void
test_format_cap(void **state)
{
	struct net_addr	a;
	struct net	n;
	char		buf[46];

	(void)state;
	assert_int_equal(net_addr_parse("192.0.2.1", 9, &a), 0);
	assert_int_equal(net_addr_format(&a, buf, 10), 9);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(net_addr_format(&a, buf, 9), 0);
	assert_string_equal(buf, "");
	assert_int_equal(net_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:"
	    "255.255.255.255", 45, &a), 0);
	assert_int_equal(net_addr_format(&a, buf, sizeof(buf)), 39);
	assert_int_equal(net_addr_parse("::ffff:255.255.255.255", 22, &a), 0);
	assert_int_equal(net_addr_format(&a, buf, 23), 22);
	assert_int_equal(net_addr_format(&a, buf, 22), 0);
	assert_int_equal(net_parse("10.0.0.0/8", 10, &n), 0);
	assert_int_equal(net_format(&n, buf, 11), 10);
	assert_int_equal(net_format(&n, buf, 10), 0);
}

/*
 * The JSON Schema suites. A file of theirs is an array of groups of
 * {description, data, valid}; we need only the string "data" values and
 * "valid", so a small reader does, rather than a JSON library.
 */
static char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*buf;
	long	 n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf != NULL) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

/* Decode the JSON string at *pp (after its opening quote). */
static size_t
json_string(const char **pp, char *out, size_t cap)
{
	const char	*p = *pp;
	size_t		 n = 0;

	while (*p != '"' && *p != '\0') {
		unsigned long	u;
		char		hex[5];

		if (*p != '\\') {
			if (n < cap)
				out[n++] = *p;
			p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n': u = '\n'; break;
		case 't': u = '\t'; break;
		case 'r': u = '\r'; break;
		case 'b': u = '\b'; break;
		case 'f': u = '\f'; break;
		case 'u':
			memcpy(hex, p + 1, 4);
			hex[4] = '\0';
			u = strtoul(hex, NULL, 16);
			p += 4;
			break;
		default: u = (unsigned char)*p; break;
		}
		p++;
		/* only \u0000-\u07ff occur in these files */
		assert_true(u < 0x800);
		if (u < 0x80) {
			if (n < cap)
				out[n++] = (char)u;
		} else if (n + 1 < cap) {
			out[n++] = (char)(0xc0 | u >> 6);
			out[n++] = (char)(0x80 | (u & 0x3f));
		}
	}
	assert_true(*p == '"');
	*pp = p + 1;
	return n;
}

static int
check_suite(const char *file, int family)
{
	char		 path[512], data[256], desc[256];
	const char	*p;
	char		*buf;
	size_t		 len, dlen = 0;
	int		 count = 0;

	snprintf(path, sizeof(path), "%s/jsonschema-format/%s", MXS_TESTDATA,
	    file);
	buf = slurp(path, &len);
	if (buf == NULL)
		fail_msg("cannot read %s", path);
	desc[0] = '\0';
	for (p = buf; (p = strstr(p, "\"")) != NULL; ) {
		if (strncmp(p, "\"description\": \"", 16) == 0) {
			p += 16;
			dlen = json_string(&p, desc, sizeof(desc) - 1);
			desc[dlen] = '\0';
			continue;
		}
		if (strncmp(p, "\"data\": \"", 9) != 0) {
			p++;
			continue;
		}
		p += 9;
		size_t n = json_string(&p, data, sizeof(data));
		const char *v = strstr(p, "\"valid\": ");
		assert_non_null(v);
		int valid = strncmp(v + 9, "true", 4) == 0;
		struct net_addr a;
		int ok = net_addr_parse(data, n, &a) == 0 && a.family == family;

		if (ok != valid)
			fail_msg("%s: \"%s\": parsed %d, suite says %d", file,
			    desc, ok, valid);
		count++;
		p = v;
	}
	free(buf);
	return count;
}

/*
 * Validity means "parses, and as this family": net_addr_parse takes
 * both families, so "::ffff:192.168.0.1" (invalid in ipv4.json) parses
 * as IPv6, and "127.0.0.1" (invalid in ipv6.json) as IPv4. No case is
 * excluded. Beyond the suites, IPv4 octets with leading zeros are
 * refused ("010.0.0.1" reads as octal to inet_aton).
 */
static void
test_jsonschema_ipv4(void **state)
{
	(void)state;
	assert_int_equal(check_suite("ipv4.json", AF_INET), 35);
}

static void
test_jsonschema_ipv6(void **state)
{
	(void)state;
	assert_int_equal(check_suite("ipv6.json", AF_INET6), 36);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_relaxed),
		cmocka_unit_test(test_addr_parse),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_cap),
		cmocka_unit_test(test_jsonschema_ipv4),
		cmocka_unit_test(test_jsonschema_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
