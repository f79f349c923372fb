/*
 * proxy/hjstore.c - hijack detection in a session (proxy/hjstore.h):
 * the question to Redis a MAIL or an AUTH line waits for, its answer
 * kept in the session until the command is handled again, and the
 * file store's calls where no question is needed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "proxy/await.h"
#include "proxy/commands.h"
#include "proxy/hijack_int.h"
#include "proxy/hjredis.h"
#include "proxy/hjredis_int.h"
#include "proxy/hjstore.h"
#include "proxy/server.h"
#include "proxy/session.h"

static int
redis_for(const struct session *s, const char *identity)
{
	return hj.on && hj.redis && identity != NULL &&
	    !hj_is_exempt(identity, strnlen(identity, HIJACK_ID_MAX));
}

static int
ready(struct session *s, void *arg)
{
	(void)arg;
	return s->hj_req == NULL;
}

static void
on_answer(void *arg, const struct hjr_answer *a)
{
	struct session *s = arg;

	s->hj_req = NULL;
	s->hj_ans = *a;
	s->hj_have = 1;
	await_kick(s);
}

int
hjstore_wait(struct session *s, enum cmd_verb verb, const char *l,
    size_t n, const char *identity, int64_t more)
{
	struct hjr_answer a;

	if (!redis_for(s, identity))
		return 0;
	/* handled again (s->resume) with its answer in: go on. A new
	 * command never takes an answer an earlier one left. */
	if (s->hj_have && s->resume != NULL)
		return 0;
	s->hj_have = 0;
	if (s->hj_req == NULL) {
		s->hj_req = hjr_check(s->w->hjr, identity, more, time(NULL),
		    on_answer, s, &a);
		if (s->hj_req == NULL) {
			s->hj_ans = a;
			s->hj_have = 1;
			return 0;
		}
	}
	await_line(s, verb, l, n, ready, NULL);
	return 1;
}

/* The answer, taken: 0 when there is none (not asked). */
static int
take(struct session *s, struct hjr_answer *a)
{
	if (!s->hj_have)
		return 0;
	*a = s->hj_ans;
	s->hj_have = 0;
	return 1;
}

static enum hijack_rc
failed(void)
{
	return hj.on && hj.redis && hjr_set.cfg->hijack.on_store_failure ==
	    CFG_HJ_FAIL_TEMPFAIL ? HIJACK_STORE_FAIL : HIJACK_OK;
}

enum hijack_rc
hjstore_mail(struct session *s)
{
	struct hjr_answer a;

	s->hj_count_ok = 0;
	if (!hj.on || s->auth_id == NULL)
		return HIJACK_OK;
	if (!hj.redis)
		return hijack_mail(s->auth_id, time(NULL), s->id, s->ip);
	if (!redis_for(s, s->auth_id) || !take(s, &a))
		return HIJACK_OK;
	if (!a.ok)
		return failed();
	switch (a.state) {
	case HJR_WAS_DISABLED:
		return HIJACK_DISABLED;
	case HJR_NOW_DISABLED:
		hijack_log_disabled(s->auth_id, strnlen(s->auth_id,
		    HIJACK_ID_MAX), (uint32_t)a.count, 0, s->id, s->ip);
		return HIJACK_NOW_DISABLED;
	default:
		s->hj_count = a.count;
		s->hj_count_ok = 1;
		return HIJACK_OK;
	}
}

enum hijack_rc
hjstore_rcpt(struct session *s, uint32_t open)
{
	struct hjr_answer a;
	uint64_t more = (uint64_t)open + 1;

	if (!hj.on || s->auth_id == NULL || !hj.recipients)
		return HIJACK_OK;
	if (!hj.redis)
		return hijack_rcpt(s->auth_id, open, time(NULL), s->id, s->ip);
	if (!redis_for(s, s->auth_id) || !s->hj_count_ok ||
	    (uint64_t)s->hj_count + more <= (uint64_t)hj.max)
		return HIJACK_OK;
	/* past the limit with the count the MAIL read: the same script
	 * disables it in Redis (not awaited: the RCPT is refused here) */
	(void)hjr_check(s->w->hjr, s->auth_id, (int64_t)more, time(NULL),
	    NULL, NULL, &a);
	s->hj_count_ok = 0;
	hijack_log_disabled(s->auth_id, strnlen(s->auth_id, HIJACK_ID_MAX),
	    (uint32_t)s->hj_count, more, s->id, s->ip);
	return HIJACK_NOW_DISABLED;
}

enum hijack_rc
hjstore_auth(struct session *s)
{
	struct hjr_answer a;

	if (!hj.on || s->auth_cand == NULL)
		return HIJACK_OK;
	if (!hj.redis)
		return hijack_is_disabled(s->auth_cand) ? HIJACK_DISABLED :
		    HIJACK_OK;
	if (!redis_for(s, s->auth_cand) || !take(s, &a))
		return HIJACK_OK;
	if (!a.ok)
		return failed();
	return a.state != HJR_CLEAR ? HIJACK_DISABLED : HIJACK_OK;
}

void
hjstore_accepted(struct session *s, uint32_t rcpts)
{
	uint32_t units;

	if (!hj.on || s->auth_id == NULL)
		return;
	if (!hj.redis) {
		hijack_accepted(s->auth_id, rcpts, time(NULL));
		return;
	}
	units = hj.recipients ? rcpts : 1;
	if (units > hj.max)
		units = hj.max;
	if (units > 0)
		hjr_add(s->w->hjr, s->auth_id, units, time(NULL));
}

void
hjstore_verdict(struct policy_verdict *v, enum policy_stage at,
    const char *identity, enum hijack_rc rc)
{
	if (rc != HIJACK_STORE_FAIL) {
		sess_hijack_verdict(v, at, identity, rc == HIJACK_NOW_DISABLED);
		return;
	}
	memset(v, 0, sizeof(*v));
	v->action = POLICY_REJECT;
	v->at = at;
	v->check = POLICY_CK_HIJACK;
	v->code = at == POLICY_AT_AUTH ? 454 : 451;
	snprintf(v->enh, sizeof(v->enh), "%s", at == POLICY_AT_AUTH ?
	    "4.7.0" : "4.3.0");
	snprintf(v->text, sizeof(v->text), "%s", at == POLICY_AT_AUTH ?
	    "454 4.7.0 Temporary authentication failure" :
	    "451 4.3.0 Temporary failure, try again later");
	snprintf(v->reason, sizeof(v->reason), "hijack store (Redis) "
	    "unreachable; hijack.on_store_failure = \"tempfail\"");
}

void
hjstore_stop(struct session *s)
{
	hjr_cancel(s->hj_req);
	s->hj_req = NULL;
	s->hj_have = 0;
}
