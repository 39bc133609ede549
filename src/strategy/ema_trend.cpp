#include "tradingbot/strategy/ema_trend.hpp"

#include <stdexcept>

namespace tb::strategy {

std::optional<Error> EmaTrendParams::validate() const {
  const auto bad = [](const char* key, const std::string& why) {
    return Error{std::string("strategy.ema_trend.") + key + ": " + why};
  };
  if (fast_period < 1 || fast_period > 10'000) return bad("fast_period", "must be between 1 and 10000");
  if (slow_period < 2 || slow_period > 10'000) return bad("slow_period", "must be between 2 and 10000");
  if (fast_period >= slow_period) return bad("fast_period", "must be smaller than slow_period");
  if (!order_qty.is_positive()) return bad("order_qty", "must be positive");
  if (interval.empty() || interval.size() >= sizeof(market::KlineInterval::text)) {
    return bad("interval", "must be a Binance kline interval such as \"1m\" or \"5m\"");
  }
  return std::nullopt;
}

EmaTrend::EmaTrend(const EmaTrendParams& params, const std::vector<Symbol>& symbols) : params_(params) {
  if (auto err = params.validate()) throw std::invalid_argument(err->message);
  if (symbols.empty() || symbols.size() > kMaxSymbols) {
    throw std::invalid_argument("strategy.symbols: the trend follower needs 1.." + std::to_string(kMaxSymbols) +
                                " symbols");
  }
  symbols_.reserve(symbols.size());
  for (const Symbol& s : symbols) {
    SymbolState st;
    st.symbol = s;
    symbols_.push_back(st);
  }
}

int EmaTrend::index_of(const Symbol& symbol) const noexcept {
  for (std::size_t i = 0; i < symbols_.size(); ++i) {
    if (symbols_[i].symbol == symbol) return static_cast<int>(i);
  }
  return -1;
}

namespace {
// ema += (close - ema) * 2 / (period + 1), in 128 bits, truncated toward zero.
std::int64_t ema_step(std::int64_t ema, std::int64_t close, std::int64_t period) noexcept {
  return ema + static_cast<std::int64_t>(static_cast<Int128>(close - ema) * 2 / (period + 1));
}
}  // namespace

void EmaTrend::on_kline(const market::Kline& kline, Context& ctx) {
  if (!kline.closed || kline.interval.view() != params_.interval) return;
  const int k = index_of(kline.symbol);
  if (k < 0) return;
  SymbolState& s = symbols_[static_cast<std::size_t>(k)];
  const std::int64_t close = kline.close.raw();
  if (s.closes == 0) {
    s.fast = close;
    s.slow = close;
  } else {
    s.fast = ema_step(s.fast, close, params_.fast_period);
    s.slow = ema_step(s.slow, close, params_.slow_period);
  }
  ++s.closes;
  if (s.closes < params_.slow_period) return;  // warm-up: the slow EMA is not meaningful yet
  const int trend = s.fast > s.slow ? 1 : (s.fast < s.slow ? -1 : 0);
  const int previous = s.trend;
  if (trend != 0) s.trend = trend;
  if (trend == 0 || previous == 0 || trend == previous) {
    if (s.target != ctx.view.position(s.symbol) && previous != 0) rebalance(static_cast<std::size_t>(k), s, ctx);
    return;
  }
  s.target = trend > 0 ? params_.order_qty : (params_.allow_short ? -params_.order_qty : Qty{});
  rebalance(static_cast<std::size_t>(k), s, ctx);
}

void EmaTrend::rebalance(std::size_t index, SymbolState& s, Context& ctx) noexcept {
  if (s.order_working) return;
  const Instrument* instrument = ctx.view.instrument(s.symbol);
  const Qty step = instrument != nullptr ? instrument->step_size : Qty{};
  const Qty delta = s.target - ctx.view.position(s.symbol);
  const Qty size = floor_qty(delta.is_negative() ? -delta : delta, step);
  if (!size.is_positive()) return;
  OrderIntent order;
  order.symbol = s.symbol;
  order.side = delta.is_positive() ? Side::Buy : Side::Sell;
  order.type = OrderType::Market;
  order.qty = size;
  if (ctx.out.place(static_cast<OrderTag>(index), order)) s.order_working = true;
}

void EmaTrend::on_order_update(const OrderUpdate& update, Context& /*ctx*/) {
  if (update.tag >= symbols_.size()) return;
  if (update.event != OrderEvent::Working) symbols_[update.tag].order_working = false;
}

Price EmaTrend::fast_ema(const Symbol& symbol) const noexcept {
  const int k = index_of(symbol);
  return k < 0 ? Price{} : Price::from_raw(symbols_[static_cast<std::size_t>(k)].fast);
}
Price EmaTrend::slow_ema(const Symbol& symbol) const noexcept {
  const int k = index_of(symbol);
  return k < 0 ? Price{} : Price::from_raw(symbols_[static_cast<std::size_t>(k)].slow);
}
Qty EmaTrend::target(const Symbol& symbol) const noexcept {
  const int k = index_of(symbol);
  return k < 0 ? Qty{} : symbols_[static_cast<std::size_t>(k)].target;
}

}  // namespace tb::strategy
