/*
 * core/smtp_reply.h - SMTP replies from the backend (RFC 5321 4.2):
 * validating one reply line, and filtering an EHLO reply's capability
 * list. The backend is trusted more than a client but its replies are
 * still validated before they are relayed.
 */
#ifndef MXS_SMTP_REPLY_H
#define MXS_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

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

/*
 * The capabilities reply_ehlo_filter() knows by name (bit mask).
 * CAP_OTHER stands for every keyword not named here.
 */
#define CAP_STARTTLS	0x0001u
#define CAP_CHUNKING	0x0002u
#define CAP_BINARYMIME	0x0004u
#define CAP_XCLIENT	0x0008u
#define CAP_XFORWARD	0x0010u
#define CAP_AUTH	0x0020u	/* "AUTH ..." and the old "AUTH=..." form */
#define CAP_PIPELINING	0x0040u
#define CAP_SIZE	0x0080u
#define CAP_8BITMIME	0x0100u
#define CAP_SMTPUTF8	0x0200u
#define CAP_DSN		0x0400u
#define CAP_ENHANCEDSTATUSCODES 0x0800u
#define CAP_PRDR	0x1000u
#define CAP_OTHER	0x8000u

/*
 * The only capabilities of the backend a client may see (DESIGN.md "EHLO
 * reply": mxshield understands them, so they cannot desynchronise the
 * dialogue). STARTTLS is mxshield's own, added through ehlo_opts.add,
 * never the backend's. Anything else, PRDR, PIPECONNECT, ETRN, BURL,
 * CHUNKING, BINARYMIME, XCLIENT, XFORWARD and whatever a backend invents
 * next, is removed.
 */
#define CAP_ALLOWED	(CAP_PIPELINING | CAP_SIZE | CAP_8BITMIME | \
	CAP_SMTPUTF8 | CAP_DSN | CAP_ENHANCEDSTATUSCODES | CAP_AUTH)

/* What reply_ehlo_filter() lets through. */
struct ehlo_opts {
	unsigned		 keep;	/* CAP_* bits kept; only those also in
					   CAP_ALLOWED count (CAP_ALLOWED, or
					   without CAP_AUTH before TLS) */
	const char *const	*add;	/* NULL-terminated keywords appended
					   (e.g. "STARTTLS"), or NULL */
	const char *const	*mechs;	/* NULL: AUTH lines as offered; else the
					   NULL-terminated SASL mechanisms an
					   AUTH line may keep */
};

/* Room for the removed keywords, NUL included. */
#define EHLO_REMOVED_MAX	256

/* What reply_ehlo_filter() saw and took out (for a debug log line). */
struct ehlo_result {
	unsigned	seen;		/* CAP_* bits present in the input */
	unsigned	nremoved;	/* lines and mechanisms removed */
	char		removed[EHLO_REMOVED_MAX];
					/* their names, space-separated, NUL-
					   terminated: keywords ("PRDR") and
					   mechanisms ("AUTH:GSSAPI"), each
					   reduced to letters, digits, "-"
					   and "_" (others become "?"); ends in
					   "..." when the rest did not fit */
};

/*
 * reply_ehlo_filter - rewrite a complete multi-line EHLO reply
 * (in: every line with its CRLF, as received) into out, keeping the
 * first line (the greeting) always and of the capability lines only
 * those whose keyword (compared case-insensitively, first word of the
 * line after the code) is in o->keep & CAP_ALLOWED; an allowlist, so an
 * unknown keyword is removed. With o->mechs, an AUTH line keeps only the
 * mechanisms in that list (case-insensitive), in the order offered, and
 * goes entirely when none remains. The separators are fixed so that
 * every line but the last has "-" and the last has " ". o->add, if not
 * NULL, lists extra keywords appended as capability lines after the
 * kept ones, so the last of them takes the last position. Returns the
 * bytes written, or 0 when out (cap) is too small or in is not a
 * well-formed 250 reply: the caller then fails closed (never relays in
 * as it came). res may be NULL; after a failure it is all zero.
 *
 * In detail: in must be one or more lines, each ending in CRLF, each
 * passing reply_parse_line() with code 250, every line but the last a
 * "250-" line and the last a "250 " or "250" line that ends in. A
 * capability's keyword is the leading run of letters, digits and "-" of
 * its text, so "AUTH" names "AUTH PLAIN" and "AUTH=PLAIN" and "XCLIENT"
 * does not name "XCLIENTX". Capability lines with empty text are
 * dropped (and not reported). The mechanisms of an AUTH line are the
 * words after the "AUTH" and its space or "="; a kept line is written
 * "AUTH", that separator, the kept mechanisms separated by one space;
 * "AUTH" with no mechanism goes under o->mechs. The last line is always
 * written with its space, "250 " CRLF when its text is empty (clients
 * look for it). An add keyword that is empty or holds a control
 * character makes the call fail.
 */
size_t		reply_ehlo_filter(const char *in, size_t len,
		    const struct ehlo_opts *o, char *out, size_t cap,
		    struct ehlo_result *res);

/*
 * reply_ehlo_size - the SIZE an EHLO reply (as reply_ehlo_filter()
 * takes it) announces (RFC 1870 4): -1 when no capability line is SIZE,
 * 0 when SIZE has no value, 0 or anything but digits (no fixed limit
 * announced), else its value. Lines after one that is malformed are not
 * read.
 */
int64_t		reply_ehlo_size(const char *in, size_t len);

/* The longest queue id reply_queue_id() returns. */
#define REPLY_QID_MAX	64

/*
 * reply_queue_id - the backend's queue id in its reply to the final dot
 * (r: the whole reply, lines separated by CRLF or LF, the last CRLF
 * optional), for the log's queue_id field; an empty span when there is
 * none. The span points into r, is at most REPLY_QID_MAX bytes (a longer
 * id is cut there) and holds only letters, digits and "._-@<>+=" (the
 * id is the run of such bytes at its place; a trailing "." and, when it
 * holds no "<", a trailing ">" are not part of it). Each line is tried
 * in turn, its text (after the code and an enhanced status code) in
 * this order:
 *  - Exchange: "InternalId=ID" ("250 2.6.0 <msgid@host> [InternalId=123,
 *    Hostname=x] Queued mail for delivery"): the InternalId, the key of
 *    Exchange's message tracking; the <msgid> is the Message-ID header,
 *    already logged as message_id;
 *  - Postfix and others: "queued as ID" ("250 2.0.0 Ok: queued as
 *    4Xyz12AbC", text may follow), and "delivery as ID" ("250 Message
 *    accepted for delivery as AIO000015");
 *  - Exim: "id=ID" as a word of its own ("250 OK id=1tXyzA-000abc-Ab");
 *  - MDaemon: "Message-ID: ID" ("250 2.6.0 Ok, message saved
 *    <Message-ID: ID>"), the id the server gave the message;
 *  - Sendmail and OpenSMTPD: "ID Message accepted for delivery", the
 *    first word of the text, after an optional ":" ("250 2.0.0
 *    4B6Jk1Xx012345 Message accepted for delivery");
 *  - Google: "... ID - gsmtp", the word before the suffix.
 * Keywords are matched case-insensitively. "250 OK" and aiosmtpd's
 * "250 Message accepted for delivery" hold none.
 */
struct span	reply_queue_id(const char *r, size_t n);

#endif
