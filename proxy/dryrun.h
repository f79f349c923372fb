/*
 * proxy/dryrun.h - mxshield --test: one SMTP session played offline,
 * in the spirit of exim -bh. It prints, step by step, the reply each
 * command would get and each verdict with its reason, from the same
 * decisions the live session makes (core/policy, proxy/pol.c and the
 * shared deciders of commands.c and data.c). No socket is opened and
 * nothing is sent or written: the backend's replies are assumed to be
 * acceptances and are said to be relayed.
 */
#ifndef MXS_DRYRUN_H
#define MXS_DRYRUN_H

#include <stddef.h>
#include <stdio.h>

#include "proxy/config.h"

/* Exit statuses of mxshield --test. */
#define DRY_ACCEPTED	0	/* accepted for at least one recipient
				   (without --rcpt: nothing refused) */
#define DRY_REFUSED	1
#define DRY_USAGE	2	/* bad arguments or configuration */

/* What the command line asked for; every string is borrowed. */
struct dry_opts {
	const char	*client;	/* the client's address; required */
	const char	*helo;		/* the HELO/EHLO argument; NULL: none */
	int		 ehlo;		/* send it as EHLO (else HELO) */
	const char	*from;		/* MAIL FROM address; NULL: no MAIL */
	const char	*const *rcpts;	/* RCPT TO addresses */
	size_t		 nrcpts;
	const char	*auth;		/* identity the backend accepts */
	const char	*message;	/* file with the message; NULL: none */
	int		 port;		/* the listener with this port; 0: the
					   first one */
	int		 tls;		/* the client's TLS is up */
};

/*
 * dry_run - play the session o describes against cfg (loaded and
 * checked by the caller), writing the transcript to out and usage
 * problems to err. Returns DRY_ACCEPTED, DRY_REFUSED or DRY_USAGE.
 * Reads o->message and hijack.state_file (read only); opens nothing else.
 */
int	dry_run(const struct config *cfg, const struct dry_opts *o, FILE *out,
	    FILE *err);

#endif
