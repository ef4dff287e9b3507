// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: a UDP payload sent to port 69, through the daemon's request
 * parser and option negotiation (userspace/tftp/proto.c), exactly as long as
 * it came (ASan sees any read past it). An accepted request names an asset
 * that cannot climb out ('..'), with valid options; a refusal is an ERROR
 * that fits a packet; a negotiated plan stays within the asset layout's block
 * sizes and the reply size.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tftp/proto.h"

/* Independent of the parser: does a component of NAME, split on '/' or '\', equal ".."? */
static bool has_dotdot(const char *name)
{
	for (const char *c = name; *c;) {
		size_t n = strcspn(c, "/\\");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return true;
		c += n + (c[n] != '\0');
	}
	return false;
}

static void check_plan(const struct xpxe_tftp_request *req, uint64_t size, unsigned mtu)
{
	unsigned max = xpxe_tftp_blksize_for_mtu(mtu);
	/* Any window limit the daemon may be given (--tftp-windowsize-max 1..LIMIT). */
	unsigned window_max = 1 + mtu % XPXE_TFTP_WINDOWSIZE_LIMIT;
	struct xpxe_tftp_plan plan;

	xpxe_tftp_negotiate(req, size, max, window_max, &plan);
	FUZZ_ASSERT(max >= XPXE_TFTP_BLKSIZE_MIN && max <= XPXE_TFTP_BLKSIZE_MAX);
	FUZZ_ASSERT(plan.windowsize >= 1 && plan.windowsize <= window_max);
	bool asked = false;

	for (int i = 0; i < req->n_opts; i++)
		asked |= req->opt_order[i] == XPXE_TFTP_OPT_BLKSIZE;
	/* Negotiated: within the path and the layout; else RFC 1350's 512, whatever the MTU. */
	if (asked)
		FUZZ_ASSERT(plan.blksize >= XPXE_TFTP_BLKSIZE_MIN && plan.blksize <= max);
	else
		FUZZ_ASSERT(plan.blksize == XPXE_TFTP_BLKSIZE_DEFAULT);
	FUZZ_ASSERT(plan.oack_len <= XPXE_TFTP_REPLY_MAX);
	if (plan.oack_len) {
		/* OACK: opcode 6, then NUL-terminated name/value strings, an even number. */
		int strings = 0;

		FUZZ_ASSERT(plan.oack[0] == 0 && plan.oack[1] == XPXE_TFTP_OACK);
		FUZZ_ASSERT(plan.oack[plan.oack_len - 1] == '\0');
		for (size_t i = 2; i < plan.oack_len; i++)
			strings += plan.oack[i] == '\0';
		FUZZ_ASSERT(strings > 0 && strings % 2 == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1), pkt[XPXE_TFTP_REPLY_MAX];
	struct xpxe_tftp_request req;
	struct xpxe_tftp_refusal why;
	int ret;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ret = xpxe_tftp_parse_request(buf, size, &req, &why);
	if (ret == 0) {
		size_t n = strnlen(req.name, sizeof(req.name));

		FUZZ_ASSERT(req.opcode == XPXE_TFTP_RRQ);
		FUZZ_ASSERT(n > 0 && n <= XPXE_TFTP_NAME_MAX && req.name[0] != '/');
		FUZZ_ASSERT(!has_dotdot(req.name));
		FUZZ_ASSERT(req.n_opts >= 0 && req.n_opts <= XPXE_TFTP_OPT_MAX);
		for (int i = 0; i < req.n_opts; i++)
			FUZZ_ASSERT(req.opt_order[i] >= 0 && req.opt_order[i] < XPXE_TFTP_OPT_MAX);
		check_plan(&req, 0, 1500);
		check_plan(&req, 173792, 1500);
		check_plan(&req, 0xffffffffull, 9000);
		check_plan(&req, 1, 68);
	} else {
		size_t n;

		FUZZ_ASSERT(ret == -1);
		FUZZ_ASSERT(why.code >= -1 && why.code <= XPXE_TFTP_ERR_BAD_OPTION);
		FUZZ_ASSERT(memchr(why.message, '\0', sizeof(why.message)));
		if (why.code >= 0) {
			n = xpxe_tftp_error_packet(pkt, why.code, why.message);
			FUZZ_ASSERT(n >= 5 && n <= sizeof(pkt) && pkt[n - 1] == '\0');
			FUZZ_ASSERT(pkt[0] == 0 && pkt[1] == XPXE_TFTP_ERROR);
		}
	}
	free(buf);
	return 0;
}
