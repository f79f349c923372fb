/*
 * tests/unit/test_hijack.c - core/hijack: the sliding window of hijack
 * detection (expiry at the edge, the limit, a full ring, wrap-around,
 * a clock stepping back, growing and moving the ring, the check at RCPT
 * when recipients count) and the lines of the state file (hjline_parse,
 * hjline_time), hostile ones included.
 * Every expected value is typed by hand.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/hijack.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum op { ADD, CHECK };

/* max_messages 3, window 60, a ring of 3 (as the proxy grows it). */
static const struct {
	enum op		 op;
	int64_t		 now;
	enum hjwin_rc	 rc;	/* CHECK */
	uint32_t	 n;	/* times held afterwards */
} window_steps[] = {
	{ CHECK, 100, HJWIN_UNDER, 0 },
	{ ADD,   100, 0, 1 },
	{ ADD,   110, 0, 2 },
	{ CHECK, 120, HJWIN_UNDER, 2 },
	{ ADD,   120, 0, 3 },
	{ CHECK, 121, HJWIN_LIMIT, 3 },	/* the fourth MAIL is refused */
	{ CHECK, 159, HJWIN_LIMIT, 3 },	/* 100 still counts: 59 s old */
	{ CHECK, 160, HJWIN_UNDER, 2 },	/* 100 left: 60 s old */
	{ CHECK, 169, HJWIN_UNDER, 2 },
	{ CHECK, 170, HJWIN_UNDER, 1 },
	{ ADD,   175, 0, 2 },
	{ ADD,   176, 0, 3 },
	{ CHECK, 177, HJWIN_LIMIT, 3 },	/* 120, 175, 176 */
};

static void
test_window_steps(void **state)
{
	int64_t slots[3];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, slots, 3);
	for (size_t i = 0; i < NELEM(window_steps); i++) {
		if (window_steps[i].op == ADD) {
			assert_int_equal(hjwin_add(&w, window_steps[i].now),
			    window_steps[i].n);
		} else {
			assert_int_equal(hjwin_check(&w, window_steps[i].now,
			    60, 3), window_steps[i].rc);
			assert_int_equal(w.n, window_steps[i].n);
		}
	}
}

/*
 * hijack.count = "recipients", max_messages 5, window 60: at RCPT the
 * times in the window plus this message's open recipients (this one
 * included) may not pass max.
 */
static const struct {
	int64_t		 now;
	uint64_t	 more;
	enum hjwin_rc	 rc;
	uint32_t	 n;	/* times held afterwards */
} more_steps[] = {
	{ 100, 1, HJWIN_UNDER, 2 },	/* 90 and 95 held */
	{ 100, 3, HJWIN_UNDER, 2 },	/* 2 + 3 = 5: the limit, not past */
	{ 100, 4, HJWIN_LIMIT, 2 },	/* 2 + 4 = 6 */
	{ 100, 0, HJWIN_UNDER, 2 },
	{ 150, 4, HJWIN_UNDER, 1 },	/* 90 left at 150 */
	{ 155, 5, HJWIN_UNDER, 0 },	/* 95 left at 155 */
	{ 155, 6, HJWIN_LIMIT, 0 },	/* a message to 6: the 6th refused */
	{ 155, UINT64_MAX, HJWIN_LIMIT, 0 },
};

static void
test_check_more(void **state)
{
	int64_t slots[5];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, slots, 5);
	hjwin_add(&w, 90);
	hjwin_add(&w, 95);
	for (size_t i = 0; i < NELEM(more_steps); i++) {
		assert_int_equal(hjwin_check_more(&w, more_steps[i].now, 60, 5,
		    more_steps[i].more), more_steps[i].rc);
		assert_int_equal(w.n, more_steps[i].n);
	}
	/* a full window: hjwin_check() is more = 1 */
	hjwin_init(&w, slots, 5);
	for (int64_t t = 200; t < 205; t++)
		hjwin_add(&w, t);
	assert_int_equal(hjwin_check_more(&w, 205, 60, 5, 0), HJWIN_UNDER);
	assert_int_equal(hjwin_check_more(&w, 205, 60, 5, 1), HJWIN_LIMIT);
	assert_int_equal(hjwin_check(&w, 205, 60, 5), HJWIN_LIMIT);
}

/* At 180 the time 120 has left (180 - 120 = 60): 175 and 176 remain. */
static void
test_window_edge(void **state)
{
	int64_t slots[3];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, slots, 3);
	hjwin_add(&w, 120);
	hjwin_add(&w, 175);
	hjwin_add(&w, 176);
	assert_int_equal(hjwin_check(&w, 179, 60, 3), HJWIN_LIMIT);
	assert_int_equal(hjwin_check(&w, 180, 60, 3), HJWIN_UNDER);
	assert_int_equal(w.n, 2);
	assert_int_equal(hjwin_at(&w, 0), 175);
	assert_int_equal(hjwin_at(&w, 1), 176);
	assert_int_equal(hjwin_expire(&w, 236, 60), 0);
	assert_int_equal(w.n, 0);
}

/* A full ring drops the oldest; the count stays at the ring's size. */
static void
test_full_ring(void **state)
{
	int64_t slots[3];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, slots, 3);
	assert_int_equal(hjwin_add(&w, 1), 1);
	assert_int_equal(hjwin_add(&w, 2), 2);
	assert_int_equal(hjwin_add(&w, 3), 3);
	assert_int_equal(hjwin_add(&w, 4), 3);
	assert_int_equal(hjwin_add(&w, 5), 3);
	assert_int_equal(hjwin_at(&w, 0), 3);
	assert_int_equal(hjwin_at(&w, 1), 4);
	assert_int_equal(hjwin_at(&w, 2), 5);
	assert_int_equal(hjwin_at(&w, 3), 0);	/* out of range */
	assert_int_equal(hjwin_check(&w, 6, 60, 3), HJWIN_LIMIT);
}

/* Expiry and adding across the end of the ring. */
static void
test_wrap(void **state)
{
	int64_t slots[4];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, slots, 4);
	hjwin_add(&w, 10);
	hjwin_add(&w, 20);
	hjwin_add(&w, 30);
	hjwin_add(&w, 40);
	assert_int_equal(hjwin_expire(&w, 75, 50), 2);	/* 30, 40 */
	assert_int_equal(hjwin_add(&w, 80), 3);
	assert_int_equal(hjwin_add(&w, 90), 4);
	assert_int_equal(hjwin_at(&w, 0), 30);
	assert_int_equal(hjwin_at(&w, 1), 40);
	assert_int_equal(hjwin_at(&w, 2), 80);
	assert_int_equal(hjwin_at(&w, 3), 90);
	assert_int_equal(hjwin_expire(&w, 131, 50), 1);	/* 90 */
	assert_int_equal(hjwin_at(&w, 0), 90);
}

/* The wall clock steps back: the time is recorded as the newest. */
static void
test_clock_back(void **state)
{
	int64_t slots[4];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, slots, 4);
	hjwin_add(&w, 1000);
	assert_int_equal(hjwin_add(&w, 900), 2);
	assert_int_equal(hjwin_at(&w, 0), 1000);
	assert_int_equal(hjwin_at(&w, 1), 1000);
	/* asked with the earlier clock: nothing has expired */
	assert_int_equal(hjwin_check(&w, 900, 60, 2), HJWIN_LIMIT);
	assert_int_equal(hjwin_expire(&w, 1060, 60), 0);
}

/* max 1: the first message goes, the second MAIL is refused; a window
 * of 1 s; a ring of 0 slots counts nothing. */
static void
test_small(void **state)
{
	int64_t slots[1];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, slots, 1);
	assert_int_equal(hjwin_check(&w, 5, 60, 1), HJWIN_UNDER);
	hjwin_add(&w, 5);
	assert_int_equal(hjwin_check(&w, 6, 60, 1), HJWIN_LIMIT);
	assert_int_equal(hjwin_check(&w, 6, 1, 1), HJWIN_UNDER);
	hjwin_init(&w, NULL, 0);
	assert_int_equal(hjwin_add(&w, 5), 0);
	assert_int_equal(hjwin_check(&w, 5, 60, 1), HJWIN_UNDER);
	assert_null(w.t);
}

static const struct {
	uint32_t	n, cap, max, want;
} grow_cases[] = {
	{ 0, 0, 200, 4 },
	{ 3, 4, 200, 4 },	/* room left */
	{ 4, 4, 200, 8 },
	{ 64, 64, 200, 128 },
	{ 128, 128, 200, 200 },
	{ 200, 200, 200, 200 },	/* at max: the oldest goes instead */
	{ 8, 8, 10, 10 },
	{ 0, 0, 1, 1 },
	{ 1, 1, 1, 1 },
	{ 1, 1, 3, 3 },
	{ 0, 0, 3, 3 },
	{ 2147483648u, 2147483648u, 4294967295u, 4294967295u },
};

static void
test_grow_to(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(grow_cases); i++)
		assert_int_equal(hjwin_grow_to(grow_cases[i].n,
		    grow_cases[i].cap, grow_cases[i].max), grow_cases[i].want);
}

/* Moving to a bigger ring keeps all in order; to a smaller one the
 * newest; to none, nothing. */
static void
test_move(void **state)
{
	int64_t a[4], b[8], c[2];
	struct hjwin w;

	(void)state;
	hjwin_init(&w, a, 4);
	hjwin_add(&w, 1);
	hjwin_add(&w, 2);
	hjwin_add(&w, 3);
	hjwin_add(&w, 4);
	hjwin_add(&w, 5);		/* wrapped: 2 3 4 5, head 1 */
	assert_int_equal(hjwin_move(&w, b, 8), 4);
	assert_ptr_equal(w.t, b);
	assert_int_equal(w.cap, 8);
	assert_int_equal(b[0], 2);
	assert_int_equal(b[3], 5);
	assert_int_equal(hjwin_add(&w, 6), 5);
	assert_int_equal(hjwin_move(&w, c, 2), 2);
	assert_int_equal(c[0], 5);
	assert_int_equal(c[1], 6);
	assert_int_equal(hjwin_at(&w, 1), 6);
	assert_int_equal(hjwin_move(&w, NULL, 0), 0);
	assert_null(w.t);
	assert_int_equal(w.cap, 0);
}

/* ------------------------------------------------------------ state lines */

#define NOTIMES	(-1)	/* times[0]: the line is not a COUNT */

static const struct {
	const char	*line;
	enum hjline_kind kind;
	int64_t		 when;
	const char	*id;
	size_t		 idlen;
	int64_t		 times[4];	/* COUNT: up to 3, then 0 */
	int		 bad_time;	/* COUNT: hjline_time() fails after */
} line_cases[] = {
	{ "", HJLINE_SKIP, 0, NULL, 0, { NOTIMES }, 0 },
	{ "   \t ", HJLINE_SKIP, 0, NULL, 0, { NOTIMES }, 0 },
	{ "# mxshield hijack state", HJLINE_SKIP, 0, NULL, 0, { NOTIMES }, 0 },
	{ "  #disabled 1 x", HJLINE_SKIP, 0, NULL, 0, { NOTIMES }, 0 },
	{ "disabled 1700000000 alice@example.com", HJLINE_DISABLED,
	  1700000000, "alice@example.com", 17, { NOTIMES }, 0 },
	{ "disabled\t1700000000\talice@example.com  ", HJLINE_DISABLED,
	  1700000000, "alice@example.com", 17, { NOTIMES }, 0 },
	{ "disabled 0 john+20doe", HJLINE_DISABLED, 0, "john doe", 8,
	  { NOTIMES }, 0 },
	{ "disabled 5 a+0D+0Ab", HJLINE_DISABLED, 5, "a\r\nb", 4,
	  { NOTIMES }, 0 },
	{ "disabled 5 +2B", HJLINE_DISABLED, 5, "+", 1, { NOTIMES }, 0 },
	{ "disabled 5 +00x", HJLINE_DISABLED, 5, "\0x", 2, { NOTIMES }, 0 },
	{ "disabled 999999999999999999 a", HJLINE_DISABLED,
	  999999999999999999, "a", 1, { NOTIMES }, 0 },
	{ "count bob@example.com 1 2 3", HJLINE_COUNT, 0, "bob@example.com",
	  15, { 1, 2, 3, 0 }, 0 },
	{ "count  bob@example.com\t10   20 ", HJLINE_COUNT, 0,
	  "bob@example.com", 15, { 10, 20, 0 }, 0 },
	{ "count bob@example.com", HJLINE_COUNT, 0, "bob@example.com", 15,
	  { 0 }, 0 },
	{ "count bob 1 x 3", HJLINE_COUNT, 0, "bob", 3, { 1, 0 }, 1 },
	{ "count john doe 5", HJLINE_COUNT, 0, "john", 4, { 0 }, 1 },
	{ "count bob -1", HJLINE_COUNT, 0, "bob", 3, { 0 }, 1 },
	{ "count bob 1234567890123456789", HJLINE_COUNT, 0, "bob", 3, { 0 },
	  1 },
	/* errors */
	{ "disabled", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "disabled abc alice", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "disabled -5 alice", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "disabled 1234567890123456789 alice", HJLINE_ERROR, 0, NULL, 0,
	  { NOTIMES }, 0 },
	{ "disabled 1700000000", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "disabled 1700000000 alice extra", HJLINE_ERROR, 0, NULL, 0,
	  { NOTIMES }, 0 },
	{ "disabled 1700000000 john doe", HJLINE_ERROR, 0, NULL, 0,
	  { NOTIMES }, 0 },
	{ "Disabled 1 alice", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "enabled 1 alice", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "disabledx 1 alice", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "count", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "count a+2 1", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "count a+2b 1", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "count a=b 1", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	{ "count caf\xc3\xa9 1", HJLINE_ERROR, 0, NULL, 0, { NOTIMES }, 0 },
	/* 21 octets do not fit the 20 of the test's buffer */
	{ "count abcdefghijklmnopqrstu 1", HJLINE_ERROR, 0, NULL, 0,
	  { NOTIMES }, 0 },
	{ "count abcdefghijklmnopqrst 1", HJLINE_COUNT, 0,
	  "abcdefghijklmnopqrst", 20, { 1, 0 }, 0 },
};

static void
test_lines(void **state)
{
	struct hjline l;
	char id[20];
	const char *cur;
	int64_t t;

	(void)state;
	for (size_t i = 0; i < NELEM(line_cases); i++) {
		char *line = strdup(line_cases[i].line);

		assert_non_null(line);
		assert_int_equal(hjline_parse(line, id, sizeof(id), &l),
		    line_cases[i].kind);
		assert_int_equal(l.kind, line_cases[i].kind);
		if (l.kind == HJLINE_ERROR) {
			assert_non_null(l.error);
			free(line);
			continue;
		}
		assert_null(l.error);
		assert_int_equal(l.when, line_cases[i].when);
		assert_int_equal(l.idlen, line_cases[i].idlen);
		if (line_cases[i].id != NULL)
			assert_memory_equal(id, line_cases[i].id, l.idlen);
		if (l.kind == HJLINE_COUNT) {
			size_t k = 0;

			cur = l.times;
			while (line_cases[i].times[k] != 0) {
				assert_int_equal(hjline_time(&cur, &t), 1);
				assert_int_equal(t, line_cases[i].times[k]);
				k++;
			}
			assert_int_equal(hjline_time(&cur, &t),
			    line_cases[i].bad_time ? -1 : 0);
		}
		free(line);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_steps),
		cmocka_unit_test(test_window_edge),
		cmocka_unit_test(test_check_more),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_grow_to),
		cmocka_unit_test(test_move),
		cmocka_unit_test(test_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
