/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * request.c - pagepoolctl's requests to the daemon's admin socket, through
 * proto/transport.c (framing, receiving, matching the answer to the
 * request).  What is pagepoolctl's own is the words: a failure to connect
 * says what to check (is the daemon running, who may connect), in the terms
 * of the usage text.  Every command but offline is one connection, one
 * request, one answer; offline keeps its connection while it polls.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"
#include "transport.h"

void request_free(admin_response *resp)
{
	if (resp)
		pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

int request_connect(struct ctl *c, struct pp_transport *t)
{
	const char *path = c->socket;
	int err = transport_connect(t, path, CTL_IO_TIMEOUT_S * 1000);
	size_t n = sizeof(t->error);

	switch (-err) {
	case 0:
	case ENAMETOOLONG:	/* the transport's words say it */
		return err;
	case ECONNREFUSED:
		/* The transport reads a missing socket file as refused too. */
		if (access(path, F_OK) < 0 && errno == ENOENT)
			snprintf(t->error, n, "%s: no such socket (is pagepoold running with "
				 "admin_socket set?)", path);
		else
			snprintf(t->error, n, "%s: connection refused (no daemon listening)", path);
		return err;
	case EACCES:
	case EPERM:
		snprintf(t->error, n, "%s: permission denied (root or the daemon's admin_group "
			 "is needed)", path);
		return -EACCES;
	case EAGAIN:
	case ETIMEDOUT:
		snprintf(t->error, n, "%s: the daemon is not accepting connections", path);
		return -EAGAIN;
	default:
		snprintf(t->error, n, "%s: %s", path, strerror(-err));
		return err;
	}
}

int request_call(struct pp_transport *t, admin_request *req, admin_response **out)
{
	ProtobufCMessage *msg;
	int err;

	req->id = transport_next_id(t);
	err = transport_call(t, &req->base, &pagepool__v1__admin_response__descriptor, &msg,
			     NULL);
	*out = (admin_response *)msg;
	if (msg)
		return 0;	/* answered: OK or refused, the caller looks */
	/* The usage text speaks of seconds, and of an answer that never came. */
	if (err == -ETIMEDOUT)
		snprintf(t->error, sizeof(t->error), "no answer from the daemon within %d s",
			 CTL_IO_TIMEOUT_S);
	else if (err == -ECONNRESET && strcmp(t->error, "the daemon closed the connection") == 0)
		snprintf(t->error, sizeof(t->error),
			 "the daemon closed the connection without answering");
	return err;
}

int request_run(struct ctl *c, admin_request *req, int body, admin_response **out,
		int (*refused)(struct ctl *, const admin_response *))
{
	struct pp_transport t;
	admin_response *resp = NULL;
	int err, rc;

	err = request_connect(c, &t);
	if (!err)
		err = request_call(&t, req, &resp);
	transport_close(&t);
	if (err)
		return report_errno(c, err, t.error);
	if (resp->status != PAGEPOOL__V1__STATUS__OK) {
		rc = refused ? refused(c, resp) : report_status(c, resp);
		request_free(resp);
		return rc;
	}
	if (body && (int)resp->body_case != body) {
		snprintf(t.error, sizeof(t.error), "response without the expected body "
			 "(field %d, expected %d)", (int)resp->body_case, body);
		request_free(resp);
		return report_errno(c, -EPROTO, t.error);
	}
	*out = resp;
	return 0;
}

/*
 * The oneof members share one union slot and every empty message has the
 * same layout, so one generic body serves them all; the descriptor gives it
 * its real type on the wire.
 */
int request_empty(struct ctl *c, int req_case, const ProtobufCMessageDescriptor *desc,
		  int resp_case, admin_response **out)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	ProtobufCMessage body;

	protobuf_c_message_init(desc, &body);
	req.body_case = (Pagepool__V1__AdminRequest__BodyCase)req_case;
	req.status = (Pagepool__V1__AdminStatusReq *)&body;
	return request_run(c, &req, resp_case, out, NULL);
}
