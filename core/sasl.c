/*
 * core/sasl.c - the identity in a relayed SMTP AUTH exchange (RFC 4954
 * 4): strict base64 (RFC 4648 4, 3.5), PLAIN (RFC 4616 2), LOGIN,
 * XOAUTH2, OAUTHBEARER (RFC 7628 3.1), CRAM-MD5 (RFC 2195 2) and the
 * SCRAM family's client-first-message (RFC 5802 7, RFC 7677). Input:
 * untrusted client
 * lines, CRLF removed, not NUL-terminated. Owns nothing: decoded bytes
 * go into the caller's buffer and every span points there or into the
 * input; the caller wipes what held a secret (sasl_wipe()).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "core/b64.h"
#include "core/sasl.h"

#define MECH_MAX	20	/* RFC 4422 3.1 */

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
sasl_b64_decode(const char *in, size_t len, char *out, size_t cap,
    size_t *outlen)
{
	size_t	pad = 0, need, o = 0;

	if (len % 4 != 0)
		return SASL_B64_INVALID;
	if (len > 0 && in[len - 1] == '=') {
		pad = 1;
		if (in[len - 2] == '=')
			pad = 2;
	}
	for (size_t i = 0; i < len - pad; i++)
		if (b64_value((unsigned char)in[i]) < 0)
			return SASL_B64_INVALID;
	/* pad bits must be zero: the last symbol carries 4 or 2 bits */
	if (pad == 2 && (b64_value((unsigned char)in[len - 3]) & 0x0f) != 0)
		return SASL_B64_INVALID;
	if (pad == 1 && (b64_value((unsigned char)in[len - 2]) & 0x03) != 0)
		return SASL_B64_INVALID;
	need = len / 4 * 3 - pad;
	if (need > cap)
		return SASL_B64_NOSPACE;

	for (size_t i = 0; i < len; i += 4) {
		uint32_t v = 0;
		int	 k;

		for (k = 0; k < 4; k++) {
			int d = in[i + k] == '=' ? 0 :
			    b64_value((unsigned char)in[i + k]);
			v = v << 6 | (uint32_t)d;
		}
		for (k = 0; k < 3 && o < need; k++)
			out[o++] = (char)(v >> (16 - 8 * k) & 0xff);
	}
	*outlen = o;
	return 0;
}

size_t
sasl_b64_encode(const void *in, size_t len, char *out, size_t cap)
{
	const unsigned char	*s = in;
	size_t			 n = 0;

	if (cap == 0)
		return 0;
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3 || (len + 2) / 3 * 4 + 1 > cap) {
		out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)s[i + 1] << 8;
		if (i + 2 < len)
			v |= s[i + 2];
		out[n++] = b64chars[v >> 18 & 63];
		out[n++] = b64chars[v >> 12 & 63];
		out[n++] = i + 1 < len ? b64chars[v >> 6 & 63] : '=';
		out[n++] = i + 2 < len ? b64chars[v & 63] : '=';
	}
	out[n] = '\0';
	return n;
}

void
sasl_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
#if defined(__GNUC__)
	__asm__ __volatile__("" : : "r"(p) : "memory");
#endif
}

static enum sasl_rc
done(struct sasl_result *res, enum sasl_rc rc)
{
	res->rc = rc;
	return rc;
}

/* ---------------------------------------------------------------- */
/* The mechanisms' messages, decoded in m[0..n) (inside buf) */

/* RFC 4616 2: [authzid] NUL authcid NUL passwd, passwd = 1*SAFE. */
static enum sasl_rc
read_plain(char *m, size_t n, struct sasl_result *res)
{
	char	*nul1, *nul2;
	size_t	 zlen, clen, plen;

	if (n == 0)
		return SASL_MALFORMED;
	nul1 = memchr(m, '\0', n);
	if (nul1 == NULL)
		return SASL_MALFORMED;
	zlen = (size_t)(nul1 - m);
	nul2 = memchr(nul1 + 1, '\0', n - zlen - 1);
	if (nul2 == NULL)
		return SASL_MALFORMED;
	clen = (size_t)(nul2 - nul1 - 1);
	plen = n - zlen - 1 - clen - 1;
	if (clen == 0)
		return SASL_MALFORMED;
	if (plen == 0)
		return SASL_MALFORMED;
	if (memchr(nul2 + 1, '\0', plen) != NULL)
		return SASL_MALFORMED;
	res->authzid = span_make(m, zlen);
	res->identity = span_make(nul1 + 1, clen);
	return SASL_IDENTITY;
}

static enum sasl_rc
read_login_user(char *m, size_t n, struct sasl_result *res)
{
	if (n == 0)
		return SASL_MALFORMED;
	if (memchr(m, '\0', n) != NULL)
		return SASL_MALFORMED;
	res->identity = span_make(m, n);
	return SASL_IDENTITY;
}

/* Does s[0..n) begin with the ASCII text lit, ignoring case? */
static int
has_prefix_ci(const char *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && strncasecmp(s, lit, l) == 0;
}

/*
 * XOAUTH2: "user=" USER 0x01 "auth=Bearer " TOKEN 0x01 0x01, the two
 * pairs in either order, each once, nothing else, no NUL.
 */
static enum sasl_rc
read_xoauth2(char *m, size_t n, struct sasl_result *res)
{
	struct span	 user = SPAN_NULL, auth = SPAN_NULL;
	int		 nuser = 0, nauth = 0;
	size_t		 pos = 0;

	if (n == 0)
		return SASL_RELAY;	/* the answer to an error challenge */
	if (memchr(m, '\0', n) != NULL)
		return SASL_MALFORMED;
	if (n < 2 || m[n - 1] != 0x01 || m[n - 2] != 0x01)
		return SASL_MALFORMED;
	while (pos < n - 1) {
		char	*end = memchr(m + pos, 0x01, n - pos);
		char	*eq;
		size_t	 klen;

		/* end is never NULL: m[n - 1] is 0x01 */
		eq = memchr(m + pos, '=', (size_t)(end - (m + pos)));
		if (eq == NULL)
			return SASL_MALFORMED;
		klen = (size_t)(eq - (m + pos));
		if (klen == 4 && memcmp(m + pos, "user", 4) == 0) {
			user = span_make(eq + 1, (size_t)(end - eq - 1));
			nuser++;
		} else if (klen == 4 && memcmp(m + pos, "auth", 4) == 0) {
			auth = span_make(eq + 1, (size_t)(end - eq - 1));
			nauth++;
		} else
			return SASL_MALFORMED;
		pos = (size_t)(end - m) + 1;
	}
	if (pos != n - 1)	/* an empty pair before the end */
		return SASL_MALFORMED;
	if (nuser != 1 || nauth != 1)
		return SASL_MALFORMED;
	if (user.len == 0)
		return SASL_MALFORMED;
	if (!has_prefix_ci(auth.p, auth.len, "Bearer ") || auth.len == 7)
		return SASL_MALFORMED;
	res->identity = user;
	return SASL_IDENTITY;
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * A saslname at m[*pos..n) up to the next "," or the end (RFC 5801 4,
 * RFC 5802 7): 1*(UTF8-char-safe / "=2C" / "=3D"), where the safe
 * characters exclude NUL, "," and "=". Returns 0 and moves *pos past
 * it, or -1.
 */
static int
scan_saslname(const char *m, size_t n, size_t *pos)
{
	size_t p = *pos;

	while (p < n && m[p] != ',') {
		if (m[p] == '\0')
			return -1;
		if (m[p] == '=') {
			if (n - p < 3)
				return -1;
			if (!(m[p + 1] == '2' && m[p + 2] == 'C') &&
			    !(m[p + 1] == '3' && m[p + 2] == 'D'))
				return -1;
			p += 3;
			continue;
		}
		p++;
	}
	if (p == *pos)
		return -1;
	*pos = p;
	return 0;
}

/*
 * Unescape the saslname scan_saslname() accepted at m[start..end)
 * ("=2C" -> ",", "=3D" -> "=") in place; it only shrinks. Returns it.
 */
static struct span
unescape_saslname(char *m, size_t start, size_t end)
{
	size_t o = start;

	for (size_t p = start; p < end; ) {
		if (m[p] == '=') {
			m[o++] = m[p + 1] == '2' ? ',' : '=';
			p += 3;
		} else
			m[o++] = m[p++];
	}
	return span_make(m + start, o - start);
}

/*
 * RFC 7628 3.1: gs2-header kvsep *kvpair kvsep, with
 * gs2-header = gs2-cb-flag "," [gs2-authzid] "," (RFC 5801 4),
 * gs2-authzid = "a=" saslname, kvpair = key "=" value kvsep,
 * key = 1*ALPHA, value = *(VCHAR / SP / HTAB / CR / LF),
 * an "auth" key required. The a= value is unescaped in place.
 */
static enum sasl_rc
read_oauthbearer(char *m, size_t n, struct sasl_result *res)
{
	size_t	 pos, zstart = 0, zend = 0;
	int	 have_a = 0, have_auth = 0;

	if (n == 1 && m[0] == 0x01)
		return SASL_RELAY;	/* the answer to an error challenge */
	if (n < 3 || (m[0] != 'n' && m[0] != 'y') || m[1] != ',')
		return SASL_MALFORMED;
	pos = 2;
	if (n - pos >= 2 && m[pos] == 'a' && m[pos + 1] == '=') {
		have_a = 1;
		pos += 2;
		zstart = pos;
		if (scan_saslname(m, n, &pos) == -1)
			return SASL_MALFORMED;
		zend = pos;
	}
	if (pos >= n || m[pos] != ',')
		return SASL_MALFORMED;
	pos++;
	if (pos >= n || m[pos] != 0x01)
		return SASL_MALFORMED;
	pos++;
	/* kvpairs up to the closing kvsep, which must be the last byte */
	while (pos < n && m[pos] != 0x01) {
		size_t kstart = pos;

		while (pos < n && is_alpha((unsigned char)m[pos]))
			pos++;
		if (pos == kstart || pos >= n || m[pos] != '=')
			return SASL_MALFORMED;
		if (pos - kstart == 4 && memcmp(m + kstart, "auth", 4) == 0) {
			if (have_auth)
				return SASL_MALFORMED;
			have_auth = 1;
		}
		pos++;
		while (pos < n && m[pos] != 0x01) {
			unsigned char c = (unsigned char)m[pos];

			if (!(c >= 0x20 && c <= 0x7e) && c != '\t' &&
			    c != '\r' && c != '\n')
				return SASL_MALFORMED;
			pos++;
		}
		if (pos >= n)
			return SASL_MALFORMED;
		pos++;
	}
	if (pos != n - 1 || m[pos] != 0x01)
		return SASL_MALFORMED;
	if (!have_auth)
		return SASL_MALFORMED;
	if (!have_a)
		return SASL_RELAY;
	res->identity = unescape_saslname(m, zstart, zend);
	return SASL_IDENTITY;
}

static int
is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * RFC 2195 2: the response to the challenge is the user name, a space
 * and the digest, 16 octets as 32 hex digits. The name may itself hold
 * a space: the digest follows the last one.
 */
static enum sasl_rc
read_cram_md5(char *m, size_t n, struct sasl_result *res)
{
	size_t	ulen;

	if (n < 34)		/* one octet of name, SP, 32 digits */
		return SASL_MALFORMED;
	ulen = n - 33;
	if (m[ulen] != ' ')
		return SASL_MALFORMED;
	for (size_t i = ulen + 1; i < n; i++)
		if (!is_hex((unsigned char)m[i]))
			return SASL_MALFORMED;
	if (memchr(m, '\0', ulen) != NULL)
		return SASL_MALFORMED;
	res->identity = span_make(m, ulen);
	return SASL_IDENTITY;
}

/* RFC 5802 7: printable = %x21-2B / %x2D-7E (no ","). */
static int
is_scram_printable(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != ',';
}

/*
 * RFC 5802 7, client-first-message = gs2-header client-first-message-bare:
 *   gs2-header = gs2-cbind-flag "," [authzid] ","
 *   gs2-cbind-flag = ("p=" cb-name) / "n" / "y"
 *   cb-name = 1*(ALPHA / DIGIT / "." / "-")
 *   authzid = "a=" saslname
 *   client-first-message-bare = [reserved-mext ","] username "," nonce
 *       ["," extensions]
 *   username = "n=" saslname, nonce = "r=" 1*printable
 *   extensions = attr-val *("," attr-val), attr-val = ALPHA "=" value,
 *   value = 1*value-char (any octet but NUL and ",")
 * A reserved-mext ("m=") makes the server fail the exchange (5.1): it
 * is malformed here too. The n= and a= values are unescaped in place.
 */
static enum sasl_rc
read_scram_first(char *m, size_t n, struct sasl_result *res)
{
	size_t	pos, zstart = 0, zend = 0, ustart, uend, s;
	int	have_a = 0;

	/* gs2-cbind-flag */
	if (n >= 2 && m[0] == 'p' && m[1] == '=') {
		pos = 2;
		s = pos;
		while (pos < n && (is_alpha((unsigned char)m[pos]) ||
		    (m[pos] >= '0' && m[pos] <= '9') || m[pos] == '.' ||
		    m[pos] == '-'))
			pos++;
		if (pos == s)
			return SASL_MALFORMED;
	} else if (n >= 1 && (m[0] == 'n' || m[0] == 'y'))
		pos = 1;
	else
		return SASL_MALFORMED;
	if (pos >= n || m[pos] != ',')
		return SASL_MALFORMED;
	pos++;

	/* [authzid] "," */
	if (n - pos >= 2 && m[pos] == 'a' && m[pos + 1] == '=') {
		have_a = 1;
		pos += 2;
		zstart = pos;
		if (scan_saslname(m, n, &pos) == -1)
			return SASL_MALFORMED;
		zend = pos;
	}
	if (pos >= n || m[pos] != ',')
		return SASL_MALFORMED;
	pos++;

	/* username: "n=" saslname "," (a reserved "m=" first is refused) */
	if (n - pos < 2 || m[pos] != 'n' || m[pos + 1] != '=')
		return SASL_MALFORMED;
	pos += 2;
	ustart = pos;
	if (scan_saslname(m, n, &pos) == -1)
		return SASL_MALFORMED;
	uend = pos;
	if (pos >= n || m[pos] != ',')
		return SASL_MALFORMED;
	pos++;

	/* nonce: "r=" 1*printable */
	if (n - pos < 2 || m[pos] != 'r' || m[pos + 1] != '=')
		return SASL_MALFORMED;
	pos += 2;
	s = pos;
	while (pos < n && is_scram_printable((unsigned char)m[pos]))
		pos++;
	if (pos == s)
		return SASL_MALFORMED;

	/* extensions: *("," ALPHA "=" 1*value-char) up to the end */
	while (pos < n) {
		if (m[pos] != ',')
			return SASL_MALFORMED;
		pos++;
		if (n - pos < 2 || !is_alpha((unsigned char)m[pos]) ||
		    m[pos + 1] != '=')
			return SASL_MALFORMED;
		pos += 2;
		s = pos;
		while (pos < n && m[pos] != ',' && m[pos] != '\0')
			pos++;
		if (pos == s || (pos < n && m[pos] == '\0'))
			return SASL_MALFORMED;
	}

	res->identity = unescape_saslname(m, ustart, uend);
	if (have_a)
		res->authzid = unescape_saslname(m, zstart, zend);
	return SASL_IDENTITY;
}

/* ---------------------------------------------------------------- */
/* The exchange */

static int
is_scram(enum sasl_mech mech)
{
	return mech == SASL_MECH_SCRAM_SHA_1 ||
	    mech == SASL_MECH_SCRAM_SHA_1_PLUS ||
	    mech == SASL_MECH_SCRAM_SHA_256 ||
	    mech == SASL_MECH_SCRAM_SHA_256_PLUS;
}

/*
 * Is response number k of this mechanism a secret? Not the LOGIN user
 * name nor SCRAM's client-first-message (names and a nonce); every
 * other response may hold a password, a token, or a proof or digest
 * that allows guessing the password.
 */
static int
is_secret(enum sasl_mech mech, unsigned k)
{
	if (k == 0 && (mech == SASL_MECH_LOGIN || is_scram(mech)))
		return 0;
	return 1;
}

/*
 * One response r[0..len), already known not to be "*": decode it and
 * read it. initial says it came on the AUTH line ("=" means empty).
 */
static enum sasl_rc
one_response(struct sasl_state *st, const char *r, size_t len, int initial,
    char *buf, size_t cap, struct sasl_result *res)
{
	unsigned	k = st->nresp++;
	size_t		n = 0;
	int		d;

	res->secret = is_secret(st->mech, k);
	if (initial && len == 1 && r[0] == '=')
		d = 0;
	else
		d = sasl_b64_decode(r, len, buf, cap, &n);
	if (d == SASL_B64_NOSPACE || d == SASL_B64_INVALID) {
		res->cancel_backend = !initial;
		return done(res, d == SASL_B64_NOSPACE ? SASL_NOSPACE :
		    SASL_BAD_BASE64);
	}
	switch (st->mech) {
	case SASL_MECH_PLAIN:
		if (k == 0)
			return done(res, read_plain(buf, n, res));
		break;
	case SASL_MECH_LOGIN:
		if (k == 0)
			return done(res, read_login_user(buf, n, res));
		break;
	case SASL_MECH_XOAUTH2:
		if (k == 0)
			return done(res, read_xoauth2(buf, n, res));
		break;
	case SASL_MECH_OAUTHBEARER:
		if (k == 0)
			return done(res, read_oauthbearer(buf, n, res));
		break;
	case SASL_MECH_CRAM_MD5:
		if (initial) {
			/* the server speaks first: this is no answer to a
			 * challenge, and the next response still is one */
			st->nresp--;
			return done(res, SASL_MALFORMED);
		}
		if (k == 0)
			return done(res, read_cram_md5(buf, n, res));
		break;
	case SASL_MECH_SCRAM_SHA_1:
	case SASL_MECH_SCRAM_SHA_1_PLUS:
	case SASL_MECH_SCRAM_SHA_256:
	case SASL_MECH_SCRAM_SHA_256_PLUS:
		if (k == 0)
			return done(res, read_scram_first(buf, n, res));
		break;
	case SASL_MECH_UNKNOWN:
		break;
	}
	return done(res, SASL_RELAY);
}

static const char *const mech_names[] = {
	[SASL_MECH_UNKNOWN] = "UNKNOWN",
	[SASL_MECH_PLAIN] = "PLAIN",
	[SASL_MECH_LOGIN] = "LOGIN",
	[SASL_MECH_XOAUTH2] = "XOAUTH2",
	[SASL_MECH_OAUTHBEARER] = "OAUTHBEARER",
	[SASL_MECH_CRAM_MD5] = "CRAM-MD5",
	[SASL_MECH_SCRAM_SHA_1] = "SCRAM-SHA-1",
	[SASL_MECH_SCRAM_SHA_1_PLUS] = "SCRAM-SHA-1-PLUS",
	[SASL_MECH_SCRAM_SHA_256] = "SCRAM-SHA-256",
	[SASL_MECH_SCRAM_SHA_256_PLUS] = "SCRAM-SHA-256-PLUS",
};
#define NMECH	(sizeof(mech_names) / sizeof(mech_names[0]))

static int
is_mech_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

enum sasl_rc
sasl_start(struct sasl_state *st, const char *arg, size_t len, char *buf,
    size_t cap, struct sasl_result *res)
{
	size_t		ml = 0;
	enum sasl_rc	rc;

	memset(st, 0, sizeof(*st));
	memset(res, 0, sizeof(*res));
	while (ml < len && is_mech_char((unsigned char)arg[ml]))
		ml++;
	if (ml == 0 || ml > MECH_MAX)
		return done(res, SASL_SYNTAX);
	if (ml < len && arg[ml] != ' ')
		return done(res, SASL_SYNTAX);	/* a byte no name has */
	if (ml < len && (ml + 1 == len || arg[ml + 1] == ' '))
		return done(res, SASL_SYNTAX);	/* SP and nothing, or two SP */
	res->mech = span_make(arg, ml);
	st->mech = sasl_mech_lookup(arg, ml);
	if (ml == len)
		return done(res, st->mech == SASL_MECH_UNKNOWN ?
		    SASL_UNKNOWN_MECH : SASL_RELAY);
	rc = one_response(st, arg + ml + 1, len - ml - 1, 1, buf, cap, res);
	if (rc == SASL_RELAY && st->mech == SASL_MECH_UNKNOWN)
		return done(res, SASL_UNKNOWN_MECH);
	return rc;
}

enum sasl_rc
sasl_response(struct sasl_state *st, const char *line, size_t len, char *buf,
    size_t cap, struct sasl_result *res)
{
	memset(res, 0, sizeof(*res));
	if (len == 1 && line[0] == '*')
		return done(res, SASL_CANCEL);
	return one_response(st, line, len, 0, buf, cap, res);
}

enum sasl_mech
sasl_mech_lookup(const char *name, size_t len)
{
	struct span n = span_make(name, len);

	for (size_t m = SASL_MECH_UNKNOWN + 1; m < NMECH; m++)
		if (span_ieq(n, mech_names[m]))
			return (enum sasl_mech)m;
	return SASL_MECH_UNKNOWN;
}

int
sasl_mech_known(const char *name, size_t len)
{
	return sasl_mech_lookup(name, len) != SASL_MECH_UNKNOWN;
}

size_t
sasl_mech_filter(const char *list, size_t len, char *out, size_t cap)
{
	size_t	pos = 0, o = 0;

	if (cap < len)
		return 0;
	while (pos < len) {
		size_t s;

		while (pos < len && (list[pos] == ' ' || list[pos] == '\t'))
			pos++;
		s = pos;
		while (pos < len && list[pos] != ' ' && list[pos] != '\t')
			pos++;
		if (pos == s || !sasl_mech_known(list + s, pos - s))
			continue;
		/* o + 1 + (pos - s) <= len: the kept names and one
		 * separator each fit where the input had them */
		if (o > 0)
			out[o++] = ' ';
		memcpy(out + o, list + s, pos - s);
		o += pos - s;
	}
	return o;
}

const char *
sasl_mech_name(enum sasl_mech m)
{
	if ((unsigned)m < NMECH)
		return mech_names[m];
	return "?";
}

const char *
sasl_rc_name(enum sasl_rc rc)
{
	static const char *const names[] = {
		[SASL_RELAY] = "RELAY",
		[SASL_IDENTITY] = "IDENTITY",
		[SASL_CANCEL] = "CANCEL",
		[SASL_BAD_BASE64] = "BAD_BASE64",
		[SASL_UNKNOWN_MECH] = "UNKNOWN_MECH",
		[SASL_MALFORMED] = "MALFORMED",
		[SASL_SYNTAX] = "SYNTAX",
		[SASL_NOSPACE] = "NOSPACE",
	};

	if ((unsigned)rc < sizeof(names) / sizeof(names[0]))
		return names[rc];
	return "?";
}
