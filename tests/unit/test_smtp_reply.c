/*
 * tests/unit/test_smtp_reply.c - core/smtp_reply: reply line checks
 * (RFC 5321 4.2, RFC 3463 enhanced codes) and the EHLO capability
 * filter. Expected values are typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/smtp_reply.h"

#define S(s)	(s), (sizeof(s) - 1)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct line_case {
	const char	*in;
	size_t		 len;
	enum reply_rc	 rc;
	int		 code;		/* checked when rc is OK or E_CODE */
	int		 last;
	const char	*text;		/* checked when rc is OK */
	const char	*enh;
} line_cases[] = {
	{ S("250 OK"), REPLY_OK, 250, 1, "OK", "" },
	{ S("250-PIPELINING"), REPLY_OK, 250, 0, "PIPELINING", "" },
	{ S("250"), REPLY_OK, 250, 1, "", "" },
	{ S("250 "), REPLY_OK, 250, 1, "", "" },
	{ S("250-"), REPLY_OK, 250, 0, "", "" },
	{ S("220 mx.example.com ESMTP"), REPLY_OK, 220, 1,
	  "mx.example.com ESMTP", "" },
	{ S("200 x"), REPLY_OK, 200, 1, "x", "" },
	{ S("599 x"), REPLY_OK, 599, 1, "x", "" },
	{ S("354 End data with <CR><LF>.<CR><LF>"), REPLY_OK, 354, 1,
	  "End data with <CR><LF>.<CR><LF>", "" },
	/* enhanced status codes */
	{ S("250 2.1.0 Ok"), REPLY_OK, 250, 1, "2.1.0 Ok", "2.1.0" },
	{ S("550 5.7.1"), REPLY_OK, 550, 1, "5.7.1", "5.7.1" },
	{ S("550-5.7.1 first"), REPLY_OK, 550, 0, "5.7.1 first", "5.7.1" },
	{ S("421 4.4.2 bye"), REPLY_OK, 421, 1, "4.4.2 bye", "4.4.2" },
	{ S("554 5.123.456 x"), REPLY_OK, 554, 1, "5.123.456 x", "5.123.456" },
	{ S("250 2.1.0Ok"), REPLY_OK, 250, 1, "2.1.0Ok", "" },
	{ S("250 3.1.0 x"), REPLY_OK, 250, 1, "3.1.0 x", "" },
	{ S("250 2.1000.0 x"), REPLY_OK, 250, 1, "2.1000.0 x", "" },
	{ S("250 2.1.1000 x"), REPLY_OK, 250, 1, "2.1.1000 x", "" },
	{ S("250 2.1. x"), REPLY_OK, 250, 1, "2.1. x", "" },
	{ S("250 2..0 x"), REPLY_OK, 250, 1, "2..0 x", "" },
	{ S("250 2.1"), REPLY_OK, 250, 1, "2.1", "" },
	{ S("250  2.1.0 x"), REPLY_OK, 250, 1, " 2.1.0 x", "" },
	{ S("250 2.1.0\tx"), REPLY_OK, 250, 1, "2.1.0\tx", "" },
	/* text */
	{ S("250 a\tb"), REPLY_OK, 250, 1, "a\tb", "" },
	{ S("250 caf\xc3\xa9"), REPLY_OK, 250, 1, "caf\xc3\xa9", "" },
	{ S("250 Gr\xfc\xdf" "e"), REPLY_OK, 250, 1, "Gr\xfc\xdf" "e", "" },
	{ S("250 a\x01" "b"), REPLY_E_CHAR, 250, 1, NULL, NULL },
	{ S("250 a\rb"), REPLY_E_CHAR, 250, 1, NULL, NULL },
	{ S("250 a\nb"), REPLY_E_CHAR, 250, 1, NULL, NULL },
	{ S("250 a\0b"), REPLY_E_CHAR, 250, 1, NULL, NULL },
	{ S("250-\x1b[0m"), REPLY_E_CHAR, 250, 0, NULL, NULL },
	{ S("250 a\x7f"), REPLY_E_CHAR, 250, 1, NULL, NULL },
	{ S("250 ok\r"), REPLY_E_CHAR, 250, 1, NULL, NULL },
	/* no valid code */
	{ S(""), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("2"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("25"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("2500"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("250x"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("250\tOK"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("250_OK"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("25a OK"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("abc"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S(" 250 OK"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	{ S("\xef\xbc\x92" "50 OK"), REPLY_E_SYNTAX, 0, 0, NULL, NULL },
	/* code out of range */
	{ S("199 x"), REPLY_E_CODE, 199, 0, NULL, NULL },
	{ S("600 x"), REPLY_E_CODE, 600, 0, NULL, NULL },
	{ S("000"), REPLY_E_CODE, 0, 0, NULL, NULL },
	{ S("999-x"), REPLY_E_CODE, 999, 0, NULL, NULL },
	{ S("100 \x01"), REPLY_E_CODE, 100, 0, NULL, NULL },
};

static void
test_parse_line(void **state)
{
	struct reply_line rl;
	enum reply_rc rc;
	char *copy;

	(void)state;
	for (size_t i = 0; i < NELEM(line_cases); i++) {
		const struct line_case *t = &line_cases[i];

		copy = malloc(t->len > 0 ? t->len : 1);
		assert_non_null(copy);
		memcpy(copy, t->in, t->len);
		rc = reply_parse_line(copy, t->len, &rl);
		if (rc != t->rc)
			fail_msg("\"%.*s\": %s, want %s", (int)t->len, t->in,
			    reply_rc_name(rc), reply_rc_name(t->rc));
		if (rc == REPLY_OK || rc == REPLY_E_CODE)
			assert_int_equal(rl.code, t->code);
		if (rc == REPLY_OK) {
			assert_int_equal(rl.last, t->last);
			assert_int_equal(rl.text.len, strlen(t->text));
			assert_memory_equal(rl.text.p, t->text, rl.text.len);
			assert_true(rl.text.p >= copy);
			assert_true(rl.text.p + rl.text.len <= copy + t->len);
			assert_int_equal(rl.enh.len, strlen(t->enh));
			assert_memory_equal(rl.enh.p, t->enh, rl.enh.len);
			if (rl.enh.len > 0)
				assert_ptr_equal(rl.enh.p, rl.text.p);
		}
		free(copy);
	}
	assert_int_equal(reply_parse_line(NULL, 0, &rl), REPLY_E_SYNTAX);
}

static const char *const add_starttls[] = { "STARTTLS", NULL };
static const char *const add_two[] = { "STARTTLS", "X-EXTRA 1", NULL };
static const char *const add_none[] = { NULL };
static const char *const add_bad_crlf[] = { "STARTTLS\r\n250 X", NULL };
static const char *const add_bad_empty[] = { "", NULL };

#define ALL_CAPS (CAP_STARTTLS | CAP_CHUNKING | CAP_BINARYMIME | \
	CAP_XCLIENT | CAP_XFORWARD | CAP_AUTH | CAP_PIPELINING)

static const struct ehlo_case {
	const char		*in;
	unsigned		 drop;
	const char *const	*add;
	const char		*out;	/* NULL: the call must fail */
	unsigned		 seen;
} ehlo_cases[] = {
	/* the proxy's usual filter */
	{ "250-mx.example.com Hello client [192.0.2.1]\r\n"
	  "250-PIPELINING\r\n"
	  "250-SIZE 10240000\r\n"
	  "250-STARTTLS\r\n"
	  "250-AUTH PLAIN LOGIN\r\n"
	  "250-AUTH=PLAIN LOGIN\r\n"
	  "250-CHUNKING\r\n"
	  "250-BINARYMIME\r\n"
	  "250-XCLIENT NAME ADDR PROTO HELO\r\n"
	  "250-XCLIENTX\r\n"
	  "250-XFORWARD NAME ADDR\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n"
	  "250 8BITMIME\r\n",
	  CAP_STARTTLS | CAP_CHUNKING | CAP_BINARYMIME | CAP_XCLIENT |
	  CAP_XFORWARD | CAP_AUTH, add_starttls,
	  "250-mx.example.com Hello client [192.0.2.1]\r\n"
	  "250-PIPELINING\r\n"
	  "250-SIZE 10240000\r\n"
	  "250-XCLIENTX\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n"
	  "250-8BITMIME\r\n"
	  "250 STARTTLS\r\n",
	  ALL_CAPS },
	/* nothing to do: byte for byte the same */
	{ "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 0, NULL,
	  "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", CAP_PIPELINING },
	{ "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", 0, add_none,
	  "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", CAP_PIPELINING },
	{ "250 mx\r\n", 0, NULL, "250 mx\r\n", 0 },
	{ "250 mx\r\n", ALL_CAPS, NULL, "250 mx\r\n", 0 },
	{ "250-mx\r\n250 SIZE\r\n", CAP_AUTH, NULL,
	  "250-mx\r\n250 SIZE\r\n", 0 },
	/* the dropped line was the last one */
	{ "250-mx\r\n250-SIZE 1\r\n250 CHUNKING\r\n", CAP_CHUNKING, NULL,
	  "250-mx\r\n250 SIZE 1\r\n", CAP_CHUNKING },
	{ "250-mx\r\n250 CHUNKING\r\n", CAP_CHUNKING, NULL, "250 mx\r\n",
	  CAP_CHUNKING },
	{ "250-mx\r\n250-STARTTLS\r\n250-AUTH LOGIN\r\n250 XCLIENT ADDR\r\n",
	  ALL_CAPS, NULL, "250 mx\r\n",
	  CAP_STARTTLS | CAP_AUTH | CAP_XCLIENT },
	/* a dropped line in the middle */
	{ "250-mx\r\n250-XFORWARD NAME\r\n250 HELP\r\n", CAP_XFORWARD, NULL,
	  "250-mx\r\n250 HELP\r\n", CAP_XFORWARD },
	/* seen is reported whether dropped or not */
	{ "250-mx\r\n250-STARTTLS\r\n250 BINARYMIME\r\n", 0, NULL,
	  "250-mx\r\n250-STARTTLS\r\n250 BINARYMIME\r\n",
	  CAP_STARTTLS | CAP_BINARYMIME },
	/* additions go last */
	{ "250 mx\r\n", 0, add_starttls, "250-mx\r\n250 STARTTLS\r\n", 0 },
	{ "250-mx\r\n250 SIZE 5\r\n", 0, add_two,
	  "250-mx\r\n250-SIZE 5\r\n250-STARTTLS\r\n250 X-EXTRA 1\r\n", 0 },
	{ "250-mx\r\n250 STARTTLS\r\n", CAP_STARTTLS, add_starttls,
	  "250-mx\r\n250 STARTTLS\r\n", CAP_STARTTLS },
	/* keywords: case, the first word only, AUTH= */
	{ "250-mx\r\n250-starttls\r\n250-Auth=login\r\n250 auth plain\r\n",
	  CAP_STARTTLS | CAP_AUTH, NULL, "250 mx\r\n",
	  CAP_STARTTLS | CAP_AUTH },
	{ "250-mx\r\n250-AUTH\r\n250-AUTHX\r\n250-XAUTH\r\n250 X AUTH\r\n",
	  CAP_AUTH, NULL, "250-mx\r\n250-AUTHX\r\n250-XAUTH\r\n250 X AUTH\r\n",
	  CAP_AUTH },
	{ "250-mx\r\n250-XCLIENTX\r\n250-XCLIENT-2\r\n250 XCLIENT\r\n",
	  CAP_XCLIENT, NULL, "250-mx\r\n250-XCLIENTX\r\n250 XCLIENT-2\r\n",
	  CAP_XCLIENT },
	{ "250-mx\r\n250-PIPELINING\r\n250 CHUNKINGS\r\n",
	  CAP_PIPELINING | CAP_CHUNKING, NULL, "250-mx\r\n250 CHUNKINGS\r\n",
	  CAP_PIPELINING },
	{ "250-mx\r\n250-AUTH\tPLAIN\r\n250 HELP\r\n", CAP_AUTH, NULL,
	  "250-mx\r\n250 HELP\r\n", CAP_AUTH },
	/* the greeting line is never a capability */
	{ "250-STARTTLS\r\n250 SIZE\r\n", CAP_STARTTLS, NULL,
	  "250-STARTTLS\r\n250 SIZE\r\n", 0 },
	/* empty texts: the last line always keeps its space; empty
	 * capability lines are dropped */
	{ "250\r\n", 0, NULL, "250 \r\n", 0 },
	{ "250 \r\n", 0, NULL, "250 \r\n", 0 },
	{ "250-mx\r\n250-\r\n250\r\n", 0, NULL, "250 mx\r\n", 0 },
	{ "250-mx\r\n250-XCLIENT A\r\n250 \r\n", CAP_XCLIENT, NULL,
	  "250 mx\r\n", CAP_XCLIENT },
	{ "250-mx\r\n250-SIZE\r\n250 \r\n", 0, NULL,
	  "250-mx\r\n250 SIZE\r\n", 0 },
	{ "250-mx\r\n250\r\n", 0, add_starttls,
	  "250-mx\r\n250 STARTTLS\r\n", 0 },
	/* not a well-formed 250 reply */
	{ "", 0, NULL, NULL, 0 },
	{ "550 no\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n550 no\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n251 x\r\n", 0, NULL, NULL, 0 },
	{ "220-mx\r\n220 x\r\n", 0, NULL, NULL, 0 },
	{ "250 mx", 0, NULL, NULL, 0 },
	{ "250 mx\r", 0, NULL, NULL, 0 },
	{ "250 mx\n", 0, NULL, NULL, 0 },
	{ "250-mx\n250 X\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n250-X\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n250 X\r\n250 Y\r\n", 0, NULL, NULL, 0 },
	{ "250 mx\r\n250 X\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n250 X\r\nextra", 0, NULL, NULL, 0 },
	{ "250-mx\r\n250 X\r\n\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n250 X\ry\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n250 X\x01\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n250X\r\n", 0, NULL, NULL, 0 },
	{ "\r\n", 0, NULL, NULL, 0 },
	{ "250-mx\r\n\r\n250 X\r\n", 0, NULL, NULL, 0 },
	/* bad additions */
	{ "250 mx\r\n", 0, add_bad_crlf, NULL, 0 },
	{ "250 mx\r\n", 0, add_bad_empty, NULL, 0 },
};

static void
test_ehlo_filter(void **state)
{
	char *in, *out;
	size_t len, want, n;
	unsigned seen;

	(void)state;
	for (size_t i = 0; i < NELEM(ehlo_cases); i++) {
		const struct ehlo_case *t = &ehlo_cases[i];

		len = strlen(t->in);
		in = malloc(len > 0 ? len : 1);
		out = malloc(1024);
		assert_non_null(in);
		assert_non_null(out);
		memcpy(in, t->in, len);
		seen = 12345;
		n = reply_ehlo_filter(in, len, t->drop, t->add, out, 1024,
		    &seen);
		if (t->out == NULL) {
			if (n != 0)
				fail_msg("case %zu: %zu bytes \"%.*s\", want 0",
				    i, n, (int)n, out);
			assert_int_equal(seen, 0);
		} else {
			want = strlen(t->out);
			if (n != want || memcmp(out, t->out, n) != 0)
				fail_msg("case %zu: \"%.*s\", want \"%s\"", i,
				    (int)n, out, t->out);
			assert_int_equal(seen, t->seen);

			/* exactly enough room works, one byte less does not */
			free(out);
			out = malloc(want);
			assert_non_null(out);
			n = reply_ehlo_filter(in, len, t->drop, t->add, out,
			    want, NULL);
			assert_int_equal(n, want);
			assert_memory_equal(out, t->out, want);
			n = reply_ehlo_filter(in, len, t->drop, t->add, out,
			    want - 1, &seen);
			assert_int_equal(n, 0);
			assert_int_equal(seen, 0);
		}
		free(in);
		free(out);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(reply_rc_name(REPLY_OK), "OK");
	assert_string_equal(reply_rc_name(REPLY_E_CHAR), "E_CHAR");
	assert_string_equal(reply_rc_name((enum reply_rc)42), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_ehlo_filter),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
