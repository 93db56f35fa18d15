/* SPDX-License-Identifier: MIT */
/*
 * vb-input-evdev-probe (run-input-evdev, run inside a guest whose kernel has uinput): the
 * virtio-input evdev source (src/devices/input/input-evdev.c) against a real evdev device.
 * It creates a uinput device (EV_KEY KEY_A/BTN_LEFT, EV_LED CAPSL, EV_ABS ABS_X -100..100
 * resolution 3, INPUT_PROP_DIRECT, ids 0003:1234:5678 version 9), opens its event node with
 * vb_input_evdev_open(), checks the description the EVIOCG* ioctls gave, serves it through
 * the model to a split-ring driver simulator, injects events through uinput and checks the
 * driver receives exactly them, then sends a CAPS LED status event and checks it reaches
 * the device (uinput reads it back). Prints "PROBE ok ..." or "PROBE fail ...".
 * Linked static (the guest has no libc); built by tests/integration/meson.build.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/uinput.h>
#include <poll.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/input.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define QSZ	64u

#define CHECK(c) \
	do { \
		if (!(c)) { \
			printf("PROBE fail line %d: %s\n", __LINE__, #c); \
			exit(1); \
		} \
	} while (0)

static struct vb_input_info info;
static struct vbt_guest g;
static struct vbt_split r[2];
static alignas(8) uint8_t dev_storage[VB_DEV_STORAGE_MAX(2)];
static uint64_t ebuf[QSZ];

static int t_notify(void *t, uint16_t q)
{
	(void)t;
	(void)q;
	return 0;
}

static int t_config_changed(void *t)
{
	(void)t;
	return 0;
}

static void emit(int fd, int type, int code, int value)
{
	struct input_event e;

	memset(&e, 0, sizeof(e));
	e.type = (uint16_t)type;
	e.code = (uint16_t)code;
	e.value = value;
	CHECK(write(fd, &e, sizeof(e)) == (ssize_t)sizeof(e));
}

/* The uinput device; its event node in node. Returns the uinput fd. */
static int make_device(char *node, size_t len)
{
	struct uinput_abs_setup as;
	struct uinput_setup us;
	char sys[64];
	int ui = open("/dev/uinput", O_RDWR | O_NONBLOCK | O_CLOEXEC);

	CHECK(ui >= 0);
	ioctl(ui, UI_SET_EVBIT, EV_KEY);
	ioctl(ui, UI_SET_EVBIT, EV_LED);
	ioctl(ui, UI_SET_EVBIT, EV_ABS);
	ioctl(ui, UI_SET_KEYBIT, KEY_A);
	ioctl(ui, UI_SET_KEYBIT, BTN_LEFT);
	ioctl(ui, UI_SET_LEDBIT, LED_CAPSL);
	ioctl(ui, UI_SET_ABSBIT, ABS_X);
	ioctl(ui, UI_SET_PROPBIT, INPUT_PROP_DIRECT);
	memset(&as, 0, sizeof(as));
	as.code = ABS_X;
	as.absinfo.minimum = -100;
	as.absinfo.maximum = 100;
	as.absinfo.resolution = 3;
	CHECK(ioctl(ui, UI_ABS_SETUP, &as) == 0);
	memset(&us, 0, sizeof(us));
	us.id.bustype = BUS_USB;
	us.id.vendor = 0x1234;
	us.id.product = 0x5678;
	us.id.version = 9;
	snprintf(us.name, sizeof(us.name), "vb-evdev-probe");
	CHECK(ioctl(ui, UI_DEV_SETUP, &us) == 0);
	CHECK(ioctl(ui, UI_DEV_CREATE) == 0);
	CHECK(ioctl(ui, UI_GET_SYSNAME(sizeof(sys)), sys) >= 0);
	node[0] = '\0';
	for (int i = 0; i < 200 && !node[0]; i++) {
		for (int n = 0; n < 32; n++) {
			char p[160];

			snprintf(p, sizeof(p), "/sys/devices/virtual/input/%s/event%d", sys, n);
			if (access(p, F_OK) == 0) {
				snprintf(node, len, "/dev/input/event%d", n);
				break;
			}
		}
		usleep(20000);
	}
	CHECK(node[0]);
	for (int i = 0; i < 100 && access(node, R_OK); i++)
		usleep(20000);
	printf("INFO uinput %s at %s\n", sys, node);
	return ui;
}

static void check_description(void)
{
	CHECK(!strcmp(info.name, "vb-evdev-probe"));
	CHECK(info.bustype == BUS_USB && info.vendor == 0x1234 && info.product == 0x5678 &&
	      info.version == 9);
	CHECK(vb_input_bit_test(info.ev[EV_KEY], KEY_A));
	CHECK(vb_input_bit_test(info.ev[EV_KEY], BTN_LEFT));
	CHECK(!vb_input_bit_test(info.ev[EV_KEY], KEY_B));
	CHECK(vb_input_bit_test(info.ev[EV_LED], LED_CAPSL));
	CHECK(!vb_input_bit_test(info.ev[EV_LED], LED_NUML));
	CHECK(vb_input_bit_test(info.ev[EV_ABS], ABS_X));
	CHECK(!vb_input_bit_test(info.ev[EV_ABS], ABS_Y));
	CHECK(info.abs[ABS_X].min == -100 && info.abs[ABS_X].max == 100 &&
	      info.abs[ABS_X].res == 3);
	CHECK(vb_input_bit_test(info.prop, INPUT_PROP_DIRECT));
	printf("INFO description ok: '%s' %04x:%04x\n", info.name, info.vendor, info.product);
}

static struct vb_dev *start(struct vb_input *in)
{
	struct vb_transport_ops tops = { VB_TRANSPORT_OPS_V1, t_notify, t_config_changed, NULL };
	static struct vb_transport_ops keep;
	struct vb_dev *dev;

	keep = tops;
	CHECK(vbt_guest_init(&g, 0x40000000, 1u << 20, 0) == 0);
	CHECK(vb_dev_init(dev_storage, sizeof(dev_storage), vb_input_device_ops(in), in, &keep,
			  NULL, &g.mem, &dev) == 0);
	CHECK(vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE) == 0);
	CHECK(vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER) == 0);
	CHECK(vb_dev_set_driver_features(dev, vb_dev_get_features(dev) &
					 ~VB_BIT(VB_VIRTIO_F_RING_PACKED)) == 0);
	CHECK(vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
				VB_VIRTIO_S_FEATURES_OK) == 0);
	for (uint16_t q = 0; q < 2; q++) {
		struct vb_queue_config qc;

		vbt_split_init(&r[q], &g, QSZ);
		qc = (struct vb_queue_config){ .num = QSZ, .desc = r[q].desc_gpa,
					       .driver = r[q].avail_gpa, .device = r[q].used_gpa };
		CHECK(vb_dev_queue_set_config(dev, q, &qc) == 0);
		CHECK(vb_dev_queue_enable(dev, q, true) == 0);
	}
	CHECK(vb_dev_set_status(dev, VB_VIRTIO_S_ACKNOWLEDGE | VB_VIRTIO_S_DRIVER |
				VB_VIRTIO_S_FEATURES_OK | VB_VIRTIO_S_DRIVER_OK) == 0);
	return dev;
}

int main(void)
{
	static const int want[4][3] = { { EV_KEY, KEY_A, 1 }, { EV_SYN, SYN_REPORT, 0 },
					{ EV_ABS, ABS_X, -42 }, { EV_SYN, SYN_REPORT, 0 } };
	struct vb_input_config cfg = { .version = VB_INPUT_CONFIG_V1, .info = &info,
				       .ops = &vb_input_evdev_ops };
	struct vb_input_evdev *e;
	struct vb_input *in;
	struct vb_dev *dev;
	char node[128];
	int ui = make_device(node, sizeof(node)), ret, got = 0;

	ret = vb_input_evdev_open(node, VB_INPUT_EVDEV_GRAB, &info, &e);
	if (ret) {
		printf("PROBE fail vb_input_evdev_open: %d\n", ret);
		return 1;
	}
	check_description();
	cfg.ctx = e;
	CHECK(vb_input_create(&cfg, &in) == 0);
	vb_input_evdev_attach(e, in);
	dev = start(in);
	for (unsigned int i = 0; i < 16; i++) {
		struct vbt_buf b = { vbt_guest_alloc(&g, 8, 8), 8, true };

		ebuf[vbt_split_add(&r[0], &b, 1, false)] = b.gpa;
	}
	CHECK(vb_dev_kick(dev, 0) == 0);

	emit(ui, EV_KEY, KEY_A, 1);
	emit(ui, EV_SYN, SYN_REPORT, 0);
	emit(ui, EV_ABS, ABS_X, -42);
	emit(ui, EV_SYN, SYN_REPORT, 0);
	for (int i = 0; i < 200 && got < 4; i++) {
		struct pollfd p = { vb_input_evdev_fd(e), POLLIN, 0 };
		int n;

		(void)poll(&p, 1, 20);
		n = vb_input_evdev_dispatch(e);
		CHECK(n >= 0);
		got += n;
	}
	CHECK(got == 4);
	for (int i = 0; i < 4; i++) {
		struct vb_virtio_input_event w;
		uint32_t id, len;

		CHECK(vbt_split_get_used(&r[0], &id, &len) == 1 && len == 8);
		memcpy(&w, vbt_guest_ptr(&g, ebuf[id]), sizeof(w));
		printf("INFO guest event %u %u %d\n", vb_le16_to_cpu(w.type), vb_le16_to_cpu(w.code),
		       (int)vb_le32_to_cpu(w.value));
		CHECK(vb_le16_to_cpu(w.type) == want[i][0] && vb_le16_to_cpu(w.code) == want[i][1] &&
		      (int)vb_le32_to_cpu(w.value) == want[i][2]);
	}

	/* statusq: CAPS LED on goes back to the device, where uinput reads it. */
	{
		struct vb_virtio_input_event w = { vb_cpu_to_le16(EV_LED),
						   vb_cpu_to_le16(LED_CAPSL), vb_cpu_to_le32(1) };
		struct vbt_buf b = { vbt_guest_alloc(&g, 8, 8), 8, false };
		struct input_event le;
		uint32_t id, len;
		int seen = 0;

		memcpy(vbt_guest_ptr(&g, b.gpa), &w, sizeof(w));
		vbt_split_add(&r[1], &b, 1, false);
		CHECK(vb_dev_kick(dev, 1) == 0);
		CHECK(vbt_split_get_used(&r[1], &id, &len) == 1);
		for (int i = 0; i < 100 && !seen; i++) {
			while (read(ui, &le, sizeof(le)) == (ssize_t)sizeof(le))
				if (le.type == EV_LED && le.code == LED_CAPSL && le.value == 1)
					seen = 1;
			usleep(10000);
		}
		CHECK(seen);
		printf("INFO LED status reached the device\n");
	}
	vb_input_evdev_close(e);
	vb_input_destroy(in);
	ioctl(ui, UI_DEV_DESTROY);
	close(ui);
	printf("PROBE ok evdev description, 4 events, CAPS LED status\n");
	return 0;
}
