/*
 * proxy/spftool.c - mxshield --spf-check: one SPF check (proxy/spfw.c)
 * through mxshield's own resolver on a private loop, as a worker would
 * run it for a client, printed one item a line for an administrator:
 * each identity's domain, result, mechanism, explanation and error,
 * the number of DNS questions, the verdict with the reply the client
 * would get, and the Received-SPF field the message would get.
 */
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "core/policy.h"
#include "proxy/dns.h"
#include "proxy/pol.h"
#include "proxy/spfw.h"

struct tool {
	struct spfw_result	*r;
	int			 done;
};

static void
on_result(void *arg, struct spfw_result *r)
{
	struct tool *t = arg;

	t->r = r;
	t->done = 1;
}

static void
print_outcome(FILE *out, const struct policy_spf_outcome *o)
{
	fprintf(out, "identity: %s\n", policy_spf_identity_name(o->identity));
	fprintf(out, "domain: %s\n", o->domain);
	fprintf(out, "result: %s\n", spf_result_name(o->result));
	if (o->mechanism[0] != '\0')
		fprintf(out, "mechanism: %s\n", o->mechanism);
	if (o->explanation[0] != '\0')
		fprintf(out, "explanation: %s\n", o->explanation);
	if (o->reason[0] != '\0')
		fprintf(out, "error: %s%s%s\n", o->reason,
		    o->problem[0] != '\0' ? ": " : "", o->problem);
}

/* The field as the message gets it, each CRLF written as a newline. */
static void
print_header(FILE *out, const char *h)
{
	for (; *h != '\0'; h++)
		if (*h != '\r')
			fputc(*h, out);
}

/* Run a private resolver until the check is done; -1 when it cannot. */
static int
check(const struct config *cfg, const struct spfw_request *rq,
    struct tool *t, FILE *err)
{
	uv_loop_t	 loop;
	struct dns	*d;
	struct spfw	*w;
	char		 why[256];

	if (uv_loop_init(&loop) != 0) {
		fprintf(err, "mxshield: --spf-check: cannot start an event "
		    "loop\n");
		return -1;
	}
	if ((d = dns_new(&loop, cfg, why, sizeof(why))) == NULL) {
		fprintf(err, "mxshield: --spf-check: %s\n", why);
		uv_loop_close(&loop);
		return -1;
	}
	if ((w = spfw_start(d, rq, on_result, t)) == NULL)
		fprintf(err, "mxshield: --spf-check: out of memory\n");
	while (w != NULL && !t->done && uv_run(&loop, UV_RUN_ONCE) != 0)
		;
	if (w != NULL && !t->done)
		spfw_cancel(w);		/* the loop ran dry: cannot be */
	dns_close(d, NULL, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return t->done ? 0 : -1;
}

int
spfw_tool(const struct config *cfg, const char *client, const char *from,
    const char *helo, FILE *out, FILE *err)
{
	struct spfw_request	 rq;
	struct policy_spf_cfg	 sc;
	struct policy_client	 pc;
	struct policy_verdict	 v;
	struct policy_cfg	*pol;
	struct net_addr		 ip;
	struct tool		 t = { NULL, 0 };
	const char		*at;
	int			 enforced;

	if (client == NULL || from == NULL) {
		fprintf(err, "mxshield: --spf-check needs --client and "
		    "--from\n");
		return 2;
	}
	if (net_addr_parse(client, strlen(client), &ip) != 0) {
		fprintf(err, "mxshield: --client %s: not an IP address\n",
		    client);
		return 2;
	}
	if (helo == NULL) {
		if (from[0] == '\0' || (at = strrchr(from, '@')) == NULL ||
		    at[1] == '\0') {
			fprintf(err, "mxshield: --spf-check: give --helo (the "
			    "sender has no domain)\n");
			return 2;
		}
		helo = at + 1;
	}
	if ((pol = pol_build(cfg)) == NULL) {
		fprintf(err, "mxshield: out of memory\n");
		return 2;
	}
	spfw_request_init(&rq, cfg, &ip, helo, from);
	if (check(cfg, &rq, &t, err) < 0) {
		pol_free(pol);
		return 2;
	}
	memset(&pc, 0, sizeof(pc));
	pc.addr = ip;
	pc.ip = client;
	pc.trusted = policy_is_trusted(pol, &ip);
	/* what the check would say once spf.enabled is on */
	spfw_policy_cfg(cfg, &sc);
	sc.enabled = true;
	policy_spf(&sc, &pc, &t.r->helo, &t.r->mfrom, &v);
	enforced = pol_enforce_cfg(cfg, &v);

	if (t.r->helo.ran)
		print_outcome(out, &t.r->helo);
	if (t.r->mfrom.ran)
		print_outcome(out, &t.r->mfrom);
	fprintf(out, "queries: %u\n", t.r->queries);
	if (t.r->timed_out)
		fprintf(out, "timeout: spf.timeout (%d s) reached\n",
		    cfg->spf.timeout);
	fprintf(out, "verdict: %s\n", pol_action_name(&v, enforced));
	if (v.text[0] != '\0')
		fprintf(out, "reply: %s\n", v.text);
	fprintf(out, "reason: %s\n", v.reason);
	if (!cfg->spf.enabled)
		fprintf(out, "note: spf.enabled is false: sessions are not "
		    "checked\n");
	if (t.r->header != NULL)
		print_header(out, t.r->header);
	spfw_result_free(t.r);
	pol_free(pol);
	return v.action == POLICY_REJECT && enforced ? 1 : 0;
}
