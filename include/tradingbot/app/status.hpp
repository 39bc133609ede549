// DaemonStatus: the immutable picture of the daemon that the trading thread publishes a few
// times a second for the HTTP thread to render (/health, /ready, /status, /metrics). Built and
// published only by the trading thread; read through Published<DaemonStatus> by any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "tradingbot/app/market_data_status.hpp"
#include "tradingbot/config/config.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::app {

// One configured symbol's market-data state, as /ready, /status and /metrics show it.
struct SymbolStatus {
  Symbol symbol;
  bool book_synced = false;
  std::uint64_t last_update_id = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t gaps = 0;
};

struct DaemonStatus {
  std::string version;
  config::TradingMode mode = config::TradingMode::Off;
  Nanos started_wall_ns = 0;
  Nanos published_mono_ns = 0;  // when the trading thread built this snapshot
  std::uint64_t loop_iterations = 0;
  bool halted = false;
  // Why the daemon is not ready to trade; empty when it is. Each entry is one short reason
  // ("BTCUSDT: book not synced"). Filled by the market-data and order paths as they land.
  std::vector<std::string> not_ready_reasons;
  std::vector<SymbolStatus> symbols;
  std::uint64_t config_reloads = 0;
  MarketDataStatus market;  // filled by MarketDataService
};

// Liveness is separate from the snapshot: the trading loop stamps this every heartbeat, so a
// stalled loop is seen even if nothing else changes. Written by the trading thread only.
struct LoopHeartbeat {
  std::atomic<Nanos> last_beat_mono_ns{0};
};

}  // namespace tb::app
