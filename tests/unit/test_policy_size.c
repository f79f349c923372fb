/*
 * tests/unit/test_policy_size.c - size_limits: the limit that applies
 * (identity, envelope sender only when authenticated or trusted,
 * recipients; the smallest max among entries that do not exempt), SIZE=
 * at MAIL and the counted size after the final dot, and the address
 * patterns they share with auth.aliases. Expected values typed by hand.
 */
#include "policy_fixture.h"

static char *boss_except[] = { "boss@example.com", "@partner.example.net" };
static char *none_except[] = { "ceo@example.com" };
static char *id_except[] = { "jdoe@example.org" };

/* Entry 0: 2000000 except the boss and partner.example.net; entry 1:
 * 5000000 except ceo@example.com; entry 2: 1000 except jdoe (by a local
 * address). */
static void
size_cfg(struct fixture *f, struct policy_size_limit *e, size_t n)
{
	e[0] = (struct policy_size_limit){ 2000000, boss_except,
	    N(boss_except) };
	e[1] = (struct policy_size_limit){ 5000000, none_except,
	    N(none_except) };
	e[2] = (struct policy_size_limit){ 1000, id_except, N(id_except) };
	f->cfg.size.entries = e;
	f->cfg.size.nentries = n;
}

static void
test_mailbox_matches(void **state)
{
	static const struct {
		const char	*pattern, *local, *domain;
		bool		 match;
	} cases[] = {
		{ "boss@example.com", "boss", "example.com", true },
		{ "boss@example.com", "BOSS", "Example.COM", true },
		{ "boss@example.com", "\"boss\"", "example.com", true },
		{ "boss@example.com", "boss", "example.com.", true },
		{ "boss@example.com", "boss2", "example.com", false },
		{ "boss@example.com", "boss", "sub.example.com", false },
		{ "boss@example.com", "", "example.com", false },
		{ "boss@example.com", "boss", "", false },
		{ "@partner.example.net", "anyone", "partner.example.net", true },
		{ "@partner.example.net", "x", "PARTNER.example.net", true },
		{ "@partner.example.net", "x", "a.partner.example.net", false },
		{ "@partner.example.net", "x", "example.net", false },
		{ "@partner.example.net", "", "partner.example.net", false },
		{ "no-at-sign", "no-at-sign", "example.com", false },
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		bool m = policy_mailbox_matches(cases[i].pattern,
		    span_make(cases[i].local, strlen(cases[i].local)),
		    span_make(cases[i].domain, strlen(cases[i].domain)));

		if (m != cases[i].match)
			print_error("cases[%zu]\n", i);
		assert_int_equal(m, cases[i].match);
	}
	assert_false(policy_mailbox_matches(NULL, span_make("a", 1),
	    span_make("b.c", 3)));
}

/* 192.0.2.7: untrusted; 198.51.100.7: trusted_networks. */
static void
test_limit_table(void **state)
{
	static char *to_boss[] = { "someone@example.org", "boss@example.com" };
	static char *to_partner[] = { "x@partner.example.net" };
	static char *to_plain[] = { "someone@example.org", "postmaster" };
	static const struct {
		size_t		 nentries;
		const char	*ip, *auth, *sender;
		char *const	*rcpts;
		size_t		 nrcpts;
		uint64_t	 limit;
		size_t		 which;
	} cases[] = {
		/* one entry: the seed's "2 MB except a select few" */
		{ 1, "192.0.2.7", NULL, "a@example.net", NULL, 0, 2000000, 0 },
		{ 1, "192.0.2.7", NULL, "", NULL, 0, 2000000, 0 },
		{ 1, "192.0.2.7", NULL, NULL, NULL, 0, 2000000, 0 },
		/* a forged envelope alone never exempts */
		{ 1, "192.0.2.7", NULL, "boss@example.com", NULL, 0, 2000000, 0 },
		{ 1, "192.0.2.7", NULL, "x@partner.example.net", NULL, 0,
		    2000000, 0 },
		/* ... from a trusted client it does */
		{ 1, "198.51.100.7", NULL, "boss@example.com", NULL, 0, 0, 0 },
		{ 1, "198.51.100.7", NULL, "x@partner.example.net", NULL, 0,
		    0, 0 },
		{ 1, "198.51.100.7", NULL, "a@example.net", NULL, 0, 2000000,
		    0 },
		/* trusted without a sender (EHLO) is not exempt */
		{ 1, "198.51.100.7", NULL, NULL, NULL, 0, 2000000, 0 },
		/* the authenticated identity exempts, whatever the sender */
		{ 1, "192.0.2.7", "boss@example.com", NULL, NULL, 0, 0, 0 },
		{ 1, "192.0.2.7", "BOSS@example.com", "a@example.net", NULL, 0,
		    0, 0 },
		{ 1, "192.0.2.7", "y@partner.example.net", NULL, NULL, 0, 0,
		    0 },
		/* authenticated as someone else: the envelope sender counts */
		{ 1, "192.0.2.7", "alice@example.com", "boss@example.com",
		    NULL, 0, 0, 0 },
		{ 1, "192.0.2.7", "alice@example.com", "alice@example.com",
		    NULL, 0, 2000000, 0 },
		/* identity without "@": that user at every local domain */
		{ 1, "192.0.2.7", "boss", NULL, NULL, 0, 0, 0 },
		{ 1, "192.0.2.7", "boss2", NULL, NULL, 0, 2000000, 0 },
		/* a recipient exempts (recipients are not a privilege) */
		{ 1, "192.0.2.7", NULL, "a@example.net", to_boss, 2, 0, 0 },
		{ 1, "192.0.2.7", NULL, "a@example.net", to_partner, 1, 0, 0 },
		{ 1, "192.0.2.7", NULL, "a@example.net", to_plain, 2, 2000000,
		    0 },
		/* several entries: the smallest max that does not exempt */
		{ 2, "192.0.2.7", NULL, "a@example.net", NULL, 0, 2000000, 0 },
		{ 2, "192.0.2.7", "boss@example.com", NULL, NULL, 0, 5000000,
		    1 },
		{ 2, "192.0.2.7", "ceo@example.com", NULL, NULL, 0, 2000000, 0 },
		{ 2, "192.0.2.7", "ceo@example.com", NULL, to_boss, 2, 0, 0 },
		{ 3, "192.0.2.7", NULL, NULL, NULL, 0, 1000, 2 },
		{ 3, "192.0.2.7", "jdoe", NULL, NULL, 0, 2000000, 0 },
		{ 3, "192.0.2.7", "jdoe@example.org", NULL, NULL, 0, 2000000,
		    0 },
		{ 3, "192.0.2.7", "jdoe@example.net", NULL, NULL, 0, 1000, 2 },
		/* no entries: no limit */
		{ 0, "192.0.2.7", NULL, "a@example.net", NULL, 0, 0, 0 },
	};
	struct fixture f;
	struct policy_size_limit e[3];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct policy_client cl;
		size_t which = 99;
		uint64_t got;

		fixture_init(&f);
		size_cfg(&f, e, cases[i].nentries);
		cl = client(&f.cfg, cases[i].ip, cases[i].auth);
		got = policy_size_limit(&f.cfg, &cl, cases[i].sender,
		    cases[i].rcpts, cases[i].nrcpts, &which);
		if (got != cases[i].limit || (got != 0 &&
		    which != cases[i].which))
			print_error("cases[%zu]: got %llu from %zu\n", i,
			    (unsigned long long)got, which);
		assert_int_equal(got, cases[i].limit);
		if (got != 0)
			assert_int_equal(which, cases[i].which);
		else
			assert_int_equal(which, 99);
	}
}

static void
test_size_mail(void **state)
{
	static const struct {
		const char	*ip, *auth, *line;
		enum policy_action action;
		const char	*reason;
	} cases[] = {
		{ "192.0.2.7", NULL, "MAIL FROM:<a@example.net> SIZE=2000000",
		    P, "" },
		{ "192.0.2.7", NULL, "MAIL FROM:<a@example.net> SIZE=2000001",
		    R, "SIZE=2000001 of sender <a@example.net> over "
		    "size_limits[0].max (2000000 octets)" },
		{ "192.0.2.7", NULL, "MAIL FROM:<> SIZE=3000000", R,
		    "SIZE=3000000 of sender <> over size_limits[0].max "
		    "(2000000 octets)" },
		{ "192.0.2.7", NULL, "MAIL FROM:<boss@example.com> "
		    "SIZE=3000000", R, NULL },
		{ "198.51.100.7", NULL, "MAIL FROM:<boss@example.com> "
		    "SIZE=3000000", P, "" },
		{ "198.51.100.7", NULL, "MAIL FROM:<a@example.net> "
		    "SIZE=3000000", R, NULL },
		{ "192.0.2.7", "boss@example.com", "MAIL FROM:<a@example.net> "
		    "SIZE=3000000", P, "" },
		{ "192.0.2.7", NULL, "MAIL FROM:<a@example.net>", P, "" },
		{ "192.0.2.7", NULL, "MAIL FROM:<a@example.net> SIZE=x", P,
		    "" },
		{ "192.0.2.7", NULL, "MAIL FROM:<a@example.net> BODY=8BITMIME "
		    "SIZE=99999999999", R, NULL },
	};
	struct fixture f;
	struct policy_size_limit e[3];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct policy_client cl;
		struct policy_verdict v;
		struct smtp_cmd c;

		fixture_init(&f);
		size_cfg(&f, e, 1);
		cl = client(&f.cfg, cases[i].ip, cases[i].auth);
		c = cmd(cases[i].line);
		assert_int_equal(policy_size_mail(&f.cfg, &cl, &c, &v),
		    cases[i].action);
		if (cases[i].action == R) {
			expect("size_mail", i, &v, R, 552, "5.3.4",
			    "552 5.3.4 Message size exceeds fixed limit",
			    cases[i].reason);
			assert_int_equal(v.check, POLICY_CK_SIZE);
			assert_int_equal(v.at, POLICY_AT_MAIL);
		} else {
			expect("size_mail", i, &v, P, 0, "", "",
			    cases[i].reason);
		}
	}
	/* no entries: never */
	{
		struct policy_client cl;
		struct policy_verdict v;
		struct smtp_cmd c = cmd("MAIL FROM:<a@example.net> SIZE=9");

		fixture_init(&f);
		cl = client(&f.cfg, "192.0.2.7", NULL);
		assert_int_equal(policy_size_mail(&f.cfg, &cl, &c, &v), P);
	}
}

static void
test_size_data(void **state)
{
	static char *to_boss[] = { "boss@example.com" };
	static char *to_other[] = { "someone@example.org" };
	struct fixture f;
	struct policy_size_limit e[3];
	struct policy_client cl;
	struct policy_verdict v;

	(void)state;
	fixture_init(&f);
	size_cfg(&f, e, 2);
	cl = client(&f.cfg, "192.0.2.7", NULL);
	assert_int_equal(policy_size_data(&f.cfg, &cl, "a@example.net",
	    to_other, 1, 2000000, &v), P);
	assert_int_equal(policy_size_data(&f.cfg, &cl, "a@example.net",
	    to_other, 1, 2000001, &v), R);
	expect("size_data", 0, &v, R, 552, "5.3.4",
	    "552 5.3.4 Message size exceeds fixed limit",
	    "message of 2000001 octets or more over size_limits[0].max "
	    "(2000000 octets)");
	assert_int_equal(v.check, POLICY_CK_SIZE);
	assert_int_equal(v.at, POLICY_AT_DATA);
	/* to the boss: entry 0 exempts, entry 1 still limits */
	assert_int_equal(policy_size_data(&f.cfg, &cl, "a@example.net",
	    to_boss, 1, 4000000, &v), P);
	assert_int_equal(policy_size_data(&f.cfg, &cl, "a@example.net",
	    to_boss, 1, 5000001, &v), R);
	expect("size_data", 1, &v, R, 552, "5.3.4",
	    "552 5.3.4 Message size exceeds fixed limit",
	    "message of 5000001 octets or more over size_limits[1].max "
	    "(5000000 octets)");
	/* a forged boss envelope from an untrusted client: limited */
	assert_int_equal(policy_size_data(&f.cfg, &cl, "boss@example.com",
	    to_other, 1, 2000001, &v), R);
	assert_string_equal(policy_check_name(POLICY_CK_SIZE), "size");
	assert_string_equal(policy_stage_name(POLICY_AT_DATA), "data");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailbox_matches),
		cmocka_unit_test(test_limit_table),
		cmocka_unit_test(test_size_mail),
		cmocka_unit_test(test_size_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
