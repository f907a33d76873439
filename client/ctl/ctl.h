/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ctl.h - what the parts of pagepoolctl share: the context a command runs
 * in, its parsed arguments, the command entry each cmd_*.c file exports
 * (name, usage and function, as tmux's cmd_entry), and the helpers for
 * reporting failures (report.c), asking the daemon (request.c) and checking
 * operands (parse.c).
 *
 * A command's run function returns the exit status (sysexits.h).  Every
 * failure is reported where it is found: "pagepoolctl: COMMAND: reason" on
 * stderr and, with --json, the {"error": {...}} document on stdout.
 * main.c prints the output (out_flush) once the command returns.
 */
#ifndef PP_CTL_H
#define PP_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "out.h"
#include "pagepool.pb-c.h"

#define CTL_DEFAULT_SOCKET	"/run/pagepool/pagepool-admin.sock"
#define CTL_SOCKET_ENV		"PAGEPOOL_ADMIN_SOCKET"
#define CTL_IO_TIMEOUT_S	30		/* per request */
#define CTL_OFFLINE_TIMEOUT_S	10
#define CTL_OFFLINE_TIMEOUT_MAX	86400
#define CTL_POOL_NAME_MAX	63		/* bytes, as the daemon's pools */
#define CTL_NUM_MAX		INT32_MAX	/* --high, --batch (int32 in PcpStats) */

typedef Pagepool__V1__AdminRequest admin_request;
typedef Pagepool__V1__AdminResponse admin_response;

/* Options of the commands: which command takes which (besides --json and
 * --help) is its entry's `opts`. */
#define O_POOL		0x01
#define O_MODE		0x02
#define O_FORCE		0x04
#define O_TIMEOUT	0x08
#define O_HIGH		0x10
#define O_BATCH		0x20
#define O_CLIENTS	0x40
#define O_CLIENT	0x80

struct ctl_args {
	const char *pool;		/* --pool; NULL: every pool */
	const char *mode;		/* --mode; NULL: the daemon's */
	bool force;
	bool clients;			/* --clients */
	const char *client_arg;		/* --client ID */
	uint32_t client;
	const char *high_arg, *batch_arg, *timeout_arg;
	int stray_opt;			/* an option this command does not take */
	uint32_t high, batch;
	uint32_t timeout_s;
	char **pos;			/* operands */
	int npos;
};

struct ctl;

struct ctl_cmd {
	const char *name;
	const char *synopsis;	/* what follows the name */
	const char *help;	/* what it does and prints; printed indented */
	unsigned opts;		/* O_* bits */
	int nargs;		/* operands required */
	int (*run)(struct ctl *c, const struct ctl_args *a);
};

struct ctl {
	const char *socket;
	const struct ctl_cmd *cmd;	/* NULL until known */
	struct out out;			/* out.json: --json */
};

/* The commands, in the order of the usage text (main.c lists them). */
extern const struct ctl_cmd cmd_status_entry, cmd_stats_entry, cmd_buddyinfo_entry,
	cmd_pcp_entry, cmd_clients_entry, cmd_drain_entry, cmd_offline_entry,
	cmd_online_entry, cmd_trim_entry, cmd_set_pcp_entry, cmd_verify_entry,
	cmd_reload_entry, cmd_metrics_entry, cmd_config_check_entry;

/* ---- main.c ---- */

/* Every command, NULL-ended, in the order of the usage text. */
extern const struct ctl_cmd *const ctl_commands[];
/* The command named `name`, or NULL. */
const struct ctl_cmd *ctl_command_find(const char *name);

/* ---- help.c ---- */

/* The whole usage text. */
void help_full(FILE *f);
/* One command's usage. */
void help_command(FILE *f, const struct ctl_cmd *cmd);
/* pagepoolctl help [COMMAND] (argv[0] is "help"): the exit status. */
int help_run(struct ctl *c, int argc, char **argv);

/* ---- report.c ---- */

/* "pagepoolctl: CMD: " (or "pagepoolctl: ") on stderr. */
void report_prefix(const struct ctl *c);
/* A usage error: message, hint, JSON error; returns EX_USAGE. */
int report_usage(struct ctl *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A failure on this side of the socket (err < 0; why: the words, or NULL
 * for strerror); returns the exit status. */
int report_errno(struct ctl *c, int err, const char *why);
/* The daemon refused (resp->status != OK); returns the exit status.  The
 * JSON error is left open for more keys until out_flush. */
int report_status(struct ctl *c, const admin_response *resp);
/* The exit status for a status the daemon answered. */
int report_exit_status(int status);

/* ---- request.c ---- */

/*
 * One command, one connection: send req, receive the answer, check that it
 * is OK and carries `body` (0: any or none).  EX_OK with *out set (free
 * with request_free), or the exit status with the failure reported;
 * a refusal by `refused` (report_status when NULL).
 */
int request_run(struct ctl *c, admin_request *req, int body, admin_response **out,
		int (*refused)(struct ctl *, const admin_response *));
/* The same for a request whose body is an empty message (status, stats, ...). */
int request_empty(struct ctl *c, int req_case, const ProtobufCMessageDescriptor *desc,
		  int resp_case, admin_response **out);
/* Free an answer (NULL: nothing). */
void request_free(admin_response *resp);

struct pp_transport;
/* Connect to c->socket: 0 or -errno, with the words in t->error. */
int request_connect(struct ctl *c, struct pp_transport *t);
/* One round trip on t (req->id assigned): 0 with *out set whenever the
 * daemon answered, whatever its status; -errno (words in t->error) when
 * the exchange failed. */
int request_call(struct pp_transport *t, admin_request *req, admin_response **out);

/* ---- parse.c ---- */

/* Strict decimal in min..max: EX_OK, or EX_USAGE reported. */
int parse_number(struct ctl *c, const char *what, const char *s, uint32_t min, uint32_t max,
		 uint32_t *out);
/* A pool name from the command line: EX_OK, or EX_USAGE reported. */
int parse_pool(struct ctl *c, const char *what, const char *pool);

struct range {
	const char *pool;
	uint32_t start, count;
};
/* Operands POOL START COUNT: EX_OK, or EX_USAGE reported. */
int parse_range(struct ctl *c, const struct ctl_args *a, struct range *r);

#endif
