/*
 * proxy/side.c - socket I/O for one side of a session: reads into the
 * worker's shared buffer, keeps only unparsed bytes per side, writes
 * with uv_try_write and queues the rest, and applies back-pressure.
 * The output batch ("scratch") collects everything one event produces
 * for one side so that it leaves in one write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/log.h"
#include "proxy/session.h"
#include "tls/tls.h"

struct wreq {
	uv_write_t	 req;
	struct side	*d;
	size_t		 len;
	char		 data[];
};

static void on_side_close(uv_handle_t *h);

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct side *d = h->data;
	struct worker *w = d->s != NULL ? d->s->w : NULL;

	(void)hint;
	if (w == NULL || w->rbuf_busy) {
		/* a detached side, or a nested read: libuv treats this as
		 * ENOBUFS and the read callback sees it */
		buf->base = NULL;
		buf->len = 0;
		return;
	}
	w->rbuf_busy = 1;
	buf->base = w->rbuf;
	buf->len = RBUF_SIZE;
}

/* Plaintext from a side: to the backend reply parser or the client's
 * command/DATA parser. */
static void
deliver(struct side *d, const char *p, size_t n)
{
	struct session *s = d->s;

	if (d->is_backend) {
		backend_on_read(s, p, n);
		return;
	}
	s->bytes_in += (uint64_t)n;
	if (side_append_in(d, p, n,
	    (size_t)s->cfg->limits.max_auth_line + RBUF_SIZE + READ_AHEAD) < 0) {
		sess_close(s, "out of memory");
		return;
	}
	sess_client_input(s);
}

static void
side_eof(struct side *d, const char *why)
{
	struct session *s = d->s;

	d->eof = 1;
	side_stop_read(d);
	if (d->is_backend)
		backend_lost(s, why);
	else
		sess_close(s, why);
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct side *d = stream->data;
	struct session *s = d->s;
	struct worker *w;

	if (s == NULL) {
		/* detached backend: drop whatever arrives */
		return;
	}
	w = s->w;
	if (buf->base == w->rbuf)
		w->rbuf_busy = 0;
	if (nread == 0)
		return;
	if (nread < 0) {
		side_eof(d, nread == UV_EOF ? (d->is_backend ?
		    "backend closed the connection" :
		    "client closed the connection") : uv_strerror((int)nread));
		return;
	}
	if (d->tls == NULL) {
		deliver(d, buf->base, (size_t)nread);
		return;
	}
	if (tls_feed(d->tls, buf->base, (size_t)nread) != TLS_OK) {
		side_eof(d, tls_error(d->tls) ? tls_error(d->tls) :
		    "TLS input overflow");
		return;
	}
	side_tls_pump(d);
}

/* Write the ciphertext TLS has produced. 0 or a libuv error. */
static int raw_write(struct side *d, const char *p, size_t n);

static int
tls_flush(struct side *d)
{
	const char *p;
	size_t n;
	int r = 0;

	while (d->tls != NULL && (n = tls_pending(d->tls, &p)) > 0) {
		r = raw_write(d, p, n);
		tls_consume(d->tls, n);
		if (r < 0)
			break;
	}
	return r;
}

/*
 * side_tls_pump - drive TLS on a side after ciphertext arrived or the
 * session can take input again: finish the handshake (telling the
 * session once), then decrypt and deliver plaintext for as long as the
 * session takes it. May close the session.
 */
void
side_tls_pump(struct side *d)
{
	struct session *s = d->s;
	struct worker *w;
	enum tls_rc rc;
	ssize_t r;

	if (s == NULL || d->tls == NULL || d->pumping || d->closing)
		return;
	w = s->w;
	d->pumping = 1;
	if (!d->tls_ready) {
		rc = tls_handshake(d->tls);
		if (tls_flush(d) < 0)
			rc = TLS_ERR;
		if (rc == TLS_ERR || rc == TLS_CLOSED) {
			d->pumping = 0;
			log_msg(CFG_LOG_INFO, "tls", "sid=%016llx client=%s: %s "
			    "TLS handshake failed: %s", (unsigned long long)s->id,
			    s->ip, d->is_backend ? "backend" : "client",
			    tls_error(d->tls) ? tls_error(d->tls) : "closed");
			if (d->is_backend) {
				char why[300];

				snprintf(why, sizeof(why), "backend TLS handshake "
				    "failed: %s", tls_error(d->tls) ?
				    tls_error(d->tls) : "closed");
				d->eof = 1;
				side_stop_read(d);
				backend_broken(s, why);
			} else {
				side_eof(d, "client TLS handshake failed");
			}
			return;
		}
		if (rc == TLS_WANT) {
			d->pumping = 0;
			return;
		}
		d->tls_ready = 1;
		if (d->is_backend)
			backend_tls_ready(s);
		else
			sess_tls_ready(s);
		if (s->phase == PH_CLOSED || d->s == NULL) {
			d->pumping = 0;
			return;
		}
	}
	while (!d->closing && (d->is_backend || sess_can_read_client(s))) {
		if (w->rbuf_busy)
			break;
		r = tls_read(d->tls, w->rbuf, RBUF_SIZE);
		if (tls_flush(d) < 0) {
			d->pumping = 0;
			side_eof(d, "write error");
			return;
		}
		if (r == 0)
			break;
		if (r < 0) {
			d->pumping = 0;
			side_eof(d, tls_error(d->tls) ? tls_error(d->tls) :
			    (d->is_backend ? "backend closed TLS" :
			    "client closed TLS"));
			return;
		}
		deliver(d, w->rbuf, (size_t)r);
		if (s->phase == PH_CLOSED || d->s == NULL)
			break;
	}
	d->pumping = 0;
}

/*
 * side_start_tls - from now on this side speaks TLS (after our 220 to a
 * client's STARTTLS, the backend's 220 to ours, or at once on implicit
 * TLS). A client side handshakes as the server, a backend side as the
 * client and sends its ClientHello now. Returns 0 or -1 (no memory).
 */
int
side_start_tls(struct side *d, struct tls_ctx *ctx)
{
	d->tls = tls_new(ctx);
	if (d->tls == NULL)
		return -1;
	d->tls_ready = 0;
	if (d->is_backend) {
		enum tls_rc rc = tls_handshake(d->tls);

		if (rc == TLS_ERR || tls_flush(d) < 0)
			return -1;
	}
	return 0;
}

void
side_init(struct session *s, struct side *d, int is_backend)
{
	memset(d, 0, sizeof(*d));
	d->s = s;
	d->is_backend = is_backend ? 1 : 0;
	uv_tcp_init(&s->w->loop, &d->tcp);
	uv_timer_init(&s->w->loop, &d->timer);
	d->tcp.data = d;
	d->timer.data = d;
	d->handles = 2;
}

/*
 * side_append_in - keep n more unparsed bytes. The side's buffer holds
 * only what a parser could not consume yet; cap bounds it. Returns 0,
 * or -1 when memory is short or cap would be passed (the caller closes).
 */
int
side_append_in(struct side *d, const char *p, size_t n, size_t cap)
{
	size_t want;
	char *nb;

	if (n == 0)
		return 0;
	if (d->in_len + n > cap)
		return -1;
	if (d->in_len + n > d->in_cap) {
		want = d->in_cap ? d->in_cap : 512;
		while (want < d->in_len + n)
			want *= 2;
		if (want > cap)
			want = cap;
		nb = realloc(d->in, want);
		if (nb == NULL)
			return -1;
		d->in = nb;
		d->in_cap = want;
	}
	memcpy(d->in + d->in_len, p, n);
	d->in_len += n;
	return 0;
}

/* side_consume_in - drop n parsed bytes; frees the buffer when empty so
 * that an idle session keeps no input buffer. */
void
side_consume_in(struct side *d, size_t n)
{
	if (n >= d->in_len) {
		free(d->in);
		d->in = NULL;
		d->in_len = d->in_cap = 0;
		return;
	}
	memmove(d->in, d->in + n, d->in_len - n);
	d->in_len -= n;
	if (d->in_cap > 4096 && d->in_len < d->in_cap / 4) {
		char *nb = realloc(d->in, d->in_len);

		if (nb != NULL) {
			d->in = nb;
			d->in_cap = d->in_len;
		}
	}
}

static void
on_write(uv_write_t *req, int status)
{
	struct wreq *wr = (struct wreq *)req;
	struct side *d = wr->d;
	struct session *s = d->s;

	d->queued -= wr->len;
	free(wr);
	if (s == NULL || d->closing)
		return;
	if (status < 0) {
		if (d->is_backend)
			backend_lost(s, uv_strerror(status));
		else
			sess_close(s, uv_strerror(status));
		return;
	}
	if (d->is_backend) {
		/* the backend drained: the client may send more */
		if (d->queued < WQ_LOW)
			sess_update_reading(s);
		return;
	}
	if (d->queued == 0 && s->quitting) {
		sess_close(s, s->close_reason ? s->close_reason : "quit");
		return;
	}
	if (d->queued < WQ_LOW)
		sess_update_reading(s);
}

/*
 * raw_write - send n bytes on the socket, in order after anything
 * queued. Tries a direct write first and copies only what the kernel
 * did not take. Returns 0 or a negative libuv error.
 */
static int
raw_write(struct side *d, const char *p, size_t n)
{
	struct wreq *wr;
	uv_buf_t b;
	int r;

	if (n == 0 || d->closing)
		return 0;
	if (d->queued == 0) {
		b = uv_buf_init((char *)p, (unsigned)n);
		r = uv_try_write((uv_stream_t *)&d->tcp, &b, 1);
		if (r == (int)n)
			return 0;
		if (r > 0) {
			p += r;
			n -= (size_t)r;
		} else if (r != UV_EAGAIN && r != UV_ENOSYS) {
			return r;
		}
	}
	wr = malloc(sizeof(*wr) + n);
	if (wr == NULL)
		return UV_ENOMEM;
	memcpy(wr->data, p, n);
	wr->d = d;
	wr->len = n;
	b = uv_buf_init(wr->data, (unsigned)n);
	r = uv_write(&wr->req, (uv_stream_t *)&d->tcp, &b, 1, on_write);
	if (r < 0) {
		free(wr);
		return r;
	}
	d->queued += n;
	return 0;
}

/*
 * side_write - send n bytes of plaintext: through TLS when the side
 * speaks it. Returns 0, or a negative libuv error (the caller ends the
 * session or the backend leg). Never closes anything itself.
 */
int
side_write(struct side *d, const char *p, size_t n)
{
	if (n == 0 || d->closing)
		return 0;
	if (d->s != NULL && !d->is_backend)
		d->s->bytes_out += n;
	if (d->tls == NULL)
		return raw_write(d, p, n);
	if (!d->tls_ready || tls_write(d->tls, p, n) < 0)
		return UV_EPROTO;
	return tls_flush(d);
}

void
side_start_read(struct side *d)
{
	if (d->reading || d->closing || d->eof || !d->connected)
		return;
	if (uv_read_start((uv_stream_t *)&d->tcp, on_alloc, on_read) == 0)
		d->reading = 1;
}

void
side_stop_read(struct side *d)
{
	if (!d->reading)
		return;
	uv_read_stop((uv_stream_t *)&d->tcp);
	d->reading = 0;
}

static void
on_side_close(uv_handle_t *h)
{
	struct side *d = h->data;
	struct session *s = d->s;

	if (--d->handles > 0)
		return;
	free(d->in);
	d->in = NULL;
	free(d->rep);
	d->rep = NULL;
	if (d->tls != NULL) {
		tls_free(d->tls);
		d->tls = NULL;
	}
	if (d->is_backend) {
		/* a backend side is its own allocation; the session may
		 * already have another one */
		if (s != NULL && s->backend == d)
			s->backend = NULL;
		free(d);
	} else if (s != NULL) {
		s->client_closed = 1;
	}
	if (s != NULL)
		sess_maybe_free(s);
}

/*
 * close_notify - a TLS side says it is closing (RFC 5246 7.2.1), so its
 * peer can tell the end of the session from a cut connection. The alert
 * (one short record) goes to the kernel with uv_try_write() before
 * uv_close(), so it leaves ahead of the FIN. Not when writes are still
 * queued: uv_close() drops them, and an alert after a gap would tell
 * the peer it got everything. Nothing before the handshake completed.
 */
static void
close_notify(struct side *d)
{
	const char *p;
	uv_buf_t b;
	size_t n;

	if (d->tls == NULL || !d->tls_ready || !d->connected || d->queued > 0)
		return;
	tls_close_notify(d->tls);
	if ((n = tls_pending(d->tls, &p)) == 0)
		return;
	b = uv_buf_init((char *)p, (unsigned)n);
	(void)uv_try_write((uv_stream_t *)&d->tcp, &b, 1);
	tls_consume(d->tls, n);
}

/* side_close - close both handles; freeing happens in on_side_close. */
void
side_close(struct side *d)
{
	if (d->closing)
		return;
	close_notify(d);
	d->closing = 1;
	d->reading = 0;
	uv_close((uv_handle_t *)&d->timer, on_side_close);
	uv_close((uv_handle_t *)&d->tcp, on_side_close);
}

/*
 * scratch_put - append output for side "to" to the worker's batch. A
 * batch holds bytes for one side: output for another side, or a full
 * batch, sends what is there first.
 */
void
scratch_put(struct worker *w, struct side *to, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (w->scratch_to != to || w->scratch_len + n > SCRATCH_SIZE)
		scratch_flush(w);
	if (n > SCRATCH_SIZE) {
		int r = side_write(to, p, n);

		if (r < 0 && to->s != NULL && to->is_backend)
			backend_lost(to->s, uv_strerror(r));
		return;
	}
	w->scratch_to = to;
	memcpy(w->scratch + w->scratch_len, p, n);
	w->scratch_len += n;
}

void
scratch_flush(struct worker *w)
{
	struct side *to = w->scratch_to;
	size_t n = w->scratch_len;
	int r;

	w->scratch_to = NULL;
	w->scratch_len = 0;
	if (to == NULL || n == 0)
		return;
	r = side_write(to, w->scratch, n);
	if (r < 0 && to->s != NULL) {
		if (to->is_backend)
			backend_lost(to->s, uv_strerror(r));
		else
			sess_close(to->s, uv_strerror(r));
	}
}
