/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * main.c - pagepoolctl, the operators' command-line client of pagepoold's
 * admin socket: the global options, the table of commands, and the parsing
 * of one command's options and operands before it runs.
 *
 * Each command lives in its own cmd_*.c with its usage text (struct
 * ctl_cmd); it asks the daemon through request.c (proto/transport.c
 * underneath), describes its result once through out.c, which renders it as
 * text or, with --json, as exactly one JSON document on stdout - also when
 * the command fails ({"error": {...}}, report.c).  The exit status tells
 * scripts what kind of failure it was (EXIT STATUS in help.c's usage text).
 * Nothing the daemon sends is trusted: its strings are made printable
 * before they reach a terminal and valid UTF-8 before they reach JSON.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"
#include "wire.h"

enum {
	OPT_POOL = 'p', OPT_MODE = 'm', OPT_FORCE = 'f', OPT_TIMEOUT = 't', OPT_HELP = 'h',
	OPT_HIGH = 0x100, OPT_BATCH, OPT_JSON, OPT_CLIENTS, OPT_CLIENT,
};

const struct ctl_cmd *const ctl_commands[] = {
	&cmd_status_entry, &cmd_stats_entry, &cmd_buddyinfo_entry, &cmd_pcp_entry,
	&cmd_clients_entry, &cmd_drain_entry, &cmd_offline_entry, &cmd_online_entry,
	&cmd_trim_entry, &cmd_set_pcp_entry, &cmd_verify_entry, &cmd_reload_entry,
	&cmd_metrics_entry, &cmd_config_check_entry, NULL,
};

const struct ctl_cmd *ctl_command_find(const char *name)
{
	for (const struct ctl_cmd *const *cmd = ctl_commands; *cmd; cmd++)
		if (strcmp((*cmd)->name, name) == 0)
			return *cmd;
	return NULL;
}

static const struct option cmd_longopts[] = {
	{ "pool", required_argument, NULL, OPT_POOL },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "high", required_argument, NULL, OPT_HIGH },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "clients", no_argument, NULL, OPT_CLIENTS },
	{ "client", required_argument, NULL, OPT_CLIENT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static unsigned opt_bit(int opt)
{
	switch (opt) {
	case OPT_POOL: return O_POOL;
	case OPT_MODE: return O_MODE;
	case OPT_FORCE: return O_FORCE;
	case OPT_TIMEOUT: return O_TIMEOUT;
	case OPT_HIGH: return O_HIGH;
	case OPT_BATCH: return O_BATCH;
	case OPT_CLIENTS: return O_CLIENTS;
	case OPT_CLIENT: return O_CLIENT;
	default: return 0;
	}
}

/* "pool" for OPT_POOL, for messages. */
static const char *opt_name(int opt)
{
	for (const struct option *lo = cmd_longopts; lo->name; lo++)
		if (lo->val == opt)
			return lo->name;
	return "?";
}

/*
 * Report what getopt_long just refused (it returned ':' or '?').  getopt
 * leaves optopt 0 for an unknown long option, the option's value for a
 * missing or unwanted argument, and the character for a short option, which
 * may sit inside a cluster (then optind has not moved past it).
 */
static int bad_option(struct ctl *c, int opt, char **argv, const struct option *lo)
{
	const char *prev = optind > 0 ? argv[optind - 1] : "";
	size_t n = strcspn(prev, "=");

	if (opt == ':' && strncmp(prev, "--", 2) == 0)
		return report_usage(c, "option '%.*s' needs an argument", (int)n, prev);
	if (opt == ':')
		return report_usage(c, "option '-%c' needs an argument", optopt);
	if (optopt == 0)
		return report_usage(c, "unknown option '%.*s'", (int)n, prev);
	for (; strncmp(prev, "--", 2) == 0 && prev[n] == '=' && lo->name; lo++)
		if (lo->val == optopt && lo->has_arg == no_argument &&
		    strlen(lo->name) == n - 2 && strncmp(lo->name, prev + 2, n - 2) == 0)
			return report_usage(c, "option '--%s' takes no argument", lo->name);
	if (isdigit(optopt))
		return report_usage(c, "unknown option '-%c' (numbers take no sign)", optopt);
	return report_usage(c, "unknown option '-%c'", optopt);
}

/* One option of the command: EX_OK, -1 for --help (done), or EX_USAGE.
 * Values are checked once all are read, so that a --json anywhere on the
 * line also covers the usage errors. */
static int cmd_option(struct ctl *c, int opt, char **argv, struct ctl_args *a)
{
	if (opt_bit(opt) && !(c->cmd->opts & opt_bit(opt))) {
		a->stray_opt = a->stray_opt ? a->stray_opt : opt;
		return EX_OK;
	}
	switch (opt) {
	case OPT_HELP:
		help_command(stdout, c->cmd);
		return -1;
	case OPT_JSON:
		c->out.json = true;
		return EX_OK;
	case OPT_POOL:
		a->pool = optarg;
		return EX_OK;
	case OPT_MODE:
		a->mode = optarg;
		return EX_OK;
	case OPT_FORCE:
		a->force = true;
		return EX_OK;
	case OPT_TIMEOUT:
		a->timeout_arg = optarg;
		return EX_OK;
	case OPT_HIGH:
		a->high_arg = optarg;
		return EX_OK;
	case OPT_BATCH:
		a->batch_arg = optarg;
		return EX_OK;
	case OPT_CLIENTS:
		a->clients = true;
		return EX_OK;
	case OPT_CLIENT:
		a->client_arg = optarg;
		return EX_OK;
	default:
		return bad_option(c, opt, argv, cmd_longopts);
	}
}

/* Check the option values given; EX_OK or EX_USAGE reported. */
static int args_check(struct ctl *c, struct ctl_args *a)
{
	int rc = EX_OK;

	if (a->stray_opt)
		return report_usage(c, "option '--%s' does not apply to %s",
				    opt_name(a->stray_opt), c->cmd->name);
	if (a->pool)
		rc = parse_pool(c, "--pool", a->pool);
	if (!rc && a->timeout_arg)
		rc = parse_number(c, "--timeout", a->timeout_arg, 0, CTL_OFFLINE_TIMEOUT_MAX,
				  &a->timeout_s);
	if (!rc && a->high_arg)
		rc = parse_number(c, "--high", a->high_arg, 0, CTL_NUM_MAX, &a->high);
	if (!rc && a->batch_arg)
		rc = parse_number(c, "--batch", a->batch_arg, 0, CTL_NUM_MAX, &a->batch);
	if (!rc && a->client_arg)
		rc = parse_number(c, "--client", a->client_arg, 1, CTL_NUM_MAX, &a->client);
	return rc;
}

/* Parse the command's options and operands (argv[0] is the command name)
 * and run it.  Returns the exit status. */
static int command_run(struct ctl *c, int argc, char **argv)
{
	struct ctl_args a = { .timeout_s = CTL_OFFLINE_TIMEOUT_S };
	int opt, rc;

	optind = 0;	/* glibc: start over, argv is a new vector */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":p:m:ft:h", cmd_longopts, NULL)) != -1) {
		rc = cmd_option(c, opt, argv, &a);
		if (rc)
			return rc < 0 ? EX_OK : rc;
	}
	a.pos = argv + optind;
	a.npos = argc - optind;
	rc = args_check(c, &a);
	if (rc)
		return rc;
	if (a.npos < c->cmd->nargs)
		return report_usage(c, "missing operand (usage: %s %s)", c->cmd->name,
				    c->cmd->synopsis);
	if (a.npos > c->cmd->nargs)
		return report_usage(c, "unexpected operand '%s'", a.pos[c->cmd->nargs]);
	return c->cmd->run(c, &a);
}

/* Print the output; a failure to build it, or to write it, turns success
 * into an error (EX_OSERR, EX_IOERR). */
static int output_close(struct ctl *c, int rc)
{
	int err = out_flush(&c->out);

	if (err) {
		rc = report_errno(c, err, NULL);
		out_flush(&c->out);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "pagepoolctl: writing the output: %s\n", strerror(errno));
		return rc == EX_OK ? EX_IOERR : rc;
	}
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl c = { 0 };
	const char *env = getenv(CTL_SOCKET_ENV);
	int opt;

	c.socket = env && env[0] ? env : CTL_DEFAULT_SOCKET;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:s:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			c.socket = optarg;
			break;
		case OPT_JSON:
			c.out.json = true;
			break;
		case 'h':
			help_full(stdout);
			return output_close(&c, EX_OK);
		case 'V':
			printf("pagepoolctl %s (admin protocol %d)\n", PAGEPOOL_VERSION,
			       WIRE_VERSION);
			return output_close(&c, EX_OK);
		default:
			return output_close(&c, bad_option(&c, opt, argv, longopts));
		}
	}
	if (!c.socket[0])
		return output_close(&c, report_usage(&c, "-s: empty socket path"));
	if (optind >= argc)
		return output_close(&c, report_usage(&c, "no command given"));
	if (strcmp(argv[optind], "help") == 0)
		return output_close(&c, help_run(&c, argc - optind, argv + optind));
	c.cmd = ctl_command_find(argv[optind]);
	if (!c.cmd)
		return output_close(&c, report_usage(&c, "unknown command '%s'", argv[optind]));
	return output_close(&c, command_run(&c, argc - optind, argv + optind));
}
