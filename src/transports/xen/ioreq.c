/* SPDX-License-Identifier: MIT */
/*
 * One ioreq, checked and served through the register file of the device whose window it
 * hits (Xen public header xen/hvm/ioreq.h; the fields are filled by Xen from the guest's
 * trapped access, so they say what the guest did, which is hostile).
 *
 * Served: IOREQ_TYPE_COPY (MMIO) of 1, 2, 4 or 8 bytes, count 1, data in the request
 * (data_is_ptr 0), wholly inside one device window. virtio-mmio registers are 32 bits wide and
 * device config allows 8-, 16- and 32-bit accesses (virtio 1.2, 4.2.2.2 "Driver
 * Requirements: MMIO Device Register Layout"); an 8-byte access is split into two 32-bit ones,
 * low first. IOREQ_TYPE_INVALIDATE drops the foreign-mapping cache; IOREQ_TYPE_TIMEOFFSET is
 * for the device model that keeps the RTC, not us. Everything else, a "rep" access (count
 * != 1), an access whose data lives in guest memory (data_is_ptr), a bad size or an address
 * outside every window is answered harmlessly: a read returns all ones (what a bus returns
 * for nothing there), a write is dropped; the server counts it as refused.
 */
#include <string.h>

#include "xen-internal.h"

/* One access of 1, 2 or 4 bytes through the register file. */
static int mmio_access(struct vbi_xen_device *d, uint64_t off, unsigned int size, bool read,
		       uint32_t *val)
{
	if (read)
		return vb_mmio_read(d->mmio, off, size, val);
	return vb_mmio_write(d->mmio, off, size, *val);
}

static struct vbi_xen_device *find_device(struct vb_xen_server *s, uint64_t addr,
					  uint32_t size)
{
	for (unsigned int i = 0; i < s->n_devs; i++) {
		struct vbi_xen_device *d = &s->devs[i];
		uint64_t off = addr - d->cfg.base;

		/* No-wrap form: [addr, addr + size) wholly inside the window. */
		if (off < d->cfg.size && size <= d->cfg.size - off)
			return d;
	}
	return NULL;
}

/* @satisfy{VB-REQ-XEN-003} */
void vbi_xen_serve(struct vb_xen_server *s, const struct ioreq *req, uint64_t *data)
{
	const bool read = req->dir == IOREQ_READ;
	struct vbi_xen_device *d;
	uint64_t off;
	uint32_t lo = 0, hi = 0;
	int ret;

	*data = read ? UINT64_MAX : req->data;
	switch (req->type) {
	case IOREQ_TYPE_COPY:
		break;
	case IOREQ_TYPE_INVALIDATE:
		s->stats.invalidates++;
		vbi_xen_gmem_invalidate(&s->gmem);
		return;
	case IOREQ_TYPE_TIMEOFFSET:
		return;
	default:
		s->stats.refused++;
		return;
	}
	if (req->data_is_ptr || req->count != 1 ||
	    (req->size != 1 && req->size != 2 && req->size != 4 && req->size != 8)) {
		s->stats.refused++;
		return;
	}
	d = find_device(s, req->addr, req->size);
	if (!d) {
		s->stats.refused++;
		return;
	}
	off = req->addr - d->cfg.base;
	if (req->size == 8) {
		lo = (uint32_t)req->data;
		hi = (uint32_t)(req->data >> 32);
		ret = mmio_access(d, off, 4, read, &lo);
		if (ret == 0)
			ret = mmio_access(d, off + 4, 4, read, &hi);
	} else {
		lo = (uint32_t)req->data;
		ret = mmio_access(d, off, req->size, read, &lo);
	}
	if (ret < 0) {
		/* The register file refused it (write-only register, bad state...): as above. */
		s->stats.refused++;
		return;
	}
	if (read)
		*data = req->size == 8 ? ((uint64_t)hi << 32 | lo) : lo;
}
