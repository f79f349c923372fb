/*
 * core/dnscache.c - the cache of dnscache.h: a hash table of entries
 * (chained, sized once for max_entries) and a doubly linked list in
 * order of use, its tail evicted first. An entry holds its lower-case
 * name and a compact copy of the answer (only the records and data
 * bytes used), so a full cache costs about what it holds, not
 * max_entries full answers. Input: names and answers from the resolver
 * (the names from the caller, the answers parsed from the network by
 * core/dnsmsg.c: bounded). Owns every entry.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/dnscache.h"

struct entry {
	struct entry	*hnext;		/* hash chain */
	struct entry	*prev, *next;	/* use order: head newest */
	uint64_t	 expires;	/* ms */
	uint16_t	 type;
	char		*name;		/* lower case; in blob */
	struct dns_answer hdr;		/* status, rcode, ttl, counts only */
	struct dns_rr	*rr;		/* hdr.nrr; in blob */
	char		*data;		/* hdr.ndata; in blob */
	void		*blob;		/* owned */
};

struct dnscache {
	struct entry	**table;
	size_t		  nbuckets;	/* a power of two */
	struct entry	 *head, *tail;
	size_t		  n, max;
	uint32_t	  max_ttl, max_neg_ttl;
	struct dnscache_stats st;
};

static size_t
hash(const char *name, uint16_t type, size_t nbuckets)
{
	uint64_t h = 1469598103934665603ULL ^ type;

	for (const char *p = name; *p != '\0'; p++) {
		h ^= (unsigned char)tolower((unsigned char)*p);
		h *= 1099511628211ULL;
	}
	return (size_t)(h & (nbuckets - 1));
}

struct dnscache *
dnscache_new(size_t max_entries, uint32_t max_ttl, uint32_t max_neg_ttl)
{
	struct dnscache *c = calloc(1, sizeof(*c));
	size_t nb = 16;

	if (c == NULL || max_entries == 0) {
		free(c);
		return NULL;
	}
	while (nb < max_entries && nb < ((size_t)1 << 30))
		nb <<= 1;
	c->table = calloc(nb, sizeof(*c->table));
	if (c->table == NULL) {
		free(c);
		return NULL;
	}
	c->nbuckets = nb;
	c->max = max_entries;
	c->max_ttl = max_ttl;
	c->max_neg_ttl = max_neg_ttl;
	return c;
}

static void
unlink_use(struct dnscache *c, struct entry *e)
{
	if (e->prev != NULL)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next != NULL)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
push_head(struct dnscache *c, struct entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head != NULL)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

/* Unlink e from its chain and the use list and free it. */
static void
drop(struct dnscache *c, struct entry *e)
{
	struct entry **pp = &c->table[hash(e->name, e->type, c->nbuckets)];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	unlink_use(c, e);
	free(e->blob);
	e->blob = NULL;
	free(e);
	c->n--;
}

static struct entry *
find(struct dnscache *c, const char *name, uint16_t type)
{
	struct entry *e = c->table[hash(name, type, c->nbuckets)];

	for (; e != NULL; e = e->hnext)
		if (e->type == type && strcasecmp(e->name, name) == 0)
			return e;
	return NULL;
}

void
dnscache_free(struct dnscache *c)
{
	if (c == NULL)
		return;
	while (c->head != NULL)
		drop(c, c->head);
	free(c->table);
	c->table = NULL;
	free(c);
}

int
dnscache_get(struct dnscache *c, const char *name, uint16_t type,
    uint64_t now_ms, struct dns_answer *out)
{
	struct entry	*e = find(c, name, type);
	uint32_t	 left;

	if (e != NULL && e->expires <= now_ms) {
		drop(c, e);
		e = NULL;
	}
	if (e == NULL) {
		c->st.misses++;
		return 0;
	}
	c->st.hits++;
	unlink_use(c, e);
	push_head(c, e);
	left = (uint32_t)((e->expires - now_ms + 999) / 1000);
	memcpy(out, &e->hdr, offsetof(struct dns_answer, rr));
	out->ndata = e->hdr.ndata;
	out->ttl = left < e->hdr.ttl ? left : e->hdr.ttl;
	memcpy(out->rr, e->rr, e->hdr.nrr * sizeof(*e->rr));
	for (size_t i = 0; i < out->nrr; i++)
		if (out->rr[i].ttl > out->ttl)
			out->rr[i].ttl = out->ttl;
	memcpy(out->data, e->data, e->hdr.ndata);
	return 1;
}

int
dnscache_put(struct dnscache *c, const char *name, uint16_t type,
    const struct dns_answer *a, uint64_t now_ms)
{
	struct entry	*e;
	size_t		 nlen = strlen(name), rlen, size;
	uint32_t	 ttl;
	char		*b;

	if (a->status == DNS_TEMPFAIL || a->ttl == 0 || nlen >= DNS_NAME_BUF ||
	    a->nrr > DNS_RR_MAX || a->ndata > DNS_DATA_MAX)
		return 0;
	ttl = a->ttl;
	if (a->status == DNS_OK && ttl > c->max_ttl)
		ttl = c->max_ttl;
	if (a->status != DNS_OK && ttl > c->max_neg_ttl)
		ttl = c->max_neg_ttl;
	if (ttl == 0)
		return 0;
	if ((e = find(c, name, type)) != NULL)
		drop(c, e);
	rlen = a->nrr * sizeof(struct dns_rr);
	size = rlen + a->ndata + nlen + 1;
	if ((e = calloc(1, sizeof(*e))) == NULL ||
	    (e->blob = malloc(size)) == NULL) {
		free(e);
		return 0;
	}
	if (c->n >= c->max) {
		drop(c, c->tail);
		c->st.evictions++;
	}
	b = e->blob;
	e->rr = (struct dns_rr *)(void *)b;
	memcpy(e->rr, a->rr, rlen);
	e->data = b + rlen;
	memcpy(e->data, a->data, a->ndata);
	e->name = b + rlen + a->ndata;
	for (size_t i = 0; i <= nlen; i++)
		e->name[i] = (char)tolower((unsigned char)name[i]);
	memcpy(&e->hdr, a, offsetof(struct dns_answer, rr));
	e->hdr.ndata = a->ndata;
	e->hdr.ttl = ttl;
	e->type = type;
	e->expires = now_ms + (uint64_t)ttl * 1000;
	{
		struct entry **hp = &c->table[hash(e->name, type, c->nbuckets)];

		e->hnext = *hp;
		*hp = e;
	}
	push_head(c, e);
	c->n++;
	c->st.stores++;
	return 1;
}

void
dnscache_stats(const struct dnscache *c, struct dnscache_stats *st)
{
	*st = c->st;
	st->entries = c->n;
}
