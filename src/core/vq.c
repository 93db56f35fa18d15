/* SPDX-License-Identifier: MIT */
/*
 * Layout-independent virtqueue code: the public entry points dispatch to the split or packed
 * ring bodies, and the sticky-error, notification and position logic lives here once.
 */
#include <string.h>

#include "vq-internal.h"
#include "virtio-backend/error.h"
#include "internal/log.h"

VB_COLD int vbi_vq_break(struct vb_vq *vq, int err, const char *why)
{
	VBI_STAT_ADD(vq, errors, 1);
	if (vq->flags & VBI_VQ_BROKEN)
		return err;
	vq->flags |= VBI_VQ_BROKEN;
	vq->err = err;
	/* Logged once per queue and condition: the first violation breaks the queue. */
	if (why)
		vbi_log(VB_LOG_WARN, why);
	vb_dev_set_needs_reset(vq->dev);
	return err;
}

#if VB_CONFIG_PACKED
#define IS_PACKED(vq)	((vq)->flags & VBI_VQ_PACKED)
#else
#define IS_PACKED(vq)	0
#endif

/* Entry check shared by every data-path call: broken first, then not live. */
static inline int vq_usable(const struct vb_vq *vq)
{
	/* One test on the fast path: live and not broken. */
	if (VB_LIKELY((vq->flags & (VBI_VQ_BROKEN | VBI_VQ_LIVE)) == VBI_VQ_LIVE))
		return 0;
	return (vq->flags & VBI_VQ_BROKEN) ? -ENOTRECOVERABLE : -EAGAIN;
}

/* The data path's one test: live, not broken, and no inflight hooks to call. */
static inline bool vq_plain(const struct vb_vq *vq)
{
#if VB_CONFIG_INFLIGHT
	return (vq->flags & (VBI_VQ_BROKEN | VBI_VQ_LIVE | VBI_VQ_TRACKED)) == VBI_VQ_LIVE;
#else
	return (vq->flags & (VBI_VQ_BROKEN | VBI_VQ_LIVE)) == VBI_VQ_LIVE;
#endif
}

#if VB_CONFIG_INFLIGHT
#if VB_CONFIG_PACKED
/* Packed: resubmitted chains (private descriptor copies) first, then the descriptor ring,
 * each new chain reported with the ring slots it came from. */
static VB_COLD int pop_tracked_packed(struct vb_vq *vq, struct vb_chain *chains, unsigned int n)
{
	const struct vb_vq_inflight_ops *ops = vq->iops;
	const struct vb_vring_packed_desc *d;
	unsigned int got = 0, k;
	int ret = 0;

	while (got < n && ops->resubmit_packed &&
	       (d = ops->resubmit_packed(vq->ictx, vq, &k)) != NULL) {
		if (k == 0 || k > vq->num) {
			ret = vbi_vq_fail(vq, -EPROTO, "resubmitted chain longer than the queue");
			break;
		}
		ret = vbi_packed_pop_copy(vq, &chains[got], d, k);
		if (ret < 0)
			break;
		got++;
	}
	while (ret >= 0 && got < n) {
		const uint16_t first = vq->last_avail;

		ret = vbi_packed_pop(vq, &chains[got]);
		if (ret <= 0)
			break;
		if (ops->popped_packed)
			ops->popped_packed(vq->ictx, vq, &chains[got], vq->ring.packed.desc, first);
		got++;
	}
	VBI_STAT_ADD(vq, popped, got);
	return got ? (int)got : ret;
}
#endif

/*
 * Pop with inflight hooks: resubmitted heads first, then the available ring, each new head
 * reported to the transport. Kept out of line: the plain path pays one branch.
 */
static VB_COLD int pop_tracked(struct vb_vq *vq, struct vb_chain *chains, unsigned int n)
{
	const struct vb_vq_inflight_ops *ops = vq->iops;
	unsigned int got = 0;
	int ret = 0, head;

#if VB_CONFIG_PACKED
	if (IS_PACKED(vq))
		return pop_tracked_packed(vq, chains, n);
#endif
	while (got < n && ops->resubmit && (head = ops->resubmit(vq->ictx, vq)) >= 0) {
		ret = vbi_split_pop_head(vq, &chains[got], (uint16_t)head);
		if (ret < 0)
			break;
		got++;
	}
	if (ret >= 0 && got < n) {
		ret = vbi_split_pop_batch(vq, &chains[got], n - got);
		for (int i = 0; ops->popped && i < ret; i++)
			ops->popped(vq->ictx, vq, chains[got + (unsigned int)i].head);
		if (ret > 0)
			got += (unsigned int)ret;
	}
	VBI_STAT_ADD(vq, popped, got);
	return got ? (int)got : ret;
}

/* Only chains the device popped may be pushed: checked for the whole batch first. */
static bool push_fits(const struct vb_vq *vq, const struct vb_chain *chains, unsigned int n)
{
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq)) {
		uint32_t total = 0, room = vbi_packed_popped_slots(vq);

		for (unsigned int i = 0; i < n; i++) {
			total += chains[i].ring_slots;
			if (chains[i].ring_slots == 0 || total > room)
				return false;
		}
		return true;
	}
#endif
	(void)chains;
	return n <= (uint16_t)(vq->last_avail - vq->used_idx);
}

/* Push with inflight hooks: one used element (packed: used descriptor) and index store per
 * chain, so the transport's record never lags the ring by more than the chain in
 * pre/post. */
static VB_COLD int push_tracked(struct vb_vq *vq, const struct vb_chain *chains,
				const uint32_t *written, unsigned int n)
{
	const struct vb_vq_inflight_ops *ops = vq->iops;

	if (!push_fits(vq, chains, n))
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		int ret;

		if (ops->pre_push)
			ops->pre_push(vq->ictx, vq, chains[i].head);
#if VB_CONFIG_PACKED
		if (IS_PACKED(vq))
			ret = vbi_packed_push(vq, &chains[i], &written[i], 1);
		else
#endif
			ret = vbi_split_push1(vq, chains[i].head, written[i]);
		if (ret < 0)
			return ret;
		if (ops->post_push)
			ops->post_push(vq->ictx, vq, chains[i].head, vq->used_idx);
		if (ops->log_push)
			ops->log_push(vq->ictx, vq, &chains[i], written[i]);
	}
	VBI_STAT_ADD(vq, pushed, n);
	return 0;
}

/* Hooks apply to live rings; the flag keeps the data path at one test. */
static void update_tracked(struct vb_vq *vq)
{
	if (vq->iops && (vq->flags & VBI_VQ_LIVE))
		vq->flags |= VBI_VQ_TRACKED;
	else
		vq->flags &= (uint16_t)~VBI_VQ_TRACKED;
}

VB_EXPORT void vb_vq_set_inflight_ops(struct vb_vq *vq, const struct vb_vq_inflight_ops *ops,
				      void *ctx)
{
	vq->iops = ops;
	vq->ictx = ops ? ctx : NULL;
	update_tracked(vq);
}

VB_EXPORT int vb_vq_pop_head(struct vb_vq *vq, uint16_t head, struct vb_chain *chain)
{
	int ret = vq_usable(vq);

	if (VB_UNLIKELY(ret))
		return ret;
	if (IS_PACKED(vq))
		return -ENOTSUP;
	ret = vbi_split_pop_head(vq, chain, head);
	if (ret > 0)
		VBI_STAT_ADD(vq, popped, 1);
	return ret;
}

VB_EXPORT int vb_vq_pop_descs(struct vb_vq *vq, const struct vb_vring_packed_desc *descs,
			      unsigned int n, struct vb_chain *chain)
{
	int ret = vq_usable(vq);

	if (VB_UNLIKELY(ret))
		return ret;
	if (!IS_PACKED(vq))
		return -ENOTSUP;
	if (n == 0 || n > vq->num)
		return -EINVAL;
#if VB_CONFIG_PACKED
	ret = vbi_packed_pop_copy(vq, chain, descs, n);
	if (ret > 0)
		VBI_STAT_ADD(vq, popped, 1);
	return ret;
#else
	(void)descs;
	(void)chain;
	return -ENOTSUP;
#endif
}
#else
static void update_tracked(struct vb_vq *vq)
{
	(void)vq;	/* never tracked */
}

#endif

VB_EXPORT int vb_vq_pop(struct vb_vq *vq, struct vb_chain *chain)
{
	int ret;

	if (VB_UNLIKELY(!vq_plain(vq))) {
		ret = vq_usable(vq);
#if VB_CONFIG_INFLIGHT
		if (ret == 0)
			return pop_tracked(vq, chain, 1);
#endif
		return ret;
	}
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq))
		ret = vbi_packed_pop(vq, chain);
	else
#endif
		ret = vbi_split_pop_batch(vq, chain, 1);
	if (ret > 0)
		VBI_STAT_ADD(vq, popped, 1);
	return ret;
}

VB_EXPORT int vb_vq_pop_batch(struct vb_vq *vq, struct vb_chain *chains, unsigned int n)
{
	unsigned int got = 0;
	int ret = 0;

	if (VB_UNLIKELY(!vq_plain(vq))) {
		ret = vq_usable(vq);
#if VB_CONFIG_INFLIGHT
		if (ret == 0)
			return pop_tracked(vq, chains, n);
#endif
		return ret;
	}
	/* Layout dispatch once per batch, not per chain. */
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq)) {
		while (got < n && (ret = vbi_packed_pop(vq, &chains[got])) > 0)
			got++;
	} else
#endif
	{
		ret = vbi_split_pop_batch(vq, chains, n);
		got = ret > 0 ? (unsigned int)ret : 0;
	}
	VBI_STAT_ADD(vq, popped, got);
	/* Chains already popped are handed out; a violation then shows on the next call. */
	return got ? (int)got : ret;
}

static int push_n(struct vb_vq *vq, const struct vb_chain *chains, const uint32_t *written,
		  unsigned int n)
{
	const bool plain = vq_plain(vq);
	int ret;

	if (VB_UNLIKELY(!plain) && (ret = vq_usable(vq)) != 0)
		return ret;
	for (unsigned int i = 0; i < n; i++)
		if (VB_UNLIKELY(written[i] > chains[i].write_len))
			return -EINVAL;
#if VB_CONFIG_INFLIGHT
	if (VB_UNLIKELY(!plain))
		return push_tracked(vq, chains, written, n);
#endif
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq))
		ret = vbi_packed_push(vq, chains, written, n);
	else
#endif
		ret = vbi_split_push(vq, chains, written, n);
	if (ret == 0)
		VBI_STAT_ADD(vq, pushed, n);
	return ret;
}

VB_EXPORT int vb_vq_push(struct vb_vq *vq, const struct vb_chain *chain, uint32_t written)
{
	const bool plain = vq_plain(vq);
	int ret;

	if (VB_UNLIKELY(!plain) && (ret = vq_usable(vq)) != 0)
		return ret;
	if (VB_UNLIKELY(written > chain->write_len))
		return -EINVAL;
#if VB_CONFIG_INFLIGHT
	if (VB_UNLIKELY(!plain))
		return push_tracked(vq, chain, &written, 1);
#endif
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq))
		ret = vbi_packed_push(vq, chain, &written, 1);
	else
#endif
		ret = vbi_split_push1(vq, chain->head, written);
	if (ret == 0)
		VBI_STAT_ADD(vq, pushed, 1);
	return ret;
}

VB_EXPORT int vb_vq_push_batch(struct vb_vq *vq, const struct vb_chain *chains,
			       const uint32_t *written, unsigned int n)
{
	if (n == 0)
		return 0;
	return push_n(vq, chains, written, n);
}

VB_EXPORT bool vb_vq_should_notify(struct vb_vq *vq)
{
	bool ret;

	if (vq_usable(vq))
		return false;
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq))
		ret = vbi_packed_should_notify(vq);
	else
#endif
		ret = vbi_split_should_notify(vq);
	if (!ret)
		VBI_STAT_ADD(vq, suppressed, 1);
	return ret;
}

VB_EXPORT int vb_vq_notify(struct vb_vq *vq)
{
	int ret;

	if (!vb_vq_should_notify(vq))
		return 0;
	ret = vq->dev->tops->notify(vq->dev->transport, vq->index);
	if (ret < 0)
		return ret;
	VBI_STAT_ADD(vq, notified, 1);
	return 1;
}

VB_EXPORT void vb_vq_disable_kicks(struct vb_vq *vq)
{
	if (vq_usable(vq) || (vq->flags & VBI_VQ_KICKS_OFF))
		return;
	vq->flags |= VBI_VQ_KICKS_OFF;
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq))
		vbi_packed_set_kicks(vq, false);
	else
#endif
		vbi_split_set_kicks(vq, false);
}

VB_EXPORT bool vb_vq_enable_kicks(struct vb_vq *vq)
{
	if (vq_usable(vq))
		return false;
	vq->flags &= (uint16_t)~VBI_VQ_KICKS_OFF;
#if VB_CONFIG_PACKED
	if (IS_PACKED(vq)) {
		vbi_packed_set_kicks(vq, true);
		return vbi_packed_has_avail(vq);
	}
#endif
	vbi_split_set_kicks(vq, true);
	return vbi_split_has_avail(vq);
}

VB_EXPORT void vb_vq_get_pos(const struct vb_vq *vq, struct vb_vq_pos *pos)
{
	pos->avail_idx = vq->last_avail;
	pos->used_idx = vq->used_idx;
	pos->avail_wrap = vq->avail_wrap != 0;
	pos->used_wrap = vq->used_wrap != 0;
}

VB_EXPORT int vb_vq_set_pos(struct vb_vq *vq, const struct vb_vq_pos *pos)
{
	/* Packed positions are slots; the layout may not be known yet, so bound by the size
	 * the driver chose (or the maximum) and re-check at start. */
	uint16_t num = vq->num ? vq->num : (vq->num_set ? vq->num_set : vq->num_max);

	if (IS_PACKED(vq) && (pos->avail_idx >= num || pos->used_idx >= num))
		return -EINVAL;
	vq->last_avail = pos->avail_idx;
	vq->shadow_avail = pos->avail_idx;
	vq->used_idx = pos->used_idx;
	vq->avail_wrap = pos->avail_wrap;
	vq->used_wrap = pos->used_wrap;
	vq->flags &= (uint16_t)~VBI_VQ_SIGNALLED_VALID;
	return 0;
}

VB_EXPORT int vb_vq_error(const struct vb_vq *vq)
{
	return vq->err;
}

VB_EXPORT uint16_t vb_vq_index(const struct vb_vq *vq)
{
	return vq->index;
}

VB_EXPORT uint16_t vb_vq_num(const struct vb_vq *vq)
{
	/* num_set, not num: a disabled queue may have been given a new size since it ran. */
	return vq->num_set;
}

VB_EXPORT struct vb_dev *vb_vq_dev(const struct vb_vq *vq)
{
	return vq->dev;
}

VB_EXPORT bool vb_vq_is_ready(const struct vb_vq *vq)
{
	return vq_usable(vq) == 0;
}

VB_EXPORT void vb_vq_get_stats(const struct vb_vq *vq, struct vb_vq_stats *st)
{
#if VB_CONFIG_STATS
	*st = vq->stats;
#else
	(void)vq;
	memset(st, 0, sizeof(*st));
#endif
}

/* One ring area: guest alignment, one read-write region, host alignment (at most a word,
 * which the ordered helpers and vbi_copy_desc_once need). */
static int map_area(const struct vb_vq *vq, uint64_t addr, uint64_t len, uint32_t align,
		    void **out)
{
	int ret;

	if (addr & (align - 1u))
		return -EPROTO;
	ret = vb_mem_map_ring(vq->mem, addr, len, out);
	if (ret == 0 && ((uintptr_t)*out & ((align < 8u ? align : 8u) - 1u)))
		ret = -EFAULT;
	return ret;
}

int vbi_vq_map_rings(struct vb_vq *vq, uint64_t driver_len, uint64_t device_len,
		     uint32_t driver_align, void *out[3])
{
	int ret = map_area(vq, vq->desc_addr, 16u * (uint64_t)vq->num, 16u, &out[0]);

	if (ret == 0)
		ret = map_area(vq, vq->driver_addr, driver_len, driver_align, &out[1]);
	if (ret == 0)
		ret = map_area(vq, vq->device_addr, device_len, 4u, &out[2]);
	return ret;
}

int vbi_vq_start(struct vb_vq *vq, uint64_t features)
{
	uint16_t flags = vq->flags & (VBI_VQ_ENABLED | VBI_VQ_BROKEN);
	int ret;

	if (features & VB_BIT(VB_VIRTIO_F_RING_PACKED))
		flags |= VBI_VQ_PACKED;
	if (features & VB_BIT(VB_VIRTIO_F_EVENT_IDX))
		flags |= VBI_VQ_EVENT_IDX;
	if (features & VB_BIT(VB_VIRTIO_F_INDIRECT_DESC))
		flags |= VBI_VQ_INDIRECT;
	if (features & VB_BIT(VB_VIRTIO_F_IN_ORDER))
		flags |= VBI_VQ_IN_ORDER;
	vq->flags = flags;
	vq->num = vq->num_set;
#if VB_CONFIG_PACKED
	if (flags & VBI_VQ_PACKED)
		ret = vbi_packed_map(vq);
	else
#endif
		ret = vbi_split_map(vq);
	if (ret < 0) {
		vq->num = 0;
		return ret;
	}
	vq->shadow_avail = vq->last_avail;
	vq->flags |= VBI_VQ_LIVE;
	update_tracked(vq);
	return 0;
}

void vbi_vq_stop(struct vb_vq *vq)
{
	vq->flags &= (uint16_t)~(VBI_VQ_LIVE | VBI_VQ_KICKS_OFF | VBI_VQ_SIGNALLED_VALID |
				 VBI_VQ_TRACKED);
}

void vbi_vq_clear(struct vb_vq *vq)
{
	vq->flags = 0;
	vq->err = 0;
	vq->num = 0;
	vq->num_set = 0;
	vq->last_avail = vq->shadow_avail = vq->used_idx = vq->signalled_used = 0;
	/* virtio 1.2, 2.8.1: both wrap counters start at 1. */
	vq->avail_wrap = vq->used_wrap = 1;
	vq->desc_addr = vq->driver_addr = vq->device_addr = 0;
	memset(&vq->ring, 0, sizeof(vq->ring));
}

#if VB_CONFIG_LEGACY
VB_EXPORT uint64_t vb_vq_legacy_layout(uint16_t num, uint32_t align, uint64_t base,
				       uint64_t *desc, uint64_t *driver, uint64_t *device)
{
	uint32_t avail_end, used_off, total;

	if (num == 0 || (num & (num - 1)) || align < 4 || (align & (align - 1)))
		return 0;
	/* virtio 1.2, 2.7.2 "Legacy Interfaces: A Note on Virtqueue Layout". No sum wraps in
	 * 32 bits: num <= 32768 (a power of two in 16 bits) and align <= 2^31, so avail_end
	 * < 2^20, used_off <= 2^31 + 2^20 and total < 2^32. */
	avail_end = 16u * num + 6u + 2u * num;
	used_off = (avail_end + align - 1) & ~(align - 1);
	total = used_off + 6u + 8u * num;
	if (total - 1 > UINT64_MAX - base)
		return 0;
	*desc = base;
	*driver = base + 16u * num;
	*device = base + used_off;
	return total;
}
#endif /* VB_CONFIG_LEGACY */
