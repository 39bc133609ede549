// Server: a real server on 127.0.0.1 port 0, driven over raw sockets. Covers routing, limits
// (400/413/431), keep-alive, pipelining, HTTP/1.0, deadlines (idle, slowloris), the connection
// cap, HEAD, bodies, stop() and random input. Every wait is bounded; short timeouts in config.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http_test_client.hpp"
#include "tradingbot/http/json_writer.hpp"
#include "tradingbot/http/server.hpp"

using namespace std::chrono_literals;
using tb::http::JsonWriter;
using tb::http::Request;
using tb::http::Response;
using tb::http::Router;
using tb::http::Server;
using tb::http::test::TestClient;

namespace {

tb::config::HttpConfig test_config() {
  tb::config::HttpConfig config;
  config.listen = "127.0.0.1:0";
  config.listen_host = "127.0.0.1";
  config.listen_port = 0;
  config.max_connections = 64;
  config.header_limit_bytes = 2048;
  config.body_limit_bytes = 1024;
  config.read_timeout_ms = 2000;
  config.idle_timeout_ms = 2000;
  return config;
}

Router test_router() {
  Router router;
  router.get("/health", [](const Request&, Response& res) { res.set_json(200, R"({"status":"ok"})"); });
  router.get_prefix("/book/", [](const Request& req, Response& res) {
    JsonWriter(res.body).begin_object().member("symbol", req.path_param()).end_object();
  });
  router.post("/echo", [](const Request& req, Response& res) { res.set_text(200, req.body()); });
  router.post("/control/halt", [](const Request& req, Response& res) {
    if (req.header("authorization") != std::optional<std::string_view>("Bearer secret")) {
      res.set_error(401, "unauthorized");
      return;
    }
    res.set_json(200, R"({"halted":true})");
  });
  router.get("/query", [](const Request& req, Response& res) {
    JsonWriter w(res.body);
    w.begin_array();
    for (const auto& param : req.query_params()) w.begin_array().value(param.name).value(param.value).end_array();
    w.end_array();
  });
  router.get("/remote", [](const Request& req, Response& res) { res.set_text(200, req.remote_address()); });
  router.get("/throw", [](const Request&, Response&) { throw std::runtime_error("handler bug"); });
  router.get("/big", [](const Request&, Response& res) { res.set_text(200, std::string(32u << 20, 'b')); });
  router.get("/close", [](const Request&, Response& res) {
    res.set_text(200, "bye");
    res.close_connection = true;
  });
  return router;
}

struct RunningServer {
  explicit RunningServer(const tb::config::HttpConfig& config = test_config())
      : server(config, test_router()) {
    auto started = server.start();
    if (!started) throw std::runtime_error(started.error().message);
    port = started.value();
  }
  Server server;
  std::uint16_t port = 0;
};

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

// Bounded wait for a stats condition the HTTP thread updates asynchronously.
template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 3000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return predicate();
}

}  // namespace

TEST_CASE("server answers 200 with the handler's JSON on a registered path", "[http][server]") {
  RunningServer s;
  CHECK(s.port != 0);
  CHECK(s.server.port() == s.port);
  CHECK(s.server.running());
  TestClient client(s.port);
  REQUIRE(client.send(get("/health")));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->content_type == "application/json");
  CHECK(response->body == R"({"status":"ok"})");
  CHECK(response->keep_alive);
}

TEST_CASE("server answers 404 JSON on an unknown path", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send(get("/nowhere")));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 404);
  CHECK(response->body == R"({"error":"not found"})");
  CHECK(response->keep_alive);  // a 404 does not cost the connection
}

TEST_CASE("server answers 405 with Allow on a known path with the wrong method", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send(get("/control/halt")));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 405);
  CHECK(response->allow == "POST");
  REQUIRE(client.send("DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto second = client.read_response();
  REQUIRE(second);
  CHECK(second->status == 405);
  CHECK(second->allow == "GET, HEAD");
}

TEST_CASE("server answers 400 to garbage and closes the connection", "[http][server]") {
  static constexpr char kTlsBytes[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";
  const std::string kTlsHello(kTlsBytes, sizeof kTlsBytes - 1);  // a TLS ClientHello start, NULs included
  RunningServer s;
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"), std::string("GET /health HTTP/1.1\r\nBad Header\r\n\r\n"),
        kTlsHello,
        std::string("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello"),
        // Request smuggling shapes: both framings, and a length-less transfer coding.
        std::string("POST /echo HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n"),
        std::string("POST /echo HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nGET /health HTTP/1.1\r\n\r\n")}) {
    TestClient client(s.port);
    REQUIRE(client.send(garbage));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 400);
    CHECK(response->connection == "close");
    CHECK(client.wait_closed());
  }
  CHECK(s.server.stats().bad_requests == 8);
}

TEST_CASE("server answers 413 to a body over the limit", "[http][server]") {
  RunningServer s;
  SECTION("declared by Content-Length") {
    TestClient client(s.port);
    REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 413);
    CHECK(client.wait_closed());
  }
  SECTION("sent chunked") {
    TestClient client(s.port);
    const std::string chunk(600, 'x');
    REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk + "\r\n258\r\n" +
                        chunk + "\r\n0\r\n\r\n"));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 413);
    CHECK(client.wait_closed());
  }
}

TEST_CASE("server answers 431 to headers over the limit", "[http][server]") {
  RunningServer s;
  SECTION("one huge header") {
    TestClient client(s.port);
    client.send(get("/health", "X-Big: " + std::string(4000, 'a') + "\r\n"));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 431);
    CHECK(client.wait_closed());
  }
  SECTION("a header section that never ends") {
    TestClient client(s.port);
    std::string many = "GET /health HTTP/1.1\r\n";
    for (int i = 0; i < 400; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
    client.send(many);
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 431);
  }
}

TEST_CASE("server keeps a connection alive across several requests", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  for (int i = 0; i < 5; ++i) {
    REQUIRE(client.send(get("/book/SYM" + std::to_string(i))));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->body == R"({"symbol":"SYM)" + std::to_string(i) + "\"}");
  }
  const auto stats = s.server.stats();
  CHECK(stats.connections_accepted == 1);
  CHECK(stats.requests == 5);
  CHECK(stats.responses_by_class[1] == 5);
}

TEST_CASE("server answers pipelined requests in order", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  // 150 requests in one burst: more than one write batch, and a 404 and a 405 in the middle.
  std::string burst;
  for (int i = 0; i < 150; ++i) {
    if (i == 40) burst += get("/missing");
    if (i == 90) burst += "PUT /health HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
    burst += get("/book/S" + std::to_string(i));
  }
  REQUIRE(client.send(burst));
  for (int i = 0; i < 150; ++i) {
    if (i == 40) {
      const auto missing = client.read_response();
      REQUIRE(missing);
      CHECK(missing->status == 404);
    }
    if (i == 90) {
      const auto wrong_method = client.read_response();
      REQUIRE(wrong_method);
      CHECK(wrong_method->status == 405);
    }
    const auto response = client.read_response();
    REQUIRE(response);
    REQUIRE(response->body == R"({"symbol":"S)" + std::to_string(i) + "\"}");
  }
}

TEST_CASE("server closes HTTP/1.0 connections unless keep-alive is asked for", "[http][server]") {
  RunningServer s;
  SECTION("plain HTTP/1.0") {
    TestClient client(s.port);
    REQUIRE(client.send("GET /health HTTP/1.0\r\n\r\n"));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->connection == "close");
    CHECK(client.wait_closed());
  }
  SECTION("HTTP/1.0 with Connection: keep-alive") {
    TestClient client(s.port);
    for (int i = 0; i < 2; ++i) {
      REQUIRE(client.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      const auto response = client.read_response();
      REQUIRE(response);
      CHECK(response->connection == "keep-alive");
    }
    CHECK_FALSE(client.closed());
  }
  SECTION("HTTP/1.1 with Connection: close, even with more requests pipelined after it") {
    TestClient client(s.port);
    REQUIRE(client.send(get("/health", "Connection: close\r\n") + get("/health")));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->connection == "close");
    CHECK(client.wait_closed());
    CHECK(client.buffered().empty());
  }
  SECTION("a handler asking to close") {
    TestClient client(s.port);
    REQUIRE(client.send(get("/close")));
    const auto response = client.read_response();
    REQUIRE(response);
    CHECK(response->body == "bye");
    CHECK(client.wait_closed());
  }
}

TEST_CASE("server closes a keep-alive connection after the idle timeout", "[http][server]") {
  auto config = test_config();
  config.idle_timeout_ms = 300;
  RunningServer s(config);
  TestClient client(s.port);
  REQUIRE(client.send(get("/health")));
  REQUIRE(client.read_response());
  CHECK(client.wait_closed(3000ms));
  CHECK(eventually([&] { return s.server.stats().idle_timeouts == 1; }));
  CHECK(s.server.stats().read_timeouts == 0);
}

TEST_CASE("server cuts off a slowloris at the whole-request read timeout", "[http][server]") {
  auto config = test_config();
  config.read_timeout_ms = 500;
  RunningServer s(config);
  TestClient client(s.port);
  // 100 bytes at one per 100 ms would take 10 s; the read timeout must end it after ~0.5 s.
  const std::string request = get("/health", "X-Pad: " + std::string(60, 'p') + "\r\n");
  std::size_t sent = 0;
  while (sent < request.size()) {
    if (!client.send(request.substr(sent, 1))) break;
    ++sent;
    if (client.read_some(100ms) == TestClient::ReadResult::Closed) break;
  }
  CHECK(client.closed());
  CHECK(sent < request.size());
  CHECK(client.buffered().find("200 OK") == std::string::npos);
  CHECK(eventually([&] { return s.server.stats().read_timeouts == 1; }));
}

TEST_CASE("server closes a connection that never sends a request", "[http][server]") {
  auto config = test_config();
  config.read_timeout_ms = 300;
  config.idle_timeout_ms = 60000;
  RunningServer s(config);
  TestClient client(s.port);
  CHECK(client.wait_closed(3000ms));
  CHECK(eventually([&] { return s.server.stats().read_timeouts == 1; }));
}

TEST_CASE("server refuses connections beyond max_connections with 503 and counts them", "[http][server]") {
  auto config = test_config();
  config.max_connections = 2;
  RunningServer s(config);
  auto first = std::make_unique<TestClient>(s.port);
  TestClient second(s.port);
  for (TestClient* client : {first.get(), &second}) {
    REQUIRE(client->send(get("/health")));
    REQUIRE(client->read_response());
  }
  TestClient third(s.port);
  const auto refused = third.read_response();
  if (refused) CHECK(refused->status == 503);  // or a plain close, both are refusals
  CHECK(third.wait_closed());
  CHECK(eventually([&] { return s.server.stats().connections_rejected == 1; }));

  // Served connections keep working, and a freed slot is usable again.
  REQUIRE(second.send(get("/health")));
  REQUIRE(second.read_response());
  first.reset();
  REQUIRE(eventually([&] { return s.server.stats().connections_open == 1; }));
  TestClient fourth(s.port);
  REQUIRE(fourth.send(get("/health")));
  const auto response = fourth.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
}

TEST_CASE("server hands percent-decoded query parameters and the remote address to handlers", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send(get("/query?depth=20&sym=BTC%2FUSDT&note=a+b%20c&flag")));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->body == R"([["depth","20"],["sym","BTC/USDT"],["note","a b c"],["flag",""]])");
  REQUIRE(client.send(get("/remote")));
  const auto remote = client.read_response();
  REQUIRE(remote);
  CHECK(remote->body == "127.0.0.1");
}

TEST_CASE("server routes prefix parameters and 404s empty or nested ones", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send(get("/book/BTCUSDT?depth=5") + get("/book/") + get("/book/a/b")));
  const auto book = client.read_response();
  REQUIRE(book);
  CHECK(book->body == R"({"symbol":"BTCUSDT"})");
  for (int i = 0; i < 2; ++i) {
    const auto missing = client.read_response();
    REQUIRE(missing);
    CHECK(missing->status == 404);
  }
}

TEST_CASE("server answers HEAD with the GET headers and no body", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send("HEAD /health HTTP/1.1\r\nHost: t\r\n\r\n" + get("/health")));
  const auto head = client.read_response(true);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->content_length == std::optional<std::size_t>(15));
  CHECK(head->body.empty());
  const auto after = client.read_response();  // the next response starts right after the headers
  REQUIRE(after);
  CHECK(after->body == R"({"status":"ok"})");
}

TEST_CASE("server delivers request bodies and headers to handlers", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world"));
  auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->body == "hello world");
  CHECK(response->content_type == "text/plain; charset=utf-8");

  REQUIRE(client.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  response = client.read_response();
  REQUIRE(response);
  CHECK(response->body == "hello world");

  REQUIRE(client.send("POST /control/halt HTTP/1.1\r\nAUTHORIZATION: Bearer secret\r\nContent-Length: 0\r\n\r\n"));
  response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  REQUIRE(client.send("POST /control/halt HTTP/1.1\r\nAuthorization: Bearer wrong\r\nContent-Length: 0\r\n\r\n"));
  response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 401);
}

TEST_CASE("server sends 100 Continue to a client that expects it", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n"));
  const auto interim = client.read_response();
  REQUIRE(interim);
  CHECK(interim->status == 100);
  REQUIRE(client.send("ping"));
  const auto final_response = client.read_response();
  REQUIRE(final_response);
  CHECK(final_response->status == 200);
  CHECK(final_response->body == "ping");
}

TEST_CASE("server answers 500 when a handler throws and keeps serving", "[http][server]") {
  RunningServer s;
  TestClient client(s.port);
  REQUIRE(client.send(get("/throw") + get("/health")));
  const auto failed = client.read_response();
  REQUIRE(failed);
  CHECK(failed->status == 500);
  CHECK(failed->body == R"({"error":"internal error"})");
  const auto next = client.read_response();
  REQUIRE(next);
  CHECK(next->status == 200);
  const auto stats = s.server.stats();
  CHECK(stats.handler_errors == 1);
  CHECK(stats.responses_by_class[4] == 1);
}

TEST_CASE("server start reports a port that is already taken", "[http][server]") {
  RunningServer first;
  auto config = test_config();
  config.listen_port = first.port;
  Server second(config, Router{});
  const auto started = second.start();
  REQUIRE_FALSE(started.ok());
  CHECK(started.error().message ==
        "http: cannot listen on 127.0.0.1:" + std::to_string(first.port) + ": Address already in use");
  CHECK_FALSE(second.running());
}

TEST_CASE("server stop closes open connections and joins, and is idempotent", "[http][server]") {
  auto s = std::make_unique<RunningServer>();
  TestClient idle(s->port);
  TestClient partial(s->port);
  REQUIRE(idle.send(get("/health")));
  REQUIRE(idle.read_response());
  REQUIRE(partial.send("GET /health HTTP/1.1\r\nHo"));
  s->server.stop();
  CHECK_FALSE(s->server.running());
  CHECK(idle.wait_closed());
  CHECK(partial.wait_closed());
  CHECK(s->server.stats().connections_open == 0);
  s->server.stop();
  s.reset();
}

TEST_CASE("server survives random input and keeps serving", "[http][server]") {
  auto config = test_config();
  config.read_timeout_ms = 200;
  RunningServer s(config);
  std::mt19937 random(12345);
  const std::vector<std::string> fragments = {"GET ", "POST ", "/health", "/book/", " HTTP/1.1\r\n", " HTTP/1.0\r\n",
                                              "Content-Length: ", "Transfer-Encoding: chunked\r\n", "\r\n", "\r\n\r\n",
                                              "0\r\n", "ffffffffffffffff\r\n", ":", " ", "\n", "%00", "?a=%"};
  for (int round = 0; round < 150; ++round) {
    std::string input;
    const int pieces = static_cast<int>(random() % 20);
    for (int p = 0; p < pieces; ++p) {
      if (random() % 2 == 0) {
        input += fragments[random() % fragments.size()];
      } else {
        const int bytes = static_cast<int>(random() % 16);
        for (int b = 0; b < bytes; ++b) input.push_back(static_cast<char>(random() % 256));
      }
    }
    TestClient client(s.port);
    client.send(input);
    client.read_some(5ms);
  }
  TestClient check(s.port);
  REQUIRE(check.send(get("/health")));
  const auto response = check.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(s.server.running());
  CHECK(s.server.stats().internal_errors == 0);
}

TEST_CASE("server accepts many headers within the limit and keeps the connection usable", "[http][server]") {
  RunningServer s;  // header limit 2048: 150 short headers fit in bytes but not in the 4 KiB header arena
  TestClient client(s.port);
  std::string many = "GET /health HTTP/1.1\r\n";
  for (int i = 0; i < 150; ++i) many += "X" + std::to_string(i) + ":v\r\n";
  many += "\r\n";
  REQUIRE(many.size() < 2048);
  for (int round = 0; round < 3; ++round) {
    REQUIRE(client.send(many + get("/book/AFTER")));
    const auto first = client.read_response();
    REQUIRE(first);
    CHECK(first->status == 200);
    const auto second = client.read_response();
    REQUIRE(second);
    CHECK(second->body == R"({"symbol":"AFTER"})");
  }
}

TEST_CASE("server drops a client that does not read its response within the write timeout", "[http][server]") {
  auto config = test_config();
  config.read_timeout_ms = 500;  // the write deadline uses the read timeout
  RunningServer s(config);
  TestClient client(s.port);
  // 32 MiB is more than loopback socket buffers hold, so the write stalls while we never read.
  REQUIRE(client.send(get("/big")));
  CHECK(eventually([&] { return s.server.stats().write_timeouts == 1; }, 5000ms));
  CHECK(eventually([&] { return s.server.stats().connections_open == 0; }));
}

TEST_CASE("server with two HTTP threads: connections spread over both, one cap, stats add up, stop joins both",
          "[http][server]") {
  auto config = test_config();
  config.threads = 2;
  config.max_connections = 4;
  std::mutex mutex;
  std::set<std::thread::id> serving_threads;
  Router router = test_router();
  router.get("/whoami", [&](const Request&, Response& res) {
    {
      const std::lock_guard lock(mutex);
      serving_threads.insert(std::this_thread::get_id());
    }
    res.set_json(200, R"({"ok":true})");
  });
  Server server(config, std::move(router));
  const auto port = server.start();
  REQUIRE(port);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<TestClient>(port.value()));
  for (int round = 0; round < 5; ++round) {
    for (auto& client : clients) {
      REQUIRE(client->send(get("/whoami")));
      const auto response = client->read_response();
      REQUIRE(response);
      CHECK(response->status == 200);
    }
  }
  {
    const std::lock_guard lock(mutex);
    CHECK(serving_threads.size() == 2);  // round-robin: two connections each
    CHECK(serving_threads.count(std::this_thread::get_id()) == 0);
  }
  CHECK(server.stats().requests == 20);
  CHECK(server.stats().connections_accepted == 4);
  CHECK(server.stats().connections_open == 4);

  // The cap counts the connections of both threads together.
  TestClient fifth(port.value());
  const auto refused = fifth.read_response();
  if (refused) CHECK(refused->status == 503);
  CHECK(fifth.wait_closed());
  CHECK(eventually([&] { return server.stats().connections_rejected == 1; }));

  server.stop();
  CHECK_FALSE(server.running());
  for (auto& client : clients) CHECK(client->wait_closed());
  CHECK(server.stats().connections_open == 0);
}
