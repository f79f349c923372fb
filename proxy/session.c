/*
 * proxy/session.c - the session state machine (drawn in session.h):
 * its phases, the FIFO of replies owed to the client (RFC 2920 order)
 * and the one path to the client, parsing the client's bytes (in place)
 * as far as the session may go, the backend leg's callbacks, and the
 * client's STARTTLS. What each command does is in commands.c, DATA in
 * data.c, the backend leg behind backend.h; accepting, the client
 * side's callbacks, its clock and the one exit in accept.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/accept.h"
#include "proxy/await.h"
#include "proxy/commands.h"
#include "proxy/data.h"
#include "proxy/gen.h"
#include "proxy/log.h"
#include "proxy/replies.h"
#include "proxy/server.h"
#include "proxy/session.h"
#include "proxy/txn.h"

static const char lost_text[] = "421 4.4.2 Backend connection lost, try again later";
static const char down_text[] = "421 4.4.1 Backend unavailable, try again later";

static const char *const phase_names[] = {
	"connect", "proxy", "command", "auth", "data-hold", "data-wait",
	"data-body", "data-discard", "quit", "hangup", "closed",
};

uint64_t
mxs_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

const char *
sess_phase_name(enum phase p)
{
	return (size_t)p < sizeof(phase_names) / sizeof(phase_names[0]) ?
	    phase_names[p] : "?";
}

/*
 * sess_enter - the one place the phase changes, logged "old -> new".
 * Closed is terminal: entering anything from closed changes nothing,
 * and only sess_close() enters closed.
 */
void
sess_enter(struct session *s, enum phase to)
{
	if (s->phase == PH_CLOSED || s->phase == to)
		return;
	if (to == PH_CLOSED)
		mxs_panic("sess_enter(closed) outside sess_close");
	log_sid(CFG_LOG_DEBUG, "session", s->id, "%s -> %s",
	    sess_phase_name(s->phase),
	    sess_phase_name(to));
	s->phase = to;
}

/* sess_set_reason - why the session ends, kept (reason is copied). */
void
sess_set_reason(struct session *s, const char *reason)
{
	if (s->close_why[0] == '\0' && reason != NULL)
		snprintf(s->close_why, sizeof(s->close_why), "%s", reason);
}

/*
 * sess_sync_error - the client did not wait for a reply where RFC 2920
 * says it must (limits.forbid_unauth_pipelining, as Postfix 3.9's
 * smtpd_forbid_unauth_pipelining): why says where, p[0..n) is what it
 * had sent too early (its start is logged, made printable). It gets
 * 554 5.5.0 in place of the reply it did not wait for, and is
 * disconnected; nothing more of it is read or relayed. Before the
 * greeting, the greeting is never sent.
 */
void
sess_sync_error(struct session *s, const char *why, const char *p, size_t n)
{
	char reason[160], seen[49];
	size_t i;

	for (i = 0; i < n && i < sizeof(seen) - 1; i++)
		seen[i] = p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.';
	seen[i] = '\0';
	snprintf(reason, sizeof(reason), "unauthorized pipelining: %s", why);
	log_sid_client(CFG_LOG_INFO, "limit", s->id, s->ip, "%s; sent "
	    "early: \"%s%s\"", reason, seen, n > i ? "..." : "");
	if (s->phase == PH_CONNECT)
		sess_cut_after(s, NULL, reason);
	sess_queue_close(s, "554 5.5.0 Error: SMTP protocol synchronization",
	    reason);
}

/* ------------------------------------------------------------ queue */

/*
 * sess_push - append a pending entry for the next reply. Returns NULL
 * when memory is short (the caller ends the session).
 */
struct pending *
sess_push(struct session *s, enum pend_kind kind, enum cmd_verb verb)
{
	struct pending *p;

	if ((p = s->resume) != NULL) {
		/* a waiting command's reply keeps its place (await.h) */
		s->resume = NULL;
		p->kind = kind;
		p->verb = verb;
		return p;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL)
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
pend_free(struct session *s, struct pending *p)
{
	if (s->resume == p)
		s->resume = NULL;
	await_free(p);
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
	pend_free(s, p);
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

/* Drop every entry after p (p NULL: all of them). */
void
sess_cut_after(struct session *s, struct pending *p, const char *why)
{
	struct pending *q = p != NULL ? p->next : s->qhead;

	while (q != NULL) {
		struct pending *next = q->next;

		final_lost(s, q, why);
		pend_unlink(s, p, q);
		q = next;
	}
}

/* sess_queue_close - a closing reply at the tail, whatever was queued
 * before; nothing more is read. */
void
sess_queue_close(struct session *s, const char *text, const char *reason)
{
	struct pending *p = sess_push(s, PK_LOCAL, CMD_QUIT);

	sess_set_reason(s, reason);
	if (p == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	sess_local(s, p, text);
	p->close_after = 1;
	sess_enter(s, PH_QUIT);
}

/*
 * complete - p has its reply. An error reply counts toward
 * limits.max_errors now, in command order, so that a pipelined batch
 * is cut at the limit: what the client sent after that command gets no
 * reply and is not read, only the closing 421.
 */
static void
complete(struct session *s, struct pending *p)
{
	p->done = 1;
	if (p->code < 400 || p->code == 421 || p->close_after ||
	    s->phase >= PH_QUIT)
		return;
	if (++s->errors < s->cfg->limits.max_errors)
		return;
	log_sid_client(CFG_LOG_INFO, "limit", s->id, s->ip, "%d errors, "
	    "hanging up", s->errors);
	sess_cut_after(s, p, "too many errors");
	sess_queue_close(s, "421 4.7.0 Too many errors, closing connection",
	    "too many errors");
}

/* set_reply - p's reply is text (n bytes, CRLFs included). */
static int
set_reply(struct session *s, struct pending *p, const char *text, size_t n)
{
	free(p->reply);
	p->reply = mxs_memdup(text, n);
	p->reply_len = p->reply ? n : 0;
	p->code = 0;
	for (size_t i = 0; i < 3 && i < n && text[i] >= '0' && text[i] <= '9';
	    i++)
		p->code = p->code * 10 + (text[i] - '0');
	complete(s, p);
	return p->reply ? 0 : -1;
}

/* sess_set_backend_reply - p's reply is the backend's (CRLFs kept). */
void
sess_set_backend_reply(struct session *s, struct pending *p, const char *r,
    size_t n)
{
	set_reply(s, p, r, n);
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
	set_reply(s, p, line, (size_t)n);
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

/* sess_hang_up - queue a closing 421; nothing after it is read or
 * relayed. Once a closing reply is queued, this does nothing. */
void
sess_hang_up(struct session *s, const char *text, const char *reason)
{
	if (s->phase >= PH_QUIT)
		return;
	sess_queue_close(s, text, reason);
}

/*
 * sess_backend_lost - the backend leg is gone (text: the 421 for every
 * reply still owed, reason for the log). The client keeps the replies
 * decided before the first one still owed; from that one on it gets
 * one 421 (a STARTTLS 220 or a later local reply never follows it),
 * then the session closes.
 */
void
sess_backend_lost(struct session *s, const char *text, const char *reason)
{
	struct pending *p, *prev = NULL;

	if (s->phase == PH_CLOSED)
		return;
	sess_set_reason(s, reason);
	if (s->backend != NULL) {
		backend_close(s->backend);
		s->backend = NULL;
	}
	s->flags |= SF_BK_GONE;
	for (p = s->qhead; p != NULL && p->done; p = p->next)
		prev = p;
	if (prev != NULL && prev->close_after && p == NULL) {
		sess_flush(s);
		return;
	}
	sess_cut_after(s, prev, s->close_why);
	sess_queue_close(s, text, reason);
	sess_flush(s);
}

/* ------------------------------------------------------------ backend */

static void
on_bk_ready(void *arg, int code, const char *r, size_t n)
{
	struct session *s = arg;
	const char *tls = backend_tls_info(s->backend);

	snprintf(s->bk_tls, sizeof(s->bk_tls), "%s", tls != NULL ? tls : "");
	if (r == NULL) {
		/* a replacement leg is ready: the client may go on */
		s->flags &= ~SF_BK_WAIT;
		sess_flush(s);
		return;
	}
	for (struct pending *p = s->qhead; p != NULL; p = p->next) {
		if (p->kind == PK_RELAY && !p->done) {
			set_reply(s, p, r, n);
			break;
		}
	}
	(void)code;
	if (s->phase == PH_CONNECT)
		sess_enter(s, PH_COMMAND);
	sess_flush(s);
}

static void
on_bk_reply(void *arg, int code, const char *r, size_t n)
{
	struct session *s = arg;
	struct pending *p;

	for (p = s->qhead; p != NULL; p = p->next)
		if ((p->kind == PK_RELAY || p->kind == PK_FINAL) && !p->done)
			break;
	if (p == NULL) {
		/* a command the session no longer answers (the queue was
		 * cut by a closing 421): nothing is owed for it */
		if (s->phase >= PH_QUIT)
			return;
		sess_backend_lost(s, lost_text, "backend reply to no command");
		return;
	}
	sess_on_reply(s, p, code, r, n);
}

static void
on_bk_data_go(void *arg, int code, const char *r, size_t n)
{
	struct session *s = arg;

	data_go(s, code, r, n);
	/* the body may already wait in the client's buffer */
	sess_flush(s);
}

static void
on_bk_failed(void *arg, const char *text, const char *reason)
{
	struct session *s = arg;

	s->backend = NULL;	/* it closed itself */
	sess_backend_lost(s, text, reason);
}

static void
on_bk_drained(void *arg)
{
	sess_update_reading(arg);
}

static const struct backend_cb bk_cb = {
	.ready = on_bk_ready,
	.reply = on_bk_reply,
	.data_go = on_bk_data_go,
	.failed = on_bk_failed,
	.drained = on_bk_drained,
};

/*
 * sess_backend_open - the session's leg: the first (its greeting is the
 * client's) or a replacement (greeting swallowed, HELO replayed; input
 * waits until it is ready). The old leg, if any, is closed without a
 * final dot. Returns 0, or -1 when the session is ending (421 queued).
 */
static int
backend_start(struct session *s, int replacement)
{
	struct backend_env env = {
		.cfg = s->cfg,
		.io = &s->w->io,
		.sa = (const struct sockaddr *)&s->gen->backend_sa,
		.tls = s->gen->tls_client,
		.name = s->gen->backend_follow ? s->w->bkname : NULL,
	};
	const char *why = NULL;

	if (s->backend != NULL) {
		backend_close(s->backend);
		s->backend = NULL;
	}
	s->bc.helo = s->helo;
	s->bc.helo_line = s->helo_line;
	s->bc.ehlo = s->ehlo;
	s->backend = backend_open(&env, &s->bc, replacement, &bk_cb, s, &why);
	if (s->backend == NULL) {
		sess_backend_lost(s, why == backend_why_nofd ?
		    BACKEND_NOFD_REPLY : down_text, why);
		return -1;
	}
	s->flags &= ~SF_BK_GONE;
	if (replacement)
		s->flags |= SF_BK_WAIT;
	return 0;
}

int
sess_backend_open(struct session *s)
{
	return backend_start(s, 0);
}

/* sess_backend_replace - drop the leg (no final dot) and open a fresh
 * one for the rest of the session. Returns 0 or -1 (session ending). */
int
sess_backend_replace(struct session *s, const char *reason)
{
	log_sid_client(CFG_LOG_INFO, "backend", s->id, s->ip, "new backend "
	    "leg: %s", reason);
	return backend_start(s, 1);
}

/* ------------------------------------------------------------ STARTTLS */

/*
 * client_start_tls - our 220 to STARTTLS is on its way: whatever the
 * client sent after STARTTLS in plaintext is dropped, never executed
 * inside TLS (CVE-2011-0411), and the SMTP state is forgotten as RFC
 * 3207 4.2 demands. The backend gets a fresh leg too: the client's
 * mandatory EHLO inside TLS must be the first EHLO it sees (a backend
 * may refuse a second one, RFC 5321 4.1.4). May close the session.
 */
static void
client_start_tls(struct session *s)
{
	if (s->client.in_len > 0) {
		log_sid_client(CFG_LOG_WARN, "tls", s->id, s->ip, "%zu bytes "
		    "pipelined after STARTTLS discarded (command injection "
		    "attempt)",
		    s->client.in_len);
		side_consume_in(&s->client, s->client.in_len);
	}
	memset(&s->lscan, 0, sizeof(s->lscan));
	sess_txn_abort(s, "client sent STARTTLS");
	free(s->helo);
	free(s->helo_line);
	s->helo = s->helo_line = NULL;
	s->ehlo = 0;
	s->flags &= ~(SF_AUTH | SF_PIPELINING);
	sess_auth_forget(s);
	s->pc.helo_seen = false;
	memset(&s->pc.helo, 0, sizeof(s->pc.helo));
	s->flags |= SF_NEED_EHLO;
	if (side_start_tls(&s->client, s->gen->tls_server, 0) < 0) {
		sess_close(s, "out of memory");
		return;
	}
	if (sess_backend_replace(s, "client sent STARTTLS") < 0)
		return;
	sess_set_timer(s);
}

/* ------------------------------------------------------------ output */

/*
 * sess_flush - write every completed reply at the head of the queue, in
 * order, in one write. PK_DATA is decided here, when all replies before
 * it are known. The only path to the client. May close the session
 * (check s->phase afterwards).
 */
void
sess_flush(struct session *s)
{
	struct pending *p, *next;
	int hangup = 0, wrote = 0;

	if ((s->flags & SF_FLUSHING) || s->phase == PH_CLOSED)
		return;
	/* nothing goes to the client in the middle of its TLS handshake */
	if (s->client.tls != NULL && !s->client.tls_ready)
		return;
	s->flags |= SF_FLUSHING;
	for (p = s->qhead; p != NULL; p = next) {
		next = p->next;
		if (p->kind == PK_DATA && !p->done)
			data_decide(s, p);
		if (s->phase == PH_CLOSED)
			break;
		if (!p->done)
			break;
		scratch_put(&s->client, p->reply, p->reply_len);
		sess_transcript(s, "server", p->reply, p->reply_len);
		wrote = 1;
		hangup = p->close_after;
		if (p->starttls) {
			pend_unlink(s, NULL, p);
			scratch_flush(&s->w->io);
			client_start_tls(s);
			if (s->phase == PH_CLOSED)
				break;
			next = s->qhead;
			continue;
		}
		pend_unlink(s, NULL, p);
		if (hangup)
			break;
	}
	if (s->phase != PH_CLOSED)
		scratch_flush(&s->w->io);
	s->flags &= ~SF_FLUSHING;
	if (s->phase == PH_CLOSED)
		return;
	if (hangup) {
		sess_cut_after(s, NULL, s->close_why);
		if (s->phase < PH_QUIT)
			sess_enter(s, PH_QUIT);
		sess_enter(s, PH_HANGUP);
		side_stop_read(&s->client);
		if (s->client.queued == 0)
			sess_close(s, s->close_why[0] ? s->close_why : "quit");
		else
			sess_set_timer(s);
		return;
	}
	if ((s->flags & SF_DRAIN) && s->qhead == NULL &&
	    s->phase == PH_COMMAND && !s->txn.active) {
		sess_hang_up(s, "421 4.3.2 Service shutting down", "shutdown");
		sess_flush(s);
		return;
	}
	if (wrote)
		sess_set_timer(s);
	sess_update_reading(s);
}

/* ------------------------------------------------------------ input */

/* sess_input_allowed - may the client's input be parsed now? */
int
sess_input_allowed(struct session *s)
{
	if (s->phase == PH_PROXY)
		return 1;
	if (s->phase == PH_CONNECT || s->phase >= PH_QUIT ||
	    s->phase == PH_DATA_WAIT)
		return 0;
	if (s->barrier != NULL)
		return 0;
	/* a rejected message is read to its end even while the backend
	 * leg is being replaced */
	if (((s->flags & SF_BK_WAIT) || s->backend == NULL) &&
	    s->phase != PH_DATA_DISCARD)
		return 0;
	if (s->nq >= MAX_PENDING)
		return 0;
	if ((s->backend != NULL && backend_queued(s->backend) > WQ_HIGH) ||
	    s->client.queued > WQ_HIGH)
		return 0;
	return 1;
}

/*
 * parse - parse client bytes p[0..n) as far as the session may go now:
 * the PROXY header, commands or message bytes. Stops at a barrier
 * (DATA, AUTH, QUIT waiting for their answer), at a closing reply, and
 * when output queues are full. Returns the bytes consumed. May close
 * the session.
 */
static size_t
parse(struct session *s, const char *buf, size_t len)
{
	size_t off = 0, used;

	while (off < len) {
		const char *p = buf + off;
		size_t n = len - off;

		/* a client that talks before the greeting (plaintext; a
		 * TLS handshake is no talk) */
		if (s->phase == PH_CONNECT &&
		    s->cfg->limits.forbid_unauth_pipelining &&
		    (s->client.tls == NULL || s->client.tls_ready)) {
			sess_sync_error(s, "commands sent before the greeting",
			    p, n);
			break;
		}
		if (!sess_input_allowed(s))
			break;

		if (s->phase == PH_PROXY)
			used = sess_proxy_input(s, p, n);
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
	return off;
}

/* What follows parsing: a ClientHello behind a PROXY header, then the
 * batched output and the replies that became complete. */
static void
after_input(struct session *s)
{
	/* what is left is a partial line or message bytes the parser will
	 * only take with more input; or it waits until input is allowed */
	s->stalled_len = sess_input_allowed(s) ? s->client.in_len : 0;
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
	if (s->backend != NULL)
		backend_flush(s->backend);
	scratch_flush(&s->w->io);
	if (s->phase == PH_CLOSED)
		return;
	sess_flush(s);
	if (s->phase != PH_CLOSED && (s->flags & SF_KICK)) {
		s->flags &= ~SF_KICK;
		await_kick(s);
	}
}

/*
 * sess_client_input - parse what waits in the client side's buffer (an
 * unparsed tail, or input held while the session could not go on).
 */
void
sess_client_input(struct session *s)
{
	size_t off;

	if ((s->flags & SF_IN_INPUT) || s->phase == PH_CLOSED)
		return;
	s->flags |= SF_IN_INPUT;
	off = parse(s, s->client.in, s->client.in_len);
	s->flags &= ~SF_IN_INPUT;
	if (s->phase == PH_CLOSED)
		return;
	side_consume_in(&s->client, off);
	after_input(s);
}

/*
 * sess_client_data - bytes the client sent, where the read put them
 * (the loop's buffer, borrowed for this call). With nothing held from
 * before, they are parsed in place and only the unparsed tail is kept;
 * message bytes are copied once, into the batch for the backend.
 * Returns 0, or -1 when the tail could not be kept (the caller closes).
 */
int
sess_client_data(struct session *s, const char *p, size_t n)
{
	size_t cap = (size_t)s->cfg->limits.max_auth_line + RBUF_SIZE +
	    READ_AHEAD, off;

	if (s->client.in_len > 0 || (s->flags & SF_IN_INPUT)) {
		if (side_append_in(&s->client, p, n, cap) < 0)
			return -1;
		sess_client_input(s);
		return 0;
	}
	if (s->phase == PH_CLOSED)
		return 0;
	s->flags |= SF_IN_INPUT;
	off = parse(s, p, n);
	s->flags &= ~SF_IN_INPUT;
	if (s->phase == PH_CLOSED)
		return 0;
	if (off < n && side_append_in(&s->client, p + off, n - off, cap) < 0)
		return -1;
	after_input(s);
	return 0;
}

/* Start or stop reading the client; go on with buffered input. */
void
sess_update_reading(struct session *s)
{
	if (s->phase == PH_CLOSED || (s->flags & SF_IN_INPUT))
		return;
	if (s->client.tls != NULL && !s->client.tls_ready) {
		/* the handshake needs the client's bytes whatever else waits */
		side_start_read(&s->client);
		return;
	}
	if (sess_input_allowed(s)) {
		if (s->client.tls != NULL && s->client.tls_ready &&
		    !s->client.pumping) {
			/* plaintext may wait inside TLS already */
			side_tls_pump(&s->client);
			if (s->phase == PH_CLOSED || (s->flags & SF_IN_INPUT))
				return;
			if (!sess_input_allowed(s)) {
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
		if (!side_clock_running(&s->client))
			sess_set_timer(s);
		return;
	}
	/* waiting on the backend or on our own queue. A plaintext client
	 * is still read a little ahead (bounded), which saves stopping
	 * and restarting the socket around every DATA; never after QUIT,
	 * not under TLS, whose input buffer is bounded by one read, and
	 * before the greeting only to catch a client that talks first
	 * (limits.forbid_unauth_pipelining). */
	if (s->phase < PH_QUIT && (s->phase != PH_CONNECT ||
	    s->cfg->limits.forbid_unauth_pipelining) &&
	    s->client.tls == NULL && s->client.in_len < READ_AHEAD &&
	    s->client.queued <= WQ_HIGH &&
	    (s->backend == NULL || backend_queued(s->backend) <= WQ_HIGH))
		side_start_read(&s->client);
	else
		side_stop_read(&s->client);
	/* the client's clock stops while it waits for us, but not while
	 * replies wait for it to read them (a write must make progress
	 * within command_timeout, as Postfix's smtpd_timeout) */
	if (s->phase < PH_QUIT && s->client.queued == 0)
		side_clock_stop(&s->client);
}
