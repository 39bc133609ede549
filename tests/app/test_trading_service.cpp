// Control endpoints of the trading service: token checks, the hop to the trading thread, and
// manual orders through the same risk gate and order manager (dispatched through the real Router;
// the socket side of the server is covered by tests/http).
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "tradingbot/app/trading_service.hpp"
#include "tradingbot/trading/paper_session.hpp"

using namespace tb;

namespace {
struct Running {
  boost::asio::io_context trading;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard{trading.get_executor()};
  std::unique_ptr<app::TradingService> service;
  http::Router router;
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
    service->add_control_endpoints(router);
    service->start();
    thread = std::thread([this] { trading.run(); });
  }
  ~Running() {
    boost::asio::post(trading, [this] { service->stop(); });
    guard.reset();
    thread.join();
  }
  http::Response post(std::string_view path, std::string_view auth, std::string_view body = "") {
    http::Request request;
    request.reset("POST", path, 11, true, body);
    if (!auth.empty()) request.add_header("Authorization", auth);
    request.set_remote("127.0.0.1", 40000);
    http::Response response;
    (void)router.dispatch(request, response);
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
