/*
 * proxy/dnschk.c - a session's DNS lookups for the DNS checks: the
 * client's PTR and its forward confirmation, the HELO name's A/AAAA,
 * the DNSBL/DNSWL zones (and their TXT reasons), gathered into the
 * facts core/policy_dns.c judges (struct policy_dns). Input: DNS
 * answers (untrusted: PTR names are checked as host names before they
 * are kept, TXT strings are escaped in logs and sanitised in reasons).
 * Owns every lookup it starts; dnschk_stop() cancels them all, so no
 * callback ever reaches a closed session. See dnschk.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/dnsname.h"
#include "core/policy.h"
#include "proxy/await.h"
#include "proxy/dns.h"
#include "proxy/dnschk.h"
#include "proxy/log.h"
#include "proxy/server.h"
#include "proxy/session.h"

enum q_kind { Q_PTR, Q_FWD, Q_HELO, Q_BL, Q_BLTXT };

/* One question of the session. */
struct dq {
	struct dnschk	*dc;
	struct dns_req	*req;		/* in flight, or NULL */
	enum q_kind	 kind;
	size_t		 idx;		/* FWD: name; BL, BLTXT: zone */
	int		 asked;
	int		 done;
	enum dns_status	 st;
	char		 why[64];	/* TEMPFAIL: what failed */
};

/* One dnsbl zone. */
struct bl {
	struct dq	 a, txt;
	char		 qname[DNS_NAME_BUF];
	int		 listed;
	char		 answer[16];	/* the first answer that counts */
	char		 txt_text[200];	/* its TXT reason, as sent */
};

struct dnschk {
	struct session	*s;
	/* the client's name */
	int		 client_on;
	struct dq	 ptr;
	char		*names[DNSCHK_PTR_NAMES];	/* owned, host names */
	size_t		 nnames;
	char		 bad[80];	/* the first PTR name refused, cut */
	struct dq	 fwd[DNSCHK_PTR_NAMES];
	int		 confirmed;	/* index into names, or -1 */
	/* the HELO name */
	char		*helo_name;	/* owned, as sent */
	int		 helo_ehlo;
	struct dq	 helo[2];	/* A, AAAA */
	int		 helo_found, helo_match;
	/* dnsbl */
	struct bl	*bl;		/* owned, cfg->dnsbl.nzones */
	size_t		 nbl;
	int		 bl_logged;
	char		 detail[600];	/* printable: made here */
	char		 why[160];	/* the dnsbl failure */
	char		 helo_why[160];
	struct policy_dns facts;
};

static void	on_answer(void *arg, const struct dns_result *r);

static int
running(const struct dq *q)
{
	return q->asked && !q->done;
}

static void
q_cancel(struct dq *q)
{
	if (q->req != NULL) {
		dns_cancel(q->req);
		q->req = NULL;
	}
	q->asked = q->done = 0;
}

/* Ask name/type for q; a lookup that cannot start fails at once. */
static void
q_ask(struct dnschk *dc, struct dq *q, enum q_kind kind, size_t idx,
    const char *name, uint16_t type)
{
	q->dc = dc;
	q->kind = kind;
	q->idx = idx;
	q->asked = 1;
	q->done = 0;
	q->why[0] = '\0';
	q->req = dns_lookup(dc->s->w->dns, name, type, on_answer, q);
	if (q->req == NULL) {
		q->done = 1;
		q->st = DNS_TEMPFAIL;
		snprintf(q->why, sizeof(q->why), "out of memory");
	}
}

static int
client_is_v4(const struct net_addr *a)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };

	return a->family == AF_INET || (a->family == AF_INET6 &&
	    memcmp(a->addr, mapped, 12) == 0);
}

/* Is record rr (A or AAAA) the client's address? */
static int
is_client(const struct session *s, const struct dns_rr *rr)
{
	struct net n;

	memset(&n, 0, sizeof(n));
	if (rr->type == DNS_T_A) {
		n.family = AF_INET;
		memcpy(n.addr, rr->addr, 4);
		n.prefix = 32;
	} else if (rr->type == DNS_T_AAAA) {
		n.family = AF_INET6;
		memcpy(n.addr, rr->addr, 16);
		n.prefix = 128;
	} else
		return 0;
	return net_match(&n, &s->addr);
}

static int
spoof_wants(const struct config *cfg)
{
	if (!cfg->spoof.enabled)
		return 0;
	for (size_t i = 0; i < cfg->spoof.nweights; i++)
		if ((strcmp(cfg->spoof.weights[i].name, "no_rdns") == 0 ||
		    strcmp(cfg->spoof.weights[i].name, "fcrdns_mismatch") ==
		    0) && cfg->spoof.weights[i].weight > 0)
			return 1;
	return 0;
}

static int
helo_wants(const struct config *cfg)
{
	return cfg->helo.require_resolvable || cfg->helo.must_match_client;
}

/* ------------------------------------------------------------ facts */

static enum policy_dns_fact
fact_helo(struct dnschk *dc, int matched)
{
	int err = 0;

	if (dc->helo_name == NULL || running(&dc->helo[0]) ||
	    running(&dc->helo[1]) || !dc->helo[0].asked)
		return POLICY_DNS_UNKNOWN;
	if (matched)
		return POLICY_DNS_YES;
	for (int i = 0; i < 2; i++)
		if (dc->helo[i].st == DNS_TEMPFAIL) {
			err = 1;
			snprintf(dc->helo_why, sizeof(dc->helo_why), "%s "
			    "lookup: %s", i == 0 ? "A" : "AAAA",
			    dc->helo[i].why);
		}
	return err ? POLICY_DNS_ERROR : POLICY_DNS_NO;
}

static void
facts_client(struct dnschk *dc, struct policy_dns *f)
{
	int err = -1;

	f->rdns = f->fcrdns = POLICY_DNS_UNKNOWN;
	f->ptr_name = NULL;
	f->ptr_bad = NULL;
	if (!dc->client_on || !dc->ptr.done)
		return;
	if (dc->ptr.st == DNS_TEMPFAIL) {
		f->rdns = f->fcrdns = POLICY_DNS_ERROR;
		f->rdns_why = dc->ptr.why;
		return;
	}
	if (dc->nnames == 0) {
		f->rdns = f->fcrdns = POLICY_DNS_NO;
		f->ptr_bad = dc->bad[0] != '\0' ? dc->bad : NULL;
		return;
	}
	f->rdns = POLICY_DNS_YES;
	f->ptr_name = dc->names[0];
	for (size_t i = 0; i < dc->nnames; i++) {
		if (running(&dc->fwd[i]))
			return;		/* fcrdns not known yet */
		if (dc->fwd[i].st == DNS_TEMPFAIL && err < 0)
			err = (int)i;
	}
	if (dc->confirmed >= 0) {
		f->fcrdns = POLICY_DNS_YES;
		f->ptr_name = dc->names[dc->confirmed];
	} else if (err >= 0) {
		f->fcrdns = POLICY_DNS_ERROR;
		f->rdns_why = dc->fwd[err].why;
	} else
		f->fcrdns = POLICY_DNS_NO;
}

static void
facts_dnsbl(struct dnschk *dc, struct policy_dns *f)
{
	const struct config *cfg = dc->s->cfg;
	int score = 0, lo = 0, hi = 0, best = 0;
	size_t n = 0;
	const char *failed = NULL, *failwhy = NULL;

	f->dnsbl = POLICY_DNS_UNKNOWN;
	if (dc->nbl == 0)
		return;
	for (size_t i = 0; i < dc->nbl; i++)
		if (running(&dc->bl[i].a) || running(&dc->bl[i].txt))
			return;
	dc->detail[0] = '\0';
	f->dnsbl_zone = NULL;
	for (size_t i = 0; i < dc->nbl; i++) {
		const struct cfg_dnsbl_zone *z = &cfg->dnsbl.zones[i];
		struct bl *b = &dc->bl[i];
		int w = 0;

		if (b->a.st == DNS_TEMPFAIL) {
			if (z->weight > 0)
				hi += z->weight;
			else
				lo += z->weight;
			if (failed == NULL) {
				failed = z->zone;
				failwhy = b->a.why;
			}
			w = snprintf(dc->detail + n, sizeof(dc->detail) - n,
			    "%s%s: %s", n ? "; " : "", z->zone, b->a.why);
		} else if (b->listed) {
			score += z->weight;
			if (z->weight > best) {
				best = z->weight;
				f->dnsbl_zone = z->zone;
			}
			w = snprintf(dc->detail + n, sizeof(dc->detail) - n,
			    "%s%s=%s%s%s%s (weight %d)", n ? "; " : "",
			    z->zone, b->answer, b->txt_text[0] ? " \"" : "",
			    b->txt_text, b->txt_text[0] ? "\"" : "",
			    z->weight);
		}
		if (w > 0 && (size_t)w < sizeof(dc->detail) - n)
			n += (size_t)w;
	}
	if (n == 0)
		snprintf(dc->detail, sizeof(dc->detail), "not listed");
	f->dnsbl_score = score;
	f->dnsbl_detail = dc->detail;
	if (score + lo >= cfg->dnsbl.threshold)
		f->dnsbl = POLICY_DNS_YES;
	else if (score + hi < cfg->dnsbl.threshold)
		f->dnsbl = POLICY_DNS_NO;
	else {
		f->dnsbl = POLICY_DNS_ERROR;
		snprintf(dc->why, sizeof(dc->why), "zone %s: %s", failed,
		    failwhy);
		f->dnsbl_why = dc->why;
	}
	if (f->dnsbl_zone == NULL && failed != NULL)
		f->dnsbl_zone = failed;
}

/* Fill dc->facts from what the questions said so far. */
static void
refresh(struct dnschk *dc)
{
	struct policy_dns *f = &dc->facts;

	f->helo_name = dc->helo_name;
	f->helo_ehlo = dc->helo_ehlo != 0;
	f->helo_resolves = fact_helo(dc, dc->helo_found);
	f->helo_matches = fact_helo(dc, dc->helo_match);
	f->helo_why = dc->helo_why;
	facts_client(dc, f);
	facts_dnsbl(dc, f);
}

/* ------------------------------------------------------------ logs */

static void
log_dns(struct dnschk *dc, enum cfg_log_level lv, const char *check,
    const char *msg)
{
	struct session *s = dc->s;
	struct logline l;

	if (!log_enabled(lv))
		return;
	log_begin(&l, "dns");
	log_hex64(&l, "sid", s->id);
	log_cstr(&l, "client", s->ip);
	log_int(&l, "port", s->port);
	log_cstr(&l, "check", check);
	log_cstr(&l, "msg", msg);
	log_end(&l);
}

/* A lookup a check needs failed: say what on_dns_error makes of it. */
static void
log_failure(struct dnschk *dc, const char *check, const char *what,
    const char *why)
{
	char	 m[400];

	snprintf(m, sizeof(m), "%s failed (%s); on_dns_error = %s", what,
	    why != NULL ? why : "?", dc->s->cfg->on_dns_error ==
	    CFG_DNSERR_ACCEPT ? "accept: the check passes" :
	    "tempfail: 451 4.4.3 where the check is due");
	log_dns(dc, CFG_LOG_WARN, check, m);
}

/* One zone's answer, listing or not. */
static void
log_listing(struct dnschk *dc, size_t i)
{
	const struct cfg_dnsbl_zone *z = &dc->s->cfg->dnsbl.zones[i];
	struct bl *b = &dc->bl[i];
	struct session *s = dc->s;
	struct logline l;

	if (!log_enabled(CFG_LOG_INFO))
		return;
	log_begin(&l, "dnsbl");
	log_hex64(&l, "sid", s->id);
	log_cstr(&l, "client", s->ip);
	log_int(&l, "port", s->port);
	log_cstr(&l, "zone", z->zone);
	log_cstr(&l, "answer", b->answer);
	log_cstr(&l, "txt", b->txt_text);
	log_int(&l, "weight", z->weight);
	log_end(&l);
}

/* ------------------------------------------------------------ answers */

static void
got_ptr(struct dnschk *dc, const struct dns_result *r)
{
	struct session *s = dc->s;
	const struct dns_answer *a = r->answer;

	if (r->status != DNS_OK || a == NULL)
		return;
	for (size_t i = 0; i < a->nrr; i++) {
		const struct dns_rr *rr = &a->rr[i];
		const char *name = a->data + rr->off;
		size_t len = rr->len;
		char *copy;

		if (rr->type != DNS_T_PTR)
			continue;
		if (!dnsname_is_host(name, rr->len)) {
			/* never logged or used as it is: escaped, cut */
			if (dc->bad[0] == '\0')
				snprintf(dc->bad, sizeof(dc->bad), "%.*s",
				    (int)(rr->len > 64 ? 64 : rr->len), name);
			if (log_enabled(CFG_LOG_INFO)) {
				struct logline l;

				log_begin(&l, "dns");
				log_hex64(&l, "sid", s->id);
				log_cstr(&l, "client", s->ip);
				log_int(&l, "port", s->port);
				log_cstr(&l, "check", "rdns");
				log_cstr(&l, "msg", "PTR name is not a host "
				    "name: ignored");
				log_str(&l, "name", name, rr->len > 255 ? 255 :
				    rr->len);
				log_end(&l);
			}
			continue;
		}
		if (dc->nnames >= DNSCHK_PTR_NAMES)
			continue;
		if (name[len - 1] == '.')
			len--;
		if ((copy = mxs_memdup(name, len)) == NULL)
			continue;
		dc->names[dc->nnames] = copy;
		q_ask(dc, &dc->fwd[dc->nnames], Q_FWD, dc->nnames, copy,
		    client_is_v4(&s->addr) ? DNS_T_A : DNS_T_AAAA);
		dc->nnames++;
	}
}

static void
got_bl(struct dnschk *dc, size_t i, const struct dns_result *r)
{
	const struct cfg_dnsbl_zone *z = &dc->s->cfg->dnsbl.zones[i];
	struct bl *b = &dc->bl[i];
	const struct dns_answer *a = r->answer;
	char ip[16], m[300];

	if (r->status != DNS_OK || a == NULL)
		return;
	for (size_t k = 0; k < a->nrr; k++) {
		const struct dns_rr *rr = &a->rr[k];
		int code;

		if (rr->type != DNS_T_A)
			continue;
		snprintf(ip, sizeof(ip), "%u.%u.%u.%u", rr->addr[0],
		    rr->addr[1], rr->addr[2], rr->addr[3]);
		code = dnsname_dnsbl_code(rr->addr, z->codes.v, z->codes.n);
		if (code < 0) {
			snprintf(m, sizeof(m), "zone %s answered %s, outside "
			    "127.0.0.0/8: not a listing (is the zone still "
			    "working?)", z->zone, ip);
			log_dns(dc, CFG_LOG_WARN, "dnsbl", m);
			continue;
		}
		if (code == 0) {
			snprintf(m, sizeof(m), "zone %s answered %s, not one "
			    "of its codes: not a listing", z->zone, ip);
			log_dns(dc, CFG_LOG_INFO, "dnsbl", m);
			continue;
		}
		if (!b->listed)
			snprintf(b->answer, sizeof(b->answer), "%s", ip);
		b->listed = 1;
	}
	if (b->listed)
		q_ask(dc, &b->txt, Q_BLTXT, i, b->qname, DNS_T_TXT);
}

static void
got_txt(struct dnschk *dc, size_t i, const struct dns_result *r)
{
	struct bl *b = &dc->bl[i];
	const struct dns_answer *a = r->answer;
	size_t n = 0, pos, len;
	const char *str;

	if (r->status != DNS_OK || a == NULL)
		return;
	for (size_t k = 0; k < a->nrr && n == 0; k++) {
		if (a->rr[k].type != DNS_T_TXT)
			continue;
		pos = 0;
		while (dnsmsg_txt_next(a, &a->rr[k], &pos, &str, &len)) {
			if (len > sizeof(b->txt_text) - 1 - n)
				len = sizeof(b->txt_text) - 1 - n;
			memcpy(b->txt_text + n, str, len);
			n += len;
		}
	}
	/* DNS data: only printable ASCII reaches a log line or a reason
	 * as it is, and no quote that would end it there */
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)b->txt_text[k] < 0x20 ||
		    (unsigned char)b->txt_text[k] > 0x7e ||
		    b->txt_text[k] == '"' || b->txt_text[k] == '\\')
			b->txt_text[k] = '?';
	b->txt_text[n] = '\0';
}

/* Log what a group that just finished means. */
static void
after_group(struct dnschk *dc, enum q_kind kind)
{
	const struct policy_dns *f = &dc->facts;
	char what[96];

	switch (kind) {
	case Q_PTR:
	case Q_FWD:
		if (f->rdns == POLICY_DNS_ERROR || f->fcrdns == POLICY_DNS_ERROR) {
			if (dc->s->cfg->client.require_rdns ||
			    dc->s->cfg->client.require_fcrdns) {
				snprintf(what, sizeof(what), "%s lookup for "
				    "client %s", f->rdns == POLICY_DNS_ERROR ?
				    "PTR" : "forward", dc->s->ip);
				log_failure(dc, "rdns", what, f->rdns_why);
			}
		} else if (f->fcrdns != POLICY_DNS_UNKNOWN) {
			snprintf(what, sizeof(what), "client name %s%s",
			    f->ptr_name != NULL ? f->ptr_name : "(none)",
			    f->fcrdns == POLICY_DNS_YES ? " (confirmed)" :
			    f->rdns == POLICY_DNS_YES ? " (not confirmed)" : "");
			log_dns(dc, CFG_LOG_DEBUG, "rdns", what);
		}
		break;
	case Q_HELO:
		if (f->helo_resolves == POLICY_DNS_ERROR ||
		    f->helo_matches == POLICY_DNS_ERROR)
			log_failure(dc, "helo", "HELO name lookup",
			    dc->helo_why);
		break;
	case Q_BL:
	case Q_BLTXT:
		if (f->dnsbl == POLICY_DNS_UNKNOWN || dc->bl_logged)
			break;
		dc->bl_logged = 1;
		for (size_t i = 0; i < dc->nbl; i++)
			if (dc->bl[i].listed)
				log_listing(dc, i);
		if (f->dnsbl == POLICY_DNS_ERROR)
			log_failure(dc, "dnsbl", "DNSBL lookup", f->dnsbl_why);
		break;
	}
}

static int
group_running(struct dnschk *dc, enum q_kind kind)
{
	switch (kind) {
	case Q_PTR:
	case Q_FWD:
		if (running(&dc->ptr))
			return 1;
		for (size_t i = 0; i < dc->nnames; i++)
			if (running(&dc->fwd[i]))
				return 1;
		return 0;
	case Q_HELO:
		return running(&dc->helo[0]) || running(&dc->helo[1]);
	case Q_BL:
	case Q_BLTXT:
		for (size_t i = 0; i < dc->nbl; i++)
			if (running(&dc->bl[i].a) || running(&dc->bl[i].txt))
				return 1;
		return 0;
	}
	return 0;
}

/* A dns_lookup() answer, on a later loop turn; never after dns_cancel(). */
static void
on_answer(void *arg, const struct dns_result *r)
{
	struct dq *q = arg;
	struct dnschk *dc = q->dc;
	struct session *s = dc->s;
	size_t k;

	q->req = NULL;
	q->done = 1;
	q->st = r->status;
	snprintf(q->why, sizeof(q->why), "%s", r->why != NULL ? r->why :
	    dns_status_name(r->status));
	switch (q->kind) {
	case Q_PTR:
		got_ptr(dc, r);
		break;
	case Q_FWD:
		if (r->status == DNS_OK && r->answer != NULL)
			for (k = 0; k < r->answer->nrr; k++)
				if (is_client(s, &r->answer->rr[k]) &&
				    dc->confirmed < 0)
					dc->confirmed = (int)q->idx;
		break;
	case Q_HELO:
		if (r->status == DNS_OK && r->answer != NULL)
			for (k = 0; k < r->answer->nrr; k++) {
				if (r->answer->rr[k].type != DNS_T_A &&
				    r->answer->rr[k].type != DNS_T_AAAA)
					continue;
				dc->helo_found = 1;
				if (is_client(s, &r->answer->rr[k]))
					dc->helo_match = 1;
			}
		break;
	case Q_BL:
		got_bl(dc, q->idx, r);
		break;
	case Q_BLTXT:
		got_txt(dc, q->idx, r);
		break;
	}
	refresh(dc);
	if (!group_running(dc, q->kind))
		after_group(dc, q->kind);
	await_kick(s);
}

/* ------------------------------------------------------------ session */

void
dnschk_start(struct session *s)
{
	const struct config *cfg = s->cfg;
	struct dnschk *dc;
	char name[DNS_NAME_BUF];
	int client, nbl;

	s->dns = NULL;
	s->pc.dns = NULL;
	if (s->pc.trusted || s->pc.submission || s->w->dns == NULL ||
	    (s->addr.family != AF_INET && s->addr.family != AF_INET6))
		return;
	client = cfg->client.require_rdns || cfg->client.require_fcrdns ||
	    spoof_wants(cfg);
	nbl = cfg->dnsbl.nzones > 0;
	if (!client && !nbl && !helo_wants(cfg))
		return;
	if ((dc = calloc(1, sizeof(*dc))) == NULL)
		return;		/* facts unknown: the checks do not apply */
	dc->s = s;
	dc->confirmed = -1;
	if (nbl && (dc->bl = calloc(cfg->dnsbl.nzones, sizeof(*dc->bl))) ==
	    NULL) {
		free(dc);
		return;
	}
	s->dns = dc;
	s->pc.dns = &dc->facts;
	if (client && dnsname_reverse(&s->addr, NULL, name, sizeof(name)) > 0) {
		dc->client_on = 1;
		q_ask(dc, &dc->ptr, Q_PTR, 0, name, DNS_T_PTR);
	}
	if (nbl) {
		dc->nbl = cfg->dnsbl.nzones;
		for (size_t i = 0; i < dc->nbl; i++) {
			struct bl *b = &dc->bl[i];

			if (dnsname_reverse(&s->addr, cfg->dnsbl.zones[i].zone,
			    b->qname, sizeof(b->qname)) == 0) {
				b->a.asked = b->a.done = 1;
				b->a.st = DNS_NXDOMAIN;
				continue;
			}
			q_ask(dc, &b->a, Q_BL, i, b->qname, DNS_T_A);
		}
	}
	refresh(dc);
}

void
dnschk_helo(struct session *s, struct span arg, int ehlo)
{
	struct dnschk *dc = s->dns;
	struct span name = arg;
	char *copy;

	if (dc == NULL || !helo_wants(s->cfg))
		return;
	while (name.len > 0 && (name.p[0] == ' ' || name.p[0] == '\t')) {
		name.p++;
		name.len--;
	}
	while (name.len > 0 && (name.p[name.len - 1] == ' ' ||
	    name.p[name.len - 1] == '\t'))
		name.len--;
	if (dc->helo_name != NULL && strlen(dc->helo_name) == name.len &&
	    memcmp(dc->helo_name, name.p, name.len) == 0) {
		dc->helo_ehlo = ehlo;
		refresh(dc);
		return;		/* asked already (or the command again) */
	}
	q_cancel(&dc->helo[0]);
	q_cancel(&dc->helo[1]);
	free(dc->helo_name);
	dc->helo_name = NULL;
	dc->helo_found = dc->helo_match = 0;
	dc->helo_ehlo = ehlo;
	/* only a name is looked up: literals and bare IPs are judged by
	 * the HELO syntax checks, a name DNS cannot hold (not ASCII host
	 * name syntax, underscores aside) is not asked */
	if (policy_helo_class(name, NULL) == POLICY_HELO_FQDN &&
	    (copy = mxs_memdup(name.p, name.len)) != NULL) {
		int ok = 1;

		for (size_t i = 0; i < name.len; i++)
			if ((unsigned char)copy[i] >= 0x80)
				ok = 0;
		if (ok) {
			dc->helo_name = copy;
			q_ask(dc, &dc->helo[0], Q_HELO, 0, copy, DNS_T_A);
			q_ask(dc, &dc->helo[1], Q_HELO, 1, copy, DNS_T_AAAA);
		} else
			free(copy);
	}
	refresh(dc);
}

static int
any_running(struct dnschk *dc)
{
	return group_running(dc, Q_PTR) || group_running(dc, Q_HELO) ||
	    group_running(dc, Q_BL);
}

/* await_ready_fn: the stage's lookups are in (arg: the command's
 * verb, as an integer). */
static int
ready(struct session *s, void *arg)
{
	struct dnschk *dc = s->dns;
	enum cmd_verb verb = (enum cmd_verb)(uintptr_t)arg;

	if (dc == NULL)
		return 1;
	if ((verb == CMD_HELO || verb == CMD_EHLO) &&
	    s->cfg->helo.reject_at != CFG_AT_HELO)
		return !group_running(dc, Q_PTR);	/* XCLIENT NAME= */
	return !any_running(dc);
}

int
dnschk_wait(struct session *s, const struct smtp_cmd *c, const char *line,
    size_t len)
{
	struct dnschk *dc = s->dns;
	const struct config *cfg = s->cfg;
	int wait = 0;

	if (dc == NULL || s->auth_id != NULL)
		return 0;
	switch (c->verb) {
	case CMD_HELO:
	case CMD_EHLO:
		if (cfg->helo.reject_at == CFG_AT_HELO)
			wait = any_running(dc);
		else if (cfg->backend.client_info == CFG_CI_XCLIENT)
			wait = group_running(dc, Q_PTR);
		break;
	case CMD_MAIL:
		wait = cfg->helo.reject_at == CFG_AT_MAIL && any_running(dc);
		break;
	case CMD_RCPT:
		wait = !c->postmaster && any_running(dc);
		break;
	default:
		break;
	}
	if (!wait)
		return 0;
	log_sid_client(CFG_LOG_DEBUG, "dns", s->id, s->ip, "%s waits for DNS",
	    cmd_verb_name(c->verb));
	await_line(s, c->verb, line, len, ready, (void *)(uintptr_t)c->verb);
	return 1;
}

void
dnschk_stop(struct session *s)
{
	struct dnschk *dc = s->dns;

	if (dc == NULL)
		return;
	s->dns = NULL;
	s->pc.dns = NULL;
	s->bc.name = NULL;
	q_cancel(&dc->ptr);
	for (size_t i = 0; i < DNSCHK_PTR_NAMES; i++) {
		q_cancel(&dc->fwd[i]);
		free(dc->names[i]);
		dc->names[i] = NULL;
	}
	q_cancel(&dc->helo[0]);
	q_cancel(&dc->helo[1]);
	for (size_t i = 0; i < dc->nbl; i++) {
		q_cancel(&dc->bl[i].a);
		q_cancel(&dc->bl[i].txt);
	}
	free(dc->bl);
	free(dc->helo_name);
	free(dc);
}

const char *
dnschk_name(const struct session *s)
{
	const struct dnschk *dc = s->dns;

	if (dc == NULL || dc->facts.fcrdns != POLICY_DNS_YES)
		return NULL;
	return dc->facts.ptr_name;
}

void
dnschk_spoof(const struct session *s, int *no_rdns, int *mismatch)
{
	const struct dnschk *dc = s->dns;

	*no_rdns = *mismatch = 0;
	if (dc == NULL || !dc->client_on)
		return;
	*no_rdns = dc->facts.rdns == POLICY_DNS_NO;
	*mismatch = dc->facts.rdns == POLICY_DNS_YES &&
	    dc->facts.fcrdns == POLICY_DNS_NO;
}
