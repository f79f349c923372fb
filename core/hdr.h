/*
 * core/hdr.h - reading a held header section (RFC 5322 2.2, 3.6):
 * iterating fields, finding one by name, and extracting a Message-ID.
 * Input: the header section as it goes to the backend (CRLF line
 * endings, possibly dot-stuffed, untrusted content). Allocates nothing.
 */
#ifndef MXS_HDR_H
#define MXS_HDR_H

#include "core/span.h"

struct hdr_field {
	struct span	name;	/* field name, without trailing WSP and
				   without a leading dot-stuffing "." */
	struct span	value;	/* raw value after ":", folding kept
				   (with any stuffing dot of a
				   continuation line), final CRLF
				   removed */
	struct span	raw;	/* the whole field with its final CRLF */
};

/*
 * hdr_next - the field that starts at *pos in p[0..len); advances *pos
 * past it. Returns 1 for a field, 0 at the end of the section (an empty
 * line, a line that is no field, or the end of the input). Lines end at
 * LF; a CR before it belongs to the line ending. A line continues a field
 * when it starts with SP or HTAB after removing one stuffing dot.
 */
int	hdr_next(const char *p, size_t len, size_t *pos, struct hdr_field *f);

/* hdr_find - the first field named name (case-insensitive). 1 if found. */
int	hdr_find(const char *p, size_t len, const char *name,
	    struct hdr_field *f);

/*
 * hdr_message_id - the msg-id of the first Message-ID field, unfolded,
 * comments and surrounding whitespace removed, angle brackets kept
 * ("<id@host>"), written to out as at most cap-1 bytes plus NUL.
 * Returns its length, 0 when there is none.
 */
size_t	hdr_message_id(const char *p, size_t len, char *out, size_t cap);

#endif
