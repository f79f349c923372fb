/*
 * proxy/hijack.c - the table of hijack detection every worker shares
 * (proxy/hijack.h): identity -> sliding window (core/hijack.h) and
 * disabled flag, one mutex, a bounded hash table with an LRU list of
 * the identities that can be evicted, and the state file with the
 * thread that writes it. Input: identities the backend accepted (bound
 * at 235) and lines from hijack.state_file, which is parsed strictly
 * (a line that does not parse refuses the start with file:line).
 *
 * Locking: every field of hj below hj.lock is under it. No file I/O
 * and no log line is done under it: the writer thread formats a
 * snapshot under the lock and writes it outside; workers log after
 * unlocking.
 *
 * The state file (text, one line per identity; IDs in xtext, RFC 3461
 * 4, so that spaces and line ends cannot break a line):
 *   disabled UNIX-TIME ID
 *   count ID UNIX-TIME UNIX-TIME ...
 * plus blank lines and "#" comments. It is written to FILE.tmp,
 * fsync'ed, renamed over FILE, and the directory fsync'ed.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/hijack.h"
#include "core/xtext.h"
#include "proxy/hijack.h"
#include "proxy/log.h"

#define HJ_BUCKETS	(1u << 17)	/* power of two, > HIJACK_MAX_IDS */
#define HJ_XID_MAX	(3 * HIJACK_ID_MAX + 1)	/* an ID as xtext, NUL */

struct hj_entry {
	struct hj_entry	*hnext;		/* bucket chain */
	struct hj_entry	*prev, *next;	/* LRU of entries not disabled,
					   most recently active first */
	struct hjwin	 w;		/* w.t owned */
	int64_t		 last;		/* last MAIL or accepted message */
	int64_t		 disabled_at;
	uint32_t	 hash;
	unsigned	 disabled:1;
	unsigned	 monitor:1;	/* disabled in monitor mode: not saved */
	size_t		 len;
	char		 id[];		/* len octets and a NUL, as first seen */
};

/* A growing text buffer for snapshots and listings. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

static struct {
	int		 on;		/* hijack.enabled; set before workers */
	int		 monitor;
	uint32_t	 max;
	int64_t		 window;
	char		*path;		/* owned; NULL: memory only */
	char		*tmp;		/* owned: path ".tmp" */
	char		*dir;		/* owned: path's directory */

	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* wakes the writer */
	struct hj_entry	**bucket;	/* HJ_BUCKETS chains */
	size_t		 n;		/* entries */
	struct hj_entry	*lru_head, *lru_tail;
	int		 dirty;		/* counters changed: write within 1 s */
	int		 urgent;	/* disabled list changed: write now */
	int		 stopping;
	int		 full_warned;

	pthread_t	 thread;
	int		 thread_on;
	char		 last_err[300];	/* writer thread only */
} hj = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* ------------------------------------------------------------ the table */

static int
fold(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static uint32_t
id_hash(const char *p, size_t len)
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

/* Compared length of a session's identity (see HIJACK_ID_MAX). */
static size_t
id_len(const char *identity)
{
	return strnlen(identity, HIJACK_ID_MAX);
}

static struct hj_entry *
find(const char *p, size_t len, uint32_t h)
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

/* Unlink e from its bucket and the LRU, and free it. */
static void
entry_free(struct hj_entry *e)
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
 * entry_new - add an identity that find() did not know. When the table
 * is full the least recently active entry that is not disabled goes;
 * force (a disabled line of the state file) goes past the cap instead.
 * NULL when memory is short or nothing can be evicted.
 */
static struct hj_entry *
entry_new(const char *p, size_t len, uint32_t h, int force)
{
	struct hj_entry *e, **head;

	if (hj.n >= HIJACK_MAX_IDS && !force) {
		if (hj.lru_tail == NULL)
			return NULL;
		entry_free(hj.lru_tail);
	}
	e = calloc(1, sizeof(*e) + len + 1);
	if (e == NULL)
		return NULL;
	memcpy(e->id, p, len);
	e->id[len] = '\0';
	e->len = len;
	e->hash = h;
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

/* Give memory back from a ring that holds far fewer times than it has
 * room for (after expiry). */
static void
ring_shrink(struct hj_entry *e)
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

static void
disable(struct hj_entry *e, int64_t now, int monitor)
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

/* The "hijack" log line of a newly disabled identity. */
static void
log_disabled(const char *id, size_t len, uint32_t count, uint64_t sid,
    const char *client)
{
	struct logline l;
	char why[256];

	if (!log_enabled(CFG_LOG_WARN))
		return;
	snprintf(why, sizeof(why), "%u messages accepted in the last %lld s "
	    "reached hijack.max_messages %u: %s", count, (long long)hj.window,
	    hj.max, hj.monitor ? "would be disabled (monitor mode)" :
	    "MAIL gets 550 5.7.1 and AUTH 535 5.7.8 until mxshield --unblock");
	log_begin(&l, "hijack");
	log_cstr(&l, "level", "warn");
	log_cstr(&l, "action", hj.monitor ? "would_disable" : "disabled");
	log_str(&l, "identity", id, len);
	log_int(&l, "messages", count);
	log_int(&l, "max_messages", hj.max);
	log_int(&l, "window", hj.window);
	log_hex64(&l, "sid", sid);
	log_cstr(&l, "client", client);
	log_cstr(&l, "mode", hj.monitor ? "monitor" : "enforce");
	log_cstr(&l, "reason", why);
	log_end(&l);
}

enum hijack_rc
hijack_mail(const char *identity, time_t now, uint64_t sid,
    const char *client)
{
	struct hj_entry *e;
	enum hijack_rc rc = HIJACK_OK;
	char id[HIJACK_ID_MAX + 1];
	size_t len;
	uint32_t h, count = 0;

	if (!hj.on || identity == NULL)
		return HIJACK_OK;
	len = id_len(identity);
	h = id_hash(identity, len);
	pthread_mutex_lock(&hj.lock);
	e = find(identity, len, h);
	if (e != NULL && e->disabled) {
		rc = HIJACK_DISABLED;
	} else if (e != NULL) {
		if (hjwin_check(&e->w, (int64_t)now, hj.window, hj.max) ==
		    HJWIN_LIMIT) {
			count = e->w.n;
			memcpy(id, e->id, e->len + 1);
			disable(e, (int64_t)now, hj.monitor);
			rc = HIJACK_NOW_DISABLED;
		} else {
			e->last = (int64_t)now;
			lru_touch(e);
		}
	}
	pthread_mutex_unlock(&hj.lock);
	if (rc == HIJACK_NOW_DISABLED)
		log_disabled(id, len, count, sid, client);
	return rc;
}

void
hijack_accepted(const char *identity, time_t now)
{
	struct hj_entry *e;
	size_t len;
	uint32_t h;
	int warn = 0;

	if (!hj.on || identity == NULL)
		return;
	len = id_len(identity);
	h = id_hash(identity, len);
	pthread_mutex_lock(&hj.lock);
	e = find(identity, len, h);
	if (e == NULL) {
		e = entry_new(identity, len, h, 0);
		if (e == NULL && !hj.full_warned)
			warn = hj.full_warned = 1;
	}
	if (e != NULL && !e->disabled) {
		hjwin_expire(&e->w, (int64_t)now, hj.window);
		ring_grow(e);
		hjwin_add(&e->w, (int64_t)now);
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

	if (!hj.on || identity == NULL)
		return 0;
	len = id_len(identity);
	pthread_mutex_lock(&hj.lock);
	e = find(identity, len, id_hash(identity, len));
	rc = e != NULL && e->disabled;
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
	pthread_mutex_lock(&hj.lock);
	e = find(identity, len, id_hash(identity, len));
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

/* ------------------------------------------------------------ text */

static void
sb_put(struct sbuf *b, const char *p, size_t n)
{
	char *np;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void
sb_int(struct sbuf *b, const char *pre, int64_t v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%s%lld", pre, (long long)v);

	sb_put(b, num, (size_t)n);
}

static void
sb_id(struct sbuf *b, const struct hj_entry *e)
{
	char x[HJ_XID_MAX];

	sb_put(b, x, xtext_encode(e->id, e->len, x, sizeof(x)));
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

char *
hijack_list(size_t *len)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	struct hj_entry **v = NULL, *e;
	size_t nv = 0;
	char ts[40];
	struct tm tm;
	time_t t;

	sb_put(&b, "", 0);
	if (hj.on) {
		pthread_mutex_lock(&hj.lock);
		v = calloc(hj.n ? hj.n : 1, sizeof(*v));
		for (size_t i = 0; v != NULL && i < HJ_BUCKETS; i++)
			for (e = hj.bucket[i]; e != NULL; e = e->hnext)
				if (e->disabled)
					v[nv++] = e;
		if (v == NULL)
			b.oom = 1;
		if (nv > 1)
			qsort(v, nv, sizeof(*v), by_time);
		for (size_t i = 0; i < nv; i++) {
			t = (time_t)v[i]->disabled_at;
			if (gmtime_r(&t, &tm) == NULL ||
			    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ",
			    &tm) == 0)
				snprintf(ts, sizeof(ts), "@%lld",
				    (long long)v[i]->disabled_at);
			sb_id(&b, v[i]);
			sb_str(&b, " ");
			sb_str(&b, ts);
			if (v[i]->monitor)
				sb_str(&b, " monitor");
			sb_str(&b, "\n");
		}
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

/*
 * snapshot - the state file's text, under the lock. On the way it
 * expires every window, frees the entries with nothing left to say and
 * shrinks rings, so the table holds only what is active. Returns 0, or
 * -1 when memory is short (nothing to write this time). With text NULL
 * (memory only) it only tidies.
 */
static int
snapshot(struct sbuf *text, int64_t now)
{
	struct hj_entry *e, *next;

	if (text != NULL)
		sb_str(text, "# mxshield hijack state (hijack.state_file), "
		    "written by the running mxshield.\n"
		    "# While it runs: mxshield --list-disabled -c CONF, "
		    "mxshield --unblock ID -c CONF.\n"
		    "# While it is stopped: delete a \"disabled\" line to "
		    "re-enable that identity.\n"
		    "# disabled UNIX-TIME ID | count ID UNIX-TIME...; "
		    "ID in xtext (RFC 3461): \"+20\" is a space.\n");
	for (size_t i = 0; i < HJ_BUCKETS; i++) {
		for (e = hj.bucket[i]; e != NULL; e = next) {
			next = e->hnext;
			if (e->disabled) {
				if (text == NULL || e->monitor)
					continue;
				sb_int(text, "disabled ", e->disabled_at);
				sb_str(text, " ");
				sb_id(text, e);
				sb_str(text, "\n");
				continue;
			}
			if (hjwin_expire(&e->w, now, hj.window) == 0 &&
			    e->last <= now - hj.window) {
				entry_free(e);
				continue;
			}
			ring_shrink(e);
			if (text == NULL || e->w.n == 0)
				continue;
			sb_str(text, "count ");
			sb_id(text, e);
			for (uint32_t k = 0; k < e->w.n; k++)
				sb_int(text, " ", hjwin_at(&e->w, k));
			sb_str(text, "\n");
		}
	}
	return text != NULL && text->oom ? -1 : 0;
}

/* ------------------------------------------------------------ the file */

/*
 * state_write - buf as the new state file: FILE.tmp written, fsync'ed,
 * renamed over FILE, the directory fsync'ed. 0, or -1 with the reason
 * in err. Never called with the table lock held.
 */
static int
state_write(const char *buf, size_t len, char *err, size_t cap)
{
	const char *what = "open";
	size_t off = 0;
	ssize_t w;
	int fd, dfd;

	fd = open(hj.tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd < 0)
		goto fail;
	what = "write";
	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail_fd;
		}
		off += (size_t)w;
	}
	what = "fsync";
	if (fsync(fd) < 0)
		goto fail_fd;
	what = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename";
	if (rename(hj.tmp, hj.path) < 0)
		goto fail;
	dfd = open(hj.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
fail_fd:
	{
		int e = errno;

		close(fd);
		errno = e;
	}
fail:
	snprintf(err, cap, "%s: %s %s: %s", strcmp(what, "rename") == 0 ?
	    hj.path : hj.tmp, what, strcmp(what, "rename") == 0 ? hj.tmp :
	    "", strerror(errno));
	if (strcmp(what, "open") != 0)
		(void)unlink(hj.tmp);
	return -1;
}

/* One write of the state file (or a tidy-up without one), from the
 * writer thread or at start/stop; takes and drops the lock itself. */
static int
persist(char *err, size_t cap)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	int64_t now = (int64_t)time(NULL);
	int rc;

	pthread_mutex_lock(&hj.lock);
	hj.dirty = hj.urgent = 0;
	rc = snapshot(hj.path != NULL ? &b : NULL, now);
	if (rc < 0)
		hj.dirty = 1;
	pthread_mutex_unlock(&hj.lock);
	if (rc < 0) {
		snprintf(err, cap, "%s: out of memory", hj.path);
	} else if (hj.path != NULL) {
		rc = state_write(b.p, b.len, err, cap);
		if (rc < 0) {
			/* try again within a second */
			pthread_mutex_lock(&hj.lock);
			hj.dirty = 1;
			pthread_mutex_unlock(&hj.lock);
		}
	}
	free(b.p);
	return rc;
}

static void *
writer_main(void *arg)
{
	struct timespec until;
	char err[sizeof(hj.last_err)];
	int stop, due;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&hj.lock);
		if (!hj.stopping && !hj.urgent) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += 1;
			(void)pthread_cond_timedwait(&hj.cond, &hj.lock, &until);
		}
		stop = hj.stopping;
		due = hj.urgent || hj.dirty || stop;
		pthread_mutex_unlock(&hj.lock);
		if (due) {
			if (persist(err, sizeof(err)) < 0) {
				if (strcmp(err, hj.last_err) != 0)
					log_msg(CFG_LOG_ERROR, "hijack",
					    "cannot write the state file "
					    "(retrying every second): %s", err);
				snprintf(hj.last_err, sizeof(hj.last_err), "%s",
				    err);
			} else if (hj.last_err[0] != '\0') {
				log_msg(CFG_LOG_INFO, "hijack", "state file %s "
				    "written again", hj.path);
				hj.last_err[0] = '\0';
			}
		}
		if (stop)
			break;
	}
	return NULL;
}

/* ------------------------------------------------------------ loading */

static int
by_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* A decimal time: digits only, at most 18 of them. */
static int
parse_time(const char *p, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* The next field of a line: spaces and tabs separate. */
static int
field(const char **pp, const char **f, size_t *n)
{
	const char *p = *pp;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	*f = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	*n = (size_t)(p - *f);
	*pp = p;
	return 1;
}

/*
 * load_times - the count line's times (and any the entry held from an
 * earlier line) into e's window: sorted, expired ones dropped, the
 * newest max kept. -1 when memory is short.
 */
static int
load_times(struct hj_entry *e, int64_t *t, size_t n, int64_t now)
{
	size_t first = 0, keep;
	uint32_t cap;
	int64_t *ring;

	qsort(t, n, sizeof(*t), by_int64);
	while (first < n && t[first] <= now - hj.window)
		first++;
	keep = n - first;
	if (keep > hj.max) {
		first += keep - hj.max;
		keep = hj.max;
	}
	free(e->w.t);
	hjwin_init(&e->w, NULL, 0);
	if (keep == 0)
		return 0;
	cap = (uint32_t)(keep < 4 ? 4 : keep);
	if (cap > hj.max)
		cap = hj.max;
	ring = malloc((size_t)cap * sizeof(*ring));
	if (ring == NULL)
		return -1;
	hjwin_init(&e->w, ring, cap);
	for (size_t i = first; i < n; i++)
		hjwin_add(&e->w, t[i]);
	e->last = t[n - 1];
	return 0;
}

/* One line of the state file; NULL, or what is wrong with it. */
static const char *
load_line(const char *line, int64_t now, int *dropped)
{
	const char *p = line, *kw, *f, *xid;
	size_t kwn, n, xn, idn, nt = 0, ct = 0;
	char id[HIJACK_ID_MAX];
	int64_t v = 0, *t = NULL, *nt_;
	struct hj_entry *e;
	uint32_t h;
	int disabled;
	const char *why = NULL;

	if (!field(&p, &kw, &kwn) || *kw == '#')
		return NULL;
	if (kwn == 8 && memcmp(kw, "disabled", 8) == 0)
		disabled = 1;
	else if (kwn == 5 && memcmp(kw, "count", 5) == 0)
		disabled = 0;
	else
		return "not \"disabled UNIX-TIME ID\" nor \"count ID "
		    "UNIX-TIME...\"";
	if (disabled) {
		if (!field(&p, &f, &n) || parse_time(f, n, &v) < 0)
			return "disabled: expected a time in seconds since "
			    "1970 after \"disabled\"";
	}
	if (!field(&p, &xid, &xn))
		return "missing the identity";
	if (xtext_decode(xid, xn, id, sizeof(id), &idn) != 0 || idn == 0)
		return "the identity is not xtext (RFC 3461: \"+20\" for a "
		    "space, \"+2B\" for \"+\") or longer than 512 octets";
	if (disabled && field(&p, &f, &n))
		return "disabled: unexpected text after the identity";
	/* the times of a count line */
	while (!disabled && field(&p, &f, &n)) {
		if (parse_time(f, n, &v) < 0) {
			why = "count: expected times in seconds since 1970 "
			    "after the identity";
			goto out;
		}
		if (nt == ct) {
			ct = ct ? ct * 2 : 16;
			nt_ = realloc(t, ct * sizeof(*t));
			if (nt_ == NULL) {
				why = "out of memory";
				goto out;
			}
			t = nt_;
		}
		t[nt++] = v;
	}
	h = id_hash(id, idn);
	e = find(id, idn, h);
	if (disabled) {
		if (e == NULL)
			e = entry_new(id, idn, h, 1);
		if (e == NULL)
			return "out of memory";
		disable(e, v, 0);
		goto out;
	}
	if (e != NULL && e->disabled)
		goto out;
	if (e != NULL) {
		/* the same identity again: merge */
		for (uint32_t k = 0; k < e->w.n; k++) {
			if (nt == ct) {
				ct = ct ? ct * 2 : 16;
				nt_ = realloc(t, ct * sizeof(*t));
				if (nt_ == NULL) {
					why = "out of memory";
					goto out;
				}
				t = nt_;
			}
			t[nt++] = hjwin_at(&e->w, k);
		}
	}
	if (e == NULL) {
		size_t live = 0;

		for (size_t i = 0; i < nt; i++)
			live += t[i] > now - hj.window;
		if (live == 0)
			goto out;
		e = entry_new(id, idn, h, 0);
		if (e == NULL) {
			(*dropped)++;
			goto out;
		}
	}
	if (load_times(e, t, nt, now) < 0)
		why = "out of memory";
out:
	free(t);
	return why;
}

/*
 * state_load - read hijack.state_file into the table. A missing file is
 * an empty table. -1 with "FILE:LINE: what" (or "FILE: reason") in err.
 */
static int
state_load(char *err, size_t cap)
{
	FILE *f;
	char *line = NULL;
	size_t lcap = 0, lineno = 0, disabled = 0;
	ssize_t n;
	int64_t now = (int64_t)time(NULL);
	const char *why;
	int rc = 0, dropped = 0;

	f = fopen(hj.path, "re");
	if (f == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, cap, "%s: hijack.state_file: %s", hj.path,
		    strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&hj.lock);
	while ((n = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (strlen(line) != (size_t)n) {
			why = "a NUL byte in the line";
		} else {
			why = load_line(line, now, &dropped);
		}
		if (why != NULL) {
			snprintf(err, cap, "%s:%zu: hijack.state_file: %s "
			    "(fix or remove the line; mxshield is not running "
			    "with it)", hj.path, lineno, why);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, cap, "%s: hijack.state_file: read error",
		    hj.path);
		rc = -1;
	}
	for (size_t i = 0; i < HJ_BUCKETS; i++)
		for (struct hj_entry *e = hj.bucket[i]; e; e = e->hnext)
			disabled += e->disabled;
	hj.urgent = hj.dirty = 0;
	pthread_mutex_unlock(&hj.lock);
	free(line);
	fclose(f);
	if (rc == 0) {
		log_msg(CFG_LOG_INFO, "hijack", "state file %s: %zu disabled, "
		    "%zu counted identities", hj.path, disabled,
		    hj.n - disabled);
		if (dropped > 0)
			log_msg(CFG_LOG_WARN, "hijack", "state file %s: %d "
			    "counted identities over the limit of %d were "
			    "dropped", hj.path, dropped, HIJACK_MAX_IDS);
	}
	return rc;
}

/* ------------------------------------------------------------ start, stop */

static void
table_free(void)
{
	for (size_t i = 0; hj.bucket != NULL && i < HJ_BUCKETS; i++) {
		while (hj.bucket[i] != NULL)
			entry_free(hj.bucket[i]);
	}
	free(hj.bucket);
	hj.bucket = NULL;
	free(hj.path);
	free(hj.tmp);
	free(hj.dir);
	hj.path = hj.tmp = hj.dir = NULL;
	hj.lru_head = hj.lru_tail = NULL;
	hj.n = 0;
}

static int
paths(const char *state_file)
{
	const char *slash = strrchr(state_file, '/');
	size_t n = strlen(state_file);

	hj.path = strdup(state_file);
	hj.tmp = malloc(n + 5);
	if (slash == NULL)
		hj.dir = strdup(".");
	else if (slash == state_file)
		hj.dir = strdup("/");
	else
		hj.dir = strndup(state_file, (size_t)(slash - state_file));
	if (hj.path == NULL || hj.tmp == NULL || hj.dir == NULL)
		return -1;
	memcpy(hj.tmp, state_file, n);
	memcpy(hj.tmp + n, ".tmp", 5);
	return 0;
}

int
hijack_start(const struct config *cfg, char *err, size_t cap)
{
	pthread_condattr_t ca;

	if (!cfg->hijack.enabled)
		return 0;
	hj.monitor = cfg->mode == CFG_MODE_MONITOR;
	hj.max = (uint32_t)cfg->hijack.max_messages;
	hj.window = cfg->hijack.window;
	hj.stopping = hj.dirty = hj.urgent = hj.full_warned = 0;
	hj.last_err[0] = '\0';
	hj.bucket = calloc(HJ_BUCKETS, sizeof(*hj.bucket));
	if (hj.bucket == NULL || (cfg->hijack.state_file != NULL &&
	    paths(cfg->hijack.state_file) < 0)) {
		snprintf(err, cap, "hijack: out of memory");
		table_free();
		return -1;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&hj.cond, &ca);
	pthread_condattr_destroy(&ca);
	if (hj.path != NULL && (state_load(err, cap) < 0 ||
	    persist(err, cap) < 0)) {
		pthread_cond_destroy(&hj.cond);
		table_free();
		return -1;
	}
	if (pthread_create(&hj.thread, NULL, writer_main, NULL) != 0) {
		snprintf(err, cap, "hijack: cannot start the state writer");
		pthread_cond_destroy(&hj.cond);
		table_free();
		return -1;
	}
	hj.thread_on = 1;
	hj.on = 1;
	if (hj.path == NULL)
		log_msg(CFG_LOG_INFO, "hijack", "hijack detection on: %d "
		    "messages in %d s; no hijack.state_file: kept in memory "
		    "only", cfg->hijack.max_messages, cfg->hijack.window);
	return 0;
}

void
hijack_stop(void)
{
	if (!hj.on)
		return;
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
