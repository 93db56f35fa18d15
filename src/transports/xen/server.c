/* SPDX-License-Identifier: MIT */
/*
 * The Xen ioreq server (include/virtio-backend/transports/xen.h): lifecycle, the ioreq pages,
 * event channels, interrupts, kicks. ioreq.c serves one ioreq, gmem.c maps guest memory.
 *
 * Protocol (Xen public headers xen/hvm/ioreq.h and xen/hvm/dm_op.h; Xen's own device model,
 * QEMU's hw/xen, follows it too): Xen fills a vCPU's slot of the shared ioreq page, sets its
 * state to STATE_IOREQ_READY and signals the vCPU's event channel; the server marks it
 * STATE_IOREQ_INPROCESS, serves it, writes the result into data, sets STATE_IORESP_READY and
 * notifies the same channel; the vCPU resumes. Buffered ioreqs (writes Xen does not wait
 * for) sit in a ring of 8-byte slots between read_pointer (ours) and write_pointer (Xen's).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/compiler.h"
#include "xen-internal.h"

#define DEFAULT_MAP_CACHE	(64u << 20)

_Static_assert(sizeof(struct ioreq) == 32, "xen/hvm/ioreq.h layout");

__attribute__((format(printf, 3, 4)))
static void xlog(const struct vb_xen_server *s, enum vb_log_level level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!s->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->cfg.log(s->cfg.log_ctx, level, msg);
}

/*
 * The byte holding state:4 (and data_is_ptr, dir, df) of a slot: the 31st of the 32. The
 * state is read and written alone, with acquire / release ordering, because Xen hands the
 * slot over through it.
 */
static uint8_t *state_byte(struct ioreq *slot)
{
	return (uint8_t *)slot + 30;
}

static unsigned int slot_state(struct ioreq *slot)
{
	/* Acquire: pairs with Xen's write barrier before it stores STATE_IOREQ_READY, so the
	 * fields read below are the request's. */
	return __atomic_load_n(state_byte(slot), __ATOMIC_ACQUIRE) & 0xfu;
}

static void set_slot_state(struct ioreq *slot, unsigned int state)
{
	uint8_t b = __atomic_load_n(state_byte(slot), __ATOMIC_RELAXED);

	/* Release: pairs with Xen's read barrier after it sees STATE_IORESP_READY, so it reads
	 * the data written before. */
	__atomic_store_n(state_byte(slot), (uint8_t)((b & 0xf0u) | state), __ATOMIC_RELEASE);
}

/* ---- register-file host hooks ---- */

/* The line of irq: asserted while any device on it asserts (virtio-mmio lines may be shared:
 * Linux requests them IRQF_SHARED), so one device's acknowledgement does not drop another's. */
static bool line_level(const struct vb_xen_server *s, uint32_t irq)
{
	for (unsigned int i = 0; i < s->n_devs; i++)
		if (s->devs[i].cfg.irq == irq && s->devs[i].irq_level)
			return true;
	return false;
}

/* @satisfy{VB-REQ-XEN-008} */
static void host_set_irq(void *ctx, bool level)
{
	struct vbi_xen_device *d = ctx;
	struct vb_xen_server *s = d->server;
	bool before = line_level(s, d->cfg.irq);
	int ret;

	d->irq_level = level;
	if (s->cfg.irq_kind == VB_XEN_IRQ_NONE || line_level(s, d->cfg.irq) == before)
		return;
	ret = s->hv_ops->set_irq(s->hv, s->cfg.domid, s->cfg.irq_kind, d->cfg.irq, !before);
	if (ret < 0)
		xlog(s, VB_LOG_WARN, "irq %u level %d: %s", d->cfg.irq, !before, vb_strerror(ret));
}

/* A QueueNotify: served after the vCPU got its reply (vb_xen_dispatch()). */
static void host_kick(void *ctx, uint16_t qidx)
{
	struct vbi_xen_device *d = ctx;

	if (qidx >= 64) {
		(void)vb_dev_kick(d->dev, qidx);
		return;
	}
	d->kicks |= 1ull << qidx;
	d->server->kicked = true;
}

/* ---- guest memory pinning and idleness ---- */

static uint64_t ring_bytes(bool packed, uint16_t num, int area)
{
	if (packed)
		return area == 0 ? 16u * (uint64_t)num : 4u;
	/* virtio 1.2, 2.7: descriptor table, available ring (+ used_event), used ring
	 * (+ avail_event). */
	return area == 0 ? 16u * (uint64_t)num : area == 1 ? 6u + 2u * num : 6u + 8u * num;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Does [addr, addr + len) hold a ring of an enabled queue? */
static bool ring_pinned(void *ctx, uint64_t addr, uint64_t len)
{
	struct vb_xen_server *s = ctx;

	for (unsigned int i = 0; i < s->n_devs; i++) {
		struct vb_dev *dev = s->devs[i].dev;
		bool packed = vb_dev_has_feature(dev, VB_VIRTIO_F_RING_PACKED);

		for (uint16_t q = 0; q < vb_dev_num_queues(dev); q++) {
			struct vb_queue_config qc;

			if (vb_dev_queue_get_config(dev, q, &qc) < 0 || !qc.enabled || !qc.num)
				continue;
			if (overlaps(addr, len, qc.desc, ring_bytes(packed, qc.num, 0)) ||
			    overlaps(addr, len, qc.driver, ring_bytes(packed, qc.num, 1)) ||
			    overlaps(addr, len, qc.device, ring_bytes(packed, qc.num, 2)))
				return true;
		}
	}
	return false;
}

/* Chains popped and not used yet, over every queue of every device. */
static bool requests_in_flight(struct vb_xen_server *s)
{
	for (unsigned int i = 0; i < s->n_devs; i++) {
		struct vb_dev *dev = s->devs[i].dev;

		for (uint16_t q = 0; q < vb_dev_num_queues(dev); q++) {
			struct vb_vq *vq = vb_dev_queue(dev, q);
			struct vb_vq_pos p;

			if (!vq || !vb_vq_is_ready(vq))
				continue;
			vb_vq_get_pos(vq, &p);
			if (p.avail_idx != p.used_idx || p.avail_wrap != p.used_wrap)
				return true;
		}
	}
	return false;
}

/* ---- construction ---- */

int vbi_xen_server_new_on(const struct vb_xen_config *cfg, const struct vbi_xen_hv_ops *ops,
			  void *hv, struct vb_xen_server **out)
{
	struct vb_xen_server *s;

	if (!cfg || !ops || !out || cfg->version < VB_XEN_CONFIG_V1 ||
	    (cfg->irq_kind != VB_XEN_IRQ_ARM && cfg->irq_kind != VB_XEN_IRQ_ISA &&
	     cfg->irq_kind != VB_XEN_IRQ_NONE))
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.map_cache_bytes)
		s->cfg.map_cache_bytes = DEFAULT_MAP_CACHE;
	s->hv_ops = ops;
	s->hv = hv;
	vbi_xen_gmem_init(&s->gmem, ops, hv, cfg->domid, s->cfg.map_cache_bytes, &s->stats);
	s->gmem.pinned = ring_pinned;
	s->gmem.pinned_ctx = s;
	*out = s;
	return 0;
}

VB_EXPORT int vb_xen_add_device(struct vb_xen_server *s, const struct vb_xen_device *cfg,
				struct vb_dev **dev_out)
{
	struct vbi_xen_device *d;
	size_t mmio_len, dev_len;
	uint64_t forced = 0, forbidden = 0;
	int ret;

	if (!s || !cfg || !cfg->ops || cfg->size < 0x100 || cfg->base + cfg->size - 1 < cfg->base)
		return -EINVAL;
	if (s->created)
		return -EBUSY;
	if (s->n_devs == VB_XEN_MAX_DEVICES)
		return -ENOSPC;
	for (unsigned int i = 0; i < s->n_devs; i++)
		if (overlaps(cfg->base, cfg->size, s->devs[i].cfg.base, s->devs[i].cfg.size))
			return -EINVAL;
	d = &s->devs[s->n_devs];
	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	d->server = s;
	mmio_len = (vb_mmio_size() + 7) & ~(size_t)7;
	dev_len = vb_dev_size(cfg->ops->num_queues);
	d->storage = aligned_alloc(8, (mmio_len + dev_len + 7) & ~(size_t)7);
	if (!d->storage)
		return -ENOMEM;
	d->host_ops = (struct vb_mmio_host_ops){
		.version = VB_MMIO_HOST_OPS_V1,
		.set_irq = host_set_irq,
		.kick = host_kick,
	};
	ret = vb_mmio_init(d->storage, mmio_len, &d->host_ops, d, &d->mmio);
	if (ret == 0)
		ret = vb_dev_init((uint8_t *)d->storage + mmio_len, dev_len, cfg->ops, cfg->model,
				  &vb_mmio_transport_ops, d->mmio, &s->gmem.mem, &d->dev);
	if (ret == 0)
		ret = vb_mmio_attach(d->mmio, d->dev);
	/* Grant DMA: the guest's xen,grant-dma ops serve only devices that negotiate
	 * VIRTIO_F_ACCESS_PLATFORM (Linux: virtio_has_dma_quirk otherwise); without grants the
	 * buffers are guest frames and the bit must not be offered. */
	if (cfg->flags & VB_XEN_DEV_F_GRANTS)
		forced = 1ull << VB_VIRTIO_F_ACCESS_PLATFORM;
	else
		forbidden = 1ull << VB_VIRTIO_F_ACCESS_PLATFORM;
	if (ret == 0)
		ret = vb_dev_set_feature_mask(d->dev, forced, forbidden);
	if (ret < 0) {
		free(d->storage);
		return ret;
	}
	s->n_devs++;
	if (dev_out)
		*dev_out = d->dev;
	return 0;
}

/* ---- start and stop ---- */

static void unbind_all(struct vb_xen_server *s)
{
	if (s->ports) {
		for (unsigned int i = 0; i < s->nr_vcpus; i++)
			if (s->ports[i] != UINT32_MAX)
				s->hv_ops->evtchn_unbind(s->hv, s->ports[i]);
		free(s->ports);
		s->ports = NULL;
	}
	if (s->buf_bound)
		s->hv_ops->evtchn_unbind(s->hv, s->buf_port);
	s->buf_bound = false;
}

static void stop(struct vb_xen_server *s)
{
	unbind_all(s);
	if (s->created) {
		(void)s->hv_ops->set_state(s->hv, s->cfg.domid, s->id, false);
		for (unsigned int i = 0; i < s->n_devs; i++)
			(void)s->hv_ops->map_range(s->hv, s->cfg.domid, s->id, s->devs[i].cfg.base,
						   s->devs[i].cfg.base + s->devs[i].cfg.size - 1,
						   false);
		s->hv_ops->destroy_server(s->hv, s->cfg.domid, s->id);
	}
	s->created = s->started = false;
	s->sync = NULL;
	s->buf = NULL;
}

/* @satisfy{VB-REQ-XEN-002} */
VB_EXPORT int vb_xen_start(struct vb_xen_server *s)
{
	uint32_t buf_remote = 0;
	void *sync = NULL, *buf = NULL;
	int ret;

	if (!s || s->n_devs == 0)
		return -EINVAL;
	if (s->created)
		return -EBUSY;
	/* ISA IRQ injection into a PVH guest crashes Xen 4.17 (hvm_isa_irq_deassert on a domain
	 * without emulated PIC): refuse before anything is created. */
	if (s->cfg.irq_kind == VB_XEN_IRQ_ISA) {
		bool isa = false;

		ret = s->hv_ops->domain_info(s->hv, s->cfg.domid, &isa);
		if (ret == 0 && !isa) {
			xlog(s, VB_LOG_ERR, "domain %u has no emulated PIC (PVH?): ISA interrupts "
			     "refused", s->cfg.domid);
			return -EOPNOTSUPP;
		}
		if (ret < 0) {
			xlog(s, VB_LOG_ERR, "domain %u: %s", s->cfg.domid, vb_strerror(ret));
			return ret;
		}
	}
	ret = s->hv_ops->nr_vcpus(s->hv, s->cfg.domid, &s->nr_vcpus);
	if (ret == 0 && (s->nr_vcpus == 0 || s->nr_vcpus > VBI_XEN_PAGE_SIZE / sizeof(struct ioreq)))
		ret = -EINVAL;
	if (ret == 0)
		ret = s->hv_ops->create_server(s->hv, s->cfg.domid, true, &s->id);
	if (ret < 0) {
		xlog(s, VB_LOG_ERR, "domain %u: cannot create an ioreq server: %s", s->cfg.domid,
		     vb_strerror(ret));
		return ret;
	}
	s->created = true;
	ret = s->hv_ops->map_pages(s->hv, s->cfg.domid, s->id, true, &sync, &buf, &buf_remote);
	s->sync = sync;
	s->buf = buf;
	for (unsigned int i = 0; ret == 0 && i < s->n_devs; i++) {
		const struct vb_xen_device *c = &s->devs[i].cfg;

		ret = s->hv_ops->map_range(s->hv, s->cfg.domid, s->id, c->base,
					   c->base + c->size - 1, true);
	}
	if (ret == 0)
		ret = s->hv_ops->set_state(s->hv, s->cfg.domid, s->id, true);
	/* Each vCPU's port is in its slot once the server is enabled. */
	if (ret == 0) {
		s->ports = malloc(s->nr_vcpus * sizeof(*s->ports));
		if (!s->ports)
			ret = -ENOMEM;
		for (unsigned int i = 0; ret == 0 && i < s->nr_vcpus; i++)
			s->ports[i] = UINT32_MAX;
		for (unsigned int i = 0; ret == 0 && i < s->nr_vcpus; i++)
			ret = s->hv_ops->evtchn_bind(s->hv, s->cfg.domid,
						     s->sync->vcpu_ioreq[i].vp_eport, &s->ports[i]);
	}
	if (ret == 0 && s->buf) {
		ret = s->hv_ops->evtchn_bind(s->hv, s->cfg.domid, buf_remote, &s->buf_port);
		s->buf_bound = ret == 0;
	}
	if (ret < 0) {
		xlog(s, VB_LOG_ERR, "domain %u: ioreq server setup: %s", s->cfg.domid,
		     vb_strerror(ret));
		stop(s);
		return ret;
	}
	s->started = true;
	xlog(s, VB_LOG_INFO, "domain %u: ioreq server %u, %u vCPU%s, %u device%s", s->cfg.domid,
	     s->id, s->nr_vcpus, s->nr_vcpus == 1 ? "" : "s", s->n_devs, s->n_devs == 1 ? "" : "s");
	return 0;
}

VB_EXPORT int vb_xen_fd(const struct vb_xen_server *s)
{
	return s && s->started ? s->hv_ops->evtchn_fd(s->hv) : -1;
}

/* ---- serving ---- */

/* @satisfy{VB-REQ-XEN-003} */
static void serve_vcpu(struct vb_xen_server *s, unsigned int v)
{
	struct ioreq *slot = &s->sync->vcpu_ioreq[v];
	struct ioreq req;
	uint64_t data;

	if (slot_state(slot) != STATE_IOREQ_READY)
		return;
	memcpy(&req, slot, sizeof(req));	/* once: Xen's fields, as the guest caused them */
	set_slot_state(slot, STATE_IOREQ_INPROCESS);
	vbi_xen_serve(s, &req, &data);
	__atomic_store_n(&slot->data, data, __ATOMIC_RELAXED);
	set_slot_state(slot, STATE_IORESP_READY);
	s->stats.ioreqs++;
	(void)s->hv_ops->evtchn_notify(s->hv, s->ports[v]);
}

/*
 * The buffered ring, created HVM_IOREQSRV_BUFIOREQ_ATOMIC: Xen may at any time lower both
 * pointers by a multiple of IOREQ_BUFFER_SLOT_NUM (one 64-bit compare-and-swap), so the
 * read pointer is only ever advanced with an atomic add, slots are found modulo the ring size
 * (unchanged by that lowering), and the pointers are compared only for equality.
 * @satisfy{VB-REQ-XEN-004}
 */
static void serve_buffered(struct vb_xen_server *s)
{
	struct buffered_iopage *b = s->buf;

	/* At most one ring's worth per call: Xen keeps writing while we read. */
	for (unsigned int n = 0; n < IOREQ_BUFFER_SLOT_NUM; n++) {
		uint32_t rp = __atomic_load_n(&b->read_pointer, __ATOMIC_RELAXED);
		/* Acquire: pairs with Xen's write barrier before it advances write_pointer,
		 * so the slots below it are written. */
		uint32_t wp = __atomic_load_n(&b->write_pointer, __ATOMIC_ACQUIRE);
		buf_ioreq_t br;
		struct ioreq req;
		uint64_t data;
		uint32_t used = 1;

		if (rp == wp)
			return;
		br = b->buf_ioreq[rp % IOREQ_BUFFER_SLOT_NUM];
		memset(&req, 0, sizeof(req));
		req.type = br.type;
		req.dir = br.dir;
		req.size = 1u << br.size;
		req.addr = br.addr;
		req.data = br.data;
		req.count = 1;
		if (req.size == 8) {
			/* The high half is in the next slot, written with the first. */
			req.data |= (uint64_t)b->buf_ioreq[(rp + 1) % IOREQ_BUFFER_SLOT_NUM].data
				    << 32;
			used = 2;
		}
		if (req.dir == IOREQ_WRITE)
			vbi_xen_serve(s, &req, &data);
		else
			s->stats.refused++;	/* nobody waits for a buffered read */
		s->stats.buffered++;
		/* Release: the slots are Xen's again once it sees read_pointer move. */
		__atomic_fetch_add(&b->read_pointer, used, __ATOMIC_RELEASE);
	}
}

static void run_kicks(struct vb_xen_server *s)
{
	s->kicked = false;
	for (unsigned int i = 0; i < s->n_devs; i++) {
		struct vbi_xen_device *d = &s->devs[i];

		while (d->kicks) {
			unsigned int q = (unsigned int)__builtin_ctzll(d->kicks);

			d->kicks &= d->kicks - 1;
			(void)vb_dev_kick(d->dev, (uint16_t)q);
		}
	}
}

/* @satisfy{VB-REQ-XEN-005} */
VB_EXPORT int vb_xen_dispatch(struct vb_xen_server *s)
{
	int port;

	if (!s || !s->started)
		return -EINVAL;
	/* Take every pending port; the slots themselves say what is ready. */
	while ((port = s->hv_ops->evtchn_pending(s->hv)) >= 0)
		(void)s->hv_ops->evtchn_unmask(s->hv, (uint32_t)port);
	if (port != -EAGAIN)
		return port;
	for (unsigned int v = 0; v < s->nr_vcpus; v++)
		serve_vcpu(s, v);
	if (s->buf)
		serve_buffered(s);
	if (s->kicked)
		run_kicks(s);
	/* Mappings nobody may use any more: only with no request in flight. */
	if (!requests_in_flight(s))
		vbi_xen_gmem_release(&s->gmem, false);
	return 0;
}

VB_EXPORT void vb_xen_get_stats(const struct vb_xen_server *s, struct vb_xen_stats *st)
{
	if (s && st)
		*st = s->stats;
}

VB_EXPORT void vb_xen_server_free(struct vb_xen_server *s)
{
	if (!s)
		return;
	/* The models drop what is in flight; then nothing points into guest memory. */
	for (unsigned int i = 0; i < s->n_devs; i++)
		vb_dev_reset(s->devs[i].dev);
	vbi_xen_gmem_release(&s->gmem, true);
	stop(s);
	for (unsigned int i = 0; i < s->n_devs; i++)
		free(s->devs[i].storage);
	s->hv_ops->close(s->hv);
	free(s);
}
