/*
 * proxy/replies.c - what the backend's reply to a relayed client
 * command changes in the session: the EHLO capability list filtered
 * (what mxshield must own: STARTTLS, CHUNKING, XCLIENT...), MAIL and
 * RCPT counted into the transaction they belong to, AUTH bound on 235,
 * the final dot's reply logged and counted. Input: a validated reply
 * (backend_io.c), text untrusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/smtp_reply.h"
#include "proxy/hijack.h"
#include "proxy/replies.h"
#include "proxy/session.h"
#include "proxy/txn.h"

static void
ehlo_filter(struct session *s, struct pending *p, const char *r, size_t n)
{
	char out[64 * 1024];	/* the largest reply backend.c accepts */
	unsigned seen = 0;
	size_t len;

	static const char *const add_starttls[] = { "STARTTLS", NULL };
	unsigned drop = CAP_STARTTLS | CAP_CHUNKING | CAP_BINARYMIME |
	    CAP_XCLIENT | CAP_XFORWARD;
	const char *const *add = NULL;

	if (s->client.tls == NULL && s->listener->tls == CFG_TLS_STARTTLS)
		add = add_starttls;
	if (s->client.tls == NULL && s->cfg->auth.require_tls)
		drop |= CAP_AUTH;
	len = reply_ehlo_filter(r, n, drop, add, out, sizeof(out), &seen);
	if (len == 0) {
		/* not a well-formed 250 reply: relay it as it came */
		sess_set_backend_reply(s, p, r, n);
		return;
	}
	sess_set_backend_reply(s, p, out, len);
	(void)s;
}

/*
 * sess_on_reply - the backend's complete reply (lines with CRLF) to the
 * oldest command still waiting for one. May close the session.
 */
void
sess_on_reply(struct session *s, struct pending *p, int code,
    const char *r, size_t n)
{
	int ok = code >= 200 && code < 300;

	if (p->kind == PK_FINAL) {
		sess_set_backend_reply(s, p, r, n);
		if (ok && s->auth_id != NULL)
			hijack_accepted(s->auth_id, p->txn != NULL ?
			    (uint32_t)p->txn->rcpt_ok : 1, time(NULL));
		if (p->txn != NULL)
			sess_txn_log(s, p->txn, ok ? "accepted" : "rejected",
			    r, n);
		/* limits.max_junk_commands counts per message, as Postfix's
		 * smtpd_junk_command_limit: a client reusing its connection
		 * for many messages is not junk */
		if (ok)
			s->junk = 0;
		sess_flush(s);
		return;
	}

	switch (p->verb) {
	case CMD_EHLO:
		if (ok)
			ehlo_filter(s, p, r, n);
		else
			sess_set_backend_reply(s, p, r, n);
		break;
	case CMD_MAIL:
		sess_set_backend_reply(s, p, r, n);
		/* replies to an earlier transaction's commands (pipelined
		 * before RSET) change nothing here */
		if (!s->txn.active || p->txn_seq != s->txn_seq)
			break;
		if (ok) {
			s->txn.mail_ok = 1;
		} else {
			snprintf(s->txn.where, sizeof(s->txn.where), "mail");
			sess_txn_log(s, &s->txn, "rejected", r, n);
			sess_txn_reset(s);
		}
		break;
	case CMD_RCPT:
		sess_set_backend_reply(s, p, r, n);
		if (!s->txn.active || p->txn_seq != s->txn_seq)
			break;
		if (ok) {
			char **nr = realloc(s->txn.rcpts,
			    (s->txn.nrcpts + 1) * sizeof(*nr));

			if (nr != NULL) {
				s->txn.rcpts = nr;
				nr[s->txn.nrcpts++] = p->arg;
				p->arg = NULL;
			}
			s->txn.rcpt_ok++;
		} else {
			s->txn.rcpt_failed++;
		}
		break;
	case CMD_AUTH:
		sess_set_backend_reply(s, p, r, n);
		if (code == 334) {
			sess_enter(s, PH_AUTH);
		} else {
			sess_enter(s, PH_COMMAND);
			if (code == 235) {
				/* the identity is bound only now, by the
				 * backend that owns the passwords */
				s->flags |= SF_AUTH;
				free(s->auth_id);
				s->auth_id = s->auth_cand;
				s->auth_cand = NULL;
				s->pc.auth_id = s->auth_id;
			} else {
				free(s->auth_cand);
				s->auth_cand = NULL;
			}
		}
		break;
	case CMD_QUIT:
		sess_set_backend_reply(s, p, r, n);
		p->close_after = 1;
		sess_set_reason(s, "quit");
		break;
	default:
		sess_set_backend_reply(s, p, r, n);
		break;
	}
	sess_flush(s);
}

