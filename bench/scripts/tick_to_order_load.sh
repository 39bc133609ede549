#!/usr/bin/env bash
# Issue 6's second tick-to-order figure: the in-process tick-to-order p99 (bench_tick_to_order:
# depth frame bytes -> book -> market maker -> risk -> oms -> signed WS API order.place) measured
# twice in one run, on a quiet box and while `wrk -t2 -c100` loads the daemon's /health on the
# same box. Target: the loaded p99 within 2x of the unloaded one (the HTTP thread has its own
# io_context, so a /health storm must not reach the trading path beyond the shared CPU).
# Usage: bench/scripts/tick_to_order_load.sh [frames per run, default 200000]
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
frames=${1:-200000}
build=${TB_BINARY_DIR:-$root/build}
for exe in tradingbot bench_tick_to_order; do
  [ -x "$build/$exe" ] || { echo "build first: scripts/build.sh ($build/$exe missing)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "run scripts/setup.sh first (wrk)" >&2; exit 1; }

work=$(mktemp -d /tmp/tb-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  sleep 0.2
  rm -rf "$work"
}
trap cleanup EXIT

port=$((10000 + RANDOM % 22000))  # below the ephemeral range (32768-)
printf '[http]\nlisten = "127.0.0.1:%s"\n[trading]\nmode = "paper"\n[log]\nlevel = "warn"\n[store]\njournal_dir = "%s/journal"\n' \
  "$port" "$work" >"$work/tb.toml"
"$build/tradingbot" --config "$work/tb.toml" >"$work/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 500); do curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/health" && break; sleep 0.01; done
curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/health" || { cat "$work/daemon.log" >&2; exit 1; }

p99_of() { sed -nE 's/.*p99 ([0-9.]+) us .*/\1/p' "$1" | head -1; }

"$build/bench_tick_to_order" "$frames" >"$work/quiet.txt"
quiet=$(p99_of "$work/quiet.txt")

wrk -t2 -c100 -d600s "http://127.0.0.1:$port/health" >"$work/wrk.txt" 2>&1 &
wrk_pid=$!
pids+=("$wrk_pid")
sleep 1  # let wrk reach its steady rate
"$build/bench_tick_to_order" "$frames" >"$work/loaded.txt"
kill -INT "$wrk_pid" 2>/dev/null || true
wait "$wrk_pid" 2>/dev/null || true
loaded=$(p99_of "$work/loaded.txt")
rate=$(sed -nE 's/^Requests\/sec: *([0-9.]+)/\1/p' "$work/wrk.txt")

[ -n "$quiet" ] && [ -n "$loaded" ] || { cat "$work/quiet.txt" "$work/loaded.txt" >&2; exit 1; }
echo "tick-to-order p99, same run, $frames frames each (load average $(cut -d' ' -f1 /proc/loadavg))"
grep -E '^p50' "$work/quiet.txt" | sed 's/^/  quiet:  /'
grep -E '^p50' "$work/loaded.txt" | sed 's/^/  loaded: /'
echo "  /health under wrk -t2 -c100 meanwhile: ${rate:-?} req/s"
awk -v q="$quiet" -v l="$loaded" 'BEGIN { r = l / q; printf "  loaded p99 / quiet p99 = %.2fx (target <= 2x): %s\n", r, (r <= 2.0 ? "met" : "NOT met") }'
