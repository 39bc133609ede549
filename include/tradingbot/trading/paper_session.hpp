// PaperSession: the configured strategy trading on the PaperVenue through a TradingLoop, as one
// MarketEventSink. The daemon (trading.mode = "paper") and `tradingbot replay` attach it to the
// market-data pipeline; tests feed it events directly.
//
// Time comes only from the events (their receive time) and from tick(now): the session runs
// the loop's timer (strategy timer, dead-man check, venue latency, equity samples) whenever event
// time crosses the next strategy.timer_ms boundary, so replay needs no clock and stays
// deterministic. The daemon additionally calls tick() from its own timer so that the dead-man
// fires even when no market data arrives at all.
//
// Also here: the conversions from the validated config into the loop's setup.
// Trading thread only.
#pragma once

#include <memory>
#include <string>

#include "tradingbot/config/config.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/strategy/factory.hpp"
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

class PaperSession final : public market::MarketEventSink {
 public:
  // The strategy named in [strategy] (none when the name is empty), on a PaperVenue.
  static Result<std::unique_ptr<PaperSession>> create(const config::Config& config, const std::string& run_prefix);

  PaperSession(const TradingSetup& setup, const venue::PaperVenueConfig& venue_config,
               std::unique_ptr<strategy::Strategy> strategy, Nanos timer_period);

  // Runs the loop's timer if `now` reached the next boundary (call at least every timer period).
  void tick(Nanos now);

  void on_book_ticker(const market::BookTicker& e, Nanos now) override;
  void on_trade(const market::Trade& e, Nanos now) override;
  void on_agg_trade(const market::AggTrade& e, Nanos now) override;
  void on_kline(const market::Kline& e, Nanos now) override;
  void on_partial_depth(const market::PartialDepth& e, Nanos now) override;
  void on_book_update(const Symbol& symbol, const book::L2Book& book, Nanos now) override;
  void on_book_reset(const Symbol& symbol) override;
  void on_server_shutdown(const market::ServerShutdown& e, Nanos now) override;

  [[nodiscard]] TradingLoop& loop() noexcept { return *loop_; }
  [[nodiscard]] venue::PaperVenue& venue() noexcept { return venue_; }

 private:
  void before_event(Nanos now);

  venue::PaperVenue venue_;
  std::unique_ptr<TradingLoop> loop_;
  Nanos timer_period_;
  Nanos next_tick_ = 0;
  bool started_ = false;
};

}  // namespace tb::trading
