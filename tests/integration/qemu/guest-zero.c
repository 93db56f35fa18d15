/* SPDX-License-Identifier: MIT */
/*
 * vb-zero: the guest's way to send VIRTIO_BLK_T_WRITE_ZEROES (busybox has blkdiscard but
 * nothing that zeroes a block device). Built static by prepare into the test initramfs.
 *
 *   vb-zero punch DEV OFFSET LENGTH    fallocate(PUNCH_HOLE | KEEP_SIZE): Linux sends
 *        WRITE_ZEROES with the unmap flag and no fallback (EOPNOTSUPP when the disk has no
 *        write-zeroes support), so success proves the device did it
 *   vb-zero zeroout DEV OFFSET LENGTH  ioctl(BLKZEROOUT): WRITE_ZEROES without unmap (Linux
 *        falls back to writing zero pages where the device lacks it)
 *
 * OFFSET and LENGTH in bytes, multiples of 512. Exit 0, or 1 with the error on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	uint64_t range[2];
	int fd, r;

	if (argc != 5) {
		fprintf(stderr, "usage: vb-zero punch|zeroout DEV OFFSET LENGTH\n");
		return 2;
	}
	range[0] = strtoull(argv[3], NULL, 0);
	range[1] = strtoull(argv[4], NULL, 0);
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "vb-zero: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (!strcmp(argv[1], "punch"))
		r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)range[0],
			      (off_t)range[1]);
	else if (!strcmp(argv[1], "zeroout"))
		r = ioctl(fd, BLKZEROOUT, range);
	else {
		fprintf(stderr, "vb-zero: unknown mode %s\n", argv[1]);
		return 2;
	}
	if (r < 0) {
		fprintf(stderr, "vb-zero: %s %s %s+%s: %s\n", argv[1], argv[2], argv[3], argv[4],
			strerror(errno));
		return 1;
	}
	return 0;
}
