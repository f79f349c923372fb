/*
 * tests/unit/test_xtext.c - core/xtext: RFC 3461 4 xtext encoding of
 * XCLIENT values (hostile bytes included), the output bound, and the
 * strict decoder. Expected encodings are typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/xtext.h"

#define S(s)	(s), (sizeof(s) - 1)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*in;
	size_t		 len;
	const char	*out;
} enc_cases[] = {
	{ S(""), "" },
	{ S("mx.example.com"), "mx.example.com" },
	{ S("[UNAVAILABLE]"), "[UNAVAILABLE]" },
	{ S("[192.0.2.1]"), "[192.0.2.1]" },
	{ S("IPV6:2001:db8::1"), "IPV6:2001:db8::1" },
	{ S("!~"), "!~" },
	{ S("a+b=c"), "a+2Bb+3Dc" },
	{ S("+"), "+2B" },
	{ S("="), "+3D" },
	{ S("a b"), "a+20b" },
	{ S("\r\n"), "+0D+0A" },
	{ S("x\r\nXCLIENT ADDR=1.2.3.4"), "x+0D+0AXCLIENT+20ADDR+3D1.2.3.4" },
	{ S("\0"), "+00" },
	{ S("\t"), "+09" },
	{ S("\x7f"), "+7F" },
	{ S("\x80\xff"), "+80+FF" },
	{ S("caf\xc3\xa9"), "caf+C3+A9" },
	{ S("\"quoted\""), "\"quoted\"" },
};

static void
test_encode(void **state)
{
	char	out[64];

	(void)state;
	for (size_t i = 0; i < NELEM(enc_cases); i++) {
		memset(out, 'Z', sizeof(out));
		assert_int_equal(xtext_encode(enc_cases[i].in, enc_cases[i].len,
		    out, sizeof(out)), strlen(enc_cases[i].out));
		assert_string_equal(out, enc_cases[i].out);
	}
}

/* The output and its NUL must fit; a "+HH" is never cut. */
static void
test_encode_cap(void **state)
{
	static const struct {
		const char	*in;
		size_t		 cap;
		size_t		 rc;
		const char	*out;
	} cap_cases[] = {
		{ "abc", 4, 3, "abc" },
		{ "abc", 3, 0, "" },
		{ "abc", 1, 0, "" },
		{ "a b", 6, 5, "a+20b" },
		{ "a b", 5, 0, "" },
		{ "a b", 4, 0, "" },
		{ " ", 4, 3, "+20" },
		{ " ", 3, 0, "" },
		{ "", 1, 0, "" },
	};
	char	*out;

	(void)state;
	for (size_t i = 0; i < NELEM(cap_cases); i++) {
		out = malloc(cap_cases[i].cap);
		assert_non_null(out);
		assert_int_equal(xtext_encode(cap_cases[i].in,
		    strlen(cap_cases[i].in), out, cap_cases[i].cap),
		    cap_cases[i].rc);
		assert_string_equal(out, cap_cases[i].out);
		free(out);
	}
	assert_int_equal(xtext_encode("abc", 3, NULL, 0), 0);
}

static const struct {
	const char	*in;
	int		 rc;
	const char	*out;
	size_t		 outlen;
} dec_cases[] = {
	{ "", 0, S("") },
	{ "mx.example.com", 0, S("mx.example.com") },
	{ "a+2Bb+3Dc", 0, S("a+b=c") },
	{ "+00", 0, S("\0") },
	{ "+0D+0A", 0, S("\r\n") },
	{ "+FF", 0, S("\xff") },
	{ "+41", 0, S("A") },		/* needless, but valid xtext */
	{ "+2b", XTEXT_E_SYNTAX, NULL, 0 },	/* upper-case hex only */
	{ "+2", XTEXT_E_SYNTAX, NULL, 0 },
	{ "+", XTEXT_E_SYNTAX, NULL, 0 },
	{ "a+", XTEXT_E_SYNTAX, NULL, 0 },
	{ "+G0", XTEXT_E_SYNTAX, NULL, 0 },
	{ "a=b", XTEXT_E_SYNTAX, NULL, 0 },
	{ "a b", XTEXT_E_SYNTAX, NULL, 0 },
	{ "a\r\n", XTEXT_E_SYNTAX, NULL, 0 },
	{ "caf\xc3\xa9", XTEXT_E_SYNTAX, NULL, 0 },
	{ "\x7f", XTEXT_E_SYNTAX, NULL, 0 },
};

static void
test_decode(void **state)
{
	char	out[64];
	size_t	n;

	(void)state;
	for (size_t i = 0; i < NELEM(dec_cases); i++) {
		n = 999;
		assert_int_equal(xtext_decode(dec_cases[i].in,
		    strlen(dec_cases[i].in), out, sizeof(out), &n),
		    dec_cases[i].rc);
		if (dec_cases[i].rc == 0) {
			assert_int_equal(n, dec_cases[i].outlen);
			assert_memory_equal(out, dec_cases[i].out, n);
		} else
			assert_int_equal(n, 999);
	}
	assert_int_equal(xtext_decode(S("a+20b"), out, 3, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(xtext_decode(S("a+20b"), out, 2, &n),
	    XTEXT_E_NOSPACE);
}

/* Every byte value survives encode then decode. */
static void
test_roundtrip(void **state)
{
	char	in[256], enc[3 * 256 + 1], dec[256];
	size_t	n, m;

	(void)state;
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	n = xtext_encode(in, sizeof(in), enc, sizeof(enc));
	/* 94 bytes "!".."~" less "+" and "=" as they are, 164 as +HH */
	assert_int_equal(n, 92 + 3 * 164);
	assert_int_equal(xtext_encode(in, sizeof(in), enc, n), 0);
	n = xtext_encode(in, sizeof(in), enc, sizeof(enc));
	assert_int_equal(xtext_decode(enc, n, dec, sizeof(dec), &m), 0);
	assert_int_equal(m, sizeof(in));
	assert_memory_equal(dec, in, m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_encode_cap),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
