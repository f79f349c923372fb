/*
 * proxy/hjredis_ctl.c - the control socket's side of hijack.store =
 * "redis" (proxy/hjredis.h): the disabled identities, the counters and
 * an unblock, read from and written to Redis by the control thread
 * over a synchronous hiredis connection of its own, opened for each
 * request (they are rare) and bounded by hijack.redis.timeout_ms per
 * command. Input: Redis replies, checked for their shape; a value that
 * does not parse is shown as it is, never trusted as a number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "core/xtext.h"
#include "proxy/hijack.h"
#include "proxy/hijack_int.h"
#include "proxy/hjredis.h"
#include "proxy/hjredis_int.h"

#define SCAN_MAX	HIJACK_MAX_IDS	/* window keys read for a listing */

/* Connect, AUTH, SELECT. NULL with why. */
static redisContext *
sync_open(char *why, size_t cap)
{
	const struct config *cfg = hjr_set.cfg;
	int ms = cfg->hijack.redis.timeout_ms;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
	redisContext *c;
	redisReply *r;

	c = redisConnectWithTimeout(cfg->hijack.redis.address,
	    cfg->hijack.redis.port, tv);
	if (c == NULL || c->err) {
		snprintf(why, cap, "Redis %s:%d unreachable: %s",
		    cfg->hijack.redis.address, cfg->hijack.redis.port,
		    c != NULL ? c->errstr : "out of memory");
		if (c != NULL)
			redisFree(c);
		return NULL;
	}
	redisSetTimeout(c, tv);
	if (cfg->hijack.redis.password != NULL) {
		r = redisCommand(c, "AUTH %s", cfg->hijack.redis.password);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, cap, "Redis refused AUTH: %.100s",
			    r != NULL ? r->str : c->errstr);
			freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	if (cfg->hijack.redis.db != 0) {
		r = redisCommand(c, "SELECT %d", cfg->hijack.redis.db);
		if (r == NULL || r->type == REDIS_REPLY_ERROR) {
			snprintf(why, cap, "Redis refused SELECT %d: %.100s",
			    cfg->hijack.redis.db, r != NULL ? r->str :
			    c->errstr);
			freeReplyObject(r);
			redisFree(c);
			return NULL;
		}
		freeReplyObject(r);
	}
	return c;
}

/* A failed command: why, and NULL. */
static redisReply *
command_ok(redisContext *c, redisReply *r, const char *what, char *why,
    size_t cap)
{
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		snprintf(why, cap, "Redis %s failed: %.100s", what,
		    r != NULL ? r->str : c->errstr);
		freeReplyObject(r);
		return NULL;
	}
	return r;
}

static void
put_id(struct sbuf *b, const char *id, size_t len)
{
	char x[HJ_XID_MAX];

	if (len > HIJACK_ID_MAX)
		len = HIJACK_ID_MAX;
	hj_sb_put(b, x, xtext_encode(id, len, x, sizeof(x)));
}

/* One disabled identity as the hash keeps it: "TIME MODE ID". */
struct dis {
	long long	 t;
	int		 monitor;
	const char	*field;		/* folded id, borrowed from the reply */
	size_t		 flen;
	const char	*id;		/* as first seen */
	size_t		 len;
};

static void
dis_parse(const redisReply *f, const redisReply *v, struct dis *d)
{
	const char *p = v->str, *sp1, *sp2;

	memset(d, 0, sizeof(*d));
	d->field = f->str;
	d->flen = f->len;
	d->id = f->str;
	d->len = f->len;
	if (v->type != REDIS_REPLY_STRING)
		return;
	sp1 = memchr(p, ' ', v->len);
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', v->len - (size_t)(sp1 + 1 -
	    p)) : NULL;
	if (sp2 == NULL)
		return;
	d->t = strtoll(p, NULL, 10);
	d->monitor = (size_t)(sp2 - sp1 - 1) == 7 &&
	    memcmp(sp1 + 1, "monitor", 7) == 0;
	d->id = sp2 + 1;
	d->len = v->len - (size_t)(sp2 + 1 - p);
}

static int
by_time(const void *a, const void *b)
{
	const struct dis *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	if ((c = memcmp(x->id, y->id, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The disabled hash, parsed and sorted by time; *nd entries. */
static redisReply *
read_disabled(redisContext *c, struct dis **out, size_t *nd, char *why,
    size_t cap)
{
	redisReply *r;
	struct dis *d;
	size_t n;

	r = command_ok(c, redisCommand(c, "HGETALL %sdisabled",
	    hjr_set.cfg->hijack.redis.prefix), "HGETALL", why, cap);
	if (r == NULL)
		return NULL;
	if (r->type != REDIS_REPLY_ARRAY || r->elements % 2 != 0) {
		snprintf(why, cap, "Redis HGETALL: unexpected reply");
		freeReplyObject(r);
		return NULL;
	}
	n = r->elements / 2;
	if ((d = calloc(n ? n : 1, sizeof(*d))) == NULL) {
		snprintf(why, cap, "out of memory");
		freeReplyObject(r);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		dis_parse(r->element[2 * i], r->element[2 * i + 1], &d[i]);
	qsort(d, n, sizeof(*d), by_time);
	*out = d;
	*nd = n;
	return r;
}

char *
hjr_list(size_t *len, char *why, size_t cap)
{
	struct sbuf b = { NULL, 0, 0, 0 };
	redisContext *c;
	redisReply *r;
	struct dis *d = NULL;
	size_t nd = 0;

	if ((c = sync_open(why, cap)) == NULL)
		return NULL;
	r = read_disabled(c, &d, &nd, why, cap);
	redisFree(c);
	if (r == NULL)
		return NULL;
	hj_sb_put(&b, "", 0);
	for (size_t i = 0; i < nd; i++) {
		char ts[40];
		struct tm tm;
		time_t t = (time_t)d[i].t;

		if (gmtime_r(&t, &tm) == NULL || strftime(ts, sizeof(ts),
		    "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
			snprintf(ts, sizeof(ts), "@%lld", d[i].t);
		put_id(&b, d[i].id, d[i].len);
		hj_sb_str(&b, " ");
		hj_sb_str(&b, ts);
		if (d[i].monitor)
			hj_sb_str(&b, " monitor");
		hj_sb_str(&b, "\n");
	}
	free(d);
	freeReplyObject(r);
	if (b.oom) {
		free(b.p);
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* One line of the counters listing. */
struct cnt {
	char		*id;		/* owned */
	size_t		 len;
	long long	 n;
	int		 disabled, monitor;
};

static int
by_count(const void *a, const void *b)
{
	const struct cnt *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	if ((c = memcmp(x->id, y->id, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The units in one window set after now - window. */
static long long
window_count(redisContext *c, const char *key, size_t klen, long long edge)
{
	redisReply *r;
	long long n = 0;
	char lo[32];

	snprintf(lo, sizeof(lo), "(%lld", edge);
	r = redisCommand(c, "ZRANGEBYSCORE %b %s +inf", key, klen, lo);
	if (r != NULL && r->type == REDIS_REPLY_ARRAY)
		for (size_t i = 0; i < r->elements; i++) {
			const char *m = r->element[i]->str, *colon;

			if (r->element[i]->type != REDIS_REPLY_STRING)
				continue;
			colon = strrchr(m, ':');
			n += hjr_set.recipients && colon != NULL ?
			    strtoll(colon + 1, NULL, 10) : 1;
		}
	freeReplyObject(r);
	return n;
}

char *
hjr_counters(size_t *len, char *why, size_t cap)
{
	const struct config *cfg = hjr_set.cfg;
	struct sbuf b = { NULL, 0, 0, 0 };
	struct cnt *v = NULL;
	size_t nv = 0, cv = 0, nd = 0, plen;
	redisContext *c;
	redisReply *r, *dr;
	struct dis *d = NULL;
	char cursor[32] = "0", pat[160];
	long long now;

	if ((c = sync_open(why, cap)) == NULL)
		return NULL;
	if ((dr = read_disabled(c, &d, &nd, why, cap)) == NULL) {
		redisFree(c);
		return NULL;
	}
	r = command_ok(c, redisCommand(c, "TIME"), "TIME", why, cap);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
		freeReplyObject(r);
		goto fail;
	}
	now = strtoll(r->element[0]->str, NULL, 10);
	freeReplyObject(r);
	plen = (size_t)snprintf(pat, sizeof(pat), "%sw:", cfg->hijack.redis.prefix);
	snprintf(pat + plen, sizeof(pat) - plen, "*");
	do {
		r = command_ok(c, redisCommand(c, "SCAN %s MATCH %s COUNT 1000",
		    cursor, pat), "SCAN", why, cap);
		if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
		    r->elements != 2) {
			freeReplyObject(r);
			goto fail;
		}
		snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
		for (size_t i = 0; i < r->element[1]->elements &&
		    nv < SCAN_MAX; i++) {
			const redisReply *k = r->element[1]->element[i];
			long long n;

			if (k->type != REDIS_REPLY_STRING || k->len <= plen)
				continue;
			n = window_count(c, k->str, k->len, now - cfg->hijack.window);
			if (n <= 0)
				continue;
			if (nv == cv) {
				struct cnt *nvp = realloc(v, (cv = cv ? 2 * cv :
				    64) * sizeof(*v));

				if (nvp == NULL)
					break;
				v = nvp;
			}
			v[nv].len = k->len - plen;
			v[nv].id = malloc(v[nv].len + 1);
			if (v[nv].id == NULL)
				break;
			memcpy(v[nv].id, k->str + plen, v[nv].len);
			v[nv].n = n;
			v[nv].disabled = v[nv].monitor = 0;
			nv++;
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0") != 0 && nv < SCAN_MAX);
	redisFree(c);
	c = NULL;
	/* the disabled ones, with 0 (their window went with them) */
	for (size_t i = 0; i < nd; i++) {
		if (nv == cv) {
			struct cnt *nvp = realloc(v, (cv = cv ? 2 * cv : 64) *
			    sizeof(*v));

			if (nvp == NULL)
				break;
			v = nvp;
		}
		if ((v[nv].id = malloc(d[i].len + 1)) == NULL)
			break;
		memcpy(v[nv].id, d[i].id, d[i].len);
		v[nv].len = d[i].len;
		v[nv].n = 0;
		v[nv].disabled = 1;
		v[nv].monitor = d[i].monitor;
		nv++;
	}
	if (nv > 1)
		qsort(v, nv, sizeof(*v), by_count);
	hj_sb_put(&b, "", 0);
	for (size_t i = 0; i < nv; i++) {
		char num[64];

		put_id(&b, v[i].id, v[i].len);
		snprintf(num, sizeof(num), " %lld %d", v[i].n,
		    cfg->hijack.max_messages);
		hj_sb_str(&b, num);
		if (v[i].disabled)
			hj_sb_str(&b, v[i].monitor ? " disabled monitor" :
			    " disabled");
		if (hj_is_exempt(v[i].id, v[i].len))
			hj_sb_str(&b, " exempt");
		hj_sb_str(&b, "\n");
	}
	for (size_t i = 0; i < nv; i++)
		free(v[i].id);
	free(v);
	free(d);
	freeReplyObject(dr);
	if (b.oom) {
		free(b.p);
		snprintf(why, cap, "out of memory");
		return NULL;
	}
	*len = b.len;
	return b.p;
fail:
	for (size_t i = 0; i < nv; i++)
		free(v[i].id);
	free(v);
	free(d);
	freeReplyObject(dr);
	if (c != NULL)
		redisFree(c);
	return NULL;
}

/* UNBLOCK: KEYS disabled hash, window set; ARGV folded id. 1 when it
 * was disabled. */
static const char script_unblock[] =
"local r = redis.call('HDEL', KEYS[1], ARGV[1])\n"
"if r == 1 then redis.call('DEL', KEYS[2]) end\n"
"return r\n";

int
hjr_unblock(const char *identity, size_t len, char *why, size_t cap)
{
	const struct config *cfg = hjr_set.cfg;
	char key[HIJACK_ID_MAX + 128], dis[160];
	size_t klen, foff;
	redisContext *c;
	redisReply *r;
	int rc;

	if ((c = sync_open(why, cap)) == NULL)
		return -1;
	klen = hjr_fold_key(identity, len, key, sizeof(key), &foff);
	snprintf(dis, sizeof(dis), "%sdisabled", cfg->hijack.redis.prefix);
	r = command_ok(c, redisCommand(c, "EVAL %s 2 %s %b %b", script_unblock,
	    dis, key, klen, key + foff, klen - foff), "EVAL", why, cap);
	redisFree(c);
	if (r == NULL)
		return -1;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
	freeReplyObject(r);
	return rc;
}
