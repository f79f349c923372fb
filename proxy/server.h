/*
 * proxy/server.h - what all workers share: the configuration in force
 * (a generation, proxy/gen.h, replaced by a reload), connection
 * counters (global and per client IP), the memory held by header
 * sections of all sessions, shutdown and reload.
 */
#ifndef MXS_SERVER_H
#define MXS_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#include <uv.h>

#include "core/net.h"
#include "proxy/config.h"
#include "proxy/side.h"

struct bkname;
struct dns;
struct gen;
struct ip_count;
struct mx_worker;
struct reload;
struct reload_job;
struct session;

/* One listening socket of a worker; its settings are those of
 * w->gen->cfg->listen[idx] (a reload renumbers, keeps the socket). */
struct wlisten {
	uv_tcp_t	 tcp;
	struct worker	*w;
	struct wlisten	*next;		/* the worker's open listeners */
	int		 idx;
};

/* Per-thread state: one event loop and its sessions. */
struct worker {
	uv_loop_t	 loop;
	uv_thread_t	 thread;
	struct server	*srv;
	struct gen	*gen;		/* new sessions get it (a reference) */
	const struct config *cfg;	/* gen->cfg */
	struct sideio	 io;		/* read buffer and output batch */
	uv_async_t	 wake;		/* shutdown */
	uv_async_t	 reload;	/* job: switch to a new generation */
	_Atomic(struct reload_job *) job; /* owned once taken */
	struct wlisten	*listeners;	/* open ones */
	uint64_t	 nsessions;
	int		 draining;
	int		 index;
	struct session	*sessions;	/* list of live sessions */
	struct dns	*dns;		/* this loop's resolver (proxy/dns.h) */
	struct bkname	*bkname;	/* backend.address by DNS, or NULL */
	struct mx_worker *mx;		/* owned: this worker's counters
					   (proxy/metrics.h), also io.mx */
	uv_timer_t	 mx_timer;	/* copies the resolver's counters */
	struct hjr	*hjr;		/* hijack.store = "redis": this loop's
					   connection (proxy/hjredis.h) */
};

struct server {
	const struct config	*cfg;		/* the start's: what only a
						   restart changes */
	struct gen		*gen;		/* in force (a reference);
						   swapped by the main loop
						   under reload_lock */
	pthread_mutex_t		 reload_lock;
	struct reload		*reload;	/* proxy/reload.c */
	atomic_uint_fast64_t	 reloads_ok;	/* srv_reload_counts() */
	atomic_uint_fast64_t	 reloads_failed;
	time_t			 started;
	atomic_int		 max_connections; /* the limits in force */
	atomic_int		 max_per_ip;
	atomic_llong		 max_held_bytes;
	struct worker		*workers;
	int			 nworkers;
	atomic_int		 connections;
	atomic_llong		 held_bytes;
	atomic_uint_fast64_t	 next_sid;
	atomic_int		 draining;
	atomic_int		 stopping;	/* SIGTERM/SIGINT came: /healthz
						   says 503 (drain_delay, then
						   draining) */
	pthread_mutex_t		 ip_lock;
	struct ip_count		**ip_table;	/* buckets, under ip_lock */
	size_t			 ip_buckets;
};

enum admit_rc { ADMIT_OK = 0, ADMIT_TOTAL, ADMIT_PER_IP };

/* srv_admit - count one connection from a, unless a limit is reached. */
enum admit_rc	srv_admit(struct server *srv, const struct net_addr *a);
void		srv_release(struct server *srv, const struct net_addr *a);
/* srv_hold - account n more held header bytes; -1 when over the cap. */
int		srv_hold(struct server *srv, size_t n);
void		srv_unhold(struct server *srv, size_t n);
int		srv_held_over(struct server *srv);
uint64_t	srv_next_sid(struct server *srv);

void		worker_check_done(struct worker *w);

/*
 * worker_listen_open - serve listener idx of w->gen->cfg on the bound
 * and listening socket fd (ours from now on, closed on failure), on w's
 * loop. 0, or -1 with a log line.
 */
int		worker_listen_open(struct worker *w, int idx, int fd);
/* worker_listen_close - stop serving wl (unlinked from w->listeners;
 * freed once closed); its sessions go on. On w's loop. */
void		worker_listen_close(struct worker *w, struct wlisten *wl);
/* srv_listen_socket - a bound, listening socket for l (SO_REUSEPORT),
 * or -1 with the reason in err. */
int		srv_listen_socket(const struct cfg_listen *l, char *err,
		    size_t cap);
/* srv_set_limits - the limits of cfg in force for new admissions. */
void		srv_set_limits(struct server *srv, const struct config *cfg);

/*
 * srv_reload_counts - reloads applied and refused since the start.
 * Any thread (atomic reads).
 */
void		srv_reload_counts(struct server *srv, uint64_t *ok,
		    uint64_t *failed);

int		srv_check_tls(const struct config *cfg, char *err, size_t cap);

/* srv_run - bind listeners, start workers, run until SIGTERM/SIGINT. */
int		srv_run(const struct config *cfg);

#endif
