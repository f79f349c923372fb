/*
 * proxy/dryrun_msg.c - the message of mxshield --test, after DATA: the
 * file read as the client would send it, the DATA stream through
 * core/dscan in the steps data.c takes, data_scan_error() for the
 * protocol refusals (bare CR or LF, NUL, header section size; enforced
 * in every mode), then the stages of the held header section (one
 * function each: what it says, the spoof score, what mxshield adds). Input: the file's
 * content, untrusted; only ever printed with control octets masked.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/dscan.h"
#include "core/hdr.h"
#include "core/received.h"
#include "proxy/dryrun_int.h"
#include "proxy/data.h"
#include "proxy/pol.h"
#include "proxy/spoofw.h"

/*
 * The message file as a client would send it after DATA. A file with
 * a CR anywhere is taken as wire bytes (dot-stuffed, line endings as
 * they are); a file with no CR at all is a Unix text file, sent as a
 * mail client would: each LF as CRLF, lines starting with "." stuffed.
 * Either way the final ".CRLF" is added, unless the file ends with it.
 */
struct msg {
	FILE		*f;
	int		 unix_text;
	int		 bol;		/* unix: at the start of a line */
	int		 eof;
	int		 ended;		/* the terminator was produced */
	int		 term;		/* msg_read's last piece was it */
	uint64_t	 file_bytes;
	char		 tail[5];	/* the file's last octets */
	size_t		 ntail;
	/* what the scanner saw, for the header stages */
	struct dscan	 ds;
	char		*hold;		/* the header section as emitted */
	size_t		 hold_len, hold_cap;
	uint64_t	 after_end;	/* octets after the end of data */
	char		 why[256];	/* the refusal's reason, in words */
};

static void
msg_tail(struct msg *m, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (m->ntail == sizeof(m->tail)) {
			memmove(m->tail, m->tail + 1, sizeof(m->tail) - 1);
			m->ntail--;
		}
		m->tail[m->ntail++] = p[i];
	}
}

/* The terminator a file needs (see struct msg). */
static const char *
msg_terminator(const struct msg *m)
{
	if (m->unix_text)
		return m->file_bytes == 0 || m->tail[m->ntail - 1] == '\n' ?
		    ".\r\n" : "\r\n.\r\n";
	if ((m->ntail == 5 && memcmp(m->tail, "\r\n.\r\n", 5) == 0) ||
	    (m->file_bytes == 3 && memcmp(m->tail, ".\r\n", 3) == 0))
		return "";
	if (m->file_bytes == 0 || (m->ntail >= 2 &&
	    memcmp(m->tail + m->ntail - 2, "\r\n", 2) == 0))
		return ".\r\n";
	return "\r\n.\r\n";
}

/*
 * msg_read - the next wire octets of the message into out (cap octets,
 * at least 8): a piece of the file (at most cap/2 octets of a Unix text
 * file, which grow by at most double), then, alone, the terminator.
 * Returns the octets written, 0 at the end; m->term says the last piece
 * was the terminator.
 */
static size_t
msg_read(struct msg *m, char *out, size_t cap)
{
	char raw[HOLD_CHUNK];
	size_t n, o = 0, want = m->unix_text ? cap / 2 : cap;

	if (m->ended)
		return 0;
	if (want > sizeof(raw))
		want = sizeof(raw);
	if (!m->eof) {
		n = fread(raw, 1, want, m->f);
		if (n == 0)
			m->eof = 1;
		m->file_bytes += n;
		msg_tail(m, raw, n);
		for (size_t i = 0; i < n; i++) {
			if (!m->unix_text) {
				out[o++] = raw[i];
				continue;
			}
			if (m->bol && raw[i] == '.')
				out[o++] = '.';
			if (raw[i] == '\n')
				out[o++] = '\r';
			out[o++] = raw[i];
			m->bol = raw[i] == '\n';
		}
		if (n > 0)
			return o;
	}
	m->ended = m->term = 1;
	n = strlen(msg_terminator(m));
	memcpy(out, msg_terminator(m), n);
	return n;
}

static void
emit_hold(void *ctx, const char *p, size_t n)
{
	struct msg *m = ctx;

	if (m->hold_len + n > m->hold_cap)
		n = m->hold_cap - m->hold_len;
	memcpy(m->hold + m->hold_len, p, n);
	m->hold_len += n;
}

/*
 * msg_scan - the DATA stream through core/dscan, HOLD_CHUNK octets a
 * step as hold_input() in data.c takes them, asking data_scan_error()
 * after each step; the first answer is the message's reply. NULL: the
 * stream passes. *code is set with the reply.
 */
static const char *
msg_scan(struct dry *d, struct msg *m, int *code)
{
	char buf[HOLD_CHUNK];
	const char *e = NULL;
	size_t n, used;
	int done = 0;

	dscan_init(&m->ds, d->cfg->limits.bare_lf == CFG_BARE_NORMALIZE ?
	    DSCAN_NORMALIZE : DSCAN_REJECT);
	*code = 0;
	while (!done && (n = msg_read(m, buf, sizeof(buf))) > 0) {
		used = dscan_feed(&m->ds, buf, n, emit_hold, m, &done);
		if (e == NULL)
			e = data_scan_error(&m->ds, m->hold_len,
			    d->cfg->limits.max_header_bytes, code, m->why,
			    sizeof(m->why));
		if (done)
			m->after_end += n - used;
	}
	/* what follows the end of data in the file (never our terminator)
	 * is what a client's next commands would be */
	while ((n = msg_read(m, buf, sizeof(buf))) > 0)
		if (!m->term)
			m->after_end += n;
	return e;
}

/*
 * msg_header - what the held header section tells: its size and the
 * Message-ID the log would carry; then the checks of the From: header
 * (dry_header()). Returns 1 when they refuse the message.
 */
static int
msg_header(struct dry *d, const struct msg *m)
{
	size_t hlen = m->ds.hdr_end == DSCAN_HDR_UNKNOWN ? m->hold_len :
	    (size_t)m->ds.hdr_end;
	char mid[256];

	if (hlen > m->hold_len)
		hlen = m->hold_len;
	dry_say(d, "  ", "header section: %zu octets (limits.max_header_bytes "
	    "= %d)", hlen, d->cfg->limits.max_header_bytes);
	if (hdr_message_id(m->hold, hlen, mid, sizeof(mid)) > 0)
		dry_say(d, "  ", "message_id: %s", mid);
	else
		dry_say(d, "  ", "message_id: none");
	return dry_header(d, m->hold, hlen);
}

/*
 * msg_spoof - the spoof score of the header section, through
 * spoofw_decide() as data.c asks it: the verdict with its score and
 * signs. Returns 0 when it refuses the message.
 */
static int
msg_spoof(struct dry *d, const struct msg *m, struct spoofw *sw)
{
	size_t hlen = m->ds.hdr_end == DSCAN_HDR_UNKNOWN ? m->hold_len :
	    (size_t)m->ds.hdr_end;
	struct policy_verdict v;

	if (hlen > m->hold_len)
		hlen = m->hold_len;
	spoofw_decide(d->cfg, d->pol, &d->pc, d->from_path, d->from_route,
	    NULL, m->hold, hlen, sw, &v);
	if (sw->what == SPOOFW_OFF)
		return 1;
	if (sw->what == SPOOFW_REJECT)
		dry_say_local(d, v.text);
	dry_say(d, "  ", "verdict: check=spoof action=%s score=%d/%d "
	    "threshold=%d reason=%s", pol_action_name(&v, sw->enforced),
	    sw->score, SPOOF_MAX, d->cfg->spoof.threshold, v.reason);
	if (sw->what == SPOOFW_LOG && v.action != POLICY_PASS)
		dry_say(d, "  ", "(mode = monitor: logged, not carried out%s%s)",
		    v.action == POLICY_REJECT ? "; the reply would be: " :
		    "", v.action == POLICY_REJECT ? v.text : "");
	return sw->what != SPOOFW_REJECT;
}

/* What the spoof score adds (spoofw_lines(), as data.c writes them). */
static void
msg_spoof_trace(struct dry *d, const struct spoofw *sw)
{
	static const char *const how[] = { "the warning appended to the "
	    "body (spoof.action = append)", "headers only (spoof.action = "
	    "header)", "the Subject prefixed (spoof.action = subject)",
	    "" };
	char lines[512], *p = lines, *e;

	if (spoofw_lines(sw, lines, sizeof(lines)) == 0)
		return;
	dry_say(d, "  ", "adds (any X-Spoof-Score or X-Spoof-Flag the client "
	    "wrote is removed):");
	while ((e = strstr(p, "\r\n")) != NULL) {
		*e = '\0';
		dry_say(d, "    ", "%s", p);
		p = e + 2;
	}
	if (sw->what == SPOOFW_TAG)
		dry_say(d, "  ", "tags the message: %s",
		    how[d->cfg->spoof.action]);
}

/* msg_trace - what mxshield adds in front of the header section. */
static void
msg_trace(struct dry *d)
{
	char rc[1024];
	struct rcvd_info ri;
	size_t rl;

	if (d->cfg->backend.client_info == CFG_CI_RECEIVED) {
		memset(&ri, 0, sizeof(ri));
		ri.helo = d->helo;
		ri.helo_len = d->helo != NULL ? strlen(d->helo) : 0;
		ri.client_ip = d->ip;
		ri.hostname = d->cfg->hostname;
		ri.proto = rcvd_proto(d->ehlo, d->tls, d->auth_id != NULL);
		ri.tls = NULL;
		ri.now = time(NULL);
		rl = rcvd_format(rc, sizeof(rc), &ri);
		if (rl > 0) {
			char *p = rc, *e;

			dry_say(d, "  ", "adds first (backend.client_info = "
			    "received; the id is the session's):");
			while ((e = strstr(p, "\r\n")) != NULL) {
				*e = '\0';
				dry_say(d, "    ", "%s", p);
				p = e + 2;
			}
		}
	}
	if (d->cfg->auth.add_header) {
		if (d->auth_id != NULL)
			dry_say(d, "  ", "adds X-Authenticated-Sender: %s "
			    "(auth.add_header; any the client wrote is "
			    "removed)", d->auth_id);
		else
			dry_say(d, "  ", "removes any X-Authenticated-Sender "
			    "the client wrote (auth.add_header)");
	}
}

/*
 * msg_size - size_limits on the counted size, as data.c's size_check()
 * (with the sender and the recipients relayed). Returns 0 when the
 * message is refused.
 */
static int
msg_size(struct dry *d, const struct msg *m)
{
	struct policy_verdict v;
	int enforced;

	if (policy_size_data(d->pol, &d->pc, d->from_path, d->rcpts_ok,
	    d->nrcpts_ok, m->ds.out_bytes, &v) != POLICY_REJECT)
		return 1;
	enforced = pol_enforce_cfg(d->cfg, &v);
	if (enforced)
		dry_say_local(d, v.text);
	dry_say(d, "  ", "verdict: check=%s action=%s stage=%s code=%d "
	    "reason=%s", policy_check_name(v.check), enforced ? "reject" :
	    "monitor", policy_stage_name(v.at), v.code, v.reason);
	if (!enforced)
		dry_say(d, "  ", "(mode = monitor: logged, not carried out; "
		    "the reply would be: %s)", v.text);
	return !enforced;
}

/* DATA and the message (proxy/dryrun_int.h). */
int
dry_data(struct dry *d, FILE *f, int unix_text)
{
	struct msg m;
	struct spoofw sw;
	const char *e;
	int code, ok = 0;

	dry_say(d, "> ", "DATA");
	dry_say(d, "< ", "354 (mxshield's own; it holds the header section "
	    "while it decides)");
	if (f == NULL) {
		dry_say(d, "  ", "no --message: the message checks were not "
		    "run");
		return 1;
	}
	memset(&m, 0, sizeof(m));
	m.f = f;
	m.unix_text = unix_text;
	m.bol = 1;
	m.hold_cap = (size_t)d->cfg->limits.max_header_bytes + HOLD_SLACK;
	if ((m.hold = malloc(m.hold_cap)) == NULL)
		return 0;
	dry_say(d, "> ", "(the message of %s%s, then the final dot)",
	    d->o->message, unix_text ? ", a text file without CR: each LF "
	    "sent as CRLF and lines starting with \".\" stuffed, as a mail "
	    "client would" : ", sent as it is");
	e = msg_scan(d, &m, &code);
	if (m.ds.bare > 0 && d->cfg->limits.bare_lf == CFG_BARE_NORMALIZE)
		dry_say(d, "  ", "%llu bare line endings rewritten to CRLF "
		    "(limits.bare_lf = normalize)",
		    (unsigned long long)m.ds.bare);
	if (m.after_end > 0)
		dry_say(d, "  ", "the data ended early: %llu octets after the "
		    "end of data would be read as commands",
		    (unsigned long long)m.after_end);
	if (e != NULL) {
		/* protocol safety: enforced in every mode */
		dry_say_local(d, e);
		dry_say(d, "  ", "verdict: check=protocol action=reject "
		    "code=%d reason=%s", code, m.why);
		goto out;
	}
	if (!msg_size(d, &m))
		goto out;
	if (msg_header(d, &m))
		goto out;
	if (!msg_spoof(d, &m, &sw))
		goto out;
	msg_trace(d);
	msg_spoof_trace(d, &sw);
	dry_say_relayed(d, 250, "reply to the final dot");
	ok = 1;
out:
	free(m.hold);
	return ok;
}

/* Open the message file and tell whether it holds no CR at all. */
FILE *
dry_msg_open(const char *path, int *unix_text, FILE *err)
{
	char buf[8192];
	FILE *f = fopen(path, "rbe");
	size_t n;

	if (f == NULL) {
		dry_usage_error(err, "--message %s: %s", path, strerror(errno));
		return NULL;
	}
	*unix_text = 1;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		if (memchr(buf, '\r', n) != NULL)
			*unix_text = 0;
	if (ferror(f) || fseek(f, 0, SEEK_SET) != 0) {
		dry_usage_error(err, "--message %s: cannot read it twice (a "
		    "regular file is needed)", path);
		fclose(f);
		return NULL;
	}
	return f;
}
