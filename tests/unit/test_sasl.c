/*
 * tests/unit/test_sasl.c - core/sasl: strict base64 (RFC 4648 10 test
 * vectors and hostile forms), and whole AUTH exchanges for PLAIN,
 * LOGIN, XOAUTH2, OAUTHBEARER, CRAM-MD5, SCRAM and unknown mechanisms:
 * what each line means (identity, secret, cancel, bad base64,
 * malformed); the mechanism names and the EHLO AUTH list filter.
 * Lines and buffers are exactly sized heap copies. Expected values
 * are typed by hand; the CRAM-MD5 and SCRAM exchanges start from the
 * RFCs' examples (RFC 2195 2, RFC 5802 5, RFC 7677 3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/sasl.h"

#define S(s)	(s), (sizeof(s) - 1)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static char *
heap_copy(const char *p, size_t n)
{
	char *c = malloc(n > 0 ? n : 1);

	assert_non_null(c);
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

/* ---------------------------------------------------------------- */
/* base64 */

static const struct {
	const char	*in;
	int		 rc;
	const char	*out;
	size_t		 outlen;
} b64_cases[] = {
	/* RFC 4648 10 */
	{ "", 0, S("") },
	{ "Zg==", 0, S("f") },
	{ "Zm8=", 0, S("fo") },
	{ "Zm9v", 0, S("foo") },
	{ "Zm9vYg==", 0, S("foob") },
	{ "Zm9vYmE=", 0, S("fooba") },
	{ "Zm9vYmFy", 0, S("foobar") },
	{ "AAECAwQ=", 0, S("\0\1\2\3\4") },
	{ "/+/+", 0, S("\xff\xef\xfe") },
	{ "AHVzZXIAcGFzcw==", 0, S("\0user\0pass") },
	/* length not a multiple of 4: padding is required */
	{ "Zg", SASL_B64_INVALID, NULL, 0 },
	{ "Zg=", SASL_B64_INVALID, NULL, 0 },
	{ "Zm9vYg", SASL_B64_INVALID, NULL, 0 },
	{ "Z", SASL_B64_INVALID, NULL, 0 },
	/* "=" only at the end, at most two */
	{ "=", SASL_B64_INVALID, NULL, 0 },
	{ "====", SASL_B64_INVALID, NULL, 0 },
	{ "Z===", SASL_B64_INVALID, NULL, 0 },
	{ "Zg==Zg==", SASL_B64_INVALID, NULL, 0 },
	{ "Z=g=", SASL_B64_INVALID, NULL, 0 },
	{ "=Zg=", SASL_B64_INVALID, NULL, 0 },
	/* pad bits must be zero (RFC 4648 3.5) */
	{ "Zh==", SASL_B64_INVALID, NULL, 0 },
	{ "Zm9=", SASL_B64_INVALID, NULL, 0 },
	{ "Zm/=", SASL_B64_INVALID, NULL, 0 },
	/* no white space, no line breaks, no other alphabet */
	{ "Zm9v\r\n", SASL_B64_INVALID, NULL, 0 },
	{ "Zm9 v", SASL_B64_INVALID, NULL, 0 },
	{ " Zm9v", SASL_B64_INVALID, NULL, 0 },
	{ "Zm9v ", SASL_B64_INVALID, NULL, 0 },
	{ "Zm\t9v", SASL_B64_INVALID, NULL, 0 },
	{ "Zm-v", SASL_B64_INVALID, NULL, 0 },
	{ "Zm_v", SASL_B64_INVALID, NULL, 0 },
	{ "Zm9\x80", SASL_B64_INVALID, NULL, 0 },
	{ "*", SASL_B64_INVALID, NULL, 0 },
};

static void
test_b64_decode(void **state)
{
	char	out[64];
	size_t	n;

	(void)state;
	for (size_t i = 0; i < NELEM(b64_cases); i++) {
		size_t	 len = strlen(b64_cases[i].in);
		char	*in = heap_copy(b64_cases[i].in, len);

		n = 999;
		assert_int_equal(sasl_b64_decode(in, len, out, sizeof(out), &n),
		    b64_cases[i].rc);
		if (b64_cases[i].rc == 0) {
			assert_int_equal(n, b64_cases[i].outlen);
			assert_memory_equal(out, b64_cases[i].out, n);
		}
		free(in);
	}
}

static void
test_b64_decode_cap(void **state)
{
	char	*out;
	size_t	 n = 0;

	(void)state;
	out = malloc(6);
	assert_non_null(out);
	assert_int_equal(sasl_b64_decode(S("Zm9vYmFy"), out, 6, &n), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	assert_int_equal(sasl_b64_decode(S("Zm9vYmFy"), out, 5, &n),
	    SASL_B64_NOSPACE);
	assert_int_equal(sasl_b64_decode(S("Zm9vYmE="), out, 5, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(sasl_b64_decode(S("Zg=="), out, 0, &n),
	    SASL_B64_NOSPACE);
	assert_int_equal(sasl_b64_decode(S(""), out, 0, &n), 0);
	assert_int_equal(n, 0);
	/* invalid wins over no space */
	assert_int_equal(sasl_b64_decode(S("Zm9v!!!!"), out, 1, &n),
	    SASL_B64_INVALID);
	free(out);
}

static void
test_b64_encode(void **state)
{
	static const struct { const char *in; size_t len; const char *out; }
	enc[] = {
		{ S(""), "" },
		{ S("f"), "Zg==" },
		{ S("fo"), "Zm8=" },
		{ S("foo"), "Zm9v" },
		{ S("foobar"), "Zm9vYmFy" },
		{ S("\0user\0pass"), "AHVzZXIAcGFzcw==" },
		{ S("\xff\xef\xfe"), "/+/+" },
	};
	char	out[32];

	(void)state;
	for (size_t i = 0; i < NELEM(enc); i++) {
		assert_int_equal(sasl_b64_encode(enc[i].in, enc[i].len, out,
		    sizeof(out)), strlen(enc[i].out));
		assert_string_equal(out, enc[i].out);
	}
	/* room for the NUL is needed */
	assert_int_equal(sasl_b64_encode("foo", 3, out, 4), 0);
	assert_string_equal(out, "");
	assert_int_equal(sasl_b64_encode("foo", 3, out, 5), 4);
	assert_int_equal(sasl_b64_encode("f", 1, out, 0), 0);
}

/* ---------------------------------------------------------------- */
/* Exchanges */

struct step {
	const char	*line;		/* unused for the AUTH line */
	enum sasl_rc	 rc;
	int		 secret;
	int		 cancel;	/* cancel_backend */
	const char	*id;		/* identity, or NULL */
	const char	*authzid;	/* or NULL when not set */
};

#define MAXRESP	3

static const struct xcase {
	const char	*arg;		/* AUTH argument */
	enum sasl_mech	 mech;
	struct step	 start;
	struct step	 resp[MAXRESP];	/* until line == NULL */
} xcases[] = {
	/* ---- PLAIN */
	{ "PLAIN AHVzZXIAcGFzcw==", SASL_MECH_PLAIN,
	  { NULL, SASL_IDENTITY, 1, 0, "user", "" },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN YWRtaW4AdXNlckBleGFtcGxlLmNvbQBzZWNyZXQ=", SASL_MECH_PLAIN,
	  { NULL, SASL_IDENTITY, 1, 0, "user@example.com", "admin" },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "plain AGpvc8OpAHB3", SASL_MECH_PLAIN,
	  { NULL, SASL_IDENTITY, 1, 0, "jos\xc3\xa9", "" },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN", SASL_MECH_PLAIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "AHVzZXIAcGFzcw==", SASL_IDENTITY, 1, 0, "user", "" },
	    { "", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "PLAIN", SASL_MECH_PLAIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "*", SASL_CANCEL, 0, 0, NULL, NULL } } },
	{ "PLAIN", SASL_MECH_PLAIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "AHVzZXIAcGFzcw", SASL_BAD_BASE64, 1, 1, NULL, NULL } } },
	{ "PLAIN", SASL_MECH_PLAIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "AHVzZXIAcGFzcw== ", SASL_BAD_BASE64, 1, 1, NULL, NULL } } },
	{ "PLAIN", SASL_MECH_PLAIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "=", SASL_BAD_BASE64, 1, 1, NULL, NULL } } },
	{ "PLAIN", SASL_MECH_PLAIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "", SASL_MALFORMED, 1, 0, NULL, NULL } } },
	/* malformed messages: relayed, no identity */
	{ "PLAIN dXNlcgBwYXNz", SASL_MECH_PLAIN,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN dXNlcnBhc3M=", SASL_MECH_PLAIN,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN AABwYXNz", SASL_MECH_PLAIN,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN AHVzZXIA", SASL_MECH_PLAIN,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN AHVzZXIAcGEAc3M=", SASL_MECH_PLAIN,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN YQBiAGMA", SASL_MECH_PLAIN,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN =", SASL_MECH_PLAIN,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	/* bad initial responses: never relayed, nothing to cancel */
	{ "PLAIN !!!!", SASL_MECH_PLAIN,
	  { NULL, SASL_BAD_BASE64, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN *", SASL_MECH_PLAIN,
	  { NULL, SASL_BAD_BASE64, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN AHVzZXIAcGFzcw== x", SASL_MECH_PLAIN,
	  { NULL, SASL_BAD_BASE64, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN ==", SASL_MECH_PLAIN,
	  { NULL, SASL_BAD_BASE64, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },

	/* ---- LOGIN */
	{ "LOGIN", SASL_MECH_LOGIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dXNlcg==", SASL_IDENTITY, 0, 0, "user", NULL },
	    { "cGFzcw==", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "LOGIN dXNlcg==", SASL_MECH_LOGIN,
	  { NULL, SASL_IDENTITY, 0, 0, "user", NULL },
	  { { "cGFzcw==", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "login dXNlcg==", SASL_MECH_LOGIN,
	  { NULL, SASL_IDENTITY, 0, 0, "user", NULL },
	  { { "*", SASL_CANCEL, 0, 0, NULL, NULL } } },
	{ "LOGIN", SASL_MECH_LOGIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dXNlcg==", SASL_IDENTITY, 0, 0, "user", NULL },
	    { "cGFzcw", SASL_BAD_BASE64, 1, 1, NULL, NULL } } },
	{ "LOGIN", SASL_MECH_LOGIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dXNlcg", SASL_BAD_BASE64, 0, 1, NULL, NULL } } },
	{ "LOGIN", SASL_MECH_LOGIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dQB4", SASL_MALFORMED, 0, 0, NULL, NULL },
	    { "cGFzcw==", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "LOGIN", SASL_MECH_LOGIN,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "", SASL_MALFORMED, 0, 0, NULL, NULL } } },
	{ "LOGIN =", SASL_MECH_LOGIN,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },

	/* ---- XOAUTH2 */
	{ "XOAUTH2 dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5"
	  "LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ==",
	  SASL_MECH_XOAUTH2,
	  { NULL, SASL_IDENTITY, 1, 0, "someuser@example.com", NULL },
	  { { "", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "XOAUTH2", SASL_MECH_XOAUTH2,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "YXV0aD1CZWFyZXIgdG9rAXVzZXI9Ym9iQGV4YW1wbGUub3JnAQE=",
	      SASL_IDENTITY, 1, 0, "bob@example.org", NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBYXV0aD1iZWFyZXIgdG9rAQE=", SASL_MECH_XOAUTH2,
	  { NULL, SASL_IDENTITY, 1, 0, "bob", NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	/* the empty answer to an error challenge */
	{ "XOAUTH2", SASL_MECH_XOAUTH2,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBYXV0aD1CZWFyZXIgdG9rAQ==", SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBAQ==", SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBYXV0aD1CYXNpYyBkRzlyAQE=", SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBYXV0aD1CZWFyZXIgAQE=", SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBdXNlcj1ldmUBYXV0aD1CZWFyZXIgdG9rAQE=",
	  SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj0BYXV0aD1CZWFyZXIgdG9rAQE=", SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBYXV0aD1CZWFyZXIgdG9rAWhvc3Q9eAEB",
	  SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1ib2IBAWF1dGg9QmVhcmVyIHRvawEB", SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "XOAUTH2 dXNlcj1iAGIBYXV0aD1CZWFyZXIgdG9rAQE=", SASL_MECH_XOAUTH2,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },

	/* ---- OAUTHBEARER (RFC 7628 4.1 example) */
	{ "OAUTHBEARER bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbG"
	  "UuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQm"
	  "hiSFJoZG1semRHRXVZMjl0Q2c9PQEB", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_IDENTITY, 1, 0, "user@example.com", NULL },
	  { { "AQ==", SASL_RELAY, 1, 0, NULL, NULL } } },
	/* no a=: relayed, the identity stays unknown */
	{ "OAUTHBEARER biwsAWF1dGg9QmVhcmVyIHRvawEB", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_RELAY, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "eSxhPXVzZXIsAWF1dGg9QmVhcmVyIHQBAQ==", SASL_IDENTITY, 1, 0,
	      "user", NULL } } },
	{ "OAUTHBEARER bixhPXVzPTJDZXI9M0R4LAFhdXRoPUJlYXJlciB0AQE=",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_IDENTITY, 1, 0, "us,er=x", NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPT0zRCwBYXV0aD1CZWFyZXIgdAEB", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_IDENTITY, 1, 0, "=", NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "AQ==", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "OAUTHBEARER cD10bHMtdW5pcXVlLGE9dXNlciwBYXV0aD1CZWFyZXIgdAEB",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzPTJjZXIsAWF1dGg9QmVhcmVyIHQBAQ==",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzPWVyLAFhdXRoPUJlYXJlciB0AQE=",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPSwBYXV0aD1CZWFyZXIgdAEB", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzZXIsAWhvc3Q9eAEB", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzZXIsAWF1dGg9QmVhcmVyIHQB", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzZXIsYXV0aD1CZWFyZXIgdAEB", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzZXIsAXBvMXJ0PTEBYXV0aD1CZWFyZXIgdAEB",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzZXIsAWF1dGg9QmVhcmVyIHQCAQE=",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXUAc2VyLAFhdXRoPUJlYXJlciB0AQE=",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzZXIsAWF1dGg9QmVhcmVyIHQBYXV0aD1CZWFyZXIgdQEB",
	  SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "OAUTHBEARER bixhPXVzZXI9Mg==", SASL_MECH_OAUTHBEARER,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },

	/* ---- CRAM-MD5 (RFC 2195 2 example: "tim" SP digest) */
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	      SASL_IDENTITY, 1, 0, "tim", NULL },
	    { "", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "cram-md5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "VGltIFNtaXRoIEI5MTNBNjAyQzdFREE3QTQ5NUI0RTZFNzMzNEQzODkw",
	      SASL_IDENTITY, 1, 0, "Tim Smith", NULL } } },
	/* the digest follows the last SP: a name may end in one */
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dGltICBiOTEzYTYwMmM3ZWRhN2E0OTViNGU2ZTczMzRkMzg5MA==",
	      SASL_IDENTITY, 1, 0, "tim ", NULL } } },
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "*", SASL_CANCEL, 0, 0, NULL, NULL } } },
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODk", SASL_BAD_BASE64,
	      1, 1, NULL, NULL } } },
	/* malformed: short digest, no SP, not hex, NUL, no name, empty */
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODk=",
	      SASL_MALFORMED, 1, 0, NULL, NULL },
	    { "", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dGltYjkxM2E2MDJjN2VkYTdhNDk1YjRlNmU3MzM0ZDM4OTB4",
	      SASL_MALFORMED, 1, 0, NULL, NULL } } },
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODln",
	      SASL_MALFORMED, 1, 0, NULL, NULL } } },
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "dABtIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	      SASL_MALFORMED, 1, 0, NULL, NULL } } },
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "IGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	      SASL_MALFORMED, 1, 0, NULL, NULL } } },
	{ "CRAM-MD5", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "", SASL_MALFORMED, 1, 0, NULL, NULL } } },
	/* no initial response (the server speaks first): one is malformed
	 * and does not count, the answer to the challenge is still read */
	{ "CRAM-MD5 dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	  SASL_MECH_CRAM_MD5,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { "VGltIFNtaXRoIEI5MTNBNjAyQzdFREE3QTQ5NUI0RTZFNzMzNEQzODkw",
	      SASL_IDENTITY, 1, 0, "Tim Smith", NULL } } },
	{ "CRAM-MD5 =", SASL_MECH_CRAM_MD5,
	  { NULL, SASL_MALFORMED, 1, 0, NULL, NULL },
	  { { "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw",
	      SASL_IDENTITY, 1, 0, "tim", NULL } } },

	/* ---- SCRAM (RFC 5802 5 and RFC 7677 3 examples) */
	{ "SCRAM-SHA-1 biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM",
	  SASL_MECH_SCRAM_SHA_1,
	  { NULL, SASL_IDENTITY, 0, 0, "user", NULL },
	  { { "Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMM3JmY05IWUpZMVpWdl"
	      "dWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBYK0hJNFRzPQ==",
	      SASL_RELAY, 1, 0, NULL, NULL },
	    { "", SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=", SASL_IDENTITY,
	      0, 0, "user", NULL },
	    { "Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdMM3JmY05IWUpZMVpWdl"
	      "dWczdqLHA9djBYOHYzQnoyVDBDSkdiSlF5RjBYK0hJNFRzPQ==",
	      SASL_RELAY, 1, 0, NULL, NULL } } },
	{ "scram-sha-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=",
	  SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_IDENTITY, 0, 0, "user", NULL },
	  { { "*", SASL_CANCEL, 0, 0, NULL, NULL } } },
	/* escaped names; the authzid is read, never the identity */
	{ "SCRAM-SHA-256 bixhPWFkbWluPTJDeCxuPXVzPTNEZXI9MkN4LHI9YWJj",
	  SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_IDENTITY, 0, 0, "us=er,x", "admin,x" },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-1 eSwsbj11c2VyLHI9YWJjLGU9ZXh0", SASL_MECH_SCRAM_SHA_1,
	  { NULL, SASL_IDENTITY, 0, 0, "user", NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256-PLUS cD10bHMtdW5pcXVlLCxuPXVzZXIscj1hYmM=",
	  SASL_MECH_SCRAM_SHA_256_PLUS,
	  { NULL, SASL_IDENTITY, 0, 0, "user", NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-1-PLUS", SASL_MECH_SCRAM_SHA_1_PLUS,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "cD10bHMtc2VydmVyLWVuZC1wb2ludCxhPWJvYixuPWFsaWNlLHI9eA==",
	      SASL_IDENTITY, 0, 0, "alice", "bob" } } },
	{ "SCRAM-SHA-256", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_RELAY, 0, 0, NULL, NULL },
	  { { "biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8", SASL_BAD_BASE64,
	      0, 1, NULL, NULL } } },
	/* malformed: m=, no nonce, empty n=, bad escapes, empty or cut r=,
	 * bad flag, one comma, empty cb-name, bad extension, r= before
	 * n=, NUL, empty a=, DEL in the nonce, empty */
	{ "SCRAM-SHA-256 biwsbT14LG49dXNlcixyPWFiYw==", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11c2Vy", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj0scj1hYmM=", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11PTJjeCxyPWFiYw==", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11PXgscj1hYmM=", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11c2VyLHI9", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11c2VyLHI9YSw=", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 eCwsbj11c2VyLHI9YWJj", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 bixuPXVzZXIscj1hYmM=", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256-PLUS cD0sLG49dXNlcixyPWFiYw==",
	  SASL_MECH_SCRAM_SHA_256_PLUS,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11c2VyLHI9YWJjLDE9eA==", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11c2VyLHI9YWJjLGU9", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwscj1hYmMsbj11c2Vy", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11cwBlcixyPWFiYw==", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 bixhPSxuPXVzZXIscj1hYmM=", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 biwsbj11c2VyLHI9YWJ/Yw==", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256 =", SASL_MECH_SCRAM_SHA_256,
	  { NULL, SASL_MALFORMED, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },

	/* ---- mechanisms we cannot read: relayed, every line secret */
	{ "DIGEST-MD5", SASL_MECH_UNKNOWN,
	  { NULL, SASL_UNKNOWN_MECH, 0, 0, NULL, NULL },
	  { { "dXNlciBkZWFkYmVlZg==", SASL_RELAY, 1, 0, NULL, NULL },
	    { "*", SASL_CANCEL, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-512 biwsbj11c2VyLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM",
	  SASL_MECH_UNKNOWN,
	  { NULL, SASL_UNKNOWN_MECH, 1, 0, NULL, NULL },
	  { { "dXNlcg", SASL_BAD_BASE64, 1, 1, NULL, NULL } } },
	{ "CRAM-MD5X", SASL_MECH_UNKNOWN,
	  { NULL, SASL_UNKNOWN_MECH, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "SCRAM-SHA-256-", SASL_MECH_UNKNOWN,
	  { NULL, SASL_UNKNOWN_MECH, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "GSSAPI !", SASL_MECH_UNKNOWN,
	  { NULL, SASL_BAD_BASE64, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "ABCDEFGHIJKLMNOPQRST", SASL_MECH_UNKNOWN,
	  { NULL, SASL_UNKNOWN_MECH, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAINX AHVzZXIAcGFzcw==", SASL_MECH_UNKNOWN,
	  { NULL, SASL_UNKNOWN_MECH, 1, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },

	/* ---- the AUTH argument itself */
	{ "", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ " PLAIN", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN ", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN  AHVzZXIAcGFzcw==", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN\tAHVzZXIAcGFzcw==", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PL@IN", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "ABCDEFGHIJKLMNOPQRSTU", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
	{ "PLAIN=", SASL_MECH_UNKNOWN,
	  { NULL, SASL_SYNTAX, 0, 0, NULL, NULL },
	  { { NULL, 0, 0, 0, NULL, NULL } } },
};

static void
check_step(const struct step *want, enum sasl_rc rc,
    const struct sasl_result *res, const char *buf, size_t cap)
{
	assert_int_equal(rc, want->rc);
	assert_int_equal(res->rc, want->rc);
	assert_int_equal(res->secret, want->secret);
	assert_int_equal(res->cancel_backend, want->cancel);
	if (want->id != NULL) {
		assert_true(res->identity.p >= buf);
		assert_true(res->identity.p + res->identity.len <= buf + cap);
		assert_int_equal(res->identity.len, strlen(want->id));
		assert_memory_equal(res->identity.p, want->id,
		    res->identity.len);
	} else
		assert_int_equal(res->identity.len, 0);
	if (want->authzid != NULL) {
		assert_non_null(res->authzid.p);
		assert_int_equal(res->authzid.len, strlen(want->authzid));
		assert_memory_equal(res->authzid.p, want->authzid,
		    res->authzid.len);
	} else
		assert_null(res->authzid.p);
}

static void
test_exchanges(void **state)
{
	struct sasl_state	st;
	struct sasl_result	res;
	enum sasl_rc		rc;
	const size_t		cap = 512;
	char			*buf = malloc(cap);

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < NELEM(xcases); i++) {
		const struct xcase	*c = &xcases[i];
		size_t			 alen = strlen(c->arg);
		char			*arg = heap_copy(c->arg, alen);

		rc = sasl_start(&st, arg, alen, buf, cap, &res);
		check_step(&c->start, rc, &res, buf, cap);
		if (rc != SASL_SYNTAX) {
			assert_int_equal(st.mech, c->mech);
			assert_true(res.mech.p == arg);
			assert_true(res.mech.len >= 1 && res.mech.len <= alen);
		}
		free(arg);
		for (int k = 0; k < MAXRESP && c->resp[k].line != NULL; k++) {
			size_t	 llen = strlen(c->resp[k].line);
			char	*line = heap_copy(c->resp[k].line, llen);

			rc = sasl_response(&st, line, llen, buf, cap, &res);
			check_step(&c->resp[k], rc, &res, buf, cap);
			free(line);
		}
	}
	free(buf);
}

/* The decode buffer is the caller's: too small is SASL_NOSPACE. */
static void
test_nospace(void **state)
{
	struct sasl_state	st;
	struct sasl_result	res;
	char			*buf = malloc(10);

	(void)state;
	assert_non_null(buf);
	/* "\0user\0pass" is 10 bytes: fits exactly */
	assert_int_equal(sasl_start(&st, S("PLAIN AHVzZXIAcGFzcw=="), buf, 10,
	    &res), SASL_IDENTITY);
	assert_int_equal(sasl_start(&st, S("PLAIN AHVzZXIAcGFzcw=="), buf, 9,
	    &res), SASL_NOSPACE);
	assert_int_equal(res.cancel_backend, 0);
	assert_int_equal(res.secret, 1);
	assert_int_equal(sasl_start(&st, S("PLAIN"), buf, 0, &res), SASL_RELAY);
	assert_int_equal(sasl_response(&st, S("AHVzZXIAcGFzcw=="), buf, 9,
	    &res), SASL_NOSPACE);
	assert_int_equal(res.cancel_backend, 1);
	/* an empty response needs no room */
	assert_int_equal(sasl_start(&st, S("LOGIN"), buf, 0, &res), SASL_RELAY);
	assert_int_equal(sasl_response(&st, S(""), buf, 0, &res),
	    SASL_MALFORMED);
	free(buf);
}

/*
 * The identity is the exact bytes the client sent (8-bit kept, escapes
 * undone, nothing around it), decoded into the caller's buffer, which
 * is exactly sized: the decoded message fits with no byte to spare.
 */
static void
test_exact(void **state)
{
	static const struct {
		const char	*arg, *resp;
		size_t		 declen;	/* decoded bytes */
		const char	*id;
		size_t		 idlen;
		const char	*authzid;
	} ex[] = {
		{ "SCRAM-SHA-256 biwsbj1qb3PDqSxyPWFiYw==", NULL, 16,
		  S("jos\xc3\xa9"), NULL },
		{ "SCRAM-SHA-1 bixhPWpvc8OpPTNELG49PTJDPTNELHI9YWJj", NULL, 27,
		  S(",="), "jos\xc3\xa9=" },
		{ "CRAM-MD5", "am9zw6kgMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		  38, S("jos\xc3\xa9"), NULL },
	};
	struct sasl_state	st;
	struct sasl_result	res;

	(void)state;
	for (size_t i = 0; i < NELEM(ex); i++) {
		size_t		 alen = strlen(ex[i].arg), cap = ex[i].declen;
		size_t		 llen = ex[i].resp != NULL ? strlen(ex[i].resp) : 0;
		char		*arg = heap_copy(ex[i].arg, alen);
		char		*line = heap_copy(ex[i].resp, llen);
		char		*buf = malloc(cap);
		enum sasl_rc	 rc;

		assert_non_null(buf);
		/* one byte less is no room */
		rc = sasl_start(&st, arg, alen, buf, cap - 1, &res);
		if (ex[i].resp != NULL) {
			assert_int_equal(rc, SASL_RELAY);
			rc = sasl_response(&st, line, llen, buf, cap - 1, &res);
		}
		assert_int_equal(rc, SASL_NOSPACE);

		rc = sasl_start(&st, arg, alen, buf, cap, &res);
		if (ex[i].resp != NULL) {
			assert_int_equal(rc, SASL_RELAY);
			rc = sasl_response(&st, line, llen, buf, cap, &res);
		}
		assert_int_equal(rc, SASL_IDENTITY);
		assert_int_equal(res.identity.len, ex[i].idlen);
		assert_memory_equal(res.identity.p, ex[i].id, ex[i].idlen);
		assert_true(res.identity.p >= buf &&
		    res.identity.p + res.identity.len <= buf + cap);
		if (ex[i].authzid != NULL) {
			assert_int_equal(res.authzid.len,
			    strlen(ex[i].authzid));
			assert_memory_equal(res.authzid.p, ex[i].authzid,
			    res.authzid.len);
		} else
			assert_null(res.authzid.p);
		free(buf);
		free(line);
		free(arg);
	}
}

static void
test_mech_lookup(void **state)
{
	static const struct { const char *name; enum sasl_mech m; } mc[] = {
		{ "PLAIN", SASL_MECH_PLAIN },
		{ "login", SASL_MECH_LOGIN },
		{ "XOAUTH2", SASL_MECH_XOAUTH2 },
		{ "OAuthBearer", SASL_MECH_OAUTHBEARER },
		{ "CRAM-MD5", SASL_MECH_CRAM_MD5 },
		{ "cram-md5", SASL_MECH_CRAM_MD5 },
		{ "SCRAM-SHA-1", SASL_MECH_SCRAM_SHA_1 },
		{ "SCRAM-SHA-1-PLUS", SASL_MECH_SCRAM_SHA_1_PLUS },
		{ "Scram-Sha-256", SASL_MECH_SCRAM_SHA_256 },
		{ "SCRAM-SHA-256-PLUS", SASL_MECH_SCRAM_SHA_256_PLUS },
		{ "SCRAM-SHA-512", SASL_MECH_UNKNOWN },
		{ "SCRAM-SHA-25", SASL_MECH_UNKNOWN },
		{ "DIGEST-MD5", SASL_MECH_UNKNOWN },
		{ "GSSAPI", SASL_MECH_UNKNOWN },
		{ "NTLM", SASL_MECH_UNKNOWN },
		{ "PLAINX", SASL_MECH_UNKNOWN },
		{ "PLAI", SASL_MECH_UNKNOWN },
		{ "UNKNOWN", SASL_MECH_UNKNOWN },
		{ "", SASL_MECH_UNKNOWN },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(mc); i++) {
		size_t	 len = strlen(mc[i].name);
		char	*n = heap_copy(mc[i].name, len);

		assert_int_equal(sasl_mech_lookup(n, len), mc[i].m);
		assert_int_equal(sasl_mech_known(n, len),
		    mc[i].m != SASL_MECH_UNKNOWN);
		free(n);
	}
	/* the length decides, not a NUL */
	assert_int_equal(sasl_mech_lookup("PLAIN LOGIN", 5), SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_lookup("CRAM-MD5", 4), SASL_MECH_UNKNOWN);
}

static void
test_mech_filter(void **state)
{
	static const struct { const char *in, *out; } fc[] = {
		{ "PLAIN LOGIN", "PLAIN LOGIN" },
		{ "PLAIN LOGIN CRAM-MD5 DIGEST-MD5 GSSAPI NTLM",
		  "PLAIN LOGIN CRAM-MD5" },
		{ "GSSAPI SCRAM-SHA-256-PLUS SCRAM-SHA-256 DIGEST-MD5 XOAUTH2",
		  "SCRAM-SHA-256-PLUS SCRAM-SHA-256 XOAUTH2" },
		{ "login  plain\tcram-md5 ", "login plain cram-md5" },
		{ " DIGEST-MD5 PLAIN", "PLAIN" },
		{ "DIGEST-MD5 GSSAPI", "" },
		{ "", "" },
		{ "   ", "" },
		{ "PLAIN,LOGIN", "" },
		{ "PLAIN\x01", "" },
	};
	char out[128];

	(void)state;
	for (size_t i = 0; i < NELEM(fc); i++) {
		size_t	 len = strlen(fc[i].in);
		char	*in = heap_copy(fc[i].in, len);
		char	*o = malloc(len > 0 ? len : 1);
		size_t	 n;

		assert_non_null(o);
		n = sasl_mech_filter(in, len, o, len);
		assert_int_equal(n, strlen(fc[i].out));
		assert_memory_equal(o, fc[i].out, n);
		free(o);
		free(in);
	}
	/* less room than the input: fail closed */
	assert_int_equal(sasl_mech_filter(S("PLAIN GSSAPI"), out, 11), 0);
	assert_int_equal(sasl_mech_filter(S("PLAIN GSSAPI"), out, 12), 5);
	assert_memory_equal(out, "PLAIN", 5);
}

static void
test_wipe(void **state)
{
	char	buf[32];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	sasl_wipe(buf + 1, 30);
	assert_int_equal(buf[0], 'x');
	for (size_t i = 1; i < 31; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[31], 'x');
	sasl_wipe(buf, 0);
	assert_int_equal(buf[0], 'x');
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(sasl_mech_name(SASL_MECH_PLAIN), "PLAIN");
	assert_string_equal(sasl_mech_name(SASL_MECH_OAUTHBEARER),
	    "OAUTHBEARER");
	assert_string_equal(sasl_mech_name(SASL_MECH_UNKNOWN), "UNKNOWN");
	assert_string_equal(sasl_mech_name(SASL_MECH_CRAM_MD5), "CRAM-MD5");
	assert_string_equal(sasl_mech_name(SASL_MECH_SCRAM_SHA_256_PLUS),
	    "SCRAM-SHA-256-PLUS");
	assert_string_equal(sasl_mech_name((enum sasl_mech)99), "?");
	assert_string_equal(sasl_rc_name(SASL_BAD_BASE64), "BAD_BASE64");
	assert_string_equal(sasl_rc_name(SASL_IDENTITY), "IDENTITY");
	assert_string_equal(sasl_rc_name(SASL_NOSPACE), "NOSPACE");
	assert_string_equal(sasl_rc_name((enum sasl_rc)99), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_decode),
		cmocka_unit_test(test_b64_decode_cap),
		cmocka_unit_test(test_b64_encode),
		cmocka_unit_test(test_exchanges),
		cmocka_unit_test(test_nospace),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_mech_lookup),
		cmocka_unit_test(test_mech_filter),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
