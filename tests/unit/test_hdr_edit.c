/*
 * tests/unit/test_hdr_edit.c - the header section as it goes to the
 * backend (core/hdr_edit.c): fields removed in every occurrence, folded
 * ones whole; our lines first; the Subject prefixed, left alone when it
 * already carries the prefix, added when there is none; fields we do
 * not name unchanged byte for byte. Expected outputs typed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/hdr_edit.h"

struct out {
	char	buf[4096];
	size_t	len;
	int	calls_empty;
};

static void
collect(void *ctx, const char *p, size_t n)
{
	struct out *o = ctx;

	if (n == 0)
		o->calls_empty++;
	assert_true(o->len + n < sizeof(o->buf));
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

static const char *const spoof_names[] = { "X-Spoof-Score", "X-Spoof-Flag" };
static const char *const auth_names[] = { "X-Authenticated-Sender" };

static const struct {
	const char	*in;
	int		 strip;		/* 0 none, 1 spoof, 2 auth */
	const char	*prepend;
	const char	*prefix;
	const char	*want;
} cases[] = {
	/* nothing to do: byte for byte */
	{ "From: a@b\r\nTo: c@d\r\n", 0, NULL, NULL,
	  "From: a@b\r\nTo: c@d\r\n" },
	/* every forged field out, folded lines with it, any case */
	{ "X-Spoof-Score: 0/25\r\nFrom: a@b\r\nx-spoof-flag: NO\r\n"
	  "X-SPOOF-SCORE: 1/25\r\n (clean)\r\n\tmore\r\nTo: c@d\r\n", 1,
	  "X-Spoof-Score: 12/25 (no_received)\r\nX-Spoof-Flag: YES\r\n", NULL,
	  "X-Spoof-Score: 12/25 (no_received)\r\nX-Spoof-Flag: YES\r\n"
	  "From: a@b\r\nTo: c@d\r\n" },
	/* a name that only begins like ours stays */
	{ "X-Spoof-Scores: 3\r\nX-Spoof-Score : 4\r\n", 1, NULL, NULL,
	  "X-Spoof-Scores: 3\r\n" },
	/* X-Authenticated-Sender, the last field, and the body line kept */
	{ "From: a@b\r\nX-Authenticated-Sender: ceo\r\n\r\n", 2,
	  "X-Authenticated-Sender: alice\r\n", NULL,
	  "X-Authenticated-Sender: alice\r\nFrom: a@b\r\n\r\n" },
	/* the Subject prefixed, its blanks dropped */
	{ "From: a@b\r\nSubject:   Hello\r\nTo: c@d\r\n", 0, NULL,
	  "[Possible spoof] ",
	  "From: a@b\r\nSubject: [Possible spoof] Hello\r\nTo: c@d\r\n" },
	/* folded Subject: the folds stay */
	{ "Subject: Hello\r\n world\r\n", 0, NULL, "[S] ",
	  "Subject: [S] Hello\r\n world\r\n" },
	/* already prefixed (any case): unchanged */
	{ "Subject: [possible SPOOF] Hello\r\n", 0, NULL, "[Possible spoof] ",
	  "Subject: [possible SPOOF] Hello\r\n" },
	/* only the first Subject */
	{ "Subject: a\r\nSubject: b\r\n", 0, NULL, "P: ",
	  "Subject: P: a\r\nSubject: b\r\n" },
	/* an encoded word keeps a space before it */
	{ "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n", 0, NULL, "[SPOOF]",
	  "Subject: [SPOOF] =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n" },
	{ "Subject: Hi\r\n", 0, NULL, "[SPOOF]", "Subject: [SPOOF]Hi\r\n" },
	/* empty Subject */
	{ "Subject:\r\nFrom: a@b\r\n", 0, NULL, "[Possible spoof] ",
	  "Subject: [Possible spoof] \r\nFrom: a@b\r\n" },
	/* no Subject: one after our lines, without the trailing blank */
	{ "From: a@b\r\n", 1, "X-Spoof-Score: 10/25\r\n", "[Possible spoof] ",
	  "X-Spoof-Score: 10/25\r\nSubject: [Possible spoof]\r\nFrom: a@b\r\n" },
	/* a stripped field named Subject-like stays a Subject */
	{ "X-Spoof-Flag: YES\r\nSubject: x\r\n", 1, NULL, "[P] ",
	  "Subject: [P] x\r\n" },
	/* dot-stuffed name: hdr.c reads it without the dot */
	{ ".X-Spoof-Flag: YES\r\nFrom: a@b\r\n", 1, NULL, NULL,
	  "From: a@b\r\n" },
	/* an empty section */
	{ "", 1, "X-Spoof-Score: 0/25\r\n", NULL, "X-Spoof-Score: 0/25\r\n" },
	/* a line that is no field ends the fields; it goes out as it came */
	{ "From: a@b\r\nnot a field\r\nX-Spoof-Flag: YES\r\n", 1, NULL, NULL,
	  "From: a@b\r\nnot a field\r\nX-Spoof-Flag: YES\r\n" },
};

static void
test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hdr_edit e;
		struct out o;

		memset(&e, 0, sizeof(e));
		memset(&o, 0, sizeof(o));
		if (cases[i].strip == 1) {
			e.strip = spoof_names;
			e.nstrip = 2;
		} else if (cases[i].strip == 2) {
			e.strip = auth_names;
			e.nstrip = 1;
		}
		e.prepend = cases[i].prepend;
		e.prepend_len = cases[i].prepend != NULL ?
		    strlen(cases[i].prepend) : 0;
		e.subject_prefix = cases[i].prefix;
		hdr_edit(cases[i].in, strlen(cases[i].in), &e, collect, &o);
		o.buf[o.len] = '\0';
		if (strcmp(o.buf, cases[i].want) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, o.buf,
			    cases[i].want);
		assert_int_equal(o.calls_empty, 0);
	}
}

/* Only the first len octets count: a body after them is not read. */
static void
test_bounded(void **state)
{
	static const char in[] = "From: a@b\r\nX-Spoof-Flag: Y\r\n\r\n"
	    "X-Spoof-Flag: in the body\r\n";
	struct hdr_edit e = { spoof_names, 2, NULL, 0, NULL };
	struct out o;

	(void)state;
	memset(&o, 0, sizeof(o));
	hdr_edit(in, 28, &e, collect, &o);
	assert_int_equal(o.len, 11);
	assert_memory_equal(o.buf, "From: a@b\r\n", 11);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
