/*
 * tests/unit/test_policy_spf.c - core/policy_spf: the verdict of each
 * SPF result under each setting (reject_fail, softfail, on_dns_error),
 * the exemptions, the explanation in the 550 reply (cut, or the
 * default text), which identity decides, and the outcome copied out of
 * a real evaluation with its hostile text made printable. Expected
 * replies and reasons are typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/policy_spf.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
#define P	POLICY_PASS
#define R	POLICY_REJECT

enum { OFF = 0, ON = 1 };
#define S_ACC	POLICY_SPF_SOFT_ACCEPT
#define S_TMP	POLICY_SPF_SOFT_TEMPFAIL
#define S_REJ	POLICY_SPF_SOFT_REJECT

static struct policy_spf_outcome
outcome(enum spf_identity id, enum spf_result r, const char *domain,
    const char *mech, const char *reason, const char *problem,
    const char *expl)
{
	struct policy_spf_outcome o;

	memset(&o, 0, sizeof(o));
	o.ran = true;
	o.identity = id;
	o.result = r;
	snprintf(o.domain, sizeof(o.domain), "%s", domain);
	snprintf(o.mechanism, sizeof(o.mechanism), "%s", mech);
	snprintf(o.problem, sizeof(o.problem), "%s", problem);
	snprintf(o.explanation, sizeof(o.explanation), "%s", expl);
	o.reason = reason;
	return o;
}

static struct policy_client
client(bool trusted, const char *auth)
{
	struct policy_client c;

	memset(&c, 0, sizeof(c));
	assert_int_equal(net_addr_parse("192.0.2.9", 9, &c.addr), 0);
	c.trusted = trusted;
	c.auth_id = auth;
	return c;
}

static const struct {
	const char		*name;
	bool			 reject_fail;
	enum policy_spf_softfail soft;
	bool			 dns_accept;
	enum spf_result		 r;
	const char		*mech, *reason, *problem, *expl;
	enum policy_action	 action;
	int			 code;
	const char		*enh, *text, *why;
} rows[] = {
	{ "pass", ON, S_REJ, false, SPF_PASS, "ip4:192.0.2.0/24", "", "", "",
	  P, 0, "", "",
	  "mailfrom example.net: pass (ip4:192.0.2.0/24)" },
	{ "none", ON, S_REJ, false, SPF_NONE, "", "no SPF record", "", "",
	  P, 0, "", "", "mailfrom example.net: none (no SPF record)" },
	{ "neutral", ON, S_REJ, false, SPF_NEUTRAL, "?all", "", "", "",
	  P, 0, "", "", "mailfrom example.net: neutral (?all)" },
	{ "fail with explanation", ON, S_ACC, false, SPF_FAIL, "all", "", "",
	  "Mail from 192.0.2.9 is not allowed; see http://example.net/spf",
	  R, 550, "5.7.23",
	  "550 5.7.23 Mail from 192.0.2.9 is not allowed; see "
	  "http://example.net/spf",
	  "mailfrom example.net: fail (all)" },
	{ "fail without explanation", ON, S_ACC, false, SPF_FAIL, "all", "",
	  "", "", R, 550, "5.7.23",
	  "550 5.7.23 SPF: example.net does not permit mail from 192.0.2.9",
	  "mailfrom example.net: fail (all)" },
	{ "fail, reject_fail off", OFF, S_REJ, false, SPF_FAIL, "all", "", "",
	  "go away", P, 0, "", "",
	  "mailfrom example.net: fail (all); spf.reject_fail is off" },
	{ "softfail accepted", ON, S_ACC, false, SPF_SOFTFAIL, "all", "", "",
	  "", P, 0, "", "",
	  "mailfrom example.net: softfail (all); spf.softfail = \"accept\"" },
	{ "softfail tempfailed", OFF, S_TMP, false, SPF_SOFTFAIL, "all", "",
	  "", "", R, 451, "4.7.23",
	  "451 4.7.23 SPF softfail: example.net does not permit mail from "
	  "192.0.2.9, try again later",
	  "mailfrom example.net: softfail (all)" },
	{ "softfail rejected", OFF, S_REJ, false, SPF_SOFTFAIL, "all", "", "",
	  "", R, 550, "5.7.23",
	  "550 5.7.23 SPF softfail: example.net does not permit mail from "
	  "192.0.2.9",
	  "mailfrom example.net: softfail (all)" },
	{ "temperror tempfailed", ON, S_ACC, false, SPF_TEMPERROR, "",
	  "DNS error", "example.net", "", R, 451, "4.7.24",
	  "451 4.7.24 Temporary SPF error for example.net, try again later",
	  "mailfrom example.net: temperror (DNS error: example.net)" },
	{ "temperror accepted", ON, S_REJ, true, SPF_TEMPERROR, "",
	  "DNS error", "a:x.example.net", "", P, 0, "", "",
	  "mailfrom example.net: temperror (DNS error: a:x.example.net); "
	  "on_dns_error = \"accept\"" },
	{ "permerror accepted", ON, S_REJ, false, SPF_PERMERROR, "",
	  "more than one SPF record", "", "", P, 0, "", "",
	  "mailfrom example.net: permerror (more than one SPF record); "
	  "accepted" },
	/* the mechanism is from DNS: sanitised in the reason */
	{ "hostile mechanism", ON, S_ACC, false, SPF_PASS, "a:x y\"z", "", "",
	  "", P, 0, "", "", "mailfrom example.net: pass (a:x?y\"z)" },
};

static void
test_results(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(rows); i++) {
		struct policy_spf_cfg		cfg = { true, rows[i].reject_fail,
		    rows[i].soft, rows[i].dns_accept };
		struct policy_client		cl = client(false, NULL);
		struct policy_spf_outcome	mf = outcome(SPF_ID_MAILFROM,
		    rows[i].r, "example.net", rows[i].mech, rows[i].reason,
		    rows[i].problem, rows[i].expl);
		struct policy_verdict		v;

		print_message("%s\n", rows[i].name);
		assert_int_equal(policy_spf(&cfg, &cl, NULL, &mf, &v),
		    rows[i].action);
		assert_int_equal(v.action, rows[i].action);
		assert_int_equal(v.check, POLICY_CK_SPF);
		assert_int_equal(v.at, POLICY_AT_MAIL);
		assert_int_equal(v.code, rows[i].code);
		assert_string_equal(v.enh, rows[i].enh);
		assert_string_equal(v.text, rows[i].text);
		assert_string_equal(v.reason, rows[i].why);
		assert_int_equal(v.score, 0);
	}
	assert_string_equal(policy_check_name(POLICY_CK_SPF), "spf");
}

/* Off, or nothing checked: a plain PASS that names no check. */
static void
test_off(void **state)
{
	struct policy_spf_cfg		off = { false, true, S_REJ, false };
	struct policy_spf_cfg		on = { true, true, S_REJ, false };
	struct policy_client		cl = client(false, NULL);
	struct policy_spf_outcome	mf = outcome(SPF_ID_MAILFROM, SPF_FAIL,
	    "example.net", "all", "", "", "");
	struct policy_spf_outcome	none;
	struct policy_verdict		v;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_int_equal(policy_spf(&off, &cl, NULL, &mf, &v), P);
	assert_int_equal(v.check, POLICY_CK_NONE);
	assert_string_equal(v.text, "");
	assert_int_equal(policy_spf(&on, &cl, NULL, NULL, &v), P);
	assert_int_equal(v.check, POLICY_CK_NONE);
	assert_int_equal(policy_spf(&on, &cl, &none, &none, &v), P);
	assert_int_equal(v.check, POLICY_CK_NONE);
}

/* trusted_networks and authenticated clients: never refused. */
static void
test_exempt(void **state)
{
	struct policy_spf_cfg		cfg = { true, true, S_REJ, false };
	struct policy_client		tr = client(true, NULL);
	struct policy_client		au = client(false, "alice");
	struct policy_spf_outcome	mf = outcome(SPF_ID_MAILFROM, SPF_FAIL,
	    "example.net", "all", "", "", "");
	struct policy_verdict		v;

	(void)state;
	assert_int_equal(policy_spf(&cfg, &tr, NULL, &mf, &v), P);
	assert_int_equal(v.check, POLICY_CK_SPF);
	assert_int_equal(v.code, 0);
	assert_string_equal(v.reason, "mailfrom example.net: fail (all); "
	    "client in trusted_networks");
	assert_int_equal(policy_spf(&cfg, &au, NULL, &mf, &v), P);
	assert_string_equal(v.reason, "mailfrom example.net: fail (all); "
	    "authenticated client");
}

/* A long explanation is cut at 200 octets; the reply stays one line. */
static void
test_long_explanation(void **state)
{
	struct policy_spf_cfg		cfg = { true, true, S_ACC, false };
	struct policy_client		cl = client(false, NULL);
	struct policy_spf_outcome	mf;
	struct policy_verdict		v;
	char				expl[SPF_EXPLAIN_MAX + 1], want[256];

	(void)state;
	memset(expl, 'x', SPF_EXPLAIN_MAX);
	expl[SPF_EXPLAIN_MAX] = '\0';
	mf = outcome(SPF_ID_MAILFROM, SPF_FAIL, "example.net", "all", "", "",
	    expl);
	assert_int_equal(policy_spf(&cfg, &cl, NULL, &mf, &v), R);
	memcpy(want, "550 5.7.23 ", 11);
	memset(want + 11, 'x', POLICY_SPF_EXPLAIN);
	memcpy(want + 11 + POLICY_SPF_EXPLAIN, "...", 4);
	assert_string_equal(v.text, want);
	assert_int_equal(strlen(v.text), 11 + 200 + 3);
}

/*
 * Which identity decides: a HELO fail (conclusive, RFC 7208 2.3), else
 * MAIL FROM when checked, else HELO.
 */
static void
test_deciding(void **state)
{
	struct policy_spf_cfg		cfg = { true, true, S_ACC, false };
	struct policy_client		cl = client(false, NULL);
	struct policy_spf_outcome	hf = outcome(SPF_ID_HELO, SPF_FAIL,
	    "mx.example.net", "all", "", "", "");
	struct policy_spf_outcome	hp = outcome(SPF_ID_HELO, SPF_PASS,
	    "mx.example.net", "a", "", "", "");
	struct policy_spf_outcome	mp = outcome(SPF_ID_MAILFROM, SPF_PASS,
	    "example.net", "mx", "", "", "");
	struct policy_spf_outcome	mf = outcome(SPF_ID_MAILFROM, SPF_FAIL,
	    "example.net", "all", "", "", "");
	struct policy_spf_outcome	none;
	struct policy_verdict		v;

	(void)state;
	memset(&none, 0, sizeof(none));
	assert_ptr_equal(policy_spf_deciding(&hf, &mp), &hf);
	assert_ptr_equal(policy_spf_deciding(&hp, &mf), &mf);
	assert_ptr_equal(policy_spf_deciding(&hp, &none), &hp);
	assert_ptr_equal(policy_spf_deciding(&hp, NULL), &hp);
	assert_ptr_equal(policy_spf_deciding(NULL, &mf), &mf);
	assert_ptr_equal(policy_spf_deciding(&none, &none), NULL);
	assert_ptr_equal(policy_spf_deciding(NULL, NULL), NULL);

	assert_int_equal(policy_spf(&cfg, &cl, &hf, &mp, &v), R);
	assert_string_equal(v.text, "550 5.7.23 SPF: mx.example.net does not "
	    "permit mail from 192.0.2.9");
	assert_string_equal(v.reason, "helo mx.example.net: fail (all)");
	assert_int_equal(policy_spf(&cfg, &cl, &hp, &mp, &v), P);
	assert_string_equal(v.reason, "mailfrom example.net: pass (mx)");
	assert_string_equal(policy_spf_identity_name(SPF_ID_HELO), "helo");
	assert_string_equal(policy_spf_identity_name(SPF_ID_MAILFROM),
	    "mailfrom");
}

/* Answer the evaluator's current question with TXT strings (or none). */
static void
answer_txt(struct spf *s, const char *name, const struct span *txt,
    size_t ntxt)
{
	struct spf_query	q;
	struct spf_rr		rr;
	struct spf_answer	a = { SPF_RC_NOERROR, &rr, 1 };

	assert_int_equal(spf_next(s, &q), SPF_NEED);
	assert_int_equal(q.type, SPF_T_TXT);
	assert_string_equal(q.name, name);
	memset(&rr, 0, sizeof(rr));
	rr.txt = txt;
	rr.ntxt = ntxt;
	spf_answer(s, &a);
}

/*
 * An evaluation copied out: blanks around the explanation go, the
 * domain and mechanism are kept, and the evaluator's state is not
 * needed afterwards. An explanation with a control octet (from DNS) is
 * no explanation at all (RFC 7208 7.1: not a macro-string): the
 * default text is given.
 */
static void
test_outcome_copy(void **state)
{
	static const char	rec[] = "v=spf1 -all exp=why.example.net";
	static const char	why[] = "  no entry for %{i}   ";
	static const char	bad[] = "no\r\nentry %{i}";
	struct span		r = { rec, sizeof(rec) - 1 };
	struct span		w = { why, sizeof(why) - 1 };
	struct span		wb = { bad, sizeof(bad) - 1 };
	struct spf_request	req;
	struct spf_query	q;
	struct policy_spf_outcome o;
	struct spf		*s = malloc(spf_size());

	(void)state;
	assert_non_null(s);
	memset(&req, 0, sizeof(req));
	assert_int_equal(net_addr_parse("192.0.2.9", 9, &req.ip), 0);
	req.identity = SPF_ID_MAILFROM;
	req.sender = (struct span){ "bob@example.net", 15 };
	req.helo = (struct span){ "mx.example.net", 14 };
	spf_begin(s, &req);
	answer_txt(s, "example.net", &r, 1);
	answer_txt(s, "why.example.net", &w, 1);
	assert_int_equal(spf_next(s, &q), SPF_DONE);
	policy_spf_outcome(s, SPF_ID_MAILFROM, &o);
	memset(s, 0xa5, spf_size());	/* nothing may point into it */
	free(s);
	assert_true(o.ran);
	assert_int_equal(o.result, SPF_FAIL);
	assert_int_equal(o.identity, SPF_ID_MAILFROM);
	assert_string_equal(o.domain, "example.net");
	assert_string_equal(o.mechanism, "all");
	assert_string_equal(o.explanation, "no entry for 192.0.2.9");
	assert_string_equal(o.problem, "");

	s = malloc(spf_size());
	assert_non_null(s);
	spf_begin(s, &req);
	answer_txt(s, "example.net", &r, 1);
	answer_txt(s, "why.example.net", &wb, 1);
	assert_int_equal(spf_next(s, &q), SPF_DONE);
	policy_spf_outcome(s, SPF_ID_MAILFROM, &o);
	free(s);
	assert_int_equal(o.result, SPF_FAIL);
	assert_string_equal(o.explanation, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_exempt),
		cmocka_unit_test(test_long_explanation),
		cmocka_unit_test(test_deciding),
		cmocka_unit_test(test_outcome_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
