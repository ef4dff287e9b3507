# Sourced by scripts/guest.sh and scripts/kernels.sh: the modules a guest's initramfs needs,
# from an unpacked Debian kernel package (depmod'ed). The sourcing script defines die().
# shellcheck shell=bash

# Appends to MODS the modules (paths relative to lib/modules/RELEASE) that NAME needs,
# NAME last, each once, in an order that insmod can follow: modules.dep lists a module's full set of
# dependencies with the ones loaded last first, so a dependency's own line is resolved
# before the module itself. Built-in modules have no line and need nothing.
MODS=()
declare -A SEEN=()
module_order() {
	local name=$1 moddir=$2 line path deps dep i
	line=$(grep -E "(^|/)${name}\.ko(\.[a-z]+)?:" "$moddir/modules.dep" || true)
	if [ -z "$line" ]; then
		if grep -qE "(^|/)${name}\.ko\$" "$moddir/modules.builtin"; then
			return 0
		fi
		die "module $name is neither in modules.dep nor built in"
	fi
	path=${line%%:*}
	[ -n "${SEEN[$path]:-}" ] && return 0
	read -r -a deps <<<"${line#*:}"
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		dep=$(basename "${deps[$i]}")
		module_order "${dep%%.ko*}" "$moddir"
	done
	SEEN[$path]=1
	MODS+=("$path")
}
