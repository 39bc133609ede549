// RestClient: every Binance REST call of the process goes through here (reference sections 4-7,
// pitfalls 13.1, 13.5, 13.9, 13.10). It joins the pooled keep-alive HTTPS transport
// (net::HttpsConnectionPool) with the exchange logic:
// - signing at the moment of sending (fresh timestamp from the ClockOffsetEstimator, biased
//   behind server time; query string signed exactly as sent, `signature` appended last,
//   X-MBX-APIKEY header);
// - rate limits: one FIFO of requests; the head waits until RateLimitTracker says its weight
//   (and order count) fits, so we slow down BEFORE the limit. X-MBX-USED-WEIGHT-* and
//   X-MBX-ORDER-COUNT-* headers of every answer update the tracker. A 429 holds ALL REST traffic
//   for Retry-After seconds; a 418 stops all of it until the ban ends and raises the ban alert
//   (error log, `bans` counter, `banned` flag for /ready). A request whose wait would pass its
//   deadline fails at once with NotSent (nothing went out: a definite outcome);
// - -1021 triggers a time resync, -1013 an exchangeInfo refresh, -1022 is counted and logged;
// - server time from /api/v3/time with RTT correction at start() and every time_sync_interval;
//   clock_status() says whether trading may start (never synced, too old, too uncertain, skew
//   too large all refuse);
// - exchangeInfo loaded at start(), refreshed every exchange_info_interval and after -1013; its
//   rateLimits replace the tracker's defaults;
// - a CircuitBreaker: consecutive transport failures / 5xx open it; while open requests fail
//   with NotSent; half-open lets probes through;
// - outcomes: only idempotent requests (GET) are retried, and only after a transport failure,
//   timeout or 5xx. For anything else such a failure is Unknown ("may have executed"), never
//   Failed: the order gateway then queries the order by client id.
// Threading: create, call and receive every handler on the io_context's thread (the trading
// thread). Handlers never run inside call().
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/verb.hpp>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/exchange/binance/clock_offset.hpp"
#include "tradingbot/exchange/binance/exchange_info.hpp"
#include "tradingbot/exchange/binance/json_parser.hpp"
#include "tradingbot/exchange/binance/rate_limits.hpp"
#include "tradingbot/exchange/binance/rest_request.hpp"
#include "tradingbot/exchange/binance/rest_responses.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/net/circuit_breaker.hpp"
#include "tradingbot/net/https_pool.hpp"

namespace tb::binance {

struct RestClientOptions {
  std::string host = "api.binance.com";
  std::uint16_t port = 443;
  std::string connect_host;  // resolve this instead of host (tests: 127.0.0.1)
  Nanos request_timeout = 10 * kNanosPerSecond;  // default deadline: waiting + sending + answer
  std::int64_t recv_window_ms = 5000;
  Nanos time_sync_interval = 5 * 60 * kNanosPerSecond;  // 0 = only at start and on -1021
  std::uint32_t time_sync_samples = 3;                  // per sync; the lowest RTT wins
  Nanos exchange_info_interval = 60 * 60 * kNanosPerSecond;  // 0 = only at start and on -1013
  std::uint32_t max_idempotent_retries = 2;
  Nanos retry_delay = 200 * kNanosPerMilli;
  double rate_utilization = 0.9;  // share of each limit we allow ourselves (own tracker only)
  // Binance counts weight and bans per IP: the daemon hands the same tracker to market data and
  // the order path, so a 429/418 seen by either stops both. Null: a tracker of this client's own.
  std::shared_ptr<RateLimitTracker> rate_limits;
  ClockOffsetConfig clock;
  net::CircuitBreakerOptions breaker;
  net::HttpsPoolOptions pool;
};

// NONE endpoints vs TRADE / USER_DATA (timestamp + signature + X-MBX-APIKEY).
enum class Security : std::uint8_t { None, Signed };

struct RestCall {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string path;                 // "/api/v3/order"
  Endpoint endpoint = Endpoint::Ping;
  std::int32_t weight_n = 1;        // refines the weight (see endpoint_weight)
  Security security = Security::None;
  std::vector<std::pair<std::string, std::string>> params;  // raw values; percent-encoded on the wire
  // Typed parameters, written before `params` with the documented order and digits.
  std::optional<NewOrder> new_order;  // POST /order
  std::optional<OrderRef> order_ref;  // DELETE /order, GET /order
  Nanos timeout = 0;                // 0 = options.request_timeout
  // GET is idempotent: retried after transport failures / 5xx. Other methods never are.
  [[nodiscard]] bool idempotent() const noexcept { return method == boost::beast::http::verb::get; }
};

enum class RestOutcome : std::uint8_t {
  Ok,        // 2xx
  Rejected,  // the exchange answered with a definite error (4xx + code): nothing was executed
  Unknown,   // non-idempotent request whose outcome is unknown (5xx, -1007, timeout, connection lost)
  Failed,    // idempotent request that failed after its retries: safe to ask again later
  NotSent,   // refused locally (rate limit / 429 / 418 wait past the deadline, breaker open, shut down)
};
[[nodiscard]] std::string_view to_string(RestOutcome outcome) noexcept;

enum class NotSentReason : std::uint8_t { None, RateLimited, Banned, BreakerOpen, QueueFull, ShutDown };
[[nodiscard]] std::string_view to_string(NotSentReason reason) noexcept;

struct RestResult {
  RestOutcome outcome = RestOutcome::Ok;
  NotSentReason not_sent = NotSentReason::None;
  int http_status = 0;
  ApiError error;              // code/msg when the body was a Binance error
  std::string body;
  std::string transport_error;  // "timeout", "tls handshake: ..." when there was no answer
  Nanos sent_wall = 0;          // local wall time of the last send (t0)
  Nanos received_wall = 0;      // t1
  std::uint32_t attempts = 0;
  [[nodiscard]] bool ok() const noexcept { return outcome == RestOutcome::Ok; }
};

// Whether trading may start, as far as the REST side knows.
enum class RestReadiness : std::uint8_t { Starting, Ready, ClockUnusable, ExchangeInfoMissing, Banned };
[[nodiscard]] std::string_view to_string(RestReadiness r) noexcept;

// A copy for /status and /metrics (the daemon publishes it; taken on the trading thread).
struct RestStatus {
  RestReadiness readiness = RestReadiness::Starting;
  std::int64_t used_weight_1m = 0;
  std::int64_t weight_limit_1m = 0;
  std::int64_t order_count_10s = 0;
  std::int64_t order_limit_10s = 0;
  bool banned = false;
  Nanos banned_until_wall = 0;   // 0 when never banned
  Nanos blocked_until_wall = 0;  // 429 hold (or ban end)
  ClockStatus clock_status = ClockStatus::NoSample;
  Nanos clock_offset = 0;
  Nanos clock_rtt = 0;
  Nanos last_time_sync_wall = 0;
  net::CircuitBreaker::State breaker = net::CircuitBreaker::State::closed;
  std::uint64_t breaker_trips = 0;
  bool exchange_info_loaded = false;
  Nanos exchange_info_loaded_wall = 0;
  std::size_t symbols = 0;
  std::size_t queued = 0;
  std::size_t connections_open = 0;
  std::uint64_t connections_opened = 0;
  std::uint64_t connection_reuses = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t responses = 0;
  std::uint64_t delayed_by_rate_limit = 0;  // requests that waited for a window before going out
  std::uint64_t not_sent = 0;
  std::uint64_t retries = 0;
  std::uint64_t unknown_outcomes = 0;
  std::uint64_t http_429 = 0;
  std::uint64_t bans = 0;  // 418s: the alert counter
  std::uint64_t timestamp_errors = 0;  // -1021
  std::uint64_t signature_errors = 0;  // -1022
  std::uint64_t filter_errors = 0;     // -1013
  std::uint64_t time_syncs = 0;
  std::uint64_t exchange_info_loads = 0;
};

class RestClient : public std::enable_shared_from_this<RestClient> {
 public:
  using Handler = std::function<void(RestResult&)>;
  using StartHandler = std::function<void(RestReadiness)>;
  using WallClock = Nanos (*)() noexcept;

  // `signer` may be null for a client that only calls NONE endpoints; it and `api_key` must
  // outlive the client. The key is sent only in the X-MBX-APIKEY header, never logged.
  [[nodiscard]] static std::shared_ptr<RestClient> create(boost::asio::io_context& ioc, net::TlsContextPtr tls,
                                                          RestClientOptions options, RequestSigner* signer,
                                                          std::string_view api_key);
  ~RestClient();
  RestClient(const RestClient&) = delete;
  RestClient& operator=(const RestClient&) = delete;

  // Syncs the clock (time_sync_samples round trips), loads exchangeInfo, arms the periodic
  // timers, then calls `done` with the readiness (Ready only when both worked and the clock check
  // passes).
  void start(StartHandler done);
  // Cancels timers, fails queued requests (NotSent/ShutDown), shuts the pool down.
  void stop();

  // Queues a call; `handler` runs exactly once with the result.
  void call(RestCall call, Handler handler);

  // One time sync now (also what -1021 triggers). `done` may be empty.
  void sync_time(std::function<void(bool ok)> done = {});
  // What an error code in any signed answer (REST or WS API: same clock, same filters) says
  // about our state: -1021 distrusts the clock and resyncs, -1013 reloads exchangeInfo, -1022 is
  // counted and logged. REST answers go through it automatically; the WS API owner calls it.
  void on_exchange_error(std::int32_t code, std::string_view where, std::string_view msg);
  // Loads exchangeInfo now (also what -1013 triggers). `done` may be empty.
  void refresh_exchange_info(std::function<void(bool ok)> done = {});

  [[nodiscard]] const ExchangeInfo* exchange_info() const noexcept { return info_loaded_ ? &info_ : nullptr; }
  [[nodiscard]] const ClockOffsetEstimator& clock() const noexcept { return clock_; }
  [[nodiscard]] ClockStatus clock_status() const noexcept { return clock_.check(wall_now()); }
  // The `timestamp` a signed request sent now carries (ms, server time minus the safety bias).
  [[nodiscard]] std::int64_t request_timestamp_ms() const noexcept {
    return clock_.timestamp_for_request(wall_now());
  }
  [[nodiscard]] const RateLimitTracker& rate_limits() const noexcept { return *limits_; }
  // The WS API shares the per-IP weight with REST: it reports its usage and 429/418 here.
  [[nodiscard]] RateLimitTracker& shared_rate_limits() noexcept { return *limits_; }
  [[nodiscard]] bool banned() const noexcept { return limits_->banned(wall_now()); }
  [[nodiscard]] RestReadiness readiness() const noexcept;
  [[nodiscard]] RestStatus status() const;
  [[nodiscard]] const RestClientOptions& options() const noexcept { return options_; }

  // Tests only: replaces the wall clock (default tb::wall_clock_ns).
  void set_wall_clock(WallClock wall_clock) noexcept { wall_clock_ = wall_clock; }

 private:
  struct Pending {
    RestCall call;
    Handler handler;
    Nanos deadline_mono = 0;
    std::uint32_t attempts = 0;
    bool waited = false;
    Nanos sent_wall = 0;
  };

  RestClient(boost::asio::io_context& ioc, net::TlsContextPtr tls, RestClientOptions options, RequestSigner* signer,
             std::string_view api_key);
  [[nodiscard]] Nanos wall_now() const noexcept { return wall_clock_(); }
  void pump();
  void send(std::shared_ptr<Pending> pending);
  void on_response(const std::shared_ptr<Pending>& pending, net::HttpsResult& result);
  void finish(const std::shared_ptr<Pending>& pending, RestResult& result);
  void not_sent(const std::shared_ptr<Pending>& pending, NotSentReason reason);
  bool maybe_retry(const std::shared_ptr<Pending>& pending);
  void on_ban(Nanos until);
  void sync_round(std::uint32_t remaining, bool any_ok, std::function<void(bool)> done);
  void arm_time_sync_timer();
  void arm_exchange_info_timer();

  boost::asio::io_context& ioc_;
  RestClientOptions options_;
  RequestSigner* signer_;
  std::string api_key_;
  std::shared_ptr<net::HttpsConnectionPool> pool_;
  std::shared_ptr<RateLimitTracker> limits_;  // never null
  ClockOffsetEstimator clock_;
  mutable net::CircuitBreaker breaker_;  // state() rolls open -> half_open when read
  JsonParser parser_;
  RestRequestBuilder builder_;
  std::string target_;
  ExchangeInfo info_;
  bool info_loaded_ = false;
  Nanos info_loaded_wall_ = 0;
  bool time_sync_in_flight_ = false;
  bool info_in_flight_ = false;
  bool stopped_ = false;
  bool started_ = false;
  Nanos last_sync_wall_ = 0;
  std::deque<std::shared_ptr<Pending>> queue_;
  boost::asio::steady_timer wait_timer_;
  bool wait_armed_ = false;
  boost::asio::steady_timer time_sync_timer_;
  boost::asio::steady_timer info_timer_;
  WallClock wall_clock_ = &wall_clock_ns;
  RestStatus counters_;  // only the counters are kept current here; status() fills the rest
};

// Builders of the calls the gateway and the start-up sequence use.
[[nodiscard]] RestCall rest_new_order(const NewOrder& order);
[[nodiscard]] RestCall rest_cancel_order(const OrderRef& ref);
[[nodiscard]] RestCall rest_query_order(const OrderRef& ref);
// symbol empty: every symbol (weight 80).
[[nodiscard]] RestCall rest_open_orders(std::string_view symbol);
[[nodiscard]] RestCall rest_account();
// GET /api/v3/myTrades?symbol=..&startTime=.. (weight 20).
// GET /api/v3/myTrades, oldest first, at most `limit` (Binance: default 500, max 1000) trades:
// from `start_time_ms` on, or with ids >= `from_id` (the way to page: next from_id = last id + 1).
inline constexpr std::int64_t kMyTradesMaxLimit = 1000;
[[nodiscard]] RestCall rest_my_trades_since(std::string_view symbol, std::int64_t start_time_ms,
                                            std::int64_t limit = kMyTradesMaxLimit);
[[nodiscard]] RestCall rest_my_trades_from(std::string_view symbol, std::int64_t from_id,
                                           std::int64_t limit = kMyTradesMaxLimit);

}  // namespace tb::binance
