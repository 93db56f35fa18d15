/* SPDX-License-Identifier: MIT */
/*
 * vhost-user dirty logging for migration (QEMU docs/interop/vhost-user.rst "Migration"):
 * the demo-echo device behind vb_vu_run() on a server thread, driven by the driver-side
 * client with a memfd dirty bitmap (LOG_SHMFD, SET_LOG_BASE, VHOST_F_LOG_ALL, the
 * SET_VRING_ADDR log flag). The bitmap must show exactly the pages the device wrote.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
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
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-packed.h"
#include "vbt-vu-client.h"
#include "../../examples/demo-device.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		8u
#define BUF_LEN		64u
/* One bit per 4 KiB page from guest address 0 to the end of guest memory. */
#define LOG_PAGES	((GUEST_GPA + GUEST_SIZE) / VB_VU_LOG_PAGE)
#define LOG_BYTES	(LOG_PAGES / 8u)

#define FEATURES	(VB_BIT(VB_VIRTIO_F_VERSION_1) | VB_BIT(VB_VIRTIO_F_INDIRECT_DESC))
#define PROTOCOL	VB_VU_PROTOCOL_FEATURES_SUPPORTED

struct fix {
	struct vb_vu_server	*s;
	struct demo_device	model;
	pthread_t		th;
	volatile int		stop;
	char			dir[64];
	char			path[128];
	struct vbt_vu_client	c;
	uint64_t		req, resp;
	int			log_fd;
	uint8_t			*log;
};

static void *server_main(void *arg)
{
	struct fix *f = arg;

	(void)vb_vu_run(f->s, &f->stop);
	return NULL;
}

static void quiet_log(void *ctx, enum vb_log_level level, const char *msg)
{
	(void)ctx;
	if (getenv("VBT_VU_VERBOSE"))
		fprintf(stderr, "[server %d] %s\n", (int)level, msg);
}

/* Server variants (cmocka prestate): device ops and offered protocol features. */
struct variant {
	const struct vb_device_ops *ops;
	uint64_t protocol;
};

static struct vb_device_ops packed_ops;
static struct variant v_default = { &demo_device_ops, VB_VU_PROTOCOL_FEATURES_SUPPORTED };
static struct variant v_no_shmfd = {
	&demo_device_ops,
	VB_VU_PROTOCOL_FEATURES_SUPPORTED & ~VB_BIT(VB_VU_PROTOCOL_F_LOG_SHMFD),
};
static struct variant v_packed = { &packed_ops, VB_VU_PROTOCOL_FEATURES_SUPPORTED };

static int setup(void **state)
{
	const struct variant *var = *state ? *state : &v_default;
	struct fix *f = calloc(1, sizeof(*f));
	struct vb_vu_config cfg = {
		.version = VB_VU_CONFIG_V1,
		.protocol_features = var->protocol,
		.ops = var->ops,
		.log = quiet_log,
	};

	assert_non_null(f);
	demo_device_init(&f->model);
	cfg.priv = &f->model;
	assert_int_equal(vb_vu_server_new(&cfg, &f->s), 0);
	f->model.dev = vb_vu_dev(f->s);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vbt-vulog-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
	assert_int_equal(vb_vu_listen(f->s, f->path), 0);
	assert_int_equal(pthread_create(&f->th, NULL, server_main, f), 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	f->log_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	vbt_vu_client_fini(&f->c);
	f->stop = 1;
	pthread_join(f->th, NULL);
	vb_vu_server_free(f->s);
	if (f->log)
		munmap(f->log, LOG_BYTES);
	if (f->log_fd >= 0)
		close(f->log_fd);
	rmdir(f->dir);
	free(f);
	return 0;
}

static struct vb_vu_stats stats(struct fix *f)
{
	struct vb_vu_stats st;

	vb_vu_get_stats(f->s, &st);
	return st;
}

/* A memfd of file_len bytes, mapped here when it holds a whole log. */
static int new_log(struct fix *f, size_t file_len)
{
	int fd = memfd_create("vbt-vu-log", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)file_len), 0);
	if (file_len == LOG_BYTES) {
		if (f->log)
			munmap(f->log, LOG_BYTES);
		if (f->log_fd >= 0)
			close(f->log_fd);
		f->log = mmap(NULL, LOG_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		assert_true(f->log != MAP_FAILED);
		f->log_fd = fd;
	}
	return fd;
}

/* SET_LOG_BASE: 0 once the empty reply came, or the error vbt_vu_recv() saw. */
static int set_log_base(struct fix *f, int fd, uint64_t size, uint64_t offset)
{
	struct vb_vu_log d = { size, offset };
	uint8_t junk[16];
	int ret;

	ret = vbt_vu_send(&f->c, VB_VU_SET_LOG_BASE, VB_VU_VERSION, &d, sizeof(d), &fd, 1);
	if (ret < 0)
		return ret;
	return vbt_vu_recv(&f->c, VB_VU_SET_LOG_BASE, junk, sizeof(junk));
}

/* SET_VRING_ADDR again with the log flag (or without), as QEMU does at migration start. */
static int set_ring_log(struct fix *f, bool on)
{
	struct vbt_split *r = &f->c.vq[0].r;
	struct vb_vu_vring_addr a = {
		.index = 0,
		.flags = on ? VB_VU_VRING_F_LOG : 0,
		.desc_user_addr = vbt_vu_uva(&f->c, r->desc_gpa),
		.used_user_addr = vbt_vu_uva(&f->c, r->used_gpa),
		.avail_user_addr = vbt_vu_uva(&f->c, r->avail_gpa),
		.log_guest_addr = r->used_gpa,
	};

	return vbt_vu_request(&f->c, VB_VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
}

static void start_device(struct fix *f)
{
	assert_int_equal(vbt_vu_negotiate(&f->c, FEATURES, PROTOCOL, true), 0);
	assert_true(f->c.protocol & VB_BIT(VB_VU_PROTOCOL_F_LOG_SHMFD));
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	/* The response buffer straddles a page boundary: two pages to mark. */
	f->req = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	f->resp = (vbt_guest_alloc(&f->c.g, 2 * VB_VU_LOG_PAGE, VB_VU_LOG_PAGE) +
		   VB_VU_LOG_PAGE - 2);
}

/* One echo request; the answer is strlen(text) bytes at f->resp. */
static void round_trip(struct fix *f, const char *text)
{
	struct vbt_split *r = &f->c.vq[0].r;
	struct vbt_buf b[2] = {
		{ f->req, (uint32_t)strlen(text), false },
		{ f->resp, BUF_LEN, true },
	};
	uint32_t id, len;
	uint16_t head;

	memcpy(vbt_guest_ptr(&f->c.g, f->req), text, strlen(text));
	head = vbt_split_add(r, b, 2, false);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	for (int i = 0; i < 50 && vbt_split_used_idx(r) == r->last_used; i++)
		(void)vbt_vu_wait_call(&f->c, 0, 100);
	assert_int_equal(vbt_split_get_used(r, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, strlen(text));
}

static bool page_set(const struct fix *f, uint64_t page)
{
	return (f->log[page / 8] >> (page % 8)) & 1u;
}

static unsigned int count_set(const struct fix *f)
{
	unsigned int n = 0;

	for (uint64_t pg = 0; pg < LOG_PAGES; pg++)
		n += page_set(f, pg);
	return n;
}

/* @verify{VB-REQ-VU-400} @verify{VB-REQ-VU-401} @verify{VB-REQ-VU-402}
 * @verify{VB-REQ-VU-403} LOG_ALL is offered with LOG_SHMFD; with a log set, LOG_ALL and the
 * ring's log flag, a request marks exactly the pages of the bytes the device wrote into the
 * response buffer and of the used element and used index, nothing else; without the ring
 * flag only the data pages; with LOG_ALL cleared nothing; a new log replaces the old one */
static void test_vu_log__marks_written_pages(void **state)
{
	struct fix *f = *state;
	uint64_t v, used = f->c.vq[0].r.used_gpa;
	int fd;

	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &v), 0);
	assert_true(v & VB_BIT(VB_VU_F_LOG_ALL));
	start_device(f);
	used = f->c.vq[0].r.used_gpa;
	round_trip(f, "before");	/* no log yet: nothing to mark, nothing breaks */

	fd = new_log(f, LOG_BYTES);
	assert_int_equal(set_log_base(f, fd, LOG_BYTES, 0), 0);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					f->c.features | VB_BIT(VB_VU_F_LOG_ALL)), 0);
	assert_int_equal(set_ring_log(f, true), 0);
	assert_int_equal(count_set(f), 0);

	/* 6 bytes from 2 before a page end: both pages; used element 1 (slot 1) and idx. */
	round_trip(f, "during");
	assert_true(page_set(f, f->resp / VB_VU_LOG_PAGE));
	assert_true(page_set(f, (f->resp + 5) / VB_VU_LOG_PAGE));
	assert_true(page_set(f, (used + 4 + 8 * 1) / VB_VU_LOG_PAGE));
	assert_true(page_set(f, (used + 2) / VB_VU_LOG_PAGE));
	assert_int_equal(count_set(f), 2 + ((used + 4 + 8) / VB_VU_LOG_PAGE !=
					    (used + 2) / VB_VU_LOG_PAGE ? 2 : 1));

	/* Fewer bytes written: only the first page; without the ring flag, no ring page. */
	memset(f->log, 0, LOG_BYTES);
	assert_int_equal(set_ring_log(f, false), 0);
	round_trip(f, "x");
	assert_true(page_set(f, f->resp / VB_VU_LOG_PAGE));
	assert_int_equal(count_set(f), 1);

	/* A second log replaces the first: the old one sees no more marks. */
	memset(f->log, 0, LOG_BYTES);
	{
		uint8_t *old = f->log;
		int old_fd = f->log_fd;

		f->log = NULL;
		f->log_fd = -1;
		fd = new_log(f, LOG_BYTES);
		assert_int_equal(set_log_base(f, fd, LOG_BYTES, 0), 0);
		round_trip(f, "moved");
		assert_int_equal(count_set(f), 2);
		for (size_t i = 0; i < LOG_BYTES; i++)
			assert_int_equal(old[i], 0);
		munmap(old, LOG_BYTES);
		close(old_fd);
	}

	/* LOG_ALL cleared (migration over): nothing marked, requests still served. */
	memset(f->log, 0, LOG_BYTES);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES, f->c.features), 0);
	round_trip(f, "after");
	assert_int_equal(count_set(f), 0);
}

/* One hostile SET_LOG_BASE on a fresh session: the connection closes (its reply cannot say
 * no) and the next one is served. */
static void expect_log_refused(struct fix *f, int fd, uint64_t size, uint64_t offset)
{
	uint64_t refused = stats(f).refused;

	assert_int_equal(vbt_vu_negotiate(&f->c, FEATURES, PROTOCOL, true), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(set_log_base(f, fd, size, offset), -ECONNRESET);
	assert_true(stats(f).refused == refused + 1);
	vbt_vu_disconnect(&f->c);
	assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
}

/* @verify{VB-REQ-VU-401} SET_LOG_BASE is refused for a file shorter than offset + size, an
 * offset beyond the file, a log too small for the guest memory, an empty or wrapping log, an
 * fd that is not a regular file, or without LOG_SHMFD negotiated */
static void test_vu_log__hostile_log_base_refused(void **state)
{
	struct fix *f = *state;
	int short_fd = new_log(f, LOG_BYTES / 2);
	int ok_fd = new_log(f, LOG_BYTES);
	int efd = eventfd(0, EFD_CLOEXEC);

	expect_log_refused(f, short_fd, LOG_BYTES, 0);
	expect_log_refused(f, ok_fd, LOG_BYTES, 2 * LOG_BYTES);
	expect_log_refused(f, ok_fd, 4096, 8192);
	expect_log_refused(f, ok_fd, LOG_BYTES - 1, 0);
	expect_log_refused(f, ok_fd, 0, 0);
	expect_log_refused(f, ok_fd, UINT64_MAX, 4096);
	expect_log_refused(f, efd, LOG_BYTES, 0);
	/* LOG_SHMFD not negotiated. */
	{
		assert_int_equal(vbt_vu_negotiate(&f->c, FEATURES,
						  PROTOCOL & ~VB_BIT(VB_VU_PROTOCOL_F_LOG_SHMFD),
						  true), 0);
		assert_int_equal(set_log_base(f, ok_fd, LOG_BYTES, 0), -ECONNRESET);
		vbt_vu_disconnect(&f->c);
		assert_int_equal(vbt_vu_connect(&f->c, f->path), 0);
	}
	close(short_fd);
	close(efd);
	/* The next session logs. */
	start_device(f);
	assert_int_equal(set_log_base(f, ok_fd, LOG_BYTES, 0), 0);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					f->c.features | VB_BIT(VB_VU_F_LOG_ALL)), 0);
	round_trip(f, "fine");
	assert_int_equal(count_set(f), 2);
}

/* @verify{VB-REQ-VU-400} without LOG_SHMFD offered, LOG_ALL is neither offered nor
 * accepted */
static void test_vu_log__log_all_needs_shmfd(void **state)
{
	struct fix *f = *state;
	uint64_t v;

	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &v), 0);
	assert_false(v & VB_BIT(VB_VU_F_LOG_ALL));
	assert_int_equal(vbt_vu_negotiate(&f->c, FEATURES, PROTOCOL, true), 0);
	assert_false(f->c.protocol & VB_BIT(VB_VU_PROTOCOL_F_LOG_SHMFD));
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					f->c.features | VB_BIT(VB_VU_F_LOG_ALL)), -ENOTSUP);
}

/* @verify{VB-REQ-VU-400} @verify{VB-REQ-VU-404} with packed rings LOG_ALL is accepted; a
 * request marks exactly the pages of the bytes the device wrote into the response buffer and
 * of the used descriptor it wrote over the ring slot where the push began, with or without
 * the ring's log flag, across a wrap-around and for indirect chains; nothing once LOG_ALL is
 * cleared */
static void test_vu_log__packed_marks_written_pages(void **state)
{
	struct fix *f = *state;
	struct vbt_packed *pr = calloc(1, sizeof(*pr));
	const uint16_t num = 3;
	int fd;

	assert_non_null(pr);
	assert_int_equal(vbt_vu_negotiate(&f->c, FEATURES | VB_BIT(VB_VIRTIO_F_RING_PACKED),
					  PROTOCOL, true), 0);
	assert_true(f->c.features & VB_BIT(VB_VIRTIO_F_RING_PACKED));
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	vbt_packed_init(pr, &f->c.g, num);
	f->req = vbt_guest_alloc(&f->c.g, BUF_LEN, 8);
	/* The response across a page boundary, on pages of its own. */
	f->resp = vbt_guest_alloc(&f->c.g, 2 * VB_VU_LOG_PAGE, VB_VU_LOG_PAGE) +
		  VB_VU_LOG_PAGE - 2;
	assert_int_equal(vbt_vu_setup_vq_at(&f->c, 0, num, 1u << 15, pr->desc_gpa,
					    pr->driver_gpa, pr->device_gpa), 0);
	fd = new_log(f, LOG_BYTES);
	assert_int_equal(set_log_base(f, fd, LOG_BYTES, 0), 0);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES,
					f->c.features | VB_BIT(VB_VU_F_LOG_ALL)), 0);
	assert_int_equal(count_set(f), 0);
	for (unsigned int i = 0; i < 2u * num + 1u; i++) {
		struct vbt_buf b[2] = { { f->req, 6, false }, { f->resp, BUF_LEN, true } };
		uint16_t slot = pr->next_used, id;
		uint32_t len;
		int got = 0, ret;

		memset(f->log, 0, LOG_BYTES);
		memcpy(vbt_guest_ptr(&f->c.g, f->req), "packed", 6);
		ret = vbt_packed_add(pr, b, 2, i % 3 == 1);
		assert_true(ret >= 0);
		assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
		for (int w = 0; w < 50 && got == 0; w++) {
			(void)vbt_vu_wait_call(&f->c, 0, 100);
			got = vbt_packed_get_used(pr, &id, &len, NULL);
		}
		assert_int_equal(got, 1);
		assert_int_equal(id, ret);
		assert_int_equal(len, 6);
		assert_true(page_set(f, f->resp / VB_VU_LOG_PAGE));
		assert_true(page_set(f, (f->resp + 5) / VB_VU_LOG_PAGE));
		assert_true(page_set(f, (pr->desc_gpa + 16u * slot) / VB_VU_LOG_PAGE));
		assert_int_equal(count_set(f), 3);
	}
	/* LOG_ALL cleared: nothing marked, requests still served. */
	memset(f->log, 0, LOG_BYTES);
	assert_int_equal(vbt_vu_set_u64(&f->c, VB_VU_SET_FEATURES, f->c.features), 0);
	{
		struct vbt_buf b[2] = { { f->req, 6, false }, { f->resp, BUF_LEN, true } };
		int got = 0;

		assert_true(vbt_packed_add(pr, b, 2, false) >= 0);
		assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
		for (int w = 0; w < 50 && got == 0; w++) {
			(void)vbt_vu_wait_call(&f->c, 0, 100);
			got = vbt_packed_get_used(pr, NULL, NULL, NULL);
		}
		assert_int_equal(got, 1);
	}
	assert_int_equal(count_set(f), 0);
	free(pr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vu_log__marks_written_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_log__hostile_log_base_refused, setup,
						teardown),
		cmocka_unit_test_prestate_setup_teardown(test_vu_log__log_all_needs_shmfd, setup,
							 teardown, &v_no_shmfd),
		cmocka_unit_test_prestate_setup_teardown(test_vu_log__packed_marks_written_pages,
							 setup, teardown, &v_packed),
	};

	packed_ops = demo_device_ops;
	packed_ops.features |= VB_BIT(VB_VIRTIO_F_RING_PACKED);

	return cmocka_run_group_tests_name("vu-log", tests, NULL, NULL);
}
