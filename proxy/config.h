/*
 * proxy/config.h - the validated, immutable configuration. Built once by
 * cfg_load() from a libconfig file; every key of DESIGN.md's schema is
 * known and type-checked; fields mirror key paths (limits.max_errors is
 * cfg->limits.max_errors). Strings are owned by the struct.
 */
#ifndef MXS_CONFIG_H
#define MXS_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/net.h"
#include "core/spoof.h"

enum cfg_tls { CFG_TLS_NONE = 0, CFG_TLS_STARTTLS, CFG_TLS_IMPLICIT };
enum cfg_client_info { CFG_CI_NONE = 0, CFG_CI_RECEIVED, CFG_CI_XCLIENT,
	CFG_CI_PROXY };
enum cfg_bare_lf { CFG_BARE_REJECT = 0, CFG_BARE_NORMALIZE };
enum cfg_reject_at { CFG_AT_HELO = 0, CFG_AT_MAIL, CFG_AT_RCPT };
enum cfg_spoof_action { CFG_SPOOF_APPEND = 0, CFG_SPOOF_HEADER,
	CFG_SPOOF_SUBJECT, CFG_SPOOF_REJECT };
enum cfg_log_format { CFG_LOG_JSON = 0, CFG_LOG_TEXT };
enum cfg_log_level { CFG_LOG_ERROR = 0, CFG_LOG_WARN, CFG_LOG_INFO,
	CFG_LOG_DEBUG };
enum cfg_mode { CFG_MODE_ENFORCE = 0, CFG_MODE_MONITOR };
enum cfg_hijack_count { CFG_HJ_MESSAGES = 0, CFG_HJ_RECIPIENTS };
enum cfg_hijack_store { CFG_HJ_FILE = 0, CFG_HJ_REDIS };
enum cfg_store_failure { CFG_HJ_FAIL_ALLOW = 0, CFG_HJ_FAIL_TEMPFAIL };
enum cfg_spf_softfail { CFG_SPF_SOFT_ACCEPT = 0, CFG_SPF_SOFT_TEMPFAIL,
	CFG_SPF_SOFT_REJECT };
enum cfg_dns_error { CFG_DNSERR_TEMPFAIL = 0, CFG_DNSERR_ACCEPT };

#define CFG_DNSBL_ZONES_MAX	32	/* dnsbl.zones */
#define CFG_DNSBL_CODES_MAX	32	/* codes of one zone */

struct cfg_strlist {
	char		**v;
	size_t		  n;
};

struct cfg_netlist {
	struct net	*v;
	size_t		 n;
};

struct cfg_listen {
	char		*address;	/* "0.0.0.0" (default), "::", "127.0.0.1" */
	int		 port;		/* 25 */
	enum cfg_tls	 tls;		/* none */
	int		 proxy_protocol;	/* 0 */
	int		 submission;	/* 0 */
	int		 line;		/* config line, for messages */
};

struct cfg_ipshield_entry {
	char			*domain;	/* lower case, or "$LOCALDOMAIN$" */
	struct cfg_strlist	 networks;	/* as written, validated */
	struct cfg_netlist	 nets;		/* the same, parsed */
	int			 line;
};

struct cfg_size_limit {
	int64_t			 max;
	struct cfg_strlist	 except;	/* "a@b.example", "@b.example";
						   domains lower case */
	int			 line;
};

/* auth.aliases: an AUTH identity may also send as these addresses. */
struct cfg_alias {
	char			*identity;
	struct cfg_strlist	 addresses;	/* as size_limits.except */
	int			 line;
};

/* dnsbl.zones[]: a DNSBL (weight > 0) or DNSWL (weight < 0) zone. */
struct cfg_dnsbl_zone {
	char			*zone;		/* "zen.example", lower case */
	int			 weight;	/* 1; -100..100, not 0 */
	struct cfg_strlist	 codes;		/* "127.0.0.2": only these
						   answers count; none: any
						   in 127.0.0.0/8 */
	int			 line;
};

/* spoof.weights: one "name = int;" pair, any name. */
struct cfg_weight {
	char			*name;
	int			 weight;
};

struct config {
	char			*path;		/* the file it came from */
	char			*hostname;	/* default: gethostname() */
	int			 workers;	/* default: the CPUs we may use */
	int			 shutdown_timeout; /* seconds, default 30 */
	int			 drain_delay;	/* seconds after SIGTERM still
						   serving, /healthz 503; 0 */
	char			*user;		/* NULL: stay who started us */
	char			*group;		/* NULL: the user's group */
	int			 allow_root;	/* 0: root without user refused */

	struct cfg_listen	*listen;	/* default: one, 0.0.0.0 port 25 */
	size_t			 nlisten;	/* >= 1 */

	struct cfg_netlist	 trusted_proxies;	/* default: none */

	struct {
		char			*address;	/* 127.0.0.1 */
		int			 port;		/* 2525 */
		enum cfg_tls		 tls;		/* none */
		enum cfg_client_info	 client_info;	/* received */
		int			 connect_timeout;	/* 10 */
		int			 reply_timeout;		/* 300 */
		int			 data_reply_timeout;	/* 600 */
		int			 proxy_protocol_version; /* 1 or 2 */
		int			 tls_verify;		/* 1 */
		char			*tls_ca_file;	/* NULL */
		char			*tls_server_name; /* NULL */
	} backend;

	struct {
		char		*cert_file;		/* NULL; both or neither */
		char		*key_file;		/* NULL */
		int		 handshake_timeout;	/* 10 */
	} tls;

	struct {
		int		 max_connections;	/* 10000 */
		int		 max_per_ip;		/* 50 */
		int		 command_timeout;	/* 300 */
		int		 data_timeout;		/* 600 */
		int		 proxy_timeout;		/* 10: PROXY header */
		int		 max_command_line;	/* 2048 */
		int		 max_auth_line;		/* 12288 */
		int		 max_header_bytes;	/* 262144 */
		int64_t		 max_held_bytes;	/* 268435456 */
		int		 max_errors;		/* 20 */
		int		 max_junk_commands;	/* 100 */
		int		 max_recipients;	/* 1000 */
		enum cfg_bare_lf bare_lf;		/* reject */
		int		 forbid_unauth_pipelining; /* 1: 554 5.5.0
							   and close */
	} limits;

	struct cfg_strlist	 local_domains;		/* lower case */
	struct cfg_netlist	 trusted_networks;
	struct cfg_netlist	 own_addresses;

	/* RCPT to a non-local domain without AUTH: 554 5.7.1. Default: 1
	 * when local_domains is not empty, else 0; 1 with no
	 * local_domains is refused. */
	int			 relay_protection;
	enum cfg_mode		 relay_protection_mode;	/* default: mode */

	/* every policy switch below is 0 (off) by default; each control's
	 * own mode defaults to the top-level mode */
	struct {
		int			reject_bare_ip;
		int			literal_must_match;
		int			reject_own_identity;
		int			require_fqdn;
		int			require_resolvable;	/* DNS */
		int			must_match_client;	/* DNS */
		enum cfg_reject_at	reject_at;	/* rcpt; the DNS checks'
							   too (client, dnsbl) */
		enum cfg_mode		mode;
	} helo;

	/* the client's reverse DNS name (proxy/dnschk.c) */
	struct {
		int			require_rdns;
		int			require_fcrdns;
		enum cfg_mode		mode;
	} client;

	struct {
		struct cfg_dnsbl_zone	*zones;
		size_t			 nzones;
		int			 threshold;	/* 1 */
		enum cfg_mode		 mode;
	} dnsbl;

	struct {
		int				 enabled;
		int				 check_from_header;	/* 0 */
		struct cfg_ipshield_entry	*entries;
		size_t				 nentries;
		enum cfg_mode			 mode;
	} ip_shield;

	struct {
		int			 require_for_local_senders;
		int			 except_to_local;
		int			 match_envelope;
		int			 match_from_header;
		int			 require_tls;
		int			 add_header;
		struct cfg_alias	*aliases;
		size_t			 naliases;
		enum cfg_mode		 mode;	/* submission listeners too */
	} auth;

	struct {
		int	 enabled;
		int	 max_messages;		/* 200 */
		int	 window;		/* 3600 */
		char	*state_file;		/* NULL: memory only */
		enum cfg_mode mode;
		enum cfg_hijack_count count;	/* messages */
		struct cfg_strlist exempt;	/* never disabled */
		enum cfg_hijack_store store;	/* file */
		enum cfg_store_failure on_store_failure;	/* allow */
		struct {
			char	*address;	/* "127.0.0.1", an IP address */
			int	 port;		/* 6379 */
			char	*password_file;	/* NULL: no AUTH */
			char	*password;	/* owned: read from password_file
						   at load, never logged */
			char	*prefix;	/* "mxshield:" */
			int	 db;		/* 0 */
			int	 timeout_ms;	/* 500 */
		} redis;
	} hijack;

	struct cfg_size_limit	*size_limits;
	size_t			 nsize_limits;
	enum cfg_mode		 size_limits_mode;	/* default: mode */

	struct {
		int			 enabled;
		int			 threshold;	/* 10; 1..SPOOF_MAX */
		enum cfg_spoof_action	 action;	/* append */
		char			*warning_file;	/* NULL ("" too): built-in text */
		struct cfg_weight	*weights;	/* as written: sign names */
		size_t			 nweights;
		enum cfg_mode		 mode;		/* default: mode */
		char			*subject_prefix; /* "[Possible spoof] " */
		/* derived at load: the warning to append (warning_file's
		 * content, checked, or the built-in text; owned), and the
		 * weight of each enum spoof_sign (spoof_default_weights
		 * where weights names none) */
		char			*warning_text;
		size_t			 warning_len;
		int			 sign_weights[SPOOF_NSIGNS];
	} spoof;

	/* SPF (RFC 7208) of the MAIL FROM identity, and of HELO */
	struct {
		int			 enabled;
		int			 helo_check;	/* 0 */
		int			 reject_fail;	/* 0: fail accepted */
		enum cfg_spf_softfail	 softfail;	/* accept */
		int			 timeout;	/* 20 s for a whole check */
		enum cfg_mode		 mode;		/* default: mode */
	} spf;

	/* a DNS check that got no answer (SERVFAIL, timeout) */
	enum cfg_dns_error	 on_dns_error;	/* tempfail */

	struct {
		enum cfg_log_format	format;		/* json */
		enum cfg_log_level	level;		/* info */
		int			transcript;	/* 0 */
	} log;

	enum cfg_mode		 mode;		/* enforce */

	struct {
		char	*socket;	/* unix socket path; NULL: none */
	} control;

	/* the HTTP endpoint (proxy/metrics_http.c): /metrics, /healthz */
	struct {
		int	 enabled;	/* the group is given */
		char	*address;	/* "127.0.0.1" */
		int	 port;		/* 9125 */
		int	 health_backend_window;	/* 60 s */
	} metrics;

	/* the resolver of each worker (proxy/dns.c) */
	struct {
		struct cfg_strlist servers;	/* "ip", "ip:port", "[v6]:port";
						   none: /etc/resolv.conf */
		int		 timeout;	/* 5 s a try */
		int		 attempts;	/* 2 */
		int		 cache_entries;	/* 10000 a worker */
	} dns;

	struct cfg_loc		*locs;		/* where each key was written, */
	size_t			 nlocs;		/* for cfg_where() */
};

/* One key as written: "backend.address", "listen[0]" at file:line. */
struct cfg_loc {
	char		*path;
	char		*file;
	int		 line;
};

/*
 * cfg_load - read and validate path. On success returns a config the
 * caller frees with cfg_free(); on failure returns NULL and writes one
 * line per problem ("file:line: key: what is wrong") into err (cap
 * bytes, NUL-terminated, lines separated by '\n' with none after the
 * last, cut at a line end if needed). Every problem in the file is
 * reported, not only the first.
 */
struct config	*cfg_load(const char *path, char *err, size_t cap);
void		 cfg_free(struct config *cfg);

/*
 * cfg_peek_str - the string key (a path, "control.socket") as written in
 * the file at path, for a file cfg_load() refuses but libconfig reads
 * ("mxshield ctl" still finds the running process). 0 with it in buf
 * (cap bytes), or -1: the file does not parse, or sets no such string.
 */
int		 cfg_peek_str(const char *path, const char *key, char *buf,
		    size_t cap);

/*
 * cfg_where - "file:line" of key path (as "backend.address") for a
 * message about it, into buf. A key the file does not give is shown at
 * its nearest group that it gives ("backend"), else as the file alone.
 * Returns 1 when the key itself was written, else 0.
 */
int		 cfg_where(const struct config *cfg, const char *path,
		    char *buf, size_t cap);

/*
 * cfg_own_listener - the listener a connection to a, port port would
 * reach: one bound to that very address, or a wildcard one ("0.0.0.0"
 * for IPv4, "::" for IPv6) when a is an address of this host (all of
 * 127.0.0.0/8 and ::1, the unspecified address, or an interface's).
 * Its index, or -1: a backend there would be a relay loop.
 */
int		 cfg_own_listener(const struct config *cfg,
		    const struct net_addr *a, int port);

/*
 * cfg_spoof_settle - the spoof settings a key alone cannot check
 * (proxy/config_spoof.c): spoof.threshold no higher than SPOOF_MAX,
 * each spoof.weights name a sign of core/spoof.c with a weight
 * 0..SPOOF_MAX, and the warning text (spoof.warning_file read and
 * checked when spoof is enabled, else the built-in one) into
 * cfg->spoof.warning_text. Each problem goes to err(arg, key path,
 * message); the caller adds file:line. Returns the number of problems,
 * -1 when memory is short.
 */
typedef void	cfg_spoof_err_fn(void *arg, const char *path, const char *msg);
int	cfg_spoof_settle(struct config *cfg, cfg_spoof_err_fn *err, void *arg);

#endif
