// Build + sign an order request: the step between a strategy decision and the socket write.
// Targets: HMAC < 1 us, Ed25519 < 60 us per request. Each benchmark's label shows its target,
// and the allocs/op counter shows whether a warm builder allocates (it should not).
#include <benchmark/benchmark.h>

#include "allocation_counter.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "tradingbot/exchange/binance/rest_request.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/exchange/binance/ws_api_request.hpp"


using namespace tb::binance;

namespace {
constexpr std::string_view kApiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
constexpr std::string_view kEdPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIOw0AAmGHY4nqwv+mh8OzRRc91uddDjdXsiggbp2vDH0\n"
    "-----END PRIVATE KEY-----\n";

NewOrder sample_order() {
  NewOrder o;
  o.symbol = *tb::Symbol::parse("BTCUSDT");
  o.side = tb::Side::Buy;
  o.type = OrderType::Limit;
  o.time_in_force = TimeInForce::Gtc;
  o.quantity = *tb::Qty::parse("0.00123");
  o.price = *tb::Price::parse("61837.63");
  (void)o.client_order_id.assign("tb-1700000000000-000042");
  o.price_digits = 2;
  o.qty_digits = 5;
  return o;
}

template <class Build>
void run(benchmark::State& state, const char* target, Build build) {
  build(0);  // warm the buffers
  const std::uint64_t before = tb::bench::allocation_count();
  std::int64_t ts = 1'700'000'000'000;
  for (auto _ : state) build(++ts);
  state.counters["allocs/op"] =
      benchmark::Counter(static_cast<double>(tb::bench::allocation_count() - before), benchmark::Counter::kAvgIterations);
  state.SetLabel(target);
}

void BM_RestOrder_Hmac(benchmark::State& state) {
  RequestSigner signer{HmacSha256Signer(kSecret)};
  RestRequestBuilder b;
  const NewOrder order = sample_order();
  run(state, "target < 1 us", [&](std::int64_t ts) {
    b.reset();
    (void)add_new_order_params(b, order);
    (void)b.sign(signer, {ts, 5000});
    benchmark::DoNotOptimize(b.query().data());
  });
}
BENCHMARK(BM_RestOrder_Hmac);

void BM_WsApiOrder_Hmac(benchmark::State& state) {
  RequestSigner signer{HmacSha256Signer(kSecret)};
  WsApiRequestBuilder b;
  const NewOrder order = sample_order();
  run(state, "target < 1 us", [&](std::int64_t ts) {
    (void)build_order_place(b, "tb-1700000000000-000042", order, signer, kApiKey, {ts, 5000});
    benchmark::DoNotOptimize(b.json().data());
  });
}
BENCHMARK(BM_WsApiOrder_Hmac);

void BM_RestOrder_Ed25519(benchmark::State& state) {
  RequestSigner signer{Ed25519Signer::from_pem(kEdPem).value()};
  RestRequestBuilder b;
  const NewOrder order = sample_order();
  run(state, "target < 60 us", [&](std::int64_t ts) {
    b.reset();
    (void)add_new_order_params(b, order);
    (void)b.sign(signer, {ts, 5000});
    benchmark::DoNotOptimize(b.query().data());
  });
}
BENCHMARK(BM_RestOrder_Ed25519)->Unit(benchmark::kMicrosecond);

void BM_WsApiOrder_Ed25519(benchmark::State& state) {
  RequestSigner signer{Ed25519Signer::from_pem(kEdPem).value()};
  WsApiRequestBuilder b;
  const NewOrder order = sample_order();
  run(state, "target < 60 us", [&](std::int64_t ts) {
    (void)build_order_place(b, "tb-1700000000000-000042", order, signer, kApiKey, {ts, 5000});
    benchmark::DoNotOptimize(b.json().data());
  });
}
BENCHMARK(BM_WsApiOrder_Ed25519)->Unit(benchmark::kMicrosecond);

void BM_HmacSignOnly(benchmark::State& state) {
  HmacSha256Signer signer(kSecret);
  const std::string_view payload =
      "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00123&price=61837.63&newClientOrderId=tb-"
      "1700000000000-000042&recvWindow=5000&timestamp=1700000000000";
  SignatureText sig;
  run(state, "signature only", [&](std::int64_t) {
    signer.sign(payload, sig);
    benchmark::DoNotOptimize(sig.chars.data());
  });
}
BENCHMARK(BM_HmacSignOnly);

}  // namespace

BENCHMARK_MAIN();
