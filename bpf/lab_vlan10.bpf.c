// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lab_vlan10: an access port of VLAN 10 (bpf/lab_vlan.h). */
#define VID 10
#include "lab_vlan.h"
