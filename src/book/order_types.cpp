#include "tradingbot/book/order_types.hpp"

namespace tb::book {

std::string_view to_string(StpMode v) noexcept {
  switch (v) {
    case StpMode::None: return "NONE";
    case StpMode::ExpireTaker: return "EXPIRE_TAKER";
    case StpMode::ExpireMaker: return "EXPIRE_MAKER";
    case StpMode::ExpireBoth: return "EXPIRE_BOTH";
  }
  return "UNKNOWN";
}

std::string_view to_string(RejectReason v) noexcept {
  switch (v) {
    case RejectReason::None: return "none";
    case RejectReason::InvalidQuantity: return "invalid_quantity";
    case RejectReason::InvalidPrice: return "invalid_price";
    case RejectReason::InvalidClientOrderId: return "invalid_client_order_id";
    case RejectReason::PriceBelowMin: return "price_below_min";
    case RejectReason::PriceAboveMax: return "price_above_max";
    case RejectReason::PriceNotOnTick: return "price_not_on_tick";
    case RejectReason::QtyBelowMin: return "qty_below_min";
    case RejectReason::QtyAboveMax: return "qty_above_max";
    case RejectReason::QtyNotOnStep: return "qty_not_on_step";
    case RejectReason::NotionalBelowMin: return "notional_below_min";
    case RejectReason::PriceOutOfBand: return "price_out_of_band";
    case RejectReason::DuplicateClientOrderId: return "duplicate_client_order_id";
    case RejectReason::WouldTake: return "would_take";
    case RejectReason::UnknownOrder: return "unknown_order";
    case RejectReason::ReentrantCall: return "reentrant_call";
  }
  return "unknown";
}

std::string_view to_string(ExpireReason v) noexcept {
  switch (v) {
    case ExpireReason::ImmediateOrCancel: return "immediate_or_cancel";
    case ExpireReason::FillOrKill: return "fill_or_kill";
    case ExpireReason::NoLiquidity: return "no_liquidity";
    case ExpireReason::SelfTradeTaker: return "self_trade_taker";
    case ExpireReason::SelfTradeMaker: return "self_trade_maker";
  }
  return "unknown";
}

std::string_view to_string(OrderStatus v) noexcept {
  switch (v) {
    case OrderStatus::New: return "NEW";
    case OrderStatus::PartiallyFilled: return "PARTIALLY_FILLED";
    case OrderStatus::Filled: return "FILLED";
    case OrderStatus::Canceled: return "CANCELED";
    case OrderStatus::Expired: return "EXPIRED";
    case OrderStatus::ExpiredInMatch: return "EXPIRED_IN_MATCH";
    case OrderStatus::Rejected: return "REJECTED";
  }
  return "UNKNOWN";
}

bool valid_client_order_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxClientOrderIdLength) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == ':' || c == '/' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace tb::book
