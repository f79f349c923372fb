/*
 * proxy/backend_io.c - the backend leg's connection: opening it (with
 * the PROXY header for backend.client_info = "proxy", and implicit TLS),
 * what goes out (client lines held until the leg is ready, the list of
 * replies awaited), reading and validating replies (RFC 5321 4.2: codes
 * 200-599, consistent multi-line replies, bounded, no control
 * characters; anything else fails the leg, never relayed), and the
 * interface of backend.h. Input: the backend's bytes, untrusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/proxyproto.h"
#include "core/smtp_reply.h"
#include "proxy/backend_int.h"
#include "proxy/log.h"
#include "proxy/sysres.h"

struct bconnect {
	uv_connect_t	 req;
	struct backend	*b;
};

/* ------------------------------------------------------------ output */

void
bk_put(struct backend *b, const char *p, size_t n)
{
	scratch_put(&b->side, p, n);
}

/* Hold client bytes until READY. Returns -1 past DEFER_MAX. */
static int
defer(struct backend *b, const char *p, size_t n)
{
	char *nb;

	if (b->defer_len + n > DEFER_MAX)
		return -1;
	nb = realloc(b->defer, b->defer_len + n);
	if (nb == NULL)
		return -1;
	b->defer = nb;
	memcpy(b->defer + b->defer_len, p, n);
	b->defer_len += n;
	return 0;
}

int
bk_await(struct backend *b, enum bk_await what)
{
	if (b->aw_n >= AW_MAX)
		return -1;
	if (b->aw_n == 0)
		b->t_aw = mxs_hrtime_us();
	b->aw[(b->aw_head + b->aw_n) % AW_MAX] = (unsigned char)what;
	b->aw_n++;
	return 0;
}

enum bk_await
bk_await_pop(struct backend *b)
{
	enum bk_await a = b->aw[b->aw_head];

	b->aw_head = (b->aw_head + 1) % AW_MAX;
	b->aw_n--;
	return a;
}

/*
 * send_line - one command of the client or ours: sent now in READY (and
 * behind DATA), held until READY otherwise. what: whose reply it is.
 */
void
bk_send_line(struct backend *b, const char *p, size_t n, enum bk_await what)
{
	if (b->state == BK_CLOSED)
		return;
	if (bk_await(b, what) < 0) {
		bk_fail(b, BK_BROKEN, "too many replies awaited from the backend");
		return;
	}
	if (b->state != BK_READY) {
		if (defer(b, p, n) < 0 || defer(b, "\r\n", 2) < 0)
			bk_fail(b, BK_BROKEN, "too much held for the backend");
		return;
	}
	bk_put(b, p, n);
	bk_put(b, "\r\n", 2);
	bk_arm(b, 0);
}

/* Append one validated line (without CRLF) to the reply being built. */
static int
rep_add(struct backend *b, const char *p, size_t n)
{
	char *nb;

	if (b->rep_len + n + 2 > MAX_REPLY)
		return -1;
	nb = realloc(b->rep, b->rep_len + n + 2);
	if (nb == NULL)
		return -1;
	b->rep = nb;
	memcpy(b->rep + b->rep_len, p, n);
	memcpy(b->rep + b->rep_len + n, "\r\n", 2);
	b->rep_len += n + 2;
	return 0;
}

/*
 * on_data - bytes from the backend: split into reply lines, validate,
 * join multi-line replies, hand each complete one to on_reply. Stops as
 * soon as the leg is closed (by a failure or by the owner).
 */
static void
on_data(void *owner, const char *buf, size_t n)
{
	struct backend *b = owner;
	struct side *d = &b->side;
	size_t off = 0;

	if (b->cb == NULL)
		return;
	if (side_append_in(d, buf, n, MAX_REPLY_LINE + RBUF_SIZE) < 0) {
		bk_fail(b, BK_LOST, "backend reply too long");
		return;
	}
	while (off < d->in_len && b->cb != NULL) {
		const char *line = d->in + off;
		const char *lf = memchr(line, '\n', d->in_len - off);
		struct reply_line rl;
		enum bk_state before = b->state;
		char *rep;
		size_t len, rlen;

		if (lf == NULL) {
			if (d->in_len - off > MAX_REPLY_LINE) {
				bk_fail(b, BK_LOST, "backend reply line too long");
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
		    (b->rep_lines > 0 && rl.code != b->rep_code) ||
		    rep_add(b, line, len) < 0) {
			bk_fail(b, BK_LOST, "malformed reply from backend");
			return;
		}
		b->rep_code = rl.code;
		b->rep_lines++;
		if (!rl.last)
			continue;
		rep = b->rep;
		rlen = b->rep_len;
		b->rep = NULL;
		b->rep_len = 0;
		b->rep_lines = 0;
		bk_on_reply(b, rl.code, rep, rlen);
		free(rep);
		if (b->cb == NULL || b->state == BK_CLOSED)
			return;
		if (before == BK_STARTTLS && b->state == BK_HANDSHAKE) {
			/* TLS starts after the backend's 220: what it sent
			 * after that line in plaintext is dropped (response
			 * injection) */
			if (off < d->in_len)
				log_sid(CFG_LOG_WARN, "tls", b->sid, "%zu "
				    "bytes after the backend's 220 to STARTTLS "
				    "discarded",
				    d->in_len - off);
			off = d->in_len;
			break;
		}
	}
	if (b->cb == NULL || b->state == BK_CLOSED)
		return;
	side_consume_in(d, off);
	/* what the replies made anyone write leaves now, in one write */
	scratch_flush(d->io);
}

/* ------------------------------------------------------------ side */

static void
on_eof(void *owner, const char *why)
{
	struct backend *b = owner;

	if (b->side.tls != NULL && !b->side.tls_ready)
		bk_fail(b, BK_NOTLS, why);
	else if (b->state == BK_CONNECT || b->state == BK_GREETING)
		bk_fail(b, BK_DOWN, why);
	else
		bk_fail(b, BK_LOST, why);
}

static void
on_tls_ready(void *owner)
{
	struct backend *b = owner;

	snprintf(b->tls_info, sizeof(b->tls_info), "%s %s",
	    tls_version(b->side.tls), tls_cipher(b->side.tls));
	metrics_tls(b->side.io->mx, MX_BACKEND, tls_version(b->side.tls),
	    tls_cipher(b->side.tls));
	log_sid(CFG_LOG_DEBUG, "tls", b->sid, "backend %s", b->tls_info);
	if (b->cb == NULL)
		return;
	if (b->state == BK_CONNECT) {
		/* implicit TLS: now the greeting */
		bk_enter(b, BK_GREETING);
		return;
	}
	if (b->state != BK_HANDSHAKE) {
		bk_fail(b, BK_BROKEN, "backend TLS handshake out of place");
		return;
	}
	bk_go_ready(b);
}

static void
on_drained(void *owner)
{
	struct backend *b = owner;

	if (b->cb != NULL)
		b->cb->drained(b->owner);
}

static void
on_closed(void *owner)
{
	struct backend *b = owner;

	free(b->greet);
	free(b->defer);
	free(b->rep);
	free(b);
}

static const struct side_ops backend_ops = {
	.data = on_data,
	.eof = on_eof,
	.tls_ready = on_tls_ready,
	.drained = on_drained,
	.can_read = NULL,
	.closed = on_closed,
};

static void
on_connect(uv_connect_t *req, int status)
{
	struct bconnect *bc = (struct bconnect *)req;
	struct backend *b = bc->b;
	const struct backend_client *cl = b->cl;
	const struct config *cfg = b->env.cfg;
	char why[200];

	free(bc);
	if (b->side.closing || b->cb == NULL || status == UV_ECANCELED)
		return;
	if (status < 0) {
		snprintf(why, sizeof(why), "cannot connect to backend %s:%d: "
		    "%s", cfg->backend.address, cfg->backend.port,
		    uv_strerror(status));
		metrics_connect(b->side.io->mx, b->t_conn, 0);
		bk_fail(b, BK_DOWN, why);
		return;
	}
	metrics_connect(b->side.io->mx, b->t_conn, 1);
	metrics_backend_ok();
	b->t_greet = mxs_hrtime_us();
	b->side.connected = 1;
	uv_tcp_nodelay(&b->side.tcp, 1);
	if (cfg->backend.client_info == CFG_CI_PROXY) {
		/* the backend learns the real client first, before TLS */
		char hdr[PP_BUILD_MAX + 300];
		size_t n = cfg->backend.proxy_protocol_version == 2 ?
		    pp_build_v2(hdr, sizeof(hdr), &cl->addr, cl->port,
		    &cl->local, cl->local_port) : pp_build_v1(hdr, sizeof(hdr),
		    &cl->addr, cl->port, &cl->local, cl->local_port);

		if (n == 0 || side_write(&b->side, hdr, n) < 0) {
			bk_fail(b, BK_DOWN, "cannot send the PROXY header");
			return;
		}
	}
	if (cfg->backend.tls == CFG_TLS_IMPLICIT) {
		if (b->env.tls == NULL ||
		    side_start_tls(&b->side, b->env.tls, 1) < 0) {
			bk_fail(b, BK_DOWN, "backend TLS could not start");
			return;
		}
	} else {
		bk_enter(b, BK_GREETING);
	}
	side_start_read(&b->side);
}

/* ------------------------------------------------------------ API */

const char backend_why_nofd[] = "too many open files: no descriptor "
    "for the backend socket";

/* Connect to sa. 0, or -1 (nothing started, why set). */
static int
bk_connect(struct backend *b, const struct sockaddr *sa, const char **why)
{
	struct bconnect *bc = malloc(sizeof(*bc));
	int r;

	if (bc == NULL) {
		*why = "out of memory";
		return -1;
	}
	bc->b = b;
	b->t_conn = mxs_hrtime_us();
	r = uv_tcp_connect(&bc->req, &b->side.tcp, sa, on_connect);
	if (r == UV_EMFILE || r == UV_ENFILE) {
		/* the socket itself could not be made: our limit, not the
		 * backend's state */
		free(bc);
		log_sid(CFG_LOG_ERROR, "backend", b->sid, "cannot open a "
		    "socket to the backend: %s (RLIMIT_NOFILE %ld)",
		    uv_strerror(r), sysres_fd_limit());
		*why = backend_why_nofd;
		return -1;
	}
	if (r < 0) {
		free(bc);
		log_sid(CFG_LOG_WARN, "backend", b->sid, "cannot connect "
		    "to backend: %s",
		    uv_strerror(r));
		*why = "backend unreachable";
		return -1;
	}
	return 0;
}

/* backend.address by name: the address is known now (a later loop
 * turn than backend_open()). */
static void
on_name(void *arg, const struct sockaddr *sa)
{
	struct backend *b = arg;
	const char *why = NULL;

	b->nreq = NULL;
	if (bk_connect(b, sa, &why) < 0)
		bk_fail(b, why == backend_why_nofd ? BACKEND_NOFD_REPLY :
		    BK_DOWN, why);
}

struct backend *
backend_open(const struct backend_env *env, const struct backend_client *cl,
    int replacement, const struct backend_cb *cb, void *owner,
    const char **why)
{
	struct backend *b = calloc(1, sizeof(*b));
	struct sockaddr_storage now;
	int r = 1;

	if (b == NULL) {
		*why = "out of memory";
		return NULL;
	}
	b->env = *env;
	b->cl = cl;
	b->sid = cl->sid;
	snprintf(b->ip, sizeof(b->ip), "%s", cl->ip);
	b->cb = cb;
	b->owner = owner;
	b->replacement = replacement;
	b->state = BK_CONNECT;
	side_init(&b->side, env->io, "backend", &backend_ops, b);
	/* a name: the connection starts once its address is known; the
	 * connect timer below covers the lookup too */
	if (env->name != NULL && (r = bkname_get(env->name, cl->sid, on_name,
	    b, &now, &b->nreq)) < 0)
		*why = "out of memory";
	if (r < 0 || (r == 1 && bk_connect(b, env->name != NULL ?
	    (const struct sockaddr *)&now : env->sa, why) < 0)) {
		b->cb = NULL;
		b->state = BK_CLOSED;
		side_close(&b->side);
		return NULL;
	}
	log_sid(CFG_LOG_DEBUG, "backend", cl->sid, "backend leg opened%s",
	    replacement ? " (replacement)" : "");
	bk_arm(b, 1);
	return b;
}

void
backend_relay(struct backend *b, const char *line, size_t n, int helo)
{
	if (b->state == BK_CLOSED)
		return;
	if (helo && b->state == BK_READY && !b->xclient_done &&
	    b->env.cfg->backend.client_info == CFG_CI_XCLIENT) {
		/* XCLIENT first, then this HELO/EHLO (held until READY) */
		bk_send_ehlo(b, BK_XC_EHLO);
		if (b->state == BK_CLOSED)
			return;
	}
	bk_send_line(b, line, n, AW_CLIENT);
}

void
backend_data_begin(struct backend *b)
{
	if (b->state != BK_READY)
		mxs_panic("backend_data_begin in state %s", bk_state_name(b->state));
	bk_enter(b, BK_DATA_WAIT);
	bk_put(b, "DATA\r\n", 6);
	bk_arm(b, 0);
}

void
backend_body(struct backend *b, const char *p, size_t n)
{
	if (b->state == BK_BODY)
		bk_put(b, p, n);
}

void
backend_end(struct backend *b)
{
	if (b->state != BK_BODY)
		return;
	bk_put(b, ".\r\n", 3);
	bk_enter(b, BK_READY);
	if (bk_await(b, AW_FINAL) < 0) {
		bk_fail(b, BK_BROKEN, "too many replies awaited from the backend");
		return;
	}
	bk_arm(b, 1);
}

void
backend_reset(struct backend *b)
{
	bk_send_line(b, "RSET", 4, AW_RSET);
}

void
backend_auth_cancel(struct backend *b)
{
	bk_send_line(b, "*", 1, AW_CANCEL);
}

void
backend_flush(struct backend *b)
{
	if (b->side.io->scratch_to == &b->side)
		scratch_flush(b->side.io);
}

void
backend_close(struct backend *b)
{
	if (b == NULL)
		return;
	b->cb = NULL;
	bkname_cancel(b->nreq);
	b->nreq = NULL;
	if (b->state != BK_CLOSED)
		bk_enter(b, BK_CLOSED);
	side_close(&b->side);
}

size_t
backend_queued(const struct backend *b)
{
	return b->side.queued;
}

const char *
backend_tls_info(const struct backend *b)
{
	return b != NULL && b->side.tls_ready ? b->tls_info : NULL;
}

int
backend_is_ready(const struct backend *b)
{
	return b->state == BK_READY;
}
