/* SPDX-License-Identifier: MIT */
/*
 * Bare-metal port for Arm Cortex-M (no OS, no C library calls).
 *
 * Log: ARM semihosting SYS_WRITE0 ("bkpt 0xab"), which a debugger or QEMU
 * (-semihosting-config enable=on) prints on the host. On a board without a debugger
 * attached a semihosting call faults, so such builds define VB_PORT_NO_SEMIHOSTING and the
 * log goes nowhere (or replace vb_port_log() with a UART writer).
 *
 * Cache hooks: Cortex-M0/M3/M4/M33 have no data cache and shared memory is coherent, so the
 * hooks are empty. A Cortex-M7 (or M55/M85) sharing rings with another core through cached
 * memory defines VB_PORT_DCACHE=1 to get by-address clean/invalidate through the ARMv7-M
 * system control block; the core calls the hooks only when built with
 * VB_CONFIG_NONCOHERENT=1.
 */
#include <stddef.h>
#include <stdint.h>

#include "virtio-backend/port.h"
#include "internal/check.h"
#include "internal/compiler.h"

#ifndef VB_PORT_DCACHE
#define VB_PORT_DCACHE 0
#endif
#ifndef VB_PORT_DCACHE_LINE		/* bytes per data cache line (32 on Cortex-M7) */
#define VB_PORT_DCACHE_LINE 32u
#endif

#ifndef VB_PORT_NO_SEMIHOSTING
#define SYS_WRITE0 0x04	/* ARM semihosting: write a NUL-terminated string */

/* One semihosting call: operation in r0, argument in r1, result in r0 (Arm "Semihosting for
 * AArch32 and AArch64", the Thumb BKPT 0xAB trap used on M-profile). */
static int semihost(int op, const void *arg)
{
	register int r0 __asm__("r0") = op;
	register const void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return r0;
}
#endif

VB_EXPORT void vb_port_log(enum vb_log_level level, const char *msg)
{
#ifndef VB_PORT_NO_SEMIHOSTING
	/* Three writes instead of a formatting buffer: no stack to size, no snprintf. */
	semihost(SYS_WRITE0, level <= VB_LOG_ERR ? "virtio-backend: error: " :
			     level == VB_LOG_WARN ? "virtio-backend: warning: " :
			     "virtio-backend: ");
	semihost(SYS_WRITE0, msg);
	semihost(SYS_WRITE0, "\n");
#else
	(void)level;
	(void)msg;
#endif
}

#if VB_PORT_DCACHE
/* ARMv7-M cache maintenance by address to the point of coherency (ARMv7-M ARM, B2.2.7). */
#define SCB_DCIMVAC	((volatile uint32_t *)0xE000EF5Cu)	/* invalidate */
#define SCB_DCCMVAC	((volatile uint32_t *)0xE000EF68u)	/* clean */

static void dcache_op(volatile uint32_t *reg, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(VB_PORT_DCACHE_LINE - 1u);
	uintptr_t end = (uintptr_t)p + len;

	if (len == 0)
		return;
	__asm__ volatile("dsb" ::: "memory");
	for (; a < end; a += VB_PORT_DCACHE_LINE)
		*reg = (uint32_t)a;
	__asm__ volatile("dsb\n\tisb" ::: "memory");
}
#endif

VB_EXPORT void vb_port_dcache_clean(const void *p, size_t len)
{
#if VB_PORT_DCACHE
	dcache_op(SCB_DCCMVAC, p, len);
#else
	(void)p;
	(void)len;
#endif
}

/*
 * Invalidating whole lines discards anything else cached in them: ring areas and buffers
 * shared with the other side must therefore not share a cache line with data this side
 * writes (align them to VB_PORT_DCACHE_LINE), the same rule OpenAMP states for its rings.
 */
VB_EXPORT void vb_port_dcache_invalidate(const void *p, size_t len)
{
#if VB_PORT_DCACHE
	dcache_op(SCB_DCIMVAC, p, len);
#else
	(void)p;
	(void)len;
#endif
}

#if !defined(NDEBUG) && !defined(VB_FREESTANDING) && !defined(VB_COVERAGE)
/* Debug builds only (src/internal/check.h): report the broken internal invariant and stop
 * in a fault, which the application's HardFault handler (or the debugger) reports. */
void vbi_assert_fail(const char *expr, const char *file, int line)
{
	(void)file;
	(void)line;
	vb_port_log(VB_LOG_ERR, "internal check failed:");
	vb_port_log(VB_LOG_ERR, expr);
	__builtin_trap();
}
#endif
