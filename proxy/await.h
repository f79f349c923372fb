/*
 * proxy/await.h - a client command whose verdict needs answers that
 * are not there yet (DNS lookups: proxy/dnschk.c; the SPF evaluation of
 * MAIL FROM) keeps its place in the reply queue until they are. Nothing
 * blocks: the command's reply slot is a placeholder (PK_AWAIT) at the
 * queue's tail and the session's input barrier, so nothing after the
 * command is read as a command (a plaintext client is still read a
 * little ahead, bounded by READ_AHEAD, as behind any barrier) and
 * nothing after it reaches the backend. Replies to the commands before
 * it go out as they come; the client sees every reply in command order.
 *
 * How a command waits (the pattern proxy/commands.c follows for HELO,
 * MAIL and RCPT, and the one an SPF driver follows at MAIL):
 *
 *   1. In the command's handler, before any decision is made or logged:
 *      start whatever lookups the verdict needs (they belong to the
 *      caller, e.g. the session's struct dnschk), then, if their
 *      answers are not all in, call
 *          await_line(s, verb, line, len, ready, arg)
 *      and return. ready(s, arg) says whether everything is in; arg is
 *      the caller's and is never freed here.
 *   2. Each time an answer arrives (a dns_lookup() callback: always a
 *      later loop turn), record it where the handler will find it and
 *      call await_kick(s). When ready() says yes, the command line is
 *      handled again, from the start, exactly as if it had just been
 *      read: the handler finds its answers, decides, and either replies
 *      (sess_local(), sess_reply_now()) or relays; the first reply slot
 *      it asks for (sess_push()) is the placeholder itself, so the reply
 *      keeps the command's place. Then the barrier is lifted and the
 *      input that waited is parsed.
 *   3. The handler must be idempotent up to the point where it waits:
 *      start lookups only once per question (remember what was asked),
 *      log nothing before it knows it will not wait.
 *
 * A timeout is the lookups' own (dns.timeout * dns.attempts per
 * question, TEMPFAIL then): the handler decides on what it has, as
 * on_dns_error says. The client's command_timeout clock does not run
 * while it waits for us.
 *
 * The session ending (sess_close(), a lost backend leg, too many
 * errors: anything that cuts the queue) frees the placeholder with the
 * rest; the waiting line is dropped and ready() is never asked again.
 * The caller cancels its own lookups (dns_cancel()) when the session
 * closes (dnschk_stop() for the DNS checks); their callbacks must not
 * touch a closed session. At most one command waits at a time (it is
 * the barrier).
 */
#ifndef MXS_AWAIT_H
#define MXS_AWAIT_H

#include <stddef.h>

#include "core/smtp_cmd.h"

struct session;
struct pending;

typedef int	await_ready_fn(struct session *s, void *arg);

/*
 * await_line - make the command line[0..len) (CRLF removed; copied)
 * wait until ready(s, arg) is true: a placeholder reply slot for verb
 * is queued and becomes the input barrier. Returns 0, or -1 when memory
 * is short (the session is closed then). Call it from the command's
 * handler, never twice for one command.
 */
int	await_line(struct session *s, enum cmd_verb verb, const char *line,
	    size_t len, await_ready_fn *ready, void *arg);

/*
 * await_kick - something the waiting command may need has arrived: if
 * a command waits and ready() now says yes, it is handled again (see
 * above), and the replies and input that waited go on. Does nothing
 * when no command waits. Safe from any loop callback; called inside
 * the session's own input parsing it only marks the session, and the
 * waiting command goes on once parsing is done. May close the session.
 */
void	await_kick(struct session *s);

/* await_waiting - does a command of s wait (await_line())? */
int	await_waiting(const struct session *s);

/* For proxy/session.c: the placeholder p is freed (queue cut). */
void	await_free(struct pending *p);

#endif
