// WsApiSession: the Binance WebSocket API connection (reference sections 9 and 10), used for
// order.place / order.cancel / order.status / openOrders.status (the low-latency order path) and
// for user data through userDataStream.subscribe.signature (listenKey streams are gone).
// - Requests carry numeric ids (this session's sequence); each has a deadline. A response routes
//   to the listener with its id and outcome: Ok (status 200), Rejected (4xx + code: nothing was
//   executed), Unknown (5xx, -1007, deadline passed, or the connection dropped after the request
//   was handed to the socket: the order may exist), NotSent (refused locally: not ready,
//   in-flight table full, rate limit, signing failed).
// - Every response's rateLimits array and any 429/418 (error.data.retryAfter, epoch ms) go to the
//   shared RateLimitTracker (weight is per IP, shared with REST).
// - User data: after each (re)connect the session subscribes with a fresh timestamp; the first
//   successful subscription is Ready, every later one is Ready with gap=true: events may have
//   been missed, so the owner must reconcile through REST (openOrders, account). A disconnect
//   reports Disconnected at once (the owner marks its orders unreconciled).
// - serverShutdown rotates to a new connection (ReconnectingWebSocket); 24 h age does too.
// The in-flight table is fixed-size and the request builder reuses its buffers; the frame is
// copied once into the socket's send queue (WebSocketClient takes a std::string).
// Threading: create, call and receive every callback on the io_context's thread (the trading
// thread).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "tradingbot/exchange/binance/clock_offset.hpp"
#include "tradingbot/exchange/binance/json_parser.hpp"
#include "tradingbot/exchange/binance/order_request.hpp"
#include "tradingbot/exchange/binance/rate_limits.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/exchange/binance/ws_api_request.hpp"
#include "tradingbot/exchange/binance/ws_api_responses.hpp"
#include "tradingbot/net/websocket_client.hpp"

namespace tb::binance {

enum class WsApiState : std::uint8_t { Stopped, Connecting, Subscribing, Ready };
[[nodiscard]] std::string_view to_string(WsApiState s) noexcept;

enum class WsApiMethod : std::uint8_t { OrderPlace, OrderCancel, OrderStatus, OpenOrdersStatus, Subscribe };
[[nodiscard]] std::string_view to_string(WsApiMethod m) noexcept;

enum class WsApiOutcome : std::uint8_t { Ok, Rejected, Unknown, NotSent };
[[nodiscard]] std::string_view to_string(WsApiOutcome o) noexcept;

// What a finished request reports. `response` is valid only during the callback and is empty
// (status 0) for Unknown-by-deadline/disconnect and NotSent.
struct WsApiCompletion {
  std::uint64_t request_id = 0;
  WsApiMethod method = WsApiMethod::OrderPlace;
  ClientOrderId client_order_id;  // of the order placed / cancelled / queried (may be empty)
  Symbol symbol;
  WsApiOutcome outcome = WsApiOutcome::Ok;
  const WsApiResponse* response = nullptr;
};

class WsApiListener {
 public:
  virtual ~WsApiListener() = default;
  virtual void on_ws_api_completion(const WsApiCompletion& completion) = 0;
  virtual void on_user_event(const UserDataEvent& event) = 0;
  // Ready: requests may be sent and user data flows; gap = true when this is not the first
  // subscription of the session (events may have been missed: reconcile). Connecting after a
  // drop: user data is interrupted.
  virtual void on_ws_api_state(WsApiState state, bool gap) = 0;
};

struct WsApiOptions {
  net::ReconnectingOptions connection;  // ws.host "ws-api.binance.com", port 443, target "/ws-api/v3"
  Nanos request_timeout = 10 * kNanosPerSecond;  // the server gives up after 10 s (-1007)
  std::int64_t recv_window_ms = 5000;
  bool subscribe_user_data = true;
  Nanos sweep_interval = 50 * kNanosPerMilli;  // deadline check period
};

struct WsApiStatus {
  WsApiState state = WsApiState::Stopped;
  std::int64_t subscription_id = -1;
  std::uint64_t subscriptions = 0;  // successful subscribes (first + resubscribes)
  std::uint64_t gaps = 0;           // resubscribes after a break
  std::uint64_t requests = 0;
  std::uint64_t responses = 0;
  std::uint64_t unknown_outcomes = 0;
  std::uint64_t rejected = 0;
  std::uint64_t not_sent = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t user_events = 0;
  std::uint64_t decode_errors = 0;
  std::uint64_t disconnects = 0;
  std::uint64_t server_shutdowns = 0;
  std::size_t in_flight = 0;
};

class WsApiSession : public std::enable_shared_from_this<WsApiSession> {
 public:
  static constexpr std::size_t kMaxInFlight = 256;

  // signer, clock, limits and listener must outlive the session.
  [[nodiscard]] static std::shared_ptr<WsApiSession> create(boost::asio::io_context& ioc, net::TlsContextPtr tls,
                                                            WsApiOptions options, RequestSigner& signer,
                                                            std::string_view api_key, const ClockOffsetEstimator& clock,
                                                            RateLimitTracker& limits, WsApiListener& listener);
  ~WsApiSession();
  WsApiSession(const WsApiSession&) = delete;
  WsApiSession& operator=(const WsApiSession&) = delete;

  void start();
  // Closes the connection; in-flight requests complete as Unknown.
  void stop();

  // Each returns the request id (> 0), or 0 when it was not sent (listener is NOT called then).
  [[nodiscard]] std::uint64_t place(const NewOrder& order, Nanos timeout = 0);
  [[nodiscard]] std::uint64_t cancel(const OrderRef& ref, Nanos timeout = 0);
  [[nodiscard]] std::uint64_t query(const OrderRef& ref, Nanos timeout = 0);
  [[nodiscard]] std::uint64_t open_orders(std::string_view symbol, Nanos timeout = 0);

  [[nodiscard]] WsApiState state() const noexcept { return state_; }
  [[nodiscard]] bool ready() const noexcept { return state_ == WsApiState::Ready; }
  [[nodiscard]] WsApiStatus status() const noexcept;
  // Tests and the bench: the last frame handed to the socket.
  [[nodiscard]] std::string_view last_frame() const noexcept { return builder_.json(); }

 private:
  struct InFlight {
    std::uint64_t id = 0;  // 0 = free slot
    WsApiMethod method = WsApiMethod::OrderPlace;
    ClientOrderId client_order_id;
    Symbol symbol;
    Nanos deadline_mono = 0;
    std::uint64_t connection = 0;  // which connection carried it
  };

  WsApiSession(boost::asio::io_context& ioc, net::TlsContextPtr tls, WsApiOptions options, RequestSigner& signer,
               std::string_view api_key, const ClockOffsetEstimator& clock, RateLimitTracker& limits,
               WsApiListener& listener);
  [[nodiscard]] RequestTiming timing() const noexcept;
  InFlight* free_slot() noexcept;
  std::uint64_t submit(WsApiMethod method, BuildStatus built, const ClientOrderId& cid, const Symbol& symbol,
                       Nanos timeout, std::uint64_t id, std::int32_t weight, bool needs_ready);
  void on_open(net::WebSocketClient& connection, bool standby);
  void on_message(const net::WsMessage& message);
  void on_disconnected(const net::CloseReason& reason);
  void on_response(const WsApiResponse& response);
  void complete(InFlight& slot, WsApiOutcome outcome, const WsApiResponse* response);
  void fail_in_flight(bool only_before, std::uint64_t connection);
  void arm_sweep();
  void set_state(WsApiState state, bool gap);

  boost::asio::io_context& ioc_;
  net::TlsContextPtr tls_;
  WsApiOptions options_;
  RequestSigner& signer_;
  std::string api_key_;
  const ClockOffsetEstimator& clock_;
  RateLimitTracker& limits_;
  WsApiListener& listener_;
  std::shared_ptr<net::ReconnectingWebSocket> ws_;
  WsApiRequestBuilder builder_;
  JsonParser parser_;
  WsApiFrame frame_;
  std::array<InFlight, kMaxInFlight> in_flight_{};
  std::size_t in_flight_count_ = 0;
  std::uint64_t next_id_ = 1;
  std::uint64_t connection_seq_ = 0;  // bumped on every open / switch
  std::uint64_t subscribe_id_ = 0;
  WsApiState state_ = WsApiState::Stopped;
  bool stopped_ = true;
  boost::asio::steady_timer sweep_timer_;
  char id_text_[24] = {};
  WsApiStatus counters_;
};

}  // namespace tb::binance
