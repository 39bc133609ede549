// Renders ServerStats for /metrics; see server_stats.hpp.
#include "tradingbot/http/server_stats.hpp"

#include "tradingbot/http/prometheus_writer.hpp"

namespace tb::http {

void write_server_metrics(PrometheusWriter& writer, const ServerStats& stats) {
  writer.counter("http_requests_total", "HTTP requests received and routed.", stats.requests);
  writer.family("http_responses_total", "HTTP responses sent, by status class.", MetricType::Counter);
  static constexpr const char* kClasses[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
  for (std::size_t i = 0; i < stats.responses_by_class.size(); ++i) {
    writer.sample({{"class", kClasses[i]}}, stats.responses_by_class[i]);
  }
  writer.gauge("http_connections_open", "HTTP connections currently open.", stats.connections_open);
  writer.counter("http_connections_accepted_total", "HTTP connections accepted.", stats.connections_accepted);
  writer.counter("http_connections_rejected_total", "HTTP connections refused over max_connections.",
                 stats.connections_rejected);
  writer.counter("http_bad_requests_total", "HTTP requests rejected as malformed or over a size limit.",
                 stats.bad_requests);
  writer.family("http_timeouts_total", "HTTP connections closed by a deadline, by phase.", MetricType::Counter);
  writer.sample({{"phase", "read"}}, stats.read_timeouts);
  writer.sample({{"phase", "idle"}}, stats.idle_timeouts);
  writer.sample({{"phase", "write"}}, stats.write_timeouts);
  writer.counter("http_handler_errors_total", "HTTP handlers that threw (answered 500).", stats.handler_errors);
  writer.counter("http_accept_errors_total", "HTTP accept() failures.", stats.accept_errors);
  writer.counter("http_internal_errors_total", "Exceptions that escaped the HTTP event loop.", stats.internal_errors);
  writer.counter("http_deferred_requests_total", "HTTP requests answered later through a Responder.",
                 stats.deferred_requests);
  writer.counter("http_deferred_timeouts_total", "Deferred HTTP responses not completed in time (answered 504).",
                 stats.deferred_timeouts);
  writer.counter("http_deferred_dropped_total",
                 "Deferred completions dropped: after the 504, the client left or the server stopped.",
                 stats.deferred_dropped);
}

}  // namespace tb::http
