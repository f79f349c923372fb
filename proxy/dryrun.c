/*
 * proxy/dryrun.c - mxshield --test (proxy/dryrun.h): the commands of
 * one session played offline, each step printed as a client command
 * ("> "), the reply it would get ("< ") and the verdicts behind it
 * ("  "), then one "result:" line. Input: the administrator's command
 * line (trusted, but printed with control characters masked) and a
 * message file (untrusted content). Every decision comes from the code
 * the live session runs: cmd_parse and the replies of commands.c,
 * core/policy with the facts pol_client_init() fills, pol_enforce_cfg()
 * for monitor mode, core/dscan with data.c's data_scan_error() for the
 * message, and the hijack state file read with core/hijack's parser.
 * What only the backend can say (its greeting, 250s, 235, the reply to
 * the final dot) is assumed to be an acceptance and printed as relayed.
 * The message after DATA is proxy/dryrun_msg.c's.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/hijack.h"
#include "core/net.h"
#include "core/policy.h"
#include "core/smtp_cmd.h"
#include "proxy/dryrun.h"
#include "proxy/dryrun_int.h"
#include "proxy/hijack.h"
#include "proxy/pol.h"
#include "proxy/commands.h"

/* ------------------------------------------------------------ output */

/* Write s with control octets masked: the transcript stays one line
 * per step whatever a message or an argument holds. */
static void
put_clean(FILE *f, const char *s)
{
	for (; *s != '\0'; s++)
		fputc(((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f ?
		    '?' : *s, f);
}

void
dry_say(struct dry *d, const char *prefix, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fputs(prefix, d->out);
	put_clean(d->out, buf);
	fputc('\n', d->out);
}

/* A client command line, as sent. */
void
dry_say_cmd(struct dry *d, const char *line)
{
	fputs("> ", d->out);
	put_clean(d->out, line);
	fputc('\n', d->out);
}

/*
 * say_verdict - one verdict: carried out (REJECT, enforced), only
 * logged (REJECT in monitor mode), due later (DEFER), or a pass naming
 * an exemption ("client in trusted_networks"; other passes say nothing).
 */
static void
say_verdict(struct dry *d, const struct policy_verdict *v, int enforced)
{
	const char *action = v->action == POLICY_DEFER ? "defer" :
	    enforced ? "reject" : "monitor";

	if (v->action == POLICY_PASS) {
		if (v->reason[0] != '\0')
			dry_say(d, "  ", "policy: pass (%s)", v->reason);
		return;
	}
	dry_say(d, "  ", "verdict: check=%s action=%s stage=%s code=%d "
	    "reason=%s", policy_check_name(v->check), action,
	    policy_stage_name(v->at), v->code, v->reason);
	if (v->action == POLICY_DEFER)
		dry_say(d, "  ", "(given at %s: %s)", policy_stage_name(v->at),
		    v->text);
	else if (!enforced)
		dry_say(d, "  ", "(mode = monitor: logged, not carried out; "
		    "the reply would be: %s)", v->text);
}

/* Keep v for the lines after the current command's reply. */
static void
note(struct dry *d, const struct policy_verdict *v)
{
	if (d->nnotes < sizeof(d->notes) / sizeof(d->notes[0]))
		d->notes[d->nnotes++] = *v;
}

/* The reply of a relayed command, then what was noted on the way. */
void
dry_say_relayed(struct dry *d, int code, const char *what)
{
	dry_say(d, "< ", "%d (the backend's %s would be relayed)", code, what);
	for (size_t i = 0; i < d->nnotes; i++)
		say_verdict(d, &d->notes[i], 0);
	d->nnotes = 0;
}

/* mxshield's own reply to the current command. */
void
dry_say_local(struct dry *d, const char *text)
{
	dry_say(d, "< ", "%s", text);
	d->nnotes = 0;
	d->refused = 1;
}

/*
 * refusal - a policy refusal of the current command: like refuse() in
 * commands.c, carried out unless pol_enforce_cfg() says monitor. With
 * enforce, the reply is printed here and 1 returned; with monitor the
 * verdict is noted and the caller goes on as for a pass.
 */
static int
refusal(struct dry *d, const struct policy_verdict *v)
{
	if (!pol_enforce_cfg(d->cfg, v)) {
		note(d, v);
		return 0;
	}
	dry_say_local(d, v->text);
	say_verdict(d, v, 1);
	return 1;
}

/* A refusal heard by pol_envelope(): an enforced one is said by
 * envelope(), a monitored one noted for after the reply. */
static void
on_envelope_verdict(void *arg, const struct policy_verdict *v, int enforced)
{
	if (!enforced)
		note(arg, v);
}

/*
 * envelope - the checks of a MAIL or RCPT through pol_envelope(), the
 * same walk the live session makes. Returns 1 when refused (the reply
 * and verdict are printed).
 */
static int
envelope(struct dry *d, const struct smtp_cmd *c, int is_mail)
{
	struct policy_verdict v;

	if (pol_envelope(d->cfg, d->pol, &d->pc, &d->ptxn, c, is_mail,
	    on_envelope_verdict, d, &v)) {
		struct policy_verdict seen[sizeof(d->notes) /
		    sizeof(d->notes[0])];
		size_t nseen = d->nnotes;

		/* the checks only monitored on the way, after the reply */
		memcpy(seen, d->notes, nseen * sizeof(seen[0]));
		dry_say_local(d, v.text);
		for (size_t i = 0; i < nseen; i++)
			say_verdict(d, &seen[i], 0);
		say_verdict(d, &v, 1);
		return 1;
	}
	note(d, &v);
	return 0;
}

/* dryrun_int.h: the From: header checks, as envelope() walks MAIL. */
int
dry_header(struct dry *d, const char *sec, size_t len)
{
	struct policy_verdict v;

	if (pol_from_header(d->cfg, d->pol, &d->pc, sec, len,
	    on_envelope_verdict, d, &v)) {
		struct policy_verdict seen[sizeof(d->notes) /
		    sizeof(d->notes[0])];
		size_t nseen = d->nnotes;

		memcpy(seen, d->notes, nseen * sizeof(seen[0]));
		dry_say_local(d, v.text);
		for (size_t i = 0; i < nseen; i++)
			say_verdict(d, &seen[i], 0);
		say_verdict(d, &v, 1);
		return 1;
	}
	return 0;
}

/* "MAIL FROM:" and "<a@b>", or the argument as written when it starts
 * with "<" (parameters may follow). NULL when memory is short. */
static char *
path_line(const char *verb, const char *arg)
{
	size_t n = strlen(verb) + strlen(arg) + 3;
	char *line = malloc(n);

	if (line == NULL)
		return NULL;
	if (arg[0] == '<')
		snprintf(line, n, "%s%s", verb, arg);
	else
		snprintf(line, n, "%s<%s>", verb, arg);
	return line;
}

/* ------------------------------------------------------------ hijack */

enum hj_state {
	HJ_CLEAR = 0,		/* not disabled, under the limit */
	HJ_DISABLED,		/* a "disabled" line names it */
	HJ_LIMIT,		/* its next MAIL disables it */
	HJ_UNKNOWN,		/* no state file: memory only */
	HJ_BROKEN,		/* the file does not read or parse */
};

struct hj_look {
	enum hj_state	 state;
	uint32_t	 count;		/* messages in the window */
	int64_t		 since;		/* HJ_DISABLED */
	char		 why[512];	/* HJ_BROKEN */
};

static int
id_ieq(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
		if (x != y)
			return 0;
	}
	return 1;
}

static int
by_time(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* What hj_lookup() looks for in the state file, and what it finds. */
struct hj_find {
	const char	*identity;
	size_t		 idlen;
	struct hj_look	*r;
	int64_t		*t;		/* its counted times, nt of ct */
	size_t		 nt, ct;
	int		 oom;
};

/* One line of the state file: a hijack_line_fn. */
static int
hj_match(void *arg, const char *id, struct hjline *l, const char **why)
{
	struct hj_find *f = arg;
	int64_t v, *nt2;

	(void)why;
	if (!id_ieq(id, l->idlen, f->identity, f->idlen))
		return 0;
	if (l->kind == HJLINE_DISABLED) {
		f->r->state = HJ_DISABLED;
		f->r->since = l->when;
		return 1;
	}
	while (hjline_time(&l->times, &v) > 0) {
		if (f->nt == f->ct) {
			f->ct = f->ct ? f->ct * 2 : 16;
			if ((nt2 = realloc(f->t, f->ct * sizeof(*nt2))) ==
			    NULL) {
				f->oom = 1;
				return 1;
			}
			f->t = nt2;
		}
		f->t[f->nt++] = v;
	}
	return 0;
}

/*
 * hj_lookup - identity in hijack.state_file, read only: disabled, or
 * its counted messages against hijack.max_messages at now (hjwin_check,
 * as hijack_mail() asks). The file is the running mxshield's last
 * write; its counters may lag by about a second. A file the start
 * would refuse is HJ_BROKEN, with the start's words.
 */
static void
hj_lookup(const struct config *cfg, const char *identity, time_t now,
    struct hj_look *r)
{
	struct hj_find f = { identity, strnlen(identity, HIJACK_ID_MAX), r,
	    NULL, 0, 0, 0 };
	int64_t *ring = NULL;
	struct hjwin w;

	memset(r, 0, sizeof(*r));
	if (cfg->hijack.state_file == NULL) {
		r->state = HJ_UNKNOWN;
		return;
	}
	switch (hijack_state_each(cfg->hijack.state_file, hj_match, &f,
	    r->why, sizeof(r->why))) {
	case HJS_EOPEN:
	case HJS_ERROR:
		r->state = HJ_BROKEN;
		goto out;
	case HJS_NOFILE:		/* no file yet: nothing recorded */
		return;
	default:
		break;
	}
	if (r->state == HJ_DISABLED || f.oom)
		goto out;
	if (f.nt > 0 && (ring = calloc(f.nt, sizeof(*ring))) != NULL) {
		qsort(f.t, f.nt, sizeof(*f.t), by_time);
		hjwin_init(&w, ring, (uint32_t)f.nt);
		for (size_t i = 0; i < f.nt; i++)
			hjwin_add(&w, f.t[i]);
		if (hjwin_check(&w, (int64_t)now, cfg->hijack.window,
		    (uint32_t)cfg->hijack.max_messages) == HJWIN_LIMIT)
			r->state = HJ_LIMIT;
		r->count = w.n;
	}
out:
	free(ring);
	free(f.t);
}

/* ------------------------------------------------------------ steps */

static void
step_greeting(struct dry *d)
{
	char where[300];

	snprintf(where, sizeof(where), "%s:%d (tls = %s%s%s)", d->l->address,
	    d->l->port, d->l->tls == CFG_TLS_IMPLICIT ? "implicit" :
	    d->l->tls == CFG_TLS_STARTTLS ? "starttls" : "none",
	    d->l->submission ? ", submission" : "",
	    d->l->proxy_protocol ? ", proxy_protocol" : "");
	dry_say(d, "", "mxshield --test: a dry run; no socket is opened and "
	    "nothing is sent: each reply of the backend is assumed to accept");
	dry_say(d, "  ", "config:   %s (mode = %s)", d->cfg->path,
	    d->cfg->mode == CFG_MODE_MONITOR ? "monitor" : "enforce");
	dry_say(d, "  ", "listener: %s", where);
	dry_say(d, "  ", "client:   %s%s%s", d->ip, d->pc.trusted ?
	    " (in trusted_networks: no policy check applies)" : "",
	    d->tls ? ", TLS up" : "");
	dry_say_relayed(d, 220, "greeting");
}

/* HELO/EHLO: as do_helo() in commands.c. */
static void
step_helo(struct dry *d)
{
	struct policy_verdict v;
	struct smtp_cmd c;
	const char *text;
	char *line;
	size_t n = strlen(d->o->helo) + 6;

	if ((line = malloc(n)) == NULL)
		return;
	snprintf(line, n, "%s %s", d->o->ehlo ? "EHLO" : "HELO", d->o->helo);
	dry_say_cmd(d, line);
	if ((text = sess_parse_line(d->cfg, line, strlen(line), &c)) != NULL) {
		dry_say_local(d, text);
		free(line);
		return;
	}
	if (policy_helo(d->pol, &d->pc, c.arg, c.verb == CMD_EHLO, &v) ==
	    POLICY_REJECT) {
		if (refusal(d, &v)) {
			/* a refused HELO changes nothing (RFC 5321 4.1.4) */
			free(line);
			return;
		}
		v.action = POLICY_PASS;	/* monitor: stored as accepted */
	} else {
		note(d, &v);
	}
	d->pc.helo = v;
	d->pc.helo_seen = true;
	d->helo = d->o->helo;
	d->ehlo = c.verb == CMD_EHLO;
	dry_say_relayed(d, 250, "reply");
	free(line);
}

static void
say_hijack(struct dry *d, const struct hj_look *h)
{
	const char *id = d->o->auth;

	if (!d->cfg->hijack.enabled) {
		dry_say(d, "  ", "hijack: off");
		return;
	}
	switch (h->state) {
	case HJ_UNKNOWN:
		dry_say(d, "  ", "hijack: not evaluated offline (no "
		    "hijack.state_file: the counters live in the running "
		    "mxshield's memory only)");
		break;
	case HJ_BROKEN:
		dry_say(d, "  ", "hijack: not evaluated, mxshield would not "
		    "start with this state file: %s", h->why);
		break;
	case HJ_DISABLED:
		dry_say(d, "  ", "hijack: %s is disabled in hijack.state_file "
		    "since %lld (unix time)", id, (long long)h->since);
		break;
	case HJ_LIMIT:
		dry_say(d, "  ", "hijack: %s has %u messages in the window, "
		    "the limit is %d: its next MAIL disables it (from "
		    "hijack.state_file, which may lag the running mxshield by "
		    "about a second)", id, h->count,
		    d->cfg->hijack.max_messages);
		break;
	case HJ_CLEAR:
		dry_say(d, "  ", "hijack: %s is not disabled; %u of %d "
		    "messages in the window (from hijack.state_file, which "
		    "may lag the running mxshield by about a second)", id,
		    h->count, d->cfg->hijack.max_messages);
		break;
	}
}

/* AUTH: as do_auth() in commands.c; the backend's 235 is assumed. */
static void
step_auth(struct dry *d, const struct hj_look *h)
{
	struct policy_verdict v;
	const char *text;

	dry_say(d, "> ", "AUTH PLAIN ... (as %s)", d->o->auth);
	if ((text = sess_auth_tls(d->cfg, d->tls)) != NULL) {
		dry_say_local(d, text);
		return;
	}
	if (d->cfg->hijack.enabled && h->state == HJ_DISABLED) {
		sess_hijack_verdict(&v, POLICY_AT_AUTH, d->o->auth, 0);
		if (refusal(d, &v))
			return;
	}
	dry_say_relayed(d, 235, "reply, assumed to accept the password,");
	dry_say(d, "  ", "identity %s bound at the backend's 235", d->o->auth);
	d->auth_id = d->o->auth;
	d->pc.auth_id = d->auth_id;
	say_hijack(d, h);
}

/* MAIL: as do_mail() in commands.c. Returns 0 when it was refused. */
static int
step_mail(struct dry *d, const struct hj_look *h)
{
	struct policy_verdict v;
	struct smtp_cmd c;
	const char *text;
	char *line = path_line("MAIL FROM:", d->o->from);
	int ok = 0;

	if (line == NULL)
		return 0;
	dry_say_cmd(d, line);
	if ((text = sess_parse_line(d->cfg, line, strlen(line), &c)) != NULL) {
		dry_say_local(d, text);
		goto out;
	}
	if (envelope(d, &c, 1))
		goto out;
	free(d->from_path);
	d->from_path = c.null_path ? mxs_memdup("", 0) :
	    mxs_memdup(c.path.p, c.path.len);
	d->from_route = c.had_route;
	if (d->auth_id != NULL && d->cfg->hijack.enabled &&
	    (h->state == HJ_DISABLED || h->state == HJ_LIMIT)) {
		sess_hijack_verdict(&v, POLICY_AT_MAIL, d->auth_id, 0);
		if (refusal(d, &v))
			goto out;
	}
	dry_say_relayed(d, 250, "reply");
	ok = 1;
out:
	free(line);
	return ok;
}

/* RCPT: as do_rcpt() in commands.c. Returns 1 when relayed. */
static int
step_rcpt(struct dry *d, const char *rcpt)
{
	struct smtp_cmd c;
	const char *text;
	char *line = path_line("RCPT TO:", rcpt);
	int ok = 0;

	if (line == NULL)
		return 0;
	dry_say_cmd(d, line);
	if ((text = sess_rcpt_limit(d->cfg, d->rcpt_sent)) != NULL ||
	    (text = sess_parse_line(d->cfg, line, strlen(line), &c)) != NULL) {
		dry_say_local(d, text);
		goto out;
	}
	if (envelope(d, &c, 0))
		goto out;
	dry_say_relayed(d, 250, "reply");
	d->rcpt_sent++;
	ok = 1;
	{
		char **nr = realloc(d->rcpts_ok, (d->nrcpts_ok + 1) *
		    sizeof(*nr));

		if (nr != NULL) {
			d->rcpts_ok = nr;
			nr[d->nrcpts_ok] = c.postmaster ?
			    mxs_memdup("postmaster", 10) :
			    mxs_memdup(c.path.p, c.path.len);
			if (nr[d->nrcpts_ok] != NULL)
				d->nrcpts_ok++;
		}
	}
out:
	free(line);
	return ok;
}
/* ------------------------------------------------------------ setup */

int
dry_usage_error(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fputs("mxshield: --test: ", err);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputc('\n', err);
	return DRY_USAGE;
}

static int
has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}


static int
check_opts(const struct config *cfg, const struct dry_opts *o,
    const struct cfg_listen **lp, struct net_addr *addr, FILE *err)
{
	const struct cfg_listen *l = NULL;

	if (o->client == NULL)
		return dry_usage_error(err, "--client ADDRESS is required");
	if (net_addr_parse(o->client, strlen(o->client), addr) < 0)
		return dry_usage_error(err, "--client %s: not an IP address",
		    o->client);
	for (size_t i = 0; i < cfg->nlisten && l == NULL; i++)
		if (o->port == 0 || cfg->listen[i].port == o->port)
			l = &cfg->listen[i];
	if (l == NULL)
		return dry_usage_error(err, "--port %d: no listener of %s has "
		    "that port", o->port, cfg->path);
	if (o->tls && l->tls == CFG_TLS_NONE)
		return dry_usage_error(err, "--tls: the listener on port %d "
		    "has tls = \"none\"", l->port);
	if (o->tls && l->tls == CFG_TLS_STARTTLS && o->helo == NULL)
		return dry_usage_error(err, "--tls on a STARTTLS listener "
		    "needs --ehlo or --helo: after STARTTLS a client greets "
		    "again (RFC 3207 4.2)");
	if (o->nrcpts > 0 && o->from == NULL)
		return dry_usage_error(err, "--rcpt needs --from");
	if (o->message != NULL && o->nrcpts == 0)
		return dry_usage_error(err, "--message needs --rcpt");
	if (has_crlf(o->helo) || has_crlf(o->from) || has_crlf(o->auth))
		return dry_usage_error(err, "a CR or LF cannot be part of a "
		    "command");
	for (size_t i = 0; i < o->nrcpts; i++)
		if (has_crlf(o->rcpts[i]))
			return dry_usage_error(err, "a CR or LF cannot be "
			    "part of a command");
	if (o->auth != NULL && o->auth[0] == '\0')
		return dry_usage_error(err, "--auth: an empty identity");
	*lp = l;
	return 0;
}

int
dry_run(const struct config *cfg, const struct dry_opts *o, FILE *out,
    FILE *err)
{
	struct dry d;
	struct hj_look h;
	FILE *mf = NULL;
	int unix_text = 0, rc, accepted = 0;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.o = o;
	d.out = out;
	if ((rc = check_opts(cfg, o, &d.l, &d.addr, err)) != 0)
		return rc;
	if (o->message != NULL &&
	    (mf = dry_msg_open(o->message, &unix_text, err)) == NULL)
		return DRY_USAGE;
	if ((d.pol = pol_build(cfg)) == NULL) {
		if (mf != NULL)
			fclose(mf);
		return dry_usage_error(err, "out of memory");
	}
	net_addr_format(&d.addr, d.ip, sizeof(d.ip));
	/* the facts admit_and_connect() and sess_tls_ready() give */
	pol_client_init(&d.pc, d.pol, &d.addr, d.ip, d.l);
	d.tls = o->tls || d.l->tls == CFG_TLS_IMPLICIT;
	d.pc.tls = d.tls != 0;
	memset(&h, 0, sizeof(h));
	if (o->auth != NULL && cfg->hijack.enabled)
		hj_lookup(cfg, o->auth, time(NULL), &h);

	step_greeting(&d);
	if (o->helo != NULL)
		step_helo(&d);
	if (o->auth != NULL)
		step_auth(&d, &h);
	if (o->from == NULL) {
		d.stop = d.refused ? "a command was refused" : NULL;
		goto done;
	}
	if (!step_mail(&d, &h)) {
		d.stop = "refused at MAIL";
		goto done;
	}
	for (size_t i = 0; i < o->nrcpts; i++)
		accepted += step_rcpt(&d, o->rcpts[i]);
	if (o->nrcpts == 0)
		goto done;
	if (accepted == 0) {
		d.stop = "refused: no recipient accepted";
		goto done;
	}
	if (!dry_data(&d, mf, unix_text))
		d.stop = "the message is refused after its final dot";
done:
	if (d.stop != NULL)
		dry_say(&d, "", "result: %s (exit status %d)", d.stop,
		    DRY_REFUSED);
	else if (o->nrcpts > 0)
		dry_say(&d, "", "result: accepted for %d of %zu recipients, "
		    "if the backend agrees (exit status %d)", accepted,
		    o->nrcpts, DRY_ACCEPTED);
	else
		dry_say(&d, "", "result: nothing refused (exit status %d)",
		    DRY_ACCEPTED);
	if (mf != NULL)
		fclose(mf);
	free(d.from_path);
	for (size_t i = 0; i < d.nrcpts_ok; i++)
		free(d.rcpts_ok[i]);
	free(d.rcpts_ok);
	pol_free(d.pol);
	return d.stop != NULL ? DRY_REFUSED : DRY_ACCEPTED;
}
