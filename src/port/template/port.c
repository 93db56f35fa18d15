/* SPDX-License-Identifier: MIT */
/*
 * Template for a new port: copy this directory to src/port/<platform>/, fill in the hooks
 * and build it with the core (the files of src/core/) instead of src/port/posix/ or
 * src/port/baremetal/. README.md in this directory explains each hook.
 *
 * Every hook here compiles and is safe as it stands (silent log, no cache maintenance), so
 * a port can start from the copy and fill in one hook at a time.
 */
#include <stddef.h>

#include "virtio-backend/port.h"
#include "internal/check.h"
#include "internal/compiler.h"

/*
 * Log sink. The core logs at most once per queue and condition (the first protocol
 * violation that breaks a queue, a ring that stops mapping), never per request, and only in
 * builds with VB_CONFIG_LOG=1. msg has no trailing newline and points at a constant string.
 *
 * Called from the data path (a kick handler, possibly an interrupt handler on bare metal):
 * do not block for long and do not call back into the library. Typical bodies: write to a
 * UART, a semihosting channel, a ring buffer drained later, or the OS logger.
 */
VB_EXPORT void vb_port_log(enum vb_log_level level, const char *msg)
{
	(void)level;
	(void)msg;
}

/*
 * Cache clean: make this CPU's writes to [p, p + len) visible to the other side of shared
 * memory that is not cache-coherent with it (an AMP peer core, a DMA-only device). Called
 * after the core writes device-owned ring fields (used elements, used index, event
 * suppression), only in builds with VB_CONFIG_NONCOHERENT=1. Coherent systems leave it
 * empty. Round [p, p + len) out to whole cache lines; len may be as small as 2.
 */
VB_EXPORT void vb_port_dcache_clean(const void *p, size_t len)
{
	(void)p;
	(void)len;
}

/*
 * Cache invalidate: discard stale cached copies of [p, p + len) before the core reads what
 * the other side wrote (descriptors, avail index and ring, event suppression fields). Same
 * build condition as vb_port_dcache_clean(). Invalidation works on whole lines: document
 * for your platform that shared ring areas must be cache-line aligned.
 */
VB_EXPORT void vb_port_dcache_invalidate(const void *p, size_t len)
{
	(void)p;
	(void)len;
}

#if !defined(NDEBUG) && !defined(VB_FREESTANDING) && !defined(VB_COVERAGE)
/*
 * Internal-invariant failure (debug builds without VB_FREESTANDING only; see
 * src/internal/check.h). Never reached because of guest input: the core validates that.
 * Report expr/file/line if you can, then stop: the library's state is not trustworthy.
 */
void vbi_assert_fail(const char *expr, const char *file, int line)
{
	(void)expr;
	(void)file;
	(void)line;
	for (;;)
		;
}
#endif
