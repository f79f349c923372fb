/*
 * tests/bench/ma_speed.c - how fast core/mime_append.c streams a body,
 * in MB of input per second, on messages of about 1 MB fed in 64 KB
 * pieces (as a session feeds them):
 *   plain   a single-part 7bit text/plain of 78-octet lines (the text
 *           goes at its end);
 *   attach  a multipart/mixed: a short text/plain part, then a base64
 *           attachment of 1 MB (it passes through unchanged);
 *   qp      a single-part quoted-printable text/plain (decoded and
 *           encoded again);
 *   b64     a single-part base64 text/plain (decoded and encoded again).
 * Each case runs for about a second; the best of 5 rounds is printed.
 * usage: ma_speed [plain | attach | qp | b64]
 * Built with the unit tests (CMakeLists.txt, MXS_UNIT_TESTS), or alone:
 *   cc -O2 -I. tests/bench/ma_speed.c core/mime_append.c core/mime_part.c \
 *     core/mime_codec.c core/ew_tab.c core/ew.c core/esc.c -o ma_speed
 *
 * MB/s on one core of a shared 2-core development box (cc -O2; best of
 * interleaved runs, which vary by 20 % or more), before and after
 * ln_run() and the output spans in core/mime_append.c and the direct
 * store in the quoted-printable encoder:
 *            before   after
 *   plain      2150   12000
 *   attach     4800   80000
 *   qp          240     275
 *   b64         295     290	(codec-bound; the same code)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mime_append.h"

#define MB	(1024 * 1024)
#define PIECE	65536

struct msg {
	const char	*name;
	char		*hdr;
	size_t		 hlen;
	char		*body;
	size_t		 blen, cap;
};

static size_t	out_total;

static void
on_emit(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	out_total += n;
}

static void
add(struct msg *m, const char *p, size_t n)
{
	if (m->blen + n > m->cap) {
		m->cap = (m->blen + n) * 2;
		if ((m->body = realloc(m->body, m->cap)) == NULL) {
			perror("realloc");
			exit(1);
		}
	}
	memcpy(m->body + m->blen, p, n);
	m->blen += n;
}

static void
adds(struct msg *m, const char *s)
{
	add(m, s, strlen(s));
}

static void
msg_init(struct msg *m, const char *name, const char *hdr)
{
	memset(m, 0, sizeof(*m));
	m->name = name;
	m->hdr = strdup(hdr);
	m->hlen = strlen(hdr);
	adds(m, "\r\n");
}

/* Lines of 76 base64 digits until about size octets. */
static void
add_b64(struct msg *m, size_t size)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char	line[78];
	size_t	k = 0;

	while (size > 0) {
		for (int i = 0; i < 76; i++)
			line[i] = a[k++ * 7 % 64];
		line[76] = '\r';
		line[77] = '\n';
		add(m, line, sizeof(line));
		size -= size < sizeof(line) ? size : sizeof(line);
	}
}

static void
build(struct msg *c)
{
	char	line[80];
	size_t	i;

	msg_init(&c[0], "plain", "From: <bench@example.com>\r\n"
	    "To: <sink@example.com>\r\n");
	memset(line, 'X', 78);
	memcpy(line + 78, "\r\n", 2);
	for (i = 0; i < MB / 80; i++)
		add(&c[0], line, 80);

	msg_init(&c[1], "attach", "From: <bench@example.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"=_b0und4ry_x\"\r\n");
	adds(&c[1], "This is a multi-part message in MIME format.\r\n"
	    "\r\n--=_b0und4ry_x\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "Hello,\r\n\r\nthe report is attached.\r\n\r\n-- \r\nBob\r\n"
	    "\r\n--=_b0und4ry_x\r\n"
	    "Content-Type: application/pdf; name=\"report.pdf\"\r\n"
	    "Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n");
	add_b64(&c[1], MB);
	adds(&c[1], "\r\n--=_b0und4ry_x--\r\n");

	msg_init(&c[2], "qp", "From: <bench@example.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n");
	for (i = 0; c[2].blen < MB; i++)
		adds(&c[2], i % 2 ? "Gr=C3=BC=C3=9Fe aus M=C3=BCnchen, "
		    "die Stra=C3=9Fe ist lang und das Wetter ist =\r\n" :
		    "sch=C3=B6n. Eine Zeile mit einem =3D Zeichen.\r\n");

	msg_init(&c[3], "b64", "From: <bench@example.com>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: base64\r\n");
	add_b64(&c[3], MB);
}

static double
now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void
once(struct mime_append *m, const struct msg *c)
{
	(void)ma_init(m, c->hdr, c->hlen, "Warning: this message may be "
	    "spoofed.", 37);
	for (size_t i = 0; i < c->blen; i += PIECE)
		ma_feed(m, c->body + i, c->blen - i < PIECE ? c->blen - i :
		    PIECE, on_emit, NULL);
	if (ma_finish(m, on_emit, NULL) != MA_APPENDED) {
		fprintf(stderr, "%s: not appended\n", c->name);
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	struct msg		 c[4];
	struct mime_append	*m;

	if ((m = malloc(ma_size())) == NULL)
		return 1;
	build(c);
	for (int k = 0; k < 4; k++) {
		double	best = 0;
		int	n = 0;

		if (argc > 1 && strcmp(argv[1], c[k].name) != 0)
			continue;
		for (int r = 0; r < 5; r++) {
			double t0 = now(), t;

			n = 0;
			do {
				once(m, &c[k]);
				n++;
			} while ((t = now() - t0) < 0.2);
			t = (double)c[k].blen * n / MB / t;
			if (t > best)
				best = t;
		}
		printf("%-7s %8.0f MB/s  (%zu octets)\n", c[k].name, best,
		    c[k].blen);
	}
	for (int k = 0; k < 4; k++) {
		free(c[k].hdr);
		free(c[k].body);
	}
	free(m);
	return 0;
}
