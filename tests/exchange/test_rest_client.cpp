// RestClient against a Binance-like fake over real TLS on 127.0.0.1: signing as the server
// verifies it, clock skew, -1021/-1022/-1013, 429 then 418 with REST quiet for Retry-After,
// 5xx/timeouts as unknown outcomes, idempotent retries, the circuit breaker, connection reuse.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>

#include "../net/test_support.hpp"
#include "fakes/fake_binance_rest.hpp"
#include "tradingbot/exchange/binance/rest_client.hpp"

using namespace tb;
using namespace tb::binance;
using tb::net::test::run_until;

namespace {

constexpr const char* kKey = "test-api-key";
constexpr const char* kSecret = "test-secret-0123456789";

struct Rig {
  boost::asio::io_context ioc;
  test::FakeBinanceRest fake{ioc, net::test::server_tls(net::test::pki().localhost), kKey, kSecret};
  RequestSigner signer;
  std::shared_ptr<RestClient> client;

  explicit Rig(const std::string& secret = kSecret, RestClientOptions options = base_options())
      : signer(HmacSha256Signer(secret)) {
    options.port = fake.port();
    client = RestClient::create(ioc, net::test::client_tls(), options, &signer, kKey);
  }
  ~Rig() { client->stop(); }

  static RestClientOptions base_options() {
    RestClientOptions o;
    o.host = "localhost";
    o.connect_host = "127.0.0.1";
    o.time_sync_interval = 0;
    o.exchange_info_interval = 0;
    o.request_timeout = 3 * kNanosPerSecond;
    o.retry_delay = 20 * kNanosPerMilli;
    return o;
  }

  RestReadiness start() {
    std::optional<RestReadiness> r;
    client->start([&](RestReadiness x) { r = x; });
    REQUIRE(run_until(ioc, [&] { return r.has_value(); }));
    return *r;
  }

  RestResult call(RestCall c, std::chrono::milliseconds limit = std::chrono::seconds(8)) {
    std::optional<RestResult> out;
    client->call(std::move(c), [&](RestResult& r) { out = std::move(r); });
    REQUIRE(run_until(ioc, [&] { return out.has_value(); }, limit));
    return std::move(*out);
  }
};

NewOrder limit_buy(std::string_view client_id) {
  NewOrder o;
  o.symbol = *Symbol::parse("BTCUSDT");
  o.side = Side::Buy;
  o.type = OrderType::Limit;
  o.time_in_force = TimeInForce::Gtc;
  o.quantity = Qty::from_raw(100'000);       // 0.001
  o.price = Price::from_raw(5'000'000'000'000);  // 50000
  o.client_order_id = *ClientOrderId::from(client_id);
  o.price_digits = 2;
  o.qty_digits = 5;
  return o;
}

RestCall ping() {
  RestCall c;
  c.path = "/api/v3/ping";
  c.endpoint = Endpoint::Ping;
  return c;
}

}  // namespace

TEST_CASE("start syncs the clock, loads exchangeInfo and its limits, and signed orders are accepted", "[exchange][rest]") {
  Rig rig;
  REQUIRE(rig.start() == RestReadiness::Ready);
  CHECK(rig.fake.count("/api/v3/time") == 3);
  CHECK(rig.fake.count("/api/v3/exchangeInfo") == 1);
  REQUIRE(rig.client->exchange_info() != nullptr);
  CHECK(rig.client->exchange_info()->find(*Symbol::parse("BTCUSDT")) != nullptr);
  RestStatus s = rig.client->status();
  CHECK(s.weight_limit_1m == 6000);
  CHECK(s.order_limit_10s == 50);
  CHECK(s.clock_status == ClockStatus::Ok);

  RestResult r = rig.call(rest_new_order(limit_buy("t-1")));
  REQUIRE(r.ok());
  CHECK(rig.fake.received.back().outcome == "ok");
  CHECK(rig.fake.received.back().params.at("newClientOrderId") == "t-1");
  CHECK(rig.fake.received.back().params.at("price") == "50000.00");
  CHECK(rig.fake.received.back().params.at("quantity") == "0.00100");
  // The server's weight and order-count headers now drive the tracker.
  s = rig.client->status();
  CHECK(s.used_weight_1m >= 24);  // 3 x time + exchangeInfo(20) + order
  CHECK(s.order_count_10s == 1);
}

TEST_CASE("many requests travel over few keep-alive connections", "[exchange][rest]") {
  Rig rig;
  REQUIRE(rig.start() == RestReadiness::Ready);
  int done = 0;
  for (int i = 0; i < 60; ++i) rig.client->call(ping(), [&](RestResult& r) { done += r.http_status == 404 || r.ok() ? 1 : 0; });
  REQUIRE(run_until(rig.ioc, [&] { return done == 60; }, std::chrono::seconds(10)));
  for (int i = 0; i < 20; ++i) REQUIRE(rig.call(rest_query_order({*Symbol::parse("BTCUSDT"), -1, *ClientOrderId::from("none")})).outcome == RestOutcome::Rejected);
  const RestStatus s = rig.client->status();
  CHECK(rig.fake.accepts <= 30);  // the per-host cap, far below 84 requests
  CHECK(s.connection_reuses >= 50);
}

TEST_CASE("a tampered signature is rejected with -1022 and counted", "[exchange][rest]") {
  Rig rig("wrong-secret");
  REQUIRE(rig.start() == RestReadiness::Ready);  // time and exchangeInfo are unsigned
  RestResult r = rig.call(rest_new_order(limit_buy("t-2")));
  CHECK(r.outcome == RestOutcome::Rejected);
  CHECK(r.error.code == error_code::kInvalidSignature);
  CHECK(rig.client->status().signature_errors == 1);
  CHECK(rig.fake.orders.empty());
}

TEST_CASE("clock skew is measured and corrected; too much skew refuses trading", "[exchange][rest]") {
  SECTION("server 3 s ahead: timestamps follow the server") {
    RestClientOptions o = Rig::base_options();
    o.clock.max_abs_offset = 5 * kNanosPerSecond;
    Rig rig(kSecret, o);
    rig.fake.skew_ms = 3000;
    REQUIRE(rig.start() == RestReadiness::Ready);
    CHECK(std::llabs(rig.client->clock().offset() - 3000 * kNanosPerMilli) < 200 * kNanosPerMilli);
    RestResult r = rig.call(rest_new_order(limit_buy("t-3")));
    CHECK(r.ok());
    const std::int64_t ts = std::stoll(rig.fake.received.back().params.at("timestamp"));
    const std::int64_t server_now = rig.fake.server_time_ms();
    CHECK(ts <= server_now);
    CHECK(server_now - ts < 1000);
  }
  SECTION("skew beyond the limit: the client is not ready") {
    Rig rig;
    rig.fake.skew_ms = -30'000;
    CHECK(rig.start() == RestReadiness::ClockUnusable);
    CHECK(rig.client->clock_status() == ClockStatus::OffsetTooLarge);
  }
  SECTION("time cannot be measured: not ready") {
    Rig rig;
    for (int i = 0; i < 20; ++i) rig.fake.script.push_back({"/api/v3/time", 503, "", {}});
    CHECK(rig.start() == RestReadiness::ClockUnusable);
    CHECK(rig.client->clock_status() == ClockStatus::NoSample);
  }
}

TEST_CASE("-1021 makes the client resync its clock, after which the order is accepted", "[exchange][rest]") {
  RestClientOptions o = Rig::base_options();
  o.clock.max_abs_offset = 10 * kNanosPerSecond;
  Rig rig(kSecret, o);
  REQUIRE(rig.start() == RestReadiness::Ready);
  rig.fake.skew_ms = -3000;  // the server's clock jumps back: our timestamps are now 3 s ahead
  RestResult r = rig.call(rest_new_order(limit_buy("t-4")));
  CHECK(r.outcome == RestOutcome::Rejected);
  CHECK(r.error.code == error_code::kInvalidTimestamp);
  REQUIRE(run_until(rig.ioc, [&] { return rig.fake.count("/api/v3/time") == 6; }));
  REQUIRE(run_until(rig.ioc, [&] { return rig.client->status().time_syncs == 2; }));
  CHECK(std::llabs(rig.client->clock().offset() + 3000 * kNanosPerMilli) < 200 * kNanosPerMilli);
  CHECK(rig.call(rest_new_order(limit_buy("t-4"))).ok());
  CHECK(rig.client->status().timestamp_errors == 1);
}

TEST_CASE("-1013 rejects the order and refreshes exchangeInfo", "[exchange][rest]") {
  Rig rig;
  REQUIRE(rig.start() == RestReadiness::Ready);
  rig.fake.script.push_back({"/api/v3/order", 400, R"({"code":-1013,"msg":"Filter failure: LOT_SIZE"})", {}});
  RestResult r = rig.call(rest_new_order(limit_buy("t-5")));
  CHECK(r.outcome == RestOutcome::Rejected);
  CHECK(r.error.code == error_code::kFilterFailure);
  REQUIRE(run_until(rig.ioc, [&] { return rig.client->status().exchange_info_loads == 2; }));
  CHECK(rig.fake.count("/api/v3/exchangeInfo") == 2);
}

TEST_CASE("429 holds all REST traffic for Retry-After; 418 stops it until the ban ends and alerts", "[exchange][rest]") {
  Rig rig;
  REQUIRE(rig.start() == RestReadiness::Ready);
  rig.fake.script.push_back({"/api/v3/ping", 429, R"({"code":-1003,"msg":"Too many requests."})", {{"Retry-After", "1"}}});
  RestResult r = rig.call(ping());
  CHECK(r.http_status == 429);
  CHECK(r.outcome == RestOutcome::Rejected);
  const Nanos t429 = rig.fake.received.back().mono_at;
  const std::size_t before = rig.fake.received.size();
  // Any REST call (another endpoint) now waits until Retry-After has passed.
  RestResult q = rig.call(rest_open_orders("BTCUSDT"));
  CHECK(q.ok());
  REQUIRE(rig.fake.received.size() == before + 1);
  CHECK(rig.fake.received.back().mono_at - t429 >= 1 * kNanosPerSecond);
  CHECK(rig.client->status().http_429 == 1);
  CHECK(rig.client->status().delayed_by_rate_limit >= 1);

  rig.fake.script.push_back({"/api/v3/ping", 418, R"({"code":-1003,"msg":"Way too many requests; IP banned."})", {{"Retry-After", "2"}}});
  r = rig.call(ping());
  CHECK(r.http_status == 418);
  const Nanos t418 = rig.fake.received.back().mono_at;
  RestStatus s = rig.client->status();
  CHECK(s.banned);
  CHECK(s.bans == 1);
  CHECK(s.readiness == RestReadiness::Banned);
  // A request that cannot wait for the ban fails at once and reaches nobody.
  RestCall hurried = rest_new_order(limit_buy("t-6"));
  hurried.timeout = 500 * kNanosPerMilli;
  const std::size_t n = rig.fake.received.size();
  RestResult h = rig.call(std::move(hurried));
  CHECK(h.outcome == RestOutcome::NotSent);
  CHECK(h.not_sent == NotSentReason::Banned);
  CHECK(rig.fake.received.size() == n);
  // One that may wait goes out once the ban is over, not before.
  RestCall patient = rest_open_orders("BTCUSDT");
  patient.timeout = 5 * kNanosPerSecond;
  CHECK(rig.call(std::move(patient)).ok());
  CHECK(rig.fake.received.size() == n + 1);
  CHECK(rig.fake.received.back().mono_at - t418 >= 2 * kNanosPerSecond);
  CHECK_FALSE(rig.client->status().banned);
}

TEST_CASE("5xx and lost connections: orders become unknown, GETs are retried", "[exchange][rest]") {
  Rig rig;
  REQUIRE(rig.start() == RestReadiness::Ready);
  SECTION("503 on an order is unknown, never failed, and is not retried") {
    rig.fake.script.push_back({"/api/v3/order", 503, "", {}});
    RestResult r = rig.call(rest_new_order(limit_buy("t-7")));
    CHECK(r.outcome == RestOutcome::Unknown);
    CHECK(rig.fake.count("/api/v3/order") == 1);
    CHECK(rig.client->status().unknown_outcomes == 1);
  }
  SECTION("-1007 on an order is unknown") {
    rig.fake.script.push_back({"/api/v3/order", 400, R"({"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."})", {}});
    CHECK(rig.call(rest_new_order(limit_buy("t-8"))).outcome == RestOutcome::Unknown);
  }
  SECTION("the connection drops after the order executed: unknown, then recovered by client id") {
    rig.fake.script.push_back({"/api/v3/order", 200, "", {}, true, true});
    RestResult r = rig.call(rest_new_order(limit_buy("t-9")));
    CHECK(r.outcome == RestOutcome::Unknown);
    CHECK(rig.fake.count("/api/v3/order") == 1);
    RestResult q = rig.call(rest_query_order({*Symbol::parse("BTCUSDT"), -1, *ClientOrderId::from("t-9")}));
    REQUIRE(q.ok());
    JsonParser parser;
    OrderResponse order;
    REQUIRE(parse_order(parser, q.body, order) == ParseStatus::Ok);
    CHECK(order.status == OrderStatus::New);
    CHECK(order.client_order_id == "t-9");
  }
  SECTION("a GET answered 503 is retried and succeeds") {
    rig.fake.script.push_back({"/api/v3/openOrders", 503, "", {}});
    RestResult r = rig.call(rest_open_orders("BTCUSDT"));
    CHECK(r.ok());
    CHECK(r.attempts == 2);
    CHECK(rig.fake.count("/api/v3/openOrders") == 2);
  }
}

TEST_CASE("consecutive failures open the breaker; it refuses without sending, then probes", "[exchange][rest]") {
  RestClientOptions o = Rig::base_options();
  o.breaker.consecutive_failures = 3;
  o.breaker.open_duration = 300 * kNanosPerMilli;
  o.breaker.half_open_successes = 1;
  o.max_idempotent_retries = 0;
  Rig rig(kSecret, o);
  REQUIRE(rig.start() == RestReadiness::Ready);
  for (int i = 0; i < 3; ++i) rig.fake.script.push_back({"/api/v3/ping", 502, "", {}});
  for (int i = 0; i < 3; ++i) CHECK(rig.call(ping()).outcome == RestOutcome::Failed);
  CHECK(rig.client->status().breaker == net::CircuitBreaker::State::open);
  const std::size_t n = rig.fake.received.size();
  RestResult refused = rig.call(rest_new_order(limit_buy("t-10")));
  CHECK(refused.outcome == RestOutcome::NotSent);
  CHECK(refused.not_sent == NotSentReason::BreakerOpen);
  CHECK(rig.fake.received.size() == n);
  net::test::run_for(rig.ioc, std::chrono::milliseconds(350));
  CHECK(rig.client->status().breaker == net::CircuitBreaker::State::half_open);
  CHECK(rig.call(rest_open_orders("BTCUSDT")).ok());
  CHECK(rig.client->status().breaker == net::CircuitBreaker::State::closed);
}
