/*
 * proxy/commands.c - what happens to each client command line: the
 * verb table (OpenSMTPD's commands[]), relaying, the policy checks at
 * HELO, MAIL and RCPT, AUTH observed on the way, STARTTLS, and the
 * commands mxshield answers itself. Input: one line from the scanner in
 * session.c, untrusted; replies go through the session's queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/policy.h"
#include "core/sasl.h"
#include "core/smtp_cmd.h"
#include "proxy/accept.h"
#include "proxy/backend.h"
#include "proxy/commands.h"
#include "proxy/dnschk.h"
#include "proxy/gen.h"
#include "proxy/hijack.h"
#include "proxy/hjstore.h"
#include "proxy/log.h"
#include "proxy/mailspf.h"
#include "proxy/pol.h"
#include "proxy/server.h"
#include "proxy/session.h"
#include "proxy/txn.h"

/* ------------------------------------------------------------ commands */

/* Relay the line to the backend; its reply comes back through p. */
static struct pending *
relay(struct session *s, enum cmd_verb verb, const char *line, size_t len)
{
	struct pending *p;

	if (s->backend == NULL)
		mxs_panic("relay without a backend leg");
	p = sess_push(s, PK_RELAY, verb);
	if (p == NULL) {
		sess_close(s, "out of memory");
		return NULL;
	}
	backend_relay(s->backend, line, len, verb == CMD_HELO ||
	    verb == CMD_EHLO);
	return p;
}

typedef void cmd_fn(struct session *, const struct smtp_cmd *,
    const char *, size_t);

static enum sasl_rc auth_observe(struct session *s, int first,
    const char *p, size_t n);


static void
do_relay(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	relay(s, c->verb, l, n);
}

/* A DNS check's refusal at HELO, logged (pol_dns()). */
static void
on_helo_dns_verdict(void *arg, const struct policy_verdict *v, int enforced)
{
	pol_log(arg, v, enforced);
}

static void
do_helo(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct policy_verdict v, dv;
	char *h, *hl;

	/* the name's lookups start now; the HELO waits for them when the
	 * DNS checks are due at HELO (or XCLIENT needs the client's name) */
	dnschk_helo(s, c->arg, c->verb == CMD_EHLO);
	if (dnschk_wait(s, c, l, n))
		return;
	h = mxs_memdup(c->arg.p, c->arg.len);
	hl = mxs_memdup(l, n);
	if (h == NULL || hl == NULL) {
		free(h);
		free(hl);
		sess_close(s, "out of memory");
		return;
	}
	if (policy_helo(s->gen->pol, &s->pc, c->arg, c->verb == CMD_EHLO,
	    &v) == POLICY_REJECT) {
		int enforced = pol_enforce(s, &v);

		pol_log(s, &v, enforced);
		if (enforced) {
			/* a refused HELO is not relayed and changes nothing
			 * (RFC 5321 4.1.4) */
			free(h);
			free(hl);
			sess_reply_now(s, c->verb, v.text);
			return;
		}
		v.action = POLICY_PASS;
	}
	if (s->cfg->helo.reject_at == CFG_AT_HELO && pol_dns(s->cfg,
	    s->gen->pol, &s->pc, POLICY_AT_HELO, on_helo_dns_verdict, s,
	    &dv)) {
		free(h);
		free(hl);
		sess_reply_now(s, c->verb, dv.text);
		return;
	}
	sess_txn_abort(s, c->verb == CMD_EHLO ? "client sent EHLO" :
	    "client sent HELO");
	free(s->helo);
	free(s->helo_line);
	s->helo = h;
	s->helo_line = hl;
	s->ehlo = (c->verb == CMD_EHLO);
	s->pc.helo = v;
	s->pc.helo_seen = true;
	/* PIPELINING only once this EHLO's reply offers it */
	s->flags &= ~(SF_NEED_EHLO | SF_PIPELINING);
	/* the backend leg reads these for XCLIENT and for replays */
	s->bc.name = dnschk_name(s);
	s->bc.helo = s->helo;
	s->bc.helo_line = s->helo_line;
	s->bc.ehlo = s->ehlo;
	relay(s, c->verb, l, n);
}

/*
 * A policy refusal of MAIL or RCPT: carried out (the command is not
 * relayed, the client gets the text) unless its control is in monitor
 * mode; either way it joins the transaction's verdicts. Returns 1 when
 * refused.
 */
static int
refuse(struct session *s, enum cmd_verb verb, const struct policy_verdict *v)
{
	int enforced = pol_enforce(s, v);

	pol_note(s, v, enforced);
	if (!enforced)
		return 0;
	sess_reply_now(s, verb, v->text);
	return 1;
}

/* A refusal heard by pol_envelope(): into the transaction's verdicts. */
static void
on_envelope_verdict(void *arg, const struct policy_verdict *v, int enforced)
{
	pol_note(arg, v, enforced);
}

/*
 * The policy checks of a MAIL or a RCPT (pol_envelope): every refusal
 * joins the transaction's verdicts; an enforced one is the reply and
 * the command is not relayed. Returns 1 when refused.
 */
static int
check_envelope(struct session *s, const struct smtp_cmd *c, int is_mail)
{
	struct policy_verdict v;

	if (!pol_envelope(s->cfg, s->gen->pol, &s->pc, &s->txn.ptxn, c,
	    is_mail, on_envelope_verdict, s, &v))
		return 0;
	sess_reply_now(s, c->verb, v.text);
	return 1;
}

/*
 * sess_hijack_verdict - a refusal by hijack detection: 535 5.7.8 at
 * AUTH, 550 5.7.1 at MAIL and RCPT. now: the identity was disabled by
 * this very command (HIJACK_NOW_DISABLED), not before. Shared with the
 * dry run.
 */
void
sess_hijack_verdict(struct policy_verdict *v, enum policy_stage at,
    const char *identity, int now)
{
	memset(v, 0, sizeof(*v));
	v->action = POLICY_REJECT;
	v->at = at;
	v->check = POLICY_CK_HIJACK;
	v->code = at == POLICY_AT_AUTH ? 535 : 550;
	snprintf(v->enh, sizeof(v->enh), "%s", at == POLICY_AT_AUTH ?
	    "5.7.8" : "5.7.1");
	snprintf(v->text, sizeof(v->text), "%s", at == POLICY_AT_AUTH ?
	    "535 5.7.8 Authentication credentials invalid" :
	    "550 5.7.1 This account is disabled: it sent too many messages");
	if (now)
		snprintf(v->reason, sizeof(v->reason), "identity %.128s "
		    "would pass hijack.max_messages: disabled now",
		    identity);
	else
		snprintf(v->reason, sizeof(v->reason), "identity %.128s "
		    "disabled by hijack detection", identity);
}


static void
do_mail(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct policy_verdict v;
	struct pending *p;
	enum hijack_rc hj;
	int fresh = !s->txn.active;

	if (s->flags & SF_NEED_EHLO) {
		/* RFC 3207 4.2: after TLS the client starts again with EHLO;
		 * the backend never saw STARTTLS, so mxshield says it */
		sess_reply_now(s, c->verb, "503 5.5.1 Send HELO/EHLO first");
		return;
	}
	if (fresh && (dnschk_wait(s, c, l, n) || mailspf_wait(s, c, l, n) ||
	    (s->auth_id != NULL && hjstore_wait(s, c->verb, l, n, s->auth_id,
	    0))))
		return;
	if (fresh) {
		if (++s->txn_seq == 0)
			s->txn_seq = 1;
		s->txn.active = 1;
		s->txn.start_ms = mxs_now_ms();
		snprintf(s->txn.where, sizeof(s->txn.where), "mail");
		s->txn.mail_from = c->null_path ? mxs_memdup("", 0) :
		    mxs_memdup(c->path.p, c->path.len);
		s->txn.mail_route = c->had_route;
		mailspf_take(s);
	}
	if (fresh && check_envelope(s, c, 1)) {
		snprintf(s->txn.where, sizeof(s->txn.where), "mail");
		sess_txn_log(s, &s->txn, "rejected", NULL, 0);
		sess_txn_reset(s);
		return;
	}
	if (fresh && s->auth_id != NULL && (hj = hjstore_mail(s)) !=
	    HIJACK_OK) {
		hjstore_verdict(&v, POLICY_AT_MAIL, s->auth_id, hj);
		if (refuse(s, c->verb, &v)) {
			snprintf(s->txn.where, sizeof(s->txn.where), "mail");
			sess_txn_log(s, &s->txn, "rejected", NULL, 0);
			sess_txn_reset(s);
			return;
		}
	}
	if (fresh && mailspf_decide(s, c->verb)) {
		sess_txn_log(s, &s->txn, "rejected", NULL, 0);
		sess_txn_reset(s);
		return;
	}
	/* only the MAIL that opened the transaction decides it: a nested
	 * one's 503 leaves the backend's transaction as it was */
	if ((p = relay(s, c->verb, l, n)) != NULL && fresh)
		p->txn_seq = s->txn_seq;
}

static void
do_rcpt(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct policy_verdict v;
	struct pending *p;
	const char *text;
	enum hijack_rc hj;

	if (s->txn.active && dnschk_wait(s, c, l, n))
		return;
	if (s->txn.active)
		snprintf(s->txn.where, sizeof(s->txn.where), "rcpt");
	if ((text = sess_rcpt_limit(s->cfg, s->txn.rcpt_sent)) != NULL) {
		sess_reply_now(s, c->verb, text);
		s->txn.rcpt_refused += s->txn.active;
		return;
	}
	if (s->txn.active && check_envelope(s, c, 0)) {
		s->txn.rcpt_refused++;
		return;
	}
	/* hijack.count = "recipients": the recipients relayed in this
	 * message and not refused by the backend may all be accepted */
	if (s->txn.active && s->auth_id != NULL && (hj = hjstore_rcpt(s,
	    (uint32_t)(s->txn.rcpt_sent - s->txn.rcpt_failed))) !=
	    HIJACK_OK) {
		hjstore_verdict(&v, POLICY_AT_RCPT, s->auth_id, hj);
		if (refuse(s, c->verb, &v)) {
			s->txn.rcpt_refused++;
			return;
		}
	}
	p = relay(s, c->verb, l, n);
	if (p == NULL)
		return;
	if (c->postmaster)
		p->arg = mxs_memdup("postmaster", 10);
	else
		p->arg = mxs_memdup(c->path.p, c->path.len);
	if (s->txn.active)
		p->txn_seq = s->txn_seq;
	s->txn.rcpt_sent += s->txn.active;
}

static void
do_rset(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	sess_txn_abort(s, "client sent RSET");
	relay(s, c->verb, l, n);
}

static void
do_data(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct pending *p = sess_push(s, PK_DATA, CMD_DATA);

	if (p == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	s->barrier = p;
}

static void
do_quit(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct pending *p;

	sess_txn_abort(s, "client sent QUIT");
	p = relay(s, c->verb, l, n);
	if (p == NULL)
		return;
	/* nothing after QUIT is read */
	sess_enter(s, PH_QUIT);
	s->barrier = p;
}

#define AUTH_UNKNOWN_MECH	"504 5.5.4 Unrecognized authentication type"

/* The AUTH refused for its mechanism: the name only, never the data. */
static void
auth_log_unknown(struct session *s, struct span arg)
{
	struct logline l;
	size_t ml = 0;

	if (!log_enabled(CFG_LOG_INFO))
		return;
	while (ml < arg.len && arg.p[ml] != ' ')
		ml++;
	log_begin(&l, "auth");
	log_hex64(&l, "sid", s->id);
	log_cstr(&l, "client", s->ip);
	log_int(&l, "port", s->port);
	log_str(&l, "mechanism", arg.p, ml);
	log_cstr(&l, "action", "reject");
	log_cstr(&l, "reason", "mechanism whose identity mxshield cannot "
	    "read, while a control depends on the identity");
	log_cstr(&l, "reply", AUTH_UNKNOWN_MECH);
	log_end(&l);
}

static void
do_auth(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct pending *p;
	const char *text;
	enum sasl_rc rc;
	enum hijack_rc hj;

	if (s->flags & SF_AUTH) {
		sess_reply_now(s, c->verb, "503 5.5.1 Error: already authenticated");
		return;
	}
	if ((text = sess_auth_tls(s->cfg, s->client.tls != NULL)) != NULL) {
		sess_reply_now(s, c->verb, text);
		return;
	}
	if (s->txn.active) {
		sess_reply_now(s, c->verb,
		    "503 5.5.1 Error: MAIL transaction in progress");
		return;
	}
	rc = auth_observe(s, 1, c->arg.p, c->arg.len);
	if (rc != SASL_SYNTAX && s->sasl.mech == SASL_MECH_UNKNOWN &&
	    sess_auth_need_identity(s->cfg)) {
		/* a login mxshield could not attribute would escape every
		 * control that depends on who logged in: never relayed */
		auth_log_unknown(s, c->arg);
		sess_reply_now(s, c->verb, AUTH_UNKNOWN_MECH);
		return;
	}
	switch (rc) {
	case SASL_SYNTAX:
		sess_reply_now(s, c->verb, "501 5.5.4 Syntax: AUTH mechanism "
		    "[initial-response]");
		return;
	case SASL_BAD_BASE64:
	case SASL_NOSPACE:
		sess_reply_now(s, c->verb, "501 5.5.2 Invalid base64 data");
		return;
	default:
		break;
	}
	if (s->auth_cand != NULL && rc == SASL_IDENTITY &&
	    hjstore_wait(s, c->verb, l, n, s->auth_cand, -1))
		return;
	if (s->auth_cand != NULL && (hj = hjstore_auth(s)) != HIJACK_OK) {
		struct policy_verdict v;

		hjstore_verdict(&v, POLICY_AT_AUTH, s->auth_cand, hj);
		if (pol_enforce(s, &v)) {
			pol_log(s, &v, 1);
			free(s->auth_cand);
			s->auth_cand = NULL;
			sess_reply_now(s, c->verb, v.text);
			return;
		}
		pol_log(s, &v, 0);
	}
	p = relay(s, c->verb, l, n);
	if (p != NULL)
		s->barrier = p;
}

static void
do_starttls(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	struct pending *p;

	if (s->client.tls != NULL) {
		sess_reply_now(s, c->verb, "503 5.5.1 Error: TLS already active");
		return;
	}
	if (s->listener->tls != CFG_TLS_STARTTLS ||
	    s->gen->tls_server == NULL) {
		sess_reply_now(s, c->verb, "454 4.7.0 TLS not available");
		return;
	}
	p = sess_push(s, PK_LOCAL, c->verb);
	if (p == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	sess_local(s, p, "220 2.0.0 Ready to start TLS");
	p->starttls = 1;
	/* nothing after STARTTLS is read as a command in plaintext */
	s->barrier = p;
}

static void
do_refuse(struct session *s, const struct smtp_cmd *c, const char *l,
    size_t n)
{
	sess_reply_now(s, c->verb, "502 5.5.1 Error: command not implemented");
}

#define C_JUNK	0x1	/* counts toward limits.max_junk_commands */

static const struct {
	enum cmd_verb	 verb;
	cmd_fn		*fn;
	unsigned	 flags;
} commands[] = {
	{ CMD_HELO,	do_helo,	0 },
	{ CMD_EHLO,	do_helo,	0 },
	{ CMD_MAIL,	do_mail,	0 },
	{ CMD_RCPT,	do_rcpt,	0 },
	{ CMD_DATA,	do_data,	0 },
	{ CMD_RSET,	do_rset,	C_JUNK },
	{ CMD_NOOP,	do_relay,	C_JUNK },
	{ CMD_QUIT,	do_quit,	0 },
	{ CMD_VRFY,	do_relay,	C_JUNK },
	{ CMD_EXPN,	do_relay,	C_JUNK },
	{ CMD_HELP,	do_relay,	C_JUNK },
	{ CMD_AUTH,	do_auth,	0 },
	{ CMD_STARTTLS,	do_starttls,	0 },
	{ CMD_BDAT,	do_refuse,	0 },
	{ CMD_XCLIENT,	do_refuse,	0 },
	{ CMD_XFORWARD,	do_refuse,	0 },
	{ CMD_UNKNOWN,	do_refuse,	0 },
};

/*
 * sess_rcpt_limit - limits.max_recipients: the reply to one RCPT more
 * when sent were relayed in this transaction; NULL while under it.
 */
const char *
sess_rcpt_limit(const struct config *cfg, int sent)
{
	if (sent >= cfg->limits.max_recipients)
		return "452 4.5.3 Error: too many recipients";
	return NULL;
}

/*
 * sess_auth_tls - auth.require_tls: the reply to AUTH while TLS is not
 * up (tls_up 0); NULL when AUTH may go on.
 */
const char *
sess_auth_tls(const struct config *cfg, int tls_up)
{
	if (cfg->auth.require_tls && !tls_up)
		return "538 5.7.11 Encryption required for requested "
		    "authentication mechanism";
	return NULL;
}

/*
 * sess_auth_need_identity - does a control depend on who logged in?
 * hijack.enabled (counts per identity), auth.match_envelope and
 * auth.match_from_header (compare it with the sender), auth.add_header
 * (writes it into the message). Then only the mechanisms whose
 * identity mxshield reads (sasl_mech_known()) may be offered in the
 * EHLO AUTH list and used; AUTH with another gets 504 5.5.4. The
 * controls that ask only whether the client logged in
 * (require_for_local_senders, ip_shield, relay_protection, submission
 * listeners) take an unread identity for none: they fail closed.
 */
int
sess_auth_need_identity(const struct config *cfg)
{
	return cfg->hijack.enabled || cfg->auth.match_envelope ||
	    cfg->auth.match_from_header || cfg->auth.add_header;
}

static const char *
syntax_reply(enum cmd_verb verb, enum cmd_rc rc)
{
	const char *text;

	switch (rc) {
	case CMD_E_EMPTY:
		text = "500 5.5.2 Error: bad syntax";
		break;
	case CMD_E_PATH:
		text = verb == CMD_MAIL ?
		    "501 5.1.7 Bad sender address syntax" :
		    "501 5.1.3 Bad recipient address syntax";
		break;
	case CMD_E_PARAM:
		text = "501 5.5.4 Invalid parameter";
		break;
	case CMD_E_HELO:
		text = verb == CMD_HELO ? "501 5.5.2 Syntax: HELO hostname" :
		    "501 5.5.2 Syntax: EHLO hostname";
		break;
	default:
		switch (verb) {
		case CMD_HELO:
			text = "501 5.5.4 Syntax: HELO hostname";
			break;
		case CMD_EHLO:
			text = "501 5.5.4 Syntax: EHLO hostname";
			break;
		case CMD_MAIL:
			text = "501 5.5.4 Syntax: MAIL FROM:<address>";
			break;
		case CMD_RCPT:
			text = "501 5.5.4 Syntax: RCPT TO:<address>";
			break;
		default:
			text = "501 5.5.4 Syntax error in parameters";
			break;
		}
	}
	return text;
}

/*
 * sess_parse_line - parse one command line (CRLF removed) into *c.
 * NULL when the command goes on to its handler; else mxshield's own
 * reply: a syntax error, or a line over limits.max_command_line (AUTH
 * lines have limits.max_auth_line, applied while reading). c->verb is
 * set either way. Shared with the dry run.
 */
const char *
sess_parse_line(const struct config *cfg, const char *line, size_t len,
    struct smtp_cmd *c)
{
	enum cmd_rc rc;

	rc = cmd_parse(line, len, c);
	if (rc != CMD_OK)
		return syntax_reply(c->verb, rc);
	if (len + 2 > (size_t)cfg->limits.max_command_line &&
	    c->verb != CMD_AUTH)
		return "500 5.5.2 Error: line too long";
	return NULL;
}

static void
dispatch(struct session *s, const char *line, size_t len)
{
	struct smtp_cmd c;
	const char *text;
	size_t i;

	if ((text = sess_parse_line(s->cfg, line, len, &c)) != NULL) {
		sess_reply_now(s, c.verb, text);
		return;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].verb == c.verb)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		do_refuse(s, &c, line, len);
		return;
	}
	if (commands[i].flags & C_JUNK) {
		if (++s->junk > s->cfg->limits.max_junk_commands) {
			sess_hang_up(s, "421 4.7.0 Too many commands, closing "
			    "connection", "too many junk commands");
			return;
		}
	}
	commands[i].fn(s, &c, line, len);
}

static void	auth_line(struct session *s, const char *line, size_t len);

void
sess_redo_line(struct session *s, const char *line, size_t len)
{
	/* a line inside an AUTH exchange waited (hijack.store = "redis") */
	if (s->phase == PH_AUTH)
		auth_line(s, line, len);
	else
		dispatch(s, line, len);
}

/* sess_auth_forget - no identity any more (STARTTLS, a failed AUTH). */
void
sess_auth_forget(struct session *s)
{
	free(s->auth_id);
	free(s->auth_cand);
	s->auth_id = s->auth_cand = NULL;
	s->pc.auth_id = NULL;
	memset(&s->sasl, 0, sizeof(s->sasl));
}

/*
 * auth_observe - read the identity the client claims from the AUTH
 * argument (first) or a response line; it is kept as a candidate until
 * the backend's 235. The decoded text is wiped at once: a password
 * never stays in memory or reaches a log.
 */
static enum sasl_rc
auth_observe(struct session *s, int first, const char *p, size_t n)
{
	struct sasl_result res;
	enum sasl_rc rc;
	size_t cap = n / 4 * 3 + 4;
	char *buf = malloc(cap);

	if (buf == NULL)
		return SASL_NOSPACE;
	if (first) {
		memset(&s->sasl, 0, sizeof(s->sasl));
		rc = sasl_start(&s->sasl, p, n, buf, cap, &res);
	} else {
		rc = sasl_response(&s->sasl, p, n, buf, cap, &res);
	}
	if (rc == SASL_IDENTITY) {
		free(s->auth_cand);
		s->auth_cand = mxs_memdup(res.identity.p, res.identity.len);
	}
	s->sasl_cancel = (rc == SASL_BAD_BASE64 || rc == SASL_NOSPACE) &&
	    res.cancel_backend;
	sasl_wipe(buf, cap);
	free(buf);
	return rc;
}

/*
 * auth_refuse - end an AUTH exchange with our own reply: the line is
 * not relayed, and with cancel the backend's half of the exchange gets
 * "*" (RFC 4954 4), its answer swallowed.
 */
static void
auth_refuse(struct session *s, const char *text, int cancel)
{
	sess_reply_now(s, CMD_AUTH, text);
	sess_enter(s, PH_COMMAND);
	free(s->auth_cand);
	s->auth_cand = NULL;
	memset(&s->sasl, 0, sizeof(s->sasl));
	if (cancel && s->backend != NULL)
		backend_auth_cancel(s->backend);
}

/* A line inside an AUTH exchange: relayed as it is, never logged. */
static void
auth_line(struct session *s, const char *line, size_t len)
{
	struct pending *p;
	struct sasl_state was = s->sasl;
	enum hijack_rc hj;
	enum sasl_rc rc;

	switch ((rc = auth_observe(s, 0, line, len))) {
	case SASL_BAD_BASE64:
	case SASL_NOSPACE:
		/* never relayed: the client hears 501, and the exchange at
		 * the backend is cancelled with "*", its answer swallowed */
		auth_refuse(s, "501 5.5.2 Invalid base64 data",
		    s->sasl_cancel);
		return;
	default:
		if (s->auth_cand != NULL && rc == SASL_IDENTITY &&
		    hjstore_wait(s, CMD_AUTH, line, len, s->auth_cand, -1)) {
			/* read again once the answer is in: from where the
			 * exchange was before this line */
			s->sasl = was;
			return;
		}
		if (s->auth_cand != NULL && (hj = hjstore_auth(s)) !=
		    HIJACK_OK) {
			struct policy_verdict v;

			hjstore_verdict(&v, POLICY_AT_AUTH, s->auth_cand, hj);
			if (!pol_enforce(s, &v)) {
				pol_log(s, &v, 0);
				break;
			}
			pol_log(s, &v, 1);
			auth_refuse(s, v.text, 1);
			return;
		}
		break;
	}
	p = relay(s, CMD_AUTH, line, len);
	if (p != NULL)
		s->barrier = p;
}

/*
 * transcript - log.transcript: one line per command and per reply. AUTH
 * arguments and responses are never written, only the mechanism.
 */
void
sess_transcript(struct session *s, const char *dir, const char *p, size_t n)
{
	struct logline l;

	if (!s->cfg->log.transcript)
		return;
	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	log_begin(&l, "transcript");
	log_hex64(&l, "sid", s->id);
	log_cstr(&l, "dir", dir);
	log_str(&l, "line", p, n);
	log_end(&l);
}

static void
transcript_cmd(struct session *s, const char *p, size_t n)
{
	if (!s->cfg->log.transcript)
		return;
	if (s->phase == PH_AUTH) {
		sess_transcript(s, "client", "(AUTH response not logged)", 26);
		return;
	}
	if (n >= 5 && strncasecmp(p, "AUTH ", 5) == 0) {
		size_t m = 5;

		while (m < n && p[m] != ' ')
			m++;
		sess_transcript(s, "client", p, m);	/* "AUTH PLAIN", no data */
		return;
	}
	sess_transcript(s, "client", p, n);
}

/*
 * last_in_group - the verb of line must be the last command of a
 * pipelined group (RFC 2920 3.1: EHLO, DATA, VRFY, EXPN, NOOP; HELO as
 * EHLO's older form; after QUIT nothing is read anyway). Returns its
 * name, or NULL.
 */
static const char *
last_in_group(const char *line, size_t len)
{
	static const char *const last[] = {
		"EHLO", "HELO", "DATA", "VRFY", "EXPN", "NOOP",
	};

	if (len < 4 || (len > 4 && line[4] != ' '))
		return NULL;
	for (size_t i = 0; i < sizeof(last) / sizeof(last[0]); i++)
		if (strncasecmp(line, last[i], 4) == 0)
			return last[i];
	return NULL;
}

/*
 * pipelining_refused - limits.forbid_unauth_pipelining: the command
 * line that ends at p[used] was followed, in what the client had sent
 * before it could see the reply, by more bytes (p[used..len)), where
 * RFC 2920 forbids it: after a command that must end a group, or after
 * any command while the client was not offered PIPELINING (no EHLO yet,
 * HELO, an EHLO reply without it). Postfix 3.9 decides the same on
 * what it has read when it takes a command. One comparison per command
 * line, nothing per message byte. Returns 1 when the session is ending.
 */
static int
pipelining_refused(struct session *s, enum cmd_line_rc rc,
    const struct span *line, const char *p, size_t used, size_t len)
{
	const char *verb;
	char why[96];

	if (used >= len || !s->cfg->limits.forbid_unauth_pipelining ||
	    s->phase != PH_COMMAND)
		return 0;
	verb = rc == LINE_OK ? last_in_group(line->p, line->len) : NULL;
	if (verb != NULL && strcmp(verb, "DATA") == 0)
		snprintf(why, sizeof(why), "message content sent with DATA "
		    "before the 354");
	else if (verb != NULL)
		snprintf(why, sizeof(why), "commands sent after %s before "
		    "its reply", verb);
	else if (!(s->flags & SF_PIPELINING))
		snprintf(why, sizeof(why), "commands pipelined while "
		    "PIPELINING was not offered");
	else
		return 0;
	sess_sync_error(s, why, p + used, len - used);
	return 1;
}

/* One command line (or a refused one) from p; returns bytes used. */
size_t
sess_command_input(struct session *s, const char *p, size_t len)
{
	enum cmd_line_rc rc;
	struct span line;
	const char *text;
	size_t n, limit;

	/* an over-long line is answered after its end: remember now, while
	 * its start is still here, whether it was part of AUTH */
	if (!s->lscan.discarding) {
		s->flags &= ~SF_LONG_AUTH;
		if (s->phase == PH_AUTH ||
		    (len >= 5 && strncasecmp(p, "AUTH ", 5) == 0))
			s->flags |= SF_LONG_AUTH;
	}
	limit = (size_t)s->cfg->limits.max_auth_line;
	if ((size_t)s->cfg->limits.max_command_line > limit)
		limit = (size_t)s->cfg->limits.max_command_line;
	n = cmd_scan_line(&s->lscan, p, len, limit, &rc, &line);
	if (rc == LINE_NEED_MORE)
		return n;
	sess_set_timer(s);
	if (pipelining_refused(s, rc, &line, p, n, len))
		return n;
	/* inside an AUTH exchange a refused line ends the exchange: the
	 * client hears our one reply, the backend's half is cancelled with
	 * "*" and its answer swallowed (RFC 4954 4) */
	switch (rc) {
	case LINE_TOO_LONG:
		text = (s->flags & SF_LONG_AUTH) ?
		    "500 5.5.6 Authentication exchange line is too long" :
		    "500 5.5.2 Error: line too long";
		break;
	case LINE_BARE_LF:
	case LINE_BARE_CR:
		text = "500 5.5.2 Error: bare <CR> or <LF> in command line";
		break;
	case LINE_NUL:
		text = "500 5.5.2 Error: NUL in command line";
		break;
	default:
		text = NULL;
		break;
	}
	if (text != NULL) {
		if (s->phase == PH_AUTH)
			auth_refuse(s, text, 1);
		else
			sess_reply_now(s, CMD_UNKNOWN, text);
		return n;
	}
	switch (rc) {
	default:
		transcript_cmd(s, line.p, line.len);
		if (s->phase == PH_AUTH)
			auth_line(s, line.p, line.len);
		else
			dispatch(s, line.p, line.len);
		break;
	}
	return n;
}
