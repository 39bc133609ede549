// The daemon's market-data wiring end to end over real TLS on 127.0.0.1: MarketDataService (the
// code daemon.cpp calls) against the fake exchange, its status rendered by the daemon's HTTP
// server (/book, /price, /ready, /status, /metrics), and `tradingbot record` writing a capture
// that `tradingbot replay` then reads back.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "fakes/fake_binance_exchange.hpp"
#include "http/http_test_client.hpp"
#include "net/test_support.hpp"
#include "tradingbot/app/market_data_service.hpp"
#include "tradingbot/app/record.hpp"
#include "tradingbot/app/status.hpp"
#include "tradingbot/app/status_endpoints.hpp"
#include "tradingbot/exchange/binance/market_streams.hpp"
#include "tradingbot/exchange/binance/replay.hpp"
#include "tradingbot/http/server.hpp"

using namespace tb;
using namespace tb::binance::test;
using tb::net::test::pki;
using tb::net::test::run_until;
using namespace std::chrono_literals;

namespace {

config::Config test_config(const FakeExchange& ex, std::string_view extra = {}) {
  std::string toml = "[exchange]\nrest_url = \"https://127.0.0.1:" + std::to_string(ex.rest.port()) +
                     "\"\nws_url = \"wss://127.0.0.1:" + std::to_string(ex.ws.port()) + "\"\nca_file = \"" +
                     pki().ca_file.string() +
                     "\"\n[market]\nsymbols = [\"BTCUSDT\"]\nstreams = [\"depth@100ms\", \"bookTicker\", \"trade\"]\n"
                     "stale_after_ms = 300\nprice_cache_ttl_ms = 500\n[trading]\n"
                     "mode = \"off\"\n";
  toml += extra;
  auto cfg = config::parse_config(toml, "test.toml");
  if (!cfg) FAIL(cfg.error().message);
  config::Config out = std::move(cfg).value();
  out.http.listen_port = 0;  // any free port (the config itself requires 1..65535)
  return out;
}

void shorten(binance::MarketStreamOptions& o) {
  o.ws.ws.liveness_timeout = 0;
  o.ws.backoff = net::BackoffOptions{50 * kNanosPerMilli, 200 * kNanosPerMilli, 0, 2.0};
  o.close_after = 300 * kNanosPerMilli;
  o.poll_interval = 100 * kNanosPerMilli;
  o.tick = 20 * kNanosPerMilli;
}

http::test::TestResponse get(std::uint16_t port, const std::string& target) {
  http::test::TestClient client(port);
  REQUIRE(client.send("GET " + target + " HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto response = client.read_response();
  REQUIRE(response.has_value());
  return *response;
}

}  // namespace

TEST_CASE("daemon market data: /ready, /book, /price, /status and /metrics from live streams",
          "[app][market][tls]") {
  if (!std::filesystem::exists(kCapture)) {
    WARN("skipped: " << kCapture << " is missing");
    return;
  }
  boost::asio::io_context ioc;
  FakeExchange ex(ioc);
  const config::Config cfg = test_config(ex);
  app::MarketDataService service(ioc, cfg);
  REQUIRE(static_cast<bool>(service.start(shorten)));

  Published<app::DaemonStatus> published;
  app::LoopHeartbeat heartbeat;
  auto publish = [&] {
    auto status = std::make_shared<app::DaemonStatus>();
    service.fill_status(*status);
    published.publish(std::move(status));
    heartbeat.last_beat_mono_ns.store(monotonic_ns());
  };
  publish();
  http::Router router;
  app::add_status_endpoints(router, app::StatusSources{&published, &heartbeat, {}});
  app::add_market_data_endpoints(router, &published, &service);
  http::Server server(cfg.http, std::move(router));
  const auto port_result = server.start();
  REQUIRE(static_cast<bool>(port_result));
  const std::uint16_t port = port_result.value();

  // Before any data: 503 with a per-symbol reason; /book not synced; unknown symbol 404.
  auto ready = get(port, "/ready");
  REQUIRE(ready.status == 503);
  REQUIRE(ready.body.find("BTCUSDT: book not synced") != std::string::npos);
  REQUIRE(get(port, "/book/BTCUSDT").status == 503);
  REQUIRE(get(port, "/book/DOGEUSDT").status == 404);
  REQUIRE(get(port, "/price/DOGEUSDT").status == 404);

  // Live: synced and fresh => 200.
  auto live = [&](int steps) {
    for (int i = 0; i < steps; ++i) {
      ex.publish(10);
      tb::net::test::run_for(ioc, 10ms);
      publish();
    }
  };
  REQUIRE(run_until(ioc, [&] { return !ex.ws.sessions.empty() && ex.ws.sessions[0]->open; }));
  for (int i = 0; i < 300 && service.pipeline().book(kBtc)->update_id() == 0; ++i) live(1);
  live(20);
  ready = get(port, "/ready");
  INFO(ready.body);
  REQUIRE(ready.status == 200);

  // /book: best first, exact decimals, depth bounded; equal to the book it was published from.
  const auto book = get(port, "/book/BTCUSDT?depth=5");
  REQUIRE(book.status == 200);
  const auto* published_btc = published.load()->market.find(kBtc);
  REQUIRE(published_btc != nullptr);
  std::string expected = "{\"symbol\":\"BTCUSDT\",\"last_update_id\":" + std::to_string(published_btc->last_update_id) +
                         ",\"bids\":[";
  for (int side = 0; side < 2; ++side) {
    const auto& levels = side == 0 ? published_btc->bids : published_btc->asks;
    for (std::size_t i = 0; i < 5; ++i) {
      if (i > 0) expected += ',';
      expected += "[\"" + levels[i].price.to_string() + "\",\"" + levels[i].qty.to_string() + "\"]";
    }
    expected += side == 0 ? "],\"asks\":[" : "]}";
  }
  REQUIRE(book.body == expected);
  REQUIRE(published_btc->bids[0].price < published_btc->asks[0].price);
  REQUIRE(get(port, "/book/btcusdt?depth=1").status == 200);
  REQUIRE(get(port, "/book/BTCUSDT?depth=0").status == 400);
  REQUIRE(get(port, "/book/BTCUSDT?depth=101").status == 400);
  REQUIRE(get(port, "/book/BTCUSDT?depth=abc").status == 400);

  // /price from the stream.
  auto price = get(port, "/price/BTCUSDT");
  REQUIRE(price.status == 200);
  REQUIRE(price.body.find("\"source\":\"ws\"") != std::string::npos);

  // Silence: breaker opens, /ready says why, REST polling feeds /price with source rest.
  REQUIRE(run_until(ioc, [&] {
    publish();
    return service.streams()->feed_state(kBtc) == binance::FeedState::open;
  }));
  publish();
  ready = get(port, "/ready");
  REQUIRE(ready.status == 503);
  REQUIRE(ready.body.find("BTCUSDT: market data stale") != std::string::npos);
  REQUIRE(run_until(ioc, [&] {
    publish();
    const auto* s = published.load()->market.find(kBtc);
    return s->has_quote && s->quote.quote.source == market::PriceSource::Rest;
  }));
  price = get(port, "/price/BTCUSDT");
  REQUIRE(price.status == 200);
  REQUIRE(price.body.find("\"bid\":\"61000.01\"") != std::string::npos);
  REQUIRE(price.body.find("\"source\":\"rest\"") != std::string::npos);
  const auto status = get(port, "/status");
  REQUIRE(status.body.find("\"breaker\":\"open\"") != std::string::npos);
  const auto metrics = get(port, "/metrics");
  REQUIRE(metrics.body.find("tradingbot_market_breaker_state{symbol=\"BTCUSDT\"} 2") != std::string::npos);
  REQUIRE(metrics.body.find("tradingbot_price_cache_size 1") != std::string::npos);
  REQUIRE(metrics.body.find("tradingbot_book_deferred_levels{symbol=\"BTCUSDT\"} ") != std::string::npos);
  REQUIRE(metrics.body.find("tradingbot_book_deferred_overflows_total{symbol=\"BTCUSDT\"} ") != std::string::npos);
  REQUIRE(status.body.find("\"deferred_levels\":") != std::string::npos);

  // The stream returns: closed again and ready.
  for (int i = 0; i < 200 && service.streams()->feed_state(kBtc) != binance::FeedState::closed; ++i) live(1);
  REQUIRE(service.streams()->feed_state(kBtc) == binance::FeedState::closed);
  live(5);
  REQUIRE(get(port, "/ready").status == 200);
  REQUIRE(get(port, "/metrics").body.find("tradingbot_market_breaker_state{symbol=\"BTCUSDT\"} 0") != std::string::npos);

  server.stop();
  service.stop();
  tb::net::test::run_for(ioc, 50ms);
}

TEST_CASE("tradingbot record writes what replay reads back", "[app][market][tls][record]") {
  if (!std::filesystem::exists(kCapture)) {
    WARN("skipped: " << kCapture << " is missing");
    return;
  }
  // The exchange runs on its own thread: run_record blocks the test thread like the CLI does.
  boost::asio::io_context exchange_ioc;
  FakeExchange ex(exchange_ioc);
  auto guard = boost::asio::make_work_guard(exchange_ioc);
  std::atomic<std::size_t> published_frames{0};
  boost::asio::steady_timer pace(exchange_ioc);
  std::function<void()> tick = [&] {
    if (!ex.ws.sessions.empty() && ex.ws.sessions.back()->open && ex.position < 1500) {
      ex.publish(20);
      published_frames = ex.position;
    }
    pace.expires_after(10ms);
    pace.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) tick();
    });
  };
  boost::asio::post(exchange_ioc, tick);
  std::thread exchange_thread([&] { exchange_ioc.run(); });

  const auto out = std::filesystem::temp_directory_path() / ("tb-record-" + std::to_string(::getpid()) + ".capture.gz");
  const config::Config cfg = test_config(ex);
  app::RecordResult result;
  const int rc = app::run_record(cfg, out.string(), 1500 * kNanosPerMilli, &result, shorten);
  boost::asio::post(exchange_ioc, [&] {
    pace.cancel();
    ex.ws.stop();
    guard.reset();
    exchange_ioc.stop();
  });
  exchange_thread.join();

  REQUIRE(rc == 0);
  REQUIRE(result.frames > 100);
  REQUIRE(result.snapshots >= 1);
  REQUIRE(result.write_errors == 0);

  // Every line is a received frame or a snapshot; replay syncs from them with no gap.
  auto summary = binance::run_replay(cfg, {out.string()}, std::nullopt);
  REQUIRE(static_cast<bool>(summary));
  REQUIRE(summary.value().messages == result.frames + result.snapshots);
  REQUIRE(summary.value().symbols.size() == 1);
  const auto& btc = summary.value().symbols[0];
  REQUIRE(btc.synced);
  REQUIRE(btc.gaps == 0);
  REQUIRE(btc.crossed == 0);
  REQUIRE(btc.book_ticker_mismatches == 0);
  std::filesystem::remove(out);
}
