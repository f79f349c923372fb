/*
 * core/policy.h - the policy engine: HELO checks (RFC 5321 4.1.1.1,
 * 4.1.3, 4.1.4), IP Shield on MAIL FROM, authentication rules for local
 * senders and for the envelope sender of an authenticated session, the
 * submission listener's AUTH requirement (RFC 6409 4.3), and relay
 * protection at RCPT (what Postfix's reject_unauth_destination does),
 * and size limits with exemptions (policy_size_*, core/policy_size.c).
 * The proxy asks at each phase; each answer is a verdict it carries out
 * (or only logs, when that check is in monitor mode). Pure: no I/O, no
 * clock, no globals; allocates nothing. Every pointer below is borrowed
 * from the caller.
 *
 * The flow, as the proxy drives it:
 *
 *   HELO/EHLO  policy_helo(). REJECT: send v.text, do not relay, change
 *              nothing (a refused HELO does not count, RFC 5321 4.1.4:
 *              the session stays as it was). PASS or DEFER: relay, then
 *              store the verdict in client.helo and set client.helo_seen.
 *              At STARTTLS, clear helo_seen with everything else.
 *   MAIL       policy_mail(): gives a deferred HELO refusal due at MAIL,
 *              503 for MAIL without an accepted HELO (when HELO checks
 *              are on), then submission, IP Shield, local senders,
 *              envelope match. Fills a struct policy_txn the caller
 *              keeps for the transaction's RCPTs.
 *   RCPT       policy_rcpt(): a deferred HELO refusal due at RCPT
 *              (postmaster exempt), auth.except_to_local, and
 *              relay_protection.
 *
 * The DNS checks (policy_dns(), core/policy_dns.c) judge facts the
 * proxy looked up beforehand (policy_client.dns); they are given at
 * helo.reject_at: by the proxy at HELO, inside policy_mail() and
 * policy_rcpt() at MAIL and RCPT, right after the deferred HELO
 * refusal.
 *
 * In monitor mode the proxy logs the verdict and then behaves as for
 * PASS (stores a refused HELO as accepted, relays the command).
 * Checks are evaluated one property at a time, in a fixed order; the
 * first that fails gives the verdict. Each control may have its own
 * mode, so a refusal the proxy only logs must not hide the next check:
 * it asks again with policy_mail_skip() / policy_rcpt_skip(), passing
 * over the checks it already logged. A client in trusted_networks is
 * exempt from every check here.
 */
#ifndef MXS_POLICY_H
#define MXS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/net.h"
#include "core/smtp_cmd.h"
#include "core/span.h"

/* What the proxy does with a command. */
enum policy_action {
	POLICY_PASS = 0,	/* relay the command as it is */
	POLICY_REJECT,		/* reply text now; do not relay */
	POLICY_DEFER,		/* relay now; the refusal (text) is given
				   at stage `at` (HELO checks only) */
	POLICY_TAG,		/* the message is delivered marked (the spoof
				   score at or above its threshold) */
};

/* An SMTP stage: where a verdict is given. */
enum policy_stage {
	POLICY_AT_HELO = 0,
	POLICY_AT_MAIL,
	POLICY_AT_RCPT,
	POLICY_AT_AUTH,		/* hijack detection's 535 to a disabled
				   identity (given by the proxy) */
	POLICY_AT_DATA,		/* after the final dot: size limits, the
				   From: header checks on the held header
				   section */
};

/* Which check a verdict comes from ("check" in the JSON log). */
enum policy_check {
	POLICY_CK_NONE = 0,	/* PASS */
	POLICY_CK_HELO,
	POLICY_CK_IP_SHIELD,
	POLICY_CK_AUTH,		/* require_for_local_senders, match_envelope */
	POLICY_CK_SUBMISSION,
	POLICY_CK_HIJACK,
	POLICY_CK_RELAY,	/* relay_protection */
	POLICY_CK_SIZE,		/* size_limits */
	POLICY_CK_SPOOF,	/* the spoof score (core/spoof.h; verdicts
				   built by the proxy) */
	POLICY_CK_SPF,		/* SPF (core/policy_spf.h) */
	POLICY_CK_RDNS,		/* client.require_rdns, require_fcrdns */
	POLICY_CK_DNSBL,	/* dnsbl zones and threshold */
};

/* A set of checks, for the skip argument: POLICY_CK_BIT(POLICY_CK_HELO). */
#define POLICY_CK_BIT(c)	(1u << (unsigned)(c))

#define POLICY_ENH_MAX		12	/* "5.7.1" and NUL */
#define POLICY_TEXT_MAX		256	/* one reply line, no CRLF, NUL */
#define POLICY_REASON_MAX	384	/* one log reason, NUL */

/*
 * A verdict: a value, copied freely. text is the whole reply line the
 * client gets ("530 5.7.0 Authentication required"), without CRLF;
 * client-supplied parts in text and reason are cut (64 octets in text,
 * 128 in reason, then "...") and every octet outside 0x21..0x7e becomes
 * '?'. On PASS: code 0, enh and text empty, reason empty or naming the
 * exemption that applied ("client in trusted_networks").
 */
struct policy_verdict {
	enum policy_action	action;
	enum policy_stage	at;	/* REJECT: the stage it was given at;
					   DEFER: the stage it is due at */
	enum policy_check	check;
	int			code;	/* 530 */
	char			enh[POLICY_ENH_MAX];	/* "5.7.0" */
	char			text[POLICY_TEXT_MAX];
	char			reason[POLICY_REASON_MAX];
	int			score;	/* the spoof score; 0 elsewhere */
};

/* ip_shield.entries[]: a domain pattern and the networks it may use. */
struct policy_shield_entry {
	const char		*domain;	/* "example.com", "*.example.com"
						   (subdomains only) or
						   "$LOCALDOMAIN$" */
	const struct net	*nets;
	size_t			 nnets;		/* 0: only with AUTH */
};

/* auth.aliases[]: an identity may also send as these addresses. */
struct policy_alias {
	const char		*identity;	/* "alice@example.com", "jdoe" */
	char *const		*addresses;	/* "sales@example.com" (exact) or
						   "@example.net" (that domain,
						   not its subdomains) */
	size_t			 naddresses;
};

/* size_limits[]: a limit in octets and the addresses exempt from it. */
struct policy_size_limit {
	uint64_t		 max;		/* > 0 */
	char *const		*except;	/* "boss@example.com" (exact) or
						   "@partner.example.net" (that
						   domain), as auth.aliases */
	size_t			 nexcept;
};

/*
 * The settings, filled once by the proxy from its configuration and
 * owned by it. String arrays are char *const * so that a char ** from
 * the config loader fits without a cast; core never writes through them.
 */
struct policy_cfg {
	const char		*hostname;	/* ours; NULL or "": none */
	char *const		*local_domains;
	size_t			 nlocal_domains;
	const struct net	*own_addresses;
	size_t			 nown_addresses;
	const struct net	*trusted_networks;
	size_t			 ntrusted_networks;
	bool			 relay_protection; /* unauthenticated:
						      local recipients only */

	struct {
		bool			reject_bare_ip;
		bool			literal_must_match;
		bool			reject_own_identity;
		bool			require_fqdn;
		bool			require_resolvable;	/* DNS */
		bool			must_match_client;	/* DNS */
		enum policy_stage	reject_at;	/* default RCPT; the
							   DNS checks' too */
	} helo;

	struct {
		bool			require_rdns;
		bool			require_fcrdns;
	} client;

	struct {
		bool			enabled;	/* zones configured */
		int			threshold;	/* >= 1 */
	} dnsbl;

	bool			 dns_error_accept;	/* on_dns_error =
							   "accept" */

	struct {
		bool				 enabled;
		bool				 check_from_header;
		const struct policy_shield_entry *entries;
		size_t				 nentries;
	} ip_shield;

	struct {
		bool			 require_for_local_senders;
		bool			 except_to_local;
		bool			 match_envelope;
		bool			 match_from_header;
		const struct policy_alias *aliases;
		size_t			 naliases;
	} auth;

	struct {
		const struct policy_size_limit *entries;
		size_t			 nentries;	/* 0: no limit */
	} size;
};

/* The session's facts, kept by the proxy. */
struct policy_client {
	struct net_addr		 addr;		/* the client (after PROXY) */
	const char		*ip;		/* addr printed; NULL: core
						   prints addr itself */
	bool			 trusted;	/* policy_is_trusted(), once */
	const char		*auth_id;	/* identity bound at 235; NULL:
						   not authenticated */
	bool			 tls;		/* TLS is up (not used yet) */
	bool			 submission;	/* listener has submission = true */
	bool			 helo_seen;	/* a HELO/EHLO was accepted */
	struct policy_verdict	 helo;		/* its verdict: PASS or DEFER */
	const struct policy_dns	*dns;		/* what DNS said (the proxy
						   looked it up); NULL: none */
};

/* One fact DNS gave, as a DNS check reads it. */
enum policy_dns_fact {
	POLICY_DNS_UNKNOWN = 0,	/* not looked up (the check does not
				   apply: an address literal as HELO, a
				   name that cannot be asked) */
	POLICY_DNS_YES,
	POLICY_DNS_NO,
	POLICY_DNS_ERROR,	/* a lookup it needs failed (SERVFAIL,
				   timeout): on_dns_error decides */
};

/*
 * The DNS facts of a session, filled by the proxy from its lookups
 * before it asks for a verdict that needs them. Strings are borrowed
 * from the proxy. helo_name and ptr_bad are untrusted (sanitised in
 * texts and reasons); ptr_name was checked by dnsname_is_host(); the
 * why and detail strings are printable text the proxy wrote (DNS data
 * in them, a TXT reason, already made printable), taken as they are.
 */
struct policy_dns {
	const char		*helo_name;	/* the HELO/EHLO name looked up
						   (as sent), or NULL */
	bool			 helo_ehlo;	/* it came with EHLO */
	enum policy_dns_fact	 helo_resolves;	/* the HELO name has an A or
						   AAAA record */
	enum policy_dns_fact	 helo_matches;	/* one of them is the client */
	const char		*helo_why;	/* ERROR: what failed */
	enum policy_dns_fact	 rdns;		/* a PTR record with a host
						   name */
	enum policy_dns_fact	 fcrdns;	/* a PTR name whose A/AAAA
						   holds the client */
	const char		*ptr_name;	/* the first PTR name, or NULL */
	const char		*ptr_bad;	/* NO because the PTR names were
						   not host names: why, or NULL */
	const char		*rdns_why;	/* ERROR: what failed */
	enum policy_dns_fact	 dnsbl;		/* YES: the score reached the
						   threshold; NO: it did not;
						   ERROR: a zone that failed
						   could change that */
	int			 dnsbl_score;
	const char		*dnsbl_zone;	/* YES: the zone the reply
						   names (the heaviest that
						   listed the client) */
	const char		*dnsbl_detail;	/* the zones' answers and TXT
						   reasons, for the log */
	const char		*dnsbl_why;	/* ERROR: what failed */
};

/* Facts about the current transaction, from policy_mail() for its RCPTs. */
struct policy_txn {
	bool	local_unauth;	/* MAIL FROM a local domain without AUTH
				   (counted only when auth.require_for_
				   local_senders is on) */
};

/* What a HELO/EHLO argument is (policy_helo_class()). */
enum policy_helo_class {
	POLICY_HELO_EMPTY = 0,	/* nothing, or spaces only */
	POLICY_HELO_BARE_IPV4,	/* 192.0.2.1 (a trailing dot allowed) */
	POLICY_HELO_BARE_IPV6,	/* 2001:db8::1 */
	POLICY_HELO_LITERAL_V4,	/* [192.0.2.1] */
	POLICY_HELO_LITERAL_V6,	/* [IPv6:2001:db8::1], also untagged */
	POLICY_HELO_BAD_LITERAL, /* starts with "[", not one of the above */
	POLICY_HELO_FQDN,	/* name with two labels or more */
	POLICY_HELO_NO_DOT,	/* one label: "localhost", "mike" */
	POLICY_HELO_INVALID,	/* anything else */
};

/*
 * policy_helo_class - classify a HELO argument. Spaces and tabs around
 * it are ignored (one inside makes it INVALID); one trailing dot on a
 * name or bare IPv4 is ignored. Names are lenient as deployed MTAs are:
 * labels of 1..63 octets of letters, digits, "-", "_" or well-formed
 * UTF-8 (RFC 6531 U-labels), at most 255 octets in all, and the last
 * label not all digits ("1.2.3" is INVALID: no TLD is numeric). Bare
 * and literal addresses parse with net_addr_parse() (strict: no leading
 * zeros); for the four address classes *addr gets the address, else it
 * is zeroed. addr may be NULL.
 */
enum policy_helo_class	policy_helo_class(struct span helo,
			    struct net_addr *addr);

/*
 * policy_helo - the HELO/EHLO checks, in this order, each only when
 * switched on: reject_bare_ip (BARE_IPV4/6), literal_must_match (a
 * literal not equal to the client, IPv4-mapped counting as IPv4, or a
 * BAD_LITERAL), reject_own_identity (our hostname or a local domain,
 * exact, case-insensitive, trailing dot ignored; or a bare or literal
 * address inside own_addresses), require_fqdn (EMPTY, NO_DOT, INVALID
 * and BAD_LITERAL fail: neither a name with a dot nor an address; bare
 * IPs pass, refusing them is reject_bare_ip's property). The first
 * failure is refused by helo.reject_at: HELO gives REJECT, 501 5.5.2
 * for a bare IP and 550 5.7.1 for the others; MAIL or RCPT give DEFER
 * with 550 5.7.1 for all. Exempt (PASS): trusted clients, and clients
 * of a submission listener (which must AUTH anyway, and whose roaming
 * users often send "EHLO [192.168.1.10]"). is_ehlo only names the verb
 * in texts. Returns out->action.
 */
enum policy_action	policy_helo(const struct policy_cfg *cfg,
			    const struct policy_client *cl, struct span helo,
			    bool is_ehlo, struct policy_verdict *out);

/*
 * policy_dns - the DNS checks, given at stage at (the caller asks only
 * at helo.reject_at; at HELO they REJECT the HELO, at MAIL and RCPT
 * the command), in this order, each only when switched on and its
 * fact is known (cl->dns not NULL, the fact not UNKNOWN):
 *  helo.require_resolvable (POLICY_CK_HELO): the HELO name has an A or
 *     AAAA record: else 550 5.7.1 "<verb> <name> has no address in DNS";
 *  helo.must_match_client (POLICY_CK_HELO): one of them is the client:
 *     else 550 5.7.1 "<verb> <name> does not resolve to your address
 *     <ip>";
 *  client.require_rdns (POLICY_CK_RDNS): a PTR with a host name: else
 *     550 5.7.1 "Client host [ip] has no reverse DNS name";
 *  client.require_fcrdns (POLICY_CK_RDNS): a PTR name that resolves
 *     back to the client: else 550 5.7.1 "Client host [ip]: its
 *     reverse DNS name does not resolve back to it";
 *  dnsbl (POLICY_CK_DNSBL): the weighted score under the threshold:
 *     else 554 5.7.1 "Service unavailable; client [ip] blocked using
 *     <zone>".
 * A fact that is ERROR gives, with on_dns_error = "tempfail", 451
 * 4.4.3 naming what could not be checked; with "accept" the check
 * passes (the reason says so only in the log the proxy writes). The
 * verb (HELO or EHLO) names the command in the HELO texts, the name
 * being the one looked up (dns->helo_name).
 * Exempt (PASS): trusted clients, submission listeners, authenticated
 * sessions. Checks in skip are passed over. Returns out->action: PASS
 * or REJECT.
 */
enum policy_action	policy_dns(const struct policy_cfg *cfg,
			    const struct policy_client *cl, enum policy_stage at,
			    unsigned skip, struct policy_verdict *out);

/* policy_dns_checks_on - is any DNS check of cfg switched on? */
bool	policy_dns_checks_on(const struct policy_cfg *cfg);

/*
 * policy_mail - MAIL FROM (mail as parsed by cmd_parse(), CMD_OK). In
 * order:
 *  1. HELO, unless submission or authenticated: when a HELO or DNS
 *     check is on and no HELO/EHLO was accepted, 503 5.5.1 (a client
 *     cannot skip HELO to skip its checks); a stored DEFER due at MAIL
 *     is given now; then, with helo.reject_at = MAIL, policy_dns().
 *  2. submission: a submission listener wants AUTH from every sender,
 *     <> included: 530 5.7.0.
 *  3. ip_shield (not for <> or authenticated sessions): the sender's
 *     domain matched by entries (see policy_domain_matches) must come
 *     from the union of their networks: else 530 5.7.0 "Authentication
 *     required to send mail from <ip>". No entry: not restricted.
 *  4. auth.require_for_local_senders: a local domain without AUTH: 530
 *     5.7.0; with auth.except_to_local the MAIL passes and txn says so,
 *     and policy_rcpt() refuses non-local recipients.
 *  5. auth.match_envelope (authenticated, not <>): the sender must be
 *     the identity (whole address, case-insensitive), or, for an
 *     identity without "@", its local part at any local domain; or one
 *     of the identity's aliases: else 553 5.7.1.
 * txn is reset and filled (also on REJECT, for monitor mode). Address
 * literals (user@[192.0.2.1]) are never local, and IP Shield restricts
 * them only where an entry names that literal. Returns out->action.
 */
enum policy_action	policy_mail(const struct policy_cfg *cfg,
			    const struct policy_client *cl,
			    const struct smtp_cmd *mail, struct policy_txn *txn,
			    struct policy_verdict *out);

/*
 * policy_mail_skip - policy_mail() with the checks in skip (a set of
 * POLICY_CK_BIT()) passed over: the proxy asks again after a refusal it
 * only logged, so the next check still gets its say. A REJECT never
 * comes from a check in skip. POLICY_CK_AUTH covers steps 4 and 5; txn
 * is filled the same whatever skip says.
 */
enum policy_action	policy_mail_skip(const struct policy_cfg *cfg,
			    const struct policy_client *cl,
			    const struct smtp_cmd *mail, unsigned skip,
			    struct policy_txn *txn, struct policy_verdict *out);

/*
 * policy_rcpt - RCPT TO, for the transaction txn (not NULL) that
 * policy_mail() filled for this MAIL.
 *  1. a stored HELO DEFER due at RCPT is given (REJECT with its text),
 *     and with helo.reject_at = RCPT policy_dns(), except to postmaster: <postmaster>, or local part "postmaster"
 *     (any case, quoted or not) at any domain, without a source route
 *     (RFC 5321 4.5.1; the backend still refuses what it does not
 *     relay); authenticated and submission sessions are exempt.
 *  2. auth.except_to_local: a local sender without AUTH may only write
 *     to local recipients: <postmaster>, or a local domain with no
 *     source route and no "%", "!" or "@" in the local part (relay
 *     hacks); others get 530 5.7.0.
 *  3. relay_protection: an unauthenticated client may only write to
 *     local recipients, as in 2 (postmaster at another domain is not
 *     one); others get 554 5.7.1 "<rcpt>: Relay access denied", the
 *     answer of Postfix's reject_unauth_destination, so that a backend
 *     that trusts mxshield's own address never relays for the world.
 * Returns out->action.
 */
enum policy_action	policy_rcpt(const struct policy_cfg *cfg,
			    const struct policy_client *cl,
			    const struct policy_txn *txn,
			    const struct smtp_cmd *rcpt,
			    struct policy_verdict *out);

/* policy_rcpt_skip - policy_rcpt() with the checks in skip passed over,
 * as policy_mail_skip(). */
enum policy_action	policy_rcpt_skip(const struct policy_cfg *cfg,
			    const struct policy_client *cl,
			    const struct policy_txn *txn,
			    const struct smtp_cmd *rcpt, unsigned skip,
			    struct policy_verdict *out);

/*
 * policy_from_header - the checks of the From: field of a held header
 * section sec[0..len) (dot-stuffed wire format, as core/hdr.c reads
 * it), given after the final dot with 550 5.7.1. In order:
 *  1. ip_shield.check_from_header (ip_shield on, not authenticated):
 *     every From: address whose domain IP Shield entries cover (as at
 *     MAIL) must come from their networks: else "Sorry, <addr> <FROM
 *     header> not allowed to send mail from <ip>". A message without
 *     From: is not restricted.
 *  2. auth.match_from_header (authenticated): every From: address must
 *     be one the identity may use at MAIL FROM (itself, its local part
 *     at a local domain for an identity without "@", its aliases): else
 *     "Sorry, <addr> <FROM header> not owned by the authenticated
 *     user". A message without From: fails.
 * The address checked is the real one (local@domain, source route
 * dropped), never the display name, encoded or not. A check that needs
 * the From: field fails closed when it is absent (check 2 only),
 * appears more than once, cannot be parsed, holds no address (an empty
 * group) or holds more than POLICY_FROM_MAX_MAILBOXES addresses, or is
 * longer than POLICY_FROM_MAX_BYTES unfolded; each with its own reason.
 * Trusted clients are exempt. Returns out->action: PASS or REJECT
 * (at POLICY_AT_DATA).
 */
#define POLICY_FROM_MAX_BYTES		4096
#define POLICY_FROM_MAX_MAILBOXES	32
enum policy_action	policy_from_header(const struct policy_cfg *cfg,
			    const struct policy_client *cl, const char *sec,
			    size_t len, struct policy_verdict *out);

/* policy_from_header_skip - policy_from_header() with the checks in
 * skip (POLICY_CK_IP_SHIELD, POLICY_CK_AUTH) passed over, as
 * policy_mail_skip(). */
enum policy_action	policy_from_header_skip(const struct policy_cfg *cfg,
			    const struct policy_client *cl, const char *sec,
			    size_t len, unsigned skip,
			    struct policy_verdict *out);

/*
 * policy_size_limit - the size limit of a message, in octets; 0 when no
 * size_limits entry applies. Each entry is a limit with its own
 * exemptions; an entry exempts the message when one of its except
 * addresses covers (see policy_mailbox_matches)
 *  - the authenticated identity cl->auth_id ("jdoe", without "@",
 *    standing for jdoe at every local domain, as auth.match_envelope
 *    reads it), or
 *  - the envelope sender, only when the session authenticated or the
 *    client is in trusted_networks (an envelope alone is forgeable), or
 *  - one of the recipients (mail TO an exempt address may be big).
 * The limit is the smallest max among the entries that do not exempt
 * it. sender: the MAIL FROM path ("" for <>), NULL when unknown (EHLO);
 * rcpts: the accepted recipients' paths, nrcpts of them (may be 0).
 * *which, when not NULL, gets the index of the entry that gives the
 * limit (unchanged when 0 is returned).
 */
uint64_t	policy_size_limit(const struct policy_cfg *cfg,
		    const struct policy_client *cl, const char *sender,
		    char *const *rcpts, size_t nrcpts, size_t *which);

/*
 * policy_size_mail - MAIL FROM's SIZE= (RFC 1870) against the sender's
 * limit (policy_size_limit() without recipients: they come later):
 * above it, REJECT 552 5.3.4 at MAIL. No SIZE=, a malformed one (the
 * backend answers that), or no limit: PASS. Not exempt for trusted
 * clients: trust only lets the envelope sender count. Returns
 * out->action.
 */
enum policy_action	policy_size_mail(const struct policy_cfg *cfg,
			    const struct policy_client *cl,
			    const struct smtp_cmd *mail,
			    struct policy_verdict *out);

/*
 * policy_size_data - the counted size of a message (after dot-
 * unstuffing; while it streams, the octets counted so far) against
 * policy_size_limit() with sender and recipients: above it, REJECT 552
 * 5.3.4 "Message size exceeds fixed limit" at DATA. Returns
 * out->action.
 */
enum policy_action	policy_size_data(const struct policy_cfg *cfg,
			    const struct policy_client *cl, const char *sender,
			    char *const *rcpts, size_t nrcpts, uint64_t size,
			    struct policy_verdict *out);

/*
 * policy_mailbox_matches - does pattern (an auth.aliases or
 * size_limits.except address: "user@domain", the local part compared
 * case-insensitively, or "@domain", any local part at that domain, not
 * its subdomains) cover local@domain? local as written (quotes are
 * removed as policy_local_unquote() does); empty parts match nothing.
 */
bool	policy_mailbox_matches(const char *pattern, struct span local,
	    struct span domain);

/* policy_is_trusted - is a inside one of trusted_networks? */
bool	policy_is_trusted(const struct policy_cfg *cfg,
	    const struct net_addr *a);

/*
 * policy_domain_is_local - is domain one of local_domains? ASCII
 * case-insensitive, other octets compared as they are; one trailing dot
 * on either side is ignored. Empty domains and address literals never
 * are.
 */
bool	policy_domain_is_local(const struct policy_cfg *cfg,
	    struct span domain);

/*
 * policy_domain_matches - does an ip_shield domain pattern cover
 * domain? "$LOCALDOMAIN$": any local domain; "*.example.com": proper
 * subdomains of example.com only (not example.com itself); anything
 * else: that domain exactly. Comparison as in policy_domain_is_local;
 * an empty domain matches nothing.
 */
bool	policy_domain_matches(const struct policy_cfg *cfg,
	    const char *pattern, struct span domain);

/* Names for logs: "reject", "rcpt", "ip_shield", "relay", "LITERAL_V4". */
const char	*policy_action_name(enum policy_action a);
const char	*policy_stage_name(enum policy_stage s);
const char	*policy_check_name(enum policy_check c);
const char	*policy_helo_class_name(enum policy_helo_class c);

#endif
