// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/ctl.h"
#include "log.h"

/* A client that sends nothing for this long is dropped: one slow client must not stall the daemon.
 */
#define CTL_IO_TIMEOUT_MS 2000
/* The CLI waits longer: detaching or reloading may take the daemon a moment. */
#define CTL_REPLY_TIMEOUT_MS 15000

static int make_addr(struct sockaddr_un *addr, const char *path)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path))
		return -ENAMETOOLONG;
	strcpy(addr->sun_path, path);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un addr;
	int fd, err;

	err = make_addr(&addr, path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int mkdir_parent(const char *path)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];

	snprintf(copy, sizeof(copy), "%s", path);
	if (mkdir(dirname(copy), 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int xpxe_ctl_listen(const char *path)
{
	struct sockaddr_un addr;
	mode_t old_umask;
	int fd, err;

	err = make_addr(&addr, path);
	if (err)
		return err;
	fd = connect_to(path);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (fd != -ENOENT && fd != -ECONNREFUSED)
		return fd;
	err = mkdir_parent(path);
	if (err)
		return err;
	unlink(path); /* stale: left by a daemon that was killed */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Root-only from the first moment: the socket changes the data plane. */
	old_umask = umask(0177);
	err = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (err || listen(fd, 64)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int read_line(int fd, char **out, int timeout_ms)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		int ready = poll(&pfd, 1, timeout_ms);

		if (ready <= 0) {
			free(buf);
			return ready ? -errno : -ETIMEDOUT;
		}
		if (len + 1 >= cap) {
			char *bigger;

			if (cap >= XPXE_CTL_MAX_MSG) {
				free(buf);
				return -EMSGSIZE;
			}
			cap *= 2;
			bigger = realloc(buf, cap);
			if (!bigger) {
				free(buf);
				return -ENOMEM;
			}
			buf = bigger;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			free(buf);
			return -errno;
		}
		len += n;
		buf[len] = '\0';
		if (n == 0 || memchr(buf + len - n, '\n', n))
			break;
	}
	if (len == 0) {
		free(buf);
		return -ENODATA;
	}
	if (buf[len - 1] == '\n')
		buf[--len] = '\0';
	*out = buf;
	return 0;
}

static int write_all(int fd, const char *text, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EAGAIN) {
			if (poll(&pfd, 1, CTL_IO_TIMEOUT_MS) <= 0)
				return -ETIMEDOUT;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		text += n;
		len -= n;
	}
	return 0;
}

int xpxe_ctl_read_request(int fd, char **request)
{
	return read_line(fd, request, CTL_IO_TIMEOUT_MS);
}

int xpxe_ctl_write_reply(int fd, const char *reply)
{
	int err = write_all(fd, reply, strlen(reply));

	return err ? err : write_all(fd, "\n", 1);
}

int xpxe_ctl_request(const char *path, const char *request, char **reply)
{
	int fd, err;

	fd = connect_to(path);
	if (fd < 0)
		return fd;
	err = write_all(fd, request, strlen(request));
	if (!err)
		err = write_all(fd, "\n", 1);
	if (!err)
		err = read_line(fd, reply, CTL_REPLY_TIMEOUT_MS);
	close(fd);
	return err;
}
