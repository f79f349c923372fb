/*
 * proxy/spoofw.h - the spoof score of a message as the proxy carries it
 * out (proxy/spoofw.c): the verdict from core/spoof.c and the session's
 * facts, and the header lines mxshield writes for it. Used by the live
 * session (proxy/data.c) and the dry run (proxy/dryrun_msg.c), so both
 * decide alike.
 */
#ifndef MXS_SPOOFW_H
#define MXS_SPOOFW_H

#include <stddef.h>

#include "core/policy.h"
#include "proxy/config.h"

/* What the message gets. */
enum spoofw_do {
	SPOOFW_OFF = 0,		/* spoof.enabled is false */
	SPOOFW_LOG,		/* only logged: below the threshold in
				   monitor mode, or at/above it in monitor
				   mode (nothing added, removed or refused) */
	SPOOFW_SCORE,		/* X-Spoof-Score only (below the threshold,
				   or a trusted client) */
	SPOOFW_TAG,		/* X-Spoof-Score and X-Spoof-Flag, and the
				   action: header, subject or append */
	SPOOFW_REJECT,		/* 550 5.7.1 after the final dot */
};

struct spfw_result;

struct spoofw {
	enum spoofw_do		 what;
	int			 score;		/* 0..SPOOF_MAX */
	unsigned		 signs;		/* 1u << enum spoof_sign */
	int			 enforced;	/* spoof.mode (or mode) enforce */
};

/*
 * spoofw_decide - the spoof score of the held header section
 * sec[0..len), with the session's facts (pc: trusted, authenticated,
 * the HELO verdict; mail_from: the MAIL FROM path, "" for <>, NULL when
 * unknown; mail_route: it had a source route; spf: the transaction's
 * SPF result, NULL when SPF did not run) and the settings
 * (local_domains, own_addresses, spoof.*). Fills *out; out->v is the
 * verdict to note: action PASS below the threshold (and for a client
 * in trusted_networks, which the score never acts on), TAG or REJECT at
 * or above it; reason the sign names (or "no sign"); score the score.
 * Nothing to do when spoof.enabled is false (out->what SPOOFW_OFF).
 */
void	spoofw_decide(const struct config *cfg, const struct policy_cfg *pol,
	    const struct policy_client *pc, const char *mail_from,
	    int mail_route, const struct spfw_result *spf, const char *sec,
	    size_t len, struct spoofw *out, struct policy_verdict *v);

/*
 * spoofw_lines - the lines mxshield writes at the top of the header
 * section for *sw: "X-Spoof-Score: N/25" with " (sign,sign)" when signs
 * were found, and "X-Spoof-Flag: YES" when tagged; each with CRLF,
 * into buf (cap octets, NUL-terminated). Returns the length; 0 when
 * nothing is written (off, or only logged).
 */
size_t	spoofw_lines(const struct spoofw *sw, char *buf, size_t cap);

/* The client's own fields of those names, removed first. */
extern const char *const spoofw_fields[2];

/* spoofw_subject - the Subject prefix to apply, or NULL. */
const char *spoofw_subject(const struct config *cfg, const struct spoofw *sw);

/* spoofw_appends - does the verdict want the warning in the body? */
int	spoofw_appends(const struct config *cfg, const struct spoofw *sw);

#endif
