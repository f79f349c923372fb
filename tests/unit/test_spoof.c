/*
 * tests/unit/test_spoof.c - core/spoof: each sign alone with its
 * default weight, a clean message from outside, the display-name trick
 * (plain and as an encoded word), the cap, a weight of 0, trusted and
 * authenticated clients, the sign names, the SPF sign (a fail for a
 * local domain, from outside, only when SPF ran). Header sections are typed by
 * hand, as a client sends them (CRLF).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/spoof.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define B(s)	(1u << (s))

#define RCVD	"Received: from mx.example.net ([192.0.2.7])\r\n" \
		"\tby relay.example.net; Mon, 3 Jun 2024 10:00:00 +0000\r\n"
#define MID	"Message-ID: <abc.123@mx.example.net>\r\n"
#define DATE	"Date: Mon, 3 Jun 2024 10:00:00 +0200\r\n"
#define TAIL	"Subject: hi\r\n\r\n"

enum who { OUTSIDE, TRUSTED, AUTHED };

static const struct {
	const char	*name;
	const char	*hdr;
	const char	*mail_from;
	enum who	 who;
	int		 helo_failed;
	int		 score;
	unsigned	 signs;
} rows[] = {
	{ "clean",
	  RCVD "From: Bob <bob@example.net>\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 0, 0 },
	{ "clean, date with comment, no day name",
	  RCVD "From: bob@example.net\r\n" MID
	  "Date: 3 Jun 2024 10:00 GMT (UTC)\r\n" TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 0, 0 },
	{ "source route in MAIL FROM",
	  RCVD "From: bob@example.net\r\n" MID DATE TAIL,
	  "<@relay.example.org:bob@example.net>", OUTSIDE, 0, 10,
	  B(SPOOF_SOURCE_ROUTE) },
	{ "source route in From",
	  RCVD "From: Bob <@relay.example.org:bob@example.net>\r\n" MID
	  DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 10, B(SPOOF_SOURCE_ROUTE) },
	{ "display name with another address, outside domain",
	  RCVD "From: \"alice@example.org\" <eve@example.net>\r\n" MID
	  DATE TAIL,
	  "<eve@example.net>", OUTSIDE, 0, 8,
	  B(SPOOF_DISPLAY_NAME_ADDRESS) },
	{ "display name holding the real address",
	  RCVD "From: \"Eve eve@example.net\" <eve@example.net>\r\n" MID
	  DATE TAIL,
	  "<eve@example.net>", OUTSIDE, 0, 0, 0 },
	{ "display name naming a local domain",
	  RCVD "From: \"Support of yourdomain.com\" <eve@example.net>\r\n"
	  MID DATE TAIL,
	  "<eve@example.net>", OUTSIDE, 0, 8,
	  B(SPOOF_DISPLAY_NAME_LOCAL_DOMAIN) },
	{ "display-name trick",
	  RCVD "From: \"ceo@yourdomain.com\" <eve@example.net>\r\n" MID
	  DATE TAIL,
	  "<eve@example.net>", OUTSIDE, 0, 16,
	  B(SPOOF_DISPLAY_NAME_ADDRESS) |
	  B(SPOOF_DISPLAY_NAME_LOCAL_DOMAIN) },
	{ "display-name trick, encoded word",
	  RCVD "From: =?UTF-8?B?Y2VvQHlvdXJkb21haW4uY29t?= "
	  "<eve@example.net>\r\n" MID DATE TAIL,
	  "<eve@example.net>", OUTSIDE, 0, 16,
	  B(SPOOF_DISPLAY_NAME_ADDRESS) |
	  B(SPOOF_DISPLAY_NAME_LOCAL_DOMAIN) },
	{ "local domain in From from outside",
	  RCVD "From: ceo@YourDomain.com\r\n" MID DATE TAIL,
	  "<eve@example.net>", OUTSIDE, 0, 8, B(SPOOF_LOCAL_FROM_OUTSIDE) },
	{ "no Received",
	  "From: bob@example.net\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 5, B(SPOOF_NO_RECEIVED) },
	{ "Received with 10.x",
	  "Received: from pc ([10.1.2.3]) by mx.example.net\r\n"
	  "From: bob@example.net\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 5, B(SPOOF_PRIVATE_RECEIVED) },
	{ "Received with 172.20.x, folded",
	  "Received: from pc\r\n (pc [172.20.0.9]) by mx.example.net\r\n"
	  "From: bob@example.net\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 5, B(SPOOF_PRIVATE_RECEIVED) },
	{ "Received with 172.32.x is public",
	  "Received: from pc ([172.32.0.9]) by mx.example.net\r\n"
	  "From: bob@example.net\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 0, 0 },
	{ "Received with our own address",
	  "Received: from x ([198.51.100.25]) by mx.example.net\r\n"
	  "From: bob@example.net\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 5, B(SPOOF_PRIVATE_RECEIVED) },
	{ "Received with IPv6 loopback",
	  "Received: from x ([IPv6:::1]) by mx.example.net\r\n"
	  "From: bob@example.net\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 5, B(SPOOF_PRIVATE_RECEIVED) },
	{ "HELO failed",
	  RCVD "From: bob@example.net\r\n" MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 1, 3, B(SPOOF_HELO_FAILED) },
	{ "no Message-ID",
	  RCVD "From: bob@example.net\r\n" DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 2, B(SPOOF_BAD_MESSAGE_ID) },
	{ "Message-ID without @",
	  RCVD "From: bob@example.net\r\nMessage-ID: <abc>\r\n" DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 2, B(SPOOF_BAD_MESSAGE_ID) },
	{ "no Date",
	  RCVD "From: bob@example.net\r\n" MID TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 2, B(SPOOF_BAD_DATE) },
	{ "Date in the wrong shape",
	  RCVD "From: bob@example.net\r\n" MID
	  "Date: 2024-06-03 10:00:00\r\n" TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 2, B(SPOOF_BAD_DATE) },
	{ "Date with hour 25",
	  RCVD "From: bob@example.net\r\n" MID
	  "Date: Mon, 3 Jun 2024 25:00:00 +0000\r\n" TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 2, B(SPOOF_BAD_DATE) },
	{ "Reply-To in another domain",
	  RCVD "From: bob@example.net\r\nReply-To: x@example.org\r\n"
	  MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 3,
	  B(SPOOF_REPLY_TO_OTHER_DOMAIN) },
	{ "Reply-To in the same domain",
	  RCVD "From: bob@example.net\r\nReply-To: <x@EXAMPLE.net>\r\n"
	  MID DATE TAIL,
	  "<bob@example.net>", OUTSIDE, 0, 0, 0 },
	{ "everything: capped at 25",
	  "From: \"ceo@yourdomain.com\" <@r.example:ceo@yourdomain.com>\r\n"
	  "Reply-To: eve@example.net\r\n" TAIL,
	  "<@r.example:eve@example.net>", OUTSIDE, 1, 25,
	  B(SPOOF_SOURCE_ROUTE) | B(SPOOF_DISPLAY_NAME_LOCAL_DOMAIN) |
	  B(SPOOF_LOCAL_FROM_OUTSIDE) | B(SPOOF_NO_RECEIVED) |
	  B(SPOOF_HELO_FAILED) | B(SPOOF_BAD_MESSAGE_ID) |
	  B(SPOOF_BAD_DATE) | B(SPOOF_REPLY_TO_OTHER_DOMAIN) },
	{ "trusted: no from-outside signs",
	  "Received: from pc ([10.1.2.3]) by mx.example.net\r\n"
	  "From: \"Support of yourdomain.com\" <ceo@yourdomain.com>\r\n"
	  MID DATE TAIL,
	  "<ceo@yourdomain.com>", TRUSTED, 0, 0, 0 },
	{ "authenticated: no from-outside signs",
	  "From: \"Support of yourdomain.com\" <ceo@yourdomain.com>\r\n"
	  MID DATE TAIL,
	  "<ceo@yourdomain.com>", AUTHED, 0, 0, 0 },
	{ "authenticated: the display-name trick still counts",
	  "From: \"ceo@yourdomain.com\" <eve@example.net>\r\n" MID DATE TAIL,
	  "<eve@example.net>", AUTHED, 0, 8, B(SPOOF_DISPLAY_NAME_ADDRESS) },
};

static char *const locals[] = { "yourdomain.com", "example.com" };

static void
fill(struct spoof_input *in, size_t r, struct net *own)
{
	memset(in, 0, sizeof(*in));
	in->hdr = rows[r].hdr;
	in->hdrlen = strlen(rows[r].hdr);
	in->mail_from.p = rows[r].mail_from;
	in->mail_from.len = strlen(rows[r].mail_from);
	in->trusted = rows[r].who == TRUSTED;
	in->authenticated = rows[r].who == AUTHED;
	in->helo_failed = rows[r].helo_failed != 0;
	in->local_domains = locals;
	in->nlocal_domains = NELEM(locals);
	assert_int_equal(net_parse("198.51.100.25", 13, own), 0);
	in->own = own;
	in->nown = 1;
}

static void
test_rows(void **state)
{
	(void)state;
	for (size_t r = 0; r < NELEM(rows); r++) {
		struct spoof_input	in;
		struct net		own;
		unsigned		signs = 0xdead;
		int			score;

		fill(&in, r, &own);
		score = spoof_score(&in, spoof_default_weights, &signs);
		if (score != rows[r].score || signs != rows[r].signs)
			print_error("row \"%s\": score %d signs %#x\n",
			    rows[r].name, score, signs);
		assert_int_equal(score, rows[r].score);
		assert_int_equal(signs, rows[r].signs);
	}
}

/* Weight 0 turns a sign off: its bit is not reported either. */
static void
test_weight_zero(void **state)
{
	struct spoof_input	in;
	struct net		own;
	int			w[SPOOF_NSIGNS];
	unsigned		signs;

	(void)state;
	memcpy(w, spoof_default_weights, sizeof(w));
	w[SPOOF_DISPLAY_NAME_ADDRESS] = 0;
	fill(&in, 8, &own);	/* display-name trick, encoded word */
	assert_string_equal(rows[8].name, "display-name trick, encoded word");
	assert_int_equal(spoof_score(&in, w, &signs), 8);
	assert_int_equal(signs, B(SPOOF_DISPLAY_NAME_LOCAL_DOMAIN));
	w[SPOOF_DISPLAY_NAME_LOCAL_DOMAIN] = 0;
	assert_int_equal(spoof_score(&in, w, &signs), 0);
	assert_int_equal(signs, 0);
	assert_int_equal(spoof_score(&in, w, NULL), 0);
}

/* Weights of the seed, and one large weight is capped alone. */
static void
test_weights(void **state)
{
	struct spoof_input	in;
	struct net		own;
	int			w[SPOOF_NSIGNS] = { 0 };

	(void)state;
	assert_int_equal(spoof_default_weights[SPOOF_SOURCE_ROUTE], 10);
	assert_int_equal(spoof_default_weights[SPOOF_REPLY_TO_OTHER_DOMAIN],
	    3);
	w[SPOOF_SOURCE_ROUTE] = 1000;
	fill(&in, 2, &own);	/* source route in MAIL FROM */
	assert_int_equal(spoof_score(&in, w, NULL), 25);
}

/*
 * spf_fail_local: an SPF fail for one of local_domains from outside;
 * not for another domain, another result, SPF that did not run, or a
 * trusted or authenticated client. Row 0 ("clean") has no other sign.
 */
static void
test_spf_fail_local(void **state)
{
	static const struct {
		bool		 ran;
		enum spf_result	 r;
		const char	*domain;
		enum who	 who;
		int		 score;
	} cases[] = {
		{ true, SPF_FAIL, "yourdomain.com", OUTSIDE, 8 },
		{ true, SPF_FAIL, "YourDomain.COM.", OUTSIDE, 8 },
		{ true, SPF_FAIL, "example.net", OUTSIDE, 0 },
		{ true, SPF_SOFTFAIL, "yourdomain.com", OUTSIDE, 0 },
		{ true, SPF_PASS, "yourdomain.com", OUTSIDE, 0 },
		{ true, SPF_PERMERROR, "yourdomain.com", OUTSIDE, 0 },
		{ false, SPF_FAIL, "yourdomain.com", OUTSIDE, 0 },
		{ true, SPF_FAIL, "yourdomain.com", TRUSTED, 0 },
		{ true, SPF_FAIL, "yourdomain.com", AUTHED, 0 },
		{ true, SPF_FAIL, "", OUTSIDE, 0 },
	};
	int	w[SPOOF_NSIGNS];

	(void)state;
	assert_int_equal(spoof_default_weights[SPOOF_SPF_FAIL_LOCAL], 8);
	assert_string_equal(spoof_sign_name(SPOOF_SPF_FAIL_LOCAL),
	    "spf_fail_local");
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct spoof_input	in;
		struct net		own;
		unsigned		signs;

		fill(&in, 0, &own);
		in.trusted = cases[i].who == TRUSTED;
		in.authenticated = cases[i].who == AUTHED;
		in.spf_ran = cases[i].ran;
		in.spf = cases[i].r;
		in.spf_domain.p = cases[i].domain;
		in.spf_domain.len = strlen(cases[i].domain);
		assert_int_equal(spoof_score(&in, spoof_default_weights,
		    &signs), cases[i].score);
		assert_int_equal(signs, cases[i].score ?
		    B(SPOOF_SPF_FAIL_LOCAL) : 0);
	}
	/* a weight of 0 turns it off */
	memcpy(w, spoof_default_weights, sizeof(w));
	w[SPOOF_SPF_FAIL_LOCAL] = 0;
	{
		struct spoof_input	in;
		struct net		own;

		fill(&in, 0, &own);
		in.spf_ran = true;
		in.spf = SPF_FAIL;
		in.spf_domain.p = "example.com";
		in.spf_domain.len = 11;
		assert_int_equal(spoof_score(&in, w, NULL), 0);
		assert_int_equal(spoof_score(&in, spoof_default_weights, NULL),
		    8);
	}
}

static void
test_names(void **state)
{
	char	buf[64];

	(void)state;
	assert_int_equal(spoof_signs_text(B(SPOOF_SOURCE_ROUTE) |
	    B(SPOOF_DISPLAY_NAME_ADDRESS), buf, sizeof(buf)), 33);
	assert_string_equal(buf, "source_route,display_name_address");
	assert_int_equal(spoof_signs_text(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* "source_route" fits in 13, ",display_name_address" does not. */
	assert_int_equal(spoof_signs_text(B(SPOOF_SOURCE_ROUTE) |
	    B(SPOOF_DISPLAY_NAME_ADDRESS), buf, 13), 12);
	assert_string_equal(buf, "source_route");
	assert_int_equal(spoof_signs_text(B(SPOOF_SOURCE_ROUTE), buf, 12),
	    0);
	assert_string_equal(buf, "");
	assert_int_equal(spoof_sign_find("bad_date", 8), SPOOF_BAD_DATE);
	assert_int_equal(spoof_sign_find("bad_dat", 7), -1);
	assert_string_equal(spoof_sign_name(SPOOF_HELO_FAILED), "helo_failed");
	assert_string_equal(spoof_sign_name(SPOOF_NSIGNS), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_weight_zero),
		cmocka_unit_test(test_weights),
		cmocka_unit_test(test_spf_fail_local),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
