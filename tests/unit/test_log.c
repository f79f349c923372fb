/*
 * tests/unit/test_log.c - proxy/log.c, the log line builder: the exact
 * lines of log_msg() and log_sid() in both formats, and that a line is
 * whole JSON of at most LOG_LINE_MAX octets whatever is put in it (long
 * strings cut with "...", long arrays ending in "<key>_omitted", fields
 * after them kept, "truncated" when fields fit nowhere). Lines are read
 * back from stderr, redirected to a temporary file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "proxy/log.h"

/* ------------------------------------------------ capturing stderr */

static char	 out[4 * LOG_LINE_MAX];
static size_t	 outlen;
static FILE	*tmp;
static int	 saved_fd = -1;

static void
capture(enum cfg_log_format format)
{
	log_setup(format, CFG_LOG_DEBUG);
	tmp = tmpfile();
	assert_non_null(tmp);
	saved_fd = dup(STDERR_FILENO);
	assert_true(saved_fd >= 0);
	assert_true(dup2(fileno(tmp), STDERR_FILENO) >= 0);
}

/* Back to the real stderr; out holds what was written, NUL-terminated. */
static void
release(void)
{
	assert_true(dup2(saved_fd, STDERR_FILENO) >= 0);
	close(saved_fd);
	saved_fd = -1;
	rewind(tmp);
	outlen = fread(out, 1, sizeof(out) - 1, tmp);
	out[outlen] = '\0';
	fclose(tmp);
	tmp = NULL;
}

/* --------------------------------------- a small JSON recogniser */

static const char *value(const char *p);

static const char *
ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static const char *
string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (;;) {
		unsigned char c = (unsigned char)*p++;

		if (c == '"')
			return p;
		if (c < 0x20)
			return NULL;	/* NUL, newline, controls */
		if (c != '\\')
			continue;
		c = (unsigned char)*p++;
		if (c == 'u') {
			for (int i = 0; i < 4; i++, p++)
				if (strchr("0123456789abcdefABCDEF", *p) == NULL ||
				    *p == '\0')
					return NULL;
		} else if (c == '\0' || strchr("\"\\/bfnrt", c) == NULL) {
			return NULL;
		}
	}
}

static const char *
number(const char *p)
{
	const char *s;

	if (*p == '-')
		p++;
	s = p;
	while (*p >= '0' && *p <= '9')
		p++;
	if (p > s && *p == '.') {	/* a fraction: digits after the dot */
		s = ++p;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return p > s ? p : NULL;
}

/* An object or an array: open, items (key: value for an object), close. */
static const char *
container(const char *p, char open, char close)
{
	if (*p++ != open)
		return NULL;
	p = ws(p);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (open == '{') {
			if ((p = string(ws(p))) == NULL)
				return NULL;
			p = ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = value(ws(p))) == NULL)
			return NULL;
		p = ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
value(const char *p)
{
	switch (*p) {
	case '{':
		return container(p, '{', '}');
	case '[':
		return container(p, '[', ']');
	case '"':
		return string(p);
	case 't':
		return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
	case 'f':
		return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
	case 'n':
		return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
	default:
		return number(p);
	}
}

/* The captured output is exactly one line holding one JSON object. */
static void
assert_one_json_line(void)
{
	const char *end;

	assert_true(outlen > 0 && outlen <= LOG_LINE_MAX);
	assert_int_equal(out[outlen - 1], '\n');
	assert_ptr_equal(strchr(out, '\n'), out + outlen - 1);
	end = value(out);
	if (end == NULL || *end != '\n') {
		fprintf(stderr, "not JSON (%zu octets): %.300s ... %s", outlen,
		    out, outlen > 300 ? out + outlen - 300 : "");
		fail();
	}
}

/* out without the timestamp: from the first field after "ts" (JSON) or
 * after the first space (text). */
static const char *
after_ts(int text)
{
	const char *p = text ? strchr(out, ' ') : strstr(out, "Z\",");

	assert_non_null(p);
	return text ? p + 1 : p + 3;
}

/* --------------------------------------------------------- tests */

static void
test_msg_and_sid_lines(void **state)
{
	(void)state;
	capture(CFG_LOG_JSON);
	log_sid(CFG_LOG_WARN, "backend", 0xdeadbeefULL, "cannot connect to "
	    "backend %s:%d: %s", "127.0.0.1", 25, "connection refused");
	release();
	assert_one_json_line();
	assert_string_equal(after_ts(0), "\"event\":\"backend\",\"level\":"
	    "\"warn\",\"sid\":\"00000000deadbeef\",\"msg\":\"cannot connect "
	    "to backend 127.0.0.1:25: connection refused\"}\n");

	capture(CFG_LOG_JSON);
	log_sid_client(CFG_LOG_INFO, "tls", 0x0123456789abcdefULL,
	    "192.0.2.7", "client TLS handshake failed: %s", "bad \"hello\"");
	release();
	assert_one_json_line();
	assert_string_equal(after_ts(0), "\"event\":\"tls\",\"level\":\"info\","
	    "\"sid\":\"0123456789abcdef\",\"client\":\"192.0.2.7\",\"msg\":"
	    "\"client TLS handshake failed: bad \\\"hello\\\"\"}\n");

	capture(CFG_LOG_JSON);
	log_msg(CFG_LOG_INFO, "control", "control socket %s", "/run/x.sock");
	release();
	assert_string_equal(after_ts(0), "\"event\":\"control\",\"level\":"
	    "\"info\",\"msg\":\"control socket /run/x.sock\"}\n");

	capture(CFG_LOG_TEXT);
	log_sid_client(CFG_LOG_WARN, "backend", 0xdeadbeefULL, "192.0.2.7",
	    "backend lost");
	release();
	assert_string_equal(after_ts(1), "backend level=warn "
	    "sid=00000000deadbeef client=192.0.2.7 msg=\"backend lost\"\n");
}

/* log_ratio: three decimals, null (text: -) with nothing to divide by */
static void
test_ratio(void **state)
{
	struct logline l;

	(void)state;
	capture(CFG_LOG_JSON);
	log_begin(&l, "dns");
	log_ratio(&l, "a", 2, 3);
	log_ratio(&l, "b", 1, 1);
	log_ratio(&l, "c", 0, 0);
	log_ratio(&l, "d", 0, 7);
	log_end(&l);
	release();
	assert_one_json_line();
	assert_string_equal(after_ts(0), "\"event\":\"dns\",\"a\":0.667,"
	    "\"b\":1.000,\"c\":null,\"d\":0.000}\n");

	capture(CFG_LOG_TEXT);
	log_begin(&l, "dns");
	log_ratio(&l, "a", 1, 8);
	log_ratio(&l, "c", 5, 0);
	log_end(&l);
	release();
	assert_string_equal(after_ts(1), "dns a=0.125 c=-\n");
}

static void
test_below_level_writes_nothing(void **state)
{
	(void)state;
	capture(CFG_LOG_JSON);
	log_setup(CFG_LOG_JSON, CFG_LOG_WARN);
	log_sid(CFG_LOG_INFO, "tls", 1, "quiet");
	log_msg(CFG_LOG_DEBUG, "tls", "quiet");
	release();
	assert_int_equal(outlen, 0);
}

/* n addresses of 190 octets */
static void
rcpt(char *buf, size_t cap, int i)
{
	snprintf(buf, cap, "<%057d@%060d.%060d.example>", i, 0, 0);
}

/* 300 long recipients, then the fields a reader needs after them. */
static void
test_long_array_then_fields(void **state)
{
	struct logline l;
	char a[256];
	const char *p;
	unsigned long omitted;
	int listed = 0;

	(void)state;
	capture(CFG_LOG_JSON);
	log_begin(&l, "txn");
	log_array_begin(&l, "rcpts");
	for (int i = 0; i < 300; i++) {
		rcpt(a, sizeof(a), i);
		log_array_str(&l, a, strlen(a));
	}
	log_array_end(&l);
	log_cstr(&l, "message_id", "<4711@client.example.net>");
	log_int(&l, "size", 123456);
	log_cstr(&l, "result", "accepted");
	log_cstr(&l, "queue_id", "4XyZ1234");
	log_end(&l);
	release();
	assert_one_json_line();
	/* the first items, whole, in order */
	for (p = strstr(out, "\"rcpts\":[") + 9; *p == '"'; listed++) {
		rcpt(a, sizeof(a), listed);
		assert_memory_equal(p + 1, a, strlen(a));
		assert_int_equal(p[1 + strlen(a)], '"');
		p += strlen(a) + 2;
		if (*p == ',')
			p++;
	}
	assert_true(listed > 10 && listed < 300);
	assert_int_equal(*p, ']');
	assert_int_equal(sscanf(p, "],\"rcpts_omitted\":%lu,", &omitted), 1);
	assert_int_equal(omitted, 300 - listed);
	assert_non_null(strstr(out, ",\"message_id\":\"<4711@client.example."
	    "net>\",\"size\":123456,\"result\":\"accepted\",\"queue_id\":"
	    "\"4XyZ1234\"}\n"));
	assert_null(strstr(out, "truncated"));
}

/* A string longer than the line: cut with "..." inside its quotes, and
 * still room for what follows. */
static void
test_long_string_cut(void **state)
{
	static char big[3 * LOG_LINE_MAX];
	struct logline l;
	const char *p;

	(void)state;
	memset(big, 'x', sizeof(big));
	capture(CFG_LOG_JSON);
	log_begin(&l, "session");
	for (int i = 0; i < 5; i++)
		log_str(&l, "helo", big, sizeof(big));
	log_cstr(&l, "result", "accepted");
	log_end(&l);
	release();
	assert_one_json_line();
	p = strstr(out, "\"helo\":\"xxx");
	assert_non_null(p);
	p = strchr(p + 8, '"');
	assert_memory_equal(p - 3, "...\"", 4);
	assert_non_null(strstr(out, ",\"result\":\"accepted\""));
}

/* More fields than fit: the line ends "truncated":true. */
static void
test_too_many_fields(void **state)
{
	struct logline l;

	(void)state;
	capture(CFG_LOG_JSON);
	log_begin(&l, "stress");
	for (int i = 0; i < 3000; i++)
		log_int(&l, "n", i);
	log_end(&l);
	release();
	assert_one_json_line();
	assert_memory_equal(out + outlen - 19, ",\"truncated\":true}\n", 19);

	capture(CFG_LOG_TEXT);
	log_begin(&l, "stress");
	for (int i = 0; i < 3000; i++)
		log_int(&l, "n", i);
	log_end(&l);
	release();
	assert_true(outlen <= LOG_LINE_MAX);
	assert_memory_equal(out + outlen - 16, " truncated=true\n", 16);
}

/*
 * Whatever the lengths: a string of k octets (hostile bytes), an array
 * of objects, an array of strings, more fields: one JSON line of at
 * most LOG_LINE_MAX, always with the fields written first, and every
 * open array closed with its count.
 */
static void
test_every_length_is_json(void **state)
{
	static char big[LOG_LINE_MAX + 512];
	struct logline l;
	char num[32];

	(void)state;
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = "a\"\\\x01\xc3\xa9\xff<b>"[i % 10];
	for (size_t k = 0; k < sizeof(big); k += 61) {
		capture(CFG_LOG_JSON);
		log_begin(&l, "txn");
		log_hex64(&l, "sid", k);
		log_str(&l, "helo", big, k);
		log_str(&l, "mail_from", big, k / 2);
		log_array_begin(&l, "verdicts");
		for (int i = 0; i < 16; i++) {
			log_array_obj_begin(&l);
			log_cstr(&l, "check", "helo");
			log_int(&l, "code", 550);
			log_str(&l, "reason", big, k % 700);
			log_array_obj_end(&l);
		}
		log_array_end(&l);
		log_array_begin(&l, "rcpts");
		for (int i = 0; i < 100; i++)
			log_array_str(&l, big + i, 150);
		log_array_end(&l);
		log_str(&l, "queue_id", big, 40);
		log_int(&l, "size", (int64_t)k);
		log_end(&l);
		release();
		assert_one_json_line();
		snprintf(num, sizeof(num), "\"sid\":\"%016zx\"", k);
		assert_non_null(strstr(out, num));
		snprintf(num, sizeof(num), ",\"size\":%zu", k);
		assert_non_null(strstr(out, num));
		assert_non_null(strstr(out, "\"queue_id\":\""));
		assert_non_null(strstr(out, "\"rcpts_omitted\":"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_and_sid_lines),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_below_level_writes_nothing),
		cmocka_unit_test(test_long_array_then_fields),
		cmocka_unit_test(test_long_string_cut),
		cmocka_unit_test(test_too_many_fields),
		cmocka_unit_test(test_every_length_is_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
