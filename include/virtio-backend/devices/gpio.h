/* SPDX-License-Identifier: MIT */
/**
 * @file gpio.h
 * @brief virtio-gpio device model and its host backends.   [users]
 *
 * The model implements virtio 1.2, 5.18 "GPIO Device" as a struct vb_device_ops: requestq
 * messages (GET_NAMES, GET_DIRECTION, SET_DIRECTION, GET_VALUE, SET_VALUE, SET_IRQ_TYPE) and,
 * with VIRTIO_GPIO_F_IRQ, the eventq: the driver unmasks a line's interrupt by queuing one
 * buffer pair for it; the model holds that buffer and returns it with status VALID when the
 * line's interrupt fires (edges latched while masked, levels sampled when unmasked), or with
 * status INVALID when the interrupt is disabled.
 *
 * The host side is a small backend table (struct vb_gpio_backend_ops): a simulated chip whose
 * lines a test drives (vb_gpio_sim_*), or a Linux GPIO character device through the uAPI v2
 * (vb_gpio_cdev_*). A backend reports edges it sees with vb_gpio_line_event().
 *
 * Every request is copied out of guest memory once and validated (sizes, line number, values,
 * the state the spec allows it in); a bad one is answered VIRTIO_GPIO_STATUS_ERR and never
 * stops the queue. No allocation per request; the names block is answered straight into the
 * guest's buffer.
 *
 * Threading: one thread serves both queues and calls vb_gpio_line_event().
 */
#ifndef VIRTIO_BACKEND_DEVICES_GPIO_H
#define VIRTIO_BACKEND_DEVICES_GPIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../device.h"
#include "../endian.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format: virtio 1.2, 5.18 "GPIO Device" --------------------------------------- */

/** @brief Feature bit: interrupts on lines, eventq present (virtio 1.2, 5.18.3). */
#define VB_VIRTIO_GPIO_F_IRQ		0

/** @name Queues (virtio 1.2, 5.18.2 "Virtqueues") */
/** @{ */
#define VB_VIRTIO_GPIO_REQUESTQ		0u
#define VB_VIRTIO_GPIO_EVENTQ		1u
/** @} */

/** @name Message types (virtio 1.2, 5.18.6 "Device Operation: requestq") */
/** @{ */
#define VB_VIRTIO_GPIO_MSG_GET_NAMES		0x0001u
#define VB_VIRTIO_GPIO_MSG_GET_DIRECTION	0x0002u
#define VB_VIRTIO_GPIO_MSG_SET_DIRECTION	0x0003u
#define VB_VIRTIO_GPIO_MSG_GET_VALUE		0x0004u
#define VB_VIRTIO_GPIO_MSG_SET_VALUE		0x0005u
#define VB_VIRTIO_GPIO_MSG_SET_IRQ_TYPE		0x0006u
/** @} */

/** @name Response status */
/** @{ */
#define VB_VIRTIO_GPIO_STATUS_OK	0u
#define VB_VIRTIO_GPIO_STATUS_ERR	1u
/** @} */

/** @name Directions */
/** @{ */
#define VB_VIRTIO_GPIO_DIRECTION_NONE	0u
#define VB_VIRTIO_GPIO_DIRECTION_OUT	1u
#define VB_VIRTIO_GPIO_DIRECTION_IN	2u
/** @} */

/** @name Interrupt trigger types */
/** @{ */
#define VB_VIRTIO_GPIO_IRQ_TYPE_NONE		0x00u
#define VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING	0x01u
#define VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING	0x02u
#define VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH	0x03u
#define VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH	0x04u
#define VB_VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW	0x08u
/** @} */

/** @name eventq response status (virtio 1.2, 5.18.7 "Device Operation: eventq") */
/** @{ */
#define VB_VIRTIO_GPIO_IRQ_STATUS_INVALID	0x0u
#define VB_VIRTIO_GPIO_IRQ_STATUS_VALID		0x1u
/** @} */

/** @brief Device configuration layout (virtio 1.2, 5.18.4). */
struct vb_virtio_gpio_config {
	vb_le16	ngpio;
	uint8_t	padding[2];
	vb_le32	gpio_names_size;
};

/** @brief A requestq request, driver-written. */
struct vb_virtio_gpio_request {
	vb_le16	type;
	vb_le16	gpio;
	vb_le32	value;
};

/** @brief A requestq response (GET_NAMES: status, then gpio_names_size bytes of names). */
struct vb_virtio_gpio_response {
	uint8_t	status;
	uint8_t	value;
};

/** @brief An eventq request: the line whose interrupt the driver unmasks. */
struct vb_virtio_gpio_irq_request {
	vb_le16	gpio;
};

/** @brief An eventq response. */
struct vb_virtio_gpio_irq_response {
	uint8_t	status;
};

#if defined(__cplusplus)
static_assert(sizeof(struct vb_virtio_gpio_config) == 8, "config is 8 bytes");
static_assert(sizeof(struct vb_virtio_gpio_request) == 8, "request is 8 bytes");
#else
_Static_assert(sizeof(struct vb_virtio_gpio_config) == 8, "config is 8 bytes");
_Static_assert(sizeof(struct vb_virtio_gpio_request) == 8, "request is 8 bytes");
#endif

/* ---- the model's configuration --------------------------------------------------------- */

/** @brief First version of struct vb_gpio_config. */
#define VB_GPIO_CONFIG_V1 1u

/** @name struct vb_gpio_config flags */
/** @{ */
#define VB_GPIO_CFG_NO_IRQ	(1u << 0)	/**< do not offer VIRTIO_GPIO_F_IRQ */
/** @} */

/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_GPIO_QUEUE_NUM_DEFAULT	256u
/** @brief Longest line name, in bytes without the terminating zero. */
#define VB_GPIO_NAME_MAX		127u

/** @brief What the host tells the model about the chip. */
struct vb_gpio_config {
	uint32_t		version;	/**< VB_GPIO_CONFIG_V1 */
	uint32_t		flags;		/**< VB_GPIO_CFG_* */
	uint16_t		ngpio;		/**< lines, at least 1 */
	uint16_t		queue_num_max;	/**< largest queue size (0: default), <= 1024 */
	/**
	 * ngpio line names (copied), or NULL for none. An entry may be NULL or "" (no name).
	 * Names are 7-bit ASCII, at most VB_GPIO_NAME_MAX bytes and unique (virtio 1.2,
	 * 5.18.6.1 "Get Line Names").
	 */
	const char *const	*names;
	uint64_t		features_off;	/**< feature bits never to offer */
};

/* ---- host backends --------------------------------------------------------------------- */

struct vb_gpio;

/** @name Edges a backend reports (same bits as the edge trigger types) */
/** @{ */
#define VB_GPIO_EDGE_RISING	VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING
#define VB_GPIO_EDGE_FALLING	VB_VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING
/** @} */

/** @brief First version of struct vb_gpio_backend_ops. */
#define VB_GPIO_BACKEND_OPS_V1 1u

/**
 * @brief A host GPIO chip. Every call is synchronous and returns 0 or a negative errno (the
 * model then answers VIRTIO_GPIO_STATUS_ERR). Line numbers are below the model's ngpio.
 */
struct vb_gpio_backend_ops {
	uint32_t version;	/**< VB_GPIO_BACKEND_OPS_V1 */
	/**
	 * Configure @p line: VB_VIRTIO_GPIO_DIRECTION_NONE releases it, IN makes it an input,
	 * OUT an output driving @p value (0 or 1). Required.
	 */
	int (*set_direction)(void *backend, uint16_t line, uint8_t dir, uint8_t value);
	/** Sense @p line's level into *@p value (0 or 1). Required. */
	int (*get_value)(void *backend, uint16_t line, uint8_t *value);
	/** Drive output @p line to @p value (0 or 1). Required. */
	int (*set_value)(void *backend, uint16_t line, uint8_t value);
	/**
	 * Start (any VB_VIRTIO_GPIO_IRQ_TYPE_* but NONE) or stop (NONE) watching @p line; the
	 * backend then reports its edges with vb_gpio_line_event() (it may report both edges
	 * whatever the type: the model filters). May be NULL: VIRTIO_GPIO_F_IRQ is not offered.
	 */
	int (*set_irq_type)(void *backend, uint16_t line, uint8_t type);
};

/* ---- the model ------------------------------------------------------------------------- */

/**
 * @brief Bytes of storage vb_gpio_init() needs for @p cfg (line table and names included).
 * @return the size, or 0 if @p cfg is invalid (see vb_gpio_init()).
 * Context: any. @satisfy{VB-REQ-GPIO-001}
 */
size_t vb_gpio_size(const struct vb_gpio_config *cfg);

/**
 * @brief Build a model in caller storage.
 * @param storage      at least vb_gpio_size(@p cfg) bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param cfg          the chip (copied, names included)
 * @param ops          the backend (kept by reference)
 * @param backend      the backend's context, passed to @p ops
 * @param out          receives the model
 * @return 0; -EINVAL for a NULL or misaligned argument, a version of 0, a missing required
 *         op, ngpio 0, queue_num_max above 1024, or a name that is too long, not 7-bit
 *         ASCII or not unique; -ENOSPC if @p storage_len is too small.
 * Context: control path; no allocation. @satisfy{VB-REQ-GPIO-001}
 */
int vb_gpio_init(void *storage, size_t storage_len, const struct vb_gpio_config *cfg,
		 const struct vb_gpio_backend_ops *ops, void *backend, struct vb_gpio **out);

/**
 * @brief vb_gpio_init() in memory from malloc(); free with vb_gpio_destroy().
 * @return 0, -ENOMEM, or an error of vb_gpio_init().
 * Context: control path; allocates once.
 */
int vb_gpio_create(const struct vb_gpio_config *cfg, const struct vb_gpio_backend_ops *ops,
		   void *backend, struct vb_gpio **out);

/** @brief Free a model from vb_gpio_create() (NULL is ignored). Context: control path. */
void vb_gpio_destroy(struct vb_gpio *g);

/**
 * @brief The model's device table, to pass to vb_dev_init() with @p g as priv.
 * Context: any. @satisfy{VB-REQ-GPIO-002}
 */
const struct vb_device_ops *vb_gpio_device_ops(const struct vb_gpio *g);

/**
 * @brief The backend saw @p edges (VB_GPIO_EDGE_* bits) on @p line.
 *
 * An edge the line's trigger type selects is delivered at once if the driver has unmasked
 * the interrupt (its eventq buffer is held), else latched until it does; a level type
 * samples the line (backend get_value) and delivers only while unmasked. Lines out of range
 * and lines without an enabled interrupt are ignored.
 * Context: data path, the queues' thread. @satisfy{VB-REQ-GPIO-030}
 */
void vb_gpio_line_event(struct vb_gpio *g, uint16_t line, unsigned int edges);

/** @brief A line as the driver configured it (vb_gpio_get_line()). */
struct vb_gpio_line_info {
	uint8_t	direction;	/**< VB_VIRTIO_GPIO_DIRECTION_* */
	uint8_t	value;		/**< last value the driver set (drives the line when OUT) */
	uint8_t	irq_type;	/**< VB_VIRTIO_GPIO_IRQ_TYPE_* */
	bool	unmasked;	/**< an eventq buffer is held for the line */
	bool	latched;	/**< an edge waits for the driver to unmask */
};

/**
 * @brief The driver's view of @p line.
 * @return 0, or -EINVAL if @p line is out of range. Context: any.
 */
int vb_gpio_get_line(const struct vb_gpio *g, uint16_t line, struct vb_gpio_line_info *info);

/** @brief Counters of a model (never reset except by vb_gpio_init()). */
struct vb_gpio_stats {
	uint64_t requests;	/**< requestq chains popped */
	uint64_t ok;		/**< answered VIRTIO_GPIO_STATUS_OK */
	uint64_t err;		/**< answered VIRTIO_GPIO_STATUS_ERR */
	uint64_t no_status;	/**< returned without a response (no writable byte) */
	uint64_t irq_valid;	/**< eventq buffers returned VALID (interrupts delivered) */
	uint64_t irq_invalid;	/**< eventq buffers returned INVALID */
};

/** @brief Copy the model's counters. Context: any. */
void vb_gpio_get_stats(const struct vb_gpio *g, struct vb_gpio_stats *st);

/* ---- simulated chip -------------------------------------------------------------------- */

struct vb_gpio_sim;

/**
 * @brief A simulated chip of @p ngpio lines. Each line has an external level a test drives
 * (vb_gpio_sim_set_input(), initially 0) and the level the guest drives when it is an
 * output; the pin reads the latter for outputs and the former otherwise.
 * @return 0, -EINVAL (ngpio 0), -ENOMEM. Context: control path. @satisfy{VB-REQ-GPIO-040}
 */
int vb_gpio_sim_create(uint16_t ngpio, struct vb_gpio_sim **out);

/** @brief Free a simulated chip (NULL is ignored). */
void vb_gpio_sim_destroy(struct vb_gpio_sim *sim);

/** @brief Edges of driven inputs go to @p g (vb_gpio_line_event()); NULL: nowhere. */
void vb_gpio_sim_bind(struct vb_gpio_sim *sim, struct vb_gpio *g);

/**
 * @brief Drive @p line's external level to @p level (0 or 1); a change is an edge.
 * @return 0, or -EINVAL for a bad line or level. Context: the queues' thread.
 */
int vb_gpio_sim_set_input(struct vb_gpio_sim *sim, uint16_t line, uint8_t level);

/** @brief The pin level of @p line (0 or 1), or -EINVAL. */
int vb_gpio_sim_get_level(const struct vb_gpio_sim *sim, uint16_t line);

/**
 * @brief Run one command of the control protocol (docs/howto/device-gpio.md):
 * "set L 0|1", "get L", "dir L", "irq L", "lines", "help". Writes one reply line (no
 * newline) into @p reply: "ok", a value, or "err REASON".
 * @return 0 if the command succeeded, -EINVAL if the reply is an error.
 * Context: the queues' thread. @satisfy{VB-REQ-GPIO-041}
 */
int vb_gpio_sim_command(struct vb_gpio_sim *sim, const char *cmd, char *reply,
			size_t reply_len);

/** @brief The table to pass to vb_gpio_init() with the simulated chip as context. */
extern const struct vb_gpio_backend_ops vb_gpio_sim_ops;

/* ---- Linux GPIO character device (uAPI v2) --------------------------------------------- */

struct vb_gpio_cdev;

/**
 * @brief Open a GPIO chip (/dev/gpiochipN). Lines are requested (GPIO_V2_GET_LINE_IOCTL,
 * one line fd each) when the driver gives them a direction and released at NONE; an
 * interrupt enables edge detection on both edges and the line fd's edge events become
 * vb_gpio_line_event() calls in vb_gpio_cdev_process().
 * @return 0, -ENOMEM, or the negative errno of open() or the chip info ioctl.
 * Context: control path. @satisfy{VB-REQ-GPIO-042}
 */
int vb_gpio_cdev_open(const char *path, struct vb_gpio_cdev **out);

/** @brief Release every line and close the chip (NULL is ignored). */
void vb_gpio_cdev_close(struct vb_gpio_cdev *c);

/** @brief Lines of the chip. */
uint16_t vb_gpio_cdev_ngpio(const struct vb_gpio_cdev *c);

/** @brief The chip's line names (ngpio entries, "" where unnamed), valid until close. */
const char *const *vb_gpio_cdev_names(const struct vb_gpio_cdev *c);

/** @brief Edges go to @p g. */
void vb_gpio_cdev_bind(struct vb_gpio_cdev *c, struct vb_gpio *g);

/** @brief An epoll fd that is readable when a requested line has edge events. */
int vb_gpio_cdev_event_fd(const struct vb_gpio_cdev *c);

/**
 * @brief Read the pending edge events of every line (non-blocking) and report them.
 * @return events read, or a negative errno. Context: the queues' thread.
 */
int vb_gpio_cdev_process(struct vb_gpio_cdev *c);

/** @brief The table to pass to vb_gpio_init() with the character device as context. */
extern const struct vb_gpio_backend_ops vb_gpio_cdev_ops;

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_GPIO_H */
