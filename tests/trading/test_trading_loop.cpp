#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "tradingbot/strategy/market_maker.hpp"
#include "tradingbot/trading/trading_loop.hpp"
#include "tradingbot/venue/paper_venue.hpp"

using namespace tb;
using risk::RejectReason;

namespace {
Price px(const char* s) { return *Price::parse(s); }
Qty qty(const char* s) { return *Qty::parse(s); }
Money money(const char* s) { return *Money::parse(s); }
Symbol sym(const char* s) { return *Symbol::parse(s); }
constexpr Nanos kT0 = 1'795'428'000LL * kNanosPerSecond;
constexpr Nanos kMs = kNanosPerMilli;

risk::SymbolRules btc_rules() {
  risk::SymbolRules r;
  r.symbol = sym("BTCUSDT");
  r.tick_size = px("0.01");
  r.step_size = qty("0.00001");
  r.min_notional = money("5");
  return r;
}

trading::TradingSetup setup() {
  trading::TradingSetup s;
  s.risk.max_order_notional = money("100000");
  s.risk.max_position_notional = Money{};
  s.risk.order_rate_limit = 0;
  s.risk.cancel_rate_limit = 0;
  s.risk.daily_loss_limit = Money{};
  s.risk.max_drawdown_bps = 0;
  s.risk.strategy_reject_limit = 0;
  s.risk.max_open_orders_per_symbol = 50;
  s.oms.run_prefix = "tbT";
  s.oms.max_orders = 256;
  s.oms.recent_trade_ids = 1024;
  s.initial_cash = money("100000");
  s.symbols = {btc_rules()};
  return s;
}

// Bids 60000 x 5; asks 60001 x 1.
void load(book::L2Book& b, const char* bid = "60000", const char* ask = "60001") {
  b.clear();
  b.set_level(book::BookSide::Bid, px(bid), qty("5"));
  b.set_level(book::BookSide::Ask, px(ask), qty("1"));
}

struct Harness {
  venue::PaperVenue paper;
  book::L2Book book{64};
  std::vector<std::string> alerts;
  std::unique_ptr<trading::TradingLoop> loop;

  explicit Harness(std::unique_ptr<strategy::Strategy> strat = nullptr, trading::TradingSetup s = setup(),
                   Nanos latency = 0)
      : paper(venue::PaperVenueConfig{latency, 10, sym("USDT"), 256}) {
    loop = std::make_unique<trading::TradingLoop>(s, paper, &paper, std::move(strat));
    loop->set_alert_handler([this](std::string_view a) { alerts.emplace_back(a); });
    loop->start_without_reconciliation(kT0);
    load(book);
    loop->on_book_update(sym("BTCUSDT"), book, kT0);
  }
  trading::TradingSnapshot snap(Nanos now = kT0) {
    trading::TradingSnapshot s;
    loop->snapshot(now, s);
    return s;
  }
  OrderIntent limit(Side side, const char* price, const char* q) {
    OrderIntent in;
    in.symbol = sym("BTCUSDT");
    in.side = side;
    in.type = OrderType::Limit;
    in.price = px(price);
    in.qty = qty(q);
    return in;
  }
  std::uint64_t rejects(RejectReason r) { return snap().rejects[static_cast<std::size_t>(r)]; }
};

// A strategy whose behaviour the test scripts.
struct ScriptedStrategy final : strategy::Strategy {
  enum class Mode { Quiet, Throw, Flood, PlaceOnBook } mode = Mode::Quiet;
  std::vector<strategy::OrderUpdate> updates;
  std::vector<strategy::StrategyFill> fills;
  int books = 0;
  std::string_view name() const noexcept override { return "scripted"; }
  void on_book(const Symbol& s, const book::L2Book&, strategy::Context& ctx) override {
    ++books;
    switch (mode) {
      case Mode::Quiet: break;
      case Mode::Throw: throw std::runtime_error("bug in strategy");
      case Mode::Flood: {
        OrderIntent in;
        in.symbol = s;
        for (int i = 0; i < 100; ++i) (void)ctx.out.place(static_cast<strategy::OrderTag>(i), in);
        break;
      }
      case Mode::PlaceOnBook: {
        OrderIntent in;
        in.symbol = s;
        in.side = Side::Buy;
        in.price = px("59990");
        in.qty = qty("0.01");
        (void)ctx.out.place(7, in);
        mode = Mode::Quiet;
        break;
      }
    }
  }
  void on_order_update(const strategy::OrderUpdate& u, strategy::Context&) override { updates.push_back(u); }
  void on_fill(const strategy::StrategyFill& f, strategy::Context&) override { fills.push_back(f); }
};
}  // namespace

TEST_CASE("the market maker quotes through risk, oms and the paper venue, and a fill moves position and PnL",
          "[trading]") {
  strategy::MarketMakerParams p;
  p.order_qty = qty("0.01");
  p.max_position = qty("0.05");
  p.half_spread_bps = 1;  // 6 at 60000
  p.skew_bps = 0;
  Harness h(std::make_unique<strategy::MarketMaker>(p, std::vector<Symbol>{sym("BTCUSDT")}));
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + kMs);
  auto s = h.snap();
  CHECK(s.live_orders == 2);
  CHECK(s.counters.orders_sent == 2);
  CHECK(h.paper.resting_orders() == 2);
  // A 0.01 sell trade at 59994.00 (below our 59994.00 bid? bid = floor(60000.5 - 6.00005) = 59994.49)
  h.loop->on_agg_trade(
      market::AggTrade{sym("BTCUSDT"), 0, 0, 1, 1, 1, px("59990"), qty("0.01"), true}, kT0 + 2 * kMs);
  s = h.snap();
  CHECK(s.counters.fills == 1);
  REQUIRE(s.portfolio.positions.size() == 1);
  CHECK(s.portfolio.positions[0].position == qty("0.01"));
  CHECK(s.portfolio.positions[0].avg_entry() == px("59994.49"));
  CHECK(s.portfolio.fees_quote == money("0.5999449"));  // 599.9449 * 10 bps
  // The filled side is re-quoted on the next book change; the order count shows it.
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + 3 * kMs);
  s = h.snap();
  CHECK(s.live_orders == 2);
  CHECK(s.counters.orders_sent == 3);
  // Marked to the mid: unrealized = (60000.5 - 59994.49) * 0.01.
  CHECK(s.portfolio.unrealized_pnl == money("0.0601"));
  CHECK(s.portfolio.equity == money("100000") + money("0.0601") - money("0.5999449"));
}

TEST_CASE("every rejection is counted under its reason", "[trading][risk]") {
  auto st = setup();
  st.risk.max_order_notional = money("10000");
  st.risk.max_open_orders_per_symbol = 2;
  st.risk.price_band_bps = 100;
  st.risk.order_rate_limit = 4;
  st.risk.order_rate_window = kNanosPerSecond;
  Harness h(nullptr, st);
  const auto expect = [&](const OrderIntent& in, RejectReason reason) {
    const auto before = h.rejects(reason);
    const auto out = h.loop->manual_order(in, kT0);
    CHECK_FALSE(out.ok);
    CHECK(out.message == risk::to_string(reason));
    CHECK(h.rejects(reason) == before + 1);
  };
  expect(h.limit(Side::Buy, "60000.001", "0.01"), RejectReason::PriceTick);
  expect(h.limit(Side::Buy, "60000", "0.000001"), RejectReason::QtyStep);
  expect(h.limit(Side::Buy, "60000", "0.00005"), RejectReason::MinNotional);
  expect(h.limit(Side::Buy, "50000", "0.01"), RejectReason::PriceBand);
  expect(h.limit(Side::Buy, "60000", "1"), RejectReason::MaxOrderNotional);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0).ok);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0).ok);
  expect(h.limit(Side::Buy, "59900", "0.01"), RejectReason::MaxOpenOrders);
  (void)h.loop->cancel_all(kT0);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0).ok);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0).ok);
  (void)h.loop->cancel_all(kT0);
  expect(h.limit(Side::Buy, "59900", "0.01"), RejectReason::OrderRateLimit);
  OrderIntent other = h.limit(Side::Buy, "1", "1");
  other.symbol = sym("ETHUSDT");
  const auto out = h.loop->manual_order(other, kT0);
  CHECK_FALSE(out.ok);
  CHECK(out.message.find("not traded") != std::string::npos);
}

TEST_CASE("a strategy that throws is disabled, the kill switch trips, and the loop keeps running", "[trading]") {
  auto scripted = std::make_unique<ScriptedStrategy>();
  ScriptedStrategy* s = scripted.get();
  Harness h(std::move(scripted));
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0).ok);
  CHECK(h.snap().live_orders == 1);
  s->mode = ScriptedStrategy::Mode::Throw;
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + 1);
  auto snap = h.snap();
  CHECK_FALSE(snap.strategy_enabled);
  CHECK(snap.strategy_fault == "threw: bug in strategy");
  CHECK(snap.mode == risk::GateMode::Halted);
  CHECK(snap.counters.strategy_faults == 1);
  CHECK(snap.live_orders == 0);  // canceled by the kill switch
  REQUIRE_FALSE(h.alerts.empty());
  // The loop survives: market data still flows, the strategy is not called again, orders refused.
  const int books = s->books;
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + 2);
  CHECK(s->books == books);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0 + 2).message == "halted");
  const auto resumed = h.loop->resume(kT0 + 3);
  CHECK(resumed.message.find("stays disabled") != std::string::npos);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0 + 3).ok);
}

TEST_CASE("a strategy that floods intents is disabled", "[trading]") {
  auto scripted = std::make_unique<ScriptedStrategy>();
  scripted->mode = ScriptedStrategy::Mode::Flood;
  Harness h(std::move(scripted));
  auto snap = h.snap();
  CHECK_FALSE(snap.strategy_enabled);
  CHECK(snap.strategy_fault.find("flooded") != std::string::npos);
  CHECK(snap.counters.orders_sent == 0);
  CHECK(snap.mode == risk::GateMode::Halted);
}

TEST_CASE("strategy orders report working, fills and done through their tag", "[trading]") {
  auto scripted = std::make_unique<ScriptedStrategy>();
  ScriptedStrategy* s = scripted.get();
  Harness h(std::move(scripted));
  s->mode = ScriptedStrategy::Mode::PlaceOnBook;
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + 1);
  REQUIRE(s->updates.size() == 1);
  CHECK(s->updates[0].tag == 7);
  CHECK(s->updates[0].event == strategy::OrderEvent::Working);
  // The book crosses our bid: filled completely.
  load(h.book, "59980", "59985");
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + 2);
  REQUIRE(s->fills.size() == 1);
  CHECK(s->fills[0].tag == 7);
  CHECK(s->fills[0].qty == qty("0.01"));
  REQUIRE(s->updates.size() == 2);
  CHECK(s->updates[1].event == strategy::OrderEvent::Done);
  CHECK(s->updates[1].filled == qty("0.01"));
}

TEST_CASE("REDUCING lets only position-shrinking orders through; flatten closes the position", "[trading][risk]") {
  auto st = setup();
  st.risk.daily_loss_limit = money("10");
  st.risk.daily_loss_action = risk::LimitAction::Reduce;
  Harness h(nullptr, st);
  // Buy 1 BTC at the ask, then the market drops 20: loss > 10.
  OrderIntent buy;
  buy.symbol = sym("BTCUSDT");
  buy.side = Side::Buy;
  buy.type = OrderType::Market;
  buy.qty = qty("0.1");
  REQUIRE(h.loop->manual_order(buy, kT0).ok);
  CHECK(h.loop->positions().position(sym("BTCUSDT")) == qty("0.1"));
  load(h.book, "59800", "59801");
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + 1);
  CHECK(h.snap().mode == risk::GateMode::Reducing);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59790", "0.01"), kT0 + 1).message == "reduce_only");
  CHECK(h.rejects(RejectReason::ReduceOnly) == 1);
  CHECK(h.loop->manual_order(h.limit(Side::Sell, "59900", "0.05"), kT0 + 1).ok);
  const auto flat = h.loop->flatten(kT0 + 2);
  INFO(flat.message);
  CHECK(flat.ok);
  CHECK(h.loop->positions().position(sym("BTCUSDT")).is_zero());
  CHECK(h.snap().live_orders == 0);
  CHECK(h.snap(kT0 + 2).portfolio.realized_pnl.is_negative());
}

TEST_CASE("the dead-man timer cancels every order when market data goes stale", "[trading][risk]") {
  auto st = setup();
  st.risk.market_data_stale = 5 * kNanosPerSecond;
  Harness h(nullptr, st);
  REQUIRE(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0).ok);
  REQUIRE(h.loop->manual_order(h.limit(Side::Sell, "60100", "0.01"), kT0).ok);
  h.loop->on_timer(kT0 + 4 * kNanosPerSecond);
  CHECK(h.snap().live_orders == 2);
  h.loop->on_timer(kT0 + 6 * kNanosPerSecond);
  CHECK(h.snap().live_orders == 0);
  CHECK(h.snap().counters.dead_man_trips == 1);
  CHECK(h.paper.resting_orders() == 0);
  CHECK_FALSE(h.alerts.empty());
  // Stale data also blocks new orders until a fresh mid arrives.
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0 + 6 * kNanosPerSecond).message ==
        "stale_market_data");
  h.loop->on_book_update(sym("BTCUSDT"), h.book, kT0 + 7 * kNanosPerSecond);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0 + 7 * kNanosPerSecond).ok);
}

TEST_CASE("manual halt cancels everything and refuses orders until resume; manual cancel by id", "[trading]") {
  Harness h(nullptr, setup(), 5 * kMs);
  const auto placed = h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0);
  REQUIRE(placed.ok);
  h.loop->on_timer(kT0 + 10 * kMs);
  CHECK(h.paper.resting_orders() == 1);
  const auto c = h.loop->manual_cancel(sym("BTCUSDT"), placed.client_id, kT0 + 10 * kMs);
  CHECK(c.ok);
  h.loop->on_timer(kT0 + 20 * kMs);
  CHECK(h.snap().live_orders == 0);
  CHECK_FALSE(h.loop->manual_cancel(sym("BTCUSDT"), placed.client_id, kT0 + 20 * kMs).ok);

  REQUIRE(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0 + 20 * kMs).ok);
  h.loop->on_timer(kT0 + 30 * kMs);
  (void)h.loop->halt(kT0 + 30 * kMs);
  h.loop->on_timer(kT0 + 40 * kMs);
  CHECK(h.snap().live_orders == 0);
  CHECK(h.snap().mode == risk::GateMode::Halted);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0 + 40 * kMs).message == "halted");
  (void)h.loop->resume(kT0 + 40 * kMs);
  CHECK(h.loop->manual_order(h.limit(Side::Buy, "59900", "0.01"), kT0 + 40 * kMs).ok);
}
