/*
 * proxy/probs.h - problems found by a check, one a line, in a buffer
 * the caller gives (the start checks of proxy/check.c, the account
 * checks of proxy/privdrop.c). A problem that does not fit is counted
 * and left out; the text is always NUL-terminated when cap > 0.
 */
#ifndef MXS_PROBS_H
#define MXS_PROBS_H

#include <stddef.h>

struct probs {
	char	*buf;
	size_t	 cap, len;
	int	 n;		/* problems found, written or not */
};

void	prob(struct probs *p, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
