// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lab_only4: IPv4 only on a tap (bpf/lab_family.h). */
#define ONLY_IPV4
#include "lab_family.h"
