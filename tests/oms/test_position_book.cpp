#include <catch2/catch.hpp>

#include "tradingbot/oms/position_book.hpp"

using namespace tb;
using namespace tb::oms;

namespace {

Price px(const char* s) { return *Price::parse(s); }
Qty qty(const char* s) { return *Qty::parse(s); }
Money money(const char* s) { return *Money::parse(s); }
Symbol sym(const char* s) { return *Symbol::parse(s); }

std::int64_t raw(const char* s) {
  std::int64_t r = 0;
  REQUIRE(parse_fixed(s, r));
  return r;
}

Fill fill(Side side, const char* price, const char* q, const char* fee = "0", const char* asset = "USDT") {
  Fill f;
  f.symbol = sym("BTCUSDT");
  f.side = side;
  f.price = px(price);
  f.qty = qty(q);
  f.commission_raw = raw(fee);
  f.commission_asset = sym(asset);
  return f;
}

PositionBook make_book() {
  PositionBook b(sym("USDT"), money("10000"));
  REQUIRE(b.add_symbol(sym("BTCUSDT"), sym("BTC"), sym("USDT")));
  return b;
}

// equity = initial + realized + unrealized - all fees (the book's documented identity).
void check_identity(const PositionBook& b) {
  CHECK(b.equity() == b.initial_cash() + b.realized_pnl() + b.unrealized_pnl() - b.fees_quote() -
                          b.fees_base_value() - b.fees_other_value());
}

}  // namespace

TEST_CASE("buy, partial sell, flip through zero, close: average cost by hand", "[oms]") {
  PositionBook b = make_book();
  const Symbol btc = sym("BTCUSDT");
  // Buy 1 @ 100, fee 0.1 USDT.
  REQUIRE(b.on_fill(fill(Side::Buy, "100", "1", "0.1")) == FillStatus::Applied);
  const SymbolPosition* p = b.find(btc);
  REQUIRE(p != nullptr);
  CHECK(p->position == qty("1"));
  CHECK(p->avg_entry() == px("100"));
  CHECK(b.cash() == money("9899.9"));
  b.mark(btc, px("110"));
  CHECK(p->unrealized_pnl() == money("10"));
  CHECK(b.equity() == money("10009.9"));
  check_identity(b);

  // Sell 0.4 @ 120, fee 0.048 USDT: realized 0.4 * (120 - 100) = 8.
  b.on_fill(fill(Side::Sell, "120", "0.4", "0.048"));
  CHECK(p->position == qty("0.6"));
  CHECK(p->avg_entry() == px("100"));
  CHECK(p->realized_pnl == money("8"));
  CHECK(b.cash() == money("9947.852"));
  check_identity(b);

  // Sell 1 @ 90: closes 0.6 (realized -6) and opens a 0.4 short at 90.
  b.on_fill(fill(Side::Sell, "90", "1"));
  CHECK(p->position == qty("-0.4"));
  CHECK(p->cost == money("-36"));
  CHECK(p->avg_entry() == px("90"));
  CHECK(p->realized_pnl == money("2"));
  CHECK(b.cash() == money("10037.852"));
  b.mark(btc, px("80"));
  CHECK(p->unrealized_pnl() == money("4"));
  CHECK(b.equity() == money("10005.852"));
  check_identity(b);

  // Buy back 0.4 @ 85: realized (90 - 85) * 0.4 = 2.
  b.on_fill(fill(Side::Buy, "85", "0.4"));
  CHECK(p->position == Qty{});
  CHECK(p->cost == Money{});
  CHECK(p->realized_pnl == money("4"));
  CHECK(p->unrealized_pnl() == Money{});
  CHECK(b.fees_quote() == money("0.148"));
  CHECK(b.equity() == money("10003.852"));
  CHECK(p->trades == 4);
  CHECK(p->bought == qty("1.4"));
  CHECK(p->sold == qty("1.4"));
  check_identity(b);
}

TEST_CASE("average cost over several buys", "[oms]") {
  PositionBook b = make_book();
  b.on_fill(fill(Side::Buy, "100", "1"));
  b.on_fill(fill(Side::Buy, "110", "1"));
  const SymbolPosition* p = b.find(sym("BTCUSDT"));
  CHECK(p->avg_entry() == px("105"));
  b.on_fill(fill(Side::Sell, "120", "1"));
  CHECK(p->realized_pnl == money("15"));
  CHECK(p->avg_entry() == px("105"));
  // Thirds: the released cost truncates, the final close releases exactly what is left.
  PositionBook c = make_book();
  c.on_fill(fill(Side::Buy, "1", "0.00000003"));
  c.on_fill(fill(Side::Buy, "2", "0.00000001"));  // cost 5e-8 quote for 4e-8 BTC: 1.25 does not divide evenly
  c.on_fill(fill(Side::Sell, "1", "0.00000001"));
  c.on_fill(fill(Side::Sell, "1", "0.00000003"));
  CHECK(c.find(sym("BTCUSDT"))->position == Qty{});
  CHECK(c.find(sym("BTCUSDT"))->cost == Money{});
  check_identity(c);
}

TEST_CASE("fee in base: the base never arrives, valued at the fill price", "[oms]") {
  PositionBook b = make_book();
  b.on_fill(fill(Side::Buy, "100", "1", "0.001", "BTC"));
  const SymbolPosition* p = b.find(sym("BTCUSDT"));
  CHECK(p->position == qty("0.999"));
  CHECK(p->cost == money("99.9"));
  CHECK(p->avg_entry() == px("100"));
  CHECK(p->fees_base == qty("0.001"));
  CHECK(p->fees_base_value == money("0.1"));
  CHECK(b.cash() == money("9900"));
  b.mark(sym("BTCUSDT"), px("100"));
  CHECK(b.equity() == money("9999.9"));
  check_identity(b);
}

TEST_CASE("fee in a third asset (BNB) is tracked separately and valued when marked", "[oms]") {
  PositionBook b = make_book();
  b.on_fill(fill(Side::Buy, "100", "1", "0.0002", "BNB"));
  b.mark(sym("BTCUSDT"), px("100"));
  CHECK(b.fee_asset_amount(sym("BNB")) == raw("0.0002"));
  CHECK(b.fees_other_unvalued());
  CHECK(b.equity() == money("10000"));
  b.mark_asset(sym("BNB"), px("500"));
  CHECK_FALSE(b.fees_other_unvalued());
  CHECK(b.fees_other_value() == money("0.1"));
  CHECK(b.equity() == money("9999.9"));
  CHECK(b.fees_quote() == Money{});
  check_identity(b);
}

TEST_CASE("peak equity, drawdown and the snapshot", "[oms]") {
  PositionBook b = make_book();
  const Nanos t0 = 1'795'428'000LL * kNanosPerSecond;
  b.on_fill(fill(Side::Buy, "100", "10"));
  b.mark(sym("BTCUSDT"), px("120"));
  b.update_equity(t0);
  b.mark(sym("BTCUSDT"), px("90"));
  b.update_equity(t0 + 1);
  PortfolioSnapshot s;
  b.snapshot(t0 + 1, s);
  CHECK(s.equity == money("9900"));
  CHECK(s.peak_equity == money("10200"));
  CHECK(s.drawdown == money("300"));
  CHECK(s.drawdown_bps == 294);  // 300 / 10200 = 2.94%
  CHECK(s.unrealized_pnl == money("-100"));
  REQUIRE(s.positions.size() == 1);
  CHECK(s.positions[0].position == qty("10"));
  CHECK(s.quote == sym("USDT"));
}

TEST_CASE("fills for unregistered symbols or with bad values are refused", "[oms]") {
  PositionBook b = make_book();
  Fill f = fill(Side::Buy, "100", "1");
  f.symbol = sym("ETHUSDT");
  CHECK(b.on_fill(f) == FillStatus::UnknownSymbol);
  CHECK(b.on_fill(fill(Side::Buy, "100", "0")) == FillStatus::InvalidFill);
  CHECK_FALSE(b.add_symbol(sym("ETHBTC"), sym("ETH"), sym("BTC")));  // other quote currency
  CHECK(b.cash() == money("10000"));
}
