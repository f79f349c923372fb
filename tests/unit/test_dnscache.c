/*
 * tests/unit/test_dnscache.c - core/dnscache: hits and misses by name
 * (without regard to case) and type, expiry from the TTL and its caps
 * (positive and negative), the TTL left as time passes, what is never
 * kept (TEMPFAIL, TTL 0), least-recently-used eviction at a fixed size,
 * replacement, and the counters. Times and TTLs typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/dnscache.h"

/* An answer with one A record 192.0.2.<last> and TTL ttl. */
static void
answer_a(struct dns_answer *a, uint8_t last, uint32_t ttl)
{
	memset(a, 0, sizeof(*a));
	a->status = DNS_OK;
	a->qtype = DNS_T_A;
	a->ttl = ttl;
	a->nrr = 1;
	a->rr[0].type = DNS_T_A;
	a->rr[0].ttl = ttl;
	memcpy(a->rr[0].addr, "\xc0\x00\x02", 3);
	a->rr[0].addr[3] = last;
}

static void
answer_neg(struct dns_answer *a, enum dns_status st, uint32_t ttl)
{
	memset(a, 0, sizeof(*a));
	a->status = st;
	a->qtype = DNS_T_A;
	a->ttl = ttl;
	a->rcode = st == DNS_NXDOMAIN ? 3 : 0;
}

static void
test_hit_miss(void **state)
{
	struct dnscache *c = dnscache_new(10, 86400, 3600);
	struct dns_answer a, out;
	struct dnscache_stats st;

	(void)state;
	assert_non_null(c);
	assert_int_equal(dnscache_get(c, "mx.example.com", DNS_T_A, 0, &out), 0);
	answer_a(&a, 7, 300);
	assert_int_equal(dnscache_put(c, "MX.Example.com", DNS_T_A, &a, 1000), 1);
	assert_int_equal(dnscache_get(c, "mx.EXAMPLE.com", DNS_T_A, 1000, &out),
	    1);
	assert_int_equal(out.status, DNS_OK);
	assert_int_equal(out.nrr, 1);
	assert_memory_equal(out.rr[0].addr, "\xc0\x00\x02\x07", 4);
	assert_int_equal(out.ttl, 300);
	/* another type of the same name is another key */
	assert_int_equal(dnscache_get(c, "mx.example.com", DNS_T_AAAA, 1000,
	    &out), 0);
	/* 100.5 s later: 199.5 s left, shown as 200 */
	assert_int_equal(dnscache_get(c, "mx.example.com", DNS_T_A, 101500,
	    &out), 1);
	assert_int_equal(out.ttl, 200);
	assert_int_equal(out.rr[0].ttl, 200);
	/* expired at 301000 exactly */
	assert_int_equal(dnscache_get(c, "mx.example.com", DNS_T_A, 300999,
	    &out), 1);
	assert_int_equal(out.ttl, 1);
	assert_int_equal(dnscache_get(c, "mx.example.com", DNS_T_A, 301000,
	    &out), 0);
	dnscache_stats(c, &st);
	assert_int_equal(st.hits, 3);
	assert_int_equal(st.misses, 3);
	assert_int_equal(st.stores, 1);
	assert_int_equal(st.entries, 0);
	dnscache_free(c);
}

static void
test_caps(void **state)
{
	struct dnscache *c = dnscache_new(10, 86400, 3600);
	struct dns_answer a, out;

	(void)state;
	/* a week's TTL lives a day */
	answer_a(&a, 1, 604800);
	assert_int_equal(dnscache_put(c, "long.example", DNS_T_A, &a, 0), 1);
	assert_int_equal(dnscache_get(c, "long.example", DNS_T_A, 0, &out), 1);
	assert_int_equal(out.ttl, 86400);
	assert_int_equal(dnscache_get(c, "long.example", DNS_T_A,
	    86400ULL * 1000, &out), 0);
	/* NXDOMAIN with a day's negative TTL lives an hour */
	answer_neg(&a, DNS_NXDOMAIN, 86400);
	assert_int_equal(dnscache_put(c, "nx.example", DNS_T_A, &a, 0), 1);
	assert_int_equal(dnscache_get(c, "nx.example", DNS_T_A, 3599999, &out),
	    1);
	assert_int_equal(out.status, DNS_NXDOMAIN);
	assert_int_equal(out.nrr, 0);
	assert_int_equal(dnscache_get(c, "nx.example", DNS_T_A, 3600000, &out),
	    0);
	/* NODATA with 60 s stays 60 s */
	answer_neg(&a, DNS_NODATA, 60);
	assert_int_equal(dnscache_put(c, "nd.example", DNS_T_A, &a, 0), 1);
	assert_int_equal(dnscache_get(c, "nd.example", DNS_T_A, 59999, &out), 1);
	assert_int_equal(out.status, DNS_NODATA);
	assert_int_equal(dnscache_get(c, "nd.example", DNS_T_A, 60000, &out), 0);
	dnscache_free(c);
}

static void
test_not_kept(void **state)
{
	struct dnscache *c = dnscache_new(10, 86400, 3600);
	struct dns_answer a, out;
	char big[DNS_NAME_BUF + 1];
	struct dnscache_stats st;

	(void)state;
	answer_neg(&a, DNS_TEMPFAIL, 300);
	assert_int_equal(dnscache_put(c, "sf.example", DNS_T_A, &a, 0), 0);
	answer_neg(&a, DNS_NXDOMAIN, 0);	/* no SOA: RFC 2308 5 */
	assert_int_equal(dnscache_put(c, "nosoa.example", DNS_T_A, &a, 0), 0);
	answer_a(&a, 1, 0);
	assert_int_equal(dnscache_put(c, "zero.example", DNS_T_A, &a, 0), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	answer_a(&a, 1, 60);
	assert_int_equal(dnscache_put(c, big, DNS_T_A, &a, 0), 0);
	assert_int_equal(dnscache_get(c, "sf.example", DNS_T_A, 0, &out), 0);
	assert_int_equal(dnscache_get(c, "nosoa.example", DNS_T_A, 0, &out), 0);
	dnscache_stats(c, &st);
	assert_int_equal(st.entries, 0);
	assert_int_equal(st.stores, 0);
	dnscache_free(c);
}

static void
test_lru(void **state)
{
	struct dnscache *c = dnscache_new(3, 86400, 3600);
	struct dns_answer a, out;
	struct dnscache_stats st;

	(void)state;
	answer_a(&a, 1, 300);
	dnscache_put(c, "one.example", DNS_T_A, &a, 0);
	answer_a(&a, 2, 300);
	dnscache_put(c, "two.example", DNS_T_A, &a, 0);
	answer_a(&a, 3, 300);
	dnscache_put(c, "three.example", DNS_T_A, &a, 0);
	/* one is used: two is now the least recently used */
	assert_int_equal(dnscache_get(c, "one.example", DNS_T_A, 10, &out), 1);
	answer_a(&a, 4, 300);
	dnscache_put(c, "four.example", DNS_T_A, &a, 20);
	assert_int_equal(dnscache_get(c, "two.example", DNS_T_A, 30, &out), 0);
	assert_int_equal(dnscache_get(c, "one.example", DNS_T_A, 30, &out), 1);
	assert_int_equal(dnscache_get(c, "three.example", DNS_T_A, 30, &out), 1);
	assert_int_equal(dnscache_get(c, "four.example", DNS_T_A, 30, &out), 1);
	assert_int_equal(out.rr[0].addr[3], 4);
	/* replacing a key evicts nothing */
	answer_a(&a, 9, 300);
	dnscache_put(c, "FOUR.example", DNS_T_A, &a, 40);
	assert_int_equal(dnscache_get(c, "four.example", DNS_T_A, 50, &out), 1);
	assert_int_equal(out.rr[0].addr[3], 9);
	dnscache_stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 3);
	assert_int_equal(st.stores, 5);
	dnscache_free(c);
}

/* Records with names and TXT data come back whole. */
static void
test_data(void **state)
{
	struct dnscache *c = dnscache_new(2, 86400, 3600);
	struct dns_answer a, out;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.status = DNS_OK;
	a.qtype = DNS_T_MX;
	a.ttl = 60;
	a.nrr = 2;
	memcpy(a.data, "mail.example.com\0backup.example.net", 36);
	a.ndata = 36;
	a.rr[0] = (struct dns_rr){ .type = DNS_T_MX, .pref = 10, .ttl = 60,
	    .off = 0, .len = 16 };
	a.rr[1] = (struct dns_rr){ .type = DNS_T_MX, .pref = 20, .ttl = 90,
	    .off = 17, .len = 18 };
	assert_int_equal(dnscache_put(c, "example.com", DNS_T_MX, &a, 0), 1);
	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(dnscache_get(c, "example.com", DNS_T_MX, 0, &out), 1);
	assert_int_equal(out.nrr, 2);
	assert_int_equal(out.ndata, 36);
	assert_int_equal(out.rr[1].pref, 20);
	assert_int_equal(out.rr[1].ttl, 60);
	assert_string_equal(out.data + out.rr[0].off, "mail.example.com");
	assert_string_equal(out.data + out.rr[1].off, "backup.example.net");
	dnscache_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_miss),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_not_kept),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
