/* SPDX-License-Identifier: MIT */
/*
 * The version the headers announce, the version the library reports at run time and the
 * project version in meson.build (passed as VBT_MAJOR/VBT_MINOR) must agree.
 */
#include <stdio.h>

#include "virtio-backend.h"

#if VB_VERSION_MAJOR != VBT_MAJOR || VB_VERSION_MINOR != VBT_MINOR
#error "VB_VERSION_MAJOR/MINOR in include/virtio-backend.h differ from meson.build's version"
#endif

int main(void)
{
	unsigned int want = (VB_VERSION_MAJOR << 16) | VB_VERSION_MINOR;
	unsigned int got = vb_version();

	if (got != want) {
		printf("vb_version() = %#x, headers say %#x\n", got, want);
		return 1;
	}
	printf("version %u.%u\n", got >> 16, got & 0xffff);
	return 0;
}
