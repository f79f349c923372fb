/*
 * core/ew.c - RFC 2047 encoded words: decoding header text to UTF-8 for
 * display-name checks, and spotting an address inside a display name.
 * Input: untrusted bytes, exact length, never NUL-terminated; folds may
 * be present. Output bounded by the caller's cap, never NUL-terminated;
 * allocates nothing; no data but const tables (core/ew_tab.c).
 * RFC 2047 2 (encoded-word syntax), 4.1 (B), 4.2 (Q), 6.2 (white space
 * between adjacent words is not displayed), 6.3 (unknown charset: show
 * the word as it is); RFC 2231 5 (charset "*" language); RFC 5322 2.2.3
 * (unfolding); RFC 3629 (what valid UTF-8 is).
 *
 * A word is decoded only when all of it is valid: syntax, a known
 * charset, and encoded text that is valid in its encoding. Anything
 * else is copied byte for byte, so a malformed word reads as it came.
 */
#include <stdbool.h>
#include <string.h>

#include "core/b64.h"
#include "core/ew.h"
#include "core/hex.h"

#define REPL	0xfffdu		/* U+FFFD REPLACEMENT CHARACTER */

/* Where decoded text goes: each put is all or nothing. */
struct out {
	char	*p;
	size_t	 cap;
	size_t	 n;
	bool	 full;
};

static void
put(struct out *o, const void *s, size_t k)
{
	if (o->full)
		return;
	if (k > o->cap - o->n) {
		o->full = true;
		return;
	}
	if (k > 0)
		memcpy(o->p + o->n, s, k);
	o->n += k;
}

static void
put_cp(struct out *o, uint32_t cp)
{
	unsigned char	b[4];
	size_t		k;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 2;
	} else {
		/* The tables hold BMP code points only. */
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		k = 3;
	}
	put(o, b, k);
}

/*
 * The bounds of the second byte of a UTF-8 sequence led by c, and how
 * many continuation bytes it needs; 0 for a byte that leads nothing
 * (RFC 3629 4: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t
u8_lead(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		return 1;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			*lo = 0xa0;
		if (c == 0xed)
			*hi = 0x9f;
		return 2;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			*lo = 0x90;
		if (c == 0xf4)
			*hi = 0x8f;
		return 3;
	}
	return 0;
}

/* Length of the valid UTF-8 character at s[0..n), 0 when invalid. */
static size_t
u8_seq(const unsigned char *s, size_t n)
{
	unsigned char	lo, hi;
	size_t		need;

	if (s[0] < 0x80)
		return 1;
	if ((need = u8_lead(s[0], &lo, &hi)) == 0 || n < need + 1)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i <= need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need + 1;
}

/* The octets of one word, converted from its charset as they come. */
struct sink {
	struct out		*o;
	struct ew_charset	 cs;
	unsigned		*flags;
	unsigned char		 b[4];	/* EW_CS_UTF8: the pending character */
	size_t			 have, need;
	unsigned char		 lo, hi;
};

static void
repl(struct sink *s)
{
	*s->flags |= EW_F_REPLACED;
	put_cp(s->o, REPL);
}

/* RFC 3629 decoding, one octet at a time; bad bytes become U+FFFD. */
static void
u8_feed(struct sink *s, unsigned char c)
{
	for (;;) {
		if (s->need == 0) {
			if (c < 0x80) {
				put(s->o, &c, 1);
				return;
			}
			if ((s->need = u8_lead(c, &s->lo, &s->hi)) == 0) {
				repl(s);
				return;
			}
			s->b[0] = c;
			s->have = 1;
			return;
		}
		if (c < (s->have == 1 ? s->lo : 0x80) ||
		    c > (s->have == 1 ? s->hi : 0xbf)) {
			/* The pending character is cut short: c starts anew. */
			repl(s);
			s->need = 0;
			continue;
		}
		s->b[s->have++] = c;
		if (s->have == s->need + 1) {
			put(s->o, s->b, s->have);
			s->need = 0;
		}
		return;
	}
}

static void
sink_octet(void *ctx, unsigned char c)
{
	struct sink	*s = ctx;
	uint32_t	 cp;

	switch (s->cs.kind) {
	case EW_CS_UTF8:
		u8_feed(s, c);
		return;
	case EW_CS_ASCII:
		if (c < 0x80)
			put(s->o, &c, 1);
		else
			repl(s);
		return;
	case EW_CS_LATIN1:
		put_cp(s->o, c);
		return;
	case EW_CS_TABLE:
		if (c < s->cs.first) {
			put_cp(s->o, c);
			return;
		}
		cp = s->cs.table[c - s->cs.first];
		if (cp == REPL)
			repl(s);
		else
			put_cp(s->o, cp);
		return;
	case EW_CS_NONE:
		break;
	}
}

/* Octets to a plain buffer, for ew_decode_q() and ew_decode_b(). */
struct obuf {
	char	*p;
	size_t	 cap, n;
	bool	 over;
};

static void
obuf_octet(void *ctx, unsigned char c)
{
	struct obuf	*b = ctx;

	if (b->n == b->cap) {
		b->over = true;
		return;
	}
	b->p[b->n++] = (char)c;
}

typedef void octet_fn(void *, unsigned char);

/*
 * RFC 2047 4.2: "_" is 0x20, "=XX" an octet (either case accepted, as
 * every reader does), other printable characters themselves. fn NULL:
 * only check. Returns 0, or -1 when the text is not valid Q.
 */
static int
q_text(const char *p, size_t n, octet_fn *fn, void *ctx)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char	c = (unsigned char)p[i];
		int		hi, lo;

		if (c == '_')
			c = ' ';
		else if (c == '=') {
			if (n - i < 3 ||
			    (hi = hex_value((unsigned char)p[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)p[i + 2])) < 0)
				return -1;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c < 0x21 || c > 0x7e || c == '?')
			return -1;
		if (fn != NULL)
			fn(ctx, c);
	}
	return 0;
}

/*
 * RFC 2047 4.1 (base64 of RFC 2045 6.8). Padding may be missing or
 * short (EW_F_PADDING into *flags, when not NULL); padding followed by
 * data, too much padding, or a lone sixth of an octet is invalid.
 */
static int
b_text(const char *p, size_t n, octet_fn *fn, void *ctx, unsigned *flags)
{
	uint32_t	acc = 0;
	size_t		k = 0, pad = 0, want;
	int		v;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_value(c)) < 0)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		if (++k == 4) {
			if (fn != NULL) {
				fn(ctx, (unsigned char)(acc >> 16));
				fn(ctx, (unsigned char)(acc >> 8));
				fn(ctx, (unsigned char)acc);
			}
			acc = 0;
			k = 0;
		}
	}
	want = k == 2 ? 2 : k == 3 ? 1 : 0;
	if (k == 1 || pad > want)
		return -1;
	if (pad < want && flags != NULL)
		*flags |= EW_F_PADDING;
	if (fn != NULL && k == 2)
		fn(ctx, (unsigned char)(acc >> 4));
	if (fn != NULL && k == 3) {
		fn(ctx, (unsigned char)(acc >> 10));
		fn(ctx, (unsigned char)(acc >> 2));
	}
	return 0;
}

long
ew_decode_q(const char *in, size_t len, char *out, size_t cap)
{
	struct obuf	b = { out, cap, 0, false };

	if (q_text(in, len, obuf_octet, &b) != 0 || b.over)
		return -1;
	return (long)b.n;
}

long
ew_decode_b(const char *in, size_t len, char *out, size_t cap,
    unsigned *flags)
{
	struct obuf	b = { out, cap, 0, false };

	if (b_text(in, len, obuf_octet, &b, flags) != 0 || b.over)
		return -1;
	return (long)b.n;
}

/* RFC 2047 2: token characters, "." let in for names like ANSI_X3.4. */
static bool
is_token(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\"/[]?=", c) == NULL;
}

struct word {
	size_t		len;	/* all of "=?...?=" */
	struct span	charset;	/* without any "*language" */
	char		enc;	/* 'B' or 'Q' */
	struct span	text;
};

/*
 * The encoded word at p[0..n) (p[0..2) is "=?"). Returns 1 when it can
 * be decoded, 0 when it is a valid word in a charset not known here
 * (*w filled), -1 when it is no valid word.
 */
static int
word_at(const char *p, size_t n, struct word *w, struct ew_charset *cs)
{
	size_t		i = 2, cs0, cs1, t0;
	const char	*star;
	int		rc;

	cs0 = i;
	while (i < n && is_token((unsigned char)p[i]))
		i++;
	cs1 = i;
	if (cs1 == cs0 || n - i < 3 || p[i] != '?' || p[i + 2] != '?')
		return -1;
	w->enc = p[i + 1] == 'b' || p[i + 1] == 'B' ? 'B' :
	    p[i + 1] == 'q' || p[i + 1] == 'Q' ? 'Q' : 0;
	if (w->enc == 0)
		return -1;
	i += 3;
	t0 = i;
	while (i < n && p[i] > 0x20 && p[i] < 0x7f && p[i] != '?')
		i++;
	if (n - i < 2 || p[i] != '?' || p[i + 1] != '=')
		return -1;
	w->len = i + 2;
	w->text = span_make(p + t0, i - t0);
	/* RFC 2231 5: charset "*" language; the language is not shown. */
	star = memchr(p + cs0, '*', cs1 - cs0);
	if (star != NULL)
		cs1 = (size_t)(star - p);
	if (cs1 == cs0)
		return -1;
	w->charset = span_make(p + cs0, cs1 - cs0);
	if (w->enc == 'Q')
		rc = q_text(w->text.p, w->text.len, NULL, NULL);
	else
		rc = b_text(w->text.p, w->text.len, NULL, NULL, NULL);
	if (rc != 0)
		return -1;
	if (!ew_charset_find(w->charset.p, w->charset.len, cs))
		return 0;
	return 1;
}

/* Length of the folding white space at p[0..n): SP, HTAB, [CR]LF WSP. */
static size_t
lwsp(const char *p, size_t n)
{
	size_t	i = 0;

	for (;;) {
		if (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		else if (n - i >= 3 && p[i] == '\r' && p[i + 1] == '\n' &&
		    (p[i + 2] == ' ' || p[i + 2] == '\t'))
			i += 3;
		else if (n - i >= 2 && p[i] == '\n' &&
		    (p[i + 1] == ' ' || p[i + 1] == '\t'))
			i += 2;
		else
			return i;
	}
}

static bool
starts_word(const char *p, size_t n)
{
	return n >= 2 && p[0] == '=' && p[1] == '?';
}

int
ew_decode(const char *in, size_t len, char *out, size_t cap,
    size_t *outlen, unsigned *flags)
{
	struct out		o = { out, cap, 0, false };
	struct word		w, w2;
	struct ew_charset	cs, cs2;
	struct sink		s;
	size_t			i = 0, j, k;
	int			rc;

	while (i < len && !o.full) {
		if (starts_word(in + i, len - i)) {
			rc = word_at(in + i, len - i, &w, &cs);
			if (rc < 0) {
				*flags |= EW_F_MALFORMED;
				put(&o, in + i, 2);
				i += 2;
				continue;
			}
			if (rc == 0) {
				*flags |= EW_F_CHARSET;
				put(&o, in + i, w.len);
				i += w.len;
				continue;
			}
			memset(&s, 0, sizeof(s));
			s.o = &o;
			s.cs = cs;
			s.flags = flags;
			if (w.enc == 'Q')
				(void)q_text(w.text.p, w.text.len,
				    sink_octet, &s);
			else
				(void)b_text(w.text.p, w.text.len,
				    sink_octet, &s, flags);
			if (s.need != 0)
				repl(&s);	/* a character cut short */
			*flags |= EW_F_DECODED;
			i += w.len;
			/* RFC 2047 6.2: no white space between two words. */
			j = i + lwsp(in + i, len - i);
			if (j > i && starts_word(in + j, len - j) &&
			    word_at(in + j, len - j, &w2, &cs2) == 1)
				i = j;
			continue;
		}
		/* RFC 5322 2.2.3: a fold is its CRLF removed. */
		if (in[i] == '\r' && len - i >= 3 && in[i + 1] == '\n' &&
		    (in[i + 2] == ' ' || in[i + 2] == '\t')) {
			i += 2;
			continue;
		}
		if (in[i] == '\n' && len - i >= 2 &&
		    (in[i + 1] == ' ' || in[i + 1] == '\t')) {
			i++;
			continue;
		}
		/* Plain text: a valid UTF-8 character whole, else a byte. */
		k = u8_seq((const unsigned char *)in + i, len - i);
		if (k == 0)
			k = 1;
		put(&o, in + i, k);
		if (!o.full)
			i += k;
	}
	*outlen = o.n;
	if (o.full) {
		*flags |= EW_F_TRUNCATED;
		return -1;
	}
	return 0;
}

/* Lengths of an "@"-like and a "."-like character at s[0..n), or 0. */
static size_t
at_like(const unsigned char *s, size_t n)
{
	if (s[0] == '@')
		return 1;
	if (n >= 3 && s[0] == 0xef && s[1] == 0xbc && s[2] == 0xa0)
		return 3;		/* U+FF20 FULLWIDTH COMMERCIAL AT */
	if (n >= 3 && s[0] == 0xef && s[1] == 0xb9 && s[2] == 0xab)
		return 3;		/* U+FE6B SMALL COMMERCIAL AT */
	return 0;
}

static size_t
dot_like(const unsigned char *s, size_t n)
{
	if (s[0] == '.')
		return 1;
	if (n >= 3 && s[0] == 0xef && s[1] == 0xbc && s[2] == 0x8e)
		return 3;		/* U+FF0E FULLWIDTH FULL STOP */
	if (n >= 3 && s[0] == 0xe3 && s[1] == 0x80 && s[2] == 0x82)
		return 3;		/* U+3002 IDEOGRAPHIC FULL STOP */
	return 0;
}

/* RFC 5322 3.2.3 atext and ".", and UTF-8 bytes (RFC 6532 3.2). */
static bool
is_local(unsigned char c)
{
	if (c >= 0x80 || (c >= '0' && c <= '9') ||
	    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~.", c) != NULL;
}

static bool
is_label(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (at_like(s, n) != 0 || dot_like(s, n) != 0)
		return false;
	return c >= 0x80 || c == '-' || (c >= '0' && c <= '9') ||
	    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int
ew_find_address(const char *text, size_t len, struct span *addr)
{
	const unsigned char	*s = (const unsigned char *)text;
	size_t			 a, al, l0, j, k, lab, labels, end;

	for (a = 0; a < len; a++) {
		if ((al = at_like(s + a, len - a)) == 0)
			continue;
		for (l0 = a; l0 > 0 && is_local(s[l0 - 1]); l0--)
			continue;
		if (l0 == a)
			continue;
		j = a + al;
		lab = labels = end = 0;
		for (;;) {
			if (j < len && is_label(s + j, len - j)) {
				j++;
				lab++;
				continue;
			}
			if (lab == 0)
				break;
			labels++;
			end = j;
			if (j == len || (k = dot_like(s + j, len - j)) == 0)
				break;
			j += k;
			lab = 0;
		}
		if (labels >= 2) {
			*addr = span_make(text + l0, end - l0);
			return 1;
		}
	}
	*addr = SPAN_NULL;
	return 0;
}
