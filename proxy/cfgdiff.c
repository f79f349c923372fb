/*
 * proxy/cfgdiff.c - which settings of a reloaded configuration need a
 * restart, and which listeners two configurations share
 * (proxy/cfgdiff.h). Input: two configurations cfg_load() accepted.
 * Allocates nothing.
 */
#include <string.h>
#include <sys/socket.h>

#include "core/net.h"
#include "proxy/cfgdiff.h"

static int
str_differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

static int
strlist_differ(const struct cfg_strlist *a, const struct cfg_strlist *b)
{
	if (a->n != b->n)
		return 1;
	for (size_t i = 0; i < a->n; i++)
		if (str_differ(a->v[i], b->v[i]))
			return 1;
	return 0;
}

size_t
cfgdiff_restart(const struct config *was, const struct config *now,
    const char **names, size_t cap)
{
	const struct {
		const char	*name;
		int		 differ;
	} t[] = {
		{ "workers", was->workers != now->workers },
		{ "control.socket", str_differ(was->control.socket,
		    now->control.socket) },
		{ "hijack.enabled", was->hijack.enabled != now->hijack.enabled },
		{ "hijack.max_messages", was->hijack.max_messages !=
		    now->hijack.max_messages },
		{ "hijack.window", was->hijack.window != now->hijack.window },
		{ "hijack.state_file", str_differ(was->hijack.state_file,
		    now->hijack.state_file) },
		{ "hijack.mode", was->hijack.mode != now->hijack.mode },
		{ "hijack.count", was->hijack.count != now->hijack.count },
		{ "hijack.exempt", strlist_differ(&was->hijack.exempt,
		    &now->hijack.exempt) },
		{ "dns.servers", strlist_differ(&was->dns.servers,
		    &now->dns.servers) },
		{ "dns.timeout", was->dns.timeout != now->dns.timeout },
		{ "dns.attempts", was->dns.attempts != now->dns.attempts },
		{ "dns.cache_entries", was->dns.cache_entries !=
		    now->dns.cache_entries },
		{ "hijack.store", was->hijack.store != now->hijack.store },
		{ "hijack.on_store_failure", was->hijack.on_store_failure !=
		    now->hijack.on_store_failure },
		{ "hijack.redis", str_differ(was->hijack.redis.address,
		    now->hijack.redis.address) || was->hijack.redis.port !=
		    now->hijack.redis.port || str_differ(
		    was->hijack.redis.prefix, now->hijack.redis.prefix) ||
		    str_differ(was->hijack.redis.password_file,
		    now->hijack.redis.password_file) || was->hijack.redis.db !=
		    now->hijack.redis.db || was->hijack.redis.timeout_ms !=
		    now->hijack.redis.timeout_ms },
		{ "metrics", was->metrics.enabled != now->metrics.enabled ||
		    str_differ(was->metrics.address, now->metrics.address) ||
		    was->metrics.port != now->metrics.port ||
		    was->metrics.health_backend_window !=
		    now->metrics.health_backend_window },
		{ "user", str_differ(was->user, now->user) },
		{ "group", str_differ(was->group, now->group) },
		{ "allow_root", was->allow_root != now->allow_root },
		{ "log.format", was->log.format != now->log.format },
		{ "log.level", was->log.level != now->log.level },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]) && n < cap; i++)
		if (t[i].differ)
			names[n++] = t[i].name;
	return n;
}

void
cfgdiff_keep(const struct config *was, struct config *now)
{
	now->workers = was->workers;
	now->allow_root = was->allow_root;
	now->hijack.enabled = was->hijack.enabled;
	now->hijack.max_messages = was->hijack.max_messages;
	now->hijack.window = was->hijack.window;
	now->hijack.mode = was->hijack.mode;
	now->hijack.count = was->hijack.count;
	now->hijack.store = was->hijack.store;
	now->hijack.on_store_failure = was->hijack.on_store_failure;
	now->dns.timeout = was->dns.timeout;
	now->dns.attempts = was->dns.attempts;
	now->dns.cache_entries = was->dns.cache_entries;
	now->log.format = was->log.format;
	now->log.level = was->log.level;
}

int
cfgdiff_listen_same(const struct cfg_listen *a, const struct cfg_listen *b)
{
	struct net_addr x, y;

	if (a->port != b->port)
		return 0;
	if (net_addr_parse(a->address, strlen(a->address), &x) != 0 ||
	    net_addr_parse(b->address, strlen(b->address), &y) != 0)
		return strcmp(a->address, b->address) == 0;
	return x.family == y.family && memcmp(x.addr, y.addr,
	    x.family == AF_INET6 ? 16 : 4) == 0;
}

int
cfgdiff_listen_find(const struct config *cfg, const struct cfg_listen *l)
{
	for (size_t i = 0; i < cfg->nlisten; i++)
		if (cfgdiff_listen_same(&cfg->listen[i], l))
			return (int)i;
	return -1;
}
