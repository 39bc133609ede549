// The store's view of a database, internal to the store module: DatabaseSink is what the store
// thread asks of a connection; DatabaseDriver is the table of entry points a driver module
// hands over.
//
// The PostgreSQL driver (src/store/postgres/: libpqxx on libpq) is a separate module,
// libtradingbot-postgres.so, loaded with dlopen() the first time a database is configured or a
// schema command runs. libpq brings some twenty libraries with it (GnuTLS, Kerberos, LDAP,
// SASL...: 3.6 MB resident); a daemon without a database (paper trading, backtests, the
// simulator, the demo) never maps them. The module is built with the binary and installed next
// to it or in ../lib/tradingbot/; one from another build is refused by its build id, not
// trusted with our record layouts. It is never unloaded.
//
// DatabaseSink: one thread at a time (the main thread before the store thread starts, then the
// store thread). postgres_driver(): any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tradingbot/core/result.hpp"
#include "tradingbot/store/migrations.hpp"
#include "tradingbot/store/records.hpp"
#include "tradingbot/store/recovery.hpp"

namespace tb::store::detail {

class DatabaseSink {
 public:
  virtual ~DatabaseSink() = default;

  // Connects, migrates to the latest schema, prepares staging tables and reads the highest
  // sequence of this journal already committed. False with `error` set on failure.
  virtual bool connect(std::string& error) = 0;
  virtual void disconnect() noexcept = 0;
  [[nodiscard]] virtual bool connected() const noexcept = 0;
  [[nodiscard]] virtual std::uint64_t applied_seq() const noexcept = 0;

  // Commits records (ascending seq) in one transaction together with the new applied_seq.
  // On failure the connection is dropped (the caller reconnects with backoff).
  virtual bool write(const SequencedRecord* records, std::size_t count, std::string& error) = 0;

  // Makes every earlier commit durable (WAL flushed; the batches commit with synchronous_commit
  // off). Call before checkpointing the journal through applied_seq().
  virtual bool confirm_durable(std::string& error) = 0;

  // Non-blocking: reads what the socket holds; false (and disconnected) when the server has
  // closed the connection. Lets an idle store notice an outage without writing.
  virtual bool check_alive(std::string& error) = 0;

  // Loads open orders, positions, balances and last fills into `builder`.
  virtual bool load_state(RecoveryBuilder& builder, std::string& error) = 0;
};

struct SinkOptions {
  std::string conninfo;  // libpq URI or key=value; "" = PG* environment
  std::string journal_id;
  int connect_timeout_s = 3;
  int statement_timeout_ms = 10'000;
};

// What the module's entry point returns. build_id stays the first member in every version, so
// a module from another build can always be told apart before anything else is read.
struct DatabaseDriver {
  const char* build_id;
  std::unique_ptr<DatabaseSink> (*create_sink)(const SinkOptions& options);
  Result<SchemaState> (*inspect_schema)(const std::string& conninfo);
  Result<SchemaState> (*migrate_schema)(const std::string& conninfo, int target);
};

inline constexpr const char* kPostgresModuleFile = "libtradingbot-postgres.so";
// extern "C" const DatabaseDriver* tb_postgres_driver(): the module's one exported symbol.
inline constexpr const char* kPostgresModuleEntry = "tb_postgres_driver";

// This build's identity (project version and git revision at configure time).
const char* build_id() noexcept;

// Loads the PostgreSQL module once; every later call returns the same driver or the same
// error, which names each path tried and why it failed.
Result<const DatabaseDriver*> postgres_driver();

}  // namespace tb::store::detail
