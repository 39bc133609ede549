// WsApiSession against a Binance-like WS API fake over real TLS on 127.0.0.1: signed requests
// verified by the fake, user data subscription, execution reports, a connection dropped in the
// middle of an order (unknown outcome, resubscribe with gap, outcome recovered by order.status).
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../net/test_support.hpp"
#include "fakes/fake_binance_ws_api.hpp"
#include "tradingbot/exchange/binance/ws_api_session.hpp"

using namespace tb;
using namespace tb::binance;
using tb::net::test::run_until;

namespace {

constexpr const char* kKey = "ws-api-key";
constexpr const char* kSecret = "ws-secret-abcdef";

struct Recorder : WsApiListener {
  struct Done {
    std::uint64_t id;
    WsApiMethod method;
    WsApiOutcome outcome;
    std::string client_id;
    int status;
    OrderStatus order_status;
  };
  std::vector<Done> completions;
  std::vector<ExecutionReport> reports;
  std::vector<std::pair<WsApiState, bool>> states;

  void on_ws_api_completion(const WsApiCompletion& c) override {
    completions.push_back({c.request_id, c.method, c.outcome, std::string(c.client_order_id.view()),
                           c.response ? c.response->status : 0,
                           c.response ? c.response->order.status : OrderStatus::Unknown});
  }
  void on_user_event(const UserDataEvent& e) override {
    if (e.type == UserEventType::ExecutionReport) reports.push_back(e.execution);
  }
  void on_ws_api_state(WsApiState s, bool gap) override { states.emplace_back(s, gap); }
  const Done* find(std::uint64_t id) const {
    for (const auto& d : completions)
      if (d.id == id) return &d;
    return nullptr;
  }
};

struct Rig {
  boost::asio::io_context ioc;
  test::FakeBinanceRest rest{ioc, net::test::server_tls(net::test::pki().localhost), kKey, kSecret};
  test::FakeBinanceWsApi wsapi{ioc, net::test::server_tls(net::test::pki().localhost), rest, kKey, kSecret};
  RequestSigner signer;
  ClockOffsetEstimator clock;
  RateLimitTracker limits;
  Recorder rec;
  std::shared_ptr<WsApiSession> session;

  explicit Rig(const std::string& secret = kSecret) : signer(HmacSha256Signer(secret)) {
    const Nanos now = wall_clock_ns();
    clock.add_sample(now, now / kNanosPerMilli, now);
    WsApiOptions o;
    o.connection.ws.host = "localhost";
    o.connection.ws.connect_host = "127.0.0.1";
    o.connection.ws.port = wsapi.port();
    o.connection.ws.target = "/ws-api/v3";
    o.connection.backoff.initial_delay = 20 * kNanosPerMilli;
    o.connection.backoff.max_delay = 100 * kNanosPerMilli;
    o.request_timeout = 2 * kNanosPerSecond;
    session = WsApiSession::create(ioc, net::test::client_tls(), o, signer, kKey, clock, limits, rec);
  }
  ~Rig() { session->stop(); }

  bool wait_ready() {
    return run_until(ioc, [&] { return session->ready(); });
  }
  const Recorder::Done* wait(std::uint64_t id) {
    run_until(ioc, [&] { return rec.find(id) != nullptr; });
    return rec.find(id);
  }
};

NewOrder limit_buy(std::string_view client_id) {
  NewOrder o;
  o.symbol = *Symbol::parse("BTCUSDT");
  o.side = Side::Buy;
  o.type = OrderType::Limit;
  o.time_in_force = TimeInForce::Gtc;
  o.quantity = Qty::from_raw(100'000);
  o.price = Price::from_raw(5'000'000'000'000);
  o.client_order_id = *ClientOrderId::from(client_id);
  o.price_digits = 2;
  o.qty_digits = 5;
  return o;
}

OrderRef by_client_id(std::string_view id) {
  OrderRef r;
  r.symbol = *Symbol::parse("BTCUSDT");
  r.orig_client_order_id = *ClientOrderId::from(id);
  return r;
}

}  // namespace

TEST_CASE("WS API: subscribe, place, fill, cancel, query; the fake verifies every signature", "[exchange][wsapi]") {
  Rig rig;
  rig.session->start();
  REQUIRE(rig.wait_ready());
  CHECK(rig.wsapi.subscriptions == 1);
  REQUIRE(!rig.rec.states.empty());
  CHECK(rig.rec.states.back() == std::make_pair(WsApiState::Ready, false));

  const std::uint64_t id = rig.session->place(limit_buy("w-1"));
  REQUIRE(id > 0);
  const auto* placed = rig.wait(id);
  REQUIRE(placed != nullptr);
  CHECK(placed->outcome == WsApiOutcome::Ok);
  CHECK(placed->client_id == "w-1");
  CHECK(placed->order_status == OrderStatus::New);
  REQUIRE(run_until(rig.ioc, [&] { return rig.rec.reports.size() == 1; }));
  CHECK(rig.rec.reports[0].client_order_id == "w-1");
  CHECK(rig.rec.reports[0].execution_type == ExecutionType::New);

  rig.wsapi.fill("w-1", "0.00040", "50000.00", 77, false);
  REQUIRE(run_until(rig.ioc, [&] { return rig.rec.reports.size() == 2; }));
  CHECK(rig.rec.reports[1].execution_type == ExecutionType::Trade);
  CHECK(rig.rec.reports[1].trade_id == 77);
  CHECK(rig.rec.reports[1].last_qty == Qty::from_raw(40'000));

  const std::uint64_t cancel = rig.session->cancel(by_client_id("w-1"));
  const auto* canceled = rig.wait(cancel);
  REQUIRE(canceled != nullptr);
  CHECK(canceled->outcome == WsApiOutcome::Ok);
  CHECK(canceled->order_status == OrderStatus::Canceled);
  REQUIRE(run_until(rig.ioc, [&] { return rig.rec.reports.size() == 3; }));
  CHECK(rig.rec.reports[2].status == OrderStatus::Canceled);

  const std::uint64_t missing = rig.session->query(by_client_id("nope"));
  const auto* q = rig.wait(missing);
  REQUIRE(q != nullptr);
  CHECK(q->outcome == WsApiOutcome::Rejected);
  CHECK(rig.wsapi.signature_failures == 0);
  CHECK(rig.session->status().in_flight == 0);
}

TEST_CASE("WS API: a wrong secret gets -1022 and the session never reports ready", "[exchange][wsapi]") {
  Rig rig("wrong");
  rig.session->start();
  run_until(rig.ioc, [&] { return rig.wsapi.signature_failures >= 1; });
  CHECK(rig.wsapi.signature_failures >= 1);
  CHECK_FALSE(rig.session->ready());
  CHECK(rig.session->place(limit_buy("w-2")) == 0);  // not ready: not sent
}

TEST_CASE("WS API dropped mid-order: unknown outcome, resubscribe with a gap, outcome recovered", "[exchange][wsapi]") {
  Rig rig;
  rig.session->start();
  REQUIRE(rig.wait_ready());
  rig.wsapi.drop_on_next_place = true;
  const std::uint64_t id = rig.session->place(limit_buy("w-3"));
  REQUIRE(id > 0);
  const auto* placed = rig.wait(id);
  REQUIRE(placed != nullptr);
  CHECK(placed->outcome == WsApiOutcome::Unknown);
  // The session reconnects and resubscribes; the new subscription is flagged as a gap.
  REQUIRE(run_until(rig.ioc, [&] { return rig.rec.states.size() >= 2 && rig.rec.states.back().first == WsApiState::Ready; }));
  CHECK(rig.rec.states.back().second);
  CHECK(rig.wsapi.subscriptions == 2);
  CHECK(rig.session->status().gaps == 1);
  // The order did reach the exchange: order.status says so.
  const std::uint64_t q = rig.session->query(by_client_id("w-3"));
  const auto* found = rig.wait(q);
  REQUIRE(found != nullptr);
  CHECK(found->outcome == WsApiOutcome::Ok);
  CHECK(found->order_status == OrderStatus::New);
}
