/*
 * core/hijack.c - the per-identity sliding window of hijack detection,
 * and the lines of its state file (see core/hijack.h). Input: times
 * from the proxy's clock and counts from its configuration (max >= 1,
 * window >= 1), trusted; state file lines, untrusted (an administrator
 * may have edited the file), parsed strictly. Allocates nothing: the
 * ring and the identity buffer belong to the caller.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/hijack.h"
#include "core/xtext.h"

void
hjwin_init(struct hjwin *w, int64_t *slots, uint32_t cap)
{
	w->t = cap > 0 ? slots : NULL;
	w->cap = w->t != NULL ? cap : 0;
	w->head = 0;
	w->n = 0;
}

static uint32_t
slot(const struct hjwin *w, uint32_t i)
{
	/* head < cap and i < cap: the sum cannot wrap a uint32_t twice */
	uint64_t k = (uint64_t)w->head + i;

	return (uint32_t)(k % w->cap);
}

uint32_t
hjwin_expire(struct hjwin *w, int64_t now, int64_t window)
{
	int64_t edge;

	if (window < 1)
		window = 1;
	/* times at or before edge have left; no overflow for sane clocks,
	 * and a clock near INT64_MIN only keeps more */
	edge = now < INT64_MIN + window ? INT64_MIN : now - window;
	while (w->n > 0 && w->t[w->head] <= edge) {
		w->head = w->head + 1 == w->cap ? 0 : w->head + 1;
		w->n--;
	}
	if (w->n == 0)
		w->head = 0;
	return w->n;
}

enum hjwin_rc
hjwin_check(struct hjwin *w, int64_t now, int64_t window, uint32_t max)
{
	return hjwin_check_more(w, now, window, max, 1);
}

enum hjwin_rc
hjwin_check_more(struct hjwin *w, int64_t now, int64_t window, uint32_t max,
    uint64_t more)
{
	uint64_t n = hjwin_expire(w, now, window);

	if (max < 1)
		max = 1;
	/* n < 2^32 and more is a count of recipients: no overflow */
	if (more > UINT64_MAX - n || n + more > max)
		return HJWIN_LIMIT;
	return HJWIN_UNDER;
}

uint32_t
hjwin_add(struct hjwin *w, int64_t now)
{
	int64_t newest;

	if (w->cap == 0)
		return 0;
	if (w->n > 0) {
		newest = w->t[slot(w, w->n - 1)];
		if (now < newest)
			now = newest;
	}
	if (w->n == w->cap) {
		/* full: the oldest goes, the newest takes its slot */
		w->t[w->head] = now;
		w->head = w->head + 1 == w->cap ? 0 : w->head + 1;
		return w->n;
	}
	w->t[slot(w, w->n)] = now;
	w->n++;
	return w->n;
}

int64_t
hjwin_at(const struct hjwin *w, uint32_t i)
{
	if (i >= w->n)
		return 0;
	return w->t[slot(w, i)];
}

uint32_t
hjwin_grow_to(uint32_t n, uint32_t cap, uint32_t max)
{
	uint64_t want;

	if (n < cap || cap >= max)
		return cap;
	want = cap < 2 ? 4 : (uint64_t)cap * 2;
	if (want > max)
		want = max;
	return (uint32_t)want;
}

uint32_t
hjwin_move(struct hjwin *w, int64_t *slots, uint32_t cap)
{
	uint32_t keep, skip;

	if (slots == NULL)
		cap = 0;
	keep = w->n < cap ? w->n : cap;
	skip = w->n - keep;
	for (uint32_t i = 0; i < keep; i++)
		slots[i] = w->t[slot(w, skip + i)];
	w->t = cap > 0 ? slots : NULL;
	w->cap = cap;
	w->head = 0;
	w->n = keep;
	return keep;
}

/* ------------------------------------------------------------ state file */

/* The next field: spaces and tabs separate. 0 at the end of the line. */
static int
field(const char **pp, const char **f, size_t *n)
{
	const char *p = *pp;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	*f = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	*n = (size_t)(p - *f);
	*pp = p;
	return 1;
}

/* A decimal time: digits only, 1 to 18 of them (no overflow). */
static int
parse_time(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

static enum hjline_kind
line_error(struct hjline *out, const char *what)
{
	out->kind = HJLINE_ERROR;
	out->error = what;
	return out->kind;
}

enum hjline_kind
hjline_parse(const char *line, char *id, size_t idcap, struct hjline *out)
{
	const char *p = line, *kw, *f;
	size_t kwn, n;

	out->kind = HJLINE_SKIP;
	out->when = 0;
	out->idlen = 0;
	out->times = NULL;
	out->error = NULL;
	if (!field(&p, &kw, &kwn) || *kw == '#')
		return out->kind;
	if (kwn == 8 && memcmp(kw, "disabled", 8) == 0)
		out->kind = HJLINE_DISABLED;
	else if (kwn == 5 && memcmp(kw, "count", 5) == 0)
		out->kind = HJLINE_COUNT;
	else
		return line_error(out, "not \"disabled UNIX-TIME ID\" nor "
		    "\"count ID UNIX-TIME...\"");
	if (out->kind == HJLINE_DISABLED &&
	    (!field(&p, &f, &n) || parse_time(f, n, &out->when) < 0))
		return line_error(out, "disabled: expected a time in seconds "
		    "since 1970 after \"disabled\"");
	if (!field(&p, &f, &n))
		return line_error(out, "missing the identity");
	if (xtext_decode(f, n, id, idcap, &out->idlen) != 0 ||
	    out->idlen == 0)
		return line_error(out, "the identity is not xtext (RFC 3461: "
		    "\"+20\" for a space, \"+2B\" for \"+\") or too long");
	if (out->kind == HJLINE_DISABLED && field(&p, &f, &n))
		return line_error(out, "disabled: unexpected text after the "
		    "identity");
	out->times = p;
	return out->kind;
}

int
hjline_time(const char **cursor, int64_t *t)
{
	const char *f;
	size_t n;

	if (!field(cursor, &f, &n))
		return 0;
	if (parse_time(f, n, t) < 0)
		return -1;
	return 1;
}
