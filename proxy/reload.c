/*
 * proxy/reload.c - reloading the configuration (proxy/reload.h): the
 * main loop's side (load, check, build, bind, hand out, collect the
 * workers' answers, log), the worker's side (switch on its own loop),
 * and what the control socket asks (RELOAD waits for a result, STATUS).
 * Input: the configuration file, as trusted as at the start; requests
 * from the control socket's thread. Owns the requests' state, under
 * srv->reload_lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proxy/cfgdiff.h"
#include "proxy/check.h"
#include "proxy/control.h"
#include "proxy/gen.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/sdnotify.h"
#include "proxy/reload.h"
#include "proxy/server.h"

#define RELOAD_ERR_MAX	16384	/* every error of a refused file */
#define RELOAD_ANSWER	(RELOAD_ERR_MAX + 1024)

struct reload {
	struct server	*srv;
	uv_async_t	 async;		/* main loop: a request, an answer */
	pthread_cond_t	 cond;		/* a result is there */
	/* under srv->reload_lock */
	uint64_t	 asked;		/* requests so far */
	uint64_t	 done;		/* requests answered up to */
	char		 answer[RELOAD_ANSWER];	/* of the last reload */
	int		 answer_ok;
	int		 closed;
	/* main loop only */
	int		 busy;		/* the workers switch */
	uint64_t	 taking;	/* asked when it started */
	uint64_t	 t0;		/* uv_hrtime() at its start */
	atomic_int	 acks;		/* workers switched */
	char		 opened[1024];	/* "a:p a:p", for the log */
	char		 closed_l[1024];
	const char	*needs[CFGDIFF_MAX];
	size_t		 nneeds;
};

/* ------------------------------------------------------------ results */

/* Publish an answer for every request up to upto; wake the waiters. */
static void
publish(struct reload *rl, uint64_t upto, int ok, const char *text)
{
	pthread_mutex_lock(&rl->srv->reload_lock);
	snprintf(rl->answer, sizeof(rl->answer), "%s", text);
	rl->answer_ok = ok;
	if (rl->done < upto)
		rl->done = upto;
	pthread_cond_broadcast(&rl->cond);
	pthread_mutex_unlock(&rl->srv->reload_lock);
}

/* The list "a b c" as a JSON array of its words. */
static void
log_words(struct logline *l, const char *key, const char *words)
{
	const char *p = words, *sp;

	log_array_begin(l, key);
	while (*p != '\0') {
		sp = strchr(p, ' ');
		if (sp == NULL)
			sp = p + strlen(p);
		if (sp > p)
			log_array_str(l, p, (size_t)(sp - p));
		p = *sp == ' ' ? sp + 1 : sp;
	}
	log_array_end(l);
}

static uint64_t
elapsed_ms(const struct reload *rl)
{
	return (uv_hrtime() - rl->t0) / 1000000;
}

/* A refused reload: its log line, the count, the answer. errs: one
 * error a line. */
static void
refuse(struct reload *rl, uint64_t upto, const char *errs)
{
	struct server *srv = rl->srv;
	char *answer = malloc(RELOAD_ANSWER);
	const char *p = errs, *nl;
	struct logline l;
	size_t n;

	atomic_fetch_add(&srv->reloads_failed, 1);
	metrics_reload(0);
	sdn_ready("reload refused; the configuration in force is unchanged");
	log_begin(&l, "reload");
	log_cstr(&l, "level", "error");
	log_cstr(&l, "result", "failed");
	log_int(&l, "ms", (int64_t)elapsed_ms(rl));
	log_cstr(&l, "file", srv->cfg->path);
	log_array_begin(&l, "errors");
	while (*p != '\0') {
		nl = strchr(p, '\n');
		n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		if (n > 0)
			log_array_str(&l, p, n);
		p += n + (nl != NULL);
	}
	log_array_end(&l);
	log_cstr(&l, "msg", "reload refused; the configuration in force "
	    "is unchanged");
	log_end(&l);
	if (answer == NULL) {
		publish(rl, upto, 0, "ERR reload refused (out of memory)\n");
		return;
	}
	snprintf(answer, RELOAD_ANSWER, "ERR reload refused; the "
	    "configuration in force is unchanged\n%s%s", errs,
	    errs[0] != '\0' && errs[strlen(errs) - 1] != '\n' ? "\n" : "");
	publish(rl, upto, 0, answer);
	free(answer);
}

/* Every worker switched: the log line, the count, the answer. */
static void
applied(struct reload *rl)
{
	struct server *srv = rl->srv;
	char needs[512] = "", answer[4096];
	uint64_t ms = elapsed_ms(rl);
	struct logline l;
	int n;

	for (size_t i = 0; i < rl->nneeds; i++)
		snprintf(needs + strlen(needs), sizeof(needs) - strlen(needs),
		    "%s%s", i > 0 ? " " : "", rl->needs[i]);
	atomic_fetch_add(&srv->reloads_ok, 1);
	metrics_reload(1);
	sdn_ready("configuration reloaded");
	log_begin(&l, "reload");
	log_cstr(&l, "level", "info");
	log_cstr(&l, "result", "ok");
	log_int(&l, "ms", (int64_t)ms);
	log_int(&l, "generation", srv->gen->id);
	log_cstr(&l, "file", srv->cfg->path);
	log_words(&l, "listeners_opened", rl->opened);
	log_words(&l, "listeners_closed", rl->closed_l);
	log_words(&l, "needs_restart", needs);
	if (rl->nneeds > 0) {
		char msg[700];

		snprintf(msg, sizeof(msg), "configuration reloaded; needs a "
		    "restart: %s (kept as they were)", needs);
		log_cstr(&l, "msg", msg);
	} else {
		log_cstr(&l, "msg", "configuration reloaded");
	}
	log_end(&l);
	n = snprintf(answer, sizeof(answer), "OK configuration reloaded in "
	    "%llu ms (generation %u)\n", (unsigned long long)ms, srv->gen->id);
	if (rl->opened[0] != '\0' && n > 0 && (size_t)n < sizeof(answer))
		n += snprintf(answer + n, sizeof(answer) - (size_t)n,
		    "listeners opened: %s\n", rl->opened);
	if (rl->closed_l[0] != '\0' && n > 0 && (size_t)n < sizeof(answer))
		n += snprintf(answer + n, sizeof(answer) - (size_t)n,
		    "listeners closed: %s\n", rl->closed_l);
	if (needs[0] != '\0' && n > 0 && (size_t)n < sizeof(answer))
		snprintf(answer + n, sizeof(answer) - (size_t)n,
		    "needs a restart: %s (kept as they were)\n", needs);
	publish(rl, rl->taking, 1, answer);
}

/* ------------------------------------------------------------ main loop */

/* chk_all()'s warnings: one log line each, as at the start. */
static void
log_warning(void *arg, const char *msg)
{
	(void)arg;
	log_msg(CFG_LOG_WARN, "config", "%s", msg);
}

static void
append_word(char *buf, size_t cap, const struct cfg_listen *l)
{
	size_t n = strlen(buf);

	snprintf(buf + n, cap - n, "%s%s:%d", n > 0 ? " " : "", l->address,
	    l->port);
}

static void
close_fds(int *fds, size_t n)
{
	for (size_t i = 0; fds != NULL && i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/*
 * The sockets of the listeners next adds (in force: cur), nworkers a
 * listener, into fds[worker * nlisten + i], -1 elsewhere; their names
 * into rl->opened, those of the removed ones into rl->closed_l. 0, or
 * -1 with the reason in err (nothing left open).
 */
static int
bind_added(struct reload *rl, const struct config *cur,
    const struct config *next, int *fds, char *err, size_t cap)
{
	int nw = rl->srv->nworkers;
	size_t nl = next->nlisten;

	rl->opened[0] = rl->closed_l[0] = '\0';
	for (size_t k = 0; k < (size_t)nw * nl; k++)
		fds[k] = -1;
	for (size_t i = 0; i < nl; i++) {
		if (cfgdiff_listen_find(cur, &next->listen[i]) >= 0)
			continue;
		for (int w = 0; w < nw; w++) {
			fds[(size_t)w * nl + i] = srv_listen_socket(
			    &next->listen[i], err, cap);
			if (fds[(size_t)w * nl + i] < 0) {
				char where[512];

				snprintf(where, sizeof(where), "%s:%d: %s",
				    next->path, next->listen[i].line, err);
				snprintf(err, cap, "%s", where);
				close_fds(fds, (size_t)nw * nl);
				return -1;
			}
		}
		append_word(rl->opened, sizeof(rl->opened), &next->listen[i]);
		/* its sessions' slot in /metrics, before it accepts one */
		(void)metrics_listener(next->listen[i].address,
		    next->listen[i].port);
	}
	for (size_t j = 0; j < cur->nlisten; j++)
		if (cfgdiff_listen_find(next, &cur->listen[j]) < 0)
			append_word(rl->closed_l, sizeof(rl->closed_l),
			    &cur->listen[j]);
	return 0;
}

/*
 * Load, check, build, bind; then the new generation is in force and
 * each worker has its job. 0: the workers switch (applied() follows),
 * -1: refused, errors in err.
 */
static int
start(struct reload *rl, char *err, size_t cap)
{
	struct server *srv = rl->srv;
	struct config *cfg;
	struct gen *g, *old;
	int *fds;
	size_t nl;

	err[0] = '\0';
	if ((cfg = cfg_load(srv->cfg->path, err, cap)) == NULL)
		return -1;
	/* what --check-config says, warnings logged as at the start */
	if (chk_all(cfg, log_warning, NULL, err, cap) < 0) {
		cfg_free(cfg);
		return -1;
	}
	rl->nneeds = cfgdiff_restart(srv->cfg, cfg, rl->needs, CFGDIFF_MAX);
	cfgdiff_keep(srv->cfg, cfg);
	if ((g = gen_build(cfg, 0, srv->cfg, err, cap)) == NULL) {
		cfg_free(cfg);
		return -1;
	}
	nl = cfg->nlisten;
	fds = calloc((size_t)srv->nworkers * nl, sizeof(*fds));
	if (fds == NULL) {
		snprintf(err, cap, "%s: out of memory", cfg->path);
		gen_unref(g);
		return -1;
	}
	if (bind_added(rl, srv->gen->cfg, cfg, fds, err, cap) < 0) {
		free(fds);
		gen_unref(g);
		return -1;
	}
	/* in force from here: nothing below fails for the whole reload */
	g->id = srv->gen->id + 1;
	pthread_mutex_lock(&srv->reload_lock);
	old = srv->gen;
	srv->gen = g;
	pthread_mutex_unlock(&srv->reload_lock);
	srv_set_limits(srv, cfg);
	atomic_store(&rl->acks, 0);
	for (int w = 0; w < srv->nworkers; w++) {
		struct reload_job *job = calloc(1, sizeof(*job));

		if (job != NULL)
			job->fds = malloc(nl * sizeof(*job->fds));
		if (job == NULL || job->fds == NULL)
			mxs_panic("out of memory handing out a reload");
		job->gen = gen_ref(g);
		memcpy(job->fds, fds + (size_t)w * nl, nl * sizeof(*fds));
		reload_job_free(atomic_exchange(&srv->workers[w].job, job));
		uv_async_send(&srv->workers[w].reload);
	}
	free(fds);
	gen_unref(old);
	return 0;
}

/* Start the next reload when one is asked and none is under way. */
static void
kick(struct reload *rl)
{
	struct server *srv = rl->srv;
	char *err;
	uint64_t take;

	if (rl->busy)
		return;
	pthread_mutex_lock(&srv->reload_lock);
	take = rl->asked;
	pthread_mutex_unlock(&srv->reload_lock);
	if (rl->done >= take)	/* only the main loop writes done */
		return;
	rl->t0 = uv_hrtime();
	if (atomic_load(&srv->draining)) {
		log_msg(CFG_LOG_WARN, "reload", "reload ignored: mxshield is "
		    "shutting down");
		publish(rl, take, 0, "ERR mxshield is shutting down\n");
		return;
	}
	sdn_reloading("reloading the configuration");
	if ((err = malloc(RELOAD_ERR_MAX)) == NULL) {
		refuse(rl, take, "out of memory");
		return;
	}
	if (start(rl, err, RELOAD_ERR_MAX) < 0) {
		refuse(rl, take, err);
	} else {
		rl->busy = 1;
		rl->taking = take;
	}
	free(err);
}

static void
on_async(uv_async_t *a)
{
	struct reload *rl = a->data;

	if (rl->busy && atomic_load(&rl->acks) == rl->srv->nworkers) {
		rl->busy = 0;
		applied(rl);
	}
	kick(rl);
}

void
reload_request(struct server *srv)
{
	struct reload *rl = srv->reload;

	pthread_mutex_lock(&srv->reload_lock);
	rl->asked++;
	pthread_mutex_unlock(&srv->reload_lock);
	log_msg(CFG_LOG_INFO, "reload", "SIGHUP: reloading %s",
	    srv->cfg->path);
	kick(rl);
}

/* ------------------------------------------------------------ worker */

void
reload_job_free(struct reload_job *job)
{
	if (job == NULL)
		return;
	close_fds(job->fds, job->gen->cfg->nlisten);
	gen_unref(job->gen);
	free(job->fds);
	free(job);
}

void
reload_on_job(uv_async_t *a)
{
	struct worker *w = a->data;
	struct reload_job *job = atomic_exchange(&w->job, NULL);
	const struct config *next;
	struct wlisten *wl, *wnext;
	struct gen *old;
	int idx;

	if (job == NULL)
		return;
	next = job->gen->cfg;
	old = w->gen;
	w->gen = job->gen;
	w->cfg = next;
	job->gen = NULL;
	if (!w->draining) {
		/* kept listeners take their new index, removed ones close */
		for (wl = w->listeners; wl != NULL; wl = wnext) {
			wnext = wl->next;
			idx = cfgdiff_listen_find(next, &old->cfg->listen[wl->idx]);
			if (idx >= 0)
				wl->idx = idx;
			else
				worker_listen_close(w, wl);
		}
		for (size_t i = 0; i < next->nlisten; i++) {
			if (job->fds[i] >= 0)
				worker_listen_open(w, (int)i, job->fds[i]);
			job->fds[i] = -1;
		}
	}
	for (size_t i = 0; i < next->nlisten; i++)
		if (job->fds[i] >= 0)
			close(job->fds[i]);
	free(job->fds);
	free(job);
	gen_unref(old);
	atomic_fetch_add(&w->srv->reload->acks, 1);
	uv_async_send(&w->srv->reload->async);
}

/* ------------------------------------------------------------ control */

int
reload_wait(struct server *srv, char *out, size_t cap)
{
	struct reload *rl = srv->reload;
	struct timespec until;
	uint64_t mine;
	int ok = 0, r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += RELOAD_WAIT_MS / 1000;
	pthread_mutex_lock(&srv->reload_lock);
	mine = ++rl->asked;
	pthread_mutex_unlock(&srv->reload_lock);
	log_msg(CFG_LOG_INFO, "reload", "control socket: reloading %s",
	    srv->cfg->path);
	uv_async_send(&rl->async);
	pthread_mutex_lock(&srv->reload_lock);
	while (rl->done < mine && !rl->closed && r != ETIMEDOUT)
		r = pthread_cond_timedwait(&rl->cond, &srv->reload_lock,
		    &until);
	if (rl->done >= mine) {
		snprintf(out, cap, "%s", rl->answer);
		ok = rl->answer_ok;
	} else {
		snprintf(out, cap, "ERR %s\n", rl->closed ? "mxshield is "
		    "stopping" : "no result in time; see the log");
	}
	pthread_mutex_unlock(&srv->reload_lock);
	return ok ? 0 : -1;
}

void
reload_status(struct server *srv, char *out, size_t cap)
{
	const struct config *cfg;
	char when[64];
	struct tm tm;
	size_t n = 0;
	uint64_t ok, failed;
	time_t now = time(NULL);

#define ADD(...) do {							\
	if (n < cap)							\
		n += (size_t)snprintf(out + n, cap - n, __VA_ARGS__);	\
} while (0)
	srv_reload_counts(srv, &ok, &failed);
	pthread_mutex_lock(&srv->reload_lock);
	cfg = srv->gen->cfg;
	gmtime_r(&srv->gen->loaded, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ADD("version: %s\n", MXS_VERSION);
	ADD("pid: %ld\n", (long)getpid());
	ADD("uptime: %lld s\n", (long long)(now - srv->started));
	ADD("config: %s\n", cfg->path);
	ADD("loaded: %s (generation %u)\n", when, srv->gen->id);
	ADD("reloads: %llu ok, %llu failed\n", (unsigned long long)ok,
	    (unsigned long long)failed);
	for (size_t i = 0; i < cfg->nlisten; i++)
		ADD("listener: %s:%d%s%s%s\n", cfg->listen[i].address,
		    cfg->listen[i].port, cfg->listen[i].tls == CFG_TLS_IMPLICIT ?
		    " tls" : cfg->listen[i].tls == CFG_TLS_STARTTLS ?
		    " starttls" : "", cfg->listen[i].submission ?
		    " submission" : "", cfg->listen[i].proxy_protocol ?
		    " proxy_protocol" : "");
	pthread_mutex_unlock(&srv->reload_lock);
	ADD("sessions: %d\n", atomic_load(&srv->connections));
	ADD("workers: %d\n", srv->nworkers);
	ADD("draining: %s\n", atomic_load(&srv->draining) ? "yes" : "no");
#undef ADD
	if (n >= cap && cap > 1)
		out[cap - 2] = '\n';
}

static int
ctl_reload(void *arg, char *out, size_t cap)
{
	return reload_wait(arg, out, cap);
}

static int
ctl_status(void *arg, char *out, size_t cap)
{
	reload_status(arg, out, cap);
	return 0;
}

/* ------------------------------------------------------------ setup */

int
reload_init(struct server *srv, uv_loop_t *loop)
{
	struct reload *rl = calloc(1, sizeof(*rl));
	struct control_ops ops;

	if (rl == NULL)
		return -1;
	rl->srv = srv;
	pthread_cond_init(&rl->cond, NULL);
	atomic_init(&rl->acks, 0);
	uv_async_init(loop, &rl->async, on_async);
	rl->async.data = rl;
	srv->reload = rl;
	ops.status = ctl_status;
	ops.reload = ctl_reload;
	ops.arg = srv;
	control_set_ops(&ops);
	return 0;
}

void
reload_close(struct server *srv)
{
	struct reload *rl = srv->reload;

	if (rl == NULL)
		return;
	pthread_mutex_lock(&srv->reload_lock);
	rl->closed = 1;
	pthread_cond_broadcast(&rl->cond);
	pthread_mutex_unlock(&srv->reload_lock);
	uv_close((uv_handle_t *)&rl->async, NULL);
}

void
reload_free(struct server *srv)
{
	struct reload *rl = srv->reload;

	if (rl == NULL)
		return;
	control_set_ops(NULL);
	pthread_cond_destroy(&rl->cond);
	free(rl);
	srv->reload = NULL;
}
