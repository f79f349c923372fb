/*
 * proxy/hjstore.h - hijack detection as a session sees it, whichever
 * hijack.store keeps the counters: with "file" these are the calls of
 * proxy/hijack.h, answered at once; with "redis" the MAIL that opens a
 * transaction (and the AUTH line that names an identity) asks Redis
 * and waits for the answer in its place in the reply queue
 * (proxy/await.h), and a message the backend accepted is counted
 * without waiting. When Redis cannot answer (refused, timed out, an
 * error reply) hijack.on_store_failure decides: "allow" lets the
 * message through uncounted, "tempfail" answers 451 4.3.0 at MAIL and
 * 454 4.7.0 at AUTH (RFC 4954 6). Both are logged ("hijack",
 * action "store_failure") and counted (hijack_store_stats()).
 */
#ifndef MXS_HJSTORE_H
#define MXS_HJSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/policy.h"
#include "core/smtp_cmd.h"
#include "proxy/hijack.h"

struct session;

/*
 * hjstore_wait - for a MAIL opening a transaction (identity s->auth_id,
 * more 0) or an AUTH line that named identity s->auth_cand (more -1):
 * 1 when the command line l[0..n) waits for Redis' answer (asked now);
 * 0 when it goes on (file store, an exempt identity, the answer is in,
 * or Redis is unreachable now and the failure is the answer).
 */
int		 hjstore_wait(struct session *s, enum cmd_verb verb,
		    const char *l, size_t n, const char *identity,
		    int64_t more);

/* hjstore_mail - the verdict on the MAIL of s->auth_id: HIJACK_OK,
 * HIJACK_DISABLED, HIJACK_NOW_DISABLED (logged), or HIJACK_STORE_FAIL
 * (on_store_failure = "tempfail"). */
enum hijack_rc	 hjstore_mail(struct session *s);

/* hjstore_rcpt - with hijack.count = "recipients": this RCPT, with
 * open recipients of the message that may still be accepted. */
enum hijack_rc	 hjstore_rcpt(struct session *s, uint32_t open);

/* hjstore_auth - is s->auth_cand disabled: HIJACK_OK, HIJACK_DISABLED,
 * or HIJACK_STORE_FAIL (tempfail). */
enum hijack_rc	 hjstore_auth(struct session *s);

/* hjstore_accepted - the backend accepted a message of s->auth_id for
 * rcpts recipients: count it. */
void		 hjstore_accepted(struct session *s, uint32_t rcpts);

/* hjstore_verdict - the verdict of a refusal by rc at stage at. */
void		 hjstore_verdict(struct policy_verdict *v,
		    enum policy_stage at, const char *identity,
		    enum hijack_rc rc);

/* hjstore_stop - the session ends: a question in flight is cancelled. */
void		 hjstore_stop(struct session *s);

#endif
