/*
 * core/policy_int.h - helpers shared by core/policy*.c only: ASCII
 * case folding, domain normalisation, and building a verdict's text and
 * reason with untrusted parts sanitised and bounded. Not for proxy/.
 */
#ifndef MXS_POLICY_INT_H
#define MXS_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/policy.h"
#include "core/span.h"

/* Untrusted text in a reply line / a log reason: at most this many octets. */
#define POLICY_UNTRUSTED_TEXT	64
#define POLICY_UNTRUSTED_REASON	128

/* a[0..alen) equals b[0..blen), ASCII letters folded, other octets as is. */
bool	policy_ieq(const char *a, size_t alen, const char *b, size_t blen);

/* A domain without its one trailing dot (if it is not the only octet). */
struct span	policy_domain_norm(struct span d);

/* A local part without its quotes, unless a backslash is inside. */
struct span	policy_local_unquote(struct span local);

/* Set v to PASS: code 0, empty strings, reason = why (may be NULL). */
void	policy_pass(struct policy_verdict *v, const char *why);

/*
 * Set v to a refusal and start its text with "<code> <enh> "; the caller
 * appends the rest with policy_text*() and the reason with
 * policy_reason*().
 */
void	policy_refuse(struct policy_verdict *v, enum policy_action action,
	    enum policy_stage at, enum policy_check check, int code,
	    const char *enh);

/* Append trusted text (ours) / an untrusted span (sanitised, bounded). */
void	policy_text(struct policy_verdict *v, const char *s);
void	policy_text_untrusted(struct policy_verdict *v, struct span s);
void	policy_reason(struct policy_verdict *v, const char *s);
void	policy_reason_untrusted(struct policy_verdict *v, struct span s);

/* The client's printable address: cl->ip, or addr printed into buf. */
const char	*policy_client_ip(const struct policy_client *cl, char *buf,
		    size_t cap);

/*
 * policy_addr_owned - may identity id send as local@domain (local
 * unquoted, domain as written)? The identity itself (case-insensitive),
 * its local part at a local domain for an id without "@", or one of
 * its auth.aliases. Empty parts: never. Shared by the envelope and the
 * From: header checks.
 */
bool	policy_addr_owned(const struct policy_cfg *cfg, const char *id,
	    struct span local, struct span domain);

/*
 * policy_shield_outside - is domain covered by an IP Shield entry
 * while the client is in none of the networks of the entries that
 * cover it (their union)? No entry covers it: false.
 */
bool	policy_shield_outside(const struct policy_cfg *cfg,
	    const struct policy_client *cl, struct span domain);

#endif
