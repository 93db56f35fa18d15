/* SPDX-License-Identifier: MIT */
/*
 * Linux i2c-dev backend of the virtio-i2c model: each allowed client address maps to an
 * adapter (/dev/i2c-N, opened once), and a transaction is one I2C_RDWR ioctl, so the
 * kernel's adapter driver issues it with repeated starts and one stop. Message buffers are
 * the guest's own memory when contiguous; a buffer split by guest memory regions goes
 * through a bounce buffer allocated once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/i2c-dev.h>
#include <linux/i2c.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/i2c.h"
#include "internal/compiler.h"

#define HOST_ADDRS	128u
#define HOST_ADAPTERS	16u
/* i2c-dev refuses messages above 8192 bytes (drivers/i2c/i2c-dev.c), so a group never
 * needs more bounce space than this per message. */
#define HOST_MSG_MAX	8192u
#define HOST_BOUNCE	(HOST_MSG_MAX * 4u)

struct host_adapter {
	char	*path;
	int	fd;
};

struct vb_i2c_host {
	struct host_adapter	adap[HOST_ADAPTERS];
	unsigned int		n_adap;
	int8_t			map[HOST_ADDRS];	/* address -> adapter, -1 if none */
	struct i2c_msg		msgs[VB_I2C_MAX_GROUP];
	uint8_t			bounce[HOST_BOUNCE];
};

VB_EXPORT int vb_i2c_host_create(struct vb_i2c_host **out)
{
	struct vb_i2c_host *h;

	if (!out)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	memset(h->map, -1, sizeof(h->map));
	*out = h;
	return 0;
}

VB_EXPORT void vb_i2c_host_destroy(struct vb_i2c_host *h)
{
	if (!h)
		return;
	for (unsigned int i = 0; i < h->n_adap; i++) {
		close(h->adap[i].fd);
		free(h->adap[i].path);
	}
	free(h);
}

static int adapter_open(struct vb_i2c_host *h, const char *path)
{
	unsigned long funcs = 0;
	int fd, err;

	for (unsigned int i = 0; i < h->n_adap; i++)
		if (strcmp(h->adap[i].path, path) == 0)
			return (int)i;
	if (h->n_adap == HOST_ADAPTERS)
		return -ENOSPC;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, I2C_FUNCS, &funcs) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!(funcs & I2C_FUNC_I2C)) {
		/* An SMBus-only adapter cannot run arbitrary I2C_RDWR transactions. */
		close(fd);
		return -ENOTSUP;
	}
	h->adap[h->n_adap].path = strdup(path);
	if (!h->adap[h->n_adap].path) {
		close(fd);
		return -ENOMEM;
	}
	h->adap[h->n_adap].fd = fd;
	return (int)h->n_adap++;
}

VB_EXPORT int vb_i2c_host_add(struct vb_i2c_host *h, const char *path, uint16_t addr)
{
	int a;

	if (!h || !path || addr >= HOST_ADDRS || h->map[addr] >= 0)
		return -EINVAL;
	a = adapter_open(h, path);
	if (a < 0)
		return a;
	h->map[addr] = (int8_t)a;
	return 0;
}

VB_EXPORT bool vb_i2c_host_has(const struct vb_i2c_host *h, uint16_t addr)
{
	return h && addr < HOST_ADDRS && h->map[addr] >= 0;
}

static void gather(uint8_t *dst, const struct vb_i2c_msg *m)
{
	struct vb_iov_cursor cur;

	vb_iov_cursor_init(&cur, m->iov, m->iov_num);
	vb_iov_cursor_read(&cur, dst, m->len);
}

static void scatter(const struct vb_i2c_msg *m, const uint8_t *src)
{
	struct vb_iov_cursor cur;

	vb_iov_cursor_init(&cur, m->iov, m->iov_num);
	vb_iov_cursor_write(&cur, src, m->len);
}

/* @satisfy{VB-REQ-I2C-031} */
static int host_transfer(void *backend, const struct vb_i2c_msg *msgs, unsigned int n)
{
	struct vb_i2c_host *h = backend;
	struct i2c_rdwr_ioctl_data data;
	size_t used = 0;
	int a = -1;

	if (n == 0 || n > VB_I2C_MAX_GROUP)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++) {
		const struct vb_i2c_msg *m = &msgs[i];
		int ma = m->addr < HOST_ADDRS ? h->map[m->addr] : -1;

		/* An address the host did not hand to the guest is not on its bus: nothing is
		 * sent, so every message of the transaction fails. */
		if (ma < 0)
			return -ENXIO;
		/* One ioctl runs on one adapter. */
		if (a >= 0 && ma != a)
			return -EXDEV;
		a = ma;
		if (m->len > HOST_MSG_MAX)
			return -EINVAL;
		h->msgs[i] = (struct i2c_msg){ .addr = m->addr,
					       .flags = (m->flags & VB_I2C_MSG_RD) ? I2C_M_RD : 0,
					       .len = (uint16_t)m->len };
		if (m->iov_num == 1) {
			h->msgs[i].buf = m->iov[0].base;	/* zero copy */
		} else if (m->len) {
			if (m->len > sizeof(h->bounce) - used)
				return -E2BIG;
			h->msgs[i].buf = h->bounce + used;
			if (!(m->flags & VB_I2C_MSG_RD))
				gather(h->msgs[i].buf, m);
			used += m->len;
		}
	}
	data.msgs = h->msgs;
	data.nmsgs = n;
	if (ioctl(h->adap[a].fd, I2C_RDWR, &data) < 0)
		return -errno;	/* which message failed is unknown: all are answered ERR */
	for (unsigned int i = 0; i < n; i++)
		if ((msgs[i].flags & VB_I2C_MSG_RD) && msgs[i].iov_num > 1)
			scatter(&msgs[i], h->msgs[i].buf);
	return (int)n;
}

VB_EXPORT const struct vb_i2c_backend_ops vb_i2c_host_ops = {
	.version = VB_I2C_BACKEND_OPS_V1,
	.transfer = host_transfer,
};
