/* SPDX-License-Identifier: MIT */
/*
 * Host entropy backends of the virtio-rng model: getrandom(2) and readv(2) from a file or
 * character device, both writing straight into the guest's buffers (struct vb_iov is
 * layout-compatible with struct iovec: src/port/posix/iov.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/rng.h"
#include "internal/compiler.h"

/* ---- getrandom ------------------------------------------------------------------------- */

/* @satisfy{VB-REQ-RNG-030} */
static int getrandom_fill(void *backend, const struct vb_iov *iov, unsigned int n, size_t len)
{
	size_t done = 0;

	(void)backend;
	for (unsigned int i = 0; i < n && done < len; i++) {
		uint8_t *p = iov[i].base;
		size_t left = iov[i].len;

		while (left) {
			/* Flags 0: the urandom source; it blocks only until the host's pool is
			 * first initialised, long before a guest can ask. */
			ssize_t r = getrandom(p, left, 0);

			if (r < 0) {
				if (errno == EINTR)
					continue;
				return done ? (int)done : -errno;
			}
			p += r;
			left -= (size_t)r;
			done += (size_t)r;
		}
	}
	return (int)done;
}

VB_EXPORT const struct vb_rng_backend_ops vb_rng_getrandom_ops = {
	.version = VB_RNG_BACKEND_OPS_V1,
	.fill = getrandom_fill,
};

/* ---- file ------------------------------------------------------------------------------ */

struct vb_rng_file {
	int	fd;
	bool	regular;	/* wraps to offset 0 at its end */
};

/* @satisfy{VB-REQ-RNG-031} */
VB_EXPORT int vb_rng_file_open(const char *path, struct vb_rng_file **out)
{
	struct vb_rng_file *f;
	struct stat st;
	int fd, err;

	if (!path || !out)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto fail;
	}
	/* An empty regular file would answer nothing forever; a directory reads nothing. */
	if (S_ISDIR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0)) {
		err = -EINVAL;
		goto fail;
	}
	f = malloc(sizeof(*f));
	if (!f) {
		err = -ENOMEM;
		goto fail;
	}
	f->fd = fd;
	f->regular = S_ISREG(st.st_mode);
	*out = f;
	return 0;
fail:
	close(fd);
	return err;
}

VB_EXPORT void vb_rng_file_close(struct vb_rng_file *f)
{
	if (!f)
		return;
	close(f->fd);
	free(f);
}

/* One readv() into the guest's iovecs; a short read is a valid answer (virtio 1.2, 5.4.6.2:
 * "it MAY use less than the entire buffer length"). */
static int file_fill(void *backend, const struct vb_iov *iov, unsigned int n, size_t len)
{
	struct vb_rng_file *f = backend;
	bool wrapped = false;

	(void)len;
	for (;;) {
		ssize_t r = readv(f->fd, (const struct iovec *)(const void *)iov, (int)n);

		if (r > 0)
			return (int)r;
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		/* End of file: a regular file starts over once; anything else is dry. */
		if (!f->regular || wrapped || lseek(f->fd, 0, SEEK_SET) < 0)
			return -EIO;
		wrapped = true;
	}
}

VB_EXPORT const struct vb_rng_backend_ops vb_rng_file_ops = {
	.version = VB_RNG_BACKEND_OPS_V1,
	.fill = file_fill,
};
