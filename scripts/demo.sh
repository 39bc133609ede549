#!/usr/bin/env bash
# The demo from a fresh Debian 12 machine: installs what is missing, builds, starts the
# daemon in paper mode with config/demo.toml, and shows /health and /status answering.
# Runs until Ctrl-C; DEMO_SECONDS=N stops it after N seconds (non-interactive runs).
# Everything listens on 127.0.0.1 only; no network is needed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup.sh
bash scripts/build.sh release

config=config/demo.toml
port=$(sed -n 's/^listen = "127.0.0.1:\([0-9]*\)"/\1/p' "$config")
base=http://127.0.0.1:$port
if curl -s -o /dev/null --max-time 1 "$base/health"; then
  echo "demo: something already answers on $base; stop it first" >&2
  exit 1
fi

pids=()
stop_all() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT
trap 'exit 0' INT TERM

./build/tradingbot --config "$config" &
pids+=($!)

for _ in $(seq 1 100); do
  curl -s -o /dev/null --max-time 1 "$base/health" && break
  sleep 0.1
done
echo
echo "demo: GET $base/health"
curl -s --max-time 2 "$base/health"
echo
echo "demo: GET $base/status"
curl -s --max-time 2 "$base/status"
echo
echo "demo: daemon running (paper mode). Try: curl $base/metrics | less    Ctrl-C stops."

deadline=$(( $(date +%s) + ${DEMO_SECONDS:-315360000} ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  kill -0 "${pids[0]}" 2>/dev/null || { echo "demo: daemon exited" >&2; exit 1; }
  sleep 1
done
