/*
 * tests/unit/test_policy_relay.c - core/policy_mail.c: relay protection
 * at RCPT (policy_rcpt() step 3, Postfix's reject_unauth_destination
 * with allow_untrusted_routing = no), its place among the RCPT checks,
 * and policy_mail_skip() / policy_rcpt_skip(), which let the proxy give
 * every control its own mode. Expected values are typed by hand.
 */
#include "policy_fixture.h"

#define RELAY_REASON_END \
	"; client neither authenticated nor in trusted_networks"

static const struct {
	const char		*ip;
	const char		*auth;
	const char		*rcpt;
	enum policy_action	 action;
	const char		*text;		/* R only */
	const char		*reason;	/* NULL: not compared */
} relay_cases[] = {
	/* local domains, any case (cmd_parse() refuses a trailing dot) */
	{ "192.0.2.7", NULL, "RCPT TO:<bob@example.com>", P, NULL, "" },
	{ "192.0.2.7", NULL, "RCPT TO:<Bob@EXAMPLE.Com>", P, NULL, "" },
	{ "192.0.2.7", NULL, "RCPT TO:<bob@example.org>", P, NULL, "" },
	{ "192.0.2.7", NULL, "RCPT TO:<bob@b\303\274cher.example>", P, NULL,
	  "" },
	{ "192.0.2.7", NULL, "RCPT TO:<\"bob smith\"@example.com>", P, NULL,
	  "" },
	/* anything else is a relay attempt */
	{ "192.0.2.7", NULL, "RCPT TO:<victim@example.net>", R,
	  "554 5.7.1 <victim@example.net>: Relay access denied",
	  "recipient domain example.net is not in local_domains"
	  RELAY_REASON_END },
	{ "192.0.2.7", NULL, "RCPT TO:<victim@sub.example.com>", R,
	  "554 5.7.1 <victim@sub.example.com>: Relay access denied",
	  "recipient domain sub.example.com is not in local_domains"
	  RELAY_REASON_END },
	{ "192.0.2.7", NULL, "RCPT TO:<victim@example.com.net>", R,
	  "554 5.7.1 <victim@example.com.net>: Relay access denied", NULL },
	{ "192.0.2.7", NULL, "RCPT TO:<victim@xexample.com>", R,
	  "554 5.7.1 <victim@xexample.com>: Relay access denied", NULL },
	/* postmaster: <postmaster> always (RFC 5321 4.5.1), elsewhere not */
	{ "192.0.2.7", NULL, "RCPT TO:<postmaster>", P, NULL, "" },
	{ "192.0.2.7", NULL, "RCPT TO:<PostMaster>", P, NULL, "" },
	{ "192.0.2.7", NULL, "RCPT TO:<postmaster@example.com>", P, NULL,
	  "" },
	{ "192.0.2.7", NULL, "RCPT TO:<postmaster@example.net>", R,
	  "554 5.7.1 <postmaster@example.net>: Relay access denied",
	  "recipient domain example.net is not in local_domains"
	  RELAY_REASON_END },
	/* sender-specified routing through a local domain: never local */
	{ "192.0.2.7", NULL, "RCPT TO:<victim%example.net@example.com>", R,
	  "554 5.7.1 <victim%example.net@example.com>: Relay access denied",
	  "recipient victim%example.net@example.com has \"%\", \"!\" or "
	  "\"@\" in its local part" RELAY_REASON_END },
	{ "192.0.2.7", NULL, "RCPT TO:<example.net!victim@example.com>", R,
	  "554 5.7.1 <example.net!victim@example.com>: Relay access denied",
	  "recipient example.net!victim@example.com has \"%\", \"!\" or "
	  "\"@\" in its local part" RELAY_REASON_END },
	{ "192.0.2.7", NULL, "RCPT TO:<\"victim@example.net\"@example.com>",
	  R, "554 5.7.1 <\"victim@example.net\"@example.com>: Relay access "
	  "denied", "recipient \"victim@example.net\"@example.com has \"%\", "
	  "\"!\" or \"@\" in its local part" RELAY_REASON_END },
	{ "192.0.2.7", NULL, "RCPT TO:<@relay.example.net:bob@example.com>",
	  R, "554 5.7.1 <bob@example.com>: Relay access denied",
	  "recipient bob@example.com has a source route" RELAY_REASON_END },
	{ "192.0.2.7", NULL,
	  "RCPT TO:<@relay.example.net:postmaster@example.com>", R,
	  "554 5.7.1 <postmaster@example.com>: Relay access denied", NULL },
	/* address literals are never local, ours included */
	{ "192.0.2.7", NULL, "RCPT TO:<bob@[192.0.2.1]>", R,
	  "554 5.7.1 <bob@[192.0.2.1]>: Relay access denied",
	  "recipient domain [192.0.2.1] is an address literal, never local"
	  RELAY_REASON_END },
	{ "192.0.2.7", NULL, "RCPT TO:<bob@[203.0.113.25]>", R,
	  "554 5.7.1 <bob@[203.0.113.25]>: Relay access denied", NULL },
	{ "192.0.2.7", NULL, "RCPT TO:<bob@[IPv6:2001:db8:25::25]>", R,
	  "554 5.7.1 <bob@[IPv6:2001:db8:25::25]>: Relay access denied",
	  NULL },
	/* client text in the reply is sanitised and cut */
	{ "192.0.2.7", NULL, "RCPT TO:<bob@b\303\274cher.example.net>", R,
	  "554 5.7.1 <bob@b??cher.example.net>: Relay access denied",
	  "recipient domain b??cher.example.net is not in local_domains"
	  RELAY_REASON_END },
	{ "192.0.2.7", NULL, "RCPT TO:<a@"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.example.net>", R,
	  "554 5.7.1 <a@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
	  "bbbbbbbbbbbbbbbbbbbbb...>: Relay access denied", NULL },
	/* IPv6 clients alike */
	{ "2001:db8::7", NULL, "RCPT TO:<victim@example.net>", R,
	  "554 5.7.1 <victim@example.net>: Relay access denied", NULL },
	{ "::ffff:192.0.2.7", NULL, "RCPT TO:<victim@example.net>", R,
	  "554 5.7.1 <victim@example.net>: Relay access denied", NULL },
	/* authenticated sessions relay */
	{ "192.0.2.7", "alice@example.com", "RCPT TO:<victim@example.net>",
	  P, NULL, "" },
	{ "192.0.2.7", "alice@example.com",
	  "RCPT TO:<victim%example.net@example.com>", P, NULL, "" },
	/* trusted_networks relay */
	{ "198.51.100.7", NULL, "RCPT TO:<victim@example.net>", P, NULL,
	  "client in trusted_networks" },
	{ "2001:db8:aaaa::5", NULL, "RCPT TO:<bob@[192.0.2.1]>", P, NULL,
	  "client in trusted_networks" },
	{ "::ffff:198.51.100.9", NULL, "RCPT TO:<victim@example.net>", P,
	  NULL, "client in trusted_networks" },
	{ "198.51.101.7", NULL, "RCPT TO:<victim@example.net>", R,
	  "554 5.7.1 <victim@example.net>: Relay access denied", NULL },
};

static void
test_relay(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<x@example.net>"), r;

	(void)state;
	for (size_t i = 0; i < N(relay_cases); i++) {
		fixture_init(&f);
		f.cfg.relay_protection = true;
		cl = client(&f.cfg, relay_cases[i].ip, relay_cases[i].auth);
		assert_int_equal(policy_mail(&f.cfg, &cl, &m, &txn, &v), P);
		r = cmd(relay_cases[i].rcpt);
		assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &r, &v),
		    relay_cases[i].action);
		if (relay_cases[i].action == P) {
			expect("relay_cases", i, &v, P, 0, "", "",
			    relay_cases[i].reason);
			continue;
		}
		expect("relay_cases", i, &v, R, 554, "5.7.1",
		    relay_cases[i].text, relay_cases[i].reason);
		assert_int_equal(v.check, POLICY_CK_RELAY);
		assert_int_equal(v.at, AT_R);
		assert_int_equal(v.score, 0);
		assert_string_equal(policy_check_name(v.check), "relay");
	}
}

/* Off: the same relay attempts pass. */
static void
test_relay_off(void **state)
{
	static const char *const rcpts[] = {
		"RCPT TO:<victim@example.net>",
		"RCPT TO:<postmaster@example.net>",
		"RCPT TO:<victim%example.net@example.com>",
		"RCPT TO:<@relay.example.net:bob@example.com>",
		"RCPT TO:<bob@[192.0.2.1]>",
	};
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<x@example.net>"), r;

	(void)state;
	for (size_t i = 0; i < N(rcpts); i++) {
		fixture_init(&f);
		cl = client(&f.cfg, "192.0.2.7", NULL);
		assert_int_equal(policy_mail(&f.cfg, &cl, &m, &txn, &v), P);
		r = cmd(rcpts[i]);
		assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &r, &v), P);
		expect("relay_off", i, &v, P, 0, "", "", "");
	}
}

/*
 * Whatever the sender: <> (a bounce) and a local sender are refused
 * alike, and a submission session without AUTH (its own rule in
 * monitor mode) too: relaying never depends on MAIL FROM.
 */
static void
test_relay_any_sender(void **state)
{
	static const char *const mails[] = {
		"MAIL FROM:<>",
		"MAIL FROM:<ceo@example.com>",
		"MAIL FROM:<x@example.net>",
	};
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m, r = cmd("RCPT TO:<victim@example.net>");

	(void)state;
	for (size_t i = 0; i < N(mails); i++) {
		for (int sub = 0; sub < 2; sub++) {
			fixture_init(&f);
			f.cfg.relay_protection = true;
			cl = client(&f.cfg, "192.0.2.7", NULL);
			cl.submission = sub != 0;
			m = cmd(mails[i]);
			policy_mail_skip(&f.cfg, &cl, &m,
			    POLICY_CK_BIT(POLICY_CK_SUBMISSION), &txn, &v);
			assert_int_equal(v.action, P);
			assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &r,
			    &v), R);
			expect("relay_any_sender", i, &v, R, 554, "5.7.1",
			    "554 5.7.1 <victim@example.net>: Relay access "
			    "denied", NULL);
		}
	}
}

/*
 * The order at RCPT: a HELO refusal deferred there, then
 * auth.except_to_local (its 530 tells a local user what to do), then
 * relay; skipping a check lets the next one speak, and skipping all
 * passes.
 */
static void
test_rcpt_order_and_skip(void **state)
{
	static const struct {
		unsigned		 skip;
		enum policy_action	 action;
		enum policy_check	 check;
		int			 code;
	} rows[] = {
		{ 0, R, POLICY_CK_HELO, 550 },
		{ POLICY_CK_BIT(POLICY_CK_HELO), R, POLICY_CK_AUTH, 530 },
		{ POLICY_CK_BIT(POLICY_CK_HELO) |
		  POLICY_CK_BIT(POLICY_CK_AUTH), R, POLICY_CK_RELAY, 554 },
		{ POLICY_CK_BIT(POLICY_CK_AUTH), R, POLICY_CK_HELO, 550 },
		{ POLICY_CK_BIT(POLICY_CK_RELAY), R, POLICY_CK_HELO, 550 },
		{ POLICY_CK_BIT(POLICY_CK_HELO) |
		  POLICY_CK_BIT(POLICY_CK_RELAY), R, POLICY_CK_AUTH, 530 },
		{ POLICY_CK_BIT(POLICY_CK_HELO) |
		  POLICY_CK_BIT(POLICY_CK_AUTH) |
		  POLICY_CK_BIT(POLICY_CK_RELAY), P, POLICY_CK_NONE, 0 },
		/* bits of checks that did not refuse change nothing */
		{ POLICY_CK_BIT(POLICY_CK_IP_SHIELD) |
		  POLICY_CK_BIT(POLICY_CK_HIJACK), R, POLICY_CK_HELO, 550 },
	};
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<ceo@example.com>");
	struct smtp_cmd		r = cmd("RCPT TO:<victim@example.net>");

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		fixture_init(&f);
		f.cfg.relay_protection = true;
		f.cfg.auth.require_for_local_senders = true;
		f.cfg.auth.except_to_local = true;
		set_helo_flags(&f.cfg, H_FQDN, AT_R);
		cl = client(&f.cfg, "192.0.2.7", NULL);
		assert_int_equal(policy_helo(&f.cfg, &cl, span_make("mike", 4),
		    true, &cl.helo), D);
		assert_int_equal(policy_mail(&f.cfg, &cl, &m, &txn, &v), P);
		assert_true(txn.local_unauth);
		assert_int_equal(policy_rcpt_skip(&f.cfg, &cl, &txn, &r,
		    rows[i].skip, &v), rows[i].action);
		assert_int_equal(v.check, rows[i].check);
		assert_int_equal(v.code, rows[i].code);
	}
}

/* A deferred HELO refusal spares postmaster; relay does not spare
 * postmaster at another domain: the two checks stay independent. */
static void
test_rcpt_postmaster_helo_and_relay(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<x@example.net>");
	struct smtp_cmd		pm = cmd("RCPT TO:<postmaster@example.net>");
	struct smtp_cmd		bare = cmd("RCPT TO:<postmaster>");

	(void)state;
	fixture_init(&f);
	f.cfg.relay_protection = true;
	set_helo_flags(&f.cfg, H_FQDN, AT_R);
	cl = client(&f.cfg, "192.0.2.7", NULL);
	policy_helo(&f.cfg, &cl, span_make("mike", 4), true, &cl.helo);
	assert_int_equal(policy_mail(&f.cfg, &cl, &m, &txn, &v), P);
	assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &pm, &v), R);
	assert_int_equal(v.check, POLICY_CK_RELAY);
	assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &bare, &v), P);
}

/*
 * policy_mail_skip(): the HELO rule, IP Shield and the local-sender
 * rule all refuse this MAIL; skipping one shows the next, and txn is
 * the same whatever skip says. On a submission listener its own rule
 * comes first (and HELO is not checked there).
 */
static void
test_mail_skip(void **state)
{
	static const struct {
		bool			 submission;
		unsigned		 skip;
		enum policy_action	 action;
		enum policy_check	 check;
		const char		*text;
	} rows[] = {
		{ false, 0, R, POLICY_CK_HELO,
		  "503 5.5.1 Send HELO/EHLO first" },
		{ false, POLICY_CK_BIT(POLICY_CK_HELO), R, POLICY_CK_IP_SHIELD,
		  "530 5.7.0 Authentication required to send mail from "
		  "192.0.2.7" },
		{ false, POLICY_CK_BIT(POLICY_CK_HELO) |
		  POLICY_CK_BIT(POLICY_CK_IP_SHIELD), R, POLICY_CK_AUTH,
		  "530 5.7.0 Authentication required" },
		{ false, POLICY_CK_BIT(POLICY_CK_HELO) |
		  POLICY_CK_BIT(POLICY_CK_IP_SHIELD) |
		  POLICY_CK_BIT(POLICY_CK_AUTH), P, POLICY_CK_NONE, "" },
		{ false, POLICY_CK_BIT(POLICY_CK_IP_SHIELD), R, POLICY_CK_HELO,
		  "503 5.5.1 Send HELO/EHLO first" },
		{ false, POLICY_CK_BIT(POLICY_CK_RELAY) |
		  POLICY_CK_BIT(POLICY_CK_HIJACK), R, POLICY_CK_HELO,
		  "503 5.5.1 Send HELO/EHLO first" },
		{ true, 0, R, POLICY_CK_SUBMISSION,
		  "530 5.7.0 Authentication required" },
		{ true, POLICY_CK_BIT(POLICY_CK_SUBMISSION), R,
		  POLICY_CK_IP_SHIELD, "530 5.7.0 Authentication required to "
		  "send mail from 192.0.2.7" },
		{ true, POLICY_CK_BIT(POLICY_CK_SUBMISSION) |
		  POLICY_CK_BIT(POLICY_CK_IP_SHIELD), R, POLICY_CK_AUTH,
		  "530 5.7.0 Authentication required" },
	};
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<ceo@example.com>");

	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		fixture_init(&f);
		f.cfg.ip_shield.enabled = true;
		f.cfg.auth.require_for_local_senders = true;
		set_helo_flags(&f.cfg, H_FQDN, AT_R);
		cl = client(&f.cfg, "192.0.2.7", NULL);
		cl.helo_seen = false;
		cl.submission = rows[i].submission;
		memset(&txn, 0, sizeof(txn));
		assert_int_equal(policy_mail_skip(&f.cfg, &cl, &m,
		    rows[i].skip, &txn, &v), rows[i].action);
		assert_int_equal(v.check, rows[i].check);
		assert_string_equal(v.text, rows[i].text);
		assert_true(txn.local_unauth);
	}
}

/* match_envelope is an auth check too: one bit skips both auth steps. */
static void
test_mail_skip_match_envelope(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<ceo@example.com>");

	(void)state;
	fixture_init(&f);
	f.cfg.auth.match_envelope = true;
	cl = client(&f.cfg, "192.0.2.7", "alice@example.com");
	assert_int_equal(policy_mail_skip(&f.cfg, &cl, &m, 0, &txn, &v), R);
	assert_int_equal(v.code, 553);
	assert_int_equal(policy_mail_skip(&f.cfg, &cl, &m,
	    POLICY_CK_BIT(POLICY_CK_AUTH), &txn, &v), P);
	assert_int_equal(policy_mail_skip(&f.cfg, &cl, &m,
	    POLICY_CK_BIT(POLICY_CK_IP_SHIELD), &txn, &v), R);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay),
		cmocka_unit_test(test_relay_off),
		cmocka_unit_test(test_relay_any_sender),
		cmocka_unit_test(test_rcpt_order_and_skip),
		cmocka_unit_test(test_rcpt_postmaster_helo_and_relay),
		cmocka_unit_test(test_mail_skip),
		cmocka_unit_test(test_mail_skip_match_envelope),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
