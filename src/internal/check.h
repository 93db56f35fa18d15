/* SPDX-License-Identifier: MIT */
/*
 * Defensive checks for conditions that should be impossible (SQLite's ALWAYS/NEVER): they stay
 * in release builds, abort in debug builds, and stop distorting branch coverage under
 * VB_COVERAGE. Never used on guest-controlled input: that is validated, always.
 */
#ifndef VB_INTERNAL_CHECK_H
#define VB_INTERNAL_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#if defined(VB_COVERAGE)
#define VB_ALWAYS(x)	(1)
#define VB_NEVER(x)	(0)
#elif !defined(NDEBUG) && !defined(VB_FREESTANDING)
void vbi_assert_fail(const char *expr, const char *file, int line);
#define VB_ALWAYS(x)	((x) ? 1 : (vbi_assert_fail(#x, __FILE__, __LINE__), 0))
#define VB_NEVER(x)	((x) ? (vbi_assert_fail(#x, __FILE__, __LINE__), 1) : 0)
#else
#define VB_ALWAYS(x)	(x)
#define VB_NEVER(x)	(x)
#endif

/* True if [addr, addr + len) lies inside [base, base + size); no sum can overflow. */
static inline bool vbi_range_inside(uint64_t addr, uint64_t len, uint64_t base, uint64_t size)
{
	return addr >= base && addr - base <= size && len <= size - (addr - base);
}

#endif
