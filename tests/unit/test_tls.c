/*
 * tests/unit/test_tls.c - tls/: handshakes, data, resumption, refusals
 * and failures between a client and a server struct tls, fully in
 * memory. The CA, certificates and keys are made at test time with
 * mbedTLS's pk/x509write APIs into a mkdtemp() directory (no key is
 * ever committed). Renegotiation and cache-only resumption need peers
 * our API does not offer (renegotiation on, tickets off): those are
 * plain mbedTLS contexts on memory, built here.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "tls/tls.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifdef TEST_ASAN
/* From the ASan runtime (gcc ships no <sanitizer/allocator_interface.h>). */
size_t	__sanitizer_get_current_allocated_bytes(void);
#else
#include <malloc.h>
#endif

#define N(a)		(sizeof(a) / sizeof((a)[0]))
#define NAME		"mx.test.example"
#define MB		(1024 * 1024)

static mbedtls_entropy_context	 g_entropy;
static mbedtls_ctr_drbg_context	 g_drbg;
static char			 g_dir[64];
static char			 g_ca[128], g_cert[128], g_key[128];
static char			 g_rogue_cert[128], g_rogue_key[128];
static char			 g_other_key[128], g_garbage[128];

/* ---- test-time certificates ---------------------------------------- */

static int
gen_key(mbedtls_pk_context *pk)
{
	int ret;

	mbedtls_pk_init(pk);
	if ((ret = mbedtls_pk_setup(pk,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0)
		return ret;
	return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
	    mbedtls_ctr_drbg_random, &g_drbg);
}

/* A PEM certificate for subject_key, signed by issuer_key. */
static int
gen_cert(char *pem, size_t cap, mbedtls_pk_context *subject_key,
    mbedtls_pk_context *issuer_key, const char *subject, const char *issuer,
    int is_ca, int serial)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi sn;
	int ret;

	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&sn);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, subject_key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer_key);
	if ((ret = mbedtls_mpi_lset(&sn, serial)) == 0 &&
	    (ret = mbedtls_x509write_crt_set_serial(&w, &sn)) == 0 &&
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) == 0 &&
	    (ret = mbedtls_x509write_crt_set_issuer_name(&w, issuer)) == 0 &&
	    (ret = mbedtls_x509write_crt_set_validity(&w, "20200101000000",
	    "20991231235959")) == 0 &&
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&w, is_ca,
	    -1)) == 0 &&
	    (ret = mbedtls_x509write_crt_set_key_usage(&w, is_ca ?
	    MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN :
	    MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) == 0)
		ret = mbedtls_x509write_crt_pem(&w, (unsigned char *)pem, cap,
		    mbedtls_ctr_drbg_random, &g_drbg);
	mbedtls_mpi_free(&sn);
	mbedtls_x509write_crt_free(&w);
	return ret;
}

static int
gen_key_pem(char *pem, size_t cap, mbedtls_pk_context *pk)
{
	return mbedtls_pk_write_key_pem(pk, (unsigned char *)pem, cap);
}

static int
write_file(char *path, size_t cap, const char *name, const char *a,
    const char *b)
{
	FILE *f;
	int ok;

	snprintf(path, cap, "%s/%s", g_dir, name);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	ok = fputs(a, f) >= 0 && (b == NULL || fputs(b, f) >= 0);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
group_setup(void **state)
{
	static char ca_pem[4096], ca_key_pem[4096], cert_pem[4096],
	    key_pem[4096], rogue_pem[4096], rogue_key_pem[4096],
	    other_key_pem[4096];
	mbedtls_pk_context ca, key, rogue, other;
	int ret;

	(void)state;
	mbedtls_entropy_init(&g_entropy);
	mbedtls_ctr_drbg_init(&g_drbg);
	if (mbedtls_ctr_drbg_seed(&g_drbg, mbedtls_entropy_func, &g_entropy,
	    (const unsigned char *)"test_tls", 8) != 0)
		return -1;
	snprintf(g_dir, sizeof(g_dir), "/tmp/mxs-test-tls-XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	ret = gen_key(&ca) | gen_key(&key) | gen_key(&rogue) |
	    gen_key(&other);
	if (ret == 0)
		ret = gen_cert(ca_pem, sizeof(ca_pem), &ca, &ca,
		    "CN=mxshield test CA,O=mxshield", "CN=mxshield test CA,"
		    "O=mxshield", 1, 1);
	if (ret == 0)
		ret = gen_cert(cert_pem, sizeof(cert_pem), &key, &ca,
		    "CN=" NAME ",O=mxshield", "CN=mxshield test CA,"
		    "O=mxshield", 0, 2);
	if (ret == 0)
		ret = gen_cert(rogue_pem, sizeof(rogue_pem), &rogue, &rogue,
		    "CN=" NAME ",O=rogue", "CN=" NAME ",O=rogue", 0, 3);
	if (ret == 0)
		ret = gen_key_pem(ca_key_pem, sizeof(ca_key_pem), &ca) |
		    gen_key_pem(key_pem, sizeof(key_pem), &key) |
		    gen_key_pem(rogue_key_pem, sizeof(rogue_key_pem), &rogue) |
		    gen_key_pem(other_key_pem, sizeof(other_key_pem), &other);
	mbedtls_pk_free(&ca);
	mbedtls_pk_free(&key);
	mbedtls_pk_free(&rogue);
	mbedtls_pk_free(&other);
	if (ret != 0)
		return -1;
	/* The server file holds the chain: its certificate, then the CA. */
	if (write_file(g_ca, sizeof(g_ca), "ca.pem", ca_pem, NULL) != 0 ||
	    write_file(g_cert, sizeof(g_cert), "server.pem", cert_pem,
	    ca_pem) != 0 ||
	    write_file(g_key, sizeof(g_key), "server.key", key_pem,
	    NULL) != 0 ||
	    write_file(g_rogue_cert, sizeof(g_rogue_cert), "rogue.pem",
	    rogue_pem, NULL) != 0 ||
	    write_file(g_rogue_key, sizeof(g_rogue_key), "rogue.key",
	    rogue_key_pem, NULL) != 0 ||
	    write_file(g_other_key, sizeof(g_other_key), "other.key",
	    other_key_pem, NULL) != 0 ||
	    write_file(g_garbage, sizeof(g_garbage), "garbage.pem",
	    "-----BEGIN CERTIFICATE-----\nnot base64 at all\n"
	    "-----END CERTIFICATE-----\n", NULL) != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	const char *files[] = { g_ca, g_cert, g_key, g_rogue_cert,
	    g_rogue_key, g_other_key, g_garbage };

	(void)state;
	for (size_t i = 0; i < N(files); i++)
		if (files[i][0] != '\0')
			unlink(files[i]);
	rmdir(g_dir);
	mbedtls_ctr_drbg_free(&g_drbg);
	mbedtls_entropy_free(&g_entropy);
	return 0;
}

/* ---- pumping bytes between two struct tls --------------------------- */

/* Moves up to max pending bytes from a to b (within b's room); -1 when
 * b refuses them. No cmocka asserts: threads use it too. */
static long
xfer(struct tls *a, struct tls *b, size_t max)
{
	const char *p;
	size_t n, room;

	n = tls_pending(a, &p);
	room = tls_room(b);
	if (n > room)
		n = room;
	if (n > max)
		n = max;
	if (n == 0)
		return 0;
	if (tls_feed(b, p, n) != TLS_OK)
		return -1;
	tls_consume(a, n);
	return (long)n;
}

/*
 * Drives both handshakes, moving at most step bytes per direction and
 * round, until both finished, one failed, or nothing moves. *sbytes
 * (if given) adds up what the server sent.
 */
static void
handshake(struct tls *c, struct tls *s, size_t step, enum tls_rc *crc,
    enum tls_rc *src, size_t *sbytes)
{
	long m1, m2;

	for (long i = 0; i < 1000000; i++) {
		*crc = tls_handshake(c);
		m1 = xfer(c, s, step);
		*src = tls_handshake(s);
		m2 = xfer(s, c, step);
		if (sbytes != NULL && m2 > 0)
			*sbytes += (size_t)m2;
		if (*crc == TLS_ERR || *src == TLS_ERR || m1 < 0 || m2 < 0)
			return;
		if (m1 == 0 && m2 == 0)
			return;		/* done, or stalled */
	}
}

/* Sends data[0..len) from one side to the other, writes of wchunk and
 * reads of at most rcap; 0 when it arrived intact. */
static int
transfer(struct tls *from, struct tls *to, const unsigned char *data,
    size_t len, size_t wchunk, size_t rcap)
{
	unsigned char *got;
	const char *p;
	size_t off = 0, have = 0, n;
	ssize_t r;
	long guard = 0;
	int rc = -1;

	if ((got = malloc(len > 0 ? len : 1)) == NULL)
		return -1;
	while (have < len) {
		if (++guard > 10000000)
			goto out;
		if (off < len && tls_pending(from, &p) < 64 * 1024) {
			n = len - off < wchunk ? len - off : wchunk;
			if (tls_write(from, (const char *)data + off, n) != 0)
				goto out;
			off += n;
		}
		if (xfer(from, to, SIZE_MAX) < 0)
			goto out;
		for (;;) {
			n = len - have < rcap ? len - have : rcap;
			if (n == 0)
				break;
			r = tls_read(to, (char *)got + have, n);
			if (r < 0)
				goto out;
			if (r == 0)
				break;
			have += (size_t)r;
		}
	}
	rc = memcmp(got, data, len) == 0 ? 0 : -1;
out:
	free(got);
	return rc;
}

static unsigned char *
pattern(size_t len, uint32_t seed)
{
	unsigned char *b = malloc(len);

	if (b == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 17;
		seed ^= seed << 5;
		b[i] = (unsigned char)seed;
	}
	return b;
}

static struct tls_ctx *
server_ctx(const char *cert, const char *key)
{
	char err[256] = "";
	struct tls_ctx *ctx = tls_ctx_server(cert, key, err, sizeof(err));

	if (ctx == NULL)
		fail_msg("tls_ctx_server: %s", err);
	return ctx;
}

static struct tls_ctx *
client_ctx(int verify, const char *name)
{
	char err[256] = "";
	struct tls_ctx *ctx = tls_ctx_client(verify, g_ca, name, err,
	    sizeof(err));

	if (ctx == NULL)
		fail_msg("tls_ctx_client: %s", err);
	return ctx;
}

static int
has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

/* ---- handshake and data --------------------------------------------- */

static void
test_handshake_and_data(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	unsigned char *up = pattern(MB, 1), *down = pattern(MB, 2);
	enum tls_rc crc, src;
	char buf[64];

	(void)state;
	assert_non_null(c);
	assert_non_null(s);
	assert_null(tls_version(c));
	assert_null(tls_cipher(s));
	assert_int_equal(tls_handshake_done(c), 0);
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(src, TLS_OK);
	assert_int_equal(tls_handshake_done(c), 1);
	assert_int_equal(tls_handshake_done(s), 1);
	assert_string_equal(tls_version(c), "TLSv1.2");
	assert_string_equal(tls_version(s), "TLSv1.2");
	/* ECDSA certificate, the server's order: AES-256-GCM first. */
	assert_string_equal(tls_cipher(s),
	    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");
	assert_string_equal(tls_cipher(c),
	    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");
	assert_int_equal(tls_resumed(c), 0);
	assert_int_equal(tls_resumed(s), 0);
	assert_null(tls_error(c));
	assert_null(tls_error(s));

	/* A command and a reply. */
	assert_int_equal(tls_write(c, "EHLO a.example\r\n", 16), 0);
	assert_true(xfer(c, s, SIZE_MAX) > 0);
	assert_int_equal(tls_read(s, buf, sizeof(buf)), 16);
	assert_memory_equal(buf, "EHLO a.example\r\n", 16);
	assert_int_equal(tls_read(s, buf, sizeof(buf)), 0);
	assert_int_equal(tls_write(s, "250 ok\r\n", 8), 0);
	assert_true(xfer(s, c, SIZE_MAX) > 0);
	/* Short reads leave the rest inside mbedTLS for the next call. */
	assert_int_equal(tls_read(c, buf, 3), 3);
	assert_int_equal(tls_read(c, buf + 3, sizeof(buf) - 3), 5);
	assert_memory_equal(buf, "250 ok\r\n", 8);

	/* 1 MB each way, checked byte for byte. */
	assert_non_null(up);
	assert_non_null(down);
	assert_int_equal(transfer(c, s, up, MB, 65536, 4096), 0);
	assert_int_equal(transfer(s, c, down, MB, 20000, 65536), 0);
	assert_int_equal(transfer(c, s, up, 100000, 1, 7), 0);
	assert_null(tls_error(c));
	assert_null(tls_error(s));

	free(up);
	free(down);
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

/* Every ciphertext byte delivered on its own. */
static void
test_byte_at_a_time(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	unsigned char *data = pattern(40000, 3);
	enum tls_rc crc, src;

	(void)state;
	handshake(c, s, 1, &crc, &src, NULL);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(src, TLS_OK);
	assert_int_equal(tls_write(c, (const char *)data, 40000), 0);
	{
		unsigned char got[40000];
		size_t have = 0;
		ssize_t r;

		while (have < sizeof(got)) {
			assert_true(xfer(c, s, 1) == 1);
			r = tls_read(s, (char *)got + have, sizeof(got) - have);
			assert_true(r >= 0);
			have += (size_t)r;
		}
		assert_memory_equal(got, data, sizeof(got));
	}
	free(data);
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

/* A second connection resumes from the client context's saved ticket;
 * the server then sends no certificate, so far fewer bytes. */
static void
test_resume_ticket(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c, *s;
	enum tls_rc crc, src;
	size_t full = 0, abbrev = 0;
	unsigned char *data = pattern(50000, 4);

	(void)state;
	c = tls_new(cctx);
	s = tls_new(sctx);
	handshake(c, s, SIZE_MAX, &crc, &src, &full);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(src, TLS_OK);
	assert_int_equal(tls_resumed(s), 0);
	tls_free(c);
	tls_free(s);

	for (int i = 0; i < 2; i++) {
		abbrev = 0;
		c = tls_new(cctx);
		s = tls_new(sctx);
		handshake(c, s, SIZE_MAX, &crc, &src, &abbrev);
		assert_int_equal(crc, TLS_OK);
		assert_int_equal(src, TLS_OK);
		assert_int_equal(tls_resumed(c), 1);
		assert_int_equal(tls_resumed(s), 1);
		assert_true(abbrev * 2 < full);
		assert_int_equal(transfer(c, s, data, 50000, 50000, 50000), 0);
		assert_int_equal(transfer(s, c, data, 50000, 50000, 50000), 0);
		tls_free(c);
		tls_free(s);
	}
	free(data);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

/* ---- plain mbedTLS peers on memory, for what our API never does ----- */

struct raw {
	mbedtls_ssl_config	 conf;
	mbedtls_ssl_context	 ssl;
	mbedtls_x509_crt	 crt;
	mbedtls_pk_context	 key;
	unsigned char		 in[65536], out[65536];
	size_t			 in_off, in_len, out_len;
};

static int
raw_send(void *arg, const unsigned char *b, size_t n)
{
	struct raw *r = arg;

	if (n > sizeof(r->out) - r->out_len)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	memcpy(r->out + r->out_len, b, n);
	r->out_len += n;
	return (int)n;
}

static int
raw_recv(void *arg, unsigned char *b, size_t n)
{
	struct raw *r = arg;
	size_t have = r->in_len - r->in_off;

	if (have == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n > have)
		n = have;
	memcpy(b, r->in + r->in_off, n);
	r->in_off += n;
	return (int)n;
}

/* A renegotiating mbedTLS peer; server: with our test certificate;
 * client: tickets as given, no verification. */
static struct raw *
raw_new(int server, int tickets)
{
	struct raw *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	mbedtls_ssl_config_init(&r->conf);
	mbedtls_ssl_init(&r->ssl);
	mbedtls_x509_crt_init(&r->crt);
	mbedtls_pk_init(&r->key);
	assert_int_equal(mbedtls_ssl_config_defaults(&r->conf, server ?
	    MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
	    MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT), 0);
	mbedtls_ssl_conf_rng(&r->conf, mbedtls_ctr_drbg_random, &g_drbg);
	mbedtls_ssl_conf_authmode(&r->conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_renegotiation(&r->conf,
	    MBEDTLS_SSL_RENEGOTIATION_ENABLED);
	mbedtls_ssl_conf_session_tickets(&r->conf, tickets ?
	    MBEDTLS_SSL_SESSION_TICKETS_ENABLED :
	    MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	if (server) {
		assert_int_equal(mbedtls_x509_crt_parse_file(&r->crt, g_cert),
		    0);
		assert_int_equal(mbedtls_pk_parse_keyfile(&r->key, g_key,
		    NULL), 0);
		assert_int_equal(mbedtls_ssl_conf_own_cert(&r->conf, &r->crt,
		    &r->key), 0);
	}
	assert_int_equal(mbedtls_ssl_setup(&r->ssl, &r->conf), 0);
	if (!server)
		assert_int_equal(mbedtls_ssl_set_hostname(&r->ssl, NAME), 0);
	mbedtls_ssl_set_bio(&r->ssl, r, raw_send, raw_recv, NULL);
	return r;
}

static void
raw_free(struct raw *r)
{
	mbedtls_ssl_free(&r->ssl);
	mbedtls_ssl_config_free(&r->conf);
	mbedtls_x509_crt_free(&r->crt);
	mbedtls_pk_free(&r->key);
	free(r);
}

/* Both directions between a struct tls and a raw peer; bytes moved. */
static size_t
raw_pump(struct raw *r, struct tls *t)
{
	const char *p;
	size_t n, moved = 0;

	n = tls_pending(t, &p);
	if (n > 0) {
		memmove(r->in, r->in + r->in_off, r->in_len - r->in_off);
		r->in_len -= r->in_off;
		r->in_off = 0;
		assert_true(n <= sizeof(r->in) - r->in_len);
		memcpy(r->in + r->in_len, p, n);
		r->in_len += n;
		tls_consume(t, n);
		moved += n;
	}
	n = r->out_len < tls_room(t) ? r->out_len : tls_room(t);
	if (n > 0) {
		assert_int_equal(tls_feed(t, (const char *)r->out, n), TLS_OK);
		memmove(r->out, r->out + n, r->out_len - n);
		r->out_len -= n;
		moved += n;
	}
	return moved;
}

static void
raw_handshake(struct raw *r, struct tls *t)
{
	int ret = MBEDTLS_ERR_SSL_WANT_READ;
	enum tls_rc rc = TLS_WANT;

	for (int i = 0; i < 100; i++) {
		if (ret != 0)
			ret = mbedtls_ssl_handshake(&r->ssl);
		rc = tls_handshake(t);
		if (raw_pump(r, t) == 0 && ret != MBEDTLS_ERR_SSL_WANT_READ)
			break;
	}
	assert_int_equal(ret, 0);
	assert_int_equal(rc, TLS_OK);
}

/* Clients that send no ticket resume from the server's session cache. */
static void
test_resume_cache(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	mbedtls_ssl_session sess;
	struct raw *r;
	struct tls *s;

	(void)state;
	mbedtls_ssl_session_init(&sess);
	r = raw_new(0, 0);
	s = tls_new(sctx);
	raw_handshake(r, s);
	assert_int_equal(tls_resumed(s), 0);
	assert_int_equal(mbedtls_ssl_get_session(&r->ssl, &sess), 0);
	assert_true(sess.id_len > 0);
	raw_free(r);
	tls_free(s);

	r = raw_new(0, 0);
	s = tls_new(sctx);
	assert_int_equal(mbedtls_ssl_set_session(&r->ssl, &sess), 0);
	raw_handshake(r, s);
	assert_int_equal(tls_resumed(s), 1);
	raw_free(r);
	tls_free(s);
	mbedtls_ssl_session_free(&sess);
	tls_ctx_free(sctx);
}

/* Empty application data records (legal, RFC 5246 6.2.1) are skipped,
 * not taken for the end of the stream. */
static void
test_empty_records(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct raw *r = raw_new(0, 1);
	struct tls *s = tls_new(sctx);
	char out[64];

	(void)state;
	raw_handshake(r, s);
	assert_int_equal(mbedtls_ssl_write(&r->ssl,
	    (const unsigned char *)"", 0), 0);
	assert_true(r->out_len > 0);	/* a record went out */
	raw_pump(r, s);
	assert_int_equal(tls_read(s, out, sizeof(out)), 0);
	assert_null(tls_error(s));
	assert_int_equal(mbedtls_ssl_write(&r->ssl,
	    (const unsigned char *)"", 0), 0);
	assert_int_equal(mbedtls_ssl_write(&r->ssl,
	    (const unsigned char *)"RSET\r\n", 6), 6);
	raw_pump(r, s);
	assert_int_equal(tls_read(s, out, sizeof(out)), 6);
	assert_memory_equal(out, "RSET\r\n", 6);
	assert_int_equal(tls_read(s, out, sizeof(out)), 0);
	assert_null(tls_error(s));
	raw_free(r);
	tls_free(s);
	tls_ctx_free(sctx);
}

/* A client's renegotiation ClientHello ends the server connection. */
static void
test_renegotiation_from_client(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct raw *r = raw_new(0, 1);
	struct tls *s = tls_new(sctx);
	unsigned char buf[256];
	char out[256];
	int ret;

	(void)state;
	raw_handshake(r, s);
	assert_int_equal(mbedtls_ssl_write(&r->ssl,
	    (const unsigned char *)"NOOP\r\n", 6), 6);
	ret = mbedtls_ssl_renegotiate(&r->ssl);
	assert_true(ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_READ);
	raw_pump(r, s);
	/* The data before it still arrives, then the refusal. */
	assert_int_equal(tls_read(s, out, sizeof(out)), 6);
	assert_memory_equal(out, "NOOP\r\n", 6);
	assert_int_equal(tls_read(s, out, sizeof(out)), -1);
	assert_string_equal(tls_error(s),
	    "peer attempted renegotiation (refused)");
	assert_int_equal(tls_read(s, out, sizeof(out)), -1);
	assert_int_equal(tls_write(s, "x", 1), -1);
	/* The client hears a no_renegotiation warning, not silence. */
	raw_pump(r, s);
	assert_true(r->in_len - r->in_off > 0);
	ret = mbedtls_ssl_read(&r->ssl, buf, sizeof(buf));
	assert_true(ret < 0);
	raw_free(r);
	tls_free(s);
	tls_ctx_free(sctx);
}

/* A backend's HelloRequest ends our client connection. */
static void
test_renegotiation_from_server(void **state)
{
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct raw *r = raw_new(1, 1);
	struct tls *c = tls_new(cctx);
	char out[256];
	int ret;

	(void)state;
	raw_handshake(r, c);
	ret = mbedtls_ssl_renegotiate(&r->ssl);
	assert_true(ret == 0 || ret == MBEDTLS_ERR_SSL_WANT_READ);
	raw_pump(r, c);
	assert_int_equal(tls_read(c, out, sizeof(out)), -1);
	assert_string_equal(tls_error(c),
	    "peer attempted renegotiation (refused)");
	raw_free(r);
	tls_free(c);
	tls_ctx_free(cctx);
}

/* ---- verification --------------------------------------------------- */

static void
test_verify_untrusted(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_rogue_cert, g_rogue_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	enum tls_rc crc, src;

	(void)state;
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_ERR);
	assert_true(has(tls_error(c), "certificate verify failed: "));
	assert_true(has(tls_error(c), "not correctly signed by the trusted "
	    "CA"));
	assert_int_equal(tls_handshake(c), TLS_ERR);
	/* The client's fatal alert reached the server: bad_certificate. */
	assert_int_equal(src, TLS_ERR);
	assert_string_equal(tls_error(s), "handshake failed: peer sent fatal "
	    "alert 48 (unknown_ca)");
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

static void
test_verify_wrong_name(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, "mx.other.example");
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	enum tls_rc crc, src;

	(void)state;
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_ERR);
	assert_true(has(tls_error(c), "certificate verify failed: "));
	assert_true(has(tls_error(c), "Common Name (CN) does not match"));
	assert_int_equal(src, TLS_ERR);
	assert_string_equal(tls_error(s), "handshake failed: peer sent fatal "
	    "alert 42 (bad_certificate)");
	assert_null(tls_cipher(c));
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

/* Verification off: the rogue certificate passes; no name works too. */
static void
test_verify_off(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_rogue_cert, g_rogue_key);
	const char *names[] = { NAME, "mx.other.example", NULL };
	enum tls_rc crc, src;

	(void)state;
	for (size_t i = 0; i < N(names); i++) {
		char err[256];
		struct tls_ctx *cctx = tls_ctx_client(0, "/nonexistent/ca.pem",
		    names[i], err, sizeof(err));
		struct tls *c, *s;

		assert_non_null(cctx);
		c = tls_new(cctx);
		s = tls_new(sctx);
		handshake(c, s, SIZE_MAX, &crc, &src, NULL);
		assert_int_equal(crc, TLS_OK);
		assert_int_equal(src, TLS_OK);
		tls_free(c);
		tls_free(s);
		tls_ctx_free(cctx);
	}
	tls_ctx_free(sctx);
}

/* ---- bad input ------------------------------------------------------ */

#define IN(s)	s, sizeof(s) - 1

static const struct {
	const char	*in;
	size_t		 len;
	enum tls_rc	 rc;
} garbage_cases[] = {
	/* Plaintext SMTP and HTTP instead of a ClientHello. */
	{ IN("EHLO client.example\r\n"), TLS_ERR },
	{ IN("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), TLS_ERR },
	/* SSLv2-style hello. */
	{ IN("\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10"), TLS_ERR },
	/* A handshake record longer than any record may be. */
	{ IN("\x16\x03\x01\xff\xff"), TLS_ERR },
	/* A well-formed record of zeros: not a ClientHello. */
	{ IN("\x16\x03\x01\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00"),
	    TLS_ERR },
	/* Application data before any handshake. */
	{ IN("\x17\x03\x03\x00\x04" "abcd"), TLS_ERR },
	/* A ClientHello header claiming more than the record holds. */
	{ IN("\x16\x03\x01\x00\x06\x01\x00\xff\xff\x03\x03"), TLS_ERR },
	/* A plausible record header alone: waits for the body. */
	{ IN("\x16\x03\x01\x00\x40"), TLS_WANT },
	{ IN("\x16\x03"), TLS_WANT },
};

static void
test_garbage_client_hello(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	char out[64];

	(void)state;
	for (size_t i = 0; i < N(garbage_cases); i++) {
		struct tls *s = tls_new(sctx);

		assert_int_equal(tls_feed(s, garbage_cases[i].in,
		    garbage_cases[i].len), TLS_OK);
		assert_int_equal(tls_handshake(s), garbage_cases[i].rc);
		/* Asked again: the same answer, never a hang or a crash. */
		assert_int_equal(tls_handshake(s), garbage_cases[i].rc);
		if (garbage_cases[i].rc == TLS_ERR) {
			assert_string_equal(tls_error(s), "handshake failed: "
			    "SSL - Processing of the ClientHello handshake "
			    "message failed");
			assert_int_equal(tls_read(s, out, sizeof(out)), -1);
			assert_int_equal(tls_write(s, "x", 1), -1);
		} else {
			assert_null(tls_error(s));
			assert_int_equal(tls_read(s, out, sizeof(out)), 0);
		}
		tls_free(s);
	}
	/* The same bytes one at a time give the same answer. */
	for (size_t i = 0; i < N(garbage_cases); i++) {
		struct tls *s = tls_new(sctx);
		enum tls_rc rc = TLS_WANT;

		for (size_t j = 0; j < garbage_cases[i].len && rc == TLS_WANT;
		    j++) {
			assert_int_equal(tls_feed(s, garbage_cases[i].in + j,
			    1), TLS_OK);
			rc = tls_handshake(s);
		}
		assert_int_equal(rc, garbage_cases[i].rc);
		tls_free(s);
	}
	tls_ctx_free(sctx);
}

/* A peer that vanishes mid-handshake leaves both sides waiting: the
 * session's handshake timer ends them. */
static void
test_truncated_handshake(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	const char *p;
	size_t n;

	(void)state;
	assert_int_equal(tls_handshake(c), TLS_WANT);
	n = tls_pending(c, &p);
	assert_true(n > 10);
	/* Half a ClientHello. */
	assert_true(xfer(c, s, n / 2) > 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(tls_handshake(s), TLS_WANT);
	assert_int_equal(tls_pending(s, &p), 0);
	/* The rest: the server answers, the answer never arrives. */
	assert_true(xfer(c, s, SIZE_MAX) > 0);
	assert_int_equal(tls_handshake(s), TLS_WANT);
	assert_true(tls_pending(s, &p) > 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(tls_handshake(c), TLS_WANT);
		assert_int_equal(tls_handshake(s), TLS_WANT);
	}
	assert_null(tls_error(c));
	assert_null(tls_error(s));
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

static void
test_close_notify(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	enum tls_rc crc, src;
	const char *p;
	char out[64];
	size_t n;

	(void)state;
	/* Before the handshake it does nothing. */
	tls_close_notify(c);
	assert_int_equal(tls_pending(c, &p), 0);
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(tls_write(c, "QUIT\r\n", 6), 0);
	tls_close_notify(c);
	n = tls_pending(c, &p);
	tls_close_notify(c);		/* only once */
	assert_int_equal(tls_pending(c, &p), n);
	assert_int_equal(tls_write(c, "x", 1), -1);
	assert_true(xfer(c, s, SIZE_MAX) > 0);
	assert_int_equal(tls_read(s, out, sizeof(out)), 6);
	assert_int_equal(tls_read(s, out, sizeof(out)), -1);
	assert_null(tls_error(s));
	assert_int_equal(tls_read(s, out, sizeof(out)), -1);
	assert_null(tls_error(s));
	assert_int_equal(tls_feed(s, "x", 1), TLS_CLOSED);
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

/* ---- buffers -------------------------------------------------------- */

/*
 * Nothing pending: before any output, after all of it was consumed and
 * after a take. There is no buffer then; tls_pending() must not form
 * NULL + 0 (undefined; clang's UBSan aborts on it), and what it returns
 * is never NULL, so a caller's p + n is defined as well.
 */
static void
test_pending_empty(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	enum tls_rc crc, src;
	const char *p, *end;
	char *b;
	size_t n;

	(void)state;
	p = NULL;
	assert_int_equal(tls_pending(s, &p), 0);
	assert_non_null(p);
	end = p + 0;
	assert_ptr_equal(end, p);
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(src, TLS_OK);
	/* handshake() consumed all output: both are empty again */
	p = NULL;
	assert_int_equal(tls_pending(c, &p), 0);
	assert_non_null(p);
	assert_int_equal(tls_pending(s, &p), 0);
	assert_non_null(p);
	/* after a partial consume, then the rest */
	assert_int_equal(tls_write(c, "NOOP\r\n", 6), 0);
	n = tls_pending(c, &p);
	assert_true(n > 6);
	tls_consume(c, 1);
	assert_int_equal(tls_pending(c, &p), n - 1);
	tls_consume(c, n - 1);
	p = NULL;
	assert_int_equal(tls_pending(c, &p), 0);
	assert_non_null(p);
	/* after a take */
	assert_int_equal(tls_write(c, "NOOP\r\n", 6), 0);
	b = tls_take(c, &n);
	assert_non_null(b);
	free(b);
	p = NULL;
	assert_int_equal(tls_pending(c, &p), 0);
	assert_non_null(p);
	tls_consume(c, 0);
	assert_int_equal(tls_pending(c, &p), 0);
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

static void
test_feed_bound(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls *s = tls_new(sctx);
	char *big = calloc(1, TLS_FEED_MAX + 1);

	(void)state;
	assert_non_null(big);
	assert_int_equal(tls_room(s), TLS_FEED_MAX);
	assert_int_equal(tls_feed(s, big, 100), TLS_OK);
	assert_int_equal(tls_room(s), TLS_FEED_MAX - 100);
	assert_int_equal(tls_feed(s, big, TLS_FEED_MAX - 100), TLS_OK);
	assert_int_equal(tls_room(s), 0);
	assert_int_equal(tls_feed(s, big, 1), TLS_ERR);
	assert_true(has(tls_error(s), "ciphertext waiting"));
	tls_free(s);
	s = tls_new(sctx);
	assert_int_equal(tls_feed(s, big, TLS_FEED_MAX + 1), TLS_ERR);
	tls_free(s);
	free(big);
	tls_ctx_free(sctx);
}

static void
test_take_and_write_bound(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	unsigned char *data = pattern(TLS_OUT_MAX, 5);
	enum tls_rc crc, src;
	const char *p;
	char *b, out[64], first;
	size_t n;

	(void)state;
	b = tls_take(c, &n);
	assert_null(b);
	assert_int_equal(n, 0);
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(tls_write(c, "DATA\r\n", 6), 0);
	assert_true(tls_pending(c, &p) > 6);
	first = p[0];
	tls_consume(c, 1);		/* a partial socket write */
	b = tls_take(c, &n);
	assert_non_null(b);
	assert_int_equal(tls_pending(c, &p), 0);
	/* The first byte, then the rest from the taken buffer. */
	assert_int_equal(tls_feed(s, &first, 1), TLS_OK);
	assert_int_equal(tls_feed(s, b, n), TLS_OK);
	free(b);
	assert_int_equal(tls_read(s, out, sizeof(out)), 6);
	assert_memory_equal(out, "DATA\r\n", 6);
	/* Output after a take starts a new buffer. */
	assert_int_equal(tls_write(c, "x", 1), 0);
	assert_true(xfer(c, s, SIZE_MAX) > 0);
	assert_int_equal(tls_read(s, out, sizeof(out)), 1);
	tls_free(c);

	/* A fresh pair: a write past TLS_OUT_MAX is refused whole. */
	c = tls_new(cctx);
	tls_free(s);
	s = tls_new(sctx);
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(tls_write(c, "ok", 2), 0);
	b = tls_take(c, &n);
	assert_int_equal(tls_feed(s, b, n), TLS_OK);
	free(b);
	assert_int_equal(tls_read(s, out, sizeof(out)), 2);
	assert_int_equal(tls_write(c, (const char *)data, TLS_OUT_MAX), -1);
	assert_true(has(tls_error(c), "would pass"));
	assert_int_equal(tls_pending(c, &p), 0);
	free(data);
	tls_free(c);
	tls_free(s);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

/* Freeing the contexts (a reload) leaves live connections working. */
static void
test_ctx_outlived(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c = tls_new(cctx), *s = tls_new(sctx);
	unsigned char *data = pattern(30000, 6);
	enum tls_rc crc, src;

	(void)state;
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
	handshake(c, s, SIZE_MAX, &crc, &src, NULL);
	assert_int_equal(crc, TLS_OK);
	assert_int_equal(src, TLS_OK);
	assert_int_equal(transfer(s, c, data, 30000, 30000, 30000), 0);
	free(data);
	tls_free(c);
	tls_free(s);
}

/* ---- contexts ------------------------------------------------------- */

static void
test_ctx_errors(void **state)
{
	char err[512], missing[160], longname[300];
	struct tls_ctx *ctx;

	(void)state;
	snprintf(missing, sizeof(missing), "%s/missing.pem", g_dir);

	ctx = tls_ctx_server(missing, g_key, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, missing));
	assert_true(has(err, "No such file"));

	ctx = tls_ctx_server(g_cert, missing, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, missing));

	ctx = tls_ctx_server(g_cert, g_other_key, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, g_other_key));
	assert_true(has(err, "does not match"));

	ctx = tls_ctx_server(g_garbage, g_key, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, g_garbage));

	/* A key file given as the certificate, and the reverse. */
	ctx = tls_ctx_server(g_key, g_key, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, g_key));
	ctx = tls_ctx_server(g_cert, g_cert, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, g_cert));

	ctx = tls_ctx_server(NULL, g_key, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, "no file"));

	ctx = tls_ctx_client(1, missing, NAME, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, missing));
	ctx = tls_ctx_client(1, g_key, NAME, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, g_key));

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ctx = tls_ctx_client(0, NULL, longname, err, sizeof(err));
	assert_null(ctx);
	assert_true(has(err, "server name"));

	/* No room for the reason is allowed. */
	assert_null(tls_ctx_server(missing, g_key, NULL, 0));

	/* The system store loads (when the host has it). */
	if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
		ctx = tls_ctx_client(1, NULL, NAME, err, sizeof(err));
		assert_non_null(ctx);
		tls_ctx_free(ctx);
	}
	tls_ctx_free(NULL);
	tls_free(NULL);
}

/* ---- threads -------------------------------------------------------- */

struct worker {
	struct tls_ctx	*sctx, *cctx;
	int		 failures;
	int		 resumed;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	unsigned char *data = pattern(70000, 7);
	enum tls_rc crc, src;

	for (int i = 0; i < 15; i++) {
		struct tls *c = tls_new(w->cctx), *s = tls_new(w->sctx);

		if (c == NULL || s == NULL || data == NULL) {
			w->failures++;
		} else {
			handshake(c, s, i % 3 == 0 ? 100 : SIZE_MAX, &crc,
			    &src, NULL);
			if (crc != TLS_OK || src != TLS_OK ||
			    transfer(c, s, data, 70000, 16384, 70000) != 0 ||
			    transfer(s, c, data, 70000, 70000, 1000) != 0)
				w->failures++;
			w->resumed += tls_resumed(s);
		}
		tls_free(c);
		tls_free(s);
	}
	free(data);
	return NULL;
}

static void
test_threads(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct worker w[3];
	pthread_t th[3];

	(void)state;
	for (size_t i = 0; i < N(w); i++) {
		w[i] = (struct worker){ sctx, cctx, 0, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_main,
		    &w[i]), 0);
	}
	for (size_t i = 0; i < N(w); i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
		/* All but the very first handshakes can resume. */
		assert_true(w[i].resumed >= 10);
	}
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

/* ---- memory --------------------------------------------------------- */

static size_t
heap_used(void)
{
#ifdef TEST_ASAN
	return __sanitizer_get_current_allocated_bytes();
#else
	return mallinfo2().uordblks;
#endif
}

/*
 * The heap an idle TLS leg keeps after its handshake: 100 pairs, then
 * what freeing the clients and the servers gives back. mbedTLS 2.28 on
 * Debian has fixed 16 KB + 16 KB record buffers; the target is 40 KB.
 */
static void
test_memory_per_connection(void **state)
{
	struct tls_ctx *sctx = server_ctx(g_cert, g_key);
	struct tls_ctx *cctx = client_ctx(1, NAME);
	struct tls *c[100], *s[100];
	size_t base, fresh, after, mid, end, per_client, per_server;
	enum tls_rc crc, src;
	char b[16];

	(void)state;
	/* Warm: the client context's saved session, lazy tables. */
	c[0] = tls_new(cctx);
	s[0] = tls_new(sctx);
	handshake(c[0], s[0], SIZE_MAX, &crc, &src, NULL);
	tls_free(c[0]);
	tls_free(s[0]);

	base = heap_used();
	for (size_t i = 0; i < N(c); i++) {
		c[i] = tls_new(cctx);
		s[i] = tls_new(sctx);
		assert_non_null(c[i]);
		assert_non_null(s[i]);
	}
	fresh = heap_used();
	for (size_t i = 0; i < N(c); i++) {
		handshake(c[i], s[i], SIZE_MAX, &crc, &src, NULL);
		assert_int_equal(crc, TLS_OK);
		assert_int_equal(src, TLS_OK);
		/* One exchange, all drained: the idle state of a session. */
		assert_int_equal(tls_write(c[i], "NOOP\r\n", 6), 0);
		assert_true(xfer(c[i], s[i], SIZE_MAX) > 0);
		assert_int_equal(tls_read(s[i], b, sizeof(b)), 6);
		assert_int_equal(tls_read(s[i], b, sizeof(b)), 0);
	}
	after = heap_used();
	for (size_t i = 0; i < N(c); i++)
		tls_free(c[i]);
	mid = heap_used();
	for (size_t i = 0; i < N(s); i++)
		tls_free(s[i]);
	end = heap_used();
	per_client = (after - mid) / N(c);
	per_server = (mid - end) / N(s);
	print_message("heap per TLS leg (%s): new %zu B per pair; idle after "
	    "handshake: client %zu B, server %zu B\n",
#ifdef TEST_ASAN
	    "ASan allocator",
#else
	    "mallinfo2",
#endif
	    (fresh - base) / N(c), per_client, per_server);
	assert_true(per_client <= 40 * 1024);
	assert_true(per_server <= 40 * 1024);
	tls_ctx_free(cctx);
	tls_ctx_free(sctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_data),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_resume_ticket),
		cmocka_unit_test(test_resume_cache),
		cmocka_unit_test(test_empty_records),
		cmocka_unit_test(test_renegotiation_from_client),
		cmocka_unit_test(test_renegotiation_from_server),
		cmocka_unit_test(test_verify_untrusted),
		cmocka_unit_test(test_verify_wrong_name),
		cmocka_unit_test(test_verify_off),
		cmocka_unit_test(test_garbage_client_hello),
		cmocka_unit_test(test_truncated_handshake),
		cmocka_unit_test(test_close_notify),
		cmocka_unit_test(test_pending_empty),
		cmocka_unit_test(test_feed_bound),
		cmocka_unit_test(test_take_and_write_bound),
		cmocka_unit_test(test_ctx_outlived),
		cmocka_unit_test(test_ctx_errors),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_memory_per_connection),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
