/*
 * core/obuf.h - a bounded output buffer for a header field folded at
 * column 78 (RFC 5322 2.1.1), shared by the Received: (core/received.c)
 * and Received-SPF: (core/spf_header.c) writers. A write that does not
 * fit (one octet is kept for the NUL) sets full and is dropped, so the
 * writer checks once at the end instead of at each write. Pure.
 */
#ifndef MXS_OBUF_H
#define MXS_OBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define OBUF_COLS	78	/* RFC 5322 2.1.1 */

struct obuf {
	char	*p;
	size_t	 cap;
	size_t	 len;
	size_t	 col;		/* characters on the current line */
	bool	 full;
};

static inline void
ob_put(struct obuf *o, const char *s, size_t n)
{
	if (o->full || o->len + n + 1 > o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->col += n;
}

static inline void
ob_str(struct obuf *o, const char *s)
{
	ob_put(o, s, strlen(s));
}

/* CRLF and a TAB: the next part starts a continuation line. */
static inline void
ob_fold(struct obuf *o)
{
	ob_put(o, "\r\n\t", 3);
	o->col = 1;
}

/* One space, or a fold if a part of n characters would pass column 78. */
static inline void
ob_space(struct obuf *o, size_t n)
{
	if (o->col + 1 + n > OBUF_COLS)
		ob_fold(o);
	else
		ob_put(o, " ", 1);
}

#endif
