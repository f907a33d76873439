/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * refuse.c - the last word to a peer that is turned away (see refuse.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "refuse.h"
#include "wire.h"

void refuse_msg(int fd, const ProtobufCMessage *msg)
{
	char junk[4096];
	uint8_t *buf;
	size_t len;

	if (wire_encode(msg, UINT32_MAX, &buf, &len) == 0) {
		while (send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
		free(buf);
	}
	/* A request already sent and left unread would make the close a reset
	 * (ECONNRESET instead of EOF after our answer); take it off, within
	 * reason. */
	for (int i = 0; i < 16 && recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0; i++)
		;
	close(fd);
}

void refuse_client(int fd, int err, const char *fmt, ...)
{
	wire_response r;
	char text[160];
	va_list ap;

	pagepool__v1__response__init(&r);
	r.status = (Pagepool__V1__Status)wire_status_from_errno(err);
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r.error = text;
	refuse_msg(fd, &r.base);
}
