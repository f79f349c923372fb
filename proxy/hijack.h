/*
 * proxy/hijack.h - account-hijack detection shared by every worker
 * (DESIGN.md "hijack"): per authenticated identity, the messages the
 * backend accepted in the last hijack.window seconds, or with
 * hijack.count = "recipients" their accepted recipients (a message to
 * 40 counts 40). The MAIL that would exceed hijack.max_messages is
 * refused and the identity is disabled: every later MAIL in any session
 * gets 550 5.7.1, and a new AUTH as it gets 535 5.7.8 without reaching
 * the backend, until an administrator re-enables it (mxshield --unblock
 * ID, via the control socket, proxy/control.h). When recipients count,
 * a RCPT that would take the identity past the limit within the
 * message is refused and disables it too. The identities of
 * hijack.exempt are counted (for mxshield --list-counters) and never
 * refused nor disabled.
 *
 * Identities are compared case-insensitively (ASCII). The table lives
 * in memory, behind one mutex, and is bounded: at most HIJACK_MAX_IDS
 * identities (the least recently active one that is not disabled makes
 * room), each window at most max_messages times. With
 * hijack.state_file the table is loaded at start and written by a
 * thread of its own, never by a worker and never under the table lock:
 * a newly disabled or re-enabled identity at once, counters at most
 * about once a second (a large table less often: 1 ms more per KB,
 * at most 30 s), everything at hijack_stop(). Without a state file it
 * is memory only and forgotten at exit.
 *
 * In monitor mode the table works the same (the session only logs the
 * verdicts), but the identities it would have disabled are not written
 * to the state file: switching to enforce does not lock out accounts on
 * the strength of a trial run.
 */
#ifndef MXS_HIJACK_H
#define MXS_HIJACK_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "proxy/config.h"

#define HIJACK_MAX_IDS	100000	/* identities tracked, disabled included */
#define HIJACK_ID_MAX	512	/* octets of an identity that are compared */

enum hijack_rc {
	HIJACK_OK = 0,		/* relay the MAIL (RCPT) */
	HIJACK_NOW_DISABLED,	/* this MAIL (RCPT) exceeds: refuse 550
				   5.7.1; the identity is disabled now,
				   logged once */
	HIJACK_DISABLED,	/* disabled before: refuse 550 5.7.1 */
	HIJACK_STORE_FAIL,	/* hijack.store = "redis" unreachable and
				   on_store_failure = "tempfail": 451 4.3.0
				   (proxy/hjstore.h) */
};

/*
 * hijack_start - set up from cfg (call once, before the workers run).
 * With hijack.enabled off it does nothing and every call below answers
 * "not disabled". With a state_file: a missing file is an empty table;
 * a file that does not parse refuses the start with "FILE:LINE: what"
 * in err; the file is then written once (so a state file that cannot
 * be written refuses the start too) and the writer thread starts.
 * Returns 0, or -1 with err (cap bytes, NUL-terminated).
 */
int		hijack_start(const struct config *cfg, char *err, size_t cap);

/*
 * hijack_stop - write everything one last time and free the table.
 * Call after the workers and the control socket stopped: no other
 * hijack_* call may run during or after it.
 */
void		hijack_stop(void);

/*
 * hijack_mail - the authenticated identity gives MAIL at now. Counts
 * nothing (the backend has not accepted anything yet). On
 * HIJACK_NOW_DISABLED it writes the one "hijack" log line, with sid and
 * client (may be NULL) for the administrator. identity NULL: HIJACK_OK.
 */
enum hijack_rc	hijack_mail(const char *identity, time_t now, uint64_t sid,
		    const char *client);

/*
 * hijack_rcpt - with hijack.count = "recipients", the identity gives a
 * RCPT at now while open more recipients of the same message may still
 * be accepted (relayed and not refused by the backend; this one not
 * included). HIJACK_NOW_DISABLED when the recipients in the window,
 * the open ones and this one would pass hijack.max_messages (written
 * to the "hijack" log line as hijack_mail() does); HIJACK_DISABLED when
 * it was disabled meanwhile. With messages counted, for an exempt
 * identity or identity NULL: HIJACK_OK.
 */
enum hijack_rc	hijack_rcpt(const char *identity, uint32_t open,
		    time_t now, uint64_t sid, const char *client);

/* hijack_accepted - the backend said 2xx to the final dot of a message
 * of this authenticated identity that it accepted for rcpts recipients:
 * counts 1, or rcpts when recipients count. NULL: nothing. */
void		hijack_accepted(const char *identity, uint32_t rcpts,
		    time_t now);

/* hijack_is_disabled - 1 when identity is disabled (AUTH gets 535 5.7.8
 * and is not relayed), else 0; never for an exempt identity. */
int		hijack_is_disabled(const char *identity);

enum hijack_unblock_rc {
	HIJACK_UNBLOCKED = 0,
	HIJACK_NOT_DISABLED,	/* unknown, or not disabled */
	HIJACK_OFF,		/* hijack.enabled is off */
	HIJACK_STORE_ERROR,	/* Redis failed: hijack_store_error() */
};

/*
 * hijack_unblock - re-enable identity (len octets, any bytes) and
 * forget its counted messages; logged, and written to the state file
 * at once.
 */
enum hijack_unblock_rc hijack_unblock(const char *identity, size_t len);

/*
 * hijack_list - the disabled identities (with hijack.store = "redis",
 * read from Redis: NULL also when it fails, hijack_store_error()), oldest first, as text: one
 * line per identity, "ID TIME" (ID xtext-encoded, RFC 3461 4, so that
 * a space or a line end cannot break the line; TIME RFC 3339 UTC),
 * then " monitor" when it was disabled in monitor mode, then "\n".
 * Returns a malloc'd NUL-terminated string the caller frees (*len its
 * length), "" when none; NULL when memory is short.
 */
char		*hijack_list(size_t *len);

/* hijack_store_error - why the last hijack_list(), hijack_counters()
 * or hijack_unblock() failed (Redis unreachable, an error reply, or
 * memory); for the control socket's thread, which made the call. */
const char	*hijack_store_error(void);

/* hijack_log_disabled - the one "hijack" log line of an identity
 * (len octets) disabled now: count what its window held, more the
 * recipients of the message at hand (0 at MAIL). */
void		 hijack_log_disabled(const char *id, size_t len,
		    uint32_t count, uint64_t more, uint64_t sid,
		    const char *client);

/*
 * hijack_counters - every identity counted in the window or disabled,
 * the highest count first (then by identity), as text: one line per
 * identity, "ID COUNT LIMIT" (ID in xtext as in hijack_list(); COUNT
 * what the window holds now, messages or recipients, 0 once disabled;
 * LIMIT hijack.max_messages), then " disabled" (" disabled monitor" in
 * monitor mode) and " exempt" where they apply, then "\n". Memory and
 * result as hijack_list().
 */
char		*hijack_counters(size_t *len);

struct hjline;

/*
 * hijack_line_fn - one "disabled" or "count" line of the state file, as
 * hijack_state_each() read it: id[0..l->idlen) decoded (not
 * NUL-terminated); a count line's times already checked, so that
 * hjline_time(&l->times, &t) gives 1 for each, then 0. Returns 0 to go
 * on, 1 to stop reading, or -1 with *why (static text) to refuse the
 * line.
 */
typedef int	hijack_line_fn(void *arg, const char *id, struct hjline *l,
		    const char **why);

enum hijack_state_rc {
	HJS_EOPEN = -2,		/* cannot open it (not ENOENT): errno kept */
	HJS_ERROR = -1,		/* a line does not parse, or reading failed */
	HJS_READ = 0,		/* every line read */
	HJS_STOPPED,		/* fn returned 1 */
	HJS_NOFILE,		/* no such file: nothing recorded yet */
};

/*
 * hijack_state_each - read the state file at path (the start, the
 * offline --test and --check-config all read it so), calling fn (NULL:
 * only check) for each disabled or count line; blank lines and
 * comments are skipped. A line with a NUL byte, one that does not parse
 * (core/hijack.c hjline_parse), a count time that is not one, or fn's
 * refusal stops with "PATH:LINE: hijack.state_file: WHY (fix or delete
 * the line, then start mxshield)" in err; a file that cannot be opened
 * or read with "PATH: hijack.state_file: REASON". Returns an enum
 * hijack_state_rc.
 */
int		hijack_state_each(const char *path, hijack_line_fn *fn,
		    void *arg, char *err, size_t cap);

#endif
