// OrderListener: how the matching engine reports what each operation did (Liquibook style:
// domain outcomes are callbacks, never exceptions). Callbacks run synchronously on the engine's
// owner thread, inside the submit/cancel/replace call, in the order things happen:
//   new order:  accepted, then trades / maker expiries (STP) / level changes as matching
//               proceeds, then the taker's expiry (IOC, FOK, MARKET, STP) if any, then the
//               level change of the resting remainder if any.
//   rejected:   rejected only (nothing changed, no id consumed).
// Event structs hold plain values and string_views into engine or caller memory that stay
// valid only during the callback: copy what you keep. The engine never allocates to call a
// listener; listeners on the hot path should not either. A listener must not call back into
// the engine (such calls are refused with RejectReason::ReentrantCall).
#pragma once

#include <string_view>

#include "tradingbot/book/order_types.hpp"

namespace tb::book {

struct OrderAccepted {
  OrderId order_id;
  AccountId account;
  std::string_view client_order_id;
  Side side;
  OrderType type;
  TimeInForce time_in_force;
  Price price;      // zero for MARKET
  Qty quantity;     // zero for MARKET by quote
  Money quote_qty;  // MARKET by quote only
  Nanos time;
};

struct OrderRejected {
  RequestKind kind;
  OrderId order_id;  // the order a cancel/replace named (0 for new orders)
  AccountId account;
  std::string_view client_order_id;
  RejectReason reason;
  Nanos time;
};

// One match. The price is always the maker's. quote_qty = notional(price, quantity).
struct Trade {
  TradeId trade_id;
  OrderId maker_order_id;
  OrderId taker_order_id;
  AccountId maker_account;
  AccountId taker_account;
  std::string_view maker_client_order_id;
  std::string_view taker_client_order_id;
  Side taker_side;
  Price price;
  Qty quantity;
  Money quote_qty;
  Qty maker_open_qty;  // maker's open quantity after this trade (0: maker filled)
  Qty taker_open_qty;  // taker's remaining quantity after this trade (0 for MARKET by quote)
  Nanos time;
};

struct OrderCancelled {
  OrderId order_id;
  AccountId account;
  std::string_view client_order_id;
  Side side;
  Price price;
  Qty cancelled_qty;  // the open quantity removed
  Qty filled_qty;
  Nanos time;
};

struct OrderExpired {
  OrderId order_id;
  AccountId account;
  std::string_view client_order_id;
  Side side;
  Price price;
  Qty expired_qty;  // remaining base quantity (0 for MARKET by quote; see expired_quote)
  Money expired_quote;  // MARKET by quote: unspent quote amount
  Qty filled_qty;
  ExpireReason reason;
  OrderId prevented_match_order_id;  // STP: the order on the other side of the prevented match
  Nanos time;
};

struct OrderReplaced {
  OrderId order_id;
  AccountId account;
  std::string_view client_order_id;  // after the replace
  Side side;
  Price old_price;
  Price new_price;
  Qty old_open_qty;
  Qty new_open_qty;
  bool kept_priority;
  Nanos time;
};

// A price level's new aggregate. quantity == 0 (and order_count == 0) means the level is gone.
// update_id is the book's update id after this change (each change adds exactly one).
struct LevelChanged {
  Side side;
  Price price;
  Qty quantity;
  std::uint32_t order_count;
  UpdateId update_id;
};

class OrderListener {
 public:
  virtual ~OrderListener() = default;
  virtual void on_accepted(const OrderAccepted& /*event*/) {}
  virtual void on_rejected(const OrderRejected& /*event*/) {}
  virtual void on_trade(const Trade& /*event*/) {}
  virtual void on_cancelled(const OrderCancelled& /*event*/) {}
  virtual void on_expired(const OrderExpired& /*event*/) {}
  virtual void on_replaced(const OrderReplaced& /*event*/) {}
  virtual void on_level_changed(const LevelChanged& /*event*/) {}
};

// A listener that ignores everything (benchmarks, callers that only read depth).
class NullOrderListener final : public OrderListener {};

}  // namespace tb::book
