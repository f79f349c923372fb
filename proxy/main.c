/*
 * proxy/main.c - the mxshield command line: -c/--config FILE,
 * --check-config, --version, --help, and --list-disabled /
 * --list-counters / --unblock ID (asking the running mxshield through
 * control.socket). Loads and
 * validates the configuration, then runs the server in the foreground,
 * logging to stderr (a service manager or container runtime supervises
 * it).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	    "       mxshield [-c FILE] --list-disabled | --list-counters |\n"
	    "                          --unblock ID\n"
	    "       mxshield --version | --help\n"
	    "\n"
	    "Transparent SMTP filtering proxy: relays every SMTP session to\n"
	    "the backend mail server and refuses spoofed and hijacked mail.\n"
	    "\n"
	    "  -c, --config FILE   configuration file (default %s)\n"
	    "      --check-config  parse and validate the configuration, print\n"
	    "                      what is wrong with file:line, exit 0 or 1\n"
	    "      --list-disabled print the identities hijack detection\n"
	    "                      disabled (\"ID TIME\", ID in xtext: +20 is\n"
	    "                      a space), asking the running mxshield\n"
	    "                      through control.socket\n"
	    "      --list-counters print every identity hijack detection\n"
	    "                      counts (\"ID COUNT LIMIT\", then\n"
	    "                      \"disabled\" or \"exempt\" where they\n"
	    "                      apply), busiest first, asking the\n"
	    "                      running mxshield\n"
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
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_CONFIG, *unblock = NULL;
	struct config *cfg;
	char err[8192];
	int check = 0, list = 0, counters = 0, ch, rc;

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
		case 'K':
			counters = 1;
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
	if (check + list + counters + (unblock != NULL) > 1) {
		fprintf(stderr, "mxshield: --check-config, --list-disabled, "
		    "--list-counters and --unblock go alone\n");
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
	if (list || counters || unblock != NULL) {
		rc = control_main(cfg, unblock != NULL ? CONTROL_UNBLOCK :
		    counters ? CONTROL_COUNTERS : CONTROL_LIST, unblock);
		cfg_free(cfg);
		return rc;
	}
	if (check && srv_check_tls(cfg, err, sizeof(err)) < 0) {
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
