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
// Test-only, one io_context; reads requests with simdjson's DOM.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fakes/fake_binance_rest.hpp"
#include "fakes/fake_ws_server.hpp"

namespace simdjson::dom {
class parser;
}

namespace tb::binance::test {

class FakeBinanceWsApi {
 public:
  FakeBinanceWsApi(boost::asio::io_context& ioc, net::TlsContextPtr tls, FakeBinanceRest& rest, std::string api_key,
                   std::string secret);
  ~FakeBinanceWsApi();
  FakeBinanceWsApi(const FakeBinanceWsApi&) = delete;
  FakeBinanceWsApi& operator=(const FakeBinanceWsApi&) = delete;

  [[nodiscard]] std::uint16_t port() const { return server_.port(); }
  net::test::FakeWsServer& server() { return server_; }

  // Fills `qty` of the order at `price` and pushes the TRADE report to subscribed sessions.
  void fill(const std::string& client_id, const std::string& qty, const std::string& price, std::int64_t trade_id,
            bool complete);

  bool drop_on_next_place = false;
  int subscriptions = 0;
  int signature_failures = 0;
  std::vector<std::string> methods;

 private:
  using Session = net::test::FakeWsServer::Session;
  void on_text(Session& session, const std::string& text);
  void push_report(const FakeOrder& o, const std::string& exec, const std::string& last_qty,
                   const std::string& last_price, std::int64_t trade_id);

  net::test::FakeWsServer server_;
  FakeBinanceRest& rest_;
  std::string api_key_;
  HmacSha256Signer signer_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::vector<std::pair<std::shared_ptr<Session>, int>> subscribed_;
};

}  // namespace tb::binance::test
