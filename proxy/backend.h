/*
 * proxy/backend.h - the backend leg: one connection to the backend MTA
 * with its own state machine and its own list of awaited replies. The
 * session relays client commands through it and hears back only through
 * the callbacks it gave to backend_open(); what mxshield alone sends
 * (its EHLO, STARTTLS, XCLIENT, the EHLO replay on a replacement leg,
 * DATA, RSET, the AUTH "*") and the replies to it stay in here.
 *
 * States (backend_enter() is the one place that changes them, logged at
 * debug level "old -> new"):
 *
 *   CONNECT --connected--> GREETING --220--+------------------------+
 *                                          | backend.tls=starttls   |
 *                                          v                        |
 *                 TLS_EHLO --250 STARTTLS--> STARTTLS --220-->      |
 *                 HANDSHAKE --done--+                               |
 *                                   v                               v
 *     (xclient, client's HELO known) XC_EHLO --250 XCLIENT--> XCLIENT
 *                                   --220--> REPLAY (replacement leg
 *                                   with a HELO to replay) --250-->
 *                                   READY <-------------------------+
 *   READY --backend_data_begin--> DATA_WAIT --354--> BODY
 *   DATA_WAIT --4xx/5xx (or any other code: 451 4.4.2)--> READY
 *   BODY --backend_end (final dot)--> READY
 *   any --error, timeout, unexpected reply--> CLOSED (failed callback)
 *
 * In READY the awaited list says whose each reply is: a client's
 * (relayed through the reply callback, in order) or our own RSET or
 * AUTH "*" (checked here, never relayed). A reply in a state that
 * expects none, or with a code its state does not allow, is a failure:
 * the session hears failed() with a 421 4.4.2 for what it still owes.
 * A client command relayed before READY (an EHLO pipelined behind the
 * one that starts XCLIENT, or anything after it) is held here and sent
 * only once READY is reached: nothing of the client reaches the backend
 * before XCLIENT was accepted.
 *
 * Includes: side.h (I/O), config.h, core/net.h. Used by session.c,
 * commands.c and data.c only through the functions below.
 */
#ifndef MXS_BACKEND_H
#define MXS_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/net.h"
#include "proxy/bkname.h"
#include "proxy/config.h"
#include "proxy/side.h"
#include "tls/tls.h"

struct backend;

/* What the backend tells its owner (the session). Any of them may be
 * called from inside a backend_*() call of the owner, and the owner may
 * call backend_close() from inside any of them. */
struct backend_cb {
	/* the leg is usable: the first leg's greeting (code, text with
	 * CRLFs; a refusal too), or text NULL for a replacement leg */
	void	(*ready)(void *owner, int code, const char *r, size_t n);
	/* the reply to the oldest relayed client command or final dot */
	void	(*reply)(void *owner, int code, const char *r, size_t n);
	/* the reply to our DATA: 354 (send the body), or the refusal the
	 * client gets after its final dot (a 2xx became 451 4.4.2) */
	void	(*data_go)(void *owner, int code, const char *r, size_t n);
	/* the leg is gone; text is the 421 the client gets for every
	 * reply still owed, reason is for the log (both borrowed) */
	void	(*failed)(void *owner, const char *text, const char *reason);
	/* the write queue drained below WQ_LOW: the client may go on */
	void	(*drained)(void *owner);
};

/* What the leg knows of the client, kept current by the session and
 * borrowed by the backend (XCLIENT, PROXY header, replays, logs). */
struct backend_client {
	uint64_t	 sid;
	const char	*ip;
	struct net_addr	 addr;
	int		 port;
	struct net_addr	 local;
	int		 local_port;
	const char	*name;		/* the client's forward-confirmed
					   host name, or NULL (XCLIENT NAME=) */
	const char	*helo;		/* the HELO/EHLO argument, or NULL */
	const char	*helo_line;	/* the whole line, for a replay */
	int		 ehlo;		/* helo_line is EHLO */
};

/* Where the backend is and its TLS context (the server's, borrowed). */
struct backend_env {
	const struct config	*cfg;
	struct sideio		*io;
	const struct sockaddr	*sa;
	struct tls_ctx		*tls;	/* client context, or NULL */
	struct bkname		*name;	/* backend.address is a name asked
					   through DNS (sa unused), or NULL */
};

/*
 * The why of a leg that could not get a socket (EMFILE, ENFILE): the
 * client is told BACKEND_NOFD_REPLY, since the backend is not down.
 */
extern const char backend_why_nofd[];
#define BACKEND_NOFD_REPLY \
	"421 4.3.2 System resources exhausted, try again later"

/*
 * backend_open - start a leg. replacement: a leg after a mid-DATA abort
 * or the client's STARTTLS, whose greeting is swallowed and the
 * client's HELO/EHLO replayed. Returns NULL when it could not start
 * (*why says why: out of memory, connect failed; backend_why_nofd when
 * no file descriptor was left for the socket).
 */
struct backend *backend_open(const struct backend_env *env,
	    const struct backend_client *client, int replacement,
	    const struct backend_cb *cb, void *owner, const char **why);
/* relay one client command line (no CRLF); helo: it is HELO/EHLO */
void	backend_relay(struct backend *b, const char *line, size_t n, int helo);
/* our DATA; the answer comes through data_go */
void	backend_data_begin(struct backend *b);
/* message bytes after the 354, as they go on the wire */
void	backend_body(struct backend *b, const char *p, size_t n);
/* the final dot; the reply comes through reply */
void	backend_end(struct backend *b);
/* our RSET after a message mxshield refused; its 250 is swallowed */
void	backend_reset(struct backend *b);
/* "*" to cancel the AUTH exchange at the backend; its 501 swallowed */
void	backend_auth_cancel(struct backend *b);
/* send what is batched for this leg now */
void	backend_flush(struct backend *b);
/* close the leg without a final dot; nothing is reported any more */
void	backend_close(struct backend *b);
/* bytes queued for the backend, not yet taken by the kernel */
size_t	backend_queued(const struct backend *b);
/* "TLSv1.3 cipher" once the leg's TLS is up, else NULL */
const char *backend_tls_info(const struct backend *b);
/* the leg is READY with nothing of ours outstanding */
int	backend_is_ready(const struct backend *b);

#endif
