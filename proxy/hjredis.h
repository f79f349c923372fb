/*
 * proxy/hjredis.h - hijack detection kept in Redis (hijack.store =
 * "redis"), so that every replica of mxshield counts the same window
 * and sees the same disabled identities (README "More than one
 * replica"). Each worker has one asynchronous connection on its own
 * loop (hiredis, driven by a small uv_poll adapter of ours); the
 * control socket's thread uses a short synchronous one per request.
 *
 * Keys (PREFIX is hijack.redis.prefix):
 *   PREFIX "disabled"  a hash: identity folded to lower case ->
 *                      "UNIXTIME MODE IDENTITY" (MODE enforce or
 *                      monitor; IDENTITY as first seen); no expiry
 *   PREFIX "w:" ID     a sorted set per identity (ID folded): one
 *                      member "NONCE:UNITS" per accepted message, scored
 *                      by its time; it expires hijack.window seconds
 *                      after the last message counted
 * Every change is one Lua script (EVALSHA, EVAL after NOSCRIPT), so a
 * check and the disabling it decides are atomic across replicas.
 *
 * Nothing of the disabled set is cached: every MAIL (and AUTH) of an
 * authenticated identity asks Redis, so an unblock through any replica
 * holds for all of them at once.
 */
#ifndef MXS_HJREDIS_H
#define MXS_HJREDIS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <uv.h>

#include "proxy/config.h"

struct hjr;		/* one worker's connection */
struct hjr_req;		/* one question in flight */

enum hjr_state {
	HJR_CLEAR = 0,		/* not disabled; count is the window */
	HJR_WAS_DISABLED,	/* disabled before this question */
	HJR_NOW_DISABLED,	/* disabled by this question: count passed */
};

struct hjr_answer {
	int		 ok;		/* 0: the store failed (why says) */
	enum hjr_state	 state;
	int64_t		 count;		/* messages or recipients in window */
	char		 why[160];	/* ok 0: connection refused, timeout,
					   the error reply */
};

/* hjr_cb - the answer to hjr_check(), on the worker's loop, in a later
 * turn than the question; never after hjr_cancel(). */
typedef void	hjr_cb(void *arg, const struct hjr_answer *a);

/* hjr_setup - keep cfg's settings for every connection (before the
 * workers start; cfg outlives them); seed: a random word of this
 * process, which keeps its counted messages apart from other
 * replicas'. */
void		 hjr_setup(const struct config *cfg, uint64_t seed);

/* hjr_new - the connection of the worker whose loop is loop; it
 * connects at once and again, with a backoff, whenever it is lost.
 * NULL when memory is short. */
struct hjr	*hjr_new(uv_loop_t *loop, int index);

/* hjr_close - the worker ends: questions in flight are answered as
 * failures, the handles close on the loop, the memory goes with them. */
void		 hjr_close(struct hjr *h);

/*
 * hjr_check - ask about identity at now: is it disabled; with more 0
 * (MAIL) does its window hold hijack.max_messages already, with more >
 * 0 (a RCPT) would more recipients pass it: then it is disabled now,
 * in the same script. more < 0: only "is it disabled" (AUTH), nothing
 * changes. Returns the question (cb will be called once, later), or
 * NULL when the store is unreachable now: *a then holds the failure.
 */
struct hjr_req	*hjr_check(struct hjr *h, const char *identity, int64_t more,
		    time_t now, hjr_cb *cb, void *arg, struct hjr_answer *a);

/* hjr_cancel - the asker is gone: its cb is never called. */
void		 hjr_cancel(struct hjr_req *q);

/* hjr_add - count units for identity at now (the backend accepted a
 * message); not awaited: a failure is logged and counted. */
void		 hjr_add(struct hjr *h, const char *identity, uint32_t units,
		    time_t now);

/* What the metrics read (atomics, any thread). */
struct hijack_store_stats {
	uint64_t	commands;	/* sent to Redis (scripts, AUTH...) */
	uint64_t	failures;	/* questions and counts that failed:
					   refused, timed out, error reply */
	uint64_t	reconnects;	/* connections made after the first */
	uint64_t	connected;	/* workers connected now */
};

/* hijack_store_stats - the counters since the start (all zero with
 * hijack.store = "file"). */
void		 hijack_store_stats(struct hijack_store_stats *out);

/* For proxy/hijack.c (the control socket's thread), synchronous,
 * bounded by hijack.redis.timeout_ms per command. Each returns what
 * hijack.h's function of the same name returns; on a store failure
 * NULL / -1 with why. */
char		*hjr_list(size_t *len, char *why, size_t cap);
char		*hjr_counters(size_t *len, char *why, size_t cap);
int		 hjr_unblock(const char *identity, size_t len, char *why,
		    size_t cap);

#endif
