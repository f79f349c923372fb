/*
 * core/dnscache.h - a bounded cache of DNS answers for one resolver
 * (one worker): key (name without regard to case, type), the answer
 * (positive or negative, RFC 2308), its expiry from the answer's TTL
 * capped at a maximum (a lower one for negative answers). A fixed
 * number of entries; when full, the least recently used one goes. Time
 * is the caller's (milliseconds, any origin). Pure: no clock, no I/O,
 * one owner (not thread-safe).
 */
#ifndef MXS_DNSCACHE_H
#define MXS_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/dnsmsg.h"

struct dnscache;

struct dnscache_stats {
	uint64_t	 hits;		/* dnscache_get() found a live entry */
	uint64_t	 misses;	/* nothing, or only an expired entry */
	uint64_t	 evictions;	/* entries dropped for room */
	uint64_t	 stores;	/* answers kept by dnscache_put() */
	size_t		 entries;	/* now */
};

/*
 * dnscache_new - room for max_entries answers (>= 1); positive answers
 * live at most max_ttl seconds, negative ones max_neg_ttl. NULL when out
 * of memory. Free with dnscache_free().
 */
struct dnscache	*dnscache_new(size_t max_entries, uint32_t max_ttl,
		    uint32_t max_neg_ttl);
void		 dnscache_free(struct dnscache *c);

/*
 * dnscache_get - the live answer for (name, type) at now_ms into out,
 * its ttl (and each record's, when larger) lowered to the seconds left,
 * rounded up. Returns 1 (a hit; the entry becomes the most recently
 * used) or 0 (a miss; an expired entry is dropped).
 */
int		 dnscache_get(struct dnscache *c, const char *name,
		    uint16_t type, uint64_t now_ms, struct dns_answer *out);

/*
 * dnscache_put - keep answer a for (name, type) from now_ms, replacing
 * what was there. Not kept: TEMPFAIL, a TTL of 0 (a negative answer
 * without SOA too), a name of DNS_NAME_BUF bytes or more, no memory.
 * Returns 1 when kept, else 0.
 */
int		 dnscache_put(struct dnscache *c, const char *name,
		    uint16_t type, const struct dns_answer *a, uint64_t now_ms);

void		 dnscache_stats(const struct dnscache *c,
		    struct dnscache_stats *st);

#endif
