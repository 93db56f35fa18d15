/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (src/core/vq-split.c, src/core/vq.c): round trips, indirect
 * tables, buffers split over many regions, index wrap, batches, notification and kick
 * suppression, ring position, legacy layout, statistics, and every hostile-driver check.
 *
 * Fake guest memory has inaccessible guard pages on both sides: a core that reads past a
 * table or a ring crashes the test (cmocka reports the signal as a failure). Each hostile
 * test is written so that removing the check it targets makes it fail (a different errno,
 * a successful pop, or a crash); see docs/requirements/VQ.md.
 */
#define _DEFAULT_SOURCE		/* MAP_NORESERVE, sigaction, mprotect */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "vbt-dev.h"
#include "vbt-split.h"

#define GUEST_GPA	0x100000u	/* ring, indirect tables, ordinary buffers: one region */
#define GUEST_SIZE	(1u << 20)
#define BUF_GPA		0x40000000u	/* buffer guest: possibly many small regions; highest */
#define QSZ		8u
#define MAX_REGIONS	(2u * VBT_MAX_REGIONS + 4u)

#define F_BASE		(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC))
#define F_EVIDX		(F_BASE | VB_BIT(VB_VIRTIO_F_EVENT_IDX))

struct cfg {
	uint64_t features;	/* offered by the device and accepted by the driver */
	size_t	 buf_region;	/* region size of the buffer guest, 0: one region */
	size_t	 buf_size;	/* bytes of the buffer guest */
};

struct fix {
	struct cfg		cfg;
	struct vbt_guest	g;	/* GUEST_GPA: rings, tables, plain buffers */
	struct vbt_guest	b;	/* BUF_GPA: buffers, cut into cfg.buf_region regions */
	struct vb_mem		mem;	/* g's and b's regions together */
	struct vb_mem_region	regions[MAX_REGIONS];
	struct vbt_split	r;
	struct vbt_dev		d;
	struct vb_vq		*vq;
	unsigned int		config_changes;	/* transport counts before a violation */
	unsigned int		needs_reset;
};

static struct fix fixture;

static struct cfg cfg_default = { F_BASE, 0, 4096 };
static struct cfg cfg_evidx = { F_EVIDX, 0, 4096 };
static struct cfg cfg_plain = { VB_BIT(VB_VIRTIO_F_VERSION_1), 0, 4096 };
static struct cfg cfg_in_order = { F_BASE | VB_BIT(VB_VIRTIO_F_IN_ORDER), 0, 4096 };
static struct cfg cfg_bytes = { F_BASE, 1, 64 };	/* every byte its own region */
static struct cfg cfg_sevens = { F_BASE, 7, 448 };	/* 7-byte regions */

/* The driver's side of initialisation (virtio 1.2, 3.1.1), queue 0 on f->r. */
static void bring_up(struct fix *f)
{
	assert_int_equal(vbt_dev_negotiate(&f->d, f->cfg.features), 0);
	assert_int_equal(vbt_dev_queue(&f->d, 0, QSZ, f->r.desc_gpa, f->r.avail_gpa,
				       f->r.used_gpa), 0);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	f->vq = vb_dev_queue(f->d.dev, 0);
	assert_true(vb_vq_is_ready(f->vq));
}

static int setup(void **state)
{
	struct fix *f = &fixture;
	const struct cfg *cfg = *state ? *state : &cfg_default;

	memset(f, 0, sizeof(*f));
	f->cfg = *cfg;
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	assert_int_equal(vbt_guest_init(&f->b, BUF_GPA, cfg->buf_size, cfg->buf_region), 0);
	assert_int_equal(vb_mem_init(&f->mem, f->regions, MAX_REGIONS), 0);
	for (uint32_t i = 0; i < f->g.mem.n_regions; i++)
		assert_int_equal(vb_mem_add(&f->mem, &f->g.regions[i]), 0);
	for (uint32_t i = 0; i < f->b.mem.n_regions; i++)
		assert_int_equal(vb_mem_add(&f->mem, &f->b.regions[i]), 0);
	vbt_split_init(&f->r, &f->g, QSZ);
	assert_int_equal(vbt_dev_init(&f->d, &f->mem, cfg->features, 1, 256), 0);
	bring_up(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_guest_fini(&f->b);
	vbt_guest_fini(&f->g);
	return 0;
}

/* Restrict the region of f->mem that holds gpa (the core sees f->mem, not g's or b's). */
static void set_flags(struct fix *f, uint64_t gpa, uint32_t flags)
{
	for (uint32_t i = 0; i < f->mem.n_regions; i++) {
		if (gpa - f->regions[i].guest_addr < f->regions[i].size) {
			f->regions[i].flags = flags;
			return;
		}
	}
	fail_msg("no region holds 0x%llx", (unsigned long long)gpa);
}

/* A plain buffer in g filled with a pattern. */
static uint64_t gbuf(struct fix *f, size_t len, uint8_t seed)
{
	uint64_t gpa = vbt_guest_alloc(&f->g, len, 8);
	uint8_t *p = vbt_guest_ptr(&f->g, gpa);

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i);
	return gpa;
}

static int pop1(struct fix *f)
{
	struct vb_iov rd[8], wr[8];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);

	return vb_vq_pop(f->vq, &c);
}

/* One request/response through the queue: the queue works. */
static void round_trip(struct fix *f)
{
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t in = gbuf(f, 4, 1), out = gbuf(f, 4, 0);
	struct vbt_buf bufs[] = { { in, 4, false }, { out, 4, true } };
	uint8_t got[4];
	uint32_t id, len;
	uint16_t head = vbt_split_add(&f->r, bufs, 2, false);

	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, head);
	assert_int_equal(vb_chain_read(&c, 0, got, 4), 4);
	assert_memory_equal(got, vbt_guest_ptr(&f->g, in), 4);
	assert_int_equal(vb_chain_write(&c, 0, "ok!", 4), 4);
	assert_int_equal(vb_vq_push(f->vq, &c, 4), 0);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, 4);
	assert_string_equal((const char *)vbt_guest_ptr(&f->g, out), "ok!");
}

/*
 * The common consequences of a violation (VB-REQ-VQ-100, VB-REQ-VQ-101): the specific errno
 * (ret) is err and is sticky in vb_vq_error(); the device shows NEEDS_RESET, the transport
 * got one configuration change (DRIVER_OK is set) and one needs_reset; every later data-path
 * call says -ENOTRECOVERABLE; a device reset and a new handshake make the queue work again.
 */
static void expect_broken(struct fix *f, int ret, int err)
{
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vb_vq_stats st;

	assert_int_equal(ret, err);
	assert_int_equal(vb_vq_error(f->vq), err);
	assert_true(vb_dev_get_status(f->d.dev) & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(f->d.config_changes, f->config_changes + 1);
	assert_int_equal(f->d.needs_reset, f->needs_reset + 1);
	assert_false(vb_vq_is_ready(f->vq));
	assert_int_equal(vb_vq_pop(f->vq, &c), -ENOTRECOVERABLE);
	assert_int_equal(vb_vq_pop_batch(f->vq, &c, 1), -ENOTRECOVERABLE);
	c.head = 0;
	assert_int_equal(vb_vq_push(f->vq, &c, 0), -ENOTRECOVERABLE);
	assert_int_equal(vb_vq_push_batch(f->vq, &c, &(uint32_t){ 0 }, 1), -ENOTRECOVERABLE);
	assert_false(vb_vq_should_notify(f->vq));
	assert_int_equal(vb_dev_kick(f->d.dev, 0), -ENOTRECOVERABLE);
	vb_vq_get_stats(f->vq, &st);
	assert_true(st.errors >= 1);
	/* Reported once: the calls above did not notify again. */
	assert_int_equal(f->d.config_changes, f->config_changes + 1);
	assert_int_equal(f->d.needs_reset, f->needs_reset + 1);

	vb_dev_reset(f->d.dev);
	assert_int_equal(vb_dev_get_status(f->d.dev), 0);
	assert_int_equal(vb_vq_error(f->vq), 0);
	set_flags(f, BUF_GPA, VB_MEM_F_READ | VB_MEM_F_WRITE);
	vbt_split_init(&f->r, &f->g, QSZ);
	bring_up(f);
	round_trip(f);
	assert_int_equal(vb_vq_error(f->vq), 0);
	f->config_changes = f->d.config_changes;
	f->needs_reset = f->d.needs_reset;
}

/* ---------------------------------------------------------------------------------------- */
/* Positive behaviour                                                                        */

/* @verify{VB-REQ-VQ-001} @verify{VB-REQ-VQ-002} a chain round-trips with zero-copy iovecs */
static void test_vq_split__pop_push_round_trip(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t in = vbt_guest_alloc(&f->g, 5, 1), out = vbt_guest_alloc(&f->g, 8, 1);
	struct vbt_buf bufs[] = { { in, 5, false }, { out, 8, true } };
	uint32_t id, len;

	memcpy(vbt_guest_ptr(&f->g, in), "hello", 5);
	uint16_t head = vbt_split_add(&f->r, bufs, 2, false);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, head);
	assert_int_equal(c.n_read, 1);
	assert_int_equal(c.n_write, 1);
	assert_int_equal(c.read_len, 5);
	assert_int_equal(c.write_len, 8);
	assert_ptr_equal(rd[0].base, vbt_guest_ptr(&f->g, in));	/* zero copy */
	assert_int_equal(vb_chain_write(&c, 0, "HELLO", 5), 5);
	assert_int_equal(vb_vq_pop(f->vq, &c), 0);
	assert_int_equal(vb_vq_push(f->vq, &c, 5), 0);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, 5);
	assert_memory_equal(vbt_guest_ptr(&f->g, out), "HELLO", 5);
}

/* Pop a chain of nr readable and nw writable buffers (direct or indirect) and check every
 * iovec and byte. */
static void multi_chain(struct fix *f, bool indirect)
{
	struct vb_iov rd[8], wr[8];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vbt_buf bufs[5];
	const uint32_t lens[5] = { 3, 17, 1, 64, 9 };
	uint8_t got[85], want[85];
	size_t off = 0;
	uint32_t id, len;
	uint16_t head;

	for (unsigned int i = 0; i < 5; i++) {
		bufs[i].gpa = gbuf(f, lens[i], (uint8_t)(i * 40));
		bufs[i].len = lens[i];
		bufs[i].write = i >= 3;
		if (i < 3) {
			memcpy(want + off, vbt_guest_ptr(&f->g, bufs[i].gpa), lens[i]);
			off += lens[i];
		}
	}
	head = vbt_split_add(&f->r, bufs, 5, indirect);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, head);
	assert_int_equal(c.n_read, 3);
	assert_int_equal(c.n_write, 2);
	assert_int_equal(c.read_len, 21);
	assert_int_equal(c.write_len, 73);
	for (unsigned int i = 0; i < 3; i++) {
		assert_ptr_equal(rd[i].base, vbt_guest_ptr(&f->g, bufs[i].gpa));
		assert_int_equal(rd[i].len, lens[i]);
	}
	for (unsigned int i = 0; i < 2; i++) {
		assert_ptr_equal(wr[i].base, vbt_guest_ptr(&f->g, bufs[3 + i].gpa));
		assert_int_equal(wr[i].len, lens[3 + i]);
	}
	assert_int_equal(vb_chain_read(&c, 0, got, 21), 21);
	assert_memory_equal(got, want, 21);
	memset(got, 0xA5, sizeof(got));
	assert_int_equal(vb_chain_write(&c, 0, got, 73), 73);
	assert_int_equal(vb_vq_push(f->vq, &c, 73), 0);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, 73);
	assert_memory_equal(vbt_guest_ptr(&f->g, bufs[3].gpa), got, 64);
	assert_memory_equal(vbt_guest_ptr(&f->g, bufs[4].gpa), got, 9);
}

/* @verify{VB-REQ-VQ-001} @verify{VB-REQ-VQ-002} a 5-descriptor chain, 3 readable then 2
 * writable, maps to 3 + 2 iovecs in order */
static void test_vq_split__multi_descriptor_chain(void **state)
{
	multi_chain(*state, false);
	multi_chain(*state, false);
}

/* @verify{VB-REQ-VQ-001} @verify{VB-REQ-VQ-007} an indirect table is walked like a chain
 * (virtio 1.2, 2.7.5.3) */
static void test_vq_split__indirect_chain(void **state)
{
	struct fix *f = *state;

	multi_chain(f, true);
	multi_chain(f, false);	/* direct and indirect mix on one ring */
	multi_chain(f, true);
}

/* Number of regions of size rs that [off, off + len) touches. */
static unsigned int pieces(size_t off, size_t len, size_t rs)
{
	return (unsigned int)((off + len - 1) / rs - off / rs + 1);
}

static void split_regions(struct fix *f, bool indirect)
{
	const size_t rs = f->cfg.buf_region;
	struct vb_iov rd[64], wr[64];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	/* A readable buffer at an odd offset, a writable one right after it. */
	const size_t roff = 3, rlen = f->b.size / 2 - 5, woff = f->b.size / 2, wlen = f->b.size / 2;
	uint64_t rgpa = BUF_GPA + roff, wgpa = BUF_GPA + woff;
	struct vbt_buf bufs[] = { { rgpa, (uint32_t)rlen, false }, { wgpa, (uint32_t)wlen, true } };
	uint8_t *rp = vbt_guest_ptr(&f->b, rgpa), got[256], pat[256];
	uint32_t id, len;
	uint16_t head;

	for (size_t i = 0; i < rlen; i++)
		rp[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < wlen; i++)
		pat[i] = (uint8_t)(0xF0 ^ i);
	head = vbt_split_add(&f->r, bufs, 2, indirect);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, head);
	assert_int_equal(c.n_read, pieces(roff, rlen, rs));
	assert_int_equal(c.n_write, pieces(woff, wlen, rs));
	assert_true(c.n_read > 3);
	assert_int_equal(c.read_len, rlen);
	assert_int_equal(c.write_len, wlen);
	/* Each piece is inside one region and they follow each other in the host. */
	for (unsigned int i = 0; i < c.n_read; i++) {
		assert_true(rd[i].len >= 1 && rd[i].len <= rs);
		assert_ptr_equal(rd[i].base, i ? (uint8_t *)rd[i - 1].base + rd[i - 1].len :
						 (void *)rp);
	}
	assert_int_equal(vb_chain_read(&c, 0, got, rlen), (int)rlen);
	assert_memory_equal(got, rp, rlen);
	assert_int_equal(vb_chain_write(&c, 0, pat, wlen), (int)wlen);
	assert_int_equal(vb_vq_push(f->vq, &c, (uint32_t)wlen), 0);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, wlen);
	assert_memory_equal(vbt_guest_ptr(&f->b, wgpa), pat, wlen);
}

/* @verify{VB-REQ-VQ-001} buffers over 1-byte or 7-byte regions split into one iovec per
 * region, in order, direct and indirect */
static void test_vq_split__chain_split_across_regions(void **state)
{
	split_regions(*state, false);
	split_regions(*state, true);
}

/* @verify{VB-REQ-VQ-005} @verify{VB-REQ-VQ-030} free-running 16-bit indices wrap past 65535
 * on both rings */
static void test_vq_split__index_wrap(void **state)
{
	struct fix *f = *state;
	struct vb_vq_pos pos = { .avail_idx = 65530, .used_idx = 65530 };

	assert_int_equal(vb_vq_set_pos(f->vq, &pos), 0);
	/* The driver's ring as a restored queue would have it. */
	vbt_split_set_avail_idx(&f->r, 65530);
	f->r.used->idx = vb_cpu_to_le16(65530);
	f->r.last_used = 65530;
	for (unsigned int i = 0; i < 3 * QSZ; i++) {
		multi_chain(f, (i & 1) != 0);
		assert_int_equal(vbt_split_used_idx(&f->r), (uint16_t)(65531 + i));
	}
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, (uint16_t)(65530 + 3 * QSZ));
	assert_int_equal(pos.used_idx, (uint16_t)(65530 + 3 * QSZ));
	/* A full ring straddling the wrap, popped and pushed as batches. */
	{
		struct vb_iov rd[QSZ][2], wr[QSZ][2];
		struct vb_chain c[QSZ];
		uint32_t written[QSZ], id, len;
		uint16_t heads[QSZ];
		uint64_t out = gbuf(f, QSZ, 0);

		for (unsigned int i = 0; i < QSZ; i++) {
			struct vbt_buf b = { out, QSZ, true };

			c[i] = (struct vb_chain)VB_CHAIN_INIT(rd[i], wr[i]);
			heads[i] = vbt_split_add(&f->r, &b, 1, false);
			written[i] = i;
		}
		assert_int_equal(vb_vq_pop_batch(f->vq, c, QSZ), QSZ);
		assert_int_equal(vb_vq_push_batch(f->vq, c, written, QSZ), 0);
		for (unsigned int i = 0; i < QSZ; i++) {
			assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
			assert_int_equal(id, heads[i]);
			assert_int_equal(len, i);
		}
	}
}

/* Fault-based watch on the page holding used->flags and used->idx (batch test). */
static struct {
	uint8_t				*page;
	size_t				len;
	const struct vb_vring_used_elem	*elems;
	unsigned int			n;
	volatile sig_atomic_t		faults;
	volatile sig_atomic_t		present;	/* elements complete at the first store */
	volatile sig_atomic_t		idx_before;	/* used->idx at the first store */
	struct sigaction		old;
} watch;

static void watch_segv(int sig, siginfo_t *si, void *uc)
{
	uint8_t *a = si->si_addr;

	(void)sig;
	(void)uc;
	if (a < watch.page || a >= watch.page + watch.len) {
		/* Not ours: the old handler reports the fault when it recurs. */
		sigaction(SIGSEGV, &watch.old, NULL);
		return;
	}
	if (watch.faults++ == 0) {
		const vb_le16 *idx = (const vb_le16 *)(watch.elems) - 1;
		sig_atomic_t ok = 0;

		for (unsigned int i = 0; i < watch.n; i++) {
			if (vb_le32_to_cpu(watch.elems[i].len) != 100u + i)
				break;
			ok++;
		}
		watch.present = ok;
		watch.idx_before = vb_le16_to_cpu(*idx);
	}
	mprotect(watch.page, watch.len, PROT_READ | PROT_WRITE);
}

/* @verify{VB-REQ-VQ-020} push_batch writes every used element before the single store of
 * used->idx, which covers the whole batch; pop_batch takes what is available */
static void test_vq_split__batch_pop_push(void **state)
{
	struct fix *f = *state;
	const size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct vb_iov rd[QSZ][2], wr[QSZ][2];
	struct vb_chain c[QSZ];
	uint32_t written[QSZ], id, len;
	uint16_t heads[QSZ];
	uint64_t out = gbuf(f, 200, 0), pg, desc, avail;
	struct sigaction sa;
	struct vb_vq_stats st;

	/* Re-place the ring so that used->flags/idx end a page and the elements start the
	 * next one: the idx page can be write-protected while the elements stay writable. */
	vb_dev_reset(f->d.dev);
	desc = vbt_guest_alloc(&f->g, 16u * QSZ, 16);
	avail = vbt_guest_alloc(&f->g, 6u + 2u * QSZ, 2);
	pg = vbt_guest_alloc(&f->g, 2 * page, page);
	vbt_split_init_at(&f->r, &f->g, QSZ, desc, avail, pg + page - 4);
	bring_up(f);

	for (unsigned int i = 0; i < QSZ; i++)
		c[i] = (struct vb_chain)VB_CHAIN_INIT(rd[i], wr[i]);
	/* Fewer available than asked: pop_batch returns what there is. */
	for (unsigned int i = 0; i < 3; i++) {
		struct vbt_buf b = { out, 200, true };

		heads[i] = vbt_split_add(&f->r, &b, 1, false);
	}
	assert_int_equal(vb_vq_pop_batch(f->vq, c, QSZ), 3);
	assert_int_equal(vb_vq_pop_batch(f->vq, &c[3], QSZ - 3), 0);
	for (unsigned int i = 3; i < QSZ; i++) {
		struct vbt_buf b = { out, 200, true };

		heads[i] = vbt_split_add(&f->r, &b, 1, false);
	}
	assert_int_equal(vb_vq_pop_batch(f->vq, &c[3], QSZ - 3), QSZ - 3);
	for (unsigned int i = 0; i < QSZ; i++) {
		assert_int_equal(c[i].head, heads[i]);
		written[i] = 100u + i;
	}

	memset(&watch, 0, sizeof(watch));
	watch.page = vbt_guest_ptr(&f->g, pg);
	watch.len = page;
	watch.elems = f->r.used_ring;
	watch.n = QSZ;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = watch_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &watch.old), 0);
	assert_int_equal(mprotect(watch.page, page, PROT_READ), 0);
	int ret = vb_vq_push_batch(f->vq, c, written, QSZ);
	mprotect(watch.page, page, PROT_READ | PROT_WRITE);
	sigaction(SIGSEGV, &watch.old, NULL);

	assert_int_equal(ret, 0);
	assert_int_equal(watch.faults, 1);		/* used->idx was stored ... */
	assert_int_equal(watch.idx_before, 0);		/* ... not before this batch ... */
	assert_int_equal(watch.present, QSZ);		/* ... after every element */
	assert_int_equal(vbt_split_used_idx(&f->r), QSZ);
	for (unsigned int i = 0; i < QSZ; i++) {
		assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
		assert_int_equal(id, heads[i]);
		assert_int_equal(len, 100u + i);
	}
	/* One notify decision for the batch. */
	assert_int_equal(vb_vq_notify(f->vq), 1);
	assert_int_equal(f->d.notifies[0], 1);
	vb_vq_get_stats(f->vq, &st);
	assert_int_equal(st.popped, QSZ);
	assert_int_equal(st.pushed, QSZ);
	/* An empty batch is a no-op. */
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 0), 0);
	assert_int_equal(vbt_split_used_idx(&f->r), QSZ);
}

/* @verify{VB-REQ-VQ-020} @verify{VB-REQ-VQ-100} a violation met inside a batch: the chains
 * before it are handed out, the queue is broken and the next call says so */
static void test_vq_split__batch_pop_stops_at_violation(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[3][2], wr[3][2];
	struct vb_chain c[3] = { VB_CHAIN_INIT(rd[0], wr[0]), VB_CHAIN_INIT(rd[1], wr[1]),
				 VB_CHAIN_INIT(rd[2], wr[2]) };
	struct vbt_buf b = { gbuf(f, 8, 0), 8, false };

	vbt_split_add(&f->r, &b, 1, false);
	vbt_split_add(&f->r, &b, 1, false);
	vbt_split_publish(&f->r, QSZ);		/* head out of range */
	assert_int_equal(vb_vq_pop_batch(f->vq, c, 3), 2);
	assert_int_equal(c[0].head, 0);
	assert_int_equal(c[1].head, 1);
	/* The next call reports the broken queue; vb_vq_error() names the violation. */
	assert_int_equal(vb_vq_pop_batch(f->vq, c, 3), -ENOTRECOVERABLE);
	expect_broken(f, vb_vq_error(f->vq), -EPROTO);
}

/* @verify{VB-REQ-VQ-010} without EVENT_IDX, VRING_AVAIL_F_NO_INTERRUPT suppresses used
 * buffer notifications; used_event is ignored */
static void test_vq_split__no_interrupt(void **state)
{
	struct fix *f = *state;
	struct vb_vq_stats st;

	vbt_split_set_used_event(&f->r, 1000);		/* ignored without EVENT_IDX */
	round_trip(f);
	assert_true(vb_vq_should_notify(f->vq));
	assert_false(vb_vq_should_notify(f->vq));	/* nothing used since */
	vbt_split_set_no_interrupt(&f->r, true);
	round_trip(f);
	assert_int_equal(vb_vq_notify(f->vq), 0);
	assert_int_equal(f->d.notifies[0], 0);
	vbt_split_set_no_interrupt(&f->r, false);
	round_trip(f);
	assert_int_equal(vb_vq_notify(f->vq), 1);
	assert_int_equal(f->d.notifies[0], 1);
	vb_vq_get_stats(f->vq, &st);
	assert_int_equal(st.notified, 1);
	assert_int_equal(st.suppressed, 2);
}

static void push_n(struct fix *f, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		round_trip(f);
}

/* @verify{VB-REQ-VQ-011} with EVENT_IDX the driver is notified exactly when the used index
 * moves past used_event, and the NO_INTERRUPT flag is ignored */
static void test_vq_split__event_idx_used_event(void **state)
{
	struct fix *f = *state;

	vbt_split_set_no_interrupt(&f->r, true);	/* must be ignored with EVENT_IDX */
	vbt_split_set_used_event(&f->r, 2);
	push_n(f, 1);					/* used 0 -> 1 */
	assert_true(vb_vq_should_notify(f->vq));	/* first decision after start */
	push_n(f, 1);					/* 1 -> 2: not past 2 */
	assert_false(vb_vq_should_notify(f->vq));
	push_n(f, 1);					/* 2 -> 3: crosses 2 */
	assert_true(vb_vq_should_notify(f->vq));
	push_n(f, 1);					/* 3 -> 4: event behind */
	assert_false(vb_vq_should_notify(f->vq));
	vbt_split_set_used_event(&f->r, 5);
	push_n(f, 2);					/* 4 -> 6 crosses 5 */
	assert_int_equal(vb_vq_notify(f->vq), 1);
	assert_false(vb_vq_should_notify(f->vq));	/* nothing new */
	vbt_split_set_used_event(&f->r, 8);
	push_n(f, 2);					/* 6 -> 8: 8 not yet used */
	assert_int_equal(vb_vq_notify(f->vq), 0);
	push_n(f, 1);					/* 8 -> 9 */
	assert_int_equal(vb_vq_notify(f->vq), 1);
	assert_int_equal(f->d.notifies[0], 2);
}

/* @verify{VB-REQ-VQ-011} @verify{VB-REQ-VQ-005} the used_event comparison works across the
 * 16-bit wrap */
static void test_vq_split__event_idx_used_event_wrap(void **state)
{
	struct fix *f = *state;
	struct vb_vq_pos pos = { .avail_idx = 65532, .used_idx = 65532 };

	assert_int_equal(vb_vq_set_pos(f->vq, &pos), 0);
	vbt_split_set_avail_idx(&f->r, 65532);
	f->r.used->idx = vb_cpu_to_le16(65532);
	f->r.last_used = 65532;
	push_n(f, 1);					/* -> 65533 */
	assert_true(vb_vq_should_notify(f->vq));
	vbt_split_set_used_event(&f->r, 65535);
	push_n(f, 4);					/* 65533 -> 1 crosses 65535 */
	assert_true(vb_vq_should_notify(f->vq));
	vbt_split_set_used_event(&f->r, 3);
	push_n(f, 2);					/* 1 -> 3 */
	assert_false(vb_vq_should_notify(f->vq));
	push_n(f, 1);					/* 3 -> 4 crosses 3 */
	assert_true(vb_vq_should_notify(f->vq));
}

/* @verify{VB-REQ-VQ-012} with EVENT_IDX the device publishes avail_event when it finds the
 * ring empty, so a Linux-style driver kicks for the next buffer, and not while busy */
static void test_vq_split__event_idx_avail_event(void **state)
{
	struct fix *f = *state;
	struct vbt_buf b = { gbuf(f, 8, 0), 8, false };
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint16_t old;

	vbt_split_add(&f->r, &b, 1, false);
	vbt_split_add(&f->r, &b, 1, false);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	/* Busy: the device has not asked for a kick past what it already saw. */
	old = f->r.avail_idx;
	vbt_split_add(&f->r, &b, 1, false);
	assert_false(vbt_split_driver_would_kick(&f->r, true, old, f->r.avail_idx));
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(vb_vq_pop(f->vq, &c), 0);	/* empty: publishes avail_event */
	assert_int_equal(vbt_split_avail_event(&f->r), 3);
	old = f->r.avail_idx;
	vbt_split_add(&f->r, &b, 1, false);
	assert_true(vbt_split_driver_would_kick(&f->r, true, old, f->r.avail_idx));
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	/* Kicks disabled (polling): an empty ring leaves avail_event alone ... */
	vb_vq_disable_kicks(f->vq);
	assert_int_equal(vb_vq_pop(f->vq, &c), 0);
	assert_int_equal(vbt_split_avail_event(&f->r), 3);
	old = f->r.avail_idx;
	vbt_split_add(&f->r, &b, 1, false);
	assert_false(vbt_split_driver_would_kick(&f->r, true, old, f->r.avail_idx));
	/* ... and enabling them again reports the buffer that came meanwhile. */
	assert_true(vb_vq_enable_kicks(f->vq));
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(vb_vq_pop(f->vq, &c), 0);
	assert_int_equal(vbt_split_avail_event(&f->r), 5);
	assert_false(vb_vq_enable_kicks(f->vq));
	old = f->r.avail_idx;
	vbt_split_add(&f->r, &b, 1, false);
	assert_true(vbt_split_driver_would_kick(&f->r, true, old, f->r.avail_idx));
	/* used->flags is not used for kick suppression with EVENT_IDX. */
	assert_false(vbt_split_device_no_notify(&f->r));
}

/* @verify{VB-REQ-VQ-012} without EVENT_IDX, disabling kicks sets VRING_USED_F_NO_NOTIFY and
 * enabling clears it; enable_kicks reports a buffer that arrived while kicks were off */
static void test_vq_split__enable_disable_kicks(void **state)
{
	struct fix *f = *state;
	struct vbt_buf b = { gbuf(f, 8, 0), 8, false };
	uint16_t old;

	assert_false(vbt_split_device_no_notify(&f->r));
	assert_true(vbt_split_driver_would_kick(&f->r, false, 0, 1));
	vb_vq_disable_kicks(f->vq);
	assert_true(vbt_split_device_no_notify(&f->r));
	old = f->r.avail_idx;
	vbt_split_add(&f->r, &b, 1, false);
	assert_false(vbt_split_driver_would_kick(&f->r, false, old, f->r.avail_idx));
	/* The race re-check: the buffer came while kicks were off. */
	assert_true(vb_vq_enable_kicks(f->vq));
	assert_false(vbt_split_device_no_notify(&f->r));
	assert_int_equal(pop1(f), 1);
	assert_false(vb_vq_enable_kicks(f->vq));
	/* A popped-ahead (shadowed) buffer also counts as available. */
	vbt_split_add(&f->r, &b, 1, false);
	vbt_split_add(&f->r, &b, 1, false);
	assert_int_equal(pop1(f), 1);
	vb_vq_disable_kicks(f->vq);
	assert_true(vb_vq_enable_kicks(f->vq));
	assert_int_equal(pop1(f), 1);
	assert_int_equal(pop1(f), 0);
	assert_false(vb_vq_enable_kicks(f->vq));
}

/* @verify{VB-REQ-VQ-030} the ring position reads back as set, and popping and pushing resume
 * at it */
static void test_vq_split__get_set_pos(void **state)
{
	struct fix *f = *state;
	struct vb_vq_pos pos;
	struct vbt_buf b = { gbuf(f, 8, 0), 8, true };
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint16_t head;

	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 0);
	assert_int_equal(pos.used_idx, 0);
	round_trip(f);
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 1);
	assert_int_equal(pos.used_idx, 1);

	/* Two requests in flight when the state was saved: avail 1003, used 1001. Split rings
	 * ignore the wrap counters. */
	pos = (struct vb_vq_pos){ .avail_idx = 1003, .used_idx = 1001, .avail_wrap = false,
				  .used_wrap = true };
	assert_int_equal(vb_vq_set_pos(f->vq, &pos), 0);
	memset(&pos, 0, sizeof(pos));
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 1003);
	assert_int_equal(pos.used_idx, 1001);
	vbt_split_set_avail_idx(&f->r, 1003);
	head = vbt_split_add(&f->r, &b, 1, false);	/* avail slot 1003 & 7 */
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, head);
	assert_int_equal(vb_vq_push(f->vq, &c, 8), 0);
	/* Pushed at used slot 1001 & 7, used->idx 1002. */
	assert_int_equal(vbt_split_used_idx(&f->r), 1002);
	assert_int_equal(vb_le32_to_cpu(f->r.used_ring[1001 & (QSZ - 1)].id), head);
	assert_int_equal(vb_le32_to_cpu(f->r.used_ring[1001 & (QSZ - 1)].len), 8);
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 1004);
	assert_int_equal(pos.used_idx, 1002);

	/* Set while the queue is stopped, kept across disable/enable. */
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, false), 0);
	pos = (struct vb_vq_pos){ .avail_idx = 7, .used_idx = 7 };
	assert_int_equal(vb_vq_set_pos(f->vq, &pos), 0);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), 0);
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 7);
	assert_int_equal(pos.used_idx, 7);
}

/* Linux's vring_size() for comparison (include/uapi/linux/virtio_ring.h). */
static uint64_t linux_vring_size(uint64_t num, uint64_t align)
{
	return ((16u * num + 2u * (3u + num) + align - 1) & ~(align - 1)) + 2u * 3u + 8u * num;
}

/* @verify{VB-REQ-VQ-040} legacy contiguous layout: area addresses and total size for both
 * alignments, invalid arguments, and the 64-bit wrap */
static void test_vq_split__legacy_layout_arithmetic(void **state)
{
	uint64_t d, a, u, total;

	(void)state;
	total = vb_vq_legacy_layout(256, 4096, 0x10000, &d, &a, &u);
	assert_int_equal(total, 10246);
	assert_int_equal(total, linux_vring_size(256, 4096));
	assert_int_equal(d, 0x10000);
	assert_int_equal(a, 0x10000 + 4096);
	assert_int_equal(u, 0x10000 + 8192);
	total = vb_vq_legacy_layout(8, 4, 0x1000, &d, &a, &u);
	assert_int_equal(total, linux_vring_size(8, 4));
	assert_int_equal(d, 0x1000);
	assert_int_equal(a, 0x1000 + 128);
	assert_int_equal(u, 0x1000 + 152);		/* 128 + 6 + 16 = 150, rounded to 4 */
	assert_int_equal(total, 152 + 6 + 64);
	for (uint32_t num = 1; num <= 32768; num <<= 1) {
		assert_int_equal(vb_vq_legacy_layout((uint16_t)num, 4096, 0, &d, &a, &u),
				 linux_vring_size(num, 4096));
		assert_int_equal(vb_vq_legacy_layout((uint16_t)num, 4, 0, &d, &a, &u),
				 linux_vring_size(num, 4));
		assert_int_equal(u & 3, 0);
	}
	/* Invalid: size 0 or not a power of two; alignment below 4 or not a power of two. */
	assert_int_equal(vb_vq_legacy_layout(0, 4096, 0, &d, &a, &u), 0);
	assert_int_equal(vb_vq_legacy_layout(3, 4096, 0, &d, &a, &u), 0);
	assert_int_equal(vb_vq_legacy_layout(8, 2, 0, &d, &a, &u), 0);
	assert_int_equal(vb_vq_legacy_layout(8, 0, 0, &d, &a, &u), 0);
	assert_int_equal(vb_vq_legacy_layout(8, 4097, 0, &d, &a, &u), 0);
	/* The last byte may be UINT64_MAX, not one past it. */
	total = linux_vring_size(8, 4096);
	assert_int_equal(vb_vq_legacy_layout(8, 4096, UINT64_MAX - total + 1, &d, &a, &u), total);
	assert_int_equal(vb_vq_legacy_layout(8, 4096, UINT64_MAX - total + 2, &d, &a, &u), 0);
}

/* @verify{VB-REQ-VQ-040} a ring placed by the legacy layout works end to end */
static void test_vq_split__legacy_layout_ring_works(void **state)
{
	struct fix *f = *state;
	static const uint32_t aligns[] = { 4096, 4 };

	for (unsigned int k = 0; k < 2; k++) {
		uint64_t d, a, u, base, total;

		total = vb_vq_legacy_layout(QSZ, aligns[k], 0, &d, &a, &u);
		base = vbt_guest_alloc(&f->g, total, 4096);
		assert_int_equal(vb_vq_legacy_layout(QSZ, aligns[k], base, &d, &a, &u), total);
		vb_dev_reset(f->d.dev);
		vbt_split_init_at(&f->r, &f->g, QSZ, d, a, u);
		bring_up(f);
		for (unsigned int i = 0; i < 2 * QSZ; i++)
			multi_chain(f, (i & 1) != 0);
	}
}

/* @verify{VB-REQ-VQ-050} the statistics count pops, pushes, notifications, suppressions and
 * violations, and survive a device reset */
static void test_vq_split__stats(void **state)
{
	struct fix *f = *state;
	struct vb_vq_stats st;

	vb_vq_get_stats(f->vq, &st);
	assert_int_equal(st.popped + st.pushed + st.notified + st.suppressed + st.errors, 0);
	push_n(f, 3);
	assert_int_equal(vb_vq_notify(f->vq), 1);
	assert_int_equal(vb_vq_notify(f->vq), 0);	/* nothing new: suppressed */
	vb_vq_get_stats(f->vq, &st);
	assert_int_equal(st.popped, 3);
	assert_int_equal(st.pushed, 3);
	assert_int_equal(st.notified, 1);
	assert_int_equal(st.suppressed, 1);
	assert_int_equal(st.errors, 0);
	vbt_split_publish(&f->r, QSZ);
	assert_int_equal(pop1(f), -EPROTO);
	vb_vq_get_stats(f->vq, &st);
	assert_int_equal(st.errors, 1);
	assert_int_equal(st.popped, 3);
	vb_dev_reset(f->d.dev);
	vb_vq_get_stats(f->vq, &st);
	assert_int_equal(st.popped, 3);
	assert_int_equal(st.errors, 1);
}

/* @verify{VB-REQ-VQ-003} a queue that is not live refuses pop and push with -EAGAIN and keeps
 * its position; enabling it again resumes */
static void test_vq_split__not_live_eagain(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[2], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vbt_buf b = { gbuf(f, 8, 0), 8, false };
	uint32_t id, len;

	vbt_split_add(&f->r, &b, 1, false);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, false), 0);
	assert_false(vb_vq_is_ready(f->vq));
	vbt_split_add(&f->r, &b, 1, false);
	assert_int_equal(pop1(f), -EAGAIN);
	assert_int_equal(vb_vq_pop_batch(f->vq, &c, 1), -EAGAIN);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), -EAGAIN);
	assert_false(vb_vq_should_notify(f->vq));
	assert_int_equal(vb_dev_kick(f->d.dev, 0), -EAGAIN);
	assert_int_equal(vb_vq_error(f->vq), 0);
	assert_false(vb_dev_get_status(f->d.dev) & VB_VIRTIO_S_NEEDS_RESET);
	assert_int_equal(vb_dev_queue_enable(f->d.dev, 0, true), 0);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);
	assert_int_equal(pop1(f), 1);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);

	/* Enabled but DRIVER_OK not yet set: not live either. */
	vb_dev_reset(f->d.dev);
	vbt_split_init(&f->r, &f->g, QSZ);
	assert_int_equal(vbt_dev_negotiate(&f->d, f->cfg.features), 0);
	assert_int_equal(vbt_dev_queue(&f->d, 0, QSZ, f->r.desc_gpa, f->r.avail_gpa,
				       f->r.used_gpa), 0);
	vbt_split_add(&f->r, &b, 1, false);
	assert_int_equal(pop1(f), -EAGAIN);
	assert_int_equal(vbt_dev_driver_ok(&f->d), 0);
	assert_int_equal(pop1(f), 1);
}

/* @verify{VB-REQ-VQ-004} push refuses a written length above the chain's writable bytes,
 * pushes nothing and leaves the queue healthy */
static void test_vq_split__push_written_too_long(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[2][2], wr[2][2];
	struct vb_chain c[2] = { VB_CHAIN_INIT(rd[0], wr[0]), VB_CHAIN_INIT(rd[1], wr[1]) };
	struct vbt_buf b = { gbuf(f, 8, 0), 8, true };
	uint32_t written[2] = { 8, 9 };

	vbt_split_add(&f->r, &b, 1, false);
	vbt_split_add(&f->r, &b, 1, false);
	assert_int_equal(vb_vq_pop_batch(f->vq, c, 2), 2);
	assert_int_equal(vb_vq_push(f->vq, &c[0], 9), -EINVAL);
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 2), -EINVAL);
	assert_int_equal(vbt_split_used_idx(&f->r), 0);
	assert_int_equal(vb_vq_error(f->vq), 0);
	assert_true(vb_vq_is_ready(f->vq));
	written[1] = 8;
	assert_int_equal(vb_vq_push_batch(f->vq, c, written, 2), 0);
	assert_int_equal(vbt_split_used_idx(&f->r), 2);
}

/* @verify{VB-REQ-VQ-006} with VIRTIO_F_IN_ORDER negotiated chains are popped and used in
 * ring order */
static void test_vq_split__in_order(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4][2], wr[4][2];
	struct vb_chain c[4];
	uint32_t written[4], id, len;
	uint16_t heads[4];
	uint64_t out = gbuf(f, 16, 0);

	assert_true(vb_dev_has_feature(f->d.dev, VB_VIRTIO_F_IN_ORDER));
	for (unsigned int round = 0; round < 3; round++) {
		for (unsigned int i = 0; i < 4; i++) {
			struct vbt_buf b[2] = { { out, 4, false }, { out + 8, 8, true } };

			c[i] = (struct vb_chain)VB_CHAIN_INIT(rd[i], wr[i]);
			heads[i] = vbt_split_add(&f->r, b, 2, false);
			written[i] = i;
		}
		assert_int_equal(vb_vq_pop_batch(f->vq, c, 4), 4);
		assert_int_equal(vb_vq_push(f->vq, &c[0], 0), 0);
		assert_int_equal(vb_vq_push_batch(f->vq, &c[1], &written[1], 3), 0);
		for (unsigned int i = 0; i < 4; i++) {
			assert_int_equal(c[i].head, heads[i]);
			assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
			assert_int_equal(id, heads[i]);
			assert_int_equal(len, i);
		}
	}
}

/* @verify{VB-REQ-VQ-001} chains of exactly the queue size, and indirect tables whose entries
 * are all chained, are accepted (the loop bounds are not off by one) */
static void test_vq_split__longest_chains_accepted(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[QSZ + 1], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vbt_buf bufs[QSZ];
	uint64_t data = gbuf(f, 64, 0);

	for (unsigned int i = 0; i < QSZ; i++)
		bufs[i] = (struct vbt_buf){ data + i, 1, false };
	vbt_split_add(&f->r, bufs, QSZ, false);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.n_read, QSZ);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);
	vbt_split_add(&f->r, bufs, QSZ, true);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.n_read, QSZ);
	/* Zero-length descriptors are skipped, not mapped. */
	vbt_split_put_desc(&f->r, 0, 0xdead0000u, 0, VB_VRING_DESC_F_NEXT, 1);
	vbt_split_put_desc(&f->r, 1, data, 4, 0, 0);
	vbt_split_publish(&f->r, 0);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.n_read, 1);
	assert_int_equal(c.read_len, 4);
}

/* ---------------------------------------------------------------------------------------- */
/* Hostile drivers: one test per check in vq-split.c                                        */

/* @verify{VB-REQ-VQ-100} @verify{VB-REQ-VQ-101} @verify{VB-REQ-VQ-110} a direct loop
 * a -> b -> a ends in -ELOOP (each descriptor has bytes, so without the bound the walk would
 * run out of iovecs and say -E2BIG instead) */
static void test_vq_split__rejects_direct_loop(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0);

	vbt_split_put_desc(&f->r, 2, data, 4, VB_VRING_DESC_F_NEXT, 5);
	vbt_split_put_desc(&f->r, 5, data + 4, 4, VB_VRING_DESC_F_NEXT, 2);
	vbt_split_publish(&f->r, 2);
	expect_broken(f, pop1(f), -ELOOP);
}

/* @verify{VB-REQ-VQ-110} a chain through every descriptor back to its head (no shorter
 * loop) ends in -ELOOP */
static void test_vq_split__rejects_chain_longer_than_queue(void **state)
{
	struct fix *f = *state;
	struct vb_iov rd[4 * QSZ], wr[2];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	uint64_t data = gbuf(f, 16, 0);

	for (uint16_t i = 0; i < QSZ; i++)
		vbt_split_put_desc(&f->r, i, data, 1, VB_VRING_DESC_F_NEXT,
				   (uint16_t)((i + 1) % QSZ));
	vbt_split_publish(&f->r, 3);
	expect_broken(f, vb_vq_pop(f->vq, &c), -ELOOP);
}

/* @verify{VB-REQ-VQ-111} a loop inside an indirect table (0 -> 1 -> 2 -> 3 -> 1) ends in
 * -ELOOP */
static void test_vq_split__rejects_indirect_loop(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0), t = vbt_guest_alloc(&f->g, 4 * 16, 16);

	for (uint16_t i = 0; i < 4; i++)
		vbt_split_put_table_desc(&f->r, t, i, data, 2, VB_VRING_DESC_F_NEXT,
					 (uint16_t)(i == 3 ? 1 : i + 1));
	vbt_split_put_desc(&f->r, 0, t, 4 * 16, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -ELOOP);
}

/* @verify{VB-REQ-VQ-112} an available head index >= queue size is -EPROTO */
static void test_vq_split__rejects_head_out_of_range(void **state)
{
	struct fix *f = *state;

	vbt_split_publish(&f->r, QSZ);
	expect_broken(f, pop1(f), -EPROTO);
	vbt_split_publish(&f->r, 0xFFFF);
	expect_broken(f, pop1(f), -EPROTO);
}

/* @verify{VB-REQ-VQ-113} a next index >= queue size is -EPROTO */
static void test_vq_split__rejects_next_out_of_range(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0);

	vbt_split_put_desc(&f->r, 0, data, 4, VB_VRING_DESC_F_NEXT, QSZ);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
	vbt_split_put_desc(&f->r, 0, data, 4, VB_VRING_DESC_F_NEXT, 0xFFFF);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
}

/* An indirect table of n entries ending exactly where g ends (the guard page follows). */
static uint64_t table_at_end(struct fix *f, unsigned int n)
{
	return f->g.gpa + f->g.size - 16u * n;
}

/* @verify{VB-REQ-VQ-114} a next index beyond an indirect table is -EPROTO; the table ends at
 * the guard page, so reading past it would crash the test */
static void test_vq_split__rejects_indirect_next_out_of_range(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0), t = table_at_end(f, 2);

	/* First entry: the loop budget is not spent yet, so only the range check stops it. */
	vbt_split_put_table_desc(&f->r, t, 0, data, 2, VB_VRING_DESC_F_NEXT, 2);
	vbt_split_put_table_desc(&f->r, t, 1, data, 2, 0, 0);
	vbt_split_put_desc(&f->r, 0, t, 2 * 16, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
	/* Last entry. */
	vbt_split_put_table_desc(&f->r, t, 0, data, 2, VB_VRING_DESC_F_NEXT, 1);
	vbt_split_put_table_desc(&f->r, t, 1, data, 2, VB_VRING_DESC_F_NEXT, 0xFFFF);
	vbt_split_put_desc(&f->r, 0, t, 2 * 16, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
}

/* @verify{VB-REQ-VQ-115} @verify{VB-REQ-VQ-100} @verify{VB-REQ-VQ-101} an INDIRECT
 * descriptor inside an indirect table is -EPROTO */
static void test_vq_split__rejects_nested_indirect(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0);
	uint64_t inner = vbt_guest_alloc(&f->g, 16, 16), t = vbt_guest_alloc(&f->g, 32, 16);

	vbt_split_put_table_desc(&f->r, inner, 0, data, 4, 0, 0);
	vbt_split_put_table_desc(&f->r, t, 0, data, 4, VB_VRING_DESC_F_NEXT, 1);
	vbt_split_put_table_desc(&f->r, t, 1, inner, 16, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_put_desc(&f->r, 0, t, 32, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
}

/* @verify{VB-REQ-VQ-116} INDIRECT together with NEXT is -EPROTO */
static void test_vq_split__rejects_indirect_with_next(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0), t = vbt_guest_alloc(&f->g, 16, 16);

	vbt_split_put_table_desc(&f->r, t, 0, data, 4, 0, 0);
	vbt_split_put_desc(&f->r, 0, t, 16, VB_VRING_DESC_F_INDIRECT | VB_VRING_DESC_F_NEXT, 1);
	vbt_split_put_desc(&f->r, 1, data, 4, 0, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
}

/* @verify{VB-REQ-VQ-117} an INDIRECT descriptor without VIRTIO_F_INDIRECT_DESC negotiated is
 * -EPROTO */
static void test_vq_split__rejects_indirect_not_negotiated(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0), t = vbt_guest_alloc(&f->g, 16, 16);

	assert_false(vb_dev_has_feature(f->d.dev, VB_VIRTIO_F_INDIRECT_DESC));
	vbt_split_put_table_desc(&f->r, t, 0, data, 4, 0, 0);
	vbt_split_put_desc(&f->r, 0, t, 16, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
}

/* @verify{VB-REQ-VQ-118} an indirect table length of 0, not a multiple of 16, or above
 * 32768 entries is -EPROTO */
static void test_vq_split__rejects_bad_indirect_length(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0), t = vbt_guest_alloc(&f->g, 32, 16);
	static const uint32_t bad[] = { 0, 8, 24, 16u * (32768u + 1u) };

	vbt_split_put_table_desc(&f->r, t, 0, data, 4, 0, 0);
	vbt_split_put_table_desc(&f->r, t, 1, data, 4, 0, 0);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vbt_split_put_desc(&f->r, 0, t, bad[i], VB_VRING_DESC_F_INDIRECT, 0);
		vbt_split_publish(&f->r, 0);
		expect_broken(f, pop1(f), -EPROTO);
	}
}

/* @verify{VB-REQ-VQ-119} an indirect table outside guest memory, straddling the end of a
 * region, in a region the device cannot read, or misaligned in the host is -EFAULT */
static void test_vq_split__rejects_indirect_table_outside_memory(void **state)
{
	struct fix *f = *state;
	const uint64_t end = f->g.gpa + f->g.size;
	uint64_t t = vbt_guest_alloc(&f->g, 32, 16);
	struct { uint64_t addr; uint32_t len; } bad[] = {
		{ 0x10, 16 },			/* below every region */
		{ end, 16 },			/* just after g: a hole */
		{ end - 16, 32 },		/* straddles the end of g */
		{ t + 4, 16 },			/* not 8-byte aligned in the host */
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vbt_split_put_desc(&f->r, 0, bad[i].addr, bad[i].len, VB_VRING_DESC_F_INDIRECT, 0);
		vbt_split_publish(&f->r, 0);
		expect_broken(f, pop1(f), -EFAULT);
	}
	/* A table in a region the device may only write. */
	vbt_split_put_desc(&f->r, 0, BUF_GPA, 16, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_publish(&f->r, 0);
	set_flags(f, BUF_GPA, VB_MEM_F_WRITE);
	expect_broken(f, pop1(f), -EFAULT);
}

/* @verify{VB-REQ-VQ-120} a buffer whose address + length wraps 64 bits is -EOVERFLOW, direct
 * and in an indirect table */
static void test_vq_split__rejects_address_wrap(void **state)
{
	struct fix *f = *state;
	uint64_t t = vbt_guest_alloc(&f->g, 16, 16);

	vbt_split_put_desc(&f->r, 0, UINT64_MAX - 15, 32, 0, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EOVERFLOW);
	vbt_split_put_table_desc(&f->r, t, 0, UINT64_MAX, 2, VB_VRING_DESC_F_WRITE, 0);
	vbt_split_put_desc(&f->r, 0, t, 16, VB_VRING_DESC_F_INDIRECT, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EOVERFLOW);
}

/* @verify{VB-REQ-VQ-121} a buffer entirely outside guest memory, or straddling the end of
 * the last region, is -EFAULT */
static void test_vq_split__rejects_buffer_outside_memory(void **state)
{
	struct fix *f = *state;
	const uint64_t bend = BUF_GPA + f->b.size;
	struct { uint64_t addr; uint32_t len; uint16_t flags; } bad[] = {
		{ 0, 4, 0 },					/* below every region */
		{ bend, 1, VB_VRING_DESC_F_WRITE },		/* one past the last region */
		{ bend - 4, 8, 0 },				/* straddles its end */
		{ bend - 4, 5, VB_VRING_DESC_F_WRITE },		/* one byte over */
		{ GUEST_GPA + GUEST_SIZE - 1, 2, 0 },		/* end of g: into a hole */
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		vbt_split_put_desc(&f->r, 0, bad[i].addr, bad[i].len, bad[i].flags, 0);
		vbt_split_publish(&f->r, 0);
		expect_broken(f, pop1(f), -EFAULT);
	}
}

/* @verify{VB-REQ-VQ-122} a writable descriptor into a region the device may only read (and
 * a readable one into a write-only region) is -EFAULT */
static void test_vq_split__rejects_wrong_direction(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0);

	set_flags(f, BUF_GPA, VB_MEM_F_READ);
	vbt_split_put_desc(&f->r, 0, data, 4, VB_VRING_DESC_F_NEXT, 1);
	vbt_split_put_desc(&f->r, 1, BUF_GPA + 8, 4, VB_VRING_DESC_F_WRITE, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EFAULT);

	set_flags(f, BUF_GPA, VB_MEM_F_WRITE);
	vbt_split_put_desc(&f->r, 0, BUF_GPA, 4, 0, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, pop1(f), -EFAULT);
}

/* @verify{VB-REQ-VQ-123} a readable descriptor after a writable one is -EPROTO, direct and
 * indirect */
static void test_vq_split__rejects_readable_after_writable(void **state)
{
	struct fix *f = *state;
	uint64_t data = gbuf(f, 16, 0);
	struct vbt_buf bufs[] = { { data, 4, false }, { data + 4, 4, true },
				  { data + 8, 4, false } };

	vbt_split_add(&f->r, bufs, 3, false);
	expect_broken(f, pop1(f), -EPROTO);
	vbt_split_add(&f->r, bufs, 3, true);
	expect_broken(f, pop1(f), -EPROTO);
}

/* @verify{VB-REQ-VQ-124} avail->idx moved by more than the queue size is -EPROTO; exactly
 * the queue size is fine */
static void test_vq_split__rejects_avail_idx_jump(void **state)
{
	struct fix *f = *state;
	struct vbt_buf b = { gbuf(f, 4, 0), 4, false };

	for (unsigned int i = 0; i < QSZ; i++)
		vbt_split_add(&f->r, &b, 1, false);
	for (unsigned int i = 0; i < QSZ; i++)
		assert_int_equal(pop1(f), 1);
	assert_int_equal(pop1(f), 0);
	/* Fill every slot with a valid head, then jump by num + 1. */
	for (unsigned int i = 0; i < QSZ; i++)
		vbt_split_add(&f->r, &b, 1, false);
	vbt_split_set_avail_idx(&f->r, (uint16_t)(QSZ + QSZ + 1));
	expect_broken(f, pop1(f), -EPROTO);
	/* A jump backwards is a huge jump forwards. */
	vbt_split_add(&f->r, &b, 1, false);
	assert_int_equal(pop1(f), 1);
	vbt_split_set_avail_idx(&f->r, 0);
	expect_broken(f, pop1(f), -EPROTO);
}

/* @verify{VB-REQ-VQ-125} a chain over 4 GiB in total is -E2BIG; exactly 4 GiB - 1 each way is
 * fine. The bytes live in an 8 GiB PROT_NONE reservation added as a region: pop never
 * touches buffer bytes, and if it did the test would crash. */
static void test_vq_split__rejects_chain_over_4gib(void **state)
{
	struct fix *f = *state;
	const uint64_t big = 0x10000000000ull, size = 8ull << 30;
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	void *res = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct vb_mem_region r = { .guest_addr = big, .size = size, .flags = VB_MEM_F_READ |
				   VB_MEM_F_WRITE };

	if (res == MAP_FAILED)
		skip();
	r.host_ptr = res;
	assert_int_equal(vb_mem_add(&f->mem, &r), 0);

	vbt_split_put_desc(&f->r, 0, big, 0x80000000u, VB_VRING_DESC_F_NEXT, 1);
	vbt_split_put_desc(&f->r, 1, big + 0x80000000u, 0x7FFFFFFFu, VB_VRING_DESC_F_NEXT, 2);
	vbt_split_put_desc(&f->r, 2, big + (4ull << 30), 0xFFFFFFFFu, VB_VRING_DESC_F_WRITE, 0);
	vbt_split_publish(&f->r, 0);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.read_len, 0xFFFFFFFFu);
	assert_int_equal(c.write_len, 0xFFFFFFFFu);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);

	vbt_split_put_desc(&f->r, 1, big + 0x80000000u, 0x80000000u, 0, 0);
	vbt_split_publish(&f->r, 0);
	expect_broken(f, vb_vq_pop(f->vq, &c), -E2BIG);
	/* The same in the writable part, through an indirect table. */
	{
		uint64_t t = vbt_guest_alloc(&f->g, 32, 16);

		vbt_split_put_table_desc(&f->r, t, 0, big, 0xFFFFFFFFu,
					 VB_VRING_DESC_F_WRITE | VB_VRING_DESC_F_NEXT, 1);
		vbt_split_put_table_desc(&f->r, t, 1, big, 1, VB_VRING_DESC_F_WRITE, 0);
		vbt_split_put_desc(&f->r, 0, t, 32, VB_VRING_DESC_F_INDIRECT, 0);
		vbt_split_publish(&f->r, 0);
		expect_broken(f, vb_vq_pop(f->vq, &c), -E2BIG);
	}
	munmap(res, size);
}

/* @verify{VB-REQ-VQ-126} a chain needing more iovecs than the caller's storage is -E2BIG
 * (ASan/guard: nothing is written past the arrays) */
static void test_vq_split__rejects_too_many_iovecs(void **state)
{
	struct fix *f = *state;
	struct { struct vb_iov rd[2], c1, wr[2], c2; } s;
	struct vb_chain c = VB_CHAIN_INIT(s.rd, s.wr);
	struct vbt_buf bufs[] = { { BUF_GPA, 3, false } };	/* 3 one-byte regions */
	struct vb_iov z;

	memset(&s, 0x5A, sizeof(s));
	memset(&z, 0x5A, sizeof(z));
	vbt_split_add(&f->r, bufs, 1, false);
	expect_broken(f, vb_vq_pop(f->vq, &c), -E2BIG);
	bufs[0].write = true;
	vbt_split_add(&f->r, bufs, 1, true);
	expect_broken(f, vb_vq_pop(f->vq, &c), -E2BIG);
	assert_memory_equal(&s.c1, &z, sizeof(z));
	assert_memory_equal(&s.c2, &z, sizeof(z));
	/* Three direct descriptors of one byte each, storage for two. */
	{
		struct vbt_buf three[] = { { BUF_GPA + 10, 1, true }, { BUF_GPA + 20, 1, true },
					   { BUF_GPA + 30, 1, true } };

		vbt_split_add(&f->r, three, 3, false);
		expect_broken(f, vb_vq_pop(f->vq, &c), -E2BIG);
	}
	assert_memory_equal(&s.c1, &z, sizeof(z));
	assert_memory_equal(&s.c2, &z, sizeof(z));
}

/* ---- Inflight hooks (vb_vq_set_inflight_ops(), vb_vq_pop_head()) ---- */

struct infl_log {
	char	 ev[32];	/* 'p'opped, '<' pre_push, '>' post_push, in order */
	uint16_t head[32];
	uint16_t used[32];
	unsigned int n;
	int	 resubmit[4];	/* heads resubmit() hands out, then -1 */
	unsigned int n_resubmit, next;
	struct fix *f;
};

static void infl_ev(struct infl_log *l, char ev, uint16_t head, uint16_t used)
{
	assert_true(l->n < 32);
	l->ev[l->n] = ev;
	l->head[l->n] = head;
	l->used[l->n++] = used;
}

static void t_popped(void *ctx, struct vb_vq *vq, uint16_t head)
{
	struct infl_log *l = ctx;

	assert_ptr_equal(vq, l->f->vq);
	infl_ev(l, 'p', head, 0);
}

static void t_pre(void *ctx, struct vb_vq *vq, uint16_t head)
{
	struct infl_log *l = ctx;

	(void)vq;
	/* Not yet published: the driver's used index is still the old one. */
	infl_ev(l, '<', head, vbt_split_used_idx(&l->f->r));
}

static void t_post(void *ctx, struct vb_vq *vq, uint16_t head, uint16_t used_idx)
{
	struct infl_log *l = ctx;

	(void)vq;
	/* Published: the ring shows the index the hook is given. */
	assert_int_equal(vbt_split_used_idx(&l->f->r), used_idx);
	infl_ev(l, '>', head, used_idx);
}

static int t_resubmit(void *ctx, struct vb_vq *vq)
{
	struct infl_log *l = ctx;

	(void)vq;
	return l->next < l->n_resubmit ? l->resubmit[l->next++] : -1;
}

static const struct vb_vq_inflight_ops t_iops = {
	.popped = t_popped, .pre_push = t_pre, .post_push = t_post, .resubmit = t_resubmit,
};

static uint16_t add_req(struct fix *f, uint8_t seed)
{
	struct vbt_buf bufs[] = { { gbuf(f, 4, seed), 4, false }, { gbuf(f, 4, 0), 4, true } };

	return vbt_split_add(&f->r, bufs, 2, false);
}

/* @verify{VB-REQ-VU-301} with inflight hooks every chain popped (single or batch) is reported
 * once with its head, every push (single or batch) is reported chain by chain before its used
 * element is written and after the used index covering it is published; chains are the same
 * as without hooks; clearing the hooks brings the plain path back (no more calls) */
static void test_vq_split__inflight_hooks(void **state)
{
	struct fix *f = *state;
	struct infl_log l = { .f = f };
	struct vb_iov rd[3][4], wr[3][4];
	struct vb_chain c[3];
	uint32_t written[3] = { 1, 2, 3 };
	uint16_t h[3];

	for (int i = 0; i < 3; i++)
		c[i] = (struct vb_chain)VB_CHAIN_INIT(rd[i], wr[i]);
	vb_vq_set_inflight_ops(f->vq, &t_iops, &l);
	for (int i = 0; i < 3; i++)
		h[i] = add_req(f, (uint8_t)i);
	assert_int_equal(vb_vq_pop(f->vq, &c[0]), 1);
	assert_int_equal(vb_vq_pop_batch(f->vq, &c[1], 2), 2);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(l.ev[i], 'p');
		assert_int_equal(l.head[i], h[i]);
		assert_int_equal(c[i].head, h[i]);
		assert_int_equal(c[i].read_len, 4);
	}
	assert_int_equal(vb_vq_push(f->vq, &c[1], 1), 0);
	assert_int_equal(vb_vq_push_batch(f->vq, (const struct vb_chain[]){ c[0], c[2] },
					  (const uint32_t[]){ written[0], written[2] }, 2), 0);
	assert_int_equal(l.n, 9);
	{
		const char ev[] = "<><><>";
		const uint16_t order[] = { h[1], h[1], h[0], h[0], h[2], h[2] };

		for (int i = 0; i < 6; i++) {
			assert_int_equal(l.ev[3 + i], ev[i]);
			assert_int_equal(l.head[3 + i], order[i]);
			/* pre sees the old index, post the new one: 0,1 1,2 2,3 */
			assert_int_equal(l.used[3 + i], (uint16_t)((i + 1) / 2));
		}
	}
	{
		const uint16_t ids[] = { h[1], h[0], h[2] };
		const uint32_t lens[] = { 1, 1, 3 };
		uint32_t id, len;

		for (int i = 0; i < 3; i++) {
			assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
			assert_int_equal(id, ids[i]);
			assert_int_equal(len, lens[i]);
		}
	}
	/* More pushes than pops: refused, no hook called. */
	assert_int_equal(vb_vq_push(f->vq, &c[0], 0), -EINVAL);
	assert_int_equal(l.n, 9);
	/* Cleared: the plain path, no call. */
	vb_vq_set_inflight_ops(f->vq, NULL, NULL);
	round_trip(f);
	assert_int_equal(l.n, 9);
}

/* @verify{VB-REQ-VU-302} vb_vq_pop_head() walks a given head with the usual checks and leaves
 * the available position alone; the resubmit hook's heads come out of vb_vq_pop() before the
 * available ring, without a popped call, and can be pushed; heads out of range are refused
 * (-EINVAL) without breaking the queue; a bad chain at a given head breaks it */
static void test_vq_split__inflight_resubmit(void **state)
{
	struct fix *f = *state;
	struct infl_log l = { .f = f };
	struct vb_iov rd[4], wr[4];
	struct vb_chain c = VB_CHAIN_INIT(rd, wr);
	struct vb_vq_pos pos;
	uint16_t a, b, n;
	uint32_t id, len;

	/* Two chains the "old back-end" popped: position moved past them by hand. */
	a = add_req(f, 1);
	b = add_req(f, 2);
	vb_vq_get_pos(f->vq, &pos);
	pos.avail_idx = (uint16_t)(pos.avail_idx + 2);
	assert_int_equal(vb_vq_set_pos(f->vq, &pos), 0);
	n = add_req(f, 3);
	assert_int_equal(vb_vq_pop_head(f->vq, b, &c), 1);
	assert_int_equal(c.head, b);
	assert_int_equal(c.read_len, 4);
	vb_vq_get_pos(f->vq, &pos);
	assert_int_equal(pos.avail_idx, 2);	/* untouched */
	assert_int_equal(vb_vq_pop_head(f->vq, QSZ, &c), -EINVAL);
	assert_int_equal(vb_vq_error(f->vq), 0);

	l.resubmit[0] = b;
	l.resubmit[1] = a;
	l.n_resubmit = 2;
	vb_vq_set_inflight_ops(f->vq, &t_iops, &l);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, b);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, a);
	assert_int_equal(vb_vq_push(f->vq, &c, 0), 0);
	assert_int_equal(vb_vq_pop(f->vq, &c), 1);
	assert_int_equal(c.head, n);
	assert_int_equal(vb_vq_push(f->vq, &c, 4), 0);
	assert_int_equal(vb_vq_pop(f->vq, &c), 0);
	/* Only the new chain was reported popped. */
	assert_int_equal(l.ev[0], '<');
	assert_int_equal(l.ev[4], 'p');
	assert_int_equal(l.head[4], n);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, b);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, a);
	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, n);

	/* A looping chain at a given head breaks the queue like any pop. */
	vb_vq_set_inflight_ops(f->vq, NULL, NULL);
	vbt_split_put_desc(&f->r, 5, gbuf(f, 4, 0), 0, VB_VRING_DESC_F_NEXT, 5);
	expect_broken(f, vb_vq_pop_head(f->vq, 5, &c), -ELOOP);
}

struct log_rec {
	struct infl_log	infl;
	unsigned int	n;
	uint16_t	head[4];
	uint32_t	written[4];
	uint16_t	used[4];	/* ring's used index when the hook ran */
	const void	*wbase[4];	/* first writable iovec of the chain given */
};

static void t_log_push(void *ctx, struct vb_vq *vq, const struct vb_chain *c,
		       uint32_t written)
{
	struct log_rec *l = ctx;

	assert_ptr_equal(vq, l->infl.f->vq);
	assert_true(l->n < 4);
	/* After post_push: the element and the index are already in the ring. */
	assert_int_equal(l->infl.ev[l->infl.n - 1], '>');
	l->head[l->n] = c->head;
	l->written[l->n] = written;
	l->used[l->n] = vbt_split_used_idx(&l->infl.f->r);
	l->wbase[l->n++] = c->n_write ? c->write[0].base : NULL;
}

static void t_popped_log(void *ctx, struct vb_vq *vq, uint16_t head)
{
	(void)vq;
	infl_ev(&((struct log_rec *)ctx)->infl, 'p', head, 0);
}

static void t_pre_log(void *ctx, struct vb_vq *vq, uint16_t head)
{
	t_pre(&((struct log_rec *)ctx)->infl, vq, head);
}

static void t_post_log(void *ctx, struct vb_vq *vq, uint16_t head, uint16_t used_idx)
{
	t_post(&((struct log_rec *)ctx)->infl, vq, head, used_idx);
}

static const struct vb_vq_inflight_ops t_log_ops = {
	.popped = t_popped_log, .pre_push = t_pre_log, .post_push = t_post_log,
	.log_push = t_log_push,
};

/* @verify{VB-REQ-VU-403} the log_push hook runs once per pushed chain (single and batch),
 * after post_push, with the chain the device model pushed (its writable iovecs) and the bytes
 * written, once the used index covering it is published; a refused push calls nothing */
static void test_vq_split__log_push_hook(void **state)
{
	struct fix *f = *state;
	struct log_rec l = { .infl = { .f = f } };
	struct vb_iov rd[3][4], wr[3][4];
	struct vb_chain c[3];

	for (int i = 0; i < 3; i++) {
		c[i] = (struct vb_chain)VB_CHAIN_INIT(rd[i], wr[i]);
		(void)add_req(f, (uint8_t)i);
	}
	vb_vq_set_inflight_ops(f->vq, &t_log_ops, &l);
	assert_int_equal(vb_vq_pop_batch(f->vq, c, 3), 3);
	assert_int_equal(vb_vq_push(f->vq, &c[0], 3), 0);
	assert_int_equal(vb_vq_push_batch(f->vq, &c[1], (const uint32_t[]){ 0, 4 }, 2), 0);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(l.head[i], c[i].head);
		assert_int_equal(l.used[i], i + 1);
		assert_ptr_equal(l.wbase[i], c[i].write[0].base);
	}
	assert_int_equal(l.written[0], 3);
	assert_int_equal(l.written[1], 0);
	assert_int_equal(l.written[2], 4);
	/* written beyond the chain, or more pushes than pops: refused, no hook. */
	assert_int_equal(vb_vq_push(f->vq, &c[0], 5), -EINVAL);
	assert_int_equal(vb_vq_push(f->vq, &c[0], 0), -EINVAL);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++) {
		uint32_t id, len;

		assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
		assert_int_equal(id, c[i].head);
	}
	vb_vq_set_inflight_ops(f->vq, NULL, NULL);
	round_trip(f);
	assert_int_equal(l.n, 3);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(test_vq_split__##name, setup, teardown)
#define TC(name, cfg) \
	cmocka_unit_test_prestate_setup_teardown(test_vq_split__##name, setup, teardown, &cfg)
	const struct CMUnitTest tests[] = {
		T(pop_push_round_trip),
		T(multi_descriptor_chain),
		T(indirect_chain),
		TC(chain_split_across_regions, cfg_bytes),
		TC(chain_split_across_regions, cfg_sevens),
		T(index_wrap),
		T(batch_pop_push),
		T(batch_pop_stops_at_violation),
		TC(no_interrupt, cfg_default),
		TC(event_idx_used_event, cfg_evidx),
		TC(event_idx_used_event_wrap, cfg_evidx),
		TC(event_idx_avail_event, cfg_evidx),
		T(enable_disable_kicks),
		T(get_set_pos),
		T(legacy_layout_arithmetic),
		T(legacy_layout_ring_works),
		T(stats),
		T(not_live_eagain),
		T(push_written_too_long),
		TC(in_order, cfg_in_order),
		T(longest_chains_accepted),
		T(rejects_direct_loop),
		T(rejects_chain_longer_than_queue),
		T(rejects_indirect_loop),
		T(rejects_head_out_of_range),
		T(rejects_next_out_of_range),
		T(rejects_indirect_next_out_of_range),
		T(rejects_nested_indirect),
		T(rejects_indirect_with_next),
		TC(rejects_indirect_not_negotiated, cfg_plain),
		T(rejects_bad_indirect_length),
		T(rejects_indirect_table_outside_memory),
		T(rejects_address_wrap),
		T(rejects_buffer_outside_memory),
		T(rejects_wrong_direction),
		T(rejects_readable_after_writable),
		T(rejects_avail_idx_jump),
		T(rejects_chain_over_4gib),
		TC(rejects_too_many_iovecs, cfg_bytes),
		T(inflight_hooks),
		T(inflight_resubmit),
		T(log_push_hook),
	};
#undef T
#undef TC

	return cmocka_run_group_tests(tests, NULL, NULL);
}
