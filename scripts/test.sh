#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what is missing, builds, runs
# every test (unit, integration over loopback TLS, deployment files, black-box daemon), then
# builds again with ASan+UBSan and runs the suite under the sanitizers.
# Usage: scripts/test.sh [--fast]   (--fast skips the sanitizer pass, for local iteration)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup.sh
if [ ! -d ../shared/data/binance ]; then
  echo "note: ../shared/data/binance is absent; tests that replay the real captures will be skipped"
fi

echo "== build (RelWithDebInfo)"
bash scripts/build.sh release
echo "== tests (RelWithDebInfo)"
(cd build && ctest --output-on-failure -j2 --timeout 300)

if [ "${1:-}" != "--fast" ]; then
  echo "== build (ASan + UBSan)"
  bash scripts/build.sh asan
  echo "== tests (ASan + UBSan)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  (cd build-asan && ctest --output-on-failure -j2 --timeout 600)
fi
