/*
 * proxy/accept.c - a session's life: accepting the client (and its
 * PROXY header on a proxy_protocol listener), admission against the
 * connection limits, the first backend leg, the client side's
 * callbacks and its clock, the one exit (sess_close) and freeing,
 * drain and shutdown. Input: the PROXY header, untrusted (core/proxyproto).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proxyproto.h"
#include "proxy/accept.h"
#include "proxy/data.h"
#include "proxy/dnschk.h"
#include "proxy/gen.h"
#include "proxy/hjstore.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/mailspf.h"
#include "proxy/pol.h"
#include "proxy/server.h"
#include "proxy/session.h"
#include "proxy/sysres.h"
#include "proxy/txn.h"

/* ------------------------------------------------------------ client */

static void
on_client_data(void *arg, const char *p, size_t n)
{
	struct session *s = arg;

	s->bytes_in += (uint64_t)n;
	if (sess_client_data(s, p, n) < 0)
		sess_close(s, "out of memory");
}

static void
on_client_eof(void *arg, const char *why)
{
	struct session *s = arg;

	if (strstr(why, "TLS handshake failed") != NULL)
		log_sid_client(CFG_LOG_INFO, "tls", s->id, s->ip, "%s", why);
	sess_close(s, strstr(why, "TLS handshake failed") != NULL ?
	    "client TLS handshake failed" : why);
}

static void
on_client_tls_ready(void *arg)
{
	struct session *s = arg;

	snprintf(s->tls_info, sizeof(s->tls_info), "%s %s",
	    tls_version(s->client.tls), tls_cipher(s->client.tls));
	s->pc.tls = true;
	metrics_tls(s->w->mx, MX_CLIENT, tls_version(s->client.tls),
	    tls_cipher(s->client.tls));
	log_sid_client(CFG_LOG_DEBUG, "tls", s->id, s->ip, "%s", s->tls_info);
	sess_set_timer(s);
	sess_flush(s);
}

static void
on_client_drained(void *arg)
{
	struct session *s = arg;

	if (s->phase == PH_HANGUP && s->client.queued == 0) {
		sess_close(s, s->close_why[0] ? s->close_why : "quit");
		return;
	}
	if (s->client.queued > 0)
		sess_set_timer(s);	/* the write made progress */
	sess_update_reading(s);
}

static int
on_client_can_read(void *arg)
{
	return sess_input_allowed(arg);
}

static void sess_maybe_free(struct session *s);

static void
on_client_closed(void *arg)
{
	struct session *s = arg;

	s->flags |= SF_CLIENT_GONE;
	sess_maybe_free(s);
}

static const struct side_ops client_ops = {
	.data = on_client_data,
	.eof = on_client_eof,
	.tls_ready = on_client_tls_ready,
	.drained = on_client_drained,
	.can_read = on_client_can_read,
	.closed = on_client_closed,
};

/* ------------------------------------------------------------ timers */

static void
on_client_timer(uv_timer_t *t)
{
	struct session *s = ((struct side *)t->data)->owner;

	if (!side_clock_due(t->data) || s->phase == PH_CLOSED)
		return;
	if (s->phase == PH_PROXY) {
		log_sid_client(CFG_LOG_INFO, "proxy", s->id, s->ip, "no PROXY "
		    "header within limits.proxy_timeout");
		sess_close(s, "no PROXY header");
		return;
	}
	if (s->client.tls != NULL && !s->client.tls_ready) {
		/* no reply can reach a client that never finished its
		 * handshake */
		log_sid_client(CFG_LOG_INFO, "timeout", s->id, s->ip, "TLS "
		    "handshake not complete after tls.handshake_timeout");
		sess_close(s, "TLS handshake timeout");
		return;
	}
	if (s->client.queued > 0) {
		/* it does not read what it is sent: nothing more can reach
		 * it, both legs close now */
		log_sid_client(CFG_LOG_INFO, "timeout", s->id, s->ip,
		    "client does not read its replies (%zu bytes unsent "
		    "after limits.command_timeout)", s->client.queued);
		sess_close(s, "client write timeout");
		return;
	}
	log_sid_client(CFG_LOG_INFO, "timeout", s->id, s->ip, "client "
	    "timeout in %s",
	    s->phase >= PH_DATA_HOLD && s->phase <= PH_DATA_DISCARD ?
	    "DATA" : "command phase");
	if (s->phase == PH_DATA_BODY && s->backend != NULL) {
		/* no final dot: the backend discards the partial message */
		backend_close(s->backend);
		s->backend = NULL;
	}
	sess_txn_abort(s, "client timeout");
	/* no reply is owed any more: the client gets only the 421 */
	sess_cut_after(s, NULL, "client timeout");
	sess_queue_close(s, "421 4.4.2 Error: timeout exceeded", "client timeout");
	sess_flush(s);
}

/*
 * sess_set_timer - (re)start the client's clock: command_timeout in
 * command phases and while replies wait to be written, data_timeout in
 * DATA. Called on each complete command line, on each DATA read that
 * completed a line, after replies, and when a write made progress.
 */
void
sess_set_timer(struct session *s)
{
	int secs;

	if (s->phase == PH_CLOSED || s->client.closing)
		return;
	if (s->phase == PH_PROXY)
		secs = s->cfg->limits.proxy_timeout;
	else if (s->client.tls != NULL && !s->client.tls_ready)
		secs = s->cfg->tls.handshake_timeout;
	else if (s->phase >= PH_DATA_HOLD && s->phase <= PH_DATA_DISCARD)
		secs = s->cfg->limits.data_timeout;
	else
		secs = s->cfg->limits.command_timeout;
	side_clock_set(&s->client, (uint64_t)secs * 1000, on_client_timer);
}

/* ------------------------------------------------------------ life */

static void admit_and_connect(struct session *s);

static void
sockaddr_to(const struct sockaddr_storage *ss, struct net_addr *a, int *port)
{
	memset(a, 0, sizeof(*a));
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		a->family = AF_INET;
		memcpy(a->addr, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)ss;

		a->family = AF_INET6;
		memcpy(a->addr, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
	}
}

static int
in_nets(const struct cfg_netlist *l, const struct net_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (net_match(&l->v[i], a))
			return 1;
	return 0;
}

/*
 * refuse_accept - no memory for a session: the connection is still
 * accepted and closed at once, since a listener whose connection is
 * never accepted is not polled again by libuv.
 */
static void
on_refused_close(uv_handle_t *h)
{
	free(h);
}

static void
refuse_accept(struct worker *w, uv_stream_t *server)
{
	uv_tcp_t *t = malloc(sizeof(*t));

	log_msg(CFG_LOG_ERROR, "accept", "out of memory: connection refused");
	if (t == NULL)
		return;
	uv_tcp_init(&w->loop, t);
	(void)uv_accept(server, (uv_stream_t *)t);
	uv_close((uv_handle_t *)t, on_refused_close);
}

void
sess_start(struct worker *w, uv_stream_t *server, int listener)
{
	struct session *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	int sl = sizeof(ss);

	if (s == NULL) {
		refuse_accept(w, server);
		return;
	}
	s->w = w;
	s->gen = gen_ref(w->gen);
	s->cfg = s->gen->cfg;
	s->listener = &s->cfg->listen[listener];
	s->id = srv_next_sid(w->srv);
	s->start_ms = mxs_now_ms();
	s->phase = PH_CONNECT;
	s->mx_listener = -1;
	side_init(&s->client, &w->io, "client", &client_ops, s);
	s->wnext = w->sessions;
	if (w->sessions != NULL)
		w->sessions->wprev = s;
	w->sessions = s;
	w->nsessions++;
	if (uv_accept(server, (uv_stream_t *)&s->client.tcp) != 0) {
		sess_close(s, "accept failed");
		return;
	}
	s->client.connected = 1;
	s->mx_listener = metrics_listener_find(s->listener->address,
	    s->listener->port);
	metrics_session_open(w->mx, s->mx_listener);
	uv_tcp_nodelay(&s->client.tcp, 1);
	if (uv_tcp_getpeername(&s->client.tcp, (struct sockaddr *)&ss,
	    &sl) == 0) {
		sockaddr_to(&ss, &s->addr, &s->port);
		net_addr_format(&s->addr, s->ip, sizeof(s->ip));
	} else {
		snprintf(s->ip, sizeof(s->ip), "unknown");
	}
	/* where the client connected to: only a PROXY header to the
	 * backend says it (one system call less per session otherwise) */
	sl = sizeof(ss);
	if (s->cfg->backend.client_info == CFG_CI_PROXY &&
	    uv_tcp_getsockname(&s->client.tcp, (struct sockaddr *)&ss,
	    &sl) == 0)
		sockaddr_to(&ss, &s->local, &s->local_port);

	if (s->listener->proxy_protocol) {
		/* the client is who the PROXY header says, and only a
		 * trusted proxy may say it; nothing else happens first */
		if (!in_nets(&s->cfg->trusted_proxies, &s->addr)) {
			log_sid_client(CFG_LOG_WARN, "proxy", s->id, s->ip,
			    "not in trusted_proxies, closed");
			sess_close(s, "PROXY peer not in trusted_proxies");
			return;
		}
		sess_enter(s, PH_PROXY);
		sess_set_timer(s);
		side_start_read(&s->client);
		return;
	}
	admit_and_connect(s);
}

/*
 * sess_proxy_input - the PROXY v1/v2 header of a proxy_protocol listener.
 * Returns its length once complete (the client's address is then the
 * one it carries, v1 UNKNOWN and v2 LOCAL keep the socket's), 0 while
 * more is needed; a malformed header closes the connection without any
 * SMTP reply, as the PROXY protocol asks.
 */
size_t
sess_proxy_input(struct session *s, const char *p, size_t n)
{
	struct pp_result r;
	int rc = pp_parse(p, n, &r);

	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_sid_client(CFG_LOG_WARN, "proxy", s->id, s->ip, "bad PROXY "
		    "header (%s: %s), closed",
		    pp_rc_name(rc), r.why ? r.why : "?");
		sess_close(s, "bad PROXY header");
		return 0;
	}
	if (!r.unknown) {
		s->addr = r.src;
		s->port = r.sport;
		s->local = r.dst;
		s->local_port = r.dport;
		net_addr_format(&s->addr, s->ip, sizeof(s->ip));
	}
	sess_enter(s, PH_CONNECT);
	side_clock_stop(&s->client);
	admit_and_connect(s);
	return (size_t)rc;
}

/*
 * So few descriptors are left that the backend socket could not be
 * opened (proxy/sysres.h): say so to the client with 421 4.3.2 and the
 * truth in the log, rather than a backend that is not down. 1: closed.
 */
static int
fd_exhausted(struct session *s)
{
	static const char full[] =
	    "421 4.3.2 System resources exhausted, try again later\r\n";
	uv_buf_t b = uv_buf_init((char *)full, sizeof(full) - 1);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&s->client.tcp, &fd) != 0 ||
	    !sysres_fd_low(fd))
		return 0;
	log_sid_client(CFG_LOG_ERROR, "limit", s->id, s->ip, "too many open "
	    "files: descriptor %d of RLIMIT_NOFILE %ld leaves none for the "
	    "backend; 421 4.3.2 (raise the limit or lower "
	    "limits.max_connections)", fd, sysres_fd_limit());
	uv_try_write((uv_stream_t *)&s->client.tcp, &b, 1);
	sess_close(s, "too many open files (RLIMIT_NOFILE)");
	return 1;
}

/* The client is known: limits, then the backend (and implicit TLS). */
static void
admit_and_connect(struct session *s)
{
	struct worker *w = s->w;
	enum admit_rc ar;

	pol_client_init(&s->pc, s->gen->pol, &s->addr, s->ip, s->listener);
	ar = srv_admit(w->srv, &s->addr);
	if (ar != ADMIT_OK) {
		static const char busy[] =
		    "421 4.7.0 Too many connections, try again later\r\n";
		uv_buf_t b = uv_buf_init((char *)busy, sizeof(busy) - 1);

		uv_try_write((uv_stream_t *)&s->client.tcp, &b, 1);
		sess_close(s, ar == ADMIT_TOTAL ? "limits.max_connections" :
		    "limits.max_per_ip");
		return;
	}
	s->limit_slot = 1;
	if (fd_exhausted(s))
		return;
	if (w->draining) {
		static const char bye[] = "421 4.3.2 Service shutting down\r\n";
		uv_buf_t b = uv_buf_init((char *)bye, sizeof(bye) - 1);

		uv_try_write((uv_stream_t *)&s->client.tcp, &b, 1);
		sess_close(s, "shutdown");
		return;
	}
	if (s->listener->tls == CFG_TLS_IMPLICIT) {
		/* TLS from the first byte (RFC 8314): the backend's greeting
		 * waits for the handshake */
		if (side_start_tls(&s->client, s->gen->tls_server, 0) < 0) {
			sess_close(s, "out of memory");
			return;
		}
		sess_set_timer(s);
		side_start_read(&s->client);
	} else {
		sess_set_timer(s);
		/* a client that talks before the greeting is refused */
		if (s->cfg->limits.forbid_unauth_pipelining)
			side_start_read(&s->client);
	}
	s->bc.sid = s->id;
	s->bc.ip = s->ip;
	s->bc.addr = s->addr;
	s->bc.port = s->port;
	s->bc.local = s->local;
	s->bc.local_port = s->local_port;
	/* the DNS checks' lookups run while the greeting comes */
	dnschk_start(s);
	/* the greeting is the first reply the client is owed */
	if (sess_push(s, PK_RELAY, CMD_UNKNOWN) == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	sess_backend_open(s);
}

/*
 * sess_close - the one exit: logs the session, aborts an unfinished
 * transaction, closes both legs (a backend mid-DATA never gets the
 * final dot), frees in the close callbacks. Safe to call twice.
 */
void
sess_close(struct session *s, const char *reason)
{
	struct worker *w = s->w;

	if (s->phase == PH_CLOSED)
		return;
	if (reason == NULL)
		reason = "closed";
	sess_txn_abort(s, reason);
	sess_cut_after(s, NULL, reason);
	dnschk_stop(s);
	mailspf_stop(s);
	hjstore_stop(s);
	log_sid(CFG_LOG_DEBUG, "session", s->id, "%s -> closed",
	    sess_phase_name(s->phase));
	s->phase = PH_CLOSED;
	metrics_session_close(w->mx, s->mx_listener);
	sess_log_closed(s, reason);
	data_hold_free(s);
	if (s->limit_slot) {
		srv_release(w->srv, &s->addr);
		s->limit_slot = 0;
	}
	side_close(&s->client);
	if (s->backend != NULL) {
		backend_close(s->backend);
		s->backend = NULL;
	}
}

/* Free the session once it is closed and its client side's handles
 * are closed (the backend leg frees itself). */
static void
sess_maybe_free(struct session *s)
{
	struct worker *w = s->w;

	if (s->phase != PH_CLOSED || !(s->flags & SF_CLIENT_GONE))
		return;
	if (s->wprev != NULL)
		s->wprev->wnext = s->wnext;
	else
		w->sessions = s->wnext;
	if (s->wnext != NULL)
		s->wnext->wprev = s->wprev;
	w->nsessions--;
	sess_txn_reset(s);
	free(s->helo);
	free(s->helo_line);
	free(s->auth_id);
	free(s->auth_cand);
	gen_unref(s->gen);
	s->gen = NULL;
	free(s);
	worker_check_done(w);
}

/* sess_drain - shutting down: idle sessions go now, busy ones after
 * their transaction. */
void
sess_drain(struct session *s)
{
	if (s->phase == PH_CLOSED)
		return;
	s->flags |= SF_DRAIN;
	if (s->phase == PH_CONNECT) {
		sess_close(s, "shutdown");
		return;
	}
	if (s->qhead == NULL && s->phase == PH_COMMAND && !s->txn.active) {
		sess_hang_up(s, "421 4.3.2 Service shutting down", "shutdown");
		sess_flush(s);
	}
}

/*
 * sess_shutdown_now - shutdown_timeout passed: tell the client why with
 * a best-effort 421 (a message in flight is not acknowledged, so the
 * client retries it) and close; the backend never gets a final dot.
 */
void
sess_shutdown_now(struct session *s)
{
	static const char bye[] = "421 4.3.2 Service shutting down, "
	    "try again later\r\n";
	uv_buf_t b = uv_buf_init((char *)bye, sizeof(bye) - 1);

	if (s->phase == PH_CLOSED)
		return;
	if (s->client.connected && s->client.queued == 0 &&
	    s->phase != PH_CONNECT && s->phase != PH_HANGUP)
		uv_try_write((uv_stream_t *)&s->client.tcp, &b, 1);
	sess_close(s, "shutdown timeout");
}
