/*
 * tests/fuzz/fuzz_spf.c - libFuzzer target for core/spf*.c, the SPF
 * evaluator. The input (an exactly sized heap copy) is
 *
 *   FLAGS SENDER "\n" HELO "\n" ANSWER "\n" ANSWER ...
 *
 * FLAGS bit 0: IPv6 client (2001:db8::1, else 192.0.2.1), bit 1: HELO
 * identity, bit 2: IPv4-mapped client. Query k gets ANSWER k modulo
 * their number (none: NXDOMAIN): "!" first is a temporary error, "#"
 * NXDOMAIN, else records split on "|" (TXT strings split on TAB; A and
 * AAAA an address, "=" the client's; MX and PTR a host name).
 * Checks: the evaluation ends within SPF_MAX_QUERIES questions, every
 * query is a sane DNS name, verdict spans are within their limits and
 * the Received-SPF: field has no line break but its folds. Failures
 * abort().
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/spf.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)
#define MAXRR		16
#define MAXSTR		8

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct line {
	const char	*p;
	size_t		 len;
};

static void
check_query(const struct spf_query *q)
{
	size_t lab = 0;

	CHECK(q->len > 0 && q->len <= SPF_NAME_MAX);
	CHECK(q->name[q->len] == '\0');
	for (size_t i = 0; i <= q->len; i++) {
		if (i == q->len || q->name[i] == '.') {
			CHECK(lab > 0 && lab <= 63);
			lab = 0;
			continue;
		}
		CHECK(q->name[i] >= 0x20 && q->name[i] <= 0x7e &&
		    q->name[i] != '\\');
		lab++;
	}
}

/* Records of one answer line, for the asked type. */
static void
answer(const struct line *l, const struct spf_query *q,
    const struct net_addr *client, struct spf_rr *rr,
    struct span txt[MAXRR][MAXSTR], struct spf_answer *a)
{
	const char	*p = l->p, *end = l->p + l->len, *e, *t;
	struct net_addr	 na;

	memset(a, 0, sizeof(*a));
	a->rr = rr;
	if (l->len > 0 && p[0] == '!') {
		a->rcode = SPF_RC_ERROR;
		return;
	}
	if (l->len > 0 && p[0] == '#') {
		a->rcode = SPF_RC_NXDOMAIN;
		return;
	}
	for (; p <= end && a->nrr < MAXRR; p = e + 1) {
		struct spf_rr *r = &rr[a->nrr++];

		e = memchr(p, '|', (size_t)(end - p));
		if (e == NULL)
			e = end;
		memset(r, 0, sizeof(*r));
		r->name = (struct span){ p, (size_t)(e - p) };
		if (q->type == SPF_T_A || q->type == SPF_T_AAAA) {
			if (e - p == 1 && p[0] == '=')
				memcpy(r->addr, client->addr, 16);
			else if (net_addr_parse(p, (size_t)(e - p), &na) == 0)
				memcpy(r->addr, na.addr, 16);
			else
				memcpy(r->addr, p, (size_t)(e - p) < 16 ?
				    (size_t)(e - p) : 16);
		}
		r->txt = txt[a->nrr - 1];
		for (const char *s = p; s <= e && r->ntxt < MAXSTR; s = t + 1) {
			t = memchr(s, '\t', (size_t)(e - s));
			if (t == NULL)
				t = e;
			txt[a->nrr - 1][r->ntxt++] =
			    (struct span){ s, (size_t)(t - s) };
		}
		if (e == end)
			break;
	}
}

static void
check_verdict(const struct spf *s)
{
	struct spf_verdict	 v;
	char			*h;
	size_t			 n;

	spf_result(s, &v);
	CHECK(v.result >= SPF_NONE && v.result <= SPF_PERMERROR);
	CHECK(v.mechanism.len <= 255 && v.problem.len <= 255);
	CHECK(v.explanation.len <= SPF_EXPLAIN_MAX);
	CHECK(v.explanation.len == 0 || v.result == SPF_FAIL);
	h = malloc(4096);
	CHECK(h != NULL);
	n = spf_received_header(s, h, 4096);
	CHECK(n > 0 && n < 4096 && h[n] == '\0');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (c == '\r') {
			CHECK(h[i + 1] == '\n');
			CHECK(i + 2 == n || h[i + 2] == '\t');
		} else if (c == '\n')
			CHECK(i > 0 && h[i - 1] == '\r');
		else
			CHECK(c == '\t' || (c >= 0x20 && c <= 0x7e));
	}
	free(h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct span	 txt[MAXRR][MAXSTR];
	struct spf_rr		 rr[MAXRR];
	struct line		 lines[64];
	struct spf_request	 req;
	struct spf_query	 q;
	struct spf_answer	 a;
	struct spf		*s;
	char			*in;
	size_t			 nl = 0, start = 1;
	unsigned		 nq = 0;

	if (size == 0)
		return 0;
	in = malloc(size);
	s = malloc(spf_size());
	CHECK(in != NULL && s != NULL);
	memcpy(in, data, size);
	for (size_t i = 1; i <= size && nl < 64; i++)
		if (i == size || in[i] == '\n') {
			lines[nl++] = (struct line){ in + start, i - start };
			start = i + 1;
		}

	memset(&req, 0, sizeof(req));
	if (in[0] & 1)
		CHECK(net_addr_parse("2001:db8::1", 11, &req.ip) == 0);
	else if (in[0] & 4)
		CHECK(net_addr_parse("::ffff:192.0.2.1", 16, &req.ip) == 0);
	else
		CHECK(net_addr_parse("192.0.2.1", 9, &req.ip) == 0);
	req.identity = in[0] & 2 ? SPF_ID_HELO : SPF_ID_MAILFROM;
	req.sender = (struct span){ lines[0].p, lines[0].len };
	if (nl > 1)
		req.helo = (struct span){ lines[1].p, lines[1].len };
	req.receiver = (struct span){ "mx.example.org", 14 };
	req.now = 1234567890;

	spf_begin(s, &req);
	while (spf_next(s, &q) == SPF_NEED) {
		check_query(&q);
		CHECK(++nq <= SPF_MAX_QUERIES);
		if (nl > 2)
			answer(&lines[2 + nq % (nl - 2)], &q, &req.ip, rr, txt,
			    &a);
		else
			a = (struct spf_answer){ SPF_RC_NXDOMAIN, NULL, 0 };
		spf_answer(s, &a);
	}
	check_verdict(s);
	free(s);
	free(in);
	return 0;
}
