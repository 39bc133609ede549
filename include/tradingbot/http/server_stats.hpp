// ServerStats: a plain snapshot of the HTTP server's counters, taken by Server::stats() from
// atomics the HTTP thread maintains, so the app can publish them in /metrics (write_server_metrics
// renders them with the tradingbot_http_ names). Value type: any thread.
#pragma once

#include <array>
#include <cstdint>

namespace tb::http {

class PrometheusWriter;

struct ServerStats {
  std::uint64_t requests = 0;               // complete requests handed to the router
  std::array<std::uint64_t, 5> responses_by_class{};  // [0]=1xx ... [4]=5xx, error responses included
  std::uint64_t connections_open = 0;       // gauge
  std::uint64_t connections_accepted = 0;   // accepted and served (rejected ones not included)
  std::uint64_t connections_rejected = 0;   // over max_connections: answered 503 and closed
  std::uint64_t bad_requests = 0;           // unparsable or over a limit (400/413/431)
  std::uint64_t read_timeouts = 0;          // request not complete within read_timeout_ms
  std::uint64_t idle_timeouts = 0;          // keep-alive connection idle for idle_timeout_ms
  std::uint64_t write_timeouts = 0;         // client did not take the response in time
  std::uint64_t handler_errors = 0;         // handler threw: answered 500
  std::uint64_t accept_errors = 0;          // accept() failed (e.g. out of file descriptors)
  std::uint64_t internal_errors = 0;        // an exception escaped the event loop (a bug): one connection lost
  std::uint64_t deferred_requests = 0;      // requests handed to a deferred route (a Responder made)
  std::uint64_t deferred_timeouts = 0;      // deferred responses not completed in time: answered 504
  std::uint64_t deferred_dropped = 0;       // completions that arrived too late (504 sent, client gone, server stopped)
};

// Writes the stats as tradingbot_http_* families (counters plus the open-connections gauge).
void write_server_metrics(PrometheusWriter& writer, const ServerStats& stats);

}  // namespace tb::http
