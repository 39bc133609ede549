// Rendering cost of the app's typical bodies: a 20-level /book JSON and a /metrics page.
// Allocations per iteration are reported too (STYLE.md habit 4): with the output string reused
// (as Response::body is per connection) rendering must not allocate once warm.
#include <benchmark/benchmark.h>

#include "allocation_counter.hpp"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "tradingbot/http/json_writer.hpp"
#include "tradingbot/http/prometheus_writer.hpp"
#include "tradingbot/http/server_stats.hpp"


namespace {

void render_book(std::string& out) {
  tb::http::JsonWriter w(out);
  w.begin_object().member("symbol", "BTCUSDT").member("last_update_id", std::uint64_t{50093123456});
  w.key("bids").begin_array();
  for (int i = 0; i < 20; ++i) w.begin_array().value("61837.63").value("3.78826").end_array();
  w.end_array().key("asks").begin_array();
  for (int i = 0; i < 20; ++i) w.begin_array().value("61837.64").value("0.00100").end_array();
  w.end_array().end_object();
}

void BM_JsonBook20(benchmark::State& state) {
  std::string out;
  render_book(out);  // warm the capacity
  const auto before = tb::bench::allocation_count();
  for (auto _ : state) {
    out.clear();
    render_book(out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["allocs_per_iter"] =
      benchmark::Counter(static_cast<double>(tb::bench::allocation_count() - before) / static_cast<double>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<std::size_t>(state.iterations()) * out.size()));
}
BENCHMARK(BM_JsonBook20);

void BM_JsonEscapedString(benchmark::State& state) {
  std::string out;
  const std::string text = "a \"quoted\" line\nwith\ttabs and \\ backslashes, plus UTF-8: €";
  for (auto _ : state) {
    out.clear();
    tb::http::JsonWriter(out).value(text);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_JsonEscapedString);

void BM_PrometheusServerMetrics(benchmark::State& state) {
  tb::http::ServerStats stats;
  stats.requests = 123456789;
  stats.responses_by_class = {0, 123456000, 0, 789, 0};
  std::string out;
  for (auto _ : state) {
    out.clear();
    tb::http::PrometheusWriter w(out);
    tb::http::write_server_metrics(w, stats);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<std::size_t>(state.iterations()) * out.size()));
}
BENCHMARK(BM_PrometheusServerMetrics);

}  // namespace

BENCHMARK_MAIN();
