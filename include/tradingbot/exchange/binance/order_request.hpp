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

}  // namespace tb::binance
