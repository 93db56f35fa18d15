/* SPDX-License-Identifier: MIT */
/*
 * Private layout of queues and devices, shared by the core's files only. Public code sees
 * opaque handles (vq.h, dev.h); storage comes from the caller (vb_dev_size()).
 */
#ifndef VB_CORE_VQ_INTERNAL_H
#define VB_CORE_VQ_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "virtio-backend/dev.h"
#include "virtio-backend/spec.h"
#include "virtio-backend/vq.h"
#include "internal/compiler.h"
#include "internal/config.h"

/* vb_vq.flags */
#define VBI_VQ_LIVE		0x0001u	/* enabled, rings mapped, DRIVER_OK: pop/push allowed */
#define VBI_VQ_BROKEN		0x0002u	/* sticky protocol violation (vq->err) */
#define VBI_VQ_PACKED		0x0004u	/* packed layout (VIRTIO_F_RING_PACKED) */
#define VBI_VQ_EVENT_IDX	0x0008u	/* VIRTIO_F_EVENT_IDX negotiated */
#define VBI_VQ_INDIRECT		0x0010u	/* VIRTIO_F_INDIRECT_DESC negotiated */
#define VBI_VQ_IN_ORDER		0x0020u	/* VIRTIO_F_IN_ORDER negotiated */
#define VBI_VQ_SIGNALLED_VALID	0x0040u	/* signalled_used holds a decision point */
#define VBI_VQ_KICKS_OFF	0x0080u	/* device asked the driver not to kick */
#define VBI_VQ_ENABLED		0x0100u	/* the driver enabled the queue (QueueReady) */
#define VBI_VQ_TRACKED		0x0200u	/* live with inflight hooks (split): slow path */

struct vb_vq {
	/* Data path state first: one or two cache lines for pop/push. */
	uint16_t	flags;		/* VBI_VQ_* */
	uint16_t	num;		/* queue size; split: power of two */
	uint16_t	last_avail;	/* split: free-running index; packed: next slot */
	uint16_t	shadow_avail;	/* split: last avail->idx read (pop batches on it) */
	uint16_t	used_idx;	/* split: free-running index; packed: next slot */
	uint16_t	signalled_used;	/* used_idx at the last notify decision */
	uint8_t		avail_wrap;	/* packed: driver ring wrap counter */
	uint8_t		used_wrap;	/* packed: device ring wrap counter */
	uint16_t	index;		/* in the device */
	int		err;		/* first violation (negative errno), 0 if healthy */
	union {
		struct {
			const struct vb_vring_desc *desc;
			const struct vb_vring_avail *avail;	/* driver area: the device only reads it */
			struct vb_vring_used *used;
		} split;
		struct {
			struct vb_vring_packed_desc *desc;
			struct vb_vring_packed_event *driver;	/* driver event suppression */
			struct vb_vring_packed_event *device;	/* device event suppression */
		} packed;
	} ring;
	const struct vb_mem *mem;
	struct vb_dev	*dev;
	/* Inflight tracking (vb_vq_set_inflight_ops()); NULL on the plain fast path. */
	const struct vb_vq_inflight_ops *iops;
	void		*ictx;

	/* Configuration as the driver set it (ring address space). */
	uint64_t	desc_addr;
	uint64_t	driver_addr;
	uint64_t	device_addr;
	uint16_t	num_set;	/* size the driver chose; becomes num when live */
	uint16_t	num_max;
#if VB_CONFIG_STATS
	struct vb_vq_stats stats;
#endif
};

struct vb_dev {
	const struct vb_device_ops	*ops;
	void				*priv;
	const struct vb_transport_ops	*tops;
	void				*transport;
	const struct vb_mem		*mem;
	uint64_t			forced;		/* transport: always offered */
	uint64_t			forbidden;	/* transport: never offered */
	uint64_t			driver_features;
	uint32_t			config_generation;
	uint16_t			num_queues;
	uint8_t				status;
	struct vb_vq			vqs[];
};

#if VB_CONFIG_STATS
#define VBI_STAT_ADD(vq, field, n)	((vq)->stats.field += (n))
#else
#define VBI_STAT_ADD(vq, field, n)	((void)0)
#endif

/*
 * Record a protocol violation: the first one is kept, the queue is broken, the device shows
 * NEEDS_RESET (and the transport is told). Returns err for tail calls. Defined in vq.c.
 * The reason string is compiled out with logging, so small builds carry no message text.
 */
VB_COLD int vbi_vq_break(struct vb_vq *vq, int err, const char *why);
#if VB_CONFIG_LOG
#define vbi_vq_fail(vq, err, why)	vbi_vq_break((vq), (err), (why))
#else
/* why is still evaluated (and dropped with its strings), so what builds it stays used. */
#define vbi_vq_fail(vq, err, why)	vbi_vq_break((vq), (err), ((void)(why), (const char *)0))
#endif

/* Check the guest alignment of the three ring areas (descriptors 16, driver area driver_align,
 * device area 4 bytes), map each into one read-write region and check its host alignment.
 * out receives desc, driver, device. Returns 0, -EPROTO (misaligned), -EFAULT, -EOVERFLOW. */
int vbi_vq_map_rings(struct vb_vq *vq, uint64_t driver_len, uint64_t device_len,
		     uint32_t driver_align, void *out[3]);

/* Make a queue live with the negotiated features, or stop it (dev.c calls these). */
int vbi_vq_start(struct vb_vq *vq, uint64_t features);
void vbi_vq_stop(struct vb_vq *vq);
/* Forget position, rings and error (device or queue reset). */
void vbi_vq_clear(struct vb_vq *vq);

/* Ring bodies (vq-split.c, vq-packed.c), called by the dispatchers in vq.c. */
int vbi_split_map(struct vb_vq *vq);
int vbi_split_pop_batch(struct vb_vq *vq, struct vb_chain *chains, unsigned int n);
int vbi_split_pop_head(struct vb_vq *vq, struct vb_chain *c, uint16_t head);
int vbi_split_push1(struct vb_vq *vq, uint16_t head, uint32_t written);
int vbi_split_push(struct vb_vq *vq, const struct vb_chain *chains, const uint32_t *written,
		   unsigned int n);
bool vbi_split_should_notify(struct vb_vq *vq);
void vbi_split_set_kicks(struct vb_vq *vq, bool enable);
bool vbi_split_has_avail(struct vb_vq *vq);

#if VB_CONFIG_PACKED
int vbi_packed_map(struct vb_vq *vq);
int vbi_packed_pop(struct vb_vq *vq, struct vb_chain *c);
int vbi_packed_push(struct vb_vq *vq, const struct vb_chain *chains, const uint32_t *written,
		    unsigned int n);
bool vbi_packed_should_notify(struct vb_vq *vq);
void vbi_packed_set_kicks(struct vb_vq *vq, bool enable);
bool vbi_packed_has_avail(struct vb_vq *vq);
/* Slots popped and not yet used (what a push may use). */
uint32_t vbi_packed_popped_slots(const struct vb_vq *vq);
#if VB_CONFIG_INFLIGHT
int vbi_packed_pop_copy(struct vb_vq *vq, struct vb_chain *c,
			const struct vb_vring_packed_desc *d, unsigned int n);
#endif
#endif

#endif
