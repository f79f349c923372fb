/*
 * proxy/metrics.h - the counters behind /metrics (proxy/metrics.c) and
 * the HTTP endpoint that serves them with /healthz
 * (proxy/metrics_http.c).
 *
 * Each worker owns one struct mx_worker and is its only writer: an
 * event is one relaxed load and one relaxed store (mx_add()), no lock
 * and no read-modify-write on the hot path. The HTTP thread sums the
 * workers with relaxed loads; a scrape may see one worker a few events
 * ahead of another, never a torn value. Process-wide values (reloads,
 * the backend's last success) are atomics of their own.
 *
 * The resolver's counters (struct dns_counters) are plain fields that
 * its worker writes: the worker copies them into its mx_worker with
 * metrics_dns_snapshot() once a second (a timer on its loop) and as it
 * closes, so a scrape is at most a second behind for DNS.
 */
#ifndef MXS_METRICS_H
#define MXS_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/policy.h"
#include "core/spf.h"
#include "core/spoof.h"
#include "proxy/config.h"

struct dns_counters;
struct server;

#define MX_LISTENERS_MAX	64	/* distinct address:port ever seen */
#define MX_TLS_MAX		32	/* version/cipher pairs a side and
					   worker; more go to "other" */
#define MX_LAT_NB		15	/* latency bucket bounds */
#define MX_SPOOF_NB		(SPOOF_MAX + 1)	/* le 0..25 */
#define MX_CHECK_PROTOCOL	(POLICY_CK_DNSBL + 1)	/* "protocol" */
#define MX_NCHECKS		(MX_CHECK_PROTOCOL + 1)
#define MX_CODE_MIN		400
#define MX_NCODES		200	/* 400..599 */
#define MX_NSPF			(SPF_PERMERROR + 1)

enum mx_outcome { MX_ACCEPTED = 0, MX_REJECTED, MX_ABORTED, MX_NOUTCOMES };
enum mx_side { MX_CLIENT = 0, MX_BACKEND, MX_NSIDES };
/* what a backend reply answered: its greeting (from the connect), a
 * command (relayed or ours), the final dot of a message */
enum mx_reply { MX_R_GREETING = 0, MX_R_COMMAND, MX_R_FINAL, MX_NREPLIES };
enum mx_spf_id { MX_SPF_MAILFROM = 0, MX_SPF_HELO, MX_NSPFIDS };

typedef _Atomic uint64_t mx_ctr;

struct mx_tls_slot {
	const char	*version;	/* static strings of tls/ */
	const char	*cipher;
	mx_ctr		 n;
};

struct mx_worker {
	mx_ctr	sess_started[MX_LISTENERS_MAX];
	mx_ctr	sess_closed[MX_LISTENERS_MAX];
	mx_ctr	txn[MX_NOUTCOMES];
	mx_ctr	rejections[MX_NCHECKS][MX_NCODES];
	mx_ctr	spoof[MX_SPOOF_NB + 1];	/* the last: above 25, never */
	mx_ctr	spoof_sum;
	mx_ctr	connect[MX_LAT_NB + 1];
	mx_ctr	connect_sum_us;
	mx_ctr	connect_failed;
	mx_ctr	reply[MX_NREPLIES][MX_LAT_NB + 1];
	mx_ctr	reply_sum_us[MX_NREPLIES];
	mx_ctr	bytes_in[MX_NSIDES];
	mx_ctr	bytes_out[MX_NSIDES];
	mx_ctr	spf[MX_NSPFIDS][MX_NSPF];
	/* the resolver's counters, copied by metrics_dns_snapshot() */
	mx_ctr	dns_lookups, dns_cache_hits, dns_queries, dns_failures,
		dns_coalesced, dns_overflows, dns_evictions, dns_cached;
	/* filled in order, published by ntls (release) */
	struct mx_tls_slot tls[MX_NSIDES][MX_TLS_MAX];
	_Atomic size_t	ntls[MX_NSIDES];
	mx_ctr	tls_other[MX_NSIDES];
};

/* mx_add - the owner's increment: one writer, so no read-modify-write. */
static inline void
mx_add(mx_ctr *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c,
	    memory_order_relaxed) + n, memory_order_relaxed);
}

static inline uint64_t
mx_get(mx_ctr *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- process-wide: proxy/metrics.c ---- */

/* metrics_init - the start time, once, before any worker runs. */
void	metrics_init(void);

/*
 * metrics_listener - the slot of a listener (address, port) for
 * mxshield_sessions_*{listener="address:port"}: the one registered
 * before, or a new one. Called by the main thread at the start (and by
 * a reload for listeners it adds) before any session can use it;
 * workers find it with metrics_listener_find(). -1 when all
 * MX_LISTENERS_MAX slots are taken (those sessions are not counted).
 */
int	metrics_listener(const char *address, int port);
int	metrics_listener_find(const char *address, int port);

/*
 * metrics_reload - count one configuration reload: ok 1 succeeded
 * (the new configuration is in force), 0 refused (the old one stays).
 * Any thread; mxshield_reloads_total{result="success"|"failure"}.
 */
void	metrics_reload(int ok);

/* metrics_backend_ok - the backend answered now (a connection opened,
 * or the health probe's): /healthz counts from here. Any thread. */
void	metrics_backend_ok(void);
/* The time of the last metrics_backend_ok() (CLOCK_MONOTONIC s), 0:
 * none yet. */
int64_t	metrics_backend_last_ok(void);

/* ---- a worker's events (its own mx_worker only) ---- */

void	metrics_session_open(struct mx_worker *m, int slot);
void	metrics_session_close(struct mx_worker *m, int slot);
/* result: "accepted", "rejected", "aborted" (sess_txn_log's) */
void	metrics_txn(struct mx_worker *m, const char *result);
/* an enforced refusal by check (MX_CHECK_PROTOCOL: mxshield's own
 * refusal of a message) with its reply code */
void	metrics_rejection(struct mx_worker *m, int check, int code);
void	metrics_spoof(struct mx_worker *m, int score);
/* t0: mxs_hrtime_us() when the connect started */
void	metrics_connect(struct mx_worker *m, uint64_t t0, int ok);
void	metrics_reply(struct mx_worker *m, enum mx_reply r, uint64_t t0);
void	metrics_tls(struct mx_worker *m, enum mx_side side,
	    const char *version, const char *cipher);
void	metrics_spf(struct mx_worker *m, enum mx_spf_id id,
	    enum spf_result r);
void	metrics_dns_snapshot(struct mx_worker *m, const struct dns_counters *c);

/* mxs_hrtime_us - a monotonic clock in microseconds (vDSO, cheap). */
uint64_t mxs_hrtime_us(void);

/*
 * metrics_render - the whole /metrics text for srv into a buffer the
 * caller frees; *len its length. NULL when memory is short. Reads the
 * workers with relaxed loads and the hijack table under its lock.
 */
char	*metrics_render(struct server *srv, size_t *len);

/* ---- the HTTP endpoint: proxy/metrics_http.c ---- */

/*
 * metrics_http_start - serve metrics.address:metrics.port in a thread
 * of libmicrohttpd's own (GET /metrics, GET /healthz; anything else
 * 404, other methods 405), and start the backend probe on loop (the
 * main loop) when /healthz needs one. Does nothing when the metrics
 * group is not configured. 0, or -1 with a logged reason (port in
 * use).
 */
int	metrics_http_start(struct server *srv, void *loop);
/* stop serving and the probe; wait for the thread. */
void	metrics_http_stop(void);

#endif
