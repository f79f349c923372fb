/*
 * proxy/dns.c - the resolver of dns.h: one c-ares channel on one libuv
 * loop. c-ares says which sockets it wants watched (its
 * ARES_OPT_SOCK_STATE_CB): each gets a uv_poll_t; its retransmission
 * timeouts run under one uv_timer_t (ares_timeout()). Questions go out
 * with ares_query(); the raw answer is read by core/dnsmsg.c, never by
 * ares_parse_*, and kept in core/dnscache.c. Identical questions in
 * flight are asked once. Every result reaches its requester through the
 * ready list, drained by a zero timer on the next loop turn, so no
 * callback runs inside dns_lookup() (c-ares may answer from inside
 * ares_query()). A question not answered within timeout * attempts
 * seconds gives TEMPFAIL even while c-ares still backs off (its per-try
 * timeout doubles each round). Input: answers from the network,
 * untrusted, bounded by the parser. Owns its handles, questions,
 * requests and cache; single-threaded (one loop).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>

#include "core/dnscache.h"
#include "proxy/dns.h"

/* The outcome of one question (or cache hit), shared by its waiters. */
struct result {
	int			 refs;
	int			 from_cache;
	char			 why[64];
	struct dns_answer	 a;
};

/* One question on the network. */
struct query {
	struct query	*next, *prev;	/* d->queries, oldest first */
	struct dns	*d;
	char		*name;		/* owned */
	uint16_t	 type;
	uint64_t	 deadline;	/* loop ms */
	int		 expired;	/* waiters told TEMPFAIL; c-ares goes on */
	struct result	*res;		/* owned until handed to the waiters */
	struct dns_req	*waiters;
};

struct dns_req {
	struct dns_req	*next, *prev;	/* a query's waiters, or d->ready */
	struct dns	*d;
	struct query	*q;		/* NULL once in d->ready */
	struct result	*res;		/* in d->ready: a reference */
	dns_cb		*cb;
	void		*arg;
	unsigned	 pass;		/* in d->ready: the kick that owns it */
};

struct dns_sock {
	struct dns_sock	*next;
	struct dns	*d;
	ares_socket_t	 fd;
	uv_poll_t	 poll;
};

struct dns {
	uv_loop_t		*loop;
	ares_channel		 channel;
	int			 have_channel;
	uv_timer_t		 ares_timer;	/* c-ares' own timeouts */
	uv_timer_t		 kick;		/* drains ready, next turn */
	uv_timer_t		 deadline;	/* oldest question's limit */
	struct dns_sock		*socks;
	struct query		*queries, *last;	/* in start order */
	size_t			 inflight;	/* queries, expired ones too */
	struct dns_req		*ready, *ready_tail;
	unsigned		 pass;		/* the next kick's number */
	struct dnscache		*cache;
	uint64_t		 limit_ms;	/* timeout * attempts */
	struct dns_counters	 cnt;
	int			 handles;	/* open; freed at 0 when closing */
	int			 closing;
	void			(*done)(void *);
	void			*done_arg;
};

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;

static void
ares_init_once(void)
{
	ares_library_init(ARES_LIB_INIT_ALL);
}

/* ------------------------------------------------------------ results */

static struct result *
result_new(void)
{
	return calloc(1, sizeof(struct result));
}

static void on_kick(uv_timer_t *t);

/* Drop one reference; a result nobody took (refs 0) is freed too. */
static void
result_unref(struct result *r)
{
	if (r != NULL && --r->refs <= 0)
		free(r);
}

static void
ready_push(struct dns *d, struct dns_req *rq, struct result *res)
{
	rq->q = NULL;
	rq->res = res;
	res->refs++;
	rq->pass = d->pass;
	rq->next = NULL;
	rq->prev = d->ready_tail;
	if (d->ready_tail != NULL)
		d->ready_tail->next = rq;
	else
		d->ready = rq;
	d->ready_tail = rq;
	if (res->a.status == DNS_TEMPFAIL)
		d->cnt.failures++;
	if (!uv_is_active((uv_handle_t *)&d->kick))
		uv_timer_start(&d->kick, on_kick, 0, 0);
}

static void
ready_unlink(struct dns *d, struct dns_req *rq)
{
	if (rq->prev != NULL)
		rq->prev->next = rq->next;
	else
		d->ready = rq->next;
	if (rq->next != NULL)
		rq->next->prev = rq->prev;
	else
		d->ready_tail = rq->prev;
	rq->next = rq->prev = NULL;
}

/*
 * The zero timer: hand each ready result to its requester. A callback
 * may call dns_lookup() (new entries join the tail with the next pass's
 * number and wait for the next turn) or dns_cancel() on any other
 * request (it leaves the list): the pass stops at the first entry that
 * is not its own, whatever was cancelled.
 */
static void
on_kick(uv_timer_t *t)
{
	struct dns	*d = t->data;
	unsigned	 pass = d->pass++;

	while (d->ready != NULL && d->ready->pass == pass && !d->closing) {
		struct dns_req		*rq = d->ready;
		struct result		*res = rq->res;
		struct dns_result	 r;

		ready_unlink(d, rq);
		r.status = res->a.status;
		r.answer = &res->a;
		r.ttl = res->a.ttl;
		r.from_cache = res->from_cache;
		r.why = res->a.status == DNS_TEMPFAIL ? res->why : NULL;
		rq->cb(rq->arg, &r);
		free(rq);
		result_unref(res);
	}
	if (d->ready != NULL && !d->closing)
		uv_timer_start(&d->kick, on_kick, 0, 0);
}

/* ------------------------------------------------------------ sockets */

static void on_ares_timer(uv_timer_t *t);

static void
arm_ares_timer(struct dns *d)
{
	struct timeval	 tv, *t;
	uint64_t	 ms;

	if (d->closing)
		return;
	t = ares_timeout(d->channel, NULL, &tv);
	if (t == NULL) {
		uv_timer_stop(&d->ares_timer);
		return;
	}
	ms = (uint64_t)t->tv_sec * 1000 + ((uint64_t)t->tv_usec + 999) / 1000;
	uv_timer_start(&d->ares_timer, on_ares_timer, ms, 0);
}

static void
on_ares_timer(uv_timer_t *t)
{
	struct dns *d = t->data;

	ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_ares_timer(d);
}

static void
on_handle_closed(uv_handle_t *h)
{
	struct dns *d = h->data;

	if (h->type == UV_POLL)
		free(((char *)h) - offsetof(struct dns_sock, poll));
	if (--d->handles == 0 && d->closing) {
		void (*done)(void *) = d->done;
		void *arg = d->done_arg;

		dnscache_free(d->cache);
		d->cache = NULL;
		free(d);
		if (done != NULL)
			done(arg);
	}
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
	struct dns_sock	*s = (struct dns_sock *)(void *)((char *)h -
	    offsetof(struct dns_sock, poll));
	struct dns	*d = s->d;
	ares_socket_t	 fd = s->fd;

	/* an error: let c-ares read and see it, and give up the server */
	if (status < 0)
		events = UV_READABLE | UV_WRITABLE;
	ares_process_fd(d->channel,
	    events & UV_READABLE ? fd : ARES_SOCKET_BAD,
	    events & UV_WRITABLE ? fd : ARES_SOCKET_BAD);
	arm_ares_timer(d);
}

static void
sock_close(struct dns *d, struct dns_sock *s)
{
	struct dns_sock **pp = &d->socks;

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	uv_poll_stop(&s->poll);
	uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

/* c-ares: watch fd for reading and/or writing; neither: it is closing. */
static void
on_sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns	*d = data;
	struct dns_sock	*s;

	for (s = d->socks; s != NULL; s = s->next)
		if (s->fd == fd)
			break;
	if (!readable && !writable) {
		if (s != NULL)
			sock_close(d, s);
		return;
	}
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return;	/* c-ares times the question out */
		if (uv_poll_init_socket(d->loop, &s->poll, fd) != 0) {
			free(s);
			return;
		}
		s->d = d;
		s->fd = fd;
		s->poll.data = d;
		s->next = d->socks;
		d->socks = s;
		d->handles++;
	}
	uv_poll_start(&s->poll, (readable ? UV_READABLE : 0) |
	    (writable ? UV_WRITABLE : 0), on_poll);
}

/* ------------------------------------------------------------ questions */

static void
query_unlink(struct dns *d, struct query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		d->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		d->last = q->prev;
	q->next = q->prev = NULL;
}

/* Every waiter of q gets res. */
static void
query_answer(struct dns *d, struct query *q, struct result *res)
{
	while (q->waiters != NULL) {
		struct dns_req *rq = q->waiters;

		q->waiters = rq->next;
		ready_push(d, rq, res);
	}
}

static void on_deadline(uv_timer_t *t);

static void
arm_deadline(struct dns *d)
{
	struct query	*q;
	uint64_t	 now = uv_now(d->loop);

	for (q = d->queries; q != NULL && q->expired; q = q->next)
		;
	if (q == NULL || d->closing) {
		uv_timer_stop(&d->deadline);
		return;
	}
	uv_timer_start(&d->deadline, on_deadline,
	    q->deadline > now ? q->deadline - now : 0, 0);
}

/* The oldest questions past timeout * attempts: TEMPFAIL for their
 * waiters; c-ares' own retries end later and free them. */
static void
on_deadline(uv_timer_t *t)
{
	struct dns	*d = t->data;
	uint64_t	 now = uv_now(d->loop);

	for (struct query *q = d->queries; q != NULL; q = q->next) {
		struct result *res = q->res;

		if (q->expired)
			continue;
		if (q->deadline > now)
			break;	/* started in order: the rest is younger */
		q->expired = 1;
		q->res = NULL;
		res->a.status = DNS_TEMPFAIL;
		snprintf(res->why, sizeof(res->why), "timeout");
		res->refs++;
		query_answer(d, q, res);
		result_unref(res);
	}
	arm_deadline(d);
}

/* The answer c-ares got (abuf, or none with status) into a. */
static void
read_answer(struct query *q, int status, const unsigned char *abuf, int alen,
    struct dns_answer *a, char *why, size_t cap)
{
	enum dnsmsg_rc rc;

	if (abuf != NULL && alen > 0) {
		rc = dnsmsg_parse(abuf, (size_t)alen, q->name, q->type, a);
		if (rc != DNSMSG_OK)
			snprintf(why, cap, "malformed answer (%s)",
			    dnsmsg_rc_name(rc));
		else if (a->status == DNS_TEMPFAIL)
			snprintf(why, cap, "%s", a->rcode == 2 ? "SERVFAIL" :
			    a->rcode == 5 ? "REFUSED" : "error rcode");
		return;
	}
	memset(a, 0, offsetof(struct dns_answer, rr));
	a->ndata = 0;
	a->status = DNS_TEMPFAIL;
	a->qtype = q->type;
	snprintf(why, cap, "%s", status == ARES_ETIMEOUT ? "timeout" :
	    status == ARES_ESERVFAIL ? "SERVFAIL" :
	    status == ARES_EREFUSED ? "REFUSED" :
	    /* c-ares gave up every server: SERVFAIL, REFUSED or
	     * unreachable each time */
	    status == ARES_ECONNREFUSED ? "no server answered (SERVFAIL, "
	    "REFUSED or unreachable)" : ares_strerror(status));
}

/* c-ares is done with q: read the answer, cache it, tell the waiters
 * (unless the deadline told them already). */
static void
on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct query	*q = arg;
	struct dns	*d = q->d;
	struct result	*res = q->res;

	(void)timeouts;
	query_unlink(d, q);
	d->inflight--;
	if (status != ARES_EDESTRUCTION && !d->closing) {
		if (res != NULL) {
			read_answer(q, status, abuf, alen, &res->a, res->why,
			    sizeof(res->why));
			dnscache_put(d->cache, q->name, q->type, &res->a,
			    uv_now(d->loop));
			res->refs++;
			query_answer(d, q, res);
		} else {
			struct dns_answer	a;
			char			why[64];

			read_answer(q, status, abuf, alen, &a, why,
			    sizeof(why));
			dnscache_put(d->cache, q->name, q->type, &a,
			    uv_now(d->loop));
		}
	}
	result_unref(res);
	free(q->name);
	free(q);
	arm_deadline(d);
}

/* RFC 6761: "localhost" (6.3) and "invalid" (6.4) are answered here. */
static int
special(const char *name, uint16_t type, struct result *res)
{
	size_t n = strlen(name);

	memset(&res->a, 0, offsetof(struct dns_answer, rr));
	res->a.ndata = 0;
	res->a.qtype = type;
	if ((n == 7 && strcasecmp(name, "invalid") == 0) ||
	    (n > 8 && strcasecmp(name + n - 8, ".invalid") == 0)) {
		res->a.status = DNS_NXDOMAIN;
		res->a.rcode = 3;
		return 1;
	}
	if ((n == 9 && strcasecmp(name, "localhost") == 0) ||
	    (n > 10 && strcasecmp(name + n - 10, ".localhost") == 0)) {
		res->a.status = DNS_NODATA;
		if (type == DNS_T_A) {
			memcpy(res->a.rr[0].addr, "\x7f\0\0\x01", 4);
		} else if (type == DNS_T_AAAA) {
			memcpy(res->a.rr[0].addr,
			    "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
		} else
			return 1;
		res->a.status = DNS_OK;
		res->a.nrr = 1;
		res->a.rr[0].type = type;
		return 1;
	}
	return 0;
}

/* A name c-ares can ask: 1 to 253 characters (one final dot dropped),
 * printable, no empty label. */
static int
askable(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= cap || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (name[i] <= ' ' || name[i] >= 0x7f)
			return 0;
		if (name[i] == '.' && name[i + 1] == '.')
			return 0;
	}
	memcpy(out, name, n);
	out[n] = '\0';
	return 1;
}

struct dns_req *
dns_lookup(struct dns *d, const char *name, uint16_t type, dns_cb *cb,
    void *arg)
{
	struct dns_req	*rq = calloc(1, sizeof(*rq));
	struct result	*res = NULL;
	struct query	*q;
	char		 key[256];

	if (rq == NULL)
		return NULL;
	rq->d = d;
	rq->cb = cb;
	rq->arg = arg;
	d->cnt.lookups++;
	if (!askable(name, key, sizeof(key))) {
		if ((res = result_new()) == NULL)
			goto oom;
		res->a.status = DNS_NXDOMAIN;
		res->a.qtype = type;
		goto ready;
	}
	if ((res = result_new()) == NULL)
		goto oom;
	if (special(key, type, res))
		goto ready;
	if (dnscache_get(d->cache, key, type, uv_now(d->loop), &res->a)) {
		res->from_cache = 1;
		d->cnt.cache_hits++;
		goto ready;
	}
	for (q = d->queries; q != NULL; q = q->next) {
		if (!q->expired && q->type == type &&
		    strcasecmp(q->name, key) == 0) {
			free(res);
			d->cnt.coalesced++;
			rq->q = q;
			rq->next = q->waiters;
			if (q->waiters != NULL)
				q->waiters->prev = rq;
			q->waiters = rq;
			return rq;
		}
	}
	if (d->inflight >= DNS_INFLIGHT_MAX) {
		d->cnt.overflows++;
		res->a.status = DNS_TEMPFAIL;
		res->a.qtype = type;
		snprintf(res->why, sizeof(res->why), "too many queries in "
		    "flight");
		goto ready;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->name = strdup(key)) == NULL) {
		free(q);
		goto oom;
	}
	q->res = res;
	res->a.qtype = type;
	q->d = d;
	q->type = type;
	q->deadline = uv_now(d->loop) + d->limit_ms;
	q->waiters = rq;
	rq->q = q;
	q->prev = d->last;
	if (d->last != NULL)
		d->last->next = q;
	else
		d->queries = q;
	d->last = q;
	d->inflight++;
	d->cnt.queries++;
	if (!uv_is_active((uv_handle_t *)&d->deadline))
		arm_deadline(d);
	/* may call on_answer() at once: it only queues the result */
	ares_query(d->channel, key, 1 /* IN */, type, on_answer, q);
	arm_ares_timer(d);
	return rq;
ready:
	ready_push(d, rq, res);
	return rq;
oom:
	free(res);
	free(rq);
	return NULL;
}

void
dns_cancel(struct dns_req *rq)
{
	struct dns *d;

	if (rq == NULL)
		return;
	d = rq->d;
	if (rq->q != NULL) {
		struct query *q = rq->q;

		if (rq->prev != NULL)
			rq->prev->next = rq->next;
		else
			q->waiters = rq->next;
		if (rq->next != NULL)
			rq->next->prev = rq->prev;
	} else {
		ready_unlink(d, rq);
		result_unref(rq->res);
	}
	free(rq);
}

uv_loop_t *
dns_loop(const struct dns *d)
{
	return d->loop;
}

void
dns_counters(const struct dns *d, struct dns_counters *c)
{
	struct dnscache_stats st;

	*c = d->cnt;
	dnscache_stats(d->cache, &st);
	c->evictions = st.evictions;
	c->cached = st.entries;
	c->inflight = d->inflight;
}

/* ------------------------------------------------------------ life */

/* cfg's servers as c-ares' "ip:port,[ip6]:port" list. -1: too long. */
static int
servers_csv(const struct config *cfg, char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cfg->dns.servers.n; i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i > 0 ? "," : "",
		    cfg->dns.servers.v[i]);

		if (w < 0 || (size_t)w >= cap - n)
			return -1;
		n += (size_t)w;
	}
	return 0;
}

struct dns *
dns_new(uv_loop_t *loop, const struct config *cfg, char *err, size_t cap)
{
	struct ares_options	 o;
	struct dns		*d;
	char			 csv[4096];
	int			 r;

	pthread_once(&ares_once, ares_init_once);
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	d->loop = loop;
	d->limit_ms = (uint64_t)cfg->dns.timeout * 1000 *
	    (uint64_t)cfg->dns.attempts;
	d->cache = dnscache_new((size_t)cfg->dns.cache_entries, DNS_TTL_MAX,
	    DNS_NEG_TTL_MAX);
	if (d->cache == NULL) {
		snprintf(err, cap, "out of memory");
		free(d);
		return NULL;
	}
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = on_sock_state;
	o.sock_state_cb_data = d;
	o.timeout = cfg->dns.timeout * 1000;
	o.tries = cfg->dns.attempts;
	r = ares_init_options(&d->channel, &o, ARES_OPT_SOCK_STATE_CB |
	    ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (r != ARES_SUCCESS) {
		snprintf(err, cap, "c-ares: %s", ares_strerror(r));
		dnscache_free(d->cache);
		free(d);
		return NULL;
	}
	d->have_channel = 1;
	if (cfg->dns.servers.n > 0 && (servers_csv(cfg, csv, sizeof(csv)) < 0 ||
	    (r = ares_set_servers_ports_csv(d->channel, csv)) != ARES_SUCCESS)) {
		snprintf(err, cap, "dns.servers: %s", servers_csv(cfg, csv,
		    sizeof(csv)) < 0 ? "too long" : ares_strerror(r));
		ares_destroy(d->channel);
		dnscache_free(d->cache);
		free(d);
		return NULL;
	}
	uv_timer_init(loop, &d->ares_timer);
	uv_timer_init(loop, &d->kick);
	uv_timer_init(loop, &d->deadline);
	d->ares_timer.data = d->kick.data = d->deadline.data = d;
	d->handles = 3;
	return d;
}

void
dns_close(struct dns *d, void (*done)(void *), void *arg)
{
	if (d == NULL) {
		if (done != NULL)
			done(arg);
		return;
	}
	d->closing = 1;
	d->done = done;
	d->done_arg = arg;
	while (d->ready != NULL) {
		struct dns_req *rq = d->ready;

		ready_unlink(d, rq);
		result_unref(rq->res);
		free(rq);
	}
	for (struct query *q = d->queries; q != NULL; q = q->next)
		while (q->waiters != NULL) {
			struct dns_req *rq = q->waiters;

			q->waiters = rq->next;
			free(rq);
		}
	/* frees every query through on_answer(ARES_EDESTRUCTION) and
	 * closes its sockets through on_sock_state() */
	if (d->have_channel)
		ares_destroy(d->channel);
	d->have_channel = 0;
	while (d->socks != NULL)
		sock_close(d, d->socks);
	uv_close((uv_handle_t *)&d->ares_timer, on_handle_closed);
	uv_close((uv_handle_t *)&d->kick, on_handle_closed);
	uv_close((uv_handle_t *)&d->deadline, on_handle_closed);
}

/* ------------------------------------------------------------ helpers */

int
dns_hosts(const char *name, struct net_addr *a)
{
	static const int fams[2] = { AF_INET, AF_INET6 };
	struct ares_options	 o;
	ares_channel		 ch;
	struct hostent		*he = NULL;
	int			 found = -1;

	pthread_once(&ares_once, ares_init_once);
	memset(&o, 0, sizeof(o));
	if (ares_init_options(&ch, &o, 0) != ARES_SUCCESS)
		return -1;
	for (int i = 0; i < 2 && found < 0; i++) {
		if (ares_gethostbyname_file(ch, name, fams[i], &he) !=
		    ARES_SUCCESS || he == NULL)
			continue;
		if (he->h_addr_list[0] != NULL && (size_t)he->h_length <=
		    sizeof(a->addr)) {
			memset(a, 0, sizeof(*a));
			a->family = fams[i];
			memcpy(a->addr, he->h_addr_list[0], (size_t)he->h_length);
			found = 0;
		}
		ares_free_hostent(he);
		he = NULL;
	}
	ares_destroy(ch);
	return found;
}
