// Strategy: the interface every trading strategy implements, and the vocabulary it speaks.
//
// A strategy is pure decision logic. The trading loop (tb::trading::TradingLoop) calls it
// synchronously on the trading thread with each market event (book change, top of book, trade,
// closed kline), with its own order updates and fills, and on a periodic timer. A callback
// answers by appending intents (place, cancel, replace) to the IntentBuffer in its context; the
// loop then runs every intent through the risk gate and the order manager. Strategies never see
// client order ids, sockets or JSON: they name their working orders with small OrderTags of
// their own choosing (e.g. "BTCUSDT bid" = 0, "BTCUSDT ask" = 1) and the loop maps tags to orders.
//
// Rules a strategy must follow (the loop enforces them):
//  - never block, never allocate per event (the buffer is preallocated; overflowing it is
//    treated as a runaway strategy);
//  - never throw: an exception escaping a callback disables the strategy and trips the kill
//    switch (risk::HaltCause::StrategyFault); the loop itself keeps running;
//  - at most one live order per tag: placing on a tag that is still working is refused by the
//    loop (use replace).
// Trading thread only.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tradingbot/book/l2_book.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/market/events.hpp"
#include "tradingbot/risk/order_intent.hpp"

namespace tb::strategy {

// A strategy's own name for one of its working orders. Values are the strategy's choice.
using OrderTag = std::uint32_t;

enum class IntentKind : std::uint8_t { Place, Cancel, Replace };
[[nodiscard]] std::string_view to_string(IntentKind k) noexcept;

struct Intent {
  IntentKind kind = IntentKind::Place;
  OrderTag tag = 0;
  OrderIntent order;  // Place and Replace: the (new) order; Cancel: only order.symbol is used
};

// Fixed-capacity intent list filled by one callback. Capacity is fixed at construction; push
// past it fails and marks the buffer overflowed (the loop then disables the strategy).
class IntentBuffer {
 public:
  static constexpr std::size_t kCapacity = 32;

  bool place(OrderTag tag, const OrderIntent& order) noexcept { return push({IntentKind::Place, tag, order}); }
  bool replace(OrderTag tag, const OrderIntent& order) noexcept { return push({IntentKind::Replace, tag, order}); }
  bool cancel(OrderTag tag, const Symbol& symbol) noexcept {
    Intent in;
    in.kind = IntentKind::Cancel;
    in.tag = tag;
    in.order.symbol = symbol;
    return push(in);
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] bool overflowed() const noexcept { return overflowed_; }
  [[nodiscard]] const Intent& operator[](std::size_t i) const noexcept { return items_[i]; }
  void clear() noexcept { size_ = 0; overflowed_ = false; }

 private:
  bool push(const Intent& in) noexcept {
    if (size_ == kCapacity) {
      overflowed_ = true;
      return false;
    }
    items_[size_++] = in;
    return true;
  }
  std::array<Intent, kCapacity> items_{};
  std::size_t size_ = 0;
  bool overflowed_ = false;
};

// What happened to one of the strategy's orders.
enum class OrderEvent : std::uint8_t {
  Working,   // acknowledged by the venue, resting (possibly partly filled)
  Done,      // final: filled, canceled, expired or rejected (see `filled` for how much traded)
  Rejected,  // refused before reaching the venue (risk gate / order manager) or by the venue
};
[[nodiscard]] std::string_view to_string(OrderEvent e) noexcept;

struct OrderUpdate {
  OrderTag tag = 0;
  OrderEvent event = OrderEvent::Working;
  Symbol symbol;
  Side side = Side::Buy;
  Price price;
  Qty qty;
  Qty filled;
  std::string_view reason;  // Rejected: the risk or venue reason ("PriceBand", "venue -2010")
};

struct StrategyFill {
  OrderTag tag = 0;
  Symbol symbol;
  Side side = Side::Buy;
  Price price;
  Qty qty;
  bool maker = false;
};

// Exchange granularity of one symbol as the strategy must respect it.
struct Instrument {
  Symbol symbol;
  Price tick_size;     // 0 = any multiple of 1e-8
  Qty step_size;       // 0 = any multiple of 1e-8
  Money min_notional;  // 0 = none
};

// What the loop lets a strategy read while it decides.
class MarketView {
 public:
  virtual ~MarketView() = default;
  // Signed position held now (fills applied so far).
  [[nodiscard]] virtual Qty position(const Symbol& symbol) const noexcept = 0;
  // Instrument rules, nullptr for a symbol the loop does not trade.
  [[nodiscard]] virtual const Instrument* instrument(const Symbol& symbol) const noexcept = 0;
  // The synced L2 book of a symbol, nullptr while it is not synced.
  [[nodiscard]] virtual const book::L2Book* book(const Symbol& symbol) const noexcept = 0;
};

struct Context {
  Nanos now = 0;  // wall-clock ns (the capture's receive time in replay)
  const MarketView& view;
  IntentBuffer& out;
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;

  // The synced book of `symbol` changed (diff or snapshot applied).
  virtual void on_book(const Symbol& /*symbol*/, const book::L2Book& /*book*/, Context& /*ctx*/) {}
  // The book was discarded (gap, reconnect): quotes based on it are stale.
  virtual void on_book_reset(const Symbol& /*symbol*/, Context& /*ctx*/) {}
  virtual void on_top_of_book(const market::BookTicker& /*ticker*/, Context& /*ctx*/) {}
  virtual void on_trade(const market::Trade& /*trade*/, Context& /*ctx*/) {}
  virtual void on_agg_trade(const market::AggTrade& /*trade*/, Context& /*ctx*/) {}
  // Only closed (final) klines are delivered.
  virtual void on_kline(const market::Kline& /*kline*/, Context& /*ctx*/) {}
  virtual void on_timer(Context& /*ctx*/) {}
  virtual void on_order_update(const OrderUpdate& /*update*/, Context& /*ctx*/) {}
  virtual void on_fill(const StrategyFill& /*fill*/, Context& /*ctx*/) {}
};

// Helpers shared by strategies (pure integer math).
// mid = (bid + ask) / 2 truncated to 1e-8.
[[nodiscard]] constexpr Price mid_of(Price bid, Price ask) noexcept {
  return Price::from_raw(bid.raw() + (ask.raw() - bid.raw()) / 2);
}
// value * bps / 10000, exact in 128 bits, truncated toward zero.
[[nodiscard]] constexpr std::int64_t apply_bps(std::int64_t value, std::int64_t bps) noexcept {
  return static_cast<std::int64_t>(static_cast<Int128>(value) * bps / 10'000);
}
[[nodiscard]] constexpr Price floor_price(Price p, Price tick) noexcept {
  return tick.is_positive() ? Price::from_raw(floor_to_step(p.raw(), tick.raw())) : p;
}
[[nodiscard]] constexpr Price ceil_price(Price p, Price tick) noexcept {
  return tick.is_positive() ? Price::from_raw(ceil_to_step(p.raw(), tick.raw())) : p;
}
[[nodiscard]] constexpr Qty floor_qty(Qty q, Qty step) noexcept {
  return step.is_positive() ? Qty::from_raw(floor_to_step(q.raw(), step.raw())) : q;
}

}  // namespace tb::strategy
