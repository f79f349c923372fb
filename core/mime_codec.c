/*
 * core/mime_codec.c - streaming quoted-printable and base64 codecs of
 * core/mime_codec.h (RFC 2045 6.7, 6.8). Input: untrusted octets, any
 * split. Output goes through the caller's sink, a line or a small
 * batch at a time. Allocates nothing; all state is in the structs.
 */
#include <string.h>

#include "core/b64.h"
#include "core/hex.h"
#include "core/mime_codec.h"

static const char hexd[] = "0123456789ABCDEF";
static const char b64d[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A batch of decoded octets on its way to the sink. */
struct batch {
	char	b[256];
	size_t	n;
};

static void
bat_put(struct batch *b, char c, mc_sink out, void *ctx)
{
	if (b->n == sizeof(b->b)) {
		out(ctx, b->b, b->n);
		b->n = 0;
	}
	b->b[b->n++] = c;
}

static void
bat_flush(struct batch *b, mc_sink out, void *ctx)
{
	if (b->n > 0)
		out(ctx, b->b, b->n);
	b->n = 0;
}

/* One octet of encoded text, through the "=XX" states. */
static void
qpd_octet(struct qp_dec *d, char c, struct batch *b, mc_sink out, void *ctx)
{
	if (d->st == 1) {
		if (hex_value((unsigned char)c) >= 0) {
			d->x = c;
			d->st = 2;
			return;
		}
		bat_put(b, '=', out, ctx);
		d->st = 0;
	} else if (d->st == 2) {
		if (hex_value((unsigned char)c) >= 0) {
			bat_put(b, (char)(hex_value((unsigned char)d->x) * 16 +
			    hex_value((unsigned char)c)), out, ctx);
			d->st = 0;
			return;
		}
		bat_put(b, '=', out, ctx);
		bat_put(b, d->x, out, ctx);
		d->st = 0;
	}
	if (c == '=')
		d->st = 1;
	else
		bat_put(b, c, out, ctx);
}

int
qpd_piece(struct qp_dec *d, const char *p, size_t n, int last, mc_sink out,
    void *ctx)
{
	struct batch	b;
	int		soft = 0;

	b.n = 0;
	if (last)
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
	for (size_t i = 0; i < n; i++)
		qpd_octet(d, p[i], &b, out, ctx);
	if (last) {
		if (d->st == 1)
			soft = 1;
		else if (d->st == 2) {
			bat_put(&b, '=', out, ctx);
			bat_put(&b, d->x, out, ctx);
		}
		d->st = 0;
	}
	bat_flush(&b, out, ctx);
	return soft;
}

void
qpd_finish(struct qp_dec *d, mc_sink out, void *ctx)
{
	if (d->st == 2) {
		char t[2] = { '=', d->x };

		out(ctx, t, 2);
	}
	d->st = 0;
}

/* The octets of a quantum of k (2-4) digits. */
static void
b64d_quantum(struct b64_dec *d, struct batch *b, mc_sink out, void *ctx)
{
	uint32_t v = d->acc << (6 * (4 - d->n));

	if (d->n >= 2)
		bat_put(b, (char)(v >> 16), out, ctx);
	if (d->n >= 3)
		bat_put(b, (char)(v >> 8 & 0xff), out, ctx);
	if (d->n == 4)
		bat_put(b, (char)(v & 0xff), out, ctx);
	d->acc = 0;
	d->n = 0;
}

void
b64d_put(struct b64_dec *d, const char *p, size_t n, mc_sink out, void *ctx)
{
	struct batch b;

	b.n = 0;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)p[i]);

		if (v >= 0) {
			d->acc = d->acc << 6 | (uint32_t)v;
			if (++d->n == 4)
				b64d_quantum(d, &b, out, ctx);
		} else if (p[i] == '=' && d->n > 0)
			b64d_quantum(d, &b, out, ctx);
	}
	bat_flush(&b, out, ctx);
}

void
b64d_finish(struct b64_dec *d, mc_sink out, void *ctx)
{
	struct batch b;

	b.n = 0;
	if (d->n > 0)
		b64d_quantum(d, &b, out, ctx);
	bat_flush(&b, out, ctx);
}

/* The line so far goes out, with a soft break when soft. */
static void
qpe_break(struct qp_enc *e, int soft, mc_sink out, void *ctx)
{
	if (soft)
		e->line[e->len++] = '=';
	e->line[e->len++] = '\r';
	e->line[e->len++] = '\n';
	out(ctx, e->line, e->len);
	e->len = 0;
}

/* Add t[0..k) (one octet, literal or "=XX") to the line. */
static void
qpe_token(struct qp_enc *e, const char *t, size_t k, mc_sink out, void *ctx)
{
	if (e->len + k > MC_LINE - 1)
		qpe_break(e, 1, out, ctx);
	memcpy(e->line + e->len, t, k);
	e->len += k;
}

static void
qpe_octet(struct qp_enc *e, unsigned char c, mc_sink out, void *ctx)
{
	char t[3];

	if ((c >= 33 && c <= 126 && c != '=' && !(c == '.' && e->len == 0)) ||
	    c == ' ' || c == '\t') {
		t[0] = (char)c;
		qpe_token(e, t, 1, out, ctx);
		return;
	}
	t[0] = '=';
	t[1] = hexd[c >> 4];
	t[2] = hexd[c & 15];
	qpe_token(e, t, 3, out, ctx);
}

/* White space that would end a line is encoded (RFC 2045 6.7 (3)). */
static void
qpe_trailing(struct qp_enc *e, mc_sink out, void *ctx)
{
	char c;

	if (e->len == 0)
		return;
	c = e->line[e->len - 1];
	if (c != ' ' && c != '\t')
		return;
	e->len--;
	qpe_token(e, c == ' ' ? "=20" : "=09", 3, out, ctx);
}

void
qpe_put(struct qp_enc *e, const char *p, size_t n, mc_sink out, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (e->cr) {
			e->cr = 0;
			if (c == '\n') {
				qpe_trailing(e, out, ctx);
				qpe_break(e, 0, out, ctx);
				continue;
			}
			qpe_octet(e, '\r', out, ctx);
		}
		if (c == '\r')
			e->cr = 1;
		else if (c >= 33 && c <= 126 && c != '=' && c != '.' &&
		    e->len < MC_LINE - 1)
			e->line[e->len++] = (char)c;	/* qpe_octet, short */
		else
			qpe_octet(e, c, out, ctx);
	}
}

void
qpe_finish(struct qp_enc *e, int crlf, mc_sink out, void *ctx)
{
	if (e->cr) {
		e->cr = 0;
		qpe_octet(e, '\r', out, ctx);
	}
	if (e->len == 0)
		return;
	qpe_trailing(e, out, ctx);
	if (crlf)
		qpe_break(e, 1, out, ctx);
	else {
		out(ctx, e->line, e->len);
		e->len = 0;
	}
}

static void
b64e_quantum(struct b64_enc *e, mc_sink out, void *ctx)
{
	uint32_t v = (uint32_t)e->q[0] << 16 | (uint32_t)e->q[1] << 8 | e->q[2];

	if (e->nl) {
		out(ctx, "\r\n", 2);
		e->nl = 0;
	}
	e->line[e->len++] = b64d[v >> 18];
	e->line[e->len++] = b64d[v >> 12 & 63];
	e->line[e->len++] = e->qn > 1 ? b64d[v >> 6 & 63] : '=';
	e->line[e->len++] = e->qn > 2 ? b64d[v & 63] : '=';
	e->qn = 0;
	memset(e->q, 0, sizeof(e->q));
	if (e->len >= MC_LINE) {
		out(ctx, e->line, e->len);
		e->len = 0;
		e->nl = 1;
	}
}

void
b64e_put(struct b64_enc *e, const char *p, size_t n, mc_sink out, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		e->q[e->qn++] = (unsigned char)p[i];
		if (e->qn == 3)
			b64e_quantum(e, out, ctx);
	}
}

void
b64e_finish(struct b64_enc *e, int crlf, mc_sink out, void *ctx)
{
	if (e->qn > 0)
		b64e_quantum(e, out, ctx);
	if (e->len > 0) {
		out(ctx, e->line, e->len);
		e->len = 0;
		e->nl = 1;
	}
	if (e->nl && crlf)
		out(ctx, "\r\n", 2);
	e->nl = 0;
}
