/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of the fuzz targets: valid rings for each feature combination
 * (split and packed, direct and indirect, with and without EVENT_IDX), laid out in a fake guest
 * by the driver simulators of tests/support, plus a few hostile rings and control-path
 * sequences, each in the binary input format of its target (documented at the top of
 * fuzz/fuzz-<target>.c).
 *
 *   gen-corpus DIR       writes DIR/vq-split/, DIR/vq-packed/, DIR/mmio/
 *
 * (ninja -C <build> fuzz-corpus runs it on fuzz/corpus.) The output is deterministic; the
 * generated files are committed. Minimized crashers live in the same directories under
 * names starting with "crash-" and are never overwritten here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vbt-fuzz.h"
#include "vbt-packed.h"
#include "vbt-split.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *out_dir;

/* ---- one seed file ---------------------------------------------------------------------- */

struct seed {
	struct vbt_fuzz_op	ops[VBT_FUZZ_MAX_OPS];
	unsigned int		n_ops;
};

static void die(const char *why)
{
	fprintf(stderr, "gen-corpus: %s\n", why);
	exit(1);
}

static void op(struct seed *s, enum vbt_fuzz_opcode code, uint8_t a, uint16_t b, uint32_t c)
{
	if (s->n_ops == VBT_FUZZ_MAX_OPS)
		die("too many operations in one seed");
	s->ops[s->n_ops++] = (struct vbt_fuzz_op){ (uint8_t)code, a, b, c };
}

static void write_file(const char *target, const char *name, const uint8_t *buf, size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", out_dir, target);
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("cannot create the target directory");
	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	fp = fopen(path, "wb");
	if (!fp || fwrite(buf, 1, len, fp) != len || fclose(fp) != 0)
		die("cannot write a seed");
	printf("%s/%s: %zu bytes\n", target, name, len);
}

/* The used part of the guest: everything the bump allocator handed out. */
static size_t image_len(const struct vbt_guest *g)
{
	return (size_t)g->next;
}

static void save_vq(const char *target, const char *name, struct vbt_fuzz_vq_hdr *h,
		    const struct seed *s, const struct vbt_guest *g)
{
	static uint8_t buf[VBT_FUZZ_VQ_HDR_LEN + VBT_FUZZ_MAX_OPS * VBT_FUZZ_OP_LEN +
			   VBT_FUZZ_GUEST_SIZE];
	size_t len;

	h->n_ops = (uint8_t)s->n_ops;
	len = vbt_fuzz_vq_hdr_put(buf, h);
	for (unsigned int i = 0; i < s->n_ops; i++)
		len += vbt_fuzz_op_put(buf + len, &s->ops[i]);
	memcpy(buf + len, g->base, image_len(g));
	len += image_len(g);
	write_file(target, name, buf, len);
}

/* ---- shared pieces ---------------------------------------------------------------------- */

static uint8_t feature_bits(bool indirect, bool event_idx, bool in_order)
{
	return (uint8_t)((indirect ? 1u << VBT_FUZZ_F_INDIRECT : 0u) |
			 (event_idx ? 1u << VBT_FUZZ_F_EVENT_IDX : 0u) |
			 (in_order ? 1u << VBT_FUZZ_F_IN_ORDER : 0u));
}

static const char *feature_name(bool indirect, bool event_idx)
{
	static const char *const names[4] = { "direct", "indirect", "direct-evidx",
					      "indirect-evidx" };

	return names[(indirect ? 1 : 0) + (event_idx ? 2 : 0)];
}

/* A buffer of len bytes filled with a recognisable pattern. */
static struct vbt_buf buf(struct vbt_guest *g, uint32_t len, bool write, uint8_t fill)
{
	uint64_t gpa = vbt_guest_alloc(g, len, 8);

	memset(vbt_guest_ptr(g, gpa), fill, len);
	return (struct vbt_buf){ gpa, len, write };
}

/* The request shapes every ring gets: a lone readable buffer, a block-like request (header,
 * data, status), a lone writable buffer (rng/net rx), and a four-piece scatter list. */
struct shape {
	unsigned int	n;
	struct vbt_buf	b[4];
};

static unsigned int make_shapes(struct vbt_guest *g, struct shape *sh)
{
	sh[0] = (struct shape){ 1, { buf(g, 64, false, 0x11) } };
	sh[1] = (struct shape){ 3, { buf(g, 16, false, 0x22), buf(g, 512, true, 0), buf(g, 1, true, 0) } };
	sh[2] = (struct shape){ 1, { buf(g, 256, true, 0) } };
	sh[3] = (struct shape){ 4, { buf(g, 8, false, 0x33), buf(g, 24, false, 0x44),
				     buf(g, 100, true, 0), buf(g, 28, true, 0) } };
	return 4;
}

/* A script that pops, pushes and notifies in every way, then lets the harness's driver add
 * more and kicks. */
static void data_path_script(struct seed *s, unsigned int n_chains)
{
	op(s, VBT_FUZZ_OP_POP, 0, 0, 0);
	op(s, VBT_FUZZ_OP_TOUCH, 0, 0, 0x5a);
	op(s, VBT_FUZZ_OP_PUSH, 0, 0, 16);
	op(s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
	op(s, VBT_FUZZ_OP_POP_BATCH, (uint8_t)(n_chains - 1), 0, 0);
	op(s, VBT_FUZZ_OP_PUSH_BATCH, 1, 0, 1000);
	op(s, VBT_FUZZ_OP_NOTIFY, 1, 0, 0);
	op(s, VBT_FUZZ_OP_KICKS, 0, 0, 0);
	op(s, VBT_FUZZ_OP_PUSH, 0, 0, 0);
	op(s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
	op(s, VBT_FUZZ_OP_KICKS, 1, 0, 0);
	op(s, VBT_FUZZ_OP_POP, 0, 0, 0);
	op(s, VBT_FUZZ_OP_ADD, 0x05, 0x0c00, 0x0000003f);	/* 2 buffers, 1 writable */
	op(s, VBT_FUZZ_OP_ADD, 0x1a, 0x0d00, 0x00f0001f);	/* indirect 3 buffers, 2 writable */
	op(s, VBT_FUZZ_OP_KICK, 0, 0, 0x00070000);
	op(s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
	op(s, VBT_FUZZ_OP_ADD, 0x00, 0x0e00, 0x00000010);
	op(s, VBT_FUZZ_OP_POP, 0, 0, 0);
	op(s, VBT_FUZZ_OP_PUSH, 0x80, 0, 0xffffffff);		/* written > write_len: -EINVAL */
	op(s, VBT_FUZZ_OP_PUSH, 0, 0, 0);
	op(s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
}

/* Control-path script: reset, restore a position, change the memory map. */
static void control_script(struct seed *s)
{
	op(s, VBT_FUZZ_OP_POP, 0, 0, 0);
	op(s, VBT_FUZZ_OP_PUSH, 0, 0, 4);
	op(s, VBT_FUZZ_OP_QUEUE_RESET, 0x80, 0, 0);
	op(s, VBT_FUZZ_OP_ADD, 0x05, 0x0c00, 0x0000003f);
	op(s, VBT_FUZZ_OP_KICK, 0, 0, 0);
	op(s, VBT_FUZZ_OP_REMAP, 0x00, 0, 0);			/* remove region 0 */
	op(s, VBT_FUZZ_OP_POP, 0, 0, 0);
	op(s, VBT_FUZZ_OP_REMAP, 0x01, 0, 0);			/* add it back */
	op(s, VBT_FUZZ_OP_DEVICE_RESET, 0x80, 0, 0);
	op(s, VBT_FUZZ_OP_ADD, 0x15, 0x0c00, 0x0020003f);
	op(s, VBT_FUZZ_OP_SET_POS, 0x03, 0, 0);
	op(s, VBT_FUZZ_OP_KICK, 0, 0, 0x100);
	op(s, VBT_FUZZ_OP_DEVICE_RESET, 0x83, 0, 0);		/* without INDIRECT, EVENT_IDX */
	op(s, VBT_FUZZ_OP_ADD, 0x05, 0x0c00, 0x0000003f);
	op(s, VBT_FUZZ_OP_KICK, 0, 0, 0);
}

/* ---- split ring seeds ------------------------------------------------------------------- */

#define SPLIT_NUM 8u

static void split_ring(struct vbt_guest *g, struct vbt_split *r, uint8_t layout, uint16_t num,
		       struct vbt_fuzz_vq_hdr *h, uint8_t features)
{
	if (vbt_guest_init(g, vbt_fuzz_guest_base(layout), VBT_FUZZ_GUEST_SIZE, 0) < 0)
		die("cannot map a guest");
	vbt_split_init(r, g, num);
	*h = (struct vbt_fuzz_vq_hdr){
		.features = features, .layout = layout, .num = num,
		.desc_off = (uint16_t)(r->desc_gpa - g->gpa),
		.driver_off = (uint16_t)(r->avail_gpa - g->gpa),
		.device_off = (uint16_t)(r->used_gpa - g->gpa),
		.iov_cap = 0x77,
	};
}

static void gen_split_valid(void)
{
	for (unsigned int v = 0; v < 4; v++) {
		bool indirect = v & 1, event_idx = v & 2;
		struct vbt_fuzz_vq_hdr h;
		struct vbt_guest g;
		struct vbt_split r;
		struct shape sh[4];
		struct seed s = { .n_ops = 0 };
		unsigned int n;
		char name[64];

		split_ring(&g, &r, VBT_FUZZ_LAYOUT(0, 1), SPLIT_NUM, &h,
			   feature_bits(indirect, event_idx, false));
		n = make_shapes(&g, sh);
		for (unsigned int i = 0; i < n; i++)
			vbt_split_add(&r, sh[i].b, sh[i].n, indirect && sh[i].n > 1);
		if (event_idx)
			vbt_split_set_used_event(&r, 1);
		data_path_script(&s, n);
		snprintf(name, sizeof(name), "split-%s", feature_name(indirect, event_idx));
		save_vq("vq-split", name, &h, &s, &g);

		s.n_ops = 0;
		control_script(&s);
		snprintf(name, sizeof(name), "split-control-%s", feature_name(indirect, event_idx));
		save_vq("vq-split", name, &h, &s, &g);
		vbt_guest_fini(&g);
	}
}

/* Small regions with restricted directions: buffers split across regions, then a writable
 * buffer in a read-only region. */
static void gen_split_regions(void)
{
	struct vbt_fuzz_vq_hdr h;
	struct vbt_guest g;
	struct vbt_split r;
	struct seed s = { .n_ops = 0 };
	struct vbt_buf b[3];

	/* 512-byte regions: region 0 holds the rings (8 entries: 128 + 22 + 70 bytes). */
	split_ring(&g, &r, VBT_FUZZ_LAYOUT(5, 1), SPLIT_NUM, &h, feature_bits(true, true, false));
	h.ro_mask = 1u << 3;		/* region 3 [1536, 2048) device-read-only */
	h.wo_mask = 1u << 5;		/* region 5 [2560, 3072) device-write-only */
	h.iov_cap = 0xff;		/* 16 pieces each way */
	g.next = 400;	/* the indirect table goes here, in region 0 */
	b[0] = (struct vbt_buf){ g.gpa + 1600, 100, false };	/* read-only region, readable */
	b[1] = (struct vbt_buf){ g.gpa + 2600, 200, true };	/* write-only region, writable */
	vbt_split_add(&r, b, 2, false);
	b[0] = (struct vbt_buf){ g.gpa + 100, 2400, false };	/* regions 0..4 */
	b[1] = (struct vbt_buf){ g.gpa + 3500, 1000, true };	/* regions 6..8 */
	b[2] = (struct vbt_buf){ g.gpa + 4500, 3000, true };	/* regions 8..14 */
	vbt_split_add(&r, b, 3, true);
	b[0] = (struct vbt_buf){ g.gpa + 400, 300, false };	/* crosses into region 1 */
	b[1] = (struct vbt_buf){ g.gpa + 1000, 600, true };	/* regions 1..3: 3 is read-only */
	vbt_split_add(&r, b, 2, false);
	g.next = 4096;
	for (unsigned int i = 0; i < 3; i++) {
		op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_TOUCH, 0, 0, 0x77);
		op(&s, VBT_FUZZ_OP_PUSH, 0, 0, 0xffff);
	}
	save_vq("vq-split", "split-regions", &h, &s, &g);
	vbt_guest_fini(&g);
}

/* Free-running indices about to wrap at 2^16, restored with SET_POS. */
static void gen_split_wrap(void)
{
	struct vbt_fuzz_vq_hdr h;
	struct vbt_guest g;
	struct vbt_split r;
	struct shape sh[4];
	struct seed s = { .n_ops = 0 };
	unsigned int n;

	split_ring(&g, &r, VBT_FUZZ_LAYOUT(0, 3), SPLIT_NUM, &h, feature_bits(false, true, false));
	n = make_shapes(&g, sh);
	vbt_split_set_avail_idx(&r, 0xfffe);
	for (unsigned int i = 0; i < n; i++)
		vbt_split_add(&r, sh[i].b, sh[i].n, false);
	r.used->idx = vb_cpu_to_le16(0xfffe);
	vbt_split_set_used_event(&r, 0xffff);
	op(&s, VBT_FUZZ_OP_SET_POS, 0, 0xfffe, 0xfffe);
	op(&s, VBT_FUZZ_OP_POP_BATCH, 3, 0, 0);
	op(&s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
	op(&s, VBT_FUZZ_OP_PUSH_BATCH, 3, 0, 7);
	op(&s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
	op(&s, VBT_FUZZ_OP_KICKS, 1, 0, 0);
	op(&s, VBT_FUZZ_OP_ADD, 0x05, 0x0c00, 0x0000003f);
	op(&s, VBT_FUZZ_OP_KICK, 0, 0, 0);
	save_vq("vq-split", "split-wrap-evidx", &h, &s, &g);
	vbt_guest_fini(&g);
}

/* A ring at the top of the address space: a buffer whose end wraps 2^64. */
static void gen_split_top(void)
{
	struct vbt_fuzz_vq_hdr h;
	struct vbt_guest g;
	struct vbt_split r;
	struct vbt_buf b[2];
	struct seed s = { .n_ops = 0 };

	split_ring(&g, &r, VBT_FUZZ_LAYOUT(0, 2), SPLIT_NUM, &h, feature_bits(true, false, false));
	b[0] = buf(&g, 32, false, 0x55);
	b[1] = (struct vbt_buf){ g.gpa + VBT_FUZZ_GUEST_SIZE - 16, 16, true };	/* last bytes */
	vbt_split_add(&r, b, 2, false);
	b[0] = (struct vbt_buf){ g.gpa + VBT_FUZZ_GUEST_SIZE - 16, 32, true };	/* wraps */
	vbt_split_add(&r, b, 1, false);
	op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
	op(&s, VBT_FUZZ_OP_TOUCH, 0, 0, 0);
	op(&s, VBT_FUZZ_OP_PUSH, 0, 0, 16);
	op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
	op(&s, VBT_FUZZ_OP_DEVICE_RESET, 0, 0, 0);
	save_vq("vq-split", "split-top-of-memory", &h, &s, &g);
	vbt_guest_fini(&g);
}

/* Hostile rings, one violation each (virtio 1.2, 2.7.5 and 2.7.5.3.1): the queue breaks and
 * the rest of the script checks that it stays broken. */
static void gen_split_hostile(void)
{
	static const char *const names[] = {
		"split-hostile-loop", "split-hostile-read-after-write",
		"split-hostile-nested-indirect", "split-hostile-head-range",
		"split-hostile-avail-jump", "split-hostile-indirect-len",
		"split-hostile-next-range", "split-hostile-outside",
	};

	for (unsigned int v = 0; v < ARRAY_SIZE(names); v++) {
		struct vbt_fuzz_vq_hdr h;
		struct vbt_guest g;
		struct vbt_split r;
		struct seed s = { .n_ops = 0 };
		uint64_t b0, b1, t;

		split_ring(&g, &r, VBT_FUZZ_LAYOUT(0, 1), SPLIT_NUM, &h,
			   feature_bits(true, v & 1, false));
		b0 = vbt_guest_alloc(&g, 64, 8);
		b1 = vbt_guest_alloc(&g, 64, 8);
		switch (v) {
		case 0:	/* 0 -> 1 -> 0 */
			vbt_split_put_desc(&r, 0, b0, 8, VB_VRING_DESC_F_NEXT, 1);
			vbt_split_put_desc(&r, 1, b1, 8, VB_VRING_DESC_F_NEXT, 0);
			vbt_split_publish(&r, 0);
			break;
		case 1:
			vbt_split_put_desc(&r, 0, b0, 8, VB_VRING_DESC_F_NEXT | VB_VRING_DESC_F_WRITE, 1);
			vbt_split_put_desc(&r, 1, b1, 8, 0, 0);
			vbt_split_publish(&r, 0);
			break;
		case 2:
			t = vbt_guest_alloc(&g, 32, 16);
			vbt_split_put_table_desc(&r, t, 0, b0, 8, VB_VRING_DESC_F_NEXT, 1);
			vbt_split_put_table_desc(&r, t, 1, t, 32, VB_VRING_DESC_F_INDIRECT, 0);
			vbt_split_put_desc(&r, 0, t, 32, VB_VRING_DESC_F_INDIRECT, 0);
			vbt_split_publish(&r, 0);
			break;
		case 3:
			vbt_split_put_desc(&r, 0, b0, 8, 0, 0);
			vbt_split_publish(&r, SPLIT_NUM);
			break;
		case 4:
			vbt_split_put_desc(&r, 0, b0, 8, 0, 0);
			vbt_split_publish(&r, 0);
			vbt_split_set_avail_idx(&r, SPLIT_NUM + 1);
			break;
		case 5:
			t = vbt_guest_alloc(&g, 32, 16);
			vbt_split_put_desc(&r, 0, t, 24, VB_VRING_DESC_F_INDIRECT, 0);
			vbt_split_publish(&r, 0);
			break;
		case 6:
			vbt_split_put_desc(&r, 0, b0, 8, VB_VRING_DESC_F_NEXT, SPLIT_NUM);
			vbt_split_publish(&r, 0);
			break;
		case 7:
			vbt_split_put_desc(&r, 0, g.gpa + VBT_FUZZ_GUEST_SIZE - 4, 8, 0, 0);
			vbt_split_publish(&r, 0);
			break;
		}
		op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_PUSH, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_KICK, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_QUEUE_RESET, 0x80, 0, 0);
		op(&s, VBT_FUZZ_OP_ADD, 0x05, 0x0c00, 0x0000003f);
		op(&s, VBT_FUZZ_OP_KICK, 0, 0, 0);
		save_vq("vq-split", names[v], &h, &s, &g);
		vbt_guest_fini(&g);
	}
}

/* ---- packed ring seeds ------------------------------------------------------------------ */

static struct vbt_packed pr;	/* 64 KiB of id bookkeeping: not on the stack */

static void packed_ring(struct vbt_guest *g, uint8_t layout, uint16_t num,
			struct vbt_fuzz_vq_hdr *h, uint8_t features)
{
	if (vbt_guest_init(g, vbt_fuzz_guest_base(layout), VBT_FUZZ_GUEST_SIZE, 0) < 0)
		die("cannot map a guest");
	vbt_packed_init(&pr, g, num);
	*h = (struct vbt_fuzz_vq_hdr){
		.features = features, .layout = layout, .num = num,
		.desc_off = (uint16_t)(pr.desc_gpa - g->gpa),
		.driver_off = (uint16_t)(pr.driver_gpa - g->gpa),
		.device_off = (uint16_t)(pr.device_gpa - g->gpa),
		.iov_cap = 0x77,
	};
}

static void gen_packed_valid(void)
{
	static const uint16_t sizes[] = { 8, 5 };	/* packed rings need no power of two */

	for (unsigned int z = 0; z < ARRAY_SIZE(sizes); z++) {
		for (unsigned int v = 0; v < 4; v++) {
			bool indirect = v & 1, event_idx = v & 2;
			struct vbt_fuzz_vq_hdr h;
			struct vbt_guest g;
			struct shape sh[4];
			struct seed s = { .n_ops = 0 };
			unsigned int n;
			char name[64];

			packed_ring(&g, VBT_FUZZ_LAYOUT(0, 1), sizes[z], &h,
				    feature_bits(indirect, event_idx, false));
			n = make_shapes(&g, sh);
			for (unsigned int i = 0; i < n; i++)
				if (vbt_packed_add(&pr, sh[i].b, sh[i].n,
						   indirect && sh[i].n > 1) < 0)
					break;
			if (event_idx)
				vbt_packed_set_driver_event(&pr, VB_VRING_PACKED_EVENT_FLAG_DESC, 2,
							    true);
			data_path_script(&s, n);
			snprintf(name, sizeof(name), "packed%u-%s", sizes[z],
				 feature_name(indirect, event_idx));
			save_vq("vq-packed", name, &h, &s, &g);

			s.n_ops = 0;
			control_script(&s);
			snprintf(name, sizeof(name), "packed%u-control-%s", sizes[z],
				 feature_name(indirect, event_idx));
			save_vq("vq-packed", name, &h, &s, &g);
			vbt_guest_fini(&g);
		}
	}
}

/* Several laps of a small ring: the wrap counters flip, the harness's driver keeps adding. */
static void gen_packed_laps(void)
{
	struct vbt_fuzz_vq_hdr h;
	struct vbt_guest g;
	struct seed s = { .n_ops = 0 };

	packed_ring(&g, VBT_FUZZ_LAYOUT(0, 1), 3, &h, feature_bits(true, true, true));
	g.next = 1024;
	for (unsigned int lap = 0; lap < 8; lap++) {
		op(&s, VBT_FUZZ_OP_ADD, (uint8_t)(lap & 1 ? 0x05 : 0x11), 0x0400, 0x00200030);
		op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_PUSH, 0, 0, 5);
		op(&s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_DRIVER_EVENT, VB_VRING_PACKED_EVENT_FLAG_DESC, (uint16_t)(lap & 3), 0);
	}
	op(&s, VBT_FUZZ_OP_KICKS, 0, 0, 0);
	op(&s, VBT_FUZZ_OP_KICKS, 1, 0, 0);
	op(&s, VBT_FUZZ_OP_SET_POS, 0x00, 1, 1);
	op(&s, VBT_FUZZ_OP_ADD, 0x05, 0x0400, 0x00000030);
	op(&s, VBT_FUZZ_OP_KICK, 0, 0, 0x100);
	save_vq("vq-packed", "packed3-laps-in-order", &h, &s, &g);
	vbt_guest_fini(&g);
}

/* Hostile packed rings (virtio 1.2, 2.8.6, 2.8.7, 2.8.17, 2.8.19). */
static void gen_packed_hostile(void)
{
	static const char *const names[] = {
		"packed-hostile-chain-not-avail", "packed-hostile-read-after-write",
		"packed-hostile-nested-indirect", "packed-hostile-id-range",
		"packed-hostile-indirect-in-chain", "packed-hostile-indirect-len",
		"packed-hostile-chain-too-long", "packed-hostile-outside",
	};
	const uint16_t av = vbt_packed_avail_bits(true);

	for (unsigned int v = 0; v < ARRAY_SIZE(names); v++) {
		struct vbt_fuzz_vq_hdr h;
		struct vbt_guest g;
		struct seed s = { .n_ops = 0 };
		uint64_t b0, b1, t;

		packed_ring(&g, VBT_FUZZ_LAYOUT(0, 1), 4, &h, feature_bits(true, v & 1, false));
		b0 = vbt_guest_alloc(&g, 64, 8);
		b1 = vbt_guest_alloc(&g, 64, 8);
		switch (v) {
		case 0:	/* second descriptor of the lap before */
			vbt_packed_put_desc(&pr, 1, b1, 8, 0, vbt_packed_avail_bits(false));
			vbt_packed_put_desc(&pr, 0, b0, 8, 0, (uint16_t)(av | VB_VRING_DESC_F_NEXT));
			break;
		case 1:
			vbt_packed_put_desc(&pr, 1, b1, 8, 0, av);
			vbt_packed_put_desc(&pr, 0, b0, 8, 0,
					    (uint16_t)(av | VB_VRING_DESC_F_NEXT | VB_VRING_DESC_F_WRITE));
			break;
		case 2:
			t = vbt_guest_alloc(&g, 32, 16);
			vbt_packed_put_table_desc(&pr, t, 0, b0, 8, 0, 0);
			vbt_packed_put_table_desc(&pr, t, 1, t, 32, 0, VB_VRING_DESC_F_INDIRECT);
			vbt_packed_put_desc(&pr, 0, t, 32, 0, (uint16_t)(av | VB_VRING_DESC_F_INDIRECT));
			break;
		case 3:
			vbt_packed_put_desc(&pr, 0, b0, 8, 4, av);
			break;
		case 4:
			t = vbt_guest_alloc(&g, 16, 16);
			vbt_packed_put_table_desc(&pr, t, 0, b0, 8, 0, 0);
			vbt_packed_put_desc(&pr, 1, t, 16, 0, (uint16_t)(av | VB_VRING_DESC_F_INDIRECT));
			vbt_packed_put_desc(&pr, 0, b0, 8, 0, (uint16_t)(av | VB_VRING_DESC_F_NEXT));
			break;
		case 5:
			t = vbt_guest_alloc(&g, 32, 16);
			vbt_packed_put_desc(&pr, 0, t, 20, 0, (uint16_t)(av | VB_VRING_DESC_F_INDIRECT));
			break;
		case 6:	/* every slot says NEXT */
			for (uint16_t i = 4; i-- > 0;)
				vbt_packed_put_desc(&pr, i, b0, 8, 0, (uint16_t)(av | VB_VRING_DESC_F_NEXT));
			break;
		case 7:
			vbt_packed_put_desc(&pr, 0, g.gpa + VBT_FUZZ_GUEST_SIZE - 4, 8, 0, av);
			break;
		}
		op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_POP, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_NOTIFY, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_KICK, 0, 0, 0);
		op(&s, VBT_FUZZ_OP_QUEUE_RESET, 0x80, 0, 0);
		op(&s, VBT_FUZZ_OP_ADD, 0x05, 0x0c00, 0x0000003f);
		op(&s, VBT_FUZZ_OP_KICK, 0, 0, 0);
		save_vq("vq-packed", names[v], &h, &s, &g);
		vbt_guest_fini(&g);
	}
}


/* ---- virtio-mmio seeds ------------------------------------------------------------------ */

static void save_mmio(const char *name, struct vbt_fuzz_mmio_hdr *h, const struct seed *s,
		      const struct vbt_guest *g)
{
	static uint8_t buf[VBT_FUZZ_MMIO_HDR_LEN + VBT_FUZZ_MAX_OPS * VBT_FUZZ_OP_LEN +
			   VBT_FUZZ_GUEST_SIZE];
	size_t len;

	h->n_ops = (uint8_t)s->n_ops;
	len = vbt_fuzz_mmio_hdr_put(buf, h);
	for (unsigned int i = 0; i < s->n_ops; i++)
		len += vbt_fuzz_op_put(buf + len, &s->ops[i]);
	memcpy(buf + len, g->base, image_len(g));
	len += image_len(g);
	write_file("mmio", name, buf, len);
}

static void rd(struct seed *s, uint16_t off, uint8_t size)
{
	op(s, (enum vbt_fuzz_opcode)VBT_FUZZ_MMIO_READ, size, off, 0);
}

static void wr(struct seed *s, uint16_t off, uint8_t size, uint32_t val)
{
	op(s, (enum vbt_fuzz_opcode)VBT_FUZZ_MMIO_WRITE, size, off, val);
}

static void wr_guest(struct seed *s, const struct vbt_guest *g, uint64_t gpa, uint32_t val)
{
	op(s, (enum vbt_fuzz_opcode)VBT_FUZZ_MMIO_GUEST_WRITE, 0, (uint16_t)(gpa - g->gpa), val);
}

/* The features a device built from header bits offers through the register file. */
static uint64_t mmio_offered(uint8_t bits)
{
	static const unsigned int map[6] = {
		VB_VIRTIO_F_INDIRECT_DESC, VB_VIRTIO_F_EVENT_IDX, VB_VIRTIO_F_RING_PACKED,
		VB_VIRTIO_F_IN_ORDER, VB_VIRTIO_F_RING_RESET, VB_VIRTIO_F_NOTIFICATION_DATA,
	};
	uint64_t f = VB_BIT(VB_VIRTIO_F_VERSION_1);

	for (unsigned int i = 0; i < 6; i++)
		if (bits & (1u << i))
			f |= VB_BIT(map[i]);
	return f;
}

struct mq {
	uint16_t num;
	uint64_t desc, driver, device;
};

/* Linux's virtio_mmio.c probe and virtio_dev_probe(): identify, reset, ACKNOWLEDGE, DRIVER,
 * feature halves, FEATURES_OK read back, queue setup, DRIVER_OK (virtio 1.2, 3.1.1, 4.2.3). */
static void mmio_bring_up(struct seed *s, uint64_t features, const struct mq *q, unsigned int nq)
{
	rd(s, VB_MMIO_MAGIC_VALUE, 4);
	rd(s, VB_MMIO_VERSION, 4);
	rd(s, VB_MMIO_DEVICE_ID, 4);
	rd(s, VB_MMIO_VENDOR_ID, 4);
	wr(s, VB_MMIO_STATUS, 4, 0);
	wr(s, VB_MMIO_STATUS, 4, VB_VIRTIO_S_ACKNOWLEDGE);
	wr(s, VB_MMIO_STATUS, 4, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER);
	wr(s, VB_MMIO_DEVICE_FEATURES_SEL, 4, 1);
	rd(s, VB_MMIO_DEVICE_FEATURES, 4);
	wr(s, VB_MMIO_DEVICE_FEATURES_SEL, 4, 0);
	rd(s, VB_MMIO_DEVICE_FEATURES, 4);
	wr(s, VB_MMIO_DRIVER_FEATURES_SEL, 4, 1);
	wr(s, VB_MMIO_DRIVER_FEATURES, 4, (uint32_t)(features >> 32));
	wr(s, VB_MMIO_DRIVER_FEATURES_SEL, 4, 0);
	wr(s, VB_MMIO_DRIVER_FEATURES, 4, (uint32_t)features);
	wr(s, VB_MMIO_STATUS, 4, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
	   VB_VIRTIO_S_FEATURES_OK);
	rd(s, VB_MMIO_STATUS, 4);
	for (unsigned int i = 0; i < nq; i++) {
		wr(s, VB_MMIO_QUEUE_SEL, 4, i);
		rd(s, VB_MMIO_QUEUE_READY, 4);
		rd(s, VB_MMIO_QUEUE_NUM_MAX, 4);
		wr(s, VB_MMIO_QUEUE_NUM, 4, q[i].num);
		wr(s, VB_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)q[i].desc);
		wr(s, VB_MMIO_QUEUE_DESC_HIGH, 4, (uint32_t)(q[i].desc >> 32));
		wr(s, VB_MMIO_QUEUE_DRIVER_LOW, 4, (uint32_t)q[i].driver);
		wr(s, VB_MMIO_QUEUE_DRIVER_HIGH, 4, (uint32_t)(q[i].driver >> 32));
		wr(s, VB_MMIO_QUEUE_DEVICE_LOW, 4, (uint32_t)q[i].device);
		wr(s, VB_MMIO_QUEUE_DEVICE_HIGH, 4, (uint32_t)(q[i].device >> 32));
		wr(s, VB_MMIO_QUEUE_READY, 4, 1);
		rd(s, VB_MMIO_QUEUE_READY, 4);
	}
	wr(s, VB_MMIO_STATUS, 4, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
	   VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK);
}

/* The interrupt handler (vm_interrupt): read the status, acknowledge it. */
static void mmio_irq(struct seed *s)
{
	rd(s, VB_MMIO_INTERRUPT_STATUS, 4);
	wr(s, VB_MMIO_INTERRUPT_ACK, 4, VB_MMIO_INT_VRING);
	rd(s, VB_MMIO_INTERRUPT_STATUS, 4);
}

/* A config read as virtio_cread does it: generation, fields of 1/2/4 bytes, generation. */
static void mmio_config(struct seed *s)
{
	rd(s, VB_MMIO_CONFIG_GENERATION, 4);
	rd(s, VB_MMIO_CONFIG, 4);
	rd(s, VB_MMIO_CONFIG + 4, 2);
	rd(s, VB_MMIO_CONFIG + 7, 1);
	rd(s, VB_MMIO_CONFIG + 12, 4);
	rd(s, VB_MMIO_CONFIG_GENERATION, 4);
	wr(s, VB_MMIO_CONFIG + 8, 4, 0x12345678);
	rd(s, VB_MMIO_CONFIG + 8, 4);
}

static void mmio_guest(struct vbt_guest *g, uint8_t layout)
{
	if (vbt_guest_init(g, vbt_fuzz_guest_base(layout), VBT_FUZZ_GUEST_SIZE, 0) < 0)
		die("cannot map a guest");
}

/* One queue, split or packed, each feature combination: bring-up, a kick that finds two
 * chains, the interrupt, two more chains published by guest writes, config reads. */
static void gen_mmio_rings(void)
{
	for (unsigned int packed = 0; packed < 2; packed++) {
		for (unsigned int v = 0; v < 4; v++) {
			bool indirect = v & 1, event_idx = v & 2;
			uint8_t bits = (uint8_t)((indirect ? 1u << VBT_FUZZ_MF_INDIRECT : 0u) |
						 (event_idx ? 1u << VBT_FUZZ_MF_EVENT_IDX : 0u) |
						 (packed ? 1u << VBT_FUZZ_MF_PACKED : 0u));
			struct vbt_fuzz_mmio_hdr h = {
				.features = bits, .layout = VBT_FUZZ_LAYOUT(0, 1), .options = 0,
				.num_max = 255, .iov_cap = 0x77, .seed = 0x5a,
			};
			struct seed s = { .n_ops = 0 };
			struct vbt_guest g;
			struct shape sh[4];
			struct mq q;
			char name[64];

			mmio_guest(&g, h.layout);
			if (!packed) {
				struct vbt_split r;

				vbt_split_init(&r, &g, 8);
				q = (struct mq){ 8, r.desc_gpa, r.avail_gpa, r.used_gpa };
				make_shapes(&g, sh);
				for (unsigned int i = 0; i < 4; i++)
					vbt_split_add(&r, sh[i].b, sh[i].n, indirect && sh[i].n > 1);
				/* Only two published for now; the script publishes the rest. */
				r.avail->idx = vb_cpu_to_le16(2);
				mmio_bring_up(&s, mmio_offered(bits), &q, 1);
				wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 0);
				mmio_irq(&s);
				wr_guest(&s, &g, r.avail_gpa, 4u << 16);	/* flags 0, idx 4 */
			} else {
				struct vbt_packed_pending p[2];

				vbt_packed_init(&pr, &g, 16);
				q = (struct mq){ 16, pr.desc_gpa, pr.driver_gpa, pr.device_gpa };
				make_shapes(&g, sh);
				for (unsigned int i = 0; i < 2; i++)
					vbt_packed_add(&pr, sh[i].b, sh[i].n, indirect && sh[i].n > 1);
				for (unsigned int i = 0; i < 2; i++)
					if (vbt_packed_prepare(&pr, sh[2 + i].b, sh[2 + i].n,
							       indirect && sh[2 + i].n > 1, &p[i]) < 0)
						die("packed ring full");
				mmio_bring_up(&s, mmio_offered(bits), &q, 1);
				wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 0);
				mmio_irq(&s);
				/* Publish the two prepared heads: id and flags in one store each. */
				for (unsigned int i = 0; i < 2; i++)
					wr_guest(&s, &g, pr.desc_gpa + 16u * p[i].slot + 12,
						 p[i].id | (uint32_t)p[i].flags << 16);
			}
			wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 0);
			mmio_irq(&s);
			mmio_config(&s);
			snprintf(name, sizeof(name), "mmio-%s-%s", packed ? "packed" : "split",
				 feature_name(indirect, event_idx));
			save_mmio(name, &h, &s, &g);
			vbt_guest_fini(&g);
		}
	}
}

/* Two queues, deferred kicks (host kick hook), NOTIFICATION_DATA, RING_RESET, config change
 * notifications, then a reset and a second bring-up. */
static void gen_mmio_two_queues(void)
{
	uint8_t bits = (uint8_t)(1u << VBT_FUZZ_MF_EVENT_IDX | 1u << VBT_FUZZ_MF_RING_RESET |
				 1u << VBT_FUZZ_MF_NOTIFICATION_DATA | 1u << VBT_FUZZ_MF_SR_IOV);
	struct vbt_fuzz_mmio_hdr h = {
		.features = bits, .layout = VBT_FUZZ_LAYOUT(2, 1),
		.options = (uint8_t)(1u | VBT_FUZZ_MO_HOST_KICK | VBT_FUZZ_MO_CONFIG_CHANGES),
		.num_max = 15, .iov_cap = 0x33, .seed = 0xa5,
	};
	struct seed s = { .n_ops = 0 };
	struct vbt_guest g;
	struct vbt_split r[2];
	struct shape sh[4];
	struct mq q[2];

	mmio_guest(&g, h.layout);
	for (unsigned int i = 0; i < 2; i++) {
		vbt_split_init(&r[i], &g, 4);
		q[i] = (struct mq){ 4, r[i].desc_gpa, r[i].avail_gpa, r[i].used_gpa };
	}
	make_shapes(&g, sh);
	vbt_split_add(&r[0], sh[0].b, sh[0].n, false);
	vbt_split_add(&r[0], sh[1].b, sh[1].n, false);
	vbt_split_add(&r[1], sh[2].b, sh[2].n, false);
	vbt_split_add(&r[1], sh[3].b, sh[3].n, false);
	mmio_bring_up(&s, mmio_offered(bits), q, 2);
	wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 0x00020000u);		/* vqn 0, next_off 2 */
	wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 1);
	op(&s, (enum vbt_fuzz_opcode)VBT_FUZZ_MMIO_RUN_KICKS, 0, 0, 0);
	mmio_irq(&s);
	wr(&s, VB_MMIO_CONFIG + 4, 2, 0xbeef);			/* the model signals a change */
	rd(&s, VB_MMIO_INTERRUPT_STATUS, 4);
	wr(&s, VB_MMIO_INTERRUPT_ACK, 4, VB_MMIO_INT_CONFIG);
	wr(&s, VB_MMIO_QUEUE_SEL, 4, 1);
	rd(&s, VB_MMIO_QUEUE_RESET, 4);
	wr(&s, VB_MMIO_QUEUE_RESET, 4, 1);			/* RING_RESET: reset queue 1 */
	rd(&s, VB_MMIO_QUEUE_READY, 4);
	wr(&s, VB_MMIO_QUEUE_NUM, 4, 4);
	wr(&s, VB_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)q[1].desc);
	wr(&s, VB_MMIO_QUEUE_DRIVER_LOW, 4, (uint32_t)q[1].driver);
	wr(&s, VB_MMIO_QUEUE_DEVICE_LOW, 4, (uint32_t)q[1].device);
	wr(&s, VB_MMIO_QUEUE_READY, 4, 1);
	wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 1);
	op(&s, (enum vbt_fuzz_opcode)VBT_FUZZ_MMIO_RUN_KICKS, 0, 0, 0);
	wr(&s, VB_MMIO_STATUS, 4, 0);				/* reset, then again */
	mmio_bring_up(&s, mmio_offered(bits), q, 2);
	wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 0);
	op(&s, (enum vbt_fuzz_opcode)VBT_FUZZ_MMIO_RUN_KICKS, 0, 0, 0);
	mmio_irq(&s);
	save_mmio("mmio-2q-host-kick-ring-reset", &h, &s, &g);
	vbt_guest_fini(&g);
}

/* The accesses a driver must not make (virtio 1.2, 4.2.2.2), each refused and harmless. */
static void gen_mmio_refusals(void)
{
	uint8_t bits = (uint8_t)(1u << VBT_FUZZ_MF_INDIRECT);
	struct vbt_fuzz_mmio_hdr h = {
		.features = bits, .layout = VBT_FUZZ_LAYOUT(0, 1), .options = 0,
		.num_max = 63, .iov_cap = 0x77, .seed = 1,
	};
	struct seed s = { .n_ops = 0 };
	struct vbt_guest g;
	struct vbt_split r;
	struct mq q;

	mmio_guest(&g, h.layout);
	vbt_split_init(&r, &g, 8);
	q = (struct mq){ 8, r.desc_gpa, r.avail_gpa, r.used_gpa };
	rd(&s, VB_MMIO_MAGIC_VALUE, 2);				/* bad size */
	rd(&s, VB_MMIO_MAGIC_VALUE + 1, 4);			/* misaligned */
	rd(&s, 0x018, 4);					/* undefined offset */
	rd(&s, VB_MMIO_QUEUE_NOTIFY, 4);			/* write-only */
	wr(&s, VB_MMIO_MAGIC_VALUE, 4, 0);			/* read-only */
	wr(&s, VB_MMIO_DRIVER_FEATURES, 4, 1);			/* before DRIVER */
	wr(&s, VB_MMIO_STATUS, 4, VB_VIRTIO_S_DRIVER);		/* skips ACKNOWLEDGE */
	wr(&s, VB_MMIO_STATUS, 4, 0x100);			/* above 8 bits */
	wr(&s, VB_MMIO_STATUS, 4, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER);
	wr(&s, VB_MMIO_DRIVER_FEATURES_SEL, 4, 2);
	wr(&s, VB_MMIO_DRIVER_FEATURES, 4, 1);			/* bit 64: FEATURES_OK refused */
	wr(&s, VB_MMIO_STATUS, 4, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
	   VB_VIRTIO_S_FEATURES_OK);
	rd(&s, VB_MMIO_STATUS, 4);
	wr(&s, VB_MMIO_QUEUE_SEL, 4, 7);			/* no such queue */
	rd(&s, VB_MMIO_QUEUE_NUM_MAX, 4);
	wr(&s, VB_MMIO_QUEUE_NUM, 4, 8);
	wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 7);
	wr(&s, VB_MMIO_INTERRUPT_ACK, 4, 4);			/* undefined bit */
	rd(&s, VB_MMIO_QUEUE_RESET, 4);				/* RING_RESET not offered */
	rd(&s, VB_MMIO_SHM_LEN_LOW, 4);
	wr(&s, VB_MMIO_CONFIG + 15, 2, 0);			/* misaligned config */
	wr(&s, VB_MMIO_CONFIG + 16, 1, 0);			/* past config */
	wr(&s, VB_MMIO_CONFIG, 1, 0x100);			/* value too wide */
	op(&s, (enum vbt_fuzz_opcode)(VBT_FUZZ_MMIO_READ | 0x80), 4, 0, 0);	/* 2^32 */
	mmio_bring_up(&s, mmio_offered(bits), &q, 1);
	wr(&s, VB_MMIO_QUEUE_NUM, 4, 4);			/* while ready */
	wr(&s, VB_MMIO_QUEUE_READY, 4, 2);
	wr(&s, VB_MMIO_QUEUE_READY, 4, 0);
	wr(&s, VB_MMIO_QUEUE_NUM, 4, 0x10000);
	wr(&s, VB_MMIO_QUEUE_NUM, 4, 128);			/* above QueueNumMax */
	wr(&s, VB_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)q.desc + 8);	/* misaligned ring */
	wr(&s, VB_MMIO_QUEUE_READY, 4, 1);
	rd(&s, VB_MMIO_QUEUE_READY, 4);
	save_mmio("mmio-refusals", &h, &s, &g);
	vbt_guest_fini(&g);
}

/* A hostile ring after DRIVER_OK: the queue breaks, NEEDS_RESET and the configuration
 * interrupt follow, the driver resets. Also a device whose activation fails. */
static void gen_mmio_hostile(void)
{
	for (unsigned int v = 0; v < 2; v++) {
		uint8_t bits = (uint8_t)(v ? 1u << VBT_FUZZ_MF_ACTIVATE_FAILS : 0u);
		struct vbt_fuzz_mmio_hdr h = {
			.features = bits, .layout = VBT_FUZZ_LAYOUT(0, 1), .options = 0,
			.num_max = 255, .iov_cap = 0x77, .seed = 3,
		};
		struct seed s = { .n_ops = 0 };
		struct vbt_guest g;
		struct vbt_split r;
		struct mq q;
		uint64_t b;

		mmio_guest(&g, h.layout);
		vbt_split_init(&r, &g, 8);
		q = (struct mq){ 8, r.desc_gpa, r.avail_gpa, r.used_gpa };
		b = vbt_guest_alloc(&g, 64, 8);
		vbt_split_put_desc(&r, 0, b, 8, VB_VRING_DESC_F_NEXT, 0);	/* loop */
		vbt_split_publish(&r, 0);
		mmio_bring_up(&s, mmio_offered(bits), &q, 1);
		rd(&s, VB_MMIO_STATUS, 4);
		wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 0);
		rd(&s, VB_MMIO_STATUS, 4);
		rd(&s, VB_MMIO_INTERRUPT_STATUS, 4);
		wr(&s, VB_MMIO_INTERRUPT_ACK, 4, VB_MMIO_INT_CONFIG);
		wr(&s, VB_MMIO_QUEUE_NOTIFY, 4, 0);
		wr(&s, VB_MMIO_STATUS, 4, 0);
		rd(&s, VB_MMIO_QUEUE_READY, 4);
		save_mmio(v ? "mmio-activate-fails" : "mmio-hostile-loop", &h, &s, &g);
		vbt_guest_fini(&g);
	}
}

/* ---- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR (writes DIR/<target>/<seed>)\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
		die("cannot create the output directory");
	gen_split_valid();
	gen_split_regions();
	gen_split_wrap();
	gen_split_top();
	gen_split_hostile();
	gen_packed_valid();
	gen_packed_laps();
	gen_packed_hostile();
	gen_mmio_rings();
	gen_mmio_two_queues();
	gen_mmio_refusals();
	gen_mmio_hostile();
	return 0;
}
