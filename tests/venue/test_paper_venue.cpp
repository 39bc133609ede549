#include <catch2/catch.hpp>

#include <vector>

#include "tradingbot/venue/paper_venue.hpp"

using namespace tb;

namespace {
Price px(const char* s) { return *Price::parse(s); }
Qty qty(const char* s) { return *Qty::parse(s); }
Symbol sym(const char* s) { return *Symbol::parse(s); }
oms::ClientOrderId cid(const char* s) { return *oms::ClientOrderId::parse(s); }
constexpr Nanos kT0 = 1'795'428'000LL * kNanosPerSecond;
constexpr Nanos kMs = kNanosPerMilli;

struct Recorder final : venue::VenueListener {
  std::vector<oms::ExecutionReport> reports;
  std::vector<std::pair<std::string, std::int32_t>> place_rejects;
  std::vector<std::pair<std::string, std::int32_t>> cancel_rejects;
  std::vector<Nanos> times;
  void on_execution_report(const oms::ExecutionReport& r, Nanos now) override {
    reports.push_back(r);
    times.push_back(now);
  }
  void on_place_rejected(const oms::ClientOrderId& id, std::int32_t code, Nanos) override {
    place_rejects.emplace_back(std::string(id.view()), code);
  }
  void on_place_unknown(const oms::ClientOrderId&, Nanos) override {}
  void on_cancel_rejected(const oms::ClientOrderId& id, std::int32_t code, Nanos) override {
    cancel_rejects.emplace_back(std::string(id.view()), code);
  }
  void on_cancel_unknown(const oms::ClientOrderId&, Nanos) override {}
  void on_user_stream_alive(Nanos) override {}
  void on_user_stream_lost(Nanos) override {}
  void on_order_applied(const venue::AppliedChange&, Nanos) override { FAIL("the paper venue never self-applies"); }
  [[nodiscard]] Qty filled() const {
    Qty q;
    for (const auto& r : reports) {
      if (r.exec_type == oms::ExecType::Trade) q += r.last_qty;
    }
    return q;
  }
};

oms::Order order(const char* id, Side side, OrderType type, const char* price, const char* q,
                 TimeInForce tif = TimeInForce::Gtc) {
  oms::Order o;
  o.client_id = cid(id);
  o.symbol = sym("BTCUSDT");
  o.side = side;
  o.type = type;
  o.tif = tif;
  o.price = type == OrderType::Market ? Price{} : px(price);
  o.qty = qty(q);
  return o;
}

// Bids 60000 x 5, 59999 x 2; asks 60001 x 1, 60002 x 3.
void load(book::L2Book& b) {
  b.clear();
  b.set_level(book::BookSide::Bid, px("60000"), qty("5"));
  b.set_level(book::BookSide::Bid, px("59999"), qty("2"));
  b.set_level(book::BookSide::Ask, px("60001"), qty("1"));
  b.set_level(book::BookSide::Ask, px("60002"), qty("3"));
}

struct Fixture {
  venue::PaperVenueConfig cfg;
  Recorder rec;
  book::L2Book book{64};
  std::unique_ptr<venue::PaperVenue> v;
  explicit Fixture(Nanos latency = 0) {
    cfg.latency = latency;
    cfg.fee_bps = 10;
    v = std::make_unique<venue::PaperVenue>(cfg);
    v->set_listener(&rec);
    load(book);
    v->on_book_update(sym("BTCUSDT"), book, kT0);
  }
};
}  // namespace

TEST_CASE("an order behind 5 BTC at its level fills only after 5 BTC traded there", "[venue][paper]") {
  Fixture f;
  f.v->place(order("q1", Side::Buy, OrderType::Limit, "60000", "1"), kT0);
  f.v->poll(kT0);
  REQUIRE(f.rec.reports.size() == 1);
  CHECK(f.rec.reports[0].exec_type == oms::ExecType::New);
  REQUIRE(f.v->queue_ahead(cid("q1")) == qty("5"));

  // Sells at 60000 (buyer is maker): 2 + 2.5 consume the queue ahead only.
  f.v->on_trade(sym("BTCUSDT"), px("60000"), qty("2"), true, true, kT0 + 1);
  f.v->on_trade(sym("BTCUSDT"), px("60000"), qty("2.5"), true, true, kT0 + 2);
  f.v->poll(kT0 + 2);
  CHECK(f.rec.filled().is_zero());
  CHECK(f.v->queue_ahead(cid("q1")) == qty("0.5"));
  // Trades at other prices or on the other side do nothing to it.
  f.v->on_trade(sym("BTCUSDT"), px("60001"), qty("9"), true, true, kT0 + 3);
  f.v->on_trade(sym("BTCUSDT"), px("60000"), qty("9"), false, true, kT0 + 3);
  f.v->poll(kT0 + 3);
  CHECK(f.rec.filled().is_zero());
  // 0.8 more: 0.5 clears the queue, 0.3 fills us (maker, at our price, fee 10 bps).
  f.v->on_trade(sym("BTCUSDT"), px("60000"), qty("0.8"), true, true, kT0 + 4);
  f.v->poll(kT0 + 4);
  REQUIRE(f.rec.reports.size() == 2);
  const auto& fill = f.rec.reports[1];
  CHECK(fill.exec_type == oms::ExecType::Trade);
  CHECK(fill.status == oms::OrderStatus::PartiallyFilled);
  CHECK(fill.last_qty == qty("0.3"));
  CHECK(fill.last_price == px("60000"));
  CHECK(fill.maker);
  CHECK(fill.commission_raw == Money::parse("18")->raw());  // 18000 * 0.001
  CHECK(fill.commission_asset == sym("USDT"));
  // A trade below our price went through our level: we fill from its quantity.
  f.v->on_trade(sym("BTCUSDT"), px("59999"), qty("4"), true, true, kT0 + 5);
  f.v->poll(kT0 + 5);
  CHECK(f.rec.filled() == qty("1"));
  CHECK(f.rec.reports.back().status == oms::OrderStatus::Filled);
  CHECK(f.v->resting_orders() == 0);
}

TEST_CASE("plain trades are ignored once aggregated trades arrive, so volume is not counted twice", "[venue][paper]") {
  Fixture f;
  f.v->place(order("q1", Side::Sell, OrderType::Limit, "60001", "1"), kT0);
  f.v->poll(kT0);
  REQUIRE(f.v->queue_ahead(cid("q1")) == qty("1"));
  f.v->on_trade(sym("BTCUSDT"), px("60001"), qty("0.5"), false, true, kT0 + 1);
  f.v->on_trade(sym("BTCUSDT"), px("60001"), qty("0.5"), false, false, kT0 + 1);  // same volume, plain
  CHECK(f.v->queue_ahead(cid("q1")) == qty("0.5"));
}

TEST_CASE("cancels ahead of us move us up; a book that crosses us fills us", "[venue][paper]") {
  Fixture f;
  f.v->place(order("q1", Side::Buy, OrderType::Limit, "60000", "2"), kT0);
  f.v->poll(kT0);
  f.book.set_level(book::BookSide::Bid, px("60000"), qty("1.5"));
  f.v->on_book_update(sym("BTCUSDT"), f.book, kT0 + 1);
  CHECK(f.v->queue_ahead(cid("q1")) == qty("1.5"));
  f.book.set_level(book::BookSide::Bid, px("60000"), qty("4"));  // joins behind us
  f.v->on_book_update(sym("BTCUSDT"), f.book, kT0 + 2);
  CHECK(f.v->queue_ahead(cid("q1")) == qty("1.5"));
  // The asks come down to our price: the level was swept.
  f.book.erase_level(book::BookSide::Bid, px("60000"));
  f.book.set_level(book::BookSide::Ask, px("60000"), qty("3"));
  f.v->on_book_update(sym("BTCUSDT"), f.book, kT0 + 3);
  f.v->poll(kT0 + 3);
  CHECK(f.rec.filled() == qty("2"));
  CHECK(f.rec.reports.back().status == oms::OrderStatus::Filled);
  CHECK(f.rec.reports.back().maker);
}

TEST_CASE("marketable orders take displayed liquidity level by level", "[venue][paper]") {
  Fixture f;
  f.v->place(order("m1", Side::Buy, OrderType::Market, "0", "2.5"), kT0);
  f.v->poll(kT0);
  REQUIRE(f.rec.reports.size() == 3);
  CHECK(f.rec.reports[1].last_price == px("60001"));
  CHECK(f.rec.reports[1].last_qty == qty("1"));
  CHECK_FALSE(f.rec.reports[1].maker);
  CHECK(f.rec.reports[2].last_price == px("60002"));
  CHECK(f.rec.reports[2].last_qty == qty("1.5"));
  CHECK(f.rec.reports[2].status == oms::OrderStatus::Filled);
  CHECK(f.rec.reports[2].cum_quote == *Money::parse("150004"));

  // LIMIT through the ask: takes 60001, the rest rests at 60001 behind nothing on the bid side.
  f.v->place(order("l1", Side::Buy, OrderType::Limit, "60001", "1.5"), kT0);
  f.v->poll(kT0);
  CHECK(f.v->queue_ahead(cid("l1")) == Qty{});
  // IOC: remainder expires. FOK that cannot fill completely: expires untouched.
  f.rec.reports.clear();
  f.v->place(order("i1", Side::Sell, OrderType::Limit, "60000", "6", TimeInForce::Ioc), kT0);
  f.v->place(order("f1", Side::Sell, OrderType::Limit, "59999", "8", TimeInForce::Fok), kT0);
  f.v->poll(kT0);
  REQUIRE(f.rec.reports.size() == 5);  // i1: NEW, TRADE 5, EXPIRED; f1: NEW, EXPIRED
  CHECK(f.rec.reports[1].last_qty == qty("5"));
  CHECK(f.rec.reports[2].status == oms::OrderStatus::Expired);
  CHECK(f.rec.reports[4].status == oms::OrderStatus::Expired);
  CHECK(f.rec.reports[4].cum_qty.is_zero());
  // LIMIT_MAKER that would take: rejected like Binance (-2010).
  f.v->place(order("lm", Side::Buy, OrderType::LimitMaker, "60005", "1"), kT0);
  f.v->poll(kT0);
  REQUIRE(f.rec.place_rejects.size() == 1);
  CHECK(f.rec.place_rejects[0].second == -2010);
}

TEST_CASE("latency delays arrival and every report; cancels of unknown orders are rejected", "[venue][paper]") {
  Fixture f(10 * kMs);
  f.v->place(order("q1", Side::Buy, OrderType::Limit, "59000", "1"), kT0);
  CHECK(f.v->next_due() == kT0 + 10 * kMs);
  f.v->poll(kT0 + 9 * kMs);
  CHECK(f.rec.reports.empty());
  f.v->poll(kT0 + 10 * kMs);  // arrived, ack still travelling back
  CHECK(f.rec.reports.empty());
  CHECK(f.v->next_due() == kT0 + 20 * kMs);
  f.v->poll(kT0 + 20 * kMs);
  REQUIRE(f.rec.reports.size() == 1);
  CHECK(f.rec.times[0] == kT0 + 20 * kMs);
  f.v->cancel(sym("BTCUSDT"), cid("q1"), kT0 + 20 * kMs);
  f.v->cancel(sym("BTCUSDT"), cid("nope"), kT0 + 20 * kMs);
  f.v->poll(kT0 + 40 * kMs);
  REQUIRE(f.rec.reports.size() == 2);
  CHECK(f.rec.reports[1].exec_type == oms::ExecType::Canceled);
  CHECK(f.rec.reports[1].orig_client_order_id == cid("q1"));
  REQUIRE(f.rec.cancel_rejects.size() == 1);
  CHECK(f.rec.cancel_rejects[0].second == -2011);
  CHECK(f.v->next_due() == 0);
}

TEST_CASE("cancel-all cancels every resting order of the symbol", "[venue][paper]") {
  Fixture f;
  f.v->place(order("a", Side::Buy, OrderType::Limit, "59000", "1"), kT0);
  f.v->place(order("b", Side::Sell, OrderType::Limit, "61000", "1"), kT0);
  f.v->poll(kT0);
  CHECK(f.v->resting_orders() == 2);
  f.v->cancel_all(sym("BTCUSDT"), kT0);
  f.v->poll(kT0);
  CHECK(f.v->resting_orders() == 0);
  CHECK(f.v->stats().cancels == 2);
}
