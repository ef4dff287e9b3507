# Sourced by scripts/guest.sh (XPXE_GUEST_ARCH=arm64) and scripts/arm64.sh: apt-get and
# apt-cache for Debian's arm64 packages on any host, through a private configuration in
# APT_ARM64_DIR (default build/cache/arm64/apt): the host's suites, arm64 only, with their
# own package lists, archives and an empty dpkg status. The host's dpkg architectures
# and apt sources are never changed; `apt-get download` fetches, nothing is installed.
# The sourcing script defines root.
# shellcheck shell=bash

APT_ARM64_DIR=${APT_ARM64_DIR:-$root/build/cache/arm64/apt}
APT_ARM64=(-o "Dir::Etc::SourceList=$APT_ARM64_DIR/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
	-o "Dir::State::Lists=$APT_ARM64_DIR/lists" -o "Dir::Cache=$APT_ARM64_DIR/cache"
	-o "Dir::State::status=$APT_ARM64_DIR/status" -o "APT::Architecture=arm64"
	-o "APT::Architectures::=arm64")

# Writes the configuration; with UPDATE, fetches the package lists when there are none.
apt_arm64_setup() {
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	mkdir -p "$APT_ARM64_DIR/lists/partial" "$APT_ARM64_DIR/cache/archives/partial"
	: >>"$APT_ARM64_DIR/status"
	printf '%s\n' "deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian bookworm main" \
		"deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian bookworm-updates main" \
		"deb [arch=arm64 signed-by=$key] http://deb.debian.org/debian-security bookworm-security main" \
		>"$APT_ARM64_DIR/sources.list"
	if ! ls "$APT_ARM64_DIR"/lists/*_Packages* >/dev/null 2>&1; then
		apt-get "${APT_ARM64[@]}" update -qq >&2 || true
	fi
}

# Downloads the candidate version of each PKG (arm64) into the current directory.
apt_arm64_download() {
	apt-get "${APT_ARM64[@]}" download -q "$@" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true
}
