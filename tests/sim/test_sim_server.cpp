// The simulator over real TLS on 127.0.0.1, driven by the project's own clients
// (HttpsConnectionPool, WebSocketClient, StreamDecoder): public REST, weights and bans, combined
// streams and Binance's snapshot + diff procedure, SUBSCRIBE and the 5 msg/s rule, server pings,
// the connection cut with serverShutdown, and the admin fault switches. Everything runs on the
// test's io_context (the simulator's one thread); every wait is bounded.
#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <catch2/catch.hpp>

#include "net/test_support.hpp"
#include "tradingbot/exchange/binance/rest_request.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/exchange/binance/stream_decoder.hpp"
#include "tradingbot/exchange/binance/ws_api_request.hpp"
#include "tradingbot/net/https_pool.hpp"
#include "tradingbot/net/websocket_client.hpp"
#include "tradingbot/sim/sim_server.hpp"

namespace {

using namespace std::chrono_literals;
namespace http = boost::beast::http;
using tb::net::test::run_until;

const char* kConfig = R"(
listen = "127.0.0.1:0"
seed = 9
agent_step_ms = 20
ping_interval_ms = 300
pong_timeout_ms = 5000

[[sim.symbols]]
symbol = "BTCUSDT"
base_asset = "BTC"
quote_asset = "USDT"
start_price = "61837.63"
orders_per_s = 300
typical_qty = "0.05"
[[sim.api_keys]]
api_key = "hmac-key"
secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
balances = { USDT = "100000", BTC = "1" }
)";

struct SimFixture {
  explicit SimFixture(const std::string& extra = "", const std::string& tables = "") {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() / ("tb-sim-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    auto cfg = tb::sim::parse_sim_config("[sim]\n" + extra + kConfig + tables, "test");
    if (!cfg) FAIL(cfg.error().message);
    cfg.value().cert_dir = (dir / "pki").string();
    std::string ca_file;
    auto tls = tb::sim::make_sim_tls(cfg.value().cert_dir, ca_file);
    REQUIRE(tls.ok());
    server = std::make_unique<tb::sim::SimServer>(ioc, cfg.value(), tls.value());
    auto bound = server->start();
    REQUIRE(bound.ok());
    port = bound.value();
    client_tls = tb::net::test::must(tb::net::make_client_tls_context({ca_file, false}));
    pool = tb::net::HttpsConnectionPool::create(ioc, client_tls);
  }
  ~SimFixture() {
    // The handlers point at the test's locals, which are already gone: detach them before the
    // server's stop closes the connections.
    for (const auto& client : clients) {
      client->on_message({});
      client->on_closed({});
    }
    pool->shutdown();
    server->stop();
    tb::net::test::run_for(ioc, 20ms);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  tb::net::HttpsResult get(const std::string& target, http::verb verb = http::verb::get, const std::string& api_key = "",
                           const std::string& body = "") {
    tb::net::HttpsRequest request;
    if (!api_key.empty()) request.headers.emplace_back("X-MBX-APIKEY", api_key);
    if (!body.empty()) {
      request.body = body;
      request.content_type = "application/x-www-form-urlencoded";
    }
    request.method = verb;
    request.host = "127.0.0.1";
    request.port = port;
    request.target = target;
    request.timeout = 3 * tb::kNanosPerSecond;
    std::optional<tb::net::HttpsResult> result;
    pool->request(request, [&](tb::net::HttpsResult& r) { result = std::move(r); });
    REQUIRE(run_until(ioc, [&] { return result.has_value(); }));
    return std::move(*result);
  }

  std::shared_ptr<tb::net::WebSocketClient> ws(const std::string& target, std::vector<std::string>& received,
                                               std::optional<tb::net::CloseReason>& closed) {
    tb::net::WebSocketOptions options;
    options.host = "127.0.0.1";
    options.port = port;
    options.target = target;
    options.control_max_per_window = 0;  // tests decide the pace themselves
    auto client = tb::net::WebSocketClient::create(ioc, client_tls, options);
    client->on_message([&received](const tb::net::WsMessage& m) { received.emplace_back(m.payload); });
    client->on_closed([&closed](const tb::net::CloseReason& r) { closed = r; });
    client->connect();
    clients.push_back(client);
    return client;
  }

  boost::asio::io_context ioc;
  std::filesystem::path dir;
  std::unique_ptr<tb::sim::SimServer> server;
  std::uint16_t port = 0;
  tb::net::TlsContextPtr client_tls;
  std::shared_ptr<tb::net::HttpsConnectionPool> pool;
  std::vector<std::shared_ptr<tb::net::WebSocketClient>> clients;
};

std::string header(const tb::net::HttpsResult& r, std::string_view name) {
  auto it = r.response.find(name);
  return it == r.response.end() ? std::string() : std::string(it->value());
}

}  // namespace

TEST_CASE("sim REST: public endpoints, weights header and Binance errors", "[sim]") {
  SimFixture f;
  auto ping = f.get("/api/v3/ping");
  REQUIRE(ping.ok());
  CHECK(ping.response.result_int() == 200);
  CHECK(ping.response.body() == "{}");
  CHECK(header(ping, "X-MBX-USED-WEIGHT-1M") == "1");

  auto time = f.get("/api/v3/time");
  CHECK(time.response.body().rfind(R"({"serverTime":)", 0) == 0);

  auto info = f.get("/api/v3/exchangeInfo?symbol=BTCUSDT");
  CHECK(info.response.result_int() == 200);
  CHECK(info.response.body().find(R"("filterType":"PRICE_FILTER","minPrice":"0.01000000")") != std::string::npos);
  CHECK(info.response.body().find(R"("tickSize":"0.01000000")") != std::string::npos);
  CHECK(header(info, "X-MBX-USED-WEIGHT-1M") == "22");

  auto depth = f.get("/api/v3/depth?symbol=BTCUSDT&limit=5");
  CHECK(depth.response.result_int() == 200);
  tb::binance::StreamDecoder decoder;
  tb::binance::DecodedMessage m;
  REQUIRE(decoder.decode_depth_snapshot(depth.response.body(), *tb::Symbol::parse("BTCUSDT"), m) == tb::binance::DecodeStatus::Ok);
  CHECK(m.depth_snapshot.bids.size() == 5);
  CHECK(m.depth_snapshot.bids[0].price < m.depth_snapshot.asks[0].price);

  auto bad_symbol = f.get("/api/v3/depth?symbol=NOPE");
  CHECK(bad_symbol.response.result_int() == 400);
  CHECK(bad_symbol.response.body() == R"({"code":-1121,"msg":"Invalid symbol."})");
  auto no_symbol = f.get("/api/v3/ticker/price?symbols=%5B%22BTCUSDT%22%5D");
  CHECK(no_symbol.response.result_int() == 200);
  CHECK(no_symbol.response.body().rfind(R"([{"symbol":"BTCUSDT","price":")", 0) == 0);
  auto missing = f.get("/api/v3/klines?interval=1m");
  CHECK(missing.response.body() == R"({"code":-1102,"msg":"Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."})");
  auto bad_limit = f.get("/api/v3/depth?symbol=BTCUSDT&limit=1e3");
  CHECK(bad_limit.response.body().find("-1100") != std::string::npos);
  auto klines = f.get("/api/v3/klines?symbol=BTCUSDT&interval=1s&limit=3");
  CHECK(klines.response.result_int() == 200);
  CHECK(klines.response.body().rfind("[[", 0) == 0);
  auto book = f.get("/api/v3/ticker/bookTicker?symbol=BTCUSDT");
  CHECK(book.response.body().find(R"("askQty":")") != std::string::npos);
  auto gone = f.get("/api/v3/userDataStream", http::verb::post);
  CHECK(gone.response.result_int() == 410);
}

TEST_CASE("sim REST: weight window answers 429 with Retry-After, then 418 for a client that keeps going", "[sim]") {
  SimFixture f("weight_limit_1m = 45\nban_after_429s = 1\nban_seconds = 60\n");
  CHECK(f.get("/api/v3/exchangeInfo").response.result_int() == 200);  // 20
  CHECK(f.get("/api/v3/exchangeInfo").response.result_int() == 200);  // 40
  auto limited = f.get("/api/v3/exchangeInfo");                        // 60 > 45
  // The window is a calendar minute: right at a minute boundary the count may restart once.
  if (limited.response.result_int() == 200) limited = f.get("/api/v3/exchangeInfo");
  if (limited.response.result_int() == 200) limited = f.get("/api/v3/exchangeInfo");
  REQUIRE(limited.response.result_int() == 429);
  CHECK(!header(limited, "Retry-After").empty());
  CHECK(limited.response.body().find("-1003") != std::string::npos);
  auto banned = f.get("/api/v3/ping");
  CHECK(banned.response.result_int() == 418);
  CHECK(header(banned, "Retry-After") == "60");
}

TEST_CASE("sim streams: a client following Binance's snapshot + diff procedure ends with the simulator's book", "[sim]") {
  SimFixture f;
  std::vector<std::string> frames;
  std::optional<tb::net::CloseReason> closed;
  auto client = f.ws("/stream?streams=btcusdt@depth@100ms/btcusdt@trade", frames, closed);
  REQUIRE(run_until(f.ioc, [&] { return frames.size() >= 3; }));

  tb::binance::StreamDecoder decoder;
  tb::binance::DecodedMessage m;
  auto snapshot = f.get("/api/v3/depth?symbol=BTCUSDT&limit=5000");
  REQUIRE(decoder.decode_depth_snapshot(snapshot.response.body(), *tb::Symbol::parse("BTCUSDT"), m) == tb::binance::DecodeStatus::Ok);
  std::map<std::int64_t, std::int64_t> bids;
  std::map<std::int64_t, std::int64_t> asks;
  auto apply = [](std::map<std::int64_t, std::int64_t>& side, tb::market::LevelSpan levels) {
    for (const auto& l : levels) {
      if (l.qty.is_zero()) {
        side.erase(l.price.raw());
      } else {
        side[l.price.raw()] = l.qty.raw();
      }
    }
  };
  apply(bids, m.depth_snapshot.bids);
  apply(asks, m.depth_snapshot.asks);
  std::uint64_t book_id = m.depth_snapshot.last_update_id;
  bool bridged = false;
  std::size_t trades = 0;
  std::size_t next = 0;
  auto consume = [&] {
    for (; next < frames.size(); ++next) {
      REQUIRE(decoder.decode_frame(frames[next], m) == tb::binance::DecodeStatus::Ok);
      if (m.kind == tb::binance::MessageKind::Trade) ++trades;
      if (m.kind != tb::binance::MessageKind::DepthDiff) continue;
      CHECK(m.stream == "btcusdt@depth@100ms");
      const auto& d = m.depth_diff;
      if (d.final_update_id <= book_id) continue;  // older than the snapshot
      if (!bridged) {
        REQUIRE(d.first_update_id <= book_id + 1);  // U <= lastUpdateId + 1 <= u
        bridged = true;
      } else {
        REQUIRE(d.first_update_id == book_id + 1);  // no gap
      }
      apply(bids, d.bids);
      apply(asks, d.asks);
      book_id = d.final_update_id;
    }
  };
  REQUIRE(run_until(f.ioc, [&] { consume(); return bridged && trades > 0; }, 10s));
  // Hold the book still, then wait until the client stands at the engine's update id.
  f.server->pause_agents(true);
  REQUIRE(run_until(f.ioc, [&] { consume(); return book_id == f.server->market().engine(0).update_id(); }, 5s));
  std::string want;
  f.server->market().render_depth(0, 5000, want);
  REQUIRE(decoder.decode_depth_snapshot(want, *tb::Symbol::parse("BTCUSDT"), m) == tb::binance::DecodeStatus::Ok);
  std::map<std::int64_t, std::int64_t> want_bids;
  std::map<std::int64_t, std::int64_t> want_asks;
  apply(want_bids, m.depth_snapshot.bids);
  apply(want_asks, m.depth_snapshot.asks);
  CHECK(bids == want_bids);
  CHECK(asks == want_asks);
  client->close();
}

TEST_CASE("sim streams: SUBSCRIBE, LIST_SUBSCRIPTIONS, bad requests, and the 5 messages/s cut", "[sim]") {
  SimFixture f;
  std::vector<std::string> frames;
  std::optional<tb::net::CloseReason> closed;
  auto client = f.ws("/ws", frames, closed);
  f.server->pause_agents(true);
  REQUIRE(run_until(f.ioc, [&] { return client->stats().connected_at != 0; }));
  client->send(R"({"method":"SUBSCRIBE","params":["btcusdt@trade","btcusdt@bookTicker"],"id":1})");
  REQUIRE(run_until(f.ioc, [&] { return !frames.empty(); }));
  CHECK(frames[0] == R"({"result":null,"id":1})");
  client->send(R"({"method":"LIST_SUBSCRIPTIONS","id":"ab2"})");
  REQUIRE(run_until(f.ioc, [&] { return frames.size() >= 2; }));
  CHECK(frames[1] == R"({"result":["btcusdt@bookTicker","btcusdt@trade"],"id":"ab2"})");
  client->send(R"({"method":"SUBSCRIBE","params":["btcusdt@nope"],"id":3})");
  client->send(R"({"method":"SUBSCRIBE","params":["btcusdt@trade"],"id":)");
  REQUIRE(run_until(f.ioc, [&] { return frames.size() >= 4; }));
  CHECK(frames[2].find(R"("code":2)") != std::string::npos);
  CHECK(frames[2].find(R"("id":3)") != std::string::npos);
  CHECK(frames[3].find(R"("code":3)") != std::string::npos);
  CHECK(closed == std::nullopt);
  // A burst of six messages exceeds five per second whatever the window already holds.
  for (int i = 0; i < 6; ++i) client->send(R"({"method":"LIST_SUBSCRIPTIONS","id":)" + std::to_string(10 + i) + "}");
  REQUIRE(run_until(f.ioc, [&] { return closed.has_value(); }));
  CHECK(closed->cause == tb::net::CloseCause::remote);
  CHECK(f.server->stats().ws_rate_limit_cuts == 1);
}

TEST_CASE("sim streams: server pings are answered, and the lifetime cut sends serverShutdown first", "[sim]") {
  SimFixture f("connection_lifetime_s = 1\nshutdown_notice_ms = 300\n");
  std::vector<std::string> raw_frames;
  std::vector<std::string> combined_frames;
  std::optional<tb::net::CloseReason> raw_closed;
  std::optional<tb::net::CloseReason> combined_closed;
  auto raw = f.ws("/ws/btcusdt@trade", raw_frames, raw_closed);
  auto combined = f.ws("/stream?streams=btcusdt@trade", combined_frames, combined_closed);
  REQUIRE(run_until(f.ioc, [&] { return raw_closed.has_value() && combined_closed.has_value(); }, 5s));
  CHECK(raw->stats().pongs_sent >= 2);  // pings every 300 ms, answered by the client
  CHECK(f.server->stats().ws_pong_timeouts == 0);
  auto has = [](const std::vector<std::string>& frames, std::string_view prefix) {
    for (const auto& s : frames) {
      if (s.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  CHECK(has(raw_frames, R"({"e":"serverShutdown","E":)"));
  CHECK(has(combined_frames, R"({"stream":"!serverShutdown","data":{"e":"serverShutdown","E":)"));
  CHECK(raw_closed->cause == tb::net::CloseCause::remote);
  CHECK(f.server->stats().ws_lifetime_cuts == 2);
}

TEST_CASE("sim faults: admin switches are observed by clients", "[sim]") {
  SimFixture f;
  SECTION("http errors with Retry-After for the next N requests") {
    CHECK(f.get("/sim/admin/http-errors?status=503&count=2", http::verb::post).response.result_int() == 200);
    CHECK(f.get("/api/v3/ping").response.result_int() == 503);
    auto second = f.get("/api/v3/time");
    CHECK(second.response.result_int() == 503);
    CHECK(f.get("/api/v3/ping").response.result_int() == 200);
    CHECK(f.get("/sim/admin/http-errors?status=429&count=1&retry_after=7", http::verb::post).response.result_int() == 200);
    auto limited = f.get("/api/v3/ping");
    CHECK(limited.response.result_int() == 429);
    CHECK(header(limited, "Retry-After") == "7");
    CHECK(f.get("/sim/admin/http-errors?status=200&count=1", http::verb::post).response.result_int() == 400);
  }
  SECTION("clock skew moves serverTime") {
    const auto before = tb::wall_clock_ns() / 1'000'000;
    CHECK(f.get("/sim/admin/clock-skew?ms=-3600000", http::verb::post).response.result_int() == 200);
    auto time = f.get("/api/v3/time");
    const std::string body = time.response.body();
    const auto server_ms = std::stoll(body.substr(body.find(':') + 1));
    CHECK(server_ms < before - 3'500'000);
  }
  SECTION("a skipped depth diff is a gap the client detects") {
    std::vector<std::string> frames;
    std::optional<tb::net::CloseReason> closed;
    auto client = f.ws("/ws/btcusdt@depth@100ms", frames, closed);
    REQUIRE(run_until(f.ioc, [&] { return frames.size() >= 2; }));
    CHECK(f.get("/sim/admin/skip-depth-diff?symbol=BTCUSDT", http::verb::post).response.result_int() == 200);
    const std::size_t from = frames.size();
    REQUIRE(run_until(f.ioc, [&] { return frames.size() >= from + 3; }));
    tb::binance::StreamDecoder decoder;
    tb::binance::DecodedMessage m;
    std::uint64_t previous = 0;
    int gaps = 0;
    for (const auto& frame : frames) {
      REQUIRE(decoder.decode_frame(frame, m, "btcusdt@depth@100ms") == tb::binance::DecodeStatus::Ok);
      if (previous != 0 && m.depth_diff.first_update_id != previous + 1) ++gaps;
      previous = m.depth_diff.final_update_id;
    }
    CHECK(gaps == 1);
  }
  SECTION("drop closes stream connections without a close frame; silence stops frames") {
    std::vector<std::string> frames;
    std::optional<tb::net::CloseReason> closed;
    auto client = f.ws("/ws/btcusdt@depth@100ms", frames, closed);
    REQUIRE(run_until(f.ioc, [&] { return !frames.empty(); }));
    CHECK(f.get("/sim/admin/silence?seconds=1", http::verb::post).response.result_int() == 200);
    tb::net::test::run_for(f.ioc, 150ms);  // a frame already in flight may still land
    const std::size_t during = frames.size();
    tb::net::test::run_for(f.ioc, 500ms);
    CHECK(frames.size() == during);
    REQUIRE(run_until(f.ioc, [&] { return frames.size() > during; }, 3s));  // data resumes
    CHECK(f.get("/sim/admin/drop?scope=streams", http::verb::post).response.result_int() == 200);
    REQUIRE(run_until(f.ioc, [&] { return closed.has_value(); }));
    CHECK(closed->cause == tb::net::CloseCause::io_error);
  }
  SECTION("delay slows REST answers") {
    CHECK(f.get("/sim/admin/delay?ms=300", http::verb::post).response.result_int() == 200);
    auto slow = f.get("/api/v3/ping");
    CHECK(slow.response.result_int() == 200);
    CHECK(slow.elapsed >= 300 * 1'000'000);
  }
}

namespace {

// A signed request built by the client's own RestRequestBuilder: query, or query + body.
struct Signed {
  std::string target;
  std::string body;
};

Signed sign_order(tb::binance::RequestSigner& signer, std::int64_t timestamp_ms,
                  const std::vector<std::pair<std::string, std::string>>& params, bool split_body, const std::string& path = "/api/v3/order") {
  tb::binance::RestRequestBuilder builder;
  builder.reset();
  std::size_t i = 0;
  for (const auto& [k, v] : params) {
    if (split_body && i++ == 2) builder.begin_body();
    builder.add(k, v);
  }
  REQUIRE(builder.sign(signer, tb::binance::RequestTiming{timestamp_ms, 5000}) == tb::binance::BuildStatus::Ok);
  Signed out;
  builder.target(path, out.target);
  out.body = std::string(builder.body());
  return out;
}

std::string json_field(const std::string& body, const std::string& key) {
  const auto at = body.find("\"" + key + "\":");
  if (at == std::string::npos) return {};
  auto from = at + key.size() + 3;
  if (body[from] == '"') ++from;
  const auto to = body.find_first_of(",\"}", from);
  return body.substr(from, to - from);
}

}  // namespace

TEST_CASE("sim signed REST: orders, signature and timestamp checks, filters, balances", "[sim]") {
  SimFixture f;
  f.server->pause_agents(true);
  tb::binance::RequestSigner signer(tb::binance::HmacSha256Signer("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"));
  const std::int64_t now = f.server->now_ms();
  auto& engine = f.server->market().engine(0);
  const auto best_ask = engine.best(tb::Side::Sell);
  REQUIRE(best_ask.has_value());

  // A resting BUY far below the market: accepted, quote locked.
  auto place = sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                        {"quantity", "0.01000"}, {"price", "50000.00"}, {"newClientOrderId", "my-1"}}, false);
  auto placed = f.get(place.target, http::verb::post, "hmac-key");
  REQUIRE(placed.response.result_int() == 200);
  CHECK(json_field(placed.response.body(), "status") == "NEW");
  CHECK(json_field(placed.response.body(), "clientOrderId") == "my-1");
  CHECK(placed.response.body().find(R"("fills":[])") != std::string::npos);
  const std::string order_id = json_field(placed.response.body(), "orderId");

  auto account = f.get(sign_order(signer, now, {}, false, "/api/v3/account").target, http::verb::get, "hmac-key");
  REQUIRE(account.response.result_int() == 200);
  CHECK(account.response.body().find(R"({"asset":"USDT","free":"99500.00000000","locked":"500.00000000"})") != std::string::npos);

  // Parameters split between query and body: signed as query + body without separator.
  auto split = sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                        {"quantity", "0.01000"}, {"price", "50001.00"}}, true);
  CHECK(f.get(split.target, http::verb::post, "hmac-key", split.body).response.result_int() == 200);

  auto open = f.get(sign_order(signer, now, {{"symbol", "BTCUSDT"}}, false, "/api/v3/openOrders").target, http::verb::get, "hmac-key");
  CHECK(open.response.body().find(R"("clientOrderId":"my-1")") != std::string::npos);

  // Duplicate client order id among open orders.
  auto duplicate = f.get(sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                                  {"quantity", "0.01000"}, {"price", "50000.00"}, {"newClientOrderId", "my-1"}}, false).target,
                         http::verb::post, "hmac-key");
  CHECK(duplicate.response.body() == R"({"code":-2010,"msg":"Duplicate order sent."})");

  // Cancel it: CANCELED, the lock comes back.
  auto cancel = f.get(sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"orderId", order_id}}, false).target, http::verb::delete_, "hmac-key");
  REQUIRE(cancel.response.result_int() == 200);
  CHECK(json_field(cancel.response.body(), "status") == "CANCELED");
  CHECK(json_field(cancel.response.body(), "origClientOrderId") == "my-1");
  auto again = f.get(sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"orderId", order_id}}, false).target, http::verb::delete_, "hmac-key");
  CHECK(again.response.body() == R"({"code":-2011,"msg":"Unknown order sent."})");
  auto query = f.get(sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"orderId", "999999"}}, false).target, http::verb::get, "hmac-key");
  CHECK(query.response.body() == R"({"code":-2013,"msg":"Order does not exist."})");

  // A crossing IOC BUY trades against the agents' asks: FULL response with fills, base received.
  const std::string cross_price = best_ask->price.to_string(2);
  auto take = f.get(sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "IOC"},
                                             {"quantity", "0.00100"}, {"price", cross_price}}, false).target,
                    http::verb::post, "hmac-key");
  REQUIRE(take.response.result_int() == 200);
  CHECK(json_field(take.response.body(), "status") == "FILLED");
  CHECK(take.response.body().find(R"("commissionAsset":"BTC")") != std::string::npos);
  auto after = f.get(sign_order(signer, now, {{"omitZeroBalances", "true"}}, false, "/api/v3/account").target, http::verb::get, "hmac-key");
  // 1 BTC + 0.001 - 0.1 % commission.
  CHECK(after.response.body().find(R"({"asset":"BTC","free":"1.00099900","locked":"0.00000000"})") != std::string::npos);

  // Rejections.
  auto tampered = sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                           {"quantity", "0.01000"}, {"price", "50000.00"}}, false);
  tampered.target.replace(tampered.target.find("50000.00"), 8, "40000.00");
  CHECK(f.get(tampered.target, http::verb::post, "hmac-key").response.body() == R"({"code":-1022,"msg":"Signature for this request is not valid."})");
  auto stale = sign_order(signer, now - 60'000, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                                 {"quantity", "0.01000"}, {"price", "50000.00"}}, false);
  auto stale_reply = f.get(stale.target, http::verb::post, "hmac-key");
  CHECK(stale_reply.response.result_int() == 400);
  CHECK(json_field(stale_reply.response.body(), "code") == "-1021");
  auto off_tick = sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                           {"quantity", "0.01000"}, {"price", "50000.001"}}, false);
  CHECK(f.get(off_tick.target, http::verb::post, "hmac-key").response.body() == R"({"code":-1013,"msg":"Filter failure: PRICE_FILTER"})");
  auto tiny = sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                       {"quantity", "0.00001"}, {"price", "50000.00"}}, false);
  CHECK(f.get(tiny.target, http::verb::post, "hmac-key").response.body() == R"({"code":-1013,"msg":"Filter failure: NOTIONAL"})");
  auto too_big = sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "SELL"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                          {"quantity", "5.00000"}, {"price", "90000.00"}}, false);
  CHECK(f.get(too_big.target, http::verb::post, "hmac-key").response.body() == R"({"code":-2010,"msg":"Account has insufficient balance for requested action."})");
  auto test_order = sign_order(signer, now, {{"symbol", "BTCUSDT"}, {"side", "BUY"}, {"type", "LIMIT"}, {"timeInForce", "GTC"},
                                             {"quantity", "0.01000"}, {"price", "50000.00"}}, false, "/api/v3/order/test");
  CHECK(f.get(test_order.target, http::verb::post, "hmac-key").response.body() == "{}");
  CHECK(f.get(place.target, http::verb::post, "other-key").response.body() == R"({"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."})");
  CHECK(f.get(place.target, http::verb::post).response.result_int() == 401);
}

TEST_CASE("sim signed REST: Ed25519 keys verify base64 signatures", "[sim]") {
  std::array<std::uint8_t, 32> seed{};
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i * 7 + 1);
  auto ed = tb::net::test::must(tb::binance::Ed25519Signer::from_seed(seed));
  // SubjectPublicKeyInfo for Ed25519: fixed 12-byte prefix + the 32-byte key.
  std::vector<std::uint8_t> der = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  const auto pub = ed.public_key();
  der.insert(der.end(), pub.begin(), pub.end());
  char b64[80];
  const std::size_t n = tb::binance::base64_encode(der.data(), der.size(), b64);
  const auto dir = std::filesystem::temp_directory_path() / ("tb-sim-ed-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto pem = dir / "ed.pub.pem";
  {
    std::ofstream out(pem);
    out << "-----BEGIN PUBLIC KEY-----\n" << std::string(b64, n) << "\n-----END PUBLIC KEY-----\n";
  }
  SimFixture f("", "[[sim.api_keys]]\napi_key = \"ed-key\"\ned25519_public_key_file = \"" + pem.string() + "\"\nbalances = { USDT = \"1000\" }\n");
  f.server->pause_agents(true);
  tb::binance::RequestSigner signer(std::move(ed));
  auto account = sign_order(signer, f.server->now_ms(), {}, false, "/api/v3/account");
  auto ok = f.get(account.target, http::verb::get, "ed-key");
  CHECK(ok.response.result_int() == 200);
  CHECK(ok.response.body().find(R"({"asset":"USDT","free":"1000.00000000","locked":"0.00000000"})") != std::string::npos);
  account.target.replace(account.target.find("timestamp=") + 10, 1, "9");
  CHECK(json_field(f.get(account.target, http::verb::get, "ed-key").response.body(), "code") == "-1022");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

TEST_CASE("sim WS API: order.place, userDataStream.subscribe.signature and execution reports", "[sim]") {
  SimFixture f;
  f.server->pause_agents(true);
  tb::binance::RequestSigner signer(tb::binance::HmacSha256Signer("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"));
  std::vector<std::string> frames;
  std::optional<tb::net::CloseReason> closed;
  auto client = f.ws("/ws-api/v3", frames, closed);
  REQUIRE(run_until(f.ioc, [&] { return client->stats().connected_at != 0; }));
  tb::binance::WsApiRequestBuilder builder;

  builder.begin("sub1", "userDataStream.subscribe.signature");
  REQUIRE(builder.sign(signer, "hmac-key", tb::binance::RequestTiming{f.server->now_ms(), 0}) == tb::binance::BuildStatus::Ok);
  client->send(std::string(builder.json()));
  REQUIRE(run_until(f.ioc, [&] { return !frames.empty(); }));
  CHECK(frames[0].rfind(R"({"id":"sub1","status":200,"result":{"subscriptionId":0},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT")", 0) == 0);

  builder.begin(2, "order.place");
  builder.add("symbol", "BTCUSDT");
  builder.add("side", "BUY");
  builder.add("type", "LIMIT");
  builder.add("timeInForce", "GTC");
  builder.add("quantity", "0.01000");
  builder.add("price", "50000.00");
  builder.add("newClientOrderId", "ws-1");
  REQUIRE(builder.sign(signer, "hmac-key", tb::binance::RequestTiming{f.server->now_ms(), 5000}) == tb::binance::BuildStatus::Ok);
  client->send(std::string(builder.json()));
  auto find = [&](std::string_view needle) {
    for (const auto& frame : frames) {
      if (frame.find(needle) != std::string::npos) return frame;
    }
    return std::string();
  };
  REQUIRE(run_until(f.ioc, [&] { return !find(R"({"id":2,"status":200,"result":{"symbol":"BTCUSDT")").empty(); }));
  const std::string report = find(R"({"subscriptionId":0,"event":{"e":"executionReport")");
  REQUIRE_FALSE(report.empty());
  CHECK(report.find(R"("c":"ws-1")") != std::string::npos);
  CHECK(report.find(R"("x":"NEW","X":"NEW")") != std::string::npos);
  const std::string position = find(R"({"subscriptionId":0,"event":{"e":"outboundAccountPosition")");
  CHECK(position.find(R"({"a":"USDT","f":"99500.00000000","l":"500.00000000"})") != std::string::npos);

  // Cancel over the WS API: CANCELED report with C = the original client order id.
  builder.begin(3, "order.cancel");
  builder.add("symbol", "BTCUSDT");
  builder.add("origClientOrderId", "ws-1");
  REQUIRE(builder.sign(signer, "hmac-key", tb::binance::RequestTiming{f.server->now_ms(), 5000}) == tb::binance::BuildStatus::Ok);
  client->send(std::string(builder.json()));
  REQUIRE(run_until(f.ioc, [&] { return !find(R"("x":"CANCELED")").empty() && !find(R"({"id":3,"status":200)").empty(); }));
  CHECK(find(R"("x":"CANCELED")").find(R"("C":"ws-1")") != std::string::npos);

  // A bad signature is -1022 in the WS API envelope.
  builder.begin(4, "order.status");
  builder.add("symbol", "BTCUSDT");
  builder.add("origClientOrderId", "ws-1");
  REQUIRE(builder.sign(signer, "hmac-key", tb::binance::RequestTiming{f.server->now_ms(), 5000}) == tb::binance::BuildStatus::Ok);
  std::string tampered(builder.json());
  tampered.replace(tampered.find("ws-1"), 4, "ws-2");
  client->send(tampered);
  REQUIRE(run_until(f.ioc, [&] { return !find(R"({"id":4,)").empty(); }));
  CHECK(find(R"({"id":4,)").rfind(R"({"id":4,"status":400,"error":{"code":-1022,"msg":"Signature for this request is not valid."})", 0) == 0);
  client->close();
}

TEST_CASE("sim replay: a capture's frames are served on the streams and its snapshot on /depth", "[sim]") {
  const auto dir = std::filesystem::temp_directory_path() / ("tb-sim-replay-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto capture = dir / "capture.txt";
  const std::string snapshot = R"({"lastUpdateId":100,"bids":[["61000.00000000","2.00000000"]],"asks":[["61000.10000000","3.00000000"]]})";
  const std::vector<std::string> frames_in = {
      R"({"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":101,"u":102,"b":[["61000.00000000","0.00000000"]],"a":[]}})",
      R"({"stream":"btcusdt@bookTicker","data":{"u":102,"s":"BTCUSDT","b":"60999.90000000","B":"1.00000000","a":"61000.10000000","A":"3.00000000"}})",
  };
  {
    std::ofstream out(capture);
    out << "1700000000000000000 {\"stream\":\"btcusdt@depthSnapshot\",\"data\":" << snapshot << "}\n";
    out << "1700000000001000000 " << frames_in[0] << "\n";
    out << "1700000000050000000 " << frames_in[1] << "\n";
  }
  SimFixture f("replay_file = \"" + capture.string() + "\"\nreplay_speed_percent = 1000\nreplay_wait_for_client = true\n");
  std::vector<std::string> frames;
  std::optional<tb::net::CloseReason> closed;
  auto client = f.ws("/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker", frames, closed);
  REQUIRE(run_until(f.ioc, [&] { return frames.size() >= 2; }));
  CHECK(frames == frames_in);
  CHECK(f.get("/api/v3/depth?symbol=BTCUSDT").response.body() == snapshot);
  client->close();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
