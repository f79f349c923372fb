/*
 * core/policy_from.c - the checks of the From: header (RFC 5322 3.6.2)
 * in a held header section: IP Shield on each From: address, and each
 * From: address of an authenticated session against its identity and
 * aliases. Input: the header section as the client sent it (untrusted,
 * dot-stuffed), the configuration and the session's facts. The address
 * is read with core/addr5322 and judged by its real local@domain, never
 * by a display name. Allocates nothing; the unfolded field lives on the
 * stack, bounded by POLICY_FROM_MAX_BYTES.
 */
#include <string.h>

#include "core/addr5322.h"
#include "core/policy.h"
#include "core/policy_int.h"

/* One From: field, read once for both checks. */
struct from {
	enum al_from_rc		rc;
	size_t			n;
	struct al_mailbox	mb[POLICY_FROM_MAX_MAILBOXES];
	char			buf[POLICY_FROM_MAX_BYTES];
};

/* A From: address as local@domain, with its parts. */
struct from_addr {
	char		text[384];
	struct span	local;		/* unquoted */
	struct span	domain;		/* empty: none, or cut */
};

/*
 * from_addr - the real address of m into a. A result cut by the buffer
 * or without "@" leaves domain empty: such an address is never owned
 * and never inside a shield's networks.
 */
static void
from_addr(const struct al_mailbox *m, struct from_addr *a)
{
	size_t	 n = al_addr_text(m, a->text, sizeof(a->text));
	char	*at;

	a->local = span_make(a->text, 0);
	a->domain = span_make(a->text, 0);
	if (n + 1 >= sizeof(a->text))
		return;
	if ((at = strrchr(a->text, '@')) == NULL || at == a->text)
		return;
	a->local = policy_local_unquote(span_make(a->text,
	    (size_t)(at - a->text)));
	a->domain = span_make(at + 1, n - (size_t)(at + 1 - a->text));
}

/* Why a From: field that is not AL_FROM_OK cannot be checked. */
static const char *
from_problem(enum al_from_rc rc)
{
	switch (rc) {
	case AL_FROM_OK:
		break;
	case AL_FROM_NONE:
		return "no From field";
	case AL_FROM_MANY:
		return "more than one From field";
	case AL_FROM_UNPARSABLE:
		return "From field cannot be parsed";
	case AL_FROM_NOADDR:
		return "From field holds no address";
	case AL_FROM_TOOMANY:
		return "From field holds too many addresses";
	}
	return "From field cannot be read";
}

/* A From: field a check needs but cannot read: it fails, never passes. */
static void
refuse_unreadable(struct policy_verdict *out, enum policy_check check,
    const char *key, enum al_from_rc rc)
{
	policy_refuse(out, POLICY_REJECT, POLICY_AT_DATA, check, 550,
	    "5.7.1");
	policy_text(out, "Sorry, <FROM header> cannot be checked: ");
	policy_text(out, from_problem(rc));
	policy_reason(out, from_problem(rc));
	policy_reason(out, " (");
	policy_reason(out, key);
	policy_reason(out, " needs exactly one From field with an "
	    "address)");
}

/* ip_shield.check_from_header: each From: address, as IP Shield at MAIL. */
static bool
from_ip_shield(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct from *f, struct policy_verdict *out)
{
	struct from_addr	 a;
	char			 buf[64];
	const char		*ip;

	if (!cfg->ip_shield.enabled || !cfg->ip_shield.check_from_header ||
	    cl->auth_id != NULL)
		return false;
	if (f->rc == AL_FROM_NONE)
		return false;	/* nothing claims a shielded domain */
	if (f->rc != AL_FROM_OK) {
		refuse_unreadable(out, POLICY_CK_IP_SHIELD,
		    "ip_shield.check_from_header", f->rc);
		return true;
	}
	ip = policy_client_ip(cl, buf, sizeof(buf));
	for (size_t i = 0; i < f->n; i++) {
		from_addr(&f->mb[i], &a);
		if (a.domain.len > 0 && !policy_shield_outside(cfg, cl,
		    a.domain))
			continue;
		policy_refuse(out, POLICY_REJECT, POLICY_AT_DATA,
		    POLICY_CK_IP_SHIELD, 550, "5.7.1");
		policy_text(out, "Sorry, ");
		policy_text_untrusted(out, span_make(a.text, strlen(a.text)));
		policy_text(out, " <FROM header> not allowed to send mail "
		    "from ");
		policy_text(out, ip);
		policy_reason(out, "From address ");
		policy_reason_untrusted(out, span_make(a.text,
		    strlen(a.text)));
		if (a.domain.len == 0) {
			policy_reason(out, " has no domain that can be "
			    "checked");
			return true;
		}
		policy_reason(out, ": domain is shielded and client ");
		policy_reason(out, ip);
		policy_reason(out, " is in none of its networks");
		return true;
	}
	return false;
}

/* auth.match_from_header: each From: address is the identity's own. */
static bool
from_match_auth(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct from *f, struct policy_verdict *out)
{
	struct from_addr	a;

	if (!cfg->auth.match_from_header || cl->auth_id == NULL)
		return false;
	if (f->rc != AL_FROM_OK) {
		refuse_unreadable(out, POLICY_CK_AUTH,
		    "auth.match_from_header", f->rc);
		return true;
	}
	for (size_t i = 0; i < f->n; i++) {
		from_addr(&f->mb[i], &a);
		if (policy_addr_owned(cfg, cl->auth_id, a.local, a.domain))
			continue;
		policy_refuse(out, POLICY_REJECT, POLICY_AT_DATA,
		    POLICY_CK_AUTH, 550, "5.7.1");
		policy_text(out, "Sorry, ");
		policy_text_untrusted(out, span_make(a.text, strlen(a.text)));
		policy_text(out, " <FROM header> not owned by the "
		    "authenticated user");
		policy_reason(out, "identity ");
		policy_reason_untrusted(out, span_make(cl->auth_id,
		    strlen(cl->auth_id)));
		policy_reason(out, " may not send as From address ");
		policy_reason_untrusted(out, span_make(a.text,
		    strlen(a.text)));
		return true;
	}
	return false;
}

/* Accepts any octets; see core/policy.h. */
enum policy_action
policy_from_header(const struct policy_cfg *cfg,
    const struct policy_client *cl, const char *sec, size_t len,
    struct policy_verdict *out)
{
	return policy_from_header_skip(cfg, cl, sec, len, 0, out);
}

/* As policy_from_header(); a check whose bit is in skip is not asked. */
enum policy_action
policy_from_header_skip(const struct policy_cfg *cfg,
    const struct policy_client *cl, const char *sec, size_t len,
    unsigned skip, struct policy_verdict *out)
{
	struct from	f;
	bool		shield, match;

	if (cl->trusted) {
		policy_pass(out, "client in trusted_networks");
		return out->action;
	}
	policy_pass(out, NULL);
	shield = (skip & POLICY_CK_BIT(POLICY_CK_IP_SHIELD)) == 0 &&
	    cfg->ip_shield.enabled && cfg->ip_shield.check_from_header &&
	    cl->auth_id == NULL;
	match = (skip & POLICY_CK_BIT(POLICY_CK_AUTH)) == 0 &&
	    cfg->auth.match_from_header && cl->auth_id != NULL;
	if (!shield && !match)
		return out->action;
	f.n = 0;
	f.rc = al_from(sec, len, f.buf, sizeof(f.buf), f.mb,
	    POLICY_FROM_MAX_MAILBOXES, &f.n);
	if (shield && from_ip_shield(cfg, cl, &f, out))
		return out->action;
	if (match && from_match_auth(cfg, cl, &f, out))
		return out->action;
	return out->action;
}
