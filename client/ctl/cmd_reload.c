/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_reload.c - pagepoolctl reload: the daemon re-reads its configuration
 * file and applies what may change at run time.
 */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "wire.h"

#define RELOAD_LINES_SHOWN	32	/* refused reload: message lines, */
#define RELOAD_LINE_MAX		1024	/* bytes of each shown */

/* A refused reload: the daemon's reasons name the file and the settings,
 * and may take several lines; each line is shown on its own, made printable
 * and cut at RELOAD_LINE_MAX rather than OUT_TEXT_MAX.  The JSON error
 * carries the message as sent. */
static int reload_refused(struct ctl *c, const admin_response *resp)
{
	const char *e = resp->error;
	char line[RELOAD_LINE_MAX + 1], buf[RELOAD_LINE_MAX];
	int status = (int)resp->status, rc = report_exit_status(status);
	unsigned shown = 0;

	if (!e || !e[strspn(e, "\n")])
		return report_status(c, resp);
	while (*e && shown < RELOAD_LINES_SHOWN) {
		size_t n = strcspn(e, "\n"), keep = n < RELOAD_LINE_MAX ? n : RELOAD_LINE_MAX;

		/* One byte more than out_printable keeps, so that it marks the cut. */
		memcpy(line, e, keep);
		line[keep] = '\0';
		e += n + (e[n] == '\n');
		if (n == 0)
			continue;
		report_prefix(c);
		fprintf(stderr, "%s\n", out_printable(line, buf, sizeof(buf)));
		shown++;
	}
	if (e[strspn(e, "\n")]) {
		report_prefix(c);
		fputs("...\n", stderr);
	}
	out_error(&c->out, c->cmd->name, "daemon", rc, wire_status_name(status), status,
		  resp->error);
	return rc;
}

static int cmd_reload_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminReloadReq body = PAGEPOOL__V1__ADMIN_RELOAD_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	const Pagepool__V1__AdminReloaded *r;
	admin_response *resp;
	struct out *o = &c->out;
	int rc;

	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_RELOAD;
	req.reload = &body;
	rc = request_run(c, &req, PAGEPOOL__V1__ADMIN_RESPONSE__BODY_RELOADED, &resp,
			 reload_refused);
	if (rc)
		return rc;
	r = resp->reloaded;
	out_arr_begin(o, "changes");
	for (size_t i = 0; i < r->n_changes; i++)
		out_str(o, NULL, "%s\n", r->changes[i]);
	out_end(o);
	if (r->n_changes == 0)
		out_text(o, "reloaded: no changes\n");
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_reload_entry = {
	"reload", "",
	"Ask the daemon to re-read its configuration file and apply what can\n"
	"change at run time (log_level, decay_interval, write_timeout,\n"
	"read_timeout, drain_mode, pcp_high/pcp_batch, quotas); prints one line\n"
	"per setting that changed, or 'reloaded: no changes'.  A file that is\n"
	"invalid, or that changes something needing a restart (sockets, workers,\n"
	"pools and their sizes), is refused with the daemon's reasons on stderr\n"
	"(exit 65) and the running configuration stays as it was.\n"
	"JSON: {changes: [lines]}.",
	0, 0, cmd_reload_run,
};
