/*
 * core/esc.h - making untrusted text safe for a log line or a header:
 * JSON string escaping and a printable-ASCII sanitiser, both bounded,
 * and the UTF-8 check they rely on.
 */
#ifndef MXS_ESC_H
#define MXS_ESC_H

#include <stddef.h>

/*
 * esc_json - write p[0..len) as the inside of a JSON string (no quotes)
 * into out (cap bytes, NUL-terminated), escaping '"', '\\' and every
 * byte < 0x20 or 0x7f (TAB, LF, CR as \t \n \r, the others as \u00XX),
 * and every byte of invalid UTF-8 as \u00XX (the byte value), so the
 * result is always valid UTF-8 JSON. Input longer than fits is cut at
 * a character boundary and "..." appended.
 * Returns the bytes written, without the NUL.
 */
size_t	esc_json(char *out, size_t cap, const char *p, size_t len);

/*
 * esc_printable - copy p[0..len) into out (cap bytes, NUL-terminated)
 * replacing every byte outside 0x21..0x7e by '?' and cutting at cap-1.
 * For text that goes into a header or a command (HELO in Received:).
 * Returns the bytes written.
 */
size_t	esc_printable(char *out, size_t cap, const char *p, size_t len);

/*
 * esc_utf8_valid - is p[0..len) well-formed UTF-8 (RFC 3629 4: no
 * overlong forms, no surrogates, nothing above U+10FFFF)? NUL octets
 * count as valid (the caller refuses them if it must). Returns the
 * offset of the first octet that is not part of a well-formed
 * character, or len when all are.
 */
size_t	esc_utf8_valid(const char *p, size_t len);

#endif
