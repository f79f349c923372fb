/*
 * proxy/check.c - the checks of check.h: what a start would refuse
 * beyond the file (backend.address, hijack.state_file, control.socket,
 * the TLS files) and what it would warn about. Input: a configuration
 * cfg_load() accepted. Reads the file system and asks DNS (a backend
 * by name, through mxshield's own resolver); binds,
 * writes and connects nothing, so --check-config may run beside a
 * running mxshield. Messages name the key as written: "file:line: key:".
 */
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/hijack.h"
#include "core/net.h"
#include "proxy/check.h"
#include "proxy/dns.h"
#include "proxy/dnstool.h"
#include "proxy/hijack.h"
#include "proxy/privdrop.h"
#include "proxy/probs.h"
#include "proxy/server.h"
#include "proxy/sysres.h"

static int
sa_to_addr(const struct sockaddr *sa, struct net_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		a->family = AF_INET;
		memcpy(a->addr, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		a->family = AF_INET6;
		memcpy(a->addr, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 16);
		return 0;
	}
	return -1;
}

/* a into *sa on port. */
static void
addr_to_sa(const struct net_addr *a, int port, struct sockaddr_storage *sa,
    socklen_t *salen)
{
	memset(sa, 0, sizeof(*sa));
	if (a->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)(void *)sa;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		memcpy(&in->sin_addr, a->addr, 4);
		*salen = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)sa;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		memcpy(&in6->sin6_addr, a->addr, 16);
		*salen = sizeof(*in6);
	}
}

/*
 * A host name through mxshield's resolver (dns.servers, else
 * resolv.conf): A, else AAAA, as the workers will ask it. 0, or -1
 * with what went wrong in why.
 */
static int
resolve_name(const struct config *cfg, const char *name, struct net_addr *a,
    char *why, size_t cap)
{
	struct dns_answer	*ans = malloc(sizeof(*ans));
	char			 w[128];
	int			 rc = -1;

	if (ans == NULL) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (dns_resolve_sync(cfg, name, i == 0 ? DNS_T_A : DNS_T_AAAA,
		    ans, w, sizeof(w)) < 0) {
			snprintf(why, cap, "%s", w);
			break;
		}
		if (ans->status == DNS_OK) {
			memset(a, 0, sizeof(*a));
			a->family = i == 0 ? AF_INET : AF_INET6;
			memcpy(a->addr, ans->rr[0].addr, i == 0 ? 4 : 16);
			rc = 0;
			break;
		}
		if (ans->status == DNS_TEMPFAIL)
			snprintf(why, cap, "TEMPFAIL (%s)", w);
		else if (ans->status == DNS_NXDOMAIN)
			snprintf(why, cap, "NXDOMAIN");
		else
			snprintf(why, cap, "no A or AAAA record");
		if (ans->status != DNS_NODATA)
			break;	/* only a name without A may have AAAA */
	}
	free(ans);
	return rc;
}

/* See check.h. */
int
chk_backend(const struct config *cfg, struct sockaddr_storage *sa,
    socklen_t *salen, int *by_dns, char *err, size_t cap)
{
	const char	*name = cfg->backend.address;
	struct net_addr	 a;
	char		 where[PATH_MAX + 32], ip[64], why[300];
	int		 own, dns = 0;

	/* an address; else the hosts file (fixed, as the system's
	 * resolver would take it); else DNS, followed by TTL later */
	if (net_addr_parse(name, strlen(name), &a) != 0 &&
	    dns_hosts(name, &a) != 0) {
		if (resolve_name(cfg, name, &a, why, sizeof(why)) < 0) {
			cfg_where(cfg, "backend.address", where, sizeof(where));
			snprintf(err, cap, "%s: backend.address: \"%s\" does not "
			    "resolve: %s", where, name, why);
			return -1;
		}
		dns = 1;
	}
	if (by_dns != NULL)
		*by_dns = dns;
	addr_to_sa(&a, cfg->backend.port, sa, salen);
	if ((own = cfg_own_listener(cfg, &a, cfg->backend.port)) >= 0) {
		net_addr_format(&a, ip, sizeof(ip));
		cfg_where(cfg, "backend.address", where, sizeof(where));
		snprintf(err, cap, "%s: backend: %s (%s) port %d is mxshield's "
		    "own listen[%d] (%s port %d)", where, cfg->backend.address,
		    ip, cfg->backend.port, own, cfg->listen[own].address,
		    cfg->listen[own].port);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ warnings */

/*
 * Where a backend may well trust mxshield's address: loopback (Postfix's
 * default mynetworks holds 127.0.0.0/8) and private networks (RFC 1918,
 * RFC 4193), where mynetworks_style = subnet and the like reach.
 */
static const struct {
	const char	*net;
	const char	*kind;
} trusting[] = {
	{ "127.0.0.0/8",	"a loopback" },
	{ "::1/128",		"a loopback" },
	{ "10.0.0.0/8",		"a private" },
	{ "172.16.0.0/12",	"a private" },
	{ "192.168.0.0/16",	"a private" },
	{ "fc00::/7",		"a private" },
};

static void
warn_relay(const struct config *cfg, const struct net_addr *a,
    chk_warn_fn *warn, void *arg)
{
	const char	*kind = NULL;
	char		 where[PATH_MAX + 32], ip[64], shown[320];
	char		 msg[PATH_MAX + 1536];
	struct net	 n;
	int		 given;

	if (cfg->backend.client_info != CFG_CI_RECEIVED)
		return;
	for (size_t i = 0; i < sizeof(trusting) / sizeof(trusting[0]); i++)
		if (net_parse(trusting[i].net, strlen(trusting[i].net), &n) ==
		    0 && net_match(&n, a)) {
			kind = trusting[i].kind;
			break;
		}
	if (kind == NULL)
		return;
	net_addr_format(a, ip, sizeof(ip));
	if (strcmp(ip, cfg->backend.address) == 0)
		snprintf(shown, sizeof(shown), "%s", ip);
	else
		snprintf(shown, sizeof(shown), "%s (%s)", cfg->backend.address,
		    ip);
	given = cfg_where(cfg, "backend.client_info", where, sizeof(where));
	if (!given)
		cfg_where(cfg, "backend.address", where, sizeof(where));
	snprintf(msg, sizeof(msg), "%s: backend.client_info: \"received\"%s "
	    "with the backend at %s, %s address: the backend sees every "
	    "client as mxshield's own address, and if it trusts that address "
	    "(Postfix: permit_mynetworks, with mxshield's address in "
	    "mynetworks, as 127.0.0.1 is by default) %s "
	    "Set backend.client_info = \"xclient\" or \"proxy\" so that the "
	    "backend sees the real client, or keep mxshield's address out "
	    "of the backend's trusted networks; see README.md, \"Put "
	    "mxshield in front of Postfix or Exim\"", where,
	    given ? "" : " (the default)", shown, kind,
	    cfg->relay_protection ? "its own client checks (RBLs, "
	    "postscreen, mynetworks) judge mxshield instead of the client; "
	    "relay_protection keeps it from relaying for the world." :
	    "it relays mail from anyone to anywhere (relay_protection is "
	    "off).");
	warn(arg, msg);
}

/* See check.h. */
void
chk_warnings(const struct config *cfg, const struct sockaddr *sa,
    chk_warn_fn *warn, void *arg)
{
	struct net_addr	 a;
	char		 where[PATH_MAX + 32], msg[PATH_MAX + 1536];

	if (sa != NULL && sa_to_addr(sa, &a) == 0)
		warn_relay(cfg, &a, warn, arg);
	if (cfg->backend.tls != CFG_TLS_NONE && cfg->backend.tls_verify &&
	    cfg->backend.tls_server_name == NULL &&
	    net_addr_parse(cfg->backend.address,
	    strlen(cfg->backend.address), &a) == 0) {
		cfg_where(cfg, "backend.address", where, sizeof(where));
		snprintf(msg, sizeof(msg), "%s: backend.address %s is an IP "
		    "address and backend.tls_server_name is unset: the "
		    "backend's certificate chain is verified, its name is not "
		    "(set tls_server_name)", where, cfg->backend.address);
		warn(arg, msg);
	}
}

/* ------------------------------------------------------------ files */

/*
 * dir must exist and take new files from us: mxshield creates the
 * control socket there, or FILE.tmp to rename over the state file.
 */
static int
check_dir(const struct config *cfg, struct probs *p, const char *key,
    const char *file, const char *why)
{
	char		 where[PATH_MAX + 32], dir[PATH_MAX];
	const char	*slash = strrchr(file, '/');
	struct stat	 st;

	cfg_where(cfg, key, where, sizeof(where));
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (stat(dir, &st) < 0)
		prob(p, "%s: %s: directory %s: %s", where, key, dir,
		    strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		prob(p, "%s: %s: %s is not a directory", where, key, dir);
	else if (access(dir, W_OK | X_OK) < 0)
		prob(p, "%s: %s: directory %s is not writable by uid %ld (%s): "
		    "%s", where, key, dir, (long)geteuid(), why,
		    strerror(errno));
	else
		return 0;
	return -1;
}

/*
 * The state file as the start reads it (hijack_state_each(), as
 * proxy/hijack_state.c does), into no table: same messages, no side
 * effects.
 */
static void
check_state_file(const struct config *cfg, struct probs *p)
{
	const char	*path = cfg->hijack.state_file;
	char		 where[PATH_MAX + 32], err[PATH_MAX + 256];
	struct stat	 st;

	if (check_dir(cfg, p, "hijack.state_file", path, "mxshield writes "
	    "the file next to it and renames it into place") < 0)
		return;
	cfg_where(cfg, "hijack.state_file", where, sizeof(where));
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			prob(p, "%s: hijack.state_file: %s: %s", where, path,
			    strerror(errno));
		return;		/* none yet: an empty table */
	}
	if (!S_ISREG(st.st_mode)) {
		prob(p, "%s: hijack.state_file: %s is %s", where, path,
		    S_ISDIR(st.st_mode) ? "a directory" :
		    "not a regular file");
		return;
	}
	switch (hijack_state_each(path, NULL, NULL, err, sizeof(err))) {
	case HJS_EOPEN:
		prob(p, "%s: hijack.state_file: %s: %s", where, path,
		    strerror(errno));
		break;
	case HJS_ERROR:
		prob(p, "%s", err);
		break;
	default:
		break;
	}
}

static void
check_control_socket(const struct config *cfg, struct probs *p)
{
	const char		*path = cfg->control.socket;
	char			 where[PATH_MAX + 32];
	struct sockaddr_un	 sa;
	struct stat		 st;

	cfg_where(cfg, "control.socket", where, sizeof(where));
	if (strlen(path) >= sizeof(sa.sun_path)) {
		prob(p, "%s: control.socket: longer than %zu octets", where,
		    sizeof(sa.sun_path) - 1);
		return;
	}
	if (check_dir(cfg, p, "control.socket", path, "mxshield creates "
	    "the socket there") < 0)
		return;
	/* a socket there is fine: a running mxshield's, or a stale one
	 * the start removes */
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		prob(p, "%s: control.socket: %s exists and is not a socket; "
		    "mxshield will not remove it", where, path);
}

/* See check.h. */
int
chk_all(const struct config *cfg, chk_warn_fn *warn, void *arg, char *err,
    size_t cap)
{
	struct sockaddr_storage	 sa;
	socklen_t		 salen;
	struct probs		 p = { err, cap, 0, 0 };
	struct priv_id		 id;
	char			 one[4096];
	int			 resolved;

	if (cap > 0)
		err[0] = '\0';
	resolved = chk_backend(cfg, &sa, &salen, NULL, one, sizeof(one)) == 0;
	if (!resolved)
		prob(&p, "%s", one);
	if (srv_check_tls(cfg, one, sizeof(one)) < 0)
		prob(&p, "%s", one);
	if (cfg->hijack.enabled && cfg->hijack.state_file != NULL)
		check_state_file(cfg, &p);
	if (cfg->control.socket != NULL)
		check_control_socket(cfg, &p);
	/* the user to become, and what it must write once it is that */
	if (priv_resolve(cfg, &id, one, sizeof(one)) < 0)
		prob(&p, "%s", one);
	else if (priv_check_files(cfg, &id, one, sizeof(one)) < 0)
		prob(&p, "%s", one);
	if (warn != NULL) {
		chk_warnings(cfg, resolved ? (struct sockaddr *)&sa : NULL,
		    warn, arg);
		/* a start raises the soft limit to the hard one */
		sysres_warn_nofile(cfg, -1, warn, arg);
	}
	return p.n > 0 ? -1 : 0;
}
