/*
 * proxy/dns.h - the resolver of one event loop (one per worker, and a
 * private one for the start and --dns-lookup, proxy/dnstool.h): c-ares on the loop, its
 * answers read by core/dnsmsg.c and kept in core/dnscache.c. Nothing
 * here blocks. A lookup's callback comes on a later loop turn, never
 * from inside dns_lookup(), and never after dns_cancel().
 */
#ifndef MXS_DNS_H
#define MXS_DNS_H

#include <stdint.h>

#include <uv.h>

#include "core/dnsmsg.h"
#include "core/net.h"
#include "proxy/config.h"

/* Distinct questions on the network at once, per resolver; a lookup
 * beyond it (not answered by the cache, not joining an identical
 * question in flight) gets TEMPFAIL at once: it is not queued. */
#define DNS_INFLIGHT_MAX	512
#define DNS_TTL_MAX		86400	/* positive answers: a day at most */
#define DNS_NEG_TTL_MAX		3600	/* negative answers: an hour */

struct dns;
struct dns_req;

struct dns_result {
	enum dns_status		 status;
	/* the records (answer->rr, answer->nrr; names in answer->data):
	 * borrowed for the callback only */
	const struct dns_answer	*answer;
	uint32_t		 ttl;		/* seconds; 0: not cached */
	int			 from_cache;
	const char		*why;		/* TEMPFAIL: "timeout",
						   "SERVFAIL", ...; else NULL */
};

typedef void	dns_cb(void *arg, const struct dns_result *r);

/* Counters of one resolver, for metrics. */
struct dns_counters {
	uint64_t	 lookups;	/* dns_lookup() calls */
	uint64_t	 queries;	/* questions sent to the servers */
	uint64_t	 cache_hits;
	uint64_t	 coalesced;	/* joined an identical question */
	uint64_t	 failures;	/* TEMPFAIL results delivered */
	uint64_t	 overflows;	/* refused past DNS_INFLIGHT_MAX */
	uint64_t	 evictions;	/* from the cache */
	size_t		 inflight;
	size_t		 cached;
};

/*
 * dns_new - a resolver on loop with cfg's dns settings (servers: as
 * configured, else /etc/resolv.conf; timeout; attempts; cache_entries).
 * NULL with the reason in err (cap bytes) when c-ares cannot start.
 */
struct dns	*dns_new(uv_loop_t *loop, const struct config *cfg, char *err,
		    size_t cap);

/*
 * dns_close - stop: requests still waiting are dropped (their callbacks
 * never come), the loop's handles closed; done(arg) is called once all
 * are (on a later loop turn), then d is freed. done may be NULL.
 */
void		 dns_close(struct dns *d, void (*done)(void *), void *arg);

/*
 * dns_lookup - ask for the records of type (DNS_T_A, AAAA, MX, PTR,
 * TXT) of name (text, a final dot allowed). Answered from the cache
 * when it can, else by a question on the network, shared with any
 * identical one in flight. cb(arg, result) comes exactly once, on a
 * later loop turn, unless dns_cancel() comes first. TEMPFAIL covers
 * SERVFAIL, REFUSED, a timeout (timeout * attempts seconds at most),
 * network errors and malformed answers; names under "invalid" are
 * NXDOMAIN, "localhost" is 127.0.0.1 and ::1 (RFC 6761 6.3, 6.4),
 * neither asked on the network. NULL only when memory is short.
 */
struct dns_req	*dns_lookup(struct dns *d, const char *name, uint16_t type,
		    dns_cb *cb, void *arg);

/* dns_cancel - the caller lost interest: cb is never called, req is
 * freed. The question itself goes on (its answer fills the cache). */
void		 dns_cancel(struct dns_req *req);

void		 dns_counters(const struct dns *d, struct dns_counters *c);
/* dns_loop - the loop d runs on. */
uv_loop_t	*dns_loop(const struct dns *d);

/*
 * dns_hosts - name in the hosts file (/etc/hosts), IPv4 first: 0 with
 * *a set, or -1. Reads a local file; for the start, not for workers.
 */
int		 dns_hosts(const char *name, struct net_addr *a);

#endif
