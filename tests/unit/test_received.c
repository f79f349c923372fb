/*
 * tests/unit/test_received.c - core/received.c: the Received: field
 * (RFC 5321 4.4), its folding, the RFC 3848 protocol words and the
 * RFC 5322 date. Expected text typed by hand for fixed times.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/received.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define HELO(s) s, sizeof(s) - 1

static const struct {
	const char	*helo;
	size_t		 helo_len;
	const char	*ip;
	const char	*host;
	const char	*proto;
	const char	*tls;
	uint64_t	 sid;
	time_t		 now;
	const char	*out;
} cases[] = {
	{ HELO("client.example.net"), "192.0.2.1", "mx.example.com",
	  "ESMTP", NULL, 1, 0,
	  "Received: from client.example.net ([192.0.2.1])\r\n"
	  "\tby mx.example.com (mxshield) with ESMTP id 0000000000000001;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	/* HELO, not EHLO; no HELO at all */
	{ HELO("client"), "192.0.2.1", "mx.example.com",
	  "SMTP", NULL, 0xabc, 0,
	  "Received: from client ([192.0.2.1])\r\n"
	  "\tby mx.example.com (mxshield) with SMTP id 0000000000000abc;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	{ NULL, 0, "198.51.100.7", "mx.example.com",
	  "SMTP", NULL, UINT64_MAX, 0,
	  "Received: from unknown ([198.51.100.7])\r\n"
	  "\tby mx.example.com (mxshield) with SMTP id ffffffffffffffff;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	{ "x", 0, "198.51.100.7", "mx.example.com",
	  "ESMTP", NULL, 0, 0,
	  "Received: from unknown ([198.51.100.7])\r\n"
	  "\tby mx.example.com (mxshield) with ESMTP id 0000000000000000;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	/* IPv6 literal; a v4-mapped client written as IPv4 */
	{ HELO("[IPv6:2001:db8::1]"), "2001:db8::1", "mx.example.com",
	  "ESMTP", NULL, 2, 1234567890,
	  "Received: from [IPv6:2001:db8::1] ([IPv6:2001:db8::1])\r\n"
	  "\tby mx.example.com (mxshield) with ESMTP id 0000000000000002;\r\n"
	  "\tFri, 13 Feb 2009 23:31:30 +0000\r\n" },
	{ HELO("client.example.net"), "::ffff:192.0.2.1", "mx.example.com",
	  "ESMTP", NULL, 3, 0,
	  "Received: from client.example.net ([192.0.2.1])\r\n"
	  "\tby mx.example.com (mxshield) with ESMTP id 0000000000000003;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	/* TLS: the line is too long, so "with" starts the next one */
	{ HELO("client.example.net"), "192.0.2.1", "mx.example.com",
	  "ESMTPS", "TLSv1.3 TLS_AES_256_GCM_SHA384", 0x0123456789abcdefULL,
	  1700000000,
	  "Received: from client.example.net ([192.0.2.1])\r\n"
	  "\tby mx.example.com (mxshield)\r\n"
	  "\twith ESMTPS (TLSv1.3 TLS_AES_256_GCM_SHA384) id 0123456789abcdef;\r\n"
	  "\tTue, 14 Nov 2023 22:13:20 +0000\r\n" },
	/* a short TLS comment fits on the "by" line */
	{ HELO("c.example"), "192.0.2.1", "mx.test",
	  "ESMTPSA", "TLSv1.2 AES128-SHA", 4, 0,
	  "Received: from c.example ([192.0.2.1])\r\n"
	  "\tby mx.test (mxshield) with ESMTPSA (TLSv1.2 AES128-SHA) id 0000000000000004;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	/* still too long after "with": "id" folds too; parens made "?" */
	{ HELO("c.example"), "192.0.2.1", "mx.example.com",
	  "ESMTPSA", "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 (brainpoolP512r1)",
	  1, 0,
	  "Received: from c.example ([192.0.2.1])\r\n"
	  "\tby mx.example.com (mxshield)\r\n"
	  "\twith ESMTPSA (TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 ?brainpoolP512r1?)\r\n"
	  "\tid 0000000000000001;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	/* hostile HELO: white space, controls, comment delimiters */
	{ HELO("evil host(x)\r\n"), "192.0.2.1", "mx.example.com",
	  "SMTP", NULL, 5, 0,
	  "Received: from evil?host?x??? ([192.0.2.1])\r\n"
	  "\tby mx.example.com (mxshield) with SMTP id 0000000000000005;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	{ HELO("a\\b\0c\xc3\xa9"), "192.0.2.1", "mx.example.com",
	  "SMTP", NULL, 6, 0,
	  "Received: from a?b?c?? ([192.0.2.1])\r\n"
	  "\tby mx.example.com (mxshield) with SMTP id 0000000000000006;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	/* a long HELO: the address literal goes to its own line */
	{ HELO("a-very-long-helo-name.with-many-labels.dynamic-pool.isp.example.net"),
	  "203.0.113.200", "mx.example.com",
	  "ESMTP", NULL, 7, 0,
	  "Received: from a-very-long-helo-name.with-many-labels.dynamic-pool.isp.example.net\r\n"
	  "\t([203.0.113.200])\r\n"
	  "\tby mx.example.com (mxshield) with ESMTP id 0000000000000007;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
	/* a long host name: "with" folds */
	{ HELO("c.example"), "192.0.2.1",
	  "smtp-in-07.frontend.mail-cluster.eu-west.example.com",
	  "ESMTP", NULL, 8, 0,
	  "Received: from c.example ([192.0.2.1])\r\n"
	  "\tby smtp-in-07.frontend.mail-cluster.eu-west.example.com (mxshield)\r\n"
	  "\twith ESMTP id 0000000000000008;\r\n"
	  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n" },
};

static void
test_format(void **state)
{
	char	buf[1024];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct rcvd_info ri = {
			.helo = cases[i].helo,
			.helo_len = cases[i].helo_len,
			.client_ip = cases[i].ip,
			.hostname = cases[i].host,
			.proto = cases[i].proto,
			.tls = cases[i].tls,
			.sid = cases[i].sid,
			.now = cases[i].now,
		};
		size_t n = rcvd_format(buf, sizeof(buf), &ri);

		if (strcmp(buf, cases[i].out) != 0)
			fail_msg("case %zu:\n%s\nwant:\n%s", i, buf,
			    cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
	}
}

/* The HELO is cut to 255 octets; no line but that one passes 78. */
static void
test_long_helo(void **state)
{
	char			helo[300], buf[1024], want[1024];
	struct rcvd_info	ri = {
		.helo = helo, .helo_len = sizeof(helo),
		.client_ip = "192.0.2.1", .hostname = "mx.example.com",
		.proto = "ESMTP", .sid = 9, .now = 0,
	};
	size_t			n;

	(void)state;
	memset(helo, 'h', sizeof(helo));
	memcpy(want, "Received: from ", 15);
	memset(want + 15, 'h', 255);
	strcpy(want + 15 + 255, "\r\n"
	    "\t([192.0.2.1])\r\n"
	    "\tby mx.example.com (mxshield) with ESMTP id 0000000000000009;\r\n"
	    "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
	n = rcvd_format(buf, sizeof(buf), &ri);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

/* A forward-confirmed name goes inside the TCP-info, before the
 * literal (RFC 5321 4.4); IPv6 keeps its tag. */
static void
test_client_name(void **state)
{
	char			 buf[1024];
	struct rcvd_info	 ri = {
		.helo = "client.example.net", .helo_len = 18,
		.client_ip = "192.0.2.1", .client_name = "mail.example.net",
		.hostname = "mx.example.com", .proto = "ESMTP", .sid = 1,
		.now = 0,
	};

	(void)state;
	rcvd_format(buf, sizeof(buf), &ri);
	assert_string_equal(buf,
	    "Received: from client.example.net (mail.example.net [192.0.2.1])\r\n"
	    "\tby mx.example.com (mxshield) with ESMTP id 0000000000000001;\r\n"
	    "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
	ri.client_ip = "2001:db8::1";
	ri.client_name = "v6.example.net";
	ri.helo = "h.example";
	ri.helo_len = 9;
	rcvd_format(buf, sizeof(buf), &ri);
	assert_string_equal(buf,
	    "Received: from h.example (v6.example.net [IPv6:2001:db8::1])\r\n"
	    "\tby mx.example.com (mxshield) with ESMTP id 0000000000000001;\r\n"
	    "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
}

static void
test_cap(void **state)
{
	/* 47 + 2 + 61 + 2 + 32 + 2 = 146 octets, and the NUL */
	const char		*want =
	    "Received: from client.example.net ([192.0.2.1])\r\n"
	    "\tby mx.example.com (mxshield) with ESMTP id 0000000000000001;\r\n"
	    "\tThu, 01 Jan 1970 00:00:00 +0000\r\n";
	struct rcvd_info	 ri = {
		.helo = "client.example.net", .helo_len = 18,
		.client_ip = "192.0.2.1", .hostname = "mx.example.com",
		.proto = "ESMTP", .sid = 1, .now = 0,
	};
	char			 buf[256];

	(void)state;
	assert_int_equal(strlen(want), 146);
	assert_int_equal(rcvd_format(buf, 147, &ri), 146);
	assert_string_equal(buf, want);
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(rcvd_format(buf, 146, &ri), 0);
	assert_string_equal(buf, "");
	memset(buf, 'Z', sizeof(buf));
	assert_int_equal(rcvd_format(buf, 10, &ri), 0);
	assert_int_equal(buf[10], 'Z');
	assert_int_equal(rcvd_format(buf, 0, &ri), 0);
}

static const struct {
	int		 ehlo, tls, auth;
	const char	*word;
} proto_cases[] = {
	{ 0, 0, 0, "SMTP" },
	{ 0, 1, 1, "SMTP" },
	{ 1, 0, 0, "ESMTP" },
	{ 1, 1, 0, "ESMTPS" },
	{ 1, 0, 1, "ESMTPA" },
	{ 1, 1, 1, "ESMTPSA" },
};

static void
test_proto(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(proto_cases); i++)
		assert_string_equal(rcvd_proto(proto_cases[i].ehlo,
		    proto_cases[i].tls, proto_cases[i].auth),
		    proto_cases[i].word);
}

static const struct {
	time_t		 now;
	const char	*date;
} date_cases[] = {
	{ 0, "Thu, 01 Jan 1970 00:00:00 +0000" },
	{ 86399, "Thu, 01 Jan 1970 23:59:59 +0000" },
	{ 951782400, "Tue, 29 Feb 2000 00:00:00 +0000" },
	{ 1234567890, "Fri, 13 Feb 2009 23:31:30 +0000" },
	{ 1700000000, "Tue, 14 Nov 2023 22:13:20 +0000" },
	{ 2147483647, "Tue, 19 Jan 2038 03:14:07 +0000" },
	{ 4102444799, "Thu, 31 Dec 2099 23:59:59 +0000" },
};

static void
test_date(void **state)
{
	char	buf[64];

	(void)state;
	for (size_t i = 0; i < N(date_cases); i++) {
		assert_int_equal(rcvd_date(buf, sizeof(buf), date_cases[i].now),
		    strlen(date_cases[i].date));
		assert_string_equal(buf, date_cases[i].date);
	}
	assert_int_equal(rcvd_date(buf, 32, 0), 31);
	assert_int_equal(rcvd_date(buf, 31, 0), 0);
	assert_string_equal(buf, "");
	/* before 1900 there is no RFC 5322 date to write */
	assert_int_equal(rcvd_date(buf, sizeof(buf), -2208988801LL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_long_helo),
		cmocka_unit_test(test_client_name),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_date),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
