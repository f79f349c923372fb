/*
 * core/hijack.c - the per-identity sliding window of hijack detection
 * (see core/hijack.h). Input: times from the proxy's clock and counts
 * from its configuration (max >= 1, window >= 1), trusted. Allocates
 * nothing: the ring belongs to the caller.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/hijack.h"

void
hjwin_init(struct hjwin *w, int64_t *slots, uint32_t cap)
{
	w->t = cap > 0 ? slots : NULL;
	w->cap = w->t != NULL ? cap : 0;
	w->head = 0;
	w->n = 0;
}

static uint32_t
slot(const struct hjwin *w, uint32_t i)
{
	/* head < cap and i < cap: the sum cannot wrap a uint32_t twice */
	uint64_t k = (uint64_t)w->head + i;

	return (uint32_t)(k % w->cap);
}

uint32_t
hjwin_expire(struct hjwin *w, int64_t now, int64_t window)
{
	int64_t edge;

	if (window < 1)
		window = 1;
	/* times at or before edge have left; no overflow for sane clocks,
	 * and a clock near INT64_MIN only keeps more */
	edge = now < INT64_MIN + window ? INT64_MIN : now - window;
	while (w->n > 0 && w->t[w->head] <= edge) {
		w->head = w->head + 1 == w->cap ? 0 : w->head + 1;
		w->n--;
	}
	if (w->n == 0)
		w->head = 0;
	return w->n;
}

enum hjwin_rc
hjwin_check(struct hjwin *w, int64_t now, int64_t window, uint32_t max)
{
	uint32_t n = hjwin_expire(w, now, window);

	if (max < 1)
		max = 1;
	if (n >= max)
		return HJWIN_LIMIT;
	return HJWIN_UNDER;
}

uint32_t
hjwin_add(struct hjwin *w, int64_t now)
{
	int64_t newest;

	if (w->cap == 0)
		return 0;
	if (w->n > 0) {
		newest = w->t[slot(w, w->n - 1)];
		if (now < newest)
			now = newest;
	}
	if (w->n == w->cap) {
		/* full: the oldest goes, the newest takes its slot */
		w->t[w->head] = now;
		w->head = w->head + 1 == w->cap ? 0 : w->head + 1;
		return w->n;
	}
	w->t[slot(w, w->n)] = now;
	w->n++;
	return w->n;
}

int64_t
hjwin_at(const struct hjwin *w, uint32_t i)
{
	if (i >= w->n)
		return 0;
	return w->t[slot(w, i)];
}

uint32_t
hjwin_grow_to(uint32_t n, uint32_t cap, uint32_t max)
{
	uint64_t want;

	if (n < cap || cap >= max)
		return cap;
	want = cap < 2 ? 4 : (uint64_t)cap * 2;
	if (want > max)
		want = max;
	return (uint32_t)want;
}

uint32_t
hjwin_move(struct hjwin *w, int64_t *slots, uint32_t cap)
{
	uint32_t keep, skip;

	if (slots == NULL)
		cap = 0;
	keep = w->n < cap ? w->n : cap;
	skip = w->n - keep;
	for (uint32_t i = 0; i < keep; i++)
		slots[i] = w->t[slot(w, skip + i)];
	w->t = cap > 0 ? slots : NULL;
	w->cap = cap;
	w->head = 0;
	w->n = keep;
	return keep;
}
