/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the device side of a packed virtqueue (src/core/vq-packed.c, vq.c, mem.c) driven
 * by an operation script over fuzzed guest memory.
 *
 * Input format (all integers little-endian; a short input reads as zeros):
 *
 *   header, 20 bytes (struct vbt_fuzz_vq_hdr, tests/support/vbt-fuzz.h):
 *     0  u8   features  bit 0 INDIRECT_DESC, bit 1 EVENT_IDX, bit 2 IN_ORDER (offered and
 *                       accepted; VERSION_1, RING_PACKED and RING_RESET always)
 *     1  u8   layout    bits 0-2 region size (0: one region of 16 KiB; k: 16 KiB >> k each,
 *                       256 bytes at least), bits 3-4 guest address of byte 0
 *                       (0, 0x100000, 2^64 - 16 KiB, 0xffffe000)
 *     2  u16  num       queue size written by the driver (any size; the device accepts
 *                       <= 1024)
 *     4  u16  desc      descriptor table, driver area, device area: guest offsets
 *     6  u16  driver    (mod 16 KiB)
 *     8  u16  device
 *    10  u8   iov_cap   iovecs per chain: read 1 + (x & 15), write 1 + (x >> 4)
 *    11  u8   n_ops     operations that follow (at most what the input holds)
 *    12  u32  ro_mask   region i is device-read-only if bit i % 32 is set here only,
 *    16  u32  wo_mask   device-write-only if set there only
 *   n_ops operations of 8 bytes: code, a, b (u16), c (u32); code % 16 selects
 *     0 POP, 1 POP_BATCH (1 + a % 8), 2 PUSH (a bit 7: written c raw, else c % (write_len
 *     + 1); a bit 6: push outstanding chain b instead of the oldest), 3 PUSH_BATCH (the
 *     1 + a % 8 oldest), 4 NOTIFY (a bit 0: decide only), 5 KICKS (a bit 0: enable, else
 *     disable), 6 SET_POS (queue stopped; avail slot b, used slot c, wrap counters a bits
 *     0-1; started again unless a bit 2), 7 QUEUE_RESET (a bit 7: driver zeroes the rings),
 *     8 DEVICE_RESET (renegotiate without the feature bits set in a, bit 3 = RING_PACKED so
 *     the same memory is then read as a split ring; bit 7 zeroes the rings), 9 REMAP
 *     (a bit 0 clear: remove region a / 2, set: add a removed one back with flags c & 3;
 *     then vb_dev_remap), 10 WRITE (driver writes 1 << (a & 3) bytes of c at offset b),
 *     11 ADD (the harness's driver adds a chain: a bits 0-1 buffers - 1, bits 2-3 writable
 *     ones, bit 4 indirect, bit 5 unpublished; b first buffer offset; c bits 0-9 length - 1,
 *     bits 16-31 indirect table slot), 12 PUBLISH (slot b % num gets buffer id c and the
 *     AVAIL/USED bits of the driver's lap, inverted if a bit 7, plus flags a & 7),
 *     13 DRIVER_EVENT (driver event suppression: flags a & 3, off_wrap b), 14 KICK (the device
 *     model's handler pops everything, uses the buffers, pushes it all back and notifies),
 *     15 TOUCH (read and write every outstanding chain's buffers)
 *   the rest: the guest memory image (copied to guest offset 0; zeroes after it).
 *
 * After every operation the invariants of vbt_fuzz_q (tests/support/vbt-fuzz.h) are checked
 * and a violation aborts: iovecs inside regions of the right direction and inside the guest
 * mapping (guard pages on both sides catch any other access), n_read <= max_read, lengths
 * equal the iovec sums, positions advance exactly by what was popped and pushed, the used
 * descriptors say what was pushed (id, len, AVAIL = USED = wrap counter, WRITE iff written),
 * violations are sticky (-ENOTRECOVERABLE, NEEDS_RESET, the transport told once), return
 * values in the documented sets, positions stay below the ring size, event suppression per
 * virtio 1.2, 2.8.10 (DISABLE/ENABLE decided exactly; the DESC kick request names the next
 * slot).
 *
 * @verify{VB-REQ-PVQ-001} @verify{VB-REQ-PVQ-002} @verify{VB-REQ-PVQ-003}
 * @verify{VB-REQ-PVQ-004} @verify{VB-REQ-PVQ-005} @verify{VB-REQ-PVQ-006}
 * @verify{VB-REQ-PVQ-007} @verify{VB-REQ-PVQ-008} @verify{VB-REQ-PVQ-009}
 * @verify{VB-REQ-PVQ-010} @verify{VB-REQ-PVQ-011} @verify{VB-REQ-PVQ-012}
 * @verify{VB-REQ-PVQ-013} @verify{VB-REQ-PVQ-014} @verify{VB-REQ-PVQ-015}
 * @verify{VB-REQ-PVQ-016} @verify{VB-REQ-PVQ-017} @verify{VB-REQ-PVQ-018}
 * @verify{VB-REQ-PVQ-019} @verify{VB-REQ-PVQ-020} @verify{VB-REQ-PVQ-021}
 * @verify{VB-REQ-PVQ-022} @verify{VB-REQ-PVQ-023} @verify{VB-REQ-VQ-003}
 * @verify{VB-REQ-VQ-004} @verify{VB-REQ-VQ-020} @verify{VB-REQ-VQ-100}
 * @verify{VB-REQ-MEM-003} @verify{VB-REQ-MEM-004} @verify{VB-REQ-MEM-005}
 * @verify{VB-REQ-MEM-006} @verify{VB-REQ-MEM-011} @verify{VB-REQ-MEM-016}
 * @verify{VB-REQ-DEV-006} @verify{VB-REQ-DEV-007} @verify{VB-REQ-DEV-012}
 * @verify{VB-REQ-DEV-013} @verify{VB-REQ-DEV-014} @verify{VB-REQ-DEV-018}
 * (The hostile cases PVQ-012..023 are checked for what they share: a violation errno from the
 * documented set, the sticky broken state, NEEDS_RESET, and no access outside the guest.)
 */
#include <stddef.h>
#include <stdint.h>

#include "vbt-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vbt_fuzz_vq f;

	if (vbt_fuzz_vq_parse(&f, data, size, true) < 0)	/* header + op script + guest image */
		return 0;
	for (unsigned int i = 0; i < f.n_ops; i++) {
		vbt_fuzz_vq_step(&f, &f.ops[i]);	/* pop, push, notify, reset, remap, driver */
		vbt_fuzz_vq_check_invariants(&f);	/* aborts on violation: the fuzzer reports it */
	}
	vbt_fuzz_vq_fini(&f);
	return 0;
}
