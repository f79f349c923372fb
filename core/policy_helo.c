/*
 * core/policy_helo.c - the HELO/EHLO argument: what it is (a name, a
 * bare IP, an address literal, RFC 5321 4.1.1.1, 4.1.3, 4.1.4) and the
 * four syntactic checks on it (bare IP, literal matching the client,
 * our own identity, FQDN), refused at HELO or deferred to MAIL/RCPT.
 * Input: the argument as sent (untrusted, not NUL-terminated), the
 * configuration and the session's facts. Allocates nothing.
 */
#include <string.h>
#include <sys/socket.h>

#include "core/policy.h"
#include "core/policy_int.h"

#define HELO_NAME_MAX	255	/* RFC 5321 4.5.3.1.2 */
#define HELO_LABEL_MAX	63	/* RFC 1035 2.3.4 */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    is_digit(c) || c == '-' || c == '_';
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		k;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < k || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return k;
}

/* s (trimmed, trailing dot gone) as a host name: FQDN, NO_DOT, INVALID. */
static enum policy_helo_class
classify_name(struct span s)
{
	const unsigned char	*p = (const unsigned char *)s.p;
	size_t			 labels = 0, lab = 0, i = 0, k;
	bool			 alldigit = true;

	if (s.len == 0 || s.len > HELO_NAME_MAX)
		return POLICY_HELO_INVALID;
	for (;;) {
		if (i == s.len || p[i] == '.') {
			if (lab == 0 || lab > HELO_LABEL_MAX)
				return POLICY_HELO_INVALID;
			labels++;
			if (i == s.len)
				break;
			lab = 0;
			alldigit = true;
			i++;
			continue;
		}
		if (is_ldh(p[i])) {
			alldigit = alldigit && is_digit(p[i]);
			lab++;
			i++;
		} else if (p[i] >= 0x80 && (k = utf8_seq(p + i, s.len - i)) > 0) {
			alldigit = false;
			lab += k;
			i += k;
		} else {
			return POLICY_HELO_INVALID;
		}
	}
	if (alldigit)
		return POLICY_HELO_INVALID;	/* no TLD is all digits */
	return labels > 1 ? POLICY_HELO_FQDN : POLICY_HELO_NO_DOT;
}

/* s starts with "[": [IPv4], [IPv6:...], untagged [IPv6] or BAD. */
static enum policy_helo_class
classify_literal(struct span s, struct net_addr *a)
{
	struct span	in;

	if (s.len < 2 || s.p[s.len - 1] != ']')
		return POLICY_HELO_BAD_LITERAL;
	in = span_make(s.p + 1, s.len - 2);
	if (in.len >= 5 && policy_ieq(in.p, 5, "IPv6:", 5)) {
		if (net_addr_parse(in.p + 5, in.len - 5, a) == 0 &&
		    a->family == AF_INET6)
			return POLICY_HELO_LITERAL_V6;
		return POLICY_HELO_BAD_LITERAL;
	}
	if (net_addr_parse(in.p, in.len, a) != 0)
		return POLICY_HELO_BAD_LITERAL;
	/* untagged IPv6 breaks RFC 5321 4.1.3, but says the same thing */
	return a->family == AF_INET6 ? POLICY_HELO_LITERAL_V6 :
	    POLICY_HELO_LITERAL_V4;
}

/*
 * Accepts any bytes. Returns the class; *addr holds the address for the
 * four address classes and is zero otherwise.
 */
enum policy_helo_class
policy_helo_class(struct span helo, struct net_addr *addr)
{
	struct net_addr		 a;
	struct span		 s = helo;
	enum policy_helo_class	 cls;

	memset(&a, 0, sizeof(a));
	if (s.p == NULL)
		s.len = 0;
	while (s.len > 0 && is_blank(s.p[0])) {
		s.p++;
		s.len--;
	}
	while (s.len > 0 && is_blank(s.p[s.len - 1]))
		s.len--;

	if (s.len == 0)
		cls = POLICY_HELO_EMPTY;
	else if (s.p[0] == '[')
		cls = classify_literal(s, &a);
	else if (memchr(s.p, ':', s.len) != NULL)
		cls = net_addr_parse(s.p, s.len, &a) == 0 &&
		    a.family == AF_INET6 ? POLICY_HELO_BARE_IPV6 :
		    POLICY_HELO_INVALID;
	else {
		s = policy_domain_norm(s);
		if (net_addr_parse(s.p, s.len, &a) == 0 && a.family == AF_INET)
			cls = POLICY_HELO_BARE_IPV4;
		else
			cls = classify_name(s);
	}
	if (cls != POLICY_HELO_BARE_IPV4 && cls != POLICY_HELO_BARE_IPV6 &&
	    cls != POLICY_HELO_LITERAL_V4 && cls != POLICY_HELO_LITERAL_V6)
		memset(&a, 0, sizeof(a));
	if (addr != NULL)
		*addr = a;
	return cls;
}

/* One HELO under examination. */
struct helo_ctx {
	const struct policy_cfg		*cfg;
	const struct policy_client	*cl;
	struct span			 arg;	/* as sent, blanks trimmed */
	struct span			 name;	/* arg without a trailing dot */
	enum policy_helo_class		 cls;
	struct net_addr			 addr;	/* for the address classes */
	const char			*verb;	/* "HELO" or "EHLO" */
};

/*
 * Start a refusal of c: at HELO (REJECT; 501 5.5.2 for syntax, else
 * 550 5.7.1) or deferred to helo.reject_at (DEFER, 550 5.7.1 always:
 * a syntax code would make no sense as the reply to MAIL or RCPT).
 * Text and reason get "<verb> "; the check appends the rest. DNS-based
 * checks will refuse through here too.
 */
static void
helo_refuse(const struct helo_ctx *c, struct policy_verdict *v, bool syntax)
{
	enum policy_stage	at = c->cfg->helo.reject_at;

	if (at == POLICY_AT_HELO)
		policy_refuse(v, POLICY_REJECT, POLICY_AT_HELO, POLICY_CK_HELO,
		    syntax ? 501 : 550, syntax ? "5.5.2" : "5.7.1");
	else
		policy_refuse(v, POLICY_DEFER,
		    at == POLICY_AT_MAIL ? POLICY_AT_MAIL : POLICY_AT_RCPT,
		    POLICY_CK_HELO, 550, "5.7.1");
	policy_text(v, c->verb);
	policy_text(v, " ");
	policy_reason(v, c->verb);
	policy_reason(v, " ");
}

/* reject_bare_ip: "HELO 192.0.2.1" needs brackets (RFC 5321 4.1.3). */
static bool
helo_bare_ip(const struct helo_ctx *c, struct policy_verdict *v)
{
	if (c->cls != POLICY_HELO_BARE_IPV4 && c->cls != POLICY_HELO_BARE_IPV6)
		return false;
	helo_refuse(c, v, true);
	policy_text_untrusted(v, c->arg);
	policy_text(v, " is not valid: an IP address must be in brackets");
	policy_reason_untrusted(v, c->arg);
	policy_reason(v, " is a bare IP address, not in brackets");
	return true;
}

/*
 * literal_must_match: a literal must be the client's own address
 * (net_match: ::ffff:192.0.2.7 and 192.0.2.7 are one). A malformed
 * literal can never be, so it fails too.
 */
static bool
helo_literal(const struct helo_ctx *c, struct policy_verdict *v)
{
	struct net	 n;
	char		 buf[64];
	const char	*ip;

	if (c->cls == POLICY_HELO_BAD_LITERAL) {
		helo_refuse(c, v, false);
		policy_text_untrusted(v, c->arg);
		policy_text(v, " is not a valid address literal");
		policy_reason_untrusted(v, c->arg);
		policy_reason(v, " is not a valid address literal");
		return true;
	}
	if (c->cls != POLICY_HELO_LITERAL_V4 && c->cls != POLICY_HELO_LITERAL_V6)
		return false;
	memset(&n, 0, sizeof(n));
	n.family = c->addr.family;
	memcpy(n.addr, c->addr.addr, sizeof(n.addr));
	n.prefix = n.family == AF_INET ? 32 : 128;
	if (net_match(&n, &c->cl->addr))
		return false;
	ip = policy_client_ip(c->cl, buf, sizeof(buf));
	helo_refuse(c, v, false);
	policy_text_untrusted(v, c->arg);
	policy_text(v, " does not match your address ");
	policy_text(v, ip);
	policy_reason_untrusted(v, c->arg);
	policy_reason(v, " does not match client ");
	policy_reason(v, ip);
	return true;
}

/*
 * reject_own_identity: our hostname, a local domain (exactly; its
 * subdomains may be other hosts), or one of own_addresses, bare or in
 * brackets. Trusted clients never get here.
 */
static bool
helo_own(const struct helo_ctx *c, struct policy_verdict *v)
{
	const struct policy_cfg	*cfg = c->cfg;
	const char		*what = NULL;
	struct span		 h;

	switch (c->cls) {
	case POLICY_HELO_FQDN:
	case POLICY_HELO_NO_DOT:
		if (cfg->hostname != NULL && cfg->hostname[0] != '\0') {
			h = policy_domain_norm(span_make(cfg->hostname,
			    strlen(cfg->hostname)));
			if (policy_ieq(c->name.p, c->name.len, h.p, h.len))
				what = " is our hostname";
		}
		if (what == NULL && policy_domain_is_local(cfg, c->name))
			what = " is our local domain";
		break;
	case POLICY_HELO_BARE_IPV4:
	case POLICY_HELO_BARE_IPV6:
	case POLICY_HELO_LITERAL_V4:
	case POLICY_HELO_LITERAL_V6:
		for (size_t i = 0; i < cfg->nown_addresses; i++)
			if (net_match(&cfg->own_addresses[i], &c->addr))
				what = " is our own address";
		break;
	default:
		break;
	}
	if (what == NULL)
		return false;
	helo_refuse(c, v, false);
	policy_text_untrusted(v, c->arg);
	policy_text(v, " is our own identity");
	policy_reason_untrusted(v, c->arg);
	policy_reason(v, what);
	return true;
}

/*
 * require_fqdn: a valid name with a dot, or an address. Bare IPs pass:
 * refusing them is reject_bare_ip's property. What is neither a name
 * nor an address (empty, one label, bad syntax, a broken literal) fails.
 */
static bool
helo_fqdn(const struct helo_ctx *c, struct policy_verdict *v)
{
	const char	*what;

	switch (c->cls) {
	case POLICY_HELO_EMPTY:
		helo_refuse(c, v, false);
		policy_text(v, "without a domain name");
		policy_reason(v, "is empty");
		return true;
	case POLICY_HELO_NO_DOT:
		what = " is not a fully qualified domain name";
		break;
	case POLICY_HELO_INVALID:
	case POLICY_HELO_BAD_LITERAL:
		what = " is not a valid domain name";
		break;
	default:
		return false;
	}
	helo_refuse(c, v, false);
	policy_text_untrusted(v, c->arg);
	policy_text(v, what);
	policy_reason_untrusted(v, c->arg);
	policy_reason(v, what);
	return true;
}

/*
 * Accepts any argument (also empty). Reads cfg->helo and the facts in
 * cl (trusted, submission, addr, ip). Fills *out; returns out->action:
 * PASS, REJECT (at HELO) or DEFER (to MAIL or RCPT).
 */
enum policy_action
policy_helo(const struct policy_cfg *cfg, const struct policy_client *cl,
    struct span helo, bool is_ehlo, struct policy_verdict *out)
{
	struct helo_ctx	c;

	memset(&c, 0, sizeof(c));
	c.cfg = cfg;
	c.cl = cl;
	c.verb = is_ehlo ? "EHLO" : "HELO";
	c.cls = policy_helo_class(helo, &c.addr);
	c.arg = helo.p != NULL ? helo : span_make("", 0);
	while (c.arg.len > 0 && is_blank(c.arg.p[0])) {
		c.arg.p++;
		c.arg.len--;
	}
	while (c.arg.len > 0 && is_blank(c.arg.p[c.arg.len - 1]))
		c.arg.len--;
	c.name = policy_domain_norm(c.arg);

	if (cl->trusted) {
		policy_pass(out, "client in trusted_networks");
		return out->action;
	}
	if (cl->submission) {
		policy_pass(out, "submission listener: HELO not checked");
		return out->action;
	}
	policy_pass(out, NULL);
	if (cfg->helo.reject_bare_ip && helo_bare_ip(&c, out))
		return out->action;
	if (cfg->helo.literal_must_match && helo_literal(&c, out))
		return out->action;
	if (cfg->helo.reject_own_identity && helo_own(&c, out))
		return out->action;
	if (cfg->helo.require_fqdn && helo_fqdn(&c, out))
		return out->action;
	/*
	 * DNS-based checks (forward lookup of the name, FCrDNS, DNSBL)
	 * belong here, on answers the proxy looked up beforehand and put
	 * in the client's facts, each refusing through helo_refuse().
	 */
	return out->action;
}
