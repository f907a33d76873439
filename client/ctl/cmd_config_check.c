/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_config_check.c - pagepoolctl config-check FILE: the daemon's own
 * parser and validation (daemon/config.c), locally; no daemon is asked.
 * Every problem is one "FILE:LINE: ..." line, on stderr in text.
 */
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "config.h"
#include "ctl.h"

static int cmd_config_check_run(struct ctl *c, const struct ctl_args *a)
{
	static struct config cfg;
	static char err[16384];
	const char *path = a->pos[0];
	int r = config_load(path, &cfg, err, sizeof(err));
	struct out *o = &c->out;
	char *line, *save = NULL;

	if (r < 0 && !err[0])
		snprintf(err, sizeof(err), "%s: %s\n", path, strerror(-r));
	if (r < 0 && !o->json)
		fputs(err, stderr);
	out_json_str(o, "file", path);
	out_json_bool(o, "ok", r == 0);
	out_arr_begin(o, "errors");
	for (line = strtok_r(err, "\n", &save); r < 0 && line; line = strtok_r(NULL, "\n", &save))
		out_json_str(o, NULL, line);
	out_end(o);
	if (r == 0)
		out_text(o, "%s: ok\n", path);
	return r == 0 ? 0 : EX_DATAERR;
}

const struct ctl_cmd cmd_config_check_entry = {
	"config-check", "FILE",
	"Check a pagepoold configuration file with the daemon's own parser,\n"
	"without asking any daemon (the admin socket is not used).  Prints\n"
	"'FILE: ok' and exits 0 when it is valid; otherwise prints every problem\n"
	"as 'FILE:LINE: what is wrong (what is allowed)' on stderr and exits 65\n"
	"(also when the file cannot be read).  Groups and CPUs are checked\n"
	"against this machine, so check on the host that runs the daemon.\n"
	"JSON: {file, ok, errors: [lines]}.",
	0, 1, cmd_config_check_run,
};
