// Exact decimal numbers for prices, quantities and money: int64 counts of 1e-8.
//
// Binance sends every price, quantity and amount as a decimal string with at most 8 fractional
// digits, so one fixed scale of 1e-8 represents all of them exactly. One scale (rather than a
// per-symbol tick scale) lets books, the matching engine and risk checks of every symbol share
// one representation; exchangeInfo filters become integer multiples of the same unit.
// Parsing never goes through double; printing is exact and never uses exponent notation.
// Pure functions and value types: any thread may call them.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tb {

// 128-bit integer for exact intermediate products (price x qty); __extension__ keeps -Wpedantic quiet.
__extension__ typedef __int128 Int128;

inline constexpr int kFixedDecimals = 8;
inline constexpr std::int64_t kFixedScale = 100'000'000;
// Enough for "-92233720368.54775808" plus a terminator.
inline constexpr std::size_t kMaxFixedChars = 24;

// Parses `[-]digits[.digits]` into units of 1e-8. Rejects signs other than a leading '-',
// exponents, spaces, empty parts ("", ".", "1.", ".5" are rejected), non-zero digits past the
// 8th fractional place, and values that overflow int64. Returns false and leaves `raw`
// untouched on rejection.
[[nodiscard]] bool parse_fixed(std::string_view text, std::int64_t& raw) noexcept;

// Writes `raw` as an exact decimal into `out` (at least kMaxFixedChars bytes, no terminator).
// digits < 0: shortest exact form ("61837.63", "3", "0.001"); digits 0..8: exactly that many
// fractional digits (the value is truncated toward zero if it has more). Returns the length.
std::size_t format_fixed(std::int64_t raw, int digits, char* out) noexcept;
std::string fixed_to_string(std::int64_t raw, int digits = -1);

// Number of fractional digits a step needs: 0.01000000 -> 2, 1 -> 0 (the exchange's tick/step).
int fixed_decimals_of_step(std::int64_t step_raw) noexcept;

// A strongly typed fixed-point value: Price, Qty and Money cannot be mixed by accident.
template <class Tag>
class Fixed {
 public:
  constexpr Fixed() noexcept = default;
  static constexpr Fixed from_raw(std::int64_t raw) noexcept { return Fixed(raw); }
  static constexpr Fixed from_integer(std::int64_t whole) noexcept { return Fixed(whole * kFixedScale); }
  static std::optional<Fixed> parse(std::string_view text) noexcept {
    std::int64_t raw = 0;
    if (!parse_fixed(text, raw)) return std::nullopt;
    return Fixed(raw);
  }
  // Hot-path form: no optional, the caller checks the bool.
  [[nodiscard]] static bool parse(std::string_view text, Fixed& out) noexcept {
    return parse_fixed(text, out.raw_);
  }

  [[nodiscard]] constexpr std::int64_t raw() const noexcept { return raw_; }
  [[nodiscard]] constexpr bool is_zero() const noexcept { return raw_ == 0; }
  [[nodiscard]] constexpr bool is_positive() const noexcept { return raw_ > 0; }
  [[nodiscard]] constexpr bool is_negative() const noexcept { return raw_ < 0; }
  [[nodiscard]] std::string to_string(int digits = -1) const { return fixed_to_string(raw_, digits); }

  constexpr auto operator<=>(const Fixed&) const noexcept = default;
  constexpr Fixed operator-() const noexcept { return Fixed(-raw_); }
  constexpr Fixed& operator+=(Fixed o) noexcept { raw_ += o.raw_; return *this; }
  constexpr Fixed& operator-=(Fixed o) noexcept { raw_ -= o.raw_; return *this; }
  friend constexpr Fixed operator+(Fixed a, Fixed b) noexcept { return Fixed(a.raw_ + b.raw_); }
  friend constexpr Fixed operator-(Fixed a, Fixed b) noexcept { return Fixed(a.raw_ - b.raw_); }
  friend constexpr Fixed min(Fixed a, Fixed b) noexcept { return a < b ? a : b; }
  friend constexpr Fixed max(Fixed a, Fixed b) noexcept { return a < b ? b : a; }

 private:
  constexpr explicit Fixed(std::int64_t raw) noexcept : raw_(raw) {}
  std::int64_t raw_ = 0;
};

struct PriceTag {};
struct QtyTag {};
struct MoneyTag {};
using Price = Fixed<PriceTag>;  // quote currency per unit of base
using Qty = Fixed<QtyTag>;      // base currency amount (signed: positions may be short)
using Money = Fixed<MoneyTag>;  // quote currency amount: notional, PnL, fees

// price * qty in quote units, exact in 128-bit then truncated toward zero to 1e-8.
[[nodiscard]] constexpr Money notional(Price price, Qty qty) noexcept {
  const Int128 product = static_cast<Int128>(price.raw()) * qty.raw();
  return Money::from_raw(static_cast<std::int64_t>(product / kFixedScale));
}

// Rounds down (toward negative infinity) / up to a multiple of `step` (step > 0).
[[nodiscard]] constexpr std::int64_t floor_to_step(std::int64_t raw, std::int64_t step) noexcept {
  const std::int64_t rem = raw % step;
  return rem < 0 ? raw - rem - step : raw - rem;
}
[[nodiscard]] constexpr std::int64_t ceil_to_step(std::int64_t raw, std::int64_t step) noexcept {
  const std::int64_t rem = raw % step;
  return rem > 0 ? raw - rem + step : raw - rem;
}

}  // namespace tb
