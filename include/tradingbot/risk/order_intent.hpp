// The order intent a strategy (or a manual /control/order request) hands to the order manager,
// in the order vocabulary of core/order_type.hpp. It lives here, in the lowest module that needs
// it (risk may only use core), and oms re-uses it.
// Value types: any thread may use them; the intent itself is produced and consumed on the
// trading thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/order_type.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"

namespace tb {

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
