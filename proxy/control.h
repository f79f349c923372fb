/*
 * proxy/control.h - the local control socket (control.socket): a Unix
 * stream socket the running mxshield serves from a thread of its own,
 * and the client side the command line uses (mxshield ctl status |
 * reload | disabled | counters | unblock ID; --list-disabled,
 * --list-counters and --unblock ID are the older names). The socket
 * file is created with mode 0600:
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
 *   STATUS\n        "name: value" lines (see reload_status()), then ".\n"
 *   RELOAD\n        reloads and waits for the result (at most about a
 *                   minute): "OK what changed\n" or "ERR reload
 *                   refused...\n" with one error a line, then ".\n"
 *   anything else   "ERR reason\n"
 * ID is xtext (RFC 3461 4), so "john doe" travels as "john+20doe".
 * One client at a time; a client that does not finish its line or read
 * its answer within CONTROL_TIMEOUT seconds is dropped (a RELOAD's
 * answer: CONTROL_TIMEOUT seconds after its result).
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

/* What the server answers STATUS and RELOAD with: lines, each ending
 * "\n", into out (cap bytes, NUL-terminated); 0, or -1 (RELOAD refused:
 * the first line starts "ERR "). Called on the control thread. */
struct control_ops {
	int	(*status)(void *arg, char *out, size_t cap);
	int	(*reload)(void *arg, char *out, size_t cap);
	void	*arg;
};

/* control_set_ops - ops (copied; NULL: none, STATUS and RELOAD answer
 * ERR). Before control_start(), or after control_stop(). */
void	control_set_ops(const struct control_ops *ops);

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
	CONTROL_STATUS,		/* ctl status */
	CONTROL_RELOAD,		/* ctl reload */
};

/*
 * control_main - the command line's "ctl status", "ctl reload", "ctl
 * disabled" (--list-disabled), "ctl counters" (--list-counters) and
 * "ctl unblock ID" (--unblock ID; id for CONTROL_UNBLOCK only); what:
 * how the user wrote it, for messages. Asks the running mxshield
 * through control.socket, prints the answer on stdout and problems on
 * stderr (a refused reload: its errors), saying what to do when none
 * runs or no socket is configured (edit the state file while mxshield
 * is stopped). Returns the exit status, 0 or 1.
 */
int	control_main(const struct config *cfg, enum control_cmd cmd,
	    const char *id, const char *what);

#endif
