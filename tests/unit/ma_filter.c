/*
 * tests/unit/ma_filter.c - a filter around core/mime_append for the
 * oracle test (tests/integration/test_mime_append_oracle.py): reads a
 * whole message from stdin (header section, empty line, body; CRLF; not
 * dot-stuffed), dot-stuffs it as a client would send it, runs ma_init,
 * ma_feed and ma_finish, removes the stuffing again and writes the
 * message to stdout. The outcome and the number of parts go to stderr
 * as "outcome=appended parts=2".
 *
 * usage: ma_filter [-c chunk] (-t text | -f textfile) < message
 * -c feeds the body chunk octets at a time (default: all at once).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mime_append.h"

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
buf_add(struct buf *b, const char *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t	 cap = (b->len + n) * 2 + 64;
		char	*np = realloc(b->p, cap);

		if (np == NULL) {
			perror("realloc");
			exit(2);
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
read_all(FILE *f, struct buf *b)
{
	char	tmp[65536];
	size_t	n;

	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(b, tmp, n);
}

/* RFC 5321 4.5.2: a "." starting a line is doubled (or undoubled). */
static void
stuff(const char *p, size_t n, struct buf *out, int undo)
{
	int bol = 1;

	for (size_t i = 0; i < n; i++) {
		if (bol && p[i] == '.') {
			if (!undo)
				buf_add(out, ".", 1);
			else {
				bol = 0;
				continue;
			}
		}
		buf_add(out, p + i, 1);
		bol = p[i] == '\n';
	}
}

static void
on_emit(void *ctx, const char *p, size_t n)
{
	if (n == 0) {
		fprintf(stderr, "ma_filter: emit with n == 0\n");
		exit(2);
	}
	buf_add(ctx, p, n);
}

/* The offset of the empty line that ends the header section. */
static size_t
header_end(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && p[i - 1] != '\n')
			continue;
		if (p[i] == '\n' || (p[i] == '\r' && i + 1 < n &&
		    p[i + 1] == '\n'))
			return i;
	}
	return n;
}

int
main(int argc, char **argv)
{
	struct buf		 text = { 0 }, msg = { 0 }, wire = { 0 };
	struct buf		 out = { 0 }, plain = { 0 };
	struct mime_append	*m;
	enum ma_outcome		 o;
	size_t			 chunk = 0, h;
	int			 c;
	FILE			*f;

	while ((c = getopt(argc, argv, "c:f:t:")) != -1) {
		switch (c) {
		case 'c':
			chunk = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 'f':
			if ((f = fopen(optarg, "rb")) == NULL) {
				perror(optarg);
				return 2;
			}
			read_all(f, &text);
			fclose(f);
			break;
		case 't':
			buf_add(&text, optarg, strlen(optarg));
			break;
		default:
			fprintf(stderr, "usage: ma_filter [-c chunk] "
			    "(-t text | -f file) < message\n");
			return 2;
		}
	}
	read_all(stdin, &msg);
	h = header_end(msg.p, msg.len);
	stuff(msg.p, msg.len, &wire, 0);
	/* the stuffed header section is as long as it was plus its dots */
	{
		struct buf hs = { 0 };

		stuff(msg.p, h, &hs, 0);
		h = hs.len;
		free(hs.p);
	}
	if ((m = malloc(ma_size())) == NULL)
		return 2;
	o = ma_init(m, wire.p, h, text.p != NULL ? text.p : "", text.len);
	buf_add(&out, wire.p, h);
	if (chunk == 0)
		chunk = wire.len - h + 1;
	for (size_t i = h; i < wire.len; i += chunk) {
		size_t k = wire.len - i < chunk ? wire.len - i : chunk;

		ma_feed(m, wire.p + i, k, on_emit, &out);
	}
	o = ma_finish(m, on_emit, &out);
	stuff(out.p, out.len, &plain, 1);
	fwrite(plain.p, 1, plain.len, stdout);
	fprintf(stderr, "outcome=%s parts=%u\n", ma_outcome_text(o),
	    ma_parts(m));
	free(m);
	free(text.p);
	free(msg.p);
	free(wire.p);
	free(out.p);
	free(plain.p);
	return 0;
}
