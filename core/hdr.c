/*
 * core/hdr.c - reading a held header section: fields one by one, a
 * field by name, and the Message-ID for the logs (RFC 5322 2.2, 3.2.2,
 * 3.6.4, 4.5.4). Input: untrusted, not NUL-terminated, wire format as it
 * goes to the backend (CRLF line endings, dot-stuffed). Results are
 * spans into the input or bytes copied into the caller's bounded
 * buffer; nothing is allocated.
 *
 * A line is judged as the backend will read it: one leading stuffing
 * dot is not part of the field name, so ".From: x" on the wire is a
 * From field and "..From: x" is a field named ".From" (the same rule
 * as core/dscan.c, which finds where this section ends).
 */
#include <string.h>

#include "core/hdr.h"

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

/*
 * Whether the line at i continues a field: it starts with SP or HTAB
 * once a stuffing dot is removed (". x" on the wire is " x").
 */
static int
is_cont(const char *p, size_t len, size_t i)
{
	if (i < len && p[i] == '.')
		i++;
	return i < len && is_wsp((unsigned char)p[i]);
}

/*
 * hdr_next - see core/hdr.h. A line ends at LF; a CR before that LF is
 * part of the line ending (the input should hold CRLF only). A field is
 * its first line, which holds "name" [WSP] ":", and every following line
 * that starts with SP or HTAB (after a stuffing dot, if any). On 0, *pos
 * is left at the line that ends the section (or at len).
 */
int
hdr_next(const char *p, size_t len, size_t *pos, struct hdr_field *f)
{
	size_t		 i = *pos, ns, ne, vs, eol, next;
	const char	*lf;

	if (i >= len)
		return 0;
	ns = i;
	if (p[ns] == '.')
		ns++;
	ne = ns;
	while (ne < len && is_ftext((unsigned char)p[ne]))
		ne++;
	if (ne == ns)
		return 0;
	vs = ne;
	while (vs < len && is_wsp((unsigned char)p[vs]))
		vs++;
	if (vs >= len || p[vs] != ':')
		return 0;
	vs++;

	/* Find the LF that is not followed by a continuation line. */
	next = vs;
	for (;;) {
		lf = memchr(p + next, '\n', len - next);
		if (lf == NULL) {
			eol = len;
			next = len;
			break;
		}
		eol = (size_t)(lf - p);
		next = eol + 1;
		if (is_cont(p, len, next))
			continue;
		if (eol > vs && p[eol - 1] == '\r')
			eol--;
		break;
	}
	f->name = span_make(p + ns, ne - ns);
	f->value = span_make(p + vs, eol - vs);
	f->raw = span_make(p + i, next - i);
	*pos = next;
	return 1;
}

int
hdr_find(const char *p, size_t len, const char *name, struct hdr_field *f)
{
	size_t	pos = 0;

	while (hdr_next(p, len, &pos, f))
		if (span_ieq(f->name, name))
			return 1;
	return 0;
}

/*
 * Reading a field value octet by octet with comments (nested, with
 * quoted pairs) and line breaks (with the stuffing dot of a continuation
 * line) taken out, and quoted strings marked so
 * that their "<", ">", "(" and white space are only text.
 */
struct val {
	const char	*p;
	size_t		 len;
	size_t		 i;
	int		 inq;	/* 1 in quotes, 2 after a \ there */
};

/* After a line break: skip the stuffing dot of a continuation line. */
static inline void
val_unstuff(struct val *v)
{
	if (v->i < v->len && v->p[v->i] == '.')
		v->i++;
}

/*
 * The next octet at or after v->i, or -1 at the end; *text is set when
 * it is quoted (part of a quoted string, its quotes and quoted pairs
 * included). An unterminated comment or quoted string runs to the end
 * of the value.
 */
static int
val_next(struct val *v, int *text)
{
	unsigned char	c;
	int		depth;

	while (v->i < v->len) {
		c = (unsigned char)v->p[v->i++];
		if (c == '\r')
			continue;
		if (c == '\n') {
			val_unstuff(v);
			continue;
		}
		if (v->inq) {
			*text = 1;
			if (v->inq == 2)
				v->inq = 1;
			else if (c == '"')
				v->inq = 0;
			else if (c == '\\')
				v->inq = 2;
			return c;
		}
		if (c == '(') {
			depth = 1;
			while (v->i < v->len && depth > 0) {
				c = (unsigned char)v->p[v->i++];
				if (c == '\n')
					val_unstuff(v);
				else if (c == '\\' && v->i < v->len)
					v->i++;
				else if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
			}
			continue;
		}
		*text = c == '"';
		if (c == '"')
			v->inq = 1;
		return c;
	}
	return -1;
}

/*
 * hdr_message_id - see core/hdr.h. The first "<" and the next ">" that
 * are neither quoted nor in a comment delimit the msg-id; inside them
 * white space and comments go (RFC 5322 4.5.4 allows CFWS around the
 * parts of an obsolete msg-id). Without such a pair the value is garbage
 * and is given as it is, without comments and line breaks, trimmed. The
 * output is cut at cap - 1 octets (a cut msg-id loses its ">").
 */
size_t
hdr_message_id(const char *p, size_t len, char *out, size_t cap)
{
	struct hdr_field	f;
	struct val		v;
	size_t			lt = 0, gt = 0, o = 0, keep = 0;
	int			c, text, found = 0;

	if (cap == 0)
		return 0;
	out[0] = '\0';
	if (!hdr_find(p, len, "Message-ID", &f))
		return 0;

	v = (struct val){ f.value.p, f.value.len, 0, 0 };
	while ((c = val_next(&v, &text)) >= 0) {
		if (text)
			continue;
		if (found == 0 && c == '<') {
			lt = v.i;
			found = 1;
		} else if (found == 1 && c == '>') {
			gt = v.i - 1;
			found = 2;
			break;
		}
	}

	if (found == 2) {
		v = (struct val){ f.value.p, gt, lt, 0 };
		if (o < cap - 1)
			out[o++] = '<';
		while (o < cap - 1 && (c = val_next(&v, &text)) >= 0)
			if (text || !is_wsp((unsigned char)c))
				out[o++] = (char)c;
		if (o < cap - 1)
			out[o++] = '>';
		out[o] = '\0';
		return o;
	}

	v = (struct val){ f.value.p, f.value.len, 0, 0 };
	while (o < cap - 1 && (c = val_next(&v, &text)) >= 0) {
		if (o == 0 && !text && is_wsp((unsigned char)c))
			continue;
		out[o++] = (char)c;
		if (text || !is_wsp((unsigned char)c))
			keep = o;
	}
	out[keep] = '\0';
	return keep;
}
