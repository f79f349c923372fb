/*
 * proxy/txn.h - the log lines of a session and of its transactions
 * (README "Reading the logs"), and the end of a transaction without a
 * reply to its final dot.
 */
#ifndef MXS_TXN_H
#define MXS_TXN_H

#include <stddef.h>

#include "proxy/session.h"

void	txn_clear(struct txn *t);
void	sess_txn_reset(struct session *s);
void	sess_txn_log(struct session *s, const struct txn *t,
	    const char *result, const char *backend_reply, size_t blen);
void	sess_txn_abort(struct session *s, const char *why);
void	sess_log_closed(struct session *s, const char *reason);

#endif
