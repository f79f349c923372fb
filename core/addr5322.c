/*
 * core/addr5322.c - address lists in header fields (RFC 5322 3.2,
 * 3.4, 3.4.1, 4.4; RFC 6532 3.2 for UTF-8): unfolding a field body,
 * a recursive-descent parser for address-list (mailboxes, groups,
 * angle-addr, obs-route, quoted and obsolete local parts, domain
 * literals, nested comments anywhere CFWS is allowed, empty list
 * elements), and the From field of a held header section.
 * Input: untrusted, not NUL-terminated. Allocates nothing; the parser
 * returns spans into the caller's unfolded buffer. Octets above 127
 * are taken as text wherever RFC 6532 allows UTF-8 (atext, qtext,
 * ctext, dtext); their encoding is not checked here.
 * Display names are returned raw: decoding encoded words (RFC 2047)
 * is the job of core's decoder.
 */
#include <string.h>

#include "core/addr5322.h"
#include "core/hdr.h"

/* The parser's cursor over the unfolded body. */
struct ap {
	const char	*p;
	size_t		 len;
	size_t		 i;
};

static inline int
is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* obs-NO-WS-CTL (RFC 5322 4.1). */
static inline int
is_obsctl(unsigned char c)
{
	return (c >= 1 && c <= 8) || c == 11 || c == 12 ||
	    (c >= 14 && c <= 31) || c == 127;
}

/* atext (3.2.3), with UTF8-non-ascii (RFC 6532 3.2). */
static inline int
is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c >= 128)
		return 1;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* qtext and obs-qtext (3.2.4, 4.1). */
static inline int
is_qtext(unsigned char c)
{
	return (c >= 33 && c != '"' && c != '\\') || is_obsctl(c);
}

/* ctext and obs-ctext (3.2.2, 4.1). */
static inline int
is_ctext(unsigned char c)
{
	return (c >= 33 && c != '(' && c != ')' && c != '\\') ||
	    is_obsctl(c);
}

/* dtext and obs-dtext without its quoted-pair (3.4.1, 4.4). */
static inline int
is_dtext(unsigned char c)
{
	return (c >= 33 && c != '[' && c != ']' && c != '\\') ||
	    is_obsctl(c);
}

/* quoted-pair and obs-qp: "\" and any octet but CR and LF (unfolded). */
static int
qpair(struct ap *a)
{
	unsigned char	c;

	if (a->i + 1 >= a->len)
		return -1;
	c = (unsigned char)a->p[a->i + 1];
	if (c == '\r' || c == '\n')
		return -1;
	a->i += 2;
	return 0;
}

/*
 * [CFWS]: white space and comments, nested, with quoted pairs. Sets
 * *seen when there was any. -1 on an unclosed or broken comment.
 */
static int
cfws(struct ap *a, int *seen)
{
	unsigned char	c;
	int		depth;

	while (a->i < a->len) {
		c = (unsigned char)a->p[a->i];
		if (is_wsp(c)) {
			a->i++;
		} else if (c == '(') {
			a->i++;
			depth = 1;
			while (depth > 0) {
				if (a->i >= a->len)
					return -1;
				c = (unsigned char)a->p[a->i];
				if (c == '\\') {
					if (qpair(a) < 0)
						return -1;
					continue;
				}
				a->i++;
				if (c == '(')
					depth++;
				else if (c == ')')
					depth--;
				else if (!is_wsp(c) && !is_ctext(c))
					return -1;
			}
		} else
			break;
		if (seen != NULL)
			*seen = 1;
	}
	return 0;
}

/* quoted-string content from the opening quote at a->i. */
static int
qstring(struct ap *a)
{
	unsigned char	c;

	a->i++;
	for (;;) {
		if (a->i >= a->len)
			return -1;
		c = (unsigned char)a->p[a->i];
		if (c == '"') {
			a->i++;
			return 0;
		}
		if (c == '\\') {
			if (qpair(a) < 0)
				return -1;
		} else if (is_wsp(c) || is_qtext(c))
			a->i++;
		else
			return -1;
	}
}

/*
 * A run of words and dots with CFWS between them: a phrase, an
 * obs-phrase or a local part, until something else. What it held.
 */
struct run {
	size_t		start, end;	/* first and last token */
	int		words, dots;
	int		adjacent;	/* two words with no "." between */
	int		dotfirst, dotlast, dotdot;
	int		quoted, cfws_in, utf8;
};

static int
words(struct ap *a, struct run *r)
{
	unsigned char	c;
	size_t		s;
	int		last = 0, seen, gap = 0; /* last: 0 none, 1 word, 2 dot */

	memset(r, 0, sizeof(*r));
	for (;;) {
		seen = 0;
		if (cfws(a, &seen) < 0)
			return -1;
		if (seen && last != 0)
			gap = 1;
		if (a->i >= a->len)
			break;
		c = (unsigned char)a->p[a->i];
		s = a->i;
		if (c == '"') {
			if (qstring(a) < 0)
				return -1;
			r->quoted = 1;
		} else if (c == '.') {
			a->i++;
		} else if (is_atext(c)) {
			while (a->i < a->len &&
			    is_atext((unsigned char)a->p[a->i])) {
				if ((unsigned char)a->p[a->i] >= 128)
					r->utf8 = 1;
				a->i++;
			}
		} else
			break;
		if (last == 0)
			r->start = s;
		r->end = a->i;
		if (gap)
			r->cfws_in = 1;
		gap = 0;
		if (c == '.') {
			if (last == 0)
				r->dotfirst = 1;
			if (last == 2)
				r->dotdot = 1;
			r->dots++;
			last = 2;
		} else {
			if (last == 1)
				r->adjacent = 1;
			r->words++;
			last = 1;
		}
	}
	r->dotlast = last == 2;
	return 0;
}

/* domain: obs-domain (atoms, "." with CFWS) or a domain-literal. */
static int
domain(struct ap *a, struct al_mailbox *m)
{
	struct run	r;
	size_t		s;

	if (cfws(a, NULL) < 0)
		return -1;
	if (a->i < a->len && a->p[a->i] == '[') {
		s = a->i++;
		for (;;) {
			if (a->i >= a->len)
				return -1;
			if (a->p[a->i] == ']')
				break;
			if (a->p[a->i] == '\\') {
				if (qpair(a) < 0)
					return -1;
			} else if (is_wsp((unsigned char)a->p[a->i]) ||
			    is_dtext((unsigned char)a->p[a->i]))
				a->i++;
			else
				return -1;
		}
		a->i++;
		m->domain = span_make(a->p + s, a->i - s);
		m->flags |= AL_DOMAIN_LIT;
		return cfws(a, NULL);
	}
	if (words(a, &r) < 0 || r.words == 0 || r.quoted || r.adjacent ||
	    r.dotfirst || r.dotlast || r.dotdot)
		return -1;
	if (r.cfws_in)
		m->flags |= AL_OBS;
	if (r.utf8)
		m->flags |= AL_UTF8;
	m->domain = span_make(a->p + r.start, r.end - r.start);
	return 0;
}

/* addr-spec after its local part (run r) at "@". */
static int
addr_spec(struct ap *a, const struct run *r, struct al_mailbox *m)
{
	if (r->words == 0 || r->adjacent || r->dotfirst || r->dotlast ||
	    r->dotdot)
		return -1;
	if (a->i >= a->len || a->p[a->i] != '@')
		return -1;
	m->local = span_make(a->p + r->start, r->end - r->start);
	if (r->quoted)
		m->flags |= AL_QUOTED_LOCAL;
	if (r->cfws_in)
		m->flags |= AL_OBS;
	if (r->utf8)
		m->flags |= AL_UTF8;
	a->i++;
	if (domain(a, m) < 0)
		return -1;
	m->addr = span_make(m->local.p,
	    (size_t)(m->domain.p + m->domain.len - m->local.p));
	return 0;
}

/* angle-addr or obs-angle-addr from "<" through ">" and CFWS. */
static int
angle(struct ap *a, struct al_mailbox *m)
{
	struct al_mailbox	d;
	struct run		r;
	size_t			rs = 0, re = 0;

	a->i++;
	m->flags |= AL_ANGLE;
	/* obs-route: obs-domain-list ":" */
	for (;;) {
		if (cfws(a, NULL) < 0)
			return -1;
		if (a->i < a->len && a->p[a->i] == ',') {
			a->i++;
			continue;
		}
		if (a->i >= a->len || a->p[a->i] != '@')
			break;
		if (re == 0)
			rs = a->i;
		a->i++;
		memset(&d, 0, sizeof(d));
		if (domain(a, &d) < 0)
			return -1;
		re = (size_t)(d.domain.p + d.domain.len - a->p);
	}
	if (re != 0) {
		if (a->i >= a->len || a->p[a->i] != ':')
			return -1;
		a->i++;
		m->route = span_make(a->p + rs, re - rs);
		m->flags |= AL_ROUTE;
	}
	if (words(a, &r) < 0 || addr_spec(a, &r, m) < 0)
		return -1;
	if (a->i >= a->len || a->p[a->i] != '>')
		return -1;
	a->i++;
	return cfws(a, NULL);
}

/* A phrase (display name), obsolete "." allowed after the first word. */
static int
phrase_ok(const struct run *r)
{
	return r->words > 0 && !r->dotfirst;
}

/*
 * One address at a->i: a mailbox, or a group whose members go to out.
 * Empty list elements are skipped by the caller.
 */
static enum al_rc
address(struct ap *a, int ingroup, struct span group,
    struct al_mailbox *out, size_t max, size_t *n, size_t *ngroups)
{
	struct al_mailbox	m;
	struct run		r;
	enum al_rc		rc;
	size_t			gi;

	memset(&m, 0, sizeof(m));
	if (words(a, &r) < 0)
		return AL_E_SYNTAX;
	if (a->i < a->len && a->p[a->i] == '<') {
		if (r.words > 0 || r.dots > 0) {
			if (!phrase_ok(&r))
				return AL_E_SYNTAX;
			m.display = span_make(a->p + r.start,
			    r.end - r.start);
			if (r.dots > 0)
				m.flags |= AL_OBS;
			if (r.utf8)
				m.flags |= AL_UTF8;
		}
		if (angle(a, &m) < 0)
			return AL_E_SYNTAX;
	} else if (a->i < a->len && a->p[a->i] == ':') {
		if (ingroup || !phrase_ok(&r))
			return AL_E_SYNTAX;
		group = span_make(a->p + r.start, r.end - r.start);
		a->i++;
		if (ngroups != NULL)
			(*ngroups)++;
		/* group-list: mailbox-list, CFWS, or empty elements */
		for (gi = 0;; gi++) {
			if (cfws(a, NULL) < 0)
				return AL_E_SYNTAX;
			if (a->i >= a->len)
				return AL_E_SYNTAX;
			if (a->p[a->i] == ';')
				break;
			if (a->p[a->i] == ',') {
				a->i++;
				continue;
			}
			rc = address(a, 1, group, out, max, n, ngroups);
			if (rc != AL_OK)
				return rc;
			if (a->i < a->len && a->p[a->i] == ',')
				a->i++;
			else if (a->i >= a->len || a->p[a->i] != ';')
				return AL_E_SYNTAX;
		}
		a->i++;
		return cfws(a, NULL) < 0 ? AL_E_SYNTAX : AL_OK;
	} else if (a->i < a->len && a->p[a->i] == '@') {
		if (addr_spec(a, &r, &m) < 0)
			return AL_E_SYNTAX;
	} else
		return AL_E_SYNTAX;

	if (ingroup) {
		m.flags |= AL_IN_GROUP;
		m.group = group;
	}
	if (*n >= max)
		return AL_E_TOOMANY;
	out[(*n)++] = m;
	return AL_OK;
}

enum al_rc
al_parse(const char *p, size_t len, struct al_mailbox *out, size_t max,
    size_t *n, size_t *ngroups)
{
	struct ap	a = { p, len, 0 };
	enum al_rc	rc;

	*n = 0;
	if (ngroups != NULL)
		*ngroups = 0;
	for (;;) {
		if (cfws(&a, NULL) < 0)
			return AL_E_SYNTAX;
		if (a.i >= a.len)
			return AL_OK;
		if (a.p[a.i] == ',') {
			a.i++;
			continue;
		}
		rc = address(&a, 0, SPAN_NULL, out, max, n, ngroups);
		if (rc != AL_OK)
			return rc;
		if (a.i >= a.len)
			return AL_OK;
		if (a.p[a.i] != ',')
			return AL_E_SYNTAX;
		a.i++;
	}
}

enum al_rc
al_unfold(const char *v, size_t len, char *out, size_t cap, size_t *outlen)
{
	size_t	i = 0, o = 0;

	*outlen = 0;
	while (i < len) {
		if (v[i] == '\r' || v[i] == '\n') {
			if (v[i] == '\r') {
				if (i + 1 >= len || v[i + 1] != '\n')
					return AL_E_FOLD;
				i++;
			}
			i++;
			if (i < len && v[i] == '.')
				i++;
			if (i >= len || !is_wsp((unsigned char)v[i]))
				return AL_E_FOLD;
			continue;
		}
		if (o >= cap)
			return AL_E_TOOLONG;
		out[o++] = v[i++];
		*outlen = o;
	}
	return AL_OK;
}

enum al_rc
al_field(const char *v, size_t len, char *buf, size_t cap,
    struct al_mailbox *out, size_t max, size_t *n, size_t *ngroups)
{
	enum al_rc	rc;
	size_t		ulen;

	*n = 0;
	if (ngroups != NULL)
		*ngroups = 0;
	if ((rc = al_unfold(v, len, buf, cap, &ulen)) != AL_OK)
		return rc;
	return al_parse(buf, ulen, out, max, n, ngroups);
}

/* Copy s without CFWS outside quoted strings and domain literals. */
static void
copy_nocfws(struct span s, char *out, size_t cap, size_t *o)
{
	struct ap	a = { s.p, s.len, 0 };
	int		inq = 0, inlit = 0;
	unsigned char	c;

	while (a.i < a.len && *o < cap - 1) {
		c = (unsigned char)a.p[a.i];
		if (!inq && !inlit && (is_wsp(c) || c == '(')) {
			if (cfws(&a, NULL) < 0)
				return;
			continue;
		}
		if ((inq || inlit) && c == '\\' && a.i + 1 < a.len) {
			out[(*o)++] = (char)c;
			a.i++;
			if (*o >= cap - 1)
				break;
			c = (unsigned char)a.p[a.i];
		} else if (c == '"' && !inlit)
			inq = !inq;
		else if (c == '[' && !inq)
			inlit = 1;
		else if (c == ']' && !inq)
			inlit = 0;
		out[(*o)++] = (char)c;
		a.i++;
	}
}

size_t
al_addr_text(const struct al_mailbox *m, char *out, size_t cap)
{
	size_t	o = 0;

	if (cap == 0)
		return 0;
	copy_nocfws(m->local, out, cap, &o);
	if (o < cap - 1)
		out[o++] = '@';
	copy_nocfws(m->domain, out, cap, &o);
	out[o] = '\0';
	return o;
}

size_t
al_phrase_text(struct span ph, char *out, size_t cap)
{
	struct ap	a = { ph.p, ph.len, 0 };
	unsigned char	c;
	size_t		o = 0;
	int		sp = 0, seen;

	if (cap == 0)
		return 0;
	while (a.i < a.len && o < cap - 1) {
		seen = 0;
		if (cfws(&a, &seen) < 0)
			break;
		if (seen) {
			sp = 1;
			continue;
		}
		if (sp && o > 0)
			out[o++] = ' ';
		sp = 0;
		if (o >= cap - 1)
			break;
		c = (unsigned char)a.p[a.i++];
		if (c != '"') {
			out[o++] = (char)c;
			continue;
		}
		while (a.i < a.len && o < cap - 1) {
			c = (unsigned char)a.p[a.i++];
			if (c == '"')
				break;
			if (c == '\\' && a.i < a.len)
				c = (unsigned char)a.p[a.i++];
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

enum al_from_rc
al_from(const char *sec, size_t len, char *buf, size_t cap,
    struct al_mailbox *out, size_t max, size_t *n)
{
	struct hdr_field	f, from;
	size_t			pos = 0, count = 0;
	enum al_rc		rc;

	*n = 0;
	while (hdr_next(sec, len, &pos, &f)) {
		if (!span_ieq(f.name, "From"))
			continue;
		if (count++ == 0)
			from = f;
	}
	if (count == 0)
		return AL_FROM_NONE;
	if (count > 1)
		return AL_FROM_MANY;
	rc = al_field(from.value.p, from.value.len, buf, cap, out, max, n,
	    NULL);
	if (rc == AL_E_TOOMANY)
		return AL_FROM_TOOMANY;
	if (rc != AL_OK)
		return AL_FROM_UNPARSABLE;
	if (*n == 0)
		return AL_FROM_NOADDR;
	return AL_FROM_OK;
}

const char *
al_rc_name(enum al_rc rc)
{
	switch (rc) {
	case AL_OK:		return "ok";
	case AL_E_TOOLONG:	return "too long";
	case AL_E_FOLD:		return "bad folding";
	case AL_E_SYNTAX:	return "syntax";
	case AL_E_TOOMANY:	return "too many mailboxes";
	}
	return "?";
}

const char *
al_from_name(enum al_from_rc rc)
{
	switch (rc) {
	case AL_FROM_OK:		return "ok";
	case AL_FROM_NONE:		return "no From header";
	case AL_FROM_MANY:		return "several From headers";
	case AL_FROM_UNPARSABLE:	return "unparsable From header";
	case AL_FROM_NOADDR:		return "no address in From header";
	case AL_FROM_TOOMANY:		return "too many From addresses";
	}
	return "?";
}
