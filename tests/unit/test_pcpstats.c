/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pcpstats.c - the pcp counters are declared once, in daemon/stats.h
 * (PCP_COUNTERS); the wire message PcpStats (proto/pagepool.proto) must
 * carry exactly those counters besides its identity and tunable fields.
 * The daemon's build already fails when a counter of the list is missing
 * from the message or is not a uint64 (admin_req.c); this test walks
 * protobuf-c's descriptor of the message for the other direction: a counter
 * added to the .proto alone, which the daemon would leave at 0 and
 * pagepoolctl would never print.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pagepool.pb-c.h"
#include "stats.h"

/* PcpStats fields that are not counters: which pcp, and its state now. */
static const char *const identity[] = { "pool", "worker", "cpu", "count", "high", "batch" };

static const char *const counters[] = {
#define X(name, title, desc) #name,
	PCP_COUNTERS(X)
#undef X
};

static const ProtobufCMessageDescriptor *desc = &pagepool__v1__pcp_stats__descriptor;

static bool listed(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Every field of the message is an identity field or a counter of the list. */
static void test_no_unlisted_fields(void **state)
{
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const char *name = desc->fields[i].name;

		if (!listed(name, identity, ARRAY_SIZE(identity)) &&
		    !listed(name, counters, ARRAY_SIZE(counters)))
			fail_msg("PcpStats.%s is not in daemon/stats.h's PCP_COUNTERS "
				 "(nor an identity field): add it there", name);
	}
	assert_int_equal(desc->n_fields, ARRAY_SIZE(identity) + ARRAY_SIZE(counters));
}

/* Every counter of the list is a singular uint64 field, in the list's order. */
static void test_counters_in_order(void **state)
{
	uint32_t last = 0;

	for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(desc, counters[i]);

		if (!f)
			fail_msg("stats.h counter %s is not a field of PcpStats", counters[i]);
		assert_int_equal(f->type, PROTOBUF_C_TYPE_UINT64);
		assert_int_equal(f->label, PROTOBUF_C_LABEL_NONE);
		if (f->id <= last)
			fail_msg("PcpStats.%s (field %u) comes before the counter listed ahead of "
				 "it in stats.h (field %u)", counters[i], f->id, last);
		last = f->id;
	}
}

/* Each counter has a column title and a description, and the titles differ. */
static void test_titles(void **state)
{
	static const char *const titles[] = {
#define X(name, title, desc) title,
		PCP_COUNTERS(X)
#undef X
	};
	static const char *const descs[] = {
#define X(name, title, desc) desc,
		PCP_COUNTERS(X)
#undef X
	};

	for (size_t i = 0; i < ARRAY_SIZE(titles); i++) {
		assert_true(titles[i][0] != '\0');
		assert_true(descs[i][0] != '\0');
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(titles[i], titles[k]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_unlisted_fields),
		cmocka_unit_test(test_counters_in_order),
		cmocka_unit_test(test_titles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
