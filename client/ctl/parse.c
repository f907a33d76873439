/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * parse.c - strict checks of pagepoolctl's operands and option values:
 * decimal numbers without sign, blank or base prefix, pool names the daemon
 * could have, page ranges that end on a valid page number.  Each reports its
 * own usage error.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "ctl.h"

int parse_number(struct ctl *c, const char *what, const char *s, uint32_t min, uint32_t max,
		 uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return report_usage(c, "%s: '%s' is not a decimal number", what, s);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return report_usage(c, "%s: '%s' is not a decimal number", what, s);
	if (errno == ERANGE || v < min || v > max)
		return report_usage(c, "%s: %s is out of range (%u..%u)", what, s, min, max);
	*out = (uint32_t)v;
	return EX_OK;
}

/* The empty name means "every pool" on the wire, so it is refused rather
 * than silently widened. */
int parse_pool(struct ctl *c, const char *what, const char *pool)
{
	if (!pool[0])
		return report_usage(c, "%s: empty pool name", what);
	if (strlen(pool) > CTL_POOL_NAME_MAX)
		return report_usage(c, "%s: pool name longer than %d bytes", what,
				    CTL_POOL_NAME_MAX);
	return EX_OK;
}

int parse_range(struct ctl *c, const struct ctl_args *a, struct range *r)
{
	int rc;

	r->pool = a->pos[0];
	rc = parse_pool(c, "POOL", r->pool);
	if (!rc)
		rc = parse_number(c, "START", a->pos[1], 0, UINT32_MAX, &r->start);
	if (!rc)
		rc = parse_number(c, "COUNT", a->pos[2], 1, UINT32_MAX, &r->count);
	if (!rc && (uint64_t)r->start + r->count - 1 > UINT32_MAX)
		rc = report_usage(c, "START+COUNT-1 = %llu is beyond the last page number %u",
				  (unsigned long long)r->start + r->count - 1, UINT32_MAX);
	return rc;
}
