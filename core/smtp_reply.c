/*
 * core/smtp_reply.c - check one reply line from the backend and rewrite
 * the capability list of an EHLO reply (RFC 5321 4.2, 4.2.1; RFC 3463
 * enhanced status codes; RFC 1869/5321 4.1.1.1 ehlo-keyword).
 * Input: the backend's bytes, semi-trusted, not NUL-terminated. Owns
 * nothing; reply_ehlo_filter() writes only into the caller's buffer.
 */
#include <string.h>

#include "core/smtp_reply.h"

static const char *const reply_rc_names[] = {
	[REPLY_OK] = "OK",
	[REPLY_E_SYNTAX] = "E_SYNTAX",
	[REPLY_E_CODE] = "E_CODE",
	[REPLY_E_CHAR] = "E_CHAR",
};

/* The capabilities reply_ehlo_filter() knows by name. */
static const struct {
	const char	*kw;
	unsigned	 bit;
} caps[] = {
	{ "STARTTLS",	CAP_STARTTLS },
	{ "CHUNKING",	CAP_CHUNKING },
	{ "BINARYMIME",	CAP_BINARYMIME },
	{ "XCLIENT",	CAP_XCLIENT },
	{ "XFORWARD",	CAP_XFORWARD },
	{ "AUTH",	CAP_AUTH },
	{ "PIPELINING",	CAP_PIPELINING },
	{ "SIZE",	CAP_SIZE },
	{ "8BITMIME",	CAP_8BITMIME },
	{ "SMTPUTF8",	CAP_SMTPUTF8 },
	{ "DSN",	CAP_DSN },
	{ "ENHANCEDSTATUSCODES", CAP_ENHANCEDSTATUSCODES },
	{ "PRDR",	CAP_PRDR },
};

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_kwchar(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    c == '-';
}

/* p[0..n) equals the ASCII literal lit, ignoring case. */
static int
ieq(const char *p, size_t n, const char *lit)
{
	size_t i;
	unsigned char a, b;

	for (i = 0; i < n; i++) {
		a = (unsigned char)p[i];
		b = (unsigned char)lit[i];
		if (b == '\0')
			return 0;
		if (a >= 'A' && a <= 'Z')
			a = (unsigned char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (unsigned char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return lit[i] == '\0';
}

/* 1*3DIGIT at s; returns its length, or 0. */
static size_t
digits13(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i < 3 && is_digit(s[i]); i++)
		;
	return i;
}

/* The enhanced status code at the start of text, or an empty span. */
static struct span
scan_enh(struct span text)
{
	const unsigned char *s = (const unsigned char *)text.p;
	size_t n = text.len, i, k;

	if (n < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') ||
	    s[1] != '.')
		return span_make(text.p, 0);
	i = 2;
	if ((k = digits13(s + i, n - i)) == 0)
		return span_make(text.p, 0);
	i += k;
	if (i == n || s[i] != '.')
		return span_make(text.p, 0);
	i++;
	if ((k = digits13(s + i, n - i)) == 0)
		return span_make(text.p, 0);
	i += k;
	if (i < n && s[i] != ' ')
		return span_make(text.p, 0);
	return span_make(text.p, i);
}

/* reply_parse_line - see smtp_reply.h. */
enum reply_rc
reply_parse_line(const char *p, size_t len, struct reply_line *out)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t i;

	out->code = 0;
	out->last = 0;
	out->text = out->enh = span_make(p, 0);

	if (len < 3 || !is_digit(s[0]) || !is_digit(s[1]) || !is_digit(s[2]))
		return REPLY_E_SYNTAX;
	if (len > 3 && s[3] != ' ' && s[3] != '-')
		return REPLY_E_SYNTAX;
	out->code = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (out->code < 200 || out->code > 599)
		return REPLY_E_CODE;

	out->last = len == 3 || s[3] == ' ';
	if (len > 3)
		out->text = span_make(p + 4, len - 4);
	else
		out->text = span_make(p + 3, 0);
	for (i = 0; i < out->text.len; i++) {
		unsigned char c = (unsigned char)out->text.p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return REPLY_E_CHAR;
	}
	out->enh = scan_enh(out->text);
	return REPLY_OK;
}

const char *
reply_rc_name(enum reply_rc rc)
{
	if ((unsigned)rc >= sizeof(reply_rc_names) / sizeof(reply_rc_names[0]))
		return "?";
	return reply_rc_names[rc];
}

/* The length of the keyword at the start of a capability line's text. */
static size_t
kw_len(struct span text)
{
	size_t n;

	for (n = 0; n < text.len && is_kwchar((unsigned char)text.p[n]); n++)
		;
	return n;
}

/* The CAP_* bit a capability line's text names, CAP_OTHER for others. */
static unsigned
cap_of(struct span text)
{
	size_t n, i;

	n = kw_len(text);
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ieq(text.p, n, caps[i].kw))
			return caps[i].bit;
	}
	return CAP_OTHER;
}

/*
 * One line of in at *off: its text through reply_parse_line(), which
 * must say 250. Returns 1 and advances *off past the CRLF, 0 when the
 * line is missing its CRLF or is not a 250 line.
 */
static int
next_line(const char *in, size_t len, size_t *off, struct reply_line *rl)
{
	const char *lf;
	size_t start = *off, end;

	lf = memchr(in + start, '\n', len - start);
	if (lf == NULL)
		return 0;
	end = (size_t)(lf - in);
	if (end == start || in[end - 1] != '\r')
		return 0;
	if (reply_parse_line(in + start, end - 1 - start, rl) != REPLY_OK)
		return 0;
	if (rl->code != 250)
		return 0;
	*off = end + 1;
	return 1;
}

/*
 * The next word of an AUTH line's mechanisms at *off in text: returns 1
 * with the word and *off past it, 0 at the end. Words are separated by
 * spaces (one or more).
 */
static int
next_mech(struct span text, size_t *off, struct span *word)
{
	size_t i = *off, start;

	while (i < text.len && text.p[i] == ' ')
		i++;
	if (i == text.len) {
		*off = i;
		return 0;
	}
	start = i;
	while (i < text.len && text.p[i] != ' ')
		i++;
	*word = span_make(text.p + start, i - start);
	*off = i;
	return 1;
}

/* word is one of the mechanisms in the NULL-terminated list. */
static int
mech_allowed(struct span word, const char *const *mechs)
{
	for (; *mechs != NULL; mechs++) {
		if (ieq(word.p, word.len, *mechs))
			return 1;
	}
	return 0;
}

/* Where the mechanisms of an AUTH line start (after "AUTH" and " "/"="). */
static size_t
mechs_start(struct span text)
{
	return text.len > 4 ? 5 : 4;
}

/* Appends a name to res->removed, bounded, "..." once it is full. */
static void
note_removed(struct ehlo_result *res, const char *prefix, const char *p,
    size_t n)
{
	size_t used, need, plen, i;
	unsigned char c;

	if (res == NULL)
		return;
	res->nremoved++;
	used = strlen(res->removed);
	if (used >= 3 && memcmp(res->removed + used - 3, "...", 3) == 0)
		return;
	plen = strlen(prefix);
	if (n == 0) {
		p = "?";
		n = 1;
	}
	need = (used > 0) + plen + n;
	/* keep room for " ..." and the NUL */
	if (used + need + 4 + 1 > sizeof(res->removed)) {
		memcpy(res->removed + used, used > 0 ? " ..." : "...",
		    used > 0 ? 5 : 4);
		return;
	}
	if (used > 0)
		res->removed[used++] = ' ';
	memcpy(res->removed + used, prefix, plen);
	used += plen;
	for (i = 0; i < n; i++) {
		c = (unsigned char)p[i];
		res->removed[used++] = is_kwchar(c) || c == '_' ? (char)c : '?';
	}
	res->removed[used] = '\0';
}

/*
 * What becomes of one capability line: 1 kept, 0 removed. With note,
 * the removed keyword or mechanisms go to res.
 */
static int
cap_fate(struct span text, unsigned bit, const struct ehlo_opts *o,
    struct ehlo_result *res, int note)
{
	struct span word;
	size_t off, kept = 0, words = 0;

	/* an empty capability line names nothing: it goes */
	if (text.len == 0)
		return 0;
	if ((bit & o->keep & CAP_ALLOWED) == 0) {
		if (note)
			note_removed(res, "", text.p, kw_len(text));
		return 0;
	}
	if (bit != CAP_AUTH || o->mechs == NULL)
		return 1;
	off = mechs_start(text);
	while (next_mech(text, &off, &word)) {
		words++;
		if (mech_allowed(word, o->mechs))
			kept++;
		else if (note)
			note_removed(res, "AUTH:", word.p, word.len);
	}
	/* "AUTH" offering nothing goes too */
	if (words == 0 && note)
		note_removed(res, "", text.p, kw_len(text));
	return kept > 0;
}

/* Appends p[0..n) to out at *w; 0 when it does not fit. */
static int
put(char *out, size_t cap, size_t *w, const char *p, size_t n)
{
	if (n > cap - *w)
		return 0;
	if (n > 0)
		memcpy(out + *w, p, n);
	*w += n;
	return 1;
}

static int
put_start(char *out, size_t cap, size_t *w, int last)
{
	if (!put(out, cap, w, "250", 3))
		return 0;
	/* the last line always gets its space: some clients look for
	 * "250 " to know the reply ended */
	return put(out, cap, w, last ? " " : "-", 1);
}

static int
put_line(char *out, size_t cap, size_t *w, const char *text, size_t n,
    int last)
{
	return put_start(out, cap, w, last) && put(out, cap, w, text, n) &&
	    put(out, cap, w, "\r\n", 2);
}

/* An AUTH line with only the mechanisms in o->mechs. */
static int
put_auth(char *out, size_t cap, size_t *w, struct span text,
    const struct ehlo_opts *o, int last)
{
	struct span word;
	size_t off, n = 0;

	off = mechs_start(text);
	if (!put_start(out, cap, w, last) || !put(out, cap, w, text.p, off))
		return 0;
	while (next_mech(text, &off, &word)) {
		if (!mech_allowed(word, o->mechs))
			continue;
		if (n++ > 0 && !put(out, cap, w, " ", 1))
			return 0;
		if (!put(out, cap, w, word.p, word.len))
			return 0;
	}
	return put(out, cap, w, "\r\n", 2);
}

static size_t
fail(struct ehlo_result *res)
{
	if (res != NULL)
		memset(res, 0, sizeof(*res));
	return 0;
}

/*
 * reply_ehlo_filter - see smtp_reply.h. The first pass checks the whole
 * reply and counts the lines that stay, so the second knows which line
 * is last when it writes.
 */
size_t
reply_ehlo_filter(const char *in, size_t len, const struct ehlo_opts *o,
    char *out, size_t cap, struct ehlo_result *res)
{
	struct reply_line rl;
	size_t off, w, total, idx, nadd, i;
	unsigned bit;
	int first, ok;

	if (res != NULL)
		memset(res, 0, sizeof(*res));
	if (len == 0)
		return 0;

	nadd = 0;
	if (o->add != NULL) {
		for (; o->add[nadd] != NULL; nadd++) {
			if (o->add[nadd][0] == '\0')
				return 0;
			for (i = 0; o->add[nadd][i] != '\0'; i++) {
				unsigned char c = (unsigned char)o->add[nadd][i];

				if (c < 0x20 || c == 0x7F)
					return 0;
			}
		}
	}

	total = 0;
	off = 0;
	first = 1;
	for (;;) {
		if (!next_line(in, len, &off, &rl))
			return fail(res);
		if (rl.last != (off == len))
			return fail(res);
		if (first) {
			total++;
		} else {
			bit = cap_of(rl.text);
			if (res != NULL && rl.text.len > 0)
				res->seen |= bit;
			if (cap_fate(rl.text, bit, o, res, 1))
				total++;
		}
		first = 0;
		if (rl.last)
			break;
	}
	total += nadd;

	off = 0;
	w = 0;
	idx = 0;
	first = 1;
	while (off < len) {
		(void)next_line(in, len, &off, &rl);
		bit = first ? 0 : cap_of(rl.text);
		if (!first && !cap_fate(rl.text, bit, o, NULL, 0))
			continue;
		idx++;
		if (bit == CAP_AUTH && o->mechs != NULL)
			ok = put_auth(out, cap, &w, rl.text, o, idx == total);
		else
			ok = put_line(out, cap, &w, rl.text.p, rl.text.len,
			    idx == total);
		first = 0;
		if (!ok)
			return fail(res);
	}
	for (i = 0; i < nadd; i++) {
		idx++;
		if (!put_line(out, cap, &w, o->add[i], strlen(o->add[i]),
		    idx == total))
			return fail(res);
	}
	return w;
}

/* ------------------------------------------------------------ queue id */

/* A byte a queue id may hold. */
static int
is_qidchar(unsigned char c)
{
	return is_kwchar(c) || c == '.' || c == '_' || c == '@' ||
	    c == '<' || c == '>' || c == '+' || c == '=';
}

static int
is_alnum(unsigned char c)
{
	return is_kwchar(c) && c != '-';
}

/* The id at p[0..n): the run of id bytes, trimmed and bounded. */
static struct span
qid_at(const char *p, size_t n)
{
	size_t len;

	for (len = 0; len < n && is_qidchar((unsigned char)p[len]); len++)
		;
	while (len > 0 && p[len - 1] == '.')
		len--;
	if (len > 0 && p[len - 1] == '>' && memchr(p, '<', len) == NULL)
		len--;
	while (len > 0 && p[len - 1] == '.')
		len--;
	if (len > REPLY_QID_MAX)
		len = REPLY_QID_MAX;
	return span_make(p, len);
}

/*
 * The id after the first occurrence of mark in text (case-insensitive)
 * that has one; with word set, mark must start text or follow a byte
 * that is not a letter or digit.
 */
static struct span
qid_after(struct span text, const char *mark, int word)
{
	size_t ml = strlen(mark), i;
	struct span id;

	for (i = 0; i + ml <= text.len; i++) {
		if (!ieq(text.p + i, ml, mark))
			continue;
		if (word && i > 0 && is_alnum((unsigned char)text.p[i - 1]))
			continue;
		id = qid_at(text.p + i + ml, text.len - i - ml);
		if (id.len > 0)
			return id;
	}
	return span_make(NULL, 0);
}

/* text ends with the ASCII literal lit, ignoring case. */
static int
ends_with(struct span text, const char *lit)
{
	size_t n = strlen(lit);

	return text.len >= n && ieq(text.p + text.len - n, n, lit);
}

/*
 * Sendmail, OpenSMTPD: "[x.y.z[:]] ID Message accepted for delivery".
 * The enhanced status code is skipped by hand: "2.0.0:" is none for
 * reply_parse_line().
 */
static struct span
qid_first_word(struct span text)
{
	static const char phrase[] = " Message accepted for delivery";
	size_t ph = sizeof(phrase) - 1, i = 0, w, k, dots = 0;
	const char *p = text.p;
	size_t n = text.len;

	for (w = 0; w < n && (is_digit((unsigned char)p[w]) || p[w] == '.');
	    w++)
		dots += p[w] == '.';
	if (w < n && p[w] == ':')
		w++;
	if (dots == 2 && w < n && p[w] == ' ')
		i = w;
	while (i < n && p[i] == ' ')
		i++;
	for (w = i; w < n && p[w] != ' '; w++)
		;
	if (w == i || n - w < ph || !ieq(p + w, ph, phrase))
		return span_make(NULL, 0);
	if (w + ph < n && p[w + ph] != ' ' && p[w + ph] != '.')
		return span_make(NULL, 0);
	/* the whole word must be an id */
	for (k = i; k < w; k++) {
		if (!is_qidchar((unsigned char)p[k]))
			return span_make(NULL, 0);
	}
	return qid_at(p + i, w - i);
}

/* Google: "... ID - gsmtp". */
static struct span
qid_gsmtp(struct span text)
{
	static const char suffix[] = " - gsmtp";
	size_t end, start;

	if (!ends_with(text, suffix))
		return span_make(NULL, 0);
	end = text.len - (sizeof(suffix) - 1);
	for (start = end; start > 0 && text.p[start - 1] != ' '; start--)
		;
	if (start == end)
		return span_make(NULL, 0);
	return qid_at(text.p + start, end - start);
}

/* reply_queue_id - see smtp_reply.h. */
struct span
reply_queue_id(const char *r, size_t n)
{
	struct reply_line rl;
	struct span id;
	size_t off = 0, end, len;
	const char *lf;

	while (off < n) {
		lf = memchr(r + off, '\n', n - off);
		end = lf != NULL ? (size_t)(lf - r) : n;
		len = end - off;
		if (len > 0 && r[off + len - 1] == '\r')
			len--;
		if (reply_parse_line(r + off, len, &rl) == REPLY_OK) {
			if ((id = qid_after(rl.text, "InternalId=", 1)).len > 0 ||
			    (id = qid_after(rl.text, "queued as ", 0)).len > 0 ||
			    (id = qid_after(rl.text, "delivery as ", 0)).len > 0 ||
			    (id = qid_after(rl.text, "id=", 1)).len > 0 ||
			    (id = qid_after(rl.text, "Message-ID: ", 1)).len > 0 ||
			    (id = qid_first_word(rl.text)).len > 0 ||
			    (id = qid_gsmtp(rl.text)).len > 0)
				return id;
		}
		off = end + 1;
	}
	return span_make(NULL, 0);
}

/*
 * reply_ehlo_size - see smtp_reply.h. The first line is the greeting,
 * never a capability; the first SIZE line decides.
 */
int64_t
reply_ehlo_size(const char *in, size_t len)
{
	struct reply_line rl;
	size_t off = 0, i;
	int64_t v;
	int first = 1;

	while (off < len && next_line(in, len, &off, &rl)) {
		if (first) {
			first = 0;
			continue;
		}
		if (cap_of(rl.text) != CAP_SIZE)
			continue;
		i = kw_len(rl.text);
		while (i < rl.text.len && rl.text.p[i] == ' ')
			i++;
		if (i == rl.text.len)
			return 0;
		v = 0;
		for (; i < rl.text.len && is_digit((unsigned char)rl.text.p[i]);
		    i++) {
			if (v > (INT64_MAX - 9) / 10)
				return 0;
			v = v * 10 + (rl.text.p[i] - '0');
		}
		return i == rl.text.len ? v : 0;
	}
	return -1;
}
