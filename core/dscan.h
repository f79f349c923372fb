/*
 * core/dscan.h - the DATA stream scanner: client bytes after 354 in,
 * safe wire bytes for the backend out (RFC 5321 4.1.1.4, 4.5.2).
 *
 * End of data is only CRLF "." CRLF. The output never holds a bare CR
 * or bare LF: in DSCAN_REJECT mode the first one sets DSCAN_E_BARE and
 * nothing more is emitted; in DSCAN_NORMALIZE mode every bare CR or LF
 * becomes CRLF, and a line that follows such a rewritten ending and
 * begins with "." gets one more "." so that the backend sees the same
 * single message (a lone "." line can never become end-of-data). A NUL
 * sets DSCAN_E_NUL and stops the output in both modes. The scanner keeps
 * dot-stuffing as sent (output is wire format, still stuffed), does not
 * emit the final ".\r\n", and finds the end of the header section
 * (RFC 5322 2.1: the first empty line, or the first line that is neither
 * a header field "name:" nor a continuation starting with SP/HTAB; a
 * line is judged as the backend reads it, without its stuffing dot).
 * It is a state machine fed arbitrary splits; it allocates nothing.
 */
#ifndef MXS_DSCAN_H
#define MXS_DSCAN_H

#include <stddef.h>
#include <stdint.h>

enum dscan_mode {
	DSCAN_REJECT = 0,
	DSCAN_NORMALIZE,
};

/* Sticky error bits in struct dscan.err. */
#define DSCAN_E_BARE	0x01u	/* bare CR or LF (reject mode) */
#define DSCAN_E_NUL	0x02u	/* NUL octet */

#define DSCAN_HDR_UNKNOWN UINT64_MAX

struct dscan {
	enum dscan_mode	mode;
	unsigned	err;		/* DSCAN_E_* bits, sticky */
	uint64_t	out_bytes;	/* bytes emitted so far */
	uint64_t	in_bytes;	/* bytes consumed so far */
	uint64_t	lines;		/* line endings seen (any kind),
					   the final ".\r\n" not counted */
	uint64_t	bare;		/* bare CR or LF seen, both modes
					   (normalize: endings rewritten) */
	uint64_t	hdr_end;	/* output offset of the first body byte
					   (the empty line or first non-field
					   line), DSCAN_HDR_UNKNOWN until known;
					   at end of data without a body it is
					   out_bytes; not tracked further once
					   an error bit is set */
	/* internal state, opaque to callers */
	int		st;
	int		hst;
	int		after_bare;	/* unused */
	uint64_t	line_start;	/* output offset of this line */
};

/* Called for each run of output bytes, in order. p may point into the
 * input or to a constant; it is valid only during the call. */
typedef void	(*dscan_emit_fn)(void *ctx, const char *p, size_t n);

void		dscan_init(struct dscan *d, enum dscan_mode mode);

/*
 * dscan_feed - scan p[0..len). Returns bytes consumed: all of len, or
 * fewer when the end of data was reached, in which case *done is set to
 * 1 and the bytes after the final CRLF.CRLF are left to the caller (they
 * are the next command); otherwise *done is set to 0. Once done, further
 * calls consume nothing and set *done to 1. Calls emit for the output
 * (never after an error bit is set, never with n == 0). Bytes held back
 * (a "\r", or a "." or ".\r" at a line start, that might start the end)
 * are consumed and emitted later; the output is the same whatever the
 * split of the input.
 */
size_t		dscan_feed(struct dscan *d, const char *p, size_t len,
		    dscan_emit_fn emit, void *ctx, int *done);

#endif
