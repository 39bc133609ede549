// StoreStats: the store's counters for /metrics and /status, as relaxed atomics so any thread
// can read them without locks. Each counter has one writer: the trading thread writes the
// enqueue-side counters (through StoreProducer), the store thread writes the rest.
// snapshot(), to_prometheus() and to_json(): any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "tradingbot/core/clock.hpp"

namespace tb::store {

struct StoreStatsSnapshot {
  // trading-thread side
  std::uint64_t enqueued = 0;          // records accepted (ring or overflow)
  std::uint64_t queue_full = 0;        // enqueues that found the ring full
  std::uint64_t overflowed = 0;        // critical records parked in the in-memory overflow
  std::uint64_t overflow_depth = 0;    // records currently waiting in the overflow
  std::uint64_t dropped_samples = 0;   // klines/equity samples dropped because the ring was full
  std::uint64_t lost = 0;              // critical records lost (overflow allocation failed): must stay 0
  // store-thread side
  std::uint64_t queue_depth = 0;       // records waiting in the ring
  std::uint64_t journaled = 0;         // records appended to the journal this run
  std::uint64_t journal_seq = 0;       // highest sequence durable in the journal (fsync'd)
  std::uint64_t db_seq = 0;            // highest sequence committed to PostgreSQL (asynchronously)
  std::uint64_t db_durable_seq = 0;    // highest sequence whose commit is flushed (survives a DB crash)
  std::uint64_t db_written = 0;        // records committed to PostgreSQL this run (incl. backfill)
  std::uint64_t backfilled = 0;        // of those, records read back from the journal
  std::uint64_t db_errors = 0;         // failed connects / transactions
  std::uint64_t journal_bytes = 0;     // size of all journal segments on disk
  std::uint64_t journal_truncated_bytes = 0;  // torn/corrupt tail bytes removed at open
  bool db_enabled = false;             // a database is configured
  bool db_up = false;                  // connected and writing
  Nanos db_down_since_wall_ns = 0;     // 0 while up (or disabled)
  Nanos last_db_commit_wall_ns = 0;

  // Records journaled but not yet in the database (0 without a database).
  [[nodiscard]] std::uint64_t lag_records() const noexcept {
    return db_enabled && journal_seq > db_seq ? journal_seq - db_seq : 0;
  }
};

struct StoreStats {
  std::atomic<std::uint64_t> enqueued{0}, queue_full{0}, overflowed{0}, overflow_depth{0}, dropped_samples{0}, lost{0};
  std::atomic<std::uint64_t> journaled{0}, journal_seq{0}, db_seq{0}, db_durable_seq{0}, db_written{0}, backfilled{0},
      db_errors{0}, journal_bytes{0}, journal_truncated_bytes{0};
  std::atomic<bool> db_enabled{false}, db_up{false};
  std::atomic<Nanos> db_down_since_wall_ns{0}, last_db_commit_wall_ns{0};
  std::atomic<std::uint64_t> queue_depth{0};

  [[nodiscard]] StoreStatsSnapshot snapshot() const noexcept;
};

// Prometheus text lines, "tradingbot_store_" prefix (HELP/TYPE included).
std::string to_prometheus(const StoreStatsSnapshot& s);
// A JSON object for /status: {"db_enabled":true,"db_up":false,"lag_records":12,...}.
std::string to_json(const StoreStatsSnapshot& s);

}  // namespace tb::store
