// The daemon's read-only HTTP endpoints (ARCHITECTURE.md section 6): /health, /ready, /status,
// /metrics. Handlers run on the HTTP thread and read only what the trading thread publishes
// (Published<DaemonStatus>, the LoopHeartbeat atomic) plus thread-safe counters; they never touch
// trading state. Build the router on the main thread before the server starts.
#pragma once

#include <functional>

#include "tradingbot/app/status.hpp"
#include "tradingbot/core/published.hpp"
#include "tradingbot/http/router.hpp"
#include "tradingbot/http/server_stats.hpp"

namespace tb::app {

// A trading loop whose heartbeat is older than this is reported as stalled (/health 503).
inline constexpr Nanos kLoopStallAfterNs = 2 * kNanosPerSecond;

struct StatusSources {
  const Published<DaemonStatus>* status = nullptr;
  const LoopHeartbeat* heartbeat = nullptr;
  std::function<http::ServerStats()> http_stats;  // read on the HTTP thread; must be thread-safe
};

void add_status_endpoints(http::Router& router, StatusSources sources);

}  // namespace tb::app
