/*
 * proxy/config.c - load the libconfig file into a validated, immutable
 * struct config (DESIGN.md "Contracts"). Input: an administrator's file,
 * trusted to be meant but not to be right: every key is known and
 * type-checked, values are range-checked, unknown keys are errors, and
 * every problem is reported at once as "file:line: key.path: what".
 * One table per group (keys[] below) gives each key's type, field,
 * limits and default; the loader, the defaults and cfg_free() all walk
 * those tables, so a key exists in exactly one place. Values that would
 * switch on a feature not built yet are refused by not_yet[] below.
 * Checks across keys (cross_checks()) run once every key passed its own.
 * Where each key was written is kept (cfg_where()), for the checks a
 * start makes later (proxy/check.c) to name file:line too.
 */
#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <libconfig.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/net.h"
#include "proxy/config.h"
#include "proxy/sysres.h"

#define CFG_PATH_MAX	256	/* longest key path in a message */

enum kind {
	K_INT,		/* int field; libconfig int or 64-bit int in range */
	K_INT64,	/* int64_t field */
	K_BOOL,		/* int field, 0 or 1 */
	K_STR,		/* char *, checked by .check */
	K_ENUM,		/* enum field, the index of the name in .names */
	K_NETS,		/* struct cfg_netlist from a list of strings */
	K_STRS,		/* struct cfg_strlist, each checked by .check */
	K_NETSTRS,	/* cfg_strlist at .off and its parse, cfg_netlist at .aux */
	K_GROUP,	/* members in .sub, fields in the same struct */
	K_LIST,		/* list of groups: array at .off, count at .aux */
	K_WEIGHTS	/* group of name = int: cfg_weight array, count at .aux */
};

enum check {
	CK_NONE,
	CK_HOSTNAME,	/* a host name: letters, digits, hyphens, dots */
	CK_DOMAIN,	/* a mail domain, stored lower case */
	CK_SHIELD,	/* CK_DOMAIN or "$LOCALDOMAIN$" */
	CK_IPADDR,	/* an IP address */
	CK_BACKEND,	/* an IP address, or a host name (see not_yet[]) */
	CK_MAILBOX,	/* "local@domain" or "@domain"; domain lower case */
	CK_IDENTITY,	/* an AUTH identity: printable, may hold spaces */
	CK_NAMESERVER,	/* "ip", "ipv4:port", "[ipv6]:port" */
	CK_DNSZONE,	/* a DNS zone (dnsbl.zones): a host name with a
			   dot, stored lower case */
	CK_DNSBLCODE,	/* an IPv4 address in 127.0.0.0/8 */
	CK_PATH,	/* a file name: not empty */
	CK_PREFIX,	/* text for a header field: printable ASCII, spaces */
	CK_KEYPREFIX,	/* the start of Redis key names: printable ASCII,
			   no space */
	CK_ACCOUNT	/* a user or group name, or a number */
};

#define F_REQUIRED	0x1	/* no default: the key must be given */
#define F_EMPTY_UNSET	0x2	/* K_STR: "" means unset (NULL) */

struct key {
	const char		*name;
	enum kind		 kind;
	size_t			 off;
	unsigned		 flags;
	long long		 min, max, def;	/* K_INT, K_INT64, K_BOOL, K_ENUM */
	const char		*sdef;		/* K_STR default, or NULL */
	const char *const	*names;		/* K_ENUM, in enum order */
	enum check		 check;
	const struct key	*sub;		/* K_GROUP, K_LIST */
	size_t			 aux;		/* see enum kind */
	size_t			 esize;		/* K_LIST element size */
	size_t			 lineoff;	/* K_LIST element's int line */
};

#define KINT(T, n, f, lo, hi, d) { .name = n, .kind = K_INT, \
	.off = offsetof(T, f), .min = lo, .max = hi, .def = d }
#define KI64(T, n, f, lo, hi, d, fl) { .name = n, .kind = K_INT64, \
	.off = offsetof(T, f), .min = lo, .max = hi, .def = d, .flags = fl }
#define KBOOL(T, n, f, d) { .name = n, .kind = K_BOOL, \
	.off = offsetof(T, f), .def = d }
#define KSTR(T, n, f, d, ck, fl) { .name = n, .kind = K_STR, \
	.off = offsetof(T, f), .sdef = d, .check = ck, .flags = fl }
#define KENUM(T, n, f, nm, d) { .name = n, .kind = K_ENUM, \
	.off = offsetof(T, f), .names = nm, .def = d }
#define KNETS(T, n, f) { .name = n, .kind = K_NETS, .off = offsetof(T, f) }
#define KSTRS(T, n, f, ck, fl) { .name = n, .kind = K_STRS, \
	.off = offsetof(T, f), .check = ck, .flags = fl }
#define KNETSTRS(T, n, f, f2, fl) { .name = n, .kind = K_NETSTRS, \
	.off = offsetof(T, f), .aux = offsetof(T, f2), .flags = fl }
#define KGROUP(n, tab) { .name = n, .kind = K_GROUP, .sub = tab }
#define KLIST(T, n, f, nf, ET, tab) { .name = n, .kind = K_LIST, \
	.off = offsetof(T, f), .aux = offsetof(T, nf), .esize = sizeof(ET), \
	.sub = tab, .lineoff = offsetof(ET, line) }
#define KWEIGHTS(T, n, f, nf) { .name = n, .kind = K_WEIGHTS, \
	.off = offsetof(T, f), .aux = offsetof(T, nf) }
#define KEND { .name = NULL }

static const char *const tls_names[] = { "none", "starttls", "implicit",
	NULL };
static const char *const ci_names[] = { "none", "received", "xclient",
	"proxy", NULL };
static const char *const bare_names[] = { "reject", "normalize", NULL };
static const char *const at_names[] = { "helo", "mail", "rcpt", NULL };
static const char *const action_names[] = { "append", "header", "subject",
	"reject", NULL };
static const char *const format_names[] = { "json", "text", NULL };
static const char *const level_names[] = { "error", "warn", "info",
	"debug", NULL };
static const char *const mode_names[] = { "enforce", "monitor", NULL };
static const char *const hj_count_names[] = { "messages", "recipients",
	NULL };
static const char *const hj_store_names[] = { "file", "redis", NULL };
static const char *const hj_fail_names[] = { "allow", "tempfail", NULL };
static const char *const softfail_names[] = { "accept", "tempfail", "reject",
	NULL };
static const char *const dns_error_names[] = { "tempfail", "accept", NULL };

/*
 * The schema. Defaults are the ones deploy/mxshield.conf shows; every
 * policy is off. hostname (gethostname()), workers (CPUs), listen
 * (0.0.0.0:25), relay_protection (on with local_domains) and each
 * control's mode (the top-level mode) get their defaults in
 * dynamic_defaults().
 */
#define C struct config
#define L struct cfg_listen
static const struct key listen_keys[] = {
	KSTR(L, "address", address, "0.0.0.0", CK_IPADDR, 0),
	KINT(L, "port", port, 1, 65535, 25),
	KENUM(L, "tls", tls, tls_names, CFG_TLS_NONE),
	KBOOL(L, "proxy_protocol", proxy_protocol, 0),
	KBOOL(L, "submission", submission, 0),
	KEND
};
#undef L

static const struct key backend_keys[] = {
	KSTR(C, "address", backend.address, "127.0.0.1", CK_BACKEND, 0),
	KINT(C, "port", backend.port, 1, 65535, 2525),
	KENUM(C, "tls", backend.tls, tls_names, CFG_TLS_NONE),
	KENUM(C, "client_info", backend.client_info, ci_names, CFG_CI_RECEIVED),
	KINT(C, "connect_timeout", backend.connect_timeout, 1, 3600, 10),
	KINT(C, "reply_timeout", backend.reply_timeout, 1, 86400, 300),
	KINT(C, "data_reply_timeout", backend.data_reply_timeout, 1, 86400,
	    600),
	KINT(C, "proxy_protocol_version", backend.proxy_protocol_version, 1, 2,
	    1),
	KBOOL(C, "tls_verify", backend.tls_verify, 1),
	KSTR(C, "tls_ca_file", backend.tls_ca_file, NULL, CK_PATH, 0),
	KSTR(C, "tls_server_name", backend.tls_server_name, NULL, CK_HOSTNAME,
	    0),
	KEND
};

static const struct key tls_keys[] = {
	KSTR(C, "cert_file", tls.cert_file, NULL, CK_PATH, 0),
	KSTR(C, "key_file", tls.key_file, NULL, CK_PATH, 0),
	KINT(C, "handshake_timeout", tls.handshake_timeout, 1, 3600, 10),
	KEND
};

static const struct key limits_keys[] = {
	KINT(C, "max_connections", limits.max_connections, 1, 1000000, 10000),
	KINT(C, "max_per_ip", limits.max_per_ip, 1, 1000000, 50),
	KINT(C, "command_timeout", limits.command_timeout, 1, 86400, 300),
	KINT(C, "data_timeout", limits.data_timeout, 1, 86400, 600),
	KINT(C, "proxy_timeout", limits.proxy_timeout, 1, 3600, 10),
	/* RFC 5321 4.5.3.1.4: 512 octets at least */
	KINT(C, "max_command_line", limits.max_command_line, 512, 65536, 2048),
	/* RFC 4954 4: 12288 octets at least, for a server's buffer */
	KINT(C, "max_auth_line", limits.max_auth_line, 12288, 1048576, 12288),
	KINT(C, "max_header_bytes", limits.max_header_bytes, 1024, 67108864,
	    262144),
	KI64(C, "max_held_bytes", limits.max_held_bytes, 1024,
	    1099511627776LL, 268435456, 0),
	KINT(C, "max_errors", limits.max_errors, 1, 100000, 20),
	KINT(C, "max_junk_commands", limits.max_junk_commands, 1, 100000, 100),
	/* RFC 5321 4.5.3.1.8: 100 recipients at least */
	KINT(C, "max_recipients", limits.max_recipients, 100, 1000000, 1000),
	KENUM(C, "bare_lf", limits.bare_lf, bare_names, CFG_BARE_REJECT),
	/* as Postfix 3.9's smtpd_forbid_unauth_pipelining */
	KBOOL(C, "forbid_unauth_pipelining", limits.forbid_unauth_pipelining,
	    1),
	KEND
};

static const struct key helo_keys[] = {
	KBOOL(C, "reject_bare_ip", helo.reject_bare_ip, 0),
	KBOOL(C, "literal_must_match", helo.literal_must_match, 0),
	KBOOL(C, "reject_own_identity", helo.reject_own_identity, 0),
	KBOOL(C, "require_fqdn", helo.require_fqdn, 0),
	KBOOL(C, "require_resolvable", helo.require_resolvable, 0),
	KBOOL(C, "must_match_client", helo.must_match_client, 0),
	KENUM(C, "reject_at", helo.reject_at, at_names, CFG_AT_RCPT),
	KENUM(C, "mode", helo.mode, mode_names, CFG_MODE_ENFORCE),
	KEND
};

static const struct key client_keys[] = {
	KBOOL(C, "require_rdns", client.require_rdns, 0),
	KBOOL(C, "require_fcrdns", client.require_fcrdns, 0),
	KENUM(C, "mode", client.mode, mode_names, CFG_MODE_ENFORCE),
	KEND
};

#define Z struct cfg_dnsbl_zone
static const struct key dnsbl_zone_keys[] = {
	KSTR(Z, "zone", zone, NULL, CK_DNSZONE, F_REQUIRED),
	KINT(Z, "weight", weight, -100, 100, 1),
	KSTRS(Z, "codes", codes, CK_DNSBLCODE, 0),
	KEND
};
#undef Z

static const struct key dnsbl_keys[] = {
	KLIST(C, "zones", dnsbl.zones, dnsbl.nzones, struct cfg_dnsbl_zone,
	    dnsbl_zone_keys),
	KINT(C, "threshold", dnsbl.threshold, 1, 10000, 1),
	KENUM(C, "mode", dnsbl.mode, mode_names, CFG_MODE_ENFORCE),
	KEND
};

#define E struct cfg_ipshield_entry
static const struct key shield_entry_keys[] = {
	KSTR(E, "domain", domain, NULL, CK_SHIELD, F_REQUIRED),
	KNETSTRS(E, "networks", networks, nets, F_REQUIRED),
	KEND
};
#undef E

static const struct key ip_shield_keys[] = {
	KBOOL(C, "enabled", ip_shield.enabled, 0),
	KBOOL(C, "check_from_header", ip_shield.check_from_header, 0),
	KLIST(C, "entries", ip_shield.entries, ip_shield.nentries,
	    struct cfg_ipshield_entry, shield_entry_keys),
	KENUM(C, "mode", ip_shield.mode, mode_names, CFG_MODE_ENFORCE),
	KEND
};

#define A struct cfg_alias
static const struct key alias_keys[] = {
	KSTR(A, "identity", identity, NULL, CK_IDENTITY, F_REQUIRED),
	KSTRS(A, "addresses", addresses, CK_MAILBOX, F_REQUIRED),
	KEND
};
#undef A

static const struct key auth_keys[] = {
	KBOOL(C, "require_for_local_senders", auth.require_for_local_senders,
	    0),
	KBOOL(C, "except_to_local", auth.except_to_local, 0),
	KBOOL(C, "match_envelope", auth.match_envelope, 0),
	KBOOL(C, "match_from_header", auth.match_from_header, 0),
	KBOOL(C, "require_tls", auth.require_tls, 0),
	KBOOL(C, "add_header", auth.add_header, 0),
	KLIST(C, "aliases", auth.aliases, auth.naliases, struct cfg_alias,
	    alias_keys),
	KENUM(C, "mode", auth.mode, mode_names, CFG_MODE_ENFORCE),
	KEND
};

/* hijack.store = "redis" (proxy/hjredis.c) */
static const struct key hijack_redis_keys[] = {
	KSTR(C, "address", hijack.redis.address, "127.0.0.1", CK_IPADDR, 0),
	KINT(C, "port", hijack.redis.port, 1, 65535, 6379),
	KSTR(C, "password_file", hijack.redis.password_file, NULL, CK_PATH,
	    F_EMPTY_UNSET),
	KSTR(C, "prefix", hijack.redis.prefix, "mxshield:", CK_KEYPREFIX, 0),
	KINT(C, "db", hijack.redis.db, 0, 65535, 0),
	KINT(C, "timeout_ms", hijack.redis.timeout_ms, 10, 60000, 500),
	KEND
};

static const struct key hijack_keys[] = {
	KBOOL(C, "enabled", hijack.enabled, 0),
	KINT(C, "max_messages", hijack.max_messages, 1, 10000000, 200),
	KINT(C, "window", hijack.window, 1, 604800, 3600),
	KSTR(C, "state_file", hijack.state_file, NULL, CK_PATH, 0),
	KENUM(C, "mode", hijack.mode, mode_names, CFG_MODE_ENFORCE),
	KENUM(C, "count", hijack.count, hj_count_names, CFG_HJ_MESSAGES),
	KSTRS(C, "exempt", hijack.exempt, CK_IDENTITY, 0),
	KENUM(C, "store", hijack.store, hj_store_names, CFG_HJ_FILE),
	KENUM(C, "on_store_failure", hijack.on_store_failure, hj_fail_names,
	    CFG_HJ_FAIL_ALLOW),
	KGROUP("redis", hijack_redis_keys),
	KEND
};

#define S struct cfg_size_limit
static const struct key size_limit_keys[] = {
	KI64(S, "max", max, 1, INT64_MAX, 0, F_REQUIRED),
	KSTRS(S, "except", except, CK_MAILBOX, 0),
	KEND
};
#undef S

static const struct key spoof_keys[] = {
	KBOOL(C, "enabled", spoof.enabled, 0),
	KINT(C, "threshold", spoof.threshold, 1, 1000000, 10),
	KENUM(C, "action", spoof.action, action_names, CFG_SPOOF_APPEND),
	KSTR(C, "warning_file", spoof.warning_file, NULL, CK_PATH,
	    F_EMPTY_UNSET),
	KWEIGHTS(C, "weights", spoof.weights, spoof.nweights),
	KENUM(C, "mode", spoof.mode, mode_names, CFG_MODE_ENFORCE),
	KSTR(C, "subject_prefix", spoof.subject_prefix, "[Possible spoof] ",
	    CK_PREFIX, 0),
	KEND
};

static const struct key spf_keys[] = {
	KBOOL(C, "enabled", spf.enabled, 0),
	KBOOL(C, "helo_check", spf.helo_check, 0),
	KBOOL(C, "reject_fail", spf.reject_fail, 0),
	KENUM(C, "softfail", spf.softfail, softfail_names, CFG_SPF_SOFT_ACCEPT),
	/* RFC 7208 4.6.4: at least 20 s for the lookups of one check */
	KINT(C, "timeout", spf.timeout, 1, 300, 20),
	KENUM(C, "mode", spf.mode, mode_names, CFG_MODE_ENFORCE),
	KEND
};

static const struct key log_keys[] = {
	KENUM(C, "format", log.format, format_names, CFG_LOG_JSON),
	KENUM(C, "level", log.level, level_names, CFG_LOG_INFO),
	KBOOL(C, "transcript", log.transcript, 0),
	KEND
};

static const struct key dns_keys[] = {
	KSTRS(C, "servers", dns.servers, CK_NAMESERVER, 0),
	KINT(C, "timeout", dns.timeout, 1, 300, 5),
	KINT(C, "attempts", dns.attempts, 1, 10, 2),
	KINT(C, "cache_entries", dns.cache_entries, 1, 10000000, 10000),
	KEND
};

static const struct key control_keys[] = {
	KSTR(C, "socket", control.socket, NULL, CK_PATH, 0),
	KEND
};

static const struct key metrics_keys[] = {
	KSTR(C, "address", metrics.address, "127.0.0.1", CK_IPADDR, 0),
	KINT(C, "port", metrics.port, 1, 65535, 9125),
	KINT(C, "health_backend_window", metrics.health_backend_window, 1,
	    86400, 60),
	KEND
};

static const struct key top_keys[] = {
	KSTR(C, "hostname", hostname, NULL, CK_HOSTNAME, 0),
	KINT(C, "workers", workers, 1, 64, 0),
	KINT(C, "shutdown_timeout", shutdown_timeout, 0, 86400, 30),
	KINT(C, "drain_delay", drain_delay, 0, 3600, 0),
	KSTR(C, "user", user, NULL, CK_ACCOUNT, 0),
	KSTR(C, "group", group, NULL, CK_ACCOUNT, 0),
	KBOOL(C, "allow_root", allow_root, 0),
	KLIST(C, "listen", listen, nlisten, struct cfg_listen, listen_keys),
	KNETS(C, "trusted_proxies", trusted_proxies),
	KGROUP("backend", backend_keys),
	KGROUP("tls", tls_keys),
	KGROUP("limits", limits_keys),
	KSTRS(C, "local_domains", local_domains, CK_DOMAIN, 0),
	KNETS(C, "trusted_networks", trusted_networks),
	KNETS(C, "own_addresses", own_addresses),
	KBOOL(C, "relay_protection", relay_protection, 0),
	KENUM(C, "relay_protection_mode", relay_protection_mode, mode_names,
	    CFG_MODE_ENFORCE),
	KGROUP("helo", helo_keys),
	KGROUP("client", client_keys),
	KGROUP("dnsbl", dnsbl_keys),
	KGROUP("ip_shield", ip_shield_keys),
	KGROUP("auth", auth_keys),
	KGROUP("hijack", hijack_keys),
	KLIST(C, "size_limits", size_limits, nsize_limits,
	    struct cfg_size_limit, size_limit_keys),
	KENUM(C, "size_limits_mode", size_limits_mode, mode_names,
	    CFG_MODE_ENFORCE),
	KGROUP("spoof", spoof_keys),
	KGROUP("spf", spf_keys),
	KENUM(C, "on_dns_error", on_dns_error, dns_error_names,
	    CFG_DNSERR_TEMPFAIL),
	KGROUP("log", log_keys),
	KENUM(C, "mode", mode, mode_names, CFG_MODE_ENFORCE),
	KGROUP("control", control_keys),
	KGROUP("dns", dns_keys),
	KGROUP("metrics", metrics_keys),
	KEND
};
#undef C

/*
 * ---- NOT SUPPORTED YET ----------------------------------------------
 * Values that would switch on a feature mxshield does not have yet.
 * Each is refused with "file:line: key: not supported yet". Settings
 * that only tune a feature while it is off are accepted (and checked).
 * When a feature lands, delete its rows here and nothing else.
 */
enum ny_when {
	NY_NOT_IN,	/* value (a bool as "true"/"false") not in .allowed */
	NY_NONEMPTY,	/* a list with elements */
	NY_HOSTNAME	/* a host name where an IP address works today */
};

static const struct not_yet {
	const char	*path;		/* "[]" stands for any index */
	enum ny_when	 when;
	const char	*allowed;	/* NY_NOT_IN: "a|b" */
} not_yet[] = {
	{ NULL,					NY_NOT_IN, NULL }	/* the end */
};
/* ---- end of NOT SUPPORTED YET ---------------------------------------- */

/* An integer literal libconfig 1.5 silently cut to 32 bits. */
struct bigint {
	char		*file;
	unsigned	 line;
	int		 as_read;	/* what libconfig made of it */
	char		 text[32];
};

struct loader {
	const char	*path;
	struct config	*cfg;		/* being filled; its locs[] too */
	char		*dir;		/* where @include names are relative to */
	config_t	 cf;
	char		*errs;		/* "line\nline" */
	size_t		 errlen, errcap;
	int		 nerr;
	int		 oom;
	struct bigint	*big;
	size_t		 nbig;
};

static void ld_err(struct loader *, const config_setting_t *, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));

/*
 * The name to show for a file libconfig read: the main file as given,
 * an @include name (relative to the main file's directory) in full.
 */
static const char *
file_name(const struct loader *ld, const char *name, char *buf, size_t cap)
{
	if (name == NULL)
		return ld->path;
	if (strcmp(name, ld->path) == 0 || name[0] == '/' || ld->dir == NULL)
		return name;
	snprintf(buf, cap, "%s/%s", ld->dir, name);
	return buf;
}

/*
 * One problem: "file:line: key: what". s gives file and line (NULL:
 * the file alone); key may be NULL for problems of the whole file.
 */
static void
ld_err(struct loader *ld, const config_setting_t *s, const char *key,
    const char *fmt, ...)
{
	char		 msg[512], line[PATH_MAX + 1024], fbuf[PATH_MAX];
	const char	*file = ld->path;
	unsigned	 lno = 0;
	va_list		 ap;
	int		 n;

	if (s != NULL) {
		file = file_name(ld, config_setting_source_file(s), fbuf,
		    sizeof(fbuf));
		lno = config_setting_source_line(s);
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (lno > 0)
		n = snprintf(line, sizeof(line), "%s:%u: ", file, lno);
	else
		n = snprintf(line, sizeof(line), "%s: ", file);
	if (key != NULL && key[0] != '\0')
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s: ", key);
	snprintf(line + n, sizeof(line) - (size_t)n, "%s", msg);

	size_t len = strlen(line), need = ld->errlen + len + 2;
	if (need > ld->errcap) {
		size_t cap = ld->errcap ? ld->errcap * 2 : 1024;
		char *p;

		while (cap < need)
			cap *= 2;
		if ((p = realloc(ld->errs, cap)) == NULL) {
			ld->oom = 1;
			ld->nerr++;
			return;
		}
		ld->errs = p;
		ld->errcap = cap;
	}
	if (ld->errlen > 0)
		ld->errs[ld->errlen++] = '\n';
	memcpy(ld->errs + ld->errlen, line, len + 1);
	ld->errlen += len;
	ld->nerr++;
}

static char *
ld_strdup(struct loader *ld, const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		ld->oom = 1;
	return p;
}

static void *
ld_calloc(struct loader *ld, size_t n, size_t size)
{
	void *p = calloc(n > 0 ? n : 1, size);

	if (p == NULL)
		ld->oom = 1;
	return p;
}

/* Remember where key path was written, for cfg_where(). */
static void
ld_loc(struct loader *ld, const config_setting_t *s, const char *path)
{
	struct config	*cfg = ld->cfg;
	struct cfg_loc	*l;
	char		 fbuf[PATH_MAX];

	if ((l = realloc(cfg->locs, (cfg->nlocs + 1) * sizeof(*l))) == NULL) {
		ld->oom = 1;
		return;
	}
	cfg->locs = l;
	l += cfg->nlocs;
	l->path = strdup(path);
	l->file = strdup(file_name(ld, config_setting_source_file(s), fbuf,
	    sizeof(fbuf)));
	l->line = (int)config_setting_source_line(s);
	if (l->path == NULL || l->file == NULL) {
		free(l->path);
		free(l->file);
		ld->oom = 1;
		return;
	}
	cfg->nlocs++;
}

/*
 * libconfig 1.5 reads an integer literal beyond 32 bits without an "L"
 * suffix as its low 32 bits: "max = 5000000000;" becomes 705032704, no
 * error. Find such literals in the file (skipping strings and comments)
 * so that the walk can refuse them.
 */
static void
scan_bigints(struct loader *ld, const char *file)
{
	char		 fbuf[PATH_MAX];
	FILE		*f = fopen(file_name(ld, file, fbuf, sizeof(fbuf)), "r");
	char		*buf = NULL;
	size_t		 len = 0, cap = 0, n;
	unsigned	 line = 1;

	if (f == NULL)
		return;
	do {
		if (len + 4096 + 1 > cap) {
			char *p = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (p == NULL) {
				ld->oom = 1;
				break;
			}
			buf = p;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
	} while (n > 0);
	fclose(f);
	if (buf == NULL || ld->oom) {
		free(buf);
		return;
	}
	buf[len] = '\0';

	for (const char *p = buf; *p != '\0'; ) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/');
			    p++)
				line += *p == '\n';
			p += *p != '\0' ? 2 : 0;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				line += *p == '\n';
			}
			p += *p != '\0';
		} else if (isalpha((unsigned char)*p) || *p == '_' || *p == '*') {
			while (isalnum((unsigned char)*p) || *p == '_' ||
			    *p == '-' || *p == '*')
				p++;
		} else if (isdigit((unsigned char)*p) || ((*p == '-' ||
		    *p == '+') && isdigit((unsigned char)p[1]))) {
			const char *q = p;
			int hex = 0, flt = 0;

			if (*q == '-' || *q == '+')
				q++;
			if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X')) {
				hex = 1;
				q += 2;
			}
			while (isxdigit((unsigned char)*q) || *q == '.' ||
			    ((*q == '-' || *q == '+') && !hex &&
			    (q[-1] == 'e' || q[-1] == 'E'))) {
				if (!hex && (*q == '.' || *q == 'e' || *q == 'E'))
					flt = 1;
				q++;
			}
			if (!flt && *q != 'L' && ld->nbig < 1000) {
				long long v;

				errno = 0;
				if (hex)
					v = (long long)strtoull(p, NULL, 16);
				else
					v = strtoll(p, NULL, 10);
				if (errno == ERANGE || (hex ?
				    (unsigned long long)v > INT_MAX :
				    v > INT_MAX || v < INT_MIN)) {
					struct bigint *b = realloc(ld->big,
					    (ld->nbig + 1) * sizeof(*b));

					if (b == NULL) {
						ld->oom = 1;
						break;
					}
					ld->big = b;
					b += ld->nbig;
					b->file = strdup(file);
					b->line = line;
					b->as_read = (int)(uint32_t)
					    (unsigned long long)v;
					snprintf(b->text, sizeof(b->text), "%.*s",
					    (int)(q - p), p);
					if (b->file == NULL)
						ld->oom = 1;
					else
						ld->nbig++;
				}
			}
			p = q;
		} else
			p++;
	}
	free(buf);
}

/* The literal behind an int setting, if libconfig cut it; else NULL. */
static const char *
bigint_text(struct loader *ld, const config_setting_t *s)
{
	const char *file = config_setting_source_file(s);

	if (config_setting_type(s) != CONFIG_TYPE_INT || file == NULL)
		return NULL;
	for (size_t i = 0; i < ld->nbig; i++)
		if (ld->big[i].line == config_setting_source_line(s) &&
		    ld->big[i].as_read == config_setting_get_int(s) &&
		    strcmp(ld->big[i].file, file) == 0)
			return ld->big[i].text;
	return NULL;
}

static const char *
type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:	return "a group { }";
	case CONFIG_TYPE_INT:	return "an integer";
	case CONFIG_TYPE_INT64:	return "a 64-bit integer";
	case CONFIG_TYPE_FLOAT:	return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL:	return "a boolean";
	case CONFIG_TYPE_ARRAY:	return "an array [ ]";
	case CONFIG_TYPE_LIST:	return "a list ( )";
	default:		return "nothing";
	}
}

static void
wrong_type(struct loader *ld, const config_setting_t *s, const char *path,
    const char *want)
{
	ld_err(ld, s, path, "expected %s, got %s", want, type_name(s));
}

/* One label rule for host names and domains (RFC 1123 2.1). */
static int
is_hostname(const char *s)
{
	size_t	len = strlen(s), lab = 0;
	int	alldigit = 1;

	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return 0;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-' ||
			    s[i - lab] == '-')
				return 0;
			if (c == '\0' && alldigit)
				return 0;	/* "10.0.0.1" is no name */
			lab = 0;
			alldigit = 1;
			continue;
		}
		if (!isalnum((unsigned char)c) && c != '-')
			return 0;
		if (!isdigit((unsigned char)c))
			alldigit = 0;
		lab++;
	}
	return 1;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* dns.servers: "192.0.2.1", "192.0.2.1:5353", "2001:db8::1",
 * "[2001:db8::1]:5353"; port 1-65535. NULL when good. */
static const char *
check_nameserver(const char *v)
{
	const char	*bad = "not an IP address, \"ip:port\" or "
			    "\"[ipv6]:port\"";
	const char	*colon, *end = v + strlen(v), *port = NULL;
	struct net_addr	 a;

	if (v[0] == '[') {
		const char *rb = strchr(v, ']');

		if (rb == NULL || net_addr_parse(v + 1, (size_t)(rb - v - 1),
		    &a) != 0 || a.family != AF_INET6)
			return bad;
		if (rb[1] != '\0' && rb[1] != ':')
			return bad;
		port = rb[1] == ':' ? rb + 2 : NULL;
	} else if ((colon = strchr(v, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		if (net_addr_parse(v, (size_t)(colon - v), &a) != 0 ||
		    a.family != AF_INET)
			return bad;
		port = colon + 1;
	} else if (net_addr_parse(v, (size_t)(end - v), &a) != 0)
		return bad;
	if (port != NULL) {
		long n = 0;

		if (*port == '\0' || end - port > 5)
			return "port must be 1 to 65535";
		for (const char *p = port; *p != '\0'; p++) {
			if (!isdigit((unsigned char)*p))
				return "port must be 1 to 65535";
			n = n * 10 + (*p - '0');
		}
		if (n < 1 || n > 65535)
			return "port must be 1 to 65535";
	}
	return NULL;
}

/*
 * Check (and normalise, in place) one string value; NULL when good,
 * else what is wrong.
 */
static const char *
check_string(enum check ck, char *v)
{
	struct net_addr	a;
	char		*at;

	switch (ck) {
	case CK_NONE:
		return NULL;
	case CK_HOSTNAME:
		return is_hostname(v) ? NULL : "not a host name";
	case CK_SHIELD:
		if (strcmp(v, "$LOCALDOMAIN$") == 0)
			return NULL;
		/* "*.example.com": the subdomains of example.com */
		if (v[0] == '*' && v[1] == '.') {
			if (!is_hostname(v + 2) || strchr(v + 2, '.') == NULL)
				return "not a domain name (like example.com "
				    "or *.example.com)";
			lower(v);
			return NULL;
		}
		/* FALLTHROUGH */
	case CK_DOMAIN:
		if (!is_hostname(v) || strchr(v, '.') == NULL)
			return "not a domain name (like example.com)";
		lower(v);
		return NULL;
	case CK_IPADDR:
		return net_addr_parse(v, strlen(v), &a) == 0 ? NULL :
		    "not an IP address";
	case CK_BACKEND:
		if (net_addr_parse(v, strlen(v), &a) == 0 || is_hostname(v))
			return NULL;
		return "not an IP address or host name";
	case CK_MAILBOX:
		at = strrchr(v, '@');
		if (at == NULL)
			return "not an address (local@domain or @domain)";
		for (char *p = v; p < at; p++)
			if (*p <= ' ' || *p >= 0x7f || strchr("<>()[]\\,;:\"@",
			    *p) != NULL)
				return "not an address (local@domain or @domain)";
		if (at - v > 64)
			return "local part longer than 64 octets";
		if (!is_hostname(at + 1) || strchr(at + 1, '.') == NULL)
			return "not a domain name after the @";
		lower(at + 1);
		return NULL;
	case CK_NAMESERVER:
		return check_nameserver(v);
	case CK_DNSZONE:
		if (!is_hostname(v) || strchr(v, '.') == NULL)
			return "not a DNS zone name (like zen.example.org)";
		lower(v);
		return NULL;
	case CK_DNSBLCODE:
		if (net_addr_parse(v, strlen(v), &a) != 0 ||
		    a.family != AF_INET || a.addr[0] != 127)
			return "not an address in 127.0.0.0/8 (a DNSBL answer "
			    "code like 127.0.0.2)";
		return NULL;
	case CK_IDENTITY:
		if (v[0] == '\0' || strlen(v) > 255)
			return "must be 1 to 255 characters";
		for (char *p = v; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				return "holds a control character";
		return NULL;
	case CK_PATH:
		if (v[0] == '\0')
			return "must not be empty";
		if (strlen(v) >= PATH_MAX)
			return "too long";
		return NULL;
	case CK_ACCOUNT:
		/* what useradd(8) takes, and numeric ids */
		if (v[0] == '\0' || v[0] == '-' || strlen(v) > 32)
			return "must be a user or group name of 1 to 32 "
			    "characters, or a number";
		for (char *p = v; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' &&
			    *p != '-' && *p != '.')
				return "must be a user or group name (letters, "
				    "digits, _ - .) or a number";
		return NULL;
	case CK_PREFIX:
		if (v[0] == '\0' || strlen(v) > 100)
			return "must be 1 to 100 characters";
		for (char *p = v; *p != '\0'; p++)
			if (*p < 0x20 || *p > 0x7e)
				return "must be printable ASCII (a header field "
				    "holds it)";
		return NULL;
	case CK_KEYPREFIX:
		if (strlen(v) > 100)
			return "must be at most 100 characters";
		for (char *p = v; *p != '\0'; p++)
			if (*p <= 0x20 || *p > 0x7e ||
			    strchr("*?[]\\", *p) != NULL)
				return "must be printable ASCII without spaces "
				    "or the pattern characters * ? [ ] \\ "
				    "(--list-counters matches key names)";
		return NULL;
	}
	return NULL;
}

/*
 * A string value as written, or, when the whole value is "${NAME}", the
 * environment variable NAME (a container's -e, a unit's Environment=):
 * unset or empty is an error naming it. Any other "$" is kept as it is.
 * Returns a copy the caller owns, or NULL (an error is recorded, or
 * memory is short).
 */
static char *
env_value(struct loader *ld, const config_setting_t *s, const char *path,
    const char *v)
{
	size_t		 n = strlen(v);
	char		 name[128];
	const char	*e;

	if (n < 4 || v[0] != '$' || v[1] != '{' || v[n - 1] != '}')
		return ld_strdup(ld, v);
	if (n - 3 >= sizeof(name)) {
		ld_err(ld, s, path, "\"%s\": environment variable name too "
		    "long", v);
		return NULL;
	}
	memcpy(name, v + 2, n - 3);
	name[n - 3] = '\0';
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '_') {
			ld_err(ld, s, path, "\"%s\": not an environment "
			    "variable name (letters, digits, _)", v);
			return NULL;
		}
	if ((e = getenv(name)) == NULL || e[0] == '\0') {
		ld_err(ld, s, path, "\"%s\": the environment variable %s is "
		    "%s: set it (docker run -e %s=..., systemd Environment=) "
		    "or write the value here", v, name, e == NULL ? "not set" :
		    "empty", name);
		return NULL;
	}
	return ld_strdup(ld, e);
}

/* "listen[3].tls" -> "listen[].tls" */
static void
path_pattern(const char *path, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = path; *p != '\0' && n + 1 < cap; p++) {
		out[n++] = *p;
		if (*p == '[')
			while (isdigit((unsigned char)p[1]))
				p++;
	}
	out[n] = '\0';
}

/* The NOT SUPPORTED YET check for one setting that passed its own. */
static void
check_not_yet(struct loader *ld, const config_setting_t *s, const char *path)
{
	char		 pat[CFG_PATH_MAX], allowed[128], val[128];
	struct net_addr	 a;
	int		 isbool;

	path_pattern(path, pat, sizeof(pat));
	for (size_t i = 0; not_yet[i].path != NULL; i++) {
		const struct not_yet *ny = &not_yet[i];
		const char *v;

		if (strcmp(ny->path, pat) != 0)
			continue;
		switch (ny->when) {
		case NY_NOT_IN:
			isbool = config_setting_type(s) == CONFIG_TYPE_BOOL;
			if (isbool)
				v = config_setting_get_bool(s) ? "true" : "false";
			else
				v = config_setting_get_string(s);
			snprintf(allowed, sizeof(allowed), "|%s|", ny->allowed);
			snprintf(val, sizeof(val), "|%s|", v);
			if (strstr(allowed, val) == NULL)
				ld_err(ld, s, path, "not supported yet (%s%s%s)",
				    isbool ? "" : "\"", v, isbool ? "" : "\"");
			break;
		case NY_NONEMPTY:
			if (config_setting_length(s) > 0)
				ld_err(ld, s, path,
				    "not supported yet (must be empty)");
			break;
		case NY_HOSTNAME:
			v = config_setting_get_string(s);
			if (net_addr_parse(v, strlen(v), &a) != 0)
				ld_err(ld, s, path, "not supported yet (a host "
				    "name; give an IP address)");
			break;
		}
	}
}

static void walk_group(struct loader *, const config_setting_t *,
    const struct key *, void *, const char *);
static void apply_defaults(struct loader *, const struct key *, void *);

static int
get_int(struct loader *ld, const config_setting_t *s, const char *path,
    long long min, long long max, int is64, long long *out)
{
	const char	*big;
	long long	 v;

	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		wrong_type(ld, s, path, "an integer");
		return -1;
	}
	if ((big = bigint_text(ld, s)) != NULL) {
		if (is64)
			ld_err(ld, s, path, "%s does not fit 32 bits: write "
			    "it as %sL", big, big);
		else
			ld_err(ld, s, path, "%s is out of range (%lld to %lld)",
			    big, min, max);
		return -1;
	}
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		ld_err(ld, s, path, "%lld is out of range (%lld to %lld)", v,
		    min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* A list of strings: each checked, copied into sl; nets parsed if nl. */
static void
get_strings(struct loader *ld, const config_setting_t *s, const char *path,
    enum check ck, struct cfg_strlist *sl, struct cfg_netlist *nl)
{
	int	n = config_setting_length(s);
	char	epath[CFG_PATH_MAX];

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) {
		wrong_type(ld, s, path, "a list of strings [ \"...\" ]");
		return;
	}
	if (sl != NULL && (sl->v = ld_calloc(ld, (size_t)n, sizeof(char *)))
	    == NULL)
		return;
	if (nl != NULL && (nl->v = ld_calloc(ld, (size_t)n,
	    sizeof(struct net))) == NULL)
		return;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s,
		    (unsigned)i);
		const char *why;
		char *v;

		snprintf(epath, sizeof(epath), "%s[%d]", path, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			wrong_type(ld, e, epath, "a string");
			continue;
		}
		if (nl != NULL) {
			const char *t = config_setting_get_string(e);
			struct net net;
			char fixed[64];

			int rc = net_parse_relaxed(t, strlen(t), &net);
			if (rc < 0) {
				ld_err(ld, e, epath, "\"%s\" is not an address, "
				    "a network (CIDR) or a 192.168.0.* form", t);
				continue;
			}
			if (rc > 0) {
				net_format(&net, fixed, sizeof(fixed));
				ld_err(ld, e, epath, "\"%s\" has host bits set; "
				    "did you mean %s?", t, fixed);
				continue;
			}
			nl->v[nl->n++] = net;
		}
		if (sl == NULL)
			continue;
		if ((v = ld_strdup(ld, config_setting_get_string(e))) == NULL)
			return;
		if ((why = check_string(ck, v)) != NULL) {
			ld_err(ld, e, epath, "\"%s\": %s", v, why);
			free(v);
			continue;
		}
		sl->v[sl->n++] = v;
	}
}

/* Fill base's fields for key k from setting s. */
static void
set_key(struct loader *ld, const config_setting_t *s, const struct key *k,
    void *base, const char *path)
{
	char		*field = (char *)base + k->off;
	long long	 v;
	const char	*why;
	char		*str;

	switch (k->kind) {
	case K_INT:
		if (get_int(ld, s, path, k->min, k->max, 0, &v) == 0)
			*(int *)field = (int)v;
		break;
	case K_INT64:
		if (get_int(ld, s, path, k->min, k->max, 1, &v) == 0)
			*(int64_t *)field = v;
		break;
	case K_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
			wrong_type(ld, s, path, "true or false");
			break;
		}
		*(int *)field = config_setting_get_bool(s) ? 1 : 0;
		check_not_yet(ld, s, path);
		break;
	case K_STR:
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			wrong_type(ld, s, path, "a string");
			break;
		}
		if ((str = env_value(ld, s, path,
		    config_setting_get_string(s))) == NULL)
			break;
		if (str[0] == '\0' && (k->flags & F_EMPTY_UNSET)) {
			free(str);
			str = NULL;
		} else if ((why = check_string(k->check, str)) != NULL) {
			ld_err(ld, s, path, "\"%s\": %s", str, why);
			free(str);
			break;
		}
		free(*(char **)field);
		*(char **)field = str;
		check_not_yet(ld, s, path);
		break;
	case K_ENUM: {
		char one_of[128] = "";

		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			wrong_type(ld, s, path, "a string");
			break;
		}
		for (int i = 0; k->names[i] != NULL; i++)
			if (strcmp(k->names[i], config_setting_get_string(s)) ==
			    0) {
				*(int *)field = i;
				check_not_yet(ld, s, path);
				return;
			}
		for (int i = 0; k->names[i] != NULL; i++)
			snprintf(one_of + strlen(one_of), sizeof(one_of) -
			    strlen(one_of), "%s%s", i ? ", " : "", k->names[i]);
		ld_err(ld, s, path, "\"%s\" is not one of %s",
		    config_setting_get_string(s), one_of);
		break;
	}
	case K_NETS:
		get_strings(ld, s, path, CK_NONE, NULL,
		    (struct cfg_netlist *)field);
		break;
	case K_STRS:
		get_strings(ld, s, path, k->check, (struct cfg_strlist *)field,
		    NULL);
		break;
	case K_NETSTRS:
		get_strings(ld, s, path, CK_NONE, (struct cfg_strlist *)field,
		    (struct cfg_netlist *)((char *)base + k->aux));
		break;
	case K_GROUP:
		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			wrong_type(ld, s, path, "a group { ... }");
			break;
		}
		walk_group(ld, s, k->sub, base, path);
		break;
	case K_LIST: {
		int n = config_setting_length(s);
		size_t *count = (size_t *)((char *)base + k->aux);
		char *arr;

		/* "[]" is how libconfig reads an empty list too */
		if (config_setting_type(s) != CONFIG_TYPE_LIST &&
		    !(config_setting_type(s) == CONFIG_TYPE_ARRAY && n == 0)) {
			wrong_type(ld, s, path, "a list of groups ( { ... } )");
			break;
		}
		if ((arr = ld_calloc(ld, (size_t)n, k->esize)) == NULL)
			break;
		*(void **)field = arr;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s,
			    (unsigned)i);
			char *elem = arr + *count * k->esize;
			char epath[CFG_PATH_MAX];

			if (snprintf(epath, sizeof(epath), "%s[%d]", path, i) >=
			    (int)sizeof(epath))
				epath[sizeof(epath) - 2] = '~';	/* cut */
			if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
				wrong_type(ld, e, epath, "a group { ... }");
				continue;
			}
			/* counted first, so cfg_free() frees what it holds */
			(*count)++;
			ld_loc(ld, e, epath);
			apply_defaults(ld, k->sub, elem);
			walk_group(ld, e, k->sub, elem, epath);
			*(int *)(elem + k->lineoff) =
			    (int)config_setting_source_line(e);
		}
		check_not_yet(ld, s, path);
		break;
	}
	case K_WEIGHTS: {
		int n = config_setting_length(s);
		struct cfg_weight *w;
		size_t *nw = (size_t *)((char *)base + k->aux);

		if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
			wrong_type(ld, s, path, "a group { name = number; }");
			break;
		}
		if ((w = ld_calloc(ld, (size_t)n, sizeof(*w))) == NULL)
			break;
		*(struct cfg_weight **)field = w;
		for (int i = 0; i < n; i++) {
			const config_setting_t *e = config_setting_get_elem(s,
			    (unsigned)i);
			char epath[CFG_PATH_MAX];

			if (snprintf(epath, sizeof(epath), "%s.%s", path,
			    config_setting_name(e)) >= (int)sizeof(epath))
				epath[sizeof(epath) - 2] = '~';	/* cut */
			if (get_int(ld, e, epath, INT_MIN, INT_MAX, 0, &v) != 0)
				continue;
			if ((w[*nw].name = ld_strdup(ld,
			    config_setting_name(e))) == NULL)
				break;
			w[(*nw)++].weight = (int)v;
		}
		break;
	}
	}
}

/* Defaults of one table into base (lists stay empty: base is zeroed). */
static void
apply_defaults(struct loader *ld, const struct key *tab, void *base)
{
	for (const struct key *k = tab; k->name != NULL; k++) {
		char *field = (char *)base + k->off;

		switch (k->kind) {
		case K_INT:
		case K_BOOL:
		case K_ENUM:
			*(int *)field = (int)k->def;
			break;
		case K_INT64:
			*(int64_t *)field = k->def;
			break;
		case K_STR:
			if (k->sdef != NULL)
				*(char **)field = ld_strdup(ld, k->sdef);
			break;
		case K_GROUP:
			apply_defaults(ld, k->sub, base);
			break;
		default:
			break;
		}
	}
}

/*
 * Every member of group g against tab: unknown keys, types, values;
 * then the required keys that were not there.
 */
static void
walk_group(struct loader *ld, const config_setting_t *g,
    const struct key *tab, void *base, const char *prefix)
{
	int		n = config_setting_length(g);
	uint64_t	seen = 0;
	char		path[CFG_PATH_MAX];

	for (int i = 0; i < n; i++) {
		const config_setting_t *m = config_setting_get_elem(g,
		    (unsigned)i);
		const char *name = config_setting_name(m);
		int j;

		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", name);
		for (j = 0; tab[j].name != NULL; j++)
			if (strcmp(tab[j].name, name) == 0)
				break;
		if (tab[j].name == NULL) {
			ld_err(ld, m, path, "unknown key");
			continue;
		}
		seen |= 1ULL << j;
		ld_loc(ld, m, path);
		set_key(ld, m, &tab[j], base, path);
	}
	for (int j = 0; tab[j].name != NULL; j++) {
		if (!(tab[j].flags & F_REQUIRED) || (seen & (1ULL << j)))
			continue;
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", tab[j].name);
		ld_err(ld, g, path, "missing (required)");
	}
}

static void
free_keys(const struct key *tab, void *base)
{
	for (const struct key *k = tab; k->name != NULL; k++) {
		char *field = (char *)base + k->off;

		switch (k->kind) {
		case K_STR:
			free(*(char **)field);
			*(char **)field = NULL;
			break;
		case K_NETSTRS:
			free(((struct cfg_netlist *)((char *)base + k->aux))->v);
			/* FALLTHROUGH */
		case K_STRS: {
			struct cfg_strlist *sl = (struct cfg_strlist *)field;

			for (size_t i = 0; i < sl->n; i++)
				free(sl->v[i]);
			free(sl->v);
			break;
		}
		case K_NETS:
			free(((struct cfg_netlist *)field)->v);
			break;
		case K_GROUP:
			free_keys(k->sub, base);
			break;
		case K_LIST: {
			char *arr = *(char **)field;
			size_t n = *(size_t *)((char *)base + k->aux);

			for (size_t i = 0; i < n; i++)
				free_keys(k->sub, arr + i * k->esize);
			free(arr);
			break;
		}
		case K_WEIGHTS: {
			struct cfg_weight *w = *(struct cfg_weight **)field;
			size_t n = *(size_t *)((char *)base + k->aux);

			for (size_t i = 0; i < n; i++)
				free(w[i].name);
			free(w);
			break;
		}
		default:
			break;
		}
	}
}

/* Frees cfg and every string and list it owns; NULL is fine. */
void
cfg_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	free_keys(top_keys, cfg);
	free(cfg->spoof.warning_text);
	if (cfg->hijack.redis.password != NULL) {
		explicit_bzero(cfg->hijack.redis.password,
		    strlen(cfg->hijack.redis.password));
		free(cfg->hijack.redis.password);
	}
	for (size_t i = 0; i < cfg->nlocs; i++) {
		free(cfg->locs[i].path);
		free(cfg->locs[i].file);
	}
	free(cfg->locs);
	free(cfg->path);
	free(cfg);
}

/* See config.h. */
int
cfg_where(const struct config *cfg, const char *path, char *buf, size_t cap)
{
	char	 want[CFG_PATH_MAX];
	char	*cut;
	int	 exact = 1;

	snprintf(want, sizeof(want), "%s", path);
	for (;;) {
		for (size_t i = 0; i < cfg->nlocs; i++) {
			if (strcmp(cfg->locs[i].path, want) != 0)
				continue;
			snprintf(buf, cap, "%s:%d", cfg->locs[i].file,
			    cfg->locs[i].line);
			return exact;
		}
		/* "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" */
		cut = strrchr(want, '.');
		if (strrchr(want, '[') != NULL && (cut == NULL ||
		    strrchr(want, '[') > cut))
			cut = strrchr(want, '[');
		if (cut == NULL)
			break;
		*cut = '\0';
		exact = 0;
	}
	snprintf(buf, cap, "%s", cfg->path != NULL ? cfg->path : "?");
	return 0;
}


/*
 * The defaults that depend on the machine or on other keys, for the
 * keys the file does not give: hostname, workers, listen,
 * relay_protection (on whenever local_domains is set: behind a backend
 * that trusts mxshield's address, off would relay for the world) and
 * each control's mode (the top-level mode).
 */
static void
dynamic_defaults(struct loader *ld, struct config *cfg)
{
	const struct {
		const char	*path;
		enum cfg_mode	*mode;
	} modes[] = {
		{ "helo.mode", &cfg->helo.mode },
		{ "client.mode", &cfg->client.mode },
		{ "dnsbl.mode", &cfg->dnsbl.mode },
		{ "ip_shield.mode", &cfg->ip_shield.mode },
		{ "auth.mode", &cfg->auth.mode },
		{ "hijack.mode", &cfg->hijack.mode },
		{ "relay_protection_mode", &cfg->relay_protection_mode },
		{ "size_limits_mode", &cfg->size_limits_mode },
		{ "spoof.mode", &cfg->spoof.mode },
		{ "spf.mode", &cfg->spf.mode },
	};
	const config_setting_t	*root = config_root_setting(&ld->cf);
	char			 host[256];

	if (config_setting_get_member(root, "relay_protection") == NULL)
		cfg->relay_protection = cfg->local_domains.n > 0;
	/* metrics: off unless the group is given (its keys have defaults) */
	cfg->metrics.enabled = config_setting_get_member(root, "metrics") !=
	    NULL;
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (config_lookup(&ld->cf, modes[i].path) == NULL)
			*modes[i].mode = cfg->mode;

	if (cfg->hostname == NULL) {
		if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		cfg->hostname = ld_strdup(ld, host);
	}
	if (cfg->workers == 0)
		cfg->workers = sysres_cpus(64);	/* the key's maximum */
	if (config_setting_get_member(root, "listen") == NULL) {
		cfg->listen = ld_calloc(ld, 1, sizeof(*cfg->listen));
		if (cfg->listen == NULL)
			return;
		apply_defaults(ld, listen_keys, cfg->listen);
		cfg->nlisten = 1;
	}
}

/* The setting at path, for a message's line number (NULL: none). */
static const config_setting_t *
at(struct loader *ld, const char *path)
{
	return config_lookup(&ld->cf, path);
}

static const unsigned char zero16[16];

/* The socket a connection to a reaches: ::ffff:a.b.c.d is a.b.c.d, and
 * the unspecified address (0.0.0.0, ::) is this host's loopback. */
static void
reached_addr(struct net_addr *a)
{
	static const unsigned char v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0xff, 0xff };

	if (a->family == AF_INET6 && memcmp(a->addr, v4mapped, 12) == 0) {
		a->family = AF_INET;
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
	}
	if (a->family == AF_INET && memcmp(a->addr, zero16, 4) == 0) {
		a->addr[0] = 127;
		a->addr[3] = 1;
	} else if (a->family == AF_INET6 && memcmp(a->addr, zero16, 16) == 0)
		a->addr[15] = 1;
}

/* Is a (as reached_addr() left it) an address of this host? */
static int
is_local_addr(const struct net_addr *a)
{
	struct ifaddrs	*ifa, *i;
	const void	*ip;
	int		 local = 0;

	if (a->family == AF_INET && a->addr[0] == 127)
		return 1;
	if (a->family == AF_INET6 && memcmp(a->addr, zero16, 15) == 0 &&
	    a->addr[15] == 1)
		return 1;
	if (getifaddrs(&ifa) != 0)
		return 0;	/* cannot tell: let the start find out */
	for (i = ifa; i != NULL && !local; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != a->family)
			continue;
		if (a->family == AF_INET)
			ip = &((struct sockaddr_in *)(void *)i->ifa_addr)->
			    sin_addr;
		else
			ip = &((struct sockaddr_in6 *)(void *)i->ifa_addr)->
			    sin6_addr;
		local = memcmp(ip, a->addr, a->family == AF_INET ? 4 : 16) ==
		    0;
	}
	freeifaddrs(ifa);
	return local;
}

/*
 * See config.h. A "::" listener is IPv6 only (the server sets
 * IPV6_V6ONLY), so it never takes an IPv4 backend's connection.
 */
int
cfg_own_listener(const struct config *cfg, const struct net_addr *a,
    int port)
{
	struct net_addr	 b = *a, l;
	int		 local = -1;

	reached_addr(&b);
	for (size_t i = 0; i < cfg->nlisten; i++) {
		const char *la = cfg->listen[i].address;

		if (cfg->listen[i].port != port || la == NULL ||
		    net_addr_parse(la, strlen(la), &l) != 0)
			continue;
		if (l.family == AF_INET6 && memcmp(l.addr, zero16, 16) == 0) {
			/* "::": IPv6 addresses of this host */
		} else if (l.family == AF_INET && memcmp(l.addr, zero16, 4) ==
		    0) {
			/* "0.0.0.0": IPv4 addresses of this host */
		} else {
			reached_addr(&l);
			if (l.family == b.family && memcmp(l.addr, b.addr,
			    b.family == AF_INET ? 4 : 16) == 0)
				return (int)i;
			continue;
		}
		if (l.family != b.family)
			continue;
		if (local < 0)
			local = is_local_addr(&b);
		if (local)
			return (int)i;
	}
	return -1;
}

/*
 * What no single key can say: keys that must agree with each other.
 * Run only on a file whose keys were each fine, so that a key refused
 * above (and left at its default) does not cause a second, false report.
 */
/*
 * dnsbl.zones: a weight of 0 would count for nothing, a zone twice
 * would count twice; bounded in number (each is a lookup per session).
 */
static void
dnsbl_checks(struct loader *ld, struct config *cfg)
{
	char	p[CFG_PATH_MAX], q[CFG_PATH_MAX];

	if (cfg->dnsbl.nzones > CFG_DNSBL_ZONES_MAX)
		ld_err(ld, at(ld, "dnsbl.zones"), "dnsbl.zones", "more than "
		    "%d zones", CFG_DNSBL_ZONES_MAX);
	for (size_t i = 0; i < cfg->dnsbl.nzones; i++) {
		const struct cfg_dnsbl_zone *z = &cfg->dnsbl.zones[i];

		snprintf(p, sizeof(p), "dnsbl.zones.[%zu]", i);
		if (z->weight == 0) {
			snprintf(q, sizeof(q), "dnsbl.zones[%zu].weight", i);
			ld_err(ld, at(ld, p), q, "0 counts for nothing: a "
			    "DNSBL has a weight above 0, a DNSWL below");
		}
		if (z->codes.n > CFG_DNSBL_CODES_MAX) {
			snprintf(q, sizeof(q), "dnsbl.zones[%zu].codes", i);
			ld_err(ld, at(ld, p), q, "more than %d codes",
			    CFG_DNSBL_CODES_MAX);
		}
		for (size_t j = 0; j < i && z->zone != NULL; j++) {
			if (cfg->dnsbl.zones[j].zone == NULL ||
			    strcmp(cfg->dnsbl.zones[j].zone, z->zone) != 0)
				continue;
			snprintf(q, sizeof(q), "dnsbl.zones[%zu].zone", i);
			ld_err(ld, at(ld, p), q, "\"%s\" is dnsbl.zones[%zu] "
			    "again", z->zone, j);
			break;
		}
	}
}

/*
 * hijack_redis_checks - hijack.store = "redis": the password is read
 * from hijack.redis.password_file now (its first line, the line end
 * removed), so that a start and --check-config find a file that cannot
 * be read, and a running mxshield never opens it again. The password
 * never enters a message.
 */
static void
hijack_redis_checks(struct loader *ld, struct config *cfg)
{
	const char	*file = cfg->hijack.redis.password_file;
	const config_setting_t *s = at(ld, "hijack.redis.password_file");
	char		 buf[1025];
	size_t		 n;
	FILE		*f;

	if (cfg->hijack.store != CFG_HJ_REDIS || file == NULL)
		return;
	if ((f = fopen(file, "re")) == NULL) {
		ld_err(ld, s, "hijack.redis.password_file", "cannot read %s: "
		    "%s", file, strerror(errno));
		return;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0 || n >= sizeof(buf) - 1) {
		ld_err(ld, s, "hijack.redis.password_file", "%s must hold the "
		    "password on its first line (1 to 1023 octets)", file);
	} else if ((cfg->hijack.redis.password = strdup(buf)) == NULL)
		ld->oom = 1;
	explicit_bzero(buf, sizeof(buf));
}

static void
cross_checks(struct loader *ld, struct config *cfg)
{
	const config_setting_t	*ls = at(ld, "listen");
	char			 p[CFG_PATH_MAX];
	struct net_addr		 ba;
	int			 own;

	if (ls != NULL && config_setting_is_aggregate(ls) &&
	    config_setting_length(ls) == 0)
		ld_err(ld, ls, "listen", "needs at least one listener");
	for (size_t i = 0; i < cfg->nlisten; i++) {
		struct cfg_listen *l = &cfg->listen[i];

		snprintf(p, sizeof(p), "listen.[%zu]", i);
		ls = at(ld, p);
		snprintf(p, sizeof(p), "listen[%zu]", i);
		for (size_t j = 0; j < i; j++)
			if (cfg->listen[j].port == l->port &&
			    strcmp(cfg->listen[j].address, l->address) == 0)
				ld_err(ld, ls, p, "%s port %d is listen[%zu] "
				    "again", l->address, l->port, j);
		if (l->tls != CFG_TLS_NONE && (cfg->tls.cert_file == NULL ||
		    cfg->tls.key_file == NULL))
			ld_err(ld, ls, p, "tls = \"%s\" needs tls.cert_file "
			    "and tls.key_file", tls_names[l->tls]);
		if (l->proxy_protocol && cfg->trusted_proxies.n == 0)
			ld_err(ld, ls, p, "proxy_protocol = true needs "
			    "trusted_proxies");
	}
	/* a backend that is one of our own sockets: a relay loop (a host
	 * name is looked at once resolved, by the start and --check-config) */
	if (cfg->backend.address != NULL && net_addr_parse(cfg->backend.address,
	    strlen(cfg->backend.address), &ba) == 0 &&
	    (own = cfg_own_listener(cfg, &ba, cfg->backend.port)) >= 0) {
		const struct cfg_listen *l = &cfg->listen[own];
		const config_setting_t *bs = at(ld, "backend.address");
		char why[160] = "";

		if (bs == NULL)
			bs = at(ld, "backend");
		if (strcmp(l->address, cfg->backend.address) != 0)
			snprintf(why, sizeof(why), " (%s is an address of this "
			    "host, and listen[%d] is %s port %d)",
			    cfg->backend.address, own, l->address, l->port);
		snprintf(p, sizeof(p), "listen.[%d]", own);
		ld_err(ld, bs != NULL ? bs : at(ld, p), "backend", "%s port %d%s "
		    "is mxshield's own listen[%d]%s", cfg->backend.address,
		    cfg->backend.port, bs != NULL ? "" : " (the default)", own,
		    why);
	}
	if ((cfg->tls.cert_file == NULL) != (cfg->tls.key_file == NULL))
		ld_err(ld, at(ld, "tls"), cfg->tls.cert_file == NULL ?
		    "tls.cert_file" : "tls.key_file",
		    "missing (the other one is set)");
	/* only an explicit true: the default follows local_domains */
	if (cfg->relay_protection && cfg->local_domains.n == 0)
		ld_err(ld, at(ld, "relay_protection"), "relay_protection",
		    "true needs local_domains: with none, every recipient "
		    "would be refused");
	if (cfg->limits.max_held_bytes < cfg->limits.max_header_bytes)
		ld_err(ld, at(ld, "limits.max_held_bytes"),
		    "limits.max_held_bytes", "smaller than "
		    "limits.max_header_bytes (%d)", cfg->limits.max_header_bytes);
	for (size_t i = 0; i < cfg->ip_shield.nentries; i++) {
		const struct cfg_ipshield_entry *e = &cfg->ip_shield.entries[i];

		if (e->domain != NULL && strcmp(e->domain, "$LOCALDOMAIN$") ==
		    0 && cfg->local_domains.n == 0) {
			snprintf(p, sizeof(p), "ip_shield.entries.[%zu]", i);
			const config_setting_t *es = at(ld, p);
			snprintf(p, sizeof(p), "ip_shield.entries[%zu].domain",
			    i);
			ld_err(ld, es, p, "$LOCALDOMAIN$ but local_domains "
			    "is empty");
		}
	}
	if (cfg->metrics.enabled && cfg->metrics.address != NULL &&
	    net_addr_parse(cfg->metrics.address, strlen(cfg->metrics.address),
	    &ba) == 0 && (own = cfg_own_listener(cfg, &ba,
	    cfg->metrics.port)) >= 0) {
		const config_setting_t *ms = at(ld, "metrics.port");

		ld_err(ld, ms != NULL ? ms : at(ld, "metrics"), "metrics.port",
		    "%s port %d is listen[%d] (%s port %d): the HTTP endpoint "
		    "needs a port of its own", cfg->metrics.address,
		    cfg->metrics.port, own, cfg->listen[own].address,
		    cfg->listen[own].port);
	}
	dnsbl_checks(ld, cfg);
	hijack_redis_checks(ld, cfg);
}

/* The collected problems into the caller's err, cut at a line end. */
static void
copy_errors(const struct loader *ld, char *err, size_t cap)
{
	size_t n;

	if (cap == 0)
		return;
	if (ld->oom)
		snprintf(err, cap, "%s: out of memory", ld->path);
	else if (ld->errlen < cap)
		snprintf(err, cap, "%s", ld->errs != NULL ? ld->errs : "");
	else {
		n = cap - 1;
		while (n > 0 && ld->errs[n] != '\n')
			n--;
		if (n == 0)
			n = cap - 1;	/* one line longer than err */
		memcpy(err, ld->errs, n);
		err[n] = '\0';
	}
}

static int
is_name_start(int c)
{
	return isalpha(c) || c == '*';
}

static int
is_name_char(int c)
{
	return isalnum(c) || c == '_' || c == '-' || c == '*';
}

/*
 * A syntax error on a line that starts "helo.reject_bare_ip = true;"
 * (a key path as README tables write them): into out, the way to type
 * it, ": dotted names are not libconfig syntax: write helo = {
 * reject_bare_ip = true; };". "" when the line is not like that.
 */
static void
dotted_hint(const char *file, int lineno, char *out, size_t cap)
{
	const char	*names[8], *p, *v, *end = NULL;
	size_t		 nlen[8], nn = 0, n;
	char		*line = NULL, value[80];
	size_t		 lcap = 0;
	int		 depth = 0, bad = 0;
	FILE		*f;

	out[0] = '\0';
	if (lineno <= 0 || (f = fopen(file, "r")) == NULL)
		return;
	for (int i = 0; i < lineno; i++)
		if (getline(&line, &lcap, f) < 0) {
			free(line);
			line = NULL;
			break;
		}
	fclose(f);
	if (line == NULL)
		return;
	for (p = line; *p == ' ' || *p == '\t'; p++)
		;
	while (nn < 8 && is_name_start((unsigned char)*p)) {
		names[nn] = p;
		while (is_name_char((unsigned char)*p))
			p++;
		nlen[nn] = (size_t)(p - names[nn]);
		nn++;
		if (*p != '.')
			break;
		p++;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (nn < 2 || (*p != '=' && *p != ':')) {
		free(line);
		return;
	}
	for (v = ++p; *v == ' ' || *v == '\t'; v++)
		;
	/* the value, when it ends on this line: up to ';' or ',' outside
	 * brackets and strings */
	for (p = v; *p != '\0' && *p != '\n' && end == NULL && !bad; p++) {
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				break;
		} else if (strchr("([{", *p) != NULL)
			depth++;
		else if (strchr(")]}", *p) != NULL)
			bad = --depth < 0;
		else if ((*p == ';' || *p == ',') && depth == 0)
			end = p;
	}
	while (end != NULL && end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end != NULL && end > v && (size_t)(end - v) < sizeof(value))
		snprintf(value, sizeof(value), "%.*s", (int)(end - v), v);
	else if (*v == '(' || *v == '[' || *v == '{')
		snprintf(value, sizeof(value), "%c ... %c", *v,
		    *v == '(' ? ')' : *v == '[' ? ']' : '}');
	else
		snprintf(value, sizeof(value), "...");
	n = (size_t)snprintf(out, cap, ": dotted names are not libconfig "
	    "syntax: write ");
	for (size_t i = 0; i < nn && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%.*s = %s",
		    (int)nlen[i], names[i], i + 1 < nn ? "{ " : "");
	if (n < cap)
		n += (size_t)snprintf(out + n, cap - n, "%s;", value);
	for (size_t i = 1; i < nn && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, " };");
	free(line);
}

/* A problem cfg_spoof_settle() found, at the line of its key. */
static void
spoof_err(void *arg, const char *path, const char *msg)
{
	struct loader *ld = arg;
	const config_setting_t *s = at(ld, path);

	if (s == NULL)
		s = at(ld, "spoof");
	ld_err(ld, s, path, "%s", msg);
}

static char *
dir_of(const char *path)
{
	const char	*slash = strrchr(path, '/');
	char		*d;

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	if ((d = malloc((size_t)(slash - path) + 1)) != NULL) {
		memcpy(d, path, (size_t)(slash - path));
		d[slash - path] = '\0';
	}
	return d;
}

/*
 * See config.h. The file is read twice: by libconfig, and by
 * scan_bigints() for what libconfig cannot report. Owns nothing after
 * it returns but the config it hands over.
 */
struct config *
cfg_load(const char *path, char *err, size_t cap)
{
	struct loader	 ld;
	struct config	*cfg;
	struct stat	 st;
	char		 fbuf[PATH_MAX];
	FILE		*f;

	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	if (cap > 0)
		err[0] = '\0';
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, cap, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		fclose(f);
		snprintf(err, cap, "%s: not a regular file", path);
		return NULL;
	}
	fclose(f);
	if ((cfg = calloc(1, sizeof(*cfg))) == NULL) {
		snprintf(err, cap, "%s: out of memory", path);
		return NULL;
	}
	config_init(&ld.cf);
	/* @include "x.conf" is read next to the file, not the cwd */
	if ((ld.dir = dir_of(path)) != NULL)
		config_set_include_dir(&ld.cf, ld.dir);
	if (config_read_file(&ld.cf, path) == CONFIG_FALSE) {
		if (config_error_type(&ld.cf) == CONFIG_ERR_FILE_IO)
			snprintf(err, cap, "%s: cannot read: %s", path,
			    errno != 0 ? strerror(errno) : "I/O error");
		else {
			const char *ef = file_name(&ld,
			    config_error_file(&ld.cf), fbuf, sizeof(fbuf));
			char hint[512];

			dotted_hint(ef, config_error_line(&ld.cf), hint,
			    sizeof(hint));
			snprintf(err, cap, "%s:%d: %s%s", ef,
			    config_error_line(&ld.cf), config_error_text(&ld.cf),
			    hint);
		}
		config_destroy(&ld.cf);
		free(ld.dir);
		free(cfg);
		return NULL;
	}
	scan_bigints(&ld, path);
	for (unsigned i = 0; ld.cf.filenames != NULL &&
	    i < ld.cf.num_filenames; i++)
		if (strcmp(ld.cf.filenames[i], path) != 0)
			scan_bigints(&ld, ld.cf.filenames[i]);

	ld.cfg = cfg;
	apply_defaults(&ld, top_keys, cfg);
	walk_group(&ld, config_root_setting(&ld.cf), top_keys, cfg, "");
	dynamic_defaults(&ld, cfg);
	if (cfg_spoof_settle(cfg, spoof_err, &ld) < 0)
		ld.oom = 1;
	if (ld.nerr == 0)
		cross_checks(&ld, cfg);
	if ((cfg->path = strdup(path)) == NULL)
		ld.oom = 1;

	if (ld.nerr > 0 || ld.oom) {
		copy_errors(&ld, err, cap);
		cfg_free(cfg);
		cfg = NULL;
	}
	for (size_t i = 0; i < ld.nbig; i++)
		free(ld.big[i].file);
	free(ld.big);
	free(ld.errs);
	config_destroy(&ld.cf);
	free(ld.dir);
	return cfg;
}

/* See config.h. */
int
cfg_peek_str(const char *path, const char *key, char *buf, size_t cap)
{
	config_t	 cf;
	const char	*v = NULL;
	char		*dir;
	int		 rc = -1;

	config_init(&cf);
	if ((dir = dir_of(path)) != NULL)
		config_set_include_dir(&cf, dir);
	if (config_read_file(&cf, path) == CONFIG_TRUE &&
	    config_lookup_string(&cf, key, &v) == CONFIG_TRUE && *v != '\0' &&
	    strlen(v) < cap) {
		memcpy(buf, v, strlen(v) + 1);
		rc = 0;
	}
	config_destroy(&cf);
	free(dir);
	return rc;
}
