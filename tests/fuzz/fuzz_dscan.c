/*
 * tests/fuzz/fuzz_dscan.c - libFuzzer target for core/dscan.c. Each
 * input is scanned in both modes, whole, in splits derived from the
 * input, and (when short) one byte at a time; all runs must agree, and
 * every output must be safe for the backend: no NUL, no bare CR or LF,
 * no CRLF.CRLF before the end, a clean finished message ending in CRLF.
 * In reject mode a clean message must pass unchanged, and the header end
 * must match what core/hdr.c reads from the output. Failures abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/dscan.h"
#include "core/hdr.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct sink {
	char	*buf;
	size_t	 n;
	size_t	 cap;
};

static void
sink_emit(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	if (n == 0 || n > s->cap - s->n)
		abort();
	memcpy(s->buf + s->n, p, n);
	s->n += n;
}

struct run {
	struct dscan	d;
	struct sink	out;
	size_t		consumed;
	int		done;
};

static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* split: 0 whole, 1 byte by byte, else a PRNG seed for chunk sizes. */
static void
scan(enum dscan_mode mode, const char *in, size_t len, uint64_t split,
    struct run *r)
{
	size_t	pos = 0, chunk, got;
	int	done = 0;

	dscan_init(&r->d, mode);
	r->out.n = 0;
	r->consumed = 0;
	do {
		chunk = len - pos;
		if (split == 1 && chunk > 1)
			chunk = 1;
		else if (split > 1) {
			uint64_t x = rnd(&split);
			size_t n = (x & 3) == 0 ? (size_t)(x >> 8) % 300 :
			    (size_t)(x >> 8) % 5;

			if (n < chunk)
				chunk = n;
		}
		got = dscan_feed(&r->d, in + pos, chunk, sink_emit, &r->out,
		    &done);
		if (got > chunk || (!done && got != chunk))
			abort();
		r->consumed += got;
		pos += chunk;
	} while (!done && pos < len);
	r->done = done;
	if (done && dscan_feed(&r->d, in + r->consumed, len - r->consumed,
	    sink_emit, &r->out, &done) != 0)
		abort();
	if (r->d.in_bytes != r->consumed || r->d.out_bytes != r->out.n)
		abort();
}

static void
check_safe(const struct run *r)
{
	const char	*o = r->out.buf;
	size_t		 n = r->out.n;

	for (size_t i = 0; i < n; i++) {
		if (o[i] == '\0')
			abort();
		if (o[i] == '\r' && (i + 1 == n || o[i + 1] != '\n'))
			abort();
		if (o[i] == '\n' && (i == 0 || o[i - 1] != '\r'))
			abort();
		if (o[i] == '\r' && i + 4 < n && o[i + 2] == '.' &&
		    o[i + 3] == '\r' && o[i + 4] == '\n')
			abort();
	}
	if (n >= 3 && memcmp(o, ".\r\n", 3) == 0)
		abort();
	if (r->done && r->d.err == 0 && n > 0 &&
	    (n < 2 || o[n - 2] != '\r' || o[n - 1] != '\n'))
		abort();
	if (r->d.hdr_end != DSCAN_HDR_UNKNOWN && r->d.hdr_end > n)
		abort();
	if (r->done && r->d.hdr_end == DSCAN_HDR_UNKNOWN)
		abort();
}

static void
check_same(const struct run *a, const struct run *b)
{
	if (a->consumed != b->consumed || a->done != b->done ||
	    a->d.err != b->d.err || a->d.lines != b->d.lines ||
	    a->d.bare != b->d.bare || a->d.hdr_end != b->d.hdr_end ||
	    a->out.n != b->out.n ||
	    memcmp(a->out.buf, b->out.buf, a->out.n) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	r[3];
	struct hdr_field f;
	char		*in;
	uint64_t	 seed = 0xcbf29ce484222325ull;
	size_t		 pos;

	in = malloc(size ? size : 1);
	if (in == NULL)
		return 0;
	memcpy(in, data, size);
	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 0x100000001b3ull;
	seed |= 2;
	for (int k = 0; k < 3; k++) {
		r[k].out.cap = 2 * size + 1;
		r[k].out.buf = malloc(r[k].out.cap);
		if (r[k].out.buf == NULL)
			abort();
	}

	for (int m = 0; m < 2; m++) {
		enum dscan_mode mode = m ? DSCAN_NORMALIZE : DSCAN_REJECT;

		scan(mode, in, size, 0, &r[0]);
		check_safe(&r[0]);
		scan(mode, in, size, seed, &r[1]);
		check_same(&r[0], &r[1]);
		if (size <= 1024) {
			scan(mode, in, size, 1, &r[2]);
			check_same(&r[0], &r[2]);
		}
		if (mode == DSCAN_NORMALIZE && (r[0].d.err & DSCAN_E_BARE))
			abort();
		/* A clean message passes unchanged in reject mode. */
		if (mode == DSCAN_REJECT && r[0].done && r[0].d.err == 0 &&
		    (r[0].out.n != r[0].consumed - 3 ||
		    memcmp(r[0].out.buf, in, r[0].out.n) != 0))
			abort();
		/* core/hdr.c ends the header section at the same place. */
		if (r[0].done && r[0].d.err == 0) {
			pos = 0;
			while (hdr_next(r[0].out.buf, r[0].out.n, &pos, &f))
				;
			if (pos != r[0].d.hdr_end)
				abort();
		}
	}

	for (int k = 0; k < 3; k++)
		free(r[k].out.buf);
	free(in);
	return 0;
}
