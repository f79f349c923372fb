/*
 * core/spf_term.c - the syntax of an SPF record's terms, macro
 * expansion (RFC 7208 4.6.1, 5.1-5.7, 6, 7), and the names and records
 * of DNS answers as SPF takes them (4.3, 4.5, 4.8). Input: record
 * text from DNS and identities from the client, all untrusted, never
 * NUL-terminated; every byte outside the grammar is a syntax error.
 * Expansion writes into a caller's bounded buffer and reports overflow.
 * Allocates nothing.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core/spf_int.h"

#define MACRO_DIGITS_MAX	128	/* larger DIGIT transformers: all */

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

bool
spf_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* RFC 7208 7.1 macro-letter; c, r, t only in explanations. */
static bool
macro_letter_ok(int c, bool explain)
{
	c = lower(c);
	if (c == '\0')
		return false;
	if (strchr("slodiphv", c) != NULL)
		return true;
	return explain && strchr("crt", c) != NULL;
}

static bool
is_delim(int c)
{
	return c != '\0' && strchr(".-+,/_=", c) != NULL;
}

/* The parts of one "%{...}" macro-expand. */
struct macro {
	int	letter;		/* as written: upper case means URL-escape */
	int	digits;		/* 0: all parts */
	bool	reverse;
	char	delims[8];	/* NUL-terminated set; "" means "." */
};

/*
 * One macro-expand or macro-literal at p[0..len): its length in *n,
 * *m filled for "%{...}", m->letter '%', '_', '-' for the escapes and 0
 * for a literal byte. Returns 0 or -1 (syntax).
 */
static int
macro_token(const char *p, size_t len, bool explain, struct macro *m,
    size_t *n)
{
	size_t	i = 2;
	int	c = (unsigned char)p[0];

	memset(m, 0, sizeof(*m));
	if (c != '%') {
		*n = 1;
		if (c == ' ' && explain)
			return 0;
		return c >= 0x21 && c <= 0x7e ? 0 : -1;
	}
	if (len < 2)
		return -1;
	if (p[1] == '%' || p[1] == '_' || p[1] == '-') {
		m->letter = p[1];
		*n = 2;
		return 0;
	}
	if (p[1] != '{' || len < 4 || !macro_letter_ok(p[2], explain))
		return -1;
	m->letter = p[2];
	for (i = 3; i < len && is_digit(p[i]); i++)
		if (m->digits <= MACRO_DIGITS_MAX)
			m->digits = m->digits * 10 + (p[i] - '0');
	if (i > 3 && m->digits == 0)
		return -1;	/* 7.1: a DIGIT transformer is nonzero */
	if (i < len && lower(p[i]) == 'r') {
		m->reverse = true;
		i++;
	}
	for (size_t nd = 0; i < len && is_delim(p[i]); i++)
		if (nd < sizeof(m->delims) - 1 &&
		    strchr(m->delims, p[i]) == NULL)
			m->delims[nd++] = p[i];
	if (i >= len || p[i] != '}')
		return -1;
	*n = i + 1;
	return 0;
}

/* Is p[0..len) a macro-string (explain: an explain-string)? */
static bool
macro_string_ok(const char *p, size_t len, bool explain, size_t *last)
{
	struct macro	m;
	size_t		n;

	*last = 0;
	for (size_t i = 0; i < len; i += n) {
		if (macro_token(p + i, len - i, explain, &m, &n) != 0)
			return false;
		*last = m.letter != 0 ? i + n : 0;
	}
	return true;
}

/* RFC 7208 7.1 toplabel: alphanumerics with a letter, or alphanumerics
 * and "-" with at least one "-", neither first nor last. */
static bool
toplabel_ok(const char *p, size_t len)
{
	bool	alpha = false, dash = false;

	if (len == 0 || p[0] == '-' || p[len - 1] == '-')
		return false;
	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)p[i];

		if (is_alpha(c))
			alpha = true;
		else if (c == '-')
			dash = true;
		else if (!is_digit(c))
			return false;
	}
	return alpha || dash;
}

/*
 * RFC 7208 7.1 domain-spec = macro-string domain-end, domain-end =
 * ("." toplabel ["."]) / macro-expand. Checked before expansion.
 */
static bool
domain_spec_ok(const char *p, size_t len)
{
	size_t	last, end = len, dot;

	if (len == 0 || !macro_string_ok(p, len, false, &last))
		return false;
	if (last == len)
		return true;	/* ends with a macro-expand */
	if (p[end - 1] == '.')
		end--;
	for (dot = end; dot > 0 && p[dot - 1] != '.'; dot--)
		;
	if (dot == 0)
		return false;	/* a toplabel alone */
	return toplabel_ok(p + dot, end - dot);
}

/* "/" 1*DIGIT at the end of p[0..*len) with its value <= max: cut it
 * off. Returns 1 cut, 0 none there, -1 present but invalid. */
static int
cut_cidr(const char *p, size_t *len, int max, bool dbl, int *out)
{
	size_t	e = *len, d = e;
	long	v = 0;

	while (d > 0 && is_digit(p[d - 1]))
		d--;
	if (d == e || d == 0 || p[d - 1] != '/')
		return 0;
	if (dbl != (d >= 2 && p[d - 2] == '/'))
		return 0;
	if (e - d > 3 || (e - d > 1 && p[d] == '0'))
		return -1;	/* leading zero, as ip4-network forbids */
	for (size_t i = d; i < e; i++)
		v = v * 10 + (p[i] - '0');
	if (v > max)
		return -1;
	*out = (int)v;
	*len = d - (dbl ? 2 : 1);
	return 1;
}

/* [":" domain-spec] [dual-cidr-length] after "a" or "mx". */
static int
parse_a_mx(const char *p, size_t len, struct spf_term *t)
{
	if (cut_cidr(p, &len, 128, true, &t->cidr6) < 0 ||
	    cut_cidr(p, &len, 32, false, &t->cidr4) < 0)
		return -1;
	if (len == 0)
		return 0;
	if (p[0] != ':')
		return -1;
	t->spec = span_make(p + 1, len - 1);
	if (!domain_spec_ok(t->spec.p, t->spec.len)) {
		t->bad = t->spec;
		return -1;
	}
	return 0;
}

/* ":" domain-spec, required (include, exists) or optional (ptr). */
static int
parse_spec(const char *p, size_t len, bool required, struct spf_term *t)
{
	if (len == 0)
		return required ? -1 : 0;
	if (p[0] != ':')
		return -1;
	t->spec = span_make(p + 1, len - 1);
	if (!domain_spec_ok(t->spec.p, t->spec.len)) {
		t->bad = t->spec;
		return -1;
	}
	return 0;
}

/* ":" ip4-network / ip6-network ["/" cidr]. */
static int
parse_ip(const char *p, size_t len, struct spf_term *t)
{
	bool		 v6 = t->kind == SPF_K_IP6;
	struct net_addr	 a;
	const char	*slash;

	if (len < 2 || p[0] != ':')
		return -1;
	p++;
	len--;
	slash = memchr(p, '/', len);
	if (slash != NULL) {
		size_t	 l = len;
		int	*c = v6 ? &t->cidr6 : &t->cidr4;

		if (cut_cidr(p, &l, v6 ? 128 : 32, false, c) != 1 ||
		    p + l != slash)
			return -1;
		len = l;
	}
	if (net_addr_parse(p, len, &a) != 0 ||
	    a.family != (v6 ? AF_INET6 : AF_INET))
		return -1;
	memcpy(t->net, a.addr, sizeof(t->net));
	return 0;
}

/* name "=" macro-string, RFC 7208 4.6.1 / A. */
static int
parse_modifier(const char *p, size_t len, size_t nlen, struct spf_term *t)
{
	const char	*v = p + nlen + 1;
	size_t		 vlen = len - nlen - 1, last;

	if (spf_ieq(p, nlen, "redirect", 8) || spf_ieq(p, nlen, "exp", 3)) {
		t->kind = p[0] == 'e' || p[0] == 'E' ? SPF_K_EXP :
		    SPF_K_REDIRECT;
		t->spec = span_make(v, vlen);
		if (!domain_spec_ok(v, vlen)) {
			t->bad = t->spec;
			return -1;
		}
		return 0;
	}
	t->kind = SPF_K_UNKNOWN_MOD;
	t->spec = span_make(v, vlen);
	if (!macro_string_ok(v, vlen, true, &last) ||
	    memchr(v, ' ', vlen) != NULL) {
		t->bad = t->text;
		return -1;
	}
	return 0;
}

static const struct {
	const char	*name;
	enum spf_kind	 kind;
} mechs[] = {
	{ "all", SPF_K_ALL }, { "include", SPF_K_INCLUDE },
	{ "a", SPF_K_A }, { "mx", SPF_K_MX }, { "ptr", SPF_K_PTR },
	{ "ip4", SPF_K_IP4 }, { "ip6", SPF_K_IP6 },
	{ "exists", SPF_K_EXISTS },
};

/* The arguments of a known mechanism after its name. */
static int
parse_args(const char *p, size_t len, struct spf_term *t)
{
	switch (t->kind) {
	case SPF_K_ALL:
		return len == 0 ? 0 : -1;
	case SPF_K_INCLUDE:
	case SPF_K_EXISTS:
		return parse_spec(p, len, true, t);
	case SPF_K_PTR:
		return parse_spec(p, len, false, t);
	case SPF_K_A:
	case SPF_K_MX:
		return parse_a_mx(p, len, t);
	case SPF_K_IP4:
	case SPF_K_IP6:
		return parse_ip(p, len, t);
	default:
		return -1;
	}
}

int
spf_term_parse(const char *p, size_t len, struct spf_term *t)
{
	size_t	n = 0, i;

	memset(t, 0, sizeof(*t));
	t->cidr4 = 32;
	t->cidr6 = 128;
	t->qual = SPF_PASS;
	t->text = span_make(p, len);
	t->bad = t->text;
	if (len == 0)
		return -1;
	/* name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
	while (n < len && (is_alpha(p[n]) || (n > 0 && (is_digit(p[n]) ||
	    p[n] == '-' || p[n] == '_' || p[n] == '.'))))
		n++;
	if (n > 0 && n < len && p[n] == '=')
		return parse_modifier(p, len, n, t);

	switch (p[0]) {
	case '+': t->qual = SPF_PASS; break;
	case '-': t->qual = SPF_FAIL; break;
	case '~': t->qual = SPF_SOFTFAIL; break;
	case '?': t->qual = SPF_NEUTRAL; break;
	default: break;
	}
	if (strchr("+-~?", p[0]) != NULL) {
		p++;
		len--;
	}
	t->text = span_make(p, len);
	t->bad = t->text;
	for (n = 0; n < len && p[n] != ':' && p[n] != '/'; n++)
		;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (spf_ieq(p, n, mechs[i].name, strlen(mechs[i].name)))
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0]))
		return -1;
	t->kind = mechs[i].kind;
	return parse_args(p + n, len - n, t);
}

/* Output with a capacity; explain mode cuts, domain mode fails. */
struct xout {
	char	*p;
	size_t	 cap;
	size_t	 len;
	bool	 over;
};

static void
xput(struct xout *o, const char *s, size_t n)
{
	if (o->len + n > o->cap) {
		n = o->cap - o->len;
		o->over = true;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* RFC 7208 7.3: upper-case macros are URL-escaped (RFC 3986 unreserved
 * characters kept). */
static void
xput_escaped(struct xout *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	char	e[3];

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_alpha(c) || is_digit(c) || c == '-' || c == '.' ||
		    c == '_' || c == '~') {
			xput(o, s + i, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[c >> 4];
		e[2] = hex[c & 15];
		xput(o, e, 3);
	}
}

/* "a.b.c.d" or the 32 dotted nibbles of an IPv6 address (7.3 "i"). */
static size_t
ip_dotted(const struct net_addr *ip, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t	n = 0;

	if (ip->family == AF_INET)
		return (size_t)snprintf(out, 16, "%u.%u.%u.%u", ip->addr[0],
		    ip->addr[1], ip->addr[2], ip->addr[3]);
	for (int i = 0; i < 16; i++) {
		if (i > 0)
			out[n++] = '.';
		out[n++] = hex[ip->addr[i] >> 4];
		out[n++] = '.';
		out[n++] = hex[ip->addr[i] & 15];
	}
	out[n] = '\0';
	return n;
}

/* RFC 7208 7.3 "p": the validated name that is the domain, else one
 * below it, else any; "unknown" when there is none. */
static struct span
p_value(const struct spf *s, const struct spf_frame *f)
{
	const struct spf_hname	*any = NULL, *sub = NULL;

	for (unsigned i = 0; i < s->npnames; i++) {
		const struct spf_hname *h = &s->pnames[i];

		if (!h->ok)
			continue;
		if (spf_ieq(h->n, h->len, f->dom, f->dlen))
			return span_make(h->n, h->len);
		if (sub == NULL && h->len > f->dlen &&
		    h->n[h->len - f->dlen - 1] == '.' &&
		    spf_ieq(h->n + h->len - f->dlen, f->dlen, f->dom, f->dlen))
			sub = h;
		if (any == NULL)
			any = h;
	}
	if (sub == NULL)
		sub = any;
	if (sub == NULL)
		return span_make("unknown", 7);
	return span_make(sub->n, sub->len);
}

/* The raw value of a macro letter into buf (at least 64 bytes). */
static struct span
macro_value(const struct spf *s, const struct spf_frame *f, int letter,
    char *buf)
{
	size_t	n;

	switch (lower(letter)) {
	case 's':
		return span_make(s->sender, s->slen);
	case 'l':
		return span_make(s->sender, s->llen);
	case 'o':
		return span_make(s->sender + s->llen + 1,
		    s->slen - s->llen - 1);
	case 'd':
		return span_make(f->dom, f->dlen);
	case 'i':
		return span_make(buf, ip_dotted(&s->ip, buf));
	case 'p':
		return p_value(s, f);
	case 'v':
		return s->ip.family == AF_INET ? span_make("in-addr", 7) :
		    span_make("ip6", 3);
	case 'h':
		return span_make(s->helo, s->hlen);
	case 'c':
		n = net_addr_format(&s->ip, buf, 64);
		return span_make(buf, n);
	case 'r':
		if (s->rlen == 0)
			return span_make("unknown", 7);
		return span_make(s->rcv, s->rlen);
	case 't':
		n = (size_t)snprintf(buf, 64, "%lld", (long long)s->now);
		return span_make(buf, n);
	default:
		return span_make("", 0);
	}
}

/* Is c one of the delimiters d (a NUL-terminated set)? */
static bool
delim_in(const char *d, char c)
{
	return c != '\0' && strchr(d, c) != NULL;
}

/*
 * Apply the transformers (7.3): split on the delimiters, reverse when
 * asked, keep the rightmost digits parts, join with ".". A value is at
 * most MACRO_VALUE_MAX bytes (sender, HELO, names), so its parts fit.
 */
#define MACRO_VALUE_MAX	(SPF_SENDER_MAX + 16)
static void
transform(struct xout *o, struct span v, const struct macro *m,
    bool escape)
{
	const char	*d = m->delims[0] != '\0' ? m->delims : ".";
	uint16_t	 st[MACRO_VALUE_MAX + 2], en[MACRO_VALUE_MAX + 2];
	size_t		 np = 0, k, idx;

	if (v.len > MACRO_VALUE_MAX)
		v.len = MACRO_VALUE_MAX;
	st[0] = 0;
	for (size_t i = 0; i < v.len; i++)
		if (delim_in(d, v.p[i])) {
			en[np++] = (uint16_t)i;
			st[np] = (uint16_t)(i + 1);
		}
	en[np++] = (uint16_t)v.len;
	k = m->digits == 0 || (size_t)m->digits > np ? np :
	    (size_t)m->digits;
	for (size_t j = 0; j < k && !o->over; j++) {
		/* reversed parts are np-1..0; keep the rightmost k */
		idx = m->reverse ? k - 1 - j : np - k + j;
		if (j > 0)
			xput(o, ".", 1);
		if (escape)
			xput_escaped(o, v.p + st[idx], en[idx] - st[idx]);
		else
			xput(o, v.p + st[idx], en[idx] - st[idx]);
	}
}

enum spf_xrc
spf_expand(const struct spf *s, const struct spf_frame *f, const char *p,
    size_t len, bool explain, char *out, size_t cap, size_t *olen)
{
	struct xout	o = { out, cap, 0, false };
	struct macro	m;
	char		buf[80];
	size_t		n;

	*olen = 0;
	for (size_t i = 0; i < len; i += n) {
		if (macro_token(p + i, len - i, explain, &m, &n) != 0)
			return SPF_X_SYNTAX;
		if (o.over)
			continue;	/* only the syntax of the rest */
		if (m.letter == 0 || m.letter == '%')
			xput(&o, m.letter == 0 ? p + i : "%", 1);
		else if (m.letter == '_')
			xput(&o, " ", 1);
		else if (m.letter == '-')
			xput(&o, "%20", 3);
		else if (lower(m.letter) == 'p' && !s->p_done)
			return SPF_X_NEEDP;
		else
			transform(&o, macro_value(s, f, m.letter, buf), &m,
			    m.letter >= 'A' && m.letter <= 'Z');
	}
	*olen = o.len;
	if (o.over && !explain)
		return SPF_X_LONG;
	return SPF_X_OK;
}

size_t
spf_name_fix(char *n, size_t len)
{
	size_t	start = 0, lab = 0;

	if (len > 0 && n[len - 1] == '.')
		len--;
	while (len - start > SPF_NAME_MAX) {
		const char *dot = memchr(n + start, '.', len - start);

		if (dot == NULL)
			return 0;
		start = (size_t)(dot - n) + 1;
	}
	if (start > 0)
		memmove(n, n + start, len - start);
	len -= start;
	if (len == 0)
		return 0;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || n[i] == '.') {
			if (lab == 0 || lab > 63)
				return 0;
			lab = 0;
			continue;
		}
		if ((unsigned char)n[i] < 0x20 || (unsigned char)n[i] > 0x7e ||
		    n[i] == '\\')
			return 0;
		lab++;
	}
	return len;
}

/* The name PTR queries use: in-addr.arpa or ip6.arpa (RFC 7208 5.5). */
size_t
spf_reverse_name(const struct net_addr *ip, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t	n = 0;

	if (ip->family == AF_INET)
		return (size_t)snprintf(out, SPF_NAME_MAX + 1,
		    "%u.%u.%u.%u.in-addr.arpa", ip->addr[3], ip->addr[2],
		    ip->addr[1], ip->addr[0]);
	for (int i = 15; i >= 0; i--) {
		out[n++] = hex[ip->addr[i] & 15];
		out[n++] = '.';
		out[n++] = hex[ip->addr[i] >> 4];
		out[n++] = '.';
	}
	memcpy(out + n, "ip6.arpa", 9);
	return n + 8;
}

/*
 * An initial <domain> worth querying (RFC 7208 4.3): two labels or
 * more, each 1..63 letters, digits, "-" or "_", 253 octets at most
 * without the trailing dot. Anything else gives "none".
 */
bool
spf_domain0_ok(const char *d, size_t len)
{
	size_t	lab = 0, labels = 0;

	if (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0 || len > SPF_NAME_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || d[i] == '.') {
			if (lab == 0 || lab > 63)
				return false;
			labels++;
			lab = 0;
			continue;
		}
		if (!((d[i] >= 'a' && d[i] <= 'z') ||
		    (d[i] >= 'A' && d[i] <= 'Z') ||
		    (d[i] >= '0' && d[i] <= '9') || d[i] == '-' ||
		    d[i] == '_'))
			return false;
		lab++;
	}
	return labels >= 2;
}

/*
 * Join the character-strings of one TXT record into out (cap bytes).
 * Returns the whole length, which may be more than cap.
 */
size_t
spf_txt_join(const struct spf_rr *rr, char *out, size_t cap)
{
	size_t	n = 0;

	for (size_t i = 0; i < rr->ntxt; i++) {
		const struct span *t = &rr->txt[i];

		if (n < cap && t->len > 0)
			memcpy(out + n, t->p, t->len < cap - n ? t->len :
			    cap - n);
		n += t->len;
	}
	return n;
}

/* RFC 7208 4.5: "v=spf1" (any case) followed by a space or the end. */
bool
spf_is_record(const struct spf_rr *rr, size_t *len)
{
	char	head[7];
	size_t	n = spf_txt_join(rr, head, sizeof(head));

	*len = n;
	if (n < 6 || !spf_ieq(head, 6, "v=spf1", 6))
		return false;
	return n == 6 || head[6] == ' ';
}

/* An MX or PTR name from an answer: text, no final dot, queryable. */
void
spf_hname_set(struct spf_hname *h, struct span n)
{
	h->len = 0;
	h->ok = false;
	h->n[0] = '\0';
	if (n.len == 0 || n.len > SPF_NAME_MAX + 1)
		return;
	memcpy(h->n, n.p, n.len);
	h->len = spf_name_fix(h->n, n.len);
	h->ok = h->len > 0;
	h->n[h->len] = '\0';
}
