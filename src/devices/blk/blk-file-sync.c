/* SPDX-License-Identifier: MIT */
/*
 * Synchronous file backend of the virtio-blk model: every operation completes inside
 * submit() with preadv/pwritev2/fdatasync/fallocate on the image, straight from and into the
 * guest's buffers (struct vb_iov is layout-compatible with struct iovec: src/port/posix/iov.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "internal/compiler.h"
#include "blk-file.h"

struct vb_blk_file {
	int		fd;
	uint64_t	size;
};

/* Zeroes for the write fallback; page-aligned so that O_DIRECT accepts them. */
#define ZERO_LEN	65536u
static const alignas(4096) uint8_t zeroes[ZERO_LEN];

int vbi_blk_file_open(const char *path, unsigned int flags, uint64_t *size)
{
	int oflags = O_CLOEXEC | ((flags & VB_BLK_FILE_READ_ONLY) ? O_RDONLY : O_RDWR);
	struct stat st;
	int fd;

	if (flags & VB_BLK_FILE_DIRECT)
		oflags |= O_DIRECT;
	fd = open(path, oflags);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (S_ISBLK(st.st_mode)) {
		uint64_t bytes;

		if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
			goto fail;
		*size = bytes;
	} else {
		*size = (uint64_t)st.st_size;
	}
	return fd;
fail:
	{
		int err = -errno;

		close(fd);
		return err;
	}
}

/* One vectored transfer at off; returns bytes moved or -errno. */
static ssize_t xfer(int fd, const struct vb_iov *iov, int n, uint64_t off, bool write, bool fua)
{
	const struct iovec *v = (const struct iovec *)(const void *)iov;
	ssize_t r;

	do {
		if (!write)
			r = preadv(fd, v, n, (off_t)off);
		else
			r = pwritev2(fd, v, n, (off_t)off, fua ? RWF_DSYNC : 0);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

int vbi_blk_file_rw(int fd, const struct vb_blk_io *io, uint64_t done)
{
	bool write = io->op == VB_BLK_OP_WRITE;
	bool fua = write && (io->flags & VB_BLK_IO_FUA);
	bool sync_after = false;
	struct vb_iov_cursor cur;

	if (!vbi_blk_file_range_ok(io))
		return -EIO;
	vb_iov_cursor_init(&cur, io->iov, io->iov_num);
	vb_iov_cursor_skip(&cur, (size_t)done);
	while (cur.remaining) {
		struct vb_iov part[64];
		struct vb_iov_cursor save = cur;
		int n = 0;
		ssize_t r;

		/* The first call takes the guest's iovecs as they are; after a short transfer a
		 * few are described again from where it stopped. */
		if (done == 0 && io->iov_num <= 1024u) {
			r = xfer(fd, io->iov, (int)io->iov_num, io->offset, write, fua && !sync_after);
		} else {
			while (n < 64 && vb_iov_cursor_next(&cur, SIZE_MAX, &part[n]))
				n++;
			cur = save;
			r = xfer(fd, part, n, io->offset + done, write, fua && !sync_after);
		}
		if (r == -EOPNOTSUPP && fua && !sync_after) {
			sync_after = true;	/* no RWF_DSYNC here: write, then fdatasync */
			continue;
		}
		if (r <= 0)	/* an error, or the end of the file (the image shrank) */
			return -EIO;
		vb_iov_cursor_skip(&cur, (size_t)r);
		done += (uint64_t)r;
	}
	return sync_after ? vbi_blk_file_sync(fd) : 0;
}

int vbi_blk_file_sync(int fd)
{
	int r;

	do
		r = fdatasync(fd);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -EIO : 0;
}

int vbi_blk_file_zero(int fd, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < ZERO_LEN ? (size_t)len : ZERO_LEN;
		ssize_t r = pwrite(fd, zeroes, n, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -EIO;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static int falloc(int fd, int mode, uint64_t off, uint64_t len)
{
	int r;

	do
		r = fallocate(fd, mode, (off_t)off, (off_t)len);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* @satisfy{VB-REQ-BLK-030} */
int vbi_blk_file_dwz(int fd, const struct vb_blk_io *io)
{
	int r;

	if (!vbi_blk_file_range_ok(io))
		return -EIO;
	if (io->op == VB_BLK_OP_DISCARD) {
		/* virtio 1.2, 5.2.6.2: the device MAY deallocate; a file system that cannot
		 * punch holes simply keeps the data. */
		r = falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, io->offset, io->len);
		return r == 0 || vbi_blk_file_unsupported(r) ? 0 : -EIO;
	}
	/* Write zeroes: "reads of the specified ranges of sectors MUST return zeroes". A hole
	 * reads as zeroes, so unmap punches one; otherwise the blocks stay allocated. */
	r = -EOPNOTSUPP;
	if (io->flags & VB_BLK_IO_UNMAP)
		r = falloc(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, io->offset, io->len);
	if (r != 0 && vbi_blk_file_unsupported(r))
		r = falloc(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, io->offset, io->len);
	if (r != 0 && vbi_blk_file_unsupported(r))
		r = vbi_blk_file_zero(fd, io->offset, io->len);
	if (r != 0)
		return -EIO;
	return (io->flags & VB_BLK_IO_FUA) ? vbi_blk_file_sync(fd) : 0;
}

static int file_submit(void *backend, struct vb_blk_io *io)
{
	struct vb_blk_file *f = backend;

	switch (io->op) {
	case VB_BLK_OP_READ:
	case VB_BLK_OP_WRITE:
		return vbi_blk_file_rw(f->fd, io, 0);
	case VB_BLK_OP_FLUSH:
		return vbi_blk_file_sync(f->fd);
	case VB_BLK_OP_DISCARD:
	case VB_BLK_OP_WRITE_ZEROES:
		return vbi_blk_file_dwz(f->fd, io);
	default:
		return -ENOTSUP;
	}
}

VB_EXPORT const struct vb_blk_backend_ops vb_blk_file_ops = {
	.version = VB_BLK_BACKEND_OPS_V1,
	.submit = file_submit,
};

VB_EXPORT int vb_blk_file_open(const char *path, unsigned int flags, struct vb_blk_file **out)
{
	struct vb_blk_file *f;
	int fd;

	if (!path || !out)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	fd = vbi_blk_file_open(path, flags, &f->size);
	if (fd < 0) {
		free(f);
		return fd;
	}
	f->fd = fd;
	*out = f;
	return 0;
}

VB_EXPORT void vb_blk_file_close(struct vb_blk_file *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f);
}

VB_EXPORT uint64_t vb_blk_file_capacity(const struct vb_blk_file *f)
{
	return f->size >> VB_VIRTIO_BLK_SECTOR_SHIFT;
}
