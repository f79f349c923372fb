/*
 * proxy/bkname.c - the backend's address by name (bkname.h): one
 * lookup chain per backend connection (A; AAAA when the name has no A),
 * answered mostly by the resolver's cache, the first address of the
 * answer taken; a failure keeps the last good address and is logged
 * with the session id. Owns its requests; borrows the resolver and the
 * name.
 */
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/bkname.h"
#include "proxy/log.h"

struct bkname {
	struct dns		*dns;
	const char		*name;
	int			 port;
	struct sockaddr_storage	 last;		/* last good address */
	uint64_t		 hold_until;	/* loop ms; 0: none */
	uv_loop_t		*loop;
};

struct bkname_req {
	struct bkname	*bn;
	struct dns_req	*dreq;		/* the lookup in flight */
	uint64_t	 sid;
	bkname_cb	*cb;
	void		*arg;
	char		 a_status[128];	/* the A answer, for the log */
};

struct bkname *
bkname_new(struct dns *dns, const char *name, int port,
    const struct sockaddr *first, socklen_t firstlen)
{
	struct bkname *bn = calloc(1, sizeof(*bn));

	if (bn == NULL)
		return NULL;
	bn->dns = dns;
	bn->name = name;
	bn->port = port;
	if (firstlen <= sizeof(bn->last))
		memcpy(&bn->last, first, firstlen);
	return bn;
}

void
bkname_free(struct bkname *bn)
{
	free(bn);
}

static void
set_last(struct bkname *bn, const struct dns_rr *rr)
{
	memset(&bn->last, 0, sizeof(bn->last));
	if (rr->type == DNS_T_A) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)&bn->last;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)bn->port);
		memcpy(&in->sin_addr, rr->addr, 4);
	} else {
		struct sockaddr_in6 *in6 =
		    (struct sockaddr_in6 *)(void *)&bn->last;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)bn->port);
		memcpy(&in6->sin6_addr, rr->addr, 16);
	}
	bn->hold_until = 0;
}

static void
describe(const struct dns_result *r, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s%s", dns_status_name(r->status),
	    r->why != NULL ? " (" : "", r->why != NULL ? r->why : "",
	    r->why != NULL ? ")" : "");
}

static void
finish(struct bkname_req *rq)
{
	struct bkname *bn = rq->bn;
	bkname_cb *cb = rq->cb;
	void *arg = rq->arg;

	free(rq);
	cb(arg, (const struct sockaddr *)&bn->last);
}

static void
fail(struct bkname_req *rq, const char *aaaa)
{
	struct bkname	*bn = rq->bn;
	char		 ip[INET6_ADDRSTRLEN] = "?";

	if (bn->last.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)&bn->last)->
		    sin_addr, ip, sizeof(ip));
	else if (bn->last.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)&bn->
		    last)->sin6_addr, ip, sizeof(ip));
	log_sid(CFG_LOG_WARN, "backend", rq->sid, "backend.address %s: A: "
	    "%s%s%s; keeping the last good address %s for %d s", bn->name,
	    rq->a_status, aaaa != NULL ? ", AAAA: " : "",
	    aaaa != NULL ? aaaa : "", ip, BKNAME_HOLD_MS / 1000);
	bn->hold_until = uv_now(bn->loop) + BKNAME_HOLD_MS;
	finish(rq);
}

static void
on_aaaa(void *arg, const struct dns_result *r)
{
	struct bkname_req	*rq = arg;
	char			 st[128];

	rq->dreq = NULL;
	if (r->status == DNS_OK && r->answer->nrr > 0) {
		set_last(rq->bn, &r->answer->rr[0]);
		finish(rq);
		return;
	}
	describe(r, st, sizeof(st));
	fail(rq, st);
}

static void
on_a(void *arg, const struct dns_result *r)
{
	struct bkname_req *rq = arg;

	rq->dreq = NULL;
	if (r->status == DNS_OK && r->answer->nrr > 0) {
		set_last(rq->bn, &r->answer->rr[0]);
		finish(rq);
		return;
	}
	describe(r, rq->a_status, sizeof(rq->a_status));
	if (r->status == DNS_TEMPFAIL) {
		fail(rq, NULL);
		return;
	}
	rq->dreq = dns_lookup(rq->bn->dns, rq->bn->name, DNS_T_AAAA, on_aaaa,
	    rq);
	if (rq->dreq == NULL)
		fail(rq, "out of memory");
}

int
bkname_get(struct bkname *bn, uint64_t sid, bkname_cb *cb, void *arg,
    struct sockaddr_storage *sa, struct bkname_req **req)
{
	struct bkname_req *rq;

	bn->loop = dns_loop(bn->dns);
	if (bn->hold_until != 0 && uv_now(bn->loop) < bn->hold_until) {
		memcpy(sa, &bn->last, sizeof(*sa));
		return 1;
	}
	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return -1;
	rq->bn = bn;
	rq->sid = sid;
	rq->cb = cb;
	rq->arg = arg;
	rq->dreq = dns_lookup(bn->dns, bn->name, DNS_T_A, on_a, rq);
	if (rq->dreq == NULL) {
		free(rq);
		return -1;
	}
	*req = rq;
	return 0;
}

void
bkname_cancel(struct bkname_req *rq)
{
	if (rq == NULL)
		return;
	dns_cancel(rq->dreq);
	free(rq);
}
