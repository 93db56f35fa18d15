/* SPDX-License-Identifier: MIT */
/*
 * The whole C library the freestanding core may use (scripts/freestanding compiles
 * src/core with -nostdinc against this header and the compiler's own stdint.h,
 * stddef.h and stdbool.h). Any other #include fails that build, which is the point.
 * A platform supplies these four functions (the compiler may also emit calls to them).
 */
#ifndef VB_CROSS_STRING_H
#define VB_CROSS_STRING_H

#include <stddef.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

#endif
