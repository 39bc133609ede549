// LoopDriver: the MarketEventSink in front of a TradingLoop, shared by the paper session (daemon
// paper mode, replay) and the daemon's live trading. It forwards every market event to the loop
// and runs the loop's timer whenever event time crosses the next timer boundary, so replay needs
// no clock and stays deterministic; the daemon also calls tick() from its own timer so that the
// dead-man fires even when no market data arrives at all.
//
// Start: a paper venue has nothing to reconcile, so the loop starts (order manager ready) at the
// first event. A live venue's gateway reconciles with the exchange first and makes the order
// manager ready itself; until then the strategy sees the market but cannot place orders.
// Events that arrive before a loop is attached (live: before exchangeInfo gave the filters the
// loop is built with) are dropped: the books keep them, the strategy starts from the next one.
// Trading thread only.
#pragma once

#include <cstdint>

#include "tradingbot/market/event_sink.hpp"
#include "tradingbot/trading/trading_loop.hpp"

namespace tb::trading {

class LoopDriver : public market::MarketEventSink {
 public:
  enum class Start : std::uint8_t { Ready, AfterReconciliation };

  // Throws std::invalid_argument when timer_period is not positive.
  LoopDriver(Nanos timer_period, Start start);

  // The loop to drive (must outlive the driver or be detached with nullptr).
  void attach(TradingLoop* loop) noexcept { loop_ = loop; }
  [[nodiscard]] TradingLoop* attached() const noexcept { return loop_; }

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

 private:
  // False when no loop is attached (the event is dropped).
  bool before_event(Nanos now);

  TradingLoop* loop_ = nullptr;
  Nanos timer_period_;
  Start start_;
  Nanos next_tick_ = 0;
  bool started_ = false;
};

}  // namespace tb::trading
