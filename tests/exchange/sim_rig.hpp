// SimRig: the in-process exchange simulator (tb::sim::SimServer, real TLS on 127.0.0.1 with its
// own private CA) plus a RestClient signed for its account, for the tests that run the live
// order path against it. Everything runs on the rig's io_context; every wait is bounded.
#pragma once

#include <catch2/catch.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "../net/test_support.hpp"
#include "../oms/oms_fixture.hpp"
#include "tradingbot/exchange/binance/rest_client.hpp"
#include "tradingbot/exchange/binance/ws_api_session.hpp"
#include "tradingbot/sim/sim_server.hpp"

namespace tb::test {

using namespace tb::binance;  // NOLINT: test helper
using namespace std::chrono_literals;
using tb::net::test::run_until;

inline constexpr const char* kKey = "live-key";
inline constexpr const char* kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

inline constexpr const char* kSimConfig = R"([sim]
listen = "127.0.0.1:0"
seed = 11
agent_step_ms = 20
[[sim.symbols]]
symbol = "BTCUSDT"
base_asset = "BTC"
quote_asset = "USDT"
start_price = "50000.00"
orders_per_s = 200
typical_qty = "0.01"
[[sim.api_keys]]
api_key = "live-key"
secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
balances = { USDT = "100000", BTC = "1" }
)";

struct SimRig {
  boost::asio::io_context ioc;
  std::filesystem::path dir;
  std::unique_ptr<sim::SimServer> server;
  std::uint16_t port = 0;
  net::TlsContextPtr client_tls;
  RequestSigner signer{HmacSha256Signer(kSecret)};
  std::shared_ptr<RestClient> rest;

  explicit SimRig(std::int64_t recv_window_ms = 5000) : recv_window_ms_(recv_window_ms) {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("tb-live-sim-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    auto cfg = sim::parse_sim_config(kSimConfig, "test");
    if (!cfg) FAIL(cfg.error().message);
    cfg.value().cert_dir = (dir / "pki").string();
    std::string ca_file;
    auto tls = sim::make_sim_tls(cfg.value().cert_dir, ca_file);
    REQUIRE(tls.ok());
    server = std::make_unique<sim::SimServer>(ioc, cfg.value(), tls.value());
    auto bound = server->start();
    REQUIRE(bound.ok());
    port = bound.value();
    client_tls = net::test::must(net::make_client_tls_context({ca_file, false}));
    rest = make_rest(&signer);
  }
  ~SimRig() {
    for (auto& r : extra_rests) r->stop();
    rest->stop();
    server->stop();
    net::test::run_for(ioc, 20ms);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  std::shared_ptr<RestClient> make_rest(RequestSigner* s) {
    RestClientOptions ro;
    ro.host = "127.0.0.1";
    ro.port = port;
    ro.time_sync_interval = 0;
    ro.exchange_info_interval = 0;
    ro.request_timeout = 3 * kNanosPerSecond;
    ro.recv_window_ms = recv_window_ms_;
    return RestClient::create(ioc, client_tls, ro, s, kKey);
  }

  // The WS API session's options for the rig's port, with quick reconnects.
  [[nodiscard]] WsApiOptions ws_api_options() const {
    WsApiOptions wo;
    wo.connection.ws.host = "127.0.0.1";
    wo.connection.ws.port = port;
    wo.connection.ws.target = "/ws-api/v3";
    wo.connection.backoff.initial_delay = 20 * kNanosPerMilli;
    wo.connection.backoff.max_delay = 100 * kNanosPerMilli;
    wo.request_timeout = 2 * kNanosPerSecond;
    return wo;
  }

  RestReadiness start(RestClient& client) {
    std::optional<RestReadiness> ready;
    client.start([&](RestReadiness r) { ready = r; });
    REQUIRE(run_until(ioc, [&] { return ready.has_value(); }, 8s));
    return *ready;
  }

  RestResult call(RestClient& client, RestCall c) {
    std::optional<RestResult> result;
    client.call(std::move(c), [&](RestResult& r) { result = std::move(r); });
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }, 8s));
    return std::move(*result);
  }

  static RestCall limit_order(const char* client_id, const char* price, const char* qty) {
    RestCall c;
    c.method = boost::beast::http::verb::post;
    c.path = "/api/v3/order";
    c.endpoint = Endpoint::OrderNew;
    c.security = Security::Signed;
    NewOrder o;
    o.symbol = tb::test::sym("BTCUSDT");
    o.side = Side::Buy;
    o.type = binance::OrderType::Limit;
    o.time_in_force = binance::TimeInForce::Gtc;
    o.price = tb::test::px(price);
    o.quantity = tb::test::qty(qty);
    REQUIRE(o.client_order_id.assign(client_id));
    o.price_digits = 2;
    o.qty_digits = 5;
    c.new_order = o;
    return c;
  }

  static RestCall ping() {
    RestCall c;
    c.path = "/api/v3/ping";
    c.endpoint = Endpoint::Ping;
    return c;
  }

  std::vector<std::shared_ptr<RestClient>> extra_rests;
  std::int64_t recv_window_ms_;
};

}  // namespace tb::test
