/*
 * core/esc.c - untrusted bytes made safe for a JSON log line (RFC 8259 7)
 * or for a header field (printable US-ASCII only). Input: any bytes,
 * any length, not NUL-terminated. Output: caller's buffer, always
 * NUL-terminated when cap > 0, never overrun. Allocates nothing.
 */
#include <stdio.h>
#include <string.h>

#include "core/esc.h"

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_len(const unsigned char *p, size_t len)
{
	unsigned char	c = p[0], lo = 0x80, hi = 0xbf;
	size_t		n;

	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (len < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

/*
 * The JSON form of the character at p: into unit (at most 12 bytes),
 * its length into *ulen; returns the input bytes it stands for.
 * Short escapes for the three controls that fill transcripts (\t \n \r),
 * \u00XX for every other control, DEL and each byte of invalid UTF-8.
 */
static size_t
json_unit(const unsigned char *p, size_t len, char *unit, size_t *ulen)
{
	unsigned char	c = p[0];
	size_t		n;

	if (c == '"' || c == '\\') {
		unit[0] = '\\';
		unit[1] = (char)c;
		*ulen = 2;
		return 1;
	}
	if (c == '\t' || c == '\n' || c == '\r') {
		unit[0] = '\\';
		unit[1] = c == '\t' ? 't' : c == '\n' ? 'n' : 'r';
		*ulen = 2;
		return 1;
	}
	if (c >= 0x20 && c < 0x7f) {
		unit[0] = (char)c;
		*ulen = 1;
		return 1;
	}
	if (c >= 0x80 && (n = utf8_len(p, len)) > 0) {
		memcpy(unit, p, n);
		*ulen = n;
		return n;
	}
	snprintf(unit, 8, "\\u%04x", c);
	*ulen = 6;
	return 1;
}

/*
 * JSON string contents (esc.h). Writes nothing when cap is 0; else always
 * NUL-terminates. When the input does not fit, goes back to the last
 * character after which "..." still fits and ends with it.
 */
size_t
esc_json(char *out, size_t cap, const char *p, size_t len)
{
	const unsigned char	*s = (const unsigned char *)p;
	size_t			 lim, pos = 0, cut = 0, i = 0;

	if (cap == 0)
		return 0;
	lim = cap - 1;
	while (i < len) {
		char	unit[12];
		size_t	ulen, used;

		used = json_unit(s + i, len - i, unit, &ulen);
		if (pos + ulen > lim) {
			/* does not fit: back to the last place "..." fits */
			pos = cut;
			for (int d = 0; d < 3 && pos < lim; d++)
				out[pos++] = '.';
			break;
		}
		memcpy(out + pos, unit, ulen);
		pos += ulen;
		i += used;
		if (pos + 3 <= lim)
			cut = pos;
	}
	out[pos] = '\0';
	return pos;
}

/* Printable ASCII or '?' per byte, cut at cap - 1; bytes written. */
size_t
esc_printable(char *out, size_t cap, const char *p, size_t len)
{
	size_t	n;

	if (cap == 0)
		return 0;
	n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		out[i] = c >= 0x21 && c <= 0x7e ? (char)c : '?';
	}
	out[n] = '\0';
	return n;
}

size_t
esc_utf8_valid(const char *p, size_t len)
{
	const unsigned char	*u = (const unsigned char *)p;
	size_t			 i = 0, n;

	while (i < len) {
		if (u[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = utf8_len(u + i, len - i)) == 0)
			return i;
		i += n;
	}
	return len;
}
