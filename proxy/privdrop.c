/*
 * proxy/privdrop.c - the user and group of proxy/privdrop.h: looked up
 * in the password and group databases (getpwnam_r, getgrnam_r,
 * getgrouplist), checked against the directories mxshield writes later,
 * and switched to with setgroups, setgid and setuid, each checked
 * (as Postfix's set_ugid() and OpenSMTPD's privilege drop do). Runs in
 * the main thread before the workers start.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proxy/privdrop.h"
#include "proxy/probs.h"

/* A decimal id ("2525"): 0 and *v, or -1. */
static int
numeric_id(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || *v >= 0xffffffffUL)
		return -1;
	return 0;
}

int
priv_resolve(const struct config *cfg, struct priv_id *id, char *err,
    size_t cap)
{
	struct probs	 p = { err, cap, 0, 0 };
	struct passwd	 pw, *pwp = NULL;
	struct group	 gr, *grp = NULL;
	char		 where[PATH_MAX + 32], buf[16384];
	unsigned long	 v;
	int		 n;

	memset(id, 0, sizeof(*id));
	if (cap > 0)
		err[0] = '\0';
	if (cfg->user == NULL) {
		if (cfg->group != NULL) {
			cfg_where(cfg, "group", where, sizeof(where));
			prob(&p, "%s: group: set user too (group alone "
			    "changes nothing)", where);
		}
		return p.n > 0 ? -1 : 0;
	}
	id->set = 1;
	snprintf(id->user, sizeof(id->user), "%s", cfg->user);
	cfg_where(cfg, "user", where, sizeof(where));
	errno = 0;
	if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &pwp) != 0 ||
	    pwp == NULL) {
		if (numeric_id(cfg->user, &v) == 0) {
			id->uid = (uid_t)v;
			id->gid = (gid_t)v;	/* unless group says */
		} else
			prob(&p, "%s: user: \"%s\": no such user (not in the "
			    "password database; a number is taken as a uid)",
			    where, cfg->user);
	} else {
		id->uid = pwp->pw_uid;
		id->gid = pwp->pw_gid;
		n = PRIV_MAX_GROUPS;
		if (getgrouplist(pwp->pw_name, pwp->pw_gid, id->groups,
		    &n) < 0) {
			prob(&p, "%s: user: \"%s\" is in more than %d groups",
			    where, cfg->user, PRIV_MAX_GROUPS);
			n = 0;
		}
		id->ngroups = n;
	}
	if (p.n == 0 && id->uid == 0)
		prob(&p, "%s: user: \"%s\" is root: name an unprivileged user "
		    "(or remove user and set allow_root = true)", where,
		    cfg->user);
	if (cfg->group != NULL) {
		snprintf(id->group, sizeof(id->group), "%s", cfg->group);
		cfg_where(cfg, "group", where, sizeof(where));
		if (getgrnam_r(cfg->group, &gr, buf, sizeof(buf), &grp) == 0 &&
		    grp != NULL)
			id->gid = grp->gr_gid;
		else if (numeric_id(cfg->group, &v) == 0)
			id->gid = (gid_t)v;
		else
			prob(&p, "%s: group: \"%s\": no such group (not in the "
			    "group database; a number is taken as a gid)",
			    where, cfg->group);
	}
	if (id->ngroups == 0) {
		id->groups[0] = id->gid;
		id->ngroups = 1;
	} else if (cfg->group != NULL) {
		/* the group given comes first, the user's others stay */
		id->groups[0] = id->gid;
	}
	return p.n > 0 ? -1 : 0;
}

/* May id create and remove files in dir? The permission bits that
 * apply to it, as the kernel picks them (owner, else group, else
 * other). */
static int
dir_takes_files(const struct stat *st, const struct priv_id *id)
{
	int in_group = st->st_gid == id->gid;

	if (st->st_uid == id->uid)
		return (st->st_mode & (S_IWUSR | S_IXUSR)) ==
		    (S_IWUSR | S_IXUSR);
	for (int i = 0; i < id->ngroups && !in_group; i++)
		in_group = st->st_gid == id->groups[i];
	if (in_group)
		return (st->st_mode & (S_IWGRP | S_IXGRP)) ==
		    (S_IWGRP | S_IXGRP);
	return (st->st_mode & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

static void
check_dir(const struct config *cfg, const struct priv_id *id,
    struct probs *p, const char *key, const char *file, const char *why)
{
	char		 where[PATH_MAX + 32], dir[PATH_MAX];
	const char	*slash = strrchr(file, '/');
	struct stat	 st;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == file)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - file), file);
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;		/* proxy/check.c says what is wrong */
	if (dir_takes_files(&st, id))
		return;
	cfg_where(cfg, key, where, sizeof(where));
	prob(p, "%s: %s: directory %s is not writable by user %s (uid %lu, "
	    "gid %lu), which mxshield runs as after start (%s): chown or "
	    "chmod it, or point %s elsewhere", where, key, dir, id->user,
	    (unsigned long)id->uid, (unsigned long)id->gid, why, key);
}

int
priv_check_files(const struct config *cfg, const struct priv_id *id,
    char *err, size_t cap)
{
	struct probs p = { err, cap, 0, 0 };

	if (cap > 0)
		err[0] = '\0';
	if (!id->set)
		return 0;
	if (cfg->hijack.enabled && cfg->hijack.state_file != NULL)
		check_dir(cfg, id, &p, "hijack.state_file",
		    cfg->hijack.state_file, "it writes the file next to it "
		    "and renames it into place");
	if (cfg->control.socket != NULL)
		check_dir(cfg, id, &p, "control.socket", cfg->control.socket,
		    "it removes the socket at stop");
	return p.n > 0 ? -1 : 0;
}

int
priv_start_check(const struct config *cfg, const struct priv_id *id,
    char *msg, size_t cap)
{
	char where[PATH_MAX + 32];

	msg[0] = '\0';
	if (getuid() != 0 && geteuid() != 0) {
		if (id->set && id->uid != geteuid()) {
			cfg_where(cfg, "user", where, sizeof(where));
			snprintf(msg, cap, "%s: user: not started as root, so "
			    "mxshield cannot become %s (uid %lu): it runs as "
			    "uid %lu, gid %lu", where, id->user,
			    (unsigned long)id->uid, (unsigned long)geteuid(),
			    (unsigned long)getegid());
			return 1;
		}
		return 0;
	}
	if (!id->set && !cfg->allow_root) {
		snprintf(msg, cap, "%s: refusing to run as root: set user (and "
		    "group) to the unprivileged account mxshield should serve "
		    "as once its ports are bound (user = \"mxshield\";), or "
		    "set allow_root = true to run as root anyway", cfg->path);
		return -1;
	}
	return 0;
}

int
priv_drop(const struct priv_id *id, char *err, size_t cap)
{
	if (!id->set || (getuid() != 0 && geteuid() != 0))
		return 0;
	if (setgroups((size_t)id->ngroups, id->groups) < 0) {
		snprintf(err, cap, "setgroups for user %s: %s", id->user,
		    strerror(errno));
		return -1;
	}
	if (setgid(id->gid) < 0) {
		snprintf(err, cap, "setgid(%lu): %s", (unsigned long)id->gid,
		    strerror(errno));
		return -1;
	}
	if (setuid(id->uid) < 0) {
		snprintf(err, cap, "setuid(%lu): %s", (unsigned long)id->uid,
		    strerror(errno));
		return -1;
	}
	/* trust nothing: every id must be the new one, and root must be
	 * out of reach for good */
	if (getuid() != id->uid || geteuid() != id->uid ||
	    getgid() != id->gid || getegid() != id->gid) {
		snprintf(err, cap, "after setuid/setgid the ids are uid %lu "
		    "euid %lu gid %lu egid %lu, not %lu/%lu",
		    (unsigned long)getuid(), (unsigned long)geteuid(),
		    (unsigned long)getgid(), (unsigned long)getegid(),
		    (unsigned long)id->uid, (unsigned long)id->gid);
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, cap, "setuid(0) succeeded after the drop to "
		    "uid %lu", (unsigned long)id->uid);
		return -1;
	}
	return 0;
}
