# SPDX-License-Identifier: BSD-3-Clause
# Shared by the scripts in this directory: package installation and build set-up.
# shellcheck shell=bash
# shellcheck disable=SC2034  # the package lists are used by the scripts that source this file

TP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages for building and running turnpike (the fallback relay and the DPDK plane).
TP_BUILD_PKGS=(gcc libc6-dev pkg-config meson ninja-build libcjson-dev libssl-dev zlib1g-dev
	libdpdk-dev libnuma-dev)
# Extra packages for the test suite: Check, clang with its sanitizer and libFuzzer runtimes,
# clang-format for the style check, coturn for its test clients (turnutils_uclient,
# turnutils_peer) and openssl for the functional tests' TLS certificate.
TP_TEST_PKGS=(check libsubunit-dev clang libclang-rt-14-dev clang-format python3 coturn openssl)

# The meson options of build/, the gcc build that scripts/test tests and scripts/run runs: both
# pass exactly these, so neither makes tp_setup reconfigure the other's build.
TP_BUILD_OPTS=(-Dwerror=true -Dtests=true)

tp_log() { printf '==> %s\n' "$*"; }

# Install whichever of the named packages are missing; no apt call when none are.
tp_need_pkgs() {
	local missing=() p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("$p")
		fi
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	tp_log "installing: ${missing[*]}"
	if [ "$(id -u)" -ne 0 ]; then
		echo "error: packages missing (${missing[*]}) and not running as root" >&2
		return 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
	for p in "${missing[@]}"; do
		[ "$p" = coturn ] && tp_quiet_coturn
	done
	return 0
}

# The coturn package is installed for its test clients only, but on a systemd machine it also
# enables and starts coturn.service (turnserver on port 3478). Stop and disable it again, once,
# right after installing it: it would take the port of config/dev.json.
tp_quiet_coturn() {
	[ -d /run/systemd/system ] && command -v systemctl >/dev/null || return 0
	if systemctl is-enabled --quiet coturn.service 2>/dev/null ||
		systemctl is-active --quiet coturn.service 2>/dev/null; then
		tp_log "coturn is here for its test clients: stopping and disabling coturn.service"
		systemctl disable --now coturn.service >/dev/null 2>&1 || true
	fi
}

# tp_setup DIR [meson options...]: configure DIR once, reconfigure only when options change.
tp_setup() {
	local dir=$1; shift
	local stamp="$dir/.tp-setup-args" want="$*"
	if [ -f "$dir/build.ninja" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		return 0
	fi
	rm -rf "$dir"
	meson setup "$dir" "$@" >"$TP_ROOT/.setup-$$.log" 2>&1 || {
		cat "$TP_ROOT/.setup-$$.log" >&2; rm -f "$TP_ROOT/.setup-$$.log"; return 1; }
	rm -f "$TP_ROOT/.setup-$$.log"
	printf '%s' "$want" >"$stamp"
}
