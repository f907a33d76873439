/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * stress-admin.c - the stress test's admin client: one round trip per
 * call through proto/transport.h, answers judged by status.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "stress.h"

/* Status, stats and clients answers grow with the clients: take big ones. */
#define ADMIN_MAX_FRAME		(16u << 20)

int admin_open(struct admin *a, const char *path)
{
	int err = transport_connect(&a->t, path, ADMIN_TIMEOUT_MS);

	a->t.max_frame = ADMIN_MAX_FRAME;
	snprintf(a->why, sizeof(a->why), "%s", err ? a->t.error : "");
	return err;
}

void admin_close(struct admin *a)
{
	transport_close(&a->t);
}

/*
 * One admin round trip.  0 with *out (any status; free with resp_free), or
 * -errno with a->why when the exchange failed: that is always a failure of
 * the run.
 */
static int admin_call(struct admin *a, admin_request *req, admin_response **out)
{
	ProtobufCMessage *resp = NULL;
	int err;

	req->id = transport_next_id(&a->t);
	err = transport_call(&a->t, &req->base, &pagepool__v1__admin_response__descriptor, &resp,
			     NULL);
	*out = NULL;
	if (resp && a->t.broken) {
		/* The daemon's last word (id 0) before it closed: no answer. */
		snprintf(a->why, sizeof(a->why), "answer with id 0 to request %" PRIu64 ": %.200s",
			 req->id, a->t.error);
		resp_free((admin_response *)resp);
		return -EPROTO;
	}
	if (resp) {
		*out = (admin_response *)resp;
		return 0;	/* answered, whatever its status */
	}
	snprintf(a->why, sizeof(a->why), "%s", a->t.error);
	return err;
}

void resp_free(admin_response *resp)
{
	if (resp)
		pagepool__v1__admin_response__free_unpacked(resp, NULL);
}

/*
 * A call whose answer matters only by its status: the status (0 OK, or the
 * errno the daemon answered) with the daemon's text in a->why, or -errno
 * when the exchange failed.  *out keeps the response when out is not NULL.
 */
static int admin_status_of(struct admin *a, admin_request *req, admin_response **out)
{
	admin_response *resp;
	int err = admin_call(a, req, &resp);

	if (err)
		return err;
	err = (int)resp->status;
	if (err)
		snprintf(a->why, sizeof(a->why), "%s", resp->error ? resp->error : "");
	if (out)
		*out = resp;
	else
		resp_free(resp);
	return err;
}

/* Empty-bodied requests (status, stats, buddyinfo, clients, reload): every
 * empty message has the same layout, so one body serves, typed by `desc`. */
int admin_empty(struct admin *a, int req_case, const ProtobufCMessageDescriptor *desc,
		admin_response **out)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	ProtobufCMessage body;

	protobuf_c_message_init(desc, &body);
	req.body_case = (Pagepool__V1__AdminRequest__BodyCase)req_case;
	req.status = (Pagepool__V1__AdminStatusReq *)&body;
	return admin_status_of(a, &req, out);
}

int admin_status(struct admin *a, admin_response **out)
{
	int err = admin_empty(a, PAGEPOOL__V1__ADMIN_REQUEST__BODY_STATUS,
			      &pagepool__v1__admin_status_req__descriptor, out);

	if (err > 0)
		resp_free(*out);
	if (err == 0 && (*out)->body_case != PAGEPOOL__V1__ADMIN_RESPONSE__BODY_STATUS_INFO) {
		resp_free(*out);
		snprintf(a->why, sizeof(a->why), "status answer without AdminStatus");
		return -EPROTO;
	}
	return err;
}

int admin_drain(struct admin *a, const char *pool, const char *mode, bool force,
		uint64_t *pages)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminDrainReq d = PAGEPOOL__V1__ADMIN_DRAIN_REQ__INIT;
	admin_response *resp = NULL;
	int err;

	d.pool = (char *)pool;
	d.mode = (char *)mode;
	d.force = force;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_DRAIN;
	req.drain = &d;
	err = admin_status_of(a, &req, &resp);
	*pages = 0;
	if (err == 0 && resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_DRAINED)
		*pages = resp->drained->pages;
	if (err >= 0)
		resp_free(resp);
	return err;
}

/* offline (online = false) or online of [start, start + count) in `pool`. */
int admin_range(struct admin *a, bool online, const char *pool, uint32_t start,
		uint32_t count)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminOfflineReq off = PAGEPOOL__V1__ADMIN_OFFLINE_REQ__INIT;
	Pagepool__V1__AdminOnlineReq on = PAGEPOOL__V1__ADMIN_ONLINE_REQ__INIT;

	if (online) {
		on.pool = (char *)pool;
		on.start = start;
		on.count = count;
		req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_ONLINE;
		req.online = &on;
	} else {
		off.pool = (char *)pool;
		off.start = start;
		off.count = count;
		req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_OFFLINE;
		req.offline = &off;
	}
	return admin_status_of(a, &req, NULL);
}

int admin_trim(struct admin *a, const char *pool, uint64_t *pages)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminTrimReq t = PAGEPOOL__V1__ADMIN_TRIM_REQ__INIT;
	admin_response *resp = NULL;
	int err;

	t.pool = (char *)pool;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_TRIM;
	req.trim = &t;
	err = admin_status_of(a, &req, &resp);
	*pages = err == 0 && resp->body_case == PAGEPOOL__V1__ADMIN_RESPONSE__BODY_TRIMMED
		 ? resp->trimmed->pages : 0;
	if (err >= 0)
		resp_free(resp);
	return err;
}

int admin_set_pcp(struct admin *a, const char *pool, uint32_t high, uint32_t batch)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminSetPcpReq s = PAGEPOOL__V1__ADMIN_SET_PCP_REQ__INIT;

	s.pool = (char *)pool;
	s.high = high;
	s.batch = batch;
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_SET_PCP;
	req.set_pcp = &s;
	return admin_status_of(a, &req, NULL);
}

/*
 * verify every pool: 0 when all hold; 1 with the broken pools' messages in
 * msg when one does not; -errno (or the daemon's errno) when the call fails.
 */
int admin_verify(struct admin *a, char *msg, size_t n)
{
	admin_request req = PAGEPOOL__V1__ADMIN_REQUEST__INIT;
	Pagepool__V1__AdminVerifyReq v = PAGEPOOL__V1__ADMIN_VERIFY_REQ__INIT;
	admin_response *resp = NULL;
	int err;

	msg[0] = '\0';
	v.pool = (char *)"";
	req.body_case = PAGEPOOL__V1__ADMIN_REQUEST__BODY_VERIFY;
	req.verify = &v;
	err = admin_status_of(a, &req, &resp);
	if (err != 0) {
		if (err > 0)
			resp_free(resp);
		return err;
	}
	if (resp->body_case != PAGEPOOL__V1__ADMIN_RESPONSE__BODY_VERIFIED ||
	    resp->verified->n_pools != NPOOLS) {
		snprintf(msg, n, "verify answered without a result for each of the %zu pools",
			 NPOOLS);
		err = 1;
	} else {
		for (size_t i = 0; i < resp->verified->n_pools; i++) {
			const Pagepool__V1__PoolVerify *pv = resp->verified->pools[i];

			if (pv->ok)
				continue;
			snprintf(msg + strlen(msg), n - strlen(msg), "pool %s: %s; ", pv->name,
				 pv->message);
			err = 1;
		}
	}
	resp_free(resp);
	return err;
}
