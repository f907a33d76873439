/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * help.c - pagepoolctl's usage text: the whole of it (-h, help), and one
 * command's (help COMMAND, COMMAND --help), whose words are the command's
 * own (its struct ctl_cmd in its cmd_*.c).  The rest - options, exit
 * statuses, examples - is said here once.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"

/* Print text with every line after `indent`. */
static void print_indented(FILE *f, const char *indent, const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");

		fprintf(f, "%s%.*s\n", indent, (int)n, text);
		text += n + (text[n] == '\n');
	}
}

void help_command(FILE *f, const struct ctl_cmd *cmd)
{
	fprintf(f, "usage: pagepoolctl [-s ADMIN_SOCKET] [--json] %s%s%s\n\n", cmd->name,
		cmd->synopsis[0] ? " " : "", cmd->synopsis);
	print_indented(f, "", cmd->help);
	fputs("\nExit status: 0 done, 64 usage, 65 refused (bad value, no such pool), "
	      "69 daemon\nunreachable, 75 busy, 76 protocol error, 77 not allowed "
	      "(see pagepoolctl --help).\n", f);
}

void help_full(FILE *f)
{
	fputs("usage: pagepoolctl [-s ADMIN_SOCKET] [--json] COMMAND [ARGS]\n"
	      "       pagepoolctl help [COMMAND]\n"
	      "       pagepoolctl COMMAND --help\n"
	      "       pagepoolctl -h | --help | -V\n"
	      "\n"
	      "Operate pagepoold, the page-pool daemon, through its admin socket: show its\n"
	      "state, counters, free blocks, pcplists and clients; drain the pcplists; take\n"
	      "page ranges offline and bring them back; return free memory to the OS; tune\n"
	      "the pcplists; check the pools' invariants; reload the configuration; check\n"
	      "a configuration file.  Each command but config-check is one request to\n"
	      "the daemon, which admits root, its own user and its admin_group only.\n"
	      "\n"
	      "COMMANDS\n", f);
	for (const struct ctl_cmd *const *cmd = ctl_commands; *cmd; cmd++) {
		fprintf(f, "  %s%s%s\n", (*cmd)->name, (*cmd)->synopsis[0] ? " " : "",
			(*cmd)->synopsis);
		print_indented(f, "      ", (*cmd)->help);
		fputc('\n', f);
	}
	fputs("  help [COMMAND]\n"
	      "      This text, or the usage of one command.\n"
	      "\n"
	      "OPTIONS\n"
	      "  -s, --socket ADMIN_SOCKET\n"
	      "      The daemon's admin socket (admin_socket in its [daemon] section).\n"
	      "      Default: $" CTL_SOCKET_ENV " if set and not empty, else\n"
	      "      " CTL_DEFAULT_SOCKET ".\n"
	      "  --json\n"
	      "      Print exactly one JSON document on stdout, numbers as numbers,\n"
	      "      also when the command fails: {\"error\": {command, source (usage,\n"
	      "      pagepoolctl or daemon), exit_status, status, errno, message}}.\n"
	      "      Messages still go to stderr.  May also follow the command.\n"
	      "      (--help, help and -V print text.)\n"
	      "  -h, --help\n"
	      "      Print this text (after a command: that command's usage) and exit 0.\n"
	      "  -V, --version\n"
	      "      Print the version and exit 0.\n"
	      "\n"
	      "  Pool names are the [pool NAME] sections of the daemon's configuration.\n"
	      "  Numbers are decimal, without sign or blanks.  Errors are printed to\n"
	      "  stderr as 'pagepoolctl: COMMAND: reason', the reason being the daemon's\n"
	      "  own words when it refused.  Requests time out after 30 s without an answer.\n"
	      "\n"
	      "ENVIRONMENT\n"
	      "  " CTL_SOCKET_ENV "\n"
	      "      Admin socket path, unless -s is given.\n"
	      "\n"
	      "EXIT STATUS\n"
	      "   0  Success.\n"
	      "  64  Usage error: unknown command or option, missing or extra operand,\n"
	      "      bad number, empty or over-long pool name, bad --mode (EX_USAGE).\n"
	      "  65  The daemon refused the request for another reason: no such pool\n"
	      "      (ENOENT), invalid value or range, reload of an invalid configuration\n"
	      "      or of a change that needs a restart (EINVAL), ...; or verify found a\n"
	      "      broken pool (EX_DATAERR).\n"
	      "  69  Daemon unreachable: no socket, connection refused, connection closed\n"
	      "      without an answer, no answer within 30 s, or the daemon is shutting\n"
	      "      down (ESHUTDOWN) (EX_UNAVAILABLE).\n"
	      "  71  Local system error: out of memory, out of file descriptors\n"
	      "      (EX_OSERR).\n"
	      "  74  The output could not be written (EX_IOERR).\n"
	      "  75  Busy, try again later: the daemon answered EBUSY, e.g. offline timed\n"
	      "      out with pages still held (EX_TEMPFAIL).\n"
	      "  76  Protocol error: malformed, oversized (over 16 MiB), truncated or\n"
	      "      mismatched response, or the daemon reported EPROTO (EX_PROTOCOL).\n"
	      "  77  Not allowed: the daemon answered EPERM (not root or admin_group), or\n"
	      "      the socket's permissions refused the connection (EX_NOPERM).\n"
	      "  An offline interrupted by SIGINT or SIGTERM dies of that signal.\n"
	      "\n"
	      "EXAMPLES\n"
	      "  pagepoolctl status\n"
	      "  pagepoolctl -s run/pagepool-admin.sock --json stats | python3 -m json.tool\n"
	      "  pagepoolctl drain --pool big --mode workqueue\n"
	      "  pagepoolctl offline big 0 4096 --timeout 30 || pagepoolctl online big 0 4096\n"
	      "  pagepoolctl trim\n"
	      "  pagepoolctl set-pcp --pool default --high 512 --batch 31\n"
	      "  pagepoolctl verify --pool default\n"
	      "  pagepoolctl --json verify | jq -r '.pools[] | select(.ok | not) | .name'\n"
	      "  pagepoolctl reload\n"
	      "  pagepoolctl clients --json | jq '.clients[] | select(.pages > 0)'\n", f);
}

/* pagepoolctl help [COMMAND] */
int help_run(struct ctl *c, int argc, char **argv)
{
	const struct ctl_cmd *cmd;

	if (argc == 1) {
		help_full(stdout);
		return EX_OK;
	}
	if (argc > 2)
		return report_usage(c, "help: one command at most");
	cmd = ctl_command_find(argv[1]);
	if (!cmd)
		return report_usage(c, "help: unknown command '%s'", argv[1]);
	help_command(stdout, cmd);
	return EX_OK;
}

