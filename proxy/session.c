/*
 * proxy/session.c - the session state machine: accepting a client (and
 * its PROXY header), reading its lines, the FIFO of pending replies
 * (RFC 2920 order), the backend's replies to them, timers, and the one
 * exit. Replies leave only through sess_flush(); what each command does
 * is in commands.c, DATA in data.c, the backend leg in backend.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/esc.h"
#include "core/proxyproto.h"
#include "core/smtp_reply.h"
#include "proxy/log.h"
#include "proxy/hijack.h"
#include "proxy/pol.h"
#include "proxy/server.h"
#include "proxy/session.h"

uint64_t
mxs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void on_client_timer(uv_timer_t *t);
static size_t proxy_input(struct session *s, const char *p, size_t n);

char *
mxs_memdup(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

/* ------------------------------------------------------------ queue */

/*
 * sess_push - append a pending entry for the next reply. Returns NULL
 * when memory is short (the caller ends the session).
 */
struct pending *
sess_push(struct session *s, enum pend_kind kind, enum cmd_verb verb)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->kind = kind;
	p->verb = verb;
	if (s->qtail != NULL)
		s->qtail->next = p;
	else
		s->qhead = p;
	s->qtail = p;
	s->nq++;
	return p;
}

static void
pend_free(struct pending *p)
{
	free(p->reply);
	free(p->arg);
	if (p->txn != NULL) {
		txn_clear(p->txn);
		free(p->txn);
	}
	free(p);
}

static void
pend_unlink(struct session *s, struct pending *prev, struct pending *p)
{
	if (prev != NULL)
		prev->next = p->next;
	else
		s->qhead = p->next;
	if (s->qtail == p)
		s->qtail = prev;
	s->nq--;
	if (s->barrier == p)
		s->barrier = NULL;
	pend_free(p);
}

static int
set_reply(struct pending *p, const char *text, size_t n)
{
	free(p->reply);
	p->reply = mxs_memdup(text, n);
	p->reply_len = p->reply ? n : 0;
	p->code = 0;
	for (size_t i = 0; i < 3 && i < n && text[i] >= '0' && text[i] <= '9';
	    i++)
		p->code = p->code * 10 + (text[i] - '0');
	p->done = 1;
	return p->reply ? 0 : -1;
}

/* sess_local - complete p with our own one-line reply (no CRLF in text). */
void
sess_local(struct session *s, struct pending *p, const char *text)
{
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "%s\r\n", text);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = (int)strlen(strcpy(line, "451 4.3.0 Internal error\r\n"));
	set_reply(p, line, (size_t)n);
	(void)s;
}

void
sess_reply_now(struct session *s, enum cmd_verb verb, const char *text)
{
	struct pending *p = sess_push(s, PK_LOCAL, verb);

	if (p == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	sess_local(s, p, text);
}

/* Queue a 421 and hang up once it is written. */
void
sess_hang_up(struct session *s, const char *text, const char *reason)
{
	struct pending *p;

	if (s->quitting || s->hangup_queued || s->phase == PH_CLOSED)
		return;
	s->hangup_queued = 1;
	p = sess_push(s, PK_LOCAL, CMD_QUIT);
	if (p == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	sess_local(s, p, text);
	p->close_after = 1;
	s->close_reason = reason;
}

/*
 * final_lost - p's message went to the backend whole, and its reply to
 * the final dot will never be read (why: the backend leg or the session
 * ended): its txn line, "aborted" at "data". The backend may have taken
 * the message, and the reason says so.
 */
static void
final_lost(struct session *s, struct pending *p, const char *why)
{
	char reason[256];

	if (p->kind != PK_FINAL || p->done || p->txn == NULL)
		return;
	snprintf(reason, sizeof(reason), "%s, after the final dot: the "
	    "backend may have the message", why != NULL ? why :
	    "backend lost");
	p->txn->abort_reason = reason;
	sess_txn_log(s, p->txn, "aborted", NULL, 0);
	txn_clear(p->txn);
	free(p->txn);
	p->txn = NULL;
}

/*
 * sess_fail_all - give every reply still owed to the client the text
 * (a 421), then hang up. Used when the backend is gone.
 */
void
sess_fail_all(struct session *s, const char *text)
{
	struct pending *p, *last = NULL;

	for (p = s->qhead; p != NULL; p = p->next) {
		if (p->kind == PK_INTERNAL) {
			p->done = 1;
			continue;
		}
		if (!p->done) {
			final_lost(s, p, s->close_reason);
			sess_local(s, p, text);
		}
		last = p;
	}
	if (last == NULL || last->code != 421) {
		sess_hang_up(s, text, s->close_reason);
	} else {
		last->close_after = 1;
	}
	sess_flush(s);
}


/* auth_forget - no identity any more (STARTTLS, a failed AUTH). */
static void
auth_forget(struct session *s)
{
	free(s->auth_id);
	free(s->auth_cand);
	s->auth_id = s->auth_cand = NULL;
	s->pc.auth_id = NULL;
	memset(&s->sasl, 0, sizeof(s->sasl));
}

/*
 * client_start_tls - our 220 to STARTTLS is on its way: whatever the
 * client sent after STARTTLS in plaintext is dropped, never executed
 * inside TLS (CVE-2011-0411), and the SMTP state is forgotten as RFC
 * 3207 4.2 demands. May close the session.
 */
static void
client_start_tls(struct session *s)
{
	if (s->client.in_len > 0) {
		log_msg(CFG_LOG_WARN, "tls", "sid=%016llx client=%s: %zu bytes "
		    "pipelined after STARTTLS discarded (command injection "
		    "attempt)", (unsigned long long)s->id, s->ip,
		    s->client.in_len);
		side_consume_in(&s->client, s->client.in_len);
	}
	memset(&s->lscan, 0, sizeof(s->lscan));
	if (s->txn.active) {
		struct pending *r = sess_push(s, PK_INTERNAL, CMD_RSET);

		sess_txn_abort(s, "client sent STARTTLS");
		if (r == NULL) {
			sess_close(s, "out of memory");
			return;
		}
		r->ic = IC_RSET;
		backend_send(s, "RSET\r\n", 6);
	}
	free(s->helo);
	free(s->helo_line);
	s->helo = s->helo_line = NULL;
	s->ehlo = 0;
	s->auth = 0;
	auth_forget(s);
	s->pc.helo_seen = false;
	memset(&s->pc.helo, 0, sizeof(s->pc.helo));
	s->need_ehlo = 1;
	if (side_start_tls(&s->client, s->w->srv->tls_server) < 0) {
		sess_close(s, "out of memory");
		return;
	}
	sess_set_timer(s);
}

/* sess_tls_ready - the client's TLS handshake completed. */
void
sess_tls_ready(struct session *s)
{
	snprintf(s->tls_info, sizeof(s->tls_info), "%s %s",
	    tls_version(s->client.tls), tls_cipher(s->client.tls));
	s->pc.tls = true;
	log_msg(CFG_LOG_DEBUG, "tls", "sid=%016llx client=%s: %s",
	    (unsigned long long)s->id, s->ip, s->tls_info);
	sess_set_timer(s);
	sess_flush(s);
}

/*
 * sess_flush - write every completed reply at the head of the queue, in
 * order, in one write. PK_DATA is decided here, when all replies before
 * it are known. Internal entries produce no output. May close the
 * session (check s->phase afterwards).
 */
void
sess_flush(struct session *s)
{
	struct pending *p, *prev = NULL, *next;
	int hangup = 0, wrote = 0;

	if (s->flushing || s->phase == PH_CLOSED)
		return;
	/* nothing goes to the client in the middle of its TLS handshake */
	if (s->client.tls != NULL && !s->client.tls_ready)
		return;
	s->flushing = 1;
	for (p = s->qhead; p != NULL; p = next) {
		next = p->next;
		if (p->kind == PK_INTERNAL) {
			if (p->done)
				pend_unlink(s, prev, p);
			else
				prev = p;
			continue;
		}
		if (p->kind == PK_DATA && !p->done)
			data_decide(s, p);
		if (!p->done)
			break;
		scratch_put(s->w, &s->client, p->reply, p->reply_len);
		sess_transcript(s, "server", p->reply, p->reply_len);
		wrote = 1;
		if (p->code >= 400 && p->code != 421 && !p->close_after)
			s->errors++;
		hangup = p->close_after;
		if (p->starttls) {
			pend_unlink(s, prev, p);
			scratch_flush(s->w);
			client_start_tls(s);
			if (s->phase == PH_CLOSED) {
				s->flushing = 0;
				return;
			}
			next = s->qhead;
			prev = NULL;
			continue;
		}
		pend_unlink(s, prev, p);
		if (hangup)
			break;
		if (s->errors >= s->cfg->limits.max_errors) {
			log_msg(CFG_LOG_INFO, "limit", "sid=%016llx client=%s: "
			    "%d errors, hanging up", (unsigned long long)s->id,
			    s->ip, s->errors);
			sess_hang_up(s, "421 4.7.0 Too many errors, closing connection",
			    "too many errors");
			next = s->qhead;
			prev = NULL;
		}
	}
	scratch_flush(s->w);
	s->flushing = 0;
	if (s->phase == PH_CLOSED)
		return;
	if (hangup) {
		s->quitting = 1;
		s->phase = PH_QUIT;
		side_stop_read(&s->client);
		if (s->client.queued == 0)
			sess_close(s, s->close_reason ? s->close_reason : "quit");
		return;
	}
	if (s->drain && s->qhead == NULL && s->phase == PH_COMMAND &&
	    !s->txn.active) {
		sess_hang_up(s, "421 4.3.2 Service shutting down", "shutdown");
		sess_flush(s);
		return;
	}
	if (wrote)
		sess_set_timer(s);
	sess_update_reading(s);
}

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
	free(t->verdicts);
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

	if (!log_enabled(CFG_LOG_INFO))
		return;
	while (el > 0 && (err[el - 1] == '\n' || err[el - 1] == '\r'))
		el--;
	if (br == NULL && err != NULL && t->error_why[0] == '\0') {
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
		log_cstr(&l, "action", t->verdicts[i].enforced ? "reject" :
		    "monitor");
		log_int(&l, "code", v->code);
		log_cstr(&l, "reason", v->reason);
		log_cstr(&l, "reply", v->text);
		log_int(&l, "score", v->score);
		log_array_obj_end(&l);
	}
	if (err != NULL) {
		/* mxshield's own refusal of the message (DESIGN.md "Hostile
		 * input": bare line ends, NUL, header size, memory) */
		log_array_obj_begin(&l);
		log_cstr(&l, "check", "protocol");
		log_cstr(&l, "action", "reject");
		log_int(&l, "code", t->error_code);
		log_cstr(&l, "reason", t->error_why);
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

/* ------------------------------------------------------------ replies */

/*
 * The EHLO reply a client sees: the backend's, through the allowlist of
 * capabilities. Fails closed: a reply that cannot be filtered is never
 * relayed as it came; the session ends with 421 4.4.2 (returns -1).
 */
static int
ehlo_filter(struct session *s, struct pending *p, const char *r, size_t n)
{
	char out[MAX_REPLY];
	size_t len;

	static const char *const add_starttls[] = { "STARTTLS", NULL };
	struct ehlo_opts o = { CAP_ALLOWED, NULL, NULL };

	if (s->client.tls == NULL && s->listener->tls == CFG_TLS_STARTTLS)
		o.add = add_starttls;
	if (s->client.tls == NULL && s->cfg->auth.require_tls)
		o.keep &= ~CAP_AUTH;
	len = reply_ehlo_filter(r, n, &o, out, sizeof(out), NULL);
	if (len == 0) {
		backend_broken(s, "EHLO reply cannot be filtered");
		return -1;
	}
	set_reply(p, out, len);
	return 0;
}

/*
 * backend_replay_helo - a replacement backend leg is greeted (and in TLS
 * where configured): replay the client's HELO/EHLO, its reply swallowed.
 * With no HELO yet the leg is ready at once.
 */
void
backend_replay_helo(struct session *s)
{
	struct pending *e;

	if (s->helo_line == NULL) {
		s->reconnecting = 0;
		return;
	}
	if (backend_xclient_start(s))
		return;		/* replayed after XCLIENT's 220 */
	e = sess_push(s, PK_INTERNAL, s->ehlo ? CMD_EHLO : CMD_HELO);
	if (e == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	e->ic = IC_EHLO;
	backend_send(s, s->helo_line, strlen(s->helo_line));
	backend_send(s, "\r\n", 2);
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

	if (p->kind == PK_INTERNAL) {
		p->done = 1;
		p->code = code;
		switch (p->ic) {
		case IC_GREETING:
			if (!ok) {
				backend_lost(s, "fresh backend refused us");
				return;
			}
			if (backend_after_greeting(s, p, r, n))
				return;
			backend_replay_helo(s);
			break;
		case IC_EHLO:
			if (!ok) {
				backend_lost(s, "fresh backend refused EHLO");
				return;
			}
			s->reconnecting = 0;
			break;
		case IC_DATA:
			data_backend_ready(s, code, r, n);
			break;
		case IC_TLS_EHLO:
		case IC_STARTTLS:
			backend_tls_step(s, p, code, r, n);
			return;
		case IC_XC_EHLO:
		case IC_XCLIENT:
			backend_xclient_step(s, p, code, r, n);
			return;
		default:
			break;
		}
		sess_flush(s);
		return;
	}

	if (p->ic == IC_GREETING && backend_after_greeting(s, p, r, n))
		return;

	if (p->kind == PK_FINAL) {
		set_reply(p, r, n);
		if (ok && s->auth_id != NULL)
			hijack_accepted(s->auth_id, p->txn != NULL ?
			    (uint32_t)p->txn->rcpt_ok : 1, time(NULL));
		if (p->txn != NULL)
			sess_txn_log(s, p->txn, ok ? "accepted" : "rejected",
			    r, n);
		sess_flush(s);
		return;
	}

	switch (p->verb) {
	case CMD_EHLO:
		if (ok) {
			if (ehlo_filter(s, p, r, n) < 0)
				return;
		} else
			set_reply(p, r, n);
		break;
	case CMD_MAIL:
		set_reply(p, r, n);
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
		set_reply(p, r, n);
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
		set_reply(p, r, n);
		if (code == 334) {
			s->phase = PH_AUTH;
		} else {
			s->phase = PH_COMMAND;
			if (code == 235) {
				/* the identity is bound only now, by the
				 * backend that owns the passwords */
				s->auth = 1;
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
		set_reply(p, r, n);
		p->close_after = 1;
		s->close_reason = "quit";
		break;
	default:
		if (p->ic == IC_GREETING) {
			set_reply(p, r, n);
			if (s->phase == PH_CONNECT)
				s->phase = PH_COMMAND;
			break;
		}
		set_reply(p, r, n);
		break;
	}
	sess_flush(s);
}

/* ------------------------------------------------------------ input */

static int
input_allowed(struct session *s)
{
	if (s->phase == PH_PROXY)
		return 1;
	if (s->phase == PH_CONNECT || s->phase == PH_QUIT ||
	    s->phase == PH_CLOSED || s->phase == PH_DATA_WAIT || s->quitting)
		return 0;
	if (s->barrier != NULL)
		return 0;
	/* a rejected message is read to its end even while the backend
	 * leg is being replaced */
	if ((s->reconnecting || s->backend == NULL) &&
	    s->phase != PH_DATA_DISCARD)
		return 0;
	if (s->nq >= MAX_PENDING)
		return 0;
	if ((s->backend != NULL && s->backend->queued > WQ_HIGH) ||
	    s->client.queued > WQ_HIGH)
		return 0;
	return 1;
}

int
sess_can_read_client(struct session *s)
{
	return input_allowed(s);
}

/*
 * sess_client_input - parse what the client sent, as far as the session
 * may go now. Stops at a barrier (DATA, AUTH, QUIT waiting for their
 * answer) and when output queues are full; what is left stays in the
 * side's buffer, and reading stops until the session can go on.
 */
void
sess_client_input(struct session *s)
{
	size_t off = 0, used;

	if (s->in_input || s->phase == PH_CLOSED)
		return;
	s->in_input = 1;
	while (off < s->client.in_len && input_allowed(s)) {
		const char *p = s->client.in + off;
		size_t n = s->client.in_len - off;

		if (s->phase == PH_PROXY)
			used = proxy_input(s, p, n);
		else if (s->phase >= PH_DATA_HOLD && s->phase <= PH_DATA_DISCARD)
			used = data_input(s, p, n);
		else
			used = sess_command_input(s, p, n);
		if (s->phase == PH_CLOSED)
			break;
		off += used;
		if (used == 0)
			break;
	}
	s->in_input = 0;
	if (s->phase == PH_CLOSED)
		return;
	side_consume_in(&s->client, off);
	/* what is left is a partial line or message bytes the parser will
	 * only take with more input; or it waits until input is allowed */
	s->stalled_len = input_allowed(s) ? s->client.in_len : 0;
	if (s->client.tls != NULL && !s->client.tls_ready &&
	    s->client.in_len > 0) {
		/* a ClientHello that came right behind a PROXY header */
		if (tls_feed(s->client.tls, s->client.in, s->client.in_len) !=
		    TLS_OK) {
			sess_close(s, "client TLS handshake failed");
			return;
		}
		side_consume_in(&s->client, s->client.in_len);
		side_tls_pump(&s->client);
		return;
	}
	scratch_flush(s->w);
	if (s->phase == PH_CLOSED)
		return;
	sess_flush(s);
}

/* Start or stop reading the client; go on with buffered input. */
void
sess_update_reading(struct session *s)
{
	if (s->phase == PH_CLOSED || s->in_input)
		return;
	if (s->client.tls != NULL && !s->client.tls_ready) {
		/* the handshake needs the client's bytes whatever else waits */
		side_start_read(&s->client);
		return;
	}
	if (input_allowed(s)) {
		if (s->client.tls != NULL && s->client.tls_ready &&
		    !s->client.pumping) {
			/* plaintext may wait inside TLS already */
			side_tls_pump(&s->client);
			if (s->phase == PH_CLOSED || s->in_input)
				return;
			if (!input_allowed(s)) {
				side_stop_read(&s->client);
				return;
			}
		}
		if (s->client.in_len > 0 &&
		    s->client.in_len != s->stalled_len) {
			/* buffered input the parser has not seen like this */
			sess_client_input(s);
			return;
		}
		side_start_read(&s->client);
		if (!uv_is_active((uv_handle_t *)&s->client.timer))
			sess_set_timer(s);
		return;
	}
	/* waiting on the backend or on our own queue: the client's clock
	 * does not run. A plaintext client is still read a little ahead
	 * (bounded), which saves stopping and restarting the socket around
	 * every DATA; never after QUIT, never before the greeting, and not
	 * under TLS, whose input buffer is bounded by one read. */
	if (s->phase != PH_QUIT && !s->quitting && s->phase != PH_CONNECT &&
	    s->client.tls == NULL && s->client.in_len < READ_AHEAD &&
	    s->client.queued <= WQ_HIGH &&
	    (s->backend == NULL || s->backend->queued <= WQ_HIGH))
		side_start_read(&s->client);
	else
		side_stop_read(&s->client);
	if (s->phase != PH_QUIT && !s->quitting)
		uv_timer_stop(&s->client.timer);
}

/* ------------------------------------------------------------ timers */

static void
on_client_timer(uv_timer_t *t)
{
	struct side *d = t->data;
	struct session *s = d->s;

	if (s == NULL || s->phase == PH_CLOSED)
		return;
	if (s->phase == PH_PROXY) {
		log_msg(CFG_LOG_INFO, "proxy", "sid=%016llx peer=%s: no PROXY "
		    "header within limits.proxy_timeout",
		    (unsigned long long)s->id, s->ip);
		sess_close(s, "no PROXY header");
		return;
	}
	if (s->client.tls != NULL && !s->client.tls_ready) {
		/* no reply can reach a client that never finished its
		 * handshake */
		log_msg(CFG_LOG_INFO, "timeout", "sid=%016llx client=%s: TLS "
		    "handshake not complete after tls.handshake_timeout",
		    (unsigned long long)s->id, s->ip);
		sess_close(s, "TLS handshake timeout");
		return;
	}
	log_msg(CFG_LOG_INFO, "timeout", "sid=%016llx client=%s: client "
	    "timeout in %s", (unsigned long long)s->id, s->ip,
	    s->phase >= PH_DATA_HOLD && s->phase <= PH_DATA_DISCARD ?
	    "DATA" : "command phase");
	if (s->phase >= PH_DATA_BODY && s->phase <= PH_DATA_DISCARD &&
	    s->backend != NULL && s->phase == PH_DATA_BODY)
		backend_abort(s, "client timeout in DATA");
	sess_txn_abort(s, "client timeout");
	/* no reply is owed any more: the client gets only the 421 */
	while (s->qhead != NULL) {
		struct pending *p = s->qhead;

		s->qhead = p->next;
		final_lost(s, p, "client timeout");
		pend_free(p);
	}
	s->qtail = NULL;
	s->nq = 0;
	s->barrier = NULL;
	sess_hang_up(s, "421 4.4.2 Error: timeout exceeded", "client timeout");
	sess_flush(s);
}

/*
 * sess_set_timer - (re)start the client's clock: command_timeout in
 * command phases, data_timeout in DATA. Called on each complete command
 * line, on each DATA read that completed a line, and after replies.
 */
void
sess_set_timer(struct session *s)
{
	int secs;

	if (s->phase == PH_CLOSED || s->client.closing)
		return;
	if (s->phase == PH_PROXY)
		secs = s->cfg->limits.proxy_timeout;
	else if (s->client.tls != NULL && !s->client.tls_ready)
		secs = s->cfg->tls.handshake_timeout;
	else if (s->phase >= PH_DATA_HOLD && s->phase <= PH_DATA_DISCARD)
		secs = s->cfg->limits.data_timeout;
	else
		secs = s->cfg->limits.command_timeout;
	uv_timer_start(&s->client.timer, on_client_timer,
	    (uint64_t)secs * 1000, 0);
}

/* ------------------------------------------------------------ life */

static void admit_and_connect(struct session *s);

static void
sockaddr_to(const struct sockaddr_storage *ss, struct net_addr *a, int *port)
{
	memset(a, 0, sizeof(*a));
	*port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;

		a->family = AF_INET;
		memcpy(a->addr, &in->sin_addr, 4);
		*port = ntohs(in->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)ss;

		a->family = AF_INET6;
		memcpy(a->addr, &in6->sin6_addr, 16);
		*port = ntohs(in6->sin6_port);
	}
}

static int
in_nets(const struct cfg_netlist *l, const struct net_addr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (net_match(&l->v[i], a))
			return 1;
	return 0;
}

void
sess_start(struct worker *w, uv_stream_t *server, int listener)
{
	struct session *s = calloc(1, sizeof(*s));
	struct sockaddr_storage ss;
	int sl = sizeof(ss);

	if (s == NULL)
		return;
	s->w = w;
	s->cfg = w->cfg;
	s->listener = &w->cfg->listen[listener];
	s->id = srv_next_sid(w->srv);
	s->start_ms = mxs_now_ms();
	s->phase = PH_CONNECT;
	side_init(s, &s->client, 0);
	s->wnext = w->sessions;
	if (w->sessions != NULL)
		w->sessions->wprev = s;
	w->sessions = s;
	w->nsessions++;
	if (uv_accept(server, (uv_stream_t *)&s->client.tcp) != 0) {
		sess_close(s, "accept failed");
		return;
	}
	s->client.connected = 1;
	uv_tcp_nodelay(&s->client.tcp, 1);
	if (uv_tcp_getpeername(&s->client.tcp, (struct sockaddr *)&ss,
	    &sl) == 0) {
		s->peer = ss;
		sockaddr_to(&ss, &s->addr, &s->port);
		net_addr_format(&s->addr, s->ip, sizeof(s->ip));
	} else {
		snprintf(s->ip, sizeof(s->ip), "unknown");
	}
	sl = sizeof(ss);
	if (uv_tcp_getsockname(&s->client.tcp, (struct sockaddr *)&ss,
	    &sl) == 0)
		sockaddr_to(&ss, &s->local, &s->local_port);

	if (s->listener->proxy_protocol) {
		/* the client is who the PROXY header says, and only a
		 * trusted proxy may say it; nothing else happens first */
		if (!in_nets(&s->cfg->trusted_proxies, &s->addr)) {
			log_msg(CFG_LOG_WARN, "proxy", "sid=%016llx peer=%s: "
			    "not in trusted_proxies, closed",
			    (unsigned long long)s->id, s->ip);
			sess_close(s, "PROXY peer not in trusted_proxies");
			return;
		}
		s->phase = PH_PROXY;
		sess_set_timer(s);
		side_start_read(&s->client);
		return;
	}
	admit_and_connect(s);
}

/*
 * proxy_input - the PROXY v1/v2 header of a proxy_protocol listener.
 * Returns its length once complete (the client's address is then the
 * one it carries, v1 UNKNOWN and v2 LOCAL keep the socket's), 0 while
 * more is needed; a malformed header closes the connection without any
 * SMTP reply, as the PROXY protocol asks.
 */
static size_t
proxy_input(struct session *s, const char *p, size_t n)
{
	struct pp_result r;
	int rc = pp_parse(p, n, &r);

	if (rc == 0)
		return 0;
	if (rc < 0) {
		log_msg(CFG_LOG_WARN, "proxy", "sid=%016llx peer=%s: bad PROXY "
		    "header (%s: %s), closed", (unsigned long long)s->id, s->ip,
		    pp_rc_name(rc), r.why ? r.why : "?");
		sess_close(s, "bad PROXY header");
		return 0;
	}
	if (!r.unknown) {
		s->addr = r.src;
		s->port = r.sport;
		s->local = r.dst;
		s->local_port = r.dport;
		net_addr_format(&s->addr, s->ip, sizeof(s->ip));
	}
	s->phase = PH_CONNECT;
	uv_timer_stop(&s->client.timer);
	admit_and_connect(s);
	return (size_t)rc;
}

/* The client is known: limits, then the backend (and implicit TLS). */
static void
admit_and_connect(struct session *s)
{
	struct worker *w = s->w;
	enum admit_rc ar;

	pol_client_init(&s->pc, w->srv->pol, &s->addr, s->ip, s->listener);
	ar = srv_admit(w->srv, &s->addr);
	if (ar != ADMIT_OK) {
		static const char busy[] =
		    "421 4.7.0 Too many connections, try again later\r\n";
		uv_buf_t b = uv_buf_init((char *)busy, sizeof(busy) - 1);

		uv_try_write((uv_stream_t *)&s->client.tcp, &b, 1);
		sess_close(s, ar == ADMIT_TOTAL ? "limits.max_connections" :
		    "limits.max_per_ip");
		return;
	}
	s->limit_slot = 1;
	if (w->draining) {
		static const char bye[] = "421 4.3.2 Service shutting down\r\n";
		uv_buf_t b = uv_buf_init((char *)bye, sizeof(bye) - 1);

		uv_try_write((uv_stream_t *)&s->client.tcp, &b, 1);
		sess_close(s, "shutdown");
		return;
	}
	if (s->listener->tls == CFG_TLS_IMPLICIT) {
		/* TLS from the first byte (RFC 8314): the backend's greeting
		 * waits for the handshake */
		if (side_start_tls(&s->client, w->srv->tls_server) < 0) {
			sess_close(s, "out of memory");
			return;
		}
		sess_set_timer(s);
		side_start_read(&s->client);
	} else {
		sess_set_timer(s);
	}
	if (backend_connect(s, 0) < 0)
		return;
}

static void
session_log(struct session *s, const char *reason)
{
	struct logline l;

	if (!log_enabled(CFG_LOG_INFO))
		return;
	log_begin(&l, "session");
	log_who(&l, s);
	log_cstr(&l, "reason", reason);
	log_int(&l, "errors", s->errors);
	log_int(&l, "bytes_in", (int64_t)s->bytes_in);
	log_int(&l, "bytes_out", (int64_t)s->bytes_out);
	log_int(&l, "duration_ms", (int64_t)(mxs_now_ms() - s->start_ms));
	log_end(&l);
}

/*
 * sess_close - the one exit: logs the session, aborts an unfinished
 * transaction, closes both legs (a backend mid-DATA never gets the
 * final dot), frees in the close callbacks. Safe to call twice.
 */
void
sess_close(struct session *s, const char *reason)
{
	struct worker *w = s->w;

	if (s->phase == PH_CLOSED)
		return;
	if (w->scratch_to == &s->client || (s->backend != NULL &&
	    w->scratch_to == s->backend)) {
		w->scratch_to = NULL;
		w->scratch_len = 0;
	}
	sess_txn_abort(s, reason);
	for (struct pending *p = s->qhead; p != NULL; p = p->next)
		final_lost(s, p, reason);
	s->phase = PH_CLOSED;
	session_log(s, reason);
	while (s->qhead != NULL) {
		struct pending *p = s->qhead;

		s->qhead = p->next;
		pend_free(p);
	}
	s->qtail = NULL;
	s->barrier = NULL;
	data_hold_free(s);
	if (s->limit_slot) {
		srv_release(w->srv, &s->addr);
		s->limit_slot = 0;
	}
	side_close(&s->client);
	if (s->backend != NULL)
		side_close(s->backend);
	sess_maybe_free(s);
}

void
sess_maybe_free(struct session *s)
{
	struct worker *w = s->w;

	if (s->phase != PH_CLOSED || !s->client_closed || s->backend != NULL)
		return;
	if (s->wprev != NULL)
		s->wprev->wnext = s->wnext;
	else
		w->sessions = s->wnext;
	if (s->wnext != NULL)
		s->wnext->wprev = s->wprev;
	w->nsessions--;
	sess_txn_reset(s);
	free(s->helo);
	free(s->helo_line);
	free(s->auth_id);
	free(s->auth_cand);
	free(s);
	worker_check_done(w);
}

/* sess_drain - shutting down: idle sessions go now, busy ones after
 * their transaction. */
void
sess_drain(struct session *s)
{
	if (s->phase == PH_CLOSED)
		return;
	s->drain = 1;
	if (s->phase == PH_CONNECT) {
		sess_close(s, "shutdown");
		return;
	}
	if (s->qhead == NULL && s->phase == PH_COMMAND && !s->txn.active) {
		sess_hang_up(s, "421 4.3.2 Service shutting down", "shutdown");
		sess_flush(s);
	}
}

/*
 * sess_shutdown_now - shutdown_timeout passed: tell the client why with
 * a best-effort 421 (a message in flight is not acknowledged, so the
 * client retries it) and close; the backend never gets a final dot.
 */
void
sess_shutdown_now(struct session *s)
{
	static const char bye[] = "421 4.3.2 Service shutting down, "
	    "try again later\r\n";
	uv_buf_t b = uv_buf_init((char *)bye, sizeof(bye) - 1);

	if (s->phase == PH_CLOSED)
		return;
	if (s->client.connected && s->client.queued == 0 &&
	    s->phase != PH_CONNECT && !s->quitting)
		uv_try_write((uv_stream_t *)&s->client.tcp, &b, 1);
	sess_close(s, "shutdown timeout");
}
