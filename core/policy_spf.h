/*
 * core/policy_spf.h - what an SPF result (core/spf.h, RFC 7208) means
 * for a transaction: the outcome of each identity checked, copied out
 * of the evaluator with its text made printable and bounded, and the
 * verdict of check "spf" given at MAIL: fail refused with 550 5.7.23
 * and the domain's explanation (RFC 7372 3.2), softfail as configured,
 * temperror as on_dns_error says (451 4.7.24, RFC 7372 3.2), permerror
 * accepted. Pure: no I/O, no clock, no globals; allocates nothing.
 */
#ifndef MXS_POLICY_SPF_H
#define MXS_POLICY_SPF_H

#include <stdbool.h>

#include "core/policy.h"
#include "core/spf.h"

#define POLICY_SPF_TEXT		256	/* mechanism, problem: cut here */
#define POLICY_SPF_EXPLAIN	200	/* explanation in a reply line */

/* spf.softfail */
enum policy_spf_softfail {
	POLICY_SPF_SOFT_ACCEPT = 0,
	POLICY_SPF_SOFT_TEMPFAIL,	/* 451 4.7.23 */
	POLICY_SPF_SOFT_REJECT,		/* 550 5.7.23 */
};

/* The settings, filled by the proxy from its configuration. */
struct policy_spf_cfg {
	bool				enabled;
	bool				reject_fail;	/* fail: 550 5.7.23 */
	enum policy_spf_softfail	softfail;
	bool				dns_error_accept; /* on_dns_error =
							   "accept" */
};

/*
 * One identity's check_host() outcome, a value (copied freely). Every
 * text is NUL-terminated printable ASCII (0x20..0x7e: any other octet
 * became '?'), cut at its array's end.
 */
struct policy_spf_outcome {
	bool			 ran;		/* false: not checked */
	enum spf_result		 result;
	enum spf_identity	 identity;
	char			 domain[SPF_NAME_MAX + 1];
	char			 mechanism[POLICY_SPF_TEXT];	/* "" none */
	char			 problem[POLICY_SPF_TEXT];	/* errors */
	const char		*reason;	/* static; "" when none */
	char			 explanation[SPF_EXPLAIN_MAX + 1]; /* fail:
					   exp= expanded, blanks at either
					   end dropped; "" none */
};

/*
 * policy_spf_outcome - copy the verdict of a finished evaluation s
 * (after spf_next() said SPF_DONE) into *o, ran set, every text made
 * printable. s may be started again afterwards.
 */
void	policy_spf_outcome(const struct spf *s, enum spf_identity id,
	    struct policy_spf_outcome *o);

/*
 * policy_spf_deciding - the outcome a transaction's verdict rests on:
 * a HELO identity that failed decides (RFC 7208 2.3: a conclusive HELO
 * result spares the MAIL FROM check), else the MAIL FROM identity when
 * it was checked, else the HELO identity; NULL when neither ran.
 * Either argument may be NULL.
 */
const struct policy_spf_outcome *
	policy_spf_deciding(const struct policy_spf_outcome *helo,
	    const struct policy_spf_outcome *mfrom);

/*
 * policy_spf - the verdict of check "spf" at MAIL for the deciding
 * outcome of helo and mfrom (either may be NULL or not ran). In order:
 * SPF off or nothing checked: PASS, check NONE. A client in
 * trusted_networks or authenticated: PASS (exempt), reason saying so.
 * Then by result:
 *   pass, none, neutral: PASS.
 *   fail: with reject_fail, REJECT "550 5.7.23 " and the domain's
 *     explanation (POLICY_SPF_EXPLAIN octets at most, then "..."), or
 *     without one "SPF: <domain> does not permit mail from <ip>"; else
 *     PASS, reason saying reject_fail is off.
 *   softfail: accept: PASS; tempfail: REJECT "451 4.7.23 SPF softfail:
 *     ..., try again later"; reject: REJECT "550 5.7.23 SPF softfail:
 *     ...".
 *   temperror: dns_error_accept: PASS; else REJECT "451 4.7.24
 *     Temporary SPF error for <domain>, try again later".
 *   permerror: PASS (the domain's record is broken: accepted, logged).
 * The reason always names the identity, the domain, the result, and
 * the mechanism or the problem. Returns out->action.
 */
enum policy_action	policy_spf(const struct policy_spf_cfg *cfg,
			    const struct policy_client *cl,
			    const struct policy_spf_outcome *helo,
			    const struct policy_spf_outcome *mfrom,
			    struct policy_verdict *out);

/* "mailfrom" or "helo", as in Received-SPF's identity= (RFC 7208 9.1). */
const char	*policy_spf_identity_name(enum spf_identity id);

#endif
