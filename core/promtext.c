/*
 * core/promtext.c - the Prometheus text exposition format 0.0.4 written
 * into a caller's buffer (core/promtext.h). Input: metric and label
 * names are the caller's constants; label values and HELP text are
 * untrusted and escaped. Allocates nothing.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/promtext.h"

void
pt_init(struct ptbuf *b, char *p, size_t cap)
{
	b->p = p;
	b->cap = cap;
	b->len = 0;
	b->full = cap == 0;
	if (cap > 0)
		p[0] = '\0';
}

/* n octets, or full (one octet is kept for the NUL). */
static void
put(struct ptbuf *b, const char *s, size_t n)
{
	if (b->full || b->len + n + 1 > b->cap) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct ptbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/*
 * Escaped text: backslash and line feed always, the double quote in a
 * label value only (the format leaves it alone in HELP).
 */
static void
put_esc(struct ptbuf *b, const char *s, bool quote)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *e = NULL;

		if (*s == '\\')
			e = "\\\\";
		else if (*s == '\n')
			e = "\\n";
		else if (*s == '"' && quote)
			e = "\\\"";
		if (e == NULL)
			continue;
		put(b, run, (size_t)(s - run));
		puts_(b, e);
		run = s + 1;
	}
	put(b, run, (size_t)(s - run));
}

void
pt_float(char *out, size_t cap, double v)
{
	if (isnan(v)) {
		snprintf(out, cap, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			break;
	}
	/* %g writes 10 as "1e+01": a whole number reads better whole */
	if (strchr(out, 'e') != NULL && v == (double)(long long)v &&
	    v > -1e15 && v < 1e15)
		snprintf(out, cap, "%.0f", v);
}

void
pt_head(struct ptbuf *b, const char *name, const char *type,
    const char *help)
{
	puts_(b, "# HELP ");
	puts_(b, name);
	puts_(b, " ");
	put_esc(b, help, false);
	puts_(b, "\n# TYPE ");
	puts_(b, name);
	puts_(b, " ");
	puts_(b, type);
	puts_(b, "\n");
}

/* name{l...,extra="xv"} with the value still to come. */
static void
series(struct ptbuf *b, const char *name, const char *suffix,
    const struct pt_label *l, size_t n, const char *extra, const char *xv)
{
	puts_(b, name);
	if (suffix != NULL)
		puts_(b, suffix);
	if (n == 0 && extra == NULL)
		return;
	puts_(b, "{");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			puts_(b, ",");
		puts_(b, l[i].name);
		puts_(b, "=\"");
		put_esc(b, l[i].value != NULL ? l[i].value : "", true);
		puts_(b, "\"");
	}
	if (extra != NULL) {
		if (n > 0)
			puts_(b, ",");
		puts_(b, extra);
		puts_(b, "=\"");
		put_esc(b, xv, true);
		puts_(b, "\"");
	}
	puts_(b, "}");
}

static void
value_u64(struct ptbuf *b, uint64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), " %" PRIu64 "\n", v);
	puts_(b, num);
}

static void
value_double(struct ptbuf *b, double v)
{
	char num[40];

	pt_float(num, sizeof(num), v);
	puts_(b, " ");
	puts_(b, num);
	puts_(b, "\n");
}

void
pt_u64(struct ptbuf *b, const char *name, const struct pt_label *l, size_t n,
    uint64_t v)
{
	series(b, name, NULL, l, n, NULL, NULL);
	value_u64(b, v);
}

void
pt_double(struct ptbuf *b, const char *name, const struct pt_label *l,
    size_t n, double v)
{
	series(b, name, NULL, l, n, NULL, NULL);
	value_double(b, v);
}

void
pt_hist(struct ptbuf *b, const char *name, const struct pt_label *l, size_t n,
    const double *bounds, const uint64_t *counts, size_t nb, double sum)
{
	uint64_t cum = 0;
	char le[40];

	for (size_t i = 0; i <= nb; i++) {
		cum += counts[i];
		if (i < nb)
			pt_float(le, sizeof(le), bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		series(b, name, "_bucket", l, n, "le", le);
		value_u64(b, cum);
	}
	series(b, name, "_sum", l, n, NULL, NULL);
	value_double(b, sum);
	series(b, name, "_count", l, n, NULL, NULL);
	value_u64(b, cum);
}
