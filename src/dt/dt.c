/* SPDX-License-Identifier: MIT */
/*
 * virtio-mmio nodes of a (system) device tree, on libfdt (include/virtio-backend/dt.h).
 *
 * The bindings followed: Linux Documentation/devicetree/bindings/virtio/mmio.yaml
 * ("virtio,mmio": reg, interrupts, dma-coherent, iommus), Xen's xen,grant-dma binding
 * (Documentation/devicetree/bindings/iommu/xen,grant-dma.yaml: #iommu-cells = 1, the cell is
 * the back-end's domain id), the devicetree specification 0.4 for #address-cells,
 * #size-cells, interrupt-parent and #interrupt-cells, and the GIC binding for 3-cell
 * specifiers (type 0 SPI, 1 PPI; the number injected is 32 + SPI, 16 + PPI).
 */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <libfdt.h>

#include "internal/compiler.h"
#include "virtio-backend/dt.h"

#define COMPAT_VIRTIO_MMIO	"virtio,mmio"
#define COMPAT_GRANT_DMA	"xen,grant-dma"
#define PROP_DEVICE		"libvirtio-backend,device"
#define PROP_ARGS		"libvirtio-backend,args"

/* Deepest interrupt-parent chain followed: a loop in a hostile blob must end. */
#define MAX_DEPTH 64

/*
 * One walk over the tags that must move forward every step. libfdt 1.6.1 (Debian 12) lets a
 * hostile property length wrap the offset so that fdt_next_tag() does not advance, and its
 * fdt_check_full() then loops for ever (found by fuzz-dt); here the walk ends within
 * size_dt_struct / 4 steps because every accepted step moves forward inside the block.
 */
static int check_progress(const void *fdt)
{
	int offset = 0, next;
	uint32_t tag;

	do {
		tag = fdt_next_tag(fdt, offset, &next);
		if (next < 0 || next <= offset)
			return -EINVAL;
		offset = next;
	} while (tag != FDT_END);
	return 0;
}

VB_EXPORT int vb_dt_check(const void *fdt, size_t len)
{
	if (!fdt || len < sizeof(struct fdt_header) || len > INT_MAX)
		return -EINVAL;
	/*
	 * Versions before 16 store full paths as node names; for a root node name without a
	 * '/' libfdt 1.6.1 (Debian 12) fdt_get_name() returns NULL, which its fdt_check_full()
	 * then dereferences. dtc has written version 17 for many years: older ones are refused.
	 */
	if (fdt_check_header(fdt) != 0 || fdt_totalsize(fdt) > len || fdt_version(fdt) < 16 ||
	    check_progress(fdt) != 0)
		return -EINVAL;
	/* fdt_check_full() walks the whole structure block within len: afterwards every
	 * libfdt accessor stays inside the blob. */
	return fdt_check_full(fdt, len) == 0 ? 0 : -EINVAL;
}

/* Copy the string property @name of @node into @dst (size @cap): "" when absent. */
static int get_string(const void *fdt, int node, const char *name, char *dst, size_t cap)
{
	int len;
	const char *s = fdt_getprop(fdt, node, name, &len);

	dst[0] = '\0';
	if (!s)
		return 0;
	/* A string property holds its NUL; one without is malformed. */
	if (len < 1 || memchr(s, '\0', (size_t)len) == NULL)
		return -EINVAL;
	if (strlen(s) >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

static uint64_t read_cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

static bool enabled(const void *fdt, int node)
{
	int len;
	const char *s = fdt_getprop(fdt, node, "status", &len);

	/* devicetree spec 0.4, 2.3.4 "status": absent means "okay". */
	if (!s)
		return true;
	return len >= 3 && memchr(s, '\0', (size_t)len) &&
	       (!strcmp(s, "okay") || !strcmp(s, "ok"));
}

/* The node's interrupt parent: "interrupt-parent" of the node or its nearest ancestor. */
static int interrupt_parent(const void *fdt, int node)
{
	for (int depth = 0; node >= 0 && depth < MAX_DEPTH; depth++) {
		int len;
		const fdt32_t *ph = fdt_getprop(fdt, node, "interrupt-parent", &len);

		if (ph) {
			if (len != 4)
				return -FDT_ERR_BADVALUE;
			return fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(*ph));
		}
		node = fdt_parent_offset(fdt, node);
	}
	return -FDT_ERR_NOTFOUND;
}

static int parse_reg(const void *fdt, int node, struct vb_dt_virtio_mmio *out)
{
	int parent = fdt_parent_offset(fdt, node);
	int ac, sc, len;
	const fdt32_t *reg;

	if (parent < 0)
		return -EINVAL;	/* the root is no device */
	ac = fdt_address_cells(fdt, parent);
	sc = fdt_size_cells(fdt, parent);
	if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
		return -EINVAL;
	reg = fdt_getprop(fdt, node, "reg", &len);
	if (!reg || len < (ac + sc) * 4 || len % ((ac + sc) * 4))
		return -EINVAL;
	out->base = read_cells(reg, ac);
	out->size = read_cells(reg + ac, sc);
	if (out->size == 0 || out->base + out->size - 1 < out->base)
		return -EINVAL;
	return 0;
}

static int parse_interrupts(const void *fdt, int node, struct vb_dt_virtio_mmio *out)
{
	int len, ip, cells;
	const fdt32_t *irq = fdt_getprop(fdt, node, "interrupts", &len);

	out->n_irq_cells = 0;
	out->irq = 0;
	if (!irq)
		return 0;	/* polled device: the binding makes interrupts optional */
	if (len <= 0 || len % 4)
		return -EINVAL;
	cells = len / 4;
	ip = interrupt_parent(fdt, node);
	if (ip >= 0) {
		int clen;
		const fdt32_t *c = fdt_getprop(fdt, ip, "#interrupt-cells", &clen);

		if (c && clen == 4)
			cells = (int)fdt32_to_cpu(*c);
	}
	/* The first specifier is the device's interrupt. */
	if (cells < 1 || (unsigned int)cells > VB_DT_IRQ_CELLS_MAX || len < cells * 4)
		return -EINVAL;
	for (int i = 0; i < cells; i++)
		out->irq_cells[i] = fdt32_to_cpu(irq[i]);
	out->n_irq_cells = (uint32_t)cells;
	out->irq = out->irq_cells[0];
	if (cells == 3) {
		/* GIC: <type number flags>, type 0 SPI (IDs 32..), 1 PPI (IDs 16..31). */
		if (out->irq_cells[0] > 1 || out->irq_cells[1] > UINT32_MAX - 32)
			return -EINVAL;
		out->irq = out->irq_cells[1] + (out->irq_cells[0] == 0 ? 32u : 16u);
	}
	return 0;
}

static int parse_iommus(const void *fdt, int node, struct vb_dt_virtio_mmio *out)
{
	int len, target;
	const fdt32_t *p = fdt_getprop(fdt, node, "iommus", &len);

	if (!p)
		return 0;
	if (len < 4 || len % 4)
		return -EINVAL;
	target = fdt_node_offset_by_phandle(fdt, fdt32_to_cpu(p[0]));
	if (target < 0)
		return -EINVAL;
	/* Another IOMMU is not ours to interpret: no grants then. */
	if (fdt_node_check_compatible(fdt, target, COMPAT_GRANT_DMA) != 0)
		return 0;
	/* xen,grant-dma.yaml: #iommu-cells = 1, the back-end's domid. */
	if (len != 8)
		return -EINVAL;
	out->flags |= VB_DT_F_GRANT_DMA;
	out->backend_domid = fdt32_to_cpu(p[1]);
	return 0;
}

VB_EXPORT int vb_dt_virtio_mmio_parse(const void *fdt, int node, struct vb_dt_virtio_mmio *out)
{
	const char *name;
	int len, ret;

	if (!fdt || !out || node < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->node = node;
	if (fdt_node_check_compatible(fdt, node, COMPAT_VIRTIO_MMIO) != 0 || !enabled(fdt, node))
		return -ENODEV;
	name = fdt_get_name(fdt, node, &len);
	if (!name)
		return -EINVAL;
	if ((size_t)len >= sizeof(out->name))
		return -ENAMETOOLONG;
	memcpy(out->name, name, (size_t)len);
	out->name[len] = '\0';
	ret = parse_reg(fdt, node, out);
	if (ret == 0)
		ret = parse_interrupts(fdt, node, out);
	if (ret == 0)
		ret = parse_iommus(fdt, node, out);
	if (ret == 0 && fdt_getprop(fdt, node, "dma-coherent", NULL))
		out->flags |= VB_DT_F_DMA_COHERENT;
	if (ret == 0)
		ret = get_string(fdt, node, PROP_DEVICE, out->device, sizeof(out->device));
	if (ret == 0)
		ret = get_string(fdt, node, PROP_ARGS, out->args, sizeof(out->args));
	return ret;
}

/* Iterate the nodes strictly below @parent; calls @fn for each; stops on its error. */
static int walk(const void *fdt, int parent, int (*fn)(const void *fdt, int node, void *ctx),
		void *ctx)
{
	int depth = 0, node = parent, ret;

	if (!fdt || parent < 0)
		return -EINVAL;
	for (;;) {
		node = fdt_next_node(fdt, node, &depth);
		if (node < 0 || depth <= 0)
			return 0;	/* end of the tree, or left parent's subtree */
		ret = fn(fdt, node, ctx);
		if (ret < 0)
			return ret;
	}
}

struct find_ctx {
	struct vb_dt_virtio_mmio *out;
	unsigned int max, found;
};

static int find_one(const void *fdt, int node, void *ctx)
{
	struct find_ctx *c = ctx;
	struct vb_dt_virtio_mmio dev;
	int ret = vb_dt_virtio_mmio_parse(fdt, node, &dev);

	if (ret == -ENODEV)
		return 0;
	if (ret < 0)
		return ret;
	if (c->found < c->max)
		c->out[c->found] = dev;
	if (c->found == INT_MAX)
		return -EOVERFLOW;
	c->found++;
	return 0;
}

VB_EXPORT int vb_dt_virtio_mmio_find(const void *fdt, int parent, struct vb_dt_virtio_mmio *out,
				     unsigned int max)
{
	struct find_ctx c = { .out = out, .max = out ? max : 0 };
	int ret = walk(fdt, parent, find_one, &c);

	return ret < 0 ? ret : (int)c.found;
}

struct domain_ctx {
	struct vb_dt_domain *out;
	unsigned int max, found;
};

static int domain_one(const void *fdt, int node, void *ctx)
{
	struct domain_ctx *c = ctx;
	struct vb_dt_domain d;
	const fdt32_t *id;
	const char *name;
	int len;

	if (fdt_node_check_compatible(fdt, node, "xen,domain") != 0 &&
	    fdt_node_check_compatible(fdt, node, "openamp,domain-v1") != 0)
		return 0;
	memset(&d, 0, sizeof(d));
	d.node = node;
	name = fdt_get_name(fdt, node, &len);
	if (!name)
		return -EINVAL;
	if ((size_t)len >= sizeof(d.name))
		return -ENAMETOOLONG;
	memcpy(d.name, name, (size_t)len);
	d.id = UINT32_MAX;
	id = fdt_getprop(fdt, node, "id", &len);
	if (!id)
		id = fdt_getprop(fdt, node, "xen,domid", &len);
	if (id) {
		if (len != 4)
			return -EINVAL;
		d.id = fdt32_to_cpu(*id);
	}
	if (c->found < c->max)
		c->out[c->found] = d;
	if (c->found == INT_MAX)
		return -EOVERFLOW;
	c->found++;
	return 0;
}

VB_EXPORT int vb_dt_domains(const void *fdt, struct vb_dt_domain *out, unsigned int max)
{
	struct domain_ctx c = { .out = out, .max = out ? max : 0 };
	int ret = walk(fdt, 0, domain_one, &c);

	return ret < 0 ? ret : (int)c.found;
}

static int fdt_errno(int err)
{
	switch (err) {
	case -FDT_ERR_NOSPACE:
		return -ENOSPC;
	case -FDT_ERR_EXISTS:
		return -EEXIST;
	default:
		return -EINVAL;
	}
}

VB_EXPORT int vb_dt_grant_dma_emit(void *fdt, int parent, uint32_t *phandle)
{
	uint32_t ph;
	int node, ret;

	if (!fdt || !phandle || parent < 0)
		return -EINVAL;
	ret = fdt_generate_phandle(fdt, &ph);
	if (ret < 0)
		return fdt_errno(ret);
	node = fdt_add_subnode(fdt, parent, "xen-grant-dma");
	if (node < 0)
		return fdt_errno(node);
	ret = fdt_setprop_string(fdt, node, "compatible", COMPAT_GRANT_DMA);
	if (ret == 0)
		ret = fdt_setprop_u32(fdt, node, "#iommu-cells", 1);
	if (ret == 0)
		ret = fdt_setprop_u32(fdt, node, "phandle", ph);
	if (ret < 0)
		return fdt_errno(ret);
	*phandle = ph;
	return 0;
}

/* Set string property @name; @s is NUL-terminated within VB_DT_ARGS_MAX (checked). */
static int set_string(void *fdt, int node, const char *name, const char *s)
{
	return fdt_setprop(fdt, node, name, s, (int)strlen(s) + 1) < 0 ? -ENOSPC : 0;
}

/* Append @v as @n cells (1 or 2) to property @name; -EINVAL if it does not fit. */
static int append_cells(void *fdt, int node, const char *name, uint64_t v, int n)
{
	if (n == 1) {
		if (v > UINT32_MAX)
			return -EINVAL;
		return fdt_appendprop_u32(fdt, node, name, (uint32_t)v) < 0 ? -ENOSPC : 0;
	}
	return fdt_appendprop_u64(fdt, node, name, v) < 0 ? -ENOSPC : 0;
}

VB_EXPORT int vb_dt_virtio_mmio_emit(void *fdt, int parent, const struct vb_dt_virtio_mmio *dev,
				     uint32_t irq_parent, uint32_t grant_phandle)
{
	char name[VB_DT_NAME_MAX];
	int ac, sc, node, ret;

	if (!fdt || !dev || parent < 0 || dev->size == 0 ||
	    dev->base + dev->size - 1 < dev->base ||
	    dev->n_irq_cells == 0 || dev->n_irq_cells > VB_DT_IRQ_CELLS_MAX ||
	    ((dev->flags & VB_DT_F_GRANT_DMA) && grant_phandle == 0) ||
	    memchr(dev->device, '\0', sizeof(dev->device)) == NULL ||
	    memchr(dev->args, '\0', sizeof(dev->args)) == NULL)
		return -EINVAL;
	ac = fdt_address_cells(fdt, parent);
	sc = fdt_size_cells(fdt, parent);
	if (ac < 1 || ac > 2 || sc < 1 || sc > 2)
		return -EINVAL;
	if ((ac == 1 && dev->base > UINT32_MAX) || (sc == 1 && dev->size > UINT32_MAX))
		return -EINVAL;
	/* devicetree spec 0.4, 2.2.1: the unit address is the first reg address, in hex. */
	{
		static const char hex[] = "0123456789abcdef";
		char digits[17];
		int n = 0;
		uint64_t v = dev->base;

		do {
			digits[n++] = hex[v & 15];
			v >>= 4;
		} while (v);
		memcpy(name, "virtio@", 7);
		for (int i = 0; i < n; i++)
			name[7 + i] = digits[n - 1 - i];
		name[7 + n] = '\0';
	}
	node = fdt_add_subnode(fdt, parent, name);
	if (node < 0)
		return fdt_errno(node);
	ret = fdt_setprop_string(fdt, node, "compatible", COMPAT_VIRTIO_MMIO);
	if (ret < 0)
		return fdt_errno(ret);
	ret = append_cells(fdt, node, "reg", dev->base, ac);
	if (ret == 0)
		ret = append_cells(fdt, node, "reg", dev->size, sc);
	for (uint32_t i = 0; ret == 0 && i < dev->n_irq_cells; i++)
		ret = fdt_appendprop_u32(fdt, node, "interrupts", dev->irq_cells[i]) < 0 ?
		      -ENOSPC : 0;
	if (ret == 0 && irq_parent)
		ret = fdt_setprop_u32(fdt, node, "interrupt-parent", irq_parent) < 0 ? -ENOSPC : 0;
	if (ret == 0 && (dev->flags & VB_DT_F_DMA_COHERENT))
		ret = fdt_setprop_empty(fdt, node, "dma-coherent") < 0 ? -ENOSPC : 0;
	if (ret == 0 && (dev->flags & VB_DT_F_GRANT_DMA)) {
		ret = fdt_appendprop_u32(fdt, node, "iommus", grant_phandle);
		if (ret == 0)
			ret = fdt_appendprop_u32(fdt, node, "iommus", dev->backend_domid);
		ret = ret < 0 ? -ENOSPC : 0;
	}
	if (ret == 0 && dev->device[0])
		ret = set_string(fdt, node, PROP_DEVICE, dev->device);
	if (ret == 0 && dev->args[0])
		ret = set_string(fdt, node, PROP_ARGS, dev->args);
	return ret < 0 ? ret : node;
}
