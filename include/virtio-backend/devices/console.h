/* SPDX-License-Identifier: MIT */
/**
 * @file console.h
 * @brief virtio-console device model and its host ports.   [users]
 *
 * The model implements virtio 1.2, 5.3 "Console Device" as a struct vb_device_ops: it knows
 * no transport and makes no system call. Each port has a small host table (struct
 * vb_console_port_ops) that moves bytes between the guest's buffers and the host: the model
 * hands it the chain's own iovecs (zero copy: writev() of the guest's transmit buffers,
 * readv() into the guest's posted receive buffers) and it tells the model what it waits for.
 *
 * Features: VIRTIO_CONSOLE_F_SIZE (cols/rows, resize by config change or, with MULTIPORT, by
 * a RESIZE control message), VIRTIO_CONSOLE_F_MULTIPORT (control queues, the port
 * handshake DEVICE_READY / PORT_ADD / PORT_READY / CONSOLE_PORT / PORT_NAME / PORT_OPEN,
 * PORT_REMOVE), VIRTIO_CONSOLE_F_EMERG_WRITE (emerg_wr writes one byte to port 0).
 *
 * Queue numbering (virtio 1.2, 5.3.2 "Virtqueues"): 0 receiveq(port0), 1 transmitq(port0),
 * 2 control receiveq, 3 control transmitq, then 2N+2 / 2N+3 for port N >= 1.
 *
 * Host side (Linux, console-host.c): vb_console_host_*() serve ports on stdio, a pty or a
 * listening unix socket through one epoll fd the host polls.
 */
#ifndef VIRTIO_BACKEND_DEVICES_CONSOLE_H
#define VIRTIO_BACKEND_DEVICES_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../chain.h"
#include "../device.h"
#include "../spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- wire format (virtio 1.2, 5.3) ----------------------------------------------------- */

/** @name Feature bits (virtio 1.2, 5.3.3 "Feature bits") */
/** @{ */
#define VB_VIRTIO_CONSOLE_F_SIZE	0
#define VB_VIRTIO_CONSOLE_F_MULTIPORT	1
#define VB_VIRTIO_CONSOLE_F_EMERG_WRITE	2
/** @} */

/** @name Control events (virtio 1.2, 5.3.6.2 "Multiport Device Operation") */
/** @{ */
#define VB_VIRTIO_CONSOLE_DEVICE_READY	0u
#define VB_VIRTIO_CONSOLE_DEVICE_ADD	1u	/**< PORT_ADD */
#define VB_VIRTIO_CONSOLE_DEVICE_REMOVE	2u	/**< PORT_REMOVE */
#define VB_VIRTIO_CONSOLE_PORT_READY	3u
#define VB_VIRTIO_CONSOLE_CONSOLE_PORT	4u
#define VB_VIRTIO_CONSOLE_RESIZE	5u
#define VB_VIRTIO_CONSOLE_PORT_OPEN	6u
#define VB_VIRTIO_CONSOLE_PORT_NAME	7u
/** @} */

/** @brief Device configuration layout (virtio 1.2, 5.3.4), 12 bytes. */
struct vb_virtio_console_config {
	vb_le16	cols;
	vb_le16	rows;
	vb_le32	max_nr_ports;
	vb_le32	emerg_wr;
};

/** @brief A control message (virtio 1.2, 5.3.6.2), 8 bytes. */
struct vb_virtio_console_control {
	vb_le32	id;		/**< port number */
	vb_le16	event;		/**< VB_VIRTIO_CONSOLE_* */
	vb_le16	value;
};

/** @brief What follows a RESIZE control message (virtio 1.2, 5.3.6.2). */
struct vb_virtio_console_resize {
	vb_le16	cols;
	vb_le16	rows;
};

/** @name Config offsets */
/** @{ */
#define VB_VIRTIO_CONSOLE_CONFIG_COLS		0u
#define VB_VIRTIO_CONSOLE_CONFIG_ROWS		2u
#define VB_VIRTIO_CONSOLE_CONFIG_MAX_NR_PORTS	4u
#define VB_VIRTIO_CONSOLE_CONFIG_EMERG_WR	8u
#define VB_VIRTIO_CONSOLE_CONFIG_LEN		12u
/** @} */

#if defined(__cplusplus)
static_assert(sizeof(struct vb_virtio_console_config) == 12, "config space is 12 bytes");
static_assert(sizeof(struct vb_virtio_console_control) == 8, "control message is 8 bytes");
#else
_Static_assert(sizeof(struct vb_virtio_console_config) == 12, "config space is 12 bytes");
_Static_assert(sizeof(struct vb_virtio_console_control) == 8, "control message is 8 bytes");
#endif

/* ---- host side of a port ---------------------------------------------------------------- */

/** @brief First version of struct vb_console_port_ops. */
#define VB_CONSOLE_PORT_OPS_V1 1u

/**
 * @brief How a port reaches the host. Called on the model's thread, never re-entered.
 */
struct vb_console_port_ops {
	uint32_t version;	/**< VB_CONSOLE_PORT_OPS_V1 */
	/**
	 * Guest output: write @p n iovecs (guest memory, zero copy; at most 1 GiB in total).
	 * Return bytes written (0..total; fewer than the total means "the rest later"),
	 * -EAGAIN if nothing can be written now (the model keeps the data and asks for
	 * want(out = true)), or another negative errno (the data is dropped). Required.
	 */
	int64_t (*write)(void *ctx, const struct vb_iov *iov, unsigned int n);
	/**
	 * Guest input: fill up to @p n iovecs (a posted receive buffer, zero copy). Return
	 * bytes read (> 0), 0 or -EAGAIN if there is nothing now, or another negative errno
	 * (the host side is gone; the model stops reading until want(in = true) again).
	 * Required.
	 */
	int64_t (*read)(void *ctx, const struct vb_iov *iov, unsigned int n);
	/**
	 * What the model waits for: @p in, input (there are guest buffers to fill: poll for
	 * readable and call vb_console_port_input()); @p out, room for output (a write
	 * returned -EAGAIN or short: poll for writable and call vb_console_port_output()).
	 * May be NULL (the host then calls those functions when it likes).
	 */
	void (*want)(void *ctx, bool in, bool out);
	/** The guest opened (@p open true) or closed the port (PORT_OPEN from the driver).
	 *  May be NULL. */
	void (*guest_open)(void *ctx, bool open);
};

/* ---- the model's configuration ---------------------------------------------------------- */

/** @brief First version of struct vb_console_config. */
#define VB_CONSOLE_CONFIG_V1 1u

/** @brief Most ports a model has (queues: 2 * (ports + 1) <= 64). */
#define VB_CONSOLE_MAX_PORTS	31u
/** @brief Longest port name in bytes (PORT_NAME payload). */
#define VB_CONSOLE_NAME_MAX	63u
/** @brief Queue size when the configuration leaves queue_num_max 0. */
#define VB_CONSOLE_QUEUE_NUM_DEFAULT 128u
/**
 * @brief Descriptors of one receive or control chain the model takes (more: the core
 * breaks the queue with -E2BIG). Linux posts one buffer per chain.
 */
#define VB_CONSOLE_CHAIN_IOV	64u
/**
 * @brief Readable descriptors of one transmit chain the model takes. Linux's splice path
 * sends one descriptor per pipe buffer: 16 by default, 256 for a pipe at the default
 * pipe-max-size of 1 MiB.
 */
#define VB_CONSOLE_TX_IOV	256u

/** @name struct vb_console_config flags */
/** @{ */
#define VB_CONSOLE_CFG_SIZE		(1u << 0)	/**< offer F_SIZE (cols/rows) */
#define VB_CONSOLE_CFG_MULTIPORT	(1u << 1)	/**< offer F_MULTIPORT */
#define VB_CONSOLE_CFG_EMERG_WRITE	(1u << 2)	/**< offer F_EMERG_WRITE */
/** @} */

/** @brief One port. */
struct vb_console_port_config {
	const struct vb_console_port_ops *ops;	/**< kept by reference */
	void		*ctx;			/**< passed to ops */
	const char	*name;			/**< PORT_NAME (NULL: none; copied, cut to
						 *   VB_CONSOLE_NAME_MAX bytes) */
	bool		console;		/**< a console port (CONSOLE_PORT; hvc in Linux) */
	bool		connected;		/**< the host side is open at start */
	bool		absent;			/**< not added at DEVICE_READY (hot-add later) */
};

/** @brief What the host tells the model. */
struct vb_console_config {
	uint32_t version;		/**< VB_CONSOLE_CONFIG_V1 */
	uint32_t flags;			/**< VB_CONSOLE_CFG_* */
	uint16_t cols, rows;		/**< initial size (F_SIZE) */
	uint16_t queue_num_max;		/**< largest queue size (0: default) */
	uint16_t num_ports;		/**< 1..VB_CONSOLE_MAX_PORTS; more than 1 needs MULTIPORT */
	const struct vb_console_port_config *ports; /**< num_ports entries (copied) */
	uint64_t features_off;		/**< feature bits never to offer */
};

/* ---- the model ------------------------------------------------------------------------- */

struct vb_console;

/**
 * @brief Bytes of storage vb_console_init() needs for @p cfg.
 * @return the size, or 0 if @p cfg is invalid.
 * Context: any. @satisfy{VB-REQ-CONSOLE-001}
 */
size_t vb_console_size(const struct vb_console_config *cfg);

/**
 * @brief Build a model in caller storage.
 * @param storage      at least vb_console_size(@p cfg) bytes, 8-byte aligned
 * @param storage_len  bytes at @p storage
 * @param cfg          the device (copied, port names included)
 * @param out          receives the model
 * @return 0; -EINVAL for a NULL or misaligned argument, a config version of 0, num_ports 0
 *         or above VB_CONSOLE_MAX_PORTS, more than one port without MULTIPORT, a port without
 *         ops, read or write, port 0 absent, or queue_num_max above 32768; -ENOSPC if
 *         @p storage_len is too small.
 * Context: control path; no allocation. @satisfy{VB-REQ-CONSOLE-001}
 */
int vb_console_init(void *storage, size_t storage_len, const struct vb_console_config *cfg,
		    struct vb_console **out);

/**
 * @brief vb_console_init() in memory from malloc(); free with vb_console_destroy().
 * @return 0, -ENOMEM, or an error of vb_console_init().
 */
int vb_console_create(const struct vb_console_config *cfg, struct vb_console **out);

/** @brief Free a model from vb_console_create() (NULL is ignored). */
void vb_console_destroy(struct vb_console *con);

/**
 * @brief The model's device table, to pass to vb_dev_init() with @p con as priv.
 * Context: any. @satisfy{VB-REQ-CONSOLE-002}
 */
const struct vb_device_ops *vb_console_device_ops(const struct vb_console *con);

/**
 * @brief The host side of @p port has input: fill the guest's posted receive buffers
 * with read() until it has nothing more or no buffer is left, then notify the driver.
 * @return bytes delivered, 0, or -EINVAL (no such port).
 * Context: data path, the model's thread. @satisfy{VB-REQ-CONSOLE-010}
 */
int64_t vb_console_port_input(struct vb_console *con, uint16_t port);

/**
 * @brief The host side of @p port can take output again: resume the guest's transmit
 * buffers held back by a short write.
 * @return 0, or -EINVAL (no such port).
 * Context: data path. @satisfy{VB-REQ-CONSOLE-011}
 */
int vb_console_port_output(struct vb_console *con, uint16_t port);

/**
 * @brief The host side of @p port opened or closed (a socket client came or went): tell
 * the driver with PORT_OPEN (MULTIPORT). While closed, guest output is dropped.
 * @return 0, or -EINVAL. Context: control path. @satisfy{VB-REQ-CONSOLE-023}
 */
int vb_console_port_set_connected(struct vb_console *con, uint16_t port, bool connected);

/**
 * @brief Hot-plug: add (PORT_ADD) or remove (PORT_REMOVE) port @p port (not 0) once the
 * driver is ready (MULTIPORT).
 * @return 0; -EINVAL (port 0 or out of range); -ENOTSUP (MULTIPORT not negotiated).
 * Context: control path. @satisfy{VB-REQ-CONSOLE-024}
 */
int vb_console_port_set_present(struct vb_console *con, uint16_t port, bool present);

/**
 * @brief The console was resized: update cols/rows and tell the driver (a configuration
 * change without MULTIPORT, a RESIZE message to every console port with it).
 * @return 0 or the transport's negative errno. Context: control path.
 * @satisfy{VB-REQ-CONSOLE-004}
 */
int vb_console_set_size(struct vb_console *con, uint16_t cols, uint16_t rows);

/** @brief True if the guest has port @p port open (PORT_OPEN, or DRIVER_OK without
 *  MULTIPORT). Context: any. */
bool vb_console_port_guest_open(const struct vb_console *con, uint16_t port);

/** @brief Counters of a model (never reset except by vb_console_init()). */
struct vb_console_stats {
	uint64_t tx_bytes;	/**< guest output written to the host */
	uint64_t tx_dropped;	/**< guest output dropped (host closed, write error) */
	uint64_t rx_bytes;	/**< host input delivered to the guest */
	uint64_t ctrl_in;	/**< control messages from the driver */
	uint64_t ctrl_bad;	/**< of those, ignored as malformed or out of place */
	uint64_t ctrl_out;	/**< control messages to the driver */
	uint64_t emerg;		/**< emergency writes */
};

/** @brief Copy the model's counters. Context: any. */
void vb_console_get_stats(const struct vb_console *con, struct vb_console_stats *st);

/* ---- host ports on file descriptors (Linux) --------------------------------------------- */

/** @brief Kinds of host port. */
enum vb_console_host_kind {
	VB_CONSOLE_HOST_STDIO = 0,	/**< read fd 0, write fd 1 */
	VB_CONSOLE_HOST_PTY = 1,	/**< a new pty; its name via vb_console_host_pty_name() */
	VB_CONSOLE_HOST_UNIX = 2,	/**< listen at a path; one client at a time = port open */
	VB_CONSOLE_HOST_FDS = 3		/**< caller's fds (tests): in_fd, out_fd */
};

/** @brief One host port. */
struct vb_console_host_port {
	enum vb_console_host_kind kind;
	const char	*path;		/**< UNIX: socket path (removed and re-created) */
	int		in_fd, out_fd;	/**< FDS: the fds (kept open by the caller) */
};

struct vb_console_host;

/**
 * @brief Open host ports: port i of the model is @p ports[i]. Fills @p port_cfg[i].ops/ctx/
 * connected for vb_console_init(); after the model exists, vb_console_host_attach() it.
 * @return 0; -ENOMEM; -EINVAL; or the errno of openpty()/socket()/bind()/listen()/epoll.
 * Context: control path. @satisfy{VB-REQ-CONSOLE-030}
 */
int vb_console_host_open(const struct vb_console_host_port *ports, uint16_t num_ports,
			 struct vb_console_port_config *port_cfg, struct vb_console_host **out);

/** @brief Give the host ports their model (before the first event). */
void vb_console_host_attach(struct vb_console_host *h, struct vb_console *con);

/** @brief The epoll fd to poll for readable; then call vb_console_host_dispatch(). */
int vb_console_host_fd(const struct vb_console_host *h);

/**
 * @brief Serve what is ready: accept or drop socket clients, move input and output.
 * @return 0, or a negative errno of epoll_wait(). Context: the model's thread.
 * @satisfy{VB-REQ-CONSOLE-030}
 */
int vb_console_host_dispatch(struct vb_console_host *h);

/**
 * @brief The terminal size of port @p port's host side (TIOCGWINSZ of a pty or of a
 * terminal on stdin), for vb_console_set_size().
 * @return 0; -EINVAL (no such port); -ENOTTY (not a terminal, or no size set: 0 x 0).
 */
int vb_console_host_winsize(const struct vb_console_host *h, uint16_t port, uint16_t *cols,
			    uint16_t *rows);

/** @brief The pty's name of port @p port ("/dev/pts/N"), or NULL. */
const char *vb_console_host_pty_name(const struct vb_console_host *h, uint16_t port);

/** @brief Close every port (NULL is ignored); the model must be gone or idle. */
void vb_console_host_close(struct vb_console_host *h);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DEVICES_CONSOLE_H */
