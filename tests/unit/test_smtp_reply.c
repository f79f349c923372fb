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

static const char *const mechs_id[] = { "PLAIN", "LOGIN", "XOAUTH2",
	"OAUTHBEARER", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256", NULL };
static const char *const mechs_plain[] = { "plain", NULL };
static const char *const mechs_none[] = { NULL };

#define ALLOWED		CAP_ALLOWED
#define NO_AUTH		(CAP_ALLOWED & ~CAP_AUTH)

static const struct ehlo_case {
	const char		*in;
	unsigned		 keep;
	const char *const	*add;
	const char *const	*mechs;
	const char		*out;	/* NULL: the call must fail */
	unsigned		 seen;
	const char		*removed;
} ehlo_cases[] = {
	/* the proxy's usual filter: an allowlist */
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
	  NO_AUTH, add_starttls, NULL,
	  "250-mx.example.com Hello client [192.0.2.1]\r\n"
	  "250-PIPELINING\r\n"
	  "250-SIZE 10240000\r\n"
	  "250-ENHANCEDSTATUSCODES\r\n"
	  "250-8BITMIME\r\n"
	  "250 STARTTLS\r\n",
	  CAP_STARTTLS | CAP_CHUNKING | CAP_BINARYMIME | CAP_XCLIENT |
	  CAP_XFORWARD | CAP_AUTH | CAP_PIPELINING | CAP_SIZE |
	  CAP_ENHANCEDSTATUSCODES | CAP_8BITMIME | CAP_OTHER,
	  "STARTTLS AUTH AUTH CHUNKING BINARYMIME XCLIENT XCLIENTX XFORWARD" },
	/* everything a client may see passes, byte for byte */
	{ "250-mx\r\n250-PIPELINING\r\n250-SIZE 100\r\n250-8BITMIME\r\n"
	  "250-SMTPUTF8\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
	  "250 AUTH PLAIN LOGIN GSSAPI\r\n", ALLOWED, NULL, NULL,
	  "250-mx\r\n250-PIPELINING\r\n250-SIZE 100\r\n250-8BITMIME\r\n"
	  "250-SMTPUTF8\r\n250-DSN\r\n250-ENHANCEDSTATUSCODES\r\n"
	  "250 AUTH PLAIN LOGIN GSSAPI\r\n", CAP_ALLOWED, "" },
	/* what real backends offer beyond it goes (Exim, Postfix,
	 * Exchange, OpenSMTPD, aiosmtpd) */
	{ "250-exim.example Hello x [192.0.2.9]\r\n250-SIZE 52428800\r\n"
	  "250-LIMITS MAILMAX=1000 RCPTMAX=50000\r\n250-8BITMIME\r\n"
	  "250-PIPELINING\r\n250-PIPECONNECT\r\n250-PRDR\r\n"
	  "250-ETRN\r\n250-BURL imap\r\n250-CHUNKING\r\n250-VRFY\r\n"
	  "250-XEXCH50\r\n250-X-EXPS GSSAPI NTLM\r\n250-DELIVERBY 300\r\n"
	  "250-MT-PRIORITY MIXER\r\n250-REQUIRETLS\r\n250-NO-SOLICITING\r\n"
	  "250-FUTURERELEASE 604800 2012-01-01T00:00:00Z\r\n"
	  "250-XRCPTFORWARD\r\n250 HELP\r\n", ALLOWED, add_starttls, NULL,
	  "250-exim.example Hello x [192.0.2.9]\r\n250-SIZE 52428800\r\n"
	  "250-8BITMIME\r\n250-PIPELINING\r\n250 STARTTLS\r\n",
	  CAP_SIZE | CAP_8BITMIME | CAP_PIPELINING | CAP_PRDR | CAP_CHUNKING |
	  CAP_OTHER,
	  "LIMITS PIPECONNECT PRDR ETRN BURL CHUNKING VRFY XEXCH50 X-EXPS "
	  "DELIVERBY MT-PRIORITY REQUIRETLS NO-SOLICITING FUTURERELEASE "
	  "XRCPTFORWARD HELP" },
	/* keep cannot widen the allowlist */
	{ "250-mx\r\n250-PRDR\r\n250-STARTTLS\r\n250-XCLIENT A\r\n"
	  "250 SIZE 1\r\n", 0xffffu, NULL, NULL, "250-mx\r\n250 SIZE 1\r\n",
	  CAP_PRDR | CAP_STARTTLS | CAP_XCLIENT | CAP_SIZE,
	  "PRDR STARTTLS XCLIENT" },
	/* keep narrows it */
	{ "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", CAP_SIZE, NULL, NULL,
	  "250-mx\r\n250 SIZE 100\r\n", CAP_PIPELINING | CAP_SIZE,
	  "PIPELINING" },
	{ "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n", ALLOWED, add_none,
	  NULL, "250-mx\r\n250-PIPELINING\r\n250 SIZE 100\r\n",
	  CAP_PIPELINING | CAP_SIZE, "" },
	{ "250 mx\r\n", ALLOWED, NULL, NULL, "250 mx\r\n", 0, "" },
	{ "250 mx\r\n", 0, NULL, NULL, "250 mx\r\n", 0, "" },
	{ "250-mx\r\n250 SIZE\r\n", NO_AUTH, NULL, NULL,
	  "250-mx\r\n250 SIZE\r\n", CAP_SIZE, "" },
	/* the removed line was the last one */
	{ "250-mx\r\n250-SIZE 1\r\n250 CHUNKING\r\n", ALLOWED, NULL, NULL,
	  "250-mx\r\n250 SIZE 1\r\n", CAP_SIZE | CAP_CHUNKING, "CHUNKING" },
	{ "250-mx\r\n250 CHUNKING\r\n", ALLOWED, NULL, NULL, "250 mx\r\n",
	  CAP_CHUNKING, "CHUNKING" },
	{ "250-mx\r\n250-STARTTLS\r\n250-AUTH LOGIN\r\n250 XCLIENT ADDR\r\n",
	  NO_AUTH, NULL, NULL, "250 mx\r\n",
	  CAP_STARTTLS | CAP_AUTH | CAP_XCLIENT, "STARTTLS AUTH XCLIENT" },
	/* a removed line in the middle */
	{ "250-mx\r\n250-XFORWARD NAME\r\n250 DSN\r\n", ALLOWED, NULL, NULL,
	  "250-mx\r\n250 DSN\r\n", CAP_XFORWARD | CAP_DSN, "XFORWARD" },
	/* seen is reported whether removed or not */
	{ "250-mx\r\n250-STARTTLS\r\n250 BINARYMIME\r\n", ALLOWED, NULL, NULL,
	  "250 mx\r\n", CAP_STARTTLS | CAP_BINARYMIME,
	  "STARTTLS BINARYMIME" },
	/* additions go last */
	{ "250 mx\r\n", ALLOWED, add_starttls, NULL,
	  "250-mx\r\n250 STARTTLS\r\n", 0, "" },
	{ "250-mx\r\n250 SIZE 5\r\n", ALLOWED, add_two, NULL,
	  "250-mx\r\n250-SIZE 5\r\n250-STARTTLS\r\n250 X-EXTRA 1\r\n",
	  CAP_SIZE, "" },
	/* the backend's own STARTTLS never shows, mxshield's does */
	{ "250-mx\r\n250 STARTTLS\r\n", ALLOWED, add_starttls, NULL,
	  "250-mx\r\n250 STARTTLS\r\n", CAP_STARTTLS, "STARTTLS" },
	/* keywords: case, the first word only, AUTH= */
	{ "250-mx\r\n250-starttls\r\n250-Auth=login\r\n250 auth plain\r\n",
	  NO_AUTH, NULL, NULL, "250 mx\r\n",
	  CAP_STARTTLS | CAP_AUTH, "starttls Auth auth" },
	{ "250-mx\r\n250-pipelining\r\n250-Auth=login\r\n250 auth plain\r\n",
	  ALLOWED, NULL, NULL,
	  "250-mx\r\n250-pipelining\r\n250-Auth=login\r\n250 auth plain\r\n",
	  CAP_PIPELINING | CAP_AUTH, "" },
	{ "250-mx\r\n250-AUTH\r\n250-AUTHX\r\n250-XAUTH\r\n250 X AUTH\r\n",
	  NO_AUTH, NULL, NULL, "250 mx\r\n", CAP_AUTH | CAP_OTHER,
	  "AUTH AUTHX XAUTH X" },
	{ "250-mx\r\n250-XCLIENTX\r\n250-XCLIENT-2\r\n250 XCLIENT\r\n",
	  ALLOWED, NULL, NULL, "250 mx\r\n", CAP_XCLIENT | CAP_OTHER,
	  "XCLIENTX XCLIENT-2 XCLIENT" },
	{ "250-mx\r\n250-PIPELINING\r\n250 CHUNKINGS\r\n", ALLOWED, NULL, NULL,
	  "250-mx\r\n250 PIPELINING\r\n", CAP_PIPELINING | CAP_OTHER,
	  "CHUNKINGS" },
	{ "250-mx\r\n250-SIZES 1\r\n250-DSNX\r\n250 PIPELINING-X\r\n",
	  ALLOWED, NULL, NULL, "250 mx\r\n", CAP_OTHER,
	  "SIZES DSNX PIPELINING-X" },
	{ "250-mx\r\n250-AUTH\tPLAIN\r\n250 DSN\r\n", NO_AUTH, NULL, NULL,
	  "250-mx\r\n250 DSN\r\n", CAP_AUTH | CAP_DSN, "AUTH" },
	/* a line that is no keyword at all */
	{ "250-mx\r\n250-=x\r\n250 DSN\r\n", ALLOWED, NULL, NULL,
	  "250-mx\r\n250 DSN\r\n", CAP_OTHER | CAP_DSN, "?" },
	/* the greeting line is never a capability */
	{ "250-STARTTLS\r\n250 SIZE\r\n", ALLOWED, NULL, NULL,
	  "250-STARTTLS\r\n250 SIZE\r\n", CAP_SIZE, "" },
	{ "250-PRDR\r\n250 SIZE\r\n", ALLOWED, NULL, NULL,
	  "250-PRDR\r\n250 SIZE\r\n", CAP_SIZE, "" },
	/* empty texts: the last line always keeps its space; empty
	 * capability lines are dropped, and not reported */
	{ "250\r\n", ALLOWED, NULL, NULL, "250 \r\n", 0, "" },
	{ "250 \r\n", ALLOWED, NULL, NULL, "250 \r\n", 0, "" },
	{ "250-mx\r\n250-\r\n250\r\n", ALLOWED, NULL, NULL, "250 mx\r\n", 0,
	  "" },
	{ "250-mx\r\n250-XCLIENT A\r\n250 \r\n", ALLOWED, NULL, NULL,
	  "250 mx\r\n", CAP_XCLIENT, "XCLIENT" },
	{ "250-mx\r\n250-SIZE\r\n250 \r\n", ALLOWED, NULL, NULL,
	  "250-mx\r\n250 SIZE\r\n", CAP_SIZE, "" },
	{ "250-mx\r\n250\r\n", ALLOWED, add_starttls, NULL,
	  "250-mx\r\n250 STARTTLS\r\n", 0, "" },
	/* AUTH mechanisms restricted to a list, in the order offered */
	{ "250-mx\r\n250-AUTH GSSAPI PLAIN NTLM LOGIN CRAM-MD5 DIGEST-MD5\r\n"
	  "250 DSN\r\n", ALLOWED, NULL, mechs_id,
	  "250-mx\r\n250-AUTH PLAIN LOGIN CRAM-MD5\r\n250 DSN\r\n",
	  CAP_AUTH | CAP_DSN, "AUTH:GSSAPI AUTH:NTLM AUTH:DIGEST-MD5" },
	{ "250-mx\r\n250-AUTH=LOGIN  PLAIN\r\n250 AUTH scram-sha-256 "
	  "SCRAM-SHA-256-PLUS OAUTHBEARER XOAUTH2 SCRAM-SHA-1\r\n",
	  ALLOWED, NULL, mechs_id,
	  "250-mx\r\n250-AUTH=LOGIN PLAIN\r\n"
	  "250 AUTH scram-sha-256 OAUTHBEARER XOAUTH2 SCRAM-SHA-1\r\n",
	  CAP_AUTH, "AUTH:SCRAM-SHA-256-PLUS" },
	{ "250-mx\r\n250-AUTH PLAIN LOGIN\r\n250 SIZE 9\r\n", ALLOWED, NULL,
	  mechs_plain, "250-mx\r\n250-AUTH PLAIN\r\n250 SIZE 9\r\n",
	  CAP_AUTH | CAP_SIZE, "AUTH:LOGIN" },
	/* none left: the AUTH line goes entirely */
	{ "250-mx\r\n250-AUTH GSSAPI NTLM\r\n250 SIZE 9\r\n", ALLOWED, NULL,
	  mechs_id, "250-mx\r\n250 SIZE 9\r\n", CAP_AUTH | CAP_SIZE,
	  "AUTH:GSSAPI AUTH:NTLM" },
	{ "250-mx\r\n250-SIZE 9\r\n250 AUTH GSSAPI\r\n", ALLOWED, add_starttls,
	  mechs_id, "250-mx\r\n250-SIZE 9\r\n250 STARTTLS\r\n",
	  CAP_AUTH | CAP_SIZE, "AUTH:GSSAPI" },
	{ "250-mx\r\n250-AUTH\r\n250-AUTH \r\n250 SIZE 9\r\n", ALLOWED, NULL,
	  mechs_id, "250-mx\r\n250 SIZE 9\r\n", CAP_AUTH | CAP_SIZE,
	  "AUTH AUTH" },
	{ "250-mx\r\n250 AUTH PLAIN\r\n", ALLOWED, NULL, mechs_none,
	  "250 mx\r\n", CAP_AUTH, "AUTH:PLAIN" },
	/* the list does not bring AUTH back where keep removes it */
	{ "250-mx\r\n250 AUTH PLAIN\r\n", NO_AUTH, NULL, mechs_id,
	  "250 mx\r\n", CAP_AUTH, "AUTH" },
	/* not a well-formed 250 reply */
	{ "", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "550 no\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n550 no\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n251 x\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "220-mx\r\n220 x\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250 mx", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250 mx\r", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250 mx\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\n250 X\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n250-X\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n250 X\r\n250 Y\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250 mx\r\n250 X\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n250 X\r\nextra", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n250 X\r\n\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n250 X\ry\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n250 X\x01\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n250X\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-mx\r\n\r\n250 X\r\n", ALLOWED, NULL, NULL, NULL, 0, "" },
	{ "250-PRDR\r\n250-PRDR\r\n250 X\ry\r\n", ALLOWED, NULL, NULL, NULL,
	  0, "" },
	/* bad additions */
	{ "250 mx\r\n", ALLOWED, add_bad_crlf, NULL, NULL, 0, "" },
	{ "250 mx\r\n", ALLOWED, add_bad_empty, NULL, NULL, 0, "" },
};

static void
check_ehlo(size_t i, const struct ehlo_case *t)
{
	struct ehlo_opts o = { t->keep, t->add, t->mechs };
	struct ehlo_result res;
	char *in, *out;
	size_t len, want, n;

	len = strlen(t->in);
	in = malloc(len > 0 ? len : 1);
	out = malloc(1024);
	assert_non_null(in);
	assert_non_null(out);
	memcpy(in, t->in, len);
	memset(&res, 0x55, sizeof(res));
	n = reply_ehlo_filter(in, len, &o, out, 1024, &res);
	if (t->out == NULL) {
		if (n != 0)
			fail_msg("case %zu: %zu bytes \"%.*s\", want 0",
			    i, n, (int)n, out);
		assert_int_equal(res.seen, 0);
		assert_int_equal(res.nremoved, 0);
		assert_string_equal(res.removed, "");
	} else {
		want = strlen(t->out);
		if (n != want || memcmp(out, t->out, n) != 0)
			fail_msg("case %zu: \"%.*s\", want \"%s\"", i,
			    (int)n, out, t->out);
		if (res.seen != t->seen)
			fail_msg("case %zu: seen %#x, want %#x", i,
			    res.seen, t->seen);
		if (strcmp(res.removed, t->removed) != 0)
			fail_msg("case %zu: removed \"%s\", want \"%s\"",
			    i, res.removed, t->removed);

		/* exactly enough room works, one byte less does not:
		 * the caller never gets a partial reply to relay */
		free(out);
		out = malloc(want);
		assert_non_null(out);
		n = reply_ehlo_filter(in, len, &o, out, want, NULL);
		assert_int_equal(n, want);
		assert_memory_equal(out, t->out, want);
		n = reply_ehlo_filter(in, len, &o, out, want - 1, &res);
		assert_int_equal(n, 0);
		assert_int_equal(res.seen, 0);
		assert_int_equal(res.nremoved, 0);
		assert_string_equal(res.removed, "");
	}
	free(in);
	free(out);
}

static void
test_ehlo_filter(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(ehlo_cases); i++)
		check_ehlo(i, &ehlo_cases[i]);
}

/* The removed list stays bounded; every name is still counted. */
static void
test_ehlo_removed_bounded(void **state)
{
	struct ehlo_opts o = { CAP_ALLOWED, NULL, NULL };
	struct ehlo_result res;
	char in[8192], out[8192];
	size_t len = 0, n;

	(void)state;
	len += (size_t)snprintf(in + len, sizeof(in) - len, "250-mx\r\n");
	for (int i = 0; i < 100; i++)
		len += (size_t)snprintf(in + len, sizeof(in) - len,
		    "250-X-INVENTED-%03d\r\n", i);
	len += (size_t)snprintf(in + len, sizeof(in) - len, "250 SIZE 1\r\n");
	n = reply_ehlo_filter(in, len, &o, out, sizeof(out), &res);
	assert_int_equal(n, strlen("250-mx\r\n250 SIZE 1\r\n"));
	assert_memory_equal(out, "250-mx\r\n250 SIZE 1\r\n", n);
	assert_int_equal(res.nremoved, 100);
	assert_true(strlen(res.removed) < sizeof(res.removed));
	assert_true(strlen(res.removed) > sizeof(res.removed) - 20);
	assert_memory_equal(res.removed, "X-INVENTED-000 X-INVENTED-001 ", 30);
	assert_string_equal(res.removed + strlen(res.removed) - 4, " ...");

	/* one name longer than the room: only the marker */
	len = (size_t)snprintf(in, sizeof(in), "250-mx\r\n250-");
	memset(in + len, 'K', 400);
	len += 400;
	len += (size_t)snprintf(in + len, sizeof(in) - len, "\r\n250 DSN\r\n");
	n = reply_ehlo_filter(in, len, &o, out, sizeof(out), &res);
	assert_int_equal(n, strlen("250-mx\r\n250 DSN\r\n"));
	assert_int_equal(res.nremoved, 1);
	assert_string_equal(res.removed, "...");

	/* bytes outside a keyword are masked in the report */
	len = (size_t)snprintf(in, sizeof(in),
	    "250-mx\r\n250-AUTH PL\xc3\xa9IN x;y\r\n250 DSN\r\n");
	o.mechs = mechs_id;
	n = reply_ehlo_filter(in, len, &o, out, sizeof(out), &res);
	assert_int_equal(n, strlen("250-mx\r\n250 DSN\r\n"));
	assert_string_equal(res.removed, "AUTH:PL??IN AUTH:x?y");
}

/* reply_queue_id: the forms real servers use */
static const struct qid_case {
	const char	*in;
	const char	*id;	/* "" for none */
} qid_cases[] = {
	/* Postfix */
	{ "250 2.0.0 Ok: queued as 4Xyz12AbC", "4Xyz12AbC" },
	{ "250 2.0.0 Ok: queued as 4Xyz12AbC\r\n", "4Xyz12AbC" },
	{ "250 2.0.0 Ok: queued as 4Xyz12AbC (with trailing text)",
	  "4Xyz12AbC" },
	{ "250 2.0.0 Ok: queued as 4Xyz12AbC.", "4Xyz12AbC" },
	{ "250 2.0.0 OK: QUEUED AS ZZ9", "ZZ9" },
	{ "250 2.0.0 Ok: queued as <abc@x.example>", "<abc@x.example>" },
	/* Exim */
	{ "250 OK id=1tXyzA-000abc-Ab", "1tXyzA-000abc-Ab" },
	{ "250 OK (id=1tXyzA-000abc-Ab)", "1tXyzA-000abc-Ab" },
	{ "250 OK Xid=5", "" },
	/* Sendmail */
	{ "250 2.0.0 4B6Jk1Xx012345 Message accepted for delivery",
	  "4B6Jk1Xx012345" },
	{ "250 4B6Jk1Xx012345 Message accepted for delivery",
	  "4B6Jk1Xx012345" },
	/* Exchange: the InternalId, never the <msgid> nor Exim's id= */
	{ "250 2.6.0 <msgid@host> [InternalId=123, Hostname=x] Queued mail "
	  "for delivery", "123" },
	{ "250 2.6.0 <DM6PR11MB1234@DM6PR11MB1234.namprd11.prod.outlook.com> "
	  "[InternalId=90623809437953, Hostname=DM6PR11MB1234.namprd11.prod."
	  "outlook.com] 10234 bytes in 0.051, 195.639 KB/sec Queued mail for "
	  "delivery", "90623809437953" },
	/* OpenSMTPD, with and without the colon of older releases */
	{ "250 2.0.0 4e1b2c3d Message accepted for delivery", "4e1b2c3d" },
	{ "250 2.0.0: 4e1b2c3d Message accepted for delivery", "4e1b2c3d" },
	/* aiosmtpd: none by default, or the handler's id */
	{ "250 Message accepted for delivery", "" },
	{ "250 OK", "" },
	{ "250 2.0.0 Message accepted for delivery", "" },
	{ "250 Message accepted for delivery as AIO000015", "AIO000015" },
	/* MDaemon: the id it gave the message */
	{ "250 2.6.0 Ok, message saved <Message-ID: 5fa1b2@mail.example.com>",
	  "5fa1b2@mail.example.com" },
	/* Google */
	{ "250 2.0.0 OK  1700000000 d9443c01a7336-1e2si1234.789 - gsmtp",
	  "d9443c01a7336-1e2si1234.789" },
	/* multi-line: the first line that has one */
	{ "250-mx.example says\r\n250 2.0.0 Ok: queued as QQQ1\r\n", "QQQ1" },
	{ "250-queued as FIRST\r\n250 queued as SECOND", "FIRST" },
	/* only id bytes, at most 64 */
	{ "250 2.0.0 Ok: queued as AB;rm -rf /", "AB" },
	{ "250 2.0.0 Ok: queued as A+b=c_d.e-f@g<h>", "A+b=c_d.e-f@g<h>" },
	{ "250 2.0.0 Ok: queued as \xc3\xa9t\xc3\xa9", "" },
	{ "250 2.0.0 Ok: queued as ", "" },
	{ "250 2.0.0 Ok: queued as  X", "" },
	{ "250 2.0.0 Ok: queued as "
	  "0123456789012345678901234567890123456789012345678901234567890123456789",
	  "0123456789012345678901234567890123456789012345678901234567890123" },
	{ "250 x;y Message accepted for delivery", "" },
	/* not a reply line */
	{ "", "" },
	{ "queued as X", "" },
	{ "250 queued as X\x01", "" },
};

static void
test_queue_id(void **state)
{
	struct span id;
	char *in;
	size_t len;

	(void)state;
	for (size_t i = 0; i < NELEM(qid_cases); i++) {
		const struct qid_case *t = &qid_cases[i];

		len = strlen(t->in);
		in = malloc(len > 0 ? len : 1);
		assert_non_null(in);
		memcpy(in, t->in, len);
		id = reply_queue_id(in, len);
		if (id.len != strlen(t->id) ||
		    (id.len > 0 && memcmp(id.p, t->id, id.len) != 0))
			fail_msg("case %zu \"%s\": \"%.*s\", want \"%s\"", i,
			    t->in, (int)id.len, id.len ? id.p : "", t->id);
		assert_true(id.len <= REPLY_QID_MAX);
		if (id.len > 0)
			assert_true(id.p >= in && id.p + id.len <= in + len);
		free(in);
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

static void
test_ehlo_size(void **state)
{
	static const struct { const char *in; int64_t size; } cases[] = {
		{ "250-mx.example\r\n250-SIZE 10240000\r\n250 8BITMIME\r\n",
		    10240000 },
		{ "250-mx.example\r\n250 size 52428800\r\n", 52428800 },
		{ "250-mx.example\r\n250 SIZE\r\n", 0 },
		{ "250-mx.example\r\n250 SIZE 0\r\n", 0 },
		{ "250-mx.example\r\n250 SIZE 12x\r\n", 0 },
		{ "250-mx.example\r\n250 SIZE 99999999999999999999999\r\n",
		    0 },
		{ "250-mx.example\r\n250 SIZEX 100\r\n", -1 },
		{ "250-mx.example\r\n250 8BITMIME\r\n", -1 },
		{ "250 SIZE 100\r\n", -1 },	/* the greeting line */
		{ "250-mx.example\r\n250-SIZE 100", -1 },	/* no CRLF */
		{ "", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t got = reply_ehlo_size(cases[i].in,
		    strlen(cases[i].in));

		if (got != cases[i].size)
			print_error("cases[%zu]: %lld\n", i, (long long)got);
		assert_int_equal(got, cases[i].size);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_ehlo_filter),
		cmocka_unit_test(test_ehlo_removed_bounded),
		cmocka_unit_test(test_queue_id),
		cmocka_unit_test(test_ehlo_size),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
