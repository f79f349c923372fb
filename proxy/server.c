/*
 * proxy/server.c - the process: listening sockets (one per listener and
 * worker, shared with SO_REUSEPORT so the kernel spreads connections),
 * worker threads each running one libuv loop, the limits all workers
 * share (connections in total and per client IP, held header bytes),
 * and signals: SIGTERM/SIGINT drain and stop (SIGTERM after
 * drain_delay), SIGHUP reloads (proxy/reload.h). Each worker owns its
 * counters (proxy/metrics.h); the HTTP endpoint runs beside the main
 * loop. The start raises the descriptor limit, binds and reads its
 * files, drops privileges (proxy/privdrop.h), and only then serves and
 * tells systemd it is ready (proxy/sdnotify.h).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "proxy/bkname.h"
#include "proxy/check.h"
#include "proxy/dns.h"
#include "proxy/control.h"
#include "proxy/gen.h"
#include "proxy/hijack.h"
#include "proxy/hjredis.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/pol.h"
#include "proxy/privdrop.h"
#include "proxy/reload.h"
#include "proxy/sdnotify.h"
#include "proxy/server.h"
#include "proxy/accept.h"
#include "proxy/session.h"
#include "proxy/sysres.h"
#include "tls/tls.h"

struct ip_count {
	struct ip_count	*next;
	struct net_addr	 a;
	int		 n;
};

static size_t
ip_hash(const struct net_addr *a, size_t buckets)
{
	uint64_t h = 1469598103934665603ULL;
	size_t len = a->family == AF_INET6 ? 16 : 4;

	for (size_t i = 0; i < len; i++) {
		h ^= a->addr[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h % buckets);
}

static int
ip_eq(const struct net_addr *x, const struct net_addr *y)
{
	return x->family == y->family && memcmp(x->addr, y->addr,
	    x->family == AF_INET6 ? 16 : 4) == 0;
}

/*
 * srv_admit - count a new connection from a against limits.max_connections
 * and limits.max_per_ip. On ADMIT_OK the caller owes srv_release().
 */
enum admit_rc
srv_admit(struct server *srv, const struct net_addr *a)
{
	struct ip_count *c, **head;
	enum admit_rc rc = ADMIT_OK;

	if (atomic_fetch_add(&srv->connections, 1) >=
	    atomic_load(&srv->max_connections)) {
		atomic_fetch_sub(&srv->connections, 1);
		return ADMIT_TOTAL;
	}
	pthread_mutex_lock(&srv->ip_lock);
	head = &srv->ip_table[ip_hash(a, srv->ip_buckets)];
	for (c = *head; c != NULL; c = c->next)
		if (ip_eq(&c->a, a))
			break;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL) {
			rc = ADMIT_TOTAL;
		} else {
			c->a = *a;
			c->next = *head;
			*head = c;
		}
	}
	if (c != NULL) {
		if (c->n >= atomic_load(&srv->max_per_ip))
			rc = ADMIT_PER_IP;
		else
			c->n++;
	}
	pthread_mutex_unlock(&srv->ip_lock);
	if (rc != ADMIT_OK)
		atomic_fetch_sub(&srv->connections, 1);
	return rc;
}

void
srv_release(struct server *srv, const struct net_addr *a)
{
	struct ip_count *c, **pp;

	atomic_fetch_sub(&srv->connections, 1);
	pthread_mutex_lock(&srv->ip_lock);
	pp = &srv->ip_table[ip_hash(a, srv->ip_buckets)];
	for (c = *pp; c != NULL; pp = &c->next, c = c->next) {
		if (!ip_eq(&c->a, a))
			continue;
		if (--c->n <= 0) {
			*pp = c->next;
			free(c);
		}
		break;
	}
	pthread_mutex_unlock(&srv->ip_lock);
}

int
srv_hold(struct server *srv, size_t n)
{
	long long now = atomic_fetch_add(&srv->held_bytes, (long long)n) +
	    (long long)n;

	return now > atomic_load(&srv->max_held_bytes) ? -1 : 0;
}

void
srv_unhold(struct server *srv, size_t n)
{
	atomic_fetch_sub(&srv->held_bytes, (long long)n);
}

int
srv_held_over(struct server *srv)
{
	return atomic_load(&srv->held_bytes) >=
	    atomic_load(&srv->max_held_bytes);
}

void
srv_set_limits(struct server *srv, const struct config *cfg)
{
	atomic_store(&srv->max_connections, cfg->limits.max_connections);
	atomic_store(&srv->max_per_ip, cfg->limits.max_per_ip);
	atomic_store(&srv->max_held_bytes,
	    (long long)cfg->limits.max_held_bytes);
}

void
srv_reload_counts(struct server *srv, uint64_t *ok, uint64_t *failed)
{
	*ok = atomic_load(&srv->reloads_ok);
	*failed = atomic_load(&srv->reloads_failed);
}

uint64_t
srv_next_sid(struct server *srv)
{
	return atomic_fetch_add(&srv->next_sid, 1);
}

/* ------------------------------------------------------------ workers */

static void
on_connection(uv_stream_t *server, int status)
{
	struct wlisten *wl = server->data;

	if (status < 0) {
		/* libuv closes what it could not accept for lack of
		 * descriptors; say why, not only that */
		if (status == UV_EMFILE || status == UV_ENFILE)
			log_msg(CFG_LOG_ERROR, "accept", "accept failed: %s "
			    "(RLIMIT_NOFILE %ld): connections closed without "
			    "a reply; raise the limit or lower "
			    "limits.max_connections", uv_strerror(status),
			    sysres_fd_limit());
		else
			log_msg(CFG_LOG_WARN, "accept", "accept failed: %s",
			    uv_strerror(status));
		return;
	}
	sess_start(wl->w, server, wl->idx);
}

static void
on_listener_closed(uv_handle_t *h)
{
	free(h->data);
}

void
worker_listen_close(struct worker *w, struct wlisten *wl)
{
	struct wlisten **pp;

	for (pp = &w->listeners; *pp != NULL; pp = &(*pp)->next)
		if (*pp == wl) {
			*pp = wl->next;
			break;
		}
	uv_close((uv_handle_t *)&wl->tcp, on_listener_closed);
}

int
worker_listen_open(struct worker *w, int idx, int fd)
{
	const struct cfg_listen *l = &w->cfg->listen[idx];
	struct wlisten *wl = calloc(1, sizeof(*wl));

	if (wl == NULL || uv_tcp_init(&w->loop, &wl->tcp) != 0) {
		log_msg(CFG_LOG_ERROR, "error", "listen %s:%d: out of memory",
		    l->address, l->port);
		free(wl);
		close(fd);
		return -1;
	}
	wl->w = w;
	wl->idx = idx;
	wl->tcp.data = wl;
	wl->next = w->listeners;
	w->listeners = wl;
	if (uv_tcp_open(&wl->tcp, fd) != 0) {
		close(fd);	/* not the handle's: uv_close leaves it */
		worker_listen_close(w, wl);
		log_msg(CFG_LOG_ERROR, "error", "listen %s:%d failed",
		    l->address, l->port);
		return -1;
	}
	if (uv_listen((uv_stream_t *)&wl->tcp, 4096, on_connection) != 0) {
		worker_listen_close(w, wl);
		log_msg(CFG_LOG_ERROR, "error", "listen %s:%d failed",
		    l->address, l->port);
		return -1;
	}
	return 0;
}

static void
on_wake(uv_async_t *a)
{
	struct worker *w = a->data;
	struct session *s, *next;
	int force = atomic_load(&w->srv->draining) > 1;

	if (!w->draining) {
		w->draining = 1;
		while (w->listeners != NULL)
			worker_listen_close(w, w->listeners);
	}
	for (s = w->sessions; s != NULL; s = next) {
		next = s->wnext;
		if (force)
			sess_shutdown_now(s);
		else
			sess_drain(s);
	}
	worker_check_done(w);
}

/* Copy the resolver's counters, which its loop writes as plain
 * fields, into the worker's metrics (proxy/metrics.h). */
static void
on_mx_timer(uv_timer_t *t)
{
	struct worker *w = t->data;
	struct dns_counters c;

	if (w->dns == NULL)
		return;
	dns_counters(w->dns, &c);
	metrics_dns_snapshot(w->mx, &c);
}

/* The last copy, and the timer closed: the loop may end. */
static void
worker_mx_close(struct worker *w)
{
	if (w->mx_timer.loop == NULL ||
	    uv_is_closing((uv_handle_t *)&w->mx_timer))
		return;
	on_mx_timer(&w->mx_timer);
	uv_close((uv_handle_t *)&w->mx_timer, NULL);
}

/* The worker's resolver and backend name go with its last session. */
static void
worker_dns_close(struct worker *w)
{
	bkname_free(w->bkname);
	w->bkname = NULL;
	hjr_close(w->hjr);
	w->hjr = NULL;
	dns_close(w->dns, NULL, NULL);
	w->dns = NULL;
}

/*
 * The counters of a worker's resolver since the start, one "dns" line
 * (info) as it closes: what the cache spared and what went out, for an
 * administrator to size dns.cache_entries and see a failing server.
 */
static void
log_resolver(const struct worker *w)
{
	struct dns_counters c;
	struct logline l;

	if (w->dns == NULL || !log_enabled(CFG_LOG_INFO))
		return;
	dns_counters(w->dns, &c);
	log_begin(&l, "dns");
	log_cstr(&l, "level", "info");
	log_int(&l, "worker", w->index);
	log_int(&l, "lookups", (int64_t)c.lookups);
	log_int(&l, "cache_hits", (int64_t)c.cache_hits);
	log_ratio(&l, "hit_rate", c.cache_hits, c.lookups);
	log_int(&l, "queries", (int64_t)c.queries);
	log_int(&l, "coalesced", (int64_t)c.coalesced);
	log_int(&l, "failures", (int64_t)c.failures);
	log_int(&l, "overflows", (int64_t)c.overflows);
	log_int(&l, "evictions", (int64_t)c.evictions);
	log_int(&l, "cached", (int64_t)c.cached);
	log_cstr(&l, "msg", "resolver closed");
	log_end(&l);
}

/* worker_check_done - after a drain, a worker whose last session is
 * gone closes its wake-up handle so that its loop ends. */
void
worker_check_done(struct worker *w)
{
	if (w->draining && w->sessions == NULL &&
	    !uv_is_closing((uv_handle_t *)&w->wake)) {
		log_resolver(w);
		worker_mx_close(w);
		worker_dns_close(w);
		uv_close((uv_handle_t *)&w->wake, NULL);
		uv_close((uv_handle_t *)&w->reload, NULL);
	}
}

static uv_async_t done_async;
static atomic_int workers_done;

static void
worker_main(void *arg)
{
	struct worker *w = arg;

	uv_run(&w->loop, UV_RUN_DEFAULT);
	atomic_fetch_add(&workers_done, 1);
	uv_async_send(&done_async);
}

int
srv_listen_socket(const struct cfg_listen *l, char *err, size_t cap)
{
	struct addrinfo hints, *ai = NULL;
	char port[16];
	int fd, one = 1, r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", l->port);
	r = getaddrinfo(l->address, port, &hints, &ai);
	if (r != 0 || ai == NULL) {
		snprintf(err, cap, "listen %s:%d: %s", l->address, l->port,
		    gai_strerror(r));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
	    listen(fd, 4096) < 0) {
		close(fd);
		fd = -1;
		goto fail;
	}
	freeaddrinfo(ai);
	return fd;
fail:
	snprintf(err, cap, "listen %s:%d: %s", l->address, l->port,
	    strerror(errno));
	freeaddrinfo(ai);
	return -1;
}

/* Open, bind and listen; returns the fd or -1 with a logged reason. */
static int
listen_socket(const struct cfg_listen *l)
{
	char err[512];
	int fd;

	if ((fd = srv_listen_socket(l, err, sizeof(err))) < 0)
		log_msg(CFG_LOG_ERROR, "error", "%s", err);
	return fd;
}

static int
worker_init(struct server *srv, struct worker *w, int index)
{
	struct gen *g = srv->gen;
	const struct config *cfg = g->cfg;
	char err[512];

	memset(w, 0, sizeof(*w));
	w->srv = srv;
	w->gen = gen_ref(g);
	w->cfg = cfg;
	w->index = index;
	if (uv_loop_init(&w->loop) != 0)
		return -1;
	w->io.loop = &w->loop;
	w->io.rbuf = malloc(RBUF_SIZE);
	w->io.scratch = malloc(SCRATCH_SIZE);
	w->mx = calloc(1, sizeof(*w->mx));
	w->io.mx = w->mx;
	if (w->io.rbuf == NULL || w->io.scratch == NULL || w->mx == NULL)
		return -1;
	uv_async_init(&w->loop, &w->wake, on_wake);
	w->wake.data = w;
	uv_async_init(&w->loop, &w->reload, reload_on_job);
	w->reload.data = w;
	/* the resolver of this worker's loop, made now: DNS lookups never
	 * wait for one to start */
	if ((w->dns = dns_new(&w->loop, cfg, err, sizeof(err))) == NULL) {
		log_msg(CFG_LOG_ERROR, "error", "resolver: %s", err);
		return -1;
	}
	uv_timer_init(&w->loop, &w->mx_timer);
	w->mx_timer.data = w;
	uv_unref((uv_handle_t *)&w->mx_timer);
	uv_timer_start(&w->mx_timer, on_mx_timer, 1000, 1000);
	if (cfg->hijack.enabled && cfg->hijack.store == CFG_HJ_REDIS &&
	    (w->hjr = hjr_new(&w->loop, index)) == NULL)
		return -1;
	if (g->backend_by_dns && (w->bkname = bkname_new(w->dns,
	    cfg->backend.address, cfg->backend.port,
	    (struct sockaddr *)&g->backend_sa, g->backend_salen)) == NULL)
		return -1;
	for (size_t i = 0; i < cfg->nlisten; i++) {
		int fd = listen_socket(&cfg->listen[i]);

		if (fd < 0 || worker_listen_open(w, (int)i, fd) < 0)
			return -1;
	}
	return 0;
}

/* chk_warnings() at start: one log line each. */
static void
log_warning(void *arg, const char *msg)
{
	(void)arg;
	log_msg(CFG_LOG_WARN, "config", "%s", msg);
}

static void
log_start_warning(void *arg, const char *msg)
{
	(void)arg;
	log_msg(CFG_LOG_WARN, "start", "%s", msg);
}

/* ------------------------------------------------------------ main loop */

static struct server *the_server;
static uv_timer_t force_timer;
static uv_timer_t delay_timer;		/* drain_delay after SIGTERM */

static void
wake_all(struct server *srv)
{
	for (int i = 0; i < srv->nworkers; i++)
		uv_async_send(&srv->workers[i].wake);
}

static void
on_force(uv_timer_t *t)
{
	(void)t;
	log_msg(CFG_LOG_WARN, "shutdown", "shutdown_timeout reached: "
	    "closing the remaining sessions");
	atomic_store(&the_server->draining, 2);
	wake_all(the_server);
}

/* Stop accepting and let sessions finish, for shutdown_timeout. */
static void
start_drain(struct server *srv, const char *why)
{
	log_msg(CFG_LOG_INFO, "shutdown", "%s: draining sessions (at most %d s)",
	    why, srv->gen->cfg->shutdown_timeout);
	atomic_store(&srv->draining, 1);
	wake_all(srv);
	uv_timer_start(&force_timer, on_force,
	    (uint64_t)srv->gen->cfg->shutdown_timeout * 1000, 0);
}

static void
on_drain_delay(uv_timer_t *t)
{
	(void)t;
	start_drain(the_server, "drain_delay over");
}

/*
 * on_signal - SIGTERM: /healthz says 503 at once; new sessions are
 * still served for drain_delay seconds (a load balancer stops sending
 * them), then the listeners close and sessions drain. SIGINT drains at
 * once. A second signal during drain_delay starts the drain; one during
 * the drain closes every session.
 */
static void
on_signal(uv_signal_t *h, int signum)
{
	struct server *srv = h->data;
	const char *name = signum == SIGTERM ? "SIGTERM" : "SIGINT";

	if (signum == SIGHUP) {
		reload_request(srv);
		return;
	}
	if (atomic_load(&srv->draining)) {
		/* a second signal: stop now */
		on_force(NULL);
		return;
	}
	if (atomic_load(&srv->stopping)) {
		/* during drain_delay: no more waiting */
		uv_timer_stop(&delay_timer);
		start_drain(srv, name);
		return;
	}
	atomic_store(&srv->stopping, 1);
	sdn_stopping(signum == SIGTERM && srv->gen->cfg->drain_delay > 0 ?
	    "drain_delay: still serving, then draining" : "draining sessions");
	if (signum == SIGTERM && srv->gen->cfg->drain_delay > 0) {
		log_msg(CFG_LOG_INFO, "shutdown", "SIGTERM: /healthz says 503, "
		    "new sessions still served for drain_delay (%d s), then "
		    "draining (at most %d s)", srv->gen->cfg->drain_delay,
		    srv->gen->cfg->shutdown_timeout);
		uv_timer_start(&delay_timer, on_drain_delay,
		    (uint64_t)srv->gen->cfg->drain_delay * 1000, 0);
		return;
	}
	start_drain(srv, name);
}

static void
on_all_done(uv_async_t *a)
{
	if (atomic_load(&workers_done) == the_server->nworkers)
		uv_stop(a->loop);
}

/*
 * srv_check_tls - for --check-config: load the certificate, key and CA
 * files the configuration names, as a start would. 0, or -1 with the
 * reason in err.
 */
int
srv_check_tls(const struct config *cfg, char *err, size_t cap)
{
	return gen_check_tls(cfg, err, cap);
}

/* srv_free - release what srv_run built; the first n workers were
 * initialised (their loops are stopped or never ran). */
static void
srv_free(struct server *srv, int n)
{
	for (int i = 0; i < n; i++) {
		struct worker *w = &srv->workers[i];

		/* close what a failed start left open, then the loop */
		worker_mx_close(w);
		worker_dns_close(w);
		if (!uv_is_closing((uv_handle_t *)&w->wake) && w->wake.loop)
			uv_close((uv_handle_t *)&w->wake, NULL);
		if (!uv_is_closing((uv_handle_t *)&w->reload) &&
		    w->reload.loop)
			uv_close((uv_handle_t *)&w->reload, NULL);
		while (w->listeners != NULL)
			worker_listen_close(w, w->listeners);
		uv_run(&w->loop, UV_RUN_DEFAULT);
		uv_loop_close(&w->loop);
		free(w->io.rbuf);
		free(w->io.scratch);
		free(w->mx);
		reload_job_free(atomic_exchange(&w->job, NULL));
		gen_unref(w->gen);
		w->gen = NULL;
	}
	for (size_t b = 0; srv->ip_table != NULL && b < srv->ip_buckets; b++) {
		while (srv->ip_table[b] != NULL) {
			struct ip_count *c = srv->ip_table[b];

			srv->ip_table[b] = c->next;
			free(c);
		}
	}
	free(srv->ip_table);
	free(srv->workers);
	reload_free(srv);
	gen_unref(srv->gen);
	srv->gen = NULL;
	pthread_mutex_destroy(&srv->ip_lock);
	pthread_mutex_destroy(&srv->reload_lock);
}

int
srv_run(const struct config *cfg)
{
	struct server srv;
	uv_loop_t *main_loop = uv_default_loop();
	uv_signal_t sig_term, sig_int, sig_hup;
	struct priv_id id;
	uint64_t seed = 0;
	char herr[4096];
	long nofile;
	int rc = 0;

	memset(&srv, 0, sizeof(srv));
	srv.cfg = cfg;
	srv.started = time(NULL);
	the_server = &srv;
	signal(SIGPIPE, SIG_IGN);
	/* who to become: decided before anything is opened */
	if (priv_resolve(cfg, &id, herr, sizeof(herr)) < 0 ||
	    (geteuid() == 0 && priv_check_files(cfg, &id, herr,
	    sizeof(herr)) < 0)) {
		log_msg(CFG_LOG_ERROR, "error", "%s", herr);
		return 1;
	}
	nofile = sysres_raise_nofile(herr, sizeof(herr));
	if (herr[0] != '\0')
		log_msg(CFG_LOG_INFO, "start", "%s", herr);
	metrics_init();
	for (size_t i = 0; i < cfg->nlisten; i++)
		(void)metrics_listener(cfg->listen[i].address,
		    cfg->listen[i].port);
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
	atomic_store(&srv.next_sid, seed);
	pthread_mutex_init(&srv.ip_lock, NULL);
	pthread_mutex_init(&srv.reload_lock, NULL);
	srv_set_limits(&srv, cfg);
	srv.ip_buckets = 4099;
	srv.ip_table = calloc(srv.ip_buckets, sizeof(*srv.ip_table));
	srv.nworkers = cfg->workers > 0 ? cfg->workers : 1;
	srv.workers = calloc((size_t)srv.nworkers, sizeof(*srv.workers));
	if (srv.ip_table == NULL || srv.workers == NULL) {
		srv_free(&srv, 0);
		return 1;
	}
	/* the start's configuration stays main()'s: hijack detection and
	 * the resolvers keep pointing into it */
	if ((srv.gen = gen_build((struct config *)cfg, 1, NULL, herr,
	    sizeof(herr))) == NULL) {
		log_msg(CFG_LOG_ERROR, "error", "%s", herr);
		srv_free(&srv, 0);
		return 1;
	}
	/* the file's own problems first, then whether we may run so */
	switch (priv_start_check(cfg, &id, herr, sizeof(herr))) {
	case -1:
		log_msg(CFG_LOG_ERROR, "error", "%s", herr);
		srv_free(&srv, 0);
		return 1;
	case 1:
		log_msg(CFG_LOG_WARN, "start", "%s", herr);
		break;
	}
	srv.gen->id = 1;
	chk_warnings(cfg, (struct sockaddr *)&srv.gen->backend_sa, log_warning,
	    NULL);
	hjr_setup(cfg, seed);
	/* the machine's limit, not the file: a "start" line */
	sysres_warn_nofile(cfg, nofile, log_start_warning, NULL);
	if (hijack_start(cfg, herr, sizeof(herr)) < 0) {
		log_msg(CFG_LOG_ERROR, "error", "%s", herr);
		srv_free(&srv, 0);
		return 1;
	}
	if (reload_init(&srv, main_loop) < 0) {
		log_msg(CFG_LOG_ERROR, "error", "out of memory");
		hijack_stop();
		srv_free(&srv, 0);
		return 1;
	}
	/* from here a signal waits for the main loop: SIGHUP's default
	 * action would end the process while it binds its listeners */
	uv_signal_init(main_loop, &sig_term);
	uv_signal_init(main_loop, &sig_int);
	uv_signal_init(main_loop, &sig_hup);
	sig_term.data = sig_int.data = sig_hup.data = &srv;
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_signal_start(&sig_hup, on_signal, SIGHUP);
	uv_timer_init(main_loop, &force_timer);
	uv_timer_init(main_loop, &delay_timer);
	if (control_start(cfg, herr, sizeof(herr)) < 0) {
		log_msg(CFG_LOG_ERROR, "error", "%s", herr);
		hijack_stop();
		srv_free(&srv, 0);
		return 1;
	}
	for (int i = 0; i < srv.nworkers; i++) {
		if (worker_init(&srv, &srv.workers[i], i) < 0) {
			control_stop();
			hijack_stop();
			srv_free(&srv, i + 1);
			return 1;
		}
	}
	/* ports bound, keys and state read: nothing else needs root, and
	 * no worker has served a byte yet */
	if (priv_drop(&id, herr, sizeof(herr)) < 0) {
		log_msg(CFG_LOG_ERROR, "error", "dropping privileges: %s; not "
		    "serving", herr);
		control_stop();
		hijack_stop();
		srv_free(&srv, srv.nworkers);
		return 1;
	}
	if (id.set && id.uid == geteuid())
		log_msg(CFG_LOG_INFO, "start", "running as user %s (uid %lu, "
		    "gid %lu)", id.user, (unsigned long)id.uid,
		    (unsigned long)id.gid);
	else if (geteuid() == 0)
		log_msg(CFG_LOG_INFO, "start", "running as root (allow_root = "
		    "true)");

	if (metrics_http_start(&srv, main_loop) < 0) {
		control_stop();
		hijack_stop();
		srv_free(&srv, srv.nworkers);
		return 1;
	}

	uv_async_init(main_loop, &done_async, on_all_done);
	for (int i = 0; i < srv.nworkers; i++) {
		if (uv_thread_create(&srv.workers[i].thread, worker_main,
		    &srv.workers[i]) != 0) {
			log_msg(CFG_LOG_ERROR, "error", "cannot start worker %d", i);
			abort();
		}
	}
	for (size_t i = 0; i < cfg->nlisten; i++)
		log_msg(CFG_LOG_INFO, "start", "mxshield %s listening on %s:%d, "
		    "backend %s:%d, %d worker%s", MXS_VERSION,
		    cfg->listen[i].address, cfg->listen[i].port,
		    cfg->backend.address, cfg->backend.port, srv.nworkers,
		    srv.nworkers == 1 ? "" : "s");
	sdn_ready(NULL);
	sdn_status("serving: %zu listener%s, %d worker%s, backend %s:%d",
	    cfg->nlisten, cfg->nlisten == 1 ? "" : "s", srv.nworkers,
	    srv.nworkers == 1 ? "" : "s", cfg->backend.address,
	    cfg->backend.port);

	/* the main loop serves signals until every worker has drained */
	uv_run(main_loop, UV_RUN_DEFAULT);
	for (int i = 0; i < srv.nworkers; i++)
		uv_thread_join(&srv.workers[i].thread);
	reload_close(&srv);	/* a RELOAD waiting is answered */
	metrics_http_stop();
	control_stop();
	hijack_stop();
	uv_close((uv_handle_t *)&sig_term, NULL);
	uv_close((uv_handle_t *)&sig_int, NULL);
	uv_close((uv_handle_t *)&sig_hup, NULL);
	uv_close((uv_handle_t *)&force_timer, NULL);
	uv_close((uv_handle_t *)&delay_timer, NULL);
	uv_close((uv_handle_t *)&done_async, NULL);
	uv_run(main_loop, UV_RUN_DEFAULT);
	uv_loop_close(main_loop);
	srv_free(&srv, srv.nworkers);
	log_msg(CFG_LOG_INFO, "stop", "mxshield stopped");
	return rc;
}
