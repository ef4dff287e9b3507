// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lab_vlan11: an access port of VLAN 11 (bpf/lab_vlan.h). */
#define VID 11
#include "lab_vlan.h"
