/* SPDX-License-Identifier: MIT */
/* The io_uring backend's entry points when liburing was not found: each says -ENOTSUP, so a
 * host falls back to the synchronous backend (vb_blk_file_open()). */
#include "virtio-backend.h"
#include "virtio-backend/devices/blk.h"
#include "internal/compiler.h"

static int none_submit(void *backend, struct vb_blk_io *io)
{
	(void)backend;
	(void)io;
	return -ENOTSUP;
}

VB_EXPORT const struct vb_blk_backend_ops vb_blk_uring_ops = {
	.version = VB_BLK_BACKEND_OPS_V1,
	.submit = none_submit,
};

VB_EXPORT int vb_blk_uring_open(const char *path, unsigned int flags, unsigned int entries,
				struct vb_blk_uring **out)
{
	(void)path;
	(void)flags;
	(void)entries;
	(void)out;
	return -ENOTSUP;
}

VB_EXPORT void vb_blk_uring_close(struct vb_blk_uring *u)
{
	(void)u;
}

VB_EXPORT uint64_t vb_blk_uring_capacity(const struct vb_blk_uring *u)
{
	(void)u;
	return 0;
}

VB_EXPORT int vb_blk_uring_eventfd(const struct vb_blk_uring *u)
{
	(void)u;
	return -1;
}

VB_EXPORT int vb_blk_uring_complete(struct vb_blk_uring *u, unsigned int min_wait)
{
	(void)u;
	(void)min_wait;
	return -ENOTSUP;
}
