/*
 * proxy/hijack_state.c - hijack.state_file: read at start, written by a
 * thread of its own (never by a worker, never under the table lock): a
 * newly disabled or re-enabled identity at once, changed counters at
 * most about once a second, everything at stop. Input: the file, which
 * an administrator may have edited while mxshield was stopped; a line
 * that does not parse (core/hijack.c hjline_parse) refuses the start
 * with file:line. hijack_state_each() is its one reader: the start,
 * --check-config (proxy/check.c) and the offline --test
 * (proxy/dryrun.c) all go through it.
 *
 * The format (text; IDs in xtext, RFC 3461 4, so that spaces and line
 * ends cannot break a line; blank lines and "#" comments allowed):
 *   disabled UNIX-TIME ID
 *   count ID UNIX-TIME UNIX-TIME ...
 * A count line holds one time per message counted, or per recipient
 * with hijack.count = "recipients" (the same format either way: a file
 * written under one setting loads under the other). It is written to
 * FILE.tmp, fsync'ed, renamed over FILE, and the directory fsync'ed,
 * so a crash leaves the old file or the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/hijack.h"
#include "core/xtext.h"
#include "proxy/hijack.h"
#include "proxy/hijack_int.h"
#include "proxy/log.h"

/* ------------------------------------------------------------ text */

void
hj_sb_put(struct sbuf *b, const char *p, size_t n)
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

void
hj_sb_str(struct sbuf *b, const char *s)
{
	hj_sb_put(b, s, strlen(s));
}

static void
sb_int(struct sbuf *b, const char *pre, int64_t v)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%s%lld", pre, (long long)v);

	hj_sb_put(b, num, (size_t)n);
}

void
hj_sb_id(struct sbuf *b, const struct hj_entry *e)
{
	char x[HJ_XID_MAX];

	hj_sb_put(b, x, xtext_encode(e->id, e->len, x, sizeof(x)));
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
		hj_sb_str(text, "# mxshield hijack state (hijack.state_file), "
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
				hj_sb_str(text, " ");
				hj_sb_id(text, e);
				hj_sb_str(text, "\n");
				continue;
			}
			if (hjwin_expire(&e->w, now, hj.window) == 0 &&
			    e->last <= now - hj.window) {
				hj_entry_free(e);
				continue;
			}
			hj_ring_shrink(e);
			if (text == NULL || e->w.n == 0)
				continue;
			hj_sb_str(text, "count ");
			hj_sb_id(text, e);
			for (uint32_t k = 0; k < e->w.n; k++)
				sb_int(text, " ", hjwin_at(&e->w, k));
			hj_sb_str(text, "\n");
		}
	}
	return text != NULL && text->oom ? -1 : 0;
}

/* ------------------------------------------------------------ writing */

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
	if (strcmp(what, "rename") == 0)
		snprintf(err, cap, "%s: rename from %s: %s", hj.path, hj.tmp,
		    strerror(errno));
	else
		snprintf(err, cap, "%s: %s: %s", hj.tmp, what,
		    strerror(errno));
	if (strcmp(what, "open") != 0)
		(void)unlink(hj.tmp);
	return -1;
}

/* One write of the state file (or a tidy-up without one), from the
 * writer thread or at start/stop; takes and drops the lock itself.
 * *size: the bytes of text made (0 when memory only). */
int
hj_persist(char *err, size_t cap, size_t *size)
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
	*size = b.len;
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

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * hj_writer_main - the writer thread: wakes every second, or at once
 * when an identity was disabled or re-enabled (hj.urgent) or at stop.
 * Changed counters alone wait at least a second after the last write,
 * and a millisecond more per kilobyte it wrote (at most 30 s): a big
 * table is not rewritten every second, and the disk is spared.
 */
void *
hj_writer_main(void *arg)
{
	struct timespec until;
	char err[sizeof(hj.last_err)];
	uint64_t last = 0, gap = 1000;
	size_t size = 0;
	int stop, due, rc;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&hj.lock);
		if (!hj.stopping && !hj.urgent) {
			clock_gettime(CLOCK_MONOTONIC, &until);
			until.tv_sec += 1;
			(void)pthread_cond_timedwait(&hj.cond, &hj.lock, &until);
		}
		stop = hj.stopping;
		due = stop || hj.urgent || (hj.dirty && mono_ms() - last >= gap);
		pthread_mutex_unlock(&hj.lock);
		if (due) {
			last = mono_ms();
			rc = hj_persist(err, sizeof(err), &size);
			gap = 1000 + size / 1024;
			if (gap > 30000)
				gap = 30000;
			if (rc < 0) {
				if (strcmp(err, hj.last_err) != 0)
					log_msg(CFG_LOG_ERROR, "hijack",
					    "cannot write the state file "
					    "(retrying every second): %s", err);
				snprintf(hj.last_err, sizeof(hj.last_err), "%s",
				    err);
				gap = 1000;
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

/* Append v to the growing array *t (*n held, *cap room). */
static int
push_time(int64_t **t, size_t *n, size_t *cap, int64_t v)
{
	int64_t *nt;

	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		nt = realloc(*t, *cap * sizeof(*nt));
		if (nt == NULL)
			return -1;
		*t = nt;
	}
	(*t)[(*n)++] = v;
	return 0;
}

/*
 * hijack_state_each - the one reader of the state file: see
 * proxy/hijack.h.
 */
int
hijack_state_each(const char *path, hijack_line_fn *fn, void *arg,
    char *err, size_t cap)
{
	FILE *f;
	char id[HIJACK_ID_MAX], *line = NULL;
	const char *why, *cur;
	size_t lcap = 0, lineno = 0;
	struct hjline l;
	ssize_t n;
	int64_t v;
	int rc = HJS_READ, r, e;

	if ((f = fopen(path, "re")) == NULL) {
		if ((e = errno) == ENOENT)
			return HJS_NOFILE;
		snprintf(err, cap, "%s: hijack.state_file: %s", path,
		    strerror(e));
		errno = e;
		return HJS_EOPEN;
	}
	while ((n = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		why = NULL;
		r = 0;
		if (strlen(line) != (size_t)n)
			why = "a NUL byte in the line";
		else if (hjline_parse(line, id, sizeof(id), &l) == HJLINE_ERROR)
			why = l.error;
		else if (l.kind == HJLINE_SKIP)
			continue;
		if (why == NULL && l.kind == HJLINE_COUNT) {
			cur = l.times;
			while ((r = hjline_time(&cur, &v)) > 0)
				;
			if (r < 0)
				why = "count: expected times in seconds since "
				    "1970 after the identity";
		}
		if (why == NULL && fn != NULL)
			r = fn(arg, id, &l, &why);
		if (why != NULL) {
			snprintf(err, cap, "%s:%zu: hijack.state_file: %s "
			    "(fix or delete the line, then start mxshield)",
			    path, lineno, why);
			rc = HJS_ERROR;
			break;
		}
		if (r > 0) {
			rc = HJS_STOPPED;
			break;
		}
	}
	if (rc == HJS_READ && ferror(f)) {
		snprintf(err, cap, "%s: hijack.state_file: read error", path);
		rc = HJS_ERROR;
	}
	free(line);
	fclose(f);
	return rc;
}

struct load {
	int64_t	now;
	int	dropped;	/* over HIJACK_MAX_IDS */
	int	exempted;	/* disabled lines of exempt identities */
};

/* One line of the state file into the table (locked): a hijack_line_fn.
 * A disabled line of an identity now in hijack.exempt is left out
 * (counted) and goes at the next write. */
static int
load_line(void *arg, const char *id, struct hjline *l, const char **why)
{
	struct load *ld = arg;
	struct hj_entry *e;
	int64_t v, *t = NULL;
	size_t nt = 0, ct = 0, live = 0;
	uint32_t h;

	h = hj_hash(id, l->idlen);
	e = hj_find(id, l->idlen, h);
	if (l->kind == HJLINE_DISABLED && hj_is_exempt(id, l->idlen)) {
		ld->exempted++;
		return 0;
	}
	if (l->kind == HJLINE_DISABLED) {
		if (e == NULL && (e = hj_entry_new(id, l->idlen, h, 1)) == NULL)
			goto oom;
		hj_disable(e, l->when, 0);
		return 0;
	}
	while (hjline_time(&l->times, &v) > 0) {
		if (push_time(&t, &nt, &ct, v) < 0)
			goto oom;
		live += v > ld->now - hj.window;
	}
	if (e != NULL && e->disabled)
		goto out;
	/* the same identity twice (in another case): merge */
	for (uint32_t k = 0; e != NULL && k < e->w.n; k++) {
		if (push_time(&t, &nt, &ct, hjwin_at(&e->w, k)) < 0)
			goto oom;
	}
	if (e == NULL && live == 0)
		goto out;
	if (e == NULL && (e = hj_entry_new(id, l->idlen, h, 0)) == NULL) {
		ld->dropped++;
		goto out;
	}
	if (load_times(e, t, nt, ld->now) < 0)
		goto oom;
out:
	free(t);
	return 0;
oom:
	free(t);
	*why = "out of memory";
	return -1;
}

/*
 * state_load - read hijack.state_file into the table. A missing file is
 * an empty table. -1 with "FILE:LINE: what" (or "FILE: reason") in err.
 */
int
hj_state_load(char *err, size_t cap)
{
	struct load ld = { (int64_t)time(NULL), 0, 0 };
	size_t disabled = 0;
	int rc;

	pthread_mutex_lock(&hj.lock);
	rc = hijack_state_each(hj.path, load_line, &ld, err, cap);
	for (size_t i = 0; i < HJ_BUCKETS; i++)
		for (struct hj_entry *e = hj.bucket[i]; e; e = e->hnext)
			disabled += e->disabled;
	hj.urgent = hj.dirty = 0;
	pthread_mutex_unlock(&hj.lock);
	if (rc == HJS_NOFILE)
		return 0;
	if (rc < 0)
		return -1;
	log_msg(CFG_LOG_INFO, "hijack", "state file %s: %zu disabled, "
	    "%zu counted identities", hj.path, disabled, hj.n - disabled);
	if (ld.dropped > 0)
		log_msg(CFG_LOG_WARN, "hijack", "state file %s: %d counted "
		    "identities over the limit of %d were dropped", hj.path,
		    ld.dropped, HIJACK_MAX_IDS);
	if (ld.exempted > 0)
		log_msg(CFG_LOG_WARN, "hijack", "state file %s: %d disabled "
		    "identities are in hijack.exempt: they stay enabled",
		    hj.path, ld.exempted);
	return 0;
}

int
hj_state_paths(const char *state_file)
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
