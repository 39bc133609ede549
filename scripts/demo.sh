#!/usr/bin/env bash
# The demo from a fresh Debian 12 machine: installs what is missing, builds, starts the built-in
# Binance-compatible exchange simulator (config/sim.toml, 127.0.0.1:9443, private CA in
# var/sim-pki/) and the daemon in paper mode against it (config/demo.toml: books synced over the
# simulator's streams, the market maker quoting on the paper venue), then prints a live line
# from /status every few seconds: books, orders, fills, position and PnL.
# Runs until Ctrl-C; DEMO_SECONDS=N stops it after N seconds (non-interactive runs).
# Everything listens on 127.0.0.1 only; no network is needed. Run state lands in var/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/setup.sh
bash scripts/build.sh release

config=config/demo.toml
sim_config=config/sim.toml
port=$(sed -n 's/^listen = "127.0.0.1:\([0-9]*\)"/\1/p' "$config")
base=http://127.0.0.1:$port
if curl -s -o /dev/null --max-time 1 "$base/health"; then
  echo "demo: something already answers on $base; stop it first" >&2
  exit 1
fi

pids=()  # daemon first, so it stops before the exchange it talks to
stop_all() {
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap stop_all EXIT
trap 'exit 0' INT TERM

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local seconds=$1 what=$2
  shift 2
  for _ in $(seq 1 $((seconds * 10))); do
    "$@" && return 0
    sleep 0.1
  done
  echo "demo: $what did not happen within ${seconds}s" >&2
  exit 1
}

mkdir -p var
rm -f var/sim.port
./build/tradingbot sim --config "$sim_config" >var/sim.log 2>&1 &
sim_pid=$!
wait_for 20 "the simulator writing its CA and port" test -s var/sim.port -a -s var/sim-pki/ca.pem
echo "demo: exchange simulator on 127.0.0.1:$(cat var/sim.port) (log: var/sim.log)"

./build/tradingbot --config "$config" &
pids=($! "$sim_pid")
wait_for 20 "the daemon answering /health" curl -s -o /dev/null --max-time 1 "$base/health"
echo "demo: GET $base/health -> $(curl -s --max-time 2 "$base/health")"
ready() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$base/ready")" = 200 ]; }
wait_for 30 "/ready 200 (books synced against the simulator)" ready
echo "demo: GET $base/ready -> 200: every book synced. Try: curl $base/status | python3 -m json.tool"
echo "demo:   curl $base/book/BTCUSDT?depth=5    curl $base/price/ETHUSDT    curl $base/metrics"
echo "demo: the market maker trades on paper; Ctrl-C stops both processes."

# One line of /status: the things a trader watches.
summary() {
  curl -s --max-time 2 "$base/status" | python3 -c '
import json, sys
s = json.load(sys.stdin)
books = " ".join("%s:%s" % (k, "synced" if v.get("synced") else "SYNCING") for k, v in s.get("symbols", {}).items())
t = s.get("trading", {})
o, p = t.get("orders", {}), t.get("pnl", {})
pos = " ".join("%s=%s" % (k, v.get("position")) for k, v in t.get("positions", {}).items()) or "flat"
print("books %s | orders live %s sent %s fills %s | position %s | pnl realized %s unrealized %s fees %s equity %s"
      % (books, o.get("live"), o.get("sent"), o.get("fills"), pos, p.get("realized"), p.get("unrealized"),
         p.get("fees"), p.get("equity")))
' || echo "demo: /status unreadable"
}

deadline=$(( $(date +%s) + ${DEMO_SECONDS:-315360000} ))
while [ "$(date +%s)" -lt "$deadline" ]; do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "demo: a process exited (see var/sim.log and the output above)" >&2; exit 1; }
  done
  summary
  sleep 3
done
