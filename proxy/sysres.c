/*
 * proxy/sysres.c - the machine's limits of proxy/sysres.h: CPUs by
 * affinity and cgroup v2 quota (the parse is core/cpuquota.c), and the
 * RLIMIT_NOFILE soft limit, raised at start and consulted at each
 * accept. Reads /sys/fs/cgroup/cpu.max; logs nothing itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/cpuquota.h"
#include "proxy/sysres.h"

/* The soft limit in force, set once at start before the workers run. */
static long fd_limit = -1;

/* Descriptors a session's backend socket and the process's spare ones
 * need above the client's. */
#define FD_SPARE	8

/* The quota of our cgroup: 0 none (or no cgroup v2), else CPUs. */
static int
cgroup_quota(void)
{
	char buf[128];
	ssize_t n;
	int fd;

	/* in a container the namespace's root is its own cgroup */
	if ((fd = open("/sys/fs/cgroup/cpu.max", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0)
		return 0;
	return cpuq_parse(buf, (size_t)n);
}

int
sysres_cpus(int max)
{
	cpu_set_t set;
	int affinity = 0;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		affinity = CPU_COUNT(&set);
	else
		affinity = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return cpuq_workers(affinity, cgroup_quota(), max);
}

long
sysres_raise_nofile(char *msg, size_t cap)
{
	struct rlimit rl;
	rlim_t old;

	msg[0] = '\0';
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return fd_limit = 1024;
	old = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			snprintf(msg, cap, "file descriptor limit (RLIMIT_NOFILE) "
			    "raised from %llu to the hard limit %llu",
			    (unsigned long long)old,
			    (unsigned long long)rl.rlim_cur);
		else {
			snprintf(msg, cap, "file descriptor limit (RLIMIT_NOFILE) "
			    "%llu could not be raised to the hard limit %llu: %s",
			    (unsigned long long)old,
			    (unsigned long long)rl.rlim_max, strerror(errno));
			rl.rlim_cur = old;
		}
	}
	fd_limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 0x7fffffff ?
	    0x7fffffff : (long)rl.rlim_cur;
	return fd_limit;
}

long
sysres_fd_need(const struct config *cfg)
{
	return 2L * cfg->limits.max_connections +
	    (long)cfg->workers * (long)cfg->nlisten + SYSRES_FD_MARGIN;
}

void
sysres_warn_nofile(const struct config *cfg, long limit, chk_warn_fn *warn,
    void *arg)
{
	struct rlimit rl;
	char where[1100], msg[1600];
	long need = sysres_fd_need(cfg);

	if (limit < 0) {
		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			return;
		limit = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > 0x7fffffff ? 0x7fffffff : (long)rl.rlim_max;
	}
	if (need <= limit)
		return;
	cfg_where(cfg, "limits.max_connections", where, sizeof(where));
	snprintf(msg, sizeof(msg), "%s: limits.max_connections = %d needs "
	    "about %ld file descriptors (2 a session, the listeners and %d "
	    "spare) but the limit (RLIMIT_NOFILE) is %ld: past about "
	    "%ld sessions clients get 421 4.3.2; raise the limit (systemd "
	    "LimitNOFILE=, docker run --ulimit nofile=N:N, ulimit -Hn) or "
	    "lower max_connections", where, cfg->limits.max_connections,
	    need, SYSRES_FD_MARGIN, limit,
	    (limit - (need - 2L * cfg->limits.max_connections)) / 2 > 0 ?
	    (limit - (need - 2L * cfg->limits.max_connections)) / 2 : 0);
	warn(arg, msg);
}

int
sysres_fd_low(int fd)
{
	return fd_limit > 0 && (long)fd + 1 + FD_SPARE >= fd_limit;
}

long
sysres_fd_limit(void)
{
	return fd_limit;
}
