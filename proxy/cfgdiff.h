/*
 * proxy/cfgdiff.h - what a reload may change and what it may not: the
 * settings in force since the start that only a restart changes
 * (workers, control.socket, hijack.*, dns.*, log.format, log.level),
 * and which listeners two configurations share. Pure: compares two
 * loaded configurations, no I/O.
 */
#ifndef MXS_CFGDIFF_H
#define MXS_CFGDIFF_H

#include <stddef.h>

#include "proxy/config.h"

#define CFGDIFF_MAX	24	/* names cfgdiff_restart() can return */

/*
 * cfgdiff_restart - the restart-only settings whose value differs
 * between was (the one in force since the start) and now (a reload's):
 * their names ("workers", "hijack.window", "dns.servers", ...) into
 * names, at most cap (CFGDIFF_MAX holds them all), in a fixed order.
 * Returns how many. The names are static strings.
 */
size_t	cfgdiff_restart(const struct config *was, const struct config *now,
	    const char **names, size_t cap);

/*
 * cfgdiff_keep - give now the values of was for the restart-only
 * settings that sessions read (workers, hijack's switches and limits,
 * dns's numbers, log.format and log.level), so that a reload leaves
 * them as they were. The lists and strings of now (hijack.exempt,
 * hijack.state_file, dns.servers, control.socket) stay its own: only
 * the modules started with was read them.
 */
void	cfgdiff_keep(const struct config *was, struct config *now);

/*
 * cfgdiff_listen_same - 1 when a and b listen on the same address
 * (compared as addresses, so "::1" and "0:0::1" are one) and port; their
 * other settings (tls, proxy_protocol, submission) may differ: a reload
 * keeps the socket and applies them to new sessions.
 */
int	cfgdiff_listen_same(const struct cfg_listen *a,
	    const struct cfg_listen *b);

/* cfgdiff_listen_find - the index in cfg->listen of the listener
 * cfgdiff_listen_same() as l, or -1. */
int	cfgdiff_listen_find(const struct config *cfg,
	    const struct cfg_listen *l);

#endif
