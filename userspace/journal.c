// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sd_journal_sendv(3) in a few lines, as notify.c does for sd_notify: the
 * protocol is stable and documented, and libsystemd would be one more
 * library for one datagram per line. Entries here are small (a log line and
 * a few fields), so the memfd form for huge entries is not needed.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "journal.h"

static int journal_fd = -1;

static int journal_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = XPXE_JOURNAL_SOCKET };
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int xpxe_journal_open(void)
{
	int fd = journal_connect();

	if (fd < 0)
		return fd;
	if (journal_fd >= 0)
		close(journal_fd);
	journal_fd = fd;
	return 0;
}

bool xpxe_journal_is_stderr(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return env && sscanf(env, "%llu:%llu", &dev, &ino) == 2 && !fstat(STDERR_FILENO, &st) &&
	       st.st_dev == dev && st.st_ino == ino;
}

/*
 * One field into IOV: "KEY=value\n", or, when the value holds a newline, the
 * binary form "KEY\n" + its length as 64-bit little endian + value + "\n".
 */
static int add_field(struct iovec *iov, uint64_t *len_le, const char *key, const char *value)
{
	size_t n = strlen(value);
	int i = 0;

	iov[i++] = (struct iovec){ (void *)key, strlen(key) };
	if (!memchr(value, '\n', n)) {
		iov[i++] = (struct iovec){ "=", 1 };
	} else {
		iov[i++] = (struct iovec){ "\n", 1 };
		*len_le = htole64(n);
		iov[i++] = (struct iovec){ len_le, sizeof(*len_le) };
	}
	iov[i++] = (struct iovec){ (void *)value, n };
	iov[i++] = (struct iovec){ "\n", 1 };
	return i;
}

#define MAX_FIELDS 16

int xpxe_journal_send(int priority, const char *message, const struct xpxe_log_field *fields,
		      int n_fields)
{
	struct iovec iov[(MAX_FIELDS + 3) * 5];
	uint64_t lens[MAX_FIELDS + 3];
	char prio[2] = { (char)('0' + (priority & 7)), '\0' };
	int n = 0, k = 0;

	if (journal_fd < 0)
		return -ENOTCONN;
	n += add_field(iov + n, &lens[k++], "MESSAGE", message);
	n += add_field(iov + n, &lens[k++], "PRIORITY", prio);
	n += add_field(iov + n, &lens[k++], "SYSLOG_IDENTIFIER", "xpxe");
	for (int i = 0; i < n_fields && i < MAX_FIELDS; i++)
		if (fields[i].value && fields[i].value[0])
			n += add_field(iov + n, &lens[k++], fields[i].key, fields[i].value);
	if (writev(journal_fd, iov, n) >= 0)
		return 0;
	/* journald restarted: its socket is new. Once more on a fresh connection. */
	if ((errno == ECONNREFUSED || errno == ENOTCONN) && !xpxe_journal_open() &&
	    writev(journal_fd, iov, n) >= 0)
		return 0;
	return -errno;
}
