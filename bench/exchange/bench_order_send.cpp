// Order send path overhead: from an order the OrderManager accepted (the decision) to the
// bytes handed to the socket: OrderGateway::send -> exchangeInfo digits -> order.place JSON +
// HMAC signature -> in-flight slot -> WebSocketClient send queue -> Beast's masked frame -> TLS
// record encrypted -> send() entered (net::TlsSocket's BIO; sendmsg(), which Asio's own sockets
// use, is watched too). Runs the real gateway connected over TLS on 127.0.0.1 to the WS API fake
// of the tests; the fake's processing and the ack happen between samples, outside the timed
// region. Three figures per send, found by interposing SSL_write_ex, send and sendmsg in this
// binary (bench/support/kernel_send_stamp): to SSL_write_ex entered (our order code: digits,
// JSON, signature, queue, Beast's frame: "to_tls"); to send() entered (the bytes handed to the kernel: the target, p99 < 5 us); and to
// OrderGateway::send() returning, which adds the kernel's own loopback TCP work, the receiving
// side included (none of it ours). Reported as p50/p99/max counters (ns) and allocations per send
// after warm-up: every heap allocation of the process is counted (bench/support), those made
// inside OpenSSL's SSL_write_ex separately (openssl_allocs_per_send: OpenSSL 3.0's record layer
// allocates per record), allocs_per_send is the rest of the path. The send runs inside an
// io_context handler, as in the daemon.
#include <benchmark/benchmark.h>

#include "allocation_counter.hpp"
#include "io_drive.hpp"
#include "kernel_send_stamp.hpp"
#include "loopback_exchange.hpp"

#include <algorithm>
#include <vector>

#include "fakes/fake_binance_ws_api.hpp"
#include "net/test_support.hpp"
#include "oms/oms_fixture.hpp"
#include "tradingbot/exchange/binance/order_gateway.hpp"

using namespace tb;
using namespace tb::binance;

namespace {

struct Quiet : GatewayListener {
  void on_gateway_event(const GatewayEvent&) override {}
  void on_gateway_state(GatewayState) override {}
};

void BM_OrderSendPath(benchmark::State& state) {
  boost::asio::io_context ioc;
  tb::binance::test::FakeBinanceRest rest_fake{ioc, net::test::server_tls(net::test::pki().localhost), "k", "s"};
  tb::binance::test::FakeBinanceWsApi ws_fake{ioc, net::test::server_tls(net::test::pki().localhost), rest_fake, "k", "s"};
  RequestSigner signer{HmacSha256Signer("s")};
  rest_fake.lift_rate_limits();  // thousands of requests a second
  risk::RiskParams params = tb::test::loose_params();
  risk::RiskGate gate{params};
  oms::PositionBook book{tb::test::sym("USDT"), tb::test::money("100000000")};
  oms::OmsConfig oc = tb::test::test_config();
  oc.max_orders = 65536;
  oms::OrderManager om{oc, gate, book};
  (void)gate.set_symbol_rules(tb::test::btc_rules());
  (void)book.add_symbol(tb::test::sym("BTCUSDT"), tb::test::sym("BTC"), tb::test::sym("USDT"));
  (void)om.add_symbol(tb::test::sym("BTCUSDT"));
  const auto ro = bench::loopback_rest_options(rest_fake.port());
  auto rest = RestClient::create(ioc, net::test::client_tls(), ro, &signer, "k");
  const auto wo = bench::loopback_ws_api_options(ws_fake.port());
  OrderGatewayOptions go;
  go.symbols = {tb::test::sym("BTCUSDT")};
  Quiet quiet;
  auto gw = OrderGateway::create(ioc, net::test::client_tls(), rest, wo, signer, "k", om, quiet, go);
  gw->start();
  if (!net::test::run_until(ioc, [&] { return gw->armed(); }, std::chrono::seconds(10))) {
    state.SkipWithError("gateway did not arm");
    return;
  }
  std::vector<double> samples;       // to send() entered
  std::vector<double> to_tls;        // to SSL_write_ex() entered
  std::vector<double> with_kernel;   // to send() returned
  const auto iterations = static_cast<std::size_t>(state.max_iterations);
  samples.reserve(iterations);
  to_tls.reserve(iterations);
  with_kernel.reserve(iterations);
  // Allocations are counted after warm-up: each of the send queue's 64 slots grows its buffer on
  // first use (and once more for a longer frame), Beast's write buffers likewise.
  constexpr std::size_t kWarmupSends = 256;
  std::uint64_t allocs = 0;
  std::uint64_t warmup_allocs = 0;
  std::uint64_t openssl_allocs = 0;  // inside SSL_write_ex: OpenSSL 3.0's record layer, per record
  std::int64_t trade_id = 0;
  for (auto _ : state) {
    const Nanos now = wall_clock_ns();
    gate.on_user_stream(now);
    om.on_mid(tb::test::sym("BTCUSDT"), tb::test::px("50000"), now);
    OrderIntent in;
    in.symbol = tb::test::sym("BTCUSDT");
    in.price = tb::test::px("50000.00");
    in.qty = tb::test::qty("0.001");
    const oms::SubmitResult r = om.submit(in, now);
    if (!r.accepted()) {
      state.SkipWithError("order not accepted");
      break;
    }
    const oms::ClientOrderId id = r.order->client_id;
    bench::SendStamp& tls_write = bench::tls_write_stamp();
    bench::SendStamp& kernel = bench::kernel_send_stamp();
    std::chrono::steady_clock::time_point t0;
    std::chrono::steady_clock::time_point t1;
    bool sent = false;
    std::uint64_t path_allocs = 0;
    std::uint64_t tls_allocs = 0;
    // Inside a handler, as the daemon sends (from the market-data handler that decided).
    const bool ran = bench::run_inside(ioc, [&] {
      const std::uint64_t a0 = tb::bench::allocation_count();
      const std::uint64_t tls0 = tb::bench::tls_library_allocations();
      tls_write.arm();
      kernel.arm();
      t0 = std::chrono::steady_clock::now();
      sent = gw->send(*r.order);
      t1 = std::chrono::steady_clock::now();
      tls_allocs = tb::bench::tls_library_allocations() - tls0;
      path_allocs = tb::bench::allocation_count() - a0 - tls_allocs;
    });
    if (!ran) {
      state.SkipWithError("the io_context did not run the send");
      break;
    }
    (samples.size() < kWarmupSends ? warmup_allocs : allocs) += path_allocs;
    if (samples.size() >= kWarmupSends) openssl_allocs += tls_allocs;
    const bool reached_kernel = kernel.taken();
    const bool reached_tls = tls_write.taken();
    if (!reached_kernel || !reached_tls) {  // no write reached the kernel inside send(): not the path under test
      state.SkipWithError("send() did not start the socket write");
      break;
    }
    const auto ns = [](auto d) { return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()); };
    state.SetIterationTime(ns(kernel.at() - t0) * 1e-9);
    samples.push_back(ns(kernel.at() - t0));
    to_tls.push_back(ns(tls_write.at() - t0));
    with_kernel.push_back(ns(t1 - t0));
    if (!sent || !bench::drive_until(ioc, [&] { return om.find(id)->status == oms::OrderStatus::New; })) {
      state.SkipWithError("no ack");
      break;
    }
    // Fill it (untimed) so open orders stay under the per-symbol limit.
    ws_fake.fill(std::string(id.view()), "0.00100", "50000.00", ++trade_id, true);
    if (!bench::drive_until(ioc, [&] { return om.find(id)->status == oms::OrderStatus::Filled; })) {
      state.SkipWithError("no fill");
      break;
    }
  }
  gw->stop();
  if (samples.empty()) return;
  std::sort(samples.begin(), samples.end());
  std::sort(to_tls.begin(), to_tls.end());
  std::sort(with_kernel.begin(), with_kernel.end());
  auto pct = [](const std::vector<double>& v, double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
  };
  state.counters["p50_ns"] = pct(samples, 0.50);
  state.counters["p99_ns"] = pct(samples, 0.99);
  state.counters["max_ns"] = samples.back();
  state.counters["to_tls_p50_ns"] = pct(to_tls, 0.50);
  state.counters["to_tls_p99_ns"] = pct(to_tls, 0.99);
  state.counters["with_kernel_p50_ns"] = pct(with_kernel, 0.50);
  state.counters["with_kernel_p99_ns"] = pct(with_kernel, 0.99);
  state.counters["allocs_per_send"] =
      samples.size() > kWarmupSends ? static_cast<double>(allocs) / static_cast<double>(samples.size() - kWarmupSends) : 0.0;
  state.counters["openssl_allocs_per_send"] =
      samples.size() > kWarmupSends ? static_cast<double>(openssl_allocs) / static_cast<double>(samples.size() - kWarmupSends) : 0.0;
  state.counters["warmup_allocs"] = static_cast<double>(warmup_allocs);
  state.counters["sent_ws"] = static_cast<double>(gw->status().sent_ws);
  state.SetLabel("to send(): target p99 < 5000 ns");
}
BENCHMARK(BM_OrderSendPath)->UseManualTime()->Iterations(5000)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
