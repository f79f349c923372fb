/*
 * proxy/replies.h - the backend's replies to relayed client commands
 * (proxy/replies.c).
 */
#ifndef MXS_REPLIES_H
#define MXS_REPLIES_H

#include <stddef.h>

#include "proxy/session.h"

void	sess_on_reply(struct session *s, struct pending *p, int code,
	    const char *reply, size_t len);

#endif
