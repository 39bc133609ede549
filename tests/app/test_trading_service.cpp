// Control endpoints of the trading service: token checks, the hop to the trading thread, and
// manual orders through the same risk gate and order manager, driven over a real HTTP server on
// 127.0.0.1 (the control routes are deferred: the trading thread completes them), and /health
// staying responsive while a control request waits for a stalled trading thread.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "../http/http_test_client.hpp"
#include "tradingbot/app/trading_service.hpp"
#include "tradingbot/http/server.hpp"
#include "tradingbot/trading/paper_session.hpp"

using namespace tb;

namespace {
struct Running {
  boost::asio::io_context trading;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{trading.get_executor()};
  std::unique_ptr<app::TradingService> service;
  std::unique_ptr<http::Server> server;
  std::uint16_t port = 0;
  std::thread thread;

  explicit Running(std::string token, config::TradingMode mode = config::TradingMode::Paper) {
    config::Config cfg;
    cfg.market.symbols = {*Symbol::parse("BTCUSDT")};
    cfg.strategy.symbols = cfg.market.symbols;
    cfg.trading.mode = mode;
    cfg.trading.paper_latency_ms = 0;
    auto created = app::TradingService::create(cfg, trading, std::move(token));
    REQUIRE(created.ok());
    service = std::move(created).value();
    http::Router router;
    router.get("/health", [](const http::Request&, http::Response& res) { res.set_json(200, R"({"status":"ok"})"); });
    service->add_control_endpoints(router);
    config::HttpConfig http_config;
    http_config.listen_host = "127.0.0.1";
    http_config.listen_port = 0;
    server = std::make_unique<http::Server>(http_config, std::move(router));
    auto started = server->start();
    REQUIRE(started.ok());
    port = started.value();
    service->start();
    thread = std::thread([this] { trading.run(); });
  }
  ~Running() {
    server->stop();
    boost::asio::post(trading, [this] { service->stop(); });
    guard.reset();
    thread.join();
  }
  static std::string request_bytes(std::string_view path, std::string_view auth, std::string_view body) {
    std::string bytes = "POST " + std::string(path) + " HTTP/1.1\r\nHost: test\r\n";
    if (!auth.empty()) bytes += "Authorization: " + std::string(auth) + "\r\n";
    bytes += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    return bytes;
  }
  // One request on its own connection; status 0 when no response came (within 3 s).
  http::Response post(std::string_view path, std::string_view auth, std::string_view body = "") {
    http::test::TestClient client(port);
    http::Response response;
    response.status = 0;
    if (!client.send(request_bytes(path, auth, body))) return response;
    const auto got = client.read_response();
    if (!got) return response;
    response.status = got->status;
    response.body = got->body;
    return response;
  }
  // Feeds a book on the trading thread (market data normally comes from the pipeline).
  void feed_book(book::L2Book& b) {
    std::promise<void> done;
    boost::asio::post(trading, [&] {
      service->market_sink()->on_book_update(*Symbol::parse("BTCUSDT"), b, wall_clock_ns());
      done.set_value();
    });
    done.get_future().wait();
  }
};
}  // namespace

TEST_CASE("control endpoints refuse requests without the right bearer token", "[app][control]") {
  Running r("s3cret");
  CHECK(r.post("/control/halt", "").status == 401);
  CHECK(r.post("/control/halt", "Bearer wrong").status == 401);
  CHECK(r.post("/control/halt", "Bearer s3cre").status == 401);
  CHECK(r.post("/control/halt", "Bearer s3cret2").status == 401);
  CHECK(r.post("/control/halt", "Basic s3cret").status == 401);
  CHECK(r.post("/control/order", "", R"({"symbol":"BTCUSDT"})").status == 401);
  const auto ok = r.post("/control/halt", "Bearer s3cret");
  CHECK(ok.status == 200);
  CHECK(ok.body.find("\"ok\":true") != std::string::npos);
  app::TradingStatus status;
  std::promise<void> done;
  boost::asio::post(r.trading, [&] {
    r.service->fill_status(status);
    done.set_value();
  });
  done.get_future().wait();
  CHECK(status.control_requests == 7);
  CHECK(status.control_unauthorized == 6);
  CHECK(status.loop.mode == risk::GateMode::Halted);
}

TEST_CASE("control is disabled when no token is configured", "[app][control]") {
  Running r("");
  const auto res = r.post("/control/halt", "Bearer ");
  CHECK(res.status == 401);
  CHECK(res.body.find("TRADINGBOT_CONTROL_TOKEN") != std::string::npos);
}

TEST_CASE("manual orders and cancels go through the risk gate and the order manager", "[app][control]") {
  Running r("tok");
  const std::string auth = "Bearer tok";
  // No market data yet: the gate refuses with its reason.
  auto res = r.post("/control/order", auth,
                    R"({"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","price":"60000","quantity":"0.001"})");
  CHECK(res.status == 422);
  CHECK(res.body.find("stale_market_data") != std::string::npos);
  book::L2Book b(64);
  b.set_level(book::BookSide::Bid, *Price::parse("60000"), *Qty::parse("5"));
  b.set_level(book::BookSide::Ask, *Price::parse("60001"), *Qty::parse("1"));
  r.feed_book(b);
  res = r.post("/control/order", auth,
               R"({"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","price":"59990","quantity":"0.001"})");
  REQUIRE(res.status == 200);
  const auto at = res.body.find("\"client_order_id\":\"");
  REQUIRE(at != std::string::npos);
  const auto start = at + 19;
  const std::string id = res.body.substr(start, res.body.find('"', start) - start);
  CHECK(r.post("/control/order", auth, R"({"symbol":"BTCUSDT","side":"BUY","type":"LIMIT","price":"50000","quantity":"0.001"})")
            .body.find("price_band") != std::string::npos);
  CHECK(r.post("/control/order", auth, R"({"symbol":"BTCUSDT","side":"HOLD","price":"1","quantity":"1"})").status == 400);
  CHECK(r.post("/control/order", auth, "not json").status == 400);
  CHECK(r.post("/control/cancel", auth, R"({"symbol":"BTCUSDT","client_order_id":"nope"})").status == 422);
  res = r.post("/control/cancel", auth, R"({"symbol":"BTCUSDT","client_order_id":")" + id + "\"}");
  CHECK(res.status == 200);
  CHECK(r.post("/control/cancel-all", auth).status == 200);
  CHECK(r.post("/control/resume", auth).status == 200);
}

TEST_CASE("without a trading loop control answers 409", "[app][control]") {
  Running r("tok", config::TradingMode::Off);
  CHECK_FALSE(r.service->active());
  CHECK(r.post("/control/halt", "Bearer tok").status == 409);
}

TEST_CASE("/health answers while a control request waits for a busy trading thread", "[app][control]") {
  Running r("tok");
  // Hold the trading thread the way a long burst of market data would.
  std::promise<void> release;
  std::promise<void> holding;
  boost::asio::post(r.trading, [&] {
    holding.set_value();
    release.get_future().wait();
  });
  holding.get_future().wait();

  http::test::TestClient control(r.port);
  REQUIRE(control.send(Running::request_bytes("/control/halt", "Bearer tok", "")));
  // The control request is now pending on the trading thread; the HTTP thread is free.
  for (int i = 0; i < 3; ++i) {
    http::test::TestClient health(r.port);
    REQUIRE(health.send("GET /health HTTP/1.1\r\nHost: test\r\n\r\n"));
    const auto answer = health.read_response();
    REQUIRE(answer);
    CHECK(answer->status == 200);
  }
  CHECK(control.buffered().empty());
  release.set_value();
  const auto halted = control.read_response();
  REQUIRE(halted);
  CHECK(halted->status == 200);
  CHECK(halted->body.find("\"ok\":true") != std::string::npos);
  CHECK(r.server->stats().deferred_requests == 1);
}
