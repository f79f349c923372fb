/*
 * proxy/pol.h - carrying out core/policy verdicts in a session: the
 * policy settings built once from the configuration, and the log line
 * of a verdict. In monitor mode a refusal is logged, never enforced.
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
 * pol_enforce - whether to carry out v (a refusal): 0 in monitor mode.
 * Either way the verdict is recorded for the transaction's log line
 * (pol_note) or, for HELO, logged now as an event "policy".
 * pol_enforce_cfg decides it from the configuration alone; pol_enforce
 * asks it, and so does the dry run (mxshield --test).
 */
int	pol_enforce(struct session *s, const struct policy_verdict *v);
int	pol_enforce_cfg(const struct config *cfg,
	    const struct policy_verdict *v);
void	pol_note(struct session *s, const struct policy_verdict *v, int enforced);
void	pol_log(struct session *s, const struct policy_verdict *v, int enforced);

#endif
