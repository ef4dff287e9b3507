// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * What the two halves of the TFTP daemon both use: tftp.c (requests, transfers, the sweep)
 * and window.c (windows, AF_XDP) call these, and this file calls neither, so the two
 * depend on it and tftp.c on window.c, never the other way round.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <bpf/bpf.h>

#include "tftp/internal.h"

/* Adds N to a counter in memory only: per window, a syscall would cost more than the window. */
void tftp_tally(struct iface *ifc, enum xpxe_counter c, __u64 n)
{
	ifc->own[c] += n;
	ifc->own_dirty = true;
}

/* The interface served as IFINDEX, or NULL. */
struct iface *tftp_find_iface(struct xpxe_tftp *t, int ifindex)
{
	for (int i = 0; i < MAX_IFACES; i++)
		if (t->ifaces[i].used && t->ifaces[i].ifindex == ifindex)
			return &t->ifaces[i];
	return NULL;
}

/* "a.b.c.d:port", for log lines. */
void tftp_addr_str(char *buf, size_t len, __be32 ip, __be16 port)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ip, a, sizeof(a));
	snprintf(buf, len, "%s:%u", a, ntohs(port));
}

/* FD in the daemon's epoll set, TAG its tag (see xpxe_tftp_process). */
int tftp_watch(struct xpxe_tftp *t, int fd, void *tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = tag };

	return epoll_ctl(t->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

/* A counter of the programs': the sum of its per-CPU slots. */
__u64 tftp_program_counter(struct xpxe_tftp *t, struct iface *ifc, enum xpxe_counter c)
{
	__u64 values[t->ncpus], sum = 0;
	__u32 key = c;

	/* The kernel fills every CPU's value; valgrind believes only the first
	 * (tests/valgrind.supp). */
	memset(values, 0, sizeof(values));
	if (bpf_map_lookup_elem(ifc->counters_fd, &key, values))
		return 0;
	for (int i = 0; i < t->ncpus; i++)
		sum += values[i];
	return sum;
}
