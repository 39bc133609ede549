// REST and WS API response decoding against the payloads of binance-vectors.md.
#include <catch2/catch.hpp>

#include <string>

#include "tradingbot/exchange/binance/rest_responses.hpp"
#include "tradingbot/exchange/binance/ws_api_responses.hpp"
#include "vector_payloads.hpp"

using namespace tb::binance;
using tb::Money;
using tb::Price;
using tb::Qty;

namespace {
Price P(const char* s) { return *Price::parse(s); }
Qty Q(const char* s) { return *Qty::parse(s); }
Money M(const char* s) { return *Money::parse(s); }
}  // namespace

TEST_CASE("error bodies decode to typed errors with named codes", "[exchange][responses]") {
  JsonParser parser;
  ApiError err;
  REQUIRE(parse_api_error(parser, vectors::kErrorPayload, err) == ParseStatus::Ok);
  CHECK(err.code == error_code::kBadSymbol);
  CHECK(err.msg == "Invalid symbol.");
  CHECK(err.name() == "BAD_SYMBOL");
  // Any typed parser reports ApiError for an error body instead of a shape error.
  OrderResponse order;
  ApiError cancel_err;
  CHECK(parse_order(parser, vectors::kCancelRestricted, order, &cancel_err) == ParseStatus::ApiError);
  CHECK(cancel_err.code == error_code::kCancelRejected);
  CHECK(cancel_err.name() == "CANCEL_REJECTED");
  CHECK(error_name(-1021) == "INVALID_TIMESTAMP");
  CHECK(error_name(-1022) == "INVALID_SIGNATURE");
  CHECK(error_name(-2010) == "NEW_ORDER_REJECTED");
  CHECK(ApiError{-1007, "Timeout"}.outcome_unknown());
  CHECK(ApiError{-2010, ""}.outcome_unknown(503));
  CHECK_FALSE(ApiError{-2010, ""}.outcome_unknown(400));
  CHECK(parse_api_error(parser, "{\"code\":", err) == ParseStatus::InvalidJson);
}

TEST_CASE("POST order ACK / RESULT / FULL", "[exchange][responses]") {
  JsonParser parser;
  OrderResponse o;
  REQUIRE(parse_order(parser, vectors::kOrderAck, o) == ParseStatus::Ok);
  CHECK(o.kind == OrderResponseType::Ack);
  CHECK(o.symbol.view() == "BTCUSDT");
  CHECK(o.order_id == 28);
  CHECK(o.order_list_id == -1);
  CHECK(o.client_order_id == "6gCrw2kRUAF9CvJDGP16IP");
  CHECK(o.transact_time == 1507725176595);
  CHECK(o.status == OrderStatus::Unknown);

  REQUIRE(parse_order(parser, vectors::kOrderResult, o) == ParseStatus::Ok);
  CHECK(o.kind == OrderResponseType::Result);
  CHECK(o.status == OrderStatus::Filled);
  CHECK(o.type == OrderType::Market);
  CHECK(o.side == tb::Side::Sell);
  CHECK(o.time_in_force == TimeInForce::Gtc);
  CHECK(o.orig_qty == Q("10"));
  CHECK(o.executed_qty == Q("10"));
  CHECK(o.cummulative_quote_qty == M("10"));
  CHECK(o.working_time == 1507725176595);
  CHECK(o.fills.empty());

  REQUIRE(parse_order(parser, vectors::kOrderFull, o) == ParseStatus::Ok);
  CHECK(o.kind == OrderResponseType::Full);
  REQUIRE(o.fills.size() == 5);
  CHECK(o.fills[0].price == P("4000"));
  CHECK(o.fills[0].qty == Q("1"));
  CHECK(o.fills[1].commission == M("19.995"));
  CHECK(o.fills[1].commission_asset == "USDT");
  CHECK(o.fills[4].trade_id == 60);
  Qty total;
  for (const Fill& f : o.fills) total += f.qty;
  CHECK(total == o.executed_qty);
}

TEST_CASE("DELETE order, GET order, openOrders, DELETE openOrders", "[exchange][responses]") {
  JsonParser parser;
  OrderResponse o;
  REQUIRE(parse_order(parser, vectors::kCancelOrder, o) == ParseStatus::Ok);
  CHECK(o.status == OrderStatus::Canceled);
  CHECK(o.orig_client_order_id == "myOrder1");
  CHECK(o.client_order_id == "cancelMyOrder1");
  CHECK(o.price == P("2"));

  REQUIRE(parse_order(parser, vectors::kGetOrder, o) == ParseStatus::Ok);
  CHECK(o.status == OrderStatus::New);
  CHECK(o.price == P("0.1"));
  CHECK(o.orig_qty == Q("1"));
  CHECK(o.stop_price.is_zero());
  CHECK(o.time == 1499827319559);
  CHECK(o.update_time == 1499827319559);
  CHECK(o.is_working);
  CHECK(o.orig_client_order_id.empty());

  std::vector<OrderResponse> orders;
  REQUIRE(parse_orders(parser, vectors::kOpenOrders, orders) == ParseStatus::Ok);
  REQUIRE(orders.size() == 1);
  CHECK(orders[0].client_order_id == "myOrder1");

  REQUIRE(parse_orders(parser, vectors::kCancelOpenOrders, orders) == ParseStatus::Ok);
  REQUIRE(orders.size() == 4);  // two orders + the OCO list's two reports
  CHECK(orders[0].order_id == 11);
  CHECK(orders[0].price == P("0.089853"));
  CHECK(orders[2].order_id == 20);
  CHECK(orders[2].order_list_id == 1929);
  CHECK(orders[2].type == OrderType::StopLossLimit);
  CHECK(orders[2].stop_price == P("0.378131"));
  CHECK(orders[2].iceberg_qty == Q("0.017083"));
  CHECK(orders[3].type == OrderType::LimitMaker);
  CHECK(parse_orders(parser, vectors::kOrderAck, orders) == ParseStatus::WrongShape);
}

TEST_CASE("account balances, server time, tickers", "[exchange][responses]") {
  JsonParser parser;
  AccountInfo acct;
  REQUIRE(parse_account(parser, vectors::kAccount, acct) == ParseStatus::Ok);
  CHECK(acct.can_trade);
  CHECK(acct.maker_rate == 150'000);  // 0.0015
  CHECK(acct.taker_rate == 150'000);
  REQUIRE(acct.balances.size() == 2);
  CHECK(acct.balances[0].asset == "BTC");
  CHECK(acct.balances[0].free == Q("4723846.89208129"));
  CHECK(acct.balances[1].asset == "LTC");
  CHECK(acct.balances[1].locked.is_zero());

  std::int64_t server_time = 0;
  REQUIRE(parse_server_time(parser, vectors::kTime, server_time) == ParseStatus::Ok);
  CHECK(server_time == 1499827319559);

  std::vector<BookTicker> books;
  REQUIRE(parse_book_tickers(parser, vectors::kBookTicker, books) == ParseStatus::Ok);
  REQUIRE(books.size() == 1);
  CHECK(books[0].symbol.view() == "LTCBTC");
  CHECK(books[0].bid_price == P("4"));
  CHECK(books[0].bid_qty == Q("431"));
  CHECK(books[0].ask_price == P("4.000002"));
  CHECK(books[0].ask_qty == Q("9"));
  REQUIRE(parse_book_tickers(parser, vectors::kBookTickers, books) == ParseStatus::Ok);
  REQUIRE(books.size() == 2);
  CHECK(books[1].ask_price == P("100000"));

  std::vector<TickerPrice> prices;
  REQUIRE(parse_ticker_prices(parser, vectors::kTickerPrice, prices) == ParseStatus::Ok);
  REQUIRE(prices.size() == 1);
  CHECK(prices[0].price == P("4.000002"));
  REQUIRE(parse_ticker_prices(parser, vectors::kTickerPrices, prices) == ParseStatus::Ok);
  REQUIRE(prices.size() == 2);
  CHECK(prices[1].symbol.view() == "ETHBTC");
  CHECK(prices[1].price == P("0.079466"));

  // Doubles in exponent form are refused, not rounded.
  CHECK(parse_ticker_prices(parser, R"({"symbol":"X","price":"1e-05"})", prices) == ParseStatus::BadNumber);
}

TEST_CASE("WS API responses: envelope, order result, rateLimits, errors, retryAfter", "[exchange][responses]") {
  JsonParser parser;
  WsApiFrame f;
  REQUIRE(parse_ws_api_frame(parser, vectors::kWsOrderPlaced, f) == ParseStatus::Ok);
  REQUIRE(f.kind == WsApiFrame::Kind::Response);
  const WsApiResponse& r = f.response;
  CHECK(r.id == "e2a85d9f-07a5-4f94-8d5f-789dc3deb097");
  CHECK(r.status == 200);
  CHECK(r.ok());
  REQUIRE(r.result_kind == WsApiResponse::ResultKind::Order);
  CHECK(r.order.order_id == 12510053279);
  CHECK(r.order.status == OrderStatus::New);
  CHECK(r.order.price == P("0.1"));
  REQUIRE(r.rate_limit_count == 3);
  CHECK(r.rate_limits[0].limit.type == RateLimitType::Orders);
  CHECK(r.rate_limits[0].limit.interval_num == 10);
  CHECK(r.rate_limits[0].count == 12);
  CHECK(r.rate_limits[2].limit.type == RateLimitType::RequestWeight);
  CHECK(r.rate_limits[2].count == 321);

  REQUIRE(parse_ws_api_frame(parser, vectors::kWsOrderFailed, f) == ParseStatus::Ok);
  CHECK_FALSE(f.response.ok());
  CHECK(f.response.status == 400);
  CHECK(f.response.error.code == error_code::kNewOrderRejected);
  CHECK(f.response.error.msg == "Account has insufficient balance for requested action.");
  CHECK(f.response.rate_limit_count == 3);

  REQUIRE(parse_ws_api_frame(parser, vectors::kWs418, f) == ParseStatus::Ok);
  CHECK(f.response.status == 418);
  CHECK(f.response.error.code == error_code::kTooManyRequests);
  REQUIRE(f.response.retry_after_epoch_ms.has_value());
  CHECK(*f.response.retry_after_epoch_ms == 1659146400000);
  // Feeding it to the tracker blocks until that instant.
  RateLimitTracker rl;
  rl.on_ws_api_status(f.response.status, f.response.retry_after_epoch_ms, 1659142907531 * tb::kNanosPerMilli);
  CHECK(rl.can_send(1, 1659146399000 * tb::kNanosPerMilli) == RateDecision::Banned418);

  REQUIRE(parse_ws_api_frame(parser, vectors::kWsTime, f) == ParseStatus::Ok);
  CHECK(f.response.id == "2");
  CHECK(f.response.id_is_number);
  CHECK(f.response.result_kind == WsApiResponse::ResultKind::ServerTime);
  CHECK(f.response.server_time_ms == 1656400527891);
  CHECK(f.response.rate_limit_count == 0);

  REQUIRE(parse_ws_api_frame(parser, vectors::kWsSubscribed, f) == ParseStatus::Ok);
  CHECK(f.response.result_kind == WsApiResponse::ResultKind::Subscription);
  CHECK(f.response.subscription_id == 0);

  REQUIRE(parse_ws_api_frame(
              parser, R"({"id":"o","status":200,"result":[)" + std::string(vectors::kGetOrder) + "]}", f) ==
          ParseStatus::Ok);
  CHECK(f.response.result_kind == WsApiResponse::ResultKind::Orders);
  REQUIRE(f.response.orders.size() == 1);
  CHECK(f.response.orders[0].client_order_id == "myOrder1");
  CHECK(parse_ws_api_frame(parser, R"({"status":200})", f) == ParseStatus::WrongShape);
}

TEST_CASE("user data events: executionReport, outboundAccountPosition, balanceUpdate, terminated",
          "[exchange][responses]") {
  JsonParser parser;
  WsApiFrame f;
  REQUIRE(parse_ws_api_frame(parser, vectors::kExecutionReport, f) == ParseStatus::Ok);
  REQUIRE(f.kind == WsApiFrame::Kind::Event);
  REQUIRE(f.event.type == UserEventType::ExecutionReport);
  CHECK(f.event.subscription_id == 0);
  CHECK(f.event.event_time == 1499405658658);
  const ExecutionReport& x = f.event.execution;
  CHECK(x.symbol.view() == "ETHBTC");
  CHECK(x.client_order_id == "mUvoqJxFIILMdfAW5iGSOW");  // c
  CHECK(x.orig_client_order_id.empty());                 // C
  CHECK(x.side == tb::Side::Buy);
  CHECK(x.type == OrderType::Limit);
  CHECK(x.time_in_force == TimeInForce::Gtc);
  CHECK(x.quantity == Q("1"));          // q
  CHECK(x.quote_order_qty.is_zero());   // Q
  CHECK(x.price == P("0.1026441"));     // p
  CHECK(x.stop_price.is_zero());        // P
  CHECK(x.execution_type == ExecutionType::New);
  CHECK(x.status == OrderStatus::New);
  CHECK(x.reject_reason == "NONE");
  CHECK(x.order_id == 4293153);
  CHECK(x.last_qty.is_zero());
  CHECK(x.commission_asset.empty());  // N: null
  CHECK(x.trade_id == -1);
  CHECK(x.execution_id == 8641984);
  CHECK(x.on_book);
  CHECK_FALSE(x.maker);
  CHECK(x.creation_time == 1499405658657);
  CHECK(x.working_time == 1499405658657);

  // A trade on a cancel-replaced order: every upper/lower-case pair carries a different value.
  const std::string trade =
      R"({"subscriptionId":3,"event":{"e":"executionReport","E":1,"s":"ETHBTC","c":"new-id","S":"SELL","o":"LIMIT","f":"IOC",)"
      R"("q":"2.00000000","p":"0.05000000","P":"0.04000000","F":"0.00000000","g":-1,"C":"old-id","x":"TRADE",)"
      R"("X":"PARTIALLY_FILLED","r":"NONE","i":9,"l":"0.50000000","z":"1.50000000","L":"0.05100000","n":"0.00002550",)"
      R"("N":"BNB","T":7,"t":42,"I":43,"w":false,"m":true,"M":false,"O":5,"Z":"0.07650000","Y":"0.02550000",)"
      R"("Q":"0.10000000","W":6,"V":"NONE","eR":"INSUFFICIENT_LIQUIDITY"}})";
  REQUIRE(parse_ws_api_frame(parser, trade, f) == ParseStatus::Ok);
  const ExecutionReport& t = f.event.execution;
  CHECK(f.event.subscription_id == 3);
  CHECK(t.client_order_id == "new-id");
  CHECK(t.orig_client_order_id == "old-id");
  CHECK(t.price == P("0.05"));
  CHECK(t.stop_price == P("0.04"));
  CHECK(t.quantity == Q("2"));
  CHECK(t.quote_order_qty == M("0.1"));
  CHECK(t.last_qty == Q("0.5"));
  CHECK(t.last_price == P("0.051"));
  CHECK(t.cumulative_qty == Q("1.5"));
  CHECK(t.cumulative_quote_qty == M("0.0765"));
  CHECK(t.last_quote_qty == M("0.0255"));
  CHECK(t.commission == M("0.0000255"));
  CHECK(t.commission_asset == "BNB");
  CHECK(t.execution_type == ExecutionType::Trade);
  CHECK(t.status == OrderStatus::PartiallyFilled);
  CHECK(t.trade_id == 42);
  CHECK(t.transaction_time == 7);
  CHECK(t.maker);
  CHECK(t.expiry_reason == "INSUFFICIENT_LIQUIDITY");

  REQUIRE(parse_ws_api_frame(parser, vectors::kOutboundAccountPosition, f) == ParseStatus::Ok);
  REQUIRE(f.event.type == UserEventType::OutboundAccountPosition);
  CHECK(f.event.position.last_update_time == 1564034571073);
  REQUIRE(f.event.position.balances.size() == 1);
  CHECK(f.event.position.balances[0].asset == "ETH");
  CHECK(f.event.position.balances[0].free == Q("10000"));

  REQUIRE(parse_ws_api_frame(parser, vectors::kWsEventEnvelope, f) == ParseStatus::Ok);
  REQUIRE(f.event.position.balances.size() == 2);
  CHECK(f.event.position.balances[1].asset == "USDT");
  CHECK(f.event.position.balances[1].locked == Q("70"));

  REQUIRE(parse_user_data_event(parser, vectors::kBalanceUpdate, f.event) == ParseStatus::Ok);
  REQUIRE(f.event.type == UserEventType::BalanceUpdate);
  CHECK(f.event.balance.asset == "BTC");
  CHECK(f.event.balance.delta == Q("100"));
  CHECK(f.event.balance.clear_time == 1573200697068);

  REQUIRE(parse_ws_api_frame(parser, vectors::kEventStreamTerminated, f) == ParseStatus::Ok);
  CHECK(f.event.type == UserEventType::EventStreamTerminated);
  CHECK(f.event.event_time == 1728973001334);

  REQUIRE(parse_ws_api_frame(parser, vectors::kListStatus, f) == ParseStatus::Ok);
  CHECK(f.event.type == UserEventType::ListStatus);

  REQUIRE(parse_ws_api_frame(parser, vectors::kWsServerShutdown, f) == ParseStatus::Ok);
  CHECK(f.event.type == UserEventType::ServerShutdown);
  CHECK(f.event.subscription_id == -1);

  // Case matters: an event using "c" for both ids would not be read as having an orig id.
  CHECK(parse_user_data_event(parser, R"({"e":"executionReport","s":"ETHBTC","i":1,"C":"x","S":"BUY","x":"NEW","X":"NEW"})",
                              f.event) == ParseStatus::MissingField);
}
