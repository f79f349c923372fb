/*
 * core/addr5322.h - RFC 5322 address lists in header fields: unfolding
 * a field body, parsing an address-list or mailbox-list (3.4, 3.4.1,
 * obsolete syntax of 4.4, RFC 6532 UTF-8), and the From: field(s) of a
 * held header section for the checks that need them.
 * Input: untrusted, not NUL-terminated. Allocates nothing; results are
 * spans into the caller's unfolded buffer or bytes copied into the
 * caller's bounded buffers.
 */
#ifndef MXS_ADDR5322_H
#define MXS_ADDR5322_H

#include "core/span.h"

enum al_rc {
	AL_OK = 0,
	AL_E_TOOLONG,		/* the unfolded body does not fit the buffer */
	AL_E_FOLD,		/* a line break not followed by SP or HTAB */
	AL_E_SYNTAX,		/* not an address list */
	AL_E_TOOMANY,		/* more mailboxes than the caller's array */
};

/* Mailbox flags. */
#define AL_ROUTE	0x01	/* obs-route source route "<@a,@b:x@y>" */
#define AL_QUOTED_LOCAL	0x02	/* a quoted string in the local part */
#define AL_IN_GROUP	0x04	/* member of a group */
#define AL_DOMAIN_LIT	0x08	/* domain-literal "[...]" */
#define AL_ANGLE	0x10	/* written as an angle-addr "<...>" */
#define AL_OBS		0x20	/* obsolete syntax: "." in the phrase,
				   CFWS between the words of the local
				   part or the atoms of the domain */
#define AL_UTF8		0x40	/* non-ASCII octets (RFC 6532) */

struct al_mailbox {
	struct span	display;	/* raw phrase (quotes, comments and
					   encoded words kept); len 0 when
					   there is none */
	struct span	group;		/* raw display-name of the group */
	struct span	route;		/* "@a,@b" without the ":" */
	struct span	local;		/* raw local part (CFWS kept) */
	struct span	domain;		/* raw domain (CFWS kept) */
	struct span	addr;		/* from local through domain */
	unsigned	flags;
};

/*
 * al_unfold - the field body v[0..len) with each line break that is
 * followed by SP or HTAB taken out (RFC 5322 2.2.3), with the stuffing
 * dot of a continuation line ("\r\n. x" on the wire is "\r\n x"), into
 * out (cap octets, no NUL). Returns AL_E_FOLD for a CR or LF that does
 * not start a fold, AL_E_TOOLONG when out is too small; *outlen is set
 * in every case to the octets written.
 */
enum al_rc	al_unfold(const char *v, size_t len, char *out, size_t cap,
		    size_t *outlen);

/*
 * al_parse - the address-list in p[0..len) (unfolded). Mailboxes, group
 * members included, go to out[0..max) in order; *n is their count and
 * *ngroups (may be NULL) the number of groups, empty ones included.
 * Empty list elements are allowed (RFC 5322 4.4), so *n may be 0.
 * On an error *n holds the mailboxes parsed before it.
 */
enum al_rc	al_parse(const char *p, size_t len, struct al_mailbox *out,
		    size_t max, size_t *n, size_t *ngroups);

/* al_field - al_unfold into buf, then al_parse of the result. */
enum al_rc	al_field(const char *v, size_t len, char *buf, size_t cap,
		    struct al_mailbox *out, size_t max, size_t *n,
		    size_t *ngroups);

/*
 * al_addr_text - the address of m as "local@domain" with comments and
 * white space removed (quoted strings and domain literals kept as they
 * are written), into out as at most cap-1 octets plus NUL. Returns its
 * length; a result that was cut is shorter than the address.
 */
size_t		al_addr_text(const struct al_mailbox *m, char *out, size_t cap);

/*
 * al_phrase_text - a display name as people read it: comments removed,
 * quoted strings unquoted and their quoted pairs resolved, each run of
 * white space (or comment) between words as one space, trimmed. Encoded
 * words (RFC 2047) are left as they are, for core's decoder to read.
 * Writes at most cap-1 octets plus NUL; returns the length.
 */
size_t		al_phrase_text(struct span phrase, char *out, size_t cap);

enum al_from_rc {
	AL_FROM_OK = 0,		/* one From field, >= 1 mailbox */
	AL_FROM_NONE,		/* no From field */
	AL_FROM_MANY,		/* more than one From field */
	AL_FROM_UNPARSABLE,	/* syntax, folding, or too long for buf */
	AL_FROM_NOADDR,		/* parsed, but no mailbox (empty, group) */
	AL_FROM_TOOMANY,	/* more mailboxes than max */
};

/*
 * al_from - the mailboxes of the From field of the header section
 * sec[0..len) (core/hdr.c's reading, dot-stuffed wire format). buf
 * (cap octets) holds the unfolded body the spans point into. Only
 * AL_FROM_OK means the mailboxes are usable; a check that needs them
 * fails on anything else.
 */
enum al_from_rc	al_from(const char *sec, size_t len, char *buf, size_t cap,
		    struct al_mailbox *out, size_t max, size_t *n);

const char	*al_rc_name(enum al_rc);
const char	*al_from_name(enum al_from_rc);

#endif
