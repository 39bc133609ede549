#include "fakes/fake_binance_ws_api.hpp"

#include <simdjson.h>

#include <map>

namespace tb::binance::test {

namespace {

std::string error(const std::string& id, int status, int code, const std::string& msg) {
  return R"({"id":")" + id + R"(","status":)" + std::to_string(status) + R"(,"error":{"code":)" +
         std::to_string(code) + R"(,"msg":")" + msg + R"("}})";
}

std::string ok(const std::string& id, const std::string& result, std::int64_t weight_limit) {
  return R"({"id":")" + id + R"(","status":200,"result":)" + result +
         R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":)" +
         std::to_string(weight_limit) + R"(,"count":10}]})";
}

}  // namespace

FakeBinanceWsApi::FakeBinanceWsApi(boost::asio::io_context& ioc, net::TlsContextPtr tls, FakeBinanceRest& rest,
                                   std::string api_key, std::string secret)
    : server_(ioc, std::move(tls)),
      rest_(rest),
      api_key_(std::move(api_key)),
      signer_(secret),
      parser_(std::make_unique<simdjson::dom::parser>()) {
  server_.on_text = [this](Session& s, const std::string& text) { on_text(s, text); };
}

FakeBinanceWsApi::~FakeBinanceWsApi() = default;

void FakeBinanceWsApi::fill(const std::string& client_id, const std::string& qty, const std::string& price,
                            std::int64_t trade_id, bool complete) {
  FakeOrder& o = rest_.orders.at(client_id);
  o.executed = qty;
  o.status = complete ? "FILLED" : "PARTIALLY_FILLED";
  push_report(o, "TRADE", qty, price, trade_id);
}

void FakeBinanceWsApi::push_report(const FakeOrder& o, const std::string& exec, const std::string& last_qty,
                                   const std::string& last_price, std::int64_t trade_id) {
  const std::string ev = R"({"e":"executionReport","E":)" + std::to_string(rest_.server_time_ms()) + R"(,"s":")" +
                         o.symbol + R"(","c":")" + o.client_id + R"(","S":")" + o.side + R"(","o":")" + o.type +
                         R"(","f":")" + o.tif + R"(","q":")" + o.qty + R"(","p":")" + o.price +
                         R"(","P":"0.00000000","F":"0.00000000","g":-1,"C":"","x":")" + exec + R"(","X":")" +
                         o.status + R"(","r":"NONE","i":)" + std::to_string(o.order_id) + R"(,"l":")" + last_qty +
                         R"(","z":")" + o.executed + R"(","L":")" + last_price +
                         R"(","n":"0","N":null,"T":)" + std::to_string(rest_.server_time_ms()) + R"(,"t":)" +
                         std::to_string(trade_id) + R"(,"I":1,"w":true,"m":false,"M":false,"O":)" +
                         std::to_string(o.time) + R"(,"Z":"0.00000000","Y":"0.00000000","Q":"0.00000000","W":)" +
                         std::to_string(o.time) + "}";
  for (auto& [session, sub_id] : subscribed_) {
    if (session->open && !session->closed)
      session->send(R"({"subscriptionId":)" + std::to_string(sub_id) + R"(,"event":)" + ev + "}");
  }
}

void FakeBinanceWsApi::on_text(Session& session, const std::string& text) {
  simdjson::dom::element doc = parser_->parse(text);
  std::string id;
  if (doc["id"].is_string()) id = std::string(doc["id"].get_string().value());
  else id = std::to_string(doc["id"].get_int64().value());
  const std::string method(doc["method"].get_string().value());
  methods.push_back(method);
  std::map<std::string, std::string> params;
  std::string signature;
  simdjson::dom::object obj;
  if (doc["params"].get(obj) == simdjson::SUCCESS) {
    for (auto field : obj) {
      const std::string key(field.key);
      std::string value;
      if (field.value.is_string()) value = std::string(field.value.get_string().value());
      else value = simdjson::minify(field.value);
      if (key == "signature") signature = value;
      else params[key] = value;
    }
  }
  // Verify: sorted params (std::map order), raw values.
  std::string payload;
  for (const auto& [k, v] : params) {
    if (!payload.empty()) payload += '&';
    payload += k + "=" + v;
  }
  SignatureText expected;
  signer_.sign(payload, expected);
  if (params["apiKey"] != api_key_) return session.send(error(id, 401, -2015, "Invalid API-key"));
  if (signature != expected.view()) {
    ++signature_failures;
    return session.send(error(id, 400, -1022, "Signature for this request is not valid."));
  }
  const std::int64_t server_ms = rest_.server_time_ms();
  const std::int64_t ts = std::stoll(params["timestamp"]);
  const std::int64_t window = params.count("recvWindow") ? std::stoll(params["recvWindow"]) : 5000;
  if (!(ts < server_ms + 1000 && server_ms - ts <= window))
    return session.send(error(id, 400, -1021, "Timestamp for this request is outside of the recvWindow."));

  if (method == "userDataStream.subscribe.signature") {
    const int sub = subscriptions++;
    subscribed_.emplace_back(session.shared_from_this(), sub);
    return session.send(ok(id, R"({"subscriptionId":)" + std::to_string(sub) + "}", rest_.request_weight_limit));
  }
  if (method == "order.place") {
    const FakeOrder* placed = rest_.place_order(params);
    if (placed == nullptr) return session.send(error(id, 400, -2010, "Duplicate order sent."));
    if (drop_on_next_place) {
      drop_on_next_place = false;
      subscribed_.clear();
      return session.drop();
    }
    session.send(ok(id, placed->json(), rest_.request_weight_limit));
    return push_report(*placed, "NEW", "0.00000", "0.00", -1);
  }
  if (method == "order.status" || method == "order.cancel") {
    FakeOrder* o = rest_.find_order(params);
    if (o == nullptr) return session.send(error(id, 400, -2013, "Order does not exist."));
    if (method == "order.cancel") {
      if (!o->is_open()) return session.send(error(id, 400, -2011, "Unknown order sent."));
      o->status = "CANCELED";
      session.send(ok(id, o->json(), rest_.request_weight_limit));
      return push_report(*o, "CANCELED", "0.00000", "0.00", -1);
    }
    return session.send(ok(id, o->json(), rest_.request_weight_limit));
  }
  if (method == "openOrders.status") return session.send(ok(id, rest_.open_orders_json(), rest_.request_weight_limit));
  session.send(error(id, 400, -1000, "unknown method"));
}

}  // namespace tb::binance::test
