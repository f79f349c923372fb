/*
 * tests/unit/test_smtp_cmd.c - core/smtp_cmd: the command line scanner
 * (fed whole, one byte at a time and in random splits), cmd_parse()
 * verbs, paths (RFC 5321 4.1.2, RFC 6531) and parameters, and the
 * is_email address suite in tests/data/address. Expected values are typed
 * by hand or come from the test data, never from the code under test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/smtp_cmd.h"

/* A string literal as pointer and length, NULs included. */
#define S(s)	(s), (sizeof(s) - 1)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------------- */
/* cmd_scan_line */

struct ev {
	enum cmd_line_rc rc;
	const char	*line;
	size_t		 len;
};

static const struct scan_case {
	const char	*in;
	size_t		 len;
	size_t		 limit;
	struct ev	 ev[5];		/* ends at rc LINE_NEED_MORE */
	size_t		 pending;	/* bytes the caller still holds */
} scan_cases[] = {
	{ S("HELO a\r\n"), 100, { { LINE_OK, S("HELO a") } }, 0 },
	{ S("A\r\nB\r\n"), 100,
	  { { LINE_OK, S("A") }, { LINE_OK, S("B") } }, 0 },
	{ S("\r\n"), 100, { { LINE_OK, S("") } }, 0 },
	{ S("\r\n\r\n"), 100, { { LINE_OK, S("") }, { LINE_OK, S("") } }, 0 },
	{ S("NOOP"), 100, { { 0 } }, 4 },
	{ S("NOOP\r"), 100, { { 0 } }, 5 },
	{ S("A\r\nNOOP"), 100, { { LINE_OK, S("A") } }, 4 },
	/* only CRLF ends a line: one with a bare LF is refused whole */
	{ S("A\nB\r\n"), 100, { { LINE_BARE_LF, S("A\nB") } }, 0 },
	{ S("NOOP\nMAIL FROM:<inj@evil.test>\r\n"), 100,
	  { { LINE_BARE_LF, S("NOOP\nMAIL FROM:<inj@evil.test>") } }, 0 },
	{ S("NOOP\nMAIL FROM:<inj@evil.test>\r\nNOOP\r\n"), 100,
	  { { LINE_BARE_LF, S("NOOP\nMAIL FROM:<inj@evil.test>") },
	    { LINE_OK, S("NOOP") } }, 0 },
	{ S("A\n\r\n"), 100, { { LINE_BARE_LF, S("A\n") } }, 0 },
	{ S("\n\r\n"), 100, { { LINE_BARE_LF, S("\n") } }, 0 },
	{ S("\n\n\r\n"), 100, { { LINE_BARE_LF, S("\n\n") } }, 0 },
	{ S("A\r\nB\nC\r\nD\r\n"), 100,
	  { { LINE_OK, S("A") }, { LINE_BARE_LF, S("B\nC") },
	    { LINE_OK, S("D") } }, 0 },
	{ S("\n"), 100, { { 0 } }, 1 },
	{ S("\n\n"), 100, { { 0 } }, 2 },
	{ S("DATA\n.\n"), 100, { { 0 } }, 7 },
	{ S("NOOP\nMAIL FROM:<inj@evil.test>\n"), 100, { { 0 } }, 31 },
	{ S("A\nB\r"), 100, { { 0 } }, 4 },
	/* bare CR anywhere in the line */
	{ S("A\rB\r\n"), 100, { { LINE_BARE_CR, S("A\rB") } }, 0 },
	{ S("A\r\r\n"), 100, { { LINE_BARE_CR, S("A\r") } }, 0 },
	{ S("\rA\r\n"), 100, { { LINE_BARE_CR, S("\rA") } }, 0 },
	{ S("\r\r\n"), 100, { { LINE_BARE_CR, S("\r") } }, 0 },
	{ S("A\rB\n"), 100, { { 0 } }, 4 },
	{ S("A\rB\n\r\n"), 100, { { LINE_BARE_CR, S("A\rB\n") } }, 0 },
	{ S("A\rB"), 100, { { 0 } }, 3 },
	{ S("NOOP\rMAIL FROM:<inj@evil.test>\r\n"), 100,
	  { { LINE_BARE_CR, S("NOOP\rMAIL FROM:<inj@evil.test>") } }, 0 },
	{ S("NOOP\r\rMAIL FROM:<a@b>\r\nQUIT\r\n"), 100,
	  { { LINE_BARE_CR, S("NOOP\r\rMAIL FROM:<a@b>") },
	    { LINE_OK, S("QUIT") } }, 0 },
	{ S("\r\r\r\n"), 100, { { LINE_BARE_CR, S("\r\r") } }, 0 },
	{ S("MAIL FROM:<a@b>\r\rRCPT TO:<c@d>\r\n"), 100,
	  { { LINE_BARE_CR, S("MAIL FROM:<a@b>\r\rRCPT TO:<c@d>") } }, 0 },
	/* NUL */
	{ S("A\0B\r\n"), 100, { { LINE_NUL, S("A\0B") } }, 0 },
	{ S("\0\r\n"), 100, { { LINE_NUL, S("\0") } }, 0 },
	{ S("A\0B\n"), 100, { { 0 } }, 4 },
	/* several faults: the first one in the line */
	{ S("A\rB\0\r\n"), 100, { { LINE_BARE_CR, S("A\rB\0") } }, 0 },
	{ S("A\0\rB\r\n"), 100, { { LINE_NUL, S("A\0\rB") } }, 0 },
	{ S("A\nB\rC\r\n"), 100, { { LINE_BARE_LF, S("A\nB\rC") } }, 0 },
	{ S("A\rB\nC\r\n"), 100, { { LINE_BARE_CR, S("A\rB\nC") } }, 0 },
	{ S("A\n\0\r\n"), 100, { { LINE_BARE_LF, S("A\n\0") } }, 0 },
	{ S("A\0\n\r\n"), 100, { { LINE_NUL, S("A\0\n") } }, 0 },
	{ S("A\0B\r\nC\nD\r\n"), 100,
	  { { LINE_NUL, S("A\0B") }, { LINE_BARE_LF, S("C\nD") } }, 0 },
	/* the limit counts CRLF: 8 bytes pass, 9 do not */
	{ S("123456\r\n"), 8, { { LINE_OK, S("123456") } }, 0 },
	{ S("1234567\r\n"), 8, { { LINE_TOO_LONG, S("") } }, 0 },
	{ S("1234\n6\r\n"), 8, { { LINE_BARE_LF, S("1234\n6") } }, 0 },
	{ S("1234\n67\r\n"), 8, { { LINE_TOO_LONG, S("") } }, 0 },
	{ S("12345\0\r\n"), 8, { { LINE_NUL, S("12345\0") } }, 0 },
	{ S("1234567\n"), 8, { { 0 } }, 0 },
	{ S("1234567\nAB\r\nCD\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("CD") } }, 0 },
	{ S("12345678\n"), 8, { { 0 } }, 0 },
	{ S("123456\0\n"), 8, { { 0 } }, 0 },
	{ S("123456\r\r\n"), 8, { { LINE_TOO_LONG, S("") } }, 0 },
	{ S("1234567\r\nAB\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("AB") } }, 0 },
	{ S("AB\r\n1234567\r\nCD\r\n"), 8,
	  { { LINE_OK, S("AB") }, { LINE_TOO_LONG, S("") },
	    { LINE_OK, S("CD") } }, 0 },
	/* over-long: one report at its LF, whatever it holds */
	{ S("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("OK") } }, 0 },
	{ S("xxxxxxxx\0\r\rxxxxxxxxxxxxx\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") } }, 0 },
	{ S("xxxxxxxx\0\r\rxxxxxxxxxxxxx\r\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("OK") } }, 0 },
	/* a CR at the end of what was thrown away, its LF after */
	{ S("xxxxxxx\r\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("OK") } }, 0 },
	{ S("xxxxxxxxxxx\r\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("OK") } }, 0 },
	{ S("xxxxxxxxxxx\r\r\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("OK") } }, 0 },
	{ S("xxxxxxxxxxx\rX\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") } }, 0 },
	{ S("xxxxxxxxxxx\n\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") } }, 0 },
	{ S("xxxxxxxxxxx\n\r\nOK\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("OK") } }, 0 },
	{ S("xxxxxxxxxxxx\r\nyyyyyyyyyyyyyyyy\r\n"), 8,
	  { { LINE_TOO_LONG, S("") }, { LINE_TOO_LONG, S("") } }, 0 },
	{ S("12345678"), 8, { { 0 } }, 0 },
	{ S("1234567"), 8, { { 0 } }, 7 },
	{ S("1234567\r"), 8, { { 0 } }, 0 },
	{ S("xxxxxxxxxxxxxxxxxxxx"), 8, { { 0 } }, 0 },
	{ S("xxxxxxxxxxxxxxxxxxxx\r\nAB"), 8, { { LINE_TOO_LONG, S("") } }, 2 },
	/* tiny limits */
	{ S("\n"), 1, { { 0 } }, 0 },
	{ S("\n\r\n\r\n"), 2,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("") } }, 0 },
	{ S("\r\n"), 1, { { LINE_TOO_LONG, S("") } }, 0 },
	{ S("\r\n"), 2, { { LINE_OK, S("") } }, 0 },
	{ S("a\r\n\r\n"), 2,
	  { { LINE_TOO_LONG, S("") }, { LINE_OK, S("") } }, 0 },
};

struct got {
	enum cmd_line_rc rc;
	size_t		 len;
	char		 line[64];
};

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Feeds in[0..len) to a fresh scanner the way the proxy does: new bytes
 * are appended to what the scanner left, and each call sees an exactly
 * sized heap copy, so ASan catches a read past the end. mode 0: all at
 * once; 1: one byte at a time; 2: random chunks from seed. Returns the
 * events; *pending gets the bytes left unconsumed.
 */
static size_t
run_scan(const char *in, size_t len, size_t limit, int mode, uint32_t seed,
    struct got *got, size_t maxgot, size_t *pending)
{
	struct cmd_scanner st;
	enum cmd_line_rc rc;
	struct span line;
	char *held, *copy;
	size_t have = 0, off = 0, chunk, n, ngot = 0;

	memset(&st, 0, sizeof(st));
	held = malloc(len + 1);
	assert_non_null(held);
	while (off < len) {
		if (mode == 0)
			chunk = len - off;
		else if (mode == 1)
			chunk = 1;
		else
			chunk = 1 + xorshift(&seed) %
			    (len - off < 13 ? len - off : 13);
		memcpy(held + have, in + off, chunk);
		have += chunk;
		off += chunk;
		for (;;) {
			copy = malloc(have > 0 ? have : 1);
			assert_non_null(copy);
			memcpy(copy, held, have);
			n = cmd_scan_line(&st, copy, have, limit, &rc, &line);
			assert_true(n <= have);
			if (rc != LINE_NEED_MORE) {
				assert_true(n > 0);
				assert_true(line.p >= copy);
				assert_true(line.p + line.len <= copy + n);
				assert_true(ngot < maxgot);
				assert_true(line.len <= sizeof(got[ngot].line));
				got[ngot].rc = rc;
				got[ngot].len = line.len;
				memcpy(got[ngot].line, line.p, line.len);
				ngot++;
			} else if (n == 0) {
				/* what the caller must keep is bounded */
				assert_true(have < limit);
			}
			free(copy);
			if (n == 0)
				break;
			memmove(held, held + n, have - n);
			have -= n;
		}
	}
	free(held);
	*pending = have;
	return ngot;
}

static void
check_scan(const struct scan_case *c, int mode, uint32_t seed)
{
	struct got got[8];
	size_t ngot, pending, i, nexp;

	for (nexp = 0; nexp < NELEM(c->ev) && c->ev[nexp].rc != LINE_NEED_MORE;
	    nexp++)
		;
	ngot = run_scan(c->in, c->len, c->limit, mode, seed, got, NELEM(got),
	    &pending);
	if (ngot != nexp || pending != c->pending)
		fail_msg("case \"%.*s\" mode %d: %zu events (want %zu), %zu "
		    "pending (want %zu)", (int)c->len, c->in, mode, ngot, nexp,
		    pending, c->pending);
	for (i = 0; i < nexp; i++) {
		if (got[i].rc != c->ev[i].rc)
			fail_msg("case \"%.*s\" mode %d event %zu: %s, want %s",
			    (int)c->len, c->in, mode, i,
			    cmd_line_rc_name(got[i].rc),
			    cmd_line_rc_name(c->ev[i].rc));
		assert_int_equal(got[i].len, c->ev[i].len);
		assert_memory_equal(got[i].line, c->ev[i].line, got[i].len);
	}
}

static void
test_scan_whole(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(scan_cases); i++)
		check_scan(&scan_cases[i], 0, 0);
}

static void
test_scan_bytewise(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(scan_cases); i++)
		check_scan(&scan_cases[i], 1, 0);
}

static void
test_scan_random_splits(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(scan_cases); i++) {
		for (uint32_t seed = 1; seed <= 200; seed++)
			check_scan(&scan_cases[i], 2, seed * 2654435761u);
	}
}

/* The direct contract: counts, spans into p, the discard state. */
static void
test_scan_contract(void **state)
{
	struct cmd_scanner st = { 0 };
	enum cmd_line_rc rc;
	struct span line;
	const char *in = "QUIT\r\nRSET\r\n";
	char big[5000];

	(void)state;
	assert_int_equal(cmd_scan_line(&st, in, 12, 2048, &rc, &line), 6);
	assert_int_equal(rc, LINE_OK);
	assert_ptr_equal(line.p, in);
	assert_int_equal(line.len, 4);
	assert_int_equal(cmd_scan_line(&st, in + 6, 6, 2048, &rc, &line), 6);
	assert_int_equal(rc, LINE_OK);
	assert_ptr_equal(line.p, in + 6);

	assert_int_equal(cmd_scan_line(&st, in, 0, 2048, &rc, &line), 0);
	assert_int_equal(rc, LINE_NEED_MORE);
	assert_int_equal(cmd_scan_line(&st, in, 3, 2048, &rc, &line), 0);
	assert_int_equal(rc, LINE_NEED_MORE);

	/* 2048 bytes without LF: thrown away, then the LF is reported */
	memset(big, 'x', sizeof(big));
	assert_int_equal(cmd_scan_line(&st, big, 2047, 2048, &rc, &line), 0);
	assert_int_equal(rc, LINE_NEED_MORE);
	assert_int_equal(cmd_scan_line(&st, big, 2048, 2048, &rc, &line), 2048);
	assert_int_equal(rc, LINE_NEED_MORE);
	assert_int_equal(st.discarding, 1);
	assert_int_equal(cmd_scan_line(&st, big, 3000, 2048, &rc, &line), 3000);
	assert_int_equal(rc, LINE_NEED_MORE);
	big[5] = '\n';		/* a bare LF does not end it */
	big[10] = '\n';
	assert_int_equal(cmd_scan_line(&st, big, 3000, 2048, &rc, &line), 3000);
	assert_int_equal(rc, LINE_NEED_MORE);
	big[9] = '\r';
	assert_int_equal(cmd_scan_line(&st, big, 3000, 2048, &rc, &line), 11);
	assert_int_equal(rc, LINE_TOO_LONG);
	assert_int_equal(line.len, 0);
	assert_int_equal(st.discarding, 0);

	/* the CR thrown away with the rest, its LF in the next read */
	memset(big, 'x', sizeof(big));
	big[2999] = '\r';
	assert_int_equal(cmd_scan_line(&st, big, 3000, 2048, &rc, &line), 3000);
	assert_int_equal(rc, LINE_NEED_MORE);
	assert_int_equal(st.discarding, 1);
	assert_int_equal(cmd_scan_line(&st, "\nQUIT\r\n", 8, 2048, &rc,
	    &line), 1);
	assert_int_equal(rc, LINE_TOO_LONG);
	assert_int_equal(st.discarding, 0);
	assert_int_equal(cmd_scan_line(&st, "QUIT\r\n", 6, 2048, &rc, &line),
	    6);
	assert_int_equal(rc, LINE_OK);
	/* ... but a CR thrown away and a LF later are not a CRLF */
	assert_int_equal(cmd_scan_line(&st, big, 3000, 2048, &rc, &line), 3000);
	assert_int_equal(cmd_scan_line(&st, "x\nQUIT\r\n", 8, 2048, &rc,
	    &line), 8);
	assert_int_equal(rc, LINE_TOO_LONG);

	/* exactly 2048 with CRLF passes; 2049 does not */
	memset(big, 'x', sizeof(big));
	big[2046] = '\r';
	big[2047] = '\n';
	assert_int_equal(cmd_scan_line(&st, big, 4000, 2048, &rc, &line), 2048);
	assert_int_equal(rc, LINE_OK);
	assert_int_equal(line.len, 2046);
	memset(big, 'x', sizeof(big));
	big[2047] = '\r';
	big[2048] = '\n';
	assert_int_equal(cmd_scan_line(&st, big, 4000, 2048, &rc, &line), 2049);
	assert_int_equal(rc, LINE_TOO_LONG);
	assert_int_equal(st.discarding, 0);
}

/* ---------------------------------------------------------------- */
/* cmd_parse */

#define F_NULL	1
#define F_ROUTE	2
#define F_PM	4
/* the fields every case has; the rest are checked only when given */
#define P(i, r, v, f)	.in = (i), .rc = (r), .verb = (v), .flags = (f)

static const struct parse_case {
	const char	*in;
	enum cmd_rc	 rc;
	enum cmd_verb	 verb;
	int		 flags;
	const char	*arg;		/* NULL: not checked */
	const char	*path;
	const char	*local;
	const char	*domain;
	const char	*params;
} parse_cases[] = {
	/* empty lines and verbs */
	{ P("", CMD_E_EMPTY, CMD_UNKNOWN, 0) },
	{ P("    ", CMD_E_EMPTY, CMD_UNKNOWN, 0) },
	{ P(" NOOP", CMD_E_SYNTAX, CMD_UNKNOWN, 0) },
	{ P(" MAIL FROM:<a@b>", CMD_E_SYNTAX, CMD_UNKNOWN, 0) },
	{ P("FOO bar baz", CMD_OK, CMD_UNKNOWN, 0), .arg = "bar baz" },
	{ P("MAILFROM:<a@b>", CMD_OK, CMD_UNKNOWN, 0), .arg = "" },
	{ P("MAIL\tFROM:<a@b>", CMD_OK, CMD_UNKNOWN, 0) },
	{ P("DATA\t", CMD_OK, CMD_UNKNOWN, 0) },
	{ P("QUITX", CMD_OK, CMD_UNKNOWN, 0) },
	{ P("QUI", CMD_OK, CMD_UNKNOWN, 0) },
	{ P("\xc3\xa9", CMD_OK, CMD_UNKNOWN, 0) },
	{ P("PROXY TCP4 1.2.3.4 5.6.7.8 1 2", CMD_OK, CMD_UNKNOWN, 0) },
	/* HELO / EHLO need an argument */
	{ P("EHLO client.example",
	    CMD_OK, CMD_EHLO, 0), .arg = "client.example" },
	{ P("ehlo client.example  ",
	    CMD_OK, CMD_EHLO, 0), .arg = "client.example" },
	{ P("HeLo [192.0.2.1]", CMD_OK, CMD_HELO, 0), .arg = "[192.0.2.1]" },
	{ P("EHLO  two", CMD_OK, CMD_EHLO, 0), .arg = " two" },
	{ P("EHLO", CMD_E_SYNTAX, CMD_EHLO, 0) },
	{ P("HELO", CMD_E_SYNTAX, CMD_HELO, 0) },
	{ P("EHLO ", CMD_E_SYNTAX, CMD_EHLO, 0) },
	{ P("EHLO     ", CMD_E_SYNTAX, CMD_EHLO, 0) },
	/* ... that a domain or an address literal can hold */
	{ P("EHLO host_name.example", CMD_OK, CMD_EHLO, 0),
	  .arg = "host_name.example" },
	{ P("HELO [IPv6:2001:db8::1]", CMD_OK, CMD_HELO, 0),
	  .arg = "[IPv6:2001:db8::1]" },
	{ P("EHLO two words", CMD_E_HELO, CMD_EHLO, 0), .arg = "two words" },
	{ P("EHLO x;rm", CMD_E_HELO, CMD_EHLO, 0), .arg = "x;rm" },
	{ P("HELO a\tb", CMD_E_HELO, CMD_HELO, 0), .arg = "a\tb" },
	{ P("EHLO \xc3\xa9t\xc3\xa9.example", CMD_E_HELO, CMD_EHLO, 0),
	  .arg = "\xc3\xa9t\xc3\xa9.example" },
	/* no argument */
	{ P("DATA", CMD_OK, CMD_DATA, 0), .arg = "" },
	{ P("data", CMD_OK, CMD_DATA, 0) },
	{ P("DATA ", CMD_OK, CMD_DATA, 0), .arg = "" },
	{ P("DATA x", CMD_E_SYNTAX, CMD_DATA, 0) },
	{ P("RSET", CMD_OK, CMD_RSET, 0) },
	{ P("RSET now", CMD_E_SYNTAX, CMD_RSET, 0) },
	{ P("QUIT", CMD_OK, CMD_QUIT, 0) },
	{ P("quit  ", CMD_OK, CMD_QUIT, 0) },
	{ P("QUIT bye", CMD_E_SYNTAX, CMD_QUIT, 0) },
	{ P("STARTTLS", CMD_OK, CMD_STARTTLS, 0) },
	{ P("StartTLS", CMD_OK, CMD_STARTTLS, 0) },
	{ P("STARTTLS x", CMD_E_SYNTAX, CMD_STARTTLS, 0) },
	/* raw arguments */
	{ P("NOOP", CMD_OK, CMD_NOOP, 0), .arg = "" },
	{ P("NOOP hello  world  ",
	    CMD_OK, CMD_NOOP, 0), .arg = "hello  world" },
	{ P("HELP", CMD_OK, CMD_HELP, 0) },
	{ P("HELP MAIL", CMD_OK, CMD_HELP, 0), .arg = "MAIL" },
	{ P("VRFY user", CMD_OK, CMD_VRFY, 0), .arg = "user" },
	{ P("VRFY", CMD_OK, CMD_VRFY, 0), .arg = "" },
	{ P("EXPN list", CMD_OK, CMD_EXPN, 0), .arg = "list" },
	{ P("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", CMD_OK, CMD_AUTH, 0),
	  .arg = "PLAIN dGVzdAB0ZXN0AHRlc3Q=" },
	{ P("auth login", CMD_OK, CMD_AUTH, 0), .arg = "login" },
	{ P("BDAT 100 LAST", CMD_OK, CMD_BDAT, 0), .arg = "100 LAST" },
	{ P("XCLIENT ADDR=192.0.2.1", CMD_OK, CMD_XCLIENT, 0),
	  .arg = "ADDR=192.0.2.1" },
	{ P("XFORWARD NAME=x", CMD_OK, CMD_XFORWARD, 0), .arg = "NAME=x" },

	/* MAIL / RCPT: the keyword and the one tolerated space */
	{ P("MAIL FROM:<a@example.com>", CMD_OK, CMD_MAIL, 0),
	  .arg = "FROM:<a@example.com>", .path = "a@example.com", .local = "a",
	  .domain = "example.com", .params = "" },
	{ P("mail from:<a@example.com>", CMD_OK, CMD_MAIL, 0),
	  .path = "a@example.com" },
	{ P("MaIl FrOm:<a@example.com>", CMD_OK, CMD_MAIL, 0),
	  .path = "a@example.com" },
	{ P("MAIL FROM: <a@example.com>", CMD_OK, CMD_MAIL, 0),
	  .path = "a@example.com" },
	{ P("MAIL FROM:<a@example.com>   ", CMD_OK, CMD_MAIL, 0),
	  .path = "a@example.com", .params = "" },
	{ P("MAIL FROM:  <a@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL  FROM:<a@example.com>", CMD_E_SYNTAX, CMD_MAIL, 0) },
	{ P("MAIL FROM <a@example.com>", CMD_E_SYNTAX, CMD_MAIL, 0) },
	{ P("MAIL FROM", CMD_E_SYNTAX, CMD_MAIL, 0) },
	{ P("MAIL", CMD_E_SYNTAX, CMD_MAIL, 0) },
	{ P("MAIL TO:<a@example.com>", CMD_E_SYNTAX, CMD_MAIL, 0) },
	{ P("RCPT FROM:<a@example.com>", CMD_E_SYNTAX, CMD_RCPT, 0) },
	{ P("MAIL FROM:", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM: ", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:a@example.com", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@example.com", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@example.com>>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@example.com>SIZE=1", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<<a@example.com>>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@example.com> <b@example.com>",
	    CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@example.com>\t", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("RCPT TO:<b@example.org>",
	    CMD_OK, CMD_RCPT, 0), .arg = "TO:<b@example.org>",
	  .path = "b@example.org", .local = "b", .domain = "example.org" },
	{ P("rcpt to: <b@example.org>",
	    CMD_OK, CMD_RCPT, 0), .path = "b@example.org" },
	{ P("RCPT TO:", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:b@example.org", CMD_E_PATH, CMD_RCPT, 0) },

	/* null path, postmaster */
	{ P("MAIL FROM:<>", CMD_OK, CMD_MAIL, F_NULL), .path = "", .local = "",
	  .domain = "", .params = "" },
	{ P("MAIL FROM: <>", CMD_OK, CMD_MAIL, F_NULL), .path = "" },
	{ P("MAIL FROM:<> SIZE=10",
	    CMD_OK, CMD_MAIL, F_NULL), .params = "SIZE=10" },
	{ P("MAIL FROM:<>SIZE=10", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("RCPT TO:<>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<postmaster>",
	    CMD_OK, CMD_RCPT, F_PM), .path = "postmaster",
	  .local = "postmaster", .domain = "" },
	{ P("RCPT TO:<PostMaster>",
	    CMD_OK, CMD_RCPT, F_PM), .path = "PostMaster" },
	{ P("RCPT TO:<POSTMASTER> NOTIFY=NEVER", CMD_OK, CMD_RCPT, F_PM),
	  .params = "NOTIFY=NEVER" },
	{ P("RCPT TO:<postmaster@example.com>", CMD_OK, CMD_RCPT, 0),
	  .path = "postmaster@example.com", .local = "postmaster",
	  .domain = "example.com" },
	{ P("RCPT TO:<postmasters>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<postmaste>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<\"postmaster\">", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("MAIL FROM:<postmaster>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<user>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("RCPT TO:<user>", CMD_E_PATH, CMD_RCPT, 0) },

	/* source routes */
	{ P("RCPT TO:<@a.example,@b.example:c@d.example>",
	    CMD_OK, CMD_RCPT, F_ROUTE),
	    .path = "c@d.example", .local = "c", .domain = "d.example" },
	{ P("MAIL FROM:<@a.example:c@d.example>", CMD_OK, CMD_MAIL, F_ROUTE),
	  .path = "c@d.example" },
	{ P("RCPT TO:<@a.example:>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("MAIL FROM:<@a.example:>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("RCPT TO:<@a.example,c@d.example>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@a.example,:c@d.example>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@a.example,b.example:c@d.example>",
	    CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@:c@d.example>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@a.example,xb.example:c@d.example>",
	    CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@[192.0.2.1]:c@d.example>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@a.example:@b.example:c@d.example>",
	    CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@a.example:postmaster>", CMD_E_PATH, CMD_RCPT, 0) },
	{ P("RCPT TO:<@example.com>", CMD_E_PATH, CMD_RCPT, 0) },

	/* local parts */
	{ P("MAIL FROM:<a.b.c@example.com>",
	    CMD_OK, CMD_MAIL, 0), .local = "a.b.c" },
	{ P("MAIL FROM:<!#$%&'*+-/=?^_`{|}~@example.com>", CMD_OK, CMD_MAIL, 0),
	  .local = "!#$%&'*+-/=?^_`{|}~" },
	{ P("MAIL FROM:<.a@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a.@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a..b@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a b@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a(b)@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a,b@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a\\@b@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"a b\"@example.com>", CMD_OK, CMD_MAIL, 0),
	  .path = "\"a b\"@example.com", .local = "\"a b\"",
	  .domain = "example.com" },
	{ P("MAIL FROM:<\"a>b\"@example.com> SIZE=5", CMD_OK, CMD_MAIL, 0),
	  .path = "\"a>b\"@example.com", .local = "\"a>b\"",
	  .params = "SIZE=5" },
	{ P("MAIL FROM:<\"a@b\"@example.com>", CMD_OK, CMD_MAIL, 0),
	  .local = "\"a@b\"", .domain = "example.com" },
	{ P("MAIL FROM:<\"a\\\"b\"@example.com>", CMD_OK, CMD_MAIL, 0),
	  .local = "\"a\\\"b\"" },
	{ P("MAIL FROM:<\"a\\\\\"@example.com>", CMD_OK, CMD_MAIL, 0),
	  .local = "\"a\\\\\"" },
	{ P("MAIL FROM:<\"\"@example.com>",
	    CMD_OK, CMD_MAIL, 0), .local = "\"\"" },
	{ P("MAIL FROM:<\"a..b\"@example.com>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"a\"b@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"a\".b@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<b\"a\"@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"a@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"a\\\"@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"a\tb\"@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"a\\\tb\"@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"\x7f\"@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\x7f@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a\x01@example.com>", CMD_E_PATH, CMD_MAIL, 0) },

	/* domains */
	{ P("MAIL FROM:<a@org>", CMD_OK, CMD_MAIL, 0), .domain = "org" },
	{ P("MAIL FROM:<a@123.45>", CMD_OK, CMD_MAIL, 0), .domain = "123.45" },
	{ P("MAIL FROM:<a@a-b.c-d>",
	    CMD_OK, CMD_MAIL, 0), .domain = "a-b.c-d" },
	{ P("MAIL FROM:<a@xn--bcher-kva.example>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@EXAMPLE.COM>",
	    CMD_OK, CMD_MAIL, 0), .domain = "EXAMPLE.COM" },
	{ P("MAIL FROM:<a@-x.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x-.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x.com->", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x.com.>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@.x.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x..com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x_y.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x/y.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x .com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@invalid=domain.com>", CMD_E_PATH, CMD_MAIL, 0) },

	/* address literals */
	{ P("MAIL FROM:<a@[192.0.2.1]>", CMD_OK, CMD_MAIL, 0),
	  .path = "a@[192.0.2.1]", .domain = "[192.0.2.1]" },
	{ P("MAIL FROM:<a@[0.0.0.0]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[255.255.255.255]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[192.0.2.256]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[192.0.2]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[192.0.2.1.5]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[192.0.2.1>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[192.0.2.1]x>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@x[192.0.2.1]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[192.0.2.1000]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[192.0..1]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[ 192.0.2.1]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:::1]>", CMD_OK, CMD_MAIL, 0),
	  .path = "a@[IPv6:::1]", .domain = "[IPv6:::1]" },
	{ P("MAIL FROM:<a@[ipv6:::1]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:::]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:2001:db8::1]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:2001:DB8:0:0:0:0:0:1]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1::]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4:5::6]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:::ffff:192.0.2.1]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:::192.0.2.1]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4:5:6:192.0.2.1]>",
	    CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4::192.0.2.1]>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4:5::192.0.2.1]>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4:5:192.0.2.1]>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:192.0.2.1]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4:5:6:7]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4:5:6:7:8:9]>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:2:3:4:5:6::7]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1::2::3]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:12345::]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:g::]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6::1]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:1:]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6::::1]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:fe80::1%eth0]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:::1.2.3]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:::1.2.3.4:5]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[::1]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:::1>", CMD_E_PATH, CMD_MAIL, 0) },
	/* General-address-literal: Standardized-tag ":" 1*dcontent */
	{ P("MAIL FROM:<a@[x-tag:anything-here.1]>", CMD_OK, CMD_MAIL, 0),
	  .domain = "[x-tag:anything-here.1]" },
	{ P("MAIL FROM:<a@[x-tag:]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[x-:y]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[:y]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[x:a b]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[x:a\\b]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[x:a[b]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[RFC-5322-domain-literal]>",
	    CMD_E_PATH, CMD_MAIL, 0) },

	/* UTF-8 (RFC 6531), cases after JSON-Schema-Test-Suite idn-email */
	{ P("MAIL FROM:<\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae"
	    "@example.com>",
	    CMD_OK, CMD_MAIL, 0),
	  .local = "\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae" },
	{ P("MAIL FROM:<\"\xce\xb4\xce\xbf\xce\xba\xce\xb9\xce\xbc\xce\xae\""
	    "@example.com>",
	    CMD_OK, CMD_MAIL, 0) },
	{ P("RCPT TO:<\xec\x8b\xa4\xeb\xa1\x80@\xec\x8b\xa4\xeb\xa1\x80."
	  "\xed\x85\x8c\xec\x8a\xa4\xed\x8a\xb8>", CMD_OK, CMD_RCPT, 0),
	  .domain = "\xec\x8b\xa4\xeb\xa1\x80."
	      "\xed\x85\x8c\xec\x8a\xa4\xed\x8a\xb8" },
	{ P("MAIL FROM:<user@cafe\xcc\x81.com>", CMD_OK, CMD_MAIL, 0),
	  .domain = "cafe\xcc\x81.com" },
	{ P("MAIL FROM:<\xc2\x85@example.com>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xef\xbf\xbf@example.com>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xf0\x9d\x95\x8f@example.com>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xf4\x8f\xbf\xbf@example.com>", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<user\xef\xbc\xa0" "example.com>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xc0\xaf@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xc1\xbf@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xe0\x80\xaf@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xed\xa0\x80@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xf0\x80\x80\xaf@example.com>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xf4\x90\x80\x80@example.com>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xf5\x80\x80\x80@example.com>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xe2\x82@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\x80@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\xff@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@\xff.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@ex\xc3.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"\xc3\"@example.com>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<\"\\\xc3\xa9\"@example.com>",
	    CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[IPv6:\xc3\xa9::]>", CMD_E_PATH, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@[x:\xc3\xa9]>", CMD_E_PATH, CMD_MAIL, 0) },

	/* parameters */
	{ P("MAIL FROM:<a@b.example> SIZE=10 BODY=8BITMIME",
	    CMD_OK, CMD_MAIL, 0),
	  .params = "SIZE=10 BODY=8BITMIME" },
	{ P("MAIL FROM:<a@b.example>   SIZE=10   BODY=8BITMIME   ",
	    CMD_OK, CMD_MAIL, 0), .params = "SIZE=10   BODY=8BITMIME" },
	{ P("MAIL FROM:<a@b.example> SMTPUTF8", CMD_OK, CMD_MAIL, 0),
	  .params = "SMTPUTF8" },
	{ P("MAIL FROM:<a@b.example> AUTH=<>", CMD_OK, CMD_MAIL, 0),
	  .params = "AUTH=<>" },
	{ P("MAIL FROM:<a@b.example> X-Y-1=z", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> 8BITMIME", CMD_OK, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> ENVID=\xc3\xa9t\xc3\xa9",
	    CMD_OK, CMD_MAIL, 0) },
	{ P("RCPT TO:<a@b.example> NOTIFY=SUCCESS,FAILURE "
	    "ORCPT=rfc822;a@b.example",
	    CMD_OK, CMD_RCPT, 0),
	  .params = "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@b.example" },
	{ P("MAIL FROM:<a@b.example> =x", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> SIZE=", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> SIZE==1", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> SIZE=1=2", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> -X", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> X_Y", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> RET=FULL\tENVID=x",
	    CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> ENVID=a\x01", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> ENVID=a\x7f", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> ENVID=\xc3", CMD_E_PARAM, CMD_MAIL, 0) },
	{ P("MAIL FROM:<a@b.example> \xc3\xa9=1", CMD_E_PARAM, CMD_MAIL, 0) },
};

static void
check_span(const char *what, const char *in, struct span got, const char *want)
{
	if (want == NULL)
		return;
	if (got.len != strlen(want) || memcmp(got.p, want, got.len) != 0)
		fail_msg("\"%s\": %s is \"%.*s\", want \"%s\"", in, what,
		    (int)got.len, got.p, want);
}

/* Every span of a parsed command lies inside the line. */
static void
check_inside(const char *in, size_t len, const struct smtp_cmd *c)
{
	const struct span *s[] = { &c->verb_s, &c->arg, &c->path, &c->local,
	    &c->domain, &c->params };

	for (size_t i = 0; i < NELEM(s); i++) {
		assert_true(s[i]->p >= in);
		assert_true(s[i]->p + s[i]->len <= in + len);
	}
}

static void
test_parse_table(void **state)
{
	struct smtp_cmd c;
	char *copy;
	size_t len;

	(void)state;
	for (size_t i = 0; i < NELEM(parse_cases); i++) {
		const struct parse_case *t = &parse_cases[i];
		enum cmd_rc rc;

		/* an exactly sized copy, so ASan sees any read past the end */
		len = strlen(t->in);
		copy = malloc(len > 0 ? len : 1);
		assert_non_null(copy);
		memcpy(copy, t->in, len);
		rc = cmd_parse(copy, len, &c);
		if (rc != t->rc)
			fail_msg("\"%s\": %s, want %s", t->in, cmd_rc_name(rc),
			    cmd_rc_name(t->rc));
		if (c.verb != t->verb)
			fail_msg("\"%s\": verb %s, want %s", t->in,
			    cmd_verb_name(c.verb), cmd_verb_name(t->verb));
		if (rc == CMD_OK) {
			assert_int_equal(c.null_path, !!(t->flags & F_NULL));
			assert_int_equal(c.had_route, !!(t->flags & F_ROUTE));
			assert_int_equal(c.postmaster, !!(t->flags & F_PM));
			check_span("arg", t->in, c.arg, t->arg);
			check_span("path", t->in, c.path, t->path);
			check_span("local", t->in, c.local, t->local);
			check_span("domain", t->in, c.domain, t->domain);
			check_span("params", t->in, c.params, t->params);
		}
		if (len > 0)
			check_inside(copy, len, &c);
		free(copy);
	}
}

/* "MAIL FROM:<" local "@" domain ">" built from repeated characters. */
static enum cmd_rc
parse_built(const char *route, size_t nlocal, int quoted,
    const size_t *labels, size_t nlabels, struct smtp_cmd *c)
{
	static char buf[1024];
	size_t n = 0;

	n += (size_t)sprintf(buf, "MAIL FROM:<%s", route);
	if (quoted) {
		buf[n++] = '"';
		memset(buf + n, 'q', nlocal - 2);
		n += nlocal - 2;
		buf[n++] = '"';
	} else {
		memset(buf + n, 'l', nlocal);
		n += nlocal;
	}
	buf[n++] = '@';
	for (size_t i = 0; i < nlabels; i++) {
		if (i > 0)
			buf[n++] = '.';
		memset(buf + n, 'd', labels[i]);
		n += labels[i];
	}
	buf[n++] = '>';
	return cmd_parse(buf, n, c);
}

static void
test_parse_lengths(void **state)
{
	struct smtp_cmd c;
	const size_t one[] = { 7 };
	const size_t l63[] = { 63, 3 }, l64[] = { 64, 3 };
	/* 63.63.63.60 = 252 octets: with "a@" a 254-octet mailbox */
	const size_t d252[] = { 63, 63, 63, 60 }, d253[] = { 63, 63, 63, 61 };
	/* 63.63.63.49 = 241: with "@r.example:" the path is 256 */
	const size_t d241[] = { 63, 63, 63, 49 }, d242[] = { 63, 63, 63, 50 };
	/* 63.63.63.63 = 255 */
	const size_t d255[] = { 63, 63, 63, 63 };

	(void)state;
	assert_int_equal(parse_built("", 64, 0, one, 1, &c), CMD_OK);
	assert_int_equal(c.local.len, 64);
	assert_int_equal(parse_built("", 65, 0, one, 1, &c), CMD_E_PATH);
	assert_int_equal(parse_built("", 64, 1, one, 1, &c), CMD_OK);
	assert_int_equal(parse_built("", 65, 1, one, 1, &c), CMD_E_PATH);
	assert_int_equal(parse_built("", 1, 0, l63, 2, &c), CMD_OK);
	assert_int_equal(parse_built("", 1, 0, l64, 2, &c), CMD_E_PATH);
	assert_int_equal(parse_built("", 1, 0, d252, 4, &c), CMD_OK);
	assert_int_equal(c.path.len, 254);
	assert_int_equal(c.domain.len, 252);
	assert_int_equal(parse_built("", 1, 0, d253, 4, &c), CMD_E_PATH);
	assert_int_equal(parse_built("@r.example:", 1, 0, d241, 4, &c), CMD_OK);
	assert_int_equal(c.had_route, 1);
	assert_int_equal(c.path.len, 243);
	assert_int_equal(parse_built("@r.example:", 1, 0, d242, 4, &c),
	    CMD_E_PATH);
	assert_int_equal(parse_built("", 1, 0, d255, 4, &c), CMD_E_PATH);
}

/* A U-label's limit is on its A-label, so 63 UTF-8 octets are no limit. */
static void
test_parse_utf8_label(void **state)
{
	struct smtp_cmd c;
	char buf[256];
	size_t n;

	(void)state;
	n = (size_t)sprintf(buf, "RCPT TO:<a@");
	for (int i = 0; i < 40; i++) {
		buf[n++] = '\xc3';
		buf[n++] = '\xa9';
	}
	n += (size_t)sprintf(buf + n, ".example>");
	assert_int_equal(cmd_parse(buf, n, &c), CMD_OK);
	assert_int_equal(c.domain.len, 80 + 8);
}

static void
test_param_next(void **state)
{
	static const struct {
		const char	*in;
		const char	*kv[8];		/* key, value, ... NULL */
		int		 end;		/* 0 or -1 */
	} cases[] = {
		{ "", { NULL }, 0 },
		{ "   ", { NULL }, 0 },
		{ "SIZE=100", { "SIZE", "100", NULL }, 0 },
		{ "SIZE=100 BODY=8BITMIME  SMTPUTF8 ",
		  { "SIZE", "100", "BODY", "8BITMIME", "SMTPUTF8", "", NULL },
		  0 },
		{ "  A=1", { "A", "1", NULL }, 0 },
		{ "A=1 =2", { "A", "1", NULL }, -1 },
		{ "A=1 B=", { "A", "1", NULL }, -1 },
		{ "A=1 B==", { "A", "1", NULL }, -1 },
		{ "A=x=y", { NULL }, -1 },
		{ "A\tB", { NULL }, -1 },
		{ "A=\xc3\xa9 B", { "A", "\xc3\xa9", "B", "", NULL }, 0 },
		{ "A=\xc3", { NULL }, -1 },
		{ "A=b\x7f", { NULL }, -1 },
		{ "X-1-=a", { "X-1-", "a", NULL }, 0 },
		{ "-X", { NULL }, -1 },
	};
	struct span p, k, v, before;
	int r;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t j = 0;

		p = span_make(cases[i].in, strlen(cases[i].in));
		while ((r = cmd_param_next(&p, &k, &v)) == 1) {
			assert_non_null(cases[i].kv[j]);
			check_span("key", cases[i].in, k, cases[i].kv[j]);
			check_span("value", cases[i].in, v, cases[i].kv[j + 1]);
			j += 2;
		}
		assert_null(cases[i].kv[j]);
		if (r != cases[i].end)
			fail_msg("\"%s\": ends with %d, want %d", cases[i].in,
			    r, cases[i].end);
		if (r < 0) {
			before = p;
			assert_int_equal(cmd_param_next(&p, &k, &v), -1);
			assert_ptr_equal(p.p, before.p);
			assert_int_equal(p.len, before.len);
		}
	}
	p = SPAN_NULL;
	assert_int_equal(cmd_param_next(&p, &k, &v), 0);
}

static void
test_param_size(void **state)
{
	static const struct {
		const char	*in;
		int64_t		 size;
	} cases[] = {
		{ "", -1 },
		{ "BODY=8BITMIME", -1 },
		{ "SIZE=100", 100 },
		{ "size=5", 5 },
		{ "BODY=8BITMIME SIZE=1234 SMTPUTF8", 1234 },
		{ "SIZE=0", 0 },
		{ "SIZE=00012", 12 },
		{ "SIZE=9007199254740992", 9007199254740992LL },
		{ "SIZE=9007199254740993", -2 },
		{ "SIZE=99999999999999999999999999", -2 },
		{ "SIZE=", -2 },
		{ "SIZE", -2 },
		{ "SIZE=12a", -2 },
		{ "SIZE=-1", -2 },
		{ "SIZE=+1", -2 },
		{ "SIZE=1 SIZE=1", -2 },
		{ "SIZE=1 =x", -2 },
		{ "SIZES=5", -1 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		int64_t got = cmd_param_size(span_make(cases[i].in,
		    strlen(cases[i].in)));

		if (got != cases[i].size)
			fail_msg("\"%s\": %lld, want %lld", cases[i].in,
			    (long long)got, (long long)cases[i].size);
	}
	assert_int_equal(cmd_param_size(SPAN_NULL), -1);
}

/* cmd_helo_ok: the bytes of a domain or an address literal, no more */
static const struct {
	const char	*arg;
	size_t		 len;
	int		 ok;
} helo_cases[] = {
	/* names, with the misconfigurations real hosts have */
	{ S("client.example.net"), 1 },
	{ S("Client.Example.NET."), 1 },
	{ S("host_name.example"), 1 },
	{ S("_dmarc-x_.example"), 1 },
	{ S("localhost"), 1 },
	{ S("mike"), 1 },
	{ S("-leading.example"), 1 },
	{ S("a..b"), 1 },
	{ S("."), 1 },
	{ S("xn--bcher-kva.example"), 1 },
	{ S(" two"), 1 },
	{ S("   two"), 1 },
	/* addresses: bare (the policy judges them) and literals */
	{ S("192.0.2.1"), 1 },
	{ S("999.0.0.1"), 1 },
	{ S("2001:db8::7"), 1 },
	{ S("::1"), 1 },
	{ S("::ffff:192.0.2.1"), 1 },
	{ S("[192.0.2.1]"), 1 },
	{ S("[999.0.0.1]"), 1 },
	{ S("[IPv6:2001:db8::1]"), 1 },
	{ S("[IPv6:::1]"), 1 },
	{ S("[::1]"), 1 },
	{ S("[x-tag:abc]"), 1 },
	/* outside: space, separators, quotes, controls, 8-bit */
	{ S(""), 0 },
	{ S("   "), 0 },
	{ S("two words"), 0 },
	{ S("a\tb"), 0 },
	{ S("evil;rm"), 0 },
	{ S("a,b"), 0 },
	{ S("a(b)"), 0 },
	{ S("\"x\""), 0 },
	{ S("a'b"), 0 },
	{ S("a/b"), 0 },
	{ S("a\\b"), 0 },
	{ S("a@b"), 0 },
	{ S("a\x01b"), 0 },
	{ S("evil\x1b[31m.example"), 0 },
	{ S("a\x7f"), 0 },
	{ S("a\0b"), 0 },
	{ S("a\rb"), 0 },
	{ S("\xc3\xa9t\xc3\xa9.example"), 0 },
	{ S("b\xfc" "cher.example"), 0 },
	{ S("a:b"), 0 },
	{ S("host:25"), 0 },
	{ S("g::1"), 0 },
	{ S("[]"), 0 },
	{ S("["), 0 },
	{ S("[192.0.2.1"), 0 },
	{ S("192.0.2.1]"), 0 },
	{ S("[192.0.2.1]x"), 0 },
	{ S("x[192.0.2.1]"), 0 },
	{ S("[1.2]3]"), 0 },
	{ S("[1.2 3]"), 0 },
	{ S("[a;b]"), 0 },
	{ S("[\xc3\xa9]"), 0 },
	{ S("[x:a_b]"), 0 },
};

static void
test_helo_ok(void **state)
{
	char *copy;

	(void)state;
	for (size_t i = 0; i < NELEM(helo_cases); i++) {
		copy = malloc(helo_cases[i].len > 0 ? helo_cases[i].len : 1);
		assert_non_null(copy);
		memcpy(copy, helo_cases[i].arg, helo_cases[i].len);
		if (cmd_helo_ok(span_make(copy, helo_cases[i].len)) !=
		    helo_cases[i].ok)
			fail_msg("case %zu \"%.*s\": want %d", i,
			    (int)helo_cases[i].len, helo_cases[i].arg,
			    helo_cases[i].ok);
		free(copy);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(cmd_verb_name(CMD_UNKNOWN), "?");
	assert_string_equal(cmd_verb_name(CMD_MAIL), "MAIL");
	assert_string_equal(cmd_verb_name(CMD_STARTTLS), "STARTTLS");
	assert_string_equal(cmd_verb_name(CMD_XFORWARD), "XFORWARD");
	assert_string_equal(cmd_verb_name(CMD_VERB_COUNT), "?");
	assert_string_equal(cmd_rc_name(CMD_E_PATH), "E_PATH");
	assert_string_equal(cmd_rc_name(CMD_E_HELO), "E_HELO");
	assert_string_equal(cmd_rc_name((enum cmd_rc)99), "?");
	assert_string_equal(cmd_line_rc_name(LINE_BARE_LF), "BARE_LF");
	assert_string_equal(cmd_line_rc_name(LINE_NUL), "NUL");
	for (int v = CMD_UNKNOWN + 1; v < CMD_VERB_COUNT; v++) {
		struct smtp_cmd c;
		const char *name = cmd_verb_name((enum cmd_verb)v);
		char line[32];

		/* each verb's name, alone, is that verb */
		snprintf(line, sizeof(line), "%s", name);
		(void)cmd_parse(line, strlen(line), &c);
		assert_int_equal(c.verb, v);
	}
}

/* ---------------------------------------------------------------- */
/* The is_email suite (tests/data/address, see tests/data/README.md). */

static char *
load_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* The text between <tag> and </tag> inside [p, end), or NULL. */
static const char *
xml_elem(const char *p, const char *end, const char *tag, size_t *len)
{
	char open[64], close[64], empty[64];
	const char *a, *b, *e;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	snprintf(empty, sizeof(empty), "<%s/>", tag);
	a = strstr(p, open);
	e = strstr(p, empty);
	if (e != NULL && e < end && (a == NULL || e < a)) {
		*len = 0;
		return e;
	}
	if (a == NULL || a >= end)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	assert_non_null(b);
	assert_true(b <= end);
	*len = (size_t)(b - a);
	return a;
}

static size_t
utf8_put(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * XML text to bytes: the five named entities and numeric references;
 * U+2400..U+241F stand for the control characters 0x00..0x1F.
 */
static size_t
xml_decode(const char *p, size_t len, char *out)
{
	static const struct { const char *name; char c; } named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t i = 0, n = 0, k;

	while (i < len) {
		if (p[i] != '&') {
			out[n++] = p[i++];
			continue;
		}
		for (k = 0; k < NELEM(named); k++) {
			size_t nl = strlen(named[k].name);

			if (len - i >= nl &&
			    memcmp(p + i, named[k].name, nl) == 0) {
				out[n++] = named[k].c;
				i += nl;
				break;
			}
		}
		if (k < NELEM(named))
			continue;
		if (len - i > 2 && p[i + 1] == '#') {
			char *endp;
			unsigned long cp;

			if (p[i + 2] == 'x' || p[i + 2] == 'X')
				cp = strtoul(p + i + 3, &endp, 16);
			else
				cp = strtoul(p + i + 2, &endp, 10);
			assert_true(*endp == ';');
			i = (size_t)(endp - p) + 1;
			if (cp >= 0x2400 && cp <= 0x241F)
				out[n++] = (char)(cp - 0x2400);
			else
				n += utf8_put(out + n, cp);
			continue;
		}
		fail_msg("unknown entity at \"%.10s\"", p + i);
	}
	return n;
}

/*
 * Where cmd_parse() of "MAIL FROM:<addr>" deliberately differs from the
 * is_email category (README: VALID_CATEGORY, DNSWARN and RFC5321 must
 * parse; ERR, CFWS, DEPREC and RFC5322 must be refused):
 */
static const struct {
	const char	*file;
	int		 id;
	int		 mail_ok;	/* expected under MAIL FROM */
	int		 rcpt_ok;	/* expected under RCPT TO */
	const char	*why;
} isemail_exceptions[] = {
	/* the empty address is ISEMAIL_ERR_NODOMAIN; "<>" is the null
	 * reverse-path of RFC 5321 4.1.2, valid for MAIL only */
	{ "isemail-tests.xml", 1, 1, 0, "null reverse-path" },
	/* [1111:2222:...:8888] is ISEMAIL_RFC5322_DOMAINLITERAL, but by the
	 * RFC 5321 4.1.3 grammar it is a General-address-literal: "1111" is
	 * an Ldh-str Standardized-tag and the rest is dcontent. We follow
	 * the grammar (IANA registration of the tag is not checked). */
	{ "isemail-tests.xml", 66, 1, 1, "General-address-literal" },
	{ "isemail-tests-original.xml", 38, 1, 1, "[IPv5:...] likewise" },
	/* The original set (v3.04) still takes "::" for one group as valid
	 * RFC 5321; RFC 5321 4.1.3 allows at most 6 groups beside "::" (4
	 * with an IPv4 tail), so "::" stands for two groups or more (RFC
	 * 5952 4.2.2 also forbids it for one). v3.05 reclassified that form
	 * (tests.xml #71, ISEMAIL_DEPREC); we refuse it like v3.05 does. */
	{ "isemail-tests-original.xml", 39, 0, 0, "\"::\" for one group" },
	{ "isemail-tests-original.xml", 45, 0, 0, "\"::\" for one group" },
	{ "isemail-tests-original.xml", 230, 0, 0, "\"::\" for one group" },
	{ "isemail-tests-original.xml", 231, 0, 0, "\"::\" for one group" },
	{ "isemail-tests-original.xml", 252, 0, 0, "\"::\" for one group" },
	{ "isemail-tests-original.xml", 254, 0, 0, "\"::\" for one group" },
};

static int
elem_is(const char *p, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(p, lit, n) == 0;
}

struct isemail_count {
	int	tests, skipped, valid, refused, wrong;
};

static void
run_isemail(const char *file, struct isemail_count *cnt)
{
	char path[1024], addr[4096], line[4200];
	const char *p, *end, *a, *cat;
	size_t len, alen, clen, n;
	char *xml;
	struct smtp_cmd c;

	snprintf(path, sizeof(path), "%s/address/%s", MXS_TESTDATA, file);
	xml = load_file(path, &len);
	memset(cnt, 0, sizeof(*cnt));
	p = xml;
	while ((p = strstr(p, "<test id=\"")) != NULL) {
		int id = atoi(p + 10), valid, mail_ok, rcpt_ok;
		enum cmd_rc rc;

		end = strstr(p, "</test>");
		assert_non_null(end);
		cnt->tests++;
		a = xml_elem(p, end, "address", &alen);
		cat = xml_elem(p, end, "category", &clen);
		assert_non_null(a);
		assert_non_null(cat);
		assert_true(alen < sizeof(addr) / 4);
		n = xml_decode(a, alen, addr);
		p = end;
		if (memchr(addr, '\r', n) || memchr(addr, '\n', n) ||
		    memchr(addr, '\0', n)) {
			/* a command line cannot hold these (cmd_scan_line) */
			cnt->skipped++;
			continue;
		}

		valid = elem_is(cat, clen, "ISEMAIL_VALID_CATEGORY") ||
		    elem_is(cat, clen, "ISEMAIL_DNSWARN") ||
		    elem_is(cat, clen, "ISEMAIL_RFC5321");
		mail_ok = rcpt_ok = valid;
		for (size_t i = 0; i < NELEM(isemail_exceptions); i++) {
			if (strcmp(isemail_exceptions[i].file, file) == 0 &&
			    isemail_exceptions[i].id == id) {
				mail_ok = isemail_exceptions[i].mail_ok;
				rcpt_ok = isemail_exceptions[i].rcpt_ok;
			}
		}
		if (valid)
			cnt->valid++;
		else
			cnt->refused++;

		len = (size_t)snprintf(line, sizeof(line), "MAIL FROM:<%.*s>",
		    (int)n, addr);
		rc = cmd_parse(line, len, &c);
		if ((rc == CMD_OK) != mail_ok ||
		    (rc != CMD_OK && rc != CMD_E_PATH)) {
			print_error("%s #%d \"%.*s\" (%.*s): MAIL gives %s\n",
			    file, id, (int)n, addr, (int)clen, cat,
			    cmd_rc_name(rc));
			cnt->wrong++;
		}
		if (rc == CMD_OK && n > 0) {
			/* the path is the address as written */
			assert_int_equal(c.path.len, n);
			assert_memory_equal(c.path.p, addr, n);
			assert_int_equal(c.local.len + 1 + c.domain.len, n);
		}

		len = (size_t)snprintf(line, sizeof(line), "RCPT TO:<%.*s>",
		    (int)n, addr);
		rc = cmd_parse(line, len, &c);
		if ((rc == CMD_OK) != rcpt_ok ||
		    (rc != CMD_OK && rc != CMD_E_PATH)) {
			print_error("%s #%d \"%.*s\" (%.*s): RCPT gives %s\n",
			    file, id, (int)n, addr, (int)clen, cat,
			    cmd_rc_name(rc));
			cnt->wrong++;
		}
	}
	free(xml);
}

static void
test_isemail(void **state)
{
	struct isemail_count cnt;

	(void)state;
	/* counts from the files, so a broken reader cannot pass quietly:
	 * 164 tests, 30 of them holding CR, LF or NUL */
	run_isemail("isemail-tests.xml", &cnt);
	assert_int_equal(cnt.tests, 164);
	assert_int_equal(cnt.skipped, 30);
	assert_int_equal(cnt.valid + cnt.refused, 134);
	assert_int_equal(cnt.wrong, 0);
}

static void
test_isemail_original(void **state)
{
	struct isemail_count cnt;

	(void)state;
	run_isemail("isemail-tests-original.xml", &cnt);
	assert_int_equal(cnt.tests, 279);
	assert_int_equal(cnt.skipped, 15);
	assert_int_equal(cnt.wrong, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_whole),
		cmocka_unit_test(test_scan_bytewise),
		cmocka_unit_test(test_scan_random_splits),
		cmocka_unit_test(test_scan_contract),
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_lengths),
		cmocka_unit_test(test_parse_utf8_label),
		cmocka_unit_test(test_param_next),
		cmocka_unit_test(test_param_size),
		cmocka_unit_test(test_helo_ok),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_isemail),
		cmocka_unit_test(test_isemail_original),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
