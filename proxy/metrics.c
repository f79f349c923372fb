/*
 * proxy/metrics.c - the counters of proxy/metrics.h: a worker's events
 * into its own struct mx_worker, the process-wide ones (reloads, the
 * backend's last success, the listeners' labels), and the /metrics text
 * (Prometheus exposition format 0.0.4, core/promtext.h) summed over the
 * workers by the HTTP thread. README "Metrics and health" lists every
 * name; tests/integration/test_metrics.py reads them with a real parser.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/promtext.h"
#include "proxy/dns.h"
#include "proxy/hijack.h"
#include "proxy/hjredis.h"
#include "proxy/metrics.h"
#include "proxy/server.h"

/* upper bounds of the latency histograms, seconds */
static const double lat_bounds[MX_LAT_NB] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30,
};
static const uint64_t lat_bounds_us[MX_LAT_NB] = {
	500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000,
};

static struct {
	char		 label[MX_LISTENERS_MAX][80];
	int		 port[MX_LISTENERS_MAX];
	char		 address[MX_LISTENERS_MAX][48];
	_Atomic int	 n;		/* published slots (release) */
	double		 start_time;	/* Unix time of metrics_init() */
	mx_ctr		 reloads[2];	/* failure, success */
	_Atomic int64_t	 backend_ok;	/* monotonic seconds; 0: never */
} mx;

uint64_t
mxs_hrtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int64_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

void
metrics_init(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	mx.start_time = (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) /
	    1000.0;
}

/* ------------------------------------------------------------ listeners */

int
metrics_listener_find(const char *address, int port)
{
	int n = atomic_load_explicit(&mx.n, memory_order_acquire);

	for (int i = 0; i < n; i++)
		if (mx.port[i] == port && strcmp(mx.address[i], address) == 0)
			return i;
	return -1;
}

int
metrics_listener(const char *address, int port)
{
	int i = metrics_listener_find(address, port);
	int n = atomic_load_explicit(&mx.n, memory_order_relaxed);

	if (i >= 0)
		return i;
	if (n >= MX_LISTENERS_MAX)
		return -1;
	snprintf(mx.address[n], sizeof(mx.address[n]), "%s", address);
	mx.port[n] = port;
	snprintf(mx.label[n], sizeof(mx.label[n]), strchr(address, ':') ?
	    "[%s]:%d" : "%s:%d", address, port);
	atomic_store_explicit(&mx.n, n + 1, memory_order_release);
	return n;
}

/* ------------------------------------------------------------ process */

void
metrics_reload(int ok)
{
	atomic_fetch_add_explicit(&mx.reloads[ok ? 1 : 0], 1,
	    memory_order_relaxed);
}

void
metrics_backend_ok(void)
{
	int64_t now = mono_s();

	/* one store a second at most: every worker writes this line */
	if (atomic_load_explicit(&mx.backend_ok, memory_order_relaxed) != now)
		atomic_store_explicit(&mx.backend_ok, now,
		    memory_order_relaxed);
}

int64_t
metrics_backend_last_ok(void)
{
	return atomic_load_explicit(&mx.backend_ok, memory_order_relaxed);
}

/* ------------------------------------------------------------ workers */

void
metrics_session_open(struct mx_worker *m, int slot)
{
	if (m != NULL && slot >= 0 && slot < MX_LISTENERS_MAX)
		mx_add(&m->sess_started[slot], 1);
}

void
metrics_session_close(struct mx_worker *m, int slot)
{
	if (m != NULL && slot >= 0 && slot < MX_LISTENERS_MAX)
		mx_add(&m->sess_closed[slot], 1);
}

void
metrics_txn(struct mx_worker *m, const char *result)
{
	if (m == NULL)
		return;
	mx_add(&m->txn[result[0] == 'a' && result[1] == 'c' ? MX_ACCEPTED :
	    result[0] == 'r' ? MX_REJECTED : MX_ABORTED], 1);
}

void
metrics_rejection(struct mx_worker *m, int check, int code)
{
	if (m == NULL || check < 0 || check >= MX_NCHECKS ||
	    code < MX_CODE_MIN || code >= MX_CODE_MIN + MX_NCODES)
		return;
	mx_add(&m->rejections[check][code - MX_CODE_MIN], 1);
}

void
metrics_spoof(struct mx_worker *m, int score)
{
	if (m == NULL)
		return;
	mx_add(&m->spoof[score < 0 ? 0 : score > SPOOF_MAX ? MX_SPOOF_NB :
	    score], 1);
	mx_add(&m->spoof_sum, (uint64_t)(score < 0 ? 0 : score));
}

static size_t
lat_bucket(uint64_t us)
{
	size_t i = 0;

	while (i < MX_LAT_NB && us > lat_bounds_us[i])
		i++;
	return i;
}

void
metrics_connect(struct mx_worker *m, uint64_t t0, int ok)
{
	uint64_t us;

	if (m == NULL || t0 == 0)
		return;
	if (!ok) {
		mx_add(&m->connect_failed, 1);
		return;
	}
	us = mxs_hrtime_us() - t0;
	mx_add(&m->connect[lat_bucket(us)], 1);
	mx_add(&m->connect_sum_us, us);
}

void
metrics_reply(struct mx_worker *m, enum mx_reply r, uint64_t t0)
{
	uint64_t us;

	if (m == NULL || t0 == 0)
		return;
	us = mxs_hrtime_us() - t0;
	mx_add(&m->reply[r][lat_bucket(us)], 1);
	mx_add(&m->reply_sum_us[r], us);
}

void
metrics_tls(struct mx_worker *m, enum mx_side side, const char *version,
    const char *cipher)
{
	size_t n, i;

	if (m == NULL || version == NULL || cipher == NULL)
		return;
	n = atomic_load_explicit(&m->ntls[side], memory_order_relaxed);
	for (i = 0; i < n; i++)
		if (strcmp(m->tls[side][i].version, version) == 0 &&
		    strcmp(m->tls[side][i].cipher, cipher) == 0)
			break;
	if (i == n) {
		if (n == MX_TLS_MAX) {
			mx_add(&m->tls_other[side], 1);
			return;
		}
		m->tls[side][n].version = version;
		m->tls[side][n].cipher = cipher;
		atomic_store_explicit(&m->ntls[side], n + 1,
		    memory_order_release);
	}
	mx_add(&m->tls[side][i].n, 1);
}

void
metrics_spf(struct mx_worker *m, enum mx_spf_id id, enum spf_result r)
{
	if (m != NULL && (int)r >= 0 && (int)r < MX_NSPF)
		mx_add(&m->spf[id][r], 1);
}

static void
set(mx_ctr *c, uint64_t v)
{
	atomic_store_explicit(c, v, memory_order_relaxed);
}

void
metrics_dns_snapshot(struct mx_worker *m, const struct dns_counters *c)
{
	if (m == NULL)
		return;
	set(&m->dns_lookups, c->lookups);
	set(&m->dns_cache_hits, c->cache_hits);
	set(&m->dns_queries, c->queries);
	set(&m->dns_failures, c->failures);
	set(&m->dns_coalesced, c->coalesced);
	set(&m->dns_overflows, c->overflows);
	set(&m->dns_evictions, c->evictions);
	set(&m->dns_cached, (uint64_t)c->cached);
}

/* ------------------------------------------------------------ /metrics */

/* Sum of one field over the workers: off is its offset in mx_worker. */
static uint64_t
sum(struct server *srv, size_t off)
{
	uint64_t t = 0;

	for (int i = 0; i < srv->nworkers; i++) {
		struct mx_worker *m = srv->workers[i].mx;

		if (m != NULL)
			t += mx_get((mx_ctr *)((char *)m + off));
	}
	return t;
}

#define SUM(field)	sum(srv, offsetof(struct mx_worker, field))

static const char *const outcome_names[MX_NOUTCOMES] = {
	"accepted", "rejected", "aborted",
};
static const char *const side_names[MX_NSIDES] = { "client", "backend" };
static const char *const reply_names[MX_NREPLIES] = {
	"greeting", "command", "final_dot",
};
static const char *const spf_id_names[MX_NSPFIDS] = { "mail_from", "helo" };

static const char *
check_name(int c)
{
	return c == MX_CHECK_PROTOCOL ? "protocol" :
	    policy_check_name((enum policy_check)c);
}

/* The disabled identities of hijack detection (monitor-mode ones are
 * only logged, not disabled). */
static uint64_t
hijack_disabled(void)
{
	size_t len = 0;
	char *list = hijack_list(&len), *p, *nl;
	uint64_t n = 0;

	if (list == NULL)
		return 0;
	for (p = list; p < list + len && (nl = memchr(p, '\n',
	    (size_t)(list + len - p))) != NULL; p = nl + 1)
		if (!((size_t)(nl - p) >= 8 && memcmp(nl - 8, " monitor", 8) ==
		    0))
			n++;
	free(list);
	return n;
}

/* hijack.store = "redis": its traffic and health (all 0 with "file"). */
static void
render_hijack_store(struct ptbuf *b)
{
	struct hijack_store_stats st;

	hijack_store_stats(&st);
	pt_head(b, "mxshield_hijack_store_commands_total", "counter",
	    "Commands sent to the hijack store (Redis).");
	pt_u64(b, "mxshield_hijack_store_commands_total", NULL, 0,
	    st.commands);
	pt_head(b, "mxshield_hijack_store_failures_total", "counter",
	    "Hijack store questions and counts that failed (refused, timed "
	    "out, error reply); hijack.on_store_failure decided each.");
	pt_u64(b, "mxshield_hijack_store_failures_total", NULL, 0,
	    st.failures);
	pt_head(b, "mxshield_hijack_store_reconnects_total", "counter",
	    "Connections to the hijack store made after the first.");
	pt_u64(b, "mxshield_hijack_store_reconnects_total", NULL, 0,
	    st.reconnects);
	pt_head(b, "mxshield_hijack_store_connected_workers", "gauge",
	    "Workers connected to the hijack store now.");
	pt_u64(b, "mxshield_hijack_store_connected_workers", NULL, 0,
	    st.connected);
}

static void
render_latency(struct ptbuf *b, struct server *srv)
{
	uint64_t c[MX_LAT_NB + 1];
	struct pt_label l;

	pt_head(b, "mxshield_backend_connect_seconds", "histogram",
	    "Time to open a TCP connection to the backend.");
	for (size_t k = 0; k <= MX_LAT_NB; k++)
		c[k] = SUM(connect[k]);
	pt_hist(b, "mxshield_backend_connect_seconds", NULL, 0, lat_bounds, c,
	    MX_LAT_NB, (double)SUM(connect_sum_us) / 1e6);
	pt_head(b, "mxshield_backend_connect_failures_total", "counter",
	    "Connections to the backend that could not be opened.");
	pt_u64(b, "mxshield_backend_connect_failures_total", NULL, 0,
	    SUM(connect_failed));
	pt_head(b, "mxshield_backend_reply_seconds", "histogram",
	    "Time the backend took to reply: to its greeting (from the "
	    "connection), to a command, to the final dot of a message.");
	for (int r = 0; r < MX_NREPLIES; r++) {
		for (size_t k = 0; k <= MX_LAT_NB; k++)
			c[k] = SUM(reply[r][k]);
		l.name = "reply";
		l.value = reply_names[r];
		pt_hist(b, "mxshield_backend_reply_seconds", &l, 1, lat_bounds,
		    c, MX_LAT_NB, (double)SUM(reply_sum_us[r]) / 1e6);
	}
}

/* The slot of worker w for the pair (version, cipher) on side sd, or
 * NULL (a worker keeps one slot a pair). */
static struct mx_tls_slot *
tls_slot(struct server *srv, int w, int sd, const char *version,
    const char *cipher)
{
	struct mx_worker *m = srv->workers[w].mx;
	size_t n = m == NULL ? 0 : atomic_load_explicit(&m->ntls[sd],
	    memory_order_acquire);

	for (size_t j = 0; j < n; j++)
		if (strcmp(m->tls[sd][j].version, version) == 0 &&
		    strcmp(m->tls[sd][j].cipher, cipher) == 0)
			return &m->tls[sd][j];
	return NULL;
}

static void
render_tls(struct ptbuf *b, struct server *srv)
{
	pt_head(b, "mxshield_tls_sessions_total", "counter",
	    "TLS handshakes completed, by side, protocol version and "
	    "cipher suite.");
	for (int sd = 0; sd < MX_NSIDES; sd++) {
		uint64_t other = 0;

		/* the same pair may sit in several workers: one line each
		 * pair, summed, written where it is first found */
		for (int i = 0; i < srv->nworkers; i++) {
			struct mx_worker *m = srv->workers[i].mx;
			size_t n;

			if (m == NULL)
				continue;
			other += mx_get(&m->tls_other[sd]);
			n = atomic_load_explicit(&m->ntls[sd],
			    memory_order_acquire);
			for (size_t j = 0; j < n; j++) {
				const struct mx_tls_slot *t = &m->tls[sd][j];
				struct mx_tls_slot *u;
				uint64_t v = 0;
				int seen = 0;

				for (int i2 = 0; i2 < i && !seen; i2++)
					seen = tls_slot(srv, i2, sd, t->version,
					    t->cipher) != NULL;
				if (seen)
					continue;
				for (int i2 = i; i2 < srv->nworkers; i2++)
					if ((u = tls_slot(srv, i2, sd, t->version,
					    t->cipher)) != NULL)
						v += mx_get(&u->n);
				struct pt_label l[3] = {
					{ "side", side_names[sd] },
					{ "version", t->version },
					{ "cipher", t->cipher },
				};
				pt_u64(b, "mxshield_tls_sessions_total", l, 3, v);
			}
		}
		if (other > 0) {
			struct pt_label l[3] = {
				{ "side", side_names[sd] },
				{ "version", "other" },
				{ "cipher", "other" },
			};
			pt_u64(b, "mxshield_tls_sessions_total", l, 3, other);
		}
	}
}

static void
render_dns(struct ptbuf *b, struct server *srv)
{
	static const struct {
		const char	*name;
		size_t		 off;
		const char	*help;
	} dns[] = {
		{ "mxshield_dns_lookups_total",
		    offsetof(struct mx_worker, dns_lookups),
		    "DNS lookups the checks asked for." },
		{ "mxshield_dns_cache_hits_total",
		    offsetof(struct mx_worker, dns_cache_hits),
		    "DNS lookups answered from the cache." },
		{ "mxshield_dns_queries_total",
		    offsetof(struct mx_worker, dns_queries),
		    "DNS questions sent to the servers." },
		{ "mxshield_dns_failures_total",
		    offsetof(struct mx_worker, dns_failures),
		    "DNS lookups that ended in a temporary failure "
		    "(SERVFAIL, timeout, network)." },
		{ "mxshield_dns_coalesced_total",
		    offsetof(struct mx_worker, dns_coalesced),
		    "DNS lookups that joined an identical question in "
		    "flight." },
		{ "mxshield_dns_overflows_total",
		    offsetof(struct mx_worker, dns_overflows),
		    "DNS lookups refused: too many questions in flight." },
		{ "mxshield_dns_cache_evictions_total",
		    offsetof(struct mx_worker, dns_evictions),
		    "DNS answers evicted from a full cache." },
	};

	for (size_t i = 0; i < sizeof(dns) / sizeof(dns[0]); i++) {
		pt_head(b, dns[i].name, "counter", dns[i].help);
		pt_u64(b, dns[i].name, NULL, 0, sum(srv, dns[i].off));
	}
	pt_head(b, "mxshield_dns_cache_entries", "gauge",
	    "DNS answers in the caches of all workers.");
	pt_u64(b, "mxshield_dns_cache_entries", NULL, 0, SUM(dns_cached));
}

static void
render(struct ptbuf *b, struct server *srv)
{
	struct pt_label l[3];
	uint64_t c[MX_SPOOF_NB + 1];
	double spoof_bounds[MX_SPOOF_NB];
	int n = atomic_load_explicit(&mx.n, memory_order_acquire);
	int64_t last = metrics_backend_last_ok();
	struct timespec now;

	l[0].name = "version";
	l[0].value = MXS_VERSION;
	pt_head(b, "mxshield_build_info", "gauge",
	    "Always 1; the version of mxshield in a label.");
	pt_u64(b, "mxshield_build_info", l, 1, 1);
	pt_head(b, "mxshield_start_time_seconds", "gauge",
	    "When the process started, Unix time.");
	pt_double(b, "mxshield_start_time_seconds", NULL, 0, mx.start_time);
	pt_head(b, "mxshield_draining", "gauge",
	    "1 from SIGTERM on (drain_delay, then the drain), else 0.");
	pt_u64(b, "mxshield_draining", NULL, 0,
	    atomic_load(&srv->stopping) ? 1 : 0);

	pt_head(b, "mxshield_sessions_open", "gauge",
	    "Client connections open now, by listener.");
	for (int i = 0; i < n; i++) {
		uint64_t closed = SUM(sess_closed[i]);
		uint64_t started = SUM(sess_started[i]);

		l[0].name = "listener";
		l[0].value = mx.label[i];
		pt_u64(b, "mxshield_sessions_open", l, 1,
		    started > closed ? started - closed : 0);
	}
	pt_head(b, "mxshield_sessions_total", "counter",
	    "Client connections accepted, by listener.");
	for (int i = 0; i < n; i++) {
		l[0].name = "listener";
		l[0].value = mx.label[i];
		pt_u64(b, "mxshield_sessions_total", l, 1,
		    SUM(sess_started[i]));
	}

	pt_head(b, "mxshield_transactions_total", "counter",
	    "Mail transactions by outcome, as the txn log lines say.");
	for (int o = 0; o < MX_NOUTCOMES; o++) {
		l[0].name = "outcome";
		l[0].value = outcome_names[o];
		pt_u64(b, "mxshield_transactions_total", l, 1, SUM(txn[o]));
	}

	pt_head(b, "mxshield_rejections_total", "counter",
	    "Refusals carried out, by check (as in the log's verdicts) "
	    "and reply code.");
	for (int ck = 0; ck < MX_NCHECKS; ck++)
		for (int code = 0; code < MX_NCODES; code++) {
			uint64_t v = SUM(rejections[ck][code]);
			char cs[8];

			if (v == 0)
				continue;
			snprintf(cs, sizeof(cs), "%d", MX_CODE_MIN + code);
			l[0].name = "check";
			l[0].value = check_name(ck);
			l[1].name = "code";
			l[1].value = cs;
			pt_u64(b, "mxshield_rejections_total", l, 2, v);
		}

	pt_head(b, "mxshield_spoof_score", "histogram",
	    "Spoof scores of the messages scored (0 to 25).");
	for (int i = 0; i < MX_SPOOF_NB; i++)
		spoof_bounds[i] = i;
	for (int i = 0; i <= MX_SPOOF_NB; i++)
		c[i] = SUM(spoof[i]);
	pt_hist(b, "mxshield_spoof_score", NULL, 0, spoof_bounds, c,
	    MX_SPOOF_NB, (double)SUM(spoof_sum));

	pt_head(b, "mxshield_spf_results_total", "counter",
	    "SPF checks by identity and result.");
	for (int id = 0; id < MX_NSPFIDS; id++)
		for (int r = 0; r < MX_NSPF; r++) {
			l[0].name = "identity";
			l[0].value = spf_id_names[id];
			l[1].name = "result";
			l[1].value = spf_result_name((enum spf_result)r);
			pt_u64(b, "mxshield_spf_results_total", l, 2,
			    SUM(spf[id][r]));
		}

	render_dns(b, srv);
	render_latency(b, srv);
	pt_head(b, "mxshield_backend_last_success_timestamp_seconds", "gauge",
	    "When a connection to the backend last succeeded (a session's "
	    "or the health probe's), Unix time; 0: never.");
	clock_gettime(CLOCK_REALTIME, &now);
	pt_double(b, "mxshield_backend_last_success_timestamp_seconds", NULL,
	    0, last == 0 ? 0 : (double)(now.tv_sec - (mono_s() - last)));
	render_tls(b, srv);

	pt_head(b, "mxshield_bytes_received_total", "counter",
	    "Bytes read from the network (TLS records included), by side.");
	for (int sd = 0; sd < MX_NSIDES; sd++) {
		l[0].name = "side";
		l[0].value = side_names[sd];
		pt_u64(b, "mxshield_bytes_received_total", l, 1,
		    SUM(bytes_in[sd]));
	}
	pt_head(b, "mxshield_bytes_sent_total", "counter",
	    "Bytes written to the network (TLS records included), by side.");
	for (int sd = 0; sd < MX_NSIDES; sd++) {
		l[0].name = "side";
		l[0].value = side_names[sd];
		pt_u64(b, "mxshield_bytes_sent_total", l, 1,
		    SUM(bytes_out[sd]));
	}

	pt_head(b, "mxshield_hijack_disabled_identities", "gauge",
	    "Identities hijack detection has disabled (until unblocked).");
	pt_u64(b, "mxshield_hijack_disabled_identities", NULL, 0,
	    hijack_disabled());
	render_hijack_store(b);
	pt_head(b, "mxshield_reloads_total", "counter",
	    "Configuration reloads, by result.");
	l[0].name = "result";
	l[0].value = "success";
	pt_u64(b, "mxshield_reloads_total", l, 1,
	    atomic_load(&mx.reloads[1]));
	l[0].value = "failure";
	pt_u64(b, "mxshield_reloads_total", l, 1,
	    atomic_load(&mx.reloads[0]));
}

char *
metrics_render(struct server *srv, size_t *len)
{
	size_t cap = 64 * 1024;

	for (;;) {
		struct ptbuf b;
		char *p = malloc(cap);

		if (p == NULL)
			return NULL;
		pt_init(&b, p, cap);
		render(&b, srv);
		if (!b.full) {
			*len = b.len;
			return p;
		}
		free(p);
		if (cap > 64 * 1024 * 1024)
			return NULL;
		cap *= 2;
	}
}
