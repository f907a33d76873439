/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_metrics.c - pagepoolctl metrics: every counter and gauge of the
 * daemon in the Prometheus text exposition format, as the daemon rendered
 * it (daemon/metrics.c), for node_exporter's textfile collector.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "transport.h"

/* The exposition grows with pools and workers (every label set is shown):
 * beyond the default frame limit on a large host, so this one allows more. */
#define METRICS_MAX_FRAME	(16u << 20)

static int cmd_metrics_run(struct ctl *c, const struct ctl_args *a)
{
	Pagepool__V1__AdminMetricsReq body = PAGEPOOL__V1__ADMIN_METRICS_REQ__INIT;
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	admin_response *resp = NULL;
	struct pp_transport t;
	int err, rc;

	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_METRICS;
	req.metrics = &body;
	err = request_connect(c, &t);
	if (!err) {
		t.max_frame = METRICS_MAX_FRAME;
		err = request_call(&t, &req, &resp);
	}
	transport_close(&t);
	if (err)
		return report_errno(c, err, t.error);
	if (resp->status != PAGEPOOL__V1__STATUS__OK) {
		rc = report_status(c, resp);
		request_free(resp);
		return rc;
	}
	if (resp->body_case != PAGEPOOL__V1__ADMIN_RESPONSE__BODY_METRICS) {
		request_free(resp);
		return report_errno(c, -EPROTO, "response without the metrics");
	}
	/* As sent: the format is the daemon's, and a label may hold any byte. */
	out_text(&c->out, "%s", resp->metrics->text);
	out_json_str(&c->out, "text", resp->metrics->text);
	request_free(resp);
	return 0;
}

const struct ctl_cmd cmd_metrics_entry = {
	"metrics", "",
	"Print every counter and gauge of the daemon in the Prometheus text\n"
	"exposition format (version 0.0.4): allocations and frees by pool, order\n"
	"and result, protocol errors, connections by cause, drains by mode and\n"
	"trigger, range operations, page gauges per pool, and the request and\n"
	"drain latency histograms.  Write it atomically into node_exporter's\n"
	"textfile directory to have it scraped.\n"
	"JSON: {text: the exposition}.",
	0, 0, cmd_metrics_run,
};
