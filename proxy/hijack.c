/*
 * proxy/hijack.c - the table of hijack detection every worker shares
 * (proxy/hijack.h): identity -> sliding window (core/hijack.h), disabled
 * and exempt flags, behind one mutex; a bounded hash table with an LRU
 * list of the identities that may be evicted. Input: identities the
 * backend accepted (bound at its 235), and the administrator's
 * requests from the control socket. The window holds one time per
 * message, or per accepted recipient with hijack.count = "recipients".
 * The state file and the thread that writes it are in
 * proxy/hijack_state.c.
 *
 * Locking: every field of hj after .lock is under it. No file I/O and
 * no log line under it: workers log after unlocking, the writer thread
 * formats a snapshot under the lock and writes it outside.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy/hijack.h"
#include "proxy/hijack_int.h"
#include "proxy/hjredis.h"
#include "proxy/log.h"

struct hj_table hj = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------ the table */

static int
fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* hj_hash - FNV-1a of the identity folded to lower case (ASCII). */
uint32_t
hj_hash(const char *p, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= (uint32_t)fold((unsigned char)p[i]);
		h *= 16777619u;
	}
	return h;
}

static int
id_eq(const struct hj_entry *e, const char *p, size_t len, uint32_t h)
{
	if (e->hash != h || e->len != len)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (fold((unsigned char)e->id[i]) != fold((unsigned char)p[i]))
			return 0;
	return 1;
}

/* hj_is_exempt - is p[0..len) one of hijack.exempt (compared as
 * identities are)? */
int
hj_is_exempt(const char *p, size_t len)
{
	for (size_t i = 0; i < hj.nexempt; i++) {
		const char *x = hj.exempt[i];
		size_t k;

		if (strnlen(x, HIJACK_ID_MAX) != len)
			continue;
		for (k = 0; k < len; k++)
			if (fold((unsigned char)x[k]) !=
			    fold((unsigned char)p[k]))
				break;
		if (k == len)
			return 1;
	}
	return 0;
}

/* Compared length of a session's identity (see HIJACK_ID_MAX). */
static size_t
id_len(const char *identity)
{
	return strnlen(identity, HIJACK_ID_MAX);
}

/* hj_find - the entry of p[0..len) (hash h), compared without case;
 * NULL when it is not in the table. Under hj.lock. */
struct hj_entry *
hj_find(const char *p, size_t len, uint32_t h)
{
	struct hj_entry *e;

	for (e = hj.bucket[h & (HJ_BUCKETS - 1)]; e != NULL; e = e->hnext)
		if (id_eq(e, p, len, h))
			return e;
	return NULL;
}

static void
lru_remove(struct hj_entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else if (hj.lru_head == e)
		hj.lru_head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else if (hj.lru_tail == e)
		hj.lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct hj_entry *e)
{
	e->prev = NULL;
	e->next = hj.lru_head;
	if (hj.lru_head != NULL)
		hj.lru_head->prev = e;
	hj.lru_head = e;
	if (hj.lru_tail == NULL)
		hj.lru_tail = e;
}

static void
lru_touch(struct hj_entry *e)
{
	if (hj.lru_head == e)
		return;
	lru_remove(e);
	lru_push(e);
}

/* hj_entry_free - unlink e from its bucket and the LRU, and free it.
 * Under hj.lock. */
void
hj_entry_free(struct hj_entry *e)
{
	struct hj_entry **pp = &hj.bucket[e->hash & (HJ_BUCKETS - 1)];

	while (*pp != NULL && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp == e)
		*pp = e->hnext;
	if (!e->disabled)
		lru_remove(e);
	free(e->w.t);
	free(e);
	hj.n--;
}

/*
 * hj_entry_new - add an identity that hj_find() did not know (under
 * hj.lock), spelled as given; not disabled, nothing counted. When the
 * table is full the least recently active entry that is not disabled goes;
 * force (a disabled line of the state file) goes past the cap instead.
 * NULL when memory is short or nothing can be evicted.
 */
struct hj_entry *
hj_entry_new(const char *p, size_t len, uint32_t h, int force)
{
	struct hj_entry *e, **head;

	if (hj.n >= HIJACK_MAX_IDS && !force) {
		if (hj.lru_tail == NULL)
			return NULL;
		hj_entry_free(hj.lru_tail);
	}
	e = calloc(1, sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->id, p, len);
	e->id[len] = '\0';
	e->len = len;
	e->hash = h;
	e->exempt = hj_is_exempt(p, len);
	hjwin_init(&e->w, NULL, 0);
	head = &hj.bucket[h & (HJ_BUCKETS - 1)];
	e->hnext = *head;
	*head = e;
	hj.n++;
	lru_push(e);
	return e;
}

/* Make room for one more time in e's ring, up to max (memory short:
 * the ring stays as it is and the oldest time is dropped). */
static void
ring_grow(struct hj_entry *e)
{
	uint32_t cap = hjwin_grow_to(e->w.n, e->w.cap, hj.max);
	int64_t *old = e->w.t, *t;

	if (cap == e->w.cap)
		return;
	t = malloc((size_t)cap * sizeof(*t));
	if (t == NULL)
		return;
	hjwin_move(&e->w, t, cap);
	free(old);
}

/* hj_ring_shrink - give memory back from a ring that holds far fewer times than it has
 * room for (after expiry). */
void
hj_ring_shrink(struct hj_entry *e)
{
	uint32_t cap;
	int64_t *old = e->w.t, *t = NULL;

	if (e->w.n == 0) {
		free(old);
		hjwin_init(&e->w, NULL, 0);
		return;
	}
	if (e->w.cap <= 8 || e->w.n >= e->w.cap / 4)
		return;
	cap = e->w.cap / 2;
	t = malloc((size_t)cap * sizeof(*t));
	if (t == NULL)
		return;
	hjwin_move(&e->w, t, cap);
	free(old);
}

/* hj_disable - mark e disabled since now (monitor: only as a monitor
 * mode verdict, not saved), forget its window, and have the writer
 * save the change at once. Under hj.lock. */
void
hj_disable(struct hj_entry *e, int64_t now, int monitor)
{
	if (!e->disabled)
		lru_remove(e);
	e->disabled = 1;
	e->monitor = monitor ? 1 : 0;
	e->disabled_at = now;
	free(e->w.t);
	hjwin_init(&e->w, NULL, 0);
	hj.urgent = 1;
	pthread_cond_signal(&hj.cond);
}

/* ------------------------------------------------------------ the API */

/*
 * The "hijack" log line of a newly disabled identity: count is what the
 * window held, more the recipients of the message at hand that would
 * have passed the limit (0 at MAIL).
 */
void
hijack_log_disabled(const char *id, size_t len, uint32_t count,
    uint64_t more, uint64_t sid, const char *client)
{
	struct logline l;
	const char *unit = hj.recipients ? "recipients" : "messages";
	const char *then = hj.monitor ? "would be disabled (monitor mode)" :
	    "MAIL gets 550 5.7.1 and AUTH 535 5.7.8 until mxshield --unblock";
	char why[320];

	if (!log_enabled(CFG_LOG_WARN))
		return;
	if (more > 0)
		snprintf(why, sizeof(why), "%u %s accepted in the last %lld s "
		    "and %llu in this message would pass hijack.max_messages "
		    "%u (hijack.count = \"%s\"): %s", count, unit,
		    (long long)hj.window, (unsigned long long)more, hj.max,
		    unit, then);
	else
		snprintf(why, sizeof(why), "%u %s accepted in the last %lld s "
		    "reached hijack.max_messages %u: %s", count, unit,
		    (long long)hj.window, hj.max, then);
	log_begin(&l, "hijack");
	log_cstr(&l, "level", "warn");
	log_cstr(&l, "action", hj.monitor ? "would_disable" : "disabled");
	log_str(&l, "identity", id, len);
	log_cstr(&l, "stage", more > 0 ? "rcpt" : "mail");
	log_cstr(&l, "count", unit);
	log_int(&l, unit, count);
	if (hj.recipients)
		log_int(&l, "in_message", (int64_t)more);
	log_int(&l, "max_messages", hj.max);
	log_int(&l, "window", hj.window);
	log_hex64(&l, "sid", sid);
	log_cstr(&l, "client", client);
	log_cstr(&l, "mode", hj.monitor ? "monitor" : "enforce");
	log_cstr(&l, "reason", why);
	log_end(&l);
}

/*
 * check - the MAIL (more 0) or RCPT (more: this message's recipients
 * with this one) of identity at now, under no lock: the verdict, and
 * the log line of a newly disabled identity. With more > 0 an unknown
 * identity is added, so that it can be disabled.
 */
static enum hijack_rc
check(const char *identity, uint64_t more, time_t now, uint64_t sid,
    const char *client)
{
	struct hj_entry *e;
	enum hijack_rc rc = HIJACK_OK;
	char id[HIJACK_ID_MAX + 1];
	size_t len = id_len(identity);
	uint32_t h = hj_hash(identity, len), count = 0;
	enum hjwin_rc over;

	pthread_mutex_lock(&hj.lock);
	e = hj_find(identity, len, h);
	if (e == NULL && more > 0 && !hj_is_exempt(identity, len) &&
	    more > hj.max)
		e = hj_entry_new(identity, len, h, 0);
	if (e != NULL && e->exempt) {
		e->last = (int64_t)now;
		lru_touch(e);
	} else if (e != NULL && e->disabled) {
		rc = HIJACK_DISABLED;
	} else if (e != NULL) {
		over = more > 0 ? hjwin_check_more(&e->w, (int64_t)now,
		    hj.window, hj.max, more) : hjwin_check(&e->w, (int64_t)now,
		    hj.window, hj.max);
		if (over == HJWIN_LIMIT) {
			count = e->w.n;
			memcpy(id, e->id, e->len + 1);
			hj_disable(e, (int64_t)now, hj.monitor);
			rc = HIJACK_NOW_DISABLED;
		} else {
			e->last = (int64_t)now;
			lru_touch(e);
		}
	}
	pthread_mutex_unlock(&hj.lock);
	if (rc == HIJACK_NOW_DISABLED)
		hijack_log_disabled(id, len, count, more, sid, client);
	return rc;
}

enum hijack_rc
hijack_mail(const char *identity, time_t now, uint64_t sid,
    const char *client)
{
	if (!hj.on || hj.redis || identity == NULL)
		return HIJACK_OK;
	return check(identity, 0, now, sid, client);
}

enum hijack_rc
hijack_rcpt(const char *identity, uint32_t open, time_t now, uint64_t sid,
    const char *client)
{
	if (!hj.on || hj.redis || !hj.recipients || identity == NULL)
		return HIJACK_OK;
	return check(identity, (uint64_t)open + 1, now, sid, client);
}

void
hijack_accepted(const char *identity, uint32_t rcpts, time_t now)
{
	struct hj_entry *e;
	size_t len;
	uint32_t h, units;
	int warn = 0;

	if (!hj.on || hj.redis || identity == NULL)
		return;
	/* more than max times would only push out older ones */
	units = hj.recipients ? rcpts : 1;
	if (units > hj.max)
		units = hj.max;
	if (units == 0)
		return;
	len = id_len(identity);
	h = hj_hash(identity, len);
	pthread_mutex_lock(&hj.lock);
	e = hj_find(identity, len, h);
	if (e == NULL) {
		e = hj_entry_new(identity, len, h, 0);
		if (e == NULL && !hj.full_warned)
			warn = hj.full_warned = 1;
	}
	if (e != NULL && !e->disabled) {
		hjwin_expire(&e->w, (int64_t)now, hj.window);
		for (uint32_t i = 0; i < units; i++) {
			ring_grow(e);
			hjwin_add(&e->w, (int64_t)now);
		}
		e->last = (int64_t)now;
		lru_touch(e);
		hj.dirty = 1;
	}
	pthread_mutex_unlock(&hj.lock);
	if (warn)
		log_msg(CFG_LOG_WARN, "hijack", "hijack table full (%d "
		    "identities, all disabled) or out of memory: new "
		    "identities are not counted", HIJACK_MAX_IDS);
}

int
hijack_is_disabled(const char *identity)
{
	struct hj_entry *e;
	size_t len;
	int rc;

	if (!hj.on || hj.redis || identity == NULL)
		return 0;
	len = id_len(identity);
	pthread_mutex_lock(&hj.lock);
	e = hj_find(identity, len, hj_hash(identity, len));
	rc = e != NULL && e->disabled && !e->exempt;
	pthread_mutex_unlock(&hj.lock);
	return rc;
}

enum hijack_unblock_rc
hijack_unblock(const char *identity, size_t len)
{
	struct hj_entry *e;
	enum hijack_unblock_rc rc = HIJACK_NOT_DISABLED;
	struct logline l;

	if (!hj.on)
		return HIJACK_OFF;
	if (len > HIJACK_ID_MAX)
		len = HIJACK_ID_MAX;
	if (hj.redis) {
		int r = hjr_unblock(identity, len, hj.store_err,
		    sizeof(hj.store_err));

		if (r < 0)
			return HIJACK_STORE_ERROR;
		rc = r ? HIJACK_UNBLOCKED : HIJACK_NOT_DISABLED;
		goto logit;
	}
	pthread_mutex_lock(&hj.lock);
	e = hj_find(identity, len, hj_hash(identity, len));
	if (e != NULL && e->disabled) {
		e->disabled = 0;
		e->monitor = 0;
		free(e->w.t);
		hjwin_init(&e->w, NULL, 0);	/* counting starts afresh */
		e->last = (int64_t)time(NULL);
		lru_push(e);
		hj.urgent = 1;
		pthread_cond_signal(&hj.cond);
		rc = HIJACK_UNBLOCKED;
	}
	pthread_mutex_unlock(&hj.lock);
logit:
	if (rc == HIJACK_UNBLOCKED && log_enabled(CFG_LOG_WARN)) {
		log_begin(&l, "hijack");
		log_cstr(&l, "level", "warn");
		log_cstr(&l, "action", "enabled");
		log_str(&l, "identity", identity, len);
		log_cstr(&l, "reason", "re-enabled through the control socket");
		log_end(&l);
	}
	return rc;
}

static int
by_time(const void *a, const void *b)
{
	const struct hj_entry *x = *(const struct hj_entry *const *)a;
	const struct hj_entry *y = *(const struct hj_entry *const *)b;

	if (x->disabled_at != y->disabled_at)
		return x->disabled_at < y->disabled_at ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * report - one line per identity keep() chooses, in cmp order, written
 * by line() under the table lock; the text for the control socket.
 * NULL when memory is short.
 */
static char *
report(int (*keep)(struct hj_entry *, int64_t),
    int (*cmp)(const void *, const void *),
    void (*line)(struct sbuf *, const struct hj_entry *), size_t *len)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	struct hj_entry **v = NULL, *e;
	int64_t now = (int64_t)time(NULL);
	size_t nv = 0;

	hj_sb_put(&b, "", 0);
	if (hj.on) {
		pthread_mutex_lock(&hj.lock);
		v = calloc(hj.n ? hj.n : 1, sizeof(*v));
		for (size_t i = 0; v != NULL && i < HJ_BUCKETS; i++)
			for (e = hj.bucket[i]; e != NULL; e = e->hnext)
				if (keep(e, now))
					v[nv++] = e;
		if (v == NULL)
			b.oom = 1;
		if (nv > 1)
			qsort(v, nv, sizeof(*v), cmp);
		for (size_t i = 0; i < nv; i++)
			line(&b, v[i]);
		pthread_mutex_unlock(&hj.lock);
		free(v);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}

static int
keep_disabled(struct hj_entry *e, int64_t now)
{
	(void)now;
	return e->disabled;
}

/* "ID TIME[ monitor]" */
static void
line_disabled(struct sbuf *b, const struct hj_entry *e)
{
	char ts[40];
	struct tm tm;
	time_t t = (time_t)e->disabled_at;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof(ts), "@%lld", (long long)e->disabled_at);
	hj_sb_id(b, e);
	hj_sb_str(b, " ");
	hj_sb_str(b, ts);
	if (e->monitor)
		hj_sb_str(b, " monitor");
	hj_sb_str(b, "\n");
}

const char *
hijack_store_error(void)
{
	return hj.store_err[0] ? hj.store_err : "out of memory";
}

char *
hijack_list(size_t *len)
{
	hj.store_err[0] = '\0';
	if (hj.on && hj.redis)
		return hjr_list(len, hj.store_err, sizeof(hj.store_err));
	return report(keep_disabled, by_time, line_disabled, len);
}

/* Highest count first, then by identity: a busy account is on top. */
static int
by_count(const void *a, const void *b)
{
	const struct hj_entry *x = *(const struct hj_entry *const *)a;
	const struct hj_entry *y = *(const struct hj_entry *const *)b;

	if (x->w.n != y->w.n)
		return x->w.n > y->w.n ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int
keep_counted(struct hj_entry *e, int64_t now)
{
	return hjwin_expire(&e->w, now, hj.window) > 0 || e->disabled;
}

/* "ID COUNT LIMIT[ disabled[ monitor]][ exempt]" */
static void
line_counted(struct sbuf *b, const struct hj_entry *e)
{
	char num[48];

	hj_sb_id(b, e);
	snprintf(num, sizeof(num), " %u %u", e->w.n, hj.max);
	hj_sb_str(b, num);
	if (e->disabled)
		hj_sb_str(b, e->monitor ? " disabled monitor" : " disabled");
	if (e->exempt)
		hj_sb_str(b, " exempt");
	hj_sb_str(b, "\n");
}

char *
hijack_counters(size_t *len)
{
	hj.store_err[0] = '\0';
	if (hj.on && hj.redis)
		return hjr_counters(len, hj.store_err, sizeof(hj.store_err));
	return report(keep_counted, by_count, line_counted, len);
}

/* ------------------------------------------------------------ start, stop */

static void
table_free(void)
{
	for (size_t i = 0; hj.bucket != NULL && i < HJ_BUCKETS; i++) {
		while (hj.bucket[i] != NULL)
			hj_entry_free(hj.bucket[i]);
	}
	free(hj.bucket);
	hj.bucket = NULL;
	free(hj.path);
	free(hj.tmp);
	free(hj.dir);
	hj.path = hj.tmp = hj.dir = NULL;
	hj.exempt = NULL;
	hj.nexempt = 0;
	hj.lru_head = hj.lru_tail = NULL;
	hj.n = 0;
}

int
hijack_start(const struct config *cfg, char *err, size_t cap)
{
	pthread_condattr_t ca;
	char why[512];
	size_t size;

	if (!cfg->hijack.enabled)
		return 0;
	hj.monitor = cfg->hijack.mode == CFG_MODE_MONITOR;
	hj.max = (uint32_t)cfg->hijack.max_messages;
	hj.window = cfg->hijack.window;
	hj.recipients = cfg->hijack.count == CFG_HJ_RECIPIENTS;
	hj.exempt = cfg->hijack.exempt.v;
	hj.nexempt = cfg->hijack.exempt.n;
	hj.stopping = hj.dirty = hj.urgent = hj.full_warned = 0;
	hj.last_err[0] = '\0';
	if (cfg->hijack.store == CFG_HJ_REDIS) {
		/* nothing kept here: every worker asks Redis (hjredis.c) */
		hj.redis = 1;
		hj.on = 1;
		log_msg(CFG_LOG_INFO, "hijack", "hijack detection on: %d %s "
		    "in %d s, kept in Redis %s:%d (prefix \"%s\", db %d), "
		    "shared by every mxshield using it",
		    cfg->hijack.max_messages, hj.recipients ? "recipients" :
		    "messages", cfg->hijack.window, cfg->hijack.redis.address,
		    cfg->hijack.redis.port, cfg->hijack.redis.prefix,
		    cfg->hijack.redis.db);
		return 0;
	}
	hj.bucket = calloc(HJ_BUCKETS, sizeof(*hj.bucket));
	if (hj.bucket == NULL || (cfg->hijack.state_file != NULL &&
	    hj_state_paths(cfg->hijack.state_file) < 0)) {
		snprintf(err, cap, "hijack: out of memory");
		table_free();
		return -1;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hj.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (hj.path != NULL && hj_state_load(err, cap) < 0) {
		pthread_cond_destroy(&hj.cond);
		table_free();
		return -1;
	}
	/* written once now: a state file that cannot be written is found
	 * at start, not at the first disabled identity */
	if (hj.path != NULL && hj_persist(why, sizeof(why), &size) < 0) {
		snprintf(err, cap, "hijack.state_file: cannot write it: %s",
		    why);
		pthread_cond_destroy(&hj.cond);
		table_free();
		return -1;
	}
	if (pthread_create(&hj.thread, NULL, hj_writer_main, NULL) != 0) {
		snprintf(err, cap, "hijack: cannot start the state writer");
		pthread_cond_destroy(&hj.cond);
		table_free();
		return -1;
	}
	hj.thread_on = 1;
	hj.on = 1;
	if (hj.path == NULL)
		log_msg(CFG_LOG_INFO, "hijack", "hijack detection on: %d "
		    "%s in %d s; no hijack.state_file: kept in memory "
		    "only", cfg->hijack.max_messages, hj.recipients ?
		    "recipients" : "messages", cfg->hijack.window);
	return 0;
}

void
hijack_stop(void)
{
	if (!hj.on)
		return;
	if (hj.redis) {
		hj.on = hj.redis = 0;
		return;
	}
	pthread_mutex_lock(&hj.lock);
	hj.stopping = 1;
	pthread_cond_signal(&hj.cond);
	pthread_mutex_unlock(&hj.lock);
	if (hj.thread_on)
		pthread_join(hj.thread, NULL);	/* it wrote everything */
	hj.thread_on = 0;
	hj.on = 0;
	pthread_cond_destroy(&hj.cond);
	table_free();
}
