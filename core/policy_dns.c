/*
 * core/policy_dns.c - the verdicts of the DNS checks on facts the
 * proxy looked up: the HELO name's forward lookup (resolvable, and
 * naming the client), the client's reverse name (a PTR, and one that
 * is forward-confirmed, FCrDNS), and the weighted DNSBL/DNSWL score
 * (Postfix's postscreen_dnsbl_sites). A failed lookup is judged by
 * on_dns_error. Input: struct policy_dns (DNS data, untrusted, in the
 * reasons only, sanitised). Allocates nothing.
 */
#include <stdio.h>
#include <string.h>

#include "core/policy.h"
#include "core/policy_int.h"

bool
policy_dns_checks_on(const struct policy_cfg *cfg)
{
	return cfg->helo.require_resolvable || cfg->helo.must_match_client ||
	    cfg->client.require_rdns || cfg->client.require_fcrdns ||
	    cfg->dnsbl.enabled;
}

static struct span
cspan(const char *s)
{
	return s != NULL ? span_make(s, strlen(s)) : span_make("", 0);
}

/*
 * on_dns_error = "tempfail": 451 4.4.3 naming what could not be
 * checked (what: our words), the reason naming the failed lookup.
 * Returns false (the check passes) under "accept".
 */
static bool
dns_error(const struct policy_cfg *cfg, enum policy_stage at,
    enum policy_check ck, const char *what, const char *why,
    struct policy_verdict *v)
{
	if (cfg->dns_error_accept)
		return false;
	policy_refuse(v, POLICY_REJECT, at, ck, 451, "4.4.3");
	policy_text(v, what);
	policy_text(v, ": temporary DNS failure, try again later");
	policy_reason(v, "on_dns_error = tempfail: ");
	policy_reason(v, what);
	policy_reason(v, ": ");
	policy_reason(v, why != NULL ? why : "lookup failed");
	return true;
}

/* "Client host [ip]" into buf, for texts. */
static const char *
client_host(const struct policy_client *cl, char *buf, size_t cap)
{
	char	 ipb[64];

	snprintf(buf, cap, "Client host [%s]", policy_client_ip(cl, ipb,
	    sizeof(ipb)));
	return buf;
}

static void
helo_start(const struct policy_dns *d, struct policy_verdict *v)
{
	const char *verb = d->helo_ehlo ? "EHLO " : "HELO ";

	policy_text(v, verb);
	policy_text_untrusted(v, cspan(d->helo_name));
	policy_reason(v, verb);
	policy_reason_untrusted(v, cspan(d->helo_name));
}

/* helo.require_resolvable, then helo.must_match_client. */
static bool
dns_helo(const struct policy_cfg *cfg, const struct policy_client *cl,
    enum policy_stage at, struct policy_verdict *v)
{
	const struct policy_dns	*d = cl->dns;
	char			 what[128], ipb[64];
	const char		*ip;

	if (d->helo_name == NULL)
		return false;
	snprintf(what, sizeof(what), "%s name", d->helo_ehlo ? "EHLO" :
	    "HELO");
	if (cfg->helo.require_resolvable) {
		if (d->helo_resolves == POLICY_DNS_ERROR)
			return dns_error(cfg, at, POLICY_CK_HELO, what,
			    d->helo_why, v);
		if (d->helo_resolves == POLICY_DNS_NO) {
			policy_refuse(v, POLICY_REJECT, at, POLICY_CK_HELO,
			    550, "5.7.1");
			helo_start(d, v);
			policy_text(v, " has no address in DNS");
			policy_reason(v, " has no A or AAAA record");
			return true;
		}
	}
	if (!cfg->helo.must_match_client)
		return false;
	if (d->helo_matches == POLICY_DNS_ERROR)
		return dns_error(cfg, at, POLICY_CK_HELO, what, d->helo_why, v);
	if (d->helo_matches != POLICY_DNS_NO)
		return false;
	ip = policy_client_ip(cl, ipb, sizeof(ipb));
	policy_refuse(v, POLICY_REJECT, at, POLICY_CK_HELO, 550, "5.7.1");
	helo_start(d, v);
	policy_text(v, " does not resolve to your address ");
	policy_text(v, ip);
	if (d->helo_resolves == POLICY_DNS_NO)
		policy_reason(v, " has no A or AAAA record; client ");
	else
		policy_reason(v, " has no A or AAAA record for client ");
	policy_reason(v, ip);
	return true;
}

/* client.require_rdns, then client.require_fcrdns. */
static bool
dns_rdns(const struct policy_cfg *cfg, const struct policy_client *cl,
    enum policy_stage at, struct policy_verdict *v)
{
	const struct policy_dns	*d = cl->dns;
	char			 host[96];

	client_host(cl, host, sizeof(host));
	if (cfg->client.require_rdns || cfg->client.require_fcrdns) {
		if (d->rdns == POLICY_DNS_ERROR)
			return dns_error(cfg, at, POLICY_CK_RDNS, host,
			    d->rdns_why, v);
		if (d->rdns == POLICY_DNS_NO) {
			policy_refuse(v, POLICY_REJECT, at, POLICY_CK_RDNS,
			    550, "5.7.1");
			policy_text(v, host);
			policy_text(v, " has no reverse DNS name");
			policy_reason(v, "no PTR record");
			if (d->ptr_bad != NULL) {
				policy_reason(v, " with a host name: ");
				policy_reason_untrusted(v, cspan(d->ptr_bad));
			}
			policy_reason(v, " for ");
			policy_reason(v, host + 12);
			return true;
		}
	}
	if (!cfg->client.require_fcrdns)
		return false;
	if (d->fcrdns == POLICY_DNS_ERROR)
		return dns_error(cfg, at, POLICY_CK_RDNS, host, d->rdns_why, v);
	if (d->fcrdns != POLICY_DNS_NO)
		return false;
	policy_refuse(v, POLICY_REJECT, at, POLICY_CK_RDNS, 550, "5.7.1");
	policy_text(v, host);
	policy_text(v, ": its reverse DNS name does not resolve back to it");
	policy_reason(v, "PTR name ");
	policy_reason_untrusted(v, cspan(d->ptr_name));
	policy_reason(v, " does not resolve back to ");
	policy_reason(v, host + 12);
	return true;
}

/* dnsbl: the weighted score against the threshold. */
static bool
dns_dnsbl(const struct policy_cfg *cfg, const struct policy_client *cl,
    enum policy_stage at, struct policy_verdict *v)
{
	const struct policy_dns	*d = cl->dns;
	char			 host[96], ipb[64], num[32];

	if (d->dnsbl == POLICY_DNS_ERROR) {
		client_host(cl, host, sizeof(host));
		return dns_error(cfg, at, POLICY_CK_DNSBL, host,
		    d->dnsbl_why, v);
	}
	if (d->dnsbl != POLICY_DNS_YES)
		return false;
	policy_refuse(v, POLICY_REJECT, at, POLICY_CK_DNSBL, 554, "5.7.1");
	policy_text(v, "Service unavailable; client [");
	policy_text(v, policy_client_ip(cl, ipb, sizeof(ipb)));
	policy_text(v, "] blocked using ");
	policy_text_untrusted(v, cspan(d->dnsbl_zone));
	snprintf(num, sizeof(num), "score %d >= %d: ", d->dnsbl_score,
	    cfg->dnsbl.threshold);
	policy_reason(v, num);
	policy_reason(v, d->dnsbl_detail != NULL ? d->dnsbl_detail : "");
	v->score = d->dnsbl_score;
	return true;
}

static bool
skipped(unsigned skip, enum policy_check c)
{
	return (skip & POLICY_CK_BIT(c)) != 0;
}

/* Accepts any facts (cl->dns may be NULL). See policy.h. */
enum policy_action
policy_dns(const struct policy_cfg *cfg, const struct policy_client *cl,
    enum policy_stage at, unsigned skip, struct policy_verdict *out)
{
	/* exempt: no reason, so that a caller's later checks write theirs */
	policy_pass(out, NULL);
	if (cl->trusted || cl->submission || cl->auth_id != NULL ||
	    cl->dns == NULL)
		return out->action;
	if (!skipped(skip, POLICY_CK_HELO) && dns_helo(cfg, cl, at, out))
		return out->action;
	if (!skipped(skip, POLICY_CK_RDNS) && dns_rdns(cfg, cl, at, out))
		return out->action;
	if (!skipped(skip, POLICY_CK_DNSBL) && cfg->dnsbl.enabled &&
	    dns_dnsbl(cfg, cl, at, out))
		return out->action;
	return out->action;
}
