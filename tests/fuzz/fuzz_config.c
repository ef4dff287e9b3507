// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer: xpxe.yaml through xpxe_config_load, as the daemon reads it. The
 * bytes go to a file, because the loader reads a path (and libfyaml's errors
 * name it). A bad file must be refused with one line of error and leave the
 * defaults; a good one must pass its own check again and stay within limits.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"

static char path[] = "/tmp/xpxe-fuzz-config.XXXXXX";
static int fd = -1;

static void remove_file(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xpxe_config cfg;
	struct xpxe_config_error err;
	int ret;

	if (fd < 0) {
		fd = mkstemp(path);
		FUZZ_ASSERT(fd >= 0);
		atexit(remove_file);
	}
	FUZZ_ASSERT(ftruncate(fd, 0) == 0);
	FUZZ_ASSERT(pwrite(fd, data, size, 0) == (ssize_t)size);

	ret = xpxe_config_load(path, &cfg, &err);
	if (ret) {
		FUZZ_ASSERT(ret < 0);
		FUZZ_ASSERT(ret == -ENOMEM || err.text[0]);
		FUZZ_ASSERT(!strchr(err.text, '\n'));
		/* Refused whole: nothing of the file is left in CFG. */
		FUZZ_ASSERT(!cfg.machines && !cfg.n_machines && !cfg.n_assets &&
			    cfg.n_profiles == 1);
		return 0;
	}
	FUZZ_ASSERT(cfg.n_interfaces <= XPXE_CFG_MAX_INTERFACES);
	FUZZ_ASSERT(cfg.n_assets <= XPXE_CFG_MAX_ASSETS && cfg.n_allow <= XPXE_CFG_MAX_ALLOW);
	FUZZ_ASSERT(cfg.n_profiles >= 1 && cfg.n_profiles <= XPXE_DHCP_MAX_PROFILES);
	FUZZ_ASSERT(cfg.default_profile >= -1 && cfg.default_profile < cfg.n_profiles);
	for (int i = 0; i < cfg.n_interfaces; i++)
		FUZZ_ASSERT(memchr(cfg.interfaces[i], '\0', sizeof(cfg.interfaces[i])));
	for (int i = 0; i < cfg.n_machines; i++) {
		const struct xpxe_machine_cfg *m = &cfg.machines[i];

		FUZZ_ASSERT(m->profile >= -1 && m->profile < cfg.n_profiles);
		FUZZ_ASSERT(m->n_macs >= 0 && m->n_macs <= XPXE_CFG_MAX_MACS);
		FUZZ_ASSERT(m->n_macs || m->uuid[0] || m->serial[0] || m->hostname[0]);
	}
	FUZZ_ASSERT(xpxe_config_check(&cfg, &err) == 0);
	xpxe_config_free(&cfg);
	return 0;
}
