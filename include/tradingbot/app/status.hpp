// DaemonStatus: the immutable picture of the daemon that the trading thread publishes a few
// times a second for the HTTP thread to render (/health, /ready, /status, /metrics). Built and
// published only by the trading thread; read through Published<DaemonStatus> by any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tradingbot/app/market_data_status.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/store/records.hpp"
#include "tradingbot/store/stats.hpp"
#include "tradingbot/trading/trading_loop.hpp"

namespace tb::app {

// One configured symbol's market-data state, as /ready, /status and /metrics show it.
struct SymbolStatus {
  Symbol symbol;
  bool book_synced = false;
  std::uint64_t last_update_id = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t gaps = 0;
};

// What the trading loop handed to the store (app/trading_persistence.hpp), per record kind
// (index = store::RecordKind). Written on the trading thread.
struct StoreRecorderStatus {
  bool active = false;  // a trading loop records into the store
  std::array<std::uint64_t, store::kRecordKinds> queued{};      // went straight into the ring
  std::array<std::uint64_t, store::kRecordKinds> overflowed{};  // ring full: parked, still stored
  std::array<std::uint64_t, store::kRecordKinds> dropped{};     // ring full: sample dropped
  std::uint64_t equity_skipped = 0;  // samples not stored because of the bounded equity rate
  std::uint64_t truncated = 0;       // text fields cut to the record's fixed width
  std::uint64_t restored_positions = 0;  // at start, from the store
  std::uint64_t restored_orders = 0;
  std::uint64_t paper_canceled = 0;      // restored open orders closed: the paper venue restarted
};

// The store (persistence) as /status and /metrics show it: see app/store_service.hpp.
struct StoreStatus {
  bool running = false;      // the store thread is up
  std::string database;      // "postgresql://bot:***@db/tb", "PG* environment", "none (journal only)"
  std::string run_id;        // this run's row in the runs table
  store::StoreStatsSnapshot stats;
  StoreRecorderStatus recorder;  // filled by the trading thread's TradingPersistence
};

// The live venue's order path (app/live_trading.hpp): gateway, WS API, REST, clock.
struct LiveStatus {
  std::string gateway = "stopped";   // stopped | starting | reconciling | armed | failed
  std::string problem;               // why it is not armed, "" when it is (or still starting)
  std::string ws_api = "stopped";    // the WS API session's state
  std::string rest = "starting";     // REST readiness (ready | clock_unusable | banned ...)
  std::string clock = "no_sample";   // the server-time estimate's state
  std::int64_t clock_offset_us = 0;  // server - local
  std::int64_t clock_rtt_us = 0;
  std::int64_t used_weight_1m = 0;
  std::int64_t weight_limit_1m = 0;
  std::int64_t order_count_10s = 0;
  std::int64_t order_limit_10s = 0;
  bool banned = false;  // 418: REST traffic stopped until the ban ends
  std::uint64_t bans = 0;
  std::uint64_t http_429 = 0;
  std::uint64_t start_attempts = 0;
  std::uint64_t sent_ws = 0;
  std::uint64_t sent_rest = 0;
  std::uint64_t not_sent = 0;
  std::uint64_t unknown = 0;
  std::uint64_t queries = 0;
  std::uint64_t reconciles = 0;
  std::uint64_t reconcile_failures = 0;
  std::uint64_t user_data_gaps = 0;
  std::uint64_t user_events = 0;
};

// The trading loop: strategy, risk gate, orders, fills, positions and PnL (app/trading_service).
struct TradingStatus {
  bool active = false;  // a trading loop runs (paper, or live once exchangeInfo built it)
  std::string venue;    // "paper" | "live"
  bool live_mode = false;  // trading.mode = "live": `live` below is filled
  LiveStatus live;
  trading::TradingSnapshot loop;
  std::uint64_t venue_orders = 0;  // orders that reached the (paper) venue
  std::uint64_t venue_fills = 0;
  std::uint64_t control_requests = 0;
  std::uint64_t control_unauthorized = 0;
};

struct DaemonStatus {
  std::string version;
  config::TradingMode mode = config::TradingMode::Off;
  Nanos started_wall_ns = 0;
  Nanos published_mono_ns = 0;  // when the trading thread built this snapshot
  std::uint64_t loop_iterations = 0;
  std::int64_t busy_poll_us = 0;  // how the trading thread waits (trading.busy_poll_us)
  std::int64_t cpu = -1;          // the CPU it is pinned to, -1 when not pinned
  bool halted = false;
  // Why the daemon is not ready to trade; empty when it is. Each entry is one short reason
  // ("BTCUSDT: book not synced"). Filled by the market-data and order paths as they land.
  std::vector<std::string> not_ready_reasons;
  std::vector<SymbolStatus> symbols;
  std::uint64_t config_reloads = 0;
  StoreStatus store;
  TradingStatus trading;
  MarketDataStatus market;  // filled by MarketDataService
};

// Liveness is separate from the snapshot: the trading loop stamps this every heartbeat, so a
// stalled loop is seen even if nothing else changes. Written by the trading thread only.
struct LoopHeartbeat {
  std::atomic<Nanos> last_beat_mono_ns{0};
};

}  // namespace tb::app
