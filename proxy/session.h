/*
 * proxy/session.h - one relayed SMTP session: the client side, the
 * backend leg (proxy/backend.h), the FIFO of replies the client is owed
 * and the transaction. Everything here runs on one worker's event loop.
 *
 * Phases (sess_enter() is the one place that changes them, logged at
 * debug level "old -> new"; closed is terminal):
 *
 *   proxy --PROXY header--> connect --greeting--> command <--> auth
 *   command --354 (ours)--> data-hold --header done--> data-wait
 *   data-wait --backend 354--> data-body --final dot--> command
 *   data-hold/data-wait/data-body --refused--> data-discard --dot-->
 *   command
 *   any --QUIT relayed, or a closing 421 queued--> quit (nothing more
 *   is read) --closing reply written--> hangup --queue empty--> closed
 *   any --sess_close()--> closed
 *
 * The FIFO holds one entry per client command (and the greeting):
 * relayed (the backend's reply), local (ours), DATA (decided at the
 * head) or the final dot. What only mxshield says to the backend and
 * the replies to it live in backend.c, never here.
 *
 * Include graph of the relay (an arrow: "includes"). Headers are layered;
 * nothing below includes anything above it:
 *
 *   side.h     <- backend.h <- backend_int.h <- backend.c, backend_io.c
 *     ^  ^         ^
 *     |  |         |
 *     |  server.h  session.h <- commands.h, data.h, replies.h, txn.h
 *     |            ^
 *   side.c         |  accept.h (sess_start, sess_close, drain)
 *                  |
 *   session.c, accept.c, commands.c, replies.c, data.c, txn.c: the
 *   session's files, each including the headers of what it calls;
 *   server.c: server.h, accept.h, session.h (its worker's sessions).
 *
 * side.c knows neither the session nor the backend (struct side_ops);
 * backend*.c never include session.h (struct backend_cb).
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
#include "proxy/backend.h"
#include "proxy/config.h"
#include "proxy/hjredis.h"
#include "proxy/side.h"
#include "proxy/spoofw.h"

struct gen;
struct worker;
struct mime_append;
struct spfw;
struct spfw_result;
struct await;
struct dnschk;

#define MAX_PENDING	128		/* queued client commands */
#define HOLD_SLACK	(8 * 1024)	/* header hold overshoot */
#define HOLD_CHUNK	4096		/* bytes scanned per step while holding */
#define READ_AHEAD	(16 * 1024)	/* client bytes read while waiting */

enum phase {
	PH_CONNECT = 0,	/* waiting for the backend's greeting */
	PH_PROXY,	/* waiting for the PROXY header (proxy listener) */
	PH_COMMAND,	/* commands */
	PH_AUTH,	/* inside an AUTH exchange: lines are SASL */
	PH_DATA_HOLD,	/* after our 354: holding the header section */
	PH_DATA_WAIT,	/* header done, waiting for the backend's 354 */
	PH_DATA_BODY,	/* streaming the body to the backend */
	PH_DATA_DISCARD,/* rejected: reading to the final dot */
	PH_QUIT,	/* QUIT or a closing 421 queued: read nothing more */
	PH_HANGUP,	/* the closing reply is written: close once sent */
	PH_CLOSED,
};

enum pend_kind {
	PK_RELAY = 0,	/* relayed command (or greeting): the backend's reply */
	PK_LOCAL,	/* mxshield's own reply, complete at once */
	PK_DATA,	/* DATA: decided when it reaches the head */
	PK_FINAL,	/* the reply to the client's final dot */
	PK_AWAIT,	/* a command waiting for answers (proxy/await.h):
			   its slot, filled when it is handled again */
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
	char		*error_why;	/* owned: why, in words; NULL when
					   the backend gave the error */
	int		 error_noted;	/* the sticky error is a policy verdict
					   already in verdicts (size, From:) */
	uint64_t	 size_max;	/* size_limits for this message, set at
					   our 354; 0: none */
	int		 size_seen;	/* size_max was passed (and noted) */
	struct txn_verdict *verdicts;	/* owned, policy verdicts */
	size_t		 nverdicts;
	struct policy_txn ptxn;		/* policy facts for the RCPTs */
	int		 mail_route;	/* MAIL FROM had a source route */
	struct spoofw	 spoof;		/* the spoof score, at header end */
	size_t		 spoof_vidx;	/* its verdict is verdicts[spoof_vidx
					   - 1]; 0: not noted */
	struct mime_append *ma;		/* owned: appending the warning while
					   the body streams; NULL: not */
	struct spfw_result *spf;	/* owned: the SPF check of this
					   transaction (proxy/spfw.h), its
					   Received-SPF field; NULL: none */
	const char	*abort_reason;	/* borrowed, set only while the
					   line is written: what ended it */
};

struct pending {
	struct pending	*next;
	enum pend_kind	 kind;
	enum cmd_verb	 verb;
	int		 done;
	int		 code;		/* reply code once done */
	int		 close_after;	/* hang up once written */
	int		 starttls;	/* start TLS once this reply is written */
	char		*reply;		/* owned: reply text with CRLFs */
	size_t		 reply_len;
	char		*arg;		/* owned: MAIL/RCPT path, for the log */
	uint32_t	 txn_seq;	/* the MAIL that opened a transaction, and
					   its RCPTs: session.txn_seq then; 0
					   for other commands */
	struct txn	*txn;		/* owned: PK_FINAL, the transaction
					   the reply decides */
	struct await	*aw;		/* owned: PK_AWAIT, the waiting line */
};

/* Session flags (one word). */
#define SF_AUTH		0x0001	/* authenticated (backend said 235) */
#define SF_BK_WAIT	0x0002	/* a replacement leg is not ready yet */
#define SF_CLIENT_GONE	0x0004	/* the client side's handles are closed */
#define SF_DRAIN	0x0008	/* shutting down: close when idle */
#define SF_LONG_AUTH	0x0010	/* the over-long line being read is AUTH */
#define SF_NEED_EHLO	0x0020	/* after STARTTLS: EHLO before MAIL */
#define SF_DATA_DONE	0x0040	/* the client's final dot was read */
#define SF_ABORTED	0x0080	/* backend leg dropped mid-DATA */
#define SF_FLUSHING	0x0100	/* inside sess_flush() */
#define SF_IN_INPUT	0x0200	/* inside sess_client_input() */
#define SF_BK_GONE	0x0400	/* no leg any more: replies are owed 421 */
#define SF_PIPELINING	0x0800	/* the client's last EHLO reply offered
				   PIPELINING */
#define SF_KICK		0x1000	/* await_kick() came while parsing */

struct session {
	uint64_t	 id;
	struct worker	*w;
	struct gen	*gen;		/* a reference: the configuration,
					   policy and TLS contexts it
					   started with (proxy/gen.h) */
	const struct config *cfg;	/* gen->cfg */
	enum phase	 phase;
	unsigned	 flags;		/* SF_* */
	struct side	 client;
	struct backend	*backend;	/* owned (closed, not freed, by us);
					   replaced on reconnect */
	struct backend_client bc;	/* what the leg knows of the client */
	struct pending	*qhead, *qtail;
	int		 nq;
	struct pending	*barrier;	/* input waits until it is done */
	struct pending	*resume;	/* a waiting command handled again:
					   its slot, which the next
					   sess_push() returns (await.c) */
	struct dnschk	*dns;		/* owned: the DNS checks' lookups and
					   facts (proxy/dnschk.h), or NULL */
	struct spfw	*spf_run;	/* owned: the SPF check the opening
					   MAIL waits for (proxy/mailspf.h) */
	struct spfw_result *spf_res;	/* owned: its result, until that MAIL
					   is handled again */
	struct hjr_req	*hj_req;	/* the question to Redis a MAIL or
					   AUTH waits for (proxy/hjstore.h) */
	struct hjr_answer hj_ans;	/* its answer, while hj_have */
	int		 hj_have;
	int		 hj_count_ok;	/* hj_count is the MAIL's answer */
	int64_t		 hj_count;	/* the window then (recipients) */
	struct txn	 txn;
	uint32_t	 txn_seq;	/* numbers transactions (never 0): a
					   late reply finds its own */

	struct net_addr	 addr;
	char		 ip[48];
	int		 port;
	const struct cfg_listen *listener;
	struct net_addr	 local;		/* where the client connected to; read
					   only for client_info = "proxy" */
	int		 local_port;
	char		 tls_info[96];	/* "TLSv1.2 cipher" once up */
	char		 bk_tls[96];	/* the backend leg's, once up */

	char		*helo;		/* owned: the client's HELO/EHLO arg */
	char		*helo_line;	/* owned: the line, for replays */
	int		 ehlo;		/* last greeting was EHLO */
	char		*auth_id;	/* owned: identity bound at 235 */
	char		*auth_cand;	/* owned: identity claimed, until 235 */
	struct sasl_state sasl;		/* the AUTH exchange in progress */
	int		 sasl_cancel;	/* the backend must get "*" */
	struct policy_client pc;	/* facts the policy checks see */
	int		 errors;
	int		 junk;
	uint64_t	 start_ms;
	uint64_t	 bytes_in;

	struct cmd_scanner lscan;
	struct dscan	 dscan;
	char		*hold;		/* owned: held header section; its
					   hold_cap bytes count in the
					   server's held bytes */
	size_t		 hold_len, hold_cap;
	size_t		 stalled_len;	/* client.in_len the parser could not
					   take more of */
	struct session	*wprev, *wnext;	/* the worker's sessions */
	int		 limit_slot;	/* counted in the server's limits */
	int		 mx_listener;	/* its listener's slot in the
					   metrics (proxy/metrics.h), -1 */
	char		 close_why[160];	/* why it ends, for the log */
};

/* session.c */
void	sess_enter(struct session *s, enum phase to);
const char *sess_phase_name(enum phase p);
void	sess_flush(struct session *s);
void	sess_client_input(struct session *s);
int	sess_client_data(struct session *s, const char *p, size_t n);
void	sess_update_reading(struct session *s);
int	sess_input_allowed(struct session *s);
void	sess_cut_after(struct session *s, struct pending *p, const char *why);
struct pending *sess_push(struct session *s, enum pend_kind kind,
	    enum cmd_verb verb);
void	sess_local(struct session *s, struct pending *p, const char *text);
void	sess_reply_now(struct session *s, enum cmd_verb verb, const char *text);
void	sess_hang_up(struct session *s, const char *text, const char *reason);
void	sess_queue_close(struct session *s, const char *text,
	    const char *reason);
void	sess_set_reason(struct session *s, const char *reason);
void	sess_sync_error(struct session *s, const char *why, const char *p,
	    size_t n);
void	sess_set_backend_reply(struct session *s, struct pending *p,
	    const char *r, size_t n);
void	sess_backend_lost(struct session *s, const char *text,
	    const char *reason);
int	sess_backend_open(struct session *s);
int	sess_backend_replace(struct session *s, const char *reason);
void	sess_transcript(struct session *s, const char *dir, const char *p,
	    size_t n);
char	*mxs_memdup(const char *p, size_t n);
uint64_t mxs_now_ms(void);

#endif
