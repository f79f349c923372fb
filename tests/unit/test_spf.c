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

enum ztype { Z_A, Z_AAAA, Z_MX, Z_PTR, Z_TXT, Z_CNAME, Z_TIMEOUT };

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
	    (z == Z_TXT && t == SPF_T_TXT);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7208_suite),
		cmocka_unit_test(test_pyspf_suite),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
