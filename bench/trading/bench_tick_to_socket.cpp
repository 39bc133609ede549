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
// Three ways a frame reaches the trading thread, each measured (net/event_loop.hpp):
//  - running: the frame is handled the moment the thread is done with the previous event (a busy
//    market); timed from the handler's start. The headline figure, held to the targets.
//  - spinning (trading.busy_poll_us = -1, or a window longer than the quiet before the frame):
//    another thread delivers the frame after an idle gap to a trading thread in
//    net::run_event_loop's poll() loop; timed from the delivery, so the pick-up is in.
//  - sleeping (busy_poll_us = 0, the default): the same delivery to a trading thread asleep in
//    epoll_wait; the figure includes the kernel's (on a VM, the hypervisor's) wake-up, and shows
//    what spinning buys.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "fakes/fake_binance_ws_api.hpp"
#include "io_drive.hpp"
#include "kernel_send_stamp.hpp"
#include "loopback_exchange.hpp"
#include "tick_bench.hpp"
#include "net/test_support.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/order_gateway.hpp"
#include "tradingbot/net/event_loop.hpp"
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

  // Delivers frames for the woken scenarios as the network does: from another thread, after an
  // idle gap, with the moment of delivery stamped there.
  boost::asio::io_context feeder_ioc;
  auto feeder_work = boost::asio::make_work_guard(feeder_ioc);
  std::thread feeder_thread([&] { feeder_ioc.run(); });
  boost::asio::steady_timer gap_timer(feeder_ioc);
  constexpr auto kIdleGap = std::chrono::microseconds(500);

  char frame[512];
  std::uint64_t id = 101;
  std::uint64_t requests = 0;
  int unsettled = 0;
  bool stalled = false;
  bench::SendStamp& kernel = bench::kernel_send_stamp();
  bench::SendStamp& tls = bench::tls_write_stamp();
  struct Figures {
    std::vector<Nanos> to_socket;  // the scenario's start -> send() entered
    std::vector<Nanos> to_tls;     // ... -> the first SSL_write_ex: everything before the TLS layer
    std::vector<Nanos> pick_up;    // delivery -> the frame's handler starts (woken scenarios)
  };
  // Every frame moves the mid the other way from the last, so each one makes the strategy act.
  // The frame in flight; outlives every handler that refers to it (a frame that times out ends
  // the run, but its handlers may still be queued until the io_contexts stop).
  struct Delivery {
    int len = 0;
    Nanos wall = 0;
    std::chrono::steady_clock::time_point t0;             // delivery (woken) or handler start
    std::chrono::steady_clock::time_point handler_start;  // the trading thread starts on it
    bool handled = false;
  } delivery;
  const auto handle = [&] {
    delivery.handler_start = std::chrono::steady_clock::now();
    (void)pipeline.on_ws_frame(std::string_view(frame, static_cast<std::size_t>(delivery.len)), delivery.wall);
    delivery.handled = true;
  };
  boost::asio::steady_timer frame_deadline(ioc);
  // One frame through the chain; `wait` is how the trading thread waits for it (null: it is
  // running, the frame is handled at once).
  const auto one_frame = [&](bool measured, const net::WaitPolicy* wait, Figures& out) {
    delivery.len = bench::format_tick_diff(frame, sizeof frame, id, (id % 2) == 1);
    ++id;
    delivery.wall = wall_clock_ns();
    delivery.handled = false;
    const std::uint64_t sent_before = gateway->status().sent_ws;
    kernel.arm();
    tls.arm();
    if (wait == nullptr) {
      // Inside a handler of the trading thread's io_context, where the daemon decodes frames.
      if (!bench::run_inside(ioc, handle)) return false;
      delivery.t0 = delivery.handler_start;
    } else {
      // The daemon's own loop waits for the frame; the frame's handler stops it (and a deadline,
      // should the frame never come).
      boost::asio::post(feeder_ioc, [&] {
        gap_timer.expires_after(kIdleGap);
        gap_timer.async_wait([&](const boost::system::error_code&) {
          delivery.t0 = std::chrono::steady_clock::now();
          boost::asio::post(ioc, [&] {
            handle();
            ioc.stop();
          });
        });
      });
      frame_deadline.expires_after(std::chrono::seconds(5));
      frame_deadline.async_wait([&](const boost::system::error_code& ec) {
        if (!ec) ioc.stop();
      });
      (void)net::run_event_loop(ioc, *wait);
      ioc.restart();
      frame_deadline.cancel();
      if (!delivery.handled) return false;
    }
    const auto t0 = delivery.t0;
    const auto handler_start = delivery.handler_start;
    const bool sent = kernel.taken();
    const bool encrypted = tls.taken();
    if (measured) {
      requests += gateway->status().sent_ws - sent_before;
      if (sent && encrypted) {
        out.to_socket.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(kernel.at() - t0).count());
        out.to_tls.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(tls.at() - t0).count());
        out.pick_up.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(handler_start - t0).count());
      }
    }
    // Untimed: the fake's answers and reports come back and are applied before the next frame.
    if (!bench::drive_until(ioc, settled, std::chrono::seconds(2))) ++unsettled;
    // ...and every completion already due (the last write's), so the next frame's first request
    // finds the connection idle, as it is between two market events that are not back to back.
    for (int k = 0; k < 100 && ioc.poll() != 0; ++k) {
    }
    venue.poll(wall_clock_ns());
    return true;
  };

  const int warmup = 500;
  Figures running;
  running.to_socket.reserve(static_cast<std::size_t>(frames));
  running.to_tls.reserve(static_cast<std::size_t>(frames));
  running.pick_up.reserve(static_cast<std::size_t>(frames));
  for (int i = 0; i < warmup + frames && !stalled; ++i) {
    if (!one_frame(i >= warmup, nullptr, running)) stalled = true;
  }
  const std::uint64_t running_requests = requests;
  // The woken scenarios: fewer frames (each waits out the idle gap), after the same warm-up.
  const int woken_frames = std::max(1, frames / 2);
  Figures spinning;
  Figures sleeping;
  const net::WaitPolicy spin = net::WaitPolicy::spin();
  const net::WaitPolicy sleep = net::WaitPolicy::sleep();
  for (int i = 0; i < woken_frames && !stalled; ++i) {
    // Alternate, so a noisy neighbour on the host weighs on both alike.
    if (!one_frame(true, &spin, spinning) || !one_frame(true, &sleep, sleeping)) {
      stalled = true;
    }
  }
  if (stalled) std::fprintf(stderr, "the trading io_context did not run a frame\n");
  gateway->stop();
  net::test::run_for(ioc, std::chrono::milliseconds(20));
  feeder_work.reset();
  feeder_ioc.stop();
  feeder_thread.join();
  exchange_work.reset();
  exchange_ioc.stop();
  exchange_thread.join();
  if (stalled) return 1;
  if (running.to_socket.empty() || spinning.to_socket.empty() || sleeping.to_socket.empty()) {
    std::fprintf(stderr, "no request reached the socket: the strategy never acted\n");
    return 1;
  }
  const auto percentile = [](std::vector<Nanos>& v, double p) {
    std::sort(v.begin(), v.end());
    return static_cast<double>(v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))]) / 1e3;
  };
  std::printf("tick-to-socket (depth frame bytes -> decode -> book -> market maker -> risk -> oms -> live venue -> "
              "gateway -> signed WS API request -> TLS -> send() entered)\n");
  std::printf("running thread: frames %d, frames that sent a request %zu, requests sent over the WS API %llu, "
              "frames not settled in 2 s %d\n",
              frames, running.to_socket.size(), static_cast<unsigned long long>(gateway->status().sent_ws), unsettled);
  bench::print_tick_latencies(running.to_socket);
  std::printf("of which to the first SSL_write_ex: p50 %.2f us  p99 %.2f us\n", percentile(running.to_tls, 0.5),
              percentile(running.to_tls, 0.99));
  std::printf("requests per frame (a cancel and a place per side; the first is timed): %.2f\n",
              static_cast<double>(running_requests) / frames);
  for (auto* scenario : {&spinning, &sleeping}) {
    const bool spins = scenario == &spinning;
    std::printf("%s (%d frames, each delivered from another thread after %lld us idle; timed from the delivery): "
                "p50 %.2f us  p99 %.2f us; of which picking the frame up p50 %.2f us  p99 %.2f us\n",
                spins ? "trading.busy_poll_us = -1, the thread spinning in poll()"
                      : "trading.busy_poll_us = 0 (default), the thread asleep in epoll_wait",
                woken_frames, static_cast<long long>(kIdleGap.count()), percentile(scenario->to_socket, 0.5),
                percentile(scenario->to_socket, 0.99), percentile(scenario->pick_up, 0.5),
                percentile(scenario->pick_up, 0.99));
  }
  bench::print_tick_histogram(running.to_socket);
  return 0;
}
