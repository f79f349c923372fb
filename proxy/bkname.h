/*
 * proxy/bkname.h - backend.address as a host name, per worker: its
 * address comes from the worker's resolver (A, then AAAA when there is
 * no A), so it follows the name's TTL (the first backend connection
 * after the TTL ran out asks again). A failed lookup (TEMPFAIL,
 * NXDOMAIN, NODATA) keeps the last good address, logs it, and stops
 * asking for BKNAME_HOLD_MS so that a resolver outage does not delay
 * every connection.
 */
#ifndef MXS_BKNAME_H
#define MXS_BKNAME_H

#include <stdint.h>
#include <sys/socket.h>

#include "proxy/dns.h"

#define BKNAME_HOLD_MS	30000

struct bkname;
struct bkname_req;

/* the address to connect to (borrowed for the call) */
typedef void	bkname_cb(void *arg, const struct sockaddr *sa);

/*
 * bkname_new - name (borrowed from the configuration) on port, asked
 * through dns (borrowed); first: the address the start resolved, the
 * last good one until the next answer. NULL when memory is short.
 */
struct bkname	*bkname_new(struct dns *dns, const char *name, int port,
		    const struct sockaddr *first, socklen_t firstlen);
void		 bkname_free(struct bkname *bn);

/*
 * bkname_get - the address for a new backend connection of session
 * sid. Returns 1 with *sa set when it is known without asking (within
 * BKNAME_HOLD_MS of a failure), or 0 with *req set: cb(arg, sa) comes
 * on a later loop turn unless bkname_cancel(*req) comes first; -1 when
 * memory is short.
 */
int		 bkname_get(struct bkname *bn, uint64_t sid, bkname_cb *cb,
		    void *arg, struct sockaddr_storage *sa,
		    struct bkname_req **req);
void		 bkname_cancel(struct bkname_req *req);

#endif
