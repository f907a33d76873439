/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_rpc.c - round trips on a raw connection (see bb_rpc.h).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <string.h>
#include <cmocka.h>

#include "bb_rpc.h"

bb_response *bb_rpc(struct bb_conn *c, const bb_request *req)
{
	bb_response *resp = NULL;
	int r = bb_conn_send_msg(c, &req->base);

	if (r != 0)
		print_error("send of request %llu: %s\n", (unsigned long long)req->id, strerror(-r));
	assert_int_equal(r, 0);
	r = bb_conn_recv(c, BB_IO_TIMEOUT_MS, &resp);
	if (r != 0)
		print_error("response to request %llu: %s\n", (unsigned long long)req->id,
			    r == -ECONNRESET ? "connection closed by the daemon" : strerror(-r));
	assert_int_equal(r, 0);
	assert_int_equal(resp->id, req->id);
	return resp;
}

int bb_admin_call(struct bb_conn *c, const bb_admin_request *req, bb_admin_response **out)
{
	int r = bb_conn_send_msg(c, &req->base);

	*out = NULL;
	if (r != 0)
		return r;
	return bb_conn_recv_msg(c, BB_IO_TIMEOUT_MS, &pagepool__v1__admin_response__descriptor,
				(ProtobufCMessage **)out);
}

bb_response *bb_raw_hello(struct bb_conn *c, uint64_t id, const char *pool)
{
	struct bb_req q;
	bb_response *r = bb_rpc(c, bb_req_hello(&q, id, 1, pool));

	bb_assert_status(r, PAGEPOOL__V1__STATUS__OK);
	assert_int_equal(r->body_case, PAGEPOOL__V1__RESPONSE__BODY_WELCOME);
	return r;
}

size_t bb_raw_alloc(struct bb_conn *c, uint64_t id, uint32_t order, uint32_t count,
		    uint32_t *pfns)
{
	struct bb_req q;
	bb_response *r = bb_rpc(c, bb_req_alloc(&q, id, order, count, 0));
	size_t n;

	bb_assert_status(r, PAGEPOOL__V1__STATUS__OK);
	assert_int_equal(r->body_case, PAGEPOOL__V1__RESPONSE__BODY_PAGES);
	n = r->pages->n_pfns;
	assert_int_equal(n, count);
	if (pfns)
		memcpy(pfns, r->pages->pfns, n * sizeof(*pfns));
	bb_resp_free(r);
	return n;
}
