/*
 * tests/unit/test_cfgdiff.c - proxy/cfgdiff.c: which settings of a
 * reloaded configuration need a restart, what cfgdiff_keep() leaves as
 * it was, and which listeners two configurations share. The
 * configurations are built by hand here, not loaded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/cfgdiff.h"

static char *servers_a[] = { "192.0.2.53" };
static char *servers_b[] = { "192.0.2.54" };
static char *exempt_a[] = { "alice@example.com" };

static void
base(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->workers = 2;
	c->hijack.enabled = 1;
	c->hijack.max_messages = 200;
	c->hijack.window = 3600;
	c->dns.timeout = 5;
	c->dns.attempts = 2;
	c->dns.cache_entries = 10000;
	c->dns.servers.v = servers_a;
	c->dns.servers.n = 1;
	c->log.level = CFG_LOG_INFO;
	c->spoof.threshold = 10;
}

static void
test_restart_names(void **state)
{
	struct config was, now;
	const char *names[CFGDIFF_MAX];
	size_t n;

	(void)state;
	base(&was);
	base(&now);
	assert_int_equal(cfgdiff_restart(&was, &now, names, CFGDIFF_MAX), 0);

	/* a policy setting is not one of them */
	now.spoof.threshold = 5;
	now.limits.max_connections = 10;
	assert_int_equal(cfgdiff_restart(&was, &now, names, CFGDIFF_MAX), 0);

	now.workers = 4;
	now.dns.servers.v = servers_b;
	now.hijack.exempt.v = exempt_a;
	now.hijack.exempt.n = 1;
	now.control.socket = "/run/mxshield/control.sock";
	now.log.level = CFG_LOG_DEBUG;
	n = cfgdiff_restart(&was, &now, names, CFGDIFF_MAX);
	assert_int_equal(n, 5);
	assert_string_equal(names[0], "workers");
	assert_string_equal(names[1], "control.socket");
	assert_string_equal(names[2], "hijack.exempt");
	assert_string_equal(names[3], "dns.servers");
	assert_string_equal(names[4], "log.level");

	/* bounded by cap */
	assert_int_equal(cfgdiff_restart(&was, &now, names, 2), 2);
	assert_string_equal(names[1], "control.socket");
}

static void
test_keep(void **state)
{
	struct config was, now;
	const char *names[CFGDIFF_MAX];

	(void)state;
	base(&was);
	base(&now);
	now.workers = 8;
	now.hijack.window = 60;
	now.hijack.enabled = 0;
	now.log.level = CFG_LOG_DEBUG;
	now.spoof.threshold = 3;
	cfgdiff_keep(&was, &now);
	assert_int_equal(now.workers, 2);
	assert_int_equal(now.hijack.window, 3600);
	assert_int_equal(now.hijack.enabled, 1);
	assert_int_equal(now.log.level, CFG_LOG_INFO);
	/* what a reload may change stays changed */
	assert_int_equal(now.spoof.threshold, 3);
	assert_int_equal(cfgdiff_restart(&was, &now, names, CFGDIFF_MAX), 0);
}

static const struct {
	const char	*a;
	int		 pa;
	const char	*b;
	int		 pb;
	int		 same;
} listen_cases[] = {
	{ "127.0.0.1", 25, "127.0.0.1", 25, 1 },
	{ "127.0.0.1", 25, "127.0.0.1", 587, 0 },
	{ "127.0.0.1", 25, "127.0.0.2", 25, 0 },
	{ "::1", 25, "0:0::1", 25, 1 },
	{ "::", 25, "0.0.0.0", 25, 0 },
	{ "0.0.0.0", 465, "0.0.0.0", 465, 1 },
};

static void
test_listen_same(void **state)
{
	struct cfg_listen a, b;

	(void)state;
	for (size_t i = 0; i < sizeof(listen_cases) / sizeof(listen_cases[0]);
	    i++) {
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		a.address = (char *)listen_cases[i].a;
		a.port = listen_cases[i].pa;
		b.address = (char *)listen_cases[i].b;
		b.port = listen_cases[i].pb;
		b.tls = CFG_TLS_IMPLICIT;	/* other settings do not count */
		assert_int_equal(cfgdiff_listen_same(&a, &b),
		    listen_cases[i].same);
	}
}

static void
test_listen_find(void **state)
{
	struct cfg_listen ls[3] = {
		{ "127.0.0.1", 25, CFG_TLS_NONE, 0, 0, 1 },
		{ "127.0.0.1", 587, CFG_TLS_STARTTLS, 0, 1, 2 },
		{ "::1", 465, CFG_TLS_IMPLICIT, 0, 0, 3 },
	};
	struct cfg_listen q = { "0::1", 465, CFG_TLS_NONE, 0, 0, 9 };
	struct cfg_listen r = { "127.0.0.1", 2525, CFG_TLS_NONE, 0, 0, 9 };
	struct config c;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.listen = ls;
	c.nlisten = 3;
	assert_int_equal(cfgdiff_listen_find(&c, &q), 2);
	assert_int_equal(cfgdiff_listen_find(&c, &ls[1]), 1);
	assert_int_equal(cfgdiff_listen_find(&c, &r), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_names),
		cmocka_unit_test(test_keep),
		cmocka_unit_test(test_listen_same),
		cmocka_unit_test(test_listen_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
