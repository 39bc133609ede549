#include <catch2/catch.hpp>

#include <vector>

#include "oms_fixture.hpp"

using namespace tb;
using namespace tb::oms;
using namespace tb::test;

namespace {

ExchangeOrder open_order(const Order& o, std::int64_t order_id, OrderStatus status, const char* executed = "0") {
  ExchangeOrder eo;
  eo.symbol = o.symbol;
  eo.client_order_id = o.client_id;
  eo.order_id = order_id;
  eo.side = o.side;
  eo.type = o.type;
  eo.tif = o.tif;
  eo.price = o.price;
  eo.qty = o.qty;
  eo.executed_qty = qty(executed);
  eo.status = status;
  return eo;
}

ExchangeTrade trade(std::int64_t order_id, std::int64_t trade_id, Side side, const char* q, const char* price) {
  ExchangeTrade t;
  t.symbol = sym("BTCUSDT");
  t.order_id = order_id;
  t.trade_id = trade_id;
  t.side = side;
  t.qty = qty(q);
  t.price = px(price);
  return t;
}

}  // namespace

TEST_CASE("reconcile: pending and unknown orders found open on the exchange are corrected", "[oms]") {
  OmsFixture f;
  const Order& pending = f.submit(Side::Buy, "60000", "0.002");
  const Order& unknown = f.submit(Side::Buy, "59000", "0.001");
  (void)f.om.on_place_unknown(unknown.client_id, f.now);
  f.om.mark_unreconciled();
  const std::vector<ExchangeOrder> open = {open_order(pending, 11, OrderStatus::PartiallyFilled, "0.001"),
                                           open_order(unknown, 12, OrderStatus::New)};
  const std::vector<ExchangeTrade> trades = {trade(11, 900, Side::Buy, "0.001", "60000")};
  const ReconcileReport rep = f.om.reconcile({open, trades}, f.now);
  CHECK(rep.ready);
  CHECK(f.om.ready_for_strategy());
  CHECK(pending.status == OrderStatus::PartiallyFilled);
  CHECK(pending.exchange_id == 11);
  CHECK(pending.filled == qty("0.001"));
  CHECK(unknown.status == OrderStatus::New);
  CHECK(unknown.exchange_id == 12);
  CHECK(rep.count(DiffKind::StatusCorrected) == 2);
  CHECK(rep.count(DiffKind::FillRecovered) == 1);
  CHECK(rep.count(DiffKind::QtyMismatch) == 0);
  CHECK(f.book.position(sym("BTCUSDT")) == qty("0.001"));
}

TEST_CASE("reconcile: acked orders gone from the exchange are resolved filled or canceled", "[oms]") {
  OmsFixture f;
  const Order& filled = f.submit(Side::Buy, "60000", "0.002");
  const Order& canceled = f.submit(Side::Sell, "61000", "0.001");
  (void)f.om.on_execution_report(report(filled, ExecType::New, OrderStatus::New, 21), f.now);
  (void)f.om.on_execution_report(report(canceled, ExecType::New, OrderStatus::New, 22), f.now);
  // The stream had delivered one of the two trades before it dropped.
  (void)f.om.on_execution_report(trade_report(filled, OrderStatus::PartiallyFilled, 21, 1, "0.001", "60000", "0.001"), f.now);
  f.om.mark_unreconciled();
  const std::vector<ExchangeTrade> trades = {trade(21, 1, Side::Buy, "0.001", "60000"),  // already known
                                             trade(21, 2, Side::Buy, "0.001", "59990")};
  const ReconcileReport rep = f.om.reconcile({{}, trades}, f.now + kNanosPerSecond);
  CHECK(filled.status == OrderStatus::Filled);
  CHECK(filled.filled == qty("0.002"));
  CHECK(canceled.status == OrderStatus::Canceled);
  CHECK(rep.count(DiffKind::FillRecovered) == 1);  // trade 1 not counted twice
  CHECK(rep.count(DiffKind::ResolvedFilled) == 1);
  CHECK(rep.count(DiffKind::ResolvedCanceled) == 1);
  CHECK(f.book.position(sym("BTCUSDT")) == qty("0.002"));
  CHECK(f.om.live_orders() == 0);
}

TEST_CASE("reconcile: never-acked orders are rejected once old enough, young ones stay unresolved", "[oms]") {
  OmsFixture f;
  const Order& old_unknown = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_place_unknown(old_unknown.client_id, f.now);
  f.now += 5 * kNanosPerSecond;
  const Order& young_unknown = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_place_unknown(young_unknown.client_id, f.now);
  f.om.mark_unreconciled();
  ReconcileReport rep = f.om.reconcile({}, kT0 + 10 * kNanosPerSecond);
  CHECK(old_unknown.status == OrderStatus::Rejected);
  CHECK(young_unknown.status == OrderStatus::Unknown);
  CHECK(rep.count(DiffKind::ResolvedRejected) == 1);
  CHECK(rep.count(DiffKind::StillUnknown) == 1);
  CHECK_FALSE(rep.ready);
  CHECK_FALSE(f.om.ready_for_strategy());
  rep = f.om.reconcile({}, kT0 + 15 * kNanosPerSecond);
  CHECK(young_unknown.status == OrderStatus::Rejected);
  CHECK(rep.ready);
}

TEST_CASE("reconcile: an unknown order that filled and left the book is found through its trade", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Sell, "60000", "0.001");
  (void)f.om.on_place_unknown(o.client_id, f.now);
  // The venue's order query learned the exchange id; the trade list then completes it.
  ExchangeOrder eo = open_order(o, 31, OrderStatus::Filled, "0.001");
  CHECK(f.om.on_order_query(o.client_id, eo, f.now) == OrderStatus::Filled);
  const std::vector<ExchangeTrade> trades = {trade(31, 5, Side::Sell, "0.001", "60000")};
  const ReconcileReport rep = f.om.reconcile({{}, trades}, f.now);
  CHECK(rep.count(DiffKind::FillRecovered) == 1);
  CHECK(rep.count(DiffKind::QtyMismatch) == 0);
  CHECK(f.book.position(sym("BTCUSDT")) == qty("-0.001"));
}

TEST_CASE("reconcile: foreign open orders are adopted or flagged; foreign trades are reported", "[oms]") {
  ExchangeOrder foreign;
  foreign.symbol = sym("BTCUSDT");
  foreign.client_order_id = cid("web_abc123");
  foreign.order_id = 4242;
  foreign.side = Side::Sell;
  foreign.price = px("65000");
  foreign.qty = qty("0.01");
  foreign.status = OrderStatus::New;
  const std::vector<ExchangeOrder> open = {foreign};
  const std::vector<ExchangeTrade> trades = {trade(999, 77, Side::Buy, "0.5", "60000")};

  SECTION("adopt") {
    OmsFixture f;
    const ReconcileReport rep = f.om.reconcile({open, trades}, f.now);
    CHECK(rep.count(DiffKind::Adopted) == 1);
    CHECK(rep.count(DiffKind::UnmatchedTrade) == 1);
    const Order* o = f.om.find(cid("web_abc123"));
    REQUIRE(o != nullptr);
    CHECK(o->adopted);
    CHECK(o->status == OrderStatus::New);
    CHECK(f.om.exposure(sym("BTCUSDT")).open_sell_qty == qty("0.01"));
    CHECK(f.book.position(sym("BTCUSDT")) == Qty{});  // foreign trade not applied
    // Its later execution reports are tracked like ours.
    (void)f.om.on_execution_report(trade_report(*o, OrderStatus::Filled, 4242, 78, "0.01", "65000", "0.01"), f.now);
    CHECK(o->status == OrderStatus::Filled);
  }
  SECTION("flag") {
    OmsConfig c = test_config();
    c.adopt_foreign_orders = false;
    OmsFixture f(c);
    const ReconcileReport rep = f.om.reconcile({open, {}}, f.now);
    CHECK(rep.count(DiffKind::ForeignFlagged) == 1);
    CHECK(f.om.find(cid("web_abc123")) == nullptr);
    CHECK(rep.ready);
  }
}

TEST_CASE("reconcile: exchange executed qty beyond known trades is reported", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.003");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 41), f.now);
  const std::vector<ExchangeOrder> open = {open_order(o, 41, OrderStatus::PartiallyFilled, "0.002")};
  const ReconcileReport rep = f.om.reconcile({open, {}}, f.now);
  CHECK(rep.count(DiffKind::StatusCorrected) == 1);
  CHECK(rep.count(DiffKind::QtyMismatch) == 1);
  CHECK(o.missing_fills());
}

TEST_CASE("reconcile: a pending cancel whose order vanished is resolved canceled", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 51), f.now);
  (void)f.om.request_cancel(o.client_id, f.now);
  const ReconcileReport rep = f.om.reconcile({}, f.now);
  CHECK(o.status == OrderStatus::Canceled);
  CHECK(rep.count(DiffKind::ResolvedCanceled) == 1);
  CHECK(to_string(DiffKind::ResolvedCanceled) == "resolved_canceled");
}

TEST_CASE("reconcile: orders created after the snapshot was requested are left alone", "[oms]") {
  OmsFixture f;
  const Nanos asked = f.now;
  f.now += 200 * kNanosPerMilli;
  const Order& o = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 61), f.now);
  ReconcileInput in;
  in.as_of = asked;
  const ReconcileReport rep = f.om.reconcile(in, f.now + 300 * kNanosPerMilli);
  CHECK(o.status == OrderStatus::New);
  CHECK(rep.diffs.empty());
  CHECK(rep.ready);
}
