// The order vocabulary every layer shares: Binance spot's order types the bot uses and time in
// force, with their wire spellings. The matching engine, risk, the order manager and the
// strategies all speak it; the exchange adapter (binance/types.hpp) and the store keep their own
// wider vocabularies (stop orders, unknown values from the wire, the database's spelling) and
// convert at their edges.
// Value types: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tb {

// Binance spot order types the bot sends (stop and OCO types are out of scope).
//   Limit: rests at its price; time in force decides what happens to an unfilled remainder.
//   Market: takes liquidity by base quantity (or, in the engine, by quote amount).
//   LimitMaker: post-only limit, rejected if any part would trade at once.
enum class OrderType : std::uint8_t { Limit, Market, LimitMaker };
// GTC rests on the book, IOC fills what it can now, FOK fills entirely now or expires.
enum class TimeInForce : std::uint8_t { Gtc, Ioc, Fok };

[[nodiscard]] constexpr std::string_view to_string(OrderType t) noexcept {
  switch (t) {
    case OrderType::Limit: return "LIMIT";
    case OrderType::Market: return "MARKET";
    case OrderType::LimitMaker: return "LIMIT_MAKER";
  }
  return "?";
}
[[nodiscard]] constexpr std::string_view to_string(TimeInForce t) noexcept {
  switch (t) {
    case TimeInForce::Gtc: return "GTC";
    case TimeInForce::Ioc: return "IOC";
    case TimeInForce::Fok: return "FOK";
  }
  return "?";
}
[[nodiscard]] constexpr std::optional<OrderType> parse_order_type(std::string_view s) noexcept {
  if (s == "LIMIT") return OrderType::Limit;
  if (s == "MARKET") return OrderType::Market;
  if (s == "LIMIT_MAKER") return OrderType::LimitMaker;
  return std::nullopt;
}
[[nodiscard]] constexpr std::optional<TimeInForce> parse_time_in_force(std::string_view s) noexcept {
  if (s == "GTC") return TimeInForce::Gtc;
  if (s == "IOC") return TimeInForce::Ioc;
  if (s == "FOK") return TimeInForce::Fok;
  return std::nullopt;
}

}  // namespace tb
