/* SPDX-License-Identifier: MIT */
/*
 * Inside the Xen ioreq-server transport: the hypervisor interface (the host's Xen libraries
 * in hv-libxen.c, a simulator in tests/support/vbt-xen-sim.c), the server, the guest-memory
 * cache.
 */
#ifndef VB_TRANSPORTS_XEN_INTERNAL_H
#define VB_TRANSPORTS_XEN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

#include "virtio-backend.h"
#include "virtio-backend/transports/xen.h"

#define VBI_XEN_PAGE_SHIFT	12
#define VBI_XEN_PAGE_SIZE	(1u << VBI_XEN_PAGE_SHIFT)
/* Bus addresses of grant DMA (Linux drivers/xen/grant-dma-ops.c): bit 63 set, the grant
 * reference in the page frame bits. */
#define VBI_XEN_GRANT_ADDR	(1ull << 63)

/*
 * What the transport asks of Xen. Every call returns 0 or a negative errno unless said
 * otherwise; hv is the implementation's context.
 */
struct vbi_xen_hv_ops {
	int  (*nr_vcpus)(void *hv, uint32_t domid, unsigned int *n);
	/* *isa_irqs: the domain has an emulated PIC and IO-APIC (an x86 HVM guest, not PVH). */
	int  (*domain_info)(void *hv, uint32_t domid, bool *isa_irqs);
	int  (*create_server)(void *hv, uint32_t domid, bool bufioreq, uint16_t *id);
	/* Map the server's pages: *sync gets the shared_iopage_t, *buf the buffered_iopage_t
	 * (when bufioreq) and *buf_port the buffered ring's remote event channel. */
	int  (*map_pages)(void *hv, uint32_t domid, uint16_t id, bool bufioreq, void **sync,
			  void **buf, uint32_t *buf_port);
	int  (*map_range)(void *hv, uint32_t domid, uint16_t id, uint64_t start, uint64_t end,
			  bool map);
	int  (*set_state)(void *hv, uint32_t domid, uint16_t id, bool enabled);
	void (*destroy_server)(void *hv, uint32_t domid, uint16_t id);
	/* Event channels: one fd for all; pending returns a local port or -EAGAIN. */
	int  (*evtchn_fd)(void *hv);
	int  (*evtchn_bind)(void *hv, uint32_t domid, uint32_t remote, uint32_t *local);
	void (*evtchn_unbind)(void *hv, uint32_t local);
	int  (*evtchn_pending)(void *hv);
	int  (*evtchn_unmask)(void *hv, uint32_t local);
	int  (*evtchn_notify)(void *hv, uint32_t local);
	int  (*set_irq)(void *hv, uint32_t domid, enum vb_xen_irq_kind kind, uint32_t irq,
			bool level);
	/* Guest memory: n frames (pfns) mapped contiguously; errs[i] is 0 or a negative errno
	 * for frame i (such a frame must not be touched); NULL with errno-style *err when
	 * nothing could be mapped. */
	void *(*map_foreign)(void *hv, uint32_t domid, bool write, const uint64_t *pfns,
			     int *errs, size_t n, int *err);
	void (*unmap_foreign)(void *hv, void *addr, size_t n);
	/* n grant references mapped contiguously, all or nothing. */
	void *(*map_grants)(void *hv, uint32_t domid, bool write, const uint32_t *refs, size_t n,
			    int *err);
	void (*unmap_grants)(void *hv, void *addr, size_t n);
	/* Release the interfaces (server destroyed first). */
	void (*close)(void *hv);
};

/* The host's Xen libraries (hv-libxen.c, which also holds vb_xen_server_new()). */
int vbi_xen_hv_open(const struct vbi_xen_hv_ops **ops, void **hv);

/* A server on any hypervisor interface (tests use the simulator). */
int vbi_xen_server_new_on(const struct vb_xen_config *cfg, const struct vbi_xen_hv_ops *ops,
			  void *hv, struct vb_xen_server **out);

/* ---- guest memory (gmem.c) ---- */

#define VBI_XEN_MEM_REGIONS	256u
#define VBI_XEN_MAPS		512u
/* Foreign mappings are made a bucket at a time (fewer hypercalls, fewer regions). */
#define VBI_XEN_BUCKET_PAGES	256u
/* Longest grant run mapped at once (a request's buffer). */
#define VBI_XEN_GRANT_RUN_MAX	256u

struct vbi_xen_map {
	void		*host;
	uint64_t	addr;		/* bus address of the first page */
	uint32_t	pages;
	bool		used;		/* slot in use */
	bool		grant;
	bool		active;		/* its region is in the map */
	bool		writable;
	uint64_t	seq;		/* creation order: eviction takes the oldest */
};

struct vbi_xen_gmem {
	const struct vbi_xen_hv_ops *hv_ops;
	void			*hv;
	uint32_t		domid;
	uint64_t		bound;		/* bytes of active foreign mappings */
	uint64_t		mapped;		/* bytes of active foreign mappings now */
	uint64_t		seq;
	uint32_t		retired;	/* mapped but out of the map: unmap at release */
	struct vb_mem		mem;
	struct vb_mem_region	regions[VBI_XEN_MEM_REGIONS];
	struct vbi_xen_map	maps[VBI_XEN_MAPS];
	struct vb_xen_stats	*stats;
	/* Ring areas of enabled queues: filled by the server before release/evict. */
	bool			(*pinned)(void *ctx, uint64_t addr, uint64_t len);
	void			*pinned_ctx;
};

void vbi_xen_gmem_init(struct vbi_xen_gmem *g, const struct vbi_xen_hv_ops *ops, void *hv,
		       uint32_t domid, uint64_t bound, struct vb_xen_stats *stats);
/* Guest memory changed (IOREQ_TYPE_INVALIDATE): take every unpinned foreign mapping out of
 * the map; they are unmapped by the next vbi_xen_gmem_release(). */
void vbi_xen_gmem_invalidate(struct vbi_xen_gmem *g);
/* No request in flight: unmap what was taken out of the map, and every grant mapping not
 * holding an enabled ring (all = true: everything, rings too: the devices are reset). */
void vbi_xen_gmem_release(struct vbi_xen_gmem *g, bool all);

/* ---- the server (server.c) ---- */

struct vbi_xen_device {
	struct vb_xen_device	cfg;
	struct vb_xen_server	*server;
	void			*storage;	/* register file and device, one allocation */
	struct vb_mmio		*mmio;
	struct vb_dev		*dev;
	struct vb_mmio_host_ops	host_ops;
	uint64_t		kicks;		/* queues notified, served after the reply */
	bool			irq_level;
};

struct vb_xen_server {
	struct vb_xen_config	cfg;
	const struct vbi_xen_hv_ops *hv_ops;
	void			*hv;
	bool			created;	/* ioreq server exists */
	bool			started;
	uint16_t		id;
	struct shared_iopage	*sync;
	struct buffered_iopage	*buf;
	unsigned int		nr_vcpus;
	uint32_t		*ports;		/* local event channel per vCPU */
	uint32_t		buf_port;
	bool			buf_bound;
	struct vbi_xen_device	devs[VB_XEN_MAX_DEVICES];
	unsigned int		n_devs;
	bool			kicked;		/* some device has kicks pending */
	struct vb_xen_stats	stats;
	struct vbi_xen_gmem	gmem;
};

/* ---- ioreq handling (ioreq.c) ---- */

/* Serve one ioreq in *req (a private copy of the shared slot's fields); *data gets what a
 * read returns. */
void vbi_xen_serve(struct vb_xen_server *s, const struct ioreq *req, uint64_t *data);

#endif
