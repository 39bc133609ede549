// Router implementation; see router.hpp.
#include "tradingbot/http/router.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace tb::http {

namespace {

std::string make_allow(const std::array<Handler, kMethodCount>& sync,
                       const std::array<DeferredHandler, kMethodCount>& deferred) {
  const auto has = [&](std::size_t i) { return static_cast<bool>(sync[i]) || static_cast<bool>(deferred[i]); };
  std::string allow;
  const auto append = [&allow](std::string_view name) {
    if (!allow.empty()) allow.append(", ");
    allow.append(name);
  };
  for (std::size_t i = 0; i < kMethodCount; ++i) {
    const auto method = static_cast<Method>(i);
    if (method == Method::Other) continue;
    const bool head_via_get = method == Method::Head && has(static_cast<std::size_t>(Method::Get));
    if (has(i) || head_via_get) append(to_string(method));
  }
  return allow;
}

}  // namespace

void Router::check_path(std::string_view path) {
  if (path.empty() || path.front() != '/' || path.find('?') != std::string_view::npos) {
    throw std::invalid_argument("Router: path must start with '/' and hold no query: '" + std::string(path) + "'");
  }
}

void Router::check_prefix(std::string_view prefix) {
  if (prefix.empty() || prefix.front() != '/' || prefix.back() != '/' ||
      prefix.find('?') != std::string_view::npos) {
    throw std::invalid_argument("Router: prefix must start and end with '/': '" + std::string(prefix) + "'");
  }
}

void Router::sort_prefixes() {
  // Longest prefix first, so "/book/depth/" wins over "/book/".
  std::stable_sort(prefix_.begin(), prefix_.end(),
                   [](const Route& a, const Route& b) { return a.path.size() > b.path.size(); });
}

Router& Router::add(Method method, std::string_view path, Handler handler) {
  check_path(path);
  if (!handler) throw std::invalid_argument("Router: empty handler for '" + std::string(path) + "'");
  return add_route(exact_, method, path, std::move(handler), {}, {});
}

Router& Router::add_prefix(Method method, std::string_view prefix, Handler handler) {
  check_prefix(prefix);
  if (!handler) throw std::invalid_argument("Router: empty handler for '" + std::string(prefix) + "'");
  add_route(prefix_, method, prefix, std::move(handler), {}, {});
  sort_prefixes();
  return *this;
}

Router& Router::add_deferred(Method method, std::string_view path, DeferredHandler handler,
                             std::chrono::milliseconds deadline) {
  check_path(path);
  if (!handler) throw std::invalid_argument("Router: empty handler for '" + std::string(path) + "'");
  return add_route(exact_, method, path, {}, std::move(handler), deadline);
}

Router& Router::add_prefix_deferred(Method method, std::string_view prefix, DeferredHandler handler,
                                    std::chrono::milliseconds deadline) {
  check_prefix(prefix);
  if (!handler) throw std::invalid_argument("Router: empty handler for '" + std::string(prefix) + "'");
  add_route(prefix_, method, prefix, {}, std::move(handler), deadline);
  sort_prefixes();
  return *this;
}

Router& Router::add_route(std::vector<Route>& routes, Method method, std::string_view path, Handler handler,
                          DeferredHandler deferred, std::chrono::milliseconds deadline) {
  if (method == Method::Other) throw std::invalid_argument("Router: cannot register Method::Other");
  if (deadline.count() < 0) throw std::invalid_argument("Router: negative deadline for '" + std::string(path) + "'");
  auto it = std::find_if(routes.begin(), routes.end(), [path](const Route& r) { return r.path == path; });
  if (it == routes.end()) {
    routes.push_back(Route{std::string(path), {}, {}, {}, {}});
    it = routes.end() - 1;
  }
  const auto index = static_cast<std::size_t>(method);
  if (it->handlers[index] || it->deferred[index]) {
    throw std::invalid_argument("Router: " + std::string(to_string(method)) + " " + std::string(path) +
                                " registered twice");
  }
  it->handlers[index] = std::move(handler);
  it->deferred[index] = std::move(deferred);
  it->deadlines[index] = deadline;
  it->allow = make_allow(it->handlers, it->deferred);
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

DispatchOutcome Router::dispatch(Request& request, Response& response, DeferredStarter* starter) const {
  std::string_view param;
  const Route* route = find(request.path(), param);
  if (route == nullptr) {
    response.set_error(404, "not found");
    return DispatchOutcome::NotFound;
  }
  auto index = static_cast<std::size_t>(request.method());
  if (request.method() == Method::Head && !route->handlers[index] && !route->deferred[index]) {
    index = static_cast<std::size_t>(Method::Get);
  }
  const Handler& handler = route->handlers[index];
  const DeferredHandler& deferred = route->deferred[index];
  if (!handler && !deferred) {
    response.set_error(405, "method not allowed");
    response.add_header("Allow", route->allow);
    return DispatchOutcome::MethodNotAllowed;
  }
  request.set_path_param(param);
  try {
    if (handler) {  // the synchronous fast path: no Responder, no allocation
      handler(request, response);
      return DispatchOutcome::Handled;
    }
    if (starter == nullptr) throw std::logic_error("deferred route dispatched without a DeferredStarter");
    deferred(request, starter->begin_deferred(route->deadlines[index]));
    return DispatchOutcome::Deferred;
  } catch (...) {
    // A handler bug answers 500 and leaves the server running (ARCHITECTURE.md section 6). The
    // server voids a Responder a throwing deferred handler was given.
    response.reset();
    response.set_error(500, "internal error");
    response.close_connection = false;
    return DispatchOutcome::HandlerFailed;
  }
}

}  // namespace tb::http
