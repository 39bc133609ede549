// LiveVenue: the Venue on Binance spot, through binance::OrderGateway (WS API fast path, REST
// fallback). The gateway works on the trading loop's own OrderManager: it applies every exchange
// outcome there (acks, fills, rejects, cancels), resolves unknown outcomes by querying the order
// by client id, and reconciles openOrders + myTrades after every user-data gap. This venue
// therefore reports through VenueListener::on_order_applied() only (venue.hpp), never a raw
// report that the loop would apply a second time.
//
// Construction order (the loop owns the OrderManager the gateway needs):
//   LiveVenue venue;
//   TradingLoop loop(setup, venue, nullptr, strategy);
//   auto gateway = OrderGateway::create(..., loop.order_manager(), venue, ...);
//   venue.attach(gateway);
//   gateway->start();  // REST, WS API, reconcile -> armed: the order manager is ready
// - place(order): gateway.send(order).
// - cancel(symbol, id): the loop already marked the order PENDING_CANCEL; the gateway sends the
//   cancel by origClientOrderId.
// - cancel_all(symbol): one cancel per order of ours pending cancel on that symbol, never
//   DELETE /openOrders, which would also cancel orders a person placed on the account by hand.
// - A gateway event raised while place/cancel run (a local refusal is synchronous) is held and
//   delivered from the next poll(), so the loop is never re-entered while it sends.
// - User-stream health for the dead-man: alive while the WS API session is ready (its
//   subscription carries the user data and its pings are answered), lost when the gateway
//   leaves Armed.
// Trading thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "tradingbot/exchange/binance/order_gateway.hpp"
#include "tradingbot/venue/venue.hpp"

namespace tb::venue {

struct LiveVenueStats {
  std::uint64_t places = 0;
  std::uint64_t cancels = 0;
  std::uint64_t fills = 0;
  std::uint64_t held_events = 0;  // raised inside place/cancel, delivered from poll()
};

class LiveVenue final : public Venue, public binance::GatewayListener {
 public:
  LiveVenue();
  ~LiveVenue() override;
  LiveVenue(const LiveVenue&) = delete;
  LiveVenue& operator=(const LiveVenue&) = delete;

  // The gateway built on the loop's order manager with this venue as its listener.
  void attach(std::shared_ptr<binance::OrderGateway> gateway) noexcept { gateway_ = std::move(gateway); }
  [[nodiscard]] binance::OrderGateway* gateway() const noexcept { return gateway_.get(); }
  [[nodiscard]] binance::GatewayState state() const noexcept { return state_; }
  [[nodiscard]] const LiveVenueStats& stats() const noexcept { return stats_; }

  // ---- Venue ----
  [[nodiscard]] std::string_view name() const noexcept override { return "live"; }
  void set_listener(VenueListener* listener) noexcept override { listener_ = listener; }
  void place(const oms::Order& order, Nanos now) noexcept override;
  void cancel(const Symbol& symbol, const oms::ClientOrderId& id, Nanos now) noexcept override;
  void cancel_all(const Symbol& symbol, Nanos now) noexcept override;
  void poll(Nanos now) noexcept override;

  // ---- binance::GatewayListener ----
  void on_gateway_event(const binance::GatewayEvent& event) override;
  void on_gateway_state(binance::GatewayState state) override;

 private:
  void deliver(const AppliedChange& change, Nanos now);

  std::shared_ptr<binance::OrderGateway> gateway_;
  VenueListener* listener_ = nullptr;
  binance::GatewayState state_ = binance::GatewayState::Stopped;
  bool sending_ = false;              // inside place/cancel/cancel_all
  std::vector<AppliedChange> held_;   // events raised while sending
  LiveVenueStats stats_;
};

}  // namespace tb::venue
