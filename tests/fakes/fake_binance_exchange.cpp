#include "fakes/fake_binance_exchange.hpp"

#include <boost/beast/http/status.hpp>

#include "tradingbot/market/capture.hpp"

namespace tb::binance::test {

namespace {

std::vector<std::string> load_capture_lines(std::size_t max_lines) {
  std::vector<std::string> lines;
  auto reader = market::CaptureReader::open(kCapture);
  if (!reader) return lines;
  market::CaptureRecord record;
  while (lines.size() < max_lines && reader.value().next(record) == market::CaptureReader::Status::Record) {
    lines.emplace_back(record.payload);
  }
  return lines;
}

std::string levels_json(const book::L2Book& book, book::BookSide side) {
  std::vector<book::BookLevel> levels(5000);
  levels.resize(book.top(side, levels));
  std::string out = "[";
  for (std::size_t i = 0; i < levels.size(); ++i) {
    if (i > 0) out += ',';
    out += "[\"" + levels[i].price.to_string(8) + "\",\"" + levels[i].qty.to_string(8) + "\"]";
  }
  return out + "]";
}

MarketDataPipeline::Options btc_only() {
  MarketDataPipeline::Options o;
  o.symbols = {kBtc};
  return o;
}

bool is_rest_snapshot(const std::string& line) { return line.starts_with("{\"lastUpdateId\""); }

}  // namespace

FakeExchange::FakeExchange(boost::asio::io_context& io, const net::IssuedCertificate& cert)
    : ioc(io),
      ws(io, server_tls(cert)),
      rest(io, server_tls(pki().localhost)),
      lines(load_capture_lines(4000)),
      reference(btc_only()) {
  rest.responder = [this](const FakeHttpsServer::Request& request, FakeHttpsServer::Response& response, int) {
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
    return FakeHttpsServer::Reply::Send;
  };
}

std::string FakeExchange::snapshot() {
  const auto* sync = reference.synchronizer(kBtc);
  if (sync == nullptr || !sync->stats().synced) {
    for (const auto& line : lines) {
      if (is_rest_snapshot(line)) return line;
    }
  }
  const book::L2Book& book = *reference.book(kBtc);
  return "{\"lastUpdateId\":" + std::to_string(book.update_id()) +
         ",\"bids\":" + levels_json(book, book::BookSide::Bid) + ",\"asks\":" + levels_json(book, book::BookSide::Ask) +
         "}";
}

void FakeExchange::publish(std::size_t count, int skip_depth_diffs) {
  for (std::size_t n = 0; n < count && position < lines.size(); ++n, ++position) {
    const std::string& line = lines[position];
    if (is_rest_snapshot(line)) {
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

}  // namespace tb::binance::test
