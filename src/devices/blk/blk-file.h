/* SPDX-License-Identifier: MIT */
/* Helpers shared by the file backends (blk-file-sync.c, blk-file-uring.c). Linux only. */
#ifndef VB_DEVICES_BLK_FILE_H
#define VB_DEVICES_BLK_FILE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio-backend/devices/blk.h"
#include "internal/check.h"

/* io's byte range fits an off_t (pread/fallocate/io_uring take signed 64-bit offsets). */
static inline bool vbi_blk_file_range_ok(const struct vb_blk_io *io)
{
	return vbi_range_inside(io->offset, io->len, 0, (uint64_t)INT64_MAX);
}

/* An fallocate() error (-errno) meaning "this mode is not available here", after which the
 * caller falls back to another mode or to plain writes. */
static inline bool vbi_blk_file_unsupported(int err)
{
	return err == -EOPNOTSUPP || err == -ENOSYS || err == -EINVAL || err == -ENODEV;
}

/* open() the image with VB_BLK_FILE_* flags and find its size in bytes (regular file or
 * block device). Returns the fd or a negative errno. */
int vbi_blk_file_open(const char *path, unsigned int flags, uint64_t *size);

/* Read or write io's data from byte done on (a short transfer continues where it stopped),
 * with RWF_DSYNC for a FUA write. 0 or -EIO. */
int vbi_blk_file_rw(int fd, const struct vb_blk_io *io, uint64_t done);

/* Write zeroes over [off, off + len) with plain writes (fallocate not supported). 0 or -EIO. */
int vbi_blk_file_zero(int fd, uint64_t off, uint64_t len);

/* Discard or write zeroes with fallocate, with the fallbacks each needs. 0 or -EIO. */
int vbi_blk_file_dwz(int fd, const struct vb_blk_io *io);

/* fdatasync(), retried on EINTR. 0 or -EIO. */
int vbi_blk_file_sync(int fd);

#endif
