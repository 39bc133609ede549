// Binance spot vocabulary shared by request builders and response parsers: order type, time in
// force, order status, execution type, response type, and InlineString, a fixed-capacity string
// for ids and asset names so decoded responses never allocate per field.
// Value types and pure functions: any thread may call them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace tb::binance {

// A short string stored inline (no heap). assign() refuses text longer than N and leaves the
// old value in place, so a caller always knows whether the whole value was kept.
template <std::size_t N>
class InlineString {
 public:
  static constexpr std::size_t kCapacity = N;
  constexpr InlineString() noexcept = default;
  [[nodiscard]] bool assign(std::string_view text) noexcept {
    if (text.size() > N) return false;
    if (!text.empty()) std::memcpy(chars_.data(), text.data(), text.size());
    size_ = static_cast<std::uint8_t>(text.size());
    return true;
  }
  [[nodiscard]] static std::optional<InlineString> from(std::string_view text) noexcept {
    InlineString s;
    if (!s.assign(text)) return std::nullopt;
    return s;
  }
  [[nodiscard]] std::string_view view() const noexcept { return {chars_.data(), size_}; }
  [[nodiscard]] std::string str() const { return std::string(view()); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  void clear() noexcept { size_ = 0; }
  friend bool operator==(const InlineString& a, const InlineString& b) noexcept { return a.view() == b.view(); }
  friend bool operator==(const InlineString& a, std::string_view b) noexcept { return a.view() == b; }

 private:
  static_assert(N < 256, "size is stored in one byte");
  std::array<char, N> chars_{};
  std::uint8_t size_ = 0;
};

// newClientOrderId: the server accepts 1..36 characters.
using ClientOrderId = InlineString<36>;
// Asset names ("BTC", "1000SATS", and since 2025-12 possibly UTF-8).
using AssetName = InlineString<31>;

enum class OrderType : std::uint8_t {
  Limit, Market, StopLoss, StopLossLimit, TakeProfit, TakeProfitLimit, LimitMaker, Unknown
};
enum class TimeInForce : std::uint8_t { Gtc, Ioc, Fok, None };
enum class OrderStatus : std::uint8_t {
  New, PendingNew, PartiallyFilled, Filled, Canceled, PendingCancel, Rejected, Expired, ExpiredInMatch, Unknown
};
enum class ExecutionType : std::uint8_t {
  New, Canceled, Replaced, Rejected, Trade, Expired, TradePrevention, Unknown
};
enum class OrderResponseType : std::uint8_t { Ack, Result, Full };

[[nodiscard]] std::string_view to_string(OrderType type) noexcept;
[[nodiscard]] std::string_view to_string(TimeInForce tif) noexcept;
[[nodiscard]] std::string_view to_string(OrderStatus status) noexcept;
[[nodiscard]] std::string_view to_string(ExecutionType type) noexcept;
[[nodiscard]] std::string_view to_string(OrderResponseType type) noexcept;
// Unrecognised spellings map to the Unknown/None member: new enum values from the exchange must
// not make a whole response unreadable.
[[nodiscard]] OrderType parse_order_type(std::string_view text) noexcept;
[[nodiscard]] TimeInForce parse_time_in_force(std::string_view text) noexcept;
[[nodiscard]] OrderStatus parse_order_status(std::string_view text) noexcept;
[[nodiscard]] ExecutionType parse_execution_type(std::string_view text) noexcept;

// True for statuses after which the order can no longer fill.
[[nodiscard]] constexpr bool is_final(OrderStatus s) noexcept {
  return s == OrderStatus::Filled || s == OrderStatus::Canceled || s == OrderStatus::Rejected ||
         s == OrderStatus::Expired || s == OrderStatus::ExpiredInMatch;
}

}  // namespace tb::binance
