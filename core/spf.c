/*
 * core/spf.c - check_host() of RFC 7208 as a resumable state machine:
 * record selection (4.5), evaluation of mechanisms and modifiers (4.6,
 * 5, 6), the processing limits (4.6.4: 10 terms causing DNS lookups, 2
 * void lookups, 10 MX or PTR names), include and redirect as frames on
 * a bounded stack, %{p} (5.5, 7.3) and the exp= explanation (6.2).
 * Input: the request and every DNS answer are untrusted; records are
 * copied into fixed buffers and syntax-checked in full before any term
 * is evaluated (4.6). No I/O, no allocation, no clock.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/spf_int.h"

enum spf_st {
	ST_START,
	ST_FETCH,	/* ask for the top frame's TXT records */
	ST_TERM,	/* take the next term of the top frame */
	ST_MECH,	/* evaluate the term at f->term */
	ST_END,		/* no mechanism matched: redirect or neutral */
	ST_NAMES,	/* ask the address of names[ni] (mx, ptr) */
	ST_P,		/* %{p}: ask the PTR */
	ST_PNAMES,	/* %{p}: ask the address of pnames[pi] */
	ST_EXP,		/* expand exp= and ask its TXT */
	ST_EXPTEXT,	/* expand the explanation */
	ST_DONE,
};

enum spf_op {
	OP_TXT,
	OP_A,
	OP_EXISTS,
	OP_MX,
	OP_PTR,
	OP_NAME,
	OP_P,
	OP_PNAME,
	OP_EXP,
};

/* Outcome of one step of the machine. */
enum spf_go {
	GO_ON,
	GO_ASK,
	GO_DONE,
};

static const unsigned char v4mapped[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

size_t
spf_size(void)
{
	return sizeof(struct spf);
}

static struct spf_frame *
top(struct spf *s)
{
	return &s->fr[s->depth - 1];
}

static void
keep(char *dst, size_t *dlen, struct span src)
{
	size_t n = src.len < SPF_TERM_MAX ? src.len : SPF_TERM_MAX;

	if (n > 0)
		memcpy(dst, src.p, n);
	dst[n] = '\0';
	*dlen = n;
}

/* The evaluation ends with an error result. */
static enum spf_go
fail_with(struct spf *s, enum spf_result r, const char *reason,
    struct span problem)
{
	s->result = r;
	s->reason = reason;
	keep(s->prob, &s->prob_len, problem);
	s->st = ST_DONE;
	return GO_DONE;
}

static enum spf_go
permerror(struct spf *s, const char *reason, struct span problem)
{
	return fail_with(s, SPF_PERMERROR, reason, problem);
}

static enum spf_go
ask(struct spf *s, enum spf_op op, const char *name, size_t len,
    enum spf_qtype type)
{
	if (len == 0 || len > SPF_NAME_MAX)
		return permerror(s, "invalid query name", SPAN_NULL);
	if (s->nq >= SPF_MAX_QUERIES)
		return permerror(s, "too many DNS queries", SPAN_NULL);
	memcpy(s->q.name, name, len);
	s->q.name[len] = '\0';
	s->q.len = len;
	s->q.type = type;
	s->op = op;
	s->waiting = true;
	s->nq++;
	return GO_ASK;
}

static bool
prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
	int	whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

/* Does the client fall in addr/cidr of the client's own family? */
static bool
ip_match(const struct spf *s, const unsigned char *addr, int c4, int c6)
{
	if (s->ip.family == AF_INET)
		return prefix_eq(s->ip.addr, addr, c4);
	return prefix_eq(s->ip.addr, addr, c6);
}

/* Push a frame for check_host(domain): the first, or an include. */
static void
push(struct spf *s, const char *dom, size_t len)
{
	struct spf_frame *f = &s->fr[s->depth++];

	memset(f, 0, sizeof(*f));
	memcpy(f->dom, dom, len);
	f->dom[len] = '\0';
	f->dlen = len;
	f->rec = s->rec_used;
	s->st = ST_FETCH;
}

/* Copy the identities of the request (RFC 7208 4.1, 4.3, 2.4). */
void
spf_begin(struct spf *s, const struct spf_request *r)
{
	struct span	dom, local;
	const char	*at = NULL;

	memset(s, 0, sizeof(*s));
	s->ip = r->ip;
	if (s->ip.family == AF_INET6 &&
	    memcmp(s->ip.addr, v4mapped, sizeof(v4mapped)) == 0) {
		memmove(s->ip.addr, s->ip.addr + 12, 4);
		memset(s->ip.addr + 4, 0, 12);
		s->ip.family = AF_INET;
	}
	s->identity = r->identity;
	s->now = r->now;
	s->max_mech = r->max_dns_mech == 0 || r->max_dns_mech > SPF_DNS_MECH ?
	    SPF_DNS_MECH : r->max_dns_mech;
	s->max_void = r->max_void == 0 ? SPF_VOID_MAX : r->max_void;
	s->st = ST_START;
	s->result = SPF_NONE;

	if ((s->ip.family != AF_INET && s->ip.family != AF_INET6) ||
	    r->sender.len > SPF_SENDER_MAX || r->helo.len > SPF_HELO_MAX) {
		s->bad_identity = true;
		return;
	}
	if (r->helo.len > 0)
		memcpy(s->helo, r->helo.p, r->helo.len);
	s->hlen = r->helo.len;
	s->rlen = r->receiver.len > SPF_HELO_MAX ? SPF_HELO_MAX :
	    r->receiver.len;
	if (s->rlen > 0)
		memcpy(s->rcv, r->receiver.p, s->rlen);
	if (r->sender.len > 0)
		memcpy(s->from, r->sender.p, r->sender.len);
	s->from_len = r->sender.len;

	if (r->identity == SPF_ID_HELO || r->sender.len == 0) {
		local = span_make("", 0);
		dom = span_make(s->helo, s->hlen);
	} else {
		for (size_t i = 0; i < r->sender.len; i++)
			if (r->sender.p[i] == '@')
				at = r->sender.p + i;
		if (at == NULL) {
			local = span_make("", 0);
			dom = r->sender;
		} else {
			local = span_make(r->sender.p,
			    (size_t)(at - r->sender.p));
			dom = span_make(at + 1, r->sender.len - local.len - 1);
		}
	}
	if (local.len == 0)
		local = span_make("postmaster", 10);
	memcpy(s->sender, local.p, local.len);
	s->sender[local.len] = '@';
	if (dom.len > 0)
		memcpy(s->sender + local.len + 1, dom.p, dom.len);
	s->llen = local.len;
	s->slen = local.len + 1 + dom.len;
	if (dom.len > 0)
		memcpy(s->dom0, dom.p, dom.len);
	s->d0len = dom.len;
}

static enum spf_go
start(struct spf *s)
{
	size_t len = s->d0len;

	if (s->bad_identity || !spf_domain0_ok(s->dom0, len)) {
		s->result = SPF_NONE;
		s->reason = "malformed domain";
		s->st = ST_DONE;
		return GO_DONE;
	}
	if (s->dom0[len - 1] == '.')
		len--;
	push(s, s->dom0, len);
	return GO_ON;
}

/* Whole-record syntax pass (RFC 7208 4.6): every term, and exp= and
 * redirect= at most once each (6). */
static enum spf_go
check_record(struct spf *s, struct spf_frame *f)
{
	const char	*r = s->rec + f->rec;
	struct spf_term	 t;
	size_t		 i = 6, e;

	while (i < f->rlen) {
		if (r[i] == ' ') {
			i++;
			continue;
		}
		for (e = i; e < f->rlen && r[e] != ' '; e++)
			;
		if (spf_term_parse(r + i, e - i, &t) != 0)
			return permerror(s, "syntax error", t.bad);
		if (t.kind == SPF_K_REDIRECT || t.kind == SPF_K_EXP) {
			struct span *m = t.kind == SPF_K_EXP ? &f->exp :
			    &f->redirect;

			if (m->p != NULL)
				return permerror(s, "modifier given twice",
				    t.text);
			*m = t.spec;
		}
		i = e;
	}
	f->pos = 6;
	s->st = ST_TERM;
	return GO_ON;
}

static enum spf_go	frame_result(struct spf *, enum spf_result);

/* The TXT answer for the top frame's domain (RFC 7208 4.4, 4.5). */
static enum spf_go
on_record(struct spf *s, const struct spf_answer *a)
{
	struct spf_frame	*f = top(s);
	const struct spf_rr	*pick = NULL;
	size_t			 len = 0, l;
	unsigned		 n = 0;

	if (a->rcode == SPF_RC_ERROR)
		return fail_with(s, SPF_TEMPERROR, "DNS error",
		    span_make(f->dom, f->dlen));
	for (size_t i = 0; a->rcode == SPF_RC_NOERROR && i < a->nrr; i++)
		if (spf_is_record(&a->rr[i], &l)) {
			pick = &a->rr[i];
			len = l;
			n++;
		}
	if (n == 0)
		return frame_result(s, SPF_NONE);
	if (n > 1)
		return permerror(s, "more than one SPF record", SPAN_NULL);
	if (len > SPF_RECORD_MAX || len > SPF_RECBUF - s->rec_used)
		return permerror(s, "SPF record too long",
		    span_make(f->dom, f->dlen));
	f->rec = s->rec_used;
	f->rlen = spf_txt_join(pick, s->rec + f->rec, len);
	s->rec_used += f->rlen;
	return check_record(s, f);
}

/* The term at the top frame matched: its qualifier is the result. */
static enum spf_go
match(struct spf *s)
{
	if (s->depth == 1)
		keep(s->mech, &s->mech_len, s->t.text);
	return frame_result(s, s->t.qual);
}

/*
 * A check_host() ended with r. An include maps it for its parent (RFC
 * 7208 5.2), a redirect passes it on (6.1); errors end everything.
 */
static enum spf_go
frame_result(struct spf *s, enum spf_result r)
{
	struct spf_frame *f = top(s);

	if (r == SPF_TEMPERROR || r == SPF_PERMERROR)
		return fail_with(s, r, s->reason, SPAN_NULL);
	if (r == SPF_NONE && (s->depth > 1 || f->redirected))
		return permerror(s, "no SPF record at the target domain",
		    span_make(f->dom, f->dlen));
	if (s->depth > 1) {
		s->rec_used = f->rec;
		s->depth--;
		f = top(s);
		if (spf_term_parse(s->rec + f->rec + f->term, f->tlen,
		    &s->t) != 0)
			return permerror(s, "syntax error", s->t.bad);
		if (r == SPF_PASS)
			return match(s);
		s->st = ST_TERM;
		return GO_ON;
	}
	s->result = r;
	s->st = r == SPF_FAIL && f->exp.len > 0 ? ST_EXP : ST_DONE;
	return s->st == ST_DONE ? GO_DONE : GO_ON;
}

/* Take the next term of the top frame; modifiers are skipped here. */
static enum spf_go
next_term(struct spf *s)
{
	struct spf_frame	*f = top(s);
	const char		*r = s->rec + f->rec;
	size_t			 e;

	while (f->pos < f->rlen && r[f->pos] == ' ')
		f->pos++;
	if (f->pos >= f->rlen) {
		s->st = ST_END;
		return GO_ON;
	}
	for (e = f->pos; e < f->rlen && r[e] != ' '; e++)
		;
	f->term = f->pos;
	f->tlen = e - f->pos;
	f->pos = e;
	s->st = ST_MECH;
	return GO_ON;
}

/*
 * Expand a domain-spec (or take the frame's domain when absent) into a
 * query name in s->xbuf. Returns GO_ON with *len set (0: not a
 * queryable name), GO_ASK/GO_DONE when %{p} must be computed first or
 * the expansion failed.
 */
static enum spf_go
target(struct spf *s, struct span spec, int resume, size_t *len)
{
	struct spf_frame	*f = top(s);
	size_t			 n;

	if (spec.len == 0) {
		memcpy(s->xbuf, f->dom, f->dlen);
		*len = f->dlen;
		return GO_ON;
	}
	switch (spf_expand(s, f, spec.p, spec.len, false, s->xbuf,
	    sizeof(s->xbuf), &n)) {
	case SPF_X_OK:
		break;
	case SPF_X_NEEDP:
		s->resume = resume;
		s->st = ST_P;
		return GO_ASK;
	case SPF_X_LONG:
		return permerror(s, "macro expansion too long", spec);
	default:
		return permerror(s, "syntax error", spec);
	}
	*len = spf_name_fix(s->xbuf, n);
	return GO_ON;
}

/* Count a term that causes DNS lookups (RFC 7208 4.6.4). */
static bool
count_mech(struct spf *s)
{
	return ++s->nmech <= s->max_mech;
}

/* include, a, mx, ptr, exists: the target name, then the query. */
static enum spf_go
dns_mech(struct spf *s)
{
	struct spf_term	*t = &s->t;
	size_t		 len = 0;
	enum spf_go	 go;
	bool		 v4 = s->ip.family == AF_INET;

	go = target(s, t->spec, ST_MECH, &len);
	if (go == GO_ASK)
		return GO_ON;	/* ST_P asks */
	if (go != GO_ON)
		return go;
	if (!count_mech(s))
		return permerror(s, "more than 10 DNS lookups", t->text);
	if (len == 0) {
		if (t->kind == SPF_K_INCLUDE)
			return permerror(s, "invalid include domain",
			    t->spec);
		s->st = ST_TERM;	/* no such name: no match */
		return GO_ON;
	}
	switch (t->kind) {
	case SPF_K_INCLUDE:
		push(s, s->xbuf, len);
		return GO_ON;
	case SPF_K_A:
		return ask(s, OP_A, s->xbuf, len, v4 ? SPF_T_A : SPF_T_AAAA);
	case SPF_K_EXISTS:
		return ask(s, OP_EXISTS, s->xbuf, len, SPF_T_A);
	case SPF_K_MX:
		return ask(s, OP_MX, s->xbuf, len, SPF_T_MX);
	default:
		memcpy(s->tgt, s->xbuf, len);
		s->tgtlen = len;
		len = spf_reverse_name(&s->ip, s->xbuf);
		return ask(s, OP_PTR, s->xbuf, len, SPF_T_PTR);
	}
}

static enum spf_go
eval_mech(struct spf *s)
{
	struct spf_frame	*f = top(s);
	struct spf_term		*t = &s->t;
	bool			 v4 = s->ip.family == AF_INET;

	if (spf_term_parse(s->rec + f->rec + f->term, f->tlen, t) != 0)
		return permerror(s, "syntax error", t->bad);
	switch (t->kind) {
	case SPF_K_REDIRECT:
	case SPF_K_EXP:
	case SPF_K_UNKNOWN_MOD:
		s->st = ST_TERM;
		return GO_ON;
	case SPF_K_ALL:
		return match(s);
	case SPF_K_IP4:
	case SPF_K_IP6:
		if (v4 == (t->kind == SPF_K_IP4) &&
		    ip_match(s, t->net, t->cidr4, t->cidr6))
			return match(s);
		s->st = ST_TERM;
		return GO_ON;
	default:
		return dns_mech(s);
	}
}

/* No mechanism matched: redirect= (RFC 7208 6.1) or neutral (4.7). */
static enum spf_go
end_record(struct spf *s)
{
	struct spf_frame	*f = top(s);
	struct span		 spec = f->redirect;
	size_t			 len = 0;
	enum spf_go		 go;

	if (spec.p == NULL)
		return frame_result(s, SPF_NEUTRAL);
	go = target(s, spec, ST_END, &len);
	if (go == GO_ASK)
		return GO_ON;
	if (go != GO_ON)
		return go;
	if (!count_mech(s))
		return permerror(s, "more than 10 DNS lookups", spec);
	if (len == 0)
		return permerror(s, "invalid redirect domain", spec);
	s->rec_used = f->rec;
	s->depth--;
	push(s, s->xbuf, len);
	top(s)->redirected = true;
	return GO_ON;
}

/* A void lookup (RFC 7208 4.6.4): no records or NXDOMAIN. */
static enum spf_go
void_lookup(struct spf *s)
{
	if (++s->nvoid > s->max_void)
		return permerror(s, "too many void DNS lookups", s->t.text);
	s->st = ST_TERM;
	return GO_ON;
}

/* ptr: is the name the target domain or below it (RFC 7208 5.5)? */
static bool
below_target(const struct spf *s, const struct spf_hname *h)
{
	size_t t = s->tgtlen;

	if (spf_ieq(h->n, h->len, s->tgt, t))
		return true;
	return h->len > t && h->n[h->len - t - 1] == '.' &&
	    spf_ieq(h->n + h->len - t, t, s->tgt, t);
}

static enum spf_go
on_addr(struct spf *s, const struct spf_answer *a)
{
	if (a->rcode == SPF_RC_ERROR)
		return fail_with(s, SPF_TEMPERROR, "DNS error", s->t.text);
	if (a->rcode == SPF_RC_NXDOMAIN || a->nrr == 0)
		return void_lookup(s);
	if (s->op == OP_EXISTS)
		return match(s);
	for (size_t i = 0; i < a->nrr; i++)
		if (ip_match(s, a->rr[i].addr, s->t.cidr4, s->t.cidr6))
			return match(s);
	s->st = ST_TERM;
	return GO_ON;
}

/* MX or PTR names: keep them, then look up their addresses in turn. */
static enum spf_go
on_names(struct spf *s, const struct spf_answer *a)
{
	bool ptr = s->op == OP_PTR;

	if (a->rcode == SPF_RC_ERROR && ptr) {
		s->st = ST_TERM;	/* 5.5: a DNS error is no match */
		return GO_ON;
	}
	if (a->rcode == SPF_RC_ERROR)
		return fail_with(s, SPF_TEMPERROR, "DNS error", s->t.text);
	if (a->rcode == SPF_RC_NXDOMAIN || a->nrr == 0)
		return void_lookup(s);
	if (!ptr && a->nrr > SPF_NAMES_MAX)
		return permerror(s, "more than 10 MX records", s->t.text);
	s->nnames = 0;
	for (size_t i = 0; i < a->nrr && s->nnames < SPF_NAMES_MAX; i++) {
		struct spf_hname *h = &s->names[s->nnames++];

		spf_hname_set(h, a->rr[i].name);
		if (ptr && h->ok)
			h->ok = below_target(s, h);
	}
	s->ni = 0;
	s->st = ST_NAMES;
	return GO_ON;
}

static enum spf_go
next_name(struct spf *s)
{
	bool v4 = s->ip.family == AF_INET;

	while (s->ni < s->nnames && !s->names[s->ni].ok)
		s->ni++;
	if (s->ni == s->nnames) {
		s->st = ST_TERM;
		return GO_ON;
	}
	return ask(s, OP_NAME, s->names[s->ni].n, s->names[s->ni].len,
	    v4 ? SPF_T_A : SPF_T_AAAA);
}

/* The address of an MX host (any in cidr) or a PTR name (the client). */
static enum spf_go
on_name(struct spf *s, const struct spf_answer *a)
{
	bool	ptr = s->t.kind == SPF_K_PTR;
	size_t	alen = s->ip.family == AF_INET ? 4 : 16;

	if (a->rcode == SPF_RC_ERROR && !ptr)
		return fail_with(s, SPF_TEMPERROR, "DNS error", s->t.text);
	for (size_t i = 0; a->rcode == SPF_RC_NOERROR && i < a->nrr; i++) {
		if (ptr && memcmp(a->rr[i].addr, s->ip.addr, alen) == 0)
			return match(s);
		if (!ptr && ip_match(s, a->rr[i].addr, s->t.cidr4,
		    s->t.cidr6))
			return match(s);
	}
	s->ni++;
	s->st = ST_NAMES;
	return GO_ON;
}

/* %{p}: the PTR names of the client, to be validated (RFC 7208 5.5). */
static enum spf_go
on_p(struct spf *s, const struct spf_answer *a)
{
	s->npnames = 0;
	for (size_t i = 0; a->rcode == SPF_RC_NOERROR && i < a->nrr &&
	    s->npnames < SPF_NAMES_MAX; i++)
		spf_hname_set(&s->pnames[s->npnames++], a->rr[i].name);
	s->pi = 0;
	s->st = ST_PNAMES;
	return GO_ON;
}

static enum spf_go
next_pname(struct spf *s)
{
	bool v4 = s->ip.family == AF_INET;

	while (s->pi < s->npnames && !s->pnames[s->pi].ok)
		s->pi++;
	if (s->pi == s->npnames) {
		s->p_done = 1;
		s->st = s->resume;
		return GO_ON;
	}
	return ask(s, OP_PNAME, s->pnames[s->pi].n, s->pnames[s->pi].len,
	    v4 ? SPF_T_A : SPF_T_AAAA);
}

static enum spf_go
on_pname(struct spf *s, const struct spf_answer *a)
{
	size_t	alen = s->ip.family == AF_INET ? 4 : 16;
	bool	valid = false;

	for (size_t i = 0; a->rcode == SPF_RC_NOERROR && i < a->nrr; i++)
		if (memcmp(a->rr[i].addr, s->ip.addr, alen) == 0)
			valid = true;
	s->pnames[s->pi].ok = valid;
	s->pi++;
	s->st = ST_PNAMES;
	return GO_ON;
}

/* exp= of the record that failed (RFC 7208 6.2); any problem: none. */
static enum spf_go
exp_start(struct spf *s)
{
	struct spf_frame	*f = top(s);
	size_t			 n;

	switch (spf_expand(s, f, f->exp.p, f->exp.len, false, s->xbuf,
	    sizeof(s->xbuf), &n)) {
	case SPF_X_OK:
		break;
	case SPF_X_NEEDP:
		s->resume = ST_EXP;
		s->st = ST_P;
		return GO_ON;
	default:
		s->st = ST_DONE;
		return GO_DONE;
	}
	n = spf_name_fix(s->xbuf, n);
	if (n == 0) {
		s->st = ST_DONE;
		return GO_DONE;
	}
	return ask(s, OP_EXP, s->xbuf, n, SPF_T_TXT);
}

static enum spf_go
on_exp(struct spf *s, const struct spf_answer *a)
{
	size_t n;

	s->st = ST_DONE;
	if (a->rcode != SPF_RC_NOERROR || a->nrr != 1)
		return GO_DONE;
	n = spf_txt_join(&a->rr[0], s->exptxt, sizeof(s->exptxt));
	if (n > sizeof(s->exptxt))
		return GO_DONE;
	s->exptxt_len = n;
	s->st = ST_EXPTEXT;
	return GO_ON;
}

static enum spf_go
exp_text(struct spf *s)
{
	size_t n;

	switch (spf_expand(s, top(s), s->exptxt, s->exptxt_len, true,
	    s->expl, SPF_EXPLAIN_MAX, &n)) {
	case SPF_X_OK:
		s->expl_len = n;
		s->expl[n] = '\0';
		break;
	case SPF_X_NEEDP:
		s->resume = ST_EXPTEXT;
		s->st = ST_P;
		return GO_ON;
	default:
		break;
	}
	s->st = ST_DONE;
	return GO_DONE;
}

static enum spf_go
step(struct spf *s)
{
	size_t n;

	switch (s->st) {
	case ST_START:
		return start(s);
	case ST_FETCH:
		return ask(s, OP_TXT, top(s)->dom, top(s)->dlen, SPF_T_TXT);
	case ST_TERM:
		return next_term(s);
	case ST_MECH:
		return eval_mech(s);
	case ST_END:
		return end_record(s);
	case ST_NAMES:
		return next_name(s);
	case ST_P:
		n = spf_reverse_name(&s->ip, s->xbuf);
		return ask(s, OP_P, s->xbuf, n, SPF_T_PTR);
	case ST_PNAMES:
		return next_pname(s);
	case ST_EXP:
		return exp_start(s);
	case ST_EXPTEXT:
		return exp_text(s);
	default:
		return GO_DONE;
	}
}

enum spf_step
spf_next(struct spf *s, struct spf_query *q)
{
	enum spf_go go = GO_ON;

	while (!s->waiting && go == GO_ON)
		go = step(s);
	if (s->waiting) {
		*q = s->q;
		return SPF_NEED;
	}
	return SPF_DONE;
}

void
spf_answer(struct spf *s, const struct spf_answer *a)
{
	struct spf_answer	none = { SPF_RC_NOERROR, NULL, 0 };

	if (!s->waiting)
		return;
	s->waiting = false;
	if (a->nrr > 0 && a->rr == NULL)
		a = &none;
	switch (s->op) {
	case OP_TXT:
		(void)on_record(s, a);
		break;
	case OP_A:
	case OP_EXISTS:
		(void)on_addr(s, a);
		break;
	case OP_MX:
	case OP_PTR:
		(void)on_names(s, a);
		break;
	case OP_NAME:
		(void)on_name(s, a);
		break;
	case OP_P:
		(void)on_p(s, a);
		break;
	case OP_PNAME:
		(void)on_pname(s, a);
		break;
	default:
		(void)on_exp(s, a);
		break;
	}
}

enum spf_result
spf_result(const struct spf *s, struct spf_verdict *v)
{
	v->result = s->result;
	v->domain = span_make(s->dom0, s->d0len);
	v->mechanism = span_make(s->mech, s->mech_len);
	v->problem = span_make(s->prob, s->prob_len);
	v->reason = s->reason;
	v->explanation = span_make(s->expl, s->expl_len);
	return s->result;
}
