// Order vocabulary shared by risk and oms: order type, time in force and the order intent a
// strategy (or a manual /control/order request) hands to the order manager. The types live here,
// in the lowest module that needs them (risk may only use core), and oms re-uses them.
// Value types: any thread may use them; the intent itself is produced and consumed on the
// trading thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb {

// Binance spot order types the bot sends (stop and OCO types are out of scope).
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

// What a strategy wants: one new order. `price` is ignored (and may be zero) for MARKET;
// `tif` is ignored for MARKET and LIMIT_MAKER (Binance takes no timeInForce for them).
struct OrderIntent {
  Symbol symbol;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  Price price;
  Qty qty;
};

}  // namespace tb
