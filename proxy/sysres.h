/*
 * proxy/sysres.h - what the machine lets this process use: the CPUs it
 * may run on (the default of workers) and file descriptors (the
 * RLIMIT_NOFILE soft limit raised at start, what max_connections needs,
 * and whether a new descriptor leaves enough for the rest).
 */
#ifndef MXS_SYSRES_H
#define MXS_SYSRES_H

#include "proxy/check.h"
#include "proxy/config.h"

/*
 * Descriptors kept free beyond the sessions: each worker's loop (epoll,
 * its wake-up, libuv's spare), resolver sockets, the control socket and
 * its clients, the state file being written.
 */
#define SYSRES_FD_MARGIN	64

/*
 * sysres_cpus - the CPUs this process may run on (sched_getaffinity),
 * capped by the cgroup v2 quota of /sys/fs/cgroup/cpu.max when there is
 * one (core/cpuquota.h), at least 1 and at most max.
 */
int	sysres_cpus(int max);

/*
 * sysres_raise_nofile - raise the RLIMIT_NOFILE soft limit to the hard
 * one. Returns the soft limit now in force (the old one when raising
 * failed); msg (cap bytes) gets a line for the start's log, "" when
 * nothing changed.
 */
long	sysres_raise_nofile(char *msg, size_t cap);

/*
 * sysres_fd_need - the descriptors cfg needs at most: two a session
 * (client and backend), one listener a worker and address, and
 * SYSRES_FD_MARGIN.
 */
long	sysres_fd_need(const struct config *cfg);

/*
 * sysres_warn_nofile - warn (one call of warn) when sysres_fd_need()
 * is above limit: the soft limit in force, or for --check-config the
 * hard one a start would raise it to (limit < 0: read it here).
 */
void	sysres_warn_nofile(const struct config *cfg, long limit,
	    chk_warn_fn *warn, void *arg);

/*
 * sysres_fd_low - is descriptor fd (just opened) so close to the soft
 * limit that the session it would serve cannot get its backend socket
 * and the process its spare ones? Linux hands out the lowest free
 * number, so fd tells how many are open. Cheap: no system call.
 */
int	sysres_fd_low(int fd);

/* sysres_fd_limit - the soft limit sysres_raise_nofile() left, or -1. */
long	sysres_fd_limit(void);

#endif
