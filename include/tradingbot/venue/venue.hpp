// Venue: where orders go. One interface for live Binance (a WS-API / REST adapter, built on the
// order gateway), paper trading (PaperVenue, the exchange's book mirrored locally) and replay
// (PaperVenue driven by a capture), so the trading loop above runs the same code for all three.
//
// Contract (all calls and callbacks on the trading thread):
//  - place(order): send a new order exactly as the order manager created it (PENDING_NEW):
//    newClientOrderId = order.client_id, symbol, side, type, timeInForce (LIMIT only), price
//    (not for MARKET), quantity. Never blocks; the outcome arrives later through the listener:
//      ack / fills / final state       -> on_execution_report (Binance executionReport form; a
//                                         REST/WS-API FULL response is converted into NEW +
//                                         one TRADE report per fill)
//      definite refusal (4xx, -2010...) -> on_place_rejected(client id, Binance code)
//      outcome unknown (5xx, timeout)   -> on_place_unknown(client id)
//  - cancel(symbol, client id): cancel by origClientOrderId. Outcome: a CANCELED execution
//    report (orig_client_order_id = the canceled id), or on_cancel_rejected(id, code) (-2011
//    unknown order), or on_cancel_unknown(id).
//  - cancel_all(symbol): DELETE /openOrders for the symbol; one CANCELED report per order.
//  - Replace is cancel + place (two risk checks); a live adapter may map the pair to
//    order.cancelReplace, reporting the same events.
//  - The user stream's health: on_user_stream_alive(now) for every user-stream message or pong,
//    on_user_stream_lost(now) when it drops (the order manager then waits for a reconciliation).
//  - poll(now): called from the loop's timer and after each market event; a venue with delayed
//    work (paper latency) delivers what is due. next_due() says when to call it next.
//  - Listener callbacks are never made from inside place/cancel/cancel_all (only from poll() or
//    the venue's own I/O handlers), so the loop is never re-entered while it sends.
//  - A venue that resolves outcomes itself (LiveVenue: its order gateway queries unknown outcomes
//    by client id and reconciles after every user-data gap, both against the order manager)
//    applies each change to the order manager and then reports it through on_order_applied()
//    instead of the report/rejected/unknown calls above, so nothing is applied twice.
#pragma once

#include <cstdint>
#include <string_view>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/oms/order_manager.hpp"
#include "tradingbot/oms/types.hpp"

namespace tb::venue {

// One change a self-resolving venue already applied to the order manager (see the contract).
struct AppliedChange {
  enum class Kind : std::uint8_t {
    Acked,           // the exchange has the order (NEW or later)
    Filled,          // a new fill: last_price, last_qty, maker
    Rejected,        // the place request definitely failed (error_code)
    Canceled,        // canceled or expired: terminal
    CancelRejected,  // the cancel was refused (error_code); the order may still work
    Unknown,         // the place outcome is unknown; the venue is resolving it
    Resolved,        // an unknown outcome was resolved by a query (see the order's status)
  };
  Kind kind = Kind::Acked;
  oms::ClientOrderId client_id;
  std::int32_t error_code = 0;
  Price last_price;
  Qty last_qty;
  bool maker = false;
};

class VenueListener {
 public:
  virtual ~VenueListener() = default;
  virtual void on_execution_report(const oms::ExecutionReport& report, Nanos now) = 0;
  virtual void on_place_rejected(const oms::ClientOrderId& id, std::int32_t error_code, Nanos now) = 0;
  virtual void on_place_unknown(const oms::ClientOrderId& id, Nanos now) = 0;
  virtual void on_cancel_rejected(const oms::ClientOrderId& id, std::int32_t error_code, Nanos now) = 0;
  virtual void on_cancel_unknown(const oms::ClientOrderId& id, Nanos now) = 0;
  virtual void on_user_stream_alive(Nanos now) = 0;
  virtual void on_user_stream_lost(Nanos now) = 0;
  virtual void on_order_applied(const AppliedChange& change, Nanos now) = 0;
};

class Venue {
 public:
  virtual ~Venue() = default;
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  virtual void set_listener(VenueListener* listener) noexcept = 0;
  virtual void place(const oms::Order& order, Nanos now) noexcept = 0;
  virtual void cancel(const Symbol& symbol, const oms::ClientOrderId& id, Nanos now) noexcept = 0;
  virtual void cancel_all(const Symbol& symbol, Nanos now) noexcept = 0;
  virtual void poll(Nanos /*now*/) noexcept {}
  // When poll() has work next (0 = nothing scheduled).
  [[nodiscard]] virtual Nanos next_due() const noexcept { return 0; }
};

}  // namespace tb::venue
