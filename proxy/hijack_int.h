/*
 * proxy/hijack_int.h - what proxy/hijack.c (the table) and
 * proxy/hijack_state.c (its state file) share, and proxy/hjredis_ctl.c
 * borrows (hj_is_exempt(), the text buffer); nothing else includes
 * it. Every field of hj after .lock, and every entry, is under hj.lock.
 */
#ifndef MXS_HIJACK_INT_H
#define MXS_HIJACK_INT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hijack.h"

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
	unsigned	 exempt:1;	/* in hijack.exempt: never disabled */
	size_t		 len;
	char		 id[];		/* len octets and a NUL, as first seen */
};

/* A growing text buffer (snapshots, listings); oom sticks. */
struct sbuf {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

struct hj_table {
	int		 on;		/* hijack.enabled; set before workers */
	int		 monitor;	/* hijack.mode = "monitor" */
	uint32_t	 max;		/* hijack.max_messages */
	int64_t		 window;	/* hijack.window */
	int		 recipients;	/* hijack.count = "recipients" */
	char *const	*exempt;	/* hijack.exempt, borrowed from the
					   config until hijack_stop() */
	size_t		 nexempt;
	char		*path;		/* owned; NULL: memory only */
	char		*tmp;		/* owned: path ".tmp" */
	char		*dir;		/* owned: path's directory */
	int		 redis;		/* hijack.store = "redis": no table,
					   proxy/hjredis.c asks Redis */
	char		 store_err[200];	/* control thread only: why
					   Redis failed the last request */

	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* wakes the writer */
	struct hj_entry	**bucket;	/* HJ_BUCKETS chains */
	size_t		 n;		/* entries */
	struct hj_entry	*lru_head, *lru_tail;
	int		 dirty;		/* counters changed: write within 1 s */
	int		 urgent;	/* disabled list changed: write now */
	int		 stopping;
	int		 full_warned;

	pthread_t	 thread;	/* hj_writer_main */
	int		 thread_on;
	char		 last_err[300];	/* writer thread only */
};

extern struct hj_table hj;

/* hijack.c: the table, under hj.lock */
uint32_t	 hj_hash(const char *p, size_t len);
int		 hj_is_exempt(const char *p, size_t len);
struct hj_entry	*hj_find(const char *p, size_t len, uint32_t h);
struct hj_entry	*hj_entry_new(const char *p, size_t len, uint32_t h,
		    int force);
void		 hj_entry_free(struct hj_entry *e);
void		 hj_disable(struct hj_entry *e, int64_t now, int monitor);
void		 hj_ring_shrink(struct hj_entry *e);

/* hijack_state.c */
void		 hj_sb_put(struct sbuf *b, const char *p, size_t n);
void		 hj_sb_str(struct sbuf *b, const char *s);
void		 hj_sb_id(struct sbuf *b, const struct hj_entry *e);
int		 hj_state_paths(const char *state_file);
int		 hj_state_load(char *err, size_t cap);
int		 hj_persist(char *err, size_t cap, size_t *size);
void		*hj_writer_main(void *arg);

#endif
