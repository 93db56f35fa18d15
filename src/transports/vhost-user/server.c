/* SPDX-License-Identifier: MIT */
/*
 * vhost-user backend: the connection, ring states and message dispatch (QEMU
 * docs/interop/vhost-user.rst). One struct vb_dev per server, driven as the transport contract
 * says (docs/architecture.md, 9 and 10.1); kicks come from eventfds, used-buffer notifications
 * go to call eventfds. Everything runs on the thread that calls vb_vu_dispatch(): no thread,
 * no lock, no allocation after vb_vu_server_new().
 */
#define _GNU_SOURCE	/* accept4, SOCK_NONBLOCK */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <sys/un.h>
#include <unistd.h>

#include "virtio-backend/spec.h"
#include "virtio-backend/vq.h"
#include "internal/compiler.h"
#include "vu-internal.h"

/* epoll tags: kind in the high half, ring index in the low half. */
#define TAG_LISTEN	1u
#define TAG_CONN	2u
#define TAG_KICK	3u
#define TAG_BACKEND	4u	/* the back-end request channel (BACKEND_REQ) */
#define TAG_RECONNECT	5u	/* client mode: time to connect again */

/* Client mode (vb_vu_connect()): retry delays double from the first to the last. */
#define RECONNECT_FIRST_MS	50u
#define RECONNECT_MAX_MS	2000u
#define TAG(kind, idx)	(((uint64_t)(kind) << 32) | (idx))

/* Feature bits the core must never offer over vhost-user: bits the protocol owns (30, 26),
 * an IOMMU (no IOTLB yet), notification data (an eventfd carries none), per-queue reset
 * (no message for it here) and the PCI-only SR-IOV bit. */
#define VU_FORBIDDEN	(VB_BIT(VB_VU_F_PROTOCOL_FEATURES) | VB_BIT(VB_VU_F_LOG_ALL) | \
			 VB_BIT(VB_VIRTIO_F_ACCESS_PLATFORM) | \
			 VB_BIT(VB_VIRTIO_F_NOTIFICATION_DATA) | \
			 VB_BIT(VB_VIRTIO_F_RING_RESET) | VB_BIT(VB_VIRTIO_F_SR_IOV))

#define VU_STATUS_INIT	(VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER)

/* A ring as vhost-user.rst "Ring states" sees it. */
struct vu_ring {
	int			kick_fd;	/* -1: none (polling front-end) */
	bool			kick_nb;	/* kick_fd was O_NONBLOCK when it came */
	int			call_fd;
	int			err_fd;
	bool			started;	/* SET_VRING_KICK .. GET_VRING_BASE */
	bool			enabled;	/* SET_VRING_ENABLE (with PROTOCOL_FEATURES) */
	bool			live;		/* the core queue is enabled and live */
	bool			addr_set;
	bool			used_from_ring;	/* split: read used idx from the ring at start */
	uint16_t		num;
	struct vb_vu_vring_addr	addr;
	struct vb_vq_pos	base;		/* position while not live */
	/* Inflight tracking (INFLIGHT_SHMFD): split rings. */
	struct vb_vu_inflight_split *infl;	/* this ring's shared record; NULL: untracked */
	uint16_t		infl_num;	/* entries of the record (private copy) */
	bool			infl_recover;	/* the device holds none of its chains: serve
						 * the record's inflight heads again at start */
	uint64_t		counter;	/* pop order of the next head */
	uint16_t		*resubmit;	/* heads to serve again, oldest first */
	uint16_t		n_resubmit;
	uint16_t		next_resubmit;
	/* Packed rings: the record, buffer id -> head entry of its chain (r->num entries),
	 * and the chains to serve again as private descriptor copies (chain i is
	 * rs_desc[rs_chain[i] .. rs_chain[i + 1])). */
	struct vb_vu_inflight_packed *infp;
	uint16_t		*id_entry;
	bool			infp_bad;	/* the record went inconsistent: not kept */
	struct vb_vring_packed_desc *rs_desc;
	uint16_t		*rs_chain;
	struct vb_vq_pos	log_pos;	/* packed: position before the push in progress */
};

struct vb_vu_server {
	struct vb_vu_config	cfg;
	int			epfd;
	int			listen_fd;
	char			*listen_path;
	int			conn_fd;
	bool			attached;	/* conn_fd came from vb_vu_attach_fd() */
	bool			ended;		/* an attached connection closed */
	/* Client mode: the front-end's socket, connected again whenever the link drops. */
	char			*connect_path;
	int			timer_fd;	/* armed while waiting to retry */
	uint32_t		retry_ms;	/* next delay */
	struct vbi_vu_rx	rx;
	struct vbi_vu_backend	backend;	/* SET_BACKEND_REQ_FD channel */
	/* Session (one connection). */
	bool			owner;
	bool			features_set;	/* the core is past DRIVER_OK */
	uint64_t		features;	/* as the front-end set them, bit 30 included */
	uint64_t		protocol;	/* negotiated protocol features */
	uint8_t			status;		/* the front-end's status byte (STATUS) */
	struct vbi_vu_mem	mem;
	struct vb_dev		*dev;
	void			*dev_storage;
	struct vb_vu_stats	stats;
	/* Inflight memory of the session (GET_INFLIGHT_FD / SET_INFLIGHT_FD). */
	void			*infl_base;
	size_t			infl_len;
	uint16_t		infl_nq;
	uint16_t		infl_qsz;
	struct vbi_vu_log	log;		/* dirty log (SET_LOG_BASE); unmapped: none */
	/* Busy polling (vb_vu_set_poll()): window length, end of the current window (0: not
	 * polling, kicks are on) and each ring's position when last looked at. */
	uint64_t		poll_ns;
	uint64_t		poll_until;
	struct vu_poll		*poll;
	uint16_t		num_queues;
	struct vu_ring		rings[];
};

static void vu_log(struct vb_vu_server *s, enum vb_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void vu_log(struct vb_vu_server *s, enum vb_log_level level, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!s->cfg.log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->cfg.log(s->cfg.log_ctx, level, line);
}

static bool has_protocol(const struct vb_vu_server *s, unsigned int bit)
{
	return (s->protocol & VB_BIT(bit)) != 0;
}

/* ---- Interrupts out (struct vb_transport_ops) ---- */

static void signal_fd(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	/* An eventfd write only fails when the counter would overflow: the front-end has
	 * 2^64 - 2 notifications pending, and one more changes nothing for it. */
	do {
		n = write(fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
}

/* @satisfy{VB-REQ-VU-010} used-buffer notifications go to the ring's call eventfd */
static int vu_notify(void *transport, uint16_t qidx)
{
	struct vb_vu_server *s = transport;

	if (qidx >= s->num_queues || s->rings[qidx].call_fd < 0)
		return 0;	/* no call fd: the front-end polls */
	signal_fd(s->rings[qidx].call_fd);
	s->stats.calls++;
	return 0;
}

/*
 * vhost-user.rst BACKEND_CONFIG_CHANGE_MSG, on the channel of SET_BACKEND_REQ_FD. With
 * REPLY_ACK the message asks for an ack, which dispatch reads whenever it comes (backend.c
 * says why it is not awaited here). Without a channel the front-end sees the change on its
 * next GET_CONFIG only.
 * @satisfy{VB-REQ-VU-501}
 */
static int vu_config_changed(void *transport)
{
	struct vb_vu_server *s = transport;
	int ret;

	if (s->backend.fd < 0 || !has_protocol(s, VB_VU_PROTOCOL_F_CONFIG))
		return 0;
	ret = vbi_vu_backend_send(&s->backend, VB_VU_BACKEND_CONFIG_CHANGE_MSG,
				  has_protocol(s, VB_VU_PROTOCOL_F_REPLY_ACK));
	if (ret < 0)
		vu_log(s, VB_LOG_WARN, "vhost-user: config change not sent: %s", strerror(-ret));
	else
		vu_log(s, VB_LOG_INFO, "vhost-user: config change sent to the front-end");
	return ret;
}

static void vu_needs_reset(void *transport)
{
	struct vb_vu_server *s = transport;

	/* vhost-user.rst SET_VRING_ERR: the err eventfd signals a ring error. */
	for (uint16_t q = 0; q < s->num_queues; q++) {
		struct vb_vq *vq = vb_dev_queue(s->dev, q);

		if (vq && vb_vq_error(vq) != 0 && s->rings[q].err_fd >= 0)
			signal_fd(s->rings[q].err_fd);
	}
}

static const struct vb_transport_ops vu_transport_ops = {
	.version = VB_TRANSPORT_OPS_V1,
	.notify = vu_notify,
	.config_changed = vu_config_changed,
	.needs_reset = vu_needs_reset,
};

/* ---- Inflight I/O tracking (vhost-user.rst "Inflight I/O tracking") ---- */

/*
 * The shared record of each split ring says which heads the back-end popped and has not
 * used yet, in pop order, and which used element it was writing (packed rings: below). A back-end that died (a
 * crash, SIGKILL) leaves it behind in the front-end's memfd; the next one gets it back with
 * SET_INFLIGHT_FD and serves those heads again. The record is written on this thread only
 * and read again by another process after this one died: program order is all that matters,
 * so compiler barriers keep the stores in it.
 */
static bool ring_is_packed(const struct vb_vu_server *s);

#define INFL_BARRIER()	__atomic_signal_fence(__ATOMIC_SEQ_CST)

static struct vb_vu_inflight_desc *infl_desc(struct vb_vu_inflight_split *iq)
{
	return (struct vb_vu_inflight_desc *)(iq + 1);
}

static struct vu_ring *vq_ring(struct vb_vu_server *s, struct vb_vq *vq)
{
	return &s->rings[vb_vq_index(vq)];
}

static void infl_popped(void *ctx, struct vb_vq *vq, uint16_t head)
{
	struct vu_ring *r = vq_ring(ctx, vq);
	struct vb_vu_inflight_desc *d;

	if (head >= r->infl_num)
		return;
	d = &infl_desc(r->infl)[head];
	d->counter = r->counter++;
	INFL_BARRIER();
	d->inflight = 1;
}

static void infp_pre_push(struct vu_ring *r, struct vb_vq *vq, uint16_t id);
static void infp_post_push(struct vu_ring *r, uint16_t id);

static void infl_pre_push(void *ctx, struct vb_vq *vq, uint16_t head)
{
	struct vu_ring *r = vq_ring(ctx, vq);

	if (ring_is_packed(ctx)) {
		infp_pre_push(r, vq, head);
		return;
	}
	if (!r->infl)
		return;	/* attached for the dirty log only */
	r->infl->last_batch_head = head;
	INFL_BARRIER();
}

static void infl_post_push(void *ctx, struct vb_vq *vq, uint16_t head, uint16_t used_idx)
{
	struct vu_ring *r = vq_ring(ctx, vq);

	if (ring_is_packed(ctx)) {
		infp_post_push(r, head);
		return;
	}
	if (!r->infl)
		return;	/* attached for the dirty log only */
	INFL_BARRIER();
	if (head < r->infl_num)
		infl_desc(r->infl)[head].inflight = 0;
	INFL_BARRIER();
	r->infl->used_idx = used_idx;
}

static void resubmit_free(struct vu_ring *r)
{
	free(r->resubmit);
	free(r->rs_desc);
	free(r->rs_chain);
	r->resubmit = NULL;
	r->rs_desc = NULL;
	r->rs_chain = NULL;
	r->n_resubmit = r->next_resubmit = 0;
}

static int infl_resubmit(void *ctx, struct vb_vq *vq)
{
	struct vu_ring *r = vq_ring(ctx, vq);

	if (r->next_resubmit < r->n_resubmit)
		return r->resubmit[r->next_resubmit++];
	if (r->resubmit)
		resubmit_free(r);
	return -1;
}

/* ---- Packed rings (vhost-user.rst "Inflight I/O tracking", QueueRegionPacked) ---- */

/*
 * The packed record keeps a copy of every descriptor the device popped and holds, because the
 * device writes used descriptors over ring slots whose chains may still be in flight (out of
 * order completion). Entries come from a free list; a chain's entries follow each other on it
 * from its head entry, which holds the count, the last entry and the pop counter. The "old_"
 * fields are the state before the update in progress, so that a back-end killed at any store
 * leaves a record infp_recover() settles. Indices read back from the shared memory are
 * checked before use; one out of range gives the record up for this ring (infp_bad).
 */
#define PD_AVAIL	((uint16_t)(1u << VB_VRING_PACKED_DESC_F_AVAIL))
#define PD_USED		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_USED))

static struct vb_vu_inflight_desc_packed *infp_desc(struct vb_vu_inflight_packed *ip)
{
	return (struct vb_vu_inflight_desc_packed *)(ip + 1);
}

/* The record went inconsistent (the front-end wrote into it): stop keeping it, and mark it
 * fresh so that a restarted back-end does not serve what it says. */
static void infp_give_up(struct vu_ring *r)
{
	r->infp_bad = true;
	__atomic_store_n(&r->infp->version, 0, __ATOMIC_RELAXED);
}

static bool infp_ok(struct vu_ring *r, uint16_t e)
{
	if (e < r->infl_num)
		return true;
	infp_give_up(r);
	return false;
}

/* One descriptor of guest memory, each field read once. */
static void read_desc_once(const struct vb_vring_packed_desc *g, struct vb_vring_packed_desc *d)
{
	d->addr.raw = __atomic_load_n(&g->addr.raw, __ATOMIC_RELAXED);
	d->len.raw = __atomic_load_n(&g->len.raw, __ATOMIC_RELAXED);
	d->id.raw = __atomic_load_n(&g->id.raw, __ATOMIC_RELAXED);
	d->flags.raw = __atomic_load_n(&g->flags.raw, __ATOMIC_RELAXED);
}

/* A chain came off the ring: its descriptors go to free entries, in the order of
 * vhost-user.rst ("When receiving available buffers from the driver").
 * @satisfy{VB-REQ-VU-305} */
static void infl_popped_packed(void *ctx, struct vb_vq *vq, const struct vb_chain *c,
			       const struct vb_vring_packed_desc *ring, uint16_t first)
{
	struct vu_ring *r = vq_ring(ctx, vq);
	struct vb_vu_inflight_packed *ip = r->infp;
	struct vb_vu_inflight_desc_packed *d;
	uint16_t head, fh, slot = first;

	if (!ip || r->infp_bad || first >= r->num)
		return;
	d = infp_desc(ip);
	head = fh = ip->free_head;
	if (!infp_ok(r, head))
		return;
	d[head].num = 0;
	d[head].counter = r->counter++;
	INFL_BARRIER();
	d[head].inflight = 1;
	for (uint16_t i = 0; i < c->ring_slots; i++) {
		struct vb_vring_packed_desc g;

		if (!infp_ok(r, fh))
			return;
		read_desc_once(&ring[slot], &g);
		if (i + 1u == c->ring_slots)
			d[head].last = fh;
		d[head].num++;
		d[fh].addr = vb_le64_to_cpu(g.addr);
		d[fh].len = vb_le32_to_cpu(g.len);
		d[fh].flags = vb_le16_to_cpu(g.flags);
		d[fh].id = vb_le16_to_cpu(g.id);
		INFL_BARRIER();
		fh = d[fh].next;
		ip->free_head = fh;
		if (++slot == r->num)
			slot = 0;
	}
	INFL_BARRIER();
	ip->old_free_head = fh;
	r->id_entry[c->head] = head;	/* c->head < the queue size: the core checked it */
}

/* Before the used descriptor of buffer id is written: its entries back on the free list and
 * the used position moved past its slots ("When supplying used buffers to the driver"). */
static void infp_pre_push(struct vu_ring *r, struct vb_vq *vq, uint16_t id)
{
	struct vb_vu_inflight_packed *ip = r->infp;
	struct vb_vu_inflight_desc_packed *d;
	uint16_t e, last, n, used;
	bool wrap;

	vb_vq_get_pos(vq, &r->log_pos);
	if (!ip || r->infp_bad || id >= r->num)
		return;
	d = infp_desc(ip);
	e = r->id_entry[id];
	if (!infp_ok(r, e))
		return;
	last = d[e].last;
	n = d[e].num;
	if (!infp_ok(r, last) || n == 0 || n > r->num) {
		infp_give_up(r);
		return;
	}
	d[last].next = ip->free_head;
	INFL_BARRIER();
	ip->free_head = e;
	used = (uint16_t)(r->log_pos.used_idx + n);
	wrap = r->log_pos.used_wrap;
	if (used >= r->num) {
		used = (uint16_t)(used - r->num);
		wrap = !wrap;
	}
	/* The wrap counter before the index: infp_recover() tells a push in progress by the
	 * index (or, for a chain of a whole lap, the counter alone). */
	ip->used_wrap_counter = wrap;
	INFL_BARRIER();
	ip->used_idx = used;
	INFL_BARRIER();
}

/* The used descriptor of buffer id is published: the chain is no longer inflight and the
 * update is committed. */
static void infp_post_push(struct vu_ring *r, uint16_t id)
{
	struct vb_vu_inflight_packed *ip = r->infp;
	uint16_t e;

	if (!ip || r->infp_bad || id >= r->num)
		return;
	e = r->id_entry[id];
	if (!infp_ok(r, e))
		return;
	INFL_BARRIER();
	infp_desc(ip)[e].inflight = 0;
	INFL_BARRIER();
	ip->old_free_head = ip->free_head;
	ip->old_used_wrap_counter = ip->used_wrap_counter;
	INFL_BARRIER();
	ip->old_used_idx = ip->used_idx;
}

static const struct vb_vring_packed_desc *infl_resubmit_packed(void *ctx, struct vb_vq *vq,
								unsigned int *n)
{
	struct vu_ring *r = vq_ring(ctx, vq);
	uint16_t i = r->next_resubmit;

	if (i < r->n_resubmit) {
		r->next_resubmit++;
		*n = (unsigned int)(r->rs_chain[i + 1] - r->rs_chain[i]);
		return &r->rs_desc[r->rs_chain[i]];
	}
	if (r->rs_desc)
		resubmit_free(r);
	return NULL;
}

struct infp_head {
	uint64_t counter;
	uint16_t e;
};

static int infp_cmp(const void *a, const void *b)
{
	const struct infp_head *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/*
 * Rebuild packed ring q after a restart, as vhost-user.rst "When reconnecting" says: settle
 * the update in progress (committed if the used descriptor at old_used_idx was written, else
 * rolled back), clear the entries on the free list, and serve the chains still inflight again
 * in pop-counter order from their descriptor copies. The ring position comes from the record
 * (QEMU cannot give it after a crash: it has no used index of a packed ring to read): used
 * where the record says, next available past every slot the inflight chains hold.
 * Returns 0, -EPROTO (the record is not consistent: the ring is not tracked) or -ENOMEM.
 * @satisfy{VB-REQ-VU-306}
 */
static int infp_recover(struct vb_vu_server *s, uint16_t q, struct vb_vq_pos *pos)
{
	struct vu_ring *r = &s->rings[q];
	struct vb_vu_inflight_packed *ip = r->infp;
	struct vb_vu_inflight_desc_packed *d = infp_desc(ip);
	const uint16_t nent = r->infl_num;
	uint16_t fh = ip->free_head, ofh = ip->old_free_head;
	uint16_t used = ip->used_idx, oused = ip->old_used_idx;
	bool wrap = ip->used_wrap_counter != 0, owrap = ip->old_used_wrap_counter != 0;
	struct infp_head *heads = NULL;
	uint8_t *on_free = NULL;
	uint16_t nh = 0, total = 0, avail;
	bool avail_wrap;
	int ret = 0;

	if (used >= r->num || oused >= r->num || fh > nent || ofh > nent)
		return -EPROTO;
	if (used != oused || wrap != owrap) {
		bool commit;

		if (wrap == owrap && used < oused) {
			/* The commit stored old_used_wrap_counter and died before old_used_idx:
			 * only a push that crossed the ring's end looks like this. */
			commit = true;
		} else {
			void *p;
			uint16_t fl;

			if (vb_mem_map_ring(&s->mem.mem, r->addr.desc_user_addr + 16u * (uint64_t)oused,
					    16, &p) < 0 || ((uintptr_t)p & 1u))
				return -EPROTO;
			fl = vb_le16_to_cpu((vb_le16){ __atomic_load_n(
				&((struct vb_vring_packed_desc *)p)->flags.raw, __ATOMIC_ACQUIRE) });
			/* A used descriptor has AVAIL and USED equal to the wrap counter of its
			 * lap (virtio 1.2, 2.8.1 "Driver and Device Ring Wrap Counters"). */
			commit = (fl & (PD_AVAIL | PD_USED)) == (owrap ? (PD_AVAIL | PD_USED) : 0);
		}
		if (commit) {
			ofh = fh;
			oused = used;
			owrap = wrap;
		}
	}
	ip->free_head = ip->old_free_head = ofh;
	ip->used_idx = ip->old_used_idx = oused;
	ip->used_wrap_counter = ip->old_used_wrap_counter = owrap;

	on_free = calloc(nent, 1);
	heads = malloc(nent * sizeof(*heads));
	if (!on_free || !heads) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint16_t e = ofh, steps = 0; e < nent && steps < nent && !on_free[e]; steps++) {
		on_free[e] = 1;
		d[e].inflight = 0;
		e = d[e].next;
	}
	for (uint16_t e = 0; e < nent; e++) {
		if (!on_free[e] && d[e].inflight) {
			heads[nh].counter = d[e].counter;
			heads[nh++].e = e;
		}
	}
	qsort(heads, nh, sizeof(*heads), infp_cmp);
	r->rs_desc = malloc(r->num * sizeof(*r->rs_desc));
	r->rs_chain = malloc(((size_t)nh + 1u) * sizeof(*r->rs_chain));
	if (!r->rs_desc || !r->rs_chain) {
		ret = -ENOMEM;
		goto out;
	}
	r->counter = 0;
	r->n_resubmit = 0;
	for (uint16_t i = 0; i < nh; i++) {
		const uint16_t e = heads[i].e;
		const uint16_t k = d[e].num;
		uint16_t j = e, id = 0;
		bool ok = k != 0 && k <= r->num - total;

		for (uint16_t t = 0; ok && t < k; t++) {
			struct vb_vring_packed_desc *c = &r->rs_desc[total + t];

			ok = j < nent;
			if (!ok)
				break;
			/* Front-end memory: each field read once, the copy is what is served. */
			id = d[j].id;
			c->addr = vb_cpu_to_le64(d[j].addr);
			c->len = vb_cpu_to_le32(d[j].len);
			c->id = vb_cpu_to_le16(id);
			c->flags = vb_cpu_to_le16(d[j].flags);
			j = d[j].next;
		}
		if (!ok || id >= r->num) {
			ret = -EPROTO;
			goto out;
		}
		r->rs_chain[r->n_resubmit++] = total;
		total = (uint16_t)(total + k);
		r->id_entry[id] = e;
		if (heads[i].counter >= r->counter)
			r->counter = heads[i].counter + 1;
	}
	r->rs_chain[r->n_resubmit] = total;
	r->next_resubmit = 0;
	avail = (uint16_t)(oused + total);
	avail_wrap = owrap;
	if (avail >= r->num) {
		avail = (uint16_t)(avail - r->num);
		avail_wrap = !avail_wrap;
	}
	pos->used_idx = oused;
	pos->used_wrap = owrap;
	pos->avail_idx = avail;
	pos->avail_wrap = avail_wrap;
	if (nh)
		vu_log(s, VB_LOG_INFO, "vhost-user: ring %u: %u inflight request%s to serve again "
		       "(packed, used slot %u wrap %u)", q, nh, nh == 1 ? "" : "s", oused, owrap);
out:
	if (ret < 0)
		resubmit_free(r);
	free(on_free);
	free(heads);
	return ret;
}

/* First start on fresh memory: every entry free, the position as the front-end set it. */
static void infp_init(struct vu_ring *r, uint16_t qsz, const struct vb_vq_pos *pos)
{
	struct vb_vu_inflight_packed *ip = r->infp;
	struct vb_vu_inflight_desc_packed *d = infp_desc(ip);

	for (uint16_t e = 0; e < qsz; e++) {
		memset(&d[e], 0, sizeof(d[e]));
		d[e].next = (uint16_t)(e + 1u);
	}
	ip->features = 0;
	ip->desc_num = qsz;
	ip->free_head = ip->old_free_head = 0;
	ip->used_idx = ip->old_used_idx = pos->used_idx;
	ip->used_wrap_counter = ip->old_used_wrap_counter = pos->used_wrap;
	INFL_BARRIER();
	ip->version = 1;
	r->counter = 0;
}

/* Dirty logging is on: LOG_ALL negotiated and a log mapped (vhost-user.rst "Migration"). */
static bool log_on(const struct vb_vu_server *s)
{
	return (s->features & VB_BIT(VB_VU_F_LOG_ALL)) && s->log.bits;
}

/*
 * Packed rings: the device wrote the used descriptor over the descriptor ring's slot where
 * the push began (its id, len and flags). vhost-user.rst "Migration": every write to the
 * memory of the ring's "descriptor" address is marked, VHOST_VRING_F_LOG or not (that flag
 * is about the split used ring at log_guest_addr); the slot is translated back through the
 * memory table, as the ring address is a front-end address.
 */
static void log_packed_used(struct vb_vu_server *s, const struct vu_ring *r)
{
	void *desc;

	if (r->num == 0 || r->log_pos.used_idx >= r->num)
		return;
	if (vb_mem_map_ring(&s->mem.mem, r->addr.desc_user_addr +
			    16u * (uint64_t)r->log_pos.used_idx, 16, &desc) == 0)
		vbi_vu_log_host(&s->log, &s->mem, desc, 16);
}

/*
 * After a push: mark the guest pages the device wrote, i.e. the written bytes of the chain's
 * writable buffers and, with VHOST_VRING_F_LOG, the used element and the used index at
 * log_guest_addr (the used ring's guest physical address).
 * @satisfy{VB-REQ-VU-402} @satisfy{VB-REQ-VU-403}
 */
static void log_push(void *ctx, struct vb_vq *vq, const struct vb_chain *c, uint32_t written)
{
	struct vb_vu_server *s = ctx;
	struct vu_ring *r = vq_ring(s, vq);
	struct vb_vq_pos pos;
	uint32_t left = written;

	if (!log_on(s))
		return;
	for (uint16_t i = 0; i < c->n_write && left; i++) {
		size_t n = c->write[i].len < left ? c->write[i].len : left;

		vbi_vu_log_host(&s->log, &s->mem, c->write[i].base, n);
		left -= (uint32_t)n;
	}
	if (ring_is_packed(s)) {
		log_packed_used(s, r);
		return;
	}
	if (!(r->addr.flags & VB_VU_VRING_F_LOG) || r->num == 0)
		return;
	vb_vq_get_pos(vq, &pos);
	/* virtio 1.2, 2.7.8 "The Virtqueue Used Ring": flags, idx, then 8-byte elements. */
	vbi_vu_log_gpa(&s->log, r->addr.log_guest_addr + 4u +
		       8u * (uint64_t)((uint16_t)(pos.used_idx - 1u) % r->num), 8);
	vbi_vu_log_gpa(&s->log, r->addr.log_guest_addr + 2u, 2);
}

/* @satisfy{VB-REQ-VU-301} */
static const struct vb_vq_inflight_ops vu_inflight_ops = {
	.popped = infl_popped,
	.pre_push = infl_pre_push,
	.post_push = infl_post_push,
	.resubmit = infl_resubmit,
	.log_push = log_push,
	.popped_packed = infl_popped_packed,
	.resubmit_packed = infl_resubmit_packed,
};

/* A split ring without an inflight record gets the hooks while logging is on: the queue
 * takes the tracked path only then, the plain path stays as it is otherwise. */
static void log_attach(struct vb_vu_server *s, uint16_t q)
{
	if (s->rings[q].infl || s->rings[q].infp)
		return;	/* hooks already set; log_push checks log_on() */
	vb_vq_set_inflight_ops(vb_dev_queue(s->dev, q), log_on(s) ? &vu_inflight_ops : NULL, s);
}

static void log_attach_all(struct vb_vu_server *s)
{
	for (uint16_t q = 0; q < s->num_queues; q++)
		log_attach(s, q);
}

/* Stop tracking ring q (its record stays as it is in the shared memory). */
static void infl_detach(struct vb_vu_server *s, uint16_t q)
{
	struct vu_ring *r = &s->rings[q];

	vb_vq_set_inflight_ops(vb_dev_queue(s->dev, q), NULL, NULL);
	r->infl = NULL;
	r->infp = NULL;
	r->infp_bad = false;
	r->infl_num = 0;
	free(r->id_entry);
	r->id_entry = NULL;
	resubmit_free(r);
}

static void infl_unmap(struct vb_vu_server *s)
{
	for (uint16_t q = 0; q < s->num_queues; q++)
		infl_detach(s, q);
	if (s->infl_base)
		munmap(s->infl_base, s->infl_len);
	s->infl_base = NULL;
	s->infl_len = 0;
	s->infl_nq = s->infl_qsz = 0;
}

struct infl_entry {
	uint64_t counter;
	uint16_t head;
};

/* Inflight memory and features change only while every ring is stopped. */
static bool any_started(const struct vb_vu_server *s)
{
	for (uint16_t q = 0; q < s->num_queues; q++)
		if (s->rings[q].started)
			return true;
	return false;
}

static int infl_cmp(const void *a, const void *b)
{
	const struct infl_entry *x = a, *y = b;

	return x->counter < y->counter ? -1 : x->counter > y->counter;
}

/*
 * Rebuild ring q's position from its record after a restart: the used index is the ring's,
 * the element being written when the old back-end died is settled by comparing the record's
 * used index with it, and every head still inflight was popped and not used, so the next
 * available entry is used_idx + their number. Those heads are served again, oldest first.
 * Returns 0 or -ENOMEM.
 */
static int infl_recover(struct vb_vu_server *s, uint16_t q, uint16_t used, struct vb_vq_pos *pos)
{
	struct vu_ring *r = &s->rings[q];
	struct vb_vu_inflight_split *iq = r->infl;
	struct vb_vu_inflight_desc *d = infl_desc(iq);
	struct infl_entry *list;
	uint16_t n = 0, max;

	/* The record is the front-end's memory, writable by it at any time: each field is
	 * read once into a local, which alone is checked and used. */
	if (iq->used_idx != used) {
		/* The old back-end published last_batch_head's element and died before it
		 * cleared the entry. */
		uint16_t last = iq->last_batch_head;

		if (last < r->infl_num)
			d[last].inflight = 0;
		iq->used_idx = used;
	}
	for (uint16_t i = 0; i < r->infl_num; i++) {
		if (!d[i].inflight)
			continue;
		if (i >= r->num)
			d[i].inflight = 0;	/* not a head of this ring: nothing to serve */
		else
			n++;
	}
	r->counter = 0;
	pos->used_idx = used;
	pos->avail_idx = used;
	if (n == 0)
		return 0;
	list = malloc(n * sizeof(*list));
	r->resubmit = malloc(n * sizeof(*r->resubmit));
	if (!list || !r->resubmit) {
		free(list);
		resubmit_free(r);
		return -ENOMEM;
	}
	/* The second pass may see other flags than the first: it fills at most what was
	 * allocated, and what it found is what is served. */
	max = n;
	n = 0;
	for (uint16_t i = 0; i < r->num && i < r->infl_num && n < max; i++) {
		if (d[i].inflight) {
			list[n].counter = d[i].counter;
			list[n++].head = i;
		}
	}
	pos->avail_idx = (uint16_t)(used + n);
	if (n == 0) {
		free(list);
		resubmit_free(r);
		return 0;
	}
	qsort(list, n, sizeof(*list), infl_cmp);
	for (uint16_t i = 0; i < n; i++)
		r->resubmit[i] = list[i].head;
	r->counter = list[n - 1].counter + 1;
	r->n_resubmit = n;
	r->next_resubmit = 0;
	free(list);
	vu_log(s, VB_LOG_INFO, "vhost-user: ring %u: %u inflight request%s to serve again "
	       "(used index %u)", q, n, n == 1 ? "" : "s", used);
	return 0;
}

/* A ring restarted without a reset: the device still holds the chains the record marks, so
 * only the private map from buffer id to head entry is rebuilt. */
static void infp_map_ids(struct vu_ring *r)
{
	struct vb_vu_inflight_desc_packed *d = infp_desc(r->infp);

	for (uint16_t e = 0; e < r->infl_num; e++) {
		uint16_t last, id;

		if (!d[e].inflight)
			continue;
		last = d[e].last;
		id = last < r->infl_num ? d[last].id : UINT16_MAX;
		if (id < r->num)
			r->id_entry[id] = e;
	}
}

/* infl_start() for a packed ring. @satisfy{VB-REQ-VU-305} @satisfy{VB-REQ-VU-306} */
static int infp_start(struct vb_vu_server *s, uint16_t q, struct vb_vq_pos *pos)
{
	struct vu_ring *r = &s->rings[q];
	struct vb_vu_inflight_packed *ip;
	uint16_t version, desc_num;
	int ret = 0;

	ip = (struct vb_vu_inflight_packed *)((uint8_t *)s->infl_base +
					      q * VB_VU_INFLIGHT_QUEUE_SIZE(s->infl_qsz));
	r->id_entry = calloc(r->num, sizeof(*r->id_entry));
	if (!r->id_entry)
		return -ENOMEM;
	r->infp = ip;
	r->infl_num = s->infl_qsz;
	version = __atomic_load_n(&ip->version, __ATOMIC_RELAXED);
	desc_num = __atomic_load_n(&ip->desc_num, __ATOMIC_RELAXED);
	if (version == 0) {
		infp_init(r, s->infl_qsz, pos);
	} else if (version != 1 || desc_num != s->infl_qsz) {
		vu_log(s, VB_LOG_WARN, "vhost-user: ring %u: packed inflight record of version %u "
		       "for %u entries not understood: not tracked", q, version, desc_num);
		infl_detach(s, q);
		return 0;
	} else if (r->infl_recover) {
		ret = infp_recover(s, q, pos);
		if (ret == -EPROTO) {
			vu_log(s, VB_LOG_WARN, "vhost-user: ring %u: packed inflight record "
			       "inconsistent: not tracked", q);
			infl_detach(s, q);
			return 0;
		}
	} else {
		infp_map_ids(r);
	}
	if (ret < 0) {
		infl_detach(s, q);
		return ret;
	}
	vb_vq_set_inflight_ops(vb_dev_queue(s->dev, q), &vu_inflight_ops, s);
	return 0;
}

/*
 * At ring start: attach ring q to its record if there is one, recovering the position and the
 * heads to serve again when the device holds none of the ring's chains (first start after a
 * (re)connection or a reset). used is the ring's used index (split; a packed ring's record
 * has its own, infp_start()). 0 or a negative errno.
 * @satisfy{VB-REQ-VU-302} @satisfy{VB-REQ-VU-303}
 */
static int infl_start(struct vb_vu_server *s, uint16_t q, uint16_t used, struct vb_vq_pos *pos)
{
	struct vu_ring *r = &s->rings[q];
	struct vb_vu_inflight_split *iq;
	uint16_t version, desc_num;
	int ret = 0;

	infl_detach(s, q);
	if (!s->infl_base || q >= s->infl_nq)
		return 0;
	if (r->num > s->infl_qsz) {
		vu_log(s, VB_LOG_WARN, "vhost-user: ring %u: %u entries, inflight memory for %u: "
		       "not tracked", q, r->num, s->infl_qsz);
		return 0;
	}
	if (ring_is_packed(s))
		return infp_start(s, q, pos);
	iq = (struct vb_vu_inflight_split *)((uint8_t *)s->infl_base +
					     q * VB_VU_INFLIGHT_QUEUE_SIZE(s->infl_qsz));
	r->infl = iq;
	r->infl_num = s->infl_qsz;
	/* Front-end memory: read once (infl_recover() says why). */
	version = __atomic_load_n(&iq->version, __ATOMIC_RELAXED);
	desc_num = __atomic_load_n(&iq->desc_num, __ATOMIC_RELAXED);
	if (version == 0) {
		/* Fresh memory (GET_INFLIGHT_FD): nothing to recover. */
		iq->desc_num = s->infl_qsz;
		iq->last_batch_head = 0;
		iq->used_idx = used;
		INFL_BARRIER();
		iq->version = 1;
		r->counter = 0;
	} else if (version != 1 || desc_num != s->infl_qsz) {
		vu_log(s, VB_LOG_WARN, "vhost-user: ring %u: inflight record of version %u for %u "
		       "entries not understood: not tracked", q, version, desc_num);
		r->infl = NULL;
		r->infl_num = 0;
		return 0;
	} else if (r->infl_recover) {
		ret = infl_recover(s, q, used, pos);
	}
	if (ret < 0) {
		infl_detach(s, q);
		return ret;
	}
	vb_vq_set_inflight_ops(vb_dev_queue(s->dev, q), &vu_inflight_ops, s);
	return 0;
}

/* GET_INFLIGHT_FD: new zeroed shared memory for num_queues rings of queue_size entries.
 * @satisfy{VB-REQ-VU-300} */
static int get_inflight(struct vb_vu_server *s, const struct vb_vu_inflight *in,
			struct vb_vu_inflight *out, int *fd_out)
{
	uint64_t len;
	void *p;
	int fd, ret;

	if (!has_protocol(s, VB_VU_PROTOCOL_F_INFLIGHT_SHMFD))
		return -EPROTO;
	if (in->num_queues == 0 || in->num_queues > s->num_queues || in->queue_size == 0 ||
	    in->queue_size > vb_dev_ops(s->dev)->queue_num_max)
		return -EINVAL;
	/* QEMU asks before it sets features, so the layout (split or packed) is not known yet:
	 * each queue region has room for either (VB_VU_INFLIGHT_QUEUE_SIZE). */
	if (any_started(s))
		return -EBUSY;
	len = in->num_queues * VB_VU_INFLIGHT_QUEUE_SIZE(in->queue_size);
	fd = memfd_create("vb-vu-inflight", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	p = mmap(NULL, (size_t)len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		close(fd);
		return ret;
	}
	infl_unmap(s);
	s->infl_base = p;
	s->infl_len = (size_t)len;
	s->infl_nq = in->num_queues;
	s->infl_qsz = in->queue_size;
	memset(out, 0, sizeof(*out));
	out->mmap_size = len;
	out->mmap_offset = 0;
	out->num_queues = in->num_queues;
	out->queue_size = in->queue_size;
	*fd_out = fd;
	vu_log(s, VB_LOG_INFO, "vhost-user: inflight memory: new, %u queue%s of %u",
	       in->num_queues, in->num_queues == 1 ? "" : "s", in->queue_size);
	return 0;
}

/* SET_INFLIGHT_FD: the memory a GET_INFLIGHT_FD made, given back (after a reconnection).
 * @satisfy{VB-REQ-VU-300} */
static int set_inflight(struct vb_vu_server *s, const struct vb_vu_inflight *in, int fd)
{
	uint64_t need;
	size_t len, lead;
	void *p;
	int ret;

	if (!has_protocol(s, VB_VU_PROTOCOL_F_INFLIGHT_SHMFD))
		return -EPROTO;
	if (in->num_queues == 0 || in->num_queues > s->num_queues || in->queue_size == 0 ||
	    in->queue_size > vb_dev_ops(s->dev)->queue_num_max)
		return -EINVAL;
	need = in->num_queues * VB_VU_INFLIGHT_QUEUE_SIZE(in->queue_size);
	if (in->mmap_size < need || in->mmap_size > SIZE_MAX ||
	    (in->mmap_offset & (uint64_t)(sysconf(_SC_PAGESIZE) - 1)) ||
	    in->mmap_offset > UINT64_MAX - in->mmap_size || in->mmap_offset > INT64_MAX)
		return -EINVAL;
	if (any_started(s))
		return -EBUSY;
	/* mmap_offset is page-aligned (checked above): the mapping has no lead. */
	ret = vbi_vu_map_fd(fd, in->mmap_offset, in->mmap_size, 0, &p, &len, &lead);
	if (ret < 0)
		return ret;
	infl_unmap(s);
	s->infl_base = p;
	s->infl_len = len;
	s->infl_nq = in->num_queues;
	s->infl_qsz = in->queue_size;
	vu_log(s, VB_LOG_INFO, "vhost-user: inflight memory: given back, %u queue%s of %u",
	       in->num_queues, in->num_queues == 1 ? "" : "s", in->queue_size);
	return 0;
}

/* ---- Rings ---- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void kick_unwatch(struct vb_vu_server *s, struct vu_ring *r)
{
	/* Explicitly: the front-end holds the same open file description, so close() alone
	 * would leave it in the epoll set. */
	if (r->kick_fd >= 0)
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, r->kick_fd, NULL);
	close_fd(&r->kick_fd);
}

static bool ring_is_packed(const struct vb_vu_server *s)
{
	return (s->features & VB_BIT(VB_VIRTIO_F_RING_PACKED)) != 0;
}

/* vhost-user.rst "Ring states": without VHOST_USER_F_PROTOCOL_FEATURES a ring is enabled
 * as soon as it starts; with it, SET_VRING_ENABLE decides. */
static bool ring_enabled(const struct vb_vu_server *s, const struct vu_ring *r)
{
	if (!(s->features & VB_BIT(VB_VU_F_PROTOCOL_FEATURES)))
		return true;
	return r->enabled;
}

/* Take a live ring out of the core, keeping its position for GET_VRING_BASE. */
static void ring_park(struct vb_vu_server *s, uint16_t q)
{
	struct vu_ring *r = &s->rings[q];

	if (!r->live)
		return;
	(void)vb_dev_queue_enable(s->dev, q, false);
	vb_vq_get_pos(vb_dev_queue(s->dev, q), &r->base);
	r->used_from_ring = false;
	r->live = false;
}

/*
 * Make a ring live in the core once it is started and enabled and the device has features:
 * size and ring addresses (front-end user addresses: ring address space), position, enable.
 * @satisfy{VB-REQ-VU-006}
 */
static int ring_try_live(struct vb_vu_server *s, uint16_t q)
{
	struct vu_ring *r = &s->rings[q];
	struct vb_vq *vq = vb_dev_queue(s->dev, q);
	struct vb_queue_config cfg;
	struct vb_vq_pos pos;
	uint16_t used_idx = 0;
	int ret;

	if (r->live || !r->started || !ring_enabled(s, r))
		return 0;
	if (!s->features_set || !r->addr_set || r->num == 0)
		return -EPROTO;
	memset(&cfg, 0, sizeof(cfg));
	cfg.num = r->num;
	cfg.desc = r->addr.desc_user_addr;
	cfg.driver = r->addr.avail_user_addr;
	cfg.device = r->addr.used_user_addr;
	ret = vb_dev_queue_set_config(s->dev, q, &cfg);
	if (ret < 0)
		return ret;
	pos = r->base;
	if (!ring_is_packed(s) && (r->used_from_ring || (s->infl_base && q < s->infl_nq))) {
		void *used;

		/* SET_VRING_BASE gives the next avail index only; the used index is the one
		 * the ring already shows (virtio 1.2, 2.7.8 "The Virtqueue Used Ring"). The
		 * device area is 4-aligned (2.7 "Virtqueue Part Alignment"); checked here
		 * before the read, as vb_dev_queue_enable() would only check it after. */
		if (r->addr.used_user_addr & 3u)
			return -EPROTO;
		ret = vb_mem_map_ring(&s->mem.mem, r->addr.used_user_addr, 4, &used);
		if (ret == 0 && ((uintptr_t)used & 3u))
			ret = -EFAULT;
		if (ret < 0)
			return ret;
		used_idx = __atomic_load_n((const uint16_t *)used + 1, __ATOMIC_ACQUIRE);
		if (r->used_from_ring)
			pos.used_idx = used_idx;
	}
	ret = infl_start(s, q, used_idx, &pos);
	if (ret < 0)
		return ret;
	log_attach(s, q);
	ret = vb_vq_set_pos(vq, &pos);
	if (ret < 0)
		return ret;
	ret = vb_dev_queue_enable(s->dev, q, true);
	if (ret < 0)
		return ret;
	r->live = true;
	r->used_from_ring = false;
	r->infl_recover = false;	/* from now on the device holds the ring's chains */
	/* Buffers made available before the ring started are served without a kick. */
	(void)vb_dev_kick(s->dev, q);
	return 0;
}

static void ring_reset(struct vb_vu_server *s, uint16_t q)
{
	struct vu_ring *r = &s->rings[q];

	ring_park(s, q);
	infl_detach(s, q);
	kick_unwatch(s, r);
	close_fd(&r->call_fd);
	close_fd(&r->err_fd);
	memset(r, 0, sizeof(*r));
	r->kick_fd = r->call_fd = r->err_fd = -1;
	r->infl_recover = true;	/* the device was reset: it holds no chain */
	r->base.avail_wrap = r->base.used_wrap = true;	/* virtio 1.2, 2.8.1: start at 1 */
}

/* Device reset: every ring back to stopped and disabled, the core reset, features gone. */
static void device_reset(struct vb_vu_server *s)
{
	for (uint16_t q = 0; q < s->num_queues; q++)
		ring_reset(s, q);
	vb_dev_reset(s->dev);
	s->features_set = false;
	s->features = 0;
	s->status = 0;
}

/* ---- Connection ---- */

static int watch(struct vb_vu_server *s, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* Client mode: connect again after retry_ms. */
static int reconnect_arm(struct vb_vu_server *s)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = s->retry_ms / 1000u;
	its.it_value.tv_nsec = (long)(s->retry_ms % 1000u) * 1000000L;
	return timerfd_settime(s->timer_fd, 0, &its, NULL) < 0 ? -errno : 0;
}

/* @satisfy{VB-REQ-VU-003} a disconnect releases everything and serves the next frontend */
static void conn_close(struct vb_vu_server *s, const char *why)
{
	if (s->conn_fd < 0)
		return;
	vu_log(s, VB_LOG_INFO, "vhost-user: connection closed: %s", why);
	/* The device stops touching guest memory before the memory goes away. */
	device_reset(s);
	infl_unmap(s);
	vbi_vu_log_clear(&s->log);
	vbi_vu_mem_clear(&s->mem);
	s->stats.mapped_regions = 0;
	vbi_vu_msg_close_fds(&s->rx.msg);
	vbi_vu_rx_reset(&s->rx);
	/* @satisfy{VB-REQ-VU-500} the back-end channel ends with its connection (closing
	 * the fd also takes it out of the epoll set). */
	vbi_vu_backend_close(&s->backend);
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->conn_fd, NULL);
	close_fd(&s->conn_fd);
	s->owner = false;
	s->protocol = 0;
	if (s->attached && s->listen_fd < 0)
		s->ended = true;
	s->attached = false;
	if (s->listen_fd >= 0)
		(void)watch(s, s->listen_fd, TAG(TAG_LISTEN, 0));
	if (s->connect_path) {
		/* @satisfy{VB-REQ-VU-510} client mode: dial the front-end again. */
		s->retry_ms = RECONNECT_FIRST_MS;
		(void)reconnect_arm(s);
	}
}

static int conn_open(struct vb_vu_server *s, int fd, bool attached)
{
	int ret;

	ret = watch(s, fd, TAG(TAG_CONN, 0));
	if (ret < 0)
		return ret;
	s->conn_fd = fd;
	s->attached = attached;
	s->ended = false;
	vbi_vu_rx_reset(&s->rx);
	s->stats.connections++;
	/* One front-end at a time: further connections wait in the backlog. */
	if (s->listen_fd >= 0)
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->listen_fd, NULL);
	vu_log(s, VB_LOG_INFO, "vhost-user: front-end connected");
	return 0;
}

/* ---- Client mode (vb_vu_connect()) ---- */

/* One attempt to reach the front-end's listening socket: 0 (connected) or a negative errno. */
static int connect_once(struct vb_vu_server *s)
{
	struct sockaddr_un sa;
	int fd, ret;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, s->connect_path, strlen(s->connect_path));
	/* Non-blocking: a full backlog fails with EAGAIN (then retried) instead of hanging. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = conn_open(s, fd, false);
	if (ret < 0)
		close(fd);
	return ret;
}

/* The retry timer fired: try once, or wait twice as long (bounded) for the next try. */
static void reconnect_due(struct vb_vu_server *s)
{
	uint64_t expirations;
	uint32_t next;
	int ret;

	if (read(s->timer_fd, &expirations, sizeof(expirations)) < 0 && errno == EAGAIN)
		return;
	if (s->conn_fd >= 0 || !s->connect_path)
		return;
	ret = connect_once(s);
	if (ret == 0) {
		s->retry_ms = RECONNECT_FIRST_MS;
		return;
	}
	next = s->retry_ms * 2u > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : s->retry_ms * 2u;
	vu_log(s, s->retry_ms == RECONNECT_FIRST_MS ? VB_LOG_INFO : VB_LOG_DEBUG,
	       "vhost-user: connect to %s: %s (retrying in %u ms)", s->connect_path,
	       strerror(-ret), next);
	s->retry_ms = next;
	(void)reconnect_arm(s);
}

/* ---- The back-end request channel (BACKEND_REQ) ---- */

static void backend_close(struct vb_vu_server *s)
{
	if (s->backend.fd >= 0)
		(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->backend.fd, NULL);
	vbi_vu_backend_close(&s->backend);
}

/* SET_BACKEND_REQ_FD: a new channel replaces the old one. @satisfy{VB-REQ-VU-500} */
static int backend_set(struct vb_vu_server *s, struct vbi_vu_msg *m)
{
	int ret;

	if (!has_protocol(s, VB_VU_PROTOCOL_F_BACKEND_REQ))
		return -EPROTO;
	/* Checked before the old channel goes (a refusal changes nothing); closing the old fd
	 * also takes it out of the epoll set. */
	ret = vbi_vu_backend_set(&s->backend, m->fds[0]);
	if (ret < 0)
		return ret;
	m->n_fds = 0;	/* consumed */
	ret = watch(s, s->backend.fd, TAG(TAG_BACKEND, 0));
	if (ret < 0)
		backend_close(s);
	return ret;
}

static void backend_readable(struct vb_vu_server *s)
{
	uint64_t nack;
	int ret;

	if (s->backend.fd < 0)
		return;
	ret = vbi_vu_backend_readable(&s->backend, &nack);
	if (nack)
		vu_log(s, VB_LOG_WARN, "vhost-user: front-end failed %llu back-end request(s)",
		       (unsigned long long)nack);
	if (ret < 0) {
		/* The main connection lives on; config changes are then only polled. */
		vu_log(s, VB_LOG_WARN, "vhost-user: back-end channel closed: %s",
		       ret == -ECONNRESET ? "front-end hung up" : strerror(-ret));
		backend_close(s);
	}
}

/*
 * vhost-user.rst BACKEND_VRING_HOST_NOTIFIER_MSG: the ring's notify area, an fd the front-end
 * maps (BACKEND_SEND_FD passes it), or NOFD to withdraw it. @satisfy{VB-REQ-VU-530}
 */
VB_EXPORT int vb_vu_set_host_notifier(struct vb_vu_server *s, uint16_t q, int fd,
				      uint64_t offset, uint64_t size)
{
	struct vb_vu_vring_area a;
	int ret;

	if (!s || q >= s->num_queues)
		return -EINVAL;
	if (fd >= 0 && (size == 0 || offset > UINT64_MAX - size))
		return -EINVAL;
	if (s->conn_fd < 0 || s->backend.fd < 0)
		return -ENOTCONN;
	if (!has_protocol(s, VB_VU_PROTOCOL_F_HOST_NOTIFIER) ||
	    (fd >= 0 && !has_protocol(s, VB_VU_PROTOCOL_F_BACKEND_SEND_FD)))
		return -ENOTSUP;
	memset(&a, 0, sizeof(a));
	a.u64 = q;
	if (fd >= 0) {
		a.size = size;
		a.offset = offset;
	} else {
		a.u64 |= VB_VU_VRING_NOFD;
	}
	ret = vbi_vu_backend_send_msg(&s->backend, VB_VU_BACKEND_VRING_HOST_NOTIFIER_MSG,
				      has_protocol(s, VB_VU_PROTOCOL_F_REPLY_ACK), &a, sizeof(a),
				      fd);
	if (ret < 0)
		vu_log(s, VB_LOG_WARN, "vhost-user: ring %u: host notifier not sent: %s", q,
		       strerror(-ret));
	else
		vu_log(s, VB_LOG_INFO, "vhost-user: ring %u: host notifier %s", q,
		       fd >= 0 ? "sent" : "withdrawn");
	return ret;
}

/* ---- Messages ---- */

/* Result of a handler: an errno for the front-end, plus an optional reply payload. */
struct vu_reply {
	bool		has;
	uint32_t	size;
	int		fd;		/* passed with the reply (then closed), or -1 */
	union {
		uint64_t			u64;
		struct vb_vu_vring_state	state;
		struct vb_vu_config_space	config;
		struct vb_vu_inflight		inflight;
	} p;
};

static void reply_u64(struct vu_reply *rep, uint64_t v)
{
	rep->has = true;
	rep->size = 8;
	rep->p.u64 = v;
}

static int set_features(struct vb_vu_server *s, uint64_t f)
{
	uint64_t vf = f & ~(VB_BIT(VB_VU_F_PROTOCOL_FEATURES) | VB_BIT(VB_VU_F_LOG_ALL));
	uint8_t st = vb_dev_get_status(s->dev);
	int ret;

	/* VHOST_F_LOG_ALL is the transport's (offered with LOG_SHMFD); the core never sees it.
	 * @satisfy{VB-REQ-VU-400} */
	if ((f & VB_BIT(VB_VU_F_LOG_ALL)) &&
	    !(s->cfg.protocol_features & VB_BIT(VB_VU_PROTOCOL_F_LOG_SHMFD)))
		return -ENOTSUP;
	if (st & VB_VIRTIO_S_FEATURES_OK) {
		/* Front-ends resend the same features at every start (and once per queue
		 * pair with MQ): nothing changes then. LOG_ALL comes and goes while the
		 * rings run (migration start and end). */
		if (vf == vb_dev_get_driver_features(s->dev)) {
			s->features = f;
			log_attach_all(s);
			return 0;
		}
		if (any_started(s))
			return -EBUSY;	/* features move only with every ring stopped */
		vb_dev_reset(s->dev);
		s->features_set = false;
		st = 0;
	}
	/* vhost-user has no status handshake of its own (without PROTOCOL_F_STATUS the
	 * front-end owns it): synthesise the virtio 1.2, 3.1.1 sequence, one step per call. */
	if (!(st & VB_VIRTIO_S_DRIVER)) {
		ret = vb_dev_set_status(s->dev, VB_VIRTIO_S_ACKNOWLEDGE);
		if (ret == 0)
			ret = vb_dev_set_status(s->dev, VU_STATUS_INIT);
		if (ret < 0)
			return ret;
	}
	ret = vb_dev_set_driver_features(s->dev, vf);
	if (ret < 0)
		return ret;
	ret = vb_dev_set_status(s->dev, VU_STATUS_INIT | VB_VIRTIO_S_FEATURES_OK);
	if (ret < 0)
		return ret;
	ret = vb_dev_set_status(s->dev, VU_STATUS_INIT | VB_VIRTIO_S_FEATURES_OK |
				VB_VIRTIO_S_DRIVER_OK);
	if (ret < 0) {
		vb_dev_reset(s->dev);	/* the model refused to activate */
		return ret;
	}
	s->features = f;
	s->features_set = true;
	vu_log(s, VB_LOG_INFO, "vhost-user: features 0x%llx set (%s rings)",
	       (unsigned long long)f, ring_is_packed(s) ? "packed" : "split");
	log_attach_all(s);
	for (uint16_t q = 0; q < s->num_queues; q++)
		(void)ring_try_live(s, q);
	return 0;
}

static void try_live_all(struct vb_vu_server *s)
{
	for (uint16_t q = 0; q < s->num_queues; q++)
		(void)ring_try_live(s, q);
}

static void set_ring_fd(struct vbi_vu_msg *m, int *slot)
{
	close_fd(slot);
	if (!(m->payload.u64 & VB_VU_VRING_NOFD)) {
		*slot = m->fds[0];	/* consumed */
		m->n_fds = 0;
	}
}

static uint32_t encode_base(const struct vb_vu_server *s, const struct vb_vq_pos *p)
{
	/* QEMU's encoding for packed rings: avail index | wrap << 15, used likewise in the
	 * upper half; a split ring has the free-running avail index. */
	if (ring_is_packed(s))
		return (uint32_t)(p->avail_idx & 0x7fffu) | (uint32_t)p->avail_wrap << 15 |
		       (uint32_t)(p->used_idx & 0x7fffu) << 16 | (uint32_t)p->used_wrap << 31;
	return p->avail_idx;
}

static int handle_ring(struct vb_vu_server *s, struct vbi_vu_msg *m, struct vu_reply *rep)
{
	uint32_t q = m->request == VB_VU_SET_VRING_ADDR ? m->payload.addr.index :
		     m->payload.state.index;
	struct vu_ring *r;

	if (m->request == VB_VU_SET_VRING_KICK || m->request == VB_VU_SET_VRING_CALL ||
	    m->request == VB_VU_SET_VRING_ERR)
		q = (uint32_t)(m->payload.u64 & VB_VU_VRING_IDX_MASK);
	r = &s->rings[q];	/* vbi_vu_msg_check() bounded q by num_queues */

	switch (m->request) {
	case VB_VU_SET_VRING_NUM: {
		uint32_t num = m->payload.state.num;

		if (r->started)
			return -EBUSY;
		if (num == 0 || num > vb_dev_ops(s->dev)->queue_num_max)
			return -EINVAL;
		r->num = (uint16_t)num;
		return 0;
	}
	case VB_VU_SET_VRING_ADDR: {
		const struct vb_vu_vring_addr *a = &m->payload.addr;

		if ((a->flags & VB_VU_VRING_F_LOG) && !(s->features & VB_BIT(VB_VU_F_LOG_ALL)))
			return -ENOTSUP;
		/* A started ring may only see its flags change (vhost-user.rst: "changing
		 * some configuration aspects on the fly"), never its addresses. */
		if (r->started && (a->desc_user_addr != r->addr.desc_user_addr ||
				   a->used_user_addr != r->addr.used_user_addr ||
				   a->avail_user_addr != r->addr.avail_user_addr))
			return -EBUSY;
		r->addr = *a;
		r->addr_set = true;
		return 0;
	}
	case VB_VU_SET_VRING_BASE: {
		uint32_t v = m->payload.state.num;

		if (r->started)
			return -EBUSY;
		/* A ring the driver broke (sticky error, NEEDS_RESET) is given a fresh start
		 * when the front-end sets it up again: vhost-user has no other per-ring reset. */
		if (vb_vq_error(vb_dev_queue(s->dev, (uint16_t)q)) != 0)
			(void)vb_dev_queue_reset(s->dev, (uint16_t)q);
		memset(&r->base, 0, sizeof(r->base));
		if (ring_is_packed(s)) {
			if (v & 0xffff0000u)
				v &= 0xffffu;	/* QEMU's used half: restart with used = avail */
			r->base.avail_idx = r->base.used_idx = (uint16_t)(v & 0x7fffu);
			r->base.avail_wrap = r->base.used_wrap = (v >> 15) & 1u;
			r->used_from_ring = false;
		} else {
			if (v > 0xffffu)
				return -EINVAL;
			r->base.avail_idx = r->base.used_idx = (uint16_t)v;
			r->used_from_ring = true;
		}
		return 0;
	}
	case VB_VU_GET_VRING_BASE:
		/* vhost-user.rst "Ring states": GET_VRING_BASE stops the ring. */
		ring_park(s, (uint16_t)q);
		kick_unwatch(s, r);
		r->started = false;
		rep->has = true;
		rep->size = sizeof(rep->p.state);
		rep->p.state.index = q;
		rep->p.state.num = encode_base(s, &r->base);
		return 0;
	case VB_VU_SET_VRING_KICK: {
		int ret;

		kick_unwatch(s, r);
		set_ring_fd(m, &r->kick_fd);
		if (r->kick_fd >= 0) {
			/* Front-ends such as QEMU make their eventfds non-blocking: then a kick is
			 * one read(), without the poll() that guards a blocking one. */
			int fl = fcntl(r->kick_fd, F_GETFL);

			r->kick_nb = fl >= 0 && (fl & O_NONBLOCK);
			ret = watch(s, r->kick_fd, TAG(TAG_KICK, q));
			if (ret < 0) {
				close_fd(&r->kick_fd);
				return ret;
			}
		}
		/* The ring is started: libvhost-user and this backend start it on the kick
		 * fd rather than on the first kick, which changes nothing for a front-end. */
		r->started = true;
		return ring_try_live(s, (uint16_t)q);
	}
	case VB_VU_SET_VRING_CALL:
		set_ring_fd(m, &r->call_fd);
		return 0;
	case VB_VU_SET_VRING_ERR:
		set_ring_fd(m, &r->err_fd);
		return 0;
	case VB_VU_SET_VRING_ENABLE:
		/* vhost-user.rst: sent only when VHOST_USER_F_PROTOCOL_FEATURES was
		 * negotiated. QEMU's vhost-user-net enables its rings once protocol features
		 * are agreed (SET_PROTOCOL_FEATURES), before SET_FEATURES acks bit 30: the
		 * state is kept and applies once it does (ring_enabled()). */
		if (!(s->features & VB_BIT(VB_VU_F_PROTOCOL_FEATURES)) && !s->protocol)
			return -EPROTO;
		r->enabled = m->payload.state.num != 0;
		if (!r->enabled) {
			ring_park(s, (uint16_t)q);
			return 0;
		}
		return ring_try_live(s, (uint16_t)q);
	default:
		return -ENOTSUP;
	}
}

static int handle_config(struct vb_vu_server *s, struct vbi_vu_msg *m, struct vu_reply *rep)
{
	const struct vb_vu_config_space *c = &m->payload.config;
	int ret;

	if (!has_protocol(s, VB_VU_PROTOCOL_F_CONFIG))
		return -EPROTO;
	if (m->request == VB_VU_SET_CONFIG) {
		/* flags: 0 = written by the front-end, 1 = during migration. */
		if (c->flags > 1 || c->size == 0)
			return -EINVAL;
		return vb_dev_config_write(s->dev, c->offset, c->data, c->size);
	}
	if (c->size == 0)
		return -EINVAL;
	ret = vb_dev_config_read(s->dev, c->offset, rep->p.config.data, c->size);
	if (ret < 0)
		return ret;
	rep->has = true;
	rep->size = VB_VU_CONFIG_HDR_SIZE + c->size;
	rep->p.config.offset = c->offset;
	rep->p.config.size = c->size;
	rep->p.config.flags = c->flags;
	return 0;
}

/* @satisfy{VB-REQ-VU-008} SET_STATUS / GET_STATUS */
static int set_status(struct vb_vu_server *s, uint8_t v)
{
	if (v == 0) {
		/* A reset, but QEMU asks GET_VRING_BASE after it: keep every ring's position
		 * (stopped) and its fds until the next start replaces them. */
		for (uint16_t q = 0; q < s->num_queues; q++) {
			ring_park(s, q);
			s->rings[q].started = false;
			s->rings[q].infl_recover = true;	/* the reset drops every chain */
		}
		vb_dev_reset(s->dev);
		s->features_set = false;
		s->status = 0;
		return 0;
	}
	/* virtio 1.2, 2.2.2 "Device Requirements: Feature Bits": FEATURES_OK reads back clear
	 * when the features were not accepted. */
	if ((v & VB_VIRTIO_S_FEATURES_OK) && !s->features_set)
		v &= (uint8_t)~VB_VIRTIO_S_FEATURES_OK;
	s->status = v;
	return 0;
}

static bool needs_owner(uint32_t request)
{
	switch (request) {
	case VB_VU_SET_FEATURES:
	case VB_VU_SET_MEM_TABLE:
	case VB_VU_ADD_MEM_REG:
	case VB_VU_REM_MEM_REG:
	case VB_VU_SET_VRING_NUM:
	case VB_VU_SET_VRING_ADDR:
	case VB_VU_SET_VRING_BASE:
	case VB_VU_SET_VRING_KICK:
	case VB_VU_SET_VRING_CALL:
	case VB_VU_SET_VRING_ERR:
	case VB_VU_SET_VRING_ENABLE:
		return true;
	default:
		return false;
	}
}

/*
 * Carry out one validated message. Returns 0 or a negative errno for the front-end.
 * @satisfy{VB-REQ-VU-004} @satisfy{VB-REQ-VU-007}
 */
static int execute(struct vb_vu_server *s, struct vbi_vu_msg *m, struct vu_reply *rep)
{
	int ret;

	if (needs_owner(m->request) && !s->owner)
		return -EPROTO;
	switch (m->request) {
	case VB_VU_GET_FEATURES:
		reply_u64(rep, vb_dev_get_features(s->dev) | VB_BIT(VB_VU_F_PROTOCOL_FEATURES) |
			  ((s->cfg.protocol_features & VB_BIT(VB_VU_PROTOCOL_F_LOG_SHMFD)) ?
			   VB_BIT(VB_VU_F_LOG_ALL) : 0));
		return 0;
	case VB_VU_SET_FEATURES:
		return set_features(s, m->payload.u64);
	case VB_VU_GET_PROTOCOL_FEATURES:
		reply_u64(rep, s->cfg.protocol_features);
		return 0;
	case VB_VU_SET_PROTOCOL_FEATURES:
		if (m->payload.u64 & ~s->cfg.protocol_features)
			return -ENOTSUP;
		s->protocol = m->payload.u64;
		return 0;
	case VB_VU_SET_OWNER:
		s->owner = true;	/* repeated once per queue pair by MQ front-ends */
		return 0;
	case VB_VU_RESET_OWNER:
		/* Deprecated (vhost-user.rst); ignored, as QEMU never sends it. */
		return 0;
	case VB_VU_GET_QUEUE_NUM:
		reply_u64(rep, s->num_queues);
		return 0;
	case VB_VU_GET_MAX_MEM_SLOTS:
		reply_u64(rep, s->mem.max_slots);
		return 0;
	case VB_VU_SET_MEM_TABLE:
		ret = vbi_vu_mem_set_table(&s->mem, m->payload.table.regions, m->fds,
					   m->payload.table.num_regions);
		s->stats.mapped_regions = s->mem.n_maps;
		if (ret < 0)
			return ret;
		/* Live rings re-translate; a ring that no longer maps breaks (NEEDS_RESET). */
		ret = vb_dev_remap(s->dev);
		try_live_all(s);
		return ret;
	case VB_VU_ADD_MEM_REG:
		if (!has_protocol(s, VB_VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
			return -EPROTO;
		ret = vbi_vu_mem_add(&s->mem, &m->payload.reg.region, m->fds[0]);
		s->stats.mapped_regions = s->mem.n_maps;
		if (ret == 0)
			try_live_all(s);
		return ret;
	case VB_VU_REM_MEM_REG:
		if (!has_protocol(s, VB_VU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))
			return -EPROTO;
		ret = vbi_vu_mem_remove(&s->mem, &m->payload.reg.region);
		s->stats.mapped_regions = s->mem.n_maps;
		if (ret < 0)
			return ret;
		return vb_dev_remap(s->dev);
	case VB_VU_SET_VRING_NUM:
	case VB_VU_SET_VRING_ADDR:
	case VB_VU_SET_VRING_BASE:
	case VB_VU_GET_VRING_BASE:
	case VB_VU_SET_VRING_KICK:
	case VB_VU_SET_VRING_CALL:
	case VB_VU_SET_VRING_ERR:
	case VB_VU_SET_VRING_ENABLE:
		return handle_ring(s, m, rep);
	case VB_VU_GET_CONFIG:
	case VB_VU_SET_CONFIG:
		return handle_config(s, m, rep);
	case VB_VU_SET_BACKEND_REQ_FD:
		return backend_set(s, m);
	case VB_VU_GET_INFLIGHT_FD:
		ret = get_inflight(s, &m->payload.inflight, &rep->p.inflight, &rep->fd);
		if (ret == 0) {
			rep->has = true;
			rep->size = sizeof(rep->p.inflight);
		}
		return ret;
	case VB_VU_SET_INFLIGHT_FD:
		return set_inflight(s, &m->payload.inflight, m->fds[0]);
	case VB_VU_SET_LOG_BASE:
		/* vhost-user.rst SET_LOG_BASE: with LOG_SHMFD the front-end waits for an empty
		 * reply; a refused log closes the connection (its reply cannot say no). */
		if (!has_protocol(s, VB_VU_PROTOCOL_F_LOG_SHMFD))
			return -EPROTO;
		ret = vbi_vu_log_set(&s->log, &m->payload.log, m->fds[0],
				     vbi_vu_mem_guest_end(&s->mem));
		if (ret < 0)
			return ret;
		vu_log(s, VB_LOG_INFO, "vhost-user: dirty log: %llu bytes",
		       (unsigned long long)m->payload.log.mmap_size);
		log_attach_all(s);
		rep->has = true;
		rep->size = 0;
		return 0;
	case VB_VU_SET_LOG_FD:
		/* A log-changed eventfd, used by no front-end with a shared log: closed. */
		return 0;
	case VB_VU_RESET_DEVICE:
		if (!has_protocol(s, VB_VU_PROTOCOL_F_RESET_DEVICE))
			return -EPROTO;
		device_reset(s);
		return 0;
	case VB_VU_SET_STATUS:
		if (!has_protocol(s, VB_VU_PROTOCOL_F_STATUS))
			return -EPROTO;
		return set_status(s, (uint8_t)m->payload.u64);
	case VB_VU_GET_STATUS:
		if (!has_protocol(s, VB_VU_PROTOCOL_F_STATUS))
			return -EPROTO;
		reply_u64(rep, (uint64_t)(s->status |
					  (vb_dev_get_status(s->dev) & VB_VIRTIO_S_NEEDS_RESET)));
		return 0;
	default:
		return -ENOTSUP;
	}
}

/* Handle one complete message; false if the connection must close. */
static bool handle_msg(struct vb_vu_server *s, struct vbi_vu_msg *m)
{
	struct vbi_vu_limits lim = { s->num_queues, s->mem.max_slots };
	struct vu_reply rep;
	bool own_reply = vbi_vu_msg_has_reply(m->request);
	int ret;

	memset(&rep, 0, sizeof(rep));
	rep.fd = -1;
	s->stats.messages++;
	ret = vbi_vu_msg_check(m, &lim);
	if (ret == 0)
		ret = execute(s, m, &rep);
	vbi_vu_msg_close_fds(m);	/* fds a handler did not keep */
	if (ret < 0) {
		s->stats.refused++;
		vu_log(s, VB_LOG_WARN, "vhost-user: %s (size %u, flags 0x%x) refused: %s",
		       vbi_vu_msg_name(m->request), m->size, m->flags, strerror(-ret));
		if (m->request == VB_VU_GET_CONFIG) {
			/* vhost-user.rst GET_CONFIG: a zero-length payload reports an error. */
			rep.has = true;
			rep.size = 0;
		} else if (own_reply) {
			/* The front-end waits for a reply this back-end cannot give. */
			return false;
		}
	}
	if (rep.has) {
		bool ok = vbi_vu_msg_reply_fd(s->conn_fd, m->request, &rep.p, rep.size,
					      rep.fd) == 0;

		close_fd(&rep.fd);
		return ok;
	}
	/* vhost-user.rst REPLY_ACK: with need_reply, 0 on success, non-zero on failure. */
	if (!own_reply && (m->flags & VB_VU_FLAG_NEED_REPLY) &&
	    has_protocol(s, VB_VU_PROTOCOL_F_REPLY_ACK)) {
		uint64_t v = ret < 0 ? (uint64_t)-ret : 0;

		return vbi_vu_msg_reply(s->conn_fd, m->request, &v, 8) == 0;
	}
	return true;
}

static void conn_readable(struct vb_vu_server *s)
{
	/* Bounded: a front-end that streams messages cannot starve the kick fds. */
	for (unsigned int i = 0; i < 64 && s->conn_fd >= 0; i++) {
		int ret = vbi_vu_msg_recv(s->conn_fd, &s->rx);

		if (ret == 0)
			return;
		if (ret < 0) {
			if (ret == -EPROTO)
				s->stats.closed_bad++;
			conn_close(s, ret == -ECONNRESET ? "front-end hung up" :
				   ret == -EPROTO ? "message framing broken" : strerror(-ret));
			return;
		}
		if (!handle_msg(s, &s->rx.msg)) {
			conn_close(s, "a request that needs a reply failed");
			return;
		}
		vbi_vu_rx_reset(&s->rx);
	}
}

static void kick_readable(struct vb_vu_server *s, uint32_t q)
{
	struct pollfd p;
	uint64_t v;

	if (q >= s->num_queues || s->rings[q].kick_fd < 0)
		return;
	p.fd = s->rings[q].kick_fd;
	p.events = POLLIN;
	/* The event may be stale (the fd was replaced in this batch): never block on it. A
	 * non-blocking fd just fails the read with EAGAIN then. */
	if (!s->rings[q].kick_nb && (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN)))
		return;
	if (read(p.fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return;
	s->stats.kicks++;
	/* @satisfy{VB-REQ-VU-009} a kick reaches the device only on a live ring */
	if (s->rings[q].live)
		(void)vb_dev_kick(s->dev, (uint16_t)q);
}

static void listen_readable(struct vb_vu_server *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (s->conn_fd >= 0 || conn_open(s, fd, false) < 0)
		close(fd);
}

/* ---- Busy polling (vb_vu_set_poll()) ---- */

/* Busy polling state of one ring. */
struct vu_poll {
	bool			kicks_off;	/* this server disabled the ring's kicks */
	struct vb_vq_pos	pos;		/* ring position at the last look */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Did ring q pop or push since the last look? */
static bool ring_moved(struct vb_vu_server *s, uint16_t q, struct vb_vq *vq)
{
	struct vu_poll *p = &s->poll[q];
	struct vb_vq_pos pos;
	bool moved;

	vb_vq_get_pos(vq, &pos);
	moved = pos.avail_idx != p->pos.avail_idx || pos.used_idx != p->pos.used_idx ||
		pos.avail_wrap != p->pos.avail_wrap || pos.used_wrap != p->pos.used_wrap;
	p->pos = pos;
	return moved;
}

/*
 * Turn kicks back on for every ring this server turned them off for. A ring that stopped
 * meanwhile gets its kicks back when it is live again (poll_step), since its flags in guest
 * memory may still say "do not kick". Buffers that arrived while kicks were off go to the
 * model as a kick would bring them (virtio 1.2, 2.7.10 "Available Buffer Notification
 * Suppression": the device re-checks the ring after re-enabling notifications).
 */
static void poll_stop(struct vb_vu_server *s)
{
	for (uint16_t q = 0; q < s->num_queues; q++) {
		struct vu_poll *p = &s->poll[q];
		struct vb_vq *vq = vb_dev_queue(s->dev, q);

		if (!p->kicks_off || !s->rings[q].live || !vq)
			continue;
		p->kicks_off = false;
		if (vb_vq_enable_kicks(vq))
			(void)vb_dev_kick(s->dev, q);
	}
	s->poll_until = 0;
}

/*
 * One look at the live rings after dispatching: while a ring popped or pushed within the last
 * poll_ns (requests, or completions of the model's backend), its kicks stay off and it is
 * served from here as if the driver had kicked; after a whole window without progress the
 * kicks are turned back on and the server sleeps again. A ring that keeps buffers available
 * that the model does not take (it is full) is not progress, so polling always ends.
 * @satisfy{VB-REQ-VU-520}
 */
static void poll_step(struct vb_vu_server *s)
{
	uint64_t now = mono_ns();
	bool moved = false;

	for (uint16_t q = 0; q < s->num_queues; q++) {
		struct vu_poll *p = &s->poll[q];
		struct vb_vq *vq = vb_dev_queue(s->dev, q);

		if (!vq || !s->rings[q].live)
			continue;
		if (p->kicks_off && !s->poll_until) {
			/* It stopped with kicks off and restarted after the window. */
			p->kicks_off = false;
			if (vb_vq_enable_kicks(vq))
				(void)vb_dev_kick(s->dev, q);
		} else if (p->kicks_off) {
			(void)vb_dev_kick(s->dev, q);
		}
		moved |= ring_moved(s, q, vq);
	}
	if (!s->poll_ns)
		return;	/* polling was turned off: only the kicks above were restored */
	if (moved) {
		if (!s->poll_until) {
			for (uint16_t q = 0; q < s->num_queues; q++) {
				struct vb_vq *vq = vb_dev_queue(s->dev, q);

				if (vq && s->rings[q].live) {
					vb_vq_disable_kicks(vq);
					s->poll[q].kicks_off = true;
				}
			}
		}
		s->poll_until = now + s->poll_ns;
	} else if (s->poll_until && now >= s->poll_until) {
		poll_stop(s);
	}
}

/* ---- API ---- */

VB_EXPORT int vb_vu_server_new(const struct vb_vu_config *cfg, struct vb_vu_server **out)
{
	struct vb_vu_server *s;
	size_t dsz;
	int ret;

	if (!cfg || !out || cfg->version < VB_VU_CONFIG_V1 || !cfg->ops ||
	    cfg->ops->num_queues == 0 || cfg->ops->num_queues > VB_VU_VRING_IDX_MASK + 1u ||
	    (cfg->max_mem_slots && (cfg->max_mem_slots < VB_VU_MEM_TABLE_MAX ||
				    cfg->max_mem_slots > VB_VU_MAX_MEM_SLOTS)))
		return -EINVAL;
	s = calloc(1, sizeof(*s) + cfg->ops->num_queues * sizeof(s->rings[0]));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->cfg.protocol_features &= VB_VU_PROTOCOL_FEATURES_SUPPORTED;
	s->num_queues = cfg->ops->num_queues;
	s->epfd = s->listen_fd = s->conn_fd = s->timer_fd = -1;
	vbi_vu_backend_init(&s->backend);
	vbi_vu_mem_init(&s->mem, cfg->max_mem_slots);
	for (uint16_t q = 0; q < s->num_queues; q++) {
		s->rings[q].kick_fd = s->rings[q].call_fd = s->rings[q].err_fd = -1;
		s->rings[q].base.avail_wrap = s->rings[q].base.used_wrap = true;
		s->rings[q].infl_recover = true;
	}
	dsz = vb_dev_size(s->num_queues);
	s->dev_storage = aligned_alloc(8, (dsz + 7u) & ~(size_t)7u);
	if (!s->dev_storage) {
		free(s);
		return -ENOMEM;
	}
	ret = vb_dev_init(s->dev_storage, dsz, cfg->ops, cfg->priv, &vu_transport_ops, s,
			  &s->mem.mem, &s->dev);
	if (ret == 0)
		ret = vb_dev_set_feature_mask(s->dev, 0, VU_FORBIDDEN);
	if (ret == 0) {
		s->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (s->epfd < 0)
			ret = -errno;
	}
	if (ret < 0) {
		free(s->dev_storage);
		free(s);
		return ret;
	}
	*out = s;
	return 0;
}

VB_EXPORT void vb_vu_server_free(struct vb_vu_server *s)
{
	if (!s)
		return;
	if (s->conn_fd >= 0)
		conn_close(s, "server freed");
	device_reset(s);
	infl_unmap(s);
	vbi_vu_log_clear(&s->log);
	vbi_vu_mem_clear(&s->mem);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->listen_path)
			unlink(s->listen_path);
	}
	free(s->listen_path);
	free(s->connect_path);
	s->connect_path = NULL;
	close_fd(&s->timer_fd);
	close_fd(&s->epfd);
	free(s->poll);
	free(s->dev_storage);
	free(s);
}

VB_EXPORT int vb_vu_listen(struct vb_vu_server *s, const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, ret;

	memset(&sa, 0, sizeof(sa));
	if (!path || strlen(path) >= sizeof(sa.sun_path) || s->listen_fd >= 0 ||
	    s->connect_path)
		return -EINVAL;
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		unlink(path);	/* a stale socket of an earlier run */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	s->listen_path = strdup(path);
	ret = vb_vu_listen_fd(s, fd);
	if (ret < 0) {
		close(fd);
		unlink(path);
	}
	return ret;
}

VB_EXPORT int vb_vu_listen_fd(struct vb_vu_server *s, int fd)
{
	int ret;

	if (fd < 0 || s->listen_fd >= 0 || s->connect_path)
		return -EINVAL;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	s->listen_fd = fd;
	if (s->conn_fd >= 0)
		return 0;	/* watched once the current connection ends */
	ret = watch(s, fd, TAG(TAG_LISTEN, 0));
	if (ret < 0)
		s->listen_fd = -1;
	return ret;
}

/* @satisfy{VB-REQ-VU-510} */
VB_EXPORT int vb_vu_connect(struct vb_vu_server *s, const char *path)
{
	struct sockaddr_un sa;
	int ret;

	if (!s || !path || !path[0] || strlen(path) >= sizeof(sa.sun_path) ||
	    s->listen_fd >= 0 || s->connect_path)
		return -EINVAL;
	if (s->conn_fd >= 0)
		return -EBUSY;
	s->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timer_fd < 0)
		return -errno;
	ret = watch(s, s->timer_fd, TAG(TAG_RECONNECT, 0));
	if (ret == 0) {
		s->connect_path = strdup(path);
		if (!s->connect_path)
			ret = -ENOMEM;
	}
	if (ret < 0) {
		close_fd(&s->timer_fd);
		return ret;
	}
	s->retry_ms = RECONNECT_FIRST_MS;
	ret = connect_once(s);
	if (ret < 0) {
		/* The front-end may not listen yet: keep trying from vb_vu_dispatch(). */
		vu_log(s, VB_LOG_INFO, "vhost-user: connect to %s: %s (retrying)", path,
		       strerror(-ret));
		return reconnect_arm(s);
	}
	return 0;
}

VB_EXPORT int vb_vu_attach_fd(struct vb_vu_server *s, int fd)
{
	if (fd < 0)
		return -EINVAL;
	if (s->conn_fd >= 0)
		return -EBUSY;
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return conn_open(s, fd, true);
}

VB_EXPORT int vb_vu_fd(const struct vb_vu_server *s)
{
	return s->epfd;
}

VB_EXPORT int vb_vu_dispatch(struct vb_vu_server *s)
{
	struct epoll_event ev[16];
	int n;

	do {
		n = epoll_wait(s->epfd, ev, (int)VB_ARRAY_SIZE(ev), 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		uint32_t kind = (uint32_t)(ev[i].data.u64 >> 32);
		uint32_t idx = (uint32_t)ev[i].data.u64;

		switch (kind) {
		case TAG_LISTEN:
			if (s->listen_fd >= 0 && s->conn_fd < 0)
				listen_readable(s);
			break;
		case TAG_CONN:
			if (s->conn_fd >= 0)
				conn_readable(s);
			break;
		case TAG_KICK:
			kick_readable(s, idx);
			break;
		case TAG_BACKEND:
			backend_readable(s);
			break;
		case TAG_RECONNECT:
			reconnect_due(s);
			break;
		default:
			break;
		}
	}
	if (s->poll && s->dev)
		poll_step(s);
	return n;
}

VB_EXPORT int vb_vu_set_poll(struct vb_vu_server *s, uint32_t usecs)
{
	if (!s || usecs > VB_VU_POLL_MAX_US)
		return -EINVAL;
	if (usecs && !s->poll) {
		s->poll = calloc(s->num_queues ? s->num_queues : 1u, sizeof(*s->poll));
		if (!s->poll)
			return -ENOMEM;
	}
	s->poll_ns = (uint64_t)usecs * 1000u;
	/* Rings stopped with kicks off get them back when they start (poll_step()). */
	if (!usecs && s->poll && s->poll_until)
		poll_stop(s);
	return 0;
}

VB_EXPORT bool vb_vu_polling(const struct vb_vu_server *s)
{
	return s->poll_until != 0;
}

VB_EXPORT int vb_vu_run(struct vb_vu_server *s, const volatile int *stop)
{
	while (!*stop && !s->ended) {
		struct pollfd p = { .fd = s->epfd, .events = POLLIN };
		bool busy = vb_vu_polling(s);
		int ret = poll(&p, 1, busy ? 0 : 100);

		if (ret < 0 && errno != EINTR)
			return -errno;
		if (ret > 0 || busy) {
			ret = vb_vu_dispatch(s);
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

VB_EXPORT bool vb_vu_connected(const struct vb_vu_server *s)
{
	return s->conn_fd >= 0;
}

VB_EXPORT struct vb_dev *vb_vu_dev(const struct vb_vu_server *s)
{
	return s->dev;
}

VB_EXPORT void vb_vu_get_stats(const struct vb_vu_server *s, struct vb_vu_stats *st)
{
	*st = s->stats;
}
