// Router implementation; see router.hpp.
#include "tradingbot/http/router.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace tb::http {

namespace {

std::string make_allow(const std::array<Handler, kMethodCount>& handlers) {
  std::string allow;
  const auto append = [&allow](std::string_view name) {
    if (!allow.empty()) allow.append(", ");
    allow.append(name);
  };
  for (std::size_t i = 0; i < kMethodCount; ++i) {
    const auto method = static_cast<Method>(i);
    if (method == Method::Other) continue;
    const bool head_via_get = method == Method::Head && handlers[static_cast<std::size_t>(Method::Get)];
    if (handlers[i] || head_via_get) append(to_string(method));
  }
  return allow;
}

}  // namespace

Router& Router::add(Method method, std::string_view path, Handler handler) {
  if (path.empty() || path.front() != '/' || path.find('?') != std::string_view::npos) {
    throw std::invalid_argument("Router: path must start with '/' and hold no query: '" + std::string(path) + "'");
  }
  return add_route(exact_, method, path, std::move(handler));
}

Router& Router::add_prefix(Method method, std::string_view prefix, Handler handler) {
  if (prefix.empty() || prefix.front() != '/' || prefix.back() != '/' ||
      prefix.find('?') != std::string_view::npos) {
    throw std::invalid_argument("Router: prefix must start and end with '/': '" + std::string(prefix) + "'");
  }
  add_route(prefix_, method, prefix, std::move(handler));
  // Longest prefix first, so "/book/depth/" wins over "/book/".
  std::stable_sort(prefix_.begin(), prefix_.end(),
                   [](const Route& a, const Route& b) { return a.path.size() > b.path.size(); });
  return *this;
}

Router& Router::add_route(std::vector<Route>& routes, Method method, std::string_view path, Handler handler) {
  if (method == Method::Other) throw std::invalid_argument("Router: cannot register Method::Other");
  if (!handler) throw std::invalid_argument("Router: empty handler for '" + std::string(path) + "'");
  auto it = std::find_if(routes.begin(), routes.end(), [path](const Route& r) { return r.path == path; });
  if (it == routes.end()) {
    routes.push_back(Route{std::string(path), {}, {}});
    it = routes.end() - 1;
  }
  Handler& slot = it->handlers[static_cast<std::size_t>(method)];
  if (slot) {
    throw std::invalid_argument("Router: " + std::string(to_string(method)) + " " + std::string(path) +
                                " registered twice");
  }
  slot = std::move(handler);
  it->allow = make_allow(it->handlers);
  return *this;
}

const Router::Route* Router::find(std::string_view path, std::string_view& param) const noexcept {
  for (const Route& route : exact_) {
    if (route.path == path) return &route;
  }
  for (const Route& route : prefix_) {
    if (path.size() > route.path.size() && path.starts_with(route.path)) {
      const std::string_view rest = path.substr(route.path.size());
      if (rest.find('/') != std::string_view::npos) continue;
      param = rest;
      return &route;
    }
  }
  return nullptr;
}

DispatchOutcome Router::dispatch(Request& request, Response& response) const {
  std::string_view param;
  const Route* route = find(request.path(), param);
  if (route == nullptr) {
    response.set_error(404, "not found");
    return DispatchOutcome::NotFound;
  }
  const Method method = request.method();
  const Handler* handler = &route->handlers[static_cast<std::size_t>(method)];
  if (!*handler && method == Method::Head) handler = &route->handlers[static_cast<std::size_t>(Method::Get)];
  if (!*handler) {
    response.set_error(405, "method not allowed");
    response.add_header("Allow", route->allow);
    return DispatchOutcome::MethodNotAllowed;
  }
  request.set_path_param(param);
  try {
    (*handler)(request, response);
    return DispatchOutcome::Handled;
  } catch (...) {
    // A handler bug answers 500 and leaves the server running (ARCHITECTURE.md section 6).
    response.reset();
    response.set_error(500, "internal error");
    response.close_connection = false;
    return DispatchOutcome::HandlerFailed;
  }
}

}  // namespace tb::http
