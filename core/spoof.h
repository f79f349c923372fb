/*
 * core/spoof.h - the spoof score of a message: signs that its sender
 * is not who the headers say (source routes, an address or a local
 * domain in a display name, a local From: from outside, Received
 * headers missing or naming private addresses, a failed HELO, a bad
 * Message-ID or Date, Reply-To in another domain), each with a weight
 * given by the caller, summed and capped at SPOOF_MAX.
 * Input: the held header section (untrusted, wire format) and what the
 * session knows about the client. Pure; allocates nothing.
 */
#ifndef MXS_SPOOF_H
#define MXS_SPOOF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/net.h"
#include "core/span.h"
#include "core/spf.h"

enum spoof_sign {
	SPOOF_SOURCE_ROUTE = 0,		/* source route in MAIL FROM or a
					   header address */
	SPOOF_DISPLAY_NAME_ADDRESS,	/* display name holding another
					   address than the real one */
	SPOOF_DISPLAY_NAME_LOCAL_DOMAIN, /* display name naming a local
					   domain, from outside */
	SPOOF_LOCAL_FROM_OUTSIDE,	/* local domain in From:, from
					   outside */
	SPOOF_NO_RECEIVED,		/* no Received:, from outside */
	SPOOF_PRIVATE_RECEIVED,		/* Received: naming private or own
					   addresses, from outside */
	SPOOF_HELO_FAILED,		/* the HELO check failed */
	SPOOF_BAD_MESSAGE_ID,		/* missing or malformed Message-ID */
	SPOOF_BAD_DATE,			/* missing or malformed Date */
	SPOOF_REPLY_TO_OTHER_DOMAIN,	/* Reply-To in another domain than
					   From */
	SPOOF_SPF_FAIL_LOCAL,		/* SPF fail for a local domain,
					   from outside */
	SPOOF_NO_RDNS,			/* no PTR record with a host name
					   for the client, from outside */
	SPOOF_FCRDNS_MISMATCH,		/* PTR names, none of which resolves
					   back to the client, from outside */
	SPOOF_NSIGNS
};

#define SPOOF_MAX	25	/* a sum above is capped */

/* Weights as the seed lists them, indexed by enum spoof_sign. */
extern const int	spoof_default_weights[SPOOF_NSIGNS];

/*
 * "Outside" means neither trusted nor authenticated. The lists may be
 * empty (NULL, 0).
 */
struct spoof_input {
	const char		*hdr;		/* held header section */
	size_t			 hdrlen;
	struct span		 mail_from;	/* MAIL FROM path */
	bool			 mail_from_route; /* it had a source route */
	bool			 trusted;	/* client in trusted_networks */
	bool			 authenticated;	/* client did AUTH */
	bool			 helo_failed;
	bool			 no_rdns;	/* the lookups were made, and */
	bool			 fcrdns_mismatch; /* say so (the caller) */
	char *const		*local_domains;
	size_t			 nlocal_domains;
	const struct net	*own;		/* our own addresses */
	size_t			 nown;
	bool			 spf_ran;	/* SPF checked the transaction */
	enum spf_result		 spf;		/* its result, */
	struct span		 spf_domain;	/* for this domain */
};

/*
 * spoof_score - the signs found in *in, as bits (1u << sign) in
 * *signs_out (may be NULL), and the sum of their weights[] (a weight
 * of 0 or less turns the sign off, and its bit is not set), capped at
 * SPOOF_MAX.
 */
int		spoof_score(const struct spoof_input *in, const int *weights,
		    unsigned *signs_out);

/* spoof_sign_name - "source_route", ...; "unknown" out of range. */
const char	*spoof_sign_name(enum spoof_sign);

/*
 * spoof_sign_find - the sign named name[0..len) (case-sensitive, as in
 * the configuration). Returns it, or -1.
 */
int		spoof_sign_find(const char *name, size_t len);

/*
 * spoof_signs_text - the names of the signs in signs, in enum order,
 * joined by ",", as at most cap-1 octets plus NUL; a name that does not
 * fit whole is left out, with the ones after it. Returns the length.
 */
size_t		spoof_signs_text(unsigned signs, char *buf, size_t cap);

#endif
