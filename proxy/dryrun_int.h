/*
 * proxy/dryrun_int.h - what proxy/dryrun.c (the session's steps) and
 * proxy/dryrun_msg.c (the message after DATA) share; nothing else
 * includes it.
 */
#ifndef MXS_DRYRUN_INT_H
#define MXS_DRYRUN_INT_H

#include <stddef.h>
#include <stdio.h>

#include "core/net.h"
#include "core/policy.h"
#include "proxy/config.h"
#include "proxy/dryrun.h"

/* One dry session: the facts live code keeps in struct session. */
struct dry {
	const struct config	*cfg;
	const struct dry_opts	*o;
	FILE			*out;
	struct policy_cfg	*pol;
	const struct cfg_listen	*l;
	struct net_addr		 addr;
	char			 ip[48];
	struct policy_client	 pc;
	struct policy_txn	 ptxn;
	const char		*auth_id;	/* bound at the assumed 235 */
	const char		*helo;		/* the accepted HELO argument */
	int			 ehlo;
	int			 rcpt_sent;	/* relayed RCPTs */
	int			 refused;	/* a command was refused */
	const char		*stop;		/* where the session ended */
	int			 tls;		/* --tls, or implicit TLS */
	/* verdicts of the current command not carried out (monitor mode,
	 * a deferred HELO refusal, an exemption): printed after its reply */
	struct policy_verdict	 notes[4];
	size_t			 nnotes;
	char			*from_path;	/* owned: MAIL's path, "" for <> */
	int			 from_route;	/* it had a source route */
	char			**rcpts_ok;	/* owned: relayed RCPTs' paths, */
	size_t			 nrcpts_ok;	/* for size_limits */
};

/*
 * Output, one line each: dry_say writes prefix and the text with
 * control octets masked; dry_say_cmd a client command ("> ");
 * dry_say_local mxshield's own reply ("< "; the command is refused);
 * dry_say_relayed a reply only the backend can give ("< NNN (the
 * backend's WHAT would be relayed)"), then the verdicts noted for the
 * command.
 */
void	dry_say(struct dry *d, const char *prefix, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	dry_say_cmd(struct dry *d, const char *line);
void	dry_say_local(struct dry *d, const char *text);
void	dry_say_relayed(struct dry *d, int code, const char *what);

/* dry_usage_error - "mxshield: --test: ..." on err; returns DRY_USAGE. */
int	dry_usage_error(FILE *err, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * dry_msg_open - open the --message file before anything is printed,
 * and tell whether it holds no CR at all (*unix_text: a text file sent
 * as a mail client would). NULL, with the problem on err, when it
 * cannot be read (twice: a regular file is needed).
 */
FILE	*dry_msg_open(const char *path, int *unix_text, FILE *err);

/*
 * dry_data - DATA, then the message of f (NULL: no --message, only the
 * 354), its checks and what mxshield adds. Returns 1 when the message
 * would be relayed, 0 when it is refused.
 */
int	 dry_data(struct dry *d, FILE *f, int unix_text);

/*
 * dry_header - the checks of the held header section sec[0..len) (the
 * From: header) through pol_from_header(), as the live session asks
 * them. Returns 1 when the message is refused (reply and verdicts
 * printed); 0 when it goes on (a monitored refusal is noted for the
 * reply to the final dot).
 */
int	 dry_header(struct dry *d, const char *sec, size_t len);

#endif
