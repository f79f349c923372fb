/*
 * proxy/server.h - what all workers share: the configuration, the
 * backend address, connection counters (global and per client IP), the
 * memory held by header sections of all sessions, and shutdown.
 */
#ifndef MXS_SERVER_H
#define MXS_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>

#include <uv.h>

#include "core/net.h"
#include "proxy/config.h"
#include "proxy/side.h"

struct bkname;
struct dns;
struct ip_count;
struct mx_worker;
struct session;

/* Per-thread state: one event loop and its sessions. */
struct worker {
	uv_loop_t	 loop;
	uv_thread_t	 thread;
	struct server	*srv;
	const struct config *cfg;
	struct sideio	 io;		/* read buffer and output batch */
	uv_async_t	 wake;		/* shutdown / reload */
	uv_tcp_t	*listeners;
	size_t		 nlisteners;
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
	const struct config	*cfg;
	struct sockaddr_storage	 backend_sa;
	socklen_t		 backend_salen;
	int			 backend_by_dns; /* a name DNS gave: each
						   worker follows its TTL */
	struct policy_cfg	*pol;		/* built from cfg once */
	struct tls_ctx		*tls_server;	/* our certificate, or NULL */
	struct tls_ctx		*tls_client;	/* to the backend, or NULL */
	char			 tls_error[600];
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

int		srv_check_tls(const struct config *cfg, char *err, size_t cap);

/* srv_run - bind listeners, start workers, run until SIGTERM/SIGINT. */
int		srv_run(const struct config *cfg);

#endif
