// Deferred responses (Responder, Router::add_deferred) over a real server and raw sockets:
// completion from another thread, pipelining order behind a deferred response, the 504
// deadline and the late completion it drops, completion after the client left or the server
// stopped, double completion, abandoned Responders, throwing deferred handlers, HEAD, and many
// concurrent deferred requests. Every wait is bounded.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "http_test_client.hpp"
#include "tradingbot/http/server.hpp"

using namespace std::chrono_literals;
using tb::http::Request;
using tb::http::Responder;
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
  config.max_connections = 256;
  config.read_timeout_ms = 3000;
  config.idle_timeout_ms = 3000;
  return config;
}

// Responders parked by the /park/ route until the test completes them (from the test thread,
// which is not the HTTP thread).
struct Parking {
  std::mutex mutex;
  std::vector<std::pair<std::string, Responder>> parked;

  void add(std::string id, Responder responder) {
    const std::lock_guard lock(mutex);
    parked.emplace_back(std::move(id), std::move(responder));
  }
  std::size_t size() {
    const std::lock_guard lock(mutex);
    return parked.size();
  }
  std::pair<std::string, Responder> take() {
    const std::lock_guard lock(mutex);
    if (parked.empty()) throw std::logic_error("nothing parked");
    auto front = std::move(parked.front());
    parked.erase(parked.begin());
    return front;
  }
};

// A worker thread standing in for the trading thread: completes each job with its id.
class Worker {
 public:
  Worker() : thread_([this] { run(); }) {}
  ~Worker() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void submit(std::string id, Responder responder) {
    {
      const std::lock_guard lock(mutex_);
      jobs_.emplace_back(std::move(id), std::move(responder));
    }
    wake_.notify_one();
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      Response response;
      response.set_json(200, "{\"id\":\"" + job.first + "\"}");
      job.second.complete(std::move(response));
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, Responder>> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

Router make_router(Parking& parking, Worker& worker) {
  Router router;
  router.get("/health", [](const Request&, Response& res) { res.set_json(200, R"({"status":"ok"})"); });
  router.get_prefix_deferred("/park/", [&parking](const Request& req, Responder responder) {
    parking.add(std::string(req.path_param()), std::move(responder));
  });
  router.get_prefix_deferred("/work/", [&worker](const Request& req, Responder responder) {
    worker.submit(std::string(req.path_param()), std::move(responder));
  });
  router.add_prefix_deferred(
      tb::http::Method::Get, "/short/",
      [&parking](const Request& req, Responder responder) { parking.add(std::string(req.path_param()), std::move(responder)); },
      100ms);
  router.get_prefix_deferred("/drop/", [](const Request&, Responder) {});  // abandons it
  router.get_prefix_deferred("/throw/", [&parking](const Request&, Responder responder) {
    parking.add("thrown", std::move(responder));
    throw std::runtime_error("deferred handler bug");
  });
  return router;
}

struct Fixture {
  explicit Fixture(const tb::config::HttpConfig& config = test_config())
      : server(config, make_router(parking, worker)) {
    auto started = server.start();
    if (!started) throw std::runtime_error(started.error().message);
    port = started.value();
  }
  Parking parking;
  Worker worker;
  Server server;
  std::uint16_t port = 0;
};

std::string get(std::string_view target, std::string_view method = "GET") {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n\r\n";
}

template <class Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 3000ms) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return predicate();
}

Response json(std::string_view body) {
  Response response;
  response.set_json(200, body);
  return response;
}

}  // namespace

TEST_CASE("deferred response completed from another thread reaches the client", "[http][deferred]") {
  Fixture f;
  TestClient client(f.port);
  REQUIRE(client.send(get("/work/abc")));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 200);
  CHECK(response->body == R"({"id":"abc"})");
  CHECK(response->keep_alive);
  // The connection carries on after a deferred response.
  REQUIRE(client.send(get("/health")));
  const auto health = client.read_response();
  REQUIRE(health);
  CHECK(health->body == R"({"status":"ok"})");
  CHECK(f.server.stats().deferred_requests == 1);
  CHECK(f.server.stats().deferred_dropped == 0);
}

TEST_CASE("deferred responses reach their connections on either of two HTTP threads", "[http][deferred]") {
  auto config = test_config();
  config.threads = 2;
  Fixture f(config);
  // Round-robin: consecutive connections land on different threads; each answer must come back
  // to its own connection, posted to the thread that owns it.
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 4; ++i) clients.push_back(std::make_unique<TestClient>(f.port));
  for (int i = 0; i < 4; ++i) REQUIRE(clients[static_cast<std::size_t>(i)]->send(get("/work/c" + std::to_string(i))));
  for (int i = 0; i < 4; ++i) {
    const auto response = clients[static_cast<std::size_t>(i)]->read_response();
    REQUIRE(response);
    CHECK(response->status == 200);
    CHECK(response->body == "{\"id\":\"c" + std::to_string(i) + "\"}");
  }
  CHECK(f.server.stats().deferred_requests == 4);
  CHECK(f.server.stats().deferred_dropped == 0);
}

TEST_CASE("a pipelined request behind a deferred one is answered after it, in order", "[http][deferred]") {
  Fixture f;
  TestClient client(f.port);
  REQUIRE(client.send(get("/health") + get("/park/first") + get("/health") + get("/work/third")));
  const auto before = client.read_response();  // the one before the deferred request goes out at once
  REQUIRE(before);
  CHECK(before->body == R"({"status":"ok"})");
  REQUIRE(eventually([&] { return f.parking.size() == 1; }));
  // Nothing behind the parked request may overtake it.
  CHECK(client.read_some(200ms) == TestClient::ReadResult::Timeout);
  CHECK(client.buffered().empty());
  auto [id, responder] = f.parking.take();
  CHECK(id == "first");
  std::thread([r = std::move(responder)]() mutable { CHECK(r.complete(json(R"({"n":1})"))); }).join();
  const auto first = client.read_response();
  const auto second = client.read_response();
  const auto third = client.read_response();
  REQUIRE(first);
  REQUIRE(second);
  REQUIRE(third);
  CHECK(first->body == R"({"n":1})");
  CHECK(second->body == R"({"status":"ok"})");
  CHECK(third->body == R"({"id":"third"})");
}

TEST_CASE("a deferred response not completed by its deadline gets 504 and the late completion is dropped",
          "[http][deferred]") {
  Fixture f;
  TestClient client(f.port);
  REQUIRE(client.send(get("/short/late")));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->status == 504);
  CHECK(response->body == R"({"error":"response deadline exceeded"})");
  CHECK(response->keep_alive);
  CHECK(f.server.stats().deferred_timeouts == 1);

  REQUIRE(f.parking.size() == 1);
  auto parked = f.parking.take();
  CHECK(parked.second.complete(json(R"({"too":"late"})")));  // the Responder cannot know yet
  REQUIRE(eventually([&] { return f.server.stats().deferred_dropped == 1; }));
  // The connection is still usable and the late body never appears on it.
  REQUIRE(client.send(get("/health")));
  const auto health = client.read_response();
  REQUIRE(health);
  CHECK(health->body == R"({"status":"ok"})");
  CHECK(client.buffered().empty());
}

TEST_CASE("completing after the client disconnected is harmless", "[http][deferred]") {
  Fixture f;
  {
    TestClient client(f.port);
    REQUIRE(client.send(get("/park/gone")));
    REQUIRE(eventually([&] { return f.parking.size() == 1; }));
  }  // client closes its socket
  auto parked = f.parking.take();
  CHECK(parked.second.complete(json("{}")));
  // The write to the dead peer fails or its EOF is read: the connection goes away either way.
  CHECK(eventually([&] { return f.server.stats().connections_open == 0; }));
  TestClient other(f.port);
  REQUIRE(other.send(get("/health")));
  const auto health = other.read_response();
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("completing after the server stopped or was destroyed is a counted no-op", "[http][deferred]") {
  auto f = std::make_unique<Fixture>();
  TestClient client(f->port);
  REQUIRE(client.send(get("/park/a") ));
  REQUIRE(eventually([&] { return f->parking.size() == 1; }));
  TestClient client2(f->port);
  REQUIRE(client2.send(get("/park/b")));
  REQUIRE(eventually([&] { return f->parking.size() == 2; }));
  auto a = f->parking.take();
  auto b = f->parking.take();
  f->server.stop();
  CHECK(client.wait_closed());
  CHECK(a.second.complete(json("{}")));
  CHECK(f->server.stats().deferred_dropped == 1);
  f.reset();  // the Server and its io_context are gone; the Responder still holds the sink
  CHECK(b.second.complete(json("{}")));
  CHECK_FALSE(b.second.pending());
}

TEST_CASE("a second completion is ignored and returns false", "[http][deferred]") {
  Fixture f;
  TestClient client(f.port);
  REQUIRE(client.send(get("/park/twice")));
  REQUIRE(eventually([&] { return f.parking.size() == 1; }));
  auto parked = f.parking.take();
  CHECK(parked.second.pending());
  CHECK(parked.second.complete(json(R"({"n":1})")));
  CHECK_FALSE(parked.second.pending());
  CHECK_FALSE(parked.second.complete(json(R"({"n":2})")));
  Responder moved = std::move(parked.second);
  CHECK_FALSE(moved.complete(json(R"({"n":3})")));
  CHECK_FALSE(Responder().complete(json("{}")));
  const auto response = client.read_response();
  REQUIRE(response);
  CHECK(response->body == R"({"n":1})");
  REQUIRE(client.send(get("/health")));
  const auto health = client.read_response();
  REQUIRE(health);
  CHECK(health->body == R"({"status":"ok"})");
  CHECK(client.buffered().empty());
}

TEST_CASE("an abandoned Responder answers 500 at once; a throwing deferred handler answers 500", "[http][deferred]") {
  Fixture f;
  TestClient client(f.port);
  REQUIRE(client.send(get("/drop/x")));
  const auto dropped = client.read_response();
  REQUIRE(dropped);
  CHECK(dropped->status == 500);
  CHECK(dropped->body == R"({"error":"internal error"})");

  REQUIRE(client.send(get("/throw/x")));
  const auto thrown = client.read_response();
  REQUIRE(thrown);
  CHECK(thrown->status == 500);
  REQUIRE(f.parking.size() == 1);
  auto parked = f.parking.take();
  CHECK(parked.second.complete(json(R"({"void":true})")));  // voided by the throw: dropped
  REQUIRE(eventually([&] { return f.server.stats().deferred_dropped == 1; }));
  REQUIRE(client.send(get("/health")));
  const auto health = client.read_response();
  REQUIRE(health);
  CHECK(health->body == R"({"status":"ok"})");
  CHECK(f.server.stats().handler_errors == 2);
}

TEST_CASE("HEAD on a deferred GET route gets the headers without the body", "[http][deferred]") {
  Fixture f;
  TestClient client(f.port);
  REQUIRE(client.send(get("/work/head", "HEAD") + get("/health")));
  const auto head = client.read_response(true);
  REQUIRE(head);
  CHECK(head->status == 200);
  CHECK(head->content_length == std::string(R"({"id":"head"})").size());
  const auto health = client.read_response();
  REQUIRE(health);
  CHECK(health->body == R"({"status":"ok"})");
}

TEST_CASE("many concurrent deferred requests each get their own answer", "[http][deferred]") {
  Fixture f;
  constexpr int kClients = 64;
  constexpr int kRounds = 5;
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(std::make_unique<TestClient>(f.port));
  for (int round = 0; round < kRounds; ++round) {
    for (int i = 0; i < kClients; ++i) {
      REQUIRE(clients[static_cast<std::size_t>(i)]->send(get("/work/" + std::to_string(round) + "-" + std::to_string(i))));
    }
    for (int i = 0; i < kClients; ++i) {
      const auto response = clients[static_cast<std::size_t>(i)]->read_response();
      REQUIRE(response);
      CHECK(response->body == "{\"id\":\"" + std::to_string(round) + "-" + std::to_string(i) + "\"}");
    }
  }
  CHECK(f.server.stats().deferred_requests == kClients * kRounds);
  CHECK(f.server.stats().deferred_dropped == 0);
}
