/*
 * proxy/backend.c - the backend leg's state machine (drawn in
 * backend.h): mxshield's own dialogue with the backend (EHLO and
 * STARTTLS for backend.tls = "starttls", EHLO and XCLIENT for
 * backend.client_info = "xclient", the replayed HELO/EHLO of a
 * replacement leg, DATA, RSET, the AUTH "*"), one handler that checks
 * each reply against the codes its state allows and gives it to whom it
 * belongs, the leg's clock, and its failure. Input: validated replies
 * from backend_io.c, whose text is still untrusted.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/net.h"
#include "core/xtext.h"
#include "proxy/backend_int.h"
#include "proxy/log.h"

static const char *const bk_names[] = {
	"connect", "greeting", "tls-ehlo", "starttls", "handshake",
	"xclient-ehlo", "xclient", "replay", "ready", "data-wait", "body",
	"closed",
};

const char *
bk_state_name(enum bk_state st)
{
	return (size_t)st < sizeof(bk_names) / sizeof(bk_names[0]) ?
	    bk_names[st] : "?";
}

/* backend_enter - the one place the leg's state changes. */
void
bk_enter(struct backend *b, enum bk_state to)
{
	if (b->state == to)
		return;
	if (b->state == BK_CLOSED)
		mxs_panic("backend leg %016llx: %s after closed",
		    (unsigned long long)b->sid, bk_state_name(to));
	log_sid(CFG_LOG_DEBUG, "backend", b->sid, "backend %s -> %s",
	    bk_state_name(b->state), bk_state_name(to));
	b->state = to;
	bk_arm(b, 1);
}

/* ------------------------------------------------------------ timer */

static void
on_timer(uv_timer_t *t)
{
	struct backend *b = ((struct side *)t->data)->owner;

	if (!side_clock_due(t->data))
		return;		/* moved on, or stopped, since it was armed */
	switch (b->state) {
	case BK_CONNECT:
	case BK_GREETING:
		bk_fail(b, BK_DOWN, "backend greeting timeout "
		    "(backend.connect_timeout)");
		break;
	case BK_HANDSHAKE:
		bk_fail(b, BK_SLOW, "backend TLS handshake timeout");
		break;
	default:
		bk_fail(b, BK_SLOW, b->aw_n > 0 && b->aw[b->aw_head] == AW_FINAL ?
		    "backend reply timeout after the final dot "
		    "(backend.data_reply_timeout)" :
		    "backend reply timeout (backend.reply_timeout)");
		break;
	}
}

/*
 * arm - run the leg's clock while a reply is owed: the greeting within
 * connect_timeout, the handshake within tls.handshake_timeout, a reply
 * within reply_timeout, the reply to the final dot within
 * data_reply_timeout. restart: a reply came, the clock starts again.
 */
void
bk_arm(struct backend *b, int restart)
{
	const struct config *cfg = b->env.cfg;
	int secs;

	if (b->side.closing)
		return;
	switch (b->state) {
	case BK_CONNECT:
	case BK_GREETING:
		secs = cfg->backend.connect_timeout;
		break;
	case BK_HANDSHAKE:
		secs = cfg->tls.handshake_timeout;
		break;
	case BK_READY:
	case BK_BODY:
		if (b->aw_n == 0) {
			side_clock_stop(&b->side);
			return;
		}
		secs = b->aw[b->aw_head] == AW_FINAL ?
		    cfg->backend.data_reply_timeout :
		    cfg->backend.reply_timeout;
		break;
	case BK_CLOSED:
		side_clock_stop(&b->side);
		return;
	default:
		secs = cfg->backend.reply_timeout;
		break;
	}
	if (!restart && side_clock_running(&b->side))
		return;
	side_clock_set(&b->side, (uint64_t)secs * 1000, on_timer);
}

/* ------------------------------------------------------------ failure */

/*
 * fail - the leg cannot go on: it closes, and the owner hears text (the
 * 421 for every reply still owed to the client) and reason (the log).
 * The owner may be gone already (closed): then nothing is reported.
 */
void
bk_fail(struct backend *b, const char *text, const char *reason)
{
	const struct backend_cb *cb = b->cb;

	if (b->state == BK_CLOSED)
		return;
	log_sid_client(CFG_LOG_WARN, "backend", b->sid, b->ip, "%s", reason);
	bk_enter(b, BK_CLOSED);
	b->cb = NULL;
	bkname_cancel(b->nreq);		/* a connect timeout during the lookup */
	b->nreq = NULL;
	side_close(&b->side);
	if (cb != NULL)
		cb->failed(b->owner, text, reason);
}

/* ------------------------------------------------------------ setup */

static int
ehlo_has(const char *r, size_t n, const char *kw, const char **args,
    size_t *alen)
{
	size_t off = 0, kl = strlen(kw);

	while (off < n) {
		const char *lf = memchr(r + off, '\n', n - off);
		size_t l = lf ? (size_t)(lf - (r + off)) : n - off;
		size_t next = off + l + 1;

		if (l > 0 && r[off + l - 1] == '\r')
			l--;
		if (l >= 4 + kl && strncasecmp(r + off + 4, kw, kl) == 0 &&
		    (l == 4 + kl || r[off + 4 + kl] == ' ')) {
			if (args != NULL) {
				*args = l > 5 + kl ? r + off + 5 + kl : "";
				*alen = l > 5 + kl ? l - 5 - kl : 0;
			}
			return 1;
		}
		off = next;
	}
	return 0;
}

static int
has_attr(const char *a, size_t n, const char *name)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i + nl <= n; i++)
		if ((i == 0 || a[i - 1] == ' ') && strncasecmp(a + i, name,
		    nl) == 0 && (i + nl == n || a[i + nl] == ' '))
			return 1;
	return 0;
}

static void
send_own(struct backend *b, const char *line)
{
	bk_put(b, line, strlen(line));
	bk_put(b, "\r\n", 2);
}

void
bk_send_ehlo(struct backend *b, enum bk_state st)
{
	char ehlo[300];

	snprintf(ehlo, sizeof(ehlo), "EHLO %s", b->env.cfg->hostname);
	bk_enter(b, st);
	send_own(b, ehlo);
	backend_flush(b);
}

/*
 * go_ready - the leg is set up: a replacement replays the client's
 * HELO/EHLO (after XCLIENT where configured), then READY; what the
 * client sent meanwhile goes out, and the owner hears ready().
 */
void
bk_go_ready(struct backend *b)
{
	const struct backend_client *cl = b->cl;

	if (b->env.cfg->backend.client_info == CFG_CI_XCLIENT &&
	    !b->xclient_done && cl->helo_line != NULL && b->replacement &&
	    b->state != BK_REPLAY) {
		bk_send_ehlo(b, BK_XC_EHLO);
		return;
	}
	if (b->replacement && cl->helo_line != NULL && b->state != BK_REPLAY) {
		bk_enter(b, BK_REPLAY);
		send_own(b, cl->helo_line);
		backend_flush(b);
		return;
	}
	bk_enter(b, BK_READY);
	if (b->defer_len > 0) {
		b->t_aw = mxs_hrtime_us();	/* held lines go out now */
		bk_put(b, b->defer, b->defer_len);
		free(b->defer);
		b->defer = NULL;
		b->defer_len = 0;
		backend_flush(b);
	}
	bk_arm(b, 1);
	if (b->replacement) {
		b->replacement = 0;
		b->cb->ready(b->owner, 0, NULL, 0);
	} else if (b->greet != NULL) {
		char *g = b->greet;

		b->greet = NULL;
		b->cb->ready(b->owner, b->greet_code, g, b->greet_len);
		free(g);
	}
}

static void
send_xclient(struct backend *b, const char *attrs, size_t alen)
{
	const struct backend_client *cl = b->cl;
	char line[2048], val[800];
	size_t w;

	w = (size_t)snprintf(line, sizeof(line), "XCLIENT");
	if (has_attr(attrs, alen, "ADDR")) {
		char ip[64];

		net_addr_format(&cl->addr, ip, sizeof(ip));
		w += (size_t)snprintf(line + w, sizeof(line) - w, " ADDR=%s%s",
		    cl->addr.family == AF_INET6 ? "IPV6:" : "", ip);
	}
	if (has_attr(attrs, alen, "PORT"))
		w += (size_t)snprintf(line + w, sizeof(line) - w, " PORT=%d",
		    cl->port);
	if (has_attr(attrs, alen, "NAME")) {
		/* only a name DNS confirmed, checked as a host name */
		if (cl->name != NULL && xtext_encode(cl->name,
		    strlen(cl->name), val, sizeof(val)) > 0)
			w += (size_t)snprintf(line + w, sizeof(line) - w,
			    " NAME=%s", val);
		else
			w += (size_t)snprintf(line + w, sizeof(line) - w,
			    " NAME=[UNAVAILABLE]");
	}
	if (has_attr(attrs, alen, "HELO") && cl->helo != NULL) {
		size_t hl = strlen(cl->helo);

		if (hl > 255)
			hl = 255;
		if (xtext_encode(cl->helo, hl, val, sizeof(val)) > 0)
			w += (size_t)snprintf(line + w, sizeof(line) - w,
			    " HELO=%s", val);
	}
	if (has_attr(attrs, alen, "PROTO"))
		w += (size_t)snprintf(line + w, sizeof(line) - w, " PROTO=%s",
		    cl->ehlo ? "ESMTP" : "SMTP");
	if (w + 2 >= sizeof(line)) {
		bk_fail(b, BK_BROKEN, "XCLIENT line too long");
		return;
	}
	bk_enter(b, BK_XCLIENT);
	send_own(b, line);
	backend_flush(b);
}

/* The reply text without its last CRLF, for a log line. */
static void
log_refusal(struct backend *b, const char *what, const char *r, size_t n)
{
	while (n > 0 && (r[n - 1] == '\n' || r[n - 1] == '\r'))
		n--;
	log_sid(CFG_LOG_ERROR, "backend", b->sid, "the backend answered "
	    "%s with: %.*s", what,
	    (int)(n > 300 ? 300 : n), r);
}

/* ------------------------------------------------------------ replies */

/* A reply that belongs to the head of the awaited list. */
static void
on_awaited(struct backend *b, int code, const char *r, size_t n)
{
	metrics_reply(b->side.io->mx, b->aw[b->aw_head] == AW_FINAL ?
	    MX_R_FINAL : MX_R_COMMAND, b->t_aw);
	b->t_aw = mxs_hrtime_us();	/* the next one's, if pipelined */
	switch (bk_await_pop(b)) {
	case AW_CLIENT:
	case AW_FINAL:
		bk_arm(b, 1);
		b->cb->reply(b->owner, code, r, n);
		return;
	case AW_RSET:
		if (code / 100 != 2) {
			log_refusal(b, "RSET", r, n);
			bk_fail(b, BK_BROKEN, "backend refused RSET");
			return;
		}
		break;
	case AW_CANCEL:
		if (code / 100 != 4 && code / 100 != 5) {
			log_refusal(b, "an AUTH exchange cancelled with \"*\"",
			    r, n);
			bk_fail(b, BK_BROKEN, "backend did not refuse a "
			    "cancelled AUTH exchange");
			return;
		}
		break;
	}
	bk_arm(b, 1);
}

/*
 * on_reply - one complete, validated reply: what it means depends on
 * the state, and each state allows the codes listed here only.
 */
void
bk_on_reply(struct backend *b, int code, const char *r, size_t n)
{
	const char *attrs;
	size_t alen;

	switch (b->state) {
	case BK_GREETING:
		metrics_reply(b->side.io->mx, MX_R_GREETING, b->t_greet);
		if (code / 100 != 2) {
			if (b->replacement) {
				log_refusal(b, "a new connection", r, n);
				bk_fail(b, BK_BROKEN, "fresh backend refused us");
				return;
			}
			/* a refusal reaches the client as it is */
			bk_enter(b, BK_READY);
			b->cb->ready(b->owner, code, r, n);
			return;
		}
		if (!b->replacement) {
			b->greet = malloc(n);
			if (b->greet == NULL) {
				bk_fail(b, BK_BROKEN, "out of memory");
				return;
			}
			memcpy(b->greet, r, n);
			b->greet_len = n;
			b->greet_code = code;
		}
		if (b->env.cfg->backend.tls == CFG_TLS_STARTTLS &&
		    b->side.tls == NULL) {
			bk_send_ehlo(b, BK_TLS_EHLO);
			return;
		}
		bk_go_ready(b);
		return;
	case BK_TLS_EHLO:
		if (code != 250 || !ehlo_has(r, n, "STARTTLS", NULL, NULL)) {
			bk_fail(b, BK_NOTLS, "backend does not offer STARTTLS "
			    "(backend.tls = starttls)");
			return;
		}
		bk_enter(b, BK_STARTTLS);
		send_own(b, "STARTTLS");
		backend_flush(b);
		return;
	case BK_STARTTLS:
		if (code != 220) {
			log_refusal(b, "STARTTLS", r, n);
			bk_fail(b, BK_NOTLS, "backend refused STARTTLS");
			return;
		}
		bk_enter(b, BK_HANDSHAKE);
		if (b->env.tls == NULL ||
		    side_start_tls(&b->side, b->env.tls, 1) < 0)
			bk_fail(b, BK_NOTLS, "backend TLS could not start");
		return;
	case BK_XC_EHLO:
		if (code != 250 || !ehlo_has(r, n, "XCLIENT", &attrs, &alen)) {
			log_sid(CFG_LOG_ERROR, "backend", b->sid,
			    "backend.client_info = xclient, but the backend "
			    "does not offer XCLIENT to mxshield (Postfix: "
			    "smtpd_authorized_xclient_hosts)");
			bk_fail(b, BK_LOST, "backend does not offer XCLIENT");
			return;
		}
		send_xclient(b, attrs, alen);
		return;
	case BK_XCLIENT:
		if (code != 220) {
			log_sid(CFG_LOG_ERROR, "backend", b->sid, "the "
			    "backend refused XCLIENT (%d): is mxshield in its "
			    "smtpd_authorized_xclient_hosts?", code);
			bk_fail(b, BK_LOST, "backend refused XCLIENT");
			return;
		}
		b->xclient_done = 1;
		bk_go_ready(b);
		return;
	case BK_REPLAY:
		if (code / 100 != 2) {
			log_refusal(b, "the replayed HELO/EHLO", r, n);
			bk_fail(b, BK_BROKEN, "fresh backend refused EHLO");
			return;
		}
		bk_go_ready(b);
		return;
	case BK_READY:
	case BK_BODY:
		if (b->aw_n > 0) {
			on_awaited(b, code, r, n);
			return;
		}
		break;
	case BK_DATA_WAIT:
		if (b->aw_n > 0) {
			on_awaited(b, code, r, n);
			return;
		}
		if (code == 354) {
			bk_enter(b, BK_BODY);
			b->cb->data_go(b->owner, code, r, n);
			return;
		}
		bk_enter(b, BK_READY);
		if (code / 100 != 4 && code / 100 != 5) {
			/* DATA was not taken, whatever the backend said: a
			 * 2xx here must never reach the client as success */
			static const char t[] = "451 4.4.2 Backend did not "
			    "accept DATA, try again later\r\n";

			log_refusal(b, "DATA", r, n);
			b->cb->data_go(b->owner, 451, t, sizeof(t) - 1);
			return;
		}
		b->cb->data_go(b->owner, code, r, n);
		return;
	default:
		break;
	}
	bk_fail(b, code == 421 ? BK_LOST : BK_BROKEN, code == 421 ?
	    "backend closing (unsolicited 421)" :
	    "unsolicited reply from backend");
}

