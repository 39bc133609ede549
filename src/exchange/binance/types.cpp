#include "tradingbot/exchange/binance/types.hpp"

namespace tb::binance {
namespace {

template <class E, std::size_t N>
E lookup(std::string_view text, const std::array<std::pair<std::string_view, E>, N>& table, E fallback) noexcept {
  for (const auto& [name, value] : table) {
    if (name == text) return value;
  }
  return fallback;
}

template <class E, std::size_t N>
std::string_view name_of(E value, const std::array<std::pair<std::string_view, E>, N>& table) noexcept {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return "UNKNOWN";
}

constexpr std::array<std::pair<std::string_view, OrderType>, 7> kOrderTypes{{
    {"LIMIT", OrderType::Limit},
    {"MARKET", OrderType::Market},
    {"STOP_LOSS", OrderType::StopLoss},
    {"STOP_LOSS_LIMIT", OrderType::StopLossLimit},
    {"TAKE_PROFIT", OrderType::TakeProfit},
    {"TAKE_PROFIT_LIMIT", OrderType::TakeProfitLimit},
    {"LIMIT_MAKER", OrderType::LimitMaker},
}};
constexpr std::array<std::pair<std::string_view, TimeInForce>, 3> kTifs{{
    {"GTC", TimeInForce::Gtc}, {"IOC", TimeInForce::Ioc}, {"FOK", TimeInForce::Fok}}};
constexpr std::array<std::pair<std::string_view, OrderStatus>, 9> kStatuses{{
    {"NEW", OrderStatus::New},
    {"PENDING_NEW", OrderStatus::PendingNew},
    {"PARTIALLY_FILLED", OrderStatus::PartiallyFilled},
    {"FILLED", OrderStatus::Filled},
    {"CANCELED", OrderStatus::Canceled},
    {"PENDING_CANCEL", OrderStatus::PendingCancel},
    {"REJECTED", OrderStatus::Rejected},
    {"EXPIRED", OrderStatus::Expired},
    {"EXPIRED_IN_MATCH", OrderStatus::ExpiredInMatch},
}};
constexpr std::array<std::pair<std::string_view, ExecutionType>, 7> kExecTypes{{
    {"NEW", ExecutionType::New},
    {"CANCELED", ExecutionType::Canceled},
    {"REPLACED", ExecutionType::Replaced},
    {"REJECTED", ExecutionType::Rejected},
    {"TRADE", ExecutionType::Trade},
    {"EXPIRED", ExecutionType::Expired},
    {"TRADE_PREVENTION", ExecutionType::TradePrevention},
}};
constexpr std::array<std::pair<std::string_view, OrderResponseType>, 3> kRespTypes{{
    {"ACK", OrderResponseType::Ack}, {"RESULT", OrderResponseType::Result}, {"FULL", OrderResponseType::Full}}};

}  // namespace

std::string_view to_string(OrderType type) noexcept { return name_of(type, kOrderTypes); }
std::string_view to_string(TimeInForce tif) noexcept { return tif == TimeInForce::None ? "" : name_of(tif, kTifs); }
std::string_view to_string(OrderStatus status) noexcept { return name_of(status, kStatuses); }
std::string_view to_string(ExecutionType type) noexcept { return name_of(type, kExecTypes); }
std::string_view to_string(OrderResponseType type) noexcept { return name_of(type, kRespTypes); }
OrderType parse_order_type(std::string_view text) noexcept { return lookup(text, kOrderTypes, OrderType::Unknown); }
TimeInForce parse_time_in_force(std::string_view text) noexcept { return lookup(text, kTifs, TimeInForce::None); }
OrderStatus parse_order_status(std::string_view text) noexcept { return lookup(text, kStatuses, OrderStatus::Unknown); }
ExecutionType parse_execution_type(std::string_view text) noexcept {
  return lookup(text, kExecTypes, ExecutionType::Unknown);
}

}  // namespace tb::binance
