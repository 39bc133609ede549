#include "tradingbot/oms/types.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tb::oms {

bool ClientOrderId::is_valid(std::string_view text) noexcept {
  if (text.empty() || text.size() > kMaxLength) return false;
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == ':' || c == '/' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<ClientOrderId> ClientOrderId::parse(std::string_view text) noexcept {
  if (!is_valid(text)) return std::nullopt;
  ClientOrderId id;
  for (std::size_t k = 0; k < text.size(); ++k) id.chars_[k] = text[k];
  id.size_ = static_cast<std::uint8_t>(text.size());
  return id;
}

ClientOrderId ClientOrderId::numbered(const ClientOrderId& prefix, std::uint64_t seq) noexcept {
  ClientOrderId id = prefix;
  std::size_t n = prefix.size_;
  if (n >= kMaxLength) return id;
  id.chars_[n++] = '-';
  const auto res = std::to_chars(id.chars_.data() + n, id.chars_.data() + kMaxLength, seq);
  if (res.ec != std::errc{}) return prefix;  // cannot happen with a prefix of <= 16 characters
  id.size_ = static_cast<std::uint8_t>(res.ptr - id.chars_.data());
  return id;
}

std::uint64_t ClientOrderId::hash() const noexcept {
  // Eight bytes at a time (bytes past size_ are always zero); the FlatIndex mixes the result again.
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ size_;
  for (std::size_t k = 0; k < size_; k += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, chars_.data() + k, std::min<std::size_t>(8, kMaxLength - k));
    h = (h ^ word) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return h;
}

std::string_view to_string(OrderStatus s) noexcept {
  switch (s) {
    case OrderStatus::PendingNew: return "PENDING_NEW";
    case OrderStatus::New: return "NEW";
    case OrderStatus::PartiallyFilled: return "PARTIALLY_FILLED";
    case OrderStatus::Filled: return "FILLED";
    case OrderStatus::PendingCancel: return "PENDING_CANCEL";
    case OrderStatus::Canceled: return "CANCELED";
    case OrderStatus::Rejected: return "REJECTED";
    case OrderStatus::Expired: return "EXPIRED";
    case OrderStatus::ExpiredInMatch: return "EXPIRED_IN_MATCH";
    case OrderStatus::Unknown: return "UNKNOWN";
  }
  return "?";
}

std::optional<OrderStatus> parse_order_status(std::string_view t) noexcept {
  if (t == "NEW") return OrderStatus::New;
  if (t == "PARTIALLY_FILLED") return OrderStatus::PartiallyFilled;
  if (t == "FILLED") return OrderStatus::Filled;
  if (t == "CANCELED") return OrderStatus::Canceled;
  if (t == "REJECTED") return OrderStatus::Rejected;
  if (t == "EXPIRED") return OrderStatus::Expired;
  if (t == "EXPIRED_IN_MATCH") return OrderStatus::ExpiredInMatch;
  if (t == "PENDING_NEW") return OrderStatus::PendingNew;
  if (t == "PENDING_CANCEL") return OrderStatus::PendingCancel;
  return std::nullopt;
}

std::optional<ExecType> parse_exec_type(std::string_view t) noexcept {
  if (t == "NEW") return ExecType::New;
  if (t == "CANCELED") return ExecType::Canceled;
  if (t == "REPLACED") return ExecType::Replaced;
  if (t == "REJECTED") return ExecType::Rejected;
  if (t == "TRADE") return ExecType::Trade;
  if (t == "EXPIRED") return ExecType::Expired;
  if (t == "TRADE_PREVENTION") return ExecType::TradePrevention;
  return std::nullopt;
}

namespace {

using S = OrderStatus;
constexpr std::size_t idx(S s) { return static_cast<std::size_t>(s); }

struct Table {
  bool legal[kOrderStatusCount][kOrderStatusCount] = {};
  constexpr void allow(S from, std::initializer_list<S> tos) {
    for (S to : tos) legal[idx(from)][idx(to)] = true;
  }
};

constexpr Table make_table() {
  Table t;
  t.allow(S::PendingNew, {S::New, S::PartiallyFilled, S::Filled, S::Canceled, S::Rejected, S::Expired,
                          S::ExpiredInMatch, S::PendingCancel, S::Unknown});
  t.allow(S::Unknown, {S::New, S::PartiallyFilled, S::Filled, S::Canceled, S::Rejected, S::Expired,
                       S::ExpiredInMatch, S::PendingCancel});
  t.allow(S::New, {S::PartiallyFilled, S::Filled, S::Canceled, S::Expired, S::ExpiredInMatch, S::PendingCancel});
  t.allow(S::PartiallyFilled, {S::Filled, S::Canceled, S::Expired, S::ExpiredInMatch, S::PendingCancel});
  t.allow(S::PendingCancel, {S::PendingNew, S::New, S::PartiallyFilled, S::Filled, S::Canceled, S::Rejected, S::Expired, S::ExpiredInMatch,
                             S::Unknown});
  return t;
}

constexpr Table kTable = make_table();

}  // namespace

bool is_legal_transition(OrderStatus from, OrderStatus to) noexcept { return kTable.legal[idx(from)][idx(to)]; }

}  // namespace tb::oms
