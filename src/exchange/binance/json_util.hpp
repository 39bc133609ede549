// Internal helpers for the simdjson DOM decoders (error codes only, no exceptions).
// Not a public header: the exchange module's sources include it, nobody else.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/exchange/binance/json_parser.hpp"
#include "tradingbot/exchange/binance/types.hpp"

namespace tb::binance {

struct JsonParser::Impl {
  simdjson::dom::parser parser;
  std::string buffer;  // input copy with SIMDJSON_PADDING slack

  // Copies `json` into the padded buffer and parses it. The buffer only grows.
  simdjson::error_code parse(std::string_view json, simdjson::dom::element& root) {
    const std::size_t need = json.size() + simdjson::SIMDJSON_PADDING;
    if (buffer.size() < need) buffer.resize(need);
    json.copy(buffer.data(), json.size());
    return parser.parse(buffer.data(), json.size(), false).get(root);
  }
};

namespace json {

using simdjson::dom::element;
using simdjson::dom::object;

inline bool str(const object& o, std::string_view key, std::string_view& out) noexcept {
  return o.at_key(key).get_string().get(out) == simdjson::SUCCESS;
}
inline bool i64(const object& o, std::string_view key, std::int64_t& out) noexcept {
  return o.at_key(key).get_int64().get(out) == simdjson::SUCCESS;
}
inline bool boolean(const object& o, std::string_view key, bool& out) noexcept {
  return o.at_key(key).get_bool().get(out) == simdjson::SUCCESS;
}
inline bool has(const object& o, std::string_view key) noexcept { return o.at_key(key).error() == simdjson::SUCCESS; }
inline bool is_null(const object& o, std::string_view key) noexcept {
  element e;
  return o.at_key(key).get(e) == simdjson::SUCCESS && e.is_null();
}

// A decimal string field into a fixed-point value.
template <class T>
bool fixed(const object& o, std::string_view key, T& out) noexcept {
  std::string_view text;
  if (!str(o, key, text)) return false;
  return T::parse(text, out);
}
inline bool fixed_raw(const object& o, std::string_view key, std::int64_t& out) noexcept {
  std::string_view text;
  if (!str(o, key, text)) return false;
  return parse_fixed(text, out);
}
inline bool symbol(const object& o, std::string_view key, Symbol& out) noexcept {
  std::string_view text;
  if (!str(o, key, text)) return false;
  auto s = Symbol::parse(text);
  if (!s) return false;
  out = *s;
  return true;
}
template <std::size_t N>
bool inline_str(const object& o, std::string_view key, InlineString<N>& out) noexcept {
  std::string_view text;
  if (!str(o, key, text)) return false;
  return out.assign(text);
}

}  // namespace json
}  // namespace tb::binance
