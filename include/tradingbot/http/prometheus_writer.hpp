// PrometheusWriter: renders metrics in the Prometheus text exposition format 0.0.4 for the app's
// GET /metrics. Each family gets its "# HELP" and "# TYPE" lines exactly once, followed by its
// samples; label values are escaped (\\, \", \n) and HELP text too (\\, \n). Every metric name
// carries the "tradingbot_" prefix (ARCHITECTURE.md section 6): a name without it has it
// prepended, so callers may write either "http_requests_total" or "tradingbot_http_requests_total".
// An invalid metric or label name, a sample before any family, or reopening a family that was
// already closed (which would split it, invalid in 0.0.4) is a programmer error and throws
// std::invalid_argument / std::logic_error; the HTTP server turns that into a 500.
// Value type: any thread, one writer per string.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tb::http {

inline constexpr std::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { Counter, Gauge, Untyped };

struct Label {
  std::string_view name;
  std::string_view value;
};

class PrometheusWriter {
 public:
  static constexpr std::string_view kPrefix = "tradingbot_";

  // Appends to `out`; existing content is kept.
  explicit PrometheusWriter(std::string& out) : out_(&out) {}

  // Starts a family: writes its HELP and TYPE lines (once). Calling it again for the family that is
  // currently open is a no-op, so a loop may call family() before each of its samples.
  PrometheusWriter& family(std::string_view name, std::string_view help, MetricType type);

  // Samples of the current family. Integers are exact; doubles use the shortest round-trip form
  // and NaN/+Inf/-Inf; sample_raw takes a pre-formatted decimal (e.g. a fixed-point price) and
  // throws std::invalid_argument when it holds anything but digits, sign, point and exponent.
  template <std::integral T>
  PrometheusWriter& sample(std::span<const Label> labels, T value) {
    if constexpr (std::signed_integral<T>) {
      return sample_int(labels, static_cast<std::int64_t>(value));
    } else {
      return sample_uint(labels, static_cast<std::uint64_t>(value));
    }
  }
  PrometheusWriter& sample(std::span<const Label> labels, double value);
  PrometheusWriter& sample_raw(std::span<const Label> labels, std::string_view value);

  template <class V>
  PrometheusWriter& sample(std::initializer_list<Label> labels, V value) {
    return sample(std::span<const Label>(labels.begin(), labels.size()), value);
  }
  template <class V>
  PrometheusWriter& sample(V value) {
    return sample(std::span<const Label>(), value);
  }

  // One-liners for a family with a single unlabelled sample.
  template <class V>
  PrometheusWriter& counter(std::string_view name, std::string_view help, V value) {
    return family(name, help, MetricType::Counter).sample(value);
  }
  template <class V>
  PrometheusWriter& gauge(std::string_view name, std::string_view help, V value) {
    return family(name, help, MetricType::Gauge).sample(value);
  }

  [[nodiscard]] static bool is_valid_metric_name(std::string_view name) noexcept;
  [[nodiscard]] static bool is_valid_label_name(std::string_view name) noexcept;

 private:
  PrometheusWriter& sample_int(std::span<const Label> labels, std::int64_t value);
  PrometheusWriter& sample_uint(std::span<const Label> labels, std::uint64_t value);
  void begin_sample(std::span<const Label> labels);

  std::string* out_;
  std::string current_;                 // full name of the open family ("" before the first)
  std::vector<std::string> finished_;   // families already closed, to refuse splitting one
};

}  // namespace tb::http
