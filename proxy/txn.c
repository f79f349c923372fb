/*
 * proxy/txn.c - the log lines of a session and of each transaction
 * (README "Reading the logs": one JSON object per line, every client
 * string escaped by log.c), the queue id read from the backend's reply
 * to the final dot, and ending a transaction that got no final reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/smtp_reply.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/pol.h"
#include "proxy/server.h"
#include "proxy/spfw.h"
#include "proxy/txn.h"

/* ------------------------------------------------------------ txn */

void
sess_txn_reset(struct session *s)
{
	txn_clear(&s->txn);
}

/* txn_clear - free what t owns and zero it. */
void
txn_clear(struct txn *t)
{
	free(t->mail_from);
	for (size_t i = 0; i < t->nrcpts; i++)
		free(t->rcpts[i]);
	free(t->rcpts);
	free(t->error);
	free(t->error_why);
	free(t->verdicts);
	free(t->ma);		/* plain memory: nothing inside to release */
	spfw_result_free(t->spf);
	memset(t, 0, sizeof(*t));
}

/* The fields every txn and session line starts with: who this is. */
static void
log_who(struct logline *l, const struct session *s)
{
	log_hex64(l, "sid", s->id);
	log_cstr(l, "client", s->ip);
	log_int(l, "port", s->port);
	log_cstr(l, "helo", s->helo);
	if (s->tls_info[0])
		log_cstr(l, "tls", s->tls_info);
	else
		log_null(l, "tls");
	log_cstr(l, "auth", s->auth_id);
	log_cstr(l, "backend_tls", s->bk_tls[0] ? s->bk_tls : NULL);
}

/*
 * sess_txn_log - the transaction's one log line. result is "accepted",
 * "rejected" or "aborted"; backend_reply is the last reply that decided
 * it (may be NULL). "reason" says what ended an aborted one and is null
 * otherwise; each verdict object has the same fields (README "Reading
 * the logs"): check, action, code, reason, reply, score.
 */
void
sess_txn_log(struct session *s, const struct txn *t, const char *result,
    const char *br, size_t blen)
{
	struct logline l;
	const char *qid = NULL, *err = t->error;
	size_t qlen = 0, el = err != NULL ? strlen(err) : 0;

	metrics_txn(s->w->mx, result);
	/* mxshield's own refusal of the message: "protocol" below */
	if (err != NULL && !t->error_noted && !(br == NULL &&
	    t->error_why == NULL))
		metrics_rejection(s->w->mx, MX_CHECK_PROTOCOL, t->error_code);
	if (!log_enabled(CFG_LOG_INFO))
		return;
	while (el > 0 && (err[el - 1] == '\n' || err[el - 1] == '\r'))
		el--;
	if (t->error_noted)
		err = NULL;	/* a policy refusal: in verdicts already */
	if (br == NULL && err != NULL && t->error_why == NULL) {
		/* the backend refused our DATA: its reply, not a verdict */
		br = err;
		blen = el;
		err = NULL;
	}
	while (br != NULL && blen > 0 && (br[blen - 1] == '\n' ||
	    br[blen - 1] == '\r'))
		blen--;
	if (br != NULL && strcmp(result, "accepted") == 0) {
		struct span q = reply_queue_id(br, blen);

		qid = q.p;
		qlen = q.len;
	}
	log_begin(&l, "txn");
	log_who(&l, s);
	log_cstr(&l, "mail_from", t->mail_from);
	if (t->message_id[0])
		log_cstr(&l, "message_id", t->message_id);
	else
		log_null(&l, "message_id");
	log_int(&l, "size", (int64_t)t->size);
	log_cstr(&l, "result", result);
	log_cstr(&l, "where", t->where[0] ? t->where : "mail");
	log_cstr(&l, "reason", strcmp(result, "aborted") == 0 ?
	    t->abort_reason : NULL);
	log_array_begin(&l, "verdicts");
	for (size_t i = 0; i < t->nverdicts; i++) {
		const struct policy_verdict *v = &t->verdicts[i].v;

		log_array_obj_begin(&l);
		log_cstr(&l, "check", policy_check_name(v->check));
		log_cstr(&l, "action", pol_action_name(v,
		    t->verdicts[i].enforced));
		log_int(&l, "code", v->code);
		log_cstr(&l, "reason", v->reason);
		log_cstr(&l, "reply", v->text);
		log_int(&l, "score", v->score);
		log_array_obj_end(&l);
	}
	if (err != NULL && !t->error_noted) {
		/* mxshield's own refusal of the message (DESIGN.md "Hostile
		 * input": bare line ends, NUL, header size, memory) */
		log_array_obj_begin(&l);
		log_cstr(&l, "check", "protocol");
		log_cstr(&l, "action", "reject");
		log_int(&l, "code", t->error_code);
		log_cstr(&l, "reason", t->error_why != NULL ? t->error_why :
		    "");
		log_str(&l, "reply", err, el);
		log_int(&l, "score", 0);
		log_array_obj_end(&l);
	}
	log_array_end(&l);
	log_str(&l, "backend_reply", br, blen);
	log_str(&l, "queue_id", qid, qlen);
	log_int(&l, "duration_ms", (int64_t)(mxs_now_ms() - t->start_ms));
	/* last: the one list that grows with the client (log.h) */
	log_array_begin(&l, "rcpts");
	for (size_t i = 0; i < t->nrcpts; i++)
		log_array_str(&l, t->rcpts[i], strlen(t->rcpts[i]));
	log_array_end(&l);
	log_end(&l);
}

/*
 * sess_txn_abort - the transaction ends without a reply to a final dot:
 * why says what ended it ("client sent QUIT", a session's close reason).
 * Logged "rejected" when nothing could be accepted any more because
 * every RCPT given was refused, by mxshield or by the backend (replies
 * still awaited count as neither); otherwise "aborted" with why. "where"
 * is the last stage the client reached.
 */
void
sess_txn_abort(struct session *s, const char *why)
{
	struct txn *t = &s->txn;
	int given, awaited;

	if (!t->active)
		return;
	given = t->rcpt_sent + t->rcpt_refused;
	awaited = t->rcpt_sent - t->rcpt_ok - t->rcpt_failed;
	if (!t->where[0])
		snprintf(t->where, sizeof(t->where), "%s", given > 0 ?
		    "rcpt" : "mail");
	t->abort_reason = why;
	sess_txn_log(s, t, given > 0 && t->rcpt_ok == 0 && awaited <= 0 ?
	    "rejected" : "aborted", NULL, 0);
	sess_txn_reset(s);
}

/* sess_log_closed - the session's one log line. */
void
sess_log_closed(struct session *s, const char *reason)
{
	struct logline l;

	if (!log_enabled(CFG_LOG_INFO))
		return;
	log_begin(&l, "session");
	log_who(&l, s);
	log_cstr(&l, "reason", reason);
	log_int(&l, "errors", s->errors);
	log_int(&l, "bytes_in", (int64_t)s->bytes_in);
	log_int(&l, "bytes_out", (int64_t)s->client.bytes_out);
	log_int(&l, "duration_ms", (int64_t)(mxs_now_ms() - s->start_ms));
	log_end(&l);
}

