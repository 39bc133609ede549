#include "tradingbot/app/record.hpp"

#include <csignal>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/market_streams.hpp"
#include "tradingbot/market/capture.hpp"
#include "tradingbot/net/tls_context.hpp"

namespace tb::app {
namespace asio = boost::asio;

int run_record(const config::Config& config, const std::string& out_path, Nanos duration, RecordResult* result,
               const std::function<void(binance::MarketStreamOptions&)>& adjust) {
  auto writer = market::CaptureWriter::open(out_path);
  if (!writer) {
    spdlog::error("record: {}", writer.error().message);
    return 3;
  }
  auto tls = net::make_client_tls_context(net::TlsClientOptions{config.exchange.ca_file, true});
  if (!tls) {
    spdlog::error("record: {}", tls.error().message);
    return 3;
  }
  asio::io_context ioc{1};
  binance::MarketDataPipeline pipeline(binance::MarketDataPipeline::options_from(config.market));
  auto options = binance::MarketStreamOptions::from_config(config);
  if (adjust) adjust(options);
  binance::MarketStreamManager manager(ioc, std::move(tls).value(), std::move(options), pipeline);

  RecordResult counts;
  market::CaptureWriter& out = writer.value();
  const bool multi_symbol = config.market.symbols.size() > 1;
  manager.set_frame_observer([&](const net::WsMessage& message) {
    ++counts.frames;
    if (!out.write_frame(message.received_wall_ns, message.payload)) ++counts.write_errors;
  });
  manager.set_snapshot_observer([&](const Symbol& symbol, std::string_view body, Nanos recv_wall_ns) {
    ++counts.snapshots;
    if (!out.write_snapshot(recv_wall_ns, symbol, body, multi_symbol)) ++counts.write_errors;
  });

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  asio::steady_timer stop_timer(ioc);
  asio::steady_timer flush_timer(ioc);
  bool stopping = false;
  auto stop = [&](const char* why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("record: stopping ({}), {} frames and {} snapshots written", why, counts.frames, counts.snapshots);
    signals.cancel();
    stop_timer.cancel();
    flush_timer.cancel();
    manager.stop();  // closes the connections; run() returns when their close handshakes end
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal_number) {
    if (!ec) stop(signal_number == SIGTERM ? "SIGTERM" : "SIGINT");
  });
  if (duration > 0) {
    stop_timer.expires_after(std::chrono::nanoseconds(duration));
    stop_timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) stop("duration reached");
    });
  }
  // A crash or kill -9 loses at most about a second of data.
  std::function<void()> arm_flush = [&] {
    flush_timer.expires_after(std::chrono::seconds(1));
    flush_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      if (!out.flush()) ++counts.write_errors;
      arm_flush();
    });
  };
  arm_flush();

  spdlog::info("record: {} symbols x {} streams from {} into {}", config.market.symbols.size(),
               config.market.streams.size(), config.exchange.ws.url, out_path);
  manager.start();
  ioc.run();
  const bool closed = out.close();
  if (!closed) ++counts.write_errors;
  if (result != nullptr) *result = counts;
  if (counts.write_errors > 0) {
    spdlog::error("record: {} write errors on {}", counts.write_errors, out_path);
    return 3;
  }
  return 0;
}

}  // namespace tb::app
