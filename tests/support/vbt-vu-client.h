/* SPDX-License-Identifier: MIT */
/*
 * Driver-side vhost-user client (the front-end role of QEMU's docs/interop/vhost-user.rst) for
 * tests, fuzzers and benchmarks: connects to a back-end's unix socket, shares guest memory by
 * memfd, negotiates features, lays out split rings with vbt-split over that memory, kicks
 * through eventfds and waits on call eventfds. Raw send/receive helpers let tests play a
 * hostile front-end.
 *
 * Ring addresses are sent as "front-end user addresses" that differ from the guest physical
 * addresses (uva = VBT_VU_UVA_BASE + (gpa - guest base)), so a back-end that mixed up the two
 * address spaces fails visibly.
 */
#ifndef VBT_VU_CLIENT_H
#define VBT_VU_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio-backend/transports/vhost-user.h"
#include "vbt-mem.h"
#include "vbt-split.h"

#define VBT_VU_MAX_QUEUES	4u
#define VBT_VU_UVA_BASE		UINT64_C(0x7f1200000000)
/* Name of the guest memfd, as /proc/self/maps shows it ("/memfd:vbt-vu-guest"). */
#define VBT_VU_MEMFD_NAME	"vbt-vu-guest"

struct vbt_vu_vq {
	struct vbt_split	r;
	int			kick_fd;
	int			call_fd;
	bool			set;
};

struct vbt_vu_client {
	int			sock;
	int			memfd;
	struct vbt_guest	g;		/* over the memfd mapping */
	uint64_t		features;	/* as set with SET_FEATURES */
	uint64_t		protocol;	/* as set with SET_PROTOCOL_FEATURES */
	struct vbt_vu_vq	vq[VBT_VU_MAX_QUEUES];
	int			timeout_ms;	/* for replies and calls; default 5000 */
	int			backend_fd;	/* our end of SET_BACKEND_REQ_FD, or -1 */
};

/* Map mem_size bytes of memfd guest memory at guest address gpa (nothing sent yet). */
int vbt_vu_client_init(struct vbt_vu_client *c, uint64_t gpa, size_t mem_size);
/* Connect to the back-end at path (retrying for up to the timeout). 0 or -errno. */
int vbt_vu_connect(struct vbt_vu_client *c, const char *path);
/* Close the socket and every eventfd (the memory stays mapped). */
void vbt_vu_disconnect(struct vbt_vu_client *c);
/* Disconnect and unmap the guest memory. */
void vbt_vu_client_fini(struct vbt_vu_client *c);

/* Front-end user address of a guest address. */
uint64_t vbt_vu_uva(const struct vbt_vu_client *c, uint64_t gpa);

/* Raw: send one message (any header flags, any payload and fds). 0 or -errno. */
int vbt_vu_send(struct vbt_vu_client *c, uint32_t request, uint32_t flags, const void *payload,
		uint32_t size, const int *fds, unsigned int n_fds);
/* Raw: receive one reply; checks request and the reply flag. Returns the payload size,
 * -ETIMEDOUT, -ECONNRESET (the back-end closed), or -EPROTO (not a reply to request). */
int vbt_vu_recv(struct vbt_vu_client *c, uint32_t request, void *payload, uint32_t max);

/*
 * Send a message without a reply of its own; with REPLY_ACK negotiated, ask for the ack and
 * return 0 or minus the back-end's non-zero ack value; without it, return 0 once sent.
 */
int vbt_vu_request(struct vbt_vu_client *c, uint32_t request, const void *payload,
		   uint32_t size, const int *fds, unsigned int n_fds);
int vbt_vu_set_u64(struct vbt_vu_client *c, uint32_t request, uint64_t v);
/* Send a GET_* request with an empty payload and read its u64 reply. */
int vbt_vu_get_u64(struct vbt_vu_client *c, uint32_t request, uint64_t *v);
int vbt_vu_vring_state(struct vbt_vu_client *c, uint32_t request, uint32_t index,
		       uint32_t num);

/*
 * The usual start: GET_FEATURES, GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES (protocol &
 * offered), SET_OWNER, SET_FEATURES (features & offered, plus bit 30 when with_protocol).
 */
int vbt_vu_negotiate(struct vbt_vu_client *c, uint64_t features, uint64_t protocol,
		     bool with_protocol);
/* SET_MEM_TABLE with the whole memfd as one region. */
int vbt_vu_set_mem_table(struct vbt_vu_client *c);
/* Lay out a split ring of num entries in guest memory (once per queue) and send
 * SET_VRING_NUM/BASE(base)/ADDR, CALL (a new eventfd), KICK (a new eventfd) and, with
 * protocol features, SET_VRING_ENABLE(1). */
int vbt_vu_setup_vq(struct vbt_vu_client *c, uint16_t q, uint16_t num, uint16_t base);
/* Same for rings the caller laid out (a packed ring, say): guest addresses of the three
 * areas; base is sent as it is (packed: QEMU's encoding). */
int vbt_vu_setup_vq_at(struct vbt_vu_client *c, uint16_t q, uint16_t num, uint32_t base,
		       uint64_t desc_gpa, uint64_t driver_gpa, uint64_t device_gpa);
/* Kick queue q. */
int vbt_vu_kick(struct vbt_vu_client *c, uint16_t q);
/* Wait for a call on queue q: 0, or -ETIMEDOUT after timeout_ms. */
int vbt_vu_wait_call(struct vbt_vu_client *c, uint16_t q, int timeout_ms);
/* GET_VRING_BASE: the ring's position in *num. */
int vbt_vu_get_vring_base(struct vbt_vu_client *c, uint16_t q, uint32_t *num);

/* GET_INFLIGHT_FD for nq queues of qsz entries: the reply in *out, its fd in *fd (owned by
 * the caller). 0, -EPROTO (no fd or a short reply), or a transport error. */
int vbt_vu_get_inflight(struct vbt_vu_client *c, uint16_t nq, uint16_t qsz,
			struct vb_vu_inflight *out, int *fd);
/* SET_INFLIGHT_FD with the description and fd a GET_INFLIGHT_FD returned. */
int vbt_vu_set_inflight(struct vbt_vu_client *c, const struct vb_vu_inflight *in, int fd);

/* BACKEND_REQ: make a socket pair, pass one end with SET_BACKEND_REQ_FD (acked when
 * REPLY_ACK was negotiated) and keep the other in backend_fd. 0 or -errno. */
int vbt_vu_set_backend_req(struct vbt_vu_client *c);
/* Read one back-end request from backend_fd (its payload is discarded): 0 with *request and
 * *flags set, -ETIMEDOUT, -ECONNRESET, or -EPROTO (bad version, reply flag, or too big). */
int vbt_vu_backend_recv(struct vbt_vu_client *c, uint32_t *request, uint32_t *flags,
			int timeout_ms);
/* The same, keeping the payload (up to max bytes copied, its size in *size) and the fd that
 * came with it in *fd (owned by the caller; -1: none; more than one: the others closed). */
int vbt_vu_backend_recv_msg(struct vbt_vu_client *c, uint32_t *request, uint32_t *flags,
			    void *payload, uint32_t max, uint32_t *size, int *fd, int timeout_ms);
/* Answer a back-end request with a REPLY_ACK carrying v. 0 or -errno. */
int vbt_vu_backend_ack(struct vbt_vu_client *c, uint32_t request, uint64_t v);

/* Mappings of the guest memfd in this process (lines of /proc/self/maps naming it). */
int vbt_vu_count_guest_maps(void);

#endif
