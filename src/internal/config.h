/* SPDX-License-Identifier: MIT */
/*
 * Compile-time options of the core. A small system drops what it does not need by defining
 * these to 0 (meson options core_packed, core_mmio, ...); defaults build everything.
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

#endif
