#include "tradingbot/trading/loop_driver.hpp"

#include <stdexcept>

namespace tb::trading {

LoopDriver::LoopDriver(Nanos timer_period, Start start) : timer_period_(timer_period), start_(start) {
  if (timer_period_ <= 0) throw std::invalid_argument("strategy.timer_ms must be positive");
}

bool LoopDriver::before_event(Nanos now) {
  if (loop_ == nullptr) return false;
  if (!started_) {
    started_ = true;
    if (start_ == Start::Ready) loop_->start_without_reconciliation(now);
    next_tick_ = now + timer_period_;
    return true;
  }
  tick(now);
  return true;
}

void LoopDriver::tick(Nanos now) {
  if (loop_ == nullptr) return;
  if (!started_) {
    (void)before_event(now);
    return;
  }
  if (now < next_tick_) return;
  loop_->on_timer(now);
  // One timer run per call even after a long gap: the dead-man only needs the current time.
  next_tick_ = now - (now - next_tick_) % timer_period_ + timer_period_;
}

void LoopDriver::on_book_ticker(const market::BookTicker& e, Nanos now) {
  if (before_event(now)) loop_->on_book_ticker(e, now);
}
void LoopDriver::on_trade(const market::Trade& e, Nanos now) {
  if (before_event(now)) loop_->on_trade(e, now);
}
void LoopDriver::on_agg_trade(const market::AggTrade& e, Nanos now) {
  if (before_event(now)) loop_->on_agg_trade(e, now);
}
void LoopDriver::on_kline(const market::Kline& e, Nanos now) {
  if (before_event(now)) loop_->on_kline(e, now);
}
void LoopDriver::on_partial_depth(const market::PartialDepth& e, Nanos now) {
  if (before_event(now)) loop_->on_partial_depth(e, now);
}
void LoopDriver::on_book_update(const Symbol& symbol, const book::L2Book& book, Nanos now) {
  if (before_event(now)) loop_->on_book_update(symbol, book, now);
}
void LoopDriver::on_book_reset(const Symbol& symbol) {
  if (loop_ != nullptr) loop_->on_book_reset(symbol);
}
void LoopDriver::on_server_shutdown(const market::ServerShutdown& /*e*/, Nanos now) { (void)before_event(now); }

}  // namespace tb::trading
