/* SPDX-License-Identifier: MIT */
/*
 * `vb-vhost-user console` as a front-end sees it (QEMU 7.2 has no vhost-user console
 * front-end): the real binary (path in argv[1]) serves one port on a unix socket; the
 * driver-side client of tests/support/vbt-vu-client.c negotiates MULTIPORT, does Linux's
 * control handshake over shared memfd memory, then a host client of the port's socket and
 * the guest's rings exchange bytes both ways.
 * Set VBT_VU_VERBOSE=1 to see the daemon's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "virtio-backend.h"
#include "virtio-backend/devices/console.h"
#include "virtio-backend/transports/vhost-user.h"
#include "vbt-daemon.h"
#include "vbt-vu-client.h"

#define GUEST_GPA	0x40000000u
#define GUEST_SIZE	(1u << 20)
#define QSZ		16u
#define CBUF		4096u

static const char *daemon_path;

struct fix {
	struct vbt_daemon	d;
	char			port[128];
	struct vbt_vu_client	c;
	bool			client;
	uint64_t		cbuf[QSZ];	/* control receive buffers by head */
	uint64_t		rbuf[QSZ];	/* port 0 receive buffers by head */
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(vbt_daemon_init(&f->d, daemon_path, "vucon"), 0);
	vbt_daemon_file(&f->d, "port0", f->port, sizeof(f->port));
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

/* Wait until queue q has a used element; 1 with id/len, or fail. */
static void wait_used(struct fix *f, uint16_t q, uint32_t *id, uint32_t *len)
{
	struct vbt_split *r = &f->c.vq[q].r;

	for (int w = 0; w < 100; w++) {
		if (vbt_split_get_used(r, id, len) == 1)
			return;
		(void)vbt_vu_wait_call(&f->c, q, 100);
	}
	vbt_daemon_dump_log(f->d.log);
	fail_msg("nothing used on queue %u", q);
}

static void send_ctrl(struct fix *f, uint32_t id, uint16_t event, uint16_t value)
{
	struct vb_virtio_console_control m = { vb_cpu_to_le32(id), vb_cpu_to_le16(event),
					       vb_cpu_to_le16(value) };
	uint64_t gpa = vbt_guest_alloc(&f->c.g, sizeof(m), 8);
	struct vbt_buf b = { gpa, sizeof(m), false };
	uint32_t uid, len;

	memcpy(vbt_guest_ptr(&f->c.g, gpa), &m, sizeof(m));
	vbt_split_add(&f->c.vq[3].r, &b, 1, false);
	assert_int_equal(vbt_vu_kick(&f->c, 3), 0);
	wait_used(f, 3, &uid, &len);
}

/* The next control message from the device (its buffer is re-posted). */
static void recv_ctrl(struct fix *f, uint32_t *id, uint16_t *event, uint16_t *value)
{
	struct vb_virtio_console_control m;
	struct vbt_buf b;
	uint32_t head, len;

	wait_used(f, 2, &head, &len);
	assert_true(len >= sizeof(m));
	memcpy(&m, vbt_guest_ptr(&f->c.g, f->cbuf[head]), sizeof(m));
	*id = vb_le32_to_cpu(m.id);
	*event = vb_le16_to_cpu(m.event);
	*value = vb_le16_to_cpu(m.value);
	b = (struct vbt_buf){ f->cbuf[head], CBUF, true };
	f->cbuf[vbt_split_add(&f->c.vq[2].r, &b, 1, false)] = b.gpa;
	assert_int_equal(vbt_vu_kick(&f->c, 2), 0);
}

static void expect_ctrl(struct fix *f, uint32_t id, uint16_t event, uint16_t value)
{
	uint32_t i;
	uint16_t e, v;

	recv_ctrl(f, &i, &e, &v);
	if (i != id || e != event || v != value) {
		vbt_daemon_dump_log(f->d.log);
		fail_msg("control message (%u, %u, %u), expected (%u, %u, %u)", i, e, v, id,
			 event, value);
	}
}

/* @verify{VB-REQ-CONSOLE-031} the daemon's unix-socket port: Linux's multiport handshake
 * over vhost-user, a host client connecting opens the port (PORT_OPEN to the driver), its
 * bytes land in the guest's receive queue and the guest's transmit buffers reach it */
static void test_vu_console__unix_port_both_ways(void **state)
{
	struct fix *f = *state;
	const char *args[] = { "console", "--socket-path", f->d.sock, "--port", NULL, "--cols",
			       "100", "--rows", "40", NULL };
	char spec[160];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vb_vu_config_space cs;
	struct vb_virtio_console_config cc;
	uint64_t offered, gpa;
	struct vbt_buf b;
	uint32_t head, len;
	char buf[64];
	int cl, r;

	snprintf(spec, sizeof(spec), "unix:%s,name=org.test.0", f->port);
	args[4] = spec;
	assert_true(vbt_daemon_spawn(&f->d, args, -1) > 0);
	assert_int_equal(vbt_vu_client_init(&f->c, GUEST_GPA, GUEST_SIZE), 0);
	f->client = true;
	assert_int_equal(vbt_daemon_connect(&f->d, &f->c), 0);
	assert_int_equal(vbt_vu_get_u64(&f->c, VB_VU_GET_FEATURES, &offered), 0);
	assert_true(offered & VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT));
	assert_true(offered & VB_BIT(VB_VIRTIO_CONSOLE_F_SIZE));
	assert_int_equal(vbt_vu_negotiate(&f->c, VB_BIT(VB_VIRTIO_F_VERSION_1) |
					  VB_BIT(VB_VIRTIO_CONSOLE_F_MULTIPORT) |
					  VB_BIT(VB_VIRTIO_CONSOLE_F_SIZE),
					  VB_VU_PROTOCOL_FEATURES_SUPPORTED, true), 0);
	memset(&cs, 0, sizeof(cs));
	cs.size = VB_VIRTIO_CONSOLE_CONFIG_LEN;
	assert_int_equal(vbt_vu_send(&f->c, VB_VU_GET_CONFIG, VB_VU_VERSION, &cs,
				     VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_CONSOLE_CONFIG_LEN, NULL, 0), 0);
	assert_int_equal(vbt_vu_recv(&f->c, VB_VU_GET_CONFIG, &cs, sizeof(cs)),
			 VB_VU_CONFIG_HDR_SIZE + VB_VIRTIO_CONSOLE_CONFIG_LEN);
	memcpy(&cc, cs.data, sizeof(cc));
	assert_int_equal(vb_le16_to_cpu(cc.cols), 100);
	assert_int_equal(vb_le16_to_cpu(cc.rows), 40);
	assert_int_equal(vb_le32_to_cpu(cc.max_nr_ports), 1);
	assert_int_equal(vbt_vu_set_mem_table(&f->c), 0);
	for (uint16_t q = 0; q < 4; q++)
		assert_int_equal(vbt_vu_setup_vq(&f->c, q, QSZ, 0), 0);

	/* virtcons_probe(): fill c_ivq, DEVICE_READY; PORT_ADD(0) comes back. */
	for (unsigned int i = 0; i < 4; i++) {
		b = (struct vbt_buf){ vbt_guest_alloc(&f->c.g, CBUF, 8), CBUF, true };
		f->cbuf[vbt_split_add(&f->c.vq[2].r, &b, 1, false)] = b.gpa;
	}
	assert_int_equal(vbt_vu_kick(&f->c, 2), 0);
	send_ctrl(f, 0xffffffffu, VB_VIRTIO_CONSOLE_DEVICE_READY, 1);
	expect_ctrl(f, 0, VB_VIRTIO_CONSOLE_DEVICE_ADD, 1);
	/* add_port(0): fill its receive queue, PORT_READY; CONSOLE_PORT and PORT_NAME. */
	for (unsigned int i = 0; i < 4; i++) {
		b = (struct vbt_buf){ vbt_guest_alloc(&f->c.g, 256, 8), 256, true };
		f->rbuf[vbt_split_add(&f->c.vq[0].r, &b, 1, false)] = b.gpa;
	}
	assert_int_equal(vbt_vu_kick(&f->c, 0), 0);
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_READY, 1);
	expect_ctrl(f, 0, VB_VIRTIO_CONSOLE_CONSOLE_PORT, 1);
	expect_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_NAME, 1);
	send_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);	/* hvc opened it */

	/* A host client connects: the driver hears PORT_OPEN(1). */
	memcpy(sa.sun_path, f->port, strlen(f->port) + 1);
	cl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(cl >= 0);
	assert_int_equal(connect(cl, (struct sockaddr *)&sa, sizeof(sa)), 0);
	expect_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_OPEN, 1);

	/* Host to guest. */
	assert_int_equal(write(cl, "ping from host", 14), 14);
	wait_used(f, 0, &head, &len);
	assert_int_equal(len, 14);
	assert_memory_equal(vbt_guest_ptr(&f->c.g, f->rbuf[head]), "ping from host", 14);

	/* Guest to host. */
	gpa = vbt_guest_alloc(&f->c.g, 15, 1);
	memcpy(vbt_guest_ptr(&f->c.g, gpa), "pong from guest", 15);
	b = (struct vbt_buf){ gpa, 15, false };
	vbt_split_add(&f->c.vq[1].r, &b, 1, false);
	assert_int_equal(vbt_vu_kick(&f->c, 1), 0);
	wait_used(f, 1, &head, &len);
	assert_int_equal(len, 0);
	{
		struct pollfd p = { cl, POLLIN, 0 };

		assert_int_equal(poll(&p, 1, 5000), 1);
	}
	r = (int)read(cl, buf, sizeof(buf));
	assert_int_equal(r, 15);
	assert_memory_equal(buf, "pong from guest", 15);

	/* The client leaves: PORT_OPEN(0). */
	close(cl);
	expect_ctrl(f, 0, VB_VIRTIO_CONSOLE_PORT_OPEN, 0);
}


/* @verify{VB-REQ-CONSOLE-031} the command line: usage errors exit 2, a device that cannot be set up exits 1
 * without leaving a socket, --print-capabilities prints the type and exits 0 */
static void test_vu_console__command_line(void **state)
{
	char out[256];

	(void)state;
	{
		const char *a[] = { "console", "--socket-path", "/tmp/vbt-none.sock", "--port", "tty", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 2);
	}
	{
		const char *a[] = { "console", "--socket-path", "/tmp/vbt-none.sock", "--port", "pty,label=x", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 2);
	}
	{
		const char *a[] = { "console", "--socket-path", "/tmp/vbt-none.sock", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 1);
	}
	{
		const char *a[] = { "console", "--socket-path", "/tmp/vbt-none.sock", "--port", "pty", "--port", "pty", "--no-multiport", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 1);
	}
	{
		const char *a[] = { "console", "--socket-path", "/tmp/vbt-none.sock", "--port", "unix:/nonexistent-dir/x", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 1);
	}
	{
		const char *a[] = { "console", "--print-capabilities", NULL };

		assert_int_equal(vbt_daemon_run(daemon_path, a, out, sizeof(out)), 0);
	}
	assert_non_null(strstr(out, "\"type\": \"console\""));
	assert_int_equal(access("/tmp/vbt-none.sock", F_OK), -1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_vu_console__unix_port_both_ways, setup,
						teardown),
		cmocka_unit_test(test_vu_console__command_line),
	};

	daemon_path = vbt_daemon_find(argc, argv);
	if (!daemon_path)
		return 77;
	return cmocka_run_group_tests_name("vu-console", tests, NULL, NULL);
}
