// Benchmarks for the trading-thread order path: risk check alone, risk check + order creation per
// intent, and a full order lifecycle (intent, NEW ack, TRADE fill into the position book).
// Global operator new/delete are replaced to count heap allocations inside the timed loops; each
// benchmark reports allocs/iter (expected 0 once warm).
#include <benchmark/benchmark.h>

#include "allocation_counter.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "tradingbot/oms/order_manager.hpp"
#include "tradingbot/oms/position_book.hpp"
#include "tradingbot/risk/risk_gate.hpp"


namespace {

using namespace tb;

constexpr Nanos kT0 = 1'795'428'000LL * kNanosPerSecond;
constexpr Nanos kStep = 2 * kNanosPerMilli;  // 500 intents per second of simulated time

Symbol sym(const char* s) { return *Symbol::parse(s); }

risk::RiskParams bench_params() {
  risk::RiskParams p;  // defaults, with limits opened far enough for a long run
  p.max_order_notional = Money::from_integer(1'000'000);
  p.max_position_notional = Money{};
  p.order_rate_limit = 1'000;  // per second: never reached at 500/s, so every intent is accepted
  p.order_rate_window = kNanosPerSecond;
  p.market_data_stale = 1'000'000 * kNanosPerSecond;
  p.user_stream_stale = 1'000'000 * kNanosPerSecond;
  p.daily_loss_limit = Money{};
  p.max_drawdown_bps = 0;
  p.max_open_orders_per_symbol = 200;
  return p;
}

risk::SymbolRules btc_rules() {
  risk::SymbolRules r;
  r.symbol = sym("BTCUSDT");
  r.tick_size = *Price::parse("0.01");
  r.min_price = *Price::parse("0.01");
  r.max_price = *Price::parse("1000000");
  r.step_size = *Qty::parse("0.00001");
  r.min_qty = *Qty::parse("0.00001");
  r.max_qty = *Qty::parse("9000");
  r.min_notional = *Money::parse("5");
  return r;
}

struct Rig {
  risk::RiskGate gate{bench_params()};
  oms::PositionBook book{sym("USDT"), Money::from_integer(100'000)};
  oms::OrderManager om;
  Nanos now = kT0;
  explicit Rig(std::uint32_t max_orders = 4096) : om(config(max_orders), gate, book) {
    // A realistic table: a few symbols, the traded one last so lookups scan.
    for (const char* s : {"ETHUSDT", "BNBUSDT", "SOLUSDT", "BTCUSDT"}) {
      risk::SymbolRules r = btc_rules();
      r.symbol = sym(s);
      gate.set_symbol_rules(r);
      std::string base(s);
      base.resize(base.size() - 4);
      book.add_symbol(sym(s), *Symbol::parse(base), sym("USDT"));
      om.add_symbol(sym(s));
      gate.on_user_stream(now);
      om.on_mid(sym(s), *Price::parse("60000"), now);
    }
    (void)om.reconcile(oms::ReconcileInput{}, now);
  }
  static oms::OmsConfig config(std::uint32_t max_orders) {
    oms::OmsConfig c;
    c.run_prefix = "tbBENCH";
    c.max_orders = max_orders;
    return c;
  }
};

const Symbol kBtc = sym("BTCUSDT");
const Price kBase = Price::from_integer(60'000);
const Qty kQty = Qty::from_raw(100'000);  // 0.001

// Alternating BUY/SELL limits within 1 USDT of the mid (built without parsing: strategy-like).
OrderIntent intent(std::uint64_t k) {
  OrderIntent in;
  in.symbol = kBtc;
  in.side = (k & 1) ? Side::Sell : Side::Buy;
  in.type = OrderType::Limit;
  in.tif = TimeInForce::Gtc;
  in.price = Price::from_raw(kBase.raw() + static_cast<std::int64_t>(k % 100) * 1'000'000);
  in.qty = kQty;
  return in;
}

void BM_RiskCheck(benchmark::State& state) {
  Rig rig;
  risk::Exposure ex;
  ex.position = *Qty::parse("0.01");
  std::uint64_t k = 0;
  const std::uint64_t before = tb::bench::allocation_count();
  for (auto _ : state) {
    rig.now += kStep;
    const auto r = rig.gate.check_order(intent(k++), ex, rig.now);
    benchmark::DoNotOptimize(r);
  }
  state.counters["allocs/iter"] = benchmark::Counter(static_cast<double>(tb::bench::allocation_count() - before) / static_cast<double>(state.iterations()));
}
BENCHMARK(BM_RiskCheck);

// Risk check + order creation per intent. The venue's definite reject makes the order terminal
// so the pool recycles slots (steady state: every creation also retires the oldest order).
void BM_SubmitIntent(benchmark::State& state) {
  Rig rig(static_cast<std::uint32_t>(state.range(0)));
  std::uint64_t k = 0;
  std::uint64_t rejected = 0;
  // Warm up: fill the pool once so the timed loop runs in steady state.
  for (int i = 0; i < 5000; ++i) {
    rig.now += kStep;
    const auto r = rig.om.submit(intent(k++), rig.now);
    if (r.accepted()) (void)rig.om.on_place_rejected(r.order->client_id, -2010, rig.now);
  }
  const std::uint64_t before = tb::bench::allocation_count();
  for (auto _ : state) {
    rig.now += kStep;
    const auto r = rig.om.submit(intent(k++), rig.now);
    if (r.accepted()) {
      (void)rig.om.on_place_rejected(r.order->client_id, -2010, rig.now);
    } else {
      ++rejected;
    }
  }
  state.counters["allocs/iter"] = benchmark::Counter(static_cast<double>(tb::bench::allocation_count() - before) / static_cast<double>(state.iterations()));
  state.counters["rejected"] = static_cast<double>(rejected);
}
// Arg = order pool size: 4096 (default config; the recycled slot is cold in cache) and 256.
BENCHMARK(BM_SubmitIntent)->Arg(4096)->Arg(256);

// Intent -> NEW ack -> one TRADE fill (dedup set, position book, equity limits).
void BM_OrderLifecycle(benchmark::State& state) {
  Rig rig(static_cast<std::uint32_t>(state.range(0)));
  std::uint64_t k = 0;
  std::int64_t exchange_id = 1;
  std::uint64_t failures = 0;
  const Symbol usdt = sym("USDT");
  auto one = [&] {
    rig.now += kStep;
    const auto r = rig.om.submit(intent(k++), rig.now);
    if (!r.accepted()) {
      ++failures;
      return;
    }
    const oms::Order& o = *r.order;
    oms::ExecutionReport rep;
    rep.symbol = o.symbol;
    rep.client_order_id = o.client_id;
    rep.order_id = exchange_id;
    rep.side = o.side;
    rep.price = o.price;
    rep.qty = o.qty;
    rep.exec_type = oms::ExecType::New;
    rep.status = oms::OrderStatus::New;
    (void)rig.om.on_execution_report(rep, rig.now);
    rep.exec_type = oms::ExecType::Trade;
    rep.status = oms::OrderStatus::Filled;
    rep.last_qty = o.qty;
    rep.last_price = o.price;
    rep.cum_qty = o.qty;
    rep.trade_id = exchange_id;
    rep.commission_raw = 6'000'000;  // 0.06 USDT
    rep.commission_asset = usdt;
    if (!rig.om.on_execution_report(rep, rig.now).fill_applied) ++failures;
    ++exchange_id;
  };
  for (int i = 0; i < 70'000; ++i) one();  // past the trade-id ring and the order pool
  const std::uint64_t before = tb::bench::allocation_count();
  for (auto _ : state) one();
  state.counters["allocs/iter"] = benchmark::Counter(static_cast<double>(tb::bench::allocation_count() - before) / static_cast<double>(state.iterations()));
  state.counters["failures"] = static_cast<double>(failures);
}
BENCHMARK(BM_OrderLifecycle)->Arg(4096)->Arg(256);

}  // namespace

BENCHMARK_MAIN();
