/* SPDX-License-Identifier: MIT */
/*
 * Compile-time options of the core. A small system drops what it does not need by defining
 * these to 0 (meson options core_packed, core_mmio, or -D in c_args); defaults build
 * everything, and the hosted build keeps the defaults, so its exported symbols (the .map)
 * never depend on them. docs/howto/porting.md section 5 lists them with what each costs.
 */
#ifndef VB_INTERNAL_CONFIG_H
#define VB_INTERNAL_CONFIG_H

#ifndef VB_CONFIG_PACKED		/* packed virtqueues (VIRTIO_F_RING_PACKED) */
#define VB_CONFIG_PACKED 1
#endif
#ifndef VB_CONFIG_MMIO			/* the virtio-mmio register file */
#define VB_CONFIG_MMIO 1
#endif
#ifndef VB_CONFIG_STATS			/* per-queue counters */
#define VB_CONFIG_STATS 1
#endif
#ifndef VB_CONFIG_LOG			/* messages through vb_port_log() */
#define VB_CONFIG_LOG 1
#endif
#ifndef VB_CONFIG_NONCOHERENT		/* cache maintenance around shared ring accesses */
#define VB_CONFIG_NONCOHERENT 0
#endif
/* Per-queue reset (VIRTIO_F_RING_RESET): vb_dev_queue_reset() and MMIO QueueReset. With 0
 * the feature is never offered and QueueReset answers -ENOTSUP, as without the feature. */
#ifndef VB_CONFIG_RING_RESET
#define VB_CONFIG_RING_RESET 1
#endif
/* vb_dev_remap(): re-translate live rings after the memory map changed (vhost-user
 * SET_MEM_TABLE). A fixed memory map does not need it. */
#ifndef VB_CONFIG_REMAP
#define VB_CONFIG_REMAP 1
#endif
/* The iovec cursor API (vb_iov_cursor_*). vb_chain_read()/vb_chain_write() do not need it. */
#ifndef VB_CONFIG_CURSOR
#define VB_CONFIG_CURSOR 1
#endif
/* vb_vq_legacy_layout(): ring addresses of a legacy (pre-1.0) queue from one base address. */
#ifndef VB_CONFIG_LEGACY
#define VB_CONFIG_LEGACY 1
#endif
/* vb_strerror()'s table of error names, a log aid. */
#ifndef VB_CONFIG_STRERROR
#define VB_CONFIG_STRERROR 1
#endif
/* Inflight hooks (vb_vq_set_inflight_ops, vb_vq_pop_head): crash recovery of a hosted
 * backend process (vhost-user INFLIGHT_SHMFD); static systems do not need them. */
#ifndef VB_CONFIG_INFLIGHT
#define VB_CONFIG_INFLIGHT 1
#endif
/* Fault handler of the memory map (vb_mem_set_fault): guest memory mapped on demand (Xen
 * foreign and grant mappings); a static system maps everything up front. */
#ifndef VB_CONFIG_MEM_FAULT
#define VB_CONFIG_MEM_FAULT 1
#endif

#endif
