// LiveVenue: see the header. Trading thread only.
#include "tradingbot/venue/live_venue.hpp"

namespace tb::venue {

namespace {

AppliedChange::Kind to_change(binance::GatewayEventKind kind) noexcept {
  using G = binance::GatewayEventKind;
  using K = AppliedChange::Kind;
  switch (kind) {
    case G::Acked: return K::Acked;
    case G::Filled: return K::Filled;
    case G::Rejected: return K::Rejected;
    case G::Canceled: return K::Canceled;
    case G::CancelRejected: return K::CancelRejected;
    case G::Unknown: return K::Unknown;
    case G::Resolved: return K::Resolved;
  }
  return K::Resolved;
}

}  // namespace

LiveVenue::LiveVenue() { held_.reserve(64); }

LiveVenue::~LiveVenue() = default;

void LiveVenue::place(const oms::Order& order, Nanos /*now*/) noexcept {
  if (!gateway_) return;  // not attached: the order stays PENDING_NEW until reconciliation
  ++stats_.places;
  sending_ = true;
  (void)gateway_->send(order);  // a refusal is reported as Rejected (held, see on_gateway_event)
  sending_ = false;
}

void LiveVenue::cancel(const Symbol& /*symbol*/, const oms::ClientOrderId& id, Nanos /*now*/) noexcept {
  if (!gateway_) return;
  ++stats_.cancels;
  sending_ = true;
  (void)gateway_->send_requested_cancel(id);
  sending_ = false;
}

void LiveVenue::cancel_all(const Symbol& symbol, Nanos /*now*/) noexcept {
  if (!gateway_) return;
  sending_ = true;
  stats_.cancels += gateway_->send_requested_cancels(symbol);
  sending_ = false;
}

void LiveVenue::poll(Nanos now) noexcept {
  if (listener_ == nullptr) return;
  if (!held_.empty()) {
    // Delivering may make the loop send, which may hold new events: take the batch first.
    std::vector<AppliedChange> batch;
    batch.swap(held_);
    for (const AppliedChange& change : batch) deliver(change, now);
    if (held_.empty()) {
      batch.clear();
      held_.swap(batch);  // keep the reserved capacity
    }
  }
  if (gateway_ && state_ == binance::GatewayState::Armed && gateway_->ws_api().ready()) {
    listener_->on_user_stream_alive(now);
  }
}

void LiveVenue::deliver(const AppliedChange& change, Nanos now) {
  if (change.kind == AppliedChange::Kind::Filled) ++stats_.fills;
  listener_->on_order_applied(change, now);
}

void LiveVenue::on_gateway_event(const binance::GatewayEvent& event) {
  AppliedChange change;
  change.kind = to_change(event.kind);
  change.client_id = event.client_id;
  change.error_code = event.error_code;
  change.last_price = event.last_price;
  change.last_qty = event.last_qty;
  change.maker = event.maker;
  if (sending_ || listener_ == nullptr) {
    ++stats_.held_events;
    held_.push_back(change);
    return;
  }
  const Nanos now = wall_clock_ns();
  deliver(change, now);
  if (state_ == binance::GatewayState::Armed) listener_->on_user_stream_alive(now);
}

void LiveVenue::on_gateway_state(binance::GatewayState state) {
  const bool was_armed = state_ == binance::GatewayState::Armed;
  state_ = state;
  if (listener_ == nullptr) return;
  const Nanos now = wall_clock_ns();
  if (state == binance::GatewayState::Armed) {
    listener_->on_user_stream_alive(now);
  } else if (was_armed) {
    listener_->on_user_stream_lost(now);
  }
}

}  // namespace tb::venue
