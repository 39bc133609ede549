// Schema migrations applied over libpqxx: the SQL itself is in store/migrations.cpp (the
// binary's list); this is the part that talks to the server.
#include <string>

#include "pg_sink.hpp"

namespace tb::store::detail {
namespace {

constexpr std::string_view kBootstrap = R"SQL(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))SQL";

// pg_advisory_xact_lock key: "tbschema" as a number, shared by every tradingbot process.
constexpr long long kMigrationLockKey = 0x7462736368656d61LL;

int read_version(pqxx::transaction_base& tx) {
  const auto exists = tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists[0][0].as<bool>()) return 0;
  return tx.exec("SELECT coalesce(max(version), 0) FROM schema_migrations")[0][0].as<int>();
}

}  // namespace


SchemaState schema_state(pqxx::connection_base& conn) {
  pqxx::read_transaction tx(conn);
  return schema_state_for(read_version(tx));
}

SchemaState apply_migrations(pqxx::connection_base& conn, int target) {
  if (target < 0 || target > latest_schema_version()) target = latest_schema_version();
  pqxx::work tx(conn);
  tx.exec("SET LOCAL lock_timeout = '30s'");
  tx.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
  tx.exec(std::string(kBootstrap));
  const int current = read_version(tx);
  for (const auto& m : schema_migrations()) {
    if (m.version <= current || m.version > target) continue;
    tx.exec(std::string(m.sql));
    tx.exec("INSERT INTO schema_migrations (version, name) VALUES (" + std::to_string(m.version) + ", " +
            tx.quote(std::string(m.name)) + ")");
  }
  const int now = read_version(tx);
  tx.commit();
  return schema_state_for(now);
}

std::string effective_conninfo(const std::string& conninfo, int connect_timeout_s) {
  // Bounded connects and dead-peer detection, unless the user chose otherwise.
  const std::string timeout = std::to_string(connect_timeout_s);
  const bool uri = conninfo.rfind("postgresql://", 0) == 0 || conninfo.rfind("postgres://", 0) == 0;
  std::string extra;
  auto add = [&](std::string_view key, const std::string& value) {
    if (conninfo.find(std::string(key) + "=") != std::string::npos) return;
    if (uri) {
      extra += (extra.empty() && conninfo.find('?') == std::string::npos ? "?" : "&");
    } else {
      extra += " ";
    }
    extra += std::string(key) + "=" + value;
  };
  add("connect_timeout", timeout);
  add("keepalives", "1");
  add("keepalives_idle", "10");
  add("keepalives_interval", "5");
  add("keepalives_count", "3");
  add("application_name", "tradingbot-store");
  if (uri) return conninfo + extra;
  return extra.substr(extra.empty() ? 0 : 1) + (conninfo.empty() ? "" : " " + conninfo);
}



Result<SchemaState> pg_inspect_schema(const std::string& conninfo) {
  try {
    pqxx::connection conn(effective_conninfo(conninfo, 5));
    return schema_state(conn);
  } catch (const std::exception& e) {
    return Error{std::string("schema check failed: ") + e.what()};
  }
}

Result<SchemaState> pg_migrate_schema(const std::string& conninfo, int target) {
  try {
    pqxx::connection conn(effective_conninfo(conninfo, 5));
    return apply_migrations(conn, target);
  } catch (const std::exception& e) {
    return Error{std::string("migration failed: ") + e.what()};
  }
}

}  // namespace tb::store::detail
