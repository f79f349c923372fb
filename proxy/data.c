/*
 * proxy/data.c - the DATA phase (DESIGN.md "DATA", "Line endings"):
 * mxshield's own 354, the held header section, the backend's DATA, the
 * streamed body, and the reply after the client's final dot. The client
 * bytes go through core/dscan only; the backend never receives a bare
 * CR or LF, and never a final dot for a message we refused. The header
 * section goes out edited in one pass (core/hdr_edit.c): our trace and
 * identity lines, the spoof score (proxy/spoofw.c), Received-SPF
 * (proxy/spfw.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/esc.h"
#include "core/hdr.h"
#include "core/hdr_edit.h"
#include "core/mime_append.h"
#include "core/received.h"
#include "proxy/accept.h"
#include "proxy/backend.h"
#include "proxy/data.h"
#include "proxy/dnschk.h"
#include "proxy/gen.h"
#include "proxy/log.h"
#include "proxy/metrics.h"
#include "proxy/pol.h"
#include "proxy/server.h"
#include "proxy/session.h"
#include "proxy/spfw.h"
#include "proxy/spoofw.h"
#include "proxy/txn.h"

void
data_hold_free(struct session *s)
{
	free(s->hold);
	s->hold = NULL;
	if (s->hold_cap > 0)
		srv_unhold(s->w->srv, s->hold_cap);
	s->hold_len = s->hold_cap = 0;
}

/* The sticky error of this message: the reply after the final dot, and
 * why, in words, for the log's "protocol" verdict. */
static void
set_error(struct session *s, int code, const char *text, const char *why)
{
	if (s->txn.error != NULL)
		return;
	s->txn.error = strdup(text);
	s->txn.error_code = code;
	s->txn.error_why = strdup(why != NULL ? why : "");
}

static void
set_error_header_size(struct session *s)
{
	char why[POLICY_REASON_MAX];

	snprintf(why, sizeof(why), "header section longer than "
	    "limits.max_header_bytes (%d octets)",
	    s->cfg->limits.max_header_bytes);
	set_error(s, 552, "552 5.3.4 Message header section too big", why);
}

static void data_begin(struct session *s);

/*
 * size_check - size_limits on the octets counted so far (after dot-
 * unstuffing, without our own Received: line): the first time they
 * pass the message's limit, the verdict is noted for the log and, when
 * enforced, becomes the sticky 552 5.3.4; the caller then drops the
 * rest (RSET while the header section is held, the backend leg once
 * the body streams). In monitor mode the message goes on.
 */
static void
size_check(struct session *s)
{
	struct policy_verdict v;
	int enforced;

	if (s->txn.size_max == 0 || s->txn.size_seen ||
	    s->txn.error != NULL || s->dscan.out_bytes <= s->txn.size_max)
		return;
	s->txn.size_seen = 1;
	if (policy_size_data(s->gen->pol, &s->pc, s->txn.mail_from,
	    s->txn.rcpts, s->txn.nrcpts, s->dscan.out_bytes, &v) !=
	    POLICY_REJECT)
		return;
	enforced = pol_enforce(s, &v);
	pol_note(s, &v, enforced);
	if (!enforced)
		return;
	set_error(s, v.code, v.text, v.reason);
	s->txn.error_noted = 1;
}

/*
 * data_decide - the reply to DATA, once every earlier reply is known:
 * 354 only when the backend accepted MAIL and at least one RCPT (RFC
 * 2920 3.1: the answer the server would give), 451 when the header
 * sections held by all sessions reach limits.max_held_bytes.
 */
void
data_decide(struct session *s, struct pending *p)
{
	if (!s->txn.mail_ok) {
		sess_local(s, p, "503 5.5.1 Error: need MAIL command");
	} else if (s->txn.rcpt_ok == 0 && s->txn.rcpt_sent +
	    s->txn.rcpt_refused > 0) {
		/* RCPTs were given, every one refused: as Postfix says */
		sess_local(s, p, "554 5.5.1 Error: no valid recipients");
	} else if (s->txn.rcpt_ok == 0) {
		sess_local(s, p, "503 5.5.1 Error: need RCPT command");
	} else if (srv_held_over(s->w->srv)) {
		log_sid(CFG_LOG_WARN, "limit", s->id,
		    "limits.max_held_bytes reached, DATA deferred");
		sess_local(s, p, "451 4.3.1 Insufficient system resources, "
		    "try again later");
	} else {
		sess_local(s, p, "354 End data with <CR><LF>.<CR><LF>");
		data_begin(s);
	}
}

static void
data_begin(struct session *s)
{
	sess_enter(s, PH_DATA_HOLD);
	s->flags &= ~(SF_DATA_DONE | SF_ABORTED);
	dscan_init(&s->dscan, s->cfg->limits.bare_lf == CFG_BARE_NORMALIZE ?
	    DSCAN_NORMALIZE : DSCAN_REJECT);
	snprintf(s->txn.where, sizeof(s->txn.where), "data");
	/* every RCPT's reply is known by now (data_decide) */
	s->txn.size_max = policy_size_limit(s->gen->pol, &s->pc,
	    s->txn.mail_from, s->txn.rcpts, s->txn.nrcpts, NULL);
	s->txn.size_seen = 0;
}

static void
emit_hold(void *ctx, const char *p, size_t n)
{
	struct session *s = ctx;
	size_t max = (size_t)s->cfg->limits.max_header_bytes + HOLD_SLACK;
	size_t want;
	char *nb;

	if (s->txn.error != NULL)
		return;
	if (s->hold_len + n > max) {
		set_error_header_size(s);
		return;
	}
	if (s->hold_len + n > s->hold_cap) {
		want = s->hold_cap ? s->hold_cap * 2 : 4096;
		while (want < s->hold_len + n)
			want *= 2;
		if (want > max)
			want = max;
		if (srv_hold(s->w->srv, want - s->hold_cap) < 0) {
			srv_unhold(s->w->srv, want - s->hold_cap);
			set_error(s, 451, "451 4.3.1 Insufficient system "
			    "resources, try again later", "header sections held "
			    "by all sessions reached limits.max_held_bytes");
			return;
		}
		nb = realloc(s->hold, want);
		if (nb == NULL) {
			set_error(s, 451, "451 4.3.0 Out of memory", "out of "
			    "memory while holding the header section");
			return;
		}
		s->hold = nb;
		s->hold_cap = want;
	}
	memcpy(s->hold + s->hold_len, p, n);
	s->hold_len += n;
}

static void
emit_body(void *ctx, const char *p, size_t n)
{
	struct session *s = ctx;

	if (s->backend != NULL)
		backend_body(s->backend, p, n);
}

/*
 * emit_out - body bytes on their way out: through core/mime_append when
 * the spoof warning is being appended (its output through emit_body),
 * else straight to the backend.
 */
static void
emit_out(void *ctx, const char *p, size_t n)
{
	struct session *s = ctx;

	if (s->txn.ma != NULL)
		ma_feed(s->txn.ma, p, n, emit_body, s);
	else
		emit_body(s, p, n);
}

static void
emit_none(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
}

/*
 * data_scan_error - the reply a message gets for what the scanner saw
 * so far: a NUL (550 5.6.0), a bare CR or LF in reject mode (550
 * 5.5.2), or a header section over max_header_bytes (552 5.3.4; held:
 * the bytes of it held so far, while its end is unknown). NULL: none
 * yet. Asked after every step of the scanner (at most HOLD_CHUNK bytes
 * while the header section is held); the first answer sticks. Shared
 * with the dry run. Sets *code with the reply and why (cap bytes) with
 * the reason in words, for the log's "protocol" verdict.
 */
const char *
data_scan_error(const struct dscan *d, uint64_t held, int max_header_bytes,
    int *code, char *why, size_t cap)
{
	uint64_t max = (uint64_t)max_header_bytes;

	*code = 0;
	if (d->err & DSCAN_E_NUL) {
		*code = 550;
		snprintf(why, cap, "NUL octet in the message");
		return "550 5.6.0 NUL character in message";
	}
	if (d->err & DSCAN_E_BARE) {
		*code = 550;
		snprintf(why, cap, "bare CR or LF in the message (SMTP "
		    "smuggling; limits.bare_lf = \"reject\")");
		return "550 5.5.2 Bare <CR> or <LF> in message not allowed";
	}
	if ((d->hdr_end == DSCAN_HDR_UNKNOWN && held > max) ||
	    (d->hdr_end != DSCAN_HDR_UNKNOWN && d->hdr_end > max)) {
		*code = 552;
		snprintf(why, cap, "header section longer than "
		    "limits.max_header_bytes (%d octets)", max_header_bytes);
		return "552 5.3.4 Message header section too big";
	}
	return NULL;
}

/* Turn the scanner's findings into this message's sticky reply. */
static void
scan_errors(struct session *s)
{
	char why[POLICY_REASON_MAX];
	const char *e;
	int code;

	e = data_scan_error(&s->dscan, s->hold_len,
	    s->cfg->limits.max_header_bytes, &code, why, sizeof(why));
	if (e != NULL)
		set_error(s, code, e, why);
}

/* The final reply for a message we refused; the session goes on. */
static void
finish_error(struct session *s)
{
	struct pending *p;
	int auth_abort = (s->flags & SF_ABORTED) && (s->flags & SF_AUTH);

	s->txn.size = s->dscan.out_bytes;
	p = sess_push(s, PK_FINAL, CMD_DATA);
	if (p == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	sess_local(s, p, s->txn.error);
	sess_txn_log(s, &s->txn, "rejected", NULL, 0);
	data_hold_free(s);
	if (!(s->flags & SF_ABORTED) && s->backend != NULL) {
		/* the backend holds MAIL/RCPT but never saw DATA */
		backend_reset(s->backend);
	}
	sess_txn_reset(s);
	sess_enter(s, PH_COMMAND);
	s->flags &= ~SF_ABORTED;
	if (auth_abort) {
		/* the password is never kept: this session cannot be
		 * replayed on a fresh backend connection */
		struct pending *q = sess_push(s, PK_LOCAL, CMD_QUIT);

		if (q == NULL) {
			sess_close(s, "out of memory");
			return;
		}
		sess_local(s, q, "421 4.7.0 Closing connection after rejected "
		    "message");
		q->close_after = 1;
		sess_set_reason(s, "rejected mid-DATA in an authenticated "
		    "session");
		sess_enter(s, PH_QUIT);
	}
}

/* More words for the spoof verdict's reason: where the warning went. */
static void
spoof_reason_add(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
spoof_reason_add(struct session *s, const char *fmt, ...)
{
	struct policy_verdict *v;
	size_t n;
	va_list ap;

	if (s->txn.spoof_vidx == 0 || s->txn.spoof_vidx > s->txn.nverdicts)
		return;
	v = &s->txn.verdicts[s->txn.spoof_vidx - 1].v;
	n = strlen(v->reason);
	va_start(ap, fmt);
	vsnprintf(v->reason + n, sizeof(v->reason) - n, fmt, ap);
	va_end(ap);
}

/*
 * append_end - the end of the body: core/mime_append flushes what it
 * held and appends the warning where it is still due; the outcome goes
 * into the spoof verdict's reason. Frees the appender. May end the
 * session (a write failure).
 */
static void
append_end(struct session *s)
{
	enum ma_outcome o;

	if (s->txn.ma == NULL)
		return;
	o = ma_finish(s->txn.ma, emit_body, s);
	if (o == MA_APPENDED)
		spoof_reason_add(s, "; appended to %u part(s)",
		    ma_parts(s->txn.ma));
	else
		spoof_reason_add(s, "; not appended: %s", ma_outcome_text(o));
	free(s->txn.ma);
	s->txn.ma = NULL;
}

/* The message went to the backend whole: wait for its final reply. */
static void
finish_ok(struct session *s)
{
	struct pending *p;

	if (s->backend == NULL || s->phase != PH_DATA_BODY)
		return;		/* the leg failed while the body went out */
	append_end(s);
	if (s->backend == NULL || s->phase != PH_DATA_BODY)
		return;		/* it failed on the warning's bytes */
	s->txn.size = s->dscan.out_bytes;
	p = sess_push(s, PK_FINAL, CMD_DATA);
	if (p == NULL || (p->txn = malloc(sizeof(*p->txn))) == NULL) {
		sess_close(s, "out of memory");
		return;
	}
	/* the transaction is over for the client; its log line waits
	 * for the backend's reply, in the pending entry */
	*p->txn = s->txn;
	memset(&s->txn, 0, sizeof(s->txn));
	sess_enter(s, PH_COMMAND);
	/* last: a write failure here ends the session at once */
	backend_end(s->backend);
}

/* A refusal heard by pol_from_header(): into the transaction's verdicts. */
static void
on_header_verdict(void *arg, const struct policy_verdict *v, int enforced)
{
	pol_note(arg, v, enforced);
}

/*
 * header_policy - the checks of the held header section (the From:
 * header). An enforced refusal becomes the message's sticky reply,
 * given after the final dot; its verdict is already noted. Returns 1
 * when refused.
 */
static int
header_policy(struct session *s, size_t hlen)
{
	struct policy_verdict v;

	if (!pol_from_header(s->cfg, s->gen->pol, &s->pc, s->hold, hlen,
	    on_header_verdict, s, &v))
		return 0;
	set_error(s, v.code, v.text, v.reason);
	s->txn.error_noted = 1;
	return 1;
}

/*
 * spoof_policy - the spoof score of the held header section, once the
 * From: checks let it pass: its verdict always joins the transaction's
 * verdicts (pass, tag, reject, or monitor); what the message gets is
 * kept in txn.spoof for data_go(). An enforced reject becomes the
 * message's sticky reply. Returns 1 when refused.
 */
static int
spoof_policy(struct session *s, size_t hlen)
{
	struct spoofw *sw = &s->txn.spoof;
	struct policy_verdict v;
	size_t before = s->txn.nverdicts;

	spoofw_decide(s->cfg, s->gen->pol, &s->pc, s->txn.mail_from,
	    s->txn.mail_route, s->txn.spf, s->hold, hlen, sw, &v);
	if (sw->what == SPOOFW_OFF)
		return 0;
	metrics_spoof(s->w->mx, sw->score);
	pol_note(s, &v, sw->enforced);
	if (s->txn.nverdicts > before)
		s->txn.spoof_vidx = s->txn.nverdicts;
	if (sw->what != SPOOFW_REJECT)
		return 0;
	set_error(s, v.code, v.text, v.reason);
	s->txn.error_noted = 1;
	return 1;
}

/*
 * The header section is complete: decide on it, then ask the backend
 * for DATA. A refusal here reaches the backend only as RSET (after the
 * final dot, finish_error()): it never saw DATA.
 */
static void
header_complete(struct session *s)
{
	size_t hlen = s->dscan.hdr_end == DSCAN_HDR_UNKNOWN ? s->hold_len :
	    (size_t)s->dscan.hdr_end;

	if (hlen > s->hold_len)
		hlen = s->hold_len;
	hdr_message_id(s->hold, hlen, s->txn.message_id,
	    sizeof(s->txn.message_id));
	if (header_policy(s, hlen) || spoof_policy(s, hlen)) {
		data_hold_free(s);
		if (s->flags & SF_DATA_DONE)
			finish_error(s);
		else
			sess_enter(s, PH_DATA_DISCARD);
		return;
	}
	sess_enter(s, PH_DATA_WAIT);
	backend_data_begin(s->backend);
}

static size_t
hold_input(struct session *s, const char *p, size_t n)
{
	size_t used;
	int done = 0;

	used = dscan_feed(&s->dscan, p, n < HOLD_CHUNK ? n : HOLD_CHUNK,
	    emit_hold, s, &done);
	if (done)
		s->flags |= SF_DATA_DONE;
	scan_errors(s);
	size_check(s);
	if (s->txn.error != NULL) {
		data_hold_free(s);
		if (done)
			finish_error(s);
		else
			sess_enter(s, PH_DATA_DISCARD);
		return used;
	}
	if (done || s->dscan.hdr_end != DSCAN_HDR_UNKNOWN)
		header_complete(s);
	return used;
}

/*
 * abort_leg - refuse the message in the middle of its body: the backend
 * leg closes without a final dot, so the backend discards the partial
 * message (DESIGN.md "Rejecting in the middle of the body"), and a
 * fresh one is opened unless the session authenticated (the password
 * is never kept: it cannot be replayed).
 */
static void
abort_leg(struct session *s, const char *reason)
{
	char why[200];

	if (s->backend == NULL)
		return;
	log_sid_client(CFG_LOG_INFO, "backend", s->id, s->ip, "dropping "
	    "backend leg mid-DATA: %s",
	    reason);
	backend_close(s->backend);
	s->backend = NULL;
	s->flags |= SF_ABORTED;
	if (s->flags & SF_AUTH)
		return;
	snprintf(why, sizeof(why), "message refused mid-DATA");
	sess_backend_replace(s, why);
}

static size_t
body_input(struct session *s, const char *p, size_t n)
{
	size_t used;
	int done = 0;

	used = dscan_feed(&s->dscan, p, n, emit_out, s, &done);
	if (done)
		s->flags |= SF_DATA_DONE;
	scan_errors(s);
	size_check(s);
	if (s->txn.error != NULL) {
		abort_leg(s, s->txn.error);
		if (s->phase == PH_CLOSED)
			return used;
		if (done)
			finish_error(s);
		else
			sess_enter(s, PH_DATA_DISCARD);
		return used;
	}
	if (done)
		finish_ok(s);
	return used;
}

/*
 * data_input - message bytes from the client, in the DATA phases.
 * Returns the bytes consumed; after the final dot the rest is left for
 * the command parser. May close the session.
 */
size_t
data_input(struct session *s, const char *p, size_t n)
{
	uint64_t lines = s->dscan.lines;
	size_t used = 0;
	int done = 0;

	switch (s->phase) {
	case PH_DATA_HOLD:
		used = hold_input(s, p, n);
		break;
	case PH_DATA_BODY:
		used = body_input(s, p, n);
		break;
	case PH_DATA_DISCARD:
		used = dscan_feed(&s->dscan, p, n, emit_none, s, &done);
		if (done)
			finish_error(s);
		break;
	default:
		break;
	}
	/* data_timeout runs from the last line, not the last byte */
	if (s->phase != PH_CLOSED && s->dscan.lines != lines)
		sess_set_timer(s);
	return used;
}

/*
 * append_begin - spoof.action = "append" at or above the threshold: the
 * body will stream through core/mime_append (txn.ma, owned; freed at
 * the end of the body, or with the transaction on any other path). A
 * signed message is never changed: headers only, said in the log.
 */
static void
append_begin(struct session *s, size_t hlen)
{
	struct mime_append *ma;

	if (!spoofw_appends(s->cfg, &s->txn.spoof))
		return;
	if ((ma = malloc(ma_size())) == NULL) {
		spoof_reason_add(s, "; not appended: out of memory");
		return;
	}
	if (ma_init(ma, s->hold != NULL ? s->hold : "", hlen,
	    s->cfg->spoof.warning_text, s->cfg->spoof.warning_len) ==
	    MA_SIGNED) {
		free(ma);
		spoof_reason_add(s, "; signed message: warning in the header "
		    "only");
		return;
	}
	s->txn.ma = ma;
}

/* The length of the header fields in the held bytes. */
static size_t
held_header_len(const struct session *s)
{
	size_t hlen = s->dscan.hdr_end == DSCAN_HDR_UNKNOWN ? s->hold_len :
	    (size_t)s->dscan.hdr_end;

	return hlen > s->hold_len ? s->hold_len : hlen;
}

/* SPF is on and not in monitor mode: its field is ours to write. */
static int
spf_enforced(const struct session *s)
{
	return s->cfg->spf.enabled && s->cfg->spf.mode != CFG_MODE_MONITOR;
}

/*
 * put_header - the held section goes out in one pass (core/hdr_edit.c):
 * fields only mxshield may write are removed whatever the client wrote
 * (X-Authenticated-Sender with auth.add_header; X-Spoof-Score and
 * X-Spoof-Flag while the spoof score is carried out; Received-SPF
 * while SPF is, from clients outside trusted_networks), ours go first,
 * and the Subject gets spoof.subject_prefix when the verdict says so.
 * Then the held bytes after the header fields. May end the session (a
 * write failure): the caller checks.
 */
static void
put_header(struct session *s)
{
	const char *strip[4];
	char lines[1024];
	size_t hlen = held_header_len(s), n = 0;
	struct hdr_edit e;
	const struct spoofw *sw = &s->txn.spoof;

	memset(&e, 0, sizeof(e));
	if (s->cfg->auth.add_header) {
		strip[e.nstrip++] = "X-Authenticated-Sender";
		if ((s->flags & SF_AUTH) && s->auth_id != NULL) {
			char id[300];
			int k;

			esc_printable(id, sizeof(id), s->auth_id,
			    strlen(s->auth_id));
			k = snprintf(lines, sizeof(lines), "X-Authenticated-"
			    "Sender: %s\r\n", id);
			if (k > 0 && (size_t)k < sizeof(lines))
				n = (size_t)k;
		}
	}
	if (sw->what == SPOOFW_SCORE || sw->what == SPOOFW_TAG) {
		strip[e.nstrip++] = spoofw_fields[0];
		strip[e.nstrip++] = spoofw_fields[1];
		n += spoofw_lines(sw, lines + n, sizeof(lines) - n);
		e.subject_prefix = spoofw_subject(s->cfg, sw);
	}
	if (spf_enforced(s) && !s->pc.trusted)
		strip[e.nstrip++] = spfw_field;
	e.strip = strip;
	e.prepend = lines;
	e.prepend_len = n;
	append_begin(s, hlen);
	/* an empty message holds nothing (s->hold NULL) */
	hdr_edit(s->hold != NULL ? s->hold : "", hlen, &e, emit_body, s);
	if (s->hold_len > hlen)
		emit_out(s, s->hold + hlen, s->hold_len - hlen);
}

/*
 * data_go - the backend answered our DATA. 354: the header section goes
 * out (after our Received: line) and the body follows. Anything else (a
 * refusal; the backend leg turned any other code into 451 4.4.2): the
 * client gets it after its final dot, and the message is never
 * acknowledged. A write failure on the way ends the session inside a
 * call here: every step checks before it goes on.
 */
void
data_go(struct session *s, int code, const char *r, size_t n)
{
	if (code != 354) {
		char *e = malloc(n + 1);
		size_t el = n;

		data_hold_free(s);
		if (e == NULL) {
			sess_close(s, "out of memory");
			return;
		}
		while (el > 0 && (r[el - 1] == '\n' || r[el - 1] == '\r'))
			el--;
		memcpy(e, r, el);
		e[el] = '\0';
		free(s->txn.error);
		s->txn.error = e;
		s->txn.error_noted = 0;
		s->txn.error_code = code;
		free(s->txn.error_why);		/* the backend's, not ours */
		s->txn.error_why = NULL;
		if (s->flags & SF_DATA_DONE)
			finish_error(s);
		else
			sess_enter(s, PH_DATA_DISCARD);
		return;
	}
	/* a trace field, above our Received (RFC 7208 9.1) */
	if (spf_enforced(s) && s->txn.spf != NULL &&
	    s->txn.spf->header != NULL)
		backend_body(s->backend, s->txn.spf->header,
		    strlen(s->txn.spf->header));
	if (s->cfg->backend.client_info == CFG_CI_RECEIVED) {
		char rc[1024];
		struct rcvd_info ri = {
			.helo = s->helo,
			.helo_len = s->helo ? strlen(s->helo) : 0,
			.client_ip = s->ip,
			.client_name = dnschk_name(s),
			.hostname = s->cfg->hostname,
			.proto = rcvd_proto(s->ehlo, s->tls_info[0] != '\0',
			    (s->flags & SF_AUTH) != 0),
			.tls = s->tls_info[0] ? s->tls_info : NULL,
			.sid = s->id,
			.now = time(NULL),
		};
		size_t rl = rcvd_format(rc, sizeof(rc), &ri);

		if (rl > 0)
			backend_body(s->backend, rc, rl);
	}
	if (s->backend != NULL)
		put_header(s);
	data_hold_free(s);
	if (s->phase != PH_DATA_WAIT || s->backend == NULL)
		return;		/* the leg failed on the way: session ending */
	sess_enter(s, PH_DATA_BODY);
	if (s->flags & SF_DATA_DONE)
		finish_ok(s);
}
