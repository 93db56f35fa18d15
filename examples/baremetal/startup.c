/* SPDX-License-Identifier: MIT */
/*
 * Reset and exception vectors for a Cortex-M3/M4 on QEMU's mps2-an385 / mps2-an386 (ARMv7-M
 * ARM, B1.5.3 "The vector table"): copy .data, clear .bss, run main() and hand its result
 * to the host as the exit status. Any fault ends the run with a message and status 2.
 */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

int main(void);
void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);

/* From mps2.ld. */
extern uint32_t __data_load[], __data_start[], __data_end[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

void Reset_Handler(void)
{
	memcpy(__data_start, __data_load, (size_t)((uintptr_t)__data_end - (uintptr_t)__data_start));
	memset(__bss_start, 0, (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));
	sh_exit(main());
}

void HardFault_Handler(void)
{
	sh_puts("baremetal: FAIL: HardFault\n");
	sh_exit(2);
}

void Default_Handler(void)
{
	sh_puts("baremetal: FAIL: unexpected exception\n");
	sh_exit(3);
}

typedef void (*vector_fn)(void);

/* Entries 0..15: initial SP, Reset, NMI, HardFault, MemManage, BusFault, UsageFault,
 * 4 reserved, SVCall, DebugMonitor, reserved, PendSV, SysTick. No interrupts are used. */
__attribute__((section(".vectors"), used))
static const vector_fn vectors[16] = {
	(vector_fn)(uintptr_t)__stack_top,
	Reset_Handler,
	Default_Handler,
	HardFault_Handler,
	HardFault_Handler,
	HardFault_Handler,
	HardFault_Handler,
	0, 0, 0, 0,
	Default_Handler,
	Default_Handler,
	0,
	Default_Handler,
	Default_Handler,
};
