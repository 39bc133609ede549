#include "tradingbot/exchange/binance/rest_responses.hpp"

#include "decode_internal.hpp"

namespace tb::binance {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

std::string_view to_string(ParseStatus status) noexcept {
  switch (status) {
    case ParseStatus::Ok: return "ok";
    case ParseStatus::InvalidJson: return "invalid JSON";
    case ParseStatus::WrongShape: return "unexpected JSON shape";
    case ParseStatus::MissingField: return "required field missing";
    case ParseStatus::BadNumber: return "malformed decimal";
    case ParseStatus::ApiError: return "exchange returned an error";
  }
  return "unknown";
}

std::string_view error_name(std::int32_t code) noexcept {
  namespace ec = error_code;
  switch (code) {
    case ec::kUnknown: return "UNKNOWN";
    case ec::kTooManyRequests: return "TOO_MANY_REQUESTS";
    case ec::kTimeout: return "TIMEOUT";
    case ec::kFilterFailure: return "FILTER_FAILURE";
    case ec::kTooManyOrders: return "TOO_MANY_ORDERS";
    case ec::kInvalidTimestamp: return "INVALID_TIMESTAMP";
    case ec::kInvalidSignature: return "INVALID_SIGNATURE";
    case ec::kIllegalChars: return "ILLEGAL_CHARS";
    case ec::kMandatoryParamMissing: return "MANDATORY_PARAM_EMPTY_OR_MALFORMED";
    case ec::kBadPrecision: return "BAD_PRECISION";
    case ec::kBadSymbol: return "BAD_SYMBOL";
    case ec::kSymbolStatusMismatch: return "SYMBOL_DOES_NOT_MATCH_STATUS";
    case ec::kNewOrderRejected: return "NEW_ORDER_REJECTED";
    case ec::kCancelRejected: return "CANCEL_REJECTED";
    case ec::kNoSuchOrder: return "NO_SUCH_ORDER";
    case ec::kRejectedMbxKey: return "REJECTED_MBX_KEY";
    case ec::kCancelReplacePartial: return "CANCEL_REPLACE_PARTIALLY_FAILED";
    case ec::kCancelReplaceFailed: return "CANCEL_REPLACE_FAILED";
    case ec::kOrderArchived: return "ORDER_ARCHIVED";
    case ec::kSubscriptionActive: return "SUBSCRIPTION_ACTIVE";
    case ec::kSubscriptionInactive: return "SUBSCRIPTION_INACTIVE";
    case ec::kClientOrderIdMismatch: return "CLIENT_ORDER_ID_MISMATCH";
    case ec::kNoReferencePrice: return "NO_REFERENCE_PRICE";
    default: return "";
  }
}

namespace detail {

namespace {
template <class T>
bool opt_fixed(const object& o, std::string_view key, T& out) noexcept {
  if (!json::has(o, key)) return true;
  return json::fixed(o, key, out);
}
}  // namespace

ParseStatus decode_api_error(const object& o, ApiError& out) {
  std::int64_t code = 0;
  if (!json::i64(o, "code", code)) return ParseStatus::MissingField;
  std::string_view msg;
  (void)json::str(o, "msg", msg);
  out.code = static_cast<std::int32_t>(code);
  out.msg.assign(msg);
  return ParseStatus::Ok;
}

ParseStatus decode_order(const object& o, OrderResponse& out) {
  if (!json::symbol(o, "symbol", out.symbol) || !json::i64(o, "orderId", out.order_id)) {
    return ParseStatus::MissingField;
  }
  out.order_list_id = -1;
  (void)json::i64(o, "orderListId", out.order_list_id);
  if (!json::inline_str(o, "clientOrderId", out.client_order_id)) out.client_order_id.clear();
  if (!json::inline_str(o, "origClientOrderId", out.orig_client_order_id)) out.orig_client_order_id.clear();
  out.transact_time = 0;
  (void)json::i64(o, "transactTime", out.transact_time);
  out.price = {};
  out.orig_qty = {};
  out.executed_qty = {};
  out.cummulative_quote_qty = {};
  out.orig_quote_order_qty = {};
  out.stop_price = {};
  out.iceberg_qty = {};
  if (!opt_fixed(o, "price", out.price) || !opt_fixed(o, "origQty", out.orig_qty) ||
      !opt_fixed(o, "executedQty", out.executed_qty) || !opt_fixed(o, "cummulativeQuoteQty", out.cummulative_quote_qty) ||
      !opt_fixed(o, "origQuoteOrderQty", out.orig_quote_order_qty) || !opt_fixed(o, "stopPrice", out.stop_price) ||
      !opt_fixed(o, "icebergQty", out.iceberg_qty)) {
    return ParseStatus::BadNumber;
  }
  std::string_view text;
  out.kind = OrderResponseType::Ack;
  out.status = OrderStatus::Unknown;
  if (json::str(o, "status", text)) {
    out.status = parse_order_status(text);
    out.kind = OrderResponseType::Result;
  }
  out.time_in_force = json::str(o, "timeInForce", text) ? parse_time_in_force(text) : TimeInForce::None;
  out.type = json::str(o, "type", text) ? parse_order_type(text) : OrderType::Unknown;
  if (json::str(o, "side", text)) {
    const auto side = parse_side(text);
    if (!side) return ParseStatus::MissingField;
    out.side = *side;
  }
  out.time = out.update_time = out.working_time = 0;
  (void)json::i64(o, "time", out.time);
  (void)json::i64(o, "updateTime", out.update_time);
  (void)json::i64(o, "workingTime", out.working_time);
  out.is_working = false;
  (void)json::boolean(o, "isWorking", out.is_working);

  out.fills.clear();
  array fills;
  if (o.at_key("fills").get_array().get(fills) == simdjson::SUCCESS) {
    out.kind = OrderResponseType::Full;
    for (element fe : fills) {
      object f;
      if (fe.get_object().get(f) != simdjson::SUCCESS) return ParseStatus::WrongShape;
      Fill fill;
      if (!json::fixed(f, "price", fill.price) || !json::fixed(f, "qty", fill.qty) ||
          !json::fixed(f, "commission", fill.commission)) {
        return ParseStatus::BadNumber;
      }
      (void)json::inline_str(f, "commissionAsset", fill.commission_asset);
      (void)json::i64(f, "tradeId", fill.trade_id);
      out.fills.push_back(fill);
    }
  }
  return ParseStatus::Ok;
}

ParseStatus decode_balance_array(const array& a, std::vector<AssetBalance>& out, std::string_view asset_key,
                                 std::string_view free_key, std::string_view locked_key) {
  out.clear();
  for (element e : a) {
    object b;
    if (e.get_object().get(b) != simdjson::SUCCESS) return ParseStatus::WrongShape;
    AssetBalance bal;
    if (!json::inline_str(b, asset_key, bal.asset)) return ParseStatus::MissingField;
    if (!json::fixed(b, free_key, bal.free) || !json::fixed(b, locked_key, bal.locked)) return ParseStatus::BadNumber;
    out.push_back(bal);
  }
  return ParseStatus::Ok;
}

}  // namespace detail

namespace {

// Parses the body; if it is an error object, fills `error` and answers ApiError.
ParseStatus parse_root(JsonParser& parser, std::string_view body, element& root, ApiError* error) {
  if (parser.impl().parse(body, root) != simdjson::SUCCESS) return ParseStatus::InvalidJson;
  object o;
  if (root.get_object().get(o) == simdjson::SUCCESS && json::has(o, "code") && json::has(o, "msg")) {
    ApiError scratch;
    (void)detail::decode_api_error(o, error != nullptr ? *error : scratch);
    return ParseStatus::ApiError;
  }
  return ParseStatus::Ok;
}

}  // namespace

ParseStatus parse_api_error(JsonParser& parser, std::string_view body, ApiError& out) {
  element root;
  if (parser.impl().parse(body, root) != simdjson::SUCCESS) return ParseStatus::InvalidJson;
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  return detail::decode_api_error(o, out);
}

ParseStatus parse_order(JsonParser& parser, std::string_view body, OrderResponse& out, ApiError* error) {
  element root;
  if (const ParseStatus s = parse_root(parser, body, root, error); s != ParseStatus::Ok) return s;
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  return detail::decode_order(o, out);
}

ParseStatus parse_orders(JsonParser& parser, std::string_view body, std::vector<OrderResponse>& out, ApiError* error) {
  element root;
  if (const ParseStatus s = parse_root(parser, body, root, error); s != ParseStatus::Ok) return s;
  array a;
  if (root.get_array().get(a) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  out.clear();
  for (element e : a) {
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) return ParseStatus::WrongShape;
    array reports;
    if (!json::has(o, "orderId") && o.at_key("orderReports").get_array().get(reports) == simdjson::SUCCESS) {
      for (element r : reports) {
        object ro;
        if (r.get_object().get(ro) != simdjson::SUCCESS) return ParseStatus::WrongShape;
        out.emplace_back();
        if (const ParseStatus s = detail::decode_order(ro, out.back()); s != ParseStatus::Ok) return s;
      }
      continue;
    }
    out.emplace_back();
    if (const ParseStatus s = detail::decode_order(o, out.back()); s != ParseStatus::Ok) return s;
  }
  return ParseStatus::Ok;
}

ParseStatus parse_my_trades(JsonParser& parser, std::string_view body, std::vector<AccountTrade>& out,
                            ApiError* error) {
  element root;
  if (const ParseStatus s = parse_root(parser, body, root, error); s != ParseStatus::Ok) return s;
  array a;
  if (root.get_array().get(a) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  out.clear();
  for (element e : a) {
    object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) return ParseStatus::WrongShape;
    AccountTrade& t = out.emplace_back();
    if (!json::symbol(o, "symbol", t.symbol) || !json::i64(o, "id", t.trade_id) || !json::i64(o, "orderId", t.order_id) ||
        !json::i64(o, "time", t.time) || !json::boolean(o, "isBuyer", t.is_buyer) ||
        !json::boolean(o, "isMaker", t.is_maker)) {
      return ParseStatus::MissingField;
    }
    if (!json::fixed(o, "price", t.price) || !json::fixed(o, "qty", t.qty) || !json::fixed(o, "commission", t.commission)) {
      return ParseStatus::BadNumber;
    }
    (void)json::fixed(o, "quoteQty", t.quote_qty);
    (void)json::inline_str(o, "commissionAsset", t.commission_asset);
  }
  return ParseStatus::Ok;
}

ParseStatus parse_account(JsonParser& parser, std::string_view body, AccountInfo& out, ApiError* error) {
  element root;
  if (const ParseStatus s = parse_root(parser, body, root, error); s != ParseStatus::Ok) return s;
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  out.can_trade = false;
  (void)json::boolean(o, "canTrade", out.can_trade);
  out.update_time = 0;
  (void)json::i64(o, "updateTime", out.update_time);
  out.maker_rate = out.taker_rate = 0;
  object rates;
  if (o.at_key("commissionRates").get_object().get(rates) == simdjson::SUCCESS) {
    if (!json::fixed_raw(rates, "maker", out.maker_rate) || !json::fixed_raw(rates, "taker", out.taker_rate)) {
      return ParseStatus::BadNumber;
    }
  }
  array balances;
  if (o.at_key("balances").get_array().get(balances) != simdjson::SUCCESS) return ParseStatus::MissingField;
  return detail::decode_balance_array(balances, out.balances, "asset", "free", "locked");
}

ParseStatus parse_server_time(JsonParser& parser, std::string_view body, std::int64_t& server_time_ms,
                              ApiError* error) {
  element root;
  if (const ParseStatus s = parse_root(parser, body, root, error); s != ParseStatus::Ok) return s;
  object o;
  if (root.get_object().get(o) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  return json::i64(o, "serverTime", server_time_ms) ? ParseStatus::Ok : ParseStatus::MissingField;
}

namespace {

template <class T, class Decode>
ParseStatus one_or_many(JsonParser& parser, std::string_view body, std::vector<T>& out, ApiError* error,
                        Decode decode) {
  element root;
  if (const ParseStatus s = parse_root(parser, body, root, error); s != ParseStatus::Ok) return s;
  out.clear();
  object o;
  if (root.get_object().get(o) == simdjson::SUCCESS) {
    out.emplace_back();
    return decode(o, out.back());
  }
  array a;
  if (root.get_array().get(a) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  for (element e : a) {
    if (e.get_object().get(o) != simdjson::SUCCESS) return ParseStatus::WrongShape;
    out.emplace_back();
    if (const ParseStatus s = decode(o, out.back()); s != ParseStatus::Ok) return s;
  }
  return ParseStatus::Ok;
}

}  // namespace

ParseStatus parse_book_tickers(JsonParser& parser, std::string_view body, std::vector<BookTicker>& out,
                               ApiError* error) {
  return one_or_many(parser, body, out, error, [](const object& o, BookTicker& t) {
    if (!json::symbol(o, "symbol", t.symbol)) return ParseStatus::MissingField;
    if (!json::fixed(o, "bidPrice", t.bid_price) || !json::fixed(o, "bidQty", t.bid_qty) ||
        !json::fixed(o, "askPrice", t.ask_price) || !json::fixed(o, "askQty", t.ask_qty)) {
      return ParseStatus::BadNumber;
    }
    return ParseStatus::Ok;
  });
}

ParseStatus parse_ticker_prices(JsonParser& parser, std::string_view body, std::vector<TickerPrice>& out,
                                ApiError* error) {
  return one_or_many(parser, body, out, error, [](const object& o, TickerPrice& t) {
    if (!json::symbol(o, "symbol", t.symbol)) return ParseStatus::MissingField;
    return json::fixed(o, "price", t.price) ? ParseStatus::Ok : ParseStatus::BadNumber;
  });
}

}  // namespace tb::binance
