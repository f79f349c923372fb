/*
 * core/hdr_edit.h - one pass over a held header section on its way to
 * the backend: fields that only mxshield may write are removed
 * (X-Authenticated-Sender, X-Spoof-Score, ...: every occurrence, folded
 * lines included), mxshield's own lines go first, and the Subject may
 * get a prefix (one is added when there is no Subject). Input: the
 * header section as core/hdr.c reads it (wire format, dot-stuffed,
 * untrusted). Output through the caller's emit function, in order.
 * Pure; allocates nothing.
 */
#ifndef MXS_HDR_EDIT_H
#define MXS_HDR_EDIT_H

#include <stddef.h>

typedef void	hdr_emit_fn(void *ctx, const char *p, size_t n);

struct hdr_edit {
	const char *const	*strip;		/* field names (any case) to
						   remove; may be NULL */
	size_t			 nstrip;
	const char		*prepend;	/* whole lines, CRLF each, written
						   first; may be NULL */
	size_t			 prepend_len;
	const char		*subject_prefix; /* NULL: Subject untouched */
};

/*
 * hdr_edit - sec[0..len) (the header fields, up to the first body byte)
 * edited by e, through emit(ctx, p, n) (never n == 0). The prefix goes
 * in front of the first Subject field's value (its leading blanks
 * dropped; a space is put between when the prefix does not end in one
 * and the value starts with an RFC 2047 encoded word), unless the value
 * already starts with the prefix (ASCII case-insensitive); with no
 * Subject field, "Subject: " and the prefix (trailing blanks dropped)
 * follow the prepended lines. Whatever follows the last field in
 * sec[0..len) (a line that is no field) goes out as it came.
 */
void	hdr_edit(const char *sec, size_t len, const struct hdr_edit *e,
	    hdr_emit_fn *emit, void *ctx);

#endif
