// PaperSession: the configured strategy trading on the PaperVenue through a TradingLoop, as one
// MarketEventSink. The daemon (trading.mode = "paper") and `tradingbot replay` attach it to the
// market-data pipeline; tests feed it events directly.
//
// Time comes only from the events (their receive time) and from tick(now) (LoopDriver: the
// loop's timer runs whenever event time crosses the next strategy.timer_ms boundary), so replay
// needs no clock and stays deterministic.
//
// Also here: the conversions from the validated config into the loop's setup.
// Trading thread only.
#pragma once

#include <memory>
#include <string>

#include "tradingbot/config/config.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/strategy/factory.hpp"
#include "tradingbot/trading/loop_driver.hpp"
#include "tradingbot/trading/trading_loop.hpp"
#include "tradingbot/venue/paper_venue.hpp"

namespace tb::trading {

// [risk] -> RiskParams; per-symbol qty limits go into every symbol's rules.
[[nodiscard]] risk::RiskParams risk_params_from(const config::RiskConfig& risk);
// Setup for the strategy's symbols with the [trading] paper granularity as their filters.
// `run_prefix` names client ids ("<prefix>-<seq>", 1..15 id characters).
[[nodiscard]] Result<TradingSetup> paper_setup_from(const config::Config& config, const std::string& run_prefix);
[[nodiscard]] strategy::StrategySpec strategy_spec_from(const config::StrategyConfig& strategy);
[[nodiscard]] venue::PaperVenueConfig paper_venue_config_from(const config::TradingConfig& trading);

class PaperSession final : public LoopDriver {
 public:
  // The strategy named in [strategy] (none when the name is empty), on a PaperVenue.
  static Result<std::unique_ptr<PaperSession>> create(const config::Config& config, const std::string& run_prefix);

  PaperSession(const TradingSetup& setup, const venue::PaperVenueConfig& venue_config,
               std::unique_ptr<strategy::Strategy> strategy, Nanos timer_period);

  [[nodiscard]] TradingLoop& loop() noexcept { return *loop_; }
  [[nodiscard]] venue::PaperVenue& venue() noexcept { return venue_; }

 private:
  venue::PaperVenue venue_;
  std::unique_ptr<TradingLoop> loop_;
};

}  // namespace tb::trading
