/*
 * proxy/config_spoof.c - the spoof settings that need more than one
 * key's own check (proxy/config.c walks the keys, then calls
 * cfg_spoof_settle()): the threshold against the cap of the score, the
 * weights by the sign names of core/spoof.c, and the warning text, read
 * from spoof.warning_file once, at load and at --check-config, so that
 * a start never fails later on it. Input: an administrator's file and
 * the warning file it names (trusted to be meant, not to be right).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/esc.h"
#include "core/mime_append.h"
#include "core/spoof.h"
#include "proxy/config.h"

/* The seed's text (MAILsweeper), for spoof.warning_file unset. */
static const char builtin_warning[] =
    "\n"
    "WARNING: information in the headers of this message suggests that\n"
    "it may be spoofed: the sender may not be who the message says it is.\n"
    "Its authenticity should be verified before you act on it.\n";

static void
say(cfg_spoof_err_fn *err, void *arg, const char *path, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static void
say(cfg_spoof_err_fn *err, void *arg, const char *path, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err(arg, path, msg);
}

/* "source_route, display_name_address, ..." */
static void
sign_list(char *buf, size_t cap)
{
	size_t	n = 0;

	buf[0] = '\0';
	for (int i = 0; i < SPOOF_NSIGNS && n < cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? ", " : "",
		    spoof_sign_name((enum spoof_sign)i));
}

/* spoof.weights into sign_weights[]; returns the problems found. */
static int
settle_weights(struct config *cfg, cfg_spoof_err_fn *err, void *arg)
{
	char	path[300], names[512];
	int	bad = 0, sign;

	memcpy(cfg->spoof.sign_weights, spoof_default_weights,
	    sizeof(cfg->spoof.sign_weights));
	for (size_t i = 0; i < cfg->spoof.nweights; i++) {
		const struct cfg_weight *w = &cfg->spoof.weights[i];

		snprintf(path, sizeof(path), "spoof.weights.%s", w->name);
		sign = spoof_sign_find(w->name, strlen(w->name));
		if (sign < 0) {
			sign_list(names, sizeof(names));
			say(err, arg, path, "unknown sign \"%s\"; the signs "
			    "are: %s", w->name, names);
			bad++;
			continue;
		}
		if (w->weight < 0 || w->weight > SPOOF_MAX) {
			say(err, arg, path, "%d is out of range (0 to %d; 0 "
			    "turns the sign off)", w->weight, SPOOF_MAX);
			bad++;
			continue;
		}
		cfg->spoof.sign_weights[sign] = w->weight;
	}
	return bad;
}

/*
 * The content of spoof.warning_file, checked: readable, not empty, at
 * most MA_TEXT_MAX octets, UTF-8 without NUL. Returns 0 and the text
 * (owned by the caller), or -1 with why (a problem) or -2 (memory).
 */
static int
read_warning(const char *file, char **out, size_t *olen, char *why,
    size_t cap)
{
	FILE	*f;
	char	*buf;
	size_t	 n, bad;

	if ((f = fopen(file, "rbe")) == NULL) {
		snprintf(why, cap, "cannot read %s: %s", file, strerror(errno));
		return -1;
	}
	if ((buf = malloc(MA_TEXT_MAX + 1)) == NULL) {
		fclose(f);
		return -2;
	}
	n = fread(buf, 1, MA_TEXT_MAX + 1, f);
	if (ferror(f)) {
		snprintf(why, cap, "cannot read %s: %s", file, strerror(errno));
		goto fail;
	}
	fclose(f);
	f = NULL;
	if (n == 0) {
		snprintf(why, cap, "%s is empty (leave warning_file unset for "
		    "the built-in text)", file);
		goto fail;
	}
	if (n > MA_TEXT_MAX) {
		snprintf(why, cap, "%s is longer than %d octets", file,
		    MA_TEXT_MAX);
		goto fail;
	}
	if (memchr(buf, '\0', n) != NULL) {
		snprintf(why, cap, "%s holds a NUL octet", file);
		goto fail;
	}
	if ((bad = esc_utf8_valid(buf, n)) < n) {
		snprintf(why, cap, "%s is not valid UTF-8 (at offset %zu)", file,
		    bad);
		goto fail;
	}
	buf[n] = '\0';
	*out = buf;
	*olen = n;
	return 0;
fail:
	if (f != NULL)
		fclose(f);
	free(buf);
	return -1;
}

int
cfg_spoof_settle(struct config *cfg, cfg_spoof_err_fn *err, void *arg)
{
	char	why[600];
	int	bad = 0, rc;

	if (cfg->spoof.threshold > SPOOF_MAX) {
		say(err, arg, "spoof.threshold", "%d is above %d: the score is "
		    "capped at %d, so it could never be reached",
		    cfg->spoof.threshold, SPOOF_MAX, SPOOF_MAX);
		bad++;
	}
	bad += settle_weights(cfg, err, arg);
	free(cfg->spoof.warning_text);
	cfg->spoof.warning_text = NULL;
	if (cfg->spoof.enabled && cfg->spoof.warning_file != NULL) {
		rc = read_warning(cfg->spoof.warning_file,
		    &cfg->spoof.warning_text, &cfg->spoof.warning_len, why,
		    sizeof(why));
		if (rc == -2)
			return -1;
		if (rc < 0) {
			err(arg, "spoof.warning_file", why);
			return bad + 1;
		}
		return bad;
	}
	if ((cfg->spoof.warning_text = strdup(builtin_warning)) == NULL)
		return -1;
	cfg->spoof.warning_len = sizeof(builtin_warning) - 1;
	return bad;
}
