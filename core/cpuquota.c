/*
 * core/cpuquota.c - the CPU count of core/cpuquota.h from a cgroup v2
 * cpu.max text (Documentation/admin-guide/cgroup-v2.rst, "cpu.max").
 * Input: untrusted text, not NUL-terminated. Allocates nothing.
 */
#include <stdint.h>

#include "core/cpuquota.h"

/* A positive decimal number at *p; 0 (not one, or too big) or it. */
static uint64_t
number(const char **p, const char *end)
{
	uint64_t v = 0;
	const char *s = *p;

	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(*s - '0');
		s++;
	}
	if (s == *p)
		return 0;
	*p = s;
	return v;
}

int
cpuq_parse(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	uint64_t quota = 0, period, n;
	int unlimited = 0;

	if (end - p >= 3 && p[0] == 'm' && p[1] == 'a' && p[2] == 'x') {
		unlimited = 1;
		p += 3;
	} else if ((quota = number(&p, end)) == 0)
		return -1;
	if (p == end || *p != ' ')
		return -1;
	p++;
	if ((period = number(&p, end)) == 0)
		return -1;
	if (p < end && *p == '\n')
		p++;
	if (p != end)
		return -1;
	if (unlimited)
		return 0;
	n = quota / period + (quota % period != 0);
	return n > 1000000 ? 1000000 : (int)n;
}

int
cpuq_workers(int affinity, int quota, int max)
{
	int n = affinity < 1 ? 1 : affinity;

	if (quota > 0 && quota < n)
		n = quota;
	if (n > max)
		n = max;
	return n < 1 ? 1 : n;
}
