/*
 * tests/unit/test_policy.c - core/policy.c and core/policy_mail.c: IP
 * Shield, AUTH for local senders (with except_to_local, source routes
 * and relay hacks), envelope match with aliases, submission listeners,
 * the order of the MAIL checks, local domains and shield patterns,
 * trusted networks. Exact reply texts, codes and reasons, typed by
 * hand. The HELO checks are in test_policy_helo.c.
 */
#include "tests/unit/policy_fixture.h"


static const struct {
	bool			 enabled;
	const char		*mail;
	const char		*ip;
	const char		*auth;
	enum policy_action	 action;
	const char		*text;
	const char		*reason;
} shield_cases[] = {
	/* $LOCALDOMAIN$: 192.168.0.* and 10.1.0.0/16 */
	{ true, "MAIL FROM:<mike@example.com>", "192.168.0.5", NULL,
	  P, "", "" },
	{ true, "MAIL FROM:<mike@example.com>", "10.1.2.3", NULL, P, "", "" },
	{ true, "MAIL FROM:<mike@example.com>", "173.239.156.252", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "173.239.156.252",
	  "sender domain example.com is shielded and client 173.239.156.252 "
	  "is in none of its networks" },
	{ true, "MAIL FROM:<Mike@EXAMPLE.COM>", "192.168.1.5", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.168.1.5",
	  "sender domain EXAMPLE.COM is shielded and client 192.168.1.5 is "
	  "in none of its networks" },
	{ true, "MAIL FROM:<mike@example.com> SIZE=1000", "192.0.2.7", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7", NULL },
	{ true, "MAIL FROM:<@relay.example:mike@example.com>", "192.0.2.7",
	  NULL, R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7", NULL },
	{ true, "MAIL FROM:<\"mike\"@example.com>", "192.0.2.7", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7", NULL },
	{ true, "MAIL FROM:<b\xc3\xbc@B\xc3\xbc" "CHER.example>", "192.0.2.7",
	  NULL, R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7",
	  "sender domain B??CHER.example is shielded and client 192.0.2.7 "
	  "is in none of its networks" },
	/* authenticated sessions bypass it */
	{ true, "MAIL FROM:<mike@example.com>", "192.0.2.7", "mike@example.com",
	  P, "", "" },
	/* the null sender is never shielded */
	{ true, "MAIL FROM:<>", "192.0.2.7", NULL, P, "", "" },
	/* domains without entries are not restricted */
	{ true, "MAIL FROM:<mike@example.net>", "192.0.2.7", NULL, P, "", "" },
	{ true, "MAIL FROM:<mike@sub.example.com>", "192.0.2.7", NULL,
	  P, "", "" },
	/* exact entry and $LOCALDOMAIN$ together: the union */
	{ true, "MAIL FROM:<x@example.org>", "203.0.113.9", NULL, P, "", "" },
	{ true, "MAIL FROM:<x@example.org>", "192.168.0.9", NULL, P, "", "" },
	{ true, "MAIL FROM:<x@example.org>", "192.0.2.7", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7", NULL },
	/* entry written in capitals, IPv4 and IPv6 networks */
	{ true, "MAIL FROM:<x@partner.example>", "192.0.2.200", NULL,
	  P, "", "" },
	{ true, "MAIL FROM:<x@partner.example>", "2001:db8:bbbb:1::1", NULL,
	  P, "", "" },
	{ true, "MAIL FROM:<x@partner.example>", "2001:db8:cccc::1", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "2001:db8:cccc::1",
	  "sender domain partner.example is shielded and client "
	  "2001:db8:cccc::1 is in none of its networks" },
	{ true, "MAIL FROM:<x@partner.example>", "::ffff:192.0.2.200", NULL,
	  P, "", "" },
	{ true, "MAIL FROM:<x@sub.partner.example>", "192.0.2.7", NULL,
	  P, "", "" },
	/* *.corp.example: subdomains only */
	{ true, "MAIL FROM:<x@a.corp.example>", "100.64.1.1", NULL, P, "", "" },
	{ true, "MAIL FROM:<x@a.corp.example>", "192.0.2.7", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7", NULL },
	{ true, "MAIL FROM:<x@B.A.Corp.Example>", "192.0.2.7", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7", NULL },
	{ true, "MAIL FROM:<x@corp.example>", "192.0.2.7", NULL, P, "", "" },
	{ true, "MAIL FROM:<x@xcorp.example>", "192.0.2.7", NULL, P, "", "" },
	/* IPv4-mapped clients match IPv4 networks */
	{ true, "MAIL FROM:<mike@example.com>", "::ffff:192.168.0.5", NULL,
	  P, "", "" },
	{ true, "MAIL FROM:<mike@example.com>", "::ffff:192.0.2.7", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "::ffff:192.0.2.7", NULL },
	/* an entry without networks: AUTH only */
	{ true, "MAIL FROM:<x@nonets.example>", "192.168.0.5", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.168.0.5", NULL },
	{ true, "MAIL FROM:<x@nonets.example>", "192.168.0.5", "x", P, "", "" },
	/* address literals: only an entry naming that literal */
	{ true, "MAIL FROM:<x@[192.0.2.99]>", "192.0.2.7", NULL,
	  R, "530 5.7.0 Authentication required to send mail from "
	  "192.0.2.7",
	  "sender domain [192.0.2.99] is shielded and client 192.0.2.7 is "
	  "in none of its networks" },
	{ true, "MAIL FROM:<x@[192.0.2.99]>", "192.0.2.99", NULL, P, "", "" },
	{ true, "MAIL FROM:<x@[192.168.0.5]>", "192.0.2.7", NULL, P, "", "" },
	/* trusted networks are exempt */
	{ true, "MAIL FROM:<mike@example.com>", "198.51.100.7", NULL,
	  P, "", "client in trusted_networks" },
	/* off */
	{ false, "MAIL FROM:<mike@example.com>", "192.0.2.7", NULL,
	  P, "", "" },
};

static void
test_ip_shield(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		c;

	(void)state;
	for (size_t i = 0; i < N(shield_cases); i++) {
		fixture_init(&f);
		f.cfg.ip_shield.enabled = shield_cases[i].enabled;
		cl = client(&f.cfg, shield_cases[i].ip, shield_cases[i].auth);
		c = cmd(shield_cases[i].mail);
		assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v),
		    shield_cases[i].action);
		expect("shield_cases", i, &v, shield_cases[i].action,
		    shield_cases[i].action == R ? 530 : 0,
		    shield_cases[i].action == R ? "5.7.0" : "",
		    shield_cases[i].text, shield_cases[i].reason);
		if (v.action == R) {
			assert_int_equal(v.check, POLICY_CK_IP_SHIELD);
			assert_int_equal(v.at, AT_M);
		}
	}
}

/* The proxy's printed address is used as it is. */
static void
test_ip_shield_ip_text(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		c = cmd("MAIL FROM:<a@example.com>");

	(void)state;
	fixture_init(&f);
	f.cfg.ip_shield.enabled = true;
	cl = client(&f.cfg, "::ffff:192.0.2.7", NULL);
	cl.ip = "192.0.2.7";
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	assert_string_equal(v.text,
	    "530 5.7.0 Authentication required to send mail from 192.0.2.7");
}

/* ------------------------------------------------------------------ */

static const struct {
	bool			 except_to_local;
	const char		*mail;
	const char		*ip;
	const char		*auth;
	enum policy_action	 mail_action;
	const char		*mail_reason;
	const char		*rcpt;		/* NULL: none */
	enum policy_action	 rcpt_action;
	const char		*rcpt_reason;
} local_cases[] = {
	{ false, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  R, "local sender domain example.com without AUTH", NULL, P, NULL },
	{ false, "MAIL FROM:<ceo@EXAMPLE.org>", "2001:db8::7", NULL,
	  R, "local sender domain EXAMPLE.org without AUTH", NULL, P, NULL },
	{ false, "MAIL FROM:<ceo@example.com>", "::ffff:192.0.2.7", NULL,
	  R, "local sender domain example.com without AUTH", NULL, P, NULL },
	{ false, "MAIL FROM:<ceo@example.com>", "192.0.2.7", "ceo@example.com",
	  P, "", "RCPT TO:<x@example.net>", P, "" },
	{ false, "MAIL FROM:<x@example.net>", "192.0.2.7", NULL,
	  P, "", "RCPT TO:<y@example.net>", P, "" },
	{ false, "MAIL FROM:<>", "192.0.2.7", NULL,
	  P, "", "RCPT TO:<y@example.net>", P, "" },
	{ false, "MAIL FROM:<x@sub.example.com>", "192.0.2.7", NULL,
	  P, "", NULL, P, NULL },
	{ false, "MAIL FROM:<x@[203.0.113.25]>", "192.0.2.7", NULL,
	  P, "", NULL, P, NULL },
	{ false, "MAIL FROM:<ceo@example.com>", "198.51.100.7", NULL,
	  P, "client in trusted_networks", "RCPT TO:<x@example.net>",
	  P, "client in trusted_networks" },
	/* except_to_local: the decision moves to RCPT */
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, "local sender without AUTH: local recipients only",
	  "RCPT TO:<bob@example.com>", P, "" },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<bob@EXAMPLE.ORG>", P, "" },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<postmaster>", P, "" },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<victim@example.net>", R,
	  "local sender without AUTH to non-local recipient "
	  "victim@example.net" },
	{ true, "MAIL FROM:<ceo@example.com>", "2001:db8::7", NULL,
	  P, NULL, "RCPT TO:<postmaster@example.net>", R,
	  "local sender without AUTH to non-local recipient "
	  "postmaster@example.net" },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<bob@sub.example.com>", R, NULL },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<@relay.example.net:bob@example.com>", R,
	  "local sender without AUTH to non-local recipient "
	  "bob@example.com (source route)" },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<victim%example.net@example.com>", R,
	  "local sender without AUTH to non-local recipient "
	  "victim%example.net@example.com" },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<\"victim%example.net\"@example.com>", R, NULL },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<relay!victim@example.com>", R, NULL },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<\"victim@example.net\"@example.com>", R,
	  "local sender without AUTH to non-local recipient "
	  "\"victim@example.net\"@example.com" },
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", NULL,
	  P, NULL, "RCPT TO:<bob@[203.0.113.25]>", R, NULL },
	/* authenticated, or not a local sender: any recipient */
	{ true, "MAIL FROM:<ceo@example.com>", "192.0.2.7", "ceo@example.com",
	  P, "", "RCPT TO:<victim@example.net>", P, "" },
	{ true, "MAIL FROM:<x@example.net>", "192.0.2.7", NULL,
	  P, "", "RCPT TO:<victim@example.net>", P, "" },
	{ true, "MAIL FROM:<>", "192.0.2.7", NULL,
	  P, "", "RCPT TO:<victim@example.net>", P, "" },
	{ true, "MAIL FROM:<ceo@example.com>", "198.51.100.7", NULL,
	  P, "client in trusted_networks", "RCPT TO:<victim@example.net>",
	  P, "client in trusted_networks" },
};

static void
test_local_senders(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m, r;

	(void)state;
	for (size_t i = 0; i < N(local_cases); i++) {
		fixture_init(&f);
		f.cfg.auth.require_for_local_senders = true;
		f.cfg.auth.except_to_local = local_cases[i].except_to_local;
		cl = client(&f.cfg, local_cases[i].ip, local_cases[i].auth);
		m = cmd(local_cases[i].mail);
		assert_int_equal(policy_mail(&f.cfg, &cl, &m, &txn, &v),
		    local_cases[i].mail_action);
		if (local_cases[i].mail_action == R) {
			expect("local_cases/mail", i, &v, R, 530, "5.7.0",
			    "530 5.7.0 Authentication required",
			    local_cases[i].mail_reason);
			assert_int_equal(v.check, POLICY_CK_AUTH);
			continue;
		}
		expect("local_cases/mail", i, &v, P, 0, "", "",
		    local_cases[i].mail_reason);
		if (local_cases[i].rcpt == NULL)
			continue;
		r = cmd(local_cases[i].rcpt);
		assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &r, &v),
		    local_cases[i].rcpt_action);
		if (local_cases[i].rcpt_action == R) {
			expect("local_cases/rcpt", i, &v, R, 530, "5.7.0",
			    "530 5.7.0 Authentication required",
			    local_cases[i].rcpt_reason);
			assert_int_equal(v.check, POLICY_CK_AUTH);
			assert_int_equal(v.at, AT_R);
		} else {
			expect("local_cases/rcpt", i, &v, P, 0, "", "",
			    local_cases[i].rcpt_reason);
		}
	}
}

/* The switch off: no fact, no refusal, even with except_to_local set. */
static void
test_local_senders_off(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		m = cmd("MAIL FROM:<ceo@example.com>");
	struct smtp_cmd		r = cmd("RCPT TO:<victim@example.net>");

	(void)state;
	fixture_init(&f);
	f.cfg.auth.except_to_local = true;
	cl = client(&f.cfg, "192.0.2.7", NULL);
	assert_int_equal(policy_mail(&f.cfg, &cl, &m, &txn, &v), P);
	assert_false(txn.local_unauth);
	assert_int_equal(policy_rcpt(&f.cfg, &cl, &txn, &r, &v), P);
}

/* ------------------------------------------------------------------ */

static const struct {
	const char		*auth;
	const char		*mail;
	const char		*ip;
	enum policy_action	 action;
	const char		*reason;
} envelope_cases[] = {
	{ "alice@example.com", "MAIL FROM:<alice@example.com>", "192.0.2.7",
	  P, "" },
	{ "ALICE@Example.Com", "MAIL FROM:<alice@example.com>", "192.0.2.7",
	  P, "" },
	{ "alice@example.com", "MAIL FROM:<Alice@EXAMPLE.COM>", "192.0.2.7",
	  P, "" },
	{ "alice@example.com", "MAIL FROM:<\"alice\"@example.com>",
	  "192.0.2.7", P, "" },
	{ "alice@example.com", "MAIL FROM:<@relay.example:alice@example.com>",
	  "192.0.2.7", P, "" },
	{ "alice@example.com", "MAIL FROM:<bob@example.com>", "192.0.2.7",
	  R, "identity alice@example.com may not send as bob@example.com" },
	{ "alice@example.com", "MAIL FROM:<alice@example.org>", "2001:db8::7",
	  R, "identity alice@example.com may not send as alice@example.org" },
	{ "alice@example.com", "MAIL FROM:<alice@example.com.evil>",
	  "192.0.2.7", R, NULL },
	{ "alice@example.com", "MAIL FROM:<\"al\\ice\"@example.com>",
	  "192.0.2.7", R, NULL },
	/* an identity spelt with a backslash is not the escaped spelling */
	{ "al\\ice@example.com", "MAIL FROM:<\"al\\ice\"@example.com>",
	  "192.0.2.7", R,
	  "identity al\\ice@example.com may not send as "
	  "\"al\\ice\"@example.com" },
	/* aliases: an address, and a whole domain (not its subdomains) */
	{ "alice@example.com", "MAIL FROM:<sales@example.com>", "192.0.2.7",
	  P, "" },
	{ "Alice@example.com", "MAIL FROM:<SALES@Example.com>", "192.0.2.7",
	  P, "" },
	{ "alice@example.com", "MAIL FROM:<anyone@example.net>", "192.0.2.7",
	  P, "" },
	{ "alice@example.com", "MAIL FROM:<anyone@EXAMPLE.NET>", "192.0.2.7",
	  P, "" },
	{ "alice@example.com", "MAIL FROM:<anyone@sub.example.net>",
	  "192.0.2.7", R,
	  "identity alice@example.com may not send as anyone@sub.example.net" },
	{ "bob@example.com", "MAIL FROM:<sales@example.com>", "192.0.2.7",
	  R, "identity bob@example.com may not send as sales@example.com" },
	/* an identity without "@": its local part at any local domain */
	{ "jdoe", "MAIL FROM:<jdoe@example.com>", "192.0.2.7", P, "" },
	{ "jdoe", "MAIL FROM:<JDoe@Example.Org>", "192.0.2.7", P, "" },
	{ "JDOE", "MAIL FROM:<jdoe@b\xc3\xbc" "cher.example>", "192.0.2.7",
	  P, "" },
	{ "jdoe", "MAIL FROM:<john.doe@example.org>", "192.0.2.7", P, "" },
	{ "jdoe", "MAIL FROM:<jdoe@example.net>", "192.0.2.7",
	  R, "identity jdoe may not send as jdoe@example.net" },
	{ "jdoe", "MAIL FROM:<jdoe@sub.example.com>", "192.0.2.7", R, NULL },
	{ "jdoe", "MAIL FROM:<jdoe@[203.0.113.25]>", "192.0.2.7", R, NULL },
	{ "jdoe", "MAIL FROM:<jdoe2@example.com>", "192.0.2.7", R, NULL },
	/* the null sender claims nobody */
	{ "alice@example.com", "MAIL FROM:<>", "192.0.2.7", P, "" },
	/* not authenticated: not this check's business */
	{ NULL, "MAIL FROM:<bob@example.com>", "192.0.2.7", P, "" },
	/* trusted */
	{ "alice@example.com", "MAIL FROM:<bob@example.com>", "198.51.100.7",
	  P, "client in trusted_networks" },
	/* hostile identity bytes are sanitised in the reason */
	{ "evil\x01id\n@x", "MAIL FROM:<bob@example.com>", "192.0.2.7",
	  R, "identity evil?id?@x may not send as bob@example.com" },
};

static void
test_match_envelope(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		c;

	(void)state;
	for (size_t i = 0; i < N(envelope_cases); i++) {
		fixture_init(&f);
		f.cfg.auth.match_envelope = true;
		cl = client(&f.cfg, envelope_cases[i].ip,
		    envelope_cases[i].auth);
		c = cmd(envelope_cases[i].mail);
		assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v),
		    envelope_cases[i].action);
		if (envelope_cases[i].action == R) {
			expect("envelope_cases", i, &v, R, 553, "5.7.1",
			    "553 5.7.1 Sender address not owned by the "
			    "authenticated user", envelope_cases[i].reason);
			assert_int_equal(v.check, POLICY_CK_AUTH);
		} else {
			expect("envelope_cases", i, &v, P, 0, "", "",
			    envelope_cases[i].reason);
		}
	}
}

/* Without aliases, and with the switch off. */
static void
test_match_envelope_plain(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		c = cmd("MAIL FROM:<sales@example.com>");

	(void)state;
	fixture_init(&f);
	cl = client(&f.cfg, "192.0.2.7", "alice@example.com");
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), P);
	f.cfg.auth.match_envelope = true;
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), P);
	f.cfg.auth.naliases = 0;
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	/* "jdoe" with no local domains owns nothing */
	f.cfg.nlocal_domains = 0;
	cl.auth_id = "jdoe";
	c = cmd("MAIL FROM:<jdoe@example.com>");
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
}

/* ------------------------------------------------------------------ */

static const struct {
	bool			 submission;
	const char		*ip;
	const char		*auth;
	const char		*mail;
	enum policy_action	 action;
} submission_cases[] = {
	{ true, "192.0.2.7", NULL, "MAIL FROM:<x@example.net>", R },
	{ true, "192.0.2.7", NULL, "MAIL FROM:<>", R },
	{ true, "2001:db8::7", NULL, "MAIL FROM:<ceo@example.com>", R },
	{ true, "192.0.2.7", "alice@example.com",
	  "MAIL FROM:<alice@example.com>", P },
	{ true, "192.0.2.7", "alice@example.com", "MAIL FROM:<>", P },
	{ true, "198.51.100.7", NULL, "MAIL FROM:<x@example.net>", P },
	{ false, "192.0.2.7", NULL, "MAIL FROM:<x@example.net>", P },
};

static void
test_submission(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		c;

	(void)state;
	for (size_t i = 0; i < N(submission_cases); i++) {
		fixture_init(&f);
		/* HELO checks on: a submission session is not asked for them */
		set_helo_flags(&f.cfg, H_ALL, AT_M);
		cl = client(&f.cfg, submission_cases[i].ip,
		    submission_cases[i].auth);
		cl.submission = submission_cases[i].submission;
		cl.helo_seen = false;
		if (!submission_cases[i].submission)
			f.cfg.helo = (struct policy_cfg){ 0 }.helo;
		c = cmd(submission_cases[i].mail);
		assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v),
		    submission_cases[i].action);
		if (submission_cases[i].action == R) {
			expect("submission_cases", i, &v, R, 530, "5.7.0",
			    "530 5.7.0 Authentication required",
			    "submission listener requires AUTH before MAIL");
			assert_int_equal(v.check, POLICY_CK_SUBMISSION);
		}
	}
}

/* ------------------------------------------------------------------ */
/* All checks on: the order is HELO, submission, shield, local, match. */
static void
test_mail_order(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		c = cmd("MAIL FROM:<ceo@example.com>");

	(void)state;
	fixture_init(&f);
	set_helo_flags(&f.cfg, H_ALL, AT_M);
	f.cfg.ip_shield.enabled = true;
	f.cfg.auth.require_for_local_senders = true;
	f.cfg.auth.match_envelope = true;

	cl = client(&f.cfg, "192.0.2.7", NULL);
	policy_helo(&f.cfg, &cl, span_make("localhost", 9), true, &cl.helo);
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	assert_int_equal(v.check, POLICY_CK_HELO);
	assert_string_equal(v.text,
	    "550 5.7.1 EHLO localhost is not a fully qualified domain name");

	cl = client(&f.cfg, "192.0.2.7", NULL);
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	assert_int_equal(v.check, POLICY_CK_IP_SHIELD);
	assert_true(txn.local_unauth);

	cl = client(&f.cfg, "192.168.0.7", NULL);
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	assert_int_equal(v.check, POLICY_CK_AUTH);
	assert_string_equal(v.text, "530 5.7.0 Authentication required");

	cl = client(&f.cfg, "192.0.2.7", "alice@example.com");
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	assert_int_equal(v.check, POLICY_CK_AUTH);
	assert_int_equal(v.code, 553);
	assert_false(txn.local_unauth);

	cl = client(&f.cfg, "192.0.2.7", NULL);
	cl.submission = true;
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	assert_int_equal(v.check, POLICY_CK_SUBMISSION);

	cl = client(&f.cfg, "192.0.2.7", "ceo@example.com");
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), P);
}

/* ------------------------------------------------------------------ */

static const struct {
	const char	*domain;
	bool		 local;
} local_domain_cases[] = {
	{ "example.com", true },
	{ "EXAMPLE.COM", true },
	{ "Example.Org", true },
	{ "example.com.", true },
	{ "example.com..", false },
	{ "sub.example.com", false },
	{ "example.co", false },
	{ "xexample.com", false },
	{ "example.com.evil", false },
	{ "", false },
	{ ".", false },
	{ "[203.0.113.25]", false },
	{ "b\xc3\xbc" "cher.example", true },
	{ "B\xc3\xbc" "CHER.EXAMPLE", true },
	/* U+00DC is not folded: bytewise beyond ASCII */
	{ "b\xc3\x9c" "cher.example", false },
};

static void
test_domain_is_local(void **state)
{
	struct fixture	f;

	(void)state;
	fixture_init(&f);
	for (size_t i = 0; i < N(local_domain_cases); i++) {
		const char *d = local_domain_cases[i].domain;

		if (policy_domain_is_local(&f.cfg, span_make(d, strlen(d))) !=
		    local_domain_cases[i].local)
			print_error("local_domain_cases[%zu] %s\n", i, d);
		assert_int_equal(policy_domain_is_local(&f.cfg,
		    span_make(d, strlen(d))), local_domain_cases[i].local);
	}
	assert_false(policy_domain_is_local(&f.cfg, span_make(NULL, 0)));
	f.cfg.nlocal_domains = 0;
	assert_false(policy_domain_is_local(&f.cfg,
	    span_make("example.com", 11)));
}

static const struct {
	const char	*pattern;
	const char	*domain;
	bool		 match;
} match_cases[] = {
	{ "example.com", "example.com", true },
	{ "example.com", "EXAMPLE.com", true },
	{ "Example.COM", "example.com", true },
	{ "example.com", "example.com.", true },
	{ "example.com.", "example.com", true },
	{ "example.com", "sub.example.com", false },
	{ "example.com", "example.co", false },
	{ "example.com", "", false },
	{ "*.example.com", "a.example.com", true },
	{ "*.example.com", "b.a.EXAMPLE.COM", true },
	{ "*.example.com", "a.example.com.", true },
	{ "*.example.com", "example.com", false },
	{ "*.example.com", ".example.com", false },
	{ "*.example.com", "xexample.com", false },
	{ "*.example.com", "a.example.com.evil", false },
	{ "*", "example.com", false },
	{ "$LOCALDOMAIN$", "example.com", true },
	{ "$LOCALDOMAIN$", "EXAMPLE.ORG.", true },
	{ "$LOCALDOMAIN$", "example.net", false },
	{ "$LOCALDOMAIN$", "sub.example.com", false },
	{ "$localdomain$", "example.com", false },
	{ "$LOCALDOMAIN$", "", false },
	{ "[192.0.2.1]", "[192.0.2.1]", true },
	{ "[192.0.2.1]", "[192.0.2.2]", false },
	{ "[IPv6:2001:db8::1]", "[ipv6:2001:DB8::1]", true },
	{ "", "", false },
	{ ".", ".", false },
};

static void
test_domain_matches(void **state)
{
	struct fixture	f;

	(void)state;
	fixture_init(&f);
	for (size_t i = 0; i < N(match_cases); i++) {
		const char *d = match_cases[i].domain;
		bool got = policy_domain_matches(&f.cfg,
		    match_cases[i].pattern, span_make(d, strlen(d)));

		if (got != match_cases[i].match)
			print_error("match_cases[%zu] %s %s\n", i,
			    match_cases[i].pattern, d);
		assert_int_equal(got, match_cases[i].match);
	}
	assert_false(policy_domain_matches(&f.cfg, NULL,
	    span_make("example.com", 11)));
}

/* A MAIL FROM domain with a trailing dot (cmd_parse refuses it today). */
static void
test_trailing_dot_sender(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_verdict	v;
	struct policy_txn	txn;
	struct smtp_cmd		c;
	const char		*line = "ceo@example.com.";

	(void)state;
	fixture_init(&f);
	f.cfg.ip_shield.enabled = true;
	memset(&c, 0, sizeof(c));
	c.verb = CMD_MAIL;
	c.path = span_make(line, 16);
	c.local = span_make(line, 3);
	c.domain = span_make(line + 4, 12);
	cl = client(&f.cfg, "192.0.2.7", NULL);
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), R);
	assert_int_equal(v.check, POLICY_CK_IP_SHIELD);
	f.cfg.ip_shield.enabled = false;
	f.cfg.auth.match_envelope = true;
	cl = client(&f.cfg, "192.0.2.7", "ceo@example.com");
	assert_int_equal(policy_mail(&f.cfg, &cl, &c, &txn, &v), P);
}

static void
test_is_trusted(void **state)
{
	static const struct {
		const char	*ip;
		bool		 trusted;
	} cases[] = {
		{ "198.51.100.1", true },
		{ "198.51.100.255", true },
		{ "198.51.101.1", false },
		{ "::ffff:198.51.100.1", true },
		{ "2001:db8:aaaa::1", true },
		{ "2001:db8:aaab::1", false },
		{ "192.0.2.7", false },
	};
	struct fixture	f;
	struct net_addr	a;

	(void)state;
	fixture_init(&f);
	for (size_t i = 0; i < N(cases); i++) {
		assert_int_equal(net_addr_parse(cases[i].ip,
		    strlen(cases[i].ip), &a), 0);
		assert_int_equal(policy_is_trusted(&f.cfg, &a),
		    cases[i].trusted);
	}
	f.cfg.ntrusted_networks = 0;
	assert_int_equal(net_addr_parse("198.51.100.1", 12, &a), 0);
	assert_false(policy_is_trusted(&f.cfg, &a));
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(policy_action_name(POLICY_PASS), "pass");
	assert_string_equal(policy_action_name(POLICY_REJECT), "reject");
	assert_string_equal(policy_action_name(POLICY_DEFER), "defer");
	assert_string_equal(policy_action_name(POLICY_TAG), "tag");
	assert_string_equal(policy_stage_name(POLICY_AT_HELO), "helo");
	assert_string_equal(policy_stage_name(POLICY_AT_MAIL), "mail");
	assert_string_equal(policy_stage_name(POLICY_AT_RCPT), "rcpt");
	assert_string_equal(policy_check_name(POLICY_CK_NONE), "none");
	assert_string_equal(policy_check_name(POLICY_CK_HELO), "helo");
	assert_string_equal(policy_check_name(POLICY_CK_IP_SHIELD),
	    "ip_shield");
	assert_string_equal(policy_check_name(POLICY_CK_AUTH), "auth");
	assert_string_equal(policy_check_name(POLICY_CK_SUBMISSION),
	    "submission");
	assert_string_equal(policy_check_name(POLICY_CK_SPOOF), "spoof");
	assert_string_equal(policy_helo_class_name(POLICY_HELO_LITERAL_V4),
	    "LITERAL_V4");
	assert_string_equal(policy_helo_class_name(POLICY_HELO_BAD_LITERAL),
	    "BAD_LITERAL");
	assert_string_equal(policy_helo_class_name(POLICY_HELO_NO_DOT),
	    "NO_DOT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_shield),
		cmocka_unit_test(test_ip_shield_ip_text),
		cmocka_unit_test(test_local_senders),
		cmocka_unit_test(test_local_senders_off),
		cmocka_unit_test(test_match_envelope),
		cmocka_unit_test(test_match_envelope_plain),
		cmocka_unit_test(test_submission),
		cmocka_unit_test(test_mail_order),
		cmocka_unit_test(test_domain_is_local),
		cmocka_unit_test(test_domain_matches),
		cmocka_unit_test(test_trailing_dot_sender),
		cmocka_unit_test(test_is_trusted),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
