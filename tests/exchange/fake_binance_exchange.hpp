// FakeBinanceExchange: the exchange side of the live market-data tests. It publishes lines of the
// real BTCUSDT capture over FakeWsServer (combined streams, TLS) and answers REST over
// FakeHttpsServer: /api/v3/depth with the CURRENT exchange book (a reference pipeline that sees
// every published diff, including those the client is made to miss) and
// /api/v3/ticker/bookTicker with a fixed quote. Test-only; everything on one io_context.
#pragma once

#include <string>
#include <vector>

#include "net/fake_https_server.hpp"
#include "net/fake_ws_server.hpp"
#include "net/test_support.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/market/capture.hpp"

namespace tb::binance::test {

using tb::net::test::FakeHttpsServer;
using tb::net::test::FakeWsServer;
using tb::net::test::pki;
using tb::net::test::server_tls;

inline const char* const kCapture = "../shared/data/binance/btcusdt_spot_20240808.capture.gz";
inline const Symbol kBtc = *Symbol::parse("BTCUSDT");



inline std::vector<std::string> load_capture_lines(std::size_t max_lines) {
  std::vector<std::string> lines;
  auto reader = market::CaptureReader::open(kCapture);
  if (!reader) return lines;
  market::CaptureRecord record;
  while (lines.size() < max_lines && reader.value().next(record) == market::CaptureReader::Status::Record) {
    lines.emplace_back(record.payload);
  }
  return lines;
}

inline std::string levels_json(const book::L2Book& book, book::BookSide side) {
  std::vector<book::BookLevel> levels(5000);
  levels.resize(book.top(side, levels));
  std::string out = "[";
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out += ',';
    out += "[\"" + levels[i].price.to_string(8) + "\",\"" + levels[i].qty.to_string(8) + "\"]";
  }
  return out + "]";
}

// The exchange side: publishes capture lines over the fake WebSocket server and answers REST.
struct FakeExchange {
  boost::asio::io_context& ioc;
  FakeWsServer ws;
  FakeHttpsServer rest;
  std::vector<std::string> lines;
  std::size_t position = 0;
  MarketDataPipeline reference{[] {
    MarketDataPipeline::Options o;
    o.symbols = {kBtc};
    return o;
  }()};
  int depth_requests = 0;
  int ticker_requests = 0;

  explicit FakeExchange(boost::asio::io_context& io, const net::IssuedCertificate& cert = pki().localhost)
      : ioc(io), ws(io, server_tls(cert)), rest(io, server_tls(pki().localhost)), lines(load_capture_lines(4000)) {
    rest.responder = [this](const auto& request, auto& response) {
      const std::string_view target = request.target();
      if (target.starts_with("/api/v3/depth?symbol=BTCUSDT&limit=")) {
        ++depth_requests;
        response.body() = snapshot();
      } else if (target.starts_with("/api/v3/ticker/bookTicker?symbol=BTCUSDT")) {
        ++ticker_requests;
        response.body() =
            R"({"symbol":"BTCUSDT","bidPrice":"61000.01000000","bidQty":"1.50000000","askPrice":"61000.02000000","askQty":"2.25000000"})";
      } else {
        response.result(boost::beast::http::status::bad_request);
        response.body() = R"({"code":-1100,"msg":"unexpected request"})";
      }
    };
  }

  // The current exchange book as a REST depth answer (the capture's own snapshot until the
  // reference has synced from it).
  std::string snapshot() {
    const auto* sync = reference.synchronizer(kBtc);
    if (sync == nullptr || !sync->stats().synced) {
      for (const auto& line : lines) {
        if (line.starts_with("{\"lastUpdateId\"")) return line;
      }
    }
    const book::L2Book& book = *reference.book(kBtc);
    return "{\"lastUpdateId\":" + std::to_string(book.update_id()) + ",\"bids\":" + levels_json(book, book::BookSide::Bid) +
           ",\"asks\":" + levels_json(book, book::BookSide::Ask) + "}";
  }

  // Publishes the next `count` lines; `skip_depth_diffs` of the depth diffs among them are
  // applied by the exchange but never reach the client (a lost diff).
  void publish(std::size_t count, int skip_depth_diffs = 0) {
    for (std::size_t n = 0; n < count && position < lines.size(); ++n, ++position) {
      const std::string& line = lines[position];
      if (line.starts_with("{\"lastUpdateId\"")) {
        (void)reference.on_rest_depth_snapshot(kBtc, line, 0);
        continue;
      }
      (void)reference.on_ws_frame(line, 0);
      if (skip_depth_diffs > 0 && line.find("@depth@100ms") != std::string::npos) {
        --skip_depth_diffs;
        continue;
      }
      ws.broadcast(line);
    }
  }

  [[nodiscard]] std::uint64_t exchange_update_id() const { return reference.book(kBtc)->update_id(); }
};

}  // namespace tb::binance::test
