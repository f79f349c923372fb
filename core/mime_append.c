/*
 * core/mime_append.c - the streaming MIME-aware appender of
 * core/mime_append.h. Input: the body of a message in wire format
 * (CRLF, dot-stuffed), untrusted, in pieces of any size; the header
 * section and the text given to ma_init(). It owns nothing but its
 * struct: a line is analysed on its first MA_LINE octets, a part's
 * Content-* field on its first MA_FIELD, and only the text part being
 * changed is decoded (core/mime_codec.c) and encoded again.
 * RFC 2045 5, 6 (Content-Type, Content-Transfer-Encoding), RFC 2046
 * 5.1 (boundaries; the CRLF before a delimiter belongs to it), RFC 2183
 * (Content-Disposition), RFC 1847 2.1 and RFC 8551 3 (signed and
 * enveloped parts: never changed), RFC 5321 4.5.2 (dot-stuffing).
 *
 * A body line goes through ln_head() (its first octets, or all of it)
 * and ln_cont() (the rest of a long line); the structure (header of a
 * part, preamble, body, delimiter) decides whether it goes out as it
 * came or through the decoder of the part being changed. Where most
 * lines need no look (a part that passes, a changed part in 7bit, 8bit
 * or binary) ln_run() takes whole runs of them at once, and output that
 * is input as it came goes out as one span of the input, not copied.
 */
#include <stdint.h>
#include <string.h>

#include "core/ew.h"
#include "core/mime_append.h"
#include "core/mime_codec.h"
#include "core/mime_part.h"

#define MA_OUT		1024	/* output batched before emit */
#define PAT		"</body>"
#define PATLEN		7

enum ma_state {
	ST_START,	/* before the empty line that ends the header */
	ST_HDR,		/* header lines of a part */
	ST_PASS,	/* lines go out as they came */
	ST_CHANGE	/* lines of the text part being changed */
};
enum ma_cs { CS_ASCII, CS_UTF8, CS_TABLE, CS_NEVER };

struct ma_level {			/* one multipart followed */
	char		bound[MA_MAX_BOUNDARY];
	size_t		blen;
	int		alt;		/* multipart/alternative */
	int		digest;		/* default child: message/rfc822 */
	int		done;		/* its text part was chosen */
	int		closed;		/* "--boundary--" seen */
};

struct mime_append {
	enum ma_state	state, after_start;
	ma_emit_fn	emit;		/* borrowed for one call */
	void		*ctx;
	const char	*in;		/* the input of this ma_feed call */
	size_t		inlen;
	const char	*span;		/* output due: span[0..slen) of in */
	size_t		slen;
	char		obuf[MA_OUT];	/* or output due: obuf[0..olen) */
	size_t		olen;
	int		bol;		/* output is at the start of a line */

	char		lbuf[MA_LINE + 2];
	size_t		llen;
	int		lcont;		/* the line's head went out */

	struct ma_level	lv[MA_MAX_DEPTH];
	unsigned	depth;
	struct mp_part	part;
	char		fld[MA_FIELD];	/* a field, unfolded */
	size_t		flen;
	int		ftrunc;		/* it did not fit */
	int		fbad;		/* a line that is no field */

	/* the part being changed */
	unsigned	cdepth;		/* levels open when it began */
	int		html;
	enum mp_cte	cte;
	enum ma_cs	cskind;
	struct ew_charset cs;
	int		lstart;		/* next piece starts a line */
	char		held[2];	/* the last line ending, raw */
	size_t		heldn;
	const char	*heldin;	/* where it is in the input, or NULL */
	int		ident;		/* 7bit, 8bit or binary, not HTML:
					   its lines go out as they came */
	int		hard;		/* and it is a line break of the
					   decoded content */
	int		dany;		/* decoded content so far */
	unsigned char	dlast;		/* its last octet */
	struct qp_dec	qd;
	struct b64_dec	bd;
	struct qp_enc	qe;
	struct b64_enc	be;
	char		hold[MA_HOLD + PATLEN];	/* HTML from "</body>" on, or
					   a partial match of it */
	size_t		hlen;
	int		found;		/* hold starts with "</body>" */
	unsigned	mpos;		/* octets of PAT matched */

	char		text[MA_TEXT_MAX];
	size_t		tlen;
	int		tascii;

	unsigned	parts;
	int		f_signed, f_charset, f_malformed;
	int		signed_top;
};

size_t
ma_size(void)
{
	return sizeof(struct mime_append);
}

/* --- output --------------------------------------------------------- */

/*
 * Output due is either a span of the input (what goes out as it came,
 * a run of it at a time) or octets copied into obuf, never both.
 */
static void
out_flush(struct mime_append *m)
{
	if (m->slen > 0)
		m->emit(m->ctx, m->span, m->slen);
	else if (m->olen > 0)
		m->emit(m->ctx, m->obuf, m->olen);
	m->slen = 0;
	m->olen = 0;
}

/* Is p in the input of this call? (Addresses compared as integers: p
 * may point anywhere.) */
static int
in_input(const struct mime_append *m, const char *p)
{
	return (uintptr_t)p - (uintptr_t)m->in < m->inlen;
}

/* p[0..n) goes out as it is (already stuffed). */
static void
out_raw(struct mime_append *m, const char *p, size_t n)
{
	if (n == 0)
		return;
	m->bol = p[n - 1] == '\n';
	if (in_input(m, p)) {
		if (m->slen > 0 && p == m->span + m->slen) {
			m->slen += n;
			return;
		}
		out_flush(m);
		m->span = p;
		m->slen = n;
		return;
	}
	if (m->slen > 0)
		out_flush(m);
	if (m->olen + n > sizeof(m->obuf)) {
		out_flush(m);
		if (n >= sizeof(m->obuf) / 2) {
			m->emit(m->ctx, p, n);
			return;
		}
	}
	memcpy(m->obuf + m->olen, p, n);
	m->olen += n;
}

/* Content octets go out dot-stuffed: a "." starting a line doubled. */
static void
out_stuffed(void *ctx, const char *p, size_t n)
{
	struct mime_append	*m = ctx;
	const char		*q;
	size_t			 k;

	while (n > 0) {
		if (m->bol && p[0] == '.')
			out_raw(m, ".", 1);
		q = memchr(p, '\n', n);
		k = q != NULL ? (size_t)(q - p) + 1 : n;
		out_raw(m, p, k);
		p += k;
		n -= k;
	}
}

/* The field in m->fld is complete: what it says about the part. */
static void
fld_end(struct mime_append *m)
{
	if (m->flen > 0)
		mp_field(&m->part, m->fld, m->flen, m->ftrunc);
	m->flen = 0;
	m->ftrunc = 0;
}

static void
fld_add(struct mime_append *m, const char *p, size_t n)
{
	if (n > sizeof(m->fld) - m->flen) {
		n = sizeof(m->fld) - m->flen;
		m->ftrunc = 1;
	}
	memcpy(m->fld + m->flen, p, n);
	m->flen += n;
}

/*
 * A header line p[0..n) (unstuffed, no line ending); whole unless
 * !complete, when it is the head of a longer one.
 */
static void
hdr_line(struct mime_append *m, const char *p, size_t n, int complete)
{
	if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
		if (m->flen > 0)
			fld_add(m, p, n);
	} else {
		fld_end(m);
		if (!mp_is_field(p, n))
			m->fbad = 1;
		else if (p[0] != 'F' || n < 5 || memcmp(p, "From ", 5) != 0)
			fld_add(m, p, n);
	}
	if (!complete && m->flen > 0)
		m->ftrunc = 1;
}

static void
part_reset(struct mime_append *m)
{
	memset(&m->part, 0, sizeof(m->part));
	m->flen = 0;
	m->ftrunc = 0;
	m->fbad = 0;
}

/* --- the text --------------------------------------------------------- */

/* Keep the text: CR dropped, trailing white space of each line and
 * trailing empty lines removed, at most MA_TEXT_MAX octets. */
static void
text_set(struct mime_append *m, const char *t, size_t n)
{
	if (n > MA_TEXT_MAX) {
		n = MA_TEXT_MAX;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
	}
	m->tlen = 0;
	m->tascii = 1;
	for (size_t i = 0; i < n; i++) {
		if (t[i] == '\r')
			continue;
		if (t[i] == '\n')
			while (m->tlen > 0 && (m->text[m->tlen - 1] == ' ' ||
			    m->text[m->tlen - 1] == '\t'))
				m->tlen--;
		if ((unsigned char)t[i] >= 0x80)
			m->tascii = 0;
		m->text[m->tlen++] = t[i];
	}
	while (m->tlen > 0 && (m->text[m->tlen - 1] == '\n' ||
	    m->text[m->tlen - 1] == ' ' || m->text[m->tlen - 1] == '\t'))
		m->tlen--;
}

static int
text_fits_table(const struct mime_append *m)
{
	for (size_t i = 0; i < m->tlen;)
		if (mp_cs_octet(&m->cs, mp_utf8_next(m->text, m->tlen, &i)) < 0)
			return 0;
	return 1;
}

/*
 * Can the part take the text? Sets m->cskind and m->cs. HTML goes in
 * as ASCII; plain text in the part's own charset.
 */
static int
text_fits(struct mime_append *m, const struct mp_part *pt, int html)
{
	m->cskind = CS_ASCII;
	if (pt->cs_given && pt->cslen > sizeof(pt->cs))
		return html || m->tascii;
	if (pt->cs_given && mp_cs_never(pt->cs, pt->cslen))
		return 0;
	if (html)
		return 1;
	if (pt->cs_given && ew_charset_find(pt->cs, pt->cslen, &m->cs)) {
		if (m->cs.kind == EW_CS_UTF8)
			m->cskind = CS_UTF8;
		else if (m->cs.kind == EW_CS_LATIN1 ||
		    m->cs.kind == EW_CS_TABLE)
			m->cskind = CS_TABLE;
	}
	if (m->tascii)
		return 1;
	if (pt->cte == MP_CTE_7BIT || pt->cte == MP_CTE_NONE)
		return 0;
	if (m->cskind == CS_UTF8)
		return 1;
	return m->cskind == CS_TABLE && text_fits_table(m);
}

/* --- the part being changed ------------------------------------------- */

static void
enc_put(struct mime_append *m, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (m->cte == MP_CTE_QP)
		qpe_put(&m->qe, p, n, out_stuffed, m);
	else if (m->cte == MP_CTE_B64)
		b64e_put(&m->be, p, n, out_stuffed, m);
	else
		out_stuffed(m, p, n);
}

static void
enc_puts(struct mime_append *m, const char *s)
{
	enc_put(m, s, strlen(s));
}

/* At the top the body ends with CRLF; in a multipart the delimiter's
 * CRLF ends the last line. */
static void
enc_finish(struct mime_append *m)
{
	if (m->cte == MP_CTE_QP)
		qpe_finish(&m->qe, m->cdepth == 0, out_stuffed, m);
	else if (m->cte == MP_CTE_B64)
		b64e_finish(&m->be, m->cdepth == 0, out_stuffed, m);
}

static char
lc(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/*
 * One octet of decoded HTML that may start, continue or follow a
 * "</body>": held until the next "</body>" (what was held goes out) or
 * the end of the part (the text goes in before the held "</body>").
 */
static void
html_octet(struct mime_append *m, char c)
{
	if (!m->found) {
		if (lc(c) == PAT[m->mpos]) {
			m->hold[m->hlen++] = c;
			if (++m->mpos == PATLEN) {
				m->found = 1;
				m->mpos = 0;
			}
			return;
		}
		enc_put(m, m->hold, m->hlen);
		m->hlen = 0;
		m->mpos = c == '<';
		if (c == '<')
			m->hold[m->hlen++] = c;
		else
			enc_put(m, &c, 1);
		return;
	}
	if (m->hlen == sizeof(m->hold)) {
		/* too much after "</body>": the text goes at the end */
		enc_put(m, m->hold, m->hlen);
		m->hlen = 0;
		m->found = 0;
		m->mpos = 0;
		html_octet(m, c);
		return;
	}
	m->hold[m->hlen++] = c;
	if (lc(c) != PAT[m->mpos])
		m->mpos = c == '<';
	else if (++m->mpos == PATLEN) {
		enc_put(m, m->hold, m->hlen - PATLEN);
		memmove(m->hold, m->hold + m->hlen - PATLEN, PATLEN);
		m->hlen = PATLEN;
		m->mpos = 0;
	}
}

static void
html_put(struct mime_append *m, const char *p, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		if (!m->found && m->mpos == 0 && p[i] != '<')
			continue;
		enc_put(m, p + run, i - run);
		html_octet(m, p[i]);
		run = i + 1;
	}
	enc_put(m, p + run, n - run);
}

/* Decoded content of the part. */
static void
dec_out(void *ctx, const char *p, size_t n)
{
	struct mime_append *m = ctx;

	if (n == 0)
		return;
	m->dany = 1;
	m->dlast = (unsigned char)p[n - 1];
	if (m->html)
		html_put(m, p, n);
	else
		enc_put(m, p, n);
}

/* The held line ending, in the input when it is there (the output
 * may then stay one span of it). */
static const char *
held_ptr(const struct mime_append *m)
{
	return m->heldin != NULL ? m->heldin : m->held;
}

/* The held line ending turned out to be content: a line break. */
static void
dec_break(struct mime_append *m)
{
	if (m->cte == MP_CTE_QP)
		dec_out(m, "\r\n", 2);
	else if (m->cte != MP_CTE_B64)
		dec_out(m, held_ptr(m), m->heldn);
	m->hard = 0;
}

/* Code point cp of the text in the part's charset (text_fits checked). */
static void
text_cp(struct mime_append *m, uint32_t cp)
{
	char	b[4];
	size_t	k = 0;
	int	o;

	if (cp < 0x80)
		b[k++] = (char)cp;
	else if (m->cskind != CS_UTF8) {
		if ((o = mp_cs_octet(&m->cs, cp)) < 0)
			return;
		b[k++] = (char)o;
	} else if (cp < 0x800) {
		b[k++] = (char)(0xc0 | cp >> 6);
		b[k++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		b[k++] = (char)(0xe0 | cp >> 12);
		b[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[k++] = (char)(0x80 | (cp & 0x3f));
	} else {
		b[k++] = (char)(0xf0 | cp >> 18);
		b[k++] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[k++] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[k++] = (char)(0x80 | (cp & 0x3f));
	}
	enc_put(m, b, k);
}

/* Plain: a line break where the content has none, an empty line, and
 * the text's lines, each ending in CRLF. */
static void
text_plain(struct mime_append *m)
{
	if (m->dany && m->dlast != '\n')
		enc_puts(m, "\r\n");
	enc_puts(m, "\r\n");
	for (size_t i = 0; i < m->tlen;) {
		if (m->text[i] == '\n') {
			enc_puts(m, "\r\n");
			i++;
		} else
			text_cp(m, mp_utf8_next(m->text, m->tlen, &i));
	}
	enc_puts(m, "\r\n");
}

/* HTML: ASCII only, escaped, lines joined by <br>, in a <div>. */
static void
text_html(struct mime_append *m)
{
	char d[16];

	enc_puts(m, "\r\n<div><hr>\r\n");
	for (size_t i = 0; i < m->tlen;) {
		uint32_t cp;
		size_t	 k = sizeof(d);

		if (m->text[i] == '\n') {
			enc_puts(m, "<br>\r\n");
			i++;
			continue;
		}
		cp = mp_utf8_next(m->text, m->tlen, &i);
		if (cp == '&')
			enc_puts(m, "&amp;");
		else if (cp == '<')
			enc_puts(m, "&lt;");
		else if (cp == '>')
			enc_puts(m, "&gt;");
		else if (cp == '"')
			enc_puts(m, "&quot;");
		else if (cp >= 0x20 && cp < 0x7f)
			enc_put(m, (char[]){ (char)cp }, 1);
		else if (cp >= 0xa0 && cp != 0xfffe && cp != 0xffff) {
			d[--k] = ';';
			do
				d[--k] = (char)('0' + cp % 10);
			while ((cp /= 10) > 0);
			d[--k] = '#';
			d[--k] = '&';
			enc_put(m, d + k, sizeof(d) - k);
		} else if (cp == '\t')
			enc_puts(m, " ");
	}
	enc_puts(m, "\r\n</div>\r\n");
}

static void
html_end(struct mime_append *m)
{
	if (m->found) {
		text_html(m);
		enc_put(m, m->hold, m->hlen);
	} else {
		enc_put(m, m->hold, m->hlen);
		text_html(m);
	}
	m->hlen = 0;
	m->found = 0;
	m->mpos = 0;
}

static void
chg_begin(struct mime_append *m, int html)
{
	m->state = ST_CHANGE;
	m->cdepth = m->depth;
	m->html = html;
	m->cte = m->part.cte;
	m->ident = !html && (m->cte == MP_CTE_NONE || m->cte == MP_CTE_7BIT ||
	    m->cte == MP_CTE_8BIT || m->cte == MP_CTE_BINARY);
	m->lstart = 1;
	m->heldn = 0;
	m->heldin = NULL;
	m->hard = 0;
	m->dany = 0;
	m->dlast = 0;
	memset(&m->qd, 0, sizeof(m->qd));
	memset(&m->bd, 0, sizeof(m->bd));
	memset(&m->qe, 0, sizeof(m->qe));
	memset(&m->be, 0, sizeof(m->be));
	m->hlen = 0;
	m->found = 0;
	m->mpos = 0;
}

/*
 * A piece p[0..n) of a content line (without its ending e[0..en),
 * given when end). The ending is held: it is the delimiter's when a
 * delimiter follows.
 */
static void
chg_piece(struct mime_append *m, const char *p, size_t n, int end,
    const char *e, size_t en)
{
	int soft = 0;

	if (m->lstart) {
		m->lstart = 0;
		if (m->hard)
			dec_break(m);
		m->heldn = 0;
		if (n > 0 && p[0] == '.') {
			p++;
			n--;
		}
	}
	if (m->cte == MP_CTE_QP)
		soft = qpd_piece(&m->qd, p, n, end, dec_out, m);
	else if (m->cte == MP_CTE_B64)
		b64d_put(&m->bd, p, n, dec_out, m);
	else
		dec_out(m, p, n);
	if (!end)
		return;
	memcpy(m->held, e, en);
	m->heldn = en;
	m->heldin = en > 0 && in_input(m, e) ? e : NULL;
	m->hard = m->cte == MP_CTE_QP ? !soft : m->cte != MP_CTE_B64;
	m->lstart = 1;
}

/* The part ends: the text goes in, the encoder is flushed. */
static void
chg_end(struct mime_append *m)
{
	if (m->cte == MP_CTE_QP)
		qpd_finish(&m->qd, dec_out, m);
	else if (m->cte == MP_CTE_B64)
		b64d_finish(&m->bd, dec_out, m);
	if (m->html)
		html_end(m);
	else
		text_plain(m);
	enc_finish(m);
	m->parts++;
	m->state = ST_PASS;
}

/* --- structure ---------------------------------------------------------- */

/* Levels open (first-text-part multiparts) have found their part. */
static void
mark_done(struct mime_append *m)
{
	for (unsigned k = 0; k < m->depth; k++)
		m->lv[k].done = 1;
}

static void
text_enter(struct mime_append *m, int html)
{
	if (m->part.attach)
		return;
	mark_done(m);
	if (m->part.cte == MP_CTE_OTHER || !text_fits(m, &m->part, html)) {
		m->f_charset = 1;
		return;
	}
	chg_begin(m, html);
}

static void
multi_enter(struct mime_append *m)
{
	const struct mp_part	*pt = &m->part;
	struct ma_level		*l;

	if (pt->sub == MP_MS_SIGNED) {
		m->f_signed = 1;
		return;
	}
	if (pt->bnd != MP_BND_OK || m->depth == MA_MAX_DEPTH) {
		m->f_malformed = 1;
		return;
	}
	l = &m->lv[m->depth++];
	memcpy(l->bound, pt->bound, pt->blen);
	l->blen = pt->blen;
	l->alt = pt->sub == MP_MS_ALT;
	l->digest = pt->sub == MP_MS_DIGEST;
	l->done = 0;
	l->closed = 0;
}

/* A header section ended: what becomes of the body that follows. */
static void
part_decide(struct mime_append *m)
{
	const struct ma_level	*pl = NULL;
	enum mp_ctype		 type;

	fld_end(m);
	m->state = ST_PASS;
	if (m->depth > 0) {
		pl = &m->lv[m->depth - 1];
		if (!pl->alt && pl->done)
			return;
	}
	type = m->fbad ? MP_CT_BAD : m->part.type;
	if (type == MP_CT_NONE)
		type = pl != NULL && pl->digest ? MP_CT_MESSAGE : MP_CT_PLAIN;
	switch (type) {
	case MP_CT_BAD:
		m->f_malformed = 1;
		break;
	case MP_CT_MULTI:
		multi_enter(m);
		break;
	case MP_CT_PKCS7:
		m->f_signed = 1;
		break;
	case MP_CT_PLAIN:
	case MP_CT_HTML:
		text_enter(m, type == MP_CT_HTML);
		break;
	default:
		break;
	}
}

static int
only_wsp(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return 0;
	return 1;
}

/* Is p[0..n) (no line ending) a delimiter of l? *close for "--b--". */
static int
delim_match(const struct ma_level *l, const char *p, size_t n, int *close)
{
	size_t i = 2 + l->blen;

	if (l->closed || n < i || p[0] != '-' || p[1] != '-' ||
	    memcmp(p + 2, l->bound, l->blen) != 0)
		return 0;
	*close = 0;
	if (only_wsp(p + i, n - i))
		return 1;
	if (n - i >= 2 && p[i] == '-' && p[i + 1] == '-' &&
	    only_wsp(p + i + 2, n - i - 2)) {
		*close = 1;
		return 1;
	}
	return 0;
}

/* The delimiter raw[0..rawn) of level k: the part before it ends. */
static void
delim_at(struct mime_append *m, unsigned k, int close, const char *raw,
    size_t rawn)
{
	if (m->state == ST_CHANGE) {
		chg_end(m);
		if (m->heldn > 0)
			out_raw(m, held_ptr(m), m->heldn);
		else if (!m->bol)
			out_raw(m, "\r\n", 2);
		m->heldn = 0;
	}
	for (unsigned j = k + 1; j < m->depth; j++)
		if (!m->lv[j].closed)
			m->f_malformed = 1;
	m->depth = k + 1;
	out_raw(m, raw, rawn);
	if (close) {
		m->lv[k].closed = 1;
		m->state = ST_PASS;
	} else {
		part_reset(m);
		m->state = ST_HDR;
	}
}

static int
delim_line(struct mime_append *m, const char *raw, size_t rawn, size_t n)
{
	int close;

	for (unsigned k = m->depth; k-- > 0;)
		if (delim_match(&m->lv[k], raw, n, &close)) {
			delim_at(m, k, close, raw, rawn);
			return 1;
		}
	return 0;
}

/* --- lines ---------------------------------------------------------------- */

static size_t
ln_ending(const char *p, size_t n)
{
	if (n >= 2 && p[n - 2] == '\r' && p[n - 1] == '\n')
		return 2;
	return n >= 1 && p[n - 1] == '\n';
}

/* The first octets of a line p[0..n), all of it (with its ending) when
 * end. */
static void
ln_head(struct mime_append *m, const char *p, size_t n, int end)
{
	size_t	el = end ? ln_ending(p, n) : 0, cn = n - el, s;

	if (m->state == ST_START) {
		m->state = m->after_start;
		if (end && cn == 0) {
			out_raw(m, p, n);
			return;
		}
	}
	if (end && m->depth > 0 && delim_line(m, p, n, cn))
		return;
	switch (m->state) {
	case ST_HDR:
		out_raw(m, p, n);
		if (end && cn == 0) {
			part_decide(m);
			break;
		}
		s = cn > 0 && p[0] == '.';
		hdr_line(m, p + s, cn - s, end);
		break;
	case ST_CHANGE:
		chg_piece(m, p, cn, end, p + cn, el);
		break;
	default:
		out_raw(m, p, n);
		break;
	}
}

/* The rest of a long line, a piece at a time. */
static void
ln_cont(struct mime_append *m, const char *p, size_t n, int end)
{
	size_t el = end ? ln_ending(p, n) : 0;

	if (m->state == ST_CHANGE)
		chg_piece(m, p, n - el, end, p + n - el, el);
	else
		out_raw(m, p, n);
}

static void
ln_dispatch(struct mime_append *m, const char *p, size_t n, int end)
{
	if (m->lcont)
		ln_cont(m, p, n, end);
	else
		ln_head(m, p, n, end);
	m->lcont = !end;
}

/* The line buffer is full: its octets go on as a piece, but a CR at
 * its end stays, as it may begin the line's CRLF. */
static void
ln_overflow(struct mime_append *m)
{
	size_t cr = m->lbuf[m->llen - 1] == '\r';

	ln_dispatch(m, m->lbuf, m->llen - cr, 0);
	m->llen = 0;
	if (cr)
		m->lbuf[m->llen++] = '\r';
}

/* --- runs of lines that need no look ------------------------------------ */

/*
 * Where no delimiter can follow (no multipart open) everything passes;
 * else the run ends before the first line that starts with "-" (only
 * such a line may be a delimiter). A last line left open is not one.
 */
static size_t
run_pass(struct mime_append *m, const char *p, size_t n)
{
	const char	*q;
	size_t		 i = 0;

	while (m->depth > 0 && i < n && p[i] != '-') {
		if ((q = memchr(p + i, '-', n - i)) == NULL) {
			i = n;
			break;
		}
		if (q[-1] == '\n') {
			i = (size_t)(q - p);
			break;
		}
		if ((q = memchr(q, '\n', n - (size_t)(q - p))) == NULL) {
			i = n;
			break;
		}
		i = (size_t)(q - p) + 1;
	}
	if (m->depth == 0)
		i = n;
	out_raw(m, p, i);
	if (i == n && p[n - 1] != '\n')
		m->lcont = 1;
	return i;
}

/*
 * A changed part in 7bit, 8bit or binary: its complete lines go out as
 * they came but for the last line ending, held as chg_piece() holds it,
 * up to a line that may need a look (it starts with "." and loses it,
 * or with "-" and may be a delimiter, or it is longer than lbuf).
 */
static size_t
run_change(struct mime_append *m, const char *p, size_t n)
{
	const char	*q;
	size_t		 i = 0, last = 0, el, cn;

	while (i < n && p[i] != '.' && (p[i] != '-' || m->depth == 0)) {
		if ((q = memchr(p + i, '\n', n - i)) == NULL ||
		    (size_t)(q - p) + 1 - i > sizeof(m->lbuf))
			break;
		last = i;
		i = (size_t)(q - p) + 1;
	}
	if (i == 0)
		return 0;
	el = ln_ending(p + last, i - last);
	cn = i - el;
	if (m->hard)
		out_raw(m, held_ptr(m), m->heldn);
	out_raw(m, p, cn);
	if (cn > 0 || m->hard) {
		m->dany = 1;
		m->dlast = (unsigned char)(cn > 0 ? p[cn - 1] :
		    m->held[m->heldn - 1]);
	}
	memcpy(m->held, p + cn, el);
	m->heldn = el;
	m->heldin = p + cn;
	m->hard = 1;
	return i;
}

/* At a line start, lbuf empty: how many octets of p[0..n) went out
 * without a look at each line (0: the next line needs one). */
static size_t
ln_run(struct mime_append *m, const char *p, size_t n)
{
	if (m->state == ST_PASS)
		return run_pass(m, p, n);
	if (m->state == ST_CHANGE && m->ident && m->lstart)
		return run_change(m, p, n);
	return 0;
}

/* --- interface ------------------------------------------------------------ */

/* The header section given to ma_init: its lines, unstuffed. */
static void
top_header(struct mime_append *m, const char *hdr, size_t hlen)
{
	size_t i = 0;

	while (i < hlen) {
		const char	*p = hdr + i;
		const char	*q = memchr(p, '\n', hlen - i);
		size_t		 n = q != NULL ? (size_t)(q - p) : hlen - i;

		i += n + (q != NULL);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0)
			break;
		if (p[0] == '.') {
			p++;
			n--;
		}
		hdr_line(m, p, n, 1);
	}
	fld_end(m);
}

enum ma_outcome
ma_init(struct mime_append *m, const char *hdr, size_t hlen,
    const char *text, size_t tlen)
{
	const struct mp_part *pt = &m->part;

	memset(m, 0, sizeof(*m));
	m->bol = 1;
	text_set(m, text, tlen);
	part_reset(m);
	top_header(m, hdr, hlen);
	if (!m->fbad && ((pt->type == MP_CT_MULTI && pt->sub == MP_MS_SIGNED) ||
	    pt->type == MP_CT_PKCS7)) {
		m->signed_top = 1;
		m->state = ST_PASS;
	} else
		part_decide(m);
	m->after_start = m->state;
	m->state = ST_START;
	return m->signed_top ? MA_SIGNED : MA_PENDING;
}

void
ma_feed(struct mime_append *m, const char *p, size_t n, ma_emit_fn emit,
    void *ctx)
{
	const size_t cap = sizeof(m->lbuf);

	m->emit = emit;
	m->ctx = ctx;
	m->in = p;
	m->inlen = n;
	while (n > 0) {
		const char	*q;
		size_t		 k;

		if (m->llen == 0 && !m->lcont && (k = ln_run(m, p, n)) > 0) {
			p += k;
			n -= k;
			continue;
		}
		q = memchr(p, '\n', n);
		k = q != NULL ? (size_t)(q - p) + 1 : n;
		if (m->llen == 0 && q != NULL && k <= cap)
			ln_dispatch(m, p, k, 1);
		else {
			if (k > cap - m->llen) {
				k = cap - m->llen;
				q = NULL;
			}
			memcpy(m->lbuf + m->llen, p, k);
			m->llen += k;
			if (q != NULL) {
				ln_dispatch(m, m->lbuf, m->llen, 1);
				m->llen = 0;
			} else if (m->llen == cap)
				ln_overflow(m);
		}
		p += k;
		n -= k;
	}
	out_flush(m);
	m->in = NULL;
	m->inlen = 0;
	m->heldin = NULL;
}

static enum ma_outcome
outcome(const struct mime_append *m)
{
	if (m->signed_top)
		return MA_SIGNED;
	if (m->parts > 0)
		return MA_APPENDED;
	if (m->f_signed)
		return MA_SIGNED;
	if (m->f_charset)
		return MA_CHARSET;
	if (m->f_malformed)
		return MA_MALFORMED;
	return MA_NO_TEXT;
}

enum ma_outcome
ma_finish(struct mime_append *m, ma_emit_fn emit, void *ctx)
{
	m->emit = emit;
	m->ctx = ctx;
	if (m->llen > 0) {
		ln_dispatch(m, m->lbuf, m->llen, 0);
		m->llen = 0;
	}
	if (m->state == ST_CHANGE) {
		/* at the top the last line ending is content; in an
		 * unterminated multipart it goes out after the text */
		if (m->cdepth == 0) {
			if (m->hard)
				dec_break(m);
			m->heldn = 0;
		}
		chg_end(m);
		out_raw(m, m->held, m->heldn);
		m->heldn = 0;
	}
	for (unsigned k = 0; k < m->depth; k++)
		if (!m->lv[k].closed)
			m->f_malformed = 1;
	out_flush(m);
	return outcome(m);
}

const char *
ma_outcome_text(enum ma_outcome o)
{
	switch (o) {
	case MA_PENDING:
		return "pending";
	case MA_APPENDED:
		return "appended";
	case MA_SIGNED:
		return "signed";
	case MA_NO_TEXT:
		return "no-text";
	case MA_CHARSET:
		return "charset";
	case MA_MALFORMED:
		return "malformed";
	}
	return "unknown";
}

unsigned
ma_parts(const struct mime_append *m)
{
	return m->parts;
}
