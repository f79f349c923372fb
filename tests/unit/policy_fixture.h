/*
 * tests/unit/policy_fixture.h - what the core/policy unit tests share:
 * one configuration (local domains, trusted and own networks, IP Shield
 * entries, aliases) that each test switches parts of on, a session
 * maker, a command parser wrapper and a verdict comparison. Included by
 * the core/policy unit tests (test_policy*.c) only.
 */
#ifndef MXS_TEST_POLICY_FIXTURE_H
#define MXS_TEST_POLICY_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "core/policy.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define P	POLICY_PASS
#define R	POLICY_REJECT
#define D	POLICY_DEFER
#define AT_H	POLICY_AT_HELO
#define AT_M	POLICY_AT_MAIL
#define AT_R	POLICY_AT_RCPT

/* HELO check switches, for the tables */
#define H_BARE	1u
#define H_LIT	2u
#define H_OWN	4u
#define H_FQDN	8u
#define H_ALL	15u

/* The configuration every test starts from; each test switches on its part. */
struct fixture {
	struct net			trusted[2];
	struct net			own[2];
	struct net			sh_local[2], sh_org[1], sh_partner[2];
	struct net			sh_corp[1], sh_lit[1];
	struct policy_shield_entry	entries[6];
	struct policy_alias		aliases[2];
	struct policy_cfg		cfg;
};

static char *local_domains[] = {
	"example.com", "example.org", "b\303\274cher.example",
};
static char *alice_addrs[] = { "sales@example.com", "@example.net" };
static char *jdoe_addrs[] = { "john.doe@example.org" };

static inline struct net
mknet(const char *s)
{
	struct net	n;

	assert_int_equal(net_parse(s, strlen(s), &n), 0);
	return n;
}

static inline void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->trusted[0] = mknet("198.51.100.0/24");
	f->trusted[1] = mknet("2001:db8:aaaa::/48");
	f->own[0] = mknet("203.0.113.25");
	f->own[1] = mknet("2001:db8:25::25");
	f->sh_local[0] = mknet("192.168.0.*");
	f->sh_local[1] = mknet("10.1.0.0/16");
	f->sh_org[0] = mknet("203.0.113.0/24");
	f->sh_partner[0] = mknet("192.0.2.128/25");
	f->sh_partner[1] = mknet("2001:db8:bbbb::/48");
	f->sh_corp[0] = mknet("100.64.0.0/10");
	f->sh_lit[0] = mknet("192.0.2.99");
	f->entries[0] = (struct policy_shield_entry){ "$LOCALDOMAIN$",
	    f->sh_local, 2 };
	f->entries[1] = (struct policy_shield_entry){ "example.org",
	    f->sh_org, 1 };
	f->entries[2] = (struct policy_shield_entry){ "Partner.Example",
	    f->sh_partner, 2 };
	f->entries[3] = (struct policy_shield_entry){ "*.corp.example",
	    f->sh_corp, 1 };
	f->entries[4] = (struct policy_shield_entry){ "nonets.example",
	    NULL, 0 };
	f->entries[5] = (struct policy_shield_entry){ "[192.0.2.99]",
	    f->sh_lit, 1 };
	f->aliases[0] = (struct policy_alias){ "alice@example.com",
	    alice_addrs, N(alice_addrs) };
	f->aliases[1] = (struct policy_alias){ "jdoe", jdoe_addrs,
	    N(jdoe_addrs) };

	f->cfg.hostname = "mx.example.com";
	f->cfg.local_domains = local_domains;
	f->cfg.nlocal_domains = N(local_domains);
	f->cfg.own_addresses = f->own;
	f->cfg.nown_addresses = N(f->own);
	f->cfg.trusted_networks = f->trusted;
	f->cfg.ntrusted_networks = N(f->trusted);
	f->cfg.helo.reject_at = POLICY_AT_RCPT;
	f->cfg.ip_shield.entries = f->entries;
	f->cfg.ip_shield.nentries = N(f->entries);
	f->cfg.auth.aliases = f->aliases;
	f->cfg.auth.naliases = N(f->aliases);
}

static inline void
set_helo_flags(struct policy_cfg *cfg, unsigned flags, enum policy_stage at)
{
	cfg->helo.reject_bare_ip = (flags & H_BARE) != 0;
	cfg->helo.literal_must_match = (flags & H_LIT) != 0;
	cfg->helo.reject_own_identity = (flags & H_OWN) != 0;
	cfg->helo.require_fqdn = (flags & H_FQDN) != 0;
	cfg->helo.reject_at = at;
}

/* A session from ip (ip left NULL: core prints the address itself). */
static inline struct policy_client
client(const struct policy_cfg *cfg, const char *ip, const char *auth_id)
{
	struct policy_client	cl;

	memset(&cl, 0, sizeof(cl));
	assert_int_equal(net_addr_parse(ip, strlen(ip), &cl.addr), 0);
	cl.trusted = policy_is_trusted(cfg, &cl.addr);
	cl.auth_id = auth_id;
	cl.helo_seen = true;
	policy_helo(cfg, &cl, span_make("client.example.net", 18), true,
	    &cl.helo);
	return cl;
}

static inline struct smtp_cmd
cmd(const char *line)
{
	struct smtp_cmd	c;

	memset(&c, 0, sizeof(c));
	if (cmd_parse(line, strlen(line), &c) != CMD_OK)
		fail_msg("cmd_parse refused %s", line);
	return c;
}

/*
 * Compare a verdict with the expected one; on a mismatch, name the
 * table and row first. Every reply text is one line of printable ASCII.
 */
static inline void
expect(const char *what, size_t row, const struct policy_verdict *v,
    enum policy_action action, int code, const char *enh, const char *text,
    const char *reason)
{
	if (v->action != action || v->code != code || strcmp(v->enh, enh) ||
	    strcmp(v->text, text) || (reason != NULL &&
	    strcmp(v->reason, reason)))
		print_error("%s[%zu]: got %s %d \"%s\" \"%s\" (\"%s\")\n", what,
		    row, policy_action_name(v->action), v->code, v->enh,
		    v->text, v->reason);
	assert_int_equal(v->action, action);
	assert_int_equal(v->code, code);
	assert_string_equal(v->enh, enh);
	assert_string_equal(v->text, text);
	if (reason != NULL)
		assert_string_equal(v->reason, reason);
	for (const char *p = v->text; *p != '\0'; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	for (const char *p = v->reason; *p != '\0'; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

#endif
