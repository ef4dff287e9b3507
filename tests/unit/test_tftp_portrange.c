// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The ports of transfers (--tftp-port-range, userspace/tftp/iface.c: tftp_bind_port). The data
 * plane finds a transfer's session at its port's entry (include/xpxe_tftp.h), so a port is one
 * transfer's at a time, whatever address it is bound to: on loopback, in a range of 4 ports,
 * a port another program holds is skipped, one a transfer holds on another local address is
 * not given again, one a previous daemon's transfer holds (tftp_hold_port) neither, the range
 * full is -EADDRINUSE, and a freed port is taken again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "tftp/internal.h"

static struct xpxe_tftp *t;
static unsigned lo; /* the range: lo .. lo + 3 */

static int bind_at(uint32_t addr, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(addr),
				  .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A transfer's socket on ADDR from the range: its port (or -errno), its socket in *FD. */
static int take(uint32_t addr, int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr) };
	int port;

	*fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(*fd >= 0);
	port = tftp_bind_port(t, *fd, (struct sockaddr *)&sa, sizeof(sa), &sa.sin_port);
	if (port < 0) {
		close(*fd);
		*fd = -1;
	}
	return port;
}

static int setup(void **state)
{
	(void)state;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	/* Four ports nobody holds now, from an address the kernel picks. */
	for (int tries = 0; tries < 50 && !lo; tries++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		int fd = bind_at(INADDR_LOOPBACK, 0), fds[4], n = 0;

		if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &len))
			return -1;
		close(fd);
		if (ntohs(sa.sin_port) > 65000)
			continue;
		for (n = 0; n < 4; n++)
			if ((fds[n] = bind_at(INADDR_ANY, ntohs(sa.sin_port) + n)) < 0)
				break;
		for (int i = 0; i < n; i++)
			close(fds[i]);
		if (n == 4)
			lo = ntohs(sa.sin_port);
	}
	t->opts.port_low = lo;
	t->opts.port_high = lo + 3;
	return lo ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(t);
	return 0;
}

static void test_ports(void **state)
{
	int foreign, prev, fd[4], held;

	(void)state;
	foreign = bind_at(INADDR_ANY, lo + 1); /* another program's */
	assert_true(foreign >= 0);
	assert_int_equal(take(INADDR_LOOPBACK, &fd[0]), lo);
	assert_int_equal(take(INADDR_LOOPBACK + 1, &fd[1]), lo + 2);
	prev = bind_at(INADDR_ANY, lo + 3); /* a previous daemon's transfer's, taken over */
	assert_true(prev >= 0);
	tftp_hold_port(t, htons((uint16_t)(lo + 3)));
	/*
	 * Full: 127.0.0.2 could bind lo beside 127.0.0.1's transfer, but the data plane would
	 * find both transfers at one entry: the daemon gives lo to no second transfer.
	 */
	assert_int_equal(take(INADDR_LOOPBACK + 1, &fd[2]), -EADDRINUSE);
	/* Freed, a port goes again. */
	close(prev);
	tftp_free_port(t, htons((uint16_t)(lo + 3)));
	assert_int_equal(take(INADDR_LOOPBACK, &held), lo + 3);
	close(fd[0]);
	tftp_free_port(t, htons((uint16_t)lo));
	assert_int_equal(take(INADDR_LOOPBACK + 1, &fd[3]), lo);
	/* Outside the range: nothing to free, nothing held. */
	tftp_free_port(t, htons((uint16_t)(lo - 1)));
	tftp_hold_port(t, htons((uint16_t)(lo + 4)));
	assert_int_equal(take(INADDR_LOOPBACK, &fd[2]), -EADDRINUSE);
	close(fd[1]);
	close(fd[3]);
	close(held);
	close(foreign);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ports),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
