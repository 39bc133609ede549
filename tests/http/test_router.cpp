// Router and Request: routing rules, 404/405, HEAD fallback and query decoding, without sockets.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "tradingbot/http/router.hpp"

using tb::http::DispatchOutcome;
using tb::http::Method;
using tb::http::Request;
using tb::http::Response;
using tb::http::Router;

namespace {

Router make_router() {
  Router router;
  router.get("/health", [](const Request&, Response& res) { res.set_json(200, R"({"status":"ok"})"); });
  router.get_prefix("/book/", [](const Request& req, Response& res) { res.set_text(200, "book " + std::string(req.path_param())); });
  router.get_prefix("/book/deep/", [](const Request& req, Response& res) { res.set_text(200, "deep " + std::string(req.path_param())); });
  router.post("/control/halt", [](const Request&, Response& res) { res.set_json(200, "{}"); });
  router.add(Method::Delete, "/control/halt", [](const Request&, Response& res) { res.set_json(200, "{}"); });
  router.get("/throw", [](const Request&, Response&) { throw std::runtime_error("boom"); });
  return router;
}

DispatchOutcome route(const Router& router, std::string_view method, std::string_view target, Response& res) {
  Request req;
  req.reset(method, target, 11, true, {});
  res.reset();
  return router.dispatch(req, res);
}

}  // namespace

TEST_CASE("Router matches exact paths and prefixes with one trailing segment", "[http][router]") {
  const Router router = make_router();
  Response res;
  CHECK(route(router, "GET", "/health", res) == DispatchOutcome::Handled);
  CHECK(res.body == R"({"status":"ok"})");
  CHECK(route(router, "GET", "/health?x=1", res) == DispatchOutcome::Handled);
  CHECK(route(router, "GET", "/book/BTCUSDT?depth=5", res) == DispatchOutcome::Handled);
  CHECK(res.body == "book BTCUSDT");
  CHECK(route(router, "GET", "/book/deep/ETHUSDT", res) == DispatchOutcome::Handled);
  CHECK(res.body == "deep ETHUSDT");  // longest prefix wins
  CHECK(route(router, "GET", "/book/", res) == DispatchOutcome::NotFound);
  CHECK(route(router, "GET", "/book/a/b", res) == DispatchOutcome::NotFound);
  CHECK(route(router, "GET", "/book", res) == DispatchOutcome::NotFound);
  CHECK(route(router, "GET", "/health/", res) == DispatchOutcome::NotFound);
  CHECK(route(router, "GET", "/nope", res) == DispatchOutcome::NotFound);
  CHECK(res.status == 404);
  CHECK(res.body == R"({"error":"not found"})");
}

TEST_CASE("Router answers 405 with an Allow header listing the registered methods", "[http][router]") {
  const Router router = make_router();
  Response res;
  CHECK(route(router, "GET", "/control/halt", res) == DispatchOutcome::MethodNotAllowed);
  CHECK(res.status == 405);
  CHECK(res.extra_headers() == "Allow: POST, DELETE\r\n");
  CHECK(route(router, "POST", "/health", res) == DispatchOutcome::MethodNotAllowed);
  CHECK(res.extra_headers() == "Allow: GET, HEAD\r\n");
  CHECK(route(router, "PROPFIND", "/health", res) == DispatchOutcome::MethodNotAllowed);
}

TEST_CASE("Router serves HEAD with the GET handler and turns exceptions into 500", "[http][router]") {
  const Router router = make_router();
  Response res;
  CHECK(route(router, "HEAD", "/health", res) == DispatchOutcome::Handled);
  CHECK(res.status == 200);
  CHECK(route(router, "GET", "/throw", res) == DispatchOutcome::HandlerFailed);
  CHECK(res.status == 500);
  CHECK(res.body == R"({"error":"internal error"})");
}

TEST_CASE("Router refuses bad registrations", "[http][router]") {
  Router router;
  const auto noop = [](const Request&, Response&) {};
  CHECK_THROWS_AS(router.get("health", noop), std::invalid_argument);
  CHECK_THROWS_AS(router.get_prefix("/book", noop), std::invalid_argument);
  CHECK_THROWS_AS(router.get("/x?y", noop), std::invalid_argument);
  CHECK_THROWS_AS(router.get("/x", nullptr), std::invalid_argument);
  router.get("/x", noop);
  CHECK_THROWS_AS(router.get("/x", noop), std::invalid_argument);
  CHECK_NOTHROW(router.post("/x", noop));
}

TEST_CASE("Request splits the target and percent-decodes query parameters", "[http][router]") {
  Request req;
  req.reset("GET", "/book/BTCUSDT?depth=20&name=a%20b+c&flag&bad=%zz%4&&k%3D=v%26w&empty=", 11, true, {});
  CHECK(req.method() == Method::Get);
  CHECK(req.path() == "/book/BTCUSDT");
  CHECK(req.raw_query() == "depth=20&name=a%20b+c&flag&bad=%zz%4&&k%3D=v%26w&empty=");
  CHECK(req.query("depth") == std::optional<std::string_view>("20"));
  CHECK(req.query("name") == std::optional<std::string_view>("a b c"));
  CHECK(req.query("flag") == std::optional<std::string_view>(""));
  CHECK(req.query("bad") == std::optional<std::string_view>("%zz%4"));
  CHECK(req.query("k=") == std::optional<std::string_view>("v&w"));
  CHECK(req.query("empty") == std::optional<std::string_view>(""));
  CHECK_FALSE(req.query("missing").has_value());
  CHECK(req.query_params().size() == 6);
}

TEST_CASE("Request header lookup ignores case", "[http][router]") {
  Request req;
  req.reset("POST", "/control/halt", 11, true, "{}");
  req.add_header("Authorization", "Bearer abc");
  req.add_header("X-Empty", "");
  CHECK(req.header("authorization") == std::optional<std::string_view>("Bearer abc"));
  CHECK(req.header("AUTHORIZATION") == std::optional<std::string_view>("Bearer abc"));
  CHECK(req.header("x-empty") == std::optional<std::string_view>(""));
  CHECK_FALSE(req.header("Authorizatio").has_value());
  CHECK(req.body() == "{}");
}

TEST_CASE("Response refuses header injection and server-owned headers", "[http][router]") {
  Response res;
  CHECK(res.add_header("Cache-Control", "no-store"));
  CHECK_FALSE(res.add_header("X-Evil", "a\r\nSet-Cookie: x"));
  CHECK_FALSE(res.add_header("Bad Name", "x"));
  CHECK_FALSE(res.add_header("content-length", "5"));
  CHECK_FALSE(res.add_header("Connection", "close"));
  CHECK(res.extra_headers() == "Cache-Control: no-store\r\n");
  res.set_error(401, "bad \"token\"");
  CHECK(res.body == R"({"error":"bad \"token\""})");
}

TEST_CASE("Request routes an absolute-form target on its path", "[http][router]") {
  Request req;
  req.reset("GET", "http://example.com:8080/book/BTCUSDT?depth=5", 11, true, {});
  CHECK(req.target() == "http://example.com:8080/book/BTCUSDT?depth=5");
  CHECK(req.path() == "/book/BTCUSDT");
  CHECK(req.query("depth") == std::optional<std::string_view>("5"));
  req.reset("GET", "http://example.com", 11, true, {});
  CHECK(req.path().empty());
  req.reset("OPTIONS", "*", 11, true, {});
  CHECK(req.path() == "*");
}

TEST_CASE("Router registers deferred routes beside synchronous ones and hands them a Responder", "[http][router]") {
  Router router;
  router.get("/price/x", [](const Request&, Response& res) { res.set_json(200, "{}"); });
  router.post_deferred("/price/x", [](const Request&, tb::http::Responder) {});
  CHECK_THROWS_AS(router.add_deferred(Method::Get, "/price/x", [](const Request&, tb::http::Responder) {}),
                  std::invalid_argument);  // one handler per (method, path), of either kind
  CHECK_THROWS_AS(router.post_deferred("/neg", [](const Request&, tb::http::Responder) {}, std::chrono::milliseconds(-1)),
                  std::invalid_argument);
  Response res;
  CHECK(route(router, "PUT", "/price/x", res) == DispatchOutcome::MethodNotAllowed);
  CHECK(res.extra_headers().find("Allow: GET, HEAD, POST") != std::string_view::npos);

  struct Starter final : tb::http::DeferredStarter {
    std::chrono::milliseconds seen{-1};
    tb::http::Responder begin_deferred(std::chrono::milliseconds deadline) override {
      seen = deadline;
      return {};
    }
  } starter;
  Router deferred;
  bool called = false;
  deferred.get_prefix_deferred("/p/", [&called](const Request& req, tb::http::Responder) { called = req.path_param() == "BTC"; },
                               std::chrono::milliseconds(250));
  Request req;
  req.reset("GET", "/p/BTC", 11, true, {});
  CHECK(deferred.dispatch(req, res, &starter) == DispatchOutcome::Deferred);
  CHECK(called);
  CHECK(starter.seen == std::chrono::milliseconds(250));
  // Without a server (no starter) a deferred route is a 500, never a silent success.
  CHECK(route(deferred, "GET", "/p/BTC", res) == DispatchOutcome::HandlerFailed);
  CHECK(res.status == 500);
}
