// The live order path (RestClient, WsApiSession, OrderGateway) against the real simulator
// (tb::sim::SimServer in-process, real TLS on 127.0.0.1 with the sim's private CA), not against
// the fakes: this proves our client against the peer the daemon is deployed against in CI.
// Covered: RestClient start (time sync + exchangeInfo from the sim), a signed order accepted and
// one signed with the wrong secret rejected -1022; the gateway placing over the WS API and over
// REST, a partial fill (our buy crosses the sim's best ask for more than that level holds),
// replace and cancel; the 429 hold and the 418 ban; clock skew => -1021 => resync => accepted;
// the WS API dropped right after an order went out, its outcome recovered by client id.
// Everything runs on the test's io_context (the sim's thread = the trading thread); every wait
// is bounded.
#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "../net/test_support.hpp"
#include "../oms/oms_fixture.hpp"
#include "tradingbot/exchange/binance/order_gateway.hpp"
#include "tradingbot/sim/sim_server.hpp"
#include "sim_rig.hpp"

using namespace tb;
using namespace tb::binance;
using tb::net::test::run_until;
using namespace std::chrono_literals;

namespace {

using tb::test::SimRig;
using tb::test::kKey;

struct Events : GatewayListener {
  std::vector<GatewayEvent> events;
  void on_gateway_event(const GatewayEvent& e) override { events.push_back(e); }
  void on_gateway_state(GatewayState) override {}
  std::size_t count(GatewayEventKind k) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == k ? 1 : 0;
    return n;
  }
};

// The gateway on top of the rig: a real OrderManager with the sim's filters.
struct GatewayRig : SimRig {
  risk::RiskGate gate{tb::test::loose_params()};
  oms::PositionBook book{tb::test::sym("USDT"), tb::test::money("100000")};
  oms::OrderManager om{tb::test::test_config(), gate, book};
  Events events;
  std::shared_ptr<OrderGateway> gw;

  explicit GatewayRig(bool prefer_ws = true) {
    REQUIRE(gate.set_symbol_rules(tb::test::btc_rules()));
    REQUIRE(book.add_symbol(tb::test::sym("BTCUSDT"), tb::test::sym("BTC"), tb::test::sym("USDT")));
    REQUIRE(om.add_symbol(tb::test::sym("BTCUSDT")));
    WsApiOptions wo = ws_api_options();
    OrderGatewayOptions go;
    go.symbols = {tb::test::sym("BTCUSDT")};
    go.unknown_query_delay = 100 * kNanosPerMilli;
    go.query_interval = 200 * kNanosPerMilli;
    go.prefer_ws_api = prefer_ws;
    gw = OrderGateway::create(ioc, client_tls, rest, wo, signer, kKey, om, events, go);
  }
  ~GatewayRig() { gw->stop(); }

  void arm() {
    gw->start();
    REQUIRE(run_until(ioc, [&] { return gw->armed(); }, 8s));
  }

  [[nodiscard]] book::MatchingEngine& engine() { return server->market().engine(*server->market().find(tb::test::sym("BTCUSDT"))); }

  oms::ClientOrderId submit(Price price, Qty q) {
    const Nanos now = wall_clock_ns();
    gate.on_user_stream(now);
    om.on_mid(tb::test::sym("BTCUSDT"), price, now);
    OrderIntent in;
    in.symbol = tb::test::sym("BTCUSDT");
    in.side = Side::Buy;
    in.type = tb::OrderType::Limit;
    in.tif = tb::TimeInForce::Gtc;
    in.price = price;
    in.qty = q;
    const oms::SubmitResult r = om.submit(in, now);
    REQUIRE(r.accepted());
    return r.order->client_id;
  }
  // A passive buy well below the market: it rests untouched.
  oms::ClientOrderId submit_passive() {
    const auto bid = engine().best(Side::Buy);
    REQUIRE(bid.has_value());
    const Price price = Price::from_raw(bid->price.raw() * 9 / 10 / 1'000'000 * 1'000'000);
    return submit(price, tb::test::qty("0.00100"));
  }
  oms::OrderStatus status_of(const oms::ClientOrderId& id) const { return om.find(id)->status; }
};

}  // namespace

TEST_CASE("sim: RestClient starts on the sim's time and exchangeInfo; signature checked both ways", "[exchange][sim]") {
  SimRig rig;
  REQUIRE(rig.start(*rig.rest) == RestReadiness::Ready);
  REQUIRE(rig.rest->exchange_info() != nullptr);
  CHECK(rig.rest->status().exchange_info_loaded);
  CHECK(rig.rest->status().symbols >= 1);
  CHECK(rig.rest->clock_status() == ClockStatus::Ok);
  CHECK(rig.rest->status().weight_limit_1m == 6000);  // the sim's rateLimits replaced the defaults

  RestResult ok = rig.call(*rig.rest, SimRig::limit_order("tbSIMok-1", "40000.00", "0.00100"));
  INFO(ok.body);
  CHECK(ok.ok());
  CHECK(ok.body.find("\"clientOrderId\":\"tbSIMok-1\"") != std::string::npos);

  // Same key, wrong secret: the sim must refuse the signature and execute nothing.
  RequestSigner wrong{HmacSha256Signer("not-the-secret")};
  auto tampered = rig.make_rest(&wrong);
  rig.extra_rests.push_back(tampered);
  REQUIRE(rig.start(*tampered) == RestReadiness::Ready);
  RestResult bad = rig.call(*tampered, SimRig::limit_order("tbSIMbad-1", "40000.00", "0.00100"));
  CHECK(bad.outcome == RestOutcome::Rejected);
  CHECK(bad.error.code == -1022);
  CHECK(tampered->status().signature_errors == 1);
}

TEST_CASE("sim: gateway order over the WS API, partially filled, replaced, cancelled", "[exchange][sim][gateway]") {
  GatewayRig rig;
  rig.arm();
  rig.server->pause_agents(true);  // the book holds still while we cross it
  net::test::run_for(rig.ioc, 50ms);

  // Passive order acked over the WS API, then cancelled.
  const oms::ClientOrderId passive = rig.submit_passive();
  REQUIRE(rig.gw->send(*rig.om.find(passive)));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(passive) == oms::OrderStatus::New; }, 5s));
  CHECK(rig.gw->status().sent_ws == 1);
  CHECK(rig.gw->status().sent_rest == 0);
  CHECK(rig.om.find(passive)->exchange_id > 0);

  // Replace: cancel confirmed, then the new order goes out at the new price.
  const Price new_price = Price::from_raw(rig.om.find(passive)->price.raw() - 1'000'000);
  OrderIntent again;
  again.symbol = tb::test::sym("BTCUSDT");
  again.side = Side::Buy;
  again.price = new_price;
  again.qty = tb::test::qty("0.00200");
  REQUIRE(rig.gw->replace(passive, again));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(passive) == oms::OrderStatus::Canceled; }, 5s));
  // The manager numbers client ids in order: the replacement is the run's second order.
  const std::optional<oms::ClientOrderId> replacement = tb::test::cid("tbTEST-2");
  REQUIRE(run_until(rig.ioc, [&] { return rig.om.find(*replacement) != nullptr &&
                                          rig.status_of(*replacement) == oms::OrderStatus::New; }, 5s));
  CHECK(rig.om.find(*replacement)->price == new_price);
  REQUIRE(rig.gw->cancel(*replacement));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(*replacement) == oms::OrderStatus::Canceled; }, 5s));

  // Crossing buy for more than the best ask level holds: it takes that level and rests the rest.
  const auto ask = rig.engine().best(Side::Sell);
  REQUIRE(ask.has_value());
  const Qty more = Qty::from_raw(ask->quantity.raw() + 100'000);  // + 0.001
  const oms::ClientOrderId crossing = rig.submit(ask->price, more);
  REQUIRE(rig.gw->send(*rig.om.find(crossing)));
  // The level may hold several resting orders: one execution report per trade, so the order is
  // PartiallyFilled from the first and has the whole level only after the last.
  REQUIRE(run_until(rig.ioc, [&] { return rig.om.find(crossing)->filled >= ask->quantity; }, 5s));
  CHECK(rig.status_of(crossing) == oms::OrderStatus::PartiallyFilled);
  CHECK(rig.om.find(crossing)->filled == ask->quantity);
  CHECK(rig.events.count(GatewayEventKind::Filled) >= 1);
  REQUIRE(rig.gw->cancel(crossing));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(crossing) == oms::OrderStatus::Canceled; }, 5s));
  CHECK(rig.om.live_orders() == 0);
  CHECK(rig.om.counters().illegal_transitions == 0);
  for (const auto& e : rig.events.events) UNSCOPED_INFO(to_string(e.kind) << " " << e.client_id.view());
  CHECK(rig.events.count(GatewayEventKind::Canceled) >= 3);
}

TEST_CASE("sim: gateway order over REST when the WS API is not preferred", "[exchange][sim][gateway]") {
  GatewayRig rig(false);
  rig.arm();
  const oms::ClientOrderId id = rig.submit_passive();
  REQUIRE(rig.gw->send(*rig.om.find(id)));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(id) == oms::OrderStatus::New; }, 5s));
  CHECK(rig.gw->status().sent_rest == 1);
  CHECK(rig.gw->status().sent_ws == 0);
  REQUIRE(rig.gw->cancel(id));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(id) == oms::OrderStatus::Canceled; }, 5s));
}

TEST_CASE("sim: 429 holds all REST traffic for Retry-After, 418 bans until it ends", "[exchange][sim]") {
  SimRig rig;
  REQUIRE(rig.start(*rig.rest) == RestReadiness::Ready);
  auto& faults = rig.server->faults();
  faults.http_error_status = 429;
  faults.http_error_remaining = 1;
  faults.retry_after_s = 1;
  RestResult limited = rig.call(*rig.rest, SimRig::ping());
  CHECK(limited.http_status == 429);
  CHECK_FALSE(limited.ok());
  CHECK(rig.rest->status().http_429 == 1);
  CHECK(rig.rest->status().blocked_until_wall > 0);
  // The next request waits for the hold instead of hitting the sim again at once.
  RestResult after = rig.call(*rig.rest, SimRig::ping());
  CHECK(after.ok());
  CHECK(rig.rest->status().delayed_by_rate_limit >= 1);
  CHECK(after.sent_wall >= rig.rest->status().blocked_until_wall - 5 * kNanosPerMilli);

  faults.http_error_status = 418;
  faults.http_error_remaining = 1;
  faults.retry_after_s = 30;
  RestResult banned = rig.call(*rig.rest, SimRig::ping());
  CHECK(banned.http_status == 418);
  CHECK(rig.rest->banned());
  CHECK(rig.rest->status().bans == 1);
  CHECK(rig.rest->readiness() == RestReadiness::Banned);
  const std::uint64_t sent_before = rig.rest->status().requests_sent;
  RestCall short_call = SimRig::ping();
  short_call.timeout = 200 * kNanosPerMilli;
  RestResult refused = rig.call(*rig.rest, short_call);
  CHECK(refused.outcome == RestOutcome::NotSent);
  CHECK(refused.not_sent == NotSentReason::Banned);
  CHECK(rig.rest->status().requests_sent == sent_before);  // nothing went out during the ban
}

TEST_CASE("sim: clock skew => -1021 => resync => accepted", "[exchange][sim]") {
  SimRig rig(500);
  REQUIRE(rig.start(*rig.rest) == RestReadiness::Ready);
  // The sim's clock jumps 800 ms ahead: past our 500 ms recvWindow (-1021), yet within the skew
  // the client accepts after a resync (ClockOffsetConfig::max_abs_offset, 1 s).
  rig.server->faults().clock_skew_ms = 800;
  RestResult stale = rig.call(*rig.rest, SimRig::limit_order("tbSKEW-1", "40000.00", "0.00100"));
  CHECK(stale.outcome == RestOutcome::Rejected);
  CHECK(stale.error.code == -1021);
  CHECK(rig.rest->status().timestamp_errors == 1);
  // The -1021 triggered a resync on the sim's (skewed) time; the next order passes.
  REQUIRE(run_until(rig.ioc, [&] { return rig.rest->clock_status() == ClockStatus::Ok &&
                                          rig.rest->status().clock_offset > 700 * kNanosPerMilli; }, 5s));
  RestResult fresh = rig.call(*rig.rest, SimRig::limit_order("tbSKEW-2", "40000.00", "0.00100"));
  INFO(fresh.body);
  CHECK(fresh.ok());
}

TEST_CASE("sim: WS API dropped right after an order went out: outcome recovered by client id", "[exchange][sim][gateway]") {
  GatewayRig rig;
  rig.arm();
  const oms::ClientOrderId id = rig.submit_passive();
  REQUIRE(rig.gw->send(*rig.om.find(id)));
  // Let the frame reach the sim, then cut every connection before (or as) the answer comes back.
  rig.ioc.poll();
  rig.server->drop_connections(false);
  REQUIRE(run_until(rig.ioc, [&] { return rig.gw->status().gaps >= 1; }, 10s));
  REQUIRE(run_until(rig.ioc, [&] {
    return rig.gw->armed() && rig.status_of(id) != oms::OrderStatus::PendingNew && !rig.om.find(id)->needs_query;
  }, 10s));
  // Definite either way, and consistent with the sim's book: the order exists there exactly
  // when we believe it does.
  const oms::Order& order = *rig.om.find(id);
  CHECK((order.status == oms::OrderStatus::New || order.status == oms::OrderStatus::Rejected));
  if (order.status == oms::OrderStatus::New) {
    CHECK(order.exchange_id > 0);
    CHECK(rig.engine().find_order(static_cast<book::OrderId>(order.exchange_id)).has_value());
  }
  CHECK(rig.gw->status().gaps >= 1);
  CHECK(rig.om.counters().illegal_transitions == 0);
}
