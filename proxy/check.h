/*
 * proxy/check.h - what a start would refuse, or warn about, beyond the
 * configuration file itself, found without binding anything. The
 * start and --check-config share it, so that both say the same thing.
 */
#ifndef MXS_CHECK_H
#define MXS_CHECK_H

#include <stddef.h>
#include <sys/socket.h>

#include "proxy/config.h"

/* One warning, "file:line: key: what", without a line end. */
typedef void	chk_warn_fn(void *arg, const char *msg);

/*
 * chk_backend - resolve backend.address as the start does (an IP
 * address; else a name of the hosts file; else a name asked through
 * mxshield's resolver, A then AAAA, the first address) into *sa and
 * *salen, and refuse one of our own listeners (a host name is only
 * known to be one once resolved). *by_dns (when not NULL): 1 when DNS
 * gave it, so that the workers follow its TTL. 0, or -1 with
 * "file:line: backend.address: what" in err (cap bytes).
 */
int	chk_backend(const struct config *cfg, struct sockaddr_storage *sa,
	    socklen_t *salen, int *by_dns, char *err, size_t cap);

/*
 * chk_warnings - call warn once for each setting that works but is
 * probably not what the administrator meant: the backend told every
 * client is mxshield (client_info "received") on a loopback or private
 * address, where it may trust that address and relay for anyone; a
 * backend certificate whose name cannot be checked. sa: the backend's
 * address as chk_backend() resolved it.
 */
void	chk_warnings(const struct config *cfg, const struct sockaddr *sa,
	    chk_warn_fn *warn, void *arg);

/*
 * chk_all - for --check-config: everything a start checks but binding.
 * The backend resolves and is not our own listener; the TLS files load;
 * with hijack detection on, hijack.state_file's directory exists and
 * can be written, and the file, when there, is readable and parses;
 * control.socket can be created; user and group exist and the
 * directories above take files from that user. Warnings go to warn
 * (NULL: none), a file descriptor limit too low for
 * limits.max_connections among them. 0, or -1 with one problem a line
 * in err (no line end after the last).
 */
int	chk_all(const struct config *cfg, chk_warn_fn *warn, void *arg,
	    char *err, size_t cap);

#endif
