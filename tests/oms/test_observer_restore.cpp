// The order manager's observer (what the store records) and the restart-recovery hooks.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "oms_fixture.hpp"

using namespace tb;
using namespace tb::oms;
using namespace tb::test;

namespace {
struct Seen final : OrderObserver {
  std::vector<std::pair<OrderStatus, std::string>> changes;  // status, filled
  std::vector<std::int64_t> fills;
  void on_order_changed(const Order& o, Nanos) noexcept override { changes.emplace_back(o.status, o.filled.to_string()); }
  void on_fill_applied(const Order&, const Fill& f, Nanos) noexcept override { fills.push_back(f.trade_id); }
};
}  // namespace

TEST_CASE("the observer sees each order change once and each new fill once", "[oms]") {
  OmsFixture f;
  Seen seen;
  f.om.set_observer(&seen);
  const Order& o = f.submit(Side::Buy, "60000", "0.002");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 777), f.now);
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 777), f.now);  // duplicate: nothing
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 777, 1, "0.0005", "60000", "0.0005"), f.now);
  // Same status, more filled: still one change.
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 777, 2, "0.0005", "60000", "0.001"), f.now);
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 777, 2, "0.0005", "60000", "0.001"), f.now);
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::Filled, 777, 3, "0.001", "60000", "0.002"), f.now);
  const std::vector<std::pair<OrderStatus, std::string>> expected = {
      {OrderStatus::PendingNew, "0"},          {OrderStatus::New, "0"},
      {OrderStatus::PartiallyFilled, "0.0005"}, {OrderStatus::PartiallyFilled, "0.001"},
      {OrderStatus::Filled, "0.002"}};
  CHECK(seen.changes == expected);
  CHECK(seen.fills == std::vector<std::int64_t>{1, 2, 3});
}

TEST_CASE("restore_order: a live stored order comes back needing reconciliation", "[oms]") {
  OmsFixture f;
  REQUIRE(f.om.ready_for_strategy());
  RestoredOrder r;
  r.client_id = cid("tbOLD-7");
  r.exchange_id = 4242;
  r.symbol = sym("BTCUSDT");
  r.price = px("60000");
  r.qty = qty("0.002");
  r.status = OrderStatus::PartiallyFilled;
  r.filled = qty("0.0005");
  r.filled_quote = money("30");
  Seen seen;
  f.om.set_observer(&seen);
  REQUIRE(f.om.restore_order(r, f.now));
  CHECK(seen.changes.empty());  // already stored in this state: not a new change
  CHECK_FALSE(f.om.ready_for_strategy());
  const Order* o = f.om.find(cid("tbOLD-7"));
  REQUIRE(o != nullptr);
  CHECK(o->needs_query);
  CHECK(o->filled == qty("0.0005"));
  CHECK(f.om.find_by_exchange_id(sym("BTCUSDT"), 4242) == o);
  CHECK(f.om.exposure(sym("BTCUSDT")).open_buy_qty == qty("0.0015"));
  CHECK(f.book.position(sym("BTCUSDT")) == Qty{});  // past fills live in the restored position, not here
  CHECK_FALSE(f.om.restore_order(r, f.now));  // the same id twice
  r.client_id = cid("tbOLD-8");
  r.status = OrderStatus::Filled;
  CHECK_FALSE(f.om.restore_order(r, f.now));  // not live
}

TEST_CASE("restore_position brings back position, average entry and realized PnL exactly", "[oms]") {
  PositionBook a(sym("USDT"), money("10000"));
  REQUIRE(a.add_symbol(sym("BTCUSDT"), sym("BTC"), sym("USDT")));
  // Prices and sizes whose average entry truncates.
  Fill f;
  f.symbol = sym("BTCUSDT");
  f.side = Side::Buy;
  f.price = px("60000.01");
  f.qty = qty("0.00033");
  f.trade_id = 1;
  REQUIRE(a.on_fill(f) == FillStatus::Applied);
  f.price = px("59999.97");
  f.qty = qty("0.00071");
  f.trade_id = 2;
  REQUIRE(a.on_fill(f) == FillStatus::Applied);
  f.side = Side::Sell;
  f.price = px("60123.45");
  f.qty = qty("0.00047");
  f.trade_id = 3;
  REQUIRE(a.on_fill(f) == FillStatus::Applied);
  const SymbolPosition& pa = *a.find(sym("BTCUSDT"));

  PositionBook b(sym("USDT"), money("10000"));
  REQUIRE(b.add_symbol(sym("BTCUSDT"), sym("BTC"), sym("USDT")));
  REQUIRE(b.restore_position(sym("BTCUSDT"), pa.position, pa.avg_entry(), pa.realized_pnl));
  const SymbolPosition& pb = *b.find(sym("BTCUSDT"));
  CHECK(pb.position == pa.position);
  CHECK(pb.avg_entry() == pa.avg_entry());
  CHECK(pb.realized_pnl == pa.realized_pnl);
  const std::int64_t cost_error = pb.cost.raw() - pa.cost.raw();
  CHECK(cost_error >= -pa.position.raw() / kFixedScale - 1);
  CHECK(cost_error <= pa.position.raw() / kFixedScale + 1);
  // Without fees, cash follows: initial + realized - cost.
  CHECK(b.cash() == money("10000") + pb.realized_pnl - pb.cost);
  // Restoring twice does not double-count cash.
  REQUIRE(b.restore_position(sym("BTCUSDT"), pa.position, pa.avg_entry(), pa.realized_pnl));
  CHECK(b.cash() == money("10000") + pb.realized_pnl - pb.cost);
  // A short position too.
  REQUIRE(b.restore_position(sym("BTCUSDT"), qty("-0.5"), px("61000.12345678"), money("-3")));
  CHECK(b.find(sym("BTCUSDT"))->avg_entry() == px("61000.12345678"));
  CHECK(b.position(sym("BTCUSDT")) == qty("-0.5"));
  CHECK_FALSE(b.restore_position(sym("ETHUSDT"), qty("1"), px("1"), Money{}));
  b.restore_cash(money("123.45"));
  CHECK(b.cash() == money("123.45"));
}
