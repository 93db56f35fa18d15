/* SPDX-License-Identifier: MIT */
/*
 * Device-tree configuration (src/dt/dt.c) on blobs compiled by dtc from tests/unit/dt/ (.dts sources):
 * what a Xen toolstack gives an Arm domU, a Lopper/dom0less system device tree, malformed
 * nodes; and the nodes we emit, round-tripped through dtc (dtb -> dts -> dtb) and parsed
 * back to the same devices.
 *
 * usage: test-dt DIR DTC   (DIR holds arm-domu.dtb, system.dtb, bad.dtb; DTC is dtc's path)
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libfdt.h>

#include "virtio-backend/dt.h"

static const char *dtb_dir;
static const char *dtc;

static void *load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf = malloc(1 << 20);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, 1 << 20, f);
	fclose(f);
	*len = n;
	return buf;
}

static void *load_dtb(const char *name, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dtb_dir, name);
	return load(path, len);
}

static int node(const void *fdt, const char *path)
{
	int off = fdt_path_offset(fdt, path);

	assert_true(off >= 0);
	return off;
}

/* @verify{VB-REQ-DT-001} */
static void test_dt__check_refuses_malformed_blobs(void **state)
{
	size_t len;
	uint8_t *fdt = load_dtb("arm-domu.dtb", &len);

	(void)state;
	assert_int_equal(vb_dt_check(fdt, len), 0);
	assert_int_equal(vb_dt_check(NULL, len), -EINVAL);
	assert_int_equal(vb_dt_check(fdt, 8), -EINVAL);
	/* Truncated: the header's totalsize is beyond the buffer. */
	assert_int_equal(vb_dt_check(fdt, len - 1), -EINVAL);
	/* A structure block offset pointing outside the blob. */
	fdt[11] ^= 0x40;
	assert_int_equal(vb_dt_check(fdt, len), -EINVAL);
	fdt[11] ^= 0x40;
	/* Format version 15: full-path node names, which libfdt 1.6.1 mishandles. */
	assert_int_equal(fdt[23], 17);
	fdt[23] = 15;
	assert_int_equal(vb_dt_check(fdt, len), -EINVAL);
	fdt[23] = 17;
	/* Bad magic. */
	fdt[0] ^= 1;
	assert_int_equal(vb_dt_check(fdt, len), -EINVAL);
	free(fdt);
}

/* @verify{VB-REQ-DT-002} */
static void test_dt__xen_arm_domu_devices(void **state)
{
	struct vb_dt_virtio_mmio dev[4];
	size_t len;
	void *fdt = load_dtb("arm-domu.dtb", &len);

	(void)state;
	assert_int_equal(vb_dt_check(fdt, len), 0);
	/* Three virtio,mmio nodes; the disabled one is not a device to serve. */
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, 0, dev, 4), 2);

	assert_string_equal(dev[0].name, "virtio@2000000");
	assert_int_equal(dev[0].base, 0x2000000);
	assert_int_equal(dev[0].size, 0x200);
	/* GIC SPI 1 is interrupt ID 33, what XEN_DMOP_set_irq_level takes on Arm. */
	assert_int_equal(dev[0].irq, 33);
	assert_int_equal(dev[0].n_irq_cells, 3);
	assert_int_equal(dev[0].irq_cells[2], 4);
	assert_int_equal(dev[0].flags, VB_DT_F_GRANT_DMA | VB_DT_F_DMA_COHERENT);
	assert_int_equal(dev[0].backend_domid, 0);
	assert_string_equal(dev[0].device, "blk");
	assert_string_equal(dev[0].args, "image=/srv/disk.img,read-only");

	assert_string_equal(dev[1].name, "virtio@2000200");
	assert_int_equal(dev[1].base, 0x2000200);
	assert_int_equal(dev[1].irq, 34);
	assert_int_equal(dev[1].flags, 0);
	assert_string_equal(dev[1].device, "");

	/* Counting without storage, and a short array: the count is still the total. */
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, 0, NULL, 0), 2);
	memset(dev, 0xa5, sizeof(dev));
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, 0, dev, 1), 2);
	assert_int_equal(dev[0].base, 0x2000000);
	assert_int_equal(dev[1].base, 0xa5a5a5a5a5a5a5a5ull);	/* untouched */

	/* The disabled node and a non-virtio node parse as "not a device". */
	assert_int_equal(vb_dt_virtio_mmio_parse(fdt, node(fdt, "/virtio@2000400"), dev), -ENODEV);
	assert_int_equal(vb_dt_virtio_mmio_parse(fdt, node(fdt, "/xen-grant-dma"), dev), -ENODEV);
	free(fdt);
}

/* @verify{VB-REQ-DT-004} */
static void test_dt__system_device_tree_domains(void **state)
{
	struct vb_dt_domain dom[4];
	struct vb_dt_virtio_mmio dev[2];
	size_t len;
	void *fdt = load_dtb("system.dtb", &len);

	(void)state;
	assert_int_equal(vb_dt_check(fdt, len), 0);
	assert_int_equal(vb_dt_domains(fdt, dom, 4), 3);
	assert_string_equal(dom[0].name, "linux1");
	assert_int_equal(dom[0].id, 1);
	assert_string_equal(dom[1].name, "rtos");
	assert_int_equal(dom[1].id, 2);
	assert_string_equal(dom[2].name, "domU1");
	assert_int_equal(dom[2].id, 7);

	/* A domain's devices are the nodes below it, in its own 1-cell addressing. */
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, dom[0].node, dev, 2), 1);
	assert_int_equal(dev[0].base, 0xa000000);
	assert_int_equal(dev[0].size, 0x200);
	assert_int_equal(dev[0].irq, 5);	/* a 1-cell specifier is the number itself */
	assert_string_equal(dev[0].device, "rng");
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, dom[1].node, dev, 2), 0);
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, dom[2].node, dev, 2), 1);
	assert_int_equal(dev[0].base, 0xb000000);
	assert_int_equal(dev[0].irq, 9);
	/* The whole tree holds both. */
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, 0, NULL, 0), 2);
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, -1, NULL, 0), -EINVAL);
	free(fdt);
}

/* @verify{VB-REQ-DT-003} */
static void test_dt__malformed_nodes_are_refused(void **state)
{
	static const char *const bad[] = {
		"/reg-short", "/reg-missing", "/reg-size-zero", "/reg-wraps", "/irq-short",
		"/irq-bad-type", "/iommus-dangling", "/iommus-too-many-cells", "/string-no-nul",
		"/parent-cells/child",
	};
	struct vb_dt_virtio_mmio dev;
	size_t len;
	void *fdt = load_dtb("bad.dtb", &len);

	(void)state;
	assert_int_equal(vb_dt_check(fdt, len), 0);	/* well-formed blob, bad bindings */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int ret = vb_dt_virtio_mmio_parse(fdt, node(fdt, bad[i]), &dev);

		if (ret != -EINVAL)
			fail_msg("%s: %d, expected -EINVAL", bad[i], ret);
	}
	/* find stops at the first malformed device rather than serving half a config. */
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, 0, NULL, 0), -EINVAL);
	free(fdt);
}

/* Build a blob with a root like arm-domu.dts (2 cells), a GIC and the given devices. */
static void *emit_tree(const struct vb_dt_virtio_mmio *devs, unsigned int n, size_t *len)
{
	size_t cap = 1 << 16;
	void *fdt = malloc(cap);
	uint32_t gic = 0x100, grant = 0;
	int gic_node;

	assert_non_null(fdt);
	assert_int_equal(fdt_create_empty_tree(fdt, (int)cap), 0);
	assert_int_equal(fdt_setprop_u32(fdt, 0, "#address-cells", 2), 0);
	assert_int_equal(fdt_setprop_u32(fdt, 0, "#size-cells", 2), 0);
	gic_node = fdt_add_subnode(fdt, 0, "interrupt-controller");
	assert_true(gic_node >= 0);
	assert_int_equal(fdt_setprop_u32(fdt, gic_node, "#interrupt-cells", 3), 0);
	assert_int_equal(fdt_setprop_u32(fdt, gic_node, "phandle", gic), 0);
	assert_int_equal(vb_dt_grant_dma_emit(fdt, 0, &grant), 0);
	assert_true(grant != 0 && grant != gic);
	assert_int_equal(vb_dt_grant_dma_emit(fdt, 0, &grant), -EEXIST);
	for (unsigned int i = 0; i < n; i++)
		assert_true(vb_dt_virtio_mmio_emit(fdt, 0, &devs[i], gic, grant) >= 0);
	assert_int_equal(fdt_pack(fdt), 0);
	*len = fdt_totalsize(fdt);
	return fdt;
}

static void assert_same_device(const struct vb_dt_virtio_mmio *a,
			       const struct vb_dt_virtio_mmio *b)
{
	assert_non_null(a);
	assert_int_equal(a->base, b->base);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->irq, b->irq);
	assert_int_equal(a->n_irq_cells, b->n_irq_cells);
	assert_memory_equal(a->irq_cells, b->irq_cells, a->n_irq_cells * 4);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->backend_domid, b->backend_domid);
	assert_string_equal(a->device, b->device);
	assert_string_equal(a->args, b->args);
}

static const struct vb_dt_virtio_mmio *by_base(const struct vb_dt_virtio_mmio *d, unsigned int n,
					       uint64_t base)
{
	for (unsigned int i = 0; i < n; i++)
		if (d[i].base == base)
			return &d[i];
	return NULL;
}

/* @verify{VB-REQ-DT-005} */
static void test_dt__emitted_nodes_round_trip_through_dtc(void **state)
{
	struct vb_dt_virtio_mmio in[2], out[3];
	char cmd[16384], dtb[4096], back[4096];
	size_t len, len2;
	void *fdt, *fdt2;
	FILE *f;

	(void)state;
	memset(in, 0, sizeof(in));
	in[0].base = 0x2000000;
	in[0].size = 0x200;
	in[0].irq_cells[0] = 0;
	in[0].irq_cells[1] = 1;
	in[0].irq_cells[2] = 4;
	in[0].n_irq_cells = 3;
	in[0].irq = 33;
	in[0].flags = VB_DT_F_GRANT_DMA | VB_DT_F_DMA_COHERENT;
	in[0].backend_domid = 3;
	strcpy(in[0].device, "blk");
	strcpy(in[0].args, "image=/x.img");
	in[1].base = 0x123456789000ull;	/* needs the upper cell */
	in[1].size = 0x1000;
	in[1].irq_cells[0] = 0;
	in[1].irq_cells[1] = 7;
	in[1].irq_cells[2] = 1;
	in[1].n_irq_cells = 3;
	in[1].irq = 39;

	fdt = emit_tree(in, 2, &len);
	assert_int_equal(vb_dt_check(fdt, len), 0);
	assert_int_equal(vb_dt_virtio_mmio_find(fdt, 0, out, 3), 2);
	/* libfdt adds a node before its siblings: find each by its address. */
	assert_same_device(by_base(out, 2, in[0].base), &in[0]);
	assert_same_device(by_base(out, 2, in[1].base), &in[1]);
	assert_string_equal(by_base(out, 2, in[1].base)->name, "virtio@123456789000");

	/* dtc decompiles what we wrote and compiles it again; the devices survive. */
	snprintf(dtb, sizeof(dtb), "%s/emitted.dtb", dtb_dir);
	snprintf(back, sizeof(back), "%s/emitted-back.dtb", dtb_dir);
	f = fopen(dtb, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(fdt, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "'%s' -q -I dtb -O dts '%s' | '%s' -q -I dts -O dtb -o '%s' -",
		 dtc, dtb, dtc, back);
	assert_int_equal(system(cmd), 0);
	fdt2 = load(back, &len2);
	assert_int_equal(vb_dt_check(fdt2, len2), 0);
	memset(out, 0, sizeof(out));
	assert_int_equal(vb_dt_virtio_mmio_find(fdt2, 0, out, 3), 2);
	assert_same_device(by_base(out, 2, in[0].base), &in[0]);
	assert_same_device(by_base(out, 2, in[1].base), &in[1]);
	free(fdt2);
	free(fdt);
}

/* @verify{VB-REQ-DT-005} */
static void test_dt__emit_refuses_what_it_cannot_write(void **state)
{
	struct vb_dt_virtio_mmio d;
	size_t cap = 4096;
	void *fdt = malloc(cap);
	int n;

	(void)state;
	assert_int_equal(fdt_create_empty_tree(fdt, (int)cap), 0);
	assert_int_equal(fdt_setprop_u32(fdt, 0, "#address-cells", 1), 0);
	assert_int_equal(fdt_setprop_u32(fdt, 0, "#size-cells", 1), 0);
	memset(&d, 0, sizeof(d));
	d.base = 0x1000;
	d.size = 0x200;
	d.n_irq_cells = 1;
	d.irq_cells[0] = 5;
	assert_true(vb_dt_virtio_mmio_emit(fdt, 0, &d, 0, 0) >= 0);
	assert_int_equal(vb_dt_virtio_mmio_emit(fdt, 0, &d, 0, 0), -EEXIST);
	d.base = 0x100000000ull;	/* does not fit 1 address cell */
	assert_int_equal(vb_dt_virtio_mmio_emit(fdt, 0, &d, 0, 0), -EINVAL);
	d.base = 0x2000;
	d.size = 0;
	assert_int_equal(vb_dt_virtio_mmio_emit(fdt, 0, &d, 0, 0), -EINVAL);
	d.size = 0x200;
	d.n_irq_cells = 0;
	assert_int_equal(vb_dt_virtio_mmio_emit(fdt, 0, &d, 0, 0), -EINVAL);
	d.n_irq_cells = 1;
	d.flags = VB_DT_F_GRANT_DMA;	/* without a grant-dma phandle */
	assert_int_equal(vb_dt_virtio_mmio_emit(fdt, 0, &d, 0, 0), -EINVAL);
	d.flags = 0;
	/* Fill the blob: the error is -ENOSPC, not a corrupt tree. */
	memset(d.args, 'a', sizeof(d.args) - 1);
	n = 0;
	for (uint64_t b = 0x10000; n >= 0; b += 0x1000) {
		d.base = b;
		n = vb_dt_virtio_mmio_emit(fdt, 0, &d, 0, 0);
	}
	assert_int_equal(n, -ENOSPC);
	assert_int_equal(fdt_check_full(fdt, cap), 0);
	free(fdt);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dt__check_refuses_malformed_blobs),
		cmocka_unit_test(test_dt__xen_arm_domu_devices),
		cmocka_unit_test(test_dt__system_device_tree_domains),
		cmocka_unit_test(test_dt__malformed_nodes_are_refused),
		cmocka_unit_test(test_dt__emitted_nodes_round_trip_through_dtc),
		cmocka_unit_test(test_dt__emit_refuses_what_it_cannot_write),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: test-dt DTB-DIR DTC\n");
		return 2;
	}
	dtb_dir = argv[1];
	dtc = argv[2];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
