// FakeBinanceRest: a small Binance-like REST server over TLS on 127.0.0.1 for the RestClient and
// gateway tests: a FakeHttpsServer whose responder answers per the reference (sections 4-7, 11):
// - signed endpoints check X-MBX-APIKEY, recompute HMAC-SHA256 over exactly the bytes received
//   (query string + body, up to "&signature=") and compare -> -1022; check timestamp against its
//   own clock (local wall + skew_ms): timestamp < serverTime + 1000 && serverTime - timestamp <=
//   recvWindow, else -1021;
// - /api/v3/time, /api/v3/exchangeInfo (BTCUSDT, tick 0.01, step 0.00001), POST/GET/DELETE
//   /api/v3/order, GET /api/v3/openOrders, GET /api/v3/account, GET /api/v3/myTrades (from
//   `trades`: oldest first, ids >= fromId or times from startTime, at most limit: default 500,
//   max 1000);
// - every answer carries X-MBX-USED-WEIGHT-1M (the weight this fake counted in the current
//   minute) and successful orders X-MBX-ORDER-COUNT-10S;
// - `script` forces the next answers (status, body, headers) for a path, e.g. 429 with
//   Retry-After, 418, 503, -1013, or "no answer, close the connection".
// Records every request with its arrival time and connection number. Test-only, one io_context.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/fake_https_server.hpp"
#include "tradingbot/core/clock.hpp"
#include "tradingbot/exchange/binance/signer.hpp"

namespace tb::binance::test {

struct FakeOrder {
  std::string symbol, client_id, side, type, tif = "GTC", price = "0.00", qty = "0.00000", executed = "0.00000";
  std::string status = "NEW";
  std::int64_t order_id = 0;
  std::int64_t time = 0;

  [[nodiscard]] bool is_open() const { return status == "NEW" || status == "PARTIALLY_FILLED"; }
  // The order as Binance's REST and WS API answer it (FULL-less order object).
  [[nodiscard]] std::string json() const;
};

// One of the account's trades, as GET /api/v3/myTrades lists it.
struct FakeTrade {
  std::string symbol = "BTCUSDT";
  std::int64_t id = 0;
  std::int64_t order_id = 0;
  std::string price = "0.00", qty = "0.00000", commission = "0", commission_asset = "BNB";
  std::int64_t time = 0;  // ms
  bool buyer = true;
  bool maker = true;

  [[nodiscard]] std::string json() const;
};

// The shared order table of FakeBinanceRest and FakeBinanceWsApi (one account).
using FakeOrderTable = std::map<std::string, FakeOrder>;  // by client order id

class FakeBinanceRest : public net::test::FakeHttpsServer {
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

  FakeBinanceRest(boost::asio::io_context& ioc, net::TlsContextPtr tls, std::string api_key, std::string secret);

  [[nodiscard]] std::int64_t server_time_ms() const { return wall_clock_ns() / kNanosPerMilli + skew_ms; }
  [[nodiscard]] std::size_t count(std::string_view path) const;
  // The open orders as a JSON array, for /api/v3/openOrders and openOrders.status.
  [[nodiscard]] std::string open_orders_json() const;
  // Shared by REST and the WS API fake. place_order creates the order the params describe
  // (newClientOrderId, symbol, side, type, timeInForce, price, quantity); nullptr when an order
  // with that client id is still NEW (Binance's -2010 "Duplicate order sent."). find_order finds
  // it by origClientOrderId or orderId; nullptr when neither names one (-2013).
  FakeOrder* place_order(const std::map<std::string, std::string>& params);
  FakeOrder* find_order(const std::map<std::string, std::string>& params);

  std::int64_t skew_ms = 0;  // server clock - local clock
  std::deque<Scripted> script;
  std::vector<Received> received;
  FakeOrderTable orders;
  std::vector<FakeTrade> trades;  // ascending ids
  std::int64_t next_order_id = 1000;
  std::string exchange_info_body;  // BTCUSDT with Binance's real filters; tests may replace it
  // Raises exchangeInfo's REQUEST_WEIGHT and ORDERS limits out of reach, for benchmarks that send
  // thousands of requests a second (Binance: 6000 weight per minute, 50 orders per 10 s).
  void lift_rate_limits();
  std::int64_t request_weight_limit = 6000;  // also what the WS API fake reports in rateLimits

 private:
  Reply handle(const Request& req, Response& res, int connection);
  void execute(Received& rec, Response& res);
  void reply(Received& rec, Response& res, int status, std::string body, std::string outcome) const;
  void count_weight(int weight);

  std::string api_key_;
  HmacSha256Signer signer_;
  std::int64_t weight_minute_ = 0;
  std::int64_t used_weight_ = 0;
  std::int64_t order_count_ = 0;
};

}  // namespace tb::binance::test
