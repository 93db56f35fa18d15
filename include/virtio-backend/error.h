/* SPDX-License-Identifier: MIT */
/**
 * @file error.h
 * @brief The library's error vocabulary.
 *
 * Every function returning int returns 0 (or a non-negative count) on success and a negative
 * errno value on failure. The codes and what they mean here:
 *
 * | code              | meaning                                                              |
 * |-------------------|----------------------------------------------------------------------|
 * | -EINVAL           | the caller passed a bad argument (API misuse)                        |
 * | -EFAULT           | a guest address is outside every region, or in one of the wrong direction |
 * | -EOVERFLOW        | guest address + length wraps 64 bits                                 |
 * | -ELOOP            | a descriptor chain is longer than its queue or indirect table (a loop) |
 * | -E2BIG            | a chain needs more iovecs than the caller gave, or exceeds 4 GiB      |
 * | -EPROTO           | the driver broke the ring or register protocol                       |
 * | -EBADMSG          | a device request header is malformed                                 |
 * | -ENOSPC           | no room (caller storage, used ring)                                  |
 * | -EAGAIN           | nothing to do now                                                    |
 * | -ENOTSUP          | feature not negotiated or not implemented                            |
 * | -EIO              | the host backend failed                                              |
 * | -ENOTRECOVERABLE  | the queue or device is broken and needs a reset                      |
 *
 * Values come from the platform's <errno.h> when it has one; a freestanding environment without
 * it gets Linux's values. The values never cross a wire.
 */
#ifndef VIRTIO_BACKEND_ERROR_H
#define VIRTIO_BACKEND_ERROR_H

#if defined(__has_include)
#if __has_include(<errno.h>)
#include <errno.h>
#endif
#endif

#ifndef EIO
#define EIO 5
#endif
#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef ENOSPC
#define ENOSPC 28
#endif
#ifndef ERANGE
#define ERANGE 34
#endif
#ifndef ELOOP
#define ELOOP 40
#endif
#ifndef EPROTO
#define EPROTO 71
#endif
#ifndef EBADMSG
#define EBADMSG 74
#endif
#ifndef EOVERFLOW
#define EOVERFLOW 75
#endif
#ifndef ENOTSUP
#define ENOTSUP 95
#endif
#ifndef ENOTRECOVERABLE
#define ENOTRECOVERABLE 131
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Name of an error code, for logs.
 * @param err  a negative (or positive) errno value, or 0.
 * @return a static string such as "EFAULT" or "OK"; "E?" for a code outside the vocabulary.
 * Context: any; freestanding (no strerror needed).
 */
const char *vb_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* VIRTIO_BACKEND_ERROR_H */
