/*
 * proxy/log.h - one line per event on stderr, JSON (default) or text.
 * A line is built in a caller-owned struct logline and written with one
 * write(2), so lines from several worker threads never interleave.
 * Every string value is escaped (core/esc.h); keys are ours.
 *
 * A line never exceeds LOG_LINE_MAX and is always whole: each field is
 * written entirely or not at all, and room to close the line (and an
 * open array) is kept back from the start. What does not fit shrinks:
 * - a string value is cut at a character boundary and ends with "..."
 *   inside its quotes; a long value leaves LOG_TAIL octets for the
 *   fields after it, and may still use LOG_STR_MIN octets of that tail;
 * - an array keeps its first items while they fit, leaving LOG_TAIL
 *   free, and is followed by "<key>_omitted":N giving how many items
 *   were left out (absent when none were);
 * - a field that fits nowhere is left out and the line ends with
 *   "truncated":true.
 * So the fields written first always survive: writers put the ones a
 * reader needs (ids, result, size) before long lists.
 */
#ifndef MXS_LOG_H
#define MXS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/config.h"

#define LOG_LINE_MAX	16384	/* one line, newline included */
#define LOG_STR_MAX	4096	/* escaped octets of one string value */
#define LOG_TAIL	1024	/* long values leave this for later fields */
#define LOG_STR_MIN	256	/* a string may always take this much */

struct logline {
	char		 buf[LOG_LINE_MAX];
	size_t		 len;
	size_t		 limit;		/* the field being written may not
					   pass this */
	int		 over;		/* it tried to */
	int		 text;		/* text format */
	int		 nfields;	/* top-level fields written */
	int		 depth;		/* 0, 1 in an array, 2 in an object
					   in an array */
	const char	*akey;		/* borrowed: key of the open array */
	int		 aopen;		/* its "key":[ was written */
	int		 afull;		/* it takes no more items */
	int		 items;		/* items written in it */
	uint64_t	 omitted;	/* items left out of it */
	size_t		 omark;		/* length before the open object */
	int		 ofields;	/* fields written in the open object */
	int		 oskip;		/* the open object is left out */
	int		 truncated;	/* a field was left out */
};

void	log_setup(enum cfg_log_format format, enum cfg_log_level level);
int	log_enabled(enum cfg_log_level level);

void	log_begin(struct logline *l, const char *event);
void	log_str(struct logline *l, const char *key, const char *p, size_t len);
void	log_cstr(struct logline *l, const char *key, const char *s);
void	log_int(struct logline *l, const char *key, int64_t v);
void	log_bool(struct logline *l, const char *key, int v);
void	log_null(struct logline *l, const char *key);
void	log_hex64(struct logline *l, const char *key, uint64_t v);
/* num / den as a number with three decimals (0.952); null when den is 0. */
void	log_ratio(struct logline *l, const char *key, uint64_t num,
	    uint64_t den);
/* Arrays of strings, or of objects built with log_obj_*. */
void	log_array_begin(struct logline *l, const char *key);
void	log_array_str(struct logline *l, const char *p, size_t len);
void	log_array_obj_begin(struct logline *l);
void	log_array_obj_end(struct logline *l);
void	log_array_end(struct logline *l);
void	log_end(struct logline *l);

/* A process event: {"ts":...,"event":"error","level":...,"msg":"..."}. */
void	log_msg(enum cfg_log_level level, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/*
 * log_sid - an event of one session: as log_msg, with the session id in
 * its own field before "msg" ({..."level":...,"sid":"%016llx","msg":...}),
 * never in the text. log_sid_client adds the peer's address as "client".
 */
void	log_sid(enum cfg_log_level level, const char *event, uint64_t sid,
	    const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	log_sid_client(enum cfg_log_level level, const char *event,
	    uint64_t sid, const char *client, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/*
 * mxs_panic - an impossible state: one "panic" line with file and line,
 * then abort(). Never for what a peer can cause (STYLE: three kinds of
 * errors, three answers).
 */
#define mxs_panic(...)	log_panic(__FILE__, __LINE__, __VA_ARGS__)
void	log_panic(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));

#endif
