// Test helper: an OrderListener that keeps every event, as values and as readable one-line
// strings, so matching-engine tests can assert on exactly what a user would see. Test thread only.
#pragma once

#include <string>
#include <vector>

#include "tradingbot/book/order_listener.hpp"

namespace tb::book::test {

// Whole units in tests: P(100) is a price of 100, Q(5) a quantity of 5.
inline Price P(std::int64_t whole) { return Price::from_integer(whole); }
inline Qty Q(std::int64_t whole) { return Qty::from_integer(whole); }
inline Money M(std::int64_t whole) { return Money::from_integer(whole); }

class RecordingListener : public OrderListener {
 public:
  std::vector<std::string> log;
  std::vector<Trade> trades;
  std::vector<OrderExpired> expired;
  std::vector<OrderRejected> rejected;
  std::vector<LevelChanged> levels;

  void clear() {
    log.clear();
    trades.clear();
    expired.clear();
    rejected.clear();
    levels.clear();
  }
  void on_accepted(const OrderAccepted& e) override { log.push_back("accepted " + std::to_string(e.order_id)); }
  void on_rejected(const OrderRejected& e) override {
    rejected.push_back(e);
    log.push_back("rejected " + std::string(to_string(e.reason)));
  }
  void on_trade(const Trade& e) override {
    trades.push_back(e);
    log.push_back("trade " + std::to_string(e.trade_id) + " maker " + std::to_string(e.maker_order_id) + " taker " +
                  std::to_string(e.taker_order_id) + " " + e.price.to_string() + " x " + e.quantity.to_string());
  }
  void on_cancelled(const OrderCancelled& e) override {
    log.push_back("cancelled " + std::to_string(e.order_id) + " " + e.cancelled_qty.to_string());
  }
  void on_expired(const OrderExpired& e) override {
    expired.push_back(e);
    log.push_back("expired " + std::to_string(e.order_id) + " " + std::string(to_string(e.reason)) + " " +
                  e.expired_qty.to_string());
  }
  void on_replaced(const OrderReplaced& e) override {
    log.push_back("replaced " + std::to_string(e.order_id) + (e.kept_priority ? " kept" : " lost"));
  }
  void on_level_changed(const LevelChanged& e) override {
    levels.push_back(e);
    log.push_back(std::string("level ") + (e.side == Side::Buy ? "bid " : "ask ") + e.price.to_string() + " " +
                  e.quantity.to_string() + " #" + std::to_string(e.order_count));
  }
};

}  // namespace tb::book::test
