/*
 * proxy/mailspf.c - SPF in a session (proxy/mailspf.h): one check per
 * transaction, started by the MAIL that opens it, awaited in the reply
 * queue, decided with the MAIL's other checks. The session holds the
 * check in flight (spf_run) or its result (spf_res) until that MAIL is
 * handled again, which gives the result to its transaction.
 */
#include <stdint.h>
#include <stdlib.h>

#include "proxy/accept.h"
#include "proxy/await.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/mailspf.h"
#include "proxy/pol.h"
#include "proxy/server.h"
#include "proxy/session.h"
#include "proxy/spfw.h"

static int
ready(struct session *s, void *arg)
{
	(void)arg;
	return s->spf_run == NULL;
}

static void
on_result(void *arg, struct spfw_result *r)
{
	struct session *s = arg;

	s->spf_run = NULL;
	s->spf_res = r;
	if (r != NULL && r->helo.ran)
		metrics_spf(s->w->mx, MX_SPF_HELO, r->helo.result);
	if (r != NULL && r->mfrom.ran)
		metrics_spf(s->w->mx, MX_SPF_MAILFROM, r->mfrom.result);
	await_kick(s);
}

static int
applies(const struct session *s)
{
	return s->cfg->spf.enabled && !s->pc.trusted && s->auth_id == NULL &&
	    s->w->dns != NULL;
}

int
mailspf_wait(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct spfw_request rq;
	char *sender;

	if (!applies(s) || s->spf_res != NULL)
		return 0;
	if (s->spf_run == NULL) {
		sender = c->null_path ? mxs_memdup("", 0) :
		    mxs_memdup(c->path.p, c->path.len);
		if (sender == NULL) {
			sess_close(s, "out of memory");
			return 1;
		}
		spfw_request_init(&rq, s->cfg, &s->addr, s->helo, sender);
		s->spf_run = spfw_start(s->w->dns, &rq, on_result, s);
		free(sender);
		if (s->spf_run == NULL) {
			log_sid_client(CFG_LOG_WARN, "spf", s->id, s->ip,
			    "out of memory: SPF not checked");
			return 0;
		}
	}
	log_sid_client(CFG_LOG_DEBUG, "spf", s->id, s->ip,
	    "MAIL waits for SPF");
	await_line(s, c->verb, l, n, ready, NULL);
	return 1;
}

void
mailspf_take(struct session *s)
{
	spfw_result_free(s->txn.spf);
	s->txn.spf = s->spf_res;
	s->spf_res = NULL;
}

int
mailspf_decide(struct session *s, enum cmd_verb verb)
{
	struct policy_verdict v;
	int enforced;

	if (s->txn.spf == NULL)
		return 0;
	enforced = spfw_decide(s->cfg, &s->pc, s->txn.spf, &v);
	if (v.check == POLICY_CK_SPF)
		pol_note(s, &v, enforced);
	if (v.action == POLICY_REJECT && enforced) {
		sess_reply_now(s, verb, v.text);
		return 1;
	}
	return 0;
}

void
mailspf_stop(struct session *s)
{
	if (s->spf_run != NULL)
		spfw_cancel(s->spf_run);
	s->spf_run = NULL;
	spfw_result_free(s->spf_res);
	s->spf_res = NULL;
}
