// Order and trade side, with Binance's wire spelling. Value type: any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tb {

enum class Side : std::uint8_t { Buy, Sell };

[[nodiscard]] constexpr Side opposite(Side side) noexcept { return side == Side::Buy ? Side::Sell : Side::Buy; }
[[nodiscard]] constexpr std::string_view to_string(Side side) noexcept { return side == Side::Buy ? "BUY" : "SELL"; }
[[nodiscard]] constexpr std::optional<Side> parse_side(std::string_view text) noexcept {
  if (text == "BUY") return Side::Buy;
  if (text == "SELL") return Side::Sell;
  return std::nullopt;
}

}  // namespace tb
