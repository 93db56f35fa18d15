/* SPDX-License-Identifier: MIT */
/* Logging from the core goes through the port's sink, compiled out with VB_CONFIG_LOG=0. */
#ifndef VB_INTERNAL_LOG_H
#define VB_INTERNAL_LOG_H

#include "config.h"
#include "virtio-backend/port.h"

#if VB_CONFIG_LOG
#define vbi_log(level, msg)	vb_port_log((level), (msg))
#else
#define vbi_log(level, msg)	((void)(level), (void)(msg))
#endif

#endif
