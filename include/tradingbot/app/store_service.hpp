// StoreService: the daemon's persistence wiring (issue 7). It owns the tb::store::Store and
// does, in order, on the main thread at start-up (which then becomes the trading thread):
//   1. Store::open(): journal opened and repaired; with a database, connect + migrations;
//   2. Store::recover(): open orders, positions, balances and last fills rebuilt from the
//      database (and the journal records it had not committed) or from the journal alone;
//      kept here until the trading loop takes it (take_recovered()) and reconciles it against
//      the exchange BEFORE the strategy arms;
//   3. Store::start() (the store thread), a RunRecord Start (run id, version, config hash, pid),
//      and a pump timer on the trading io_context that moves parked overflow records into the
//      ring even when no new record arrives.
// At shutdown (trading thread, after the trading loop's last enqueue): stop() enqueues the
// RunRecord Stop and flushes: everything is journaled (fsync'd), then the database gets a
// bounded grace to commit it; what it does not commit is backfilled at the next start.
//
// Durability contract for the trading loop (see tb::store::Store): a record handed to
// producer() is ACKNOWLEDGED once it is journaled and fsync'd, i.e. once
// acknowledged(ticket) is true for the ticket producer_ticket() returned right after the
// enqueue. A SIGKILL at any moment loses no acknowledged record; an acknowledged fill reaches
// PostgreSQL exactly once (backfill at the next start if needed). A fill not yet acknowledged
// when the process dies is recovered by reconciliation (myTrades from
// recovered().last_fills[symbol].trade_id + 1).
//
// Without [store] postgres_url and without PGHOST/PGDATABASE/PGSERVICE the service runs journal
// only. A database that is down is not a readiness problem (/ready stays 200, trading goes on):
// the store logs a warning when it goes down and every minute while it stays down, and /status
// and /metrics show db_up=false and the lag.
//
// Threads: open(), take_recovered(), producer(), producer_ticket(), acknowledged(), stop():
// the trading thread (main thread). status(): any thread (relaxed atomics).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tradingbot/app/status.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/http/json_writer.hpp"
#include "tradingbot/http/prometheus_writer.hpp"
#include "tradingbot/store/store.hpp"

namespace tb::app {

class StoreService {
 public:
  ~StoreService();  // stops the store (flush with no DB grace) if stop() was not called
  StoreService(const StoreService&) = delete;
  StoreService& operator=(const StoreService&) = delete;

  // Opens, recovers, starts the store thread and the pump timer on `trading`, and enqueues
  // the run's Start record. An error (journal unusable, database schema newer than this
  // binary) means the daemon must not start; an unreachable database is only a warning.
  static Result<std::unique_ptr<StoreService>> open(const config::Config& config, const std::string& config_path,
                                                    boost::asio::io_context& trading);

  // What the store knew at start. The trading loop takes it once, reconciles it against the
  // exchange, then arms. (recovered() to look without taking.)
  [[nodiscard]] const store::RecoveredState& recovered() const noexcept { return recovered_; }
  store::RecoveredState take_recovered() noexcept { return std::move(recovered_); }

  // The trading thread's non-blocking, allocation-free handle (overflow only while the ring is
  // full, see StoreProducer).
  store::StoreProducer& producer() noexcept { return store_->producer(); }
  // Ticket of the last record the producer accepted (call right after enqueue()); 0 if none.
  [[nodiscard]] std::uint64_t producer_ticket() const noexcept { return store_->last_ticket(); }
  // True once the record with this ticket (and every earlier one) is journaled and fsync'd.
  [[nodiscard]] bool acknowledged(std::uint64_t ticket) const noexcept { return store_->acknowledged(ticket); }

  // Cancels the pump timer (so the io_context can run out of work). Trading thread.
  void cancel_timers() noexcept;
  // Enqueues the Stop record with `reason`, flushes and joins the store thread. Idempotent.
  void stop(std::string_view reason);

  [[nodiscard]] StoreStatus status() const;  // any thread
  [[nodiscard]] const std::string& run_id() const noexcept { return run_id_; }
  [[nodiscard]] const std::string& config_hash() const noexcept { return config_hash_; }

 private:
  StoreService(std::unique_ptr<store::Store> store, boost::asio::io_context& trading);
  void arm_pump();

  std::unique_ptr<store::Store> store_;
  boost::asio::steady_timer pump_timer_;
  store::RecoveredState recovered_;
  std::string run_id_;
  std::string config_hash_;
  std::string version_;
  std::string database_;  // redacted description for /status
  bool stopped_ = false;
  bool timers_cancelled_ = false;
};

// SHA-256 hex of the file's bytes ("" when unreadable): the runs table's config_hash.
std::string sha256_file_hex(const std::string& path);

// /status "store" object and /metrics tradingbot_store_* families (HTTP thread).
void write_store_status(http::JsonWriter& json, const StoreStatus& status);
void write_store_metrics(http::PrometheusWriter& metrics, const StoreStatus& status);

}  // namespace tb::app
