/*
 * tests/unit/test_promtext.c - core/promtext.c: HELP/TYPE lines, label
 * values escaped (backslash, double quote, line feed), floats, the
 * lines of a histogram (cumulative buckets, +Inf, _sum, _count), and a
 * buffer too small. Expected text typed by hand from the exposition
 * format's description.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/promtext.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
test_head(void **state)
{
	char buf[256];
	struct ptbuf b;

	(void)state;
	pt_init(&b, buf, sizeof(buf));
	pt_head(&b, "mxshield_x_total", "counter", "What \\ it\ncounts \"here\"");
	assert_false(b.full);
	assert_string_equal(buf,
	    "# HELP mxshield_x_total What \\\\ it\\ncounts \"here\"\n"
	    "# TYPE mxshield_x_total counter\n");
}

static const struct {
	const char	*value;
	const char	*line;
} label_cases[] = {
	{ "plain", "m{a=\"plain\"} 7\n" },
	{ "", "m{a=\"\"} 7\n" },
	{ "q\"uote", "m{a=\"q\\\"uote\"} 7\n" },
	{ "back\\slash", "m{a=\"back\\\\slash\"} 7\n" },
	{ "two\nlines", "m{a=\"two\\nlines\"} 7\n" },
	{ "\\\"\n", "m{a=\"\\\\\\\"\\n\"} 7\n" },
	{ "caf\xc3\xa9 {x}", "m{a=\"caf\xc3\xa9 {x}\"} 7\n" },
};

static void
test_labels(void **state)
{
	char buf[256];
	struct ptbuf b;

	(void)state;
	for (size_t i = 0; i < N(label_cases); i++) {
		struct pt_label l = { "a", label_cases[i].value };

		pt_init(&b, buf, sizeof(buf));
		pt_u64(&b, "m", &l, 1, 7);
		assert_false(b.full);
		assert_string_equal(buf, label_cases[i].line);
	}
}

static void
test_samples(void **state)
{
	static const struct pt_label two[] = {
		{ "check", "ip_shield" }, { "code", "530" },
	};
	char buf[256];
	struct ptbuf b;

	(void)state;
	pt_init(&b, buf, sizeof(buf));
	pt_u64(&b, "n", NULL, 0, 0);
	pt_u64(&b, "r_total", two, 2, 18446744073709551615ULL);
	pt_double(&b, "g", NULL, 0, 1.5);
	pt_double(&b, "t", NULL, 0, 1700000000.25);
	pt_double(&b, "i", NULL, 0, 1);
	assert_false(b.full);
	assert_string_equal(buf,
	    "n 0\n"
	    "r_total{check=\"ip_shield\",code=\"530\"} 18446744073709551615\n"
	    "g 1.5\n"
	    "t 1700000000.25\n"
	    "i 1\n");
}

static const struct {
	double		 v;
	const char	*s;
} float_cases[] = {
	{ 0, "0" },
	{ 0.005, "0.005" },
	{ 0.0025, "0.0025" },
	{ 2.5, "2.5" },
	{ 25, "25" },
	{ 10, "10" },
	{ 20, "20" },
	{ 300, "300" },
	{ 0.1, "0.1" },
	{ 1e-7, "1e-07" },
	{ -3, "-3" },
};

static void
test_floats(void **state)
{
	char out[40];

	(void)state;
	for (size_t i = 0; i < N(float_cases); i++) {
		pt_float(out, sizeof(out), float_cases[i].v);
		assert_string_equal(out, float_cases[i].s);
	}
	pt_float(out, sizeof(out), INFINITY);
	assert_string_equal(out, "+Inf");
	pt_float(out, sizeof(out), -INFINITY);
	assert_string_equal(out, "-Inf");
	pt_float(out, sizeof(out), NAN);
	assert_string_equal(out, "NaN");
}

static void
test_hist(void **state)
{
	static const double bounds[] = { 0.01, 0.1, 1 };
	static const uint64_t counts[] = { 2, 0, 3, 1 };
	static const struct pt_label l = { "reply", "final_dot" };
	char buf[1024];
	struct ptbuf b;

	(void)state;
	pt_init(&b, buf, sizeof(buf));
	pt_hist(&b, "h_seconds", &l, 1, bounds, counts, 3, 2.75);
	assert_false(b.full);
	assert_string_equal(buf,
	    "h_seconds_bucket{reply=\"final_dot\",le=\"0.01\"} 2\n"
	    "h_seconds_bucket{reply=\"final_dot\",le=\"0.1\"} 2\n"
	    "h_seconds_bucket{reply=\"final_dot\",le=\"1\"} 5\n"
	    "h_seconds_bucket{reply=\"final_dot\",le=\"+Inf\"} 6\n"
	    "h_seconds_sum{reply=\"final_dot\"} 2.75\n"
	    "h_seconds_count{reply=\"final_dot\"} 6\n");

	/* no labels: only le in the braces */
	pt_init(&b, buf, sizeof(buf));
	pt_hist(&b, "s", NULL, 0, bounds, counts, 1, 0);
	assert_string_equal(buf,
	    "s_bucket{le=\"0.01\"} 2\n"
	    "s_bucket{le=\"+Inf\"} 2\n"
	    "s_sum 0\n"
	    "s_count 2\n");
}

static void
test_full(void **state)
{
	char buf[16];
	struct ptbuf b;

	(void)state;
	pt_init(&b, buf, sizeof(buf));
	pt_u64(&b, "short", NULL, 0, 1);
	assert_false(b.full);
	assert_string_equal(buf, "short 1\n");
	pt_u64(&b, "too_long_for_it", NULL, 0, 1);
	assert_true(b.full);
	/* what fitted is kept whole: a full buffer is retried, never sent */
	assert_true(b.len < sizeof(buf));
	assert_int_equal(buf[b.len], '\0');
	pt_u64(&b, "x", NULL, 0, 1);
	assert_true(b.full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_labels),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_floats),
		cmocka_unit_test(test_hist),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
