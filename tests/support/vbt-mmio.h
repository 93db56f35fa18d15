/* SPDX-License-Identifier: MIT */
/*
 * A virtio-mmio driver simulator and the host glue around a register file.
 *
 * The driver side speaks to struct vb_mmio through vb_mmio_read()/vb_mmio_write() only, in
 * the order Linux's drivers/virtio/virtio_mmio.c and virtio.c use: probe (MagicValue, Version,
 * DeviceID, VendorID), reset (Status 0, read back until 0), ACKNOWLEDGE, DRIVER, the feature
 * halves through DeviceFeaturesSel/DriverFeaturesSel (high half first), FEATURES_OK read back,
 * per queue QueueSel / QueueReady == 0 / QueueNumMax / QueueNum / the six address halves /
 * QueueReady = 1, then DRIVER_OK; QueueNotify with the queue index; InterruptStatus then
 * InterruptACK; config reads bracketed by ConfigGeneration. Rings are laid out with vbt-split.
 *
 * Every access is checked: the first one the register file refuses is kept in err/err_off and
 * later steps return that error, so a test sees exactly where a sequence went wrong.
 */
#ifndef VBT_MMIO_H
#define VBT_MMIO_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio-backend.h"
#include "vbt-split.h"

#define VBT_MMIO_MAX_QUEUES 8u

/* ---- host side: a register file, its device and an interrupt line ---- */

struct vbt_mmio_host {
	alignas(8) uint8_t	mmio_storage[VB_MMIO_STORAGE_MAX];
	alignas(8) uint8_t	dev_storage[VB_DEV_STORAGE_MAX(VBT_MMIO_MAX_QUEUES)];
	struct vb_mmio_host_ops	ops;
	struct vb_mmio		*mmio;
	struct vb_dev		*dev;
	bool			irq;		/* line level */
	unsigned int		irq_raised;	/* set_irq(true) calls */
	unsigned int		irq_lowered;	/* set_irq(false) calls */
	/* Optional observer of every set_irq() call (the demo prints them). */
	void			(*on_irq)(void *ctx, bool level);
	void			*on_irq_ctx;
};

/*
 * Build a register file and a device for the model ops/priv over guest memory mem, attached
 * to each other, kicks handled at once (no host kick hook). Returns 0 or a negative errno.
 */
int vbt_mmio_host_init(struct vbt_mmio_host *h, const struct vb_device_ops *ops, void *priv,
		       const struct vb_mem *mem);

/* ---- driver side ---- */

struct vbt_mmio_drv {
	struct vb_mmio	*mmio;
	/* First refused access: its errno, offset and direction; 0 while all went well. */
	int		err;
	uint64_t	err_off;
	bool		err_write;
	unsigned int	accesses;	/* register and config accesses made */
	/* What probe and negotiation found. */
	uint32_t	version, device_id, vendor_id;
	uint64_t	device_features;
	uint64_t	features;	/* accepted, once FEATURES_OK held */
	/* Optional: one line per driver step (no newline); with trace_regs also one per
	 * register access. */
	void		(*trace)(void *ctx, const char *line);
	void		*trace_ctx;
	bool		trace_regs;
	/* Optional: make every register access through this instead of the register file
	 * (e.g. as an ioreq through the Xen transport); 0 or the errno the access failed with.
	 * mmio may then be NULL. */
	int		(*access)(void *ctx, bool write, uint64_t off, unsigned int size,
				  uint32_t *val);
	void		*access_ctx;
};

void vbt_mmio_drv_init(struct vbt_mmio_drv *d, struct vb_mmio *mmio);

/* Checked 32-bit register accesses (a refused one records err and reads 0). */
uint32_t vbt_mmio_rd(struct vbt_mmio_drv *d, uint32_t off);
void vbt_mmio_wr(struct vbt_mmio_drv *d, uint32_t off, uint32_t val);

/* vm_probe: MagicValue, Version 2, DeviceID != 0, VendorID. 0 or -ENODEV. */
int vbt_mmio_probe(struct vbt_mmio_drv *d);

/* vm_reset: Status 0, then read Status until it is 0. */
int vbt_mmio_reset(struct vbt_mmio_drv *d);

/* virtio_add_status: read Status, OR in bits, write it back. */
int vbt_mmio_add_status(struct vbt_mmio_drv *d, uint32_t bits);

/* vm_get_features / vm_finalize_features: the two 32-bit halves, high first. */
uint64_t vbt_mmio_get_features(struct vbt_mmio_drv *d);
int vbt_mmio_set_features(struct vbt_mmio_drv *d, uint64_t features);

/* virtio_features_ok: add FEATURES_OK and read it back; -ENODEV if the device refused. */
int vbt_mmio_features_ok(struct vbt_mmio_drv *d);

/*
 * vm_setup_vq for a ring laid out by vbt_split_init(): -ENOENT if the queue is in use or not
 * available (QueueNumMax 0), -ENOSPC if r->num exceeds QueueNumMax.
 */
int vbt_mmio_setup_queue(struct vbt_mmio_drv *d, uint16_t q, const struct vbt_split *r);

/* vm_del_vq: QueueReady 0 and read back (-EBUSY if it stays 1). */
int vbt_mmio_del_queue(struct vbt_mmio_drv *d, uint16_t q);

/*
 * The whole bring-up: probe, reset, ACKNOWLEDGE, DRIVER, accept wanted & offered features,
 * FEATURES_OK (checked), set up rings[0..n) as queues 0..n-1, DRIVER_OK.
 */
int vbt_mmio_init_device(struct vbt_mmio_drv *d, uint64_t wanted, struct vbt_split *rings,
			 unsigned int n);

/* vm_notify: QueueNotify with the queue index. */
int vbt_mmio_notify(struct vbt_mmio_drv *d, uint16_t q);

/* vm_interrupt: read InterruptStatus and acknowledge exactly those bits; returns them. */
uint32_t vbt_mmio_interrupt(struct vbt_mmio_drv *d);

/* ConfigGeneration. */
uint32_t vbt_mmio_config_generation(struct vbt_mmio_drv *d);

/*
 * virtio_cread: read len bytes of config at off (len 1, 2, 4 or 8 as one field, with 8 done
 * as two 32-bit reads; other lengths byte by byte), retried while ConfigGeneration moves.
 * buf receives the bytes in config-space order. 0, -EAGAIN if it never settles, or err.
 */
int vbt_mmio_config_read(struct vbt_mmio_drv *d, uint32_t off, void *buf, uint32_t len);

/* virtio_cwrite: len 1, 2, 4 (or 8 as two 32-bit writes); other lengths byte by byte. */
int vbt_mmio_config_write(struct vbt_mmio_drv *d, uint32_t off, const void *buf, uint32_t len);

/* Readable name of a status value, e.g. "ACKNOWLEDGE|DRIVER|FEATURES_OK" (static buffer). */
const char *vbt_mmio_status_name(uint32_t status);

/* Names of the reserved feature bits set in features, e.g. "EVENT_IDX VERSION_1" (static
 * buffer). */
const char *vbt_mmio_feature_names(uint64_t features);

#endif
