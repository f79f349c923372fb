/*
 * proxy/spfw.c - SPF checks on a worker's loop (proxy/spfw.h): runs
 * core/spf.c's need/answer loop over dns_lookup(), one identity after
 * the other, under one timer that bounds the whole check and then
 * hands the result over on a later loop turn; and the verdict from the
 * configuration. Input: the client's HELO and MAIL FROM (untrusted,
 * copied), DNS answers (untrusted, read by core/spf.c). Owns the
 * evaluator's state (malloc'd, spf_size() bytes) and one uv_timer.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <uv.h>

#include "core/dnsmsg.h"
#include "core/spf.h"
#include "proxy/dns.h"
#include "proxy/pol.h"
#include "proxy/spfw.h"

#define SPFW_TIMEOUT	20	/* seconds, RFC 7208 4.6.4 */
#define SPFW_HDR_MAX	4096	/* spf_received_header() always fits */

const char *const spfw_field = "Received-SPF";

enum spfw_stage { W_HELO, W_MFROM, W_DONE };

struct spfw {
	struct dns		*dns;		/* borrowed */
	struct dns_req		*req;		/* the lookup in flight */
	uv_timer_t		 timer;		/* the deadline, then the
						   hand-over */
	spfw_cb			*cb;
	void			*arg;
	enum spfw_stage		 stage;
	int			 expired;	/* the deadline passed */
	int			 closing;
	uint64_t		 start;		/* uv_now() at the start */
	struct spf		*spf;		/* owned */
	struct spfw_result	*res;		/* owned until handed over */
	char			*hdr[2];	/* owned: HELO, MAIL FROM */
	/* the request, its strings owned */
	struct net_addr		 ip;
	char			*helo, *sender, *receiver;
	int			 helo_check;
	int64_t			 now;
};

static void	run(struct spfw *w);

void
spfw_result_free(struct spfw_result *r)
{
	if (r == NULL)
		return;
	free(r->header);
	r->header = NULL;
	free(r);
}

static void
on_closed(uv_handle_t *h)
{
	struct spfw *w = h->data;

	free(w->spf);
	w->spf = NULL;
	spfw_result_free(w->res);
	w->res = NULL;
	free(w->hdr[0]);
	free(w->hdr[1]);
	free(w->helo);
	free(w->sender);
	free(w->receiver);
	free(w);
}

/* Stop everything and free w once its timer is closed. */
static void
spfw_close(struct spfw *w)
{
	if (w->closing)
		return;
	w->closing = 1;
	if (w->req != NULL) {
		dns_cancel(w->req);
		w->req = NULL;
	}
	uv_timer_stop(&w->timer);
	uv_close((uv_handle_t *)&w->timer, on_closed);
}

void
spfw_cancel(struct spfw *w)
{
	if (w != NULL)
		spfw_close(w);
}

/* The hand-over, a loop turn after the check ended. */
static void
on_deliver(uv_timer_t *t)
{
	struct spfw		*w = t->data;
	struct spfw_result	*r = w->res;
	spfw_cb			*cb = w->cb;
	void			*arg = w->arg;

	w->res = NULL;
	spfw_close(w);
	cb(arg, r);
}

static void
on_deadline(uv_timer_t *t)
{
	struct spfw *w = t->data;
	struct spf_answer a = { SPF_RC_ERROR, NULL, 0 };

	w->expired = 1;
	w->res->timed_out = 1;
	if (w->req == NULL)
		return;
	dns_cancel(w->req);
	w->req = NULL;
	spf_answer(w->spf, &a);
	run(w);
}

static uint16_t
qtype(enum spf_qtype t)
{
	switch (t) {
	case SPF_T_TXT:		return DNS_T_TXT;
	case SPF_T_A:		return DNS_T_A;
	case SPF_T_AAAA:	return DNS_T_AAAA;
	case SPF_T_MX:		return DNS_T_MX;
	case SPF_T_PTR:		return DNS_T_PTR;
	}
	return DNS_T_A;
}

/* Does a kept TXT record start "v=spf1" (RFC 7208 4.5)? */
static int
has_spf_record(const struct dns_answer *a)
{
	for (size_t i = 0; i < a->nrr; i++) {
		const char	*s;
		size_t		 n, pos = 0;

		if (a->rr[i].type != DNS_T_TXT ||
		    !dnsmsg_txt_next(a, &a->rr[i], &pos, &s, &n))
			continue;
		if (n >= 6 && strncasecmp(s, "v=spf1", 6) == 0)
			return 1;
	}
	return 0;
}

/*
 * The resolver's answer as the evaluator's: records (TXT strings as
 * spans, names as the resolver wrote them), NXDOMAIN, NODATA as no
 * records, anything else a DNS error.
 */
static void
answer(struct spfw *w, const struct dns_result *r)
{
	const struct dns_answer	*a = r->answer;
	struct spf_rr		 rr[DNS_RR_MAX];
	struct span		*strs = NULL;
	struct spf_answer	 sa = { SPF_RC_ERROR, NULL, 0 };
	size_t			 nstr = 0, k = 0;

	if (r->status == DNS_NXDOMAIN) {
		sa.rcode = SPF_RC_NXDOMAIN;
	} else if (r->status == DNS_NODATA) {
		sa.rcode = SPF_RC_NOERROR;
	} else if (r->status == DNS_OK && a != NULL &&
	    (!a->truncated || a->qtype != DNS_T_TXT || has_spf_record(a))) {
		sa.rcode = SPF_RC_NOERROR;
		for (size_t i = 0; i < a->nrr; i++)
			if (a->rr[i].type == DNS_T_TXT)
				nstr += a->rr[i].nstr;
		if (nstr > 0 && (strs = calloc(nstr, sizeof(*strs))) == NULL)
			sa.rcode = SPF_RC_ERROR;	/* memory: as an error */
		for (size_t i = 0; sa.rcode == SPF_RC_NOERROR && i < a->nrr &&
		    i < DNS_RR_MAX; i++) {
			const struct dns_rr	*d = &a->rr[i];
			struct spf_rr		*o = &rr[sa.nrr++];
			const char		*s;
			size_t			 n, pos = 0;

			memset(o, 0, sizeof(*o));
			memcpy(o->addr, d->addr, sizeof(o->addr));
			if (d->type == DNS_T_MX || d->type == DNS_T_PTR)
				o->name = span_make(a->data + d->off, d->len);
			if (d->type != DNS_T_TXT)
				continue;
			if (strs == NULL)
				continue;	/* a TXT record of no string */
			o->txt = strs + k;
			while (k < nstr && dnsmsg_txt_next(a, d, &pos, &s, &n)) {
				strs[k++] = span_make(s, n);
				o->ntxt++;
			}
		}
		sa.rr = sa.nrr > 0 ? rr : NULL;
	}
	if (sa.rcode != SPF_RC_NOERROR)
		sa.nrr = 0;
	spf_answer(w->spf, &sa);
	free(strs);
}

static void
on_dns(void *arg, const struct dns_result *r)
{
	struct spfw *w = arg;

	w->req = NULL;
	answer(w, r);
	run(w);
}

/* Begin the evaluation of the current stage's identity. */
static void
begin(struct spfw *w)
{
	struct spf_request q;

	memset(&q, 0, sizeof(q));
	q.ip = w->ip;
	q.identity = w->stage == W_HELO ? SPF_ID_HELO : SPF_ID_MAILFROM;
	q.sender = span_make(w->sender, strlen(w->sender));
	q.helo = span_make(w->helo, strlen(w->helo));
	q.receiver = span_make(w->receiver, strlen(w->receiver));
	q.now = w->now;
	spf_begin(w->spf, &q);
}

/* The current identity is done: keep its outcome and field. */
static void
finish_stage(struct spfw *w)
{
	struct policy_spf_outcome *o;
	char	hdr[SPFW_HDR_MAX];
	int	i = w->stage == W_HELO ? 0 : 1;

	o = i == 0 ? &w->res->helo : &w->res->mfrom;
	policy_spf_outcome(w->spf, i == 0 ? SPF_ID_HELO : SPF_ID_MAILFROM, o);
	if (w->expired && o->result == SPF_TEMPERROR)
		o->reason = "spf.timeout reached";
	if (spf_received_header(w->spf, hdr, sizeof(hdr)) > 0)
		w->hdr[i] = strdup(hdr);	/* NULL: no field, no harm */
}

/* After the HELO identity: is the MAIL FROM one still to check? */
static int
want_mfrom(const struct spfw *w)
{
	if (w->stage != W_HELO)
		return 0;
	if (w->res->helo.ran && w->res->helo.result == SPF_FAIL)
		return 0;	/* conclusive */
	return w->sender[0] != '\0';
}

/* All done: pick the field, then hand over a loop turn later. */
static void
done(struct spfw *w)
{
	const struct policy_spf_outcome *d;

	w->stage = W_DONE;
	d = policy_spf_deciding(&w->res->helo, &w->res->mfrom);
	if (d != NULL) {
		int i = d == &w->res->helo ? 0 : 1;

		w->res->header = w->hdr[i];
		w->hdr[i] = NULL;
	}
	w->res->ms = uv_now(dns_loop(w->dns)) - w->start;
	uv_timer_stop(&w->timer);
	uv_timer_start(&w->timer, on_deliver, 0, 0);
}

/*
 * Step the evaluator until it waits for the resolver or every identity
 * is done. Past the deadline each question is answered at once as a
 * DNS error; the evaluator asks at most SPF_MAX_QUERIES, so this ends.
 */
static void
run(struct spfw *w)
{
	struct spf_query	q;
	struct spf_answer	err = { SPF_RC_ERROR, NULL, 0 };

	while (w->stage != W_DONE) {
		if (spf_next(w->spf, &q) == SPF_DONE) {
			finish_stage(w);
			if (want_mfrom(w)) {
				w->stage = W_MFROM;
				begin(w);
				continue;
			}
			done(w);
			return;
		}
		if (!w->expired) {
			w->res->queries++;
			w->req = dns_lookup(w->dns, q.name, qtype(q.type),
			    on_dns, w);
			if (w->req != NULL)
				return;
		}
		spf_answer(w->spf, &err);
	}
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

void
spfw_request_init(struct spfw_request *rq, const struct config *cfg,
    const struct net_addr *ip, const char *helo, const char *sender)
{
	memset(rq, 0, sizeof(*rq));
	rq->ip = *ip;
	rq->helo = helo;
	rq->sender = sender;
	rq->receiver = cfg->hostname;
	rq->helo_check = cfg->spf.helo_check;
	rq->timeout = (unsigned)cfg->spf.timeout;
	rq->now = (int64_t)time(NULL);
}

struct spfw *
spfw_start(struct dns *d, const struct spfw_request *rq, spfw_cb *cb,
    void *arg)
{
	struct spfw	*w;
	uv_loop_t	*loop = dns_loop(d);
	unsigned	 secs = rq->timeout > 0 ? rq->timeout : SPFW_TIMEOUT;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->dns = d;
	w->cb = cb;
	w->arg = arg;
	w->ip = rq->ip;
	w->helo_check = rq->helo_check;
	w->now = rq->now;
	w->helo = dup_or_empty(rq->helo);
	w->sender = dup_or_empty(rq->sender);
	w->receiver = dup_or_empty(rq->receiver);
	w->spf = malloc(spf_size());
	w->res = calloc(1, sizeof(*w->res));
	if (w->helo == NULL || w->sender == NULL || w->receiver == NULL ||
	    w->spf == NULL || w->res == NULL || uv_timer_init(loop,
	    &w->timer) != 0) {
		free(w->spf);
		free(w->res);
		free(w->helo);
		free(w->sender);
		free(w->receiver);
		free(w);
		return NULL;
	}
	w->timer.data = w;
	w->start = uv_now(loop);
	uv_timer_start(&w->timer, on_deadline, (uint64_t)secs * 1000, 0);
	w->stage = w->helo_check && w->helo[0] != '\0' ? W_HELO : W_MFROM;
	begin(w);
	run(w);		/* ends in a lookup or in done(): no callback yet */
	return w;
}

void
spfw_policy_cfg(const struct config *cfg, struct policy_spf_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->enabled = cfg->spf.enabled != 0;
	out->reject_fail = cfg->spf.reject_fail != 0;
	out->softfail = cfg->spf.softfail == CFG_SPF_SOFT_TEMPFAIL ?
	    POLICY_SPF_SOFT_TEMPFAIL : cfg->spf.softfail ==
	    CFG_SPF_SOFT_REJECT ? POLICY_SPF_SOFT_REJECT :
	    POLICY_SPF_SOFT_ACCEPT;
	out->dns_error_accept = cfg->on_dns_error == CFG_DNSERR_ACCEPT;
}

int
spfw_decide(const struct config *cfg, const struct policy_client *pc,
    const struct spfw_result *r, struct policy_verdict *out)
{
	struct policy_spf_cfg sc;

	spfw_policy_cfg(cfg, &sc);
	policy_spf(&sc, pc, r != NULL ? &r->helo : NULL,
	    r != NULL ? &r->mfrom : NULL, out);
	return pol_enforce_cfg(cfg, out);
}
