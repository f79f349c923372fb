/*
 * proxy/gen.c - a generation of the configuration (proxy/gen.h): what a
 * start or a reload builds from a loaded file before any session may
 * use it. Input: a configuration cfg_load() accepted. Owns the policy
 * and TLS contexts it builds; frees them with the last reference.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/check.h"
#include "proxy/gen.h"
#include "proxy/pol.h"
#include "tls/tls.h"

/*
 * tls_setup - our certificate when a listener speaks TLS, the backend's
 * trust settings when backend.tls is on. -1 with a reason naming the
 * file when something cannot be loaded (what loaded is g's to free).
 */
static int
tls_setup(struct gen *g, const struct config *cfg, char *err, size_t cap)
{
	char why[512], where[PATH_MAX + 32];
	int need = 0;

	for (size_t i = 0; i < cfg->nlisten; i++)
		if (cfg->listen[i].tls != CFG_TLS_NONE)
			need = 1;
	if (need) {
		g->tls_server = tls_ctx_server(cfg->tls.cert_file,
		    cfg->tls.key_file, why, sizeof(why));
		if (g->tls_server == NULL) {
			cfg_where(cfg, "tls.cert_file", where, sizeof(where));
			snprintf(err, cap, "%s: tls.cert_file/key_file: %s",
			    where, why);
			return -1;
		}
	}
	if (cfg->backend.tls != CFG_TLS_NONE) {
		/* an IP address with no tls_server_name: chk_warnings() */
		g->tls_client = tls_ctx_client(cfg->backend.tls_verify,
		    cfg->backend.tls_ca_file, cfg->backend.tls_server_name,
		    why, sizeof(why));
		if (g->tls_client == NULL) {
			cfg_where(cfg, "backend.tls_ca_file", where,
			    sizeof(where));
			snprintf(err, cap, "%s: backend.tls_ca_file: %s",
			    where, why);
			return -1;
		}
	}
	return 0;
}

/* What g owns but its configuration. */
static void
gen_free_parts(struct gen *g)
{
	if (g->tls_server != NULL)
		tls_ctx_free(g->tls_server);
	g->tls_server = NULL;
	if (g->tls_client != NULL)
		tls_ctx_free(g->tls_client);
	g->tls_client = NULL;
	pol_free(g->pol);
	g->pol = NULL;
}

int
gen_check_tls(const struct config *cfg, char *err, size_t cap)
{
	struct gen g;
	int rc;

	memset(&g, 0, sizeof(g));
	rc = tls_setup(&g, cfg, err, cap);
	gen_free_parts(&g);
	return rc;
}

struct gen *
gen_build(struct config *cfg, int borrowed, const struct config *first,
    char *err, size_t cap)
{
	struct gen *g;

	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, cap, "%s: out of memory", cfg->path);
		return NULL;
	}
	atomic_init(&g->refs, 1);
	g->cfg = cfg;
	g->cfg_borrowed = borrowed;
	g->loaded = time(NULL);
	if (chk_backend(cfg, &g->backend_sa, &g->backend_salen,
	    &g->backend_by_dns, err, cap) < 0 ||
	    tls_setup(g, cfg, err, cap) < 0)
		goto fail;
	if ((g->pol = pol_build(cfg)) == NULL) {
		snprintf(err, cap, "%s: out of memory", cfg->path);
		goto fail;
	}
	if (first == NULL)
		first = cfg;
	g->backend_follow = g->backend_by_dns && first->backend.port ==
	    cfg->backend.port && strcmp(first->backend.address,
	    cfg->backend.address) == 0;
	return g;
fail:
	gen_free_parts(g);
	free(g);
	return NULL;
}

struct gen *
gen_ref(struct gen *g)
{
	atomic_fetch_add(&g->refs, 1);
	return g;
}

void
gen_unref(struct gen *g)
{
	if (g == NULL || atomic_fetch_sub(&g->refs, 1) != 1)
		return;
	gen_free_parts(g);
	if (!g->cfg_borrowed)
		cfg_free((struct config *)g->cfg);
	g->cfg = NULL;
	free(g);
}
