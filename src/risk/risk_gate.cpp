#include "tradingbot/risk/risk_gate.hpp"

#include <stdexcept>
#include <string>

namespace tb::risk {

std::string_view to_string(RejectReason r) noexcept {
  switch (r) {
    case RejectReason::Accepted: return "accepted";
    case RejectReason::Halted: return "halted";
    case RejectReason::ReduceOnly: return "reduce_only";
    case RejectReason::StaleUserStream: return "stale_user_stream";
    case RejectReason::StaleMarketData: return "stale_market_data";
    case RejectReason::UnknownSymbol: return "unknown_symbol";
    case RejectReason::InvalidOrder: return "invalid_order";
    case RejectReason::PriceTick: return "price_tick";
    case RejectReason::PriceRange: return "price_range";
    case RejectReason::QtyStep: return "qty_step";
    case RejectReason::QtyRange: return "qty_range";
    case RejectReason::MinNotional: return "min_notional";
    case RejectReason::MaxNotionalFilter: return "max_notional_filter";
    case RejectReason::PriceBand: return "price_band";
    case RejectReason::MaxOrderNotional: return "max_order_notional";
    case RejectReason::MaxOrderQty: return "max_order_qty";
    case RejectReason::MaxPosition: return "max_position";
    case RejectReason::MaxOpenOrders: return "max_open_orders";
    case RejectReason::OrderRateLimit: return "order_rate_limit";
    case RejectReason::CancelRateLimit: return "cancel_rate_limit";
    case RejectReason::NotReady: return "not_ready";
    case RejectReason::PoolFull: return "pool_full";
  }
  return "?";
}

std::string_view to_string(GateMode m) noexcept {
  switch (m) {
    case GateMode::Active: return "ACTIVE";
    case GateMode::Reducing: return "REDUCING";
    case GateMode::Halted: return "HALTED";
  }
  return "?";
}

std::optional<Error> RiskParams::validate() const {
  auto bad = [](const char* key, const char* why) { return Error{std::string("risk.") + key + ": " + why}; };
  if (!max_order_notional.is_positive()) return bad("max_order_notional", "must be > 0");
  if (max_position_notional.is_negative()) return bad("max_position_notional", "must be >= 0 (0 disables)");
  if (max_open_orders_per_symbol == 0 || max_open_orders_per_symbol > 200)
    return bad("max_open_orders_per_symbol", "must be in 1..200 (Binance MAX_NUM_ORDERS)");
  if (price_band_bps < 1 || price_band_bps > 10'000) return bad("price_band_bps", "must be in 1..10000");
  if (order_rate_limit > 100'000) return bad("order_rate_limit", "must be <= 100000 (0 disables)");
  if (order_rate_limit > 0 && order_rate_window <= 0) return bad("order_rate_window_ms", "must be > 0");
  if (cancel_rate_limit > 100'000) return bad("cancel_rate_limit", "must be <= 100000 (0 disables)");
  if (cancel_rate_limit > 0 && cancel_rate_window <= 0) return bad("cancel_rate_window_ms", "must be > 0");
  if (daily_loss_limit.is_negative()) return bad("daily_loss_limit", "must be >= 0 (0 disables)");
  if (max_drawdown_bps < 0 || max_drawdown_bps > 10'000) return bad("max_drawdown_bps", "must be in 0..10000 (0 disables)");
  if (market_data_stale <= 0) return bad("market_data_stale_ms", "must be > 0");
  if (user_stream_stale <= 0) return bad("user_stream_stale_ms", "must be > 0");
  if (strategy_reject_limit > 100'000) return bad("strategy_reject_limit", "must be <= 100000 (0 disables)");
  if (strategy_reject_limit > 0 && strategy_reject_window <= 0) return bad("strategy_reject_window_ms", "must be > 0");
  return std::nullopt;
}

namespace {

bool off_step(std::int64_t value, std::int64_t step) noexcept { return step > 0 && value % step != 0; }

}  // namespace

RejectReason check_symbol_filters(const SymbolRules& r, const OrderIntent& in, Price reference) noexcept {
  const bool market = in.type == OrderType::Market;
  if (!in.qty.is_positive()) return RejectReason::InvalidOrder;
  if (!market && !in.price.is_positive()) return RejectReason::InvalidOrder;
  if (market && in.price.is_negative()) return RejectReason::InvalidOrder;

  if (!market) {
    if (off_step(in.price.raw(), r.tick_size.raw())) return RejectReason::PriceTick;
    if (r.min_price.is_positive() && in.price < r.min_price) return RejectReason::PriceRange;
    if (r.max_price.is_positive() && in.price > r.max_price) return RejectReason::PriceRange;
  }

  const bool market_lot = market && (r.market_step_size.is_positive() || r.market_min_qty.is_positive() ||
                                     r.market_max_qty.is_positive());
  const Qty step = market_lot ? r.market_step_size : r.step_size;
  const Qty min_qty = market_lot ? r.market_min_qty : r.min_qty;
  const Qty max_qty = market_lot ? r.market_max_qty : r.max_qty;
  if (off_step(in.qty.raw(), step.raw())) return RejectReason::QtyStep;
  if (min_qty.is_positive() && in.qty < min_qty) return RejectReason::QtyRange;
  if (max_qty.is_positive() && in.qty > max_qty) return RejectReason::QtyRange;

  const Price px = market ? reference : in.price;
  if (px.is_positive()) {
    const Money value = notional(px, in.qty);
    if ((!market || r.apply_min_to_market) && r.min_notional.is_positive() && value < r.min_notional)
      return RejectReason::MinNotional;
    if ((!market || r.apply_max_to_market) && r.max_notional.is_positive() && value > r.max_notional)
      return RejectReason::MaxNotionalFilter;
  }
  return RejectReason::Accepted;
}

RiskGate::RiskGate(const RiskParams& params) : params_(params) {
  if (auto err = params.validate()) throw std::invalid_argument(err->message);
  symbols_.reserve(kMaxSymbols);
  order_limiter_ = SlidingWindowLimiter(params.order_rate_limit, params.order_rate_window);
  cancel_limiter_ = SlidingWindowLimiter(params.cancel_rate_limit, params.cancel_rate_window);
  fault_limiter_ = SlidingWindowLimiter(params.strategy_reject_limit, params.strategy_reject_window);
}

bool RiskGate::set_symbol_rules(const SymbolRules& rules) {
  if (SymbolState* s = find(rules.symbol)) {
    s->rules = rules;
    return true;
  }
  if (symbols_.size() >= kMaxSymbols) return false;
  symbols_.push_back(SymbolState{rules, Price{}, 0, false});
  return true;
}

const RiskGate::SymbolState* RiskGate::find(const Symbol& s) const noexcept {
  for (const SymbolState& st : symbols_)
    if (st.rules.symbol == s) return &st;
  return nullptr;
}
RiskGate::SymbolState* RiskGate::find(const Symbol& s) noexcept {
  for (SymbolState& st : symbols_)
    if (st.rules.symbol == s) return &st;
  return nullptr;
}

const SymbolRules* RiskGate::rules(const Symbol& symbol) const noexcept {
  const SymbolState* s = find(symbol);
  return s ? &s->rules : nullptr;
}

Price RiskGate::mid(const Symbol& symbol) const noexcept {
  const SymbolState* s = find(symbol);
  return s && s->has_mid ? s->mid : Price{};
}

void RiskGate::on_mid(const Symbol& symbol, Price mid, Nanos now) noexcept {
  on_market_heartbeat(now);
  if (SymbolState* s = find(symbol); s && mid.is_positive()) {
    s->mid = mid;
    s->mid_time = now;
    s->has_mid = true;
  }
}

void RiskGate::on_equity(Nanos now, Money equity) noexcept {
  const std::int64_t day_before = equity_.day();
  const bool was_initialized = equity_.initialized();
  equity_.update(now, equity);
  // The daily-loss latch lifts on a new UTC day.
  if (was_initialized && equity_.day() != day_before) causes_ &= static_cast<std::uint8_t>(~bit(HaltCause::DailyLoss));
  evaluate_limits(now);
}

void RiskGate::evaluate_limits(Nanos /*now*/) noexcept {
  if (params_.daily_loss_limit.is_positive() && equity_.day_pnl() <= -params_.daily_loss_limit)
    causes_ |= bit(HaltCause::DailyLoss);
  if (params_.max_drawdown_bps > 0 && equity_.drawdown_bps() >= params_.max_drawdown_bps)
    causes_ |= bit(HaltCause::Drawdown);
}

void RiskGate::halt(HaltCause cause, Nanos /*now*/) noexcept { causes_ |= bit(cause); }

void RiskGate::resume(Nanos now) noexcept {
  causes_ = 0;
  if (equity_.initialized()) equity_.rebase(now, equity_.equity());
  fault_limiter_.reset();
}

GateMode RiskGate::mode() const noexcept {
  if (causes_ == 0) return GateMode::Active;
  if (has_cause(HaltCause::Manual) || has_cause(HaltCause::StrategyFault)) return GateMode::Halted;
  if (has_cause(HaltCause::DailyLoss) && params_.daily_loss_action == LimitAction::Halt) return GateMode::Halted;
  if (has_cause(HaltCause::Drawdown) && params_.drawdown_action == LimitAction::Halt) return GateMode::Halted;
  return GateMode::Reducing;
}

bool RiskGate::market_data_stale(Nanos now) const noexcept {
  return !market_seen_ || now - last_market_ > params_.market_data_stale;
}
bool RiskGate::user_stream_stale(Nanos now) const noexcept {
  return !user_seen_ || now - last_user_ > params_.user_stream_stale;
}

DeadManSignal RiskGate::poll(Nanos now) noexcept {
  const bool stale = (market_seen_ && market_data_stale(now)) || (user_seen_ && user_stream_stale(now));
  if (!stale) {
    dead_man_fired_ = false;
    return DeadManSignal::None;
  }
  if (dead_man_fired_) return DeadManSignal::None;
  dead_man_fired_ = true;
  ++dead_man_trips_;
  return DeadManSignal::CancelAll;
}

RejectReason RiskGate::reject(RejectReason r, Nanos now) noexcept {
  ++rejects_[static_cast<std::size_t>(r)];
  switch (r) {
    case RejectReason::Halted:
    case RejectReason::StaleUserStream:
    case RejectReason::StaleMarketData:
    case RejectReason::NotReady:
    case RejectReason::PoolFull:
    case RejectReason::CancelRateLimit:
      break;  // not the strategy's fault
    default:
      if (!fault_limiter_.try_acquire(now)) halt(HaltCause::StrategyFault, now);
  }
  return r;
}

void RiskGate::count_reject(RejectReason reason, Nanos now) noexcept {
  if (reason != RejectReason::Accepted) reject(reason, now);
}

RejectReason RiskGate::check_cancel(Nanos now) noexcept {
  if (!cancel_limiter_.try_acquire(now)) return reject(RejectReason::CancelRateLimit, now);
  return RejectReason::Accepted;
}

namespace {

Qty abs_qty(Qty q) noexcept { return q.is_negative() ? -q : q; }

}  // namespace

RejectReason RiskGate::check_order(const OrderIntent& in, const Exposure& ex, Nanos now) noexcept {
  const GateMode m = mode();
  if (m == GateMode::Halted) return reject(RejectReason::Halted, now);
  if (user_stream_stale(now)) return reject(RejectReason::StaleUserStream, now);
  const SymbolState* s = find(in.symbol);
  if (s == nullptr) return reject(RejectReason::UnknownSymbol, now);
  if (!s->has_mid || now - s->mid_time > params_.market_data_stale) return reject(RejectReason::StaleMarketData, now);

  if (const RejectReason f = check_symbol_filters(s->rules, in, s->mid); f != RejectReason::Accepted)
    return reject(f, now);

  const bool market = in.type == OrderType::Market;
  if (!market) {
    // |price - mid| * 10000 <= band_bps * mid
    const Int128 diff = static_cast<Int128>(in.price.raw()) - s->mid.raw();
    const Int128 lhs = (diff < 0 ? -diff : diff) * 10'000;
    const Int128 rhs = static_cast<Int128>(params_.price_band_bps) * s->mid.raw();
    if (lhs > rhs) return reject(RejectReason::PriceBand, now);
  }

  const Price ref = market ? s->mid : in.price;
  if (notional(ref, in.qty) > params_.max_order_notional) return reject(RejectReason::MaxOrderNotional, now);
  if (s->rules.max_order_qty.is_positive() && in.qty > s->rules.max_order_qty)
    return reject(RejectReason::MaxOrderQty, now);

  // Worst-case position if every live order on this side and this one fill.
  const bool buy = in.side == Side::Buy;
  const Qty before = buy ? ex.position + ex.open_buy_qty : ex.position - ex.open_sell_qty;
  const Qty after = buy ? before + in.qty : before - in.qty;
  if (m == GateMode::Reducing) {
    const bool reduces = buy ? (ex.position.is_negative() && !after.is_positive())
                             : (ex.position.is_positive() && !after.is_negative());
    if (!reduces) return reject(RejectReason::ReduceOnly, now);
  }
  if (abs_qty(after) > abs_qty(before)) {
    if (s->rules.max_position_qty.is_positive() && abs_qty(after) > s->rules.max_position_qty)
      return reject(RejectReason::MaxPosition, now);
    if (params_.max_position_notional.is_positive() &&
        notional(s->mid, abs_qty(after)) > params_.max_position_notional)
      return reject(RejectReason::MaxPosition, now);
  }
  if (ex.open_orders >= params_.max_open_orders_per_symbol) return reject(RejectReason::MaxOpenOrders, now);
  if (!order_limiter_.try_acquire(now)) return reject(RejectReason::OrderRateLimit, now);
  ++accepted_;
  return RejectReason::Accepted;
}

}  // namespace tb::risk
