#include "tradingbot/app/status_endpoints.hpp"

#include <string>

#include "tradingbot/app/logging.hpp"
#include "tradingbot/app/store_service.hpp"
#include "tradingbot/app/trading_service.hpp"
#include "tradingbot/app/market_data_service.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/http/json_writer.hpp"
#include "tradingbot/http/prometheus_writer.hpp"

namespace tb::app {
namespace {

// A duration as an exact decimal with 3 places, through core's fixed-point printer (1e-8 units,
// truncated toward zero). Milliseconds: ns * 100 units, exact for durations under ~2.9 years.
std::string seconds3(Nanos ns) { return fixed_to_string(ns / 10, 3); }
std::string millis3(Nanos ns) { return fixed_to_string(ns * 100, 3); }

Nanos loop_lag_ns(const LoopHeartbeat& heartbeat) {
  const Nanos beat = heartbeat.last_beat_mono_ns.load(std::memory_order_acquire);
  return beat == 0 ? kLoopStallAfterNs : monotonic_ns() - beat;
}

void write_symbol_states(http::JsonWriter& json, const DaemonStatus& status) {
  json.key("symbols").begin_object();
  for (const auto& symbol : status.symbols) {
    json.key(symbol.symbol.view()).begin_object();
    json.member("synced", symbol.book_synced);
    json.member("last_update_id", symbol.last_update_id);
    json.member("resyncs", symbol.resyncs);
    json.member("gaps", symbol.gaps);
    json.end_object();
  }
  json.end_object();
}

}  // namespace

void add_status_endpoints(http::Router& router, StatusSources sources) {
  const Published<DaemonStatus>* published = sources.status;
  const LoopHeartbeat* heartbeat = sources.heartbeat;
  auto http_stats = std::move(sources.http_stats);

  // Liveness: the trading loop itself must be beating. Cheap on purpose (load balancers and
  // wrk hammer it): one atomic load, no snapshot.
  router.get("/health", [heartbeat](const http::Request&, http::Response& response) {
    const Nanos lag = loop_lag_ns(*heartbeat);
    const bool alive = lag < kLoopStallAfterNs;
    response.status = alive ? 200 : 503;
    http::JsonWriter json(response.body);
    json.begin_object();
    json.member("status", alive ? "ok" : "stalled");
    json.key("loop_lag_ms").raw_number(millis3(lag));
    json.end_object();
  });

  // Readiness: every symbol's book synced and its data fresh; otherwise 503 with the reasons.
  router.get("/ready", [published, heartbeat](const http::Request&, http::Response& response) {
    const auto status = published->load();
    const bool loop_alive = loop_lag_ns(*heartbeat) < kLoopStallAfterNs;
    const bool ready = loop_alive && status && status->not_ready_reasons.empty();
    response.status = ready ? 200 : 503;
    http::JsonWriter json(response.body);
    json.begin_object();
    json.member("ready", ready);
    json.key("reasons").begin_array();
    if (!loop_alive) json.value("trading loop stalled");
    if (status) {
      for (const auto& reason : status->not_ready_reasons) json.value(reason);
    }
    json.end_array();
    json.end_object();
  });

  router.get("/status", [published, heartbeat, http_stats](const http::Request&, http::Response& response) {
    const auto status = published->load();
    if (!status) {
      response.set_error(503, "starting");
      return;
    }
    const http::ServerStats server = http_stats ? http_stats() : http::ServerStats{};
    http::JsonWriter json(response.body);
    json.begin_object();
    json.member("version", status->version);
    json.member("mode", config::to_string(status->mode));
    json.key("uptime_s").raw_number(seconds3(wall_clock_ns() - status->started_wall_ns));
    json.member("halted", status->halted);
    json.key("loop").begin_object();
    json.key("lag_ms").raw_number(millis3(loop_lag_ns(*heartbeat)));
    json.member("heartbeats", status->loop_iterations);
    json.member("busy_poll_us", status->busy_poll_us);
    json.member("cpu", status->cpu);
    json.key("snapshot_age_ms").raw_number(millis3(monotonic_ns() - status->published_mono_ns));
    json.end_object();
    write_symbol_states(json, *status);
    json.key("ready_reasons").begin_array();
    for (const auto& reason : status->not_ready_reasons) json.value(reason);
    json.end_array();
    json.key("http").begin_object();
    json.member("requests", server.requests);
    json.member("connections_open", server.connections_open);
    json.member("connections_rejected", server.connections_rejected);
    json.member("bad_requests", server.bad_requests);
    json.member("read_timeouts", server.read_timeouts);
    json.end_object();
    json.key("log").begin_object();
    json.member("dropped_lines", dropped_log_lines());
    json.end_object();
    json.member("config_reloads", status->config_reloads);
    write_store_status(json, status->store);
    write_trading_status(json, status->trading);
    write_market_data_json(json, status->market);
    json.end_object();
  });

  router.get("/metrics", [published, heartbeat, http_stats](const http::Request&, http::Response& response) {
    response.content_type = std::string(http::kPrometheusContentType);
    const auto status = published->load();
    const Nanos lag = loop_lag_ns(*heartbeat);  // read once: "up" and the lag must agree
    http::PrometheusWriter metrics(response.body);
    metrics.family("up", "1 while the trading loop is beating", http::MetricType::Gauge)
        .sample(lag < kLoopStallAfterNs ? 1 : 0);
    metrics.family("loop_lag_seconds", "Age of the trading loop's last heartbeat", http::MetricType::Gauge)
        .sample_raw({}, seconds3(lag));
    if (status) {
      metrics.family("build_info", "Version of the running binary", http::MetricType::Gauge)
          .sample({{"version", status->version}}, 1);
      metrics.family("start_time_seconds", "Unix time the daemon started", http::MetricType::Gauge)
          .sample(status->started_wall_ns / kNanosPerSecond);
      metrics.family("ready", "1 when every symbol's book is synced and fresh", http::MetricType::Gauge)
          .sample(status->not_ready_reasons.empty() ? 1 : 0);
      metrics.family("halted", "1 while trading is halted", http::MetricType::Gauge).sample(status->halted ? 1 : 0);
      metrics.family("config_reloads_total", "Successful SIGHUP config reloads", http::MetricType::Counter)
          .sample(status->config_reloads);
      metrics.family("book_synced", "1 when the symbol's local book is in sync", http::MetricType::Gauge);
      for (const auto& symbol : status->symbols) {
        metrics.sample({{"symbol", symbol.symbol.view()}}, symbol.book_synced ? 1 : 0);
      }
      metrics.family("book_resyncs_total", "Book resynchronisations per symbol", http::MetricType::Counter);
      for (const auto& symbol : status->symbols) metrics.sample({{"symbol", symbol.symbol.view()}}, symbol.resyncs);
      write_store_metrics(metrics, status->store);
      write_trading_metrics(metrics, status->trading);
      write_market_data_metrics(metrics, status->market);
    }
    metrics.family("log_dropped_lines_total", "Log lines dropped because the async queue was full",
                   http::MetricType::Counter)
        .sample(dropped_log_lines());
    if (http_stats) http::write_server_metrics(metrics, http_stats());
  });
}

}  // namespace tb::app
