/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the Xen ioreq server (src/transports/xen/) as a hostile guest and a hostile
 * ioreq stream drive it, on the simulated hypervisor of tests/support/vbt-xen-sim.c, serving
 * a virtio-blk device (on a memfd disk) at 0x10000 and a second one with grants at 0x20000.
 *
 * Input: a sequence of 40-byte operations (a shorter tail is ignored):
 *   byte 0 % 6:
 *   0  a synchronous ioreq on vCPU byte 1 % 2: bytes 8..39 are the struct ioreq as Xen would
 *      fill the slot (addr, data, count, size, the state/is_ptr/dir bits, type); the address
 *      is folded onto the two windows when byte 2 is odd, so most land on a device
 *   1  a well-formed 32-bit MMIO access (byte 2: read/write; bytes 4..7 offset; 8..11 value)
 *      on device byte 3 % 2: the driver's normal path, so the device reaches DRIVER_OK
 *   2  up to 4 buffered slots from bytes 8..39
 *   3  16 bytes 8..23 written into guest memory at offset bytes 24..27 (rings, buffers)
 *   4  grant table: reference bytes 4..7 made read-only (byte 2 odd), revoked, or restored
 *   5  IOREQ_TYPE_INVALIDATE
 * Invariants: every synchronous ioreq is answered (IORESP_READY and the vCPU's port
 * notified); after teardown nothing of the guest is mapped (the simulator aborts on an unmap
 * of what is not mapped, and a PROT_NONE frame or a read-only grant written crashes).
 * @verify{VB-REQ-XEN-003} @verify{VB-REQ-XEN-006} @verify{VB-REQ-XEN-007}
 */
#define _GNU_SOURCE	/* memfd_create */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transports/xen/xen-internal.h"
#include "virtio-backend/devices/blk.h"
#include "vbt-xen-sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAMES	64u
#define OP	40u
#define BASE0	0x10000ull
#define BASE1	0x20000ull

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_xen_config cfg = {
		.version = VB_XEN_CONFIG_V1, .domid = 1, .irq_kind = VB_XEN_IRQ_ARM,
		.map_cache_bytes = 64u << 10,	/* small: eviction happens */
	};
	struct vb_blk_config bc = { .version = VB_BLK_CONFIG_V1, .capacity = 64 };
	struct vbt_xen_sim x;
	struct vbt_guest g;
	struct vb_xen_server *s = NULL;
	struct vb_blk_file *file[2] = { NULL, NULL };
	struct vb_blk *blk[2] = { NULL, NULL };
	int img = -1;

	if (vbt_xen_sim_init(&x, 1, FRAMES, 2) < 0 || vbt_xen_sim_guest(&x, &g, 0) < 0)
		abort();
	img = memfd_create("fuzz-xen-disk", MFD_CLOEXEC);
	if (img < 0 || ftruncate(img, 64 * 512) < 0)
		abort();
	if (vbi_xen_server_new_on(&cfg, vbt_xen_sim_ops(), &x, &s) < 0)
		abort();
	x.server = s;
	for (int i = 0; i < 2; i++) {
		char path[64];
		struct vb_xen_device d = {
			.base = i ? BASE1 : BASE0, .size = 0x200, .irq = 40u + (uint32_t)i,
			.flags = i ? VB_XEN_DEV_F_GRANTS : 0,
		};

		snprintf(path, sizeof(path), "/proc/self/fd/%d", img);
		if (vb_blk_file_open(path, 0, &file[i]) < 0 ||
		    vb_blk_create(&bc, &vb_blk_file_ops, file[i], &blk[i]) < 0)
			abort();
		d.ops = vb_blk_device_ops(blk[i]);
		d.model = blk[i];
		if (vb_xen_add_device(s, &d, NULL) < 0)
			abort();
	}
	if (vb_xen_start(s) < 0)
		abort();

	for (size_t off = 0; off + OP <= size; off += OP) {
		const uint8_t *op = data + off;
		struct ioreq req, out;
		uint64_t v;

		switch (op[0] % 6) {
		case 0:
			memcpy(&req, op + 8, sizeof(req));
			if (op[2] & 1)
				req.addr = (op[3] & 1 ? BASE1 : BASE0) + (req.addr & 0x1ff);
			if (vbt_xen_sim_ioreq(&x, op[1] % 2, &req, &out) != 0)
				abort();	/* every ioreq gets an answer */
			break;
		case 1:
			v = le(op + 8, 4);
			(void)vbt_xen_sim_mmio(&x, op[1] % 2, op[2] & 1,
					       (op[3] & 1 ? BASE1 : BASE0) + (le(op + 4, 4) & 0x1fc),
					       4, &v);
			break;
		case 2: {
			buf_ioreq_t b[4];

			memcpy(b, op + 8, sizeof(b));
			(void)vbt_xen_sim_buffered(&x, b, 1u + op[1] % 4);
			break;
		}
		case 3:
			memcpy(g.base + (le(op + 24, 4) % (FRAMES * 4096 - 16)), op + 8, 16);
			break;
		case 4: {
			uint32_t ref = (uint32_t)(le(op + 4, 4) % FRAMES);

			if (op[2] % 3 == 0)
				vbt_xen_sim_revoke(&x, ref);
			else
				vbt_xen_sim_grant(&x, ref, ref, op[2] % 3 == 1);
			break;
		}
		default:
			memset(&req, 0, sizeof(req));
			req.type = IOREQ_TYPE_INVALIDATE;
			req.count = 1;
			req.size = 4;
			if (vbt_xen_sim_ioreq(&x, 0, &req, &out) != 0)
				abort();
			break;
		}
	}
	vb_xen_server_free(s);
	if (x.live_foreign || x.live_grants)
		abort();	/* something of the guest stayed mapped */
	for (int i = 0; i < 2; i++) {
		vb_blk_destroy(blk[i]);
		vb_blk_file_close(file[i]);
	}
	close(img);
	munmap(g.mapping, g.mapping_len);
	vbt_xen_sim_fini(&x);
	return 0;
}
