/* SPDX-License-Identifier: MIT */
/*
 * The port the fuzz targets link instead of src/port/posix/port.c: the same hooks, but the
 * log is quiet (a fuzzer breaks a queue on most inputs, and one line per input would drown
 * the real report) unless VBT_FUZZ_LOG is set in the environment.
 */
#include <stdio.h>
#include <stdlib.h>

#include "virtio-backend/port.h"
#include "internal/check.h"

void vb_port_log(enum vb_log_level level, const char *msg)
{
	static int verbose = -1;

	if (verbose < 0)
		verbose = getenv("VBT_FUZZ_LOG") != NULL;
	if (verbose)
		fprintf(stderr, "virtio-backend: log %d: %s\n", (int)level, msg);
}

void vb_port_dcache_clean(const void *p, size_t len)
{
	(void)p;
	(void)len;
}

void vb_port_dcache_invalidate(const void *p, size_t len)
{
	(void)p;
	(void)len;
}

#if !defined(NDEBUG) && !defined(VB_COVERAGE) && !defined(VB_FREESTANDING)
/* An internal check of the core failed: always a finding. */
void vbi_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "virtio-backend: internal check failed: %s (%s:%d)\n", expr, file, line);
	abort();
}
#endif
