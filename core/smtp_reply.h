/*
 * core/smtp_reply.h - SMTP replies from the backend (RFC 5321 4.2):
 * validating one reply line, and filtering an EHLO reply's capability
 * list. The backend is trusted more than a client but its replies are
 * still validated before they are relayed.
 */
#ifndef MXS_SMTP_REPLY_H
#define MXS_SMTP_REPLY_H

#include "core/span.h"

enum reply_rc {
	REPLY_OK = 0,
	REPLY_E_SYNTAX,		/* not "ddd", "ddd ", "ddd-": no valid code */
	REPLY_E_CODE,		/* code outside 200-599 */
	REPLY_E_CHAR,		/* control character (other than HTAB) in text */
};

struct reply_line {
	int		code;		/* 200..599 */
	int		last;		/* 1 for "ddd " or "ddd", 0 for "ddd-" */
	struct span	text;		/* after the separator */
	struct span	enh;		/* enhanced status code "x.y.z" at the
					   start of text, or empty */
};

/*
 * reply_parse_line - one reply line without its CRLF.
 * Accepts UTF-8 in the text; refuses NUL, CR, LF and other C0 controls.
 * HTAB is allowed, DEL is refused; octets >= 0x80 are passed without a
 * UTF-8 check, as backends still send Latin-1 texts. enh is set when the
 * text starts with class "." subject "." detail (RFC 3463: class 2, 4 or
 * 5, subject and detail 1*3DIGIT) followed by a space or the end; it is
 * not compared with the reply code. out->code is set for REPLY_E_CODE.
 */
enum reply_rc	reply_parse_line(const char *p, size_t len,
		    struct reply_line *out);

/* The enum's name without prefix ("E_CODE"), for logs. */
const char	*reply_rc_name(enum reply_rc rc);

/* Capabilities an EHLO filter can remove (bit mask). */
#define CAP_STARTTLS	0x01u
#define CAP_CHUNKING	0x02u
#define CAP_BINARYMIME	0x04u
#define CAP_XCLIENT	0x08u
#define CAP_XFORWARD	0x10u
#define CAP_AUTH	0x20u	/* "AUTH ..." and the old "AUTH=..." form */
#define CAP_PIPELINING	0x40u

/*
 * reply_ehlo_filter - rewrite a complete multi-line EHLO reply
 * (in: every line with its CRLF, as received) into out, dropping the
 * capability lines named in drop (keyword compared case-insensitively,
 * first word of the line after the code), keeping the first line (the
 * greeting) always, and fixing the separators so that every line but
 * the last has "-" and the last has " ". add, if not NULL, is a
 * NULL-terminated list of extra keywords (e.g. "STARTTLS") appended as
 * capability lines after the kept ones, so the last of them takes the
 * last position; name the same capability in drop to avoid a duplicate.
 * Returns the bytes written, or 0 when out (cap) is too small or in is
 * not a well-formed 250 reply. *seen gets the CAP_* bits of the
 * capabilities that were present in the input.
 *
 * In detail: in must be one or more lines, each ending in CRLF, each
 * passing reply_parse_line() with code 250, every line but the last a
 * "250-" line and the last a "250 " or "250" line that ends in. A
 * capability's keyword is the leading run of letters, digits and "-" of
 * its text, so "AUTH" names "AUTH PLAIN" and "AUTH=PLAIN" and "XCLIENT"
 * does not name "XCLIENTX". Capability lines with empty text are
 * dropped. The last line is always written with its space, "250 " CRLF
 * when its text is empty (clients look for it). An add keyword that is empty or holds a control character
 * makes the call fail. seen may be NULL; it is 0 after a failure.
 */
size_t		reply_ehlo_filter(const char *in, size_t len, unsigned drop,
		    const char *const *add, char *out, size_t cap,
		    unsigned *seen);

#endif
