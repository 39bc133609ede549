// FakeBinanceRest: a small Binance-like REST server over TLS on 127.0.0.1 for the RestClient and
// gateway tests, answering per the reference (sections 4-7, 11):
// - signed endpoints check X-MBX-APIKEY, recompute HMAC-SHA256 over exactly the bytes received
//   (query string + body, up to "&signature=") and compare -> -1022; check timestamp against its
//   own clock (local wall + skew_ms): timestamp < serverTime + 1000 && serverTime - timestamp <=
//   recvWindow, else -1021;
// - /api/v3/time, /api/v3/exchangeInfo (BTCUSDT, tick 0.01, step 0.00001), POST/GET/DELETE
//   /api/v3/order, GET /api/v3/openOrders, GET /api/v3/myTrades (empty), GET /api/v3/account;
// - every answer carries X-MBX-USED-WEIGHT-1M (the weight this fake counted in the current
//   minute) and successful orders X-MBX-ORDER-COUNT-10S;
// - `script` forces the next answers (status, body, headers) for a path, e.g. 429 with
//   Retry-After, 418, 503, -1013, or "no answer, close the connection".
// Records every request with its arrival time and connection number. Test-only, one io_context.
#pragma once

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "tradingbot/core/clock.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/net/tls_context.hpp"

namespace tb::binance::test {

inline std::string url_decode(std::string_view in) {
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

inline std::map<std::string, std::string> parse_form(std::string_view s) {
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

struct FakeOrder {
  std::string symbol, client_id, side, type, tif = "GTC", price = "0.00", qty = "0.00000", executed = "0.00000";
  std::string status = "NEW";
  std::int64_t order_id = 0;
  std::int64_t time = 0;

  [[nodiscard]] std::string json() const {
    return "{\"symbol\":\"" + symbol + "\",\"orderId\":" + std::to_string(order_id) +
           ",\"orderListId\":-1,\"clientOrderId\":\"" + client_id + "\",\"price\":\"" + price + "\",\"origQty\":\"" +
           qty + "\",\"executedQty\":\"" + executed + "\",\"cummulativeQuoteQty\":\"0.00000000\",\"status\":\"" +
           status + "\",\"timeInForce\":\"" + tif + "\",\"type\":\"" + type + "\",\"side\":\"" + side +
           "\",\"time\":" + std::to_string(time) + ",\"updateTime\":" + std::to_string(time) +
           ",\"transactTime\":" + std::to_string(time) + ",\"isWorking\":true,\"workingTime\":" +
           std::to_string(time) + ",\"origQuoteOrderQty\":\"0.00000000\",\"selfTradePreventionMode\":\"NONE\"}";
  }
};

class FakeBinanceRest {
 public:
  struct Received {
    Nanos mono_at = 0;
    std::string method, target, body, path;
    std::map<std::string, std::string> params;
    int connection = 0;
    std::string outcome;  // "ok", "-1022", "-1021", "scripted 429", ...
  };
  struct Scripted {
    std::string path;  // "" = any
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    bool drop_connection = false;  // read the request, answer nothing, close the TCP connection
    bool execute_anyway = false;   // for POST /order: create the order, then answer with the scripted reply
  };

  FakeBinanceRest(boost::asio::io_context& ioc, net::TlsContextPtr tls, std::string api_key, std::string secret)
      : tls_(std::move(tls)),
        acceptor_(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0}),
        api_key_(std::move(api_key)),
        signer_(secret) {
    accept();
  }
  ~FakeBinanceRest() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }
  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  [[nodiscard]] std::int64_t server_time_ms() const { return wall_clock_ns() / kNanosPerMilli + skew_ms; }
  [[nodiscard]] std::size_t count(std::string_view path) const {
    return static_cast<std::size_t>(std::count_if(received.begin(), received.end(), [&](const Received& r) { return r.path == path; }));
  }

  std::int64_t skew_ms = 0;  // server clock - local clock
  std::chrono::milliseconds delay{0};
  std::deque<Scripted> script;
  std::vector<Received> received;
  std::map<std::string, FakeOrder> orders;  // by client id
  std::int64_t next_order_id = 1000;
  int accepts = 0;
  std::string exchange_info_body = R"({"timezone":"UTC","serverTime":1,"rateLimits":[
 {"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000},
 {"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50},
 {"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000},
 {"rateLimitType":"RAW_REQUESTS","interval":"MINUTE","intervalNum":5,"limit":300000}],
 "exchangeFilters":[],"symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC","baseAssetPrecision":8,
 "quoteAsset":"USDT","quotePrecision":8,"quoteAssetPrecision":8,"filters":[
 {"filterType":"PRICE_FILTER","minPrice":"0.01000000","maxPrice":"1000000.00000000","tickSize":"0.01000000"},
 {"filterType":"LOT_SIZE","minQty":"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"},
 {"filterType":"NOTIONAL","minNotional":"5.00000000","applyMinToMarket":true,"maxNotional":"9000000.00000000","applyMaxToMarket":false,"avgPriceMins":5}]}]})";

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body>;
  using Response = boost::beast::http::response<boost::beast::http::string_body>;

  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& ctx, FakeBinanceRest& server, int id)
        : stream_(std::move(socket), ctx), timer_(stream_.get_executor()), server_(server), id_(id) {}
    void start() {
      stream_.async_handshake(boost::asio::ssl::stream_base::server,
                              [self = shared_from_this()](const boost::system::error_code& ec) {
                                if (ec) return self->close();
                                self->read();
                              });
    }

   private:
    void read() {
      request_ = {};
      boost::beast::http::async_read(stream_, buffer_, request_,
                                     [self = shared_from_this()](const boost::system::error_code& ec, std::size_t) {
                                       if (ec) return self->close();
                                       self->on_request();
                                     });
    }
    void on_request() {
      response_ = {};
      const bool drop = server_.handle(request_, response_, id_);
      if (drop) return close();
      timer_.expires_after(server_.delay);
      timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
        if (ec) return self->close();
        boost::beast::http::async_write(self->stream_, self->response_,
                                        [self](const boost::system::error_code& wec, std::size_t) {
                                          if (wec) return self->close();
                                          self->read();
                                        });
      });
    }
    void close() {
      boost::system::error_code ec;
      boost::beast::get_lowest_layer(stream_).socket().close(ec);
    }
    boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
    boost::asio::steady_timer timer_;
    FakeBinanceRest& server_;
    int id_;
    boost::beast::flat_buffer buffer_;
    Request request_;
    Response response_;
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket) {
      if (ec) return;
      ++accepts;
      std::make_shared<Session>(std::move(socket), *tls_, *this, accepts)->start();
      accept();
    });
  }

  static std::string error_body(int code, std::string_view msg) {
    return "{\"code\":" + std::to_string(code) + ",\"msg\":\"" + std::string(msg) + "\"}";
  }

  void count_weight(int weight) {
    const std::int64_t minute = wall_clock_ns() / (60 * kNanosPerSecond);
    if (minute != weight_minute_) {
      weight_minute_ = minute;
      used_weight_ = 0;
    }
    used_weight_ += weight;
  }

  // Fills `res`; returns true when the connection must be dropped without an answer.
  bool handle(const Request& req, Response& res, int connection) {
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

    res.version(11);
    res.keep_alive(true);
    res.set(boost::beast::http::field::content_type, "application/json");
    auto reply = [&](int status, std::string body, std::string outcome) {
      res.result(static_cast<unsigned>(status));
      res.body() = std::move(body);
      res.set("X-MBX-USED-WEIGHT-1M", std::to_string(used_weight_));
      res.prepare_payload();
      rec.outcome = std::move(outcome);
    };
    count_weight(rec.path == "/api/v3/exchangeInfo" ? 20 : rec.path == "/api/v3/openOrders" ? 6 : rec.path == "/api/v3/account" ? 20 : 1);

    // Signed endpoints: key, signature over exactly the received bytes, timestamp window.
    const bool is_signed = rec.path == "/api/v3/order" || rec.path == "/api/v3/openOrders" ||
                           rec.path == "/api/v3/account" || rec.path == "/api/v3/myTrades";
    bool auth_ok = true;
    if (is_signed) {
      const std::string payload_all = query + std::string(req.body());
      const auto sig_pos = payload_all.rfind("&signature=");
      const auto key_it = req.find("X-MBX-APIKEY");
      if (key_it == req.end() || key_it->value() != api_key_) {
        reply(401, error_body(-2015, "Invalid API-key, IP, or permissions for action."), "-2015");
        auth_ok = false;
      } else if (sig_pos == std::string::npos) {
        reply(400, error_body(-1102, "Mandatory parameter 'signature' was not sent."), "-1102");
        auth_ok = false;
      } else {
        SignatureText expected;
        signer_.sign(std::string_view(payload_all).substr(0, sig_pos), expected);
        const std::string got = payload_all.substr(sig_pos + 11);
        if (got != expected.view()) {
          reply(400, error_body(-1022, "Signature for this request is not valid."), "-1022");
          auth_ok = false;
        } else {
          const std::int64_t server_ms = server_time_ms();
          const std::int64_t ts = std::stoll(rec.params["timestamp"]);
          const std::int64_t window = rec.params.count("recvWindow") ? std::stoll(rec.params["recvWindow"]) : 5000;
          if (!(ts < server_ms + 1000 && server_ms - ts <= window)) {
            reply(400, error_body(-1021, "Timestamp for this request is outside of the recvWindow."), "-1021");
            auth_ok = false;
          }
        }
      }
    }

    // Scripted answers (after authentication, like the real server's filters and limits).
    if (auth_ok && !script.empty() && (script.front().path.empty() || script.front().path == rec.path)) {
      Scripted s = std::move(script.front());
      script.pop_front();
      if (s.execute_anyway && rec.path == "/api/v3/order" && rec.method == "POST") {
        Response ignored;
        execute(rec, ignored, [](int, std::string, std::string) {});
      }
      if (s.drop_connection) {
        rec.outcome = "scripted drop";
        received.push_back(std::move(rec));
        return true;
      }
      for (auto& [k, v] : s.headers) res.set(k, v);
      reply(s.status, std::move(s.body), "scripted " + std::to_string(s.status));
      received.push_back(std::move(rec));
      return false;
    }
    if (auth_ok) execute(rec, res, reply);
    received.push_back(std::move(rec));
    return false;
  }

  template <class Reply>
  void execute(Received& rec, Response& res, Reply&& reply) {
    if (rec.path == "/api/v3/time") return reply(200, "{\"serverTime\":" + std::to_string(server_time_ms()) + "}", "ok");
    if (rec.path == "/api/v3/exchangeInfo") return reply(200, exchange_info_body, "ok");
    if (rec.path == "/api/v3/account")
      return reply(200, R"({"commissionRates":{"maker":"0.00100000","taker":"0.00100000","buyer":"0","seller":"0"},"canTrade":true,"updateTime":1,"balances":[{"asset":"USDT","free":"1000.00000000","locked":"0.00000000"}]})", "ok");
    if (rec.path == "/api/v3/myTrades") return reply(200, "[]", "ok");
    if (rec.path == "/api/v3/openOrders") {
      std::string body = "[";
      for (const auto& [id, o] : orders) {
        if (o.status != "NEW" && o.status != "PARTIALLY_FILLED") continue;
        if (body.size() > 1) body += ",";
        body += o.json();
      }
      return reply(200, body + "]", "ok");
    }
    if (rec.path == "/api/v3/order") {
      auto& p = rec.params;
      auto find = [&]() -> FakeOrder* {
        if (p.count("origClientOrderId")) {
          auto it = orders.find(p["origClientOrderId"]);
          return it == orders.end() ? nullptr : &it->second;
        }
        for (auto& [id, o] : orders)
          if (p.count("orderId") && std::to_string(o.order_id) == p["orderId"]) return &o;
        return nullptr;
      };
      if (rec.method == "POST") {
        if (orders.count(p["newClientOrderId"]) && orders[p["newClientOrderId"]].status == "NEW")
          return reply(400, error_body(-2010, "Duplicate order sent."), "-2010");
        FakeOrder o;
        o.symbol = p["symbol"];
        o.client_id = p["newClientOrderId"];
        o.side = p["side"];
        o.type = p["type"];
        o.tif = p.count("timeInForce") ? p["timeInForce"] : "GTC";
        o.price = p["price"];
        o.qty = p["quantity"];
        o.order_id = next_order_id++;
        o.time = server_time_ms();
        orders[o.client_id] = o;
        res.set("X-MBX-ORDER-COUNT-10S", std::to_string(++order_count_));
        res.set("X-MBX-ORDER-COUNT-1D", std::to_string(order_count_));
        return reply(200, o.json(), "ok");
      }
      FakeOrder* o = find();
      if (o == nullptr) return reply(400, error_body(-2013, "Order does not exist."), "-2013");
      if (rec.method == "DELETE") {
        if (o->status != "NEW" && o->status != "PARTIALLY_FILLED")
          return reply(400, error_body(-2011, "Unknown order sent."), "-2011");
        o->status = "CANCELED";
      }
      return reply(200, o->json(), "ok");
    }
    reply(404, error_body(-1000, "unknown path"), "404");
  }

  net::TlsContextPtr tls_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string api_key_;
  HmacSha256Signer signer_;
  std::int64_t weight_minute_ = 0;
  std::int64_t used_weight_ = 0;
  std::int64_t order_count_ = 0;
};

}  // namespace tb::binance::test
