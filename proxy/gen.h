/*
 * proxy/gen.h - one generation of the configuration: a loaded file and
 * everything built from it (the policy, the TLS contexts, the backend's
 * address). Immutable once built and reference-counted: the server
 * holds the one new sessions get, each worker the one it hands out,
 * each session the one it started with; the last reference frees it,
 * on whichever thread drops it. A reload (proxy/reload.h) builds the
 * next one; sessions in progress keep theirs.
 */
#ifndef MXS_GEN_H
#define MXS_GEN_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <time.h>

#include "proxy/config.h"

struct policy_cfg;
struct tls_ctx;

struct gen {
	atomic_int		 refs;
	unsigned		 id;		/* 1 at the start, +1 a reload */
	const struct config	*cfg;		/* owned, unless borrowed */
	int			 cfg_borrowed;	/* the start's: main() frees it */
	struct policy_cfg	*pol;		/* owned: pol_build(cfg) */
	struct tls_ctx		*tls_server;	/* owned: our certificate, or
						   NULL (no TLS listener) */
	struct tls_ctx		*tls_client;	/* owned: to the backend, or
						   NULL */
	struct sockaddr_storage	 backend_sa;	/* backend.address resolved */
	socklen_t		 backend_salen;
	int			 backend_by_dns; /* DNS gave it */
	int			 backend_follow; /* by DNS and the start's name
						   and port: the workers'
						   bkname follows its TTL */
	time_t			 loaded;	/* when it was built */
};

/*
 * gen_build - resolve backend.address, load the TLS files and build the
 * policy of cfg; first: the start's generation (NULL for the first
 * one), whose backend name the workers follow. cfg becomes the
 * generation's (freed with it) unless borrowed. Returns the generation
 * with one reference, or NULL with the reason ("file:line: what") in
 * err; cfg is then still the caller's.
 */
struct gen	*gen_build(struct config *cfg, int borrowed,
		    const struct config *first, char *err, size_t cap);

/* gen_ref - one more reference to g; returns g. Any thread. */
struct gen	*gen_ref(struct gen *g);

/* gen_unref - drop one reference (g may be NULL); the last frees g and
 * what it owns. Any thread. */
void		 gen_unref(struct gen *g);

/*
 * gen_check_tls - load the certificate, key and CA files cfg names, as
 * a start would, and free them again (--check-config). 0, or -1 with
 * "file: key: what" in err.
 */
int		 gen_check_tls(const struct config *cfg, char *err, size_t cap);

#endif
