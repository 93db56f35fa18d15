/* SPDX-License-Identifier: MIT */
/*
 * The character-device backend of the virtio-gpio model (src/devices/gpio/gpio-cdev.c), run
 * inside a real-guest test against a real GPIO chip: the guest's own virtio-gpio chip, whose
 * lines vb-vhost-user gpio simulates on the host (run-gpio passes this static program to the
 * guest through fw_cfg). The host drives and reads the lines through the daemon's control
 * socket and answers on other lines, so both sides check each other:
 *   line  8: the host set it to 1 before the boot: read "as is", then as an input;
 *   line  9: the probe drives 1, then 0, as an output; the host acknowledges each level by
 *            copying it to line 10, which the probe reads as an input;
 *   line 11: edge detection on both edges; where the chip has interrupts the probe raises
 *            line 12 and waits for the edge the host then drives on 11; without (QEMU 7.2
 *            never offers VIRTIO_GPIO_F_IRQ) enabling it must fail cleanly;
 *   then every line is released (direction NONE), which the host sees.
 * Prints "PROBE ..." lines; the last is "PROBE ok ..." or "PROBE fail ...".
 *
 * usage: vb-gpio-cdev-probe /dev/gpiochipN
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "virtio-backend/devices/gpio.h"

static unsigned int edges_seen;

/* The model is not linked in: the backend's edge reports are counted here. */
void vb_gpio_line_event(struct vb_gpio *g, uint16_t line, unsigned int edges)
{
	(void)g;
	printf("PROBE edge on line %u (%s)\n", line,
	       edges == VB_GPIO_EDGE_RISING ? "rising" : "falling");
	edges_seen++;
}

#define FAIL(...) do { printf("PROBE fail " __VA_ARGS__); printf("\n"); return 1; } while (0)
#define CHECK(call) do { int r_ = (call); if (r_ < 0) FAIL("%s: %s", #call, strerror(-r_)); } \
	while (0)

/* Poll line's value until it is want (30 s). */
static int wait_value(struct vb_gpio_cdev *c, uint16_t line, uint8_t want)
{
	for (int i = 0; i < 300; i++) {
		uint8_t v = 0xff;
		int r = vb_gpio_cdev_ops.get_value(c, line, &v);

		if (r < 0)
			return r;
		if (v == want)
			return 0;
		usleep(100000);
	}
	return -ETIMEDOUT;
}

int main(int argc, char **argv)
{
	const struct vb_gpio_backend_ops *ops = &vb_gpio_cdev_ops;
	struct vb_gpio_cdev *c;
	const char *const *names;
	uint8_t v = 0xff;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2)
		FAIL("usage: %s /dev/gpiochipN", argv[0]);
	r = vb_gpio_cdev_open(argv[1], &c);
	if (r < 0)
		FAIL("open %s: %s", argv[1], strerror(-r));
	names = vb_gpio_cdev_names(c);
	printf("PROBE %s: %u lines, line 0 \"%s\", line 3 \"%s\"\n", argv[1],
	       vb_gpio_cdev_ngpio(c), names[0], names[3]);
	if (vb_gpio_cdev_ngpio(c) < 13 || strcmp(names[0], "led") || names[1][0])
		FAIL("unexpected chip: %u lines, names \"%s\" \"%s\"", vb_gpio_cdev_ngpio(c),
		     names[0], names[1]);
	/* Line 8 as is (never configured), then as an input. */
	CHECK(ops->get_value(c, 8, &v));
	if (v != 1)
		FAIL("line 8 as is reads %u, the host set 1", v);
	CHECK(ops->set_direction(c, 8, VB_VIRTIO_GPIO_DIRECTION_IN, 0));
	CHECK(ops->get_value(c, 8, &v));
	if (v != 1)
		FAIL("line 8 as an input reads %u, the host set 1", v);
	/* Line 9 out, acknowledged on line 10. */
	CHECK(ops->set_direction(c, 10, VB_VIRTIO_GPIO_DIRECTION_IN, 0));
	CHECK(ops->set_direction(c, 9, VB_VIRTIO_GPIO_DIRECTION_OUT, 1));
	r = wait_value(c, 10, 1);
	if (r < 0)
		FAIL("the host did not see line 9 = 1: %s", strerror(-r));
	CHECK(ops->set_value(c, 9, 0));
	r = wait_value(c, 10, 0);
	if (r < 0)
		FAIL("the host did not see line 9 = 0: %s", strerror(-r));
	printf("PROBE line 9 driven 1 then 0, the host saw both\n");
	/* Edges on line 11. */
	CHECK(ops->set_direction(c, 11, VB_VIRTIO_GPIO_DIRECTION_IN, 0));
	r = ops->set_irq_type(c, 11, VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH);
	if (r < 0) {
		printf("PROBE no edge detection on this chip (%s): edges not tested\n",
		       strerror(-r));
		CHECK(ops->get_value(c, 11, &v));	/* the line still works */
	} else {
		struct pollfd p = { .fd = vb_gpio_cdev_event_fd(c), .events = POLLIN };

		CHECK(ops->set_direction(c, 12, VB_VIRTIO_GPIO_DIRECTION_OUT, 1));
		for (int i = 0; i < 30 && !edges_seen; i++)
			if (poll(&p, 1, 1000) > 0)
				CHECK(vb_gpio_cdev_process(c));
		if (!edges_seen)
			FAIL("no edge event on line 11 within 30 s");
		CHECK(ops->set_irq_type(c, 11, VB_VIRTIO_GPIO_IRQ_TYPE_NONE));
		CHECK(ops->set_direction(c, 12, VB_VIRTIO_GPIO_DIRECTION_NONE, 0));
	}
	for (uint16_t i = 8; i <= 11; i++)
		CHECK(ops->set_direction(c, i, VB_VIRTIO_GPIO_DIRECTION_NONE, 0));
	vb_gpio_cdev_close(c);
	printf("PROBE ok uAPI v2 backend: names, as-is read, input, output both levels%s\n",
	       edges_seen ? ", edge events" : "");
	return 0;
}
