/*
 * proxy/accept.h - a session's life (proxy/accept.c): accepting,
 * the PROXY header, the one exit, drain and shutdown.
 */
#ifndef MXS_ACCEPT_H
#define MXS_ACCEPT_H

#include <stddef.h>
#include <uv.h>

struct session;
struct worker;

void	sess_start(struct worker *w, uv_stream_t *server, int listener);
size_t	sess_proxy_input(struct session *s, const char *p, size_t n);
void	sess_close(struct session *s, const char *reason);
void	sess_drain(struct session *s);
void	sess_shutdown_now(struct session *s);
void	sess_set_timer(struct session *s);

#endif
