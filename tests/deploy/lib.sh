# Shared helpers for the black-box tests in tests/deploy. Sourced, not run.
# Every test works in its own temp dir, talks to 127.0.0.1 only, bounds every wait, and cleans
# up whatever it started, even when it fails.
set -euo pipefail

SOURCE_DIR=${TB_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BINARY_DIR=${TB_BINARY_DIR:-$SOURCE_DIR/build}
TRADINGBOT=$BINARY_DIR/tradingbot
WORK=$(mktemp -d /tmp/tb-test.XXXXXX)
CLEANUP=()

cleanup() {
  local rc=$?
  local i
  for ((i = ${#CLEANUP[@]} - 1; i >= 0; i--)); do eval "${CLEANUP[$i]}" || true; done
  rm -rf "$WORK"
  exit $rc
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# A TCP port on 127.0.0.1 that nothing listens on right now, taken from below the kernel's
# ephemeral range: a port inside it can be handed to an outgoing connection (the daemon's own, to
# the simulator) between this check and the daemon's bind, which then fails "address in use".
free_port() {
  local port low _high
  read -r low _high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || low=32768
  [ "$low" -gt 12000 ] || low=32768  # an unusual range: fall back to the default's lower bound
  for _ in $(seq 1 50); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then echo "$port"; return 0; fi
  done
  fail "no free port found"
}

# wait_http URL [seconds]: until the URL answers anything at all.
wait_http() {
  local url=$1 limit=${2:-10}
  for _ in $(seq 1 $((limit * 20))); do
    curl -s -o /dev/null --max-time 1 "$url" && return 0
    sleep 0.05
  done
  [ -f "$WORK/daemon.log" ] && { echo "--- daemon log:" >&2; cat "$WORK/daemon.log" >&2; }
  fail "$url did not answer within ${limit}s"
}

# http_status URL [curl args...]: prints the status code.
http_status() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url"
}

# start_daemon CONFIG: starts build/tradingbot in the background, stdout+stderr to $WORK/daemon.log.
start_daemon() {
  "$TRADINGBOT" --config "$1" >"$WORK/daemon.log" 2>&1 &
  DAEMON_PID=$!
  CLEANUP+=("kill -9 $DAEMON_PID 2>/dev/null")
}

# stop_daemon: SIGTERM, then require a clean exit 0 within 10 s.
stop_daemon() {
  kill -TERM "$DAEMON_PID"
  local rc=0
  for _ in $(seq 1 200); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$DAEMON_PID" 2>/dev/null && fail "daemon did not stop within 10 s of SIGTERM"
  wait "$DAEMON_PID" || rc=$?
  [ "$rc" -eq 0 ] || { cat "$WORK/daemon.log" >&2; fail "daemon exited $rc after SIGTERM"; }
}

# write_config PATH HTTP_PORT [extra toml...]
write_config() {
  local path=$1 port=$2
  shift 2
  {
    printf '[http]\nlisten = "127.0.0.1:%s"\n[trading]\nmode = "paper"\n' "$port"
    printf '[store]\njournal_dir = "%s/journal"\n' "$WORK"  # not the cwd's state/journal
    printf '%s\n' "$@"
  } >"$path"
}
