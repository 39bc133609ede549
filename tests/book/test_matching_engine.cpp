// MatchingEngine against hand-worked books: every order type and time in force, priority,
// partial fills, STP modes, replace, duplicate client ids, band and filters, depth and events.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "recording_listener.hpp"
#include "tradingbot/book/matching_engine.hpp"

using namespace tb;
using namespace tb::book;
using namespace tb::book::test;

namespace {

InstrumentRules whole_unit_rules() {
  InstrumentRules r;
  r.symbol = *Symbol::parse("BTCUSDT");
  r.tick_size = P(1);
  r.step_size = Q(1);
  return r;
}

using Levels = std::vector<std::pair<std::int64_t, std::int64_t>>;  // (price, qty) in whole units

struct Book {
  explicit Book(InstrumentRules rules = whole_unit_rules()) : engine(rules, events) {}
  RecordingListener events;
  MatchingEngine engine;

  SubmitResult limit(Side side, std::int64_t price, std::int64_t qty, TimeInForce tif = TimeInForce::Gtc,
                     AccountId account = 1, std::string_view client = {}, StpMode stp = StpMode::None) {
    NewOrder o;
    o.account = account;
    o.client_order_id = client;
    o.side = side;
    o.type = OrderType::Limit;
    o.time_in_force = tif;
    o.price = P(price);
    o.quantity = Q(qty);
    o.stp = stp;
    return engine.submit(o);
  }
  SubmitResult maker(Side side, std::int64_t price, std::int64_t qty, AccountId account = 1) {
    NewOrder o;
    o.account = account;
    o.side = side;
    o.type = OrderType::LimitMaker;
    o.price = P(price);
    o.quantity = Q(qty);
    return engine.submit(o);
  }
  SubmitResult market(Side side, std::int64_t qty, AccountId account = 1, StpMode stp = StpMode::None) {
    NewOrder o;
    o.account = account;
    o.side = side;
    o.type = OrderType::Market;
    o.quantity = Q(qty);
    o.stp = stp;
    return engine.submit(o);
  }
  SubmitResult market_quote(Side side, Money quote, AccountId account = 1) {
    NewOrder o;
    o.account = account;
    o.side = side;
    o.type = OrderType::Market;
    o.quote_qty = quote;
    return engine.submit(o);
  }
  Levels levels(Side side, std::size_t n = 20) const {
    std::vector<AggregatedLevel> out(n);
    out.resize(engine.depth(side, out));
    Levels result;
    for (const auto& l : out) result.emplace_back(l.price.raw() / kFixedScale, l.quantity.raw() / kFixedScale);
    return result;
  }
  std::vector<OrderId> queue(Side side) const {
    std::vector<OrderId> ids;
    engine.for_each_order(side, [&](const OrderInfo& o) { ids.push_back(o.order_id); });
    return ids;
  }
};

}  // namespace

TEST_CASE("GTC limit orders rest with price-time priority and aggregated depth", "[book]") {
  Book b;
  CHECK(b.limit(Side::Buy, 100, 5).order_id == 1);
  CHECK(b.limit(Side::Buy, 101, 3).order_id == 2);
  CHECK(b.limit(Side::Buy, 100, 2).order_id == 3);
  CHECK(b.limit(Side::Sell, 105, 4).order_id == 4);
  CHECK(b.limit(Side::Sell, 103, 1).order_id == 5);
  CHECK(b.levels(Side::Buy) == Levels{{101, 3}, {100, 7}});
  CHECK(b.levels(Side::Sell) == Levels{{103, 1}, {105, 4}});
  CHECK(b.queue(Side::Buy) == std::vector<OrderId>{2, 1, 3});
  CHECK(b.engine.best(Side::Buy)->price == P(101));
  CHECK(b.engine.best(Side::Sell)->order_count == 1);
  CHECK(b.engine.update_id() == 5);  // one level change per resting order
  CHECK(b.engine.open_order_count() == 5);
  // Depth into a smaller buffer gives the top N only.
  std::vector<AggregatedLevel> top(1);
  CHECK(b.engine.depth(Side::Buy, top) == 1);
  CHECK(top[0].price == P(101));
}

TEST_CASE("a crossing limit order fills at the makers' prices in priority order, partially", "[book]") {
  Book b;
  b.limit(Side::Sell, 101, 2);  // 1
  b.limit(Side::Sell, 100, 3);  // 2
  b.limit(Side::Sell, 100, 4);  // 3
  b.events.clear();
  const SubmitResult r = b.limit(Side::Buy, 101, 8);  // takes 3@100 (id 2), 4@100 (id 3), 1@101 of 2
  CHECK(r.status == OrderStatus::Filled);
  CHECK(r.filled == Q(8));
  CHECK(b.events.log == std::vector<std::string>{"accepted 4", "trade 1 maker 2 taker 4 100 x 3",
                                                  "trade 2 maker 3 taker 4 100 x 4", "level ask 100 0 #0",
                                                  "trade 3 maker 1 taker 4 101 x 1", "level ask 101 1 #1"});
  CHECK(b.levels(Side::Sell) == Levels{{101, 1}});
  CHECK(b.engine.find_order(1)->filled_qty == Q(1));
  CHECK(b.events.trades[0].maker_open_qty == Q(0));
  CHECK(b.events.trades[2].taker_open_qty == Q(0));

  // A bigger taker leaves its remainder resting at its own price.
  b.events.clear();
  const SubmitResult r2 = b.limit(Side::Buy, 102, 5);
  CHECK(r2.status == OrderStatus::PartiallyFilled);
  CHECK(b.levels(Side::Sell).empty());
  CHECK(b.levels(Side::Buy) == Levels{{102, 4}});
  CHECK(b.engine.find_order(5)->open_qty == Q(4));
  CHECK(b.engine.find_order(5)->filled_qty == Q(1));
}

TEST_CASE("IOC trades what it can and expires the rest", "[book]") {
  Book b;
  b.limit(Side::Sell, 100, 2);
  b.limit(Side::Sell, 102, 2);
  b.events.clear();
  const SubmitResult r = b.limit(Side::Buy, 101, 5, TimeInForce::Ioc);
  CHECK(r.status == OrderStatus::Expired);
  CHECK(r.filled == Q(2));
  CHECK(b.events.log.back() == "expired 3 immediate_or_cancel 3");
  CHECK(b.levels(Side::Buy).empty());
  CHECK(b.levels(Side::Sell) == Levels{{102, 2}});
  // IOC with nothing to match expires whole.
  CHECK(b.limit(Side::Buy, 90, 1, TimeInForce::Ioc).status == OrderStatus::Expired);
}

TEST_CASE("FOK fills completely or expires without touching the book", "[book]") {
  Book b;
  b.limit(Side::Sell, 100, 2);
  b.limit(Side::Sell, 101, 2);
  const UpdateId before = b.engine.update_id();
  b.events.clear();
  const SubmitResult miss = b.limit(Side::Buy, 101, 5, TimeInForce::Fok);
  CHECK(miss.status == OrderStatus::Expired);
  CHECK(b.events.log == std::vector<std::string>{"accepted 3", "expired 3 fill_or_kill 5"});
  CHECK(b.engine.update_id() == before);
  const SubmitResult price_limited = b.limit(Side::Buy, 100, 3, TimeInForce::Fok);
  CHECK(price_limited.status == OrderStatus::Expired);
  const SubmitResult hit = b.limit(Side::Buy, 101, 4, TimeInForce::Fok);
  CHECK(hit.status == OrderStatus::Filled);
  CHECK(b.events.trades.size() == 2);
  CHECK(b.levels(Side::Sell).empty());
}

TEST_CASE("MARKET by quantity sweeps levels and expires what the book cannot fill", "[book]") {
  Book b;
  CHECK(b.market(Side::Buy, 1).status == OrderStatus::Expired);  // empty book
  b.limit(Side::Sell, 100, 2);
  b.limit(Side::Sell, 110, 2);
  b.events.clear();
  const SubmitResult r = b.market(Side::Buy, 5);
  CHECK(r.status == OrderStatus::Expired);
  CHECK(r.filled == Q(4));
  CHECK(b.events.trades.size() == 2);
  CHECK(b.events.trades[1].price == P(110));
  CHECK(b.events.expired.back().reason == ExpireReason::NoLiquidity);
  CHECK(b.events.expired.back().expired_qty == Q(1));
  b.limit(Side::Buy, 90, 3);
  CHECK(b.market(Side::Sell, 3).status == OrderStatus::Filled);
}

TEST_CASE("MARKET by quote amount spends at most the amount, in whole steps", "[book]") {
  Book b;
  b.limit(Side::Sell, 100, 2);
  b.limit(Side::Sell, 200, 5);
  b.events.clear();
  // 2 @ 100 = 200, then 450 left buys 2 @ 200 (a third would cost 600); 50 unspent.
  const SubmitResult r = b.market_quote(Side::Buy, M(650));
  CHECK(r.status == OrderStatus::Expired);
  CHECK(r.filled == Q(4));
  REQUIRE(b.events.trades.size() == 2);
  CHECK(b.events.trades[1].quantity == Q(2));
  CHECK(b.events.expired.back().expired_quote == M(50));
  CHECK(b.levels(Side::Sell) == Levels{{200, 3}});
  CHECK(b.market_quote(Side::Buy, M(600)).status == OrderStatus::Filled);
  // Selling by quote: receive up to 150 of quote from bids.
  b.limit(Side::Buy, 50, 10);
  const SubmitResult s = b.market_quote(Side::Sell, M(150));
  CHECK(s.status == OrderStatus::Filled);
  CHECK(s.filled == Q(3));
}

TEST_CASE("LIMIT_MAKER rests when passive and is rejected when it would take", "[book]") {
  Book b;
  b.limit(Side::Sell, 100, 2);
  CHECK(b.maker(Side::Buy, 99, 1).status == OrderStatus::New);
  b.events.clear();
  const SubmitResult r = b.maker(Side::Buy, 100, 1);
  CHECK(r.status == OrderStatus::Rejected);
  CHECK(r.reason == RejectReason::WouldTake);
  CHECK(b.events.log == std::vector<std::string>{"rejected would_take"});
  CHECK(b.engine.next_order_id() == 3);  // rejected orders consume no id
  CHECK(b.levels(Side::Buy) == Levels{{99, 1}});
}

TEST_CASE("cancel by order id and by client order id, only for the owning account", "[book]") {
  Book b;
  b.limit(Side::Buy, 100, 5, TimeInForce::Gtc, 7, "alpha");
  b.limit(Side::Buy, 100, 3, TimeInForce::Gtc, 7, "beta");
  b.events.clear();
  CHECK(b.engine.cancel(8, 1) == RejectReason::UnknownOrder);  // another account's order
  CHECK(b.engine.cancel(7, 99) == RejectReason::UnknownOrder);
  CHECK(b.engine.cancel(7, 1) == RejectReason::None);
  CHECK(b.events.log.back() == "level bid 100 3 #1");
  CHECK(b.engine.cancel(7, 1) == RejectReason::UnknownOrder);  // already gone
  CHECK(b.engine.cancel_by_client_id(8, "beta") == RejectReason::UnknownOrder);
  CHECK(b.engine.cancel_by_client_id(7, "beta") == RejectReason::None);
  CHECK(b.events.log.back() == "level bid 100 0 #0");
  CHECK(b.levels(Side::Buy).empty());
  CHECK(b.engine.open_order_count() == 0);
}

TEST_CASE("duplicate client order ids are rejected among one account's open orders", "[book]") {
  Book b;
  CHECK(b.limit(Side::Buy, 100, 1, TimeInForce::Gtc, 1, "x1").status == OrderStatus::New);
  CHECK(b.limit(Side::Sell, 200, 1, TimeInForce::Gtc, 1, "x1").reason == RejectReason::DuplicateClientOrderId);
  CHECK(b.limit(Side::Sell, 200, 1, TimeInForce::Gtc, 2, "x1").status == OrderStatus::New);  // other account
  CHECK(b.engine.find_order(1, "x1")->order_id == 1);
  CHECK(b.engine.find_order(2, "x1")->order_id == 2);  // the rejected order took no id
  b.engine.cancel_by_client_id(1, "x1");
  CHECK(b.limit(Side::Buy, 100, 1, TimeInForce::Gtc, 1, "x1").status == OrderStatus::New);  // free again
  // A filled order frees its client id too.
  b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 3, "y");
  CHECK(b.limit(Side::Buy, 100, 1, TimeInForce::Gtc, 1, "x1").status == OrderStatus::New);
  CHECK(b.limit(Side::Buy, 1, 1, TimeInForce::Gtc, 1, "bad id!").reason == RejectReason::InvalidClientOrderId);
  CHECK(b.limit(Side::Buy, 1, 1, TimeInForce::Gtc, 1, std::string(37, 'a')).reason ==
        RejectReason::InvalidClientOrderId);
}

TEST_CASE("replace keeps priority only for an unchanged price and a smaller quantity", "[book]") {
  Book b;
  b.limit(Side::Buy, 100, 5, TimeInForce::Gtc, 1, "a");  // 1
  b.limit(Side::Buy, 100, 5, TimeInForce::Gtc, 2, "b");  // 2
  ReplaceOrder rq;
  rq.account = 1;
  rq.order_id = 1;
  rq.new_price = P(100);
  rq.new_quantity = Q(3);
  CHECK(b.engine.replace(rq) == RejectReason::None);
  CHECK(b.queue(Side::Buy) == std::vector<OrderId>{1, 2});
  CHECK(b.levels(Side::Buy) == Levels{{100, 8}});

  rq.new_quantity = Q(4);  // grows: back of the queue
  CHECK(b.engine.replace(rq) == RejectReason::None);
  CHECK(b.queue(Side::Buy) == std::vector<OrderId>{2, 1});
  CHECK(b.levels(Side::Buy) == Levels{{100, 9}});

  ReplaceOrder by_client;  // found by client id, new price: loses priority, new client id
  by_client.account = 2;
  by_client.client_order_id = "b";
  by_client.new_price = P(101);
  by_client.new_quantity = Q(5);
  by_client.new_client_order_id = "b2";
  CHECK(b.engine.replace(by_client) == RejectReason::None);
  CHECK(b.levels(Side::Buy) == Levels{{101, 5}, {100, 4}});
  CHECK(b.engine.find_order(2, "b2")->order_id == 2);
  CHECK_FALSE(b.engine.find_order(2, "b").has_value());

  // Back to 100: it queues behind order 1 even though it is older.
  by_client.client_order_id = "b2";
  by_client.new_client_order_id = {};
  by_client.new_price = P(100);
  CHECK(b.engine.replace(by_client) == RejectReason::None);
  CHECK(b.queue(Side::Buy) == std::vector<OrderId>{1, 2});

  // A replace to a crossing price trades like a new order, then rests the rest.
  b.limit(Side::Sell, 105, 2, TimeInForce::Gtc, 3);  // 3
  rq.new_price = P(106);
  rq.new_quantity = Q(4);
  b.events.clear();
  CHECK(b.engine.replace(rq) == RejectReason::None);
  REQUIRE(b.events.trades.size() == 1);
  CHECK(b.events.trades[0].taker_order_id == 1);
  CHECK(b.events.trades[0].price == P(105));
  CHECK(b.levels(Side::Buy) == Levels{{106, 2}, {100, 5}});

  rq.order_id = 42;
  CHECK(b.engine.replace(rq) == RejectReason::UnknownOrder);
  rq.order_id = 1;
  rq.new_quantity = Q(0);
  CHECK(b.engine.replace(rq) == RejectReason::InvalidQuantity);
}

TEST_CASE("replace of a LIMIT_MAKER to a crossing price is rejected and leaves the order", "[book]") {
  Book b;
  b.limit(Side::Sell, 105, 2);
  b.maker(Side::Buy, 100, 2);  // 2
  ReplaceOrder rq;
  rq.account = 1;
  rq.order_id = 2;
  rq.new_price = P(105);
  rq.new_quantity = Q(2);
  CHECK(b.engine.replace(rq) == RejectReason::WouldTake);
  CHECK(b.levels(Side::Buy) == Levels{{100, 2}});
}

TEST_CASE("self-trade prevention: each mode with Binance semantics", "[book]") {
  SECTION("NONE trades with itself") {
    Book b;
    b.limit(Side::Sell, 100, 2, TimeInForce::Gtc, 1);
    CHECK(b.limit(Side::Buy, 100, 2, TimeInForce::Gtc, 1, {}, StpMode::None).status == OrderStatus::Filled);
  }
  SECTION("EXPIRE_TAKER: the taker expires at the first own order, earlier fills stand") {
    Book b;
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 2);  // 1 other account
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 1);  // 2 own
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 2);  // 3 other account
    b.events.clear();
    const SubmitResult r = b.limit(Side::Buy, 100, 3, TimeInForce::Gtc, 1, {}, StpMode::ExpireTaker);
    CHECK(r.status == OrderStatus::ExpiredInMatch);
    CHECK(r.filled == Q(1));
    REQUIRE(b.events.expired.size() == 1);
    CHECK(b.events.expired[0].order_id == 4);
    CHECK(b.events.expired[0].reason == ExpireReason::SelfTradeTaker);
    CHECK(b.events.expired[0].prevented_match_order_id == 2);
    CHECK(b.events.expired[0].expired_qty == Q(2));
    CHECK(b.queue(Side::Sell) == std::vector<OrderId>{2, 3});
    CHECK(b.levels(Side::Buy).empty());  // a GTC taker does not rest after an STP expiry
  }
  SECTION("EXPIRE_MAKER: own makers expire and the taker keeps matching") {
    Book b;
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 1);  // 1 own
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 2);  // 2 other
    b.limit(Side::Sell, 101, 1, TimeInForce::Gtc, 1);  // 3 own
    b.events.clear();
    const SubmitResult r = b.limit(Side::Buy, 101, 2, TimeInForce::Gtc, 1, {}, StpMode::ExpireMaker);
    CHECK(r.status == OrderStatus::PartiallyFilled);
    CHECK(b.events.log == std::vector<std::string>{"accepted 4", "expired 1 self_trade_maker 1",
                                                    "trade 1 maker 2 taker 4 100 x 1", "level ask 100 0 #0",
                                                    "expired 3 self_trade_maker 1", "level ask 101 0 #0",
                                                    "level bid 101 1 #1"});
    CHECK(b.events.expired[0].prevented_match_order_id == 4);
    CHECK(b.engine.open_order_count() == 1);
  }
  SECTION("EXPIRE_BOTH: the first own maker and the taker both expire") {
    Book b;
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 2);  // 1 other
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 1);  // 2 own
    b.limit(Side::Sell, 100, 1, TimeInForce::Gtc, 1);  // 3 own
    b.events.clear();
    const SubmitResult r = b.limit(Side::Buy, 100, 3, TimeInForce::Gtc, 1, {}, StpMode::ExpireBoth);
    CHECK(r.status == OrderStatus::ExpiredInMatch);
    CHECK(r.filled == Q(1));
    REQUIRE(b.events.expired.size() == 2);
    CHECK(b.events.expired[0].order_id == 2);
    CHECK(b.events.expired[1].order_id == 4);
    CHECK(expired_in_match(b.events.expired[1].reason));
    CHECK(b.queue(Side::Sell) == std::vector<OrderId>{3});
  }
  SECTION("FOK counts only what it could really trade under its STP mode") {
    Book b;
    b.limit(Side::Sell, 100, 2, TimeInForce::Gtc, 1);  // own
    b.limit(Side::Sell, 100, 2, TimeInForce::Gtc, 2);
    CHECK(b.limit(Side::Buy, 100, 3, TimeInForce::Fok, 1, {}, StpMode::ExpireMaker).status == OrderStatus::Expired);
    CHECK(b.engine.open_order_count() == 2);  // nothing expired: FOK checks before matching
    CHECK(b.limit(Side::Buy, 100, 2, TimeInForce::Fok, 1, {}, StpMode::ExpireMaker).status == OrderStatus::Filled);
    CHECK(b.engine.open_order_count() == 0);
  }
}

TEST_CASE("price band around the reference price; an unset reference disables it", "[book]") {
  InstrumentRules rules = whole_unit_rules();
  rules.band_multiplier_up = 120'000'000;   // 1.2
  rules.band_multiplier_down = 80'000'000;  // 0.8
  Book b(rules);
  CHECK(b.limit(Side::Buy, 10, 1).status == OrderStatus::New);  // no reference yet
  b.engine.set_reference_price(P(100));
  CHECK(b.limit(Side::Buy, 79, 1).reason == RejectReason::PriceOutOfBand);
  CHECK(b.limit(Side::Buy, 80, 1).status == OrderStatus::New);
  CHECK(b.limit(Side::Sell, 120, 1).status == OrderStatus::New);
  CHECK(b.limit(Side::Sell, 121, 1).reason == RejectReason::PriceOutOfBand);
  CHECK(b.maker(Side::Sell, 121, 1).reason == RejectReason::PriceOutOfBand);
  ReplaceOrder rq;
  rq.account = 1;
  rq.order_id = 3;
  rq.new_price = P(121);
  rq.new_quantity = Q(1);
  CHECK(b.engine.replace(rq) == RejectReason::PriceOutOfBand);
  CHECK(b.market(Side::Sell, 1).status == OrderStatus::Filled);  // market orders have no price
  b.engine.set_reference_price(Price{});
  CHECK(b.limit(Side::Sell, 1000, 1).status == OrderStatus::New);
}

TEST_CASE("instrument filters reject with a reason naming the filter", "[book]") {
  InstrumentRules rules;
  rules.tick_size = Price::from_raw(1'000'000);  // 0.01
  rules.min_price = Price::from_raw(1'000'000);
  rules.max_price = P(1000);
  rules.step_size = Qty::from_raw(100'000);  // 0.001
  rules.min_qty = Qty::from_raw(100'000);
  rules.max_qty = Q(10);
  rules.min_notional = M(5);
  Book b(rules);
  auto lim = [&](std::int64_t price_raw, std::int64_t qty_raw) {
    NewOrder o;
    o.price = Price::from_raw(price_raw);
    o.quantity = Qty::from_raw(qty_raw);
    return b.engine.submit(o).reason;
  };
  CHECK(lim(0, 100'000'000) == RejectReason::InvalidPrice);
  CHECK(lim(100'000'000, 0) == RejectReason::InvalidQuantity);
  CHECK(lim(100'000'000, -100'000'000) == RejectReason::InvalidQuantity);
  CHECK(lim(500'000, 100'000'000) == RejectReason::PriceBelowMin);
  CHECK(lim(100'100'000'000, 100'000'000) == RejectReason::PriceAboveMax);
  CHECK(lim(100'500'000, 100'000'000) == RejectReason::PriceNotOnTick);
  CHECK(lim(10'000'000'000, 50'000) == RejectReason::QtyBelowMin);
  CHECK(lim(10'000'000'000, 1'100'000'000) == RejectReason::QtyAboveMax);
  CHECK(lim(10'000'000'000, 150'000) == RejectReason::QtyNotOnStep);
  CHECK(lim(100'000'000, 400'000'000) == RejectReason::NotionalBelowMin);  // 1.00 x 4 = 4 < 5
  CHECK(lim(100'000'000, 500'000'000) == RejectReason::None);              // exactly 5
  NewOrder m;
  m.type = OrderType::Market;
  CHECK(b.engine.submit(m).reason == RejectReason::InvalidQuantity);  // neither qty nor quote
  m.quantity = Q(1);
  m.quote_qty = M(10);
  CHECK(b.engine.submit(m).reason == RejectReason::InvalidQuantity);  // both
  m.quantity = Qty{};
  m.quote_qty = M(4);
  CHECK(b.engine.submit(m).reason == RejectReason::NotionalBelowMin);
  REQUIRE(b.events.rejected.size() == 13);
  CHECK(b.events.rejected[0].kind == RequestKind::New);
}

TEST_CASE("every level change raises the update id by one and is reported", "[book]") {
  Book b;
  b.limit(Side::Buy, 100, 1);
  b.limit(Side::Buy, 99, 1);
  b.limit(Side::Sell, 101, 1);
  CHECK(b.engine.update_id() == 3);
  b.events.clear();
  b.limit(Side::Sell, 99, 3);  // takes 100 and 99, rests 1 @ 99
  REQUIRE(b.events.levels.size() == 3);
  CHECK(b.events.levels[0].update_id == 4);
  CHECK(b.events.levels[0].price == P(100));
  CHECK(b.events.levels[0].quantity == Q(0));
  CHECK(b.events.levels[1].price == P(99));
  CHECK(b.events.levels[2].side == Side::Sell);
  CHECK(b.events.levels[2].update_id == 6);
  CHECK(b.engine.update_id() == 6);
  CHECK(b.levels(Side::Sell) == Levels{{99, 1}, {101, 1}});
}

namespace {
struct ReentrantListener : OrderListener {
  MatchingEngine* engine = nullptr;
  RejectReason seen = RejectReason::None;
  void on_accepted(const OrderAccepted&) override {
    NewOrder o;
    o.price = P(1);
    o.quantity = Q(1);
    seen = engine->submit(o).reason;
  }
};
}  // namespace

TEST_CASE("a listener calling back into the engine is refused", "[book]") {
  ReentrantListener listener;
  MatchingEngine engine(whole_unit_rules(), listener);
  listener.engine = &engine;
  NewOrder o;
  o.price = P(5);
  o.quantity = Q(1);
  CHECK(engine.submit(o).status == OrderStatus::New);
  CHECK(listener.seen == RejectReason::ReentrantCall);
  CHECK(engine.open_order_count() == 1);
}

TEST_CASE("pools grow past their initial capacity and keep working", "[book]") {
  RecordingListener events;
  MatchingEngine engine(whole_unit_rules(), events, EngineCapacity{16, 16});
  for (int i = 0; i < 200; ++i) {
    NewOrder o;
    o.price = P(1000 + i);
    o.quantity = Q(1);
    o.side = Side::Sell;
    REQUIRE(engine.submit(o).status == OrderStatus::New);
  }
  CHECK(engine.level_count(Side::Sell) == 200);
  NewOrder sweep;
  sweep.type = OrderType::Market;
  sweep.quantity = Q(200);
  CHECK(engine.submit(sweep).status == OrderStatus::Filled);
  CHECK(engine.open_order_count() == 0);
  CHECK(engine.next_trade_id() == 201);
}
