// What the two tick-to-order benchmarks share: the market (one symbol whose mid alternates by 100
// USDT with every depth diff, so the market maker requotes both sides on each frame), the trading
// setup with every limit that would stop a long run lifted, and the latency report.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <vector>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/strategy/market_maker.hpp"
#include "tradingbot/trading/trading_loop.hpp"

namespace tb::bench {

inline constexpr std::string_view kTickSnapshot =
    R"({"lastUpdateId":100,"bids":[["60000.00","1.00000"],["59900.00","1.00000"]],"asks":[["60001.00","1.00000"]]})";

// A depth diff continuing kTickSnapshot. up: bid 60000 back, ask 59901 removed (mid 60000.5);
// down: bid 60000 removed, ask 59901 (mid 59900.5).
inline int format_tick_diff(char* out, std::size_t cap, std::uint64_t id, bool up) {
  return std::snprintf(out, cap,
                       "{\"stream\":\"btcusdt@depth@100ms\",\"data\":{\"e\":\"depthUpdate\",\"E\":1700000000000,"
                       "\"s\":\"BTCUSDT\",\"U\":%llu,\"u\":%llu,\"b\":[[\"60000.00\",\"%s\"]],\"a\":[[\"59901.00\",\"%s\"]]}}",
                       static_cast<unsigned long long>(id), static_cast<unsigned long long>(id),
                       up ? "1.00000" : "0.00000", up ? "0.00000" : "1.00000");
}

// BTCUSDT with Binance's filters; no rate, loss or staleness limit can stop the run.
inline trading::TradingSetup tick_bench_setup(const Symbol& symbol) {
  trading::TradingSetup setup;
  setup.risk.order_rate_limit = 0;
  setup.risk.cancel_rate_limit = 0;
  setup.risk.strategy_reject_limit = 0;
  setup.risk.max_order_notional = Money::from_integer(1'000'000);
  setup.risk.max_position_notional = Money{};
  setup.risk.daily_loss_limit = Money{};
  setup.risk.max_drawdown_bps = 0;
  setup.risk.market_data_stale = 3600 * kNanosPerSecond;
  setup.risk.user_stream_stale = 3600 * kNanosPerSecond;
  setup.oms.run_prefix = "tbBENCH";
  setup.oms.max_orders = 4096;
  risk::SymbolRules rules;
  rules.symbol = symbol;
  rules.tick_size = *Price::parse("0.01");
  rules.step_size = *Qty::parse("0.00001");
  rules.min_notional = Money::from_integer(5);
  setup.symbols = {rules};
  return setup;
}

inline strategy::MarketMakerParams tick_bench_market_maker() {
  strategy::MarketMakerParams mm;
  mm.order_qty = *Qty::parse("0.001");
  mm.max_position = *Qty::parse("0.01");
  mm.half_spread_bps = 2;
  mm.requote_bps = 1;
  return mm;
}

// Sorts `latencies` (ns) and prints p50/p90/p99/p99.9/max with the targets, then a histogram.
inline void print_tick_latencies(std::vector<Nanos>& latencies) {
  std::sort(latencies.begin(), latencies.end());
  const auto pct = [&](double p) {
    return latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * static_cast<double>(latencies.size())))];
  };
  std::printf("p50 %.2f us  p90 %.2f us  p99 %.2f us  p99.9 %.2f us  max %.2f us   (Python bot: 860 us; target p50 < 5, p99 < 20)\n",
              static_cast<double>(pct(0.50)) / 1e3, static_cast<double>(pct(0.90)) / 1e3,
              static_cast<double>(pct(0.99)) / 1e3, static_cast<double>(pct(0.999)) / 1e3,
              static_cast<double>(latencies.back()) / 1e3);
}

inline void print_tick_histogram(const std::vector<Nanos>& sorted) {
  std::printf("histogram (us):\n");
  const double edges[] = {1, 2, 3, 4, 5, 7.5, 10, 15, 20, 50, 100, 1e9};
  std::size_t start = 0;
  double lo = 0;
  for (double hi : edges) {
    std::size_t end = start;
    while (end < sorted.size() && static_cast<double>(sorted[end]) / 1e3 < hi) ++end;
    if (end > start) {
      std::printf("  [%6.1f, %6.1f) %8zu  %5.1f%%\n", lo, hi > 1e8 ? 9999.0 : hi, end - start,
                  100.0 * static_cast<double>(end - start) / static_cast<double>(sorted.size()));
    }
    start = end;
    lo = hi;
  }
}

}  // namespace tb::bench
