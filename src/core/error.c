/* SPDX-License-Identifier: MIT */
/* Error names for logs, without strerror (freestanding). */
#include "virtio-backend.h"
#include "internal/compiler.h"
#include "internal/config.h"

#if VB_CONFIG_STRERROR
VB_EXPORT const char *vb_strerror(int err)
{
	/* The codes error.h documents, and their names in the same order, each ending in a NUL
	 * (one string, not a table of pointers: a third of the size on a 32-bit target). */
	static const uint16_t codes[] = {
		0, EIO, E2BIG, EAGAIN, EFAULT, EBUSY, EINVAL, ENOSPC, ERANGE, ELOOP, EPROTO,
		EBADMSG, EOVERFLOW, ENOTSUP, ENOTRECOVERABLE,
	};
	static const char names[] =
		"OK\0EIO\0E2BIG\0EAGAIN\0EFAULT\0EBUSY\0EINVAL\0ENOSPC\0ERANGE\0ELOOP\0EPROTO\0"
		"EBADMSG\0EOVERFLOW\0ENOTSUP\0ENOTRECOVERABLE";
	/* Negated in unsigned arithmetic: -INT_MIN does not exist. */
	unsigned int code = err < 0 ? 0u - (unsigned int)err : (unsigned int)err;
	const char *name = names;

	for (unsigned int i = 0; i < VB_ARRAY_SIZE(codes); i++) {
		if (codes[i] == code)
			return name;
		while (*name++)
			;
	}
	return "E?";
}
#endif /* VB_CONFIG_STRERROR */

VB_EXPORT unsigned int vb_version(void)
{
	return (VB_VERSION_MAJOR << 16) | VB_VERSION_MINOR;
}
