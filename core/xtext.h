/*
 * core/xtext.h - RFC 3461 4 "xtext", the encoding of XCLIENT attribute
 * values (Postfix XCLIENT_README: values are xtext-encoded). Bounded,
 * pure; allocates nothing.
 */
#ifndef MXS_XTEXT_H
#define MXS_XTEXT_H

#include <stddef.h>

/*
 * xtext_encode - in[0..len) as xtext into out[0..cap), NUL-terminated:
 * bytes "!" (0x21) .. "~" (0x7e) other than "+" and "=" as they are,
 * every other byte as "+" and two upper-case hex digits. Returns the
 * length without the NUL, or 0 (out "" when cap > 0) when it does not
 * fit; empty input also gives 0. 3 * len + 1 bytes always suffice.
 */
size_t	xtext_encode(const char *in, size_t len, char *out, size_t cap);

/* xtext_decode() results below zero. */
#define XTEXT_E_SYNTAX	(-1)
#define XTEXT_E_NOSPACE	(-2)

/*
 * xtext_decode - the reverse: in[0..len) must be xtext exactly (no
 * byte outside "!".."~", no "=", "+" followed by two upper-case hex
 * digits). Writes the bytes (no NUL) into out[0..cap) and sets *outlen.
 * Returns 0, XTEXT_E_SYNTAX, or XTEXT_E_NOSPACE (nothing written).
 */
int	xtext_decode(const char *in, size_t len, char *out, size_t cap,
	    size_t *outlen);

#endif
