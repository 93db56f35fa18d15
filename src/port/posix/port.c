/* SPDX-License-Identifier: MIT */
/* POSIX port: log to stderr; coherent memory needs no cache maintenance. */
#include <stdio.h>
#include <stdlib.h>

#include "virtio-backend/port.h"
#include "internal/check.h"
#include "internal/compiler.h"

VB_EXPORT void vb_port_log(enum vb_log_level level, const char *msg)
{
	static const char *const tag[] = { [VB_LOG_ERR] = "error", [VB_LOG_WARN] = "warning",
					   [VB_LOG_INFO] = "info", [VB_LOG_DEBUG] = "debug" };
	const char *t = (unsigned int)level < VB_ARRAY_SIZE(tag) && tag[level] ? tag[level] : "log";

	fprintf(stderr, "virtio-backend: %s: %s\n", t, msg);
}

VB_EXPORT void vb_port_dcache_clean(const void *p, size_t len)
{
	(void)p;
	(void)len;
}

VB_EXPORT void vb_port_dcache_invalidate(const void *p, size_t len)
{
	(void)p;
	(void)len;
}

#if !defined(NDEBUG) && !defined(VB_COVERAGE)
void vbi_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "virtio-backend: internal check failed: %s (%s:%d)\n", expr, file, line);
	abort();
}
#endif
