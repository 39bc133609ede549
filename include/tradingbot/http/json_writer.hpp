// JsonWriter: a small streaming JSON writer that appends to a caller-owned std::string, for the
// app's /health, /status, /book and /price bodies. Handlers write straight into Response::body so
// a warm connection renders without allocating. Strings are escaped per RFC 8259 (quote,
// backslash, every control character); bytes >= 0x80 pass through untouched, so UTF-8 text
// stays UTF-8. There is deliberately no double overload: prices and quantities are fixed-point
// and are emitted either as exact decimal strings (value) or as pre-formatted numbers
// (raw_number), never through printf-style float formatting.
// Misuse (a value in an object without a key, unbalanced end_*) is a programmer error: it is
// caught by assertions in debug builds. Value type: any thread, one writer per string.
#pragma once

#include <concepts>
#include <cstdint>
#include <string>
#include <string_view>

namespace tb::http {

class JsonWriter {
 public:
  // Appends to `out`; existing content is kept.
  explicit JsonWriter(std::string& out) noexcept : out_(&out) {}

  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();

  // Object member name; the next call writes its value.
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);  // a JSON string, escaped
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  // bool, and every signed/unsigned integer width (int8 is printed as a number, not a char).
  template <std::integral T>
  JsonWriter& value(T number) {
    if constexpr (std::same_as<T, bool>) {
      return boolean(number);
    } else if constexpr (std::signed_integral<T>) {
      return int64(static_cast<std::int64_t>(number));
    } else {
      return uint64(static_cast<std::uint64_t>(number));
    }
  }
  JsonWriter& null();
  // A number already formatted by the caller (e.g. FixedPoint::to_string()), written unquoted.
  // It must match the JSON number grammar; anything else is written as null and ok() turns false,
  // so a formatting bug never produces a document a parser would reject.
  JsonWriter& raw_number(std::string_view number);

  // key(name) followed by value(v).
  template <class T>
  JsonWriter& member(std::string_view name, const T& v) {
    key(name);
    return value(v);
  }

  // False once a raw_number was rejected.
  [[nodiscard]] bool ok() const noexcept { return ok_; }
  // True when every object and array opened has been closed.
  [[nodiscard]] bool complete() const noexcept { return depth_ == 0 && wrote_root_; }

  // Appends `text` JSON-escaped (without the surrounding quotes) to `out`.
  static void append_escaped(std::string& out, std::string_view text);
  // True when `text` is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  [[nodiscard]] static bool is_json_number(std::string_view text) noexcept;

 private:
  static constexpr int kMaxDepth = 64;

  JsonWriter& boolean(bool b);
  JsonWriter& int64(std::int64_t number);
  JsonWriter& uint64(std::uint64_t number);
  void before_value();
  void open(char bracket);
  void close(char bracket);

  std::string* out_;
  std::uint64_t needs_comma_bits_ = 0;  // bit d: the container at depth d already holds an element
  int depth_ = 0;
  bool after_key_ = false;
  bool wrote_root_ = false;
  bool ok_ = true;
};

}  // namespace tb::http
