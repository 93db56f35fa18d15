/* SPDX-License-Identifier: MIT */
/*
 * Arm semihosting for the example (Arm "Semihosting for AArch32 and AArch64", version 2):
 * console output and the exit status, through QEMU's -semihosting-config enable=on.
 */
#ifndef EXAMPLE_SEMIHOST_H
#define EXAMPLE_SEMIHOST_H

#include <stdint.h>

#define SH_SYS_WRITE0		0x04u	/* write a NUL-terminated string */
#define SH_SYS_EXIT		0x18u	/* stop; AArch32: reason code only */
#define SH_SYS_EXIT_EXTENDED	0x20u	/* stop with { reason, subcode }: subcode = status */
#define SH_ADP_APPLICATION_EXIT	0x20026u	/* ADP_Stopped_ApplicationExit */
#define SH_ADP_RUNTIME_ERROR	0x20023u	/* ADP_Stopped_RunTimeErrorUnknown */

static inline int sh_call(uint32_t op, const void *arg)
{
	register uint32_t r0 __asm__("r0") = op;
	register const void *r1 __asm__("r1") = arg;

	__asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
	return (int)r0;
}

static inline void sh_puts(const char *s)
{
	sh_call(SH_SYS_WRITE0, s);
}

/* Stop the program; under QEMU, its exit status becomes @p status. */
static inline _Noreturn void sh_exit(int status)
{
	const uint32_t block[2] = { SH_ADP_APPLICATION_EXIT, (uint32_t)status };

	sh_call(SH_SYS_EXIT_EXTENDED, block);
	/* A host without SYS_EXIT_EXTENDED returns: the AArch32 SYS_EXIT can only tell
	 * success from failure. */
	sh_call(SH_SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? SH_ADP_APPLICATION_EXIT :
							       SH_ADP_RUNTIME_ERROR));
	for (;;)
		;
}

#endif
