// FakeBinanceWsApi: a Binance-like WebSocket API over TLS on 127.0.0.1 (reference sections 9,
// 10), sharing its order table with a FakeBinanceRest so both paths see the same account.
// - Every signed request is verified as Binance does: params except `signature`, sorted by name,
//   joined k=v with '&' with raw values, HMAC-SHA256 hex -> -1022 on mismatch; apiKey checked.
// - userDataStream.subscribe.signature -> {"subscriptionId":N}; afterwards executionReports for
//   orders placed/cancelled/filled reach every subscribed session as
//   {"subscriptionId":N,"event":{...}}.
// - order.place / order.cancel / order.status / openOrders.status answer like REST does.
// - drop_on_next_place: the next order.place is executed, its execution report is NOT sent and
//   the connection is dropped without an answer (the order's outcome is unknown to the client).
// Test-only, one io_context; uses simdjson's DOM to read requests.
#pragma once

#include <simdjson.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "../net/fake_ws_server.hpp"
#include "fake_binance_rest.hpp"

namespace tb::binance::test {

class FakeBinanceWsApi {
 public:
  FakeBinanceWsApi(boost::asio::io_context& ioc, net::TlsContextPtr tls, FakeBinanceRest& rest, std::string api_key,
                   std::string secret)
      : server_(ioc, std::move(tls)), rest_(rest), api_key_(std::move(api_key)), signer_(secret) {
    server_.on_text = [this](net::test::FakeWsServer::Session& s, const std::string& text) { on_text(s, text); };
  }
  [[nodiscard]] std::uint16_t port() const { return server_.port(); }
  net::test::FakeWsServer& server() { return server_; }

  // Fills `qty` of the order at `price` and pushes the TRADE report to subscribed sessions.
  void fill(const std::string& client_id, const std::string& qty, const std::string& price, std::int64_t trade_id,
            bool complete) {
    FakeOrder& o = rest_.orders.at(client_id);
    o.executed = qty;
    o.status = complete ? "FILLED" : "PARTIALLY_FILLED";
    push_report(o, "TRADE", qty, price, trade_id);
  }

  bool drop_on_next_place = false;
  int subscriptions = 0;
  int signature_failures = 0;
  std::vector<std::string> methods;

 private:
  void push_report(const FakeOrder& o, const std::string& exec, const std::string& last_qty,
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

  static std::string error(const std::string& id, int status, int code, const std::string& msg) {
    return R"({"id":")" + id + R"(","status":)" + std::to_string(status) + R"(,"error":{"code":)" +
           std::to_string(code) + R"(,"msg":")" + msg + R"("}})";
  }
  static std::string ok(const std::string& id, const std::string& result) {
    return R"({"id":")" + id + R"(","status":200,"result":)" + result +
           R"(,"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":10}]})";
  }

  void on_text(net::test::FakeWsServer::Session& session, const std::string& text) {
    simdjson::dom::element doc = parser_.parse(text);
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
      return session.send(ok(id, R"({"subscriptionId":)" + std::to_string(sub) + "}"));
    }
    if (method == "order.place") {
      if (rest_.orders.count(params["newClientOrderId"]) && rest_.orders[params["newClientOrderId"]].status == "NEW")
        return session.send(error(id, 400, -2010, "Duplicate order sent."));
      FakeOrder o;
      o.symbol = params["symbol"];
      o.client_id = params["newClientOrderId"];
      o.side = params["side"];
      o.type = params["type"];
      o.tif = params.count("timeInForce") ? params["timeInForce"] : "GTC";
      o.price = params["price"];
      o.qty = params["quantity"];
      o.order_id = rest_.next_order_id++;
      o.time = server_ms;
      rest_.orders[o.client_id] = o;
      if (drop_on_next_place) {
        drop_on_next_place = false;
        subscribed_.clear();
        return session.drop();
      }
      session.send(ok(id, o.json()));
      return push_report(o, "NEW", "0.00000", "0.00", -1);
    }
    auto find = [&]() -> FakeOrder* {
      if (params.count("origClientOrderId")) {
        auto it = rest_.orders.find(params["origClientOrderId"]);
        return it == rest_.orders.end() ? nullptr : &it->second;
      }
      for (auto& [cid, o] : rest_.orders)
        if (params.count("orderId") && std::to_string(o.order_id) == params["orderId"]) return &o;
      return nullptr;
    };
    if (method == "order.status" || method == "order.cancel") {
      FakeOrder* o = find();
      if (o == nullptr) return session.send(error(id, 400, -2013, "Order does not exist."));
      if (method == "order.cancel") {
        if (o->status != "NEW" && o->status != "PARTIALLY_FILLED")
          return session.send(error(id, 400, -2011, "Unknown order sent."));
        o->status = "CANCELED";
        session.send(ok(id, o->json()));
        return push_report(*o, "CANCELED", "0.00000", "0.00", -1);
      }
      return session.send(ok(id, o->json()));
    }
    if (method == "openOrders.status") {
      std::string body = "[";
      for (const auto& [cid, o] : rest_.orders) {
        if (o.status != "NEW" && o.status != "PARTIALLY_FILLED") continue;
        if (body.size() > 1) body += ",";
        body += o.json();
      }
      return session.send(ok(id, body + "]"));
    }
    session.send(error(id, 400, -1000, "unknown method"));
  }

  net::test::FakeWsServer server_;
  FakeBinanceRest& rest_;
  std::string api_key_;
  HmacSha256Signer signer_;
  simdjson::dom::parser parser_;
  std::vector<std::pair<std::shared_ptr<net::test::FakeWsServer::Session>, int>> subscribed_;
};

}  // namespace tb::binance::test
