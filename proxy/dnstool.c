/*
 * proxy/dnstool.c - mxshield --dns-lookup: one question through the
 * resolver of proxy/dns.c on a private loop (dns_resolve_sync(), which
 * the start asks too, for backend.address), the answer printed one
 * item a line ("status: OK", "ttl: 300", then "A 192.0.2.1",
 * "MX 10 mail.example.com", "TXT \"v=spf1\" \" -all\"", ...). TXT
 * strings are shown quoted, a byte outside printable ASCII, a quote or
 * a backslash as \DDD or \" \\; names come escaped from core/dnsmsg.c.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/net.h"
#include "proxy/dns.h"
#include "proxy/dnstool.h"

struct sync {
	struct dns_answer	*out;
	char			*why;
	size_t			 cap;
	int			 done;
};

static void
on_sync(void *arg, const struct dns_result *r)
{
	struct sync *s = arg;

	memcpy(s->out, r->answer, sizeof(*s->out));
	s->out->ttl = r->ttl;
	if (r->why != NULL)
		snprintf(s->why, s->cap, "%s", r->why);
	s->done = 1;
}

int
dns_resolve_sync(const struct config *cfg, const char *name, uint16_t type,
    struct dns_answer *out, char *why, size_t cap)
{
	uv_loop_t	 loop;
	struct dns	*d;
	struct sync	 s = { out, why, cap, 0 };

	if (cap > 0)
		why[0] = '\0';
	if (uv_loop_init(&loop) != 0) {
		snprintf(why, cap, "cannot start an event loop");
		return -1;
	}
	if ((d = dns_new(&loop, cfg, why, cap)) == NULL) {
		uv_loop_close(&loop);
		return -1;
	}
	if (dns_lookup(d, name, type, on_sync, &s) == NULL) {
		snprintf(why, cap, "out of memory");
		dns_close(d, NULL, NULL);
		uv_run(&loop, UV_RUN_DEFAULT);
		uv_loop_close(&loop);
		return -1;
	}
	while (!s.done && uv_run(&loop, UV_RUN_ONCE) != 0)
		;
	dns_close(d, NULL, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	if (!s.done) {
		snprintf(why, cap, "no answer");
		memset(out, 0, offsetof(struct dns_answer, rr));
		out->status = DNS_TEMPFAIL;
		out->ndata = 0;
	}
	return 0;
}

/* The reverse name of an IP address (RFC 1035 3.5, RFC 3596 2.5). */
static int
reverse_name(const char *ip, char *buf, size_t cap)
{
	struct net_addr	a;
	size_t		n = 0;

	if (net_addr_parse(ip, strlen(ip), &a) != 0)
		return -1;
	if (a.family == AF_INET) {
		snprintf(buf, cap, "%u.%u.%u.%u.in-addr.arpa", a.addr[3],
		    a.addr[2], a.addr[1], a.addr[0]);
		return 0;
	}
	for (int i = 15; i >= 0 && n + 4 < cap; i--)
		n += (size_t)snprintf(buf + n, cap - n, "%x.%x.",
		    a.addr[i] & 0xf, a.addr[i] >> 4);
	snprintf(buf + n, cap - n, "ip6.arpa");
	return 0;
}

static void
print_txt(FILE *out, const struct dns_answer *a, const struct dns_rr *rr)
{
	const char	*s;
	size_t		 n, pos = 0;

	fputs("TXT", out);
	while (dnsmsg_txt_next(a, rr, &pos, &s, &n)) {
		fputs(" \"", out);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '"' || c == '\\')
				fprintf(out, "\\%c", c);
			else if (c < 0x20 || c >= 0x7f)
				fprintf(out, "\\%03u", c);
			else
				fputc(c, out);
		}
		fputc('"', out);
	}
	fputc('\n', out);
}

int
dns_tool(const struct config *cfg, const char *name, const char *type,
    FILE *out, FILE *err)
{
	struct dns_answer	 a;
	struct net_addr		 ip;
	char			 why[256], rev[128], addr[INET6_ADDRSTRLEN];
	uint16_t		 t = DNS_T_A;
	int			 isip;

	isip = net_addr_parse(name, strlen(name), &ip) == 0;
	if (type != NULL && (t = dns_type_parse(type)) == 0) {
		fprintf(err, "mxshield: --dns-lookup: unknown type %s (A, AAAA, "
		    "MX, PTR, TXT, CNAME)\n", type);
		return 2;
	}
	if (isip && (type == NULL || t == DNS_T_PTR)) {
		reverse_name(name, rev, sizeof(rev));
		name = rev;
		t = DNS_T_PTR;
	}
	if (dns_resolve_sync(cfg, name, t, &a, why, sizeof(why)) < 0) {
		fprintf(err, "mxshield: --dns-lookup: %s\n", why);
		return 2;
	}
	fprintf(out, "name: %s\ntype: %s\n", name, dns_type_name(t));
	if (a.status == DNS_TEMPFAIL)
		fprintf(out, "status: TEMPFAIL (%s)\n", why);
	else
		fprintf(out, "status: %s\n", dns_status_name(a.status));
	fprintf(out, "ttl: %u\n", a.ttl);
	if (a.truncated)
		fprintf(out, "truncated: more records than mxshield keeps\n");
	for (size_t i = 0; i < a.nrr; i++) {
		const struct dns_rr *rr = &a.rr[i];

		switch (rr->type) {
		case DNS_T_A:
		case DNS_T_AAAA:
			inet_ntop(rr->type == DNS_T_A ? AF_INET : AF_INET6,
			    rr->addr, addr, sizeof(addr));
			fprintf(out, "%s %s\n", dns_type_name(rr->type), addr);
			break;
		case DNS_T_MX:
			fprintf(out, "MX %u %s\n", rr->pref, a.data + rr->off);
			break;
		case DNS_T_TXT:
			print_txt(out, &a, rr);
			break;
		default:
			fprintf(out, "%s %s\n", dns_type_name(rr->type),
			    a.data + rr->off);
			break;
		}
	}
	return a.status == DNS_OK ? 0 : a.status == DNS_TEMPFAIL ? 2 : 1;
}
