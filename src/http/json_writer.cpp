// JsonWriter implementation; see the header for the contract.
#include "tradingbot/http/json_writer.hpp"

#include <array>
#include <cassert>
#include <charconv>

namespace tb::http {

namespace {

// 0: copy as is; 'u': \u00XX; otherwise the character after the backslash.
constexpr std::array<char, 256> make_escape_table() {
  std::array<char, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[static_cast<std::size_t>(c)] = 'u';
  table['\b'] = 'b';
  table['\f'] = 'f';
  table['\n'] = 'n';
  table['\r'] = 'r';
  table['\t'] = 't';
  table['"'] = '"';
  table['\\'] = '\\';
  return table;
}
constexpr std::array<char, 256> kEscape = make_escape_table();

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// The "already has an element" bit of the container at `depth` (1-based). Nesting beyond 64 is a
// programmer error (asserted); clamping keeps release builds free of undefined shifts.
std::uint64_t element_bit(int depth) noexcept {
  const int index = depth < 1 ? 0 : (depth > 64 ? 63 : depth - 1);
  return std::uint64_t{1} << index;
}

}  // namespace

void JsonWriter::append_escaped(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::size_t run_start = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const char escape = kEscape[byte];
    if (escape == 0) continue;
    out.append(text.data() + run_start, i - run_start);
    run_start = i + 1;
    if (escape == 'u') {
      const char unicode[] = {'\\', 'u', '0', '0', kHex[byte >> 4], kHex[byte & 0xF]};
      out.append(unicode, sizeof unicode);
    } else {
      const char pair[] = {'\\', escape};
      out.append(pair, sizeof pair);
    }
  }
  out.append(text.data() + run_start, text.size() - run_start);
}

bool JsonWriter::is_json_number(std::string_view text) noexcept {
  std::size_t i = 0;
  const std::size_t n = text.size();
  if (i < n && text[i] == '-') ++i;
  if (i >= n) return false;
  if (text[i] == '0') {
    ++i;
  } else if (is_digit(text[i])) {
    while (i < n && is_digit(text[i])) ++i;
  } else {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (i >= n || !is_digit(text[i])) return false;
    while (i < n && is_digit(text[i])) ++i;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (i >= n || !is_digit(text[i])) return false;
    while (i < n && is_digit(text[i])) ++i;
  }
  return i == n;
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  // Only array elements (and the root) get here; object members go through key().
  assert(depth_ == 0 ? !wrote_root_ : true);
  if (depth_ > 0) {
    const std::uint64_t bit = element_bit(depth_);
    if ((needs_comma_bits_ & bit) != 0) out_->push_back(',');
    needs_comma_bits_ |= bit;
  }
  if (depth_ == 0) wrote_root_ = true;
}

void JsonWriter::open(char bracket) {
  before_value();
  assert(depth_ < kMaxDepth && "JsonWriter: nesting too deep");
  out_->push_back(bracket);
  ++depth_;
  needs_comma_bits_ &= ~element_bit(depth_);
}

void JsonWriter::close(char bracket) {
  assert(depth_ > 0 && !after_key_ && "JsonWriter: unbalanced end or key without value");
  out_->push_back(bracket);
  if (depth_ > 0) --depth_;
}

JsonWriter& JsonWriter::begin_object() {
  open('{');
  return *this;
}
JsonWriter& JsonWriter::end_object() {
  close('}');
  return *this;
}
JsonWriter& JsonWriter::begin_array() {
  open('[');
  return *this;
}
JsonWriter& JsonWriter::end_array() {
  close(']');
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  assert(depth_ > 0 && !after_key_ && "JsonWriter: key outside an object or twice");
  const std::uint64_t bit = element_bit(depth_);
  if ((needs_comma_bits_ & bit) != 0) out_->push_back(',');
  needs_comma_bits_ |= bit;
  out_->push_back('"');
  append_escaped(*out_, name);
  out_->append("\":", 2);
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  before_value();
  out_->push_back('"');
  append_escaped(*out_, text);
  out_->push_back('"');
  return *this;
}

JsonWriter& JsonWriter::boolean(bool b) {
  before_value();
  if (b) {
    out_->append("true", 4);
  } else {
    out_->append("false", 5);
  }
  return *this;
}

JsonWriter& JsonWriter::null() {
  before_value();
  out_->append("null", 4);
  return *this;
}

JsonWriter& JsonWriter::int64(std::int64_t number) {
  before_value();
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, number);
  out_->append(digits, static_cast<std::size_t>(result.ptr - digits));
  return *this;
}

JsonWriter& JsonWriter::uint64(std::uint64_t number) {
  before_value();
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, number);
  out_->append(digits, static_cast<std::size_t>(result.ptr - digits));
  return *this;
}

JsonWriter& JsonWriter::raw_number(std::string_view number) {
  if (!is_json_number(number)) {
    ok_ = false;
    return null();
  }
  before_value();
  out_->append(number);
  return *this;
}

}  // namespace tb::http
