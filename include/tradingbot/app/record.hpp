// `tradingbot record --config FILE --out CAPTURE [--duration S]` (ARCHITECTURE.md sections 4 and
// 7): connects exactly like the daemon's market data (same stream manager, same pipeline, so
// snapshots are requested when the books need them) and writes every received WebSocket frame
// exactly as received, plus each REST depth snapshot (bare JSON for one symbol, the
// {"stream":"<symbol>@depthSnapshot","data":...} envelope for several), one
// `<receive_unix_ns> <payload>` line each; gzip when the name ends in .gz. Stops on SIGINT or
// SIGTERM (or after `duration`), flushes and closes the file, returns 0. Main thread only: the
// calling thread runs the recorder's io_context.
#pragma once

#include <functional>
#include <string>

#include "tradingbot/config/config.hpp"
#include "tradingbot/core/clock.hpp"

namespace tb::binance {
struct MarketStreamOptions;
}

namespace tb::app {

struct RecordResult {
  std::uint64_t frames = 0;
  std::uint64_t snapshots = 0;
  std::uint64_t write_errors = 0;
};

// duration 0 = until a signal. `adjust` lets tests shorten timeouts. Returns the process exit
// code (0 ok, 3 runtime error with the reason logged); `result` gets the counts.
int run_record(const config::Config& config, const std::string& out_path, Nanos duration, RecordResult* result = nullptr,
               const std::function<void(binance::MarketStreamOptions&)>& adjust = {});

}  // namespace tb::app
