/* SPDX-License-Identifier: MIT */
/*
 * The hypervisor side of the Xen transport, simulated faithfully enough to test it without
 * Xen: the ioreq server's shared page (one slot per vCPU, Xen's ioreq.h layout) and buffered
 * ring, event channels (one eventfd as the server's fd, ports as Xen numbers them), MMIO
 * ranges the server claims, interrupt lines, and guest memory as a memfd of frames:
 * a foreign mapping or a grant mapping is a fresh mmap of exactly the frames asked for (so
 * two mappings of one frame have different addresses, as under Xen), a frame Xen would
 * refuse stays PROT_NONE, a read-only grant is mapped read-only: a transport touching what it
 * should not crashes the test. Every live mapping is tracked; unmapping what is not mapped
 * aborts.
 *
 * The "vCPU" side (what Xen does when the guest touches a claimed range) posts an ioreq in
 * its slot, signals the server's event channel, runs vb_xen_dispatch() and reads the answer.
 */
#ifndef VBT_XEN_SIM_H
#define VBT_XEN_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xen/xen.h>
#include <xen/hvm/ioreq.h>

#include "vbt-mem.h"

struct vb_xen_server;
struct vbi_xen_hv_ops;

#define VBT_XEN_MAX_VCPUS	4u
#define VBT_XEN_MAX_MAPS	1024u
#define VBT_XEN_MAX_IRQS	64u

struct vbt_xen_map {
	void	*addr;
	size_t	pages;
	bool	grant;
};

struct vbt_xen_sim {
	uint32_t	domid;
	unsigned int	nr_vcpus;
	bool		pvh;		/* a PVH guest: no emulated PIC (ISA IRQs refused) */
	/* guest memory: frames [0, frames) of the memfd */
	int		memfd;
	size_t		frames;
	uint8_t		*refuse;	/* per frame: 1 = Xen refuses to map it (a hole) */
	/* grant table: ref -> frame; ref i is frame i (identity) until changed */
	uint32_t	*grant_frame;
	uint8_t		*grant_state;	/* 0 revoked, 1 read-write, 2 read-only */
	/* ioreq server */
	bool		created, enabled;
	uint16_t	id;
	void		*pages;		/* two pages: buffered ring, then the vCPU slots */
	struct { uint64_t start, end; } ranges[32];
	unsigned int	n_ranges;
	/* event channels */
	int		efd;
	uint64_t	pending;	/* bit per local port */
	uint32_t	vcpu_port[VBT_XEN_MAX_VCPUS];	/* local ports bound, 0 = none */
	uint32_t	buf_port;
	unsigned int	notified[64];	/* evtchn_notify per local port */
	/* interrupts */
	bool		irq_level[VBT_XEN_MAX_IRQS];
	unsigned int	irq_raised[VBT_XEN_MAX_IRQS];
	/* mappings */
	struct vbt_xen_map maps[VBT_XEN_MAX_MAPS];
	unsigned int	live_foreign, live_grants;
	unsigned int	foreign_calls, grant_calls;
	/* the server under test, dispatched by the vCPU side */
	struct vb_xen_server *server;
};

/* The ops table to build a server on (vbi_xen_server_new_on(cfg, vbt_xen_sim_ops(), sim)). */
const struct vbi_xen_hv_ops *vbt_xen_sim_ops(void);

/* frames of guest memory, nr_vcpus vCPUs. 0 or a negative errno. */
int vbt_xen_sim_init(struct vbt_xen_sim *x, uint32_t domid, size_t frames, unsigned int nr_vcpus);
void vbt_xen_sim_fini(struct vbt_xen_sim *x);

/* The driver's view of guest memory for vbt-split & co: guest address gpa_base (0 for
 * frames, 1 << 63 for identity grants) mapped over all frames. */
int vbt_xen_sim_guest(struct vbt_xen_sim *x, struct vbt_guest *g, uint64_t gpa_base);

/* One synchronous MMIO access by vCPU vcpu, as Xen forwards it: posted, signalled,
 * dispatched, answered. -ENODEV if no claimed range holds it (Xen would not forward it),
 * -EIO if the server left the slot unanswered, else 0 and *data for a read. */
int vbt_xen_sim_mmio(struct vbt_xen_sim *x, unsigned int vcpu, bool write, uint64_t addr,
		     unsigned int size, uint64_t *data);

/* Post any ioreq (hostile ones too) in vCPU vcpu's slot and dispatch; *out gets the slot as
 * the server left it. 0, or -EIO if it was not answered. */
int vbt_xen_sim_ioreq(struct vbt_xen_sim *x, unsigned int vcpu, const struct ioreq *req,
		      struct ioreq *out);

/* Append n slots to the buffered ring (writes Xen does not wait for) and dispatch. */
int vbt_xen_sim_buffered(struct vbt_xen_sim *x, const buf_ioreq_t *slots, unsigned int n);

/* Grant table edits: ref maps frame, read-only or not; or revoked. */
void vbt_xen_sim_grant(struct vbt_xen_sim *x, uint32_t ref, uint32_t frame, bool ro);
void vbt_xen_sim_revoke(struct vbt_xen_sim *x, uint32_t ref);

#endif
