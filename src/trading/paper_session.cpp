#include "tradingbot/trading/paper_session.hpp"

#include <stdexcept>

namespace tb::trading {

risk::RiskParams risk_params_from(const config::RiskConfig& r) {
  risk::RiskParams p;
  p.max_order_notional = r.max_order_notional;
  p.max_position_notional = r.max_position_notional;
  p.max_open_orders_per_symbol = static_cast<std::uint32_t>(r.max_open_orders_per_symbol);
  p.price_band_bps = r.price_band_bps;
  p.order_rate_limit = static_cast<std::uint32_t>(r.order_rate_limit);
  p.order_rate_window = r.order_rate_window_ms * kNanosPerMilli;
  p.cancel_rate_limit = static_cast<std::uint32_t>(r.cancel_rate_limit);
  p.cancel_rate_window = r.cancel_rate_window_ms * kNanosPerMilli;
  p.daily_loss_limit = r.daily_loss_limit;
  p.daily_loss_action = r.daily_loss_action == config::RiskAction::Halt ? risk::LimitAction::Halt : risk::LimitAction::Reduce;
  p.max_drawdown_bps = r.max_drawdown_bps;
  p.drawdown_action = r.drawdown_action == config::RiskAction::Halt ? risk::LimitAction::Halt : risk::LimitAction::Reduce;
  p.market_data_stale = r.market_data_stale_ms * kNanosPerMilli;
  p.user_stream_stale = r.user_stream_stale_ms * kNanosPerMilli;
  p.strategy_reject_limit = static_cast<std::uint32_t>(r.strategy_reject_limit);
  p.strategy_reject_window = r.strategy_reject_window_ms * kNanosPerMilli;
  return p;
}

Result<TradingSetup> paper_setup_from(const config::Config& config, const std::string& run_prefix) {
  TradingSetup setup;
  setup.risk = risk_params_from(config.risk);
  if (auto err = setup.risk.validate()) return *err;
  setup.oms.run_prefix = run_prefix;
  const auto quote = Symbol::parse(config.trading.quote_asset);
  if (!quote) return Error{"trading.quote_asset: invalid"};
  setup.quote_asset = *quote;
  setup.initial_cash = config.trading.paper_initial_cash;
  for (const Symbol& s : config.strategy.symbols) {
    const std::string_view name = s.view();
    if (name.size() <= quote->size() || name.substr(name.size() - quote->size()) != quote->view()) {
      return Error{"strategy.symbols: " + s.str() + " is not quoted in trading.quote_asset = " + quote->str()};
    }
    risk::SymbolRules rules;
    rules.symbol = s;
    rules.tick_size = config.trading.paper_tick_size;
    rules.step_size = config.trading.paper_step_size;
    rules.min_notional = config.trading.paper_min_notional;
    rules.max_order_qty = config.risk.max_order_qty;
    rules.max_position_qty = config.risk.max_position_qty;
    setup.symbols.push_back(rules);
  }
  return setup;
}

strategy::StrategySpec strategy_spec_from(const config::StrategyConfig& st) {
  strategy::StrategySpec spec;
  spec.name = st.name;
  spec.symbols = st.symbols;
  spec.market_maker.order_qty = st.market_maker.order_qty;
  spec.market_maker.max_position = st.market_maker.max_position;
  spec.market_maker.half_spread_bps = st.market_maker.half_spread_bps;
  spec.market_maker.skew_bps = st.market_maker.skew_bps;
  spec.market_maker.requote_bps = st.market_maker.requote_bps;
  spec.market_maker.retry_after = st.market_maker.retry_after_ms * kNanosPerMilli;
  spec.ema_trend.fast_period = st.ema_trend.fast_period;
  spec.ema_trend.slow_period = st.ema_trend.slow_period;
  spec.ema_trend.order_qty = st.ema_trend.order_qty;
  spec.ema_trend.interval = st.ema_trend.interval;
  spec.ema_trend.allow_short = st.ema_trend.allow_short;
  return spec;
}

venue::PaperVenueConfig paper_venue_config_from(const config::TradingConfig& trading) {
  venue::PaperVenueConfig v;
  v.latency = trading.paper_latency_ms * kNanosPerMilli;
  v.fee_bps = trading.paper_fee_bps;
  v.fee_asset = Symbol::parse(trading.quote_asset).value_or(Symbol{});
  return v;
}

Result<std::unique_ptr<PaperSession>> PaperSession::create(const config::Config& config,
                                                           const std::string& run_prefix) {
  auto setup = paper_setup_from(config, run_prefix);
  if (!setup) return setup.error();
  std::unique_ptr<strategy::Strategy> strat;
  if (!config.strategy.name.empty()) {
    auto made = strategy::make_strategy(strategy_spec_from(config.strategy));
    if (!made) return made.error();
    strat = std::move(made).value();
  }
  try {
    return std::make_unique<PaperSession>(setup.value(), paper_venue_config_from(config.trading), std::move(strat),
                                          config.strategy.timer_ms * kNanosPerMilli);
  } catch (const std::invalid_argument& e) {
    return Error{e.what()};
  }
}

PaperSession::PaperSession(const TradingSetup& setup, const venue::PaperVenueConfig& venue_config,
                           std::unique_ptr<strategy::Strategy> strategy, Nanos timer_period)
    : LoopDriver(timer_period, Start::Ready),
      venue_(venue_config),
      loop_(std::make_unique<TradingLoop>(setup, venue_, &venue_, std::move(strategy))) {
  attach(loop_.get());
}

}  // namespace tb::trading
