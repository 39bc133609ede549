// Shared test fixture: a RiskGate, PositionBook and OrderManager wired like the app does, with
// BTCUSDT registered, fresh market data and user stream, and an initial reconciliation done.
#pragma once

#include <catch2/catch.hpp>

#include "tradingbot/oms/order_manager.hpp"
#include "tradingbot/oms/position_book.hpp"
#include "tradingbot/risk/risk_gate.hpp"

namespace tb::test {

inline Price px(const char* s) { return *Price::parse(s); }
inline Qty qty(const char* s) { return *Qty::parse(s); }
inline Money money(const char* s) { return *Money::parse(s); }
inline Symbol sym(const char* s) { return *Symbol::parse(s); }
inline oms::ClientOrderId cid(const char* s) { return *oms::ClientOrderId::parse(s); }

inline constexpr Nanos kT0 = 1'795'428'000LL * kNanosPerSecond;

inline risk::RiskParams loose_params() {
  risk::RiskParams p;
  p.max_order_notional = Money::from_integer(1'000'000);
  p.max_position_notional = Money{};
  p.order_rate_limit = 0;
  p.cancel_rate_limit = 0;
  p.daily_loss_limit = Money{};
  p.max_drawdown_bps = 0;
  p.strategy_reject_limit = 0;
  p.max_open_orders_per_symbol = 200;
  return p;
}

inline risk::SymbolRules btc_rules() {
  risk::SymbolRules r;
  r.symbol = sym("BTCUSDT");
  r.tick_size = px("0.01");
  r.step_size = qty("0.00001");
  r.min_notional = money("5");
  return r;
}

inline oms::OmsConfig test_config() {
  oms::OmsConfig c;
  c.run_prefix = "tbTEST";
  c.max_orders = 64;
  c.recent_trade_ids = 256;
  return c;
}

struct OmsFixture {
  risk::RiskGate gate;
  oms::PositionBook book;
  oms::OrderManager om;
  Nanos now = kT0;

  explicit OmsFixture(const oms::OmsConfig& config = test_config(), const risk::RiskParams& params = loose_params(),
                      bool reconcile = true)
      : gate(params), book(sym("USDT"), money("100000")), om(config, gate, book) {
    REQUIRE(gate.set_symbol_rules(btc_rules()));
    REQUIRE(book.add_symbol(sym("BTCUSDT"), sym("BTC"), sym("USDT")));
    REQUIRE(om.add_symbol(sym("BTCUSDT")));
    gate.on_user_stream(now);
    om.on_mid(sym("BTCUSDT"), px("60000"), now);
    if (reconcile) (void)om.reconcile(oms::ReconcileInput{}, now);
  }

  const oms::Order& submit(Side side, const char* price, const char* q, OrderType type = OrderType::Limit,
                           TimeInForce tif = TimeInForce::Gtc) {
    OrderIntent in;
    in.symbol = sym("BTCUSDT");
    in.side = side;
    in.type = type;
    in.tif = tif;
    in.price = px(price);
    in.qty = qty(q);
    const oms::SubmitResult r = om.submit(in, now);
    REQUIRE(r.reason == risk::RejectReason::Accepted);
    REQUIRE(r.order != nullptr);
    return *r.order;
  }
};

// An executionReport for `o` as the decoder would fill it.
inline oms::ExecutionReport report(const oms::Order& o, oms::ExecType x, oms::OrderStatus status, std::int64_t order_id,
                                   const char* cum = "0") {
  oms::ExecutionReport r;
  r.symbol = o.symbol;
  r.client_order_id = o.client_id;
  r.order_id = order_id;
  r.side = o.side;
  r.type = o.type;
  r.tif = o.tif;
  r.price = o.price;
  r.qty = o.qty;
  r.exec_type = x;
  r.status = status;
  r.cum_qty = qty(cum);
  return r;
}

inline oms::ExecutionReport trade_report(const oms::Order& o, oms::OrderStatus status, std::int64_t order_id,
                                         std::int64_t trade_id, const char* last_qty, const char* last_price,
                                         const char* cum, const char* fee = "0", const char* fee_asset = "USDT") {
  oms::ExecutionReport r = report(o, oms::ExecType::Trade, status, order_id, cum);
  r.trade_id = trade_id;
  r.last_qty = qty(last_qty);
  r.last_price = px(last_price);
  std::int64_t fee_raw = 0;
  REQUIRE(parse_fixed(fee, fee_raw));
  r.commission_raw = fee_raw;
  r.commission_asset = sym(fee_asset);
  return r;
}

}  // namespace tb::test
