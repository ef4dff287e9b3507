// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lab_vlan20: an access port of VLAN 20 (bpf/lab_vlan.h). */
#define VID 20
#include "lab_vlan.h"
