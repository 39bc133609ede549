// TableReader: reads one TOML table into typed values with the project's error contract: every
// problem names the full key, the value and the reason ("market.price_cache_ttl_ms = 0: must be
// between 1 and 60000"), and finish() rejects keys nobody asked for, so a misspelt key never
// silently keeps its default. Used by the daemon's config (src/config) and the simulator's
// (src/sim). Errors are thrown as ConfigError while reading; the loaders turn them into Result.
// Start-up only (main thread); not for hot paths.
#pragma once

#include <functional>
#include <initializer_list>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "tradingbot/core/fixed_point.hpp"

namespace tb::config {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The value as TOML prints it, for error messages.
[[nodiscard]] std::string render(const toml::node& node);

// Throws ConfigError "<key>[ = <value>]: <reason>".
[[noreturn]] void fail(std::string_view key, const toml::node* node, std::string_view reason);

class TableReader {
 public:
  // The top-level [name] section of `root` (absent: every read keeps its default).
  TableReader(const toml::table& root, std::string name);
  // A table found elsewhere (array-of-tables element, inline table); `name` prefixes its keys.
  TableReader(const toml::table* table, std::string name) : name_(std::move(name)), table_(table) {}

  void string(std::string_view key, std::string& out, const std::function<std::string(const std::string&)>& check = {});
  void integer(std::string_view key, std::int64_t& out, std::int64_t min, std::int64_t max);
  // Non-empty unless allow_empty, no duplicates, each element passing `check` ("" = fine).
  void string_list(std::string_view key, std::vector<std::string>& out, bool allow_empty,
                   const std::function<std::string(const std::string&)>& check);
  void boolean(std::string_view key, bool& out);

  // A decimal string ("0.001") into an exact fixed-point value, never through double.
  template <class Tag>
  void decimal(std::string_view key, Fixed<Tag>& out, bool allow_zero = true) {
    const toml::node* node = take(key);
    if (node == nullptr) return;
    const auto* value = node->as_string();
    if (value == nullptr) fail(full(key), node, "expected a decimal string such as \"0.001\"");
    const auto parsed = Fixed<Tag>::parse(value->get());
    if (!parsed) fail(full(key), node, "is not a decimal number with at most 8 fractional digits");
    if (parsed->is_negative()) fail(full(key), node, "must not be negative");
    if (!allow_zero && parsed->is_zero()) fail(full(key), node, "must be positive");
    out = *parsed;
  }

  template <class Enum>
  void choice(std::string_view key, Enum& out, std::initializer_list<std::pair<std::string_view, Enum>> options) {
    std::string text;
    std::string allowed;
    for (const auto& [name, value] : options) allowed += (allowed.empty() ? "" : ", ") + std::string(name);
    string(key, text, [&](const std::string& v) {
      for (const auto& [name, value] : options) {
        if (v == name) return std::string();
      }
      return "must be one of: " + allowed;
    });
    for (const auto& [name, value] : options) {
      if (text == name) out = value;
    }
  }

  // A nested [section.child] table, read by its own reader; consumed here so finish() accepts it.
  [[nodiscard]] TableReader child(std::string_view key);

  // The raw node (marked consumed) for shapes the typed readers do not cover; nullptr if absent.
  const toml::node* take(std::string_view key);

  // Rejects keys nobody asked for.
  void finish() const;

  [[nodiscard]] std::string full(std::string_view key) const { return name_ + "." + std::string(key); }

 private:
  std::string name_;
  const toml::table* table_ = nullptr;
  std::set<std::string> consumed_;
};

}  // namespace tb::config
