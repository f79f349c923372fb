/*
 * proxy/reload.h - SIGHUP and "mxshield ctl reload": read the
 * configuration file and the certificates again and put them in force
 * without dropping a session.
 *
 * The main loop loads and checks the file as --check-config does, and
 * builds the next generation (proxy/gen.h). Any problem refuses the
 * reload: one "reload" log line with "result":"failed" and every error
 * (file:line), and nothing changes. Otherwise it binds the listeners
 * the file adds, makes the new generation the one in force, and sends
 * each worker a job (its async handle): on its own loop, between two
 * callbacks, the worker takes the generation for its new sessions,
 * opens the added listeners and closes the removed ones (their
 * sessions go on); sessions in progress keep the generation they
 * started with until they end. Once every worker answered: the
 * "reload" line with "result":"ok", the time it took, the listeners
 * opened and closed, and what needs a restart (proxy/cfgdiff.h; those
 * settings keep their values). Hijack state and the resolvers stay.
 *
 * Requests that come while one is being applied are served by one more
 * reload after it: every requester gets the result of a reload that
 * read the file after it asked.
 */
#ifndef MXS_RELOAD_H
#define MXS_RELOAD_H

#include <stddef.h>

#include <uv.h>

struct gen;
struct server;

/* What a worker is asked to do (proxy/server.h, struct worker). */
struct reload_job {
	struct gen	*gen;	/* a reference, the worker's once done */
	int		*fds;	/* owned, gen->cfg->nlisten: a listening
				   socket to serve, or -1 */
};

/*
 * reload_init - the main loop's side (on loop, the main thread), and
 * the control socket's STATUS and RELOAD (control_set_ops()). Call
 * before the workers and the control socket start. 0, or -1 when
 * memory is short.
 */
int	reload_init(struct server *srv, uv_loop_t *loop);

/* reload_close - close the main loop's handle and answer whoever still
 * waits ("mxshield is stopping"); the loop runs once more after it. */
void	reload_close(struct server *srv);

/* reload_free - what reload_init() made; after the workers ended. */
void	reload_free(struct server *srv);

/* reload_request - SIGHUP: reload now, or after the one in progress.
 * Main thread. */
void	reload_request(struct server *srv);

/*
 * reload_wait - ask for a reload and wait (at most RELOAD_WAIT_MS) for
 * its result: lines into out (cap bytes, NUL-terminated), the first
 * "OK ..." or "ERR ...". Any thread but the main one (the control
 * socket's). 0 when it was applied, -1 when not.
 */
#define RELOAD_WAIT_MS	60000
int	reload_wait(struct server *srv, char *out, size_t cap);

/* reload_status - "mxshield ctl status": "name: value" lines into out.
 * Any thread but the main one. */
void	reload_status(struct server *srv, char *out, size_t cap);

/* reload_on_job - a worker's async callback: take its job (if any). */
void	reload_on_job(uv_async_t *a);

/* reload_job_free - a job no worker took (NULL is fine). */
void	reload_job_free(struct reload_job *job);

#endif
