/*
 * core/hijack.h - the sliding window of hijack detection for one
 * identity: the times of the messages (with hijack.count = "recipients":
 * of the recipients, one time each) the backend accepted for it in the
 * last `window` seconds, at most `max` of them (DESIGN.md
 * hijack.max_messages, hijack.window). Pure: time is an argument, the
 * caller owns the ring's memory and any table of identities
 * (proxy/hijack.c keeps the table, its lock and the state file).
 *
 * The ring holds times oldest first and never decreasing: a time
 * earlier than the newest one (the wall clock stepped back) is recorded
 * as the newest, so expiry from the oldest end stays correct. A time t
 * counts while now - t < window: with window 60, a message at 100
 * counts at 159 and has expired at 160.
 *
 * It also reads the lines of the state file the proxy keeps (text, one
 * line per identity, the identity in xtext, RFC 3461 4, so that a space
 * or a line end cannot break a line; blank lines and "#" comments):
 *   disabled UNIX-TIME ID
 *   count ID UNIX-TIME UNIX-TIME ...
 */
#ifndef MXS_HIJACK_CORE_H
#define MXS_HIJACK_CORE_H

#include <stddef.h>
#include <stdint.h>

/* One identity's window. t is borrowed: cap slots owned by the caller. */
struct hjwin {
	int64_t		*t;	/* ring of cap times; NULL when cap is 0 */
	uint32_t	 cap;
	uint32_t	 head;	/* index of the oldest time */
	uint32_t	 n;	/* times held, <= cap */
};

enum hjwin_rc {
	HJWIN_UNDER = 0,	/* fewer than max in the window: one more may go */
	HJWIN_LIMIT,		/* max or more: the next message exceeds */
};

/* hjwin_init - an empty window over slots[0..cap) (slots may be NULL
 * when cap is 0). */
void		hjwin_init(struct hjwin *w, int64_t *slots, uint32_t cap);

/*
 * hjwin_expire - forget the times that left the window at now
 * (t <= now - window); window must be >= 1. Returns the times left.
 */
uint32_t	hjwin_expire(struct hjwin *w, int64_t now, int64_t window);

/*
 * hjwin_check - expire, then HJWIN_LIMIT when at least max times are
 * left (max >= 1), else HJWIN_UNDER. Asked at MAIL: with max 3 and
 * three accepted messages in the window the fourth MAIL is refused.
 */
enum hjwin_rc	hjwin_check(struct hjwin *w, int64_t now, int64_t window,
		    uint32_t max);

/*
 * hjwin_check_more - expire, then HJWIN_LIMIT when the times left plus
 * more would pass max (n + more > max; max >= 1), else HJWIN_UNDER.
 * Asked at RCPT when recipients count: with max 200, nothing in the
 * window and 200 recipients of this message still open, the 201st
 * (more 201) is refused. hjwin_check() is more = 1.
 */
enum hjwin_rc	hjwin_check_more(struct hjwin *w, int64_t now,
		    int64_t window, uint32_t max, uint64_t more);

/*
 * hjwin_add - record one accepted message at now (raised to the newest
 * time held if it is earlier). When the ring is full the oldest time is
 * dropped: the caller grows the ring (hjwin_grow_to, hjwin_move) up to
 * max first, so a full ring of max times still says HJWIN_LIMIT.
 * A window with cap 0 records nothing. Returns the times held.
 */
uint32_t	hjwin_add(struct hjwin *w, int64_t now);

/* hjwin_at - the i-th oldest time held, i < w->n (for the state file). */
int64_t		hjwin_at(const struct hjwin *w, uint32_t i);

/*
 * hjwin_grow_to - the capacity to move to before adding one more time
 * to a window holding n in cap slots: cap while n < cap; else double
 * (at least 4), never above max. Equal to cap when no growth is due or
 * possible (cap >= max).
 */
uint32_t	hjwin_grow_to(uint32_t n, uint32_t cap, uint32_t max);

/*
 * hjwin_move - copy the times held into slots[0..cap), oldest first,
 * keeping the newest cap of them when there are more; w then uses
 * slots (the caller frees the old ring). Returns the times kept.
 */
uint32_t	hjwin_move(struct hjwin *w, int64_t *slots, uint32_t cap);

/* What a state file line is. */
enum hjline_kind {
	HJLINE_SKIP = 0,	/* blank, or a "#" comment */
	HJLINE_DISABLED,	/* "disabled UNIX-TIME ID" */
	HJLINE_COUNT,		/* "count ID UNIX-TIME...": read the times
				   with hjline_time() from .times */
	HJLINE_ERROR,		/* .error says what is wrong */
};

struct hjline {
	enum hjline_kind kind;
	int64_t		 when;	/* DISABLED: since when */
	size_t		 idlen;	/* DISABLED, COUNT: octets in the caller's
				   id buffer (no NUL added) */
	const char	*times;	/* COUNT: cursor into the line */
	const char	*error;	/* ERROR: static text */
};

/*
 * hjline_parse - one line of the state file: NUL-terminated, without
 * its line end. Fields are separated by spaces or tabs; a time is 1 to
 * 18 decimal digits; the identity is strict xtext, 1 to idcap octets
 * once decoded into id[0..idcap). Returns out->kind.
 */
enum hjline_kind hjline_parse(const char *line, char *id, size_t idcap,
		    struct hjline *out);

/*
 * hjline_time - the next time of a COUNT line: 1 with *t set and the
 * cursor moved on, 0 at the end of the line, -1 for a field that is
 * not a time (then the line is corrupt).
 */
int		hjline_time(const char **cursor, int64_t *t);

#endif
