/* SPDX-License-Identifier: MIT */
/*
 * A small device model for the example: one queue; each request is a chain whose readable
 * part is a message of up to ECHO_MAX_LEN bytes and whose writable part receives the message
 * transformed (upper-cased and/or reversed, as the config space's mode says). The used
 * length is the message length; a message that is too long or does not fit the writable
 * part is answered with length 0.
 *
 * Config space (little-endian): le32 mode (ECHO_MODE_*, writable), le32 max_len (read-only).
 */
#ifndef EXAMPLE_ECHO_DEV_H
#define EXAMPLE_ECHO_DEV_H

#include <stdint.h>

#include "virtio-backend.h"

/* Not a device type of virtio 1.2, 5 "Device Types": private to this example. */
#define ECHO_DEVICE_ID	0xffffu
#define ECHO_MAX_LEN	256u
#define ECHO_MAX_IOV	8u
#define ECHO_QUEUE_MAX	64u

#define ECHO_MODE_UPPER		1u
#define ECHO_MODE_REVERSE	2u

#define ECHO_CFG_MODE		0u
#define ECHO_CFG_MAX_LEN	4u
#define ECHO_CFG_LEN		8u

struct echo_dev {
	uint32_t mode;
	/* What the device saw, for the example's summary. */
	uint32_t requests;	/* chains answered */
	uint32_t refused;	/* chains answered with length 0 */
	uint32_t scattered;	/* chains whose message or answer spanned several iovecs */
	uint32_t bytes;		/* message bytes handled */
	int	 last_error;	/* last error vb_vq_pop/push returned, 0 if none */
};

extern const struct vb_device_ops echo_ops;

/* The transformation, shared by the device and the driver's check. */
void echo_transform(uint8_t *buf, uint32_t len, uint32_t mode);

#endif
