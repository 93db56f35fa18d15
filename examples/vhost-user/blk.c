/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user blk: virtio-blk on an image file or block device (io_uring, or synchronous
 * preadv/pwritev where io_uring is not allowed). The daemon's common part is main.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/blk.h"

#include "daemon.h"

enum blk_backend { BLK_BE_AUTO, BLK_BE_URING, BLK_BE_SYNC };

enum {
	BLK_OPT_IMAGE = OPT_DEVICE,
	BLK_OPT_READ_ONLY,
	BLK_OPT_NUM_QUEUES,
	BLK_OPT_QUEUE_SIZE,
	BLK_OPT_DIRECT,
	BLK_OPT_BACKEND,
	BLK_OPT_SERIAL,
	BLK_OPT_TEST_STALL,
};

struct blk_state {
	const char		*image;
	bool			read_only;
	bool			direct;
	enum blk_backend	backend;
	unsigned int		num_queues;
	unsigned int		queue_size;
	const char		*serial;
	long			stall_after;	/* test hook: -1 off */
	/* open */
	struct vb_blk_uring	*uring;
	struct vb_blk_file	*file;
	struct vb_blk		*blk;
	uint64_t		sectors;
	/* --test-stall-after: the real backend and the operations held back. */
	const struct vb_blk_backend_ops	*real_ops;
	void			*real_be;
	unsigned long		submitted;
	struct vb_blk_io	**held;
	unsigned int		n_held, max_held;
};

static const struct option blk_options[] = {
	{ "image", required_argument, NULL, BLK_OPT_IMAGE },
	{ "blk-file", required_argument, NULL, BLK_OPT_IMAGE },	/* vhost-user.rst name */
	{ "read-only", no_argument, NULL, BLK_OPT_READ_ONLY },
	{ "num-queues", required_argument, NULL, BLK_OPT_NUM_QUEUES },
	{ "queue-size", required_argument, NULL, BLK_OPT_QUEUE_SIZE },
	{ "direct", no_argument, NULL, BLK_OPT_DIRECT },
	{ "backend", required_argument, NULL, BLK_OPT_BACKEND },
	{ "serial", required_argument, NULL, BLK_OPT_SERIAL },
	{ "test-stall-after", required_argument, NULL, BLK_OPT_TEST_STALL },
	{ NULL, 0, NULL, 0 },
};

static int blk_option(void *state, int key, const char *arg)
{
	struct blk_state *b = state;
	unsigned long v;

	switch (key) {
	case BLK_OPT_IMAGE:
		b->image = arg;
		return 0;
	case BLK_OPT_READ_ONLY:
		b->read_only = true;
		return 0;
	case BLK_OPT_NUM_QUEUES:
		if (parse_uint("--num-queues", arg, 1, VB_BLK_MAX_QUEUES, &v) < 0)
			return -EINVAL;
		b->num_queues = (unsigned int)v;
		return 0;
	case BLK_OPT_QUEUE_SIZE:
		return parse_queue_size(arg, 32768, &b->queue_size);
	case BLK_OPT_DIRECT:
		b->direct = true;
		return 0;
	case BLK_OPT_BACKEND:
		if (!strcmp(arg, "uring")) {
			b->backend = BLK_BE_URING;
		} else if (!strcmp(arg, "sync")) {
			b->backend = BLK_BE_SYNC;
		} else if (!strcmp(arg, "auto")) {
			b->backend = BLK_BE_AUTO;
		} else {
			fprintf(stderr, PROG ": --backend is auto, uring or sync, not '%s'\n", arg);
			return -EINVAL;
		}
		return 0;
	case BLK_OPT_SERIAL:
		if (strlen(arg) > VB_VIRTIO_BLK_ID_BYTES) {
			fprintf(stderr, PROG ": --serial has at most %u bytes\n",
				VB_VIRTIO_BLK_ID_BYTES);
			return -EINVAL;
		}
		b->serial = arg;
		return 0;
	case BLK_OPT_TEST_STALL:
		if (parse_uint("--test-stall-after", arg, 0, LONG_MAX, &v) < 0)
			return -EINVAL;
		b->stall_after = (long)v;
		return 0;
	default:
		return -EINVAL;
	}
}

/* ---- --test-stall-after: a backend that stops completing (test hook) ---- */

static struct blk_state blk_state;	/* defined below */

static int stall_submit(void *backend, struct vb_blk_io *io)
{
	struct blk_state *b = backend;

	if (b->submitted < (unsigned long)b->stall_after) {
		b->submitted++;
		return b->real_ops->submit(b->real_be, io);
	}
	if (b->n_held == b->max_held)
		return -EIO;	/* cannot happen: room for every request in flight */
	b->held[b->n_held++] = io;
	return VB_BLK_PENDING;
}

static void stall_drain(void *backend)
{
	struct blk_state *b = backend;

	if (b->real_ops->drain)
		b->real_ops->drain(b->real_be);
	while (b->n_held)
		vb_blk_complete(b->held[--b->n_held], -EIO);
}

static void stall_commit(void *backend)
{
	struct blk_state *b = backend;

	if (b->real_ops->commit)
		b->real_ops->commit(b->real_be);
}

static const struct vb_blk_backend_ops stall_ops = {
	.version = VB_BLK_BACKEND_OPS_V1,
	.submit = stall_submit,
	.commit = stall_commit,
	.drain = stall_drain,
};

static int blk_open(void *state, struct vbd_device *dev)
{
	struct blk_state *b = state;
	const struct vb_blk_backend_ops *ops;
	struct vb_blk_config cfg;
	unsigned int fl = (b->read_only ? VB_BLK_FILE_READ_ONLY : 0) |
			  (b->direct ? VB_BLK_FILE_DIRECT : 0);
	const char *base;
	void *be;
	int ret = 0;

	if (!b->image) {
		fprintf(stderr, PROG ": blk needs --image FILE (see --help)\n");
		return -EINVAL;
	}
	if (!b->num_queues)
		b->num_queues = 1;
	if (!b->queue_size)
		b->queue_size = VB_BLK_QUEUE_NUM_DEFAULT;
	if (b->backend != BLK_BE_SYNC) {
		/* Room for every request the model can have in flight. */
		ret = vb_blk_uring_open(b->image, fl, b->num_queues * b->queue_size, &b->uring);
		if (ret < 0 && b->backend == BLK_BE_URING) {
			logf_(VB_LOG_ERR, "blk: io_uring backend on %s: %s", b->image,
			      strerror(-ret));
			return ret;
		}
	}
	if (b->uring) {
		ops = &vb_blk_uring_ops;
		be = b->uring;
		b->sectors = vb_blk_uring_capacity(b->uring);
		dev->event_fd = vb_blk_uring_eventfd(b->uring);
	} else {
		int uring_err = ret;

		ret = vb_blk_file_open(b->image, fl, &b->file);
		if (ret < 0) {
			logf_(VB_LOG_ERR, "blk: %s: %s", b->image, strerror(-ret));
			return ret;
		}
		if (b->backend == BLK_BE_AUTO)
			logf_(VB_LOG_INFO, "blk: io_uring unavailable (%s): synchronous backend",
			      strerror(-uring_err));
		ops = &vb_blk_file_ops;
		be = b->file;
		b->sectors = vb_blk_file_capacity(b->file);
	}
	if (b->sectors == 0) {
		logf_(VB_LOG_ERR, "blk: %s is smaller than one 512-byte sector", b->image);
		return -EINVAL;
	}

	if (b->stall_after >= 0) {
		b->max_held = b->num_queues * b->queue_size;
		b->held = calloc(b->max_held, sizeof(*b->held));
		if (!b->held)
			return -ENOMEM;
		b->real_ops = ops;
		b->real_be = be;
		ops = &stall_ops;
		be = b;
		logf_(VB_LOG_WARN, "blk: test hook: operations after the first %ld are never "
		      "completed", b->stall_after);
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_BLK_CONFIG_V1;
	cfg.flags = b->read_only ? VB_BLK_CFG_READ_ONLY :
		    VB_BLK_CFG_DISCARD | VB_BLK_CFG_WRITE_ZEROES | VB_BLK_CFG_WZ_MAY_UNMAP;
	cfg.capacity = b->sectors;
	cfg.num_queues = (uint16_t)b->num_queues;
	cfg.queue_num_max = (uint16_t)b->queue_size;
	cfg.blk_size = 512;
	/* GET_ID: --serial, else the image's file name (cut to the 20 bytes virtio has). */
	base = b->serial;
	if (!base) {
		base = strrchr(b->image, '/');
		base = base ? base + 1 : b->image;
	}
	memcpy(cfg.serial, base, strnlen(base, sizeof(cfg.serial)));	/* NUL-padded */
	ret = vb_blk_create(&cfg, ops, be, &b->blk);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "blk: model: %s", strerror(-ret));
		return ret;
	}
	dev->ops = vb_blk_device_ops(b->blk);
	dev->model = b->blk;
	logf_(VB_LOG_INFO, "blk: %s: %" PRIu64 " sectors (%" PRIu64 " MiB), %s%s%s, "
	      "%u queue%s of %u, serial '%.20s'", b->image, b->sectors, b->sectors >> 11,
	      b->uring ? "io_uring" : "sync", b->direct ? ", O_DIRECT" : "",
	      b->read_only ? ", read-only" : "", b->num_queues, b->num_queues > 1 ? "s" : "",
	      b->queue_size, cfg.serial);
	return 0;
}

static int blk_event(void *state)
{
	struct blk_state *b = state;
	int ret = vb_blk_uring_complete(b->uring, 0);

	return ret < 0 ? ret : 0;
}

static void blk_close(void *state)
{
	struct blk_state *b = state;

	vb_blk_destroy(b->blk);
	vb_blk_uring_close(b->uring);
	vb_blk_file_close(b->file);
	free(b->held);
	b->held = NULL;
	b->blk = NULL;
	b->uring = NULL;
	b->file = NULL;
}

/*
 * SIGHUP: re-read the image size and publish it. vb_blk_set_capacity() bumps the config
 * generation and, through the transport, sends BACKEND_CONFIG_CHANGE_MSG when the front-end
 * set up the back-end channel; QEMU then re-reads config space and the guest sees the new
 * capacity (virtio 1.2, 5.2.4 "Device configuration layout": capacity). A file that shrank
 * below data the guest still uses is the host's business, as with any disk resize.
 * @satisfy{VB-REQ-VU-502}
 */
static void blk_resize(void *state)
{
	struct blk_state *b = state;
	int fd = open(b->image, O_RDONLY | O_CLOEXEC);
	off_t end = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);	/* files and block devices */
	uint64_t sectors;
	int ret;

	if (end < 0) {
		logf_(VB_LOG_ERR, "blk: resize: %s: %s", b->image, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	sectors = (uint64_t)end >> 9;
	if (sectors == b->sectors || sectors == 0) {
		logf_(VB_LOG_INFO, "blk: resize: %s has %" PRIu64 " sectors: unchanged", b->image,
		      sectors);
		return;
	}
	ret = vb_blk_set_capacity(b->blk, sectors);
	logf_(ret < 0 ? VB_LOG_WARN : VB_LOG_INFO, "blk: resize: %" PRIu64 " -> %" PRIu64
	      " sectors%s%s", b->sectors, sectors, ret < 0 ? ", front-end not told: " : "",
	      ret < 0 ? strerror(-ret) : "");
	b->sectors = sectors;
}

static void blk_describe(void *state, const char *what)
{
	struct blk_state *b = state;
	struct vb_blk_stats st;

	vb_blk_get_stats(b->blk, &st);
	logf_(VB_LOG_INFO, "blk: %s: totals %" PRIu64 " requests (%" PRIu64 " ok, %" PRIu64
	      " ioerr, %" PRIu64 " unsupp), %" PRIu64 " bytes read, %" PRIu64 " written", what,
	      st.requests,
	      st.ok, st.ioerr, st.unsupp, st.bytes_read, st.bytes_written);
}

static struct blk_state blk_state = { .stall_after = -1 };

const struct vbd_type vbd_type_blk = {
	.name = "blk",
	.state = &blk_state,
	.summary = "virtio-blk disk on an image file or block device",
	.options_help =
		"  --image FILE        disk image or block device (also --blk-file)\n"
		"  --read-only         export read-only (VIRTIO_BLK_F_RO)\n"
		"  --num-queues N      request queues, 1..64 (default 1); QEMU's\n"
		"                      num-queues must not be larger\n"
		"  --queue-size N      largest ring size, power of 2 (default 256)\n"
		"  --direct            open the image with O_DIRECT\n"
		"  --backend B         auto (io_uring if allowed, default), uring, sync\n"
		"  --serial S          GET_ID string, at most 20 bytes (default: image)\n"
		"  --test-stall-after N  test hook: never complete the I/O after the\n"
		"                      first N operations (inflight recovery tests)\n"
		"  SIGHUP re-reads the image size; a change reaches the guest as a\n"
		"  config change (needs the front-end's BACKEND_REQ channel)\n",
	/* docs/interop/vhost-user.json: VHostUserBackendCapabilitiesBlock. */
	.capabilities =
		"{\"type\": \"block\", \"features\": [\"read-only\", \"blk-file\"]}",
	.options = blk_options,
	.option = blk_option,
	.open = blk_open,
	.event = blk_event,
	.close = blk_close,
	.describe = blk_describe,
	.resize = blk_resize,
};
