/*
 * proxy/probs.c - a list of problems, one a line (proxy/probs.h).
 */
#include <stdarg.h>
#include <stdio.h>

#include "proxy/probs.h"

void
prob(struct probs *p, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	p->n++;
	if (p->cap == 0 || p->len + 1 >= p->cap)
		return;
	if (p->len > 0)
		p->buf[p->len++] = '\n';
	va_start(ap, fmt);
	n = vsnprintf(p->buf + p->len, p->cap - p->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		p->len += (size_t)n < p->cap - p->len ? (size_t)n :
		    p->cap - p->len - 1;
}
