/*
 * tls/tls_ctx.c - the shared TLS contexts: a server context (our
 * certificate chain and key from PEM files, session tickets and a
 * session cache) and a client context for backends (CA store, name to
 * check, the last session for resumption). Both allow TLS 1.2 only,
 * ECDHE with AEAD suites, three curves, no renegotiation (RFC 5246,
 * RFC 5746 4.5, RFC 5077 for tickets, RFC 6066 3 for SNI). Input: file
 * names from the configuration, trusted; file contents are checked by
 * mbedTLS. A context is reference counted: connections keep it alive.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/error.h>

#include "tls/tls_int.h"

#define TLS_CA_DEFAULT		"/etc/ssl/certs/ca-certificates.crt"
#define TLS_TICKET_LIFETIME	86400	/* seconds; keys rotate as often */
#define TLS_CACHE_ENTRIES	1000	/* sessions without a ticket */

/*
 * mbedTLS's recommended set restricted to forward secrecy and AEAD, in
 * our order of preference (the server's order wins: we do not define
 * MBEDTLS_SSL_SRV_RESPECT_CLIENT_PREFERENCE).
 */
static const int tls_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	0
};

/* Key exchange groups; also the curves accepted for ECDSA peer keys. */
static const mbedtls_ecp_group_id tls_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519,
	MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,
	MBEDTLS_ECP_DP_NONE
};

/* tls_strerror - "what: mbedTLS's text for ret" into buf[0..cap). */
void
tls_strerror(char *buf, size_t cap, const char *what, int ret)
{
	char text[160];

	if (buf == NULL || cap == 0)
		return;
	mbedtls_strerror(ret, text, sizeof(text));
	snprintf(buf, cap, "%s: %s", what, text);
}

/* printf into err[0..cap) when the caller gave room. */
static void
ctx_err(char *err, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
ctx_err(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || cap == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

/* ctx_err() with "what path: mbedTLS text". */
static void
ctx_mbed_err(char *err, size_t cap, const char *what, const char *path,
    int ret)
{
	char text[160];

	mbedtls_strerror(ret, text, sizeof(text));
	ctx_err(err, cap, "%s %s: %s", what, path, text);
}

/*
 * mbedTLS reports a missing file as a generic parse or I/O error; open
 * it first so the log says "No such file or directory" or "Permission
 * denied" next to the name. 0 when readable.
 */
static int
ctx_readable(const char *what, const char *path, char *err, size_t cap)
{
	FILE *f;

	if (path == NULL || path[0] == '\0') {
		ctx_err(err, cap, "%s: no file given", what);
		return -1;
	}
	if ((f = fopen(path, "r")) == NULL) {
		ctx_err(err, cap, "cannot open %s %s: %s", what, path,
		    strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* Everything both roles need; a NULL return has set err. */
static struct tls_ctx *
ctx_new(int server, char *err, size_t cap)
{
	static const char pers[] = "mxshield tls";
	struct tls_ctx *ctx;
	int ret;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL) {
		ctx_err(err, cap, "out of memory");
		return NULL;
	}
	if (pthread_mutex_init(&ctx->lock, NULL) != 0) {
		ctx_err(err, cap, "cannot create a mutex");
		free(ctx);
		return NULL;
	}
	atomic_init(&ctx->refs, 1);
	ctx->server = server;
	mbedtls_ssl_config_init(&ctx->conf);
	mbedtls_entropy_init(&ctx->entropy);
	mbedtls_ctr_drbg_init(&ctx->drbg);
	mbedtls_x509_crt_init(&ctx->certs);
	mbedtls_pk_init(&ctx->key);
	mbedtls_ssl_ticket_init(&ctx->tickets);
	mbedtls_ssl_cache_init(&ctx->cache);
	mbedtls_ssl_session_init(&ctx->saved);

	if ((ret = mbedtls_ctr_drbg_seed(&ctx->drbg, mbedtls_entropy_func,
	    &ctx->entropy, (const unsigned char *)pers,
	    sizeof(pers) - 1)) != 0) {
		tls_strerror(err, cap, "cannot seed the random generator",
		    ret);
		goto fail;
	}
	if ((ret = mbedtls_ssl_config_defaults(&ctx->conf,
	    server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT)) != 0) {
		tls_strerror(err, cap, "cannot set TLS defaults", ret);
		goto fail;
	}
	mbedtls_ssl_conf_rng(&ctx->conf, mbedtls_ctr_drbg_random,
	    &ctx->drbg);
	mbedtls_ssl_conf_min_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&ctx->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
	    MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(&ctx->conf, tls_suites);
	mbedtls_ssl_conf_curves(&ctx->conf, tls_curves);
	/*
	 * No renegotiation either way: a peer's ClientHello or HelloRequest
	 * after the handshake gets a no_renegotiation warning from mbedTLS,
	 * which tls_read() turns into an error. Peers without RFC 5746
	 * support may connect but can never renegotiate.
	 */
	mbedtls_ssl_conf_renegotiation(&ctx->conf,
	    MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_legacy_renegotiation(&ctx->conf,
	    MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
	return ctx;

fail:
	tls_ctx_free(ctx);
	return NULL;
}

/*
 * tls_ctx_server - see tls.h. Refuses a missing or unreadable file, a
 * file without a certificate or key, and a key that is not the
 * certificate's (mbedtls_pk_check_pair); err names the file.
 */
struct tls_ctx *
tls_ctx_server(const char *cert_file, const char *key_file, char *err,
    size_t cap)
{
	struct tls_ctx *ctx;
	int ret;

	if (ctx_readable("certificate file", cert_file, err, cap) != 0 ||
	    ctx_readable("key file", key_file, err, cap) != 0)
		return NULL;
	if ((ctx = ctx_new(1, err, cap)) == NULL)
		return NULL;

	/* A positive return counts certificates that failed to parse. */
	if ((ret = mbedtls_x509_crt_parse_file(&ctx->certs, cert_file)) != 0) {
		if (ret > 0)
			ctx_err(err, cap, "certificate file %s: %d of its "
			    "certificates could not be parsed", cert_file, ret);
		else
			ctx_mbed_err(err, cap, "certificate file", cert_file,
			    ret);
		goto fail;
	}
	if ((ret = mbedtls_pk_parse_keyfile(&ctx->key, key_file, NULL)) != 0) {
		ctx_mbed_err(err, cap, "key file", key_file, ret);
		goto fail;
	}
	if (mbedtls_pk_check_pair(&ctx->certs.pk, &ctx->key) != 0) {
		ctx_err(err, cap, "key file %s does not match the first "
		    "certificate in %s", key_file, cert_file);
		goto fail;
	}
	if ((ret = mbedtls_ssl_conf_own_cert(&ctx->conf, &ctx->certs,
	    &ctx->key)) != 0) {
		tls_strerror(err, cap, "cannot use the certificate", ret);
		goto fail;
	}

	/*
	 * Resumption: stateless tickets (AES-256-GCM keys from our DRBG,
	 * rotated every lifetime) and a bounded cache for clients that
	 * send no ticket extension.
	 */
	if ((ret = mbedtls_ssl_ticket_setup(&ctx->tickets,
	    mbedtls_ctr_drbg_random, &ctx->drbg, MBEDTLS_CIPHER_AES_256_GCM,
	    TLS_TICKET_LIFETIME)) != 0) {
		tls_strerror(err, cap, "cannot set up session tickets", ret);
		goto fail;
	}
	mbedtls_ssl_conf_session_tickets_cb(&ctx->conf,
	    mbedtls_ssl_ticket_write, mbedtls_ssl_ticket_parse,
	    &ctx->tickets);
	mbedtls_ssl_cache_set_max_entries(&ctx->cache, TLS_CACHE_ENTRIES);
	mbedtls_ssl_conf_session_cache(&ctx->conf, &ctx->cache,
	    mbedtls_ssl_cache_get, mbedtls_ssl_cache_set);
	mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_NONE);
	return ctx;

fail:
	tls_ctx_free(ctx);
	return NULL;
}

/*
 * tls_ctx_client - see tls.h. With verify, refuses a missing CA file or
 * one without a single usable certificate (a system bundle may hold a
 * few that mbedTLS cannot parse; those are skipped). server_name is
 * copied; it is sent as SNI in both modes.
 */
struct tls_ctx *
tls_ctx_client(int verify, const char *ca_file, const char *server_name,
    char *err, size_t cap)
{
	struct tls_ctx *ctx;
	int ret;

	if (verify) {
		if (ca_file == NULL)
			ca_file = TLS_CA_DEFAULT;
		if (ctx_readable("CA file", ca_file, err, cap) != 0)
			return NULL;
	}
	if (server_name != NULL &&
	    strlen(server_name) > MBEDTLS_SSL_MAX_HOST_NAME_LEN) {
		ctx_err(err, cap, "server name longer than %d bytes",
		    MBEDTLS_SSL_MAX_HOST_NAME_LEN);
		return NULL;
	}
	if ((ctx = ctx_new(0, err, cap)) == NULL)
		return NULL;
	if (server_name != NULL &&
	    (ctx->server_name = strdup(server_name)) == NULL) {
		ctx_err(err, cap, "out of memory");
		goto fail;
	}
	if (!verify) {
		mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_NONE);
		return ctx;
	}
	ret = mbedtls_x509_crt_parse_file(&ctx->certs, ca_file);
	if (ret < 0 || ctx->certs.version == 0) {
		if (ret < 0)
			ctx_mbed_err(err, cap, "CA file", ca_file, ret);
		else
			ctx_err(err, cap, "CA file %s: no usable certificate",
			    ca_file);
		goto fail;
	}
	mbedtls_ssl_conf_ca_chain(&ctx->conf, &ctx->certs, NULL);
	mbedtls_ssl_conf_authmode(&ctx->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	return ctx;

fail:
	tls_ctx_free(ctx);
	return NULL;
}

/* tls_ctx_ref - one more holder; each calls tls_ctx_free() once. */
void
tls_ctx_ref(struct tls_ctx *ctx)
{
	atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
}

/*
 * tls_ctx_free - see tls.h. Only the last reference destroys; the
 * acquire/release pair orders every connection's last use before it.
 */
void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (atomic_fetch_sub_explicit(&ctx->refs, 1,
	    memory_order_acq_rel) != 1)
		return;
	mbedtls_ssl_session_free(&ctx->saved);
	pthread_mutex_destroy(&ctx->lock);
	mbedtls_ssl_cache_free(&ctx->cache);
	mbedtls_ssl_ticket_free(&ctx->tickets);
	mbedtls_pk_free(&ctx->key);
	mbedtls_x509_crt_free(&ctx->certs);
	mbedtls_ssl_config_free(&ctx->conf);
	mbedtls_ctr_drbg_free(&ctx->drbg);
	mbedtls_entropy_free(&ctx->entropy);
	free(ctx->server_name);
	ctx->server_name = NULL;
	free(ctx);
}

/*
 * Backend connections resume the last session the backend gave us: one
 * slot per context is enough for one backend. mbedtls_ssl_set_session()
 * copies, so the slot stays ours. A failure only costs a full handshake.
 */
void
tls_ctx_offer_session(struct tls_ctx *ctx, mbedtls_ssl_context *ssl)
{
	pthread_mutex_lock(&ctx->lock);
	if (ctx->have_saved)
		(void)mbedtls_ssl_set_session(ssl, &ctx->saved);
	pthread_mutex_unlock(&ctx->lock);
}

void
tls_ctx_keep_session(struct tls_ctx *ctx, const mbedtls_ssl_context *ssl)
{
	mbedtls_ssl_session s, old;

	mbedtls_ssl_session_init(&s);
	if (mbedtls_ssl_get_session(ssl, &s) != 0) {
		mbedtls_ssl_session_free(&s);
		return;
	}
	/* Swap under the lock, free outside it. */
	pthread_mutex_lock(&ctx->lock);
	old = ctx->saved;
	ctx->saved = s;
	ctx->have_saved = 1;
	pthread_mutex_unlock(&ctx->lock);
	mbedtls_ssl_session_free(&old);
}
