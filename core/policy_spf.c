/*
 * core/policy_spf.c - the SPF verdict of a transaction (core/
 * policy_spf.h): the outcomes of core/spf.c copied out and made
 * printable, which identity decides (RFC 7208 2.3, 2.4), and what each
 * result gets (RFC 7208 8; reply codes of RFC 7372 3.2: X.7.23 "SPF
 * validation failed", X.7.24 "SPF validation error"). Input: the
 * evaluator's result, whose texts come from DNS and from the client
 * (untrusted), and the settings (trusted). Allocates nothing.
 */
#include <stdio.h>
#include <string.h>

#include "core/policy_int.h"
#include "core/policy_spf.h"

/* Copy s[0..len) into dst (cap bytes): 0x20..0x7e kept, others '?'. */
static void
printable(char *dst, size_t cap, struct span s)
{
	size_t	n = s.len < cap - 1 ? s.len : cap - 1;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		dst[i] = c >= 0x20 && c <= 0x7e ? (char)c : '?';
	}
	dst[n] = '\0';
}

void
policy_spf_outcome(const struct spf *s, enum spf_identity id,
    struct policy_spf_outcome *o)
{
	struct spf_verdict	v;
	struct span		e;

	memset(o, 0, sizeof(*o));
	spf_result(s, &v);
	o->ran = true;
	o->result = v.result;
	o->identity = id;
	printable(o->domain, sizeof(o->domain), v.domain);
	printable(o->mechanism, sizeof(o->mechanism), v.mechanism);
	printable(o->problem, sizeof(o->problem), v.problem);
	o->reason = v.reason != NULL ? v.reason : "";
	e = v.explanation;
	while (e.len > 0 && (e.p[0] == ' ' || e.p[0] == '\t')) {
		e.p++;
		e.len--;
	}
	while (e.len > 0 && (e.p[e.len - 1] == ' ' || e.p[e.len - 1] == '\t'))
		e.len--;
	printable(o->explanation, sizeof(o->explanation), e);
}

const struct policy_spf_outcome *
policy_spf_deciding(const struct policy_spf_outcome *helo,
    const struct policy_spf_outcome *mfrom)
{
	bool	h = helo != NULL && helo->ran;
	bool	m = mfrom != NULL && mfrom->ran;

	if (h && helo->result == SPF_FAIL)
		return helo;
	if (m)
		return mfrom;
	return h ? helo : NULL;
}

const char *
policy_spf_identity_name(enum spf_identity id)
{
	return id == SPF_ID_HELO ? "helo" : "mailfrom";
}

/* "mailfrom example.com: fail (-all)" or "...: permerror (why: what)" */
static void
spf_reason(struct policy_verdict *v, const struct policy_spf_outcome *o)
{
	policy_reason(v, policy_spf_identity_name(o->identity));
	policy_reason(v, " ");
	policy_reason_untrusted(v, span_make(o->domain, strlen(o->domain)));
	policy_reason(v, ": ");
	policy_reason(v, spf_result_name(o->result));
	if (o->mechanism[0] != '\0') {
		policy_reason(v, " (");
		policy_reason_untrusted(v, span_make(o->mechanism,
		    strlen(o->mechanism)));
		policy_reason(v, ")");
	} else if (o->reason[0] != '\0') {
		policy_reason(v, " (");
		policy_reason(v, o->reason);
		if (o->problem[0] != '\0') {
			policy_reason(v, ": ");
			policy_reason_untrusted(v, span_make(o->problem,
			    strlen(o->problem)));
		}
		policy_reason(v, ")");
	}
}

/* "<domain> does not permit mail from <ip>" */
static void
not_permitted(struct policy_verdict *v, const struct policy_client *cl,
    const struct policy_spf_outcome *o)
{
	char	ipbuf[64];

	policy_text_untrusted(v, span_make(o->domain, strlen(o->domain)));
	policy_text(v, " does not permit mail from ");
	policy_text(v, policy_client_ip(cl, ipbuf, sizeof(ipbuf)));
}

/* The explanation, cut at POLICY_SPF_EXPLAIN octets with "...". */
static void
explanation(struct policy_verdict *v, const char *e)
{
	char	buf[POLICY_SPF_EXPLAIN + 4];
	size_t	n = strlen(e);

	if (n > POLICY_SPF_EXPLAIN) {
		memcpy(buf, e, POLICY_SPF_EXPLAIN);
		memcpy(buf + POLICY_SPF_EXPLAIN, "...", 4);
	} else {
		memcpy(buf, e, n + 1);
	}
	policy_text(v, buf);
}

enum policy_action
policy_spf(const struct policy_spf_cfg *cfg, const struct policy_client *cl,
    const struct policy_spf_outcome *helo,
    const struct policy_spf_outcome *mfrom, struct policy_verdict *out)
{
	const struct policy_spf_outcome *o = policy_spf_deciding(helo, mfrom);

	if (!cfg->enabled || o == NULL) {
		policy_pass(out, NULL);
		return out->action;
	}
	if (cl->trusted || cl->auth_id != NULL) {
		policy_pass(out, NULL);
		out->check = POLICY_CK_SPF;
		out->at = POLICY_AT_MAIL;
		spf_reason(out, o);
		policy_reason(out, cl->trusted ? "; client in trusted_networks"
		    : "; authenticated client");
		return out->action;
	}
	switch (o->result) {
	case SPF_FAIL:
		if (!cfg->reject_fail)
			break;
		policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL, POLICY_CK_SPF,
		    550, "5.7.23");
		if (o->explanation[0] != '\0') {
			explanation(out, o->explanation);
		} else {
			policy_text(out, "SPF: ");
			not_permitted(out, cl, o);
		}
		spf_reason(out, o);
		return out->action;
	case SPF_SOFTFAIL:
		if (cfg->softfail == POLICY_SPF_SOFT_ACCEPT)
			break;
		if (cfg->softfail == POLICY_SPF_SOFT_TEMPFAIL)
			policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL,
			    POLICY_CK_SPF, 451, "4.7.23");
		else
			policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL,
			    POLICY_CK_SPF, 550, "5.7.23");
		policy_text(out, "SPF softfail: ");
		not_permitted(out, cl, o);
		if (cfg->softfail == POLICY_SPF_SOFT_TEMPFAIL)
			policy_text(out, ", try again later");
		spf_reason(out, o);
		return out->action;
	case SPF_TEMPERROR:
		if (cfg->dns_error_accept)
			break;
		policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL, POLICY_CK_SPF,
		    451, "4.7.24");
		policy_text(out, "Temporary SPF error for ");
		policy_text_untrusted(out, span_make(o->domain,
		    strlen(o->domain)));
		policy_text(out, ", try again later");
		spf_reason(out, o);
		return out->action;
	case SPF_NONE:
	case SPF_NEUTRAL:
	case SPF_PASS:
	case SPF_PERMERROR:
		break;
	}
	policy_pass(out, NULL);
	out->check = POLICY_CK_SPF;
	out->at = POLICY_AT_MAIL;
	spf_reason(out, o);
	if (o->result == SPF_FAIL)
		policy_reason(out, "; spf.reject_fail is off");
	else if (o->result == SPF_SOFTFAIL)
		policy_reason(out, "; spf.softfail = \"accept\"");
	else if (o->result == SPF_TEMPERROR)
		policy_reason(out, "; on_dns_error = \"accept\"");
	else if (o->result == SPF_PERMERROR)
		policy_reason(out, "; accepted");
	return out->action;
}
