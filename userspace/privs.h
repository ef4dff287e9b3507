/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPXE_PRIVS_H
#define XPXE_PRIVS_H

#include <stdbool.h>

/*
 * True when this process may load and attach XDP programs: CAP_NET_ADMIN and
 * CAP_BPF (or CAP_SYS_ADMIN, which kernels before 5.8 require instead).
 * On false, WHY names the missing capability.
 */
bool xpxe_have_bpf_privileges(const char **why);

#endif /* XPXE_PRIVS_H */
