#include "tradingbot/store/records.hpp"

#include <array>
#include <utility>

namespace tb::store {
namespace {

template <class Enum, std::size_t N>
std::optional<Enum> parse_from(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view text) {
  for (const auto& [value, name] : table) {
    if (name == text) return value;
  }
  return std::nullopt;
}
template <class Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

constexpr std::array<std::pair<OrderType, std::string_view>, 7> kTypes = {{
    {OrderType::Limit, "LIMIT"},
    {OrderType::Market, "MARKET"},
    {OrderType::StopLoss, "STOP_LOSS"},
    {OrderType::StopLossLimit, "STOP_LOSS_LIMIT"},
    {OrderType::TakeProfit, "TAKE_PROFIT"},
    {OrderType::TakeProfitLimit, "TAKE_PROFIT_LIMIT"},
    {OrderType::LimitMaker, "LIMIT_MAKER"},
}};
constexpr std::array<std::pair<TimeInForce, std::string_view>, 4> kTifs = {{
    {TimeInForce::None, "NONE"},
    {TimeInForce::Gtc, "GTC"},
    {TimeInForce::Ioc, "IOC"},
    {TimeInForce::Fok, "FOK"},
}};
constexpr std::array<std::pair<OrderStatus, std::string_view>, 9> kStatuses = {{
    {OrderStatus::PendingNew, "PENDING_NEW"},
    {OrderStatus::New, "NEW"},
    {OrderStatus::PartiallyFilled, "PARTIALLY_FILLED"},
    {OrderStatus::Filled, "FILLED"},
    {OrderStatus::PendingCancel, "PENDING_CANCEL"},
    {OrderStatus::Canceled, "CANCELED"},
    {OrderStatus::Rejected, "REJECTED"},
    {OrderStatus::Expired, "EXPIRED"},
    {OrderStatus::ExpiredInMatch, "EXPIRED_IN_MATCH"},
}};

}  // namespace

std::string_view to_string(OrderType t) noexcept { return name_of(kTypes, t); }
std::string_view to_string(TimeInForce t) noexcept { return name_of(kTifs, t); }
std::string_view to_string(OrderStatus s) noexcept { return name_of(kStatuses, s); }
std::optional<OrderType> parse_order_type(std::string_view text) noexcept { return parse_from(kTypes, text); }
std::optional<TimeInForce> parse_time_in_force(std::string_view text) noexcept { return parse_from(kTifs, text); }
std::optional<OrderStatus> parse_order_status(std::string_view text) noexcept { return parse_from(kStatuses, text); }

std::string_view to_string(RecordKind kind) noexcept {
  switch (kind) {
    case RecordKind::Order: return "order";
    case RecordKind::Fill: return "fill";
    case RecordKind::Position: return "position";
    case RecordKind::Balance: return "balance";
    case RecordKind::Equity: return "equity";
    case RecordKind::Kline: return "kline";
    case RecordKind::Run: return "run";
  }
  return "?";
}

}  // namespace tb::store
