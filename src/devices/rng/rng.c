/* SPDX-License-Identifier: MIT */
/*
 * virtio-rng device model (virtio 1.2, 5.4 "Entropy Device"): one request queue whose
 * device-writable buffers the host backend fills in place (rng-host.c), and an optional
 * token-bucket rate limit that parks the queue on a timerfd instead of spinning. No
 * transport knowledge, no allocation per request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/rng.h"
#include "internal/check.h"
#include "internal/compiler.h"

#define NSEC_PER_SEC	1000000000ull

struct vb_rng {
	struct vb_device_ops	dops;
	struct vb_rng_config	cfg;
	const struct vb_rng_backend_ops *ops;
	void			*be;
	struct vb_dev		*dev;		/* learnt from the hooks */
	uint32_t		max_req;	/* bytes per chain */
	bool			heap;		/* from vb_rng_create() */
	/* Rate limit: credit is time worth of bytes, at most tau (one period). */
	int			tfd;		/* timerfd, -1 without a rate limit */
	bool			armed;
	uint64_t		rate;		/* bytes per second, 0: unlimited */
	uint64_t		tau_ns;
	uint64_t		credit_ns;
	uint64_t		last_ns;
	uint64_t		burst;		/* bytes a full bucket holds (>= 1) */
	uint64_t		want;		/* bytes the last chain asked for (>= 1) */
	struct vb_rng_stats	st;
	/* Pop scratch and the slice of the writable part handed to the backend. */
	struct vb_iov		rd[VB_RNG_CHAIN_IOV];
	struct vb_iov		wr[VB_RNG_CHAIN_IOV];
	struct vb_iov		slice[VB_RNG_CHAIN_IOV];
};

#define ALIGN8(x)	(((x) + 7u) & ~(size_t)7u)

static int check_cfg(const struct vb_rng_config *cfg)
{
	if (!cfg || cfg->version < VB_RNG_CONFIG_V1 || cfg->reserved ||
	    cfg->queue_num_max > VB_VQ_MAX_SIZE || cfg->max_req_len > VB_RNG_REQ_MAX_LIMIT ||
	    cfg->period_ms > VB_RNG_PERIOD_MS_MAX || cfg->rate > VB_RNG_RATE_MAX)
		return -EINVAL;
	return 0;
}

VB_EXPORT size_t vb_rng_size(const struct vb_rng_config *cfg)
{
	return check_cfg(cfg) ? 0 : ALIGN8(sizeof(struct vb_rng));
}

/* ---- token bucket ----------------------------------------------------------------------- */

/* a * b / c rounded down, without overflow for a <= 2^40, b <= 2^32, c <= 2^30 or 1e9. */
static uint64_t muldiv(uint64_t a, uint64_t b, uint64_t c)
{
	return (a / c) * b + (a % c) * b / c;
}

/* Nanoseconds of credit n bytes cost, rounded up. */
static uint64_t cost_ns(const struct vb_rng *rng, uint64_t n)
{
	uint64_t q = n / rng->rate, r = n % rng->rate;

	return q * NSEC_PER_SEC + (r * NSEC_PER_SEC + rng->rate - 1) / rng->rate;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Bytes the bucket allows now, after crediting the time since the last look. */
static uint64_t bucket_refill(struct vb_rng *rng)
{
	uint64_t now = now_ns();

	if (now > rng->last_ns) {
		uint64_t gap = now - rng->last_ns;

		rng->credit_ns = gap >= rng->tau_ns - rng->credit_ns ? rng->tau_ns :
				 rng->credit_ns + gap;
		rng->last_ns = now;
	}
	return muldiv(rng->credit_ns, rng->rate, NSEC_PER_SEC);
}

/* n bytes were served: n <= floor(credit * rate / 1e9), so their cost fits the credit. */
static void bucket_take(struct vb_rng *rng, uint64_t n)
{
	uint64_t c = cost_ns(rng, n);

	rng->credit_ns = VB_NEVER(c > rng->credit_ns) ? 0 : rng->credit_ns - c;
}

/* Bytes the bucket must hold before the next chain is popped: as many as the last chain
 * asked for, at most a full bucket. */
static uint64_t bucket_need(const struct vb_rng *rng)
{
	return rng->want < rng->burst ? rng->want : rng->burst;
}

/* The bucket holds less than bucket_need() with buffers (maybe) waiting: wake up when it
 * holds that much. */
static int bucket_arm(struct vb_rng *rng)
{
	uint64_t need = cost_ns(rng, bucket_need(rng));
	uint64_t wait = need > rng->credit_ns ? need - rng->credit_ns : 1;
	struct itimerspec its;

	if (rng->armed)
		return 0;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)(wait / NSEC_PER_SEC);
	its.it_value.tv_nsec = (long)(wait % NSEC_PER_SEC);
	if (timerfd_settime(rng->tfd, 0, &its, NULL) < 0)
		return -errno;
	rng->armed = true;
	rng->st.throttled++;
	return 0;
}

/* ---- requests --------------------------------------------------------------------------- */

/*
 * Serve one chain with at most budget bytes; return the used length.
 * @satisfy{VB-REQ-RNG-010} @satisfy{VB-REQ-RNG-011} @satisfy{VB-REQ-RNG-012}
 * @satisfy{VB-REQ-RNG-013}
 */
static uint32_t serve(struct vb_rng *rng, const struct vb_chain *c, size_t budget)
{
	struct vb_iov_cursor cur;
	size_t len;
	int n, ret;

	/* virtio 1.2, 5.4.6.1 "Driver Requirements: Device Operation": "The driver MUST NOT
	 * place driver-readable buffers into the queue." Such a chain is not a request the
	 * spec describes: nothing is written into it, it goes back with used length 0, and
	 * the queue carries on (the fault is confined to this chain). */
	if (c->n_read || c->read_len) {
		rng->st.readable++;
		return 0;
	}
	if (c->write_len == 0) {
		rng->st.empty++;
		return 0;
	}
	/* virtio 1.2, 5.4.6.2 "Device Requirements: Device Operation": "The device MUST place
	 * one or more random bytes into the buffer, but it MAY use less than the entire buffer
	 * length." The cap bounds the work one guest buffer can ask for. */
	len = c->write_len < budget ? c->write_len : budget;
	vb_iov_cursor_init(&cur, c->write, c->n_write);
	n = vb_iov_cursor_slice(&cur, len, rng->slice, VB_RNG_CHAIN_IOV);
	if (VB_NEVER(n <= 0)) {		/* write[] has at most VB_RNG_CHAIN_IOV entries */
		rng->st.errors++;
		return 0;
	}
	ret = rng->ops->fill(rng->be, rng->slice, (unsigned int)n, len);
	if (ret <= 0 || (size_t)ret > len) {
		/* A backend failure (or a backend bug past len): nothing trustworthy was
		 * written. The driver sees used length 0 and asks again. */
		rng->st.errors++;
		return 0;
	}
	rng->st.bytes += (uint64_t)ret;
	return (uint32_t)ret;
}

/* Pop and serve until the ring is empty or the bucket is dry. @satisfy{VB-REQ-RNG-020} */
static int run_queue(struct vb_rng *rng)
{
	struct vb_vq *vq = rng->dev ? vb_dev_queue(rng->dev, 0) : NULL;
	bool dirty = false;
	int err = 0;

	if (!vq)
		return 0;
	for (;;) {
		struct vb_chain c = { .read = rng->rd, .write = rng->wr,
				      .max_read = VB_RNG_CHAIN_IOV, .max_write = VB_RNG_CHAIN_IOV };
		size_t budget = rng->max_req;
		uint32_t written;

		if (rng->rate) {
			uint64_t avail = bucket_refill(rng);

			/*
			 * Pop only when the bucket holds what the last chain asked for: a
			 * driver that posts same-size buffers (Linux: 64 bytes) then always
			 * gets whole ones. Short answers are valid (virtio 1.2, 5.4.6.2), but
			 * Linux 6.1's virtio_rng (Debian 6.1.192) loses bytes, or waits forever,
			 * when it consumes a short buffer over two reads. The buffers stay in
			 * the ring meanwhile: nothing is in flight while throttled, so a reset
			 * or a disconnect has nothing to drop.
			 */
			if (avail < bucket_need(rng)) {
				err = bucket_arm(rng);
				break;
			}
			if (avail < budget)
				budget = (size_t)avail;
		}
		/* Empty, not live, or the driver broke the ring (NEEDS_RESET is set). */
		if (vb_vq_pop(vq, &c) <= 0)
			break;
		rng->st.requests++;
		if (c.write_len)
			rng->want = c.write_len < rng->max_req ? c.write_len : rng->max_req;
		written = serve(rng, &c, budget);
		if (rng->rate && written)
			bucket_take(rng, written);
		/* A push fails only if the queue broke or stopped meanwhile. */
		if (vb_vq_push(vq, &c, written) == 0)
			dirty = true;
	}
	if (dirty)
		vb_vq_notify(vq);
	return err;
}

/* ---- hooks ------------------------------------------------------------------------------ */

/* virtio 1.2, 5.4.4 "Device configuration layout": None. The core never calls this with
 * config_len 0; answered for completeness. */
static int rng_config_read(struct vb_dev *dev, uint32_t off, void *buf, uint32_t len)
{
	(void)dev;
	(void)off;
	(void)buf;
	(void)len;
	return -EINVAL;
}

static void rng_kick(struct vb_dev *dev, struct vb_vq *vq)
{
	struct vb_rng *rng = vb_dev_priv(dev);

	rng->dev = dev;
	if (VB_NEVER(vb_vq_index(vq) != 0))
		return;
	/* A failure to arm the timer leaves the buffers for the next kick. */
	(void)run_queue(rng);
}

static int rng_activate(struct vb_dev *dev, uint64_t features)
{
	struct vb_rng *rng = vb_dev_priv(dev);

	(void)features;
	rng->dev = dev;
	return 0;
}

VB_EXPORT int vb_rng_process(struct vb_rng *rng)
{
	uint64_t expiries;

	if (rng->tfd >= 0 && read(rng->tfd, &expiries, sizeof(expiries)) < 0 &&
	    errno != EAGAIN && errno != EINTR)
		return -errno;
	rng->armed = false;
	return run_queue(rng);
}

/* ---- construction ----------------------------------------------------------------------- */

static uint64_t offered_features(const struct vb_rng_config *cfg)
{
	uint64_t f = VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC) |
		     VB_BIT(VB_VIRTIO_F_EVENT_IDX) | VB_BIT(VB_VIRTIO_F_RING_PACKED) |
		     VB_BIT(VB_VIRTIO_F_RING_RESET);

	/* virtio 1.2, 5.4.3 "Feature bits": None; only ring features. VERSION_1 stays. */
	return (f & ~cfg->features_off) | VB_BIT(VB_VIRTIO_F_VERSION_1);
}

/* @satisfy{VB-REQ-RNG-001} @satisfy{VB-REQ-RNG-002} */
VB_EXPORT int vb_rng_init(void *storage, size_t storage_len, const struct vb_rng_config *cfg,
			  const struct vb_rng_backend_ops *ops, void *backend, struct vb_rng **out)
{
	struct vb_rng *rng = storage;
	size_t need;

	if (!storage || ((uintptr_t)storage & 7u) || !ops || !out ||
	    ops->version < VB_RNG_BACKEND_OPS_V1 || !ops->fill)
		return -EINVAL;
	need = vb_rng_size(cfg);
	if (!need)
		return -EINVAL;
	if (storage_len < need)
		return -ENOSPC;
	memset(rng, 0, sizeof(*rng));
	rng->cfg = *cfg;
	rng->ops = ops;
	rng->be = backend;
	rng->tfd = -1;
	rng->max_req = cfg->max_req_len ? cfg->max_req_len : VB_RNG_REQ_MAX_DEFAULT;
	rng->rate = cfg->rate;
	if (rng->rate) {
		uint32_t period = cfg->period_ms ? cfg->period_ms : VB_RNG_PERIOD_MS_DEFAULT;

		/* At least one byte's worth, so that a full bucket always allows a byte. */
		rng->tau_ns = (uint64_t)period * 1000000u;
		if (rng->tau_ns < cost_ns(rng, 1))
			rng->tau_ns = cost_ns(rng, 1);
		rng->credit_ns = rng->tau_ns;	/* start full */
		rng->burst = muldiv(rng->tau_ns, rng->rate, NSEC_PER_SEC);
		rng->want = 1;
		rng->last_ns = now_ns();
		rng->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (rng->tfd < 0)
			return -errno;
	}
	rng->dops = (struct vb_device_ops){
		.version = VB_DEVICE_OPS_V1,
		.device_id = VB_VIRTIO_ID_RNG,
		.features = offered_features(cfg),
		.num_queues = 1,
		.queue_num_max = cfg->queue_num_max ? cfg->queue_num_max : VB_RNG_QUEUE_NUM_DEFAULT,
		.config_len = 0,
		.config_read = rng_config_read,
		.activate = rng_activate,
		.kick = rng_kick,
	};
	*out = rng;
	return 0;
}

VB_EXPORT void vb_rng_fini(struct vb_rng *rng)
{
	if (rng && rng->tfd >= 0) {
		close(rng->tfd);
		rng->tfd = -1;
	}
}

VB_EXPORT int vb_rng_create(const struct vb_rng_config *cfg, const struct vb_rng_backend_ops *ops,
			    void *backend, struct vb_rng **out)
{
	size_t len = vb_rng_size(cfg);
	void *mem;
	int ret;

	if (!len || !out)
		return -EINVAL;
	mem = malloc(len);
	if (!mem)
		return -ENOMEM;
	ret = vb_rng_init(mem, len, cfg, ops, backend, out);
	if (ret) {
		free(mem);
		return ret;
	}
	(*out)->heap = true;
	return 0;
}

VB_EXPORT void vb_rng_destroy(struct vb_rng *rng)
{
	vb_rng_fini(rng);
	if (rng && rng->heap)
		free(rng);
}

VB_EXPORT const struct vb_device_ops *vb_rng_device_ops(const struct vb_rng *rng)
{
	return &rng->dops;
}

VB_EXPORT int vb_rng_timer_fd(const struct vb_rng *rng)
{
	return rng->tfd;
}

VB_EXPORT void vb_rng_get_stats(const struct vb_rng *rng, struct vb_rng_stats *st)
{
	*st = rng->st;
}
