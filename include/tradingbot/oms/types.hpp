// OMS vocabulary: client order ids, order statuses and their legal transitions, and the plain
// structs through which a venue (live Binance, paper, simulator) feeds the order manager:
// ExecutionReport (mirrors Binance's executionReport), ExchangeOrder (GET /order, /openOrders)
// and ExchangeTrade (GET /myTrades). The decoders fill these; oms never sees JSON.
// Value types: any thread may use them; the order manager consumes them on the trading thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/risk/order_intent.hpp"

namespace tb::oms {

// An asset code ("BTC", "USDT", "BNB"). Symbol already is a short inline, upper-cased string.
using Asset = Symbol;

// A client order id stored inline (no allocation). Valid ids match Binance's observed server
// rule ^[\.A-Z\:/a-z0-9_-]{1,36}$ ; the empty id means "none" (executionReport `C` = "").
class ClientOrderId {
 public:
  static constexpr std::size_t kMaxLength = 36;
  constexpr ClientOrderId() noexcept = default;
  // nullopt unless `text` is a valid non-empty id.
  [[nodiscard]] static std::optional<ClientOrderId> parse(std::string_view text) noexcept;
  [[nodiscard]] static bool is_valid(std::string_view text) noexcept;
  // Like parse() but returns the empty id for invalid text (for decoders filling a struct).
  [[nodiscard]] static ClientOrderId from(std::string_view text) noexcept { return parse(text).value_or(ClientOrderId{}); }
  // "<prefix>-<seq>" without re-validating the prefix (a valid id of at most 15 characters, so
  // that any 64-bit seq fits in 36). Hot path of order creation.
  [[nodiscard]] static ClientOrderId numbered(const ClientOrderId& prefix, std::uint64_t seq) noexcept;

  [[nodiscard]] std::string_view view() const noexcept { return {chars_.data(), size_}; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::uint64_t hash() const noexcept;
  friend bool operator==(const ClientOrderId& a, const ClientOrderId& b) noexcept { return a.view() == b.view(); }

 private:
  std::array<char, kMaxLength> chars_{};
  std::uint8_t size_ = 0;
};

// Binance order statuses plus two local ones: PendingCancel (a cancel is in flight; Binance
// never sends it) and Unknown (the place request ended in 5xx / timeout / -1007: the order may
// or may not exist; never treated as failed, resolved by a query or an execution report).
enum class OrderStatus : std::uint8_t {
  PendingNew,       // sent, no answer yet
  New,              // acknowledged, resting, nothing filled
  PartiallyFilled,
  Filled,
  PendingCancel,    // local: cancel sent, no answer yet
  Canceled,
  Rejected,
  Expired,          // IOC/FOK remainder, exchange expiry
  ExpiredInMatch,   // self-trade prevention
  Unknown,          // local: outcome of the place request unknown
};
inline constexpr std::size_t kOrderStatusCount = 10;
[[nodiscard]] std::string_view to_string(OrderStatus s) noexcept;
// Binance's spelling (NEW, PARTIALLY_FILLED, ..., PENDING_NEW); nullopt for unknown text.
[[nodiscard]] std::optional<OrderStatus> parse_order_status(std::string_view text) noexcept;
[[nodiscard]] constexpr bool is_terminal(OrderStatus s) noexcept {
  return s == OrderStatus::Filled || s == OrderStatus::Canceled || s == OrderStatus::Rejected ||
         s == OrderStatus::Expired || s == OrderStatus::ExpiredInMatch;
}
[[nodiscard]] constexpr bool is_live(OrderStatus s) noexcept { return !is_terminal(s); }

// The one transition table. `from` is the local status, `to` the status a report, a venue
// callback or reconciliation wants to set. Same-status "transitions" are not in the table (they
// are duplicates, handled before). Legal:
//   PendingNew, Unknown -> New, PartiallyFilled, Filled, Canceled, Rejected, Expired,
//                          ExpiredInMatch, PendingCancel; PendingNew -> Unknown
//   New                 -> PartiallyFilled, Filled, Canceled, Expired, ExpiredInMatch, PendingCancel
//   PartiallyFilled     -> Filled, Canceled, Expired, ExpiredInMatch, PendingCancel
//   PendingCancel       -> PendingNew, New, PartiallyFilled, Unknown (cancel rejected: back to the
//                          status before the cancel), Filled, Canceled, Expired, ExpiredInMatch,
//                          Rejected (canceled before the place answer, and the place failed)
//   terminal            -> nothing
[[nodiscard]] bool is_legal_transition(OrderStatus from, OrderStatus to) noexcept;

// executionReport `x`.
enum class ExecType : std::uint8_t { New, Canceled, Replaced, Rejected, Trade, Expired, TradePrevention };
[[nodiscard]] std::optional<ExecType> parse_exec_type(std::string_view text) noexcept;

// One executionReport, normalized by the decoder (field letters in comments). A venue that gets
// a REST/WS-API order response converts it into the same form: ACK/RESULT -> one report with
// x=NEW (or the status it carries), FULL -> additionally one x=TRADE report per fills[] entry.
struct ExecutionReport {
  Symbol symbol;                      // s
  ClientOrderId client_order_id;      // c
  ClientOrderId orig_client_order_id; // C: id of the canceled order on cancel reports, else empty
  std::int64_t order_id = -1;         // i (exchange order id)
  Side side = Side::Buy;              // S
  OrderType type = OrderType::Limit;  // o
  TimeInForce tif = TimeInForce::Gtc; // f
  Price price;                        // p
  Qty qty;                            // q
  ExecType exec_type = ExecType::New; // x
  OrderStatus status = OrderStatus::New;  // X
  Qty last_qty;                       // l
  Price last_price;                   // L
  Qty cum_qty;                        // z
  Money cum_quote;                    // Z
  std::int64_t commission_raw = 0;    // n, in units of 1e-8 of commission_asset
  Asset commission_asset;             // N (empty when null)
  std::int64_t trade_id = -1;         // t (-1 if none)
  bool maker = false;                 // m
  Nanos event_time = 0;               // E (ms * 1e6)
  Nanos transact_time = 0;            // T
};

// An order as GET /order, GET /openOrders or a cancel response describe it.
struct ExchangeOrder {
  Symbol symbol;
  ClientOrderId client_order_id;
  std::int64_t order_id = -1;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce tif = TimeInForce::Gtc;
  Price price;
  Qty qty;
  Qty executed_qty;
  Money cum_quote;
  OrderStatus status = OrderStatus::New;
  Nanos update_time = 0;
};

// One of the account's trades (GET /myTrades).
struct ExchangeTrade {
  Symbol symbol;
  std::int64_t trade_id = -1;
  std::int64_t order_id = -1;
  Side side = Side::Buy;  // isBuyer ? BUY : SELL
  Price price;
  Qty qty;
  std::int64_t commission_raw = 0;
  Asset commission_asset;
  bool maker = false;
  Nanos time = 0;
};

// A fill as the position book sees it.
struct Fill {
  Symbol symbol;
  Side side = Side::Buy;
  Price price;
  Qty qty;
  std::int64_t commission_raw = 0;
  Asset commission_asset;
  std::int64_t trade_id = -1;
  bool maker = false;
  Nanos time = 0;
};

}  // namespace tb::oms
