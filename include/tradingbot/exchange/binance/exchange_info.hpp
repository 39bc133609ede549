// exchangeInfo (GET /api/v3/exchangeInfo) decoded into per-symbol trading rules, and the local
// pre-trade checks that mirror the exchange's filters (reference section 8, pitfall 13.7/13.8):
// quantities floor to stepSize, BUY prices floor and SELL prices ceil to tickSize, both are
// clamped into the filter's range, notional is checked exactly in 128 bits, and a failure names
// the filter the way Binance would (-1013 "Filter failure: NOTIONAL"). Prices print with exactly
// the tick's decimals and quantities with the step's.
// parse_exchange_info() runs at start-up/refresh (returns Result, may allocate). SymbolRules is an
// immutable value once built: any thread may read it; its methods never throw or allocate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/result.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/exchange/binance/json_parser.hpp"
#include "tradingbot/exchange/binance/rate_limits.hpp"
#include "tradingbot/exchange/binance/types.hpp"

namespace tb::binance {

enum class SymbolStatus : std::uint8_t { Trading, EndOfDay, Halt, Break, CancelOnly, Unknown };
[[nodiscard]] SymbolStatus parse_symbol_status(std::string_view text) noexcept;
[[nodiscard]] std::string_view to_string(SymbolStatus status) noexcept;

// Each bound is disabled when zero, like on the exchange.
struct PriceFilter {
  Price min_price, max_price, tick_size;
};
struct LotSizeFilter {
  Qty min_qty, max_qty, step_size;
};
// NOTIONAL, or the legacy MIN_NOTIONAL (max_notional zero, apply_min_to_market = applyToMarket).
struct NotionalFilter {
  Money min_notional;
  Money max_notional;
  bool apply_min_to_market = true;
  bool apply_max_to_market = false;
  std::int32_t avg_price_mins = 0;
};
// Multipliers are fixed-point (1e-8) like every other decimal.
struct PercentPriceFilter {
  std::int64_t multiplier_up = 0, multiplier_down = 0;
  std::int32_t avg_price_mins = 0;
};
struct PercentPriceBySideFilter {
  std::int64_t bid_multiplier_up = 0, bid_multiplier_down = 0;
  std::int64_t ask_multiplier_up = 0, ask_multiplier_down = 0;
  std::int32_t avg_price_mins = 0;
};

// What a local check found. code()/message() match what the exchange would answer.
enum class FilterCheck : std::uint8_t {
  Ok,
  PriceFilter,
  PercentPrice,
  PercentPriceBySide,
  LotSize,
  MarketLotSize,
  MinNotional,
  Notional,
  MaxNumOrders,
  NoReferencePrice,  // PERCENT_PRICE / market notional need a reference price we do not have
  SymbolNotTrading,
  InvalidValue,  // zero/negative price or quantity
};
[[nodiscard]] std::int32_t error_code_of(FilterCheck check) noexcept;     // -1013, -2010, -1100 ...
[[nodiscard]] std::string_view message_of(FilterCheck check) noexcept;    // "Filter failure: NOTIONAL"

struct RoundedOrder {
  Price price;
  Qty quantity;
};

struct SymbolRules {
  Symbol symbol;
  SymbolStatus status = SymbolStatus::Unknown;
  AssetName base_asset;
  AssetName quote_asset;
  std::int32_t base_asset_precision = 8;
  std::int32_t quote_asset_precision = 8;
  std::optional<PriceFilter> price_filter;
  std::optional<LotSizeFilter> lot_size;
  std::optional<LotSizeFilter> market_lot_size;
  std::optional<NotionalFilter> notional;      // NOTIONAL
  std::optional<NotionalFilter> min_notional;  // legacy MIN_NOTIONAL
  std::optional<PercentPriceFilter> percent_price;
  std::optional<PercentPriceBySideFilter> percent_price_by_side;
  std::int32_t max_num_orders = 0;  // 0: no MAX_NUM_ORDERS filter

  [[nodiscard]] bool trading() const noexcept { return status == SymbolStatus::Trading; }
  // Decimals of tickSize / stepSize (8 when the filter is absent).
  [[nodiscard]] int price_digits() const noexcept;
  [[nodiscard]] int qty_digits() const noexcept;

  // Floor to stepSize (MARKET_LOT_SIZE for market orders when its step is set), then clamp down
  // to maxQty. Never rounds up: rounding must not increase the size we risk.
  [[nodiscard]] Qty round_qty(Qty qty, bool market = false) const noexcept;
  // BUY floors, SELL ceils to tickSize (the passive direction: never pay more / sell for less
  // than asked), then clamps into [minPrice, maxPrice] on the tick grid.
  [[nodiscard]] Price round_price(Price price, Side side) const noexcept;
  [[nodiscard]] RoundedOrder round_order(Side side, Price price, Qty qty) const noexcept;

  // Checks a LIMIT-style order (price > 0) or a MARKET order (price zero; `reference_price`
  // stands in for notional and percent checks). `reference_price` is the average/reference price
  // for PERCENT_PRICE(_BY_SIDE); when zero those filters are skipped. `open_orders` is how many
  // orders are already open on the symbol (MAX_NUM_ORDERS).
  [[nodiscard]] FilterCheck validate(Side side, OrderType type, Price price, Qty qty, Price reference_price = {},
                                     std::int32_t open_orders = 0) const noexcept;

  // Exact decimal text with the filter's digits ("52000.00", "0.01000000" for step 1e-8).
  [[nodiscard]] std::size_t format_price(Price price, char* out) const noexcept;  // out >= kMaxFixedChars
  [[nodiscard]] std::size_t format_qty(Qty qty, char* out) const noexcept;
  [[nodiscard]] std::string price_string(Price price) const;
  [[nodiscard]] std::string qty_string(Qty qty) const;
};

struct ExchangeInfo {
  std::int64_t server_time_ms = 0;
  std::vector<RateLimit> rate_limits;
  std::vector<SymbolRules> symbols;
  [[nodiscard]] const SymbolRules* find(const Symbol& symbol) const noexcept;
};

// Decodes the exchangeInfo body. Unknown filters and unknown rateLimit entries are ignored;
// a symbol whose known filters have malformed numbers makes the whole parse fail (better to
// refuse than to trade on wrong rules).
[[nodiscard]] Result<ExchangeInfo> parse_exchange_info(JsonParser& parser, std::string_view json);

}  // namespace tb::binance
