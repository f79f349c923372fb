/*
 * core/policy.c - what the policy checks share: trusted networks, local
 * domains and ip_shield domain patterns (case-insensitive ASCII, RFC
 * 5321 2.4; a trailing dot is the same domain, RFC 1034 3.1), enum
 * names for the log, and the bounded, sanitised building of a verdict's
 * reply text and reason. Input: configuration (trusted) and spans from
 * the client (untrusted, not NUL-terminated). Allocates nothing.
 */
#include <string.h>

#include "core/policy.h"
#include "core/policy_int.h"

static int
fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Equal, ASCII letters folded; other octets compared as they are. */
bool
policy_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (fold((unsigned char)a[i]) != fold((unsigned char)b[i]))
			return false;
	return true;
}

/* "example.com." is "example.com"; "." stays "." (and matches nothing). */
struct span
policy_domain_norm(struct span d)
{
	if (d.len > 1 && d.p[d.len - 1] == '.')
		d.len--;
	return d;
}

/*
 * "\"postmaster\"" is the same local part as "postmaster" (RFC 5321
 * 4.1.2: the quotes are not part of it). With a backslash inside, the
 * raw form is kept, quotes and all: the quoted-pair in "al\ice" makes
 * it mean alice, and it must not pass for an identity spelt al\ice.
 */
struct span
policy_local_unquote(struct span local)
{
	if (local.len < 2 || local.p[0] != '"' || local.p[local.len - 1] != '"')
		return local;
	if (memchr(local.p, '\\', local.len) != NULL)
		return local;
	return span_make(local.p + 1, local.len - 2);
}

/* Is d, normalised, equal to the NUL-terminated domain s, normalised? */
static bool
domain_eq(struct span d, const char *s)
{
	struct span	t = policy_domain_norm(span_make(s, strlen(s)));

	return policy_ieq(d.p, d.len, t.p, t.len);
}

/*
 * Accepts any address; trusted_networks may be empty (nobody trusted).
 * Returns true when some network holds a.
 */
bool
policy_is_trusted(const struct policy_cfg *cfg, const struct net_addr *a)
{
	for (size_t i = 0; i < cfg->ntrusted_networks; i++)
		if (net_match(&cfg->trusted_networks[i], a))
			return true;
	return false;
}

/*
 * Refuses empty domains, "." and address literals before comparing, so
 * that no empty or odd domain can slip through as "local".
 */
bool
policy_domain_is_local(const struct policy_cfg *cfg, struct span domain)
{
	struct span	d = policy_domain_norm(domain);

	if (d.len == 0 || d.p == NULL)
		return false;
	if (d.p[0] == '[' || (d.len == 1 && d.p[0] == '.'))
		return false;
	for (size_t i = 0; i < cfg->nlocal_domains; i++) {
		if (cfg->local_domains[i] == NULL)
			continue;
		if (domain_eq(d, cfg->local_domains[i]))
			return true;
	}
	return false;
}

/*
 * "*.example.com" covers "a.example.com" and "b.a.example.com": the
 * domain must be longer than ".example.com" and end with it. An address
 * literal matches only a pattern spelt as that literal (compared as
 * text, letters folded: [192.0.2.1] is not [IPv6:::ffff:192.0.2.1]).
 */
bool
policy_domain_matches(const struct policy_cfg *cfg, const char *pattern,
    struct span domain)
{
	struct span	d = policy_domain_norm(domain), p;

	if (pattern == NULL || d.len == 0 || d.p == NULL)
		return false;
	if (d.len == 1 && d.p[0] == '.')
		return false;
	if (strcmp(pattern, "$LOCALDOMAIN$") == 0)
		return policy_domain_is_local(cfg, d);
	p = policy_domain_norm(span_make(pattern, strlen(pattern)));
	if (p.len >= 2 && p.p[0] == '*' && p.p[1] == '.') {
		/* the suffix keeps its dot: ".example.com" */
		p.p++;
		p.len--;
		if (d.len <= p.len)
			return false;
		return policy_ieq(d.p + d.len - p.len, p.len, p.p, p.len);
	}
	return policy_ieq(d.p, d.len, p.p, p.len);
}

/* Overwrites all of *v; why is copied (trusted text), NULL for none. */
void
policy_pass(struct policy_verdict *v, const char *why)
{
	memset(v, 0, sizeof(*v));
	v->action = POLICY_PASS;
	v->check = POLICY_CK_NONE;
	if (why != NULL)
		policy_reason(v, why);
}

/* Append s[0..n) to the NUL-terminated dst (cap bytes), cutting. */
static void
cat(char *dst, size_t cap, const char *s, size_t n)
{
	size_t	len = strnlen(dst, cap - 1);

	if (n > cap - 1 - len)
		n = cap - 1 - len;
	memcpy(dst + len, s, n);
	dst[len + n] = '\0';
}

/*
 * Append untrusted s: each octet outside 0x21..0x7e becomes '?', and
 * past max octets the rest becomes "...". Never a space, control, or a
 * partial UTF-8 sequence in a reply line or a reason.
 */
static void
cat_untrusted(char *dst, size_t cap, struct span s, size_t max)
{
	char	buf[POLICY_UNTRUSTED_REASON + 4];
	size_t	n = s.len < max ? s.len : max;

	if (n > POLICY_UNTRUSTED_REASON)
		n = POLICY_UNTRUSTED_REASON;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		buf[i] = c >= 0x21 && c <= 0x7e ? (char)c : '?';
	}
	if (n < s.len) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	cat(dst, cap, buf, n);
}

/*
 * Overwrites all of *v. code must be 3 digits and enh an enhanced code
 * of ours; the text starts "<code> <enh> " for the caller to complete.
 */
void
policy_refuse(struct policy_verdict *v, enum policy_action action,
    enum policy_stage at, enum policy_check check, int code, const char *enh)
{
	char	num[4];

	memset(v, 0, sizeof(*v));
	v->action = action;
	v->at = at;
	v->check = check;
	v->code = code;
	cat(v->enh, sizeof(v->enh), enh, strlen(enh));
	/* codes are 3 digits (RFC 5321 4.2) */
	num[0] = (char)('0' + code / 100 % 10);
	num[1] = (char)('0' + code / 10 % 10);
	num[2] = (char)('0' + code % 10);
	num[3] = ' ';
	cat(v->text, sizeof(v->text), num, 4);
	cat(v->text, sizeof(v->text), v->enh, strlen(v->enh));
	cat(v->text, sizeof(v->text), " ", 1);
}

/*
 * Appenders: trusted text as it is, untrusted spans sanitised and cut
 * (POLICY_UNTRUSTED_TEXT / _REASON); all stop at the array's end.
 */
void
policy_text(struct policy_verdict *v, const char *s)
{
	cat(v->text, sizeof(v->text), s, strlen(s));
}

void
policy_text_untrusted(struct policy_verdict *v, struct span s)
{
	cat_untrusted(v->text, sizeof(v->text), s, POLICY_UNTRUSTED_TEXT);
}

void
policy_reason(struct policy_verdict *v, const char *s)
{
	cat(v->reason, sizeof(v->reason), s, strlen(s));
}

void
policy_reason_untrusted(struct policy_verdict *v, struct span s)
{
	cat_untrusted(v->reason, sizeof(v->reason), s,
	    POLICY_UNTRUSTED_REASON);
}

/* cl->ip (borrowed) or addr printed into buf; "unknown" if it fails. */
const char *
policy_client_ip(const struct policy_client *cl, char *buf, size_t cap)
{
	if (cl->ip != NULL)
		return cl->ip;
	if (net_addr_format(&cl->addr, buf, cap) == 0)
		return "unknown";
	return buf;
}

/* Static strings; "?" for a value outside the enum. */
const char *
policy_action_name(enum policy_action a)
{
	switch (a) {
	case POLICY_PASS:	return "pass";
	case POLICY_REJECT:	return "reject";
	case POLICY_DEFER:	return "defer";
	case POLICY_TAG:	return "tag";
	}
	return "?";
}

const char *
policy_stage_name(enum policy_stage s)
{
	switch (s) {
	case POLICY_AT_HELO:	return "helo";
	case POLICY_AT_MAIL:	return "mail";
	case POLICY_AT_RCPT:	return "rcpt";
	case POLICY_AT_AUTH:	return "auth";
	case POLICY_AT_DATA:	return "data";
	}
	return "?";
}

const char *
policy_check_name(enum policy_check c)
{
	switch (c) {
	case POLICY_CK_NONE:		return "none";
	case POLICY_CK_HELO:		return "helo";
	case POLICY_CK_IP_SHIELD:	return "ip_shield";
	case POLICY_CK_AUTH:		return "auth";
	case POLICY_CK_SUBMISSION:	return "submission";
	case POLICY_CK_HIJACK:		return "hijack";
	case POLICY_CK_RELAY:		return "relay";
	case POLICY_CK_SIZE:		return "size";
	case POLICY_CK_SPOOF:		return "spoof";
	case POLICY_CK_SPF:		return "spf";
	case POLICY_CK_RDNS:		return "rdns";
	case POLICY_CK_DNSBL:		return "dnsbl";
	}
	return "?";
}

const char *
policy_helo_class_name(enum policy_helo_class c)
{
	switch (c) {
	case POLICY_HELO_EMPTY:		return "EMPTY";
	case POLICY_HELO_BARE_IPV4:	return "BARE_IPV4";
	case POLICY_HELO_BARE_IPV6:	return "BARE_IPV6";
	case POLICY_HELO_LITERAL_V4:	return "LITERAL_V4";
	case POLICY_HELO_LITERAL_V6:	return "LITERAL_V6";
	case POLICY_HELO_BAD_LITERAL:	return "BAD_LITERAL";
	case POLICY_HELO_FQDN:		return "FQDN";
	case POLICY_HELO_NO_DOT:	return "NO_DOT";
	case POLICY_HELO_INVALID:	return "INVALID";
	}
	return "?";
}
