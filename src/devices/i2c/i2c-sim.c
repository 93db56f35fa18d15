/* SPDX-License-Identifier: MIT */
/*
 * A simulated I2C bus for the virtio-i2c model: chips at 7-bit addresses, messages run one
 * by one, a message to an empty address NACKed. Two chips: a 24c02-like EEPROM and a plain
 * register file, each optionally kept in a file so that a test can look at what a guest
 * wrote (and the host can change registers under the guest).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/i2c.h"
#include "internal/compiler.h"

#define SIM_ADDRS	128u

enum sim_kind { SIM_EEPROM, SIM_REGS };

struct sim_chip {
	uint8_t		mem[VB_I2C_SIM_EEPROM_SIZE];
	enum sim_kind	kind;
	uint8_t		ptr;		/* the address (register) pointer */
	int		fd;		/* backing file or -1 */
	bool		dirty;		/* written since the last write-back */
};

struct vb_i2c_sim {
	struct sim_chip *chip[SIM_ADDRS];
};

VB_EXPORT int vb_i2c_sim_create(struct vb_i2c_sim **out)
{
	if (!out)
		return -EINVAL;
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

VB_EXPORT void vb_i2c_sim_destroy(struct vb_i2c_sim *sim)
{
	if (!sim)
		return;
	for (unsigned int i = 0; i < SIM_ADDRS; i++) {
		if (sim->chip[i] && sim->chip[i]->fd >= 0)
			close(sim->chip[i]->fd);
		free(sim->chip[i]);
	}
	free(sim);
}

/* The stop condition: a chip written to commits its content (here: the whole array). */
static int chip_stop(struct sim_chip *e)
{
	ssize_t put;

	if (!e->dirty || e->fd < 0)
		return 0;
	put = pwrite(e->fd, e->mem, sizeof(e->mem), 0);
	if (put != (ssize_t)sizeof(e->mem))
		return put < 0 ? -errno : -EIO;
	e->dirty = false;
	return 0;
}

static int add_chip(struct vb_i2c_sim *sim, uint16_t addr, const char *path, enum sim_kind kind)
{
	struct sim_chip *e;
	ssize_t got;
	int err;

	if (!sim || addr >= SIM_ADDRS || sim->chip[addr])
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->kind = kind;
	/* An erased EEPROM reads 0xff; registers come out of reset as 0. */
	memset(e->mem, kind == SIM_EEPROM ? 0xff : 0, sizeof(e->mem));
	e->fd = -1;
	if (path) {
		e->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (e->fd < 0) {
			err = -errno;
			free(e);
			return err;
		}
		got = pread(e->fd, e->mem, sizeof(e->mem), 0);
		if (got < 0) {
			err = -errno;
			close(e->fd);
			free(e);
			return err;
		}
		if ((size_t)got < sizeof(e->mem)) {
			/* A new or short file: make it the full size, padded, now. */
			memset(e->mem + got, kind == SIM_EEPROM ? 0xff : 0,
			       sizeof(e->mem) - (size_t)got);
			e->dirty = true;
			err = chip_stop(e);
			if (err < 0) {
				close(e->fd);
				free(e);
				return err;
			}
		}
	}
	sim->chip[addr] = e;
	return 0;
}

VB_EXPORT int vb_i2c_sim_add_eeprom(struct vb_i2c_sim *sim, uint16_t addr, const char *path)
{
	return add_chip(sim, addr, path, SIM_EEPROM);
}

VB_EXPORT int vb_i2c_sim_add_regs(struct vb_i2c_sim *sim, uint16_t addr, const char *path)
{
	return add_chip(sim, addr, path, SIM_REGS);
}

static struct sim_chip *chip_range(const struct vb_i2c_sim *sim, uint16_t addr, uint32_t off,
				   const void *buf, uint32_t len)
{
	if (!sim || addr >= SIM_ADDRS || !sim->chip[addr] || !buf ||
	    off > VB_I2C_SIM_EEPROM_SIZE || len > VB_I2C_SIM_EEPROM_SIZE - off)
		return NULL;
	return sim->chip[addr];
}

VB_EXPORT int vb_i2c_sim_read(const struct vb_i2c_sim *sim, uint16_t addr, uint32_t off,
			      void *buf, uint32_t len)
{
	const struct sim_chip *e = chip_range(sim, addr, off, buf, len);

	if (!e)
		return -EINVAL;
	memcpy(buf, e->mem + off, len);
	return 0;
}

VB_EXPORT int vb_i2c_sim_write(struct vb_i2c_sim *sim, uint16_t addr, uint32_t off,
			       const void *buf, uint32_t len)
{
	struct sim_chip *e = chip_range(sim, addr, off, buf, len);

	if (!e)
		return -EINVAL;
	memcpy(e->mem + off, buf, len);
	e->dirty = true;
	return chip_stop(e);
}

VB_EXPORT bool vb_i2c_sim_has(const struct vb_i2c_sim *sim, uint16_t addr)
{
	return sim && addr < SIM_ADDRS && sim->chip[addr];
}

/* A write: the first byte sets the pointer, the rest are stored at it. An EEPROM's pointer
 * wraps inside its 8-byte page as a 24c02's does; a register file's wraps at 256. */
static void chip_write(struct sim_chip *e, const struct vb_i2c_msg *m)
{
	struct vb_iov_cursor cur;
	uint8_t b;
	bool first = true;

	vb_iov_cursor_init(&cur, m->iov, m->iov_num);
	while (vb_iov_cursor_read(&cur, &b, 1) == 1) {
		if (first) {
			e->ptr = b;
			first = false;
			continue;
		}
		e->mem[e->ptr] = b;
		e->dirty = true;
		if (e->kind == SIM_EEPROM)
			e->ptr = (uint8_t)((e->ptr & ~(VB_I2C_SIM_EEPROM_PAGE - 1u)) |
					   ((e->ptr + 1u) & (VB_I2C_SIM_EEPROM_PAGE - 1u)));
		else
			e->ptr++;	/* uint8_t: wraps at 256 */
	}
}

/* A read: bytes from the pointer on, wrapping at the end of the array. */
static void chip_read(struct sim_chip *e, const struct vb_i2c_msg *m)
{
	struct vb_iov_cursor cur;
	struct vb_iov piece;

	vb_iov_cursor_init(&cur, m->iov, m->iov_num);
	while (vb_iov_cursor_next(&cur, SIZE_MAX, &piece)) {
		uint8_t *dst = piece.base;

		for (size_t i = 0; i < piece.len; i++)
			dst[i] = e->mem[e->ptr++];	/* uint8_t: wraps at 256 */
	}
}

/* @satisfy{VB-REQ-I2C-030} */
static int sim_transfer(void *backend, const struct vb_i2c_msg *msgs, unsigned int n)
{
	struct vb_i2c_sim *sim = backend;
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		struct sim_chip *e = msgs[i].addr < SIM_ADDRS ? sim->chip[msgs[i].addr] : NULL;

		if (!e)
			break;	/* nobody ACKs the address byte */
		if (msgs[i].flags & VB_I2C_MSG_RD)
			chip_read(e, &msgs[i]);
		else
			chip_write(e, &msgs[i]);
	}
	for (unsigned int a = 0; a < SIM_ADDRS; a++) {
		if (sim->chip[a]) {
			int r = chip_stop(sim->chip[a]);

			if (r < 0 && ret == 0)
				ret = r;
		}
	}
	return ret < 0 ? ret : (int)i;
}

VB_EXPORT const struct vb_i2c_backend_ops vb_i2c_sim_ops = {
	.version = VB_I2C_BACKEND_OPS_V1,
	.transfer = sim_transfer,
};
