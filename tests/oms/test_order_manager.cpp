#include <catch2/catch.hpp>

#include <set>
#include <stdexcept>
#include <utility>

#include "oms_fixture.hpp"

using namespace tb;
using namespace tb::oms;
using namespace tb::test;
using risk::RejectReason;

namespace {

// ^[\.A-Z\:/a-z0-9_-]{1,36}$ written out by hand (std::regex trips -Wmaybe-uninitialized in
// libstdc++ 12 under the sanitizer build).
bool matches_binance_pattern(std::string_view id) {
  if (id.empty() || id.size() > 36) return false;
  for (char c : id) {
    if (std::string_view(".:/_-").find(c) != std::string_view::npos) continue;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("client order ids are deterministic, unique and match Binance's pattern", "[oms]") {
  OmsFixture f;
  const Order& a = f.submit(Side::Buy, "60000", "0.001");
  const Order& b = f.submit(Side::Sell, "60010", "0.001");
  CHECK(a.client_id.view() == "tbTEST-1");
  CHECK(b.client_id.view() == "tbTEST-2");
  CHECK(matches_binance_pattern(a.client_id.view()));
  // Longest possible id still fits.
  OmsConfig c = test_config();
  c.run_prefix = std::string(15, 'x');
  OmsFixture g(c);
  const Order& o = g.submit(Side::Buy, "60000", "0.001");
  CHECK(o.client_id.size() <= 36);
  CHECK(matches_binance_pattern(o.client_id.view()));

  const ClientOrderId longest = ClientOrderId::numbered(cid("abcdefghijklmno"), UINT64_MAX);
  CHECK(longest.view() == "abcdefghijklmno-18446744073709551615");
  CHECK(longest.size() == 36);
  CHECK(longest == cid("abcdefghijklmno-18446744073709551615"));
  CHECK(longest.hash() == cid("abcdefghijklmno-18446744073709551615").hash());

  CHECK(make_run_prefix(kT0) == make_run_prefix(kT0));
  CHECK(make_run_prefix(kT0) != make_run_prefix(kT0 + kNanosPerSecond));
  CHECK(ClientOrderId::is_valid(make_run_prefix(kT0)));
  CHECK_FALSE(ClientOrderId::is_valid("has space"));
  CHECK_FALSE(ClientOrderId::is_valid(std::string(37, 'a')));
  CHECK_FALSE(ClientOrderId::is_valid(""));
  CHECK(ClientOrderId::is_valid("web_.:/-AZaz09"));
  c.run_prefix = "bad prefix";
  risk::RiskGate gate{loose_params()};
  PositionBook book(sym("USDT"), Money{});
  CHECK_THROWS_AS(OrderManager(c, gate, book), std::invalid_argument);
  c.run_prefix = std::string(16, 'x');  // would not leave room for every 64-bit sequence number
  CHECK_THROWS_AS(OrderManager(c, gate, book), std::invalid_argument);
}

TEST_CASE("order lifecycle: PENDING_NEW -> NEW -> PARTIALLY_FILLED -> FILLED", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.002");
  CHECK(o.status == OrderStatus::PendingNew);
  CHECK(f.om.exposure(sym("BTCUSDT")).open_buy_qty == qty("0.002"));
  CHECK(f.om.exposure(sym("BTCUSDT")).open_orders == 1);

  auto r = f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 777), f.now);
  CHECK(r.status == ReportStatus::Applied);
  CHECK(o.status == OrderStatus::New);
  CHECK(o.exchange_id == 777);
  CHECK(f.om.find_by_exchange_id(sym("BTCUSDT"), 777) == &o);

  r = f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 777, 5001, "0.0005", "60000", "0.0005"), f.now);
  CHECK(r.fill_applied);
  CHECK(o.status == OrderStatus::PartiallyFilled);
  CHECK(o.filled == qty("0.0005"));
  CHECK(f.book.position(sym("BTCUSDT")) == qty("0.0005"));
  CHECK(f.om.exposure(sym("BTCUSDT")).open_buy_qty == qty("0.0015"));

  r = f.om.on_execution_report(trade_report(o, OrderStatus::Filled, 777, 5002, "0.0015", "59990", "0.002"), f.now);
  CHECK(r.status == ReportStatus::Applied);
  CHECK(o.status == OrderStatus::Filled);
  CHECK(o.filled_quote == money("119.985"));
  CHECK(f.book.position(sym("BTCUSDT")) == qty("0.002"));
  CHECK(f.om.live_orders() == 0);
  CHECK(f.om.exposure(sym("BTCUSDT")).open_buy_qty == Qty{});
  CHECK(f.om.exposure(sym("BTCUSDT")).open_orders == 0);
  CHECK(f.om.counters().fills == 2);
  CHECK(f.om.counters().illegal_transitions == 0);
}

TEST_CASE("a duplicate trade report does not double-count", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.002");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 1), f.now);
  const auto t = trade_report(o, OrderStatus::PartiallyFilled, 1, 42, "0.001", "60000", "0.001", "0.06");
  CHECK(f.om.on_execution_report(t, f.now).fill_applied);
  const auto again = f.om.on_execution_report(t, f.now);
  CHECK_FALSE(again.fill_applied);
  CHECK(again.duplicate_fill);
  CHECK(again.status == ReportStatus::Duplicate);
  CHECK(o.filled == qty("0.001"));
  CHECK(f.book.position(sym("BTCUSDT")) == qty("0.001"));
  CHECK(f.book.fees_quote() == money("0.06"));
  CHECK(f.om.counters().duplicate_fills == 1);
  // A duplicate NEW report is harmless too.
  CHECK(f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 1), f.now).status == ReportStatus::Stale);
  CHECK(f.om.counters().illegal_transitions == 0);
}

TEST_CASE("a TRADE report arriving before the NEW ack is applied; the late ack is stale", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Sell, "60000", "0.002");
  auto r = f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 9, 100, "0.001", "60000", "0.001"), f.now);
  CHECK(r.status == ReportStatus::Applied);
  CHECK(o.status == OrderStatus::PartiallyFilled);
  CHECK(o.exchange_id == 9);
  r = f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 9), f.now);
  CHECK(r.status == ReportStatus::Stale);
  CHECK(o.status == OrderStatus::PartiallyFilled);
  CHECK(f.om.counters().stale_reports == 1);
  CHECK(f.om.counters().illegal_transitions == 0);
  CHECK(f.book.position(sym("BTCUSDT")) == qty("-0.001"));
}

TEST_CASE("trades out of order: the gap is flagged, then closed by the late trade", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.003");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 5), f.now);
  // Second trade (z = 0.002) arrives first: z exceeds the fills known here.
  auto r = f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 5, 12, "0.001", "60000", "0.002"), f.now);
  CHECK(r.qty_mismatch);
  CHECK(o.missing_fills());
  r = f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 5, 11, "0.001", "60000", "0.001"), f.now);
  CHECK(r.fill_applied);
  CHECK(r.status == ReportStatus::Applied);
  CHECK_FALSE(r.qty_mismatch);
  CHECK_FALSE(o.missing_fills());
  CHECK(o.filled == qty("0.002"));
  CHECK(o.status == OrderStatus::PartiallyFilled);
  CHECK(f.om.counters().qty_mismatches == 1);
}

TEST_CASE("a lost trade report leaves a terminal order needing a query", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.002");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 5), f.now);
  auto r = f.om.on_execution_report(trade_report(o, OrderStatus::Filled, 5, 2, "0.001", "60000", "0.002"), f.now);
  CHECK(r.qty_mismatch);
  CHECK(o.status == OrderStatus::Filled);
  int listed = 0;
  f.om.for_each_needing_query([&](const Order& q) { listed += (&q == &o); });
  CHECK(listed == 1);
}

TEST_CASE("illegal transitions are refused and counted, never applied", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::Filled, 3, 1, "0.001", "60000", "0.001"), f.now);
  REQUIRE(o.status == OrderStatus::Filled);
  // A NEW whose z (0) is below the known fill is an old report arriving late: refused as stale.
  auto r = f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 3, "0"), f.now);
  CHECK(r.status == ReportStatus::Stale);
  CHECK(o.status == OrderStatus::Filled);
  CHECK(f.om.counters().stale_reports == 1);
  // One that claims NEW at the filled quantity contradicts FILLED: refused as illegal.
  r = f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 3, "0.001"), f.now);
  CHECK(r.status == ReportStatus::IllegalTransition);
  CHECK(o.status == OrderStatus::Filled);
  CHECK(f.om.illegal_count(OrderStatus::Filled, OrderStatus::New) == 1);
  r = f.om.on_execution_report(report(o, ExecType::Canceled, OrderStatus::Canceled, 3, "0.001"), f.now);
  CHECK(r.status == ReportStatus::IllegalTransition);
  CHECK(o.status == OrderStatus::Filled);
  CHECK(f.om.counters().illegal_transitions == 2);
  const auto log = f.om.recent_illegal_transitions();
  REQUIRE(log.size() == 2);
  CHECK(log[0].from == OrderStatus::Filled);
  CHECK(log[0].to == OrderStatus::New);
  CHECK(log[1].to == OrderStatus::Canceled);
  CHECK(log[0].client_id == o.client_id);
  // New -> Rejected is not a thing either (rejection happens at placement).
  const Order& p = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_execution_report(report(p, ExecType::New, OrderStatus::New, 4), f.now);
  CHECK_FALSE(f.om.on_place_rejected(p.client_id, -2010, f.now));
  CHECK(p.status == OrderStatus::New);
  CHECK(f.om.illegal_count(OrderStatus::New, OrderStatus::Rejected) == 1);
}

TEST_CASE("every terminal status refuses every exchange status", "[oms]") {
  const std::pair<ExecType, OrderStatus> terminal[] = {{ExecType::Trade, OrderStatus::Filled},
                                                       {ExecType::Canceled, OrderStatus::Canceled},
                                                       {ExecType::Rejected, OrderStatus::Rejected},
                                                       {ExecType::Expired, OrderStatus::Expired},
                                                       {ExecType::TradePrevention, OrderStatus::ExpiredInMatch}};
  const OrderStatus targets[] = {OrderStatus::New, OrderStatus::PartiallyFilled, OrderStatus::Filled,
                                 OrderStatus::Canceled, OrderStatus::Rejected, OrderStatus::Expired,
                                 OrderStatus::ExpiredInMatch};
  for (const auto& [x, status] : terminal) {
    OmsFixture f;
    const Order& o = f.submit(Side::Buy, "60000", "0.001");
    if (status == OrderStatus::Filled) {
      (void)f.om.on_execution_report(trade_report(o, status, 1, 1, "0.001", "60000", "0.001"), f.now);
    } else {
      (void)f.om.on_execution_report(report(o, x, status, 1), f.now);
    }
    REQUIRE(o.status == status);
    std::uint64_t expected = 0;
    for (OrderStatus to : targets) {
      INFO(to_string(status) << " -> " << to_string(to));
      const auto r = f.om.on_execution_report(report(o, ExecType::New, to, 1, status == OrderStatus::Filled ? "0.001" : "0"), f.now);
      if (to == status) {
        CHECK(r.status == ReportStatus::Duplicate);
      } else {
        ++expected;
        CHECK(r.status == ReportStatus::IllegalTransition);
        CHECK(f.om.illegal_count(status, to) == 1);
      }
      CHECK(o.status == status);
    }
    CHECK(f.om.counters().illegal_transitions == expected);
    CHECK(f.om.request_cancel(o.client_id, f.now) == CancelResult::NotCancelable);
  }
}

TEST_CASE("IOC remainder expires; STP expires in match", "[oms]") {
  OmsFixture f;
  const Order& ioc = f.submit(Side::Buy, "60000", "0.002", OrderType::Limit, TimeInForce::Ioc);
  CHECK(ioc.tif == TimeInForce::Ioc);
  (void)f.om.on_execution_report(trade_report(ioc, OrderStatus::PartiallyFilled, 1, 1, "0.001", "60000", "0.001"), f.now);
  (void)f.om.on_execution_report(report(ioc, ExecType::Expired, OrderStatus::Expired, 1, "0.001"), f.now);
  CHECK(ioc.status == OrderStatus::Expired);
  const Order& stp = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_execution_report(report(stp, ExecType::New, OrderStatus::New, 2), f.now);
  (void)f.om.on_execution_report(report(stp, ExecType::TradePrevention, OrderStatus::ExpiredInMatch, 2), f.now);
  CHECK(stp.status == OrderStatus::ExpiredInMatch);
  CHECK(f.om.live_orders() == 0);
  CHECK(f.om.counters().illegal_transitions == 0);
}

TEST_CASE("a definite place error rejects the order and frees its exposure", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.001");
  CHECK(f.om.on_place_rejected(o.client_id, -2010, f.now));
  CHECK(o.status == OrderStatus::Rejected);
  CHECK(o.reject_code == -2010);
  CHECK(f.om.exposure(sym("BTCUSDT")).open_orders == 0);
}

TEST_CASE("unknown outcome is never treated as failed; an execution report resolves it", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.001");
  CHECK(f.om.on_place_unknown(o.client_id, f.now));
  CHECK(o.status == OrderStatus::Unknown);
  CHECK(o.live());
  CHECK(o.needs_query);
  CHECK(f.om.exposure(sym("BTCUSDT")).open_buy_qty == qty("0.001"));  // still counts against limits
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 50), f.now);
  CHECK(o.status == OrderStatus::New);
  CHECK_FALSE(o.needs_query);
  CHECK(f.om.counters().unknown_outcomes == 1);
  CHECK(f.om.counters().unknown_resolved == 1);
}

TEST_CASE("unknown outcome resolved by an order query: found, or not found after the grace period", "[oms]") {
  OmsFixture f;
  SECTION("found: it exists and has filled") {
    const Order& o = f.submit(Side::Buy, "60000", "0.001");
    (void)f.om.on_place_unknown(o.client_id, f.now);
    ExchangeOrder eo;
    eo.symbol = o.symbol;
    eo.client_order_id = o.client_id;
    eo.order_id = 88;
    eo.qty = o.qty;
    eo.executed_qty = qty("0.001");
    eo.status = OrderStatus::Filled;
    CHECK(f.om.on_order_query(o.client_id, eo, f.now) == OrderStatus::Filled);
    CHECK(o.exchange_id == 88);
    CHECK(o.missing_fills());  // the fills themselves come from myTrades / the stream
    (void)f.om.on_execution_report(trade_report(o, OrderStatus::Filled, 88, 7, "0.001", "60000", "0.001"), f.now);
    CHECK_FALSE(o.missing_fills());
    CHECK(f.book.position(sym("BTCUSDT")) == qty("0.001"));
  }
  SECTION("not found: kept unknown until it can no longer reach the engine, then rejected") {
    const Order& o = f.submit(Side::Buy, "60000", "0.001");
    (void)f.om.on_place_unknown(o.client_id, f.now);
    CHECK(f.om.on_order_query(o.client_id, std::nullopt, f.now + kNanosPerSecond) == OrderStatus::Unknown);
    CHECK(o.needs_query);
    CHECK(f.om.on_order_query(o.client_id, std::nullopt, f.now + 10 * kNanosPerSecond) == OrderStatus::Rejected);
    CHECK(o.reject_code == -2013);
    CHECK_FALSE(o.needs_query);
    CHECK(f.om.live_orders() == 0);
  }
}

TEST_CASE("cancel: PENDING_CANCEL while in flight, fills still count, CANCELED by orig client id", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.003");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 70), f.now);
  CHECK(f.om.request_cancel(o.client_id, f.now) == CancelResult::Requested);
  CHECK(o.status == OrderStatus::PendingCancel);
  CHECK(f.om.request_cancel(o.client_id, f.now) == CancelResult::AlreadyPending);
  // A fill races the cancel.
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 70, 1, "0.001", "60000", "0.001"), f.now);
  CHECK(o.status == OrderStatus::PendingCancel);
  CHECK(o.before_cancel == OrderStatus::PartiallyFilled);
  CHECK(f.om.exposure(sym("BTCUSDT")).open_buy_qty == qty("0.002"));
  ExecutionReport c = report(o, ExecType::Canceled, OrderStatus::Canceled, 70, "0.001");
  c.client_order_id = cid("cancel-1");
  c.orig_client_order_id = o.client_id;
  CHECK(f.om.on_execution_report(c, f.now).status == ReportStatus::Applied);
  CHECK(o.status == OrderStatus::Canceled);
  CHECK(f.om.exposure(sym("BTCUSDT")).open_orders == 0);
  CHECK(f.om.counters().illegal_transitions == 0);
  CHECK(f.om.request_cancel(cid("nope"), f.now) == CancelResult::NotFound);
}

TEST_CASE("a rejected cancel restores the previous status; unknown-order rejections ask for a query", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.002");
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 70, 1, "0.001", "60000", "0.001"), f.now);
  CHECK(f.om.request_cancel(o.client_id, f.now) == CancelResult::Requested);
  CHECK(f.om.on_cancel_rejected(o.client_id, -2011, f.now));
  CHECK(o.status == OrderStatus::PartiallyFilled);
  CHECK(o.needs_query);
  CHECK(f.om.counters().cancels_rejected == 1);
  // Cancel outcome unknown: stays pending, query requested.
  const Order& p = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_execution_report(report(p, ExecType::New, OrderStatus::New, 71), f.now);
  CHECK(f.om.request_cancel(p.client_id, f.now) == CancelResult::Requested);
  CHECK(f.om.on_cancel_unknown(p.client_id, f.now));
  CHECK(p.status == OrderStatus::PendingCancel);
  CHECK(p.needs_query);
  // The query shows the order still open: the cancel is no longer in flight.
  ExchangeOrder eo;
  eo.symbol = p.symbol;
  eo.client_order_id = p.client_id;
  eo.order_id = 71;
  eo.qty = p.qty;
  eo.status = OrderStatus::New;
  CHECK(f.om.on_order_query(p.client_id, eo, f.now) == OrderStatus::New);
}

TEST_CASE("cancel races a fill: CANCELED first, then the late TRADE; the fill is never lost", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.002");
  (void)f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 70), f.now);
  (void)f.om.request_cancel(o.client_id, f.now);
  // The REST cancel response (converted by the venue) already includes the fill in z.
  (void)f.om.on_execution_report(report(o, ExecType::Canceled, OrderStatus::Canceled, 70, "0.001"), f.now);
  CHECK(o.status == OrderStatus::Canceled);
  CHECK(o.missing_fills());
  const auto r = f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 70, 9, "0.001", "60000", "0.001"), f.now);
  CHECK(r.fill_applied);
  CHECK(r.status == ReportStatus::IllegalTransition);  // the status part is refused and reported
  CHECK(o.status == OrderStatus::Canceled);
  CHECK_FALSE(o.missing_fills());
  CHECK(f.book.position(sym("BTCUSDT")) == qty("0.001"));
}

TEST_CASE("cancel-all marks every live order; cancel rate limit applies to single cancels", "[oms]") {
  risk::RiskParams p = loose_params();
  p.cancel_rate_limit = 1;
  OmsFixture f(test_config(), p);
  const Order& a = f.submit(Side::Buy, "60000", "0.001");
  const Order& b = f.submit(Side::Sell, "60100", "0.001");
  const Order& c = f.submit(Side::Sell, "60200", "0.001");
  (void)f.om.on_execution_report(report(a, ExecType::New, OrderStatus::New, 1), f.now);
  CHECK(f.om.request_cancel(a.client_id, f.now) == CancelResult::Requested);
  CHECK(f.om.request_cancel(b.client_id, f.now) == CancelResult::RateLimited);
  CHECK(b.status == OrderStatus::PendingNew);
  CHECK(f.om.request_cancel_all(Symbol{}, f.now) == 2);
  CHECK(b.status == OrderStatus::PendingCancel);
  CHECK(c.status == OrderStatus::PendingCancel);
  // b's place request then fails: it never existed.
  CHECK(f.om.on_place_rejected(b.client_id, -2010, f.now));
  CHECK(b.status == OrderStatus::Rejected);
  CHECK(f.om.counters().illegal_transitions == 0);
}

TEST_CASE("strategy waits for reconciliation; pool exhaustion is a counted rejection", "[oms]") {
  oms::OmsConfig c = test_config();
  c.max_orders = 2;
  OmsFixture f(c, loose_params(), /*reconcile=*/false);
  OrderIntent in;
  in.symbol = sym("BTCUSDT");
  in.price = px("60000");
  in.qty = qty("0.001");
  CHECK_FALSE(f.om.ready_for_strategy());
  CHECK(f.om.submit(in, f.now).reason == RejectReason::NotReady);
  CHECK(f.gate.rejects(RejectReason::NotReady) == 1);
  CHECK(f.om.reconcile(ReconcileInput{}, f.now).ready);
  CHECK(f.om.ready_for_strategy());
  const auto a = f.om.submit(in, f.now);
  const auto b = f.om.submit(in, f.now);
  REQUIRE(a.accepted());
  REQUIRE(b.accepted());
  CHECK(f.om.submit(in, f.now).reason == RejectReason::PoolFull);
  CHECK(f.gate.rejects(RejectReason::PoolFull) == 1);
  // A terminal order's slot is recycled.
  const ClientOrderId a_id = a.order->client_id;
  (void)f.om.on_place_rejected(a_id, -2010, f.now);
  const auto d = f.om.submit(in, f.now);
  REQUIRE(d.accepted());
  CHECK(f.om.find(a_id) == nullptr);
  CHECK(f.om.counters().retired == 1);
  CHECK(f.om.on_execution_report(ExecutionReport{}, f.now).status == ReportStatus::UnknownOrder);
  f.om.mark_unreconciled();
  CHECK_FALSE(f.om.ready_for_strategy());
  // Unknown symbol for the order manager.
  in.symbol = sym("ETHUSDT");
  (void)f.om.reconcile(ReconcileInput{}, f.now);
  CHECK(f.om.submit(in, f.now).reason == RejectReason::UnknownSymbol);
}

TEST_CASE("risk limits see live orders through the order manager's exposure", "[oms]") {
  risk::RiskParams p = loose_params();
  p.max_open_orders_per_symbol = 2;
  OmsFixture f(test_config(), p);
  (void)f.submit(Side::Buy, "60000", "0.001");
  (void)f.submit(Side::Buy, "60000", "0.001");
  OrderIntent in;
  in.symbol = sym("BTCUSDT");
  in.price = px("60000");
  in.qty = qty("0.001");
  CHECK(f.om.submit(in, f.now).reason == RejectReason::MaxOpenOrders);
  CHECK(f.gate.rejects(RejectReason::MaxOpenOrders) == 1);
}

TEST_CASE("MARKET orders carry no price and rest with GTC semantics ignored", "[oms]") {
  OmsFixture f;
  const Order& m = f.submit(Side::Sell, "0", "0.001", OrderType::Market, TimeInForce::Fok);
  CHECK(m.price == Price{});
  CHECK(m.tif == TimeInForce::Gtc);
  const Order& lm = f.submit(Side::Buy, "59990", "0.001", OrderType::LimitMaker);
  (void)f.om.on_execution_report(report(lm, ExecType::Rejected, OrderStatus::Rejected, -1), f.now);
  CHECK(lm.status == OrderStatus::Rejected);
}

TEST_CASE("the pool of trade ids forgets the oldest ones without allocating", "[oms]") {
  oms::OmsConfig c = test_config();
  c.recent_trade_ids = 4;
  OmsFixture f(c);
  const Order& o = f.submit(Side::Buy, "60000", "1");
  for (std::int64_t t = 1; t <= 6; ++t) {
    char cum[16];
    std::snprintf(cum, sizeof cum, "0.0%lld", static_cast<long long>(t));
    CHECK(f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 1, t, "0.01", "60000", cum), f.now).fill_applied);
  }
  // The last four (3..6) are remembered; 1 and 2 were forgotten to bound memory.
  CHECK(f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 1, 6, "0.01", "60000", "0.06"), f.now).duplicate_fill);
  CHECK(f.om.on_execution_report(trade_report(o, OrderStatus::PartiallyFilled, 1, 3, "0.01", "60000", "0.06"), f.now).duplicate_fill);
}

TEST_CASE("an immediate fill reported before its NEW ack: the late ack is stale, not illegal", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60010", "0.001");
  (void)f.om.on_execution_report(trade_report(o, OrderStatus::Filled, 8, 1, "0.001", "60000", "0.001"), f.now);
  CHECK(o.status == OrderStatus::Filled);
  const auto r = f.om.on_execution_report(report(o, ExecType::New, OrderStatus::New, 8, "0"), f.now);
  CHECK(r.status == ReportStatus::Stale);
  CHECK(o.status == OrderStatus::Filled);
  CHECK(f.om.counters().illegal_transitions == 0);
  CHECK(f.om.counters().stale_reports == 1);
}

TEST_CASE("an order marked by cancel-all before its ack may still be rejected by the exchange", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.001", OrderType::LimitMaker);
  CHECK(f.om.request_cancel_all(sym("BTCUSDT"), f.now) == 1);
  const auto r = f.om.on_execution_report(report(o, ExecType::Rejected, OrderStatus::Rejected, -1), f.now);
  CHECK(r.status == ReportStatus::Applied);
  CHECK(o.status == OrderStatus::Rejected);
  CHECK(f.om.counters().illegal_transitions == 0);
}

TEST_CASE("canceling an order whose outcome is unknown: success proves it existed, rejection keeps it unknown", "[oms]") {
  OmsFixture f;
  const Order& a = f.submit(Side::Buy, "60000", "0.001");
  const Order& b = f.submit(Side::Buy, "60000", "0.001");
  (void)f.om.on_place_unknown(a.client_id, f.now);
  (void)f.om.on_place_unknown(b.client_id, f.now);
  CHECK(f.om.request_cancel(a.client_id, f.now) == CancelResult::Requested);
  CHECK(f.om.request_cancel(b.client_id, f.now) == CancelResult::Requested);
  ExecutionReport c = report(a, ExecType::Canceled, OrderStatus::Canceled, 90);
  c.client_order_id = cid("cxl-a");
  c.orig_client_order_id = a.client_id;
  (void)f.om.on_execution_report(c, f.now);
  CHECK(a.status == OrderStatus::Canceled);
  CHECK(a.exchange_id == 90);
  CHECK(f.om.on_cancel_rejected(b.client_id, -2011, f.now));
  CHECK(b.status == OrderStatus::Unknown);
  CHECK(b.needs_query);
  CHECK(f.om.counters().illegal_transitions == 0);
  // Reconciliation cannot finish while b is unknown.
  CHECK_FALSE(f.om.reconcile(ReconcileInput{}, f.now).ready);
}

TEST_CASE("a place outcome that turns unknown after cancel-all marked the order", "[oms]") {
  OmsFixture f;
  const Order& o = f.submit(Side::Buy, "60000", "0.001");
  CHECK(f.om.request_cancel_all(Symbol{}, f.now) == 1);
  CHECK(f.om.on_place_unknown(o.client_id, f.now));
  CHECK(o.status == OrderStatus::PendingCancel);
  CHECK(o.before_cancel == OrderStatus::Unknown);
  CHECK(o.needs_query);
  // The query says it never reached the engine.
  CHECK(f.om.on_order_query(o.client_id, std::nullopt, f.now + 11 * kNanosPerSecond) == OrderStatus::Canceled);
  CHECK(f.om.live_orders() == 0);
}
