/* SPDX-License-Identifier: MIT */
/*
 * io_uring file backend of the virtio-blk model (liburing >= 2.3). submit() turns each
 * operation into one SQE that points at the guest's own iovecs (zero copy); commit() hands
 * a kick's whole batch to the kernel with one io_uring_submit(); completions are reaped by
 * vb_blk_uring_complete() when the eventfd registered with the ring becomes readable.
 *
 * Buffered reads and writes that the page cache serves at once are not queued: submit() does
 * them on the caller's thread (see try_inline()), which saves an SQE, a completion eventfd
 * wake-up and a loop turn per request, and for buffered writes on file systems that cannot
 * write without blocking (ext4: RWF_NOWAIT fails with EOPNOTSUPP) the hop to an io-wq
 * worker thread and back that io_uring takes for them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <liburing.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "internal/compiler.h"
#include "blk-file.h"

struct vb_blk_uring {
	struct io_uring	ring;
	int		fd;
	int		efd;
	uint64_t	size;
	bool		direct;		/* O_DIRECT: everything goes through the ring */
	bool		write_nowait;	/* RWF_NOWAIT writes work here (cleared on EOPNOTSUPP) */
	unsigned int	queued;		/* SQEs prepared since the last io_uring_submit() */
	unsigned int	inflight;	/* SQEs whose CQE has not been reaped */
	bool		reaping;	/* commit() waits for the end of the reap */
};

static struct io_uring_sqe *get_sqe(struct vb_blk_uring *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe && u->queued) {
		/* The SQ ring is full: start what is queued to make room. */
		if (io_uring_submit(&u->ring) >= 0)
			u->queued = 0;
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* Largest buffered write done inline while the ring is idle: a copy into the page cache of
 * this size takes microseconds, about what the io-wq round trip costs. */
#define INLINE_WRITE_MAX	(128u << 10)

/*
 * Do a buffered read or write now if that cannot wait for the disk: 0 when done, -EAGAIN to
 * queue it on the ring instead (not cached, would block, failed: the ring then does the whole
 * operation again and reports its own result). A read uses RWF_NOWAIT (page cache hits only).
 * A write uses RWF_NOWAIT where the file system supports it; where it does not (ext4
 * buffered), io_uring would punt every write to an io-wq worker, so a write of at most
 * INLINE_WRITE_MAX bytes is done synchronously while nothing is queued or in flight on the
 * ring, so that nothing waits behind it there. Such a write can still block (dirty page
 * throttling, reading a partly written page), as it would in the io-wq worker. On ext4
 * (bench/README.md) doing every write of a batch inline beat handing all but the first of
 * each batch to io-wq workers at QD 32 (2x) and with 128 KiB writes (5x): buffered writes to
 * one file serialize on its inode lock, so the workers add hops and no parallelism.
 * FUA writes and O_DIRECT
 * wait for the disk and always go to the ring. Redoing a short transfer in full is harmless:
 * the same bytes land at the same place.
 */
static int try_inline(struct vb_blk_uring *u, const struct vb_blk_io *io)
{
	const struct iovec *iov = (const struct iovec *)(const void *)io->iov;
	off_t off = (off_t)io->offset;
	int n = (int)io->iov_num;
	ssize_t r;

	if (u->direct || io->iov_num == 0 || io->iov_num > IOV_MAX)
		return -EAGAIN;
	if (io->op == VB_BLK_OP_READ) {
		r = preadv2(u->fd, iov, n, off, RWF_NOWAIT);
	} else {
		if (io->flags & VB_BLK_IO_FUA)
			return -EAGAIN;
		r = -1;
		errno = EOPNOTSUPP;
		if (u->write_nowait)
			r = pwritev2(u->fd, iov, n, off, RWF_NOWAIT);
		if (r < 0 && errno == EOPNOTSUPP) {
			u->write_nowait = false;
			if (u->inflight || io->len > INLINE_WRITE_MAX)
				return -EAGAIN;
			do {
				r = pwritev2(u->fd, iov, n, off, 0);
			} while (r < 0 && errno == EINTR);
		}
	}
	return r >= 0 && (uint64_t)r == io->len ? 0 : -EAGAIN;
}

/* @satisfy{VB-REQ-BLK-031} */
static int uring_submit(void *backend, struct vb_blk_io *io)
{
	struct vb_blk_uring *u = backend;
	struct io_uring_sqe *sqe;

	if (io->op > VB_BLK_OP_WRITE_ZEROES)
		return -ENOTSUP;
	if (!vbi_blk_file_range_ok(io))
		return -EIO;
	if ((io->op == VB_BLK_OP_READ || io->op == VB_BLK_OP_WRITE) && try_inline(u, io) == 0)
		return 0;
	sqe = get_sqe(u);
	if (!sqe)
		return -EIO;	/* more in flight than the ring was sized for */
	switch (io->op) {
	case VB_BLK_OP_READ:
		io_uring_prep_readv(sqe, u->fd, (const struct iovec *)(const void *)io->iov,
				    io->iov_num, io->offset);
		break;
	case VB_BLK_OP_WRITE:
		io_uring_prep_writev(sqe, u->fd, (const struct iovec *)(const void *)io->iov,
				     io->iov_num, io->offset);
		if (io->flags & VB_BLK_IO_FUA)
			sqe->rw_flags = RWF_DSYNC;
		break;
	case VB_BLK_OP_FLUSH:
		io_uring_prep_fsync(sqe, u->fd, IORING_FSYNC_DATASYNC);
		break;
	case VB_BLK_OP_DISCARD:
		io_uring_prep_fallocate(sqe, u->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					io->offset, io->len);
		break;
	case VB_BLK_OP_WRITE_ZEROES:
		io_uring_prep_fallocate(sqe, u->fd, FALLOC_FL_KEEP_SIZE |
					((io->flags & VB_BLK_IO_UNMAP) ? FALLOC_FL_PUNCH_HOLE :
									 FALLOC_FL_ZERO_RANGE),
					io->offset, io->len);
		break;
	default:
		/* Unreachable (checked above); the SQE goes out as a no-op nobody waits for. */
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data(sqe, NULL);
		u->queued++;
		u->inflight++;
		return -ENOTSUP;
	}
	io_uring_sqe_set_data(sqe, io);
	u->queued++;
	u->inflight++;
	return VB_BLK_PENDING;
}

static void uring_commit(void *backend)
{
	struct vb_blk_uring *u = backend;

	/* Inside reap() each completion may start a request's next segment and commit: one
	 * io_uring_submit() at the end of the reap takes them all. */
	if (!u->reaping && u->queued && io_uring_submit(&u->ring) >= 0)
		u->queued = 0;
}

/* The operation's result from its CQE, finishing on the synchronous path what the kernel
 * left undone (a short transfer, fallocate modes the file system lacks). */
static int result_of(struct vb_blk_uring *u, const struct vb_blk_io *io, int res)
{
	switch (io->op) {
	case VB_BLK_OP_READ:
	case VB_BLK_OP_WRITE:
		if (res == -EOPNOTSUPP && io->op == VB_BLK_OP_WRITE && (io->flags & VB_BLK_IO_FUA))
			return vbi_blk_file_rw(u->fd, io, 0);	/* write, then fdatasync */
		if (res < 0)
			return -EIO;
		if ((uint64_t)res < io->len)
			return res == 0 ? -EIO : vbi_blk_file_rw(u->fd, io, (uint64_t)res);
		return 0;
	case VB_BLK_OP_DISCARD:
	case VB_BLK_OP_WRITE_ZEROES:
		if (res == 0)
			return (io->op == VB_BLK_OP_WRITE_ZEROES && (io->flags & VB_BLK_IO_FUA)) ?
			       vbi_blk_file_sync(u->fd) : 0;
		if (vbi_blk_file_unsupported(res))
			return vbi_blk_file_dwz(u->fd, io);
		return -EIO;
	case VB_BLK_OP_FLUSH:
	default:
		return res < 0 ? -EIO : 0;
	}
}

/* Reap what is ready; block until min_wait have been reaped. */
static int reap_batch(struct vb_blk_uring *u, unsigned int min_wait)
{
	struct vb_blk *last = NULL;
	int n = 0;

	for (;;) {
		struct io_uring_cqe *cqe;
		struct vb_blk_io *io;
		int res, ret;

		if ((unsigned int)n < min_wait) {
			/* Never block with SQEs of this reap still unsubmitted. */
			if (u->queued && io_uring_submit(&u->ring) >= 0)
				u->queued = 0;
			ret = io_uring_wait_cqe(&u->ring, &cqe);
		} else {
			ret = io_uring_peek_cqe(&u->ring, &cqe);
		}
		if (ret == -EINTR)
			continue;
		if (ret == -EAGAIN)
			break;
		if (ret < 0)
			return n ? n : ret;
		io = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		/* Seen before the model runs: it may submit the request's next segment. */
		io_uring_cqe_seen(&u->ring, cqe);
		u->inflight--;
		n++;
		if (!io)
			continue;
		if (last && last != io->blk)
			vb_blk_notify(last);
		last = io->blk;
		vb_blk_complete(io, result_of(u, io, res));
	}
	if (last)
		vb_blk_notify(last);
	return n;
}

static int reap(struct vb_blk_uring *u, unsigned int min_wait)
{
	bool outer = !u->reaping;
	int n;

	u->reaping = true;
	n = reap_batch(u, min_wait);
	if (outer) {
		u->reaping = false;
		uring_commit(u);
	}
	return n;
}

static void uring_drain(void *backend)
{
	struct vb_blk_uring *u = backend;

	uring_commit(u);
	while (u->inflight) {
		if (reap(u, 1) < 0)
			break;	/* the ring failed: nothing more will complete */
		uring_commit(u);
	}
}

VB_EXPORT const struct vb_blk_backend_ops vb_blk_uring_ops = {
	.version = VB_BLK_BACKEND_OPS_V1,
	.submit = uring_submit,
	.commit = uring_commit,
	.drain = uring_drain,
};

VB_EXPORT int vb_blk_uring_complete(struct vb_blk_uring *u, unsigned int min_wait)
{
	uint64_t v;

	/* Reset the eventfd first: a completion after this read makes it readable again. */
	if (read(u->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	if (min_wait > u->inflight)
		min_wait = u->inflight;
	return reap(u, min_wait);
}

VB_EXPORT int vb_blk_uring_open(const char *path, unsigned int flags, unsigned int entries,
				struct vb_blk_uring **out)
{
	struct vb_blk_uring *u;
	int ret;

	if (!path || !out)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->fd = vbi_blk_file_open(path, flags, &u->size);
	if (u->fd < 0) {
		ret = u->fd;
		free(u);
		return ret;
	}
	u->direct = (flags & VB_BLK_FILE_DIRECT) != 0;
	u->write_nowait = true;
	/* The CQ ring is twice the SQ ring; every request in flight has one CQE at most. */
	ret = io_uring_queue_init(entries ? entries : 256u, &u->ring, 0);
	if (ret < 0)
		goto fail_fd;
	u->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->efd < 0) {
		ret = -errno;
		goto fail_ring;
	}
	ret = io_uring_register_eventfd(&u->ring, u->efd);
	if (ret < 0)
		goto fail_efd;
	*out = u;
	return 0;
fail_efd:
	close(u->efd);
fail_ring:
	io_uring_queue_exit(&u->ring);
fail_fd:
	close(u->fd);
	free(u);
	return ret;
}

VB_EXPORT void vb_blk_uring_close(struct vb_blk_uring *u)
{
	if (!u)
		return;
	uring_drain(u);
	io_uring_queue_exit(&u->ring);
	close(u->efd);
	close(u->fd);
	free(u);
}

VB_EXPORT uint64_t vb_blk_uring_capacity(const struct vb_blk_uring *u)
{
	return u->size >> VB_VIRTIO_BLK_SECTOR_SHIFT;
}

VB_EXPORT int vb_blk_uring_eventfd(const struct vb_blk_uring *u)
{
	return u->efd;
}
