/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_wire_fast.c - the hand codec of the hot messages (proto/wire.c:
 * wire_fast_pages_pack, wire_fast_free_decode) against protobuf-c, which is
 * the reference.  The encoder must give protobuf-c's bytes exactly, for ids,
 * orders, list lengths and values at every varint length boundary.  The
 * decoder must accept what protobuf-c packs for a Request{id, Free{pfns}}
 * (ids below 2^63) with protobuf-c's result, and refuse every other shape
 * (the daemon then falls back to protobuf-c, so refusing more is only slower).
 * The key property is differential: whatever the fast decoder accepts,
 * protobuf-c decodes to the same id and pfns with body FREE and no unknown
 * field.  It is checked over every single-byte mutation, truncation,
 * deletion and insertion (and a set of byte pairs) of ~20 valid requests,
 * and over every short body made of the bytes that matter to the parser.
 * (tests/fuzz holds no raw request bodies: fuzz_proto inputs are chunked
 * streams, so its corpus is not replayed here.)  Everything is enumerated:
 * no randomness.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "wire.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define CANARY 32
#define SWEEP_MAX 64		/* pfns room in the differential sweep */

/* One value at each edge of each varint length (1 to 5 bytes). */
static uint32_t bounds[] = {
	0, 127, 128, 16383, 16384, (1u << 21) - 1, 1u << 21, (1u << 28) - 1, 1u << 28, UINT32_MAX,
};

static const uint64_t ids[] = {
	0, 1, 127, 128, 1ull << 32, (1ull << 63) - 1, 1ull << 63, (1ull << 63) + 5, UINT64_MAX,
};

static const uint32_t orders[] = { 0, 1, 10, 127, 128, UINT32_MAX };

/* A fixed mix: boundary values and a fixed linear congruential sequence. */
static uint32_t *mixed_list(size_t n)
{
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v)), x = 12345;

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		v[i] = i % 3 ? bounds[(i + i / 10) % ARRAY_LEN(bounds)] : x >> (i % 32);
	}
	return v;
}

static uint32_t *const_list(size_t n, uint32_t value)
{
	uint32_t *v = malloc((n ? n : 1) * sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++)
		v[i] = value;
	return v;
}

/* ---- encoder ------------------------------------------------------------- */

/* protobuf-c's bytes for the Response conn_req builds for Pages (status OK,
 * error pointing to an empty string, as conn_req_init leaves it). */
static uint8_t *ref_pages_pack(uint64_t id, uint32_t *pfns, size_t n, uint32_t order,
			       size_t *len)
{
	static char empty[1];
	Pagepool__V1__Response r = PAGEPOOL__V1__RESPONSE__INIT;
	Pagepool__V1__Pages pg = PAGEPOOL__V1__PAGES__INIT;
	uint8_t *buf;

	pg.pfns = pfns;
	pg.n_pfns = n;
	pg.order = order;
	r.id = id;
	r.status = PAGEPOOL__V1__STATUS__OK;
	r.error = empty;
	r.body_case = PAGEPOOL__V1__RESPONSE__BODY_PAGES;
	r.pages = &pg;
	*len = protobuf_c_message_get_packed_size(&r.base);
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(&r.base, buf), *len);
	return buf;
}

/* wire_fast_pages_pack gives protobuf-c's bytes, within wire_fast_pages_max
 * and writing nothing past it. */
static void check_pack(uint64_t id, uint32_t *pfns, size_t n, uint32_t order)
{
	size_t max = wire_fast_pages_max(n), ref_len, len;
	uint8_t *ref = ref_pages_pack(id, pfns, n, order, &ref_len);
	uint8_t *out = malloc(max + CANARY);

	assert_non_null(out);
	memset(out, 0xa5, max + CANARY);
	len = wire_fast_pages_pack(out, id, pfns, n, order);
	assert_true(len <= max);
	assert_int_equal(len, ref_len);
	assert_memory_equal(out, ref, len);
	for (size_t i = max; i < max + CANARY; i++)
		assert_int_equal(out[i], 0xa5);
	free(out);
	free(ref);
}

static void pack_all_ids_orders(uint32_t *pfns, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(ids); i++)
		for (size_t o = 0; o < ARRAY_LEN(orders); o++)
			check_pack(ids[i], pfns, n, orders[o]);
}

/* Calls fn on the value sets both directions are checked with: empty, each
 * boundary value alone, every pair of them, all of them, and 1024 and
 * 65536 mixed values. */
static void for_value_sets(void (*fn)(uint32_t *pfns, size_t n))
{
	uint32_t pair[2], *v;

	fn(bounds, 0);
	for (size_t a = 0; a < ARRAY_LEN(bounds); a++)
		fn(&bounds[a], 1);
	for (size_t a = 0; a < ARRAY_LEN(bounds); a++)
		for (size_t b = 0; b < ARRAY_LEN(bounds); b++) {
			pair[0] = bounds[a];
			pair[1] = bounds[b];
			fn(pair, 2);
		}
	fn(bounds, ARRAY_LEN(bounds));
	v = mixed_list(1024);
	fn(v, 1024);
	free(v);
	v = mixed_list(65536);
	fn(v, 65536);
	free(v);
}

/* Empty, each boundary value alone, every pair, 1024 and 65536 mixed. */
static void test_pages_pack_matches_protobuf_c(void **state)
{
	uint32_t *v;

	for_value_sets(pack_all_ids_orders);
	/* Only 5-byte pfns: the longest body for n, up to its bound. */
	for (size_t k = 0; k < 2; k++) {
		v = const_list(65536, k ? UINT32_MAX : 1u << 28);
		pack_all_ids_orders(v, 3);
		pack_all_ids_orders(v, 7);
		pack_all_ids_orders(v, 1024);
		pack_all_ids_orders(v, 65536);
		free(v);
	}
}

/* The lengths in the head change size: the list's bytes and the Pages
 * body cross 2^7, 2^14 and 2^21 (the list is moved up to the head). */
static void test_pages_pack_length_boundaries(void **state)
{
	static const uint64_t some_ids[] = { 0, 1, UINT64_MAX };
	static const uint32_t some_orders[] = { 0, 10, UINT32_MAX };
	static const struct { size_t from, to; uint32_t value; } ranges[] = {
		{ 0, 300, 1 },				/* 1 byte a pfn */
		{ 50, 80, 300 },			/* 2 bytes: list ~128 bytes */
		{ 16370, 16390, 5 },
		{ 8180, 8200, 200 },			/* 2 bytes: ~16384 */
		{ 5455, 5465, 1u << 14 },		/* 3 bytes: ~16384 */
		{ (1u << 21) - 12, (1u << 21) + 2, 0 },	/* ~2^21 bytes: one id */
	};

	for (size_t r = 0; r < ARRAY_LEN(ranges); r++) {
		uint32_t *v = const_list(ranges[r].to, ranges[r].value);
		size_t nids = ranges[r].to > 100000 ? 1 : ARRAY_LEN(some_ids);

		for (size_t n = ranges[r].from; n <= ranges[r].to; n++)
			for (size_t i = ARRAY_LEN(some_ids) - nids; i < ARRAY_LEN(some_ids); i++)
				for (size_t o = 0; o < ARRAY_LEN(some_orders); o++)
					check_pack(some_ids[i], v, n, some_orders[o]);
		free(v);
	}
}

/* ---- decoder: what protobuf-c packs ------------------------------------- */

static uint8_t *ref_free_pack(uint64_t id, uint32_t *pfns, size_t n, size_t *len)
{
	Pagepool__V1__Request r = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free fr = PAGEPOOL__V1__FREE__INIT;
	uint8_t *buf;

	fr.pfns = pfns;
	fr.n_pfns = n;
	r.id = id;
	r.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	r.free = &fr;
	*len = protobuf_c_message_get_packed_size(&r.base);
	buf = malloc(*len);
	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(&r.base, buf), *len);
	return buf;
}

/* The body in a buffer of its exact size, so that a sanitizer build
 * (make SAN=address) sees any read past its end. */
static uint8_t *exact_copy(const uint8_t *b, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	assert_non_null(c);
	if (len)
		memcpy(c, b, len);
	return c;
}

/* Decode with room for exactly `max` pfns, and check nothing is written
 * past it. */
static bool fast_decode(const uint8_t *b, size_t len, size_t max, uint64_t *id,
			uint32_t **pfns, size_t *n)
{
	uint32_t *room = malloc((max + CANARY) * sizeof(*room));
	uint8_t *body = exact_copy(b, len);
	bool ok;

	assert_non_null(room);
	for (size_t i = max; i < max + CANARY; i++)
		room[i] = 0xdeadbeef;
	ok = wire_fast_free_decode(body, len, id, room, max, n);
	for (size_t i = max; i < max + CANARY; i++)
		assert_int_equal(room[i], 0xdeadbeef);
	free(body);
	*pfns = room;
	return ok;
}

/*
 * protobuf-c's packing of Request{id, Free{pfns}}: accepted with its id and
 * pfns when there is room for them, refused with one pfn too few.  Refused
 * as well, left to protobuf-c: an id of 2^63 and more (a 10-byte varint)
 * and an empty list (protobuf-c packs it as an empty Free, 0x22 0x00).
 */
static void check_decode_accepts(uint64_t id, uint32_t *pfns, size_t n)
{
	bool expect = id < 1ull << 63 && n > 0;
	size_t len, got;
	uint8_t *b = ref_free_pack(id, pfns, n, &len);
	uint64_t gid;
	uint32_t *g;

	for (size_t extra = 0; extra <= 1; extra++) {
		assert_int_equal(fast_decode(b, len, n + extra, &gid, &g, &got), expect);
		if (expect) {
			assert_int_equal(gid, id);
			assert_int_equal(got, n);
			assert_memory_equal(g, pfns, n * sizeof(*pfns));
		}
		free(g);
	}
	if (n) {
		assert_false(fast_decode(b, len, n - 1, &gid, &g, &got));
		free(g);
	}
	free(b);
}

static void decode_all_ids(uint32_t *pfns, size_t n)
{
	for (size_t i = 0; i < ARRAY_LEN(ids); i++)
		check_decode_accepts(ids[i], pfns, n);
}

static void test_free_decode_accepts_protobuf_c(void **state)
{
	uint32_t *v;

	for_value_sets(decode_all_ids);
	/* The list's and the Free's lengths cross 2^7 and 2^14 bytes. */
	for (size_t n = 120; n <= 135; n++) {
		v = const_list(n, 1);
		decode_all_ids(v, n);
		free(v);
	}
	for (size_t n = 16375; n <= 16390; n++) {
		v = const_list(n, 7);
		decode_all_ids(v, n);
		free(v);
	}
}

/* ---- decoder: the differential property ---------------------------------- */

/*
 * Whatever wire_fast_free_decode accepts, protobuf-c decodes the same bytes
 * to a Request with body FREE, the same id and pfns, no unknown field
 * (which the daemon would refuse) and no other field set: its packed size is
 * that of Request{id, Free{pfns}}, whatever fields the schema may add to
 * either message.  Returns whether the fast decoder accepted.
 */
static bool check_same_as_protobuf_c(const uint8_t *b, size_t len)
{
	Pagepool__V1__Request mine = PAGEPOOL__V1__REQUEST__INIT;
	Pagepool__V1__Free fr = PAGEPOOL__V1__FREE__INIT;
	uint32_t pfns[SWEEP_MAX];
	uint8_t *body = exact_copy(b, len);
	wire_request *req;
	uint64_t id;
	size_t n;
	bool ok;

	ok = wire_fast_free_decode(body, len, &id, pfns, SWEEP_MAX, &n);
	free(body);
	if (!ok)
		return false;
	req = (wire_request *)wire_unpack(&pagepool__v1__request__descriptor, b, len);
	assert_non_null(req);
	assert_int_equal(req->body_case, PAGEPOOL__V1__REQUEST__BODY_FREE);
	assert_non_null(req->free);
	assert_false(wire_has_unknown_fields(&req->base));
	assert_int_equal(req->id, id);
	assert_int_equal(req->free->n_pfns, n);
	if (n)
		assert_memory_equal(req->free->pfns, pfns, n * sizeof(*pfns));
	fr.pfns = pfns;
	fr.n_pfns = n;
	mine.id = id;
	mine.body_case = PAGEPOOL__V1__REQUEST__BODY_FREE;
	mine.free = &fr;
	assert_int_equal(protobuf_c_message_get_packed_size(&req->base),
			 protobuf_c_message_get_packed_size(&mine.base));
	wire_request_free(req);
	return true;
}

/* Shapes protobuf-c never packs that the fast decoder may accept: then
 * with protobuf-c's result. */
static void test_free_decode_noncanonical_same(void **state)
{
	static const struct { uint8_t len, b[16]; } cases[] = {
		{ 4, { 0x22, 0x02, 0x0a, 0x00 } },			/* empty packed list */
		{ 5, { 0x22, 0x03, 0x0a, 0x01, 0x05 } },		/* no id */
		{ 7, { 0x08, 0x00, 0x22, 0x03, 0x0a, 0x01, 0x05 } },	/* id 0 written */
		{ 8, { 0x08, 0x80, 0x00, 0x22, 0x03, 0x0a, 0x01, 0x05 } },	/* id 0, 2 bytes */
		{ 6, { 0x22, 0x04, 0x0a, 0x02, 0x80, 0x00 } },		/* pfn 0, 2 bytes */
		{ 9, { 0x22, 0x07, 0x0a, 0x05, 0x80, 0x80, 0x80, 0x80, 0x00 } }, /* pfn 0, 5 bytes */
		{ 6, { 0x22, 0x83, 0x00, 0x0a, 0x01, 0x05 } },		/* Free's length, 2 bytes */
		{ 6, { 0x22, 0x04, 0x0a, 0x81, 0x00, 0x05 } },		/* list's length, 2 bytes */
		{ 9, { 0x22, 0x07, 0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f } }, /* UINT32_MAX */
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (!check_same_as_protobuf_c(cases[i].b, cases[i].len))
			fail_msg("refused: case %zu", i);
}

/* protobuf-c's verdict on an input the fast decoder refuses. */
enum pbc { PBC_OK, PBC_BAD, PBC_ANY };

/*
 * Every other shape is refused.  Where protobuf-c accepts the input
 * (PBC_OK), the daemon falls back to it, which is fine: the fast path
 * only saves time.  PBC_ANY: protobuf-c's verdict is not pinned (over-long
 * or overflowing varints, tag encodings the spec leaves to the parser).
 */
static void test_free_decode_refuses(void **state)
{
	static const struct {
		const char *what;
		enum pbc pbc;
		uint8_t len, b[24];
	} cases[] = {
		{ "empty body", PBC_OK, 0, { 0 } },
		{ "id only", PBC_OK, 2, { 0x08, 0x05 } },
		{ "alloc", PBC_OK, 8, { 0x08, 0x01, 0x1a, 0x04, 0x08, 0x00, 0x10, 0x01 } },
		{ "stat", PBC_OK, 4, { 0x08, 0x01, 0x2a, 0x00 } },
		{ "hello", PBC_OK, 6, { 0x08, 0x01, 0x12, 0x02, 0x08, 0x01 } },
		{ "free, no pfns", PBC_OK, 4, { 0x08, 0x01, 0x22, 0x00 } },
		{ "free, no pfns, no id", PBC_OK, 2, { 0x22, 0x00 } },
		{ "pfns not packed", PBC_OK, 8,
		  { 0x08, 0x01, 0x22, 0x04, 0x08, 0x05, 0x08, 0x06 } },
		{ "two packed chunks", PBC_OK, 10,
		  { 0x08, 0x01, 0x22, 0x06, 0x0a, 0x01, 0x05, 0x0a, 0x01, 0x06 } },
		{ "packed then not packed", PBC_OK, 9,
		  { 0x08, 0x01, 0x22, 0x05, 0x0a, 0x01, 0x05, 0x08, 0x06 } },
		{ "6-byte varint, last", PBC_ANY, 12,
		  { 0x08, 0x01, 0x22, 0x08, 0x0a, 0x06, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 } },
		{ "6-byte varint, first", PBC_ANY, 13,
		  { 0x08, 0x01, 0x22, 0x09, 0x0a, 0x07, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01 } },
		{ "10-byte varint", PBC_ANY, 14,
		  { 0x22, 0x0c, 0x0a, 0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		    0x01 } },
		{ "5-byte varint 2^32, last", PBC_ANY, 9,
		  { 0x22, 0x07, 0x0a, 0x05, 0x80, 0x80, 0x80, 0x80, 0x10 } },
		{ "5-byte varint 2^35-1, last", PBC_ANY, 9,
		  { 0x22, 0x07, 0x0a, 0x05, 0xff, 0xff, 0xff, 0xff, 0x7f } },
		{ "5-byte varint 2^32 + 5, first", PBC_ANY, 10,
		  { 0x22, 0x08, 0x0a, 0x06, 0x85, 0x80, 0x80, 0x80, 0x10, 0x01 } },
		{ "5-byte varint 2^32, after one", PBC_ANY, 12,
		  { 0x08, 0x01, 0x22, 0x08, 0x0a, 0x06, 0x01, 0x80, 0x80, 0x80, 0x80, 0x10 } },
		{ "list ends inside a varint", PBC_BAD, 8,
		  { 0x08, 0x01, 0x22, 0x04, 0x0a, 0x02, 0x80, 0x80 } },
		{ "list ends inside a 5-byte varint", PBC_BAD, 10,
		  { 0x08, 0x01, 0x22, 0x06, 0x0a, 0x04, 0x80, 0x80, 0x80, 0x80 } },
		{ "body cut short", PBC_BAD, 7, { 0x08, 0x01, 0x22, 0x04, 0x0a, 0x02, 0x05 } },
		{ "list shorter than the Free", PBC_BAD, 8,
		  { 0x08, 0x01, 0x22, 0x04, 0x0a, 0x01, 0x05, 0x06 } },
		{ "list longer than the Free", PBC_BAD, 6, { 0x22, 0x04, 0x0a, 0x03, 0x05, 0x06 } },
		{ "Free shorter than the body", PBC_BAD, 8,
		  { 0x08, 0x01, 0x22, 0x03, 0x0a, 0x02, 0x05, 0x06 } },
		{ "Free longer than the body", PBC_BAD, 6, { 0x22, 0x06, 0x0a, 0x02, 0x05, 0x06 } },
		{ "a stat after the free", PBC_OK, 8,
		  { 0x22, 0x04, 0x0a, 0x02, 0x05, 0x06, 0x2a, 0x00 } },
		{ "a zero byte after the free", PBC_BAD, 7,
		  { 0x22, 0x04, 0x0a, 0x02, 0x05, 0x06, 0x00 } },
		{ "a second free", PBC_ANY, 10,
		  { 0x22, 0x03, 0x0a, 0x01, 0x05, 0x22, 0x03, 0x0a, 0x01, 0x06 } },
		{ "unknown field before the free", PBC_OK, 10,
		  { 0x08, 0x01, 0x78, 0x01, 0x22, 0x04, 0x0a, 0x02, 0x05, 0x06 } },
		{ "unknown field after the free", PBC_OK, 10,
		  { 0x08, 0x01, 0x22, 0x04, 0x0a, 0x02, 0x05, 0x06, 0x78, 0x01 } },
		{ "unknown field before the id", PBC_OK, 10,
		  { 0x78, 0x01, 0x08, 0x01, 0x22, 0x04, 0x0a, 0x02, 0x05, 0x06 } },
		{ "unknown field in the Free, before", PBC_OK, 8,
		  { 0x22, 0x06, 0x78, 0x01, 0x0a, 0x02, 0x05, 0x06 } },
		{ "unknown field in the Free, after", PBC_OK, 8,
		  { 0x22, 0x06, 0x0a, 0x02, 0x05, 0x06, 0x78, 0x01 } },
		{ "another Free field after the list", PBC_OK, 8,
		  { 0x22, 0x06, 0x0a, 0x02, 0x05, 0x06, 0x10, 0x01 } },
		{ "another Free field before the list", PBC_OK, 8,
		  { 0x22, 0x06, 0x10, 0x01, 0x0a, 0x02, 0x05, 0x06 } },
		{ "id after the free", PBC_OK, 8,
		  { 0x22, 0x04, 0x0a, 0x02, 0x05, 0x06, 0x08, 0x01 } },
		{ "id twice", PBC_OK, 10,
		  { 0x08, 0x01, 0x08, 0x02, 0x22, 0x04, 0x0a, 0x02, 0x05, 0x06 } },
		{ "id of 10 bytes", PBC_OK, 15,
		  { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
		    0x22, 0x02, 0x0a, 0x00 } },
		{ "id 0 in 10 bytes", PBC_OK, 16,
		  { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
		    0x22, 0x03, 0x0a, 0x01, 0x05 } },
		{ "id of 11 bytes", PBC_BAD, 17,
		  { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
		    0x22, 0x03, 0x0a, 0x01, 0x05 } },
		{ "id cut short", PBC_BAD, 2, { 0x08, 0x80 } },
		{ "free as a varint", PBC_ANY, 4, { 0x08, 0x01, 0x20, 0x01 } },
		{ "pfns as fixed32", PBC_ANY, 7, { 0x22, 0x05, 0x0d, 0x01, 0x00, 0x00, 0x00 } },
		{ "pfns tag in 2 bytes", PBC_ANY, 6, { 0x22, 0x04, 0x8a, 0x00, 0x01, 0x05 } },
		{ "free tag in 2 bytes", PBC_ANY, 6, { 0xa2, 0x00, 0x03, 0x0a, 0x01, 0x05 } },
		{ "Free's length in 6 bytes", PBC_ANY, 10,
		  { 0x22, 0x83, 0x80, 0x80, 0x80, 0x80, 0x00, 0x0a, 0x01, 0x05 } },
		{ "list's length in 6 bytes", PBC_ANY, 10,
		  { 0x22, 0x08, 0x0a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 0x05 } },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		uint64_t id;
		uint32_t *pfns;
		size_t n;
		wire_request *req;

		if (fast_decode(cases[i].b, cases[i].len, SWEEP_MAX, &id, &pfns, &n))
			fail_msg("accepted: %s", cases[i].what);
		free(pfns);
		req = (wire_request *)wire_unpack(&pagepool__v1__request__descriptor,
						  cases[i].b, cases[i].len);
		if (cases[i].pbc != PBC_ANY && (req != NULL) != (cases[i].pbc == PBC_OK))
			fail_msg("protobuf-c %s: %s", req ? "accepts" : "refuses", cases[i].what);
		wire_request_free(req);
	}
}

/* ~20 valid requests as protobuf-c packs them, mutated. */
struct seed {
	uint64_t id;
	size_t n;
	uint32_t pfns[12];
};

static struct seed seeds[] = {
	{ 0, 1, { 0 } },
	{ 1, 1, { 5 } },
	{ 1, 2, { 5, 6 } },
	{ 7, 1, { UINT32_MAX } },
	{ 127, 2, { UINT32_MAX, 0 } },
	{ 128, 2, { 0, UINT32_MAX } },
	{ 300, 2, { 127, 128 } },
	{ 16384, 3, { 16383, 16384, 1 } },
	{ 1ull << 32, 2, { (1u << 21) - 1, 1u << 21 } },
	{ (1ull << 63) - 1, 2, { (1u << 28) - 1, 1u << 28 } },
	{ 2, 10, { 0, 127, 128, 16383, 16384, (1u << 21) - 1, 1u << 21, (1u << 28) - 1,
		   1u << 28, UINT32_MAX } },
	{ 3, 10, { UINT32_MAX, 1u << 28, (1u << 28) - 1, 1u << 21, (1u << 21) - 1, 16384,
		   16383, 128, 127, 0 } },
	{ 4, 4, { 1024, 1025, 1026, 1027 } },
	{ 5, 3, { 1u << 28, 0, 1u << 28 } },
	{ 6, 2, { 0xf0000000u, 0x0fffffffu } },
	{ 9, 4, { 1, 2, 3, 0x80000000u } },
	{ 1ull << 56, 1, { 1u << 31 } },
	{ 1ull << 62, 3, { 4096, 8192, 65535 } },
	{ 100000, 12, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 } },
	{ 42, 5, { 0x7fffffffu, 0x10000000u, 0x0fffffffu, 0x00200000u, 0x001fffffu } },
};

/* The bytes a mutation puts somewhere: tags, lengths, varint edges. */
static const uint8_t sweep_bytes[] = {
	0x00, 0x01, 0x02, 0x05, 0x08, 0x0a, 0x0f, 0x10, 0x1f, 0x22, 0x7f, 0x80, 0x81, 0xff,
};
/* Fewer for pairs of bytes, each also tried as its byte +1 and -1. */
static const uint8_t pair_bytes[] = { 0x00, 0x0a, 0x10, 0x22, 0x80, 0xff };

static void test_free_decode_differential_mutations(void **state)
{
	unsigned accepted = 0, tried = 0;

	for (size_t s = 0; s < ARRAY_LEN(seeds); s++) {
		size_t len;
		uint8_t *orig = ref_free_pack(seeds[s].id, seeds[s].pfns,
					      seeds[s].n, &len);
		uint8_t *m = malloc(len + 1);

		assert_non_null(m);
		/* The seed itself. */
		assert_true(check_same_as_protobuf_c(orig, len));
		/* Every value at every byte (0x00, 0x7f, 0x80, 0xff, +1, -1 among them). */
		for (size_t i = 0; i < len; i++)
			for (unsigned v = 0; v < 256; v++) {
				memcpy(m, orig, len);
				m[i] = (uint8_t)v;
				accepted += check_same_as_protobuf_c(m, len);
				tried++;
			}
		/* Every pair of bytes set to a value that matters, or +-1. */
		for (size_t i = 0; i < len; i++)
			for (size_t j = i + 1; j < len; j++)
				for (size_t a = 0; a < ARRAY_LEN(pair_bytes) + 2; a++)
					for (size_t b = 0; b < ARRAY_LEN(pair_bytes) + 2; b++) {
						memcpy(m, orig, len);
						m[i] = a < ARRAY_LEN(pair_bytes) ? pair_bytes[a]
							: (uint8_t)(orig[i] + (a & 1 ? 1 : -1));
						m[j] = b < ARRAY_LEN(pair_bytes) ? pair_bytes[b]
							: (uint8_t)(orig[j] + (b & 1 ? 1 : -1));
						accepted += check_same_as_protobuf_c(m, len);
						tried++;
					}
		/* Every prefix. */
		for (size_t k = 0; k < len; k++)
			accepted += check_same_as_protobuf_c(orig, k);
		/* Every byte deleted. */
		for (size_t i = 0; i < len; i++) {
			memcpy(m, orig, i);
			memcpy(m + i, orig + i + 1, len - i - 1);
			accepted += check_same_as_protobuf_c(m, len - 1);
		}
		/* A byte inserted anywhere. */
		for (size_t i = 0; i <= len; i++)
			for (size_t a = 0; a < ARRAY_LEN(sweep_bytes); a++) {
				memcpy(m, orig, i);
				m[i] = sweep_bytes[a];
				memcpy(m + i + 1, orig + i, len - i);
				accepted += check_same_as_protobuf_c(m, len + 1);
			}
		free(m);
		free(orig);
	}
	/* The sweep reached the accepting side far beyond the seeds. */
	assert_true(accepted > 50 * ARRAY_LEN(seeds));
	assert_true(tried > accepted);
}

/*
 * Every body up to 5 bytes over the bytes that matter, and every body of an
 * optional id, then a Free of one list of correct lengths filled with up to
 * 5 such bytes: the accepting side (each varint length and 5th byte edge)
 * and its near misses, exhaustively.
 */
static void test_free_decode_differential_exhaustive(void **state)
{
	static const uint8_t alpha[] = {
		0x00, 0x01, 0x03, 0x05, 0x08, 0x0a, 0x0f, 0x10, 0x22, 0x7f, 0x80, 0x81, 0xf0, 0xff,
	};
	static const struct { uint8_t len, b[12]; } heads[] = {
		{ 0, { 0 } },
		{ 2, { 0x08, 0x01 } },
		{ 3, { 0x08, 0x80, 0x01 } },
		{ 10, { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f } },
	};
	const size_t na = ARRAY_LEN(alpha);
	uint8_t b[32];
	unsigned accepted = 0;

	for (size_t len = 0; len <= 5; len++) {
		size_t total = 1;

		for (size_t i = 0; i < len; i++)
			total *= na;
		for (size_t k = 0; k < total; k++) {
			size_t x = k;

			for (size_t i = 0; i < len; i++, x /= na)
				b[i] = alpha[x % na];
			accepted += check_same_as_protobuf_c(b, len);
		}
	}
	for (size_t h = 0; h < ARRAY_LEN(heads); h++)
		for (size_t len = 0; len <= 5; len++) {
			size_t total = 1, off = heads[h].len;

			memcpy(b, heads[h].b, off);
			b[off] = 0x22;
			b[off + 1] = (uint8_t)(len + 2);
			b[off + 2] = 0x0a;
			b[off + 3] = (uint8_t)len;
			for (size_t i = 0; i < len; i++)
				total *= na;
			for (size_t k = 0; k < total; k++) {
				size_t x = k;

				for (size_t i = 0; i < len; i++, x /= na)
					b[off + 4 + i] = alpha[x % na];
				accepted += check_same_as_protobuf_c(b, off + 4 + len);
			}
		}
	assert_true(accepted > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_pack_matches_protobuf_c),
		cmocka_unit_test(test_pages_pack_length_boundaries),
		cmocka_unit_test(test_free_decode_accepts_protobuf_c),
		cmocka_unit_test(test_free_decode_noncanonical_same),
		cmocka_unit_test(test_free_decode_refuses),
		cmocka_unit_test(test_free_decode_differential_mutations),
		cmocka_unit_test(test_free_decode_differential_exhaustive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
