/*
 * tls/tls.h - TLS for either side of a session, on memory only: the
 * session feeds the ciphertext it read from the socket in, takes
 * plaintext out, hands plaintext in and takes the ciphertext to write
 * out. Handshakes advance as bytes arrive; nothing here blocks or
 * touches a socket. Only tls/ includes mbedTLS (2.28 on Debian 12: TLS
 * 1.2, AEAD/ECDHE suites only).
 */
#ifndef MXS_TLS_H
#define MXS_TLS_H

#include <stddef.h>
#include <sys/types.h>

struct tls_ctx;		/* shared by all connections of one role; immutable
			   after creation except internal locked caches */
struct tls;		/* one connection */

/*
 * tls_ctx_server - certificate chain and key (PEM files) for accepting
 * clients; session tickets and a session cache so resumption is cheap.
 * NULL on failure with a reason in err.
 */
struct tls_ctx	*tls_ctx_server(const char *cert_file, const char *key_file,
		    char *err, size_t cap);

/*
 * tls_ctx_client - for connecting to the backend. verify: check the
 * certificate chain against ca_file (NULL: the system store
 * /etc/ssl/certs/ca-certificates.crt) and the name server_name (NULL:
 * no name check; mbedTLS 2.28 cannot match IP-address SANs).
 */
struct tls_ctx	*tls_ctx_client(int verify, const char *ca_file,
		    const char *server_name, char *err, size_t cap);
void		 tls_ctx_free(struct tls_ctx *ctx);

/* tls_new - a connection in the context's role; NULL when out of memory. */
struct tls	*tls_new(struct tls_ctx *ctx);
void		 tls_free(struct tls *t);

enum tls_rc {
	TLS_OK = 0,	/* done / some progress */
	TLS_WANT,	/* needs more ciphertext from the peer */
	TLS_CLOSED,	/* the peer sent close_notify */
	TLS_ERR,	/* fatal: tls_error() says why; end the connection */
};

/* tls_feed - ciphertext from the peer (copied). TLS_ERR past the bound
 * of buffered input (one record plus a little). */
enum tls_rc	 tls_feed(struct tls *t, const char *p, size_t n);

/* tls_handshake - advance the handshake: TLS_OK once complete, TLS_WANT
 * while it needs more input (check tls_pending() for output), TLS_ERR. */
enum tls_rc	 tls_handshake(struct tls *t);
int		 tls_handshake_done(const struct tls *t);

/*
 * tls_read - plaintext after the handshake: >0 bytes written to out,
 * 0 when more ciphertext is needed, -1 on TLS_CLOSED or TLS_ERR
 * (tls_error() is NULL for a clean close_notify). Renegotiation
 * attempts are refused (an error).
 */
ssize_t		 tls_read(struct tls *t, char *out, size_t cap);

/* tls_write - encrypt all of p[0..n) into the pending output. 0 or -1. */
int		 tls_write(struct tls *t, const char *p, size_t n);

/* tls_close_notify - queue a close_notify alert. */
void		 tls_close_notify(struct tls *t);

/* tls_pending - ciphertext waiting to be sent: *p and its length.
 * tls_consume - n of those bytes were handed to the socket. */
size_t		 tls_pending(struct tls *t, const char **p);
void		 tls_consume(struct tls *t, size_t n);

/* After the handshake: "TLSv1.2", "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384". */
const char	*tls_version(const struct tls *t);
const char	*tls_cipher(const struct tls *t);
/* The last error as text, or NULL. */
const char	*tls_error(const struct tls *t);

#endif
