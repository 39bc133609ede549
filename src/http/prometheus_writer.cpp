// PrometheusWriter implementation; see the header for the contract.
#include "tradingbot/http/prometheus_writer.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

namespace tb::http {

namespace {

bool is_alpha_or_underscore(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

std::string_view type_name(MetricType type) noexcept {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Untyped:
      break;
  }
  return "untyped";
}

// HELP text: backslash and newline are escaped.
void append_help(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c == '\\') {
      out.append("\\\\", 2);
    } else if (c == '\n') {
      out.append("\\n", 2);
    } else {
      out.push_back(c);
    }
  }
}

// Label values: backslash, double quote and newline are escaped.
void append_label_value(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c == '\\') {
      out.append("\\\\", 2);
    } else if (c == '"') {
      out.append("\\\"", 2);
    } else if (c == '\n') {
      out.append("\\n", 2);
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

bool PrometheusWriter::is_valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !(is_alpha_or_underscore(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alpha_or_underscore(c) || is_digit(c) || c == ':'; });
}

bool PrometheusWriter::is_valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !is_alpha_or_underscore(name[0])) return false;
  if (name.starts_with("__")) return false;  // reserved for Prometheus itself
  return std::all_of(name.begin(), name.end(), [](char c) { return is_alpha_or_underscore(c) || is_digit(c); });
}

PrometheusWriter& PrometheusWriter::family(std::string_view name, std::string_view help, MetricType type) {
  std::string full;
  if (!name.starts_with(kPrefix)) full.append(kPrefix);
  full.append(name);
  if (!is_valid_metric_name(full)) {
    throw std::invalid_argument("PrometheusWriter: invalid metric name '" + full + "'");
  }
  if (full == current_) return *this;
  if (std::find(finished_.begin(), finished_.end(), full) != finished_.end()) {
    throw std::logic_error("PrometheusWriter: family '" + full + "' was already written; its samples must be contiguous");
  }
  if (!current_.empty()) finished_.push_back(std::move(current_));
  current_ = std::move(full);

  std::string& out = *out_;
  out.append("# HELP ").append(current_).push_back(' ');
  append_help(out, help);
  out.append("\n# TYPE ").append(current_).push_back(' ');
  out.append(type_name(type)).push_back('\n');
  return *this;
}

void PrometheusWriter::begin_sample(std::span<const Label> labels) {
  if (current_.empty()) throw std::logic_error("PrometheusWriter: sample before family()");
  for (const Label& label : labels) {
    if (!is_valid_label_name(label.name)) {
      throw std::invalid_argument("PrometheusWriter: invalid label name '" + std::string(label.name) + "'");
    }
  }
  std::string& out = *out_;
  out.append(current_);
  if (!labels.empty()) {
    out.push_back('{');
    bool first = true;
    for (const Label& label : labels) {
      if (!first) out.push_back(',');
      first = false;
      out.append(label.name).append("=\"", 2);
      append_label_value(out, label.value);
      out.push_back('"');
    }
    out.push_back('}');
  }
  out.push_back(' ');
}

PrometheusWriter& PrometheusWriter::sample_int(std::span<const Label> labels, std::int64_t value) {
  begin_sample(labels);
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out_->append(digits, static_cast<std::size_t>(result.ptr - digits)).push_back('\n');
  return *this;
}

PrometheusWriter& PrometheusWriter::sample_uint(std::span<const Label> labels, std::uint64_t value) {
  begin_sample(labels);
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out_->append(digits, static_cast<std::size_t>(result.ptr - digits)).push_back('\n');
  return *this;
}

PrometheusWriter& PrometheusWriter::sample(std::span<const Label> labels, double value) {
  begin_sample(labels);
  if (std::isnan(value)) {
    out_->append("NaN\n");
  } else if (std::isinf(value)) {
    out_->append(value > 0 ? "+Inf\n" : "-Inf\n");
  } else {
    char digits[32];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    out_->append(digits, static_cast<std::size_t>(result.ptr - digits)).push_back('\n');
  }
  return *this;
}

PrometheusWriter& PrometheusWriter::sample_raw(std::span<const Label> labels, std::string_view value) {
  const bool special = value == "NaN" || value == "+Inf" || value == "-Inf";
  const bool numeric = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
    return is_digit(c) || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E';
  });
  if (!special && !numeric) {
    throw std::invalid_argument("PrometheusWriter: sample value '" + std::string(value) + "' is not a number");
  }
  begin_sample(labels);
  out_->append(value).push_back('\n');
  return *this;
}

}  // namespace tb::http
