/* SPDX-License-Identifier: MIT */
/* The one place that knows both struct vb_iov and POSIX struct iovec. */
#include <stddef.h>
#include <sys/uio.h>

#include "virtio-backend/chain.h"

_Static_assert(sizeof(struct vb_iov) == sizeof(struct iovec) &&
	       offsetof(struct vb_iov, base) == offsetof(struct iovec, iov_base) &&
	       offsetof(struct vb_iov, len) == offsetof(struct iovec, iov_len),
	       "vb_iov must stay layout-compatible with struct iovec");
