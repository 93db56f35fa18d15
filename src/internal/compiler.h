/* SPDX-License-Identifier: MIT */
/* Compiler specifics, GCC/Clang. Another compiler gets its own branch here. */
#ifndef VB_INTERNAL_COMPILER_H
#define VB_INTERNAL_COMPILER_H

#if defined(__GNUC__) || defined(__clang__)
#define VB_LIKELY(x)		__builtin_expect(!!(x), 1)
#define VB_UNLIKELY(x)		__builtin_expect(!!(x), 0)
#define VB_COLD			__attribute__((cold, noinline))
#define VB_ALWAYS_INLINE	inline __attribute__((always_inline))
#define VB_NOINLINE		__attribute__((noinline))
#define VB_EXPORT		__attribute__((visibility("default")))
#else
#error "libvirtio-backend: add this compiler to src/internal/compiler.h"
#endif

/*
 * Inlining that buys speed with code size. Size-optimised builds (-Os, as on a Cortex-M)
 * leave the choice to the compiler, which then keeps one out-of-line copy; speed builds
 * force it, because the data path is measured in instructions per chain.
 */
#if defined(__OPTIMIZE_SIZE__)
#define VB_FAST_INLINE		inline
#define VB_FAST_NOINLINE
#else
#define VB_FAST_INLINE		VB_ALWAYS_INLINE
#define VB_FAST_NOINLINE	VB_NOINLINE
#endif
/* The reverse, for a static helper of several control-path callers: size-optimised builds
 * keep its one copy out of line (where -Os would inline it into each), speed builds let the
 * compiler choose. */
#if defined(__OPTIMIZE_SIZE__)
#define VB_SIZE_NOINLINE	VB_NOINLINE
#else
#define VB_SIZE_NOINLINE
#endif

#define VB_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#endif
