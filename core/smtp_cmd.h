/*
 * core/smtp_cmd.h - SMTP command lines from an untrusted client:
 * finding one line in a byte stream (with the line-ending and length
 * policy of DESIGN.md "Hostile input"), and splitting a line into verb,
 * path and parameters (RFC 5321 4.1, 4.1.2).
 */
#ifndef MXS_SMTP_CMD_H
#define MXS_SMTP_CMD_H

#include <stdint.h>

#include "core/span.h"

/* What cmd_scan_line() found. */
enum cmd_line_rc {
	LINE_NEED_MORE = 0,	/* no complete line yet */
	LINE_OK,		/* *line is one line, CRLF removed */
	LINE_TOO_LONG,		/* a line over the limit ended; it was discarded */
	LINE_BARE_LF,		/* a LF without CR inside a line */
	LINE_BARE_CR,		/* a CR not followed by LF inside a line */
	LINE_NUL,		/* a NUL octet inside a line */
};

struct cmd_scanner {
	int	discarding;	/* in the middle of an over-long line */
	int	cr;		/* discarding, and the last byte thrown away
				   was a CR */
};

/*
 * cmd_scan_line - look for one line at the start of p[0..len).
 * A line ends only at CRLF (RFC 5321 2.3.8): a bare LF or a bare CR does
 * not end it, so "NOOP\nMAIL FROM:<a@b>\r\n" is one line, refused as a
 * whole with one reply, and nothing of it can be taken for a command.
 * limit is the longest line accepted, CRLF included.
 * Returns the number of bytes consumed and sets *rc:
 *  - 0 bytes and LINE_NEED_MORE: no CRLF yet and fewer than limit bytes;
 *    the caller keeps the bytes and calls again with more appended.
 *  - n bytes and LINE_OK: *line spans the line without its CRLF.
 *  - n bytes and LINE_BARE_LF / LINE_BARE_CR / LINE_NUL: a complete line
 *    (through its CRLF) that holds a LF, a CR or a NUL and must be
 *    refused; *line spans it without the CRLF, for logging only. When a
 *    line has several faults, the first one in it is reported.
 *  - n bytes and LINE_NEED_MORE while discarding: a line passed the limit
 *    with no CRLF in sight; the n bytes are thrown away and the scanner
 *    remembers it (and whether they ended in a CR); the CRLF that ends
 *    that line is reported as LINE_TOO_LONG (one report per over-long
 *    line), even when its CR was in the bytes thrown away. When that
 *    CRLF is already in p, the whole line through it is consumed and
 *    reported at once. *line is empty for LINE_TOO_LONG.
 * A line of exactly limit bytes including CRLF is accepted. A CRLF seen
 * within the limit decides the line; a bare CR, a bare LF or a NUL is
 * reported in preference to the length. A line whose CRLF lies beyond
 * the limit is LINE_TOO_LONG whatever it holds, so the result never
 * depends on how the bytes were split. After LINE_NEED_MORE with 0
 * consumed, fewer than limit bytes are pending. Reset the scanner (zero
 * it) whenever the caller drops its buffered input (STARTTLS).
 */
size_t	cmd_scan_line(struct cmd_scanner *st, const char *p, size_t len,
	    size_t limit, enum cmd_line_rc *rc, struct span *line);

/* The enum's name without prefix ("BARE_LF"), for logs. */
const char	*cmd_line_rc_name(enum cmd_line_rc rc);

enum cmd_verb {
	CMD_UNKNOWN = 0,
	CMD_HELO, CMD_EHLO, CMD_MAIL, CMD_RCPT, CMD_DATA, CMD_RSET,
	CMD_NOOP, CMD_QUIT, CMD_VRFY, CMD_EXPN, CMD_HELP, CMD_AUTH,
	CMD_STARTTLS, CMD_BDAT, CMD_XCLIENT, CMD_XFORWARD,
	CMD_VERB_COUNT
};

/* RFC 5321 4.5.3.1 limits on a path, in octets. */
#define CMD_LOCAL_MAX	64	/* local part, quotes included */
#define CMD_DOMAIN_MAX	255	/* domain or address literal with [] */
#define CMD_PATH_MAX	256	/* "<" route mailbox ">", all included */
#define CMD_LABEL_MAX	63	/* one ASCII domain label (RFC 1035) */

enum cmd_rc {
	CMD_OK = 0,
	CMD_E_EMPTY,		/* empty line or only spaces */
	CMD_E_SYNTAX,		/* verb-specific syntax error (arguments) */
	CMD_E_PATH,		/* MAIL/RCPT: malformed path */
	CMD_E_PARAM,		/* MAIL/RCPT: malformed esmtp-param */
	CMD_E_HELO,		/* HELO/EHLO: bytes no domain or address
				   literal holds (cmd_helo_ok()) */
};

struct smtp_cmd {
	enum cmd_verb	verb;
	struct span	verb_s;		/* the verb as sent */
	struct span	arg;		/* text after the verb and its space,
					   trailing spaces removed; may be empty */
	/* MAIL FROM / RCPT TO only: */
	struct span	path;		/* inside the <>, source route removed;
					   empty for <> */
	struct span	local;		/* local part as written (quotes kept) */
	struct span	domain;		/* domain or address literal with [] */
	struct span	params;		/* esmtp parameters after the path */
	int		null_path;	/* MAIL FROM:<> */
	int		had_route;	/* path had an @a,@b: source route */
	int		postmaster;	/* RCPT TO:<postmaster> (no domain) */
};

/*
 * cmd_parse - split one line (no CRLF) into a command.
 * Verbs are case-insensitive. MAIL needs "FROM:" and RCPT needs "TO:"
 * (case-insensitive, RFC 5321 4.1.1.2/3; a space before the < is
 * tolerated as most MTAs do), then a path in <>, then parameters
 * separated by spaces. Paths follow RFC 5321 4.1.2 with RFC 6531 UTF-8
 * in local part and domain; a local part is at most 64 octets and a
 * domain 255. Unknown verbs give CMD_OK with verb CMD_UNKNOWN.
 * Spans point into p. Allocates nothing.
 *
 * In detail: a verb is the text up to the first space or the end, so
 * "MAILFROM:" and "DATA\t" are unknown verbs. A line starting with a
 * space is CMD_E_SYNTAX; an empty or all-space line CMD_E_EMPTY.
 * HELO/EHLO need a non-empty arg (else CMD_E_SYNTAX) that passes
 * cmd_helo_ok() (else CMD_E_HELO); DATA, RSET, QUIT and STARTTLS take
 * none (trailing spaces are allowed); every other verb keeps its arg
 * raw. MAIL/RCPT: "FROM:"/"TO:" directly after the verb's one space
 * (else CMD_E_SYNTAX), at most one space, then the path (no "<",
 * malformed, or anything but a space right after ">": CMD_E_PATH), then
 * one or more spaces and parameters that must all pass cmd_param_next()
 * (else CMD_E_PARAM). Mailbox = Local-part "@" (Domain / address-literal)
 * where Local-part is a Dot-string or Quoted-string; address literals
 * are [IPv4], [IPv6:...] (RFC 5321 IPv6 forms, at most 6 groups beside
 * "::") and the General-address-literal "[tag:dcontent]". A source
 * route "@a,@b:" (Domains only) is accepted and left out of path, with
 * had_route set. UTF-8 must be well-formed (RFC 3629). The path from
 * "<" to ">" is at most CMD_PATH_MAX octets, an ASCII domain label at
 * most CMD_LABEL_MAX. MAIL FROM:<> sets null_path; RCPT TO:<> is
 * CMD_E_PATH. RCPT TO:<postmaster> (any case, no domain) sets
 * postmaster, with local = path = "postmaster" and domain empty.
 */
enum cmd_rc	cmd_parse(const char *p, size_t len, struct smtp_cmd *out);

/*
 * cmd_helo_ok - the argument of HELO/EHLO (as in struct smtp_cmd: no
 * trailing spaces) holds only what a domain or an address literal can
 * (RFC 5321 4.1.1.1, 4.1.3), so that nothing else is relayed to the
 * backend or written into a Received: field. Returns 1 when it does:
 *  - a name: letters, digits, "-", "." and "_" (underscores, names
 *    without a dot, empty labels and other common misconfigurations of
 *    real hosts pass: whether the name is well formed is the HELO
 *    policy's question, not a matter of protocol safety);
 *  - a bare IPv6 address: hex digits, ":" and "." with at least one
 *    ":" (refused or not by the HELO policy, reject_bare_ip);
 *  - an address literal: "[" then letters, digits, ".", ":" and "-",
 *    then "]" ([192.0.2.1], [IPv6:2001:db8::1]; whether the address is
 *    valid is again the policy's question).
 * Leading spaces (a second space after the verb) are skipped. Anything
 * else is refused: a space or a tab inside, ";", "(", quotes, control
 * characters, and every octet >= 0x80, including the UTF-8 of an RFC
 * 6531 U-label (a client that means one sends its A-label, "xn--").
 */
int		cmd_helo_ok(struct span arg);

/* The verb's canonical upper-case name ("MAIL"), "?" for CMD_UNKNOWN. */
const char	*cmd_verb_name(enum cmd_verb v);

/* The enum's name without prefix ("E_PATH"), for logs. */
const char	*cmd_rc_name(enum cmd_rc rc);

/*
 * cmd_param_next - iterate esmtp parameters: *params is advanced past
 * one "KEYWORD[=VALUE]" and its separating spaces. Returns 1 and fills
 * key/value (value empty when absent), 0 at the end, -1 on a malformed
 * parameter (RFC 5321 4.1.2 esmtp-keyword / esmtp-value, with RFC 6531
 * UTF-8 in values; "KEY=" with an empty value is malformed). Leading
 * spaces are skipped; *params is left unchanged on -1.
 */
int		cmd_param_next(struct span *params, struct span *key,
		    struct span *value);

/*
 * cmd_param_size - the value of SIZE= among params, or -1 when absent,
 * -2 when malformed or over 2^53. Malformed includes a SIZE without
 * value or with anything but digits, SIZE given twice, and a parameter
 * list that cmd_param_next() refuses.
 */
int64_t		cmd_param_size(struct span params);

#endif
