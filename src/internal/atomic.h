/* SPDX-License-Identifier: MIT */
/*
 * Ordered accesses to fields shared with the driver. GCC/Clang __atomic builtins work on plain
 * objects (C11 atomic_* would need _Atomic types in wire structs). Every call site says what
 * it pairs with.
 */
#ifndef VB_INTERNAL_ATOMIC_H
#define VB_INTERNAL_ATOMIC_H

#include <stdint.h>
#include "virtio-backend/endian.h"

static inline uint16_t vbi_load_acquire_le16(const vb_le16 *p)
{
	vb_le16 v = { __atomic_load_n(&p->raw, __ATOMIC_ACQUIRE) };
	return vb_le16_to_cpu(v);
}

static inline uint16_t vbi_load_relaxed_le16(const vb_le16 *p)
{
	vb_le16 v = { __atomic_load_n(&p->raw, __ATOMIC_RELAXED) };
	return vb_le16_to_cpu(v);
}

static inline void vbi_store_release_le16(vb_le16 *p, uint16_t x)
{
	__atomic_store_n(&p->raw, vb_cpu_to_le16(x).raw, __ATOMIC_RELEASE);
}

static inline void vbi_store_relaxed_le16(vb_le16 *p, uint16_t x)
{
	__atomic_store_n(&p->raw, vb_cpu_to_le16(x).raw, __ATOMIC_RELAXED);
}

/* Full barrier: orders our earlier stores before our later loads (store-load), which
 * acquire/release cannot. Used by the notification-suppression handshakes. */
static inline void vbi_fence_seq_cst(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

#endif

/*
 * Copy a 16-byte descriptor out of guest memory with word-sized single-copy loads, so the
 * compiler cannot fetch a field a second time from guest memory after it was checked
 * (Linux's READ_ONCE; "copy, check, then use"). Word size is uintptr_t, so 32-bit targets
 * need no 64-bit atomics from libatomic.
 */
typedef uintptr_t __attribute__((may_alias)) vbi_guest_word;

static inline void vbi_copy_desc_once(void *dst, const void *src)
{
	const vbi_guest_word *s = (const vbi_guest_word *)src;
	vbi_guest_word *d = (vbi_guest_word *)dst;

	for (unsigned int i = 0; i < 16 / sizeof(vbi_guest_word); i++)
		d[i] = __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}
