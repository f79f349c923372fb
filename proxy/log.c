/*
 * proxy/log.c - the log line builder of log.h. JSON: one object per
 * line, keys in the order written. Text: "ts event key=value ...", with
 * values quoted when they hold spaces or quotes. A line is always whole
 * and at most LOG_LINE_MAX octets: each field goes in entirely or is
 * rolled back; strings shrink with "...", arrays drop their last items
 * and say how many ("<key>_omitted"), and a field that fits nowhere is
 * left out with "truncated":true at the end (log.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/esc.h"
#include "proxy/log.h"

static enum cfg_log_format log_format = CFG_LOG_JSON;
static enum cfg_log_level log_level = CFG_LOG_INFO;

void
log_setup(enum cfg_log_format format, enum cfg_log_level level)
{
	log_format = format;
	log_level = level;
}

int
log_enabled(enum cfg_log_level level)
{
	return level <= log_level;
}

/*
 * Room kept back for the end of the line: ,"truncated":true}\n (text:
 * " truncated=true\n"), and inside an array its }] and
 * ,"<key>_omitted":<20 digits>.
 */
static size_t
reserve(const struct logline *l)
{
	size_t r = 20;

	if (l->depth > 0)
		r += 34 + strlen(l->akey);
	return r;
}

/*
 * field_begin - a field starts here; it may reach the end of the line
 * less the reserve, and less LOG_TAIL as well when tail is set (items of
 * an array leave room for the fields after it). Returns the mark to roll
 * back to.
 */
static size_t
field_begin(struct logline *l, int tail)
{
	size_t r = reserve(l) + (tail ? LOG_TAIL : 0);

	l->over = 0;
	l->limit = r < sizeof(l->buf) ? sizeof(l->buf) - r : 0;
	return l->len;
}

/* Appends p[0..n) when it fits under the limit; else marks the field. */
static void
put(struct logline *l, const char *p, size_t n)
{
	if (l->over || l->len > l->limit || n > l->limit - l->len) {
		l->over = 1;
		return;
	}
	memcpy(l->buf + l->len, p, n);
	l->len += n;
}

static void
puts_(struct logline *l, const char *s)
{
	put(l, s, strlen(s));
}

/* The separator and the key of a field, at the current depth. */
static void
key(struct logline *l, const char *k)
{
	if (k == NULL && l->depth != 1)
		k = "item";	/* an array item outside an array: a caller bug */
	switch (l->depth) {
	case 0:
		if (l->text)
			put(l, " ", 1);
		else if (l->nfields > 0)
			put(l, ",", 1);
		break;
	case 1:
		if (l->items > 0)
			put(l, ",", 1);
		return;
	default:
		if (l->ofields > 0)
			put(l, ",", 1);
		break;
	}
	if (l->text) {
		puts_(l, k);
		put(l, "=", 1);
	} else {
		put(l, "\"", 1);
		puts_(l, k);
		put(l, "\":", 2);
	}
}

/*
 * skip - 1 when the field is not to be written at all: an item of an
 * array that is full (counted as left out), or a field of an object
 * being left out.
 */
static int
skip(struct logline *l)
{
	if (l->depth == 1 && l->afull) {
		l->omitted++;
		return 1;
	}
	return l->depth == 2 && l->oskip;
}

/*
 * done - the field started at mark is complete: counted, or, when it
 * did not fit, rolled back. A top-level field is then missing (the line
 * says "truncated"); an array item closes the array to more items; a
 * field of an object takes the whole object out.
 */
static void
done(struct logline *l, size_t mark)
{
	if (!l->over) {
		if (l->depth == 0)
			l->nfields++;
		else if (l->depth == 1)
			l->items++;
		else
			l->ofields++;
		return;
	}
	l->over = 0;
	l->len = mark;
	switch (l->depth) {
	case 0:
		l->truncated = 1;
		break;
	case 1:
		l->afull = 1;
		l->omitted++;
		break;
	default:
		l->len = l->omark;
		l->oskip = 1;
		l->afull = 1;
		break;
	}
}

/* A field whose value v[0..n) is ours and written as it is. */
static void
raw_field(struct logline *l, const char *k, const char *v, size_t n)
{
	size_t mark;

	if (skip(l))
		return;
	mark = field_begin(l, l->depth > 0);
	key(l, k);
	put(l, v, n);
	done(l, mark);
}

/*
 * A string field (k NULL: an array item). At the top level the value is
 * shortened to what is left less LOG_TAIL, or to LOG_STR_MIN when less
 * than that is left; an array item goes in whole (up to LOG_STR_MAX)
 * or not at all.
 */
static void
str_field(struct logline *l, const char *k, const char *p, size_t len)
{
	char esc[LOG_STR_MAX + 1];
	size_t mark, cap = LOG_STR_MAX, space, n;
	int quote = 1;

	if (skip(l))
		return;
	mark = field_begin(l, l->depth > 0);
	key(l, k);
	if (l->depth == 0 && !l->over) {
		space = l->len + 2 <= l->limit ? l->limit - l->len - 2 : 0;
		if (space >= LOG_TAIL + LOG_STR_MIN)
			cap = space - LOG_TAIL;
		else
			cap = space < LOG_STR_MIN ? space : LOG_STR_MIN;
		if (cap > LOG_STR_MAX)
			cap = LOG_STR_MAX;
		if (cap < 3 && len > cap)
			l->over = 1;	/* not even "..." */
	}
	n = esc_json(esc, cap + 1, p, len);
	if (l->text) {
		quote = (n == 0);
		for (size_t i = 0; i < n && !quote; i++)
			if (esc[i] == ' ' || esc[i] == '"' || esc[i] == '\\' ||
			    esc[i] == '=' || esc[i] == ',')
				quote = 1;
	}
	if (quote)
		put(l, "\"", 1);
	put(l, esc, n);
	if (quote)
		put(l, "\"", 1);
	done(l, mark);
}

static void
timestamp(char *out, size_t cap)
{
	struct timeval tv;
	struct tm tm;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000));
}

void
log_begin(struct logline *l, const char *event)
{
	char ts[80];

	l->len = 0;
	l->over = 0;
	l->nfields = 0;
	l->depth = 0;
	l->akey = NULL;
	l->aopen = l->afull = l->items = 0;
	l->omitted = 0;
	l->omark = 0;
	l->ofields = l->oskip = 0;
	l->truncated = 0;
	l->text = (log_format == CFG_LOG_TEXT);
	timestamp(ts, sizeof(ts));
	field_begin(l, 0);	/* an empty line: these always fit */
	if (l->text) {
		puts_(l, ts);
		put(l, " ", 1);
		put(l, event, strnlen(event, 64));
	} else {
		put(l, "{", 1);
		str_field(l, "ts", ts, strlen(ts));
		str_field(l, "event", event, strlen(event));
	}
}

void
log_str(struct logline *l, const char *k, const char *p, size_t len)
{
	if (p == NULL)
		log_null(l, k);
	else
		str_field(l, k, p, len);
}

void
log_cstr(struct logline *l, const char *k, const char *s)
{
	log_str(l, k, s, s ? strlen(s) : 0);
}

void
log_int(struct logline *l, const char *k, int64_t v)
{
	char num[32];
	int n;

	n = snprintf(num, sizeof(num), "%lld", (long long)v);
	raw_field(l, k, num, (size_t)n);
}

void
log_ratio(struct logline *l, const char *k, uint64_t num, uint64_t den)
{
	char buf[32];
	int n;

	if (den == 0) {
		log_null(l, k);
		return;
	}
	n = snprintf(buf, sizeof(buf), "%.3f", (double)num / (double)den);
	raw_field(l, k, buf, (size_t)n);
}

void
log_bool(struct logline *l, const char *k, int v)
{
	raw_field(l, k, v ? "true" : "false", v ? 4 : 5);
}

void
log_null(struct logline *l, const char *k)
{
	raw_field(l, k, l->text ? "-" : "null", l->text ? 1 : 4);
}

/* An id: whole or not at all, never cut to "...". */
void
log_hex64(struct logline *l, const char *k, uint64_t v)
{
	char num[24];
	int n;

	n = snprintf(num, sizeof(num), l->text ? "%016llx" : "\"%016llx\"",
	    (unsigned long long)v);
	raw_field(l, k, num, (size_t)n);
}

/*
 * log_array_begin - opens the array k at the top level (arrays do not
 * nest). From here the reserve holds room for its end and its
 * "<k>_omitted" count; when not even "k":[ fits, the array is left out
 * and its items are only counted.
 */
void
log_array_begin(struct logline *l, const char *k)
{
	size_t mark;

	if (l->depth != 0)
		return;
	l->depth = 1;
	l->akey = k;
	l->aopen = l->afull = l->items = 0;
	l->omitted = 0;
	mark = field_begin(l, 0);
	if (l->text)
		put(l, " ", 1);
	else if (l->nfields > 0)
		put(l, ",", 1);
	if (l->text) {
		puts_(l, k);
		put(l, "=[", 2);
	} else {
		put(l, "\"", 1);
		puts_(l, k);
		put(l, "\":[", 3);
	}
	if (l->over) {
		l->over = 0;
		l->len = mark;
		l->afull = 1;
		l->truncated = 1;
		return;
	}
	l->aopen = 1;
	l->nfields++;
}

void
log_array_str(struct logline *l, const char *p, size_t len)
{
	str_field(l, NULL, p, len);
}

void
log_array_obj_begin(struct logline *l)
{
	if (l->depth != 1)
		return;
	l->depth = 2;
	l->ofields = 0;
	l->oskip = 0;
	l->omark = l->len;
	if (l->afull) {
		l->oskip = 1;
		return;
	}
	field_begin(l, 1);
	if (l->items > 0)
		put(l, ",", 1);
	put(l, "{", 1);
	if (l->over) {
		l->over = 0;
		l->len = l->omark;
		l->oskip = 1;
		l->afull = 1;
	}
}

void
log_array_obj_end(struct logline *l)
{
	if (l->depth != 2)
		return;
	l->depth = 1;
	if (l->oskip) {
		l->omitted++;
		return;
	}
	field_begin(l, 0);	/* within the reserve */
	put(l, "}", 1);
	l->items++;
}

/*
 * log_array_end - closes the array and, when items were left out, adds
 * "<key>_omitted":N (text: <key>_omitted=N). Both fit in the room the
 * reserve kept since log_array_begin.
 */
void
log_array_end(struct logline *l)
{
	char k[64], num[24];
	int n;

	if (l->depth == 2)
		log_array_obj_end(l);
	if (l->depth != 1)
		return;
	l->depth = 0;
	field_begin(l, 0);
	if (l->aopen)
		put(l, "]", 1);
	l->over = 0;
	if (l->omitted > 0) {
		snprintf(k, sizeof(k), "%s_omitted", l->akey);
		n = snprintf(num, sizeof(num), "%llu",
		    (unsigned long long)l->omitted);
		raw_field(l, k, num, (size_t)n);
	}
	l->akey = NULL;
	l->aopen = l->afull = l->items = 0;
	l->omitted = 0;
}

void
log_end(struct logline *l)
{
	ssize_t w;
	size_t off = 0;

	if (l->depth > 0)
		log_array_end(l);
	field_begin(l, 0);
	l->limit = sizeof(l->buf);	/* the reserve is for this */
	if (l->truncated)
		puts_(l, l->text ? " truncated=true" : ",\"truncated\":true");
	if (!l->text)
		put(l, "}", 1);
	put(l, "\n", 1);
	while (off < l->len) {
		w = write(STDERR_FILENO, l->buf + off, l->len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

/*
 * vlog - one event line: level, then sid and client when given (NULL
 * for none), then the formatted msg (cut at 2 KiB).
 */
static void vlog(enum cfg_log_level, const char *, const uint64_t *,
    const char *, const char *, va_list) __attribute__((format(printf, 5, 0)));

static void
vlog(enum cfg_log_level level, const char *event, const uint64_t *sid,
    const char *client, const char *fmt, va_list ap)
{
	struct logline l;
	char msg[2048];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	log_begin(&l, event);
	log_cstr(&l, "level", level_names[level]);
	if (sid != NULL)
		log_hex64(&l, "sid", *sid);
	if (client != NULL)
		log_cstr(&l, "client", client);
	log_str(&l, "msg", msg, (size_t)n);
	log_end(&l);
}

void
log_msg(enum cfg_log_level level, const char *event, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vlog(level, event, NULL, NULL, fmt, ap);
	va_end(ap);
}

void
log_sid(enum cfg_log_level level, const char *event, uint64_t sid,
    const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vlog(level, event, &sid, NULL, fmt, ap);
	va_end(ap);
}

void
log_sid_client(enum cfg_log_level level, const char *event, uint64_t sid,
    const char *client, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	vlog(level, event, &sid, client != NULL ? client : "", fmt, ap);
	va_end(ap);
}

void
log_panic(const char *file, int line, const char *fmt, ...)
{
	struct logline l;
	char msg[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	log_begin(&l, "panic");
	log_cstr(&l, "level", "error");
	log_cstr(&l, "file", file);
	log_int(&l, "line", line);
	log_str(&l, "msg", msg, (size_t)n);
	log_end(&l);
	abort();
}
