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
			   after creation except internal locked caches; safe
			   to use from several threads at once */
struct tls;		/* one connection; one thread at a time */

/*
 * TLS_RECORD_MAX - the largest TLS 1.2 record on the wire (RFC 5246
 * 6.2.3). TLS_FEED_MAX - most ciphertext a connection buffers: one
 * 64 KB socket read on top of a partial record. The buffer lives only
 * until tls_read()/tls_handshake() drained it; a caller that wants at
 * most one record held sizes its reads to min(tls_room(),
 * TLS_RECORD_MAX). TLS_OUT_MAX - most ciphertext waiting in
 * tls_pending(); tls_write() refuses what would pass it (stop writing
 * at a high mark and drain first).
 */
#define TLS_RECORD_MAX	(5 + 16384 + 2048)
#define TLS_FEED_MAX	(64 * 1024 + TLS_RECORD_MAX)
#define TLS_OUT_MAX	(256 * 1024)

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

/*
 * tls_ctx_free - drop the creator's reference. Connections made from
 * ctx hold their own, so a reload may free the old context while its
 * sessions live on; the last tls_free() releases it. NULL is ignored.
 */
void		 tls_ctx_free(struct tls_ctx *ctx);

/*
 * tls_new - a connection in the context's role, holding a reference
 * to ctx; NULL when out of memory. A client connection offers the
 * context's last session to the server (resumption).
 * tls_free - frees t and all it buffers. NULL is ignored.
 */
struct tls	*tls_new(struct tls_ctx *ctx);
void		 tls_free(struct tls *t);

enum tls_rc {
	TLS_OK = 0,	/* done / some progress */
	TLS_WANT,	/* needs more ciphertext from the peer */
	TLS_CLOSED,	/* the peer sent close_notify */
	TLS_ERR,	/* fatal: tls_error() says why; end the connection */
};

/* tls_feed - ciphertext from the peer (copied). TLS_ERR past the bound
 * of buffered input (TLS_FEED_MAX); TLS_CLOSED
 * (input dropped) after the peer's close_notify.
 * tls_room - how many bytes tls_feed() takes now; tls_read() or
 * tls_handshake() returning "need more" means the buffer is empty. */
enum tls_rc	 tls_feed(struct tls *t, const char *p, size_t n);
size_t		 tls_room(const struct tls *t);

/* tls_handshake - advance the handshake: TLS_OK once complete, TLS_WANT
 * while it needs more input (check tls_pending() for output), TLS_ERR. */
enum tls_rc	 tls_handshake(struct tls *t);
int		 tls_handshake_done(const struct tls *t);

/*
 * tls_read - plaintext after the handshake: >0 bytes written to out,
 * 0 when more ciphertext is needed, -1 on TLS_CLOSED or TLS_ERR
 * (tls_error() is NULL for a clean close_notify). Call it until it
 * returns 0 or -1: one fed chunk may hold several records. Before the
 * handshake is done it advances the handshake and returns 0 (or -1).
 * Renegotiation attempts are refused (the peer gets a no_renegotiation
 * alert) and end the connection: -1, "peer attempted renegotiation".
 */
ssize_t		 tls_read(struct tls *t, char *out, size_t cap);

/* tls_write - encrypt all of p[0..n) into the pending output. 0, or -1
 * with tls_error(): before the handshake, after either close_notify,
 * past TLS_OUT_MAX, or an mbedTLS failure. */
int		 tls_write(struct tls *t, const char *p, size_t n);

/* tls_close_notify - queue a close_notify alert once (also as the answer
 * to the peer's); nothing before the handshake completed. */
void		 tls_close_notify(struct tls *t);

/*
 * tls_pending - ciphertext waiting to be sent: *p and its length (0
 * and an empty string, never NULL, when none is). *p
 * is borrowed and valid only until the next tls_* call on t (any call
 * may add output, move or free the buffer): fine for uv_try_write()
 * then tls_consume(); for uv_write() use tls_take().
 * tls_consume - n of those bytes were handed to the socket.
 * tls_take - all pending ciphertext as one malloc()ed buffer that the
 * caller owns and free()s (e.g. in the uv_write callback); *n is its
 * length. NULL with *n = 0 when nothing is pending.
 */
size_t		 tls_pending(struct tls *t, const char **p);
void		 tls_consume(struct tls *t, size_t n);
char		*tls_take(struct tls *t, size_t *n);

/* After the handshake: "TLSv1.2", "TLS-ECDHE-RSA-WITH-AES-256-GCM-SHA384";
 * NULL before. tls_resumed: 1 when the handshake resumed a session (an
 * abbreviated handshake from a ticket or the cache), else 0. */
const char	*tls_version(const struct tls *t);
const char	*tls_cipher(const struct tls *t);
int		 tls_resumed(const struct tls *t);
/* The reason t failed, as text for the log (untrusted peer data never
 * appears in it), or NULL. */
const char	*tls_error(const struct tls *t);

#endif
