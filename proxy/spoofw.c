/*
 * proxy/spoofw.c - the spoof score carried out (seed 004, MAILsweeper's
 * weighted spoof probability): core/spoof.c finds the signs of the held
 * header section and of what the session knows; here they become one
 * verdict for the log ("spoof", the score, the signs), what the message
 * gets (X-Spoof-Score, X-Spoof-Flag, a Subject prefix, the warning in
 * its body, or 550 5.7.1), and the header lines themselves. Monitor
 * mode (spoof.mode, or the top-level mode) only logs. Shared by the
 * live session and the dry run.
 */
#include <stdio.h>
#include <string.h>

#include "core/spoof.h"
#include "proxy/pol.h"
#include "proxy/spfw.h"
#include "proxy/spoofw.h"

const char *const spoofw_fields[2] = { "X-Spoof-Score", "X-Spoof-Flag" };

void
spoofw_decide(const struct config *cfg, const struct policy_cfg *pol,
    const struct policy_client *pc, const char *mail_from, int mail_route,
    const struct spfw_result *spf, const char *sec, size_t len,
    struct spoofw *out, struct policy_verdict *v)
{
	const struct policy_spf_outcome *so = NULL;
	struct spoof_input	in;
	char			signs[POLICY_REASON_MAX - 80];
	int			at_threshold;

	memset(out, 0, sizeof(*out));
	memset(v, 0, sizeof(*v));
	if (!cfg->spoof.enabled)
		return;
	memset(&in, 0, sizeof(in));
	in.hdr = sec;
	in.hdrlen = len;
	if (mail_from != NULL)
		in.mail_from = span_make(mail_from, strlen(mail_from));
	in.mail_from_route = mail_route != 0;
	in.trusted = pc->trusted;
	in.authenticated = pc->auth_id != NULL;
	/* a HELO that failed a check: deferred, or only logged */
	in.helo_failed = pc->helo_seen && pc->helo.check == POLICY_CK_HELO;
	/* only where the session looked them up (proxy/dnschk.h) */
	in.no_rdns = pc->dns != NULL && pc->dns->rdns == POLICY_DNS_NO;
	in.fcrdns_mismatch = pc->dns != NULL &&
	    pc->dns->rdns == POLICY_DNS_YES && pc->dns->fcrdns == POLICY_DNS_NO;
	in.local_domains = pol->local_domains;
	in.nlocal_domains = pol->nlocal_domains;
	in.own = pol->own_addresses;
	in.nown = pol->nown_addresses;
	if (spf != NULL)
		so = policy_spf_deciding(&spf->helo, &spf->mfrom);
	if (so != NULL) {
		in.spf_ran = true;
		in.spf = so->result;
		in.spf_domain = span_make(so->domain, strlen(so->domain));
	}
	out->score = spoof_score(&in, cfg->spoof.sign_weights, &out->signs);

	v->check = POLICY_CK_SPOOF;
	v->at = POLICY_AT_DATA;
	v->score = out->score;
	v->action = POLICY_PASS;
	if (spoof_signs_text(out->signs, signs, sizeof(signs)) == 0)
		snprintf(signs, sizeof(signs), "no sign");
	snprintf(v->reason, sizeof(v->reason), "%s", signs);
	at_threshold = out->score >= cfg->spoof.threshold;
	if (at_threshold && pc->trusted) {
		/* trusted_networks are exempt from every control */
		snprintf(v->reason, sizeof(v->reason), "%s; client in "
		    "trusted_networks: not acted on", signs);
	} else if (at_threshold && cfg->spoof.action == CFG_SPOOF_REJECT) {
		v->action = POLICY_REJECT;
		v->code = 550;
		snprintf(v->enh, sizeof(v->enh), "5.7.1");
		snprintf(v->text, sizeof(v->text), "550 5.7.1 Message refused: "
		    "it looks spoofed (score %d/%d)", out->score, SPOOF_MAX);
	} else if (at_threshold) {
		v->action = POLICY_TAG;
	}
	out->enforced = pol_enforce_cfg(cfg, v);
	if (!out->enforced)
		out->what = SPOOFW_LOG;
	else if (v->action == POLICY_REJECT)
		out->what = SPOOFW_REJECT;
	else if (v->action == POLICY_TAG)
		out->what = SPOOFW_TAG;
	else
		out->what = SPOOFW_SCORE;
}

size_t
spoofw_lines(const struct spoofw *sw, char *buf, size_t cap)
{
	char	signs[POLICY_REASON_MAX];
	int	n;

	if (cap > 0)
		buf[0] = '\0';
	if (sw->what != SPOOFW_SCORE && sw->what != SPOOFW_TAG)
		return 0;
	if (spoof_signs_text(sw->signs, signs, sizeof(signs)) > 0)
		n = snprintf(buf, cap, "X-Spoof-Score: %d/%d (%s)\r\n%s",
		    sw->score, SPOOF_MAX, signs, sw->what == SPOOFW_TAG ?
		    "X-Spoof-Flag: YES\r\n" : "");
	else
		n = snprintf(buf, cap, "X-Spoof-Score: %d/%d\r\n%s",
		    sw->score, SPOOF_MAX, sw->what == SPOOFW_TAG ?
		    "X-Spoof-Flag: YES\r\n" : "");
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n;
}

const char *
spoofw_subject(const struct config *cfg, const struct spoofw *sw)
{
	if (sw->what != SPOOFW_TAG || cfg->spoof.action != CFG_SPOOF_SUBJECT)
		return NULL;
	return cfg->spoof.subject_prefix;
}

int
spoofw_appends(const struct config *cfg, const struct spoofw *sw)
{
	return sw->what == SPOOFW_TAG && cfg->spoof.action == CFG_SPOOF_APPEND;
}
