/*
 * core/spoof.c - the spoof score: each sign is one check on the held
 * header section or on what the session knows about the client; the
 * weights of the signs found are summed and capped (core/spoof.h).
 * Input: untrusted, wire format (CRLF, dot-stuffed). Uses core/hdr.c
 * to find fields, core/addr5322.c for From:, Sender: and Reply-To:,
 * core/ew.c to read display names (RFC 2047), core/net.c for the
 * addresses in Received: (RFC 1918, RFC 5735 loopback). The Date check
 * is RFC 5322 3.3 with the obsolete zones of 4.3, comments removed.
 * Allocates nothing; the buffers are on the stack and bounded.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "core/addr5322.h"
#include "core/ew.h"
#include "core/hdr.h"
#include "core/spoof.h"

#define SPOOF_BUF	4096	/* an unfolded address field */
#define SPOOF_NBOX	32	/* mailboxes read in one field */
#define SPOOF_TEXT	1024	/* a display name, decoded */

const int spoof_default_weights[SPOOF_NSIGNS] = {
	[SPOOF_SOURCE_ROUTE] = 10,
	[SPOOF_DISPLAY_NAME_ADDRESS] = 8,
	[SPOOF_DISPLAY_NAME_LOCAL_DOMAIN] = 8,
	[SPOOF_LOCAL_FROM_OUTSIDE] = 8,
	[SPOOF_NO_RECEIVED] = 5,
	[SPOOF_PRIVATE_RECEIVED] = 5,
	[SPOOF_HELO_FAILED] = 3,
	[SPOOF_BAD_MESSAGE_ID] = 2,
	[SPOOF_BAD_DATE] = 2,
	[SPOOF_REPLY_TO_OTHER_DOMAIN] = 3,
	[SPOOF_SPF_FAIL_LOCAL] = 8,
	[SPOOF_NO_RDNS] = 3,
	[SPOOF_FCRDNS_MISMATCH] = 3,
};

static const char *const sign_names[SPOOF_NSIGNS] = {
	[SPOOF_SOURCE_ROUTE] = "source_route",
	[SPOOF_DISPLAY_NAME_ADDRESS] = "display_name_address",
	[SPOOF_DISPLAY_NAME_LOCAL_DOMAIN] = "display_name_local_domain",
	[SPOOF_LOCAL_FROM_OUTSIDE] = "local_from_outside",
	[SPOOF_NO_RECEIVED] = "no_received",
	[SPOOF_PRIVATE_RECEIVED] = "private_received",
	[SPOOF_HELO_FAILED] = "helo_failed",
	[SPOOF_BAD_MESSAGE_ID] = "bad_message_id",
	[SPOOF_BAD_DATE] = "bad_date",
	[SPOOF_REPLY_TO_OTHER_DOMAIN] = "reply_to_other_domain",
	[SPOOF_SPF_FAIL_LOCAL] = "spf_fail_local",
	[SPOOF_NO_RDNS] = "no_rdns",
	[SPOOF_FCRDNS_MISMATCH] = "fcrdns_mismatch",
};

const char *
spoof_sign_name(enum spoof_sign s)
{
	if ((unsigned)s >= SPOOF_NSIGNS)
		return "unknown";
	return sign_names[s];
}

int
spoof_sign_find(const char *name, size_t len)
{
	for (int i = 0; i < SPOOF_NSIGNS; i++)
		if (strlen(sign_names[i]) == len &&
		    memcmp(sign_names[i], name, len) == 0)
			return i;
	return -1;
}

size_t
spoof_signs_text(unsigned signs, char *buf, size_t cap)
{
	size_t	n = 0;

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	for (int i = 0; i < SPOOF_NSIGNS; i++) {
		size_t	l = strlen(sign_names[i]), sep = n > 0;

		if ((signs & (1u << i)) == 0)
			continue;
		if (n + sep + l + 1 > cap)
			break;
		if (sep)
			buf[n++] = ',';
		memcpy(buf + n, sign_names[i], l);
		n += l;
		buf[n] = '\0';
	}
	return n;
}

static inline int
is_alnum(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z');
}

static inline int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* The domain of "local@domain" text: after the last "@". */
static struct span
text_domain(const char *a, size_t len)
{
	for (size_t i = len; i > 0; i--)
		if (a[i - 1] == '@')
			return span_make(a + i, len - i);
	return span_make(a + len, 0);
}

/* Case-insensitive equality of domains, a trailing "." ignored. */
static bool
domain_eq(struct span a, struct span b)
{
	if (a.len > 0 && a.p[a.len - 1] == '.')
		a.len--;
	if (b.len > 0 && b.p[b.len - 1] == '.')
		b.len--;
	return a.len == b.len && a.len > 0 &&
	    strncasecmp(a.p, b.p, a.len) == 0;
}

static bool
domain_is_local(const struct spoof_input *in, struct span d)
{
	if (d.len == 0 || d.p[0] == '[')
		return false;
	for (size_t i = 0; i < in->nlocal_domains; i++) {
		const char	*l = in->local_domains[i];

		if (l != NULL && domain_eq(d, span_make(l, strlen(l))))
			return true;
	}
	return false;
}

/*
 * Does text[0..len) name a local domain as a whole domain: not preceded
 * by a label character or ".", not followed by a label character?
 */
static bool
text_names_local(const struct spoof_input *in, const char *t, size_t len)
{
	for (size_t i = 0; i < in->nlocal_domains; i++) {
		const char	*l = in->local_domains[i];
		size_t		 ll;

		if (l == NULL || (ll = strlen(l)) == 0 || ll > len)
			continue;
		if (l[ll - 1] == '.')
			ll--;
		for (size_t j = 0; ll > 0 && j + ll <= len; j++) {
			unsigned char	b, a;

			if (strncasecmp(t + j, l, ll) != 0)
				continue;
			b = j > 0 ? (unsigned char)t[j - 1] : ' ';
			a = j + ll < len ? (unsigned char)t[j + ll] : ' ';
			if (is_alnum(b) || b == '-' || b == '.')
				continue;
			if (is_alnum(a) || a == '-')
				continue;
			return true;
		}
	}
	return false;
}

static bool
from_outside(const struct spoof_input *in)
{
	return !in->trusted && !in->authenticated;
}

/* The mailboxes of the first field named name; 0 when none usable. */
static size_t
field_boxes(const struct spoof_input *in, const char *name, char *buf,
    struct al_mailbox *m)
{
	struct hdr_field	f;
	size_t			n = 0;

	if (!hdr_find(in->hdr, in->hdrlen, name, &f))
		return 0;
	if (al_field(f.value.p, f.value.len, buf, SPOOF_BUF, m, SPOOF_NBOX,
	    &n, NULL) != AL_OK)
		return 0;
	return n;
}

static bool
any_route(const struct al_mailbox *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (m[i].flags & AL_ROUTE)
			return true;
	return false;
}

/*
 * The display names of From: decoded (RFC 2047): an address in one that
 * is not the mailbox's own address, and a local domain named in one.
 */
static void
check_display(const struct spoof_input *in, const struct al_mailbox *m,
    size_t n, unsigned *signs)
{
	char		phrase[SPOOF_TEXT], text[SPOOF_TEXT], real[SPOOF_TEXT];
	size_t		plen, tlen, rlen;
	unsigned	fl = 0;
	struct span	a;

	for (size_t i = 0; i < n; i++) {
		if (m[i].display.len == 0)
			continue;
		plen = al_phrase_text(m[i].display, phrase, sizeof(phrase));
		(void)ew_decode(phrase, plen, text, sizeof(text), &tlen, &fl);
		rlen = al_addr_text(&m[i], real, sizeof(real));
		if (ew_find_address(text, tlen, &a) &&
		    (a.len != rlen || strncasecmp(a.p, real, rlen) != 0))
			*signs |= 1u << SPOOF_DISPLAY_NAME_ADDRESS;
		if (from_outside(in) && text_names_local(in, text, tlen))
			*signs |= 1u << SPOOF_DISPLAY_NAME_LOCAL_DOMAIN;
	}
}

/* 10/8, 172.16/12, 192.168/16, 127/8, ::1. */
static bool
addr_private(const struct net_addr *a)
{
	static const unsigned char	v6lo[16] = { [15] = 1 };
	const unsigned char		*b = a->addr;

	if (a->family == AF_INET6) {
		static const unsigned char mapped[12] = { [10] = 0xff,
		    [11] = 0xff };

		if (memcmp(b, v6lo, 16) == 0)
			return true;
		if (memcmp(b, mapped, 12) != 0)
			return false;
		b += 12;
	}
	return b[0] == 10 || b[0] == 127 ||
	    (b[0] == 172 && b[1] >= 16 && b[1] <= 31) ||
	    (b[0] == 192 && b[1] == 168);
}

/* An address literal "[...]" in v[0..len) that is private or our own. */
static bool
received_private(const struct spoof_input *in, const char *v, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		struct net_addr	a;
		size_t		j, s;

		if (v[i] != '[')
			continue;
		s = i + 1;
		for (j = s; j < len && j - s < 64 && v[j] != ']' &&
		    v[j] != '['; j++)
			;
		if (j >= len || v[j] != ']')
			continue;
		if (j - s > 5 && strncasecmp(v + s, "IPv6:", 5) == 0)
			s += 5;
		if (net_addr_parse(v + s, j - s, &a) != 0)
			continue;
		if (addr_private(&a))
			return true;
		for (size_t k = 0; k < in->nown; k++)
			if (net_match(&in->own[k], &a))
				return true;
	}
	return false;
}

static void
check_received(const struct spoof_input *in, unsigned *signs)
{
	struct hdr_field	f;
	size_t			pos = 0;
	bool			seen = false;

	while (hdr_next(in->hdr, in->hdrlen, &pos, &f)) {
		if (!span_ieq(f.name, "Received"))
			continue;
		seen = true;
		if (received_private(in, f.value.p, f.value.len))
			*signs |= 1u << SPOOF_PRIVATE_RECEIVED;
	}
	if (!seen)
		*signs |= 1u << SPOOF_NO_RECEIVED;
}

static inline int
is_idtext(unsigned char c)
{
	return c > 32 && c < 127 && c != '<' && c != '>' && c != '@' &&
	    c != '"' && c != '\\';
}

/* "<left@right>", both sides non-empty (RFC 5322 3.6.4, loosely). */
static bool
msgid_ok(const char *id, size_t len)
{
	size_t	i, at;

	if (len < 5 || id[0] != '<' || id[len - 1] != '>')
		return false;
	for (i = 1; i < len - 1 && is_idtext((unsigned char)id[i]); i++)
		;
	if (i == 1 || id[i] != '@')
		return false;
	at = i;
	for (i = at + 1; i < len - 1; i++) {
		unsigned char	c = (unsigned char)id[i];

		if (!is_idtext(c) && c != '[' && c != ']')
			return false;
	}
	return at + 1 < len - 1;
}

/* Date parsing over a comment-free copy of the body. */
struct dp {
	const char	*p;
	size_t		 len, i;
};

static void
dp_ws(struct dp *d)
{
	while (d->i < d->len && (d->p[d->i] == ' ' || d->p[d->i] == '\t'))
		d->i++;
}

/* 1..max digits as a number; -1 when there are none or more. */
static int
dp_num(struct dp *d, size_t min, size_t max)
{
	size_t	n = 0;
	int	v = 0;

	while (d->i < d->len && is_digit((unsigned char)d->p[d->i])) {
		if (++n > max)
			return -1;
		v = v * 10 + (d->p[d->i++] - '0');
	}
	return n >= min ? v : -1;
}

static size_t
dp_word(struct dp *d, char *w, size_t cap)
{
	size_t	n = 0;

	while (d->i < d->len && ((d->p[d->i] >= 'a' && d->p[d->i] <= 'z') ||
	    (d->p[d->i] >= 'A' && d->p[d->i] <= 'Z'))) {
		if (n + 1 < cap)
			w[n] = d->p[d->i];
		n++;
		d->i++;
	}
	w[n < cap ? n : cap - 1] = '\0';
	return n;
}

static bool
word_in(const char *w, size_t n, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strcasecmp(w, *list) == 0)
			return true;
	return false;
}

static bool
dp_char(struct dp *d, char c)
{
	if (d->i < d->len && d->p[d->i] == c) {
		d->i++;
		return true;
	}
	return false;
}

/*
 * [day-name ","] day month year hour ":" minute [":" second] zone
 * (RFC 5322 3.3, obs-zone and 2- or 3-digit years of 4.3).
 */
static bool
date_ok(const char *p, size_t len)
{
	static const char *const days[] = { "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat", "Sun", NULL };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec", NULL };
	static const char *const zones[] = { "UT", "GMT", "EST", "EDT",
	    "CST", "CDT", "MST", "MDT", "PST", "PDT", NULL };
	struct dp	 d = { p, len, 0 };
	char		 w[8];
	size_t		 n, save;
	int		 v;

	dp_ws(&d);
	save = d.i;
	n = dp_word(&d, w, sizeof(w));
	if (n > 0) {
		if (!word_in(w, n, days))
			return false;
		dp_ws(&d);
		if (!dp_char(&d, ','))
			return false;
		dp_ws(&d);
	} else
		d.i = save;
	if ((v = dp_num(&d, 1, 2)) < 1 || v > 31)
		return false;
	dp_ws(&d);
	n = dp_word(&d, w, sizeof(w));
	if (!word_in(w, n, months))
		return false;
	dp_ws(&d);
	if (dp_num(&d, 2, 4) < 0)
		return false;
	dp_ws(&d);
	if ((v = dp_num(&d, 2, 2)) < 0 || v > 23)
		return false;
	dp_ws(&d);
	if (!dp_char(&d, ':'))
		return false;
	dp_ws(&d);
	if ((v = dp_num(&d, 2, 2)) < 0 || v > 59)
		return false;
	dp_ws(&d);
	if (dp_char(&d, ':')) {
		dp_ws(&d);
		if ((v = dp_num(&d, 2, 2)) < 0 || v > 60)
			return false;
	}
	dp_ws(&d);
	if (dp_char(&d, '+') || dp_char(&d, '-')) {
		if ((v = dp_num(&d, 4, 4)) < 0 || v % 100 > 59)
			return false;
	} else {
		n = dp_word(&d, w, sizeof(w));
		if (n == 0)
			return false;
		if (!word_in(w, n, zones) && !(n == 1 && w[0] != 'J' &&
		    w[0] != 'j'))
			return false;
	}
	dp_ws(&d);
	return d.i == d.len;
}

/* The Date body unfolded, comments dropped (nesting, quoted pairs). */
static bool
check_date(const struct spoof_input *in)
{
	struct hdr_field	f;
	char			buf[256], out[256];
	size_t			ulen, n = 0;
	int			depth = 0;

	if (!hdr_find(in->hdr, in->hdrlen, "Date", &f))
		return false;
	if (al_unfold(f.value.p, f.value.len, buf, sizeof(buf), &ulen) !=
	    AL_OK)
		return false;
	for (size_t i = 0; i < ulen; i++) {
		char	c = buf[i];

		if (depth > 0 && c == '\\') {
			i++;
			continue;
		}
		if (c == '(') {
			depth++;
			out[n++] = ' ';
			continue;
		}
		if (c == ')') {
			if (depth == 0)
				return false;
			depth--;
			continue;
		}
		if (depth == 0)
			out[n++] = c;
	}
	if (depth != 0)
		return false;
	return date_ok(out, n);
}

/* Some Reply-To mailbox in a domain other than the first From's. */
static bool
check_reply_to(const struct spoof_input *in, const struct al_mailbox *from,
    size_t nfrom)
{
	struct al_mailbox	m[SPOOF_NBOX];
	char			buf[SPOOF_BUF], a[SPOOF_TEXT], b[SPOOF_TEXT];
	size_t			n, la, lb;
	struct span		df;

	if (nfrom == 0)
		return false;
	la = al_addr_text(&from[0], a, sizeof(a));
	df = text_domain(a, la);
	n = field_boxes(in, "Reply-To", buf, m);
	for (size_t i = 0; i < n; i++) {
		lb = al_addr_text(&m[i], b, sizeof(b));
		if (!domain_eq(df, text_domain(b, lb)))
			return true;
	}
	return false;
}

/* "<@a,@b:x@y>" or "@a:x@y" (RFC 5321 4.1.2 A-d-l). */
static bool
path_has_route(struct span p)
{
	size_t	i = 0;

	if (p.len > 0 && p.p[0] == '<')
		i = 1;
	return i < p.len && p.p[i] == '@';
}

static unsigned
find_signs(const struct spoof_input *in)
{
	struct al_mailbox	from[SPOOF_NBOX], m[SPOOF_NBOX];
	char			fbuf[SPOOF_BUF], buf[SPOOF_BUF];
	char			id[SPOOF_TEXT], a[SPOOF_TEXT];
	unsigned		signs = 0;
	size_t			nfrom = 0, n, la;

	if (al_from(in->hdr, in->hdrlen, fbuf, sizeof(fbuf), from,
	    SPOOF_NBOX, &nfrom) != AL_FROM_OK)
		nfrom = 0;

	if (in->mail_from_route || path_has_route(in->mail_from) ||
	    any_route(from, nfrom))
		signs |= 1u << SPOOF_SOURCE_ROUTE;
	n = field_boxes(in, "Sender", buf, m);
	if (any_route(m, n))
		signs |= 1u << SPOOF_SOURCE_ROUTE;
	n = field_boxes(in, "Reply-To", buf, m);
	if (any_route(m, n))
		signs |= 1u << SPOOF_SOURCE_ROUTE;

	check_display(in, from, nfrom, &signs);

	if (from_outside(in)) {
		for (size_t i = 0; i < nfrom; i++) {
			la = al_addr_text(&from[i], a, sizeof(a));
			if (domain_is_local(in, text_domain(a, la)))
				signs |= 1u << SPOOF_LOCAL_FROM_OUTSIDE;
		}
		check_received(in, &signs);
		/* the domain's own record says this client is not its */
		if (in->spf_ran && in->spf == SPF_FAIL &&
		    domain_is_local(in, in->spf_domain))
			signs |= 1u << SPOOF_SPF_FAIL_LOCAL;
		if (in->no_rdns)
			signs |= 1u << SPOOF_NO_RDNS;
		if (in->fcrdns_mismatch)
			signs |= 1u << SPOOF_FCRDNS_MISMATCH;
	}

	if (in->helo_failed)
		signs |= 1u << SPOOF_HELO_FAILED;
	n = hdr_message_id(in->hdr, in->hdrlen, id, sizeof(id));
	if (!msgid_ok(id, n))
		signs |= 1u << SPOOF_BAD_MESSAGE_ID;
	if (!check_date(in))
		signs |= 1u << SPOOF_BAD_DATE;
	if (check_reply_to(in, from, nfrom))
		signs |= 1u << SPOOF_REPLY_TO_OTHER_DOMAIN;
	return signs;
}

int
spoof_score(const struct spoof_input *in, const int *weights,
    unsigned *signs_out)
{
	unsigned	signs = find_signs(in), kept = 0;
	int		sum = 0;

	for (int i = 0; i < SPOOF_NSIGNS; i++) {
		int	w = weights[i];

		if ((signs & (1u << i)) == 0 || w <= 0)
			continue;
		kept |= 1u << i;
		sum += w > SPOOF_MAX ? SPOOF_MAX : w;
		if (sum > SPOOF_MAX)
			sum = SPOOF_MAX;
	}
	if (signs_out != NULL)
		*signs_out = kept;
	return sum;
}
