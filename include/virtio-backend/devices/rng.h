/* SPDX-License-Identifier: MIT */
/**
 * @file rng.h
 * @brief virtio-rng (entropy) device model and its host entropy backends.   [users]
 *
 * The model implements virtio 1.2, 5.4 "Entropy Device" as a struct vb_device_ops: one
 * request queue (requestq), no feature bits of its own, no config space. A host builds it in
 * caller storage (vb_rng_init(), sized by vb_rng_size()) or on the heap (vb_rng_create()),
 * hands vb_rng_device_ops() and the model to vb_dev_init() of its transport, and the model
 * fills each chain's device-writable buffers from a host backend (struct
 * vb_rng_backend_ops): getrandom() or a file/character device read with readv().
 *
 * Data path: the backend writes straight into the chain's iovecs in guest memory (zero
 * copy), at most VB_RNG_REQ_MAX_DEFAULT (or cfg.max_req_len) bytes per chain; the used
 * length is the number of bytes written. A chain with any device-readable descriptor breaks
 * "The driver MUST NOT place driver-readable buffers into the queue" (virtio 1.2, 5.4.6.1):
 * the model writes nothing into it and returns it with used length 0; the queue and the
 * device stay usable (no NEEDS_RESET: the damage is confined to that one request).
 *
 * Rate limit (optional): a token bucket of cfg.rate bytes per second holding at most
 * rate * period_ms / 1000 bytes (starting full). While the bucket holds less than the last
 * chain asked for (at most a full bucket), the model leaves the driver's buffers in the
 * available ring (nothing is popped, so nothing is in flight across a reset) and arms a
 * timer file descriptor (vb_rng_timer_fd()); the host polls it and calls vb_rng_process()
 * when it is readable, which serves the queue. A driver posting same-size buffers so gets
 * whole ones; only a buffer larger than the bucket gets a short answer. No busy loop, no
 * thread.
 *
 * Threading: one thread runs the kicks, vb_rng_process() and the control path.
 */
#ifndef VIRTIO_BACKEND_DEVICES_RNG_H
#define VIRTIO_BACKEND_DEVICES_RNG_H

#include <stddef.h>
#include <stdint.h>

#include "../chain.h"
#include "../device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the model's configuration --------------------------------------------------------- */

/** @brief First version of struct vb_rng_config. */
#define VB_RNG_CONFIG_V1 1u

/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_RNG_QUEUE_NUM_DEFAULT 256u
/** @brief Bytes served per chain when the configuration leaves max_req_len 0. */
#define VB_RNG_REQ_MAX_DEFAULT	65536u
/** @brief Largest max_req_len. */
#define VB_RNG_REQ_MAX_LIMIT	(1u << 24)
/** @brief Largest rate limit in bytes per second. */
#define VB_RNG_RATE_MAX		(1ull << 30)
/** @brief Bucket period when the configuration leaves period_ms 0. */
#define VB_RNG_PERIOD_MS_DEFAULT 1000u
/** @brief Largest bucket period. */
#define VB_RNG_PERIOD_MS_MAX	60000u
/** @brief iovecs a chain may have; a longer chain breaks the queue (vb_vq_pop(): -E2BIG). */
#define VB_RNG_CHAIN_IOV	1024u

/**
 * @brief What the host tells the model. Zero means "default" for every field but version.
 */
struct vb_rng_config {
	uint32_t version;	/**< VB_RNG_CONFIG_V1 */
	uint16_t queue_num_max;	/**< largest queue size (0: VB_RNG_QUEUE_NUM_DEFAULT) */
	uint16_t reserved;	/**< 0 */
	uint32_t max_req_len;	/**< bytes per chain, <= VB_RNG_REQ_MAX_LIMIT (0: default) */
	uint32_t period_ms;	/**< bucket: ms of rate, <= VB_RNG_PERIOD_MS_MAX (0: 1000) */
	uint64_t rate;		/**< bytes per second, <= VB_RNG_RATE_MAX (0: unlimited) */
	uint64_t features_off;	/**< feature bits never to offer (e.g. packed, event idx) */
};

/* ---- host backends --------------------------------------------------------------------- */

/** @brief First version of struct vb_rng_backend_ops. */
#define VB_RNG_BACKEND_OPS_V1 1u

/** @brief A host entropy source. */
struct vb_rng_backend_ops {
	uint32_t version;	/**< VB_RNG_BACKEND_OPS_V1 */
	/**
	 * Fill up to @p len bytes of @p iov[0..n) (guest memory, in order; their lengths sum
	 * to @p len, @p n <= VB_RNG_CHAIN_IOV). Return the bytes written from the start of the
	 * list (1..@p len; fewer is allowed), or a negative errno (the chain is then returned
	 * with used length 0). Synchronous. Required.
	 */
	int (*fill)(void *backend, const struct vb_iov *iov, unsigned int n, size_t len);
};

/**
 * @brief getrandom(2) backend (context NULL): the kernel's CSPRNG, written straight into the
 * guest's buffers. Blocks only before the host kernel's pool is first initialised.
 * @satisfy{VB-REQ-RNG-030}
 */
extern const struct vb_rng_backend_ops vb_rng_getrandom_ops;

struct vb_rng_file;

/**
 * @brief File backend: readv(2) from a character device (/dev/urandom, /dev/hwrng) or a
 * regular file straight into the guest's buffers. A regular file is read from its start and
 * wraps to its start at the end (a test source with known bytes).
 * @param path  the source
 * @param out   receives the backend (free with vb_rng_file_close())
 * @return 0; -ENOMEM; the negative errno of open()/fstat(); -EINVAL for an empty regular file
 *         or a directory.
 * Context: control path. @satisfy{VB-REQ-RNG-031}
 */
int vb_rng_file_open(const char *path, struct vb_rng_file **out);

/** @brief Close a file backend (NULL is ignored). */
void vb_rng_file_close(struct vb_rng_file *f);

/** @brief The table to pass to vb_rng_init() with a file backend as context. */
extern const struct vb_rng_backend_ops vb_rng_file_ops;

/* ---- the model ------------------------------------------------------------------------- */

struct vb_rng;

/**
 * @brief Bytes of storage vb_rng_init() needs for @p cfg.
 * @return the size, or 0 if @p cfg is invalid (see vb_rng_init()).
 * Context: any. @satisfy{VB-REQ-RNG-001}
 */
size_t vb_rng_size(const struct vb_rng_config *cfg);

/**
 * @brief Build a model in caller storage.
 * @param storage      at least vb_rng_size(@p cfg) bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param cfg          the configuration (copied)
 * @param ops          the backend (kept by reference; version VB_RNG_BACKEND_OPS_V1 or later)
 * @param backend      the backend's context, passed to @p ops
 * @param out          receives the model
 * @return 0; -EINVAL for a NULL or misaligned argument, a version of 0, no fill, a
 *         queue_num_max above 32768, max_req_len, period_ms or rate above their limits, or
 *         reserved not 0; -ENOSPC if @p storage_len is too small; the negative errno of
 *         timerfd_create() when a rate is set.
 * Context: control path; no allocation (a rate limit opens one timer fd: vb_rng_fini()
 * closes it). @satisfy{VB-REQ-RNG-001}
 */
int vb_rng_init(void *storage, size_t storage_len, const struct vb_rng_config *cfg,
		const struct vb_rng_backend_ops *ops, void *backend, struct vb_rng **out);

/**
 * @brief Release what vb_rng_init() opened (the timer fd); the storage stays the caller's.
 * NULL is ignored. Context: control path, the device reset or gone.
 */
void vb_rng_fini(struct vb_rng *rng);

/**
 * @brief vb_rng_init() in memory from malloc(); free with vb_rng_destroy().
 * @return 0, -ENOMEM, or an error of vb_rng_init().
 * Context: control path; allocates once.
 */
int vb_rng_create(const struct vb_rng_config *cfg, const struct vb_rng_backend_ops *ops,
		  void *backend, struct vb_rng **out);

/** @brief vb_rng_fini() and free a model from vb_rng_create() (NULL is ignored). */
void vb_rng_destroy(struct vb_rng *rng);

/**
 * @brief The model's device table, to pass to vb_dev_init() with @p rng as priv.
 * Context: any. @satisfy{VB-REQ-RNG-002}
 */
const struct vb_device_ops *vb_rng_device_ops(const struct vb_rng *rng);

/**
 * @brief The rate limiter's timer: readable when a throttled queue may be served again.
 * @return a timerfd (non-blocking, close-on-exec, owned by the model), or -1 without a rate
 *         limit. Context: any.
 */
int vb_rng_timer_fd(const struct vb_rng *rng);

/**
 * @brief The timer fd is readable (or the host just wants the queue looked at): consume
 * the expiry, refill the bucket, serve the queue while tokens last, re-arm if throttled.
 * @return 0, or the negative errno of reading or re-arming the timer (the queue then
 *         waits for a kick).
 * Context: data path, the queue's thread. @satisfy{VB-REQ-RNG-021}
 */
int vb_rng_process(struct vb_rng *rng);

/** @brief Counters of a model (never reset except by vb_rng_init()). */
struct vb_rng_stats {
	uint64_t requests;	/**< chains popped */
	uint64_t bytes;		/**< entropy bytes written into the guest */
	uint64_t readable;	/**< chains refused for a device-readable buffer (used 0) */
	uint64_t empty;		/**< chains with no writable byte (used 0) */
	uint64_t errors;	/**< chains the backend failed (used 0) */
	uint64_t throttled;	/**< times the bucket ran dry with buffers waiting */
};

/** @brief Copy the model's counters. Context: any. */
void vb_rng_get_stats(const struct vb_rng *rng, struct vb_rng_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_RNG_H */
