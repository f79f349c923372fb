/*
 * proxy/backend.c - the backend leg: connecting (421 4.4.1 when it
 * cannot be reached), reading and validating its replies (RFC 5321
 * 4.2: codes 200-599, consistent multi-line replies, bounded, no
 * control characters; anything else ends the session with 421 4.4.2,
 * never relayed), matching each reply to the oldest command waiting for
 * one, the reply timeouts, and replacing the leg after a mid-DATA abort.
 */
#include <stdlib.h>
#include <string.h>

#include "core/proxyproto.h"
#include "core/smtp_reply.h"
#include "core/xtext.h"
#include "proxy/log.h"
#include "proxy/server.h"
#include "proxy/session.h"

static const char lost_text[] = "421 4.4.2 Backend connection lost, try again later";
static const char down_text[] = "421 4.4.1 Backend unavailable, try again later";
static const char slow_text[] = "421 4.4.2 Backend timeout, try again later";

struct bconnect {
	uv_connect_t	 req;
	struct side	*d;
};

static void lost(struct session *s, const char *reply, const char *reason);

/* The oldest entry that waits for a reply from the backend. */
static struct pending *
awaiting(struct session *s)
{
	for (struct pending *p = s->qhead; p != NULL; p = p->next) {
		if (p->done || p->held || p->unsent)
			continue;
		if (p->kind == PK_RELAY || p->kind == PK_INTERNAL ||
		    p->kind == PK_FINAL)
			return p;
	}
	return NULL;
}

static void
on_backend_timer(uv_timer_t *t)
{
	struct side *d = t->data;
	struct session *s = d->s;
	struct pending *p;

	if (s == NULL || s->phase == PH_CLOSED || s->backend != d)
		return;
	p = awaiting(s);
	if (d->tls != NULL && !d->tls_ready)
		lost(s, p != NULL && p->ic == IC_GREETING ? down_text :
		    slow_text, "backend TLS handshake timeout");
	else if (p != NULL && p->ic == IC_GREETING && !p->done)
		lost(s, down_text, "backend greeting timeout "
		    "(backend.connect_timeout)");
	else
		lost(s, slow_text, p != NULL && p->kind == PK_FINAL ?
		    "backend reply timeout after the final dot "
		    "(backend.data_reply_timeout)" :
		    "backend reply timeout (backend.reply_timeout)");
}

/*
 * backend_arm - run the backend's clock while a reply is owed: the
 * greeting within connect_timeout, a reply within reply_timeout, the
 * reply to the final dot within data_reply_timeout. restart resets it.
 */
static void
backend_arm(struct session *s, int restart)
{
	struct side *d = s->backend;
	struct pending *p;
	int secs;

	if (d == NULL || d->closing)
		return;
	p = awaiting(s);
	if (p == NULL && d->tls != NULL && !d->tls_ready) {
		/* our STARTTLS was answered: the handshake has its own
		 * bound */
		if (restart || !uv_is_active((uv_handle_t *)&d->timer))
			uv_timer_start(&d->timer, on_backend_timer,
			    (uint64_t)s->cfg->tls.handshake_timeout * 1000, 0);
		return;
	}
	if (p == NULL) {
		uv_timer_stop(&d->timer);
		return;
	}
	if (!restart && uv_is_active((uv_handle_t *)&d->timer))
		return;
	if (p->ic == IC_GREETING)
		secs = s->cfg->backend.connect_timeout;
	else if (p->kind == PK_FINAL)
		secs = s->cfg->backend.data_reply_timeout;
	else
		secs = s->cfg->backend.reply_timeout;
	uv_timer_start(&d->timer, on_backend_timer, (uint64_t)secs * 1000, 0);
}

/*
 * backend_send - queue bytes for the backend (sent with the batch) and
 * make sure the reply clock runs. n == 0 only arms the clock.
 */
void
backend_send(struct session *s, const char *p, size_t n)
{
	if (s->backend == NULL || s->backend->closing)
		return;
	if (n > 0)
		scratch_put(s->w, s->backend, p, n);
	backend_arm(s, 0);
}

static void
on_connect(uv_connect_t *req, int status)
{
	struct bconnect *bc = (struct bconnect *)req;
	struct side *d = bc->d;
	struct session *s = d->s;

	free(bc);
	if (d->closing || s == NULL || s->phase == PH_CLOSED)
		return;
	if (status < 0) {
		log_msg(CFG_LOG_WARN, "backend", "sid=%016llx: cannot connect "
		    "to backend %s:%d: %s", (unsigned long long)s->id,
		    s->cfg->backend.address, s->cfg->backend.port,
		    uv_strerror(status));
		lost(s, down_text, "backend unreachable");
		return;
	}
	d->connected = 1;
	uv_tcp_nodelay(&d->tcp, 1);
	if (s->cfg->backend.client_info == CFG_CI_PROXY) {
		/* the backend learns the real client first, before TLS */
		char hdr[PP_BUILD_MAX + 300];
		size_t n = s->cfg->backend.proxy_protocol_version == 2 ?
		    pp_build_v2(hdr, sizeof(hdr), &s->addr, s->port, &s->local,
		    s->local_port) : pp_build_v1(hdr, sizeof(hdr), &s->addr,
		    s->port, &s->local, s->local_port);

		if (n == 0 || side_write(d, hdr, n) < 0) {
			lost(s, down_text, "cannot send the PROXY header");
			return;
		}
	}
	if (s->cfg->backend.tls == CFG_TLS_IMPLICIT &&
	    side_start_tls(d, s->w->srv->tls_client) < 0) {
		lost(s, down_text, "backend TLS could not start");
		return;
	}
	side_start_read(d);
}

/*
 * backend_connect - open a backend leg. The first one's greeting is
 * relayed to the client; a replacement's (reconnect) is swallowed and
 * the client's HELO/EHLO replayed. Returns 0, or -1 when the session
 * was ended (421 4.4.1 queued).
 */
int
backend_connect(struct session *s, int reconnect)
{
	struct side *d = malloc(sizeof(*d));
	struct bconnect *bc = malloc(sizeof(*bc));
	struct pending *p;
	int r;

	if (d == NULL || bc == NULL) {
		free(d);
		free(bc);
		sess_close(s, "out of memory");
		return -1;
	}
	side_init(s, d, 1);
	s->backend = d;
	s->xclient_done = 0;
	bc->d = d;
	p = sess_push(s, reconnect ? PK_INTERNAL : PK_RELAY, CMD_UNKNOWN);
	if (p == NULL) {
		free(bc);
		sess_close(s, "out of memory");
		return -1;
	}
	p->ic = IC_GREETING;
	if (reconnect)
		s->reconnecting = 1;
	r = uv_tcp_connect(&bc->req, &d->tcp,
	    (const struct sockaddr *)&s->w->srv->backend_sa, on_connect);
	if (r < 0) {
		free(bc);
		log_msg(CFG_LOG_WARN, "backend", "sid=%016llx: cannot connect "
		    "to backend: %s", (unsigned long long)s->id,
		    uv_strerror(r));
		lost(s, down_text, "backend unreachable");
		return -1;
	}
	backend_arm(s, 1);
	return 0;
}

/* Append one validated line (without CRLF) to the reply being built. */
static int
rep_add(struct side *d, const char *p, size_t n)
{
	char *nb;

	if (d->rep_len + n + 2 > MAX_REPLY)
		return -1;
	nb = realloc(d->rep, d->rep_len + n + 2);
	if (nb == NULL)
		return -1;
	d->rep = nb;
	memcpy(d->rep + d->rep_len, p, n);
	memcpy(d->rep + d->rep_len + n, "\r\n", 2);
	d->rep_len += n + 2;
	return 0;
}

/*
 * backend_on_read - bytes from the backend: split into reply lines,
 * validate, join multi-line replies, hand each complete reply to the
 * session. A malformed or unsolicited reply ends the session (421).
 */
void
backend_on_read(struct session *s, const char *buf, size_t n)
{
	struct side *d = s->backend;
	size_t off = 0;

	if (side_append_in(d, buf, n, MAX_REPLY_LINE + RBUF_SIZE) < 0) {
		lost(s, lost_text, "backend reply too long");
		return;
	}
	while (off < d->in_len) {
		const char *line = d->in + off;
		const char *lf = memchr(line, '\n', d->in_len - off);
		struct reply_line rl;
		struct pending *p;
		size_t len;

		if (lf == NULL) {
			if (d->in_len - off > MAX_REPLY_LINE) {
				lost(s, lost_text, "backend reply line too long");
				return;
			}
			break;
		}
		len = (size_t)(lf - line);
		off += len + 1;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len > MAX_REPLY_LINE ||
		    reply_parse_line(line, len, &rl) != REPLY_OK ||
		    (d->rep_lines > 0 && rl.code != d->rep_code) ||
		    rep_add(d, line, len) < 0) {
			lost(s, lost_text, "malformed reply from backend");
			return;
		}
		d->rep_code = rl.code;
		d->rep_lines++;
		if (!rl.last)
			continue;
		p = awaiting(s);
		if (p == NULL) {
			lost(s, lost_text, rl.code == 421 ?
			    "backend closing (unsolicited 421)" :
			    "unsolicited reply from backend");
			return;
		}
		{
			char *rep = d->rep;
			size_t rlen = d->rep_len;
			struct tls *before = d->tls;

			d->rep = NULL;
			d->rep_len = 0;
			d->rep_lines = 0;
			sess_on_reply(s, p, rl.code, rep, rlen);
			free(rep);
			if (s->phase == PH_CLOSED || s->backend != d)
				return;
			if (d->tls != before) {
				/* TLS starts after the backend's 220: what it
				 * sent after that line in plaintext is dropped
				 * (response injection) */
				if (off < d->in_len)
					log_msg(CFG_LOG_WARN, "tls", "sid=%016llx:"
					    " %zu bytes after the backend's 220 "
					    "to STARTTLS discarded",
					    (unsigned long long)s->id,
					    d->in_len - off);
				off = d->in_len;
				break;
			}
		}
	}
	if (s->phase == PH_CLOSED || s->backend != d)
		return;
	side_consume_in(d, off);
	backend_arm(s, 1);
}

/*
 * lost - the backend leg failed: every reply still owed to the client
 * becomes reply (421 4.4.1 before the greeting, 421 4.4.2 after), then
 * the session closes. A message in flight is never acknowledged.
 */
static void
lost(struct session *s, const char *reply, const char *reason)
{
	if (s->phase == PH_CLOSED)
		return;
	log_msg(CFG_LOG_WARN, "backend", "sid=%016llx client=%s: %s",
	    (unsigned long long)s->id, s->ip, reason);
	s->close_reason = reason;
	if (s->backend != NULL)
		side_close(s->backend);
	/* nothing more is read from the client: it gets the 421 and the
	 * connection closes */
	s->phase = PH_QUIT;
	sess_fail_all(s, reply);
}

void
backend_lost(struct session *s, const char *reason)
{
	lost(s, s->phase == PH_CONNECT ? down_text : lost_text, reason);
}

/* backend_broken - the backend answered but cannot be used (a TLS
 * handshake or certificate verification failed): 421 4.4.2. */
void
backend_broken(struct session *s, const char *reason)
{
	lost(s, lost_text, reason);
}

/*
 * backend_abort - drop the backend leg in the middle of DATA without a
 * final dot, so the backend discards the partial message (DESIGN.md
 * "Rejecting in the middle of the body"), and open a fresh one unless
 * the session authenticated (it cannot be replayed).
 */
void
backend_abort(struct session *s, const char *reason)
{
	struct side *d = s->backend;
	struct worker *w = s->w;

	if (d == NULL)
		return;
	log_msg(CFG_LOG_INFO, "backend", "sid=%016llx client=%s: dropping "
	    "backend leg mid-DATA: %s", (unsigned long long)s->id, s->ip,
	    reason);
	for (struct pending *p = s->qhead; p != NULL; p = p->next)
		if (p->kind == PK_INTERNAL && !p->done)
			p->done = 1;
	if (w->scratch_to == d) {
		w->scratch_to = NULL;
		w->scratch_len = 0;
	}
	s->backend = NULL;
	d->s = NULL;
	side_close(d);
	s->aborted = 1;
	if (s->auth)
		return;
	backend_connect(s, 1);
}

/* ------------------------------------------------------------ TLS */

static int
ehlo_offers_starttls(const char *r, size_t n)
{
	size_t off = 0;

	while (off < n) {
		const char *lf = memchr(r + off, '\n', n - off);
		size_t len = lf ? (size_t)(lf - (r + off)) : n - off;

		if (len >= 12 && strncasecmp(r + off + 4, "STARTTLS", 8) == 0 &&
		    (len == 12 || r[off + 12] == '\r' || r[off + 12] == ' '))
			return 1;
		off += len + 1;
	}
	return 0;
}

static int
push_internal(struct session *s, enum internal_cmd ic, const char *cmd)
{
	struct pending *p = sess_push(s, PK_INTERNAL, CMD_UNKNOWN);

	if (p == NULL) {
		sess_close(s, "out of memory");
		return -1;
	}
	p->ic = ic;
	backend_send(s, cmd, strlen(cmd));
	return 0;
}

/*
 * backend_after_greeting - a backend greeted us (the first leg, whose
 * greeting p is the client's, or a replacement). With backend.tls =
 * "starttls" the greeting is held while mxshield sends its own EHLO and
 * STARTTLS and completes the handshake; the client then gets the
 * greeting and speaks to the backend inside TLS only. Returns 1 when it
 * took over p, 0 when the caller goes on as usual.
 */
int
backend_after_greeting(struct session *s, struct pending *p, const char *r,
    size_t n)
{
	char ehlo[300];

	if (s->cfg->backend.tls != CFG_TLS_STARTTLS || s->backend == NULL ||
	    s->backend->tls != NULL)
		return 0;
	if (p->kind != PK_INTERNAL) {
		if (n == 0 || r[0] != '2')
			return 0;	/* a refusal is relayed as it is */
		free(p->reply);
		p->reply = malloc(n);
		if (p->reply == NULL) {
			sess_close(s, "out of memory");
			return 1;
		}
		memcpy(p->reply, r, n);
		p->reply_len = n;
		p->code = 220;
		p->held = 1;
	} else {
		p->done = 1;
	}
	snprintf(ehlo, sizeof(ehlo), "EHLO %s\r\n", s->cfg->hostname);
	push_internal(s, IC_TLS_EHLO, ehlo);
	sess_flush(s);
	return 1;
}

/* backend_tls_step - the replies to our EHLO and STARTTLS. */
void
backend_tls_step(struct session *s, struct pending *p, int code,
    const char *r, size_t n)
{
	if (p->ic == IC_TLS_EHLO) {
		if (code != 250 || !ehlo_offers_starttls(r, n)) {
			lost(s, lost_text, "backend does not offer STARTTLS "
			    "(backend.tls = starttls)");
			return;
		}
		push_internal(s, IC_STARTTLS, "STARTTLS\r\n");
		sess_flush(s);
		return;
	}
	if (code != 220) {
		lost(s, lost_text, "backend refused STARTTLS");
		return;
	}
	if (side_start_tls(s->backend, s->w->srv->tls_client) < 0) {
		lost(s, lost_text, "backend TLS could not start");
		return;
	}
	backend_arm(s, 1);
	sess_flush(s);
}

/*
 * backend_tls_ready - the backend's handshake completed (verified when
 * backend.tls_verify). A held greeting goes to the client now; a
 * replacement leg replays the client's EHLO.
 */
void
backend_tls_ready(struct session *s)
{
	log_msg(CFG_LOG_DEBUG, "tls", "sid=%016llx: backend %s %s",
	    (unsigned long long)s->id, tls_version(s->backend->tls),
	    tls_cipher(s->backend->tls));
	for (struct pending *p = s->qhead; p != NULL; p = p->next) {
		if (p->held) {
			p->held = 0;
			p->done = 1;
			if (s->phase == PH_CONNECT)
				s->phase = PH_COMMAND;
		}
	}
	if (s->reconnecting && s->cfg->backend.tls == CFG_TLS_STARTTLS)
		backend_replay_helo(s);
	backend_arm(s, 1);
	sess_flush(s);
}

/* ------------------------------------------------------------ XCLIENT */

/* The attribute names after "XCLIENT" in an EHLO reply, or NULL. */
static const char *
xclient_attrs(const char *r, size_t n, size_t *len)
{
	size_t off = 0;

	while (off < n) {
		const char *lf = memchr(r + off, '\n', n - off);
		size_t l = lf ? (size_t)(lf - (r + off)) : n - off;

		if (l > 0 && r[off + l - 1] == '\r')
			l--;
		if (l >= 11 && strncasecmp(r + off + 4, "XCLIENT", 7) == 0 &&
		    (l == 11 || r[off + 11] == ' ')) {
			*len = l > 12 ? l - 12 : 0;
			return l > 12 ? r + off + 12 : "";
		}
		off += (lf ? (size_t)(lf - (r + off)) : n - off) + 1;
	}
	return NULL;
}

static int
has_attr(const char *a, size_t n, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl <= n; i++)
		if ((i == 0 || a[i - 1] == ' ') && strncasecmp(a + i, name,
		    nl) == 0 && (i + nl == n || a[i + nl] == ' '))
			return 1;
	return 0;
}

/*
 * backend_xclient_start - backend.client_info = "xclient": before the
 * client's first HELO/EHLO reaches this backend leg, mxshield sends its
 * own EHLO, then XCLIENT with the real client (Postfix XCLIENT, values
 * xtext-encoded so that nothing a client sent can start a command).
 * Returns 1 when the dance started (the caller queues the client's HELO
 * unsent), 0 when it is not needed.
 */
int
backend_xclient_start(struct session *s)
{
	char ehlo[300];

	if (s->cfg->backend.client_info != CFG_CI_XCLIENT || s->xclient_done)
		return 0;
	snprintf(ehlo, sizeof(ehlo), "EHLO %s\r\n", s->cfg->hostname);
	push_internal(s, IC_XC_EHLO, ehlo);
	return 1;
}

/* backend_xclient_step - the replies to our EHLO and to XCLIENT. */
void
backend_xclient_step(struct session *s, struct pending *p, int code,
    const char *r, size_t n)
{
	char line[2048], helo[800], val[800];
	const char *attrs;
	size_t alen = 0, w;

	if (p->ic == IC_XC_EHLO) {
		attrs = code == 250 ? xclient_attrs(r, n, &alen) : NULL;
		if (attrs == NULL) {
			log_msg(CFG_LOG_ERROR, "backend", "sid=%016llx: "
			    "backend.client_info = xclient, but the backend "
			    "does not offer XCLIENT to mxshield (Postfix: "
			    "smtpd_authorized_xclient_hosts)",
			    (unsigned long long)s->id);
			lost(s, lost_text, "backend does not offer XCLIENT");
			return;
		}
		w = (size_t)snprintf(line, sizeof(line), "XCLIENT");
		if (has_attr(attrs, alen, "ADDR")) {
			char ip[64];

			net_addr_format(&s->addr, ip, sizeof(ip));
			w += (size_t)snprintf(line + w, sizeof(line) - w,
			    " ADDR=%s%s", s->addr.family == AF_INET6 ? "IPV6:" :
			    "", ip);
		}
		if (has_attr(attrs, alen, "PORT"))
			w += (size_t)snprintf(line + w, sizeof(line) - w,
			    " PORT=%d", s->port);
		if (has_attr(attrs, alen, "NAME"))
			w += (size_t)snprintf(line + w, sizeof(line) - w,
			    " NAME=[UNAVAILABLE]");
		if (has_attr(attrs, alen, "HELO") && s->helo != NULL) {
			size_t hl = strlen(s->helo);

			if (hl > 255)
				hl = 255;
			if (xtext_encode(s->helo, hl, val, sizeof(val)) > 0)
				w += (size_t)snprintf(line + w, sizeof(line) - w,
				    " HELO=%s", val);
		}
		if (has_attr(attrs, alen, "PROTO"))
			w += (size_t)snprintf(line + w, sizeof(line) - w,
			    " PROTO=%s", s->ehlo ? "ESMTP" : "SMTP");
		(void)helo;
		if (w + 2 >= sizeof(line)) {
			lost(s, lost_text, "XCLIENT line too long");
			return;
		}
		memcpy(line + w, "\r\n", 3);
		push_internal(s, IC_XCLIENT, line);
		sess_flush(s);
		return;
	}
	if (code != 220) {
		log_msg(CFG_LOG_ERROR, "backend", "sid=%016llx: the backend "
		    "refused XCLIENT (%d): is mxshield in its "
		    "smtpd_authorized_xclient_hosts?", (unsigned long long)s->id,
		    code);
		lost(s, lost_text, "backend refused XCLIENT");
		return;
	}
	s->xclient_done = 1;
	if (s->reconnecting) {
		backend_replay_helo(s);
	} else {
		/* the client's own HELO/EHLO goes now */
		for (struct pending *q = s->qhead; q != NULL; q = q->next) {
			if (q->unsent) {
				q->unsent = 0;
				backend_send(s, s->helo_line,
				    strlen(s->helo_line));
				backend_send(s, "\r\n", 2);
				break;
			}
		}
	}
	sess_flush(s);
}
