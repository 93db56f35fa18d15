/* SPDX-License-Identifier: MIT */
/*
 * vhost-user message codec and validation (src/transports/vhost-user/msg.c) and the memory
 * table (mem.c), without a server: framing over a real socketpair with fds, every request's
 * size / fd / field checks, hostile tables against real memfds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "transports/vhost-user/vu-internal.h"
#include "vbt-vu-client.h"

struct fix {
	int			sv[2];	/* [0] back-end side, [1] front-end side */
	struct vbi_vu_rx	rx;
	struct vbt_vu_client	c;	/* only its send helper and socket are used */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->sv), 0);
	vbi_vu_rx_reset(&f->rx);
	f->c.sock = f->sv[1];
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbi_vu_msg_close_fds(&f->rx.msg);
	close(f->sv[0]);
	close(f->sv[1]);
	free(f);
	return 0;
}

static int count_open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

/* @verify{VB-REQ-VU-004} a message split into single bytes is reassembled whole */
static void test_vu_msg__recv_in_pieces(void **state)
{
	struct fix *f = *state;
	uint8_t wire[VB_VU_HDR_SIZE + 8];
	uint32_t req = VB_VU_SET_FEATURES, flags = VB_VU_VERSION, size = 8;
	uint64_t v = 0x123456789abcdef0u;

	memcpy(wire, &req, 4);
	memcpy(wire + 4, &flags, 4);
	memcpy(wire + 8, &size, 4);
	memcpy(wire + 12, &v, 8);
	for (size_t i = 0; i < sizeof(wire); i++) {
		assert_int_equal(vbi_vu_msg_recv(f->sv[0], &f->rx), 0);
		assert_int_equal(write(f->sv[1], wire + i, 1), 1);
	}
	assert_int_equal(vbi_vu_msg_recv(f->sv[0], &f->rx), 1);
	assert_int_equal(f->rx.msg.request, VB_VU_SET_FEATURES);
	assert_int_equal(f->rx.msg.size, 8);
	assert_true(f->rx.msg.payload.u64 == v);
	assert_int_equal(f->rx.msg.n_fds, 0);
}

/* @verify{VB-REQ-VU-004} file descriptors travel with their message */
static void test_vu_msg__recv_fds(void **state)
{
	struct fix *f = *state;
	int fds[2] = { eventfd(0, 0), eventfd(0, 0) };
	struct vb_vu_mem_table t;

	memset(&t, 0, sizeof(t));
	t.num_regions = 2;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_MEM_TABLE, VB_VU_VERSION, &t, 8 + 64, fds, 2),
			 0);
	assert_int_equal(vbi_vu_msg_recv(f->sv[0], &f->rx), 1);
	assert_int_equal(f->rx.msg.n_fds, 2);
	assert_int_equal(f->rx.msg.payload.table.num_regions, 2);
	vbi_vu_msg_close_fds(&f->rx.msg);
	assert_int_equal(f->rx.msg.n_fds, 0);
	close(fds[0]);
	close(fds[1]);
}

/* @verify{VB-REQ-VU-011} more fds than a message may carry break the framing, and every
 * received fd is closed */
static void test_vu_msg__too_many_fds(void **state)
{
	struct fix *f = *state;
	int fds[VB_VU_MAX_FDS + 1];
	int before, ret;

	for (unsigned int i = 0; i < VB_VU_MAX_FDS + 1; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_OWNER, VB_VU_VERSION, NULL, 0, fds,
				     VB_VU_MAX_FDS + 1), 0);
	for (unsigned int i = 0; i < VB_VU_MAX_FDS + 1; i++)
		close(fds[i]);
	before = count_open_fds();
	ret = vbi_vu_msg_recv(f->sv[0], &f->rx);
	assert_int_equal(ret, -EPROTO);
	vbi_vu_msg_close_fds(&f->rx.msg);
	assert_int_equal(count_open_fds(), before);
}

/* @verify{VB-REQ-VU-011} bad version, a reply flag, or an oversized payload break the
 * framing; end of stream is reported */
static void test_vu_msg__framing_errors(void **state)
{
	struct fix *f = *state;
	uint8_t big[VBI_VU_PAYLOAD_MAX + 1];

	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_OWNER, 0x2, NULL, 0, NULL, 0), 0);
	assert_int_equal(vbi_vu_msg_recv(f->sv[0], &f->rx), -EPROTO);
	vbi_vu_rx_reset(&f->rx);
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_OWNER, VB_VU_VERSION | VB_VU_FLAG_REPLY,
				     NULL, 0, NULL, 0), 0);
	assert_int_equal(vbi_vu_msg_recv(f->sv[0], &f->rx), -EPROTO);
	vbi_vu_rx_reset(&f->rx);
	memset(big, 0, sizeof(big));
	/* The client helper caps at 1024 bytes, so this goes out whole. */
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_SET_CONFIG, VB_VU_VERSION, big, sizeof(big),
				     NULL, 0), 0);
	assert_int_equal(vbi_vu_msg_recv(f->sv[0], &f->rx), -EPROTO);
	vbi_vu_rx_reset(&f->rx);
	close(f->sv[1]);
	f->sv[1] = socket(AF_UNIX, SOCK_STREAM, 0);	/* keep teardown's close valid */
	/* Drain what is left of the oversized message, then see the end. */
	for (int i = 0; i < 200; i++) {
		int ret = vbi_vu_msg_recv(f->sv[0], &f->rx);

		if (ret == -ECONNRESET)
			return;
		vbi_vu_rx_reset(&f->rx);
	}
	fail_msg("end of stream not reported");
}

/* A well-formed message of each request, then mutated copies. */
static struct vbi_vu_msg good(uint32_t req)
{
	struct vbi_vu_msg m;

	memset(&m, 0, sizeof(m));
	m.request = req;
	m.flags = VB_VU_VERSION;
	switch (req) {
	case VB_VU_SET_FEATURES:
	case VB_VU_SET_PROTOCOL_FEATURES:
	case VB_VU_SET_STATUS:
		m.size = 8;
		break;
	case VB_VU_SET_MEM_TABLE:
		m.size = 8 + 32;
		m.payload.table.num_regions = 1;
		m.payload.table.regions[0].size = 4096;
		m.n_fds = 1;
		break;
	case VB_VU_ADD_MEM_REG:
	case VB_VU_REM_MEM_REG:
		m.size = 40;
		m.payload.reg.region.size = 4096;
		m.n_fds = req == VB_VU_ADD_MEM_REG;
		break;
	case VB_VU_SET_VRING_NUM:
	case VB_VU_SET_VRING_BASE:
	case VB_VU_GET_VRING_BASE:
	case VB_VU_SET_VRING_ENABLE:
		m.size = 8;
		break;
	case VB_VU_SET_VRING_ADDR:
		m.size = 40;
		break;
	case VB_VU_SET_VRING_KICK:
	case VB_VU_SET_VRING_CALL:
	case VB_VU_SET_VRING_ERR:
		m.size = 8;
		m.n_fds = 1;
		break;
	case VB_VU_GET_CONFIG:
	case VB_VU_SET_CONFIG:
		m.size = 12 + 4;
		m.payload.config.size = 4;
		break;
	case VB_VU_GET_INFLIGHT_FD:
	case VB_VU_SET_INFLIGHT_FD:
		m.size = 24;
		m.n_fds = req == VB_VU_SET_INFLIGHT_FD;
		break;
	default:
		break;
	}
	for (unsigned int i = 0; i < m.n_fds; i++)
		m.fds[i] = 100 + (int)i;	/* never touched by the check */
	return m;
}

static const uint32_t all_requests[] = {
	VB_VU_GET_FEATURES, VB_VU_SET_FEATURES, VB_VU_SET_OWNER, VB_VU_RESET_OWNER,
	VB_VU_SET_MEM_TABLE, VB_VU_SET_VRING_NUM, VB_VU_SET_VRING_ADDR, VB_VU_SET_VRING_BASE,
	VB_VU_GET_VRING_BASE, VB_VU_SET_VRING_KICK, VB_VU_SET_VRING_CALL, VB_VU_SET_VRING_ERR,
	VB_VU_GET_PROTOCOL_FEATURES, VB_VU_SET_PROTOCOL_FEATURES, VB_VU_GET_QUEUE_NUM,
	VB_VU_SET_VRING_ENABLE, VB_VU_GET_CONFIG, VB_VU_SET_CONFIG, VB_VU_RESET_DEVICE,
	VB_VU_GET_MAX_MEM_SLOTS, VB_VU_ADD_MEM_REG, VB_VU_REM_MEM_REG, VB_VU_SET_STATUS,
	VB_VU_GET_STATUS, VB_VU_GET_INFLIGHT_FD, VB_VU_SET_INFLIGHT_FD,
};

static const struct vbi_vu_limits lim = { .num_queues = 2, .max_mem_slots = 32 };

/* @verify{VB-REQ-VU-004} every supported request passes in its well-formed shape, and fails
 * with a payload one byte off, or one fd more */
static void test_vu_msg__check_sizes_and_fds(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(all_requests) / sizeof(all_requests[0]); i++) {
		struct vbi_vu_msg m = good(all_requests[i]);

		assert_int_equal(vbi_vu_msg_check(&m, &lim), 0);
		m.size++;
		assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
		m = good(all_requests[i]);
		if (m.size) {
			m.size--;
			assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
		}
		m = good(all_requests[i]);
		m.n_fds++;
		if (all_requests[i] != VB_VU_REM_MEM_REG)
			assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	}
}

/* @verify{VB-REQ-VU-004} queue indices, kick flags, enable values, region ranges, table and
 * config sizes are checked against the payload */
static void test_vu_msg__check_fields(void **state)
{
	struct vbi_vu_msg m;

	(void)state;
	m = good(VB_VU_SET_VRING_NUM);
	m.payload.state.index = 2;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_GET_VRING_BASE);
	m.payload.state.index = 0xffffffffu;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_VRING_ADDR);
	m.payload.addr.index = 7;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_VRING_ADDR);
	m.payload.addr.flags = 2;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_VRING_ENABLE);
	m.payload.state.num = 2;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	/* kick: index out of range, undefined bits, "no fd" with an fd, and without one */
	m = good(VB_VU_SET_VRING_KICK);
	m.payload.u64 = 2;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_VRING_KICK);
	m.payload.u64 = 1u << 9;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_VRING_CALL);
	m.payload.u64 = VB_VU_VRING_NOFD;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m.n_fds = 0;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), 0);
	/* memory table: count vs size vs fds, too many regions, empty or wrapping regions */
	m = good(VB_VU_SET_MEM_TABLE);
	m.payload.table.num_regions = 2;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_MEM_TABLE);
	m.payload.table.num_regions = 9;
	m.size = 8 + 9 * 32;
	m.n_fds = 8;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_MEM_TABLE);
	m.payload.table.regions[0].size = 0;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_MEM_TABLE);
	m.payload.table.regions[0].guest_addr = UINT64_MAX - 100;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_MEM_TABLE);
	m.payload.table.regions[0].user_addr = UINT64_MAX - 100;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_ADD_MEM_REG);
	m.payload.reg.region.mmap_offset = UINT64_MAX;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	/* config: size field against message size, and its limit */
	m = good(VB_VU_GET_CONFIG);
	m.payload.config.size = 5;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m = good(VB_VU_SET_CONFIG);
	m.payload.config.size = VB_VU_CONFIG_MAX + 1;
	m.size = 12 + VB_VU_CONFIG_MAX + 1;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	/* status is one byte */
	m = good(VB_VU_SET_STATUS);
	m.payload.u64 = 0x100;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
}

/* @verify{VB-REQ-VU-500} SET_BACKEND_REQ_FD: exactly one fd, payload 0 or 8 bytes */
static void test_vu_msg__backend_req_fd(void **state)
{
	struct vbi_vu_msg m;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.request = VB_VU_SET_BACKEND_REQ_FD;
	m.flags = VB_VU_VERSION;
	m.n_fds = 1;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), 0);
	m.size = 8;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), 0);
	m.size = 4;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m.size = 0;
	m.n_fds = 0;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
	m.n_fds = 2;
	assert_int_equal(vbi_vu_msg_check(&m, &lim), -EINVAL);
}

/* @verify{VB-REQ-VU-004} requests outside this implementation are refused as unsupported */
static void test_vu_msg__unknown_requests(void **state)
{
	static const uint32_t unsupported[] = {
		0, VB_VU_IOTLB_MSG, VB_VU_SET_VRING_ENDIAN, VB_VU_VRING_KICK, 41, 0xffffffffu,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		struct vbi_vu_msg m;

		memset(&m, 0, sizeof(m));
		m.request = unsupported[i];
		assert_int_equal(vbi_vu_msg_check(&m, &lim), -ENOTSUP);
	}
	assert_string_equal(vbi_vu_msg_name(VB_VU_SET_MEM_TABLE), "SET_MEM_TABLE");
	assert_string_equal(vbi_vu_msg_name(0xffffffffu), "UNKNOWN");
	assert_true(vbi_vu_msg_has_reply(VB_VU_GET_VRING_BASE));
	assert_true(vbi_vu_msg_has_reply(VB_VU_GET_INFLIGHT_FD));
	assert_false(vbi_vu_msg_has_reply(VB_VU_SET_INFLIGHT_FD));
	assert_false(vbi_vu_msg_has_reply(VB_VU_SET_VRING_BASE));
}

/* @verify{VB-REQ-VU-013} a reply carries the request, version 1 and the reply flag */
static void test_vu_msg__reply_encoding(void **state)
{
	struct fix *f = *state;
	uint64_t v = 42, got = 0;

	f->c.timeout_ms = 1000;
	assert_int_equal(vbi_vu_msg_reply(f->sv[0], VB_VU_GET_FEATURES, &v, 8), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_FEATURES, &got, sizeof(got)), 8);
	assert_true(got == 42);
}

/* ---- memory table ---- */

static int memfd_of(size_t size)
{
	int fd = memfd_create(VBT_VU_MEMFD_NAME, MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static struct vb_vu_mem_region reg(uint64_t gpa, uint64_t size, uint64_t uva, uint64_t off)
{
	struct vb_vu_mem_region r = { gpa, size, uva, off };

	return r;
}

/* @verify{VB-REQ-VU-005} regions map with both bases; ring and buffer translation use the
 * right one; clearing unmaps */
static void test_vu_msg__mem_table_maps(void **state)
{
	struct vbi_vu_mem m;
	struct vb_vu_mem_region r[2] = {
		reg(0x0, 0x10000, 0x7f0000000000, 0),
		reg(0x100000, 0x8000, 0x7f0000100000, 0x10000 + 0x123),
	};
	int fds[2] = { memfd_of(0x20000), -1 };
	struct vb_iov iov;
	void *p;
	int maps0 = vbt_vu_count_guest_maps();

	(void)state;
	fds[1] = fds[0];
	vbi_vu_mem_init(&m, 0);
	assert_int_equal(vbi_vu_mem_set_table(&m, r, fds, 2), 0);
	assert_int_equal(m.mem.n_regions, 2);
	assert_int_equal(vbt_vu_count_guest_maps(), maps0 + 2);
	/* Buffers by guest address, rings by user address, same bytes. */
	assert_int_equal(vb_mem_map(&m.mem, 0x100010, 4, VB_DIR_DEV_WRITE, &iov, 1), 1);
	assert_int_equal(vb_mem_map_ring(&m.mem, 0x7f0000100010, 4, &p), 0);
	assert_ptr_equal(iov.base, p);
	memcpy(p, "abcd", 4);
	{
		char back[4];

		assert_int_equal(pread(fds[0], back, 4, 0x10000 + 0x123 + 0x10), 4);
		assert_memory_equal(back, "abcd", 4);
	}
	assert_int_equal(vb_mem_map_ring(&m.mem, 0x100010, 4, &p), -EFAULT);
	vbi_vu_mem_clear(&m);
	assert_int_equal(m.mem.n_regions, 0);
	assert_int_equal(vbt_vu_count_guest_maps(), maps0);
	close(fds[0]);
}

/* @verify{VB-REQ-VU-005} overlapping regions, a file shorter than the region, or a
 * non-regular fd are refused and the previous table stays */
static void test_vu_msg__mem_table_hostile(void **state)
{
	struct vbi_vu_mem m;
	struct vb_vu_mem_region ok = reg(0, 0x4000, 0x7f0000000000, 0);
	struct vb_vu_mem_region overlap[2] = {
		reg(0x10000, 0x4000, 0x7f0000010000, 0),
		reg(0x12000, 0x4000, 0x7f0000020000, 0),
	};
	struct vb_vu_mem_region uva_overlap[2] = {
		reg(0x10000, 0x4000, 0x7f0000010000, 0),
		reg(0x20000, 0x4000, 0x7f0000011000, 0),
	};
	struct vb_vu_mem_region too_big = reg(0, 0x10000, 0x7f0000000000, 0x1000);
	int fd = memfd_of(0x10000), efd = eventfd(0, EFD_CLOEXEC);
	int fds[2] = { fd, fd };
	int maps0 = vbt_vu_count_guest_maps();

	(void)state;
	vbi_vu_mem_init(&m, 0);
	assert_int_equal(vbi_vu_mem_set_table(&m, &ok, &fd, 1), 0);
	assert_int_equal(vbi_vu_mem_set_table(&m, overlap, fds, 2), -EINVAL);
	assert_int_equal(vbi_vu_mem_set_table(&m, uva_overlap, fds, 2), -EINVAL);
	assert_int_equal(vbi_vu_mem_set_table(&m, &too_big, &fd, 1), -EINVAL);
	assert_int_equal(vbi_vu_mem_set_table(&m, &ok, &efd, 1), -EINVAL);
	assert_int_equal(vbi_vu_mem_add(&m, &too_big, fd), -EINVAL);
	assert_int_equal(vbi_vu_mem_add(&m, &ok, fd), -EINVAL);	/* overlaps itself */
	/* Still exactly the first table, and no mapping leaked by the refusals. */
	assert_int_equal(m.n_maps, 1);
	assert_int_equal(m.mem.n_regions, 1);
	assert_true(m.mem.regions[0].guest_addr == 0 && m.mem.regions[0].size == 0x4000);
	assert_int_equal(vbt_vu_count_guest_maps(), maps0 + 1);
	vbi_vu_mem_clear(&m);
	assert_int_equal(vbt_vu_count_guest_maps(), maps0);
	close(fd);
	close(efd);
}

/* @verify{VB-REQ-VU-015} regions are added one by one up to the slot limit and removed by
 * guest address, user address and size */
static void test_vu_msg__mem_add_remove(void **state)
{
	struct vbi_vu_mem m;
	int fd = memfd_of(0x1000 * 9);
	struct vb_vu_mem_region r;

	(void)state;
	vbi_vu_mem_init(&m, 8);
	for (unsigned int i = 0; i < 8; i++) {
		r = reg(0x1000u * i, 0x1000, 0x7f0000000000 + 0x1000u * i, 0x1000u * i);
		assert_int_equal(vbi_vu_mem_add(&m, &r, fd), 0);
	}
	r = reg(0x1000u * 8, 0x1000, 0x7f0000008000, 0x8000);
	assert_int_equal(vbi_vu_mem_add(&m, &r, fd), -ENOSPC);
	r = reg(0x3000, 0x1000, 0x7f0000009999, 0);
	assert_int_equal(vbi_vu_mem_remove(&m, &r), -ENOENT);	/* user address differs */
	r = reg(0x3000, 0x1000, 0x7f0000003000, 0xdead);	/* mmap offset is ignored */
	assert_int_equal(vbi_vu_mem_remove(&m, &r), 0);
	assert_int_equal(m.n_maps, 7);
	assert_int_equal(m.mem.n_regions, 7);
	r = reg(0x1000u * 8, 0x1000, 0x7f0000008000, 0x8000);
	assert_int_equal(vbi_vu_mem_add(&m, &r, fd), 0);
	vbi_vu_mem_clear(&m);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vu_msg__recv_in_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_msg__recv_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_msg__too_many_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_msg__framing_errors, setup, teardown),
		cmocka_unit_test(test_vu_msg__check_sizes_and_fds),
		cmocka_unit_test(test_vu_msg__check_fields),
		cmocka_unit_test(test_vu_msg__unknown_requests),
		cmocka_unit_test(test_vu_msg__backend_req_fd),
		cmocka_unit_test_setup_teardown(test_vu_msg__reply_encoding, setup, teardown),
		cmocka_unit_test(test_vu_msg__mem_table_maps),
		cmocka_unit_test(test_vu_msg__mem_table_hostile),
		cmocka_unit_test(test_vu_msg__mem_add_remove),
	};

	return cmocka_run_group_tests_name("vu-msg", tests, NULL, NULL);
}
