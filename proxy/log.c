/*
 * proxy/log.c - the log line builder of log.h. JSON: one object per
 * line, keys in the order written. Text: "ts event key=value ...", with
 * values quoted when they hold spaces or quotes. Lines over LOG_LINE_MAX
 * are cut (strings first shrink, then the line ends with "truncated").
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

static void
put(struct logline *l, const char *p, size_t n)
{
	/* keep room for the closing "}\n" and a truncation marker */
	if (l->len + n + 32 > sizeof(l->buf)) {
		l->truncated = 1;
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

static void
key(struct logline *l, const char *k)
{
	if (l->in_array) {
		/* inside an object in an array, or an array item */
		if (l->in_array > 1)
			put(l, ",", 1);
		l->in_array++;
		if (k == NULL)
			return;
		if (l->text) {
			puts_(l, k);
			put(l, "=", 1);
		} else {
			put(l, "\"", 1);
			puts_(l, k);
			put(l, "\":", 2);
		}
		return;
	}
	if (k == NULL)
		k = "item";	/* an array item outside an array: a caller bug */
	if (l->text) {
		put(l, " ", 1);
		puts_(l, k);
		put(l, "=", 1);
	} else {
		if (l->nfields > 0)
			put(l, ",", 1);
		put(l, "\"", 1);
		puts_(l, k);
		put(l, "\":", 2);
	}
	l->nfields++;
}

static void
str_value(struct logline *l, const char *p, size_t len)
{
	char esc[4096];
	size_t n;
	int quote = 1;

	n = esc_json(esc, sizeof(esc), p, len);
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
	l->nfields = 0;
	l->in_array = 0;
	l->truncated = 0;
	l->text = (log_format == CFG_LOG_TEXT);
	timestamp(ts, sizeof(ts));
	if (l->text) {
		puts_(l, ts);
		put(l, " ", 1);
		puts_(l, event);
	} else {
		put(l, "{", 1);
		key(l, "ts");
		str_value(l, ts, strlen(ts));
		key(l, "event");
		str_value(l, event, strlen(event));
	}
}

void
log_str(struct logline *l, const char *k, const char *p, size_t len)
{
	key(l, k);
	if (p == NULL)
		puts_(l, l->text ? "-" : "null");
	else
		str_value(l, p, len);
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

	key(l, k);
	snprintf(num, sizeof(num), "%lld", (long long)v);
	puts_(l, num);
}

void
log_bool(struct logline *l, const char *k, int v)
{
	key(l, k);
	puts_(l, v ? "true" : "false");
}

void
log_null(struct logline *l, const char *k)
{
	key(l, k);
	puts_(l, l->text ? "-" : "null");
}

void
log_hex64(struct logline *l, const char *k, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%016llx", (unsigned long long)v);
	log_str(l, k, num, 16);
}

void
log_array_begin(struct logline *l, const char *k)
{
	key(l, k);
	put(l, "[", 1);
	l->in_array = 1;
}

void
log_array_str(struct logline *l, const char *p, size_t len)
{
	key(l, NULL);
	str_value(l, p, len);
}

void
log_array_obj_begin(struct logline *l)
{
	key(l, NULL);
	put(l, "{", 1);
	l->in_array = 1;
}

void
log_array_obj_end(struct logline *l)
{
	put(l, "}", 1);
	l->in_array = 2;	/* the array has at least one item now */
}

void
log_array_end(struct logline *l)
{
	put(l, "]", 1);
	l->in_array = 0;
}

void
log_end(struct logline *l)
{
	ssize_t w;
	size_t off = 0;

	if (l->truncated) {
		if (l->text)
			memcpy(l->buf + l->len, " truncated=true", 15), l->len += 15;
		else
			memcpy(l->buf + l->len, ",\"truncated\":true", 17), l->len += 17;
	}
	if (!l->text)
		l->buf[l->len++] = '}';
	l->buf[l->len++] = '\n';
	while (off < l->len) {
		w = write(STDERR_FILENO, l->buf + off, l->len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
}

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void
log_msg(enum cfg_log_level level, const char *event, const char *fmt, ...)
{
	struct logline l;
	char msg[2048];
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	log_begin(&l, event);
	log_cstr(&l, "level", level_names[level]);
	log_str(&l, "msg", msg, (size_t)n);
	log_end(&l);
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
