// The orders the bot sends, as plain values: what RestRequestBuilder and WsApiRequestBuilder turn
// into wire parameters. Prices and quantities are fixed-point and printed with the symbol's
// tick/step digits (SymbolRules::price_digits()/qty_digits()), never through double.
// Value types: any thread.
#pragma once

#include <cstdint>

#include "tradingbot/core/fixed_point.hpp"
#include "tradingbot/core/side.hpp"
#include "tradingbot/core/symbol.hpp"
#include "tradingbot/exchange/binance/types.hpp"

namespace tb::binance {

// When the timestamp was taken and how long the server may accept it.
struct RequestTiming {
  std::int64_t timestamp_ms = 0;
  std::int64_t recv_window_ms = 5000;  // <= 0: omit the parameter (server default 5000)
};

// POST /api/v3/order and WS API order.place. Zero quantity/price/quote_order_qty/stop_price and
// empty client_order_id mean "not sent". Parameters go out in this order: symbol, side, type,
// timeInForce, quantity, quoteOrderQty, price, stopPrice, newClientOrderId, newOrderRespType.
struct NewOrder {
  Symbol symbol;
  Side side = Side::Buy;
  OrderType type = OrderType::Limit;
  TimeInForce time_in_force = TimeInForce::None;
  Qty quantity;
  Money quote_order_qty;
  Price price;
  Price stop_price;
  ClientOrderId client_order_id;
  bool set_response_type = false;
  OrderResponseType response_type = OrderResponseType::Ack;
  int price_digits = kFixedDecimals;  // decimals of the symbol's tickSize
  int qty_digits = kFixedDecimals;    // decimals of the symbol's stepSize
};

// DELETE /api/v3/order, GET /api/v3/order, order.cancel, order.status: by orderId (fastest) when
// order_id >= 0, else by origClientOrderId.
struct OrderRef {
  Symbol symbol;
  std::int64_t order_id = -1;
  ClientOrderId orig_client_order_id;
};

[[nodiscard]] inline bool is_complete(const OrderRef& ref) noexcept {
  return !ref.symbol.empty() && (ref.order_id >= 0 || !ref.orig_client_order_id.empty());
}

// One list of an order's wire parameters for both builders (RestRequestBuilder: the query string;
// WsApiRequestBuilder: the params object), so REST and the WS API cannot drift apart. Forced
// inline: as a template with external linkage GCC kept it out of line (it inlines only static
// functions called once on its own), which cost the WS API order build ~5-8%.
template <class Builder>
[[gnu::always_inline]] inline void add_new_order_fields(Builder& b, const NewOrder& o) {
  b.add_safe("symbol", o.symbol.view());
  b.add_safe("side", to_string(o.side));
  b.add_safe("type", to_string(o.type));
  if (o.time_in_force != TimeInForce::None) b.add_safe("timeInForce", to_string(o.time_in_force));
  if (o.quantity.is_positive()) b.add_fixed("quantity", o.quantity.raw(), o.qty_digits);
  if (o.quote_order_qty.is_positive()) b.add_fixed("quoteOrderQty", o.quote_order_qty.raw(), o.price_digits);
  if (o.price.is_positive()) b.add_fixed("price", o.price.raw(), o.price_digits);
  if (o.stop_price.is_positive()) b.add_fixed("stopPrice", o.stop_price.raw(), o.price_digits);
  if (!o.client_order_id.empty()) b.add("newClientOrderId", o.client_order_id.view());
  if (o.set_response_type) b.add_safe("newOrderRespType", to_string(o.response_type));
}

// Requires is_complete(ref).
template <class Builder>
[[gnu::always_inline]] inline void add_order_ref_fields(Builder& b, const OrderRef& ref) {
  b.add_safe("symbol", ref.symbol.view());
  if (ref.order_id >= 0) {
    b.add("orderId", ref.order_id);
  } else {
    b.add("origClientOrderId", ref.orig_client_order_id.view());
  }
}

}  // namespace tb::binance
