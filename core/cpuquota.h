/*
 * core/cpuquota.h - how many CPUs a process may really use: the CPUs
 * its affinity mask allows, capped by a cgroup v2 CPU quota (the text
 * of cpu.max, "QUOTA PERIOD" or "max PERIOD"). Pure: the caller reads
 * the mask and the file.
 */
#ifndef MXS_CPUQUOTA_H
#define MXS_CPUQUOTA_H

#include <stddef.h>

/*
 * cpuq_parse - the CPUs a cpu.max text grants, rounded up ("150000
 * 100000" is 2): 0 for "max" (no quota), -1 when the text is not
 * "QUOTA PERIOD" or "max PERIOD" with positive decimal numbers (a
 * trailing line end is allowed). text need not be NUL-terminated.
 */
int	cpuq_parse(const char *text, size_t len);

/*
 * cpuq_workers - the default worker count: affinity CPUs (< 1: not
 * known, taken as 1), capped by quota when quota > 0, at least 1 and
 * at most max.
 */
int	cpuq_workers(int affinity, int quota, int max);

#endif
