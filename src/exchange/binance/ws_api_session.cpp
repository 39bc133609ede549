// WsApiSession: see the header. Trading thread only.
#include "tradingbot/exchange/binance/ws_api_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace tb::binance {

std::string_view to_string(WsApiState s) noexcept {
  switch (s) {
    case WsApiState::Stopped: return "stopped";
    case WsApiState::Connecting: return "connecting";
    case WsApiState::Subscribing: return "subscribing";
    case WsApiState::Ready: return "ready";
  }
  return "?";
}

std::string_view to_string(WsApiMethod m) noexcept {
  switch (m) {
    case WsApiMethod::OrderPlace: return "order.place";
    case WsApiMethod::OrderCancel: return "order.cancel";
    case WsApiMethod::OrderStatus: return "order.status";
    case WsApiMethod::OpenOrdersStatus: return "openOrders.status";
    case WsApiMethod::Subscribe: return "userDataStream.subscribe.signature";
  }
  return "?";
}

std::string_view to_string(WsApiOutcome o) noexcept {
  switch (o) {
    case WsApiOutcome::Ok: return "ok";
    case WsApiOutcome::Rejected: return "rejected";
    case WsApiOutcome::Unknown: return "unknown";
    case WsApiOutcome::NotSent: return "not_sent";
  }
  return "?";
}

std::shared_ptr<WsApiSession> WsApiSession::create(boost::asio::io_context& ioc, net::TlsContextPtr tls,
                                                   WsApiOptions options, RequestSigner& signer,
                                                   std::string_view api_key, const ClockOffsetEstimator& clock,
                                                   RateLimitTracker& limits, WsApiListener& listener) {
  return std::shared_ptr<WsApiSession>(
      new WsApiSession(ioc, std::move(tls), std::move(options), signer, api_key, clock, limits, listener));
}

WsApiSession::WsApiSession(boost::asio::io_context& ioc, net::TlsContextPtr tls, WsApiOptions options,
                           RequestSigner& signer, std::string_view api_key, const ClockOffsetEstimator& clock,
                           RateLimitTracker& limits, WsApiListener& listener)
    : ioc_(ioc),
      tls_(std::move(tls)),
      options_(std::move(options)),
      signer_(signer),
      api_key_(api_key),
      clock_(clock),
      limits_(limits),
      listener_(listener),
      sweep_timer_(ioc) {
  frame_.response.orders.reserve(64);
}

WsApiSession::~WsApiSession() = default;

void WsApiSession::start() {
  if (!stopped_) return;
  stopped_ = false;
  ws_ = net::ReconnectingWebSocket::create(ioc_, tls_, options_.connection);
  std::weak_ptr<WsApiSession> weak = shared_from_this();
  ws_->on_open([weak](net::WebSocketClient& c, bool standby) {
    if (auto self = weak.lock()) self->on_open(c, standby);
  });
  ws_->on_message([weak](const net::WsMessage& m) {
    if (auto self = weak.lock()) self->on_message(m);
  });
  ws_->on_disconnected([weak](const net::CloseReason& r, Nanos) {
    if (auto self = weak.lock()) self->on_disconnected(r);
  });
  set_state(WsApiState::Connecting, false);
  ws_->start();
  arm_sweep();
}

void WsApiSession::stop() {
  if (stopped_) return;
  stopped_ = true;
  sweep_timer_.cancel();
  if (ws_) ws_->stop("session stopping");
  fail_in_flight(false, 0);
  set_state(WsApiState::Stopped, false);
}

RequestTiming WsApiSession::timing() const noexcept {
  return RequestTiming{clock_.timestamp_for_request(wall_clock_ns()), options_.recv_window_ms};
}

WsApiSession::InFlight* WsApiSession::free_slot() noexcept {
  if (in_flight_count_ >= kMaxInFlight) return nullptr;
  for (auto& s : in_flight_)
    if (s.id == 0) return &s;
  return nullptr;
}

namespace {
std::string_view format_id(std::uint64_t id, char (&buf)[24]) noexcept {
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), id);
  (void)ec;
  return {buf, static_cast<std::size_t>(end - buf)};
}
}  // namespace

std::uint64_t WsApiSession::place(const NewOrder& order, Nanos timeout) {
  if (state_ != WsApiState::Ready) {
    ++counters_.not_sent;
    return 0;
  }
  const std::uint64_t id = next_id_++;
  const BuildStatus b = build_order_place(builder_, format_id(id, id_text_), order, signer_, api_key_, timing());
  return submit(WsApiMethod::OrderPlace, b, order.client_order_id, order.symbol, timeout, id,
                endpoint_weight(Endpoint::OrderNew), true);
}

std::uint64_t WsApiSession::cancel(const OrderRef& ref, Nanos timeout) {
  if (state_ != WsApiState::Ready) {
    ++counters_.not_sent;
    return 0;
  }
  const std::uint64_t id = next_id_++;
  const BuildStatus b = build_order_cancel(builder_, format_id(id, id_text_), ref, signer_, api_key_, timing());
  return submit(WsApiMethod::OrderCancel, b, ref.orig_client_order_id, ref.symbol, timeout, id,
                endpoint_weight(Endpoint::OrderCancel), true);
}

std::uint64_t WsApiSession::query(const OrderRef& ref, Nanos timeout) {
  if (state_ != WsApiState::Ready) {
    ++counters_.not_sent;
    return 0;
  }
  const std::uint64_t id = next_id_++;
  const BuildStatus b = build_order_status(builder_, format_id(id, id_text_), ref, signer_, api_key_, timing());
  return submit(WsApiMethod::OrderStatus, b, ref.orig_client_order_id, ref.symbol, timeout, id,
                endpoint_weight(Endpoint::OrderQuery), true);
}

std::uint64_t WsApiSession::open_orders(std::string_view symbol, Nanos timeout) {
  if (state_ != WsApiState::Ready) {
    ++counters_.not_sent;
    return 0;
  }
  const std::uint64_t id = next_id_++;
  const BuildStatus b = build_open_orders_status(builder_, format_id(id, id_text_), symbol, signer_, api_key_, timing());
  return submit(WsApiMethod::OpenOrdersStatus, b, ClientOrderId{}, Symbol::parse(symbol).value_or(Symbol{}), timeout, id,
                endpoint_weight(Endpoint::OpenOrders, symbol.empty() ? 0 : 1), true);
}

std::uint64_t WsApiSession::submit(WsApiMethod method, BuildStatus built, const ClientOrderId& cid,
                                   const Symbol& symbol, Nanos timeout, std::uint64_t id, std::int32_t weight,
                                   bool needs_ready) {
  if (built != BuildStatus::Ok) {
    spdlog::error("binance ws api: {} not built: {}", to_string(method), to_string(built));
    ++counters_.not_sent;
    return 0;
  }
  if (needs_ready && state_ != WsApiState::Ready) {
    ++counters_.not_sent;
    return 0;
  }
  const Nanos now = wall_clock_ns();
  const std::int32_t orders = method == WsApiMethod::OrderPlace ? 1 : 0;
  if (limits_.can_send(weight, now, orders) != RateDecision::Ok) {
    ++counters_.not_sent;
    return 0;
  }
  InFlight* slot = free_slot();
  if (slot == nullptr) {
    ++counters_.not_sent;
    return 0;
  }
  if (ws_->send(builder_.json(), net::Pacing::unpaced) != net::SendStatus::queued) {
    ++counters_.not_sent;
    return 0;
  }
  limits_.on_sent(weight, now, orders);
  slot->id = id;
  slot->method = method;
  slot->client_order_id = cid;
  slot->symbol = symbol;
  slot->deadline_mono = monotonic_ns() + (timeout > 0 ? timeout : options_.request_timeout);
  slot->connection = connection_seq_;
  ++in_flight_count_;
  ++counters_.requests;
  return id;
}

void WsApiSession::on_open(net::WebSocketClient& connection, bool standby) {
  if (stopped_) return;
  ++connection_seq_;
  if (!options_.subscribe_user_data) {
    if (!standby) set_state(WsApiState::Ready, false);
    return;
  }
  // Subscribe on exactly this connection (the standby of a rotation is not active yet).
  const std::uint64_t id = next_id_++;
  const BuildStatus b =
      build_user_data_stream_subscribe_signature(builder_, format_id(id, id_text_), signer_, api_key_, timing());
  InFlight* slot = free_slot();
  if (b != BuildStatus::Ok || slot == nullptr ||
      connection.send(builder_.json(), net::Pacing::unpaced) != net::SendStatus::queued) {
    spdlog::error("binance ws api: could not send the user data subscription; reconnecting");
    connection.close("subscription not sent");
    return;
  }
  subscribe_id_ = id;
  slot->id = id;
  slot->method = WsApiMethod::Subscribe;
  slot->client_order_id = ClientOrderId{};
  slot->symbol = Symbol{};
  slot->deadline_mono = monotonic_ns() + options_.request_timeout;
  slot->connection = connection_seq_;
  ++in_flight_count_;
  ++counters_.requests;
  if (!standby) set_state(WsApiState::Subscribing, false);
}

void WsApiSession::on_message(const net::WsMessage& message) {
  const ParseStatus ps = parse_ws_api_frame(parser_, message.payload, frame_);
  if (ps != ParseStatus::Ok) {
    ++counters_.decode_errors;
    spdlog::warn("binance ws api: undecodable frame ({}): {:.200}", to_string(ps), message.payload);
    return;
  }
  if (frame_.kind == WsApiFrame::Kind::Event) {
    ++counters_.user_events;
    if (frame_.event.type == UserEventType::ServerShutdown) {
      ++counters_.server_shutdowns;
      spdlog::info("binance ws api: serverShutdown: rotating to a new connection");
      ws_->rotate();
      return;
    }
    if (frame_.event.type == UserEventType::EventStreamTerminated) {
      spdlog::warn("binance ws api: user data stream terminated by the server: resubscribing on a new connection");
      ws_->rotate();
    }
    listener_.on_user_event(frame_.event);
    return;
  }
  on_response(frame_.response);
}

void WsApiSession::on_response(const WsApiResponse& r) {
  ++counters_.responses;
  const Nanos now = wall_clock_ns();
  if (r.rate_limit_count > 0) limits_.on_usage(r.rate_limits.data(), r.rate_limit_count, now);
  if (r.status == 429 || r.status == 418) {
    limits_.on_ws_api_status(r.status, r.retry_after_epoch_ms, now);
    if (r.status == 418) spdlog::error("binance ws api: ALERT IP banned (418)");
  }
  std::uint64_t id = 0;
  const auto text = r.id.view();
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id == 0) {
    spdlog::warn("binance ws api: response with a foreign id '{}'", text);
    return;
  }
  for (auto& slot : in_flight_) {
    if (slot.id != id) continue;
    WsApiOutcome outcome = WsApiOutcome::Ok;
    if (!r.ok()) {
      outcome = (r.status >= 500 || r.error.code == error_code::kTimeout) ? WsApiOutcome::Unknown : WsApiOutcome::Rejected;
    }
    if (slot.method == WsApiMethod::Subscribe) {
      const std::uint64_t conn = slot.connection;
      complete(slot, outcome, &r);
      if (outcome != WsApiOutcome::Ok) {
        spdlog::error("binance ws api: user data subscription refused: {} {}", r.error.code, r.error.msg);
        if (ws_) ws_->rotate();  // try again on a fresh connection (backoff applies to reconnects)
        return;
      }
      // Requests still in flight on an older connection (a rotation just switched) will never
      // be answered: their outcome is unknown now.
      fail_in_flight(true, conn);
      const bool gap = counters_.subscriptions > 0 && state_ != WsApiState::Ready;
      ++counters_.subscriptions;
      if (gap) ++counters_.gaps;
      counters_.subscription_id = r.subscription_id;
      set_state(WsApiState::Ready, gap);
      return;
    }
    complete(slot, outcome, &r);
    return;
  }
  // Late answer to a request already reported Unknown by its deadline: the order path learns the
  // truth from the execution report or its query.
  spdlog::info("binance ws api: late response for request {} (already timed out)", id);
}

void WsApiSession::complete(InFlight& slot, WsApiOutcome outcome, const WsApiResponse* response) {
  WsApiCompletion c;
  c.request_id = slot.id;
  c.method = slot.method;
  c.client_order_id = slot.client_order_id;
  c.symbol = slot.symbol;
  c.outcome = outcome;
  c.response = response;
  slot.id = 0;
  --in_flight_count_;
  if (outcome == WsApiOutcome::Unknown) ++counters_.unknown_outcomes;
  if (outcome == WsApiOutcome::Rejected) ++counters_.rejected;
  if (c.method != WsApiMethod::Subscribe) listener_.on_ws_api_completion(c);
}

// Completes in-flight requests as Unknown: every one (only_before = false), or those sent on a
// connection older than `connection`.
void WsApiSession::fail_in_flight(bool only_before, std::uint64_t connection) {
  for (auto& slot : in_flight_) {
    if (slot.id == 0) continue;
    if (only_before && slot.connection >= connection) continue;
    complete(slot, WsApiOutcome::Unknown, nullptr);
  }
}

void WsApiSession::on_disconnected(const net::CloseReason& reason) {
  if (stopped_) return;
  ++counters_.disconnects;
  spdlog::warn("binance ws api: disconnected ({}: {}); in-flight requests are unknown, user data interrupted",
               net::close_cause_name(reason.cause), reason.message);
  fail_in_flight(false, 0);
  set_state(WsApiState::Connecting, false);
}

void WsApiSession::arm_sweep() {
  if (stopped_) return;
  sweep_timer_.expires_after(std::chrono::nanoseconds(options_.sweep_interval));
  sweep_timer_.async_wait([weak = std::weak_ptr<WsApiSession>(shared_from_this())](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->stopped_) return;
    const Nanos now = monotonic_ns();
    for (auto& slot : self->in_flight_) {
      if (slot.id == 0 || slot.deadline_mono > now) continue;
      ++self->counters_.timeouts;
      if (slot.method == WsApiMethod::Subscribe) {
        slot.id = 0;
        --self->in_flight_count_;
        spdlog::error("binance ws api: user data subscription unanswered; reconnecting");
        if (self->ws_) self->ws_->rotate();
        continue;
      }
      self->complete(slot, WsApiOutcome::Unknown, nullptr);
    }
    self->arm_sweep();
  });
}

void WsApiSession::set_state(WsApiState state, bool gap) {
  if (state == state_ && !gap) return;
  state_ = state;
  listener_.on_ws_api_state(state, gap);
}

WsApiStatus WsApiSession::status() const noexcept {
  WsApiStatus s = counters_;
  s.state = state_;
  s.in_flight = in_flight_count_;
  return s;
}

}  // namespace tb::binance
