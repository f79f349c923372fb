/*
 * tls/tls_conn.c - one TLS connection on memory: ciphertext fed by the
 * session waits in a buffer that mbedTLS drains through its receive
 * callback (WANT_READ when empty); what mbedTLS sends is appended to an
 * output buffer the session drains to its socket. Input: the peer's
 * bytes, untrusted (mbedTLS parses them; we only follow the plaintext
 * record headers, RFC 5246 6.2.1, to see whose ChangeCipherSpec came
 * first). Owns both buffers; each holds only what is in flight (input
 * at most TLS_FEED_MAX, output at most TLS_OUT_MAX) and is freed when
 * empty, so an idle connection costs mbedTLS's own record buffers and
 * little more. Renegotiation is refused (RFC 5746 4.5) and then ends
 * the connection. One thread uses a connection at a time.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/version.h>
#include <mbedtls/x509.h>

#include "tls/tls_int.h"

#define REC_CCS		20	/* record content types, RFC 5246 6.2.1 */
#define REC_ALERT	21
#define REC_HEADER	5

enum ccs_order { CCS_NONE = 0, CCS_OURS_FIRST, CCS_PEER_FIRST };

struct tls {
	struct tls_ctx		*ctx;		/* counted reference */
	mbedtls_ssl_context	 ssl;		/* its record buffers: mbedTLS's */
	unsigned char		*in;		/* owned; fed, not yet taken */
	size_t			 in_off, in_len;
	unsigned char		*out;		/* owned; ciphertext to send */
	size_t			 out_off, out_len, out_cap;
	unsigned		 alerts;	/* alert records we sent */
	unsigned char		 rh[REC_HEADER];	/* peer record header so far */
	unsigned char		 rh_have;
	size_t			 rbody;		/* peer record body bytes to skip */
	enum ccs_order		 ccs;
	unsigned		 done:1;	/* handshake complete */
	unsigned		 closed:1;	/* peer sent close_notify */
	unsigned		 notified:1;	/* we queued close_notify */
	unsigned		 failed:1;	/* err says why; no more I/O */
	unsigned		 resumed:1;
	unsigned		 err_lost:1;	/* no memory for err */
	char			*err;		/* owned; NULL until failed */
};

#define ERR_CAP	256

/*
 * Marks t failed and returns the buffer for its reason (allocated only
 * now: healthy connections carry none), or NULL when out of memory;
 * tls_error() then says so.
 */
static char *
conn_fail_buf(struct tls *t)
{
	t->failed = 1;
	if (t->err == NULL && (t->err = malloc(ERR_CAP)) == NULL) {
		t->err_lost = 1;
		return NULL;
	}
	return t->err;
}

/* Marks t failed with "what: mbedTLS text". */
static void
conn_fail(struct tls *t, const char *what, int ret)
{
	char *b = conn_fail_buf(t);

	if (b != NULL)
		tls_strerror(b, ERR_CAP, what, ret);
}

static void
conn_fail_fmt(struct tls *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
conn_fail_fmt(struct tls *t, const char *fmt, ...)
{
	char *b = conn_fail_buf(t);
	va_list ap;

	if (b == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(b, ERR_CAP, fmt, ap);
	va_end(ap);
}

/* After the mbedTLS call that drained it, the input buffer goes. */
static void
in_release(struct tls *t)
{
	if (t->in != NULL && t->in_off == t->in_len) {
		free(t->in);
		t->in = NULL;
		t->in_off = t->in_len = 0;
	}
}

/*
 * Follows the peer's record headers during the handshake. In a full
 * TLS 1.2 handshake the client sends ChangeCipherSpec first; in an
 * abbreviated (resumed) one the server does (RFC 5246 7.3, RFC 5077
 * 3.1). mbedTLS asks for exactly one header, then one body, so p is the
 * stream in order.
 */
static void
track_peer(struct tls *t, const unsigned char *p, size_t n)
{
	size_t k;

	while (n > 0 && !t->done) {
		if (t->rbody > 0) {
			k = n < t->rbody ? n : t->rbody;
			t->rbody -= k;
			p += k;
			n -= k;
			continue;
		}
		t->rh[t->rh_have++] = *p++;
		n--;
		if (t->rh_have < REC_HEADER)
			continue;
		t->rh_have = 0;
		t->rbody = (size_t)t->rh[3] << 8 | t->rh[4];
		if (t->rh[0] == REC_CCS && t->ccs == CCS_NONE)
			t->ccs = CCS_PEER_FIRST;
	}
}

/* mbedTLS's receive callback: what was fed, or WANT_READ when empty. */
static int
bio_recv(void *arg, unsigned char *buf, size_t len)
{
	struct tls *t = arg;
	size_t n = t->in_len - t->in_off;

	if (n == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n > len)
		n = len;
	memcpy(buf, t->in + t->in_off, n);
	t->in_off += n;
	track_peer(t, buf, n);
	return (int)n;
}

/*
 * mbedTLS's send callback: appends all of buf, so mbedTLS never sees
 * WANT_WRITE and always hands over one whole record per call; that is
 * what lets us count alerts and see our ChangeCipherSpec by type.
 */
static int
bio_send(void *arg, const unsigned char *buf, size_t len)
{
	struct tls *t = arg;
	unsigned char *p;
	size_t need, cap;

	if (len == 0)
		return 0;
	if (t->out_off > 0 && t->out_len + len > t->out_cap) {
		memmove(t->out, t->out + t->out_off, t->out_len - t->out_off);
		t->out_len -= t->out_off;
		t->out_off = 0;
	}
	need = t->out_len + len;
	if (need > t->out_cap) {
		cap = t->out_cap * 2 > need ? t->out_cap * 2 : need;
		cap = (cap + 1023) & ~(size_t)1023;
		if ((p = realloc(t->out, cap)) == NULL)
			return MBEDTLS_ERR_SSL_ALLOC_FAILED;
		t->out = p;
		t->out_cap = cap;
	}
	memcpy(t->out + t->out_len, buf, len);
	t->out_len += len;
	if (buf[0] == REC_ALERT)
		t->alerts++;
	else if (buf[0] == REC_CCS && t->ccs == CCS_NONE)
		t->ccs = CCS_OURS_FIRST;
	return (int)len;
}

/*
 * tls_new - see tls.h. Client connections get SNI and the name to check
 * from the context, and its saved session to resume.
 */
struct tls *
tls_new(struct tls_ctx *ctx)
{
	struct tls *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	mbedtls_ssl_init(&t->ssl);
	if (mbedtls_ssl_setup(&t->ssl, &ctx->conf) != 0)
		goto fail;
	if (!ctx->server) {
		if (ctx->server_name != NULL &&
		    mbedtls_ssl_set_hostname(&t->ssl, ctx->server_name) != 0)
			goto fail;
		tls_ctx_offer_session(ctx, &t->ssl);
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	tls_ctx_ref(ctx);
	t->ctx = ctx;
	return t;

fail:
	mbedtls_ssl_free(&t->ssl);
	free(t);
	return NULL;
}

/* tls_free - see tls.h; drops the context reference last. */
void
tls_free(struct tls *t)
{
	if (t == NULL)
		return;
	mbedtls_ssl_free(&t->ssl);
	free(t->in);
	t->in = NULL;
	free(t->out);
	t->out = NULL;
	free(t->err);
	t->err = NULL;
	tls_ctx_free(t->ctx);
	t->ctx = NULL;
	free(t);
}

/*
 * tls_feed - see tls.h. The copy is sized to what is held; it is freed
 * as soon as mbedTLS has taken it all.
 */
enum tls_rc
tls_feed(struct tls *t, const char *p, size_t n)
{
	size_t have = t->in_len - t->in_off;
	unsigned char *b;

	if (t->failed)
		return TLS_ERR;
	if (t->closed)
		return TLS_CLOSED;	/* nothing follows close_notify */
	if (n == 0)
		return TLS_OK;
	if (n > TLS_FEED_MAX - have) {
		conn_fail_fmt(t, "more than %d bytes of ciphertext waiting",
		    TLS_FEED_MAX);
		return TLS_ERR;
	}
	if (have > 0 && t->in_off > 0)
		memmove(t->in, t->in + t->in_off, have);
	if ((b = realloc(t->in, have + n)) == NULL) {
		conn_fail_fmt(t, "out of memory for ciphertext");
		return TLS_ERR;
	}
	memcpy(b + have, p, n);
	t->in = b;
	t->in_off = 0;
	t->in_len = have + n;
	return TLS_OK;
}

/* tls_room - see tls.h. */
size_t
tls_room(const struct tls *t)
{
	return TLS_FEED_MAX - (t->in_len - t->in_off);
}

/* RFC 5246 7.2 and RFC 6066 names of the alerts a handshake may end
 * with, for the log. */
static const char *
alert_name(unsigned a)
{
	switch (a) {
	case 0:		return "close_notify";
	case 10:	return "unexpected_message";
	case 20:	return "bad_record_mac";
	case 22:	return "record_overflow";
	case 40:	return "handshake_failure";
	case 42:	return "bad_certificate";
	case 43:	return "unsupported_certificate";
	case 44:	return "certificate_revoked";
	case 45:	return "certificate_expired";
	case 46:	return "certificate_unknown";
	case 47:	return "illegal_parameter";
	case 48:	return "unknown_ca";
	case 49:	return "access_denied";
	case 50:	return "decode_error";
	case 51:	return "decrypt_error";
	case 70:	return "protocol_version";
	case 71:	return "insufficient_security";
	case 80:	return "internal_error";
	case 86:	return "inappropriate_fallback";
	case 90:	return "user_canceled";
	case 100:	return "no_renegotiation";
	case 110:	return "unsupported_extension";
	case 112:	return "unrecognized_name";
	default:	return "unknown";
	}
}

/* Handshake failure text: the verification result when there is one. */
static void
handshake_fail(struct tls *t, int ret)
{
	char info[200], *nl;
	uint32_t flags;
	size_t len;

	flags = mbedtls_ssl_get_verify_result(&t->ssl);
	if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED && flags != 0 &&
	    flags != UINT32_MAX &&
	    mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) > 0) {
		/* One line per reason: join them with "; ". */
		len = strlen(info);
		while (len > 0 && info[len - 1] == '\n')
			info[--len] = '\0';
		while ((nl = strchr(info, '\n')) != NULL)
			*nl = ';';
		conn_fail_fmt(t, "certificate verify failed: %s", info);
		return;
	}
#if MBEDTLS_VERSION_MAJOR < 3
	/* 2.x keeps the record public: name the alert the peer sent. */
	if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE) {
		conn_fail_fmt(t, "handshake failed: peer sent fatal alert %u "
		    "(%s)", (unsigned)t->ssl.in_msg[1],
		    alert_name(t->ssl.in_msg[1]));
		return;
	}
#endif
	conn_fail(t, "handshake failed", ret);
}

/*
 * tls_handshake - see tls.h. WANT_WRITE cannot come from our callbacks;
 * it is reported as TLS_WANT like WANT_READ, and the session's
 * handshake timer ends such a connection anyway.
 */
enum tls_rc
tls_handshake(struct tls *t)
{
	int ret;

	if (t->failed)
		return TLS_ERR;
	if (t->done)
		return TLS_OK;
	ret = mbedtls_ssl_handshake(&t->ssl);
	in_release(t);
	if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
	    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return TLS_WANT;
	if (ret != 0) {
		handshake_fail(t, ret);
		return TLS_ERR;
	}
	t->done = 1;
	t->resumed = t->ctx->server ? t->ccs == CCS_OURS_FIRST :
	    t->ccs == CCS_PEER_FIRST;
	if (!t->ctx->server)
		tls_ctx_keep_session(t->ctx, &t->ssl);
	return TLS_OK;
}

/* tls_handshake_done - 1 once tls_handshake() returned TLS_OK. */
int
tls_handshake_done(const struct tls *t)
{
	return t->done;
}

/*
 * tls_read - see tls.h. Before the handshake is done it drives the
 * handshake and returns 0 until it is. mbedTLS answers a renegotiation
 * request (the peer's ClientHello, or a HelloRequest from a backend)
 * with a no_renegotiation warning alert and carries on; an alert sent
 * while reading can mean nothing else, so we end the connection there:
 * plaintext already returned stays valid, the next call returns -1.
 */
ssize_t
tls_read(struct tls *t, char *out, size_t cap)
{
	unsigned alerts = t->alerts;
	enum tls_rc rc;
	int ret;

	if (t->failed || t->closed)
		return -1;
	if (!t->done) {
		rc = tls_handshake(t);
		if (rc == TLS_WANT)
			return 0;
		if (rc != TLS_OK)
			return -1;
	}
	if (cap == 0)
		return 0;
	for (;;) {
		ret = mbedtls_ssl_read(&t->ssl, (unsigned char *)out, cap);
		in_release(t);
		if (t->alerts != alerts && (ret > 0 ||
		    ret == MBEDTLS_ERR_SSL_WANT_READ)) {
			conn_fail_fmt(t, "peer attempted renegotiation "
			    "(refused)");
			return ret > 0 ? ret : -1;
		}
		if (ret > 0)
			return ret;
		if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
		    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			return 0;
		if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
			t->closed = 1;
			return -1;
		}
#ifdef MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET
		/* TLS 1.3 (mbedTLS 3.x): a ticket is not data; read on. */
		if (ret == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET)
			continue;
#endif
		if (ret == 0) {
			/* Only a transport EOF gives 0; our callback has none. */
			conn_fail_fmt(t, "read failed: unexpected end of "
			    "input");
			return -1;
		}
		conn_fail(t, "read failed", ret);
		return -1;
	}
}

/*
 * tls_write - see tls.h. Refuses before the handshake, after either
 * close_notify, and when the ciphertext would pass TLS_OUT_MAX; all of
 * these mark t failed. mbedtls_ssl_write() takes at most one record per
 * call, so it is called again with the rest until none is left.
 */
int
tls_write(struct tls *t, const char *p, size_t n)
{
	size_t pending, records, payload;
	int ret, expansion;

	if (t->failed)
		return -1;
	if (!t->done || t->closed || t->notified) {
		conn_fail_fmt(t, "%s", !t->done ? "write before the "
		    "handshake completed" : "write after close_notify");
		return -1;
	}
	ret = mbedtls_ssl_get_max_out_record_payload(&t->ssl);
	payload = ret > 0 ? (size_t)ret : 1;
	expansion = mbedtls_ssl_get_record_expansion(&t->ssl);
	records = n / payload + 1;
	pending = t->out_len - t->out_off;
	if (expansion < 0 || n > TLS_OUT_MAX || pending > TLS_OUT_MAX -
	    n || records * (size_t)expansion > TLS_OUT_MAX - n - pending) {
		conn_fail_fmt(t, "ciphertext waiting to be sent would pass %d "
		    "bytes", TLS_OUT_MAX);
		return -1;
	}
	while (n > 0) {
		ret = mbedtls_ssl_write(&t->ssl, (const unsigned char *)p, n);
		if (ret <= 0) {
			/* 0 would loop forever; WANT_* cannot happen here. */
			conn_fail(t, "write failed", ret);
			return -1;
		}
		p += ret;
		n -= (size_t)ret;
	}
	return 0;
}

/* tls_close_notify - see tls.h; a failure marks t failed. */
void
tls_close_notify(struct tls *t)
{
	int ret;

	if (!t->done || t->failed || t->notified)
		return;
	t->notified = 1;
	if ((ret = mbedtls_ssl_close_notify(&t->ssl)) != 0)
		conn_fail(t, "close_notify failed", ret);
}

/*
 * tls_pending - see tls.h; *p is borrowed from t. With nothing pending
 * there is no buffer, and NULL + 0 is undefined (C11 6.5.6): *p is then
 * an empty string, never NULL, so a caller's p + n stays defined too.
 */
size_t
tls_pending(struct tls *t, const char **p)
{
	if (t->out == NULL) {
		*p = "";
		return 0;
	}
	*p = (const char *)t->out + t->out_off;
	return t->out_len - t->out_off;
}

/* tls_consume - see tls.h; n past what is pending counts as all. */
void
tls_consume(struct tls *t, size_t n)
{
	if (n > t->out_len - t->out_off)
		n = t->out_len - t->out_off;
	t->out_off += n;
	if (t->out_off == t->out_len) {
		free(t->out);
		t->out = NULL;
		t->out_off = t->out_len = t->out_cap = 0;
	}
}

/* tls_take - see tls.h: hands over our buffer, no copy. */
char *
tls_take(struct tls *t, size_t *n)
{
	unsigned char *b;

	*n = t->out_len - t->out_off;
	if (*n == 0) {
		tls_consume(t, 0);
		return NULL;
	}
	if (t->out_off > 0)
		memmove(t->out, t->out + t->out_off, *n);
	b = t->out;
	t->out = NULL;
	t->out_off = t->out_len = t->out_cap = 0;
	return (char *)b;
}

/* tls_version, tls_cipher - mbedTLS's static names; NULL before the
 * handshake completed. */
const char *
tls_version(const struct tls *t)
{
	return t->done ? mbedtls_ssl_get_version(&t->ssl) : NULL;
}

const char *
tls_cipher(const struct tls *t)
{
	return t->done ? mbedtls_ssl_get_ciphersuite(&t->ssl) : NULL;
}

/* tls_resumed - see tls.h; decided when the handshake completed. */
int
tls_resumed(const struct tls *t)
{
	return t->resumed;
}

/* tls_error - see tls.h; the text is owned by t. */
const char *
tls_error(const struct tls *t)
{
	if (t->err_lost)
		return "out of memory (the reason was lost)";
	return t->err;
}
