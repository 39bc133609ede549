// MatchingEngine against a naive reference model (std::map of std::deque per side) over a long
// run of random operations with a fixed seed. After every operation: same outcome and the same
// trades as the model, the same resting orders in the same queue order (FIFO per level), never
// crossed at rest, depth equal to the sum of the orders and to the level-change events, update
// ids consecutive, and quantity conserved (placed == resting + filled + cancelled + expired).
#include <catch2/catch.hpp>

#include <cstdint>
#include <deque>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "tradingbot/book/book_snapshot.hpp"
#include "tradingbot/book/matching_engine.hpp"

using namespace tb;
using namespace tb::book;

namespace {

#ifdef TB_BOOK_SANITIZED
constexpr int kOperations = 150'000;
#else
constexpr int kOperations = 1'000'000;
#endif

constexpr std::int64_t kUnit = kFixedScale;  // tick and step are both 1 whole unit

using TradeTuple = std::tuple<OrderId, OrderId, std::int64_t, std::int64_t>;  // maker, taker, price, qty

std::int64_t affordable_units(std::int64_t quote, std::int64_t price) {
  const Int128 q = static_cast<Int128>(quote) * kFixedScale / price;
  const auto qty = static_cast<std::int64_t>(q);
  return qty - qty % kUnit;
}

// ------------------------------------------------------------------------------------------
// The reference model: obviously-correct data structures, no pools, no indexes.
class Model {
 public:
  struct Order {
    OrderId id;
    AccountId account;
    Side side;
    OrderType type;
    std::int64_t price;
    std::int64_t open;
    StpMode stp;
    std::string client;
  };
  using Levels = std::map<std::int64_t, std::deque<Order>>;
  Levels sides[2];  // [0] bids, [1] asks; both keyed by price ascending
  OrderId next_id = 1;
  std::vector<TradeTuple> trades;  // of the current operation

  static std::size_t idx(Side s) { return s == Side::Buy ? 0 : 1; }

  Order* find(AccountId account, OrderId id, const std::string& client) {
    for (auto& side : sides) {
      for (auto& [price, queue] : side) {
        for (auto& o : queue) {
          if (o.account != account) continue;
          if (id != 0 ? o.id == id : (!client.empty() && o.client == client)) return &o;
        }
      }
    }
    return nullptr;
  }
  void erase(const Order& target) {
    auto& side = sides[idx(target.side)];
    auto it = side.find(target.price);
    for (auto q = it->second.begin(); q != it->second.end(); ++q) {
      if (q->id == target.id) {
        it->second.erase(q);
        break;
      }
    }
    if (it->second.empty()) side.erase(it);
  }
  bool would_take(Side side, std::int64_t price) const {
    const Levels& opp = sides[idx(opposite(side))];
    if (opp.empty()) return false;
    return side == Side::Buy ? opp.begin()->first <= price : std::prev(opp.end())->first >= price;
  }

  struct Taker {
    OrderId id;
    AccountId account;
    Side side;
    StpMode stp;
    bool has_limit;
    std::int64_t limit;
    bool by_quote;
    std::int64_t open;
    std::int64_t quote;
    std::int64_t filled = 0;
    bool stp_expired = false;
  };
  // Matches against `opp` (the real book or a copy); records trades only when asked.
  static void match(Levels& opp, Taker& t, std::vector<TradeTuple>* trades) {
    while (t.by_quote ? t.quote > 0 : t.open > 0) {
      if (opp.empty()) break;
      auto it = t.side == Side::Buy ? opp.begin() : std::prev(opp.end());
      const std::int64_t price = it->first;
      if (t.has_limit && (t.side == Side::Buy ? price > t.limit : price < t.limit)) break;
      Order& m = it->second.front();
      if (t.stp != StpMode::None && m.account == t.account) {
        if (t.stp == StpMode::ExpireTaker) {
          t.stp_expired = true;
          break;
        }
        it->second.pop_front();
        if (it->second.empty()) opp.erase(it);
        if (t.stp == StpMode::ExpireBoth) {
          t.stp_expired = true;
          break;
        }
        continue;
      }
      const std::int64_t qty = t.by_quote ? std::min(affordable_units(t.quote, price), m.open) : std::min(t.open, m.open);
      if (qty <= 0) break;
      if (trades) trades->emplace_back(m.id, t.id, price, qty);
      m.open -= qty;
      t.filled += qty;
      if (t.by_quote) t.quote -= notional(Price::from_raw(price), Qty::from_raw(qty)).raw(); else t.open -= qty;
      if (m.open == 0) {
        it->second.pop_front();
        if (it->second.empty()) opp.erase(it);
      }
    }
  }

  SubmitResult submit(const NewOrder& n) {
    const std::string client(n.client_order_id);
    const bool market = n.type == OrderType::Market;
    const bool by_quote = market && n.quote_qty.raw() != 0;
    if (!by_quote && n.quantity.raw() <= 0) return {0, OrderStatus::Rejected, RejectReason::InvalidQuantity, {}};
    if (!client.empty() && find(n.account, 0, client)) {
      return {0, OrderStatus::Rejected, RejectReason::DuplicateClientOrderId, {}};
    }
    if (n.type == OrderType::LimitMaker && would_take(n.side, n.price.raw())) {
      return {0, OrderStatus::Rejected, RejectReason::WouldTake, {}};
    }
    const OrderId id = next_id++;
    Taker t{id, n.account, n.side, n.stp, !market, n.price.raw(), by_quote, n.quantity.raw(), n.quote_qty.raw()};
    Levels& opp = sides[idx(opposite(n.side))];
    SubmitResult r{id, OrderStatus::New, RejectReason::None, {}};
    if (n.type == OrderType::Limit && n.time_in_force == TimeInForce::Fok) {
      Levels copy = opp;
      Taker probe = t;
      match(copy, probe, nullptr);
      if (probe.open > 0 || probe.stp_expired) {
        r.status = OrderStatus::Expired;
        return r;
      }
    }
    if (n.type != OrderType::LimitMaker) match(opp, t, &trades);
    r.filled = Qty::from_raw(t.filled);
    const bool done = by_quote ? t.quote == 0 : t.open == 0;
    if (t.stp_expired) {
      r.status = OrderStatus::ExpiredInMatch;
    } else if (done) {
      r.status = OrderStatus::Filled;
    } else if (market || (n.type == OrderType::Limit && n.time_in_force != TimeInForce::Gtc)) {
      r.status = OrderStatus::Expired;
    } else {
      sides[idx(n.side)][n.price.raw()].push_back(
          Order{id, n.account, n.side, n.type, n.price.raw(), t.open, n.stp, client});
      r.status = t.filled > 0 ? OrderStatus::PartiallyFilled : OrderStatus::New;
    }
    return r;
  }

  RejectReason cancel(AccountId account, OrderId id, const std::string& client) {
    Order* o = find(account, id, client);
    if (!o) return RejectReason::UnknownOrder;
    erase(*o);
    return RejectReason::None;
  }

  RejectReason replace(const ReplaceOrder& rq) {
    Order* found = find(rq.account, rq.order_id, std::string(rq.client_order_id));
    if (!found) return RejectReason::UnknownOrder;
    const std::string new_client(rq.new_client_order_id);
    if (!new_client.empty() && new_client != found->client) {
      Order* other = find(rq.account, 0, new_client);
      if (other) return RejectReason::DuplicateClientOrderId;
    }
    const std::int64_t price = rq.new_price.raw();
    const std::int64_t qty = rq.new_quantity.raw();
    if (qty <= 0) return RejectReason::InvalidQuantity;
    const bool same_price = price == found->price;
    const bool keep = same_price && qty <= found->open;
    if (!keep && found->type == OrderType::LimitMaker && would_take(found->side, price)) return RejectReason::WouldTake;
    if (!new_client.empty()) found->client = new_client;
    if (keep) {
      found->open = qty;
      return RejectReason::None;
    }
    Order moved = *found;
    erase(*found);
    moved.price = price;
    moved.open = qty;
    if (!same_price && would_take(moved.side, price)) {
      Taker t{moved.id, moved.account, moved.side, moved.stp, true, price, false, qty, 0};
      match(sides[idx(opposite(moved.side))], t, &trades);
      if (t.stp_expired || t.open == 0) return RejectReason::None;
      moved.open = t.open;
    }
    sides[idx(moved.side)][price].push_back(moved);
    return RejectReason::None;
  }

  std::vector<std::tuple<OrderId, std::int64_t, std::int64_t>> queue(Side side) const {
    std::vector<std::tuple<OrderId, std::int64_t, std::int64_t>> out;
    const Levels& levels = sides[idx(side)];
    auto emit = [&](const std::deque<Order>& q) {
      for (const auto& o : q) out.emplace_back(o.id, o.price, o.open);
    };
    if (side == Side::Buy) {
      for (auto it = levels.rbegin(); it != levels.rend(); ++it) emit(it->second);
    } else {
      for (const auto& [p, q] : levels) emit(q);
    }
    return out;
  }
  std::vector<OrderId> random_open_ids() const {
    std::vector<OrderId> ids;
    for (const auto& side : sides) {
      for (const auto& [p, q] : side) {
        for (const auto& o : q) ids.push_back(o.id);
      }
    }
    return ids;
  }
  std::size_t open_count() const {
    std::size_t n = 0;
    for (const auto& side : sides) {
      for (const auto& [p, q] : side) n += q.size();
    }
    return n;
  }
};

// ------------------------------------------------------------------------------------------
// Engine-side bookkeeping from events only: trades, conservation totals, depth from events.
struct Auditor : OrderListener {
  std::vector<TradeTuple> trades;
  Int128 placed = 0, filled = 0, cancelled = 0, expired = 0;
  std::map<std::pair<int, std::int64_t>, std::pair<std::int64_t, std::uint32_t>> levels;
  UpdateId last_update = 0;
  bool update_ids_consecutive = true;
  bool current_is_quote = false;

  void on_accepted(const OrderAccepted& e) override { placed += e.quantity.raw(); }
  void on_trade(const Trade& e) override {
    trades.emplace_back(e.maker_order_id, e.taker_order_id, e.price.raw(), e.quantity.raw());
    filled += 2 * static_cast<Int128>(e.quantity.raw());
    if (current_is_quote) placed += e.quantity.raw();  // a quote order "places" what it fills
  }
  void on_cancelled(const OrderCancelled& e) override {
    cancelled += e.cancelled_qty.raw();
    ++cancels;
  }
  void on_expired(const OrderExpired& e) override {
    expired += e.expired_qty.raw();
    ++expiries[static_cast<std::size_t>(e.reason)];
  }
  void on_replaced(const OrderReplaced& e) override {
    placed += e.new_open_qty.raw() - e.old_open_qty.raw();
    ++replaced[e.kept_priority ? 1 : 0];
  }
  void on_rejected(const OrderRejected& e) override { ++rejections[static_cast<std::size_t>(e.reason)]; }
  // Coverage of the run: how often each path was taken.
  std::uint64_t expiries[8] = {}, replaced[2] = {}, rejections[32] = {}, cancels = 0;
  void on_level_changed(const LevelChanged& e) override {
    if (e.update_id != last_update + 1) update_ids_consecutive = false;
    last_update = e.update_id;
    const auto key = std::make_pair(e.side == Side::Buy ? 0 : 1, e.price.raw());
    if (e.quantity.raw() == 0) levels.erase(key); else levels[key] = {e.quantity.raw(), e.order_count};
  }
};

// SplitMix64: a fixed, portable random sequence (std distributions differ between libraries).
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return range(1, 100) <= percent; }
};

}  // namespace

TEST_CASE("random operations agree with a naive reference model", "[book]") {
  InstrumentRules rules;
  rules.tick_size = Price::from_raw(kUnit);
  rules.step_size = Qty::from_raw(kUnit);
  Auditor audit;
  MatchingEngine engine(rules, audit, EngineCapacity{256, 64});  // small: exercises pool growth
  Model model;
  Rng rng{20261123};

  static const std::vector<std::string> clients = [] {
    std::vector<std::string> v;
    for (int i = 0; i < 24; ++i) v.push_back("c" + std::to_string(i));
    return v;
  }();
  auto pick_client = [&]() -> std::string_view {
    return rng.chance(30) ? std::string_view(clients[static_cast<std::size_t>(rng.range(0, 23))]) : std::string_view{};
  };
  auto pick_existing = [&](AccountId& account, OrderId& id, std::string& client) {
    const auto ids = model.random_open_ids();
    if (ids.empty() || rng.chance(10)) {
      account = static_cast<AccountId>(rng.range(1, 4));
      id = model.next_id > 1 ? static_cast<OrderId>(rng.range(1, static_cast<std::int64_t>(model.next_id))) : 1;
      client.clear();
      return;
    }
    id = ids[static_cast<std::size_t>(rng.range(0, static_cast<std::int64_t>(ids.size()) - 1))];
    for (const auto& side : model.sides) {
      for (const auto& [p, q] : side) {
        for (const auto& o : q) {
          if (o.id == id) {
            account = o.account;
            client = o.client;
          }
        }
      }
    }
    if (!client.empty() && rng.chance(50)) id = 0;  // address it by client id instead
  };

  std::size_t crossed = 0, fifo_mismatch = 0, trade_mismatch = 0, outcome_mismatch = 0, depth_mismatch = 0,
              conservation_breaks = 0;
  std::uint64_t total_trades = 0;
  int snapshots = 0;
  std::vector<AggregatedLevel> depth(4096);
  for (int op = 0; op < kOperations; ++op) {
    audit.trades.clear();
    model.trades.clear();
    audit.current_is_quote = false;
    const int kind = static_cast<int>(rng.range(1, 100));
    // Bias towards cancels when the book grows, so it stays a few hundred orders deep.
    const bool crowded = model.open_count() > 400;
    if (kind <= (crowded ? 30 : 55)) {  // limit orders and LIMIT_MAKER
      NewOrder n;
      n.account = static_cast<AccountId>(rng.range(1, 4));
      n.client_order_id = pick_client();
      n.side = rng.chance(50) ? Side::Buy : Side::Sell;
      n.type = rng.chance(12) ? OrderType::LimitMaker : OrderType::Limit;
      const int tif = static_cast<int>(rng.range(1, 100));
      n.time_in_force = tif <= 70 ? TimeInForce::Gtc : (tif <= 85 ? TimeInForce::Ioc : TimeInForce::Fok);
      n.price = Price::from_raw(kUnit * (n.side == Side::Buy ? rng.range(990, 1004) : rng.range(996, 1010)));
      n.quantity = Qty::from_raw(kUnit * (rng.chance(1) ? 0 : rng.range(1, 12)));
      n.stp = static_cast<StpMode>(rng.range(0, 3));
      const SubmitResult want = model.submit(n);
      const SubmitResult got = engine.submit(n);
      if (want.status != got.status || want.reason != got.reason || want.order_id != got.order_id ||
          want.filled != got.filled) {
        ++outcome_mismatch;
      }
    } else if (kind <= (crowded ? 38 : 65)) {  // MARKET by quantity or quote
      NewOrder n;
      n.account = static_cast<AccountId>(rng.range(1, 4));
      n.side = rng.chance(50) ? Side::Buy : Side::Sell;
      n.type = OrderType::Market;
      if (rng.chance(30)) {
        n.quote_qty = Money::from_raw(rng.range(1, 20'000) * 1'000'000);
        audit.current_is_quote = true;
      } else {
        n.quantity = Qty::from_raw(kUnit * rng.range(1, 25));
      }
      n.stp = static_cast<StpMode>(rng.range(0, 3));
      const SubmitResult want = model.submit(n);
      const SubmitResult got = engine.submit(n);
      if (want.status != got.status || want.reason != got.reason || want.filled != got.filled) ++outcome_mismatch;
    } else if (kind <= 85) {  // cancel
      AccountId account = 0;
      OrderId id = 0;
      std::string client;
      pick_existing(account, id, client);
      const RejectReason want = model.cancel(account, id, client);
      const RejectReason got = id != 0 ? engine.cancel(account, id) : engine.cancel_by_client_id(account, client);
      if (want != got) ++outcome_mismatch;
    } else {  // replace
      ReplaceOrder rq;
      std::string client;
      pick_existing(rq.account, rq.order_id, client);
      rq.client_order_id = client;
      const auto current = rq.order_id != 0 ? engine.find_order(rq.order_id) : engine.find_order(rq.account, client);
      std::int64_t price = rng.range(990, 1010) * kUnit;
      if (current && rng.chance(50)) price = current->price.raw();  // same price: qty change only
      rq.new_price = Price::from_raw(price);
      rq.new_quantity = Qty::from_raw(kUnit * (rng.chance(2) ? 0 : rng.range(1, 12)));
      if (rng.chance(20)) rq.new_client_order_id = clients[static_cast<std::size_t>(rng.range(0, 23))];
      const RejectReason want = model.replace(rq);
      const RejectReason got = engine.replace(rq);
      if (want != got) ++outcome_mismatch;
    }

    if (audit.trades != model.trades) ++trade_mismatch;
    total_trades += audit.trades.size();

    // Resting orders, level by level in queue order, must be the model's.
    std::vector<std::tuple<OrderId, std::int64_t, std::int64_t>> bids, asks;
    engine.for_each_order(Side::Buy, [&](const OrderInfo& o) { bids.emplace_back(o.order_id, o.price.raw(), o.open_qty.raw()); });
    engine.for_each_order(Side::Sell, [&](const OrderInfo& o) { asks.emplace_back(o.order_id, o.price.raw(), o.open_qty.raw()); });
    if (bids != model.queue(Side::Buy) || asks != model.queue(Side::Sell)) ++fifo_mismatch;

    const auto best_bid = engine.best(Side::Buy);
    const auto best_ask = engine.best(Side::Sell);
    if (best_bid && best_ask && best_bid->price >= best_ask->price) ++crossed;

    // Depth equals both the sum of the resting orders and what the level events said.
    Int128 resting = 0;
    std::size_t levels_seen = 0;
    for (const Side side : {Side::Buy, Side::Sell}) {
      const auto& orders = side == Side::Buy ? bids : asks;
      const std::size_t n = engine.depth(side, depth);
      levels_seen += n;
      std::size_t k = 0;
      for (std::size_t i = 0; i < n; ++i) {
        std::int64_t sum = 0;
        std::uint32_t count = 0;
        while (k < orders.size() && std::get<1>(orders[k]) == depth[i].price.raw()) {
          sum += std::get<2>(orders[k++]);
          ++count;
        }
        if (sum != depth[i].quantity.raw() || count != depth[i].order_count) ++depth_mismatch;
        const auto ev = audit.levels.find({side == Side::Buy ? 0 : 1, depth[i].price.raw()});
        if (ev == audit.levels.end() || ev->second != std::make_pair(sum, count)) ++depth_mismatch;
        resting += sum;
      }
      if (k != orders.size()) ++depth_mismatch;
    }
    if (levels_seen != audit.levels.size()) ++depth_mismatch;
    if (audit.placed != resting + audit.filled + audit.cancelled + audit.expired) ++conservation_breaks;

    // Every so often the live, randomly shaped book must survive a byte-identical round trip.
    if (op % 10'000 == 9'999) {
      const auto bytes = BookSnapshot::save(engine);
      NullOrderListener quiet;
      MatchingEngine copy(InstrumentRules{}, quiet, EngineCapacity{16, 16});
      REQUIRE(BookSnapshot::restore(bytes, copy).ok());
      REQUIRE(BookSnapshot::save(copy) == bytes);
      ++snapshots;
    }

    if (outcome_mismatch + trade_mismatch + fifo_mismatch + crossed + depth_mismatch + conservation_breaks != 0) {
      INFO("first divergence at operation " << op);
      REQUIRE(outcome_mismatch == 0);
      REQUIRE(trade_mismatch == 0);
      REQUIRE(fifo_mismatch == 0);
      REQUIRE(crossed == 0);
      REQUIRE(depth_mismatch == 0);
      REQUIRE(conservation_breaks == 0);
    }
  }
  CHECK(audit.update_ids_consecutive);
  CHECK(audit.last_update == engine.update_id());
  CHECK(engine.open_order_count() == model.open_count());
  CHECK(total_trades > static_cast<std::uint64_t>(kOperations) / 8);  // the run really matched
  CHECK(engine.next_order_id() == model.next_id);
  CHECK(snapshots == kOperations / 10'000);
  // The random mix really exercised every outcome the model checks.
  for (const ExpireReason r : {ExpireReason::ImmediateOrCancel, ExpireReason::FillOrKill, ExpireReason::NoLiquidity,
                               ExpireReason::SelfTradeTaker, ExpireReason::SelfTradeMaker}) {
    INFO(to_string(r));
    CHECK(audit.expiries[static_cast<std::size_t>(r)] > 100);
  }
  for (const RejectReason r : {RejectReason::DuplicateClientOrderId, RejectReason::WouldTake,
                               RejectReason::UnknownOrder, RejectReason::InvalidQuantity}) {
    INFO(to_string(r));
    CHECK(audit.rejections[static_cast<std::size_t>(r)] > 100);
  }
  CHECK(audit.replaced[0] > 1000);
  CHECK(audit.replaced[1] > 1000);
  CHECK(audit.cancels > 1000);
}
