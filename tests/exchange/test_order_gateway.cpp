// OrderGateway against the REST and WS API fakes (one shared order table) over real TLS on
// 127.0.0.1, feeding a real oms::OrderManager: restart with orders open reconciled before
// "armed", order over the WS API acked/partially filled/cancelled/replaced, order over REST,
// and the WS API dropped mid-order with the outcome recovered.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "../net/test_support.hpp"
#include "../oms/oms_fixture.hpp"
#include "fakes/fake_binance_ws_api.hpp"
#include "tradingbot/exchange/binance/order_gateway.hpp"

using namespace tb;
using namespace tb::binance;
using tb::net::test::run_until;

namespace {

constexpr const char* kKey = "gw-key";
constexpr const char* kSecret = "gw-secret-0011";

struct Events : GatewayListener {
  std::vector<GatewayEvent> events;
  std::vector<GatewayState> states;
  void on_gateway_event(const GatewayEvent& e) override { events.push_back(e); }
  void on_gateway_state(GatewayState s) override { states.push_back(s); }
  std::size_t count(GatewayEventKind k) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.kind == k ? 1 : 0;
    return n;
  }
};

struct Rig {
  boost::asio::io_context ioc;
  tb::binance::test::FakeBinanceRest rest_fake{ioc, net::test::server_tls(net::test::pki().localhost), kKey, kSecret};
  tb::binance::test::FakeBinanceWsApi ws_fake{ioc, net::test::server_tls(net::test::pki().localhost), rest_fake, kKey, kSecret};
  RequestSigner signer{HmacSha256Signer(kSecret)};
  risk::RiskGate gate{tb::test::loose_params()};
  oms::PositionBook book{tb::test::sym("USDT"), tb::test::money("100000")};
  oms::OrderManager om{tb::test::test_config(), gate, book};
  Events events;
  std::shared_ptr<OrderGateway> gw;

  explicit Rig(bool prefer_ws = true) {
    REQUIRE(gate.set_symbol_rules(tb::test::btc_rules()));
    REQUIRE(book.add_symbol(tb::test::sym("BTCUSDT"), tb::test::sym("BTC"), tb::test::sym("USDT")));
    REQUIRE(om.add_symbol(tb::test::sym("BTCUSDT")));
    RestClientOptions ro;
    ro.host = "localhost";
    ro.connect_host = "127.0.0.1";
    ro.port = rest_fake.port();
    ro.time_sync_interval = 0;
    ro.exchange_info_interval = 0;
    ro.request_timeout = 3 * kNanosPerSecond;
    auto rest = RestClient::create(ioc, net::test::client_tls(), ro, &signer, kKey);
    WsApiOptions wo;
    wo.connection.ws.host = "localhost";
    wo.connection.ws.connect_host = "127.0.0.1";
    wo.connection.ws.port = ws_fake.port();
    wo.connection.ws.target = "/ws-api/v3";
    wo.connection.backoff.initial_delay = 20 * kNanosPerMilli;
    wo.connection.backoff.max_delay = 100 * kNanosPerMilli;
    wo.request_timeout = 2 * kNanosPerSecond;
    OrderGatewayOptions go;
    go.symbols = {tb::test::sym("BTCUSDT")};
    go.unknown_query_delay = 100 * kNanosPerMilli;
    go.query_interval = 200 * kNanosPerMilli;
    go.prefer_ws_api = prefer_ws;
    gw = OrderGateway::create(ioc, net::test::client_tls(), rest, wo, signer, kKey, om, events, go);
  }
  ~Rig() { gw->stop(); }

  const oms::Order& submit(const char* price, const char* q) {
    const Nanos now = wall_clock_ns();
    gate.on_user_stream(now);
    om.on_mid(tb::test::sym("BTCUSDT"), tb::test::px("50000"), now);
    OrderIntent in;
    in.symbol = tb::test::sym("BTCUSDT");
    in.side = Side::Buy;
    in.type = tb::OrderType::Limit;
    in.tif = tb::TimeInForce::Gtc;
    in.price = tb::test::px(price);
    in.qty = tb::test::qty(q);
    const oms::SubmitResult r = om.submit(in, now);
    REQUIRE(r.accepted());
    return *r.order;
  }
  oms::OrderStatus status_of(const oms::ClientOrderId& id) const { return om.find(id)->status; }
};

}  // namespace

TEST_CASE("restart with orders open: reconciled and adopted before the gateway is armed", "[exchange][gateway]") {
  Rig rig;
  tb::binance::test::FakeOrder left;
  left.symbol = "BTCUSDT";
  left.client_id = "tbOLD-7";
  left.side = "SELL";
  left.type = "LIMIT";
  left.price = "51000.00";
  left.qty = "0.00200";
  left.order_id = 55;
  rig.rest_fake.orders[left.client_id] = left;
  CHECK_FALSE(rig.om.ready_for_strategy());
  rig.gw->start();
  REQUIRE(run_until(rig.ioc, [&] { return rig.gw->armed(); }, std::chrono::seconds(8)));
  CHECK(rig.om.ready_for_strategy());
  CHECK(rig.rest_fake.count("/api/v3/openOrders") == 1);
  CHECK(rig.rest_fake.count("/api/v3/myTrades") == 1);
  const oms::Order* adopted = rig.om.find(tb::test::cid("tbOLD-7"));
  REQUIRE(adopted != nullptr);
  CHECK(adopted->adopted);
  CHECK(adopted->status == oms::OrderStatus::New);
  CHECK(adopted->exchange_id == 55);
}

TEST_CASE("restart after hours down: every fill since the last stored trade is found (myTrades fromId, paged)",
          "[exchange][gateway]") {
  Rig rig;
  // The store's view at shutdown: BUY 0.012 resting, unfilled; the last stored BTCUSDT trade was 5000.
  oms::RestoredOrder stored;
  stored.client_id = tb::test::cid("tbOLD-9");
  stored.exchange_id = 77;
  stored.symbol = tb::test::sym("BTCUSDT");
  stored.price = tb::test::px("50000");
  stored.qty = tb::test::qty("0.012");
  stored.updated = wall_clock_ns() - 3 * 3600 * kNanosPerSecond;
  REQUIRE(rig.om.restore_order(stored, wall_clock_ns()));
  rig.gw->set_trade_id_floor(tb::test::sym("BTCUSDT"), 5001);
  // While the daemon was down (two hours ago, far outside any look-back window) the order filled
  // in 1200 trades; an older trade (4990) is already in the restored position.
  tb::binance::test::FakeOrder filled;
  filled.symbol = "BTCUSDT";
  filled.client_id = "tbOLD-9";
  filled.side = "BUY";
  filled.type = "LIMIT";
  filled.price = "50000.00";
  filled.qty = "0.01200";
  filled.executed = "0.01200";
  filled.status = "FILLED";
  filled.order_id = 77;
  rig.rest_fake.orders[filled.client_id] = filled;
  const std::int64_t two_hours_ago_ms = wall_clock_ns() / kNanosPerMilli - 2 * 3600 * 1000;
  tb::binance::test::FakeTrade old_trade;
  old_trade.id = 4990;
  old_trade.order_id = 12;
  old_trade.price = "49000.00";
  old_trade.qty = "0.50000";
  old_trade.time = two_hours_ago_ms - 60'000;
  rig.rest_fake.trades.push_back(old_trade);
  for (std::int64_t i = 0; i < 1200; ++i) {
    tb::binance::test::FakeTrade t;
    t.id = 5001 + i;
    t.order_id = 77;
    t.price = "50000.00";
    t.qty = "0.00001";
    t.time = two_hours_ago_ms + i;
    rig.rest_fake.trades.push_back(t);
  }

  rig.gw->start();
  REQUIRE(run_until(rig.ioc, [&] { return rig.gw->armed(); }, std::chrono::seconds(8)));
  // Two pages: 5001.. (1000 trades, full) then 6001.. (200).
  std::vector<std::string> from_ids;
  for (const auto& r : rig.rest_fake.received) {
    if (r.path == "/api/v3/myTrades") from_ids.push_back(r.params.at("fromId"));
  }
  CHECK(from_ids == std::vector<std::string>{"5001", "6001"});
  const oms::Order* o = rig.om.find(tb::test::cid("tbOLD-9"));
  REQUIRE(o != nullptr);
  CHECK(o->status == oms::OrderStatus::Filled);
  CHECK(o->filled == tb::test::qty("0.012"));
  CHECK(rig.book.position(tb::test::sym("BTCUSDT")) == tb::test::qty("0.012"));  // not the 0.5 of trade 4990
  CHECK(rig.om.ready_for_strategy());
}

TEST_CASE("order over the WS API: acked, partially filled, replaced, cancelled", "[exchange][gateway]") {
  Rig rig;
  rig.gw->start();
  REQUIRE(run_until(rig.ioc, [&] { return rig.gw->armed(); }, std::chrono::seconds(8)));
  const oms::ClientOrderId id = rig.submit("50000.00", "0.00100").client_id;
  REQUIRE(rig.gw->send(*rig.om.find(id)));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(id) == oms::OrderStatus::New; }));
  CHECK(rig.gw->status().sent_ws == 1);
  CHECK(rig.rest_fake.count("/api/v3/order") == 0);  // nothing over REST
  CHECK(rig.ws_fake.methods.back() == "order.place");

  rig.ws_fake.fill(std::string(id.view()), "0.00040", "50000.00", 901, false);
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(id) == oms::OrderStatus::PartiallyFilled; }));
  CHECK(rig.om.find(id)->filled == tb::test::qty("0.0004"));
  CHECK(rig.events.count(GatewayEventKind::Filled) == 1);

  OrderIntent again;
  again.symbol = tb::test::sym("BTCUSDT");
  again.side = Side::Buy;
  again.price = tb::test::px("49990.00");
  again.qty = tb::test::qty("0.0006");
  REQUIRE(rig.gw->replace(id, again));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(id) == oms::OrderStatus::Canceled; }));
  // The new order went out once the cancel was confirmed.
  REQUIRE(run_until(rig.ioc, [&] { return rig.om.live_orders() == 1 && rig.rest_fake.orders.size() == 2; }));
  std::string new_id;
  for (const auto& [cid, o] : rig.rest_fake.orders)
    if (cid != std::string(id.view())) new_id = cid;
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(tb::test::cid(new_id.c_str())) == oms::OrderStatus::New; }));
  CHECK(rig.rest_fake.orders.at(new_id).price == "49990.00");

  REQUIRE(rig.gw->cancel(tb::test::cid(new_id.c_str())));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(tb::test::cid(new_id.c_str())) == oms::OrderStatus::Canceled; }));
  CHECK(rig.om.live_orders() == 0);
  CHECK(rig.om.counters().illegal_transitions == 0);
}

TEST_CASE("order over REST when the WS API is not used: ack from the response, cancel over REST", "[exchange][gateway]") {
  Rig rig(false);
  rig.gw->start();
  REQUIRE(run_until(rig.ioc, [&] { return rig.gw->armed(); }, std::chrono::seconds(8)));
  const oms::ClientOrderId id = rig.submit("50000.00", "0.00100").client_id;
  REQUIRE(rig.gw->send(*rig.om.find(id)));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(id) == oms::OrderStatus::New; }));
  CHECK(rig.gw->status().sent_rest == 1);
  CHECK(rig.rest_fake.count("/api/v3/order") == 1);
  REQUIRE(rig.gw->cancel(id));
  REQUIRE(run_until(rig.ioc, [&] { return rig.status_of(id) == oms::OrderStatus::Canceled; }));
  CHECK(rig.ws_fake.methods.empty());
}

TEST_CASE("WS API dropped mid-order: unknown, then recovered; the gateway re-arms after reconciling", "[exchange][gateway]") {
  Rig rig;
  rig.gw->start();
  REQUIRE(run_until(rig.ioc, [&] { return rig.gw->armed(); }, std::chrono::seconds(8)));
  const oms::ClientOrderId id = rig.submit("50000.00", "0.00100").client_id;
  rig.ws_fake.drop_on_next_place = true;
  REQUIRE(rig.gw->send(*rig.om.find(id)));
  REQUIRE(run_until(rig.ioc, [&] { return rig.events.count(GatewayEventKind::Unknown) == 1; }));
  CHECK_FALSE(rig.gw->armed());
  // Reconnect, resubscribe (gap), reconcile through REST, query by client id: the order exists.
  REQUIRE(run_until(rig.ioc, [&] { return rig.gw->armed() && rig.status_of(id) == oms::OrderStatus::New; },
                    std::chrono::seconds(8)));
  CHECK(rig.om.find(id)->exchange_id > 0);
  CHECK(rig.gw->status().gaps == 1);
  CHECK(rig.rest_fake.count("/api/v3/openOrders") == 2);
  CHECK(rig.rest_fake.orders.size() == 1);  // never sent twice
}
