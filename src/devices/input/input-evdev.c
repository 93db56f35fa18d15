/* SPDX-License-Identifier: MIT */
/*
 * evdev host source of the virtio-input model (Linux): the device's capabilities become
 * the model's description through the EVIOCG* ioctls, its events go to vb_input_send() one
 * read() at a time (a burst of packets), and validated statusq events (LEDs, sounds) are
 * written back to the device as evdev does for any client.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/input.h"
#include "internal/compiler.h"

/* Events read at once: one read() of up to this many. */
#define READ_BATCH	64u

struct vb_input_evdev {
	int		fd;
	bool		grabbed;
	struct vb_input	*in;
};

_Static_assert(VB_INPUT_EV_CNT == EV_CNT, "event type count matches Linux");
_Static_assert(VB_INPUT_ABS_CNT == ABS_CNT, "axis count matches Linux");

static int describe(int fd, struct vb_input_info *info)
{
	uint8_t types[VB_INPUT_BITMAP_BYTES];
	struct input_id id;

	memset(info, 0, sizeof(*info));
	memset(types, 0, sizeof(types));
	if (ioctl(fd, EVIOCGNAME(sizeof(info->name) - 1), info->name) < 0)
		return -errno;
	/* A device without a unique id answers ENOENT: no serial then. */
	(void)ioctl(fd, EVIOCGUNIQ(sizeof(info->serial) - 1), info->serial);
	if (ioctl(fd, EVIOCGID, &id) < 0)
		return -errno;
	info->bustype = id.bustype;
	info->vendor = id.vendor;
	info->product = id.product;
	info->version = id.version;
	(void)ioctl(fd, EVIOCGPROP(sizeof(info->prop)), info->prop);
	if (ioctl(fd, EVIOCGBIT(0, sizeof(types)), types) < 0)
		return -errno;
	for (unsigned int t = 1; t < VB_INPUT_EV_CNT; t++) {
		if (!vb_input_bit_test(types, t))
			continue;
		if (t == EV_REP) {
			/* evdev has no code bitmap for EV_REP: its two parameters. */
			vb_input_bit_set(info->ev[t], REP_DELAY);
			vb_input_bit_set(info->ev[t], REP_PERIOD);
			continue;
		}
		/* Types evdev cannot describe by bits (EV_PWR, EV_FF_STATUS) stay empty. */
		(void)ioctl(fd, EVIOCGBIT(t, sizeof(info->ev[t])), info->ev[t]);
	}
	for (unsigned int a = 0; a < VB_INPUT_ABS_CNT; a++) {
		struct input_absinfo ai;

		if (!vb_input_bit_test(info->ev[EV_ABS], a))
			continue;
		if (ioctl(fd, EVIOCGABS(a), &ai) < 0)
			return -errno;
		info->abs[a] = (struct vb_input_absinfo){ ai.minimum, ai.maximum, ai.fuzz,
							  ai.flat, ai.resolution };
	}
	return 0;
}

VB_EXPORT int vb_input_evdev_open(const char *path, unsigned int flags,
				  struct vb_input_info *info, struct vb_input_evdev **out)
{
	struct vb_input_evdev *e;
	int ret;

	if (!path || !info || !out)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	/* Read-write for LEDs; a read-only device still serves events. */
	e->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (e->fd < 0)
		e->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (e->fd < 0) {
		ret = -errno;
		free(e);
		return ret;
	}
	ret = describe(e->fd, info);
	if (ret == 0 && (flags & VB_INPUT_EVDEV_GRAB)) {
		if (ioctl(e->fd, EVIOCGRAB, 1) < 0)
			ret = -errno;
		else
			e->grabbed = true;
	}
	if (ret) {
		close(e->fd);
		free(e);
		return ret;
	}
	*out = e;
	return 0;
}

VB_EXPORT void vb_input_evdev_attach(struct vb_input_evdev *e, struct vb_input *in)
{
	e->in = in;
}

VB_EXPORT int vb_input_evdev_fd(const struct vb_input_evdev *e)
{
	return e->fd;
}

VB_EXPORT int vb_input_evdev_dispatch(struct vb_input_evdev *e)
{
	struct input_event raw[READ_BATCH];
	struct vb_input_event ev[READ_BATCH];
	int total = 0;

	for (;;) {
		ssize_t r = read(e->fd, raw, sizeof(raw));
		unsigned int n;

		if (r < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return -errno;	/* ENODEV: unplugged */
		}
		if (r == 0)
			return -ENODEV;
		/* evdev returns whole events only. */
		n = (unsigned int)((size_t)r / sizeof(raw[0]));
		for (unsigned int k = 0; k < n; k++)
			ev[k] = (struct vb_input_event){ raw[k].type, raw[k].code,
							 (uint32_t)raw[k].value };
		if (e->in)
			(void)vb_input_send(e->in, ev, n);
		total += (int)n;
		if ((size_t)r < sizeof(raw))
			break;
	}
	return total;
}

static void evdev_status(void *ctx, const struct vb_input_event *ev)
{
	struct vb_input_evdev *e = ctx;
	struct input_event w[2];

	memset(w, 0, sizeof(w));
	w[0].type = ev->type;
	w[0].code = ev->code;
	w[0].value = (int32_t)ev->value;
	w[1].type = EV_SYN;
	w[1].code = SYN_REPORT;
	/* Best effort: a read-only device, or one that refuses, keeps its LEDs. */
	(void)!write(e->fd, w, sizeof(w));
}

VB_EXPORT const struct vb_input_ops vb_input_evdev_ops = {
	.version = VB_INPUT_OPS_V1,
	.status = evdev_status,
};

VB_EXPORT void vb_input_evdev_close(struct vb_input_evdev *e)
{
	if (!e)
		return;
	if (e->grabbed)
		(void)ioctl(e->fd, EVIOCGRAB, 0);
	close(e->fd);
	free(e);
}
