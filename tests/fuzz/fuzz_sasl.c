/*
 * tests/fuzz/fuzz_sasl.c - libFuzzer target for core/sasl and
 * core/xtext. The first input byte chooses the decode buffer's size
 * (roomy, exact, or short); the rest is split at LF into an AUTH
 * argument and client response lines, each an exactly sized heap copy,
 * fed to sasl_start() and sasl_response(). Checked: results in range,
 * identity and authzid inside the decode buffer, identity not empty and
 * without NUL, cancel_backend only where it means something, no
 * NOSPACE with enough room, which responses are secret. Each line
 * also goes through the EHLO AUTH list filter and the base64
 * decoder, whose strictness makes encode(decode(x)) == x, and through
 * xtext encode/decode, which must round-trip.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/sasl.h"
#include "core/xtext.h"

#define CHECK(x)	do { if (!(x)) abort(); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *
heap_copy(const char *p, size_t n)
{
	char *c = malloc(n > 0 ? n : 1);

	CHECK(c != NULL);
	if (n > 0)
		memcpy(c, p, n);
	return c;
}

static int
inside(struct span s, const char *p, size_t n)
{
	return s.len == 0 || (s.p >= p && s.len <= n && s.p + s.len <= p + n);
}

static void
check_result(enum sasl_rc rc, const struct sasl_result *res,
    const struct sasl_state *st, const char *buf, size_t cap, size_t roomy,
    int start)
{
	CHECK(rc == res->rc);
	CHECK(rc >= SASL_RELAY && rc <= SASL_NOSPACE);
	CHECK(sasl_rc_name(rc) != NULL);
	CHECK(sasl_mech_name(st->mech) != NULL);
	CHECK(inside(res->identity, buf, cap));
	CHECK(inside(res->authzid, buf, cap));
	if (rc == SASL_IDENTITY) {
		CHECK(st->mech != SASL_MECH_UNKNOWN);
		CHECK(res->identity.len > 0);
		CHECK(memchr(res->identity.p, '\0', res->identity.len) == NULL);
		if (res->authzid.p != NULL)
			CHECK(st->mech == SASL_MECH_PLAIN ||
			    st->mech == SASL_MECH_SCRAM_SHA_1 ||
			    st->mech == SASL_MECH_SCRAM_SHA_1_PLUS ||
			    st->mech == SASL_MECH_SCRAM_SHA_256 ||
			    st->mech == SASL_MECH_SCRAM_SHA_256_PLUS);
	} else {
		CHECK(res->identity.len == 0);
	}
	if (res->cancel_backend)
		CHECK(!start && (rc == SASL_BAD_BASE64 || rc == SASL_NOSPACE));
	if (cap >= roomy)
		CHECK(rc != SASL_NOSPACE);
	if (!start)
		CHECK(rc != SASL_SYNTAX && rc != SASL_UNKNOWN_MECH);
	/* PLAIN, XOAUTH2, OAUTHBEARER and CRAM-MD5 carry a password, a
	 * token or a digest beside the identity; LOGIN's user name and
	 * SCRAM's client-first-message carry none */
	if (rc == SASL_IDENTITY)
		CHECK(res->secret == (st->mech == SASL_MECH_PLAIN ||
		    st->mech == SASL_MECH_XOAUTH2 ||
		    st->mech == SASL_MECH_OAUTHBEARER ||
		    st->mech == SASL_MECH_CRAM_MD5));
	/* CRAM-MD5 has no initial response: one never names anyone */
	if (start && st->mech == SASL_MECH_CRAM_MD5)
		CHECK(rc != SASL_IDENTITY);
	/* the mechanism's name says what the state holds */
	if (start && rc != SASL_SYNTAX)
		CHECK(st->mech == sasl_mech_lookup(res->mech.p, res->mech.len));
}

/*
 * The EHLO AUTH list filter keeps, in order, exactly the known names,
 * one SP apart, never more bytes than it was given.
 */
static void
check_filter(const char *line, size_t len)
{
	char	*out = malloc(len > 0 ? len : 1);
	size_t	 n, pos = 0, o = 0;

	CHECK(out != NULL);
	n = sasl_mech_filter(line, len, out, len);
	CHECK(n <= len);
	while (pos < len) {
		size_t s;

		while (pos < len && (line[pos] == ' ' || line[pos] == '\t'))
			pos++;
		s = pos;
		while (pos < len && line[pos] != ' ' && line[pos] != '\t')
			pos++;
		if (pos == s || !sasl_mech_known(line + s, pos - s))
			continue;
		if (o > 0) {
			CHECK(o < n && out[o] == ' ');
			o++;
		}
		CHECK(o + (pos - s) <= n);
		CHECK(memcmp(out + o, line + s, pos - s) == 0);
		o += pos - s;
	}
	CHECK(o == n);
	CHECK(len == 0 || sasl_mech_filter(line, len, out, len - 1) == 0);
	free(out);
}

/* Strict base64 is a bijection: what decodes encodes back the same. */
static void
check_b64(const char *line, size_t len)
{
	size_t	 cap = len / 4 * 3, n = 0, m;
	char	*dec = malloc(cap > 0 ? cap : 1);
	char	*enc = malloc(len + 1);
	int	 d;

	CHECK(dec != NULL && enc != NULL);
	d = sasl_b64_decode(line, len, dec, cap, &n);
	CHECK(d == 0 || d == SASL_B64_INVALID);
	if (d == 0) {
		CHECK(n <= cap);
		m = sasl_b64_encode(dec, n, enc, len + 1);
		CHECK(m == len);
		CHECK(memcmp(enc, line, len) == 0);
	}
	free(enc);
	free(dec);

	/* and what encodes decodes back */
	enc = malloc((len + 2) / 3 * 4 + 1);
	dec = malloc(len > 0 ? len : 1);
	CHECK(enc != NULL && dec != NULL);
	m = sasl_b64_encode(line, len, enc, (len + 2) / 3 * 4 + 1);
	CHECK(m == (len + 2) / 3 * 4);
	CHECK(sasl_b64_decode(enc, m, dec, len, &n) == 0 && n == len);
	CHECK(len == 0 || memcmp(dec, line, len) == 0);
	free(dec);
	free(enc);
}

static void
check_xtext(const char *line, size_t len)
{
	size_t	 cap = 3 * len + 1, n, m = 0;
	char	*enc = malloc(cap), *dec = malloc(len > 0 ? len : 1);

	CHECK(enc != NULL && dec != NULL);
	n = xtext_encode(line, len, enc, cap);
	CHECK(n >= len && n < cap);
	CHECK(enc[n] == '\0');
	for (size_t i = 0; i < n; i++)
		CHECK(enc[i] >= 0x21 && enc[i] <= 0x7e && enc[i] != '=');
	CHECK(len == 0 || xtext_encode(line, len, enc, n) == 0);
	n = xtext_encode(line, len, enc, cap);
	CHECK(xtext_decode(enc, n, dec, len, &m) == 0 && m == len);
	CHECK(len == 0 || memcmp(dec, line, len) == 0);
	/* the raw line as xtext: decoded, it encodes back the same only
	 * when it used no needless +HH; just check the bounds */
	if (xtext_decode(line, len, dec, len, &m) == 0)
		CHECK(m <= len);
	free(dec);
	free(enc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sasl_state	 st;
	struct sasl_result	 res;
	const char		*p, *end, *nl;
	enum sasl_rc		 rc;
	int			 first = 1;

	if (size < 1)
		return 0;
	p = (const char *)data + 1;
	end = (const char *)data + size;
	while (p <= end) {
		size_t	 len, roomy, cap;
		char	*line, *buf;

		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		roomy = len / 4 * 3;
		switch (data[0] & 3) {
		case 0:
			cap = roomy + 16;
			break;
		case 1:
			cap = roomy;
			break;
		case 2:
			cap = roomy > 0 ? roomy - 1 - data[0] % (roomy) : 0;
			break;
		default:
			cap = data[0] >> 2;
			break;
		}
		line = heap_copy(p, len);
		buf = malloc(cap > 0 ? cap : 1);
		CHECK(buf != NULL);
		if (first) {
			rc = sasl_start(&st, line, len, buf, cap, &res);
			check_result(rc, &res, &st, buf, cap, roomy, 1);
			CHECK(inside(res.mech, line, len));
			if (rc != SASL_SYNTAX)
				CHECK(res.mech.p == line && res.mech.len > 0);
		} else {
			rc = sasl_response(&st, line, len, buf, cap, &res);
			check_result(rc, &res, &st, buf, cap, roomy, 0);
		}
		if (res.secret)
			sasl_wipe(buf, cap);
		check_b64(line, len);
		check_xtext(line, len);
		check_filter(line, len);
		free(buf);
		free(line);
		first = 0;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return 0;
}
