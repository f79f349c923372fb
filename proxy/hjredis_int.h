/*
 * proxy/hjredis_int.h - what proxy/hjredis.c (the workers'
 * connections) and proxy/hjredis_ctl.c (the control socket's) share;
 * nothing else includes it.
 */
#ifndef MXS_HJREDIS_INT_H
#define MXS_HJREDIS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "proxy/config.h"

struct hjr_settings {
	const struct config	*cfg;	/* borrowed, outlives every use */
	int			 monitor;	/* hijack.mode = "monitor" */
	int			 recipients;	/* hijack.count */
	uint64_t		 seed;
};

extern struct hjr_settings hjr_set;
extern const char hjr_script_check[];
extern const char hjr_script_add[];

size_t	hjr_fold_key(const char *id, size_t len, char *out, size_t cap,
	    size_t *field_off);

#endif
