#!/usr/bin/env bash
# The daemon with a real PostgreSQL (issue 7), black-box: `tradingbot migrate` and `--check`
# report the schema; the running daemon records its run (version, config sha256, start/stop),
# shows the store in /status and /metrics, keeps /ready free of database reasons while the
# database is down, and flushes on SIGTERM. The database is a throwaway server started here
# (initdb into $WORK, as the `postgres` user when root) and stopped at the end.
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
pg_ctl() { as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 30 "$@" >/dev/null; }
pg_start() {
  pg_ctl -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $PGDIR -c fsync=off" start ||
    { cat "$PGDIR/server.log" >&2; fail "PostgreSQL did not start"; }
}
pg_start
CLEANUP+=("as_pg $PG_BIN/pg_ctl -D $PGDIR/data -m immediate -w -t 30 stop >/dev/null 2>&1")
conninfo="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres connect_timeout=2"
sql() { psql -X -A -t -q -d "$conninfo" -c "$1"; }

port=$(free_port)
write_config "$WORK/db.toml" "$port"
sed -i "s|^journal_dir = .*|&\npostgres_url = \"$conninfo\"|" "$WORK/db.toml"

# --check on an empty database: valid, schema reported as pending.
out=$("$TRADINGBOT" --config "$WORK/db.toml" --check) || fail "--check rejected a config with a reachable database"
grep -q 'schema version 0 of 2; pending: 1 core 2 market_data' <<<"$out" || fail "--check schema line: $out"
# migrate applies everything once, then reports up to date.
out=$("$TRADINGBOT" migrate --config "$WORK/db.toml") || fail "migrate failed: $out"
grep -q 'schema version 2 of 2 (up to date) (was version 0, applied 2 migration(s))' <<<"$out" || fail "migrate: $out"
out=$("$TRADINGBOT" migrate --config "$WORK/db.toml") || fail "second migrate failed: $out"
grep -q 'applied 0 migration(s)' <<<"$out" || fail "second migrate: $out"
[ "$(sql 'SELECT count(*) FROM schema_migrations')" = 2 ] || fail "schema_migrations does not hold 2 versions"
# A schema newer than the binary: --check fails with one line naming store.postgres_url.
sql "INSERT INTO schema_migrations (version, name) VALUES (99, 'future')"
rc=0
msg=$("$TRADINGBOT" --config "$WORK/db.toml" --check 2>&1) || rc=$?
[ "$rc" -ne 0 ] || fail "--check accepted a database schema newer than the binary"
[ "$(wc -l <<<"$msg")" -eq 1 ] || fail "--check printed more than one line: $msg"
grep -q 'store.postgres_url' <<<"$msg" || fail "--check does not name store.postgres_url: $msg"
sql "DELETE FROM schema_migrations WHERE version = 99"
# No database configured: migrate says so and fails; --check keeps its one-line output.
write_config "$WORK/nodb.toml" "$port"
rc=0
msg=$(env -u PGHOST -u PGDATABASE -u PGSERVICE "$TRADINGBOT" migrate --config "$WORK/nodb.toml" 2>&1) || rc=$?
[ "$rc" -ne 0 ] && grep -q 'no database' <<<"$msg" || fail "migrate without a database: rc=$rc $msg"
pass "migrate and --check report and apply the schema"

# The PostgreSQL driver is a module loaded only when a database is configured: it is found in
# the install layout (bin/tradingbot + lib/tradingbot/), and a binary installed without it
# fails --check with one line naming the module, while a config without a database never
# needs it.
mkdir -p "$WORK/prefix/bin" "$WORK/prefix/lib/tradingbot" "$WORK/bare"
cp "$TRADINGBOT" "$WORK/prefix/bin/tradingbot"
cp "$BINARY_DIR/libtradingbot-postgres.so" "$WORK/prefix/lib/tradingbot/"
out=$("$WORK/prefix/bin/tradingbot" --config "$WORK/db.toml" --check) || fail "--check from the install layout: $out"
grep -q 'schema version 2 of 2 (up to date)' <<<"$out" || fail "--check from the install layout: $out"
rm -rf "$WORK/prefix"
cp "$TRADINGBOT" "$WORK/bare/tradingbot"
rc=0
msg=$("$WORK/bare/tradingbot" --config "$WORK/db.toml" --check 2>&1) || rc=$?
[ "$rc" -ne 0 ] && [ "$(wc -l <<<"$msg")" -eq 1 ] && grep -q 'store.postgres_url' <<<"$msg" &&
  grep -q 'libtradingbot-postgres.so could not be loaded' <<<"$msg" ||
  fail "a binary without its driver module accepted a database config (rc $rc): $msg"
env -u PGHOST -u PGDATABASE -u PGSERVICE "$WORK/bare/tradingbot" --config "$WORK/nodb.toml" --check >/dev/null ||
  fail "a binary without the driver module rejected a config without a database"
rm -rf "$WORK/bare"
pass "the driver module: install layout, missing module refused by --check, not needed without a database"

start_daemon "$WORK/db.toml"
wait_http "http://127.0.0.1:$port/health"
status=$(curl -s --max-time 5 "http://127.0.0.1:$port/status")
grep -q '"store":{"running":true' <<<"$status" || fail "/status has no running store: $status"
grep -q '"db_up":true' <<<"$status" || fail "/status: database not up: $status"
metrics=$(curl -s --max-time 5 "http://127.0.0.1:$port/metrics")
grep -q '^tradingbot_store_db_up 1$' <<<"$metrics" || fail "/metrics lacks tradingbot_store_db_up 1"
grep -q '^tradingbot_store_lag_records ' <<<"$metrics" || fail "/metrics lacks tradingbot_store_lag_records"
grep -q '^tradingbot_store_journal_bytes ' <<<"$metrics" || fail "/metrics lacks tradingbot_store_journal_bytes"
for _ in $(seq 1 100); do [ "$(sql 'SELECT count(*) FROM runs')" = 1 ] && break; sleep 0.05; done
[ "$(sql 'SELECT count(*) FROM runs WHERE stopped_at IS NULL')" = 1 ] || fail "the run's start was not recorded"
pass "the running daemon records its run and shows the store in /status and /metrics"

# Database down: trading goes on, the store reports it, /ready gains no database reason.
pg_ctl -m immediate stop
ready_before=$(curl -s --max-time 5 "http://127.0.0.1:$port/ready")
down=0
for _ in $(seq 1 200); do
  curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | grep -q '^tradingbot_store_db_up 0$' && { down=1; break; }
  sleep 0.05
done
[ "$down" = 1 ] || fail "the idle store did not report the database down within 10 s"
ready_after=$(curl -s --max-time 5 "http://127.0.0.1:$port/ready")
[ "$ready_before" = "$ready_after" ] || fail "/ready changed while the database went down: $ready_after"
grep -qi 'store\|database\|postgres' <<<"$ready_after" && fail "/ready names the database: $ready_after"
pg_start
stop_daemon
grep -q 'store: flushed' "$WORK/daemon.log" || fail "no store flush in the log"
hash=$(sha256sum "$WORK/db.toml" | cut -d' ' -f1)
row=$(sql "SELECT config_hash, stop_detail, stopped_at IS NOT NULL FROM runs")
[ "$row" = "$hash|SIGTERM|t" ] || fail "runs row after SIGTERM: '$row' (want '$hash|SIGTERM|t')"
pass "SIGTERM flushes the store: the run's stop is in the database"
