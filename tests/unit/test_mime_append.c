/*
 * tests/unit/test_mime_append.c - core/mime_append: where the text goes
 * in single-part and multipart bodies, in each transfer encoding and
 * charset, what is never touched (signed, pkcs7, message/rfc822,
 * attachments, a charset that cannot take the text), dot-stuffing, and
 * malformed structures. Expected bodies are typed by hand; encoded
 * parts are decoded here by decoders of this file. Every case is also
 * fed in pieces of 1, 2, 3, 5 and 64 octets: the output must not change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/mime_append.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct out {
	char	*p;
	size_t	 len;
};

struct res {
	struct out	 o;
	enum ma_outcome	 init, rc;
	unsigned	 parts;
};

static void
on_emit(void *ctx, const char *p, size_t n)
{
	struct out *o = ctx;

	assert_true(n > 0);
	o->p = realloc(o->p, o->len + n + 1);
	assert_non_null(o->p);
	memcpy(o->p + o->len, p, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static struct res
run1(const char *hdr, const char *body, size_t blen, const char *text,
    size_t chunk)
{
	struct mime_append	*m = malloc(ma_size());
	struct res		 r;

	assert_non_null(m);
	memset(&r, 0, sizeof(r));
	r.o.p = calloc(1, 1);
	r.init = ma_init(m, hdr, strlen(hdr), text, strlen(text));
	if (chunk == 0)
		chunk = blen ? blen : 1;
	for (size_t i = 0; i < blen; i += chunk)
		ma_feed(m, body + i, blen - i < chunk ? blen - i : chunk,
		    on_emit, &r.o);
	r.rc = ma_finish(m, on_emit, &r.o);
	r.parts = ma_parts(m);
	free(m);
	return r;
}

/* Whole, then in pieces: the same output, outcome and count. */
static struct res
run_n(const char *hdr, const char *body, size_t blen, const char *text)
{
	static const size_t	chunks[] = { 1, 2, 3, 5, 64 };
	struct res		r = run1(hdr, body, blen, text, 0);

	for (size_t i = 0; i < NELEM(chunks); i++) {
		struct res s = run1(hdr, body, blen, text, chunks[i]);

		assert_int_equal(s.o.len, r.o.len);
		assert_memory_equal(s.o.p, r.o.p, r.o.len);
		assert_int_equal(s.rc, r.rc);
		assert_int_equal(s.parts, r.parts);
		free(s.o.p);
	}
	return r;
}

static struct res
run(const char *hdr, const char *body, const char *text)
{
	return run_n(hdr, body, strlen(body), text);
}

static void
expect(const char *hdr, const char *body, const char *text,
    enum ma_outcome rc, unsigned parts, const char *want)
{
	struct res r = run(hdr, body, text);

	if (strcmp(r.o.p, want) != 0)
		print_error("got:\n%s\nwant:\n%s\n", r.o.p, want);
	assert_string_equal(r.o.p, want);
	assert_int_equal(r.rc, rc);
	assert_int_equal(r.parts, parts);
	free(r.o.p);
}

static void
unchanged(const char *hdr, const char *body, const char *text,
    enum ma_outcome rc)
{
	expect(hdr, body, text, rc, 0, body);
}

/* --- decoders written apart from core/mime_codec.c -------------------- */

static int
hex(char c)
{
	const char *d = "0123456789ABCDEF", *q = strchr(d, c);

	return c != '\0' && q != NULL ? (int)(q - d) : -1;
}

/* QP of RFC 2045 6.7, wire lines (CRLF, stuffed), at most 76 a line. */
static size_t
qp_decode(const char *s, char *out)
{
	size_t n = 0;

	while (*s != '\0') {
		const char *e = strstr(s, "\r\n");
		size_t	    len;

		assert_non_null(e);
		len = (size_t)(e - s);
		assert_true(len <= 76);
		if (*s == '.') {
			s++;
			len--;
		}
		for (size_t i = 0; i < len; i++) {
			assert_false(s[i] == ' ' && i == len - 1);
			if (s[i] != '=')
				out[n++] = s[i];
			else if (i == len - 1)
				break;
			else {
				assert_true(hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0);
				out[n++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
				i += 2;
			}
		}
		if (len == 0 || s[len - 1] != '=') {
			out[n++] = '\r';
			out[n++] = '\n';
		}
		s = e + 2;
	}
	return n;
}

static size_t
b64_decode(const char *s, char *out)
{
	const char	*a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			     "0123456789+/";
	uint32_t	 acc = 0;
	size_t		 n = 0, k = 0, col = 0;

	for (; *s != '\0'; s++) {
		const char *q = strchr(a, *s);

		col = *s == '\n' ? 0 : col + 1;
		assert_true(col <= 77);
		if (*s == '=' || q == NULL)
			continue;
		acc = acc << 6 | (uint32_t)(q - a);
		if (++k == 4) {
			out[n++] = (char)(acc >> 16);
			out[n++] = (char)(acc >> 8);
			out[n++] = (char)acc;
			acc = 0;
			k = 0;
		}
	}
	if (k == 2)
		out[n++] = (char)(acc >> 4);
	if (k == 3) {
		out[n++] = (char)(acc >> 10);
		out[n++] = (char)(acc >> 2);
	}
	return n;
}

/* The body after its first (empty) line, decoded. */
static void
expect_decoded(const char *hdr, const char *body, const char *text,
    int b64, const char *want)
{
	struct res	 r = run(hdr, body, text);
	char		*d = malloc(r.o.len + 1);
	size_t		 n;

	assert_int_equal(r.rc, MA_APPENDED);
	assert_int_equal(r.parts, 1);
	assert_memory_equal(r.o.p, "\r\n", 2);
	n = b64 ? b64_decode(r.o.p + 2, d) : qp_decode(r.o.p + 2, d);
	d[n] = '\0';
	if (strcmp(d, want) != 0)
		print_error("got:\n%s\nwant:\n%s\n", d, want);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(d, want, n);
	free(d);
	free(r.o.p);
}

/* --- single part -------------------------------------------------------- */

#define CT_PLAIN	"Content-Type: text/plain; charset=utf-8\r\n"
#define CT_HTML		"Content-Type: text/html; charset=\"UTF-8\"\r\n"
#define QP		"Content-Transfer-Encoding: quoted-printable\r\n"
#define B64		"Content-Transfer-Encoding: base64\r\n"
#define WARN		"Warning: maybe spoofed"
#define WARN_UTF8	"Achtung: gef\xc3\xa4lscht \xe2\x9c\x93"

static void
test_plain(void **state)
{
	(void)state;
	expect("Subject: x\r\n", "\r\nHello\r\n", WARN, MA_APPENDED, 1,
	    "\r\nHello\r\n\r\n" WARN "\r\n");
	expect(CT_PLAIN "Content-Transfer-Encoding: 7bit\r\n",
	    "\r\nHello\r\nworld\r\n", "line 1\r\nline 2  \n\n",
	    MA_APPENDED, 1, "\r\nHello\r\nworld\r\n\r\nline 1\r\nline 2\r\n");
	expect(CT_PLAIN "Content-Transfer-Encoding: 8bit\r\n",
	    "\r\nCaf\xc3\xa9\r\n", WARN_UTF8, MA_APPENDED, 1,
	    "\r\nCaf\xc3\xa9\r\n\r\n" WARN_UTF8 "\r\n");
	/* the empty body, and one whose last line has no line break */
	expect(CT_PLAIN, "\r\n", WARN, MA_APPENDED, 1,
	    "\r\n\r\n" WARN "\r\n");
	expect(CT_PLAIN, "\r\nno end", WARN, MA_APPENDED, 1,
	    "\r\nno end\r\n\r\n" WARN "\r\n");
}

static void
test_plain_qp(void **state)
{
	(void)state;
	expect_decoded(CT_PLAIN QP,
	    "\r\nHello=20w=C3=A9\r\nsoft=\r\nbreak \r\n=3D=\r\n\r\n", WARN_UTF8,
	    0, "Hello w\xc3\xa9\r\nsoftbreak\r\n=\r\n\r\n" WARN_UTF8 "\r\n");
	/* what needs encoding: "=", a leading ".", trailing white space */
	expect(CT_PLAIN QP, "\r\n..x\r\n", ". a = b \r\n.", MA_APPENDED, 1,
	    "\r\n=2Ex\r\n\r\n=2E a =3D b\r\n=2E\r\n");
}

static void
test_plain_b64(void **state)
{
	(void)state;
	/* "Hello\r\nworld\r\n" */
	expect_decoded(CT_PLAIN B64, "\r\nSGVsbG8NCndvcmxkDQo=\r\n", WARN, 1,
	    "Hello\r\nworld\r\n\r\n" WARN "\r\n");
	/* "Hi" without a final line break, the padding missing */
	expect_decoded(CT_PLAIN B64, "\r\nSGk\r\n", WARN_UTF8, 1,
	    "Hi\r\n\r\n" WARN_UTF8 "\r\n");
	expect(CT_PLAIN B64, "\r\nSGk=\r\n", "x", MA_APPENDED, 1,
	    "\r\nSGkNCg0KeA0K\r\n");
}

#define DIV(t)	"\r\n<div><hr>\r\n" t "\r\n</div>\r\n"

static void
test_html(void **state)
{
	(void)state;
	expect(CT_HTML, "\r\n<html><body>\r\n<p>Hi</p>\r\n</BODY></html>\r\n",
	    "A & <b>\n\"x\" \xc3\xa9\xe2\x9c\x93", MA_APPENDED, 1,
	    "\r\n<html><body>\r\n<p>Hi</p>\r\n"
	    DIV("A &amp; &lt;b&gt;<br>\r\n&quot;x&quot; &#233;&#10003;")
	    "</BODY></html>\r\n");
	/* the last </body>; a false start "</bo" before it */
	expect(CT_HTML, "\r\n</body>a</bo</body>b\r\n", "w", MA_APPENDED, 1,
	    "\r\n</body>a</bo" DIV("w") "</body>b\r\n");
	/* none: at the end */
	expect(CT_HTML, "\r\n<p>fragment</p>\r\n", "w", MA_APPENDED, 1,
	    "\r\n<p>fragment</p>\r\n" DIV("w"));
	/* a us-ascii 7bit HTML part takes any text as references */
	expect("Content-Type: text/html\r\n", "\r\n<p>x</p>\r\n", "\xc3\xa9",
	    MA_APPENDED, 1, "\r\n<p>x</p>\r\n" DIV("&#233;"));
}

static void
test_html_encoded(void **state)
{
	(void)state;
	expect_decoded(CT_HTML QP,
	    "\r\n<html><body>caf=C3=A9</body=\r\n></html>\r\n", "w", 0,
	    "<html><body>caf\xc3\xa9" DIV("w") "</body></html>\r\n");
	/* "<body>x</body>" */
	expect_decoded(CT_HTML B64, "\r\nPGJvZHk+eDwvYm9keT4=\r\n", "w", 1,
	    "<body>x" DIV("w") "</body>");
	expect_decoded(CT_HTML QP, "\r\n<p>no end</p>\r\n", "w", 0,
	    "<p>no end</p>\r\n" DIV("w"));
}

/* More than MA_HOLD after the last </body>: the text goes at the end. */
static void
test_html_hold_overflow(void **state)
{
	size_t		 n = MA_HOLD + 100;
	char		*body = malloc(n + 64), *want = malloc(n + 128);
	struct res	 r;
	size_t		 k;

	(void)state;
	k = (size_t)sprintf(body, "\r\n<p>x</p></body>");
	for (size_t i = 0; i < n / 10; i++)
		k += (size_t)sprintf(body + k, "<!--....>\n");
	memcpy(want, body, k);
	memcpy(want + k, DIV("w"), sizeof(DIV("w")));
	r = run_n(CT_HTML, body, k, "w");
	assert_int_equal(r.rc, MA_APPENDED);
	assert_string_equal(r.o.p, want);
	free(r.o.p);
	free(body);
	free(want);
}

/* --- multipart ------------------------------------------------------------ */

#define MP(sub)	"Content-Type: multipart/" sub "; boundary=\"b1\"\r\n"

static void
test_alternative(void **state)
{
	(void)state;
	expect(MP("alternative"),
	    "\r\npreamble\r\n--b1\r\n" CT_PLAIN "\r\nplain\r\n"
	    "--b1 \r\n" CT_HTML "\r\n<body>html</body>\r\n--b1--\r\nepilogue\r\n",
	    "w", MA_APPENDED, 2,
	    "\r\npreamble\r\n--b1\r\n" CT_PLAIN "\r\nplain\r\n\r\nw\r\n\r\n"
	    "--b1 \r\n" CT_HTML "\r\n<body>html" DIV("w") "</body>\r\n"
	    "--b1--\r\nepilogue\r\n");
}

#define ATT	"Content-Type: application/octet-stream\r\n" B64 \
		"Content-Disposition: attachment; filename=\"a.bin\"\r\n\r\n" \
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKiss\r\n" \
		"LS4vMDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZ\r\n" \
		"WltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn8=\r\n"

static void
test_mixed_attachment(void **state)
{
	(void)state;
	expect(MP("mixed"),
	    "\r\n--b1\r\n" CT_PLAIN "\r\nbody\r\n--b1\r\n" ATT
	    "--b1\r\n" CT_PLAIN "\r\nsecond text\r\n--b1--\r\n", "w",
	    MA_APPENDED, 1,
	    "\r\n--b1\r\n" CT_PLAIN "\r\nbody\r\n\r\nw\r\n\r\n--b1\r\n" ATT
	    "--b1\r\n" CT_PLAIN "\r\nsecond text\r\n--b1--\r\n");
	/* an attachment first; the inline text after it gets the text */
	expect(MP("mixed"),
	    "\r\n--b1\r\n" ATT "--b1\r\nContent-Type: text/plain\r\n"
	    "Content-Disposition: attachment\r\n\r\nfile\r\n"
	    "--b1\r\nContent-Disposition: inline\r\n\r\nbody\r\n--b1--\r\n",
	    "w", MA_APPENDED, 1,
	    "\r\n--b1\r\n" ATT "--b1\r\nContent-Type: text/plain\r\n"
	    "Content-Disposition: attachment\r\n\r\nfile\r\n"
	    "--b1\r\nContent-Disposition: inline\r\n\r\nbody\r\n\r\nw\r\n\r\n"
	    "--b1--\r\n");
	unchanged(MP("mixed"), "\r\n--b1\r\n" ATT "--b1--\r\n", "w",
	    MA_NO_TEXT);
}

static void
test_nested(void **state)
{
	(void)state;
	/* mixed > alternative > (plain, related > (html, image)) */
	expect(MP("mixed"),
	    "\r\n--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n"
	    "\r\n--b2\r\n\r\nplain\r\n--b2\r\n"
	    "Content-Type: multipart/related;\r\n boundary=\"b3\"\r\n\r\n"
	    "--b3\r\n" CT_HTML "\r\n<body>h</body>\r\n--b3\r\n"
	    "Content-Type: image/png\r\n\r\npng\r\n--b3--\r\n"
	    "--b2--\r\n--b1\r\n" CT_PLAIN "\r\nnot this\r\n--b1--\r\n", "w",
	    MA_APPENDED, 2,
	    "\r\n--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n"
	    "\r\n--b2\r\n\r\nplain\r\n\r\nw\r\n\r\n--b2\r\n"
	    "Content-Type: multipart/related;\r\n boundary=\"b3\"\r\n\r\n"
	    "--b3\r\n" CT_HTML "\r\n<body>h" DIV("w") "</body>\r\n--b3\r\n"
	    "Content-Type: image/png\r\n\r\npng\r\n--b3--\r\n"
	    "--b2--\r\n--b1\r\n" CT_PLAIN "\r\nnot this\r\n--b1--\r\n");
	/* related > html, boundary quoted with a comment and odd case */
	expect("Content-Type: (c) Multipart/Related (x); BOUNDARY = \"a b\\\"\""
	    " ; type=\"text/html\"\r\n",
	    "\r\n--a b\"\r\nContent-type: text/html\r\n\r\n<body></body>\r\n"
	    "--a b\"--\r\n", "w", MA_APPENDED, 1,
	    "\r\n--a b\"\r\nContent-type: text/html\r\n\r\n<body>" DIV("w")
	    "</body>\r\n--a b\"--\r\n");
}

#define SIGNED	"Content-Type: multipart/signed; protocol=\"application/" \
		"pkcs7-signature\"; micalg=sha-256; boundary=s1\r\n"
#define SIGBODY	"\r\n--s1\r\n" CT_PLAIN "\r\nsigned\r\n--s1\r\n" \
		"Content-Type: application/pkcs7-signature\r\n\r\nsig\r\n--s1--\r\n"

static void
test_signed(void **state)
{
	struct res r;

	(void)state;
	r = run(SIGNED, SIGBODY, "w");
	assert_int_equal(r.init, MA_SIGNED);
	assert_int_equal(r.rc, MA_SIGNED);
	assert_string_equal(r.o.p, SIGBODY);
	free(r.o.p);
	r = run("Content-Type: application/x-pkcs7-mime; smime-type="
	    "enveloped-data\r\n" B64, "\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n", "w");
	assert_int_equal(r.init, MA_SIGNED);
	assert_int_equal(r.rc, MA_SIGNED);
	free(r.o.p);
	unchanged(MP("mixed"), "\r\n--b1\r\n" SIGNED SIGBODY "--b1\r\n" ATT
	    "--b1--\r\n", "w", MA_SIGNED);
	unchanged(MP("mixed"), "\r\n--b1\r\nContent-Type: application/"
	    "pkcs7-mime\r\n\r\nxx\r\n--b1--\r\n", "w", MA_SIGNED);
}

static void
test_opaque_parts(void **state)
{
	(void)state;
	/* message/rfc822: its text is not the message's */
	unchanged(MP("mixed"), "\r\n--b1\r\nContent-Type: message/rfc822\r\n"
	    "\r\nSubject: inner\r\n\r\ninner text\r\n--b1--\r\n", "w",
	    MA_NO_TEXT);
	/* a digest's parts are messages by default */
	unchanged(MP("digest"), "\r\n--b1\r\n\r\nSubject: a\r\n\r\nx\r\n"
	    "--b1--\r\n", "w", MA_NO_TEXT);
	unchanged(MP("mixed"), "\r\n--b1\r\n" CT_PLAIN "Content-Disposition: "
	    "attachment; filename=a.txt\r\n\r\nfile\r\n--b1--\r\n", "w",
	    MA_NO_TEXT);
	unchanged("Content-Type: text/plain\r\nContent-Disposition: "
	    "attachment\r\n", "\r\nfile\r\n", "w", MA_NO_TEXT);
	unchanged("Content-Type: image/png\r\n", "\r\nxx\r\n", "w",
	    MA_NO_TEXT);
	unchanged("Content-Type: text/calendar\r\n", "\r\nxx\r\n", "w",
	    MA_NO_TEXT);
	unchanged(CT_PLAIN "Content-Transfer-Encoding: x-uuencode\r\n",
	    "\r\nxx\r\n", "w", MA_CHARSET);
}

static void
test_charsets(void **state)
{
	(void)state;
	expect("Content-Type: text/plain; charset=ISO-8859-1\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n", "\r\nd\xe9j\xe0\r\n",
	    "\xc3\xa9t\xc3\xa9", MA_APPENDED, 1,
	    "\r\nd\xe9j\xe0\r\n\r\n\xe9t\xe9\r\n");
	/* windows-1252: the euro sign is 0x80 */
	expect("Content-Type: text/plain; charset=\"windows-1252\"\r\n" QP,
	    "\r\nx\r\n", "\xe2\x82\xac", MA_APPENDED, 1,
	    "\r\nx\r\n\r\n=80\r\n");
	/* ISO-8859-5 has no e-acute; US-ASCII and 7bit take no non-ASCII */
	unchanged("Content-Type: text/plain; charset=iso-8859-5\r\n" QP,
	    "\r\nx\r\n", "\xc3\xa9", MA_CHARSET);
	unchanged("Content-Type: text/plain; charset=us-ascii\r\n",
	    "\r\nHello\r\n", "\xc3\xa9", MA_CHARSET);
	unchanged(CT_PLAIN, "\r\nHello\r\n", "\xc3\xa9", MA_CHARSET);
	unchanged("Content-Type: text/plain; charset=koi8-r\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n", "\r\nx\r\n", "\xc3\xa9",
	    MA_CHARSET);
	unchanged("Content-Type: text/html; charset=utf-16\r\n" B64,
	    "\r\n//4=\r\n", "w", MA_CHARSET);
	/* ASCII text goes into an unknown ASCII-compatible charset */
	expect("Content-Type: text/plain; charset=koi8-r\r\n",
	    "\r\nx\r\n", "w", MA_APPENDED, 1, "\r\nx\r\n\r\nw\r\n");
	/* the first text part of a mixed is the one: no second choice */
	unchanged(MP("mixed"), "\r\n--b1\r\nContent-Type: text/plain; "
	    "charset=us-ascii\r\n\r\nx\r\n--b1\r\n" CT_PLAIN
	    "Content-Transfer-Encoding: 8bit\r\n\r\ny\r\n--b1--\r\n",
	    "\xc3\xa9", MA_CHARSET);
}

static void
test_dots(void **state)
{
	(void)state;
	expect(CT_PLAIN, "\r\n..\r\n...x\r\n", ".w\n..", MA_APPENDED, 1,
	    "\r\n..\r\n...x\r\n\r\n..w\r\n...\r\n");
	/* a stuffed dot in a header line and before a delimiter */
	expect(MP("mixed"), "\r\n--b1\r\n..X-Dot: y\r\n" CT_PLAIN
	    "\r\n..\r\n--b1--\r\n", ".", MA_APPENDED, 1,
	    "\r\n--b1\r\n..X-Dot: y\r\n" CT_PLAIN "\r\n..\r\n\r\n..\r\n"
	    "\r\n--b1--\r\n");
}

/* --- malformed ---------------------------------------------------------- */

static void
test_malformed(void **state)
{
	char		 hdr[512], body[4096];
	struct res	 r;
	size_t		 k;

	(void)state;
	unchanged("Content-Type: multipart/mixed\r\n",
	    "\r\n--b1\r\n\r\nx\r\n--b1--\r\n", "w", MA_MALFORMED);
	unchanged("Content-Type: multipart/mixed; boundary=\"\"\r\n",
	    "\r\n--\r\n\r\nx\r\n", "w", MA_MALFORMED);
	unchanged("Content-Type: text\r\n", "\r\nx\r\n", "w", MA_MALFORMED);
	/* RFC 2231 continuations are not read: no boundary */
	unchanged("Content-Type: multipart/mixed; boundary*0=\"b\";\r\n"
	    " boundary*1=\"1\"\r\n", "\r\n--b1\r\n\r\nx\r\n--b1--\r\n",
	    "w", MA_MALFORMED);
	/* a Content-Type longer than MA_FIELD cannot be read */
	k = (size_t)sprintf(body, "Content-Type: multipart/mixed; x=\"");
	for (int i = 0; i < 30; i++)
		k += (size_t)sprintf(body + k, "%070d\r\n ", i);
	strcpy(body + k, "\"; boundary=b1\r\n");
	unchanged(body, "\r\n--b1\r\n\r\nx\r\n--b1--\r\n", "w",
	    MA_MALFORMED);
	/* a close delimiter missing: a part with no text is malformed... */
	unchanged(MP("mixed"), "\r\n--b1\r\n" ATT, "w", MA_MALFORMED);
	/* ...a text part that was begun gets the text where it ends */
	expect(MP("mixed"), "\r\n--b1\r\n\r\nx\r\n", "w", MA_APPENDED, 1,
	    "\r\n--b1\r\n\r\nx\r\n\r\nw\r\n\r\n");
	/* an outer delimiter ends an inner multipart */
	expect(MP("mixed"), "\r\n--b1\r\nContent-Type: multipart/related; "
	    "boundary=b2\r\n\r\n--b2\r\n\r\nx\r\n--b1--\r\n", "w",
	    MA_APPENDED, 1, "\r\n--b1\r\nContent-Type: multipart/related; "
	    "boundary=b2\r\n\r\n--b2\r\n\r\nx\r\n\r\nw\r\n\r\n--b1--\r\n");

	/* 9 levels: the ninth is not followed */
	k = 0;
	for (int i = 1; i < 9; i++)
		k += (size_t)sprintf(body + k, "\r\n--b%d\r\nContent-Type: "
		    "multipart/mixed; boundary=b%d\r\n", i, i + 1);
	k += (size_t)sprintf(body + k, "\r\n--b9\r\n\r\ndeep\r\n");
	for (int i = 9; i >= 1; i--)
		k += (size_t)sprintf(body + k, "--b%d--\r\n", i);
	unchanged(MP("mixed"), body, "w", MA_MALFORMED);

	/* a boundary of 300 */
	k = (size_t)sprintf(hdr, "Content-Type: multipart/mixed; boundary=");
	memset(hdr + k, 'q', 300);
	strcpy(hdr + k + 300, "\r\n");
	k = (size_t)sprintf(body, "\r\n--");
	memset(body + k, 'q', 300);
	strcpy(body + k + 300, "\r\n\r\nx\r\n");
	unchanged(hdr, body, "w", MA_MALFORMED);

	/* a line of 3000 in a text part goes through whole */
	body[0] = '\r';
	body[1] = '\n';
	memset(body + 2, 'L', 3000);
	strcpy(body + 3002, "\r\n");
	r = run(CT_PLAIN, body, "w");
	assert_int_equal(r.rc, MA_APPENDED);
	assert_int_equal(r.o.len, 3004 + 5);
	assert_memory_equal(r.o.p, body, 3004);
	assert_string_equal(r.o.p + 3004, "\r\nw\r\n");
	free(r.o.p);
}

/* Bare CR and bare LF: lines end at LF; nothing breaks. */
static void
test_bare_cr_lf(void **state)
{
	(void)state;
	expect(CT_PLAIN, "\r\na\rb\r", "w", MA_APPENDED, 1,
	    "\r\na\rb\r\r\n\r\nw\r\n");
	expect(CT_PLAIN, "\na\nb\n", "w", MA_APPENDED, 1,
	    "\na\nb\n\r\nw\r\n");
	expect(MP("mixed"), "\n--b1\n\nx\n--b1--\n", "w", MA_APPENDED, 1,
	    "\n--b1\n\nx\r\n\r\nw\r\n\n--b1--\n");
	unchanged(MP("mixed"), "\r--b1\r\rx\r--b1--\r", "w", MA_MALFORMED);
}

/*
 * Lines that may need a look inside runs of lines that need none: in a
 * 7bit text part ("." lost or kept, "-" that is or is not a delimiter,
 * a long line) and in a part that passes.
 */
static void
test_runs(void **state)
{
	char		 body[4096];
	size_t		 k;
	struct res	 r;

	(void)state;
	expect(MP("mixed"), "\r\n--b1\r\n" CT_PLAIN "\r\na\r\n-x\r\n--b1x\r\n"
	    "-- \r\n.y\r\n..z\r\n.\r\n\r\nb-\r\n--b1\r\n" ATT
	    "-a\r\n--b\r\nc-\r\n--b1 \r\n\r\n-\r\n--b1--\r\n-\r\n", "w",
	    MA_APPENDED, 1,
	    "\r\n--b1\r\n" CT_PLAIN "\r\na\r\n-x\r\n--b1x\r\n"
	    "-- \r\ny\r\n..z\r\n\r\n\r\nb-\r\n\r\nw\r\n\r\n--b1\r\n" ATT
	    "-a\r\n--b\r\nc-\r\n--b1 \r\n\r\n-\r\n--b1--\r\n-\r\n");
	/* a delimiter right after a line with "-" inside, bare LF */
	expect(MP("mixed"), "\n--b1\n" ATT "x-y\n--b1\n\nt-\nu\n--b1--\n",
	    "w", MA_APPENDED, 1, "\n--b1\n" ATT "x-y\n--b1\n\nt-\nu\r\n\r\n"
	    "w\r\n\n--b1--\n");
	/* no line ending at the end: the text after a line break */
	expect(CT_PLAIN, "\r\na\r\n-b", "w", MA_APPENDED, 1,
	    "\r\na\r\n-b\r\n\r\nw\r\n");
	/* a line longer than the line buffer that looks like a
	 * delimiter is none, in a text part and in one that passes */
	k = (size_t)sprintf(body, "\r\n--b1\r\n" CT_PLAIN "\r\nx\r\n--b1");
	memset(body + k, ' ', 1100);
	k += 1100;
	k += (size_t)sprintf(body + k, "\r\ny\r\n--b1--\r\n");
	r = run_n(MP("mixed"), body, k, "w");
	assert_int_equal(r.rc, MA_APPENDED);
	assert_int_equal(r.o.len, k + 7);
	assert_memory_equal(r.o.p, body, k - 10);
	assert_string_equal(r.o.p + k - 10, "\r\n\r\nw\r\n\r\n--b1--\r\n");
	free(r.o.p);
}

/* Output that is input as it came goes out as a span of the input: a
 * few emits for a 7bit part, not one per batch of lines. */
static unsigned	emits;

static void
on_count(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	emits++;
}

static void
test_runs_span(void **state)
{
	struct mime_append	*m = malloc(ma_size());
	char			 body[32768];

	(void)state;
	assert_non_null(m);
	for (size_t i = 0; i < sizeof(body); i += 64) {
		memset(body + i, 'x', 62);
		memcpy(body + i + 62, "\r\n", 2);
	}
	(void)ma_init(m, CT_PLAIN, strlen(CT_PLAIN), "w", 1);
	emits = 0;
	ma_feed(m, body, sizeof(body), on_count, NULL);
	assert_true(emits <= 2);
	ma_feed(m, body, sizeof(body), on_count, NULL);
	assert_true(emits <= 4);
	assert_int_equal(ma_finish(m, on_count, NULL), MA_APPENDED);
	(void)ma_init(m, MP("mixed"), strlen(MP("mixed")), "w", 1);
	emits = 0;
	ma_feed(m, "\r\n--b1\r\n" ATT, strlen("\r\n--b1\r\n" ATT), on_count,
	    NULL);
	emits = 0;
	ma_feed(m, body, sizeof(body), on_count, NULL);
	assert_int_equal(emits, 1);
	free(m);
}

/* A large attachment streams through in the same struct. */
static void
test_large_attachment(void **state)
{
	const size_t	 lines = 40000;
	const char	*head = "\r\n--b1\r\n" CT_PLAIN "\r\nbody\r\n--b1\r\n"
			    "Content-Type: application/pdf\r\n" B64 "\r\n";
	const char	*line = "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAw"
			    "IFIvRmlsdGVyIC9GbGF0ZURlY29kZT4+\r\n";
	size_t		 hl = strlen(head), ll = strlen(line), n, at;
	char		*body = malloc(hl + lines * ll + 16);
	struct res	 r;

	(void)state;
	memcpy(body, head, hl);
	for (size_t i = 0; i < lines; i++)
		memcpy(body + hl + i * ll, line, ll);
	n = hl + lines * ll;
	memcpy(body + n, "--b1--\r\n", 8);
	n += 8;
	r = run1(MP("mixed"), body, n, "w", 65536);
	assert_int_equal(r.rc, MA_APPENDED);
	at = (size_t)(strstr(head, "body\r\n") - head) + 4;
	assert_int_equal(r.o.len, n + 7);
	assert_memory_equal(r.o.p, body, at);
	assert_memory_equal(r.o.p + at, "\r\n\r\nw\r\n", 7);
	assert_memory_equal(r.o.p + at + 7, body + at, n - at);
	free(r.o.p);
	free(body);
}

static void
test_names(void **state)
{
	(void)state;
	assert_string_equal(ma_outcome_text(MA_APPENDED), "appended");
	assert_string_equal(ma_outcome_text(MA_SIGNED), "signed");
	assert_string_equal(ma_outcome_text(MA_NO_TEXT), "no-text");
	assert_string_equal(ma_outcome_text(MA_CHARSET), "charset");
	assert_string_equal(ma_outcome_text(MA_MALFORMED), "malformed");
	assert_true(ma_size() < 32 * 1024);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_plain_qp),
		cmocka_unit_test(test_plain_b64),
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_html_encoded),
		cmocka_unit_test(test_html_hold_overflow),
		cmocka_unit_test(test_alternative),
		cmocka_unit_test(test_mixed_attachment),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_signed),
		cmocka_unit_test(test_opaque_parts),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_dots),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_bare_cr_lf),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_runs_span),
		cmocka_unit_test(test_large_attachment),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
