/*
 * proxy/pol.h - carrying out core/policy verdicts in a session: the
 * policy settings built once from the configuration, and the log line
 * of a verdict. A refusal by a control in monitor mode (its own mode
 * key, or the top-level mode) is logged, never enforced.
 */
#ifndef MXS_POL_H
#define MXS_POL_H

#include "core/policy.h"
#include "proxy/config.h"

struct session;

/* pol_build - core's settings from cfg; NULL when memory is short. The
 * result borrows cfg's strings and networks: free it before cfg. */
struct policy_cfg	*pol_build(const struct config *cfg);
void			 pol_free(struct policy_cfg *pc);

/*
 * pol_client_init - the session's facts at its start, once the client's
 * address is known (after a PROXY header): zeroes *pc, then the address,
 * its printed form ip (borrowed), whether it is in trusted_networks, and
 * the listener's submission flag. The rest (HELO, AUTH identity, TLS) is
 * filled as the session goes. Used by the live session and the dry run.
 */
void	pol_client_init(struct policy_client *pc, const struct policy_cfg *pol,
	    const struct net_addr *addr, const char *ip,
	    const struct cfg_listen *l);

/*
 * pol_enforce - whether to carry out v (a refusal): 0 when the control
 * of v->check is in monitor mode (helo.mode, ip_shield.mode, auth.mode
 * for auth and submission, hijack.mode, relay_protection_mode,
 * size_limits_mode, spoof.mode, spf.mode, client.mode for rdns,
 * dnsbl.mode; each
 * defaults to the top-level mode). Either way the verdict is recorded
 * for the transaction's log line (pol_note) or, for HELO and AUTH,
 * logged now as an event "policy".
 * pol_enforce_cfg decides it from the configuration alone; pol_enforce
 * asks it, and so does the dry run (mxshield --test).
 */
int	pol_enforce(struct session *s, const struct policy_verdict *v);
int	pol_enforce_cfg(const struct config *cfg,
	    const struct policy_verdict *v);
/*
 * pol_envelope - the policy checks of a MAIL (is_mail) or a RCPT, each
 * control in its own mode: a refusal only logged (monitor) is passed
 * over and core asked again, so that it cannot hide a later check that
 * enforces; each round adds the bit of the check that refused, so there
 * are at most as many rounds as checks. fn(arg, v, enforced) hears every
 * refusal (enforced or monitored). Returns 1 when a refusal is carried
 * out (*out holds it), 0 when the command goes on (*out holds the last
 * verdict: PASS, or DEFER). A MAIL that passes is then held against
 * size_limits (its SIZE=, policy_size_mail(); trusted clients too), in
 * size_limits_mode. Used by the live session and the dry run.
 */
typedef void	pol_verdict_fn(void *arg, const struct policy_verdict *v,
		    int enforced);
int	pol_envelope(const struct config *cfg, const struct policy_cfg *pol,
	    const struct policy_client *pc, struct policy_txn *ptxn,
	    const struct smtp_cmd *c, int is_mail, pol_verdict_fn *fn,
	    void *arg, struct policy_verdict *out);
/*
 * pol_dns - the DNS checks (policy_dns()) at stage at, each control in
 * its own mode, walked as pol_envelope() walks MAIL and RCPT. The live
 * session asks at HELO when helo.reject_at = "helo" (MAIL and RCPT
 * have them inside policy_mail() and policy_rcpt()). Returns 1 when a
 * refusal is carried out (*out holds it), 0 when the command goes on.
 */
int	pol_dns(const struct config *cfg, const struct policy_cfg *pol,
	    const struct policy_client *pc, enum policy_stage at,
	    pol_verdict_fn *fn, void *arg, struct policy_verdict *out);
/*
 * pol_from_header - the checks of the From: header on a held header
 * section sec[0..len) (policy_from_header()), each control in its own
 * mode, walked as pol_envelope() walks MAIL and RCPT. Returns 1 when a
 * refusal is carried out (*out holds it), 0 when the message goes on.
 * Used by the live session and the dry run.
 */
int	pol_from_header(const struct config *cfg, const struct policy_cfg *pol,
	    const struct policy_client *pc, const char *sec, size_t len,
	    pol_verdict_fn *fn, void *arg, struct policy_verdict *out);

/*
 * pol_size_ehlo - the size limit a session may see in EHLO's SIZE
 * before MAIL: the smallest max of size_limits whose except does not
 * cover the authenticated identity (none yet: every entry); 0 when no
 * entry applies. Recipients may still exempt a message later.
 */
uint64_t	pol_size_ehlo(const struct policy_cfg *pol,
		    const struct policy_client *pc);
/*
 * pol_action_name - a verdict's "action" in the log: "pass" (the spoof
 * score below its threshold, or an exemption), "monitor" for a refusal
 * or a tag not carried out, else "reject" or "tag" (the spoof score
 * marks the message).
 */
const char *pol_action_name(const struct policy_verdict *v, int enforced);
void	pol_note(struct session *s, const struct policy_verdict *v, int enforced);
void	pol_log(struct session *s, const struct policy_verdict *v, int enforced);

#endif
