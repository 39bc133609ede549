// The PostgreSQL driver module's internals (libpqxx stays inside libtradingbot-postgres.so; see
// store/database_driver.hpp for why it is a module). PgSink: one database connection writing
// batches, behind the store's DatabaseSink interface; owned by the store thread (or by the main
// thread before the store thread starts).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>  // pg_sink.cpp: raw COPY lines (see PgSink::write)

#include "../database_driver.hpp"

namespace tb::store::detail {

SchemaState schema_state(pqxx::connection_base& conn);
SchemaState apply_migrations(pqxx::connection_base& conn, int target);
// Adds connect_timeout, TCP keepalives and application_name unless the user set them.
std::string effective_conninfo(const std::string& conninfo, int connect_timeout_s);
// The driver's schema commands (DatabaseDriver::inspect_schema / migrate_schema).
Result<SchemaState> pg_inspect_schema(const std::string& conninfo);
Result<SchemaState> pg_migrate_schema(const std::string& conninfo, int target);

class PgSink final : public DatabaseSink {
 public:
  explicit PgSink(const SinkOptions& options);

  bool connect(std::string& error) override;
  void disconnect() noexcept override;
  [[nodiscard]] bool connected() const noexcept override { return conn_ != nullptr; }
  [[nodiscard]] std::uint64_t applied_seq() const noexcept override { return applied_seq_; }
  bool write(const SequencedRecord* records, std::size_t count, std::string& error) override;
  bool confirm_durable(std::string& error) override;
  bool check_alive(std::string& error) override;
  bool load_state(RecoveryBuilder& builder, std::string& error) override;

 private:
  std::string conninfo_;
  std::string journal_id_;
  int connect_timeout_s_;
  int statement_timeout_ms_;
  std::unique_ptr<pqxx::connection> conn_;
  std::uint64_t applied_seq_ = 0;
  std::string kline_month_;   // month whose partitions were last ensured ("2026-11")
  std::string copy_buffer_;   // COPY text of one batch of fills, reused
};

}  // namespace tb::store::detail
