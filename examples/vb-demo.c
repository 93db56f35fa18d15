/* SPDX-License-Identifier: MIT */
/*
 * vb-demo: libvirtio-backend end to end, in one process.
 *
 * A device model (demo-echo, examples/demo-device.c: upper-cases or reverses what it is sent)
 * sits behind the library's virtio-mmio register file. A driver simulator that behaves like
 * Linux's virtio_mmio driver (tests/support/vbt-mmio.c) brings it up through register
 * accesses only, posts requests on a split ring in simulated guest memory, kicks the device
 * through QueueNotify and takes the interrupt through InterruptStatus/InterruptACK. Every line
 * printed is something one of the three parties did:
 *
 *   driver | the simulated guest driver (register accesses, rings)
 *   device | the device model (chains popped and pushed)
 *   host   | the VMM around the register file (interrupt line, config changes)
 *
 * usage: vb-demo [-v]   (-v also prints every register access)
 * Exit status 0 and a final "OK" when every response was right.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "demo-device.h"
#include "vbt-mem.h"
#include "vbt-mmio.h"
#include "vbt-split.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(256u * 1024u)
#define QSZ		8u
#define BUF_LEN		64u

struct demo {
	struct vbt_guest	g;
	struct vbt_split	r;
	struct demo_device	model;
	struct vbt_mmio_host	host;
	struct vbt_mmio_drv	drv;
	uint64_t		req[QSZ], resp[QSZ];
	unsigned int		requests, responses, failures;
};

static void say(void *who, const char *line)
{
	printf("%-6s | %s\n", (const char *)who, line);
}

/* Print changes of the line only: the register file may lower an already low line. */
static void on_irq(void *ctx, bool level)
{
	bool *shown = ctx;

	if (level == *shown)
		return;
	*shown = level;
	printf("%-6s | interrupt line %s\n", "host", level ? "raised" : "lowered");
}

static void section(const char *title)
{
	printf("\n== %s\n", title);
}

static void check(struct demo *d, bool ok, const char *what)
{
	if (ok)
		return;
	d->failures++;
	printf("FAILED: %s\n", what);
}

static void print_config(struct demo *d)
{
	uint8_t b[4];
	uint32_t mode, max_len;
	char line[128];

	if (vbt_mmio_config_read(&d->drv, DEMO_CONFIG_MODE, b, 4) < 0)
		return;
	mode = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	if (vbt_mmio_config_read(&d->drv, DEMO_CONFIG_MAX_LEN, b, 4) < 0)
		return;
	max_len = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
		  (uint32_t)b[3] << 24;
	snprintf(line, sizeof(line), "config: ConfigGeneration %u, mode %u (%s), max_len %u",
		 vbt_mmio_config_generation(&d->drv), mode,
		 mode == DEMO_MODE_REVERSE ? "reverse" : "upper-case", max_len);
	say("driver", line);
}

/* Post a request on ring slot `slot`; returns the head. */
static uint16_t post(struct demo *d, unsigned int slot, const char *text, bool indirect)
{
	size_t n = strlen(text);
	struct vbt_buf bufs[2] = {
		{ .gpa = d->req[slot], .len = (uint32_t)n, .write = false },
		{ .gpa = d->resp[slot], .len = BUF_LEN, .write = true },
	};
	char line[160];

	memcpy(vbt_guest_ptr(&d->g, d->req[slot]), text, n);
	memset(vbt_guest_ptr(&d->g, d->resp[slot]), 0, BUF_LEN);
	d->requests++;
	snprintf(line, sizeof(line), "request %u: \"%s\" (%zu bytes readable, %u writable%s)",
		 d->requests, text, n, BUF_LEN, indirect ? ", indirect table" : "");
	say("driver", line);
	return vbt_split_add(&d->r, bufs, 2, indirect);
}

/* Kick as Linux decides it (EVENT_IDX: only when the device asked for it). */
static void kick(struct demo *d, uint16_t old_idx)
{
	bool event_idx = (d->drv.features & VB_BIT(VB_VIRTIO_F_EVENT_IDX)) != 0;

	if (!vbt_split_driver_would_kick(&d->r, event_idx, old_idx, d->r.avail_idx)) {
		say("driver", "no kick: the device asked not to be notified");
		return;
	}
	vbt_mmio_notify(&d->drv, 0);
}

static void take_interrupt(struct demo *d, uint32_t want)
{
	uint32_t st;

	check(d, d->host.irq, "the interrupt line is high");
	st = vbt_mmio_interrupt(&d->drv);
	check(d, st == want, "InterruptStatus shows the expected event");
	check(d, !d->host.irq, "the interrupt line is low after InterruptACK");
}

/* Read one used element and compare the response with `want`. */
static void expect_response(struct demo *d, uint16_t head, unsigned int slot, const char *want)
{
	uint32_t id = 0, len = 0;
	char got[BUF_LEN + 1], line[200];

	if (vbt_split_get_used(&d->r, &id, &len) != 1) {
		check(d, false, "a used element is there");
		return;
	}
	if (len > BUF_LEN)
		len = BUF_LEN;
	memcpy(got, vbt_guest_ptr(&d->g, d->resp[slot]), len);
	got[len] = '\0';
	d->responses++;
	snprintf(line, sizeof(line), "response: used id %u, %u bytes written: \"%s\"", id, len,
		 got);
	say("driver", line);
	check(d, id == head, "the used id is the request's head");
	check(d, strcmp(got, want) == 0, "the response is the transformed request");
	/* Linux re-arms used_event after draining (virtqueue_enable_cb). */
	vbt_split_set_used_event(&d->r, d->r.last_used);
}

int main(int argc, char **argv)
{
	static struct demo d;
	const uint64_t wanted = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_EVENT_IDX) |
				VB_BIT(VB_VIRTIO_F_INDIRECT_DESC);
	static bool irq_shown;
	char line[200];
	uint16_t old, heads[3];
	uint8_t b[4];
	int ret;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			d.drv.trace_regs = true;
		} else {
			fprintf(stderr, "usage: %s [-v]\n  -v  print every register access\n",
				argv[0]);
			return strcmp(argv[i], "-h") == 0 ? 0 : 2;
		}
	}

	printf("vb-demo: libvirtio-backend %d.%d serving a virtio-mmio device (demo-echo: one\n"
	       "queue, answers each request upper-cased or reversed); the driver is a simulator\n"
	       "that accesses the registers as Linux's virtio_mmio driver does, over split rings\n"
	       "in simulated guest memory.\n", VB_VERSION_MAJOR, VB_VERSION_MINOR);

	/* Host: guest memory, the device model, the register file. */
	ret = vbt_guest_init(&d.g, GUEST_GPA, GUEST_SIZE, 0);
	if (ret < 0) {
		fprintf(stderr, "vb-demo: guest memory: %s\n", vb_strerror(ret));
		return 1;
	}
	demo_device_init(&d.model);
	d.model.log = say;
	d.model.log_ctx = (void *)"device";
	ret = vbt_mmio_host_init(&d.host, &demo_device_ops, &d.model, &d.g.mem);
	if (ret < 0) {
		fprintf(stderr, "vb-demo: register file: %s\n", vb_strerror(ret));
		return 1;
	}
	d.model.dev = d.host.dev;
	d.host.on_irq = on_irq;
	d.host.on_irq_ctx = &irq_shown;

	/* Guest: the driver and its ring. */
	{
		bool regs = d.drv.trace_regs;

		vbt_mmio_drv_init(&d.drv, d.host.mmio);
		d.drv.trace_regs = regs;
	}
	d.drv.trace = say;
	d.drv.trace_ctx = (void *)"driver";
	vbt_split_init(&d.r, &d.g, QSZ);
	for (unsigned int i = 0; i < QSZ; i++) {
		d.req[i] = vbt_guest_alloc(&d.g, BUF_LEN, 8);
		d.resp[i] = vbt_guest_alloc(&d.g, BUF_LEN, 8);
	}
	snprintf(line, sizeof(line), "guest memory 0x%llx..0x%llx, one region; register file %zu "
		 "bytes, device %zu bytes, no allocation in the library",
		 (unsigned long long)GUEST_GPA, (unsigned long long)GUEST_GPA + GUEST_SIZE - 1,
		 vb_mmio_size(), vb_dev_size(demo_device_ops.num_queues));
	say("host", line);

	section("1. Initialisation (virtio 1.2, 3.1.1 and 4.2.3)");
	ret = vbt_mmio_init_device(&d.drv, wanted, &d.r, 1);
	check(&d, ret == 0, "the device comes up");
	if (ret < 0) {
		printf("FAILED: bring-up: %s\n", vb_strerror(ret));
		return 1;
	}
	check(&d, vb_vq_is_ready(vb_dev_queue(d.host.dev, 0)), "queue 0 is live");

	section("2. Device config space, read under ConfigGeneration");
	print_config(&d);

	section("3. One request, one kick, one interrupt");
	old = d.r.avail_idx;
	heads[0] = post(&d, 0, "hello, virtio", false);
	kick(&d, old);
	take_interrupt(&d, VB_MMIO_INT_VRING);
	expect_response(&d, heads[0], 0, "HELLO, VIRTIO");

	section("4. Three requests (one via an indirect table), one kick, one interrupt");
	old = d.r.avail_idx;
	heads[0] = post(&d, 0, "split rings", false);
	heads[1] = post(&d, 1, "indirect descriptors", true);
	heads[2] = post(&d, 2, "event idx", false);
	kick(&d, old);
	take_interrupt(&d, VB_MMIO_INT_VRING);
	expect_response(&d, heads[0], 0, "SPLIT RINGS");
	expect_response(&d, heads[1], 1, "INDIRECT DESCRIPTORS");
	expect_response(&d, heads[2], 2, "EVENT IDX");

	section("5. The host changes config space: configuration change interrupt");
	say("host", "device model sets max_len 64 -> 8 (vb_dev_config_changed)");
	demo_device_set_max_len(&d.model, 8);
	take_interrupt(&d, VB_MMIO_INT_CONFIG);
	print_config(&d);
	old = d.r.avail_idx;
	heads[0] = post(&d, 3, "truncated to eight", false);
	kick(&d, old);
	take_interrupt(&d, VB_MMIO_INT_VRING);
	expect_response(&d, heads[0], 3, "TRUNCATE");

	section("6. The driver writes config space: reverse mode");
	say("driver", "config: mode <- 1 (reverse)");
	b[0] = DEMO_MODE_REVERSE;
	b[1] = b[2] = b[3] = 0;
	vbt_mmio_config_write(&d.drv, DEMO_CONFIG_MODE, b, 4);
	print_config(&d);
	old = d.r.avail_idx;
	heads[0] = post(&d, 4, "stressed", false);
	kick(&d, old);
	take_interrupt(&d, VB_MMIO_INT_VRING);
	expect_response(&d, heads[0], 4, "desserts");

	section("7. Hostile accesses are refused and change nothing");
	ret = vb_mmio_write(d.host.mmio, VB_MMIO_QUEUE_NUM, 4, 4);
	snprintf(line, sizeof(line), "QueueNum <- 4 while queue 0 is ready: %s, queue size "
		 "still %u", vb_strerror(ret), vb_vq_num(vb_dev_queue(d.host.dev, 0)));
	say("driver", line);
	check(&d, ret == -EPROTO, "queue setup while ready is refused");
	check(&d, vb_vq_num(vb_dev_queue(d.host.dev, 0)) == QSZ, "the queue size did not change");
	ret = vb_mmio_write(d.host.mmio, VB_MMIO_QUEUE_NOTIFY, 4, 7);
	snprintf(line, sizeof(line), "QueueNotify <- 7 (no such queue): %s", vb_strerror(ret));
	say("driver", line);
	check(&d, ret == -EINVAL, "a kick of a missing queue is refused");
	ret = vb_mmio_write(d.host.mmio, VB_MMIO_STATUS, 2, 0);
	snprintf(line, sizeof(line), "16-bit write of Status: %s, Status still 0x%02x",
		 vb_strerror(ret), vb_dev_get_status(d.host.dev));
	say("driver", line);
	check(&d, ret == -EINVAL, "a register access of the wrong width is refused");
	check(&d, vb_dev_get_status(d.host.dev) == 0x0f, "the status did not change");

	section("8. Reset");
	vbt_mmio_del_queue(&d.drv, 0);
	vbt_mmio_reset(&d.drv);
	check(&d, vbt_mmio_rd(&d.drv, VB_MMIO_STATUS) == 0, "Status reads 0 after reset");
	check(&d, !vb_vq_is_ready(vb_dev_queue(d.host.dev, 0)), "queue 0 is stopped");

	check(&d, d.drv.err == 0, "no register access of the driver was refused");
	check(&d, d.requests == d.responses, "every request was answered");
	check(&d, d.model.served == d.requests, "the device served every request");
	printf("\n%s: %u requests, %u responses, %u interrupts, %u register accesses\n",
	       d.failures ? "FAILED" : "OK", d.requests, d.responses, d.host.irq_raised,
	       d.drv.accesses);
	vbt_guest_fini(&d.g);
	return d.failures ? 1 : 0;
}
