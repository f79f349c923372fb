/*
 * core/xtext.c - RFC 3461 4 xtext: encoding XCLIENT attribute values
 * that carry client-supplied text (HELO name, reverse DNS name), and
 * decoding for tests. Input: untrusted bytes, any value, exact length.
 * Output bounded by the caller's cap. Allocates nothing.
 */
#include "core/xtext.h"

static const char hexdig[] = "0123456789ABCDEF";

/* RFC 3461 4: xchar = "!" .. "~" except "+" and "=". */
static int
is_xchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e && c != '+' && c != '=';
}

static int
uhexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t
xtext_encode(const char *in, size_t len, char *out, size_t cap)
{
	size_t	n = 0;

	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (is_xchar(c)) {
			if (cap - n < 2)
				goto full;
			out[n++] = (char)c;
			continue;
		}
		if (cap - n < 4)
			goto full;
		out[n++] = '+';
		out[n++] = hexdig[c >> 4];
		out[n++] = hexdig[c & 0x0f];
	}
	out[n] = '\0';
	return n;
full:
	out[0] = '\0';
	return 0;
}

int
xtext_decode(const char *in, size_t len, char *out, size_t cap,
    size_t *outlen)
{
	size_t	need = 0, o = 0;

	/* check and count first, so nothing is written on an error */
	for (size_t i = 0; i < len; need++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '+') {
			if (len - i < 3 ||
			    uhexval((unsigned char)in[i + 1]) < 0 ||
			    uhexval((unsigned char)in[i + 2]) < 0)
				return XTEXT_E_SYNTAX;
			i += 3;
			continue;
		}
		if (!is_xchar(c))
			return XTEXT_E_SYNTAX;
		i++;
	}
	if (need > cap)
		return XTEXT_E_NOSPACE;
	for (size_t i = 0; i < len; ) {
		if (in[i] == '+') {
			int hi = uhexval((unsigned char)in[i + 1]);
			int lo = uhexval((unsigned char)in[i + 2]);

			out[o++] = (char)(hi << 4 | lo);
			i += 3;
		} else
			out[o++] = in[i++];
	}
	*outlen = o;
	return 0;
}
