#!/usr/bin/env bash
# Restart recovery of the daemon itself (issues 6, 7), black-box, with a real PostgreSQL: a
# previous run's state (a position, the quote balance, one open paper order, its last fill) is
# in the database; the paper daemon restores the position, average entry, realized PnL and cash
# before trading arms, closes the open paper order (the paper venue restarted: CANCELED with a
# reason, recorded), and after a SIGKILL the next start restores the same state again.
# The daemon cannot make fills itself yet (no market-data connection in the daemon), so the
# previous run's state is written with SQL as the store would have written it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_BIN=${TB_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$PG_BIN/initdb" ] || fail "$PG_BIN/initdb missing: run scripts/setup.sh (installs postgresql)"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

PGDIR=$WORK/pg
mkdir -p "$PGDIR"
chmod 711 "$WORK"
[ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
as_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log" >&2; fail "initdb failed"; }
pg_port=$(free_port)
as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $PGDIR -c fsync=off" start >/dev/null ||
  { cat "$PGDIR/server.log" >&2; fail "PostgreSQL did not start"; }
CLEANUP+=("as_pg $PG_BIN/pg_ctl -D $PGDIR/data -m immediate -w -t 30 stop >/dev/null 2>&1")
conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres connect_timeout=2"
sql() { psql -X -A -t -q -d "$conninfo" -c "$1"; }

port=$(free_port)
write_config "$WORK/db.toml" "$port" '[market]' 'symbols = ["BTCUSDT"]'
sed -i "s|^journal_dir = .*|&\npostgres_url = \"$conninfo\"|" "$WORK/db.toml"
"$TRADINGBOT" migrate --config "$WORK/db.toml" >/dev/null || fail "migrate failed"

sql "INSERT INTO positions VALUES ('BTCUSDT', 0.01, 60000.1234, 12.5, now())"
sql "INSERT INTO balances VALUES ('USDT', 9411.23, 0, now())"
sql "INSERT INTO order_state (client_order_id, exchange_order_id, symbol, side, type, time_in_force, status, price,
       qty, filled_qty, cum_quote, reason, event_time)
     VALUES ('tbPREV-1', 41, 'BTCUSDT', 'BUY', 'LIMIT', 'GTC', 'PARTIALLY_FILLED', 59000, 0.002, 0.001, 59, '', now())"
sql "INSERT INTO fills VALUES ('BTCUSDT', 777, 'tbPREV-1', 41, 'BUY', true, 59000, 0.001, 59, 0.059, 'USDT', now())"

# check_restored WHEN: /status shows the restored BTCUSDT position, realized PnL and cash.
check_restored() {
  local status
  for _ in $(seq 1 100); do  # /status is published before the trading loop is set up
    status=$(curl -s --max-time 5 "http://127.0.0.1:$port/status")
    grep -q '"trading":{"active":true' <<<"$status" && break
    sleep 0.05
  done
  grep -q '"BTCUSDT":{"position":"0.01","avg_entry":"60000.1234"' <<<"$status" ||
    fail "$1: position/avg entry not restored: $status"
  grep -q '"realized":"12.5"' <<<"$status" || fail "$1: realized PnL not restored: $status"
  grep -q '"cash":"9411.23"' <<<"$status" || fail "$1: cash not restored: $status"
  grep -q '"restored_positions":1' <<<"$status" || fail "$1: /status store.recorder lacks restored_positions: $status"
}

start_daemon "$WORK/db.toml"
wait_http "http://127.0.0.1:$port/health"
check_restored "first start"
grep -q '"paper_canceled":1' <<<"$(curl -s --max-time 5 "http://127.0.0.1:$port/status")" ||
  fail "the previous run's open paper order was not canceled"
grep -q 'tradingbot_store_recorded_total{kind="order",outcome="queued"} 1' \
  <<<"$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")" || fail "/metrics lacks the recorded order"
# The cancel reaches the database (journal first, then the store thread's commit).
for _ in $(seq 1 100); do
  [ "$(sql "SELECT status || '/' || reason FROM order_state WHERE client_order_id = 'tbPREV-1'")" = \
    'CANCELED/paper venue restarted' ] && break
  sleep 0.05
done
[ "$(sql "SELECT status || '/' || reason FROM order_state WHERE client_order_id = 'tbPREV-1'")" = \
  'CANCELED/paper venue restarted' ] || fail "the cancel of the restored paper order is not in the database"
grep -q 'restore: 1 open paper order(s) of the previous run canceled' "$WORK/daemon.log" || fail "no restore warning in the log"
pass "the paper daemon restores position, avg entry, realized PnL and cash, and closes the stale paper order"

kill -9 "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
start_daemon "$WORK/db.toml"
wait_http "http://127.0.0.1:$port/health"
check_restored "after SIGKILL"
grep -q '"paper_canceled":0' <<<"$(curl -s --max-time 5 "http://127.0.0.1:$port/status")" ||
  fail "after SIGKILL: the already canceled order came back"
[ "$(sql "SELECT count(*) FROM orders WHERE client_order_id = 'tbPREV-1'")" = 1 ] ||
  fail "after SIGKILL: the cancel was recorded more than once"
stop_daemon
pass "after SIGKILL the next start restores the same state, and nothing twice"
