/*
 * proxy/pol.c - the bridge between the configuration, the session and
 * core/policy: builds struct policy_cfg once, keeps each transaction's
 * verdicts for its log line, and logs HELO verdicts, which belong to no
 * transaction. Monitor mode is decided here and nowhere else, per
 * control: each verdict by the mode of the check that gave it.
 */
#include <stdlib.h>
#include <string.h>

#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/pol.h"
#include "proxy/server.h"
#include "proxy/session.h"

#define MAX_VERDICTS 16		/* per transaction, for the log */

struct policy_cfg *
pol_build(const struct config *cfg)
{
	struct policy_cfg *pc = calloc(1, sizeof(*pc));
	struct policy_shield_entry *se = NULL;
	struct policy_alias *al = NULL;
	struct policy_size_limit *sl = NULL;

	if (pc == NULL)
		return NULL;
	if (cfg->nsize_limits > 0 &&
	    (sl = calloc(cfg->nsize_limits, sizeof(*sl))) == NULL)
		goto fail;
	if (cfg->ip_shield.nentries > 0 &&
	    (se = calloc(cfg->ip_shield.nentries, sizeof(*se))) == NULL)
		goto fail;
	if (cfg->auth.naliases > 0 &&
	    (al = calloc(cfg->auth.naliases, sizeof(*al))) == NULL)
		goto fail;
	pc->hostname = cfg->hostname;
	pc->local_domains = cfg->local_domains.v;
	pc->nlocal_domains = cfg->local_domains.n;
	pc->own_addresses = cfg->own_addresses.v;
	pc->nown_addresses = cfg->own_addresses.n;
	pc->trusted_networks = cfg->trusted_networks.v;
	pc->ntrusted_networks = cfg->trusted_networks.n;
	pc->relay_protection = cfg->relay_protection != 0;
	pc->helo.reject_bare_ip = cfg->helo.reject_bare_ip;
	pc->helo.literal_must_match = cfg->helo.literal_must_match;
	pc->helo.reject_own_identity = cfg->helo.reject_own_identity;
	pc->helo.require_fqdn = cfg->helo.require_fqdn;
	pc->helo.require_resolvable = cfg->helo.require_resolvable;
	pc->helo.must_match_client = cfg->helo.must_match_client;
	pc->client.require_rdns = cfg->client.require_rdns;
	pc->client.require_fcrdns = cfg->client.require_fcrdns;
	pc->dnsbl.enabled = cfg->dnsbl.nzones > 0;
	pc->dnsbl.threshold = cfg->dnsbl.threshold;
	pc->dns_error_accept = cfg->on_dns_error == CFG_DNSERR_ACCEPT;
	pc->helo.reject_at = cfg->helo.reject_at == CFG_AT_HELO ?
	    POLICY_AT_HELO : cfg->helo.reject_at == CFG_AT_MAIL ?
	    POLICY_AT_MAIL : POLICY_AT_RCPT;
	pc->ip_shield.enabled = cfg->ip_shield.enabled;
	pc->ip_shield.check_from_header = cfg->ip_shield.check_from_header;
	for (size_t i = 0; i < cfg->ip_shield.nentries; i++) {
		se[i].domain = cfg->ip_shield.entries[i].domain;
		se[i].nets = cfg->ip_shield.entries[i].nets.v;
		se[i].nnets = cfg->ip_shield.entries[i].nets.n;
	}
	pc->ip_shield.entries = se;
	pc->ip_shield.nentries = cfg->ip_shield.nentries;
	pc->auth.require_for_local_senders =
	    cfg->auth.require_for_local_senders;
	pc->auth.except_to_local = cfg->auth.except_to_local;
	pc->auth.match_envelope = cfg->auth.match_envelope;
	pc->auth.match_from_header = cfg->auth.match_from_header;
	for (size_t i = 0; i < cfg->auth.naliases; i++) {
		al[i].identity = cfg->auth.aliases[i].identity;
		al[i].addresses = cfg->auth.aliases[i].addresses.v;
		al[i].naddresses = cfg->auth.aliases[i].addresses.n;
	}
	pc->auth.aliases = al;
	pc->auth.naliases = cfg->auth.naliases;
	for (size_t i = 0; i < cfg->nsize_limits; i++) {
		sl[i].max = (uint64_t)cfg->size_limits[i].max;
		sl[i].except = cfg->size_limits[i].except.v;
		sl[i].nexcept = cfg->size_limits[i].except.n;
	}
	pc->size.entries = sl;
	pc->size.nentries = cfg->nsize_limits;
	return pc;
fail:
	free(sl);
	free(se);
	free(al);
	free(pc);
	return NULL;
}

void
pol_free(struct policy_cfg *pc)
{
	if (pc == NULL)
		return;
	free((void *)pc->ip_shield.entries);
	free((void *)pc->auth.aliases);
	free((void *)pc->size.entries);
	free(pc);
}

/* What a walk asks: one of core's checks, past the ones in skip. */
struct ask {
	const struct policy_cfg		*pol;
	const struct policy_client	*pc;
	struct policy_txn		*ptxn;
	const struct smtp_cmd		*c;
	int				 is_mail;
	enum policy_stage		 at;
	const char			*sec;
	size_t				 len;
	enum policy_action (*fn)(const struct ask *, unsigned,
			    struct policy_verdict *);
};

/*
 * walk - ask core again past every refusal that monitor mode only
 * logs, so a monitored check never hides a later enforced one: each
 * refusal goes to fn; returns 1 at the first enforced one (in *out),
 * 0 when none is left.
 */
static int
walk(const struct config *cfg, const struct ask *q, pol_verdict_fn *fn,
    void *arg, struct policy_verdict *out)
{
	unsigned skip = 0;
	int enforced;

	for (;;) {
		if (q->fn(q, skip, out) != POLICY_REJECT)
			return 0;
		if (skip & POLICY_CK_BIT(out->check))
			mxs_panic("check %s refused again",
			    policy_check_name(out->check));
		enforced = pol_enforce_cfg(cfg, out);
		fn(arg, out, enforced);
		if (enforced)
			return 1;
		skip |= POLICY_CK_BIT(out->check);
	}
}

static enum policy_action
ask_envelope(const struct ask *q, unsigned skip, struct policy_verdict *out)
{
	if (q->is_mail)
		return policy_mail_skip(q->pol, q->pc, q->c, skip, q->ptxn,
		    out);
	return policy_rcpt_skip(q->pol, q->pc, q->ptxn, q->c, skip, out);
}

static enum policy_action
ask_dns(const struct ask *q, unsigned skip, struct policy_verdict *out)
{
	return policy_dns(q->pol, q->pc, q->at, skip, out);
}

static enum policy_action
ask_from_header(const struct ask *q, unsigned skip,
    struct policy_verdict *out)
{
	return policy_from_header_skip(q->pol, q->pc, q->sec, q->len, skip,
	    out);
}

/*
 * pol_mode - the mode of the control behind check c. A submission
 * listener's AUTH requirement is an authentication rule and follows
 * auth.mode; a check without a control of its own, the top-level mode.
 */
static enum cfg_mode
pol_mode(const struct config *cfg, enum policy_check c)
{
	switch (c) {
	case POLICY_CK_HELO:
		return cfg->helo.mode;
	case POLICY_CK_IP_SHIELD:
		return cfg->ip_shield.mode;
	case POLICY_CK_AUTH:
	case POLICY_CK_SUBMISSION:
		return cfg->auth.mode;
	case POLICY_CK_HIJACK:
		return cfg->hijack.mode;
	case POLICY_CK_RELAY:
		return cfg->relay_protection_mode;
	case POLICY_CK_SIZE:
		return cfg->size_limits_mode;
	case POLICY_CK_SPOOF:
		return cfg->spoof.mode;
	case POLICY_CK_SPF:
		return cfg->spf.mode;
	case POLICY_CK_RDNS:
		return cfg->client.mode;
	case POLICY_CK_DNSBL:
		return cfg->dnsbl.mode;
	case POLICY_CK_NONE:
		break;
	}
	return cfg->mode;
}

void
pol_client_init(struct policy_client *pc, const struct policy_cfg *pol,
    const struct net_addr *addr, const char *ip, const struct cfg_listen *l)
{
	memset(pc, 0, sizeof(*pc));
	pc->addr = *addr;
	pc->ip = ip;
	pc->trusted = policy_is_trusted(pol, addr);
	pc->submission = l->submission != 0;
}

int
pol_enforce_cfg(const struct config *cfg, const struct policy_verdict *v)
{
	return pol_mode(cfg, v->check) != CFG_MODE_MONITOR;
}

int
pol_enforce(struct session *s, const struct policy_verdict *v)
{
	return pol_enforce_cfg(s->cfg, v);
}

int
pol_envelope(const struct config *cfg, const struct policy_cfg *pol,
    const struct policy_client *pc, struct policy_txn *ptxn,
    const struct smtp_cmd *c, int is_mail, pol_verdict_fn *fn, void *arg,
    struct policy_verdict *out)
{
	const struct ask q = { .pol = pol, .pc = pc, .ptxn = ptxn, .c = c,
	    .is_mail = is_mail, .fn = ask_envelope };
	struct policy_verdict sv;
	int enforced;

	if (walk(cfg, &q, fn, arg, out))
		return 1;
	/* size_limits: SIZE= at MAIL, for trusted clients too (trust only
	 * lets their envelope sender count as an exemption) */
	if (is_mail && policy_size_mail(pol, pc, c, &sv) == POLICY_REJECT) {
		enforced = pol_enforce_cfg(cfg, &sv);
		fn(arg, &sv, enforced);
		if (enforced) {
			*out = sv;
			return 1;
		}
	}
	return 0;
}

int
pol_dns(const struct config *cfg, const struct policy_cfg *pol,
    const struct policy_client *pc, enum policy_stage at, pol_verdict_fn *fn,
    void *arg, struct policy_verdict *out)
{
	const struct ask q = { .pol = pol, .pc = pc, .at = at,
	    .fn = ask_dns };

	return walk(cfg, &q, fn, arg, out);
}

uint64_t
pol_size_ehlo(const struct policy_cfg *pol, const struct policy_client *pc)
{
	return policy_size_limit(pol, pc, NULL, NULL, 0, NULL);
}

int
pol_from_header(const struct config *cfg, const struct policy_cfg *pol,
    const struct policy_client *pc, const char *sec, size_t len,
    pol_verdict_fn *fn, void *arg, struct policy_verdict *out)
{
	const struct ask q = { .pol = pol, .pc = pc, .sec = sec, .len = len,
	    .fn = ask_from_header };

	return walk(cfg, &q, fn, arg, out);
}

const char *
pol_action_name(const struct policy_verdict *v, int enforced)
{
	if (v->action == POLICY_PASS)
		return "pass";
	if (!enforced)
		return "monitor";
	return v->action == POLICY_TAG ? "tag" : "reject";
}

/* pol_note - keep v for the transaction's "verdicts" (bounded). */
void
pol_note(struct session *s, const struct policy_verdict *v, int enforced)
{
	struct txn *t = &s->txn;
	struct txn_verdict *nv;

	if (enforced && v->action == POLICY_REJECT)
		metrics_rejection(s->w->mx, (int)v->check, v->code);
	if (t->nverdicts >= MAX_VERDICTS)
		return;
	nv = realloc(t->verdicts, (t->nverdicts + 1) * sizeof(*nv));
	if (nv == NULL)
		return;
	t->verdicts = nv;
	nv[t->nverdicts].v = *v;
	nv[t->nverdicts].enforced = enforced;
	t->nverdicts++;
}

/* pol_log - a verdict outside a transaction (HELO, AUTH): its own
 * line, with the fields of a txn line's verdicts and the stage. */
void
pol_log(struct session *s, const struct policy_verdict *v, int enforced)
{
	struct logline l;

	if (enforced && v->action == POLICY_REJECT)
		metrics_rejection(s->w->mx, (int)v->check, v->code);
	if (!log_enabled(CFG_LOG_INFO))
		return;
	log_begin(&l, "policy");
	log_hex64(&l, "sid", s->id);
	log_cstr(&l, "client", s->ip);
	log_int(&l, "port", s->port);
	log_cstr(&l, "check", policy_check_name(v->check));
	log_cstr(&l, "action", pol_action_name(v, enforced));
	log_cstr(&l, "stage", policy_stage_name(v->at));
	log_int(&l, "code", v->code);
	log_cstr(&l, "reason", v->reason);
	log_cstr(&l, "reply", v->text);
	log_int(&l, "score", v->score);
	log_end(&l);
}
