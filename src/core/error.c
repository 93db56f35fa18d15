/* SPDX-License-Identifier: MIT */
/* Error names for logs, without strerror (freestanding). */
#include "virtio-backend.h"
#include "internal/compiler.h"

VB_EXPORT const char *vb_strerror(int err)
{
	static const struct {
		int code;
		const char *name;
	} names[] = {
		{ 0, "OK" },
		{ EIO, "EIO" },
		{ E2BIG, "E2BIG" },
		{ EAGAIN, "EAGAIN" },
		{ EFAULT, "EFAULT" },
		{ EBUSY, "EBUSY" },
		{ EINVAL, "EINVAL" },
		{ ENOSPC, "ENOSPC" },
		{ ERANGE, "ERANGE" },
		{ ELOOP, "ELOOP" },
		{ EPROTO, "EPROTO" },
		{ EBADMSG, "EBADMSG" },
		{ EOVERFLOW, "EOVERFLOW" },
		{ ENOTSUP, "ENOTSUP" },
		{ ENOTRECOVERABLE, "ENOTRECOVERABLE" },
	};

	if (err < 0)
		err = -err;
	for (unsigned int i = 0; i < VB_ARRAY_SIZE(names); i++)
		if (names[i].code == err)
			return names[i].name;
	return "E?";
}

VB_EXPORT unsigned int vb_version(void)
{
	return (VB_VERSION_MAJOR << 16) | VB_VERSION_MINOR;
}
