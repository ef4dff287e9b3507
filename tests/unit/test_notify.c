// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sd_notify without libsystemd: what systemd's end of $NOTIFY_SOCKET receives. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "notify.h"

/* Binds a datagram socket where systemd would: NAME is a path, or "@..." for abstract. */
static int listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(
	    bind(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + len), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void test_path_socket(void **state)
{
	char path[64];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/xpxe-notify-%d.sock", (int)getpid());
	unlink(path);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(xpxe_notify("READY=1\nSTATUS=serving 1 interface(s)"), 1);
	expect_datagram(fd, "READY=1\nSTATUS=serving 1 interface(s)");
	assert_int_equal(xpxe_notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unlink(path);
}

static void test_abstract_socket(void **state)
{
	char name[64];
	int fd;

	(void)state;
	snprintf(name, sizeof(name), "@xpxe-notify-test-%d", (int)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(xpxe_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	close(fd);
}

static void test_not_under_systemd(void **state)
{
	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(xpxe_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(xpxe_notify("READY=1"), 0);
}

static void test_bad_addresses(void **state)
{
	(void)state;
	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	assert_true(xpxe_notify("READY=1") < 0);
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_true(xpxe_notify("READY=1") < 0);
	setenv("NOTIFY_SOCKET", "/nonexistent/xpxe/notify.sock", 1);
	assert_true(xpxe_notify("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_socket),
		cmocka_unit_test(test_abstract_socket),
		cmocka_unit_test(test_not_under_systemd),
		cmocka_unit_test(test_bad_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
