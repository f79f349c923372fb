/*
 * tests/unit/test_policy_dns.c - core/policy_dns.c: the DNS checks'
 * verdicts on facts (HELO forward lookup, rDNS/FCrDNS, the DNSBL
 * score), on_dns_error both ways, exemptions, skip, and how they reach
 * MAIL and RCPT through policy_mail()/policy_rcpt() at helo.reject_at
 * (postmaster exempt). Expected values are typed by hand.
 */
#include "tests/unit/policy_fixture.h"

static struct policy_dns
facts(void)
{
	struct policy_dns d;

	memset(&d, 0, sizeof(d));
	d.helo_name = "mx.client.example";
	d.helo_ehlo = true;
	d.helo_resolves = POLICY_DNS_YES;
	d.helo_matches = POLICY_DNS_YES;
	d.rdns = POLICY_DNS_YES;
	d.fcrdns = POLICY_DNS_YES;
	d.ptr_name = "mx.client.example";
	d.dnsbl = POLICY_DNS_NO;
	return d;
}

static void
test_helo_checks(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_dns	d = facts();
	struct policy_verdict	v;

	(void)state;
	fixture_init(&f);
	f.cfg.helo.require_resolvable = true;
	f.cfg.helo.must_match_client = true;
	cl = client(&f.cfg, "192.0.2.7", NULL);
	cl.dns = &d;
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_R, 0, &v), P);

	d.helo_matches = POLICY_DNS_NO;
	policy_dns(&f.cfg, &cl, AT_R, 0, &v);
	expect("match", 0, &v, R, 550, "5.7.1", "550 5.7.1 EHLO "
	    "mx.client.example does not resolve to your address 192.0.2.7",
	    "EHLO mx.client.example has no A or AAAA record for client "
	    "192.0.2.7");
	assert_int_equal(v.check, POLICY_CK_HELO);
	assert_int_equal(v.at, AT_R);

	d.helo_resolves = POLICY_DNS_NO;
	d.helo_ehlo = false;
	policy_dns(&f.cfg, &cl, AT_H, 0, &v);
	expect("resolvable", 0, &v, R, 550, "5.7.1", "550 5.7.1 HELO "
	    "mx.client.example has no address in DNS",
	    "HELO mx.client.example has no A or AAAA record");
	assert_int_equal(v.at, AT_H);

	/* must_match alone on a name without records */
	f.cfg.helo.require_resolvable = false;
	policy_dns(&f.cfg, &cl, AT_R, 0, &v);
	expect("match-nx", 0, &v, R, 550, "5.7.1", "550 5.7.1 HELO "
	    "mx.client.example does not resolve to your address 192.0.2.7",
	    "HELO mx.client.example has no A or AAAA record; client "
	    "192.0.2.7");

	/* the check off: a fact that would refuse is not looked at */
	f.cfg.helo.must_match_client = false;
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_R, 0, &v), P);

	/* not looked up (a literal): nothing to judge */
	f.cfg.helo.require_resolvable = true;
	f.cfg.helo.must_match_client = true;
	d.helo_name = NULL;
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_R, 0, &v), P);
}

static void
test_rdns_checks(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_dns	d = facts();
	struct policy_verdict	v;

	(void)state;
	fixture_init(&f);
	f.cfg.client.require_rdns = true;
	cl = client(&f.cfg, "192.0.2.7", NULL);
	cl.dns = &d;
	d.fcrdns = POLICY_DNS_NO;
	/* require_rdns is satisfied by any PTR naming a host */
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_R, 0, &v), P);
	f.cfg.client.require_fcrdns = true;
	policy_dns(&f.cfg, &cl, AT_R, 0, &v);
	expect("fcrdns", 0, &v, R, 550, "5.7.1", "550 5.7.1 Client host "
	    "[192.0.2.7]: its reverse DNS name does not resolve back to it",
	    "PTR name mx.client.example does not resolve back to "
	    "[192.0.2.7]");
	assert_int_equal(v.check, POLICY_CK_RDNS);

	d.rdns = POLICY_DNS_NO;
	d.ptr_name = NULL;
	d.ptr_bad = "evil name\r\n";
	policy_dns(&f.cfg, &cl, AT_M, 0, &v);
	expect("rdns", 0, &v, R, 550, "5.7.1", "550 5.7.1 Client host "
	    "[192.0.2.7] has no reverse DNS name", "no PTR record with a host "
	    "name: evil?name?? for [192.0.2.7]");

	/* skip: a monitored rdns refusal does not hide the DNSBL */
	d.dnsbl = POLICY_DNS_YES;
	d.dnsbl_score = 5;
	d.dnsbl_zone = "bl.example";
	d.dnsbl_detail = "bl.example=127.0.0.2 (weight 5)";
	f.cfg.dnsbl.enabled = true;
	f.cfg.dnsbl.threshold = 3;
	policy_dns(&f.cfg, &cl, AT_R, POLICY_CK_BIT(POLICY_CK_RDNS), &v);
	expect("dnsbl", 0, &v, R, 554, "5.7.1", "554 5.7.1 Service "
	    "unavailable; client [192.0.2.7] blocked using bl.example",
	    "score 5 >= 3: bl.example=127.0.0.2 (weight 5)");
	assert_int_equal(v.check, POLICY_CK_DNSBL);
	assert_int_equal(v.score, 5);
}

static void
test_dns_errors(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_dns	d = facts();
	struct policy_verdict	v;

	(void)state;
	fixture_init(&f);
	f.cfg.client.require_fcrdns = true;
	f.cfg.dnsbl.enabled = true;
	f.cfg.dnsbl.threshold = 1;
	cl = client(&f.cfg, "192.0.2.7", NULL);
	cl.dns = &d;
	d.fcrdns = POLICY_DNS_ERROR;
	d.rdns_why = "timeout";
	policy_dns(&f.cfg, &cl, AT_R, 0, &v);
	expect("tempfail", 0, &v, R, 451, "4.4.3", "451 4.4.3 Client host "
	    "[192.0.2.7]: temporary DNS failure, try again later",
	    "on_dns_error = tempfail: Client host [192.0.2.7]: timeout");
	d.fcrdns = POLICY_DNS_YES;
	d.dnsbl = POLICY_DNS_ERROR;
	d.dnsbl_why = "zone bl.example: SERVFAIL";
	policy_dns(&f.cfg, &cl, AT_R, 0, &v);
	expect("tempfail-bl", 0, &v, R, 451, "4.4.3", "451 4.4.3 Client host "
	    "[192.0.2.7]: temporary DNS failure, try again later",
	    "on_dns_error = tempfail: Client host [192.0.2.7]: zone "
	    "bl.example: SERVFAIL");
	assert_int_equal(v.check, POLICY_CK_DNSBL);
	f.cfg.dns_error_accept = true;
	d.fcrdns = POLICY_DNS_ERROR;
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_R, 0, &v), P);
}

static void
test_exempt_and_stages(void **state)
{
	struct fixture		f;
	struct policy_client	cl;
	struct policy_dns	d = facts();
	struct policy_verdict	v;
	struct policy_txn	t;
	struct smtp_cmd		mail = cmd("MAIL FROM:<a@example.net>");
	struct smtp_cmd		rcpt = cmd("RCPT TO:<user@example.com>");
	struct smtp_cmd		pm = cmd("RCPT TO:<Postmaster@example.com>");

	(void)state;
	fixture_init(&f);
	f.cfg.client.require_rdns = true;
	d.rdns = POLICY_DNS_NO;
	cl = client(&f.cfg, "192.0.2.7", NULL);
	cl.dns = &d;
	/* rcpt (the default stage): MAIL passes, RCPT refused, postmaster
	 * accepted */
	f.cfg.helo.reject_at = AT_R;
	assert_int_equal(policy_mail(&f.cfg, &cl, &mail, &t, &v), P);
	assert_int_equal(policy_rcpt(&f.cfg, &cl, &t, &rcpt, &v), R);
	assert_int_equal(v.code, 550);
	assert_int_equal(v.at, AT_R);
	assert_int_equal(policy_rcpt(&f.cfg, &cl, &t, &pm, &v), P);
	/* mail */
	f.cfg.helo.reject_at = AT_M;
	assert_int_equal(policy_mail(&f.cfg, &cl, &mail, &t, &v), R);
	assert_int_equal(v.at, AT_M);
	assert_int_equal(policy_rcpt(&f.cfg, &cl, &t, &rcpt, &v), P);
	/* MAIL without an accepted HELO: 503, a DNS check being on */
	cl.helo_seen = false;
	assert_int_equal(policy_mail(&f.cfg, &cl, &mail, &t, &v), R);
	assert_int_equal(v.code, 503);
	cl.helo_seen = true;
	/* authenticated, trusted, submission: exempt */
	cl.auth_id = "alice@example.com";
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_M, 0, &v), P);
	assert_int_equal(policy_mail(&f.cfg, &cl, &mail, &t, &v), P);
	cl.auth_id = NULL;
	cl.submission = true;
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_M, 0, &v), P);
	cl.submission = false;
	cl.trusted = true;
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_M, 0, &v), P);
	cl.trusted = false;
	/* no facts (not looked up): nothing to judge */
	cl.dns = NULL;
	assert_int_equal(policy_dns(&f.cfg, &cl, AT_M, 0, &v), P);
	assert_true(policy_dns_checks_on(&f.cfg));
	f.cfg.client.require_rdns = false;
	assert_false(policy_dns_checks_on(&f.cfg));
	assert_string_equal(policy_check_name(POLICY_CK_RDNS), "rdns");
	assert_string_equal(policy_check_name(POLICY_CK_DNSBL), "dnsbl");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helo_checks),
		cmocka_unit_test(test_rdns_checks),
		cmocka_unit_test(test_dns_errors),
		cmocka_unit_test(test_exempt_and_stages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
