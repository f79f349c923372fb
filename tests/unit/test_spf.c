/*
 * tests/unit/test_spf.c - core/spf*.c, the RFC 7208 evaluator, driven
 * by table zone data instead of DNS:
 * - the RFC 7208 test suite and pyspf's test file (tests/data/spf,
 *   turned into spf_cases.h by gen_spf.py): every test's result must be
 *   one the suite accepts, its explanation the one the suite gives, and
 *   for pyspf's header tests the Received-SPF: result and key-value
 *   pairs pyspf gives. Tests whose expectation is pyspf's own choice
 *   and not RFC 7208 are listed in pyspf_differs with the reason, and
 *   checked to give the RFC 7208 answer instead;
 * - Received-SPF: fields typed by hand;
 * - hostile records and answers (long records, macro bombs, include
 *   chains and loops, bad UTF-8, NUL bytes, oversized answers).
 * Every query the evaluator makes is checked to be a sane DNS name and
 * the number of queries to stay within SPF_MAX_QUERIES.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "core/net.h"
#include "core/spf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Z_TXT1: a TXT record of one string, data[0..data_len) (own tables). */
enum ztype { Z_A, Z_AAAA, Z_MX, Z_PTR, Z_TXT, Z_CNAME, Z_TIMEOUT, Z_TXT1 };

struct zstr {
	const char	*p;
	size_t		 len;
};

/* One record of a zone: TXT strings are zstrs[first .. first + n). */
struct zrr {
	int		 zone;
	const char	*name;
	size_t		 name_len;
	enum ztype	 type;
	const char	*data;
	size_t		 data_len;
	int		 first;
	int		 n;
};

struct scase {
	const char	*file;
	const char	*name;
	int		 zone;
	const char	*helo;
	size_t		 helo_len;
	const char	*host;
	const char	*mailfrom;
	size_t		 mailfrom_len;
	unsigned	 results;	/* bits R(result) */
	const char	*explanation;
	size_t		 explanation_len;
	const char	*receiver;
	size_t		 receiver_len;
	const char	*header;
	size_t		 header_len;
};

#define R(r)	(1u << (r))
#define R_OTHER	(1u << 30)	/* a result RFC 7208 does not have */

#include "spf_cases.h"

/*
 * Tests of pyspf-test.yml whose expected result is a pyspf option, not
 * RFC 7208: the result RFC 7208 gives instead, and why.
 */
static const struct {
	const char	*name;
	enum spf_result	 rfc;
	const char	*why;
} pyspf_differs[] = {
	{ "default-modifier", SPF_NEUTRAL,
	  "strict: 0 is pyspf's lax mode, which obeys the default= "
	  "modifier of pre-RFC 4408 drafts; RFC 7208 6 says unknown "
	  "modifiers are ignored, so \"v=spf1 default=-\" is neutral "
	  "(the RFC suite's default-modifier-obsolete expects that)" },
	{ "default-modifier-harsh", SPF_NEUTRAL,
	  "\"ambiguous\" is a result of pyspf's harsh mode (strict: 2) "
	  "only; RFC 7208 2.6 has no such result" },
};

/* A zone: records of the generated tables, or a hand-typed array. */
struct zone {
	const struct zrr	*rr;
	size_t			 nrr;
	const struct zstr	*strs;
	int			 id;	/* -1: all of rr */
};

#define ANS_MAX	64
struct ans {
	struct spf_rr	rr[ANS_MAX];
	struct span	txt[ANS_MAX * 4];
	size_t		ntxt;
};

/* Every query is a name a DNS client can send (RFC 1035 2.3.4). */
static void
check_query(const struct spf_query *q)
{
	size_t lab = 0;

	assert_true(q->len > 0 && q->len <= SPF_NAME_MAX);
	assert_int_equal(strlen(q->name), q->len);
	for (size_t i = 0; i <= q->len; i++) {
		if (i == q->len || q->name[i] == '.') {
			assert_true(lab > 0 && lab <= 63);
			lab = 0;
			continue;
		}
		assert_true(q->name[i] >= 0x20 && q->name[i] <= 0x7e &&
		    q->name[i] != '\\');
		lab++;
	}
}

static bool
zname_eq(const struct zrr *r, const char *n, size_t len)
{
	return r->name_len == len && strncasecmp(r->name, n, len) == 0;
}

static bool
type_is(enum ztype z, enum spf_qtype t)
{
	return (z == Z_A && t == SPF_T_A) || (z == Z_AAAA && t == SPF_T_AAAA) ||
	    (z == Z_MX && t == SPF_T_MX) || (z == Z_PTR && t == SPF_T_PTR) ||
	    ((z == Z_TXT || z == Z_TXT1) && t == SPF_T_TXT);
}

static void
add_rr(struct ans *b, struct spf_answer *a, const struct zone *z,
    const struct zrr *r)
{
	struct spf_rr	*o = &b->rr[a->nrr++];
	struct net_addr	 na;

	memset(o, 0, sizeof(*o));
	switch (r->type) {
	case Z_A:
	case Z_AAAA:
		assert_int_equal(net_addr_parse(r->data, r->data_len, &na), 0);
		memcpy(o->addr, na.addr, 16);
		break;
	case Z_TXT:
		o->txt = &b->txt[b->ntxt];
		o->ntxt = (size_t)r->n;
		for (int i = 0; i < r->n; i++) {
			b->txt[b->ntxt].p = z->strs[r->first + i].p;
			b->txt[b->ntxt++].len = z->strs[r->first + i].len;
		}
		break;
	case Z_TXT1:
		o->txt = &b->txt[b->ntxt];
		o->ntxt = 1;
		b->txt[b->ntxt++] = span_make(r->data, r->data_len);
		break;
	default:
		o->name = span_make(r->data, r->data_len);
		break;
	}
}

/*
 * The answer the suites' reference driver gives: records of the type
 * in order; TIMEOUT is a temporary error unless a record of the type
 * came before it; CNAMEs are followed (8 at most: a loop is an error);
 * a name without any data is NXDOMAIN.
 */
static void
lookup(const struct zone *z, const struct spf_query *q, struct ans *b,
    struct spf_answer *a)
{
	const char	*name = q->name;
	size_t		 len = q->len;

	memset(a, 0, sizeof(*a));
	a->rr = b->rr;
	b->ntxt = 0;
	for (int hop = 0; hop < 8; hop++) {
		const struct zrr	*cname = NULL;
		bool			 known = false;

		for (size_t i = 0; i < z->nrr; i++) {
			const struct zrr *r = &z->rr[i];

			if ((z->id >= 0 && r->zone != z->id) ||
			    !zname_eq(r, name, len))
				continue;
			known = true;
			if (r->type == Z_TIMEOUT) {
				if (a->nrr == 0) {
					a->rcode = SPF_RC_ERROR;
					return;
				}
				break;
			}
			if (r->type == Z_CNAME && cname == NULL)
				cname = r;
			if (type_is(r->type, q->type) && a->nrr < ANS_MAX)
				add_rr(b, a, z, r);
		}
		if (!known) {
			a->rcode = SPF_RC_NXDOMAIN;
			return;
		}
		if (a->nrr > 0 || cname == NULL)
			return;
		name = cname->data;
		len = cname->data_len;
		if (len > 0 && name[len - 1] == '.')
			len--;
	}
	a->rcode = SPF_RC_ERROR;
}

/* Run one evaluation against a zone; returns the number of queries. */
static unsigned
run(struct spf *s, const struct spf_request *req, const struct zone *z)
{
	struct spf_query	q;
	struct spf_answer	a;
	static struct ans	b;
	unsigned		n = 0;

	spf_begin(s, req);
	while (spf_next(s, &q) == SPF_NEED) {
		check_query(&q);
		assert_true(++n <= SPF_MAX_QUERIES);
		lookup(z, &q, &b, &a);
		spf_answer(s, &a);
	}
	return n;
}

static struct spf *
spf_new(void)
{
	struct spf *s = malloc(spf_size());

	assert_non_null(s);
	return s;
}

static void
request(struct spf_request *req, const char *ip, const char *from,
    size_t from_len, const char *helo, size_t helo_len, const char *rcv,
    size_t rcv_len)
{
	memset(req, 0, sizeof(*req));
	assert_int_equal(net_addr_parse(ip, strlen(ip), &req->ip), 0);
	req->identity = SPF_ID_MAILFROM;
	req->sender = span_make(from, from_len);
	req->helo = span_make(helo, helo_len);
	req->receiver = span_make(rcv, rcv_len);
}

static bool
ieq(struct span a, const char *b, size_t blen)
{
	return a.len == blen && (blen == 0 || strncasecmp(a.p, b, blen) == 0);
}

/* Field value unfolded, after "Received-SPF: ", without CRLF. */
static size_t
unfold(const char *in, char *out)
{
	size_t n = 0;

	assert_true(strncmp(in, "Received-SPF: ", 14) == 0);
	for (in += 14; *in != '\0'; in++) {
		if (in[0] == '\r' && in[1] == '\n') {
			in++;
			if (in[1] == '\t' || in[1] == ' ') {
				in++;
				out[n++] = ' ';
			}
			continue;
		}
		out[n++] = *in;
	}
	out[n] = '\0';
	return n;
}

/* "Word (comment) rest": the word and what follows the comment. */
static void
split_field(const char *f, char *word, const char **rest)
{
	size_t	i = 0;
	int	depth = 0;

	while (f[i] != ' ' && f[i] != '\0') {
		word[i] = f[i];
		i++;
	}
	word[i] = '\0';
	while (f[i] == ' ')
		i++;
	if (f[i] == '(') {
		do {
			if (f[i] == '\\' && f[i + 1] != '\0')
				i++;
			else if (f[i] == '(')
				depth++;
			else if (f[i] == ')')
				depth--;
			i++;
		} while (depth > 0 && f[i] != '\0');
	}
	while (f[i] == ' ')
		i++;
	*rest = f + i;
}

/*
 * pyspf's Received-SPF: the result and the key-value pairs must be the
 * same; the comment is free text (RFC 7208 9.1) and pyspf words its
 * errors its own way.
 */
static bool
header_matches(const struct spf *s, const struct scase *c)
{
	char		 out[4096], got[4096], w1[32], w2[32];
	const char	*r1, *r2;

	assert_true(spf_received_header(s, out, sizeof(out)) > 0);
	unfold(out, got);
	split_field(got, w1, &r1);
	split_field(c->header, w2, &r2);
	if (strcasecmp(w1, w2) != 0 || strcmp(r1, r2) != 0) {
		print_message("  header: %s\n  pyspf:  %s\n", got, c->header);
		return false;
	}
	return true;
}

static bool
case_passes(struct spf *s, const struct scase *c)
{
	struct spf_request	req;
	struct spf_verdict	v;
	struct zone		z = { zrrs, N(zrrs), zstrs, c->zone };

	request(&req, c->host, c->mailfrom, c->mailfrom_len, c->helo,
	    c->helo_len, c->receiver, c->receiver_len);
	run(s, &req, &z);
	spf_result(s, &v);
	if ((c->results & R(v.result)) == 0) {
		print_message("%s %s: got %s (%s) \"%.*s\"\n", c->file,
		    c->name, spf_result_name(v.result),
		    v.reason ? v.reason : "", (int)v.problem.len, v.problem.p);
		return false;
	}
	if (c->explanation != NULL) {
		bool def = strcmp(c->explanation, "DEFAULT") == 0;

		/* The suite writes the nibbles of an IPv6 %{i} in capitals,
		 * RFC 7208 7.4 in lower case: DNS names ignore case. */
		if (def ? v.explanation.len != 0 : !ieq(v.explanation,
		    c->explanation, c->explanation_len)) {
			print_message("%s %s: explanation \"%.*s\"\n", c->file,
			    c->name, (int)v.explanation.len,
			    v.explanation.p);
			return false;
		}
	}
	if (c->header != NULL && !header_matches(s, c))
		return false;
	return true;
}

static int
differs(const struct scase *c)
{
	if (strcmp(c->file, "pyspf-test.yml") != 0)
		return -1;
	for (size_t i = 0; i < N(pyspf_differs); i++)
		if (strcmp(pyspf_differs[i].name, c->name) == 0)
			return (int)i;
	return -1;
}

static void
run_file(const char *file, size_t want_total, size_t want_differ)
{
	struct spf	*s = spf_new();
	size_t		 total = 0, passed = 0, listed = 0;

	for (size_t i = 0; i < N(scases); i++) {
		const struct scase *c = &scases[i];
		int d;

		if (strcmp(c->file, file) != 0)
			continue;
		total++;
		d = differs(c);
		if (d >= 0) {
			struct spf_verdict v;

			/* Not passed: the RFC 7208 answer is checked. */
			assert_false(case_passes(s, c));
			spf_result(s, &v);
			assert_int_equal(v.result, pyspf_differs[d].rfc);
			print_message("%s %s: pyspf-specific, not run as "
			    "given: %s\n", file, c->name, pyspf_differs[d].why);
			listed++;
			continue;
		}
		if (case_passes(s, c))
			passed++;
	}
	print_message("%s: %zu of %zu tests passed, %zu pyspf-specific\n",
	    file, passed, total, listed);
	assert_int_equal(total, want_total);
	assert_int_equal(listed, want_differ);
	assert_int_equal(passed, total - listed);
	free(s);
}

static void
test_rfc7208_suite(void **state)
{
	(void)state;
	run_file("rfc7208-tests.yml", 203, 0);
}

static void
test_pyspf_suite(void **state)
{
	(void)state;
	run_file("pyspf-test.yml", 16, N(pyspf_differs));
}

/* ---- own tables ---- */

#define ZR(n, t, d) { 0, n, sizeof(n) - 1, t, d, sizeof(d) - 1, 0, 0 }
#define ZTXT(n, d)  ZR(n, Z_TXT1, d)
#define ZS(s)       { s, sizeof(s) - 1 }
#define ZSP(s)      ((struct span)ZS(s))
#define ZONE(a)     ((struct zone){ a, N(a), NULL, -1 })

static enum spf_result
eval(struct spf *s, const struct zone *z, const char *ip, struct span from,
    struct span helo, struct spf_verdict *v, unsigned *nq)
{
	struct spf_request req;

	request(&req, ip, from.p, from.len, helo.p, helo.len,
	    "mx.example.org", 14);
	req.now = 1234567890;
	*nq = run(s, &req, z);
	return spf_result(s, v);
}

/* RFC 7208 7.4's examples, and the other letters, seen as the name the
 * "exists" mechanism asks for. */
static const struct {
	const char	*ip;
	const char	*spec;
	const char	*name;
} macro_cases[] = {
	{ "192.0.2.3", "%{s}", "strong-bad@email.example.com" },
	{ "192.0.2.3", "%{o}", "email.example.com" },
	{ "192.0.2.3", "%{d}", "email.example.com" },
	{ "192.0.2.3", "%{d4}", "email.example.com" },
	{ "192.0.2.3", "%{d3}", "email.example.com" },
	{ "192.0.2.3", "%{d2}", "example.com" },
	{ "192.0.2.3", "%{d1}.x.y", "com.x.y" },
	{ "192.0.2.3", "%{dr}", "com.example.email" },
	{ "192.0.2.3", "%{d2r}", "example.email" },
	{ "192.0.2.3", "%{l}.x.y", "strong-bad.x.y" },
	{ "192.0.2.3", "%{l-}.x.y", "strong.bad.x.y" },
	{ "192.0.2.3", "%{lr}.x.y", "strong-bad.x.y" },
	{ "192.0.2.3", "%{lr-}.x.y", "bad.strong.x.y" },
	{ "192.0.2.3", "%{l1r-}.x.y", "strong.x.y" },
	{ "192.0.2.3", "%{ir}.%{v}._spf.%{d2}",
	  "3.2.0.192.in-addr._spf.example.com" },
	{ "192.0.2.3", "%{lr-}.lp._spf.%{d2}",
	  "bad.strong.lp._spf.example.com" },
	{ "192.0.2.3", "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}",
	  "bad.strong.lp.3.2.0.192.in-addr._spf.example.com" },
	{ "192.0.2.3", "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}",
	  "3.2.0.192.in-addr.strong.lp._spf.example.com" },
	{ "192.0.2.3", "%{d2}.trusted-domains.example.net",
	  "example.com.trusted-domains.example.net" },
	{ "2001:db8::cb01", "%{ir}.%{v}._spf.%{d2}",
	  "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"
	  ".ip6._spf.example.com" },
	{ "::ffff:192.0.2.3", "%{i}.%{v}.x.y", "192.0.2.3.in-addr.x.y" },
	{ "192.0.2.3", "%{h}", "helo.example.net" },
	{ "192.0.2.3", "%{H}.%{L}.x.y", "helo.example.net.strong-bad.x.y" },
	{ "192.0.2.3", "%{S}.x.y", "strong-bad%40email.example.com.x.y" },
	{ "192.0.2.3", "a%%b%_c%-d.x.y", "a%b c%20d.x.y" },
	{ "192.0.2.3", "%{d200}.x", "email.example.com.x" },
	{ "192.0.2.3", "%{l2r+-=}.x", "bad.strong.x" },
	/* one trailing dot goes (RFC 7208 7.3) */
	{ "192.0.2.3", "%{d}.x.y.", "email.example.com.x.y" },
};

static void
test_macros(void **state)
{
	struct spf		*s = spf_new();
	struct spf_request	 req;
	struct spf_query	 q;
	struct spf_rr		 rr;
	struct spf_answer	 a = { SPF_RC_NOERROR, &rr, 1 };
	char			 rec[256];
	struct span		 str;

	(void)state;
	for (size_t i = 0; i < N(macro_cases); i++) {
		request(&req, macro_cases[i].ip,
		    "strong-bad@email.example.com", 28, "helo.example.net",
		    16, NULL, 0);
		spf_begin(s, &req);
		assert_int_equal(spf_next(s, &q), SPF_NEED);
		assert_string_equal(q.name, "email.example.com");
		assert_int_equal(q.type, SPF_T_TXT);
		snprintf(rec, sizeof(rec), "v=spf1 exists:%s -all",
		    macro_cases[i].spec);
		str = span_make(rec, strlen(rec));
		memset(&rr, 0, sizeof(rr));
		rr.txt = &str;
		rr.ntxt = 1;
		spf_answer(s, &a);
		if (spf_next(s, &q) != SPF_NEED || q.type != SPF_T_A)
			fail_msg("%s: no A query", macro_cases[i].spec);
		if (strcmp(q.name, macro_cases[i].name) != 0)
			fail_msg("%s: %s", macro_cases[i].spec, q.name);
	}
	free(s);
}

/* Explanation-only letters, the exp= text kept as written. */
static void
test_exp_letters(void **state)
{
	static const struct zrr z4[] = {
		ZTXT("email.example.com", "v=spf1 -all exp=e.example.com"),
		ZTXT("e.example.com", "%{c} %{r} %{t}: %{l} %{C}."),
	};
	struct zone		 z = ZONE(z4);
	struct spf		*s = spf_new();
	struct spf_verdict	 v;
	unsigned		 nq;
	static const char	 want4[] = "192.0.2.3 mx.example.org "
	    "1234567890: strong-bad 192.0.2.3.";
	static const char	 want6[] = "2001:db8::cb01 mx.example.org "
	    "1234567890: strong-bad 2001%3Adb8%3A%3Acb01.";

	(void)state;
	assert_int_equal(eval(s, &z, "192.0.2.3",
	    ZSP("strong-bad@email.example.com"), ZSP("h.example.net"), &v, &nq),
	    SPF_FAIL);
	if (!ieq(v.explanation, want4, sizeof(want4) - 1))
		fail_msg("%.*s", (int)v.explanation.len, v.explanation.p);
	assert_int_equal(nq, 2);
	assert_int_equal(eval(s, &z, "2001:db8::cb01",
	    ZSP("strong-bad@email.example.com"), ZSP("h.example.net"), &v, &nq),
	    SPF_FAIL);
	assert_int_equal(v.explanation.len, sizeof(want6) - 1);
	assert_memory_equal(v.explanation.p, want6, sizeof(want6) - 1);
	free(s);
}

/* Received-SPF: typed by hand, folding at 78 columns included. */
static void
test_received_header(void **state)
{
	static const struct zrr z[] = {
		ZTXT("example.com", "v=spf1 ip4:192.0.2.0/24 -all"),
		ZTXT("mail.example.com", "v=spf1 -all"),
		ZTXT("example.net", "v=spf1 ?ip4:10.0.0.0/8"),
		ZTXT("example.org", "v=spf1 a:bad\"dom -all"),
	};
	static const struct {
		const char	*ip;
		struct span	 from, helo, rcv;
		const char	*want;
	} cases[] = {
		{ "192.0.2.1", ZS("a@example.com"), ZS("mail.example.com"),
		  ZS("mx.example.org"),
		  "Received-SPF: pass (mx.example.org: domain of example.com "
		  "designates 192.0.2.1\r\n"
		  "\tas permitted sender) client-ip=192.0.2.1; "
		  "envelope-from=\"a@example.com\";\r\n"
		  "\thelo=mail.example.com; receiver=mx.example.org; "
		  "mechanism=\"ip4:192.0.2.0/24\";\r\n"
		  "\tidentity=mailfrom\r\n" },
		/* null sender: postmaster@HELO, no receiver, IPv6 */
		{ "2001:db8::1", ZS(""), ZS("mail.example.com"), ZS(""),
		  "Received-SPF: fail (domain of mail.example.com does not "
		  "designate 2001:db8::1\r\n"
		  "\tas permitted sender) client-ip=\"2001:db8::1\"; "
		  "envelope-from=\"\";\r\n"
		  "\thelo=mail.example.com; mechanism=all; "
		  "identity=mailfrom\r\n" },
		{ "192.0.2.1", ZS("b@example.net"), ZS("h.example.net"),
		  ZS("mx.example.org"),
		  "Received-SPF: neutral (mx.example.org: 192.0.2.1 is neither "
		  "permitted nor\r\n"
		  "\tdenied by domain of example.net) client-ip=192.0.2.1;\r\n"
		  "\tenvelope-from=\"b@example.net\"; helo=h.example.net; "
		  "receiver=mx.example.org;\r\n"
		  "\tmechanism=default; identity=mailfrom\r\n" },
		/* hostile identities: no header injection, no comment
		 * escape, quoted-string escapes, 8-bit made "?" */
		{ "192.0.2.1", ZS("x\"y\\z\377@example.org"),
		  ZS("evil\r\nX-Injected: yes"), ZS("mx(a)\\b"),
		  "Received-SPF: permerror (mx?a??b: permanent error in "
		  "processing domain of\r\n"
		  "\texample.org: syntax error) client-ip=192.0.2.1;\r\n"
		  "\tenvelope-from=\"x\\\"y\\\\z?@example.org\"; "
		  "helo=\"evil??X-Injected: yes\";\r\n"
		  "\treceiver=\"mx(a)\\\\b\"; problem=\"bad\\\"dom\"; "
		  "identity=mailfrom\r\n" },
		{ "192.0.2.1", ZS("c@nothing.example"), ZS("h.example.net"),
		  ZS("mx.example.org"),
		  "Received-SPF: none (mx.example.org: domain of "
		  "nothing.example does not\r\n"
		  "\tdesignate permitted sender hosts) "
		  "client-ip=192.0.2.1;\r\n"
		  "\tenvelope-from=\"c@nothing.example\"; "
		  "helo=h.example.net;\r\n"
		  "\treceiver=mx.example.org; identity=mailfrom\r\n" },
	};
	struct zone		 zz = ZONE(z);
	struct spf		*s = spf_new();
	struct spf_request	 req;
	char			 out[4096];
	size_t			 n;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		request(&req, cases[i].ip, cases[i].from.p, cases[i].from.len,
		    cases[i].helo.p, cases[i].helo.len, cases[i].rcv.p,
		    cases[i].rcv.len);
		run(s, &req, &zz);
		n = spf_received_header(s, out, sizeof(out));
		assert_int_equal(n, strlen(cases[i].want));
		assert_string_equal(out, cases[i].want);
		/* too small a buffer: nothing, not a cut field */
		assert_int_equal(spf_received_header(s, out, n), 0);
		assert_string_equal(out, "");
	}
	free(s);
}

/* Long untrusted values: cut to 255 octets, no line over 998. */
static void
test_received_header_long(void **state)
{
	static const struct zrr z[] = {
		ZTXT("example.com", "v=spf1 ip4:192.0.2.0/24 -all"),
	};
	struct zone		 zz = ZONE(z);
	struct spf		*s = spf_new();
	struct spf_request	 req;
	char			 from[501], out[4096], want[300];
	const char		*line, *p;

	(void)state;
	memset(from, 'a', 488);
	memcpy(from + 488, "@example.com", 12);
	request(&req, "192.0.2.1", from, 500, "mail.example.com", 16,
	    "mx.example.org", 14);
	run(s, &req, &zz);
	assert_true(spf_received_header(s, out, sizeof(out)) > 0);
	/* cut to 255 octets, what is left is a dot-atom */
	memcpy(want, "\tenvelope-from=", 15);
	memset(want + 15, 'a', 255);
	memcpy(want + 270, ";", 2);
	if (strstr(out, want) == NULL)
		fail_msg("%s", out);
	for (line = out; (p = strstr(line, "\r\n")) != NULL; line = p + 2)
		assert_true(p - line <= 998);
	free(s);
}

/* A record of strings joined from a runtime buffer. */
struct bigzone {
	struct zrr	rr[128];
	char		names[128][32];
	size_t		n;
};

static void
bz_add(struct bigzone *b, const char *name, enum ztype t, const char *d,
    size_t dlen)
{
	struct zrr *r = &b->rr[b->n];

	assert_true(b->n < N(b->rr));
	snprintf(b->names[b->n], sizeof(b->names[0]), "%s", name);
	memset(r, 0, sizeof(*r));
	r->name = b->names[b->n];
	r->name_len = strlen(r->name);
	r->type = t;
	r->data = d;
	r->data_len = dlen;
	b->n++;
}

static void
test_long_records(void **state)
{
	static struct bigzone	 b;
	struct zone		 z;
	struct spf		*s = spf_new();
	struct spf_verdict	 v;
	static char		 rec[SPF_RECORD_MAX + 100];
	size_t			 n;
	unsigned		 nq;

	(void)state;
	/* just under the limit: 290 ip4 terms, then -all */
	n = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
	while (n + 14 + 5 <= SPF_RECORD_MAX)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n,
		    " ip4:10.0.0.1");
	n += (size_t)snprintf(rec + n, sizeof(rec) - n, " -all");
	b.n = 0;
	bz_add(&b, "example.com", Z_TXT1, rec, n);
	z = (struct zone){ b.rr, b.n, NULL, -1 };
	assert_int_equal(eval(s, &z, "192.0.2.1", ZSP("a@example.com"),
	    ZSP("h.example.com"), &v, &nq), SPF_FAIL);
	assert_true(ieq(v.mechanism, "all", 3));

	/* over it */
	memset(rec + n, ' ', 100);
	b.rr[0].data_len = n + 100;
	assert_int_equal(eval(s, &z, "192.0.2.1", ZSP("a@example.com"),
	    ZSP("h.example.com"), &v, &nq), SPF_PERMERROR);
	assert_string_equal(v.reason, "SPF record too long");
	free(s);
}

/* %{s} repeated: a domain expansion past SPF_EXPAND_MAX is a
 * permerror; an explanation is cut at SPF_EXPLAIN_MAX. */
static void
test_macro_bomb(void **state)
{
	static struct bigzone	 b;
	struct zone		 z;
	struct spf		*s = spf_new();
	struct spf_verdict	 v;
	static char		 rec[SPF_RECORD_MAX], exp[SPF_RECORD_MAX];
	char			 from[300];
	size_t			 n, e = 0;
	unsigned		 nq;

	(void)state;
	memset(from, 'x', 200);
	memcpy(from + 200, "@example.com", 12);
	n = (size_t)snprintf(rec, sizeof(rec), "v=spf1 exists:");
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n, "%%{s}");
	n += (size_t)snprintf(rec + n, sizeof(rec) - n, ".example.com -all");
	b.n = 0;
	bz_add(&b, "example.com", Z_TXT1, rec, n);
	z = (struct zone){ b.rr, b.n, NULL, -1 };
	assert_int_equal(eval(s, &z, "192.0.2.1", span_make(from, 212),
	    ZSP("h.example.com"), &v, &nq), SPF_PERMERROR);
	assert_string_equal(v.reason, "macro expansion too long");
	assert_int_equal(nq, 1);

	/* the same in the explanation */
	for (int i = 0; i < 800; i++)
		e += (size_t)snprintf(exp + e, sizeof(exp) - e, "%%{l}");
	b.n = 0;
	bz_add(&b, "example.com", Z_TXT1, "v=spf1 -all exp=e.example.com",
	    29);
	bz_add(&b, "e.example.com", Z_TXT1, exp, e);
	z = (struct zone){ b.rr, b.n, NULL, -1 };
	assert_int_equal(eval(s, &z, "192.0.2.1", span_make(from, 212),
	    ZSP("h.example.com"), &v, &nq), SPF_FAIL);
	assert_int_equal(v.explanation.len, SPF_EXPLAIN_MAX);
	for (size_t i = 0; i < v.explanation.len; i++)
		assert_int_equal(v.explanation.p[i], 'x');
	free(s);
}

/* 100 includes in a row, a chain 100 deep, loops: the 11th term that
 * needs DNS ends it (RFC 7208 4.6.4), after 11 queries at most. */
static void
test_include_limits(void **state)
{
	static struct bigzone	 b;
	static char		 rec[SPF_RECORD_MAX];
	static char		 chain[101][64];
	struct zone		 z;
	struct spf		*s = spf_new();
	struct spf_verdict	 v;
	size_t			 n;
	unsigned		 nq;
	char			 name[32];

	(void)state;
	n = (size_t)snprintf(rec, sizeof(rec), "v=spf1");
	for (int i = 1; i <= 100; i++)
		n += (size_t)snprintf(rec + n, sizeof(rec) - n,
		    " include:i%d.example.com", i);
	n += (size_t)snprintf(rec + n, sizeof(rec) - n, " -all");
	b.n = 0;
	bz_add(&b, "example.com", Z_TXT1, rec, n);
	for (int i = 1; i <= 100; i++) {
		snprintf(name, sizeof(name), "i%d.example.com", i);
		bz_add(&b, name, Z_TXT1, "v=spf1 ?all", 11);
	}
	z = (struct zone){ b.rr, b.n, NULL, -1 };
	assert_int_equal(eval(s, &z, "192.0.2.1", ZSP("a@example.com"),
	    ZSP("h.example.com"), &v, &nq), SPF_PERMERROR);
	assert_string_equal(v.reason, "more than 10 DNS lookups");
	assert_true(ieq(v.problem, "include:i11.example.com", 23));
	assert_int_equal(nq, 11);

	/* d0 includes d1 includes d2 ... */
	b.n = 0;
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "d%d.example.com", i);
		n = (size_t)snprintf(chain[i], sizeof(chain[i]),
		    "v=spf1 include:d%d.example.com -all", i + 1);
		bz_add(&b, name, Z_TXT1, chain[i], n);
	}
	z = (struct zone){ b.rr, b.n, NULL, -1 };
	assert_int_equal(eval(s, &z, "192.0.2.1", ZSP("a@d0.example.com"),
	    ZSP("h.example.com"), &v, &nq), SPF_PERMERROR);
	assert_string_equal(v.reason, "more than 10 DNS lookups");
	assert_int_equal(nq, 11);
	free(s);
}

static const struct zrr hostile_zone[] = {
	ZTXT("self.example.com", "v=spf1 include:self.example.com -all"),
	ZTXT("ping.example.com", "v=spf1 redirect=pong.example.com"),
	ZTXT("pong.example.com", "v=spf1 redirect=ping.example.com"),
	ZTXT("utf8.example.com", "v=spf1 ip4:192.0.2.1 \303\050 -all"),
	ZTXT("local.example.com", "v=spf1 exists:%{l}.example.com -all"),
	ZTXT("nul.example.com", "v=spf1 ip4:192.0.2.1\0 -all"),
	ZTXT("nulv.example.com", "v=spf1\0 +all"),
	ZTXT("other.example.com", "v=spf1 +all"),
	ZTXT("other.example.com", "google-site-verification=\0\377"),
	ZTXT("two.example.com", "v=spf1 +all"),
	ZTXT("two.example.com", "V=SPF1 -all"),
	ZTXT("tab.example.com", "v=spf1\t+all"),
	ZTXT("mx11.example.com", "v=spf1 mx -all"),
	ZR("mx11.example.com", Z_MX, "m1.example.com"),
	ZR("mx11.example.com", Z_MX, "m2.example.com"),
	ZR("mx11.example.com", Z_MX, "m3.example.com"),
	ZR("mx11.example.com", Z_MX, "m4.example.com"),
	ZR("mx11.example.com", Z_MX, "m5.example.com"),
	ZR("mx11.example.com", Z_MX, "m6.example.com"),
	ZR("mx11.example.com", Z_MX, "m7.example.com"),
	ZR("mx11.example.com", Z_MX, "m8.example.com"),
	ZR("mx11.example.com", Z_MX, "m9.example.com"),
	ZR("mx11.example.com", Z_MX, "m10.example.com"),
	ZR("mx11.example.com", Z_MX, "m11.example.com"),
	ZTXT("void.example.com", "v=spf1 a:n1.example.com mx:n2.example.com "
	    "exists:n3.example.com +all"),
	ZTXT("ptr.example.com", "v=spf1 ptr -all"),
	ZR("1.2.0.192.in-addr.arpa", Z_PTR, "bad\0name.ptr.example.com"),
	ZR("1.2.0.192.in-addr.arpa", Z_PTR, "bad\\name.ptr.example.com"),
	ZR("1.2.0.192.in-addr.arpa", Z_PTR, "x.ptr.example.com.."),
	ZR("1.2.0.192.in-addr.arpa", Z_PTR, "good.ptr.example.com."),
	ZR("good.ptr.example.com", Z_A, "192.0.2.1"),
	ZR("bad\\name.ptr.example.com", Z_A, "192.0.2.1"),
	ZTXT("ex.example.com", "v=spf1 exists:timeout.example.com +all"),
	ZR("timeout.example.com", Z_TIMEOUT, ""),
	ZTXT("pt.example.com", "v=spf1 ptr:example.com ?all"),
	ZR("2.2.0.192.in-addr.arpa", Z_TIMEOUT, ""),
	ZTXT("m.example.com", "v=spf1 ip4:192.0.2.1 -all"),
	ZTXT("inc.example.com", "v=spf1 include:none.example.com +all"),
	ZTXT("none.example.com", "not spf"),
};

static const struct {
	const char	*what;
	const char	*ip;
	struct span	 from;
	enum spf_result	 want;
	const char	*reason;
	unsigned	 max_queries;
} hostile[] = {
	{ "include loop", "192.0.2.1", ZS("a@self.example.com"),
	  SPF_PERMERROR, "more than 10 DNS lookups", 11 },
	{ "redirect loop", "192.0.2.1", ZS("a@ping.example.com"),
	  SPF_PERMERROR, "more than 10 DNS lookups", 11 },
	{ "bad UTF-8 term", "192.0.2.1", ZS("a@utf8.example.com"),
	  SPF_PERMERROR, "syntax error", 1 },
	/* 8-bit bytes from %{l} never reach a query: no such name */
	{ "bad UTF-8 in %{l}", "192.0.2.1", ZS("\303\050@local.example.com"),
	  SPF_FAIL, NULL, 1 },
	{ "control byte in %{l}", "192.0.2.1", ZS("a\rb@local.example.com"),
	  SPF_FAIL, NULL, 1 },
	{ "NUL in a term", "192.0.2.1", ZS("a@nul.example.com"),
	  SPF_PERMERROR, "syntax error", 1 },
	{ "NUL after the version", "192.0.2.1", ZS("a@nulv.example.com"),
	  SPF_NONE, NULL, 1 },
	{ "NUL in another TXT record", "192.0.2.1",
	  ZS("a@other.example.com"), SPF_PASS, NULL, 1 },
	{ "two records, any case", "192.0.2.1", ZS("a@two.example.com"),
	  SPF_PERMERROR, "more than one SPF record", 1 },
	{ "TAB is no separator", "192.0.2.1", ZS("a@tab.example.com"),
	  SPF_NONE, NULL, 1 },
	{ "11 MX records", "192.0.2.1", ZS("a@mx11.example.com"),
	  SPF_PERMERROR, "more than 10 MX records", 2 },
	{ "3 void lookups", "192.0.2.1", ZS("a@void.example.com"),
	  SPF_PERMERROR, "too many void DNS lookups", 4 },
	/* bad PTR names are skipped, not queried */
	{ "hostile PTR names", "192.0.2.1", ZS("a@ptr.example.com"),
	  SPF_PASS, NULL, 3 },
	{ "timeout on exists", "192.0.2.1", ZS("a@ex.example.com"),
	  SPF_TEMPERROR, "DNS error", 2 },
	{ "timeout on PTR: no match", "192.0.2.2", ZS("a@pt.example.com"),
	  SPF_NEUTRAL, NULL, 2 },
	{ "timeout on the record", "192.0.2.1", ZS("a@timeout.example.com"),
	  SPF_TEMPERROR, "DNS error", 1 },
	{ "v4-mapped client is IPv4", "::ffff:192.0.2.1",
	  ZS("a@m.example.com"), SPF_PASS, NULL, 1 },
	{ "include without a record", "192.0.2.1", ZS("a@inc.example.com"),
	  SPF_PERMERROR, "no SPF record at the target domain", 2 },
	{ "domain literal", "192.0.2.1", ZS("a@[192.0.2.1]"), SPF_NONE,
	  "malformed domain", 0 },
	{ "single label", "192.0.2.1", ZS("a@localhost"), SPF_NONE,
	  "malformed domain", 0 },
	{ "8-bit domain", "192.0.2.1", ZS("a@b\303\244r.example"), SPF_NONE,
	  "malformed domain", 0 },
};

static void
test_hostile(void **state)
{
	struct zone		 z = ZONE(hostile_zone);
	struct spf		*s = spf_new();
	struct spf_verdict	 v;
	unsigned		 nq;

	(void)state;
	for (size_t i = 0; i < N(hostile); i++) {
		eval(s, &z, hostile[i].ip, hostile[i].from,
		    ZSP("h.example.com"), &v, &nq);
		if (v.result != hostile[i].want)
			fail_msg("%s: %s", hostile[i].what,
			    spf_result_name(v.result));
		if (hostile[i].reason != NULL)
			assert_string_equal(v.reason, hostile[i].reason);
		if (nq > hostile[i].max_queries)
			fail_msg("%s: %u queries", hostile[i].what, nq);
	}
	free(s);
}

/* Overlong identities give none; the query is repeated until answered;
 * an answer without a question and records without storage are
 * harmless. */
static void
test_api(void **state)
{
	struct spf		*s = spf_new();
	struct spf_request	 req;
	struct spf_query	 q, q2;
	struct spf_verdict	 v;
	struct spf_answer	 bad = { SPF_RC_NOERROR, NULL, 5 };
	static char		 from[SPF_SENDER_MAX + 2];

	(void)state;
	memset(from, 'a', sizeof(from));
	memcpy(from + SPF_SENDER_MAX - 12, "@example.com", 12);
	request(&req, "192.0.2.1", from, SPF_SENDER_MAX, "h.example.com",
	    13, NULL, 0);
	spf_begin(s, &req);
	assert_int_equal(spf_next(s, &q), SPF_NEED);
	assert_string_equal(q.name, "example.com");
	assert_int_equal(spf_next(s, &q2), SPF_NEED);
	assert_string_equal(q2.name, "example.com");
	spf_answer(s, &bad);
	spf_answer(s, &bad);
	assert_int_equal(spf_next(s, &q), SPF_DONE);
	assert_int_equal(spf_result(s, &v), SPF_NONE);

	memcpy(from + SPF_SENDER_MAX - 11, "@example.com", 12);
	request(&req, "192.0.2.1", from, SPF_SENDER_MAX + 1, "h.example.com",
	    13, NULL, 0);
	spf_begin(s, &req);
	assert_int_equal(spf_next(s, &q), SPF_DONE);
	assert_int_equal(spf_result(s, &v), SPF_NONE);
	assert_string_equal(spf_result_name(SPF_SOFTFAIL), "softfail");
	assert_string_equal(spf_qtype_name(SPF_T_AAAA), "AAAA");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7208_suite),
		cmocka_unit_test(test_pyspf_suite),
		cmocka_unit_test(test_macros),
		cmocka_unit_test(test_exp_letters),
		cmocka_unit_test(test_received_header),
		cmocka_unit_test(test_received_header_long),
		cmocka_unit_test(test_long_records),
		cmocka_unit_test(test_macro_bomb),
		cmocka_unit_test(test_include_limits),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
