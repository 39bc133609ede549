// RestClient: see the header for the rules. Trading thread only.
#include "tradingbot/exchange/binance/rest_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/beast/http/field.hpp>

namespace tb::binance {

namespace http = boost::beast::http;

std::string_view to_string(RestOutcome outcome) noexcept {
  switch (outcome) {
    case RestOutcome::Ok: return "ok";
    case RestOutcome::Rejected: return "rejected";
    case RestOutcome::Unknown: return "unknown";
    case RestOutcome::Failed: return "failed";
    case RestOutcome::NotSent: return "not_sent";
  }
  return "?";
}

std::string_view to_string(NotSentReason reason) noexcept {
  switch (reason) {
    case NotSentReason::None: return "none";
    case NotSentReason::RateLimited: return "rate_limited";
    case NotSentReason::Banned: return "banned";
    case NotSentReason::BreakerOpen: return "breaker_open";
    case NotSentReason::QueueFull: return "queue_full";
    case NotSentReason::ShutDown: return "shut_down";
  }
  return "?";
}

std::string_view to_string(RestReadiness r) noexcept {
  switch (r) {
    case RestReadiness::Starting: return "starting";
    case RestReadiness::Ready: return "ready";
    case RestReadiness::ClockUnusable: return "clock_unusable";
    case RestReadiness::ExchangeInfoMissing: return "exchange_info_missing";
    case RestReadiness::Banned: return "banned";
  }
  return "?";
}

namespace {

std::optional<std::int64_t> parse_int(std::string_view text) noexcept {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return v;
}

std::chrono::nanoseconds to_duration(Nanos ns) { return std::chrono::nanoseconds(std::max<Nanos>(ns, 0)); }

}  // namespace

std::shared_ptr<RestClient> RestClient::create(boost::asio::io_context& ioc, net::TlsContextPtr tls,
                                               RestClientOptions options, RequestSigner* signer,
                                               std::string_view api_key) {
  return std::shared_ptr<RestClient>(new RestClient(ioc, std::move(tls), std::move(options), signer, api_key));
}

RestClient::RestClient(boost::asio::io_context& ioc, net::TlsContextPtr tls, RestClientOptions options,
                       RequestSigner* signer, std::string_view api_key)
    : ioc_(ioc),
      options_(std::move(options)),
      signer_(signer),
      api_key_(api_key),
      pool_(net::HttpsConnectionPool::create(ioc, std::move(tls), options_.pool)),
      limits_(options_.rate_limits ? options_.rate_limits
                                   : std::make_shared<RateLimitTracker>(options_.rate_utilization)),
      clock_(options_.clock),
      breaker_(options_.breaker),
      wait_timer_(ioc),
      time_sync_timer_(ioc),
      info_timer_(ioc) {}

RestClient::~RestClient() = default;

void RestClient::start(StartHandler done) {
  started_ = true;
  auto self = shared_from_this();
  sync_time([self, done = std::move(done)](bool) mutable {
    self->refresh_exchange_info([self, done = std::move(done)](bool) mutable {
      self->arm_time_sync_timer();
      self->arm_exchange_info_timer();
      const RestReadiness r = self->readiness();
      if (r == RestReadiness::Ready) {
        spdlog::info("binance rest: ready (clock offset {} us, rtt {} us, {} symbols)",
                     self->clock_.offset() / 1000, self->clock_.rtt() / 1000, self->info_.symbols.size());
      } else {
        spdlog::error("binance rest: not ready: {} (clock {})", to_string(r), to_string(self->clock_status()));
      }
      if (done) done(r);
    });
  });
}

void RestClient::stop() {
  if (stopped_) return;
  stopped_ = true;
  wait_timer_.cancel();
  time_sync_timer_.cancel();
  info_timer_.cancel();
  auto queued = std::move(queue_);
  queue_.clear();
  for (auto& p : queued) not_sent(p, NotSentReason::ShutDown);
  pool_->shutdown();
}

RestReadiness RestClient::readiness() const noexcept {
  const Nanos now = wall_now();
  if (limits_->banned(now)) return RestReadiness::Banned;
  if (clock_.check(now) != ClockStatus::Ok) return clock_.synced() || started_ ? RestReadiness::ClockUnusable : RestReadiness::Starting;
  if (!info_loaded_) return RestReadiness::ExchangeInfoMissing;
  return RestReadiness::Ready;
}

void RestClient::call(RestCall call, Handler handler) {
  auto pending = std::make_shared<Pending>();
  const Nanos timeout = call.timeout > 0 ? call.timeout : options_.request_timeout;
  pending->call = std::move(call);
  pending->handler = std::move(handler);
  pending->deadline_mono = monotonic_ns() + timeout;
  if (stopped_) {
    // Handlers never run inside call(): post the refusal.
    boost::asio::post(ioc_, [self = shared_from_this(), pending] { self->not_sent(pending, NotSentReason::ShutDown); });
    return;
  }
  queue_.push_back(std::move(pending));
  if (!wait_armed_) boost::asio::post(ioc_, [self = shared_from_this()] { self->pump(); });
}

// Sends queued requests in order while the limits allow. The head of the queue waits for its
// window (every request shares the per-IP weight, so overtaking would not help).
void RestClient::pump() {
  while (!queue_.empty() && !stopped_ && !wait_armed_) {
    auto& head = queue_.front();
    const Nanos now = wall_now();
    const Nanos now_mono = monotonic_ns();
    const std::int32_t weight = endpoint_weight(head->call.endpoint, head->call.weight_n);
    const std::int32_t orders = counts_as_order(head->call.endpoint) ? 1 : 0;
    const Nanos ready_at = limits_->delay_until(weight, now, orders);
    if (ready_at > now) {
      const Nanos wait = ready_at - now;
      if (now_mono + wait > head->deadline_mono) {
        auto p = std::move(head);
        queue_.pop_front();
        not_sent(p, limits_->banned(now) ? NotSentReason::Banned : NotSentReason::RateLimited);
        continue;
      }
      if (!head->waited) {
        head->waited = true;
        ++counters_.delayed_by_rate_limit;
      }
      wait_armed_ = true;
      wait_timer_.expires_after(to_duration(wait));
      wait_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        self->wait_armed_ = false;
        if (ec || self->stopped_) return;
        self->pump();
      });
      return;
    }
    if (!breaker_.allow(monotonic_ns())) {
      auto p = std::move(head);
      queue_.pop_front();
      not_sent(p, NotSentReason::BreakerOpen);
      continue;
    }
    auto p = std::move(head);
    queue_.pop_front();
    limits_->on_sent(weight, now, orders);
    send(std::move(p));
  }
}

void RestClient::send(std::shared_ptr<Pending> pending) {
  RestCall& call = pending->call;
  builder_.reset();
  BuildStatus built = BuildStatus::Ok;
  if (call.new_order) built = add_new_order_params(builder_, *call.new_order);
  if (built == BuildStatus::Ok && call.order_ref) built = add_order_ref_params(builder_, *call.order_ref);
  for (const auto& [k, v] : call.params) builder_.add(k, v);
  net::HttpsRequest req;
  req.method = call.method;
  req.host = options_.host;
  req.port = options_.port;
  req.connect_host = options_.connect_host;
  const Nanos now = wall_now();
  if (built == BuildStatus::Ok && call.security == Security::Signed) {
    if (signer_ == nullptr) {
      built = BuildStatus::SignFailed;
    } else {
      built = builder_.sign(*signer_, RequestTiming{clock_.timestamp_for_request(now), options_.recv_window_ms});
      req.headers.emplace_back("X-MBX-APIKEY", api_key_);
    }
  }
  if (built != BuildStatus::Ok) {
    // A programming error (missing field) or OpenSSL failure: nothing was sent. The breaker slot
    // taken by allow() is returned as a success, since the exchange did nothing wrong.
    breaker_.on_success(monotonic_ns());
    RestResult r;
    r.outcome = RestOutcome::Rejected;
    r.error.code = 0;
    r.error.msg = std::string("request not built: ") + std::string(to_string(built));
    spdlog::error("binance rest: {} {}: {}", http::to_string(call.method), call.path, r.error.msg);
    finish(pending, r);
    return;
  }
  builder_.target(call.path, target_);
  req.target = target_;
  const Nanos remaining = pending->deadline_mono - monotonic_ns();
  req.timeout = std::max<Nanos>(remaining, kNanosPerMilli);
  // Retries are decided here (GET only, also after a 5xx), never by the pool for other methods.
  req.retry = call.idempotent() ? net::RetryPolicy::method_default : net::RetryPolicy::never;
  ++pending->attempts;
  ++counters_.requests_sent;
  pending->sent_wall = wall_now();
  pool_->request(std::move(req), [self = shared_from_this(), pending](net::HttpsResult& result) {
    self->on_response(pending, result);
  });
}

void RestClient::on_response(const std::shared_ptr<Pending>& pending, net::HttpsResult& result) {
  const Nanos now = wall_now();
  const Nanos now_mono = monotonic_ns();
  RestResult r;
  r.sent_wall = pending->sent_wall;
  r.received_wall = now;
  r.attempts = pending->attempts;
  const bool idempotent = pending->call.idempotent();

  if (!result.ok()) {
    const bool shut_down = result.ec == net::make_error_code(net::PoolError::shut_down);
    if (shut_down || result.ec == net::make_error_code(net::PoolError::queue_full)) {
      breaker_.on_success(now_mono);  // nothing reached the exchange
      r.transport_error = result.error;
      r.outcome = RestOutcome::NotSent;
      r.not_sent = shut_down ? NotSentReason::ShutDown : NotSentReason::QueueFull;
      ++counters_.not_sent;
      finish(pending, r);
      return;
    }
    breaker_.on_failure(now_mono);
    r.transport_error = result.error.empty() ? result.ec.message() : result.error;
    if (idempotent && maybe_retry(pending)) return;
    r.outcome = idempotent ? RestOutcome::Failed : RestOutcome::Unknown;
    if (!idempotent) ++counters_.unknown_outcomes;
    spdlog::warn("binance rest: {} {} failed without an answer ({}): outcome {}", http::to_string(pending->call.method),
                 pending->call.path, r.transport_error, to_string(r.outcome));
    finish(pending, r);
    return;
  }

  ++counters_.responses;
  auto& res = result.response;
  for (const auto& field : res) limits_->on_header(field.name_string(), field.value(), now);
  r.http_status = static_cast<int>(res.result_int());
  r.body = std::move(res.body());
  const int status = r.http_status;

  if (status == 429 || status == 418) {
    breaker_.on_success(now_mono);  // the exchange answered: not a transport failure
    std::optional<std::int64_t> retry_after;
    if (auto it = res.find(http::field::retry_after); it != res.end()) retry_after = parse_int(it->value());
    limits_->on_http_status(status, retry_after, now);
    (void)parse_api_error(parser_, r.body, r.error);
    r.outcome = RestOutcome::Rejected;  // a 429/418 request was not executed
    if (status == 418) {
      on_ban(limits_->blocked_until());
    } else {
      ++counters_.http_429;
      spdlog::warn("binance rest: 429 on {} (Retry-After {} s): all REST traffic held", pending->call.path,
                   retry_after.value_or(-1));
    }
    finish(pending, r);
    return;
  }

  const bool is_error_body = parse_api_error(parser_, r.body, r.error) == ParseStatus::Ok;
  if (status >= 500 || (is_error_body && r.error.code == error_code::kTimeout)) {
    if (status >= 500) breaker_.on_failure(now_mono); else breaker_.on_success(now_mono);
    if (idempotent && maybe_retry(pending)) return;
    r.outcome = idempotent ? RestOutcome::Failed : RestOutcome::Unknown;
    if (!idempotent) ++counters_.unknown_outcomes;
    spdlog::warn("binance rest: {} {} answered {} ({}): outcome {}", http::to_string(pending->call.method),
                 pending->call.path, status, r.error.code, to_string(r.outcome));
    finish(pending, r);
    return;
  }
  breaker_.on_success(now_mono);
  if (status >= 200 && status < 300) {
    r.outcome = RestOutcome::Ok;
    finish(pending, r);
    return;
  }
  r.outcome = RestOutcome::Rejected;
  if (is_error_body) on_exchange_error(r.error.code, pending->call.path, r.error.msg);
  finish(pending, r);
}

void RestClient::on_exchange_error(std::int32_t code, std::string_view where, std::string_view msg) {
  switch (code) {
    case error_code::kInvalidTimestamp:
      ++counters_.timestamp_errors;
      spdlog::warn("binance: -1021 on {}: resyncing the clock", where);
      clock_.distrust_current_samples();
      sync_time();
      break;
    case error_code::kInvalidSignature:
      ++counters_.signature_errors;
      spdlog::error("binance: -1022 invalid signature on {} (check key and secret)", where);
      break;
    case error_code::kFilterFailure:
      ++counters_.filter_errors;
      spdlog::warn("binance: -1013 on {} ({}): refreshing exchangeInfo", where, msg);
      refresh_exchange_info();
      break;
    default: break;
  }
}

bool RestClient::maybe_retry(const std::shared_ptr<Pending>& pending) {
  if (stopped_ || pending->attempts > options_.max_idempotent_retries) return false;
  if (monotonic_ns() + options_.retry_delay >= pending->deadline_mono) return false;
  ++counters_.retries;
  auto timer = std::make_shared<boost::asio::steady_timer>(ioc_, to_duration(options_.retry_delay));
  timer->async_wait([self = shared_from_this(), pending, timer](const boost::system::error_code& ec) {
    if (ec || self->stopped_) {
      self->not_sent(pending, NotSentReason::ShutDown);
      return;
    }
    // Back to the front: it was already admitted once and keeps its place.
    self->queue_.push_front(pending);
    if (!self->wait_armed_) self->pump();
  });
  return true;
}

void RestClient::on_ban(Nanos until) {
  ++counters_.bans;
  const Nanos now = wall_now();
  spdlog::error("binance rest: ALERT IP banned (418) for {} s: all REST traffic stopped until the ban ends",
                (until - now + kNanosPerSecond - 1) / kNanosPerSecond);
}

void RestClient::finish(const std::shared_ptr<Pending>& pending, RestResult& result) {
  Handler handler = std::move(pending->handler);
  if (handler) handler(result);
}

void RestClient::not_sent(const std::shared_ptr<Pending>& pending, NotSentReason reason) {
  ++counters_.not_sent;
  RestResult r;
  r.outcome = RestOutcome::NotSent;
  r.not_sent = reason;
  r.attempts = pending->attempts;
  finish(pending, r);
}

void RestClient::sync_time(std::function<void(bool)> done) {
  if (time_sync_in_flight_) {
    if (done) boost::asio::post(ioc_, [done = std::move(done)] { done(false); });
    return;
  }
  time_sync_in_flight_ = true;
  sync_round(std::max<std::uint32_t>(options_.time_sync_samples, 1), false, std::move(done));
}

void RestClient::sync_round(std::uint32_t remaining, bool any_ok, std::function<void(bool)> done) {
  RestCall c;
  c.path = "/api/v3/time";
  c.endpoint = Endpoint::Time;
  call(std::move(c), [self = shared_from_this(), remaining, any_ok, done = std::move(done)](RestResult& r) mutable {
    bool ok = false;
    if (r.ok()) {
      std::int64_t server_ms = 0;
      if (parse_server_time(self->parser_, r.body, server_ms) == ParseStatus::Ok &&
          self->clock_.add_sample(r.sent_wall, server_ms, r.received_wall)) {
        ok = true;
        self->last_sync_wall_ = r.received_wall;
      }
    }
    any_ok = any_ok || ok;
    if (remaining > 1 && !self->stopped_ && r.outcome != RestOutcome::NotSent) {
      self->sync_round(remaining - 1, any_ok, std::move(done));
      return;
    }
    self->time_sync_in_flight_ = false;
    if (any_ok) ++self->counters_.time_syncs;
    const ClockStatus cs = self->clock_status();
    if (!any_ok) {
      spdlog::error("binance rest: time sync failed ({})", r.transport_error.empty() ? r.error.msg : r.transport_error);
    } else if (cs != ClockStatus::Ok) {
      spdlog::error("binance rest: clock unusable after sync: {} (offset {} ms, rtt {} ms)", to_string(cs),
                    self->clock_.offset() / kNanosPerMilli, self->clock_.rtt() / kNanosPerMilli);
    }
    if (done) done(any_ok);
  });
}

void RestClient::refresh_exchange_info(std::function<void(bool)> done) {
  if (info_in_flight_) {
    if (done) boost::asio::post(ioc_, [done = std::move(done)] { done(false); });
    return;
  }
  info_in_flight_ = true;
  RestCall c;
  c.path = "/api/v3/exchangeInfo";
  c.endpoint = Endpoint::ExchangeInfo;
  call(std::move(c), [self = shared_from_this(), done = std::move(done)](RestResult& r) {
    self->info_in_flight_ = false;
    bool ok = false;
    if (r.ok()) {
      auto parsed = parse_exchange_info(self->parser_, r.body);
      if (parsed) {
        self->info_ = std::move(parsed).value();
        self->info_loaded_ = true;
        self->info_loaded_wall_ = self->wall_now();
        if (!self->info_.rate_limits.empty())
          self->limits_->set_limits(self->info_.rate_limits.data(), self->info_.rate_limits.size());
        ++self->counters_.exchange_info_loads;
        ok = true;
      } else {
        spdlog::error("binance rest: exchangeInfo rejected: {}", parsed.error().message);
      }
    } else {
      spdlog::error("binance rest: exchangeInfo failed: {} {}", to_string(r.outcome),
                    r.transport_error.empty() ? r.error.msg : r.transport_error);
    }
    if (done) done(ok);
  });
}

void RestClient::arm_time_sync_timer() {
  if (options_.time_sync_interval <= 0 || stopped_) return;
  time_sync_timer_.expires_after(to_duration(options_.time_sync_interval));
  time_sync_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    self->sync_time();
    self->arm_time_sync_timer();
  });
}

void RestClient::arm_exchange_info_timer() {
  if (options_.exchange_info_interval <= 0 || stopped_) return;
  info_timer_.expires_after(to_duration(options_.exchange_info_interval));
  info_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    self->refresh_exchange_info();
    self->arm_exchange_info_timer();
  });
}

RestStatus RestClient::status() const {
  RestStatus s = counters_;
  const Nanos now = wall_now();
  s.readiness = readiness();
  s.used_weight_1m = limits_->used_weight_1m(now);
  for (std::size_t i = 0; i < limits_->limit_count(); ++i) {
    const RateLimit& l = limits_->limit(i);
    if (l.type == RateLimitType::RequestWeight && l.unit == IntervalUnit::Minute && l.interval_num == 1)
      s.weight_limit_1m = l.limit;
    if (l.type == RateLimitType::Orders && l.unit == IntervalUnit::Second && l.interval_num == 10) {
      s.order_limit_10s = l.limit;
      s.order_count_10s = limits_->used(i, now);
    }
  }
  s.banned = limits_->banned(now);
  s.blocked_until_wall = limits_->blocked_until();
  s.banned_until_wall = s.banned ? limits_->blocked_until() : 0;
  s.clock_status = clock_.check(now);
  s.clock_offset = clock_.offset();
  s.clock_rtt = clock_.rtt();
  s.last_time_sync_wall = last_sync_wall_;
  s.breaker = breaker_.state(monotonic_ns());
  s.breaker_trips = breaker_.stats().trips;
  s.exchange_info_loaded = info_loaded_;
  s.exchange_info_loaded_wall = info_loaded_wall_;
  s.symbols = info_.symbols.size();
  s.queued = queue_.size();
  const net::HttpsPoolStats ps = pool_->stats();
  s.connections_open = ps.connections_open;
  s.connections_opened = ps.connections_opened;
  s.connection_reuses = ps.reuses;
  return s;
}

RestCall rest_new_order(const NewOrder& order) {
  RestCall c;
  c.method = http::verb::post;
  c.path = "/api/v3/order";
  c.endpoint = Endpoint::OrderNew;
  c.security = Security::Signed;
  c.new_order = order;
  return c;
}

RestCall rest_cancel_order(const OrderRef& ref) {
  RestCall c;
  c.method = http::verb::delete_;
  c.path = "/api/v3/order";
  c.endpoint = Endpoint::OrderCancel;
  c.security = Security::Signed;
  c.order_ref = ref;
  return c;
}

RestCall rest_query_order(const OrderRef& ref) {
  RestCall c;
  c.path = "/api/v3/order";
  c.endpoint = Endpoint::OrderQuery;
  c.security = Security::Signed;
  c.order_ref = ref;
  return c;
}

RestCall rest_open_orders(std::string_view symbol) {
  RestCall c;
  c.path = "/api/v3/openOrders";
  c.endpoint = Endpoint::OpenOrders;
  c.weight_n = symbol.empty() ? 0 : 1;
  c.security = Security::Signed;
  if (!symbol.empty()) c.params.emplace_back("symbol", std::string(symbol));
  return c;
}

RestCall rest_account() {
  RestCall c;
  c.path = "/api/v3/account";
  c.endpoint = Endpoint::Account;
  c.security = Security::Signed;
  c.params.emplace_back("omitZeroBalances", "true");
  return c;
}

namespace {
RestCall my_trades(std::string_view symbol, const char* key, std::int64_t value, std::int64_t limit) {
  RestCall c;
  c.path = "/api/v3/myTrades";
  c.endpoint = Endpoint::MyTrades;
  c.security = Security::Signed;
  c.params.emplace_back("symbol", std::string(symbol));
  c.params.emplace_back(key, std::to_string(value));
  c.params.emplace_back("limit", std::to_string(limit));
  return c;
}
}  // namespace

RestCall rest_my_trades_since(std::string_view symbol, std::int64_t start_time_ms, std::int64_t limit) {
  return my_trades(symbol, "startTime", start_time_ms, limit);
}

RestCall rest_my_trades_from(std::string_view symbol, std::int64_t from_id, std::int64_t limit) {
  return my_trades(symbol, "fromId", from_id, limit);
}

}  // namespace tb::binance
