/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * tftp_sessions, an array by server port (include/xpxe_tftp.h), read and written as the
 * tests and benches knew it: a map of sessions by key. Their transfers' server ports are
 * 40000 and up, so the programs are loaded with that range's low port
 * (tftp_entry_open_and_load), as the daemon loads them with its --tftp-port-range.
 * Include after xpxe.skel.h.
 */
#ifndef XPXE_TESTS_TFTP_ENTRY_H
#define XPXE_TESTS_TFTP_ENTRY_H

#include <errno.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>

#include "xpxe_tftp.h"

#define TEST_TFTP_PORT_LOW 40000

/* Opens xpxe.bpf.o and loads it with tftp_port_low at TEST_TFTP_PORT_LOW; NULL on failure. */
static inline struct xpxe_bpf *tftp_entry_open_and_load(void)
{
	struct xpxe_bpf *skel = xpxe_bpf__open();

	if (!skel)
		return NULL;
	skel->rodata->tftp_port_low = TEST_TFTP_PORT_LOW;
	if (xpxe_bpf__load(skel)) {
		xpxe_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static inline int tftp_entry_index(const struct xpxe_tftp_key *key, __u32 *idx)
{
	int i = xpxe_tftp_port_index(ntohs(key->server_port), TEST_TFTP_PORT_LOW);

	if (i < 0) {
		errno = ERANGE;
		return -1;
	}
	*idx = (__u32)i;
	return 0;
}

/* As bpf_map_update_elem on a map by key: KEY and S into KEY's port's entry. */
static inline int tftp_entry_update(int fd, const struct xpxe_tftp_key *key,
				    const struct xpxe_tftp_session *s, __u64 flags)
{
	struct xpxe_tftp_entry e = { .key = *key, .s = *s };
	__u32 idx;

	return tftp_entry_index(key, &idx) ? -1 : bpf_map_update_elem(fd, &idx, &e, flags);
}

/* As bpf_map_lookup_elem: KEY's session, -1 (ENOENT) when its port's entry is not KEY's. */
static inline int tftp_entry_lookup(int fd, const struct xpxe_tftp_key *key,
				    struct xpxe_tftp_session *s)
{
	struct xpxe_tftp_entry e;
	__u32 idx;

	if (tftp_entry_index(key, &idx) || bpf_map_lookup_elem(fd, &idx, &e))
		return -1;
	if (memcmp(&e.key, key, sizeof(*key))) {
		errno = ENOENT;
		return -1;
	}
	*s = e.s;
	return 0;
}

#endif /* XPXE_TESTS_TFTP_ENTRY_H */
