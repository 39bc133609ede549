#include "tradingbot/exchange/binance/ws_api_responses.hpp"

#include <charconv>

#include "decode_internal.hpp"

namespace tb::binance {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

namespace {

template <class T>
bool opt_fixed(const object& o, std::string_view key, T& out) noexcept {
  out = T{};
  if (!json::has(o, key)) return true;
  return json::fixed(o, key, out);
}

UserEventType event_type_of(std::string_view e) noexcept {
  if (e == "executionReport") return UserEventType::ExecutionReport;
  if (e == "outboundAccountPosition") return UserEventType::OutboundAccountPosition;
  if (e == "balanceUpdate") return UserEventType::BalanceUpdate;
  if (e == "eventStreamTerminated") return UserEventType::EventStreamTerminated;
  if (e == "listStatus") return UserEventType::ListStatus;
  if (e == "externalLockUpdate") return UserEventType::ExternalLockUpdate;
  if (e == "serverShutdown") return UserEventType::ServerShutdown;
  return UserEventType::Unknown;
}

ParseStatus decode_execution_report(const object& o, ExecutionReport& r) noexcept {
  r.event_time = 0;
  (void)json::i64(o, "E", r.event_time);
  if (!json::symbol(o, "s", r.symbol) || !json::i64(o, "i", r.order_id)) return ParseStatus::MissingField;
  if (!json::inline_str(o, "c", r.client_order_id)) return ParseStatus::MissingField;
  if (!json::inline_str(o, "C", r.orig_client_order_id)) r.orig_client_order_id.clear();
  std::string_view text;
  if (!json::str(o, "S", text)) return ParseStatus::MissingField;
  const auto side = parse_side(text);
  if (!side) return ParseStatus::MissingField;
  r.side = *side;
  r.type = json::str(o, "o", text) ? parse_order_type(text) : OrderType::Unknown;
  r.time_in_force = json::str(o, "f", text) ? parse_time_in_force(text) : TimeInForce::None;
  if (!json::str(o, "x", text)) return ParseStatus::MissingField;
  r.execution_type = parse_execution_type(text);
  if (!json::str(o, "X", text)) return ParseStatus::MissingField;
  r.status = parse_order_status(text);
  if (!json::inline_str(o, "r", r.reject_reason)) r.reject_reason.clear();
  if (!json::inline_str(o, "eR", r.expiry_reason)) r.expiry_reason.clear();
  if (!opt_fixed(o, "q", r.quantity) || !opt_fixed(o, "p", r.price) || !opt_fixed(o, "P", r.stop_price) ||
      !opt_fixed(o, "F", r.iceberg_qty) || !opt_fixed(o, "l", r.last_qty) || !opt_fixed(o, "z", r.cumulative_qty) ||
      !opt_fixed(o, "L", r.last_price) || !opt_fixed(o, "n", r.commission) ||
      !opt_fixed(o, "Z", r.cumulative_quote_qty) || !opt_fixed(o, "Y", r.last_quote_qty) ||
      !opt_fixed(o, "Q", r.quote_order_qty)) {
    return ParseStatus::BadNumber;
  }
  if (!json::inline_str(o, "N", r.commission_asset)) r.commission_asset.clear();  // null before any fill
  r.order_list_id = -1;
  (void)json::i64(o, "g", r.order_list_id);
  r.transaction_time = r.creation_time = r.working_time = r.execution_id = 0;
  r.trade_id = -1;
  (void)json::i64(o, "T", r.transaction_time);
  (void)json::i64(o, "t", r.trade_id);
  (void)json::i64(o, "I", r.execution_id);
  (void)json::i64(o, "O", r.creation_time);
  (void)json::i64(o, "W", r.working_time);
  r.on_book = r.maker = false;
  (void)json::boolean(o, "w", r.on_book);
  (void)json::boolean(o, "m", r.maker);
  return ParseStatus::Ok;
}

ParseStatus decode_event(const object& e, UserDataEvent& out) {
  std::string_view type;
  if (!json::str(e, "e", type)) return ParseStatus::MissingField;
  out.type = event_type_of(type);
  out.event_time = 0;
  (void)json::i64(e, "E", out.event_time);
  switch (out.type) {
    case UserEventType::ExecutionReport: return decode_execution_report(e, out.execution);
    case UserEventType::OutboundAccountPosition: {
      out.position.last_update_time = 0;
      (void)json::i64(e, "u", out.position.last_update_time);
      array b;
      if (e.at_key("B").get_array().get(b) != simdjson::SUCCESS) return ParseStatus::MissingField;
      return detail::decode_balance_array(b, out.position.balances, "a", "f", "l");
    }
    case UserEventType::BalanceUpdate:
      if (!json::inline_str(e, "a", out.balance.asset)) return ParseStatus::MissingField;
      if (!json::fixed(e, "d", out.balance.delta)) return ParseStatus::BadNumber;
      out.balance.clear_time = 0;
      (void)json::i64(e, "T", out.balance.clear_time);
      return ParseStatus::Ok;
    default: return ParseStatus::Ok;  // terminated/shutdown carry only E; others are not decoded further
  }
}

ParseStatus decode_event_frame(const object& top, UserDataEvent& out) {
  out.subscription_id = -1;
  (void)json::i64(top, "subscriptionId", out.subscription_id);
  object event;
  if (top.at_key("event").get_object().get(event) == simdjson::SUCCESS) return decode_event(event, out);
  return decode_event(top, out);  // bare event
}

ParseStatus decode_response(const object& top, WsApiResponse& out) {
  element id;
  if (top.at_key("id").get(id) != simdjson::SUCCESS) return ParseStatus::MissingField;
  out.id.clear();
  out.id_is_number = false;
  std::string_view id_text;
  std::int64_t id_number = 0;
  if (id.get_string().get(id_text) == simdjson::SUCCESS) {
    if (!out.id.assign(id_text)) return ParseStatus::WrongShape;
  } else if (id.get_int64().get(id_number) == simdjson::SUCCESS) {
    char buf[24];
    const auto res = std::to_chars(buf, buf + sizeof buf, id_number);
    (void)out.id.assign(std::string_view(buf, static_cast<std::size_t>(res.ptr - buf)));
    out.id_is_number = true;
  }  // null id: left empty
  std::int64_t status = 0;
  if (!json::i64(top, "status", status)) return ParseStatus::MissingField;
  out.status = static_cast<int>(status);

  out.rate_limit_count = 0;
  array limits;
  if (top.at_key("rateLimits").get_array().get(limits) == simdjson::SUCCESS) {
    for (element e : limits) {
      object l;
      if (out.rate_limit_count == out.rate_limits.size()) break;
      if (e.get_object().get(l) != simdjson::SUCCESS) continue;
      std::string_view type_text, interval_text;
      std::int64_t num = 0, limit = 0, count = 0;
      if (!json::str(l, "rateLimitType", type_text) || !json::str(l, "interval", interval_text) ||
          !json::i64(l, "intervalNum", num) || !json::i64(l, "limit", limit) || !json::i64(l, "count", count)) {
        continue;
      }
      const auto type = parse_rate_limit_type(type_text);
      const auto unit = parse_interval_unit(interval_text);
      if (!type || !unit || num <= 0 || num > INT32_MAX) continue;
      out.rate_limits[out.rate_limit_count++] =
          RateLimitUsage{RateLimit{*type, *unit, static_cast<std::int32_t>(num), limit}, count};
    }
  }

  out.has_error = false;
  out.retry_after_epoch_ms.reset();
  out.result_kind = WsApiResponse::ResultKind::None;
  object err;
  if (top.at_key("error").get_object().get(err) == simdjson::SUCCESS) {
    out.has_error = true;
    if (const ParseStatus s = detail::decode_api_error(err, out.error); s != ParseStatus::Ok) return s;
    object data;
    std::int64_t retry = 0;
    if (err.at_key("data").get_object().get(data) == simdjson::SUCCESS && json::i64(data, "retryAfter", retry)) {
      out.retry_after_epoch_ms = retry;
    }
    return ParseStatus::Ok;
  }

  element result;
  if (top.at_key("result").get(result) != simdjson::SUCCESS || result.is_null()) return ParseStatus::Ok;
  object ro;
  array ra;
  if (result.get_object().get(ro) == simdjson::SUCCESS) {
    if (json::has(ro, "orderId")) {
      out.result_kind = WsApiResponse::ResultKind::Order;
      return detail::decode_order(ro, out.order);
    }
    if (json::i64(ro, "subscriptionId", out.subscription_id)) {
      out.result_kind = WsApiResponse::ResultKind::Subscription;
      return ParseStatus::Ok;
    }
    if (json::i64(ro, "serverTime", out.server_time_ms)) {
      out.result_kind = WsApiResponse::ResultKind::ServerTime;
      return ParseStatus::Ok;
    }
    out.result_kind = WsApiResponse::ResultKind::Other;
    return ParseStatus::Ok;
  }
  if (result.get_array().get(ra) == simdjson::SUCCESS) {
    out.orders.clear();
    bool all_orders = true;
    for (element e : ra) {
      object o;
      if (e.get_object().get(o) != simdjson::SUCCESS || !json::has(o, "orderId")) {
        all_orders = false;
        break;
      }
      out.orders.emplace_back();
      if (const ParseStatus s = detail::decode_order(o, out.orders.back()); s != ParseStatus::Ok) return s;
    }
    // An empty array is an empty order list (openOrders.status with nothing open).
    out.result_kind = all_orders ? WsApiResponse::ResultKind::Orders : WsApiResponse::ResultKind::Other;
    return ParseStatus::Ok;
  }
  out.result_kind = WsApiResponse::ResultKind::Other;
  return ParseStatus::Ok;
}

}  // namespace

ParseStatus parse_ws_api_frame(JsonParser& parser, std::string_view frame, WsApiFrame& out) {
  element root;
  if (parser.impl().parse(frame, root) != simdjson::SUCCESS) return ParseStatus::InvalidJson;
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  if (json::has(top, "event")) {
    out.kind = WsApiFrame::Kind::Event;
    return decode_event_frame(top, out.event);
  }
  if (!json::has(top, "id")) return ParseStatus::WrongShape;
  out.kind = WsApiFrame::Kind::Response;
  return decode_response(top, out.response);
}

ParseStatus parse_user_data_event(JsonParser& parser, std::string_view frame, UserDataEvent& out) {
  element root;
  if (parser.impl().parse(frame, root) != simdjson::SUCCESS) return ParseStatus::InvalidJson;
  object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) return ParseStatus::WrongShape;
  return decode_event_frame(top, out);
}

}  // namespace tb::binance
