/*
 * core/ew.h - RFC 2047 encoded words: decoding unstructured header text
 * and display-name phrases to UTF-8 for display-name checks, and finding
 * something that looks like an address in the result. Input: untrusted
 * bytes, exact length, folding allowed. Output bounded by the caller's
 * cap; allocates nothing; the only data are const charset tables.
 * RFC 2047 2-6 (syntax, B and Q, 6.2 white space between words),
 * RFC 2231 5 (language tag after "*"), RFC 5322 2.2.3 (unfolding).
 */
#ifndef MXS_EW_H
#define MXS_EW_H

#include <stddef.h>
#include <stdint.h>

#include "core/span.h"

/* Flags ew_decode() ORs into *flags (it never clears one). */
#define EW_F_DECODED	0x01u	/* at least one encoded word decoded */
#define EW_F_MALFORMED	0x02u	/* "=?" that starts no valid word: kept */
#define EW_F_CHARSET	0x04u	/* unknown charset: that word kept as is */
#define EW_F_PADDING	0x08u	/* B text without its "=" padding */
#define EW_F_REPLACED	0x10u	/* bytes invalid in their charset: U+FFFD */
#define EW_F_TRUNCATED	0x20u	/* output stopped at cap (UTF-8 boundary) */

/*
 * ew_decode - in[0..len), an unstructured field body or a phrase, with
 * each valid encoded word replaced by its text in UTF-8, white space
 * between two decoded words dropped (RFC 2047 6.2), folds (CRLF or LF
 * followed by SP or HTAB) unfolded, and everything else copied as it
 * is. A malformed word, or one in a charset not known here, is copied
 * unchanged. Writes at most cap bytes to out, no NUL; *outlen gets the
 * length. When the result does not fit it ends at a character boundary
 * and EW_F_TRUNCATED is set. Returns 0, or -1 when truncated.
 */
int	ew_decode(const char *in, size_t len, char *out, size_t cap,
	    size_t *outlen, unsigned *flags);

/*
 * ew_decode_q, ew_decode_b - the encoded text of one word alone
 * (RFC 2047 4.2 and 4.1) as octets, no charset conversion, at most cap
 * of them to out. Return the number of octets, or -1 when the text is
 * not valid in that encoding or does not fit. B text without padding
 * is decoded and sets EW_F_PADDING.
 */
long	ew_decode_q(const char *in, size_t len, char *out, size_t cap);
long	ew_decode_b(const char *in, size_t len, char *out, size_t cap,
	    unsigned *flags);

/*
 * ew_find_address - the first thing in text[0..len) (UTF-8, usually
 * ew_decode()'s output) that looks like an address: a run of local-part
 * characters, an "@" (or the fullwidth U+FF20 or small U+FE6B), then a
 * domain of at least two labels separated by "." (or U+FF0E, U+3002).
 * *addr spans it. Returns 1 when found, 0 when not.
 */
int	ew_find_address(const char *text, size_t len, struct span *addr);

/* A charset by name, as ew_decode() understands it. */
enum ew_cs_kind {
	EW_CS_NONE = 0,		/* not known */
	EW_CS_UTF8,		/* validated, invalid bytes become U+FFFD */
	EW_CS_ASCII,		/* bytes above 0x7F become U+FFFD */
	EW_CS_LATIN1,		/* byte value = code point */
	EW_CS_TABLE		/* bytes from first up mapped by table */
};

struct ew_charset {
	enum ew_cs_kind	 kind;
	unsigned	 first;	/* EW_CS_TABLE: first byte in table */
	const uint16_t	*table;	/* 0x100 - first code points, 0xFFFD
				   where the charset has no character */
};

/*
 * ew_charset_find - the charset named name[0..len) (case-insensitive;
 * "-", "_" and " " ignored; an RFC 2231 "*language" must be removed
 * first). Returns 1 and fills *cs when known, 0 otherwise.
 */
int	ew_charset_find(const char *name, size_t len, struct ew_charset *cs);

#endif
