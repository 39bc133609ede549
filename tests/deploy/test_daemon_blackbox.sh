#!/usr/bin/env bash
# The real binary, as a user meets it: --version, --check, start, curl every status endpoint,
# SIGHUP, SIGTERM -> exit 0.
source "$(dirname "$0")/lib.sh"
[ -x "$TRADINGBOT" ] || fail "$TRADINGBOT is not built"

"$TRADINGBOT" --version | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+ ' || fail "--version does not print a version"
"$TRADINGBOT" --help | grep -q -- '--config' || fail "--help does not mention --config"
pass "--version and --help"

port=$(free_port)
write_config "$WORK/ok.toml" "$port"
"$TRADINGBOT" --config "$WORK/ok.toml" --check >/dev/null || fail "--check rejects a valid config"
printf '[market]\nprice_cache_ttl_ms = 0\n' >"$WORK/bad.toml"
set +e
msg=$("$TRADINGBOT" --config "$WORK/bad.toml" --check 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "--check accepted price_cache_ttl_ms = 0"
[ "$(echo "$msg" | wc -l)" -eq 1 ] || fail "--check error is not one line: $msg"
echo "$msg" | grep -q 'market.price_cache_ttl_ms' || fail "--check error does not name the key: $msg"
write_config "$WORK/live.toml" "$port" '[exchange]' 'recv_window_ms = 5000'
sed -i 's/mode = "paper"/mode = "live"/' "$WORK/live.toml"
set +e
msg=$(env -u BINANCE_API_KEY "$TRADINGBOT" --config "$WORK/live.toml" --check 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] && echo "$msg" | grep -q BINANCE_API_KEY || fail "live mode without keys was accepted: $msg"
# A secret copied with its file's trailing newline: refused by --check, by position, not shown.
set +e
msg=$(BINANCE_API_KEY=abcDEF123 BINANCE_API_SECRET=$'s3cretS3cret\n' "$TRADINGBOT" --config "$WORK/live.toml" --check 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] && [ "$(echo "$msg" | wc -l)" -eq 1 ] && echo "$msg" | grep -q 'BINANCE_API_SECRET has a line break at position 13 of 13' &&
  ! echo "$msg" | grep -q s3cret || fail "a secret with a trailing newline was accepted or shown (rc $rc): $msg"
# A CA file that is not there: the connecting commands refuse it by key; replay, which never
# connects, does not care (the demo's CA only appears once the simulator has run).
write_config "$WORK/noca.toml" "$port" '[exchange]' "ca_file = \"$WORK/absent/ca.pem\""
set +e
msg=$("$TRADINGBOT" --config "$WORK/noca.toml" --check 2>&1)
rc=$?
set -e
[ "$rc" -eq 1 ] && [ "$(echo "$msg" | wc -l)" -eq 1 ] && echo "$msg" | grep -q "exchange.ca_file = '$WORK/absent/ca.pem': cannot be opened" ||
  fail "--check accepted a missing exchange.ca_file (rc $rc): $msg"
: >"$WORK/empty.capture"
"$TRADINGBOT" replay --config "$WORK/noca.toml" "$WORK/empty.capture" >/dev/null 2>&1 ||
  fail "replay refused a config whose CA file is missing, though it never connects"
pass "--check accepts good configs, rejects bad ones in one line naming the key"

start_daemon "$WORK/ok.toml"
wait_http "http://127.0.0.1:$port/health"
body=$(curl -s --max-time 2 "http://127.0.0.1:$port/health")
echo "$body" | grep -q '"status":"ok"' || fail "/health body: $body"
[ "$(http_status "http://127.0.0.1:$port/health")" = 200 ] || fail "/health is not 200"
pass "/health 200 {\"status\":\"ok\"}"

# No market data is connected in this test, so /ready must say 503 and why.
[ "$(http_status "http://127.0.0.1:$port/ready")" = 503 ] || fail "/ready is not 503 without synced books"
curl -s --max-time 2 "http://127.0.0.1:$port/ready" | grep -q 'BTCUSDT: book not synced' || fail "/ready gives no reason"
pass "/ready 503 with reasons"

status=$(curl -s --max-time 2 "http://127.0.0.1:$port/status")
for field in '"version"' '"mode":"paper"' '"symbols"' '"BTCUSDT"' '"http"' '"busy_poll_us":0,"cpu":-1,'; do
  echo "$status" | grep -q "$field" || fail "/status lacks $field: $status"
done
pass "/status"

metrics=$(curl -s --max-time 2 "http://127.0.0.1:$port/metrics")
echo "$metrics" | grep -q '^tradingbot_up 1$' || fail "/metrics lacks tradingbot_up 1"
echo "$metrics" | grep -q '^# TYPE tradingbot_http_requests_total counter$' || fail "/metrics lacks http counters"
if echo "$metrics" | grep -v '^#' | grep -v '^tradingbot_' | grep -q .; then fail "/metrics has a metric without the tradingbot_ prefix"; fi
pass "/metrics is Prometheus text with the tradingbot_ prefix"

[ "$(http_status "http://127.0.0.1:$port/nope")" = 404 ] || fail "unknown path is not 404"
[ "$(http_status "http://127.0.0.1:$port/health" -X POST)" = 405 ] || fail "POST /health is not 405"
pass "404 and 405"

# Keep-alive: curl reuses one connection for two URLs on the same host.
verbose=$(curl -sv --max-time 2 "http://127.0.0.1:$port/health" "http://127.0.0.1:$port/health" 2>&1 >/dev/null)
echo "$verbose" | grep -q 'Re-using existing connection' || fail "connection was not kept alive"
pass "keep-alive"

kill -HUP "$DAEMON_PID"
for _ in $(seq 1 100); do grep -q 'SIGHUP' "$WORK/daemon.log" && break; sleep 0.05; done
grep -q 'SIGHUP' "$WORK/daemon.log" || fail "SIGHUP was not handled"
[ "$(http_status "http://127.0.0.1:$port/health")" = 200 ] || fail "/health not 200 after SIGHUP"
pass "SIGHUP reloads and keeps serving"

stop_daemon
grep -q 'stopped' "$WORK/daemon.log" || fail "no clean stop in the log"
pass "SIGTERM stops with exit 0"

# A port that is taken is a clear start-up error, not a hang.
start_daemon "$WORK/ok.toml"
wait_http "http://127.0.0.1:$port/health"
set +e
"$TRADINGBOT" --config "$WORK/ok.toml" >"$WORK/second.log" 2>&1
rc=$?
set -e
[ "$rc" -ne 0 ] || fail "a second daemon on the same port exited 0"
grep -q "127.0.0.1:$port" "$WORK/second.log" || fail "the error does not name the address: $(cat "$WORK/second.log")"
stop_daemon
pass "taken port reported clearly"

# trading.busy_poll_us = -1 with trading.cpu: the trading thread spins, pinned to a CPU this
# process may use, and the daemon serves and stops on SIGTERM as in the default mode; then a spin
# window.
cpu=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*\([0-9]*\).*/\1/p' /proc/self/status)
write_config "$WORK/spin.toml" "$port"
sed -i "s/^mode = \"paper\"\$/mode = \"paper\"\nbusy_poll_us = -1\ncpu = $cpu/" "$WORK/spin.toml"
start_daemon "$WORK/spin.toml"
wait_http "http://127.0.0.1:$port/health"
grep -q "trading thread: busy-polls (one core at 100%), pinned to cpu $cpu" "$WORK/daemon.log" ||
  fail "no busy-poll line in the log: $(cat "$WORK/daemon.log")"
status=$(curl -s --max-time 2 "http://127.0.0.1:$port/status")
echo "$status" | grep -q "\"busy_poll_us\":-1,\"cpu\":$cpu," || fail "/status does not show the wait mode and pin: $status"
stop_daemon
write_config "$WORK/window.toml" "$port"
sed -i 's/^mode = "paper"$/mode = "paper"\nbusy_poll_us = 300/' "$WORK/window.toml"
start_daemon "$WORK/window.toml"
wait_http "http://127.0.0.1:$port/health"
grep -q "trading thread: polls for 300 us after each event, then sleeps" "$WORK/daemon.log" ||
  fail "no spin-window line in the log: $(cat "$WORK/daemon.log")"
stop_daemon
pass "busy-poll (pinned, and a spin window): serves and stops cleanly"

# A CPU outside the allowed set: a start-up error naming the key, not a daemon on the wrong CPU.
if [ "$(nproc --all)" -lt 1024 ]; then
  write_config "$WORK/nocpu.toml" "$port"
  sed -i 's/^mode = "paper"$/mode = "paper"\ncpu = 1023/' "$WORK/nocpu.toml"
  set +e
  timeout 20 "$TRADINGBOT" --config "$WORK/nocpu.toml" >"$WORK/nocpu.log" 2>&1
  rc=$?
  set -e
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "a trading.cpu the process may not use: exit $rc"
  grep -q "trading.cpu: cannot pin the thread to cpu 1023" "$WORK/nocpu.log" ||
    fail "the error does not name trading.cpu: $(cat "$WORK/nocpu.log")"
  pass "an unusable trading.cpu is refused at start"
fi
