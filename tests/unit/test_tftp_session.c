// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The daemon and the programs share each running TFTP session (tftp_sessions):
 * XDP and tc update it in place, per ACK, while the daemon reads it. A daemon
 * that wrote the whole value back (lookup, change, update: two system calls)
 * would undo whatever a program wrote between the two: the client's ERROR, the
 * final ACK, a window. Here the real daemon code sends a window through the
 * transfer's UDP socket (tftp_window_over_udp) while, right after its lookup,
 * "a program" records the client's ERROR in the session: that ERROR must still
 * be there afterwards, and the window tc recorded must have gone out.
 *
 * The session map is a value in this file: bpf_map_lookup_elem and
 * bpf_map_update_elem are wrapped (-Wl,--wrap, see the Makefile) for its fd (the
 * entry of the transfer's port, include/xpxe_tftp.h: key and session), and so is
 * the asset store's xpxe_assets_chunks, for one chunk made here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <bpf/bpf.h>

#include "tftp/internal.h"

#define SESSIONS_FD 1000000 /* no real descriptor is this large */
#define BLKSIZE	    512

static struct xpxe_tftp_session stored; /* the map's one value: the session */
static struct xpxe_tftp_key stored_key; /* ... and its transfer */
static bool stored_present;
static int lookups, updates;
/* What "a program" does to the session right after the daemon's lookup returned. */
static void (*after_lookup)(struct xpxe_tftp_session *s);

int __real_bpf_map_lookup_elem(int fd, const void *key, void *value);
int __real_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags);
const struct xpxe_tftp_chunk *__real_xpxe_assets_chunks(struct xpxe_assets *a, uint32_t slot,
							uint32_t *n_chunks);

int __wrap_bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	if (fd != SESSIONS_FD)
		return __real_bpf_map_lookup_elem(fd, key, value);
	lookups++;
	if (!stored_present) {
		errno = ENOENT;
		return -1;
	}
	((struct xpxe_tftp_entry *)value)->key = stored_key;
	((struct xpxe_tftp_entry *)value)->s = stored;
	if (after_lookup)
		after_lookup(&stored); /* in place, as XDP and tc write */
	return 0;
}

int __wrap_bpf_map_update_elem(int fd, const void *key, const void *value, __u64 flags)
{
	if (fd != SESSIONS_FD)
		return __real_bpf_map_update_elem(fd, key, value, flags);
	updates++;
	stored_key = ((const struct xpxe_tftp_entry *)value)->key;
	stored = ((const struct xpxe_tftp_entry *)value)->s;
	return 0;
}

static struct xpxe_tftp_chunk chunk;

const struct xpxe_tftp_chunk *__wrap_xpxe_assets_chunks(struct xpxe_assets *a, uint32_t slot,
							uint32_t *n_chunks)
{
	(void)a;
	(void)slot;
	*n_chunks = 1;
	return &chunk;
}

static void client_sends_error(struct xpxe_tftp_session *s)
{
	s->state = XPXE_TFTP_ABORTED;
	s->client_error = XPXE_TFTP_ERR_NOT_FOUND;
}

/* A transfer of 64 KiB in blocks of 512, windows of 16, with its own UDP socket. */
struct fixture {
	struct xpxe_tftp t;
	struct xfer x;
	int client_fd; /* where the window goes */
};

static struct fixture *make_fixture(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);

	assert_non_null(f);
	for (size_t i = 0; i < XPXE_TFTP_CHUNK_DATA; i++)
		chunk.data[i] = (uint8_t)(i * 7 + 3);
	f->t.ifaces[0].used = true;
	f->t.ifaces[0].sessions_fd = SESSIONS_FD;
	f->t.ifaces[0].port_low = 40000;
	f->client_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->client_fd >= 0);
	assert_int_equal(bind(f->client_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(f->client_fd, (struct sockaddr *)&sa, &len), 0);
	f->x.ifc = &f->t.ifaces[0];
	f->x.key.client_ip = sa.sin_addr.s_addr;
	f->x.key.client_port = sa.sin_port;
	f->x.key.server_port = htons(40000);
	f->x.windowsize = 16;
	f->x.blksize = BLKSIZE;
	f->x.size = 65536;
	f->x.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(f->x.fd >= 0);
	stored = (struct xpxe_tftp_session){
		.size = 65536,
		.blksize = BLKSIZE,
		.windowsize = 16,
		.final_block = 65536 / BLKSIZE + 1,
		.state = XPXE_TFTP_ACTIVE,
	};
	stored_key = f->x.key;
	stored_present = true;
	lookups = updates = 0;
	after_lookup = NULL;
	return f;
}

static void free_fixture(struct fixture *f)
{
	close(f->client_fd);
	close(f->x.fd);
	free(f);
}

/* The DATA blocks that reached the client, in order, into BLOCKS; returns how many. */
static int received_blocks(struct fixture *f, uint16_t *blocks, int max)
{
	uint8_t buf[2048];
	ssize_t n;
	int got = 0;

	while (got < max && (n = recv(f->client_fd, buf, sizeof(buf), 0)) >= 4) {
		assert_int_equal(buf[0] << 8 | buf[1], XPXE_TFTP_DATA);
		blocks[got++] = buf[2] << 8 | buf[3];
		assert_int_equal(n, 4 + BLKSIZE);
	}
	return got;
}

/*
 * ACK 16 came up: tc decided the window (17..32, the window of 1..16 being
 * done) and recorded it; the daemon sends it. Meanwhile the client's ERROR
 * reaches XDP. The session keeps both: the window and the ERROR.
 */
static void test_window_keeps_what_a_program_wrote(void **state)
{
	struct fixture *f = make_fixture();
	uint16_t blocks[64];
	int n;

	(void)state;
	stored.win_base = 16;
	stored.last_block = 32;
	stored.last_tx_ns = 1; /* long ago: no guard applies, whoever decides */
	after_lookup = client_sends_error;
	tftp_window_over_udp(&f->t, &f->x, 16);
	assert_true(lookups >= 1);
	assert_int_equal(updates, 0);
	assert_int_equal(stored.state, XPXE_TFTP_ABORTED);
	assert_int_equal(stored.client_error, XPXE_TFTP_ERR_NOT_FOUND);
	assert_int_equal(stored.win_base, 16);
	assert_int_equal(stored.last_block, 32);
	n = received_blocks(f, blocks, 64);
	assert_int_equal(n, 16);
	for (int i = 0; i < n; i++)
		assert_int_equal(blocks[i], 17 + i);
	free_fixture(f);
}

/* An ACK whose window was not recorded (a later one was, or tc dropped it): nothing sent. */
static void test_unrecorded_ack_sends_nothing(void **state)
{
	struct fixture *f = make_fixture();
	uint16_t blocks[64];

	(void)state;
	stored.win_base = 32;
	stored.last_block = 48;
	tftp_window_over_udp(&f->t, &f->x, 16);
	assert_int_equal(updates, 0);
	assert_int_equal(received_blocks(f, blocks, 64), 0);
	free_fixture(f);
}

/* A session that a program ended (the final ACK): the daemon neither sends nor writes. */
static void test_ended_session_is_left_alone(void **state)
{
	struct fixture *f = make_fixture();
	uint16_t blocks[64];

	(void)state;
	stored.win_base = 16;
	stored.last_block = 32;
	stored.state = XPXE_TFTP_DONE;
	tftp_window_over_udp(&f->t, &f->x, 16);
	assert_int_equal(updates, 0);
	assert_int_equal(stored.state, XPXE_TFTP_DONE);
	assert_int_equal(received_blocks(f, blocks, 64), 0);
	free_fixture(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_keeps_what_a_program_wrote),
		cmocka_unit_test(test_unrecorded_ack_sends_nothing),
		cmocka_unit_test(test_ended_session_is_left_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
