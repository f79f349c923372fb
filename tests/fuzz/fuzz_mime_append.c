/*
 * tests/fuzz/fuzz_mime_append.c - libFuzzer target for core/mime_append.c.
 * The first input octet picks the text to append; the rest is a message:
 * its header section up to the first empty line goes to ma_init(), the
 * body from that empty line on to ma_feed(), whole, one octet at a time
 * (short inputs) and in pieces whose sizes come from the input.
 * Invariants: all runs give the same output, outcome and count; unless
 * the outcome is MA_APPENDED the output equals the input; MA_APPENDED
 * if and only if a part got the text; no emit of 0 octets; and when the
 * input holds no bare CR or LF neither does the output. Failures abort().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mime_append.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const texts[] = {
	"Warning: this message may be spoofed.",
	"Achtung: gef\xc3\xa4lscht \xe2\x9c\x93 & <b>\r\nzweite Zeile\n",
	".dot first\n..\n\n",
	"\xe2\x82\xac \xc3\xa9 \xff invalid",
};

struct sink {
	char	*p;
	size_t	 len, cap;
};

static void
on_emit(void *ctx, const char *p, size_t n)
{
	struct sink *s = ctx;

	if (n == 0 || p == NULL)
		abort();
	if (s->len + n > s->cap) {
		s->cap = (s->len + n) * 2;
		s->p = realloc(s->p, s->cap);
		if (s->p == NULL)
			abort();
	}
	memcpy(s->p + s->len, p, n);
	s->len += n;
}

struct run {
	struct sink	out;
	enum ma_outcome	rc;
	unsigned	parts;
};

/* Pieces: 0 = whole, 1 = octets, 2 = sizes from the input. */
static struct run
run(const char *hdr, size_t hlen, const char *body, size_t blen,
    const char *text, int how, const uint8_t *seed, size_t seedn)
{
	struct mime_append	*m = malloc(ma_size());
	struct run		 r;
	size_t			 i = 0, k = 0;

	if (m == NULL)
		abort();
	memset(&r, 0, sizeof(r));
	(void)ma_init(m, hdr, hlen, text, strlen(text));
	while (i < blen) {
		size_t n = blen - i;

		if (how == 1)
			n = 1;
		else if (how == 2 && seedn > 0) {
			size_t want = (size_t)seed[k++ % seedn] % 97 + 1;

			n = want < n ? want : n;
		}
		ma_feed(m, body + i, n, on_emit, &r.out);
		i += n;
	}
	r.rc = ma_finish(m, on_emit, &r.out);
	r.parts = ma_parts(m);
	free(m);
	return r;
}

static int
has_bare(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 1;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 1;
	}
	return 0;
}

static size_t
header_end(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++)
		if ((i == 0 || p[i - 1] == '\n') && p[i] == '\r' &&
		    p[i + 1] == '\n')
			return i;
	return n;
}

static void
same(const struct run *a, const struct run *b)
{
	if (a->rc != b->rc || a->parts != b->parts ||
	    a->out.len != b->out.len ||
	    (a->out.len > 0 && memcmp(a->out.p, b->out.p, a->out.len) != 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*text;
	char		*in;
	size_t		 n, h;
	struct run	 whole, other;

	if (size < 1)
		return 0;
	text = texts[data[0] % (sizeof(texts) / sizeof(texts[0]))];
	n = size - 1;
	in = malloc(n ? n : 1);
	if (in == NULL)
		abort();
	memcpy(in, data + 1, n);
	h = header_end(in, n);

	whole = run(in, h, in + h, n - h, text, 0, NULL, 0);
	if ((whole.rc == MA_APPENDED) != (whole.parts > 0))
		abort();
	if (whole.rc == MA_PENDING)
		abort();
	if (whole.rc != MA_APPENDED && (whole.out.len != n - h ||
	    (n > h && memcmp(whole.out.p, in + h, n - h) != 0)))
		abort();
	if (!has_bare(in + h, n - h) && has_bare(whole.out.p, whole.out.len))
		abort();

	other = run(in, h, in + h, n - h, text, 2, data, size);
	same(&whole, &other);
	free(other.out.p);
	if (n - h <= 4096) {
		other = run(in, h, in + h, n - h, text, 1, NULL, 0);
		same(&whole, &other);
		free(other.out.p);
	}
	free(whole.out.p);
	free(in);
	return 0;
}
