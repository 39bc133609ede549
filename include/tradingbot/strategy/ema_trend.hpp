// EmaTrend: a trend follower on closed klines (EMA crossover), the event-driven successor of
// the old Python bot's 5-minute loop.
//
// For each traded symbol it keeps a fast and a slow exponential moving average of the close of
// every closed kline of `interval` (alpha = 2 / (period + 1), seeded with the first close, exact
// integer arithmetic on 1e-8 units). Once slow_period closes have been seen, a cross of the fast
// EMA above the slow one sets the target position to +order_qty; a cross below sets it to
// -order_qty when allow_short, else to flat. The strategy then sends one MARKET order for the
// difference between target and position (floored to the step); while that order is working
// it sends nothing more for the symbol. Warm-up closes never trade: only a cross observed after
// warm-up does.
//
// Risks: a trend follower loses in sideways markets (whipsaws: every cross pays the spread and
// fees twice), MARKET orders pay the taker fee and slippage, and a kline-driven strategy reacts
// at the earliest one interval after the move started.
// Trading thread only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tradingbot/core/result.hpp"
#include "tradingbot/strategy/strategy.hpp"

namespace tb::strategy {

struct EmaTrendParams {
  std::int64_t fast_period = 12;
  std::int64_t slow_period = 26;
  Qty order_qty = Qty::from_raw(100'000);  // 0.001 base
  std::string interval = "1m";             // kline interval the strategy listens to
  bool allow_short = false;                // spot accounts usually cannot short: flat instead

  [[nodiscard]] std::optional<Error> validate() const;
};

class EmaTrend final : public Strategy {
 public:
  static constexpr std::size_t kMaxSymbols = 32;

  EmaTrend(const EmaTrendParams& params, const std::vector<Symbol>& symbols);

  [[nodiscard]] std::string_view name() const noexcept override { return "ema_trend"; }
  void on_kline(const market::Kline& kline, Context& ctx) override;
  void on_order_update(const OrderUpdate& update, Context& ctx) override;

  // Observability and tests: current EMAs (zero before the first close) and target.
  [[nodiscard]] Price fast_ema(const Symbol& symbol) const noexcept;
  [[nodiscard]] Price slow_ema(const Symbol& symbol) const noexcept;
  [[nodiscard]] Qty target(const Symbol& symbol) const noexcept;

 private:
  struct SymbolState {
    Symbol symbol;
    std::int64_t fast = 0;  // raw 1e-8
    std::int64_t slow = 0;
    std::int64_t closes = 0;
    int trend = 0;          // +1 fast above slow, -1 below, 0 unknown/equal
    Qty target;
    bool order_working = false;
  };
  [[nodiscard]] int index_of(const Symbol& symbol) const noexcept;
  void rebalance(std::size_t index, SymbolState& s, Context& ctx) noexcept;

  EmaTrendParams params_;
  std::vector<SymbolState> symbols_;
};

}  // namespace tb::strategy
