// Tick-to-order to the socket, the full definition: a depth-diff frame's bytes ->
// StreamDecoder -> depth sync -> L2 book -> MarketMaker -> RiskGate -> OrderManager -> LiveVenue ->
// OrderGateway -> signed WS API request -> WebSocket frame -> TLS record -> send() entered. The
// gateway is connected over TLS on 127.0.0.1 to the WS API fake of the tests; the stamp is the
// first request of the frame to reach the kernel (bench/support/kernel_send_stamp). Each frame
// moves the mid by 100 USDT, so the market maker replaces both quotes: the first request is the
// cancel of the stale quote (an order request like any other: it leaves the same way).
// Between frames (untimed) the fake answers and its execution reports are applied, so the order
// pool and open-order limits stay in steady state. bench_tick_to_order measures the same chain
// up to the signed bytes, without the network layers.
// Prints p50/p90/p99/p99.9/max, the part before the TLS layer and a histogram; the targets are
// p50 < 5 us and p99 < 20 us (the Python bot: 860 us end to end). Allocations are counted by
// bench_tick_to_order (the chain to the signed bytes) and bench_exchange_order_send (the send
// path): the process-wide counter here would also count the exchange thread's.
// The fakes run on their own thread (the exchange is elsewhere in production); the trading
// thread between two frames handles the answers and execution reports of the previous one, so
// each frame starts with the order path as cold as it is live.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>

#include "fakes/fake_binance_ws_api.hpp"
#include "io_drive.hpp"
#include "kernel_send_stamp.hpp"
#include "loopback_exchange.hpp"
#include "tick_bench.hpp"
#include "net/test_support.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/order_gateway.hpp"
#include "tradingbot/strategy/market_maker.hpp"
#include "tradingbot/trading/trading_loop.hpp"
#include "tradingbot/venue/live_venue.hpp"

using namespace tb;


int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::atoi(argv[1]) : 5'000;
  const Symbol btc = *Symbol::parse("BTCUSDT");
  const std::string key = "k";
  const std::string secret = "s";

  // The exchange fakes run on their own thread, as the exchange is elsewhere in production: their
  // JSON work between frames would otherwise evict the trading thread's working set.
  boost::asio::io_context exchange_ioc;
  binance::test::FakeBinanceRest rest_fake{exchange_ioc, net::test::server_tls(net::test::pki().localhost), key,
                                           secret};
  binance::test::FakeBinanceWsApi ws_fake{exchange_ioc, net::test::server_tls(net::test::pki().localhost), rest_fake,
                                          key, secret};
  rest_fake.lift_rate_limits();  // thousands of requests a second
  auto exchange_work = boost::asio::make_work_guard(exchange_ioc);
  std::thread exchange_thread([&] { exchange_ioc.run(); });

  boost::asio::io_context ioc;  // the trading thread's: market data, strategy, gateway

  const trading::TradingSetup setup = bench::tick_bench_setup(btc);
  const strategy::MarketMakerParams mm = bench::tick_bench_market_maker();

  venue::LiveVenue venue;
  trading::TradingLoop loop(setup, venue, nullptr, std::make_unique<strategy::MarketMaker>(mm, std::vector<Symbol>{btc}));
  binance::RequestSigner signer{binance::HmacSha256Signer(secret)};
  const auto ro = bench::loopback_rest_options(rest_fake.port());
  auto rest = binance::RestClient::create(ioc, net::test::client_tls(), ro, &signer, key);
  const auto wo = bench::loopback_ws_api_options(ws_fake.port());
  binance::OrderGatewayOptions go;
  go.symbols = {btc};
  auto gateway = binance::OrderGateway::create(ioc, net::test::client_tls(), rest, wo, signer, key,
                                               loop.order_manager(), venue, go);
  venue.attach(gateway);
  gateway->start();
  if (!bench::drive_until(ioc, [&] { return gateway->armed(); }, std::chrono::seconds(10))) {
    std::fprintf(stderr, "the gateway did not arm against the fake\n");
    exchange_ioc.stop();
    exchange_thread.join();
    return 1;
  }

  binance::MarketDataPipeline::Options options;
  options.symbols = {btc};
  binance::MarketDataPipeline pipeline(options);
  pipeline.set_sink(&loop);
  (void)pipeline.on_rest_depth_snapshot(btc, bench::kTickSnapshot, wall_clock_ns());

  const auto settled = [&] {
    const oms::OrderManager& om = loop.order_manager();
    return gateway->status().ws_api.in_flight == 0 && om.live_orders() <= 2;
  };
  std::vector<Nanos> latencies;
  latencies.reserve(static_cast<std::size_t>(frames));
  char frame[512];
  std::uint64_t id = 101;
  const int warmup = 500;
  std::uint64_t requests = 0;
  int unsettled = 0;
  bench::SendStamp& kernel = bench::kernel_send_stamp();
  bench::SendStamp& tls = bench::tls_write_stamp();
  std::vector<Nanos> to_tls;  // to the first SSL_write_ex: everything before the TLS layer
  to_tls.reserve(static_cast<std::size_t>(frames));
  bool stalled = false;
  for (int i = 0; i < warmup + frames; ++i) {
    const int len = bench::format_tick_diff(frame, sizeof frame, id++, (i % 2) == 1);
    const Nanos now = wall_clock_ns();
    std::chrono::steady_clock::time_point t0;
    const std::uint64_t sent_before = gateway->status().sent_ws;
    // Inside a handler of the trading thread's io_context, where the daemon decodes frames.
    if (!bench::run_inside(ioc, [&] {
          kernel.arm();
          tls.arm();
          t0 = std::chrono::steady_clock::now();
          (void)pipeline.on_ws_frame(std::string_view(frame, static_cast<std::size_t>(len)), now);
        })) {
      std::fprintf(stderr, "the trading io_context did not run the frame\n");
      stalled = true;
      break;
    }
    const bool sent = kernel.taken();
    if (i >= warmup) {
      requests += gateway->status().sent_ws - sent_before;
    }
    const bool encrypted = tls.taken();
    if (i >= warmup && sent && encrypted) {
      latencies.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(kernel.at() - t0).count());
      to_tls.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(tls.at() - t0).count());
    }
    // Untimed: the fake's answers and reports come back and are applied before the next frame.
    if (!bench::drive_until(ioc, settled, std::chrono::seconds(2))) ++unsettled;
    // ...and every completion already due (the last write's), so the next frame's first request
    // finds the connection idle, as it is between two market events that are not back to back.
    for (int k = 0; k < 100 && ioc.poll() != 0; ++k) {
    }
    venue.poll(wall_clock_ns());
  }
  gateway->stop();
  net::test::run_for(ioc, std::chrono::milliseconds(20));
  exchange_work.reset();
  exchange_ioc.stop();
  exchange_thread.join();
  if (stalled) return 1;
  if (latencies.empty()) {
    std::fprintf(stderr, "no request reached the socket: the strategy never acted\n");
    return 1;
  }
  std::sort(to_tls.begin(), to_tls.end());
  std::printf("tick-to-socket (depth frame bytes -> decode -> book -> market maker -> risk -> oms -> live venue -> "
              "gateway -> signed WS API request -> TLS -> send() entered)\n");
  std::printf("frames %d, frames that sent a request %zu, requests sent over the WS API %llu, frames not settled in 2 s %d\n",
              frames, latencies.size(), static_cast<unsigned long long>(gateway->status().sent_ws), unsettled);
  bench::print_tick_latencies(latencies);
  std::printf("of which to the first SSL_write_ex: p50 %.2f us  p99 %.2f us\n",
              static_cast<double>(to_tls[to_tls.size() / 2]) / 1e3,
              static_cast<double>(to_tls[std::min(to_tls.size() - 1, to_tls.size() * 99 / 100)]) / 1e3);
  std::printf("requests per frame (a cancel and a place per side; the first is timed): %.2f\n",
              static_cast<double>(requests) / frames);
  bench::print_tick_histogram(latencies);
  return 0;
}
