/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: device-tree configuration (src/dt/dt.c) on untrusted blobs.
 *
 * Input: a flattened device tree blob, as is (seeds: fuzz/corpus/dt/, the dtc-compiled
 * .dts files of tests/unit/dt/). The target checks it (vb_dt_check), lists domains and virtio-mmio
 * devices below the root and below every domain, parses every node as a device, and writes
 * every device it read into a fresh tree and reads it back: it must come back the same.
 * Invariants: no crash or sanitizer report; find's count equals the number of nodes parse
 * accepts; an emitted device parses back equal.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "virtio-backend/dt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEVS 16

static void check_round_trip(const struct vb_dt_virtio_mmio *d)
{
	static uint8_t tree[8192];
	struct vb_dt_virtio_mmio back;
	int node;

	if (fdt_create_empty_tree(tree, sizeof(tree)) != 0 ||
	    fdt_setprop_u32(tree, 0, "#address-cells", 2) != 0 ||
	    fdt_setprop_u32(tree, 0, "#size-cells", 2) != 0)
		abort();
	/* No interrupt parent in this tree: the specifier is re-read as its raw cells. */
	node = vb_dt_virtio_mmio_emit(tree, 0, d, 0, (d->flags & VB_DT_F_GRANT_DMA) ? 1 : 0);
	if (node == -EINVAL || node == -ENOSPC)
		return;	/* a device this tree cannot express: refused, fine */
	if (node < 0)
		abort();
	if (d->flags & VB_DT_F_GRANT_DMA) {
		/* iommus points at phandle 1: give it a grant-dma node to resolve. */
		int g = fdt_add_subnode(tree, 0, "g");

		if (g < 0 || fdt_setprop_string(tree, g, "compatible", "xen,grant-dma") != 0 ||
		    fdt_setprop_u32(tree, g, "phandle", 1) != 0)
			return;
	}
	if (vb_dt_virtio_mmio_find(tree, 0, &back, 1) != 1)
		abort();
	if (back.base != d->base || back.size != d->size || back.flags != d->flags ||
	    back.n_irq_cells != d->n_irq_cells ||
	    memcmp(back.irq_cells, d->irq_cells, d->n_irq_cells * sizeof(uint32_t)) != 0 ||
	    strcmp(back.device, d->device) != 0 || strcmp(back.args, d->args) != 0 ||
	    ((d->flags & VB_DT_F_GRANT_DMA) && back.backend_domid != d->backend_domid))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vb_dt_virtio_mmio devs[MAX_DEVS];
	struct vb_dt_domain doms[4];
	void *fdt;
	int n, nd, node, depth = 0, parsed = 0, first_err = 0;

	/* libfdt wants the blob 8-byte aligned; libFuzzer's buffer need not be. */
	fdt = malloc(size ? size : 1);
	if (!fdt)
		return 0;
	memcpy(fdt, data, size);
	if (vb_dt_check(fdt, size) != 0)
		goto out;

	/* Every node, parsed on its own, against what find reports. */
	for (node = 0; node >= 0; node = fdt_next_node(fdt, node, &depth)) {
		struct vb_dt_virtio_mmio d;
		int ret;

		if (depth <= 0 && node != 0)
			break;
		if (node == 0)
			continue;
		ret = vb_dt_virtio_mmio_parse(fdt, node, &d);
		if (ret == 0)
			parsed++;
		else if (ret != -ENODEV && !first_err)
			first_err = ret;
		else if (ret != -ENODEV && ret != -EINVAL && ret != -ENAMETOOLONG)
			abort();
	}
	n = vb_dt_virtio_mmio_find(fdt, 0, devs, MAX_DEVS);
	if (first_err ? n != first_err : n != parsed)
		abort();
	for (int i = 0; i < n && i < MAX_DEVS; i++)
		check_round_trip(&devs[i]);

	nd = vb_dt_domains(fdt, doms, 4);
	for (int i = 0; i < nd && i < 4; i++)
		(void)vb_dt_virtio_mmio_find(fdt, doms[i].node, devs, MAX_DEVS);
out:
	free(fdt);
	return 0;
}
