# A page in a headless Chromium (tests/integration/cdp.py) as a co-process of this shell:
#   cdp_start NS URL OUTDIR    chromium in network namespace NS, URL opened in one tab
#   cdp COMMAND                one command (eval EXPR, record EXPR FILE, shot FILE): its
#                              answer, one line of JSON
#   cdp_value EXPR             EXPR's value in the page (strings raw, the rest as JSON)
#   cdp_quit                   the browser closed
# Used by tests/integration/test_ui.sh and scripts/bench/ui.sh.
# shellcheck shell=bash
cdp_pid=

cdp_start() {
	local ns=$1 url=$2 out=$3 line
	mkdir -p "$out"
	coproc CDP_PROC { exec ip netns exec "$ns" python3 \
		"$(dirname "${BASH_SOURCE[0]}")/cdp.py" "$url" "$out" 2>"$out/cdp.err"; }
	cdp_pid=$CDP_PROC_PID
	# Copies that command substitutions inherit (a co-process's own descriptors they do not).
	exec {cdp_in}>&"${CDP_PROC[1]}" {cdp_out}<&"${CDP_PROC[0]}"
	IFS= read -r -t 90 line <&"$cdp_out" && jq -e '.ok' <<<"$line" >/dev/null
}

cdp() {
	local cmd=$* line
	echo "${cmd//$'\n'/ }" >&"$cdp_in" || return 1
	IFS= read -r -t 60 line <&"$cdp_out" || return 1
	echo "$line"
}

cdp_value() { cdp "eval $*" | jq -r '.value'; }

cdp_quit() {
	[ -n "$cdp_pid" ] || return 0
	cdp quit >/dev/null 2>&1
	exec {cdp_in}>&- {cdp_out}<&-
	wait "$cdp_pid" 2>/dev/null
	cdp_pid=
}
