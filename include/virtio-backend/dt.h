/* SPDX-License-Identifier: MIT */
/**
 * @file dt.h
 * @brief virtio-mmio devices in a (system) device tree: read them, and write them.   [users]
 *
 * A static partitioned system (Xen dom0less, a Lopper-style system device tree, an FF-A
 * partition layout) describes its domains and their virtio-mmio devices in a flattened
 * device tree. These calls, built on libfdt, give a back-end the devices it must serve and
 * give a toolstack or VMM the nodes it must hand a guest:
 *
 *     virtio@2000000 {
 *         compatible = "virtio,mmio";
 *         reg = <0x0 0x2000000 0x0 0x200>;
 *         interrupts = <0x0 0x1 0x4>;             // GIC SPI 1, level high: irq 33
 *         dma-coherent;
 *         iommus = <&xen_grant_dma 0x0>;          // grants; domain 0 is the back-end
 *         libvirtio-backend,device = "blk";      // optional: what serves it
 *         libvirtio-backend,args = "image=/srv/disk.img,read-only";
 *     };
 *     xen_grant_dma: xen-grant-dma { compatible = "xen,grant-dma"; #iommu-cells = <1>; };
 *
 * Domains are nodes compatible with "xen,domain" (Xen dom0less: /chosen/domU1 { ... }) or
 * "openamp,domain-v1" (Lopper system device trees: /domains/NAME { ... }); their id is the
 * "id" property (Lopper) or "xen,domid" (where a toolstack records it). A domain's devices
 * are the virtio,mmio nodes below its node.
 *
 * The blob is untrusted input in the sense that a malformed one is refused with an error
 * (fdt_check_full() first), never read out of bounds. Hosted code (libfdt); not part of the
 * freestanding core. All calls are reentrant and allocate nothing.
 */
#ifndef VIRTIO_BACKEND_DT_H
#define VIRTIO_BACKEND_DT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Device flag: "dma-coherent" is present. */
#define VB_DT_F_DMA_COHERENT	1u
/** @brief Device flag: "iommus" names a "xen,grant-dma" node: buffers are grant references. */
#define VB_DT_F_GRANT_DMA	2u

/** @brief Longest node name, property string kept (bytes, with the NUL). */
#define VB_DT_NAME_MAX		64u
/** @brief Longest "libvirtio-backend,args" string kept (bytes, with the NUL). */
#define VB_DT_ARGS_MAX		256u
/** @brief Most interrupt cells kept. */
#define VB_DT_IRQ_CELLS_MAX	4u

/** @brief One virtio-mmio device node. */
struct vb_dt_virtio_mmio {
	uint64_t base;			/**< first "reg" address */
	uint64_t size;			/**< first "reg" size */
	uint32_t irq;			/**< interrupt number as a hypervisor injects it: for a
					 *   3-cell GIC specifier SPI n is 32 + n, PPI n is 16 + n;
					 *   otherwise the first cell */
	uint32_t irq_cells[VB_DT_IRQ_CELLS_MAX];	/**< the specifier as written */
	uint32_t n_irq_cells;		/**< cells in irq_cells (0: no "interrupts") */
	uint32_t flags;			/**< VB_DT_F_* */
	uint32_t backend_domid;		/**< VB_DT_F_GRANT_DMA: the iommus cell, the domain that
					 *   serves the device */
	int	 node;			/**< offset of the node in the blob (parse only) */
	char	 name[VB_DT_NAME_MAX];	/**< node name, e.g. "virtio@2000000" (parse only) */
	char	 device[VB_DT_NAME_MAX];	/**< "libvirtio-backend,device", or "" */
	char	 args[VB_DT_ARGS_MAX];	/**< "libvirtio-backend,args", or "" */
};

/** @brief One domain node. */
struct vb_dt_domain {
	int	 node;			/**< offset of the node in the blob */
	uint32_t id;			/**< "id" or "xen,domid"; UINT32_MAX if neither */
	char	 name[VB_DT_NAME_MAX];	/**< node name, e.g. "domU1" */
};

/**
 * @brief Check that @p fdt is a well-formed blob of at most @p len bytes.
 * @return 0, or -EINVAL (NULL, too short, bad header, bad structure: fdt_check_full()).
 * Context: any. @satisfy{VB-REQ-DT-001}
 */
int vb_dt_check(const void *fdt, size_t len);

/**
 * @brief Read the virtio-mmio device at @p node.
 * @param fdt   a blob that passed vb_dt_check()
 * @param node  node offset
 * @param out   receives the device
 * @return 0; -ENODEV if the node is not compatible with "virtio,mmio" or has status other than
 *         "okay"/"ok"; -EINVAL for a missing or malformed "reg" (cells of the parent's
 *         #address-cells / #size-cells, 1 or 2 each), a size of 0, a range that wraps 64 bits,
 *         malformed "interrupts" / "iommus", or a string property without its NUL;
 *         -ENAMETOOLONG if a name or string does not fit.
 * Context: any. @satisfy{VB-REQ-DT-002} @satisfy{VB-REQ-DT-003}
 */
int vb_dt_virtio_mmio_parse(const void *fdt, int node, struct vb_dt_virtio_mmio *out);

/**
 * @brief Every virtio-mmio device below @p parent (0: the whole tree), in tree order.
 * @param out  storage for up to @p max devices (may be NULL when @p max is 0)
 * @return the number of devices found (which may exceed @p max: only the first @p max are
 *         written), or the first negative error of vb_dt_virtio_mmio_parse() (-ENODEV nodes,
 *         disabled ones, are skipped, not errors), or -EINVAL for a bad @p parent.
 * Context: any.
 */
int vb_dt_virtio_mmio_find(const void *fdt, int parent, struct vb_dt_virtio_mmio *out,
			   unsigned int max);

/**
 * @brief Every domain node ("xen,domain" or "openamp,domain-v1"), in tree order.
 * @return the number found (may exceed @p max), or -EINVAL / -ENAMETOOLONG.
 * Context: any. @satisfy{VB-REQ-DT-004}
 */
int vb_dt_domains(const void *fdt, struct vb_dt_domain *out, unsigned int max);

/**
 * @brief Add a "xen,grant-dma" node named "xen-grant-dma" under @p parent with a phandle.
 * @param fdt      a writable blob (fdt_open_into() with room to grow)
 * @param parent   parent node offset (0: root)
 * @param phandle  receives the node's phandle, for vb_dt_virtio_mmio_emit()
 * @return 0, -ENOSPC if the blob is full, -EEXIST if the node exists, -EINVAL otherwise.
 * Context: any. @satisfy{VB-REQ-DT-005}
 */
int vb_dt_grant_dma_emit(void *fdt, int parent, uint32_t *phandle);

/**
 * @brief Add the node a guest needs for device @p dev under @p parent: "virtio@BASE" with
 * compatible, reg (in the parent's #address-cells / #size-cells), interrupts (dev->irq_cells),
 * interrupt-parent (if @p irq_parent is not 0), dma-coherent, iommus (VB_DT_F_GRANT_DMA, with
 * @p grant_phandle and dev->backend_domid), and the libvirtio-backend strings if not empty.
 * libfdt adds a node before its existing siblings: emit in reverse for tree order.
 * @return the new node's offset (>= 0); -EINVAL for a bad device (size 0, no interrupt cells,
 *         a base or size that does not fit the parent's cells, grant DMA without a phandle);
 *         -EEXIST if a node of that name exists; -ENOSPC if the blob is full.
 * Context: any. @satisfy{VB-REQ-DT-005}
 */
int vb_dt_virtio_mmio_emit(void *fdt, int parent, const struct vb_dt_virtio_mmio *dev,
			   uint32_t irq_parent, uint32_t grant_phandle);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_DT_H */
