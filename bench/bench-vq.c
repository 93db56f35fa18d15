/* SPDX-License-Identifier: MIT */
/*
 * bench-vq: cost of the library's virtqueue device side against a bare ring of the same
 * shape with no validation (bare-ring.c). See bench/README.md for the method.
 *
 * For split and packed rings, 1- and 3-descriptor chains, direct and indirect, batch 1 and
 * 32, it measures
 *   (a) chains/s with the driver and the device on two spinning threads,
 *   (b) ns per chain with driver and device interleaved on one thread,
 *   (c) device instructions per chain (pop + push) under callgrind, by re-executing itself.
 * Time figures come from interleaved runs (ours, bare, bare, ours, ...) and are reported as
 * medians, with the ratio taken as the median of per-pair ratios, because this machine's
 * speed drifts several times over from minute to minute. Targets are printed, never
 * enforced: the exit status is 0 whenever the benchmark itself worked.
 *
 * The driver side is the same code for both device sides (it sees the same memory layout),
 * so whatever differs between the two figures is the device side.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "vbt-dev.h"
#include "vbt-mem.h"
#include "bare-ring.h"

#ifndef BENCH_BUILDTYPE
#define BENCH_BUILDTYPE "unknown"
#endif
#ifndef BENCH_OPTIMIZATION
#define BENCH_OPTIMIZATION "?"
#endif
#ifndef VB_CONFIG_PACKED
#define VB_CONFIG_PACKED 1
#endif

#define GUEST_GPA	0x40000000u
#define MAX_QSIZE	1024u
#define MAX_BATCH	64u
#define MAX_NDESC	3u
#define IOV_MAX_PER	4u

#define F_AVAIL		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_AVAIL))
#define F_USED		((uint16_t)(1u << VB_VRING_PACKED_DESC_F_USED))

/* ---------------------------------------------------------------------------------------- */
/* Configuration */

enum impl { OURS, BARE };
static const char *const impl_name[] = { "ours", "bare" };

struct cfg {
	bool		packed;
	unsigned int	ndesc;		/* 1 or 3 buffers per chain */
	bool		indirect;
	unsigned int	batch;		/* 1: vb_vq_pop/push; >1: the batch calls */
};

static struct {
	unsigned int	runs;		/* runs of each side per time figure */
	uint64_t	x_chains;	/* chains per cross-thread run */
	uint64_t	st_chains;	/* chains per one-thread run */
	uint64_t	ir_chains;	/* chains per callgrind run */
	uint16_t	qsize;
	unsigned int	regions;
	bool		do_x, do_st, do_ir, pin;
	int		ring_f, ndesc_f, ind_f, batch_f;	/* -1: all */
	const char	*profile;	/* write one --dump-instr callgrind file and stop */
	const char	*valgrind;
} opt = {
	.runs = 5, .x_chains = 2000000, .st_chains = 2000000, .ir_chains = 16384,
	.qsize = 256, .regions = 1, .do_x = true, .do_st = true, .do_ir = true,
	.ring_f = -1, .ndesc_f = -1, .ind_f = -1, .batch_f = -1, .valgrind = "valgrind",
};

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench-vq: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * Called by a spinning thread that found nothing to do. Spin with a pause, but after many
 * empty polls in a row give the CPU away: on a machine with as many busy threads as CPUs
 * (other builds, fuzzers) a thread that only spins can burn its whole time slice while the
 * thread it waits for is not running. Both device sides get the same treatment.
 */
static inline void idle_poll(unsigned int *empty)
{
	if (++*empty < 2048) {
		cpu_relax();
		return;
	}
	*empty = 0;
	sched_yield();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---------------------------------------------------------------------------------------- */
/* One ring in fake guest memory, its driver, and one of the two device sides */

struct slot_bufs {
	uint64_t		gpa[MAX_NDESC];
	uint32_t		len[MAX_NDESC];
	uint16_t		flags[MAX_NDESC];	/* WRITE or 0 */
	uint64_t		table_gpa;		/* indirect table of this slot */
	void			*table;			/* its host address */
};

struct env {
	struct cfg		cfg;
	enum impl		impl;
	struct vbt_guest	g;
	struct vbt_dev		d;
	struct vb_vq		*vq;
	struct bare_split	bs;
	struct bare_packed	bp;

	/* Driver side. */
	uint16_t		num;
	unsigned int		per_chain;	/* ring descriptors per chain */
	unsigned int		n_slots;	/* chains in flight at most */
	uint16_t		free_slots[MAX_QSIZE];
	unsigned int		n_free;
	struct slot_bufs	slot[MAX_QSIZE];
	/* split */
	struct vb_vring_desc	*desc;
	struct vb_vring_avail	*avail;
	vb_le16			*avail_ring;
	struct vb_vring_used	*used;
	struct vb_vring_used_elem *used_ring;
	uint16_t		avail_idx, last_used;
	/* packed */
	struct vb_vring_packed_desc *pdesc;
	uint16_t		p_avail, p_used;
	unsigned int		p_avail_wrap, p_used_wrap;
	uint64_t		desc_gpa, driver_gpa, device_gpa;

	/* Device side storage. */
	struct vb_chain		chains[MAX_BATCH];
	struct vb_iov		rd[MAX_BATCH][IOV_MAX_PER], wr[MAX_BATCH][IOV_MAX_PER];
	uint32_t		written[MAX_BATCH];
};

static int env_init(struct env *e, const struct cfg *cfg, enum impl impl)
{
	const size_t guest_size = 4u << 20;
	uint64_t features = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC);
	size_t region = opt.regions > 1 ? (guest_size + opt.regions - 1) / opt.regions : 0;
	int ret;

	memset(e, 0, sizeof(*e));
	e->cfg = *cfg;
	e->impl = impl;
	e->num = opt.qsize;
	e->per_chain = cfg->indirect ? 1 : cfg->ndesc;
	e->n_slots = e->num / e->per_chain;
	ret = vbt_guest_init(&e->g, GUEST_GPA, guest_size, (region + 15) & ~(size_t)15);
	if (ret < 0)
		return ret;
	if (cfg->packed) {
		features |= VB_BIT(VB_VIRTIO_F_RING_PACKED);
		e->desc_gpa = vbt_guest_alloc(&e->g, 16u * e->num, 16);
		e->driver_gpa = vbt_guest_alloc(&e->g, 4, 4);
		e->device_gpa = vbt_guest_alloc(&e->g, 4, 4);
		e->pdesc = vbt_guest_ptr(&e->g, e->desc_gpa);
		e->p_avail_wrap = e->p_used_wrap = 1;
	} else {
		e->desc_gpa = vbt_guest_alloc(&e->g, 16u * e->num, 16);
		e->driver_gpa = vbt_guest_alloc(&e->g, 6u + 2u * e->num, 2);
		e->device_gpa = vbt_guest_alloc(&e->g, 6u + 8u * e->num, 4);
		e->desc = vbt_guest_ptr(&e->g, e->desc_gpa);
		e->avail = vbt_guest_ptr(&e->g, e->driver_gpa);
		e->avail_ring = (vb_le16 *)(e->avail + 1);
		e->used = vbt_guest_ptr(&e->g, e->device_gpa);
		e->used_ring = (struct vb_vring_used_elem *)(e->used + 1);
	}
	/* Per slot: a blk-like request (16-byte header and 512 bytes out, 1 status byte in)
	 * or one 256-byte device-writable buffer (rng/net-rx like). With several regions the
	 * buffers go to the last one, the worst case for a region scan (tables and rings stay
	 * in the first). */
	for (unsigned int s = 0; s < e->n_slots; s++) {
		struct slot_bufs *b = &e->slot[s];

		if (cfg->indirect) {
			b->table_gpa = vbt_guest_alloc(&e->g, 16u * cfg->ndesc, 16);
			b->table = vbt_guest_ptr(&e->g, b->table_gpa);
		}
	}
	if (region) {
		uint64_t last = (uint64_t)(opt.regions - 1) * ((region + 15) & ~(size_t)15);

		if (last > e->g.next)
			(void)vbt_guest_alloc(&e->g, (size_t)(last - e->g.next), 1);
	}
	for (unsigned int s = 0; s < e->n_slots; s++) {
		struct slot_bufs *b = &e->slot[s];

		if (cfg->ndesc == 1) {
			b->len[0] = 256;
			b->flags[0] = VB_VRING_DESC_F_WRITE;
		} else {
			b->len[0] = 16;
			b->len[1] = 512;
			b->len[2] = 1;
			b->flags[2] = VB_VRING_DESC_F_WRITE;
		}
		for (unsigned int k = 0; k < cfg->ndesc; k++)
			b->gpa[k] = vbt_guest_alloc(&e->g, b->len[k], 64);
		e->free_slots[e->n_free++] = (uint16_t)(e->n_slots - 1 - s);
	}
	for (unsigned int i = 0; i < MAX_BATCH; i++) {
		struct vb_chain c = VB_CHAIN_INIT(e->rd[i], e->wr[i]);

		e->chains[i] = c;
	}

	if (impl == BARE) {
		if (cfg->packed) {
			e->bp.desc = e->pdesc;
			e->bp.host_base = e->g.base;
			e->bp.gpa_base = e->g.gpa;
			e->bp.num = e->num;
			e->bp.avail_wrap = e->bp.used_wrap = 1;
		} else {
			e->bs.desc = e->desc;
			e->bs.avail = e->avail;
			e->bs.used = e->used;
			e->bs.host_base = e->g.base;
			e->bs.gpa_base = e->g.gpa;
			e->bs.num = e->num;
		}
		return 0;
	}
	ret = vbt_dev_init(&e->d, &e->g.mem, features, 1, MAX_QSIZE);
	if (ret == 0)
		ret = vbt_dev_negotiate(&e->d, features);
	if (ret == 0)
		ret = vbt_dev_queue(&e->d, 0, e->num, e->desc_gpa, e->driver_gpa, e->device_gpa);
	if (ret == 0)
		ret = vbt_dev_driver_ok(&e->d);
	if (ret == 0) {
		e->vq = vb_dev_queue(e->d.dev, 0);
		if (!e->vq || !vb_vq_is_ready(e->vq))
			ret = -ENOTSUP;
	}
	return ret;
}

static void env_fini(struct env *e)
{
	vbt_guest_fini(&e->g);
}

static void put_desc(struct vb_vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	d->addr = vb_cpu_to_le64(addr);
	d->len = vb_cpu_to_le32(len);
	d->flags = vb_cpu_to_le16(flags);
	d->next = vb_cpu_to_le16(next);
}

/* Driver: write the descriptors of one chain for slot s (split). Returns the head. */
static uint16_t split_write_chain(struct env *e, uint16_t s)
{
	const struct slot_bufs *b = &e->slot[s];
	const unsigned int n = e->cfg.ndesc;
	uint16_t head = (uint16_t)(s * e->per_chain);

	if (e->cfg.indirect) {
		struct vb_vring_desc *t = b->table;

		for (unsigned int k = 0; k < n; k++)
			put_desc(&t[k], b->gpa[k], b->len[k],
				 (uint16_t)(b->flags[k] | (k + 1 < n ? VB_VRING_DESC_F_NEXT : 0)),
				 (uint16_t)(k + 1 < n ? k + 1 : 0));
		put_desc(&e->desc[head], b->table_gpa, 16u * n, VB_VRING_DESC_F_INDIRECT, 0);
		return head;
	}
	for (unsigned int k = 0; k < n; k++)
		put_desc(&e->desc[head + k], b->gpa[k], b->len[k],
			 (uint16_t)(b->flags[k] | (k + 1 < n ? VB_VRING_DESC_F_NEXT : 0)),
			 (uint16_t)(k + 1 < n ? head + k + 1 : 0));
	return head;
}

/* Driver: write one chain for slot s at the driver's position (packed); the head's flags
 * last, with release (virtio 1.2, 2.8.21). */
static void packed_write_chain(struct env *e, uint16_t s)
{
	const struct slot_bufs *b = &e->slot[s];
	const unsigned int n = e->cfg.ndesc;
	const uint16_t head = e->p_avail;
	uint16_t head_flags = 0;

	for (unsigned int k = 0; k < e->per_chain; k++) {
		struct vb_vring_packed_desc *d = &e->pdesc[e->p_avail];
		uint16_t f = e->p_avail_wrap ? F_AVAIL : F_USED;

		if (e->cfg.indirect) {
			struct vb_vring_packed_desc *t = b->table;

			for (unsigned int j = 0; j < n; j++) {
				t[j].addr = vb_cpu_to_le64(b->gpa[j]);
				t[j].len = vb_cpu_to_le32(b->len[j]);
				t[j].id = vb_cpu_to_le16(0);
				t[j].flags = vb_cpu_to_le16(b->flags[j]);
			}
			d->addr = vb_cpu_to_le64(b->table_gpa);
			d->len = vb_cpu_to_le32(16u * n);
			f |= VB_VRING_DESC_F_INDIRECT;
		} else {
			d->addr = vb_cpu_to_le64(b->gpa[k]);
			d->len = vb_cpu_to_le32(b->len[k]);
			f |= (uint16_t)(b->flags[k] | (k + 1 < n ? VB_VRING_DESC_F_NEXT : 0));
		}
		d->id = vb_cpu_to_le16(s);
		if (k == 0)
			head_flags = f;
		else
			d->flags = vb_cpu_to_le16(f);
		if (++e->p_avail == e->num) {
			e->p_avail = 0;
			e->p_avail_wrap ^= 1u;
		}
	}
	__atomic_store_n(&e->pdesc[head].flags.raw, vb_cpu_to_le16(head_flags).raw,
			 __ATOMIC_RELEASE);
}

/* Driver: make n chains available (n <= free slots). */
static void drv_add(struct env *e, unsigned int n)
{
	if (e->cfg.packed) {
		for (unsigned int i = 0; i < n; i++)
			packed_write_chain(e, e->free_slots[--e->n_free]);
		return;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint16_t head = split_write_chain(e, e->free_slots[--e->n_free]);

		e->avail_ring[e->avail_idx++ & (e->num - 1)] = vb_cpu_to_le16(head);
	}
	/* One index store per batch; release: the entries and descriptors first. */
	__atomic_store_n(&e->avail->idx.raw, vb_cpu_to_le16(e->avail_idx).raw, __ATOMIC_RELEASE);
}

/* Driver: take back every used chain; returns how many. */
static unsigned int drv_reap(struct env *e)
{
	unsigned int got = 0;

	if (e->cfg.packed) {
		for (;;) {
			struct vb_vring_packed_desc *d = &e->pdesc[e->p_used];
			uint16_t want = e->p_used_wrap ? (uint16_t)(F_AVAIL | F_USED) : 0;
			vb_le16 f = { __atomic_load_n(&d->flags.raw, __ATOMIC_ACQUIRE) };

			if ((vb_le16_to_cpu(f) & (F_AVAIL | F_USED)) != want)
				break;
			e->free_slots[e->n_free++] = vb_le16_to_cpu(d->id);
			e->p_used = (uint16_t)(e->p_used + e->per_chain);
			if (e->p_used >= e->num) {
				e->p_used = (uint16_t)(e->p_used - e->num);
				e->p_used_wrap ^= 1u;
			}
			got++;
		}
		return got;
	}
	{
		vb_le16 v = { __atomic_load_n(&e->used->idx.raw, __ATOMIC_ACQUIRE) };
		uint16_t idx = vb_le16_to_cpu(v);

		while (e->last_used != idx) {
			uint32_t id = vb_le32_to_cpu(e->used_ring[e->last_used & (e->num - 1)].id);

			e->free_slots[e->n_free++] = (uint16_t)(id / e->per_chain);
			e->last_used++;
			got++;
		}
	}
	return got;
}

/* Device: pop up to batch chains and push them back as used; returns how many. */
static unsigned int dev_step(struct env *e)
{
	const unsigned int batch = e->cfg.batch;
	int n;

	if (e->impl == OURS) {
		if (batch == 1) {
			n = vb_vq_pop(e->vq, e->chains);
			if (n <= 0)
				goto empty;
			if (vb_vq_push(e->vq, e->chains, e->chains[0].write_len) < 0)
				die("push failed (%d)", vb_vq_error(e->vq));
			return 1;
		}
		n = vb_vq_pop_batch(e->vq, e->chains, batch);
		if (n <= 0)
			goto empty;
		for (int i = 0; i < n; i++)
			e->written[i] = e->chains[i].write_len;
		if (vb_vq_push_batch(e->vq, e->chains, e->written, (unsigned int)n) < 0)
			die("push failed (%d)", vb_vq_error(e->vq));
		return (unsigned int)n;
	}
	if (batch == 1)
		n = e->cfg.packed ? bare_packed_pop1(&e->bp, e->chains) :
				    bare_split_pop1(&e->bs, e->chains);
	else if (e->cfg.packed)
		n = bare_packed_pop(&e->bp, e->chains, batch);
	else
		n = bare_split_pop(&e->bs, e->chains, batch);
	if (n <= 0)
		return 0;
	for (int i = 0; i < n; i++)
		e->written[i] = e->chains[i].write_len;
	if (e->cfg.packed)
		bare_packed_push(&e->bp, e->chains, e->written, (unsigned int)n);
	else
		bare_split_push(&e->bs, e->chains, e->written, (unsigned int)n);
	return (unsigned int)n;
empty:
	if (n < 0)
		die("pop failed (%d)", n);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* The three measurements */

/* (b) and callgrind: driver adds a batch, device pops and pushes it, driver reaps. */
static void st_loop(struct env *e, uint64_t chains)
{
	const unsigned int batch = e->cfg.batch;
	uint64_t done = 0;

	while (done < chains) {
		unsigned int want = chains - done < batch ? (unsigned int)(chains - done) : batch;
		unsigned int got = 0;

		drv_add(e, want);
		while (got < want)
			got += dev_step(e);
		if (drv_reap(e) != want)
			die("driver reaped a wrong count");
		done += want;
	}
}

/* Check once that both device sides see what the driver wrote (guards the bench itself). */
static void check_env(struct env *e)
{
	const unsigned int batch = e->cfg.batch;

	for (unsigned int round = 0; round < 3u * e->n_slots; round++) {
		unsigned int got = 0;

		drv_add(e, batch);
		while (got < batch) {
			unsigned int k;

			/* Look at the chains before dev_step pushes them: pop only. */
			k = dev_step(e);
			for (unsigned int i = 0; i < k; i++) {
				const struct vb_chain *c = &e->chains[i];
				uint16_t s = (uint16_t)(e->cfg.packed ? c->head : c->head / e->per_chain);
				const struct slot_bufs *b = &e->slot[s];
				unsigned int exp_r = e->cfg.ndesc == 1 ? 0 : 2;

				if (s >= e->n_slots || c->n_read != exp_r ||
				    c->n_write != 1 || c->write[0].base !=
				    vbt_guest_ptr(&e->g, b->gpa[e->cfg.ndesc - 1]) ||
				    c->write_len != b->len[e->cfg.ndesc - 1] ||
				    (exp_r && c->read[1].len != 512))
					die("self-check failed (%s side)", impl_name[e->impl]);
			}
			got += k;
		}
		if (drv_reap(e) != batch)
			die("self-check: driver reaped a wrong count");
	}
}

struct xrun {
	struct env	*e;
	uint64_t	chains;
	int		go;
	bool		pin;
};

static void pin_to(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *device_thread(void *arg)
{
	struct xrun *x = arg;
	uint64_t done = 0;
	unsigned int empty = 0;

	if (x->pin)
		pin_to(1);
	while (!__atomic_load_n(&x->go, __ATOMIC_ACQUIRE))
		cpu_relax();
	while (done < x->chains) {
		unsigned int k = dev_step(x->e);

		if (k == 0)
			idle_poll(&empty);
		else
			empty = 0;
		done += k;
	}
	return NULL;
}

/* (a): returns seconds for x_chains chains through the ring on two threads. */
static double x_run(struct env *e, uint64_t chains)
{
	const unsigned int batch = e->cfg.batch;
	struct xrun x = { e, chains, 0, opt.pin };
	uint64_t added = 0, reaped = 0;
	unsigned int empty = 0;
	pthread_t t;
	double t0, t1;

	if (pthread_create(&t, NULL, device_thread, &x) != 0)
		die("pthread_create failed");
	if (opt.pin)
		pin_to(0);
	t0 = now_s();
	__atomic_store_n(&x.go, 1, __ATOMIC_RELEASE);
	while (reaped < chains) {
		uint64_t left = chains - added;
		unsigned int want = left < batch ? (unsigned int)left : batch;
		unsigned int r = drv_reap(e);

		reaped += r;
		if (want && e->n_free >= want) {
			drv_add(e, want);
			added += want;
			empty = 0;
		} else if (r == 0) {
			idle_poll(&empty);
		} else {
			empty = 0;
		}
	}
	t1 = now_s();
	pthread_join(t, NULL);
	return t1 - t0;
}

static double st_run(struct env *e, uint64_t chains)
{
	double t0 = now_s();

	st_loop(e, chains);
	return now_s() - t0;
}

/* ---------------------------------------------------------------------------------------- */
/* callgrind: re-execute ourselves under valgrind doing only st_loop */

static const char *const toggle_ours[] = {
	"vb_vq_pop", "vb_vq_pop_batch", "vb_vq_push", "vb_vq_push_batch", NULL
};
static const char *const toggle_bare[] = {
	"bare_split_pop", "bare_split_pop1", "bare_split_push",
	"bare_packed_pop", "bare_packed_pop1", "bare_packed_push", NULL
};

static char self_path[4096];

static void cfg_args(const struct cfg *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s,%u,%s,%u", c->packed ? "packed" : "split", c->ndesc,
		 c->indirect ? "indirect" : "direct", c->batch);
}

static bool cfg_parse(const char *s, struct cfg *c)
{
	char ring[16], ind[16];

	if (sscanf(s, "%15[a-z],%u,%15[a-z],%u", ring, &c->ndesc, ind, &c->batch) != 4)
		return false;
	c->packed = strcmp(ring, "packed") == 0;
	c->indirect = strcmp(ind, "indirect") == 0;
	return (c->ndesc == 1 || c->ndesc == 3) && c->batch >= 1 && c->batch <= MAX_BATCH;
}

/* Run one callgrind child; returns total collected Ir, or -1. */
static double callgrind_ir(const struct cfg *c, enum impl impl, uint64_t chains,
			   const char *keep_file)
{
	char out[64] = "/tmp/bench-vq-cg.XXXXXX", spec[64], nbuf[32], qbuf[16], rbuf[16];
	char outarg[128], toggles[8][64];
	const char *const *tg = impl == OURS ? toggle_ours : toggle_bare;
	const char *argv[32];
	char *args[32];
	unsigned int a = 0;
	double ir = -1;
	pid_t pid;
	int fd, status;
	FILE *f;
	char line[512];

	if (keep_file) {
		snprintf(outarg, sizeof(outarg), "--callgrind-out-file=%s", keep_file);
	} else {
		fd = mkstemp(out);
		if (fd < 0)
			return -1;
		close(fd);
		snprintf(outarg, sizeof(outarg), "--callgrind-out-file=%s", out);
	}
	cfg_args(c, spec, sizeof(spec));
	snprintf(nbuf, sizeof(nbuf), "%" PRIu64, chains);
	snprintf(qbuf, sizeof(qbuf), "%u", opt.qsize);
	snprintf(rbuf, sizeof(rbuf), "%u", opt.regions);
	argv[a++] = opt.valgrind;
	argv[a++] = "--tool=callgrind";
	argv[a++] = "-q";
	argv[a++] = outarg;
	for (unsigned int i = 0; tg[i]; i++) {
		snprintf(toggles[i], sizeof(toggles[i]), "--toggle-collect=%s", tg[i]);
		argv[a++] = toggles[i];
	}
	if (keep_file)
		argv[a++] = "--dump-instr=yes";
	argv[a++] = self_path;
	argv[a++] = "--callgrind-child";
	argv[a++] = spec;
	argv[a++] = impl_name[impl];
	argv[a++] = nbuf;
	argv[a++] = "--qsize";
	argv[a++] = qbuf;
	argv[a++] = "--regions";
	argv[a++] = rbuf;
	argv[a] = NULL;
	for (unsigned int i = 0; i <= a; i++)
		args[i] = (char *)(uintptr_t)argv[i];	/* posix_spawn's historical prototype */
	if (posix_spawnp(&pid, opt.valgrind, NULL, NULL, args, environ) != 0)
		goto out;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		goto out;
	f = fopen(keep_file ? keep_file : out, "r");
	if (!f)
		goto out;
	while (fgets(line, sizeof(line), f)) {
		/* "totals:" is what was collected (inside the toggled functions). */
		if (strncmp(line, "totals:", 7) == 0 || (ir < 0 && strncmp(line, "summary:", 8) == 0))
			ir = strtod(line + (line[0] == 't' ? 7 : 8), NULL);
	}
	fclose(f);
out:
	if (!keep_file)
		unlink(out);
	return ir;
}

static int callgrind_child(int argc, char **argv)
{
	struct cfg c;
	struct env *e;
	uint64_t n;
	enum impl impl;

	if (argc < 3 || !cfg_parse(argv[0], &c))
		die("bad --callgrind-child arguments");
	impl = strcmp(argv[1], "bare") == 0 ? BARE : OURS;
	n = strtoull(argv[2], NULL, 0);
	e = aligned_alloc(64, (sizeof(*e) + 63) & ~(size_t)63);
	if (!e || env_init(e, &c, impl) < 0)
		die("cannot set up the ring");
	st_loop(e, n);
	env_fini(e);
	free(e);
	return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Statistics and output */

static double min_of(const double *v, unsigned int n)
{
	double m = v[0];

	for (unsigned int i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(const double *v, unsigned int n)
{
	double s[64];

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

struct result {
	struct cfg	cfg;
	bool		ok;
	double		x_ours, x_bare, x_ratio;	/* M chains/s, ratio ours/bare */
	double		x_best;				/* best run ours / best run bare */
	double		st_ours, st_bare, st_ratio;	/* ns/chain, ratio ours/bare */
	double		st_best;
	double		ir_ours, ir_bare;		/* Ir/chain */
};

/* Time one figure: runs of each side, interleaved ours/bare then bare/ours (ABBA), one
 * fresh ring per run. per-run value: seconds. */
static bool time_figure(const struct cfg *c, bool cross, double *ours_s, double *bare_s,
			uint64_t chains)
{
	struct env *e = aligned_alloc(64, (sizeof(*e) + 63) & ~(size_t)63);

	if (!e)
		return false;
	for (unsigned int r = 0; r < opt.runs; r++) {
		for (unsigned int k = 0; k < 2; k++) {
			enum impl impl = ((r & 1) ^ k) ? BARE : OURS;
			double t;

			if (env_init(e, c, impl) < 0) {
				env_fini(e);
				free(e);
				return false;
			}
			if (r == 0)
				check_env(e);
			t = cross ? x_run(e, chains) : st_run(e, chains);
			(impl == OURS ? ours_s : bare_s)[r] = t;
			env_fini(e);
		}
	}
	free(e);
	return true;
}

static const char *chain_name(const struct cfg *c)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "%u %s", c->ndesc, c->indirect ? "indirect" : "direct");
	return buf;
}

static void measure(struct result *res)
{
	const struct cfg *c = &res->cfg;
	double o[64], b[64], ratio[64];
	unsigned int n = opt.runs;

	res->ok = true;
	res->x_ours = res->x_bare = res->x_ratio = -1;
	res->st_ours = res->st_bare = res->st_ratio = -1;
	res->ir_ours = res->ir_bare = -1;
	if (opt.do_x) {
		if (!time_figure(c, true, o, b, opt.x_chains)) {
			res->ok = false;
			return;
		}
		/* Throughput ratio per adjacent pair: bare time / our time. */
		for (unsigned int i = 0; i < n; i++) {
			ratio[i] = b[i] / o[i];
			o[i] = (double)opt.x_chains / o[i] / 1e6;
			b[i] = (double)opt.x_chains / b[i] / 1e6;
		}
		res->x_ours = median(o, n);
		res->x_bare = median(b, n);
		res->x_ratio = median(ratio, n);
		{
			double bo = 0, bb = 0;

			for (unsigned int i = 0; i < n; i++) {
				bo = o[i] > bo ? o[i] : bo;
				bb = b[i] > bb ? b[i] : bb;
			}
			res->x_best = bo / bb;
		}
	}
	if (opt.do_st) {
		if (!time_figure(c, false, o, b, opt.st_chains)) {
			res->ok = false;
			return;
		}
		for (unsigned int i = 0; i < n; i++) {
			ratio[i] = o[i] / b[i];
			o[i] = o[i] * 1e9 / (double)opt.st_chains;
			b[i] = b[i] * 1e9 / (double)opt.st_chains;
		}
		res->st_ours = median(o, n);
		res->st_bare = median(b, n);
		res->st_ratio = median(ratio, n);
		res->st_best = min_of(o, n) / min_of(b, n);
	}
	if (opt.do_ir) {
		double io = callgrind_ir(c, OURS, opt.ir_chains, NULL);
		double ib = callgrind_ir(c, BARE, opt.ir_chains, NULL);

		res->ir_ours = io < 0 ? -1 : io / (double)opt.ir_chains;
		res->ir_bare = ib < 0 ? -1 : ib / (double)opt.ir_chains;
	}
	fprintf(stderr, "  measured %s %-12s batch %2u\n", c->packed ? "packed" : "split ",
		chain_name(c), c->batch);
}

static const char *mark(bool applies, bool pass)
{
	return !applies ? "-" : pass ? "PASS" : "MISS";
}

static void print_results(const struct result *res, unsigned int n)
{
	if (opt.do_x) {
		printf("\n(a) Cross-thread throughput, M chains/s: driver thread adds and reaps, device\n"
		       "    thread pops and pushes, both spin; %" PRIu64 " chains per run; median of %u.\n"
		       "    ratio = median over interleaved pairs of (ours / bare); best = best run of ours\n"
		       "    / best run of bare (less sensitive to other load). Target: ratio >= 0.70 at batch 32.\n\n",
		       opt.x_chains, opt.runs);
		printf("  %-6s %-12s %5s  %9s %9s %7s %7s  %s\n", "ring", "chain", "batch", "ours", "bare",
		       "ratio", "best", "target");
		for (unsigned int i = 0; i < n; i++) {
			const struct result *r = &res[i];

			if (!r->ok)
				continue;
			printf("  %-6s %-12s %5u  %9.2f %9.2f %6.2fx %6.2fx  %s\n",
			       r->cfg.packed ? "packed" : "split", chain_name(&r->cfg), r->cfg.batch,
			       r->x_ours, r->x_bare, r->x_ratio, r->x_best,
			       mark(r->cfg.batch == 32, r->x_ratio >= 0.70));
		}
	}
	if (opt.do_st) {
		printf("\n(b) One thread, ns per chain (driver add + device pop/push + driver reap,\n"
		       "    interleaved); %" PRIu64 " chains per run; median of %u. The driver part is\n"
		       "    the same code on both sides, so 'extra' = ours - bare is the device-side cost\n"
		       "    of our checks and API. ratio = median over pairs of (ours / bare); best =\n"
		       "    fastest run of ours / fastest run of bare.\n\n",
		       opt.st_chains, opt.runs);
		printf("  %-6s %-12s %5s  %9s %9s %7s %7s %8s\n", "ring", "chain", "batch", "ours", "bare",
		       "ratio", "best", "extra");
		for (unsigned int i = 0; i < n; i++) {
			const struct result *r = &res[i];

			if (!r->ok)
				continue;
			printf("  %-6s %-12s %5u  %9.1f %9.1f %6.2fx %6.2fx %+8.1f\n",
			       r->cfg.packed ? "packed" : "split", chain_name(&r->cfg), r->cfg.batch,
			       r->st_ours, r->st_bare, r->st_ratio, r->st_best, r->st_ours - r->st_bare);
		}
	}
	if (opt.do_ir) {
		printf("\n(c) Instructions per chain, device side only (pop + push including everything\n"
		       "    they call), callgrind --toggle-collect, %" PRIu64 " chains, one thread.\n"
		       "    Exact and repeatable. target: ours <= 2.0x bare.\n\n", opt.ir_chains);
		printf("  %-6s %-12s %5s  %9s %9s %7s  %s\n", "ring", "chain", "batch", "ours", "bare",
		       "ratio", "target");
		for (unsigned int i = 0; i < n; i++) {
			const struct result *r = &res[i];

			if (!r->ok)
				continue;
			if (r->ir_ours < 0 || r->ir_bare < 0) {
				printf("  %-6s %-12s %5u  %9s %9s %7s  -\n",
				       r->cfg.packed ? "packed" : "split", chain_name(&r->cfg),
				       r->cfg.batch, "n/a", "n/a", "");
				continue;
			}
			printf("  %-6s %-12s %5u  %9.1f %9.1f %6.2fx  %s\n",
			       r->cfg.packed ? "packed" : "split", chain_name(&r->cfg), r->cfg.batch,
			       r->ir_ours, r->ir_bare, r->ir_ours / r->ir_bare,
			       mark(true, r->ir_ours <= 2.0 * r->ir_bare));
		}
		printf("\n  For reference (measured elsewhere, same method): QEMU libvhost-user's fast path\n"
		       "  465-850 instructions per chain for 1- and 3-descriptor chains; a bare ring 34-91.\n");
	}
	for (unsigned int i = 0; i < n; i++)
		if (!res[i].ok)
			printf("\n  %s %s batch %u: not available in this build\n",
			       res[i].cfg.packed ? "packed" : "split", chain_name(&res[i].cfg),
			       res[i].cfg.batch);
}

/* ---------------------------------------------------------------------------------------- */

static void usage(void)
{
	printf("usage: bench-vq [options]\n"
	       "  --ring split|packed     only this ring layout (default: both)\n"
	       "  --ndesc 1|3             only this chain length (default: both)\n"
	       "  --mode direct|indirect  only this descriptor mode (default: both)\n"
	       "  --batch N               only this batch size (default: 1 and 32)\n"
	       "  --runs N                runs of each side per time figure (default 5, min 1)\n"
	       "  --chains N              chains per cross-thread run (default 2000000)\n"
	       "  --st-chains N           chains per one-thread run (default 2000000)\n"
	       "  --ir-chains N           chains per callgrind run (default 16384)\n"
	       "  --qsize N               queue size, power of two <= %u (default 256)\n"
	       "  --regions N             split guest memory into N regions (default 1)\n"
	       "  --quick                 --runs 3 --chains 200000 --st-chains 200000\n"
	       "  --no-xthread, --no-st, --no-callgrind   skip a measurement\n"
	       "  --pin                   pin driver to CPU 0 and device to CPU 1\n"
	       "  --valgrind PATH         valgrind binary (default: valgrind from PATH)\n"
	       "  --profile FILE          write a callgrind profile (--dump-instr=yes) of our side\n"
	       "                          for the first selected configuration to FILE, then stop\n",
	       MAX_QSIZE);
}

static unsigned long num_arg(int argc, char **argv, int *i)
{
	char *end;
	unsigned long v;

	if (*i + 1 >= argc)
		die("%s needs a value", argv[*i]);
	v = strtoul(argv[++*i], &end, 0);
	if (*end)
		die("bad number for %s", argv[*i - 1]);
	return v;
}

int main(int argc, char **argv)
{
	struct result res[32];
	unsigned int n = 0;
	ssize_t l;

	l = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (l > 0)
		self_path[l] = 0;
	else
		snprintf(self_path, sizeof(self_path), "%s", argv[0]);

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--callgrind-child")) {
			/* Child mode: options after the three positional arguments. */
			for (int j = i + 4; j < argc; j++) {
				if (!strcmp(argv[j], "--qsize"))
					opt.qsize = (uint16_t)num_arg(argc, argv, &j);
				else if (!strcmp(argv[j], "--regions"))
					opt.regions = (unsigned int)num_arg(argc, argv, &j);
			}
			return callgrind_child(argc - i - 1, argv + i + 1);
		} else if (!strcmp(a, "--ring") && i + 1 < argc) {
			a = argv[++i];
			opt.ring_f = !strcmp(a, "packed") ? 1 : !strcmp(a, "split") ? 0 : -2;
		} else if (!strcmp(a, "--ndesc")) {
			opt.ndesc_f = (int)num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--mode") && i + 1 < argc) {
			a = argv[++i];
			opt.ind_f = !strcmp(a, "indirect") ? 1 : !strcmp(a, "direct") ? 0 : -2;
		} else if (!strcmp(a, "--batch")) {
			opt.batch_f = (int)num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--runs")) {
			opt.runs = (unsigned int)num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--chains")) {
			opt.x_chains = num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--st-chains")) {
			opt.st_chains = num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--ir-chains")) {
			opt.ir_chains = num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--qsize")) {
			opt.qsize = (uint16_t)num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--regions")) {
			opt.regions = (unsigned int)num_arg(argc, argv, &i);
		} else if (!strcmp(a, "--quick")) {
			opt.runs = 3;
			opt.x_chains = opt.st_chains = 200000;
		} else if (!strcmp(a, "--no-xthread")) {
			opt.do_x = false;
		} else if (!strcmp(a, "--no-st")) {
			opt.do_st = false;
		} else if (!strcmp(a, "--no-callgrind")) {
			opt.do_ir = false;
		} else if (!strcmp(a, "--pin")) {
			opt.pin = true;
		} else if (!strcmp(a, "--valgrind") && i + 1 < argc) {
			opt.valgrind = argv[++i];
		} else if (!strcmp(a, "--profile") && i + 1 < argc) {
			opt.profile = argv[++i];
		} else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage();
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (opt.runs < 1 || opt.runs > 63 || opt.qsize < 4 || opt.qsize > MAX_QSIZE ||
	    (opt.qsize & (opt.qsize - 1)) || opt.regions < 1 || opt.regions > VBT_MAX_REGIONS ||
	    opt.ring_f == -2 || opt.ind_f == -2 || opt.x_chains == 0 || opt.st_chains == 0 ||
	    opt.ir_chains == 0 || (opt.batch_f != -1 && (opt.batch_f < 1 || opt.batch_f > (int)MAX_BATCH)) ||
	    opt.qsize / MAX_NDESC < (opt.batch_f > 0 ? (unsigned int)opt.batch_f : 32u))
		die("bad option value (see --help)");

	for (int ring = 0; ring < 2; ring++) {
		if (opt.ring_f >= 0 && ring != opt.ring_f)
			continue;
		if (ring == 1 && !VB_CONFIG_PACKED)
			continue;
		for (unsigned int nd = 1; nd <= 3; nd += 2)
			for (int ind = 0; ind < 2; ind++)
				for (unsigned int bi = 0; bi < 2; bi++) {
					unsigned int batch = opt.batch_f > 0 ? (unsigned int)opt.batch_f :
							     bi ? 32u : 1u;

					if ((opt.ndesc_f > 0 && nd != (unsigned int)opt.ndesc_f) ||
					    (opt.ind_f >= 0 && ind != opt.ind_f) ||
					    (opt.batch_f > 0 && bi))
						continue;
					res[n].cfg = (struct cfg){ ring == 1, nd, ind == 1, batch };
					n++;
				}
	}
	if (n == 0)
		die("nothing selected");

	if (opt.profile) {
		double ir = callgrind_ir(&res[0].cfg, OURS, opt.ir_chains, opt.profile);

		if (ir < 0)
			die("callgrind run failed (is %s installed?)", opt.valgrind);
		printf("%s: %.1f instructions per chain; read it with\n"
		       "  callgrind_annotate --auto=yes --inclusive=no %s\n",
		       opt.profile, ir / (double)opt.ir_chains, opt.profile);
		return 0;
	}
	if (opt.do_ir) {
		struct cfg probe = res[0].cfg;

		if (callgrind_ir(&probe, BARE, 64, NULL) < 0) {
			fprintf(stderr, "bench-vq: %s --tool=callgrind does not run: instruction counts "
				"skipped\n", opt.valgrind);
			opt.do_ir = false;
		}
	}

	printf("bench-vq: libvirtio-backend %d.%d, build %s (optimization %s), queue size %u, "
	       "%u memory region%s, %ld CPUs online%s\n", VB_VERSION_MAJOR, VB_VERSION_MINOR, BENCH_BUILDTYPE,
	       BENCH_OPTIMIZATION, opt.qsize, opt.regions, opt.regions > 1 ? "s" : "",
	       sysconf(_SC_NPROCESSORS_ONLN), opt.pin ? ", pinned" : "");
	printf("ours = vb_vq_pop/_push (batch 1) or vb_vq_pop_batch/_push_batch; bare = unvalidated "
	       "ring of the same layout (bench/bare-ring.c)\n");
	fflush(stdout);
	for (unsigned int i = 0; i < n; i++)
		measure(&res[i]);
	print_results(res, n);
	return 0;
}
