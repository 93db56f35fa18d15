/* SPDX-License-Identifier: MIT */
/*
 * vhost-user backend, private interfaces between msg.c (codec and validation), mem.c (memory
 * table) and server.c (connection, ring states, dispatch).
 */
#ifndef VB_TRANSPORTS_VHOST_USER_VU_INTERNAL_H
#define VB_TRANSPORTS_VHOST_USER_VU_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio-backend/mem.h"
#include "virtio-backend/transports/vhost-user.h"

/* Largest payload of any message this backend accepts: SET_MEM_TABLE (8 + 8 * 32) and
 * GET/SET_CONFIG (12 + 256) are the biggest. A larger size breaks the framing. */
#define VBI_VU_PAYLOAD_MAX	512u

/* One message, as received or to be sent. */
struct vbi_vu_msg {
	uint32_t request;
	uint32_t flags;
	uint32_t size;			/* payload bytes */
	union {
		uint64_t			u64;
		struct vb_vu_vring_state	state;
		struct vb_vu_vring_addr		addr;
		struct vb_vu_mem_table		table;
		struct vb_vu_mem_reg		reg;
		struct vb_vu_config_space	config;
		struct vb_vu_inflight		inflight;
		struct vb_vu_log		log;
		uint8_t				raw[VBI_VU_PAYLOAD_MAX];
	} payload;
	int		fds[VB_VU_MAX_FDS];
	unsigned int	n_fds;
};

_Static_assert(sizeof(struct vb_vu_vring_state) == 8, "vring state is 8 bytes");
_Static_assert(sizeof(struct vb_vu_vring_addr) == 40, "vring address is 40 bytes");
_Static_assert(sizeof(struct vb_vu_mem_region) == 32, "memory region is 32 bytes");
_Static_assert(sizeof(struct vb_vu_mem_table) == 8 + 32 * VB_VU_MEM_TABLE_MAX, "mem table");
_Static_assert(sizeof(struct vb_vu_mem_reg) == 40, "single memory region is 40 bytes");
_Static_assert(sizeof(struct vb_vu_config_space) == 12 + VB_VU_CONFIG_MAX, "config space");
_Static_assert(sizeof(struct vb_vu_inflight) == 24, "inflight description is 24 bytes");
_Static_assert(sizeof(struct vb_vu_log) == 16, "log description is 16 bytes");
_Static_assert(sizeof(struct vb_vu_vring_area) == 24, "vring area description is 24 bytes");
_Static_assert(sizeof(struct vb_vu_inflight_split) == 16, "inflight queue header is 16 bytes");
_Static_assert(sizeof(struct vb_vu_inflight_desc) == 16, "inflight entry is 16 bytes");
_Static_assert(sizeof(struct vb_vu_inflight_packed) == 32, "packed inflight header is 32 bytes");
_Static_assert(sizeof(struct vb_vu_inflight_desc_packed) == 32, "packed inflight entry is 32 bytes");

/* Receive state of a connection: a message may arrive in pieces (non-blocking socket). */
struct vbi_vu_rx {
	struct vbi_vu_msg msg;
	size_t		got;		/* bytes of header + payload received so far */
};

/* Limits the validation needs from the server. */
struct vbi_vu_limits {
	uint16_t num_queues;
	uint32_t max_mem_slots;
};

/* ---- msg.c ---- */

void vbi_vu_rx_reset(struct vbi_vu_rx *rx);

/*
 * Read from a non-blocking socket until one message is complete.
 * Returns 1 (rx->msg complete, its fds now owned by the caller), 0 (need more bytes),
 * -ECONNRESET (peer closed), -EPROTO (framing broken: bad version or reply flag in the
 * header, payload larger than VBI_VU_PAYLOAD_MAX, too many or truncated fds), or another
 * negative errno from recvmsg(). After an error the connection cannot be resynchronised.
 */
int vbi_vu_msg_recv(int sock, struct vbi_vu_rx *rx);

/* Check a complete message: size, fd count and the fields that need no server state.
 * Returns 0, -EINVAL (malformed), -ENOTSUP (unknown or unsupported request). */
int vbi_vu_msg_check(const struct vbi_vu_msg *m, const struct vbi_vu_limits *lim);

/* True if the request has a reply of its own (REPLY_ACK then does not apply). */
bool vbi_vu_msg_has_reply(uint32_t request);

/* Name of a request for logs ("SET_MEM_TABLE"), "UNKNOWN" otherwise. */
const char *vbi_vu_msg_name(uint32_t request);

/* Close every fd the message carries. */
void vbi_vu_msg_close_fds(struct vbi_vu_msg *m);

/* Send a reply to request with size payload bytes. Returns 0 or a negative errno
 * (-EAGAIN: the peer does not read its replies). */
int vbi_vu_msg_reply(int sock, uint32_t request, const void *payload, uint32_t size);
/* The same, passing fd (SCM_RIGHTS) with it when fd >= 0. */
int vbi_vu_msg_reply_fd(int sock, uint32_t request, const void *payload, uint32_t size,
			int fd);

/* ---- backend.c: the back-end request channel (BACKEND_REQ) ---- */

struct vbi_vu_backend {
	int		fd;		/* -1: none */
	uint32_t	pending;	/* NEED_REPLY messages not acknowledged yet */
	uint64_t	sent;
	uint64_t	acked;
	uint8_t		buf[VB_VU_HDR_SIZE + 8];	/* a REPLY_ACK reply in pieces */
	size_t		got;
};

void vbi_vu_backend_init(struct vbi_vu_backend *b);
/* Close the channel (if any) and forget what was pending. */
void vbi_vu_backend_close(struct vbi_vu_backend *b);
/* Take fd (owned from now on) as the channel, closing the previous one. -EINVAL if fd is
 * not a socket (then the caller still owns it). */
int vbi_vu_backend_set(struct vbi_vu_backend *b, int fd);
/* Send a payload-less back-end request without blocking. 0, -ENOTCONN (no channel), or a
 * negative errno from send() (-EAGAIN: the front-end does not read the channel). */
int vbi_vu_backend_send(struct vbi_vu_backend *b, uint32_t request, bool need_reply);
/* Largest payload of a back-end request (the vring area description is the biggest). */
#define VBI_VU_BACKEND_PAYLOAD_MAX	24u
/* The same with size payload bytes and, when fd >= 0, fd (not consumed) in SCM_RIGHTS.
 * -EINVAL for a payload over VBI_VU_BACKEND_PAYLOAD_MAX. */
int vbi_vu_backend_send_msg(struct vbi_vu_backend *b, uint32_t request, bool need_reply,
			    const void *payload, uint32_t size, int fd);
/* Consume every REPLY_ACK that arrived; *nack counts non-zero ones. 0, -ECONNRESET (the
 * front-end closed the channel), -EPROTO (not an expected ack), or a negative errno. */
int vbi_vu_backend_readable(struct vbi_vu_backend *b, uint64_t *nack);

/* ---- mem.c ---- */

/* One mapping made for a region. */
struct vbi_vu_map {
	void		*base;		/* mmap() result */
	size_t		len;		/* mmap() length */
	struct vb_vu_mem_region	r;	/* as the frontend described it */
};

struct vbi_vu_mem {
	struct vb_mem		mem;	/* what the core translates through */
	struct vb_mem_region	regions[VB_VU_MAX_MEM_SLOTS];
	struct vbi_vu_map	maps[VB_VU_MAX_MEM_SLOTS];
	uint32_t		n_maps;
	uint32_t		max_slots;
};

void vbi_vu_mem_init(struct vbi_vu_mem *m, uint32_t max_slots);

/* Map [offset, offset + size) of fd (not consumed) shared and read-write, with extra mmap()
 * flags: *map and *map_len describe the mapping, which begins *lead bytes before offset (at a
 * page boundary). Returns 0, -EINVAL (not a regular file, shorter than offset + size, too
 * big to map), -ENOMEM (mmap failed). Memory table, dirty log and inflight memory share it. */
int vbi_vu_map_fd(int fd, uint64_t offset, uint64_t size, int flags, void **map,
		  size_t *map_len, size_t *lead);

/* Map n regions, each from its fd (not consumed), and replace the whole table with them; on
 * any error nothing changes. Returns 0, -EINVAL (empty, wrapping, overlapping region, fd not
 * a regular file or smaller than the region), -ENOSPC (too many), -ENOMEM (mmap failed). */
int vbi_vu_mem_set_table(struct vbi_vu_mem *m, const struct vb_vu_mem_region *r,
			 const int *fds, uint32_t n);

/* Map and add one region (ADD_MEM_REG). Errors as vbi_vu_mem_set_table(). */
int vbi_vu_mem_add(struct vbi_vu_mem *m, const struct vb_vu_mem_region *r, int fd);

/* Remove and unmap the region with r's guest address, size and user address (REM_MEM_REG).
 * Returns 0 or -ENOENT. */
int vbi_vu_mem_remove(struct vbi_vu_mem *m, const struct vb_vu_mem_region *r);

/* Unmap everything. */
void vbi_vu_mem_clear(struct vbi_vu_mem *m);

/* One past the highest guest address of the table (0 if empty). */
uint64_t vbi_vu_mem_guest_end(const struct vbi_vu_mem *m);

/* Dirty log of the session (SET_LOG_BASE), one bit per VB_VU_LOG_PAGE of guest memory. */
struct vbi_vu_log {
	void		*map;		/* mmap() result, NULL: no log */
	size_t		map_len;
	uint8_t		*bits;		/* the bitmap, at mmap_offset in the mapping */
	uint64_t	len;		/* bytes of the bitmap */
};

/* Map the log at d->mmap_offset of fd (not consumed) and replace the old one with it. The
 * bitmap must cover guest addresses below guest_end. On any error the old log stays.
 * Returns 0, -EINVAL (not a regular file, empty, wrapping, beyond the end of the file, too
 * small for guest_end), -ENOMEM (mmap failed). */
int vbi_vu_log_set(struct vbi_vu_log *l, const struct vb_vu_log *d, int fd,
		   uint64_t guest_end);
/* Unmap the log. */
void vbi_vu_log_clear(struct vbi_vu_log *l);
/* Mark the pages of guest range [gpa, gpa + len) dirty (atomically; pages the bitmap does
 * not cover are skipped). */
void vbi_vu_log_gpa(struct vbi_vu_log *l, uint64_t gpa, uint64_t len);
/* Mark the guest pages behind host range [p, p + len) of the memory table m. */
void vbi_vu_log_host(struct vbi_vu_log *l, const struct vbi_vu_mem *m, const void *p,
		     size_t len);

#endif
