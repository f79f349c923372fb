/*
 * proxy/await.c - a command waiting for answers (DNS lookups, an SPF
 * evaluation) in its place in the reply queue; the contract is in
 * await.h. The waiting line is copied here and handled again by
 * proxy/commands.c (sess_redo_line()) once ready() says yes, its
 * first reply slot being the placeholder (session.resume).
 */
#include <stdlib.h>
#include <string.h>

#include "proxy/accept.h"
#include "proxy/await.h"
#include "proxy/commands.h"
#include "proxy/server.h"
#include "proxy/session.h"

struct await {
	char		*line;		/* owned, NUL-terminated */
	size_t		 len;
	await_ready_fn	*ready;
	void		*arg;		/* the caller's, borrowed */
};

static void
aw_free(struct await *aw)
{
	if (aw == NULL)
		return;
	free(aw->line);
	free(aw);
}

void
await_free(struct pending *p)
{
	aw_free(p->aw);
	p->aw = NULL;
}

/* Queues the placeholder (or reuses the slot of a command handled
 * again, which waits once more). */
int
await_line(struct session *s, enum cmd_verb verb, const char *line,
    size_t len, await_ready_fn *ready, void *arg)
{
	struct await *aw = calloc(1, sizeof(*aw));
	struct pending *p;

	if (aw == NULL || (aw->line = mxs_memdup(line, len)) == NULL) {
		free(aw);
		sess_close(s, "out of memory");
		return -1;
	}
	aw->len = len;
	aw->ready = ready;
	aw->arg = arg;
	if ((p = sess_push(s, PK_AWAIT, verb)) == NULL) {
		aw_free(aw);
		sess_close(s, "out of memory");
		return -1;
	}
	await_free(p);
	p->aw = aw;
	s->barrier = p;
	return 0;
}

static struct pending *
waiting(const struct session *s)
{
	for (struct pending *p = s->qhead; p != NULL; p = p->next)
		if (p->kind == PK_AWAIT && p->aw != NULL)
			return p;
	return NULL;
}

int
await_waiting(const struct session *s)
{
	return waiting(s) != NULL;
}

void
await_kick(struct session *s)
{
	struct pending *p;
	struct await *aw;

	if (s->phase == PH_CLOSED)
		return;
	if (s->flags & SF_IN_INPUT) {
		s->flags |= SF_KICK;
		return;
	}
	if ((p = waiting(s)) == NULL)
		return;
	aw = p->aw;
	if (!aw->ready(s, aw->arg))
		return;
	p->aw = NULL;
	if (s->barrier == p)
		s->barrier = NULL;
	if (s->phase >= PH_QUIT) {
		/* a closing reply is queued behind it: nothing more is
		 * relayed, the command gets a temporary refusal */
		sess_local(s, p, "451 4.3.0 Error: try again later");
	} else {
		s->resume = p;
		s->flags |= SF_IN_INPUT;
		sess_redo_line(s, aw->line, aw->len);
		s->flags &= ~SF_IN_INPUT;
		if (s->phase != PH_CLOSED && s->resume == p) {
			/* the handler gave no reply (cannot happen): never
			 * leave the client without one */
			s->resume = NULL;
			p->kind = PK_LOCAL;
			sess_local(s, p, "451 4.3.0 Internal error");
		}
		s->resume = NULL;
	}
	aw_free(aw);
	if (s->phase == PH_CLOSED)
		return;
	if (s->backend != NULL)
		backend_flush(s->backend);
	scratch_flush(&s->w->io);
	if (s->phase == PH_CLOSED)
		return;
	sess_flush(s);
}
