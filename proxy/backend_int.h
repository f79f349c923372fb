/*
 * proxy/backend_int.h - what backend.c (the state machine) and
 * backend_io.c (connecting, output, reading replies, the interface)
 * share about a backend leg. Nothing else includes it.
 */
#ifndef MXS_BACKEND_INT_H
#define MXS_BACKEND_INT_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/backend.h"
#include "proxy/metrics.h"

#define MAX_REPLY	(64 * 1024)	/* one backend reply, all lines */
#define MAX_REPLY_LINE	4096
#define AW_MAX		256		/* replies awaited in READY */
#define DEFER_MAX	(1024 * 1024)	/* client bytes held before READY */

#define BK_LOST	"421 4.4.2 Backend connection lost, try again later"
#define BK_DOWN	"421 4.4.1 Backend unavailable, try again later"
#define BK_SLOW	"421 4.4.2 Backend timeout, try again later"
#define BK_NOTLS	"421 4.4.2 Backend TLS not available, try again later"
#define BK_BROKEN	"421 4.4.2 Backend error, try again later"

enum bk_state {
	BK_CONNECT = 0,	/* TCP connect (and implicit TLS) in progress */
	BK_GREETING,	/* waiting for the 220 */
	BK_TLS_EHLO,	/* our EHLO, looking for STARTTLS */
	BK_STARTTLS,	/* our STARTTLS, waiting for 220 */
	BK_HANDSHAKE,	/* TLS handshake after the 220 */
	BK_XC_EHLO,	/* our EHLO, looking for XCLIENT */
	BK_XCLIENT,	/* XCLIENT sent, waiting for 220 */
	BK_REPLAY,	/* the client's HELO/EHLO replayed on a new leg */
	BK_READY,	/* relaying; the awaited list says whose replies */
	BK_DATA_WAIT,	/* our DATA sent, waiting for 354 */
	BK_BODY,	/* message bytes go out */
	BK_CLOSED,	/* failed or closed: nothing more happens */
};

/* Whose reply is awaited in READY (and behind DATA_WAIT/BODY). */
enum bk_await {
	AW_CLIENT = 0,	/* a relayed client command: the client's reply */
	AW_FINAL,	/* the final dot: the client's, data_reply_timeout */
	AW_RSET,	/* our RSET: 250 expected, swallowed */
	AW_CANCEL,	/* our AUTH "*": 4xx/5xx expected, swallowed */
};

struct backend {
	struct side	 side;		/* must stay first: freed with it */
	enum bk_state	 state;
	struct backend_env env;		/* borrowed pointers */
	const struct backend_client *cl;	/* borrowed from the owner */
	const struct backend_cb *cb;	/* NULL once closed by the owner */
	void		*owner;
	int		 replacement;
	int		 xclient_done;
	char		*greet;		/* owned: the first leg's greeting,
					   held while TLS is set up */
	size_t		 greet_len;
	int		 greet_code;
	unsigned char	 aw[AW_MAX];	/* ring of enum bk_await */
	unsigned	 aw_head, aw_n;
	char		*defer;		/* owned: client bytes before READY */
	size_t		 defer_len;
	char		*rep;		/* owned: the reply being read */
	size_t		 rep_len;
	int		 rep_code;
	int		 rep_lines;
	char		 tls_info[96];
	struct bkname_req *nreq;	/* backend.address being looked up */
	uint64_t	 sid;		/* the session's, for logs */
	uint64_t	 t_conn;	/* mxs_hrtime_us(): connect started, */
	uint64_t	 t_greet;	/* connected (the greeting's clock), */
	uint64_t	 t_aw;		/* the oldest awaited reply's clock:
					   from its command, or from the
					   reply before it (pipelining) */
	char		 ip[48];
};

/* backend.c: the state machine */
void	bk_enter(struct backend *b, enum bk_state to);
void	bk_arm(struct backend *b, int restart);
void	bk_fail(struct backend *b, const char *text, const char *reason);
void	bk_on_reply(struct backend *b, int code, const char *r, size_t n);
void	bk_go_ready(struct backend *b);
void	bk_send_ehlo(struct backend *b, enum bk_state st);
const char *bk_state_name(enum bk_state st);

/* backend_io.c: output and the awaited list */
void	bk_put(struct backend *b, const char *p, size_t n);
int	bk_await(struct backend *b, enum bk_await what);
enum bk_await bk_await_pop(struct backend *b);
void	bk_send_line(struct backend *b, const char *p, size_t n,
	    enum bk_await what);

#endif
