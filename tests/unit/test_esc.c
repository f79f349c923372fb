/*
 * tests/unit/test_esc.c - core/esc.c: JSON escaping (controls, quotes,
 * valid and invalid UTF-8, cutting at a character boundary) and the
 * printable-ASCII sanitiser. Expected output typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/esc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* in is given with its length: some inputs hold NUL bytes. */
#define IN(s) s, sizeof(s) - 1

static const struct {
	const char	*in;
	size_t		 len;
	size_t		 cap;
	const char	*out;
} json_cases[] = {
	{ IN(""), 64, "" },
	{ IN("hello"), 64, "hello" },
	{ IN("<a@example.com>"), 64, "<a@example.com>" },
	{ IN("a\"b\\c/d"), 64, "a\\\"b\\\\c/d" },
	{ IN("\r\n\t"), 64, "\\r\\n\\t" },
	{ IN("\x01\x08\x0c\x1b\x1f\x7f"), 64,
	    "\\u0001\\u0008\\u000c\\u001b\\u001f\\u007f" },
	{ IN("a\0b"), 64, "a\\u0000b" },
	{ IN(" ~"), 64, " ~" },
	/* well-formed UTF-8 is kept */
	{ IN("caf\xc3\xa9"), 64, "caf\xc3\xa9" },
	{ IN("\xc2\x80"), 64, "\xc2\x80" },
	{ IN("\xe2\x82\xac"), 64, "\xe2\x82\xac" },
	{ IN("\xef\xbf\xbf"), 64, "\xef\xbf\xbf" },
	{ IN("\xf0\x9f\x98\x80"), 64, "\xf0\x9f\x98\x80" },
	{ IN("\xf4\x8f\xbf\xbf"), 64, "\xf4\x8f\xbf\xbf" },
	/* every byte of invalid UTF-8 becomes \u00XX */
	{ IN("\x80"), 64, "\\u0080" },
	{ IN("\xff"), 64, "\\u00ff" },
	{ IN("\xc3"), 64, "\\u00c3" },
	{ IN("\xc3("), 64, "\\u00c3(" },
	{ IN("\xc0\xaf"), 64, "\\u00c0\\u00af" },		/* overlong '/' */
	{ IN("\xc1\xbf"), 64, "\\u00c1\\u00bf" },
	{ IN("\xe0\x80\xaf"), 64, "\\u00e0\\u0080\\u00af" },	/* overlong */
	{ IN("\xed\xa0\x80"), 64, "\\u00ed\\u00a0\\u0080" },	/* surrogate */
	{ IN("\xf0\x8f\xbf\xbf"), 64, "\\u00f0\\u008f\\u00bf\\u00bf" },
	{ IN("\xf4\x90\x80\x80"), 64, "\\u00f4\\u0090\\u0080\\u0080" },
	{ IN("\xf5\x80\x80\x80"), 64, "\\u00f5\\u0080\\u0080\\u0080" },
	{ IN("\xe2\x82"), 64, "\\u00e2\\u0082" },		/* cut short */
	{ IN("\xe2\x82x"), 64, "\\u00e2\\u0082x" },
	/* cut to fit, on a character boundary, with "..." */
	{ IN("abcdef"), 7, "abcdef" },
	{ IN("abcdefg"), 7, "abc..." },
	{ IN("abcdefg"), 8, "abcdefg" },
	{ IN("ab\"cd"), 6, "ab..." },
	{ IN("ab\"cd"), 8, "ab\\\"cd" },
	{ IN("a\xc3\xa9\xe2\x82\xac"), 7, "a\xc3\xa9\xe2\x82\xac" },
	{ IN("a\xc3\xa9\xe2\x82\xacx"), 7, "a\xc3\xa9..." },
	{ IN("abc\x01"), 9, "abc..." },
	{ IN("abc\x01"), 10, "abc\\u0001" },
	{ IN("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), 8, "\xf0\x9f\x98\x80..." },
	{ IN("\xf0\x9f\x98\x80\xf0\x9f\x98\x80"), 7, "..." },
	{ IN("abcdef"), 4, "..." },
	{ IN("abcdef"), 3, ".." },
	{ IN("abcdef"), 1, "" },
	{ IN(""), 1, "" },
};

static void
test_json(void **state)
{
	char	buf[128];

	(void)state;
	for (size_t i = 0; i < N(json_cases); i++) {
		size_t n;

		memset(buf, 'Z', sizeof(buf));
		n = esc_json(buf, json_cases[i].cap, json_cases[i].in,
		    json_cases[i].len);
		if (strcmp(buf, json_cases[i].out) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, buf,
			    json_cases[i].out);
		assert_int_equal(n, strlen(json_cases[i].out));
		/* nothing written past cap */
		assert_int_equal(buf[json_cases[i].cap], 'Z');
	}
}

static void
test_json_cap0(void **state)
{
	char	buf[4] = "ZZZ";

	(void)state;
	assert_int_equal(esc_json(buf, 0, "abc", 3), 0);
	assert_string_equal(buf, "ZZZ");
}

/* A long hostile string: always NUL-terminated, never past cap. */
static void
test_json_long(void **state)
{
	char	in[4096], out[256];
	size_t	n;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (char)(i * 7 + 3);
	n = esc_json(out, sizeof(out), in, sizeof(in));
	assert_true(n <= sizeof(out) - 1);
	assert_int_equal(strlen(out), n);
	assert_memory_equal(out + n - 3, "...", 3);
}

static const struct {
	const char	*in;
	size_t		 len;
	size_t		 cap;
	const char	*out;
} printable_cases[] = {
	{ IN("mx.example.com"), 64, "mx.example.com" },
	{ IN("[192.0.2.1]"), 64, "[192.0.2.1]" },
	{ IN("a b\tc\r\n"), 64, "a?b?c??" },
	{ IN("\0\x7f\x80\xff~!"), 64, "????~!" },
	{ IN("caf\xc3\xa9"), 64, "caf??" },
	{ IN("abcdef"), 4, "abc" },
	{ IN("abc"), 4, "abc" },
	{ IN("abc"), 1, "" },
	{ IN(""), 8, "" },
};

static void
test_printable(void **state)
{
	char	buf[128];

	(void)state;
	for (size_t i = 0; i < N(printable_cases); i++) {
		size_t n;

		memset(buf, 'Z', sizeof(buf));
		n = esc_printable(buf, printable_cases[i].cap,
		    printable_cases[i].in, printable_cases[i].len);
		assert_string_equal(buf, printable_cases[i].out);
		assert_int_equal(n, strlen(printable_cases[i].out));
		assert_int_equal(buf[printable_cases[i].cap], 'Z');
	}
	assert_int_equal(esc_printable(buf, 0, "abc", 3), 0);
}

static const struct {
	const char	*in;
	size_t		 len;
	size_t		 valid;		/* offset of the first bad octet */
} utf8_cases[] = {
	{ "", 0, 0 },
	{ "plain ASCII\r\n", 13, 13 },
	{ "caf\xc3\xa9", 5, 5 },
	{ "\xe2\x82\xac and \xf0\x9f\x98\x80", 12, 12 },
	{ "a\xc3", 2, 1 },			/* cut sequence */
	{ "ab\xc0\xaf", 4, 2 },		/* overlong "/" */
	{ "\xed\xa0\x80", 3, 0 },		/* surrogate D800 */
	{ "x\xf4\x90\x80\x80", 5, 1 },	/* above U+10FFFF */
	{ "Gr\xfc\xdf" "e", 5, 2 },		/* Latin-1 */
	{ "a\0b", 3, 3 },			/* NUL is the caller's */
};

static void
test_utf8_valid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(utf8_cases) / sizeof(utf8_cases[0]);
	    i++)
		assert_int_equal(esc_utf8_valid(utf8_cases[i].in,
		    utf8_cases[i].len), utf8_cases[i].valid);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_json_cap0),
		cmocka_unit_test(test_json_long),
		cmocka_unit_test(test_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
