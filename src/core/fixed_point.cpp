#include "tradingbot/core/fixed_point.hpp"

#include <array>
#include <charconv>
#include <limits>

namespace tb {

namespace {
// 10^k for every count of fractional digits a fixed-point value can have.
constexpr std::array<std::uint64_t, kFixedDecimals + 1> kPow10 = {1,       10,        100,        1'000,      10'000,
                                                                   100'000, 1'000'000, 10'000'000, 100'000'000};
}  // namespace

bool parse_fixed(std::string_view text, std::int64_t& raw) noexcept {
  std::size_t i = 0;
  const std::size_t n = text.size();
  bool negative = false;
  if (i < n && text[i] == '-') {
    negative = true;
    ++i;
  }
  // Accumulate as a negative number so INT64_MIN's magnitude fits while parsing.
  std::int64_t acc = 0;
  std::size_t int_digits = 0;
  for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i, ++int_digits) {
    if (__builtin_mul_overflow(acc, std::int64_t{10}, &acc) ||
        __builtin_sub_overflow(acc, std::int64_t{text[i] - '0'}, &acc)) {
      return false;
    }
  }
  if (int_digits == 0) return false;
  std::int64_t frac = 0;
  int frac_digits = 0;
  if (i < n && text[i] == '.') {
    ++i;
    const std::size_t frac_start = i;
    for (; i < n && text[i] >= '0' && text[i] <= '9'; ++i) {
      const int digit = text[i] - '0';
      if (frac_digits < kFixedDecimals) {
        frac = frac * 10 + digit;
        ++frac_digits;
      } else if (digit != 0) {
        return false;  // finer than 1e-8: cannot be represented exactly
      }
    }
    if (i == frac_start) return false;
  }
  if (i != n) return false;
  frac *= static_cast<std::int64_t>(kPow10[static_cast<std::size_t>(kFixedDecimals - frac_digits)]);
  std::int64_t value = 0;
  if (__builtin_mul_overflow(acc, kFixedScale, &value) || __builtin_sub_overflow(value, frac, &value)) {
    return false;
  }
  if (!negative) {
    if (value == std::numeric_limits<std::int64_t>::min()) return false;
    value = -value;
  }
  raw = value;
  return true;
}

std::size_t format_fixed(std::int64_t raw, int digits, char* out) noexcept {
  // Work on the magnitude as unsigned so INT64_MIN prints correctly. Every order's price and
  // quantity go through here: the whole part by std::to_chars (two digits per step), the
  // fraction written once in place, no reversal.
  const bool negative = raw < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  const std::uint64_t whole = magnitude / static_cast<std::uint64_t>(kFixedScale);
  std::uint64_t frac = magnitude % static_cast<std::uint64_t>(kFixedScale);

  int frac_len = kFixedDecimals;
  if (digits < 0) {  // shortest: drop trailing zeros
    while (frac_len > 0 && frac % 10 == 0) {
      frac /= 10;
      --frac_len;
    }
  } else {  // exactly `digits` decimals, the finer ones cut off
    frac_len = digits < kFixedDecimals ? digits : kFixedDecimals;
    frac /= kPow10[static_cast<std::size_t>(kFixedDecimals - frac_len)];
  }
  char* p = out;
  // "-0.00" would be a lie when the printed digits are all zero; print "0.00".
  if (negative && (whole != 0 || frac != 0)) *p++ = '-';
  p = std::to_chars(p, p + 20, whole).ptr;
  if (frac_len > 0) {
    *p++ = '.';
    for (int k = frac_len - 1; k >= 0; --k) {
      p[k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    p += frac_len;
  }
  return static_cast<std::size_t>(p - out);
}

std::string fixed_to_string(std::int64_t raw, int digits) {
  char buf[kMaxFixedChars];
  return std::string(buf, format_fixed(raw, digits, buf));
}

int fixed_decimals_of_step(std::int64_t step_raw) noexcept {
  if (step_raw <= 0) return kFixedDecimals;
  int decimals = kFixedDecimals;
  while (decimals > 0 && step_raw % 10 == 0) {
    step_raw /= 10;
    --decimals;
  }
  return decimals;
}

}  // namespace tb
