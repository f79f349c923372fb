/*
 * core/mime_append.h - appending a text (the spoof warning) to a
 * message body while it streams to the backend, MIME-aware (RFC 2045,
 * 2046), in constant memory:
 *   - text/plain (also a message without Content-Type): at the end of
 *     the part, in the part's own transfer encoding (7bit, 8bit,
 *     binary, quoted-printable, base64) and charset;
 *   - text/html: as HTML (escaped, non-ASCII as character references)
 *     before the part's last "</body>", at its end when there is none;
 *   - multipart/alternative: in each text/plain and text/html
 *     alternative (a multipart alternative: its first text part);
 *   - multipart/mixed, related and any other multipart: in the first
 *     inline text part, looked for recursively;
 *   - multipart/signed, application/pkcs7-mime, message/ *, attachments
 *     (Content-Disposition: attachment) and parts in a charset the text
 *     cannot be written in are never changed.
 * Every byte of a part that is not changed goes out as it came. A text
 * part that is changed is decoded and encoded again (quoted-printable
 * and base64 lines may then be broken differently; the decoded content
 * is the same, followed by the text). Decoded, a plain part gets a CRLF
 * when its content does not end in one, an empty line, and the text's
 * lines, each ending in CRLF; an HTML part gets
 * "\r\n<div><hr>\r\n" line "<br>\r\n" line "\r\n</div>\r\n".
 * In a multipart other than alternative the first inline text/plain or
 * text/html part is the one: when it cannot take the text (MA_CHARSET)
 * no later part is tried. A part that was begun gets the text where it
 * ends, also when an outer delimiter or the end of the message ends it
 * (unterminated multipart), so the output differs from the input
 * exactly when the outcome is MA_APPENDED.
 *
 * Input and output are wire format as core/dscan emits it: CRLF line
 * endings, dot-stuffed; the output is dot-stuffed too. The input is
 * the message after its header fields: it starts with the empty line
 * that ends the header section (when the message has one). Untrusted:
 * malformed MIME never makes it fail; at worst nothing is appended
 * (MA_MALFORMED) and every byte goes out unchanged.
 * Pure; allocates nothing; struct mime_append is all its memory.
 */
#ifndef MXS_MIME_APPEND_H
#define MXS_MIME_APPEND_H

#include <stddef.h>
#include <stdint.h>

#define MA_MAX_DEPTH	8	/* nested multiparts followed */
#define MA_MAX_BOUNDARY	200	/* longer boundary (RFC 2046: 70): opaque */
#define MA_LINE		1024	/* a line is analysed on its first octets */
#define MA_HOLD		8192	/* HTML held after a "</body>" */
#define MA_FIELD	2048	/* a part's Content-* field, unfolded */
#define MA_TEXT_MAX	4096	/* the text to append, UTF-8 */

enum ma_outcome {
	MA_PENDING = 0,		/* not known yet (ma_finish not called) */
	MA_APPENDED,		/* written into at least one text part */
	MA_SIGNED,		/* multipart/signed or application/pkcs7-mime
				   at the top: nothing changed */
	MA_NO_TEXT,		/* no text part where it belongs */
	MA_CHARSET,		/* the text parts' charset or encoding cannot
				   carry the text (e.g. a non-ASCII text in a
				   7bit part, or in an unknown charset) */
	MA_MALFORMED		/* the MIME structure could not be followed
				   (no boundary, too deep, a line or field too
				   long where it mattered) */
};

typedef void	(*ma_emit_fn)(void *ctx, const char *p, size_t n);

struct mime_append;

/*
 * ma_size - sizeof(struct mime_append): the caller allocates it (a
 * session does so only for a message that gets the text).
 */
size_t		ma_size(void);

/*
 * ma_init - start on the message whose header section is hdr[0..hlen)
 * (wire format, as core/hdr.c reads it): its Content-Type and
 * Content-Transfer-Encoding say what the body is. text[0..tlen) is the
 * text to append, UTF-8, lines ending in LF or CRLF (at most
 * MA_TEXT_MAX octets; longer is cut at a character boundary; trailing
 * white space of each line and trailing empty lines are dropped; invalid
 * UTF-8 is taken as U+FFFD). Returns
 * MA_SIGNED when the header section alone says nothing may change (the
 * caller may then not feed the body through at all), MA_PENDING
 * otherwise.
 */
enum ma_outcome	ma_init(struct mime_append *m, const char *hdr, size_t hlen,
		    const char *text, size_t tlen);

/*
 * ma_feed - body bytes p[0..n) in, any split; output through emit, in
 * order (emit is never called with n == 0; p is valid only during the
 * call). Bytes may be held (at most a line, MA_HOLD of HTML, a base64
 * quantum) until a later call or ma_finish.
 */
void		ma_feed(struct mime_append *m, const char *p, size_t n,
		    ma_emit_fn emit, void *ctx);

/*
 * ma_finish - the end of the message: flush what is held, append the
 * text where it is still due (a single-part body ends here). Returns
 * the outcome.
 */
enum ma_outcome	ma_finish(struct mime_append *m, ma_emit_fn emit, void *ctx);

/* ma_outcome_text - "appended", "signed", ...; for the log. */
const char	*ma_outcome_text(enum ma_outcome);

/* ma_parts - how many text parts got the text (after ma_finish). */
unsigned	ma_parts(const struct mime_append *m);

#endif
