/*
 * proxy/hjredis.c - the workers' side of hijack.store = "redis"
 * (proxy/hjredis.h): one hiredis asynchronous connection per worker
 * loop, its reconnection with a backoff, the bound on every command
 * (hijack.redis.timeout_ms), and the Lua scripts that count and
 * disable. Input: identities bound at the backend's 235 (or claimed in
 * AUTH), and Redis replies, which are checked for their shape: anything
 * else is a store failure, never a verdict.
 *
 * The event adapter is ours, on uv_poll, not hiredis' adapters/libuv.h
 * of Debian's hiredis 0.14: that one returns on a poll error without
 * telling hiredis, so a refused connection would never be noticed, and
 * it has no timers, so a Redis that stops answering would hold every
 * MAIL for ever. Here a poll error is handed to hiredis (whose read or
 * connect handler then finds the socket's error), and a timer fails the
 * connection when its oldest command (or the connect) is older than
 * timeout_ms.
 *
 * The control socket's synchronous side is in proxy/hjredis_ctl.c.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "proxy/hijack.h"
#include "proxy/hjredis.h"
#include "proxy/hjredis_int.h"
#include "proxy/log.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	2000
#define LOG_EVERY_MS	1000	/* failure lines: one a second a worker */

struct hjr_settings hjr_set;
static atomic_uint_fast64_t st_commands, st_failures, st_reconnects,
    st_connected;

/*
 * CHECK: KEYS disabled hash, window set; ARGV folded id, window, max,
 * more, mode, id as given, "m" or "r" (units: messages, recipients).
 * {1, 0}: disabled (one disabled in monitor mode counts only in monitor
 * mode); {2, n}: disabled now; {0, n}: not, n in the window. The time
 * is Redis' own, the same for every replica.
 */
const char hjr_script_check[] =
"local d = redis.call('HGET', KEYS[1], ARGV[1])\n"
"if d and (ARGV[5] == 'monitor' or not string.find(d, '^%d+ monitor ')) then\n"
"  return {1, 0}\n"
"end\n"
"local now = tonumber(redis.call('TIME')[1])\n"
"local more = tonumber(ARGV[4])\n"
"redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))\n"
"local n = 0\n"
"if ARGV[7] == 'r' then\n"
"  for _, m in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do\n"
"    n = n + (tonumber(string.match(m, ':(%d+)$')) or 1)\n"
"  end\n"
"else\n"
"  n = redis.call('ZCARD', KEYS[2])\n"
"end\n"
"if more < 0 then return {0, n} end\n"
"local max = tonumber(ARGV[3])\n"
"if (more == 0 and n >= max) or (more > 0 and n + more > max) then\n"
"  redis.call('HSET', KEYS[1], ARGV[1], now .. ' ' .. ARGV[5] .. ' ' .. ARGV[6])\n"
"  redis.call('DEL', KEYS[2])\n"
"  return {2, n}\n"
"end\n"
"return {0, n}\n";

/*
 * ADD: KEYS as CHECK; ARGV folded id, window, units, nonce, mode.
 * Counts nothing for a disabled identity. 1 counted, 0 not.
 */
const char hjr_script_add[] =
"local d = redis.call('HGET', KEYS[1], ARGV[1])\n"
"if d and (ARGV[5] == 'monitor' or not string.find(d, '^%d+ monitor ')) then\n"
"  return 0\n"
"end\n"
"local now = tonumber(redis.call('TIME')[1])\n"
"redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - tonumber(ARGV[2]))\n"
"redis.call('ZADD', KEYS[2], now, ARGV[4] .. ':' .. ARGV[3])\n"
"redis.call('EXPIRE', KEYS[2], ARGV[2])\n"
"return 1\n";

enum qkind { Q_CHECK, Q_ADD, Q_INIT };
enum { S_CHECK = 0, S_ADD, S_N };

#define QARGS	12

struct hjr_req {
	struct hjr	*h;
	struct hjr_req	*prev, *next;	/* in h's list, oldest first */
	enum qkind	 kind;
	int		 script;	/* S_CHECK, S_ADD; -1: not a script */
	int		 retried;	/* sent again as EVAL after NOSCRIPT */
	hjr_cb		*cb;		/* NULL: cancelled, or not asked */
	void		*arg;
	uint64_t	 sent_ms;
	int		 argc;
	char		*argv[QARGS];	/* owned: sent again after NOSCRIPT */
	size_t		 argl[QARGS];
	char		 what[24];	/* AUTH, SELECT...: for the log */
};

/* our adapter's half of a context (hiredis' ev.data) */
struct hjr_ev {
	uv_poll_t		 poll;
	redisAsyncContext	*ac;	/* NULL once hiredis let it go */
	int			 events;
};

struct hjr {
	uv_loop_t		*loop;
	int			 index;
	redisAsyncContext	*ac;	/* NULL: down, retry armed */
	int			 connected;
	int			 was_up;	/* for the log: a transition */
	int			 ever_up;
	int			 down_logged;	/* this outage's line written */
	int			 closing;
	int			 handles;	/* timers still open */
	uv_timer_t		 timer;		/* command and connect bound */
	uv_timer_t		 retry;
	uint64_t		 backoff_ms;
	uint64_t		 connect_ms;
	struct hjr_req		*head, *tail;
	char			 sha[S_N][41];	/* "" until SCRIPT LOAD said */
	uint64_t		 nonce;
	uint64_t		 last_log_ms;
	unsigned		 suppressed;
};

static void	conn_start(struct hjr *h);
static void	conn_fail(struct hjr *h, const char *why);
static void	arm(struct hjr *h);

void
hjr_setup(const struct config *cfg, uint64_t seed)
{
	hjr_set.seed = seed;
	hjr_set.cfg = cfg;
	hjr_set.monitor = cfg->hijack.mode == CFG_MODE_MONITOR;
	hjr_set.recipients = cfg->hijack.count == CFG_HJ_RECIPIENTS;
}

void
hijack_store_stats(struct hijack_store_stats *out)
{
	out->commands = atomic_load(&st_commands);
	out->failures = atomic_load(&st_failures);
	out->reconnects = atomic_load(&st_reconnects);
	out->connected = atomic_load(&st_connected);
}

/* hjr_fold_key - PREFIX "w:" and identity folded to lower case (ASCII),
 * its first HIJACK_ID_MAX octets, into out (cap > prefix + 515). The
 * field in the disabled hash is the part after "w:". */
size_t
hjr_fold_key(const char *id, size_t len, char *out, size_t cap,
    size_t *field_off)
{
	const char *pfx = hjr_set.cfg->hijack.redis.prefix;
	size_t n;

	if (len > HIJACK_ID_MAX)
		len = HIJACK_ID_MAX;
	n = (size_t)snprintf(out, cap, "%sw:", pfx);
	*field_off = n;
	for (size_t i = 0; i < len && n + 1 < cap; i++) {
		int c = (unsigned char)id[i];

		out[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[n] = '\0';
	return n;
}

/* ------------------------------------------------------------ logging */

/* A failed question or count: counted; one line a second a worker. */
static void
note_failure(struct hjr *h, const char *what, const char *why)
{
	uint64_t now = uv_now(h->loop);
	struct logline l;

	atomic_fetch_add(&st_failures, 1);
	if (h->last_log_ms != 0 && now - h->last_log_ms < LOG_EVERY_MS) {
		h->suppressed++;
		return;
	}
	h->last_log_ms = now;
	if (!log_enabled(CFG_LOG_WARN))
		return;
	log_begin(&l, "hijack");
	log_cstr(&l, "level", "warn");
	log_cstr(&l, "action", "store_failure");
	log_cstr(&l, "store", "redis");
	log_cstr(&l, "what", what);
	log_int(&l, "worker", h->index);
	log_int(&l, "suppressed", h->suppressed);
	log_cstr(&l, "on_store_failure",
	    hjr_set.cfg->hijack.on_store_failure == CFG_HJ_FAIL_TEMPFAIL ?
	    "tempfail" : "allow");
	log_cstr(&l, "reason", why);
	log_end(&l);
	h->suppressed = 0;
}

/* ------------------------------------------------------------ adapter */

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct hjr_ev *e = p->data;

	if (e->ac == NULL)
		return;
	if (status < 0) {
		/* libuv stopped the handle: hiredis finds the error itself,
		 * a connect in progress in its write handler */
		if (!(e->ac->c.flags & REDIS_CONNECTED))
			redisAsyncHandleWrite(e->ac);
		else
			redisAsyncHandleRead(e->ac);
		return;
	}
	if (events & UV_READABLE)
		redisAsyncHandleRead(e->ac);
	if (e->ac != NULL && (events & UV_WRITABLE))
		redisAsyncHandleWrite(e->ac);
}

static void
ev_update(struct hjr_ev *e, int add, int ev)
{
	if (add)
		e->events |= ev;
	else
		e->events &= ~ev;
	if (e->events)
		uv_poll_start(&e->poll, e->events, on_poll);
	else
		uv_poll_stop(&e->poll);
}

static void ev_add_read(void *d) { ev_update(d, 1, UV_READABLE); }
static void ev_del_read(void *d) { ev_update(d, 0, UV_READABLE); }
static void ev_add_write(void *d) { ev_update(d, 1, UV_WRITABLE); }
static void ev_del_write(void *d) { ev_update(d, 0, UV_WRITABLE); }

static void
on_ev_closed(uv_handle_t *hd)
{
	free(hd->data);
}

static void
ev_cleanup(void *d)
{
	struct hjr_ev *e = d;

	e->ac = NULL;
	uv_close((uv_handle_t *)&e->poll, on_ev_closed);
}

static int
ev_attach(redisAsyncContext *ac, uv_loop_t *loop)
{
	struct hjr_ev *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return -1;
	if (uv_poll_init(loop, &e->poll, ac->c.fd) != 0) {
		free(e);
		return -1;
	}
	e->poll.data = e;
	e->ac = ac;
	ac->ev.data = e;
	ac->ev.addRead = ev_add_read;
	ac->ev.delRead = ev_del_read;
	ac->ev.addWrite = ev_add_write;
	ac->ev.delWrite = ev_del_write;
	ac->ev.cleanup = ev_cleanup;
	return 0;
}

/* ------------------------------------------------------------ requests */

static void
q_unlink(struct hjr_req *q)
{
	struct hjr *h = q->h;

	if (q->prev != NULL)
		q->prev->next = q->next;
	else if (h->head == q)
		h->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else if (h->tail == q)
		h->tail = q->prev;
	q->prev = q->next = NULL;
}

static void
q_free(struct hjr_req *q)
{
	for (int i = 0; i < q->argc; i++)
		free(q->argv[i]);
	free(q);
}

static int
q_arg(struct hjr_req *q, const char *p, size_t n)
{
	char *c = malloc(n + 1);

	if (c == NULL || q->argc >= QARGS) {
		free(c);
		return -1;
	}
	memcpy(c, p, n);
	c[n] = '\0';
	q->argv[q->argc] = c;
	q->argl[q->argc++] = n;
	return 0;
}

static int
q_argf(struct hjr_req *q, long long v)
{
	char num[24];

	return q_arg(q, num, (size_t)snprintf(num, sizeof(num), "%lld", v));
}

static void on_reply(redisAsyncContext *ac, void *r, void *priv);

/* Send q on h's connection: EVALSHA when the script's sha is known
 * (and q was not refused it), else EVAL. -1: not sent. */
static int
q_send(struct hjr *h, struct hjr_req *q)
{
	const char *argv[QARGS + 2];
	size_t argl[QARGS + 2];
	int n = 0;

	if (h->ac == NULL)
		return -1;
	if (q->script >= 0) {
		const char *body = q->script == S_CHECK ? hjr_script_check :
		    hjr_script_add;

		if (h->sha[q->script][0] != '\0' && !q->retried) {
			argv[n] = "EVALSHA";
			argl[n++] = 7;
			argv[n] = h->sha[q->script];
			argl[n++] = 40;
		} else {
			argv[n] = "EVAL";
			argl[n++] = 4;
			argv[n] = body;
			argl[n++] = strlen(body);
		}
	}
	for (int i = 0; i < q->argc; i++) {
		argv[n] = q->argv[i];
		argl[n++] = q->argl[i];
	}
	if (redisAsyncCommandArgv(h->ac, on_reply, q, n, argv, argl) !=
	    REDIS_OK)
		return -1;
	atomic_fetch_add(&st_commands, 1);
	q->sent_ms = uv_now(h->loop);
	if (q->prev == NULL && h->head != q) {
		q->prev = h->tail;
		if (h->tail != NULL)
			h->tail->next = q;
		else
			h->head = q;
		h->tail = q;
	}
	arm(h);
	return 0;
}

/* The answer a CHECK reply gives: {state, count}, integers. */
static int
parse_check(const redisReply *r, struct hjr_answer *a)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_INTEGER ||
	    r->element[1]->type != REDIS_REPLY_INTEGER ||
	    r->element[0]->integer < 0 || r->element[0]->integer > 2)
		return -1;
	a->state = (enum hjr_state)r->element[0]->integer;
	a->count = r->element[1]->integer;
	return 0;
}

static void
deliver(struct hjr_req *q, struct hjr_answer *a)
{
	if (q->cb != NULL)
		q->cb(q->arg, a);
	q_free(q);
}

static void
on_reply(redisAsyncContext *ac, void *rv, void *priv)
{
	struct hjr_req *q = priv;
	struct hjr *h = q->h;
	redisReply *r = rv;
	struct hjr_answer a;

	(void)ac;
	memset(&a, 0, sizeof(a));
	q_unlink(q);
	if (r == NULL) {
		snprintf(a.why, sizeof(a.why), "Redis connection lost or "
		    "timed out before the reply to %s", q->what);
	} else if (r->type == REDIS_REPLY_ERROR && q->script >= 0 &&
	    !q->retried && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		/* SCRIPT FLUSH, or a Redis that lost its scripts: the
		 * script's text once more; SCRIPT LOAD at the next connect */
		q->retried = 1;
		h->sha[q->script][0] = '\0';
		if (q_send(h, q) == 0)
			return;
		snprintf(a.why, sizeof(a.why), "cannot send %s", q->what);
	} else if (r->type == REDIS_REPLY_ERROR) {
		snprintf(a.why, sizeof(a.why), "Redis answered %s with: %.100s",
		    q->what, r->str);
		if (q->kind == Q_INIT) {
			/* a wrong password, a db out of range: no command
			 * can work on this connection */
			note_failure(h, q->what, a.why);
			q_free(q);
			conn_fail(h, a.why);
			return;
		}
	} else if (q->kind == Q_INIT) {
		if (q->script >= 0 && r->type == REDIS_REPLY_STRING &&
		    r->len == 40)
			memcpy(h->sha[q->script], r->str, 41);
		q_free(q);
		arm(h);
		return;
	} else if (q->kind == Q_CHECK && parse_check(r, &a) < 0) {
		snprintf(a.why, sizeof(a.why), "Redis answered %s in an "
		    "unexpected shape", q->what);
	} else {
		a.ok = 1;
	}
	if (!a.ok && q->kind != Q_INIT && (q->kind == Q_ADD || q->cb != NULL))
		note_failure(h, q->what, a.why);
	if (q->kind == Q_INIT) {
		q_free(q);
		return;
	}
	arm(h);
	deliver(q, &a);
}

/* ------------------------------------------------------------ connection */

static void
on_retry(uv_timer_t *t)
{
	conn_start(t->data);
}

static void
schedule_retry(struct hjr *h)
{
	if (h->closing)
		return;
	uv_timer_start(&h->retry, on_retry, h->backoff_ms, 0);
	h->backoff_ms *= 2;
	if (h->backoff_ms > BACKOFF_MAX_MS)
		h->backoff_ms = BACKOFF_MAX_MS;
}

/* The connection is down: one line an outage, not one an attempt. */
static void
log_down(struct hjr *h, const char *why)
{
	const struct config *cfg = hjr_set.cfg;

	if (h->down_logged)
		return;
	h->down_logged = 1;
	log_msg(CFG_LOG_WARN, "hijack", "worker %d: Redis %s:%d unreachable: "
	    "%s; retrying (hijack.on_store_failure = \"%s\" meanwhile)",
	    h->index, cfg->hijack.redis.address, cfg->hijack.redis.port, why,
	    cfg->hijack.on_store_failure == CFG_HJ_FAIL_TEMPFAIL ?
	    "tempfail" : "allow");
}

/*
 * conn_fail - the connection is unusable (refused, lost, timed out,
 * refused our AUTH): every question in flight is answered as a failure
 * (hiredis calls their callbacks with no reply), and a new attempt is
 * scheduled. Safe inside a hiredis callback (the free is deferred).
 */
static void
conn_fail(struct hjr *h, const char *why)
{
	redisAsyncContext *ac = h->ac;

	if (ac == NULL)
		return;
	h->ac = NULL;
	if (h->connected)
		atomic_fetch_sub(&st_connected, 1);
	log_down(h, why);
	h->connected = 0;
	h->was_up = 0;
	ac->data = NULL;
	redisAsyncFree(ac);
	schedule_retry(h);
}

static void
on_connect(const redisAsyncContext *ac, int status)
{
	struct hjr *h = ac->data;

	if (h == NULL)
		return;
	if (status != REDIS_OK) {
		/* hiredis frees the context after this callback */
		h->ac = NULL;
		log_down(h, ac->errstr[0] ? ac->errstr : "connect failed");
		schedule_retry(h);
		return;
	}
	h->connected = 1;
	atomic_fetch_add(&st_connected, 1);
	if (h->ever_up > 0)
		atomic_fetch_add(&st_reconnects, 1);
	if (!h->was_up)
		log_msg(CFG_LOG_INFO, "hijack", "worker %d: connected to Redis "
		    "%s:%d", h->index, hjr_set.cfg->hijack.redis.address,
		    hjr_set.cfg->hijack.redis.port);
	h->was_up = 1;
	h->ever_up = 1;
	h->down_logged = 0;
	h->backoff_ms = BACKOFF_MIN_MS;
	arm(h);
}

static void
on_disconnect(const redisAsyncContext *ac, int status)
{
	struct hjr *h = ac->data;

	(void)status;
	if (h == NULL)
		return;
	/* lost by hiredis itself (EOF, a read error): it frees ac */
	h->ac = NULL;
	if (h->connected)
		atomic_fetch_sub(&st_connected, 1);
	h->connected = 0;
	log_down(h, ac->errstr[0] ? ac->errstr : "connection closed");
	h->was_up = 0;
	schedule_retry(h);
}

/* One command of the connection's start: AUTH, SELECT, SCRIPT LOAD. */
static int
send_init(struct hjr *h, const char *what, int script, const char *a1,
    const char *a2, const char *a3)
{
	struct hjr_req *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return -1;
	q->h = h;
	q->kind = Q_INIT;
	q->script = -1;
	snprintf(q->what, sizeof(q->what), "%s", what);
	if (q_arg(q, a1, strlen(a1)) < 0 || (a2 != NULL &&
	    q_arg(q, a2, strlen(a2)) < 0) || (a3 != NULL &&
	    q_arg(q, a3, strlen(a3)) < 0) || q_send(h, q) < 0) {
		q_free(q);
		return -1;
	}
	/* the reply's handler needs to know which sha it is */
	q->script = script;
	return 0;
}

static void
conn_start(struct hjr *h)
{
	const struct config *cfg = hjr_set.cfg;
	redisAsyncContext *ac;
	char db[16];

	if (h->closing || h->ac != NULL)
		return;
	ac = redisAsyncConnect(cfg->hijack.redis.address,
	    cfg->hijack.redis.port);
	if (ac == NULL) {
		log_down(h, "out of memory");
		schedule_retry(h);
		return;
	}
	if (ac->err) {
		log_down(h, ac->errstr);
		redisAsyncFree(ac);
		schedule_retry(h);
		return;
	}
	if (ev_attach(ac, h->loop) < 0) {
		log_down(h, "cannot watch the socket");
		redisAsyncFree(ac);
		schedule_retry(h);
		return;
	}
	ac->data = h;
	redisAsyncSetConnectCallback(ac, on_connect);
	redisAsyncSetDisconnectCallback(ac, on_disconnect);
	h->ac = ac;
	h->connect_ms = uv_now(h->loop);
	h->sha[S_CHECK][0] = h->sha[S_ADD][0] = '\0';
	/* queued now, written once connected: before any question */
	snprintf(db, sizeof(db), "%d", cfg->hijack.redis.db);
	if ((cfg->hijack.redis.password != NULL && send_init(h, "AUTH", -1,
	    "AUTH", cfg->hijack.redis.password, NULL) < 0) ||
	    (cfg->hijack.redis.db != 0 && send_init(h, "SELECT", -1, "SELECT",
	    db, NULL) < 0) ||
	    send_init(h, "SCRIPT LOAD", S_CHECK, "SCRIPT", "LOAD",
	    hjr_script_check) < 0 ||
	    send_init(h, "SCRIPT LOAD", S_ADD, "SCRIPT", "LOAD",
	    hjr_script_add) < 0)
		conn_fail(h, "cannot queue the connection's first commands");
	arm(h);
}

/* The bound: the connect, and the oldest command in flight, may take
 * timeout_ms; past it the connection fails (and every question with
 * it). */
static void
on_timer(uv_timer_t *t)
{
	struct hjr *h = t->data;
	char why[96];

	snprintf(why, sizeof(why), "no reply within hijack.redis.timeout_ms "
	    "(%d ms)", hjr_set.cfg->hijack.redis.timeout_ms);
	conn_fail(h, why);
}

static void
arm(struct hjr *h)
{
	uint64_t since, now = uv_now(h->loop), limit =
	    (uint64_t)hjr_set.cfg->hijack.redis.timeout_ms;

	if (h->closing)
		return;
	if (h->ac == NULL || (h->connected && h->head == NULL)) {
		uv_timer_stop(&h->timer);
		return;
	}
	since = !h->connected ? h->connect_ms : h->head->sent_ms;
	uv_timer_start(&h->timer, on_timer, since + limit > now ?
	    since + limit - now : 0, 0);
}

struct hjr *
hjr_new(uv_loop_t *loop, int index)
{
	struct hjr *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return NULL;
	h->loop = loop;
	h->index = index;
	h->backoff_ms = BACKOFF_MIN_MS;
	uv_timer_init(loop, &h->timer);
	uv_timer_init(loop, &h->retry);
	h->timer.data = h->retry.data = h;
	h->handles = 2;
	conn_start(h);
	return h;
}

static void
on_timer_closed(uv_handle_t *hd)
{
	struct hjr *h = hd->data;

	if (--h->handles == 0)
		free(h);
}

void
hjr_close(struct hjr *h)
{
	redisAsyncContext *ac;

	if (h == NULL || h->closing)
		return;
	h->closing = 1;
	if ((ac = h->ac) != NULL) {
		/* questions still in flight are answered as failures */
		h->ac = NULL;
		if (h->connected)
			atomic_fetch_sub(&st_connected, 1);
		h->connected = 0;
		ac->data = NULL;
		redisAsyncFree(ac);
	}
	uv_close((uv_handle_t *)&h->timer, on_timer_closed);
	uv_close((uv_handle_t *)&h->retry, on_timer_closed);
}

/* ------------------------------------------------------------ questions */

static const char *
mode_word(void)
{
	return hjr_set.monitor ? "monitor" : "enforce";
}

/* A script question: KEYS disabled hash, window set; the ARGV the
 * script wants up to the mode. */
static struct hjr_req *
q_script(struct hjr *h, enum qkind kind, const char *identity)
{
	const struct config *cfg = hjr_set.cfg;
	struct hjr_req *q = calloc(1, sizeof(*q));
	char key[HIJACK_ID_MAX + 128], dis[160];
	size_t klen, foff, ilen = strnlen(identity, HIJACK_ID_MAX);

	if (q == NULL)
		return NULL;
	q->h = h;
	q->kind = kind;
	q->script = kind == Q_CHECK ? S_CHECK : S_ADD;
	snprintf(q->what, sizeof(q->what), "%s", kind == Q_CHECK ?
	    "the hijack check" : "the hijack count");
	klen = hjr_fold_key(identity, ilen, key, sizeof(key), &foff);
	snprintf(dis, sizeof(dis), "%sdisabled", cfg->hijack.redis.prefix);
	if (q_arg(q, "2", 1) < 0 || q_arg(q, dis, strlen(dis)) < 0 ||
	    q_arg(q, key, klen) < 0 ||
	    q_arg(q, key + foff, klen - foff) < 0 ||
	    q_argf(q, cfg->hijack.window) < 0) {
		q_free(q);
		return NULL;
	}
	return q;
}

struct hjr_req *
hjr_check(struct hjr *h, const char *identity, int64_t more, time_t now,
    hjr_cb *cb, void *arg, struct hjr_answer *a)
{
	const struct config *cfg = hjr_set.cfg;
	struct hjr_req *q;

	(void)now;	/* Redis' clock decides, the same for every replica */
	memset(a, 0, sizeof(*a));
	if (h == NULL || h->ac == NULL) {
		snprintf(a->why, sizeof(a->why), "Redis %s:%d unreachable "
		    "(reconnecting)", cfg->hijack.redis.address,
		    cfg->hijack.redis.port);
		if (h != NULL)
			note_failure(h, "the hijack check", a->why);
		return NULL;
	}
	if ((q = q_script(h, Q_CHECK, identity)) == NULL ||
	    q_argf(q, cfg->hijack.max_messages) < 0 ||
	    q_argf(q, more) < 0 || q_arg(q, mode_word(), 7) < 0 ||
	    q_arg(q, identity, strnlen(identity, HIJACK_ID_MAX)) < 0 ||
	    q_arg(q, hjr_set.recipients ? "r" : "m", 1) < 0 ||
	    q_send(h, q) < 0) {
		if (q != NULL)
			q_free(q);
		snprintf(a->why, sizeof(a->why), "cannot send the hijack "
		    "check (out of memory, or the connection is closing)");
		note_failure(h, "the hijack check", a->why);
		return NULL;
	}
	q->cb = cb;
	q->arg = arg;
	return q;
}

void
hjr_cancel(struct hjr_req *q)
{
	if (q != NULL)
		q->cb = NULL;
}

void
hjr_add(struct hjr *h, const char *identity, uint32_t units, time_t now)
{
	struct hjr_req *q;
	char nonce[48];

	(void)now;
	if (h == NULL || h->ac == NULL) {
		if (h != NULL)
			note_failure(h, "the hijack count", "Redis unreachable "
			    "(reconnecting): the message is not counted");
		return;
	}
	/* unique across replicas: this worker's sequence and a random
	 * word drawn at start by each process */
	snprintf(nonce, sizeof(nonce), "%llx.%d.%llu",
	    (unsigned long long)hjr_set.seed, h->index,
	    (unsigned long long)++h->nonce);
	if ((q = q_script(h, Q_ADD, identity)) == NULL ||
	    q_argf(q, units) < 0 || q_arg(q, nonce, strlen(nonce)) < 0 ||
	    q_arg(q, mode_word(), 7) < 0 || q_send(h, q) < 0) {
		if (q != NULL)
			q_free(q);
		note_failure(h, "the hijack count", "cannot send it");
	}
}
