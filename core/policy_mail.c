/*
 * core/policy_mail.c - the envelope checks: at MAIL FROM the deferred
 * HELO refusal, the submission listener's AUTH requirement (RFC 6409
 * 4.3), IP Shield, AUTH for local senders and the envelope sender of an
 * authenticated session; at RCPT TO the HELO refusal deferred there
 * (postmaster exempt, RFC 5321 4.5.1), auth.except_to_local and relay
 * protection (Postfix's reject_unauth_destination, with its
 * allow_untrusted_routing = no). Input: commands parsed by cmd_parse()
 * (untrusted spans), the configuration and the session's facts.
 * Allocates nothing.
 */
#include <string.h>

#include "core/policy.h"
#include "core/policy_int.h"

static bool
helo_checks_on(const struct policy_cfg *cfg)
{
	return cfg->helo.reject_bare_ip || cfg->helo.literal_must_match ||
	    cfg->helo.reject_own_identity || cfg->helo.require_fqdn ||
	    policy_dns_checks_on(cfg);
}

/* d (a domain from the client) equals the configured s; empty never. */
static bool
dom_eq(struct span d, const char *s)
{
	struct span	t = policy_domain_norm(span_make(s, strlen(s)));

	d = policy_domain_norm(d);
	if (d.len == 0 || t.len == 0)
		return false;
	return policy_ieq(d.p, d.len, t.p, t.len);
}

/* Is local@domain the configured "user@domain" addr (case-insensitive)? */
static bool
addr_eq(const char *addr, struct span local, struct span domain)
{
	const char	*at = strrchr(addr, '@');

	if (at == NULL || at == addr)
		return false;
	if (!policy_ieq(addr, (size_t)(at - addr), local.p, local.len))
		return false;
	return dom_eq(domain, at + 1);
}

/*
 * Does identity id own local@domain itself? "alice@example.com": that
 * address. "jdoe" (no "@"): local part jdoe at any local domain, as a
 * backend with one user list for all its domains sees it.
 */
static bool
id_owns(const struct policy_cfg *cfg, const char *id, struct span local,
    struct span domain)
{
	if (strchr(id, '@') != NULL)
		return addr_eq(id, local, domain);
	if (!policy_ieq(id, strlen(id), local.p, local.len))
		return false;
	return policy_domain_is_local(cfg, domain);
}

/* Does one of an alias's "user@domain" / "@domain" cover local@domain? */
static bool
alias_owns(const struct policy_alias *al, struct span local,
    struct span domain)
{
	for (size_t i = 0; i < al->naddresses; i++)
		if (policy_mailbox_matches(al->addresses[i], local, domain))
			return true;
	return false;
}

/* policy_int.h. Fails closed. */
bool
policy_addr_owned(const struct policy_cfg *cfg, const char *id,
    struct span local, struct span domain)
{
	if (local.len == 0 || domain.len == 0)
		return false;
	if (id_owns(cfg, id, local, domain))
		return true;
	for (size_t i = 0; i < cfg->auth.naliases; i++) {
		const struct policy_alias *al = &cfg->auth.aliases[i];

		if (al->identity == NULL || !policy_ieq(al->identity,
		    strlen(al->identity), id, strlen(id)))
			continue;
		if (alias_owns(al, local, domain))
			return true;
	}
	return false;
}

/* May identity id use mail's sender address? Fails closed. */
static bool
sender_owned(const struct policy_cfg *cfg, const char *id,
    const struct smtp_cmd *mail)
{
	return policy_addr_owned(cfg, id, policy_local_unquote(mail->local),
	    mail->domain);
}

/*
 * HELO at MAIL: a refusal deferred to MAIL is given now; MAIL without
 * an accepted HELO gets 503 when HELO checks are on, or skipping HELO
 * would skip them. Authenticated and submission sessions are exempt:
 * their identity is proven by other means than a HELO name.
 */
static bool
mail_helo(const struct policy_cfg *cfg, const struct policy_client *cl,
    struct policy_verdict *out)
{
	if (cl->submission || cl->auth_id != NULL)
		return false;
	if (cl->helo_seen && cl->helo.action == POLICY_DEFER &&
	    cl->helo.at == POLICY_AT_MAIL) {
		*out = cl->helo;
		out->action = POLICY_REJECT;
		return true;
	}
	if (!cl->helo_seen && helo_checks_on(cfg)) {
		policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL,
		    POLICY_CK_HELO, 503, "5.5.1");
		policy_text(out, "Send HELO/EHLO first");
		policy_reason(out, "MAIL without an accepted HELO/EHLO");
		return true;
	}
	return false;
}

/* submission: AUTH before MAIL, whatever the sender (RFC 6409 4.3). */
static bool
mail_submission(const struct policy_client *cl, struct policy_verdict *out)
{
	if (!cl->submission || cl->auth_id != NULL)
		return false;
	policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL, POLICY_CK_SUBMISSION,
	    530, "5.7.0");
	policy_text(out, "Authentication required");
	policy_reason(out, "submission listener requires AUTH before MAIL");
	return true;
}

/*
 * policy_int.h: every entry whose pattern covers the domain adds its
 * networks; the client must be in one of them (the union: an exact
 * entry and $LOCALDOMAIN$ both allow). No entry: unrestricted.
 */
bool
policy_shield_outside(const struct policy_cfg *cfg,
    const struct policy_client *cl, struct span domain)
{
	size_t		 matched = 0;
	bool		 inside = false;

	for (size_t i = 0; i < cfg->ip_shield.nentries; i++) {
		const struct policy_shield_entry *e =
		    &cfg->ip_shield.entries[i];

		if (!policy_domain_matches(cfg, e->domain, domain))
			continue;
		matched++;
		for (size_t j = 0; j < e->nnets; j++)
			if (net_match(&e->nets[j], &cl->addr))
				inside = true;
	}
	return matched > 0 && !inside;
}

/* ip_shield at MAIL: the envelope sender's domain (policy_shield_outside). */
static bool
mail_ip_shield(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct smtp_cmd *mail, struct policy_verdict *out)
{
	char		 buf[64];
	const char	*ip;

	if (!cfg->ip_shield.enabled || cl->auth_id != NULL || mail->null_path)
		return false;
	if (!policy_shield_outside(cfg, cl, mail->domain))
		return false;
	ip = policy_client_ip(cl, buf, sizeof(buf));
	policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL, POLICY_CK_IP_SHIELD,
	    530, "5.7.0");
	policy_text(out, "Authentication required to send mail from ");
	policy_text(out, ip);
	policy_reason(out, "sender domain ");
	policy_reason_untrusted(out, mail->domain);
	policy_reason(out, " is shielded and client ");
	policy_reason(out, ip);
	policy_reason(out, " is in none of its networks");
	return true;
}

/* require_for_local_senders, unless except_to_local moves it to RCPT. */
static bool
mail_local_sender(const struct policy_cfg *cfg, const struct smtp_cmd *mail,
    const struct policy_txn *txn, struct policy_verdict *out)
{
	if (!txn->local_unauth || cfg->auth.except_to_local)
		return false;
	policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL, POLICY_CK_AUTH,
	    530, "5.7.0");
	policy_text(out, "Authentication required");
	policy_reason(out, "local sender domain ");
	policy_reason_untrusted(out, mail->domain);
	policy_reason(out, " without AUTH");
	return true;
}

/* match_envelope: an authenticated session sends as its own addresses. */
static bool
mail_match_envelope(const struct policy_cfg *cfg,
    const struct policy_client *cl, const struct smtp_cmd *mail,
    struct policy_verdict *out)
{
	if (!cfg->auth.match_envelope || cl->auth_id == NULL ||
	    mail->null_path)
		return false;
	if (sender_owned(cfg, cl->auth_id, mail))
		return false;
	policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL, POLICY_CK_AUTH,
	    553, "5.7.1");
	policy_text(out, "Sender address not owned by the authenticated user");
	policy_reason(out, "identity ");
	policy_reason_untrusted(out, span_make(cl->auth_id,
	    strlen(cl->auth_id)));
	policy_reason(out, " may not send as ");
	policy_reason_untrusted(out, mail->path);
	return true;
}

/* Is check c in the set skip (policy_mail_skip())? */
static bool
skipped(unsigned skip, enum policy_check c)
{
	return (skip & POLICY_CK_BIT(c)) != 0;
}

/*
 * Accepts a MAIL command as cmd_parse() returns it with CMD_OK. Resets
 * and fills *txn (always, also on REJECT); fills *out. Returns
 * out->action: PASS or REJECT.
 */
enum policy_action
policy_mail(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct smtp_cmd *mail, struct policy_txn *txn,
    struct policy_verdict *out)
{
	return policy_mail_skip(cfg, cl, mail, 0, txn, out);
}

/*
 * As policy_mail(); each check whose bit is in skip is not evaluated.
 * txn does not depend on skip.
 */
enum policy_action
policy_mail_skip(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct smtp_cmd *mail, unsigned skip, struct policy_txn *txn,
    struct policy_verdict *out)
{
	memset(txn, 0, sizeof(*txn));
	if (cl->trusted) {
		policy_pass(out, "client in trusted_networks");
		return out->action;
	}
	txn->local_unauth = cfg->auth.require_for_local_senders &&
	    cl->auth_id == NULL && !mail->null_path &&
	    policy_domain_is_local(cfg, mail->domain);

	policy_pass(out, NULL);
	if (!skipped(skip, POLICY_CK_HELO) && mail_helo(cfg, cl, out))
		return out->action;
	if (cfg->helo.reject_at == POLICY_AT_MAIL &&
	    policy_dns(cfg, cl, POLICY_AT_MAIL, skip, out) == POLICY_REJECT)
		return out->action;
	if (!skipped(skip, POLICY_CK_SUBMISSION) && mail_submission(cl, out))
		return out->action;
	if (!skipped(skip, POLICY_CK_IP_SHIELD) &&
	    mail_ip_shield(cfg, cl, mail, out))
		return out->action;
	if (!skipped(skip, POLICY_CK_AUTH) &&
	    mail_local_sender(cfg, mail, txn, out))
		return out->action;
	if (!skipped(skip, POLICY_CK_AUTH) &&
	    mail_match_envelope(cfg, cl, mail, out))
		return out->action;
	if (txn->local_unauth)
		policy_reason(out, "local sender without AUTH: local "
		    "recipients only");
	return out->action;
}

/*
 * postmaster (RFC 5321 4.5.1): <postmaster>, or local part postmaster
 * at any domain; a source route points elsewhere, so it never is.
 */
static bool
rcpt_is_postmaster(const struct smtp_cmd *rcpt)
{
	struct span	l;

	if (rcpt->postmaster)
		return true;
	if (rcpt->had_route)
		return false;
	l = policy_local_unquote(rcpt->local);
	return policy_ieq(l.p, l.len, "postmaster", 10);
}

/*
 * A recipient we deliver: <postmaster> or a local domain. A source
 * route, or "%", "!" or "@" (inside quotes) in the local part, asks the
 * backend to relay further (RFC 5321 3.6.1, F.2), so never.
 */
static bool
rcpt_is_local(const struct policy_cfg *cfg, const struct smtp_cmd *rcpt)
{
	if (rcpt->postmaster)
		return true;
	if (rcpt->had_route)
		return false;
	if (rcpt->local.len == 0 || memchr(rcpt->local.p, '%',
	    rcpt->local.len) != NULL || memchr(rcpt->local.p, '!',
	    rcpt->local.len) != NULL || memchr(rcpt->local.p, '@',
	    rcpt->local.len) != NULL)
		return false;
	return policy_domain_is_local(cfg, rcpt->domain);
}

/* HELO refusal deferred to RCPT; postmaster always gets through. */
static bool
rcpt_helo(const struct policy_client *cl, const struct smtp_cmd *rcpt,
    struct policy_verdict *out)
{
	if (cl->submission || cl->auth_id != NULL || !cl->helo_seen)
		return false;
	if (cl->helo.action != POLICY_DEFER || cl->helo.at != POLICY_AT_RCPT)
		return false;
	if (rcpt_is_postmaster(rcpt))
		return false;
	*out = cl->helo;
	out->action = POLICY_REJECT;
	return true;
}

/* except_to_local: an unauthenticated local sender, local rcpts only. */
static bool
rcpt_local_only(const struct policy_cfg *cfg, const struct policy_txn *txn,
    const struct smtp_cmd *rcpt, struct policy_verdict *out)
{
	if (!cfg->auth.require_for_local_senders ||
	    !cfg->auth.except_to_local || !txn->local_unauth)
		return false;
	if (rcpt_is_local(cfg, rcpt))
		return false;
	policy_refuse(out, POLICY_REJECT, POLICY_AT_RCPT, POLICY_CK_AUTH,
	    530, "5.7.0");
	policy_text(out, "Authentication required");
	policy_reason(out, "local sender without AUTH to non-local "
	    "recipient ");
	policy_reason_untrusted(out, rcpt->path);
	if (rcpt->had_route)
		policy_reason(out, " (source route)");
	return true;
}

/*
 * relay_protection: without AUTH, only recipients we deliver. The
 * reason says which property made the recipient foreign: a source
 * route, routing in the local part, an address literal, or a domain
 * outside local_domains.
 */
static bool
rcpt_relay(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct smtp_cmd *rcpt, struct policy_verdict *out)
{
	if (!cfg->relay_protection || cl->auth_id != NULL)
		return false;
	if (rcpt_is_local(cfg, rcpt))
		return false;
	policy_refuse(out, POLICY_REJECT, POLICY_AT_RCPT, POLICY_CK_RELAY,
	    554, "5.7.1");
	policy_text(out, "<");
	policy_text_untrusted(out, rcpt->path);
	policy_text(out, ">: Relay access denied");
	if (rcpt->had_route) {
		policy_reason(out, "recipient ");
		policy_reason_untrusted(out, rcpt->path);
		policy_reason(out, " has a source route");
	} else if (policy_domain_is_local(cfg, rcpt->domain)) {
		policy_reason(out, "recipient ");
		policy_reason_untrusted(out, rcpt->path);
		policy_reason(out, " has \"%\", \"!\" or \"@\" in its local "
		    "part");
	} else if (rcpt->domain.len > 0 && rcpt->domain.p[0] == '[') {
		policy_reason(out, "recipient domain ");
		policy_reason_untrusted(out, rcpt->domain);
		policy_reason(out, " is an address literal, never local");
	} else {
		policy_reason(out, "recipient domain ");
		policy_reason_untrusted(out, rcpt->domain);
		policy_reason(out, " is not in local_domains");
	}
	policy_reason(out, "; client neither authenticated nor in "
	    "trusted_networks");
	return true;
}

/*
 * Accepts a RCPT command as cmd_parse() returns it with CMD_OK, and the
 * transaction's facts from policy_mail(). Fills *out; returns
 * out->action: PASS or REJECT.
 */
enum policy_action
policy_rcpt(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct policy_txn *txn, const struct smtp_cmd *rcpt,
    struct policy_verdict *out)
{
	return policy_rcpt_skip(cfg, cl, txn, rcpt, 0, out);
}

/* As policy_rcpt(); each check whose bit is in skip is not evaluated. */
enum policy_action
policy_rcpt_skip(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct policy_txn *txn, const struct smtp_cmd *rcpt, unsigned skip,
    struct policy_verdict *out)
{
	if (cl->trusted) {
		policy_pass(out, "client in trusted_networks");
		return out->action;
	}
	policy_pass(out, NULL);
	if (!skipped(skip, POLICY_CK_HELO) && rcpt_helo(cl, rcpt, out))
		return out->action;
	if (cfg->helo.reject_at == POLICY_AT_RCPT && !rcpt_is_postmaster(rcpt) &&
	    policy_dns(cfg, cl, POLICY_AT_RCPT, skip, out) == POLICY_REJECT)
		return out->action;
	if (!skipped(skip, POLICY_CK_AUTH) &&
	    rcpt_local_only(cfg, txn, rcpt, out))
		return out->action;
	if (!skipped(skip, POLICY_CK_RELAY) && rcpt_relay(cfg, cl, rcpt, out))
		return out->action;
	return out->action;
}
