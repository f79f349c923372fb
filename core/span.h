/*
 * core/span.h - a borrowed run of bytes: pointer and length, never
 * NUL-terminated, never owned. Parsers in core/ return spans into the
 * caller's input; they stay valid until the caller changes that input.
 */
#ifndef MXS_SPAN_H
#define MXS_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

struct span {
	const char	*p;
	size_t		 len;
};

#define SPAN_NULL ((struct span){ NULL, 0 })

static inline struct span
span_make(const char *p, size_t len)
{
	return (struct span){ p, len };
}

/* Case-insensitive comparison with a NUL-terminated ASCII string. */
static inline bool
span_ieq(struct span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && (n == 0 || strncasecmp(s.p, lit, n) == 0);
}

#endif
