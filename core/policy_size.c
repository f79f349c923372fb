/*
 * core/policy_size.c - size limits with exemptions (size_limits): the
 * limit that applies to a message, from the sender's authenticated
 * identity, its envelope sender (trusted only when the session
 * authenticated or comes from trusted_networks) and its recipients;
 * SIZE= at MAIL (RFC 1870 4, 6.1) and the counted size after the final
 * dot, both 552 5.3.4 (RFC 3463 3.4). Input: configuration (trusted),
 * paths and parameters from the client (untrusted). Allocates nothing.
 */
#include <stdio.h>
#include <string.h>

#include "core/policy.h"
#include "core/policy_int.h"

/*
 * Case-insensitive local part (as auth.aliases reads it), domain as
 * policy_domain_is_local compares it. Empty parts never match, so an
 * empty sender (<>) or "postmaster" without a domain exempts nothing.
 */
bool
policy_mailbox_matches(const char *pattern, struct span local,
    struct span domain)
{
	const char	*at;
	struct span	 pd, d = policy_domain_norm(domain);

	local = policy_local_unquote(local);
	if (pattern == NULL || local.len == 0 || d.len == 0 || d.p == NULL)
		return false;
	if ((at = strrchr(pattern, '@')) == NULL)
		return false;
	pd = policy_domain_norm(span_make(at + 1, strlen(at + 1)));
	if (pd.len == 0 || !policy_ieq(d.p, d.len, pd.p, pd.len))
		return false;
	if (at == pattern)
		return true;	/* "@domain" */
	return policy_ieq(pattern, (size_t)(at - pattern), local.p, local.len);
}

/* Split "local@domain" at its last "@"; false when there is none. */
static bool
split(const char *addr, struct span *local, struct span *domain)
{
	const char	*at;

	if (addr == NULL || (at = strrchr(addr, '@')) == NULL)
		return false;
	*local = span_make(addr, (size_t)(at - addr));
	*domain = span_make(at + 1, strlen(at + 1));
	return true;
}

static bool
entry_covers(const struct policy_size_limit *e, struct span local,
    struct span domain)
{
	for (size_t i = 0; i < e->nexcept; i++)
		if (policy_mailbox_matches(e->except[i], local, domain))
			return true;
	return false;
}

/*
 * The authenticated identity: "alice@example.com" is that address;
 * "jdoe" is jdoe at every local domain (an except address at a local
 * domain with that local part, or "@" a local domain).
 */
static bool
entry_covers_id(const struct policy_cfg *cfg,
    const struct policy_size_limit *e, const char *id)
{
	struct span	local, domain;

	if (id == NULL || id[0] == '\0')
		return false;
	if (split(id, &local, &domain))
		return entry_covers(e, local, domain);
	for (size_t i = 0; i < e->nexcept; i++) {
		const char *x = e->except[i], *at;

		if (x == NULL || (at = strrchr(x, '@')) == NULL)
			continue;
		if (!policy_domain_is_local(cfg, span_make(at + 1,
		    strlen(at + 1))))
			continue;
		if (at == x || policy_ieq(x, (size_t)(at - x), id, strlen(id)))
			return true;
	}
	return false;
}

/* The sender as spans; have is false when unknown or <>. */
struct who {
	bool		 have;
	struct span	 local, domain;
	char *const	*rcpts;
	size_t		 nrcpts;
};

/* Does entry e exempt this message? One property at a time. */
static bool
entry_exempts(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct policy_size_limit *e, const struct who *w)
{
	struct span	local, domain;

	if (cl->auth_id != NULL && entry_covers_id(cfg, e, cl->auth_id))
		return true;
	/* the envelope sender is a claim: it counts only from a client
	 * that proved who it is or that we trust */
	if (w->have && (cl->auth_id != NULL || cl->trusted) &&
	    entry_covers(e, w->local, w->domain))
		return true;
	for (size_t i = 0; i < w->nrcpts; i++)
		if (split(w->rcpts[i], &local, &domain) &&
		    entry_covers(e, local, domain))
			return true;
	return false;
}

static uint64_t
limit_for(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct who *w, size_t *which)
{
	uint64_t	limit = 0;

	for (size_t i = 0; i < cfg->size.nentries; i++) {
		const struct policy_size_limit *e = &cfg->size.entries[i];

		if (e->max == 0 || entry_exempts(cfg, cl, e, w))
			continue;
		if (limit == 0 || e->max < limit) {
			limit = e->max;
			if (which != NULL)
				*which = i;
		}
	}
	return limit;
}

uint64_t
policy_size_limit(const struct policy_cfg *cfg,
    const struct policy_client *cl, const char *sender, char *const *rcpts,
    size_t nrcpts, size_t *which)
{
	struct who	w;

	memset(&w, 0, sizeof(w));
	w.have = split(sender, &w.local, &w.domain);
	w.rcpts = rcpts;
	w.nrcpts = rcpts != NULL ? nrcpts : 0;
	return limit_for(cfg, cl, &w, which);
}

/* "size_limits[1].max (2000000 octets)" into the reason. */
static void
reason_entry(struct policy_verdict *v, size_t which, uint64_t limit)
{
	char	buf[96];

	snprintf(buf, sizeof(buf), "size_limits[%zu].max (%llu octets)",
	    which, (unsigned long long)limit);
	policy_reason(v, buf);
}

enum policy_action
policy_size_mail(const struct policy_cfg *cfg, const struct policy_client *cl,
    const struct smtp_cmd *mail, struct policy_verdict *out)
{
	struct who	w;
	uint64_t	limit;
	int64_t		size;
	size_t		which = 0;
	char		buf[64];

	policy_pass(out, NULL);
	if (cfg->size.nentries == 0)
		return out->action;
	if ((size = cmd_param_size(mail->params)) < 0)
		return out->action;
	memset(&w, 0, sizeof(w));
	if (!mail->null_path) {
		w.have = true;
		w.local = mail->local;
		w.domain = mail->domain;
	}
	limit = limit_for(cfg, cl, &w, &which);
	if (limit == 0 || (uint64_t)size <= limit)
		return out->action;
	policy_refuse(out, POLICY_REJECT, POLICY_AT_MAIL, POLICY_CK_SIZE,
	    552, "5.3.4");
	policy_text(out, "Message size exceeds fixed limit");
	snprintf(buf, sizeof(buf), "SIZE=%lld of sender <",
	    (long long)size);
	policy_reason(out, buf);
	policy_reason_untrusted(out, mail->path);
	policy_reason(out, "> over ");
	reason_entry(out, which, limit);
	return out->action;
}

enum policy_action
policy_size_data(const struct policy_cfg *cfg, const struct policy_client *cl,
    const char *sender, char *const *rcpts, size_t nrcpts, uint64_t size,
    struct policy_verdict *out)
{
	uint64_t	limit;
	size_t		which = 0;
	char		buf[64];

	policy_pass(out, NULL);
	limit = policy_size_limit(cfg, cl, sender, rcpts, nrcpts, &which);
	if (limit == 0 || size <= limit)
		return out->action;
	policy_refuse(out, POLICY_REJECT, POLICY_AT_DATA, POLICY_CK_SIZE,
	    552, "5.3.4");
	policy_text(out, "Message size exceeds fixed limit");
	snprintf(buf, sizeof(buf), "message of %llu octets or more over ",
	    (unsigned long long)size);
	policy_reason(out, buf);
	reason_entry(out, which, limit);
	return out->action;
}
