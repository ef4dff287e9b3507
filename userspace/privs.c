// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privs.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool cap_effective(const struct __user_cap_data_struct data[2], int cap)
{
	return data[cap / 32].effective & (1u << (cap % 32));
}

bool xpxe_have_bpf_privileges(const char **why)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = { 0 };

	if (syscall(SYS_capget, &hdr, data)) {
		*why = "cannot read this process's capabilities";
		return false;
	}
	if (!cap_effective(data, CAP_NET_ADMIN)) {
		*why = "CAP_NET_ADMIN is missing";
		return false;
	}
	if (!cap_effective(data, CAP_BPF) && !cap_effective(data, CAP_SYS_ADMIN)) {
		*why = "CAP_BPF (or CAP_SYS_ADMIN) is missing";
		return false;
	}
	return true;
}
