// Internal to the store module: the libpqxx side (keeps <pqxx/pqxx> out of public headers).
// PgSink: one database connection writing batches; owned by the store thread (or by the main
// thread before the store thread starts).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <pqxx/pqxx>
#include <pqxx/tablewriter>  // pg_sink.cpp: raw COPY lines (see PgSink::write)

#include "tradingbot/store/migrations.hpp"
#include "tradingbot/store/records.hpp"
#include "tradingbot/store/recovery.hpp"

namespace tb::store::detail {

SchemaState schema_state(pqxx::connection_base& conn);
SchemaState apply_migrations(pqxx::connection_base& conn, int target);
// Adds connect_timeout, TCP keepalives and application_name unless the user set them.
std::string effective_conninfo(const std::string& conninfo, int connect_timeout_s);

class PgSink {
 public:
  PgSink(std::string conninfo, std::string journal_id, int connect_timeout_s, int statement_timeout_ms);

  // Connects, migrates to the latest schema, prepares staging tables and reads the highest
  // sequence of this journal already committed. False with `error` set on failure.
  bool connect(std::string& error);
  void disconnect() noexcept;
  [[nodiscard]] bool connected() const noexcept { return conn_ != nullptr; }
  [[nodiscard]] std::uint64_t applied_seq() const noexcept { return applied_seq_; }

  // Commits records (ascending seq) in one transaction together with the new applied_seq.
  // On failure the connection is dropped (the caller reconnects with backoff).
  bool write(const SequencedRecord* records, std::size_t count, std::string& error);

  // Makes every earlier commit durable (WAL flushed; the batches commit with synchronous_commit
  // off). Call before checkpointing the journal through applied_seq().
  bool confirm_durable(std::string& error);

  // Non-blocking: reads what the socket holds; false (and disconnected) when the server has
  // closed the connection. Lets an idle store notice an outage without writing.
  bool check_alive(std::string& error);

  // Loads open orders, positions, balances and last fills into `builder`.
  bool load_state(RecoveryBuilder& builder, std::string& error);

 private:
  std::string conninfo_;
  std::string journal_id_;
  int connect_timeout_s_;
  int statement_timeout_ms_;
  std::unique_ptr<pqxx::connection> conn_;
  std::uint64_t applied_seq_ = 0;
  std::string kline_month_;
  std::string copy_buffer_;  // COPY text of one batch of fills, reused  // month whose partitions were last ensured ("2026-11")
};

}  // namespace tb::store::detail
