// Tick-to-order, in process: a depth-diff frame's bytes -> StreamDecoder -> depth sync -> L2 book
// -> MarketMaker -> RiskGate -> OrderManager -> a venue that builds and HMAC-signs the WS API
// order.place frame (WsApiRequestBuilder) the way the live venue hands it to the socket.
// Each frame moves the mid by 100 USDT so the market maker replaces both quotes; the latency is
// measured from just before the frame enters the pipeline to the first signed order frame.
// The venue acknowledges places and cancels right after (outside the measured span), as the
// exchange would, so the order pool and open-order limits stay in steady state.
// Prints a histogram, p50/p90/p99/p99.9/max and allocations per frame once warm; the Python bot's
// figure was 860 us end to end (its tick-to-trade), the targets p50 < 5 us, p99 < 20 us.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "tick_bench.hpp"
#include "tradingbot/exchange/binance/market_pipeline.hpp"
#include "tradingbot/exchange/binance/signer.hpp"
#include "tradingbot/exchange/binance/ws_api_request.hpp"
#include "tradingbot/strategy/market_maker.hpp"
#include "tradingbot/trading/trading_loop.hpp"

using namespace tb;

namespace {
constexpr std::string_view kApiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
constexpr std::string_view kSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";

// Signs every order as the live venue would, and plays the exchange's acks back on poll().
class SigningVenue final : public venue::Venue {
 public:
  SigningVenue() : signer_(binance::HmacSha256Signer(kSecret)) { pending_.reserve(64); }
  std::string_view name() const noexcept override { return "signing"; }
  void set_listener(venue::VenueListener* l) noexcept override { listener_ = l; }
  void place(const oms::Order& o, Nanos now) noexcept override {
    binance::NewOrder n;
    n.symbol = o.symbol;
    n.side = o.side;
    n.type = o.type == OrderType::Market ? binance::OrderType::Market : binance::OrderType::Limit;
    n.time_in_force = o.type == OrderType::Market ? binance::TimeInForce::None : binance::TimeInForce::Gtc;
    n.quantity = o.qty;
    n.price = o.price;
    (void)n.client_order_id.assign(o.client_id.view());
    n.price_digits = 2;
    n.qty_digits = 5;
    (void)binance::build_order_place(builder_, o.client_id.view(), n, signer_, kApiKey, {now / kNanosPerMilli, 5000});
    bytes_ += builder_.json().size();
    if (first_signed_ == 0) first_signed_ = monotonic_ns();
    oms::ExecutionReport r;
    r.symbol = o.symbol;
    r.client_order_id = o.client_id;
    r.order_id = next_id_++;
    r.side = o.side;
    r.type = o.type;
    r.price = o.price;
    r.qty = o.qty;
    r.exec_type = oms::ExecType::New;
    r.status = oms::OrderStatus::New;
    pending_.push_back(r);
  }
  void cancel(const Symbol& symbol, const oms::ClientOrderId& id, Nanos) noexcept override {
    oms::ExecutionReport r;
    r.symbol = symbol;
    r.client_order_id = id;
    r.orig_client_order_id = id;
    r.exec_type = oms::ExecType::Canceled;
    r.status = oms::OrderStatus::Canceled;
    pending_.push_back(r);
  }
  void cancel_all(const Symbol&, Nanos) noexcept override {}
  void poll(Nanos now) noexcept override {
    if (listener_ == nullptr) return;
    listener_->on_user_stream_alive(now);
    for (std::size_t i = 0; i < pending_.size(); ++i) {
      const oms::ExecutionReport r = pending_[i];
      listener_->on_execution_report(r, now);
    }
    pending_.clear();
  }
  Nanos take_first_signed() noexcept {
    const Nanos t = first_signed_;
    first_signed_ = 0;
    return t;
  }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  binance::RequestSigner signer_;
  binance::WsApiRequestBuilder builder_;
  venue::VenueListener* listener_ = nullptr;
  std::vector<oms::ExecutionReport> pending_;
  std::int64_t next_id_ = 1;
  Nanos first_signed_ = 0;
  std::size_t bytes_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::atoi(argv[1]) : 200'000;
  const Symbol btc = *Symbol::parse("BTCUSDT");

  const trading::TradingSetup setup = bench::tick_bench_setup(btc);
  const strategy::MarketMakerParams mm = bench::tick_bench_market_maker();

  SigningVenue venue;
  trading::TradingLoop loop(setup, venue, nullptr, std::make_unique<strategy::MarketMaker>(mm, std::vector<Symbol>{btc}));
  binance::MarketDataPipeline::Options options;
  options.symbols = {btc};
  binance::MarketDataPipeline pipeline(options);
  pipeline.set_sink(&loop);

  Nanos wall = 1'700'000'000LL * kNanosPerSecond;
  loop.start_without_reconciliation(wall);
  (void)pipeline.on_rest_depth_snapshot(btc, bench::kTickSnapshot, wall);

  std::vector<Nanos> latencies;
  latencies.reserve(static_cast<std::size_t>(frames));
  char frame[512];
  std::uint64_t id = 101;
  const int warmup = 2'000;
  std::uint64_t allocs_before = 0;
  for (int i = 0; i < warmup + frames; ++i) {
    if (i == warmup) allocs_before = bench::allocation_count();
    const int len = bench::format_tick_diff(frame, sizeof frame, id++, (i % 2) == 1);
    wall += kNanosPerMilli;
    const Nanos t0 = monotonic_ns();
    (void)pipeline.on_ws_frame(std::string_view(frame, static_cast<std::size_t>(len)), wall);
    const Nanos t1 = venue.take_first_signed();
    if (i >= warmup && t1 != 0) latencies.push_back(t1 - t0);
  }
  const std::uint64_t allocs = bench::allocation_count() - allocs_before;
  if (latencies.empty()) {
    std::fprintf(stderr, "no order was signed: the strategy never acted\n");
    return 1;
  }
  std::printf("tick-to-order (depth frame bytes -> decode -> book -> market maker -> risk -> oms -> signed WS API order.place)\n");
  std::printf("frames %d, frames that produced an order %zu, orders sent %llu, bytes signed %zu\n", frames,
              latencies.size(), static_cast<unsigned long long>(loop.counters().orders_sent), venue.bytes());
  bench::print_tick_latencies(latencies);
  std::printf("allocations per frame once warm: %.3f\n", static_cast<double>(allocs) / frames);
  bench::print_tick_histogram(latencies);
  return 0;
}
