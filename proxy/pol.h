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
 * pol_enforce - whether to carry out v (a refusal): 0 when the control
 * of v->check is in monitor mode (helo.mode, ip_shield.mode, auth.mode
 * for auth and submission, hijack.mode, relay_protection_mode; each
 * defaults to the top-level mode). Either way the verdict is recorded
 * for the transaction's log line (pol_note) or, for HELO and AUTH,
 * logged now as an event "policy".
 */
int	pol_enforce(struct session *s, const struct policy_verdict *v);
void	pol_note(struct session *s, const struct policy_verdict *v, int enforced);
void	pol_log(struct session *s, const struct policy_verdict *v, int enforced);

#endif
