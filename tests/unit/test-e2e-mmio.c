/* SPDX-License-Identifier: MIT */
/*
 * End to end over virtio-mmio: the demo-echo device model (examples/demo-device.c) behind a
 * register file, driven only through register accesses by the Linux-like driver simulator
 * (tests/support/vbt-mmio.c), with real split rings in fake guest memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "vbt-mem.h"
#include "vbt-mmio.h"
#include "vbt-split.h"
#include "../../examples/demo-device.h"

#define GUEST_GPA	0x80000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		8u
#define BUF_LEN		64u

#define WANT_ALL	(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) | \
			 VB_BIT(VB_VIRTIO_F_EVENT_IDX))
#define WANT_PLAIN	VB_BIT(VB_VIRTIO_F_VERSION_1)

struct fix {
	struct vbt_guest	g;
	struct vbt_split	r;
	struct demo_device	model;
	struct vbt_mmio_host	host;
	struct vbt_mmio_drv	drv;
	/* Per ring slot: request and response buffers (guest addresses). */
	uint64_t		req[QSZ], resp[QSZ];
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vbt_guest_init(&f->g, GUEST_GPA, GUEST_SIZE, 0), 0);
	vbt_split_init(&f->r, &f->g, QSZ);
	for (unsigned int i = 0; i < QSZ; i++) {
		f->req[i] = vbt_guest_alloc(&f->g, BUF_LEN, 8);
		f->resp[i] = vbt_guest_alloc(&f->g, BUF_LEN, 8);
	}
	demo_device_init(&f->model);
	assert_int_equal(vbt_mmio_host_init(&f->host, &demo_device_ops, &f->model, &f->g.mem), 0);
	f->model.dev = f->host.dev;
	vbt_mmio_drv_init(&f->drv, f->host.mmio);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_guest_fini(&f->g);
	free(f);
	return 0;
}

/* Post one request (text) with a response buffer of resp_len bytes; returns the head. */
static uint16_t post(struct fix *f, unsigned int slot, const char *text, uint32_t resp_len,
		     bool indirect)
{
	size_t n = strlen(text);
	struct vbt_buf bufs[2] = {
		{ .gpa = f->req[slot], .len = (uint32_t)n, .write = false },
		{ .gpa = f->resp[slot], .len = resp_len, .write = true },
	};

	assert_true(n > 0 && n <= BUF_LEN && resp_len <= BUF_LEN);
	memcpy(vbt_guest_ptr(&f->g, f->req[slot]), text, n);
	memset(vbt_guest_ptr(&f->g, f->resp[slot]), 0, BUF_LEN);
	return vbt_split_add(&f->r, bufs, 2, indirect);
}

/* The driver's kick decision as Linux makes it (virtqueue_kick_prepare). */
static void kick(struct fix *f, uint16_t old_idx, bool event_idx)
{
	if (vbt_split_driver_would_kick(&f->r, event_idx, old_idx, f->r.avail_idx))
		assert_int_equal(vbt_mmio_notify(&f->drv, 0), 0);
}

/* After the interrupt: take one used element, check it, re-arm used_event like Linux. */
static void expect_used(struct fix *f, uint16_t head, unsigned int slot, const char *want)
{
	uint32_t id = 0xffff, len = 0xffff;

	assert_int_equal(vbt_split_get_used(&f->r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(vbt_guest_ptr(&f->g, f->resp[slot]), want, strlen(want));
	vbt_split_set_used_event(&f->r, f->r.last_used);
}

static void bring_up(struct fix *f, uint64_t want)
{
	assert_int_equal(vbt_mmio_init_device(&f->drv, want, &f->r, 1), 0);
	assert_int_equal(f->drv.err, 0);
}

/* @verify{VB-REQ-MMIO-022} the Linux-like bring-up over registers reaches DRIVER_OK with the
 * features both sides know and a live queue */
static void test_e2e_mmio__init_handshake(void **state)
{
	struct fix *f = *state;

	bring_up(f, WANT_ALL | VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(f->drv.version, 2);
	assert_int_equal(f->drv.device_id, DEMO_DEVICE_ID);
	assert_int_equal(f->drv.vendor_id, VB_MMIO_VENDOR);
	/* The device does not offer RING_PACKED, so the driver does not accept it. */
	assert_true(f->drv.features == WANT_ALL);
	assert_true(vb_dev_get_driver_features(f->host.dev) == WANT_ALL);
	assert_int_equal(vbt_mmio_rd(&f->drv, VB_MMIO_STATUS),
			 VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER | VB_VIRTIO_S_FEATURES_OK |
			 VB_VIRTIO_S_DRIVER_OK);
	assert_true(vb_vq_is_ready(vb_dev_queue(f->host.dev, 0)));
	assert_false(f->host.irq);
	assert_int_equal(f->drv.err, 0);
}

/* @verify{VB-REQ-MMIO-014} @verify{VB-REQ-MMIO-022} one request: QueueNotify, the device's
 * answer in the used ring, the interrupt raised and acknowledged */
static void test_e2e_mmio__request_round_trip(void **state)
{
	struct fix *f = *state;
	uint16_t old, head;

	bring_up(f, WANT_ALL);
	old = f->r.avail_idx;
	head = post(f, 0, "hello, virtio", BUF_LEN, false);
	assert_false(f->host.irq);
	kick(f, old, true);
	assert_int_equal(f->model.served, 1);
	/* The device interrupted; the driver reads InterruptStatus and acknowledges it. */
	assert_true(f->host.irq);
	assert_int_equal(vbt_mmio_interrupt(&f->drv), VB_MMIO_INT_VRING);
	assert_false(f->host.irq);
	assert_int_equal(vbt_mmio_rd(&f->drv, VB_MMIO_INTERRUPT_STATUS), 0);
	expect_used(f, head, 0, "HELLO, VIRTIO");
	assert_int_equal(f->drv.err, 0);
}

static void many_requests(struct fix *f, uint64_t want)
{
	const bool event_idx = (want & VB_BIT(VB_VIRTIO_F_EVENT_IDX)) != 0;
	const bool indirect = (want & VB_BIT(VB_VIRTIO_F_INDIRECT_DESC)) != 0;
	unsigned int done = 0, irqs = 0, lowered;

	bring_up(f, want);
	/* The reset in the bring-up lowered the line once already. */
	lowered = f->host.irq_lowered;
	while (done < 500) {
		/* Direct chains take two descriptors each: at most QSZ / 2 in flight. */
		unsigned int batch = 1 + done % (QSZ / 2);
		uint16_t heads[QSZ];
		char text[QSZ][32];
		uint16_t old = f->r.avail_idx;

		for (unsigned int i = 0; i < batch; i++) {
			snprintf(text[i], sizeof(text[i]), "request %u of many", done + i);
			heads[i] = post(f, i, text[i], BUF_LEN, indirect && (i & 1));
		}
		kick(f, old, event_idx);
		assert_true(f->host.irq);
		assert_int_equal(vbt_mmio_interrupt(&f->drv), VB_MMIO_INT_VRING);
		irqs++;
		for (unsigned int i = 0; i < batch; i++) {
			for (char *p = text[i]; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 'a' + 'A');
			expect_used(f, heads[i], i, text[i]);
		}
		done += batch;
	}
	assert_int_equal(f->model.served, done);
	assert_int_equal(f->host.irq_raised, irqs);
	assert_int_equal(f->host.irq_lowered - lowered, irqs);
	assert_int_equal(vb_vq_error(vb_dev_queue(f->host.dev, 0)), 0);
	assert_int_equal(f->drv.err, 0);
}

/* @verify{VB-REQ-MMIO-022} hundreds of requests in batches, direct and indirect, EVENT_IDX */
static void test_e2e_mmio__many_requests(void **state)
{
	many_requests(*state, WANT_ALL);
}

/* @verify{VB-REQ-MMIO-022} the same without EVENT_IDX or INDIRECT_DESC */
static void test_e2e_mmio__many_requests_plain(void **state)
{
	many_requests(*state, WANT_PLAIN);
}

/* @verify{VB-REQ-MMIO-015} @verify{VB-REQ-MMIO-017} @verify{VB-REQ-MMIO-018}
 * @verify{VB-REQ-MMIO-022} config read under the generation, a host-side change interrupts
 * the driver, a driver config write changes the device's behaviour */
static void test_e2e_mmio__config_change(void **state)
{
	struct fix *f = *state;
	uint8_t b[4];
	uint32_t gen, old_idx;
	uint16_t head;

	bring_up(f, WANT_PLAIN);
	assert_int_equal(vbt_mmio_config_read(&f->drv, DEMO_CONFIG_MAX_LEN, b, 4), 0);
	assert_int_equal(b[0] | b[1] << 8, 64);
	gen = vbt_mmio_config_generation(&f->drv);

	/* The host shrinks max_len: configuration change interrupt, new generation. */
	assert_int_equal(demo_device_set_max_len(&f->model, 5), 0);
	assert_true(f->host.irq);
	assert_int_equal(vbt_mmio_interrupt(&f->drv), VB_MMIO_INT_CONFIG);
	assert_false(f->host.irq);
	assert_int_not_equal(vbt_mmio_config_generation(&f->drv), gen);
	assert_int_equal(vbt_mmio_config_read(&f->drv, DEMO_CONFIG_MAX_LEN, b, 4), 0);
	assert_int_equal(b[0], 5);
	old_idx = f->r.avail_idx;
	head = post(f, 0, "truncated request", BUF_LEN, false);
	kick(f, (uint16_t)old_idx, false);
	assert_int_equal(vbt_mmio_interrupt(&f->drv), VB_MMIO_INT_VRING);
	expect_used(f, head, 0, "TRUNC");

	/* The driver switches the device to reverse mode through config space. */
	b[0] = DEMO_MODE_REVERSE;
	b[1] = b[2] = b[3] = 0;
	assert_int_equal(vbt_mmio_config_write(&f->drv, DEMO_CONFIG_MODE, b, 4), 0);
	assert_int_equal(f->model.mode, DEMO_MODE_REVERSE);
	assert_int_equal(demo_device_set_max_len(&f->model, 64), 0);
	assert_int_equal(vbt_mmio_interrupt(&f->drv), VB_MMIO_INT_CONFIG);
	old_idx = f->r.avail_idx;
	head = post(f, 1, "stressed", BUF_LEN, false);
	kick(f, (uint16_t)old_idx, false);
	assert_int_equal(vbt_mmio_interrupt(&f->drv), VB_MMIO_INT_VRING);
	expect_used(f, head, 1, "desserts");
	/* max_len is the device's: a driver write is refused by the model. */
	assert_int_equal(vb_mmio_write(f->host.mmio, VB_MMIO_CONFIG + DEMO_CONFIG_MAX_LEN, 4, 1),
			 -ENOTSUP);
	assert_int_equal(f->drv.err, 0);
}

/* @verify{VB-REQ-MMIO-009} @verify{VB-REQ-MMIO-022} reset with an interrupt pending, then a
 * fresh bring-up on a new ring works */
static void test_e2e_mmio__reset_and_reinit(void **state)
{
	struct fix *f = *state;
	uint16_t old, head;

	bring_up(f, WANT_ALL);
	old = f->r.avail_idx;
	post(f, 0, "before reset", BUF_LEN, false);
	kick(f, old, true);
	assert_true(f->host.irq);
	/* The driver resets without acknowledging: the line drops with the reset. */
	assert_int_equal(vbt_mmio_reset(&f->drv), 0);
	assert_false(f->host.irq);
	assert_int_equal(vbt_mmio_rd(&f->drv, VB_MMIO_INTERRUPT_STATUS), 0);
	vbt_mmio_wr(&f->drv, VB_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vbt_mmio_rd(&f->drv, VB_MMIO_QUEUE_READY), 0);
	assert_false(vb_vq_is_ready(vb_dev_queue(f->host.dev, 0)));
	assert_true(f->model.resets >= 1);

	/* A new ring (Linux frees and reallocates its rings) and a second bring-up. */
	vbt_split_init(&f->r, &f->g, QSZ);
	bring_up(f, WANT_ALL);
	old = f->r.avail_idx;
	head = post(f, 2, "after reset", BUF_LEN, true);
	kick(f, old, true);
	assert_int_equal(vbt_mmio_interrupt(&f->drv), VB_MMIO_INT_VRING);
	expect_used(f, head, 2, "AFTER RESET");
	/* Queue teardown as vm_del_vq does it. */
	assert_int_equal(vbt_mmio_del_queue(&f->drv, 0), 0);
	assert_int_equal(f->drv.err, 0);
}

/* @verify{VB-REQ-MMIO-007} @verify{VB-REQ-MMIO-022} a driver accepting a feature the device
 * did not offer fails at FEATURES_OK, as virtio_features_ok() sees it */
static void test_e2e_mmio__bad_features_refused(void **state)
{
	struct fix *f = *state;

	assert_int_equal(vbt_mmio_probe(&f->drv), 0);
	assert_int_equal(vbt_mmio_reset(&f->drv), 0);
	assert_int_equal(vbt_mmio_add_status(&f->drv, VB_VIRTIO_S_ACKNOWLEDGE), 0);
	assert_int_equal(vbt_mmio_add_status(&f->drv, VB_VIRTIO_S_DRIVER), 0);
	(void)vbt_mmio_get_features(&f->drv);
	/* RING_PACKED was not offered: the register file reports it at once ... */
	assert_int_equal(vbt_mmio_set_features(&f->drv, WANT_ALL |
					       VB_BIT(VB_VIRTIO_F_RING_PACKED)), -ENOTSUP);
	/* ... and FEATURES_OK does not stick. */
	f->drv.err = 0;
	assert_int_equal(vbt_mmio_add_status(&f->drv, VB_VIRTIO_S_FEATURES_OK), -ENOTSUP);
	f->drv.err = 0;
	assert_false(vbt_mmio_rd(&f->drv, VB_MMIO_STATUS) & VB_VIRTIO_S_FEATURES_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_e2e_mmio__init_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_e2e_mmio__request_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_e2e_mmio__many_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_e2e_mmio__many_requests_plain, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_e2e_mmio__config_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_e2e_mmio__reset_and_reinit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_e2e_mmio__bad_features_refused, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("e2e-mmio", tests, NULL, NULL);
}
