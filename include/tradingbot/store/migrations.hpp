// The PostgreSQL schema as numbered migrations, and the functions that report and apply it
// (the store thread at connect, and `tradingbot migrate` / `--check` on the main thread).
// Each migration runs once, in order, inside one transaction holding an advisory lock, and is
// recorded in schema_migrations(version, name, applied_at). A migration is never edited once
// released: changes go into a new one.
//   v1 core: orders (every transition) + order_state (latest per client order id, partial
//      index on open orders) + open_orders view, fills (PRIMARY KEY (symbol, trade_id): Binance
//      trade ids are unique per symbol), positions, balances, runs, store_progress (highest
//      journal sequence committed per journal id: exactly-once backfill).
//   v2 market data: equity_samples, klines range-partitioned by month with a DEFAULT partition,
//      tb_ensure_kline_partitions(from, months) and tb_drop_kline_partitions(older_than) for
//      retention.
// Blocking calls (network): never on the trading thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/core/result.hpp"

namespace tb::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// All migrations, ascending.
const std::vector<Migration>& schema_migrations();
int latest_schema_version() noexcept;

struct SchemaState {
  int current = 0;                 // 0: empty database (no schema_migrations table)
  int latest = 0;                  // what this binary knows
  std::vector<Migration> pending;  // versions in (current, latest]
  [[nodiscard]] bool up_to_date() const noexcept { return current == latest; }
  [[nodiscard]] bool newer_than_binary() const noexcept { return current > latest; }
  std::string describe() const;    // "schema version 1 of 2; pending: 2 market_data"
};

// What this binary reports for a database at schema version `current`.
SchemaState schema_state_for(int current);

// Loads the PostgreSQL driver module (store/database_driver.hpp) unless it is loaded already:
// "" when it is usable, else why not (each path tried). --check asks, so that an installation
// missing the module fails there and not when the daemon starts.
std::string database_driver_problem();

// Both load the PostgreSQL driver module (store/database_driver.hpp) on first use; a missing
// module is an error result like an unreachable database.
// Connects with `conninfo` (libpq URI or key=value; "" = PG* environment) and reports.
Result<SchemaState> inspect_schema(const std::string& conninfo);
// Applies every pending migration up to `target` (default: latest) and reports the new state.
Result<SchemaState> migrate_schema(const std::string& conninfo, int target = -1);

}  // namespace tb::store
