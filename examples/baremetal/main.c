/* SPDX-License-Identifier: MIT */
/*
 * libvirtio-backend on bare metal: a driver simulator and a device model exchange requests
 * through the core, in one Cortex-M image under QEMU (mps2-an385 / mps2-an386).
 *
 * The driver side lays out a split ring in fake guest memory (tests/support/vbt-split.c
 * over the static-pool vbt-mem-static.c: 32 KiB cut into 64 regions of 512 bytes, so
 * buffers straddle regions and the core must split them) and talks to the device only
 * through the virtio-mmio register file (vb_mmio_read/vb_mmio_write), as a guest would
 * through trapped MMIO accesses. The device side is echo-dev.c, which sees only vq.h and
 * chain.h.
 *
 * It runs N_REQUESTS requests in batches (a tenth of them through indirect tables), checks
 * every answer byte by byte, then feeds hostile chains (a descriptor loop, a buffer outside
 * guest memory, a readable descriptor after a writable one) and checks that each is refused
 * with its errno, breaks the queue, sets DEVICE_NEEDS_RESET with a configuration change
 * interrupt, refuses further kicks, and that a device reset recovers it. The exit status
 * (semihosting SYS_EXIT_EXTENDED) is 0 if every check passed.
 *
 * @verify{VB-REQ-PORT-004} the core runs on Cortex-M3 and Cortex-M4 under QEMU
 * @verify{VB-REQ-PORT-005} the bare-metal port supplies every hook the core needs
 */
#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "virtio-backend.h"
#include "echo-dev.h"
#include "semihost.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define N_REQUESTS	1000u
#define N_AFTER_RESET	50u	/* requests after each recovery */
#define GUEST_GPA	0x80000000u	/* guest addresses differ from host addresses */
#define GUEST_SIZE	(32u * 1024u)
#define REGION_SIZE	512u
#define QSZ		32u
#define BATCH		8u	/* chains per kick; at most 4 descriptors each: fits QSZ */
#define MAX_MSG		200u
#define MODE		(ECHO_MODE_UPPER | ECHO_MODE_REVERSE)

#define S_ACK		VB_VIRTIO_S_ACKNOWLEDGE
#define S_DRIVER	VB_VIRTIO_S_DRIVER
#define S_FEATURES_OK	VB_VIRTIO_S_FEATURES_OK
#define S_DRIVER_OK	VB_VIRTIO_S_DRIVER_OK

/* The image's own view of the linked core (mps2.ld). */
extern const uint8_t __vb_core_start[], __vb_core_end[];

/* ---- output and checks ---------------------------------------------------------------- */

struct line {
	char	buf[200];
	size_t	n;
};

static void put(struct line *l, const char *s)
{
	while (*s && l->n + 1 < sizeof(l->buf))
		l->buf[l->n++] = *s++;
	l->buf[l->n] = 0;
}

static void put_u(struct line *l, uint32_t v)
{
	char d[11];
	int i = (int)sizeof(d) - 1;

	d[i] = 0;
	do
		d[--i] = (char)('0' + v % 10u);
	while ((v /= 10u) != 0);
	put(l, &d[i]);
}

static _Noreturn void fail(int line, const char *what)
{
	struct line l = { .n = 0 };

	put(&l, "baremetal: FAIL: main.c:");
	put_u(&l, (uint32_t)line);
	put(&l, ": ");
	put(&l, what);
	put(&l, "\n");
	sh_puts(l.buf);
	sh_exit(1);
}

#define CHECK(cond) do { if (!(cond)) fail(__LINE__, #cond); } while (0)

/* ---- the platform: register file, device, interrupt line ---------------------------------- */

struct host {
	bool		irq;		/* level of the device's interrupt line */
	uint32_t	irq_raises;	/* set_irq(true) calls */
};

static struct host host;
static alignas(8) uint8_t mmio_storage[VB_MMIO_STORAGE_MAX];
static alignas(8) uint8_t dev_storage[VB_DEV_STORAGE_MAX(1)];
static struct vb_mmio *mmio;
static struct vb_dev *dev;
static struct echo_dev echo;

static void host_set_irq(void *ctx, bool level)
{
	struct host *h = ctx;

	h->irq = level;
	if (level)
		h->irq_raises++;
}

/* kick = NULL: a QueueNotify write runs the device model's kick hook at once. */
static const struct vb_mmio_host_ops host_ops = {
	.version = VB_MMIO_HOST_OPS_V1,
	.set_irq = host_set_irq,
};

static uint32_t reg_rd(uint32_t off)
{
	uint32_t v;

	CHECK(vb_mmio_read(mmio, off, 4, &v) == 0);
	return v;
}

static void reg_wr(uint32_t off, uint32_t v)
{
	CHECK(vb_mmio_write(mmio, off, 4, v) == 0);
}

/* ---- the driver ------------------------------------------------------------------------- */

struct driver {
	struct vbt_guest	g;
	struct vbt_split	ring;
	uint32_t		seed;
	/* statistics */
	uint32_t		requests;
	uint32_t		indirect;
	uint32_t		kicks;
};

static struct driver drv;

static uint32_t rnd(struct driver *d)
{
	/* xorshift32: deterministic, so a failure reproduces. */
	uint32_t x = d->seed;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return d->seed = x;
}

/* virtio 1.2, 3.1.1 "Driver Requirements: Device Initialization" and 4.2.3.2
 * "Virtqueue Configuration", through the registers only. */
static void driver_setup(struct driver *d)
{
	const uint64_t want = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
			      VB_BIT(VB_VIRTIO_F_EVENT_IDX);
	struct vbt_split *r = &d->ring;
	uint64_t offered;
	uint32_t v;

	CHECK(reg_rd(VB_MMIO_MAGIC_VALUE) == VB_MMIO_MAGIC);
	CHECK(reg_rd(VB_MMIO_VERSION) == 2);
	CHECK(reg_rd(VB_MMIO_DEVICE_ID) == ECHO_DEVICE_ID);
	reg_wr(VB_MMIO_STATUS, 0);
	reg_wr(VB_MMIO_STATUS, S_ACK);
	reg_wr(VB_MMIO_STATUS, S_ACK | S_DRIVER);
	reg_wr(VB_MMIO_DEVICE_FEATURES_SEL, 1);
	offered = (uint64_t)reg_rd(VB_MMIO_DEVICE_FEATURES) << 32;
	reg_wr(VB_MMIO_DEVICE_FEATURES_SEL, 0);
	offered |= reg_rd(VB_MMIO_DEVICE_FEATURES);
	CHECK((offered & want) == want);
	reg_wr(VB_MMIO_DRIVER_FEATURES_SEL, 0);
	reg_wr(VB_MMIO_DRIVER_FEATURES, (uint32_t)want);
	reg_wr(VB_MMIO_DRIVER_FEATURES_SEL, 1);
	reg_wr(VB_MMIO_DRIVER_FEATURES, (uint32_t)(want >> 32));
	reg_wr(VB_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
	CHECK(reg_rd(VB_MMIO_STATUS) & S_FEATURES_OK);

	/* A fresh ring at the start of guest memory (the arena restarts after a reset). */
	d->g.next = 0;
	vbt_split_init(r, &d->g, QSZ);
	reg_wr(VB_MMIO_QUEUE_SEL, 0);
	CHECK(reg_rd(VB_MMIO_QUEUE_READY) == 0);
	CHECK(reg_rd(VB_MMIO_QUEUE_NUM_MAX) >= QSZ);
	reg_wr(VB_MMIO_QUEUE_NUM, QSZ);
	reg_wr(VB_MMIO_QUEUE_DESC_LOW, (uint32_t)r->desc_gpa);
	reg_wr(VB_MMIO_QUEUE_DESC_HIGH, (uint32_t)(r->desc_gpa >> 32));
	reg_wr(VB_MMIO_QUEUE_DRIVER_LOW, (uint32_t)r->avail_gpa);
	reg_wr(VB_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(r->avail_gpa >> 32));
	reg_wr(VB_MMIO_QUEUE_DEVICE_LOW, (uint32_t)r->used_gpa);
	reg_wr(VB_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(r->used_gpa >> 32));
	reg_wr(VB_MMIO_QUEUE_READY, 1);

	/* Device-specific setup through config space, then DRIVER_OK. */
	CHECK(vb_mmio_write(mmio, VB_MMIO_CONFIG + ECHO_CFG_MODE, 4, MODE) == 0);
	CHECK(vb_mmio_read(mmio, VB_MMIO_CONFIG + ECHO_CFG_MODE, 4, &v) == 0 && v == MODE);
	CHECK(vb_mmio_read(mmio, VB_MMIO_CONFIG + ECHO_CFG_MAX_LEN, 4, &v) == 0 &&
	      v == ECHO_MAX_LEN);
	reg_wr(VB_MMIO_STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
	CHECK(reg_rd(VB_MMIO_STATUS) == (S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK));
}

/* One request as the driver keeps it until the answer arrives. */
struct request {
	uint16_t	head;
	uint8_t		n_write;
	uint32_t	len;
	uint8_t		expect[MAX_MSG];
	struct vbt_buf	wbuf[2];
};

/* Queue one request: a random message in 1 or 2 readable buffers and room for the answer
 * in 1 or 2 writable buffers; direct, or (every tenth) through an indirect table. */
static void add_request(struct driver *d, uint32_t seq, struct request *q)
{
	struct vbt_buf bufs[4];
	unsigned int n = 0;
	uint32_t len = 1 + rnd(d) % MAX_MSG, cut;
	bool indirect = seq % 10u == 3u;
	bool two = seq % 5u == 1u || indirect;
	uint8_t *msg;

	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLM0123456789.,-";

	/* The message: one readable buffer, or two split at a random point. */
	cut = two && len > 1 ? 1 + rnd(d) % (len - 1) : len;
	bufs[n++] = (struct vbt_buf){ vbt_guest_alloc(&d->g, cut, 1), cut, false };
	if (cut < len)
		bufs[n++] = (struct vbt_buf){ vbt_guest_alloc(&d->g, len - cut, 1), len - cut, false };
	for (unsigned int b = 0; b < n; b++) {
		msg = vbt_guest_ptr(&d->g, bufs[b].gpa);
		for (uint32_t i = 0; i < bufs[b].len; i++)
			msg[i] = (uint8_t)alphabet[rnd(d) % (sizeof(alphabet) - 1)];
	}
	/* What the answer must be, from the driver's own copy. */
	memcpy(q->expect, vbt_guest_ptr(&d->g, bufs[0].gpa), bufs[0].len);
	if (n == 2)
		memcpy(q->expect + bufs[0].len, vbt_guest_ptr(&d->g, bufs[1].gpa), bufs[1].len);
	echo_transform(q->expect, len, MODE);

	/* Room for the answer, with a little slack that must stay untouched. */
	q->n_write = two ? 2 : 1;
	if (two) {
		uint32_t first = len / 2 + 1;

		q->wbuf[0] = (struct vbt_buf){ vbt_guest_alloc(&d->g, first, 1), first, true };
		q->wbuf[1] = (struct vbt_buf){ vbt_guest_alloc(&d->g, len - first + 4, 1),
					       len - first + 4, true };
	} else {
		uint32_t room = len + rnd(d) % 8u;

		q->wbuf[0] = (struct vbt_buf){ vbt_guest_alloc(&d->g, room, 1), room, true };
	}
	for (unsigned int b = 0; b < q->n_write; b++)
		bufs[n++] = q->wbuf[b];

	/* An indirect table of at most 4 entries at a 64-byte boundary never straddles two of
	 * the 512-byte regions: the core wants each table in one region. */
	if (indirect) {
		vbt_guest_alloc(&d->g, 0, 64);
		d->indirect++;
	}
	q->len = len;
	q->head = vbt_split_add(&d->ring, bufs, n, indirect);
}

/* Collect and check one answer: head, used length, every byte, untouched slack. */
static void check_answer(struct driver *d, const struct request *q)
{
	uint32_t id, used_len, off = 0;

	CHECK(vbt_split_get_used(&d->ring, &id, &used_len) == 1);
	CHECK(id == q->head);
	CHECK(used_len == q->len);
	for (unsigned int b = 0; b < q->n_write; b++) {
		const uint8_t *p = vbt_guest_ptr(&d->g, q->wbuf[b].gpa);

		for (uint32_t i = 0; i < q->wbuf[b].len; i++, off++) {
			if (off < q->len)
				CHECK(p[i] == q->expect[off]);
			else
				CHECK(p[i] == 0);	/* beyond the used length */
		}
	}
}

static void run_requests(struct driver *d, uint32_t count)
{
	static struct request reqs[BATCH];

	for (uint32_t done = 0; done < count;) {
		const uint32_t n = count - done < BATCH ? count - done : BATCH;
		const uint64_t mark = d->g.next;	/* buffers of this batch are freed after it */
		const uint16_t old = d->ring.avail_idx;

		for (uint32_t i = 0; i < n; i++)
			add_request(d, d->requests + i, &reqs[i]);
		/* Ask for an interrupt as soon as the device uses anything (EVENT_IDX), and kick
		 * only if the device asked for it, as a Linux driver does. */
		vbt_split_set_used_event(&d->ring, d->ring.last_used);
		CHECK(vbt_split_driver_would_kick(&d->ring, true, old, d->ring.avail_idx));
		host.irq = false;
		reg_wr(VB_MMIO_QUEUE_NOTIFY, 0);
		d->kicks++;
		CHECK(host.irq);
		CHECK(reg_rd(VB_MMIO_INTERRUPT_STATUS) == VB_MMIO_INT_VRING);
		reg_wr(VB_MMIO_INTERRUPT_ACK, VB_MMIO_INT_VRING);
		CHECK(!host.irq);
		for (uint32_t i = 0; i < n; i++)
			check_answer(d, &reqs[i]);
		CHECK(vbt_split_get_used(&d->ring, &(uint32_t){ 0 }, &(uint32_t){ 0 }) == 0);
		d->requests += n;
		done += n;
		d->g.next = mark;
	}
	CHECK(echo.last_error == 0);
}

/* ---- hostile chains ------------------------------------------------------------------------ */

enum hostile {
	H_LOOP,			/* 0 -> 1 -> 0 -> ... */
	H_OUTSIDE,		/* a buffer past the end of guest memory */
	H_READ_AFTER_WRITE,	/* readable descriptor after a writable one */
	H_COUNT
};

static const struct {
	const char	*what;
	int		err;
} hostile_cases[H_COUNT] = {
	[H_LOOP] = { "descriptor loop", -ELOOP },
	[H_OUTSIDE] = { "buffer outside guest memory", -EFAULT },
	[H_READ_AFTER_WRITE] = { "readable after writable", -EPROTO },
};

static void feed_hostile(struct driver *d, enum hostile h)
{
	struct vbt_split *r = &d->ring;
	const uint64_t buf = vbt_guest_alloc(&d->g, 16, 16);
	struct vb_vq *vq = vb_dev_queue(dev, 0);
	const int err = hostile_cases[h].err;

	switch (h) {
	case H_LOOP:
		/* virtio 1.2, 2.7.5.2: a chain is no longer than the queue. Empty buffers, so
		 * the walk is stopped by the length bound and not earlier by the device's
		 * iovec storage (a loop of non-empty buffers ends in -E2BIG). */
		vbt_split_put_desc(r, 0, buf, 0, VB_VRING_DESC_F_NEXT, 1);
		vbt_split_put_desc(r, 1, buf, 0, VB_VRING_DESC_F_NEXT, 0);
		break;
	case H_OUTSIDE:
		vbt_split_put_desc(r, 0, GUEST_GPA + GUEST_SIZE - 8u, 16, 0, 0);
		break;
	case H_READ_AFTER_WRITE:
		/* virtio 1.2, 2.7.4.2 "Driver Requirements: Message Framing". */
		vbt_split_put_desc(r, 0, buf, 8, VB_VRING_DESC_F_WRITE | VB_VRING_DESC_F_NEXT, 1);
		vbt_split_put_desc(r, 1, buf + 8, 8, 0, 0);
		break;
	case H_COUNT:
		break;
	}
	vbt_split_publish(r, 0);
	host.irq = false;
	/* The kick is delivered; the model's pop finds the violation. */
	reg_wr(VB_MMIO_QUEUE_NOTIFY, 0);
	CHECK(echo.last_error == err);
	CHECK(vb_vq_error(vq) == err);
	CHECK(!vb_vq_is_ready(vq));
	/* virtio 1.2, 2.1.2: NEEDS_RESET, and a configuration change notification after
	 * DRIVER_OK. Nothing was used. */
	CHECK(reg_rd(VB_MMIO_STATUS) & VB_VIRTIO_S_NEEDS_RESET);
	CHECK(host.irq);
	CHECK(reg_rd(VB_MMIO_INTERRUPT_STATUS) == VB_MMIO_INT_CONFIG);
	CHECK(vbt_split_used_idx(r) == r->last_used);
	/* The queue stays broken: a second kick is refused. */
	CHECK(vb_mmio_write(mmio, VB_MMIO_QUEUE_NOTIFY, 4, 0) == -ENOTRECOVERABLE);

	/* Recovery: a device reset clears everything; the driver sets the device up again. */
	reg_wr(VB_MMIO_STATUS, 0);
	CHECK(reg_rd(VB_MMIO_STATUS) == 0);
	CHECK(reg_rd(VB_MMIO_INTERRUPT_STATUS) == 0 && !host.irq);
	CHECK(vb_vq_error(vq) == 0);
	reg_wr(VB_MMIO_QUEUE_SEL, 0);
	CHECK(reg_rd(VB_MMIO_QUEUE_READY) == 0);
	driver_setup(d);
	run_requests(d, N_AFTER_RESET);
}

/* ---- main ------------------------------------------------------------------------------- */

int main(void)
{
	struct driver *d = &drv;
	uint32_t core_bytes = (uint32_t)(__vb_core_end - __vb_core_start);
	struct line l = { .n = 0 };

	d->seed = 0x12345678u;
	CHECK(vbt_guest_init(&d->g, GUEST_GPA, GUEST_SIZE, REGION_SIZE) == 0);
	CHECK(d->g.mem.n_regions == GUEST_SIZE / REGION_SIZE);
	CHECK(vb_mmio_init(mmio_storage, sizeof(mmio_storage), &host_ops, &host, &mmio) == 0);
	CHECK(vb_dev_init(dev_storage, sizeof(dev_storage), &echo_ops, &echo,
			  &vb_mmio_transport_ops, mmio, &d->g.mem, &dev) == 0);
	CHECK(vb_mmio_attach(mmio, dev) == 0);

	driver_setup(d);
	run_requests(d, N_REQUESTS);
	CHECK(echo.requests == N_REQUESTS && echo.refused == 0);
	put(&l, "baremetal: ");
	put_u(&l, N_REQUESTS);
	put(&l, " requests OK (");
	put_u(&l, d->indirect);
	put(&l, " indirect, ");
	put_u(&l, echo.scattered);
	put(&l, " scattered over several iovecs, ");
	put_u(&l, d->kicks);
	put(&l, " kicks, ");
	put_u(&l, host.irq_raises);
	put(&l, " interrupts)\n");
	sh_puts(l.buf);

	for (unsigned int h = 0; h < H_COUNT; h++) {
		feed_hostile(d, (enum hostile)h);
		l.n = 0;
		put(&l, "baremetal: ");
		put(&l, hostile_cases[h].what);
		put(&l, " rejected with ");
		put(&l, vb_strerror(hostile_cases[h].err));
		put(&l, ", NEEDS_RESET set, recovered after reset (");
		put_u(&l, N_AFTER_RESET);
		put(&l, " more requests OK)\n");
		sh_puts(l.buf);
	}
	CHECK(echo.requests == d->requests && echo.refused == 0);

	l.n = 0;
	put(&l, "baremetal: PASS: ");
	put_u(&l, d->requests);
	put(&l, " requests, ");
	put_u(&l, H_COUNT);
	put(&l, " hostile chains rejected, core text=");
	put_u(&l, core_bytes);
	put(&l, " bytes (linked)\n");
	sh_puts(l.buf);
	return 0;
}
