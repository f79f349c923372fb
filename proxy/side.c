/*
 * proxy/side.c - socket I/O for one side of a session: reads into the
 * loop's shared buffer, keeps only unparsed bytes per side, writes with
 * uv_try_write and queues the rest, drives TLS. It reports to its owner
 * through struct side_ops only, so it knows neither the session nor the
 * backend leg. The output batch ("scratch") collects everything one
 * event produces for one side so that it leaves in one write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/metrics.h"
#include "proxy/side.h"
#include "tls/tls.h"

struct wreq {
	uv_write_t	 req;
	struct side	*d;
	size_t		 len;
	char		*own;		/* owned buffer (an adopted batch), or
					   NULL: the bytes are in data[] */
	char		 data[];
};

static void on_side_close(uv_handle_t *h);

static void
on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	struct side *d = h->data;
	struct sideio *io = d->io;

	(void)hint;
	if (d->owner == NULL || io->rbuf_busy) {
		/* a detached side, or a nested read: libuv treats this as
		 * ENOBUFS and the read callback sees it */
		buf->base = NULL;
		buf->len = 0;
		return;
	}
	io->rbuf_busy = 1;
	buf->base = io->rbuf;
	buf->len = RBUF_SIZE;
}

/*
 * side_eof - the connection ended (why: EOF, an error): reading stops
 * and the owner is told once. The side stays open until its owner
 * closes it.
 */
static void
side_eof(struct side *d, const char *why)
{
	if (d->eof || d->closing || d->owner == NULL)
		return;
	d->eof = 1;
	side_stop_read(d);
	d->ops->eof(d->owner, why);
}

static void
on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct side *d = stream->data;
	struct sideio *io = d->io;
	char why[80];

	if (buf->base == io->rbuf)
		io->rbuf_busy = 0;
	if (d->owner == NULL || d->closing || nread == 0)
		return;
	if (nread < 0) {
		if (nread == UV_EOF)
			snprintf(why, sizeof(why), "%s closed the connection",
			    d->name);
		else
			snprintf(why, sizeof(why), "%s: %s", d->name,
			    uv_strerror((int)nread));
		side_eof(d, why);
		return;
	}
	if (io->mx != NULL)
		mx_add(&io->mx->bytes_in[d->mx_side], (uint64_t)nread);
	if (d->tls == NULL) {
		d->ops->data(d->owner, buf->base, (size_t)nread);
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
 * owner can take input again: finish the handshake (telling the owner
 * once), then decrypt and deliver plaintext for as long as the owner
 * takes it. The owner may close the side from any callback.
 */
void
side_tls_pump(struct side *d)
{
	struct sideio *io = d->io;
	enum tls_rc rc;
	ssize_t r;
	char why[300];

	if (d->owner == NULL || d->tls == NULL || d->pumping || d->closing)
		return;
	d->pumping = 1;
	if (!d->tls_ready) {
		rc = tls_handshake(d->tls);
		if (tls_flush(d) < 0)
			rc = TLS_ERR;
		if (rc == TLS_ERR || rc == TLS_CLOSED) {
			d->pumping = 0;
			snprintf(why, sizeof(why), "%s TLS handshake failed: %s",
			    d->name, tls_error(d->tls) ? tls_error(d->tls) :
			    "closed");
			side_eof(d, why);
			return;
		}
		if (rc == TLS_WANT) {
			d->pumping = 0;
			return;
		}
		d->tls_ready = 1;
		d->ops->tls_ready(d->owner);
		if (d->closing || d->owner == NULL) {
			d->pumping = 0;
			return;
		}
	}
	while (!d->closing && d->owner != NULL && (d->ops->can_read == NULL ||
	    d->ops->can_read(d->owner))) {
		if (io->rbuf_busy)
			break;
		r = tls_read(d->tls, io->rbuf, RBUF_SIZE);
		if (tls_flush(d) < 0) {
			d->pumping = 0;
			side_eof(d, "write error");
			return;
		}
		if (r == 0)
			break;
		if (r < 0) {
			d->pumping = 0;
			snprintf(why, sizeof(why), "%s", tls_error(d->tls) ?
			    tls_error(d->tls) : "closed TLS");
			side_eof(d, why);
			return;
		}
		d->ops->data(d->owner, io->rbuf, (size_t)r);
	}
	d->pumping = 0;
}

/*
 * side_start_tls - from now on this side speaks TLS (after our 220 to a
 * client's STARTTLS, the backend's 220 to ours, or at once on implicit
 * TLS). as_client: we handshake as the TLS client and send the
 * ClientHello now. Returns 0 or -1 (no memory, or the write failed).
 */
int
side_start_tls(struct side *d, struct tls_ctx *ctx, int as_client)
{
	d->tls = tls_new(ctx);
	if (d->tls == NULL)
		return -1;
	d->tls_ready = 0;
	d->tls_client = as_client ? 1 : 0;
	if (as_client) {
		enum tls_rc rc = tls_handshake(d->tls);

		if (rc == TLS_ERR || tls_flush(d) < 0)
			return -1;
	}
	return 0;
}

void
side_init(struct side *d, struct sideio *io, const char *name,
    const struct side_ops *ops, void *owner)
{
	memset(d, 0, sizeof(*d));
	d->io = io;
	d->ops = ops;
	d->owner = owner;
	d->name = name;
	d->mx_side = strcmp(name, "backend") == 0 ? MX_BACKEND : MX_CLIENT;
	uv_tcp_init(io->loop, &d->tcp);
	uv_timer_init(io->loop, &d->timer);
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
	char why[80];

	d->queued -= wr->len;
	free(wr->own);
	free(wr);
	if (d->owner == NULL || d->closing)
		return;
	if (status < 0) {
		snprintf(why, sizeof(why), "%s: %s", d->name,
		    uv_strerror(status));
		side_eof(d, why);
		return;
	}
	if (d->queued < WQ_LOW)
		d->ops->drained(d->owner);
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
	if (d->io->mx != NULL)
		mx_add(&d->io->mx->bytes_out[d->mx_side], (uint64_t)n);
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
	wr->own = NULL;
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
 * speaks it. Returns 0, or a negative libuv error; the caller decides
 * (side_write never reports to the owner itself).
 */
int
side_write(struct side *d, const char *p, size_t n)
{
	if (n == 0 || d->closing || d->eof)
		return 0;
	d->bytes_out += n;
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

	if (--d->handles > 0)
		return;
	free(d->in);
	d->in = NULL;
	if (d->tls != NULL) {
		tls_free(d->tls);
		d->tls = NULL;
	}
	/* last: the owner may free the memory d lives in */
	d->ops->closed(d->owner);
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

/* side_close - close both handles; the owner hears "closed" once both
 * close callbacks ran. Output still batched for d is dropped. */
void
side_close(struct side *d)
{
	if (d->closing)
		return;
	/* a close_notify only when nothing is left unsent: output still
	 * batched for d is dropped below */
	if (d->io->scratch_to != d || d->io->scratch_len == 0)
		close_notify(d);
	scratch_forget(d);
	d->closing = 1;
	d->reading = 0;
	uv_close((uv_handle_t *)&d->timer, on_side_close);
	uv_close((uv_handle_t *)&d->tcp, on_side_close);
}

/* A write failed: the owner hears it as the end of the connection. */
static void
write_failed(struct side *d, int r)
{
	char why[80];

	snprintf(why, sizeof(why), "%s: %s", d->name, uv_strerror(r));
	side_eof(d, why);
}

/*
 * scratch_put - append output for side "to" to the loop's batch. A batch
 * holds bytes for one side: output for another side, or a full batch,
 * sends what is there first. A write that fails reports eof to the
 * owner of that side, from inside this call.
 */
void
scratch_put(struct side *to, const char *p, size_t n)
{
	struct sideio *io = to->io;

	if (n == 0 || to->closing || to->eof)
		return;
	if (io->scratch_to != to || io->scratch_len + n > SCRATCH_SIZE)
		scratch_flush(io);
	if (to->closing || to->eof)
		return;
	if (n > SCRATCH_SIZE) {
		int r = side_write(to, p, n);

		if (r < 0)
			write_failed(to, r);
		return;
	}
	io->scratch_to = to;
	memcpy(io->scratch + io->scratch_len, p, n);
	io->scratch_len += n;
}

/*
 * adopt_write - write the batch of a plaintext side: what the kernel
 * does not take now is queued in the batch buffer itself, which the
 * write request takes over (the loop gets a new one), so message bytes
 * are copied once between the two sockets: into the batch. Returns 0
 * or a negative libuv error.
 */
static int
adopt_write(struct side *d, struct sideio *io, size_t n)
{
	const char *p = io->scratch;
	struct wreq *wr;
	char *fresh;
	uv_buf_t b;
	int r;

	if (d->closing || d->eof)
		return 0;
	d->bytes_out += n;
	if (io->mx != NULL)
		mx_add(&io->mx->bytes_out[d->mx_side], (uint64_t)n);
	if (d->queued == 0) {
		b = uv_buf_init(io->scratch, (unsigned)n);
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
	fresh = malloc(SCRATCH_SIZE);
	wr = malloc(sizeof(*wr));
	if (fresh == NULL || wr == NULL) {
		free(fresh);
		free(wr);
		return raw_write(d, p, n);
	}
	wr->own = io->scratch;
	io->scratch = fresh;
	wr->d = d;
	wr->len = n;
	b = uv_buf_init((char *)p, (unsigned)n);
	r = uv_write(&wr->req, (uv_stream_t *)&d->tcp, &b, 1, on_write);
	if (r < 0) {
		free(wr->own);
		free(wr);
		return r;
	}
	d->queued += n;
	return 0;
}

void
scratch_flush(struct sideio *io)
{
	struct side *to = io->scratch_to;
	size_t n = io->scratch_len;
	int r;

	io->scratch_to = NULL;
	io->scratch_len = 0;
	if (to == NULL || n == 0)
		return;
	if (to->tls == NULL)
		r = adopt_write(to, io, n);
	else
		r = side_write(to, io->scratch, n);
	if (r < 0)
		write_failed(to, r);
}

/* ------------------------------------------------------------ clock */

void
side_clock_set(struct side *d, uint64_t ms, uv_timer_cb cb)
{
	uint64_t due = uv_now(d->timer.loop) + ms;

	d->deadline = due;
	if (d->armed != 0 && d->armed <= due && d->clock_cb == cb)
		return;		/* it fires first and moves on to due */
	d->clock_cb = cb;
	d->armed = due;
	uv_timer_start(&d->timer, cb, ms, 0);
}

void
side_clock_stop(struct side *d)
{
	d->deadline = 0;
}

int
side_clock_due(struct side *d)
{
	uint64_t now = uv_now(d->timer.loop);

	d->armed = 0;
	if (d->deadline == 0)
		return 0;
	if (now < d->deadline) {
		d->armed = d->deadline;
		uv_timer_start(&d->timer, d->clock_cb, d->deadline - now, 0);
		return 0;
	}
	d->deadline = 0;
	return 1;
}

int
side_clock_running(const struct side *d)
{
	return d->deadline != 0;
}

/* scratch_forget - drop what is batched for d (it is being closed). */
void
scratch_forget(struct side *d)
{
	if (d->io->scratch_to == d) {
		d->io->scratch_to = NULL;
		d->io->scratch_len = 0;
	}
}
