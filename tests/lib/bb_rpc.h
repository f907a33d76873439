/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bb_rpc.h - round trips on a raw connection (struct bb_conn): one request
 * of the client or the admin protocol sent through the transport, and the
 * answer received through it.
 *
 * These send and receive with transport_send and transport_recv rather than
 * transport_call: a test expects its answers itself (bb_rpc asserts the id),
 * and transport_call would take an error answer with id 0 - which the daemon
 * also gives to a request with id 0 on a connection that goes on - for the
 * daemon's last word.
 */
#ifndef PP_BB_RPC_H
#define PP_BB_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "bb_conn.h"
#include "bb_msg.h"

/* Send one request and receive the response to it; asserts that one arrives
 * and that it echoes the request's id.  Free it with bb_resp_free. */
bb_response *bb_rpc(struct bb_conn *c, const bb_request *req);

/*
 * One admin request on a connection to the admin socket: 0 and its answer
 * in *out (whatever its status and id: the caller checks them, and frees
 * it with protobuf_c_message_free_unpacked), or the -errno of the send or
 * receive (*out NULL; -ECONNRESET: the daemon closed without an answer).
 */
int bb_admin_call(struct bb_conn *c, const bb_admin_request *req, bb_admin_response **out);

/* Raw hello on c; asserts the Welcome.  Returns it (bb_resp_free). */
bb_response *bb_raw_hello(struct bb_conn *c, uint64_t id, const char *pool);

/* Raw alloc on c; asserts success and returns how many pfns came back
 * (copied to pfns[] when not NULL). */
size_t bb_raw_alloc(struct bb_conn *c, uint64_t id, uint32_t order, uint32_t count,
		    uint32_t *pfns);

#endif
