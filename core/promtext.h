/*
 * core/promtext.h - a writer of the Prometheus text exposition format
 * 0.0.4 (prometheus.io "Exposition formats"): HELP and TYPE lines,
 * samples with labels, histograms. Pure: it writes into a buffer the
 * caller owns; a write that does not fit sets full and is dropped, so
 * the caller checks once at the end (and tries again with more room).
 * Names are the caller's constants and are not checked; label values
 * and HELP text may be anything and are escaped as the format says
 * (HELP: backslash and line feed; label values: backslash, double
 * quote and line feed).
 */
#ifndef MXS_PROMTEXT_H
#define MXS_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ptbuf {
	char	*p;
	size_t	 cap;
	size_t	 len;		/* p[len] is a NUL while there is room */
	bool	 full;
};

/* A label: name (a constant, not checked) and value (escaped). */
struct pt_label {
	const char	*name;
	const char	*value;
};

void	pt_init(struct ptbuf *b, char *p, size_t cap);

/* "# HELP name text" and "# TYPE name type" (counter, gauge,
 * histogram), each with its line feed. */
void	pt_head(struct ptbuf *b, const char *name, const char *type,
	    const char *help);

/* One sample line: name{labels} value. n may be 0 (no braces). */
void	pt_u64(struct ptbuf *b, const char *name, const struct pt_label *l,
	    size_t n, uint64_t v);
void	pt_double(struct ptbuf *b, const char *name, const struct pt_label *l,
	    size_t n, double v);

/*
 * pt_hist - the lines of one histogram series: name_bucket with an "le"
 * label after the labels l[0..n) for each upper bound bounds[0..nb)
 * (ascending) and "+Inf", the counts made cumulative from counts[0..nb]
 * (counts[i]: observations in (bounds[i-1], bounds[i]]; counts[nb]:
 * above the last bound), then name_sum (sum) and name_count (the total
 * of counts, equal to the +Inf bucket).
 */
void	pt_hist(struct ptbuf *b, const char *name, const struct pt_label *l,
	    size_t n, const double *bounds, const uint64_t *counts, size_t nb,
	    double sum);

/* A float as the format writes it: "+Inf", "-Inf", "NaN", else the
 * shortest %g that reads back the same (at most 17 digits), a whole
 * number below 1e15 without an exponent ("10", not "1e+01"). */
void	pt_float(char *out, size_t cap, double v);

#endif
