// Store: persistence of orders, fills, positions, balances, equity, klines and runs, off the
// hot path (ARCHITECTURE.md section 1). The trading thread enqueues plain records into a
// bounded ring (StoreProducer); the store thread drains it, ALWAYS appends to the local journal
// first (fsync per batch), then writes the batch to PostgreSQL in one transaction (COPY into
// staging tables + INSERT ... SELECT; fills ON CONFLICT DO NOTHING on (symbol, trade_id)) that
// also advances store_progress(journal_id, applied_seq). When the database is down, slow or not
// configured, records stay in the journal; on reconnect (exponential backoff with jitter) the
// store thread backfills from the journal in sequence order from the database's applied_seq,
// so each record is committed exactly once. Journal segments wholly committed are pruned.
//
// Durability contract. A record is ACKNOWLEDGED once the store thread has appended it to the
// journal and fdatasync()ed the batch: acknowledged(ticket) for the ticket last_ticket()
// returned right after its enqueue() (tickets count the records this Store accepted, in
// order; dropped samples get none). With the default flush interval that is within ~50 ms
// plus one fsync of the enqueue. An acknowledged record survives a SIGKILL, a power cut and a
// database outage, and reaches PostgreSQL exactly once (store_progress per journal id; fills
// also unique on (symbol, trade_id)), at the latest by backfill at the next start. A SIGKILL
// loses at most the records not yet acknowledged (still in the ring or overflow); for fills
// those are recovered by reconciliation from the exchange (RecoveredState::last_fills says
// where to start). "Committed" (in PostgreSQL) is stats().db_seq >= the record's sequence;
// batches commit with synchronous_commit off, so "durable in PostgreSQL" (survives a database
// crash) is stats().db_durable_seq >= it, confirmed by a synchronous commit at every journal
// checkpoint (checkpoint_interval). A commit lost in a database crash is backfilled again.
//
// Lifecycle, on the main thread, which then becomes the trading thread:
//   auto store = Store::open(StoreOptions::from_config(cfg.store));  // journal repaired, DB tried
//   auto state = store.value()->recover();   // open orders, positions -> oms reconciliation
//   store.value()->start();                  // spawns the store thread
//   store.value()->producer().enqueue(FillRecord{...});   // trading thread, never blocks
//   ... store.value()->snapshot() for /metrics and /status (any thread) ...
//   store.value()->stop();                   // trading thread, after its last enqueue
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "tradingbot/config/config.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/store/journal.hpp"
#include "tradingbot/store/record_queue.hpp"
#include "tradingbot/store/recovery.hpp"
#include "tradingbot/store/stats.hpp"

namespace tb::store {

struct StoreOptions {
  std::optional<std::string> conninfo;  // nullopt: no database, journal only
  std::filesystem::path journal_dir = "state/journal";
  std::size_t batch_size = 1000;        // records per journal append / DB transaction
  std::size_t queue_capacity = 8192;    // ring slots of 256 B (rounded up to a power of two)
  std::chrono::milliseconds flush_interval{50};  // idle sleep between drains
  std::chrono::milliseconds reconnect_min{200};  // backoff after a DB failure, doubling...
  std::chrono::milliseconds reconnect_max{10'000};  // ...up to this, with +-20% jitter
  std::chrono::milliseconds checkpoint_interval{1'000};  // journal checkpoint/prune cadence
  std::chrono::milliseconds down_warning_interval{60'000};  // repeat "DB still down" warnings
  int connect_timeout_s = 3;            // libpq connect_timeout
  int statement_timeout_ms = 10'000;    // per statement: a slow DB counts as down
  std::uint64_t segment_bytes = 64ull << 20;
  bool prune_journal = true;            // delete segments wholly committed to the DB

  // [store] config -> options. postgres_url "" uses the PG* environment when PGHOST,
  // PGDATABASE or PGSERVICE is set, else no database.
  static StoreOptions from_config(const config::StoreConfig& cfg);
  // For log lines: "postgresql://bot:***@db/tb", "PG* environment" or "none (journal only)".
  [[nodiscard]] std::string describe_database() const;
};

class Store {
 public:
  ~Store();  // stops the thread if still running
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Opens (and repairs) the journal. With a database: connects, applies migrations and reads
  // its progress; an unreachable database is a warning (the store thread keeps retrying), a
  // schema newer than this binary or a journal of another layout is an error.
  static Result<std::unique_ptr<Store>> open(StoreOptions options);

  // Before start(): rebuilds open orders, positions, balances and last fills.
  Result<RecoveredState> recover();

  void start();
  // Pumps the producer's overflow, lets the store thread journal everything and try to commit
  // it to the database for up to `db_grace`, writes the checkpoint and joins. Call from the
  // trading thread after its last enqueue (it owns the producer).
  void stop(std::chrono::milliseconds db_grace = std::chrono::seconds(5));

  StoreProducer& producer() noexcept { return producer_; }  // trading thread only
  // Acknowledgement (see the durability contract above). last_ticket(): the trading thread,
  // right after an enqueue() that did not return Dropped. acknowledged(): any thread.
  [[nodiscard]] std::uint64_t last_ticket() const noexcept { return stats_.enqueued.load(std::memory_order_relaxed); }
  [[nodiscard]] bool acknowledged(std::uint64_t ticket) const noexcept {
    return stats_.journaled.load(std::memory_order_acquire) >= ticket;
  }
  [[nodiscard]] const StoreStats& stats() const noexcept { return stats_; }
  [[nodiscard]] StoreStatsSnapshot snapshot() const noexcept;  // any thread
  [[nodiscard]] const std::string& journal_id() const noexcept { return journal_id_; }
  [[nodiscard]] const StoreOptions& options() const noexcept { return options_; }

  // Test/shutdown helper: waits until everything enqueued is journaled and, when the database
  // is up, durably committed (db_durable_seq). Returns false on timeout. Pumps the overflow, so: the trading thread only.
  bool wait_idle(std::chrono::milliseconds timeout);

 private:
  struct Writer;
  explicit Store(StoreOptions options);
  void run() noexcept;

  StoreOptions options_;
  StoreStats stats_;
  RecordQueue queue_;
  StoreProducer producer_;
  std::unique_ptr<Writer> writer_;  // owned by the store thread while it runs
  std::string journal_id_;
  std::thread thread_;
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> stop_requested_{false};
  std::chrono::milliseconds grace_{0};  // set by stop() under wake_mutex_ before the flag
  bool started_ = false;
};

}  // namespace tb::store
