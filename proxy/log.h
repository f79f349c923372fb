/*
 * proxy/log.h - one line per event on stderr, JSON (default) or text.
 * A line is built in a caller-owned struct logline and written with one
 * write(2), so lines from several worker threads never interleave.
 * Every string value is escaped (core/esc.h); keys are ours.
 */
#ifndef MXS_LOG_H
#define MXS_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/config.h"

#define LOG_LINE_MAX 16384

struct logline {
	char	buf[LOG_LINE_MAX];
	size_t	len;
	int	text;		/* text format */
	int	nfields;
	int	in_array;	/* 0, or items written so far + 1 */
	int	truncated;
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
 * mxs_panic - an impossible state: one "panic" line with file and line,
 * then abort(). Never for what a peer can cause (STYLE: three kinds of
 * errors, three answers).
 */
#define mxs_panic(...)	log_panic(__FILE__, __LINE__, __VA_ARGS__)
void	log_panic(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));

#endif
