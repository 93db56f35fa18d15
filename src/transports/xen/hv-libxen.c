/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor interface on the host's Xen libraries (Debian libxen-dev 4.17):
 * libxendevicemodel (ioreq server, MMIO ranges, interrupts), libxenforeignmemory (ioreq pages,
 * guest frames), libxenevtchn (event channels), libxengnttab (grants). Each needs its
 * /dev/xen device (privcmd, evtchn, gntdev) and the privileges XSM grants the caller over
 * the guest (docs/howto/xen.md).
 */
#define __XEN_TOOLS__ 1	/* HVM_IOREQSRV_BUFIOREQ_* of xen/hvm/dm_op.h */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xendevicemodel.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xen/memory.h>

#include "internal/compiler.h"
#include "xen-internal.h"

struct hv {
	xc_interface		*xch;
	xendevicemodel_handle	*dm;
	xenforeignmemory_handle	*fmem;
	xenevtchn_handle	*xce;
	xengnttab_handle	*xgt;
	xenforeignmemory_resource_handle *res;
};

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static int nr_vcpus(void *p, uint32_t domid, unsigned int *n)
{
	struct hv *hv = p;

	return xendevicemodel_nr_vcpus(hv->dm, (domid_t)domid, n) < 0 ? neg_errno() : 0;
}

static int domain_info(void *p, uint32_t domid, bool *isa_irqs)
{
	struct hv *hv = p;
	xc_dominfo_t info;

	if (!hv->xch)
		return -ENOTSUP;
	if (xc_domain_getinfo(hv->xch, domid, 1, &info) != 1 || info.domid != domid)
		return -ESRCH;
#if defined(__x86_64__) || defined(__i386__)
	/* PVH guests are HVM containers without the emulated PIC / IO-APIC. */
	*isa_irqs = info.hvm && (info.arch_config.emulation_flags & XEN_X86_EMU_PIC);
#else
	*isa_irqs = false;
#endif
	return 0;
}

static int create_server(void *p, uint32_t domid, bool bufioreq, uint16_t *id)
{
	struct hv *hv = p;
	ioservid_t sid;

	if (xendevicemodel_create_ioreq_server(hv->dm, (domid_t)domid,
					       bufioreq ? HVM_IOREQSRV_BUFIOREQ_ATOMIC :
							  HVM_IOREQSRV_BUFIOREQ_OFF, &sid) < 0)
		return neg_errno();
	*id = sid;
	return 0;
}

static int map_pages(void *p, uint32_t domid, uint16_t id, bool bufioreq, void **sync,
		     void **buf, uint32_t *buf_port)
{
	struct hv *hv = p;
	unsigned long first = bufioreq ? XENMEM_resource_ioreq_server_frame_bufioreq :
					 XENMEM_resource_ioreq_server_frame_ioreq(0);
	void *addr = NULL;
	evtchn_port_t port = 0;

	/* Frame 0 is the buffered ring, frame 1 the synchronous page of vCPUs 0..127. */
	hv->res = xenforeignmemory_map_resource(hv->fmem, (domid_t)domid,
						XENMEM_resource_ioreq_server, id, first,
						bufioreq ? 2 : 1, &addr, PROT_READ | PROT_WRITE, 0);
	if (!hv->res)
		return neg_errno();
	if (bufioreq) {
		if (xendevicemodel_get_ioreq_server_info(hv->dm, (domid_t)domid, id, NULL, NULL,
							 &port) < 0)
			return neg_errno();
		*buf = addr;
		*sync = (uint8_t *)addr + VBI_XEN_PAGE_SIZE;
		*buf_port = port;
	} else {
		*buf = NULL;
		*sync = addr;
	}
	return 0;
}

static int map_range(void *p, uint32_t domid, uint16_t id, uint64_t start, uint64_t end,
		     bool map)
{
	struct hv *hv = p;
	int ret = map ? xendevicemodel_map_io_range_to_ioreq_server(hv->dm, (domid_t)domid, id,
								     1, start, end) :
			xendevicemodel_unmap_io_range_from_ioreq_server(hv->dm, (domid_t)domid, id,
									1, start, end);

	return ret < 0 ? neg_errno() : 0;
}

static int set_state(void *p, uint32_t domid, uint16_t id, bool enabled)
{
	struct hv *hv = p;

	return xendevicemodel_set_ioreq_server_state(hv->dm, (domid_t)domid, id, enabled) < 0 ?
	       neg_errno() : 0;
}

static void destroy_server(void *p, uint32_t domid, uint16_t id)
{
	struct hv *hv = p;

	if (hv->res)
		xenforeignmemory_unmap_resource(hv->fmem, hv->res);
	hv->res = NULL;
	xendevicemodel_destroy_ioreq_server(hv->dm, (domid_t)domid, id);
}

static int evtchn_fd(void *p)
{
	struct hv *hv = p;

	return xenevtchn_fd(hv->xce);
}

static int evtchn_bind(void *p, uint32_t domid, uint32_t remote, uint32_t *local)
{
	struct hv *hv = p;
	xenevtchn_port_or_error_t port = xenevtchn_bind_interdomain(hv->xce, domid, remote);

	if (port < 0)
		return neg_errno();
	*local = (uint32_t)port;
	return 0;
}

static void evtchn_unbind(void *p, uint32_t local)
{
	struct hv *hv = p;

	xenevtchn_unbind(hv->xce, local);
}

static int evtchn_pending(void *p)
{
	struct hv *hv = p;
	xenevtchn_port_or_error_t port;

	/* The fd is non-blocking (vbi_xen_hv_open()): EAGAIN means nothing is pending. */
	errno = 0;
	port = xenevtchn_pending(hv->xce);
	if (port < 0)
		return errno == EAGAIN || errno == 0 ? -EAGAIN : neg_errno();
	return (int)port;
}

static int evtchn_unmask(void *p, uint32_t local)
{
	struct hv *hv = p;

	return xenevtchn_unmask(hv->xce, local) < 0 ? neg_errno() : 0;
}

static int evtchn_notify(void *p, uint32_t local)
{
	struct hv *hv = p;

	return xenevtchn_notify(hv->xce, local) < 0 ? neg_errno() : 0;
}

static int set_irq(void *p, uint32_t domid, enum vb_xen_irq_kind kind, uint32_t irq, bool level)
{
	struct hv *hv = p;
	int ret;

	if (kind == VB_XEN_IRQ_ISA) {
		if (irq > 15)
			return -EINVAL;
		ret = xendevicemodel_set_isa_irq_level(hv->dm, (domid_t)domid, (uint8_t)irq, level);
	} else {
		ret = xendevicemodel_set_irq_level(hv->dm, (domid_t)domid, irq, level);
	}
	return ret < 0 ? neg_errno() : 0;
}

static void *map_foreign(void *p, uint32_t domid, bool write, const uint64_t *pfns, int *errs,
			 size_t n, int *err)
{
	struct hv *hv = p;
	xen_pfn_t frames[VBI_XEN_BUCKET_PAGES];
	void *addr;

	if (n == 0 || n > VBI_XEN_BUCKET_PAGES) {
		*err = -E2BIG;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		frames[i] = (xen_pfn_t)pfns[i];
	addr = xenforeignmemory_map(hv->fmem, domid, PROT_READ | (write ? PROT_WRITE : 0), n,
				    frames, errs);
	if (!addr)
		*err = neg_errno();
	return addr;
}

static void unmap_foreign(void *p, void *addr, size_t n)
{
	struct hv *hv = p;

	xenforeignmemory_unmap(hv->fmem, addr, n);
}

static void *map_grants(void *p, uint32_t domid, bool write, const uint32_t *refs, size_t n,
			int *err)
{
	struct hv *hv = p;
	uint32_t copy[VBI_XEN_GRANT_RUN_MAX];
	void *addr;

	if (!hv->xgt) {
		*err = -ENODEV;	/* no /dev/xen/gntdev here */
		return NULL;
	}
	if (n == 0 || n > VBI_XEN_GRANT_RUN_MAX) {
		*err = -E2BIG;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		copy[i] = refs[i];	/* the library's prototype is not const */
	addr = xengnttab_map_domain_grant_refs(hv->xgt, (uint32_t)n, domid, copy,
					       PROT_READ | (write ? PROT_WRITE : 0));
	if (!addr)
		*err = neg_errno();
	return addr;
}

static void unmap_grants(void *p, void *addr, size_t n)
{
	struct hv *hv = p;

	xengnttab_unmap(hv->xgt, addr, (uint32_t)n);
}

static void close_hv(void *p)
{
	struct hv *hv = p;

	if (hv->res)
		xenforeignmemory_unmap_resource(hv->fmem, hv->res);
	if (hv->xgt)
		xengnttab_close(hv->xgt);
	if (hv->xce)
		xenevtchn_close(hv->xce);
	if (hv->fmem)
		xenforeignmemory_close(hv->fmem);
	if (hv->dm)
		xendevicemodel_close(hv->dm);
	if (hv->xch)
		xc_interface_close(hv->xch);
	free(hv);
}

static const struct vbi_xen_hv_ops libxen_ops = {
	.nr_vcpus = nr_vcpus,
	.domain_info = domain_info,
	.create_server = create_server,
	.map_pages = map_pages,
	.map_range = map_range,
	.set_state = set_state,
	.destroy_server = destroy_server,
	.evtchn_fd = evtchn_fd,
	.evtchn_bind = evtchn_bind,
	.evtchn_unbind = evtchn_unbind,
	.evtchn_pending = evtchn_pending,
	.evtchn_unmask = evtchn_unmask,
	.evtchn_notify = evtchn_notify,
	.set_irq = set_irq,
	.map_foreign = map_foreign,
	.unmap_foreign = unmap_foreign,
	.map_grants = map_grants,
	.unmap_grants = unmap_grants,
	.close = close_hv,
};

int vbi_xen_hv_open(const struct vbi_xen_hv_ops **ops, void **out)
{
	struct hv *hv = calloc(1, sizeof(*hv));
	int ret;

	if (!hv)
		return -ENOMEM;
	errno = 0;
	/* libxenctrl only tells the domain's type (domain_info); optional. */
	hv->xch = xc_interface_open(NULL, NULL, 0);
	hv->dm = xendevicemodel_open(NULL, 0);
	if (hv->dm)
		hv->fmem = xenforeignmemory_open(NULL, 0);
	if (hv->fmem)
		hv->xce = xenevtchn_open(NULL, 0);
	/* xenevtchn_pending() reads the fd: non-blocking, so "nothing pending" is EAGAIN. */
	if (hv->xce) {
		int fd = xenevtchn_fd(hv->xce);
		int fl = fcntl(fd, F_GETFL);

		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
			ret = neg_errno();
			close_hv(hv);
			return ret;
		}
	}
	/* Grants are optional: a back-end serving no grant device runs without gntdev. */
	if (hv->xce)
		hv->xgt = xengnttab_open(NULL, 0);
	if (!hv->xce) {
		ret = neg_errno();
		close_hv(hv);
		return ret;
	}
	*ops = &libxen_ops;
	*out = hv;
	return 0;
}

VB_EXPORT int vb_xen_server_new(const struct vb_xen_config *cfg, struct vb_xen_server **out)
{
	const struct vbi_xen_hv_ops *ops;
	void *hv;
	int ret;

	if (!cfg || !out)
		return -EINVAL;
	ret = vbi_xen_hv_open(&ops, &hv);
	if (ret < 0)
		return ret;
	ret = vbi_xen_server_new_on(cfg, ops, hv, out);
	if (ret < 0)
		ops->close(hv);
	return ret;
}
