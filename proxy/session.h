/*
 * proxy/session.h - one relayed SMTP session: the client side, the
 * backend side, the FIFO of pending replies and the transaction. Shared
 * by session.c (commands, replies, phases), side.c (socket I/O),
 * backend.c (backend connection and replies) and data.c (DATA).
 * Everything here runs on one worker's event loop; nothing is shared
 * between threads except through server.h.
 */
#ifndef MXS_SESSION_H
#define MXS_SESSION_H

#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "core/dscan.h"
#include "core/net.h"
#include "core/policy.h"
#include "core/sasl.h"
#include "core/smtp_cmd.h"
#include "proxy/config.h"
#include "tls/tls.h"

struct session;
struct worker;

#define RBUF_SIZE	(64 * 1024)	/* per-loop read buffer */
#define SCRATCH_SIZE	(128 * 1024)	/* per-loop output batch */
#define WQ_HIGH		(256 * 1024)	/* stop reading the other side */
#define WQ_LOW		(64 * 1024)	/* resume */
#define MAX_PENDING	128		/* queued client commands */
#define MAX_REPLY	(64 * 1024)	/* one backend reply, all lines */
#define MAX_REPLY_LINE	4096
#define HOLD_SLACK	(8 * 1024)	/* header hold overshoot */
#define HOLD_CHUNK	4096		/* bytes scanned per step while holding */
#define READ_AHEAD	(16 * 1024)	/* client bytes read while waiting */

/* One connection: the client's, or one to the backend. */
struct side {
	uv_tcp_t	 tcp;		/* freed only after its close callback */
	uv_timer_t	 timer;
	struct session	*s;		/* NULL once detached (old backend) */
	char		*in;		/* owned; unparsed input, NULL if none */
	size_t		 in_len;
	size_t		 in_cap;
	size_t		 queued;	/* bytes handed to uv_write, not done */
	char		*rep;		/* backend only, owned: the reply being
					   read, lines joined with CRLF */
	size_t		 rep_len;
	int		 rep_code;
	int		 rep_lines;
	int		 handles;	/* open handles (tcp, timer) */
	struct tls	*tls;		/* owned; NULL while plaintext */
	unsigned	 tls_ready:1;	/* handshake complete */
	unsigned	 pumping:1;	/* inside side_tls_pump() */
	unsigned	 connected:1;
	unsigned	 reading:1;
	unsigned	 closing:1;
	unsigned	 eof:1;
	unsigned	 is_backend:1;
};

enum phase {
	PH_CONNECT = 0,	/* waiting for the backend's greeting */
	PH_PROXY,	/* waiting for the PROXY header (proxy listener) */
	PH_COMMAND,	/* commands */
	PH_AUTH,	/* inside an AUTH exchange: lines are SASL */
	PH_DATA_HOLD,	/* after our 354: holding the header section */
	PH_DATA_WAIT,	/* header done, waiting for the backend's 354 */
	PH_DATA_BODY,	/* streaming the body to the backend */
	PH_DATA_DISCARD,/* rejected: reading to the final dot */
	PH_QUIT,	/* QUIT or 421 queued: read nothing more */
	PH_CLOSED,
};

enum pend_kind {
	PK_RELAY = 0,	/* relayed command; reply comes from the backend */
	PK_LOCAL,	/* mxshield's own reply, complete at once */
	PK_DATA,	/* DATA: decided when it reaches the head */
	PK_INTERNAL,	/* our command to the backend; reply not relayed */
	PK_FINAL,	/* the reply to the client's final dot */
};

/* What an internal command to the backend is for. */
enum internal_cmd {
	IC_NONE = 0,
	IC_GREETING,	/* a fresh backend's 220, swallowed */
	IC_EHLO,	/* replayed EHLO/HELO after a reconnect */
	IC_DATA,	/* our DATA: 354 starts the body */
	IC_RSET,	/* after a rejected message */
	IC_TLS_EHLO,	/* our EHLO before STARTTLS to the backend */
	IC_STARTTLS,	/* our STARTTLS to the backend */
	IC_XC_EHLO,	/* our EHLO before XCLIENT */
	IC_XCLIENT,	/* XCLIENT: its 220 opens the client's session */
};

/* A policy verdict kept for the transaction's log line. */
struct txn_verdict {
	struct policy_verdict	v;
	int			enforced;	/* 0: monitor mode */
};

/* The current mail transaction, for the log and DATA decisions. */
struct txn {
	int		 active;	/* MAIL sent */
	int		 mail_ok;	/* backend accepted MAIL */
	int		 rcpt_ok;	/* RCPTs the backend accepted */
	int		 rcpt_sent;	/* RCPTs relayed */
	int		 rcpt_failed;	/* relayed RCPTs the backend refused */
	int		 rcpt_refused;	/* RCPTs mxshield refused itself */
	char		*mail_from;	/* owned */
	char		**rcpts;	/* owned, accepted ones */
	size_t		 nrcpts;
	char		 message_id[256];
	uint64_t	 size;
	uint64_t	 start_ms;
	char		 where[8];	/* the last stage reached: "mail"
					   "rcpt" "data" (after our 354) */
	char		*error;		/* owned: sticky DATA error reply */
	int		 error_code;
	char		 error_why[160];	/* why, in words; "" when the
					   backend gave the error */
	struct txn_verdict *verdicts;	/* owned, policy verdicts */
	size_t		 nverdicts;
	struct policy_txn ptxn;		/* policy facts for the RCPTs */
	const char	*abort_reason;	/* borrowed, set only while the
					   line is written: what ended it */
};

struct pending {
	struct pending	*next;
	enum pend_kind	 kind;
	enum cmd_verb	 verb;
	enum internal_cmd ic;
	int		 done;
	int		 code;		/* reply code once done */
	int		 close_after;	/* hang up once written */
	int		 starttls;	/* start TLS once this reply is written */
	int		 unsent;	/* relayed command not sent yet: the
					   client's HELO waits for XCLIENT */
	int		 held;		/* reply stored, released later (the
					   greeting while the backend's TLS
					   is set up) */
	char		*reply;		/* owned: reply text with CRLFs */
	size_t		 reply_len;
	char		*arg;		/* owned: MAIL/RCPT path, for the log */
	uint32_t	 txn_seq;	/* the MAIL that opened a transaction, and
					   its RCPTs: session.txn_seq then; 0
					   for other commands */
	struct txn	*txn;		/* owned: PK_FINAL, the transaction
					   the reply decides */
};

struct session {
	uint64_t	 id;
	struct worker	*w;
	const struct config *cfg;
	enum phase	 phase;
	struct side	 client;
	struct side	*backend;	/* owned; replaced on reconnect */
	struct pending	*qhead, *qtail;
	int		 nq;
	struct pending	*barrier;	/* input waits until it is done */
	struct txn	 txn;
	uint32_t	 txn_seq;	/* numbers transactions (never 0): a
					   late reply finds its own */

	struct sockaddr_storage peer;
	struct net_addr	 addr;
	char		 ip[48];
	int		 port;
	const struct cfg_listen *listener;
	struct net_addr	 local;		/* where the client connected to */
	int		 local_port;
	char		 tls_info[96];	/* "TLSv1.2 cipher" once up */

	char		*helo;		/* owned: the client's HELO/EHLO arg */
	char		*helo_line;	/* owned: the line, for replays */
	int		 ehlo;		/* last greeting was EHLO */
	int		 auth;		/* authenticated */
	char		*auth_id;	/* owned: identity bound at 235 */
	char		*auth_cand;	/* owned: identity claimed, until 235 */
	struct sasl_state sasl;		/* the AUTH exchange in progress */
	int		 sasl_cancel;	/* the backend must get "*" */
	struct policy_client pc;	/* facts the policy checks see */
	int		 errors;
	int		 junk;
	uint64_t	 start_ms;
	uint64_t	 bytes_in, bytes_out;

	struct cmd_scanner lscan;
	struct dscan	 dscan;
	char		*hold;		/* owned: held header section */
	size_t		 hold_len, hold_cap;
	int		 reconnecting;	/* fresh backend not ready yet */
	int		 client_closed;
	int		 drain;
	int		 long_auth;	/* the over-long line was AUTH */
	int		 hangup_queued;	/* a closing 421 is in the queue */
	int		 xclient_done;	/* XCLIENT accepted on this leg */
	int		 need_ehlo;	/* after STARTTLS: EHLO before MAIL */
	size_t		 stalled_len;	/* client.in_len the parser could not
					   take more of */
	int		 data_done;	/* the client's final dot was read */
	int		 aborted;	/* backend leg dropped mid-DATA */
	uint64_t	 held;		/* bytes counted in srv held_bytes */
	struct session	*wprev, *wnext;	/* the worker's sessions */
	int		 quitting;
	int		 limit_slot;	/* counted in the server's limits */
	const char	*close_reason;
	unsigned	 flushing:1;
	unsigned	 in_input:1;
};

/* Per-thread state. */
struct worker {
	uv_loop_t	 loop;
	uv_thread_t	 thread;
	struct server	*srv;
	const struct config *cfg;
	char		*rbuf;		/* RBUF_SIZE, reads land here */
	int		 rbuf_busy;
	char		*scratch;	/* SCRATCH_SIZE, batched output */
	size_t		 scratch_len;
	struct side	*scratch_to;
	uv_async_t	 wake;		/* shutdown / reload */
	uv_tcp_t	*listeners;
	size_t		 nlisteners;
	uint64_t	 nsessions;
	int		 draining;
	int		 index;
	struct session	*sessions;	/* list of live sessions */
};

/* session.c */
void	sess_start(struct worker *w, uv_stream_t *server, int listener);
void	sess_tls_ready(struct session *s);
void	sess_close(struct session *s, const char *reason);
void	sess_maybe_free(struct session *s);
void	sess_drain(struct session *s);
void	sess_shutdown_now(struct session *s);
void	sess_client_input(struct session *s);
void	sess_flush(struct session *s);
struct pending *sess_push(struct session *s, enum pend_kind kind,
	    enum cmd_verb verb);
void	sess_local(struct session *s, struct pending *p, const char *text);
void	sess_reply_now(struct session *s, enum cmd_verb verb, const char *text);
void	sess_hang_up(struct session *s, const char *text, const char *reason);
void	sess_txn_abort(struct session *s, const char *why);
void	sess_transcript(struct session *s, const char *dir, const char *p,
	    size_t n);
char	*mxs_memdup(const char *p, size_t n);

/* commands.c */
size_t	sess_command_input(struct session *s, const char *p, size_t len);
/* decisions shared with the dry run (proxy/dryrun.c) */
const char *sess_parse_line(const struct config *cfg, const char *line,
	    size_t len, struct smtp_cmd *c);
const char *sess_rcpt_limit(const struct config *cfg, int sent);
const char *sess_auth_tls(const struct config *cfg, int tls_up);
int	sess_auth_need_identity(const struct config *cfg);
void	sess_hijack_verdict(struct policy_verdict *v, enum policy_stage at,
	    const char *identity, int now);
void	sess_fail_all(struct session *s, const char *text);
void	sess_on_reply(struct session *s, struct pending *p, int code,
	    const char *reply, size_t len);
void	sess_txn_log(struct session *s, const struct txn *t,
	    const char *result, const char *backend_reply, size_t blen);
void	sess_txn_reset(struct session *s);
void	txn_clear(struct txn *t);
void	sess_set_timer(struct session *s);
int	sess_can_read_client(struct session *s);
void	sess_update_reading(struct session *s);
uint64_t mxs_now_ms(void);

/* side.c */
void	side_init(struct session *s, struct side *d, int is_backend);
int	side_write(struct side *d, const char *p, size_t n);
void	side_start_read(struct side *d);
void	side_stop_read(struct side *d);
void	side_close(struct side *d);
int	side_start_tls(struct side *d, struct tls_ctx *ctx);
void	side_tls_pump(struct side *d);
int	side_append_in(struct side *d, const char *p, size_t n, size_t cap);
void	side_consume_in(struct side *d, size_t n);
void	scratch_put(struct worker *w, struct side *to, const char *p, size_t n);
void	scratch_flush(struct worker *w);

/* backend.c */
int	backend_connect(struct session *s, int reconnect);
void	backend_send(struct session *s, const char *p, size_t n);
void	backend_on_read(struct session *s, const char *p, size_t n);
void	backend_abort(struct session *s, const char *reason);
void	backend_lost(struct session *s, const char *reason);
void	backend_broken(struct session *s, const char *reason);
void	backend_tls_ready(struct session *s);
void	backend_replay_helo(struct session *s);
int	backend_xclient_start(struct session *s);
void	backend_xclient_step(struct session *s, struct pending *p, int code,
	    const char *r, size_t n);
void	backend_tls_step(struct session *s, struct pending *p, int code,
	    const char *r, size_t n);
int	backend_after_greeting(struct session *s, struct pending *p,
	    const char *r, size_t n);

/* data.c */
void	data_decide(struct session *s, struct pending *p);
void	data_begin(struct session *s);
size_t	data_input(struct session *s, const char *p, size_t n);
void	data_backend_ready(struct session *s, int code, const char *reply,
	    size_t len);
void	data_hold_free(struct session *s);
const char *data_scan_error(const struct dscan *d, uint64_t held,
	    int max_header_bytes, int *code, char *why, size_t cap);

#endif
