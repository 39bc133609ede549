#!/usr/bin/env bash
# trading.mode = "live" end to end, as a user runs it: the real binary against `tradingbot sim`
# (Binance's wire protocol over TLS on 127.0.0.1, HMAC key from the environment): the order
# gateway arms (time sync, exchangeInfo, account, WS API user data, reconciliation), a manual
# order goes through the risk gate to the exchange and back, the cancel reaches it too, the
# market maker quotes and gets filled, and SIGTERM exits 0. A wrong secret never arms. Then a
# SIGKILL with an order open and a filled position: the restart restores both from the journal,
# reconciles them with the exchange (the open order still open, the fills not applied twice).
source "$(dirname "$0")/lib.sh"
[ -x "$TRADINGBOT" ] || fail "$TRADINGBOT is not built"
command -v python3 >/dev/null || fail "python3 is needed to read /status"

sed -e "s|^listen = .*|listen = \"127.0.0.1:0\"|" -e "s|^port_file = .*|port_file = \"$WORK/sim.port\"|" \
    -e "s|^cert_dir = .*|cert_dir = \"$WORK/pki\"|" "$SOURCE_DIR/config/sim.toml" >"$WORK/sim.toml"
"$TRADINGBOT" sim --config "$WORK/sim.toml" >"$WORK/sim.log" 2>&1 &
sim_pid=$!
CLEANUP+=("kill -9 $sim_pid 2>/dev/null")
for _ in $(seq 1 200); do
  [ -s "$WORK/sim.port" ] && [ -s "$WORK/pki/ca.pem" ] && break
  sleep 0.05
done
[ -s "$WORK/sim.port" ] || { cat "$WORK/sim.log" >&2; fail "the simulator did not start"; }
sim_port=$(cat "$WORK/sim.port")

port=$(free_port)
write_config "$WORK/live.toml" "$port" \
  '[exchange]' "rest_url = \"https://127.0.0.1:$sim_port\"" "ws_url = \"wss://127.0.0.1:$sim_port\"" \
  "ws_api_url = \"wss://127.0.0.1:$sim_port/ws-api/v3\"" "ca_file = \"$WORK/pki/ca.pem\"" \
  '[market]' 'symbols = ["BTCUSDT", "ETHUSDT"]' \
  '[strategy]' 'name = "market_maker"' 'symbols = ["BTCUSDT"]'
sed -i 's/mode = "paper"/mode = "live"/' "$WORK/live.toml"
base="http://127.0.0.1:$port"
token=live-test-token
status_field() {  # status_field PYTHON-EXPRESSION-ON-s
  curl -s --max-time 2 "$base/status" | python3 -c "import json,sys; s=json.load(sys.stdin); print($1)"
}
wait_until() {  # wait_until SECONDS DESCRIPTION PYTHON-CONDITION-ON-s
  local seconds=$1 what=$2 cond=$3
  for _ in $(seq 1 $((seconds * 10))); do
    [ "$(status_field "$cond" 2>/dev/null)" = True ] && return 0
    sleep 0.1
  done
  echo "--- /status:" >&2; curl -s --max-time 2 "$base/status" >&2 || true
  echo "--- daemon log:" >&2; tail -50 "$WORK/daemon.log" >&2
  fail "$what within ${seconds}s"
}

# A wrong secret: the account call is refused (-1022), the gateway never arms, /ready says why.
BINANCE_API_KEY=sim-demo-key BINANCE_API_SECRET=wrong-secret TRADINGBOT_CONTROL_TOKEN=$token start_daemon "$WORK/live.toml"
wait_http "$base/health"
wait_until 10 "the wrong secret was not reported" "'-1022' in s['trading']['live']['problem']"
[ "$(http_status "$base/ready")" = 503 ] || fail "/ready is not 503 while the live gateway is not armed"
ready=$(curl -s --max-time 2 "$base/ready")
[[ $ready == *"live: order gateway"* ]] || fail "/ready does not name the live gateway: $ready"
code=$(http_status "$base/control/halt" -X POST -H "Authorization: Bearer $token")
[ "$code" = 503 ] || fail "control before the live loop exists answered $code, not 503"
stop_daemon
pass "a wrong API secret never arms: -1022 in /status, /ready 503 naming the gateway, control 503"

BINANCE_API_KEY=sim-demo-key BINANCE_API_SECRET=sim-demo-secret TRADINGBOT_CONTROL_TOKEN=$token start_daemon "$WORK/live.toml"
wait_http "$base/health"
wait_until 20 "the live gateway did not arm" "s['trading']['live']['gateway'] == 'armed'"
[ "$(status_field "s['trading']['venue']")" = live ] || fail "/status trading.venue is not live"
grep -q "strategy 'market_maker', 100000 USDT in the account" "$WORK/daemon.log" ||
  fail "the account's USDT balance did not become the book's cash: $(grep 'live trading' "$WORK/daemon.log")"
metrics=$(curl -s --max-time 2 "$base/metrics")
grep -q '^tradingbot_live_armed 1' <<<"$metrics" || fail "/metrics lacks tradingbot_live_armed 1"
pass "live gateway armed against the simulator; account cash 100000 USDT; /metrics live_armed 1"

# The market maker quotes on the exchange and the simulator's flow fills it.
wait_until 30 "the market maker got no fill" "s['trading']['orders']['fills'] >= 1"
[ "$(status_field "s['trading']['live']['sent_ws_api'] >= 1")" = True ] || fail "no order went over the WS API"
pass "market maker quoting live: orders over the WS API, fills applied ($(status_field "s['trading']['orders']['fills']") so far)"

# A manual order through the control endpoint, then its cancel.
# 0.5% under the bid: inside the risk gate's price band, far from filling.
price=$(curl -s --max-time 2 "$base/price/BTCUSDT" | python3 -c 'import json,sys; print("%.2f" % (float(json.load(sys.stdin)["bid"]) * 0.995))')
# The market maker shares the risk gate's order rate limit: a refusal for it is retried.
for _ in $(seq 1 50); do
  answer=$(curl -s --max-time 5 -X POST -H "Authorization: Bearer $token" \
    -d "{\"symbol\":\"BTCUSDT\",\"side\":\"BUY\",\"type\":\"LIMIT\",\"price\":\"$price\",\"quantity\":\"0.00100\"}" "$base/control/order")
  [[ $answer == *order_rate_limit* ]] || break
  sleep 0.1
done
echo "$answer" | grep -q '"ok":true' || fail "manual order refused: $answer"
id=$(echo "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_order_id"])')
answer=$(curl -s --max-time 5 -X POST -H "Authorization: Bearer $token" \
  -d "{\"symbol\":\"BTCUSDT\",\"client_order_id\":\"$id\"}" "$base/control/cancel")
echo "$answer" | grep -q '"ok":true' || fail "manual cancel refused: $answer"
grep -q "control: cancel .*ok" "$WORK/daemon.log" || fail "the control cancel was not logged"
pass "manual order $id placed and canceled through /control on the live venue"

stop_daemon
grep -q 'illegal' "$WORK/daemon.log" && fail "illegal order transitions logged: $(grep illegal "$WORK/daemon.log" | head -3)"
grep -q 'live trading: every open order canceled' "$WORK/daemon.log" ||
  fail "SIGTERM left the market maker's quotes on the exchange: $(grep 'live trading' "$WORK/daemon.log" | tail -3)"
pass "SIGTERM halts, cancels the market maker's open quotes on the exchange, exits 0"

# --- Restart recovery, no strategy (only our manual orders move the position). Same journal:
# the first run's fills are in the restored position and must not be applied again.
sed -e 's/^name = "market_maker"/name = ""/' "$WORK/live.toml" >"$WORK/manual.toml"
# While the simulated market is held still around the SIGKILL (below), no market data flows: the
# dead-man must not cancel the resting order meanwhile.
printf '[risk]\nmarket_data_stale_ms = 120000\n' >>"$WORK/manual.toml"
sim_admin() {  # sim_admin ACTION: the simulator's fault switches (pause / resume the agents)
  curl -s --max-time 5 --cacert "$WORK/pki/ca.pem" -X POST "https://127.0.0.1:$sim_port/sim/admin/$1" | grep -q '"ok":true' ||
    fail "sim admin $1 failed"
}
order() {  # order SIDE PRICE QTY -> client id
  local answer
  answer=$(curl -s --max-time 5 -X POST -H "Authorization: Bearer $token" \
    -d "{\"symbol\":\"BTCUSDT\",\"side\":\"$1\",\"type\":\"LIMIT\",\"price\":\"$2\",\"quantity\":\"$3\"}" "$base/control/order")
  [[ $answer == *'"ok":true'* ]] || fail "manual $1 at $2 refused: $answer"
  echo "$answer" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_order_id"])'
}
top() {  # top bid|ask FACTOR: the live quote times FACTOR, once market data has one
  local p
  for _ in $(seq 1 100); do
    p=$(curl -s --max-time 2 "$base/price/BTCUSDT" |
        python3 -c "import json,sys; q=json.load(sys.stdin); print('%.2f' % (float(q.get('$1') or 0) * $2))" 2>/dev/null) || p=0.00
    [ "$p" != 0.00 ] && { echo "$p"; return 0; }
    sleep 0.1
  done
  fail "no BTCUSDT quote from /price"
}
diag_fail() {
  echo "--- /status:" >&2; curl -s --max-time 2 "$base/status" >&2 || true
  echo; echo "--- daemon log:" >&2; tail -40 "$WORK/daemon.log" >&2
  fail "$@"
}
position() { status_field "s['trading']['positions']['BTCUSDT']['position']"; }

BINANCE_API_KEY=sim-demo-key BINANCE_API_SECRET=sim-demo-secret TRADINGBOT_CONTROL_TOKEN=$token start_daemon "$WORK/manual.toml"
wait_http "$base/health"
wait_until 20 "the live gateway did not arm (manual run)" "s['trading']['live']['gateway'] == 'armed'"
order BUY "$(top ask 1.002)" 0.00200 >/dev/null  # crosses the ask: fills at once
wait_until 10 "the crossing buy did not fill" "s['trading']['orders']['fills'] >= 1 and s['trading']['orders']['live'] == 0"
resting=$(order BUY "$(top bid 0.96)" 0.00100)  # 4% under the bid
wait_until 10 "the resting buy was not acknowledged" "s['trading']['orders']['live'] == 1"
# Hold the simulated market still until the comparison is done: its agents can walk the price
# 4% in a slow run, and a real fill of the resting order would change the position legitimately.
sim_admin pause
# An order's final status can arrive (order answer) before its last execution reports: let the
# fills settle, and the store thread journal them (fdatasync within its flush interval).
sleep 1
before=$(position)
sleep 0.5
kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true

BINANCE_API_KEY=sim-demo-key BINANCE_API_SECRET=sim-demo-secret TRADINGBOT_CONTROL_TOKEN=$token start_daemon "$WORK/manual.toml"
wait_http "$base/health"
wait_until 20 "the live gateway did not arm after the restart" "s['trading']['live']['gateway'] == 'armed'"
[ "$(status_field "s['store']['recorder']['restored_orders']")" = 1 ] || diag_fail "the open order was not restored"
[ "$(status_field "s['store']['recorder']['restored_positions']")" = 1 ] || diag_fail "the position was not restored"
after=$(position)
[ "$after" = "$before" ] || diag_fail "position $before before the SIGKILL, $after after the restart (fills applied twice or lost)"
[ "$(status_field "s['trading']['orders']['live']")" = 1 ] || fail "the restored order is not live after reconciliation"
answer=$(curl -s --max-time 5 -X POST -H "Authorization: Bearer $token" \
  -d "{\"symbol\":\"BTCUSDT\",\"client_order_id\":\"$resting\"}" "$base/control/cancel")
[[ $answer == *'"ok":true'* ]] || fail "the restored order could not be canceled: $answer"
wait_until 10 "the restored order's cancel was not confirmed" "s['trading']['orders']['live'] == 0"
sim_admin resume
grep -q 'reconciled 1 open orders' "$WORK/daemon.log" || diag_fail "the exchange did not show exactly our one open order"
stop_daemon
pass "SIGKILL with an open order and a position: both restored, reconciled (position $after kept exactly), order canceled"
