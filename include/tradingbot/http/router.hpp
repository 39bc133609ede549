// Router: maps (method, path) to handlers. Exact routes ("/health") and prefix routes whose last
// segment is a parameter ("/book/" matches "/book/BTCUSDT" and the handler reads "BTCUSDT" from
// Request::path_param(); an empty segment or one containing '/' does not match). Unknown path:
// 404 {"error":"not found"}; known path, unregistered method: 405 with an Allow header. HEAD is
// answered by the GET handler when no HEAD handler is registered (the server drops the body).
// A handler that throws gets a 500 {"error":"internal error"}; it never takes the server down.
// Registration happens before Server::start() on the constructing thread (misuse throws
// std::invalid_argument); dispatch() runs on the HTTP thread, and handlers run there too: they
// must never block (read published snapshots, post work to the trading thread, return).
#pragma once

#include <array>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/http/message.hpp"

namespace tb::http {

using Handler = std::function<void(const Request&, Response&)>;

enum class DispatchOutcome { Handled, NotFound, MethodNotAllowed, HandlerFailed };

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

  // Routes `request` and fills `response` (404/405/500 included). Sets request's path_param.
  DispatchOutcome dispatch(Request& request, Response& response) const;

 private:
  struct Route {
    std::string path;  // exact path or prefix
    std::array<Handler, kMethodCount> handlers;
    std::string allow;  // "GET, HEAD, POST": the Allow header for a 405
  };
  Router& add_route(std::vector<Route>& routes, Method method, std::string_view path, Handler handler);
  const Route* find(std::string_view path, std::string_view& param) const noexcept;

  std::vector<Route> exact_;
  std::vector<Route> prefix_;  // longest prefix wins
};

}  // namespace tb::http
