// Vocabulary of the embedded matching engine: ids, order types, time in force, self-trade
// prevention modes, reason codes, instrument rules and the request structs a caller fills in.
// Semantics follow Binance spot (see matching_engine.hpp for the behaviour of each).
// Value types and pure functions: any thread may use them.
#pragma once

#include <cstdint>
#include <string_view>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/order_type.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb::book {

using OrderId = std::uint64_t;    // per book, starts at 1, strictly increasing; 0 = none
using TradeId = std::uint64_t;    // per book, starts at 1, strictly increasing
using AccountId = std::uint64_t;  // self-trade prevention compares these
using UpdateId = std::uint64_t;   // per book, +1 on every price-level change

// Binance allows newClientOrderId of 1..36 characters from [.A-Za-z:/0-9_-].
inline constexpr std::size_t kMaxClientOrderIdLength = 36;

// Order types and time in force are the shared ones (core/order_type.hpp), named here too so
// the engine's callers can spell them book::OrderType. In the engine: MARKET takes by base
// quantity or by quote amount (NewOrder::quote_qty); LIMIT_MAKER is rejected with
// RejectReason::WouldTake if any part would trade; FOK expires with no trade unless the whole
// quantity can trade at once.
using tb::OrderType;
using tb::TimeInForce;

// Binance selfTradePreventionMode; the taker's mode decides what happens when it meets a
// resting order of the same account.
enum class StpMode : std::uint8_t {
  None,         // self trades are allowed
  ExpireTaker,  // the taker's remaining quantity expires, the maker stays
  ExpireMaker,  // the maker expires, the taker keeps matching
  ExpireBoth,   // both expire
};

// Why a request was refused. No state changed and no id was consumed.
enum class RejectReason : std::uint8_t {
  None,
  InvalidQuantity,          // quantity <= 0, or both/neither of quantity and quote_qty on MARKET
  InvalidPrice,             // limit price <= 0
  InvalidClientOrderId,     // too long or characters outside [.A-Za-z:/0-9_-]
  PriceBelowMin,            // PRICE_FILTER minPrice
  PriceAboveMax,            // PRICE_FILTER maxPrice
  PriceNotOnTick,           // PRICE_FILTER tickSize
  QtyBelowMin,              // LOT_SIZE minQty
  QtyAboveMax,              // LOT_SIZE maxQty
  QtyNotOnStep,             // LOT_SIZE stepSize
  NotionalBelowMin,         // NOTIONAL minNotional
  PriceOutOfBand,           // PERCENT_PRICE band around the reference price
  DuplicateClientOrderId,   // another open order of the account has this client order id
  WouldTake,                // LIMIT_MAKER that would match immediately
  UnknownOrder,             // cancel/replace: no open order with that id for that account
  ReentrantCall,            // a listener called back into the engine (programming error)
};

// Why an accepted order (or part of it) left the book without trading.
enum class ExpireReason : std::uint8_t {
  ImmediateOrCancel,     // IOC remainder
  FillOrKill,            // FOK could not fill completely; nothing traded
  NoLiquidity,           // MARKET remainder (book exhausted or quote amount spent)
  SelfTradeTaker,        // STP expired the taker (EXPIRE_TAKER / EXPIRE_BOTH)
  SelfTradeMaker,        // STP expired the maker (EXPIRE_MAKER / EXPIRE_BOTH)
};

// Binance reports STP expiries as status EXPIRED_IN_MATCH, other expiries as EXPIRED.
[[nodiscard]] constexpr bool expired_in_match(ExpireReason reason) noexcept {
  return reason == ExpireReason::SelfTradeTaker || reason == ExpireReason::SelfTradeMaker;
}

// Binance order status, as the order stands when a call returns.
enum class OrderStatus : std::uint8_t { New, PartiallyFilled, Filled, Canceled, Expired, ExpiredInMatch, Rejected };

enum class RequestKind : std::uint8_t { New, Cancel, Replace };

[[nodiscard]] std::string_view to_string(StpMode v) noexcept;        // "NONE", "EXPIRE_TAKER", ...
[[nodiscard]] std::string_view to_string(RejectReason v) noexcept;   // stable snake_case code
[[nodiscard]] std::string_view to_string(ExpireReason v) noexcept;   // stable snake_case code
[[nodiscard]] std::string_view to_string(OrderStatus v) noexcept;    // "NEW", "EXPIRED_IN_MATCH", ...

// True for 1..36 characters of [.A-Za-z:/0-9_-]. The empty string means "no client id".
[[nodiscard]] bool valid_client_order_id(std::string_view id) noexcept;

// exchangeInfo filters of one symbol, all in the 1e-8 fixed-point units of core. A zero field
// disables that check (e.g. max_price == 0: no upper price limit).
struct InstrumentRules {
  Symbol symbol;
  Price tick_size;       // PRICE_FILTER tickSize
  Price min_price;       // PRICE_FILTER minPrice
  Price max_price;       // PRICE_FILTER maxPrice
  Qty step_size;         // LOT_SIZE stepSize (also used for MARKET orders)
  Qty min_qty;           // LOT_SIZE minQty
  Qty max_qty;           // LOT_SIZE maxQty
  Money min_notional;    // NOTIONAL minNotional (MARKET: checked against the reference price)
  // PERCENT_PRICE: a limit price must lie within [reference * down, reference * up]. The
  // multipliers are fixed-point with 8 decimals (5.0 == 500'000'000). The band is off while
  // the reference price is unset (zero) or a multiplier is zero.
  std::int64_t band_multiplier_up = 0;
  std::int64_t band_multiplier_down = 0;
};

// A new order. String views only need to live for the duration of the call.
struct NewOrder {
  AccountId account = 0;
  std::string_view client_order_id;  // empty: none (no duplicate check)
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce time_in_force = TimeInForce::Gtc;  // read for Limit only
  Price price;                                   // Limit / LimitMaker
  Qty quantity;                                  // base quantity; zero for a MARKET by quote
  Money quote_qty;                               // MARKET only: spend this much quote instead
  StpMode stp = StpMode::None;
};

// Cancel/replace of an open order, found by order id (or by client order id when order_id is 0).
// `new_quantity` is the new OPEN quantity (what will rest on the book), not the original total.
// Priority is kept when the price is unchanged and the open quantity does not grow; otherwise the
// order goes to the back of its (new) level and, at a crossing price, trades first like a new
// GTC limit order (a LIMIT_MAKER that would trade is rejected and stays unchanged).
struct ReplaceOrder {
  AccountId account = 0;
  OrderId order_id = 0;
  std::string_view client_order_id;      // used to find the order when order_id == 0
  Price new_price;
  Qty new_quantity;
  std::string_view new_client_order_id;  // empty: keep the current one
};

// What a submit() call did, for callers that want the outcome without a listener.
struct SubmitResult {
  OrderId order_id = 0;  // 0 when rejected
  OrderStatus status = OrderStatus::Rejected;
  RejectReason reason = RejectReason::None;
  Qty filled;
};

// One aggregated price level: what depth streams publish.
struct AggregatedLevel {
  Price price;
  Qty quantity;
  std::uint32_t order_count = 0;
};

// A copy of an open order's state, returned by queries.
struct OrderInfo {
  OrderId order_id = 0;
  AccountId account = 0;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce time_in_force = TimeInForce::Gtc;
  StpMode stp = StpMode::None;
  Price price;
  Qty original_qty;   // open + filled (a replace resets it to new open + filled)
  Qty open_qty;
  Qty filled_qty;
  Money filled_quote;  // Binance cummulativeQuoteQty
  Nanos working_time = 0;  // when it last took its place in the queue
  std::string_view client_order_id;  // valid until the next engine call
};

}  // namespace tb::book
