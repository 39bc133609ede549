#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "tradingbot/core/fixed_point.hpp"

using tb::Price;
using tb::Qty;

TEST_CASE("decimal strings parse exactly into 1e-8 units", "[core][fixed]") {
  std::int64_t raw = 0;
  REQUIRE(tb::parse_fixed("61837.63000000", raw));
  CHECK(raw == 6'183'763'000'000);
  REQUIRE(tb::parse_fixed("0.00000001", raw));
  CHECK(raw == 1);
  REQUIRE(tb::parse_fixed("3.78826", raw));
  CHECK(raw == 378'826'000);
  REQUIRE(tb::parse_fixed("-2.5", raw));
  CHECK(raw == -250'000'000);
  REQUIRE(tb::parse_fixed("0", raw));
  CHECK(raw == 0);
  // Trailing zeros beyond the 8th place are exact and accepted.
  REQUIRE(tb::parse_fixed("1.1000000000", raw));
  CHECK(raw == 110'000'000);
  // The extremes of int64 round-trip.
  REQUIRE(tb::parse_fixed("92233720368.54775807", raw));
  CHECK(raw == std::numeric_limits<std::int64_t>::max());
  REQUIRE(tb::parse_fixed("-92233720368.54775808", raw));
  CHECK(raw == std::numeric_limits<std::int64_t>::min());
}

TEST_CASE("malformed or inexact decimals are rejected without touching the output", "[core][fixed]") {
  std::int64_t raw = 42;
  for (const char* bad : {"", "-", ".", "1.", ".5", "+1", "1e-05", "1.5e3", " 1", "1 ", "1,5", "0x10", "1.2.3",
                          "0.000000001", "92233720368.54775808", "-92233720368.54775809",
                          "100000000000", "nan", "--1"}) {
    INFO(bad);
    CHECK_FALSE(tb::parse_fixed(bad, raw));
    CHECK(raw == 42);
  }
}

TEST_CASE("formatting is exact, never exponent, shortest by default", "[core][fixed]") {
  CHECK(tb::fixed_to_string(6'183'763'000'000) == "61837.63");
  CHECK(tb::fixed_to_string(378'826'000) == "3.78826");
  CHECK(tb::fixed_to_string(1) == "0.00000001");
  CHECK(tb::fixed_to_string(0) == "0");
  CHECK(tb::fixed_to_string(-250'000'000) == "-2.5");
  CHECK(tb::fixed_to_string(100'000'000'000) == "1000");
  CHECK(tb::fixed_to_string(std::numeric_limits<std::int64_t>::min()) == "-92233720368.54775808");
  // Fixed digits, as exchangeInfo's tick or step asks.
  CHECK(tb::fixed_to_string(6'183'763'000'000, 2) == "61837.63");
  CHECK(tb::fixed_to_string(6'183'763'000'000, 8) == "61837.63000000");
  CHECK(tb::fixed_to_string(1'230'000, 0) == "0");
  CHECK(tb::fixed_to_string(-1, 2) == "0.00");
  CHECK(tb::fixed_to_string(150'000'000, 0) == "1");
}

namespace {
// The digit-by-digit way, kept as the reference for the formatter every order goes through.
std::string reference_format(std::int64_t raw, int digits) {
  const bool negative = raw < 0;
  const std::uint64_t magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(raw) : static_cast<std::uint64_t>(raw);
  std::string whole = std::to_string(magnitude / 100'000'000);
  std::string frac = std::to_string(magnitude % 100'000'000);
  frac.insert(0, 8 - frac.size(), '0');
  if (digits < 0) {
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
  } else {
    frac.resize(static_cast<std::size_t>(std::min(digits, 8)));
  }
  const bool zero = whole == "0" && frac.find_first_not_of('0') == std::string::npos;
  return (negative && !zero ? "-" : "") + whole + (frac.empty() ? "" : "." + frac);
}
}  // namespace

TEST_CASE("formatting equals the digit-by-digit reference for every digits setting", "[core][fixed]") {
  std::mt19937_64 rng(11);
  std::vector<std::int64_t> values = {0, 1, -1, 9, 10, 99'999'999, 100'000'000, -100'000'000, 123'456'789,
                                      std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()};
  for (int i = 0; i < 20'000; ++i) {
    const auto r = static_cast<std::int64_t>(rng());
    values.push_back(i % 3 == 0 ? r : r % 10'000'000'000'000);  // full range and order-sized
  }
  for (const std::int64_t raw : values) {
    for (int digits = -1; digits <= 10; ++digits) {
      const std::string expected = reference_format(raw, digits);
      if (tb::fixed_to_string(raw, digits) != expected) {
        FAIL(raw << " with " << digits << " digits: " << tb::fixed_to_string(raw, digits) << ", expected " << expected);
      }
    }
  }
}

TEST_CASE("parse and format round-trip every value shape", "[core][fixed]") {
  for (std::int64_t raw : {std::int64_t{1}, std::int64_t{10}, std::int64_t{123456789}, std::int64_t{-987654321012},
                           std::int64_t{100000000}, std::int64_t{5000000000000}}) {
    std::int64_t back = 0;
    REQUIRE(tb::parse_fixed(tb::fixed_to_string(raw), back));
    CHECK(back == raw);
    REQUIRE(tb::parse_fixed(tb::fixed_to_string(raw, 8), back));
    CHECK(back == raw);
  }
}

TEST_CASE("typed values: arithmetic, notional and step rounding", "[core][fixed]") {
  const Price price = *Price::parse("2600.12");
  const Qty qty = *Qty::parse("0.0123");
  CHECK(tb::notional(price, qty).to_string() == "31.981476");
  // 128-bit intermediate: a large price times a large quantity does not overflow.
  CHECK(tb::notional(*Price::parse("1000000"), *Qty::parse("10000")).to_string() == "10000000000");
  CHECK((price + Price::from_integer(1)).to_string() == "2601.12");
  CHECK((-qty).to_string() == "-0.0123");
  CHECK(min(price, Price::from_integer(3)) == Price::from_integer(3));

  const std::int64_t tick = 1'000'000;  // 0.01
  CHECK(tb::floor_to_step(Price::parse("2600.129")->raw(), tick) == Price::parse("2600.12")->raw());
  CHECK(tb::ceil_to_step(Price::parse("2600.121")->raw(), tick) == Price::parse("2600.13")->raw());
  CHECK(tb::ceil_to_step(Price::parse("2600.12")->raw(), tick) == Price::parse("2600.12")->raw());
  CHECK(tb::floor_to_step(-150'000'000, 100'000'000) == -200'000'000);
  CHECK(tb::fixed_decimals_of_step(1'000'000) == 2);
  CHECK(tb::fixed_decimals_of_step(100'000'000) == 0);
  CHECK(tb::fixed_decimals_of_step(1) == 8);
}
