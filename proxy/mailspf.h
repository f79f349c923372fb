/*
 * proxy/mailspf.h - SPF in a session: the check of a transaction's
 * MAIL FROM (and HELO) identity runs on the worker's resolver
 * (proxy/spfw.c) while the MAIL waits in its place in the reply queue
 * (proxy/await.h); once it is done the MAIL is handled again, the
 * verdict joins the transaction's, a refusal is its reply, and the
 * result stays with the transaction for the Received-SPF field
 * (proxy/data.c) and the spoof score.
 */
#ifndef MXS_MAILSPF_H
#define MXS_MAILSPF_H

#include <stddef.h>

#include "core/smtp_cmd.h"

struct session;

/*
 * mailspf_wait - for the MAIL c (its line l[0..n)) that opens a
 * transaction: 1 when it must wait for its SPF check (started now, or
 * still running), 0 when SPF does not apply (off, trusted or
 * authenticated client) or its result is in.
 */
int	mailspf_wait(struct session *s, const struct smtp_cmd *c,
	    const char *l, size_t n);

/* mailspf_take - the result (if any) goes to the new s->txn. */
void	mailspf_take(struct session *s);

/*
 * mailspf_decide - the verdict of the transaction's check, once the
 * MAIL's other checks let it through: noted for its log line; an
 * enforced refusal is the MAIL's reply (returns 1). The result stays
 * with s->txn (the Received-SPF field, the spoof score). Nothing when
 * SPF did not run.
 */
int	mailspf_decide(struct session *s, enum cmd_verb verb);

/* mailspf_stop - the session ends: the check in flight is cancelled. */
void	mailspf_stop(struct session *s);

#endif
