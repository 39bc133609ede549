// Router: maps (method, path) to handlers. Exact routes ("/health") and prefix routes whose last
// segment is a parameter ("/book/" matches "/book/BTCUSDT" and the handler reads "BTCUSDT" from
// Request::path_param(); an empty segment or one containing '/' does not match). Unknown path:
// 404 {"error":"not found"}; known path, unregistered method: 405 with an Allow header. HEAD is
// answered by the GET handler when no HEAD handler is registered (the server drops the body).
// A handler that throws gets a 500 {"error":"internal error"}; it never takes the server down.
// Registration happens before Server::start() on the constructing thread (misuse throws
// std::invalid_argument); dispatch() runs on the HTTP thread, and handlers run there too: they
// must never block. Handler thread-safety rule: a handler may only read published snapshots
// (Published<T>) and atomics, or post work to the trading thread and return.
// Two handler kinds:
//  - Handler (synchronous): fills the Response before returning. The fast path: /health,
//    /status, /metrics, /book. A warm connection answers without allocating.
//  - DeferredHandler: receives a Responder (responder.hpp) instead of a Response and completes it
//    later from any thread, e.g. after the trading thread acted (/control) or a REST fetch
//    finished (/price miss). Never complete it by blocking the HTTP thread: hand it over. Each
//    deferred route has a deadline (0 = the server's read_timeout_ms) after which the client gets
//    504. A deferred response holds back later pipelined responses on the same connection.
// A (method, path) has exactly one handler of either kind.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/http/message.hpp"
#include "tradingbot/http/responder.hpp"

namespace tb::http {

using Handler = std::function<void(const Request&, Response&)>;
// The Request's views are valid only during the call: copy what the later work needs.
using DeferredHandler = std::function<void(const Request&, Responder)>;

// Handled: the response is filled. Deferred: a DeferredHandler took the Responder; the response
// comes later through it. A deferred handler that throws is HandlerFailed: the 500 is answered at
// once and its Responder, wherever it went, is void from then on (completing it is dropped).
enum class DispatchOutcome { Handled, NotFound, MethodNotAllowed, HandlerFailed, Deferred };

// Supplied by the server to dispatch(): creates the Responder bound to the current request.
class DeferredStarter {
 public:
  virtual Responder begin_deferred(std::chrono::milliseconds deadline) = 0;

 protected:
  virtual ~DeferredStarter() = default;
};

class Router {
 public:
  // Exact path, e.g. "/health". Must start with '/'. Registering a (method, path) twice throws.
  Router& add(Method method, std::string_view path, Handler handler);
  // Prefix ending in '/', e.g. "/book/"; matches "<prefix><one non-empty segment>".
  Router& add_prefix(Method method, std::string_view prefix, Handler handler);

  Router& get(std::string_view path, Handler handler) { return add(Method::Get, path, std::move(handler)); }
  Router& post(std::string_view path, Handler handler) { return add(Method::Post, path, std::move(handler)); }
  Router& get_prefix(std::string_view prefix, Handler handler) {
    return add_prefix(Method::Get, prefix, std::move(handler));
  }
  Router& post_prefix(std::string_view prefix, Handler handler) {
    return add_prefix(Method::Post, prefix, std::move(handler));
  }

  // Deferred routes; `deadline` 0 means the server's read_timeout_ms.
  Router& add_deferred(Method method, std::string_view path, DeferredHandler handler,
                       std::chrono::milliseconds deadline = std::chrono::milliseconds(0));
  Router& add_prefix_deferred(Method method, std::string_view prefix, DeferredHandler handler,
                              std::chrono::milliseconds deadline = std::chrono::milliseconds(0));
  Router& post_deferred(std::string_view path, DeferredHandler handler,
                        std::chrono::milliseconds deadline = std::chrono::milliseconds(0)) {
    return add_deferred(Method::Post, path, std::move(handler), deadline);
  }
  Router& get_prefix_deferred(std::string_view prefix, DeferredHandler handler,
                              std::chrono::milliseconds deadline = std::chrono::milliseconds(0)) {
    return add_prefix_deferred(Method::Get, prefix, std::move(handler), deadline);
  }

  // Routes `request` and fills `response` (404/405/500 included). Sets request's path_param.
  // A deferred route calls starter->begin_deferred() and returns Deferred; with no starter
  // (unit tests of the routing alone) it answers 500.
  DispatchOutcome dispatch(Request& request, Response& response, DeferredStarter* starter = nullptr) const;

 private:
  struct Route {
    std::string path;  // exact path or prefix
    std::array<Handler, kMethodCount> handlers;
    std::array<DeferredHandler, kMethodCount> deferred;
    std::array<std::chrono::milliseconds, kMethodCount> deadlines{};
    std::string allow;  // "GET, HEAD, POST": the Allow header for a 405
  };
  Router& add_route(std::vector<Route>& routes, Method method, std::string_view path, Handler handler,
                    DeferredHandler deferred, std::chrono::milliseconds deadline);
  static void check_path(std::string_view path);
  static void check_prefix(std::string_view prefix);
  void sort_prefixes();
  const Route* find(std::string_view path, std::string_view& param) const noexcept;

  std::vector<Route> exact_;
  std::vector<Route> prefix_;  // longest prefix wins
};

}  // namespace tb::http
