/*
 * core/mime_codec.h - streaming quoted-printable and base64 decoders
 * and encoders (RFC 2045 6.7, 6.8) for core/mime_append.c, which
 * decodes a text part, appends to it and encodes it again. Each keeps
 * its state in a small caller-owned struct (all zero to start) and
 * writes through a sink; any split of the input gives the same output.
 * Input: untrusted octets (decoders: encoded text without line endings,
 * one line piece at a time; encoders: any octets). Allocates nothing.
 */
#ifndef MXS_MIME_CODEC_H
#define MXS_MIME_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define MC_LINE	76	/* encoded line length, RFC 2045 6.7 (5), 6.8 */

/* Where output goes; n is never 0; p is valid during the call only. */
typedef void	(*mc_sink)(void *ctx, const char *p, size_t n);

struct qp_dec {
	int		st;	/* 0, 1: after "=", 2: after "=" and a hex digit */
	char		x;	/* that hex digit */
};

struct b64_dec {
	uint32_t	acc;	/* digits of the quantum so far */
	unsigned	n;	/* how many (0-3) */
};

struct qp_enc {
	char		line[MC_LINE + 4];
	size_t		len;	/* octets in line, at most MC_LINE - 1 */
	int		cr;	/* a CR held: a hard line break if LF follows */
};

struct b64_enc {
	unsigned char	q[3];	/* octets of the quantum so far */
	unsigned	qn;
	char		line[MC_LINE + 4];
	size_t		len;
	int		nl;	/* a full line went out; its CRLF is due */
};

/*
 * qpd_piece - decode p[0..n), a piece of one encoded line (no line
 * ending in it; "=" and its digits may straddle pieces). When last, the
 * piece ends the line: trailing white space is dropped (RFC 2045 6.7
 * (3)) and the return value says whether the line ended in a soft line
 * break (1) or a hard one (0). "=" not followed by two hex digits is
 * kept as it is.
 */
int	qpd_piece(struct qp_dec *d, const char *p, size_t n, int last,
	    mc_sink out, void *ctx);

/* qpd_finish - the part ends inside a line: what is held goes out. */
void	qpd_finish(struct qp_dec *d, mc_sink out, void *ctx);

/*
 * b64d_put - decode base64 text p[0..n); octets outside the alphabet
 * are ignored (RFC 2045 6.8), "=" ends the quantum it is in.
 */
void	b64d_put(struct b64_dec *d, const char *p, size_t n, mc_sink out,
	    void *ctx);

/* b64d_finish - the end of the data: a quantum of 2 or 3 digits goes
 * out as 1 or 2 octets, a lone digit is dropped. */
void	b64d_finish(struct b64_dec *d, mc_sink out, void *ctx);

/*
 * qpe_put - encode p[0..n): CRLF is a hard line break, every other
 * octet outside printable ASCII, "=", a "." starting a line and white
 * space before a line break are encoded; soft breaks keep lines at
 * most MC_LINE octets.
 */
void	qpe_put(struct qp_enc *e, const char *p, size_t n, mc_sink out,
	    void *ctx);

/*
 * qpe_finish - the end of the data. A last line without a hard break
 * goes out without CRLF when more follows on its line (crlf == 0: the
 * CRLF of the next boundary delimiter ends it), with a soft break and
 * CRLF otherwise.
 */
void	qpe_finish(struct qp_enc *e, int crlf, mc_sink out, void *ctx);

/* b64e_put - encode p[0..n), MC_LINE digits a line. */
void	b64e_put(struct b64_enc *e, const char *p, size_t n, mc_sink out,
	    void *ctx);

/* b64e_finish - the last quantum, padded; the last line gets its CRLF
 * only when crlf (as for qpe_finish). */
void	b64e_finish(struct b64_enc *e, int crlf, mc_sink out, void *ctx);

#endif
