/* SPDX-License-Identifier: MIT */
/**
 * @file endian.h
 * @brief Little-endian value types for guest-visible fields.
 *
 * Every field the driver and device share is little-endian (virtio 1.2, 1.4 "Structure
 * Specifications"). Wrapping each in a one-member struct makes using one as a plain integer a
 * compile error, so a missed conversion cannot slip through on a little-endian build.
 * These are the only inline functions in the public headers.
 */
#ifndef VIRTIO_BACKEND_ENDIAN_H
#define VIRTIO_BACKEND_ENDIAN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief A 16-bit little-endian guest field. */
typedef struct { uint16_t raw; } vb_le16;
/** @brief A 32-bit little-endian guest field. */
typedef struct { uint32_t raw; } vb_le32;
/** @brief A 64-bit little-endian guest field. */
typedef struct { uint64_t raw; } vb_le64;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define VB_HOST_BIG_ENDIAN 1
#else
#define VB_HOST_BIG_ENDIAN 0
#endif

/** @brief Convert a little-endian 16-bit guest field to host order. */
static inline uint16_t vb_le16_to_cpu(vb_le16 v)
{
#if VB_HOST_BIG_ENDIAN
	return (uint16_t)__builtin_bswap16(v.raw);
#else
	return v.raw;
#endif
}

/** @brief Convert a little-endian 32-bit guest field to host order. */
static inline uint32_t vb_le32_to_cpu(vb_le32 v)
{
#if VB_HOST_BIG_ENDIAN
	return __builtin_bswap32(v.raw);
#else
	return v.raw;
#endif
}

/** @brief Convert a little-endian 64-bit guest field to host order. */
static inline uint64_t vb_le64_to_cpu(vb_le64 v)
{
#if VB_HOST_BIG_ENDIAN
	return __builtin_bswap64(v.raw);
#else
	return v.raw;
#endif
}

/** @brief Convert a host 16-bit value to a little-endian guest field. */
static inline vb_le16 vb_cpu_to_le16(uint16_t x)
{
	vb_le16 v;
#if VB_HOST_BIG_ENDIAN
	v.raw = (uint16_t)__builtin_bswap16(x);
#else
	v.raw = x;
#endif
	return v;
}

/** @brief Convert a host 32-bit value to a little-endian guest field. */
static inline vb_le32 vb_cpu_to_le32(uint32_t x)
{
	vb_le32 v;
#if VB_HOST_BIG_ENDIAN
	v.raw = __builtin_bswap32(x);
#else
	v.raw = x;
#endif
	return v;
}

/** @brief Convert a host 64-bit value to a little-endian guest field. */
static inline vb_le64 vb_cpu_to_le64(uint64_t x)
{
	vb_le64 v;
#if VB_HOST_BIG_ENDIAN
	v.raw = __builtin_bswap64(x);
#else
	v.raw = x;
#endif
	return v;
}

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_ENDIAN_H */
