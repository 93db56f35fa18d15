/* SPDX-License-Identifier: MIT */
/*
 * virtio-i2c device model (virtio 1.2, 5.19 "I2C Adapter Device"): request parsing and
 * validation, grouping of FAIL_NEXT requests into one transaction, status bytes. No
 * transport knowledge, no allocation per request, no system calls (the bus backends in
 * i2c-sim.c and i2c-host.c do the I/O).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/i2c.h"
#include "internal/check.h"
#include "internal/compiler.h"

/* A popped request, kept until its group is complete. */
struct i2c_req {
	struct vb_chain		chain;		/* head, ring_slots, write_len for the push */
	uint8_t			*status;	/* the status byte in guest memory, or NULL */
	bool			bad;		/* malformed: answered ERR, never sent */
	struct vb_i2c_msg	msg;		/* what the backend gets */
	struct vb_iov		rd[VB_I2C_CHAIN_IOV];
	struct vb_iov		wr[VB_I2C_CHAIN_IOV];
	struct vb_iov		data[VB_I2C_CHAIN_IOV];	/* msg.iov: slices of rd or wr */
};

struct vb_i2c {
	struct vb_device_ops	dops;
	struct vb_i2c_config	cfg;
	const struct vb_i2c_backend_ops *ops;
	void			*be;
	struct vb_dev		*dev;		/* learnt from the hooks */
	struct vb_vq		*vq;		/* the queue the open group came from */
	uint64_t		features;	/* negotiated at activate */
	uint32_t		mem_gen;	/* guest memory map the open group points into */
	uint16_t		qmax;
	uint16_t		max_group;
	uint16_t		n_group;	/* requests of the open group */
	bool			dirty;		/* pushed since the last notify */
	bool			heap;		/* from vb_i2c_create() */
	struct vb_i2c_stats	st;
	struct vb_i2c_msg	msgs[VB_I2C_MAX_GROUP];
	struct i2c_req		req[VB_I2C_MAX_GROUP];
};

static int check_config(const struct vb_i2c_config *cfg)
{
	if (!cfg || cfg->version < VB_I2C_CONFIG_V1 || cfg->queue_num_max > VB_VQ_MAX_SIZE ||
	    cfg->max_group > VB_I2C_MAX_GROUP)
		return -EINVAL;
	return 0;
}

VB_EXPORT size_t vb_i2c_size(const struct vb_i2c_config *cfg)
{
	return check_config(cfg) ? 0 : sizeof(struct vb_i2c);
}

static bool has(const struct vb_i2c *i2c, unsigned int bit)
{
	return (i2c->features >> bit) & 1u;
}

/* virtio 1.2, 5.19.4 "Device configuration layout": none is defined; the core never calls
 * this with config_len 0, but the hook is required. */
static int i2c_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	(void)dev;
	(void)off;
	(void)buf;
	(void)len;
	return -EINVAL;
}

static int i2c_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_i2c *i2c = vb_dev_priv(dev);

	i2c->dev = dev;
	i2c->features = features;
	return 0;
}

/* The last writable byte is the status (virtio 1.2, 5.19.6 "Device Operation": in_hdr
 * follows the buffer). NULL if the chain has no writable byte. */
static uint8_t *find_status(const struct vb_chain *c)
{
	uint8_t *st = NULL;

	for (unsigned int i = 0; i < c->n_write; i++)
		if (c->write[i].len)
			st = (uint8_t *)c->write[i].base + c->write[i].len - 1;
	return st;
}

/*
 * Validate one popped request into r. Returns true if it says the next request belongs to
 * its group (FAIL_NEXT). A malformed request stays in its group so that FAIL_NEXT fails the
 * rest of the group with it. @satisfy{VB-REQ-I2C-010} @satisfy{VB-REQ-I2C-011}
 * @satisfy{VB-REQ-I2C-012}
 */
static bool parse(struct vb_i2c *i2c, struct i2c_req *r, const struct vb_chain *c)
{
	struct vb_virtio_i2c_out_hdr hdr;
	struct vb_iov_cursor cur;
	uint32_t flags, allowed, rdata, wdata, len;
	uint16_t addr;
	bool rd, zl = has(i2c, VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST);
	int n;

	r->chain = (struct vb_chain){ .head = c->head, .ring_slots = c->ring_slots,
				      .write_len = c->write_len };
	r->bad = true;
	r->msg = (struct vb_i2c_msg){ 0 };
	r->status = find_status(c);
	i2c->st.requests++;

	/* The header is copied out of guest memory once; only the copy is looked at. A chain
	 * too short for one cannot say FAIL_NEXT, so it ends its group. */
	if (vb_chain_read(c, 0, &hdr, sizeof(hdr)) < 0)
		return false;
	flags = vb_le32_to_cpu(hdr.flags);
	addr = vb_le16_to_cpu(hdr.addr);
	if (!r->status)
		return flags & VB_VIRTIO_I2C_FLAGS_FAIL_NEXT;

	/* virtio 1.2, 5.19.6.1 "Driver Requirements: Device Operation": "A driver MUST set the
	 * reserved bits of flags to be zero"; M_RD exists only with ZERO_LENGTH_REQUEST. */
	allowed = VB_VIRTIO_I2C_FLAGS_FAIL_NEXT | (zl ? VB_VIRTIO_I2C_FLAGS_M_RD : 0u);
	if (flags & ~allowed)
		goto out;
	/* virtio 1.2, 5.19.6 "Device Operation": addr is encoded as in I2C 3.1.10: a 7-bit
	 * address in bits 7..1. The 10-bit form (11110xx in the first byte, the rest in the
	 * second) and a set R/W bit are not supported. */
	if (addr & 0xff01u)
		goto out;
	rdata = c->read_len - (uint32_t)sizeof(hdr);
	wdata = c->write_len - 1u;
	if (zl) {
		/* With ZERO_LENGTH_REQUEST, M_RD gives the direction; the buffer, if any, must
		 * be on that side and nothing may be on the other. */
		rd = flags & VB_VIRTIO_I2C_FLAGS_M_RD;
		if (rd ? rdata != 0 : wdata != 0)
			goto out;
	} else {
		/* Without it (5.19.3, the note under "Feature bits"), the direction is that of
		 * the one buffer, and a request must have one. */
		if ((rdata != 0) == (wdata != 0))
			goto out;
		rd = wdata != 0;
	}
	len = rd ? wdata : rdata;
	if (len > VB_I2C_MAX_LEN)
		goto out;
	if (len) {
		if (rd) {
			vb_iov_cursor_init(&cur, c->write, c->n_write);
		} else {
			vb_iov_cursor_init(&cur, c->read, c->n_read);
			vb_iov_cursor_skip(&cur, sizeof(hdr));
		}
		n = vb_iov_cursor_slice(&cur, len, r->data, VB_I2C_CHAIN_IOV);
		if (n < 0)
			goto out;
		r->msg.iov = r->data;
		r->msg.iov_num = (unsigned int)n;
	}
	r->msg.addr = (uint16_t)(addr >> 1);
	r->msg.flags = rd ? VB_I2C_MSG_RD : 0u;
	r->msg.len = len;
	r->bad = false;
out:
	return flags & VB_VIRTIO_I2C_FLAGS_FAIL_NEXT;
}

static void finish(struct vb_i2c *i2c, struct i2c_req *r, uint8_t status, bool write_status)
{
	uint32_t written = 0;

	if (r->status && write_status) {
		*r->status = status;
		/* The used length covers the writable part up to the status byte: the data
		 * read into the guest plus the status. */
		written = r->chain.write_len;
		if (status == VB_VIRTIO_I2C_MSG_OK)
			i2c->st.ok++;
		else
			i2c->st.err++;
	} else {
		i2c->st.no_status++;
	}
	if (vb_vq_push(i2c->vq, &r->chain, written) == 0)
		i2c->dirty = true;
}

/*
 * Run the open group as one transaction and answer each of its requests. virtio 1.2, 5.19.6:
 * "If this bit is set and a device fails to process the current request, it needs to fail
 * the next request instead of attempting to execute it"; requests are processed in order
 * (5.19.6.2). @satisfy{VB-REQ-I2C-013} @satisfy{VB-REQ-I2C-014}
 */
static void run_group(struct vb_i2c *i2c, bool too_long)
{
	unsigned int n = i2c->n_group, k = 0;
	bool bad = too_long;
	int ret;

	i2c->n_group = 0;
	for (unsigned int i = 0; i < n; i++) {
		if (i2c->req[i].bad) {
			bad = true;
			i2c->st.malformed++;
		}
	}
	if (!bad) {
		for (unsigned int i = 0; i < n; i++)
			i2c->msgs[i] = i2c->req[i].msg;
		i2c->st.transfers++;
		ret = i2c->ops->transfer(i2c->be, i2c->msgs, n);
		if (ret > 0)
			k = (unsigned int)ret < n ? (unsigned int)ret : n;
	}
	for (unsigned int i = 0; i < n; i++)
		finish(i2c, &i2c->req[i],
		       (uint8_t)(i < k ? VB_VIRTIO_I2C_MSG_OK : VB_VIRTIO_I2C_MSG_ERR), true);
}

/* The guest memory map changed under an open group: its iovecs may point to unmapped
 * memory, so its requests go back untouched with 0 bytes written. */
static void drop_group(struct vb_i2c *i2c)
{
	unsigned int n = i2c->n_group;

	i2c->n_group = 0;
	for (unsigned int i = 0; i < n; i++)
		finish(i2c, &i2c->req[i], VB_VIRTIO_I2C_MSG_ERR, false);
}

static uint32_t mem_generation(const struct vb_i2c *i2c)
{
	const struct vb_mem *mem = vb_dev_mem(i2c->dev);

	return mem ? mem->generation : 0;
}

static void i2c_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_i2c *i2c = vb_dev_priv(dev);
	unsigned int limit;

	i2c->dev = dev;
	if (VB_NEVER(vb_vq_index(vq) != 0))
		return;
	if (i2c->n_group && (i2c->vq != vq || i2c->mem_gen != mem_generation(i2c)))
		drop_group(i2c);
	i2c->vq = vq;
	/* A group can never be longer than the queue: the driver could not complete it. */
	limit = vb_vq_num(vq) < i2c->max_group ? vb_vq_num(vq) : i2c->max_group;
	for (;;) {
		struct i2c_req *r = &i2c->req[i2c->n_group];
		struct vb_chain c = { .read = r->rd, .write = r->wr,
				      .max_read = VB_I2C_CHAIN_IOV,
				      .max_write = VB_I2C_CHAIN_IOV };
		bool more;

		if (vb_vq_pop(vq, &c) <= 0)
			break;	/* empty, or the queue broke and the device asked for a reset */
		if (i2c->n_group == 0)
			i2c->mem_gen = mem_generation(i2c);
		more = parse(i2c, r, &c);
		i2c->n_group++;
		if (!more)
			run_group(i2c, false);
		else if (i2c->n_group >= limit)
			run_group(i2c, true);
		/* else: the group's next request may not be published yet; wait for it. */
	}
	if (i2c->dirty) {
		i2c->dirty = false;
		vb_vq_notify(vq);
	}
}

/* Requests of an open group are forgotten: after a reset the ring is the driver's again.
 * @satisfy{VB-REQ-I2C-015} */
static void i2c_reset(struct vb_dev *dev)
{
	struct vb_i2c *i2c = vb_dev_priv(dev);

	i2c->dev = dev;
	i2c->n_group = 0;
	i2c->dirty = false;
	i2c->vq = NULL;
	i2c->features = 0;
}

static void i2c_queue_reset(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_i2c *i2c = vb_dev_priv(dev);

	(void)vq;
	i2c->dev = dev;
	i2c->n_group = 0;
	i2c->dirty = false;
	i2c->vq = NULL;
}

/* ---- construction ----------------------------------------------------------------------- */

VB_EXPORT int vb_i2c_init(void *storage, size_t storage_len, const struct vb_i2c_config *cfg,
			  const struct vb_i2c_backend_ops *ops, void *backend, struct vb_i2c **out)
{
	struct vb_i2c *i2c;
	int ret;

	if (!storage || ((uintptr_t)storage & 7u) || !ops || !out ||
	    ops->version < VB_I2C_BACKEND_OPS_V1 || !ops->transfer)
		return -EINVAL;
	ret = check_config(cfg);
	if (ret)
		return ret;
	if (storage_len < sizeof(*i2c))
		return -ENOSPC;
	i2c = storage;
	memset(i2c, 0, sizeof(*i2c));
	i2c->cfg = *cfg;
	i2c->ops = ops;
	i2c->be = backend;
	i2c->qmax = cfg->queue_num_max ? cfg->queue_num_max : VB_I2C_QUEUE_NUM_DEFAULT;
	i2c->max_group = cfg->max_group ? cfg->max_group : VB_I2C_MAX_GROUP;
	i2c->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_I2C,
		.num_queues = 1,
		.queue_num_max = i2c->qmax,
		.config_len = 0,
		.config_read = i2c_config_read,
		.activate = i2c_activate,
		.kick = i2c_kick,
		.reset = i2c_reset,
		.queue_reset = i2c_queue_reset,
	};
	/* virtio 1.2, 5.19.3: "It is mandatory to implement this feature." */
	i2c->dops.features = (VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
			      VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
			      VB_BIT(VB_VIRTIO_F_RING_RESET) |
			      VB_BIT(VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST)) & ~cfg->features_off;
	i2c->dops.features |= VB_BIT(VB_VIRTIO_F_VERSION_1);
	*out = i2c;
	return 0;
}

VB_EXPORT int vb_i2c_create(const struct vb_i2c_config *cfg, const struct vb_i2c_backend_ops *ops,
			    void *backend, struct vb_i2c **out)
{
	size_t len = vb_i2c_size(cfg);
	void *mem;
	int ret;

	if (!len || !out)
		return -EINVAL;
	mem = malloc(len);
	if (!mem)
		return -ENOMEM;
	ret = vb_i2c_init(mem, len, cfg, ops, backend, out);
	if (ret) {
		free(mem);
		return ret;
	}
	(*out)->heap = true;
	return 0;
}

VB_EXPORT void vb_i2c_destroy(struct vb_i2c *i2c)
{
	if (i2c && i2c->heap)
		free(i2c);
}

VB_EXPORT const struct vb_device_ops *vb_i2c_device_ops(const struct vb_i2c *i2c)
{
	return i2c ? &i2c->dops : NULL;
}

VB_EXPORT void vb_i2c_get_stats(const struct vb_i2c *i2c, struct vb_i2c_stats *st)
{
	if (i2c && st)
		*st = i2c->st;
}
