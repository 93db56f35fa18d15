/* SPDX-License-Identifier: MIT */
/* The simulated hypervisor of the Xen transport's tests (vbt-xen-sim.h). */
#define _GNU_SOURCE	/* memfd_create */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "transports/xen/xen-internal.h"
#include "vbt-xen-sim.h"

#define PAGE 4096u
#define VCPU_REMOTE_PORT(v)	(10u + (v))
#define BUF_REMOTE_PORT		9u
#define LOCAL_PORT(remote)	((remote) + 20u)

static struct buffered_iopage *buf_page(struct vbt_xen_sim *x)
{
	return x->pages;
}

static struct shared_iopage *sync_page(struct vbt_xen_sim *x)
{
	return (struct shared_iopage *)((uint8_t *)x->pages + PAGE);
}

static void signal_port(struct vbt_xen_sim *x, uint32_t local)
{
	uint64_t one = 1;

	x->pending |= 1ull << local;
	if (write(x->efd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		abort();
}

/* ---- hypervisor ops ---- */

static int sim_nr_vcpus(void *p, uint32_t domid, unsigned int *n)
{
	struct vbt_xen_sim *x = p;

	if (domid != x->domid)
		return -ESRCH;
	*n = x->nr_vcpus;
	return 0;
}

static int sim_domain_info(void *p, uint32_t domid, bool *isa_irqs)
{
	struct vbt_xen_sim *x = p;

	if (domid != x->domid)
		return -ESRCH;
	*isa_irqs = !x->pvh;
	return 0;
}

static int sim_create_server(void *p, uint32_t domid, bool bufioreq, uint16_t *id)
{
	struct vbt_xen_sim *x = p;

	if (domid != x->domid || x->created || !bufioreq)
		return -EINVAL;
	x->created = true;
	x->id = 3;
	*id = x->id;
	memset(x->pages, 0, 2 * PAGE);
	return 0;
}

static int sim_map_pages(void *p, uint32_t domid, uint16_t id, bool bufioreq, void **sync,
			 void **buf, uint32_t *buf_port)
{
	struct vbt_xen_sim *x = p;

	if (domid != x->domid || !x->created || id != x->id || !bufioreq)
		return -EINVAL;
	*buf = buf_page(x);
	*sync = sync_page(x);
	*buf_port = BUF_REMOTE_PORT;
	return 0;
}

static int sim_map_range(void *p, uint32_t domid, uint16_t id, uint64_t start, uint64_t end,
			 bool map)
{
	struct vbt_xen_sim *x = p;

	if (domid != x->domid || id != x->id || end < start)
		return -EINVAL;
	if (map) {
		if (x->n_ranges == 32)
			return -ENOSPC;
		x->ranges[x->n_ranges].start = start;
		x->ranges[x->n_ranges].end = end;
		x->n_ranges++;
		return 0;
	}
	for (unsigned int i = 0; i < x->n_ranges; i++) {
		if (x->ranges[i].start == start && x->ranges[i].end == end) {
			x->ranges[i] = x->ranges[--x->n_ranges];
			return 0;
		}
	}
	return -ENOENT;
}

static int sim_set_state(void *p, uint32_t domid, uint16_t id, bool enabled)
{
	struct vbt_xen_sim *x = p;

	if (domid != x->domid || id != x->id)
		return -EINVAL;
	x->enabled = enabled;
	/* Xen fills each vCPU's port when the server is enabled. */
	for (unsigned int v = 0; enabled && v < x->nr_vcpus; v++)
		sync_page(x)->vcpu_ioreq[v].vp_eport = VCPU_REMOTE_PORT(v);
	return 0;
}

static void sim_destroy_server(void *p, uint32_t domid, uint16_t id)
{
	struct vbt_xen_sim *x = p;

	if (domid == x->domid && id == x->id) {
		x->created = x->enabled = false;
		x->n_ranges = 0;
	}
}

static int sim_evtchn_fd(void *p)
{
	struct vbt_xen_sim *x = p;

	return x->efd;
}

static int sim_evtchn_bind(void *p, uint32_t domid, uint32_t remote, uint32_t *local)
{
	struct vbt_xen_sim *x = p;

	if (domid != x->domid)
		return -EINVAL;
	if (remote == BUF_REMOTE_PORT) {
		x->buf_port = LOCAL_PORT(remote);
	} else if (remote >= VCPU_REMOTE_PORT(0) &&
		   remote < VCPU_REMOTE_PORT(x->nr_vcpus)) {
		x->vcpu_port[remote - VCPU_REMOTE_PORT(0)] = LOCAL_PORT(remote);
	} else {
		return -EINVAL;
	}
	*local = LOCAL_PORT(remote);
	return 0;
}

static void sim_evtchn_unbind(void *p, uint32_t local)
{
	struct vbt_xen_sim *x = p;

	for (unsigned int v = 0; v < x->nr_vcpus; v++)
		if (x->vcpu_port[v] == local)
			x->vcpu_port[v] = 0;
	if (x->buf_port == local)
		x->buf_port = 0;
}

static int sim_evtchn_pending(void *p)
{
	struct vbt_xen_sim *x = p;
	uint64_t v;

	if (!x->pending) {
		(void)read(x->efd, &v, sizeof(v));	/* drain: nothing left */
		return -EAGAIN;
	}
	v = (uint64_t)__builtin_ctzll(x->pending);
	x->pending &= x->pending - 1;
	return (int)v;
}

static int sim_evtchn_unmask(void *p, uint32_t local)
{
	(void)p;
	return local < 64 ? 0 : -EINVAL;
}

static int sim_evtchn_notify(void *p, uint32_t local)
{
	struct vbt_xen_sim *x = p;

	if (local >= 64)
		return -EINVAL;
	x->notified[local]++;
	return 0;
}

static int sim_set_irq(void *p, uint32_t domid, enum vb_xen_irq_kind kind, uint32_t irq,
		       bool level)
{
	struct vbt_xen_sim *x = p;

	(void)kind;
	if (domid != x->domid || irq >= VBT_XEN_MAX_IRQS)
		return -EINVAL;
	if (level && !x->irq_level[irq])
		x->irq_raised[irq]++;
	x->irq_level[irq] = level;
	return 0;
}

static struct vbt_xen_map *track(struct vbt_xen_sim *x, void *addr, size_t pages, bool grant)
{
	for (unsigned int i = 0; i < VBT_XEN_MAX_MAPS; i++) {
		if (!x->maps[i].addr) {
			x->maps[i] = (struct vbt_xen_map){ addr, pages, grant };
			if (grant)
				x->live_grants++;
			else
				x->live_foreign++;
			return &x->maps[i];
		}
	}
	abort();	/* more live mappings than any test needs: a leak */
}

static void untrack(struct vbt_xen_sim *x, void *addr, size_t pages, bool grant)
{
	for (unsigned int i = 0; i < VBT_XEN_MAX_MAPS; i++) {
		struct vbt_xen_map *m = &x->maps[i];

		if (m->addr == addr) {
			if (m->pages != pages || m->grant != grant) {
				fprintf(stderr, "xen-sim: unmap of %zu pages at %p, mapped %zu\n",
					pages, addr, m->pages);
				abort();
			}
			munmap(addr, pages * PAGE);
			memset(m, 0, sizeof(*m));
			if (grant)
				x->live_grants--;
			else
				x->live_foreign--;
			return;
		}
	}
	fprintf(stderr, "xen-sim: unmap of %p, which is not mapped\n", addr);
	abort();
}

/* A fresh reservation of n pages, each PROT_NONE until a frame is put there. */
static uint8_t *reserve(size_t n)
{
	void *a = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return a == MAP_FAILED ? NULL : a;
}

static int put_frame(struct vbt_xen_sim *x, uint8_t *at, uint64_t frame, int prot)
{
	void *a = mmap(at, PAGE, prot, MAP_SHARED | MAP_FIXED, x->memfd, (off_t)(frame * PAGE));

	return a == MAP_FAILED ? -errno : 0;
}

static void *sim_map_foreign(void *p, uint32_t domid, bool write, const uint64_t *pfns,
			     int *errs, size_t n, int *err)
{
	struct vbt_xen_sim *x = p;
	uint8_t *a;
	bool any = false;

	x->foreign_calls++;
	if (domid != x->domid || n == 0) {
		*err = -EINVAL;
		return NULL;
	}
	a = reserve(n);
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (pfns[i] >= x->frames || x->refuse[pfns[i]]) {
			errs[i] = -EINVAL;	/* Xen: no such frame in the guest */
			continue;
		}
		errs[i] = put_frame(x, a + i * PAGE, pfns[i], PROT_READ | (write ? PROT_WRITE : 0));
		any = any || errs[i] == 0;
	}
	if (!any) {
		munmap(a, n * PAGE);
		*err = -EINVAL;
		return NULL;
	}
	track(x, a, n, false);
	return a;
}

static void sim_unmap_foreign(void *p, void *addr, size_t n)
{
	untrack(p, addr, n, false);
}

static void *sim_map_grants(void *p, uint32_t domid, bool write, const uint32_t *refs, size_t n,
			    int *err)
{
	struct vbt_xen_sim *x = p;
	uint8_t *a;

	x->grant_calls++;
	if (domid != x->domid || n == 0) {
		*err = -EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		/* gntdev: every reference valid, and writable if a writable map is asked. */
		if (refs[i] >= x->frames || x->grant_state[refs[i]] == 0 ||
		    (write && x->grant_state[refs[i]] == 2)) {
			*err = -EINVAL;
			return NULL;
		}
	}
	a = reserve(n);
	if (!a) {
		*err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (put_frame(x, a + i * PAGE, x->grant_frame[refs[i]],
			      PROT_READ | (write ? PROT_WRITE : 0)) < 0) {
			munmap(a, n * PAGE);
			*err = -ENOMEM;
			return NULL;
		}
	}
	track(x, a, n, true);
	return a;
}

static void sim_unmap_grants(void *p, void *addr, size_t n)
{
	untrack(p, addr, n, true);
}

static void sim_close(void *p)
{
	(void)p;	/* the test owns the simulator */
}

static const struct vbi_xen_hv_ops sim_ops = {
	.nr_vcpus = sim_nr_vcpus,
	.domain_info = sim_domain_info,
	.create_server = sim_create_server,
	.map_pages = sim_map_pages,
	.map_range = sim_map_range,
	.set_state = sim_set_state,
	.destroy_server = sim_destroy_server,
	.evtchn_fd = sim_evtchn_fd,
	.evtchn_bind = sim_evtchn_bind,
	.evtchn_unbind = sim_evtchn_unbind,
	.evtchn_pending = sim_evtchn_pending,
	.evtchn_unmask = sim_evtchn_unmask,
	.evtchn_notify = sim_evtchn_notify,
	.set_irq = sim_set_irq,
	.map_foreign = sim_map_foreign,
	.unmap_foreign = sim_unmap_foreign,
	.map_grants = sim_map_grants,
	.unmap_grants = sim_unmap_grants,
	.close = sim_close,
};

const struct vbi_xen_hv_ops *vbt_xen_sim_ops(void)
{
	return &sim_ops;
}

/* ---- set-up ---- */

int vbt_xen_sim_init(struct vbt_xen_sim *x, uint32_t domid, size_t frames, unsigned int nr_vcpus)
{
	memset(x, 0, sizeof(*x));
	if (nr_vcpus == 0 || nr_vcpus > VBT_XEN_MAX_VCPUS)
		return -EINVAL;
	x->domid = domid;
	x->nr_vcpus = nr_vcpus;
	x->frames = frames;
	x->memfd = memfd_create("vbt-xen-guest", MFD_CLOEXEC);
	if (x->memfd < 0 || ftruncate(x->memfd, (off_t)(frames * PAGE)) < 0)
		return -errno;
	x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	x->pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x->refuse = calloc(frames, 1);
	x->grant_frame = calloc(frames, sizeof(*x->grant_frame));
	x->grant_state = calloc(frames, 1);
	if (x->efd < 0 || x->pages == MAP_FAILED || !x->refuse || !x->grant_frame ||
	    !x->grant_state)
		return -ENOMEM;
	for (size_t i = 0; i < frames; i++) {
		x->grant_frame[i] = (uint32_t)i;
		x->grant_state[i] = 1;
	}
	return 0;
}

void vbt_xen_sim_fini(struct vbt_xen_sim *x)
{
	for (unsigned int i = 0; i < VBT_XEN_MAX_MAPS; i++)
		if (x->maps[i].addr)
			munmap(x->maps[i].addr, x->maps[i].pages * PAGE);
	if (x->pages && x->pages != MAP_FAILED)
		munmap(x->pages, 2 * PAGE);
	free(x->refuse);
	free(x->grant_frame);
	free(x->grant_state);
	if (x->efd >= 0)
		close(x->efd);
	if (x->memfd >= 0)
		close(x->memfd);
}

int vbt_xen_sim_guest(struct vbt_xen_sim *x, struct vbt_guest *g, uint64_t gpa_base)
{
	void *a = mmap(NULL, x->frames * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, x->memfd, 0);

	if (a == MAP_FAILED)
		return -errno;
	memset(g, 0, sizeof(*g));
	g->base = a;
	g->size = x->frames * PAGE;
	g->gpa = gpa_base;
	g->next = PAGE;	/* frame 0 stays free: a zero address is never a buffer */
	g->mapping = a;
	g->mapping_len = g->size;
	return vbt_guest_describe(g, gpa_base, g->size, 0);
}

void vbt_xen_sim_grant(struct vbt_xen_sim *x, uint32_t ref, uint32_t frame, bool ro)
{
	if (ref < x->frames) {
		x->grant_frame[ref] = frame;
		x->grant_state[ref] = ro ? 2 : 1;
	}
}

void vbt_xen_sim_revoke(struct vbt_xen_sim *x, uint32_t ref)
{
	if (ref < x->frames)
		x->grant_state[ref] = 0;
}

/* ---- the vCPU side ---- */

static void slot_set_state(struct ioreq *slot, unsigned int state)
{
	uint8_t *b = (uint8_t *)slot + 30;

	__atomic_store_n(b, (uint8_t)((*b & 0xf0u) | state), __ATOMIC_RELEASE);
}

static unsigned int slot_state(struct ioreq *slot)
{
	return __atomic_load_n((uint8_t *)slot + 30, __ATOMIC_ACQUIRE) & 0xfu;
}

int vbt_xen_sim_ioreq(struct vbt_xen_sim *x, unsigned int vcpu, const struct ioreq *req,
		      struct ioreq *out)
{
	struct ioreq *slot;
	uint32_t port;
	unsigned int before;
	int ret;

	if (vcpu >= x->nr_vcpus || !x->vcpu_port[vcpu])
		return -EINVAL;
	slot = &sync_page(x)->vcpu_ioreq[vcpu];
	port = slot->vp_eport;
	before = x->notified[x->vcpu_port[vcpu]];
	*slot = *req;
	slot->vp_eport = port;
	slot_set_state(slot, STATE_IOREQ_NONE);
	slot_set_state(slot, STATE_IOREQ_READY);
	signal_port(x, x->vcpu_port[vcpu]);
	ret = vb_xen_dispatch(x->server);
	if (ret < 0)
		return ret;
	if (slot_state(slot) != STATE_IORESP_READY ||
	    x->notified[x->vcpu_port[vcpu]] != before + 1)
		return -EIO;
	*out = *slot;
	slot_set_state(slot, STATE_IOREQ_NONE);
	return 0;
}

int vbt_xen_sim_mmio(struct vbt_xen_sim *x, unsigned int vcpu, bool write, uint64_t addr,
		     unsigned int size, uint64_t *data)
{
	struct ioreq req, out;
	bool claimed = false;
	int ret;

	for (unsigned int i = 0; i < x->n_ranges; i++)
		claimed = claimed || (addr >= x->ranges[i].start && addr <= x->ranges[i].end);
	if (!x->enabled || !claimed)
		return -ENODEV;
	memset(&req, 0, sizeof(req));
	req.addr = addr;
	req.data = write ? *data : 0;
	req.count = 1;
	req.size = size;
	req.dir = write ? IOREQ_WRITE : IOREQ_READ;
	req.type = IOREQ_TYPE_COPY;
	ret = vbt_xen_sim_ioreq(x, vcpu, &req, &out);
	if (ret == 0 && !write)
		*data = out.data;
	return ret;
}

int vbt_xen_sim_buffered(struct vbt_xen_sim *x, const buf_ioreq_t *slots, unsigned int n)
{
	struct buffered_iopage *b = buf_page(x);
	uint32_t wp = b->write_pointer;

	if (n > IOREQ_BUFFER_SLOT_NUM || wp - b->read_pointer + n > IOREQ_BUFFER_SLOT_NUM)
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++)
		b->buf_ioreq[(wp + i) % IOREQ_BUFFER_SLOT_NUM] = slots[i];
	__atomic_store_n(&b->write_pointer, wp + n, __ATOMIC_RELEASE);
	if (x->buf_port)
		signal_port(x, x->buf_port);
	return vb_xen_dispatch(x->server);
}
