/*
 * core/sasl.h - reading the identity out of an SMTP AUTH exchange that
 * mxshield relays (DESIGN.md "AUTH"): strict base64 (RFC 4648 4), and
 * the client messages of PLAIN (RFC 4616), LOGIN (no RFC; the first
 * response is the user name), XOAUTH2 (Google's format), OAUTHBEARER
 * (RFC 7628 3.1), CRAM-MD5 (RFC 2195 2) and SCRAM-SHA-1, SCRAM-SHA-256
 * and their -PLUS forms (RFC 5802 7, RFC 7677). The backend checks the
 * credentials; mxshield only
 * learns who claims to log in, and binds it on the backend's 235.
 * Pure; allocates nothing: decoded bytes go into a caller's buffer, so
 * the caller can wipe every copy of a secret.
 */
#ifndef MXS_SASL_H
#define MXS_SASL_H

#include <stddef.h>

#include "core/span.h"

enum sasl_mech {
	SASL_MECH_UNKNOWN = 0,	/* GSSAPI, DIGEST-MD5, NTLM, ...: the
				   identity cannot be read */
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
	SASL_MECH_XOAUTH2,
	SASL_MECH_OAUTHBEARER,
	SASL_MECH_CRAM_MD5,
	SASL_MECH_SCRAM_SHA_1,
	SASL_MECH_SCRAM_SHA_1_PLUS,
	SASL_MECH_SCRAM_SHA_256,
	SASL_MECH_SCRAM_SHA_256_PLUS,
};

/* What one line (the AUTH line or a client response) means. */
enum sasl_rc {
	SASL_RELAY = 0,		/* nothing (more) to learn: relay the line */
	SASL_IDENTITY,		/* res->identity holds the claimed identity;
				   relay the line */
	SASL_CANCEL,		/* "*": the client gives up (RFC 4954 4);
				   relay it, the backend answers 501 */
	SASL_BAD_BASE64,	/* not strict base64: never relay it; reply
				   501 5.5.2, and when res->cancel_backend
				   send "*" to the backend and swallow its
				   answer */
	SASL_UNKNOWN_MECH,	/* sasl_start(): a mechanism we cannot read;
				   relay everything, the identity stays
				   unknown */
	SASL_MALFORMED,		/* valid base64, but not a valid message of
				   the mechanism (PLAIN without its NULs,
				   empty user, ...): no identity; relay, the
				   backend refuses it */
	SASL_SYNTAX,		/* sasl_start(): the AUTH argument is not
				   mechanism [SP initial-response]; reply
				   501 5.5.4, do not relay */
	SASL_NOSPACE,		/* the decode buffer is too small: the line
				   is longer than the caller allows; reply
				   500 5.5.6 (and "*" as for BAD_BASE64) */
};

struct sasl_state {
	enum sasl_mech	mech;
	unsigned	nresp;		/* client responses read, the
					   initial response included */
};

struct sasl_result {
	enum sasl_rc	rc;		/* also the return value */
	int		secret;		/* the line may hold a password or a
					   token: wipe the line and the
					   decode buffer once relayed */
	int		cancel_backend;	/* with BAD_BASE64 / NOSPACE: the
					   backend waits for a response */
	struct span	identity;	/* SASL_IDENTITY: into buf, not empty,
					   no NUL; copy it before wiping buf */
	struct span	authzid;	/* PLAIN: the authzid, into buf, may be
					   empty; SCRAM: the a= value
					   unescaped, into buf, not set
					   without a=; for logging, never
					   trusted */
	struct span	mech;		/* sasl_start(): the name as sent */
};

/*
 * sasl_start - the argument of an AUTH command line (after "AUTH ",
 * trailing spaces removed: "PLAIN dGVzdA==", "LOGIN"), per RFC 4954 4:
 * sasl-mech [SP initial-response], where sasl-mech is 1..20 of
 * A-Z 0-9 "-" "_" (RFC 4422 3.1; lower case accepted, compared without
 * case) and the initial response is "=" (empty) or strict base64.
 * Resets *st, then handles the initial response, if any, as the first
 * client response (see sasl_response()). Without one: SASL_RELAY, or
 * SASL_UNKNOWN_MECH for a mechanism this module cannot read. An
 * initial response never sets cancel_backend: the backend has not seen
 * the AUTH line yet. buf[0..cap) receives the decoded initial response;
 * (len / 4) * 3 bytes always suffice.
 */
enum sasl_rc	sasl_start(struct sasl_state *st, const char *arg, size_t len,
		    char *buf, size_t cap, struct sasl_result *res);

/*
 * sasl_response - one client line (CRLF removed) answering a 334.
 * "*" is SASL_CANCEL; an empty line is an empty response; anything else
 * must be strict base64 ("=" alone is not: that form exists only for
 * the initial response). The line is decoded into buf[0..cap) and read
 * as the mechanism's message for this step:
 *  - PLAIN, first response: [authzid] NUL authcid NUL passwd (RFC 4616
 *    2), exactly two NULs, authcid and passwd not empty; identity =
 *    authcid, authzid beside it. Secret.
 *  - LOGIN: first response = the user name (not empty, no NUL), not
 *    secret; the second is the password, secret.
 *  - XOAUTH2: "user=" USER 0x01 "auth=Bearer " TOKEN 0x01 0x01 (only
 *    these two keys, each once, either order); identity = USER. Secret.
 *    An empty response (the answer to an error challenge) is relayed.
 *  - OAUTHBEARER: gs2-header 0x01 *(key "=" value 0x01) 0x01 with
 *    gs2-header = ("n" / "y") "," ["a=" saslname] "," and an "auth" key
 *    (RFC 7628 3.1); identity = the a= value with "=2C" / "=3D"
 *    unescaped (in buf); without a= it is SASL_RELAY and the identity
 *    stays unknown. A lone 0x01 (the answer to an error) is relayed.
 *    Secret.
 *  - CRAM-MD5, the response to the backend's challenge: user SP
 *    digest, digest = 32 hex digits (RFC 2195 2); identity = user,
 *    everything before the last SP (not empty, no NUL). Secret: with
 *    the challenge the digest allows guessing the password offline.
 *    CRAM-MD5 has no initial response (the server speaks first): one
 *    on the AUTH line is SASL_MALFORMED and does not count, so the
 *    response to a challenge is still read.
 *  - SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS forms, first
 *    response (initial or not): the client-first-message (RFC 5802
 *    7), gs2-header client-first-message-bare with gs2-header =
 *    ("n" / "y" / "p=" cb-name) "," ["a=" saslname] "," and the bare
 *    part "n=" saslname ",r=" nonce *("," ALPHA "=" value), no
 *    reserved "m=" first; identity = the n= value with "=2C" / "=3D"
 *    unescaped (in buf), authzid = the a= value likewise. Not secret
 *    (a nonce and names); the later responses (the proof) are.
 *  - later responses, and every response of an unknown mechanism:
 *    SASL_RELAY, secret.
 * A message of the wrong form gives SASL_MALFORMED. The caller drops
 * *st when the backend answers anything but 334.
 */
enum sasl_rc	sasl_response(struct sasl_state *st, const char *line,
		    size_t len, char *buf, size_t cap, struct sasl_result *res);

/*
 * sasl_b64_decode - strict RFC 4648 4 base64 of in[0..len) into
 * out[0..cap): the standard alphabet, length a multiple of 4, "=" only
 * as the last one or two characters, pad bits zero (3.5), no white
 * space, no line breaks. Empty input decodes to nothing. Returns 0 and
 * sets *outlen, SASL_B64_INVALID, or SASL_B64_NOSPACE when cap is below
 * the decoded length (nothing written then).
 */
#define SASL_B64_INVALID	(-1)
#define SASL_B64_NOSPACE	(-2)
int		sasl_b64_decode(const char *in, size_t len, char *out,
		    size_t cap, size_t *outlen);

/*
 * sasl_b64_encode - base64 of in[0..len) with padding, NUL-terminated,
 * into out[0..cap). Returns its length, or 0 when 4 * ceil(len / 3) + 1
 * bytes do not fit (empty input also gives 0, with out "").
 */
size_t		sasl_b64_encode(const void *in, size_t len, char *out,
		    size_t cap);

/*
 * sasl_wipe - zero p[0..n) in a way the compiler cannot drop as a dead
 * store (explicit_bzero(3)); for lines and buffers that held a secret.
 */
void		sasl_wipe(void *p, size_t n);

/*
 * sasl_mech_lookup - the mechanism named by name[0..len) (compared
 * without case, as a whole), SASL_MECH_UNKNOWN for one whose identity
 * this module cannot read. sasl_mech_known() says whether it is not
 * unknown: what the AUTH list of an EHLO reply may offer, and what
 * AUTH may use, when a control depends on the identity.
 */
enum sasl_mech	sasl_mech_lookup(const char *name, size_t len);
int		sasl_mech_known(const char *name, size_t len);

/*
 * sasl_mech_filter - the mechanism list of an EHLO AUTH capability
 * (the text after "AUTH" and its SP or "=": "PLAIN LOGIN CRAM-MD5
 * GSSAPI") without the mechanisms sasl_mech_known() refuses, written
 * to out[0..cap) with one SP between names, in their order, as sent.
 * Names are separated by one or more SP or HTAB. Returns the length
 * written, or 0 when no known mechanism remains or cap < len (cap =
 * len always suffices): then drop the AUTH line. out is not
 * NUL-terminated.
 */
size_t		sasl_mech_filter(const char *list, size_t len, char *out,
		    size_t cap);

/* Names for logs: "PLAIN", "UNKNOWN"; "IDENTITY", "BAD_BASE64". */
const char	*sasl_mech_name(enum sasl_mech m);
const char	*sasl_rc_name(enum sasl_rc rc);

#endif
