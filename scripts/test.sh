#!/usr/bin/env bash
# The whole test suite from a fresh Debian 12 machine: installs what is missing, builds the
# checked configuration (ASan + UBSan, assertions on; the benchmarks are compiled too so they
# cannot rot) and runs every test in it: unit, integration over loopback TLS, deployment files,
# black-box daemon.
#
# Why one build: the suite itself runs in about a minute, while each full build of this
# Beast-heavy code base takes 12-13 minutes on the 2-core machines. Running the suite once under
# the sanitizers keeps CI well under 20 minutes; the optimized build is what the demo, the
# benchmarks and `--release` use.
#
# Usage: scripts/test.sh [--release | --all]
#   (default)  checked build (build-asan/) and the suite under ASan + UBSan: what CI runs
#   --release  the optimized build (build/) and the suite there instead: quick local iteration
#   --all      both, one after the other (before a release)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

mode=${1:-checked}
case "$mode" in
  checked | --release | --all) ;;
  *) echo "usage: $0 [--release | --all]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
if [ ! -d ../shared/data/binance ]; then
  echo "note: ../shared/data/binance is absent; tests that replay the real captures will be skipped"
fi

run_release() {
  echo "== build (RelWithDebInfo)"
  bash scripts/build.sh release
  echo "== tests (RelWithDebInfo)"
  (cd build && ctest --output-on-failure -j2 --timeout 300)
}

run_checked() {
  echo "== build (ASan + UBSan, -Og, assertions on)"
  bash scripts/build.sh asan
  echo "== tests (ASan + UBSan, leak detection on)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS="suppressions=$root/tests/lsan.supp:print_suppressions=0"  # third-party leaks, each explained there
  (cd build-asan && ctest --output-on-failure -j2 --timeout 600)
}

case "$mode" in
  checked) run_checked ;;
  --release) run_release ;;
  --all) run_release && run_checked ;;
esac
