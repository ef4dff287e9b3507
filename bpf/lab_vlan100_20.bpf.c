// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lab_vlan100_20: a double-tagged access port, 802.1ad 100 outside 802.1Q 20 (bpf/lab_vlan.h). */
#define OUTER 100
#define VID   20
#include "lab_vlan.h"
