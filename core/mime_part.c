/*
 * core/mime_part.c - what the header of a MIME part says (core/mime_part.h):
 * Content-Type with its boundary and charset parameters, comments and
 * quoted strings (RFC 2045 5.1, with RFC 822 3.3 comments),
 * Content-Transfer-Encoding (RFC 2045 6.1), Content-Disposition
 * (RFC 2183 2); and the code points of the text to append in the
 * part's charset. Input: one unfolded field, untrusted. Pure; the only
 * data are core/ew_tab.c's const tables.
 */
#include <string.h>
#include <strings.h>

#include "core/mime_part.h"

static int
is_tspecial(unsigned char c)
{
	return c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL;
}

/* Skip white space and (nested) comments from i; returns the new i. */
static size_t
skip_cfws(const char *p, size_t n, size_t i)
{
	unsigned depth = 0;

	for (; i < n; i++) {
		if (depth > 0 && p[i] == '\\' && i + 1 < n)
			i++;
		else if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && depth > 0)
			depth--;
		else if (depth == 0 && p[i] != ' ' && p[i] != '\t' &&
		    p[i] != '\r' && p[i] != '\n')
			break;
	}
	return i;
}

static size_t
skip_token(const char *p, size_t n, size_t i)
{
	while (i < n && !is_tspecial((unsigned char)p[i]))
		i++;
	return i;
}

/*
 * A parameter value at *ip: a token or a quoted string, unquoted into
 * out[0..cap). Returns its length, or cap + 1 when it did not fit or
 * was empty or unterminated.
 */
static size_t
param_value(const char *p, size_t n, size_t *ip, char *out, size_t cap)
{
	size_t i = *ip, k = 0, bad = 0;

	if (i < n && p[i] == '"') {
		for (i++; i < n && p[i] != '"'; i++) {
			if (p[i] == '\\' && i + 1 < n)
				i++;
			if (k < cap)
				out[k] = p[i];
			k++;
		}
		bad = i >= n;
		if (i < n)
			i++;
	} else {
		size_t e = skip_token(p, n, i);

		for (; i < e; i++, k++)
			if (k < cap)
				out[k] = p[i];
	}
	*ip = i;
	return bad || k == 0 || k > cap ? cap + 1 : k;
}

static int
lit_ieq(const char *p, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(p, lit, n) == 0;
}

static void
ct_type(struct mp_part *pt, const char *t, size_t tn, const char *s,
    size_t sn)
{
	if (lit_ieq(t, tn, "text") && lit_ieq(s, sn, "plain"))
		pt->type = MP_CT_PLAIN;
	else if (lit_ieq(t, tn, "text") && lit_ieq(s, sn, "html"))
		pt->type = MP_CT_HTML;
	else if (lit_ieq(t, tn, "multipart")) {
		pt->type = MP_CT_MULTI;
		if (lit_ieq(s, sn, "alternative"))
			pt->sub = MP_MS_ALT;
		else if (lit_ieq(s, sn, "signed"))
			pt->sub = MP_MS_SIGNED;
		else if (lit_ieq(s, sn, "digest"))
			pt->sub = MP_MS_DIGEST;
	} else if (lit_ieq(t, tn, "message"))
		pt->type = MP_CT_MESSAGE;
	else if (lit_ieq(t, tn, "application") &&
	    (lit_ieq(s, sn, "pkcs7-mime") || lit_ieq(s, sn, "x-pkcs7-mime")))
		pt->type = MP_CT_PKCS7;
	else
		pt->type = MP_CT_OTHER;
}

/* The parameters of a Content-Type: boundary and charset. */
static void
ct_params(struct mp_part *pt, const char *v, size_t n, size_t i)
{
	char	junk[1];
	size_t	a, k;

	for (;;) {
		i = skip_cfws(v, n, i);
		if (i >= n || v[i] != ';')
			return;
		i = skip_cfws(v, n, i + 1);
		a = i;
		i = skip_token(v, n, i);
		k = i - a;
		i = skip_cfws(v, n, i);
		if (i >= n || v[i] != '=')
			continue;
		i = skip_cfws(v, n, i + 1);
		if (lit_ieq(v + a, k, "boundary") && pt->bnd == MP_BND_NONE) {
			pt->blen = param_value(v, n, &i, pt->bound,
			    sizeof(pt->bound));
			pt->bnd = pt->blen <= sizeof(pt->bound) ? MP_BND_OK :
			    MP_BND_BAD;
		} else if (lit_ieq(v + a, k, "charset") && !pt->cs_given) {
			pt->cs_given = 1;
			pt->cslen = param_value(v, n, &i, pt->cs,
			    sizeof(pt->cs));
		} else
			(void)param_value(v, n, &i, junk, 0);
	}
}

/* Content-Type: type "/" subtype *(";" parameter), RFC 2045 5.1. */
static void
ct_parse(struct mp_part *pt, const char *v, size_t n)
{
	size_t i, t, tn, s, sn;

	i = skip_cfws(v, n, 0);
	t = i;
	i = skip_token(v, n, i);
	tn = i - t;
	i = skip_cfws(v, n, i);
	if (tn == 0 || i >= n || v[i] != '/') {
		pt->type = MP_CT_BAD;
		return;
	}
	i = skip_cfws(v, n, i + 1);
	s = i;
	i = skip_token(v, n, i);
	sn = i - s;
	if (sn == 0) {
		pt->type = MP_CT_BAD;
		return;
	}
	ct_type(pt, v + t, tn, v + s, sn);
	ct_params(pt, v, n, i);
}

static enum mp_cte
cte_parse(const char *v, size_t n)
{
	size_t i = skip_cfws(v, n, 0), a = i;

	i = skip_token(v, n, i);
	if (skip_cfws(v, n, i) != n)
		return MP_CTE_OTHER;
	if (lit_ieq(v + a, i - a, "7bit"))
		return MP_CTE_7BIT;
	if (lit_ieq(v + a, i - a, "8bit"))
		return MP_CTE_8BIT;
	if (lit_ieq(v + a, i - a, "binary"))
		return MP_CTE_BINARY;
	if (lit_ieq(v + a, i - a, "quoted-printable"))
		return MP_CTE_QP;
	if (lit_ieq(v + a, i - a, "base64"))
		return MP_CTE_B64;
	return MP_CTE_OTHER;
}

void
mp_field(struct mp_part *pt, const char *f, size_t n, int trunc)
{
	const char	*c;
	size_t		 nl, i;

	c = memchr(f, ':', n);
	nl = c != NULL ? (size_t)(c - f) : 0;
	i = nl + 1;
	if (lit_ieq(f, nl, "content-type") && !pt->have_ct) {
		pt->have_ct = 1;
		if (trunc)
			pt->type = MP_CT_BAD;
		else
			ct_parse(pt, f + i, n - i);
	} else if (lit_ieq(f, nl, "content-transfer-encoding") &&
	    !pt->have_cte) {
		pt->have_cte = 1;
		pt->cte = trunc ? MP_CTE_OTHER :
		    cte_parse(f + i, n - i);
	} else if (lit_ieq(f, nl, "content-disposition") &&
	    !pt->have_cd) {
		size_t s = skip_cfws(f, n, i);
		size_t e = skip_token(f, n, s);

		pt->have_cd = 1;
		pt->attach = trunc || !lit_ieq(f + s, e - s, "inline");
	}
}


int
mp_is_field(const char *p, size_t n)
{
	if (n >= 5 && memcmp(p, "From ", 5) == 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == ':')
			return 1;
		if (c < 33 || c > 126)
			return 0;
	}
	return 0;
}

uint32_t
mp_utf8_next(const char *s, size_t n, size_t *i)
{
	const unsigned char	*p = (const unsigned char *)s + *i;
	size_t			 left = n - *i, k;
	uint32_t		 cp, min;

	if (p[0] < 0x80) {
		(*i)++;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		k = 1;
		cp = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		k = 2;
		cp = p[0] & 0x0f;
		min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		k = 3;
		cp = p[0] & 0x07;
		min = 0x10000;
	} else {
		(*i)++;
		return 0xfffd;
	}
	if (left <= k) {
		(*i)++;
		return 0xfffd;
	}
	for (size_t j = 1; j <= k; j++) {
		if ((p[j] & 0xc0) != 0x80) {
			(*i)++;
			return 0xfffd;
		}
		cp = cp << 6 | (p[j] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
		(*i)++;
		return 0xfffd;
	}
	*i += k + 1;
	return cp;
}

int
mp_cs_octet(const struct ew_charset *cs, uint32_t cp)
{
	if (cp < 0x80)
		return (int)cp;
	if (cs->kind == EW_CS_LATIN1)
		return cp <= 0xff ? (int)cp : -1;
	if (cs->kind != EW_CS_TABLE || cp == 0xfffd)
		return -1;
	if (cs->first == 0xa0 && cp < 0xa0)
		return (int)cp;
	for (unsigned b = cs->first; b <= 0xff; b++)
		if (cs->table[b - cs->first] == cp)
			return (int)b;
	return -1;
}

int
mp_cs_never(const char *name, size_t n)
{
	char	norm[MA_CSNAME];
	size_t	k = 0;

	for (size_t i = 0; i < n && k < sizeof(norm) - 1; i++)
		if (name[i] != '-' && name[i] != '_')
			norm[k++] = (char)(name[i] | 0x20);
	norm[k] = '\0';
	return strncmp(norm, "utf16", 5) == 0 ||
	    strncmp(norm, "utf32", 5) == 0 || strcmp(norm, "utf7") == 0 ||
	    strncmp(norm, "ucs", 3) == 0 || strncmp(norm, "unicode", 7) == 0;
}
