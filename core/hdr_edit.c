/*
 * core/hdr_edit.c - the header section as it goes to the backend:
 * mxshield's lines first, the fields only mxshield may write removed,
 * the Subject prefixed (core/hdr_edit.h). Input: untrusted, wire format
 * (RFC 5322 2.2, 3.6; fields found by core/hdr.c, folding kept). The
 * fields not named go out byte for byte. Allocates nothing.
 */
#include <string.h>
#include <strings.h>

#include "core/hdr.h"
#include "core/hdr_edit.h"

static void
put(hdr_emit_fn *emit, void *ctx, const char *p, size_t n)
{
	if (n > 0)
		emit(ctx, p, n);
}

static int
is_stripped(const struct hdr_edit *e, struct span name)
{
	for (size_t i = 0; i < e->nstrip; i++)
		if (span_ieq(name, e->strip[i]))
			return 1;
	return 0;
}

/* The Subject field f with the prefix in front of its value. */
static void
put_subject(const struct hdr_field *f, const char *prefix, hdr_emit_fn *emit,
    void *ctx)
{
	const char	*v = f->value.p, *end = f->raw.p + f->raw.len;
	size_t		 plen = strlen(prefix), vlen;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(end - v);
	if (vlen >= plen && strncasecmp(v, prefix, plen) == 0) {
		put(emit, ctx, f->raw.p, f->raw.len);
		return;
	}
	/* the name and its colon as written */
	put(emit, ctx, f->raw.p, (size_t)(f->value.p - f->raw.p));
	put(emit, ctx, " ", 1);
	put(emit, ctx, prefix, plen);
	if (plen > 0 && prefix[plen - 1] != ' ' && prefix[plen - 1] != '\t' &&
	    vlen >= 2 && v[0] == '=' && v[1] == '?')
		put(emit, ctx, " ", 1);
	put(emit, ctx, v, vlen);
}

/* "Subject: " and the prefix without its trailing blanks. */
static void
put_new_subject(const char *prefix, hdr_emit_fn *emit, void *ctx)
{
	size_t	plen = strlen(prefix);

	while (plen > 0 && (prefix[plen - 1] == ' ' ||
	    prefix[plen - 1] == '\t'))
		plen--;
	put(emit, ctx, "Subject: ", 9);
	put(emit, ctx, prefix, plen);
	put(emit, ctx, "\r\n", 2);
}

void
hdr_edit(const char *sec, size_t len, const struct hdr_edit *e,
    hdr_emit_fn *emit, void *ctx)
{
	struct hdr_field	f;
	size_t			pos = 0, last = 0;
	int			subject_done = e->subject_prefix == NULL;

	if (e->prepend != NULL)
		put(emit, ctx, e->prepend, e->prepend_len);
	if (!subject_done && !hdr_find(sec, len, "Subject", &f)) {
		put_new_subject(e->subject_prefix, emit, ctx);
		subject_done = 1;
	}
	while (hdr_next(sec, len, &pos, &f) == 1) {
		int strip = is_stripped(e, f.name);
		int subject = !strip && !subject_done &&
		    span_ieq(f.name, "Subject");

		if (!strip && !subject)
			continue;
		/* what came before this field, unchanged */
		put(emit, ctx, sec + last, (size_t)(f.raw.p - (sec + last)));
		if (subject) {
			put_subject(&f, e->subject_prefix, emit, ctx);
			subject_done = 1;
		}
		last = pos;
	}
	if (len > last)
		put(emit, ctx, sec + last, len - last);
}
