/* SPDX-License-Identifier: MIT */
/*
 * vb-vhost-user i2c: a virtio-i2c adapter whose clients are host I2C clients reached through
 * Linux i2c-dev (--device-list, as rust-vmm's vhost-device-i2c takes it) and/or simulated
 * chips (--sim eeprom@0x50[,file=PATH], --sim regs@0x20). The daemon's common part is main.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/i2c.h"

#include "daemon.h"

enum {
	I2C_OPT_DEVICE_LIST = OPT_DEVICE,
	I2C_OPT_SIM,
	I2C_OPT_QUEUE_SIZE,
};

#define I2C_MAX_SIM 16u

struct i2c_sim_spec {
	bool		regs;		/* a register file, else an EEPROM */
	uint16_t	addr;
	const char	*file;		/* points into a copy of the argument, or NULL */
};

struct i2c_state {
	const char		*device_list;
	struct i2c_sim_spec	sim[I2C_MAX_SIM];
	char			*sim_arg[I2C_MAX_SIM];
	unsigned int		n_sim;
	unsigned int		queue_size;
	/* open */
	struct vb_i2c_host	*host;
	struct vb_i2c_sim	*bus;
	struct vb_i2c		*i2c;
	unsigned int		n_host;
};

static const struct option i2c_options[] = {
	{ "device-list", required_argument, NULL, I2C_OPT_DEVICE_LIST },
	{ "sim", required_argument, NULL, I2C_OPT_SIM },
	{ "queue-size", required_argument, NULL, I2C_OPT_QUEUE_SIZE },
	{ NULL, 0, NULL, 0 },
};

/* A 7-bit address: decimal as vhost-device-i2c takes them, or hex with 0x. */
static int parse_addr(const char *s, const char *opt, uint16_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-' || v > 0x7f) {
		fprintf(stderr, PROG ": %s: '%s' is not a 7-bit I2C address\n", opt, s);
		return -EINVAL;
	}
	*out = (uint16_t)v;
	return 0;
}

/* eeprom@ADDR[,file=PATH] or regs@ADDR[,file=PATH] */
static int parse_sim(struct i2c_state *st, const char *arg)
{
	struct i2c_sim_spec *sp;
	char *copy, *at, *comma;

	if (st->n_sim == I2C_MAX_SIM) {
		fprintf(stderr, PROG ": at most %u --sim chips\n", I2C_MAX_SIM);
		return -EINVAL;
	}
	copy = strdup(arg);
	if (!copy)
		return -ENOMEM;
	st->sim_arg[st->n_sim] = copy;
	sp = &st->sim[st->n_sim++];
	at = strchr(copy, '@');
	if (at && !strncmp(copy, "regs@", 5))
		sp->regs = true;
	else if (!at || strncmp(copy, "eeprom@", 7) != 0) {
		fprintf(stderr, PROG ": --sim wants eeprom@ADDR or regs@ADDR [,file=PATH], "
			"not '%s'\n", arg);
		return -EINVAL;
	}
	comma = strchr(at, ',');
	if (comma) {
		*comma = '\0';
		if (strncmp(comma + 1, "file=", 5) != 0 || !comma[6]) {
			fprintf(stderr, PROG ": --sim: unknown option '%s'\n", comma + 1);
			return -EINVAL;
		}
		sp->file = comma + 6;
	}
	return parse_addr(at + 1, "--sim", &sp->addr);
}

static int i2c_option(void *state, int key, const char *arg)
{
	struct i2c_state *st = state;

	switch (key) {
	case I2C_OPT_DEVICE_LIST:
		st->device_list = arg;
		return 0;
	case I2C_OPT_SIM:
		return parse_sim(st, arg);
	case I2C_OPT_QUEUE_SIZE:
		return parse_queue_size(arg, 32768, &st->queue_size);
	default:
		return -EINVAL;
	}
}

/* ADAPTER:ADDR[:ADDR...][,ADAPTER:ADDR...]: clients of /dev/i2c-ADAPTER. */
static int add_device_list(struct i2c_state *st)
{
	char *copy = strdup(st->device_list), *save = NULL, *grp;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	for (grp = strtok_r(copy, ",", &save); grp && !ret; grp = strtok_r(NULL, ",", &save)) {
		char *save2 = NULL, *tok = strtok_r(grp, ":", &save2), path[32];
		unsigned long adapter;
		unsigned int n = 0;

		if (!tok || parse_uint("--device-list adapter", tok, 0, 1023, &adapter) < 0) {
			ret = -EINVAL;
			break;
		}
		snprintf(path, sizeof(path), "/dev/i2c-%lu", adapter);
		while (!ret && (tok = strtok_r(NULL, ":", &save2))) {
			uint16_t addr;

			ret = parse_addr(tok, "--device-list", &addr);
			if (ret)
				break;
			if (vb_i2c_sim_has(st->bus, addr)) {
				fprintf(stderr, PROG ": address 0x%02x is both simulated and on %s\n",
					addr, path);
				ret = -EINVAL;
				break;
			}
			ret = vb_i2c_host_add(st->host, path, addr);
			if (ret < 0)
				logf_(VB_LOG_ERR, "i2c: %s, client 0x%02x: %s", path, addr,
				      ret == -ENOTSUP ? "adapter cannot do plain I2C transfers" :
				      strerror(-ret));
			n++;
			st->n_host++;
		}
		if (!ret && n == 0) {
			/* "1" alone: an adapter without clients. */
			fprintf(stderr, PROG ": --device-list: adapter %lu has no address\n",
				adapter);
			ret = -EINVAL;
		}
	}
	free(copy);
	if (!ret && st->n_host == 0) {
		fprintf(stderr, PROG ": --device-list names no client\n");
		ret = -EINVAL;
	}
	return ret;
}

/* Route a transaction to the simulated bus or the host adapters by its addresses; one
 * transaction cannot span both. */
static int mux_transfer(void *backend, const struct vb_i2c_msg *msgs, unsigned int n)
{
	struct i2c_state *st = backend;
	unsigned int sim = 0;

	for (unsigned int i = 0; i < n; i++)
		if (vb_i2c_sim_has(st->bus, msgs[i].addr))
			sim++;
	if (sim == n || (sim == 0 && st->n_host == 0))
		return vb_i2c_sim_ops.transfer(st->bus, msgs, n);	/* NACKs the unknown */
	if (sim == 0)
		return vb_i2c_host_ops.transfer(st->host, msgs, n);
	return -EXDEV;
}

static const struct vb_i2c_backend_ops mux_ops = {
	.version = VB_I2C_BACKEND_OPS_V1,
	.transfer = mux_transfer,
};

static int i2c_open(void *state, struct vbd_device *dev)
{
	struct i2c_state *st = state;
	struct vb_i2c_config cfg;
	int ret;

	if (!st->device_list && !st->n_sim) {
		fprintf(stderr, PROG ": i2c needs --device-list and/or --sim (see --help)\n");
		return -EINVAL;
	}
	if (vb_i2c_sim_create(&st->bus) < 0 || vb_i2c_host_create(&st->host) < 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < st->n_sim; i++) {
		ret = st->sim[i].regs ?
		      vb_i2c_sim_add_regs(st->bus, st->sim[i].addr, st->sim[i].file) :
		      vb_i2c_sim_add_eeprom(st->bus, st->sim[i].addr, st->sim[i].file);
		if (ret < 0) {
			logf_(VB_LOG_ERR, "i2c: --sim %s@0x%02x%s%s: %s",
			      st->sim[i].regs ? "regs" : "eeprom", st->sim[i].addr,
			      st->sim[i].file ? ", file " : "",
			      st->sim[i].file ? st->sim[i].file : "",
			      ret == -EINVAL ? "address used twice" : strerror(-ret));
			return ret;
		}
	}
	if (st->device_list) {
		ret = add_device_list(st);
		if (ret < 0)
			return ret;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.version = VB_I2C_CONFIG_V1;
	cfg.queue_num_max = (uint16_t)(st->queue_size ? st->queue_size :
				       VB_I2C_QUEUE_NUM_DEFAULT);
	ret = vb_i2c_create(&cfg, &mux_ops, st, &st->i2c);
	if (ret < 0) {
		logf_(VB_LOG_ERR, "i2c: model: %s", strerror(-ret));
		return ret;
	}
	dev->ops = vb_i2c_device_ops(st->i2c);
	dev->model = st->i2c;
	for (unsigned int i = 0; i < st->n_sim; i++)
		logf_(VB_LOG_INFO, "i2c: simulated %s at 0x%02x%s%s",
		      st->sim[i].regs ? "register file" : "24c02 EEPROM", st->sim[i].addr,
		      st->sim[i].file ? ", file " : " (memory)",
		      st->sim[i].file ? st->sim[i].file : "");
	if (st->n_host)
		logf_(VB_LOG_INFO, "i2c: %u host client%s from --device-list %s", st->n_host,
		      st->n_host > 1 ? "s" : "", st->device_list);
	return 0;
}

static void i2c_close(void *state)
{
	struct i2c_state *st = state;

	vb_i2c_destroy(st->i2c);
	vb_i2c_sim_destroy(st->bus);
	vb_i2c_host_destroy(st->host);
	st->i2c = NULL;
	st->bus = NULL;
	st->host = NULL;
	st->n_host = 0;
}

static void i2c_describe(void *state, const char *what)
{
	struct i2c_state *st = state;
	struct vb_i2c_stats s;

	vb_i2c_get_stats(st->i2c, &s);
	logf_(VB_LOG_INFO, "i2c: %s: totals %" PRIu64 " requests (%" PRIu64 " ok, %" PRIu64
	      " err of which %" PRIu64 " malformed), %" PRIu64 " transfers", what, s.requests,
	      s.ok, s.err, s.malformed, s.transfers);
}

static struct i2c_state i2c_state;

const struct vbd_type vbd_type_i2c = {
	.name = "i2c",
	.state = &i2c_state,
	.summary = "virtio-i2c adapter: host i2c-dev clients and simulated chips",
	.options_help =
		"  --device-list L     host clients: ADAPTER:ADDR[:ADDR...][,ADAPTER:...],\n"
		"                      e.g. 1:32:41 is 0x20 and 0x29 on /dev/i2c-1\n"
		"                      (addresses decimal, or hex with 0x)\n"
		"  --sim eeprom@ADDR[,file=PATH]  a simulated 24c02 EEPROM (256 bytes,\n"
		"                      8-byte pages), kept in PATH if given; repeatable\n"
		"  --sim regs@ADDR[,file=PATH]    a simulated register file (256 byte\n"
		"                      registers, auto-increment), kept in PATH if given\n"
		"  --queue-size N      largest ring size, power of 2 (default 64)\n",
	/* docs/interop/vhost-user.json has no i2c capabilities beyond the type. */
	.capabilities = "{\"type\": \"i2c\"}",
	.options = i2c_options,
	.option = i2c_option,
	.open = i2c_open,
	.close = i2c_close,
	.describe = i2c_describe,
};
