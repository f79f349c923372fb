/*
 * tests/unit/test_ew.c - RFC 2047 encoded words (core/ew.c): the
 * vectors of MXS_TESTDATA/headers/rfc2047-vectors.json (turned into
 * ew_vectors.h at build time), then hand-typed cases: one or two known
 * code points of every charset table, invalid UTF-8, unknown charsets,
 * white space between words, folds, truncation at cap, bare B and Q
 * text, and finding an address inside a display name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ew.h"
#include "ew_vectors.h"

#define B(s)	s, sizeof(s) - 1
#define NVEC	(sizeof(ew_vectors) / sizeof(ew_vectors[0]))

static int
is(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

static void
test_vectors(void **state)
{
	char		out[512];
	size_t		n;
	unsigned	flags;
	long		r;
	int		failed = 0;

	assert_int_equal(NVEC, 60);
	for (size_t i = 0; i < NVEC; i++) {
		const struct ew_vector *v = &ew_vectors[i];

		flags = 0;
		if (is(v->group, v->grouplen, "python-q")) {
			r = ew_decode_q(v->input, v->inputlen, out, sizeof(out));
			n = r < 0 ? 0 : (size_t)r;
		} else if (is(v->group, v->grouplen, "python-b")) {
			r = ew_decode_b(v->input, v->inputlen, out, sizeof(out),
			    &flags);
			n = r < 0 ? 0 : (size_t)r;
		} else {
			r = ew_decode(v->input, v->inputlen, out, sizeof(out),
			    &n, &flags);
			/* A vector left as it is decodes nothing. */
			if (v->inputlen == v->expectedlen &&
			    memcmp(v->input, v->expected, v->inputlen) == 0 &&
			    (flags & EW_F_DECODED) != 0)
				r = -2;
		}
		if (r < 0 || n != v->expectedlen ||
		    memcmp(out, v->expected, n) != 0) {
			print_error("vector %.*s: got \"%.*s\" (rc %ld)\n",
			    (int)v->idlen, v->id, (int)n, out, r);
			failed++;
		}
		/* The vectors that lack base64 padding say so. */
		if (is(v->id, v->idlen, "py-5") || is(v->id, v->idlen, "pyb-1") ||
		    is(v->id, v->idlen, "pyb-2"))
			assert_true(flags & EW_F_PADDING);
		else
			assert_false(flags & EW_F_PADDING);
	}
	assert_int_equal(failed, 0);
}

/* Hand-typed: the code point of one byte in each charset. */
static const struct {
	const char	*charset;
	unsigned	 byte;
	uint32_t	 cp;
} spots[] = {
	{ "ISO-8859-1", 0xe9, 0x00e9 },
	{ "iso-8859-2", 0xa1, 0x0104 },
	{ "ISO-8859-2", 0xb9, 0x0161 },
	{ "ISO-8859-3", 0xa1, 0x0126 },
	{ "ISO-8859-4", 0xa2, 0x0138 },
	{ "ISO-8859-5", 0xb0, 0x0410 },
	{ "ISO-8859-5", 0xef, 0x044f },
	{ "ISO-8859-6", 0xc7, 0x0627 },
	{ "ISO-8859-6", 0xa1, 0xfffd },
	{ "ISO-8859-7", 0xc1, 0x0391 },
	{ "ISO-8859-8", 0xe0, 0x05d0 },
	{ "ISO-8859-8", 0xa1, 0xfffd },
	{ "ISO-8859-9", 0xd0, 0x011e },
	{ "ISO-8859-10", 0xa1, 0x0104 },
	{ "ISO-8859-11", 0xa1, 0x0e01 },
	{ "ISO-8859-13", 0xa1, 0x201d },
	{ "ISO-8859-14", 0xa1, 0x1e02 },
	{ "ISO-8859-15", 0xa4, 0x20ac },
	{ "latin9", 0xbd, 0x0153 },
	{ "ISO-8859-16", 0xa4, 0x20ac },
	{ "ISO_8859-2", 0x85, 0x0085 },
	{ "windows-1250", 0x8a, 0x0160 },
	{ "windows-1251", 0xc0, 0x0410 },
	{ "windows-1252", 0x80, 0x20ac },
	{ "cp1252", 0x93, 0x201c },
	{ "windows-1252", 0x81, 0xfffd },
	{ "windows-1253", 0xc1, 0x0391 },
	{ "windows-1254", 0xd0, 0x011e },
	{ "windows-1255", 0xe0, 0x05d0 },
	{ "windows-1256", 0xc7, 0x0627 },
	{ "windows-1257", 0xc0, 0x0104 },
	{ "windows-1258", 0xc3, 0x0102 },
	{ "US-ASCII", 0xe9, 0xfffd },
};

static size_t
utf8(uint32_t cp, char *b)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	b[0] = (char)(0xe0 | cp >> 12);
	b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
	b[2] = (char)(0x80 | (cp & 0x3f));
	return 3;
}

static void
test_tables(void **state)
{
	char		in[64], out[16], want[4];
	size_t		n, wn;
	unsigned	flags;

	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++) {
		snprintf(in, sizeof(in), "=?%s?Q?=%02X?=", spots[i].charset,
		    spots[i].byte);
		flags = 0;
		assert_int_equal(ew_decode(in, strlen(in), out, sizeof(out),
		    &n, &flags), 0);
		wn = utf8(spots[i].cp, want);
		if (n != wn || memcmp(out, want, n) != 0)
			fail_msg("%s 0x%02X: want U+%04X", spots[i].charset,
			    spots[i].byte, (unsigned)spots[i].cp);
		assert_true(flags & EW_F_DECODED);
		assert_int_equal(!!(flags & EW_F_REPLACED),
		    spots[i].cp == 0xfffd);
	}
}

/* Input, expected output, the flags that must be set. */
static const struct {
	const char	*in;
	size_t		 len;
	const char	*want;
	unsigned	 flags;
} cases[] = {
	/* invalid UTF-8: each bad byte or cut sequence one U+FFFD */
	{ B("=?UTF-8?Q?a=FFb?="), "a\xef\xbf\xbd" "b",
	    EW_F_DECODED | EW_F_REPLACED },
	{ B("=?UTF-8?Q?=C3?="), "\xef\xbf\xbd",
	    EW_F_DECODED | EW_F_REPLACED },
	{ B("=?UTF-8?Q?=C0=80?="), "\xef\xbf\xbd\xef\xbf\xbd",
	    EW_F_DECODED | EW_F_REPLACED },
	{ B("=?UTF-8?Q?=ED=A0=80?="), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	    EW_F_DECODED | EW_F_REPLACED },
	{ B("=?UTF-8?Q?=E2=82x?="), "\xef\xbf\xbdx",
	    EW_F_DECODED | EW_F_REPLACED },
	{ B("=?UTF-8?B?8J+YgA==?="), "\xf0\x9f\x98\x80", EW_F_DECODED },
	/* unknown charset: kept, and white space next to it kept */
	{ B("=?X-UNKNOWN?Q?a?= =?UTF-8?Q?b?="), "=?X-UNKNOWN?Q?a?= b",
	    EW_F_DECODED | EW_F_CHARSET },
	{ B("=?UTF-8?Q?a?= =?UTF-8?Q?b=?= c"), "a =?UTF-8?Q?b=?= c",
	    EW_F_DECODED | EW_F_MALFORMED },
	{ B("=?UTF-8?Q?a?= x =?UTF-8?Q?b?="), "a x b", EW_F_DECODED },
	{ B("=?UTF-8?Q?a b?="), "=?UTF-8?Q?a b?=", EW_F_MALFORMED },
	{ B("=?*en?Q?a?="), "=?*en?Q?a?=", EW_F_MALFORMED },
	{ B("=?=?UTF-8?Q?a?="), "=?a", EW_F_DECODED | EW_F_MALFORMED },
	{ B("=?UTF-8?B?QQ==QQ==?="), "=?UTF-8?B?QQ==QQ==?=", EW_F_MALFORMED },
	{ B("=?UTF-8?B?Q?="), "=?UTF-8?B?Q?=", EW_F_MALFORMED },
	{ B("=?UTF-8?B?" "?="), "", EW_F_DECODED },
	/* folds: CRLF or LF before WSP removed, a bare line end kept */
	{ B("a\r\n b\n\tc\r\nd"), "a b\tc\r\nd", 0 },
	{ B("=?UTF-8?Q?a?=\n =?UTF-8?Q?b?="), "ab", EW_F_DECODED },
	/* raw 8-bit text is copied as it is */
	{ B("\xe9t\xc3\xa9"), "\xe9t\xc3\xa9", 0 },
};

static void
test_cases(void **state)
{
	char		out[128];
	size_t		n;
	unsigned	flags;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flags = 0;
		assert_int_equal(ew_decode(cases[i].in, cases[i].len, out,
		    sizeof(out), &n, &flags), 0);
		if (!is(out, n, cases[i].want))
			fail_msg("case %zu: got \"%.*s\"", i, (int)n, out);
		assert_int_equal(flags, cases[i].flags);
	}
}

static void
test_truncate(void **state)
{
	char		out[8];
	size_t		n;
	unsigned	flags = 0;

	/* é é is four bytes: three hold only the first. */
	assert_int_equal(ew_decode(B("=?UTF-8?Q?=C3=A9=C3=A9?="), out, 3, &n,
	    &flags), -1);
	assert_true(is(out, n, "\xc3\xa9"));
	assert_true(flags & EW_F_TRUNCATED);
	flags = 0;
	assert_int_equal(ew_decode(B("=?UTF-8?Q?=C3=A9=C3=A9?="), out, 4, &n,
	    &flags), 0);
	assert_true(is(out, n, "\xc3\xa9\xc3\xa9"));
	assert_int_equal(flags, EW_F_DECODED);
	/* plain text stops at a character boundary too */
	flags = 0;
	assert_int_equal(ew_decode(B("x\xe2\x82\xac"), out, 3, &n, &flags), -1);
	assert_true(is(out, n, "x"));
	/* a table charset, and cap 0 */
	flags = 0;
	assert_int_equal(ew_decode(B("=?cp1252?Q?=80=80?="), out, 5, &n,
	    &flags), -1);
	assert_true(is(out, n, "\xe2\x82\xac"));
	flags = 0;
	assert_int_equal(ew_decode(B("abc"), NULL, 0, &n, &flags), -1);
	assert_int_equal(n, 0);
	assert_int_equal(ew_decode(B(""), NULL, 0, &n, &flags), 0);
	assert_int_equal(n, 0);
}

static void
test_bare_text(void **state)
{
	char		out[8];
	unsigned	flags = 0;

	assert_int_equal(ew_decode_b(B("QUJD"), out, sizeof(out), &flags), 3);
	assert_memory_equal(out, "ABC", 3);
	assert_int_equal(flags, 0);
	assert_int_equal(ew_decode_b(B("QQ="), out, sizeof(out), &flags), 1);
	assert_true(flags & EW_F_PADDING);
	assert_int_equal(ew_decode_b(B("Q"), out, sizeof(out), &flags), -1);
	assert_int_equal(ew_decode_b(B("QQ==="), out, sizeof(out), &flags), -1);
	assert_int_equal(ew_decode_b(B("QUJD="), out, sizeof(out), &flags), -1);
	assert_int_equal(ew_decode_b(B("QU JD"), out, sizeof(out), &flags), -1);
	assert_int_equal(ew_decode_b(B("QUJD"), out, 2, &flags), -1);
	assert_int_equal(ew_decode_q(B("a=3D_b"), out, sizeof(out)), 4);
	assert_memory_equal(out, "a= b", 4);
	assert_int_equal(ew_decode_q(B("=4"), out, sizeof(out)), -1);
	assert_int_equal(ew_decode_q(B("=4G"), out, sizeof(out)), -1);
	assert_int_equal(ew_decode_q(B("a?b"), out, sizeof(out)), -1);
	assert_int_equal(ew_decode_q(B("abc"), out, 2), -1);
}

static void
test_charset_names(void **state)
{
	struct ew_charset	cs;

	assert_int_equal(ew_charset_find(B("UTF-8"), &cs), 1);
	assert_int_equal(cs.kind, EW_CS_UTF8);
	assert_int_equal(ew_charset_find(B("utf8"), &cs), 1);
	assert_int_equal(ew_charset_find(B("Latin-1"), &cs), 1);
	assert_int_equal(cs.kind, EW_CS_LATIN1);
	assert_int_equal(ew_charset_find(B("ISO_8859-15"), &cs), 1);
	assert_int_equal(cs.kind, EW_CS_TABLE);
	assert_int_equal(cs.first, 0xa0);
	assert_int_equal(cs.table[0xa4 - 0xa0], 0x20ac);
	assert_int_equal(ew_charset_find(B("iso-8859-1\0"), &cs), 0);
	assert_int_equal(ew_charset_find(B("koi8-r"), &cs), 0);
	assert_int_equal(ew_charset_find(B(""), &cs), 0);
	assert_int_equal(ew_charset_find(B("iso-8859-1555555555555555555555"),
	    &cs), 0);
}

static const struct {
	const char	*in;
	size_t		 len;
	const char	*want;		/* NULL: none */
} addrs[] = {
	{ B("ceo@yourdomain.com"), "ceo@yourdomain.com" },
	{ B("\"CEO ceo@example.com\""), "ceo@example.com" },
	{ B("Boss (boss@corp.example) via"), "boss@corp.example" },
	{ B("x@y.com."), "x@y.com" },
	{ B("a.b+c@mail.example.org, more"), "a.b+c@mail.example.org" },
	{ B("ceo\xef\xbc\xa0" "example.com"), "ceo\xef\xbc\xa0" "example.com" },
	{ B("ceo@example\xef\xbc\x8e" "com"), "ceo@example\xef\xbc\x8e" "com" },
	{ B("Jos\xc3\xa9@ex\xc3\xa4mple.org"), "Jos\xc3\xa9@ex\xc3\xa4mple.org" },
	{ B("me @ home, @x.com, y@z then a@b.c"), "a@b.c" },
	{ B("Jane Doe"), NULL },
	{ B("jane@localhost"), NULL },
	{ B("@example.com"), NULL },
	{ B("a@b."), NULL },
	{ B("a@.com"), NULL },
	{ B("a@"), NULL },
	{ B(""), NULL },
};

static void
test_find_address(void **state)
{
	struct span	a;
	char		out[128];
	size_t		n;
	unsigned	flags = 0;

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		int found = ew_find_address(addrs[i].in, addrs[i].len, &a);

		if (addrs[i].want == NULL) {
			if (found)
				fail_msg("%s: found %.*s", addrs[i].in,
				    (int)a.len, a.p);
			assert_null(a.p);
			continue;
		}
		if (!found || !is(a.p, a.len, addrs[i].want))
			fail_msg("%s: want %s", addrs[i].in, addrs[i].want);
		assert_true(a.p >= addrs[i].in &&
		    a.p + a.len <= addrs[i].in + addrs[i].len);
	}
	/* An address hidden in an encoded display name. */
	assert_int_equal(ew_decode(B("=?utf-8?Q?ceo=40yourdomain=2Ecom?= "
	    "<eve@example.net>"), out, sizeof(out), &n, &flags), 0);
	assert_int_equal(ew_find_address(out, n, &a), 1);
	assert_true(is(a.p, a.len, "ceo@yourdomain.com"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_bare_text),
		cmocka_unit_test(test_charset_names),
		cmocka_unit_test(test_find_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
