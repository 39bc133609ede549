#include <catch2/catch.hpp>

#include "strategy_fixture.hpp"
#include "tradingbot/strategy/factory.hpp"
#include "tradingbot/strategy/market_maker.hpp"

using namespace tb;
using namespace tb::test;
using strategy::IntentKind;
using strategy::MarketMaker;

namespace {
strategy::MarketMakerParams mm_params() {
  strategy::MarketMakerParams p;
  p.order_qty = qty("0.01");
  p.max_position = qty("0.05");
  p.half_spread_bps = 10;  // 60 at a 60000 mid
  p.skew_bps = 10;
  p.requote_bps = 1;       // 6 at 60000
  return p;
}
}  // namespace

TEST_CASE("market maker quotes symmetrically around the mid when flat", "[strategy][mm]") {
  MarketMaker mm(mm_params(), {sym("BTCUSDT")});
  FakeView view;
  view.instruments[sym("BTCUSDT")] = btc_instrument();
  book::L2Book b(64);
  set_top(b, "59999.99", "1", "60000.01", "1");
  strategy::IntentBuffer out;
  strategy::Context ctx{kT0, view, out};
  mm.on_book(sym("BTCUSDT"), b, ctx);
  REQUIRE(out.size() == 2);
  CHECK(out[0].kind == IntentKind::Place);
  CHECK(out[0].tag == MarketMaker::tag_of(0, Side::Buy));
  CHECK(out[0].order.side == Side::Buy);
  CHECK(out[0].order.price == px("59940"));  // 60000 - 60
  CHECK(out[0].order.qty == qty("0.01"));
  CHECK(out[1].order.side == Side::Sell);
  CHECK(out[1].order.price == px("60060"));
  CHECK(out[1].order.qty == qty("0.01"));
}

TEST_CASE("market maker skews quotes against inventory and caps size at max position", "[strategy][mm]") {
  MarketMaker mm(mm_params(), {sym("BTCUSDT")});
  const strategy::Instrument inst = btc_instrument();
  // Long 0.045 of max 0.05: shift = 60 * 0.9 = 54 down; only 0.005 more may be bought.
  const auto q = mm.compute_quotes(px("59999.99"), px("60000.01"), qty("0.045"), inst);
  REQUIRE(q);
  CHECK(q->bid_price == px("59886"));
  CHECK(q->ask_price == px("60006"));
  CHECK(q->bid_qty == qty("0.005"));
  CHECK(q->ask_qty == qty("0.01"));
  // At max long the bid is pulled entirely.
  const auto full = mm.compute_quotes(px("59999.99"), px("60000.01"), qty("0.05"), inst);
  REQUIRE(full);
  CHECK(full->bid_qty.is_zero());
  // Short: quotes move up.
  const auto s = mm.compute_quotes(px("59999.99"), px("60000.01"), qty("-0.05"), inst);
  REQUIRE(s);
  CHECK(s->bid_price == px("60000"));  // 59940 + 60, then capped one tick below the best ask
  CHECK(s->ask_qty.is_zero());
}

TEST_CASE("market maker rounds to the tick and step and never crosses the book", "[strategy][mm]") {
  auto p = mm_params();
  p.half_spread_bps = 1;
  p.order_qty = qty("0.0123456");
  MarketMaker mm(p, {sym("BTCUSDT")});
  strategy::Instrument inst = btc_instrument();
  inst.min_notional = Money{};
  const auto q = mm.compute_quotes(px("100.00"), px("100.10"), Qty{}, inst);
  REQUIRE(q);
  // mid 100.05, half 0.010005: bid floor(100.039995) = 100.03, ask ceil(100.060005) = 100.07
  CHECK(q->bid_price == px("100.03"));
  CHECK(q->ask_price == px("100.07"));
  CHECK(q->bid_qty == qty("0.01234"));
  CHECK(q->ask_qty == qty("0.01234"));
  // A one-tick market: quotes stay on their own side.
  const auto tight = mm.compute_quotes(px("100.00"), px("100.01"), Qty{}, inst);
  REQUIRE(tight);
  CHECK(tight->bid_price == px("99.99"));   // floor(100.005 - 0.0100005)
  CHECK(tight->ask_price == px("100.02"));  // ceil(100.005 + 0.0100005)
  // Below min notional (5 USDT at 100 needs 0.05): not quoted.
  auto p2 = mm_params();
  p2.order_qty = qty("0.04");
  MarketMaker mm2(p2, {sym("BTCUSDT")});
  const auto tiny = mm2.compute_quotes(px("100.00"), px("100.10"), Qty{}, btc_instrument());
  REQUIRE(tiny);
  CHECK(tiny->bid_qty.is_zero());
  CHECK(tiny->ask_qty.is_zero());
  // A crossed or empty top gives no quotes at all.
  CHECK_FALSE(mm.compute_quotes(px("100.10"), px("100.00"), Qty{}, inst));
}

TEST_CASE("market maker requotes only when the quote moves beyond the threshold", "[strategy][mm]") {
  MarketMaker mm(mm_params(), {sym("BTCUSDT")});
  FakeView view;
  view.instruments[sym("BTCUSDT")] = btc_instrument();
  book::L2Book b(64);
  strategy::IntentBuffer out;
  strategy::Context ctx{kT0, view, out};
  set_top(b, "59999.99", "1", "60000.01", "1");
  mm.on_book(sym("BTCUSDT"), b, ctx);
  REQUIRE(out.size() == 2);
  out.clear();
  // Mid moves by 2 (< 6 threshold): nothing.
  set_top(b, "60001.99", "1", "60002.01", "1");
  mm.on_book(sym("BTCUSDT"), b, ctx);
  CHECK(out.empty());
  // Mid moves by 10 from the quoted one: both sides replaced.
  set_top(b, "60009.99", "1", "60010.01", "1");
  mm.on_book(sym("BTCUSDT"), b, ctx);
  REQUIRE(out.size() == 2);
  CHECK(out[0].kind == IntentKind::Replace);
  CHECK(out[0].order.price == px("59949.99"));  // 60010 - 60.01 floored to the tick
  CHECK(out[1].kind == IntentKind::Replace);
  out.clear();
  // A fill changes the position: sizes change, so quotes are replaced even without a move.
  view.positions[sym("BTCUSDT")] = qty("0.045");
  mm.on_book(sym("BTCUSDT"), b, ctx);
  REQUIRE(out.size() == 2);
  CHECK(out[0].order.qty == qty("0.005"));
}

TEST_CASE("market maker pauses a rejected side and cancels on book reset", "[strategy][mm]") {
  auto p = mm_params();
  p.retry_after = kNanosPerSecond;
  MarketMaker mm(p, {sym("BTCUSDT")});
  FakeView view;
  view.instruments[sym("BTCUSDT")] = btc_instrument();
  book::L2Book b(64);
  set_top(b, "59999.99", "1", "60000.01", "1");
  strategy::IntentBuffer out;
  strategy::Context ctx{kT0, view, out};
  mm.on_book(sym("BTCUSDT"), b, ctx);
  REQUIRE(out.size() == 2);
  out.clear();
  strategy::OrderUpdate rej;
  rej.tag = MarketMaker::tag_of(0, Side::Buy);
  rej.event = strategy::OrderEvent::Rejected;
  mm.on_order_update(rej, ctx);
  mm.on_book(sym("BTCUSDT"), b, ctx);
  CHECK(out.empty());  // bid paused, ask unchanged
  strategy::Context later{kT0 + kNanosPerSecond, view, out};
  mm.on_book(sym("BTCUSDT"), b, later);
  REQUIRE(out.size() == 1);
  CHECK(out[0].kind == IntentKind::Place);
  CHECK(out[0].order.side == Side::Buy);
  out.clear();
  mm.on_book_reset(sym("BTCUSDT"), later);
  REQUIRE(out.size() == 2);
  CHECK(out[0].kind == IntentKind::Cancel);
  CHECK(out[1].kind == IntentKind::Cancel);
  out.clear();
  mm.on_book_reset(sym("BTCUSDT"), later);
  CHECK(out.empty());  // cancels already in flight
}

TEST_CASE("strategy factory validates names and parameters", "[strategy]") {
  strategy::StrategySpec spec;
  spec.symbols = {sym("BTCUSDT")};
  spec.name = "martingale";
  auto r = strategy::make_strategy(spec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("strategy.name") != std::string::npos);
  spec.name = "market_maker";
  spec.market_maker.half_spread_bps = 0;
  r = strategy::make_strategy(spec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("strategy.market_maker.half_spread_bps") != std::string::npos);
  spec.market_maker = {};
  r = strategy::make_strategy(spec);
  REQUIRE(r.ok());
  CHECK(r.value()->name() == "market_maker");
  spec.name = "ema_trend";
  spec.ema_trend.fast_period = 30;
  r = strategy::make_strategy(spec);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("strategy.ema_trend.fast_period") != std::string::npos);
}

TEST_CASE("intent buffer refuses intents past its capacity and says so", "[strategy]") {
  strategy::IntentBuffer out;
  OrderIntent o;
  for (std::size_t i = 0; i < strategy::IntentBuffer::kCapacity; ++i) REQUIRE(out.place(static_cast<strategy::OrderTag>(i), o));
  CHECK_FALSE(out.overflowed());
  CHECK_FALSE(out.place(99, o));
  CHECK(out.overflowed());
  CHECK(out.size() == strategy::IntentBuffer::kCapacity);
  out.clear();
  CHECK_FALSE(out.overflowed());
}
