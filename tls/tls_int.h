/*
 * tls/tls_int.h - what tls_ctx.c and tls_conn.c share and nobody else
 * sees: the context structure and its reference and session helpers.
 * Included only inside tls/ (it pulls in mbedTLS).
 */
#ifndef MXS_TLS_INT_H
#define MXS_TLS_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/ssl_cache.h>
#include <mbedtls/ssl_ticket.h>
#include <mbedtls/x509_crt.h>

#include "tls/tls.h"

/*
 * Concurrency: worker threads share one context. mbedTLS is built with
 * MBEDTLS_THREADING_C and MBEDTLS_THREADING_PTHREAD (Debian 12), so the
 * entropy pool, the CTR-DRBG (locked in mbedtls_ctr_drbg_random() since
 * it was seeded), the ticket keys and the session cache each carry their
 * own mutex; we add no lock around them. conf, the certificates and the
 * key are read-only once built (mbedTLS's own ssl_pthread_server shares
 * them the same way). The one field we write after creation, the saved
 * client session, has our own mutex.
 */
struct tls_ctx {
	atomic_uint			 refs;	/* creator + one per struct tls */
	int				 server;
	mbedtls_ssl_config		 conf;
	mbedtls_entropy_context		 entropy;
	mbedtls_ctr_drbg_context	 drbg;
	mbedtls_x509_crt		 certs;	/* server: own chain; client: CAs */
	mbedtls_pk_context		 key;	/* server only */
	mbedtls_ssl_ticket_context	 tickets;	/* server only */
	mbedtls_ssl_cache_context	 cache;		/* server only */
	char				*server_name;	/* client; owned, may be NULL */

	pthread_mutex_t			 lock;	/* guards saved, have_saved */
	mbedtls_ssl_session		 saved;	/* client: last session */
	int				 have_saved;
};

void	tls_ctx_ref(struct tls_ctx *ctx);
/* Offer the saved session to a new client connection (copied). */
void	tls_ctx_offer_session(struct tls_ctx *ctx, mbedtls_ssl_context *ssl);
/* Keep the session of a completed client handshake for the next one. */
void	tls_ctx_keep_session(struct tls_ctx *ctx,
	    const mbedtls_ssl_context *ssl);
/* "what: mbedTLS text" into buf. */
void	tls_strerror(char *buf, size_t cap, const char *what, int ret);

#endif
