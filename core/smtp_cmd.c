/*
 * core/smtp_cmd.c - find one command line in the client's byte stream
 * and split it into verb, path and parameters (RFC 5321 2.3.8, 4.1.1,
 * 4.1.2, 4.1.3, 4.5.3.1; RFC 6531 3.3 for UTF-8 paths and values).
 * Input: untrusted, not NUL-terminated; cmd_parse() gets one line with
 * its CRLF removed. Owns nothing and keeps no state but the caller's
 * struct cmd_scanner; results are spans into the input.
 */
#include <stdint.h>
#include <string.h>

#include "core/smtp_cmd.h"

/* How a verb takes its argument. */
enum arg_rule {
	ARG_RAW = 0,	/* kept as sent */
	ARG_NONE,	/* nothing but trailing spaces */
	ARG_NEED,	/* something */
	ARG_PATH,	/* MAIL FROM: / RCPT TO: path and parameters */
};

static const struct {
	const char	*name;
	enum arg_rule	 rule;
} verbs[CMD_VERB_COUNT] = {
	[CMD_UNKNOWN]	= { "?",	ARG_RAW },
	[CMD_HELO]	= { "HELO",	ARG_NEED },
	[CMD_EHLO]	= { "EHLO",	ARG_NEED },
	[CMD_MAIL]	= { "MAIL",	ARG_PATH },
	[CMD_RCPT]	= { "RCPT",	ARG_PATH },
	[CMD_DATA]	= { "DATA",	ARG_NONE },
	[CMD_RSET]	= { "RSET",	ARG_NONE },
	[CMD_NOOP]	= { "NOOP",	ARG_RAW },
	[CMD_QUIT]	= { "QUIT",	ARG_NONE },
	[CMD_VRFY]	= { "VRFY",	ARG_RAW },
	[CMD_EXPN]	= { "EXPN",	ARG_RAW },
	[CMD_HELP]	= { "HELP",	ARG_RAW },
	[CMD_AUTH]	= { "AUTH",	ARG_RAW },
	[CMD_STARTTLS]	= { "STARTTLS",	ARG_NONE },
	[CMD_BDAT]	= { "BDAT",	ARG_RAW },
	[CMD_XCLIENT]	= { "XCLIENT",	ARG_RAW },
	[CMD_XFORWARD]	= { "XFORWARD",	ARG_RAW },
};

static const char *const line_rc_names[] = {
	[LINE_NEED_MORE] = "NEED_MORE",
	[LINE_OK] = "OK",
	[LINE_TOO_LONG] = "TOO_LONG",
	[LINE_BARE_LF] = "BARE_LF",
	[LINE_BARE_CR] = "BARE_CR",
	[LINE_NUL] = "NUL",
};

static const char *const cmd_rc_names[] = {
	[CMD_OK] = "OK",
	[CMD_E_EMPTY] = "E_EMPTY",
	[CMD_E_SYNTAX] = "E_SYNTAX",
	[CMD_E_PATH] = "E_PATH",
	[CMD_E_PARAM] = "E_PARAM",
	[CMD_E_HELO] = "E_HELO",
};

/* Character classes, ASCII only: the locale never matters here. */
static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 5322 3.2.3 atext. */
static int
is_atext(unsigned char c)
{
	if (is_alnum(c))
		return 1;
	switch (c) {
	case '!': case '#': case '$': case '%': case '&': case '\'':
	case '*': case '+': case '-': case '/': case '=': case '?':
	case '^': case '_': case '`': case '{': case '|': case '}':
	case '~':
		return 1;
	}
	return 0;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* p[0..n) equals the ASCII literal lit, ignoring case. */
static int
ieq(const char *p, size_t n, const char *lit)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lit[i] == '\0' ||
		    lower((unsigned char)p[i]) != lower((unsigned char)lit[i]))
			return 0;
	}
	return lit[i] == '\0';
}

/*
 * The length of one well-formed UTF-8 sequence for a non-ASCII
 * character at s (RFC 3629 section 4: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, i;

	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		need = 1;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		need = 2;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		need = 3;
	else
		return 0;
	if (s[0] == 0xE0)
		lo = 0xA0;
	else if (s[0] == 0xED)
		hi = 0x9F;
	else if (s[0] == 0xF0)
		lo = 0x90;
	else if (s[0] == 0xF4)
		hi = 0x8F;
	if (n < need + 1)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i <= need; i++) {
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	}
	return need + 1;
}

/*
 * The offset of the LF of the first CRLF in p[from..len), or len when
 * there is none. A CR at p[from - 1] counts (the caller starts the
 * search just past a CR it has seen).
 */
static size_t
find_crlf(const char *p, size_t from, size_t len)
{
	const char *lf;

	while (from < len) {
		lf = memchr(p + from, '\n', len - from);
		if (lf == NULL)
			break;
		if (lf > p && lf[-1] == '\r')
			return (size_t)(lf - p);
		from = (size_t)(lf - p) + 1;
	}
	return len;
}

/*
 * cmd_scan_line - see smtp_cmd.h. Looks for CRLF with memchr() over at
 * most limit bytes, so a line costs one pass, and the checks for a bare
 * CR, a bare LF and a NUL run only on a complete line.
 */
size_t
cmd_scan_line(struct cmd_scanner *st, const char *p, size_t len,
    size_t limit, enum cmd_line_rc *rc, struct span *line)
{
	const char *cr, *lf, *nul, *first;
	size_t end;

	*rc = LINE_NEED_MORE;
	*line = span_make(p, 0);
	if (len == 0)
		return 0;

	if (st->discarding) {
		if (st->cr && p[0] == '\n')
			end = 0;
		else
			end = find_crlf(p, 1, len);
		if (end == len) {
			st->cr = p[len - 1] == '\r';
			return len;
		}
		st->discarding = 0;
		st->cr = 0;
		*rc = LINE_TOO_LONG;
		return end + 1;
	}

	end = find_crlf(p, 1, len < limit ? len : limit);
	if (end == (len < limit ? len : limit)) {
		if (len < limit)
			return 0;
		/* limit bytes without CRLF: over-long, whatever follows */
		end = find_crlf(p, limit, len);
		if (end == len) {
			st->discarding = 1;
			st->cr = p[len - 1] == '\r';
			return len;
		}
		*rc = LINE_TOO_LONG;
		return end + 1;
	}

	/* p[0..end - 1) is the line: any CR or LF in it is bare */
	*line = span_make(p, end - 1);
	cr = memchr(p, '\r', end - 1);
	lf = memchr(p, '\n', end - 1);
	nul = memchr(p, '\0', end - 1);
	first = cr;
	if (lf != NULL && (first == NULL || lf < first))
		first = lf;
	if (nul != NULL && (first == NULL || nul < first))
		first = nul;
	if (first == NULL)
		*rc = LINE_OK;
	else if (first == cr)
		*rc = LINE_BARE_CR;
	else if (first == lf)
		*rc = LINE_BARE_LF;
	else
		*rc = LINE_NUL;
	return end + 1;
}

const char *
cmd_line_rc_name(enum cmd_line_rc rc)
{
	if ((unsigned)rc >= sizeof(line_rc_names) / sizeof(line_rc_names[0]))
		return "?";
	return line_rc_names[rc];
}

const char *
cmd_rc_name(enum cmd_rc rc)
{
	if ((unsigned)rc >= sizeof(cmd_rc_names) / sizeof(cmd_rc_names[0]))
		return "?";
	return cmd_rc_names[rc];
}

const char *
cmd_verb_name(enum cmd_verb v)
{
	if ((unsigned)v >= CMD_VERB_COUNT)
		return "?";
	return verbs[v].name;
}

/*
 * Domain = sub-domain *("." sub-domain) (RFC 5321 4.1.2), a sub-domain
 * being Let-dig [Ldh-str] or an RFC 6531 U-label: letters, digits, "-"
 * and well-formed UTF-8, neither first nor last a "-". Returns the
 * length of the domain at s, or 0 when there is none or it is broken
 * (empty label, trailing dot, over-long ASCII label). A U-label's limit
 * is on its A-label form, which is not computed here; the domain's
 * total length still bounds it.
 */
static size_t
scan_domain(const unsigned char *s, size_t n)
{
	size_t i = 0, start, k;
	int utf8;

	for (;;) {
		start = i;
		utf8 = 0;
		while (i < n) {
			if (is_alnum(s[i]) || s[i] == '-') {
				i++;
			} else if (s[i] >= 0x80) {
				if ((k = utf8_seq(s + i, n - i)) == 0)
					return 0;
				i += k;
				utf8 = 1;
			} else {
				break;
			}
		}
		if (i == start)
			return 0;
		if (s[start] == '-' || s[i - 1] == '-')
			return 0;
		if (!utf8 && i - start > CMD_LABEL_MAX)
			return 0;
		if (i == n || s[i] != '.')
			return i;
		i++;
	}
}

/* Snum = 1*3DIGIT, 0..255. Returns its length at s, or 0. */
static size_t
scan_snum(const unsigned char *s, size_t n)
{
	size_t i;
	unsigned v = 0;

	for (i = 0; i < n && i < 3 && is_digit(s[i]); i++)
		v = v * 10 + (unsigned)(s[i] - '0');
	if (i == 0 || v > 255)
		return 0;
	return i;
}

/* IPv4-address-literal = Snum 3("." Snum), exactly s[0..n). */
static int
valid_ipv4(const unsigned char *s, size_t n)
{
	size_t i = 0, k;
	int part;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (i == n || s[i] != '.')
				return 0;
			i++;
		}
		if ((k = scan_snum(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return i == n;
}

/*
 * IPv6-addr of RFC 5321 4.1.3, exactly s[0..n): eight groups, or six
 * and an IPv4 address; with "::" at most six groups, or four and an
 * IPv4 address, beside it (so "::" stands for two groups or more).
 */
static int
valid_ipv6(const unsigned char *s, size_t n)
{
	size_t i = 0, start;
	int groups = 0, compressed = 0, v4 = 0;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		compressed = 1;
		i = 2;
	}
	while (i < n) {
		start = i;
		while (i < n && s[i] != ':' && s[i] != '.')
			i++;
		if (i < n && s[i] == '.') {
			/* the IPv4 tail runs to the end */
			if (!valid_ipv4(s + start, n - start))
				return 0;
			v4 = 1;
			break;
		}
		if (i == start || i - start > 4)
			return 0;
		for (size_t j = start; j < i; j++) {
			if (!is_hex(s[j]))
				return 0;
		}
		groups++;
		if (i == n)
			break;
		/* s[i] == ':' */
		i++;
		if (i < n && s[i] == ':') {
			if (compressed)
				return 0;
			compressed = 1;
			i++;
		} else if (i == n) {
			return 0;	/* a single trailing colon */
		}
	}
	if (v4)
		return compressed ? groups <= 4 : groups == 6;
	return compressed ? groups <= 6 : groups == 8;
}

/*
 * address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
 * General-address-literal ) "]" (RFC 5321 4.1.3). A tag of "IPv6" (any
 * case) must carry a valid IPv6 address; any other Standardized-tag
 * (an Ldh-str) is taken as a General-address-literal, 1*dcontent.
 * Returns the length with the brackets, or 0.
 */
static size_t
scan_literal(const unsigned char *s, size_t n)
{
	const unsigned char *c;
	size_t i, clen, tag;

	for (i = 1; i < n && s[i] != ']'; i++)
		;
	if (i == n)
		return 0;
	c = s + 1;
	clen = i - 1;

	for (tag = 0; tag < clen && (is_alnum(c[tag]) || c[tag] == '-'); tag++)
		;
	if (tag == clen || c[tag] != ':')
		return valid_ipv4(c, clen) ? i + 1 : 0;

	if (tag == 0 || c[tag - 1] == '-')
		return 0;
	if (ieq((const char *)c, tag, "IPv6"))
		return valid_ipv6(c + tag + 1, clen - tag - 1) ? i + 1 : 0;
	if (tag + 1 == clen)
		return 0;
	for (size_t j = tag + 1; j < clen; j++) {
		/* dcontent = %d33-90 / %d94-126; "]" already ends it */
		if (c[j] < 33 || c[j] > 126 || c[j] == '[' || c[j] == '\\')
			return 0;
	}
	return i + 1;
}

/*
 * Local-part = Dot-string / Quoted-string, with RFC 6531 UTF-8 in atoms
 * and quoted text; quoted-pairSMTP stays "\" %d32-126. Returns its
 * length at s (quotes included), or 0.
 */
static size_t
scan_local(const unsigned char *s, size_t n)
{
	size_t i, start, k;

	if (n > 0 && s[0] == '"') {
		i = 1;
		while (i < n) {
			if (s[i] == '"')
				return i + 1;
			if (s[i] == '\\') {
				if (i + 1 == n || s[i + 1] < 32 || s[i + 1] > 126)
					return 0;
				i += 2;
			} else if (s[i] >= 32 && s[i] <= 126) {
				i++;
			} else if (s[i] >= 0x80 &&
			    (k = utf8_seq(s + i, n - i)) != 0) {
				i += k;
			} else {
				return 0;
			}
		}
		return 0;
	}

	i = 0;
	for (;;) {
		start = i;
		while (i < n) {
			if (is_atext(s[i])) {
				i++;
			} else if (s[i] >= 0x80) {
				if ((k = utf8_seq(s + i, n - i)) == 0)
					return 0;
				i += k;
			} else {
				break;
			}
		}
		if (i == start)
			return 0;
		if (i == n || s[i] != '.')
			return i;
		i++;
	}
}

/*
 * Path = "<" [ A-d-l ":" ] Mailbox ">" at s[0] == '<', and the null
 * path and <postmaster> where the verb allows them. Fills the path
 * fields of out and sets *used to the length through ">".
 */
static enum cmd_rc
parse_path(const unsigned char *s, size_t n, struct smtp_cmd *out,
    size_t *used)
{
	const char *cs = (const char *)s;
	size_t i = 1, k, mbox;

	if (n >= 2 && s[1] == '>') {
		if (out->verb != CMD_MAIL)
			return CMD_E_PATH;
		out->null_path = 1;
		out->path = out->local = out->domain = span_make(cs + 1, 0);
		*used = 2;
		return CMD_OK;
	}
	if (out->verb == CMD_RCPT && n >= 12 && ieq(cs + 1, 10, "postmaster") &&
	    s[11] == '>') {
		out->postmaster = 1;
		out->path = out->local = span_make(cs + 1, 10);
		out->domain = span_make(cs + 11, 0);
		*used = 12;
		return CMD_OK;
	}

	/* A-d-l = At-domain *( "," At-domain ), At-domain = "@" Domain */
	if (i < n && s[i] == '@') {
		for (;;) {
			i++;
			if ((k = scan_domain(s + i, n - i)) == 0)
				return CMD_E_PATH;
			i += k;
			if (i < n && s[i] == ',' && i + 1 < n && s[i + 1] == '@') {
				i++;
				continue;
			}
			if (i < n && s[i] == ':')
				break;
			return CMD_E_PATH;
		}
		i++;
		out->had_route = 1;
	}

	mbox = i;
	if ((k = scan_local(s + i, n - i)) == 0)
		return CMD_E_PATH;
	if (k > CMD_LOCAL_MAX)
		return CMD_E_PATH;
	out->local = span_make(cs + i, k);
	i += k;

	if (i == n || s[i] != '@')
		return CMD_E_PATH;
	i++;

	if (i < n && s[i] == '[')
		k = scan_literal(s + i, n - i);
	else
		k = scan_domain(s + i, n - i);
	if (k == 0)
		return CMD_E_PATH;
	if (k > CMD_DOMAIN_MAX)
		return CMD_E_PATH;
	out->domain = span_make(cs + i, k);
	i += k;

	if (i == n || s[i] != '>')
		return CMD_E_PATH;
	out->path = span_make(cs + mbox, i - mbox);
	i++;
	if (i > CMD_PATH_MAX)
		return CMD_E_PATH;
	*used = i;
	return CMD_OK;
}

/* MAIL FROM:<path> [params] / RCPT TO:<path> [params] in out->arg. */
static enum cmd_rc
parse_mail_rcpt(struct smtp_cmd *out)
{
	const unsigned char *s = (const unsigned char *)out->arg.p;
	const char *kw = out->verb == CMD_MAIL ? "FROM:" : "TO:";
	size_t n = out->arg.len, kwlen = strlen(kw), i, used;
	struct span params, key, value;
	enum cmd_rc rc;
	int r;

	if (n < kwlen || !ieq(out->arg.p, kwlen, kw))
		return CMD_E_SYNTAX;
	i = kwlen;
	if (i < n && s[i] == ' ')
		i++;	/* "MAIL FROM: <a@b>", as most MTAs allow */
	if (i == n || s[i] != '<')
		return CMD_E_PATH;
	if ((rc = parse_path(s + i, n - i, out, &used)) != CMD_OK)
		return rc;
	i += used;

	out->params = span_make(out->arg.p + i, 0);
	if (i == n)
		return CMD_OK;
	if (s[i] != ' ')
		return CMD_E_PATH;
	while (i < n && s[i] == ' ')
		i++;
	/* arg has no trailing spaces, so something follows */
	out->params = span_make(out->arg.p + i, n - i);

	params = out->params;
	while ((r = cmd_param_next(&params, &key, &value)) == 1)
		;
	if (r < 0)
		return CMD_E_PARAM;
	return CMD_OK;
}

/* cmd_helo_ok - see smtp_cmd.h. */
int
cmd_helo_ok(struct span arg)
{
	const unsigned char *s = (const unsigned char *)arg.p;
	size_t n = arg.len, i = 0, start;

	while (i < n && s[i] == ' ')
		i++;
	if (i == n)
		return 0;
	if (s[i] == '[') {
		if (n - i < 3 || s[n - 1] != ']')
			return 0;
		for (i++; i < n - 1; i++) {
			if (!is_alnum(s[i]) && s[i] != '.' && s[i] != ':' &&
			    s[i] != '-')
				return 0;
		}
		return 1;
	}
	for (start = i; i < n; i++) {
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '.' &&
		    s[i] != '_')
			return memchr(s + start, ':', n - start) != NULL &&
			    valid_ipv6(s + start, n - start);
	}
	return 1;
}

static enum cmd_verb
verb_lookup(const char *p, size_t n)
{
	int v;

	for (v = CMD_UNKNOWN + 1; v < CMD_VERB_COUNT; v++) {
		if (ieq(p, n, verbs[v].name))
			return (enum cmd_verb)v;
	}
	return CMD_UNKNOWN;
}

/*
 * cmd_parse - see smtp_cmd.h. Every span of out is set, to an empty
 * span inside p where the line has nothing for it.
 */
enum cmd_rc
cmd_parse(const char *p, size_t len, struct smtp_cmd *out)
{
	const char *sp;
	size_t vlen;

	memset(out, 0, sizeof(*out));
	out->verb = CMD_UNKNOWN;
	out->verb_s = out->arg = out->path = out->local = out->domain =
	    out->params = span_make(p, 0);

	while (len > 0 && p[len - 1] == ' ')
		len--;
	if (len == 0)
		return CMD_E_EMPTY;
	if (p[0] == ' ')
		return CMD_E_SYNTAX;

	sp = memchr(p, ' ', len);
	vlen = sp != NULL ? (size_t)(sp - p) : len;
	out->verb_s = span_make(p, vlen);
	if (sp != NULL)
		out->arg = span_make(sp + 1, len - vlen - 1);
	else
		out->arg = span_make(p + len, 0);
	out->path = out->local = out->domain = out->params =
	    span_make(out->arg.p, 0);
	out->verb = verb_lookup(p, vlen);

	switch (verbs[out->verb].rule) {
	case ARG_NONE:
		if (out->arg.len > 0)
			return CMD_E_SYNTAX;
		return CMD_OK;
	case ARG_NEED:
		if (out->arg.len == 0)
			return CMD_E_SYNTAX;
		/* only HELO and EHLO need an argument */
		if (!cmd_helo_ok(out->arg))
			return CMD_E_HELO;
		return CMD_OK;
	case ARG_PATH:
		return parse_mail_rcpt(out);
	case ARG_RAW:
		break;
	}
	return CMD_OK;
}

/*
 * cmd_param_next - see smtp_cmd.h. esmtp-keyword = (ALPHA / DIGIT)
 * *(ALPHA / DIGIT / "-"); esmtp-value = 1*(%d33-60 / %d62-126 /
 * UTF8-non-ascii). Parameters are separated by spaces only.
 */
int
cmd_param_next(struct span *params, struct span *key, struct span *value)
{
	const unsigned char *s = (const unsigned char *)params->p;
	size_t n = params->len, i = 0, kstart, vstart, k;

	*key = *value = span_make(params->p, 0);
	if (n == 0)
		return 0;
	while (i < n && s[i] == ' ')
		i++;
	if (i == n) {
		*params = span_make(params->p + n, 0);
		return 0;
	}

	kstart = i;
	if (!is_alnum(s[i]))
		return -1;
	while (i < n && (is_alnum(s[i]) || s[i] == '-'))
		i++;
	*key = span_make(params->p + kstart, i - kstart);
	*value = span_make(params->p + i, 0);

	if (i < n && s[i] == '=') {
		vstart = ++i;
		while (i < n) {
			if (s[i] >= 33 && s[i] <= 126 && s[i] != '=') {
				i++;
			} else if (s[i] >= 0x80) {
				if ((k = utf8_seq(s + i, n - i)) == 0)
					return -1;
				i += k;
			} else {
				break;
			}
		}
		if (i == vstart)
			return -1;
		*value = span_make(params->p + vstart, i - vstart);
	}
	if (i < n && s[i] != ' ')
		return -1;
	while (i < n && s[i] == ' ')
		i++;
	*params = span_make(params->p + i, n - i);
	return 1;
}

/* cmd_param_size - see smtp_cmd.h (RFC 1870 size-value). */
int64_t
cmd_param_size(struct span params)
{
	const int64_t max = (int64_t)1 << 53;
	struct span key, value;
	int64_t size = -1, v;
	size_t i;
	int r;

	while ((r = cmd_param_next(&params, &key, &value)) == 1) {
		if (!ieq(key.p, key.len, "SIZE"))
			continue;
		if (size != -1)
			return -2;
		if (value.len == 0)
			return -2;
		v = 0;
		for (i = 0; i < value.len; i++) {
			if (!is_digit((unsigned char)value.p[i]))
				return -2;
			v = v * 10 + (value.p[i] - '0');
			if (v > max)
				return -2;
		}
		size = v;
	}
	if (r < 0)
		return -2;
	return size;
}
