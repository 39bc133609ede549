#include <catch2/catch.hpp>

#include <cstring>

#include "strategy_fixture.hpp"
#include "tradingbot/strategy/ema_trend.hpp"

using namespace tb;
using namespace tb::test;

namespace {
market::Kline kline(const char* close, bool closed = true, const char* interval = "1m") {
  market::Kline k;
  k.symbol = sym("BTCUSDT");
  std::memcpy(k.interval.text, interval, std::strlen(interval));
  k.interval.size = static_cast<std::uint8_t>(std::strlen(interval));
  k.close = px(close);
  k.closed = closed;
  return k;
}
strategy::EmaTrendParams params() {
  strategy::EmaTrendParams p;
  p.fast_period = 2;
  p.slow_period = 4;
  p.order_qty = qty("0.01");
  return p;
}
}  // namespace

TEST_CASE("EMA trend computes exact EMAs and does not trade during warm-up", "[strategy][ema]") {
  strategy::EmaTrend ema(params(), {sym("BTCUSDT")});
  FakeView view;
  view.instruments[sym("BTCUSDT")] = btc_instrument();
  strategy::IntentBuffer out;
  strategy::Context ctx{kT0, view, out};
  ema.on_kline(kline("100"), ctx);
  ema.on_kline(kline("103"), ctx);
  // fast: 100 + 3*2/3 = 102; slow: 100 + 3*2/5 = 101.2
  CHECK(ema.fast_ema(sym("BTCUSDT")) == px("102"));
  CHECK(ema.slow_ema(sym("BTCUSDT")) == px("101.2"));
  ema.on_kline(kline("106"), ctx);
  ema.on_kline(kline("109"), ctx);  // warm-up ends here with fast above slow: no cross yet
  CHECK(out.empty());
  // Unclosed klines and other intervals are ignored.
  ema.on_kline(kline("1", false), ctx);
  ema.on_kline(kline("1", true, "5m"), ctx);
  CHECK(out.empty());
  CHECK(ema.fast_ema(sym("BTCUSDT")) > ema.slow_ema(sym("BTCUSDT")));
}

TEST_CASE("EMA trend buys on a bullish cross and goes flat on a bearish one", "[strategy][ema]") {
  strategy::EmaTrend ema(params(), {sym("BTCUSDT")});
  FakeView view;
  view.instruments[sym("BTCUSDT")] = btc_instrument();
  strategy::IntentBuffer out;
  strategy::Context ctx{kT0, view, out};
  for (const char* c : {"110", "107", "104", "101"}) ema.on_kline(kline(c), ctx);  // downtrend
  CHECK(out.empty());
  ema.on_kline(kline("120"), ctx);  // fast jumps above slow
  REQUIRE(out.size() == 1);
  CHECK(out[0].order.type == OrderType::Market);
  CHECK(out[0].order.side == Side::Buy);
  CHECK(out[0].order.qty == qty("0.01"));
  CHECK(ema.target(sym("BTCUSDT")) == qty("0.01"));
  out.clear();
  // While the order works, nothing else is sent.
  ema.on_kline(kline("60"), ctx);
  CHECK(out.empty());
  strategy::OrderUpdate done;
  done.tag = 0;
  done.event = strategy::OrderEvent::Done;
  ema.on_order_update(done, ctx);
  view.positions[sym("BTCUSDT")] = qty("0.01");
  ema.on_kline(kline("50"), ctx);  // still bearish after the cross at 60: the target is flat
  REQUIRE(out.size() == 1);
  CHECK(out[0].order.side == Side::Sell);
  CHECK(out[0].order.qty == qty("0.01"));
  CHECK(ema.target(sym("BTCUSDT")).is_zero());
}
