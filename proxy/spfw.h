/*
 * proxy/spfw.h - SPF (RFC 7208) on a worker's event loop: the pure
 * evaluator of core/spf.h driven by the worker's resolver
 * (proxy/dns.h), for the HELO identity and the MAIL FROM identity of
 * one transaction, bounded in time; the verdict as the configuration
 * wants it (core/policy_spf.h, spf.*, on_dns_error); the Received-SPF
 * field for the message. Knows nothing of sessions: the caller keeps
 * the handle and gets the result through its callback.
 */
#ifndef MXS_SPFW_H
#define MXS_SPFW_H

#include <stdint.h>
#include <stdio.h>

#include "core/net.h"
#include "core/policy_spf.h"
#include "proxy/config.h"

struct dns;
struct spfw;

/* What to check. Strings are copied by spfw_start(). */
struct spfw_request {
	struct net_addr	 ip;		/* the client */
	const char	*helo;		/* HELO/EHLO argument; NULL: none */
	const char	*sender;	/* MAIL FROM path; "" for <> */
	const char	*receiver;	/* our host name (%{r}); NULL: none */
	int		 helo_check;	/* the HELO identity first (2.3) */
	int64_t		 now;		/* Unix seconds, for %{t} */
	unsigned	 timeout;	/* seconds for the whole check; 0: 20 */
};

/* The result, owned by whoever the callback hands it to. */
struct spfw_result {
	struct policy_spf_outcome helo;		/* .ran: HELO was checked */
	struct policy_spf_outcome mfrom;	/* .ran: MAIL FROM was */
	char		*header;	/* owned: the Received-SPF field (CRLF
					   at the end of each line) of the
					   outcome that decides; NULL: none */
	unsigned	 queries;	/* DNS questions asked */
	int		 timed_out;	/* the timeout ran out: every lookup
					   after it was a DNS error */
	uint64_t	 ms;		/* how long the check took */
};

/* r belongs to the callee from here on: spfw_result_free() it. */
typedef void	spfw_cb(void *arg, struct spfw_result *r);

/*
 * spfw_request_init - *rq for a client at ip that said HELO helo (NULL:
 * none) and MAIL FROM sender ("" for <>), with cfg's spf settings
 * (helo_check, timeout), our hostname as receiver, and the clock now.
 * The strings are borrowed until spfw_start() copies them.
 */
void	spfw_request_init(struct spfw_request *rq, const struct config *cfg,
	    const struct net_addr *ip, const char *helo, const char *sender);

/*
 * spfw_start - check SPF for rq on d's loop. With rq->helo_check and a
 * HELO, the HELO identity is checked first (RFC 7208 2.3); the MAIL
 * FROM identity follows unless the HELO result is fail (conclusive) or
 * the sender is <> (its identity is postmaster@HELO: the same check).
 * Without helo_check only the MAIL FROM identity is checked (for <>,
 * postmaster@HELO, RFC 7208 2.4). Each answer of d becomes the
 * evaluator's answer (records; NXDOMAIN; NODATA as no records; TEMPFAIL
 * as a DNS error, and so is a TXT answer cut short without an SPF
 * record in what was kept). The evaluator asks at most SPF_MAX_QUERIES
 * questions; once rq->timeout seconds have passed, the question in
 * flight and every later one count as DNS errors (temperror, RFC 7208
 * 4.6.4 asks for at least 20 s). cb(arg, result) comes exactly once,
 * on a later loop turn (never from inside spfw_start()), unless
 * spfw_cancel() comes first; the handle is gone when cb is called.
 * NULL when memory is short (cb never comes). Cancel every check of a
 * resolver before dns_close().
 */
struct spfw	*spfw_start(struct dns *d, const struct spfw_request *rq,
		    spfw_cb *cb, void *arg);

/* spfw_cancel - the caller lost interest: cb never comes; w is freed
 * (on a later loop turn: its timer closes first). */
void		 spfw_cancel(struct spfw *w);

void		 spfw_result_free(struct spfw_result *r);

/* spfw_policy_cfg - core/policy_spf.h's settings from cfg. */
void	spfw_policy_cfg(const struct config *cfg, struct policy_spf_cfg *out);

/*
 * spfw_decide - the verdict of check "spf" for r (NULL: SPF did not
 * run: PASS, check NONE) and the client pc, with cfg's spf settings
 * and on_dns_error (policy_spf()). Returns whether a refusal is to be
 * carried out: 0 in monitor mode (spf.mode, else the top-level mode).
 */
int	spfw_decide(const struct config *cfg, const struct policy_client *pc,
	    const struct spfw_result *r, struct policy_verdict *out);

/* The field mxshield writes, removed from the client's header. */
extern const char *const spfw_field;

/*
 * spfw_tool - mxshield --spf-check: check SPF for a client at client
 * (an IP address), MAIL FROM from ("" for <>) and HELO helo (NULL: the
 * sender's domain) with cfg's resolver and spf settings, on a private
 * loop, whether spf.enabled is on or not; print each identity's result,
 * mechanism, explanation and error, the verdict and reply a client
 * would get, and the Received-SPF field. Exit status: 0 accepted, 1
 * refused (temporarily or not), 2 bad usage or the resolver cannot
 * start (reported on err).
 */
int	spfw_tool(const struct config *cfg, const char *client,
	    const char *from, const char *helo, FILE *out, FILE *err);

#endif
