/*
 * core/dscan.c - the DATA stream scanner: finds the end of data (only
 * CRLF "." CRLF), refuses or rewrites bare CR and bare LF, refuses NUL,
 * and finds the end of the header section (RFC 5321 4.1.1.4, 4.5.2;
 * RFC 5322 2.1, 2.2). Input: untrusted client bytes in arbitrary
 * splits. Output: wire-format bytes through the caller's emit callback,
 * as spans of the input wherever the output equals the input. Owns no
 * memory; all state lives in the caller's struct dscan.
 *
 * The scanner keeps one "run": the input bytes since the last emit that
 * go out unchanged. A run is emitted only when something else must be
 * written (a rewritten line ending, an added dot), when an error stops
 * the output, at the end of data and at the end of each call. Up to two
 * bytes are held back between calls ("\r", ".", ".\r" at a line start):
 * the state says which, so they are re-created from constants.
 */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/dscan.h"

/* Scanner states (struct dscan.st). */
enum {
	S_BOL = 0,	/* line start after a real CRLF, or start of data */
	S_MID,		/* inside a line */
	S_CR,		/* held "\r" */
	S_DOT,		/* held "." at S_BOL */
	S_DOT_CR,	/* held ".\r" at S_BOL */
	S_BOL_BARE,	/* line start after a rewritten bare CR or LF */
	S_END,		/* end of data seen */
};

/* Header states (struct dscan.hst), in this order: see hdr_* below. */
enum {
	H_FIRST = 0,	/* start of the first line */
	H_LINE,		/* start of a line after a field */
	H_NAME,		/* in a field name */
	H_WSP,		/* white space between name and ':' */
	H_REST,		/* rest of a field or continuation line */
	H_BODY,		/* hdr_end known */
	H_OFF,		/* an error stopped the output: not tracked */
};

/* The bytes each state holds back, as constants to re-emit from. */
static const char *const held_str[] = {
	[S_CR] = "\r", [S_DOT] = ".", [S_DOT_CR] = ".\r", [S_END] = NULL,
};
static const unsigned char held_len[] = {
	[S_CR] = 1, [S_DOT] = 1, [S_DOT_CR] = 2, [S_END] = 0,
};

/* Octets that end a plain run inside a line. */
static const unsigned char special[256] = {
	['\0'] = 1, ['\r'] = 1, ['\n'] = 1,
};

/* One call of dscan_feed(): the input and the pending run. */
struct feed {
	struct dscan	*d;
	const char	*p;	/* borrowed input */
	size_t		 run;	/* start of the unemitted run in p */
	const char	*pre;	/* held bytes from the previous call */
	size_t		 npre;	/* ... unemitted, before p[run] */
	dscan_emit_fn	 emit;
	void		*ctx;
};

/*
 * The index of the first NUL, CR or LF in p[i..len), or len: the hot
 * loop of the scanner. Sixteen octets at a time with SSE2 (x86-64 always
 * has it), else eight at a time in a 64-bit word; loads are unaligned.
 */
#if defined(__SSE2__)
static inline size_t
skip_plain(const char *p, size_t i, size_t len)
{
	const __m128i	cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
	const __m128i	nul = _mm_setzero_si128();
	__m128i		v;
	unsigned	m;

	while (len - i >= 16) {
		v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		m = (unsigned)_mm_movemask_epi8(_mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)),
		    _mm_cmpeq_epi8(v, nul)));
		if (m != 0)
			return i + (size_t)__builtin_ctz(m);
		i += 16;
	}
	while (i < len && !special[(unsigned char)p[i]])
		i++;
	return i;
}
#else
#define ONES	0x0101010101010101ull
#define HIGHS	0x8080808080808080ull

/* Nonzero when one of the eight octets of v is zero. */
static inline uint64_t
zbyte(uint64_t v)
{
	return (v - ONES) & ~v & HIGHS;
}

static inline size_t
skip_plain(const char *p, size_t i, size_t len)
{
	uint64_t	a;

	while (len - i >= 8) {
		memcpy(&a, p + i, 8);
		if ((zbyte(a) | zbyte(a ^ (ONES * '\r')) |
		    zbyte(a ^ (ONES * '\n'))) != 0)
			break;
		i += 8;
	}
	while (i < len && !special[(unsigned char)p[i]])
		i++;
	return i;
}
#endif

static inline int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* A field-name octet (RFC 5322 3.6.8 ftext). */
static inline int
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

static void
out(struct feed *f, const char *s, size_t n)
{
	if (n == 0 || f->d->err != 0)
		return;
	f->emit(f->ctx, s, n);
	f->d->out_bytes += n;
}

/*
 * Emit what is pending before input offset i, except its last drop
 * bytes (held bytes that are being replaced or thrown away). Pending is
 * the held prefix from the previous call followed by p[run..i).
 */
static void
flush(struct feed *f, size_t i, size_t drop)
{
	size_t	inbuf = i - f->run;

	if (drop <= inbuf) {
		out(f, f->pre, f->npre);
		out(f, f->p + f->run, inbuf - drop);
	} else
		out(f, f->pre, f->npre - (drop - inbuf));
	f->npre = 0;
	f->run = i;
}

/* The output offset that input offset i will have once emitted. */
static inline uint64_t
outpos(const struct feed *f, size_t i)
{
	return f->d->out_bytes + f->npre + (i - f->run);
}

/* Stop the output: emit the pending bytes but drop held ones. */
static void
fail(struct feed *f, size_t i, size_t drop, unsigned bit)
{
	flush(f, i, drop);
	f->d->err |= bit;
	if (f->d->hst < H_BODY)
		f->d->hst = H_OFF;
}

/*
 * Header tracking. It sees the logical line as the backend will, after
 * removing one dot-stuffing dot: callers feed it every octet of a line
 * in the header section except a dot that only stuffs, and report each
 * output line ending. A line that is neither a field nor a continuation
 * (or an empty one) is the first body line.
 */
static void
hdr_byte(struct dscan *d, unsigned char c)
{
	switch (d->hst) {
	case H_FIRST:
	case H_LINE:
		if (is_wsp(c)) {
			if (d->hst == H_FIRST)
				break;
			d->hst = H_REST;
			return;
		}
		if (is_ftext(c)) {
			d->hst = H_NAME;
			return;
		}
		break;
	case H_NAME:
		if (is_ftext(c))
			return;
		if (c == ':') {
			d->hst = H_REST;
			return;
		}
		if (is_wsp(c)) {
			d->hst = H_WSP;
			return;
		}
		break;
	case H_WSP:
		if (is_wsp(c))
			return;
		if (c == ':') {
			d->hst = H_REST;
			return;
		}
		break;
	default:
		return;
	}
	d->hdr_end = d->line_start;
	d->hst = H_BODY;
}

/* A line ended; next is the output offset of the next line. */
static inline void
hdr_eol(struct dscan *d, uint64_t next)
{
	if (d->hst == H_REST) {
		d->hst = H_LINE;
		d->line_start = next;
	} else if (d->hst < H_REST) {
		d->hdr_end = d->line_start;
		d->hst = H_BODY;
	}
}

/* dscan_init - a scanner at the start of the data, after the 354. */
void
dscan_init(struct dscan *d, enum dscan_mode mode)
{
	memset(d, 0, sizeof(*d));
	d->mode = mode;
	d->hdr_end = DSCAN_HDR_UNKNOWN;
	d->st = S_BOL;
	d->hst = H_FIRST;
}

/*
 * dscan_feed - see core/dscan.h. A CR is judged on the octet after it,
 * so a CR at the end of p is held until the next call; so are "." and
 * ".\r" at a line start. In reject mode the first bare CR or LF stops
 * the output, and scanning goes on to the real end of data. Emits only
 * through emit; keeps no pointer into p after returning.
 */
size_t
dscan_feed(struct dscan *d, const char *p, size_t len, dscan_emit_fn emit,
    void *ctx, int *done)
{
	struct feed	f;
	size_t		i = 0;
	int		st = d->st;
	int		norm = d->mode == DSCAN_NORMALIZE;
	unsigned char	c;

	*done = 0;
	if (st == S_END) {
		*done = 1;
		return 0;
	}
	/* Nothing to scan, and p may be NULL (an empty side buffer):
	 * flush() would form NULL + 0, which is undefined. */
	if (len == 0)
		return 0;
	f.d = d;
	f.p = p;
	f.run = 0;
	f.pre = held_str[st];
	f.npre = held_len[st];
	f.emit = emit;
	f.ctx = ctx;

	while (i < len) {
		c = (unsigned char)p[i];
		switch (st) {
		case S_BOL:
			if (c == '.') {
				st = S_DOT;
				i++;
				break;
			}
			st = S_MID;
			break;

		case S_BOL_BARE:
			/* No unstuffing happens after a bare ending: the
			 * backend must see this dot, so stuff it. */
			if (c == '.') {
				flush(&f, i, 0);
				out(&f, ".", 1);
			}
			st = S_MID;
			break;

		case S_DOT:
			if (c == '\r') {
				st = S_DOT_CR;
				i++;
				break;
			}
			if (c == '\n') {
				/* ".\n" is a one-dot line, never the end. */
				d->lines++;
				d->bare++;
				if (norm) {
					flush(&f, i, 0);
					out(&f, ".\r\n", 3);
					hdr_byte(d, '.');
				} else
					fail(&f, i, 1, DSCAN_E_BARE);
				i++;
				f.run = i;
				hdr_eol(d, outpos(&f, i));
				st = S_BOL_BARE;
				break;
			}
			/* ".." or ".x": the dot goes out as sent. */
			st = S_MID;
			break;

		case S_DOT_CR:
			if (c == '\n') {
				flush(&f, i, 2);
				i++;
				st = S_END;
				goto end;
			}
			/* ".\r" then not LF: a one-dot line, bare CR. */
			d->lines++;
			d->bare++;
			if (norm) {
				flush(&f, i, 1);
				out(&f, ".\r\n", 3);
				hdr_byte(d, '.');
			} else
				fail(&f, i, 2, DSCAN_E_BARE);
			hdr_eol(d, outpos(&f, i));
			st = S_BOL_BARE;
			break;	/* c again, at a line start */

		case S_CR:
			d->lines++;
			if (c == '\n') {
				i++;
				hdr_eol(d, outpos(&f, i));
				st = S_BOL;
				break;
			}
			d->bare++;
			if (norm) {
				flush(&f, i, 0);
				out(&f, "\n", 1);
			} else
				fail(&f, i, 1, DSCAN_E_BARE);
			hdr_eol(d, outpos(&f, i));
			st = S_BOL_BARE;
			break;	/* c again, at a line start */

		case S_MID:
			if (d->hst >= H_REST) {
				i = skip_plain(p, i, len);
				if (i == len)
					goto more;
				c = (unsigned char)p[i];
			} else if (!special[c]) {
				hdr_byte(d, c);
				i++;
				break;
			}
			if (c == '\r' && i + 1 < len && p[i + 1] == '\n') {
				/* The common CRLF, decided in place. */
				d->lines++;
				i += 2;
				hdr_eol(d, outpos(&f, i));
				st = i < len && p[i] != '.' ? S_MID : S_BOL;
				break;
			}
			if (c == '\r') {
				st = S_CR;
				i++;
				break;
			}
			if (c == '\n') {
				d->lines++;
				d->bare++;
				if (norm) {
					flush(&f, i, 0);
					out(&f, "\r\n", 2);
				} else
					fail(&f, i, 0, DSCAN_E_BARE);
				i++;
				f.run = i;
				hdr_eol(d, outpos(&f, i));
				st = S_BOL_BARE;
				break;
			}
			fail(&f, i, 0, DSCAN_E_NUL);
			i++;
			f.run = i;
			break;

		default:
			/* Unreachable: S_END returned above. */
			st = S_MID;
			break;
		}
	}
more:
	flush(&f, len, held_len[st]);
	d->st = st;
	d->in_bytes += len;
	return len;

end:
	d->st = S_END;
	d->in_bytes += i;
	if (d->hdr_end == DSCAN_HDR_UNKNOWN)
		d->hdr_end = d->out_bytes;
	*done = 1;
	return i;
}
