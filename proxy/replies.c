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

#include "core/sasl.h"
#include "core/smtp_reply.h"
#include "proxy/commands.h"
#include "proxy/gen.h"
#include "proxy/hijack.h"
#include "proxy/hjstore.h"
#include "proxy/log.h"
#include "proxy/pol.h"
#include "proxy/replies.h"
#include "proxy/server.h"
#include "proxy/session.h"
#include "proxy/txn.h"

/*
 * ehlo_filter - the EHLO reply a client sees: the backend's, through the
 * allowlist of capabilities (core/smtp_reply.c), with mxshield's own
 * STARTTLS; AUTH hidden until TLS where auth.require_tls says so, and
 * kept to the mechanisms whose identity mxshield reads while a control
 * needs the identity. What was removed is logged at debug level. Fails
 * closed: a reply that cannot be filtered is never relayed as it came;
 * the session ends with 421 4.4.2 (returns -1).
 */
static int
ehlo_filter(struct session *s, struct pending *p, const char *r, size_t n)
{
	char out[64 * 1024];	/* the largest reply backend.c accepts */
	const char *mechs[SASL_MECH_SCRAM_SHA_256_PLUS + 1];
	struct ehlo_result res;
	size_t len;

	const char *add[3] = { NULL, NULL, NULL };
	char sizekw[32];
	size_t nadd = 0;
	uint64_t lim;
	int64_t bk;
	struct ehlo_opts o = { CAP_ALLOWED, add, NULL };

	/* size_limits: SIZE shows the smaller of the backend's fixed limit
	 * and ours for this session (RFC 1870 4) */
	if ((lim = pol_size_ehlo(s->gen->pol, &s->pc)) != 0) {
		bk = reply_ehlo_size(r, n);
		if (bk > 0 && (uint64_t)bk < lim)
			lim = (uint64_t)bk;
		o.keep &= ~CAP_SIZE;
		snprintf(sizekw, sizeof(sizekw), "SIZE %llu",
		    (unsigned long long)lim);
		add[nadd++] = sizekw;
	}
	if (s->client.tls == NULL && s->listener->tls == CFG_TLS_STARTTLS)
		add[nadd++] = "STARTTLS";
	if (s->client.tls == NULL && s->cfg->auth.require_tls)
		o.keep &= ~CAP_AUTH;
	if (sess_auth_need_identity(s->cfg)) {
		size_t k = 0;

		for (int m = SASL_MECH_UNKNOWN + 1;
		    m <= SASL_MECH_SCRAM_SHA_256_PLUS; m++)
			mechs[k++] = sasl_mech_name((enum sasl_mech)m);
		mechs[k] = NULL;
		o.mechs = mechs;
	}
	len = reply_ehlo_filter(r, n, &o, out, sizeof(out), &res);
	if (len == 0) {
		log_sid_client(CFG_LOG_WARN, "backend", s->id, s->ip, "EHLO "
		    "reply cannot be filtered (malformed, or over 64 KiB once "
		    "filtered): not relayed");
		sess_backend_lost(s, "421 4.4.2 Backend reply not usable, try "
		    "again later", "EHLO reply cannot be filtered");
		return -1;
	}
	if (res.seen & CAP_PIPELINING)
		s->flags |= SF_PIPELINING;
	if (res.nremoved > 0)
		log_sid(CFG_LOG_DEBUG, "backend", s->id, "EHLO capabilities "
		    "not offered to the client: %s", res.removed);
	sess_set_backend_reply(s, p, out, len);
	return 0;
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
			hjstore_accepted(s, p->txn != NULL ?
			    (uint32_t)p->txn->rcpt_ok : 1);
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
		if (!ok)
			sess_set_backend_reply(s, p, r, n);
		else if (ehlo_filter(s, p, r, n) < 0)
			return;
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
		if (code == 235 && s->auth_cand == NULL &&
		    sess_auth_need_identity(s->cfg)) {
			/* a login mxshield could not attribute (an
			 * OAUTHBEARER token without a=, a malformed
			 * message a lenient backend took) while a
			 * control needs the identity: never an
			 * anonymous authenticated session */
			sess_backend_lost(s, "421 4.7.0 Authentication "
			    "not attributable, closing connection",
			    "AUTH accepted by the backend without an "
			    "identity mxshield could read");
			return;
		}
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

