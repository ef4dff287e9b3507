// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * tftp_reflect: the load generator's own ceiling. Attaches bpf/bench_reflect.bpf.c to the tc
 * ingress of IFNAME (run it in the server's namespace): a TFTP "server" that answers each ACK
 * with the next block at the least cost a BPF program can, with no state and one hot block of
 * bytes. tftp_load against it measures what the client, the veth pair and the kernel can carry on
 * this machine with the server's own work taken out: the ceiling each server's figure is read
 * against.
 *
 *   tftp_reflect -i IFNAME -o FILE [-s SIZE] [-b BLKSIZE] [-p PORT]
 *
 * Writes FILE (SIZE bytes, default 32 MiB: one random block of BLKSIZE bytes, default 1468,
 * repeated), the file every transfer of any name downloads, for tftp_load to compare with. Prints
 * "ready" once attached; on SIGINT or SIGTERM detaches and prints what it answered
 * (oacks=, blocks=, ends=, others=).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bench_reflect.skel.h"
#include "xpxe_tftp.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The one's complement sum of LEN bytes as big-endian 16-bit words, not folded below 32 bits. */
static uint32_t sum_be16(const uint8_t *p, size_t len)
{
	uint64_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s;
}

static int write_file(const char *path, const uint8_t *block, unsigned blksize, uint64_t size)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (uint64_t off = 0; off < size; off += blksize) {
		size_t n = size - off < blksize ? size - off : blksize;

		if (fwrite(block, 1, n, f) != n)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: tftp_reflect -i IFNAME -o FILE [-s SIZE] [-b BLKSIZE] [-p PORT]\n");
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *path = NULL;
	uint64_t size = 32u << 20;
	unsigned blksize = XPXE_TFTP_BLKSIZE_MAX, port = 40000;
	uint8_t block[XPXE_TFTP_BLKSIZE_MAX];
	struct bench_reflect_bpf *skel;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, tc_opts, .handle = 1, .priority = 1);
	uint32_t zero = 0;
	int c, fd, err, oack_len;
	bool created;
	char oack[64];
	sigset_t sigs, old;

	while ((c = getopt(argc, argv, "i:o:s:b:p:h")) != -1) {
		switch (c) {
		case 'i':
			ifname = optarg;
			break;
		case 'o':
			path = optarg;
			break;
		case 's':
			size = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			blksize = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			port = strtoul(optarg, NULL, 0);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!ifname || !path || blksize < 8 || blksize > XPXE_TFTP_BLKSIZE_MAX || !port ||
	    port > 65535 || size / blksize + 1 > 65535) {
		usage(stderr);
		fprintf(stderr,
			"tftp_reflect: BLKSIZE 8..%u, PORT 1..65535, at most 65534 blocks\n",
			XPXE_TFTP_BLKSIZE_MAX);
		return 2;
	}
	hook.ifindex = if_nametoindex(ifname);
	if (!hook.ifindex) {
		fprintf(stderr, "tftp_reflect: no interface %s here\n", ifname);
		return 1;
	}
	fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, block, blksize) != (ssize_t)blksize) {
		perror("tftp_reflect: /dev/urandom");
		return 1;
	}
	close(fd);
	if (write_file(path, block, blksize, size)) {
		fprintf(stderr, "tftp_reflect: writing %s: %s\n", path, strerror(errno));
		return 1;
	}

	skel = bench_reflect_bpf__open();
	if (!skel) {
		fprintf(stderr, "tftp_reflect: opening the program: %s\n", strerror(errno));
		return 1;
	}
	oack_len =
	    snprintf(oack, sizeof(oack), "%c%cblksize%c%u", 0, XPXE_TFTP_OACK, 0, blksize) + 1;
	memcpy((void *)skel->rodata->oack, oack, oack_len);
	skel->rodata->oack_len = oack_len;
	skel->rodata->oack_sum = sum_be16((const uint8_t *)oack, oack_len);
	skel->rodata->blksize = blksize;
	skel->rodata->nblocks = size / blksize + 1;
	skel->rodata->last_len = size % blksize;
	skel->rodata->full_sum = sum_be16(block, blksize);
	skel->rodata->last_sum = sum_be16(block, size % blksize);
	skel->rodata->data_port = htons(port);
	if ((err = bench_reflect_bpf__load(skel)) ||
	    (err = bpf_map_update_elem(bpf_map__fd(skel->maps.pattern), &zero, block, BPF_ANY))) {
		fprintf(stderr, "tftp_reflect: loading the program: %s\n", strerror(-err));
		return 1;
	}
	err = bpf_tc_hook_create(&hook);
	created = !err;
	if (err && err != -EEXIST) {
		fprintf(stderr, "tftp_reflect: clsact on %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	tc_opts.prog_fd = bpf_program__fd(skel->progs.tc_reflect);
	if ((err = bpf_tc_attach(&hook, &tc_opts))) {
		fprintf(stderr, "tftp_reflect: attaching to %s: %s\n", ifname, strerror(-err));
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, &old);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) /* blocked until sigsuspend, so a signal cannot slip in before the wait */
		sigsuspend(&old);
	tc_opts.flags = tc_opts.prog_fd = tc_opts.prog_id = 0;
	bpf_tc_detach(&hook, &tc_opts);
	if (created) { /* the clsact qdisc it made, so that the next run starts from none */
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	printf("oacks=%llu blocks=%llu ends=%llu others=%llu\n",
	       (unsigned long long)skel->bss->oacks, (unsigned long long)skel->bss->blocks,
	       (unsigned long long)skel->bss->ends, (unsigned long long)skel->bss->others);
	bench_reflect_bpf__destroy(skel);
	return 0;
}
