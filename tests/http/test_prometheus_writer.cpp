// PrometheusWriter: exact text exposition 0.0.4 output, prefixing and escaping.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "tradingbot/http/prometheus_writer.hpp"
#include "tradingbot/http/server_stats.hpp"

using tb::http::MetricType;
using tb::http::PrometheusWriter;

TEST_CASE("PrometheusWriter writes HELP and TYPE once per family, then its samples", "[http][prometheus]") {
  std::string out;
  PrometheusWriter w(out);
  w.family("tradingbot_ws_messages_total", "Messages received.", MetricType::Counter);
  w.sample({{"stream", "btcusdt@bookTicker"}}, std::uint64_t{42});
  w.family("tradingbot_ws_messages_total", "Messages received.", MetricType::Counter);  // same family: no-op
  w.sample({{"stream", "btcusdt@depth"}}, 7);
  w.gauge("book_synced", "1 when the book is synced.", 1);
  CHECK(out ==
        "# HELP tradingbot_ws_messages_total Messages received.\n"
        "# TYPE tradingbot_ws_messages_total counter\n"
        "tradingbot_ws_messages_total{stream=\"btcusdt@bookTicker\"} 42\n"
        "tradingbot_ws_messages_total{stream=\"btcusdt@depth\"} 7\n"
        "# HELP tradingbot_book_synced 1 when the book is synced.\n"
        "# TYPE tradingbot_book_synced gauge\n"
        "tradingbot_book_synced 1\n");
}

TEST_CASE("PrometheusWriter prepends the tradingbot_ prefix only when missing", "[http][prometheus]") {
  std::string out;
  PrometheusWriter w(out);
  w.counter("orders_total", "Orders.", 3);
  w.counter("tradingbot_fills_total", "Fills.", 2);
  CHECK(out.find("\ntradingbot_orders_total 3\n") != std::string::npos);
  CHECK(out.find("\ntradingbot_fills_total 2\n") != std::string::npos);
  CHECK(out.find("tradingbot_tradingbot_") == std::string::npos);
}

TEST_CASE("PrometheusWriter escapes label values and help text", "[http][prometheus]") {
  std::string out;
  PrometheusWriter w(out);
  w.family("x", "line one\nback\\slash \"quoted\"", MetricType::Gauge);
  w.sample({{"path", "C:\\dir\n\"q\""}, {"b", ""}}, -5);
  CHECK(out ==
        "# HELP tradingbot_x line one\\nback\\\\slash \"quoted\"\n"
        "# TYPE tradingbot_x gauge\n"
        "tradingbot_x{path=\"C:\\\\dir\\n\\\"q\\\"\",b=\"\"} -5\n");
}

TEST_CASE("PrometheusWriter formats integers, doubles and raw decimals", "[http][prometheus]") {
  std::string out;
  PrometheusWriter w(out);
  w.family("v", "Values.", MetricType::Untyped);
  w.sample(std::numeric_limits<std::uint64_t>::max());
  w.sample(std::numeric_limits<std::int64_t>::min());
  w.sample(0.25);
  w.sample(std::numeric_limits<double>::quiet_NaN());
  w.sample(std::numeric_limits<double>::infinity());
  w.sample(-std::numeric_limits<double>::infinity());
  w.sample_raw({}, "61837.63");
  CHECK(out ==
        "# HELP tradingbot_v Values.\n"
        "# TYPE tradingbot_v untyped\n"
        "tradingbot_v 18446744073709551615\n"
        "tradingbot_v -9223372036854775808\n"
        "tradingbot_v 0.25\n"
        "tradingbot_v NaN\n"
        "tradingbot_v +Inf\n"
        "tradingbot_v -Inf\n"
        "tradingbot_v 61837.63\n");
}

TEST_CASE("PrometheusWriter refuses invalid names, split families and samples without a family", "[http][prometheus]") {
  std::string out;
  PrometheusWriter w(out);
  CHECK_THROWS_AS(w.sample(1), std::logic_error);
  CHECK_THROWS_AS(w.family("bad-name", "x", MetricType::Gauge), std::invalid_argument);
  CHECK_THROWS_AS(w.family("bad name", "x", MetricType::Gauge), std::invalid_argument);
  w.family("a", "A.", MetricType::Gauge);
  CHECK_THROWS_AS(w.sample({{"bad-label", "x"}}, 1), std::invalid_argument);
  CHECK_THROWS_AS(w.sample({{"__reserved", "x"}}, 1), std::invalid_argument);
  CHECK_THROWS_AS(w.sample_raw({}, "1\n2"), std::invalid_argument);
  w.family("b", "B.", MetricType::Gauge);
  CHECK_THROWS_AS(w.family("a", "A.", MetricType::Gauge), std::logic_error);
}

TEST_CASE("write_server_metrics renders every server counter", "[http][prometheus]") {
  tb::http::ServerStats stats;
  stats.requests = 10;
  stats.responses_by_class = {0, 8, 0, 2, 0};
  stats.connections_open = 3;
  stats.read_timeouts = 1;
  std::string out;
  PrometheusWriter w(out);
  tb::http::write_server_metrics(w, stats);
  CHECK(out.find("# TYPE tradingbot_http_requests_total counter\ntradingbot_http_requests_total 10\n") !=
        std::string::npos);
  CHECK(out.find("tradingbot_http_responses_total{class=\"2xx\"} 8\n") != std::string::npos);
  CHECK(out.find("tradingbot_http_responses_total{class=\"4xx\"} 2\n") != std::string::npos);
  CHECK(out.find("# TYPE tradingbot_http_connections_open gauge\ntradingbot_http_connections_open 3\n") !=
        std::string::npos);
  CHECK(out.find("tradingbot_http_timeouts_total{phase=\"read\"} 1\n") != std::string::npos);
}
