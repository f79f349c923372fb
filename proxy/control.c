/*
 * proxy/control.c - the control socket (proxy/control.h): the server
 * thread the running mxshield starts, and the client the command line
 * uses. Input: request lines from local processes that passed the
 * socket file's permissions (0600) and a peer uid check; still bounded
 * (CONTROL_LINE_MAX), time-limited (CONTROL_TIMEOUT) and parsed
 * strictly. The thread is off the workers' loops: it only calls
 * hijack_list(), hijack_counters() and hijack_unblock(), which take the
 * table lock briefly, and the server's STATUS and RELOAD (struct
 * control_ops; RELOAD waits for the main loop's result).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/xtext.h"
#include "proxy/control.h"
#include "proxy/hijack.h"
#include "proxy/log.h"

#define ANSWER_MAX	(64u * 1024 * 1024)	/* a listing, client side */
#define STATUS_MAX	(16u * 1024)		/* STATUS, RELOAD answers */
#define RELOAD_TIMEOUT	75	/* seconds a client waits for RELOAD */

static struct {
	int		 lfd;		/* listening socket, -1: none */
	int		 stop[2];	/* self-pipe: a byte ends the thread */
	char		*path;		/* owned */
	dev_t		 dev;		/* the socket file we made */
	ino_t		 ino;
	pthread_t	 thread;
	int		 on;
	struct control_ops ops;		/* STATUS, RELOAD; NULL: none */
} ctl = { -1, { -1, -1 }, NULL, 0, 0, 0, 0, { NULL, NULL, NULL } };

void
control_set_ops(const struct control_ops *ops)
{
	if (ops != NULL)
		ctl.ops = *ops;
	else
		memset(&ctl.ops, 0, sizeof(ctl.ops));
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -1;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* ------------------------------------------------------------ server */

/*
 * wait_io - poll fd for ev until deadline (monotonic ms), also waking
 * when the stop pipe is readable. 1 ready, 0 timed out or stopping.
 */
static int
wait_io(int fd, short ev, uint64_t deadline)
{
	struct pollfd p[2];
	uint64_t now;
	int r;

	for (;;) {
		now = now_ms();
		if (now >= deadline)
			return 0;
		p[0].fd = fd;
		p[0].events = ev;
		p[1].fd = ctl.stop[0];
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		r = poll(p, 2, (int)(deadline - now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || p[1].revents != 0)
			return 0;
		if (p[0].revents != 0)
			return 1;
	}
}

/* Write all of p to the client before deadline; -1 when it stalls. */
static int
send_all(int fd, const char *p, size_t n, uint64_t deadline)
{
	ssize_t w;

	while (n > 0) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!wait_io(fd, POLLOUT, deadline))
				return -1;
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
send_str(int fd, const char *s, uint64_t deadline)
{
	(void)send_all(fd, s, strlen(s), deadline);
}

/* STATUS or RELOAD: the server's lines, then ".". A RELOAD waits for
 * its result, so the answer's deadline starts after it. */
static void
do_server(int fd, int reload)
{
	char *out = malloc(STATUS_MAX);
	int (*fn)(void *, char *, size_t) = reload ? ctl.ops.reload :
	    ctl.ops.status;

	if (fn == NULL || out == NULL) {
		send_str(fd, fn == NULL ? "ERR not available\n" :
		    "ERR out of memory\n", now_ms() + CONTROL_TIMEOUT * 1000);
		free(out);
		return;
	}
	out[0] = '\0';
	(void)fn(ctl.ops.arg, out, STATUS_MAX);
	if (send_all(fd, out, strlen(out), now_ms() + CONTROL_TIMEOUT *
	    1000) == 0)
		send_str(fd, ".\n", now_ms() + CONTROL_TIMEOUT * 1000);
	free(out);
}

/* UNBLOCK's argument: xtext, decoded and passed to hijack. */
static void
do_unblock(int fd, const char *arg, uint64_t deadline)
{
	char id[CONTROL_LINE_MAX], out[CONTROL_LINE_MAX + 64];
	size_t len;

	if (*arg == '\0' || xtext_decode(arg, strlen(arg), id, sizeof(id),
	    &len) != 0 || len == 0) {
		send_str(fd, "ERR UNBLOCK needs an identity in xtext "
		    "(RFC 3461: \"+20\" for a space)\n", deadline);
		return;
	}
	switch (hijack_unblock(id, len)) {
	case HIJACK_UNBLOCKED:
		snprintf(out, sizeof(out), "OK %s\n", arg);
		break;
	case HIJACK_NOT_DISABLED:
		snprintf(out, sizeof(out), "ERR %s is not disabled\n", arg);
		break;
	case HIJACK_STORE_ERROR:
		snprintf(out, sizeof(out), "ERR %s\n", hijack_store_error());
		break;
	case HIJACK_OFF:
	default:
		snprintf(out, sizeof(out), "ERR hijack detection is off "
		    "(hijack.enabled = false)\n");
		break;
	}
	send_str(fd, out, deadline);
}

/* One client: its line, our answer, close (by the caller). */
static void
serve(int fd)
{
	uint64_t deadline = now_ms() + CONTROL_TIMEOUT * 1000;
	char line[CONTROL_LINE_MAX + 1];
	size_t len = 0;
	char *nl = NULL, *list;
	struct ucred cred = { 0, (uid_t)-1, (gid_t)-1 };
	socklen_t cl = sizeof(cred);
	ssize_t r;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 ||
	    (cred.uid != geteuid() && cred.uid != 0)) {
		log_msg(CFG_LOG_WARN, "control", "control socket: refused "
		    "a client with uid %ld", (long)cred.uid);
		send_str(fd, "ERR permission denied\n", deadline);
		return;
	}
	while (nl == NULL) {
		if (len == CONTROL_LINE_MAX) {
			send_str(fd, "ERR line too long\n", deadline);
			return;
		}
		r = recv(fd, line + len, CONTROL_LINE_MAX - len, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!wait_io(fd, POLLIN, deadline))
				return;		/* stalled: dropped */
			continue;
		}
		if (r <= 0)
			return;
		len += (size_t)r;
		nl = memchr(line, '\n', len);
	}
	if (memchr(line, '\0', (size_t)(nl - line)) != NULL) {
		send_str(fd, "ERR NUL in the request\n", deadline);
		return;
	}
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	if (strcmp(line, "LIST") == 0 || strcmp(line, "COUNTERS") == 0) {
		size_t n = 0;

		list = line[0] == 'L' ? hijack_list(&n) : hijack_counters(&n);
		if (list == NULL) {
			char msg[256];

			snprintf(msg, sizeof(msg), "ERR %s\n",
			    hijack_store_error());
			send_str(fd, msg, deadline);
			return;
		}
		if (send_all(fd, list, n, deadline) == 0)
			send_str(fd, ".\n", deadline);
		free(list);
	} else if (strncmp(line, "UNBLOCK ", 8) == 0) {
		do_unblock(fd, line + 8, deadline);
	} else if (strcmp(line, "STATUS") == 0 || strcmp(line, "RELOAD") ==
	    0) {
		do_server(fd, line[0] == 'R');
	} else {
		send_str(fd, "ERR unknown request (LIST, COUNTERS, UNBLOCK "
		    "ID, STATUS, RELOAD)\n", deadline);
	}
}

/* Read away what the client sent beyond its request (bounded, without
 * waiting): closing a Unix socket with unread input resets it, and the
 * client would lose our answer. */
static void
drain(int fd)
{
	char buf[4096];

	for (int i = 0; i < 16; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

static void *
control_main_thread(void *arg)
{
	struct pollfd p[2];
	int fd;

	(void)arg;
	for (;;) {
		p[0].fd = ctl.lfd;
		p[0].events = POLLIN;
		p[1].fd = ctl.stop[0];
		p[1].events = POLLIN;
		p[0].revents = p[1].revents = 0;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents != 0)
			break;
		if (p[0].revents == 0)
			continue;
		fd = accept4(ctl.lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				usleep(100 * 1000);	/* do not spin */
			continue;
		}
		serve(fd);
		drain(fd);
		close(fd);
	}
	return NULL;
}

/*
 * clear_stale - make way for our socket at path: nothing there is fine;
 * a socket nobody answers on (a crash left it) is removed; anything
 * else refuses the start.
 */
static int
clear_stale(const char *path, char *err, size_t cap)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r, e;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, cap, "control.socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, cap, "control.socket %s: exists and is not a "
		    "socket; not removing it", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || fill_addr(&sa, path) < 0) {
		snprintf(err, cap, "control.socket %s: %s", path,
		    fd < 0 ? strerror(errno) : "path too long");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	e = errno;
	close(fd);
	if (r == 0) {
		snprintf(err, cap, "control.socket %s: another process (a "
		    "running mxshield?) answers on it", path);
		return -1;
	}
	if (e != ECONNREFUSED) {
		snprintf(err, cap, "control.socket %s: %s", path, strerror(e));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		snprintf(err, cap, "control.socket %s: cannot remove the stale "
		    "socket: %s", path, strerror(errno));
		return -1;
	}
	log_msg(CFG_LOG_INFO, "control", "removed the stale control socket %s",
	    path);
	return 0;
}

static void
ctl_close(void)
{
	if (ctl.lfd >= 0)
		close(ctl.lfd);
	if (ctl.stop[0] >= 0)
		close(ctl.stop[0]);
	if (ctl.stop[1] >= 0)
		close(ctl.stop[1]);
	ctl.lfd = ctl.stop[0] = ctl.stop[1] = -1;
	free(ctl.path);
	ctl.path = NULL;
}

int
control_start(const struct config *cfg, char *err, size_t cap)
{
	const char *path = cfg->control.socket;
	struct sockaddr_un sa;
	struct stat st;
	mode_t old;
	int r;

	if (path == NULL)
		return 0;
	if (fill_addr(&sa, path) < 0) {
		snprintf(err, cap, "%s: control.socket: longer than %zu "
		    "octets", cfg->path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	if (clear_stale(path, err, cap) < 0)
		return -1;
	ctl.path = strdup(path);
	ctl.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl.path == NULL || ctl.lfd < 0 ||
	    pipe2(ctl.stop, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, cap, "control.socket %s: %s", path,
		    strerror(errno));
		ctl_close();
		return -1;
	}
	/* created 0600 from the start, not chmod'ed after: called before
	 * the workers run, so the process-wide umask is ours for a moment */
	old = umask(0177);
	r = bind(ctl.lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (r < 0 || listen(ctl.lfd, 16) < 0 || stat(path, &st) < 0) {
		snprintf(err, cap, "control.socket %s: %s", path,
		    strerror(errno));
		if (r == 0)
			unlink(path);
		ctl_close();
		return -1;
	}
	ctl.dev = st.st_dev;
	ctl.ino = st.st_ino;
	if (pthread_create(&ctl.thread, NULL, control_main_thread, NULL) != 0) {
		snprintf(err, cap, "control.socket %s: cannot start its "
		    "thread", path);
		unlink(path);
		ctl_close();
		return -1;
	}
	ctl.on = 1;
	log_msg(CFG_LOG_INFO, "control", "control socket %s", path);
	return 0;
}

void
control_stop(void)
{
	struct stat st;
	ssize_t w;

	if (!ctl.on)
		return;
	do {
		w = write(ctl.stop[1], "x", 1);
	} while (w < 0 && errno == EINTR);
	pthread_join(ctl.thread, NULL);
	ctl.on = 0;
	/* remove only the file we made, not a successor's */
	if (stat(ctl.path, &st) == 0 && st.st_dev == ctl.dev &&
	    st.st_ino == ctl.ino)
		unlink(ctl.path);
	ctl_close();
}

/* ------------------------------------------------------------ client */

int
control_request(const char *path, const char *line, FILE *out, char *err,
    size_t cap)
{
	struct sockaddr_un sa;
	struct timeval tv = { strcmp(line, "RELOAD") == 0 ? RELOAD_TIMEOUT :
	    CONTROL_TIMEOUT * 2, 0 };
	char *buf = NULL, *nb, *nl;
	size_t len = 0, bcap = 0;
	ssize_t r;
	int fd, e, listing, rc = CONTROL_OK;

	if (fill_addr(&sa, path) < 0) {
		snprintf(err, cap, "%s: path too long for a socket", path);
		return CONTROL_FAILED;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, cap, "socket: %s", strerror(errno));
		return CONTROL_FAILED;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		snprintf(err, cap, "%s: %s%s", path, strerror(e), e == EACCES ?
		    " (run this as the user mxshield runs as, or as root)" :
		    "");
		return e == ENOENT || e == ECONNREFUSED ? CONTROL_NOT_RUNNING :
		    CONTROL_FAILED;
	}
	if (send(fd, line, strlen(line), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		snprintf(err, cap, "%s: send: %s", path, strerror(errno));
		close(fd);
		return CONTROL_FAILED;
	}
	for (;;) {
		if (len + 4096 + 1 > bcap) {
			bcap = bcap ? bcap * 2 : 8192;
			if (bcap > ANSWER_MAX || (nb = realloc(buf, bcap)) ==
			    NULL) {
				snprintf(err, cap, "%s: answer too long", path);
				rc = CONTROL_FAILED;
				goto out;
			}
			buf = nb;
		}
		r = recv(fd, buf + len, bcap - len - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, cap, "%s: no answer: %s", path,
			    errno == EAGAIN || errno == EWOULDBLOCK ?
			    "timed out" : strerror(errno));
			rc = CONTROL_FAILED;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (buf == NULL || len == 0 || buf[len - 1] != '\n') {
		snprintf(err, cap, "%s: incomplete answer", path);
		rc = CONTROL_FAILED;
		goto out;
	}
	buf[len] = '\0';
	listing = strcmp(line, "LIST") == 0 || strcmp(line, "COUNTERS") == 0 ||
	    strcmp(line, "STATUS") == 0 || strcmp(line, "RELOAD") == 0;
	/* a listing ends with its "." line; anything else is one line */
	if (listing && (len == 2 || (len > 2 && buf[len - 3] == '\n')) &&
	    buf[len - 2] == '.') {
		fwrite(buf, 1, len - 2, out);
		/* RELOAD's first line says whether it was applied */
		if (strncmp(buf, "ERR ", 4) == 0) {
			nl = strchr(buf, '\n');
			snprintf(err, cap, "%.*s", (int)(nl - buf - 4), buf + 4);
			rc = CONTROL_REFUSED;
		}
		goto out;
	}
	nl = strchr(buf, '\n');
	if (nl != buf + len - 1) {
		snprintf(err, cap, "%s: incomplete answer", path);
		rc = CONTROL_FAILED;
	} else if (strncmp(buf, "ERR ", 4) == 0) {
		*nl = '\0';
		snprintf(err, cap, "%s", buf + 4);
		rc = CONTROL_REFUSED;
	} else if (!listing && strncmp(buf, "OK ", 3) == 0) {
		fputs(buf, out);
	} else {
		snprintf(err, cap, "%s: unexpected answer", path);
		rc = CONTROL_FAILED;
	}
out:
	free(buf);
	close(fd);
	return rc;
}

/* What an administrator can do with mxshield stopped. */
static void
offline_hint(const struct config *cfg, enum control_cmd cmd)
{
	if (cfg->hijack.state_file != NULL && cmd == CONTROL_COUNTERS)
		fprintf(stderr, "With mxshield stopped, the counters are the "
		    "\"count ID TIME...\" lines of %s\n(hijack.state_file): "
		    "one time per message counted, or per recipient with "
		    "hijack.count = \"recipients\".\n",
		    cfg->hijack.state_file);
	else if (cfg->hijack.state_file != NULL)
		fprintf(stderr, "With mxshield stopped, the disabled identities "
		    "are the \"disabled TIME ID\" lines of %s\n(hijack."
		    "state_file): delete a line to re-enable that identity, "
		    "then start mxshield.\n", cfg->hijack.state_file);
	else
		fprintf(stderr, "hijack.state_file is not set: disabled "
		    "identities are kept in memory only and are forgotten "
		    "when mxshield stops.\n");
}

/* Print a STATUS or RELOAD answer (text, its first line "OK ..." or
 * "ERR ...") without that word: stdout when ok, else stderr after
 * "mxshield: WHAT: ". */
static void
print_answer(const char *what, const char *text, int ok)
{
	if (strncmp(text, ok ? "OK " : "ERR ", ok ? 3 : 4) == 0)
		text += ok ? 3 : 4;
	if (ok)
		fputs(text, stdout);
	else
		fprintf(stderr, "mxshield: %s: %s", what, text);
}

int
control_main(const struct config *cfg, enum control_cmd cmd, const char *id,
    const char *what)
{
	char line[CONTROL_LINE_MAX], err[1024];
	char *text = NULL;
	size_t n, tlen = 0;
	FILE *out = stdout;
	int rc;

	if (cfg->control.socket == NULL) {
		fprintf(stderr, "mxshield: %s: control.socket is not set in "
		    "%s, so the running mxshield cannot be asked.\nSet "
		    "control.socket (e.g. \"/run/mxshield/control.sock\") and "
		    "restart mxshield.\n", what, cfg->path);
		if (cmd == CONTROL_RELOAD)
			fprintf(stderr, "Without it, send SIGHUP to reload "
			    "(kill -HUP PID; systemctl reload mxshield).\n");
		else if (cmd != CONTROL_STATUS)
			offline_hint(cfg, cmd);
		return 1;
	}
	switch (cmd) {
	case CONTROL_UNBLOCK:
		n = id != NULL ? strlen(id) : 0;
		if (n == 0 || n > HIJACK_ID_MAX) {
			fprintf(stderr, "mxshield: %s: the identity must "
			    "be 1 to %d octets\n", what, HIJACK_ID_MAX);
			return 1;
		}
		memcpy(line, "UNBLOCK ", 8);
		if (xtext_encode(id, n, line + 8, sizeof(line) - 8) == 0) {
			fprintf(stderr, "mxshield: %s: identity too "
			    "long\n", what);
			return 1;
		}
		break;
	case CONTROL_STATUS:
	case CONTROL_RELOAD:
		snprintf(line, sizeof(line), "%s", cmd == CONTROL_STATUS ?
		    "STATUS" : "RELOAD");
		/* kept, then printed without its OK/ERR word */
		if ((out = open_memstream(&text, &tlen)) == NULL) {
			fprintf(stderr, "mxshield: %s: out of memory\n", what);
			return 1;
		}
		break;
	default:
		snprintf(line, sizeof(line), "%s", cmd == CONTROL_COUNTERS ?
		    "COUNTERS" : "LIST");
		break;
	}
	rc = control_request(cfg->control.socket, line, out, err,
	    sizeof(err));
	if (out != stdout) {
		fclose(out);
		if (rc == CONTROL_OK || (rc == CONTROL_REFUSED && tlen > 0)) {
			print_answer(what, text, rc == CONTROL_OK);
			free(text);
			return rc == CONTROL_OK ? 0 : 1;
		}
		free(text);
	}
	fflush(stdout);
	switch (rc) {
	case CONTROL_OK:
		return 0;
	case CONTROL_REFUSED:
		fprintf(stderr, "mxshield: %s: %s\n", what, err);
		return 1;
	case CONTROL_NOT_RUNNING:
		fprintf(stderr, "mxshield: %s: no mxshield is running on the "
		    "control socket %s\n(%s).\n", what, cfg->control.socket,
		    err);
		if (cmd != CONTROL_STATUS && cmd != CONTROL_RELOAD)
			offline_hint(cfg, cmd);
		return 1;
	default:
		fprintf(stderr, "mxshield: %s: control socket: %s\n", what, err);
		return 1;
	}
}
