// FakeExchange: the exchange side of the live market-data tests. It publishes lines of the real
// BTCUSDT capture over FakeWsServer (combined streams, TLS) and answers REST over
// FakeHttpsServer: /api/v3/depth with the CURRENT exchange book (a reference pipeline that sees
// every published diff, including those the client is made to miss) and
// /api/v3/ticker/bookTicker with a fixed quote. Test-only; everything on one io_context.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fakes/fake_https_server.hpp"
#include "fakes/fake_ws_server.hpp"
#include "net/test_support.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"

namespace tb::binance::test {

using tb::net::test::FakeHttpsServer;
using tb::net::test::FakeWsServer;
using tb::net::test::pki;
using tb::net::test::server_tls;

inline const char* const kCapture = "../shared/data/binance/btcusdt_spot_20240808.capture.gz";
inline const Symbol kBtc = *Symbol::parse("BTCUSDT");

struct FakeExchange {
  explicit FakeExchange(boost::asio::io_context& io, const net::IssuedCertificate& cert = pki().localhost);

  // The current exchange book as a REST depth answer (the capture's own snapshot until the
  // reference has synced from it).
  std::string snapshot();
  // Publishes the next `count` lines; `skip_depth_diffs` of the depth diffs among them are
  // applied by the exchange but never reach the client (a lost diff).
  void publish(std::size_t count, int skip_depth_diffs = 0);
  [[nodiscard]] std::uint64_t exchange_update_id() const { return reference.book(kBtc)->update_id(); }

  boost::asio::io_context& ioc;
  FakeWsServer ws;
  FakeHttpsServer rest;
  std::vector<std::string> lines;  // the first 4000 lines of kCapture (none when it is absent)
  std::size_t position = 0;
  MarketDataPipeline reference;
  int depth_requests = 0;
  int ticker_requests = 0;
};

}  // namespace tb::binance::test
