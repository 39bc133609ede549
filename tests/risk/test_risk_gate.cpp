#include <catch2/catch.hpp>

#include <stdexcept>

#include "tradingbot/risk/risk_gate.hpp"

using namespace tb;
using namespace tb::risk;

namespace {

Price px(const char* s) { return *Price::parse(s); }
Qty qty(const char* s) { return *Qty::parse(s); }
Money money(const char* s) { return *Money::parse(s); }
Symbol sym(const char* s) { return *Symbol::parse(s); }

// 2026-11-23 10:00 UTC in ns.
constexpr Nanos kT0 = 1'795'428'000LL * kNanosPerSecond;

SymbolRules btc_rules() {
  SymbolRules r;
  r.symbol = sym("BTCUSDT");
  r.tick_size = px("0.01");
  r.min_price = px("0.01");
  r.max_price = px("1000000");
  r.step_size = qty("0.00001");
  r.min_qty = qty("0.00001");
  r.max_qty = qty("9000");
  r.market_step_size = qty("0.0001");
  r.market_min_qty = qty("0.0001");
  r.market_max_qty = qty("100");
  r.min_notional = money("5");
  r.max_notional = money("9000000");
  return r;
}

OrderIntent limit_buy(const char* price, const char* q) {
  OrderIntent in;
  in.symbol = sym("BTCUSDT");
  in.side = Side::Buy;
  in.type = OrderType::Limit;
  in.tif = TimeInForce::Gtc;
  in.price = px(price);
  in.qty = qty(q);
  return in;
}

OrderIntent limit_sell(const char* price, const char* q) {
  OrderIntent in = limit_buy(price, q);
  in.side = Side::Sell;
  return in;
}

struct Fixture {
  RiskParams params;
  explicit Fixture(RiskParams p = RiskParams{}) : params(p) {}
  RiskGate make(Nanos now = kT0) {
    RiskGate g(params);
    REQUIRE(g.set_symbol_rules(btc_rules()));
    g.on_mid(sym("BTCUSDT"), px("60000"), now);
    g.on_user_stream(now);
    g.on_equity(now, money("10000"));
    return g;
  }
};

}  // namespace

TEST_CASE("an ordinary limit order passes and consumes nothing but a rate token", "[risk]") {
  Fixture f;
  RiskGate g = f.make();
  CHECK(g.check_order(limit_buy("60000.00", "0.001"), Exposure{}, kT0) == RejectReason::Accepted);
  CHECK(g.accepted() == 1);
  CHECK(g.orders_in_window(kT0) == 1);
  CHECK(g.mode() == GateMode::Active);
}

TEST_CASE("every exchange filter rejects with its own reason", "[risk]") {
  const SymbolRules r = btc_rules();
  const Price mid = px("60000");
  auto check = [&](const OrderIntent& in) { return check_symbol_filters(r, in, mid); };
  CHECK(check(limit_buy("60000.00", "0.001")) == RejectReason::Accepted);
  CHECK(check(limit_buy("60000.005", "0.001")) == RejectReason::PriceTick);
  CHECK(check(limit_buy("2000000", "0.001")) == RejectReason::PriceRange);
  CHECK(check(limit_buy("60000", "0.000015")) == RejectReason::QtyStep);
  CHECK(check(limit_buy("60000", "9001")) == RejectReason::QtyRange);
  CHECK(check(limit_buy("60000", "0.00005")) == RejectReason::MinNotional);  // 3 USDT < 5
  CHECK(check(limit_buy("60000", "0")) == RejectReason::InvalidOrder);
  CHECK(check(limit_buy("0", "0.001")) == RejectReason::InvalidOrder);
  SymbolRules tight = r;
  tight.max_notional = money("50");
  CHECK(check_symbol_filters(tight, limit_buy("60000", "0.001"), mid) == RejectReason::MaxNotionalFilter);

  // MARKET orders use MARKET_LOT_SIZE and the mid for the notional.
  OrderIntent m = limit_buy("0", "0.0001");
  m.type = OrderType::Market;
  CHECK(check(m) == RejectReason::Accepted);  // 6 USDT at the mid
  m.qty = qty("0.00015");
  CHECK(check(m) == RejectReason::QtyStep);
  m.qty = qty("101");
  CHECK(check(m) == RejectReason::QtyRange);
  SymbolRules no_market_lot = r;
  no_market_lot.market_step_size = Qty{};
  no_market_lot.market_min_qty = Qty{};
  no_market_lot.market_max_qty = Qty{};
  m.qty = qty("0.00005");
  CHECK(check_symbol_filters(no_market_lot, m, mid) == RejectReason::MinNotional);
  no_market_lot.apply_min_to_market = false;
  CHECK(check_symbol_filters(no_market_lot, m, mid) == RejectReason::Accepted);
}

TEST_CASE("gate rejections are counted per reason", "[risk]") {
  Fixture f;
  RiskGate g = f.make();
  CHECK(g.check_order(limit_buy("60000.005", "0.001"), Exposure{}, kT0) == RejectReason::PriceTick);
  CHECK(g.check_order(limit_buy("60000.005", "0.001"), Exposure{}, kT0) == RejectReason::PriceTick);
  CHECK(g.check_order(limit_buy("60000", "0.000015"), Exposure{}, kT0) == RejectReason::QtyStep);
  OrderIntent other = limit_buy("1", "1");
  other.symbol = sym("ETHUSDT");
  CHECK(g.check_order(other, Exposure{}, kT0) == RejectReason::UnknownSymbol);
  CHECK(g.rejects(RejectReason::PriceTick) == 2);
  CHECK(g.rejects(RejectReason::QtyStep) == 1);
  CHECK(g.rejects(RejectReason::UnknownSymbol) == 1);
  CHECK(g.rejects(RejectReason::Accepted) == 0);
  CHECK(to_string(RejectReason::PriceBand) == "price_band");
}

TEST_CASE("price band versus the mid, in basis points", "[risk]") {
  Fixture f;
  f.params.price_band_bps = 100;  // 1%
  RiskGate g = f.make();
  CHECK(g.check_order(limit_buy("60600.00", "0.001"), Exposure{}, kT0) == RejectReason::Accepted);  // exactly +1%
  CHECK(g.check_order(limit_buy("60600.01", "0.001"), Exposure{}, kT0) == RejectReason::PriceBand);
  CHECK(g.check_order(limit_sell("59400.00", "0.001"), Exposure{}, kT0) == RejectReason::Accepted);
  CHECK(g.check_order(limit_sell("59399.99", "0.001"), Exposure{}, kT0) == RejectReason::PriceBand);
}

TEST_CASE("order notional and quantity limits", "[risk]") {
  Fixture f;
  f.params.max_order_notional = money("100");
  RiskGate g = f.make();
  CHECK(g.check_order(limit_buy("60000", "0.00166"), Exposure{}, kT0) == RejectReason::Accepted);  // 99.6
  CHECK(g.check_order(limit_buy("60000", "0.00167"), Exposure{}, kT0) == RejectReason::MaxOrderNotional);
  OrderIntent m = limit_buy("0", "0.002");
  m.type = OrderType::Market;
  CHECK(g.check_order(m, Exposure{}, kT0) == RejectReason::MaxOrderNotional);  // 120 at the mid

  SymbolRules r = btc_rules();
  r.max_order_qty = qty("0.001");
  REQUIRE(g.set_symbol_rules(r));
  CHECK(g.check_order(limit_buy("60000", "0.00101"), Exposure{}, kT0) == RejectReason::MaxOrderQty);
}

TEST_CASE("max position counts live orders on the same side; reducing orders always fit", "[risk]") {
  Fixture f;
  f.params.max_position_notional = money("600");  // 0.01 BTC at 60000
  RiskGate g = f.make();
  Exposure ex;
  ex.position = qty("0.008");
  ex.open_buy_qty = qty("0.001");
  ex.open_orders = 1;
  CHECK(g.check_order(limit_buy("60000", "0.001"), ex, kT0) == RejectReason::Accepted);  // 0.010
  CHECK(g.check_order(limit_buy("60000", "0.00101"), ex, kT0) == RejectReason::MaxPosition);
  CHECK(g.check_order(limit_sell("60000", "0.008"), ex, kT0) == RejectReason::Accepted);
  // Per-symbol quantity cap.
  SymbolRules r = btc_rules();
  r.max_position_qty = qty("0.0095");
  REQUIRE(g.set_symbol_rules(r));
  CHECK(g.check_order(limit_buy("60000", "0.0005"), ex, kT0) == RejectReason::Accepted);
  CHECK(g.check_order(limit_buy("60000", "0.00051"), ex, kT0) == RejectReason::MaxPosition);
  // Short side too: selling beyond the cap the other way.
  Exposure flat;
  CHECK(g.check_order(limit_sell("60000", "0.0096"), flat, kT0) == RejectReason::MaxPosition);
}

TEST_CASE("max open orders per symbol", "[risk]") {
  Fixture f;
  f.params.max_open_orders_per_symbol = 2;
  RiskGate g = f.make();
  Exposure ex;
  ex.open_orders = 1;
  CHECK(g.check_order(limit_buy("60000", "0.001"), ex, kT0) == RejectReason::Accepted);
  ex.open_orders = 2;
  CHECK(g.check_order(limit_buy("60000", "0.001"), ex, kT0) == RejectReason::MaxOpenOrders);
}

TEST_CASE("sliding-window order rate limit at the window boundary", "[risk]") {
  Fixture f;
  f.params.order_rate_limit = 3;
  f.params.order_rate_window = kNanosPerSecond;
  RiskGate g = f.make();
  const auto in = limit_buy("60000", "0.001");
  CHECK(g.check_order(in, Exposure{}, kT0) == RejectReason::Accepted);
  CHECK(g.check_order(in, Exposure{}, kT0 + 100 * kNanosPerMilli) == RejectReason::Accepted);
  CHECK(g.check_order(in, Exposure{}, kT0 + 200 * kNanosPerMilli) == RejectReason::Accepted);
  // One nanosecond before the first event leaves the window: still full.
  CHECK(g.check_order(in, Exposure{}, kT0 + kNanosPerSecond - 1) == RejectReason::OrderRateLimit);
  CHECK(g.rejects(RejectReason::OrderRateLimit) == 1);
  // Exactly one window after the first event it has left; only one slot frees up.
  CHECK(g.check_order(in, Exposure{}, kT0 + kNanosPerSecond) == RejectReason::Accepted);
  CHECK(g.check_order(in, Exposure{}, kT0 + kNanosPerSecond) == RejectReason::OrderRateLimit);
  CHECK(g.check_order(in, Exposure{}, kT0 + kNanosPerSecond + 100 * kNanosPerMilli) == RejectReason::Accepted);
  CHECK(g.orders_in_window(kT0 + kNanosPerSecond + 100 * kNanosPerMilli) == 3);
}

TEST_CASE("rejected orders do not consume rate tokens", "[risk]") {
  Fixture f;
  f.params.order_rate_limit = 1;
  RiskGate g = f.make();
  CHECK(g.check_order(limit_buy("60000.001", "0.001"), Exposure{}, kT0) == RejectReason::PriceTick);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0) == RejectReason::Accepted);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0) == RejectReason::OrderRateLimit);
}

TEST_CASE("cancel rate limit, and cancels pass while halted", "[risk]") {
  Fixture f;
  f.params.cancel_rate_limit = 2;
  f.params.cancel_rate_window = 500 * kNanosPerMilli;
  RiskGate g = f.make();
  g.halt(HaltCause::Manual, kT0);
  CHECK(g.check_cancel(kT0) == RejectReason::Accepted);
  CHECK(g.check_cancel(kT0 + 1) == RejectReason::Accepted);
  CHECK(g.check_cancel(kT0 + 499 * kNanosPerMilli) == RejectReason::CancelRateLimit);
  CHECK(g.check_cancel(kT0 + 500 * kNanosPerMilli) == RejectReason::Accepted);
  CHECK(g.rejects(RejectReason::CancelRateLimit) == 1);
}

TEST_CASE("kill switch halts every new order until resume", "[risk]") {
  Fixture f;
  RiskGate g = f.make();
  g.halt(HaltCause::Manual, kT0);
  CHECK(g.mode() == GateMode::Halted);
  CHECK(g.has_cause(HaltCause::Manual));
  Exposure ex;
  ex.position = qty("0.01");
  CHECK(g.check_order(limit_sell("60000", "0.001"), ex, kT0) == RejectReason::Halted);  // even reducing
  g.resume(kT0);
  CHECK(g.mode() == GateMode::Active);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0) == RejectReason::Accepted);
}

TEST_CASE("a strategy flooding the gate with bad intents trips the kill switch", "[risk]") {
  Fixture f;
  f.params.strategy_reject_limit = 5;
  f.params.strategy_reject_window = kNanosPerSecond;
  RiskGate g = f.make();
  for (int k = 0; k < 5; ++k) CHECK(g.check_order(limit_buy("60000.001", "0.001"), Exposure{}, kT0) == RejectReason::PriceTick);
  CHECK(g.mode() == GateMode::Active);
  CHECK(g.check_order(limit_buy("60000.001", "0.001"), Exposure{}, kT0) == RejectReason::PriceTick);
  CHECK(g.mode() == GateMode::Halted);
  CHECK(g.has_cause(HaltCause::StrategyFault));
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0) == RejectReason::Halted);
  // A strategy that throws is halted explicitly by the loop.
  g.resume(kT0);
  g.halt(HaltCause::StrategyFault, kT0);
  CHECK(g.mode() == GateMode::Halted);
}

TEST_CASE("daily loss limit moves the gate to REDUCING: only orders that shrink the position", "[risk]") {
  Fixture f;
  f.params.daily_loss_limit = money("100");
  f.params.daily_loss_action = LimitAction::Reduce;
  RiskGate g = f.make();
  g.on_equity(kT0 + 1, money("9900.01"));
  CHECK(g.mode() == GateMode::Active);
  g.on_equity(kT0 + 2, money("9900"));
  CHECK(g.mode() == GateMode::Reducing);
  CHECK(g.has_cause(HaltCause::DailyLoss));

  Exposure longpos;
  longpos.position = qty("0.005");
  CHECK(g.check_order(limit_buy("60000", "0.001"), longpos, kT0) == RejectReason::ReduceOnly);
  CHECK(g.check_order(limit_sell("60000", "0.005"), longpos, kT0) == RejectReason::Accepted);
  CHECK(g.check_order(limit_sell("60000", "0.006"), longpos, kT0) == RejectReason::ReduceOnly);  // would flip
  longpos.open_sell_qty = qty("0.004");
  CHECK(g.check_order(limit_sell("60000", "0.002"), longpos, kT0) == RejectReason::ReduceOnly);  // with live sells
  CHECK(g.check_order(limit_sell("60000", "0.001"), longpos, kT0) == RejectReason::Accepted);
  Exposure shortpos;
  shortpos.position = qty("-0.003");
  CHECK(g.check_order(limit_buy("60000", "0.003"), shortpos, kT0) == RejectReason::Accepted);
  CHECK(g.check_order(limit_sell("60000", "0.001"), shortpos, kT0) == RejectReason::ReduceOnly);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0) == RejectReason::ReduceOnly);  // flat

  // Recovering intraday does not lift the latch; the next UTC day does.
  g.on_equity(kT0 + 3, money("10000"));
  CHECK(g.mode() == GateMode::Reducing);
  g.on_equity(kT0 + kNanosPerDay, money("10000"));
  CHECK(g.mode() == GateMode::Active);
}

TEST_CASE("daily loss can be configured to halt", "[risk]") {
  Fixture f;
  f.params.daily_loss_limit = money("50");
  f.params.daily_loss_action = LimitAction::Halt;
  RiskGate g = f.make();
  g.on_equity(kT0 + 1, money("9949"));
  CHECK(g.mode() == GateMode::Halted);
}

TEST_CASE("drawdown from peak halts; resume re-bases the peak", "[risk]") {
  Fixture f;
  f.params.max_drawdown_bps = 500;  // 5%
  f.params.daily_loss_limit = Money{};
  RiskGate g = f.make();
  g.on_equity(kT0 + 1, money("12000"));  // new peak
  g.on_equity(kT0 + 2, money("11400.01"));
  CHECK(g.mode() == GateMode::Active);
  CHECK(g.equity().drawdown_bps() == 499);
  g.on_equity(kT0 + 3, money("11400"));  // exactly 5% below 12000
  CHECK(g.mode() == GateMode::Halted);
  CHECK(g.has_cause(HaltCause::Drawdown));
  g.on_equity(kT0 + 4, money("12000"));
  CHECK(g.mode() == GateMode::Halted);  // latched
  g.on_equity(kT0 + 5, money("11000"));
  g.resume(kT0 + 6);
  CHECK(g.mode() == GateMode::Active);
  CHECK(g.equity().peak() == money("11000"));
  g.on_equity(kT0 + 7, money("10900"));
  CHECK(g.mode() == GateMode::Active);

  f.params.drawdown_action = LimitAction::Reduce;
  RiskGate r = f.make();
  r.on_equity(kT0 + 1, money("9000"));
  CHECK(r.mode() == GateMode::Reducing);
}

TEST_CASE("dead-man timer: stale market data or user stream blocks orders and signals cancel-all once", "[risk]") {
  Fixture f;
  f.params.market_data_stale = 2 * kNanosPerSecond;
  f.params.user_stream_stale = 10 * kNanosPerSecond;
  RiskGate g = f.make();
  CHECK(g.poll(kT0 + kNanosPerSecond) == DeadManSignal::None);
  CHECK(g.poll(kT0 + 2 * kNanosPerSecond) == DeadManSignal::None);  // exactly at the limit: fresh
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0 + 2 * kNanosPerSecond) == RejectReason::Accepted);
  const Nanos late = kT0 + 2 * kNanosPerSecond + 1;
  CHECK(g.poll(late) == DeadManSignal::CancelAll);
  CHECK(g.poll(late + 1) == DeadManSignal::None);  // once per episode
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, late) == RejectReason::StaleMarketData);
  CHECK(g.dead_man_trips() == 1);
  // Fresh again: re-armed.
  g.on_mid(sym("BTCUSDT"), px("60000"), late + 2);
  CHECK(g.poll(late + 3) == DeadManSignal::None);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, late + 3) == RejectReason::Accepted);
  // Now the user stream goes silent.
  const Nanos silent = kT0 + 10 * kNanosPerSecond + 1;
  g.on_mid(sym("BTCUSDT"), px("60000"), silent);
  CHECK(g.poll(silent) == DeadManSignal::CancelAll);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, silent) == RejectReason::StaleUserStream);
  CHECK(g.dead_man_trips() == 2);
}

TEST_CASE("before any data arrives nothing trades and the timer stays quiet", "[risk]") {
  RiskGate g{RiskParams{}};
  REQUIRE(g.set_symbol_rules(btc_rules()));
  CHECK(g.poll(kT0) == DeadManSignal::None);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0) == RejectReason::StaleUserStream);
  g.on_user_stream(kT0);
  CHECK(g.check_order(limit_buy("60000", "0.001"), Exposure{}, kT0) == RejectReason::StaleMarketData);
}

TEST_CASE("parameters are validated with the offending key named", "[risk]") {
  RiskParams p;
  CHECK_FALSE(p.validate().has_value());
  p.price_band_bps = 0;
  REQUIRE(p.validate().has_value());
  CHECK(p.validate()->message.find("risk.price_band_bps") == 0);
  CHECK_THROWS_AS(RiskGate{p}, std::invalid_argument);
  p = RiskParams{};
  p.max_order_notional = Money{};
  CHECK(p.validate()->message.find("risk.max_order_notional") == 0);
  p = RiskParams{};
  p.order_rate_window = 0;
  CHECK(p.validate()->message.find("risk.order_rate_window_ms") == 0);
  p = RiskParams{};
  p.max_open_orders_per_symbol = 0;
  CHECK(p.validate().has_value());
  p = RiskParams{};
  p.market_data_stale = 0;
  CHECK(p.validate().has_value());
}

TEST_CASE("equity tracker: peak, drawdown and UTC day", "[risk]") {
  EquityTracker t;
  t.update(kT0, money("100"));
  t.update(kT0 + 1, money("120"));
  t.update(kT0 + 2, money("90"));
  CHECK(t.peak() == money("120"));
  CHECK(t.drawdown() == money("30"));
  CHECK(t.drawdown_bps() == 2500);
  CHECK(t.day_pnl() == money("-10"));
  t.update(kT0 + kNanosPerDay, money("95"));
  CHECK(t.day_start_equity() == money("95"));
  CHECK(t.day_pnl() == Money{});
  CHECK(utc_day(-1) == -1);
  CHECK(utc_day(0) == 0);
}
