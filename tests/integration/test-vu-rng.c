/* SPDX-License-Identifier: MIT */
/*
 * `vb-vhost-user rng` as a front-end sees it: the real daemon (path in argv[1] or
 * $VB_VHOST_USER) runs as a child on a temporary socket; the driver-side client of
 * tests/support/vbt-vu-client.c negotiates virtio-rng, lays out a split ring in shared memfd
 * memory, posts device-writable buffers and checks what arrives: random bytes from
 * getrandom(), the exact bytes of a --file, a --rate that holds, and a device-readable
 * buffer refused with used length 0. Set VBT_VU_VERBOSE=1 to see the daemon's log.
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
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-daemon.h"
#include "vbt-vu-client.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(2u << 20)
#define QSZ		16u
#define FILE_LEN	(64u << 10)
#define BUF_LEN		512u

static const char *daemon_path;

struct fix {
	struct vbt_daemon	d;
	char			file[128];
	struct vbt_vu_client	c;
	bool			client;
	uint64_t		buf[QSZ];	/* guest buffers, one per ring slot */
	uint8_t			data[FILE_LEN];
};

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 29u + (i >> 8) * 3u + 7u);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	assert_int_equal(vbt_daemon_init(&f->d, daemon_path, "vurng"), 0);
	vbt_daemon_file(&f->d, "entropy", f->file, sizeof(f->file));
	for (size_t i = 0; i < FILE_LEN; i++)
		f->data[i] = pattern(i);
	fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->data, FILE_LEN), (ssize_t)FILE_LEN);
	close(fd);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	int st;

	if (f->client)
		vbt_vu_client_fini(&f->c);
	st = vbt_daemon_end(&f->d);
	vbt_daemon_fini(&f->d);
	free(f);
	if (st != 0)
		fail_msg("daemon did not exit 0 on SIGTERM (status 0x%x)", st);
	return 0;
}

/* Start `vb-vhost-user rng --socket-path S` plus extra args, connect, set up the queue. */
static void start(struct fix *f, const char *const *extra)
{
	const char *args[16] = { "rng", "--socket-path", f->d.sock };
	unsigned int n = 3;

	while (extra && *extra && n < 15)
		args[n++] = *extra++;
	args[n] = NULL;
	assert_true(vbt_daemon_spawn(&f->d, args, -1) > 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	assert_int_equal(vbt_daemon_connect(&f->d, &f->c), 0);
	assert_int_equal(vbt_vu_negotiate(&f->c, VB_BIT(VB_VIRTIO_F_VERSION_1) |
					  VB_BIT(VB_VIRTIO_F_EVENT_IDX),
					  VB_VU_PROTOCOL_FEATURES_SUPPORTED, true), 0);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
	for (unsigned int i = 0; i < QSZ; i++)
		f->buf[i] = vbt_guest_alloc(&f->c.g, BUF_LEN, 64);
}

/* Post buffer slot i (len bytes, device-writable, 0xee-filled) and kick. */
static void post(struct fix *f, unsigned int i, uint32_t len)
{
	struct vbt_buf b = { f->buf[i], len, true };

	memset(vbt_guest_ptr(&f->c.g, f->buf[i]), 0xee, BUF_LEN);
	vbt_split_add(&f->c.vq[0].r, &b, 1, false);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
}

/* Wait (up to timeout_ms) for the next used element; 1 with id/len, 0 on timeout. */
static int wait_used(struct fix *f, uint32_t *id, uint32_t *len, int timeout_ms)
{
	struct vbt_split *r = &f->c.vq[0].r;

	for (int w = 0; w < timeout_ms / 20; w++) {
		if (vbt_split_get_used(r, id, len) == 1)
			return 1;
		(void)vbt_vu_wait_call(&f->c, 0, 20);
	}
	return vbt_split_get_used(r, id, len);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* @verify{VB-REQ-RNG-041} --print-capabilities prints {"type": "rng"} and exits 0, --help
 * names the rng options, bad options exit 2, a bad source or --period-ms alone exit 1 */
static void test_vu_rng__command_line(void **state)
{
	static const char *const caps[] = { "rng", "--print-capabilities", NULL };
	static const char *const help[] = { "rng", "--help", NULL };
	static const char *const usage[][6] = {
		{ "rng", "--rate", "0", "--socket-path", "/tmp/x", NULL },
		{ "rng", "--period-ms", "60001", "--socket-path", "/tmp/x", NULL },
		{ "rng", "--queue-size", "3", "--socket-path", "/tmp/x", NULL },
	};
	static const char *const fail[][6] = {
		{ "rng", "--file", "/nonexistent/entropy", "--socket-path", "/tmp/x", NULL },
		{ "rng", "--period-ms", "10", "--socket-path", "/tmp/x", NULL },
	};
	char out[4096];

	(void)state;
	assert_int_equal(vbt_daemon_run(daemon_path, caps, out, sizeof(out)), 0);
	assert_string_equal(out, "{\"type\": \"rng\"}\n");
	assert_int_equal(vbt_daemon_run(daemon_path, help, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--rate"));
	assert_non_null(strstr(out, "--file"));
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++)
		assert_int_equal(vbt_daemon_run(daemon_path, usage[i], NULL, 0), 2);
	for (size_t i = 0; i < sizeof(fail) / sizeof(fail[0]); i++)
		assert_int_equal(vbt_daemon_run(daemon_path, fail[i], NULL, 0), 1);
}

/* @verify{VB-REQ-RNG-040} @verify{VB-REQ-RNG-030} getrandom bytes fill every posted buffer,
 * used length = buffer length */
static void test_vu_rng__bytes_arrive(void **state)
{
	struct fix *f = *state;
	unsigned int ee = 0;
	uint32_t id, len;

	start(f, NULL);
	for (unsigned int i = 0; i < 8; i++)
		post(f, i, BUF_LEN);
	for (unsigned int i = 0; i < 8; i++) {
		if (wait_used(f, &id, &len, 10000) != 1) {
			vbt_daemon_dump_log(f->d.log);
			fail_msg("buffer %u not returned", i);
		}
		assert_int_equal(id, i);
		assert_int_equal(len, BUF_LEN);
		for (unsigned int j = 0; j < BUF_LEN; j++)
			ee += ((uint8_t *)vbt_guest_ptr(&f->c.g, f->buf[i]))[j] == 0xee;
	}
	/* 4096 random bytes: about 16 equal 0xee by chance; all of them cannot. */
	assert_true(ee < 200);
}

/* @verify{VB-REQ-RNG-040} @verify{VB-REQ-RNG-031} --file: the guest receives the file's
 * bytes exactly, in order, and the readable-buffer rule holds through the transport
 * @verify{VB-REQ-RNG-011} */
static void test_vu_rng__file_bytes_exact(void **state)
{
	const char *extra[] = { "--file", NULL, NULL };
	struct fix *f = *state;
	struct vbt_buf rw[2];
	size_t off = 0;
	uint32_t id, len;

	extra[1] = f->file;
	start(f, extra);
	for (unsigned int round = 0; round < 4; round++) {
		for (unsigned int i = 0; i < QSZ; i++)
			post(f, i, BUF_LEN - i);	/* odd lengths */
		for (unsigned int i = 0; i < QSZ; i++) {
			if (wait_used(f, &id, &len, 10000) != 1) {
				vbt_daemon_dump_log(f->d.log);
				fail_msg("buffer %u not returned", i);
			}
			assert_int_equal(id, i);
			assert_int_equal(len, BUF_LEN - i);
			assert_memory_equal(vbt_guest_ptr(&f->c.g, f->buf[i]), f->data + off, len);
			off += len;
		}
	}
	/* A chain with a device-readable buffer: used length 0, nothing consumed. */
	rw[0] = (struct vbt_buf){ f->buf[0], 16, false };
	rw[1] = (struct vbt_buf){ f->buf[1], 64, true };
	memset(vbt_guest_ptr(&f->c.g, f->buf[1]), 0xee, 64);
	vbt_split_add(&f->c.vq[0].r, rw, 2, false);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_int_equal(wait_used(f, &id, &len, 10000), 1);
	assert_int_equal(len, 0);
	assert_int_equal(((uint8_t *)vbt_guest_ptr(&f->c.g, f->buf[1]))[0], 0xee);
	post(f, 2, 100);
	assert_int_equal(wait_used(f, &id, &len, 10000), 1);
	assert_int_equal(len, 100);
	assert_memory_equal(vbt_guest_ptr(&f->c.g, f->buf[2]), f->data + off, 100);
}

/* @verify{VB-REQ-RNG-020} @verify{VB-REQ-RNG-021} @verify{VB-REQ-RNG-040} --rate holds
 * roughly: over about 1.5 s of a driver that always has buffers waiting, the bytes served
 * stay within the bucket plus rate * time, and reach at least half of rate * time (the
 * timerfd does wake the daemon) */
static void test_vu_rng__rate_limit(void **state)
{
	const char *extra[] = { "--rate", "8192", "--period-ms", "100", NULL };
	struct fix *f = *state;
	uint64_t t0, elapsed, total = 0;
	unsigned int next = 0;
	uint32_t id, len;

	start(f, extra);
	t0 = mono_ms();
	for (unsigned int i = 0; i < QSZ; i++)
		post(f, i, 256);
	while (mono_ms() - t0 < 1500) {
		if (wait_used(f, &id, &len, 200) != 1)
			continue;
		assert_int_equal(id, next);
		assert_int_equal(len, 256);
		total += len;
		post(f, next, 256);	/* keep the ring full */
		next = (next + 1) % QSZ;
	}
	elapsed = mono_ms() - t0;
	printf("rate 8192 B/s: %llu bytes in %llu ms (%.0f B/s)\n", (unsigned long long)total,
	       (unsigned long long)elapsed, (double)total * 1000.0 / (double)elapsed);
	/* Bucket 819 bytes + 8.192 bytes per ms, plus a 5% margin for clock granularity. */
	assert_true((double)total <= 819.0 + 8.192 * (double)elapsed * 1.05);
	assert_true((double)total >= 0.5 * 8.192 * (double)elapsed);
}

/* @verify{VB-REQ-RNG-021} A Linux-like driver under --rate: one 64-byte buffer at a time,
 * EVENT_IDX, a kick only when avail_event asks for one; every buffer comes back (the
 * daemon's timer, not a kick, resumes a throttled queue) */
static void test_vu_rng__rate_limit_single_buffer(void **state)
{
	const char *extra[] = { "--rate", "4096", "--period-ms", "50", NULL };
	struct fix *f = *state;
	struct vbt_split *r;
	uint64_t total = 0;
	uint32_t id, len;

	start(f, extra);
	r = &f->c.vq[0].r;
	vbt_split_set_used_event(r, 0);
	for (unsigned int i = 0; i < 40; i++) {
		uint16_t old = r->avail_idx;
		struct vbt_buf b = { f->buf[i % QSZ], 64, true };

		vbt_split_add(r, &b, 1, false);
		if (vbt_split_driver_would_kick(r, true, old, r->avail_idx))
			assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
		if (wait_used(f, &id, &len, 5000) != 1) {
			vbt_daemon_dump_log(f->d.log);
			fail_msg("buffer %u (after %llu bytes) not returned", i,
				 (unsigned long long)total);
		}
		assert_int_equal(len, 64);	/* whole buffers under the rate limit */
		total += len;
		vbt_split_set_used_event(r, r->last_used);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vu_rng__command_line),
		cmocka_unit_test_setup_teardown(test_vu_rng__bytes_arrive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_rng__file_bytes_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_rng__rate_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vu_rng__rate_limit_single_buffer, setup,
						teardown),
	};

	daemon_path = vbt_daemon_find(argc, argv);
	if (!daemon_path)
		return 77;
	return cmocka_run_group_tests_name("vu-rng", tests, NULL, NULL) ? 1 : 0;
}
