/*
 * proxy/metrics_http.c - the HTTP endpoint of metrics = { ... }:
 * libmicrohttpd serves it from a thread of its own (epoll or poll, so a
 * process with many file descriptors is fine), GET and HEAD only,
 * /metrics (proxy/metrics.c) and /healthz, 404 for any other path;
 * connections are bounded in number, per client address and in time.
 * /healthz also owns the backend probe: a TCP connect from the main
 * loop when no connection to the backend succeeded for half of
 * metrics.health_backend_window, so that an idle mxshield stays
 * healthy and a dead backend is noticed without traffic.
 * Input: HTTP requests, untrusted (parsed by libmicrohttpd; only the
 * method and the path are looked at).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <uv.h>

#include "proxy/log.h"
#include "proxy/gen.h"
#include "proxy/metrics.h"
#include "proxy/server.h"

#define HTTP_CONNECTIONS	32	/* at once */
#define HTTP_PER_IP		8
#define HTTP_TIMEOUT		10	/* seconds of silence */

static struct {
	struct MHD_Daemon *d;
	struct server	*srv;
	uv_timer_t	 tick;		/* main loop: is a probe due? */
	uv_timer_t	 deadline;	/* the probe's connect timeout */
	uv_tcp_t	*probe;		/* owned until its close callback */
	int		 on;
	pthread_mutex_t	 lock;
	char		 why[200];	/* the last probe failure, under lock */
} mh = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int64_t
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec;
}

/* ------------------------------------------------------------ probe */

static void
on_probe_closed(uv_handle_t *h)
{
	free(h);
}

static void
probe_end(const char *why)
{
	if (why != NULL) {
		pthread_mutex_lock(&mh.lock);
		snprintf(mh.why, sizeof(mh.why), "%s", why);
		pthread_mutex_unlock(&mh.lock);
	}
	uv_timer_stop(&mh.deadline);
	if (mh.probe != NULL) {
		uv_close((uv_handle_t *)mh.probe, on_probe_closed);
		mh.probe = NULL;
	}
}

static void
on_probe_connect(uv_connect_t *req, int status)
{
	char why[200];

	free(req);
	if (status == UV_ECANCELED)
		return;
	if (status < 0) {
		snprintf(why, sizeof(why), "cannot connect to the backend "
		    "%s:%d: %s", mh.srv->gen->cfg->backend.address,
		    mh.srv->gen->cfg->backend.port, uv_strerror(status));
		probe_end(why);
		return;
	}
	metrics_backend_ok();
	probe_end(NULL);
}

static void
on_probe_timeout(uv_timer_t *t)
{
	char why[200];

	(void)t;
	snprintf(why, sizeof(why), "no connection to the backend %s:%d "
	    "within backend.connect_timeout", mh.srv->gen->cfg->backend.address,
	    mh.srv->gen->cfg->backend.port);
	probe_end(why);
}

/*
 * on_tick - a probe when the last success is older than half the
 * window (sessions count too), one at a time: a TCP connection that is
 * closed at once, without a byte (the backend may log it).
 */
static void
on_tick(uv_timer_t *t)
{
	/* the main loop's: the configuration in force (reload swaps it on
	 * this loop); the window is the start's, as /healthz reads it */
	const struct config *cfg = mh.srv->gen->cfg;
	int64_t last = metrics_backend_last_ok();
	uv_connect_t *req;

	if (mh.probe != NULL || atomic_load(&mh.srv->stopping))
		return;
	if (last != 0 && mono_s() - last <
	    (mh.srv->cfg->metrics.health_backend_window + 1) / 2)
		return;
	mh.probe = malloc(sizeof(*mh.probe));
	req = malloc(sizeof(*req));
	if (mh.probe == NULL || req == NULL) {
		free(mh.probe);
		free(req);
		mh.probe = NULL;
		return;
	}
	uv_tcp_init(t->loop, mh.probe);
	if (uv_tcp_connect(req, mh.probe, (const struct sockaddr *)
	    &mh.srv->gen->backend_sa, on_probe_connect) < 0) {
		free(req);
		probe_end("cannot connect to the backend");
		return;
	}
	uv_timer_start(&mh.deadline, on_probe_timeout,
	    (uint64_t)cfg->backend.connect_timeout * 1000, 0);
}

/* ------------------------------------------------------------ HTTP */

static enum MHD_Result
reply(struct MHD_Connection *c, unsigned status, const char *type,
    char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result rc;

	r = MHD_create_response_from_buffer(len, body, mode);
	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result
text(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return reply(c, status, "text/plain; charset=utf-8", (char *)msg,
	    strlen(msg), MHD_RESPMEM_MUST_COPY);
}

/* /healthz: 200 "ok", or 503 with the reason on one line. */
static enum MHD_Result
healthz(struct MHD_Connection *c)
{
	const struct config *cfg = mh.srv->cfg;
	int64_t last = metrics_backend_last_ok(), age = mono_s() - last;
	char msg[400], why[200];

	if (atomic_load(&mh.srv->stopping))
		return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "draining\n");
	if (last != 0 && age <= cfg->metrics.health_backend_window)
		return text(c, MHD_HTTP_OK, "ok\n");
	pthread_mutex_lock(&mh.lock);
	snprintf(why, sizeof(why), "%s", mh.why[0] ? mh.why : "not checked "
	    "yet");
	pthread_mutex_unlock(&mh.lock);
	if (last == 0)
		snprintf(msg, sizeof(msg), "backend unreachable: %s (no "
		    "success since the start)\n", why);
	else
		snprintf(msg, sizeof(msg), "backend unreachable: %s (last "
		    "success %lld s ago, metrics.health_backend_window %d)\n",
		    why, (long long)age, cfg->metrics.health_backend_window);
	return text(c, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_len, void **con_cls)
{
	char *body;
	size_t len;

	(void)cls;
	(void)version;
	(void)upload;
	(void)con_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
	    strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
		    "only GET and HEAD\n");
	if (*upload_len != 0) {
		*upload_len = 0;	/* a body on a GET: ignored */
		return MHD_YES;
	}
	if (strcmp(url, "/healthz") == 0)
		return healthz(c);
	if (strcmp(url, "/metrics") != 0)
		return text(c, MHD_HTTP_NOT_FOUND,
		    "not found: /metrics and /healthz are served here\n");
	if ((body = metrics_render(mh.srv, &len)) == NULL)
		return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "out of memory\n");
	return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; "
	    "charset=utf-8", body, len, MHD_RESPMEM_MUST_FREE);
}

int
metrics_http_start(struct server *srv, void *loop)
{
	const struct config *cfg = srv->cfg;
	struct sockaddr_storage ss;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD;
	char port[16];

	if (!cfg->metrics.enabled)
		return 0;
	memset(&ss, 0, sizeof(ss));
	snprintf(port, sizeof(port), "%d", cfg->metrics.port);
	if (uv_ip4_addr(cfg->metrics.address, cfg->metrics.port,
	    (struct sockaddr_in *)&ss) != 0) {
		if (uv_ip6_addr(cfg->metrics.address, cfg->metrics.port,
		    (struct sockaddr_in6 *)&ss) != 0) {
			log_msg(CFG_LOG_ERROR, "error", "metrics.address %s: "
			    "not an IP address", cfg->metrics.address);
			return -1;
		}
		flags |= MHD_USE_IPv6;
	}
	mh.srv = srv;
	errno = 0;
	mh.d = MHD_start_daemon(flags, (uint16_t)cfg->metrics.port, NULL,
	    NULL, on_request, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)HTTP_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT,
	    MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1,
	    MHD_OPTION_END);
	if (mh.d == NULL) {
		log_msg(CFG_LOG_ERROR, "error", "metrics %s:%s: cannot serve "
		    "HTTP%s%s", cfg->metrics.address, port, errno ? ": " : "",
		    errno ? strerror(errno) : "");
		return -1;
	}
	uv_timer_init(loop, &mh.tick);
	uv_timer_init(loop, &mh.deadline);
	uv_unref((uv_handle_t *)&mh.tick);
	uv_unref((uv_handle_t *)&mh.deadline);
	/* the first probe now: /healthz is 503 until the backend answered */
	uv_timer_start(&mh.tick, on_tick, 0, (uint64_t)(cfg->metrics.
	    health_backend_window >= 8 ? cfg->metrics.health_backend_window / 4 :
	    1) * 1000);
	mh.on = 1;
	log_msg(CFG_LOG_INFO, "metrics", "serving /metrics and /healthz on "
	    "%s:%d", cfg->metrics.address, cfg->metrics.port);
	return 0;
}

void
metrics_http_stop(void)
{
	if (!mh.on)
		return;
	MHD_stop_daemon(mh.d);
	mh.d = NULL;
	probe_end(NULL);
	uv_close((uv_handle_t *)&mh.tick, NULL);
	uv_close((uv_handle_t *)&mh.deadline, NULL);
	mh.on = 0;
}
