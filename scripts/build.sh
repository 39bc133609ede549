#!/usr/bin/env bash
# Configures and builds tradingbot. Usage: scripts/build.sh [release|asan] (default release).
#   release -> build/       (RelWithDebInfo: optimised, with symbols; build/tradingbot)
#   asan    -> build-asan/  (ASan + UBSan, used by the test command): -Og -g1 with assertions on;
#              the benchmarks are compiled here too (never timed: figures come from build/).
#              Sanitizers at -O2 -g made Beast's TLS templates 4-7x slower to compile than the
#              release build (the bulk of a CI run); -Og keeps ASan's stack and scope checks and
#              line-accurate reports at a fraction of that.
# Two parallel jobs: the target machines have 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
case "$kind" in
  release) dir=$root/build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DTB_SANITIZE=OFF) ;;
  asan) dir=$root/build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS_DEBUG=-Og -g1" -DTB_SANITIZE=ON -DTB_BUILD_BENCH=ON) ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
generator=()
command -v ninja >/dev/null && [ ! -f "$dir/Makefile" ] && generator=(-G Ninja)
cmake -S "$root" -B "$dir" "${generator[@]}" "${flags[@]}" >/dev/null
cmake --build "$dir" -j "${TB_JOBS:-2}"
