/*
 * proxy/dnschk.h - the DNS facts of one session, looked up on its
 * worker's resolver (proxy/dns.h) without blocking, for the DNS checks
 * (core/policy_dns.c), the Received header and XCLIENT NAME= (the
 * forward-confirmed name), and the spoof signs no_rdns and
 * fcrdns_mismatch:
 *
 *   at the start (the client known, after a PROXY header): the PTR of
 *     the client's address, then the A (IPv4 client) or AAAA (IPv6)
 *     records of at most DNSCHK_PTR_NAMES of its names, each checked as
 *     a host name (dnsname_is_host()) before it is used or logged;
 *     and one A question per dnsbl zone, then its TXT where it lists
 *     the client;
 *   at each HELO/EHLO: the A and AAAA records of its name (a name, not
 *     an address literal; a name asked before is not asked again).
 *
 * What is looked up: the PTR when client.require_rdns or
 * client.require_fcrdns is on, or spoof.enabled with spoof.weights
 * naming no_rdns or fcrdns_mismatch above 0 (a default weight alone
 * does not make mxshield ask DNS); the zones when dnsbl.zones has any;
 * the HELO name when helo.require_resolvable or helo.must_match_client
 * is on. Nothing for trusted clients or submission listeners (exempt
 * from every check). Commands wait for the facts they need through
 * proxy/await.h (dnschk_wait()).
 */
#ifndef MXS_DNSCHK_H
#define MXS_DNSCHK_H

#include <stddef.h>

#include "core/smtp_cmd.h"
#include "core/span.h"

struct session;

#define DNSCHK_PTR_NAMES	5	/* PTR names tried for FCrDNS */

/* dnschk_start - the client's lookups, at the session's start. Sets
 * s->dns (NULL when nothing is to be looked up) and s->pc.dns. */
void	dnschk_start(struct session *s);

/*
 * dnschk_helo - the HELO/EHLO argument arg (as sent, untrusted): its A
 * and AAAA lookups when a HELO DNS check applies to it (a name of
 * class FQDN, as policy_helo_class() says). A new name replaces the
 * facts of the last one (its lookups still running are cancelled).
 */
void	dnschk_helo(struct session *s, struct span arg, int ehlo);

/*
 * dnschk_wait - must command c (HELO, EHLO, MAIL or RCPT; line[0..len)
 * as read) wait for lookups still running? The command whose stage is
 * helo.reject_at waits for every lookup started; a RCPT waits for
 * them in any case (the message's Received header and spoof signs use
 * them), except to postmaster; with backend.client_info = "xclient" a
 * HELO/EHLO waits for the client's name (XCLIENT NAME= goes out
 * before it). Authenticated clients never wait. When it must, the
 * command is made to wait (await_line()) and 1 is returned: the
 * handler returns at once and is called again once the answers are in.
 * 0: go on (the facts are in s->pc.dns).
 */
int	dnschk_wait(struct session *s, const struct smtp_cmd *c,
	    const char *line, size_t len);

/* dnschk_stop - the session ends: lookups cancelled, s->dns freed. */
void	dnschk_stop(struct session *s);

/* dnschk_name - the client's forward-confirmed host name, or NULL
 * (none, not looked up, not confirmed, or not known yet). */
const char *dnschk_name(const struct session *s);

/*
 * dnschk_spoof - the spoof signs' facts, only where the lookups were
 * made and are complete: *no_rdns (no PTR with a host name) and
 * *mismatch (PTR names, none of which resolves back to the client).
 */
void	dnschk_spoof(const struct session *s, int *no_rdns, int *mismatch);

#endif
