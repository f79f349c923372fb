/*
 * proxy/data.h - the DATA phase of a session (proxy/data.c).
 */
#ifndef MXS_DATA_H
#define MXS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "core/dscan.h"
#include "proxy/session.h"

void	data_decide(struct session *s, struct pending *p);
size_t	data_input(struct session *s, const char *p, size_t n);
void	data_go(struct session *s, int code, const char *reply, size_t len);
void	data_hold_free(struct session *s);
const char *data_scan_error(const struct dscan *d, uint64_t held,
	    int max_header_bytes, int *code, char *why, size_t cap);

#endif
