/* SPDX-License-Identifier: MIT */
/**
 * @file input.h
 * @brief virtio-input device model, evdev host source and synthetic profiles.   [users]
 *
 * The model implements virtio 1.2, 5.8 "Input Device" as a struct vb_device_ops: the
 * select/subsel configuration protocol over a device description (struct vb_input_info),
 * the eventq (host events to the guest, a burst delivered with one notification, held in a
 * bounded ring while the driver has no buffer) and the statusq (LED and other feedback from
 * the driver, validated against the description before the host hears of it).
 *
 * Host sources (Linux, input-evdev.c): an evdev device (/dev/input/eventN), whose
 * capabilities fill the description through EVIOCG* ioctls; and built-in keyboard, mouse and
 * tablet descriptions (vb_input_synth_info()) for scripted test devices.
 */
#ifndef VIRTIO_BACKEND_DEVICES_INPUT_H
#define VIRTIO_BACKEND_DEVICES_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../device.h"
#include "../spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format (virtio 1.2, 5.8) ----------------------------------------------------- */

/** @name Config select values (virtio 1.2, 5.8.4 "Device configuration layout") */
/** @{ */
#define VB_VIRTIO_INPUT_CFG_UNSET	0x00u
#define VB_VIRTIO_INPUT_CFG_ID_NAME	0x01u
#define VB_VIRTIO_INPUT_CFG_ID_SERIAL	0x02u
#define VB_VIRTIO_INPUT_CFG_ID_DEVIDS	0x03u
#define VB_VIRTIO_INPUT_CFG_PROP_BITS	0x10u
#define VB_VIRTIO_INPUT_CFG_EV_BITS	0x11u
#define VB_VIRTIO_INPUT_CFG_ABS_INFO	0x12u
/** @} */

/** @brief An absolute axis (virtio 1.2, 5.8.4). */
struct vb_virtio_input_absinfo {
	vb_le32	min;
	vb_le32	max;
	vb_le32	fuzz;
	vb_le32	flat;
	vb_le32	res;
};

/** @brief Device ids (virtio 1.2, 5.8.4). */
struct vb_virtio_input_devids {
	vb_le16	bustype;
	vb_le16	vendor;
	vb_le16	product;
	vb_le16	version;
};

/** @brief Device configuration layout (virtio 1.2, 5.8.4), 136 bytes. */
struct vb_virtio_input_config {
	uint8_t	select;
	uint8_t	subsel;
	uint8_t	size;
	uint8_t	reserved[5];
	union {
		char				string[128];
		uint8_t				bitmap[128];
		struct vb_virtio_input_absinfo	abs;
		struct vb_virtio_input_devids	ids;
	} u;
};

/** @brief An event on the eventq or statusq (virtio 1.2, 5.8.6 "Device Operation"). */
struct vb_virtio_input_event {
	vb_le16	type;
	vb_le16	code;
	vb_le32	value;
};

/** @name Config offsets */
/** @{ */
#define VB_VIRTIO_INPUT_CONFIG_SELECT	0u
#define VB_VIRTIO_INPUT_CONFIG_SUBSEL	1u
#define VB_VIRTIO_INPUT_CONFIG_SIZE	2u
#define VB_VIRTIO_INPUT_CONFIG_U	8u
#define VB_VIRTIO_INPUT_CONFIG_LEN	136u
/** @} */

/** @name evdev event types and codes the model refers to (Linux input-event-codes.h) */
/** @{ */
#define VB_INPUT_EV_SYN		0x00u
#define VB_INPUT_EV_KEY		0x01u
#define VB_INPUT_EV_REL		0x02u
#define VB_INPUT_EV_ABS		0x03u
#define VB_INPUT_EV_MSC		0x04u
#define VB_INPUT_EV_SW		0x05u
#define VB_INPUT_EV_LED		0x11u
#define VB_INPUT_EV_SND		0x12u
#define VB_INPUT_EV_REP		0x14u
#define VB_INPUT_EV_FF		0x15u
#define VB_INPUT_EV_CNT		0x20u	/**< event types */
#define VB_INPUT_SYN_REPORT	0u
#define VB_INPUT_ABS_CNT	0x40u	/**< absolute axes */
#define VB_INPUT_BITMAP_BYTES	128u	/**< codes 0..1023 per type */
/** @} */

#if defined(__cplusplus)
static_assert(sizeof(struct vb_virtio_input_config) == 136, "config space is 136 bytes");
static_assert(sizeof(struct vb_virtio_input_event) == 8, "event is 8 bytes");
#else
_Static_assert(sizeof(struct vb_virtio_input_config) == 136, "config space is 136 bytes");
_Static_assert(sizeof(struct vb_virtio_input_event) == 8, "event is 8 bytes");
#endif

/* ---- the device description ------------------------------------------------------------- */

/** @brief An absolute axis, host byte order. */
struct vb_input_absinfo {
	int32_t min, max, fuzz, flat, res;
};

/**
 * @brief What the device is: everything the config space answers. A type is supported when
 * its ev[] bitmap has a bit set; EV_SYN is always supported and needs no bits.
 */
struct vb_input_info {
	char		name[128];		/**< ID_NAME (NUL-terminated or 128 bytes) */
	char		serial[128];		/**< ID_SERIAL */
	uint16_t	bustype, vendor, product, version;	/**< ID_DEVIDS */
	uint8_t		prop[VB_INPUT_BITMAP_BYTES];	/**< PROP_BITS */
	uint8_t		ev[VB_INPUT_EV_CNT][VB_INPUT_BITMAP_BYTES];	/**< EV_BITS per type */
	struct vb_input_absinfo abs[VB_INPUT_ABS_CNT];	/**< ABS_INFO (axes in ev[EV_ABS]) */
};

/** @brief Set bit @p code of a bitmap (codes above 1023 are ignored). */
void vb_input_bit_set(uint8_t *bitmap, unsigned int code);

/** @brief Test bit @p code of a bitmap (false above 1023). */
bool vb_input_bit_test(const uint8_t *bitmap, unsigned int code);

/** @brief A host event, host byte order. */
struct vb_input_event {
	uint16_t type;
	uint16_t code;
	uint32_t value;	/**< evdev's signed value, as its 32 bits */
};

/* ---- the model ------------------------------------------------------------------------- */

/** @brief First version of struct vb_input_ops. */
#define VB_INPUT_OPS_V1 1u

/** @brief The host side of the statusq. */
struct vb_input_ops {
	uint32_t version;	/**< VB_INPUT_OPS_V1 */
	/** A validated status event from the driver (an LED, a sound, autorepeat); the
	 *  type and code are ones the description supports. May be NULL. */
	void (*status)(void *ctx, const struct vb_input_event *ev);
};

/** @brief First version of struct vb_input_config. */
#define VB_INPUT_CONFIG_V1 1u
/** @brief Events held for the driver when the configuration leaves pending_max 0. */
#define VB_INPUT_PENDING_DEFAULT 256u
/** @brief Most events held. */
#define VB_INPUT_PENDING_MAX	65536u
/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_INPUT_QUEUE_NUM_DEFAULT 64u

/** @brief What the host tells the model. */
struct vb_input_config {
	uint32_t		version;	/**< VB_INPUT_CONFIG_V1 */
	uint16_t		queue_num_max;	/**< largest queue size (0: default) */
	uint32_t		pending_max;	/**< events held while the driver has no buffer
						 *   (0: default; at most VB_INPUT_PENDING_MAX) */
	const struct vb_input_info *info;	/**< the device (copied) */
	const struct vb_input_ops *ops;		/**< may be NULL (statusq events dropped) */
	void			*ctx;
	uint64_t		features_off;	/**< feature bits never to offer */
};

struct vb_input;

/**
 * @brief Bytes of storage vb_input_init() needs for @p cfg; 0 if @p cfg is invalid.
 * Context: any. @satisfy{VB-REQ-INPUT-001}
 */
size_t vb_input_size(const struct vb_input_config *cfg);

/**
 * @brief Build a model in caller storage.
 * @return 0; -EINVAL (NULL or misaligned argument, version 0, no info, ops of version 0,
 *         queue_num_max above 32768, pending_max above VB_INPUT_PENDING_MAX); -ENOSPC.
 * Context: control path; no allocation. @satisfy{VB-REQ-INPUT-001}
 */
int vb_input_init(void *storage, size_t storage_len, const struct vb_input_config *cfg,
		  struct vb_input **out);

/** @brief vb_input_init() in memory from malloc(); free with vb_input_destroy(). */
int vb_input_create(const struct vb_input_config *cfg, struct vb_input **out);

/** @brief Free a model from vb_input_create() (NULL is ignored). */
void vb_input_destroy(struct vb_input *in);

/** @brief The model's device table, to pass to vb_dev_init() with @p in as priv.
 *  @satisfy{VB-REQ-INPUT-002} */
const struct vb_device_ops *vb_input_device_ops(const struct vb_input *in);

/**
 * @brief Host events for the guest, in order. They go into the driver's eventq buffers at
 * once (one event per buffer, one notification for the burst) or wait in the pending ring.
 * When the ring is full, the packet being added is dropped up to and including its
 * SYN_REPORT, and the undelivered part of it is taken back, so that the driver never sees
 * half of a packet glued to the next.
 * @return events accepted (delivered or held), or -EINVAL.
 * Context: data path, the model's thread. @satisfy{VB-REQ-INPUT-010}
 * @satisfy{VB-REQ-INPUT-011}
 */
int vb_input_send(struct vb_input *in, const struct vb_input_event *ev, unsigned int n);

/** @brief Events waiting for eventq buffers. Context: any. */
unsigned int vb_input_pending(const struct vb_input *in);

/** @brief Counters of a model (never reset except by vb_input_init()). */
struct vb_input_stats {
	uint64_t events;	/**< events delivered to the driver */
	uint64_t dropped;	/**< events dropped (ring full, device not running) */
	uint64_t status;	/**< statusq events passed to the host */
	uint64_t status_bad;	/**< statusq buffers refused (short, unsupported type/code) */
	uint64_t short_bufs;	/**< eventq buffers under 8 bytes returned empty */
};

/** @brief Copy the model's counters. */
void vb_input_get_stats(const struct vb_input *in, struct vb_input_stats *st);

/* ---- synthetic profiles ----------------------------------------------------------------- */

/** @brief Built-in device descriptions. */
enum vb_input_synth {
	VB_INPUT_SYNTH_KEYBOARD = 0,	/**< EV_KEY (keys 1..248), EV_LED (NUM, CAPS, SCROLL), EV_REP */
	VB_INPUT_SYNTH_MOUSE = 1,	/**< EV_REL (X, Y, WHEEL), BTN_LEFT/RIGHT/MIDDLE */
	VB_INPUT_SYNTH_TABLET = 2	/**< EV_ABS (X, Y 0..32767), BTN_LEFT/RIGHT, PROP_DIRECT */
};

/**
 * @brief Fill @p info with a built-in description (name "vb-synthetic-<kind>").
 * @return 0, or -EINVAL for an unknown kind. @satisfy{VB-REQ-INPUT-031}
 */
int vb_input_synth_info(enum vb_input_synth kind, struct vb_input_info *info);

/* ---- evdev host source (Linux) ---------------------------------------------------------- */

/** @brief vb_input_evdev_open() flags: take the device for the guest alone (EVIOCGRAB). */
#define VB_INPUT_EVDEV_GRAB	(1u << 0)

struct vb_input_evdev;

/**
 * @brief Open an evdev device and describe it: EVIOCGNAME, EVIOCGUNIQ, EVIOCGID, EVIOCGPROP,
 * EVIOCGBIT for each type, EVIOCGABS for each axis.
 * @return 0; -ENOMEM; or the negative errno of open()/ioctl().
 * Context: control path. @satisfy{VB-REQ-INPUT-030}
 */
int vb_input_evdev_open(const char *path, unsigned int flags, struct vb_input_info *info,
			struct vb_input_evdev **out);

/** @brief Give the source its model (before the first dispatch). */
void vb_input_evdev_attach(struct vb_input_evdev *e, struct vb_input *in);

/** @brief The evdev fd (non-blocking) to poll for readable. */
int vb_input_evdev_fd(const struct vb_input_evdev *e);

/**
 * @brief Read what the device has and send it to the model (vb_input_send()).
 * @return events read, or a negative errno (-ENODEV: the device was unplugged).
 * @satisfy{VB-REQ-INPUT-030}
 */
int vb_input_evdev_dispatch(struct vb_input_evdev *e);

/** @brief The statusq table for the model (writes LED/sound events to the device). */
extern const struct vb_input_ops vb_input_evdev_ops;

/** @brief Close the device (NULL is ignored). */
void vb_input_evdev_close(struct vb_input_evdev *e);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_INPUT_H */
