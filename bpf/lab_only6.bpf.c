// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* lab_only6: IPv6 only on a tap (bpf/lab_family.h). */
#include "lab_family.h"
