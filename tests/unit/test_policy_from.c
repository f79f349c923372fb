/*
 * tests/unit/test_policy_from.c - core/policy_from.c: IP Shield and the
 * authenticated identity on the From: header of a held header section,
 * display-name tricks (plain and RFC 2047 encoded), several From
 * fields, groups, unreadable fields, exemptions, and the skip set.
 * Expected texts are written by hand.
 */
#include "tests/unit/policy_fixture.h"

#define SH	1u	/* ip_shield.enabled + check_from_header */
#define AM	2u	/* auth.match_from_header */

#define AT_D	POLICY_AT_DATA

static const struct {
	const char	*sec;		/* header section, CRLF, empty line */
	const char	*ip;
	const char	*auth;		/* NULL: not authenticated */
	unsigned	 on;
	enum policy_action action;
	int		 code;
	const char	*text;
	enum policy_check check;
} cases[] = {
	/* IP Shield: a local domain from outside its networks */
	{ "From: ceo@example.com\r\nSubject: x\r\n\r\n", "192.0.2.1", NULL,
	  SH, R, 550, "550 5.7.1 Sorry, ceo@example.com <FROM header> not "
	  "allowed to send mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	/* inside its networks */
	{ "From: ceo@example.com\r\n\r\n", "192.168.0.7", NULL, SH, P, 0, "",
	  POLICY_CK_NONE },
	/* a domain without an entry */
	{ "From: eve@example.net\r\n\r\n", "192.0.2.1", NULL, SH, P, 0, "",
	  POLICY_CK_NONE },
	/* the check off: only the envelope is shielded */
	{ "From: ceo@example.com\r\n\r\n", "192.0.2.1", NULL, 0, P, 0, "",
	  POLICY_CK_NONE },
	/* authenticated: exempt from IP Shield on the header */
	{ "From: ceo@example.com\r\n\r\n", "192.0.2.1", "bob@example.com", SH,
	  P, 0, "", POLICY_CK_NONE },
	/* trusted_networks: exempt from both */
	{ "From: ceo@example.com\r\n\r\n", "198.51.100.9", NULL, SH | AM, P, 0,
	  "", POLICY_CK_NONE },
	{ "From: ceo@example.com\r\n\r\n", "198.51.100.9", "bob@example.com",
	  SH | AM, P, 0, "", POLICY_CK_NONE },
	/* display-name tricks: judged by the real address */
	{ "From: \"ceo@example.com\" <eve@example.net>\r\n\r\n", "192.0.2.1",
	  NULL, SH, P, 0, "", POLICY_CK_NONE },
	{ "From: eve <ceo@example.com>\r\n\r\n", "192.0.2.1", NULL, SH, R, 550,
	  "550 5.7.1 Sorry, ceo@example.com <FROM header> not allowed to send "
	  "mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	{ "From: =?utf-8?q?ceo=40example.com?= <eve@example.net>\r\n\r\n",
	  "192.0.2.1", NULL, SH, P, 0, "", POLICY_CK_NONE },
	{ "From: =?utf-8?q?ceo=40example.com?= <eve@example.net>\r\n\r\n",
	  "192.0.2.1", "eve@example.net", AM, P, 0, "", POLICY_CK_NONE },
	{ "From: =?utf-8?q?eve=40example.net?= <ceo@example.com>\r\n\r\n",
	  "192.0.2.1", "eve@example.net", AM, R, 550, "550 5.7.1 Sorry, "
	  "ceo@example.com <FROM header> not owned by the authenticated user",
	  POLICY_CK_AUTH },
	/* a comment, folding, a source route: the real address */
	{ "From: (x) eve@example.net (ceo@example.com)\r\n\r\n", "192.0.2.1",
	  NULL, SH, P, 0, "", POLICY_CK_NONE },
	{ "From: Boss\r\n <ceo@EXAMPLE.com>\r\n\r\n", "192.0.2.1", NULL, SH,
	  R, 550, "550 5.7.1 Sorry, ceo@EXAMPLE.com <FROM header> not allowed "
	  "to send mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	/* a trailing dot is no dot-atom: unreadable, so it fails */
	{ "From: <ceo@example.com.>\r\n\r\n", "192.0.2.1", NULL, SH, R, 550,
	  "550 5.7.1 Sorry, <FROM header> cannot be checked: From field "
	  "cannot be parsed", POLICY_CK_IP_SHIELD },
	{ "From: <@relay.example.net:ceo@example.com>\r\n\r\n", "192.0.2.1",
	  NULL, SH, R, 550, "550 5.7.1 Sorry, ceo@example.com <FROM header> "
	  "not allowed to send mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	/* every address of a list counts, the second one too */
	{ "From: eve@example.net, ceo@example.com\r\n\r\n", "192.0.2.1", NULL,
	  SH, R, 550, "550 5.7.1 Sorry, ceo@example.com <FROM header> not "
	  "allowed to send mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	/* a group's members count; an empty group holds no address */
	{ "From: team: eve@example.net, ceo@example.com;\r\n\r\n", "192.0.2.1",
	  NULL, SH, R, 550, "550 5.7.1 Sorry, ceo@example.com <FROM header> "
	  "not allowed to send mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	{ "From: undisclosed:;\r\n\r\n", "192.0.2.1", NULL, SH, R, 550,
	  "550 5.7.1 Sorry, <FROM header> cannot be checked: From field holds "
	  "no address", POLICY_CK_IP_SHIELD },
	/* two From fields: fail, even when each alone would pass */
	{ "From: eve@example.net\r\nFrom: eve@example.net\r\n\r\n",
	  "192.0.2.1", NULL, SH, R, 550, "550 5.7.1 Sorry, <FROM header> "
	  "cannot be checked: more than one From field", POLICY_CK_IP_SHIELD },
	{ "From: bob@example.com\r\nfrom: ceo@example.com\r\n\r\n",
	  "192.0.2.1", "bob@example.com", AM, R, 550, "550 5.7.1 Sorry, "
	  "<FROM header> cannot be checked: more than one From field",
	  POLICY_CK_AUTH },
	/* unparsable */
	{ "From: <ceo@example.com\r\n\r\n", "192.0.2.1", NULL, SH, R, 550,
	  "550 5.7.1 Sorry, <FROM header> cannot be checked: From field "
	  "cannot be parsed", POLICY_CK_IP_SHIELD },
	{ "From: a@b@c\r\n\r\n", "192.0.2.1", "bob@example.com", AM, R, 550,
	  "550 5.7.1 Sorry, <FROM header> cannot be checked: From field "
	  "cannot be parsed", POLICY_CK_AUTH },
	/* no From: not an IP Shield violation, but the identity check fails */
	{ "Subject: x\r\n\r\n", "192.0.2.1", NULL, SH, P, 0, "",
	  POLICY_CK_NONE },
	{ "Subject: x\r\n\r\n", "192.0.2.1", "bob@example.com", AM, R, 550,
	  "550 5.7.1 Sorry, <FROM header> cannot be checked: no From field",
	  POLICY_CK_AUTH },
	/* auth.match_from_header: the identity, its local part, aliases */
	{ "From: Bob <BOB@example.com>\r\n\r\n", "192.0.2.1", "bob@example.com",
	  AM, P, 0, "", POLICY_CK_NONE },
	{ "From: ceo@example.com\r\n\r\n", "192.0.2.1", "bob@example.com", AM,
	  R, 550, "550 5.7.1 Sorry, ceo@example.com <FROM header> not owned by "
	  "the authenticated user", POLICY_CK_AUTH },
	{ "From: \"bob@example.com\" <ceo@example.com>\r\n\r\n", "192.0.2.1",
	  "bob@example.com", AM, R, 550, "550 5.7.1 Sorry, ceo@example.com "
	  "<FROM header> not owned by the authenticated user", POLICY_CK_AUTH },
	{ "From: sales@example.com\r\n\r\n", "192.0.2.1", "alice@example.com",
	  AM, P, 0, "", POLICY_CK_NONE },
	{ "From: anyone@example.net\r\n\r\n", "192.0.2.1", "alice@example.com",
	  AM, P, 0, "", POLICY_CK_NONE },
	{ "From: anyone@sub.example.net\r\n\r\n", "192.0.2.1",
	  "alice@example.com", AM, R, 550, "550 5.7.1 Sorry, "
	  "anyone@sub.example.net <FROM header> not owned by the authenticated "
	  "user", POLICY_CK_AUTH },
	{ "From: jdoe@example.org\r\n\r\n", "192.0.2.1", "jdoe", AM, P, 0, "",
	  POLICY_CK_NONE },
	{ "From: john.doe@example.org\r\n\r\n", "192.0.2.1", "jdoe", AM, P, 0,
	  "", POLICY_CK_NONE },
	{ "From: jdoe@example.net\r\n\r\n", "192.0.2.1", "jdoe", AM, R, 550,
	  "550 5.7.1 Sorry, jdoe@example.net <FROM header> not owned by the "
	  "authenticated user", POLICY_CK_AUTH },
	/* a Sender: field does not excuse a foreign From: */
	{ "Sender: bob@example.com\r\nFrom: ceo@example.com\r\n\r\n",
	  "192.0.2.1", "bob@example.com", AM, R, 550, "550 5.7.1 Sorry, "
	  "ceo@example.com <FROM header> not owned by the authenticated user",
	  POLICY_CK_AUTH },
	/* several addresses: every one must be owned */
	{ "From: bob@example.com, ceo@example.com\r\n\r\n", "192.0.2.1",
	  "bob@example.com", AM, R, 550, "550 5.7.1 Sorry, ceo@example.com "
	  "<FROM header> not owned by the authenticated user", POLICY_CK_AUTH },
	/* not authenticated: match_from_header does not apply */
	{ "From: ceo@example.com\r\n\r\n", "192.0.2.1", NULL, AM, P, 0, "",
	  POLICY_CK_NONE },
	/* both on, unauthenticated from outside: IP Shield speaks */
	{ "From: ceo@example.com\r\n\r\n", "192.0.2.1", NULL, SH | AM, R, 550,
	  "550 5.7.1 Sorry, ceo@example.com <FROM header> not allowed to send "
	  "mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	/* a domain-literal: restricted only where an entry names it */
	{ "From: x@[192.0.2.99]\r\n\r\n", "192.0.2.1", NULL, SH, R, 550,
	  "550 5.7.1 Sorry, x@[192.0.2.99] <FROM header> not allowed to send "
	  "mail from 192.0.2.1", POLICY_CK_IP_SHIELD },
	/* a From: found after dot-stuffing and folding of other fields */
	{ "Subject: a\r\n b\r\nFrom: c@example.org\r\n\r\n", "203.0.113.5",
	  NULL, SH, P, 0, "", POLICY_CK_NONE },
};

static struct policy_cfg
cfg_for(struct fixture *f, unsigned on)
{
	struct policy_cfg c = f->cfg;

	c.ip_shield.enabled = (on & SH) != 0;
	c.ip_shield.check_from_header = (on & SH) != 0;
	c.auth.match_from_header = (on & AM) != 0;
	return c;
}

static void
test_from_table(void **state)
{
	struct fixture f;

	(void)state;
	fixture_init(&f);
	for (size_t i = 0; i < N(cases); i++) {
		struct policy_cfg c = cfg_for(&f, cases[i].on);
		struct policy_client cl = client(&c, cases[i].ip,
		    cases[i].auth);
		struct policy_verdict v;

		policy_from_header(&c, &cl, cases[i].sec,
		    strlen(cases[i].sec), &v);
		expect("from", i, &v, cases[i].action, cases[i].code,
		    cases[i].code ? "5.7.1" : "", cases[i].text, NULL);
		assert_int_equal(v.check, cases[i].check);
		if (v.action == R)
			assert_int_equal(v.at, AT_D);
	}
}

/* The reasons name the address and why, or what made it unreadable. */
static void
test_from_reasons(void **state)
{
	struct fixture f;
	struct policy_cfg c;
	struct policy_client cl;
	struct policy_verdict v;
	const char *s1 = "From: ceo@example.com\r\n\r\n";
	const char *s2 = "From: a@example.net\r\nFrom: b@example.net\r\n\r\n";

	(void)state;
	fixture_init(&f);
	c = cfg_for(&f, SH | AM);
	cl = client(&c, "192.0.2.1", NULL);
	policy_from_header(&c, &cl, s1, strlen(s1), &v);
	assert_string_equal(v.reason, "From address ceo@example.com: domain "
	    "is shielded and client 192.0.2.1 is in none of its networks");
	policy_from_header(&c, &cl, s2, strlen(s2), &v);
	assert_string_equal(v.reason, "more than one From field "
	    "(ip_shield.check_from_header needs exactly one From field with "
	    "an address)");
	cl = client(&c, "192.0.2.1", "bob@example.com");
	policy_from_header(&c, &cl, s1, strlen(s1), &v);
	assert_string_equal(v.reason, "identity bob@example.com may not send "
	    "as From address ceo@example.com");
	cl = client(&c, "198.51.100.9", NULL);
	policy_from_header(&c, &cl, s1, strlen(s1), &v);
	assert_string_equal(v.reason, "client in trusted_networks");
}

/* A check in skip is passed over; the other one still speaks. */
static void
test_from_skip(void **state)
{
	struct fixture f;
	struct policy_cfg c;
	struct policy_client cl;
	struct policy_verdict v;
	const char *s = "From: ceo@example.com\r\n\r\n";

	(void)state;
	fixture_init(&f);
	c = cfg_for(&f, SH | AM);
	cl = client(&c, "192.0.2.1", NULL);
	assert_int_equal(policy_from_header_skip(&c, &cl, s, strlen(s),
	    POLICY_CK_BIT(POLICY_CK_IP_SHIELD), &v), P);
	cl = client(&c, "192.0.2.1", "bob@example.com");
	assert_int_equal(policy_from_header_skip(&c, &cl, s, strlen(s),
	    POLICY_CK_BIT(POLICY_CK_IP_SHIELD), &v), R);
	assert_int_equal(v.check, POLICY_CK_AUTH);
	assert_int_equal(policy_from_header_skip(&c, &cl, s, strlen(s),
	    POLICY_CK_BIT(POLICY_CK_AUTH), &v), P);
}

/* Every prefix of a section: never a crash; a pass only where the
 * prefix holds bob's address and nothing else (the later "x@..." is not
 * bob's, and a cut address or comment is unreadable). */
static void
test_from_prefixes(void **state)
{
	struct fixture f;
	struct policy_cfg c;
	struct policy_client cl;
	struct policy_verdict v;
	const char *s = "From: \"Bob\" <bob@example.com>, (c) x@example.net\r\n"
	    "\r\n";

	(void)state;
	fixture_init(&f);
	c = cfg_for(&f, AM);
	cl = client(&c, "192.0.2.1", "bob@example.com");
	size_t lo = strlen("From: \"Bob\" <bob@example.com>");
	size_t hi = (size_t)(strstr(s, "x@") - s);

	for (size_t n = 0; n <= strlen(s); n++) {
		policy_from_header(&c, &cl, s, n, &v);
		if (n >= lo && n <= hi && v.action == P)
			continue;
		if (v.action != R)
			print_error("prefix %zu passed\n", n);
		assert_int_equal(v.action, R);
		assert_int_equal(v.check, POLICY_CK_AUTH);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_table),
		cmocka_unit_test(test_from_reasons),
		cmocka_unit_test(test_from_skip),
		cmocka_unit_test(test_from_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
