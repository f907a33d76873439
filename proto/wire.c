/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * wire.c - framing and strict decoding (see wire.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "wire.h"

int wire_check_len(uint32_t len, uint32_t max)
{
	return len > max ? -E2BIG : 0;
}

ProtobufCMessage *wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *body,
			      size_t len)
{
	/* protobuf-c reads nothing for len 0, but NULL + 0 is still undefined
	 * behaviour in C (and UBSan says so): hand it a real address. */
	static const uint8_t none[1];

	return protobuf_c_message_unpack(desc, NULL, len, len ? body : none);
}

int wire_encode(const ProtobufCMessage *msg, uint32_t max, uint8_t **out, size_t *outlen)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf;

	if (len > max)
		return -E2BIG;
	buf = malloc(WIRE_HDR + len);
	if (!buf)
		return -ENOMEM;
	wire_put_hdr(buf, (uint32_t)len);
	protobuf_c_message_pack(msg, buf + WIRE_HDR);
	*out = buf;
	*outlen = WIRE_HDR + len;
	return 0;
}

wire_response *wire_response_decode(const uint8_t *body, size_t len)
{
	return (wire_response *)wire_unpack(&pagepool__v1__response__descriptor, body, len);
}

void wire_request_free(wire_request *req)
{
	if (req)
		pagepool__v1__request__free_unpacked(req, NULL);
}

void wire_response_free(wire_response *resp)
{
	if (resp)
		pagepool__v1__response__free_unpacked(resp, NULL);
}

/* Unknown fields anywhere in the message tree. */
int wire_has_unknown_fields(const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	if (msg->n_unknown_fields)
		return 1;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const ProtobufCMessage *sub;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label == PROTOBUF_C_LABEL_REPEATED)
			continue;
		/* A oneof member is only valid when its case is the one set. */
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)((const char *)msg + f->quantifier_offset) != f->id)
			continue;
		sub = *(const ProtobufCMessage *const *)((const char *)msg + f->offset);
		if (sub && wire_has_unknown_fields(sub))
			return 1;
	}
	return 0;
}

int wire_status_from_errno(int err)
{
	if (err > 0 && protobuf_c_enum_descriptor_get_value(&pagepool__v1__status__descriptor, err))
		return err;
	return EINVAL;
}

const char *wire_status_name(int status)
{
	const ProtobufCEnumValue *v =
		protobuf_c_enum_descriptor_get_value(&pagepool__v1__status__descriptor, status);

	return v ? v->name : "UNKNOWN";
}
