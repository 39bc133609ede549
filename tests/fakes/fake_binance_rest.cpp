#include "fakes/fake_binance_rest.hpp"

#include <algorithm>

#include <boost/beast/http/field.hpp>

namespace tb::binance::test {

namespace {

std::string url_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> parse_form(std::string_view s) {
  std::map<std::string, std::string> out;
  while (!s.empty()) {
    const auto amp = s.find('&');
    const std::string_view kv = s.substr(0, amp);
    const auto eq = kv.find('=');
    if (eq != std::string_view::npos) out[std::string(kv.substr(0, eq))] = url_decode(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    s.remove_prefix(amp + 1);
  }
  return out;
}

std::string error_body(int code, std::string_view msg) {
  return "{\"code\":" + std::to_string(code) + ",\"msg\":\"" + std::string(msg) + "\"}";
}

constexpr const char* kExchangeInfo = R"({"timezone":"UTC","serverTime":1,"rateLimits":[
 {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
 {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},
 {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000},
 {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":300000}],
 "exchangeFilters":[],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,
 "quoteAsset":"USDT","quotePrecision":8,"quoteAssetPrecision":8,"filters":[
 {"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
 {"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},
 {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5}]}]})";

}  // namespace

std::string FakeOrder::json() const {
  return "{\"symbol\":\"" + symbol + "\",\"orderId\":" + std::to_string(order_id) +
         ",\"orderListId\":-1,\"clientOrderId\":\"" + client_id + "\",\"price\":\"" + price + "\",\"origQty\":\"" +
         qty + "\",\"executedQty\":\"" + executed + "\",\"cummulativeQuoteQty\":\"0.00000000\",\"status\":\"" +
         status + "\",\"timeInForce\":\"" + tif + "\",\"type\":\"" + type + "\",\"side\":\"" + side +
         "\",\"time\":" + std::to_string(time) + ",\"updateTime\":" + std::to_string(time) +
         ",\"transactTime\":" + std::to_string(time) + ",\"isWorking\":true,\"workingTime\":" +
         std::to_string(time) + ",\"origQuoteOrderQty\":\"0.00000000\",\"selfTradePreventionMode\":\"NONE\"}";
}

std::string FakeTrade::json() const {
  return "{\"symbol\":\"" + symbol + "\",\"id\":" + std::to_string(id) + ",\"orderId\":" + std::to_string(order_id) +
         ",\"orderListId\":-1,\"price\":\"" + price + "\",\"qty\":\"" + qty + "\",\"quoteQty\":\"0\",\"commission\":\"" +
         commission + "\",\"commissionAsset\":\"" + commission_asset + "\",\"time\":" + std::to_string(time) +
         ",\"isBuyer\":" + (buyer ? "true" : "false") + ",\"isMaker\":" + (maker ? "true" : "false") +
         ",\"isBestMatch\":true}";
}

void FakeBinanceRest::lift_rate_limits() {
  for (const std::string_view from : {R"("intervalNum":1,"limit":6000})", R"("intervalNum":10,"limit":50})",
                                      R"("intervalNum":1,"limit":160000})"}) {
    const std::size_t at = exchange_info_body.find(from);
    if (at == std::string::npos) continue;  // a test replaced the body
    std::string lifted(from.substr(0, from.find("limit")));
    lifted += R"(limit":100000000})";
    exchange_info_body.replace(at, from.size(), lifted);
  }
  request_weight_limit = 100000000;
}

FakeBinanceRest::FakeBinanceRest(boost::asio::io_context& ioc, net::TlsContextPtr tls, std::string api_key,
                                 std::string secret)
    : FakeHttpsServer(ioc, std::move(tls)),
      exchange_info_body(kExchangeInfo),
      api_key_(std::move(api_key)),
      signer_(secret) {
  responder = [this](const Request& req, Response& res, int connection) { return handle(req, res, connection); };
}

std::size_t FakeBinanceRest::count(std::string_view path) const {
  return static_cast<std::size_t>(
      std::count_if(received.begin(), received.end(), [&](const Received& r) { return r.path == path; }));
}

std::string FakeBinanceRest::open_orders_json() const {
  std::string body = "[";
  for (const auto& [id, o] : orders) {
    if (!o.is_open()) continue;
    if (body.size() > 1) body += ",";
    body += o.json();
  }
  return body + "]";
}

FakeOrder* FakeBinanceRest::place_order(const std::map<std::string, std::string>& params) {
  auto param = [&](const char* key, std::string fallback = {}) {
    const auto it = params.find(key);
    return it == params.end() ? fallback : it->second;
  };
  const std::string client_id = param("newClientOrderId");
  if (const auto it = orders.find(client_id); it != orders.end() && it->second.status == "NEW") return nullptr;
  FakeOrder o;
  o.symbol = param("symbol");
  o.client_id = client_id;
  o.side = param("side");
  o.type = param("type");
  o.tif = param("timeInForce", "GTC");
  o.price = param("price");
  o.qty = param("quantity");
  o.order_id = next_order_id++;
  o.time = server_time_ms();
  return &(orders[client_id] = o);
}

FakeOrder* FakeBinanceRest::find_order(const std::map<std::string, std::string>& params) {
  if (const auto by_client = params.find("origClientOrderId"); by_client != params.end()) {
    const auto it = orders.find(by_client->second);
    return it == orders.end() ? nullptr : &it->second;
  }
  if (const auto by_id = params.find("orderId"); by_id != params.end()) {
    for (auto& [client_id, o] : orders)
      if (std::to_string(o.order_id) == by_id->second) return &o;
  }
  return nullptr;
}

void FakeBinanceRest::count_weight(int weight) {
  const std::int64_t minute = wall_clock_ns() / (60 * kNanosPerSecond);
  if (minute != weight_minute_) {
    weight_minute_ = minute;
    used_weight_ = 0;
  }
  used_weight_ += weight;
}

void FakeBinanceRest::reply(Received& rec, Response& res, int status, std::string body, std::string outcome) const {
  res.result(static_cast<unsigned>(status));
  res.body() = std::move(body);
  res.set("X-MBX-USED-WEIGHT-1M", std::to_string(used_weight_));
  rec.outcome = std::move(outcome);
}

FakeBinanceRest::Reply FakeBinanceRest::handle(const Request& req, Response& res, int connection) {
  Received rec;
  rec.mono_at = monotonic_ns();
  rec.method = std::string(req.method_string());
  rec.target = std::string(req.target());
  rec.body = req.body();
  rec.connection = connection;
  const auto q = rec.target.find('?');
  rec.path = rec.target.substr(0, q);
  const std::string query = q == std::string::npos ? std::string() : rec.target.substr(q + 1);
  rec.params = parse_form(query);
  for (auto& [k, v] : parse_form(req.body())) rec.params.emplace(k, v);  // query wins on duplicates

  count_weight(rec.path == "/api/v3/exchangeInfo" ? 20
               : rec.path == "/api/v3/openOrders" ? 6
               : rec.path == "/api/v3/account"    ? 20
                                                  : 1);

  // Signed endpoints: key, signature over exactly the received bytes, timestamp window.
  const bool is_signed = rec.path == "/api/v3/order" || rec.path == "/api/v3/openOrders" ||
                         rec.path == "/api/v3/account" || rec.path == "/api/v3/myTrades";
  bool auth_ok = true;
  if (is_signed) {
    const std::string payload_all = query + std::string(req.body());
    const auto sig_pos = payload_all.rfind("&signature=");
    const auto key_it = req.find("X-MBX-APIKEY");
    if (key_it == req.end() || key_it->value() != api_key_) {
      reply(rec, res, 401, error_body(-2015, "Invalid API-key, IP, or permissions for action."), "-2015");
      auth_ok = false;
    } else if (sig_pos == std::string::npos) {
      reply(rec, res, 400, error_body(-1102, "Mandatory parameter 'signature' was not sent."), "-1102");
      auth_ok = false;
    } else {
      SignatureText expected;
      signer_.sign(std::string_view(payload_all).substr(0, sig_pos), expected);
      const std::string got = payload_all.substr(sig_pos + 11);
      if (got != expected.view()) {
        reply(rec, res, 400, error_body(-1022, "Signature for this request is not valid."), "-1022");
        auth_ok = false;
      } else {
        const std::int64_t server_ms = server_time_ms();
        const std::int64_t ts = std::stoll(rec.params["timestamp"]);
        const std::int64_t window = rec.params.count("recvWindow") ? std::stoll(rec.params["recvWindow"]) : 5000;
        if (!(ts < server_ms + 1000 && server_ms - ts <= window)) {
          reply(rec, res, 400, error_body(-1021, "Timestamp for this request is outside of the recvWindow."), "-1021");
          auth_ok = false;
        }
      }
    }
  }

  // Scripted answers (after authentication, like the real server's filters and limits).
  Reply answer = Reply::Send;
  if (auth_ok && !script.empty() && (script.front().path.empty() || script.front().path == rec.path)) {
    Scripted s = std::move(script.front());
    script.pop_front();
    if (s.execute_anyway && rec.path == "/api/v3/order" && rec.method == "POST") {
      Response ignored;
      execute(rec, ignored);
    }
    if (s.drop_connection) {
      rec.outcome = "scripted drop";
      answer = Reply::DropConnection;
    } else {
      for (auto& [k, v] : s.headers) res.set(k, v);
      reply(rec, res, s.status, std::move(s.body), "scripted " + std::to_string(s.status));
    }
  } else if (auth_ok) {
    execute(rec, res);
  }
  received.push_back(std::move(rec));
  return answer;
}

void FakeBinanceRest::execute(Received& rec, Response& res) {
  if (rec.path == "/api/v3/time")
    return reply(rec, res, 200, "{\"serverTime\":" + std::to_string(server_time_ms()) + "}", "ok");
  if (rec.path == "/api/v3/exchangeInfo") return reply(rec, res, 200, exchange_info_body, "ok");
  if (rec.path == "/api/v3/account")
    return reply(rec, res, 200,
                 R"({"commissionRates":{"maker":"0.00100000","taker":"0.00100000","buyer":"0","seller":"0"},"canTrade":true,"updateTime":1,"balances":[{"asset":"USDT","free":"1000.00000000","locked":"0.00000000"}]})",
                 "ok");
  if (rec.path == "/api/v3/myTrades") {
    auto& p = rec.params;
    const std::int64_t limit = std::clamp<std::int64_t>(p.count("limit") ? std::stoll(p["limit"]) : 500, 1, 1000);
    const std::int64_t from_id = p.count("fromId") ? std::stoll(p["fromId"]) : -1;
    const std::int64_t start = p.count("startTime") ? std::stoll(p["startTime"]) : 0;
    std::string body = "[";
    std::int64_t n = 0;
    for (const FakeTrade& t : trades) {
      if (n == limit) break;
      if (t.symbol != p["symbol"] || (from_id >= 0 ? t.id < from_id : t.time < start)) continue;
      if (n++ > 0) body += ",";
      body += t.json();
    }
    return reply(rec, res, 200, body + "]", "ok");
  }
  if (rec.path == "/api/v3/openOrders") return reply(rec, res, 200, open_orders_json(), "ok");
  if (rec.path == "/api/v3/order") {
    auto& p = rec.params;
    if (rec.method == "POST") {
      const FakeOrder* placed = place_order(p);
      if (placed == nullptr) return reply(rec, res, 400, error_body(-2010, "Duplicate order sent."), "-2010");
      res.set("X-MBX-ORDER-COUNT-10S", std::to_string(++order_count_));
      res.set("X-MBX-ORDER-COUNT-1D", std::to_string(order_count_));
      return reply(rec, res, 200, placed->json(), "ok");
    }
    FakeOrder* o = find_order(p);
    if (o == nullptr) return reply(rec, res, 400, error_body(-2013, "Order does not exist."), "-2013");
    if (rec.method == "DELETE") {
      if (!o->is_open()) return reply(rec, res, 400, error_body(-2011, "Unknown order sent."), "-2011");
      o->status = "CANCELED";
    }
    return reply(rec, res, 200, o->json(), "ok");
  }
  reply(rec, res, 404, error_body(-1000, "unknown path"), "404");
}

}  // namespace tb::binance::test
