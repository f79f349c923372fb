/*
 * tests/fuzz/fuzz_tls.c - libFuzzer target for tls/: arbitrary bytes as
 * the peer's first flight. Byte 0 picks the role: even, the bytes are a
 * client's ClientHello to a server connection; odd, they are a server's
 * answer to a client connection's ClientHello. Its upper bits seed the
 * split of the rest into tls_feed() chunks (each an exactly sized heap
 * copy), with tls_handshake() and tls_read() after each. The server's
 * certificate and key are made once at start-up with mbedTLS into a
 * mkdtemp() directory, loaded, and deleted. Checks: every return is in
 * range, TLS_ERR comes with a reason and stays, buffers keep their
 * bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "tls/tls.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerInitialize(int *argc, char ***argv);
int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tls_ctx	*server_ctx, *client_ctx;

static void
put(const char *dir, const char *name, const unsigned char *pem,
    char *path, size_t cap)
{
	FILE *f;

	snprintf(path, cap, "%s/%s", dir, name);
	CHECK((f = fopen(path, "w")) != NULL);
	CHECK(fputs((const char *)pem, f) >= 0);
	CHECK(fclose(f) == 0);
}

/* A self-signed P-256 certificate for the server context. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static unsigned char cert_pem[4096], key_pem[4096];
	char dir[] = "/tmp/mxs-fuzz-tls-XXXXXX", cert[96], key[96], err[256];
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509write_cert w;
	mbedtls_pk_context pk;
	mbedtls_mpi sn;

	(void)argc;
	(void)argv;
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_pk_init(&pk);
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&sn);
	CHECK(mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
	    (const unsigned char *)"fuzz_tls", 8) == 0);
	CHECK(mbedtls_pk_setup(&pk,
	    mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) == 0);
	CHECK(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk),
	    mbedtls_ctr_drbg_random, &drbg) == 0);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, &pk);
	mbedtls_x509write_crt_set_issuer_key(&w, &pk);
	CHECK(mbedtls_mpi_lset(&sn, 1) == 0);
	CHECK(mbedtls_x509write_crt_set_serial(&w, &sn) == 0);
	CHECK(mbedtls_x509write_crt_set_subject_name(&w,
	    "CN=fuzz.example") == 0);
	CHECK(mbedtls_x509write_crt_set_issuer_name(&w,
	    "CN=fuzz.example") == 0);
	CHECK(mbedtls_x509write_crt_set_validity(&w, "20200101000000",
	    "20991231235959") == 0);
	CHECK(mbedtls_x509write_crt_pem(&w, cert_pem, sizeof(cert_pem),
	    mbedtls_ctr_drbg_random, &drbg) == 0);
	CHECK(mbedtls_pk_write_key_pem(&pk, key_pem, sizeof(key_pem)) == 0);

	CHECK(mkdtemp(dir) != NULL);
	put(dir, "cert.pem", cert_pem, cert, sizeof(cert));
	put(dir, "key.pem", key_pem, key, sizeof(key));
	server_ctx = tls_ctx_server(cert, key, err, sizeof(err));
	unlink(cert);
	unlink(key);
	rmdir(dir);
	CHECK(server_ctx != NULL);
	client_ctx = tls_ctx_client(0, NULL, "fuzz.example", err, sizeof(err));
	CHECK(client_ctx != NULL);

	mbedtls_mpi_free(&sn);
	mbedtls_x509write_crt_free(&w);
	mbedtls_pk_free(&pk);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return 0;
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum tls_rc rc = TLS_WANT, again;
	const char *p;
	struct tls *t;
	uint32_t seed;
	size_t off = 1, chunk;
	char out[512], *copy;
	ssize_t r;

	if (size < 1)
		return 0;
	seed = (uint32_t)data[0] * 2654435761u + 1;
	CHECK((t = tls_new((data[0] & 1) ? client_ctx : server_ctx)) != NULL);
	if (data[0] & 1) {
		/* The client speaks first; its ClientHello goes nowhere. */
		CHECK(tls_handshake(t) == TLS_WANT);
		CHECK(tls_pending(t, &p) > 0);
		tls_consume(t, SIZE_MAX);
	}
	while (off < size && rc == TLS_WANT) {
		chunk = 1 + xorshift(&seed) % (size - off);
		if (chunk > tls_room(t))
			chunk = tls_room(t);
		CHECK(chunk > 0);
		CHECK((copy = malloc(chunk)) != NULL);
		memcpy(copy, data + off, chunk);
		CHECK(tls_feed(t, copy, chunk) == TLS_OK);
		free(copy);
		off += chunk;
		rc = tls_handshake(t);
		CHECK(rc == TLS_OK || rc == TLS_WANT || rc == TLS_ERR);
		CHECK(tls_pending(t, &p) <= TLS_OUT_MAX);
		if (rc == TLS_WANT) {
			CHECK(tls_error(t) == NULL);
			/* Nothing is left unread while mbedTLS waits. */
			CHECK(tls_room(t) == TLS_FEED_MAX);
			CHECK(tls_read(t, out, sizeof(out)) == 0);
		}
		tls_consume(t, SIZE_MAX);
	}
	if (rc == TLS_ERR) {
		CHECK(tls_error(t) != NULL);
		again = tls_handshake(t);
		CHECK(again == TLS_ERR);
		CHECK(tls_read(t, out, sizeof(out)) == -1);
		CHECK(tls_write(t, "x", 1) == -1);
		CHECK(tls_version(t) == NULL);
	} else if (rc == TLS_OK) {
		/* Not reachable without our random, but stay honest. */
		while ((r = tls_read(t, out, sizeof(out))) > 0)
			CHECK((size_t)r <= sizeof(out));
	}
	tls_free(t);
	return 0;
}
