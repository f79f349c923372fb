/*
 * proxy/privdrop.h - the user mxshield serves as. Started as root it
 * binds its ports and reads its keys, then becomes `user` (and `group`)
 * before it serves one byte; it refuses to run as root without `user`
 * unless `allow_root = true`.
 */
#ifndef MXS_PRIVDROP_H
#define MXS_PRIVDROP_H

#include <stddef.h>
#include <sys/types.h>

#include "proxy/config.h"

#define PRIV_MAX_GROUPS	64

/* Who to become, as resolved from the configuration. */
struct priv_id {
	int	 set;		/* user given */
	uid_t	 uid;
	gid_t	 gid;		/* group, else the user's primary group */
	gid_t	 groups[PRIV_MAX_GROUPS];	/* supplementary, gid first */
	int	 ngroups;
	char	 user[64];	/* as written, for messages */
	char	 group[64];
};

/*
 * priv_resolve - user and group (names from the password and group
 * databases, or numbers) into *id; a user with a password entry keeps
 * its supplementary groups, a bare number has none. 0, or -1 with one
 * problem a line ("file:line: user: ...") in err (cap bytes): an
 * unknown name, user root, group without user.
 */
int	priv_resolve(const struct config *cfg, struct priv_id *id, char *err,
	    size_t cap);

/*
 * priv_check_files - the directories mxshield writes into once it runs
 * as id (hijack.state_file's, control.socket's) must take new files
 * from that user (owner, group and other bits; ACLs are not read). 0,
 * or -1 with one problem a line in err. Nothing to check when id->set
 * is 0.
 */
int	priv_check_files(const struct config *cfg, const struct priv_id *id,
	    char *err, size_t cap);

/*
 * priv_start_check - for a start: refuse root without user (unless
 * allow_root). 0: go on; 1: not root and user names another uid, so
 * user is ignored (msg says so, for a warning); -1: refuse (msg says
 * why and what to set).
 */
int	priv_start_check(const struct config *cfg, const struct priv_id *id,
	    char *msg, size_t cap);

/*
 * priv_drop - become id: setgroups, setgid, setuid, then check that
 * real and effective ids are the new ones and that setuid(0) fails.
 * Only when running as root with id->set; else 0 and nothing done. 0,
 * or -1 with the step that failed in err: the caller must not serve.
 */
int	priv_drop(const struct priv_id *id, char *err, size_t cap);

#endif
