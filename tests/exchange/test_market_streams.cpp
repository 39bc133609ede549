// The live market-data path over real TLS on 127.0.0.1: MarketStreamManager against the net test
// fakes (FakeWsServer for the combined streams, FakeHttpsServer for REST) serving the real
// BTCUSDT capture. A reference pipeline in the test plays the exchange: it sees every diff the
// "exchange" publishes (including ones the client never gets) and its book is what REST depth
// snapshots return, so after drops, gaps and silence the client's book must equal it at the
// same update id.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "fakes/fake_binance_exchange.hpp"
#include "fakes/fake_binance_rest.hpp"
#include "net/test_support.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/market_streams.hpp"
#include "tradingbot/exchange/binance/rest_client.hpp"
#include "tradingbot/market/capture.hpp"

using namespace tb;
using namespace tb::binance;
using tb::net::test::client_tls;
using tb::net::test::pki;
using tb::net::test::run_until;
using namespace std::chrono_literals;

using namespace tb::binance::test;

namespace {

MarketStreamOptions test_options(const FakeExchange& ex) {
  MarketStreamOptions o;
  o.ws.ws.host = "127.0.0.1";
  o.ws.ws.port = ex.ws.port();
  o.ws.ws.liveness_timeout = 0;
  o.ws.backoff = net::BackoffOptions{50 * kNanosPerMilli, 200 * kNanosPerMilli, 0, 2.0};
  o.rest_host = "127.0.0.1";
  o.rest_port = ex.rest.port();
  o.symbols = {kBtc};
  o.streams = {"depth@100ms", "bookTicker", "trade"};
  o.depth_snapshot_limit = 5000;
  o.stale_after = 300 * kNanosPerMilli;
  o.close_after = 300 * kNanosPerMilli;
  o.poll_interval = 100 * kNanosPerMilli;
  o.tick = 20 * kNanosPerMilli;
  o.snapshot_backoff = net::BackoffOptions{20 * kNanosPerMilli, 100 * kNanosPerMilli, 0, 2.0};
  return o;
}

MarketDataPipeline::Options client_pipeline_options() {
  MarketDataPipeline::Options o;
  o.symbols = {kBtc};
  return o;
}

bool synced(const MarketDataPipeline& p) {
  const auto* s = p.synchronizer(kBtc);
  return s != nullptr && s->stats().synced;
}

// Publishes in small steps, letting the client run, until `done` or the capture runs out.
bool publish_until(boost::asio::io_context& ioc, FakeExchange& ex, const std::function<bool()>& done,
                   std::size_t step = 20) {
  for (int i = 0; i < 400 && !done(); ++i) {
    ex.publish(step);
    tb::net::test::run_for(ioc, 10ms);
  }
  return done();
}

// Lets the client catch up with everything published, then compares the books.
void require_book_equals_exchange(boost::asio::io_context& ioc, FakeExchange& ex, const MarketDataPipeline& client) {
  REQUIRE(run_until(ioc, [&] { return synced(client) && client.book(kBtc)->update_id() == ex.exchange_update_id(); }));
  std::vector<book::BookLevel> mine(200);
  std::vector<book::BookLevel> theirs(200);
  for (const auto side : {book::BookSide::Bid, book::BookSide::Ask}) {
    const std::size_t a = client.book(kBtc)->top(side, mine);
    const std::size_t b = ex.reference.book(kBtc)->top(side, theirs);
    REQUIRE(a == b);
    REQUIRE(a > 0);
    for (std::size_t i = 0; i < a; ++i) REQUIRE(mine[i] == theirs[i]);
  }
  REQUIRE_FALSE(client.book(kBtc)->crossed());
}

bool have_capture() {
  if (std::filesystem::exists(kCapture)) return true;
  WARN("skipped: " << kCapture << " is missing");
  return false;
}

}  // namespace

TEST_CASE("stream names, combined targets and control messages follow Binance's rules", "[exchange][streams]") {
  const std::vector<Symbol> symbols{kBtc, *Symbol::parse("ETHUSDT")};
  const std::vector<std::string> streams{"bookTicker", "depth@100ms"};
  const auto names = stream_names(symbols, streams);
  REQUIRE(names == std::vector<std::string>{"btcusdt@bookTicker", "btcusdt@depth@100ms", "ethusdt@bookTicker",
                                            "ethusdt@depth@100ms"});
  REQUIRE(combined_stream_target("", names) ==
          "/stream?streams=btcusdt@bookTicker/btcusdt@depth@100ms/ethusdt@bookTicker/ethusdt@depth@100ms");
  REQUIRE(control_message("SUBSCRIBE", std::span(names).first(2), 7) ==
          R"({"method":"SUBSCRIBE","params":["btcusdt@bookTicker","btcusdt@depth@100ms"],"id":7})");

  // 1024 streams per connection at most: 1500 streams need two connections.
  std::vector<Symbol> many;
  for (int i = 0; i < 750; ++i) many.push_back(*Symbol::parse("S" + std::to_string(i) + "USDT"));
  const auto all = stream_names(many, streams);
  REQUIRE(all.size() == 1500);
  const auto groups = partition_streams(all, kMaxStreamsPerConnection);
  REQUIRE(groups.size() == 2);
  REQUIRE(groups[0].size() == 1024);
  REQUIRE(groups[1].size() == 476);
  REQUIRE(groups[1].front() == all[1024]);
}

TEST_CASE("live streams: connect, sync, follow; drop => unsynced => resynced; skipped diff => gap => resync",
          "[exchange][streams][tls]") {
  if (!have_capture()) return;
  boost::asio::io_context ioc;
  FakeExchange ex(ioc);
  MarketDataPipeline client(client_pipeline_options());
  MarketStreamManager manager(ioc, client_tls(), test_options(ex), client);
  manager.start();
  REQUIRE(run_until(ioc, [&] { return ex.ws.accepts == 1 && !ex.ws.sessions.empty() && ex.ws.sessions[0]->open; }));

  // Connect, sync, follow.
  REQUIRE(publish_until(ioc, ex, [&] { return synced(client); }));
  ex.publish(300);
  // The diffs' deep levels wait in the book and are applied when the trading thread is idle,
  // with no read asking for them (a read would apply them itself).
  REQUIRE(run_until(ioc, [&] { return client.book(kBtc)->update_id() == ex.exchange_update_id(); }));
  REQUIRE(run_until(ioc, [&] { return !client.has_deferred_book_levels(); }));
  CHECK(client.book(kBtc)->deferred_levels() == 0);
  require_book_equals_exchange(ioc, ex, client);
  const auto stats = client.symbol_stats(kBtc);
  REQUIRE(stats->book_ticker_checks > 0);
  REQUIRE(stats->book_ticker_mismatches == 0);
  REQUIRE(manager.feed_state(kBtc) == FeedState::closed);
  const auto streams = manager.stream_stats();
  REQUIRE(streams.size() == 3);
  for (const auto& s : streams) REQUIRE(s.messages > 0);  // every stream is delivering

  // Drop the connection: the book is unsynced at once, then resynced from a new snapshot.
  const auto resyncs_before = client.synchronizer(kBtc)->stats().resyncs;
  ex.ws.sessions[0]->drop();
  REQUIRE(run_until(ioc, [&] { return !synced(client); }));
  REQUIRE(run_until(ioc, [&] { return ex.ws.accepts == 2 && ex.ws.sessions[1]->open; }));
  const int depth_requests_before = ex.depth_requests;
  REQUIRE(publish_until(ioc, ex, [&] { return synced(client); }));
  REQUIRE(ex.depth_requests > depth_requests_before);
  REQUIRE(client.synchronizer(kBtc)->stats().resyncs > resyncs_before);
  ex.publish(100);
  require_book_equals_exchange(ioc, ex, client);
  REQUIRE(manager.connection_stats().at(0).disconnects == 1);

  // A diff the client never receives: gap, resync, and the book is right again.
  const auto gaps_before = client.synchronizer(kBtc)->stats().gaps;
  ex.publish(60, 1);  // the next diff after the lost one reveals the gap
  REQUIRE(publish_until(ioc, ex, [&] { return client.synchronizer(kBtc)->stats().gaps == gaps_before + 1; }, 5));
  REQUIRE(publish_until(ioc, ex, [&] { return synced(client); }));
  ex.publish(100);
  require_book_equals_exchange(ioc, ex, client);
  manager.stop();
  tb::net::test::run_for(ioc, 50ms);
}

TEST_CASE("live streams: a 418 on a market-data snapshot stops the order path's REST too (one per-IP budget)",
          "[exchange][streams][rest]") {
  if (!have_capture()) return;
  boost::asio::io_context ioc;
  FakeExchange ex(ioc);
  // The first depth snapshot request is answered like Binance answers a banned IP.
  const auto normal = ex.rest.responder;
  int bans_sent = 0;
  std::vector<Nanos> depth_asked_after_ban;
  ex.rest.responder = [&](const FakeHttpsServer::Request& req, FakeHttpsServer::Response& res, int connection) {
    if (req.target().starts_with("/api/v3/depth") && bans_sent > 0) depth_asked_after_ban.push_back(monotonic_ns());
    if (bans_sent == 0 && req.target().starts_with("/api/v3/depth")) {
      ++bans_sent;
      res.result(418);
      res.set("Retry-After", "2");
      res.body() = R"({"code":-1003,"msg":"Way too many requests; IP banned until 1712345678000."})";
      return FakeHttpsServer::Reply::Send;
    }
    return normal(req, res, connection);
  };
  // The order path: a RestClient on its own (Binance-like) server, sharing the daemon's tracker.
  auto shared = std::make_shared<RateLimitTracker>();
  FakeBinanceRest order_server(ioc, server_tls(pki().localhost), "key", "secret");
  RequestSigner signer(HmacSha256Signer("secret"));
  RestClientOptions ro;
  ro.host = "localhost";
  ro.connect_host = "127.0.0.1";
  ro.port = order_server.port();
  ro.time_sync_interval = 0;
  ro.exchange_info_interval = 0;
  ro.rate_limits = shared;
  auto rest = RestClient::create(ioc, client_tls(), ro, &signer, "key");
  std::optional<RestReadiness> started;
  rest->start([&](RestReadiness r) { started = r; });
  REQUIRE(run_until(ioc, [&] { return started.has_value(); }));
  REQUIRE(*started == RestReadiness::Ready);

  MarketDataPipeline client(client_pipeline_options());
  MarketStreamOptions options = test_options(ex);
  options.rate_limits = shared;
  MarketStreamManager manager(ioc, client_tls(), options, client);
  manager.start();
  REQUIRE(publish_until(ioc, ex, [&] { return bans_sent == 1; }));
  const Nanos banned_at = monotonic_ns();
  REQUIRE(run_until(ioc, [&] { return rest->readiness() == RestReadiness::Banned; }, 1s));

  // The order path sends nothing while the IP is banned: a request that cannot wait fails unsent.
  const std::size_t order_requests = order_server.received.size();
  RestCall time_call;
  time_call.path = "/api/v3/time";
  time_call.endpoint = Endpoint::Time;
  time_call.timeout = 300 * kNanosPerMilli;
  std::optional<RestResult> refused;
  rest->call(time_call, [&](RestResult& r) { refused = std::move(r); });
  REQUIRE(run_until(ioc, [&] { return refused.has_value(); }));
  CHECK(refused->outcome == RestOutcome::NotSent);
  CHECK(refused->not_sent == NotSentReason::Banned);
  CHECK(order_server.received.size() == order_requests);
  // Market data asks for no snapshot either until the ban is over (Retry-After 2 s, counted from
  // the answer, a little before banned_at), then syncs.
  tb::net::test::run_for(ioc, 2500ms);
  REQUIRE_FALSE(depth_asked_after_ban.empty());
  CHECK(depth_asked_after_ban.front() - banned_at >= 1800 * kNanosPerMilli);
  REQUIRE(publish_until(ioc, ex, [&] { return synced(client); }));
  // And the order path is back too.
  time_call.timeout = 3 * kNanosPerSecond;
  std::optional<RestResult> answered;
  rest->call(time_call, [&](RestResult& r) { answered = std::move(r); });
  REQUIRE(run_until(ioc, [&] { return answered.has_value(); }));
  CHECK(answered->ok());
  manager.stop();
  rest->stop();
  tb::net::test::run_for(ioc, 50ms);
}

TEST_CASE("live streams: silence opens the breaker, REST bookTicker feeds the cache, the stream closes it",
          "[exchange][streams][tls][breaker]") {
  if (!have_capture()) return;
  boost::asio::io_context ioc;
  FakeExchange ex(ioc);
  MarketDataPipeline client(client_pipeline_options());
  MarketStreamManager manager(ioc, client_tls(), test_options(ex), client);
  manager.start();
  REQUIRE(run_until(ioc, [&] { return !ex.ws.sessions.empty() && ex.ws.sessions[0]->open; }));
  REQUIRE(publish_until(ioc, ex, [&] { return synced(client); }));
  REQUIRE(manager.feed_state(kBtc) == FeedState::closed);
  REQUIRE(ex.ticker_requests == 0);

  // Silence: stale after 300 ms => open => REST polling puts the ticker in the cache.
  REQUIRE(run_until(ioc, [&] { return manager.feed_state(kBtc) == FeedState::open; }));
  REQUIRE(run_until(ioc, [&] {
    const market::PriceEntry* entry = client.price_cache().peek(kBtc);
    return entry != nullptr && entry->quote.source == market::PriceSource::Rest;
  }));
  REQUIRE(ex.ticker_requests >= 1);
  const market::PriceEntry* entry = client.price_cache().peek(kBtc);
  REQUIRE(entry->quote.bid_price == *Price::parse("61000.01"));
  REQUIRE(entry->quote.ask_qty == *Qty::parse("2.25"));

  // The stream returns: half_open while it proves itself, then closed; polling stops.
  bool saw_half_open = false;
  REQUIRE(publish_until(
      ioc, ex,
      [&] {
        saw_half_open = saw_half_open || manager.feed_state(kBtc) == FeedState::half_open;
        return manager.feed_state(kBtc) == FeedState::closed;
      },
      5));
  REQUIRE(saw_half_open);
  const int polls_after_close = ex.ticker_requests;
  for (int i = 0; i < 40; ++i) {  // 400 ms of a live stream: four poll intervals
    ex.publish(5);
    tb::net::test::run_for(ioc, 10ms);
  }
  REQUIRE(ex.ticker_requests <= polls_after_close + 1);  // at most the one in flight at the switch
  const auto feeds = manager.symbol_stats();
  REQUIRE(feeds.at(0).breaker_trips == 1);
  REQUIRE(feeds.at(0).rest_polls >= 1);
  manager.stop();
  tb::net::test::run_for(ioc, 50ms);
}

TEST_CASE("live streams: rotation and serverShutdown switch connections without a resync", "[exchange][streams][tls]") {
  if (!have_capture()) return;
  boost::asio::io_context ioc;
  FakeExchange ex(ioc);
  MarketDataPipeline client(client_pipeline_options());
  MarketStreamManager manager(ioc, client_tls(), test_options(ex), client);
  manager.start();
  REQUIRE(run_until(ioc, [&] { return !ex.ws.sessions.empty() && ex.ws.sessions[0]->open; }));
  REQUIRE(publish_until(ioc, ex, [&] { return synced(client); }));
  ex.publish(50);
  require_book_equals_exchange(ioc, ex, client);
  const auto resyncs = client.synchronizer(kBtc)->stats().resyncs;

  // Proactive rotation (as at the 24 h cut): a second connection, switch on its first message.
  manager.rotate_all();
  REQUIRE(run_until(ioc, [&] { return ex.ws.sessions.size() == 2 && ex.ws.sessions[1]->open; }));
  ex.publish(50);  // both connections get the broadcast
  REQUIRE(run_until(ioc, [&] { return ex.ws.sessions[0]->closed; }));
  REQUIRE(manager.connection_stats().at(0).rotations == 1);
  ex.publish(50);
  require_book_equals_exchange(ioc, ex, client);

  // serverShutdown: the same switch, triggered by the exchange.
  ex.ws.broadcast(R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1770123456789}})");
  REQUIRE(run_until(ioc, [&] { return ex.ws.sessions.size() == 3 && ex.ws.sessions[2]->open; }));
  ex.publish(50);
  REQUIRE(run_until(ioc, [&] { return ex.ws.sessions[1]->closed; }));
  ex.publish(50);
  require_book_equals_exchange(ioc, ex, client);
  REQUIRE(manager.connection_stats().at(0).server_shutdowns == 1);
  REQUIRE(manager.connection_stats().at(0).rotations == 2);
  REQUIRE(client.synchronizer(kBtc)->stats().resyncs == resyncs);
  REQUIRE(manager.connection_stats().at(0).disconnects == 0);
  manager.stop();
  tb::net::test::run_for(ioc, 50ms);
}

TEST_CASE("live streams: a wrong-host certificate and an unknown CA are refused", "[exchange][streams][tls]") {
  if (!have_capture()) return;
  for (const auto* cert : {&pki().wrong_host, &pki().unknown_ca_localhost}) {
    boost::asio::io_context ioc;
    FakeExchange ex(ioc, *cert);
    MarketDataPipeline client(client_pipeline_options());
    // Only the private CA: the unknown CA must not be rescued by the system store either.
    auto tls = tb::net::test::must(net::make_client_tls_context(net::TlsClientOptions{pki().ca_file.string(), false}));
    MarketStreamManager manager(ioc, tls, test_options(ex), client);
    manager.start();
    REQUIRE(run_until(ioc, [&] { return manager.connection_stats().at(0).disconnects >= 2; }));
    const auto conn = manager.connection_stats().at(0);
    REQUIRE_FALSE(conn.up);
    REQUIRE(conn.connects == 0);
    REQUIRE(conn.last_disconnect.find("connect_failed") != std::string::npos);
    REQUIRE_FALSE(synced(client));
    REQUIRE(ex.depth_requests == 0);
    manager.stop();
    tb::net::test::run_for(ioc, 50ms);
  }
}

TEST_CASE("live streams: runtime subscribe and unsubscribe are sent as paced control messages",
          "[exchange][streams][tls]") {
  if (!have_capture()) return;
  boost::asio::io_context ioc;
  FakeExchange ex(ioc);
  MarketDataPipeline client(client_pipeline_options());
  MarketStreamManager manager(ioc, client_tls(), test_options(ex), client);
  manager.start();
  REQUIRE(run_until(ioc, [&] { return !ex.ws.sessions.empty() && ex.ws.sessions[0]->open; }));
  manager.update_subscriptions({kBtc}, {"depth@100ms", "aggTrade"});
  REQUIRE(run_until(ioc, [&] { return ex.ws.sessions[0]->events.size() >= 2; }));
  const auto& events = ex.ws.sessions[0]->events;
  REQUIRE(events[0].payload.find(R"("method":"UNSUBSCRIBE","params":["btcusdt@bookTicker","btcusdt@trade"])") !=
          std::string::npos);
  REQUIRE(events[1].payload.find(R"("method":"SUBSCRIBE","params":["btcusdt@aggTrade"])") != std::string::npos);
  const auto streams = manager.stream_stats();
  REQUIRE(streams.size() == 2);

  // After a reconnect the URL still names the old streams: the same deltas are sent again.
  ex.ws.sessions[0]->drop();
  REQUIRE(run_until(ioc, [&] { return ex.ws.sessions.size() == 2 && ex.ws.sessions[1]->events.size() >= 2; }));
  REQUIRE(ex.ws.sessions[1]->events[0].payload.find("UNSUBSCRIBE") != std::string::npos);
  REQUIRE(ex.ws.sessions[1]->events[1].payload.find("\"SUBSCRIBE\"") != std::string::npos);
  manager.stop();
  tb::net::test::run_for(ioc, 50ms);
}
