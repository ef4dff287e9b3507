/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The control folder's interface: the `xpxe` CLI's commands and the daemon's control socket.
 * cli.h holds the command-line helpers shared by the commands, ctl.h the control socket's
 * client and server, watch.h `xpxe watch`, machines.h `xpxe machines` and its daemon side.
 */
#ifndef XPXE_CONTROL_H
#define XPXE_CONTROL_H

#include "control/cli.h"
#include "control/ctl.h"
#include "control/machines.h"
#include "control/watch.h"

#endif
