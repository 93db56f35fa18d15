/* SPDX-License-Identifier: MIT */
/*
 * The i2c-dev backend of the virtio-i2c model (src/devices/i2c/i2c-host.c) without an I2C
 * adapter: the "adapters" are temporary files, and this program's own ioctl() (which the
 * statically linked backend calls instead of libc's) plays i2c-dev for them: I2C_FUNCS
 * answers the functionality the test chose, I2C_RDWR records the messages and fills read
 * buffers with a pattern. Every other ioctl goes to the kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/i2c-dev.h>
#include <linux/i2c.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/i2c.h"

#define N_FAKE	2u
#define MAX_REC	8u

struct fake_adapter {
	char		path[64];
	ino_t		ino;
	unsigned long	funcs;
	int		fail;		/* errno for I2C_RDWR, 0: succeed */
	unsigned int	funcs_calls;
	unsigned int	rdwr_calls;
	unsigned int	nmsgs;
	struct i2c_msg	msg[MAX_REC];
	uint8_t		wdata[MAX_REC][64];	/* copies of written bytes */
};

static struct fake_adapter fake[N_FAKE];

static struct fake_adapter *fake_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return NULL;
	for (unsigned int i = 0; i < N_FAKE; i++)
		if (fake[i].path[0] && fake[i].ino == st.st_ino)
			return &fake[i];
	return NULL;
}

/* Interposes libc's ioctl() (declared in <sys/ioctl.h>) for this program: the backend is
 * linked in statically. */
int ioctl(int fd, unsigned long req, ...)
{
	struct fake_adapter *a = fake_of(fd);
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!a)
		return (int)syscall(SYS_ioctl, fd, req, arg);
	if (req == I2C_FUNCS) {
		a->funcs_calls++;
		*(unsigned long *)arg = a->funcs;
		return 0;
	}
	if (req == I2C_RDWR) {
		struct i2c_rdwr_ioctl_data *d = arg;

		a->rdwr_calls++;
		a->nmsgs = d->nmsgs;
		for (unsigned int i = 0; i < d->nmsgs && i < MAX_REC; i++) {
			struct i2c_msg *m = &d->msgs[i];

			a->msg[i] = *m;
			if (a->fail)
				continue;
			if (m->flags & I2C_M_RD)
				for (unsigned int k = 0; k < m->len; k++)
					m->buf[k] = (uint8_t)(0x80u + k);
			else if (m->len)	/* a zero-length write may carry no buffer */
				memcpy(a->wdata[i], m->buf, m->len < 64 ? m->len : 64);
		}
		if (a->fail) {
			errno = a->fail;
			return -1;
		}
		return (int)d->nmsgs;
	}
	errno = ENOTTY;
	return -1;
}

struct fx {
	struct vb_i2c_host	*h;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	for (unsigned int i = 0; i < N_FAKE; i++) {
		struct stat st;
		int fd;

		memset(&fake[i], 0, sizeof(fake[i]));
		snprintf(fake[i].path, sizeof(fake[i].path), "/tmp/vb-test-i2c-dev-XXXXXX");
		fd = mkstemp(fake[i].path);
		assert_true(fd >= 0);
		assert_int_equal(fstat(fd, &st), 0);
		close(fd);
		fake[i].ino = st.st_ino;
		fake[i].funcs = I2C_FUNC_I2C | I2C_FUNC_SMBUS_EMUL;
	}
	assert_int_equal(vb_i2c_host_create(&f->h), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	vb_i2c_host_destroy(f->h);
	for (unsigned int i = 0; i < N_FAKE; i++) {
		unlink(fake[i].path);
		fake[i].path[0] = '\0';
	}
	free(f);
	return 0;
}

static int xfer(struct fx *f, const struct vb_i2c_msg *m, unsigned int n)
{
	return vb_i2c_host_ops.transfer(f->h, m, n);
}

/* @verify{VB-REQ-I2C-031} an adapter is opened and probed once for all its clients; one
 * without plain I2C transfers is refused; addresses are checked */
static void test_i2c_host__add_probes_once(void **state)
{
	struct fx *f = *state;

	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x50), 0);
	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x51), 0);
	assert_int_equal(fake[0].funcs_calls, 1);
	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x50), -EINVAL);
	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x80), -EINVAL);
	assert_true(vb_i2c_host_has(f->h, 0x51));
	assert_false(vb_i2c_host_has(f->h, 0x52));
	fake[1].funcs = I2C_FUNC_SMBUS_BYTE_DATA;	/* an SMBus-only controller */
	assert_int_equal(vb_i2c_host_add(f->h, fake[1].path, 0x20), -ENOTSUP);
	assert_false(vb_i2c_host_has(f->h, 0x20));
}

/* @verify{VB-REQ-I2C-031} a write-then-read is one I2C_RDWR with both messages, the write
 * taken from and the read landing in the guest's buffers (zero copy when contiguous) */
static void test_i2c_host__write_then_read_one_ioctl(void **state)
{
	struct fx *f = *state;
	uint8_t reg = 0x10, rd[4] = { 0 };
	struct vb_iov wi = { &reg, 1 }, ri = { rd, sizeof(rd) };
	struct vb_i2c_msg m[3] = {
		{ .addr = 0x50, .flags = 0, .len = 1, .iov = &wi, .iov_num = 1 },
		{ .addr = 0x50, .flags = VB_I2C_MSG_RD, .len = 4, .iov = &ri, .iov_num = 1 },
		{ .addr = 0x51, .flags = 0, .len = 0, .iov = NULL, .iov_num = 0 },
	};

	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x50), 0);
	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x51), 0);
	assert_int_equal(xfer(f, m, 3), 3);
	assert_int_equal(fake[0].rdwr_calls, 1);
	assert_int_equal(fake[0].nmsgs, 3);
	assert_int_equal(fake[0].msg[0].addr, 0x50);
	assert_int_equal(fake[0].msg[0].flags, 0);
	assert_int_equal(fake[0].msg[0].len, 1);
	assert_ptr_equal(fake[0].msg[0].buf, &reg);
	assert_int_equal(fake[0].msg[1].flags, I2C_M_RD);
	assert_int_equal(fake[0].msg[1].len, 4);
	assert_ptr_equal(fake[0].msg[1].buf, rd);
	assert_int_equal(fake[0].msg[2].addr, 0x51);
	assert_int_equal(fake[0].msg[2].len, 0);
	assert_int_equal(fake[0].wdata[0][0], 0x10);
	assert_memory_equal(rd, ((uint8_t[]){ 0x80, 0x81, 0x82, 0x83 }), 4);
}

/* @verify{VB-REQ-I2C-031} buffers split over several iovecs go through the bounce buffer in
 * both directions */
static void test_i2c_host__split_buffers_bounce(void **state)
{
	struct fx *f = *state;
	uint8_t w1[2] = { 1, 2 }, w2[3] = { 3, 4, 5 }, r1[3], r2[2];
	struct vb_iov wi[2] = { { w1, 2 }, { w2, 3 } }, ri[2] = { { r1, 3 }, { r2, 2 } };
	struct vb_i2c_msg m[2] = {
		{ .addr = 0x50, .flags = 0, .len = 5, .iov = wi, .iov_num = 2 },
		{ .addr = 0x50, .flags = VB_I2C_MSG_RD, .len = 5, .iov = ri, .iov_num = 2 },
	};

	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x50), 0);
	assert_int_equal(xfer(f, m, 2), 2);
	assert_memory_equal(fake[0].wdata[0], ((uint8_t[]){ 1, 2, 3, 4, 5 }), 5);
	assert_memory_equal(r1, ((uint8_t[]){ 0x80, 0x81, 0x82 }), 3);
	assert_memory_equal(r2, ((uint8_t[]){ 0x83, 0x84 }), 2);
}

/* @verify{VB-REQ-I2C-031} a failed ioctl, an unknown client, two adapters in one transaction
 * and a message above i2c-dev's 8192 bytes fail the whole transaction */
static void test_i2c_host__failures_fail_transaction(void **state)
{
	struct fx *f = *state;
	uint8_t b[8] = { 0 };
	struct vb_iov bi = { b, sizeof(b) }, big = { NULL, 8193 };
	struct vb_i2c_msg m[2] = {
		{ .addr = 0x50, .flags = 0, .len = 8, .iov = &bi, .iov_num = 1 },
		{ .addr = 0x20, .flags = 0, .len = 8, .iov = &bi, .iov_num = 1 },
	};

	assert_int_equal(vb_i2c_host_add(f->h, fake[0].path, 0x50), 0);
	assert_int_equal(vb_i2c_host_add(f->h, fake[1].path, 0x20), 0);
	fake[0].fail = EREMOTEIO;
	assert_int_equal(xfer(f, m, 1), -EREMOTEIO);
	fake[0].fail = 0;
	assert_int_equal(xfer(f, m, 2), -EXDEV);
	m[1].addr = 0x30;
	assert_int_equal(xfer(f, m, 2), -ENXIO);
	m[0].iov = &big;
	m[0].len = 8193;
	assert_int_equal(xfer(f, m, 1), -EINVAL);
	assert_int_equal(fake[0].rdwr_calls, 1);	/* only the first reached the "kernel" */
	assert_int_equal(fake[1].rdwr_calls, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(test_i2c_host__##name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(add_probes_once),
		T(write_then_read_one_ioctl),
		T(split_buffers_bounce),
		T(failures_fail_transaction),
	};

	return cmocka_run_group_tests_name("i2c-host", tests, NULL, NULL);
}
