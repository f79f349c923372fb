/*
 * proxy/main.c - the mxshield command line: -c/--config FILE,
 * --check-config, --version, --help, and --list-disabled / --unblock ID
 * (asking the running mxshield through control.socket). Loads and
 * validates the configuration, then runs the server in the foreground,
 * logging to stderr (a service manager or container runtime supervises
 * it).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/check.h"
#include "proxy/config.h"
#include "proxy/control.h"
#include "proxy/log.h"
#include "proxy/server.h"

#define DEFAULT_CONFIG "/etc/mxshield/mxshield.conf"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: mxshield [-c FILE] [--check-config]\n"
	    "       mxshield [-c FILE] --list-disabled | --unblock ID\n"
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
	    "      --list-disabled print the identities hijack detection\n"
	    "                      disabled (\"ID TIME\", ID in xtext: +20 is\n"
	    "                      a space), asking the running mxshield\n"
	    "                      through control.socket\n"
	    "      --unblock ID    re-enable the identity ID (as typed) in the\n"
	    "                      running mxshield; with none running, edit\n"
	    "                      hijack.state_file instead\n"
	    "  -V, --version       print the version and exit\n"
	    "  -h, --help          this text\n"
	    "\n"
	    "It runs in the foreground and logs one line per event to stderr.\n"
	    "SIGTERM or SIGINT: stop accepting, let sessions finish (at most\n"
	    "shutdown_timeout seconds), exit.\n", DEFAULT_CONFIG);
}

/* A --check-config warning: stderr, after the problems' style. */
static void
print_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "warning: %s\n", msg);
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
		{ "unblock", required_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *unblock = NULL;
	struct config *cfg;
	char err[8192];
	int check = 0, list = 0, ch, rc;

	while ((ch = getopt_long(argc, argv, "c:Vh", opts, NULL)) != -1) {
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
		case 'U':
			unblock = optarg;
			break;
		case 'V':
			printf("mxshield %s\n", MXS_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mxshield: unexpected argument: %s\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((list || unblock != NULL) + check > 1 || (list && unblock)) {
		fprintf(stderr, "mxshield: --check-config, --list-disabled "
		    "and --unblock go alone\n");
		usage(stderr);
		return 2;
	}
	err[0] = '\0';
	cfg = cfg_load(path, err, sizeof(err));
	if (cfg == NULL) {
		fputs(err, stderr);
		if (err[0] != '\0' && err[strlen(err) - 1] != '\n')
			fputc('\n', stderr);
		return 1;
	}
	if (list || unblock != NULL) {
		rc = control_main(cfg, unblock);
		cfg_free(cfg);
		return rc;
	}
	/* everything a start checks but binding, warnings included */
	if (check && chk_all(cfg, print_warning, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		cfg_free(cfg);
		return 1;
	}
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
