/*
 * tests/unit/test_cpuquota.c - core/cpuquota: cgroup v2 cpu.max texts
 * (quotas rounded up, "max", malformed ones) and the worker count from
 * affinity and quota. Expected values are typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/cpuquota.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char	*in;
	int		 cpus;
} parse_cases[] = {
	{ "max 100000\n", 0 },
	{ "max 100000", 0 },
	{ "100000 100000\n", 1 },
	{ "150000 100000\n", 2 },		/* --cpus 1.5: rounded up */
	{ "200000 100000\n", 2 },
	{ "50000 100000\n", 1 },		/* half a CPU: one worker */
	{ "1 100000\n", 1 },
	{ "400000 100000\n", 4 },
	{ "250000 50000\n", 5 },
	{ "", -1 },
	{ "\n", -1 },
	{ "max", -1 },				/* no period */
	{ "max\n", -1 },
	{ "100000\n", -1 },
	{ "0 100000\n", -1 },
	{ "100000 0\n", -1 },
	{ "-1 100000\n", -1 },
	{ "100000  100000\n", -1 },
	{ "100000 100000\n\n", -1 },
	{ "100000 100000 x", -1 },
	{ "maximum 100000", -1 },
	{ "99999999999999999999999 100000", -1 },	/* overflows */
	{ "1000000000000 1\n", 1000000 },		/* capped */
};

static void
test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(parse_cases); i++) {
		int got = cpuq_parse(parse_cases[i].in,
		    strlen(parse_cases[i].in));

		if (got != parse_cases[i].cpus)
			fail_msg("\"%s\": %d, expected %d", parse_cases[i].in,
			    got, parse_cases[i].cpus);
	}
}

/* not NUL-terminated: the length bounds it */
static void
test_parse_length(void **state)
{
	static const char buf[] = "300000 100000\nGARBAGE";

	(void)state;
	assert_int_equal(cpuq_parse(buf, 14), 3);
	assert_int_equal(cpuq_parse(buf, 13), 3);
	assert_int_equal(cpuq_parse(buf, 12), 30);	/* "300000 10000" */
	assert_int_equal(cpuq_parse(buf, sizeof(buf) - 1), -1);
}

static const struct {
	int	affinity, quota, max, workers;
} worker_cases[] = {
	{ 8, 0, 64, 8 },	/* no quota */
	{ 8, 2, 64, 2 },	/* --cpus 2 on 8 CPUs */
	{ 1, 4, 64, 1 },	/* --cpuset-cpus 0 with a larger quota */
	{ 4, 4, 64, 4 },
	{ 0, 0, 64, 1 },	/* affinity unknown */
	{ -1, 3, 64, 1 },
	{ 128, 0, 64, 64 },	/* capped by the key's maximum */
	{ 128, 100, 64, 64 },
	{ 2, -1, 64, 2 },	/* malformed quota: ignored */
};

static void
test_workers(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(worker_cases); i++)
		assert_int_equal(cpuq_workers(worker_cases[i].affinity,
		    worker_cases[i].quota, worker_cases[i].max),
		    worker_cases[i].workers);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_length),
		cmocka_unit_test(test_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
