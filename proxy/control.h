/*
 * proxy/control.h - the local control socket (control.socket): a Unix
 * stream socket the running mxshield serves from a thread of its own,
 * and the client side the command line uses (mxshield --list-disabled,
 * mxshield --list-counters, mxshield --unblock ID). The socket file is created with mode 0600:
 * file permissions decide who may use it, and a peer whose uid is
 * neither ours nor root's is refused as well.
 *
 * Protocol: one request line per connection, at most CONTROL_LINE_MAX
 * octets with its "\n"; the answer, then the server closes.
 *   LIST\n          one disabled identity per line, "ID TIME" (see
 *                   hijack_list()), then ".\n"
 *   COUNTERS\n      one identity per line, "ID COUNT LIMIT [disabled
 *                   [monitor]] [exempt]" (see hijack_counters()), then
 *                   ".\n"
 *   UNBLOCK ID\n    "OK ID\n", or "ERR reason\n"
 *   anything else   "ERR reason\n"
 * ID is xtext (RFC 3461 4), so "john doe" travels as "john+20doe".
 * One client at a time; a client that does not finish its line or read
 * its answer within CONTROL_TIMEOUT seconds is dropped.
 */
#ifndef MXS_CONTROL_H
#define MXS_CONTROL_H

#include <stddef.h>
#include <stdio.h>

#include "proxy/config.h"

#define CONTROL_LINE_MAX	2048
#define CONTROL_TIMEOUT		5	/* seconds */

/*
 * control_start - serve control.socket (nothing when it is unset). A
 * leftover socket file nobody answers on is removed first; one some
 * process answers on, or a path that is not a socket, refuses the
 * start. Call after hijack_start(). 0, or -1 with err (cap bytes).
 */
int	control_start(const struct config *cfg, char *err, size_t cap);

/* control_stop - stop serving, join the thread, remove the socket file
 * (if it is still ours). Call before hijack_stop(). */
void	control_stop(void);

/* control_request() results. */
#define CONTROL_OK		0	/* answered; printed to out */
#define CONTROL_REFUSED		1	/* answered ERR; reason in err */
#define CONTROL_NOT_RUNNING	(-1)	/* nothing listens; why in err */
#define CONTROL_FAILED		(-2)	/* other failure; why in err */

/*
 * control_request - send one request line (without "\n") to the socket
 * at path and print the answer's lines to out, the closing "." of a
 * list left out. Waits at most about CONTROL_TIMEOUT * 2 seconds.
 */
int	control_request(const char *path, const char *line, FILE *out,
	    char *err, size_t cap);

/* What the command line asks. */
enum control_cmd {
	CONTROL_LIST = 0,	/* --list-disabled */
	CONTROL_COUNTERS,	/* --list-counters */
	CONTROL_UNBLOCK,	/* --unblock ID */
};

/*
 * control_main - the command line's --list-disabled, --list-counters
 * and --unblock ID (id, for CONTROL_UNBLOCK only): asks the running
 * mxshield through control.socket, prints the answer on stdout and
 * problems on stderr, saying what to do when none runs or no socket is
 * configured (edit the state file while mxshield is stopped). Returns
 * the exit status, 0 or 1.
 */
int	control_main(const struct config *cfg, enum control_cmd cmd,
	    const char *id);

#endif
