#!/usr/bin/env bash
# Installs every Debian 12 package tradingbot needs to build, test and benchmark.
# Idempotent: when everything is present it prints one line and touches nothing.
# Runs as root (CI, a fresh VPS) or through sudo when a normal user calls it.
set -euo pipefail

# Build: toolchain and libraries (ARCHITECTURE.md "Dependencies").
build_packages=(
  build-essential cmake ninja-build pkg-config git
  libboost1.81-dev libboost-url1.81-dev libssl-dev zlib1g-dev
  libsimdjson-dev libspdlog-dev libfmt-dev libpqxx-dev libpq-dev libsodium-dev
  libtomlplusplus-dev libcli11-dev
  catch2 libbenchmark-dev
)
# Test peers and tools the suite drives for real: curl and openssl for black-box checks,
# nginx for the proxy test, PostgreSQL for the store tests, systemd-analyze and logrotate
# for the deployment files, wrk for the benchmarks.
tool_packages=(
  curl openssl ca-certificates nginx-light postgresql logrotate systemd procps wrk
)

wanted=("${build_packages[@]}")
case "${1:-}" in
  --build-only) ;;
  *) wanted+=("${tool_packages[@]}") ;;
esac

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#wanted[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# Package maintainer scripts must not start services in a container or CI runner:
# tests start their own nginx and PostgreSQL in throwaway directories.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee "$policy" >/dev/null
  "${sudo_cmd[@]}" chmod 755 "$policy"
  created_policy=1
fi
trap '[ "$created_policy" = 1 ] && "${sudo_cmd[@]}" rm -f "$policy"' EXIT
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
