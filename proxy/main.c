/*
 * proxy/main.c - the mxshield command line: -c/--config FILE,
 * --check-config, --version, --help, ctl status | reload | disabled |
 * counters | unblock ID (asking the running mxshield through
 * control.socket; --list-disabled, --list-counters and --unblock ID
 * are older names),
 * --dns-lookup NAME [TYPE] (proxy/dnstool.h), --spf-check with
 * --client, --from and --helo (proxy/spfw.h), and
 * --test with its session options (a dry run, proxy/dryrun.h). Loads and
 * validates the configuration, then runs the server in the foreground,
 * logging to stderr (a service manager or container runtime supervises
 * it).
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/check.h"
#include "proxy/config.h"
#include "proxy/control.h"
#include "proxy/dnstool.h"
#include "proxy/dryrun.h"
#include "proxy/log.h"
#include "proxy/server.h"
#include "proxy/spfw.h"

#define DEFAULT_CONFIG "/etc/mxshield/mxshield.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mxshield [-c FILE] [--check-config]\n"
	    "       mxshield [-c FILE] ctl status | reload | disabled | "
	    "counters |\n"
	    "                              unblock ID\n"
	    "       mxshield [-c FILE] --list-disabled | --list-counters |\n"
	    "                          --unblock ID\n"
	    "       mxshield [-c FILE] --dns-lookup NAME [TYPE]\n"
	    "       mxshield [-c FILE] --spf-check --client ADDRESS "
	    "--from ADDRESS\n"
	    "                [--helo NAME]\n"
	    "       mxshield [-c FILE] --test --client ADDRESS [--port PORT] "
	    "[--tls]\n"
	    "                [--helo NAME | --ehlo NAME] [--auth ID]\n"
	    "                [--from ADDRESS [--rcpt ADDRESS]... "
	    "[--message FILE]]\n"
	    "       mxshield --version | --help\n"
	    "\n"
	    "Transparent SMTP filtering proxy: relays every SMTP session to\n"
	    "the backend mail server and refuses spoofed and hijacked mail.\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "      --check-config  parse and validate the configuration, and\n"
	    "                      check what a start would (the backend's\n"
	    "                      address, the files and directories it\n"
	    "                      names) without binding anything; print\n"
	    "                      what is wrong with file:line, exit 0 or 1\n"
	    "                      (lines starting \"warning:\" do not fail)\n"
	    "  ctl COMMAND         ask the running mxshield through\n"
	    "                      control.socket (-c FILE names it):\n"
	    "    ctl status        version, pid, uptime, configuration file,\n"
	    "                      when it was loaded, reloads, listeners,\n"
	    "                      sessions open, workers\n"
	    "    ctl reload        read the configuration file and the\n"
	    "                      certificates again (as SIGHUP does), wait\n"
	    "                      for the result and print it: what changed,\n"
	    "                      what needs a restart; exit 0: in force,\n"
	    "                      1: refused (its errors, file:line, on\n"
	    "                      stderr; the configuration in force stays)\n"
	    "    ctl disabled      print the identities hijack detection\n"
	    "                      disabled (\"ID TIME\", ID in xtext: +20 is\n"
	    "                      a space)\n"
	    "    ctl counters      print every identity hijack detection\n"
	    "                      counts (\"ID COUNT LIMIT\", then\n"
	    "                      \"disabled\" or \"exempt\" where they\n"
	    "                      apply), busiest first\n"
	    "    ctl unblock ID    re-enable the identity ID (as typed); with\n"
	    "                      none running, edit hijack.state_file\n"
	    "                      instead\n"
	    "      --list-disabled, --list-counters, --unblock ID\n"
	    "                      the same as ctl disabled, ctl counters\n"
	    "                      and ctl unblock ID\n"
	    "      --dns-lookup NAME [TYPE]  ask mxshield's resolver (the\n"
	    "                      servers of dns, else /etc/resolv.conf)\n"
	    "                      for NAME's TYPE records (A, AAAA, MX,\n"
	    "                      PTR, TXT, CNAME; default A, PTR for an\n"
	    "                      IP address) and print the status, TTL\n"
	    "                      and records; exit 0: records, 1:\n"
	    "                      NXDOMAIN or NODATA, 2: TEMPFAIL\n"
	    "      --spf-check     check SPF (RFC 7208) for a client\n"
	    "                      (--client ADDRESS) sending MAIL FROM\n"
	    "                      (--from ADDRESS, \"\" for <>) after HELO\n"
	    "                      (--helo NAME, default the sender's\n"
	    "                      domain) through mxshield's resolver, with\n"
	    "                      the spf settings; print each identity's\n"
	    "                      result, mechanism and explanation, the\n"
	    "                      verdict and reply, and the Received-SPF\n"
	    "                      field; exit 0: accepted, 1: refused\n"
	    "      --test          a dry run: print the reply each command\n"
	    "                      would get and each verdict with its reason;\n"
	    "                      no socket is opened, nothing is sent. Exit\n"
	    "                      0: accepted for a recipient (without --rcpt:\n"
	    "                      nothing refused), 1: refused, 2: usage or\n"
	    "                      configuration error. Its options:\n"
	    "      --client ADDRESS    the client's IP address (required)\n"
	    "      --port PORT         the listener with this port (default:\n"
	    "                          the first of listen)\n"
	    "      --tls               the client's TLS is up (STARTTLS done)\n"
	    "      --helo NAME, --ehlo NAME  HELO NAME or EHLO NAME\n"
	    "      --auth ID           the backend accepts AUTH as ID\n"
	    "      --from ADDRESS      MAIL FROM:<ADDRESS> (\"\" for <>)\n"
	    "      --rcpt ADDRESS      RCPT TO:<ADDRESS>, repeatable\n"
	    "      --message FILE      the message after DATA: wire format\n"
	    "                          (CRLF, dot-stuffed), or a text file\n"
	    "                          without CR, sent as a mail client would\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this text\n"
	    "\n"
	    "It runs in the foreground and logs one line per event to stderr.\n"
	    "SIGTERM or SIGINT: stop accepting, let sessions finish (at most\n"
	    "shutdown_timeout seconds), exit. SIGHUP: reload the configuration\n"
	    "and certificates (as ctl reload; the result is a \"reload\" log\n"
	    "line); sessions in progress keep the configuration they started\n"
	    "with.\n", DEFAULT_CONFIG);
}

/* A --check-config warning: stderr, after the problems' style. */
static void
print_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "warning: %s\n", msg);
}

/* The options of --test, past the one-letter codes. */
enum {
	OPT_TEST = 256, OPT_CLIENT, OPT_PORT, OPT_TLS, OPT_HELO, OPT_EHLO,
	OPT_AUTH, OPT_FROM, OPT_RCPT, OPT_MESSAGE,
};

/* One --test option into o; 0, or -1 (printed) for a bad value. */
static int
test_opt(int ch, struct dry_opts *o, const char **rcpts)
{
	char *end;
	long port;

	switch (ch) {
	case OPT_CLIENT:
		o->client = optarg;
		break;
	case OPT_PORT:
		port = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || port < 1 ||
		    port > 65535) {
			fprintf(stderr, "mxshield: --port %s: not a port\n",
			    optarg);
			return -1;
		}
		o->port = (int)port;
		break;
	case OPT_TLS:
		o->tls = 1;
		break;
	case OPT_HELO:
	case OPT_EHLO:
		if (o->helo != NULL) {
			fprintf(stderr, "mxshield: --helo and --ehlo go once\n");
			return -1;
		}
		o->helo = optarg;
		o->ehlo = ch == OPT_EHLO;
		break;
	case OPT_AUTH:
		o->auth = optarg;
		break;
	case OPT_FROM:
		o->from = optarg;
		break;
	case OPT_RCPT:
		rcpts[o->nrcpts++] = optarg;
		break;
	case OPT_MESSAGE:
		o->message = optarg;
		break;
	}
	return 0;
}

/* "ctl COMMAND [ID]" (args: what follows "ctl") into *cmd and *id;
 * 0, or -1 (printed). */
static int
ctl_args(int n, char **args, enum control_cmd *cmd, const char **id)
{
	static const struct {
		const char		*name;
		enum control_cmd	 cmd;
	} t[] = {
		{ "status", CONTROL_STATUS }, { "reload", CONTROL_RELOAD },
		{ "disabled", CONTROL_LIST }, { "counters", CONTROL_COUNTERS },
		{ "unblock", CONTROL_UNBLOCK },
	};

	for (size_t i = 0; n > 0 && i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(args[0], t[i].name) != 0)
			continue;
		if (n != (t[i].cmd == CONTROL_UNBLOCK ? 2 : 1)) {
			fprintf(stderr, "mxshield: ctl %s %s\n", t[i].name,
			    t[i].cmd == CONTROL_UNBLOCK ? "takes one identity" :
			    "takes no argument");
			return -1;
		}
		*cmd = t[i].cmd;
		*id = n == 2 ? args[1] : NULL;
		return 0;
	}
	fprintf(stderr, "mxshield: ctl %s: unknown command (status, reload, "
	    "disabled, counters, unblock ID)\n", n > 0 ? args[0] : "");
	return -1;
}

/*
 * ctl with a file cfg_load() refused (errs: its errors): the running
 * mxshield is still asked when the file names its control.socket. A
 * reload then comes back refused with the same errors, and the failure
 * is counted and logged there; other commands say the file has errors.
 */
static int
ctl_unloaded(const char *path, enum control_cmd cmd, const char *id,
    const char *what, const char *errs)
{
	struct config c;
	char sock[PATH_MAX];

	if (cfg_peek_str(path, "control.socket", sock, sizeof(sock)) < 0) {
		fputs(errs, stderr);
		if (errs[0] != '\0' && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		fprintf(stderr, "mxshield: %s: %s names no control.socket "
		    "that can be read%s\n", what, path, cmd == CONTROL_RELOAD ?
		    "; nothing was sent: the running mxshield would refuse "
		    "this file and keep its configuration" : "");
		return 1;
	}
	if (cmd != CONTROL_RELOAD)
		fprintf(stderr, "mxshield: note: %s has errors (a reload "
		    "would be refused; mxshield --check-config says which)\n",
		    path);
	memset(&c, 0, sizeof(c));
	c.path = (char *)path;
	c.control.socket = sock;
	return control_main(&c, cmd, id, what);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ "list-disabled", no_argument, NULL, 'L' },
		{ "list-counters", no_argument, NULL, 'K' },
		{ "unblock", required_argument, NULL, 'U' },
		{ "dns-lookup", required_argument, NULL, 'D' },
		{ "spf-check", no_argument, NULL, 'S' },
		{ "test", no_argument, NULL, OPT_TEST },
		{ "client", required_argument, NULL, OPT_CLIENT },
		{ "port", required_argument, NULL, OPT_PORT },
		{ "tls", no_argument, NULL, OPT_TLS },
		{ "helo", required_argument, NULL, OPT_HELO },
		{ "ehlo", required_argument, NULL, OPT_EHLO },
		{ "auth", required_argument, NULL, OPT_AUTH },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "rcpt", required_argument, NULL, OPT_RCPT },
		{ "message", required_argument, NULL, OPT_MESSAGE },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *unblock = NULL, *lookup = NULL;
	const char *lookup_type = NULL, *ctl_id = NULL;
	const char **rcpts;
	enum control_cmd ctl_cmd = CONTROL_LIST;
	char ctl_what[32];
	int ctl = 0;
	struct dry_opts dry;
	struct config *cfg;
	char err[8192];
	int check = 0, list = 0, counters = 0, test = 0, test_opts = 0, ch, rc;
	int spf = 0, spf_opts = 1;	/* only --client, --from, --helo */

	memset(&dry, 0, sizeof(dry));
	/* every --rcpt is an argument: argc bounds them */
	if ((rcpts = calloc((size_t)argc, sizeof(*rcpts))) == NULL) {
		fprintf(stderr, "mxshield: out of memory\n");
		return 1;
	}
	dry.rcpts = rcpts;
	while ((ch = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
		if (ch > OPT_TEST) {
			test_opts = 1;
			if (ch != OPT_CLIENT && ch != OPT_FROM && ch != OPT_HELO)
				spf_opts = 0;
			if (test_opt(ch, &dry, rcpts) < 0) {
				free(rcpts);
				return DRY_USAGE;
			}
			continue;
		}
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = 1;
			break;
		case 'L':
			list = 1;
			break;
		case 'K':
			counters = 1;
			break;
		case 'U':
			unblock = optarg;
			break;
		case 'D':
			lookup = optarg;
			break;
		case 'S':
			spf = 1;
			break;
		case OPT_TEST:
			test = 1;
			break;
		case 'V':
			printf("mxshield %s\n", MXS_VERSION);
			free(rcpts);
			return 0;
		case 'h':
			usage(stdout);
			free(rcpts);
			return 0;
		default:
			usage(stderr);
			free(rcpts);
			return 2;
		}
	}
	if (lookup != NULL && optind < argc)
		lookup_type = argv[optind++];	/* --dns-lookup NAME TYPE */
	if (lookup == NULL && optind < argc && strcmp(argv[optind], "ctl") ==
	    0) {
		if (ctl_args(argc - optind - 1, argv + optind + 1, &ctl_cmd,
		    &ctl_id) < 0) {
			usage(stderr);
			free(rcpts);
			return 2;
		}
		snprintf(ctl_what, sizeof(ctl_what), "ctl %s",
		    argv[optind + 1]);
		ctl = 1;
		optind = argc;
	}
	if (optind < argc) {
		fprintf(stderr, "mxshield: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		free(rcpts);
		return 2;
	}
	if (check + list + counters + (unblock != NULL) + test +
	    (lookup != NULL) + spf + ctl > 1) {
		fprintf(stderr, "mxshield: ctl, --check-config, "
		    "--list-disabled, --list-counters, --unblock, --dns-lookup, "
		    "--spf-check and --test go alone\n");
		usage(stderr);
		free(rcpts);
		return 2;
	}
	if (spf && !spf_opts) {
		fprintf(stderr, "mxshield: --spf-check takes --client, --from "
		    "and --helo only\n");
		usage(stderr);
		free(rcpts);
		return 2;
	}
	if (test_opts && !test && !spf) {
		fprintf(stderr, "mxshield: --client, --port, --tls, --helo, "
		    "--ehlo, --auth, --from, --rcpt and --message go with "
		    "--test\n");
		usage(stderr);
		free(rcpts);
		return 2;
	}
	err[0] = '\0';
	cfg = cfg_load(path, err, sizeof(err));
	if (cfg == NULL && ctl) {
		rc = ctl_unloaded(path, ctl_cmd, ctl_id, ctl_what, err);
		free(rcpts);
		return rc;
	}
	if (cfg == NULL) {
		fputs(err, stderr);
		if (err[0] != '\0' && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		free(rcpts);
		return test || lookup != NULL || spf ? 2 : 1;
	}
	if (lookup != NULL) {
		rc = dns_tool(cfg, lookup, lookup_type, stdout, stderr);
		cfg_free(cfg);
		free(rcpts);
		return rc;
	}
	if (spf) {
		rc = spfw_tool(cfg, dry.client, dry.from, dry.helo, stdout,
		    stderr);
		cfg_free(cfg);
		free(rcpts);
		return rc;
	}
	if (ctl) {
		rc = control_main(cfg, ctl_cmd, ctl_id, ctl_what);
		cfg_free(cfg);
		free(rcpts);
		return rc;
	}
	if (list || counters || unblock != NULL) {
		rc = control_main(cfg, unblock != NULL ? CONTROL_UNBLOCK :
		    counters ? CONTROL_COUNTERS : CONTROL_LIST, unblock,
		    unblock != NULL ? "--unblock" : counters ?
		    "--list-counters" : "--list-disabled");
		cfg_free(cfg);
		free(rcpts);
		return rc;
	}
	/* everything a start checks but binding, warnings included */
	if ((check || test) && chk_all(cfg, check ? print_warning : NULL, NULL, err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		cfg_free(cfg);
		free(rcpts);
		return test ? DRY_USAGE : 1;
	}
	if (test) {
		rc = dry_run(cfg, &dry, stdout, stderr);
		cfg_free(cfg);
		free(rcpts);
		return rc;
	}
	free(rcpts);
	if (check) {
		printf("%s: OK\n", path);
		cfg_free(cfg);
		return 0;
	}
	log_setup(cfg->log.format, cfg->log.level);
	rc = srv_run(cfg);
	cfg_free(cfg);
	return rc;
}
