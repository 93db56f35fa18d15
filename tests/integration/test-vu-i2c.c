/* SPDX-License-Identifier: MIT */
/*
 * `vb-vhost-user i2c` as a front-end sees it: the real daemon (path in argv[1] or
 * $VB_VHOST_USER) runs as a child on a temporary socket with a simulated EEPROM kept in a
 * temporary file; the driver-side client of tests/support/vbt-vu-client.c negotiates
 * virtio-i2c, lays out a split ring in shared memfd memory and sends requests laid out as
 * Linux's i2c-virtio lays them out; the test then reads the EEPROM file on the host. Set
 * VBT_VU_VERBOSE=1 to see the daemon's log.
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
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/i2c.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-daemon.h"
#include "vbt-vu-client.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(2u << 20)
#define QSZ		16u
#define EE		0x50u

static const char *daemon_path;

struct fix {
	struct vbt_daemon	d;
	char			file[128];
	struct vbt_vu_client	c;
	bool			client;
};

/* One request as the driver built it. */
struct rq {
	uint64_t	data;		/* device-writable data (reads) */
	uint64_t	st;		/* status byte */
	uint16_t	head;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vbt_daemon_init(&f->d, daemon_path, "vui2c"), 0);
	vbt_daemon_file(&f->d, "eeprom", f->file, sizeof(f->file));
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

/* Start `vb-vhost-user i2c --socket-path S --sim eeprom@0x50,file=F`, connect, set up the
 * queue with ZERO_LENGTH_REQUEST negotiated. */
static void start(struct fix *f)
{
	char sim[200];
	const char *args[] = { "i2c", "--socket-path", f->d.sock, "--sim", sim, "--sim",
			       "regs@32", NULL };

	snprintf(sim, sizeof(sim), "eeprom@0x%x,file=%s", EE, f->file);
	assert_true(vbt_daemon_spawn(&f->d, args, -1) > 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	assert_int_equal(vbt_daemon_connect(&f->d, &f->c), 0);
	assert_int_equal(vbt_vu_negotiate(&f->c, VB_BIT(VB_VIRTIO_F_VERSION_1) |
					  VB_BIT(VB_VIRTIO_F_EVENT_IDX) |
					  VB_BIT(VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST),
					  VB_VU_PROTOCOL_FEATURES_SUPPORTED, true), 0);
	assert_true(f->c.features & VB_BIT(VB_VIRTIO_I2C_F_ZERO_LENGTH_REQUEST));
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	assert_int_equal(vbt_vu_setup_vq(&f->c, 0, QSZ, 0), 0);
}

/* Queue one request (not kicked): header, out data, in data, status byte. */
static struct rq add(struct fix *f, uint16_t addr_field, uint32_t flags, const void *out,
		     uint32_t out_len, uint32_t in_len)
{
	struct vb_virtio_i2c_out_hdr h = { vb_cpu_to_le16(addr_field), vb_cpu_to_le16(0),
					   vb_cpu_to_le32(flags) };
	struct vbt_buf b[4];
	struct rq q = { 0, 0, 0 };
	unsigned int n = 0;
	uint64_t hg = vbt_guest_alloc(&f->c.g, sizeof(h), 8);

	memcpy(vbt_guest_ptr(&f->c.g, hg), &h, sizeof(h));
	b[n++] = (struct vbt_buf){ hg, sizeof(h), false };
	if (out_len) {
		uint64_t d = vbt_guest_alloc(&f->c.g, out_len, 8);

		memcpy(vbt_guest_ptr(&f->c.g, d), out, out_len);
		b[n++] = (struct vbt_buf){ d, out_len, false };
	}
	if (in_len) {
		q.data = vbt_guest_alloc(&f->c.g, in_len, 8);
		memset(vbt_guest_ptr(&f->c.g, q.data), 0xee, in_len);
		b[n++] = (struct vbt_buf){ q.data, in_len, true };
	}
	q.st = vbt_guest_alloc(&f->c.g, 1, 8);
	*(uint8_t *)vbt_guest_ptr(&f->c.g, q.st) = 0xee;
	b[n++] = (struct vbt_buf){ q.st, 1, true };
	q.head = vbt_split_add(&f->c.vq[0].r, b, n, false);
	return q;
}

/* Wait for the next used element; it must be q's. Returns its status byte. */
static int wait_done(struct fix *f, const struct rq *q, uint32_t *len_out)
{
	struct vbt_split *r = &f->c.vq[0].r;
	uint32_t id, len;

	for (int w = 0; w < 500; w++) {
		if (vbt_split_get_used(r, &id, &len) == 1) {
			assert_int_equal(id, q->head);
			if (len_out)
				*len_out = len;
			return *(uint8_t *)vbt_guest_ptr(&f->c.g, q->st);
		}
		(void)vbt_vu_wait_call(&f->c, 0, 20);
	}
	vbt_daemon_dump_log(f->d.log);
	fail_msg("request (head %u) not answered", q->head);
	return -1;
}

/* @verify{VB-REQ-I2C-040} --print-capabilities prints {"type": "i2c"}, --help names the i2c
 * options, malformed options exit 2, no bus or an absent adapter exit 1 */
static void test_vu_i2c__command_line(void **state)
{
	static const char *const caps[] = { "i2c", "--print-capabilities", NULL };
	static const char *const help[] = { "i2c", "--help", NULL };
	static const char *const usage[][6] = {
		{ "i2c", "--sim", "flash@0x50", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--sim", "regs@", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--sim", "eeprom@0x80", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--sim", "eeprom@0x50,size=3", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--queue-size", "3", "--socket-path", "/tmp/x", NULL },
	};
	static const char *const fail[][8] = {
		{ "i2c", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--device-list", "1023:32", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--device-list", "1:200", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--device-list", ",", "--socket-path", "/tmp/x", NULL },
		{ "i2c", "--sim", "eeprom@0x50", "--sim", "eeprom@80", "--socket-path", "/tmp/x",
		  NULL },
		{ "i2c", "--sim", "regs@0x50", "--sim", "eeprom@80", "--socket-path", "/tmp/x",
		  NULL },
	};
	char out[4096];

	(void)state;
	assert_int_equal(vbt_daemon_run(daemon_path, caps, out, sizeof(out)), 0);
	assert_string_equal(out, "{\"type\": \"i2c\"}\n");
	assert_int_equal(vbt_daemon_run(daemon_path, help, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "--device-list"));
	assert_non_null(strstr(out, "--sim"));
	for (size_t i = 0; i < sizeof(usage) / sizeof(usage[0]); i++)
		if (vbt_daemon_run(daemon_path, usage[i], NULL, 0) != 2)
			fail_msg("usage case %zu did not exit 2", i);
	for (size_t i = 0; i < sizeof(fail) / sizeof(fail[0]); i++)
		if (vbt_daemon_run(daemon_path, fail[i], NULL, 0) != 1)
			fail_msg("failure case %zu did not exit 1", i);
}

/* @verify{VB-REQ-I2C-040} @verify{VB-REQ-I2C-030} @verify{VB-REQ-I2C-013} through the
 * daemon: an i2cset-style write reaches the EEPROM file, an i2cget-style write-then-read
 * group reads it back, a quick command probes, an absent chip and a malformed request get
 * MSG_ERR */
static void test_vu_i2c__eeprom_through_daemon(void **state)
{
	struct fix *f = *state;
	const uint8_t wr[5] = { 0x40, 0xde, 0xad, 0xbe, 0xef }, off = 0x40;
	uint8_t file[256];
	struct rq w, a, r, z, n, m;
	uint32_t len;
	int fd;

	start(f);
	w = add(f, EE << 1, 0, wr, sizeof(wr), 0);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_int_equal(wait_done(f, &w, &len), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(len, 1);

	fd = open(f->file, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, file, sizeof(file), 0), 256);
	close(fd);
	assert_memory_equal(file + 0x40, wr + 1, 4);
	assert_int_equal(file[0x44], 0xff);

	a = add(f, EE << 1, VB_VIRTIO_I2C_FLAGS_FAIL_NEXT, &off, 1, 0);
	r = add(f, EE << 1, VB_VIRTIO_I2C_FLAGS_M_RD, NULL, 0, 4);
	z = add(f, EE << 1, 0, NULL, 0, 0);
	n = add(f, 0x51u << 1, VB_VIRTIO_I2C_FLAGS_M_RD, NULL, 0, 1);
	m = add(f, (EE << 1) | 1u, 0, wr, 2, 0);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_int_equal(wait_done(f, &a, NULL), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(wait_done(f, &r, &len), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(vbt_guest_ptr(&f->c.g, r.data), wr + 1, 4);
	assert_int_equal(wait_done(f, &z, NULL), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(wait_done(f, &n, NULL), VB_VIRTIO_I2C_MSG_ERR);
	assert_int_equal(wait_done(f, &m, NULL), VB_VIRTIO_I2C_MSG_ERR);

	/* The register file at 32 (0x20): written, then read back across its end. */
	w = add(f, 0x20u << 1, 0, (const uint8_t[]){ 0xff, 7, 8 }, 3, 0);
	a = add(f, 0x20u << 1, VB_VIRTIO_I2C_FLAGS_FAIL_NEXT, (const uint8_t[]){ 0xff }, 1, 0);
	r = add(f, 0x20u << 1, VB_VIRTIO_I2C_FLAGS_M_RD, NULL, 0, 3);
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	assert_int_equal(wait_done(f, &w, NULL), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(wait_done(f, &a, NULL), VB_VIRTIO_I2C_MSG_OK);
	assert_int_equal(wait_done(f, &r, NULL), VB_VIRTIO_I2C_MSG_OK);
	assert_memory_equal(vbt_guest_ptr(&f->c.g, r.data), ((const uint8_t[]){ 7, 8, 0 }), 3);
}

#define T(name) cmocka_unit_test_setup_teardown(test_vu_i2c__##name, setup, teardown)

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(command_line),
		T(eeprom_through_daemon),
	};

	daemon_path = vbt_daemon_find(argc, argv);
	if (!daemon_path)
		return 77;
	return cmocka_run_group_tests_name("vu-i2c", tests, NULL, NULL);
}
