/*
 * tests/unit/test_hdr.c - reading a held header section (core/hdr.c):
 * field iteration, folding, dot-stuffed names, hdr_find, and Message-ID
 * extraction with comments, quoted strings, garbage and small buffers;
 * then the RFC 5322 Appendix A messages of MXS_TESTDATA. Expected
 * values are typed by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/dscan.h"
#include "core/hdr.h"

#define B(s)	s, sizeof(s) - 1

/* The names hdr_next() returns, joined by ",", and where it stops. */
static const struct {
	const char	*in;
	size_t		 len;
	const char	*names;
	size_t		 end;
} next_cases[] = {
	{ B("A: 1\r\nB: 2\r\n\r\nbody"), "A,B", 12 },
	{ B("A: 1\r\n 2\r\n\tx\r\nB:\r\n\r\n"), "A,B", 18 },
	{ B(" A: 1\r\n"), "", 0 },
	{ B("A: 1"), "A", 4 },
	{ B("A 1: x\r\n"), "", 0 },
	{ B("From : x\r\nTo\t:y\r\n"), "From,To", 17 },
	{ B(".A: 1\r\n..B: 2\r\n"), "A,.B", 15 },
	{ B("A: 1\r\n.\r\n"), "A", 6 },
	{ B("A: 1\r\n..\r\nB: 2\r\n"), "A", 6 },
	{ B("\r\n"), "", 0 },
	{ B(""), "", 0 },
	{ B("A:1\r\nnot a field\r\nB: 2\r\n"), "A", 5 },
	{ B("A: 1\nB: 2\n\nC: 3\n"), "A,B", 10 },
	{ B(":x\r\n"), "", 0 },
	{ B("A:"), "A", 2 },
	{ B("A"), "", 0 },
	{ B("A   "), "", 0 },
	{ B("\xc3\xa9: x\r\n"), "", 0 },
	{ B("A: 1\r\n "), "A", 7 },
	{ B("Subject: a\r\n\r\nFrom: b\r\n"), "Subject", 12 },
	/* ". x" on the wire is " x" for the backend: a continuation */
	{ B("A: 1\r\n. 2\r\n.\tx\r\nB: 3\r\n\r\n"), "A,B", 22 },
	{ B("A: 1\r\n.. 2\r\nB: 3\r\n"), "A", 6 },
	{ B(". x: 1\r\n"), "", 0 },
};

static void
test_next(void **state)
{
	struct hdr_field	f;
	char			names[256];
	size_t			pos, n, start;

	(void)state;
	for (size_t i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]);
	    i++) {
		const char *in = next_cases[i].in;

		pos = 0;
		n = 0;
		names[0] = '\0';
		for (;;) {
			start = pos;
			if (!hdr_next(in, next_cases[i].len, &pos, &f))
				break;
			/* The raw fields tile the section. */
			assert_ptr_equal(f.raw.p, in + start);
			assert_int_equal(f.raw.p + f.raw.len, in + pos);
			n += (size_t)snprintf(names + n, sizeof(names) - n,
			    "%s%.*s", n ? "," : "", (int)f.name.len, f.name.p);
		}
		assert_int_equal(pos, start);
		assert_string_equal(names, next_cases[i].names);
		assert_int_equal(pos, next_cases[i].end);
	}
}

static void
test_values(void **state)
{
	static const char in[] =
	    "Subject: a\r\n b\r\n\tc\r\nX-Empty:\r\nTo  :x\r\n.Dot: d\r\n"
	    "Last: no end";
	struct hdr_field	f;
	size_t			pos = 0;

	(void)state;
	assert_true(hdr_next(in, sizeof(in) - 1, &pos, &f));
	assert_int_equal(f.name.len, 7);
	assert_memory_equal(f.name.p, "Subject", 7);
	assert_int_equal(f.value.len, 10);
	assert_memory_equal(f.value.p, " a\r\n b\r\n\tc", 10);
	assert_int_equal(f.raw.len, 20);
	assert_int_equal(pos, 20);

	assert_true(hdr_next(in, sizeof(in) - 1, &pos, &f));
	assert_int_equal(f.name.len, 7);
	assert_memory_equal(f.name.p, "X-Empty", 7);
	assert_int_equal(f.value.len, 0);
	assert_int_equal(f.raw.len, 10);

	assert_true(hdr_next(in, sizeof(in) - 1, &pos, &f));
	assert_int_equal(f.name.len, 2);
	assert_memory_equal(f.name.p, "To", 2);
	assert_int_equal(f.value.len, 1);
	assert_memory_equal(f.value.p, "x", 1);

	assert_true(hdr_next(in, sizeof(in) - 1, &pos, &f));
	assert_int_equal(f.name.len, 3);
	assert_memory_equal(f.name.p, "Dot", 3);
	assert_int_equal(f.value.len, 2);
	assert_memory_equal(f.value.p, " d", 2);
	assert_int_equal(f.raw.len, 9);
	assert_memory_equal(f.raw.p, ".Dot: d\r\n", 9);

	assert_true(hdr_next(in, sizeof(in) - 1, &pos, &f));
	assert_int_equal(f.value.len, 7);
	assert_memory_equal(f.value.p, " no end", 7);
	assert_int_equal(pos, sizeof(in) - 1);
	assert_false(hdr_next(in, sizeof(in) - 1, &pos, &f));
}

static void
test_find(void **state)
{
	static const char in[] =
	    "Resent-From: r\r\nfrom: a\r\nFROM: b\r\n..From: c\r\n\r\n"
	    "To: body\r\n";
	struct hdr_field	f;

	(void)state;
	assert_true(hdr_find(in, sizeof(in) - 1, "From", &f));
	assert_int_equal(f.value.len, 2);
	assert_memory_equal(f.value.p, " a", 2);
	assert_true(hdr_find(in, sizeof(in) - 1, ".from", &f));
	assert_memory_equal(f.value.p, " c", 2);
	assert_false(hdr_find(in, sizeof(in) - 1, "To", &f));
	assert_false(hdr_find(in, sizeof(in) - 1, "Fro", &f));
	assert_false(hdr_find(in, sizeof(in) - 1, "Resent", &f));
	assert_false(hdr_find("", 0, "From", &f));
}

static const struct {
	const char	*in;
	size_t		 len;
	size_t		 cap;
	const char	*id;
} mid_cases[] = {
	{ B("Message-ID: <a@b>\r\n"), 64, "<a@b>" },
	{ B("Message-Id: (c) <a@b> (d)\r\n"), 64, "<a@b>" },
	{ B("message-id:\r\n <a@b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: <a\r\n @b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: (x (nested <n@n>) y) <a@b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: (esc \\) <e@e>) <a@b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: \"<q@q>\" <a@b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: <\"a b\\\" >\"@c>\r\n"), 64, "<\"a b\\\" >\"@c>" },
	{ B("Message-ID: <a (c>) @ b . c>\r\n"), 64, "<a@b.c>" },
	{ B("Message-ID: <a@b> <c@d>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: junk <a@b> more\r\n"), 64, "<a@b>" },
	{ B("Message-ID: <a@b>(c)\r\nX: y\r\n"), 64, "<a@b>" },
	{ B("Message-ID: <>\r\n"), 64, "<>" },
	{ B("Message-ID :\t<a@b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: <a@b>\nX: y\n"), 64, "<a@b>" },
	{ B("Message-ID: <a@b>"), 64, "<a@b>" },
	{ B("Message-ID:\r\n. <a@b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: <a\r\n.\t@b>\r\n"), 64, "<a@b>" },
	{ B("Message-ID: <\"a\r\n. b\"@c>\r\n"), 64, "<\"a b\"@c>" },
	/* garbage: no "<...>" pair */
	{ B("Message-ID: garbage value \r\n"), 64, "garbage value" },
	{ B("Message-ID: \t a\r\n\tb \t\r\n"), 64, "a\tb" },
	{ B("Message-ID: a\r\n. b\r\n"), 64, "a b" },
	{ B("Message-ID: abc (x) def\r\n"), 64, "abc  def" },
	{ B("Message-ID: <a@b\r\n"), 64, "<a@b" },
	{ B("Message-ID: a@b>\r\n"), 64, "a@b>" },
	{ B("Message-ID: \"q s\" \r\n"), 64, "\"q s\"" },
	{ B("Message-ID: (unterminated <a@b>\r\n"), 64, "" },
	{ B("Message-ID:   \r\n"), 64, "" },
	{ B("Message-ID:\r\n"), 64, "" },
	/* the first Message-ID field, in the header section only */
	{ B("Message-ID: x\r\nMessage-ID: <a@b>\r\n"), 64, "x" },
	{ B("Subject: x\r\n\r\n"), 64, "" },
	{ B("A: b\r\n\r\nMessage-ID: <a@b>\r\n"), 64, "" },
	{ B("Resent-Message-ID: <r@r>\r\n"), 64, "" },
	{ B(".Message-ID: <a@b>\r\n"), 64, "<a@b>" },
	{ B("..Message-ID: <a@b>\r\n"), 64, "" },
	/* bounded output */
	{ B("Message-ID: <abcdef@x>\r\n"), 5, "<abc" },
	{ B("Message-ID: <abcdef@x>\r\n"), 10, "<abcdef@x" },
	{ B("Message-ID: <abcdef@x>\r\n"), 11, "<abcdef@x>" },
	{ B("Message-ID: <abcdef@x>\r\n"), 2, "<" },
	{ B("Message-ID: <abcdef@x>\r\n"), 1, "" },
	{ B("Message-ID: ab   cd\r\n"), 5, "ab" },
	{ B("Message-ID: ab   cd\r\n"), 7, "ab   c" },
};

static void
test_message_id(void **state)
{
	char	out[64];
	size_t	n;

	(void)state;
	for (size_t i = 0; i < sizeof(mid_cases) / sizeof(mid_cases[0]);
	    i++) {
		memset(out, 'Z', sizeof(out));
		n = hdr_message_id(mid_cases[i].in, mid_cases[i].len, out,
		    mid_cases[i].cap);
		assert_string_equal(out, mid_cases[i].id);
		assert_int_equal(n, strlen(mid_cases[i].id));
		/* Nothing written past cap. */
		if (mid_cases[i].cap < sizeof(out))
			assert_int_equal(out[mid_cases[i].cap], 'Z');
	}
	/* cap 0 writes nothing. */
	out[0] = 'Z';
	assert_int_equal(hdr_message_id(B("Message-ID: <a@b>\r\n"), out, 0),
	    0);
	assert_int_equal(out[0], 'Z');
}

/* RFC 5322 Appendix A: fields, the body start and the Message-ID. */
static const struct {
	const char	*file;
	const char	*names;
	const char	*id;
	const char	*body;	/* start of the first body line */
} appendix[] = {
	{ "a1_1-1.eml", "From,To,Subject,Date,Message-ID",
	  "<1234@local.machine.example>",
	  "This is a message just to say hello." },
	{ "a1_1-2.eml", "From,Sender,To,Subject,Date,Message-ID",
	  "<1234@local.machine.example>",
	  "This is a message just to say hello." },
	{ "a1_2.eml", "From,To,Cc,Date,Message-ID",
	  "<5678.21-Nov-1997@example.com>", "Hi everyone." },
	{ "a1_3.eml", "From,To,Cc,Date,Message-ID",
	  "<testabcd.1234@silly.example>", "Testing." },
	{ "a2-2.eml",
	  "From,To,Reply-To,Subject,Date,Message-ID,In-Reply-To,References",
	  "<3456@example.net>", "This is a reply to your hello." },
	{ "a2-3.eml",
	  "To,From,Subject,Date,Message-ID,In-Reply-To,References",
	  "<abcd.1234@local.machine.test>", "This is a reply to your reply." },
	{ "a3-2.eml", "Resent-From,Resent-To,Resent-Date,Resent-Message-ID,"
	  "From,To,Subject,Date,Message-ID",
	  "<1234@local.machine.example>",
	  "This is a message just to say hello." },
	{ "a4.eml", "Received,Received,From,To,Subject,Date,Message-ID",
	  "<1234@local.node.example>",
	  "This is a message just to say hello." },
	{ "a5.eml", "From,To,Cc,Date,Message-ID",
	  "<testabcd.1234@silly.test>", "Testing." },
	{ "a6_1.eml", "From,To,Date,Message-ID",
	  "<5678.21-Nov-1997@example.com>", "Hi everyone." },
	{ "a6_2.eml", "From,To,Subject,Date,Message-ID",
	  "<1234@local.machine.example>",
	  "This is a message just to say hello." },
	{ "a6_3.eml", "From,To,Subject,Date,Message-ID",
	  "<1234@local.machine.example>",
	  "This is a message just to say hello." },
};

static size_t
load(const char *file, char *buf, size_t cap)
{
	char	path[512];
	FILE	*fp;
	size_t	n;

	snprintf(path, sizeof(path), "%s/headers/rfc5322-appendix-a/%s",
	    MXS_TESTDATA, file);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, cap, fp);
	assert_true(n < cap);
	fclose(fp);
	return n;
}

static void
count_emit(void *ctx, const char *p, size_t n)
{
	(void)p;
	*(size_t *)ctx += n;
}

static void
test_appendix_a(void **state)
{
	char			buf[4096], names[512], id[128];
	struct hdr_field	f;
	struct dscan		d;
	size_t			len, pos, n, emitted;
	int			done;

	(void)state;
	for (size_t i = 0; i < sizeof(appendix) / sizeof(appendix[0]); i++) {
		len = load(appendix[i].file, buf, sizeof(buf) - 3);
		pos = 0;
		n = 0;
		names[0] = '\0';
		while (hdr_next(buf, len, &pos, &f)) {
			assert_true(f.raw.len >= 2);
			assert_memory_equal(f.raw.p + f.raw.len - 2, "\r\n", 2);
			n += (size_t)snprintf(names + n, sizeof(names) - n,
			    "%s%.*s", n ? "," : "", (int)f.name.len, f.name.p);
		}
		assert_string_equal(names, appendix[i].names);
		assert_true(pos + 2 <= len);
		assert_memory_equal(buf + pos, "\r\n", 2);
		assert_true(len - pos - 2 >= strlen(appendix[i].body));
		assert_memory_equal(buf + pos + 2, appendix[i].body,
		    strlen(appendix[i].body));

		assert_int_equal(hdr_message_id(buf, len, id, sizeof(id)),
		    strlen(appendix[i].id));
		assert_string_equal(id, appendix[i].id);

		/* The DATA scanner ends the header section at the same
		 * place and passes the message through unchanged. */
		memcpy(buf + len, ".\r\n", 3);
		dscan_init(&d, DSCAN_REJECT);
		emitted = 0;
		assert_int_equal(dscan_feed(&d, buf, len + 3, count_emit,
		    &emitted, &done), len + 3);
		assert_int_equal(done, 1);
		assert_int_equal(d.err, 0);
		assert_int_equal(emitted, len);
		assert_int_equal(d.hdr_end, pos);
	}
}

/* Folded and commented values from the appendix, byte for byte. */
static void
test_appendix_values(void **state)
{
	static const char received[] =
	    " from x.y.test\r\n   by example.net\r\n   via TCP\r\n"
	    "   with ESMTP\r\n   id ABC12345\r\n"
	    "   for <mary@example.net>;  21 Nov 1997 10:05:43 -0600";
	static const char to[] =
	    " Mary Smith\r\n  \r\n          <mary@example.net>";
	char			buf[4096];
	struct hdr_field	f;
	size_t			len;

	(void)state;
	len = load("a4.eml", buf, sizeof(buf));
	assert_true(hdr_find(buf, len, "received", &f));
	assert_int_equal(f.value.len, sizeof(received) - 1);
	assert_memory_equal(f.value.p, received, sizeof(received) - 1);

	len = load("a6_3.eml", buf, sizeof(buf));
	assert_true(hdr_find(buf, len, "To", &f));
	assert_int_equal(f.name.len, 2);
	assert_int_equal(f.value.len, sizeof(to) - 1);
	assert_memory_equal(f.value.p, to, sizeof(to) - 1);
	assert_true(hdr_find(buf, len, "message-id", &f));
	assert_int_equal(f.name.len, 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_appendix_a),
		cmocka_unit_test(test_appendix_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
